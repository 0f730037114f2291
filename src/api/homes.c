/*
 * homes.c - the members' side of a home (HE-3, HE-4, HE-10): linking to a
 * gateway with its device code and the pairing code it shows, invitations
 * of the household by the owner, the member list, deregistration with the
 * hand-over choice (keep the data for export, or delete it now), and the
 * household information. Also the access check every /homes/{id} route
 * shares (api_home_access).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/validate.h"
#include "util/crypto.h"
#include "util/ratelimit.h"

#define HOMES_MAX 50
#define MEMBERS_MAX 50
#define INVITE_PREFIX "ehi_"

int api_home_access(struct api_ctx *c, bool need_owner, bool allow_operator,
                    struct store_home *home)
{
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return -ENOENT;
        r = store_home_get(c->app->st, id, c->member_id, home);
        if (r < 0 && r != -ENOENT) {
                api_store_error(c, r, "home");
                return r;
        }
        if (r == -ENOENT || strcmp(home->state, "purged") == 0 ||
            (!home->role[0] && !(allow_operator && c->operator))) {
                problem_respond(c->res, 404, "not_found", "There is no such home of yours.");
                return -ENOENT;
        }
        if (need_owner && strcmp(home->role, "owner") != 0) {
                problem_respond(c->res, 403, "not_owner",
                                "Only the owner of this home may do this.");
                return -EPERM;
        }
        return 0;
}

json_t *api_home_json(struct api_ctx *c, const struct store_home *h)
{
        struct store_home_member m[MEMBERS_MAX];
        char masked[24];
        json_t *members = json_array();
        int n = 0;

        api_gateway_mask(h->code_tail, masked);
        if (store_home_members(c->app->st, h->id, m, MEMBERS_MAX, &n) == 0)
                for (int i = 0; i < n; i++)
                        json_array_append_new(members, json_pack(
                                "{s:I, s:s, s:o}", "member_id", (json_int_t)m[i].member_id,
                                "role", m[i].role, "joined_at", api_time(m[i].joined_at)));
        return json_pack("{s:I, s:{s:I, s:s, s:s, s:s}, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
                         "id", (json_int_t)h->id,
                         "gateway", "id", (json_int_t)h->gateway_id, "device_code", masked,
                         "model", h->model, "firmware", h->firmware,
                         "state", h->state, "terms_version", h->terms_version,
                         "started_at", api_time(h->started_at),
                         "ended_at", api_time(h->ended_at),
                         "keep_until", api_time(h->keep_until),
                         "role", h->role[0] ? json_string(h->role) : json_null(),
                         "members", members);
}

/* ---- link, invite, join --------------------------------------------------- */

void api_homes_link(struct api_ctx *c)
{
        static const char *const allowed[] = { "device_code", "pairing_code", NULL };
        char code_hash[CRYPTO_HASH_HEX], pairing_hash[CRYPTO_HASH_HEX], norm[GW_CODE_MAX + 1];
        const char *code, *pairing;
        struct store_home home;
        json_t *body = NULL;
        char rl_key[40];
        int64_t wait;
        struct jv v;
        size_t n;
        int r;

        snprintf(rl_key, sizeof(rl_key), "pair:%lld", (long long)c->member_id);
        wait = ratelimit_blocked(c->app->rl_account, rl_key, c->now);
        if (wait > 0) {
                char ra[24];

                snprintf(ra, sizeof(ra), "%lld", (long long)wait);
                problem_respond(c->res, 429, "too_many_attempts",
                                "Too many wrong pairing codes: try again in %lld seconds.",
                                (long long)wait);
                http_response_header(c->res, "Retry-After", ra);
                return;
        }
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        code = jv_str(&v, body, NULL, "device_code", true, GW_CODE_MAX);
        pairing = jv_str(&v, body, NULL, "pairing_code", true, 16);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        n = strlen(code);
        for (size_t i = 0; i <= n; i++)
                norm[i] = (char)((code[i] >= 'a' && code[i] <= 'z') ? code[i] - 32 : code[i]);
        crypto_token_hash(norm, code_hash);
        crypto_token_hash(pairing, pairing_hash);
        json_decref(body);
        r = store_home_link(c->app->st, code_hash, pairing_hash, c->member_id, c->now, &home);
        switch (r) {
        case 0:
                api_json(c, 201, api_home_json(c, &home));
                return;
        case -EEXIST:
                api_json(c, 200, api_home_json(c, &home));
                return;
        case -ENOENT:
                (void)ratelimit_fail(c->app->rl_account, rl_key, c->now);
                problem_respond(c->res, 422, "pairing_failed",
                                "The device code and pairing code do not match a gateway "
                                "showing that code now: ask the gateway for a new one (HE-3).");
                return;
        case -ENOTCONN:
                problem_respond(c->res, 409, "not_registered",
                                "This gateway is not registered: register it first (HE-2).");
                return;
        case -EPERM:
                problem_respond(c->res, 403, "invitation_required",
                                "This home has an owner: ask them for an invitation (HE-3).");
                return;
        default:
                api_store_error(c, r, "link");
        }
}

void api_home_invite(struct api_ctx *c)
{
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        struct store_home home;
        int64_t expires;
        int r;

        if (api_home_access(c, true, false, &home) < 0)
                return;
        if (strcmp(home.state, "active") != 0) {
                problem_respond(c->res, 409, "home_ended", "This home was deregistered.");
                return;
        }
        crypto_token_new(INVITE_PREFIX, token);
        crypto_token_hash(token, hash);
        expires = c->now + c->app->cfg->energy_invitation_ttl;
        r = store_home_invite(c->app->st, home.id, c->member_id, hash, expires, c->now);
        if (r < 0) {
                api_store_error(c, r, "invitation");
                return;
        }
        api_json(c, 201, json_pack("{s:s, s:o}", "invitation_code", token, "expires_at",
                                   api_time(expires)));
        http_response_header(c->res, "Cache-Control", "no-store");
        sodium_memzero(token, sizeof(token));
}

void api_homes_join(struct api_ctx *c)
{
        static const char *const allowed[] = { "invitation_code", NULL };
        char hash[CRYPTO_HASH_HEX];
        struct store_home home;
        const char *code;
        json_t *body = NULL;
        struct jv v;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        code = jv_str(&v, body, NULL, "invitation_code", true, CRYPTO_TOKEN_MAX);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        crypto_token_hash(code, hash);
        json_decref(body);
        r = store_home_join(c->app->st, hash, c->member_id, c->now, &home);
        if (r == -ENOENT) {
                problem_respond(c->res, 422, "invitation_invalid",
                                "This invitation is unknown, used or expired.");
                return;
        }
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "already_member", "You are a member of this home.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "join");
                return;
        }
        api_json(c, 201, api_home_json(c, &home));
}

void api_home_member_remove(struct api_ctx *c)
{
        struct store_home home;
        int64_t who;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        who = api_param_id(c, "member_id");
        if (!who)
                return;
        if (who != c->member_id && strcmp(home.role, "owner") != 0) {
                problem_respond(c->res, 403, "not_owner",
                                "Only the owner may remove other members.");
                return;
        }
        r = store_home_member_remove(c->app->st, home.id, who);
        if (r == -EPERM) {
                problem_respond(c->res, 409, "owner_stays",
                                "The owner cannot leave: deregister the home instead (HE-4).");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        http_response_set(c->res, 204, NULL, NULL, 0);
}

void api_me_homes(struct api_ctx *c)
{
        struct store_home h[HOMES_MAX];
        json_t *arr;
        int n = 0, r = store_homes_of_member(c->app->st, c->member_id, h, HOMES_MAX, &n);

        if (r < 0) {
                api_store_error(c, r, "homes");
                return;
        }
        arr = json_array();
        for (int i = 0; i < n; i++)
                json_array_append_new(arr, api_home_json(c, &h[i]));
        api_json(c, 200, json_pack("{s:o}", "items", arr));
}

void api_home_get(struct api_ctx *c)
{
        struct store_home home;

        if (api_home_access(c, false, true, &home) < 0)
                return;
        api_json(c, 200, api_home_json(c, &home));
}

/* HE-4 hand-over: the owner deregisters, keeping the data for export for
 * energy.keep_after_deregistration or deleting it now. */
void api_home_deregister(struct api_ctx *c)
{
        static const char *const allowed[] = { "data", NULL };
        struct store_home home, ended;
        const char *data;
        json_t *body = NULL;
        struct jv v;
        bool keep;
        int r;

        if (api_home_access(c, true, false, &home) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        data = jv_str(&v, body, NULL, "data", true, 8);
        if (data && strcmp(data, "keep") != 0 && strcmp(data, "delete") != 0)
                jv_error(&v, NULL, "data", "invalid", "data must be keep or delete.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        keep = strcmp(data, "keep") == 0;
        json_decref(body);
        r = store_home_end(c->app->st, home.id, keep,
                           c->now + c->app->cfg->energy_keep_after_deregistration, c->now,
                           &c->actor, &ended);
        if (r == -ESTALE) {
                problem_respond(c->res, 409, "home_ended", "This home is deregistered already.");
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "deregistration");
                return;
        }
        snprintf(ended.role, sizeof(ended.role), "%s", home.role);
        api_json(c, 200, api_home_json(c, &ended));
}

/* ---- household (HE-10) ------------------------------------------------------ */

static const char *const building_types[] = { "detached", "apartment", "terraced", "other",
                                              NULL };
static const char *const energy_sources[] = { "electricity", "city_gas", "lpg", "kerosene",
                                              "solar", "battery", "fuel_cell", "ev",
                                              "heat_pump", "other", NULL };

static bool in_list(const char *s, const char *const *list)
{
        for (size_t i = 0; s && list[i]; i++)
                if (strcmp(s, list[i]) == 0)
                        return true;
        return false;
}

static bool postcode_ok(const char *p)
{
        /* "123-4567" or "1234567" */
        size_t n = strlen(p), digits = 0;

        for (size_t i = 0; i < n; i++) {
                if (p[i] >= '0' && p[i] <= '9')
                        digits++;
                else if (!(p[i] == '-' && i == 3 && n == 8))
                        return false;
        }
        return digits == 7;
}

static void household_check(struct jv *v, json_t *body)
{
        static const char *const allowed[] = { "prefecture", "area", "city", "postcode",
                                               "household_size", "building_type",
                                               "energy_sources", NULL };
        const char *pc, *bt;
        json_t *src, *it;
        size_t i;

        jv_unknown(v, body, NULL, allowed);
        (void)jv_str(v, body, NULL, "prefecture", false, 40);
        (void)jv_str(v, body, NULL, "area", false, 40);
        (void)jv_str(v, body, NULL, "city", false, 100);
        pc = jv_str(v, body, NULL, "postcode", false, 8);
        if (pc && !postcode_ok(pc))
                jv_error(v, NULL, "postcode", "invalid", "postcode must be like 123-4567.");
        (void)jv_int(v, body, NULL, "household_size", false, 1, 20, 1);
        bt = jv_str(v, body, NULL, "building_type", false, 16);
        if (bt && !in_list(bt, building_types))
                jv_error(v, NULL, "building_type", "invalid",
                         "building_type must be detached, apartment, terraced or other.");
        src = jv_array(v, body, NULL, "energy_sources", false, 10);
        json_array_foreach(src, i, it) {
                if (!in_list(json_string_value(it), energy_sources)) {
                        char key[48];

                        snprintf(key, sizeof(key), "energy_sources.%zu", i);
                        jv_error(v, NULL, key, "invalid",
                                 "Energy sources are electricity, city_gas, lpg, kerosene, "
                                 "solar, battery, fuel_cell, ev, heat_pump or other.");
                }
        }
}

void api_home_household_get(struct api_ctx *c)
{
        struct store_home home;
        json_t *doc;
        char *text = NULL;
        int r;

        if (api_home_access(c, false, false, &home) < 0)
                return;
        r = store_household_get(c->app->st, home.id, &text);
        if (r < 0) {
                api_store_error(c, r, "household");
                return;
        }
        doc = json_loads(text, 0, NULL);
        free(text);
        api_json(c, 200, doc ? doc : json_object());
}

void api_home_household_put(struct api_ctx *c)
{
        struct store_home home;
        json_t *body = NULL;
        struct jv v;
        char *text;
        int r;

        if (api_home_access(c, true, false, &home) < 0)
                return;
        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        household_check(&v, body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
        r = text ? store_household_put(c->app->st, home.id, text, c->now) : -ENOMEM;
        free(text);
        if (r == -ENOENT) {
                json_decref(body);
                problem_respond(c->res, 409, "home_ended", "This home was deregistered.");
                return;
        }
        if (r < 0) {
                json_decref(body);
                api_store_error(c, r, "household");
                return;
        }
        api_json(c, 200, body);
}
