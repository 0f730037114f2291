/*
 * problem.h - RFC 9457 problem details (application/problem+json).
 *
 * Every error enemane sends is built here so that every one has the same
 * shape: type (urn:enemane:problem:<code>), title, status, detail, a stable
 * machine `code`, and `errors[]` with one entry per invalid field:
 * {"field": "address.postcode", "pointer": "/address/postcode",
 *  "code": "invalid", "detail": "..."}.
 *
 * A struct problem is owned by the caller: problem_new() allocates,
 * problem_render() writes it into a response and frees it; problem_free()
 * accepts NULL. Out of memory degrades to a fixed 500 body, never a crash.
 */
#ifndef ENEMANE_HTTP_PROBLEM_H
#define ENEMANE_HTTP_PROBLEM_H

#include <stdbool.h>

#include <jansson.h>

#include "http/http.h"

#define PROBLEM_CONTENT_TYPE "application/problem+json"
#define PROBLEM_MAX_ERRORS 32

struct problem;

struct problem *problem_new(int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void problem_free(struct problem *p);

/* Adds a field error (field in dotted form, "address.postcode" or
 * "items.3.amount"). More than PROBLEM_MAX_ERRORS are counted, not kept. */
int problem_add_error(struct problem *p, const char *field, const char *code,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int problem_error_count(const struct problem *p);
/* Adds an extension member (string or integer). */
int problem_set_str(struct problem *p, const char *key, const char *value);
int problem_set_int(struct problem *p, const char *key, long long value);
/* Adds any JSON value as an extension member; steals the reference. */
int problem_set_json(struct problem *p, const char *key, json_t *value);

/* Renders p into res (status, content type, body) and frees p. */
void problem_render(struct problem *p, struct http_response *res);

/* One-shot: status + code + detail sentence, no field errors. */
void problem_respond(struct http_response *res, int status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The default title for a code (e.g. "validation_failed" -> "Validation
 * failed"); falls back to the status reason. */
const char *problem_title(int status, const char *code);

#endif
