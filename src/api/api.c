/*
 * api.c - request flow around the handlers (see api.h): routing,
 * authentication, role and status checks, the consent gate, access logs
 * and metrics, plus the shared rendering helpers.
 */
#include "api/api.h"
#include "api/api_notices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/listing_cache.h"
#include "http/metrics.h"
#include "http/server.h"
#include "store/store_document.h"
#include "store/store_session.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/ratelimit.h"
#include "util/timeutil.h"

int app_init(struct app *a, const struct config *cfg, struct store *st)
{
        memset(a, 0, sizeof(*a));
        a->cfg = cfg;
        a->st = st;
        a->started_at = time_now_s();
        a->metrics = metrics_new(api_route_names, api_routes_count);
        a->rl_account = ratelimit_new(100000, (int)cfg->login_max_failures_account,
                                      cfg->login_window, cfg->login_lockout);
        a->rl_ip = ratelimit_new(100000, (int)cfg->login_max_failures_ip, cfg->login_window,
                                 cfg->login_lockout);
        if (!a->metrics || !a->rl_account || !a->rl_ip ||
            (cfg->charging_listing_cache > 0 &&
             listing_cache_new((size_t)cfg->charging_listing_cache, &a->listings) < 0)) {
                app_free(a);
                return -ENOMEM;
        }
        return 0;
}

void app_free(struct app *a)
{
        if (!a)
                return;
        metrics_free(a->metrics);
        ratelimit_free(a->rl_account);
        ratelimit_free(a->rl_ip);
        listing_cache_free(a->listings);
        a->listings = NULL;
        a->metrics = NULL;
        a->rl_account = NULL;
        a->rl_ip = NULL;
}

/* ---- rendering helpers --------------------------------------------------- */

void api_json(struct api_ctx *c, int status, json_t *obj)
{
        char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

        json_decref(obj);
        if (!s) {
                problem_respond(c->res, 500, "internal_error", "The answer could not be built.");
                return;
        }
        http_response_set(c->res, status, "application/json", s, strlen(s));
        free(s);
}

void api_store_error(struct api_ctx *c, int r, const char *what)
{
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "not_found", "No such %s.", what);
                return;
        }
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "conflict", "That %s exists already.", what);
                return;
        }
        if (r == -EBUSY) {
                problem_respond(c->res, 503, "shutting_down", "The server is shutting down.");
                http_response_header(c->res, "Retry-After", "5");
                return;
        }
        log_kv(LOG_ERROR, "store error", "what", what, "error", strerror(-r), "request_id",
               c->req->request_id, NULL);
        problem_respond(c->res, 500, "internal_error",
                        "The server could not complete the request; nothing was changed.");
}

int64_t api_param_id(struct api_ctx *c, const char *name)
{
        const char *v = http_request_param(c->req, name);
        char *end = NULL;
        long long n;

        if (!v || !*v || *v == '-' || *v == '+')
                goto bad;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || *end || n <= 0)
                goto bad;
        return n;
bad:
        problem_respond(c->res, 404, "not_found", "No resource has the id '%s'.", v ? v : "");
        return 0;
}

json_t *api_time(int64_t unix_s)
{
        char buf[TIME_RFC3339_MAX];

        if (unix_s == 0)
                return json_null();
        time_format_rfc3339(unix_s, buf);
        return json_string(buf);
}

/* ---- routing (event loop) ------------------------------------------------ */

static void answer_unrouted(struct http_request *req, struct http_response *res, int r,
                            const char *allow)
{
        if (r == -EOPNOTSUPP) {
                problem_respond(res, 405, "method_not_allowed",
                                "%s is not allowed on %s; allowed: %s.",
                                http_method_name(req->method), req->path, allow);
                http_response_header(res, "Allow", allow);
                return;
        }
        if (r == -EINVAL) {
                problem_respond(res, 400, "bad_path", "The path has a bad percent-encoding.");
                return;
        }
        problem_respond(res, 404, "not_found", "There is no resource at %s.", req->path);
}

int api_inline(void *ud, struct http_request *req, struct http_response *res)
{
        struct app *a = ud;
        char allow[128];
        int r;

        r = router_match(api_routes, api_routes_count, req, allow, sizeof(allow));
        if (r < 0) {
                if (req->method == HTTP_OPTIONS && r == -EOPNOTSUPP) {
                        char with_options[160];

                        snprintf(with_options, sizeof(with_options), "%s, OPTIONS", allow);
                        res->status = 204;
                        http_response_header(res, "Allow", with_options);
                        return 1;
                }
                answer_unrouted(req, res, r, allow);
                return 1;
        }
        if (!(api_routes[r].flags & API_INLINE))
                return 0;

        struct api_ctx c = {
                .app = a, .req = req, .res = res, .now = time_now_s(),
        };
        ((api_handler_fn)api_routes[r].handler)(&c);
        return 1;
}

/* ---- authentication and gates (worker) ----------------------------------- */

static int bearer_token(const char *auth, char *out, size_t len)
{
        const char *t;
        size_t n;

        if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
                return -ENOENT;
        t = auth + 7;
        while (*t == ' ')
                t++;
        n = strlen(t);
        if (n == 0 || n >= len)
                return -EINVAL;
        memcpy(out, t, n + 1);
        return 0;
}

static int authenticate(struct api_ctx *c)
{
        struct store_auth auth;
        char token[CRYPTO_TOKEN_MAX + 8];
        char hash[CRYPTO_HASH_HEX];
        int r;

        r = bearer_token(c->req->authorization, token, sizeof(token));
        if (r == 0) {
                crypto_token_hash(token, hash);
                r = store_session_lookup(c->app->st, hash, c->now, &auth);
        }
        if (r == -ENOENT || r == -EINVAL) {
                problem_respond(c->res, 401, "unauthorized",
                                "Log in first: send 'Authorization: Bearer <token>' with a "
                                "live session token.");
                http_response_header(c->res, "WWW-Authenticate", "Bearer realm=\"enemane\"");
                return -EACCES;
        }
        if (r < 0) {
                api_store_error(c, r, "session");
                return r;
        }
        if (strcmp(auth.status, "active") != 0) {
                problem_respond(c->res, 403, "account_suspended",
                                "This account is %s and cannot act.", auth.status);
                return -EACCES;
        }
        c->member_id = auth.member_id;
        c->session_id = auth.session_id;
        c->operator = strcmp(auth.role, "operator") == 0;
        c->actor.member_id = auth.member_id;
        c->actor.role = c->operator ? "operator" : "member";
        c->req->member_id = auth.member_id;
        return 0;
}

/* CS-38 / PD-1: a member who owes consent to a newly published version
 * may do nothing but read and accept it (or leave). */
static int consent_gate(struct api_ctx *c)
{
        struct store_document missing[STORE_DOC_KINDS];
        struct problem *p;
        json_t *docs;
        int n;

        if (c->operator)
                return 0;
        n = store_consent_missing(c->app->st, c->member_id, missing, STORE_DOC_KINDS);
        if (n < 0) {
                api_store_error(c, n, "consent");
                return n;
        }
        if (n == 0)
                return 0;
        p = problem_new(403, "consent_required",
                        "A new version of the %s needs your consent before you can go on: "
                        "read it and accept it with POST /api/v1/me/consents.",
                        missing[0].kind[0] == 't' ? "terms of use" : "privacy policy");
        docs = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(docs, json_pack("{s:I, s:s, s:s, s:s}",
                                                      "id", (json_int_t)missing[i].id,
                                                      "document", missing[i].kind,
                                                      "version", missing[i].version,
                                                      "title", missing[i].title));
        problem_set_json(p, "documents", docs);
        problem_render(p, c->res);
        return -EACCES;
}

void api_dispatch(void *ud, struct http_request *req, struct http_response *res)
{
        struct app *a = ud;
        const struct route *rt;
        struct api_ctx c = {
                .app = a, .req = req, .res = res, .now = time_now_s(),
        };

        c.actor.role = "anonymous";
        c.actor.client_ip = req->client_ip;
        c.actor.request_id = req->request_id;
        if (req->route_index < 0 || (size_t)req->route_index >= api_routes_count) {
                problem_respond(res, 404, "not_found", "There is no resource at %s.", req->path);
                return;
        }
        rt = &api_routes[req->route_index];
        if (api_maintenance_gate(&c, rt))
                return;
        if (!(rt->flags & API_PUBLIC)) {
                if (authenticate(&c) < 0)
                        return;
                if ((rt->flags & API_OPERATOR) && !c.operator) {
                        problem_respond(res, 403, "forbidden",
                                        "Only an operator may do this.");
                        return;
                }
                if (!(rt->flags & API_NO_CONSENT) && consent_gate(&c) < 0)
                        return;
        }
        ((api_handler_fn)rt->handler)(&c);
        if (res->status == 0)
                problem_respond(res, 500, "internal_error", "The handler gave no answer.");
}

void api_done(void *ud, const struct http_request *req, const struct http_response *res,
              int64_t duration_us)
{
        struct app *a = ud;
        const char *route = NULL;

        if (req->route_index >= 0 && (size_t)req->route_index < api_routes_count)
                route = api_routes[req->route_index].name;
        metrics_observe(a->metrics, req->route_index, res->status, duration_us);
        if (!a->cfg->log_requests)
                return;
        struct log_request_fields f = {
                .request_id = req->request_id,
                .method = http_method_name(req->method),
                .path = req->path,
                .route = route,
                .status = res->status,
                .duration_us = duration_us,
                .member_id = req->member_id,
                .client_ip = req->client_ip,
        };
        log_request(&f);
}
