/*
 * jsonw.c - the streaming JSON writer (see jsonw.h).
 */
#include "util/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w, struct buf *b)
{
        memset(w, 0, sizeof(*w));
        w->b = b;
        w->first[0] = true;
}

static void jw_put(struct jw *w, const char *s, size_t len)
{
        int r;

        if (w->err)
                return;
        r = buf_append(w->b, s, len);
        if (r < 0)
                w->err = r;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
                        return 0;       /* overlong, or a UTF-16 surrogate */
                return 3;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                        return 0;
                return 4;
        }
        return 0;
}

/* A quoted, escaped string. Runs of bytes that need no escape (ASCII and
 * valid UTF-8 sequences) are copied in one go. */
static void jw_quoted(struct jw *w, const char *s)
{
        const unsigned char *p = (const unsigned char *)s, *run;
        char esc[8];

        jw_put(w, "\"", 1);
        run = p;
        while (*p && !w->err) {
                size_t n;

                if (*p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80) {
                        p++;
                        continue;
                }
                if (*p >= 0x80) {
                        n = utf8_len(p);
                        if (n == 0) {
                                w->err = -EILSEQ;
                                return;
                        }
                        p += n;
                        continue;
                }
                jw_put(w, (const char *)run, (size_t)(p - run));
                if (*p == '"' || *p == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", *p);
                else if (*p == '\n')
                        snprintf(esc, sizeof(esc), "\\n");
                else if (*p == '\r')
                        snprintf(esc, sizeof(esc), "\\r");
                else if (*p == '\t')
                        snprintf(esc, sizeof(esc), "\\t");
                else
                        snprintf(esc, sizeof(esc), "\\u%04x", *p);
                jw_put(w, esc, strlen(esc));
                p++;
                run = p;
        }
        jw_put(w, (const char *)run, (size_t)(p - run));
        jw_put(w, "\"", 1);
}

/* The comma and key before a value at the current level. */
static void jw_prefix(struct jw *w, const char *key)
{
        if (w->depth >= JW_DEPTH_MAX) {
                w->err = -E2BIG;
                return;
        }
        if (!w->first[w->depth])
                jw_put(w, ",", 1);
        w->first[w->depth] = false;
        if (key) {
                jw_quoted(w, key);
                jw_put(w, ":", 1);
        }
}

static void jw_open(struct jw *w, const char *key, const char *bracket)
{
        jw_prefix(w, key);
        if (w->err)
                return;
        if (w->depth + 1 >= JW_DEPTH_MAX) {
                w->err = -E2BIG;
                return;
        }
        jw_put(w, bracket, 1);
        w->depth++;
        w->first[w->depth] = true;
}

static void jw_close(struct jw *w, const char *bracket)
{
        if (w->err)
                return;
        if (w->depth == 0) {
                w->err = -EINVAL;
                return;
        }
        w->depth--;
        jw_put(w, bracket, 1);
}

void jw_obj_begin(struct jw *w, const char *key)
{
        jw_open(w, key, "{");
}

void jw_obj_end(struct jw *w)
{
        jw_close(w, "}");
}

void jw_arr_begin(struct jw *w, const char *key)
{
        jw_open(w, key, "[");
}

void jw_arr_end(struct jw *w)
{
        jw_close(w, "]");
}

void jw_str(struct jw *w, const char *key, const char *s)
{
        jw_prefix(w, key);
        jw_quoted(w, s);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%lld", (long long)v);

        jw_prefix(w, key);
        jw_put(w, num, (size_t)n);
}

void jw_double(struct jw *w, const char *key, double v)
{
        char num[40];
        int n;

        if (!isfinite(v)) {
                jw_null(w, key);
                return;
        }
        if (v == (double)(int64_t)v && v > -9007199254740992.0 && v < 9007199254740992.0) {
                jw_int(w, key, (int64_t)v);
                return;
        }
        n = snprintf(num, sizeof(num), "%.15g", v);
        if (strtod(num, NULL) != v)
                n = snprintf(num, sizeof(num), "%.17g", v);
        jw_prefix(w, key);
        jw_put(w, num, (size_t)n);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
        jw_prefix(w, key);
        jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w, const char *key)
{
        jw_prefix(w, key);
        jw_put(w, "null", 4);
}

void jw_fixed(struct jw *w, const char *key, int64_t v, int decimals)
{
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, scale = 1;
        char num[48], frac[24];
        int n, i;

        if (decimals < 0 || decimals > 18) {
                w->err = w->err ? w->err : -EINVAL;
                return;
        }
        for (i = 0; i < decimals; i++)
                scale *= 10;
        n = snprintf(frac, sizeof(frac), "%0*llu", decimals,
                     (unsigned long long)(mag % scale));
        while (n > 0 && frac[n - 1] == '0')
                frac[--n] = '\0';
        if (decimals == 0 || n == 0)
                n = snprintf(num, sizeof(num), "%s%llu", v < 0 ? "-" : "",
                             (unsigned long long)(mag / scale));
        else
                n = snprintf(num, sizeof(num), "%s%llu.%s", v < 0 ? "-" : "",
                             (unsigned long long)(mag / scale), frac);
        jw_prefix(w, key);
        jw_put(w, num, (size_t)n);
}

void jw_members(struct jw *w, const char *members, size_t len)
{
        if (len == 0)
                return;
        jw_prefix(w, NULL);
        jw_put(w, members, len);
}

int jw_error(const struct jw *w)
{
        if (w->err)
                return w->err;
        return w->depth == 0 ? 0 : -EINVAL;
}
