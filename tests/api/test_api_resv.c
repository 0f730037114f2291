/*
 * test_api_resv.c - the reservation lifecycle over HTTP (issue 5, CS-4,
 * CS-12, CS-14 to CS-35, CS-39): each rule at its boundaries, with every
 * wallet balance that moves (user, host, operator's fee revenue and
 * penalty share, escrow) checked after each step. Time-driven steps use
 * the test build's clock route (PUT /api/v1/_test/clock), which also runs
 * the steps due at the new time before it answers.
 *
 * Every test makes its own host, driver and chargers, so balances start
 * at zero; the operator's accounts are shared, so they are compared as
 * differences.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client.h"
#include "harness.h"
#include "host_fixture.h"
#include "slots_fixture.h"
#include "smtp_sink.h"

#define SECRET "resv-webhook-secret"
#define LAT 35.681236
#define LON 139.767125
#define H 3600LL

static struct api_server srv;
static struct smtp_sink *sink;
static char *op;
static int seq;
static long long clock_offset;          /* server clock - real clock */

/* ---- plumbing ------------------------------------------------------------------------ */

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        return r;
}

static void expect(struct api_resp *r, long status)
{
        if (r->status != status)
                fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
        assert_int_equal(r->status, status);
}

/* Moves the server's clock to t (0: back to the real time). */
static void clock_at(long long t)
{
        char *body = t ? api_printf("{\"now\":\"%s\"}", rfc(t)) : strdup("{\"now\":null}");
        struct api_resp r = callf("PUT", op, body, "/api/v1/_test/clock");

        expect(&r, 200);
        api_resp_free(&r);
        free(body);
        clock_offset = t ? t - (long long)time(NULL) : 0;
}

/* A signed wallet provider top-up (the webhook of issue 3). */
static json_int_t topup(int64_t member, long long amount)
{
        char *body = api_printf("{\"transaction_id\":\"resv-%d\",\"member_id\":%lld,"
                                "\"amount\":%lld}", ++seq, (long long)member, amount);
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        char hex[2 * sizeof(mac) + 1], tsbuf[32];
        const char *headers[4];
        char *h_ts, *h_sig;
        struct api_resp r = { 0 };
        json_int_t paid;
        long long ts = (long long)time(NULL) + clock_offset;    /* the server's time */

        snprintf(tsbuf, sizeof(tsbuf), "%lld.", ts);
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)tsbuf, strlen(tsbuf));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        tsbuf[strlen(tsbuf) - 1] = '\0';
        h_ts = api_printf("X-Wallet-Timestamp: %s", tsbuf);
        h_sig = api_printf("X-Wallet-Signature: sha256=%s", hex);
        headers[0] = "Content-Type: application/json";
        headers[1] = h_ts;
        headers[2] = h_sig;
        headers[3] = NULL;
        assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/wallet/topups", headers, body,
                                      strlen(body), &r), 0);
        expect(&r, 201);
        paid = api_json_int(r.json, "debt_paid", -1);
        api_resp_free(&r);
        free(h_ts);
        free(h_sig);
        free(body);
        return paid;
}

struct wallet {
        json_int_t balance, available, held, debt;
};

static struct wallet wallet_of(int64_t member)
{
        struct api_resp r = callf("GET", op, NULL, "/api/v1/members/%lld/wallet",
                                  (long long)member);
        struct wallet w;

        expect(&r, 200);
        w.balance = api_json_int(r.json, "balance", -1);
        w.available = api_json_int(r.json, "available", -1);
        w.held = api_json_int(r.json, "held", -1);
        w.debt = api_json_int(r.json, "debt", -1);
        api_resp_free(&r);
        return w;
}

/* Balance of a system account: 1 escrow, 2 fee revenue, 3 penalty share. */
static json_int_t sys_balance(int id)
{
        struct api_resp r = callf("GET", op, NULL, "/api/v1/ledger/accounts/%d", id);
        json_int_t b;

        expect(&r, 200);
        b = api_json_int(r.json, "balance", 0);
        api_resp_free(&r);
        return b;
}

struct ops {
        json_int_t escrow, revenue, share;
};

static struct ops ops_now(void)
{
        struct ops o = { sys_balance(1), sys_balance(2), sys_balance(3) };

        return o;
}

/* A host with a charger (and a second charger when c2 is not NULL) and a driver. */
struct world {
        char *host;
        int64_t host_id;
        char *drv;
        int64_t drv_id;
        int64_t vehicle;
        int64_t charger;
        char *qr;                       /* the charger's code token */
};

/* Creates a charger for the host with a QR code attached; *qr gets its
 * token (caller frees). */
static int64_t charger_with_qr(struct world *w, double lat, double lon, const char *extra,
                               char **qr)
{
        char *body = charger_body(lat, lon, extra);
        struct api_resp r = callf("POST", w->host, body, "/api/v1/hosts/%lld/chargers",
                                  (long long)w->host_id);
        int64_t id;
        char *tok, *b2;

        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        free(body);
        tok = charger_qr_token(&srv, id);
        r = callf("POST", op, NULL, "/api/v1/chargers/%lld/qr/mailed", (long long)id);
        expect(&r, 200);
        api_resp_free(&r);
        b2 = api_printf("{\"token\":\"%s\"}", tok);
        r = callf("POST", w->host, b2, "/api/v1/chargers/%lld/qr/attached", (long long)id);
        expect(&r, 200);
        api_resp_free(&r);
        free(b2);
        *qr = tok;
        return id;
}

/* One slot over days 1..20 at price. */
static void slot_days(struct world *w, int64_t charger, long long price)
{
        make_slot(&srv, w->host, charger, tokyo_at(1, 0, 0), tokyo_at(20, 0, 0), price);
}

static void world_new(struct world *w, const char *kind, long long price, long long funds)
{
        char *e;

        memset(w, 0, sizeof(*w));
        clock_at(0);
        e = api_printf("host%d@resv.test", ++seq);
        w->host = make_host(&srv, e, kind, &w->host_id);
        free(e);
        e = api_printf("drv%d@resv.test", ++seq);
        w->drv = make_driver(&srv, e, &w->vehicle);
        free(e);
        w->drv_id = me_id(&srv, w->drv);
        w->charger = charger_with_qr(w, LAT, LON, "", &w->qr);
        slot_days(w, w->charger, price);
        if (funds > 0)
                topup(w->drv_id, funds);
}

static void world_free(struct world *w)
{
        clock_at(0);
        free(w->host);
        free(w->drv);
        free(w->qr);
}

/* POST /api/v1/reservations; the answer (caller frees). */
static struct api_resp request(const char *token, int64_t charger, int64_t vehicle,
                               long long from, long long to)
{
        char *body = api_printf("{\"charger_id\":%lld,\"vehicle_id\":%lld,\"starts_at\":\"%s\","
                                "\"ends_at\":\"%s\"}", (long long)charger, (long long)vehicle,
                                rfc(from), rfc(to));
        struct api_resp r = callf("POST", token, body, "/api/v1/reservations");

        free(body);
        return r;
}

static int64_t request_ok(struct world *w, long long from, long long to)
{
        struct api_resp r = request(w->drv, w->charger, w->vehicle, from, to);
        int64_t id;

        expect(&r, 201);
        assert_string_equal(api_json_str(r.json, "state"), "requested");
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        return id;
}

static struct api_resp step(const char *token, int64_t id, const char *what, const char *body)
{
        return callf("POST", token, body ? body : "{}", "/api/v1/reservations/%lld/%s",
                     (long long)id, what);
}

static void step_ok(const char *token, int64_t id, const char *what, const char *body,
                    const char *state)
{
        struct api_resp r = step(token, id, what, body);

        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), state);
        api_resp_free(&r);
}

static int64_t booked(struct world *w, long long from, long long to)
{
        int64_t id = request_ok(w, from, to);

        step_ok(w->host, id, "approve", NULL, "confirmed");
        return id;
}

static void check_in(struct world *w, int64_t id)
{
        char *body = api_printf("{\"qr_token\":\"%s\",\"latitude\":%f,\"longitude\":%f}", w->qr,
                                LAT, LON);

        step_ok(w->drv, id, "check-in", body, "checked_in");
        free(body);
}

static json_int_t resv_int(int64_t id, const char *key)
{
        struct api_resp r = callf("GET", op, NULL, "/api/v1/reservations/%lld", (long long)id);
        json_int_t v;

        expect(&r, 200);
        v = api_json_int(r.json, key, -1);
        api_resp_free(&r);
        return v;
}

static char *resv_state(int64_t id)
{
        struct api_resp r = callf("GET", op, NULL, "/api/v1/reservations/%lld", (long long)id);
        char *s;

        expect(&r, 200);
        s = strdup(api_json_str(r.json, "state"));
        api_resp_free(&r);
        return s;
}

static void assert_state(int64_t id, const char *state)
{
        char *s = resv_state(id);

        assert_string_equal(s, state);
        free(s);
}

/* ---- setup -------------------------------------------------------------------------- */

static char relay[32];
static const char *const server_args[] = { "--wallet-webhook-secret", SECRET,
                                           "--wallet-webhook-tolerance", "1h",
                                           "--mail-smtp-relay", relay,
                                           "--mail-retry-base", "1s",
                                           "--no-log-requests", NULL };

static int setup(void **state)
{
        int p = 0;

        if (sodium_init() < 0 || smtp_sink_start(&sink, &p) < 0)
                return -1;
        snprintf(relay, sizeof(relay), "127.0.0.1:%d", p);
        if (api_server_start(&srv, server_args) < 0)
                return -1;
        op = operator_token(&srv, "op@resv.test");
        return 0;
}

static int teardown(void **state)
{
        free(op);
        smtp_sink_stop(sink);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- CS-24, CS-16, CS-14: requests, frozen price, occupied range -------------------------- */

static void test_CS_24_request_holds_the_fee_and_refuses_what_cannot_be_held(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        struct wallet u;
        struct ops o0 = ops_now(), o1;
        int64_t id;

        world_new(&w, "individual", 1200, 5000);
        /* 1 h 30 min at 1200/h: floor(1200 x 90 / 60) = 1800, held at once */
        r = request(w.drv, w.charger, w.vehicle, s, s + 90 * 60);
        expect(&r, 201);
        assert_int_equal(api_json_int(r.json, "fee", 0), 1800);
        assert_int_equal(api_json_int(r.json, "held", 0), 1800);
        assert_int_equal(api_json_int(r.json, "hourly_price", 0), 1200);
        assert_non_null(api_json_str(r.json, "expires_at"));
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        u = wallet_of(w.drv_id);
        assert_int_equal(u.balance, 5000);
        assert_int_equal(u.held, 1800);
        assert_int_equal(u.available, 3200);
        o1 = ops_now();
        assert_int_equal(o1.escrow - o0.escrow, 0);     /* pending only */
        /* a request that cannot be held is refused with the shortfall */
        r = request(w.drv, w.charger, w.vehicle, s + 2 * H, s + 5 * H);
        assert_problem(&r, 409, "insufficient_funds");
        assert_int_equal(api_json_int(r.json, "available", 0), 3200);
        assert_int_equal(api_json_int(r.json, "shortfall", 0), 3600 - 3200);
        api_resp_free(&r);
        /* off the grid, outside the slots, in the past */
        r = request(w.drv, w.charger, w.vehicle, s + 5 * 60, s + H);
        assert_problem(&r, 422, "invalid_range");
        api_resp_free(&r);
        r = request(w.drv, w.charger, w.vehicle, tokyo_at(25, 10, 0), tokyo_at(25, 11, 0));
        assert_problem(&r, 422, "not_in_slots");
        api_resp_free(&r);
        r = request(w.drv, w.charger, w.vehicle, tokyo_at(-1, 10, 0), tokyo_at(-1, 11, 0));
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        /* CS-16: the slot's price cannot change once requested */
        r = callf("GET", w.host, NULL, "/api/v1/chargers/%lld/slots", (long long)w.charger);
        expect(&r, 200);
        {
                int64_t slot = api_json_int(json_array_get(api_json_get(r.json, "items"), 0),
                                            "id", 0);
                struct api_resp p;

                p = callf("PATCH", w.host, "{\"hourly_price\":100}", "/api/v1/slots/%lld",
                          (long long)slot);
                assert_problem(&p, 409, "slot_in_use");
                api_resp_free(&p);
        }
        api_resp_free(&r);
        /* CS-18: nor the charger be deleted */
        r = callf("DELETE", w.host, NULL, "/api/v1/chargers/%lld", (long long)w.charger);
        assert_problem(&r, 409, "charger_in_use");
        api_resp_free(&r);
        assert_int_equal(resv_int(id, "fee"), 1800);
        world_free(&w);
}

static void test_CS_14_pending_request_occupies_its_range(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        char *e = api_printf("second%d@resv.test", ++seq), *t2;
        int64_t v2, id;

        world_new(&w, "individual", 600, 5000);
        t2 = make_driver(&srv, e, &v2);
        topup(me_id(&srv, t2), 5000);
        id = request_ok(&w, s, s + H);
        r = request(t2, w.charger, v2, s + 30 * 60, s + 2 * H);
        assert_problem(&r, 409, "range_taken");
        api_resp_free(&r);
        /* adjacent ranges are free (half-open) */
        r = request(t2, w.charger, v2, s + H, s + 2 * H);
        expect(&r, 201);
        api_resp_free(&r);
        /* approving the pending one cannot double-book */
        step_ok(w.host, id, "approve", NULL, "confirmed");
        free(t2);
        free(e);
        world_free(&w);
}

static void test_CS_14_expiry_releases_the_hold_at_the_earlier_time(void **state)
{
        struct world w;
        long long now = (long long)time(NULL), s = tokyo_at(5, 10, 0), s2;
        int64_t a, b;

        world_new(&w, "individual", 1000, 10000);
        /* sent now, starts in > 24 h: expires 24 h after sending */
        clock_at(now);
        a = request_ok(&w, s, s + H);
        assert_int_equal(wallet_of(w.drv_id).held, 1000);
        clock_at(now + 24 * H - 1);
        assert_state(a, "requested");
        clock_at(now + 24 * H);
        assert_state(a, "expired");
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        assert_int_equal(wallet_of(w.drv_id).available, 10000);
        /* starting in 2 h: expires at the start */
        s2 = tokyo_at(4, 12, 0);
        clock_at(s2 - 2 * H);
        b = request_ok(&w, s2, s2 + H);
        clock_at(s2 - 1);
        assert_state(b, "requested");
        clock_at(s2);
        assert_state(b, "expired");
        /* a decision after expiry is refused with the current state */
        {
                struct api_resp r = step(w.host, b, "approve", NULL);

                assert_problem(&r, 409, "invalid_transition");
                assert_string_equal(api_json_str(r.json, "state"), "expired");
                api_resp_free(&r);
        }
        world_free(&w);
}

static void test_CS_14_reject_and_withdraw_void_the_hold_and_are_final(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t a, b;

        world_new(&w, "individual", 1000, 5000);
        a = request_ok(&w, s, s + H);
        b = request_ok(&w, s + 2 * H, s + 3 * H);
        assert_int_equal(wallet_of(w.drv_id).held, 2000);
        /* only the host decides; only the user withdraws */
        r = step(w.drv, a, "approve", NULL);
        assert_problem(&r, 403, "not_allowed");
        api_resp_free(&r);
        r = step(w.host, b, "withdraw", NULL);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        step_ok(w.host, a, "reject", "{\"message\":\"その日は使えません\"}", "rejected");
        step_ok(w.drv, b, "withdraw", NULL, "withdrawn");
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        assert_int_equal(wallet_of(w.drv_id).balance, 5000);
        r = step(w.host, a, "approve", NULL);
        assert_problem(&r, 409, "invalid_transition");
        assert_string_equal(api_json_str(r.json, "state"), "rejected");
        api_resp_free(&r);
        r = callf("GET", w.drv, NULL, "/api/v1/reservations/%lld", (long long)a);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "message"), "その日は使えません");
        api_resp_free(&r);
        /* the log: request, reject, with actors */
        r = callf("GET", w.drv, NULL, "/api/v1/reservations/%lld/events", (long long)a);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_string_equal(api_json_str(json_array_get(api_json_get(r.json, "items"), 0),
                                         "actor_role"), "user");
        assert_int_equal(api_json_int(json_array_get(api_json_get(r.json, "items"), 0),
                                      "actor_id", 0), w.drv_id);
        assert_string_equal(api_json_str(json_array_get(api_json_get(r.json, "items"), 1),
                                         "actor_role"), "host");
        api_resp_free(&r);
        world_free(&w);
}

static void test_CS_15_host_cannot_request_its_own_slots(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t v;

        world_new(&w, "individual", 1000, 0);
        r = callf("PUT", w.host, "{\"driving_licence_expires_on\":\"2099-12-31\","
                  "\"compulsory_insurance_expires_on\":\"2099-12-31\","
                  "\"voluntary_insurance_expires_on\":\"2099-12-31\"}", "/api/v1/me/driver");
        expect(&r, 200);
        api_resp_free(&r);
        r = callf("POST", w.host, "{\"maker\":\"日産\",\"model\":\"サクラ\",\"plate\":\"x\","
                  "\"powertrain\":\"ev\",\"connector\":\"type1\",\"battery_kwh\":20}",
                  "/api/v1/me/vehicles");
        expect(&r, 201);
        v = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = request(w.host, w.charger, v, s, s + H);
        assert_problem(&r, 409, "charger_not_bookable");
        assert_string_equal(api_json_str(r.json, "reason"), "own_charger");
        api_resp_free(&r);
        /* another member's vehicle cannot be named (CS-23: only a registered vehicle) */
        r = request(w.drv, w.charger, v, s, s + H);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        world_free(&w);
}

/* ---- CS-27: user cancellation at exactly 48 h and 24 h ----------------------------------- */

static void test_CS_27_user_cancellation_boundaries(void **state)
{
        struct world w;
        long long s = tokyo_at(6, 10, 0);
        struct ops o0, o1;
        struct api_resp r;
        int64_t a, b, c, d;

        world_new(&w, "individual", 1001, 10000);
        clock_at(s - 49 * H);
        a = booked(&w, s, s + H);
        b = booked(&w, s + H, s + 2 * H);
        c = booked(&w, s + 2 * H, s + 3 * H);
        d = booked(&w, s + 3 * H, s + 4 * H);
        assert_int_equal(wallet_of(w.drv_id).held, 4004);
        o0 = ops_now();
        /* exactly 48 h before: free */
        clock_at(s - 48 * H);
        r = step(w.drv, a, "cancel", NULL);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "cancelled_by_user");
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 0);
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 1001);
        api_resp_free(&r);
        assert_int_equal(wallet_of(w.host_id).balance, 0);
        /* b starts at s + 1 h: exactly 24 h before it is 50 %, rounded down: 500 */
        clock_at(s + H - 24 * H);
        r = step(w.drv, b, "cancel", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 500);
        assert_int_equal(api_json_int(r.json, "money.platform_fee", -1), 50);
        assert_int_equal(api_json_int(r.json, "money.host_received", -1), 450);
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 501);
        api_resp_free(&r);
        /* c starts at s + 2 h: 24 h and one second before is 50 % too */
        clock_at(s + 2 * H - 24 * H - 1);
        r = step(w.drv, c, "cancel", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 500);
        api_resp_free(&r);
        /* d: one second under 24 h: 100 % */
        clock_at(s + 3 * H - 24 * H + 1);
        r = step(w.drv, d, "cancel", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 1001);
        assert_int_equal(api_json_int(r.json, "money.platform_fee", -1), 100);
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 0);
        api_resp_free(&r);
        /* every balance: user paid 500 + 500 + 1001, host got 450 + 450 + 901 */
        o1 = ops_now();
        assert_int_equal(wallet_of(w.drv_id).balance, 10000 - 2001);
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        assert_int_equal(wallet_of(w.host_id).balance, 1801);
        assert_int_equal(o1.revenue - o0.revenue, 200);
        assert_int_equal(o1.escrow - o0.escrow, 0);
        /* a cancelled booking cannot be cancelled again */
        r = step(w.drv, d, "cancel", NULL);
        assert_problem(&r, 409, "invalid_transition");
        api_resp_free(&r);
        world_free(&w);
}

/* ---- CS-17: host cancellation, 168 h ------------------------------------------------------- */

static void test_CS_17_host_cancellation_168h(void **state)
{
        struct world w, wc;
        long long s = tokyo_at(9, 10, 0);
        struct ops o0, o1;
        struct api_resp r;
        int64_t a, b, c;

        world_new(&w, "individual", 1000, 10000);
        clock_at(s - 169 * H);
        a = booked(&w, s, s + H);
        b = booked(&w, s + H, s + 2 * H);
        /* more than 168 h before: the host itself, free, user refunded in full */
        clock_at(s - 168 * H - 1);
        r = step(w.host, a, "host-cancel", "{\"reason\":\"私用\"}");
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "cancelled_by_host");
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 1000);
        assert_int_equal(api_json_int(r.json, "host_fee", -1), 0);
        api_resp_free(&r);
        /* exactly 168 h before b: only the operator; an individual host pays 2,200 */
        clock_at(s + H - 168 * H);
        r = step(w.host, b, "host-cancel", NULL);
        assert_problem(&r, 403, "operator_required");
        api_resp_free(&r);
        o0 = ops_now();
        r = step(op, b, "host-cancel", "{\"reason\":\"host asked support\"}");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 1000);
        assert_int_equal(api_json_int(r.json, "money.host_fee", -1), 2200);
        /* the host's wallet is empty: all of it is its debt (CS-34) */
        assert_int_equal(api_json_int(r.json, "money.host_fee_owed", -1), 2200);
        api_resp_free(&r);
        o1 = ops_now();
        assert_int_equal(o1.revenue - o0.revenue, 2200);
        assert_int_equal(wallet_of(w.host_id).debt, 2200);
        assert_int_equal(wallet_of(w.drv_id).balance, 10000);
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        /* a corporate host pays nothing */
        world_new(&wc, "corporation", 1000, 10000);
        clock_at(s - 169 * H);
        c = booked(&wc, s, s + H);
        clock_at(s - H);
        r = step(op, c, "host-cancel", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.host_fee", -1), 0);
        api_resp_free(&r);
        assert_int_equal(wallet_of(wc.host_id).debt, 0);
        world_free(&wc);
        world_free(&w);
}

/* ---- CS-19, CS-29, CS-30: check-in, check-out, payment to the host ---------------------------- */

static void test_CS_19_check_out_pays_the_host_less_platform_fee(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct ops o0, o1;
        struct api_resp r;
        int64_t id;

        world_new(&w, "individual", 1200, 10000);
        clock_at(s - H);
        id = booked(&w, s, s + 2 * H);
        o0 = ops_now();
        clock_at(s + 5 * 60);
        check_in(&w, id);
        /* CS-30: ending an hour early reduces nothing */
        clock_at(s + H);
        r = step(w.drv, id, "check-out", NULL);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "completed");
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 2400);
        assert_int_equal(api_json_int(r.json, "money.platform_fee", -1), 240);
        assert_int_equal(api_json_int(r.json, "money.host_received", -1), 2160);
        assert_int_equal(api_json_int(r.json, "money.penalty", -1), 0);
        api_resp_free(&r);
        o1 = ops_now();
        assert_int_equal(wallet_of(w.drv_id).balance, 10000 - 2400);
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        assert_int_equal(wallet_of(w.host_id).balance, 2160);
        assert_int_equal(o1.revenue - o0.revenue, 240);
        assert_int_equal(o1.escrow - o0.escrow, 0);
        /* the receipt */
        r = callf("GET", w.drv, NULL, "/api/v1/reservations/%lld/receipt", (long long)id);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "total_paid", -1), 2400);
        api_resp_free(&r);
        world_free(&w);
}

static void test_CS_29_check_in_needs_the_code_and_presence(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t id;
        char *body;

        world_new(&w, "individual", 600, 5000);
        clock_at(s - H);
        id = booked(&w, s, s + H);
        /* before the start: not yet (early use moves the start instead) */
        body = api_printf("{\"qr_token\":\"%s\"}", w.qr);
        r = step(w.drv, id, "check-in", body);
        assert_problem(&r, 409, "outside_booking_time");
        api_resp_free(&r);
        clock_at(s);
        r = step(w.drv, id, "check-in", "{\"qr_token\":\"qr_wrong\"}");
        assert_problem(&r, 403, "qr_token_invalid");
        api_resp_free(&r);
        /* 0.01 degree north is about 1.1 km: too far */
        free(body);
        body = api_printf("{\"qr_token\":\"%s\",\"latitude\":%f,\"longitude\":%f}", w.qr,
                          LAT + 0.01, LON);
        r = step(w.drv, id, "check-in", body);
        assert_problem(&r, 409, "too_far");
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"qr_token\":\"%s\",\"latitude\":%f}", w.qr, LAT);
        r = step(w.drv, id, "check-in", body);
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        free(body);
        /* about 100 m away: fine, and the location is kept with the event */
        body = api_printf("{\"qr_token\":\"%s\",\"latitude\":%f,\"longitude\":%f}", w.qr,
                          LAT + 0.0009, LON);
        step_ok(w.drv, id, "check-in", body, "checked_in");
        free(body);
        r = callf("GET", w.host, NULL, "/api/v1/reservations/%lld/events", (long long)id);
        expect(&r, 200);
        {
                json_t *ev = json_array_get(api_json_get(r.json, "items"), 2);

                assert_string_equal(api_json_str(ev, "event"), "check_in");
                assert_non_null(api_json_get(ev, "location.latitude"));
        }
        api_resp_free(&r);
        world_free(&w);
}

/* ---- CS-33, CS-34, CS-21: overstay, debt, penalty share --------------------------------------- */

static void test_CS_33_overstay_penalty_debt_and_share(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct ops o0, o1, o2;
        struct api_resp r;
        int64_t id;

        world_new(&w, "individual", 1200, 1230);
        clock_at(s - H);
        id = booked(&w, s, s + H);
        clock_at(s);
        check_in(&w, id);
        o0 = ops_now();
        /* 61 s late: 2 started minutes, 2 x 1200 x 2 / 60 = 80 yen; the wallet
         * has 30 left after the fee: 30 paid, 50 owed */
        clock_at(s + H + 61);
        r = step(w.drv, id, "check-out", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "overtime_seconds", -1), 61);
        assert_int_equal(api_json_int(r.json, "money.penalty", -1), 80);
        assert_int_equal(api_json_int(r.json, "money.penalty_paid", -1), 30);
        assert_int_equal(api_json_int(r.json, "money.penalty_owed", -1), 50);
        /* CS-21: the host pays 20 % of what was paid: floor(6) */
        assert_int_equal(api_json_int(r.json, "money.penalty_share", -1), 6);
        api_resp_free(&r);
        o1 = ops_now();
        assert_int_equal(wallet_of(w.drv_id).balance, 0);
        assert_int_equal(wallet_of(w.drv_id).debt, 50);
        assert_int_equal(wallet_of(w.host_id).balance, 1080 + 30 - 6);
        assert_int_equal(o1.revenue - o0.revenue, 120);
        assert_int_equal(o1.share - o0.share, 6);
        /* CS-34: no new requests while owing */
        r = request(w.drv, w.charger, w.vehicle, s + 3 * H, s + 4 * H);
        assert_problem(&r, 403, "debt_outstanding");
        assert_int_equal(api_json_int(r.json, "owed", 0), 50);
        api_resp_free(&r);
        /* a top-up pays it; the host gets the rest and pays its share of it */
        assert_int_equal(topup(w.drv_id, 100), 50);
        o2 = ops_now();
        assert_int_equal(wallet_of(w.drv_id).balance, 50);
        assert_int_equal(wallet_of(w.drv_id).debt, 0);
        assert_int_equal(wallet_of(w.host_id).balance, 1104 + 50 - 10);
        assert_int_equal(o2.share - o0.share, 16);      /* floor(80 x 20 %) in all */
        assert_int_equal(o2.escrow - o0.escrow, 0);
        assert_int_equal(resv_int(id, "penalty_paid"), 80);
        /* booking again is possible (this one just cannot be held) */
        r = request(w.drv, w.charger, w.vehicle, s + 3 * H, s + 4 * H);
        assert_problem(&r, 409, "insufficient_funds");
        api_resp_free(&r);
        world_free(&w);
}

static void test_CS_33_overdue_booking_closed_after_24h_with_24h_overtime(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t id;

        world_new(&w, "individual", 600, 100000);
        clock_at(s - H);
        id = booked(&w, s, s + H);
        clock_at(s);
        check_in(&w, id);
        clock_at(s + H);
        assert_state(id, "overdue");
        clock_at(s + H + 24 * H - 1);
        assert_state(id, "overdue");
        clock_at(s + H + 24 * H);
        assert_state(id, "completed");
        /* never checked out, overtime unproven: 24 h for a 1 h booking:
         * 2 x 600 x 1440 / 60 = 28,800 */
        assert_int_equal(resv_int(id, "overtime_seconds"), 24 * H);
        assert_int_equal(resv_int(id, "penalty"), 28800);
        assert_int_equal(resv_int(id, "penalty_paid"), 28800);
        assert_int_equal(wallet_of(w.drv_id).balance, 100000 - 600 - 28800);
        /* the user was told */
        r = callf("GET", w.drv, NULL, "/api/v1/me/inbox");
        expect(&r, 200);
        assert_non_null(strstr(r.body, "reservation.close_overdue"));
        api_resp_free(&r);
        world_free(&w);
}

static void test_CS_33_no_penalty_when_the_host_has_penalties_off(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t id, ch;
        char *qr;

        world_new(&w, "individual", 600, 10000);
        ch = charger_with_qr(&w, LAT + 0.001, LON, "\"penalty_enabled\":false", &qr);
        slot_days(&w, ch, 600);
        clock_at(s - H);
        r = request(w.drv, ch, w.vehicle, s, s + H);
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        step_ok(w.host, id, "approve", NULL, "confirmed");
        clock_at(s);
        free(w.qr);
        w.qr = qr;
        check_in(&w, id);
        clock_at(s + 3 * H);
        r = step(w.drv, id, "check-out", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.penalty", -1), 0);
        assert_int_equal(api_json_int(r.json, "overtime_seconds", -1), 2 * H);
        api_resp_free(&r);
        world_free(&w);
}

/* ---- CS-31 early use, CS-32 extension ---------------------------------------------------------- */

static void test_CS_31_early_use_keeps_duration_and_settles_the_difference(void **state)
{
        struct world w;
        long long day = tokyo_at(4, 0, 0);
        struct api_resp r;
        int64_t ch, id;
        char *qr, *body;

        world_new(&w, "individual", 600, 10000);
        ch = charger_with_qr(&w, LAT + 0.002, LON, "", &qr);
        make_slot(&srv, w.host, ch, tokyo_at(1, 0, 0), day + 11 * H, 600);
        make_slot(&srv, w.host, ch, day + 11 * H, tokyo_at(20, 0, 0), 1200);
        clock_at(day + 7 * H);
        r = request(w.drv, ch, w.vehicle, day + 11 * H, day + 12 * H);
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        assert_int_equal(api_json_int(r.json, "fee", 0), 1200);
        api_resp_free(&r);
        step_ok(w.host, id, "approve", NULL, "confirmed");
        /* 11:00-12:00 used from 10:00 becomes 10:00-11:00 at 600: 600 back at once */
        body = api_printf("{\"starts_at\":\"%s\"}", rfc(day + 10 * H));
        r = step(w.drv, id, "early-use", body);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "starts_at"), rfc(day + 10 * H));
        assert_string_equal(api_json_str(r.json, "ends_at"), rfc(day + 11 * H));
        assert_int_equal(api_json_int(r.json, "fee", 0), 600);
        assert_int_equal(api_json_int(r.json, "money.held_change", 0), -600);
        api_resp_free(&r);
        free(body);
        assert_int_equal(wallet_of(w.drv_id).held, 600);
        assert_int_equal(wallet_of(w.drv_id).available, 9400);
        /* a taken range, off the grid, or before the step holding now: refused */
        {
                char *e = api_printf("third%d@resv.test", ++seq), *t3;
                int64_t v3;

                t3 = make_driver(&srv, e, &v3);
                topup(me_id(&srv, t3), 5000);
                r = request(t3, ch, v3, day + 8 * H, day + 9 * H);
                expect(&r, 201);
                api_resp_free(&r);
                free(t3);
                free(e);
        }
        body = api_printf("{\"starts_at\":\"%s\"}", rfc(day + 8 * H + 30 * 60));
        r = step(w.drv, id, "early-use", body);
        assert_problem(&r, 409, "range_taken");
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"starts_at\":\"%s\"}", rfc(day + 9 * H + 5 * 60));
        r = step(w.drv, id, "early-use", body);
        assert_problem(&r, 422, "invalid_range");
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"starts_at\":\"%s\"}", rfc(day + 6 * H));
        r = step(w.drv, id, "early-use", body);
        assert_problem(&r, 409, "outside_booking_time");
        api_resp_free(&r);
        free(body);
        free(qr);
        world_free(&w);
}

static void test_CS_32_extension_held_at_once_and_captured_at_check_out(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t id, ch, id2;
        char *body, *qr;

        world_new(&w, "individual", 1200, 10000);
        ch = charger_with_qr(&w, LAT + 0.003, LON,
                             "\"kind\":\"compatible_fast\",\"output_kw\":50,"
                             "\"connector\":\"chademo\",\"extendable\":false", &qr);
        slot_days(&w, ch, 1200);
        clock_at(s - H);
        id = booked(&w, s, s + H);
        /* not before use */
        body = api_printf("{\"ends_at\":\"%s\"}", rfc(s + H + 30 * 60));
        r = step(w.drv, id, "extend", body);
        assert_problem(&r, 409, "invalid_transition");
        api_resp_free(&r);
        clock_at(s);
        check_in(&w, id);
        r = step(w.drv, id, "extend", body);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "extension_fee", -1), 600);
        assert_int_equal(api_json_int(r.json, "held", -1), 1800);
        assert_string_equal(api_json_str(r.json, "ends_at"), rfc(s + H + 30 * 60));
        api_resp_free(&r);
        free(body);
        assert_int_equal(wallet_of(w.drv_id).held, 1800);
        /* checking out at the new end: no penalty, fee + extension captured */
        clock_at(s + H + 30 * 60);
        r = step(w.drv, id, "check-out", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 1800);
        assert_int_equal(api_json_int(r.json, "money.penalty", -1), 0);
        api_resp_free(&r);
        assert_int_equal(wallet_of(w.host_id).balance, 1620);
        /* compatible fast chargers are not extendable */
        body = api_printf("{\"charger_id\":%lld,\"vehicle_id\":%lld,\"qr_token\":\"%s\","
                          "\"minutes\":60}", (long long)ch, (long long)w.vehicle, qr);
        r = callf("POST", w.drv, body, "/api/v1/reservations/onsite");
        expect(&r, 201);
        id2 = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"ends_at\":\"%s\"}", rfc(s + 5 * H));
        r = step(w.drv, id2, "extend", body);
        assert_problem(&r, 409, "invalid_transition");
        api_resp_free(&r);
        free(body);
        free(qr);
        world_free(&w);
}

/* ---- CS-26 on-site booking ------------------------------------------------------------------------ */

static void test_CS_26_onsite_booking_starts_at_once(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 7);
        struct api_resp r;
        int64_t id;
        char *body;

        world_new(&w, "individual", 1200, 10000);
        clock_at(s);
        body = api_printf("{\"charger_id\":%lld,\"vehicle_id\":%lld,\"qr_token\":\"%s\","
                          "\"minutes\":60}", (long long)w.charger, (long long)w.vehicle, w.qr);
        r = callf("POST", w.drv, body, "/api/v1/reservations/onsite");
        expect(&r, 201);
        assert_string_equal(api_json_str(r.json, "state"), "checked_in");
        assert_true(json_is_true(api_json_get(r.json, "onsite")));
        /* from the grid step holding now (10:00) for 60 minutes */
        assert_string_equal(api_json_str(r.json, "starts_at"), rfc(tokyo_at(3, 10, 0)));
        assert_string_equal(api_json_str(r.json, "ends_at"), rfc(tokyo_at(3, 11, 0)));
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        /* the same range again: taken */
        r = callf("POST", w.drv, body, "/api/v1/reservations/onsite");
        assert_problem(&r, 409, "range_taken");
        api_resp_free(&r);
        free(body);
        /* a wrong code is refused */
        body = api_printf("{\"charger_id\":%lld,\"vehicle_id\":%lld,\"qr_token\":\"nope\","
                          "\"minutes\":60}", (long long)w.charger, (long long)w.vehicle);
        r = callf("POST", w.drv, body, "/api/v1/reservations/onsite");
        assert_problem(&r, 403, "qr_token_invalid");
        api_resp_free(&r);
        free(body);
        /* art 24 does not apply: no user cancellation */
        r = step(w.drv, id, "cancel", NULL);
        assert_problem(&r, 409, "invalid_transition");
        assert_string_equal(api_json_str(r.json, "state"), "checked_in");
        api_resp_free(&r);
        clock_at(s + 30 * 60);
        r = step(w.drv, id, "check-out", NULL);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.charged", -1), 1200);
        api_resp_free(&r);
        world_free(&w);
}

/* ---- CS-20, CS-28: operator findings with substitutes --------------------------------------------- */

static void test_CS_20_CS_28_findings_refund_fee_and_substitutes(void **state)
{
        struct world w;
        long long s = tokyo_at(5, 10, 0);
        struct ops o0, o1;
        struct api_resp r;
        int64_t a, b, c, near, far;
        char *qr1, *qr2, *qr0;

        world_new(&w, "individual", 1000, 10000);
        /* in Osaka, away from the other tests' chargers in Tokyo */
        w.charger = charger_with_qr(&w, 34.7025, 135.4959, "", &qr0);
        slot_days(&w, w.charger, 1000);
        near = charger_with_qr(&w, 34.7035, 135.4959, "", &qr1);
        far = charger_with_qr(&w, 34.7125, 135.4959, "", &qr2);
        slot_days(&w, near, 900);
        slot_days(&w, far, 800);
        clock_at(s - 24 * H);
        a = booked(&w, s, s + H);
        b = booked(&w, s + H, s + 2 * H);
        c = booked(&w, s + 2 * H, s + 3 * H);
        /* only the operator makes findings */
        r = step(w.host, a, "findings", "{\"kind\":\"unusable\",\"reason\":\"x\"}");
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        /* CS-28 unusable: full refund, no fee, substitutes nearest first */
        r = step(op, a, "findings", "{\"kind\":\"unusable\",\"reason\":\"故障\"}");
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "cancelled_unusable");
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 1000);
        assert_int_equal(api_json_int(r.json, "money.host_fee", -1), 0);
        {
                json_t *subs = api_json_get(r.json, "substitutes");

                assert_true(json_array_size(subs) >= 2);
                assert_int_equal(api_json_int(json_array_get(subs, 0), "charger_id", 0), near);
                assert_int_equal(api_json_int(json_array_get(subs, 0), "fee", 0), 900);
                assert_int_equal(api_json_int(json_array_get(subs, 1), "charger_id", 0), far);
        }
        api_resp_free(&r);
        /* CS-20 non-performance: refund, an individual host pays 2,200 */
        o0 = ops_now();
        r = step(op, b, "findings", "{\"kind\":\"nonperformance\",\"reason\":\"ケーブル不良\"}");
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "cancelled_nonperformance");
        assert_int_equal(api_json_int(r.json, "money.refunded", -1), 1000);
        assert_int_equal(api_json_int(r.json, "money.host_fee", -1), 2200);
        api_resp_free(&r);
        o1 = ops_now();
        assert_int_equal(o1.revenue - o0.revenue, 2200);
        /* ... unless a third party caused it */
        r = step(op, c, "findings",
                 "{\"kind\":\"nonperformance\",\"third_party\":true,\"reason\":\"無断駐車\"}");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "money.host_fee", -1), 0);
        api_resp_free(&r);
        assert_int_equal(wallet_of(w.drv_id).balance, 10000);
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        free(qr0);
        free(qr1);
        free(qr2);
        world_free(&w);
}

/* ---- CS-12 site limit at check-in ------------------------------------------------------------------ */

static void test_CS_12_site_limit_refuses_one_more_check_in(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t site, app, c2, a, b;
        char *body, *qr2;

        world_new(&w, "individual", 600, 10000);
        r = callf("POST", w.host, "{\"name\":\"自宅\"}", "/api/v1/hosts/%lld/sites",
                  (long long)w.host_id);
        expect(&r, 201);
        site = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        body = api_printf("{\"site_id\":%lld}", (long long)site);
        r = callf("PATCH", w.host, body, "/api/v1/chargers/%lld", (long long)w.charger);
        expect(&r, 200);
        api_resp_free(&r);
        free(body);
        body = api_printf("\"site_id\":%lld", (long long)site);
        c2 = charger_with_qr(&w, LAT, LON + 0.0005, body, &qr2);
        free(body);
        slot_days(&w, c2, 600);
        r = callf("POST", w.host, "{\"limit\":1}", "/api/v1/sites/%lld/limit-applications",
                  (long long)site);
        expect(&r, 201);
        app = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        body = api_printf("{\"decision\":\"approved\",\"limit\":1,\"starts_on\":\"%s\"}",
                          tokyo_date(1));
        r = callf("PUT", op, body, "/api/v1/limit-applications/%lld", (long long)app);
        expect(&r, 200);
        api_resp_free(&r);
        free(body);
        clock_at(s - H);
        a = booked(&w, s, s + H);
        r = request(w.drv, c2, w.vehicle, s, s + H);
        expect(&r, 201);
        b = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        step_ok(w.host, b, "approve", NULL, "confirmed");
        clock_at(s);
        check_in(&w, a);
        body = api_printf("{\"qr_token\":\"%s\"}", qr2);
        r = step(w.drv, b, "check-in", body);
        assert_problem(&r, 409, "site_limit_reached");
        assert_int_equal(api_json_int(r.json, "limit", 0), 1);
        api_resp_free(&r);
        /* once the first is checked out, the second may start */
        step_ok(w.drv, a, "check-out", NULL, "completed");
        step_ok(w.drv, b, "check-in", body, "checked_in");
        free(body);
        free(qr2);
        world_free(&w);
}

/* ---- CS-4, CS-39, lists, calendar feed ----------------------------------------------------------- */

static void test_CS_4_live_reservations_block_withdrawal(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int64_t id;

        world_new(&w, "individual", 600, 5000);
        id = booked(&w, s, s + H);
        r = callf("DELETE", w.drv, NULL, "/api/v1/me");
        assert_problem(&r, 409, "withdrawal_blocked");
        assert_non_null(strstr(r.body, "confirmed_reservation"));
        api_resp_free(&r);
        r = callf("DELETE", w.host, NULL, "/api/v1/me");
        assert_problem(&r, 409, "withdrawal_blocked");
        assert_non_null(strstr(r.body, "confirmed_reservation"));
        api_resp_free(&r);
        step_ok(w.drv, id, "cancel", NULL, "cancelled_by_user");
        world_free(&w);
}

static void test_CS_39_transitions_reach_inbox_and_mail(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        int before = smtp_sink_count(sink);
        int64_t id;

        world_new(&w, "individual", 600, 5000);
        id = request_ok(&w, s, s + H);
        r = callf("GET", w.host, NULL, "/api/v1/me/inbox");
        expect(&r, 200);
        assert_non_null(strstr(r.body, "reservation.requested"));
        api_resp_free(&r);
        step_ok(w.host, id, "approve", NULL, "confirmed");
        r = callf("GET", w.drv, NULL, "/api/v1/me/inbox");
        expect(&r, 200);
        assert_non_null(strstr(r.body, "reservation.approve"));
        api_resp_free(&r);
        /* both reached the mail relay */
        assert_int_equal(smtp_sink_wait(sink, before + 2, 15000), 0);
        {
                char rcpt[128];
                char *data = NULL;

                assert_int_equal(smtp_sink_message(sink, before, NULL, 0, rcpt, sizeof(rcpt),
                                                   &data, NULL), 0);
                assert_non_null(strstr(rcpt, "@resv.test"));
                assert_non_null(strstr(data, "Subject: =?UTF-8?B?"));
                free(data);
        }
        world_free(&w);
}

static void test_issue5_lists_and_calendar_feed(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;
        const char *url;
        char *path;

        world_new(&w, "individual", 600, 5000);
        booked(&w, s, s + H);
        request_ok(&w, s + 2 * H, s + 3 * H);
        r = callf("GET", w.drv, NULL, "/api/v1/me/reservations");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        api_resp_free(&r);
        r = callf("GET", w.host, NULL, "/api/v1/hosts/%lld/reservations?state=requested",
                  (long long)w.host_id);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        api_resp_free(&r);
        r = callf("GET", w.drv, NULL, "/api/v1/hosts/%lld/reservations", (long long)w.host_id);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = callf("POST", w.host, NULL, "/api/v1/hosts/%lld/calendar-token",
                  (long long)w.host_id);
        expect(&r, 201);
        url = api_json_str(r.json, "url");
        path = strdup(strstr(url, "/api/v1/calendars/"));
        api_resp_free(&r);
        r = callf("GET", NULL, NULL, "%s", path);
        expect(&r, 200);
        assert_non_null(strstr(r.content_type, "text/calendar"));
        assert_non_null(strstr(r.body, "BEGIN:VCALENDAR"));
        assert_non_null(strstr(r.body, "STATUS:CONFIRMED"));
        assert_non_null(strstr(r.body, "STATUS:TENTATIVE"));
        api_resp_free(&r);
        r = callf("GET", NULL, NULL, "/api/v1/calendars/ical_not-a-real-token.ics");
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(path);
        world_free(&w);
}

static void test_issue5_schedule_survives_restart(void **state)
{
        struct world w;
        long long now = (long long)time(NULL), s = tokyo_at(5, 10, 0);
        int64_t id;

        world_new(&w, "individual", 600, 5000);
        id = request_ok(&w, s, s + H);
        assert_int_equal(api_server_restart(&srv, server_args, NULL), 0);
        clock_offset = 0;       /* a new process: the real clock */
        clock_at(now + 25 * H);
        assert_state(id, "expired");
        assert_int_equal(wallet_of(w.drv_id).held, 0);
        world_free(&w);
}

static void test_CS_35_operator_suspends_a_user_for_breach(void **state)
{
        struct world w;
        long long s = tokyo_at(3, 10, 0);
        struct api_resp r;

        world_new(&w, "individual", 600, 5000);
        r = callf("POST", op, "{\"reason\":\"user_obligations_breach\",\"note\":\"art 31\"}",
                  "/api/v1/members/%lld/suspension", (long long)w.drv_id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "suspension.reason"), "user_obligations_breach");
        api_resp_free(&r);
        r = request(w.drv, w.charger, w.vehicle, s, s + H);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        world_free(&w);
}

/* ---- concurrency: 64 users, one range ------------------------------------------------------- */

#define RACERS 64

struct racer {
        char *token;
        int64_t vehicle;
        int64_t charger;
        long long from, to;
        long status;
        pthread_barrier_t *go;
};

static void *racer_main(void *arg)
{
        struct racer *r = arg;
        struct client c;
        char body[256];

        snprintf(body, sizeof(body), "{\"charger_id\":%lld,\"vehicle_id\":%lld,"
                 "\"starts_at\":\"%s\",\"ends_at\":\"%s\"}", (long long)r->charger,
                 (long long)r->vehicle, rfc(r->from), rfc(r->to));
        if (client_init(&c, srv.base_url, r->token, 30000, true) < 0) {
                r->status = -1;
                return NULL;
        }
        pthread_barrier_wait(r->go);
        r->status = client_call(&c, "POST", "/api/v1/reservations", body, NULL);
        client_free(&c);
        return NULL;
}

static void test_issue5_64_users_race_for_one_range(void **state)
{
        static struct racer rs[RACERS];
        pthread_t th[RACERS];
        pthread_barrier_t go;
        struct world w;
        long long s = tokyo_at(4, 10, 0);
        int ok = 0, taken = 0;
        json_int_t held = 0;

        world_new(&w, "individual", 1200, 0);
        for (int i = 0; i < RACERS; i++) {
                char *e = api_printf("racer%d-%d@resv.test", i, ++seq);

                rs[i].token = make_driver(&srv, e, &rs[i].vehicle);
                topup(me_id(&srv, rs[i].token), 5000);
                rs[i].charger = w.charger;
                rs[i].from = s + (i % 3) * 15 * 60;     /* overlapping, not equal */
                rs[i].to = s + H + (i % 3) * 15 * 60;
                rs[i].go = &go;
                free(e);
        }
        pthread_barrier_init(&go, NULL, RACERS);
        for (int i = 0; i < RACERS; i++)
                assert_int_equal(pthread_create(&th[i], NULL, racer_main, &rs[i]), 0);
        for (int i = 0; i < RACERS; i++)
                pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < RACERS; i++) {
                if (rs[i].status == 201)
                        ok++;
                else if (rs[i].status == 409)
                        taken++;
                held += wallet_of(me_id(&srv, rs[i].token)).held;
                free(rs[i].token);
        }
        assert_int_equal(ok, 1);
        assert_int_equal(taken, RACERS - 1);
        /* exactly one hold of 1200 among all wallets, one reservation on the charger */
        assert_int_equal(held, 1200);
        {
                struct api_resp r = callf("GET", w.host, NULL,
                                          "/api/v1/hosts/%lld/reservations?active=1",
                                          (long long)w.host_id);

                expect(&r, 200);
                assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
                api_resp_free(&r);
        }
        world_free(&w);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_24_request_holds_the_fee_and_refuses_what_cannot_be_held),
                cmocka_unit_test(test_CS_14_pending_request_occupies_its_range),
                cmocka_unit_test(test_CS_14_expiry_releases_the_hold_at_the_earlier_time),
                cmocka_unit_test(test_CS_14_reject_and_withdraw_void_the_hold_and_are_final),
                cmocka_unit_test(test_CS_15_host_cannot_request_its_own_slots),
                cmocka_unit_test(test_CS_27_user_cancellation_boundaries),
                cmocka_unit_test(test_CS_17_host_cancellation_168h),
                cmocka_unit_test(test_CS_19_check_out_pays_the_host_less_platform_fee),
                cmocka_unit_test(test_CS_29_check_in_needs_the_code_and_presence),
                cmocka_unit_test(test_CS_33_overstay_penalty_debt_and_share),
                cmocka_unit_test(test_CS_33_overdue_booking_closed_after_24h_with_24h_overtime),
                cmocka_unit_test(test_CS_33_no_penalty_when_the_host_has_penalties_off),
                cmocka_unit_test(test_CS_31_early_use_keeps_duration_and_settles_the_difference),
                cmocka_unit_test(test_CS_32_extension_held_at_once_and_captured_at_check_out),
                cmocka_unit_test(test_CS_26_onsite_booking_starts_at_once),
                cmocka_unit_test(test_CS_20_CS_28_findings_refund_fee_and_substitutes),
                cmocka_unit_test(test_CS_12_site_limit_refuses_one_more_check_in),
                cmocka_unit_test(test_CS_4_live_reservations_block_withdrawal),
                cmocka_unit_test(test_CS_39_transitions_reach_inbox_and_mail),
                cmocka_unit_test(test_issue5_lists_and_calendar_feed),
                cmocka_unit_test(test_CS_35_operator_suspends_a_user_for_breach),
                cmocka_unit_test(test_issue5_64_users_race_for_one_range),
                cmocka_unit_test(test_issue5_schedule_survives_restart),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
