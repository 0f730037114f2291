/*
 * validate.c - strict JSON bodies and field checks (see validate.h).
 */
#include "api/validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

static bool is_json_content_type(const char *ct)
{
        size_t n = strlen("application/json");

        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        if (strncasecmp(ct, "application/json", n) != 0)
                return false;
        return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

int api_body_object(const struct http_request *req, struct http_response *res, json_t **out)
{
        json_error_t err;
        json_t *root;

        *out = NULL;
        if (!req->body || req->body_len == 0) {
                problem_respond(res, 400, "invalid_body",
                                "This request needs a JSON object body.");
                return -EINVAL;
        }
        if (!is_json_content_type(req->content_type)) {
                problem_respond(res, 415, "unsupported_media_type",
                                "Send the body as application/json.");
                return -EINVAL;
        }
        root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!root) {
                struct problem *p = problem_new(400, "malformed_json",
                                                "The body is not valid JSON: %s (line %d, "
                                                "column %d).", err.text, err.line, err.column);

                problem_set_int(p, "line", err.line);
                problem_set_int(p, "column", err.column);
                problem_render(p, res);
                return -EINVAL;
        }
        if (!json_is_object(root)) {
                json_decref(root);
                problem_respond(res, 400, "invalid_body", "The body must be a JSON object.");
                return -EINVAL;
        }
        *out = root;
        return 0;
}

void jv_init(struct jv *v)
{
        v->p = NULL;
        v->errors = 0;
}

void jv_free(struct jv *v)
{
        problem_free(v->p);
        v->p = NULL;
}

bool jv_ok(const struct jv *v)
{
        return v->errors == 0;
}

void jv_render(struct jv *v, struct http_response *res)
{
        problem_render(v->p, res);
        v->p = NULL;
        v->errors = 0;
}

const char *jv_field(char *out, size_t len, const char *prefix, const char *key)
{
        if (prefix && *prefix)
                snprintf(out, len, "%s.%s", prefix, key);
        else
                snprintf(out, len, "%s", key);
        return out;
}

void jv_error(struct jv *v, const char *prefix, const char *key, const char *code,
              const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        char field[256];
        va_list ap;

        v->errors++;
        if (!v->p)
                v->p = problem_new(422, "validation_failed",
                                   "Some fields are missing or invalid; see errors.");
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        jv_field(field, sizeof(field), prefix, key);
        problem_add_error(v->p, field, code, "%s", msg ? msg : code);
}

void jv_unknown(struct jv *v, json_t *obj, const char *prefix, const char *const *allowed)
{
        const char *key;
        json_t *val;

        json_object_foreach(obj, key, val) {
                bool known = false;

                for (size_t i = 0; allowed[i]; i++)
                        if (strcmp(allowed[i], key) == 0)
                                known = true;
                if (!known)
                        jv_error(v, prefix, key, "unknown_field",
                                 "This field is not part of the request.");
        }
}

static json_t *get(struct jv *v, json_t *obj, const char *prefix, const char *key,
                   bool required)
{
        json_t *x = json_object_get(obj, key);

        if ((!x || json_is_null(x)) && required) {
                jv_error(v, prefix, key, "required", "This field is required.");
                return NULL;
        }
        if (x && json_is_null(x))
                return NULL;
        return x;
}

const char *jv_str(struct jv *v, json_t *obj, const char *prefix, const char *key,
                   bool required, size_t max_bytes)
{
        json_t *x = get(v, obj, prefix, key, required);

        if (!x)
                return NULL;
        if (!json_is_string(x)) {
                jv_error(v, prefix, key, "type", "Must be a string.");
                return NULL;
        }
        if (json_string_length(x) > max_bytes) {
                jv_error(v, prefix, key, "too_long", "Must be at most %zu bytes.", max_bytes);
                return NULL;
        }
        if (strlen(json_string_value(x)) != json_string_length(x)) {
                jv_error(v, prefix, key, "invalid", "Must not contain NUL characters.");
                return NULL;
        }
        if (required && json_string_length(x) == 0) {
                jv_error(v, prefix, key, "required", "Must not be empty.");
                return NULL;
        }
        return json_string_value(x);
}

bool jv_bool(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
             bool dflt)
{
        json_t *x = get(v, obj, prefix, key, required);

        if (!x)
                return dflt;
        if (!json_is_boolean(x)) {
                jv_error(v, prefix, key, "type", "Must be true or false.");
                return dflt;
        }
        return json_is_true(x);
}

int64_t jv_int(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
               int64_t min, int64_t max, int64_t dflt)
{
        json_t *x = get(v, obj, prefix, key, required);
        json_int_t n;

        if (!x)
                return dflt;
        if (!json_is_integer(x)) {
                jv_error(v, prefix, key, "type", "Must be an integer.");
                return dflt;
        }
        n = json_integer_value(x);
        if (n < min || n > max) {
                jv_error(v, prefix, key, "out_of_range", "Must be from %lld to %lld.",
                         (long long)min, (long long)max);
                return dflt;
        }
        return n;
}

json_t *jv_object(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required)
{
        json_t *x = get(v, obj, prefix, key, required);

        if (x && !json_is_object(x)) {
                jv_error(v, prefix, key, "type", "Must be an object.");
                return NULL;
        }
        return x;
}

json_t *jv_array(struct jv *v, json_t *obj, const char *prefix, const char *key, bool required,
                 size_t max_items)
{
        json_t *x = get(v, obj, prefix, key, required);

        if (!x)
                return NULL;
        if (!json_is_array(x)) {
                jv_error(v, prefix, key, "type", "Must be an array.");
                return NULL;
        }
        if (json_array_size(x) > max_items) {
                jv_error(v, prefix, key, "too_many", "At most %zu items.", max_items);
                return NULL;
        }
        return x;
}

void jv_pointer_field(const char *ptr, char *out, size_t len)
{
        size_t j = 0;

        if (len == 0)
                return;
        if (*ptr == '/')
                ptr++;
        for (; *ptr && j + 1 < len; ptr++) {
                if (*ptr == '/') {
                        out[j++] = '.';
                } else if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                        out[j++] = ptr[1] == '0' ? '~' : '/';
                        ptr++;
                } else {
                        out[j++] = *ptr;
                }
        }
        out[j] = '\0';
}
