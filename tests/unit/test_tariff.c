/*
 * test_tariff.c - unit tests of domain/tariff.c and domain/jsondiff.c: the
 * tariff of a settings document with its refusals and JSON pointers (HE-8),
 * the daily and monthly energy summaries of HE-16 (Tokyo day boundaries,
 * time-of-use bands, monthly tiers split within an hour, basic charge per
 * month and pro-rated per day, rounding down, sale, CO2, consumption and
 * self-consumption), and the settings diff of HE-8.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/jsondiff.h"
#include "domain/tariff.h"

/* ---- helpers --------------------------------------------------------- */

#define H 3600LL
#define DAY (24 * H)
/* Tokyo midnights (unix s) */
#define NOV01_2026 1793458800LL
#define DEC01_2026 1796050800LL
#define DEC03_2026 1796223600LL
#define FEB01_2028 1832943600LL

#define TOU_TARIFF                                                                         \
        "{\"circuits\":[{\"channel\":\"c1\",\"name\":\"Kitchen\"}],"                       \
        " \"tariff\":{\"plan\":\"TOU-3\",\"currency\":\"JPY\",\"basic_charge_per_month\":1210," \
        "  \"bands\":[{\"name\":\"night\",\"from\":\"23:00\",\"to\":\"07:00\","         \
        "              \"price_per_kwh\":28.5},"                                              \
        "            {\"name\":\"day\",\"from\":\"07:00\",\"to\":\"23:00\","             \
        "              \"price_per_kwh\":35.0}],"                                             \
        "  \"sell_price_per_kwh\":16},"                                                   \
        " \"co2_kg_per_kwh\":0.441, \"co2_kg_per_m3_gas\":2.23}"

#define TIER_TARIFF                                                                        \
        "{\"tariff\":{\"plan\":\"B\",\"basic_charge_per_month\":900,"                      \
        "  \"tiers\":[{\"up_to_kwh\":120,\"price_per_kwh\":29.8},"                        \
        "            {\"up_to_kwh\":300,\"price_per_kwh\":36.4},{\"price_per_kwh\":40.5}]}}"

static json_t *js(const char *text)
{
        json_error_t e;
        json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

        if (!j)
                fail_msg("bad test JSON: %s: %s", e.text, text);
        return j;
}

/* Parses a settings text; returns the result, *t and *err filled. */
static int parse(const char *text, struct tariff *t, struct tariff_error *err)
{
        json_t *j = js(text);
        int r = tariff_from_settings(j, t, err);

        json_decref(j);
        return r;
}

/* Expects a refusal of the text with this pointer. */
static void refused_at(const char *text, const char *pointer)
{
        struct tariff t;
        struct tariff_error err;

        assert_int_equal(parse(text, &t, &err), -EINVAL);
        assert_string_equal(err.pointer, pointer);
        assert_true(err.message[0] != '\0');
        assert_int_equal(t.present, 0);
}

/* Expects a refusal of a one-band tariff (price is JSON text). */
static void band_refused_at(const char *from, const char *to, const char *price,
                            const char *pointer)
{
        char text[256];

        snprintf(text, sizeof(text),
                 "{\"tariff\":{\"bands\":[{\"from\":%s,\"to\":%s,\"price_per_kwh\":%s}]}}",
                 from, to, price);
        refused_at(text, pointer);
}

static struct tariff tariff_of(const char *text)
{
        struct tariff t;
        struct tariff_error err;

        assert_int_equal(parse(text, &t, &err), 0);
        return t;
}

static struct energy_hour hour(int64_t start, double purchase)
{
        struct energy_hour h = { .hour_start = start, .purchase_kwh = purchase };

        return h;
}

/* ---- parsing (HE-8 settings carry the tariff) ---------------------------- */

static void test_HE_16_tariff_from_settings_time_of_use(void **state)
{
        struct tariff t = tariff_of(TOU_TARIFF);

        assert_int_equal(t.present, 1);
        assert_string_equal(t.plan, "TOU-3");
        assert_true(t.basic_charge_per_month == 1210);
        assert_int_equal(t.n_bands, 2);
        assert_int_equal(t.n_tiers, 0);
        for (int h = 0; h < 24; h++)
                assert_true(t.band_price[h] == ((h >= 7 && h < 23) ? 35.0 : 28.5));
        assert_true(t.sell_price_per_kwh == 16);
        assert_true(t.co2_kg_per_kwh == 0.441);
        assert_true(t.co2_kg_per_m3_gas == 2.23);
}

static void test_HE_16_tariff_from_settings_tiers_and_flat(void **state)
{
        struct tariff t = tariff_of(TIER_TARIFF);

        assert_int_equal(t.n_tiers, 3);
        assert_true(t.tier_up_to_kwh[0] == 120 && t.tier_up_to_kwh[1] == 300);
        assert_true(isinf(t.tier_up_to_kwh[2]));
        assert_true(t.tier_price[2] == 40.5);
        t = tariff_of("{\"tariff\":{\"price_per_kwh\":31}}");
        assert_int_equal(t.present, 1);
        assert_true(t.flat_price_per_kwh == 31);
        assert_int_equal(t.n_bands + t.n_tiers, 0);
        /* one band the whole day, written two ways */
        t = tariff_of("{\"tariff\":{\"bands\":[{\"from\":\"00:00\",\"to\":\"24:00\","
                      "\"price_per_kwh\":30}]}}");
        assert_true(t.band_price[0] == 30 && t.band_price[23] == 30);
        t = tariff_of("{\"tariff\":{\"bands\":[{\"from\":\"05:00\",\"to\":\"05:00\","
                      "\"price_per_kwh\":30}]}}");
        assert_true(t.band_price[4] == 30 && t.band_price[5] == 30);
}

static void test_HE_8_settings_without_tariff(void **state)
{
        struct tariff t = tariff_of("{\"rooms\":[], \"co2_kg_per_kwh\":0.5}");

        assert_int_equal(t.present, 0);
        assert_true(t.co2_kg_per_kwh == 0.5);
        t = tariff_of("{\"tariff\":null}");
        assert_int_equal(t.present, 0);
}

static void test_HE_8_bad_bands_are_refused_with_pointer(void **state)
{
        /* overlap: the second band starts inside the first */
        refused_at("{\"tariff\":{\"bands\":["
                   "{\"from\":\"22:00\",\"to\":\"08:00\",\"price_per_kwh\":1},"
                   "{\"from\":\"07:00\",\"to\":\"22:00\",\"price_per_kwh\":2}]}}",
                   "/tariff/bands/1/from");
        /* gap 07:00-08:00 after the first band's end */
        refused_at("{\"tariff\":{\"bands\":["
                   "{\"from\":\"23:00\",\"to\":\"07:00\",\"price_per_kwh\":1},"
                   "{\"from\":\"08:00\",\"to\":\"23:00\",\"price_per_kwh\":2}]}}",
                   "/tariff/bands/0/to");
        band_refused_at("\"7:00\"", "\"07:00\"", "1", "/tariff/bands/0/from");
        band_refused_at("\"07:30\"", "\"07:00\"", "1", "/tariff/bands/0/from");
        band_refused_at("\"24:00\"", "\"07:00\"", "1", "/tariff/bands/0/from");
        band_refused_at("\"00:00\"", "\"25:00\"", "1", "/tariff/bands/0/to");
        band_refused_at("\"00:00\"", "7", "1", "/tariff/bands/0/to");
        band_refused_at("\"00:00\"", "\"00:00\"", "-1", "/tariff/bands/0/price_per_kwh");
        refused_at("{\"tariff\":{\"bands\":[{\"from\":\"00:00\",\"to\":\"00:00\"}]}}",
                   "/tariff/bands/0/price_per_kwh");
        band_refused_at("\"00:00\"", "\"00:00\"", "\"1\"", "/tariff/bands/0/price_per_kwh");
        refused_at("{\"tariff\":{\"bands\":[]}}", "/tariff/bands");
        refused_at("{\"tariff\":{\"bands\":{}}}", "/tariff/bands");
        refused_at("{\"tariff\":{\"bands\":[1]}}", "/tariff/bands/0");
}

static void test_HE_8_bad_tiers_and_members_are_refused_with_pointer(void **state)
{
        refused_at("{\"tariff\":{\"tiers\":[{\"up_to_kwh\":120,\"price_per_kwh\":1},"
                   "{\"up_to_kwh\":100,\"price_per_kwh\":2},{\"price_per_kwh\":3}]}}",
                   "/tariff/tiers/1/up_to_kwh");
        refused_at("{\"tariff\":{\"tiers\":[{\"up_to_kwh\":120,\"price_per_kwh\":1},"
                   "{\"up_to_kwh\":300,\"price_per_kwh\":2}]}}",
                   "/tariff/tiers/1/up_to_kwh");
        refused_at("{\"tariff\":{\"tiers\":[{\"price_per_kwh\":1},{\"price_per_kwh\":2}]}}",
                   "/tariff/tiers/0/up_to_kwh");
        refused_at("{\"tariff\":{\"tiers\":[{\"up_to_kwh\":0,\"price_per_kwh\":1},"
                   "{\"price_per_kwh\":2}]}}", "/tariff/tiers/0/up_to_kwh");
        refused_at("{\"tariff\":{\"tiers\":[]}}", "/tariff/tiers");
        /* bands XOR tiers, flat price only alone */
        refused_at("{\"tariff\":{\"bands\":[{\"from\":\"00:00\",\"to\":\"00:00\","
                   "\"price_per_kwh\":1}],\"tiers\":[{\"price_per_kwh\":1}]}}", "/tariff/tiers");
        refused_at("{\"tariff\":{\"tiers\":[{\"price_per_kwh\":1}],\"price_per_kwh\":2}}",
                   "/tariff/price_per_kwh");
        refused_at("{\"tariff\":{\"basic_charge_per_month\":100}}", "/tariff/price_per_kwh");
        refused_at("{\"tariff\":{\"price_per_kwh\":1,\"basic_charge_per_month\":-1}}",
                   "/tariff/basic_charge_per_month");
        refused_at("{\"tariff\":{\"price_per_kwh\":1,\"sell_price_per_kwh\":true}}",
                   "/tariff/sell_price_per_kwh");
        refused_at("{\"tariff\":{\"price_per_kwh\":1,\"currency\":\"USD\"}}", "/tariff/currency");
        refused_at("{\"tariff\":{\"price_per_kwh\":1,\"plan\":7}}", "/tariff/plan");
        refused_at("{\"tariff\":[]}", "/tariff");
        refused_at("{\"co2_kg_per_kwh\":-0.1}", "/co2_kg_per_kwh");
        refused_at("{\"co2_kg_per_m3_gas\":\"2\"}", "/co2_kg_per_m3_gas");
        refused_at("[]", "");
}

/* ---- summaries (HE-16) -------------------------------------------------- */

static void test_HE_16_cost_time_of_use_bands(void **state)
{
        struct tariff t = tariff_of(TOU_TARIFF);
        /* Tokyo 06:00 (night), 07:00 (day), 22:00 (day), 23:00 (night) on Dec 3 */
        struct energy_hour h[4] = { hour(DEC03_2026 + 6 * H, 1), hour(DEC03_2026 + 7 * H, 2),
                                    hour(DEC03_2026 + 22 * H, 1), hour(DEC03_2026 + 23 * H, 4) };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'd', h, 4, 0, &s, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(s[0].start, DEC03_2026);
        assert_true(s[0].purchase_kwh == 8);
        /* basic charge pro-rated over December's 31 days, rounded down once */
        /* energy 28.5 + 70 + 35 + 114 = 247.5, basic 1210 / 31 = 39.03 */
        assert_int_equal(s[0].cost_yen, 286);
        free(s);
        assert_int_equal(tariff_summarise(&t, 'm', h, 4, 0, &s, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(s[0].start, DEC01_2026);
        assert_int_equal(s[0].cost_yen, 1457);
        free(s);
}

static void test_HE_16_day_summaries_split_at_tokyo_midnight(void **state)
{
        struct tariff t = tariff_of(TOU_TARIFF);
        /* 23:00 Tokyo on the 2nd (14:00 UTC) and 00:00 on the 3rd (15:00 UTC) */
        struct energy_hour h[2] = { hour(DEC03_2026 - H, 1), hour(DEC03_2026, 1) };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 0, &s, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(s[0].start, DEC03_2026 - DAY);
        assert_int_equal(s[1].start, DEC03_2026);
        assert_true(s[0].purchase_kwh == 1 && s[1].purchase_kwh == 1);
        free(s);
}

static void test_HE_16_cost_tiers_split_an_hour_at_the_boundary(void **state)
{
        struct tariff t = tariff_of(TIER_TARIFF);
        /* 119 kWh bought earlier this month; 2 kWh now: 1 at 29.8, 1 at 36.4;
         * then 180 kWh: 179 at 36.4 and 1 at 40.5 */
        struct energy_hour h[2] = { hour(DEC03_2026 + 10 * H, 2), hour(DEC03_2026 + 11 * H, 180) };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 119, &s, &n), 0);
        assert_int_equal(n, 1);
        /* 29.8 + 36.4 + 6515.6 + 40.5 = 6622.3, basic 900 / 31 = 29.03 */
        assert_int_equal(s[0].cost_yen, 6651);
        free(s);
}

static void test_HE_16_tiers_restart_each_tokyo_month(void **state)
{
        struct tariff t = tariff_of(TIER_TARIFF);
        /* Nov 30 23:00 Tokyo and Dec 1 00:00 Tokyo, 100 kWh each, 100 before in November */
        struct energy_hour h[2] = { hour(DEC01_2026 - H, 100), hour(DEC01_2026, 100) };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'm', h, 2, 100, &s, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(s[0].start, NOV01_2026);
        assert_int_equal(s[0].cost_yen, 596 + 2912 + 900);
        assert_int_equal(s[1].start, DEC01_2026);
        assert_int_equal(s[1].cost_yen, 2980 + 900);
        free(s);
}

static void test_HE_16_basic_charge_per_day_by_days_of_the_month(void **state)
{
        struct tariff t = tariff_of("{\"tariff\":{\"price_per_kwh\":0,"
                                    "\"basic_charge_per_month\":2900}}");
        struct energy_hour h[3] = { hour(FEB01_2028, 0), hour(NOV01_2026, 0),
                                    hour(DEC01_2026, 0) };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'd', h, 1, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 100);   /* 2900 / 29 (leap February) */
        free(s);
        assert_int_equal(tariff_summarise(&t, 'd', h + 1, 1, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 96);    /* 2900 / 30 = 96.67 */
        free(s);
        assert_int_equal(tariff_summarise(&t, 'd', h + 2, 1, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 93);    /* 2900 / 31 = 93.55 */
        free(s);
}

static void test_HE_16_rounding_down_at_the_end_of_each_summary(void **state)
{
        struct tariff t = tariff_of("{\"tariff\":{\"price_per_kwh\":30,"
                                    "\"sell_price_per_kwh\":16}}");
        struct energy_hour h[10];
        struct energy_summary *s = NULL;
        size_t n = 0;

        /* ten hours of 0.1 kWh: 0.1 is not exact in binary, the sum is 30 yen */
        for (int i = 0; i < 10; i++) {
                h[i] = hour(DEC03_2026 + i * H, 0.1);
                h[i].sale_kwh = 0.33;
        }
        assert_int_equal(tariff_summarise(&t, 'd', h, 10, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 30);
        assert_int_equal(s[0].sale_yen, 52);    /* 3.3 kWh * 16 = 52.8 */
        free(s);
        /* 1.05 yen per hour: 2 yen for the day, not 1 + 1 rounded per hour */
        h[0] = hour(DEC03_2026, 0.035);
        h[1] = hour(DEC03_2026 + H, 0.035);
        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 2);
        free(s);
}

static void test_HE_16_co2_consumption_and_self_consumption(void **state)
{
        struct tariff t = tariff_of(TOU_TARIFF);
        struct energy_hour h[2] = {
                { .hour_start = DEC03_2026 + 12 * H, .purchase_kwh = 4, .sale_kwh = 1.5,
                  .generation_kwh = 3, .battery_charge_kwh = 0.5, .battery_discharge_kwh = 0,
                  .gas_m3 = 1.5, .water_l = 120 },
                { .hour_start = DEC03_2026 + 13 * H, .purchase_kwh = 6, .sale_kwh = 0.5,
                  .generation_kwh = 2, .battery_charge_kwh = 0, .battery_discharge_kwh = 1,
                  .gas_m3 = 0.5, .water_l = 30 },
        };
        struct energy_summary *s = NULL;
        size_t n = 0;

        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 0, &s, &n), 0);
        assert_true(fabs(s[0].co2_kg - (10 * 0.441 + 2 * 2.23)) < 1e-9);
        assert_true(s[0].consumption_kwh == 10 + 5 - 2 + 1 - 0.5);
        assert_true(fabs(s[0].self_consumption_ratio - 0.6) < 1e-12);
        assert_true(s[0].gas_m3 == 2 && s[0].water_l == 150);
        assert_int_equal(s[0].sale_yen, 32);
        free(s);
        /* no generation: no ratio */
        h[0].generation_kwh = h[1].generation_kwh = 0;
        h[0].sale_kwh = h[1].sale_kwh = 0;
        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 0, &s, &n), 0);
        assert_true(s[0].self_consumption_ratio == -1);
        free(s);
}

static void test_summaries_refuse_bad_input_and_accept_nothing(void **state)
{
        struct tariff t = tariff_of(TOU_TARIFF);
        struct energy_hour h[2] = { hour(DEC03_2026, 1), hour(DEC03_2026, 1) };
        struct energy_summary *s = (struct energy_summary *)h;
        size_t n = 9;

        assert_int_equal(tariff_summarise(&t, 'y', h, 1, 0, &s, &n), -EINVAL);
        assert_null(s);
        assert_int_equal(tariff_summarise(&t, 'd', h, 2, 0, &s, &n), -EINVAL);
        assert_int_equal(tariff_summarise(&t, 'd', h, 0, 0, &s, &n), 0);
        assert_null(s);
        assert_int_equal(n, 0);
        /* a home without a tariff costs nothing */
        t = tariff_of("{}");
        assert_int_equal(tariff_summarise(&t, 'm', h, 1, 0, &s, &n), 0);
        assert_int_equal(s[0].cost_yen, 0);
        free(s);
}

/* ---- settings diff (HE-8) ------------------------------------------------ */

/* The diff of two texts as compact JSON text (caller frees). */
static char *diff_text(const char *a, const char *b, size_t max)
{
        json_t *ja = js(a), *jb = js(b), *d = NULL;
        char *text;

        assert_int_equal(jsondiff(ja, jb, max, &d), 0);
        text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(ja);
        json_decref(jb);
        json_decref(d);
        return text;
}

static void expect_diff(const char *a, const char *b, const char *expected)
{
        char *got = diff_text(a, b, JSONDIFF_UNLIMITED);

        assert_string_equal(got, expected);
        free(got);
}

static void test_HE_8_diff_of_equal_documents_is_empty(void **state)
{
        expect_diff(TOU_TARIFF, TOU_TARIFF, "[]");
        expect_diff("{\"a\":1,\"b\":[1,2.5]}", "{\"b\":[1.0,2.5],\"a\":1.0}", "[]");
}

static void test_HE_8_diff_objects_sorted_by_key(void **state)
{
        expect_diff("{\"z\":1,\"b\":{\"x\":true},\"a\":\"old\",\"m\":null}",
                    "{\"a\":\"new\",\"c\":[1],\"b\":{\"x\":false},\"m\":0}",
                    "[{\"op\":\"replace\",\"path\":\"/a\",\"from\":\"old\",\"to\":\"new\"},"
                    "{\"op\":\"replace\",\"path\":\"/b/x\",\"from\":true,\"to\":false},"
                    "{\"op\":\"add\",\"path\":\"/c\",\"to\":[1]},"
                    "{\"op\":\"replace\",\"path\":\"/m\",\"from\":null,\"to\":0},"
                    "{\"op\":\"remove\",\"path\":\"/z\",\"from\":1}]");
}

static void test_HE_8_diff_arrays_by_index(void **state)
{
        expect_diff("{\"circuits\":[{\"channel\":\"c1\",\"name\":\"Kitchen\"},"
                    "{\"channel\":\"c2\",\"name\":\"Bath\"}],\"rooms\":[1,2,3]}",
                    "{\"circuits\":[{\"channel\":\"c1\",\"name\":\"Kitchen\"},"
                    "{\"channel\":\"c2\",\"name\":\"Bathroom\"},{\"channel\":\"c3\"}],"
                    "\"rooms\":[1]}",
                    "[{\"op\":\"replace\",\"path\":\"/circuits/1/name\",\"from\":\"Bath\","
                    "\"to\":\"Bathroom\"},"
                    "{\"op\":\"add\",\"path\":\"/circuits/2\",\"to\":{\"channel\":\"c3\"}},"
                    "{\"op\":\"remove\",\"path\":\"/rooms/1\",\"from\":2},"
                    "{\"op\":\"remove\",\"path\":\"/rooms/2\",\"from\":3}]");
}

static void test_HE_8_diff_type_change_and_pointer_escapes(void **state)
{
        expect_diff("{\"a/b\":{\"x\":1},\"m~n\":1,\"\":2}",
                    "{\"a/b\":[1],\"m~n\":\"1\",\"\":2}",
                    "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"from\":{\"x\":1},\"to\":[1]},"
                    "{\"op\":\"replace\",\"path\":\"/m~0n\",\"from\":1,\"to\":\"1\"}]");
        expect_diff("{\"\":1}", "{\"\":2}",
                    "[{\"op\":\"replace\",\"path\":\"/\",\"from\":1,\"to\":2}]");
        expect_diff("1", "[]", "[{\"op\":\"replace\",\"path\":\"\",\"from\":1,\"to\":[]}]");
}

static void test_HE_8_diff_of_absent_documents(void **state)
{
        json_t *a = js("{\"x\":1}"), *d = NULL;

        assert_int_equal(jsondiff(NULL, a, JSONDIFF_UNLIMITED, &d), 0);
        assert_int_equal(json_array_size(d), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "op")), "add");
        assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "path")), "");
        json_decref(d);
        assert_int_equal(jsondiff(a, NULL, JSONDIFF_UNLIMITED, &d), 0);
        assert_string_equal(json_string_value(json_object_get(json_array_get(d, 0), "op")),
                            "remove");
        json_decref(d);
        assert_int_equal(jsondiff(NULL, NULL, JSONDIFF_UNLIMITED, &d), 0);
        assert_int_equal(json_array_size(d), 0);
        json_decref(d);
        assert_int_equal(jsondiff(a, a, 0, NULL), -EINVAL);
        json_decref(a);
}

static void test_HE_8_diff_limit_on_the_number_of_changes(void **state)
{
        json_t *a = js("[1,2,3]"), *b = js("[4,5,6]"), *d = (json_t *)a;

        assert_int_equal(jsondiff(a, b, 2, &d), -E2BIG);
        assert_null(d);
        assert_int_equal(jsondiff(a, b, 0, &d), -E2BIG);
        assert_int_equal(jsondiff(a, a, 0, &d), 0);
        json_decref(d);
        assert_int_equal(jsondiff(a, b, 3, &d), 0);
        assert_int_equal(json_array_size(d), 3);
        json_decref(d);
        json_decref(a);
        json_decref(b);
}

static void test_HE_8_diff_copies_values_and_refuses_deep_nesting(void **state)
{
        json_t *a = js("{\"k\":{\"v\":[1]}}"), *b = js("{}"), *d = NULL;
        json_t *deep_a = json_array(), *deep_b = json_array(), *ca = deep_a, *cb = deep_b;

        assert_int_equal(jsondiff(a, b, JSONDIFF_UNLIMITED, &d), 0);
        json_decref(a);         /* the change keeps its own copy */
        assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(
                json_array_get(d, 0), "from"), "v"), 0)), 1);
        json_decref(d);
        json_decref(b);
        for (int i = 0; i < JSONDIFF_MAX_DEPTH + 5; i++) {
                json_t *na = json_array(), *nb = json_array();

                json_array_append_new(ca, na);
                json_array_append_new(cb, nb);
                ca = na;
                cb = nb;
        }
        json_array_append_new(cb, json_integer(1));
        assert_int_equal(jsondiff(deep_a, deep_b, JSONDIFF_UNLIMITED, &d), -EINVAL);
        assert_null(d);
        json_decref(deep_a);
        json_decref(deep_b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_16_tariff_from_settings_time_of_use),
                cmocka_unit_test(test_HE_16_tariff_from_settings_tiers_and_flat),
                cmocka_unit_test(test_HE_8_settings_without_tariff),
                cmocka_unit_test(test_HE_8_bad_bands_are_refused_with_pointer),
                cmocka_unit_test(test_HE_8_bad_tiers_and_members_are_refused_with_pointer),
                cmocka_unit_test(test_HE_16_cost_time_of_use_bands),
                cmocka_unit_test(test_HE_16_day_summaries_split_at_tokyo_midnight),
                cmocka_unit_test(test_HE_16_cost_tiers_split_an_hour_at_the_boundary),
                cmocka_unit_test(test_HE_16_tiers_restart_each_tokyo_month),
                cmocka_unit_test(test_HE_16_basic_charge_per_day_by_days_of_the_month),
                cmocka_unit_test(test_HE_16_rounding_down_at_the_end_of_each_summary),
                cmocka_unit_test(test_HE_16_co2_consumption_and_self_consumption),
                cmocka_unit_test(test_summaries_refuse_bad_input_and_accept_nothing),
                cmocka_unit_test(test_HE_8_diff_of_equal_documents_is_empty),
                cmocka_unit_test(test_HE_8_diff_objects_sorted_by_key),
                cmocka_unit_test(test_HE_8_diff_arrays_by_index),
                cmocka_unit_test(test_HE_8_diff_type_change_and_pointer_escapes),
                cmocka_unit_test(test_HE_8_diff_of_absent_documents),
                cmocka_unit_test(test_HE_8_diff_limit_on_the_number_of_changes),
                cmocka_unit_test(test_HE_8_diff_copies_values_and_refuses_deep_nesting),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
