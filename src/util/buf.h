/*
 * buf.h - a growable byte buffer with a hard size cap.
 *
 * Used for response bodies, request bodies and log lines. A buf owns its
 * memory; buf_free() accepts a zeroed or already-freed buf. Appends fail
 * with -ENOMEM (allocation) or -E2BIG (cap reached) and leave the content
 * unchanged. The content is always NUL-terminated after a successful append
 * so it can be used as a C string when it holds text.
 */
#ifndef ENEMANE_UTIL_BUF_H
#define ENEMANE_UTIL_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
        char *data;
        size_t len;
        size_t cap;
        size_t max;     /* 0 = no cap */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands out the data (caller frees) and leaves b empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif
