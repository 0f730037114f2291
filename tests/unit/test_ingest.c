/*
 * test_ingest.c - the ingest parsers of HE-7 and their shared helpers: the
 * quantity/unit/role tables and ECHONET default roles, the batch arrays
 * (series index, limits, the time window), the InfluxDB line protocol parser
 * (escapes, strings, comments, CRLF, precisions, number forms, per-line
 * rejects with index and line, limits, unreadable bodies) and the strict
 * JSON batch parser (members, series validation with JSON pointers, per-point
 * rejects, duplicates, limits, malformed JSON). gzip is not tested here.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain/ingest.h"
#include "domain/ingest_json.h"
#include "domain/lineproto.h"

/* 2025-12-03T00:00:00Z */
#define T_S  INT64_C(1764720000)
#define T_MS (T_S * 1000)
#define NOW_MS INT64_C(1764720123456)

static const struct ingest_limits LIM = { .max_points = 1000, .max_series = 100 };

/* ---- helpers ---------------------------------------------------------- */

static struct ingest_batch B;
static struct ingest_error E;

static int setup_batch(void **state)
{
        (void)state;
        ingest_batch_init(&B);
        memset(&E, 0, sizeof(E));
        return 0;
}

static int teardown_batch(void **state)
{
        (void)state;
        ingest_batch_free(&B);
        return 0;
}

/* Parses line protocol into a fresh B. */
static int lp(const char *body, enum lp_precision prec)
{
        ingest_batch_free(&B);
        ingest_batch_init(&B);
        return lineproto_parse(body, strlen(body), prec, NOW_MS, &LIM, &B, &E);
}

static int lp_lim(const char *body, size_t len, size_t max_points, size_t max_series)
{
        struct ingest_limits lim = { .max_points = max_points, .max_series = max_series };

        ingest_batch_free(&B);
        ingest_batch_init(&B);
        return lineproto_parse(body, len, LP_NS, NOW_MS, &lim, &B, &E);
}

static int js(const char *body)
{
        ingest_batch_free(&B);
        ingest_batch_init(&B);
        return ingest_json_parse(body, strlen(body), &LIM, &B, &E);
}

/* Expects exactly one rejected line protocol line with this code. */
static void lp_one_reject(const char *body, const char *code)
{
        int rc = lp(body, LP_NS);

        if (rc != 0)
                fail_msg("'%s': rc %d (%s)", body, rc, E.message);
        if (B.n_rejects != 1 || B.n_points != 0)
                fail_msg("'%s': %zu rejects, %zu points", body, B.n_rejects, B.n_points);
        if (strcmp(B.rejects[0].code, code) != 0)
                fail_msg("'%s': code %s (%s), wanted %s", body, B.rejects[0].code,
                         B.rejects[0].message, code);
        assert_int_equal(B.rejects[0].index, 0);
        assert_int_equal(B.rejects[0].line, 1);
        assert_int_equal(B.n_input, 1);
}

/* Expects one accepted point with value v. */
static void lp_one_value(const char *body, double v)
{
        int rc = lp(body, LP_NS);

        if (rc != 0 || B.n_points != 1)
                fail_msg("'%s': rc %d, %zu points, %zu rejects (%s)", body, rc, B.n_points,
                         B.n_rejects, B.n_rejects ? B.rejects[0].message : "");
        if (B.points[0].value != v)
                fail_msg("'%s': value %.17g, wanted %.17g", body, B.points[0].value, v);
}

/* Expects a JSON body to fail as a whole with code and pointer. */
static void js_fails(const char *body, int rc_want, const char *code, const char *pointer)
{
        int rc = js(body);

        if (rc != rc_want || !E.code || strcmp(E.code, code) != 0 ||
            (pointer && strcmp(E.pointer, pointer) != 0))
                fail_msg("%s\n  -> rc %d code %s pointer '%s' (%s); wanted %d %s '%s'", body, rc,
                         E.code ? E.code : "(null)", E.pointer, E.message, rc_want, code,
                         pointer ? pointer : "*");
}

/* A JSON batch around a series list and a points list. */
static char *js_body(const char *series, const char *points)
{
        static char buf[8192];

        snprintf(buf, sizeof(buf), "{\"batch_id\":\"b-1\",\"series\":[%s],\"points\":[%s]}",
                 series, points);
        return buf;
}

/* Expects the series definition s to fail with the pointer. */
static void js_series_fails(const char *s, const char *pointer)
{
        char series[1024];

        snprintf(series, sizeof(series), "{\"channel\":\"ok\",\"quantity\":\"power\"},%s", s);
        js_fails(js_body(series, ""), -EINVAL, "validation_failed", pointer);
}

static struct ingest_series series_of(const char *channel, enum energy_quantity q, const char *unit)
{
        struct ingest_series s;

        memset(&s, 0, sizeof(s));
        snprintf(s.channel, sizeof(s.channel), "%s", channel);
        s.quantity = q;
        snprintf(s.unit, sizeof(s.unit), "%s", unit);
        s.class_code = s.epc = s.instance = s.circuit = -1;
        return s;
}

/* ---- tables and shared checks ------------------------------------------ */

static void test_quantities_units_kinds_roles(void **state)
{
        static const char *const names[] = { "power", "energy", "gas", "water", "soc" };
        int q;

        (void)state;
        for (q = 0; q < _EQ_MAX; q++) {
                assert_string_equal(energy_quantity_name((enum energy_quantity)q), names[q]);
                assert_int_equal(energy_quantity_from_name(names[q]), q);
        }
        assert_null(energy_quantity_name(_EQ_MAX));
        assert_null(energy_quantity_name((enum energy_quantity)-1));
        assert_int_equal(energy_quantity_from_name("Power"), -EINVAL);
        assert_int_equal(energy_quantity_from_name(""), -EINVAL);
        assert_int_equal(energy_quantity_from_name(NULL), -EINVAL);

        assert_int_equal(energy_quantity_kind(EQ_POWER), EK_GAUGE);
        assert_int_equal(energy_quantity_kind(EQ_SOC), EK_GAUGE);
        assert_int_equal(energy_quantity_kind(EQ_ENERGY), EK_COUNTER);
        assert_int_equal(energy_quantity_kind(EQ_GAS), EK_COUNTER);
        assert_int_equal(energy_quantity_kind(EQ_WATER), EK_COUNTER);

        assert_true(energy_unit_valid(EQ_POWER, "W"));
        assert_true(energy_unit_valid(EQ_POWER, "kW"));
        assert_false(energy_unit_valid(EQ_POWER, "Wh"));
        assert_false(energy_unit_valid(EQ_POWER, "w"));
        assert_true(energy_unit_valid(EQ_ENERGY, "Wh"));
        assert_true(energy_unit_valid(EQ_ENERGY, "kWh"));
        assert_false(energy_unit_valid(EQ_ENERGY, "kW"));
        assert_true(energy_unit_valid(EQ_GAS, "m3"));
        assert_true(energy_unit_valid(EQ_GAS, "L"));
        assert_true(energy_unit_valid(EQ_WATER, "L"));
        assert_true(energy_unit_valid(EQ_WATER, "m3"));
        assert_true(energy_unit_valid(EQ_SOC, "%"));
        assert_false(energy_unit_valid(EQ_SOC, ""));
        assert_false(energy_unit_valid(EQ_SOC, NULL));
        assert_false(energy_unit_valid(_EQ_MAX, "W"));

        assert_string_equal(energy_default_unit(EQ_POWER), "W");
        assert_string_equal(energy_default_unit(EQ_ENERGY), "Wh");
        assert_string_equal(energy_default_unit(EQ_GAS), "m3");
        assert_string_equal(energy_default_unit(EQ_WATER), "L");
        assert_string_equal(energy_default_unit(EQ_SOC), "%");
        assert_null(energy_default_unit(_EQ_MAX));

        assert_true(energy_role_valid("purchase"));
        assert_true(energy_role_valid("battery_discharge"));
        assert_true(energy_role_valid("other"));
        assert_false(energy_role_valid("Purchase"));
        assert_false(energy_role_valid(""));
        assert_false(energy_role_valid(NULL));
}

static void test_id_name_code_checks(void **state)
{
        char s65[66];

        (void)state;
        assert_true(ingest_id_valid("gw-2026-12-03T10:00-001", 23));
        assert_true(ingest_id_valid("A_z.0:9-", 8));
        assert_false(ingest_id_valid("", 0));
        assert_false(ingest_id_valid("a b", 3));
        assert_false(ingest_id_valid("a/b", 3));
        assert_false(ingest_id_valid("\xc3\xa9", 2));
        memset(s65, 'a', 65);
        s65[65] = '\0';
        assert_true(ingest_id_valid(s65, 64));
        assert_false(ingest_id_valid(s65, 65));

        assert_true(ingest_name_valid("", 0));
        assert_true(ingest_name_valid("Main board", 10));
        assert_true(ingest_name_valid("\xe5\x8f\xb0\xe6\x89\x80", 6));        /* 台所 */
        assert_true(ingest_name_valid(s65, 64));
        assert_false(ingest_name_valid(s65, 65));
        assert_false(ingest_name_valid("a\tb", 3));
        assert_false(ingest_name_valid("a\x7f", 2));
        assert_false(ingest_name_valid("\xc2\x85", 2));            /* C1 NEL */
        assert_false(ingest_name_valid("\xc3", 1));                /* truncated */
        assert_false(ingest_name_valid("\xc0\xaf", 2));            /* overlong */
        assert_false(ingest_name_valid("\xed\xa0\x80", 3));        /* surrogate */
        assert_false(ingest_name_valid("\xf4\x90\x80\x80", 4));    /* > U+10FFFF */

        assert_int_equal(ingest_utf8_char("a", 1), 1);
        assert_int_equal(ingest_utf8_char("\xf0\x9f\x98\x80", 4), 4);
        assert_int_equal(ingest_utf8_char("\xf0\x9f\x98", 3), 0);
        assert_int_equal(ingest_utf8_char("\x80", 1), 0);
}

static void test_code_parse(void **state)
{
        int32_t v = 0;

        (void)state;
        assert_int_equal(ingest_code_parse("0x0287", 6, 0xFFFF, &v), 0);
        assert_int_equal(v, 0x0287);
        assert_int_equal(ingest_code_parse("0X2a", 4, 0xFF, &v), 0);
        assert_int_equal(v, 42);
        assert_int_equal(ingest_code_parse("647", 3, 0xFFFF, &v), 0);
        assert_int_equal(v, 647);
        assert_int_equal(ingest_code_parse("0", 1, 0, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ingest_code_parse("0xFFFF", 6, 0xFFFF, &v), 0);
        assert_int_equal(ingest_code_parse("0x10000", 7, 0xFFFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("256", 3, 0xFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("0x", 2, 0xFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("", 0, 0xFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("-1", 2, 0xFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("12a", 3, 0xFFFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("0xg", 3, 0xFFFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("99999999999", 11, 0xFFFF, &v), -EINVAL);
        assert_int_equal(ingest_code_parse("0x123456789", 11, 0xFFFF, &v), -EINVAL);
}

/* The fast path must give exactly strtod's double. */
static void test_decimal_matches_strtod(void **state)
{
        static const char *const ok[] = {
                "0", "-0", "1", "-1", "1234", "1234.5", "0.1", "0.3", ".5", "5.", "1e3", "1E-3",
                "-1.5e+10", "123456789012345678", "1234567890123456789012", "0.000000000001",
                "9007199254740993", "9007199254740992", "1.7976931348623157e308", "4.9e-324",
                "2.2250738585072014e-308", "1e22", "1e23", "123.456e-7", "00012", "0.0000",
                "3.141592653589793238462643383279", "1e-400", "12345678901234567890e-10",
        };
        char buf[64];
        unsigned seed = 1;
        size_t i;
        double d;
        int k;

        (void)state;
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                assert_int_equal(ingest_decimal(ok[i], strlen(ok[i]), &d), 0);
                if (memcmp(&d, &(double){ strtod(ok[i], NULL) }, sizeof(d)) != 0)
                        fail_msg("%s: %.17g vs strtod %.17g", ok[i], d, strtod(ok[i], NULL));
        }
        /* Random decimals with up to 17 digits and exponents around the fast path. */
        for (k = 0; k < 20000; k++) {
                seed = seed * 1103515245u + 12345u;
                snprintf(buf, sizeof(buf), "%s%u.%u%se%d", (seed & 1) ? "-" : "",
                         (seed >> 8) % 100000000u, (seed >> 3) % 1000000u, (seed & 2) ? "7" : "",
                         (int)((seed >> 20) % 61) - 30);
                assert_int_equal(ingest_decimal(buf, strlen(buf), &d), 0);
                if (memcmp(&d, &(double){ strtod(buf, NULL) }, sizeof(d)) != 0)
                        fail_msg("%s: %.17g vs strtod %.17g", buf, d, strtod(buf, NULL));
        }
        assert_int_equal(ingest_decimal("1e999", 5, &d), 0);
        assert_true(isinf(d));
        assert_int_equal(ingest_decimal("", 0, &d), -EINVAL);
        assert_int_equal(ingest_decimal(".", 1, &d), -EINVAL);
        assert_int_equal(ingest_decimal("-", 1, &d), -EINVAL);
        assert_int_equal(ingest_decimal("e5", 2, &d), -EINVAL);
        assert_int_equal(ingest_decimal("1e", 2, &d), -EINVAL);
        assert_int_equal(ingest_decimal("1e+", 3, &d), -EINVAL);
        assert_int_equal(ingest_decimal("1.2.3", 5, &d), -EINVAL);
        assert_int_equal(ingest_decimal("0x10", 4, &d), -EINVAL);
        assert_int_equal(ingest_decimal("inf", 3, &d), -EINVAL);
        assert_int_equal(ingest_decimal("nan", 3, &d), -EINVAL);
        assert_int_equal(ingest_decimal("1 ", 2, &d), -EINVAL);
}

static const char *role_of(int32_t class_code, int32_t epc, enum energy_quantity q)
{
        struct ingest_series s = series_of("c", q, energy_default_unit(q));

        s.class_code = class_code;
        s.epc = epc;
        return ingest_default_role(&s);
}

static void test_HE_7_default_roles_from_echonet(void **state)
{
        (void)state;
        assert_string_equal(role_of(0x0279, 0xE1, EQ_ENERGY), "generation");
        assert_string_equal(role_of(0x0279, -1, EQ_POWER), "generation");
        assert_string_equal(role_of(0x0279, 0xE3, EQ_ENERGY), "sale");
        assert_string_equal(role_of(0x027C, 0xC4, EQ_ENERGY), "fuelcell");
        assert_string_equal(role_of(0x027D, 0xD8, EQ_ENERGY), "battery_charge");
        assert_string_equal(role_of(0x027D, 0xD6, EQ_ENERGY), "battery_discharge");
        assert_string_equal(role_of(0x027D, 0xE4, EQ_SOC), "soc");
        assert_string_equal(role_of(0x027D, 0xD3, EQ_POWER), "other");
        assert_string_equal(role_of(0x0282, 0xE0, EQ_GAS), "gas");
        assert_string_equal(role_of(0x0281, 0xE0, EQ_WATER), "water");
        assert_string_equal(role_of(0x0287, 0xC0, EQ_ENERGY), "purchase");
        assert_string_equal(role_of(0x0287, 0xC1, EQ_ENERGY), "sale");
        assert_string_equal(role_of(0x0287, 0xB3, EQ_ENERGY), "circuit");
        assert_string_equal(role_of(0x0287, 0xB7, EQ_POWER), "circuit");
        assert_string_equal(role_of(0x0287, 0xC2, EQ_ENERGY), "circuit");
        assert_string_equal(role_of(0x0287, -1, EQ_POWER), "circuit");
        assert_string_equal(role_of(0x0288, 0xE0, EQ_ENERGY), "purchase");
        assert_string_equal(role_of(0x0288, 0xE3, EQ_ENERGY), "sale");
        assert_string_equal(role_of(0x0288, 0xE7, EQ_POWER), "other");
        /* No ECHONET source: by quantity. */
        assert_string_equal(role_of(-1, -1, EQ_GAS), "gas");
        assert_string_equal(role_of(-1, -1, EQ_WATER), "water");
        assert_string_equal(role_of(-1, -1, EQ_SOC), "soc");
        assert_string_equal(role_of(-1, -1, EQ_POWER), "other");
        assert_string_equal(role_of(-1, -1, EQ_ENERGY), "other");
        assert_string_equal(role_of(0x0130, 0x80, EQ_POWER), "other");
        assert_string_equal(ingest_default_role(NULL), "other");
}

/* ---- batch arrays ------------------------------------------------------- */

static void test_batch_series_index_and_merge(void **state)
{
        struct ingest_limits lim = { .max_points = 10, .max_series = 3000 };
        struct ingest_series s;
        char ch[32];
        int i, idx;

        (void)state;
        /* Thousands of series: each found again at its own index. */
        for (i = 0; i < 3000; i++) {
                snprintf(ch, sizeof(ch), "ch%d", i);
                s = series_of(ch, (enum energy_quantity)(i % _EQ_MAX),
                              energy_default_unit((enum energy_quantity)(i % _EQ_MAX)));
                assert_int_equal(ingest_batch_series(&B, &s, &lim), i);
        }
        for (i = 2999; i >= 0; i--) {
                snprintf(ch, sizeof(ch), "ch%d", i);
                s = series_of(ch, (enum energy_quantity)(i % _EQ_MAX),
                              energy_default_unit((enum energy_quantity)(i % _EQ_MAX)));
                assert_int_equal(ingest_batch_series(&B, &s, &lim), i);
        }
        assert_int_equal(B.n_series, 3000);
        s = series_of("new", EQ_POWER, "W");
        assert_int_equal(ingest_batch_series(&B, &s, &lim), -E2BIG);
        assert_int_equal(B.n_series, 3000);
        ingest_batch_free(&B);

        /* The key is (channel, quantity, unit); the rest merges into gaps. */
        s = series_of("main", EQ_ENERGY, "Wh");
        s.class_code = 0x0287;
        assert_int_equal(ingest_batch_series(&B, &s, NULL), 0);
        s = series_of("main", EQ_ENERGY, "kWh");
        assert_int_equal(ingest_batch_series(&B, &s, NULL), 1);
        s = series_of("main", EQ_POWER, "W");
        assert_int_equal(ingest_batch_series(&B, &s, NULL), 2);
        s = series_of("main", EQ_ENERGY, "Wh");
        s.class_code = 0x0288;
        s.epc = 0xE0;
        snprintf(s.name, sizeof(s.name), "Main");
        snprintf(s.role, sizeof(s.role), "purchase");
        s.wrap = 1e8;
        idx = ingest_batch_series(&B, &s, NULL);
        assert_int_equal(idx, 0);
        assert_int_equal(B.series[0].class_code, 0x0287);   /* first wins */
        assert_int_equal(B.series[0].epc, 0xE0);             /* gap filled */
        assert_string_equal(B.series[0].name, "Main");
        assert_string_equal(B.series[0].role, "purchase");
        assert_true(B.series[0].wrap == 1e8);
        assert_int_equal(B.series[0].instance, -1);

        ingest_batch_free(&B);
        ingest_batch_free(&B);   /* twice is fine */
        ingest_batch_free(NULL);
}

static void test_batch_points_rejects_limits(void **state)
{
        struct ingest_limits lim = { .max_points = 3, .max_series = 1 };
        int i;

        (void)state;
        assert_int_equal(ingest_batch_point(&B, 0, 1, 1.0, &lim), 0);
        assert_int_equal(ingest_batch_reject(&B, 1, 7, "bad_value", "value %d", 5), 0);
        assert_int_equal(ingest_batch_point_line(&B, 0, 2, 2.0, 9, &lim), 0);
        assert_int_equal(ingest_batch_point(&B, 0, 3, 3.0, &lim), -E2BIG);
        assert_int_equal(B.n_input, 3);
        assert_int_equal(B.n_points, 2);
        assert_int_equal(B.points[0].index, 0);
        assert_int_equal(B.points[1].index, 2);
        assert_int_equal(B.points[1].line, 9);
        assert_int_equal(B.points[0].line, 0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "bad_value");
        assert_string_equal(B.rejects[0].message, "value 5");
        assert_int_equal(B.rejects[0].line, 7);
        ingest_batch_free(&B);

        /* Geometric growth: many points without limits. */
        for (i = 0; i < 100000; i++)
                assert_int_equal(ingest_batch_point(&B, 0, i, i, NULL), 0);
        assert_int_equal(B.n_points, 100000);
        assert_true(B.cap_points >= 100000 && B.cap_points < 2 * 131072);
        assert_int_equal(B.points[99999].index, 99999);
}

static void test_HE_7_window_moves_points_keeps_order(void **state)
{
        size_t i;

        (void)state;
        /* input: 0 good(t=5) 1 reject 2 good(t=50) 3 good(t=1) 4 reject 5 good(t=20) 6 good(t=99) */
        assert_int_equal(ingest_batch_point(&B, 0, 5, 0.5, NULL), 0);
        assert_int_equal(ingest_batch_reject(&B, 1, 0, "bad_value", "x"), 0);
        assert_int_equal(ingest_batch_point(&B, 0, 50, 5.0, NULL), 0);
        assert_int_equal(ingest_batch_point(&B, 0, 1, 0.1, NULL), 0);
        assert_int_equal(ingest_batch_reject(&B, 4, 0, "bad_time", "y"), 0);
        assert_int_equal(ingest_batch_point(&B, 0, 20, 2.0, NULL), 0);
        assert_int_equal(ingest_batch_point(&B, 0, 99, 9.9, NULL), 0);
        assert_int_equal(B.n_input, 7);

        assert_int_equal(ingest_batch_window(&B, 5, 50), 0);
        assert_int_equal(B.n_input, 7);
        assert_int_equal(B.n_points, 3);
        assert_int_equal(B.points[0].ts_ms, 5);
        assert_int_equal(B.points[1].ts_ms, 50);
        assert_int_equal(B.points[2].ts_ms, 20);
        assert_int_equal(B.n_rejects, 4);
        for (i = 1; i < B.n_rejects; i++)
                assert_true(B.rejects[i - 1].index < B.rejects[i].index);
        assert_int_equal(B.rejects[0].index, 1);
        assert_string_equal(B.rejects[0].code, "bad_value");
        assert_int_equal(B.rejects[1].index, 3);
        assert_string_equal(B.rejects[1].code, "before_registration");
        assert_int_equal(B.rejects[2].index, 4);
        assert_string_equal(B.rejects[2].code, "bad_time");
        assert_int_equal(B.rejects[3].index, 6);
        assert_string_equal(B.rejects[3].code, "future_timestamp");

        /* Nothing outside: nothing moves. */
        assert_int_equal(ingest_batch_window(&B, INT64_MIN, INT64_MAX), 0);
        assert_int_equal(B.n_points, 3);
        assert_int_equal(B.n_rejects, 4);
}

/* ---- line protocol ------------------------------------------------------ */

static void test_HE_7_line_protocol_series_key(void **state)
{
        const struct ingest_series *s;

        (void)state;
        assert_int_equal(lp("power,channel=c07,unit=W,class=0x0287,epc=0xB3,circuit=7 value=1234 "
                            "1764720000000000000\n"
                            "power,channel=c07,unit=W,class=0x0287,epc=0xB3,circuit=7 value=1250 "
                            "1764720060000000000\n"
                            "power,channel=c07,unit=kW value=1.25 1764720060000000000\n"
                            "energy,channel=c07 value=99 1764720060000000000\n"
                            "energy,circuit=3,channel=c08,instance=2,name=Kitchen,role=circuit,"
                            "wrap=999999.5,epc=224,class=647 value=5i\n",
                            LP_NS),
                         0);
        assert_int_equal(B.n_rejects, 0);
        assert_int_equal(B.n_points, 5);
        assert_int_equal(B.n_series, 4);
        s = &B.series[0];
        assert_string_equal(s->channel, "c07");
        assert_int_equal(s->quantity, EQ_POWER);
        assert_string_equal(s->unit, "W");
        assert_int_equal(s->class_code, 0x0287);
        assert_int_equal(s->epc, 0xB3);
        assert_int_equal(s->circuit, 7);
        assert_int_equal(s->instance, -1);
        assert_string_equal(s->name, "");
        assert_string_equal(s->role, "");
        assert_true(s->wrap == 0);
        assert_string_equal(ingest_default_role(s), "circuit");
        assert_int_equal(B.points[0].series, 0);
        assert_int_equal(B.points[1].series, 0);
        assert_int_equal(B.points[0].ts_ms, T_MS);
        assert_int_equal(B.points[1].ts_ms, T_MS + 60000);
        assert_true(B.points[0].value == 1234);
        assert_true(B.points[1].value == 1250);
        /* Another unit is another series. */
        assert_int_equal(B.points[2].series, 1);
        assert_string_equal(B.series[1].unit, "kW");
        /* The default unit of energy. */
        assert_int_equal(B.points[3].series, 2);
        assert_string_equal(B.series[2].unit, "Wh");
        /* Tags in any order; decimal class and epc; no time = now. */
        s = &B.series[3];
        assert_string_equal(s->channel, "c08");
        assert_int_equal(s->class_code, 647);
        assert_int_equal(s->epc, 224);
        assert_int_equal(s->instance, 2);
        assert_int_equal(s->circuit, 3);
        assert_string_equal(s->name, "Kitchen");
        assert_string_equal(s->role, "circuit");
        assert_true(s->wrap == 999999.5);
        assert_int_equal(B.points[4].ts_ms, NOW_MS);
        assert_true(B.points[4].value == 5);
        assert_int_equal(B.points[4].index, 4);
        assert_int_equal(B.points[4].line, 5);
}

static void test_lp_default_units(void **state)
{
        (void)state;
        assert_int_equal(lp("power,channel=a value=1\nenergy,channel=a value=1\ngas,channel=a value=1\n"
                            "water,channel=a value=1\nsoc,channel=a value=1\n",
                            LP_NS),
                         0);
        assert_int_equal(B.n_series, 5);
        assert_string_equal(B.series[0].unit, "W");
        assert_string_equal(B.series[1].unit, "Wh");
        assert_string_equal(B.series[2].unit, "m3");
        assert_string_equal(B.series[3].unit, "L");
        assert_string_equal(B.series[4].unit, "%");
        assert_int_equal(B.series[4].quantity, EQ_SOC);
}

static void test_lp_precisions(void **state)
{
        static const struct {
                const char *name;
                enum lp_precision p;
                const char *t;
                int64_t ms;
        } cases[] = {
                { "ns", LP_NS, "1764720000123456789", T_MS + 123 },
                { "n", LP_NS, "999999", 0 },
                { "us", LP_US, "1764720000123456", T_MS + 123 },
                { "u", LP_US, "1999", 1 },
                { "ms", LP_MS, "1764720000123", T_MS + 123 },
                { "s", LP_S, "1764720000", T_MS },
                { "m", LP_MIN, "29412000", T_MS },
                { "h", LP_HOUR, "490200", T_MS },
        };
        enum lp_precision p;
        char body[128];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(lineproto_precision(cases[i].name, &p), 0);
                assert_int_equal(p, cases[i].p);
                snprintf(body, sizeof(body), "power,channel=a value=1 %s", cases[i].t);
                assert_int_equal(lp(body, p), 0);
                assert_int_equal(B.n_points, 1);
                if (B.points[0].ts_ms != cases[i].ms)
                        fail_msg("%s: %lld", cases[i].name, (long long)B.points[0].ts_ms);
        }
        assert_int_equal(lineproto_precision(NULL, &p), 0);
        assert_int_equal(p, LP_NS);
        assert_int_equal(lineproto_precision("", &p), 0);
        assert_int_equal(p, LP_NS);
        assert_int_equal(lineproto_precision("sec", &p), -EINVAL);
        assert_int_equal(lineproto_precision("S", &p), -EINVAL);
        assert_int_equal(lineproto_precision("s", NULL), -EINVAL);

        /* Overflow after scaling is a per-line bad_time. */
        assert_int_equal(lp("power,channel=a value=1 9223372036854775\n"
                            "power,channel=a value=1 9223372036854776\n",
                            LP_S),
                         0);
        assert_int_equal(B.n_points, 1);
        assert_int_equal(B.points[0].ts_ms, INT64_C(9223372036854775000));
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "bad_time");
        assert_int_equal(B.rejects[0].line, 2);
}

static void test_lp_timestamps(void **state)
{
        (void)state;
        assert_int_equal(lp("power,channel=a value=1 9223372036854775807", LP_NS), 0);
        assert_int_equal(B.n_points, 1);
        assert_int_equal(B.points[0].ts_ms, INT64_C(9223372036854));
        assert_int_equal(lp("power,channel=a value=1 0", LP_NS), 0);
        assert_int_equal(B.points[0].ts_ms, 0);
        assert_int_equal(lp("power,channel=a value=1", LP_NS), 0);
        assert_int_equal(B.points[0].ts_ms, NOW_MS);
        assert_int_equal(lp("power,channel=a value=1   1000000   ", LP_NS), 0);
        assert_int_equal(B.points[0].ts_ms, 1);
        lp_one_reject("power,channel=a value=1 -1764720000000000000", "bad_time");
        assert_non_null(strstr(B.rejects[0].message, "negative"));
        lp_one_reject("power,channel=a value=1 9223372036854775808", "bad_time");
        lp_one_reject("power,channel=a value=1 99999999999999999999", "bad_time");
        lp_one_reject("power,channel=a value=1 12x", "bad_time");
        lp_one_reject("power,channel=a value=1 1.5", "bad_time");
        lp_one_reject("power,channel=a value=1 1764720000 5", "bad_line");
}

static void test_lp_escapes(void **state)
{
        (void)state;
        /* Escaped space, comma, equals sign and backslash in a tag value. */
        assert_int_equal(lp("power,channel=a,name=Main\\ board\\,\\ 1\\=x\\\\y value=1", LP_NS), 0);
        assert_int_equal(B.n_points, 1);
        assert_string_equal(B.series[0].name, "Main board, 1=x\\y");
        /* A backslash before anything else stays. */
        assert_int_equal(lp("power,channel=a,name=a\\b value=1", LP_NS), 0);
        assert_string_equal(B.series[0].name, "a\\b");
        /* Escapes in the measurement and in keys. */
        assert_int_equal(lp("pow\\er,channel=a value=1", LP_NS), 0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "unknown_quantity");
        assert_int_equal(lp("po\\,wer,channel=a value=1", LP_NS), 0);
        assert_string_equal(B.rejects[0].code, "unknown_quantity");
        assert_non_null(strstr(B.rejects[0].message, "po,wer"));
        assert_int_equal(lp("power,chan\\ nel=a value=1", LP_NS), 0);
        assert_string_equal(B.rejects[0].code, "unknown_tag");
        assert_non_null(strstr(B.rejects[0].message, "chan nel"));
        /* An escaped known key is still that key. */
        assert_int_equal(lp("power,\\channel=a value=1", LP_NS), 0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "unknown_tag");
        assert_int_equal(lp("power,cha\\nnel=a value=1", LP_NS), 0);
        assert_string_equal(B.rejects[0].code, "unknown_tag");
        /* Escaped '=' and ',' in the field key. */
        assert_int_equal(lp("power,channel=a val\\=ue=1", LP_NS), 0);
        assert_string_equal(B.rejects[0].code, "unknown_field");
        /* Escapes cannot smuggle bad characters into a channel. */
        lp_one_reject("power,channel=a\\ b value=1", "bad_tag");
        /* A long escaped name fits exactly at 64 bytes. */
        assert_int_equal(lp("power,channel=a,name=\\ 234567890123456789012345678901234567890"
                            "12345678901234567890123\\, value=1",
                            LP_NS),
                         0);
        assert_int_equal(B.n_points, 1);
        assert_int_equal(strlen(B.series[0].name), 64);
        lp_one_reject("power,channel=a,name=\\ 2345678901234567890123456789012345678901"
                      "2345678901234567890123\\,5 value=1",
                      "bad_tag");
        /* UTF-8 names. */
        assert_int_equal(lp("power,channel=k,name=\xe5\x8f\xb0\xe6\x89\x80 value=1", LP_NS), 0);
        assert_string_equal(B.series[0].name, "\xe5\x8f\xb0\xe6\x89\x80");
}

static void test_lp_strings_and_lines(void **state)
{
        (void)state;
        /* A string value is refused; a quote in a tag is just a character. */
        lp_one_reject("power,channel=a value=\"1234\"", "bad_value");
        assert_int_equal(lp("power,channel=a,name=say\"hi\" value=1", LP_NS), 0);
        assert_int_equal(B.n_points, 1);
        assert_string_equal(B.series[0].name, "say\"hi\"");
        /* A string may hold escaped quotes, commas, spaces and newlines:
         * the rejected point spans lines 2-3 and line 4 is the next point. */
        assert_int_equal(lp("power,channel=a value=1\n"
                            "power,channel=a value=\"a \\\"b\\\", c\nd\" 5\n"
                            "power,channel=a value=3\n",
                            LP_NS),
                         0);
        assert_int_equal(B.n_points, 2);
        assert_int_equal(B.n_rejects, 1);
        assert_int_equal(B.rejects[0].index, 1);
        assert_int_equal(B.rejects[0].line, 2);
        assert_string_equal(B.rejects[0].code, "bad_value");
        assert_int_equal(B.points[1].index, 2);
        assert_int_equal(B.points[1].line, 4);
        assert_true(B.points[1].value == 3);
        /* A string in another field, before the value. */
        assert_int_equal(lp("power,channel=a note=\"x\ny\",value=2\npower,channel=a value=4", LP_NS), 0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "unknown_field");
        assert_int_equal(B.n_points, 1);
        assert_int_equal(B.points[0].line, 3);
        assert_int_equal(B.points[0].index, 1);
        /* An unterminated string: a bad line; the next line is read. */
        assert_int_equal(lp("power,channel=a value=\"abc\npower,channel=a value=7", LP_NS), 0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "bad_line");
        assert_non_null(strstr(B.rejects[0].message, "column 23"));
        assert_int_equal(B.n_points, 1);
        assert_int_equal(B.points[0].line, 2);
        /* Text right after a closed string. */
        lp_one_reject("power,channel=a value=\"x\"y", "bad_line");
}

static void test_lp_comments_blank_lines_crlf(void **state)
{
        (void)state;
        assert_int_equal(lp("# header comment\r\n"
                            "\r\n"
                            "   \t \n"
                            "power,channel=a value=1 1000000\r\n"
                            "  # indented comment, value=3\n"
                            "\t power,channel=b value=2   \r\n"
                            "\n",
                            LP_NS),
                         0);
        assert_int_equal(B.n_rejects, 0);
        assert_int_equal(B.n_points, 2);
        assert_int_equal(B.n_input, 2);
        assert_int_equal(B.points[0].index, 0);
        assert_int_equal(B.points[0].line, 4);
        assert_int_equal(B.points[0].ts_ms, 1);
        assert_int_equal(B.points[1].index, 1);
        assert_int_equal(B.points[1].line, 6);
        assert_string_equal(B.series[1].channel, "b");
        /* No final newline; empty body; only comments. */
        assert_int_equal(lp("power,channel=a value=1", LP_NS), 0);
        assert_int_equal(B.n_points, 1);
        assert_int_equal(lp("", LP_NS), 0);
        assert_int_equal(B.n_input, 0);
        assert_int_equal(lp("#a\n#b", LP_NS), 0);
        assert_int_equal(B.n_input, 0);
}

static void test_lp_number_forms(void **state)
{
        (void)state;
        lp_one_value("power,channel=a value=1234", 1234);
        lp_one_value("power,channel=a value=-12.5", -12.5);
        lp_one_value("power,channel=a value=1.5e3", 1500);
        lp_one_value("power,channel=a value=2E-2", 0.02);
        lp_one_value("power,channel=a value=.5", 0.5);
        lp_one_value("power,channel=a value=5.", 5);
        lp_one_value("power,channel=a value=0.1", 0.1);
        lp_one_value("power,channel=a value=123i", 123);
        lp_one_value("power,channel=a value=-9223372036854775808i", -9223372036854775808.0);
        lp_one_value("power,channel=a value=9223372036854775807i", 9223372036854775807.0);
        lp_one_value("power,channel=a value=18446744073709551615u", 18446744073709551615.0);
        lp_one_value("power,channel=a value=0u", 0);
        lp_one_reject("power,channel=a value=9223372036854775808i", "bad_value");
        lp_one_reject("power,channel=a value=18446744073709551616u", "bad_value");
        lp_one_reject("power,channel=a value=-1u", "bad_value");
        lp_one_reject("power,channel=a value=1.5i", "bad_value");
        lp_one_reject("power,channel=a value=i", "bad_value");
        lp_one_reject("power,channel=a value=+1", "bad_value");
        lp_one_reject("power,channel=a value=0x10", "bad_value");
        lp_one_reject("power,channel=a value=12abc", "bad_value");
        lp_one_reject("power,channel=a value=1e", "bad_value");
        lp_one_reject("power,channel=a value=-", "bad_value");
        lp_one_reject("power,channel=a value=t", "bad_value");
        lp_one_reject("power,channel=a value=true", "bad_value");
        lp_one_reject("power,channel=a value=FALSE", "bad_value");
        lp_one_reject("power,channel=a value=False", "bad_value");
        lp_one_reject("power,channel=a value=", "bad_line");
        lp_one_reject("power,channel=a value=1,", "bad_line");
}

static void test_HE_7_not_finite_values_rejected(void **state)
{
        static const char *const bad[] = {
                "nan", "NaN", "-nan", "inf", "+Inf", "-inf", "Infinity", "-INFINITY", "1e309",
                "-1e999",
        };
        char body[64];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(body, sizeof(body), "power,channel=a value=%s", bad[i]);
                lp_one_reject(body, "not_finite");
        }
        lp_one_value("power,channel=a value=1.7976931348623157e308", 1.7976931348623157e308);
        lp_one_value("power,channel=a value=1e-400", 0);
}

static void test_lp_tag_rejects(void **state)
{
        (void)state;
        lp_one_reject("power value=1", "missing_tag");
        lp_one_reject("power,unit=W value=1", "missing_tag");
        lp_one_reject("power,channel=a,site=x value=1", "unknown_tag");
        assert_non_null(strstr(B.rejects[0].message, "site"));
        lp_one_reject("power,channel=a,channel=b value=1", "bad_tag");
        lp_one_reject("power,channel=a,unit=W,unit=W value=1", "bad_tag");
        lp_one_reject("power,channel=a/b value=1", "bad_tag");
        lp_one_reject("power,channel=12345678901234567890123456789012345678901234567890123456789012345 "
                      "value=1",
                      "bad_tag");
        lp_one_reject("power,channel=a,unit=Wh value=1", "unknown_unit");
        lp_one_reject("soc,channel=a,unit=W value=1", "unknown_unit");
        lp_one_reject("gas,channel=a,unit=kilolitres value=1", "unknown_unit");
        lp_one_reject("voltage,channel=a value=1", "unknown_quantity");
        lp_one_reject("Power,channel=a value=1", "unknown_quantity");
        lp_one_reject("power,channel=a,class=0x10000 value=1", "bad_tag");
        lp_one_reject("power,channel=a,class=65536 value=1", "bad_tag");
        lp_one_reject("power,channel=a,class=x value=1", "bad_tag");
        lp_one_reject("power,channel=a,epc=0x100 value=1", "bad_tag");
        lp_one_reject("power,channel=a,instance=0 value=1", "bad_tag");
        lp_one_reject("power,channel=a,instance=128 value=1", "bad_tag");
        lp_one_reject("power,channel=a,circuit=256 value=1", "bad_tag");
        lp_one_reject("power,channel=a,circuit=-1 value=1", "bad_tag");
        lp_one_reject("power,channel=a,role=seller value=1", "bad_tag");
        lp_one_reject("power,channel=a,wrap=0 value=1", "bad_tag");
        lp_one_reject("power,channel=a,wrap=-5 value=1", "bad_tag");
        lp_one_reject("power,channel=a,wrap=nan value=1", "bad_tag");
        lp_one_reject("power,channel=a,name=tab\tx value=1", "bad_tag");
        lp_one_reject("power,channel=a other=1", "unknown_field");
        lp_one_reject("power,channel=a value=1,value=2", "duplicate_field");
        lp_one_reject("power,channel=a value=1,x=2", "unknown_field");
        /* The first problem from the left wins. */
        lp_one_reject("voltage,site=1 value=nan", "unknown_quantity");
        lp_one_reject("power,site=1,unit=Wh value=nan", "unknown_tag");
        /* A syntax error wins over everything. */
        lp_one_reject("voltage,site=1 value", "bad_line");
}

static void test_lp_bad_lines_with_column(void **state)
{
        static const struct {
                const char *body;
                const char *col;
        } cases[] = {
                { "power,channel=a", "column 16" },              /* no fields */
                { "power,channel=a ", "column 16" },
                { "power", "column 6" },
                { ",channel=a value=1", "column 1" },            /* no measurement */
                { " power,channel value=1", "column 15" },       /* '=' expected */
                { "power,=a value=1", "column 7" },              /* empty key */
                { "power,channel= value=1", "column 15" },       /* empty value */
                { "power,channel=a=b value=1", "column 16" },    /* unescaped '=' */
                { "power,channel=a value", "column 22" },
                { "power,channel=a =1", "column 17" },           /* empty field key */
                { "power,,channel=a value=1", "column 7" },
                { "power,channel=a value=1 12 3", "column 28" },
        };
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                lp_one_reject(cases[i].body, "bad_line");
                if (!strstr(B.rejects[0].message, cases[i].col))
                        fail_msg("'%s': %s, wanted %s", cases[i].body, B.rejects[0].message,
                                 cases[i].col);
        }
}

static void test_HE_7_rejects_keep_good_points(void **state)
{
        size_t i;

        (void)state;
        assert_int_equal(lp("# gateway 7\n"
                            "power,channel=a value=1 1764720000000000000\n"        /* 0: line 2 */
                            "power,channel=a value=nan 1764720000000000000\n"      /* 1: line 3 */
                            "\n"
                            "power,channel=b value=2 1764720000000000000\n"        /* 2: line 5 */
                            "bogus line\n"                                         /* 3: line 6 */
                            "power,channel=a,unit=Wh value=3\n"                    /* 4: line 7 */
                            "energy,channel=a value=4 1764720001000000000\r\n"     /* 5: line 8 */
                            "power,channel=a,colour=red value=5\n"                 /* 6: line 9 */
                            "power,channel=a value=6 -1\n"                         /* 7: line 10 */
                            "power,channel=c value=7 1764720002000000000",         /* 8: line 11 */
                            LP_NS),
                         0);
        assert_int_equal(B.n_input, 9);
        assert_int_equal(B.n_points, 4);
        assert_int_equal(B.n_rejects, 5);
        assert_int_equal(B.points[0].index, 0);
        assert_int_equal(B.points[0].line, 2);
        assert_true(B.points[0].value == 1);
        assert_int_equal(B.points[1].index, 2);
        assert_int_equal(B.points[1].line, 5);
        assert_int_equal(B.points[2].index, 5);
        assert_int_equal(B.points[2].line, 8);
        assert_int_equal(B.points[2].ts_ms, T_MS + 1000);
        assert_int_equal(B.points[3].index, 8);
        assert_int_equal(B.points[3].line, 11);
        assert_int_equal(B.rejects[0].index, 1);
        assert_int_equal(B.rejects[0].line, 3);
        assert_string_equal(B.rejects[0].code, "not_finite");
        assert_int_equal(B.rejects[1].index, 3);
        assert_int_equal(B.rejects[1].line, 6);
        assert_string_equal(B.rejects[1].code, "bad_line");
        assert_int_equal(B.rejects[2].index, 4);
        assert_int_equal(B.rejects[2].line, 7);
        assert_string_equal(B.rejects[2].code, "unknown_unit");
        assert_int_equal(B.rejects[3].index, 6);
        assert_int_equal(B.rejects[3].line, 9);
        assert_string_equal(B.rejects[3].code, "unknown_tag");
        assert_int_equal(B.rejects[4].index, 7);
        assert_int_equal(B.rejects[4].line, 10);
        assert_string_equal(B.rejects[4].code, "bad_time");
        for (i = 0; i < B.n_rejects; i++)
                assert_true(B.rejects[i].message[0] != '\0');
        /* A rejected line adds no series. */
        assert_int_equal(B.n_series, 4);
}

static void test_HE_7_lp_limits_fail_the_batch(void **state)
{
        char body[4096];
        size_t len = 0;
        int i;

        (void)state;
        for (i = 0; i < 10; i++)
                len += (size_t)snprintf(body + len, sizeof(body) - len,
                                        "# c\npower,channel=c%d value=%d\n", i % 4, i);
        /* Exactly at the limits is fine; comments do not count. */
        assert_int_equal(lp_lim(body, len, 10, 4), 0);
        assert_int_equal(B.n_points, 10);
        assert_int_equal(B.n_series, 4);
        /* One point too many. */
        assert_int_equal(lp_lim(body, len, 9, 4), -E2BIG);
        assert_string_equal(E.code, "too_many_points");
        assert_int_equal(E.line, 20);
        assert_string_equal(E.pointer, "");
        /* Rejected lines count as points. */
        assert_int_equal(lp_lim("power value=1\npower value=1\npower,channel=a value=1", 42, 2, 4),
                         -E2BIG);
        assert_string_equal(E.code, "too_many_points");
        assert_int_equal(E.line, 3);
        /* One series too many. */
        assert_int_equal(lp_lim(body, len, 10, 3), -E2BIG);
        assert_string_equal(E.code, "too_many_series");
        assert_int_equal(E.line, 8);
        assert_non_null(strstr(E.message, "line 8"));
}

static void test_HE_7_lp_unreadable_body_fails(void **state)
{
        static const char nul[] = "power,channel=a value=1\npower,channel=b value=2\x00\n";
        static const struct {
                const char *body;
                uint32_t line;
        } bad[] = {
                { "power,channel=a value=1\n\xff", 2 },
                { "power,channel=a,name=\xc0\xaf value=1", 1 },           /* overlong */
                { "#\n#\npower,channel=a,name=\xed\xa0\x80 value=1", 3 },   /* surrogate */
                { "power,channel=a,name=\xe5\x8f value=1", 1 },           /* truncated */
                { "# \xf8\x88\x80\x80\x80", 1 },                          /* 5 bytes */
        };
        size_t i;

        (void)state;
        assert_int_equal(lp_lim(nul, sizeof(nul) - 1, 10, 10), -EINVAL);
        assert_string_equal(E.code, "malformed_line_protocol");
        assert_int_equal(E.line, 2);
        assert_non_null(strstr(E.message, "NUL"));
        assert_non_null(strstr(E.message, "column 24"));
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(lp(bad[i].body, LP_NS), -EINVAL);
                assert_string_equal(E.code, "malformed_line_protocol");
                assert_int_equal(E.line, bad[i].line);
        }
        /* Bad arguments. */
        assert_int_equal(lineproto_parse(NULL, 1, LP_NS, 0, &LIM, &B, &E), -EINVAL);
        assert_int_equal(lineproto_parse("x", 1, LP_NS, 0, &LIM, NULL, &E), -EINVAL);
        assert_int_equal(lineproto_parse(NULL, 0, LP_NS, 0, &LIM, &B, NULL), 0);
}

/* Long lines, many series, a body over 64-byte blocks with UTF-8 inside. */
static void test_lp_many_series_long_lines(void **state)
{
        size_t cap = 4 << 20, len = 0;
        char *body = malloc(cap);
        struct ingest_limits lim = { .max_points = 20000, .max_series = 5000 };
        int i;

        (void)state;
        assert_non_null(body);
        for (i = 0; i < 10000; i++)
                len += (size_t)snprintf(body + len, cap - len,
                                        "energy,channel=board.%04d,unit=kWh,class=0x0287,epc=0xB3,"
                                        "circuit=%d,name=\xe5\x9b\x9e\xe8\xb7\xaf\\ %d value=%d.25 %lld\n",
                                        i % 5000, i % 256, i % 5000, i,
                                        (long long)(T_S + i / 5000) * 1000000000LL);
        ingest_batch_free(&B);
        ingest_batch_init(&B);
        assert_int_equal(lineproto_parse(body, len, LP_NS, 0, &lim, &B, &E), 0);
        assert_int_equal(B.n_rejects, 0);
        assert_int_equal(B.n_points, 10000);
        assert_int_equal(B.n_series, 5000);
        for (i = 0; i < 10000; i++) {
                assert_int_equal(B.points[i].series, (uint32_t)(i % 5000));
                assert_true(B.points[i].value == i + 0.25);
        }
        assert_string_equal(B.series[4999].channel, "board.4999");
        free(body);
}

/* ---- JSON --------------------------------------------------------------- */

static void test_HE_7_json_batch(void **state)
{
        const struct ingest_series *s;

        (void)state;
        assert_int_equal(js("{\"batch_id\": \"gw-2026-12-03T10:00-001\", \"precision\": \"s\",\n"
                            " \"series\": [ {\"channel\":\"main\",\"quantity\":\"energy\",\"unit\":\"Wh\","
                            "\"class\":\"0x0287\",\"epc\":\"0xE0\",\"instance\":1,\"circuit\":0,"
                            "\"name\":\"Main\",\"role\":\"purchase\",\"wrap\":99999999},\n"
                            "   {\"channel\":\"pv\",\"quantity\":\"power\",\"class\":633,\"epc\":224,"
                            "\"unit\":null,\"name\":null,\"role\":null,\"wrap\":null,\"instance\":null}],\n"
                            " \"points\": [[0, 1764720000, 1234.5], [1, 1764720060, -3], [0,1764720060,1e3]] }"),
                         0);
        assert_string_equal(B.batch_id, "gw-2026-12-03T10:00-001");
        assert_int_equal(B.n_series, 2);
        s = &B.series[0];
        assert_string_equal(s->channel, "main");
        assert_int_equal(s->quantity, EQ_ENERGY);
        assert_string_equal(s->unit, "Wh");
        assert_int_equal(s->class_code, 0x0287);
        assert_int_equal(s->epc, 0xE0);
        assert_int_equal(s->instance, 1);
        assert_int_equal(s->circuit, 0);
        assert_string_equal(s->name, "Main");
        assert_string_equal(s->role, "purchase");
        assert_true(s->wrap == 99999999);
        s = &B.series[1];
        assert_string_equal(s->unit, "W");
        assert_int_equal(s->class_code, 633);
        assert_int_equal(s->epc, 224);
        assert_int_equal(s->instance, -1);
        assert_int_equal(s->circuit, -1);
        assert_string_equal(s->name, "");
        assert_string_equal(s->role, "");
        assert_string_equal(ingest_default_role(s), "generation");
        assert_int_equal(B.n_input, 3);
        assert_int_equal(B.n_points, 3);
        assert_int_equal(B.points[0].series, 0);
        assert_int_equal(B.points[0].ts_ms, T_MS);
        assert_true(B.points[0].value == 1234.5);
        assert_int_equal(B.points[1].series, 1);
        assert_int_equal(B.points[1].ts_ms, T_MS + 60000);
        assert_true(B.points[1].value == -3);
        assert_true(B.points[2].value == 1000);
        assert_int_equal(B.points[2].index, 2);
        assert_int_equal(B.points[2].line, 0);
}

static void test_json_precision_and_member_order(void **state)
{
        (void)state;
        /* points first, precision last: still applied. */
        assert_int_equal(js("{\"points\":[[0,1764720000123,1]],\"series\":[{\"quantity\":\"soc\","
                            "\"channel\":\"bat\"}],\"batch_id\":\"x\",\"precision\":\"ms\"}"),
                         0);
        assert_int_equal(B.n_points, 1);
        assert_int_equal(B.points[0].ts_ms, T_MS + 123);
        assert_string_equal(B.series[0].unit, "%");
        /* Default precision s. */
        assert_int_equal(js("{\"points\":[[0,1764720000,1]],\"batch_id\":\"x\",\"series\":[{\"channel\""
                            ":\"a\",\"quantity\":\"gas\",\"unit\":\"L\"}]}"),
                         0);
        assert_int_equal(B.points[0].ts_ms, T_MS);
        /* Empty lists are fine here (the API decides about empty batches). */
        assert_int_equal(js("{\"batch_id\":\"x\",\"series\":[],\"points\":[]}"), 0);
        assert_int_equal(B.n_input, 0);
        /* Blanks everywhere. */
        assert_int_equal(js(" \r\n\t{ \"batch_id\" : \"x\" , \"series\" : [ { \"channel\" : \"a\" , "
                            "\"quantity\" : \"water\" } ] , \"points\" : [ [ 0 , 1 , 2 ] ] } \n"),
                         0);
        assert_int_equal(B.n_points, 1);
        js_fails("{\"batch_id\":\"x\",\"precision\":\"us\",\"series\":[],\"points\":[]}", -EINVAL,
                 "validation_failed", "/precision");
        js_fails("{\"batch_id\":\"x\",\"precision\":\"ns\",\"series\":[],\"points\":[]}", -EINVAL,
                 "validation_failed", "/precision");
        js_fails("{\"batch_id\":\"x\",\"precision\":1,\"series\":[],\"points\":[]}", -EINVAL,
                 "validation_failed", "/precision");
}

static void test_HE_7_json_rejects_keep_good_points(void **state)
{
        static const char *const codes[] = {
                NULL, "unknown_series", "unknown_series", "bad_time", "bad_time", "bad_time",
                "bad_value", "bad_value", "bad_point", "bad_point", "bad_point", NULL,
                "bad_time", "bad_value", "unknown_series", "bad_time", NULL,
        };
        size_t i, p = 0, r = 0;

        (void)state;
        assert_int_equal(js(js_body("{\"channel\":\"a\",\"quantity\":\"power\"},"
                                    "{\"channel\":\"b\",\"quantity\":\"power\"}",
                                    "[0,1764720000,1],"          /* 0 good */
                                    "[2,1764720000,1],"          /* 1 index out of range */
                                    "[-1,1764720000,1],"         /* 2 negative index */
                                    "[0,-1,1],"                  /* 3 negative time */
                                    "[0,1.5,1],"                 /* 4 fractional time */
                                    "[0,\"1764720000\",1],"      /* 5 time as string */
                                    "[0,1,\"NaN\"],"             /* 6 value as string */
                                    "[0,1,1e999],"               /* 7 overflow */
                                    "[0,1],"                     /* 8 two elements */
                                    "{\"i\":0},"                 /* 9 not an array */
                                    "[0,1,2,3],"                 /* 10 four elements */
                                    "[1,1764720001,-2.5e-3],"    /* 11 good */
                                    "[0,1e3,1],"                 /* 12 exponent time */
                                    "[0,1,null],"                /* 13 null value */
                                    "[0.0,1,1],"                 /* 14 fractional index */
                                    "[0,9223372036854775807,1]," /* 15 s -> ms overflow */
                                    "[1,0,0]")),                 /* 16 good */
                         0);
        assert_int_equal(B.n_input, 17);
        assert_int_equal(B.n_points, 3);
        assert_int_equal(B.n_rejects, 14);
        for (i = 0; i < 17; i++) {
                if (!codes[i]) {
                        assert_int_equal(B.points[p].index, i);
                        p++;
                        continue;
                }
                assert_int_equal(B.rejects[r].index, i);
                assert_int_equal(B.rejects[r].line, 0);
                if (strcmp(B.rejects[r].code, codes[i]) != 0)
                        fail_msg("point %zu: %s (%s), wanted %s", i, B.rejects[r].code,
                                 B.rejects[r].message, codes[i]);
                r++;
        }
        assert_true(B.points[1].value == -2.5e-3);
        assert_int_equal(B.points[1].series, 1);
        assert_int_equal(B.points[1].ts_ms, T_MS + 1000);
        assert_int_equal(B.points[2].ts_ms, 0);
}

static void test_json_batch_id_rules(void **state)
{
        char body[256];

        (void)state;
        js_fails("{\"series\":[],\"points\":[]}", -EINVAL, "validation_failed", "/batch_id");
        js_fails("{\"batch_id\":\"\",\"series\":[],\"points\":[]}", -EINVAL, "validation_failed",
                 "/batch_id");
        js_fails("{\"batch_id\":\"a b\",\"series\":[],\"points\":[]}", -EINVAL, "validation_failed",
                 "/batch_id");
        js_fails("{\"batch_id\":\"a\\u0000\",\"series\":[],\"points\":[]}", -EINVAL,
                 "validation_failed", "/batch_id");
        js_fails("{\"batch_id\":7,\"series\":[],\"points\":[]}", -EINVAL, "validation_failed",
                 "/batch_id");
        js_fails("{\"batch_id\":null,\"series\":[],\"points\":[]}", -EINVAL, "validation_failed",
                 "/batch_id");
        snprintf(body, sizeof(body), "{\"batch_id\":\"%s\",\"series\":[],\"points\":[]}",
                 "1234567890123456789012345678901234567890123456789012345678901234");
        assert_int_equal(js(body), 0);
        assert_int_equal(strlen(B.batch_id), 64);
        snprintf(body, sizeof(body), "{\"batch_id\":\"%s\",\"series\":[],\"points\":[]}",
                 "12345678901234567890123456789012345678901234567890123456789012345");
        js_fails(body, -EINVAL, "validation_failed", "/batch_id");
        /* Escapes decode before the check. */
        assert_int_equal(js("{\"batch_id\":\"\\u0061b\\/\",\"series\":[],\"points\":[]}"), -EINVAL);
        assert_int_equal(js("{\"batch_id\":\"\\u0061b\",\"series\":[],\"points\":[]}"), 0);
        assert_string_equal(B.batch_id, "ab");
        js_fails("{\"batch_id\":\"x\",\"points\":[]}", -EINVAL, "validation_failed", "/series");
        js_fails("{\"batch_id\":\"x\",\"series\":[]}", -EINVAL, "validation_failed", "/points");
        js_fails("{\"batch_id\":\"x\",\"series\":{},\"points\":[]}", -EINVAL, "validation_failed",
                 "/series");
        js_fails("{\"batch_id\":\"x\",\"series\":[],\"points\":7}", -EINVAL, "validation_failed",
                 "/points");
}

static void test_json_unknown_and_duplicate_members(void **state)
{
        (void)state;
        js_fails("{\"batch_id\":\"x\",\"series\":[],\"points\":[],\"extra\":1}", -EINVAL,
                 "validation_failed", "/extra");
        js_fails("{\"batch_id\":\"x\",\"a/b~c\":1,\"series\":[],\"points\":[]}", -EINVAL,
                 "validation_failed", "/a~1b~0c");
        js_fails("{\"batch_id\":\"x\",\"batch_id\":\"y\",\"series\":[],\"points\":[]}", -EINVAL,
                 "malformed_json", "/batch_id");
        js_fails("{\"batch_id\":\"x\",\"series\":[],\"points\":[],\"points\":[]}", -EINVAL,
                 "malformed_json", "/points");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"colour\":\"red\"}",
                        "/series/1/colour");
        js_fails(js_body("{\"channel\":\"a\",\"quantity\":\"power\",\"channel\":\"b\"}", ""),
                 -EINVAL, "malformed_json", "/series/0/channel");
        /* Duplicates inside a value that is only skipped (a bad point). */
        js_fails(js_body("{\"channel\":\"a\",\"quantity\":\"power\"}",
                         "[0,1,{\"k\":1,\"j\":[{}],\"k\":2}]"),
                 -EINVAL, "malformed_json", NULL);
        js_fails(js_body("{\"channel\":\"a\",\"quantity\":\"power\"}",
                         "[0,1,{\"k\":1,\"\\u006b\":2}]"),
                 -EINVAL, "malformed_json", NULL);
        /* Different names, one with a NUL inside, are not duplicates. */
        assert_int_equal(js(js_body("{\"channel\":\"a\",\"quantity\":\"power\"}",
                                    "[0,1,{\"k\":1,\"k\\u0000\":2,\"\":3}]")),
                         0);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "bad_value");
}

static void test_json_series_validation(void **state)
{
        char long_name[128];

        (void)state;
        js_series_fails("{\"quantity\":\"power\"}", "/series/1");
        js_series_fails("{\"channel\":\"a\"}", "/series/1");
        js_series_fails("{\"channel\":\"a b\",\"quantity\":\"power\"}", "/series/1/channel");
        js_series_fails("{\"channel\":\"\",\"quantity\":\"power\"}", "/series/1/channel");
        js_series_fails("{\"channel\":null,\"quantity\":\"power\"}", "/series/1/channel");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"voltage\"}", "/series/1/quantity");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\\u0000\"}", "/series/1/quantity");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"unit\":\"Wh\"}", "/series/1/unit");
        js_series_fails("{\"unit\":\"kWh\",\"channel\":\"a\",\"quantity\":\"soc\"}", "/series/1/unit");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"unit\":\"W\\u0000\"}",
                        "/series/1/unit");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"unit\":5}", "/series/1/unit");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"class\":\"0x10000\"}",
                        "/series/1/class");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"class\":65536}", "/series/1/class");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"class\":-1}", "/series/1/class");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"class\":2.5}", "/series/1/class");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"class\":true}", "/series/1/class");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"epc\":\"0x100\"}", "/series/1/epc");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"epc\":256}", "/series/1/epc");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"instance\":0}", "/series/1/instance");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"instance\":128}",
                        "/series/1/instance");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"instance\":\"1\"}",
                        "/series/1/instance");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"circuit\":256}", "/series/1/circuit");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"role\":\"seller\"}", "/series/1/role");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"wrap\":0}", "/series/1/wrap");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"wrap\":-1}", "/series/1/wrap");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"wrap\":\"9\"}", "/series/1/wrap");
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"name\":\"a\\tb\"}", "/series/1/name");
        memset(long_name, 'n', 65);
        long_name[65] = '\0';
        {
                char s[256];

                snprintf(s, sizeof(s), "{\"channel\":\"a\",\"quantity\":\"power\",\"name\":\"%s\"}",
                         long_name);
                js_series_fails(s, "/series/1/name");
                long_name[64] = '\0';
                snprintf(s, sizeof(s), "{\"channel\":\"a\",\"quantity\":\"power\",\"name\":\"%s\"}",
                         long_name);
                assert_int_equal(js(js_body(s, "")), 0);
                assert_int_equal(strlen(B.series[0].name), 64);
        }
        /* 64 bytes of UTF-8 (21 three-byte characters + 1) is fine. */
        assert_int_equal(js(js_body("{\"channel\":\"a\",\"quantity\":\"power\",\"name\":"
                                    "\"\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0"
                                    "\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0"
                                    "\\u53f0\\u53f0\\u53f0x\"}",
                                    "")),
                         0);
        assert_int_equal(strlen(B.series[0].name), 64);
        js_series_fails("{\"channel\":\"a\",\"quantity\":\"power\",\"name\":"
                        "\"\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0"
                        "\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0\\u53f0"
                        "\\u53f0\\u53f0\\u53f0xy\"}",
                        "/series/1/name");
        /* A series given twice. */
        js_fails(js_body("{\"channel\":\"a\",\"quantity\":\"power\"},{\"channel\":\"b\",\"quantity\":"
                         "\"power\"},{\"channel\":\"a\",\"quantity\":\"power\",\"unit\":\"W\"}",
                         ""),
                 -EINVAL, "validation_failed", "/series/2");
        assert_non_null(strstr(E.message, "/series/0"));
        js_fails(js_body("7", ""), -EINVAL, "validation_failed", "/series/0");
        js_fails(js_body("[]", ""), -EINVAL, "validation_failed", "/series/0");
        /* Codes as strings in hex or decimal, and empty role/name. */
        assert_int_equal(js(js_body("{\"channel\":\"a\",\"quantity\":\"energy\",\"class\":\"647\","
                                    "\"epc\":\"0xc1\",\"role\":\"\",\"name\":\"\"}",
                                    "")),
                         0);
        assert_int_equal(B.series[0].class_code, 0x0287);
        assert_int_equal(B.series[0].epc, 0xC1);
        assert_string_equal(ingest_default_role(&B.series[0]), "sale");
}

static void test_json_malformed(void **state)
{
        static const char *const bad[] = {
                "",
                "   ",
                "{",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[]",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[]}}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[]} x",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[],}",
                "{\"batch_id\":\"x\" \"series\":[],\"points\":[]}",
                "{\"batch_id\":'x',\"series\":[],\"points\":[]}",
                "{batch_id:\"x\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,01]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,1.]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,.5]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,-]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,+1]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,1e]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,NaN]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,Infinity]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,nul]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,tru]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,2],]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,2,]]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0 1 2]]}",
                "{\"batch_id\":\"x\\q\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\\u12\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\\ud800\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\\udc00\\ud800\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\ty\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\xff\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\xc0\xaf\",\"series\":[],\"points\":[]}",
                "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,\"\xed\xa0\x80\"]]}",
                "{\"batch_id\":\"x\",\"series\":[{\"channel\":\"a\",\"quantity\":\"power\",\"unit\":nul}],"
                "\"points\":[]}",
                "{\"batch_id\":\"x\",\"series\":[{\"channel\":\"a\",\"quantity\":\"power\",\"class\":0x1}],"
                "\"points\":[]}",
                "\xef\xbb\xbf{\"batch_id\":\"x\",\"series\":[],\"points\":[]}",
        };
        static const char nul[] = "{\"batch_id\":\"x\",\"series\":[],\"points\":[]}\0";
        char deep[400];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                js_fails(bad[i], -EINVAL, "malformed_json", NULL);
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(nul, sizeof(nul) - 1, &LIM, &B, &E), -EINVAL);
        assert_string_equal(E.code, "malformed_json");
        /* Nesting deeper than 64 levels is refused. */
        memset(deep, 0, sizeof(deep));
        strcpy(deep, "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,");
        for (i = 0; i < 70; i++)
                strcat(deep, "[");
        for (i = 0; i < 70; i++)
                strcat(deep, "]");
        strcat(deep, "]]}");
        js_fails(deep, -EINVAL, "malformed_json", NULL);
        assert_non_null(strstr(E.message, "deep"));
        /* Valid JSON but no object. */
        js_fails("[]", -EINVAL, "validation_failed", "");
        js_fails("\"x\"", -EINVAL, "validation_failed", "");
        js_fails("null", -EINVAL, "validation_failed", "");
        js_fails("[1,]", -EINVAL, "malformed_json", NULL);
        /* Bad arguments. */
        assert_int_equal(ingest_json_parse(NULL, 3, &LIM, &B, &E), -EINVAL);
        assert_int_equal(ingest_json_parse("{}", 2, &LIM, NULL, NULL), -EINVAL);
}

static void test_HE_7_json_limits_fail_the_batch(void **state)
{
        struct ingest_limits lim = { .max_points = 3, .max_series = 2 };
        const char *ok = "{\"batch_id\":\"x\",\"series\":[{\"channel\":\"a\",\"quantity\":\"power\"},"
                         "{\"channel\":\"b\",\"quantity\":\"power\"}],\"points\":[[0,1,1],[9,1,1],[1,1,1]]}";
        const char *points = "{\"batch_id\":\"x\",\"series\":[],\"points\":[[0,1,1],[0,1,1],[0,1,1],"
                             "[0,1,1]]}";
        const char *series = "{\"batch_id\":\"x\",\"series\":[{\"channel\":\"a\",\"quantity\":\"power\"},"
                             "{\"channel\":\"b\",\"quantity\":\"power\"},{\"channel\":\"c\",\"quantity\":"
                             "\"power\"}],\"points\":[]}";

        (void)state;
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(ok, strlen(ok), &lim, &B, &E), 0);
        assert_int_equal(B.n_points, 2);
        assert_int_equal(B.n_rejects, 1);
        assert_string_equal(B.rejects[0].code, "unknown_series");
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(points, strlen(points), &lim, &B, &E), -E2BIG);
        assert_string_equal(E.code, "too_many_points");
        assert_string_equal(E.pointer, "/points/3");
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(series, strlen(series), &lim, &B, &E), -E2BIG);
        assert_string_equal(E.code, "too_many_series");
        assert_string_equal(E.pointer, "/series/2");
        /* No limits at all. */
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(points, strlen(points), NULL, &B, &E), 0);
        assert_int_equal(B.n_rejects, 4);
}

/* A big batch: every point read back exactly. */
static void test_json_big_batch_round_trip(void **state)
{
        size_t cap = 1 << 20, len = 0;
        char *body = malloc(cap);
        struct ingest_limits lim = { .max_points = 10000, .max_series = 100 };
        int i;

        (void)state;
        assert_non_null(body);
        len += (size_t)snprintf(body + len, cap - len,
                                "{\"batch_id\":\"big\",\"precision\":\"ms\",\"series\":[");
        for (i = 0; i < 32; i++)
                len += (size_t)snprintf(body + len, cap - len,
                                        "%s{\"channel\":\"c%02d\",\"quantity\":\"power\",\"circuit\":%d}",
                                        i ? "," : "", i, i);
        len += (size_t)snprintf(body + len, cap - len, "],\"points\":[");
        for (i = 0; i < 10000; i++)
                len += (size_t)snprintf(body + len, cap - len, "%s[%d,%lld,%d.%03d]", i ? "," : "",
                                        i % 32, (long long)(T_MS + i), i, i % 1000);
        len += (size_t)snprintf(body + len, cap - len, "]}");
        ingest_batch_free(&B);
        assert_int_equal(ingest_json_parse(body, len, &lim, &B, &E), 0);
        assert_int_equal(B.n_points, 10000);
        for (i = 0; i < 10000; i++) {
                char want[32];

                snprintf(want, sizeof(want), "%d.%03d", i, i % 1000);
                assert_int_equal(B.points[i].series, (uint32_t)(i % 32));
                assert_int_equal(B.points[i].ts_ms, T_MS + i);
                assert_true(B.points[i].value == strtod(want, NULL));
        }
        free(body);
}

/* A parse appends: indices go on, earlier series and points stay as they were. */
static void test_parsers_append_to_a_batch(void **state)
{
        const char *lpb = "power,channel=a value=1 1764720000000000000\npower,channel=a value=x\n";
        const char *jsb = "{\"batch_id\":\"x\",\"series\":[{\"channel\":\"b\",\"quantity\":\"power\"}],"
                          "\"points\":[[0,1764720000,2],[1,1764720000,3],[0,1864720000,4]]}";

        (void)state;
        assert_int_equal(lineproto_parse(lpb, strlen(lpb), LP_NS, NOW_MS, &LIM, &B, &E), 0);
        assert_int_equal(ingest_json_parse(jsb, strlen(jsb), &LIM, &B, &E), 0);
        assert_int_equal(B.n_input, 5);
        assert_int_equal(B.n_series, 2);
        assert_int_equal(B.n_points, 3);
        assert_int_equal(B.points[0].series, 0);
        assert_int_equal(B.points[0].ts_ms, T_MS);
        assert_int_equal(B.points[0].line, 1);
        assert_int_equal(B.points[1].series, 1);
        assert_int_equal(B.points[1].index, 2);
        assert_int_equal(B.points[1].ts_ms, T_MS);
        assert_int_equal(B.n_rejects, 2);
        assert_int_equal(B.rejects[0].index, 1);
        assert_int_equal(B.rejects[0].line, 2);
        assert_int_equal(B.rejects[1].index, 3);
        assert_string_equal(B.rejects[1].code, "unknown_series");
        /* The window moves the future point; a line protocol point keeps its line. */
        assert_int_equal(ingest_batch_window(&B, 0, T_MS + 1000), 0);
        assert_int_equal(B.n_points, 2);
        assert_int_equal(B.n_rejects, 3);
        assert_int_equal(B.rejects[2].index, 4);
        assert_string_equal(B.rejects[2].code, "future_timestamp");
        assert_int_equal(ingest_batch_window(&B, T_MS + 1, T_MS + 1000), 0);
        assert_int_equal(B.n_points, 0);
        assert_int_equal(B.rejects[0].index, 0);
        assert_int_equal(B.rejects[0].line, 1);
        assert_string_equal(B.rejects[0].code, "before_registration");
        assert_int_equal(B.n_rejects, 5);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quantities_units_kinds_roles),
                cmocka_unit_test(test_id_name_code_checks),
                cmocka_unit_test(test_code_parse),
                cmocka_unit_test(test_decimal_matches_strtod),
                cmocka_unit_test(test_HE_7_default_roles_from_echonet),
                cmocka_unit_test_setup_teardown(test_batch_series_index_and_merge, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_batch_points_rejects_limits, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_window_moves_points_keeps_order,
                                                setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_line_protocol_series_key, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_default_units, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_precisions, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_timestamps, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_escapes, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_strings_and_lines, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_comments_blank_lines_crlf, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_number_forms, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_not_finite_values_rejected, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_tag_rejects, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_bad_lines_with_column, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_rejects_keep_good_points, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_lp_limits_fail_the_batch, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_lp_unreadable_body_fails, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_lp_many_series_long_lines, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_json_batch, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_precision_and_member_order, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_json_rejects_keep_good_points,
                                                setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_batch_id_rules, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_unknown_and_duplicate_members,
                                                setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_series_validation, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_malformed, setup_batch, teardown_batch),
                cmocka_unit_test_setup_teardown(test_HE_7_json_limits_fail_the_batch, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_json_big_batch_round_trip, setup_batch,
                                                teardown_batch),
                cmocka_unit_test_setup_teardown(test_parsers_append_to_a_batch, setup_batch,
                                                teardown_batch),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
