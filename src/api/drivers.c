/*
 * drivers.c - drivers ("users" of the terms, art 21): the declarations of
 * a driving licence and both insurances, the registered vehicles (EV or
 * PHEV only), and whether the member can book now with the reasons why
 * not (CS-23). A corporation can never be a user (CS-7, art 21.3).
 */
#include "api/api_hosts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/validate.h"
#include "domain/host.h"
#include "domain/member.h"
#include "store/store_host.h"

/* Vehicles per user: charging.vehicles_max (a user-controlled resource). */
#define VEHICLES_MAX(c) ((int)(c)->app->cfg->charging_vehicles_max)

/* The member, and 403 corporation_cannot_be_user for a corporation. */
static int driver_member(struct api_ctx *c, struct store_member *m)
{
        int r = store_member_get(c->app->st, c->member_id, m);

        if (r < 0) {
                api_store_error(c, r, "member");
                return r;
        }
        if (!driver_kind_allowed(m->kind)) {
                problem_respond(c->res, 403, "corporation_cannot_be_user",
                                "A corporation can be a host but never a user (CS-7, CS-23): "
                                "it cannot declare a licence, register vehicles or book.");
                return -EPERM;
        }
        return 0;
}

static json_t *vehicle_json(const struct store_vehicle *v)
{
        json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:f}",
                              "id", (json_int_t)v->id, "maker", v->maker, "model", v->model,
                              "plate", v->plate, "powertrain", v->powertrain,
                              "connector", v->connector,
                              "battery_kwh", (double)v->battery_wh / 1000.0);

        if (o)
                json_object_set_new(o, "created_at", api_time(v->created_at));
        return o;
}

struct vehicles_acc {
        json_t *items;
        size_t n;
};

static void vehicles_cb(const struct store_vehicle *v, void *ud)
{
        struct vehicles_acc *a = ud;

        json_array_append_new(a->items, vehicle_json(v));
        a->n++;
}

/* Renders the driver profile with vehicles and can_book (CS-23). */
static void render_driver(struct api_ctx *c, const struct store_member *m, int status)
{
        struct vehicles_acc acc = { .items = json_array() };
        const char *reasons[DRIVER_REASONS_MAX];
        struct store_driver d;
        size_t n = 0;
        json_t *rs, *o;
        int r, can;

        r = store_driver_get(c->app->st, c->member_id, &d);
        if (r == -ENOENT) {
                json_decref(acc.items);
                problem_respond(c->res, 404, "not_driver",
                                "You have not declared a licence and insurances yet: "
                                "PUT /api/v1/me/driver.");
                return;
        }
        if (r == 0)
                r = store_vehicle_list(c->app->st, c->member_id, vehicles_cb, &acc);
        if (r < 0) {
                json_decref(acc.items);
                api_store_error(c, r, "driver");
                return;
        }
        struct driver_state ds = {
                .member_kind = m->kind,
                .member_status = m->status,
                .licence_expires_on = d.licence_expires_on,
                .compulsory_insurance_expires_on = d.compulsory_insurance_expires_on,
                .voluntary_insurance_expires_on = d.voluntary_insurance_expires_on,
                .vehicles = acc.n,
        };
        can = driver_can_book(&ds, c->now, reasons, DRIVER_REASONS_MAX, &n);
        rs = json_array();
        for (size_t i = 0; i < n && i < DRIVER_REASONS_MAX; i++)
                json_array_append_new(rs, json_string(reasons[i]));
        o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:b, s:o}",
                      "member_id", (json_int_t)d.member_id,
                      "driving_licence_expires_on", d.licence_expires_on,
                      "compulsory_insurance_expires_on", d.compulsory_insurance_expires_on,
                      "voluntary_insurance_expires_on", d.voluntary_insurance_expires_on,
                      "vehicles", acc.items, "can_book", can == 1, "reasons", rs);
        if (o) {
                json_object_set_new(o, "created_at", api_time(d.created_at));
                json_object_set_new(o, "updated_at", api_time(d.updated_at));
        }
        api_json(c, status, o);
}

/* ---- PUT/GET /api/v1/me/driver -------------------------------------------- */

static const char *read_expiry(struct jv *v, json_t *body, const char *key, int64_t now)
{
        const char *s = jv_str(v, body, NULL, key, true, 16);
        const char *code = NULL, *why = NULL;

        if (s && driver_expiry_valid(s, now, &code, &why) < 0) {
                jv_error(v, NULL, key, code, "%s %s.", key, why);
                return NULL;
        }
        return s;
}

void api_me_driver_put(struct api_ctx *c)
{
        static const char *const allowed[] = {
                "driving_licence_expires_on", "compulsory_insurance_expires_on",
                "voluntary_insurance_expires_on", NULL,
        };
        struct store_driver d = { .member_id = c->member_id };
        const char *lic, *comp, *vol;
        struct store_member m;
        struct jv v;
        json_t *body;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        if (driver_member(c, &m) < 0) {
                json_decref(body);
                return;
        }
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        lic = read_expiry(&v, body, "driving_licence_expires_on", c->now);
        comp = read_expiry(&v, body, "compulsory_insurance_expires_on", c->now);
        vol = read_expiry(&v, body, "voluntary_insurance_expires_on", c->now);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        snprintf(d.licence_expires_on, sizeof(d.licence_expires_on), "%s", lic);
        snprintf(d.compulsory_insurance_expires_on, sizeof(d.compulsory_insurance_expires_on),
                 "%s", comp);
        snprintf(d.voluntary_insurance_expires_on, sizeof(d.voluntary_insurance_expires_on),
                 "%s", vol);
        json_decref(body);
        r = store_driver_put(c->app->st, &d, &c->actor, c->now);
        if (r < 0) {
                api_store_error(c, r, "driver");
                return;
        }
        render_driver(c, &m, 200);
}

void api_me_driver_get(struct api_ctx *c)
{
        struct store_member m;

        if (driver_member(c, &m) < 0)
                return;
        render_driver(c, &m, 200);
}

/* ---- vehicles ---------------------------------------------------------------- */

static void read_text(struct jv *v, json_t *body, const char *key, size_t max_chars,
                      char *dst, size_t len)
{
        const char *why = NULL;
        const char *s = jv_str(v, body, NULL, key, true, 4 * max_chars);

        if (s && member_name_valid(s, max_chars, &why) < 0)
                jv_error(v, NULL, key, "invalid", "%s %s.", key, why);
        else if (s)
                snprintf(dst, len, "%s", s);
}

static void read_vehicle(struct jv *v, json_t *body, struct store_vehicle *veh)
{
        static const char *const allowed[] = {
                "maker", "model", "plate", "powertrain", "connector", "battery_kwh", NULL,
        };
        json_t *kwh;
        const char *s;

        jv_unknown(v, body, NULL, allowed);
        read_text(v, body, "maker", VEHICLE_TEXT_MAX_CHARS, veh->maker, sizeof(veh->maker));
        read_text(v, body, "model", VEHICLE_TEXT_MAX_CHARS, veh->model, sizeof(veh->model));
        read_text(v, body, "plate", VEHICLE_PLATE_MAX_CHARS, veh->plate, sizeof(veh->plate));
        s = jv_str(v, body, NULL, "powertrain", true, 16);
        if (s && !vehicle_powertrain_valid(s))
                jv_error(v, NULL, "powertrain", "not_ev_or_phev",
                         "A vehicle must be an EV or a PHEV (CS-23): powertrain must be ev or "
                         "phev.");
        else if (s)
                snprintf(veh->powertrain, sizeof(veh->powertrain), "%s", s);
        s = jv_str(v, body, NULL, "connector", true, 24);
        if (s && !vehicle_connector_valid(s))
                jv_error(v, NULL, "connector", "invalid",
                         "connector must be one of type1, type2, chademo, ccs1, ccs2, gbt, "
                         "nacs, outlet_100v, outlet_200v.");
        else if (s)
                snprintf(veh->connector, sizeof(veh->connector), "%s", s);
        kwh = json_object_get(body, "battery_kwh");
        if (!kwh)
                jv_error(v, NULL, "battery_kwh", "required", "battery_kwh is required.");
        else if (!json_is_number(kwh))
                jv_error(v, NULL, "battery_kwh", "type", "battery_kwh must be a number.");
        else if (vehicle_battery_wh(json_number_value(kwh), &veh->battery_wh) < 0)
                jv_error(v, NULL, "battery_kwh", "out_of_range",
                         "battery_kwh must be more than 0 and at most %.0f.",
                         VEHICLE_BATTERY_MAX_KWH);
}

void api_me_vehicle_add(struct api_ctx *c)
{
        struct store_vehicle veh = { .member_id = c->member_id };
        struct store_member m;
        struct jv v;
        json_t *body;
        char loc[64];
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        if (driver_member(c, &m) < 0) {
                json_decref(body);
                return;
        }
        jv_init(&v);
        read_vehicle(&v, body, &veh);
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        r = store_vehicle_add(c->app->st, &veh, VEHICLES_MAX(c), &c->actor, c->now, &veh.id);
        if (r == -ENOSPC) {
                problem_respond(c->res, 409, "too_many_vehicles",
                                "A member registers at most %d vehicles; remove one first.",
                                VEHICLES_MAX(c));
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "vehicle");
                return;
        }
        veh.created_at = c->now;
        snprintf(loc, sizeof(loc), "/api/v1/me/vehicles/%lld", (long long)veh.id);
        http_response_header(c->res, "Location", loc);
        api_json(c, 201, vehicle_json(&veh));
}

void api_me_vehicles_list(struct api_ctx *c)
{
        struct vehicles_acc acc = { .items = json_array() };
        struct store_member m;
        int r;

        if (driver_member(c, &m) < 0) {
                json_decref(acc.items);
                return;
        }
        r = store_vehicle_list(c->app->st, c->member_id, vehicles_cb, &acc);
        if (r < 0) {
                json_decref(acc.items);
                api_store_error(c, r, "vehicle");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:I}", "items", acc.items, "max",
                                   (json_int_t)VEHICLES_MAX(c)));
}

void api_me_vehicle_remove(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        /* Another member's vehicle is 404 like a missing one: ids of
         * others' vehicles are not confirmed to exist. */
        r = store_vehicle_remove(c->app->st, c->member_id, id, &c->actor, c->now);
        if (r == -ENOENT) {
                problem_respond(c->res, 404, "vehicle_not_found",
                                "You have no registered vehicle %lld.", (long long)id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "vehicle");
                return;
        }
        c->res->status = 204;
}
