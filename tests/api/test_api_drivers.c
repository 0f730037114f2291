/*
 * test_api_drivers.c - drivers ("users") over HTTP against the real binary:
 * declarations of licence and insurances, vehicles (EV or PHEV only),
 * can_book with its reasons (CS-23), a corporation never a user (CS-7),
 * other members' vehicles hidden, and the audit of the changes (PD-8).
 */
#include <stdbool.h>

#include "host_fixture.h"

static struct api_server srv;
static char *op_token;

#define DECL_OK "{\"driving_licence_expires_on\":\"2099-01-31\"," \
                "\"compulsory_insurance_expires_on\":\"2099-02-28\"," \
                "\"voluntary_insurance_expires_on\":\"2099-03-31\"}"
#define EV "{\"maker\":\"日産\",\"model\":\"リーフ\",\"plate\":\"品川 300 あ 12-34\"," \
           "\"powertrain\":\"ev\",\"connector\":\"chademo\",\"battery_kwh\":40}"

static int setup(void **state)
{
        if (api_server_start(&srv, NULL) < 0)
                return -1;
        op_token = operator_token(&srv, "op@drivers.test");
        return 0;
}

static int teardown(void **state)
{
        free(op_token);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static struct api_resp call(const char *method, const char *path, const char *token,
                            const char *body, long status)
{
        return fixture_call(&srv, method, path, token, body, status);
}

static bool has_string(json_t *arr, const char *s)
{
        size_t i;
        json_t *it;

        json_array_foreach(arr, i, it)
                if (json_is_string(it) && strcmp(json_string_value(it), s) == 0)
                        return true;
        return false;
}

/* Registers a corporation and returns its token. */
static char *corporation_token(const char *email)
{
        char *consents = current_consents(&srv);
        char *body = api_printf(
                "{\"kind\":\"corporation\",\"corporate_name\":\"株式会社運輸\","
                "\"contact_person\":\"担当 次郎\",\"email\":\"%s\",\"password\":\"%s\","
                "\"name_kana\":\"カブシキガイシャウンユ\",\"phone\":\"03-1234-5678\","
                "\"address\":{\"postcode\":\"100-0001\",\"prefecture\":\"東京都\","
                "\"city\":\"千代田区\",\"line1\":\"丸の内1-1\"},\"consents\":%s}",
                email, DEFAULT_PASSWORD, consents);
        struct api_resp r = call("POST", "/api/v1/members", NULL, body, 201);

        api_resp_free(&r);
        free(body);
        free(consents);
        return login(&srv, email, DEFAULT_PASSWORD);
}

/* ---- CS-7 / CS-23: a corporation is never a user ------------------------------ */

static void test_CS_23_corporation_cannot_be_user(void **state)
{
        char *tok = corporation_token("corp@drivers.test");
        struct api_resp r;

        r = call("PUT", "/api/v1/me/driver", tok, DECL_OK, 403);
        assert_problem(&r, 403, "corporation_cannot_be_user");
        api_resp_free(&r);
        r = call("POST", "/api/v1/me/vehicles", tok, EV, 403);
        assert_problem(&r, 403, "corporation_cannot_be_user");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/driver", tok, NULL, 403);
        assert_problem(&r, 403, "corporation_cannot_be_user");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 403);
        assert_problem(&r, 403, "corporation_cannot_be_user");
        api_resp_free(&r);
        /* ... but it can be a host (CS-7) */
        r = call("POST", "/api/v1/me/host", tok, "{\"display_name\":\"運輸の充電器\"}", 201);
        assert_string_equal(api_json_str(r.json, "kind"), "corporation");
        api_resp_free(&r);
        free(tok);
}

/* ---- CS-23: what booking needs --------------------------------------------------- */

static void test_CS_23_driver_needs_declarations_and_vehicle(void **state)
{
        char *tok = member_token(&srv, "needs@drivers.test");
        struct api_resp r;
        char *del;
        int64_t vid;

        r = call("GET", "/api/v1/me/driver", tok, NULL, 404);
        assert_problem(&r, 404, "not_driver");
        api_resp_free(&r);

        /* declarations without a vehicle: cannot book yet */
        r = call("PUT", "/api/v1/me/driver", tok, DECL_OK, 200);
        assert_string_equal(api_json_str(r.json, "driving_licence_expires_on"), "2099-01-31");
        assert_string_equal(api_json_str(r.json, "compulsory_insurance_expires_on"),
                            "2099-02-28");
        assert_string_equal(api_json_str(r.json, "voluntary_insurance_expires_on"),
                            "2099-03-31");
        assert_true(json_is_false(api_json_get(r.json, "can_book")));
        assert_int_equal(json_array_size(api_json_get(r.json, "reasons")), 1);
        assert_string_equal(api_json_str(r.json, "reasons.0"), "no_vehicle");
        assert_int_equal(json_array_size(api_json_get(r.json, "vehicles")), 0);
        api_resp_free(&r);

        /* one EV: can book */
        r = call("POST", "/api/v1/me/vehicles", tok, EV, 201);
        vid = api_json_int(r.json, "id", 0);
        assert_true(vid > 0);
        assert_string_equal(api_json_str(r.json, "powertrain"), "ev");
        assert_true(json_number_value(api_json_get(r.json, "battery_kwh")) == 40.0);
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/driver", tok, NULL, 200);
        assert_true(json_is_true(api_json_get(r.json, "can_book")));
        assert_int_equal(json_array_size(api_json_get(r.json, "reasons")), 0);
        assert_int_equal(api_json_int(r.json, "vehicles.0.id", 0), vid);
        assert_string_equal(api_json_str(r.json, "vehicles.0.plate"), "品川 300 あ 12-34");
        api_resp_free(&r);

        /* the vehicle removed: cannot book again; removal is not repeated */
        del = api_printf("/api/v1/me/vehicles/%lld", (long long)vid);
        r = call("DELETE", del, tok, NULL, 204);
        api_resp_free(&r);
        r = call("DELETE", del, tok, NULL, 404);
        assert_problem(&r, 404, "vehicle_not_found");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/driver", tok, NULL, 200);
        assert_true(json_is_false(api_json_get(r.json, "can_book")));
        assert_true(has_string(api_json_get(r.json, "reasons"), "no_vehicle"));
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        free(del);
        free(tok);
}

static void test_CS_23_declarations_can_be_renewed(void **state)
{
        char *tok = member_token(&srv, "renew@drivers.test");
        struct api_resp r;

        r = call("PUT", "/api/v1/me/driver", tok, DECL_OK, 200);
        api_resp_free(&r);
        r = call("PUT", "/api/v1/me/driver", tok,
                 "{\"driving_licence_expires_on\":\"2098-05-05\","
                 "\"compulsory_insurance_expires_on\":\"2098-05-05\","
                 "\"voluntary_insurance_expires_on\":\"2098-05-05\"}", 200);
        assert_string_equal(api_json_str(r.json, "driving_licence_expires_on"), "2098-05-05");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/driver", tok, NULL, 200);
        assert_string_equal(api_json_str(r.json, "voluntary_insurance_expires_on"),
                            "2098-05-05");
        api_resp_free(&r);
        free(tok);
}

static void test_CS_23_declaration_dates_validated(void **state)
{
        char *tok = member_token(&srv, "dates@drivers.test");
        struct api_resp r;

        /* expired documents are refused, a bad date names its field */
        r = call("PUT", "/api/v1/me/driver", tok,
                 "{\"driving_licence_expires_on\":\"2001-01-01\","
                 "\"compulsory_insurance_expires_on\":\"2099-02-30\","
                 "\"voluntary_insurance_expires_on\":\"next year\",\"licence_no\":\"1\"}", 422);
        assert_problem(&r, 422, "validation_failed");
        assert_true(has_field_error(&r, "driving_licence_expires_on", "expired"));
        assert_true(has_field_error(&r, "compulsory_insurance_expires_on", "invalid"));
        assert_true(has_field_error(&r, "voluntary_insurance_expires_on", "invalid"));
        assert_true(has_field_error(&r, "licence_no", "unknown_field"));
        api_resp_free(&r);
        r = call("PUT", "/api/v1/me/driver", tok, "{\"driving_licence_expires_on\":20991231}",
                 422);
        assert_true(has_field_error(&r, "driving_licence_expires_on", NULL));
        assert_true(has_field_error(&r, "compulsory_insurance_expires_on", NULL));
        assert_true(has_field_error(&r, "voluntary_insurance_expires_on", NULL));
        api_resp_free(&r);
        /* nothing was stored */
        r = call("GET", "/api/v1/me/driver", tok, NULL, 404);
        assert_problem(&r, 404, "not_driver");
        api_resp_free(&r);
        free(tok);
}

/* ---- CS-23: vehicles ------------------------------------------------------------------ */

static void test_CS_23_vehicle_must_be_ev_or_phev(void **state)
{
        char *tok = member_token(&srv, "ev@drivers.test");
        static const char *const refused[] = { "gasoline", "hybrid", "diesel", "EV" };
        struct api_resp r;

        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                char *body = api_printf("{\"maker\":\"トヨタ\",\"model\":\"プリウス\","
                                        "\"plate\":\"練馬 500 さ 1\",\"powertrain\":\"%s\","
                                        "\"connector\":\"type1\",\"battery_kwh\":1.3}",
                                        refused[i]);

                r = call("POST", "/api/v1/me/vehicles", tok, body, 422);
                assert_problem(&r, 422, "validation_failed");
                assert_true(has_field_error(&r, "powertrain", "not_ev_or_phev"));
                api_resp_free(&r);
                free(body);
        }
        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"maker\":\"トヨタ\",\"model\":\"プリウスPHEV\",\"plate\":\"練馬 500 さ 2\","
                 "\"powertrain\":\"phev\",\"connector\":\"type1\",\"battery_kwh\":13.6}", 201);
        assert_string_equal(api_json_str(r.json, "powertrain"), "phev");
        assert_true(json_number_value(api_json_get(r.json, "battery_kwh")) == 13.6);
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        api_resp_free(&r);
        free(tok);
}

static void test_CS_23_vehicle_bad_input(void **state)
{
        char *tok = member_token(&srv, "badcar@drivers.test");
        struct api_resp r;

        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"model\":\"\",\"plate\":\"x\",\"powertrain\":\"ev\",\"connector\":\"usb\","
                 "\"battery_kwh\":0,\"color\":\"red\"}", 422);
        assert_true(has_field_error(&r, "maker", NULL));
        assert_true(has_field_error(&r, "model", NULL));
        assert_true(has_field_error(&r, "connector", "invalid"));
        assert_true(has_field_error(&r, "battery_kwh", "out_of_range"));
        assert_true(has_field_error(&r, "color", "unknown_field"));
        api_resp_free(&r);
        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"maker\":\"a\",\"model\":\"b\",\"plate\":\"c\",\"powertrain\":\"ev\","
                 "\"connector\":\"ccs2\",\"battery_kwh\":300.5}", 422);
        assert_true(has_field_error(&r, "battery_kwh", "out_of_range"));
        api_resp_free(&r);
        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"maker\":\"a\",\"model\":\"b\",\"plate\":\"c\",\"powertrain\":\"ev\","
                 "\"connector\":\"ccs2\",\"battery_kwh\":\"40\"}", 422);
        assert_true(has_field_error(&r, "battery_kwh", "type"));
        api_resp_free(&r);
        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"maker\":\"a\",\"model\":\"b\",\"plate\":\"c\",\"powertrain\":\"ev\","
                 "\"connector\":\"ccs2\"}", 422);
        assert_true(has_field_error(&r, "battery_kwh", "required"));
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        /* the upper bound itself is allowed */
        r = call("POST", "/api/v1/me/vehicles", tok,
                 "{\"maker\":\"a\",\"model\":\"b\",\"plate\":\"c\",\"powertrain\":\"ev\","
                 "\"connector\":\"ccs2\",\"battery_kwh\":300}", 201);
        api_resp_free(&r);
        r = call("DELETE", "/api/v1/me/vehicles/abc", tok, NULL, 404);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        free(tok);
}

static void test_CS_23_vehicles_are_limited(void **state)
{
        char *tok = member_token(&srv, "fleet@drivers.test");
        struct api_resp r;
        int64_t max;

        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 200);
        max = api_json_int(r.json, "max", 0);
        assert_true(max >= 1 && max <= 100);
        api_resp_free(&r);
        for (int64_t i = 0; i < max; i++) {
                r = call("POST", "/api/v1/me/vehicles", tok, EV, 201);
                api_resp_free(&r);
        }
        r = call("POST", "/api/v1/me/vehicles", tok, EV, 409);
        assert_problem(&r, 409, "too_many_vehicles");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", tok, NULL, 200);
        assert_int_equal((int64_t)json_array_size(api_json_get(r.json, "items")), max);
        api_resp_free(&r);
        free(tok);
}

static void test_CS_40_other_members_vehicle_is_404(void **state)
{
        int64_t vid;
        char *owner = make_driver(&srv, "owner@drivers.test", &vid);
        char *other = member_token(&srv, "other@drivers.test");
        char *del = api_printf("/api/v1/me/vehicles/%lld", (long long)vid);
        struct api_resp r;

        r = call("DELETE", del, other, NULL, 404);
        assert_problem(&r, 404, "vehicle_not_found");
        api_resp_free(&r);
        r = call("GET", "/api/v1/me/vehicles", other, NULL, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 0);
        api_resp_free(&r);
        /* the owner still has it and can book */
        r = call("GET", "/api/v1/me/driver", owner, NULL, 200);
        assert_int_equal(api_json_int(r.json, "vehicles.0.id", 0), vid);
        assert_true(json_is_true(api_json_get(r.json, "can_book")));
        api_resp_free(&r);
        free(del);
        free(other);
        free(owner);
}

/* ---- fixtures and audit ------------------------------------------------------------- */

static void test_make_driver_fixture_can_book(void **state)
{
        int64_t vid = 0;
        char *tok = make_driver(&srv, "fixture@drivers.test", &vid);
        struct api_resp r;

        assert_true(vid > 0);
        r = call("GET", "/api/v1/me/driver", tok, NULL, 200);
        assert_true(json_is_true(api_json_get(r.json, "can_book")));
        assert_int_equal(json_array_size(api_json_get(r.json, "vehicles")), 1);
        api_resp_free(&r);
        free(tok);
}

static void test_PD_8_driver_changes_are_audited(void **state)
{
        int64_t vid;
        char *tok = make_driver(&srv, "audit@drivers.test", &vid);
        struct api_resp r = call("GET", "/api/v1/me", tok, NULL, 200);
        int64_t id = api_json_int(r.json, "id", 0);
        char *path = api_printf("/api/v1/audit?subject_id=%lld", (long long)id);
        bool decl = false, car = false;
        json_t *it;
        size_t i;

        api_resp_free(&r);
        r = call("GET", path, op_token, NULL, 200);
        json_array_foreach(api_json_get(r.json, "items"), i, it) {
                const char *action = json_string_value(json_object_get(it, "action"));
                const char *items = json_string_value(json_object_get(it, "items"));

                if (json_integer_value(json_object_get(it, "actor_id")) != id)
                        continue;
                if (strcmp(action, "update") == 0 && strstr(items, "driver.licence"))
                        decl = true;
                if (strcmp(action, "create") == 0 && strcmp(items, "vehicle") == 0)
                        car = true;
        }
        assert_true(decl);
        assert_true(car);
        api_resp_free(&r);
        free(path);
        free(tok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_23_corporation_cannot_be_user),
                cmocka_unit_test(test_CS_23_driver_needs_declarations_and_vehicle),
                cmocka_unit_test(test_CS_23_declarations_can_be_renewed),
                cmocka_unit_test(test_CS_23_declaration_dates_validated),
                cmocka_unit_test(test_CS_23_vehicle_must_be_ev_or_phev),
                cmocka_unit_test(test_CS_23_vehicle_bad_input),
                cmocka_unit_test(test_CS_23_vehicles_are_limited),
                cmocka_unit_test(test_CS_40_other_members_vehicle_is_404),
                cmocka_unit_test(test_make_driver_fixture_can_book),
                cmocka_unit_test(test_PD_8_driver_changes_are_audited),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
