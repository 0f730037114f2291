/*
 * slots.c - a host's reservation slots (CS-13): create one, create a
 * weekly pattern all or nothing, list, change and delete with the CS-16
 * guard. Only the host or its administrators write (api_host_acting);
 * the operator may read. A host that is not publishable (CS-8) cannot
 * publish or change slots (409 host_not_publishable with the reasons);
 * deleting stays possible. Every write records its CS-7 host action in
 * the same transaction (the store does that).
 *
 * Problem codes: charger_not_found, slot_not_found (404), slot_overlap
 * (409, names the existing slot), slot_in_use (409, CS-16, names the
 * reservation), host_not_publishable (409, reasons[]), validation_failed
 * (422: off_grid, in_past, beyond_horizon, not_after_start, out_of_range,
 * overnight, too_many_slots, no_slots, invalid).
 */
#include "api/api_slots.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_hosts.h"
#include "api/validate.h"
#include "domain/host.h"
#include "domain/slot.h"
#include "store/store_slot.h"
#include "util/timeutil.h"

/* ---- JSON and errors ------------------------------------------------------ */

static json_t *slot_json(const struct store_slot *s)
{
        json_t *o = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)s->id,
                              "charger_id", (json_int_t)s->charger_id,
                              "hourly_price", (json_int_t)s->hourly_price);

        if (!o)
                return NULL;
        json_object_set_new(o, "starts_at", api_time(s->starts_at));
        json_object_set_new(o, "ends_at", api_time(s->ends_at));
        json_object_set_new(o, "currency", json_string("JPY"));
        json_object_set_new(o, "created_at", api_time(s->created_at));
        json_object_set_new(o, "updated_at", api_time(s->updated_at));
        return o;
}

static void charger_not_found(struct api_ctx *c, int64_t id)
{
        problem_respond(c->res, 404, "charger_not_found", "There is no charger %lld.",
                        (long long)id);
}

static void slot_not_found(struct api_ctx *c, int64_t id)
{
        problem_respond(c->res, 404, "slot_not_found", "There is no slot %lld.", (long long)id);
}

static void host_not_publishable(struct api_ctx *c, const struct store_slot_charger *ch)
{
        const char *reasons[HOST_REASONS_MAX];
        size_t n = host_unpublishable_reasons(ch->verification, ch->contract, ch->member_status,
                                              reasons, HOST_REASONS_MAX);
        struct problem *p = problem_new(409, "host_not_publishable",
                                        "The host cannot publish slots until it is verified,"
                                        " has an active wallet contract and an active account"
                                        " (CS-8).");
        json_t *arr = json_array();

        for (size_t i = 0; i < n && i < HOST_REASONS_MAX; i++)
                json_array_append_new(arr, json_string(reasons[i]));
        problem_set_json(p, "reasons", arr);
        problem_render(p, c->res);
}

/* Renders a refused slot write (see store_slot.h for the errors). */
static void slot_write_error(struct api_ctx *c, int r, const struct store_slot_conflict *why,
                             int64_t charger_id, int64_t slot_id)
{
        struct problem *p;

        switch (r) {
        case -ENOENT:
                if (slot_id)
                        slot_not_found(c, slot_id);
                else
                        charger_not_found(c, charger_id);
                return;
        case -EPERM:
                host_not_publishable(c, &why->charger);
                return;
        case -EEXIST:
                p = problem_new(409, "slot_overlap", "The range overlaps slot %lld of this charger.",
                                (long long)why->slot.id);
                problem_set_json(p, "slot", slot_json(&why->slot));
                problem_render(p, c->res);
                return;
        case -EBUSY:
                p = problem_new(409, "slot_in_use",
                                "Reservation %lld (%s) lies in this slot: the slot cannot be"
                                " changed or deleted while it is pending or confirmed (CS-16).",
                                (long long)why->res.id, slot_res_status_name(why->res.status));
                problem_set_json(p, "reservation",
                                 json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)why->res.id,
                                           "status", slot_res_status_name(why->res.status),
                                           "starts_at", api_time(why->res.starts_at),
                                           "ends_at", api_time(why->res.ends_at)));
                problem_render(p, c->res);
                return;
        default:
                api_store_error(c, r, "slot");
        }
}

/* ---- request helpers -------------------------------------------------------------- */

static void slot_rules_from(const struct config *cfg, struct slot_rules *r)
{
        r->grid_minutes = cfg->charging_grid_minutes;
        r->max_hourly_price = cfg->charging_max_hourly_price;
        r->horizon_s = cfg->charging_slot_horizon;
        r->pattern_max_slots = cfg->charging_pattern_max_slots;
}

/* An RFC 3339 time field; false (error recorded) when present and bad or
 * required and absent. */
static bool read_time(struct jv *v, json_t *body, const char *key, bool required, int64_t *out,
                      bool *present)
{
        const char *s = jv_str(v, body, NULL, key, required, TIME_RFC3339_MAX);

        *present = s != NULL;
        if (!s)
                return !required && !json_object_get(body, key);
        if (time_parse_rfc3339(s, out) < 0) {
                jv_error(v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
                *present = false;
                return false;
        }
        return true;
}

/*
 * Loads the charger of the URL and checks the caller may act for its host.
 * Renders 404 (missing or deleted) or the api_host_acting problem; returns
 * 0 when allowed.
 */
static int charger_for_host(struct api_ctx *c, int64_t id, bool allow_operator,
                            struct store_slot_charger *ch)
{
        int r = store_slot_charger_get(c->app->st, id, ch);

        if (r == -ENOENT || (r == 0 && ch->listing.deleted)) {
                charger_not_found(c, id);
                return -ENOENT;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return r;
        }
        return api_host_acting(c, ch->host_id, allow_operator);
}

/* Records the domain's validation findings; rename maps a finding's field
 * to the request's (NULL: as is). Each field/code pair is reported once. */
static void add_issues(struct jv *v, const struct slot_issue *is, int n,
                       const char *(*rename)(const struct slot_issue *i), char (*seen)[48],
                       int *n_seen)
{
        for (int i = 0; i < n; i++) {
                const char *field = rename ? rename(&is[i]) : is[i].field;
                char key[48];
                bool dup = false;

                snprintf(key, sizeof(key), "%s/%s", field, is[i].code);
                for (int k = 0; seen && k < *n_seen; k++)
                        if (strcmp(seen[k], key) == 0)
                                dup = true;
                if (dup)
                        continue;
                if (seen && *n_seen < 16)
                        snprintf(seen[(*n_seen)++], 48, "%s", key);
                jv_error(v, NULL, field, is[i].code, "%s", is[i].detail);
        }
}

/* ---- POST /api/v1/chargers/{id}/slots ---------------------------------------------- */

void api_charger_slots_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "starts_at", "ends_at", "hourly_price", NULL };
        struct store_slot_charger ch;
        struct store_slot_conflict why;
        struct slot_issue is[SLOT_ISSUES_MAX];
        struct slot_rules rules;
        struct store_slot out;
        struct slot_range rg = { 0, 0 };
        int64_t id = api_param_id(c, "id"), price;
        bool has_s, has_e;
        json_t *body;
        struct jv v;
        int r;

        if (!id || charger_for_host(c, id, false, &ch) < 0)
                return;
        if (!ch.listing.host_publishable) {
                host_not_publishable(c, &ch);
                return;
        }
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        slot_rules_from(c->app->cfg, &rules);
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        read_time(&v, body, "starts_at", true, &rg.starts_at, &has_s);
        read_time(&v, body, "ends_at", true, &rg.ends_at, &has_e);
        price = jv_int(&v, body, NULL, "hourly_price", true, 0, rules.max_hourly_price, 0);
        json_decref(body);
        if (has_s && has_e)
                add_issues(&v, is, slot_validate(&rules, rg.starts_at, rg.ends_at, price, c->now,
                                                 is), NULL, NULL, NULL);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_slot_create(c->app->st, id, &rg, 1, price, "slot.create", &c->actor, c->now,
                              &out, &why);
        if (r < 0) {
                slot_write_error(c, r, &why, id, 0);
                return;
        }
        api_json(c, 201, slot_json(&out));
}

/* ---- POST /api/v1/chargers/{id}/slots/pattern ---------------------------------------- */

/* The pattern's request field a per-slot finding belongs to. */
static const char *pattern_field(const struct slot_issue *i)
{
        if (strcmp(i->code, "in_past") == 0)
                return "from_date";
        if (strcmp(i->code, "beyond_horizon") == 0)
                return "to_date";
        if (strcmp(i->field, "starts_at") == 0)
                return "start_time";
        if (strcmp(i->field, "ends_at") == 0)
                return "end_time";
        return i->field;
}

struct pattern_req {
        struct slot_pattern p;
        int64_t price;
};

static void read_pattern(struct jv *v, json_t *body, const struct slot_rules *rules,
                         struct pattern_req *pr)
{
        const char *from = jv_str(v, body, NULL, "from_date", true, 10);
        const char *to = jv_str(v, body, NULL, "to_date", true, 10);
        const char *st = jv_str(v, body, NULL, "start_time", true, 5);
        const char *et = jv_str(v, body, NULL, "end_time", true, 5);
        json_t *days = jv_array(v, body, NULL, "weekdays", true, 7), *d;
        bool ok_from = false, ok_to = false, ok_st = false, ok_et = false;
        size_t i;

        memset(pr, 0, sizeof(*pr));
        if (from && slot_parse_date(from, &pr->p.from_day) < 0)
                jv_error(v, NULL, "from_date", "invalid", "Must be a date YYYY-MM-DD.");
        else
                ok_from = from != NULL;
        if (to && slot_parse_date(to, &pr->p.to_day) < 0)
                jv_error(v, NULL, "to_date", "invalid", "Must be a date YYYY-MM-DD.");
        else
                ok_to = to != NULL;
        if (ok_from && ok_to && pr->p.to_day < pr->p.from_day)
                jv_error(v, NULL, "to_date", "before_from_date", "to_date is before from_date.");
        if (st && slot_parse_hhmm(st, false, &pr->p.start_min) < 0)
                jv_error(v, NULL, "start_time", "invalid", "Must be a time HH:MM.");
        else
                ok_st = st != NULL;
        if (et && slot_parse_hhmm(et, true, &pr->p.end_min) < 0)
                jv_error(v, NULL, "end_time", "invalid", "Must be a time HH:MM (24:00 allowed).");
        else
                ok_et = et != NULL;
        if (ok_st && ok_et && pr->p.end_min <= pr->p.start_min)
                jv_error(v, NULL, "end_time", "overnight",
                         "end_time must be after start_time: a pattern cannot run over the"
                         " night (make two patterns).");
        json_array_foreach(days, i, d) {
                int wd = slot_weekday_from_name(json_string_value(d));
                char idx[24];

                snprintf(idx, sizeof(idx), "%zu", i);
                if (wd < 0)
                        jv_error(v, "weekdays", idx, "invalid", "Must be one of mon, tue, wed,"
                                 " thu, fri, sat, sun.");
                else
                        pr->p.weekdays |= 1u << wd;
        }
        if (days && json_array_size(days) == 0)
                jv_error(v, NULL, "weekdays", "required", "Give at least one weekday.");
        pr->price = jv_int(v, body, NULL, "hourly_price", true, 0, rules->max_hourly_price, 0);
}

void api_charger_slots_pattern(struct api_ctx *c)
{
        static const char *const allowed[] = { "from_date", "to_date", "weekdays", "start_time",
                                               "end_time", "hourly_price", NULL };
        struct store_slot_charger ch;
        struct store_slot_conflict why;
        struct slot_issue is[SLOT_ISSUES_MAX];
        struct slot_rules rules;
        struct pattern_req pr;
        struct slot_range *ranges = NULL;
        struct store_slot *out = NULL;
        char seen[16][48];
        int n_seen = 0, n = 0, r;
        int64_t id = api_param_id(c, "id");
        json_t *body, *items;
        struct jv v;

        if (!id || charger_for_host(c, id, false, &ch) < 0)
                return;
        if (!ch.listing.host_publishable) {
                host_not_publishable(c, &ch);
                return;
        }
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        slot_rules_from(c->app->cfg, &rules);
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        read_pattern(&v, body, &rules, &pr);
        json_decref(body);
        if (jv_ok(&v)) {
                ranges = calloc((size_t)rules.pattern_max_slots, sizeof(*ranges));
                if (!ranges) {
                        jv_free(&v);
                        problem_respond(c->res, 500, "internal_error", "Out of memory.");
                        return;
                }
                n = slot_pattern_expand(&pr.p, ranges, (size_t)rules.pattern_max_slots);
                if (n == -E2BIG)
                        jv_error(&v, NULL, "to_date", "too_many_slots",
                                 "The pattern makes more than %lld slots.",
                                 (long long)rules.pattern_max_slots);
                else if (n == 0)
                        jv_error(&v, NULL, "weekdays", "no_slots",
                                 "No date in the range falls on the weekdays given.");
                else if (n < 0)
                        jv_error(&v, NULL, "end_time", "invalid", "The pattern is not valid.");
        }
        for (int i = 0; jv_ok(&v) && i < n; i++)
                add_issues(&v, is, slot_validate(&rules, ranges[i].starts_at, ranges[i].ends_at,
                                                 pr.price, c->now, is),
                           pattern_field, seen, &n_seen);
        if (!jv_ok(&v)) {
                free(ranges);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        out = calloc((size_t)n, sizeof(*out));
        r = out ? store_slot_create(c->app->st, id, ranges, (size_t)n, pr.price,
                                    "slot.create_pattern", &c->actor, c->now, out, &why)
                : -ENOMEM;
        free(ranges);
        if (r < 0) {
                free(out);
                slot_write_error(c, r, &why, id, 0);
                return;
        }
        items = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(items, slot_json(&out[i]));
        free(out);
        api_json(c, 201, json_pack("{s:i, s:o}", "created", n, "items", items));
}

/* ---- GET /api/v1/chargers/{id}/slots ------------------------------------------------ */

/* Reads an optional RFC 3339 query parameter; renders 422 on error. */
static int query_time(struct jv *v, struct api_ctx *c, const char *key, int64_t *out)
{
        char *s = NULL;
        int r = http_query_get(c->req->query, key, &s);

        if (r < 0) {
                jv_error(v, NULL, key, "invalid", "Bad percent-encoding.");
                return r;
        }
        if (r == 0)
                return 0;
        if (time_parse_rfc3339(s, out) < 0) {
                jv_error(v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
                r = -EINVAL;
        }
        free(s);
        return r;
}

void api_charger_slots_list(struct api_ctx *c)
{
        struct store_slot_charger ch;
        struct store_slot *items = NULL;
        int64_t id = api_param_id(c, "id"), from = c->now, to = 0;
        bool truncated = false;
        json_t *arr;
        struct jv v;
        int n;

        if (!id || charger_for_host(c, id, true, &ch) < 0)
                return;
        jv_init(&v);
        query_time(&v, c, "from", &from);
        query_time(&v, c, "to", &to);
        if (jv_ok(&v) && to && to <= from)
                jv_error(&v, NULL, "to", "not_after_from", "to must be after from.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        n = store_slot_list(c->app->st, id, from, to, STORE_SLOT_LIST_MAX, &items, &truncated);
        if (n < 0) {
                api_store_error(c, n, "slot");
                return;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, slot_json(&items[i]));
        free(items);
        api_json(c, 200, json_pack("{s:o, s:b}", "items", arr, "truncated", truncated));
}

/* ---- PATCH and DELETE /api/v1/slots/{id} ----------------------------------------------- */

/* Loads the slot and its charger and checks the caller acts for the host.
 * Renders the problem; returns 0 when allowed. */
static int slot_for_host(struct api_ctx *c, int64_t id, struct store_slot *s,
                         struct store_slot_charger *ch)
{
        int r = store_slot_get(c->app->st, id, s);

        if (r == 0)
                r = store_slot_charger_get(c->app->st, s->charger_id, ch);
        if (r == -ENOENT || (r == 0 && ch->listing.deleted)) {
                slot_not_found(c, id);
                return -ENOENT;
        }
        if (r < 0) {
                api_store_error(c, r, "slot");
                return r;
        }
        return api_host_acting(c, ch->host_id, false);
}

void api_slot_patch(struct api_ctx *c)
{
        static const char *const allowed[] = { "starts_at", "ends_at", "hourly_price", NULL };
        struct store_slot_charger ch;
        struct store_slot_conflict why;
        struct store_slot old, out;
        struct slot_issue is[SLOT_ISSUES_MAX], keep[SLOT_ISSUES_MAX];
        struct slot_rules rules;
        int64_t id = api_param_id(c, "id"), s_at, e_at, price;
        bool has_s = false, has_e = false;
        json_t *body;
        struct jv v;
        int n, nk = 0, r;

        if (!id || slot_for_host(c, id, &old, &ch) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        slot_rules_from(c->app->cfg, &rules);
        s_at = old.starts_at;
        e_at = old.ends_at;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        read_time(&v, body, "starts_at", false, &s_at, &has_s);
        read_time(&v, body, "ends_at", false, &e_at, &has_e);
        price = jv_int(&v, body, NULL, "hourly_price", false, 0, rules.max_hourly_price,
                       old.hourly_price);
        if (json_object_size(body) == 0)
                jv_error(&v, NULL, "starts_at", "required",
                         "Give at least one of starts_at, ends_at, hourly_price.");
        json_decref(body);
        if (jv_ok(&v)) {
                /* An unchanged start may lie in the past (a running slot may
                 * still get a new end); the end must stay in the future. */
                n = slot_validate(&rules, s_at, e_at, price, c->now, is);
                for (int i = 0; i < n; i++)
                        if (!(strcmp(is[i].code, "in_past") == 0 && s_at == old.starts_at))
                                keep[nk++] = is[i];
                if (e_at <= c->now && nk < SLOT_ISSUES_MAX)
                        keep[nk++] = (struct slot_issue){ "ends_at", "in_past",
                                                          "ends_at must be in the future." };
                add_issues(&v, keep, nk, NULL, NULL, NULL);
        }
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_slot_update(c->app->st, id, s_at, e_at, price, true, &c->actor, c->now, &out,
                              &why);
        if (r < 0) {
                slot_write_error(c, r, &why, old.charger_id, id);
                return;
        }
        api_json(c, 200, slot_json(&out));
}

void api_slot_delete(struct api_ctx *c)
{
        struct store_slot_charger ch;
        struct store_slot_conflict why;
        struct store_slot old;
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id || slot_for_host(c, id, &old, &ch) < 0)
                return;
        r = store_slot_delete(c->app->st, id, &c->actor, c->now, &why);
        if (r < 0) {
                slot_write_error(c, r, &why, old.charger_id, id);
                return;
        }
        c->res->status = 204;
}
