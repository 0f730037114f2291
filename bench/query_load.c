/*
 * query_load.c - load generator for bench/query.sh: the household's year
 * and day views over a year of 1-minute data of one home (issue 6).
 *
 * Two commands:
 *
 *   query_load load --url URL --code DEVICE_CODE --secret SECRET --start UNIX_S
 *                   [--channels 40] [--days 365] [--seed 7] [--conns 4]
 *
 *     Writes CHANNELS x DAYS x 1,440 points of 1-minute data from START
 *     through enemane's line protocol endpoint (POST /write?db=home&
 *     precision=s, Basic auth with the gateway's device code and secret), one
 *     body per channel and day (1,440 lines), on CONNS keep-alive
 *     connections: connection k owns the channels c with c % CONNS == k and
 *     sends them day after day, so every series arrives in time order. The
 *     channels and values are those of bench/ingest_load.c (same generator:
 *     power gauges, energy counters, soc, gas, water, with ECHONET Lite
 *     tags); every answer must be 204.
 *
 *   query_load run --url URL --token MEMBER_TOKEN --home ID
 *                  --year-from T --year-to T --day-from T --day-to T
 *                  [--views 200] [--warmup 5] [--year-buckets 12]
 *                  [--day-buckets 24] [--year-points N] [--day-points N] [--summary]
 *
 *     Lists the home's series (GET /api/v1/homes/{id}/series), then, from
 *     one client on one keep-alive connection, alternately WARMUP + VIEWS
 *     times each:
 *       year view: GET /api/v1/homes/{id}/series/{sid}/data?resolution=month
 *                  &from=YEAR_FROM&to=YEAR_TO for every series in turn;
 *       day view:  the same with resolution=hour, DAY_FROM, DAY_TO.
 *     Every answer must be 200 with a `buckets` array of YEAR_BUCKETS
 *     (DAY_BUCKETS) elements (0: any length) whose `n` add up to
 *     YEAR_POINTS (DAY_POINTS; 0: not checked), so every stored minute is
 *     counted once. The latency of a view is the
 *     sum of its requests' latencies (time in libcurl, from sending the
 *     request to the last byte of the answer; the client's JSON check is
 *     not counted). With --summary also GET /api/v1/homes/{id}/summary?
 *     period=month over the year (one request per view), reported on its
 *     own line when the server answers 200 (skipped otherwise).
 *
 * Output of run, one line per view:
 *   query_load: year view (<n> requests, resolution=month): <views> views, view
 *   p50 <ms> ms p99 <ms> ms, request p50 <ms> ms p99 <ms> ms, <bytes> bytes/view
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "load_common.h"

#define LOAD_MAX_CHANNELS       200
#define LOAD_MAX_CONNS          64
#define LOAD_MAX_SERIES         1000

/* ---- load ------------------------------------------------------------------------------------ */

struct load_config {
        const char *url, *code, *secret;
        int channels, days, conns;
        int64_t start;
        uint64_t seed;
};

struct load_ctx {
        const struct load_config *cfg;
        const struct chan *chans;
        char url[1024];
        char auth[400];
        atomic_bool failed;
        atomic_llong points, bytes, bodies;
        pthread_mutex_t lock;
        char err[4096];
};

struct load_worker {
        struct load_ctx *x;
        int index;
};

static void load_fail(struct load_ctx *x, const char *msg)
{
        pthread_mutex_lock(&x->lock);
        if (!atomic_load(&x->failed))
                snprintf(x->err, sizeof(x->err), "%s", msg);
        atomic_store(&x->failed, true);
        pthread_mutex_unlock(&x->lock);
}

/* Channel c's day d (1,440 lines) into b, continuing its generator g. */
static void load_day_body(const struct load_config *cfg, const struct chan *ch, struct gen *g,
                          int d, struct lbuf *b)
{
        int64_t t = cfg->start + (int64_t)d * 86400;

        b->len = 0;
        for (int m = 0; m < 1440; m++, t += 60) {
                lbuf_str(b, ch->tags);
                lbuf_add(b, " value=", 7);
                lbuf_value(b, gen_step(g, ch), ch->scale);
                if (ch->scale == 1)
                        lbuf_add(b, "i", 1);
                lbuf_add(b, " ", 1);
                lbuf_int(b, t);
                lbuf_add(b, "\n", 1);
        }
}

static void *load_main(void *arg)
{
        struct load_worker *w = arg;
        struct load_ctx *x = w->x;
        const struct load_config *cfg = x->cfg;
        struct gen *gens = calloc((size_t)cfg->channels, sizeof(*gens));
        struct lbuf body = { 0 };
        struct load_conn conn;
        struct curl_slist *h = NULL;
        char err[4096];

        if (!gens || load_conn_init(&conn) < 0) {
                load_fail(x, "out of memory");
                free(gens);
                return NULL;
        }
        h = curl_slist_append(h, "Content-Type: text/plain; charset=utf-8");
        h = curl_slist_append(h, "Expect:");
        h = curl_slist_append(h, x->auth);
        for (int c = w->index; c < cfg->channels; c += cfg->conns)
                gen_init(&gens[c], &x->chans[c], cfg->seed, 0, c);
        for (int d = 0; d < cfg->days && !atomic_load(&x->failed); d++) {
                for (int c = w->index; c < cfg->channels; c += cfg->conns) {
                        load_day_body(cfg, &x->chans[c], &gens[c], d, &body);
                        if (load_post(&conn, x->url, h, body.p, body.len, err, sizeof(err)) < 0) {
                                load_fail(x, err);
                                break;
                        }
                        if (conn.status != 204) {
                                snprintf(err, sizeof(err), "POST /write (channel %s, day %d): "
                                         "expected 204, got %ld %.1500s", x->chans[c].name, d,
                                         conn.status, conn.buf ? conn.buf : "");
                                load_fail(x, err);
                                break;
                        }
                        atomic_fetch_add(&x->points, 1440);
                        atomic_fetch_add(&x->bytes, (long long)body.len);
                        atomic_fetch_add(&x->bodies, 1);
                }
                if (w->index == 0 && (d + 1) % 73 == 0)
                        fprintf(stderr, "query_load: day %d of %d loaded\n", d + 1, cfg->days);
        }
        curl_slist_free_all(h);
        load_conn_free(&conn);
        free(body.p);
        free(gens);
        return NULL;
}

static int load_usage(void)
{
        fprintf(stderr, "usage: query_load load --url URL --code DEVICE_CODE --secret SECRET "
                "--start UNIX_S [--channels 40] [--days 365] [--seed 7] [--conns 4]\n");
        return 2;
}

static int cmd_load(int argc, char **argv)
{
        struct load_config cfg = { .channels = 40, .days = 365, .conns = 4, .seed = 7,
                                   .start = -1 };
        static struct load_ctx x;
        struct chan chans[LOAD_MAX_CHANNELS];
        struct load_worker ws[LOAD_MAX_CONNS];
        pthread_t th[LOAD_MAX_CONNS];
        int64_t t0;
        double secs;

        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        return load_usage();
                if (strcmp(a, "--url") == 0)
                        cfg.url = v;
                else if (strcmp(a, "--code") == 0)
                        cfg.code = v;
                else if (strcmp(a, "--secret") == 0)
                        cfg.secret = v;
                else if (strcmp(a, "--start") == 0)
                        cfg.start = strtoll(v, NULL, 10);
                else if (strcmp(a, "--channels") == 0)
                        cfg.channels = atoi(v);
                else if (strcmp(a, "--days") == 0)
                        cfg.days = atoi(v);
                else if (strcmp(a, "--seed") == 0)
                        cfg.seed = strtoull(v, NULL, 10);
                else if (strcmp(a, "--conns") == 0)
                        cfg.conns = atoi(v);
                else
                        return load_usage();
        }
        if (!cfg.url || !cfg.code || !cfg.secret || cfg.start < 0 || cfg.channels < 4 ||
            cfg.channels > LOAD_MAX_CHANNELS || cfg.days < 1 || cfg.conns < 1 ||
            cfg.conns > LOAD_MAX_CONNS)
                return load_usage();
        for (int c = 0; c < cfg.channels; c++)
                chan_define(&chans[c], c, cfg.channels);
        x.cfg = &cfg;
        x.chans = chans;
        snprintf(x.url, sizeof(x.url), "%s/write?db=home&precision=s", cfg.url);
        basic_header(cfg.code, cfg.secret, x.auth, sizeof(x.auth));
        pthread_mutex_init(&x.lock, NULL);
        t0 = load_now_ns();
        for (int i = 0; i < cfg.conns; i++) {
                ws[i] = (struct load_worker){ &x, i };
                pthread_create(&th[i], NULL, load_main, &ws[i]);
        }
        for (int i = 0; i < cfg.conns; i++)
                pthread_join(th[i], NULL);
        secs = (double)(load_now_ns() - t0) / 1e9;
        pthread_mutex_destroy(&x.lock);
        if (atomic_load(&x.failed)) {
                fprintf(stderr, "query_load: first error: %s\n", x.err);
                return 1;
        }
        printf("query_load: loaded %lld points (%d channels x %d days x 1440) in %lld bodies "
               "(%.0f MB) in %.1f s = %.0f points/s, %d connections\n",
               (long long)atomic_load(&x.points), cfg.channels, cfg.days,
               (long long)atomic_load(&x.bodies), (double)atomic_load(&x.bytes) / 1e6, secs,
               (double)atomic_load(&x.points) / secs, cfg.conns);
        return 0;
}

/* ---- run ------------------------------------------------------------------------------------- */

struct run_config {
        const char *url, *token;
        int64_t home;
        const char *year_from, *year_to, *day_from, *day_to;
        int views, warmup, year_buckets, day_buckets;
        int64_t year_points, day_points;
        bool summary;
};

/* The latencies of one kind of view. */
struct run_view {
        const char *name;
        const char *what;               /* "resolution=month", ... */
        char **urls;                    /* one per request of a view */
        int nurls;
        int buckets;                    /* expected buckets per answer, 0: any */
        int64_t points;                 /* expected sum of the buckets' n, 0: any */
        uint32_t *view_us, *req_us;
        int nviews;
        size_t nreq;
        long long bytes;                /* of the last view */
        int nseries;                    /* one request for all series (/data): how many */
};

static int cmp_u32(const void *a, const void *b)
{
        uint32_t p = *(const uint32_t *)a, q = *(const uint32_t *)b;

        return (p > q) - (p < q);
}

static double quantile_ms(uint32_t *v, size_t n, double q)
{
        size_t k;

        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), cmp_u32);
        k = (size_t)((double)n * q);
        if (k >= n)
                k = n - 1;
        return v[k] / 1000.0;
}

/* The series ids of the answer to GET /homes/{id}/series ({items:[...]} or
 * [...]; each item's series_id or id). */
static int run_series_ids(const char *body, int64_t *ids, int max)
{
        json_t *j = json_loads(body, 0, NULL), *arr, *it;
        size_t i;
        int n = 0;

        if (!j)
                return -EINVAL;
        arr = json_is_array(j) ? j : json_object_get(j, "items");
        if (!json_is_array(arr)) {
                arr = json_object_get(j, "series");
                if (!json_is_array(arr)) {
                        json_decref(j);
                        return -EINVAL;
                }
        }
        json_array_foreach(arr, i, it) {
                json_t *id = json_object_get(it, "series_id");

                if (!id)
                        id = json_object_get(it, "id");
                if (!json_is_integer(id) || n >= max)
                        continue;
                ids[n++] = (int64_t)json_integer_value(id);
        }
        json_decref(j);
        return n;
}

/* The sum of the buckets' n (points). */
static int64_t buckets_points(json_t *arr)
{
        int64_t n = 0;
        json_t *it;
        size_t i;

        json_array_foreach(arr, i, it)
                n += (int64_t)json_integer_value(json_object_get(it, "n"));
        return n;
}

/* Checks one answer of v: the buckets of one series, the summary's items,
 * or (v->nseries > 0) every series' buckets of GET /homes/{id}/data. */
static bool run_answer_ok(const struct run_view *v, json_t *j)
{
        json_t *arr, *it;
        size_t i;

        if (v->nseries <= 0) {
                arr = json_object_get(j, v->buckets >= 0 ? "buckets" : "items");
                return json_is_array(arr) &&
                       (v->buckets <= 0 || json_array_size(arr) == (size_t)v->buckets) &&
                       (v->points <= 0 || buckets_points(arr) == v->points);
        }
        arr = json_object_get(j, "series");
        if (!json_is_array(arr) || json_array_size(arr) != (size_t)v->nseries)
                return false;
        json_array_foreach(arr, i, it) {
                json_t *b = json_object_get(it, "buckets");

                if (!json_is_array(b) || json_array_size(b) != (size_t)v->buckets ||
                    (v->points > 0 && buckets_points(b) != v->points))
                        return false;
        }
        return true;
}

/* One view: every request of v in turn. 0, or -1 with err set. */
static int run_one_view(struct load_conn *conn, struct curl_slist *h, struct run_view *v,
                        bool record, char *err, size_t errlen)
{
        uint64_t total = 0;
        long long bytes = 0;

        for (int i = 0; i < v->nurls; i++) {
                double secs = 0;
                json_t *j;
                bool ok;

                if (load_get(conn, v->urls[i], h, err, errlen) < 0)
                        return -1;
                curl_easy_getinfo(conn->curl, CURLINFO_TOTAL_TIME, &secs);
                j = json_loads(conn->buf ? conn->buf : "", 0, NULL);
                ok = conn->status == 200 && j && run_answer_ok(v, j);
                json_decref(j);
                if (!ok) {
                        snprintf(err, errlen, "GET %s: expected 200 with %d %s holding %" PRId64
                                 " points, got %ld %.1500s", v->urls[i], v->buckets,
                                 v->buckets >= 0 ? "buckets" : "items", v->points, conn->status,
                                 conn->buf ? conn->buf : "");
                        return -1;
                }
                bytes += (long long)conn->len;
                if (record)
                        v->req_us[v->nreq++] = (uint32_t)(secs * 1e6);
                total += (uint64_t)(secs * 1e6);
        }
        v->bytes = bytes;
        if (record)
                v->view_us[v->nviews++] = (uint32_t)total;
        return 0;
}

static void run_report(struct run_view *v)
{
        double vp50, vp99, rp50, rp99;

        if (v->nviews == 0)
                return;
        vp50 = quantile_ms(v->view_us, (size_t)v->nviews, 0.50);
        vp99 = quantile_ms(v->view_us, (size_t)v->nviews, 0.99);
        rp50 = quantile_ms(v->req_us, v->nreq, 0.50);
        rp99 = quantile_ms(v->req_us, v->nreq, 0.99);
        printf("query_load: %s view (%d requests, %s): %d views, view p50 %.2f ms p99 %.2f ms, "
               "request p50 %.2f ms p99 %.2f ms, %lld bytes/view\n", v->name, v->nurls, v->what,
               v->nviews, vp50, vp99, rp50, rp99, v->bytes);
}

static int run_usage(void)
{
        fprintf(stderr, "usage: query_load run --url URL --token MEMBER_TOKEN --home ID "
                "--year-from T --year-to T --day-from T --day-to T [--views 200] [--warmup 5] "
                "[--year-buckets 12] [--day-buckets 24] [--year-points N] [--day-points N] "
                "[--summary]\n");
        return 2;
}

static int run_parse(int argc, char **argv, struct run_config *cfg)
{
        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--summary") == 0) {
                        cfg->summary = true;
                        i--;
                        continue;
                }
                if (!v)
                        return -EINVAL;
                if (strcmp(a, "--url") == 0)
                        cfg->url = v;
                else if (strcmp(a, "--token") == 0)
                        cfg->token = v;
                else if (strcmp(a, "--home") == 0)
                        cfg->home = strtoll(v, NULL, 10);
                else if (strcmp(a, "--year-from") == 0)
                        cfg->year_from = v;
                else if (strcmp(a, "--year-to") == 0)
                        cfg->year_to = v;
                else if (strcmp(a, "--day-from") == 0)
                        cfg->day_from = v;
                else if (strcmp(a, "--day-to") == 0)
                        cfg->day_to = v;
                else if (strcmp(a, "--views") == 0)
                        cfg->views = atoi(v);
                else if (strcmp(a, "--warmup") == 0)
                        cfg->warmup = atoi(v);
                else if (strcmp(a, "--year-buckets") == 0)
                        cfg->year_buckets = atoi(v);
                else if (strcmp(a, "--day-buckets") == 0)
                        cfg->day_buckets = atoi(v);
                else if (strcmp(a, "--year-points") == 0)
                        cfg->year_points = strtoll(v, NULL, 10);
                else if (strcmp(a, "--day-points") == 0)
                        cfg->day_points = strtoll(v, NULL, 10);
                else
                        return -EINVAL;
        }
        if (!cfg->url || !cfg->token || cfg->home <= 0 || !cfg->year_from || !cfg->year_to ||
            !cfg->day_from || !cfg->day_to || cfg->views < 1 || cfg->warmup < 0)
                return -EINVAL;
        return 0;
}

/* The URLs of a view: one per series (sids), or the summary when n_sids is 0. */
static void run_view_init(struct run_view *v, const struct run_config *cfg, CURL *esc,
                          const int64_t *sids, int n, const char *res, const char *from,
                          const char *to)
{
        char *f = curl_easy_escape(esc, from, 0), *t = curl_easy_escape(esc, to, 0);
        char url[2048];

        v->nurls = n > 0 ? n : 1;
        v->urls = calloc((size_t)v->nurls, sizeof(*v->urls));
        for (int i = 0; i < v->nurls; i++) {
                if (v->nseries > 0)
                        snprintf(url, sizeof(url), "%s/api/v1/homes/%" PRId64 "/data?"
                                 "resolution=%s&from=%s&to=%s", cfg->url, cfg->home, res, f, t);
                else if (n > 0)
                        snprintf(url, sizeof(url), "%s/api/v1/homes/%" PRId64 "/series/%" PRId64
                                 "/data?resolution=%s&from=%s&to=%s", cfg->url, cfg->home,
                                 sids[i], res, f, t);
                else
                        snprintf(url, sizeof(url), "%s/api/v1/homes/%" PRId64 "/summary?"
                                 "period=%s&from=%s&to=%s", cfg->url, cfg->home, res, f, t);
                v->urls[i] = strdup(url);
        }
        v->view_us = calloc((size_t)cfg->views, sizeof(uint32_t));
        v->req_us = calloc((size_t)cfg->views * (size_t)v->nurls, sizeof(uint32_t));
        curl_free(f);
        curl_free(t);
}

static void run_view_free(struct run_view *v)
{
        for (int i = 0; i < v->nurls; i++)
                free(v->urls[i]);
        free(v->urls);
        free(v->view_us);
        free(v->req_us);
}

static int cmd_run(int argc, char **argv)
{
        struct run_config cfg = { .views = 200, .warmup = 5, .year_buckets = 12,
                                  .day_buckets = 24 };
        struct run_view year = { .name = "year", .what = "resolution=month" };
        struct run_view day = { .name = "day", .what = "resolution=hour" };
        struct run_view sum = { .name = "summary year", .what = "period=month",
                                .buckets = -1 };
        struct run_view year1 = { .name = "year (one request)", .what = "/data resolution=month" };
        struct run_view day1 = { .name = "day (one request)", .what = "/data resolution=hour" };
        static int64_t sids[LOAD_MAX_SERIES];
        struct load_conn conn;
        struct curl_slist *h = NULL;
        char line[512], url[1024], err[4096];
        int n, rc = 1;
        bool with_summary;

        if (run_parse(argc, argv, &cfg) < 0)
                return run_usage();
        if (load_conn_init(&conn) < 0)
                return 1;
        snprintf(line, sizeof(line), "Authorization: Bearer %s", cfg.token);
        h = curl_slist_append(h, line);
        snprintf(url, sizeof(url), "%s/api/v1/homes/%" PRId64 "/series", cfg.url, cfg.home);
        if (load_get(&conn, url, h, err, sizeof(err)) < 0 || conn.status != 200) {
                fprintf(stderr, "query_load: GET %s: %ld %.1500s\n", url, conn.status,
                        conn.buf ? conn.buf : err);
                goto out0;
        }
        n = run_series_ids(conn.buf ? conn.buf : "", sids, LOAD_MAX_SERIES);
        if (n <= 0) {
                fprintf(stderr, "query_load: GET %s: no series ids in %.1500s\n", url,
                        conn.buf ? conn.buf : "");
                goto out0;
        }
        year.buckets = cfg.year_buckets;
        day.buckets = cfg.day_buckets;
        year.points = cfg.year_points;
        day.points = cfg.day_points;
        run_view_init(&year, &cfg, conn.curl, sids, n, "month", cfg.year_from, cfg.year_to);
        run_view_init(&day, &cfg, conn.curl, sids, n, "hour", cfg.day_from, cfg.day_to);
        run_view_init(&sum, &cfg, conn.curl, NULL, 0, "month", cfg.year_from, cfg.year_to);
        year1.buckets = cfg.year_buckets;
        day1.buckets = cfg.day_buckets;
        year1.points = cfg.year_points;
        day1.points = cfg.day_points;
        year1.nseries = n;
        day1.nseries = n;
        run_view_init(&year1, &cfg, conn.curl, NULL, 0, "month", cfg.year_from, cfg.year_to);
        run_view_init(&day1, &cfg, conn.curl, NULL, 0, "hour", cfg.day_from, cfg.day_to);
        printf("query_load: home %" PRId64 ": %d series; %d views of each kind after %d warm-up "
               "views, one client, one keep-alive connection\n", cfg.home, n, cfg.views,
               cfg.warmup);
        with_summary = cfg.summary;
        for (int i = 0; i < cfg.warmup + cfg.views; i++) {
                bool rec = i >= cfg.warmup;

                if (run_one_view(&conn, h, &year, rec, err, sizeof(err)) < 0 ||
                    run_one_view(&conn, h, &day, rec, err, sizeof(err)) < 0 ||
                    run_one_view(&conn, h, &year1, rec, err, sizeof(err)) < 0 ||
                    run_one_view(&conn, h, &day1, rec, err, sizeof(err)) < 0) {
                        fprintf(stderr, "query_load: %s\n", err);
                        goto out;
                }
                if (with_summary && run_one_view(&conn, h, &sum, rec, err, sizeof(err)) < 0) {
                        fprintf(stderr, "query_load: summary skipped: %s\n", err);
                        with_summary = false;
                        sum.nviews = 0;
                }
        }
        run_report(&year);
        run_report(&day);
        run_report(&year1);
        run_report(&day1);
        if (with_summary)
                run_report(&sum);
        rc = 0;
out:
        run_view_free(&year);
        run_view_free(&day);
        run_view_free(&year1);
        run_view_free(&day1);
        run_view_free(&sum);
out0:
        curl_slist_free_all(h);
        load_conn_free(&conn);
        return rc;
}

int main(int argc, char **argv)
{
        int rc;

        if (argc < 2) {
                fprintf(stderr, "usage: query_load load|run ...\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        if (strcmp(argv[1], "load") == 0) {
                rc = cmd_load(argc, argv);
        } else if (strcmp(argv[1], "run") == 0) {
                rc = cmd_run(argc, argv);
        } else {
                fprintf(stderr, "usage: query_load load|run ...\n");
                rc = 2;
        }
        curl_global_cleanup();
        return rc;
}
