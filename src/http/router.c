/*
 * router.c - segment-wise matching of request paths against route
 * patterns (see router.h). Linear over the table: enemane has tens of
 * routes, and a failed segment compare is a few instructions.
 */
#include "http/router.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Matches path against pattern. When params is non-NULL, stores up to
 * HTTP_MAX_PARAMS raw (start, len) pairs of the parameter segments and the
 * names. Returns 1 on a match, 0 otherwise. */
struct raw_param {
        const char *name;
        size_t name_len;
        const char *val;
        size_t val_len;
};

static int match(const char *pattern, const char *path, struct raw_param *params, int *n_params)
{
        const char *p = pattern, *s = path;
        int n = 0;

        while (*p && *s) {
                if (*p != '/' || *s != '/')
                        return 0;
                p++;
                s++;
                const char *pe = strchrnul(p, '/');
                const char *se = strchrnul(s, '/');

                if (*p == '{') {
                        if (se == s || pe[-1] != '}')
                                return 0;
                        if (n >= HTTP_MAX_PARAMS)
                                return 0;
                        if (params) {
                                params[n].name = p + 1;
                                params[n].name_len = (size_t)(pe - p - 2);
                                params[n].val = s;
                                params[n].val_len = (size_t)(se - s);
                        }
                        n++;
                } else if (pe - p != se - s || memcmp(p, s, (size_t)(pe - p)) != 0) {
                        return 0;
                }
                p = pe;
                s = se;
        }
        if (*p || *s)
                return 0;
        if (n_params)
                *n_params = n;
        return 1;
}

int router_pattern_matches(const char *pattern, const char *path)
{
        return match(pattern, path, NULL, NULL);
}

static void allow_add(char *allow, size_t allowlen, const char *m)
{
        size_t used = strlen(allow);

        if (strstr(allow, m))
                return;
        snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", m);
}

static int set_params(struct http_request *req, const struct raw_param *raw, int n)
{
        for (int i = 0; i < req->n_params; i++)
                free(req->params[i].value);
        req->n_params = 0;
        for (int i = 0; i < n; i++) {
                char *v = NULL;
                int r = http_path_decode(raw[i].val, raw[i].val_len, &v);

                if (r < 0)
                        return r;
                req->params[i].name = raw[i].name;
                req->params[i].name_len = raw[i].name_len;
                req->params[i].value = v;
                req->n_params = i + 1;
        }
        return 0;
}

int router_match(const struct route *routes, size_t n, struct http_request *req,
                 char *allow, size_t allowlen)
{
        struct raw_param raw[HTTP_MAX_PARAMS];
        int n_raw = 0, path_matched = 0;
        enum http_method want = req->method == HTTP_HEAD ? HTTP_GET : req->method;

        if (allow && allowlen)
                allow[0] = '\0';
        req->route_index = -1;
        for (size_t i = 0; i < n; i++) {
                int np = 0;

                if (!match(routes[i].pattern, req->path, raw, &np))
                        continue;
                path_matched = 1;
                if (allow) {
                        allow_add(allow, allowlen, http_method_name(routes[i].method));
                        if (routes[i].method == HTTP_GET)
                                allow_add(allow, allowlen, "HEAD");
                }
                if (routes[i].method != want)
                        continue;
                n_raw = np;
                int r = set_params(req, raw, n_raw);

                if (r < 0)
                        return r;
                req->route_index = (int)i;
                return (int)i;
        }
        return path_matched ? -EOPNOTSUPP : -ENOENT;
}
