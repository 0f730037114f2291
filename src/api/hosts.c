/*
 * hosts.c - hosts (CS-8): a member applies, the operator verifies the
 * identity and records the wallet host contract; corporate administrators
 * (CS-7) appointed by a corporate host; the CS-7 action log; and
 * api_host_acting(), the check every resource owned by a host uses.
 *
 * A host's id is its member id. Reads of a host by anyone but the host
 * itself are audited (PD-8), like the operator's reads of members.
 */
#include "api/api_hosts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "domain/host.h"
#include "domain/member.h"
#include "store/store_host.h"

#define HOST_NAME_MAX_CHARS 100
#define HOST_REASON_MAX_BYTES 400
#define HOST_LIST_MAX 200
/* Administrators per corporate host: charging.host_admins_max. */
#define HOST_ADMINS_MAX(c) ((int)(c)->app->cfg->charging_host_admins_max)

/* ---- JSON ---------------------------------------------------------------- */

static json_t *host_json(const struct store_host *h)
{
        const char *reasons[HOST_REASONS_MAX];
        size_t n = host_unpublishable_reasons(h->verification, h->contract, h->member_status,
                                              reasons, HOST_REASONS_MAX);
        json_t *arr = json_array();
        json_t *o;

        for (size_t i = 0; i < n && i < HOST_REASONS_MAX; i++)
                json_array_append_new(arr, json_string(reasons[i]));
        o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:o}",
                      "id", (json_int_t)h->id, "display_name", h->display_name,
                      "kind", h->kind, "verification", h->verification,
                      "verification_reason", h->verification_reason,
                      "contract", h->contract, "publishable", n == 0,
                      "reasons_not_publishable", arr);
        if (!o)
                return NULL;
        json_object_set_new(o, "verification_changed_at", api_time(h->verification_at));
        json_object_set_new(o, "contract_changed_at", api_time(h->contract_at));
        json_object_set_new(o, "created_at", api_time(h->created_at));
        json_object_set_new(o, "updated_at", api_time(h->updated_at));
        return o;
}

static const char *role_name(enum store_host_role role)
{
        return role == STORE_HOST_ROLE_HOST ? "host" :
               role == STORE_HOST_ROLE_ADMIN ? "admin" : "none";
}

/* ---- authorisation --------------------------------------------------------- */

static void host_not_found(struct api_ctx *c, int64_t id)
{
        problem_respond(c->res, 404, "host_not_found", "There is no host %lld.", (long long)id);
}

/* Like api_host_acting, and tells what the caller is to the host
 * (STORE_HOST_ROLE_NONE for an operator). */
static int host_acting_role(struct api_ctx *c, int64_t host_id, bool allow_operator,
                            enum store_host_role *role)
{
        int r = store_host_role(c->app->st, host_id, c->member_id, role);

        if (r == -ENOENT) {
                host_not_found(c, host_id);
                return r;
        }
        if (r < 0) {
                api_store_error(c, r, "host");
                return r;
        }
        if (*role != STORE_HOST_ROLE_NONE || (allow_operator && c->operator))
                return 0;
        problem_respond(c->res, 403, "not_host_actor",
                        "You may not act for host %lld: only the host itself, its "
                        "administrators%s may (CS-7).", (long long)host_id,
                        allow_operator ? " or an operator" : "");
        return -EACCES;
}

int api_host_acting(struct api_ctx *c, int64_t host_id, bool allow_operator)
{
        enum store_host_role role;

        return host_acting_role(c, host_id, allow_operator, &role);
}

/* Reads an integer query parameter in [min, max] (absent: *out unchanged);
 * renders 422 and returns -EINVAL when bad. */
int api_query_int(struct api_ctx *c, const char *key, int64_t min, int64_t max,
                  int64_t *out)
{
        char *v = NULL, *end = NULL;
        long long n = 0;
        int r = http_query_get(c->req->query, key, &v);
        bool ok = false;
        struct jv jv;

        if (r == 0)
                return 0;
        if (r > 0) {
                errno = 0;
                n = strtoll(v, &end, 10);
                ok = !errno && *v && !*end && n >= min && n <= max;
        }
        free(v);
        if (ok) {
                *out = n;
                return 0;
        }
        jv_init(&jv);
        jv_error(&jv, NULL, key, "invalid", "%s must be an integer from %lld to %lld.", key,
                 (long long)min, (long long)max);
        jv_render(&jv, c->res);
        return -EINVAL;
}

/* Reads an enum query parameter; *out is malloc'd (NULL when absent). */
static int query_enum(struct api_ctx *c, const char *key, bool (*valid)(const char *),
                      const char *allowed, char **out)
{
        struct jv jv;
        int r;

        *out = NULL;
        r = http_query_get(c->req->query, key, out);

        if (r == 0) {
                *out = NULL;
                return 0;
        }
        if (r > 0 && valid(*out))
                return 0;
        free(*out);
        *out = NULL;
        jv_init(&jv);
        jv_error(&jv, NULL, key, "invalid", "%s must be one of %s.", key, allowed);
        jv_render(&jv, c->res);
        return -EINVAL;
}

/* ---- POST/GET /api/v1/me/host -------------------------------------------------- */

/* Reads display_name (required): NULL after recording the error. */
static const char *read_display_name(struct jv *v, json_t *body)
{
        const char *why = NULL;
        const char *name = jv_str(v, body, NULL, "display_name", true, 4 * HOST_NAME_MAX_CHARS);

        if (name && member_name_valid(name, HOST_NAME_MAX_CHARS, &why) < 0) {
                jv_error(v, NULL, "display_name", "invalid", "display_name %s.", why);
                return NULL;
        }
        return name;
}

void api_me_host_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "display_name", NULL };
        const char *name;
        struct store_host h;
        struct jv v;
        json_t *body;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        name = read_display_name(&v, body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        if (c->operator) {
                json_decref(body);
                problem_respond(c->res, 403, "operator_cannot_host",
                                "An operator account cannot become a host.");
                return;
        }
        /* Only an active member gets here: api_dispatch refuses the others. */
        r = store_host_create(c->app->st, c->member_id, name, &c->actor, c->now);
        json_decref(body);
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "already_host",
                                "You are a host already: see GET /api/v1/me/host.");
                return;
        }
        if (r == 0)
                r = store_host_get(c->app->st, c->member_id, &h);
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        http_response_header(c->res, "Location", "/api/v1/me/host");
        api_json(c, 201, host_json(&h));
}

void api_me_host_get(struct api_ctx *c)
{
        struct store_host h;
        int r = store_host_get(c->app->st, c->member_id, &h);

        if (r == -ENOENT) {
                problem_respond(c->res, 404, "not_host",
                                "You are not a host; apply with POST /api/v1/me/host.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        api_json(c, 200, host_json(&h));
}

static void me_hosts_cb(const struct store_host *h, enum store_host_role role, void *ud)
{
        json_t *o = host_json(h);

        json_object_set_new(o, "role", json_string(role_name(role)));
        json_array_append_new(ud, o);
}

void api_me_hosts_list(struct api_ctx *c)
{
        json_t *items = json_array();
        int n = store_host_list_for_member(c->app->st, c->member_id, me_hosts_cb, items);

        if (n < 0) {
                json_decref(items);
                api_store_error(c, n, "host");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

/* ---- operator views -------------------------------------------------------------- */

struct host_list_acc {
        json_t *items;
        int64_t ids[HOST_LIST_MAX];
        int n;
        int64_t last;
};

static void host_list_cb(const struct store_host *h, void *ud)
{
        struct host_list_acc *a = ud;

        json_array_append_new(a->items, host_json(h));
        if (a->n < HOST_LIST_MAX)
                a->ids[a->n++] = h->id;
        a->last = h->id;
}

void api_hosts_list(struct api_ctx *c)
{
        struct store_host_filter f = { .limit = 50 };
        struct host_list_acc acc = { .items = json_array() };
        char *verification = NULL, *contract = NULL;
        int64_t limit = 50;
        int n;

        if (api_query_int(c, "after", 0, INT64_MAX, &f.after_id) < 0 ||
            api_query_int(c, "limit", 1, HOST_LIST_MAX, &limit) < 0 ||
            query_enum(c, "verification", host_verification_valid,
                       "pending, verified, rejected", &verification) < 0 ||
            query_enum(c, "contract", host_contract_valid, "none, active, ended",
                       &contract) < 0) {
                free(verification);
                json_decref(acc.items);
                return;
        }
        f.limit = (int)limit;
        f.verification = verification;
        f.contract = contract;
        n = store_host_list(c->app->st, &f, host_list_cb, &acc);
        free(verification);
        free(contract);
        /* PD-8: the operator read these hosts' data. */
        if (n > 0 && store_audit_append_many(c->app->st, &c->actor, acc.ids, (size_t)acc.n,
                                             "read", "host", c->now) < 0)
                n = -EIO;
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "host");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_after",
                                   n == f.limit ? json_integer(acc.last) : json_null()));
}

void api_host_get(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        enum store_host_role role;
        struct store_host h;
        json_t *o;
        int r;

        if (!id || host_acting_role(c, id, true, &role) < 0)
                return;
        r = store_host_get(c->app->st, id, &h);
        /* PD-8: reads by anyone but the host itself are recorded. */
        if (r == 0 && role != STORE_HOST_ROLE_HOST)
                r = store_audit_append(c->app->st, &c->actor, id, "read", "host", c->now);
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        o = host_json(&h);
        json_object_set_new(o, "role", json_string(c->operator && role == STORE_HOST_ROLE_NONE
                                                   ? "operator" : role_name(role)));
        api_json(c, 200, o);
}

/* PATCH /api/v1/hosts/{id} {display_name}: the host or an administrator
 * (CS-7), logged as host.rename. */
void api_host_patch(struct api_ctx *c)
{
        static const char *const allowed[] = { "display_name", NULL };
        int64_t id = api_param_id(c, "id");
        struct store_host h;
        const char *name;
        struct jv v;
        json_t *body;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        if (api_host_acting(c, id, false) < 0) {
                json_decref(body);
                return;
        }
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        name = read_display_name(&v, body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = store_host_rename(c->app->st, id, name, &c->actor, c->now);
        json_decref(body);
        if (r == 0)
                r = store_host_get(c->app->st, id, &h);
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        api_json(c, 200, host_json(&h));
}

/* Loads host id for an operator decision; renders 404/409 on failure. */
static int host_for_decision(struct api_ctx *c, int64_t id, struct store_host *h)
{
        int r = store_host_get(c->app->st, id, h);

        if (r == -ENOENT) {
                host_not_found(c, id);
                return r;
        }
        if (r < 0) {
                api_store_error(c, r, "host");
                return r;
        }
        if (strcmp(h->member_status, "withdrawn") == 0) {
                problem_respond(c->res, 409, "host_withdrawn",
                                "Host %lld's member has withdrawn.", (long long)id);
                return -ESTALE;
        }
        return 0;
}

void api_host_verification_put(struct api_ctx *c)
{
        static const char *const allowed[] = { "status", "reason", NULL };
        int64_t id = api_param_id(c, "id");
        const char *status, *reason;
        struct store_host h;
        struct jv v;
        json_t *body;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        status = jv_str(&v, body, NULL, "status", true, 16);
        reason = jv_str(&v, body, NULL, "reason", false, HOST_REASON_MAX_BYTES);
        if (status && !host_verification_valid(status))
                jv_error(&v, NULL, "status", "invalid",
                         "status must be pending, verified or rejected.");
        if (reason && *reason && member_name_valid(reason, HOST_REASON_MAX_BYTES, NULL) < 0)
                jv_error(&v, NULL, "reason", "invalid",
                         "reason must be text without control characters.");
        if (status && strcmp(status, "rejected") == 0 && (!reason || !*reason))
                jv_error(&v, NULL, "reason", "required",
                         "A rejection needs a reason the host can read.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = host_for_decision(c, id, &h);
        if (r == 0)
                r = store_host_set_verification(c->app->st, id, status, reason ? reason : "",
                                                &c->actor, c->now);
        json_decref(body);
        if (r == 0)
                r = store_host_get(c->app->st, id, &h);
        if (r < 0) {
                if (c->res->status == 0)
                        api_store_error(c, r, "host");
                return;
        }
        api_json(c, 200, host_json(&h));
}

void api_host_contract_put(struct api_ctx *c)
{
        static const char *const allowed[] = { "status", NULL };
        int64_t id = api_param_id(c, "id");
        const char *status;
        struct store_host h;
        struct jv v;
        json_t *body;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        status = jv_str(&v, body, NULL, "status", true, 16);
        if (status && !host_contract_settable(status))
                jv_error(&v, NULL, "status", "invalid", "status must be active or ended.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = host_for_decision(c, id, &h);
        if (r == 0)
                r = store_host_set_contract(c->app->st, id, status, &c->actor, c->now);
        json_decref(body);
        if (r == 0)
                r = store_host_get(c->app->st, id, &h);
        if (r < 0) {
                if (c->res->status == 0)
                        api_store_error(c, r, "host");
                return;
        }
        api_json(c, 200, host_json(&h));
}

/* ---- administrators (CS-7) ------------------------------------------------------ */

struct admins_acc {
        json_t *items;
        bool show_email;
};

static json_t *admin_json(const struct store_host_admin *a, bool show_email)
{
        json_t *o = json_pack("{s:I, s:I, s:I, s:o}", "member_id", (json_int_t)a->member_id,
                              "host_id", (json_int_t)a->host_id,
                              "appointed_by", (json_int_t)a->appointed_by,
                              "appointed_at", api_time(a->appointed_at));

        /* The email is the appointee's personal data: shown to the host
         * that typed it and to the operator, not to fellow administrators. */
        if (o && show_email)
                json_object_set_new(o, "email", json_string(a->email));
        return o;
}

static void admins_cb(const struct store_host_admin *a, void *ud)
{
        struct admins_acc *acc = ud;

        json_array_append_new(acc->items, admin_json(a, acc->show_email));
}

void api_host_admins_list(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        enum store_host_role role;
        struct admins_acc acc;
        int n;

        if (!id || host_acting_role(c, id, true, &role) < 0)
                return;
        acc.items = json_array();
        acc.show_email = role == STORE_HOST_ROLE_HOST || c->operator;
        n = store_host_admin_list(c->app->st, id, admins_cb, &acc);
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "administrator");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:I}", "items", acc.items, "max",
                                   (json_int_t)HOST_ADMINS_MAX(c)));
}

/* The host itself, of a corporation, manages its administrators. */
static int admin_manager(struct api_ctx *c, int64_t id)
{
        enum store_host_role role;
        struct store_host h;
        const char *code = NULL;
        int r;

        if (host_acting_role(c, id, false, &role) < 0)
                return -EACCES;
        r = store_host_get(c->app->st, id, &h);
        if (r < 0) {
                api_store_error(c, r, "host");
                return r;
        }
        r = host_admin_manage_check(h.kind, id, c->member_id, &code);
        if (r == -EPERM)
                problem_respond(c->res, 403, code,
                                "Only the host itself appoints and removes its administrators; "
                                "an administrator cannot (CS-7).");
        else if (r < 0)
                problem_respond(c->res, 409, code,
                                "Only a corporate host appoints administrators (CS-7); host "
                                "%lld is an individual.", (long long)id);
        return r;
}

void api_host_admin_add(struct api_ctx *c)
{
        static const char *const allowed[] = { "member_email", NULL };
        char norm[MEMBER_EMAIL_BUFSZ];
        int64_t id = api_param_id(c, "id");
        struct store_credentials who;
        struct store_host_admin a = { 0 };
        const char *email, *code = NULL, *why = NULL;
        struct jv v;
        json_t *body;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        if (admin_manager(c, id) < 0) {
                json_decref(body);
                return;
        }
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        email = jv_str(&v, body, NULL, "member_email", true, 300);
        if (email && member_email_normalize(email, norm, sizeof(norm), &why) < 0) {
                jv_error(&v, NULL, "member_email", "invalid", "member_email %s.", why);
        } else if (email) {
                r = store_member_credentials(c->app->st, norm, &who);
                if (r == -ENOENT) {
                        jv_error(&v, NULL, "member_email", "unknown_member",
                                 "No member has this email.");
                } else if (r < 0) {
                        jv_free(&v);
                        json_decref(body);
                        api_store_error(c, r, "member");
                        return;
                } else if (host_admin_appointee_check(id, who.member_id, who.status, who.role,
                                                      &code) < 0) {
                        jv_error(&v, NULL, "member_email", code,
                                 "This member cannot be appointed: %s.",
                                 strcmp(code, "cannot_appoint_self") == 0 ?
                                 "the host cannot administer itself" :
                                 strcmp(code, "member_not_active") == 0 ?
                                 "the account is not active" :
                                 "an operator cannot act for a host");
                }
        }
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        snprintf(a.email, sizeof(a.email), "%s", email);
        json_decref(body);
        r = store_host_admin_add(c->app->st, id, who.member_id, HOST_ADMINS_MAX(c), &c->actor,
                                 c->now);
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "already_admin",
                                "Member %lld is an administrator of this host already.",
                                (long long)who.member_id);
                return;
        }
        if (r == -ENOSPC) {
                problem_respond(c->res, 409, "too_many_admins",
                                "A host has at most %d administrators.", HOST_ADMINS_MAX(c));
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "administrator");
                return;
        }
        a.host_id = id;
        a.member_id = who.member_id;
        a.appointed_by = c->member_id;
        a.appointed_at = c->now;
        api_json(c, 201, admin_json(&a, true));
}

void api_host_admin_remove(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        int64_t member = id ? api_param_id(c, "member_id") : 0;
        int r;

        if (!member || admin_manager(c, id) < 0)
                return;
        r = store_host_admin_remove(c->app->st, id, member, &c->actor, c->now);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "admin_not_found",
                                "Member %lld is not an administrator of host %lld.",
                                (long long)member, (long long)id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "administrator");
                return;
        }
        c->res->status = 204;
}

/* ---- the CS-7 action log ----------------------------------------------------------- */

static void action_cb(const struct store_host_action *a, void *ud)
{
        json_array_append_new(ud, json_pack("{s:I, s:o, s:I, s:s, s:I, s:s, s:s, s:I, s:s}",
                                            "id", (json_int_t)a->id, "at", api_time(a->at),
                                            "actor_id", (json_int_t)a->actor_id,
                                            "actor_role", a->actor_role,
                                            "host_id", (json_int_t)a->principal_id,
                                            "action", a->action,
                                            "object_kind", a->object_kind,
                                            "object_id", (json_int_t)a->object_id,
                                            "request_id", a->request_id));
}

void api_host_actions_list(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        int64_t before = 0, limit = 100;
        json_t *items, *last;
        int n;

        if (!id || api_host_acting(c, id, true) < 0)
                return;
        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, HOST_LIST_MAX, &limit) < 0)
                return;
        items = json_array();
        n = store_host_action_list(c->app->st, id, before, (int)limit, action_cb, items);
        if (n < 0) {
                json_decref(items);
                api_store_error(c, n, "host action");
                return;
        }
        last = json_array_get(items, json_array_size(items) - 1);
        api_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_before",
                                   n == limit && last ?
                                   json_incref(json_object_get(last, "id")) : json_null()));
}
