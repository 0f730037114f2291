/*
 * api.h - the application behind the HTTP front end: the route table, the
 * per-request context, authentication, the consent gate, and the helpers
 * every handler uses to render JSON.
 *
 * Flow of one request:
 *   event loop: api_inline()  - route match; 404/405 answered here; routes
 *                               flagged API_INLINE (no database) run here;
 *   worker:     api_dispatch() - authenticate (Bearer session token), check
 *                               role and status, consent gate (CS-38), then
 *                               the handler;
 *   event loop: api_done()    - access log line and metrics.
 * Handlers are thin: parse and validate (validate.h), authorise, call the
 * domain and the store, render.
 */
#ifndef ENEMANE_API_API_H
#define ENEMANE_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "http/problem.h"
#include "http/router.h"
#include "store/store.h"
#include "store/store_member.h"
#include "util/config.h"

struct server;
struct metrics;
struct ratelimit;
struct listing_cache;
struct mailer;

struct app {
        const struct config *cfg;
        struct store *st;
        struct server *srv;
        struct metrics *metrics;
        struct ratelimit *rl_account;
        struct ratelimit *rl_ip;
        struct listing_cache *listings; /* NULL when charging.listing_cache is 0 */
        struct mailer *mailer;          /* outbox delivery (api/mailer.h); NULL = none */
        int64_t started_at;
};

/* Route flags. */
enum {
        API_PUBLIC = 1 << 0,            /* no authentication */
        API_OPERATOR = 1 << 1,          /* operator role required */
        API_NO_CONSENT = 1 << 2,        /* allowed while consent is owed */
        API_INLINE = 1 << 3,            /* runs on the event loop: no store */
};

struct api_ctx {
        struct app *app;
        struct http_request *req;
        struct http_response *res;
        int64_t now;                    /* unix seconds, fixed per request */
        int64_t member_id;              /* 0 when anonymous */
        int64_t session_id;
        bool operator;
        struct store_actor actor;
};

typedef void (*api_handler_fn)(struct api_ctx *c);

extern const struct route api_routes[];
extern const size_t api_routes_count;
/* Metric labels, parallel to api_routes. */
extern const char *const *api_route_names;

int app_init(struct app *a, const struct config *cfg, struct store *st);
void app_free(struct app *a);

/* The three callbacks given to the server (see server.h). */
void api_dispatch(void *app, struct http_request *req, struct http_response *res);
int api_inline(void *app, struct http_request *req, struct http_response *res);
void api_done(void *app, const struct http_request *req, const struct http_response *res,
              int64_t duration_us);

/* Renders obj as 'status' application/json and drops the reference. */
void api_json(struct api_ctx *c, int status, json_t *obj);
/* Renders a store error: -ENOENT 404, -EEXIST 409, else 500 (logged once). */
void api_store_error(struct api_ctx *c, int r, const char *what);
/* Parses a positive integer path parameter; renders 404 and returns 0 when bad. */
int64_t api_param_id(struct api_ctx *c, const char *name);
/* Reads an integer query parameter in [min, max] (absent: *out unchanged);
 * renders 422 and returns -EINVAL when bad (hosts.c). */
int api_query_int(struct api_ctx *c, const char *key, int64_t min, int64_t max, int64_t *out);
/* RFC 3339 string of a unix time, or JSON null for 0. */
json_t *api_time(int64_t unix_s);

/* Handlers (one file per resource). */
void api_healthz(struct api_ctx *c);
void api_readyz(struct api_ctx *c);
void api_metrics(struct api_ctx *c);
void api_openapi(struct api_ctx *c);
void api_docs(struct api_ctx *c);
void api_index(struct api_ctx *c);

void api_member_register(struct api_ctx *c);
void api_me_get(struct api_ctx *c);
void api_me_patch(struct api_ctx *c);
void api_me_withdraw(struct api_ctx *c);
void api_me_consents_get(struct api_ctx *c);
void api_me_consents_post(struct api_ctx *c);

void api_session_create(struct api_ctx *c);
void api_session_delete(struct api_ctx *c);
void api_me_credentials_leaked(struct api_ctx *c);
void api_me_password(struct api_ctx *c);

void api_documents_list(struct api_ctx *c);
void api_document_get(struct api_ctx *c);
void api_document_publish(struct api_ctx *c);

void api_op_members_list(struct api_ctx *c);
void api_op_member_get(struct api_ctx *c);
void api_op_member_suspend(struct api_ctx *c);
void api_op_member_reinstate(struct api_ctx *c);
void api_op_audit_list(struct api_ctx *c);
void api_suspension_reasons(struct api_ctx *c);

/* Document JSON shared by /documents and /me/consents. */
struct store_document;
json_t *api_document_json(const struct store_document *d);

/* Ledger JSON and query helpers shared by ledger.c, wallet.c, webhooks.c. */
struct ledger_transfer;
struct ledger_account;
struct store_ledger_result;
json_t *api_transfer_json(const struct ledger_transfer *t);
json_t *api_account_json(const struct ledger_account *a);
json_t *api_ledger_results(const struct ledger_transfer *t, const struct store_ledger_result *res,
                           size_t n, bool *all_ok);
struct api_transfer_query {
        int64_t from_ts, to_ts;         /* Tokyo days; to is exclusive after parsing */
        int code;                       /* -1 = any */
        int64_t after;
        int limit;
};
/* Reads from, to, code, after, limit from the query; renders 422 on error. */
int api_query_filter(struct api_ctx *c, struct api_transfer_query *q);

void api_ledger_transfers_post(struct api_ctx *c);
void api_ledger_transfer_get(struct api_ctx *c);
void api_ledger_account_get(struct api_ctx *c);
void api_ledger_account_transfers(struct api_ctx *c);
void api_ledger_totals(struct api_ctx *c);
void api_me_wallet(struct api_ctx *c);
void api_me_statement(struct api_ctx *c);
void api_me_payout_create(struct api_ctx *c);
void api_me_payout_get(struct api_ctx *c);
void api_op_member_wallet(struct api_ctx *c);
void api_wallet_topup(struct api_ctx *c);
void api_wallet_payout_result(struct api_ctx *c);
/* Background chores (expired holds, old webhook signatures). */
struct sweeper;
int sweeper_start(struct app *a, struct sweeper **out);
void sweeper_stop(struct sweeper *s);      /* accepts NULL */
/* Runs every reservation step due at now (also called by the test clock);
 * *done (may be NULL) gets how many ran. */
int sweeper_run_reservations(struct app *a, int64_t now, int *done);

/* Registers the wallet's withdrawal blockers (CS-4). */
void api_wallet_register_blockers(void);

/* Member JSON shared by /me and the operator views. */
json_t *api_member_json(const struct store_member *m);

/* Demo data for `serve --demo` on an empty database (demo.c). */
int api_demo_load(struct store *st, int64_t now);

/* Embedded files (generated from docs/openapi.yaml and web/). */
struct embedded_file {
        const char *name;
        const unsigned char *data;
        size_t len;
};
const struct embedded_file *embedded_find(const char *name);

#endif
