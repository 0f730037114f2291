/*
 * test_charger_domain.c - charger listing rules (domain/charger.c): kinds
 * and connectors (CS-9), output and coordinate checks, the compatible
 * fast charger's forced options (CS-9 last line), the art 10.5 delisting
 * reasons (CS-10), the QR life cycle and bookability (CS-11), site limits
 * (CS-12).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "domain/charger.h"

static void test_CS_9_kinds_round_trip(void **state)
{
        for (int k = 0; k < _CHARGER_KIND_MAX; k++)
                assert_int_equal(charger_kind_from_name(charger_kind_name(k)), k);
        assert_string_equal(charger_kind_name(CHARGER_COMPATIBLE_FAST), "compatible_fast");
        assert_int_equal(charger_kind_from_name("fast"), -1);
        assert_int_equal(charger_kind_from_name(NULL), -1);
        assert_null(charger_kind_name(_CHARGER_KIND_MAX));
        assert_null(charger_kind_name(-1));
}

static void test_CS_9_connectors(void **state)
{
        static const char *const want[] = { "type1", "type2", "chademo", "ccs1", "ccs2", "gbt",
                                            "nacs", "outlet_100v", "outlet_200v" };
        size_t n = 0;

        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                assert_true(charger_connector_valid(want[i]));
        while (charger_connectors[n])
                n++;
        assert_int_equal(n, sizeof(want) / sizeof(want[0]));
        assert_false(charger_connector_valid("Type2"));
        assert_false(charger_connector_valid("schuko"));
        assert_false(charger_connector_valid(""));
        assert_false(charger_connector_valid(NULL));
}

static void test_CS_9_output_in_watts(void **state)
{
        int64_t w = 0;

        assert_int_equal(charger_output_w(6.0, &w), 0);
        assert_int_equal(w, 6000);
        assert_int_equal(charger_output_w(3.2, &w), 0);
        assert_int_equal(w, 3200);
        assert_int_equal(charger_output_w(0.0015, &w), 0);
        assert_int_equal(w, 2);
        assert_int_equal(charger_output_w(400.0, &w), 0);
        assert_int_equal(w, 400000);
        assert_int_equal(charger_output_w(400.001, &w), -EDOM);
        assert_int_equal(charger_output_w(0.0, &w), -EDOM);
        assert_int_equal(charger_output_w(-7.0, &w), -EDOM);
        assert_int_equal(charger_output_w(0.0004, &w), -EDOM);  /* rounds to 0 W */
        assert_int_equal(charger_output_w(NAN, &w), -EDOM);
        assert_int_equal(charger_output_w(INFINITY, &w), -EDOM);
        assert_int_equal(charger_output_w(1e300, &w), -EDOM);
}

static void test_CS_9_coordinates_in_japan(void **state)
{
        bool lat_bad = true, lon_bad = true;

        assert_int_equal(charger_check_coords(35.681236, 139.767125, &lat_bad, &lon_bad), 0);
        assert_false(lat_bad);
        assert_false(lon_bad);
        assert_int_equal(charger_check_coords(26.2124, 127.6809, NULL, NULL), 0);  /* Naha */
        assert_int_equal(charger_check_coords(45.4156, 141.6731, NULL, NULL), 0);  /* Wakkanai */
        /* valid coordinates outside the service area */
        assert_int_equal(charger_check_coords(48.8566, 2.3522, &lat_bad, &lon_bad), -ERANGE);
        assert_true(lat_bad);
        assert_true(lon_bad);
        assert_int_equal(charger_check_coords(37.5665, 121.9, &lat_bad, &lon_bad), -ERANGE);
        assert_false(lat_bad);
        assert_true(lon_bad);
        /* not coordinates at all */
        assert_int_equal(charger_check_coords(91.0, 139.0, &lat_bad, &lon_bad), -EDOM);
        assert_true(lat_bad);
        assert_false(lon_bad);
        assert_int_equal(charger_check_coords(35.0, -180.5, &lat_bad, &lon_bad), -EDOM);
        assert_false(lat_bad);
        assert_true(lon_bad);
        assert_int_equal(charger_check_coords(NAN, 139.0, NULL, NULL), -EDOM);
        assert_int_equal(charger_deg_to_e6(35.681236), 35681236);
        assert_int_equal(charger_deg_to_e6(-0.0000005), -1);
        assert_true(fabs(charger_e6_to_deg(139767125) - 139.767125) < 1e-9);
}

static void test_CS_9_compatible_fast_is_onsite_only(void **state)
{
        bool onsite = false, ext = true;

        assert_int_equal(charger_force_options(CHARGER_COMPATIBLE_FAST, &onsite, &ext),
                         CHARGER_FORCED_ONSITE | CHARGER_FORCED_EXTENDABLE);
        assert_true(onsite);
        assert_false(ext);
        /* already compliant: nothing forced */
        assert_int_equal(charger_force_options(CHARGER_COMPATIBLE_FAST, &onsite, &ext), 0);
        onsite = true;
        ext = true;
        assert_int_equal(charger_force_options(CHARGER_COMPATIBLE_FAST, &onsite, &ext),
                         CHARGER_FORCED_EXTENDABLE);
        /* other kinds keep what the host chose */
        onsite = false;
        ext = true;
        assert_int_equal(charger_force_options(CHARGER_NORMAL, &onsite, &ext), 0);
        assert_false(onsite);
        assert_true(ext);
        assert_int_equal(charger_force_options(CHARGER_EV_OUTLET, &onsite, &ext), 0);
        assert_false(onsite);
}

static void test_CS_10_delisting_reasons_follow_art_10_5(void **state)
{
        static const char *const codes[] = { "terms_violation", "obvious_error", "fraud",
                                             "unreachable", "identity_or_contract_missing",
                                             "reverification_missing", "public_order",
                                             "other_equivalent" };
        char art[16];

        assert_int_equal(charger_delisting_reasons_count, 8);
        for (size_t i = 0; i < 8; i++) {
                const struct charger_delisting_reason *r = charger_delisting_reason_find(codes[i]);

                assert_non_null(r);
                assert_ptr_equal(r, &charger_delisting_reasons[i]);
                snprintf(art, sizeof(art), "10.5.%zu", i + 1);
                assert_string_equal(r->article, art);
                assert_true(strlen(r->description) > 10);
        }
        assert_null(charger_delisting_reason_find("bored"));
        assert_null(charger_delisting_reason_find(NULL));
}

static void test_CS_11_qr_life_cycle(void **state)
{
        int next = -1;

        assert_int_equal(charger_qr_next(CHARGER_QR_ISSUED, CHARGER_QR_ATTACH, &next), -EAGAIN);
        assert_int_equal(charger_qr_next(CHARGER_QR_ISSUED, CHARGER_QR_MAIL, &next), 0);
        assert_int_equal(next, CHARGER_QR_MAILED);
        assert_int_equal(charger_qr_next(CHARGER_QR_MAILED, CHARGER_QR_MAIL, &next), -EALREADY);
        assert_int_equal(charger_qr_next(CHARGER_QR_MAILED, CHARGER_QR_ATTACH, &next), 0);
        assert_int_equal(next, CHARGER_QR_ATTACHED);
        assert_int_equal(charger_qr_next(CHARGER_QR_ATTACHED, CHARGER_QR_ATTACH, &next), 0);
        assert_int_equal(next, CHARGER_QR_ATTACHED);
        assert_int_equal(charger_qr_next(CHARGER_QR_ATTACHED, CHARGER_QR_MAIL, &next), -EALREADY);
        for (int s = 0; s < _CHARGER_QR_STATE_MAX; s++) {
                assert_int_equal(charger_qr_next(s, CHARGER_QR_ROTATE, &next), 0);
                assert_int_equal(next, CHARGER_QR_ISSUED);
                assert_int_equal(charger_qr_state_from_name(charger_qr_state_name(s)), s);
        }
        assert_int_equal(charger_qr_next(7, CHARGER_QR_MAIL, &next), -EINVAL);
        assert_int_equal(charger_qr_state_from_name("lost"), -1);
}

static void test_CS_11_not_bookable_until_code_attached(void **state)
{
        struct charger_status s = { .qr_state = CHARGER_QR_ISSUED, .host_publishable = true };

        assert_false(charger_bookable(&s));
        assert_int_equal(charger_not_bookable(&s), CHARGER_NB_QR_NOT_ATTACHED);
        assert_true(charger_listed(&s));        /* visible, just not bookable */
        s.qr_state = CHARGER_QR_MAILED;
        assert_false(charger_bookable(&s));
        s.qr_state = CHARGER_QR_ATTACHED;
        assert_true(charger_bookable(&s));
        assert_int_equal(charger_not_bookable(&s), 0);
        s.delisted = true;
        assert_int_equal(charger_not_bookable(&s), CHARGER_NB_DELISTED);
        assert_false(charger_listed(&s));
        s.delisted = false;
        s.host_publishable = false;
        assert_int_equal(charger_not_bookable(&s), CHARGER_NB_HOST_NOT_PUBLISHABLE);
        assert_false(charger_listed(&s));
        s.deleted = true;
        s.qr_state = CHARGER_QR_ISSUED;
        assert_int_equal(charger_not_bookable(&s), CHARGER_NB_DELETED |
                         CHARGER_NB_QR_NOT_ATTACHED | CHARGER_NB_HOST_NOT_PUBLISHABLE);
        for (unsigned i = 0; i < CHARGER_NB_COUNT; i++)
                assert_non_null(charger_not_bookable_name(1u << i));
        assert_null(charger_not_bookable_name(3));
}

static void test_CS_12_site_limit_range(void **state)
{
        assert_int_equal(charger_site_limit_check(1, 100), 0);
        assert_int_equal(charger_site_limit_check(100, 100), 0);
        assert_int_equal(charger_site_limit_check(0, 100), -ERANGE);
        assert_int_equal(charger_site_limit_check(101, 100), -ERANGE);
        assert_int_equal(charger_site_limit_check(-1, 100), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_CS_9_kinds_round_trip),
                cmocka_unit_test(test_CS_9_connectors),
                cmocka_unit_test(test_CS_9_output_in_watts),
                cmocka_unit_test(test_CS_9_coordinates_in_japan),
                cmocka_unit_test(test_CS_9_compatible_fast_is_onsite_only),
                cmocka_unit_test(test_CS_10_delisting_reasons_follow_art_10_5),
                cmocka_unit_test(test_CS_11_qr_life_cycle),
                cmocka_unit_test(test_CS_11_not_bookable_until_code_attached),
                cmocka_unit_test(test_CS_12_site_limit_range),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
