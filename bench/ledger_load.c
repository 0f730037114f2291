/*
 * ledger_load.c - load generator for bench/ledger.sh: durable ledger
 * transfers per second through enemane's HTTP API.
 *
 * CLIENTS threads, each with its own keep-alive libcurl handle, repeat one
 * "transfer" until the duration is over (or COUNT transfers are done):
 *
 *   1. POST /api/v1/ledger/transfers  a hold: wallet -> escrow (account 1),
 *      pending, 1 yen;
 *   2. POST /api/v1/ledger/transfers  its capture (post_pending).
 *
 * enemane answers 2xx only after the transaction is durable (group
 * commit), so a completed pair is two durable transfers and is what we
 * count: transfers/s = pairs completed before the deadline / duration.
 * Any answer that is not 200 with result "ok" is an error; the run then
 * exits 1 after printing the first one.
 *
 * Usage: ledger_load --url http://127.0.0.1:PORT --token OPERATOR_TOKEN
 *                    --wallets ID[,ID...] [--clients 64] [--duration 10]
 *                    [--count N] [--prefix RUN]
 * Client i uses wallet i % number-of-wallets. Ids are
 * "<prefix>-<client>-<n>-h" / "-c", so give each run its own prefix.
 * Output (one line):
 *   ledger_load: <pairs> transfers in <s> s = <tps> transfers/s, <clients> clients,
 *   latency p50 <ms> ms p99 <ms> ms, client cpu <s> s, errors <n>
 * (client cpu: what this load generator itself used, user + system; on a
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

#define LOAD_MAX_CLIENTS        1024
#define LOAD_MAX_WALLETS        4096
#define LOAD_MAX_SAMPLES        (1u << 20)      /* pair latencies kept for percentiles */
#define LOAD_REQUEST_TIMEOUT_MS 30000L

struct load_config {
        const char *url;
        const char *token;
        const char *prefix;
        int64_t wallets[LOAD_MAX_WALLETS];
        int nwallets;
        int clients;
        double duration_s;
        long count;                     /* 0: run for duration_s */
};

struct load_client {
        int index;
        const struct load_config *cfg;
        CURL *curl;
        struct curl_slist *headers;
        char *buf;                      /* answer body */
        size_t len, cap;
        long pairs;
        long errors;
        char first_error[1024];
};

static atomic_bool load_stop;
static atomic_long load_done;           /* pairs completed, for --count */
static pthread_barrier_t load_start;
static int64_t load_deadline_ns;
static uint32_t *load_lat_us;           /* latency samples (µs) */
static atomic_uint load_nlat;

static int64_t load_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t load_write(char *p, size_t size, size_t nmemb, void *ud)
{
        struct load_client *c = ud;
        size_t n = size * nmemb;

        if (c->len + n + 1 > c->cap) {
                size_t ncap = c->cap ? c->cap : 8192;
                char *nb;

                while (ncap < c->len + n + 1)
                        ncap *= 2;
                nb = realloc(c->buf, ncap);
                if (!nb)
                        return 0;
                c->buf = nb;
                c->cap = ncap;
        }
        memcpy(c->buf + c->len, p, n);
        c->len += n;
        c->buf[c->len] = '\0';
        return n;
}

static void load_error(struct load_client *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void load_error(struct load_client *c, const char *fmt, ...)
{
        va_list ap;

        if (c->errors++ > 0)
                return;
        va_start(ap, fmt);
        vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
        va_end(ap);
}

/* POSTs one transfer; true when the answer is 200 with result "ok". */
static bool load_post(struct load_client *c, const char *url, const char *body)
{
        long status = 0;
        json_t *j;
        const char *res;
        CURLcode cc;
        bool ok;

        c->len = 0;
        if (c->buf)
                c->buf[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK) {
                load_error(c, "client %d: %s", c->index, curl_easy_strerror(cc));
                return false;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
        j = json_loads(c->buf ? c->buf : "", 0, NULL);
        res = json_string_value(json_object_get(json_array_get(json_object_get(j, "results"), 0),
                                                "result"));
        ok = status == 200 && res && strcmp(res, "ok") == 0;
        if (!ok)
                load_error(c, "client %d: %ld %s (request %s)", c->index, status,
                           c->buf ? c->buf : "", body);
        json_decref(j);
        return ok;
}

static void *load_client_main(void *arg)
{
        struct load_client *c = arg;
        const struct load_config *cfg = c->cfg;
        int64_t wallet = cfg->wallets[c->index % cfg->nwallets];
        char url[512], body[512];
        int64_t t0;

        snprintf(url, sizeof(url), "%s/api/v1/ledger/transfers", cfg->url);
        pthread_barrier_wait(&load_start);
        for (long n = 0; !atomic_load(&load_stop); n++) {
                t0 = load_now_ns();
                snprintf(body, sizeof(body),
                         "{\"transfers\":[{\"id\":\"%s-%d-%ld-h\",\"debit_account_id\":%" PRId64
                         ",\"credit_account_id\":1,\"amount\":1,\"code\":\"hold\","
                         "\"pending\":true}]}", cfg->prefix, c->index, n, wallet);
                if (!load_post(c, url, body))
                        break;
                snprintf(body, sizeof(body),
                         "{\"transfers\":[{\"id\":\"%s-%d-%ld-c\",\"pending_id\":\"%s-%d-%ld-h\","
                         "\"post_pending\":true,\"code\":\"capture\"}]}", cfg->prefix, c->index,
                         n, cfg->prefix, c->index, n);
                if (!load_post(c, url, body))
                        break;
                if (cfg->count == 0 && load_now_ns() > load_deadline_ns)
                        break;          /* finished after the deadline: not counted */
                c->pairs++;
                {
                        unsigned k = atomic_fetch_add(&load_nlat, 1);

                        if (k < LOAD_MAX_SAMPLES)
                                load_lat_us[k] = (uint32_t)((load_now_ns() - t0) / 1000);
                }
                if (cfg->count > 0 && atomic_fetch_add(&load_done, 1) + 1 >= cfg->count)
                        atomic_store(&load_stop, true);
        }
        return NULL;
}

static int load_cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return (x > y) - (x < y);
}

static int load_parse_wallets(struct load_config *cfg, const char *list)
{
        const char *p = list;
        char *end;

        while (*p) {
                long long v;

                if (cfg->nwallets >= LOAD_MAX_WALLETS)
                        return -E2BIG;
                errno = 0;
                v = strtoll(p, &end, 10);
                if (errno != 0 || end == p || v <= 0)
                        return -EINVAL;
                cfg->wallets[cfg->nwallets++] = v;
                p = end;
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EINVAL;
        }
        return cfg->nwallets > 0 ? 0 : -EINVAL;
}

static void load_usage(void)
{
        fprintf(stderr, "usage: ledger_load --url URL --token TOKEN --wallets ID[,ID...] "
                "[--clients 64] [--duration 10] [--count N] [--prefix RUN]\n");
}

int main(int argc, char **argv)
{
        static struct load_config cfg = { .clients = 64, .duration_s = 10, .prefix = "bench" };
        struct load_client *cl;
        pthread_t *th;
        char *auth;
        long pairs = 0, errors = 0;
        unsigned nlat;
        double secs, p50 = 0, p99 = 0, cpu;
        struct rusage ru;
        int64_t t0, t1;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v) {
                        load_usage();
                        return 2;
                }
                i++;
                if (strcmp(a, "--url") == 0) {
                        cfg.url = v;
                } else if (strcmp(a, "--token") == 0) {
                        cfg.token = v;
                } else if (strcmp(a, "--prefix") == 0) {
                        cfg.prefix = v;
                } else if (strcmp(a, "--clients") == 0) {
                        cfg.clients = atoi(v);
                } else if (strcmp(a, "--duration") == 0) {
                        cfg.duration_s = atof(v);
                } else if (strcmp(a, "--count") == 0) {
                        cfg.count = atol(v);
                } else if (strcmp(a, "--wallets") == 0) {
                        if (load_parse_wallets(&cfg, v) < 0) {
                                fprintf(stderr, "ledger_load: bad --wallets %s\n", v);
                                return 2;
                        }
                } else {
                        load_usage();
                        return 2;
                }
        }
        if (!cfg.url || !cfg.token || cfg.nwallets == 0 || cfg.clients < 1 ||
            cfg.clients > LOAD_MAX_CLIENTS || cfg.duration_s <= 0) {
                load_usage();
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        load_lat_us = calloc(LOAD_MAX_SAMPLES, sizeof(*load_lat_us));
        cl = calloc((size_t)cfg.clients, sizeof(*cl));
        th = calloc((size_t)cfg.clients, sizeof(*th));
        auth = malloc(strlen(cfg.token) + 32);
        if (!load_lat_us || !cl || !th || !auth)
                return 1;
        sprintf(auth, "Authorization: Bearer %s", cfg.token);

        for (int i = 0; i < cfg.clients; i++) {
                struct load_client *c = &cl[i];

                c->index = i;
                c->cfg = &cfg;
                c->curl = curl_easy_init();
                if (!c->curl)
                        return 1;
                c->headers = curl_slist_append(NULL, auth);
                c->headers = curl_slist_append(c->headers, "Content-Type: application/json");
                c->headers = curl_slist_append(c->headers, "Expect:");
                curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
                curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
                curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, LOAD_REQUEST_TIMEOUT_MS);
                curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
                curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, load_write);
                curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        }
        if (pthread_barrier_init(&load_start, NULL, (unsigned)cfg.clients + 1) != 0)
                return 1;
        for (int i = 0; i < cfg.clients; i++) {
                if (pthread_create(&th[i], NULL, load_client_main, &cl[i]) != 0) {
                        fprintf(stderr, "ledger_load: cannot start client %d\n", i);
                        return 1;
                }
        }
        t0 = load_now_ns();
        load_deadline_ns = t0 + (int64_t)(cfg.duration_s * 1e9);
        pthread_barrier_wait(&load_start);
        if (cfg.count == 0) {
                struct timespec ts = { (time_t)cfg.duration_s,
                                       (long)((cfg.duration_s - (double)(time_t)cfg.duration_s) *
                                              1e9) };

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                atomic_store(&load_stop, true);
        }
        for (int i = 0; i < cfg.clients; i++)
                pthread_join(th[i], NULL);
        t1 = load_now_ns();
        secs = cfg.count == 0 ? cfg.duration_s : (double)(t1 - t0) / 1e9;

        for (int i = 0; i < cfg.clients; i++) {
                pairs += cl[i].pairs;
                errors += cl[i].errors;
                if (cl[i].errors > 0 && errors == cl[i].errors)
                        fprintf(stderr, "ledger_load: first error: %s\n", cl[i].first_error);
                curl_easy_cleanup(cl[i].curl);
                curl_slist_free_all(cl[i].headers);
                free(cl[i].buf);
        }
        nlat = atomic_load(&load_nlat);
        if (nlat > LOAD_MAX_SAMPLES)
                nlat = LOAD_MAX_SAMPLES;
        if (nlat > 0) {
                qsort(load_lat_us, nlat, sizeof(*load_lat_us), load_cmp_u32);
                p50 = load_lat_us[nlat / 2] / 1000.0;
                p99 = load_lat_us[(size_t)((double)nlat * 0.99)] / 1000.0;
        }
        getrusage(RUSAGE_SELF, &ru);
        cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        printf("ledger_load: %ld transfers in %.2f s = %.0f transfers/s, %d clients, "
               "latency p50 %.1f ms p99 %.1f ms, client cpu %.1f s, errors %ld\n", pairs, secs,
               secs > 0 ? (double)pairs / secs : 0.0, cfg.clients, p50, p99, cpu, errors);
        pthread_barrier_destroy(&load_start);
        free(load_lat_us);
        free(cl);
        free(th);
        free(auth);
        curl_global_cleanup();
        return errors > 0 ? 1 : 0;
}
