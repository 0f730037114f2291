/*
 * ingest_json.c - the strict JSON measurement batch parser of
 * POST /api/v1/gateway/measurements (see ingest_json.h; HE-7).
 *
 * A hand-written single-pass scanner (no DOM, no allocation per point): the
 * top-level members may come in any order, so a point keeps its raw series
 * index and time while scanning and one pass at the end (ingest_batch_filter)
 * checks the index against the series and converts the time to ms.
 *
 * Whole-batch errors (-EINVAL, err->pointer set): "malformed_json" (syntax,
 * invalid UTF-8, duplicate member names anywhere, nesting deeper than
 * JP_DEPTH_MAX) and "validation_failed" (unknown or missing members, a bad
 * batch_id, precision or series definition, a series given twice). Limits:
 * -E2BIG "too_many_points" / "too_many_series". Per-point rejects:
 * "bad_point" (not an array of three), "unknown_series", "bad_time" (not an
 * integer >= 0 or out of range), "bad_value" (not a finite number).
 */
#include "domain/ingest_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JP_DEPTH_MAX 64
/* Decoded member names longer than this are unknown anyway. */
#define JP_KEY_MAX 32
/* Decoded string values we keep (a name of 64 bytes, and one more). */
#define JP_STR_MAX (INGEST_NAME_MAX + 1)
/* Longest number text converted; longer ones are a bad value/member. */
#define JP_NUMBER_MAX 255

struct jp {
        const char *start, *p, *end;
        const struct ingest_limits *lim;
        struct ingest_batch *out;
        struct ingest_error *err;
        bool precision_ms;
};

/* A scanned JSON number. */
struct jp_num {
        const char *s;
        size_t n;
        bool is_int;            /* no fraction, no exponent */
        bool neg;
        bool overflow;          /* integer magnitude above UINT64_MAX */
        uint64_t mag;           /* integer magnitude when is_int */
};

/* ---- errors ------------------------------------------------------------------------- */

static int jp_fail(struct jp *j, int rc, const char *code, const char *pointer, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int jp_fail(struct jp *j, int rc, const char *code, const char *pointer, const char *fmt,
                   ...)
{
        va_list ap;

        j->err->code = code;
        j->err->line = 0;
        snprintf(j->err->pointer, sizeof(j->err->pointer), "%s", pointer ? pointer : "");
        va_start(ap, fmt);
        vsnprintf(j->err->message, sizeof(j->err->message), fmt, ap);
        va_end(ap);
        return rc;
}

static int jp_syntax(struct jp *j, const char *what)
{
        return jp_fail(j, -EINVAL, "malformed_json", NULL, "offset %zu: %s",
                       (size_t)(j->p - j->start), what);
}

/* Appends a member name to a JSON pointer (RFC 6901: ~ -> ~0, / -> ~1),
 * truncated to fit. */
static void jp_pointer_add(char *ptr, size_t size, const char *name, size_t n)
{
        size_t len = strlen(ptr), i;

        if (len + 1 >= size)
                return;
        ptr[len++] = '/';
        for (i = 0; i < n && len + 2 < size; i++) {
                if (name[i] == '~' || name[i] == '/') {
                        ptr[len++] = '~';
                        ptr[len++] = name[i] == '~' ? '0' : '1';
                } else {
                        ptr[len++] = name[i];
                }
        }
        ptr[len] = '\0';
}

/* ---- lexical -------------------------------------------------------------------------- */

static void jp_ws(struct jp *j)
{
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
                j->p++;
}

/* Consumes c after blanks. */
static bool jp_eat(struct jp *j, char c)
{
        jp_ws(j);
        if (j->p < j->end && *j->p == c) {
                j->p++;
                return true;
        }
        return false;
}

/* Only blanks are left. */
static bool jp_at_end(struct jp *j)
{
        jp_ws(j);
        return j->p >= j->end;
}

/* The next character after blanks, or 0 at the end. */
static char jp_peek(struct jp *j)
{
        jp_ws(j);
        return j->p < j->end ? *j->p : '\0';
}

static int jp_hex4(const char *s, uint32_t *out)
{
        uint32_t v = 0;
        int i, d;

        for (i = 0; i < 4; i++) {
                char c = s[i];

                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        d = (c | 0x20) - 'a' + 10;
                else
                        return -1;
                v = v * 16 + (uint32_t)d;
        }
        *out = v;
        return 0;
}

static size_t jp_utf8_put(uint32_t cp, char *o)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* A \uXXXX escape (j->p after the 'u'), surrogate pairs joined: the code
 * point, or -1. */
static int32_t jp_unicode_escape(struct jp *j)
{
        uint32_t cp, lo;

        if (j->end - j->p < 4 || jp_hex4(j->p, &cp) < 0)
                return -1;
        j->p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -1;
        if (cp < 0xD800 || cp > 0xDBFF)
                return (int32_t)cp;
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || jp_hex4(j->p + 2, &lo) < 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
                return -1;
        j->p += 6;
        return (int32_t)(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
}

/* One escape after the backslash into tmp: its length, or 0 when bad. */
static size_t jp_escape(struct jp *j, char *tmp)
{
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *e;
        int32_t cp;
        char c;

        if (j->p >= j->end)
                return 0;
        c = *j->p++;
        if (c == 'u') {
                cp = jp_unicode_escape(j);
                return cp < 0 ? 0 : jp_utf8_put((uint32_t)cp, tmp);
        }
        e = c ? strchr(from, c) : NULL;
        if (!e)
                return 0;
        tmp[0] = to[e - from];
        return 1;
}

static void jp_put(char *buf, size_t cap, size_t *n, const char *s, size_t k)
{
        if (*n < cap)
                memcpy(buf + *n, s, *n + k <= cap ? k : cap - *n);
        *n += k;
}

/*
 * A string at j->p (the opening quote): decodes it into buf (cap bytes, then
 * NUL-terminated when it fits: buf has cap + 1 bytes) and returns 0 with the
 * full decoded length in *len; -EINVAL (err filled) when it is not valid
 * JSON text (control characters, bad escapes, invalid UTF-8). buf may be
 * NULL (skip).
 */
static int jp_string(struct jp *j, char *buf, size_t cap, size_t *len)
{
        const char *s;
        size_t n = 0, k;
        char tmp[4];

        if (j->p >= j->end || *j->p != '"')
                return jp_syntax(j, "expected a string");
        j->p++;
        for (;;) {
                s = j->p;
                while (j->p < j->end && (unsigned char)*j->p >= 0x20 && *j->p != '"' &&
                       *j->p != '\\' && (unsigned char)*j->p < 0x80)
                        j->p++;
                if (buf)
                        jp_put(buf, cap, &n, s, (size_t)(j->p - s));
                else
                        n += (size_t)(j->p - s);
                if (j->p >= j->end)
                        return jp_syntax(j, "unterminated string");
                if (*j->p == '"')
                        break;
                if (*j->p == '\\') {
                        j->p++;
                        k = jp_escape(j, tmp);
                        if (k == 0)
                                return jp_syntax(j, "bad escape in a string");
                } else if ((unsigned char)*j->p < 0x20) {
                        return jp_syntax(j, "control character in a string");
                } else {
                        k = ingest_utf8_char(j->p, (size_t)(j->end - j->p));
                        if (k == 0)
                                return jp_syntax(j, "invalid UTF-8");
                        memcpy(tmp, j->p, k);
                        j->p += k;
                }
                if (buf)
                        jp_put(buf, cap, &n, tmp, k);
                else
                        n += k;
        }
        j->p++;
        if (buf)
                buf[n < cap ? n : cap] = '\0';
        *len = n;
        return 0;
}

/* [0-9]+ at p: past them, or NULL when there is none. */
static const char *jp_digits(const char *p, const char *end)
{
        const char *s = p;

        while (p < end && *p >= '0' && *p <= '9')
                p++;
        return p > s ? p : NULL;
}

/* The fraction and exponent after the integer part at p: past them, or
 * NULL when malformed. */
static const char *jp_number_tail(const char *p, const char *end, bool *is_int)
{
        *is_int = true;
        if (p < end && *p == '.') {
                *is_int = false;
                p = jp_digits(p + 1, end);
                if (!p)
                        return NULL;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                *is_int = false;
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                p = jp_digits(p, end);
        }
        return p;
}

/* A number at j->p by the JSON grammar
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; 0 or -EINVAL. */
static int jp_number(struct jp *j, struct jp_num *num)
{
        const char *p = j->p, *end = j->end;
        uint64_t mag = 0;
        unsigned d;

        num->s = p;
        num->neg = p < end && *p == '-';
        num->overflow = false;
        p += num->neg;
        if (p >= end || *p < '0' || *p > '9')
                return jp_syntax(j, "expected a value");
        if (*p == '0') {
                p++;
        } else {
                for (; p < end && *p >= '0' && *p <= '9'; p++) {
                        d = (unsigned)(*p - '0');
                        if (mag > (UINT64_MAX - d) / 10)
                                num->overflow = true;
                        mag = mag * 10 + d;
                }
        }
        p = jp_number_tail(p, end, &num->is_int);
        if (!p)
                return jp_syntax(j, "bad number");
        num->mag = mag;
        num->n = (size_t)(p - num->s);
        j->p = p;
        return 0;
}

/* A number's value as a double: 0, or -EINVAL (too long to convert). */
static int jp_num_double(const struct jp_num *num, double *out)
{
        if (num->is_int && !num->overflow && num->mag <= (UINT64_C(1) << 53)) {
                *out = num->neg ? -(double)num->mag : (double)num->mag;
                return 0;
        }
        if (num->n > JP_NUMBER_MAX)
                return -EINVAL;
        return ingest_decimal(num->s, num->n, out);
}

/* A non-negative integer no larger than max: 0 or -ERANGE/-EINVAL. */
static int jp_num_uint(const struct jp_num *num, uint64_t max, uint64_t *out)
{
        if (!num->is_int)
                return -EINVAL;
        if (num->neg && num->mag != 0)
                return -ERANGE;
        if (num->overflow || num->mag > max)
                return -ERANGE;
        *out = num->mag;
        return 0;
}

static int jp_literal(struct jp *j, const char *word)
{
        size_t n = strlen(word);

        if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
                return jp_syntax(j, "expected a value");
        j->p += n;
        return 0;
}

/* ---- skipping any value (with the same strictness) ---------------------------------- */

static int jp_skip(struct jp *j, int depth);

/* Decoded member names of one skipped object, to find duplicates. */
struct jp_name {
        size_t off, len;
};

struct jp_names {
        char *text;
        size_t len, cap;
        struct jp_name *v;
        size_t n, cap_v;
};

static int jp_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
        size_t ncap = *cap ? *cap : 16;
        void *p;

        if (need <= *cap)
                return 0;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2 / elem)
                        return -ENOMEM;
                ncap *= 2;
        }
        p = realloc(*arr, ncap * elem);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = ncap;
        return 0;
}

/* Decodes the name at j->p into nm (measured first, then decoded). */
static int jp_names_add(struct jp *j, struct jp_names *nm)
{
        const char *at = j->p;
        size_t n;
        int r;

        r = jp_string(j, NULL, 0, &n);
        if (r < 0)
                return r;
        if (jp_grow((void **)&nm->text, &nm->cap, nm->len + n + 1, 1) < 0 ||
            jp_grow((void **)&nm->v, &nm->cap_v, nm->n + 1, sizeof(*nm->v)) < 0)
                return jp_fail(j, -ENOMEM, "internal", NULL, "out of memory");
        j->p = at;
        r = jp_string(j, nm->text + nm->len, n, &n);
        if (r < 0)
                return r;
        nm->v[nm->n].off = nm->len;
        nm->v[nm->n].len = n;
        nm->n++;
        nm->len += n + 1;
        return 0;
}

static int jp_names_cmp(const void *a, const void *b, void *ctx)
{
        const struct jp_name *x = a, *y = b;
        const char *text = ctx;
        size_t n = x->len < y->len ? x->len : y->len;
        int c = memcmp(text + x->off, text + y->off, n);

        if (c != 0)
                return c;
        return (x->len > y->len) - (x->len < y->len);
}

static bool jp_names_dup(struct jp_names *nm)
{
        size_t i;

        if (nm->n < 2)
                return false;
        qsort_r(nm->v, nm->n, sizeof(*nm->v), jp_names_cmp, nm->text);
        for (i = 1; i < nm->n; i++) {
                if (jp_names_cmp(&nm->v[i - 1], &nm->v[i], nm->text) == 0)
                        return true;
        }
        return false;
}

static int jp_skip_members(struct jp *j, int depth, struct jp_names *nm)
{
        int r;

        if (jp_eat(j, '}'))
                return 0;
        for (;;) {
                jp_ws(j);
                r = jp_names_add(j, nm);
                if (r < 0)
                        return r;
                if (!jp_eat(j, ':'))
                        return jp_syntax(j, "expected ':'");
                r = jp_skip(j, depth);
                if (r < 0)
                        return r;
                if (jp_eat(j, '}'))
                        break;
                if (!jp_eat(j, ','))
                        return jp_syntax(j, "expected ',' or '}'");
        }
        if (jp_names_dup(nm))
                return jp_syntax(j, "duplicate member name");
        return 0;
}

static int jp_skip_object(struct jp *j, int depth)
{
        struct jp_names nm = { 0 };
        int r;

        r = jp_skip_members(j, depth, &nm);
        free(nm.text);
        free(nm.v);
        return r;
}

static int jp_skip_array(struct jp *j, int depth)
{
        int r;

        if (jp_eat(j, ']'))
                return 0;
        for (;;) {
                r = jp_skip(j, depth);
                if (r < 0)
                        return r;
                if (jp_eat(j, ']'))
                        return 0;
                if (!jp_eat(j, ','))
                        return jp_syntax(j, "expected ',' or ']'");
        }
}

/* Skips one value (at any blank before it), checking it like the rest. */
static int jp_skip(struct jp *j, int depth)
{
        struct jp_num num;
        size_t n;

        if (depth >= JP_DEPTH_MAX)
                return jp_syntax(j, "nested too deep");
        switch (jp_peek(j)) {
        case '{':
                j->p++;
                return jp_skip_object(j, depth + 1);
        case '[':
                j->p++;
                return jp_skip_array(j, depth + 1);
        case '"':
                return jp_string(j, NULL, 0, &n);
        case 't':
                return jp_literal(j, "true");
        case 'f':
                return jp_literal(j, "false");
        case 'n':
                return jp_literal(j, "null");
        default:
                return jp_number(j, &num);
        }
}

/* A top-level member of the wrong type: checked as JSON first, so that
 * malformed input is reported as such. */
static int jp_wrong_member(struct jp *j, const char *pointer, const char *msg)
{
        int r = jp_skip(j, 1);

        if (r < 0)
                return r;
        return jp_fail(j, -EINVAL, "validation_failed", pointer, "%s", msg);
}

/* ---- points ------------------------------------------------------------------------------ */

/* One element of a point: a number (*is_num, num filled) or anything else
 * (skipped). */
static int jp_point_elem(struct jp *j, struct jp_num *num, bool *is_num)
{
        char c = jp_peek(j);

        *is_num = c == '-' || (c >= '0' && c <= '9');
        if (*is_num)
                return jp_number(j, num);
        return jp_skip(j, 2);
}

/* Why a point [i, t, v] is refused, or NULL; sets the raw index and time. */
static const char *jp_point_check(struct jp *j, const struct jp_num *e, const bool *is_num,
                                  size_t n, uint32_t *series, int64_t *t, double *v, char *msg,
                                  size_t size)
{
        uint64_t u;
        size_t max_series = j->lim ? j->lim->max_series : UINT32_MAX;

        if (n != 3) {
                snprintf(msg, size, "a point is [series, time, value], not %zu elements", n);
                return "bad_point";
        }
        if (!is_num[0] || jp_num_uint(&e[0], max_series < UINT32_MAX ? max_series : UINT32_MAX,
                                      &u) < 0) {
                snprintf(msg, size, "series index is not an index into series");
                return "unknown_series";
        }
        *series = (uint32_t)u;
        if (!is_num[1] || jp_num_uint(&e[1], INT64_MAX, &u) < 0) {
                snprintf(msg, size, "time is not an integer in 0..2^63-1");
                return "bad_time";
        }
        *t = (int64_t)u;
        if (!is_num[2] || jp_num_double(&e[2], v) < 0 || !isfinite(*v)) {
                snprintf(msg, size, "value is not a finite number");
                return "bad_value";
        }
        return NULL;
}

/* The elements of a point after its '['. */
static int jp_point_elems(struct jp *j, struct jp_num *e, bool *is_num, size_t *n)
{
        struct jp_num spare;
        bool spare_num;
        int r;

        *n = 0;
        if (jp_eat(j, ']'))
                return 0;
        for (;;) {
                if (*n < 3)
                        r = jp_point_elem(j, &e[*n], &is_num[*n]);
                else
                        r = jp_point_elem(j, &spare, &spare_num);
                if (r < 0)
                        return r;
                (*n)++;
                if (jp_eat(j, ']'))
                        return 0;
                if (!jp_eat(j, ','))
                        return jp_syntax(j, "expected ',' or ']'");
        }
}

static int jp_point(struct jp *j, size_t i)
{
        struct jp_num e[3];
        bool is_num[3] = { false, false, false };
        char msg[sizeof(((struct ingest_reject *)0)->message)];
        const char *code;
        uint32_t series = 0;
        int64_t t = 0;
        double v = 0;
        size_t n = 0;
        int r;

        if (j->lim && j->out->n_input >= j->lim->max_points) {
                char ptr[32];

                snprintf(ptr, sizeof(ptr), "/points/%zu", i);
                return jp_fail(j, -E2BIG, "too_many_points", ptr,
                               "more than %zu points in one batch", j->lim->max_points);
        }
        if (jp_peek(j) == '[') {
                j->p++;
                r = jp_point_elems(j, e, is_num, &n);
                if (r < 0)
                        return r;
                code = jp_point_check(j, e, is_num, n, &series, &t, &v, msg, sizeof(msg));
        } else {
                r = jp_skip(j, 1);
                if (r < 0)
                        return r;
                code = "bad_point";
                snprintf(msg, sizeof(msg), "a point must be an array [series, time, value]");
        }
        if (code)
                r = ingest_batch_reject(j->out, (uint32_t)j->out->n_input, 0, code, "%s", msg);
        else
                r = ingest_batch_point(j->out, series, t, v, j->lim);
        if (r < 0)
                return jp_fail(j, r, "internal", NULL, "out of memory");
        return 0;
}

static int jp_points(struct jp *j)
{
        size_t i = 0;
        int r;

        if (!jp_eat(j, '['))
                return jp_wrong_member(j, "/points", "points must be an array");
        if (jp_eat(j, ']'))
                return 0;
        for (;; i++) {
                r = jp_point(j, i);
                if (r < 0)
                        return r;
                if (jp_eat(j, ']'))
                        return 0;
                if (!jp_eat(j, ','))
                        return jp_syntax(j, "expected ',' or ']'");
        }
}

/* The post pass: series index in range (then offset by the series the
 * batch held before), time to ms. */
struct jp_fix {
        size_t base, n_series;
        size_t first;           /* index of our first point (the batch may hold others) */
        bool ms;
};

static const char *jp_fix_point(struct ingest_point *p, void *ctx, char *msg, size_t size)
{
        const struct jp_fix *f = ctx;

        if (p->index < f->first)
                return NULL;
        if (p->series >= f->n_series) {
                snprintf(msg, size, "series index %u is out of range (%zu series)", p->series,
                         f->n_series);
                return "unknown_series";
        }
        p->series += (uint32_t)f->base;
        if (!f->ms) {
                if (p->ts_ms > INT64_MAX / 1000) {
                        snprintf(msg, size, "time %lld s is out of range", (long long)p->ts_ms);
                        return "bad_time";
                }
                p->ts_ms *= 1000;
        }
        return NULL;
}

/* ---- series ------------------------------------------------------------------------------ */

enum {
        JS_CHANNEL = 1 << 0, JS_QUANTITY = 1 << 1, JS_UNIT = 1 << 2, JS_CLASS = 1 << 3,
        JS_EPC = 1 << 4, JS_INSTANCE = 1 << 5, JS_CIRCUIT = 1 << 6, JS_NAME = 1 << 7,
        JS_ROLE = 1 << 8, JS_WRAP = 1 << 9,
};

static const struct {
        const char *name;
        unsigned bit;
} jp_series_members[] = {
        { "channel", JS_CHANNEL }, { "quantity", JS_QUANTITY }, { "unit", JS_UNIT },
        { "class", JS_CLASS }, { "epc", JS_EPC }, { "instance", JS_INSTANCE },
        { "circuit", JS_CIRCUIT }, { "name", JS_NAME }, { "role", JS_ROLE }, { "wrap", JS_WRAP },
};

/* One series object being read. */
struct jp_series {
        size_t i;                       /* index in the series array */
        struct ingest_series s;
        unsigned seen;
        char ptr[64];                   /* pointer of the member being read */
};

static int jp_invalid(struct jp *j, const struct jp_series *js, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int jp_invalid(struct jp *j, const struct jp_series *js, const char *fmt, ...)
{
        va_list ap;

        j->err->code = "validation_failed";
        j->err->line = 0;
        snprintf(j->err->pointer, sizeof(j->err->pointer), "%s", js->ptr);
        va_start(ap, fmt);
        vsnprintf(j->err->message, sizeof(j->err->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* A member value of the wrong type: still checked as JSON first, so that
 * malformed input is reported as such. */
static int jp_wrong_type(struct jp *j, const struct jp_series *js, const char *key,
                         const char *what)
{
        int r = jp_skip(j, 2);

        if (r < 0)
                return r;
        return jp_invalid(j, js, "%s must be %s", key, what);
}

/* 1 when the value is null (consumed), 0 when it is something else, or
 * -EINVAL for a malformed literal. */
static int jp_null(struct jp *j)
{
        int r;

        if (jp_peek(j) != 'n')
                return 0;
        r = jp_literal(j, "null");
        return r < 0 ? r : 1;
}

/* A string member value (or null when nullable: *n = 0 and buf ""), buf
 * of cap + 1 bytes. A decoded NUL makes no valid text here: *n is then
 * cap + 1, too long for every member. */
static int jp_member_string(struct jp *j, struct jp_series *js, const char *key, char *buf,
                            size_t cap, size_t *n, bool nullable)
{
        int r = nullable ? jp_null(j) : 0;

        if (r != 0) {
                buf[0] = '\0';
                *n = 0;
                return r < 0 ? r : 0;
        }
        if (jp_peek(j) != '"')
                return jp_wrong_type(j, js, key, nullable ? "a string or null" : "a string");
        r = jp_string(j, buf, cap, n);
        if (r == 0 && *n <= cap && strlen(buf) != *n)
                *n = cap + 1;
        return r;
}

/* class/epc: an integer, or a string "0x0287" / "647"; instance and circuit
 * (strings refused): an integer. -1 when null. */
static int jp_member_code(struct jp *j, struct jp_series *js, const char *key, int32_t min,
                          uint32_t max, bool strings, int32_t *out)
{
        char buf[JP_KEY_MAX + 1];
        struct jp_num num;
        uint64_t u;
        size_t n;
        int r, c;

        c = jp_null(j);
        if (c != 0) {
                *out = -1;
                return c < 0 ? c : 0;
        }
        if (strings && jp_peek(j) == '"') {
                r = jp_string(j, buf, JP_KEY_MAX, &n);
                if (r < 0)
                        return r;
                if (n > JP_KEY_MAX || ingest_code_parse(buf, n, max, out) < 0 || *out < min)
                        return jp_invalid(j, js, "%s must be %d..%u (\"0x..\" or a number)", key,
                                          (int)min, (unsigned)max);
                return 0;
        }
        c = jp_peek(j);
        if (c != '-' && (c < '0' || c > '9'))
                return jp_wrong_type(j, js, key, strings ? "an integer or a string" : "an integer");
        r = jp_number(j, &num);
        if (r < 0)
                return r;
        if (jp_num_uint(&num, max, &u) < 0 || (int64_t)u < min)
                return jp_invalid(j, js, "%s must be an integer in %d..%u", key, (int)min,
                                  (unsigned)max);
        *out = (int32_t)u;
        return 0;
}

static int jp_member_wrap(struct jp *j, struct jp_series *js, double *out)
{
        struct jp_num num;
        char c;
        int r;

        r = jp_null(j);
        if (r != 0) {
                *out = 0;
                return r < 0 ? r : 0;
        }
        c = jp_peek(j);
        if (c != '-' && (c < '0' || c > '9'))
                return jp_wrong_type(j, js, "wrap", "a number or null");
        r = jp_number(j, &num);
        if (r < 0)
                return r;
        if (jp_num_double(&num, out) < 0 || !isfinite(*out) || *out <= 0)
                return jp_invalid(j, js, "wrap must be a number above 0");
        return 0;
}

static int jp_member_text(struct jp *j, struct jp_series *js, unsigned bit)
{
        char buf[JP_STR_MAX + 1];
        size_t n;
        int r, q;

        r = jp_member_string(j, js, bit == JS_CHANNEL ? "channel" : bit == JS_QUANTITY ? "quantity" :
                             bit == JS_UNIT ? "unit" : bit == JS_NAME ? "name" : "role",
                             buf, JP_STR_MAX, &n, bit != JS_CHANNEL && bit != JS_QUANTITY);
        if (r < 0)
                return r;
        switch (bit) {
        case JS_CHANNEL:
                if (!ingest_id_valid(buf, n))
                        return jp_invalid(j, js, "channel must be 1..64 characters of [A-Za-z0-9_.:-]");
                memcpy(js->s.channel, buf, n + 1);
                return 0;
        case JS_QUANTITY:
                q = n < JP_STR_MAX ? energy_quantity_from_name(buf) : -EINVAL;
                if (q < 0)
                        return jp_invalid(j, js, "quantity must be power, energy, gas, water or soc");
                js->s.quantity = (enum energy_quantity)q;
                return 0;
        case JS_UNIT:
                if (n > INGEST_UNIT_MAX)
                        return jp_invalid(j, js, "unknown unit");
                memcpy(js->s.unit, buf, n + 1);
                return 0;
        case JS_NAME:
                if (!ingest_name_valid(buf, n))
                        return jp_invalid(j, js, "name must be at most 64 bytes without control characters");
                memcpy(js->s.name, buf, n + 1);
                return 0;
        default:
                if (n > INGEST_ROLE_MAX || (n > 0 && !energy_role_valid(buf)))
                        return jp_invalid(j, js, "role is not a known role");
                memcpy(js->s.role, buf, n + 1);
                return 0;
        }
}

static int jp_series_value(struct jp *j, struct jp_series *js, unsigned bit)
{
        switch (bit) {
        case JS_CLASS:
                return jp_member_code(j, js, "class", 0, 0xFFFF, true, &js->s.class_code);
        case JS_EPC:
                return jp_member_code(j, js, "epc", 0, 0xFF, true, &js->s.epc);
        case JS_INSTANCE:
                return jp_member_code(j, js, "instance", 1, 127, false, &js->s.instance);
        case JS_CIRCUIT:
                return jp_member_code(j, js, "circuit", 0, 255, false, &js->s.circuit);
        case JS_WRAP:
                return jp_member_wrap(j, js, &js->s.wrap);
        default:
                return jp_member_text(j, js, bit);
        }
}

static unsigned jp_series_bit(const char *key, size_t n)
{
        size_t i;

        for (i = 0; i < sizeof(jp_series_members) / sizeof(jp_series_members[0]); i++) {
                if (strlen(jp_series_members[i].name) == n &&
                    memcmp(jp_series_members[i].name, key, n) == 0)
                        return jp_series_members[i].bit;
        }
        return 0;
}

/* Sets js->ptr to /series/<i> or /series/<i>/<key>. */
static void jp_series_ptr(struct jp_series *js, const char *key, size_t n)
{
        snprintf(js->ptr, sizeof(js->ptr), "/series/%zu", js->i);
        if (key)
                jp_pointer_add(js->ptr, sizeof(js->ptr), key, n);
}

static int jp_series_member(struct jp *j, struct jp_series *js)
{
        char key[JP_KEY_MAX + 1];
        unsigned bit;
        size_t n;
        int r;

        jp_ws(j);
        r = jp_string(j, key, JP_KEY_MAX, &n);
        if (r < 0)
                return r;
        jp_series_ptr(js, key, n < JP_KEY_MAX ? n : JP_KEY_MAX);
        if (!jp_eat(j, ':'))
                return jp_syntax(j, "expected ':'");
        bit = n <= JP_KEY_MAX ? jp_series_bit(key, n) : 0;
        if (bit == 0)
                return jp_invalid(j, js, "unknown member of a series");
        if (js->seen & bit)
                return jp_fail(j, -EINVAL, "malformed_json", js->ptr, "duplicate member");
        js->seen |= bit;
        return jp_series_value(j, js, bit);
}

/* The checks that need the whole object, then the series joins the batch. */
static int jp_series_add(struct jp *j, struct jp_series *js, size_t base)
{
        int idx;

        jp_series_ptr(js, NULL, 0);
        if (!(js->seen & JS_CHANNEL))
                return jp_invalid(j, js, "a series needs a channel");
        if (!(js->seen & JS_QUANTITY))
                return jp_invalid(j, js, "a series needs a quantity");
        if (js->s.unit[0] == '\0')
                memcpy(js->s.unit, energy_default_unit(js->s.quantity),
                       strlen(energy_default_unit(js->s.quantity)) + 1);
        if (!energy_unit_valid(js->s.quantity, js->s.unit)) {
                jp_series_ptr(js, "unit", 4);
                return jp_invalid(j, js, "unit '%s' is not a unit of %s", js->s.unit,
                                  energy_quantity_name(js->s.quantity));
        }
        idx = ingest_batch_series(j->out, &js->s, j->lim);
        if (idx == -E2BIG)
                return jp_fail(j, -E2BIG, "too_many_series", js->ptr,
                               "more than %zu series in one batch",
                               j->lim ? j->lim->max_series : (size_t)0);
        if (idx < 0)
                return jp_fail(j, idx, "internal", NULL, "out of memory");
        if ((size_t)idx != base + js->i)
                return jp_invalid(j, js, "the same channel, quantity and unit as /series/%zu",
                                  (size_t)idx - base);
        return 0;
}

static int jp_series_object(struct jp *j, size_t i, size_t base)
{
        struct jp_series js;
        int r;

        memset(&js, 0, sizeof(js));
        js.i = i;
        js.s.class_code = -1;
        js.s.epc = -1;
        js.s.instance = -1;
        js.s.circuit = -1;
        jp_series_ptr(&js, NULL, 0);
        if (!jp_eat(j, '{'))
                return jp_wrong_member(j, js.ptr, "a series must be an object");
        if (!jp_eat(j, '}')) {
                for (;;) {
                        r = jp_series_member(j, &js);
                        if (r < 0)
                                return r;
                        if (jp_eat(j, '}'))
                                break;
                        if (!jp_eat(j, ','))
                                return jp_syntax(j, "expected ',' or '}'");
                }
        }
        return jp_series_add(j, &js, base);
}

static int jp_series_array(struct jp *j, size_t base)
{
        size_t i = 0;
        int r;

        if (!jp_eat(j, '['))
                return jp_wrong_member(j, "/series", "series must be an array");
        if (jp_eat(j, ']'))
                return 0;
        for (;; i++) {
                r = jp_series_object(j, i, base);
                if (r < 0)
                        return r;
                if (jp_eat(j, ']'))
                        return 0;
                if (!jp_eat(j, ','))
                        return jp_syntax(j, "expected ',' or ']'");
        }
}

/* ---- the batch object --------------------------------------------------------------------- */

enum { JB_BATCH_ID = 1, JB_PRECISION = 2, JB_SERIES = 4, JB_POINTS = 8 };

static int jp_batch_id(struct jp *j)
{
        char buf[INGEST_BATCH_ID_MAX + 1];
        size_t n;
        int r;

        if (jp_peek(j) != '"')
                return jp_wrong_member(j, "/batch_id", "batch_id must be a string");
        r = jp_string(j, buf, INGEST_BATCH_ID_MAX, &n);
        if (r < 0)
                return r;
        if (!ingest_id_valid(buf, n))
                return jp_fail(j, -EINVAL, "validation_failed", "/batch_id",
                               "batch_id must be 1..64 characters of [A-Za-z0-9_.:-]");
        memcpy(j->out->batch_id, buf, n + 1);
        return 0;
}

static int jp_precision(struct jp *j)
{
        char buf[4];
        size_t n;
        int r;

        if (jp_peek(j) != '"')
                return jp_wrong_member(j, "/precision", "precision must be \"s\" or \"ms\"");
        r = jp_string(j, buf, 3, &n);
        if (r < 0)
                return r;
        if (n == 1 && buf[0] == 's')
                j->precision_ms = false;
        else if (n == 2 && memcmp(buf, "ms", 2) == 0)
                j->precision_ms = true;
        else
                return jp_fail(j, -EINVAL, "validation_failed", "/precision",
                               "precision must be \"s\" or \"ms\"");
        return 0;
}

static unsigned jp_batch_bit(const char *key, size_t n)
{
        if (n == 8 && memcmp(key, "batch_id", 8) == 0)
                return JB_BATCH_ID;
        if (n == 9 && memcmp(key, "precision", 9) == 0)
                return JB_PRECISION;
        if (n == 6 && memcmp(key, "series", 6) == 0)
                return JB_SERIES;
        if (n == 6 && memcmp(key, "points", 6) == 0)
                return JB_POINTS;
        return 0;
}

static int jp_batch_member(struct jp *j, unsigned *seen, size_t base)
{
        char key[JP_KEY_MAX + 1], ptr[64] = "";
        unsigned bit;
        size_t n;
        int r;

        jp_ws(j);
        r = jp_string(j, key, JP_KEY_MAX, &n);
        if (r < 0)
                return r;
        jp_pointer_add(ptr, sizeof(ptr), key, n < JP_KEY_MAX ? n : JP_KEY_MAX);
        if (!jp_eat(j, ':'))
                return jp_syntax(j, "expected ':'");
        bit = n <= JP_KEY_MAX ? jp_batch_bit(key, n) : 0;
        if (bit == 0)
                return jp_fail(j, -EINVAL, "validation_failed", ptr, "unknown member");
        if (*seen & bit)
                return jp_fail(j, -EINVAL, "malformed_json", ptr, "duplicate member");
        *seen |= bit;
        switch (bit) {
        case JB_BATCH_ID:
                return jp_batch_id(j);
        case JB_PRECISION:
                return jp_precision(j);
        case JB_SERIES:
                return jp_series_array(j, base);
        default:
                return jp_points(j);
        }
}

static int jp_required(struct jp *j, unsigned seen)
{
        if (!(seen & JB_BATCH_ID))
                return jp_fail(j, -EINVAL, "validation_failed", "/batch_id", "batch_id is required");
        if (!(seen & JB_SERIES))
                return jp_fail(j, -EINVAL, "validation_failed", "/series", "series is required");
        if (!(seen & JB_POINTS))
                return jp_fail(j, -EINVAL, "validation_failed", "/points", "points is required");
        return 0;
}

/* A body that is JSON but no object. */
static int jp_not_object(struct jp *j)
{
        int r;

        if (jp_at_end(j))
                return jp_syntax(j, "empty body");
        r = jp_skip(j, 0);
        if (r < 0)
                return r;
        if (!jp_at_end(j))
                return jp_syntax(j, "text after the JSON value");
        return jp_fail(j, -EINVAL, "validation_failed", "", "the body must be a JSON object");
}

static int jp_batch(struct jp *j, size_t base)
{
        unsigned seen = 0;
        int r;

        if (jp_peek(j) != '{')
                return jp_not_object(j);
        j->p++;
        if (!jp_eat(j, '}')) {
                for (;;) {
                        r = jp_batch_member(j, &seen, base);
                        if (r < 0)
                                return r;
                        if (jp_eat(j, '}'))
                                break;
                        if (!jp_eat(j, ','))
                                return jp_syntax(j, "expected ',' or '}'");
                }
        }
        if (!jp_at_end(j))
                return jp_syntax(j, "text after the JSON value");
        return jp_required(j, seen);
}

int ingest_json_parse(const char *body, size_t len, const struct ingest_limits *lim,
                      struct ingest_batch *out, struct ingest_error *err)
{
        struct ingest_error dummy;
        struct jp j = { 0 };
        struct jp_fix fix;
        int r;

        if (!err)
                err = &dummy;
        memset(err, 0, sizeof(*err));
        j.err = err;
        if (!out || (!body && len > 0))
                return jp_fail(&j, -EINVAL, "internal", NULL, "bad arguments");
        j.start = body ? body : "";
        j.p = j.start;
        j.end = j.start + len;
        j.lim = lim;
        j.out = out;
        fix.base = out->n_series;
        fix.first = out->n_input;
        r = jp_batch(&j, fix.base);
        if (r < 0)
                return r;
        fix.n_series = out->n_series - fix.base;
        fix.ms = j.precision_ms;
        r = ingest_batch_filter(out, jp_fix_point, &fix);
        if (r < 0)
                return jp_fail(&j, r, "internal", NULL, "out of memory");
        return 0;
}
