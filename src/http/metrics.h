/*
 * metrics.h - request counters and latency histogram for /metrics
 * (Prometheus text exposition format 0.0.4).
 *
 * Counters are per route (index into the route table, plus one slot for
 * "unmatched") and per status code class of a fixed list of codes, kept as
 * relaxed atomics so the event-loop thread can record without locks.
 * Gauges and database statistics are passed in at render time.
 */
#ifndef ENEMANE_HTTP_METRICS_H
#define ENEMANE_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct metrics;

/* route_names[n_routes]; the strings must outlive the metrics. */
struct metrics *metrics_new(const char *const *route_names, size_t n_routes);
void metrics_free(struct metrics *m);

/* route < 0 means no route matched. */
void metrics_observe(struct metrics *m, int route, int status, int64_t duration_us);

struct metrics_extra {
        int queue_depth;
        int draining;
        uint64_t commit_count;
        uint64_t commit_sum_us;
        const uint64_t *commit_bucket;          /* cumulative */
        const double *commit_bucket_le_s;
        size_t commit_buckets;
        uint64_t commit_batches;
        uint64_t commit_jobs;
};

int metrics_render(struct metrics *m, const struct metrics_extra *x, struct buf *out);

#endif
