/*
 * jsonw.h - a small streaming JSON writer onto a struct buf.
 *
 * For hot list answers (the charger search) where building a jansson tree
 * and dumping it costs more than the query behind it. The writer tracks
 * commas per nesting level; errors (allocation, buf cap, nesting deeper than
 * JW_DEPTH_MAX, a string that is not valid UTF-8) are sticky: check
 * jw_error() once at the end. Keys and strings are escaped per RFC 8259.
 * Inside an object every value takes a key; inside an array key is NULL.
 */
#ifndef ENEMANE_UTIL_JSONW_H
#define ENEMANE_UTIL_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

#define JW_DEPTH_MAX 16

struct jw {
        struct buf *b;                  /* not owned */
        int err;                        /* first error, 0 while fine */
        int depth;
        bool first[JW_DEPTH_MAX];       /* no value written yet at this level */
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* v / 10^decimals as a JSON number without floating point: (35680141, 6)
 * is 35.680141, (50000, 3) is 50; trailing zeros of the fraction dropped. */
void jw_fixed(struct jw *w, const char *key, int64_t v, int decimals);
/* A double: integral values as integers, others with 17 significant digits
 * (exact round trip); NaN and infinities, which JSON lacks, as null. */
void jw_double(struct jw *w, const char *key, double v);
/* Copies members (len bytes of "key":value pairs, comma separated, as
 * another writer wrote them inside an object) into the open object. */
void jw_members(struct jw *w, const char *members, size_t len);
/* 0, or the first negative errno met. */
int jw_error(const struct jw *w);

#endif
