/*
 * http.h - the request and response as the rest of enemane sees them.
 *
 * The front end (server.c) builds a struct http_request from what
 * libwebsockets parsed, hands it to the dispatcher on a worker thread, and
 * writes the struct http_response back on the event-loop thread. Handlers
 * never see libwebsockets. All strings in a request are NUL-terminated and
 * owned by the request (freed by http_request_free); the response owns its
 * body buffer and header strings (freed by http_response_free).
 */
#ifndef ENEMANE_HTTP_HTTP_H
#define ENEMANE_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum http_method {
        HTTP_GET = 0,
        HTTP_HEAD,
        HTTP_POST,
        HTTP_PUT,
        HTTP_PATCH,
        HTTP_DELETE,
        HTTP_OPTIONS,
        _HTTP_METHOD_MAX,
        HTTP_METHOD_INVALID = -1,
};

const char *http_method_name(enum http_method m);
enum http_method http_method_from_name(const char *s);

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_RESP_HEADERS 8

struct http_param {
        const char *name;       /* points into the route pattern (static), */
        size_t name_len;        /* not NUL-terminated there: use name_len */
        char *value;            /* percent-decoded copy, owned by the request */
};

struct http_request {
        enum http_method method;
        char *path;             /* raw path, no query string ("/api/v1/me") */
        char *query;            /* raw query string without '?', "" if none */
        char *authorization;    /* Authorization header value or NULL */
        char *content_type;     /* Content-Type header value or NULL */
        char *if_none_match;    /* unused for now, NULL */
        char *signature;        /* X-Wallet-Signature of a signed webhook, or NULL */
        char *signature_ts;     /* X-Wallet-Timestamp, or NULL */
        char *content_encoding; /* Content-Encoding ("gzip") or NULL */
        char *batch_id;         /* X-Batch-Id of a measurement upload, or NULL */
        char *range;            /* Range header (firmware downloads, HE-14), or NULL */
        char *body;             /* request body, NUL-terminated, may be NULL */
        size_t body_len;
        char client_ip[64];
        char request_id[40];    /* from X-Request-Id if sane, else generated */
        int64_t started_us;     /* monotonic microseconds at header arrival */

        /* Filled by the router. */
        int route_index;        /* -1 when no route matched */
        struct http_param params[HTTP_MAX_PARAMS];
        int n_params;

        /* Filled by the API layer for logging (0 = anonymous). */
        int64_t member_id;
};

struct http_header {
        char *name;
        char *value;
};

struct http_response {
        int status;
        const char *content_type;       /* static string */
        struct buf body;
        struct http_header headers[HTTP_MAX_RESP_HEADERS];
        int n_headers;
        int close_connection;           /* send Connection: close */
};

void http_request_init(struct http_request *r);
void http_request_free(struct http_request *r);
const char *http_request_param(const struct http_request *r, const char *name);

void http_response_init(struct http_response *r);
void http_response_free(struct http_response *r);
/* Copies name and value. -ENOSPC when HTTP_MAX_RESP_HEADERS are set. */
int http_response_header(struct http_response *r, const char *name, const char *value);
/* Sets status, content type and a copy of the body. */
int http_response_set(struct http_response *r, int status, const char *content_type,
                      const char *body, size_t len);

/* Reason phrase for a status code ("Not Found"); "Unknown" if unknown. */
const char *http_status_reason(int status);

/* Query string: finds key in a raw "a=1&b=2" string, percent-decodes the
 * value into a newly allocated string (*out, caller frees). Returns 1 when
 * found, 0 when absent, negative errno on bad encoding or allocation. */
int http_query_get(const char *query, const char *key, char **out);

/* Percent-decodes src[0..len) into a new string (*out, caller frees),
 * with query semantics ('+' is a space). -EINVAL on bad escapes or an
 * embedded NUL. */
int http_percent_decode(const char *src, size_t len, char **out);
/* The same for a path segment: '+' stays '+'. */
int http_path_decode(const char *src, size_t len, char **out);

#endif
