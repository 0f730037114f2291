/*
 * client.h - a thread-safe HTTP client for API tests with several callers
 * (one curl handle per caller, keep-alive, bearer token, JSON bodies), and
 * a tiny seeded PRNG (splitmix64) so that a failing run replays from its
 * seed. The harness' api_call() is single-threaded; use this where threads
 * call the server concurrently.
 */
#ifndef ENEMANE_TESTS_API_CLIENT_H
#define ENEMANE_TESTS_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

struct client {
        CURL *curl;
        struct curl_slist *headers;
        char base[80];
        char *buf;              /* last answer's body, NUL-terminated */
        size_t len, cap;
        long timeout_ms;
        bool verbose;           /* print transport errors to stderr */
};

/* 0 or -ENOMEM. The token is sent as "Authorization: Bearer <token>". */
int client_init(struct client *c, const char *base, const char *token, long timeout_ms,
                bool verbose);
void client_free(struct client *c);

/* The HTTP status (body in c->buf, parsed into *out when out is non-NULL;
 * the caller decrefs) or -1 when no answer came (refused, reset, cut off,
 * timed out). */
long client_call(struct client *c, const char *method, const char *path, const char *body,
                 json_t **out);

/* splitmix64 */
uint64_t rnd_next(uint64_t *s);
/* Uniform in [lo, hi] (hi >= lo). */
int64_t rnd_range(uint64_t *s, int64_t lo, int64_t hi);

#endif
