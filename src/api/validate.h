/*
 * validate.h - reading a JSON request body strictly, and checking its
 * fields with every problem collected into one RFC 9457 answer.
 *
 * api_body_object() enforces Content-Type application/json, strict
 * parsing (jansson rejects bad UTF-8; we add JSON_REJECT_DUPLICATES) and a
 * top-level object; on failure it renders the problem and returns <0.
 *
 * A struct jv collects field errors: each jv_* getter checks presence,
 * type and size, records an error naming the dotted field when wrong, and
 * returns NULL/false so the caller can continue and report every error at
 * once. jv_unknown() rejects fields the endpoint does not know (a typo
 * must not be silently dropped).
 */
#ifndef ENEMANE_API_VALIDATE_H
#define ENEMANE_API_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "http/problem.h"

/* Parses the request body; *out is a new reference owned by the caller. */
int api_body_object(const struct http_request *req, struct http_response *res, json_t **out);

struct jv {
        struct problem *p;
        int errors;
};

void jv_init(struct jv *v);
void jv_free(struct jv *v);
bool jv_ok(const struct jv *v);
/* Renders the collected errors as 422 validation_failed and resets v. */
void jv_render(struct jv *v, struct http_response *res);

void jv_error(struct jv *v, const char *prefix, const char *key, const char *code,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Records unknown_field for every member of obj not in allowed (NULL-ended). */
void jv_unknown(struct jv *v, json_t *obj, const char *prefix, const char *const *allowed);

/* String field: NULL when absent (and not required) or invalid.
 * max_chars counts code points; 0 = no check beyond max_bytes. */
const char *jv_str(struct jv *v, json_t *obj, const char *prefix, const char *key,
                   bool required, size_t max_bytes);
bool jv_bool(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
             bool dflt);
/* Integer in [min, max]; returns dflt when absent (and not required). */
int64_t jv_int(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
               int64_t min, int64_t max, int64_t dflt);
json_t *jv_object(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required);
json_t *jv_array(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
                 size_t max_items);

/* An RFC 6901 JSON pointer ("/series/3/unit") as a dotted field name
 * ("series.3.unit") in out. */
void jv_pointer_field(const char *ptr, char *out, size_t len);

/* Joins prefix and key into a dotted field name in out. */
const char *jv_field(char *out, size_t len, const char *prefix, const char *key);

#endif
