/*
 * test_api_slots.c - slots over HTTP against the real binary: create one
 * and a weekly pattern (CS-13), the listing becomes recruiting, the grid,
 * past, horizon and price rules, overlap (409 naming the slot), changes
 * and deletion with the CS-16 guard (reservations inserted with the
 * sqlite3 tool), the host's publishability (CS-8), and who may act
 * (the host, not another host or member; the operator may read).
 *
 * The server runs with charging.pattern_max_slots = 30 so the pattern
 * limit is reachable.
 */
#include <stdbool.h>

#include "slots_fixture.h"

static struct api_server srv;
static char *op_token;
static char *host_token, *other_host_token, *member_tok;
static int64_t host_id, other_host_id;

static int setup(void **state)
{
        const char *const args[] = { "--charging-pattern-max-slots", "30", NULL };

        if (api_server_start(&srv, args) < 0)
                return -1;
        op_token = operator_token(&srv, "op@slots.test");
        host_token = make_host(&srv, "host@slots.test", "individual", &host_id);
        other_host_token = make_host(&srv, "other@slots.test", "individual", &other_host_id);
        member_tok = member_token(&srv, "member@slots.test");
        return 0;
}

static int teardown(void **state)
{
        free(op_token);
        free(host_token);
        free(other_host_token);
        free(member_tok);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static struct api_resp call(const char *method, const char *path, const char *token,
                            const char *body)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        return r;
}

static int64_t new_charger(double lat, double lon)
{
        return make_charger(&srv, host_token, lat, lon, "");
}

static size_t slot_count(int64_t charger)
{
        char *path = api_printf("/api/v1/chargers/%lld/slots", (long long)charger);
        struct api_resp r = call("GET", path, host_token, NULL);
        size_t n;

        assert_int_equal(r.status, 200);
        n = json_array_size(api_json_get(r.json, "items"));
        api_resp_free(&r);
        free(path);
        return n;
}

/* ---- CS-13 ------------------------------------------------------------------- */

static void test_CS_13_listing_recruiting_with_future_slot(void **state)
{
        int64_t ch = new_charger(35.68, 139.76);
        char *path = api_printf("/api/v1/chargers/%lld", (long long)ch);
        struct api_resp r = call("GET", path, host_token, NULL);
        int64_t slot;

        assert_int_equal(r.status, 200);
        assert_true(json_is_false(api_json_get(r.json, "recruiting")));
        api_resp_free(&r);
        slot = make_slot(&srv, host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_true(slot > 0);
        r = call("GET", path, host_token, NULL);
        assert_true(json_is_true(api_json_get(r.json, "recruiting")));
        api_resp_free(&r);
        /* Another member sees it recruiting too. */
        r = call("GET", path, member_tok, NULL);
        assert_int_equal(r.status, 200);
        assert_true(json_is_true(api_json_get(r.json, "recruiting")));
        api_resp_free(&r);
        free(path);
}

static void test_CS_13_create_and_list_slots(void **state)
{
        int64_t ch = new_charger(35.69, 139.70);
        struct api_resp r = post_slot(&srv, host_token, ch, tokyo_at(2, 9, 0), tokyo_at(2, 12, 0),
                                      300);
        char *path;

        assert_int_equal(r.status, 201);
        assert_int_equal(api_json_int(r.json, "charger_id", 0), ch);
        assert_int_equal(api_json_int(r.json, "hourly_price", -1), 300);
        assert_string_equal(api_json_str(r.json, "starts_at"), rfc(tokyo_at(2, 9, 0)));
        assert_string_equal(api_json_str(r.json, "ends_at"), rfc(tokyo_at(2, 12, 0)));
        api_resp_free(&r);
        /* Adjacent is allowed; a zero price too. */
        make_slot(&srv, host_token, ch, tokyo_at(2, 12, 0), tokyo_at(2, 13, 15), 0);
        assert_int_equal(slot_count(ch), 2);
        /* The operator may read; another member may not. */
        path = api_printf("/api/v1/chargers/%lld/slots?from=%s", (long long)ch,
                          "2000-01-01T00:00:00Z");
        r = call("GET", path, op_token, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 2);
        assert_true(json_is_false(api_json_get(r.json, "truncated")));
        api_resp_free(&r);
        r = call("GET", path, member_tok, NULL);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        free(path);
        /* A window that ends before the slots: none. */
        path = api_printf("/api/v1/chargers/%lld/slots?to=%s", (long long)ch,
                          rfc(tokyo_at(2, 9, 0)));
        r = call("GET", path, host_token, NULL);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/chargers/%lld/slots?from=yesterday", (long long)ch);
        r = call("GET", path, host_token, NULL);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "from", "invalid"));
        api_resp_free(&r);
        free(path);
}

static void test_CS_13_slot_bad_input(void **state)
{
        int64_t ch = new_charger(35.70, 139.71);
        char *path = api_printf("/api/v1/chargers/%lld/slots", (long long)ch);
        struct api_resp r;
        char *body;

        /* Off the 15-minute grid. */
        r = post_slot(&srv, host_token, ch, tokyo_at(1, 9, 7), tokyo_at(1, 12, 0), 300);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "starts_at", "off_grid"));
        api_resp_free(&r);
        /* In the past. */
        r = post_slot(&srv, host_token, ch, tokyo_at(-1, 9, 0), tokyo_at(-1, 12, 0), 300);
        assert_true(has_field_error(&r, "starts_at", "in_past"));
        api_resp_free(&r);
        /* End not after start. */
        r = post_slot(&srv, host_token, ch, tokyo_at(1, 12, 0), tokyo_at(1, 9, 0), 300);
        assert_true(has_field_error(&r, "ends_at", "not_after_start"));
        api_resp_free(&r);
        /* Beyond the horizon (366 days). */
        r = post_slot(&srv, host_token, ch, tokyo_at(400, 9, 0), tokyo_at(400, 12, 0), 300);
        assert_true(has_field_error(&r, "ends_at", "beyond_horizon"));
        api_resp_free(&r);
        /* Negative and absurd prices. */
        r = post_slot(&srv, host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), -1);
        assert_true(has_field_error(&r, "hourly_price", "out_of_range"));
        api_resp_free(&r);
        r = post_slot(&srv, host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 100001);
        assert_true(has_field_error(&r, "hourly_price", "out_of_range"));
        api_resp_free(&r);
        /* Wrong types, unknown fields, bad times, missing fields. */
        body = api_printf("{\"starts_at\":\"%s\",\"ends_at\":\"tomorrow\",\"hourly_price\":1.5,"
                          "\"colour\":\"red\"}", rfc(tokyo_at(1, 9, 0)));
        r = call("POST", path, host_token, body);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "ends_at", "invalid"));
        assert_true(has_field_error(&r, "hourly_price", "type"));
        assert_true(has_field_error(&r, "colour", "unknown_field"));
        api_resp_free(&r);
        free(body);
        r = call("POST", path, host_token, "{}");
        assert_true(has_field_error(&r, "starts_at", "required"));
        assert_true(has_field_error(&r, "ends_at", "required"));
        assert_true(has_field_error(&r, "hourly_price", "required"));
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 0);
        free(path);
}

static void test_CS_13_overlap_is_409_naming_the_slot(void **state)
{
        int64_t ch = new_charger(35.71, 139.72);
        int64_t a = make_slot(&srv, host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        struct api_resp r = post_slot(&srv, host_token, ch, tokyo_at(1, 11, 0),
                                      tokyo_at(1, 14, 0), 300);

        assert_problem(&r, 409, "slot_overlap");
        assert_int_equal(api_json_int(r.json, "slot.id", 0), a);
        assert_string_equal(api_json_str(r.json, "slot.starts_at"), rfc(tokyo_at(1, 9, 0)));
        assert_string_equal(api_json_str(r.json, "slot.ends_at"), rfc(tokyo_at(1, 12, 0)));
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 1);
}

static void test_CS_7_who_may_write_slots(void **state)
{
        int64_t ch = new_charger(35.72, 139.73);
        struct api_resp r;

        /* Another host: 403; a plain member: 403; the operator: 403 (hosts write). */
        r = post_slot(&srv, other_host_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = post_slot(&srv, member_tok, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = post_slot(&srv, op_token, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        /* Unknown charger; anonymous. */
        r = post_slot(&srv, host_token, 987654, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_problem(&r, 404, "charger_not_found");
        api_resp_free(&r);
        r = post_slot(&srv, NULL, ch, tokyo_at(1, 9, 0), tokyo_at(1, 12, 0), 300);
        assert_int_equal(r.status, 401);
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 0);
}

/* ---- patterns ------------------------------------------------------------------ */

static struct api_resp post_pattern(int64_t ch, int from_days, int to_days, const char *weekdays,
                                    const char *start, const char *end, int price)
{
        char *path = api_printf("/api/v1/chargers/%lld/slots/pattern", (long long)ch);
        char *body = api_printf("{\"from_date\":\"%s\",\"to_date\":\"%s\",\"weekdays\":%s,"
                                "\"start_time\":\"%s\",\"end_time\":\"%s\",\"hourly_price\":%d}",
                                tokyo_date(from_days), tokyo_date(to_days), weekdays, start, end,
                                price);
        struct api_resp r = call("POST", path, host_token, body);

        free(path);
        free(body);
        return r;
}

static void test_CS_13_weekly_pattern(void **state)
{
        int64_t ch = new_charger(35.73, 139.74);
        struct api_resp r = post_pattern(ch, 1, 14, "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]",
                                         "09:00", "18:00", 250);
        json_t *items;

        assert_int_equal(r.status, 201);
        assert_int_equal(api_json_int(r.json, "created", 0), 10);     /* 14 days, 5 weekdays */
        items = api_json_get(r.json, "items");
        assert_int_equal(json_array_size(items), 10);
        /* Local 09:00-18:00 in +09:00. */
        assert_non_null(strstr(api_json_str(r.json, "items.0.starts_at"), "T09:00:00+09:00"));
        assert_non_null(strstr(api_json_str(r.json, "items.0.ends_at"), "T18:00:00+09:00"));
        assert_int_equal(api_json_int(r.json, "items.9.hourly_price", 0), 250);
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 10);

        /* Overlapping an existing slot: 409 and nothing created. */
        r = post_pattern(ch, 1, 20, "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]",
                         "17:00", "20:00", 250);
        assert_problem(&r, 409, "slot_overlap");
        assert_true(api_json_int(r.json, "slot.id", 0) > 0);
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 10);
        /* Weekend evenings do not overlap them: created. */
        r = post_pattern(ch, 1, 20, "[\"sat\",\"sun\"]", "18:00", "24:00", 100);
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
}

static void test_CS_13_pattern_bad_input(void **state)
{
        int64_t ch = new_charger(35.74, 139.75);
        struct api_resp r;

        /* Over the night. */
        r = post_pattern(ch, 1, 7, "[\"mon\"]", "22:00", "06:00", 100);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "end_time", "overnight"));
        api_resp_free(&r);
        /* More slots than charging.pattern_max_slots (30 here). */
        r = post_pattern(ch, 1, 40, "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]",
                         "09:00", "10:00", 100);
        assert_true(has_field_error(&r, "to_date", "too_many_slots"));
        api_resp_free(&r);
        /* Off grid, past, bad weekday, price. */
        r = post_pattern(ch, 1, 7, "[\"mon\",\"funday\"]", "09:10", "10:00", -5);
        assert_true(has_field_error(&r, "weekdays.1", "invalid"));
        assert_true(has_field_error(&r, "hourly_price", "out_of_range"));
        api_resp_free(&r);
        r = post_pattern(ch, 1, 7, "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]",
                         "09:10", "10:00", 5);
        assert_true(has_field_error(&r, "start_time", "off_grid"));
        api_resp_free(&r);
        r = post_pattern(ch, -3, 3, "[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\",\"sun\"]",
                         "09:00", "10:00", 5);
        assert_true(has_field_error(&r, "from_date", "in_past"));
        api_resp_free(&r);
        r = post_pattern(ch, 7, 1, "[\"mon\"]", "09:00", "10:00", 5);
        assert_true(has_field_error(&r, "to_date", "before_from_date"));
        api_resp_free(&r);
        r = post_pattern(ch, 1, 7, "[]", "09:00", "25:00", 5);
        assert_true(has_field_error(&r, "weekdays", "required"));
        assert_true(has_field_error(&r, "end_time", "invalid"));
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 0);
}

/* ---- changes and CS-16 ---------------------------------------------------------------- */

static void test_slot_patch_and_delete(void **state)
{
        int64_t ch = new_charger(35.75, 139.76);
        int64_t a = make_slot(&srv, host_token, ch, tokyo_at(3, 9, 0), tokyo_at(3, 12, 0), 300);
        int64_t b = make_slot(&srv, host_token, ch, tokyo_at(3, 13, 0), tokyo_at(3, 15, 0), 300);
        char *pa = api_printf("/api/v1/slots/%lld", (long long)a);
        char *body;
        struct api_resp r;

        r = call("PATCH", pa, host_token, "{\"hourly_price\":480}");
        assert_int_equal(r.status, 200);
        assert_int_equal(api_json_int(r.json, "hourly_price", 0), 480);
        api_resp_free(&r);
        body = api_printf("{\"ends_at\":\"%s\"}", rfc(tokyo_at(3, 14, 0)));
        r = call("PATCH", pa, host_token, body);
        assert_problem(&r, 409, "slot_overlap");
        assert_int_equal(api_json_int(r.json, "slot.id", 0), b);
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"ends_at\":\"%s\"}", rfc(tokyo_at(3, 13, 0)));
        r = call("PATCH", pa, host_token, body);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "ends_at"), rfc(tokyo_at(3, 13, 0)));
        api_resp_free(&r);
        free(body);
        r = call("PATCH", pa, host_token, "{}");
        assert_problem(&r, 422, "validation_failed");
        api_resp_free(&r);
        body = api_printf("{\"starts_at\":\"%s\"}", rfc(tokyo_at(3, 9, 5)));
        r = call("PATCH", pa, host_token, body);
        assert_true(has_field_error(&r, "starts_at", "off_grid"));
        api_resp_free(&r);
        free(body);
        r = call("PATCH", pa, other_host_token, "{\"hourly_price\":1}");
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);
        r = call("DELETE", pa, other_host_token, NULL);
        assert_problem(&r, 403, "not_host_actor");
        api_resp_free(&r);

        r = call("DELETE", pa, host_token, NULL);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        r = call("DELETE", pa, host_token, NULL);
        assert_problem(&r, 404, "slot_not_found");
        api_resp_free(&r);
        r = call("PATCH", pa, host_token, "{\"hourly_price\":1}");
        assert_problem(&r, 404, "slot_not_found");
        api_resp_free(&r);
        assert_int_equal(slot_count(ch), 1);
        free(pa);
}

static void test_CS_16_slot_in_use_while_reservation_pending_or_confirmed(void **state)
{
        int64_t vehicle = 0, user, ch, a;
        char *drv, *pa, *sql;
        struct api_resp r;

        if (!have_sqlite_cli()) {
                skip();
                return;
        }
        drv = make_driver(&srv, "driver16@slots.test", &vehicle);
        user = me_id(&srv, drv);
        ch = new_charger(35.76, 139.77);
        a = make_slot(&srv, host_token, ch, tokyo_at(4, 9, 0), tokyo_at(4, 18, 0), 300);
        pa = api_printf("/api/v1/slots/%lld", (long long)a);
        add_reservation(&srv, ch, user, vehicle, tokyo_at(4, 14, 0), tokyo_at(4, 15, 0),
                        "pending");

        r = call("DELETE", pa, host_token, NULL);
        assert_problem(&r, 409, "slot_in_use");
        assert_true(api_json_int(r.json, "reservation.id", 0) > 0);
        assert_string_equal(api_json_str(r.json, "reservation.status"), "pending");
        assert_string_equal(api_json_str(r.json, "reservation.starts_at"),
                            rfc(tokyo_at(4, 14, 0)));
        api_resp_free(&r);
        r = call("PATCH", pa, host_token, "{\"hourly_price\":999}");
        assert_problem(&r, 409, "slot_in_use");
        api_resp_free(&r);
        /* Shrinking the free morning is fine. */
        sql = api_printf("{\"starts_at\":\"%s\"}", rfc(tokyo_at(4, 10, 0)));
        r = call("PATCH", pa, host_token, sql);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(sql);

        assert_int_equal(raw_sql(&srv, "UPDATE reservations SET status = 'confirmed';"), 0);
        r = call("DELETE", pa, host_token, NULL);
        assert_problem(&r, 409, "slot_in_use");
        assert_string_equal(api_json_str(r.json, "reservation.status"), "confirmed");
        api_resp_free(&r);
        assert_int_equal(raw_sql(&srv, "UPDATE reservations SET status = 'cancelled';"), 0);
        r = call("PATCH", pa, host_token, "{\"hourly_price\":999}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        r = call("DELETE", pa, host_token, NULL);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        free(pa);
        free(drv);
}

/* ---- CS-8 ------------------------------------------------------------------------------ */

static void test_CS_8_unpublishable_host_cannot_publish_slots(void **state)
{
        int64_t hid, ch, a;
        char *tok = make_host(&srv, "ended@slots.test", "individual", &hid);
        char *path = api_printf("/api/v1/hosts/%lld/contract", (long long)hid);
        char *pa;
        struct api_resp r;
        json_t *reasons;

        ch = make_charger(&srv, tok, 35.77, 139.78, "");
        a = make_slot(&srv, tok, ch, tokyo_at(1, 9, 0), tokyo_at(1, 10, 0), 300);
        r = call("PUT", path, op_token, "{\"status\":\"ended\"}");
        assert_int_equal(r.status, 200);
        api_resp_free(&r);

        r = post_slot(&srv, tok, ch, tokyo_at(2, 9, 0), tokyo_at(2, 10, 0), 300);
        assert_problem(&r, 409, "host_not_publishable");
        reasons = api_json_get(r.json, "reasons");
        assert_true(json_array_size(reasons) >= 1);
        assert_string_equal(json_string_value(json_array_get(reasons, 0)), "contract_ended");
        api_resp_free(&r);
        pa = api_printf("/api/v1/slots/%lld", (long long)a);
        r = call("PATCH", pa, tok, "{\"hourly_price\":1}");
        assert_problem(&r, 409, "host_not_publishable");
        api_resp_free(&r);
        /* Taking a slot down stays possible. */
        r = call("DELETE", pa, tok, NULL);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        free(pa);
        free(path);
        free(tok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_13_listing_recruiting_with_future_slot),
                cmocka_unit_test(test_CS_13_create_and_list_slots),
                cmocka_unit_test(test_CS_13_slot_bad_input),
                cmocka_unit_test(test_CS_13_overlap_is_409_naming_the_slot),
                cmocka_unit_test(test_CS_7_who_may_write_slots),
                cmocka_unit_test(test_CS_13_weekly_pattern),
                cmocka_unit_test(test_CS_13_pattern_bad_input),
                cmocka_unit_test(test_slot_patch_and_delete),
                cmocka_unit_test(test_CS_16_slot_in_use_while_reservation_pending_or_confirmed),
                cmocka_unit_test(test_CS_8_unpublishable_host_cannot_publish_slots),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
