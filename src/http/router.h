/*
 * router.h - maps (method, path) to a route of a static table.
 *
 * Patterns are literal segments and `{name}` parameters matching one
 * non-empty segment: "/api/v1/members/{id}". Matching is exact (no
 * trailing-slash folding, no prefix routes). HEAD matches GET routes.
 * When the path matches but the method does not, the caller gets
 * -EOPNOTSUPP and an `Allow` header value (405). The table is owned by the
 * caller and must outlive the router calls; `handler` is opaque here.
 */
#ifndef ENEMANE_HTTP_ROUTER_H
#define ENEMANE_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http.h"

struct route {
        enum http_method method;
        const char *pattern;
        const void *handler;
        unsigned flags;
        const char *name;       /* metrics label, e.g. "members.get" */
};

/* Returns the route index (>= 0) and fills req->params / req->route_index;
 * -ENOENT when no pattern matches the path; -EOPNOTSUPP when a pattern
 * matches but no method does (allow gets e.g. "GET, HEAD, PATCH");
 * -EINVAL when a parameter has bad percent-encoding; -ENOMEM. */
int router_match(const struct route *routes, size_t n, struct http_request *req,
                 char *allow, size_t allowlen);

/* 1 when path matches pattern (no params kept). Used by tests. */
int router_pattern_matches(const char *pattern, const char *path);

#endif
