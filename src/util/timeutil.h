/*
 * timeutil.h - clocks and RFC 3339 text.
 *
 * Inside enemane every instant is int64 microseconds (or seconds where the
 * name says so) since the Unix epoch, UTC. Outside, the API writes RFC 3339
 * with the display zone's offset (Asia/Tokyo, +09:00: Japan has had no
 * daylight saving time since 1951, so a fixed offset is exact) and reads
 * RFC 3339 with any offset.
 */
#ifndef ENEMANE_UTIL_TIMEUTIL_H
#define ENEMANE_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define TIME_DISPLAY_OFFSET_S (9 * 3600)        /* Asia/Tokyo */
#define TIME_RFC3339_MAX 40

int64_t time_now_us(void);      /* wall clock, UTC */
int64_t time_now_s(void);
int64_t time_mono_us(void);     /* monotonic, for durations */

#ifdef ENEMANE_TEST_CLOCK
/* Test builds only (meson -Dtest_clock=true): shift the wall clock of the
 * whole process by offset_s seconds, so time-driven transitions can be
 * tested without waiting. Release builds do not have these. */
void time_test_set_offset(int64_t offset_s);
int64_t time_test_offset(void);
#endif

/* "2026-11-22T11:05:12+09:00" (seconds precision) into out. */
void time_format_rfc3339(int64_t unix_s, char out[TIME_RFC3339_MAX]);
/* "2026-11-22T02:05:12.123Z" (UTC, milliseconds) for logs. */
void time_format_log(int64_t unix_us, char out[TIME_RFC3339_MAX]);
/* Parses RFC 3339 with 'Z' or +hh:mm/-hh:mm, optional fraction (dropped).
 * 0 or -EINVAL. */
int time_parse_rfc3339(const char *s, int64_t *unix_s);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
void time_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
