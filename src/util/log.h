/*
 * log.h - structured logs: one JSON object per line on stderr.
 *
 * Every line has "time" (UTC, ms), "level" and "msg"; log_kv() adds string
 * key/value pairs, log_request() writes the access-log line. Values are
 * JSON-escaped here; callers must never pass secrets, tokens or device
 * codes (mask them first). Safe to call from any thread: each line is
 * written with one write(2).
 */
#ifndef ENEMANE_UTIL_LOG_H
#define ENEMANE_UTIL_LOG_H

#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(int level);
int log_get_level(void);
void log_set_fd(int fd);        /* default 2 */

/* log_kv(LOG_INFO, "listening", "url", "http://...", NULL): pairs of
 * const char * keys and values, NULL-terminated. */
void log_kv(int level, const char *msg, ...) __attribute__((sentinel));

struct log_request_fields {
        const char *request_id;
        const char *method;
        const char *path;
        const char *route;      /* route name or NULL */
        int status;
        int64_t duration_us;
        int64_t member_id;      /* 0 = anonymous */
        const char *client_ip;
};
void log_request(const struct log_request_fields *f);

#endif
