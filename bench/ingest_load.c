/*
 * ingest_load.c - load generator for bench/ingest.sh: durable measurement
 * ingest (issue 6) into enemane and, with the very same points, into
 * InfluxDB 1.x.
 *
 * Two commands:
 *
 *   ingest_load setup --url URL --op-token TOKEN --out FILE [--gateways 1000]
 *                     [--threads 4] [--model BENCH-GW] [--chunk 10000]
 *                     [--terms VERSION] [--auth-out FILE]
 *
 *     As the operator, provisions GATEWAYS gateways with
 *     POST /api/v1/gateways/bulk (text/csv body `model,device_code,firmware`,
 *     text/csv answer `id,device_code,secret,model,firmware`), CHUNK rows per
 *     upload (the server takes at most 10,000), then registers each one with
 *     its own Basic auth (POST /api/v1/gateway/registration
 *     {"terms_version":VERSION} -> 201 {home_id, ...}), THREADS at a time.
 *     VERSION defaults to the terms in force (GET /api/v1/documents; "1" when
 *     none is published). FILE gets one line per gateway:
 *     `device_code secret home_id`; the --auth-out file one line per gateway
 *     with the value of its Authorization header, `Basic base64(code:secret)`
 *     (what bench/gateway-poll.lua reads).
 *
 *   ingest_load send --target lp|json|influx --url URL [--creds FILE]
 *                    [--db NAME] [--gateways 1000] [--channels 20]
 *                    [--minutes 60] [--start UNIX_S] [--seed 42] [--conns 4]
 *                    [--batch 5000]
 *
 *     Generates GATEWAYS x CHANNELS x MINUTES points of 1-minute data from
 *     START (a fixed seed: the same points on every run and for every
 *     target), builds every request body first (not timed), then sends the
 *     bodies on CONNS keep-alive connections, each taking the next body
 *     until none is left, and times from the first request to the last
 *     answer.
 *       lp     enemane's POST /write?db=NAME&precision=s (line protocol), one
 *              body per gateway (its CHANNELS x MINUTES points: a gateway
 *              credential writes only its own home), Basic auth with the
 *              gateway's device code and secret from FILE; must answer 204.
 *       json   enemane's POST /api/v1/gateway/measurements, the same points
 *              as JSON batches, one per gateway; must answer 200 with every
 *              point accepted and none rejected.
 *       influx InfluxDB's POST /write?db=NAME&precision=s, the same lines in
 *              the same order plus a tag gw=gNNNN (InfluxDB knows no
 *              gateway otherwise), cut into bodies of BATCH points; must
 *              answer 204.
 *     The channels, a mix like a home's: the first of them power gauges in
 *     W (grid, solar, battery, fuel cell, then distribution-board circuits:
 *     integral watts, random walk), then cumulative energy counters in Wh
 *     (grid purchase and sale, solar, battery charge, then circuits), and
 *     last one battery state of charge in %, one gas meter in m3 (counter,
 *     0.001 m3 steps) and one water meter in L (counter); each with the
 *     ECHONET Lite tags class, epc and (circuits) circuit. In line protocol
 *     the integral channels are integer fields (`value=523i`), the gas
 *     meter a float (`value=1234.567`). Any answer other
 *     than the expected one is an error: the first one is printed and the
 *     command exits 1.
 *
 * Output of send (one line):
 *   ingest_load: <target> <points> points in <bodies> bodies (<MB> MB) in <s> s
 *   = <pps> points/s, <conns> connections, request p50 <ms> ms p99 <ms> ms,
 *   client cpu <s> s, errors <n>
 * (client cpu: what this program used while sending, user + system; on a
 * small machine it competes with the server for the same cores).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "load_common.h"

#define LOAD_MAX_GATEWAYS       100000
#define LOAD_MAX_CHANNELS       200
#define LOAD_MAX_CONNS          256


/* ---- gateway credentials ------------------------------------------------------------------- */

struct gw_cred {
        char code[LOAD_CODE_MAX];
        char secret[LOAD_SECRET_MAX];
        int64_t home;
        char auth[400];                 /* the Authorization header line */
};

static int creds_load(const char *path, struct gw_cred **out, int *n)
{
        FILE *f = fopen(path, "r");
        struct gw_cred *v = NULL;
        int cnt = 0, cap = 0;
        char line[512];

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                struct gw_cred *c;

                if (cnt == cap) {
                        cap = cap ? cap * 2 : 1024;
                        v = realloc(v, (size_t)cap * sizeof(*v));
                        if (!v) {
                                fclose(f);
                                return -ENOMEM;
                        }
                }
                c = &v[cnt];
                memset(c, 0, sizeof(*c));
                if (sscanf(line, "%127s %127s %" SCNd64, c->code, c->secret, &c->home) < 2)
                        continue;
                basic_header(c->code, c->secret, c->auth, sizeof(c->auth));
                cnt++;
        }
        fclose(f);
        *out = v;
        *n = cnt;
        return 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

struct setup_ctx {
        const char *url;
        char body[256];                 /* the registration body */
        struct gw_cred *gws;
        int n;
        atomic_int next;
        atomic_bool failed;
        pthread_mutex_t lock;
        char err[2048];
};

static void setup_fail(struct setup_ctx *x, const char *msg)
{
        pthread_mutex_lock(&x->lock);
        if (!atomic_load(&x->failed))
                snprintf(x->err, sizeof(x->err), "%s", msg);
        atomic_store(&x->failed, true);
        pthread_mutex_unlock(&x->lock);
}

static void *setup_register_main(void *arg)
{
        struct setup_ctx *x = arg;
        struct load_conn conn;
        char url[1024], err[2048];
        const char *body = x->body;

        if (load_conn_init(&conn) < 0) {
                setup_fail(x, "curl_easy_init failed");
                return NULL;
        }
        snprintf(url, sizeof(url), "%s/api/v1/gateway/registration", x->url);
        while (!atomic_load(&x->failed)) {
                int i = atomic_fetch_add(&x->next, 1);
                struct curl_slist *h;
                json_t *j;

                if (i >= x->n)
                        break;
                h = curl_slist_append(NULL, "Content-Type: application/json");
                h = curl_slist_append(h, "Expect:");
                h = curl_slist_append(h, x->gws[i].auth);
                if (load_post(&conn, url, h, body, strlen(body), err, sizeof(err)) < 0) {
                        curl_slist_free_all(h);
                        setup_fail(x, err);
                        break;
                }
                curl_slist_free_all(h);
                j = json_loads(conn.buf ? conn.buf : "", 0, NULL);
                x->gws[i].home = (int64_t)json_integer_value(json_object_get(j, "home_id"));
                json_decref(j);
                if (conn.status != 201 || x->gws[i].home <= 0) {
                        snprintf(err, sizeof(err), "POST /api/v1/gateway/registration (gateway "
                                 "%d): expected 201 with a home_id, got %ld %s", i, conn.status,
                                 conn.buf ? conn.buf : "");
                        setup_fail(x, err);
                        break;
                }
        }
        load_conn_free(&conn);
        return NULL;
}

/* Reads the bulk answer (`id,device_code,secret,model,firmware` + rows). */
static int setup_parse_csv(char *csv, struct gw_cred *gws, int want)
{
        int n = 0, col_code = -1, col_secret = -1, line_no = 0;
        char *save = NULL;

        for (char *line = strtok_r(csv, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
                char *fsave = NULL;
                int col = 0;

                if (line_no++ == 0) {
                        for (char *f = strtok_r(line, ",", &fsave); f;
                             f = strtok_r(NULL, ",", &fsave), col++) {
                                if (strcmp(f, "device_code") == 0)
                                        col_code = col;
                                else if (strcmp(f, "secret") == 0)
                                        col_secret = col;
                        }
                        if (col_code < 0 || col_secret < 0)
                                return -EINVAL;
                        continue;
                }
                if (n >= want)
                        return -EINVAL;
                /* fields may be empty (firmware): walk by hand, not strtok */
                for (char *f = line; f; col++) {
                        char *comma = strchr(f, ',');

                        if (comma)
                                *comma = '\0';
                        if (col == col_code)
                                snprintf(gws[n].code, sizeof(gws[n].code), "%s", f);
                        else if (col == col_secret)
                                snprintf(gws[n].secret, sizeof(gws[n].secret), "%s", f);
                        f = comma ? comma + 1 : NULL;
                }
                if (!gws[n].code[0] || !gws[n].secret[0])
                        return -EINVAL;
                basic_header(gws[n].code, gws[n].secret, gws[n].auth, sizeof(gws[n].auth));
                n++;
        }
        return n;
}

static int setup_usage(void)
{
        fprintf(stderr, "usage: ingest_load setup --url URL --op-token TOKEN --out FILE "
                "[--gateways 1000] [--threads 4] [--model BENCH-GW] [--chunk 10000] "
                "[--terms VERSION] [--auth-out FILE]\n");
        return 2;
}

/* The version of the terms in force (GET /api/v1/documents), into out; "1"
 * when none is published. 0 or -1 (message printed). */
static int setup_terms(struct load_conn *conn, const char *url, char *out, size_t outlen)
{
        char full[1024], err[2048];
        json_t *j, *items, *it;
        size_t i;
        int rc = -1;

        snprintf(full, sizeof(full), "%s/api/v1/documents", url);
        if (load_get(conn, full, NULL, err, sizeof(err)) < 0) {
                fprintf(stderr, "ingest_load: %s\n", err);
                return -1;
        }
        if (conn->status != 200) {
                fprintf(stderr, "ingest_load: GET /api/v1/documents: expected 200, got %ld "
                        "%.2000s\n", conn->status, conn->buf ? conn->buf : "");
                return -1;
        }
        j = json_loads(conn->buf ? conn->buf : "", 0, NULL);
        items = json_object_get(j, "items");
        snprintf(out, outlen, "1");
        json_array_foreach(items, i, it) {
                const char *doc = json_string_value(json_object_get(it, "document"));
                const char *v = json_string_value(json_object_get(it, "version"));

                if (doc && v && strcmp(doc, "terms") == 0 && strlen(v) < outlen - 1) {
                        snprintf(out, outlen, "%s", v);
                        break;
                }
        }
        if (json_is_array(items))
                rc = 0;
        else
                fprintf(stderr, "ingest_load: GET /api/v1/documents: no items array\n");
        json_decref(j);
        return rc;
}

/* The registration body {"terms_version":VERSION}, JSON-encoded, into out. */
static void setup_body(char *out, size_t outlen, const char *version)
{
        json_t *b = json_pack("{s:s}", "terms_version", version);
        char *enc = b ? json_dumps(b, JSON_COMPACT) : NULL;

        snprintf(out, outlen, "%s", enc ? enc : "");
        free(enc);
        json_decref(b);
}

/* Provisions gws[0..n) with one POST /api/v1/gateways/bulk. 0 or -1 (printed). */
static int setup_bulk(struct load_conn *conn, const char *url, struct curl_slist *h,
                      const char *model, int first, struct gw_cred *gws, int n)
{
        struct lbuf csv = { 0 };
        char err[2048], full[1024];
        int got, rc = -1;

        lbuf_str(&csv, "model,device_code,firmware\n");
        for (int i = 0; i < n; i++)
                lbuf_printf(&csv, "%s,,1.0.%d\n", model, (first + i) % 4);
        snprintf(full, sizeof(full), "%s/api/v1/gateways/bulk", url);
        if (load_post(conn, full, h, csv.p, csv.len, err, sizeof(err)) < 0) {
                fprintf(stderr, "ingest_load: %s\n", err);
                goto out;
        }
        if (conn->status != 201) {
                fprintf(stderr, "ingest_load: POST /api/v1/gateways/bulk (rows %d..%d): expected "
                        "201, got %ld %.2000s\n", first, first + n - 1, conn->status,
                        conn->buf ? conn->buf : "");
                goto out;
        }
        got = setup_parse_csv(conn->buf ? conn->buf : (char *)"", gws, n);
        if (got != n) {
                fprintf(stderr, "ingest_load: POST /api/v1/gateways/bulk: cannot read %d gateways "
                        "(id,device_code,secret,model,firmware) from the text/csv answer (%d)\n",
                        n, got);
                goto out;
        }
        rc = 0;
out:
        free(csv.p);
        return rc;
}

static int cmd_setup(int argc, char **argv)
{
        const char *url = NULL, *token = NULL, *out = NULL, *model = "BENCH-GW";
        const char *terms = NULL, *auth_out = NULL;
        int ngw = 1000, threads = 4, rc = 1, chunk = 10000, nbulk = 0;
        struct setup_ctx x = { 0 };
        struct load_conn conn;
        struct curl_slist *h = NULL;
        char line[512], version[64];
        pthread_t th[64];
        FILE *f;
        int64_t t0 = load_now_ns(), t1;

        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        return setup_usage();
                if (strcmp(a, "--url") == 0)
                        url = v;
                else if (strcmp(a, "--op-token") == 0)
                        token = v;
                else if (strcmp(a, "--out") == 0)
                        out = v;
                else if (strcmp(a, "--gateways") == 0)
                        ngw = atoi(v);
                else if (strcmp(a, "--threads") == 0)
                        threads = atoi(v);
                else if (strcmp(a, "--model") == 0)
                        model = v;
                else if (strcmp(a, "--chunk") == 0)
                        chunk = atoi(v);
                else if (strcmp(a, "--terms") == 0)
                        terms = v;
                else if (strcmp(a, "--auth-out") == 0)
                        auth_out = v;
                else
                        return setup_usage();
        }
        if (!url || !token || !out || ngw < 1 || ngw > LOAD_MAX_GATEWAYS || threads < 1 ||
            threads > 64 || chunk < 1 || (terms && strlen(terms) >= sizeof(version)))
                return setup_usage();

        if (load_conn_init(&conn) < 0)
                return 1;
        if (terms)
                snprintf(version, sizeof(version), "%s", terms);
        else if (setup_terms(&conn, url, version, sizeof(version)) < 0)
                goto out;
        h = curl_slist_append(h, "Content-Type: text/csv");
        h = curl_slist_append(h, "Expect:");
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, line);
        x.gws = calloc((size_t)ngw, sizeof(*x.gws));
        if (!x.gws)
                goto out;
        for (int first = 0; first < ngw; first += chunk, nbulk++) {
                int n = ngw - first < chunk ? ngw - first : chunk;

                if (setup_bulk(&conn, url, h, model, first, x.gws + first, n) < 0)
                        goto out;
        }
        t1 = load_now_ns();
        x.url = url;
        setup_body(x.body, sizeof(x.body), version);
        x.n = ngw;
        pthread_mutex_init(&x.lock, NULL);
        for (int i = 0; i < threads; i++)
                pthread_create(&th[i], NULL, setup_register_main, &x);
        for (int i = 0; i < threads; i++)
                pthread_join(th[i], NULL);
        pthread_mutex_destroy(&x.lock);
        if (atomic_load(&x.failed)) {
                fprintf(stderr, "ingest_load: %s\n", x.err);
                goto out;
        }
        f = fopen(out, "w");
        if (!f) {
                fprintf(stderr, "ingest_load: cannot write %s\n", out);
                goto out;
        }
        for (int i = 0; i < ngw; i++)
                fprintf(f, "%s %s %" PRId64 "\n", x.gws[i].code, x.gws[i].secret, x.gws[i].home);
        if (fclose(f) != 0)
                goto out;
        if (auth_out) {
                f = fopen(auth_out, "w");
                if (!f) {
                        fprintf(stderr, "ingest_load: cannot write %s\n", auth_out);
                        goto out;
                }
                /* auth is "Authorization: Basic ...": the value after the name */
                for (int i = 0; i < ngw; i++)
                        fprintf(f, "%s\n", x.gws[i].auth + strlen("Authorization: "));
                if (fclose(f) != 0)
                        goto out;
        }
        printf("ingest_load: %d gateways provisioned (%d bulk CSV upload%s, %.1f s) and "
               "registered (terms %s, %d threads, %.1f s) in %.1f s\n", ngw, nbulk,
               nbulk == 1 ? "" : "s", (double)(t1 - t0) / 1e9, version, threads,
               (double)(load_now_ns() - t1) / 1e9, (double)(load_now_ns() - t0) / 1e9);
        rc = 0;
out:
        curl_slist_free_all(h);
        load_conn_free(&conn);
        free(x.gws);
        return rc;
}

/* ---- send ------------------------------------------------------------------------------------ */

enum send_target { ST_LP, ST_JSON, ST_INFLUX };

struct send_config {
        enum send_target target;
        const char *url, *creds, *db;
        int gateways, channels, minutes, conns, batch;
        int64_t start;
        uint64_t seed;
};

struct body {
        size_t off, len;
        int gw;                         /* whose credentials (lp, json) */
        int points;
};

struct send_data {
        struct lbuf text;               /* every body, one after the other */
        struct body *bodies;
        size_t nbodies;
        int64_t points;
};

static void send_add_body(struct send_data *d, size_t off, int gw, int points)
{
        d->bodies = realloc(d->bodies, (d->nbodies + 1) * sizeof(*d->bodies));
        if (!d->bodies) {
                fprintf(stderr, "ingest_load: out of memory\n");
                exit(1);
        }
        d->bodies[d->nbodies] = (struct body){ off, d->text.len - off, gw, points };
        d->nbodies++;
        d->points += points;
}

/* The values of gateway gw: vals[c * minutes + m]. */
static void send_values(const struct send_config *cfg, const struct chan *chans, int gw,
                        int64_t *vals)
{
        for (int c = 0; c < cfg->channels; c++) {
                struct gen g;

                gen_init(&g, &chans[c], cfg->seed, gw, c);
                for (int m = 0; m < cfg->minutes; m++)
                        vals[(size_t)c * (size_t)cfg->minutes + (size_t)m] = gen_step(&g, &chans[c]);
        }
}

/* Line protocol: per gateway, minute by minute, every channel in each minute. With
 * influx, the gw tag is added and the stream is cut every cfg->batch lines. */
static void send_build_lines(const struct send_config *cfg, const struct chan *chans,
                             struct send_data *d)
{
        int64_t *vals = malloc((size_t)cfg->channels * (size_t)cfg->minutes * sizeof(*vals));
        size_t off = 0;
        int in_body = 0;
        char gwtag[32];

        if (!vals)
                exit(1);
        for (int gw = 0; gw < cfg->gateways; gw++) {
                send_values(cfg, chans, gw, vals);
                snprintf(gwtag, sizeof(gwtag), ",gw=g%05d", gw);
                for (int m = 0; m < cfg->minutes; m++) {
                        for (int c = 0; c < cfg->channels; c++) {
                                lbuf_str(&d->text, chans[c].tags);
                                if (cfg->target == ST_INFLUX)
                                        lbuf_str(&d->text, gwtag);
                                lbuf_add(&d->text, " value=", 7);
                                lbuf_value(&d->text, vals[(size_t)c * (size_t)cfg->minutes +
                                                          (size_t)m], chans[c].scale);
                                /* integral channels as integer fields (InfluxDB then
                                 * stores them as integers, its most compact form) */
                                if (chans[c].scale == 1)
                                        lbuf_add(&d->text, "i", 1);
                                lbuf_add(&d->text, " ", 1);
                                lbuf_int(&d->text, cfg->start + (int64_t)m * 60);
                                lbuf_add(&d->text, "\n", 1);
                                in_body++;
                                if (cfg->target == ST_INFLUX && in_body == cfg->batch) {
                                        send_add_body(d, off, gw, in_body);
                                        off = d->text.len;
                                        in_body = 0;
                                }
                        }
                }
                if (cfg->target == ST_LP) {
                        send_add_body(d, off, gw, in_body);
                        off = d->text.len;
                        in_body = 0;
                }
        }
        if (in_body > 0)
                send_add_body(d, off, cfg->gateways - 1, in_body);
        free(vals);
}

/* JSON batches: one per gateway, the series defined once, points [series, time, value]. */
static void send_build_json(const struct send_config *cfg, const struct chan *chans,
                            struct send_data *d)
{
        int64_t *vals = malloc((size_t)cfg->channels * (size_t)cfg->minutes * sizeof(*vals));

        if (!vals)
                exit(1);
        for (int gw = 0; gw < cfg->gateways; gw++) {
                size_t off = d->text.len;
                int n = 0;

                send_values(cfg, chans, gw, vals);
                lbuf_printf(&d->text, "{\"batch_id\":\"bench-%d-%" PRId64 "\",\"precision\":\"s\","
                            "\"series\":[", gw, cfg->start);
                for (int c = 0; c < cfg->channels; c++) {
                        const struct chan *ch = &chans[c];

                        lbuf_printf(&d->text, "%s{\"channel\":\"%s\",\"quantity\":\"%s\","
                                    "\"unit\":\"%s\",\"class\":\"0x%04X\",\"epc\":\"0x%02X\"",
                                    c ? "," : "", ch->name, ch->quantity, ch->unit,
                                    ch->class_code, ch->epc);
                        if (ch->circuit >= 0)
                                lbuf_printf(&d->text, ",\"circuit\":%d", ch->circuit);
                        lbuf_str(&d->text, "}");
                }
                lbuf_str(&d->text, "],\"points\":[");
                for (int m = 0; m < cfg->minutes; m++) {
                        for (int c = 0; c < cfg->channels; c++) {
                                lbuf_add(&d->text, n ? ",[" : "[", n ? 2 : 1);
                                lbuf_int(&d->text, c);
                                lbuf_add(&d->text, ",", 1);
                                lbuf_int(&d->text, cfg->start + (int64_t)m * 60);
                                lbuf_add(&d->text, ",", 1);
                                lbuf_value(&d->text, vals[(size_t)c * (size_t)cfg->minutes +
                                                          (size_t)m], chans[c].scale);
                                lbuf_add(&d->text, "]", 1);
                                n++;
                        }
                }
                lbuf_str(&d->text, "]}");
                send_add_body(d, off, gw, n);
        }
        free(vals);
}

struct send_ctx {
        const struct send_config *cfg;
        const struct send_data *d;
        const struct gw_cred *gws;
        char url[1024];
        atomic_size_t next;
        atomic_bool failed;
        uint32_t *lat_us;               /* per body */
        pthread_mutex_t lock;
        char err[4096];
};

static void send_fail(struct send_ctx *x, const char *msg)
{
        pthread_mutex_lock(&x->lock);
        if (!atomic_load(&x->failed))
                snprintf(x->err, sizeof(x->err), "%s", msg);
        atomic_store(&x->failed, true);
        pthread_mutex_unlock(&x->lock);
}

/* Whether the answer to body b is the expected one; err filled otherwise. */
static bool send_check(struct send_ctx *x, const struct load_conn *c, const struct body *b,
                       char *err, size_t errlen)
{
        json_t *j, *rej;
        bool ok;

        if (x->cfg->target != ST_JSON) {
                if (c->status == 204)
                        return true;
                snprintf(err, errlen, "POST /write (body of %d points, gateway %d): expected 204, "
                         "got %ld %.1500s", b->points, b->gw, c->status, c->buf ? c->buf : "");
                return false;
        }
        j = json_loads(c->buf ? c->buf : "", 0, NULL);
        /* design: "rejected": [{index, code, message}]; also taken: a count
         * "rejected": 0 (with the list as "rejects") */
        rej = json_object_get(j, "rejected");
        ok = c->status == 200 &&
             json_integer_value(json_object_get(j, "accepted")) == b->points &&
             ((json_is_array(rej) && json_array_size(rej) == 0) ||
              (json_is_integer(rej) && json_integer_value(rej) == 0));
        json_decref(j);
        if (!ok)
                snprintf(err, errlen, "POST /api/v1/gateway/measurements (gateway %d, %d points): "
                         "expected 200 with all accepted, none rejected; got %ld %.1500s", b->gw,
                         b->points, c->status, c->buf ? c->buf : "");
        return ok;
}

static void *send_main(void *arg)
{
        struct send_ctx *x = arg;
        struct load_conn conn;
        char err[4096];
        const char *ctype = x->cfg->target == ST_JSON ? "Content-Type: application/json" :
                            "Content-Type: text/plain; charset=utf-8";

        if (load_conn_init(&conn) < 0) {
                send_fail(x, "curl_easy_init failed");
                return NULL;
        }
        while (!atomic_load(&x->failed)) {
                size_t i = atomic_fetch_add(&x->next, 1);
                const struct body *b;
                struct curl_slist *h;
                int64_t t0;
                int rc;

                if (i >= x->d->nbodies)
                        break;
                b = &x->d->bodies[i];
                h = curl_slist_append(NULL, ctype);
                h = curl_slist_append(h, "Expect:");
                if (x->cfg->target != ST_INFLUX)
                        h = curl_slist_append(h, x->gws[b->gw].auth);
                t0 = load_now_ns();
                rc = load_post(&conn, x->url, h, x->d->text.p + b->off, b->len, err, sizeof(err));
                x->lat_us[i] = (uint32_t)((load_now_ns() - t0) / 1000);
                curl_slist_free_all(h);
                if (rc < 0 || !send_check(x, &conn, b, err, sizeof(err))) {
                        send_fail(x, err);
                        break;
                }
        }
        load_conn_free(&conn);
        return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t p = *(const uint32_t *)a, q = *(const uint32_t *)b;

        return (p > q) - (p < q);
}

static double cpu_seconds(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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

static int send_usage(void)
{
        fprintf(stderr, "usage: ingest_load send --target lp|json|influx --url URL [--creds FILE] "
                "[--db NAME] [--gateways 1000] [--channels 20] [--minutes 60] [--start UNIX_S] "
                "[--seed 42] [--conns 4] [--batch 5000]\n");
        return 2;
}

static int send_parse(int argc, char **argv, struct send_config *cfg)
{
        const char *target = NULL;

        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        return -EINVAL;
                if (strcmp(a, "--target") == 0)
                        target = v;
                else if (strcmp(a, "--url") == 0)
                        cfg->url = v;
                else if (strcmp(a, "--creds") == 0)
                        cfg->creds = v;
                else if (strcmp(a, "--db") == 0)
                        cfg->db = v;
                else if (strcmp(a, "--gateways") == 0)
                        cfg->gateways = atoi(v);
                else if (strcmp(a, "--channels") == 0)
                        cfg->channels = atoi(v);
                else if (strcmp(a, "--minutes") == 0)
                        cfg->minutes = atoi(v);
                else if (strcmp(a, "--start") == 0)
                        cfg->start = strtoll(v, NULL, 10);
                else if (strcmp(a, "--seed") == 0)
                        cfg->seed = strtoull(v, NULL, 10);
                else if (strcmp(a, "--conns") == 0)
                        cfg->conns = atoi(v);
                else if (strcmp(a, "--batch") == 0)
                        cfg->batch = atoi(v);
                else
                        return -EINVAL;
        }
        if (!target || !cfg->url)
                return -EINVAL;
        if (strcmp(target, "lp") == 0)
                cfg->target = ST_LP;
        else if (strcmp(target, "json") == 0)
                cfg->target = ST_JSON;
        else if (strcmp(target, "influx") == 0)
                cfg->target = ST_INFLUX;
        else
                return -EINVAL;
        if (cfg->target != ST_INFLUX && !cfg->creds)
                return -EINVAL;
        if (cfg->gateways < 1 || cfg->gateways > LOAD_MAX_GATEWAYS || cfg->channels < 4 ||
            cfg->channels > LOAD_MAX_CHANNELS || cfg->minutes < 1 || cfg->conns < 1 ||
            cfg->conns > LOAD_MAX_CONNS || cfg->batch < 1)
                return -EINVAL;
        return 0;
}

static int cmd_send(int argc, char **argv)
{
        static const char *names[] = { "lp", "json", "influx" };
        struct send_config cfg = { .db = "home", .gateways = 1000, .channels = 20, .minutes = 60,
                                   .conns = 4, .batch = 5000, .seed = 42 };
        struct send_data d = { 0 };
        struct send_ctx x = { 0 };
        struct chan chans[LOAD_MAX_CHANNELS];
        struct gw_cred *gws = NULL;
        pthread_t th[LOAD_MAX_CONNS];
        int ngws = 0;
        int64_t t0, t1;
        double secs, cpu;

        cfg.start = (int64_t)time(NULL) / 3600 * 3600 - 3600;
        if (send_parse(argc, argv, &cfg) < 0)
                return send_usage();
        if (cfg.creds) {
                if (creds_load(cfg.creds, &gws, &ngws) < 0 || ngws < cfg.gateways) {
                        fprintf(stderr, "ingest_load: %s: need %d gateways' credentials\n",
                                cfg.creds, cfg.gateways);
                        return 1;
                }
        }
        for (int c = 0; c < cfg.channels; c++)
                chan_define(&chans[c], c, cfg.channels);
        if (cfg.target == ST_JSON)
                send_build_json(&cfg, chans, &d);
        else
                send_build_lines(&cfg, chans, &d);

        x.cfg = &cfg;
        x.d = &d;
        x.gws = gws;
        if (cfg.target == ST_JSON)
                snprintf(x.url, sizeof(x.url), "%s/api/v1/gateway/measurements", cfg.url);
        else
                snprintf(x.url, sizeof(x.url), "%s/write?db=%s&precision=s", cfg.url, cfg.db);
        x.lat_us = calloc(d.nbodies, sizeof(*x.lat_us));
        if (!x.lat_us)
                return 1;
        pthread_mutex_init(&x.lock, NULL);
        cpu = cpu_seconds();
        t0 = load_now_ns();
        for (int i = 0; i < cfg.conns; i++)
                pthread_create(&th[i], NULL, send_main, &x);
        for (int i = 0; i < cfg.conns; i++)
                pthread_join(th[i], NULL);
        t1 = load_now_ns();
        pthread_mutex_destroy(&x.lock);
        if (atomic_load(&x.failed))
                fprintf(stderr, "ingest_load: first error: %s\n", x.err);
        secs = (double)(t1 - t0) / 1e9;
        cpu = cpu_seconds() - cpu;
        {
                double p50 = quantile_ms(x.lat_us, d.nbodies, 0.50);
                double p99 = quantile_ms(x.lat_us, d.nbodies, 0.99);

                printf("ingest_load: %s %" PRId64 " points in %zu bodies (%.1f MB) in %.2f s = %.0f "
                       "points/s, %d connections, request p50 %.1f ms p99 %.1f ms, client cpu "
                       "%.1f s, errors %d\n", names[cfg.target], d.points, d.nbodies,
                       (double)d.text.len / 1e6, secs, (double)d.points / secs, cfg.conns, p50,
                       p99, cpu, atomic_load(&x.failed) ? 1 : 0);
        }
        free(x.lat_us);
        free(d.text.p);
        free(d.bodies);
        free(gws);
        return atomic_load(&x.failed) ? 1 : 0;
}

int main(int argc, char **argv)
{
        int rc;

        if (argc < 2) {
                fprintf(stderr, "usage: ingest_load setup|send ...\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        if (strcmp(argv[1], "setup") == 0) {
                rc = cmd_setup(argc, argv);
        } else if (strcmp(argv[1], "send") == 0) {
                rc = cmd_send(argc, argv);
        } else {
                fprintf(stderr, "usage: ingest_load setup|send ...\n");
                rc = 2;
        }
        curl_global_cleanup();
        return rc;
}
