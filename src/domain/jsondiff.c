/*
 * jsondiff.c - the differences between two JSON documents (see
 * jsondiff.h; HE-8 settings versions): a recursive walk that keeps the
 * current JSON pointer in a growing buffer and appends one change object
 * per differing leaf, stopping at the caller's limit.
 */
#include "domain/jsondiff.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct diff {
        json_t *out;
        size_t max;
        char *path;             /* NUL terminated */
        size_t len, cap;
};

/* ---- the pointer buffer ------------------------------------------------- */

static int path_reserve(struct diff *d, size_t more)
{
        size_t need = d->len + more + 1;
        char *p;

        if (need <= d->cap)
                return 0;
        if (need < 2 * d->cap)
                need = 2 * d->cap;
        p = realloc(d->path, need);
        if (!p)
                return -ENOMEM;
        d->path = p;
        d->cap = need;
        return 0;
}

/* Appends "/" and the key with '~' as "~0" and '/' as "~1" (RFC 6901). */
static int path_push_key(struct diff *d, const char *key)
{
        size_t klen = strlen(key);

        if (path_reserve(d, 1 + 2 * klen) < 0)
                return -ENOMEM;
        d->path[d->len++] = '/';
        for (size_t i = 0; i < klen; i++) {
                if (key[i] == '~' || key[i] == '/') {
                        d->path[d->len++] = '~';
                        d->path[d->len++] = key[i] == '~' ? '0' : '1';
                } else {
                        d->path[d->len++] = key[i];
                }
        }
        d->path[d->len] = '\0';
        return 0;
}

static int path_push_index(struct diff *d, size_t i)
{
        int n;

        if (path_reserve(d, 24) < 0)
                return -ENOMEM;
        n = snprintf(d->path + d->len, d->cap - d->len, "/%zu", i);
        d->len += (size_t)n;
        return 0;
}

static void path_pop(struct diff *d, size_t len)
{
        d->len = len;
        d->path[len] = '\0';
}

/* ---- changes -------------------------------------------------------------- */

/* Sets a copy of v as key of o. */
static int set_copy(json_t *o, const char *key, const json_t *v)
{
        json_t *c = json_deep_copy(v);

        if (!c || json_object_set_new(o, key, c) < 0)
                return -ENOMEM;
        return 0;
}

static int emit(struct diff *d, const char *op, const json_t *from, const json_t *to)
{
        json_t *c;

        if (json_array_size(d->out) >= d->max)
                return -E2BIG;
        c = json_object();
        if (!c || json_object_set_new(c, "op", json_string(op)) < 0 ||
            json_object_set_new(c, "path", json_stringn(d->path, d->len)) < 0)
                goto nomem;
        if (from && set_copy(c, "from", from) < 0)
                goto nomem;
        if (to && set_copy(c, "to", to) < 0)
                goto nomem;
        if (json_array_append_new(d->out, c) < 0)
                return -ENOMEM;
        return 0;
nomem:
        json_decref(c);
        return -ENOMEM;
}

/* ---- comparison ------------------------------------------------------------ */

static bool scalar_equal(const json_t *a, const json_t *b)
{
        if (json_is_number(a) && json_is_number(b)) {
                if (json_is_integer(a) && json_is_integer(b))
                        return json_integer_value(a) == json_integer_value(b);
                return json_number_value(a) == json_number_value(b);
        }
        return json_equal(a, b) != 0;
}

static int diff_value(struct diff *d, const json_t *a, const json_t *b, int depth);

static int key_cmp(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Appends the member names of o to v. */
static size_t collect_keys(const json_t *o, const char **v, size_t k)
{
        json_t *obj = (json_t *)o;      /* iteration does not modify */

        for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
                v[k++] = json_object_iter_key(it);
        return k;
}

/* Member names of a and b, sorted and unique (borrowed strings). */
static int union_keys(const json_t *a, const json_t *b, const char ***keys, size_t *n)
{
        size_t cap = json_object_size(a) + json_object_size(b), k, u = 0;
        const char **v = malloc((cap ? cap : 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        k = collect_keys(b, v, collect_keys(a, v, 0));
        qsort(v, k, sizeof(*v), key_cmp);
        for (size_t i = 0; i < k; i++) {
                if (u == 0 || strcmp(v[u - 1], v[i]) != 0)
                        v[u++] = v[i];
        }
        *keys = v;
        *n = u;
        return 0;
}

/* One member: added, removed or compared. */
static int diff_member(struct diff *d, const json_t *a, const json_t *b, const char *key,
                       int depth)
{
        size_t len = d->len;
        json_t *va = json_object_get(a, key);
        json_t *vb = json_object_get(b, key);
        int r = path_push_key(d, key);

        if (r < 0)
                return r;
        if (!vb)
                r = emit(d, "remove", va, NULL);
        else if (!va)
                r = emit(d, "add", NULL, vb);
        else
                r = diff_value(d, va, vb, depth + 1);
        path_pop(d, len);
        return r;
}

static int diff_object(struct diff *d, const json_t *a, const json_t *b, int depth)
{
        const char **keys = NULL;
        size_t n = 0;
        int r = union_keys(a, b, &keys, &n);

        for (size_t i = 0; r == 0 && i < n; i++)
                r = diff_member(d, a, b, keys[i], depth);
        free(keys);
        return r;
}

/* Element i: compared when both have it, else added or removed. */
static int diff_element(struct diff *d, const json_t *a, const json_t *b, size_t i, int depth)
{
        size_t len = d->len;
        json_t *va = json_array_get(a, i);
        json_t *vb = json_array_get(b, i);
        int r = path_push_index(d, i);

        if (r < 0)
                return r;
        if (!vb)
                r = emit(d, "remove", va, NULL);
        else if (!va)
                r = emit(d, "add", NULL, vb);
        else
                r = diff_value(d, va, vb, depth + 1);
        path_pop(d, len);
        return r;
}

static int diff_array(struct diff *d, const json_t *a, const json_t *b, int depth)
{
        size_t na = json_array_size(a), nb = json_array_size(b);
        size_t n = na > nb ? na : nb;
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++)
                r = diff_element(d, a, b, i, depth);
        return r;
}

static int diff_value(struct diff *d, const json_t *a, const json_t *b, int depth)
{
        if (depth > JSONDIFF_MAX_DEPTH)
                return -EINVAL;
        if (json_is_object(a) && json_is_object(b))
                return diff_object(d, a, b, depth);
        if (json_is_array(a) && json_is_array(b))
                return diff_array(d, a, b, depth);
        if (scalar_equal(a, b))
                return 0;
        return emit(d, "replace", a, b);
}

/* The changes of two documents, either of which may be absent. */
static int diff_root(struct diff *d, const json_t *a, const json_t *b)
{
        if (!a && !b)
                return 0;
        if (!a)
                return emit(d, "add", NULL, b);
        if (!b)
                return emit(d, "remove", a, NULL);
        return diff_value(d, a, b, 0);
}

int jsondiff(const json_t *a, const json_t *b, size_t max_changes, json_t **changes)
{
        struct diff d = { .max = max_changes };
        int r;

        if (!changes)
                return -EINVAL;
        *changes = NULL;
        d.out = json_array();
        r = d.out ? path_reserve(&d, 64) : -ENOMEM;
        if (r == 0) {
                d.path[0] = '\0';
                r = diff_root(&d, a, b);
        }
        free(d.path);
        if (r < 0) {
                json_decref(d.out);
                return r;
        }
        *changes = d.out;
        return 0;
}
