/*
 * problem.c - builds RFC 9457 problem+json bodies (see problem.h).
 */
#include "http/problem.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

struct problem {
        int status;
        char code[64];
        char *detail;
        json_t *errors;         /* array */
        json_t *ext;            /* object of extension members */
        int n_errors;           /* including the ones not kept */
};

static const struct {
        const char *code;
        const char *title;
} titles[] = {
        { "validation_failed", "Validation failed" },
        { "malformed_json", "Malformed JSON" },
        { "invalid_body", "Invalid request body" },
        { "unsupported_media_type", "Unsupported media type" },
        { "body_too_large", "Payload too large" },
        { "not_found", "Not found" },
        { "method_not_allowed", "Method not allowed" },
        { "unauthorized", "Authentication required" },
        { "forbidden", "Forbidden" },
        { "consent_required", "Consent required" },
        { "rate_limited", "Too many requests" },
        { "conflict", "Conflict" },
        { "email_taken", "Email already registered" },
        { "withdrawal_blocked", "Withdrawal blocked" },
        { "account_suspended", "Account suspended" },
        { "internal_error", "Internal error" },
        { "overloaded", "Server overloaded" },
        { "shutting_down", "Server shutting down" },
};

const char *problem_title(int status, const char *code)
{
        for (size_t i = 0; i < ELEMENTSOF(titles); i++)
                if (strcmp(titles[i].code, code) == 0)
                        return titles[i].title;
        return http_status_reason(status);
}

static char *vformat(const char *fmt, va_list ap)
{
        char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

struct problem *problem_new(int status, const char *code, const char *fmt, ...)
{
        struct problem *p = calloc(1, sizeof(*p));
        va_list ap;

        if (!p)
                return NULL;
        p->status = status;
        snprintf(p->code, sizeof(p->code), "%s", code);
        va_start(ap, fmt);
        p->detail = vformat(fmt, ap);
        va_end(ap);
        p->errors = json_array();
        p->ext = json_object();
        if (!p->detail || !p->errors || !p->ext) {
                problem_free(p);
                return NULL;
        }
        return p;
}

void problem_free(struct problem *p)
{
        if (!p)
                return;
        free(p->detail);
        json_decref(p->errors);
        json_decref(p->ext);
        free(p);
}

/* "address.postcode" -> "/address/postcode" (JSON Pointer, RFC 6901). */
static char *field_to_pointer(const char *field)
{
        size_t n = strlen(field);
        char *out = malloc(2 * n + 2);
        size_t j = 0;

        if (!out)
                return NULL;
        out[j++] = '/';
        for (size_t i = 0; i < n; i++) {
                char c = field[i];

                if (c == '.') {
                        out[j++] = '/';
                } else if (c == '~') {
                        out[j++] = '~';
                        out[j++] = '0';
                } else if (c == '/') {
                        out[j++] = '~';
                        out[j++] = '1';
                } else {
                        out[j++] = c;
                }
        }
        out[j] = '\0';
        return out;
}

int problem_add_error(struct problem *p, const char *field, const char *code,
                      const char *fmt, ...)
{
        _cleanup_free_ char *detail = NULL;
        _cleanup_free_ char *pointer = NULL;
        json_t *e;
        va_list ap;

        if (!p)
                return -EINVAL;
        p->n_errors++;
        if (json_array_size(p->errors) >= PROBLEM_MAX_ERRORS)
                return 0;
        va_start(ap, fmt);
        detail = vformat(fmt, ap);
        va_end(ap);
        pointer = field_to_pointer(field);
        if (!detail || !pointer)
                return -ENOMEM;
        e = json_pack("{s:s, s:s, s:s, s:s}", "field", field, "pointer", pointer,
                      "code", code, "detail", detail);
        if (!e)
                return -ENOMEM;
        if (json_array_append_new(p->errors, e) < 0)
                return -ENOMEM;
        return 0;
}

int problem_error_count(const struct problem *p)
{
        return p ? p->n_errors : 0;
}

int problem_set_str(struct problem *p, const char *key, const char *value)
{
        if (!p)
                return -EINVAL;
        return json_object_set_new(p->ext, key, json_string(value)) < 0 ? -ENOMEM : 0;
}

int problem_set_int(struct problem *p, const char *key, long long value)
{
        if (!p)
                return -EINVAL;
        return json_object_set_new(p->ext, key, json_integer(value)) < 0 ? -ENOMEM : 0;
}

int problem_set_json(struct problem *p, const char *key, json_t *value)
{
        if (!p || !value) {
                json_decref(value);
                return -EINVAL;
        }
        return json_object_set_new(p->ext, key, value) < 0 ? -ENOMEM : 0;
}

static const char oom_body[] =
        "{\"type\":\"urn:enemane:problem:internal_error\",\"title\":\"Internal error\","
        "\"status\":500,\"detail\":\"The server ran out of memory.\",\"code\":\"internal_error\"}";

void problem_render(struct problem *p, struct http_response *res)
{
        char type[96];
        json_t *o;
        char *s = NULL;

        if (!p) {
                http_response_set(res, 500, PROBLEM_CONTENT_TYPE, oom_body, sizeof(oom_body) - 1);
                return;
        }
        snprintf(type, sizeof(type), "urn:enemane:problem:%s", p->code);
        o = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type,
                      "title", problem_title(p->status, p->code), "status", p->status,
                      "detail", p->detail, "code", p->code);
        if (o && json_array_size(p->errors) > 0)
                json_object_set(o, "errors", p->errors);
        if (o && p->n_errors > (int)json_array_size(p->errors))
                json_object_set_new(o, "errors_total", json_integer(p->n_errors));
        if (o)
                json_object_update_missing(o, p->ext);
        if (o)
                s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (s)
                http_response_set(res, p->status, PROBLEM_CONTENT_TYPE, s, strlen(s));
        else
                http_response_set(res, 500, PROBLEM_CONTENT_TYPE, oom_body, sizeof(oom_body) - 1);
        free(s);
        json_decref(o);
        problem_free(p);
}

void problem_respond(struct http_response *res, int status, const char *code,
                     const char *fmt, ...)
{
        _cleanup_free_ char *detail = NULL;
        va_list ap;

        va_start(ap, fmt);
        detail = vformat(fmt, ap);
        va_end(ap);
        problem_render(detail ? problem_new(status, code, "%s", detail) : NULL, res);
}
