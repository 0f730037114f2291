/*
 * timeutil.c - clocks and RFC 3339 formatting/parsing (see timeutil.h).
 * Calendar arithmetic is Howard Hinnant's civil-days algorithm, written
 * out here from its published description.
 */
#include "util/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef ENEMANE_TEST_CLOCK
/* Test builds only: seconds added to the wall clock (PUT /api/v1/_test/clock). */
static _Atomic int64_t time_offset_s;

void time_test_set_offset(int64_t offset_s)
{
        time_offset_s = offset_s;
}

int64_t time_test_offset(void)
{
        return time_offset_s;
}
#endif

int64_t time_now_us(void)
{
        struct timespec ts;
        int64_t us;

        clock_gettime(CLOCK_REALTIME, &ts);
        us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
#ifdef ENEMANE_TEST_CLOCK
        us += time_offset_s * 1000000;
#endif
        return us;
}

int64_t time_now_s(void)
{
        return time_now_us() / 1000000;
}

int64_t time_mono_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + (int64_t)doe - 719468;
}

void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;

        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void split(int64_t t, int64_t *days, int *hh, int *mm, int *ss)
{
        int64_t sec = t % 86400;

        *days = t / 86400;
        if (sec < 0) {
                sec += 86400;
                (*days)--;
        }
        *hh = (int)(sec / 3600);
        *mm = (int)(sec / 60 % 60);
        *ss = (int)(sec % 60);
}

void time_format_rfc3339(int64_t unix_s, char out[TIME_RFC3339_MAX])
{
        int64_t days, y;
        unsigned mo, d;
        int hh, mm, ss;

        split(unix_s + TIME_DISPLAY_OFFSET_S, &days, &hh, &mm, &ss);
        time_civil_from_days(days, &y, &mo, &d);
        snprintf(out, TIME_RFC3339_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d+%02d:%02d",
                 (long long)y, mo, d, hh, mm, ss,
                 TIME_DISPLAY_OFFSET_S / 3600, TIME_DISPLAY_OFFSET_S / 60 % 60);
}

void time_format_log(int64_t unix_us, char out[TIME_RFC3339_MAX])
{
        int64_t days, y, s = unix_us / 1000000;
        unsigned mo, d;
        int hh, mm, ss;
        int ms = (int)((unix_us % 1000000) / 1000);

        if (ms < 0) {
                ms += 1000;
                s--;
        }
        split(s, &days, &hh, &mm, &ss);
        time_civil_from_days(days, &y, &mo, &d);
        snprintf(out, TIME_RFC3339_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                 (long long)y, mo, d, hh, mm, ss, ms);
}

static int digits(const char *s, int n, int *out)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

static int days_in_month(int y, int m)
{
        static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 && leap ? 29 : dm[m - 1];
}

int time_parse_rfc3339(const char *s, int64_t *unix_s)
{
        int y, mo, d, hh, mi, ss, oh = 0, om = 0, sign = 1;
        const char *p;

        if (strlen(s) < 20)
                return -EINVAL;
        if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
            digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
            digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mi) ||
            s[16] != ':' || digits(s + 17, 2, &ss))
                return -EINVAL;
        if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || hh > 23 || mi > 59 ||
            ss > 60)
                return -EINVAL;
        if (ss == 60)
                ss = 59;        /* leap second: clamp, as Unix time does */
        p = s + 19;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
                    om > 59)
                        return -EINVAL;
                p += 6;
        } else {
                return -EINVAL;
        }
        if (*p)
                return -EINVAL;
        *unix_s = time_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + hh * 3600 +
                  mi * 60 + ss - sign * (oh * 3600 + om * 60);
        return 0;
}
