/*
 * test_host_domain.c - the pure host and driver rules of domain/host.h:
 * publishability and its reasons (CS-8), who manages administrators and
 * who can be one (CS-7), declarations, can-book and vehicles (CS-23).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "domain/charger.h"
#include "domain/host.h"

/* 2026-04-01T00:00:00+09:00 = 2026-03-31T15:00:00Z */
#define APR1_TOKYO_MIDNIGHT 1774969200LL

/* ---- CS-8 ---------------------------------------------------------------- */

static void test_CS_8_host_needs_verification_and_contract(void **state)
{
        const char *r[HOST_REASONS_MAX];

        assert_true(host_publishable("verified", "active", "active"));
        assert_int_equal(host_unpublishable_reasons("verified", "active", "active", r, 3), 0);

        assert_false(host_publishable("pending", "active", "active"));
        assert_false(host_publishable("verified", "none", "active"));
        assert_false(host_publishable("verified", "ended", "active"));
        assert_false(host_publishable("rejected", "active", "active"));

        assert_int_equal(host_unpublishable_reasons("pending", "none", "active", r, 3), 2);
        assert_string_equal(r[0], "verification_pending");
        assert_string_equal(r[1], "contract_missing");
        assert_int_equal(host_unpublishable_reasons("rejected", "ended", "active", r, 3), 2);
        assert_string_equal(r[0], "verification_rejected");
        assert_string_equal(r[1], "contract_ended");
}

static void test_CS_8_suspended_member_is_not_publishable(void **state)
{
        const char *r[HOST_REASONS_MAX];

        assert_false(host_publishable("verified", "active", "suspended"));
        assert_false(host_publishable("verified", "active", "withdrawn"));
        assert_int_equal(host_unpublishable_reasons("verified", "active", "suspended", r, 3), 1);
        assert_string_equal(r[0], "member_not_active");
}

static void test_CS_8_unknown_or_null_states_are_not_publishable(void **state)
{
        const char *r[1] = { NULL };

        assert_false(host_publishable(NULL, NULL, NULL));
        assert_false(host_publishable("Verified", "active", "active"));
        /* counts every reason, writes only max */
        assert_int_equal(host_unpublishable_reasons(NULL, NULL, NULL, r, 1), 3);
        assert_string_equal(r[0], "verification_pending");
        assert_int_equal(host_unpublishable_reasons(NULL, NULL, NULL, NULL, 0), 3);
}

static void test_CS_8_state_values(void **state)
{
        assert_true(host_verification_valid("pending"));
        assert_true(host_verification_valid("verified"));
        assert_true(host_verification_valid("rejected"));
        assert_false(host_verification_valid("approved"));
        assert_false(host_verification_valid(""));
        assert_false(host_verification_valid(NULL));
        assert_true(host_contract_valid("none"));
        assert_true(host_contract_valid("active"));
        assert_true(host_contract_valid("ended"));
        assert_false(host_contract_valid("ACTIVE"));
        /* the operator sets only active or ended */
        assert_true(host_contract_settable("active"));
        assert_true(host_contract_settable("ended"));
        assert_false(host_contract_settable("none"));
        assert_false(host_contract_settable(NULL));
}

/* ---- CS-7 ------------------------------------------------------------------- */

static void test_CS_7_only_corporate_host_itself_manages_admins(void **state)
{
        const char *code = "x";

        assert_int_equal(host_admin_manage_check("corporation", 10, 10, &code), 0);
        assert_null(code);
        assert_int_equal(host_admin_manage_check("corporation", 10, 11, &code), -EPERM);
        assert_string_equal(code, "host_only");
        assert_int_equal(host_admin_manage_check("individual", 10, 10, &code), -EINVAL);
        assert_string_equal(code, "not_corporate_host");
        /* someone else trying on an individual host is told they are not the host */
        assert_int_equal(host_admin_manage_check("individual", 10, 11, &code), -EPERM);
        assert_string_equal(code, "host_only");
        assert_int_equal(host_admin_manage_check("corporation", 10, 10, NULL), 0);
}

static void test_CS_7_appointee_rules(void **state)
{
        const char *code = NULL;

        assert_int_equal(host_admin_appointee_check(10, 11, "active", "member", &code), 0);
        assert_null(code);
        assert_int_equal(host_admin_appointee_check(10, 10, "active", "member", &code),
                         -EINVAL);
        assert_string_equal(code, "cannot_appoint_self");
        assert_int_equal(host_admin_appointee_check(10, 11, "suspended", "member", &code),
                         -EINVAL);
        assert_string_equal(code, "member_not_active");
        assert_int_equal(host_admin_appointee_check(10, 11, "withdrawn", "member", &code),
                         -EINVAL);
        assert_string_equal(code, "member_not_active");
        assert_int_equal(host_admin_appointee_check(10, 11, "active", "operator", &code),
                         -EINVAL);
        assert_string_equal(code, "operator_cannot_be_admin");
}

/* ---- CS-23 drivers ---------------------------------------------------------------- */

static void test_CS_23_corporation_cannot_be_user(void **state)
{
        struct driver_state d = {
                .member_kind = "corporation", .member_status = "active",
                .licence_expires_on = "2099-01-01",
                .compulsory_insurance_expires_on = "2099-01-01",
                .voluntary_insurance_expires_on = "2099-01-01", .vehicles = 1,
        };
        const char *r[DRIVER_REASONS_MAX];
        size_t n;

        assert_false(driver_kind_allowed("corporation"));
        assert_true(driver_kind_allowed("individual"));
        assert_false(driver_kind_allowed(NULL));
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, r, DRIVER_REASONS_MAX, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(r[0], "corporation_cannot_be_user");
}

static void test_CS_23_driver_can_book_with_everything(void **state)
{
        struct driver_state d = {
                .member_kind = "individual", .member_status = "active",
                .licence_expires_on = "2026-04-01",
                .compulsory_insurance_expires_on = "2030-01-01",
                .voluntary_insurance_expires_on = "2030-01-01", .vehicles = 1,
        };
        size_t n = 99;

        /* a document that expires today is still valid today (Tokyo) */
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, NULL, 0, &n), 1);
        assert_int_equal(n, 0);
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT + 86399, NULL, 0, &n), 1);
}

static void test_CS_23_licence_expiry_uses_tokyo_date(void **state)
{
        struct driver_state d = {
                .member_kind = "individual", .member_status = "active",
                .licence_expires_on = "2026-03-31",
                .compulsory_insurance_expires_on = "2030-01-01",
                .voluntary_insurance_expires_on = "2030-01-01", .vehicles = 2,
        };
        const char *r[DRIVER_REASONS_MAX];
        size_t n;

        /* 23:59:59 on March 31 in Tokyo is 14:59:59Z: still valid */
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT - 1, r, 8, &n), 1);
        /* 00:00 on April 1 in Tokyo (still March 31 in UTC): expired */
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, r, 8, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(r[0], "licence_expired");
}

static void test_CS_23_every_missing_thing_is_a_reason(void **state)
{
        struct driver_state d = {
                .member_kind = "individual", .member_status = "suspended",
                .licence_expires_on = "2020-01-01",
                .compulsory_insurance_expires_on = "2020-01-01",
                .voluntary_insurance_expires_on = "2020-01-01", .vehicles = 0,
        };
        const char *r[DRIVER_REASONS_MAX];
        size_t n;

        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, r, DRIVER_REASONS_MAX, &n),
                         0);
        assert_int_equal(n, 5);
        assert_string_equal(r[0], "member_not_active");
        assert_string_equal(r[1], "licence_expired");
        assert_string_equal(r[2], "compulsory_insurance_expired");
        assert_string_equal(r[3], "voluntary_insurance_expired");
        assert_string_equal(r[4], "no_vehicle");
}

static void test_CS_23_no_declarations(void **state)
{
        struct driver_state d = {
                .member_kind = "individual", .member_status = "active", .vehicles = 1,
        };
        const char *r[2];
        size_t n;

        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, r, 2, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(r[0], "no_declarations");
        /* an unparsable stored date counts as expired */
        d.licence_expires_on = "someday";
        d.compulsory_insurance_expires_on = "2099-01-01";
        d.voluntary_insurance_expires_on = "2099-01-01";
        assert_int_equal(driver_can_book(&d, APR1_TOKYO_MIDNIGHT, r, 2, &n), 0);
        assert_string_equal(r[0], "licence_expired");
        assert_int_equal(driver_can_book(NULL, 0, r, 2, &n), -EINVAL);
        assert_int_equal(driver_can_book(&d, 0, r, 2, NULL), -EINVAL);
}

static void test_CS_23_declared_expiry_not_in_the_past(void **state)
{
        const char *code, *why;

        assert_int_equal(driver_expiry_valid("2026-04-01", APR1_TOKYO_MIDNIGHT, &code, &why), 0);
        assert_null(code);
        assert_null(why);
        assert_int_equal(driver_expiry_valid("2026-03-31", APR1_TOKYO_MIDNIGHT, &code, &why),
                         -EINVAL);
        assert_string_equal(code, "expired");
        assert_non_null(why);
        assert_int_equal(driver_expiry_valid("2026-02-30", APR1_TOKYO_MIDNIGHT, &code, &why),
                         -EINVAL);
        assert_string_equal(code, "invalid");
        assert_int_equal(driver_expiry_valid("2026-4-1", APR1_TOKYO_MIDNIGHT, &code, NULL),
                         -EINVAL);
        assert_string_equal(code, "invalid");
        assert_int_equal(driver_expiry_valid(NULL, APR1_TOKYO_MIDNIGHT, NULL, NULL), -EINVAL);
        assert_int_equal(driver_expiry_valid("2026-04-01 ", APR1_TOKYO_MIDNIGHT, NULL, NULL),
                         -EINVAL);
        assert_int_equal(driver_expiry_valid("2100-12-31", APR1_TOKYO_MIDNIGHT, NULL, NULL), 0);
}

/* ---- CS-23 vehicles ------------------------------------------------------------------ */

static void test_CS_23_vehicle_must_be_ev_or_phev(void **state)
{
        assert_true(vehicle_powertrain_valid("ev"));
        assert_true(vehicle_powertrain_valid("phev"));
        assert_false(vehicle_powertrain_valid("hybrid"));
        assert_false(vehicle_powertrain_valid("gasoline"));
        assert_false(vehicle_powertrain_valid("EV"));
        assert_false(vehicle_powertrain_valid(""));
        assert_false(vehicle_powertrain_valid(NULL));
}

static void test_CS_23_vehicle_connector(void **state)
{
        size_t n = 0;

        for (; charger_connectors[n]; n++)
                assert_true(vehicle_connector_valid(charger_connectors[n]));
        assert_int_equal(n, 9);
        assert_true(vehicle_connector_valid("chademo"));
        assert_false(vehicle_connector_valid("usb"));
        assert_false(vehicle_connector_valid("Type2"));
        assert_false(vehicle_connector_valid(NULL));
}

static void test_CS_23_vehicle_battery(void **state)
{
        int64_t wh = 0;

        assert_int_equal(vehicle_battery_wh(40, &wh), 0);
        assert_int_equal(wh, 40000);
        assert_int_equal(vehicle_battery_wh(13.6, &wh), 0);
        assert_int_equal(wh, 13600);
        assert_int_equal(vehicle_battery_wh(300, &wh), 0);
        assert_int_equal(wh, 300000);
        assert_int_equal(vehicle_battery_wh(0.0001, &wh), 0);
        assert_int_equal(wh, 1);        /* never rounds to zero */
        assert_int_equal(vehicle_battery_wh(0, &wh), -EINVAL);
        assert_int_equal(vehicle_battery_wh(-1, &wh), -EINVAL);
        assert_int_equal(vehicle_battery_wh(300.001, &wh), -EINVAL);
        assert_int_equal(vehicle_battery_wh(NAN, &wh), -EINVAL);
        assert_int_equal(vehicle_battery_wh(INFINITY, &wh), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_8_host_needs_verification_and_contract),
                cmocka_unit_test(test_CS_8_suspended_member_is_not_publishable),
                cmocka_unit_test(test_CS_8_unknown_or_null_states_are_not_publishable),
                cmocka_unit_test(test_CS_8_state_values),
                cmocka_unit_test(test_CS_7_only_corporate_host_itself_manages_admins),
                cmocka_unit_test(test_CS_7_appointee_rules),
                cmocka_unit_test(test_CS_23_corporation_cannot_be_user),
                cmocka_unit_test(test_CS_23_driver_can_book_with_everything),
                cmocka_unit_test(test_CS_23_licence_expiry_uses_tokyo_date),
                cmocka_unit_test(test_CS_23_every_missing_thing_is_a_reason),
                cmocka_unit_test(test_CS_23_no_declarations),
                cmocka_unit_test(test_CS_23_declared_expiry_not_in_the_past),
                cmocka_unit_test(test_CS_23_vehicle_must_be_ev_or_phev),
                cmocka_unit_test(test_CS_23_vehicle_connector),
                cmocka_unit_test(test_CS_23_vehicle_battery),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
