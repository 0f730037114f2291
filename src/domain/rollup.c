/*
 * rollup.c - hour, day and month aggregates of a series (see rollup.h):
 * bucket arithmetic (UTC hours; Asia/Tokyo days and months at the fixed
 * +09:00 offset), counter increases with wrap and reset, aggregation of raw
 * points into hour cells, and merging and coarsening of cells.
 */
#include "domain/rollup.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

#define HOUR_S 3600
#define DAY_S 86400

/* Floor division for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Start of the Tokyo month holding Tokyo local day number 'days'. */
static int64_t month_start_of_local_day(int64_t days)
{
        int64_t y;
        unsigned m, d;

        time_civil_from_days(days, &y, &m, &d);
        return time_days_from_civil(y, m, 1) * DAY_S - TIME_DISPLAY_OFFSET_S;
}

int64_t rollup_bucket(enum rollup_res r, int64_t unix_s)
{
        int64_t local_days = floor_div(unix_s + TIME_DISPLAY_OFFSET_S, DAY_S);

        switch (r) {
        case RU_DAY:
                return local_days * DAY_S - TIME_DISPLAY_OFFSET_S;
        case RU_MONTH:
                return month_start_of_local_day(local_days);
        case RU_HOUR:
        default:
                return floor_div(unix_s, HOUR_S) * HOUR_S;
        }
}

int64_t rollup_next(enum rollup_res r, int64_t bucket)
{
        int64_t local_days, y;
        unsigned m, d;

        switch (r) {
        case RU_DAY:
                return bucket + DAY_S;
        case RU_MONTH:
                local_days = floor_div(bucket + TIME_DISPLAY_OFFSET_S, DAY_S);
                time_civil_from_days(local_days, &y, &m, &d);
                if (m == 12) {
                        y++;
                        m = 0;
                }
                return time_days_from_civil(y, m + 1, 1) * DAY_S - TIME_DISPLAY_OFFSET_S;
        case RU_HOUR:
        default:
                return bucket + HOUR_S;
        }
}

double rollup_counter_delta(double prev, double cur, double wrap)
{
        if (cur >= prev)
                return cur - prev;
        if (wrap > 0 && prev >= 0.9 * wrap)
                return (wrap - prev) + cur;
        return cur;
}

/* ---- hour cells --------------------------------------------------------- */

static int64_t hour_of_ms(int64_t ts_ms)
{
        return rollup_bucket(RU_HOUR, floor_div(ts_ms, 1000));
}

static void cell_start(struct rollup_cell *c, int64_t bucket, int64_t ts_ms, double v)
{
        memset(c, 0, sizeof(*c));
        c->bucket = bucket;
        c->min = v;
        c->max = v;
        c->first_ts = ts_ms;
        c->first = v;
}

static void cell_add(struct rollup_cell *c, int64_t ts_ms, double v, double increase)
{
        c->n++;
        c->min = v < c->min ? v : c->min;
        c->max = v > c->max ? v : c->max;
        c->sum += v;
        c->total += increase;
        c->last_ts = ts_ms;
        c->last = v;
}

/* Distinct hours of sorted points, or -EINVAL when not strictly increasing. */
static int64_t count_hours(const int64_t *ts_ms, size_t n)
{
        int64_t count = n > 0 ? 1 : 0;

        for (size_t i = 1; i < n; i++) {
                if (ts_ms[i] <= ts_ms[i - 1])
                        return -EINVAL;
                count += hour_of_ms(ts_ms[i]) != hour_of_ms(ts_ms[i - 1]);
        }
        return count;
}

/* The increase a counter point brings (0 for gauges and the first point
 * without a previous one). */
static double point_increase(enum energy_kind k, double wrap, bool have_prev, double prev_v,
                             double v)
{
        if (k != EK_COUNTER || !have_prev)
                return 0;
        return rollup_counter_delta(prev_v, v, wrap);
}

int rollup_hours(enum energy_kind k, double wrap, int have_prev, int64_t prev_ts_ms,
                 double prev_v, const int64_t *ts_ms, const double *v, size_t n,
                 struct rollup_cell **cells, size_t *n_cells)
{
        int64_t count = count_hours(ts_ms, n);
        struct rollup_cell *out, *c = NULL;
        bool prev = have_prev != 0;

        *cells = NULL;
        *n_cells = 0;
        if (count > 0 && prev && prev_ts_ms >= ts_ms[0])
                return -EINVAL;
        if (count <= 0)
                return (int)count;
        out = calloc((size_t)count, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int64_t hour = hour_of_ms(ts_ms[i]);

                if (!c || c->bucket != hour) {
                        c = c ? c + 1 : out;
                        cell_start(c, hour, ts_ms[i], v[i]);
                }
                cell_add(c, ts_ms[i], v[i], point_increase(k, wrap, prev, prev_v, v[i]));
                prev = true;
                prev_v = v[i];
        }
        *cells = out;
        *n_cells = (size_t)count;
        return 0;
}

void rollup_merge(struct rollup_cell *into, const struct rollup_cell *add)
{
        if (add->n == 0) {
                into->total += add->total;
                into->sum += add->sum;
                return;
        }
        if (into->n == 0) {
                double total = into->total, sum = into->sum;
                int64_t bucket = into->bucket;

                *into = *add;
                into->bucket = bucket;
                into->total += total;
                into->sum += sum;
                return;
        }
        into->n += add->n;
        into->min = add->min < into->min ? add->min : into->min;
        into->max = add->max > into->max ? add->max : into->max;
        into->sum += add->sum;
        into->total += add->total;
        if (add->first_ts < into->first_ts) {
                into->first_ts = add->first_ts;
                into->first = add->first;
        }
        if (add->last_ts > into->last_ts) {
                into->last_ts = add->last_ts;
                into->last = add->last;
        }
}

/* Distinct coarse buckets of sorted cells. */
static size_t count_coarse(enum rollup_res to, const struct rollup_cell *cells, size_t n)
{
        size_t count = n > 0 ? 1 : 0;

        for (size_t i = 1; i < n; i++) {
                count += rollup_bucket(to, cells[i].bucket) !=
                         rollup_bucket(to, cells[i - 1].bucket);
        }
        return count;
}

int rollup_coarsen(enum rollup_res to, const struct rollup_cell *cells, size_t n,
                   struct rollup_cell **out, size_t *n_out)
{
        size_t count = count_coarse(to, cells, n);
        struct rollup_cell *res, *c = NULL;

        *out = NULL;
        *n_out = 0;
        if (count == 0)
                return 0;
        res = calloc(count, sizeof(*res));
        if (!res)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int64_t b = rollup_bucket(to, cells[i].bucket);

                if (!c || c->bucket != b) {
                        c = c ? c + 1 : res;
                        *c = cells[i];
                        c->bucket = b;
                        continue;
                }
                rollup_merge(c, &cells[i]);
        }
        *out = res;
        *n_out = count;
        return 0;
}
