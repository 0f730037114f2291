/*
 * rollup.h - hourly, daily and monthly aggregates of a series (HE-7, HE-16).
 * Hours are UTC hours (equal to Asia/Tokyo hours); days and months are
 * Asia/Tokyo days and months. Gauges (power, state of charge) keep
 * count/min/max/sum; counters (energy, gas, water) keep the increase within
 * the bucket, from consecutive differences with reset and wrap handling:
 * the increase between two points belongs to the bucket of the later one.
 */
#ifndef ENEMANE_DOMAIN_ROLLUP_H
#define ENEMANE_DOMAIN_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "domain/ingest.h"

enum rollup_res { RU_HOUR = 0, RU_DAY = 1, RU_MONTH = 2 };

/* Start (unix s) of the bucket holding unix_s; start of the next one. */
int64_t rollup_bucket(enum rollup_res r, int64_t unix_s);
int64_t rollup_next(enum rollup_res r, int64_t bucket);

struct rollup_cell {
        int64_t bucket;         /* unix s */
        int64_t n;              /* points */
        double min, max, sum;   /* gauge statistics (also kept for counters) */
        double total;           /* counter: increase within the bucket */
        int64_t first_ts, last_ts;      /* unix ms */
        double first, last;
};

/* Increase of a counter from prev to cur: cur - prev when not negative;
 * below prev it wrapped when wrap > 0 and prev >= 0.9 * wrap
 * ((wrap - prev) + cur), else it was reset (cur). */
double rollup_counter_delta(double prev, double cur, double wrap);

/* Aggregates n points sorted by strictly increasing ts into hour cells
 * (array malloc'd for the caller, sorted). For counters, have_prev says
 * (prev_ts_ms, prev_v) is the point just before ts_ms[0]. 0, -EINVAL (times
 * not strictly increasing, or prev_ts_ms not before ts_ms[0]) or -ENOMEM. */
int rollup_hours(enum energy_kind k, double wrap, int have_prev, int64_t prev_ts_ms,
                 double prev_v, const int64_t *ts_ms, const double *v, size_t n,
                 struct rollup_cell **cells, size_t *n_cells);
/* Adds 'add' (same bucket, later or earlier points) into 'into'. */
void rollup_merge(struct rollup_cell *into, const struct rollup_cell *add);
/* Re-buckets cells of a finer resolution into 'to' (cells sorted; out sorted,
 * malloc'd). 0 or -ENOMEM. */
int rollup_coarsen(enum rollup_res to, const struct rollup_cell *cells, size_t n,
                   struct rollup_cell **out, size_t *n_out);

#endif
