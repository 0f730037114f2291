/*
 * test_api_notices.c - notices, service changes and maintenance over HTTP
 * (issue 7): the operator's notices reach the gateways they target (all,
 * model, firmware version range, prefecture, a list of gateways; HE-13), a
 * gateway pages them with its cursor, reports them read and learns whether
 * its notice lamp is lit; notices expire and can be withdrawn; ending the
 * service needs 30 days' notice (HE-5); maintenance is announced ahead,
 * answers 503 with Retry-After on the routes of its scope while it runs and
 * can be ended early by the operator; an emergency one starts at once (HE-6).
 *
 * The server clock is the test build's (PUT /api/v1/_test/clock). Each
 * test starts at its own time, ten days after the previous test's, so the
 * clock only moves forward over the run; sessions live 300 days. Notices
 * of one test target models (or gateways) no other test uses, so a
 * gateway sees exactly its own test's notices; the maintenance tests come
 * last and end their windows before they return.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "energy_fixture.h"
#include "harness.h"

#define MINUTE 60LL
#define HOUR 3600LL
#define DAY 86400LL
#define TOKYO_OFFSET (9 * HOUR)

static struct api_server srv;
static char *op;
static int seq;
static long long next_start;            /* the next test's start time */

static const char *const server_args[] = { "--session-ttl", "300d", "--no-log-requests", NULL };

/* ---- plumbing ---------------------------------------------------------------------------- */

/* RFC 3339 in +09:00 (the server's form), rotating static buffers. */
static const char *rfc(long long t)
{
        static char bufs[8][40];
        static int k;
        char *out = bufs[k++ % 8];
        time_t lt = (time_t)(t + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
        return out;
}

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[1024];
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

/* Moves the server's clock to t. */
static void clock_at(long long t)
{
        char *body = api_printf("{\"now\":\"%s\"}", rfc(t));
        struct api_resp r = callf("PUT", op, body, "/api/v1/_test/clock");

        expect(&r, 200);
        api_resp_free(&r);
        free(body);
}

/* Sets the clock to this test's start (ten days after the previous one's). */
static long long test_start(void)
{
        long long t = next_start;

        next_start += 10 * DAY;
        clock_at(t);
        return t;
}

static char *new_member(const char *who)
{
        char *email = api_printf("%s-%d@notices.test", who, ++seq);
        char *token = member_token(&srv, email);

        free(email);
        return token;
}

/* A gateway of model/firmware registered in a home owned by a new member
 * (*owner gets the member's token when not NULL; else it is freed). */
static void gateway(const char *model, const char *firmware, struct energy_gateway *g,
                    char **owner)
{
        char *tok = new_member("owner");

        energy_gateway_in_home(&srv, model, firmware, tok, g);
        if (owner)
                *owner = tok;
        else
                free(tok);
}

/* Operator: POST /api/v1/notices with body; returns the notice id. */
static int64_t publish(const char *body)
{
        struct api_resp r = callf("POST", op, body, "/api/v1/notices");
        int64_t id;

        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        api_resp_free(&r);
        return id;
}

/* A notice of kind info for the target (JSON object text). */
static int64_t publish_to(const char *title, const char *target)
{
        char *body = api_printf("{\"title\":\"%s\",\"body\":\"本文 %s\",\"target\":%s}", title,
                                title, target);
        int64_t id = publish(body);

        free(body);
        return id;
}

/* Gateway: GET /api/v1/gateway/notices?cursor=; the answer's JSON. */
static json_t *fetch(const struct energy_gateway *g, long long cursor)
{
        char *path = api_printf("/api/v1/gateway/notices?cursor=%lld", cursor);
        struct api_resp r = energy_gateway_call(&srv, g, "GET", path, NULL, 200);
        json_t *j = json_incref(r.json);

        assert_non_null(j);
        assert_true(json_is_array(json_object_get(j, "notices")));
        assert_true(json_is_integer(json_object_get(j, "next_cursor")));
        assert_true(json_is_boolean(api_json_get(j, "lamp.on")));
        api_resp_free(&r);
        free(path);
        return j;
}

static size_t count(json_t *page)
{
        return json_array_size(json_object_get(page, "notices"));
}

/* The id of the i-th notice of a page. */
static int64_t nth(json_t *page, size_t i)
{
        return json_integer_value(json_object_get(
                json_array_get(json_object_get(page, "notices"), i), "id"));
}

static bool has(json_t *page, int64_t id)
{
        for (size_t i = 0; i < count(page); i++)
                if (nth(page, i) == id)
                        return true;
        return false;
}

/* Whether gateway g is shown notice id now (cursor 0). */
static bool sees(const struct energy_gateway *g, int64_t id)
{
        json_t *p = fetch(g, 0);
        bool yes = has(p, id);

        json_decref(p);
        return yes;
}

static bool lamp_on(const struct energy_gateway *g)
{
        json_t *p = fetch(g, 0);
        bool on = json_is_true(api_json_get(p, "lamp.on"));

        json_decref(p);
        return on;
}

/* Gateway: POST /api/v1/gateway/notices/read; the answer's JSON. */
static json_t *report_read(const struct energy_gateway *g, const char *ids)
{
        char *body = api_printf("{\"ids\":%s}", ids);
        struct api_resp r = energy_gateway_call(&srv, g, "POST", "/api/v1/gateway/notices/read",
                                                body, 200);
        json_t *j = json_incref(r.json);

        api_resp_free(&r);
        free(body);
        return j;
}

static void set_prefecture(int64_t home_id, const char *owner, const char *pref)
{
        char *body = api_printf("{\"prefecture\":\"%s\"}", pref);
        struct api_resp r = callf("PUT", owner, body, "/api/v1/homes/%lld/household",
                                  (long long)home_id);

        expect(&r, 200);
        api_resp_free(&r);
        free(body);
}

static int setup(void **state)
{
        time_t now = time(NULL);

        if (sodium_init() < 0)
                return -1;
        if (api_server_start(&srv, server_args) < 0)
                return -1;
        op = operator_token(&srv, "op@notices.test");
        /* 10:00 in Tokyo, two days from now (the sessions outlive the run) */
        next_start = ((long long)now / DAY + 2) * DAY + HOUR;
        return 0;
}

static int teardown(void **state)
{
        struct api_resp r = callf("PUT", op, "{\"now\":null}", "/api/v1/_test/clock");

        api_resp_free(&r);
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- HE-13 targeting --------------------------------------------------------------------- */

static void test_HE_13_all_gateways_and_by_model(void **state)
{
        struct energy_gateway a, b;
        int64_t to_a, every;
        struct api_resp r;
        json_t *p;

        test_start();
        gateway("HE13-MODEL-A", "1.0.0", &a, NULL);
        gateway("HE13-MODEL-B", "1.0.0", &b, NULL);
        to_a = publish_to("model A", "{\"models\":[\"HE13-MODEL-A\",\"HE13-NONE\"]}");
        assert_true(sees(&a, to_a));
        assert_false(sees(&b, to_a));

        /* no target: every gateway (withdrawn at once, so no other test sees it) */
        every = publish("{\"title\":\"to all\",\"body\":\"皆様へ\",\"importance\":\"high\","
                        "\"link\":\"https://example.com/n\"}");
        p = fetch(&a, 0);
        assert_true(has(p, every));
        assert_int_equal(nth(p, 0), every);             /* newest first */
        assert_string_equal(api_json_str(p, "notices.0.importance"), "high");
        assert_string_equal(api_json_str(p, "notices.0.link"), "https://example.com/n");
        assert_string_equal(api_json_str(p, "notices.0.kind"), "info");
        json_decref(p);
        assert_true(sees(&b, every));
        r = callf("DELETE", op, NULL, "/api/v1/notices/%lld", (long long)every);
        expect(&r, 200);
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/notices/%lld", (long long)every);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "withdrawn");
        assert_string_equal(api_json_str(r.json, "importance"), "high");
        api_resp_free(&r);
        assert_false(sees(&a, every));
        assert_false(sees(&b, every));
}

/* HE-13, HE-14: the combined poll answers what GET /api/v1/gateway/notices
 * answers (notices, cursor, lamp) plus the firmware offer (none here). */
static void test_HE_13_combined_poll(void **state)
{
        struct energy_gateway g;
        struct api_resp r;
        int64_t id;
        json_t *n;

        test_start();
        gateway("HE13-POLL", "1.0.0", &g, NULL);
        id = publish_to("poll", "{\"models\":[\"HE13-POLL\"]}");
        n = fetch(&g, 0);
        r = energy_gateway_call(&srv, &g, "GET", "/api/v1/gateway/poll?cursor=0", NULL, 200);
        assert_true(json_equal(json_object_get(r.json, "notices"), json_object_get(n, "notices")));
        assert_true(json_equal(json_object_get(r.json, "next_cursor"),
                               json_object_get(n, "next_cursor")));
        assert_true(json_equal(json_object_get(r.json, "lamp"), json_object_get(n, "lamp")));
        assert_true(json_is_true(api_json_get(r.json, "lamp.on")));
        assert_true(has(r.json, id));
        assert_true(json_is_null(json_object_get(r.json, "update")));
        api_resp_free(&r);
        json_decref(n);
        r = energy_gateway_raw(&srv, &g, "GET", "/api/v1/gateway/poll?cursor=-1", NULL);
        assert_int_equal(r.status, 422);
        api_resp_free(&r);
        r = callf("DELETE", op, NULL, "/api/v1/notices/%lld", (long long)id);
        expect(&r, 200);
        api_resp_free(&r);
}

static void test_HE_13_firmware_version_range(void **state)
{
        static const struct {
                const char *fw;
                bool in;
        } cases[] = {
                { "1.9.1", false }, { "1.9.2", true }, { "1.9.10", true },
                { "1.10.0", true }, { "1.10", true }, { "1.10.1", false }, { "2.0.0", false },
        };
        struct energy_gateway g[7], none;
        int64_t id, from;

        test_start();
        for (size_t i = 0; i < 7; i++)
                gateway("HE13-FW", cases[i].fw, &g[i], NULL);
        gateway("HE13-FW", NULL, &none, NULL);          /* firmware unknown */
        id = publish_to("range", "{\"models\":[\"HE13-FW\"],"
                        "\"firmware\":{\"min\":\"1.9.2\",\"max\":\"1.10.0\"}}");
        from = publish_to("from 1.10",
                          "{\"models\":[\"HE13-FW\"],\"firmware\":{\"min\":\"1.10\"}}");
        for (size_t i = 0; i < 7; i++) {
                if (sees(&g[i], id) != cases[i].in)
                        fprintf(stderr, "firmware %s\n", cases[i].fw);
                assert_int_equal(sees(&g[i], id), cases[i].in);
        }
        assert_false(sees(&none, id));
        assert_false(sees(&g[2], from));                /* 1.9.10 < 1.10 */
        assert_true(sees(&g[3], from));
        assert_true(sees(&g[6], from));
        assert_false(sees(&none, from));
}

static void test_HE_13_prefecture(void **state)
{
        struct energy_gateway hk, tk, unknown;
        char *o1, *o2;
        int64_t id;

        test_start();
        gateway("HE13-PREF", "1.0", &hk, &o1);
        gateway("HE13-PREF", "1.0", &tk, &o2);
        gateway("HE13-PREF", "1.0", &unknown, NULL);
        set_prefecture(hk.home_id, o1, "北海道");
        set_prefecture(tk.home_id, o2, "東京都");
        id = publish_to("雪", "{\"models\":[\"HE13-PREF\"],\"prefectures\":[\"北海道\",\"青森県\"]}");
        assert_true(sees(&hk, id));
        assert_false(sees(&tk, id));
        assert_false(sees(&unknown, id));
        /* the household moves: the notice follows the prefecture now */
        set_prefecture(tk.home_id, o2, "青森県");
        assert_true(sees(&tk, id));
        free(o1);
        free(o2);
}

static void test_HE_13_gateway_list(void **state)
{
        struct energy_gateway g1, g2, g3;
        char *target;
        int64_t id;

        test_start();
        gateway("HE13-LIST", "1.0", &g1, NULL);
        gateway("HE13-LIST", "1.0", &g2, NULL);
        gateway("HE13-LIST", "1.0", &g3, NULL);
        target = api_printf("{\"gateway_ids\":[%lld,%lld]}", (long long)g3.id, (long long)g1.id);
        id = publish_to("listed", target);
        assert_true(sees(&g1, id));
        assert_false(sees(&g2, id));
        assert_true(sees(&g3, id));
        free(target);
}

/* ---- HE-13 cursor, reads, lamp, expiry --------------------------------------------------- */

static void test_HE_13_cursor_newest_first(void **state)
{
        const char *target = "{\"models\":[\"HE13-CURSOR\"]}";
        struct energy_gateway g;
        long long t0 = test_start(), cur;
        int64_t n1, n2, n3, later, n4;
        char *body;
        json_t *p;

        gateway("HE13-CURSOR", "1.0", &g, NULL);
        n1 = publish_to("one", target);
        n2 = publish_to("two", target);
        n3 = publish_to("three", target);
        p = fetch(&g, 0);
        assert_int_equal(count(p), 3);
        assert_int_equal(nth(p, 0), n3);
        assert_int_equal(nth(p, 1), n2);
        assert_int_equal(nth(p, 2), n1);
        assert_false(json_is_true(json_object_get(p, "has_more")));
        cur = json_integer_value(json_object_get(p, "next_cursor"));
        assert_true(cur > 0);
        json_decref(p);

        /* nothing new: the cursor stays */
        p = fetch(&g, cur);
        assert_int_equal(count(p), 0);
        assert_int_equal(json_integer_value(json_object_get(p, "next_cursor")), cur);
        json_decref(p);

        /* scheduled for later (a lower id) and one published now */
        body = api_printf("{\"title\":\"later\",\"body\":\"b\",\"target\":%s,"
                          "\"publish_at\":\"%s\"}", target, rfc(t0 + 2 * HOUR));
        later = publish(body);
        free(body);
        n4 = publish_to("four", target);
        p = fetch(&g, cur);
        assert_int_equal(count(p), 1);
        assert_int_equal(nth(p, 0), n4);
        cur = json_integer_value(json_object_get(p, "next_cursor"));
        json_decref(p);
        assert_false(sees(&g, later));

        /* once published it still comes after the cursor, though its id is lower */
        clock_at(t0 + 3 * HOUR);
        p = fetch(&g, cur);
        assert_int_equal(count(p), 1);
        assert_int_equal(nth(p, 0), later);
        assert_true(later < n4);
        json_decref(p);
        p = fetch(&g, 0);
        assert_int_equal(count(p), 5);
        assert_int_equal(nth(p, 0), later);
        assert_int_equal(nth(p, 1), n4);
        json_decref(p);

        /* a bad cursor */
        {
                struct api_resp r = energy_gateway_raw(&srv, &g, "GET",
                                                       "/api/v1/gateway/notices?cursor=-1", NULL);

                assert_problem(&r, 422, "validation_failed");
                api_resp_free(&r);
        }
}

static void test_HE_13_page_limit_has_more(void **state)
{
        const char *target = "{\"models\":[\"HE13-PAGE\"]}";
        struct energy_gateway g;
        int64_t first = 0, last = 0;
        long long cur;
        json_t *p;

        test_start();
        gateway("HE13-PAGE", "1.0", &g, NULL);
        for (int i = 0; i < 55; i++) {
                char title[16];

                snprintf(title, sizeof(title), "n%d", i);
                last = publish_to(title, target);
                if (i == 0)
                        first = last;
        }
        /* the oldest 50 after the cursor, newest first, then the rest */
        p = fetch(&g, 0);
        assert_int_equal(count(p), 50);
        assert_true(json_is_true(json_object_get(p, "has_more")));
        assert_int_equal(nth(p, 49), first);
        cur = json_integer_value(json_object_get(p, "next_cursor"));
        json_decref(p);
        p = fetch(&g, cur);
        assert_int_equal(count(p), 5);
        assert_int_equal(nth(p, 0), last);
        assert_false(json_is_true(json_object_get(p, "has_more")));
        json_decref(p);
}

static void test_HE_13_read_reports_per_home(void **state)
{
        const char *target = "{\"models\":[\"HE13-READ\"]}";
        struct energy_gateway g, other;
        int64_t a, b, foreign;
        char *ids;
        json_t *p, *r;

        test_start();
        gateway("HE13-READ", "1.0", &g, NULL);
        gateway("HE13-READ-OTHER", "1.0", &other, NULL);
        a = publish_to("a", target);
        b = publish_to("b", target);
        foreign = publish_to("not yours", "{\"models\":[\"HE13-READ-OTHER\"]}");
        p = fetch(&g, 0);
        assert_false(json_is_true(api_json_get(p, "notices.0.read")));
        assert_true(json_is_true(api_json_get(p, "lamp.on")));
        json_decref(p);

        ids = api_printf("[%lld,%lld,999999]", (long long)a, (long long)foreign);
        r = report_read(&g, ids);
        assert_int_equal(json_array_size(json_object_get(r, "read")), 1);
        assert_int_equal(api_json_int(r, "read.0", 0), a);
        assert_int_equal(json_array_size(json_object_get(r, "ignored")), 2);
        assert_true(json_is_true(api_json_get(r, "lamp.on")));     /* b is unread */
        json_decref(r);
        free(ids);
        ids = api_printf("[%lld,%lld]", (long long)b, (long long)b);
        r = report_read(&g, ids);
        assert_false(json_is_true(api_json_get(r, "lamp.on")));
        assert_true(json_is_null(api_json_get(r, "lamp.until")));
        json_decref(r);
        free(ids);
        p = fetch(&g, 0);
        assert_true(json_is_true(api_json_get(p, "notices.0.read")));
        assert_true(json_is_true(api_json_get(p, "notices.1.read")));
        assert_false(json_is_true(api_json_get(p, "lamp.on")));
        json_decref(p);
        /* the other gateway's read state is its own */
        assert_true(lamp_on(&other));

        /* the operator sees how many homes read it */
        {
                struct api_resp x = callf("GET", op, NULL, "/api/v1/notices/%lld", (long long)a);

                expect(&x, 200);
                assert_int_equal(api_json_int(x.json, "read_count", -1), 1);
                api_resp_free(&x);
        }

        /* a new resident (a new home on the same gateway) starts unread */
        energy_gateway_deregister(&srv, &g, "delete");
        energy_gateway_register(&srv, &g);
        p = fetch(&g, 0);
        assert_false(json_is_true(api_json_get(p, "notices.0.read")));
        assert_true(json_is_true(api_json_get(p, "lamp.on")));
        json_decref(p);

        /* bad reports */
        {
                struct api_resp x = energy_gateway_raw(&srv, &g, "POST",
                                                       "/api/v1/gateway/notices/read",
                                                       "{\"ids\":[]}");

                assert_problem(&x, 422, "validation_failed");
                api_resp_free(&x);
                x = energy_gateway_raw(&srv, &g, "POST", "/api/v1/gateway/notices/read",
                                       "{\"ids\":[\"x\",0]}");
                assert_problem(&x, 422, "validation_failed");
                assert_true(has_field_error(&x, "ids.0", "invalid"));
                assert_true(has_field_error(&x, "ids.1", "invalid"));
                api_resp_free(&x);
        }
}

static void test_HE_13_lamp_period_with_clock(void **state)
{
        struct energy_gateway g, quiet;
        long long t0 = test_start();
        char *body;
        json_t *p;

        gateway("HE13-LAMP", "1.0", &g, NULL);
        gateway("HE13-LAMP-QUIET", "1.0", &quiet, NULL);
        body = api_printf("{\"title\":\"lamp\",\"body\":\"b\","
                          "\"target\":{\"models\":[\"HE13-LAMP\"]},"
                          "\"lamp_seconds\":%lld,\"publish_at\":\"%s\"}", 2 * DAY,
                          rfc(t0 + HOUR));
        publish(body);
        free(body);
        /* no lamp period: shown, never lit */
        publish("{\"title\":\"quiet\",\"body\":\"b\",\"target\":{\"models\":[\"HE13-LAMP-QUIET\"]},"
                "\"lamp_seconds\":0}");
        assert_false(lamp_on(&quiet));
        assert_true(lamp_on(&g) == false);              /* not published yet */

        clock_at(t0 + 2 * HOUR);
        p = fetch(&g, 0);
        assert_true(json_is_true(api_json_get(p, "lamp.on")));
        assert_string_equal(api_json_str(p, "lamp.until"), rfc(t0 + HOUR + 2 * DAY));
        assert_string_equal(api_json_str(p, "notices.0.lamp_until"), rfc(t0 + HOUR + 2 * DAY));
        json_decref(p);
        clock_at(t0 + HOUR + 2 * DAY - MINUTE);
        assert_true(lamp_on(&g));
        clock_at(t0 + HOUR + 2 * DAY + MINUTE);
        p = fetch(&g, 0);
        assert_false(json_is_true(api_json_get(p, "lamp.on")));
        assert_true(json_is_null(api_json_get(p, "lamp.until")));
        assert_int_equal(count(p), 1);                  /* still shown, unread */
        json_decref(p);
        assert_false(lamp_on(&quiet));
}

static void test_HE_13_expiry_and_withdrawal(void **state)
{
        struct energy_gateway g;
        long long t0 = test_start();
        int64_t brief, gone;
        struct api_resp r;
        char *body;

        gateway("HE13-EXP", "1.0", &g, NULL);
        body = api_printf("{\"title\":\"brief\",\"body\":\"b\","
                          "\"target\":{\"models\":[\"HE13-EXP\"]},"
                          "\"publish_at\":\"%s\",\"expires_at\":\"%s\",\"lamp_seconds\":%lld}",
                          rfc(t0), rfc(t0 + DAY), 3 * DAY);
        brief = publish(body);
        free(body);
        gone = publish_to("withdrawn", "{\"models\":[\"HE13-EXP\"]}");
        assert_true(sees(&g, brief));
        assert_true(sees(&g, gone));

        r = callf("DELETE", op, NULL, "/api/v1/notices/%lld", (long long)gone);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "withdrawn");
        api_resp_free(&r);
        assert_false(sees(&g, gone));
        r = callf("DELETE", op, NULL, "/api/v1/notices/%lld", (long long)gone);
        expect(&r, 200);                                /* again: no change */
        api_resp_free(&r);

        clock_at(t0 + DAY - MINUTE);
        assert_true(sees(&g, brief));
        assert_true(lamp_on(&g));
        clock_at(t0 + DAY + MINUTE);
        assert_false(sees(&g, brief));
        assert_false(lamp_on(&g));                      /* the lamp goes out at expiry */
        r = callf("GET", op, NULL, "/api/v1/notices/%lld", (long long)brief);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "expired");
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/notices/999999");
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
}

static void test_HE_13_operator_only_and_validation(void **state)
{
        char *member;
        struct api_resp r;

        test_start();
        member = new_member("plain");
        r = callf("POST", member, "{\"title\":\"t\",\"body\":\"b\"}", "/api/v1/notices");
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        r = callf("GET", member, NULL, "/api/v1/maintenance");
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);

        r = callf("POST", op, "{\"kind\":\"maintenance\",\"body\":\"b\",\"colour\":1,"
                  "\"importance\":\"huge\",\"link\":\"ftp://x\",\"lamp_seconds\":-1,"
                  "\"target\":{\"models\":[],\"firmware\":{\"min\":\"1.x\"},\"region\":\"x\","
                  "\"gateway_ids\":[0]}}", "/api/v1/notices");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "kind", "invalid"));
        assert_true(has_field_error(&r, "title", "required"));
        assert_true(has_field_error(&r, "colour", "unknown_field"));
        assert_true(has_field_error(&r, "importance", "invalid"));
        assert_true(has_field_error(&r, "link", "invalid"));
        assert_true(has_field_error(&r, "lamp_seconds", "out_of_range"));
        assert_true(has_field_error(&r, "target.models", "required"));
        assert_true(has_field_error(&r, "target.firmware.min", "invalid"));
        assert_true(has_field_error(&r, "target.region", "unknown_field"));
        assert_true(has_field_error(&r, "target.gateway_ids.0", "invalid"));
        api_resp_free(&r);

        r = callf("POST", op, "{\"title\":\"t\",\"body\":\"b\",\"target\":{\"firmware\":"
                  "{\"min\":\"2.0\",\"max\":\"1.10\"}},\"expires_at\":\"2000-01-01T00:00:00Z\"}",
                  "/api/v1/notices");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "target.firmware.max", "invalid"));
        api_resp_free(&r);
        r = callf("POST", op, "{\"title\":\"t\",\"body\":\"b\","
                  "\"expires_at\":\"2000-01-01T00:00:00Z\"}", "/api/v1/notices");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "expires_at", "out_of_range"));
        api_resp_free(&r);

        /* the operator's list, newest first, by kind */
        r = callf("GET", op, NULL, "/api/v1/notices?limit=2");
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_true(api_json_int(r.json, "items.0.id", 0) > api_json_int(r.json, "items.1.id", 0));
        assert_true(api_json_int(r.json, "next_before", 0) > 0);
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/notices?kind=bogus");
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        free(member);
}

/* ---- HE-5 service and terms changes ------------------------------------------------------ */

static void test_HE_5_service_end_needs_30_days(void **state)
{
        struct energy_gateway g;
        long long t0 = test_start(), pub = t0 + HOUR;
        struct api_resp r;
        int64_t end, change, terms;
        char *body;
        json_t *p;

        gateway("HE5-MODEL", "1.0", &g, NULL);
        body = api_printf("{\"kind\":\"service_end\",\"title\":\"サービス終了\",\"body\":\"b\","
                          "\"target\":{\"models\":[\"HE5-MODEL\"]},\"publish_at\":\"%s\","
                          "\"service_ends_at\":\"%s\"}", rfc(pub), rfc(pub + 29 * DAY));
        r = callf("POST", op, body, "/api/v1/notices");
        assert_problem(&r, 422, "notice_period_too_short");
        assert_true(has_field_error(&r, "service_ends_at", "too_soon"));
        assert_string_equal(api_json_str(r.json, "earliest_end_at"), rfc(pub + 30 * DAY));
        api_resp_free(&r);
        free(body);
        /* a second short of 30 days is short too */
        body = api_printf("{\"kind\":\"service_end\",\"title\":\"サービス終了\",\"body\":\"b\","
                          "\"target\":{\"models\":[\"HE5-MODEL\"]},\"publish_at\":\"%s\","
                          "\"service_ends_at\":\"%s\"}", rfc(pub), rfc(pub + 30 * DAY - 1));
        r = callf("POST", op, body, "/api/v1/notices");
        assert_problem(&r, 422, "notice_period_too_short");
        api_resp_free(&r);
        free(body);
        /* without an end date */
        r = callf("POST", op, "{\"kind\":\"service_end\",\"title\":\"t\",\"body\":\"b\"}",
                  "/api/v1/notices");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "service_ends_at", "required"));
        api_resp_free(&r);

        body = api_printf("{\"kind\":\"service_end\",\"title\":\"サービス終了\",\"body\":\"b\","
                          "\"target\":{\"models\":[\"HE5-MODEL\"]},\"publish_at\":\"%s\","
                          "\"service_ends_at\":\"%s\"}", rfc(pub), rfc(pub + 30 * DAY));
        r = callf("POST", op, body, "/api/v1/notices");
        expect(&r, 201);
        end = api_json_int(r.json, "id", 0);
        assert_string_equal(api_json_str(r.json, "kind"), "service_end");
        assert_string_equal(api_json_str(r.json, "state"), "scheduled");
        assert_string_equal(api_json_str(r.json, "service_ends_at"), rfc(pub + 30 * DAY));
        /* it stays up until the service ends */
        assert_string_equal(api_json_str(r.json, "expires_at"), rfc(pub + 30 * DAY));
        api_resp_free(&r);
        free(body);

        /* service and terms changes are notices of their kind */
        change = publish("{\"kind\":\"service_change\",\"title\":\"変更\",\"body\":\"b\","
                         "\"target\":{\"models\":[\"HE5-MODEL\"]}}");
        terms = publish("{\"kind\":\"terms_change\",\"title\":\"規約改定\",\"body\":\"b\","
                        "\"target\":{\"models\":[\"HE5-MODEL\"]}}");
        r = callf("POST", op, "{\"kind\":\"terms_change\",\"title\":\"t\",\"body\":\"b\","
                  "\"service_ends_at\":\"2030-01-01T00:00:00Z\"}", "/api/v1/notices");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "service_ends_at", "not_allowed"));
        api_resp_free(&r);

        clock_at(pub + MINUTE);
        p = fetch(&g, 0);
        assert_int_equal(count(p), 3);
        assert_int_equal(nth(p, 0), end);
        assert_string_equal(api_json_str(p, "notices.0.kind"), "service_end");
        assert_string_equal(api_json_str(p, "notices.0.service_ends_at"), rfc(pub + 30 * DAY));
        assert_int_equal(nth(p, 1), terms);
        assert_string_equal(api_json_str(p, "notices.1.kind"), "terms_change");
        assert_int_equal(nth(p, 2), change);
        assert_string_equal(api_json_str(p, "notices.2.kind"), "service_change");
        json_decref(p);
        r = callf("GET", op, NULL, "/api/v1/notices?kind=service_end&limit=1");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), end);
        api_resp_free(&r);
}

/* ---- HE-6 maintenance -------------------------------------------------------------------- */

/* Whether a gateway call answers 503 maintenance (with Retry-After in
 * [lo, hi] when it does). */
static bool gateway_blocked(const struct energy_gateway *g, long long lo, long long hi)
{
        struct api_resp r = energy_gateway_raw(&srv, g, "GET", "/api/v1/gateway/notices", NULL);
        bool blocked = r.status == 503;

        if (blocked) {
                long long ra = atoll(r.retry_after);

                assert_problem(&r, 503, "maintenance");
                if (ra < lo || ra > hi)
                        fprintf(stderr, "Retry-After %lld not in [%lld, %lld]\n", ra, lo, hi);
                assert_true(ra >= lo && ra <= hi);
                assert_non_null(api_json_str(r.json, "notice.title"));
                assert_non_null(api_json_str(r.json, "maintenance.ends_at"));
        } else {
                expect(&r, 200);
        }
        api_resp_free(&r);
        return blocked;
}

/* GET path as token (NULL: anonymous): its status. */
static long status_of(const char *token, const char *path)
{
        struct api_resp r = callf("GET", token, NULL, "%s", path);
        long st = r.status;

        api_resp_free(&r);
        return st;
}

static void test_HE_6_scheduled_maintenance(void **state)
{
        struct energy_gateway g;
        long long t0 = test_start(), start = t0 + 2 * DAY, end = start + 2 * HOUR;
        char *owner, *body;
        struct api_resp r;
        int64_t id, notice;
        json_t *p;

        gateway("HE6-MODEL", "1.0", &g, &owner);
        /* less than the notice period ahead (24 h): refused unless an emergency */
        body = api_printf("{\"scope\":\"gateway\",\"starts_at\":\"%s\",\"ends_at\":\"%s\"}",
                          rfc(t0 + HOUR), rfc(t0 + 2 * HOUR));
        r = callf("POST", op, body, "/api/v1/maintenance");
        assert_problem(&r, 422, "maintenance_notice_too_short");
        assert_true(has_field_error(&r, "starts_at", "too_soon"));
        api_resp_free(&r);
        free(body);

        body = api_printf("{\"scope\":\"gateway\",\"starts_at\":\"%s\",\"ends_at\":\"%s\","
                          "\"title\":\"定期メンテナンス\"}", rfc(start), rfc(end));
        r = callf("POST", op, body, "/api/v1/maintenance");
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        notice = api_json_int(r.json, "notice_id", 0);
        assert_string_equal(api_json_str(r.json, "state"), "scheduled");
        assert_string_equal(api_json_str(r.json, "notice_at"), rfc(start - DAY));
        assert_false(json_is_true(api_json_get(r.json, "emergency")));
        api_resp_free(&r);
        free(body);
        assert_true(id > 0 && notice > 0);

        /* the notice goes out a day before */
        assert_false(sees(&g, notice));
        clock_at(start - 12 * HOUR);
        p = fetch(&g, 0);
        assert_true(has(p, notice));
        assert_string_equal(api_json_str(p, "notices.0.kind"), "maintenance");
        assert_string_equal(api_json_str(p, "notices.0.title"), "定期メンテナンス");
        assert_int_equal(api_json_int(p, "notices.0.maintenance_id", 0), id);
        assert_true(json_is_true(api_json_get(p, "lamp.on")));
        json_decref(p);
        assert_false(gateway_blocked(&g, 0, 0));

        /* while it runs: the gateway API answers 503, the rest works */
        clock_at(start + 10 * MINUTE);
        assert_true(gateway_blocked(&g, end - start - 10 * MINUTE - 120,
                                    end - start - 10 * MINUTE));
        {
                const char *hdr[] = { g.auth, "Content-Type: text/plain", NULL };
                struct api_resp w = { 0 };

                assert_int_equal(api_call_raw(&srv, "POST", "/write?db=x", hdr, "m v=1", 5, &w), 0);
                assert_problem(&w, 503, "maintenance");
                api_resp_free(&w);
        }
        assert_int_equal(status_of(owner, "/api/v1/me/homes"), 200);
        assert_int_equal(status_of(NULL, "/healthz"), 200);
        assert_int_equal(status_of(NULL, "/readyz"), 200);
        r = callf("GET", op, NULL, "/api/v1/maintenance");
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "items.0.id", 0), id);
        assert_string_equal(api_json_str(r.json, "items.0.state"), "running");
        api_resp_free(&r);

        /* the operator ends it early: everything answers again */
        r = callf("DELETE", op, NULL, "/api/v1/maintenance/%lld", (long long)id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "ended");
        assert_non_null(api_json_str(r.json, "ended_at"));
        api_resp_free(&r);
        assert_false(gateway_blocked(&g, 0, 0));
        assert_false(sees(&g, notice));                 /* its notice expired with it */
        r = callf("DELETE", op, NULL, "/api/v1/maintenance/%lld", (long long)id);
        assert_problem(&r, 409, "maintenance_over");
        api_resp_free(&r);
        /* its notice is the maintenance's to end */
        r = callf("DELETE", op, NULL, "/api/v1/notices/%lld", (long long)notice);
        assert_problem(&r, 409, "maintenance_notice");
        api_resp_free(&r);
        free(owner);
}

static void test_HE_6_emergency_all_starts_now(void **state)
{
        struct energy_gateway g;
        long long t0 = test_start();
        char *owner, *body, *email, *login_body;
        struct api_resp r;
        int64_t id;

        gateway("HE6-EMERG", "1.0", &g, &owner);
        email = api_printf("late-%d@notices.test", ++seq);
        assert_int_equal(register_member(&srv, email, "", NULL), 201);

        body = api_printf("{\"scope\":\"all\",\"emergency\":true,\"ends_at\":\"%s\"}",
                          rfc(t0 + HOUR));
        r = callf("POST", op, body, "/api/v1/maintenance");
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        assert_string_equal(api_json_str(r.json, "state"), "running");
        assert_true(json_is_true(api_json_get(r.json, "emergency")));
        assert_string_equal(api_json_str(r.json, "title"), "Emergency maintenance");
        api_resp_free(&r);
        free(body);

        assert_true(gateway_blocked(&g, HOUR - 120, HOUR));
        r = callf("GET", owner, NULL, "/api/v1/me/homes");
        assert_problem(&r, 503, "maintenance");
        assert_true(atoll(r.retry_after) > 0);
        api_resp_free(&r);
        assert_int_equal(status_of(NULL, "/api/v1/documents"), 503);
        assert_int_equal(status_of(NULL, "/healthz"), 200);
        assert_int_equal(status_of(NULL, "/metrics"), 200);
        assert_int_equal(status_of(NULL, "/api/openapi.yaml"), 200);
        /* signing in still works (an operator must be able to end it) */
        login_body = api_printf("{\"email\":\"%s\",\"password\":\"%s\"}", email, DEFAULT_PASSWORD);
        r = callf("POST", NULL, login_body, "/api/v1/sessions");
        expect(&r, 201);
        api_resp_free(&r);
        assert_int_equal(status_of(op, "/api/v1/gateways?limit=1"), 200);

        r = callf("DELETE", op, NULL, "/api/v1/maintenance/%lld", (long long)id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "ended");
        api_resp_free(&r);
        assert_false(gateway_blocked(&g, 0, 0));
        assert_int_equal(status_of(owner, "/api/v1/me/homes"), 200);
        assert_int_equal(status_of(NULL, "/api/v1/documents"), 200);
        free(login_body);
        free(email);
        free(owner);
}

static void test_HE_6_apps_scope_ends_by_itself_and_cancel(void **state)
{
        struct energy_gateway g;
        long long t0 = test_start();
        char *owner, *body;
        struct api_resp r;
        int64_t id, notice;

        gateway("HE6-APPS", "1.0", &g, &owner);
        body = api_printf("{\"scope\":\"apps\",\"emergency\":true,\"ends_at\":\"%s\"}",
                          rfc(t0 + HOUR));
        r = callf("POST", op, body, "/api/v1/maintenance");
        expect(&r, 201);
        api_resp_free(&r);
        free(body);
        assert_int_equal(status_of(owner, "/api/v1/me/homes"), 503);
        assert_false(gateway_blocked(&g, 0, 0));        /* gateways are not in its scope */
        /* at its expected end it is over by itself */
        clock_at(t0 + HOUR + MINUTE);
        assert_int_equal(status_of(owner, "/api/v1/me/homes"), 200);

        /* a planned window cancelled before it starts: its notice is withdrawn */
        body = api_printf("{\"scope\":\"all\",\"starts_at\":\"%s\",\"ends_at\":\"%s\"}",
                          rfc(t0 + 3 * DAY), rfc(t0 + 3 * DAY + HOUR));
        r = callf("POST", op, body, "/api/v1/maintenance");
        expect(&r, 201);
        id = api_json_int(r.json, "id", 0);
        notice = api_json_int(r.json, "notice_id", 0);
        api_resp_free(&r);
        free(body);
        clock_at(t0 + 2 * DAY + 12 * HOUR);
        assert_true(sees(&g, notice));
        r = callf("DELETE", op, NULL, "/api/v1/maintenance/%lld", (long long)id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "cancelled");
        api_resp_free(&r);
        assert_false(sees(&g, notice));
        clock_at(t0 + 3 * DAY + 10 * MINUTE);
        assert_false(gateway_blocked(&g, 0, 0));
        assert_int_equal(status_of(owner, "/api/v1/me/homes"), 200);

        /* bad input */
        r = callf("POST", op, "{\"scope\":\"everything\",\"ends_at\":\"soon\"}",
                  "/api/v1/maintenance");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "scope", "invalid"));
        assert_true(has_field_error(&r, "starts_at", "required"));
        assert_true(has_field_error(&r, "ends_at", "invalid"));
        api_resp_free(&r);
        body = api_printf("{\"scope\":\"all\",\"emergency\":true,\"ends_at\":\"%s\"}",
                          rfc(t0 + 20 * DAY));
        r = callf("POST", op, body, "/api/v1/maintenance");
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "ends_at", "out_of_range"));
        api_resp_free(&r);
        free(body);
        r = callf("DELETE", op, NULL, "/api/v1/maintenance/999999");
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(owner);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_13_all_gateways_and_by_model),
                cmocka_unit_test(test_HE_13_combined_poll),
                cmocka_unit_test(test_HE_13_firmware_version_range),
                cmocka_unit_test(test_HE_13_prefecture),
                cmocka_unit_test(test_HE_13_gateway_list),
                cmocka_unit_test(test_HE_13_cursor_newest_first),
                cmocka_unit_test(test_HE_13_page_limit_has_more),
                cmocka_unit_test(test_HE_13_read_reports_per_home),
                cmocka_unit_test(test_HE_13_lamp_period_with_clock),
                cmocka_unit_test(test_HE_13_expiry_and_withdrawal),
                cmocka_unit_test(test_HE_13_operator_only_and_validation),
                cmocka_unit_test(test_HE_5_service_end_needs_30_days),
                cmocka_unit_test(test_HE_6_scheduled_maintenance),
                cmocka_unit_test(test_HE_6_emergency_all_starts_now),
                cmocka_unit_test(test_HE_6_apps_scope_ends_by_itself_and_cancel),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
