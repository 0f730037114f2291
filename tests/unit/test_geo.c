/*
 * test_geo.c - domain/geo.c: haversine distances against known values,
 * the search box (it must hold every point of the circle, with longitude
 * scaled by latitude, and cover every longitude at a pole), Japan's
 * bounds and microdegree rounding.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "domain/geo.h"

/* Tokyo station and Shin-Osaka station. */
#define TOKYO_LAT 35.681236
#define TOKYO_LON 139.767125
#define OSAKA_LAT 34.733165
#define OSAKA_LON 135.500214

static void test_distance_zero_and_symmetric(void **state)
{
        double a = geo_distance_m(TOKYO_LAT, TOKYO_LON, OSAKA_LAT, OSAKA_LON);
        double b = geo_distance_m(OSAKA_LAT, OSAKA_LON, TOKYO_LAT, TOKYO_LON);

        assert_true(geo_distance_m(TOKYO_LAT, TOKYO_LON, TOKYO_LAT, TOKYO_LON) == 0.0);
        assert_true(fabs(a - b) < 1e-6);
}

static void test_distance_known_values(void **state)
{
        /* Tokyo - Shin-Osaka is about 403 km great circle. */
        double d = geo_distance_m(TOKYO_LAT, TOKYO_LON, OSAKA_LAT, OSAKA_LON);

        assert_true(d > 400000 && d < 406000);
        /* One degree of latitude: pi R / 180 = 111195 m on this sphere. */
        d = geo_distance_m(35.0, 139.0, 36.0, 139.0);
        assert_true(fabs(d - 111195.08) < 1.0);
        /* One degree of longitude at 60 N is half that at the equator. */
        d = geo_distance_m(60.0, 10.0, 60.0, 10.001);
        assert_true(fabs(d - 111195.08 * 0.001 * 0.5) < 0.01);
        /* Antipodes: half the circumference, no NaN. */
        d = geo_distance_m(0.0, 0.0, 0.0, 180.0);
        assert_true(fabs(d - M_PI * GEO_EARTH_RADIUS_M) < 1.0);
}

static void test_bbox_latitude_span(void **state)
{
        struct geo_bbox b;

        geo_bbox_around(35.0, 139.0, 111195.08, &b);
        assert_true(fabs(b.min_lat - 34.0) < 1e-6);
        assert_true(fabs(b.max_lat - 36.0) < 1e-6);
        /* Longitude is wider than latitude away from the equator. */
        assert_true(b.max_lon - 139.0 > 1.0 / cos(36.0 * M_PI / 180.0) - 1e-6);
        assert_true(139.0 - b.min_lon > 1.0);
}

static void test_bbox_holds_the_circle(void **state)
{
        /* Points on the circle (any bearing) must lie inside the box. */
        static const double centres[][2] = { { 35.68, 139.77 }, { 45.5, 141.9 }, { 24.3, 124.2 },
                                             { 0.0, 0.0 }, { -33.9, 151.2 }, { 70.0, 20.0 } };
        static const double radii[] = { 1, 500, 3000, 50000, 300000 };

        for (size_t ci = 0; ci < sizeof(centres) / sizeof(centres[0]); ci++) {
                for (size_t ri = 0; ri < sizeof(radii) / sizeof(radii[0]); ri++) {
                        double lat = centres[ci][0], lon = centres[ci][1], r = radii[ri];
                        double delta = r / GEO_EARTH_RADIUS_M;
                        struct geo_bbox b;

                        geo_bbox_around(lat, lon, r, &b);
                        for (int k = 0; k < 360; k++) {
                                /* Destination point on the sphere at bearing k. */
                                double th = k * M_PI / 180, p1 = lat * M_PI / 180;
                                double p2 = asin(sin(p1) * cos(delta) +
                                                 cos(p1) * sin(delta) * cos(th));
                                double l2 = lon * M_PI / 180 +
                                            atan2(sin(th) * sin(delta) * cos(p1),
                                                  cos(delta) - sin(p1) * sin(p2));
                                double plat = p2 * 180 / M_PI, plon = l2 * 180 / M_PI;

                                assert_true(fabs(geo_distance_m(lat, lon, plat, plon) - r) <
                                            1e-3 + r * 1e-9);
                                if (!geo_bbox_contains(&b, plat, plon))
                                        fprintf(stderr, "centre %f,%f r %f bearing %d: %.9f,%.9f"
                                                " outside %.9f..%.9f, %.9f..%.9f\n", lat, lon, r,
                                                k, plat, plon, b.min_lat, b.max_lat, b.min_lon,
                                                b.max_lon);
                                assert_true(geo_bbox_contains(&b, plat, plon));
                        }
                }
        }
}

static void test_bbox_pole_and_zero(void **state)
{
        struct geo_bbox b;

        geo_bbox_around(89.9, 10.0, 50000, &b);
        assert_true(b.max_lat == 90.0);
        assert_true(b.min_lon == -180.0 && b.max_lon == 180.0);
        geo_bbox_around(35.0, 139.0, 0, &b);
        assert_true(fabs(b.min_lat - 35.0) < 1e-8 && fabs(b.max_lat - 35.0) < 1e-8);
        assert_true(fabs(b.min_lon - 139.0) < 1e-8 && fabs(b.max_lon - 139.0) < 1e-8);
        assert_true(geo_bbox_contains(&b, 35.0, 139.0));
        geo_bbox_around(35.0, 139.0, -5, &b);
        assert_true(fabs(b.min_lat - 35.0) < 1e-8 && fabs(b.max_lon - 139.0) < 1e-8);
        geo_bbox_around(0.0, 179.99, 50000, &b);
        assert_true(b.max_lon == 180.0);        /* clamped, no wrap */
}

static void test_japan_bounds(void **state)
{
        assert_true(geo_in_japan(TOKYO_LAT, TOKYO_LON));
        assert_true(geo_in_japan(20.0, 122.0));         /* inclusive corners */
        assert_true(geo_in_japan(46.0, 154.0));
        assert_false(geo_in_japan(19.999, 136.0));
        assert_false(geo_in_japan(35.0, 154.001));
        assert_false(geo_in_japan(37.5665, 126.978 - 5));  /* west of the box */
        assert_false(geo_in_japan(0.0, 0.0));
        assert_false(geo_in_japan(NAN, 139.0));
}

static void test_valid(void **state)
{
        assert_true(geo_valid(-90, -180));
        assert_true(geo_valid(90, 180));
        assert_false(geo_valid(90.0001, 0));
        assert_false(geo_valid(0, -180.0001));
        assert_false(geo_valid(NAN, 0));
        assert_false(geo_valid(0, INFINITY));
}

static void test_e6_rounding(void **state)
{
        assert_int_equal(geo_to_e6(35.681236), 35681236);
        assert_int_equal(geo_to_e6(-0.0000005), -1);     /* half away from zero */
        assert_int_equal(geo_to_e6(139.7671254), 139767125);
        assert_true(fabs(geo_from_e6(35681236) - 35.681236) < 1e-12);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_distance_zero_and_symmetric),
                cmocka_unit_test(test_distance_known_values),
                cmocka_unit_test(test_bbox_latitude_span),
                cmocka_unit_test(test_bbox_holds_the_circle),
                cmocka_unit_test(test_bbox_pole_and_zero),
                cmocka_unit_test(test_japan_bounds),
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_e6_rounding),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
