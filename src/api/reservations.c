/*
 * reservations.c - the reservation lifecycle over HTTP (issue 5, CS-14 to
 * CS-35): requests and on-site bookings, the host's decisions, the user's
 * withdrawal, cancellation, check-in/out, early use and extension, the
 * operator's findings with substitute chargers, the lists, the event log,
 * receipts, and the hosts' iCalendar feeds.
 *
 * Thin handlers: parse, authorise (the user of the reservation, an actor
 * of its host, or the operator), call store_resv (which asks the domain
 * and moves the money in one transaction), render. Every refusal is a
 * problem with a stable code; an illegal transition is 409 naming the
 * current state.
 */
#include "api/api.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_hosts.h"
#include "api/api_resv.h"
#include "api/mailer.h"
#include "api/validate.h"
#include "domain/charger.h"
#include "domain/geo.h"
#include "domain/host.h"
#include "domain/withdrawal.h"
#include "store/store_charger.h"
#include "store/store_host.h"
#include "store/store_resv.h"
#include "store/store_search.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/ical.h"
#include "util/timeutil.h"

#define RESV_LIST_MAX 200
#define ICAL_PREFIX "ical_"
/* The substitute search radius (CS-28). */
#define SUBSTITUTE_RADIUS_M 20000

void api_resv_rules(const struct config *cfg, struct resv_rules *r)
{
        resv_rules_default(r);
        r->user_free_before_s = cfg->resv_cancel_free_before;
        r->user_half_before_s = cfg->resv_cancel_half_before;
        r->user_half_pct = cfg->resv_cancel_half_pct;
        r->user_late_pct = cfg->resv_cancel_late_pct;
        r->host_self_before_s = cfg->resv_host_self_cancel_before;
        r->host_cancel_fee = cfg->resv_host_cancel_fee;
        r->nonperformance_fee = cfg->resv_nonperformance_fee;
        r->substitute_within_s = cfg->resv_substitute_within;
        r->platform_fee_pct = cfg->resv_platform_fee_pct;
        r->penalty_share_pct = cfg->resv_penalty_share_pct;
        r->overstay_multiplier = cfg->resv_overstay_multiplier;
        r->unproven_overtime_s = cfg->resv_unproven_overtime;
        r->unproven_max_booking_s = cfg->resv_unproven_max_booking;
        r->overdue_close_after_s = cfg->resv_overdue_close_after;
        r->request_expiry_s = cfg->resv_request_expiry;
        r->grid_s = cfg->charging_grid_minutes * 60;
        r->checkin_distance_m = cfg->resv_checkin_distance_m;
}

/* ---- rendering --------------------------------------------------------------------- */

json_t *api_resv_json(const struct store_resv *r)
{
        json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:I,"
                              " s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
                              "id", (json_int_t)r->id, "charger_id", (json_int_t)r->charger_id,
                              "host_id", (json_int_t)r->host_id,
                              "user_id", (json_int_t)r->user_id,
                              "vehicle_id", (json_int_t)r->vehicle_id,
                              "state", resv_state_name(r->state), "onsite", r->onsite,
                              "fee", (json_int_t)r->fee,
                              "hourly_price", (json_int_t)r->hourly_price,
                              "extension_fee", (json_int_t)r->extension_fee,
                              "held", (json_int_t)r->hold_amount,
                              "charged", (json_int_t)r->charged,
                              "platform_fee", (json_int_t)r->platform_fee,
                              "refunded", (json_int_t)r->refunded,
                              "overtime_seconds", (json_int_t)r->overtime_s,
                              "penalty", (json_int_t)r->penalty,
                              "penalty_paid", (json_int_t)r->penalty_paid,
                              "host_fee", (json_int_t)r->host_fee,
                              "currency", "JPY", "message", r->message);

        if (!o)
                return NULL;
        json_object_set_new(o, "starts_at", api_time(r->starts_at));
        json_object_set_new(o, "ends_at", api_time(r->ends_at));
        json_object_set_new(o, "expires_at", r->state == RESV_REQUESTED ? api_time(r->expires_at)
                                                                        : json_null());
        json_object_set_new(o, "checked_in_at", api_time(r->checked_in_at));
        json_object_set_new(o, "checked_out_at", api_time(r->checked_out_at));
        json_object_set_new(o, "closed_at", api_time(r->closed_at));
        json_object_set_new(o, "created_at", api_time(r->created_at));
        json_object_set_new(o, "updated_at", api_time(r->updated_at));
        return o;
}

static json_t *money_json(const struct store_resv_money *m)
{
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                         "charged", (json_int_t)m->charged,
                         "platform_fee", (json_int_t)m->platform_fee,
                         "host_received", (json_int_t)m->host_net,
                         "refunded", (json_int_t)m->refunded,
                         "penalty", (json_int_t)m->penalty,
                         "penalty_paid", (json_int_t)m->penalty_paid,
                         "penalty_owed", (json_int_t)m->penalty_owed,
                         "penalty_share", (json_int_t)m->penalty_share,
                         "host_fee", (json_int_t)m->host_fee,
                         "host_fee_paid", (json_int_t)m->host_fee_paid,
                         "host_fee_owed", (json_int_t)m->host_fee_owed,
                         "held_change", (json_int_t)m->held_diff);
}

/* Renders a store refusal as its problem. */
static void resv_error(struct api_ctx *c, int r, const struct store_resv_why *why)
{
        struct problem *p;

        switch (r) {
        case -EPERM:
                p = problem_new(409, "invalid_transition",
                                "This is not possible while the reservation is %s.",
                                resv_state_name(why->state));
                problem_set_str(p, "state", resv_state_name(why->state));
                break;
        case -EACCES:
                p = problem_new(403, "operator_required",
                                "From 168 hours before the start a host cancels only through "
                                "the operator (CS-17).");
                break;
        case -ENOSPC:
                p = problem_new(409, "insufficient_funds",
                                "The wallet has %lld yen available; %lld yen are needed.",
                                (long long)why->available, (long long)why->needed);
                problem_set_int(p, "available", why->available);
                problem_set_int(p, "needed", why->needed);
                problem_set_int(p, "shortfall", why->needed - why->available);
                break;
        case -EADDRINUSE:
                p = problem_new(409, "range_taken",
                                "The charger is already reserved in that time range.");
                break;
        case -ERANGE:
                p = problem_new(422, "not_in_slots",
                                "The time range is not inside the charger's reservation slots.");
                problem_add_error(p, "ends_at", "not_in_slots", "Outside the offered slots.");
                break;
        case -EDQUOT:
                p = problem_new(409, "site_limit_reached",
                                "The site allows %lld chargers in use at once; that many are in "
                                "use now (CS-12).", (long long)why->limit);
                problem_set_int(p, "limit", why->limit);
                break;
        case -ETIME:
                p = problem_new(409, "outside_booking_time",
                                "This step is not possible at this time of the booking.");
                break;
        case -ENOLINK:
                p = problem_new(403, "debt_outstanding",
                                "You owe %lld yen; top up your wallet to pay it before booking "
                                "again (CS-34).", (long long)why->needed);
                problem_set_int(p, "owed", why->needed);
                break;
        case -ENOTCONN:
                p = problem_new(409, "charger_not_bookable", "The charger cannot be booked: %s.",
                                why->reason ? why->reason : "unavailable");
                problem_set_str(p, "reason", why->reason ? why->reason : "unavailable");
                break;
        case -EINVAL:
                p = problem_new(422, "invalid_range",
                                "The time range must lie on the booking grid, end after it "
                                "starts and not be longer than allowed.");
                break;
        default:
                api_store_error(c, r, "reservation");
                return;
        }
        problem_render(p, c->res);
}

/* ---- loading and authorising -------------------------------------------------------- */

enum resv_party { PARTY_USER = 1, PARTY_HOST = 2, PARTY_OPERATOR = 4 };

/*
 * Loads the reservation of the URL and checks the caller is one of the
 * parties in `allowed`; *as gets which. Renders 404 (also for a caller
 * who is no party: the id of another member's booking is not disclosed)
 * or 403 and returns <0.
 */
static int resv_load(struct api_ctx *c, unsigned allowed, struct store_resv *r, unsigned *as)
{
        int64_t id = api_param_id(c, "id");
        enum store_host_role role;
        int rc;

        if (!id)
                return -ENOENT;
        rc = store_resv_get(c->app->st, id, r);
        if (rc < 0) {
                api_store_error(c, rc, "reservation");
                return rc;
        }
        if ((allowed & PARTY_USER) && r->user_id == c->member_id) {
                *as = PARTY_USER;
                return 0;
        }
        if ((allowed & PARTY_OPERATOR) && c->operator) {
                *as = PARTY_OPERATOR;
                return 0;
        }
        if (allowed & PARTY_HOST) {
                rc = store_host_role(c->app->st, r->host_id, c->member_id, &role);
                if (rc == 0 && role != STORE_HOST_ROLE_NONE) {
                        *as = PARTY_HOST;
                        return 0;
                }
        }
        if (r->user_id == c->member_id || c->operator) {
                problem_respond(c->res, 403, "not_allowed",
                                "You may not do this with this reservation.");
                return -EACCES;
        }
        problem_respond(c->res, 404, "not_found", "No such reservation.");
        return -ENOENT;
}

static const char *party_role(unsigned as)
{
        return as == PARTY_USER ? "user" : as == PARTY_HOST ? "host" : "operator";
}

/* Runs a step for the caller and renders the reservation (plus money and
 * extra, which is consumed; may be NULL). */
static void resv_step(struct api_ctx *c, const struct store_resv *r, struct store_resv_step *s,
                      unsigned as)
{
        struct resv_rules rules;
        struct store_resv out;
        struct store_resv_money m;
        struct store_resv_why why;
        json_t *o;
        int rc;

        api_resv_rules(c->app->cfg, &rules);
        s->actor_id = c->member_id;
        s->actor_role = party_role(as);
        s->max_duration_s = c->app->cfg->resv_max_duration;
        rc = store_resv_apply(c->app->st, r->id, s, &rules, c->now, &out, &m, &why);
        if (rc < 0) {
                resv_error(c, rc, &why);
                return;
        }
        mailer_kick(c->app->mailer);    /* the notices of the step */
        o = api_resv_json(&out);
        if (o)
                json_object_set_new(o, "money", money_json(&m));
        api_json(c, 200, o);
}

/* Reads an optional body of allowed fields (an empty body is fine). */
static int body_or_empty(struct api_ctx *c, json_t **body)
{
        if (c->req->body_len == 0) {
                *body = json_object();
                return *body ? 0 : -ENOMEM;
        }
        return api_body_object(c->req, c->res, body);
}

/* An RFC 3339 time field. */
static int64_t read_time(struct jv *v, json_t *body, const char *key)
{
        const char *s = jv_str(v, body, NULL, key, true, TIME_RFC3339_MAX);
        int64_t t = 0;

        if (s && time_parse_rfc3339(s, &t) < 0)
                jv_error(v, NULL, key, "invalid", "Must be an RFC 3339 time with an offset.");
        return t;
}

/* ---- requests ------------------------------------------------------------------------- */

/* CS-23: declarations valid through the booking, a registered EV/PHEV. */
static int driver_check(struct api_ctx *c, int64_t until)
{
        const char *reasons[DRIVER_REASONS_MAX];
        struct store_member me;
        struct store_driver d;
        struct driver_state ds = { 0 };
        size_t n = 0;
        int rc = store_member_get(c->app->st, c->member_id, &me);
        int has_driver;

        if (rc < 0) {
                api_store_error(c, rc, "member");
                return rc;
        }
        rc = store_driver_get(c->app->st, c->member_id, &d);
        has_driver = rc == 0;
        if (rc < 0 && rc != -ENOENT) {
                api_store_error(c, rc, "driver");
                return rc;
        }
        ds.member_kind = me.kind;
        ds.member_status = me.status;
        if (has_driver) {
                ds.licence_expires_on = d.licence_expires_on;
                ds.compulsory_insurance_expires_on = d.compulsory_insurance_expires_on;
                ds.voluntary_insurance_expires_on = d.voluntary_insurance_expires_on;
        }
        ds.vehicles = 1;        /* the named vehicle is checked by the store */
        if (driver_can_book(&ds, until, reasons, DRIVER_REASONS_MAX, &n) == 1)
                return 0;
        struct problem *p = problem_new(403, n > 0 && strcmp(reasons[0],
                                                             "corporation_cannot_be_user") == 0
                                                     ? "corporation_cannot_be_user"
                                                     : "cannot_book",
                                        "You cannot book yet: %s (CS-23).",
                                        n > 0 ? reasons[0] : "not allowed");
        json_t *rs = json_array();

        for (size_t i = 0; i < n && i < DRIVER_REASONS_MAX; i++)
                json_array_append_new(rs, json_string(reasons[i]));
        problem_set_json(p, "reasons", rs);
        problem_render(p, c->res);
        return -EPERM;
}

static void resv_create_common(struct api_ctx *c, struct store_resv_new *n)
{
        struct resv_rules rules;
        struct store_resv out;
        struct store_resv_why why;
        int rc;

        if (n->ends_at - n->starts_at > c->app->cfg->resv_max_duration) {
                problem_respond(c->res, 422, "invalid_range",
                                "A booking may last at most %lld minutes.",
                                (long long)(c->app->cfg->resv_max_duration / 60));
                return;
        }
        if (driver_check(c, n->ends_at) < 0)
                return;
        api_resv_rules(c->app->cfg, &rules);
        /* A debt left by a top-up that was not followed by its settlement
         * (a crash in between) is paid now if the wallet can (CS-34). */
        rc = store_resv_settle_debts(c->app->st, n->user_id, &rules, c->now, NULL);
        if (rc < 0) {
                api_store_error(c, rc, "wallet");
                return;
        }
        rc = store_resv_request(c->app->st, n, &rules, c->now, &out, &why);
        if (rc == -ENOENT) {
                problem_respond(c->res, 404, "not_found", "No such charger or vehicle of yours.");
                return;
        }
        if (rc < 0) {
                resv_error(c, rc, &why);
                return;
        }
        mailer_kick(c->app->mailer);
        api_json(c, 201, api_resv_json(&out));
}

void api_resv_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "charger_id", "vehicle_id", "starts_at",
                                               "ends_at", NULL };
        struct store_resv_new n = { 0 };
        struct jv v;
        json_t *body;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        n.charger_id = jv_int(&v, body, NULL, "charger_id", true, 1, INT64_MAX, 0);
        n.vehicle_id = jv_int(&v, body, NULL, "vehicle_id", true, 1, INT64_MAX, 0);
        n.starts_at = read_time(&v, body, "starts_at");
        n.ends_at = read_time(&v, body, "ends_at");
        n.user_id = c->member_id;
        if (jv_ok(&v) && n.starts_at <= c->now)
                jv_error(&v, NULL, "starts_at", "in_past",
                         "A request must start in the future; book on site from now instead.");
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        resv_create_common(c, &n);
}

/* The QR token must be the charger's current one (CS-26, CS-29). */
static int token_matches(struct api_ctx *c, int64_t charger_id, const char *token,
                         struct store_charger *ch)
{
        char hash[CRYPTO_HASH_HEX];
        int rc = store_charger_get(c->app->st, charger_id, ch);

        if (rc < 0) {
                api_store_error(c, rc, "charger");
                return rc;
        }
        crypto_token_hash(token, hash);
        if (!crypto_streq(ch->qr_token_hash, hash)) {
                problem_respond(c->res, 403, "qr_token_invalid",
                                "That is not this charger's code; scan the code on the charger.");
                return -EACCES;
        }
        return 0;
}

void api_resv_onsite(struct api_ctx *c)
{
        static const char *const allowed[] = { "charger_id", "vehicle_id", "qr_token",
                                               "minutes", NULL };
        int64_t grid = c->app->cfg->charging_grid_minutes * 60, minutes, local;
        struct store_resv_new n = { 0 };
        struct store_charger ch;
        const char *token;
        struct jv v;
        json_t *body;
        int rc;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        n.charger_id = jv_int(&v, body, NULL, "charger_id", true, 1, INT64_MAX, 0);
        n.vehicle_id = jv_int(&v, body, NULL, "vehicle_id", true, 1, INT64_MAX, 0);
        token = jv_str(&v, body, NULL, "qr_token", true, 256);
        minutes = jv_int(&v, body, NULL, "minutes", true, grid / 60,
                         c->app->cfg->resv_max_duration / 60, 0);
        if (jv_ok(&v) && (minutes * 60) % grid != 0)
                jv_error(&v, NULL, "minutes", "off_grid", "Must be a multiple of %lld minutes.",
                         (long long)(grid / 60));
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        rc = token_matches(c, n.charger_id, token, &ch);
        json_decref(body);
        if (rc < 0)
                return;
        /* From the grid step holding now (D-31), for the chosen duration. */
        local = c->now + TIME_DISPLAY_OFFSET_S;
        n.starts_at = c->now - ((local % grid) + grid) % grid;
        n.ends_at = n.starts_at + minutes * 60;
        n.user_id = c->member_id;
        n.onsite = true;
        resv_create_common(c, &n);
}

/* ---- the steps ---------------------------------------------------------------------------- */

/* A step with an optional {"reason"/"message"} body. */
static void simple_step(struct api_ctx *c, unsigned allowed, enum resv_event ev,
                        const char *text_key)
{
        const char *const keys[] = { text_key, NULL };
        struct store_resv_step s = { .ev = ev };
        struct store_resv r;
        unsigned as;
        struct jv v;
        json_t *body;

        if (resv_load(c, allowed, &r, &as) < 0)
                return;
        if (body_or_empty(c, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, keys);
        s.reason = jv_str(&v, body, NULL, text_key, false, RESV_MESSAGE_MAX);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        s.operator = as == PARTY_OPERATOR;
        resv_step(c, &r, &s, as);
        json_decref(body);
}

void api_resv_approve(struct api_ctx *c)
{
        simple_step(c, PARTY_HOST, RESV_EV_APPROVE, "message");
}

void api_resv_reject(struct api_ctx *c)
{
        simple_step(c, PARTY_HOST, RESV_EV_REJECT, "message");
}

void api_resv_withdraw(struct api_ctx *c)
{
        simple_step(c, PARTY_USER, RESV_EV_WITHDRAW, "reason");
}

void api_resv_cancel(struct api_ctx *c)
{
        simple_step(c, PARTY_USER, RESV_EV_CANCEL_USER, "reason");
}

void api_resv_host_cancel(struct api_ctx *c)
{
        simple_step(c, PARTY_HOST | PARTY_OPERATOR, RESV_EV_CANCEL_HOST, "reason");
}

void api_resv_check_out(struct api_ctx *c)
{
        simple_step(c, PARTY_USER, RESV_EV_CHECK_OUT, "note");
}

/* CS-29: the code token and, where sent, a location near the charger. */
void api_resv_check_in(struct api_ctx *c)
{
        static const char *const allowed[] = { "qr_token", "latitude", "longitude", NULL };
        struct store_resv_step s = { .ev = RESV_EV_CHECK_IN };
        struct resv_rules rules;
        struct store_charger ch;
        struct store_resv r;
        const char *token;
        json_t *body, *la, *lo;
        double lat = 0, lon = 0;
        unsigned as;
        struct jv v;

        if (resv_load(c, PARTY_USER, &r, &as) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        token = jv_str(&v, body, NULL, "qr_token", true, 256);
        la = json_object_get(body, "latitude");
        lo = json_object_get(body, "longitude");
        if ((la != NULL) != (lo != NULL))
                jv_error(&v, NULL, la ? "longitude" : "latitude", "required",
                         "Send latitude and longitude together.");
        if (la && lo) {
                lat = json_number_value(la);
                lon = json_number_value(lo);
                if (!json_is_number(la) || !isfinite(lat) || lat < -90 || lat > 90)
                        jv_error(&v, NULL, "latitude", "invalid", "Degrees from -90 to 90.");
                if (!json_is_number(lo) || !isfinite(lon) || lon < -180 || lon > 180)
                        jv_error(&v, NULL, "longitude", "invalid", "Degrees from -180 to 180.");
        }
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        if (token_matches(c, r.charger_id, token, &ch) < 0) {
                json_decref(body);
                return;
        }
        json_decref(body);
        if (la && lo) {
                double d = geo_distance_m(lat, lon, geo_from_e6(ch.lat_e6), geo_from_e6(ch.lon_e6));

                api_resv_rules(c->app->cfg, &rules);
                if (!resv_checkin_distance_ok(&rules, d)) {
                        struct problem *p = problem_new(409, "too_far",
                                                        "You are %.0f m from the charger; check in "
                                                        "within %lld m (CS-29).", d,
                                                        (long long)rules.checkin_distance_m);

                        problem_set_int(p, "distance_m", (long long)llround(d));
                        problem_render(p, c->res);
                        return;
                }
                s.has_location = true;
                s.lat_e6 = llround(lat * 1e6);
                s.lon_e6 = llround(lon * 1e6);
        }
        resv_step(c, &r, &s, as);
}

/* CS-31 early use and CS-32 extension: one time field. */
static void time_step(struct api_ctx *c, enum resv_event ev, const char *key)
{
        const char *const allowed[] = { key, NULL };
        struct store_resv_step s = { .ev = ev };
        struct store_resv r;
        unsigned as;
        struct jv v;
        json_t *body;
        int64_t t;

        if (resv_load(c, PARTY_USER, &r, &as) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        t = read_time(&v, body, key);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        if (ev == RESV_EV_EARLY_USE)
                s.new_start = t;
        else
                s.new_end = t;
        resv_step(c, &r, &s, as);
}

void api_resv_early_use(struct api_ctx *c)
{
        time_step(c, RESV_EV_EARLY_USE, "starts_at");
}

void api_resv_extend(struct api_ctx *c)
{
        time_step(c, RESV_EV_EXTEND, "ends_at");
}

/* CS-20/CS-28 substitutes: listed chargers free for the same range, nearest first. */
static json_t *substitutes(struct api_ctx *c, const struct store_resv *r)
{
        struct store_search_query q = { 0 };
        struct store_search_result res;
        struct store_charger ch;
        json_t *a = json_array();

        if (!a || c->app->cfg->resv_substitutes_max == 0)
                return a;
        if (store_charger_get(c->app->st, r->charger_id, &ch) < 0)
                return a;
        q.lat = geo_from_e6(ch.lat_e6);
        q.lon = geo_from_e6(ch.lon_e6);
        q.radius_m = c->app->cfg->charging_search_max_radius_m < SUBSTITUTE_RADIUS_M
                             ? c->app->cfg->charging_search_max_radius_m
                             : SUBSTITUTE_RADIUS_M;
        /* the rest of the booking: from the grid step holding now once started */
        q.from = r->starts_at;
        if (r->starts_at <= c->now) {
                int64_t grid = c->app->cfg->charging_grid_minutes * 60;
                int64_t local = c->now + TIME_DISPLAY_OFFSET_S;

                q.from = c->now - ((local % grid) + grid) % grid;
        }
        if (q.from >= r->ends_at)
                return a;
        q.to = r->ends_at;
        q.onsite = 0;
        q.limit = (int)c->app->cfg->resv_substitutes_max;
        q.after_mm = -1;
        q.exclude_id = r->charger_id;
        if (store_search_chargers(c->app->st, &q, c->now, &res) < 0)
                return a;
        for (size_t i = 0; i < res.n; i++)
                json_array_append_new(a, json_pack("{s:I, s:I, s:I}", "charger_id",
                                                   (json_int_t)res.items[i].id, "distance_m",
                                                   (json_int_t)(res.items[i].distance_mm / 1000),
                                                   "fee", (json_int_t)res.items[i].price));
        store_search_result_free(&res);
        return a;
}

/* Operator findings: {"kind": "nonperformance"|"unusable", "third_party", "reason"}. */
void api_resv_finding(struct api_ctx *c)
{
        static const char *const allowed[] = { "kind", "third_party", "reason", NULL };
        struct store_resv_step s = { 0 };
        struct resv_rules rules;
        struct store_resv r, out;
        struct store_resv_money m;
        struct store_resv_why why;
        const char *kind;
        unsigned as;
        struct jv v;
        json_t *body, *o;
        int rc;

        if (resv_load(c, PARTY_OPERATOR, &r, &as) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        kind = jv_str(&v, body, NULL, "kind", true, 32);
        if (kind && strcmp(kind, "nonperformance") != 0 && strcmp(kind, "unusable") != 0)
                jv_error(&v, NULL, "kind", "invalid", "Must be nonperformance or unusable.");
        s.third_party = jv_bool(&v, body, NULL, "third_party", false, false);
        s.reason = jv_str(&v, body, NULL, "reason", true, RESV_MESSAGE_MAX);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        s.ev = strcmp(kind, "unusable") == 0 ? RESV_EV_CANCEL_UNUSABLE
                                              : RESV_EV_CANCEL_NONPERFORMANCE;
        s.actor_id = c->member_id;
        s.actor_role = "operator";
        s.operator = true;
        api_resv_rules(c->app->cfg, &rules);
        rc = store_resv_apply(c->app->st, r.id, &s, &rules, c->now, &out, &m, &why);
        json_decref(body);
        if (rc < 0) {
                resv_error(c, rc, &why);
                return;
        }
        o = api_resv_json(&out);
        if (!o) {
                api_json(c, 200, NULL);
                return;
        }
        json_object_set_new(o, "money", money_json(&m));
        json_object_set_new(o, "substitutes", resv_offer_substitutes(&rules, out.starts_at, c->now)
                                                      ? substitutes(c, &out)
                                                      : json_array());
        api_json(c, 200, o);
}

/* ---- reads ---------------------------------------------------------------------------------- */

void api_resv_get(struct api_ctx *c)
{
        struct store_resv r;
        unsigned as;

        if (resv_load(c, PARTY_USER | PARTY_HOST | PARTY_OPERATOR, &r, &as) < 0)
                return;
        api_json(c, 200, api_resv_json(&r));
}

static void event_cb(const struct store_resv_event *e, void *ud)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:s}", "id", (json_int_t)e->id,
                              "event", e->event, "from_state", e->from_state, "to_state",
                              e->to_state, "actor_id", (json_int_t)e->actor_id, "actor_role",
                              e->actor_role, "reason", e->reason);

        if (!o)
                return;
        json_object_set_new(o, "at", api_time(e->at));
        if (e->has_location)
                json_object_set_new(o, "location",
                                    json_pack("{s:f, s:f}", "latitude", geo_from_e6(e->lat_e6),
                                              "longitude", geo_from_e6(e->lon_e6)));
        json_array_append_new(ud, o);
}

void api_resv_events(struct api_ctx *c)
{
        struct store_resv r;
        unsigned as;
        json_t *items;
        int rc;

        if (resv_load(c, PARTY_USER | PARTY_HOST | PARTY_OPERATOR, &r, &as) < 0)
                return;
        items = json_array();
        rc = store_resv_events(c->app->st, r.id, event_cb, items);
        if (rc < 0) {
                json_decref(items);
                api_store_error(c, rc, "reservation events");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

/* A receipt (領収書) of what the user paid: booking fee or cancellation fee,
 * penalty, refunds. */
void api_resv_receipt(struct api_ctx *c)
{
        struct store_resv r;
        unsigned as;
        json_t *o;

        if (resv_load(c, PARTY_USER | PARTY_OPERATOR, &r, &as) < 0)
                return;
        if (!resv_state_final(r.state)) {
                problem_respond(c->res, 409, "not_settled",
                                "A receipt is issued once the reservation is settled.");
                return;
        }
        o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s}",
                      "receipt_no", "", "reservation_id", (json_int_t)r.id,
                      "charger_id", (json_int_t)r.charger_id,
                      "charged", (json_int_t)r.charged,
                      "penalty", (json_int_t)r.penalty,
                      "penalty_paid", (json_int_t)r.penalty_paid,
                      "refunded", (json_int_t)r.refunded,
                      "total_paid", (json_int_t)(r.charged + r.penalty_paid),
                      "currency", "JPY", "state", resv_state_name(r.state));
        if (o) {
                char no[48];

                snprintf(no, sizeof(no), "R-%08lld", (long long)r.id);
                json_object_set_new(o, "receipt_no", json_string(no));
                json_object_set_new(o, "starts_at", api_time(r.starts_at));
                json_object_set_new(o, "ends_at", api_time(r.ends_at));
                json_object_set_new(o, "issued_at", api_time(r.closed_at));
        }
        api_json(c, 200, o);
}

struct list_acc {
        json_t *items;
        int64_t last;
        int n;
};

static void list_cb(const struct store_resv *r, void *ud)
{
        struct list_acc *a = ud;

        json_array_append_new(a->items, api_resv_json(r));
        a->last = r->id;
        a->n++;
}

/* Common list query: state, active, before, limit. */
static void resv_list(struct api_ctx *c, struct store_resv_filter *f)
{
        struct list_acc acc = { 0 };
        int64_t limit = 50, before = 0, active = 0;
        char *state = NULL;
        int rc;

        if (api_query_int(c, "before", 1, INT64_MAX, &before) < 0 ||
            api_query_int(c, "limit", 1, RESV_LIST_MAX, &limit) < 0 ||
            api_query_int(c, "active", 0, 1, &active) < 0)
                return;
        f->state = -1;
        if (http_query_get(c->req->query, "state", &state) > 0) {
                f->state = resv_state_from_name(state);
                free(state);
                if (f->state < 0) {
                        problem_respond(c->res, 422, "validation_failed",
                                        "state must be a reservation state name.");
                        return;
                }
        }
        f->after_id = before;
        f->limit = (int)limit;
        f->active_only = active == 1;
        acc.items = json_array();
        rc = store_resv_list(c->app->st, f, list_cb, &acc);
        if (rc < 0) {
                json_decref(acc.items);
                api_store_error(c, rc, "reservations");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_before",
                                   acc.n == limit ? json_integer(acc.last) : json_null()));
}

void api_me_reservations(struct api_ctx *c)
{
        struct store_resv_filter f = { .user_id = c->member_id };

        resv_list(c, &f);
}

void api_host_reservations(struct api_ctx *c)
{
        int64_t host = api_param_id(c, "id");
        struct store_resv_filter f = { 0 };

        if (!host || api_host_acting(c, host, true) < 0)
                return;
        f.host_id = host;
        resv_list(c, &f);
}

/* ---- iCalendar feed (RFC 5545) ------------------------------------------------------------ */

/* POST /api/v1/hosts/{id}/calendar-token: a new secret feed URL (the old one dies). */
void api_host_calendar_token(struct api_ctx *c)
{
        int64_t host = api_param_id(c, "id");
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX], url[512];
        int rc;

        if (!host || api_host_acting(c, host, false) < 0)
                return;
        crypto_token_new(ICAL_PREFIX, token);
        crypto_token_hash(token, hash);
        rc = store_resv_ical_set(c->app->st, host, hash);
        if (rc < 0) {
                api_store_error(c, rc, "host");
                return;
        }
        snprintf(url, sizeof(url), "%s/api/v1/calendars/%s.ics",
                 c->app->cfg->charging_public_url, token);
        api_json(c, 201, json_pack("{s:s, s:s}", "token", token, "url", url));
}

struct ical_acc {
        struct buf *b;
        int rc;
};

static void ical_cb(const struct store_resv *r, void *ud)
{
        struct ical_acc *a = ud;
        char uid[64], summary[96], desc[160];
        struct ical_event e = { 0 };

        if (a->rc < 0)
                return;
        snprintf(uid, sizeof(uid), "reservation-%lld@enemane", (long long)r->id);
        snprintf(summary, sizeof(summary), "充電予約 #%lld (充電器 %lld)", (long long)r->id,
                 (long long)r->charger_id);
        snprintf(desc, sizeof(desc), "state: %s, fee: %lld JPY", resv_state_name(r->state),
                 (long long)(r->fee + r->extension_fee));
        e.uid = uid;
        e.dtstamp = r->updated_at;
        e.dtstart = r->starts_at;
        e.dtend = r->ends_at;
        e.summary = summary;
        e.description = desc;
        e.status = r->state == RESV_REQUESTED ? "TENTATIVE" : "CONFIRMED";
        a->rc = ical_event(a->b, &e);
}

/* GET /api/v1/calendars/{token}: the host's live bookings (public: the
 * unguessable token is the credential). */
void api_calendar_feed(struct api_ctx *c)
{
        const char *t = http_request_param(c->req, "token");
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        struct store_resv_filter f = { .state = -1, .active_only = true, .limit = 500 };
        struct ical_acc acc;
        struct buf b;
        size_t len;
        int64_t host;
        char *out;
        int rc;

        if (!t || strlen(t) >= sizeof(token) || strncmp(t, ICAL_PREFIX, strlen(ICAL_PREFIX))) {
                problem_respond(c->res, 404, "not_found", "No such calendar.");
                return;
        }
        snprintf(token, sizeof(token), "%s", t);
        len = strlen(token);
        if (len > 4 && strcmp(token + len - 4, ".ics") == 0)
                token[len - 4] = '\0';
        crypto_token_hash(token, hash);
        rc = store_resv_ical_host(c->app->st, hash, &host);
        if (rc < 0) {
                problem_respond(c->res, 404, "not_found", "No such calendar.");
                return;
        }
        f.host_id = host;
        buf_init(&b, 8u << 20);
        acc.b = &b;
        acc.rc = ical_begin(&b, "-//enemane//charger sharing//JA", "enemane 充電予約");
        if (acc.rc == 0)
                rc = store_resv_list(c->app->st, &f, ical_cb, &acc);
        if (acc.rc == 0 && rc >= 0)
                acc.rc = ical_end(&b);
        if (acc.rc < 0 || rc < 0) {
                buf_free(&b);
                api_store_error(c, acc.rc < 0 ? acc.rc : rc, "calendar");
                return;
        }
        out = buf_steal(&b, &len);
        http_response_set(c->res, 200, "text/calendar; charset=utf-8", out, len);
        free(out);
}

/* ---- withdrawal blockers (CS-4) ------------------------------------------------------------ */

static int resv_blockers(void *ctx, int64_t member_id, int64_t now, struct withdrawal_result *out)
{
        int64_t as_user = 0, as_host = 0;
        char detail[160];
        int r = store_resv_blockers(ctx, member_id, &as_user, &as_host);

        if (r < 0)
                return r;
        if (as_user > 0) {
                snprintf(detail, sizeof(detail),
                         "You have %lld reservation(s) not yet finished or cancelled.",
                         (long long)as_user);
                withdrawal_add(out, WITHDRAWAL_CONFIRMED_RESERVATION, detail);
        }
        if (as_host > 0) {
                snprintf(detail, sizeof(detail),
                         "Your chargers have %lld confirmed booking(s) still to be served.",
                         (long long)as_host);
                withdrawal_add(out, WITHDRAWAL_CONFIRMED_RESERVATION, detail);
        }
        return 0;
}

void api_resv_register_blockers(void)
{
        (void)withdrawal_register("reservations", resv_blockers);
}
