/*
 * http.c - request/response helpers shared by the front end, the router
 * and the handlers: method names, status reasons, percent-decoding, query
 * lookup, and the create/free pairs of struct http_request/http_response.
 */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[_HTTP_METHOD_MAX] = {
        [HTTP_GET] = "GET",
        [HTTP_HEAD] = "HEAD",
        [HTTP_POST] = "POST",
        [HTTP_PUT] = "PUT",
        [HTTP_PATCH] = "PATCH",
        [HTTP_DELETE] = "DELETE",
        [HTTP_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
        if (m < 0 || m >= _HTTP_METHOD_MAX)
                return "?";
        return method_names[m];
}

enum http_method http_method_from_name(const char *s)
{
        for (int i = 0; i < _HTTP_METHOD_MAX; i++)
                if (strcmp(s, method_names[i]) == 0)
                        return (enum http_method)i;
        return HTTP_METHOD_INVALID;
}

const char *http_status_reason(int status)
{
        switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Content Too Large";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        default: return "Unknown";
        }
}

void http_request_init(struct http_request *r)
{
        memset(r, 0, sizeof(*r));
        r->method = HTTP_METHOD_INVALID;
        r->route_index = -1;
}

void http_request_free(struct http_request *r)
{
        if (!r)
                return;
        free(r->path);
        free(r->query);
        free(r->authorization);
        free(r->content_type);
        free(r->if_none_match);
        free(r->signature);
        free(r->signature_ts);
        free(r->content_encoding);
        free(r->batch_id);
        free(r->range);
        free(r->body);
        for (int i = 0; i < r->n_params; i++)
                free(r->params[i].value);
        http_request_init(r);
}

const char *http_request_param(const struct http_request *r, const char *name)
{
        size_t n = strlen(name);

        for (int i = 0; i < r->n_params; i++)
                if (r->params[i].name_len == n && memcmp(r->params[i].name, name, n) == 0)
                        return r->params[i].value;
        return NULL;
}

void http_response_init(struct http_response *r)
{
        memset(r, 0, sizeof(*r));
        buf_init(&r->body, 0);
}

void http_response_free(struct http_response *r)
{
        if (!r)
                return;
        buf_free(&r->body);
        for (int i = 0; i < r->n_headers; i++) {
                free(r->headers[i].name);
                free(r->headers[i].value);
        }
        r->n_headers = 0;
}

int http_response_header(struct http_response *r, const char *name, const char *value)
{
        char *n, *v;

        if (r->n_headers >= HTTP_MAX_RESP_HEADERS)
                return -ENOSPC;
        n = strdup(name);
        v = strdup(value);
        if (!n || !v) {
                free(n);
                free(v);
                return -ENOMEM;
        }
        r->headers[r->n_headers].name = n;
        r->headers[r->n_headers].value = v;
        r->n_headers++;
        return 0;
}

int http_response_set(struct http_response *r, int status, const char *content_type,
                      const char *body, size_t len)
{
        r->status = status;
        r->content_type = content_type;
        buf_reset(&r->body);
        return buf_append(&r->body, body, len);
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int decode(const char *src, size_t len, int plus_is_space, char **out)
{
        char *d = malloc(len + 1);
        size_t j = 0;

        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                char c = src[i];

                if (c == '%') {
                        int hi, lo;

                        if (i + 2 >= len) {
                                free(d);
                                return -EINVAL;
                        }
                        hi = hexval(src[i + 1]);
                        lo = hexval(src[i + 2]);
                        if (hi < 0 || lo < 0) {
                                free(d);
                                return -EINVAL;
                        }
                        c = (char)(hi * 16 + lo);
                        i += 2;
                } else if (c == '+' && plus_is_space) {
                        c = ' ';
                }
                if (c == '\0') {
                        free(d);
                        return -EINVAL;
                }
                d[j++] = c;
        }
        d[j] = '\0';
        *out = d;
        return 0;
}

int http_percent_decode(const char *src, size_t len, char **out)
{
        return decode(src, len, 1, out);
}

int http_path_decode(const char *src, size_t len, char **out)
{
        return decode(src, len, 0, out);
}

int http_query_get(const char *query, const char *key, char **out)
{
        size_t klen = strlen(key);
        const char *p = query;

        *out = NULL;
        if (!p)
                return 0;
        while (*p) {
                const char *amp = strchr(p, '&');
                size_t seg = amp ? (size_t)(amp - p) : strlen(p);
                const char *eq = memchr(p, '=', seg);
                size_t nlen = eq ? (size_t)(eq - p) : seg;

                if (nlen == klen && strncmp(p, key, klen) == 0) {
                        const char *v = eq ? eq + 1 : p + seg;
                        size_t vlen = eq ? seg - nlen - 1 : 0;
                        int r = http_percent_decode(v, vlen, out);

                        return r < 0 ? r : 1;
                }
                p += seg;
                if (*p == '&')
                        p++;
        }
        return 0;
}
