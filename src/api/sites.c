/*
 * sites.c - sites and the simultaneous-use limit option (CS-12, art 10-1).
 *
 * Chargers at one place form a site of one host; they join it with
 * site_id on create or PATCH (chargers.c). The host (or an administrator)
 * applies for a limit N; an operator approves it with a start date (and
 * may grant another N than asked) or rejects it with a reason. Approval
 * writes the site's limit and start date in the same transaction.
 * Enforcing the limit at check-in is part 2.
 */
#include "api/api_chargers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_hosts.h"
#include "api/validate.h"
#include "domain/charger.h"
#include "domain/member.h"
#include "store/store_charger.h"
#include "util/cleanup.h"

#define SITE_NAME_MAX_BYTES 400
#define SITE_NOTE_MAX_BYTES 4000
#define LIMIT_LIST_MAX 200

static json_t *date_or_null(const char *d)
{
        return d && d[0] ? json_string(d) : json_null();
}

static json_t *site_json(const struct store_site *s)
{
        json_t *o = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)s->id, "host_id",
                              (json_int_t)s->host_id, "name", s->name);

        json_object_set_new(o, "limit", s->limit_n ? json_integer(s->limit_n) : json_null());
        json_object_set_new(o, "starts_on", date_or_null(s->limit_starts_on));
        json_object_set_new(o, "created_at", api_time(s->created_at));
        json_object_set_new(o, "updated_at", api_time(s->updated_at));
        return o;
}

static json_t *application_json(const struct store_limit_application *a)
{
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "id", (json_int_t)a->id,
                              "site_id", (json_int_t)a->site_id, "host_id",
                              (json_int_t)a->host_id, "requested_limit",
                              (json_int_t)a->requested_limit, "note", a->note, "status",
                              a->status);

        json_object_set_new(o, "approved_limit",
                            a->approved_limit ? json_integer(a->approved_limit) : json_null());
        json_object_set_new(o, "starts_on", date_or_null(a->starts_on));
        json_object_set_new(o, "reason", a->reason[0] ? json_string(a->reason) : json_null());
        json_object_set_new(o, "applied_by", json_integer(a->applied_by));
        json_object_set_new(o, "applied_at", api_time(a->applied_at));
        json_object_set_new(o, "decided_by", a->decided_by ? json_integer(a->decided_by)
                                                           : json_null());
        json_object_set_new(o, "decided_at", api_time(a->decided_at));
        return o;
}

static void site_not_found(struct api_ctx *c, int64_t id)
{
        problem_respond(c->res, 404, "site_not_found", "There is no site %lld.", (long long)id);
}

/* Loads the {id} site when the caller may act for its host; 0 or <0
 * after rendering the refusal. */
static int site_for_actor(struct api_ctx *c, bool allow_operator, struct store_site *s)
{
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return -ENOENT;
        r = store_site_get(c->app->st, id, s);
        if (r == -ENOENT) {
                site_not_found(c, id);
                return r;
        }
        if (r < 0) {
                api_store_error(c, r, "site");
                return r;
        }
        return api_host_acting(c, s->host_id, allow_operator);
}

void api_host_sites_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "name", NULL };
        int64_t host_id = api_param_id(c, "host_id"), id = 0;
        struct store_site s;
        const char *name, *why = NULL;
        struct jv v;
        json_t *body;
        int r;

        if (!host_id || api_host_acting(c, host_id, false) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        name = jv_str(&v, body, NULL, "name", true, SITE_NAME_MAX_BYTES);
        if (name && member_name_valid(name, SITE_NAME_MAX_BYTES / 4, &why) < 0)
                jv_error(&v, NULL, "name", "invalid", "name %s.", why);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_site_create(c->app->st, host_id, name, &c->actor, c->now, &id);
        json_decref(body);
        if (r == 0)
                r = store_site_get(c->app->st, id, &s);
        if (r < 0) {
                api_store_error(c, r, "site");
                return;
        }
        json_t *o = site_json(&s);

        json_object_set_new(o, "chargers", json_array());
        api_json(c, 201, o);
}

static void site_list_cb(const struct store_site *s, void *ud)
{
        json_array_append_new(ud, site_json(s));
}

void api_host_sites_list(struct api_ctx *c)
{
        int64_t host_id = api_param_id(c, "host_id");
        json_t *items;
        int r;

        if (!host_id || api_host_acting(c, host_id, true) < 0)
                return;
        items = json_array();
        r = store_site_list(c->app->st, host_id, site_list_cb, items);
        if (r < 0) {
                json_decref(items);
                api_store_error(c, r, "sites");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

static void site_charger_cb(const struct store_charger *ch, void *ud)
{
        struct charger_status cs;
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:f}", "id", (json_int_t)ch->id, "kind",
                              ch->kind, "maker", ch->maker, "model", ch->model, "output_kw",
                              (double)ch->output_w / 1000.0);

        store_charger_status(ch, &cs);
        json_object_set_new(o, "bookable", json_boolean(charger_bookable(&cs)));
        json_array_append_new(ud, o);
}

static void application_cb(const struct store_limit_application *a, void *ud)
{
        json_array_append_new(ud, application_json(a));
}

void api_site_get(struct api_ctx *c)
{
        struct store_site s;
        json_t *o, *chargers, *apps;
        int r;

        if (site_for_actor(c, true, &s) < 0)
                return;
        chargers = json_array();
        apps = json_array();
        r = store_site_chargers(c->app->st, s.id, site_charger_cb, chargers);
        if (r >= 0)
                r = store_limit_list(c->app->st, NULL, s.id, 0, LIMIT_LIST_MAX, application_cb,
                                     apps);
        if (r < 0) {
                json_decref(chargers);
                json_decref(apps);
                api_store_error(c, r, "site");
                return;
        }
        o = site_json(&s);
        json_object_set_new(o, "chargers", chargers);
        json_object_set_new(o, "limit_applications", apps);
        api_json(c, 200, o);
}

void api_site_limit_apply(struct api_ctx *c)
{
        static const char *const allowed[] = { "limit", "note", NULL };
        struct store_limit_application a;
        struct store_site s;
        const char *note;
        int64_t limit, id = 0;
        struct jv v;
        json_t *body;
        int r;

        if (site_for_actor(c, false, &s) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        limit = jv_int(&v, body, NULL, "limit", true, 1, c->app->cfg->charging_site_max_limit, 0);
        note = jv_str(&v, body, NULL, "note", false, SITE_NOTE_MAX_BYTES);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_limit_apply(c->app->st, s.id, limit, note ? note : "", &c->actor, c->now, &id);
        json_decref(body);
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "application_pending",
                                "Site %lld has a limit application awaiting the operator's "
                                "decision.", (long long)s.id);
                return;
        }
        if (r == 0)
                r = store_limit_get(c->app->st, id, &a);
        if (r < 0) {
                api_store_error(c, r, "limit application");
                return;
        }
        api_json(c, 201, application_json(&a));
}

void api_limit_applications_list(struct api_ctx *c)
{
        char *status = NULL;
        json_t *items;
        int r;

        r = http_query_get(c->req->query, "status", &status);
        if (r < 0 || (r > 0 && strcmp(status, "pending") != 0 &&
                      strcmp(status, "approved") != 0 && strcmp(status, "rejected") != 0)) {
                struct jv v;

                free(status);
                jv_init(&v);
                jv_error(&v, NULL, "status", "invalid",
                         "status must be pending, approved or rejected.");
                jv_render(&v, c->res);
                return;
        }
        items = json_array();
        r = store_limit_list(c->app->st, status, 0, 0, LIMIT_LIST_MAX, application_cb, items);
        free(status);
        if (r < 0) {
                json_decref(items);
                api_store_error(c, r, "limit applications");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

/* starts_on: YYYY-MM-DD, a real date, not before today in Tokyo. */
static void check_starts_on(struct jv *v, const char *s, int64_t now)
{
        int y, m, d, ty, tm, td;

        if (!s)
                return;
        if (member_date_parse(s, &y, &m, &d) < 0) {
                jv_error(v, NULL, "starts_on", "invalid", "starts_on must be a YYYY-MM-DD date.");
                return;
        }
        if (member_tokyo_date(now, &ty, &tm, &td) < 0)
                return;
        if (y * 10000 + m * 100 + d < ty * 10000 + tm * 100 + td)
                jv_error(v, NULL, "starts_on", "in_past",
                         "starts_on must be today or later (Asia/Tokyo).");
}

void api_limit_application_decide(struct api_ctx *c)
{
        static const char *const allowed[] = { "decision", "limit", "starts_on", "reason", NULL };
        int64_t id = api_param_id(c, "id"), limit = 0;
        struct store_limit_application a;
        const char *decision, *starts_on = NULL, *reason = NULL;
        bool approve = false;
        struct jv v;
        json_t *body;
        int r;

        if (!id)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        decision = jv_str(&v, body, NULL, "decision", true, 16);
        if (decision && strcmp(decision, "approved") == 0) {
                approve = true;
                limit = jv_int(&v, body, NULL, "limit", true, 1,
                               c->app->cfg->charging_site_max_limit, 0);
                starts_on = jv_str(&v, body, NULL, "starts_on", true, 10);
                check_starts_on(&v, starts_on, c->now);
                reason = jv_str(&v, body, NULL, "reason", false, SITE_NOTE_MAX_BYTES);
        } else if (decision && strcmp(decision, "rejected") == 0) {
                reason = jv_str(&v, body, NULL, "reason", true, SITE_NOTE_MAX_BYTES);
                if (json_object_get(body, "limit"))
                        jv_error(&v, NULL, "limit", "not_allowed",
                                 "A rejection grants no limit.");
                if (json_object_get(body, "starts_on"))
                        jv_error(&v, NULL, "starts_on", "not_allowed",
                                 "A rejection has no start date.");
        } else if (decision) {
                jv_error(&v, NULL, "decision", "invalid", "decision must be approved or rejected.");
        }
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_limit_decide(c->app->st, id, approve, limit, starts_on, reason ? reason : "",
                               &c->actor, c->now);
        json_decref(body);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "application_not_found",
                                "There is no limit application %lld.", (long long)id);
                return;
        }
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "application_decided",
                                "Limit application %lld was decided already; a decision is "
                                "final.", (long long)id);
                return;
        }
        if (r == 0)
                r = store_limit_get(c->app->st, id, &a);
        if (r < 0) {
                api_store_error(c, r, "limit application");
                return;
        }
        api_json(c, 200, application_json(&a));
}
