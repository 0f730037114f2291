/*
 * chargers.c - chargers (CS-9): create, read, change, delete (CS-18);
 * their photos; the QR code life cycle (CS-11); operator change requests
 * and delisting (CS-10); the public listing (CS-40).
 *
 * Who sees what: the host, its administrators (CS-7) and operators get the
 * host view; any other logged-in member gets the public listing, and only
 * while the charger is listed (not deleted, not delisted, host
 * publishable), else 404 as if it did not exist. Writes go through
 * api_host_acting() (403 `not_host_actor` for anyone else).
 */
#include "api/api_chargers.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_hosts.h"
#include "api/validate.h"
#include "domain/charger.h"
#include "domain/member.h"
#include "store/store_charger.h"
#include "store/store_host.h"
#include "store/store_slot.h"
#include "util/cleanup.h"
#include "util/crypto.h"
#include "util/jsonw.h"
#include "util/image.h"
#include "util/qr.h"

#define TEXT_MAX_BYTES 400              /* names: 100 code points */
#define NOTES_MAX_BYTES 4000            /* free text: 1000 code points */
#define QR_TOKEN_PREFIX "chq_"
#define QR_DEFAULT_SCALE 8

/* ---- JSON views ------------------------------------------------------------- */

/* The public listing (CS-40) written straight to JSON: the charger search
 * renders up to 100 of these per answer, so this is the one definition and
 * api_charger_public_fields() parses its output for the single views. */
void api_charger_public_write(struct jw *w, const struct store_charger *ch)
{
        jw_int(w, "id", ch->id);
        jw_obj_begin(w, "host");
        jw_str(w, "display_name", ch->host_display_name);
        jw_obj_end(w);
        jw_str(w, "kind", ch->kind);
        jw_str(w, "maker", ch->maker);
        jw_str(w, "model", ch->model);
        jw_fixed(w, "output_kw", ch->output_w, 3);
        jw_str(w, "connector", ch->connector);
        jw_obj_begin(w, "address");
        jw_str(w, "postcode", ch->postcode);
        jw_str(w, "prefecture", ch->prefecture);
        jw_str(w, "city", ch->city);
        jw_str(w, "line1", ch->line1);
        jw_str(w, "line2", ch->line2);
        jw_obj_end(w);
        jw_fixed(w, "latitude", ch->lat_e6, 6);
        jw_fixed(w, "longitude", ch->lon_e6, 6);
        jw_str(w, "surroundings", ch->surroundings);
        jw_str(w, "access_notes", ch->access_notes);
        jw_bool(w, "onsite_reservation", ch->onsite_reservation);
        jw_str(w, "usage_notes", ch->usage_notes);
        jw_bool(w, "penalty_enabled", ch->penalty_enabled);
        jw_bool(w, "extendable", ch->extendable);
}

json_t *api_charger_public_fields(const struct store_charger *ch)
{
        struct buf b;
        struct jw w;
        json_t *o = NULL;

        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_obj_begin(&w, NULL);
        api_charger_public_write(&w, ch);
        jw_obj_end(&w);
        if (jw_error(&w) == 0)
                o = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
        buf_free(&b);
        return o;
}

static void photo_cb(const struct store_charger_photo *p, void *ud)
{
        json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I}", "id", (json_int_t)p->id,
                              "content_type", p->content_type, "width", (json_int_t)p->width,
                              "height", (json_int_t)p->height, "size", (json_int_t)p->size);
        char url[96];

        snprintf(url, sizeof(url), "/api/v1/chargers/%lld/photos/%lld",
                 (long long)p->charger_id, (long long)p->id);
        json_object_set_new(o, "url", json_string(url));
        json_object_set_new(o, "created_at", api_time(p->created_at));
        json_array_append_new(ud, o);
}

static json_t *note_json(const struct store_charger_note *n)
{
        json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)n->id, "kind", n->kind,
                              "message", n->message);

        json_object_set_new(o, "at", api_time(n->at));
        json_object_set_new(o, "resolved_at", api_time(n->resolved_at));
        if (n->reason[0])
                json_object_set_new(o, "reason", json_string(n->reason));
        return o;
}

static void note_cb(const struct store_charger_note *n, void *ud)
{
        json_array_append_new(ud, note_json(n));
}

json_t *api_charger_json(struct api_ctx *c, const struct store_charger *ch, bool full)
{
        struct charger_status cs;
        json_t *o = api_charger_public_fields(ch), *photos = json_array();
        bool future = false;
        unsigned nb;
        int r;

        store_charger_status(ch, &cs);
        nb = charger_not_bookable(&cs);
        r = store_charger_photo_list(c->app->st, ch->id, photo_cb, photos);
        if (r >= 0 && nb == 0)
                r = store_slot_has_future(c->app->st, ch->id, c->now, &future);
        json_object_set_new(o, "photos", photos);
        json_object_set_new(o, "bookable", json_boolean(nb == 0));
        /* CS-13: recruiting = bookable and at least one slot still to come */
        json_object_set_new(o, "recruiting", json_boolean(nb == 0 && future));
        if (r >= 0 && full) {
                json_t *why = json_array(), *open = json_array(), *qr, *del = json_null();

                for (unsigned i = 0; i < CHARGER_NB_COUNT; i++)
                        if (nb & (1u << i))
                                json_array_append_new(why,
                                                      json_string(charger_not_bookable_name(1u << i)));
                r = store_charger_notes(c->app->st, ch->id, true, note_cb, open);
                qr = json_pack("{s:s}", "state", ch->qr_state);
                json_object_set_new(qr, "issued_at", api_time(ch->qr_issued_at));
                json_object_set_new(qr, "mailed_at", api_time(ch->qr_mailed_at));
                json_object_set_new(qr, "attached_at", api_time(ch->qr_attached_at));
                if (ch->delisted_reason[0]) {
                        del = json_pack("{s:s, s:s}", "reason", ch->delisted_reason, "note",
                                        ch->delisted_note);
                        json_object_set_new(del, "at", api_time(ch->delisted_at));
                }
                json_object_set_new(o, "host_id", json_integer(ch->host_id));
                json_object_set_new(o, "site_id", ch->site_id ? json_integer(ch->site_id)
                                                              : json_null());
                json_object_set_new(o, "out_of_service", json_boolean(ch->out_of_service));
                json_object_set_new(o, "listed", json_boolean(charger_listed(&cs)));
                json_object_set_new(o, "reasons_not_bookable", why);
                json_object_set_new(o, "qr", qr);
                json_object_set_new(o, "delisting", del);
                json_object_set_new(o, "change_requests", open);
                json_object_set_new(o, "created_at", api_time(ch->created_at));
                json_object_set_new(o, "updated_at", api_time(ch->updated_at));
        }
        if (r < 0) {
                json_decref(o);
                api_store_error(c, r, "charger");
                return NULL;
        }
        return o;
}

/* ---- loading and authorising ------------------------------------------------- */

static void charger_not_found(struct api_ctx *c, int64_t id)
{
        problem_respond(c->res, 404, "charger_not_found", "There is no charger %lld.",
                        (long long)id);
}

/* Loads the live charger of the {id} path parameter (malloc'd, caller
 * frees); NULL after rendering 404 or a store error. */
static struct store_charger *charger_load(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        struct store_charger *ch;
        int r;

        if (!id)
                return NULL;
        ch = malloc(sizeof(*ch));
        if (!ch) {
                api_store_error(c, -ENOMEM, "charger");
                return NULL;
        }
        r = store_charger_get(c->app->st, id, ch);
        if (r == 0 && ch->deleted_at)
                r = -ENOENT;
        if (r < 0) {
                free(ch);
                if (r == -ENOENT)
                        charger_not_found(c, id);
                else
                        api_store_error(c, r, "charger");
                return NULL;
        }
        return ch;
}

/* The charger, when the caller may act for its host (operators too when
 * allow_operator); NULL after rendering the refusal. */
static struct store_charger *charger_for_actor(struct api_ctx *c, bool allow_operator)
{
        struct store_charger *ch = charger_load(c);

        if (ch && api_host_acting(c, ch->host_id, allow_operator) < 0) {
                free(ch);
                return NULL;
        }
        return ch;
}

/* Whether the caller gets the host view of a charger of host_id. */
static int caller_sees_full(struct api_ctx *c, int64_t host_id, bool *full)
{
        enum store_host_role role = STORE_HOST_ROLE_NONE;
        int r;

        *full = c->operator;
        if (*full)
                return 0;
        r = store_host_role(c->app->st, host_id, c->member_id, &role);
        if (r < 0 && r != -ENOENT)
                return r;
        *full = role != STORE_HOST_ROLE_NONE;
        return 0;
}

/* Renders the host view of charger id with status (after a write). */
static void render_charger(struct api_ctx *c, int64_t id, int status, json_t *notes)
{
        _cleanup_free_ struct store_charger *ch = malloc(sizeof(*ch));
        json_t *o;
        int r = ch ? store_charger_get(c->app->st, id, ch) : -ENOMEM;

        if (r < 0) {
                json_decref(notes);
                api_store_error(c, r, "charger");
                return;
        }
        o = api_charger_json(c, ch, true);
        if (!o) {
                json_decref(notes);
                return;
        }
        if (notes)
                json_object_set_new(o, "notes", notes);
        api_json(c, status, o);
}

/* ---- reading a charger body (create and PATCH) ---------------------------------- */

static void copy_text(char *dst, size_t len, const char *src)
{
        if (src)
                snprintf(dst, len, "%s", src);
}

/* A name-like text (maker, model, city, line1): valid display text. */
static const char *read_name(struct jv *v, json_t *obj, const char *prefix, const char *key,
                             bool required, char *dst, size_t len)
{
        const char *why = NULL;
        const char *s = jv_str(v, obj, prefix, key, required, TEXT_MAX_BYTES);

        if (s && member_name_valid(s, TEXT_MAX_BYTES / 4, &why) < 0) {
                jv_error(v, prefix, key, "invalid", "%s %s.", key, why);
                return NULL;
        }
        copy_text(dst, len, s);
        return s;
}

static void read_address(struct jv *v, json_t *body, bool create, struct store_charger *ch)
{
        static const char *const allowed[] = { "postcode", "prefecture", "city", "line1",
                                               "line2", NULL };
        json_t *a = jv_object(v, body, NULL, "address", create);
        const char *why = NULL, *s;

        if (!a)
                return;
        jv_unknown(v, a, "address", allowed);
        s = jv_str(v, a, "address", "postcode", create, 16);
        if (s && member_postcode_normalize(s, ch->postcode, sizeof(ch->postcode), &why) < 0)
                jv_error(v, "address", "postcode", "invalid", "postcode %s.", why);
        s = jv_str(v, a, "address", "prefecture", create, 16);
        if (s && member_prefecture_valid(s, &why) < 0)
                jv_error(v, "address", "prefecture", "invalid", "prefecture %s.", why);
        else
                copy_text(ch->prefecture, sizeof(ch->prefecture), s);
        read_name(v, a, "address", "city", create, ch->city, sizeof(ch->city));
        read_name(v, a, "address", "line1", create, ch->line1, sizeof(ch->line1));
        s = jv_str(v, a, "address", "line2", false, TEXT_MAX_BYTES);
        if (s && *s)
                read_name(v, a, "address", "line2", false, ch->line2, sizeof(ch->line2));
        else if (s)
                ch->line2[0] = '\0';
}

/* A JSON number field; *present says whether it was there. */
static double read_number(struct jv *v, json_t *obj, const char *key, bool required,
                          bool *present)
{
        json_t *x = json_object_get(obj, key);

        *present = false;
        if (!x || json_is_null(x)) {
                if (required)
                        jv_error(v, NULL, key, "required", "%s is required.", key);
                return NAN;
        }
        if (!json_is_number(x)) {
                jv_error(v, NULL, key, "type", "Must be a number.");
                return NAN;
        }
        *present = true;
        return json_number_value(x);
}

static void read_notes(struct jv *v, json_t *body, const char *key, char *dst, size_t len)
{
        const char *s = jv_str(v, body, NULL, key, false, NOTES_MAX_BYTES);

        copy_text(dst, len, s);
}

/*
 * Reads the body into ch (which holds the current values for PATCH, or
 * zeroes with defaults for create), field errors into v. Sets
 * *outside_area when the coordinates are valid but outside Japan, and
 * returns the CHARGER_FORCED_* bits the CS-9 rule applied.
 */
static unsigned read_charger(struct jv *v, json_t *body, bool create, struct store_charger *ch,
                             bool *outside_area)
{
        static const char *const allowed[] = {
                "kind", "maker", "model", "output_kw", "connector", "address", "latitude",
                "longitude", "surroundings", "access_notes", "onsite_reservation",
                "usage_notes", "penalty_enabled", "extendable", "site_id", NULL,
        };
        const char *s;
        bool has_lat, has_lon, has_kw, lat_bad = false, lon_bad = false;
        double lat, lon, kw;
        int kind, r;

        *outside_area = false;
        jv_unknown(v, body, NULL, allowed);
        s = jv_str(v, body, NULL, "kind", create, 20);
        if (s && charger_kind_from_name(s) < 0)
                jv_error(v, NULL, "kind", "invalid",
                         "kind must be normal, ev_outlet or compatible_fast.");
        else
                copy_text(ch->kind, sizeof(ch->kind), s);
        read_name(v, body, NULL, "maker", create, ch->maker, sizeof(ch->maker));
        read_name(v, body, NULL, "model", create, ch->model, sizeof(ch->model));
        kw = read_number(v, body, "output_kw", create, &has_kw);
        if (has_kw && charger_output_w(kw, &ch->output_w) < 0)
                jv_error(v, NULL, "output_kw", "out_of_range",
                         "output_kw must be a number above 0 and at most %.0f.",
                         CHARGER_OUTPUT_KW_MAX);
        s = jv_str(v, body, NULL, "connector", create, 24);
        if (s && !charger_connector_valid(s))
                jv_error(v, NULL, "connector", "invalid",
                         "connector must be one of type1, type2, chademo, ccs1, ccs2, gbt, "
                         "nacs, outlet_100v, outlet_200v.");
        else
                copy_text(ch->connector, sizeof(ch->connector), s);
        read_address(v, body, create, ch);
        lat = read_number(v, body, "latitude", create, &has_lat);
        lon = read_number(v, body, "longitude", create, &has_lon);
        if (has_lat || has_lon) {
                if (!has_lat)
                        lat = charger_e6_to_deg(ch->lat_e6);
                if (!has_lon)
                        lon = charger_e6_to_deg(ch->lon_e6);
                r = charger_check_coords(lat, lon, &lat_bad, &lon_bad);
                if (r == -EDOM) {
                        if (lat_bad)
                                jv_error(v, NULL, "latitude", "out_of_range",
                                         "latitude must be from -90 to 90.");
                        if (lon_bad)
                                jv_error(v, NULL, "longitude", "out_of_range",
                                         "longitude must be from -180 to 180.");
                } else if (r == -ERANGE) {
                        *outside_area = true;
                } else {
                        ch->lat_e6 = charger_deg_to_e6(lat);
                        ch->lon_e6 = charger_deg_to_e6(lon);
                }
        }
        read_notes(v, body, "surroundings", ch->surroundings, sizeof(ch->surroundings));
        read_notes(v, body, "access_notes", ch->access_notes, sizeof(ch->access_notes));
        read_notes(v, body, "usage_notes", ch->usage_notes, sizeof(ch->usage_notes));
        ch->onsite_reservation = jv_bool(v, body, NULL, "onsite_reservation", false,
                                         ch->onsite_reservation);
        ch->penalty_enabled = jv_bool(v, body, NULL, "penalty_enabled", false,
                                      ch->penalty_enabled);
        ch->extendable = jv_bool(v, body, NULL, "extendable", false, ch->extendable);
        if (json_object_get(body, "site_id") && json_is_null(json_object_get(body, "site_id")))
                ch->site_id = 0;
        else
                ch->site_id = jv_int(v, body, NULL, "site_id", false, 1, INT64_MAX, ch->site_id);
        kind = charger_kind_from_name(ch->kind);
        if (kind < 0)
                return 0;
        return charger_force_options(kind, &ch->onsite_reservation, &ch->extendable);
}

/* The `notes` entries saying what the CS-9 rule changed (NULL when nothing). */
static json_t *forced_notes(unsigned forced)
{
        json_t *a;

        if (!forced)
                return NULL;
        a = json_array();
        if (forced & CHARGER_FORCED_ONSITE)
                json_array_append_new(a, json_string(
                        "A compatible fast charger is offered by on-site reservation only "
                        "(terms art 10.2): onsite_reservation was set to true."));
        if (forced & CHARGER_FORCED_EXTENDABLE)
                json_array_append_new(a, json_string(
                        "A compatible fast charger cannot be extended (terms art 27): "
                        "extendable was set to false."));
        return a;
}

/* Renders v's errors, or the 422 outside_service_area problem. 0 = valid. */
static int charger_body_errors(struct api_ctx *c, struct jv *v, bool outside_area)
{
        struct problem *p;

        if (!jv_ok(v)) {
                if (outside_area)
                        jv_error(v, NULL, "latitude", "outside_service_area",
                                 "The position must lie in Japan (20..46 N, 122..154 E).");
                jv_render(v, c->res);
                return -EINVAL;
        }
        if (!outside_area)
                return 0;
        p = problem_new(422, "outside_service_area",
                        "Chargers can be listed in Japan only: latitude 20..46 N, longitude "
                        "122..154 E.");
        problem_add_error(p, "latitude", "outside_service_area", "Outside the service area.");
        problem_add_error(p, "longitude", "outside_service_area", "Outside the service area.");
        problem_render(p, c->res);
        return -EINVAL;
}

static void site_not_found(struct api_ctx *c, int64_t site_id)
{
        struct problem *p = problem_new(422, "validation_failed",
                                        "Site %lld is not one of this host's sites.",
                                        (long long)site_id);

        problem_add_error(p, "site_id", "not_found", "No such site of this host.");
        problem_render(p, c->res);
}

/* ---- create, read, list, change, delete ------------------------------------------ */

void api_host_chargers_create(struct api_ctx *c)
{
        int64_t host_id = api_param_id(c, "host_id"), id = 0;
        _cleanup_free_ struct store_charger *ch = NULL;
        char hash[CRYPTO_HASH_HEX];
        bool outside = false;
        unsigned forced;
        struct jv v;
        json_t *body;
        int r;

        if (!host_id || api_host_acting(c, host_id, false) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        ch = calloc(1, sizeof(*ch));
        if (!ch) {
                json_decref(body);
                api_store_error(c, -ENOMEM, "charger");
                return;
        }
        ch->extendable = true;
        jv_init(&v);
        forced = read_charger(&v, body, true, ch, &outside);
        json_decref(body);
        if (charger_body_errors(c, &v, outside) < 0)
                return;
        jv_free(&v);
        ch->host_id = host_id;
        /* CS-11: the token is printed from the plaintext while 'issued';
         * only its hash is checked. */
        crypto_token_new(QR_TOKEN_PREFIX, ch->qr_token);
        crypto_token_hash(ch->qr_token, hash);
        copy_text(ch->qr_token_hash, sizeof(ch->qr_token_hash), hash);
        r = store_charger_create(c->app->st, ch, &c->actor, c->now, &id);
        if (r == -ENXIO) {
                site_not_found(c, ch->site_id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, id, 201, forced_notes(forced));
}

struct list_ctx {
        struct api_ctx *c;
        json_t *items;
        int err;
};

static void list_cb(const struct store_charger *ch, void *ud)
{
        struct list_ctx *l = ud;
        json_t *o;

        if (l->err)
                return;
        o = api_charger_json(l->c, ch, true);
        if (!o) {
                l->err = -EIO;          /* rendered already */
                return;
        }
        json_array_append_new(l->items, o);
}

void api_host_chargers_list(struct api_ctx *c)
{
        int64_t host_id = api_param_id(c, "host_id");
        struct list_ctx l = { c, NULL, 0 };
        int r;

        if (!host_id || api_host_acting(c, host_id, true) < 0)
                return;
        l.items = json_array();
        r = store_charger_list_host(c->app->st, host_id, list_cb, &l);
        if (l.err) {
                json_decref(l.items);
                return;
        }
        if (r < 0) {
                json_decref(l.items);
                api_store_error(c, r, "chargers");
                return;
        }
        api_json(c, 200, json_pack("{s:o}", "items", l.items));
}

void api_charger_get(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        struct charger_status cs;
        bool full = false;
        json_t *o;
        int r;

        if (!ch)
                return;
        r = caller_sees_full(c, ch->host_id, &full);
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        store_charger_status(ch, &cs);
        if (!full && !charger_listed(&cs)) {
                charger_not_found(c, ch->id);   /* CS-40: unlisted is invisible */
                return;
        }
        o = api_charger_json(c, ch, full);
        if (o)
                api_json(c, 200, o);
}

void api_charger_patch(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, false);
        bool outside = false;
        unsigned forced;
        struct jv v;
        json_t *body;
        int r;

        if (!ch)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        forced = read_charger(&v, body, false, ch, &outside);
        json_decref(body);
        if (charger_body_errors(c, &v, outside) < 0)
                return;
        jv_free(&v);
        r = store_charger_update(c->app->st, ch, &c->actor, c->now);
        if (r == -ENXIO) {
                site_not_found(c, ch->site_id);
                return;
        }
        if (r == -ENOENT) {
                charger_not_found(c, ch->id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, forced_notes(forced));
}

void api_charger_delete(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, false);
        struct store_reservation_ref b = { 0 };
        struct problem *p;
        json_t *res;
        int r;

        if (!ch)
                return;
        r = store_charger_delete(c->app->st, ch->id, &c->actor, c->now, &b);
        if (r == 0) {
                c->res->status = 204;
                return;
        }
        if (r == -ENOENT) {
                charger_not_found(c, ch->id);
                return;
        }
        if (r != -ENOTEMPTY) {
                api_store_error(c, r, "charger");
                return;
        }
        /* CS-18 (art 13.2): not while a request or booking refers to it. */
        p = problem_new(409, "charger_in_use",
                        "Charger %lld cannot be deleted: reservation %lld (%s) refers to it. "
                        "Delete it once that reservation has ended or been cancelled.",
                        (long long)ch->id, (long long)b.id, b.status);
        res = json_pack("{s:I, s:s}", "id", (json_int_t)b.id, "status", b.status);
        json_object_set_new(res, "starts_at", api_time(b.starts_at));
        json_object_set_new(res, "ends_at", api_time(b.ends_at));
        problem_set_json(p, "reservation", res);
        problem_render(p, c->res);
}

/* ---- photos ------------------------------------------------------------------------ */

void api_charger_photo_add(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, false);
        enum image_type claimed = image_type_from_content_type(c->req->content_type);
        struct store_charger_photo meta = { 0 };
        struct image_info info;
        int64_t id = 0, max = c->app->cfg->charging_photo_max_bytes;
        int r;

        if (!ch)
                return;
        if (claimed == IMAGE_NONE) {
                problem_respond(c->res, 415, "not_an_image",
                                "Send the photo as the raw body with Content-Type image/jpeg or "
                                "image/png.");
                return;
        }
        if (c->req->body_len > (size_t)max) {
                struct problem *p = problem_new(413, "photo_too_large",
                                                "A photo may be at most %lld bytes.",
                                                (long long)max);

                problem_set_int(p, "max_bytes", max);
                problem_render(p, c->res);
                return;
        }
        if (image_sniff(c->req->body, c->req->body_len, &info) < 0) {
                problem_respond(c->res, 422, "not_an_image",
                                "The body is not a well-formed JPEG or PNG image.");
                return;
        }
        if (info.type != claimed) {
                problem_respond(c->res, 415, "not_an_image",
                                "The body is %s but was sent as %s.",
                                image_content_type(info.type), image_content_type(claimed));
                return;
        }
        copy_text(meta.content_type, sizeof(meta.content_type), image_content_type(info.type));
        meta.width = info.width;
        meta.height = info.height;
        r = store_charger_photo_add(c->app->st, ch->id, &meta, c->req->body, c->req->body_len,
                                    c->app->cfg->charging_photos_max, &c->actor, c->now, &id);
        if (r == -EDQUOT) {
                problem_respond(c->res, 409, "too_many_photos",
                                "A charger may have at most %lld photos; delete one first.",
                                (long long)c->app->cfg->charging_photos_max);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "photo");
                return;
        }
        r = store_charger_photo_get(c->app->st, ch->id, id, &meta, NULL);
        if (r < 0) {
                api_store_error(c, r, "photo");
                return;
        }
        json_t *items = json_array();

        photo_cb(&meta, items);
        api_json(c, 201, json_incref(json_array_get(items, 0)));
        json_decref(items);
}

static int64_t photo_param(struct api_ctx *c)
{
        return api_param_id(c, "photo_id");
}

void api_charger_photo_get(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        _cleanup_free_ void *data = NULL;
        struct store_charger_photo meta;
        struct charger_status cs;
        int64_t pid;
        bool full = false;
        int r;

        if (!ch)
                return;
        pid = photo_param(c);
        if (!pid)
                return;
        r = caller_sees_full(c, ch->host_id, &full);
        if (r < 0) {
                api_store_error(c, r, "host");
                return;
        }
        store_charger_status(ch, &cs);
        if (!full && !charger_listed(&cs)) {
                charger_not_found(c, ch->id);
                return;
        }
        r = store_charger_photo_get(c->app->st, ch->id, pid, &meta, &data);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "photo_not_found", "Charger %lld has no photo %lld.",
                                (long long)ch->id, (long long)pid);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "photo");
                return;
        }
        /* content_type must be a static string: map the stored name back */
        http_response_set(c->res, 200,
                          image_content_type(image_type_from_content_type(meta.content_type)),
                          data, (size_t)meta.size);
        http_response_header(c->res, "Cache-Control", "private, max-age=3600");
        http_response_header(c->res, "X-Content-Type-Options", "nosniff");
}

void api_charger_photo_delete(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, false);
        int64_t pid;
        int r;

        if (!ch)
                return;
        pid = photo_param(c);
        if (!pid)
                return;
        r = store_charger_photo_delete(c->app->st, ch->id, pid, &c->actor, c->now);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "photo_not_found", "Charger %lld has no photo %lld.",
                                (long long)ch->id, (long long)pid);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "photo");
                return;
        }
        c->res->status = 204;
}

/* ---- QR codes (CS-11) ---------------------------------------------------------------- */

/* The URL a code encodes: <public_url>/c/<id>?t=<token>. */
static void qr_url(struct api_ctx *c, const struct store_charger *ch, char *out, size_t len)
{
        const char *base = c->app->cfg->charging_public_url;
        size_t n = strlen(base);

        while (n > 0 && base[n - 1] == '/')
                n--;
        snprintf(out, len, "%.*s/c/%lld?t=%s", (int)n, base, (long long)ch->id, ch->qr_token);
}

/* The ?scale= query parameter (1..QR_SCALE_MAX, default QR_DEFAULT_SCALE);
 * renders 422 and returns -EINVAL when bad. */
static int qr_scale(struct api_ctx *c, int *scale)
{
        char *v = NULL, *end = NULL;
        long n;
        int r = http_query_get(c->req->query, "scale", &v);

        *scale = QR_DEFAULT_SCALE;
        if (r == 0)
                return 0;
        n = r > 0 ? strtol(v, &end, 10) : 0;
        if (r < 0 || !*v || *end || n < 1 || n > QR_SCALE_MAX) {
                struct jv jv;

                free(v);
                jv_init(&jv);
                jv_error(&jv, NULL, "scale", "out_of_range", "scale must be 1 to %d.",
                         QR_SCALE_MAX);
                jv_render(&jv, c->res);
                return -EINVAL;
        }
        free(v);
        *scale = (int)n;
        return 0;
}

static void qr_render(struct api_ctx *c, bool png)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        struct qr_code *q = NULL;
        char url[QR_TEXT_MAX + 1], disp[96];
        int scale, r;

        if (!ch || qr_scale(c, &scale) < 0)
                return;
        if (strcmp(ch->qr_state, "issued") != 0 || !ch->qr_token[0]) {
                problem_respond(c->res, 409, "qr_already_mailed",
                                "The code of charger %lld was mailed: its token is no longer "
                                "kept. Rotate the code to print a new one.", (long long)ch->id);
                return;
        }
        qr_url(c, ch, url, sizeof(url));
        r = qr_encode(url, &q);
        buf_reset(&c->res->body);
        if (r == 0)
                r = png ? qr_render_png(q, scale, &c->res->body)
                        : qr_render_svg(q, scale, &c->res->body);
        qr_free(q);
        if (r < 0) {
                buf_reset(&c->res->body);
                api_store_error(c, r == -EINVAL ? -EIO : r, "QR code");
                return;
        }
        c->res->status = 200;
        c->res->content_type = png ? "image/png" : "image/svg+xml";
        snprintf(disp, sizeof(disp), "inline; filename=\"charger-%lld.%s\"", (long long)ch->id,
                 png ? "png" : "svg");
        http_response_header(c->res, "Content-Disposition", disp);
        http_response_header(c->res, "Cache-Control", "no-store");
}

/* The operator's view of the code: its state and, while 'issued', the URL
 * it encodes (what gets printed; gone once mailed). */
void api_charger_qr_get(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        char url[QR_TEXT_MAX + 1];
        json_t *o;

        if (!ch)
                return;
        o = json_pack("{s:I, s:s}", "charger_id", (json_int_t)ch->id, "state", ch->qr_state);
        if (ch->qr_token[0]) {
                qr_url(c, ch, url, sizeof(url));
                json_object_set_new(o, "url", json_string(url));
        } else {
                json_object_set_new(o, "url", json_null());
        }
        json_object_set_new(o, "issued_at", api_time(ch->qr_issued_at));
        json_object_set_new(o, "mailed_at", api_time(ch->qr_mailed_at));
        json_object_set_new(o, "attached_at", api_time(ch->qr_attached_at));
        http_response_header(c->res, "Cache-Control", "no-store");
        api_json(c, 200, o);
}

void api_charger_qr_png(struct api_ctx *c)
{
        qr_render(c, true);
}

void api_charger_qr_svg(struct api_ctx *c)
{
        qr_render(c, false);
}

void api_charger_qr_mailed(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        int r;

        if (!ch)
                return;
        r = store_charger_qr_event(c->app->st, ch->id, CHARGER_QR_MAIL, NULL, NULL, &c->actor,
                                   c->now);
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "qr_already_mailed",
                                "The code of charger %lld is %s already.", (long long)ch->id,
                                ch->qr_state);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, NULL);
}

/* Reads {token} from the body into hash; renders and returns <0 on error. */
static int read_token(struct api_ctx *c, char hash[CRYPTO_HASH_HEX])
{
        static const char *const allowed[] = { "token", NULL };
        const char *t;
        struct jv v;
        json_t *body;

        if (api_body_object(c->req, c->res, &body) < 0)
                return -EINVAL;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        t = jv_str(&v, body, NULL, "token", true, 256);
        if (t)
                crypto_token_hash(t, hash);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return -EINVAL;
        }
        jv_free(&v);
        return 0;
}

static void token_invalid(struct api_ctx *c)
{
        struct problem *p = problem_new(422, "qr_token_invalid",
                                        "That is not the current code of this charger.");

        problem_add_error(p, "token", "qr_token_invalid", "Not the charger's current code.");
        problem_render(p, c->res);
}

void api_charger_qr_attached(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, false);
        char hash[CRYPTO_HASH_HEX];
        int r;

        if (!ch || read_token(c, hash) < 0)
                return;
        r = store_charger_qr_event(c->app->st, ch->id, CHARGER_QR_ATTACH, NULL, hash, &c->actor,
                                   c->now);
        if (r == -EAGAIN) {
                problem_respond(c->res, 409, "qr_not_mailed",
                                "The code of charger %lld has not been mailed yet.",
                                (long long)ch->id);
                return;
        }
        if (r == -EACCES) {
                token_invalid(c);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, NULL);
}

void api_charger_qr_rotate(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, true);
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        int r;

        if (!ch)
                return;
        crypto_token_new(QR_TOKEN_PREFIX, token);
        crypto_token_hash(token, hash);
        r = store_charger_qr_event(c->app->st, ch->id, CHARGER_QR_ROTATE, token, hash,
                                   &c->actor, c->now);
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, NULL);
}

void api_charger_scan(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        char hash[CRYPTO_HASH_HEX];
        struct charger_status cs;
        json_t *o;

        if (!ch || read_token(c, hash) < 0)
                return;
        store_charger_status(ch, &cs);
        /* Compare first, always: the answer must not depend on the state
         * in a way that helps guessing tokens. */
        if (!crypto_streq(ch->qr_token_hash, hash) || cs.qr_state != CHARGER_QR_ATTACHED) {
                token_invalid(c);
                return;
        }
        if (!charger_listed(&cs)) {
                charger_not_found(c, ch->id);
                return;
        }
        o = api_charger_json(c, ch, false);
        if (o)
                api_json(c, 200, o);
}

/* ---- operator change requests and delisting (CS-10) ------------------------------------ */

void api_charger_change_request_add(struct api_ctx *c)
{
        static const char *const allowed[] = { "message", NULL };
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        _cleanup_free_ struct store_charger_note *n = NULL;
        const char *msg;
        struct jv v;
        json_t *body;
        int64_t id = 0;
        int r;

        if (!ch || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        msg = jv_str(&v, body, NULL, "message", true, NOTES_MAX_BYTES);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_charger_change_request(c->app->st, ch->id, msg, &c->actor, c->now, &id);
        n = calloc(1, sizeof(*n));
        if (r == 0 && !n)
                r = -ENOMEM;
        if (r < 0) {
                json_decref(body);
                api_store_error(c, r, "charger");
                return;
        }
        n->id = id;
        n->charger_id = ch->id;
        copy_text(n->kind, sizeof(n->kind), "change_request");
        copy_text(n->message, sizeof(n->message), msg);
        n->actor_id = c->member_id;
        n->at = c->now;
        json_decref(body);
        api_json(c, 201, note_json(n));
}

void api_charger_change_requests_list(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_for_actor(c, true);
        json_t *all, *items;
        json_t *x;
        size_t i;
        int r;

        if (!ch)
                return;
        all = json_array();
        r = store_charger_notes(c->app->st, ch->id, false, note_cb, all);
        if (r < 0) {
                json_decref(all);
                api_store_error(c, r, "charger");
                return;
        }
        items = json_array();
        json_array_foreach(all, i, x) {
                const char *k = json_string_value(json_object_get(x, "kind"));

                if (k && strcmp(k, "change_request") == 0)
                        json_array_append(items, x);
        }
        json_decref(all);
        api_json(c, 200, json_pack("{s:o}", "items", items));
}

void api_charger_delist(struct api_ctx *c)
{
        static const char *const allowed[] = { "reason", "note", NULL };
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        const char *reason, *note;
        struct jv v;
        json_t *body;
        int r;

        if (!ch || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        reason = jv_str(&v, body, NULL, "reason", true, 40);
        if (reason && !charger_delisting_reason_find(reason))
                jv_error(&v, NULL, "reason", "invalid",
                         "reason must be one of GET /api/v1/delisting-reasons.");
        note = jv_str(&v, body, NULL, "note", false, NOTES_MAX_BYTES);
        if (!jv_ok(&v)) {
                json_decref(body);
                jv_render(&v, c->res);
                return;
        }
        jv_free(&v);
        r = store_charger_delist(c->app->st, ch->id, reason, note ? note : "", &c->actor, c->now);
        json_decref(body);
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "already_delisted",
                                "Charger %lld is delisted already (%s).", (long long)ch->id,
                                ch->delisted_reason);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, NULL);
}

void api_charger_relist(struct api_ctx *c)
{
        _cleanup_free_ struct store_charger *ch = charger_load(c);
        int r;

        if (!ch)
                return;
        r = store_charger_relist(c->app->st, ch->id, &c->actor, c->now);
        if (r == -EALREADY) {
                problem_respond(c->res, 409, "not_delisted", "Charger %lld is not delisted.",
                                (long long)ch->id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "charger");
                return;
        }
        render_charger(c, ch->id, 200, NULL);
}

void api_delisting_reasons(struct api_ctx *c)
{
        json_t *a = json_array();

        for (size_t i = 0; i < charger_delisting_reasons_count; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "code",
                                                   charger_delisting_reasons[i].code, "article",
                                                   charger_delisting_reasons[i].article,
                                                   "description",
                                                   charger_delisting_reasons[i].description));
        api_json(c, 200, json_pack("{s:o}", "items", a));
}
