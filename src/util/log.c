/*
 * log.c - JSON-lines logger (see log.h). Lines are built in a stack
 * buffer and written with a single write(2) so concurrent lines never
 * interleave; an over-long value is cut, never overflowing.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/timeutil.h"

#define LOG_LINE_MAX 4096

static atomic_int log_level = LOG_INFO;
static atomic_int log_fd = 2;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(int level)
{
        atomic_store(&log_level, level);
}

int log_get_level(void)
{
        return atomic_load(&log_level);
}

void log_set_fd(int fd)
{
        atomic_store(&log_fd, fd);
}

struct line {
        char buf[LOG_LINE_MAX];
        size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
        if (n > sizeof(l->buf) - 2 - l->len)
                n = sizeof(l->buf) - 2 - l->len;
        memcpy(l->buf + l->len, s, n);
        l->len += n;
}

static void puts_raw(struct line *l, const char *s)
{
        put(l, s, strlen(s));
}

/* JSON string escaping; bytes >= 0x80 pass through (callers give UTF-8). */
static void put_str(struct line *l, const char *s)
{
        static const char hex[] = "0123456789abcdef";

        put(l, "\"", 1);
        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\') {
                        char e[2] = { '\\', (char)c };
                        put(l, e, 2);
                } else if (c < 0x20) {
                        char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                        put(l, e, 6);
                } else {
                        put(l, (const char *)&c, 1);
                }
        }
        put(l, "\"", 1);
}

static void begin(struct line *l, int level, const char *msg)
{
        char ts[TIME_RFC3339_MAX];

        l->len = 0;
        time_format_log(time_now_us(), ts);
        puts_raw(l, "{\"time\":\"");
        puts_raw(l, ts);
        puts_raw(l, "\",\"level\":\"");
        puts_raw(l, level_names[level < 0 || level > 3 ? 1 : level]);
        puts_raw(l, "\",\"msg\":");
        put_str(l, msg);
}

static void finish(struct line *l)
{
        ssize_t r;

        l->buf[l->len++] = '}';
        l->buf[l->len++] = '\n';
        r = write(atomic_load(&log_fd), l->buf, l->len);
        (void)r;
}

void log_kv(int level, const char *msg, ...)
{
        struct line l;
        va_list ap;
        const char *k;

        if (level < atomic_load(&log_level))
                return;
        begin(&l, level, msg);
        va_start(ap, msg);
        for (k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);

                puts_raw(&l, ",");
                put_str(&l, k);
                puts_raw(&l, ":");
                put_str(&l, v ? v : "");
        }
        va_end(ap);
        finish(&l);
}

void log_request(const struct log_request_fields *f)
{
        struct line l;
        char num[96];

        if (LOG_INFO < atomic_load(&log_level))
                return;
        begin(&l, LOG_INFO, "request");
        puts_raw(&l, ",\"request_id\":");
        put_str(&l, f->request_id);
        puts_raw(&l, ",\"method\":");
        put_str(&l, f->method);
        puts_raw(&l, ",\"path\":");
        put_str(&l, f->path);
        if (f->route) {
                puts_raw(&l, ",\"route\":");
                put_str(&l, f->route);
        }
        snprintf(num, sizeof(num), ",\"status\":%d,\"duration_ms\":%.3f", f->status,
                 (double)f->duration_us / 1000.0);
        puts_raw(&l, num);
        if (f->member_id > 0) {
                snprintf(num, sizeof(num), ",\"member_id\":%lld", (long long)f->member_id);
                puts_raw(&l, num);
        }
        if (f->client_ip) {
                puts_raw(&l, ",\"client_ip\":");
                put_str(&l, f->client_ip);
        }
        finish(&l);
}
