/*
 * test_tschunk.c - unit tests of the chunk codec in domain/tschunk.c (HE-7
 * compact storage): exact round trips (bit patterns of doubles, extreme
 * timestamps), the size of typical meter data, a property test over many
 * random series (fixed seed), and hostile input: truncations, flipped bits
 * and random bytes must give -EINVAL or a consistent decode, never a crash,
 * an out-of-bounds read or an allocation beyond the blob's length bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/tschunk.h"

/* ---- helpers --------------------------------------------------------- */

/* 2025-12-03 10:00 Tokyo (01:00 UTC), on the hour. */
#define T0 1764723600000LL
#define MINUTE 60000LL

static uint64_t rng_state = 0x5eed0001u;

/* splitmix64: a small deterministic generator for the fixed-seed tests. */
static uint64_t rnd(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

/* Uniform integer in [lo, hi]. */
static int64_t rnd_in(int64_t lo, int64_t hi)
{
        return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static uint64_t bits_of(double d)
{
        uint64_t u;

        memcpy(&u, &d, sizeof(u));
        return u;
}

static double from_bits(uint64_t u)
{
        double d;

        memcpy(&d, &u, sizeof(d));
        return d;
}

static void minute_times(int64_t *ts, size_t n)
{
        for (size_t i = 0; i < n; i++)
                ts[i] = T0 + (int64_t)i * MINUTE;
}

/* Integral watts, random walk of +-50 W per minute around 1500 W. */
static void power_walk(double *v, size_t n)
{
        double w = 1500;

        for (size_t i = 0; i < n; i++) {
                v[i] = w;
                w += (double)rnd_in(-50, 50);
                if (w < 0)
                        w = 0;
        }
}

/* Cumulative Wh counter increasing by 0..50 per minute. */
static void wh_counter(double *v, size_t n)
{
        double c = 12345678;

        for (size_t i = 0; i < n; i++) {
                v[i] = c;
                c += (double)rnd_in(0, 50);
        }
}

/* Random values with one decimal, like 1234.5 (the parser's doubles). */
static void one_decimal(double *v, size_t n)
{
        char text[32];

        for (size_t i = 0; i < n; i++) {
                snprintf(text, sizeof(text), "%lld.%lld", (long long)rnd_in(0, 4999),
                         (long long)rnd_in(0, 9));
                v[i] = strtod(text, NULL);
        }
}

/* Random doubles of full precision (XOR mode). */
static void full_doubles(double *v, size_t n)
{
        double x = 1500.0 + (double)(rnd() >> 11) / 9007199254740992.0;

        for (size_t i = 0; i < n; i++) {
                v[i] = x;
                x += ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) * 100.0;
        }
}

/* Encodes, decodes and checks the exact round trip; returns the size. */
static size_t round_trip(const int64_t *ts, const double *v, size_t n)
{
        uint8_t *blob = NULL;
        size_t len = 0, m = 0;
        int64_t *ts2 = NULL;
        double *v2 = NULL;

        assert_int_equal(tschunk_encode(ts, v, n, &blob, &len), 0);
        assert_non_null(blob);
        assert_int_equal(tschunk_count(blob, len), (int64_t)n);
        assert_int_equal(tschunk_decode(blob, len, &ts2, &v2, &m), 0);
        assert_int_equal(m, n);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(ts2[i], ts[i]);
                assert_int_equal(bits_of(v2[i]), bits_of(v[i]));
        }
        free(blob);
        free(ts2);
        free(v2);
        return len;
}

static size_t encoded_size(const int64_t *ts, const double *v, size_t n)
{
        return round_trip(ts, v, n);
}

/* ---- round trips ----------------------------------------------------- */

static void test_single_and_two_points(void **state)
{
        int64_t ts[2] = { T0, T0 + 1 };
        double v[2] = { 1234.5, -7 };

        round_trip(ts, v, 1);
        round_trip(ts, v, 2);
        v[0] = 0;
        round_trip(ts, v, 1);
}

static void test_doubles_keep_their_bit_patterns(void **state)
{
        int64_t ts[8];
        double v[8] = { -0.0, 0.0, -0.0, 1e-310, -1e308, 0.1, 1.0 / 3.0, 4503599627370496.0 };

        minute_times(ts, 8);
        round_trip(ts, v, 8);
        /* -0.0 alone, in an otherwise integral series */
        v[0] = 5;
        v[1] = -0.0;
        v[2] = 7;
        round_trip(ts, v, 3);
}

static void test_nan_and_infinity_do_not_crash(void **state)
{
        int64_t ts[6];
        double v[6] = { NAN, INFINITY, -INFINITY, 1, from_bits(0x7ff0000000000123ULL), -NAN };

        minute_times(ts, 6);
        round_trip(ts, v, 6);
}

static void test_integers_near_and_beyond_2_pow_52(void **state)
{
        int64_t ts[6];
        double big = 4503599627370495.0;        /* 2^52 - 1 */
        double v[6] = { big, -big, big, 0, -big, 4503599627370496.0 };

        minute_times(ts, 6);
        round_trip(ts, v, 5);   /* integer mode, maximal residuals */
        round_trip(ts, v, 6);   /* 2^52 itself: XOR mode */
}

static void test_decimal_scales(void **state)
{
        int64_t ts[5];
        double v1[5] = { 0.001, 12.345, -3.5, 1e-9, 99999.999999999 };
        double v2[5] = { 1.5, 2.25, 3.125, 0.0625, 0.03125 };

        minute_times(ts, 5);
        round_trip(ts, v1, 5);
        round_trip(ts, v2, 5);
}

static void test_extreme_and_irregular_timestamps(void **state)
{
        int64_t ts[7] = { INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX };
        double v[7] = { 1, 2, 3, 4, 5, 6, 7 };
        int64_t jitter[60];
        double pw[60];

        round_trip(ts, v, 7);
        for (size_t i = 0; i < 60; i++)
                jitter[i] = T0 + (int64_t)i * MINUTE + rnd_in(-900, 900);
        power_walk(pw, 60);
        round_trip(jitter, pw, 60);
}

static void test_encode_refuses_bad_input(void **state)
{
        int64_t ts[3] = { T0, T0, T0 + 1 };
        double v[3] = { 1, 2, 3 };
        uint8_t *blob = NULL;
        size_t len = 0;

        assert_int_equal(tschunk_encode(ts, v, 0, &blob, &len), -EINVAL);
        assert_int_equal(tschunk_encode(ts, v, 2, &blob, &len), -EINVAL);     /* equal ts */
        ts[1] = T0 - 1;
        assert_int_equal(tschunk_encode(ts, v, 2, &blob, &len), -EINVAL);     /* decreasing */
        assert_int_equal(tschunk_encode(ts, v, TSCHUNK_MAX_POINTS + 1, &blob, &len), -EINVAL);
        assert_int_equal(tschunk_encode(NULL, v, 1, &blob, &len), -EINVAL);
        assert_null(blob);
}

/* ---- HE-7 compact storage --------------------------------------------- */

static void test_HE_7_compact_power_60_points_under_2_bytes_per_point(void **state)
{
        int64_t ts[60];
        double v[60];
        size_t worst = 0;

        minute_times(ts, 60);
        for (int rep = 0; rep < 200; rep++) {
                size_t len;

                power_walk(v, 60);
                len = encoded_size(ts, v, 60);
                worst = len > worst ? len : worst;
        }
        assert_true(worst <= 120);
}

static void test_HE_7_compact_sizes_of_typical_series(void **state)
{
        static int64_t ts[1440];
        static double v[1440];
        size_t a, b, c, d, e, f;

        minute_times(ts, 1440);
        power_walk(v, 60);
        a = encoded_size(ts, v, 60);
        wh_counter(v, 60);
        b = encoded_size(ts, v, 60);
        one_decimal(v, 60);
        c = encoded_size(ts, v, 60);
        power_walk(v, 1440);
        d = encoded_size(ts, v, 1440);
        wh_counter(v, 1440);
        e = encoded_size(ts, v, 1440);
        full_doubles(v, 60);
        f = encoded_size(ts, v, 60);
        print_message("bytes/point: power60 %.2f Wh60 %.2f 1-decimal60 %.2f power1440 %.2f "
                      "Wh1440 %.2f full-doubles60 %.2f\n", a / 60.0, b / 60.0, c / 60.0,
                      d / 1440.0, e / 1440.0, f / 60.0);
        assert_true(a <= 120);
        assert_true(b <= 120);
        assert_true(c <= 4 * 60);
        assert_true(d <= 2 * 1440);
        assert_true(e <= 2 * 1440);
}

static void test_HE_7_constant_series_is_tiny(void **state)
{
        static int64_t ts[3600];
        static double v[3600];

        for (size_t i = 0; i < 3600; i++) {
                ts[i] = T0 + (int64_t)i * 1000;
                v[i] = 0;
        }
        assert_true(encoded_size(ts, v, 3600) <= 3600 / 8 + 32);
}

/* ---- property test ---------------------------------------------------- */

static void random_values(double *v, size_t n)
{
        switch (rnd() % 7) {
        case 0: power_walk(v, n); break;
        case 1: wh_counter(v, n); break;
        case 2: one_decimal(v, n); break;
        case 3: full_doubles(v, n); break;
        case 4:
                for (size_t i = 0; i < n; i++)
                        v[i] = from_bits(rnd());        /* any bit pattern, NaNs too */
                break;
        case 5:
                for (size_t i = 0; i < n; i++)
                        v[i] = (double)rnd_in(-4503599627370495LL, 4503599627370495LL);
                break;
        default:
                for (size_t i = 0; i < n; i++)
                        v[i] = (rnd() % 4 == 0) ? (double)rnd_in(-3, 3) : v[i > 0 ? i - 1 : 0];
                v[0] = 1;
                break;
        }
}

static void random_times(int64_t *ts, size_t n)
{
        uint64_t kind = rnd() % 4;
        int64_t t = (int64_t)(rnd() >> 2) - (INT64_C(1) << 61);

        for (size_t i = 0; i < n; i++) {
                ts[i] = t;
                if (kind == 0)
                        t += MINUTE;
                else if (kind == 1)
                        t += rnd_in(1, 3);
                else if (kind == 2)
                        t += 1000 + rnd_in(-999, 999) * (rnd() % 8 == 0);
                else
                        t += rnd_in(1, INT64_C(1) << 40);
        }
}

static void test_HE_7_round_trip_property_random_series(void **state)
{
        static int64_t ts[2000];
        static double v[2000];

        rng_state = 42;
        for (int iter = 0; iter < 3000; iter++) {
                size_t n = 1 + (size_t)(rnd() % (iter % 10 == 0 ? 2000 : 80));

                random_times(ts, n);
                random_values(v, n);
                round_trip(ts, v, n);
        }
}

/* ---- hostile input ---------------------------------------------------- */

/* Decodes arbitrary bytes: -EINVAL, or a consistent result. */
static void decode_any(const uint8_t *b, size_t len)
{
        int64_t *ts = NULL;
        double *v = NULL;
        size_t n = 99;
        int r = tschunk_decode(b, len, &ts, &v, &n);

        if (r < 0) {
                assert_int_equal(r, -EINVAL);
                assert_null(ts);
                assert_null(v);
                assert_int_equal(n, 0);
                return;
        }
        assert_true(n <= len * 8 + 2);
        assert_int_equal(tschunk_count(b, len), (int64_t)n);
        for (size_t i = 1; i < n; i++)
                assert_true(ts[i] > ts[i - 1]);
        free(ts);
        free(v);
}

/* A copy in a heap block of exactly len bytes, so ASan sees any overrun. */
static uint8_t *exact_copy(const uint8_t *b, size_t len)
{
        uint8_t *c = malloc(len ? len : 1);

        assert_non_null(c);
        memcpy(c, b, len);
        return c;
}

static void test_HE_7_truncated_blobs_are_refused(void **state)
{
        int64_t ts[60];
        double v[60];
        uint8_t *blob;
        size_t len;

        rng_state = 7;
        minute_times(ts, 60);
        for (int kind = 0; kind < 4; kind++) {
                if (kind == 0)
                        power_walk(v, 60);
                else if (kind == 1)
                        one_decimal(v, 60);
                else if (kind == 2)
                        full_doubles(v, 60);
                else
                        wh_counter(v, 60);
                assert_int_equal(tschunk_encode(ts, v, 60, &blob, &len), 0);
                for (size_t cut = 0; cut < len; cut++) {
                        uint8_t *c = exact_copy(blob, cut);
                        int64_t *t2 = NULL;
                        double *v2 = NULL;
                        size_t n2;

                        assert_int_equal(tschunk_decode(c, cut, &t2, &v2, &n2), -EINVAL);
                        free(c);
                }
                free(blob);
        }
}

static void test_HE_7_flipped_bits_and_random_bytes_never_crash(void **state)
{
        static int64_t ts[300];
        static double v[300];
        uint8_t *blob, *c;
        size_t len;

        rng_state = 99;
        for (int iter = 0; iter < 400; iter++) {
                size_t n = 1 + (size_t)(rnd() % 300);

                random_times(ts, n);
                random_values(v, n);
                assert_int_equal(tschunk_encode(ts, v, n, &blob, &len), 0);
                for (int k = 0; k < 20; k++) {
                        c = exact_copy(blob, len);
                        for (uint64_t f = 1 + rnd() % 3; f > 0; f--)
                                c[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
                        decode_any(c, len);
                        c[rnd() % len] = (uint8_t)rnd();
                        decode_any(c, (size_t)rnd_in(0, (int64_t)len));
                        free(c);
                }
                /* random tail after a valid header prefix */
                c = exact_copy(blob, len);
                for (size_t i = 2 + rnd() % 8; i < len; i++)
                        c[i] = (uint8_t)rnd();
                decode_any(c, len);
                free(c);
                free(blob);
        }
        for (int iter = 0; iter < 20000; iter++) {
                uint8_t buf[64];
                size_t l = (size_t)(rnd() % sizeof(buf));

                for (size_t i = 0; i < l; i++)
                        buf[i] = (uint8_t)rnd();
                if (l > 0 && rnd() % 2)
                        buf[0] = 0xE1;
                c = exact_copy(buf, l);
                decode_any(c, l);
                free(c);
        }
}

static void test_HE_7_huge_claimed_count_is_refused(void **state)
{
        /* 0xE1, varint 10^9, then 15 bytes that could be anything */
        uint8_t b[20] = { 0xE1, 0x80, 0x94, 0xeb, 0xdc, 0x03 };
        int64_t *ts = NULL;
        double *v = NULL;
        size_t n = 0;

        assert_int_equal(tschunk_decode(b, sizeof(b), &ts, &v, &n), -EINVAL);
        assert_int_equal(tschunk_count(b, sizeof(b)), -EINVAL);
        /* 2^64-1 and an over-long varint */
        memset(b + 1, 0xff, 10);
        b[10] = 0x01;
        assert_int_equal(tschunk_decode(b, sizeof(b), &ts, &v, &n), -EINVAL);
        b[10] = 0x7f;
        assert_int_equal(tschunk_count(b, sizeof(b)), -EINVAL);
}

static void test_trailing_bytes_and_bad_magic_are_refused(void **state)
{
        int64_t ts[10];
        double v[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
        uint8_t *blob, *c;
        size_t len, n;
        int64_t *t2;
        double *v2;

        minute_times(ts, 10);
        assert_int_equal(tschunk_encode(ts, v, 10, &blob, &len), 0);
        c = malloc(len + 1);
        memcpy(c, blob, len);
        c[len] = 0;
        assert_int_equal(tschunk_decode(c, len + 1, &t2, &v2, &n), -EINVAL);
        c[0] = 0xE2;
        assert_int_equal(tschunk_decode(c, len, &t2, &v2, &n), -EINVAL);
        assert_int_equal(tschunk_decode(NULL, 0, &t2, &v2, &n), -EINVAL);
        free(c);
        free(blob);
}

static void test_empty_blob_decodes_to_nothing(void **state)
{
        uint8_t b[2] = { 0xE1, 0 };
        int64_t *ts = (int64_t *)b;
        double *v = (double *)b;
        size_t n = 5;

        assert_int_equal(tschunk_decode(b, 2, &ts, &v, &n), 0);
        assert_null(ts);
        assert_null(v);
        assert_int_equal(n, 0);
        assert_int_equal(tschunk_count(b, 2), 0);
}

/* ---- speed ------------------------------------------------------------ */

static double now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void test_speed_60_points(void **state)
{
        int64_t ts[60];
        double v[60];
        const int reps = 20000;
        double t0, dt;

        minute_times(ts, 60);
        power_walk(v, 60);
        t0 = now_ns();
        for (int i = 0; i < reps; i++) {
                uint8_t *blob;
                size_t len, n;
                int64_t *t2;
                double *v2;

                assert_int_equal(tschunk_encode(ts, v, 60, &blob, &len), 0);
                assert_int_equal(tschunk_decode(blob, len, &t2, &v2, &n), 0);
                free(blob);
                free(t2);
                free(v2);
        }
        dt = (now_ns() - t0) / reps;
        print_message("encode+decode of 60 power points: %.0f ns\n", dt);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_single_and_two_points),
                cmocka_unit_test(test_doubles_keep_their_bit_patterns),
                cmocka_unit_test(test_nan_and_infinity_do_not_crash),
                cmocka_unit_test(test_integers_near_and_beyond_2_pow_52),
                cmocka_unit_test(test_decimal_scales),
                cmocka_unit_test(test_extreme_and_irregular_timestamps),
                cmocka_unit_test(test_encode_refuses_bad_input),
                cmocka_unit_test(test_HE_7_compact_power_60_points_under_2_bytes_per_point),
                cmocka_unit_test(test_HE_7_compact_sizes_of_typical_series),
                cmocka_unit_test(test_HE_7_constant_series_is_tiny),
                cmocka_unit_test(test_HE_7_round_trip_property_random_series),
                cmocka_unit_test(test_HE_7_truncated_blobs_are_refused),
                cmocka_unit_test(test_HE_7_flipped_bits_and_random_bytes_never_crash),
                cmocka_unit_test(test_HE_7_huge_claimed_count_is_refused),
                cmocka_unit_test(test_trailing_bytes_and_bad_magic_are_refused),
                cmocka_unit_test(test_empty_blob_decodes_to_nothing),
                cmocka_unit_test(test_speed_60_points),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
