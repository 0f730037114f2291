/*
 * metrics.c - Prometheus counters (see metrics.h).
 */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>

static const int tracked_status[] = {
        200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 409, 410,
        411, 413, 415, 416, 422, 429, 431, 500, 501, 503,
};
#define N_STATUS (sizeof(tracked_status) / sizeof(tracked_status[0]) + 1) /* + other */

static const double latency_le_s[] = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10,
};
#define N_LAT (sizeof(latency_le_s) / sizeof(latency_le_s[0]))

struct metrics {
        const char *const *names;
        size_t n_routes;                /* slots = n_routes + 1 (unmatched) */
        atomic_uint_fast64_t *count;    /* [slot][status] */
        atomic_uint_fast64_t lat_bucket[N_LAT];
        atomic_uint_fast64_t lat_count;
        atomic_uint_fast64_t lat_sum_us;
};

struct metrics *metrics_new(const char *const *route_names, size_t n_routes)
{
        struct metrics *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->names = route_names;
        m->n_routes = n_routes;
        m->count = calloc((n_routes + 1) * N_STATUS, sizeof(*m->count));
        if (!m->count) {
                free(m);
                return NULL;
        }
        return m;
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        free(m->count);
        free(m);
}

static size_t status_slot(int status)
{
        for (size_t i = 0; i < N_STATUS - 1; i++)
                if (tracked_status[i] == status)
                        return i;
        return N_STATUS - 1;
}

void metrics_observe(struct metrics *m, int route, int status, int64_t duration_us)
{
        size_t slot = route < 0 || (size_t)route >= m->n_routes ? m->n_routes : (size_t)route;
        double s = (double)duration_us / 1e6;

        atomic_fetch_add_explicit(&m->count[slot * N_STATUS + status_slot(status)], 1,
                                  memory_order_relaxed);
        for (size_t i = 0; i < N_LAT; i++) {
                if (s <= latency_le_s[i]) {
                        atomic_fetch_add_explicit(&m->lat_bucket[i], 1, memory_order_relaxed);
                        break;
                }
        }
        atomic_fetch_add_explicit(&m->lat_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->lat_sum_us, (uint64_t)(duration_us > 0 ? duration_us : 0),
                                  memory_order_relaxed);
}

static int render_requests(struct metrics *m, struct buf *out)
{
        int r = buf_puts(out, "# HELP enemane_http_requests_total HTTP requests answered, "
                              "by route and status.\n"
                              "# TYPE enemane_http_requests_total counter\n");

        for (size_t slot = 0; r == 0 && slot <= m->n_routes; slot++) {
                const char *name = slot < m->n_routes ? m->names[slot] : "unmatched";

                for (size_t st = 0; r == 0 && st < N_STATUS; st++) {
                        uint64_t v = atomic_load_explicit(&m->count[slot * N_STATUS + st],
                                                          memory_order_relaxed);

                        if (!v)
                                continue;
                        if (st < N_STATUS - 1)
                                r = buf_printf(out,
                                               "enemane_http_requests_total{route=\"%s\","
                                               "status=\"%d\"} %llu\n",
                                               name, tracked_status[st], (unsigned long long)v);
                        else
                                r = buf_printf(out,
                                               "enemane_http_requests_total{route=\"%s\","
                                               "status=\"other\"} %llu\n",
                                               name, (unsigned long long)v);
                }
        }
        return r;
}

static int render_latency(struct metrics *m, struct buf *out)
{
        uint64_t cum = 0;
        int r = buf_puts(out, "# HELP enemane_http_request_duration_seconds Time from request "
                              "headers to response written.\n"
                              "# TYPE enemane_http_request_duration_seconds histogram\n");

        for (size_t i = 0; r == 0 && i < N_LAT; i++) {
                cum += atomic_load_explicit(&m->lat_bucket[i], memory_order_relaxed);
                r = buf_printf(out, "enemane_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                               latency_le_s[i], (unsigned long long)cum);
        }
        if (r == 0)
                r = buf_printf(out,
                               "enemane_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                               "enemane_http_request_duration_seconds_sum %.6f\n"
                               "enemane_http_request_duration_seconds_count %llu\n",
                               (unsigned long long)atomic_load(&m->lat_count),
                               (double)atomic_load(&m->lat_sum_us) / 1e6,
                               (unsigned long long)atomic_load(&m->lat_count));
        return r;
}

static int render_extra(const struct metrics_extra *x, struct buf *out)
{
        int r = buf_printf(out,
                           "# HELP enemane_worker_queue_depth Requests waiting for a worker.\n"
                           "# TYPE enemane_worker_queue_depth gauge\n"
                           "enemane_worker_queue_depth %d\n"
                           "# HELP enemane_draining 1 while the server drains for shutdown.\n"
                           "# TYPE enemane_draining gauge\n"
                           "enemane_draining %d\n"
                           "# HELP enemane_db_commit_duration_seconds Group commit latency.\n"
                           "# TYPE enemane_db_commit_duration_seconds histogram\n",
                           x->queue_depth, x->draining);

        for (size_t i = 0; r == 0 && i < x->commit_buckets; i++)
                r = buf_printf(out, "enemane_db_commit_duration_seconds_bucket{le=\"%g\"} %llu\n",
                               x->commit_bucket_le_s[i], (unsigned long long)x->commit_bucket[i]);
        if (r == 0)
                r = buf_printf(out,
                               "enemane_db_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                               "enemane_db_commit_duration_seconds_sum %.6f\n"
                               "enemane_db_commit_duration_seconds_count %llu\n"
                               "# HELP enemane_db_write_jobs_total Write jobs committed.\n"
                               "# TYPE enemane_db_write_jobs_total counter\n"
                               "enemane_db_write_jobs_total %llu\n"
                               "# HELP enemane_db_commit_batches_total Group commits.\n"
                               "# TYPE enemane_db_commit_batches_total counter\n"
                               "enemane_db_commit_batches_total %llu\n",
                               (unsigned long long)x->commit_count,
                               (double)x->commit_sum_us / 1e6,
                               (unsigned long long)x->commit_count,
                               (unsigned long long)x->commit_jobs,
                               (unsigned long long)x->commit_batches);
        return r;
}

int metrics_render(struct metrics *m, const struct metrics_extra *x, struct buf *out)
{
        int r = render_requests(m, out);

        if (r == 0)
                r = render_latency(m, out);
        if (r == 0 && x)
                r = render_extra(x, out);
        return r;
}
