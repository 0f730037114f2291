/*
 * booking_load.c - load generator for bench/booking.sh: durable charger
 * bookings (a request with its wallet hold, then the host's approval) per
 * second through enemane's HTTP API (issue 5).
 *
 * Two commands sharing one state file:
 *
 *   booking_load setup --url URL --op-token TOKEN --secret WEBHOOK_SECRET
 *                      --state FILE [--hosts 8] [--drivers 64] [--chargers 1000]
 *                      [--days 300] [--price 100] [--funds 100000000] [--threads 8]
 *
 *     Through the API only: registers HOSTS hosts (member, POST /me/host,
 *     the operator verifies them and activates their contracts) and DRIVERS
 *     drivers (member, declarations, one EV, a signed top-up of FUNDS yen),
 *     logs every one of them in, and creates CHARGERS chargers spread over
 *     the hosts, each with its QR code mailed and attached and one slot
 *     from tomorrow 00:00 (Tokyo) for DAYS days at PRICE yen an hour. THREADS
 *     clients do it in parallel (the writes group-commit). The sessions,
 *     ids and the slot window go to FILE.
 *
 *   booking_load run --url URL --state FILE [--clients 64] [--duration 15]
 *                    [--minutes 60] [--contend 1]
 *
 *     CLIENTS threads, each with its own keep-alive libcurl handle and its
 *     own driver session (driver i % DRIVERS), repeat one booking until the
 *     duration is over:
 *       1. POST /api/v1/reservations (driver)       -> 201 "requested"; the
 *          fee is held on the driver's wallet in the same transaction;
 *       2. POST /api/v1/reservations/{id}/approve   -> 200 "confirmed"
 *          (with the session of the charger's host).
 *     enemane answers only once the write is durable (group commit), so a
 *     completed pair is one durable booking. The chargers are partitioned
 *     (charger k belongs to client k % CLIENTS) and every charger has a
 *     cursor over the slot window in steps of MINUTES: a client takes the
 *     next range of one of its chargers, round robin, so clients do not
 *     collide by construction. CONTEND percent of the attempts instead aim
 *     at a random charger, at the range its owner takes next shifted by
 *     half a booking (overlapping two of the owner's ranges): those race
 *     the owner for real, and whoever comes second gets 409 range_taken,
 *     counted as a conflict, not a booking. Any other answer is an error:
 *     the run exits 1 after printing the first one. The cursors are saved
 *     back to FILE, so the next run books new ranges.
 *
 * Output of run (one line):
 *   booking_load: <pairs> bookings in <s> s = <n> bookings/s, <c> clients,
 *   pair p50 <ms> ms p99 <ms> ms, request p99 <ms> ms, approve p99 <ms> ms,
 *   conflicts <n>, client cpu <s> s, errors <n>
 * (client cpu: what this load generator used itself, user + system; on a
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
#include <sodium.h>

#define LOAD_MAX_CLIENTS        1024
#define LOAD_MAX_HOSTS          256
#define LOAD_MAX_DRIVERS        1024
#define LOAD_MAX_CHARGERS       100000
#define LOAD_MAX_SAMPLES        (1u << 20)      /* latencies kept for percentiles */
#define LOAD_REQUEST_TIMEOUT_MS 30000L
#define LOAD_TOKEN_MAX          256
#define LOAD_TOKYO_OFFSET       (9 * 3600)
#define LOAD_PASSWORD           "bench-password-123"

/* ---- the state shared by setup and run ------------------------------------------------ */

struct load_host {
        int64_t id;                     /* member id = host id */
        char token[LOAD_TOKEN_MAX];
};

struct load_driver {
        int64_t id;
        int64_t vehicle;
        char token[LOAD_TOKEN_MAX];
};

struct load_charger {
        int64_t id;
        int host;                       /* index into hosts */
        atomic_long cursor;             /* next range (in bookings) its owner takes */
};

struct load_state {
        int nhosts, ndrivers, ncharger;
        struct load_host *hosts;
        struct load_driver *drivers;
        struct load_charger *chargers;
        int64_t window_from, window_to; /* the slot every charger offers */
};

/* ---- HTTP --------------------------------------------------------------------------- */

struct load_conn {
        CURL *curl;
        char *buf;                      /* answer body */
        size_t len, cap;
        long status;
};

static int64_t load_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t load_write(char *p, size_t size, size_t nmemb, void *ud)
{
        struct load_conn *c = ud;
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

static int load_conn_init(struct load_conn *c)
{
        memset(c, 0, sizeof(*c));
        c->curl = curl_easy_init();
        if (!c->curl)
                return -ENOMEM;
        curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
        curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, LOAD_REQUEST_TIMEOUT_MS);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, load_write);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
        return 0;
}

static void load_conn_free(struct load_conn *c)
{
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->buf);
        memset(c, 0, sizeof(*c));
}

/* The headers of a JSON call with token's session (NULL: none); caller
 * frees with curl_slist_free_all. */
static struct curl_slist *load_headers(const char *token)
{
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");

        h = curl_slist_append(h, "Expect:");
        if (token) {
                char line[LOAD_TOKEN_MAX + 32];

                snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
                h = curl_slist_append(h, line);
        }
        return h;
}

/*
 * One call: method GET, POST or PUT on base + path, body (NULL for none).
 * c->status and c->buf hold the answer. 0, or -EIO when the transfer
 * failed (message in err).
 */
static int load_call(struct load_conn *c, const char *base, const char *method,
                     const char *path, struct curl_slist *headers, const char *body,
                     char *err, size_t errlen)
{
        char url[1024];
        CURLcode cc;

        snprintf(url, sizeof(url), "%s%s", base, path);
        c->len = 0;
        c->status = 0;
        if (c->buf)
                c->buf[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
        if (strcmp(method, "GET") == 0) {
                curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
                curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        } else {
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
                curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                 (curl_off_t)(body ? strlen(body) : 0));
                curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST,
                                 strcmp(method, "POST") == 0 ? NULL : method);
        }
        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK) {
                snprintf(err, errlen, "%s %s: %s", method, path, curl_easy_strerror(cc));
                return -EIO;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
        return 0;
}

/* ---- setup ------------------------------------------------------------------------------- */

struct setup_config {
        const char *url;
        const char *op_token;
        const char *secret;
        const char *state_path;
        int hosts, drivers, chargers, days, threads;
        long long price, funds;
};

struct setup_ctx {
        const struct setup_config *cfg;
        struct load_state *st;
        char *terms_v, *privacy_v;      /* current document versions (JSON strings) */
        struct curl_slist *op_headers;
        atomic_int next;                /* next item of the current phase */
        atomic_bool failed;
        pthread_mutex_t err_lock;
        char err[2048];
};

struct setup_worker {
        struct setup_ctx *ctx;
        struct load_conn conn;
        char err[2048];
};

static void setup_fail(struct setup_worker *w)
{
        struct setup_ctx *x = w->ctx;

        pthread_mutex_lock(&x->err_lock);
        if (!atomic_load(&x->failed))
                snprintf(x->err, sizeof(x->err), "%s", w->err);
        atomic_store(&x->failed, true);
        pthread_mutex_unlock(&x->err_lock);
}

/*
 * A call that must answer `want`; *out gets the parsed body when out is
 * not NULL (caller decrefs). -1 with w->err set otherwise.
 */
static int setup_call(struct setup_worker *w, const char *method, const char *path,
                      struct curl_slist *headers, const char *body, long want, json_t **out)
{
        struct load_conn *c = &w->conn;

        if (load_call(c, w->ctx->cfg->url, method, path, headers, body, w->err,
                      sizeof(w->err)) < 0)
                return -1;
        if (c->status != want) {
                snprintf(w->err, sizeof(w->err), "%s %s: expected %ld, got %ld %s", method, path,
                         want, c->status, c->buf ? c->buf : "");
                return -1;
        }
        if (out) {
                *out = json_loads(c->buf ? c->buf : "", 0, NULL);
                if (!*out) {
                        snprintf(w->err, sizeof(w->err), "%s %s: answer is not JSON: %s",
                                 method, path, c->buf ? c->buf : "");
                        return -1;
                }
        }
        return 0;
}

static int64_t json_id(json_t *j, const char *key)
{
        return (int64_t)json_integer_value(json_object_get(j, key));
}

/* Registers an individual member and logs in; *id its member id, token its session. */
static int setup_member(struct setup_worker *w, const char *email, int64_t *id, char *token)
{
        struct setup_ctx *x = w->ctx;
        struct curl_slist *h = load_headers(NULL);
        char body[2048];
        json_t *j = NULL;
        const char *t;
        int rc;

        snprintf(body, sizeof(body),
                 "{\"kind\":\"individual\",\"email\":\"%s\",\"password\":\"" LOAD_PASSWORD "\","
                 "\"name\":\"Bench User\",\"name_kana\":\"ベンチ ユーザー\","
                 "\"phone\":\"090-0000-0000\",\"birth_date\":\"1990-01-01\","
                 "\"address\":{\"postcode\":\"100-0001\",\"prefecture\":\"東京都\","
                 "\"city\":\"千代田区\",\"line1\":\"千代田1-1\"},"
                 "\"consents\":[{\"document\":\"terms\",\"version\":%s},"
                 "{\"document\":\"privacy\",\"version\":%s}]}", email, x->terms_v, x->privacy_v);
        rc = setup_call(w, "POST", "/api/v1/members", h, body, 201, &j);
        if (rc == 0) {
                *id = json_id(j, "id");
                json_decref(j);
                j = NULL;
                snprintf(body, sizeof(body),
                         "{\"email\":\"%s\",\"password\":\"" LOAD_PASSWORD "\"}", email);
                rc = setup_call(w, "POST", "/api/v1/sessions", h, body, 201, &j);
        }
        if (rc == 0) {
                t = json_string_value(json_object_get(j, "token"));
                if (!t || strlen(t) >= LOAD_TOKEN_MAX || *id <= 0) {
                        snprintf(w->err, sizeof(w->err), "registering %s: no id or token",
                                 email);
                        rc = -1;
                } else {
                        snprintf(token, LOAD_TOKEN_MAX, "%s", t);
                }
        }
        json_decref(j);
        curl_slist_free_all(h);
        return rc;
}

/* A host: a member who applied, verified, with an active contract. */
static int setup_host(struct setup_worker *w, int i)
{
        struct setup_ctx *x = w->ctx;
        struct load_host *ho = &x->st->hosts[i];
        struct curl_slist *h;
        char email[128], path[128];
        int rc;

        snprintf(email, sizeof(email), "host%d@booking-bench.test", i);
        if (setup_member(w, email, &ho->id, ho->token) < 0)
                return -1;
        h = load_headers(ho->token);
        rc = setup_call(w, "POST", "/api/v1/me/host", h,
                        "{\"display_name\":\"ベンチ充電スポット\"}", 201, NULL);
        snprintf(path, sizeof(path), "/api/v1/hosts/%" PRId64 "/verification", ho->id);
        if (rc == 0)
                rc = setup_call(w, "PUT", path, x->op_headers, "{\"status\":\"verified\"}", 200,
                                NULL);
        snprintf(path, sizeof(path), "/api/v1/hosts/%" PRId64 "/contract", ho->id);
        if (rc == 0)
                rc = setup_call(w, "PUT", path, x->op_headers, "{\"status\":\"active\"}", 200,
                                NULL);
        curl_slist_free_all(h);
        return rc;
}

/* The signed wallet top-up: HMAC-SHA256(secret, "<ts>.<body>"). */
static int setup_topup(struct setup_worker *w, int64_t member, long long amount)
{
        const struct setup_config *cfg = w->ctx->cfg;
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state hs;
        char body[256], ts[32], hex[2 * sizeof(mac) + 1], line[160];
        struct curl_slist *h;
        int rc;

        snprintf(body, sizeof(body),
                 "{\"transaction_id\":\"booking-bench-%" PRId64 "\",\"member_id\":%" PRId64 ","
                 "\"amount\":%lld}", member, member, amount);
        snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
        crypto_auth_hmacsha256_init(&hs, (const unsigned char *)cfg->secret, strlen(cfg->secret));
        crypto_auth_hmacsha256_update(&hs, (const unsigned char *)ts, strlen(ts));
        crypto_auth_hmacsha256_update(&hs, (const unsigned char *)".", 1);
        crypto_auth_hmacsha256_update(&hs, (const unsigned char *)body, strlen(body));
        crypto_auth_hmacsha256_final(&hs, mac);
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        h = load_headers(NULL);
        snprintf(line, sizeof(line), "X-Wallet-Timestamp: %s", ts);
        h = curl_slist_append(h, line);
        snprintf(line, sizeof(line), "X-Wallet-Signature: sha256=%s", hex);
        h = curl_slist_append(h, line);
        rc = setup_call(w, "POST", "/api/v1/wallet/topups", h, body, 201, NULL);
        curl_slist_free_all(h);
        return rc;
}

/* A driver: declarations valid until 2099, one EV, a funded wallet. */
static int setup_driver(struct setup_worker *w, int i)
{
        struct setup_ctx *x = w->ctx;
        struct load_driver *d = &x->st->drivers[i];
        struct curl_slist *h;
        char email[128];
        json_t *j = NULL;
        int rc;

        snprintf(email, sizeof(email), "driver%d@booking-bench.test", i);
        if (setup_member(w, email, &d->id, d->token) < 0)
                return -1;
        h = load_headers(d->token);
        rc = setup_call(w, "PUT", "/api/v1/me/driver", h,
                        "{\"driving_licence_expires_on\":\"2099-12-31\","
                        "\"compulsory_insurance_expires_on\":\"2099-12-31\","
                        "\"voluntary_insurance_expires_on\":\"2099-12-31\"}", 200, NULL);
        if (rc == 0)
                rc = setup_call(w, "POST", "/api/v1/me/vehicles", h,
                                "{\"maker\":\"日産\",\"model\":\"リーフ\","
                                "\"plate\":\"品川 300 あ 12-34\",\"powertrain\":\"ev\","
                                "\"connector\":\"chademo\",\"battery_kwh\":40}", 201, &j);
        if (rc == 0) {
                d->vehicle = json_id(j, "id");
                json_decref(j);
                rc = setup_topup(w, d->id, x->cfg->funds);
        }
        curl_slist_free_all(h);
        return rc;
}

/* RFC 3339 of t in Tokyo time (+09:00). */
static void load_rfc3339(int64_t t, char out[40])
{
        time_t lt = (time_t)(t + LOAD_TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
}

/* Charger k of host k % hosts: created, QR mailed and attached, one slot. */
static int setup_charger(struct setup_worker *w, int k)
{
        struct setup_ctx *x = w->ctx;
        struct load_charger *ch = &x->st->chargers[k];
        const struct load_host *ho;
        struct curl_slist *h;
        char body[2048], path[128], from[40], to[40];
        const char *url, *t;
        json_t *j = NULL;
        int rc;

        ch->host = k % x->st->nhosts;
        ho = &x->st->hosts[ch->host];
        h = load_headers(ho->token);
        /* a grid of points about 500 m apart around Tokyo station */
        snprintf(body, sizeof(body),
                 "{\"kind\":\"normal\",\"maker\":\"Panasonic\",\"model\":\"ELSEEV hybrid\","
                 "\"output_kw\":6,\"connector\":\"type1\",\"address\":{\"postcode\":\"100-0005\","
                 "\"prefecture\":\"東京都\",\"city\":\"千代田区\",\"line1\":\"丸の内1-9-1\"},"
                 "\"latitude\":%.6f,\"longitude\":%.6f,\"surroundings\":\"屋外駐車場\","
                 "\"access_notes\":\"正面入口から右\",\"onsite_reservation\":false,"
                 "\"usage_notes\":\"ケーブルは元に戻してください\",\"penalty_enabled\":true,"
                 "\"extendable\":true}", 35.60 + 0.0045 * (k % 40), 139.65 + 0.0055 * (k / 40));
        snprintf(path, sizeof(path), "/api/v1/hosts/%" PRId64 "/chargers", ho->id);
        rc = setup_call(w, "POST", path, h, body, 201, &j);
        if (rc == 0) {
                ch->id = json_id(j, "id");
                json_decref(j);
                j = NULL;
                snprintf(path, sizeof(path), "/api/v1/chargers/%" PRId64 "/qr", ch->id);
                rc = setup_call(w, "GET", path, x->op_headers, NULL, 200, &j);
        }
        if (rc == 0) {
                url = json_string_value(json_object_get(j, "url"));
                t = url ? strstr(url, "?t=") : NULL;
                if (!t || strlen(t + 3) > 200) {
                        snprintf(w->err, sizeof(w->err), "charger %" PRId64 ": no QR token in %s",
                                 ch->id, w->conn.buf);
                        rc = -1;
                } else {
                        snprintf(body, sizeof(body), "{\"token\":\"%s\"}", t + 3);
                }
                json_decref(j);
                j = NULL;
        }
        snprintf(path, sizeof(path), "/api/v1/chargers/%" PRId64 "/qr/mailed", ch->id);
        if (rc == 0)
                rc = setup_call(w, "POST", path, x->op_headers, "{}", 200, NULL);
        snprintf(path, sizeof(path), "/api/v1/chargers/%" PRId64 "/qr/attached", ch->id);
        if (rc == 0)
                rc = setup_call(w, "POST", path, h, body, 200, NULL);
        load_rfc3339(x->st->window_from, from);
        load_rfc3339(x->st->window_to, to);
        snprintf(body, sizeof(body), "{\"starts_at\":\"%s\",\"ends_at\":\"%s\",\"hourly_price\":%lld}",
                 from, to, x->cfg->price);
        snprintf(path, sizeof(path), "/api/v1/chargers/%" PRId64 "/slots", ch->id);
        if (rc == 0)
                rc = setup_call(w, "POST", path, h, body, 201, NULL);
        curl_slist_free_all(h);
        return rc;
}

typedef int (*setup_item_fn)(struct setup_worker *w, int i);

struct setup_phase {
        struct setup_worker *w;
        setup_item_fn fn;
        int n;
};

static void *setup_thread(void *arg)
{
        struct setup_phase *p = arg;
        struct setup_ctx *x = p->w->ctx;

        while (!atomic_load(&x->failed)) {
                int i = atomic_fetch_add(&x->next, 1);

                if (i >= p->n)
                        break;
                if (p->fn(p->w, i) < 0) {
                        setup_fail(p->w);
                        break;
                }
        }
        return NULL;
}

/* Runs fn over items 0..n-1 on the workers; 0, or -1 with x->err. */
static int setup_run_phase(struct setup_ctx *x, struct setup_worker *ws, int nw,
                           setup_item_fn fn, int n)
{
        struct setup_phase *ph = calloc((size_t)nw, sizeof(*ph));
        pthread_t *th = calloc((size_t)nw, sizeof(*th));
        int started = 0;

        if (!ph || !th) {
                free(ph);
                free(th);
                snprintf(x->err, sizeof(x->err), "out of memory");
                return -1;
        }
        atomic_store(&x->next, 0);
        for (int i = 0; i < nw; i++) {
                ph[i] = (struct setup_phase){ &ws[i], fn, n };
                if (pthread_create(&th[i], NULL, setup_thread, &ph[i]) != 0)
                        break;
                started++;
        }
        for (int i = 0; i < started; i++)
                pthread_join(th[i], NULL);
        free(ph);
        free(th);
        if (started == 0) {
                snprintf(x->err, sizeof(x->err), "cannot start threads");
                return -1;
        }
        return atomic_load(&x->failed) ? -1 : 0;
}

/* The current versions of the terms and the privacy policy, as JSON. */
static int setup_documents(struct setup_ctx *x, struct setup_worker *w)
{
        struct curl_slist *h = load_headers(NULL);
        json_t *j = NULL, *items, *it;
        size_t i;
        int rc = setup_call(w, "GET", "/api/v1/documents", h, NULL, 200, &j);

        curl_slist_free_all(h);
        if (rc < 0) {
                snprintf(x->err, sizeof(x->err), "%s", w->err);
                return -1;
        }
        items = json_object_get(j, "items");
        json_array_foreach(items, i, it) {
                const char *doc = json_string_value(json_object_get(it, "document"));
                json_t *v = json_object_get(it, "version");
                char **dst = NULL;

                if (doc && strcmp(doc, "terms") == 0)
                        dst = &x->terms_v;
                else if (doc && strcmp(doc, "privacy") == 0)
                        dst = &x->privacy_v;
                if (dst && !*dst && v)
                        *dst = json_dumps(v, JSON_ENCODE_ANY);
        }
        json_decref(j);
        if (!x->terms_v || !x->privacy_v) {
                snprintf(x->err, sizeof(x->err), "no terms/privacy versions in /api/v1/documents");
                return -1;
        }
        return 0;
}

static int state_save(const struct load_state *st, const char *path)
{
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        f = fopen(tmp, "w");
        if (!f)
                return -errno;
        fprintf(f, "window %" PRId64 " %" PRId64 "\n", st->window_from, st->window_to);
        for (int i = 0; i < st->nhosts; i++)
                fprintf(f, "host %" PRId64 " %s\n", st->hosts[i].id, st->hosts[i].token);
        for (int i = 0; i < st->ndrivers; i++)
                fprintf(f, "driver %" PRId64 " %" PRId64 " %s\n", st->drivers[i].id,
                        st->drivers[i].vehicle, st->drivers[i].token);
        for (int i = 0; i < st->ncharger; i++)
                fprintf(f, "charger %" PRId64 " %d %ld\n", st->chargers[i].id,
                        st->chargers[i].host, atomic_load(&st->chargers[i].cursor));
        if (fclose(f) != 0)
                return -EIO;
        return rename(tmp, path) == 0 ? 0 : -errno;
}

static int state_alloc(struct load_state *st, int hosts, int drivers, int chargers)
{
        st->hosts = calloc((size_t)hosts, sizeof(*st->hosts));
        st->drivers = calloc((size_t)drivers, sizeof(*st->drivers));
        st->chargers = calloc((size_t)chargers, sizeof(*st->chargers));
        return st->hosts && st->drivers && st->chargers ? 0 : -ENOMEM;
}

static void state_free(struct load_state *st)
{
        free(st->hosts);
        free(st->drivers);
        free(st->chargers);
}

static int state_load(struct load_state *st, const char *path)
{
        char line[1024], tok[LOAD_TOKEN_MAX];
        int nh = 0, nd = 0, nc = 0;
        FILE *f = fopen(path, "r");

        if (!f)
                return -errno;
        memset(st, 0, sizeof(*st));
        while (fgets(line, sizeof(line), f)) {          /* count first */
                if (strncmp(line, "host ", 5) == 0)
                        nh++;
                else if (strncmp(line, "driver ", 7) == 0)
                        nd++;
                else if (strncmp(line, "charger ", 8) == 0)
                        nc++;
        }
        if (nh < 1 || nh > LOAD_MAX_HOSTS || nd < 1 || nd > LOAD_MAX_DRIVERS || nc < 1 ||
            nc > LOAD_MAX_CHARGERS || state_alloc(st, nh, nd, nc) < 0) {
                fclose(f);
                return -EINVAL;
        }
        rewind(f);
        while (fgets(line, sizeof(line), f)) {
                long long a, b;
                int hi;
                long cur;

                if (sscanf(line, "window %lld %lld", &a, &b) == 2) {
                        st->window_from = a;
                        st->window_to = b;
                } else if (sscanf(line, "host %lld %255s", &a, tok) == 2) {
                        st->hosts[st->nhosts].id = a;
                        snprintf(st->hosts[st->nhosts++].token, LOAD_TOKEN_MAX, "%s", tok);
                } else if (sscanf(line, "driver %lld %lld %255s", &a, &b, tok) == 3) {
                        st->drivers[st->ndrivers].id = a;
                        st->drivers[st->ndrivers].vehicle = b;
                        snprintf(st->drivers[st->ndrivers++].token, LOAD_TOKEN_MAX, "%s", tok);
                } else if (sscanf(line, "charger %lld %d %ld", &a, &hi, &cur) == 3) {
                        if (hi < 0 || hi >= nh)
                                break;
                        st->chargers[st->ncharger].id = a;
                        st->chargers[st->ncharger].host = hi;
                        atomic_store(&st->chargers[st->ncharger++].cursor, cur);
                }
        }
        fclose(f);
        if (st->nhosts != nh || st->ndrivers != nd || st->ncharger != nc ||
            st->window_to <= st->window_from) {
                state_free(st);
                return -EINVAL;
        }
        return 0;
}

static int setup_usage(void)
{
        fprintf(stderr, "usage: booking_load setup --url URL --op-token TOKEN --secret SECRET "
                "--state FILE [--hosts 8] [--drivers 64] [--chargers 1000] [--days 300] "
                "[--price 100] [--funds 100000000] [--threads 8]\n");
        return 2;
}

static int cmd_setup(int argc, char **argv)
{
        static struct setup_config cfg = { .hosts = 8, .drivers = 64, .chargers = 1000,
                                           .days = 300, .threads = 8, .price = 100,
                                           .funds = 100000000 };
        static struct setup_ctx x;
        static struct load_state st;
        struct setup_worker *ws;
        int64_t now = (int64_t)time(NULL), t0 = load_now_ns(), t1, t2;
        int rc = 1;

        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        return setup_usage();
                if (strcmp(a, "--url") == 0)
                        cfg.url = v;
                else if (strcmp(a, "--op-token") == 0)
                        cfg.op_token = v;
                else if (strcmp(a, "--secret") == 0)
                        cfg.secret = v;
                else if (strcmp(a, "--state") == 0)
                        cfg.state_path = v;
                else if (strcmp(a, "--hosts") == 0)
                        cfg.hosts = atoi(v);
                else if (strcmp(a, "--drivers") == 0)
                        cfg.drivers = atoi(v);
                else if (strcmp(a, "--chargers") == 0)
                        cfg.chargers = atoi(v);
                else if (strcmp(a, "--days") == 0)
                        cfg.days = atoi(v);
                else if (strcmp(a, "--threads") == 0)
                        cfg.threads = atoi(v);
                else if (strcmp(a, "--price") == 0)
                        cfg.price = atoll(v);
                else if (strcmp(a, "--funds") == 0)
                        cfg.funds = atoll(v);
                else
                        return setup_usage();
        }
        if (!cfg.url || !cfg.op_token || !cfg.secret || !cfg.state_path || cfg.hosts < 1 ||
            cfg.hosts > LOAD_MAX_HOSTS || cfg.drivers < 1 || cfg.drivers > LOAD_MAX_DRIVERS ||
            cfg.chargers < 1 || cfg.chargers > LOAD_MAX_CHARGERS || cfg.days < 1 ||
            cfg.days > 360 || cfg.threads < 1 || cfg.threads > 64 || cfg.price < 1 ||
            cfg.funds < 1)
                return setup_usage();
        if (sodium_init() < 0 || state_alloc(&st, cfg.hosts, cfg.drivers, cfg.chargers) < 0)
                return 1;
        st.nhosts = cfg.hosts;
        st.ndrivers = cfg.drivers;
        st.ncharger = cfg.chargers;
        /* tomorrow 00:00 in Tokyo, for `days` days: on any booking grid */
        st.window_from = ((now + LOAD_TOKYO_OFFSET) / 86400 + 1) * 86400 - LOAD_TOKYO_OFFSET;
        st.window_to = st.window_from + (int64_t)cfg.days * 86400;
        x.cfg = &cfg;
        x.st = &st;
        x.op_headers = load_headers(cfg.op_token);
        pthread_mutex_init(&x.err_lock, NULL);
        ws = calloc((size_t)cfg.threads, sizeof(*ws));
        if (!ws)
                return 1;
        for (int i = 0; i < cfg.threads; i++) {
                ws[i].ctx = &x;
                if (load_conn_init(&ws[i].conn) < 0)
                        return 1;
        }
        if (setup_documents(&x, &ws[0]) < 0 ||
            setup_run_phase(&x, ws, cfg.threads, setup_host, cfg.hosts) < 0 ||
            setup_run_phase(&x, ws, cfg.threads, setup_driver, cfg.drivers) < 0)
                goto out;
        t1 = load_now_ns();
        if (setup_run_phase(&x, ws, cfg.threads, setup_charger, cfg.chargers) < 0)
                goto out;
        t2 = load_now_ns();
        if (state_save(&st, cfg.state_path) < 0) {
                snprintf(x.err, sizeof(x.err), "cannot write %s", cfg.state_path);
                goto out;
        }
        printf("booking_load: setup %d hosts and %d drivers in %.1f s, %d chargers in %.1f s "
               "(%d threads)\n", cfg.hosts, cfg.drivers, (double)(t1 - t0) / 1e9, cfg.chargers,
               (double)(t2 - t1) / 1e9, cfg.threads);
        rc = 0;
out:
        if (rc != 0)
                fprintf(stderr, "booking_load: setup failed: %s\n", x.err);
        for (int i = 0; i < cfg.threads; i++)
                load_conn_free(&ws[i].conn);
        free(ws);
        curl_slist_free_all(x.op_headers);
        free(x.terms_v);
        free(x.privacy_v);
        state_free(&st);
        return rc;
}

/* ---- run ------------------------------------------------------------------------------------ */

struct run_config {
        const char *url;
        const char *state_path;
        int clients;
        double duration_s;
        int minutes;                    /* length of one booking */
        int contend_pct;
};

struct run_client {
        int index;
        const struct run_config *cfg;
        struct load_state *st;
        struct load_conn conn;
        struct curl_slist *driver_h;
        struct curl_slist **host_h;     /* one per host */
        unsigned rng;
        long pairs, conflicts, errors;
        char first_error[2048];
};

struct run_samples {
        uint32_t *us;                   /* latencies in µs */
        atomic_uint n;
};

static atomic_bool run_stop;
static pthread_barrier_t run_start;
static int64_t run_deadline_ns;
static struct run_samples run_pair, run_req, run_appr;

static void run_sample(struct run_samples *s, int64_t ns)
{
        unsigned k = atomic_fetch_add(&s->n, 1);

        if (k < LOAD_MAX_SAMPLES)
                s->us[k] = (uint32_t)(ns / 1000);
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return (x > y) - (x < y);
}

/* The q-quantile of s in ms (sorts s). */
static double run_quantile(struct run_samples *s, double q)
{
        unsigned n = atomic_load(&s->n);
        size_t k;

        if (n > LOAD_MAX_SAMPLES)
                n = LOAD_MAX_SAMPLES;
        if (n == 0)
                return 0;
        qsort(s->us, n, sizeof(*s->us), cmp_u32);
        k = (size_t)((double)n * q);
        if (k >= n)
                k = n - 1;
        return s->us[k] / 1000.0;
}

static void run_error(struct run_client *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void run_error(struct run_client *c, const char *fmt, ...)
{
        va_list ap;

        if (c->errors++ > 0)
                return;
        va_start(ap, fmt);
        vsnprintf(c->first_error, sizeof(c->first_error), fmt, ap);
        va_end(ap);
}

/* Whether the answer's top-level member key is the string want. */
static bool answer_str(json_t *j, const char *key, const char *want)
{
        const char *v = json_string_value(json_object_get(j, key));

        return v && strcmp(v, want) == 0;
}

/*
 * One request and, when it was accepted, its approval. 1 booked, 0 a
 * conflict (409 range_taken), -1 an error (recorded).
 */
static int run_book(struct run_client *c, const struct load_charger *ch, int64_t from,
                    int64_t to)
{
        const struct load_driver *d = &c->st->drivers[c->index % c->st->ndrivers];
        char body[512], path[128], s_from[40], s_to[40], err[512];
        int64_t t0 = load_now_ns(), t1, t2;
        json_t *j;
        int64_t id;

        load_rfc3339(from, s_from);
        load_rfc3339(to, s_to);
        snprintf(body, sizeof(body),
                 "{\"charger_id\":%" PRId64 ",\"vehicle_id\":%" PRId64 ",\"starts_at\":\"%s\","
                 "\"ends_at\":\"%s\"}", ch->id, d->vehicle, s_from, s_to);
        if (load_call(&c->conn, c->cfg->url, "POST", "/api/v1/reservations", c->driver_h, body,
                      err, sizeof(err)) < 0) {
                run_error(c, "client %d: %s", c->index, err);
                return -1;
        }
        j = json_loads(c->conn.buf ? c->conn.buf : "", 0, NULL);
        if (c->conn.status == 409 && answer_str(j, "code", "range_taken")) {
                json_decref(j);
                return 0;
        }
        if (c->conn.status != 201 || !answer_str(j, "state", "requested") ||
            json_id(j, "id") <= 0) {
                run_error(c, "client %d: POST /api/v1/reservations %s: %ld %s", c->index, body,
                          c->conn.status, c->conn.buf ? c->conn.buf : "");
                json_decref(j);
                return -1;
        }
        id = json_id(j, "id");
        json_decref(j);
        t1 = load_now_ns();
        snprintf(path, sizeof(path), "/api/v1/reservations/%" PRId64 "/approve", id);
        if (load_call(&c->conn, c->cfg->url, "POST", path, c->host_h[ch->host], "{}", err,
                      sizeof(err)) < 0) {
                run_error(c, "client %d: %s", c->index, err);
                return -1;
        }
        j = json_loads(c->conn.buf ? c->conn.buf : "", 0, NULL);
        if (c->conn.status != 200 || !answer_str(j, "state", "confirmed")) {
                run_error(c, "client %d: POST %s: %ld %s", c->index, path, c->conn.status,
                          c->conn.buf ? c->conn.buf : "");
                json_decref(j);
                return -1;
        }
        json_decref(j);
        t2 = load_now_ns();
        if (t2 > run_deadline_ns)
                return 1;               /* finished after the deadline: not measured */
        run_sample(&run_req, t1 - t0);
        run_sample(&run_appr, t2 - t1);
        run_sample(&run_pair, t2 - t0);
        return 1;
}

static void *run_client_main(void *arg)
{
        struct run_client *c = arg;
        struct load_state *st = c->st;
        const int64_t len = (int64_t)c->cfg->minutes * 60;
        int own = 0;                    /* round robin over this client's chargers */
        int nown = (st->ncharger - c->index + c->cfg->clients - 1) / c->cfg->clients;

        pthread_barrier_wait(&run_start);
        while (!atomic_load(&run_stop)) {
                struct load_charger *ch;
                int64_t from;
                int r;

                if (c->cfg->contend_pct > 0 &&
                    (int)(rand_r(&c->rng) % 100) < c->cfg->contend_pct) {
                        /* race the owner of a random charger for its next range */
                        ch = &st->chargers[rand_r(&c->rng) % (unsigned)st->ncharger];
                        from = st->window_from + atomic_load(&ch->cursor) * len + len / 2;
                } else {
                        ch = &st->chargers[c->index + own * c->cfg->clients];
                        own = (own + 1) % nown;
                        from = st->window_from + atomic_fetch_add(&ch->cursor, 1) * len;
                }
                if (from + len > st->window_to) {
                        run_error(c, "client %d: charger %" PRId64 " has no free range left in "
                                  "its slot; set up a longer one (--days)", c->index, ch->id);
                        break;
                }
                r = run_book(c, ch, from, from + len);
                if (r < 0)
                        break;
                if (load_now_ns() > run_deadline_ns)
                        break;
                if (r == 0)
                        c->conflicts++;
                else
                        c->pairs++;
        }
        return NULL;
}

static int run_usage(void)
{
        fprintf(stderr, "usage: booking_load run --url URL --state FILE [--clients 64] "
                "[--duration 15] [--minutes 60] [--contend 1]\n");
        return 2;
}

static int cmd_run(int argc, char **argv)
{
        static struct run_config cfg = { .clients = 64, .duration_s = 15, .minutes = 60,
                                         .contend_pct = 1 };
        static struct load_state st;
        struct run_client *cl;
        pthread_t *th;
        long pairs = 0, conflicts = 0, errors = 0;
        double cpu;
        struct rusage ru;
        int64_t t0;

        for (int i = 2; i < argc; i += 2) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!v)
                        return run_usage();
                if (strcmp(a, "--url") == 0)
                        cfg.url = v;
                else if (strcmp(a, "--state") == 0)
                        cfg.state_path = v;
                else if (strcmp(a, "--clients") == 0)
                        cfg.clients = atoi(v);
                else if (strcmp(a, "--duration") == 0)
                        cfg.duration_s = atof(v);
                else if (strcmp(a, "--minutes") == 0)
                        cfg.minutes = atoi(v);
                else if (strcmp(a, "--contend") == 0)
                        cfg.contend_pct = atoi(v);
                else
                        return run_usage();
        }
        if (!cfg.url || !cfg.state_path || cfg.clients < 1 || cfg.clients > LOAD_MAX_CLIENTS ||
            cfg.duration_s <= 0 || cfg.minutes < 1 || cfg.minutes % 15 != 0 ||
            cfg.contend_pct < 0 || cfg.contend_pct > 100)
                return run_usage();
        if (state_load(&st, cfg.state_path) < 0) {
                fprintf(stderr, "booking_load: cannot read the state file %s\n", cfg.state_path);
                return 1;
        }
        if (st.ncharger < cfg.clients) {
                fprintf(stderr, "booking_load: %d chargers for %d clients: need one each at "
                        "least\n", st.ncharger, cfg.clients);
                return 1;
        }
        run_pair.us = calloc(LOAD_MAX_SAMPLES, sizeof(uint32_t));
        run_req.us = calloc(LOAD_MAX_SAMPLES, sizeof(uint32_t));
        run_appr.us = calloc(LOAD_MAX_SAMPLES, sizeof(uint32_t));
        cl = calloc((size_t)cfg.clients, sizeof(*cl));
        th = calloc((size_t)cfg.clients, sizeof(*th));
        if (!run_pair.us || !run_req.us || !run_appr.us || !cl || !th)
                return 1;
        for (int i = 0; i < cfg.clients; i++) {
                struct run_client *c = &cl[i];

                c->index = i;
                c->cfg = &cfg;
                c->st = &st;
                c->rng = 0x9e3779b9u * (unsigned)(i + 1);
                if (load_conn_init(&c->conn) < 0)
                        return 1;
                c->driver_h = load_headers(st.drivers[i % st.ndrivers].token);
                c->host_h = calloc((size_t)st.nhosts, sizeof(*c->host_h));
                if (!c->host_h)
                        return 1;
                for (int h = 0; h < st.nhosts; h++)
                        c->host_h[h] = load_headers(st.hosts[h].token);
        }
        if (pthread_barrier_init(&run_start, NULL, (unsigned)cfg.clients + 1) != 0)
                return 1;
        for (int i = 0; i < cfg.clients; i++) {
                if (pthread_create(&th[i], NULL, run_client_main, &cl[i]) != 0) {
                        fprintf(stderr, "booking_load: cannot start client %d\n", i);
                        return 1;
                }
        }
        t0 = load_now_ns();
        run_deadline_ns = t0 + (int64_t)(cfg.duration_s * 1e9);
        pthread_barrier_wait(&run_start);
        {
                struct timespec ts = { (time_t)cfg.duration_s,
                                       (long)((cfg.duration_s - (double)(time_t)cfg.duration_s) *
                                              1e9) };

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        atomic_store(&run_stop, true);
        for (int i = 0; i < cfg.clients; i++)
                pthread_join(th[i], NULL);

        for (int i = 0; i < cfg.clients; i++) {
                pairs += cl[i].pairs;
                conflicts += cl[i].conflicts;
                errors += cl[i].errors;
                if (cl[i].errors > 0 && errors == cl[i].errors)
                        fprintf(stderr, "booking_load: first error: %s\n", cl[i].first_error);
                load_conn_free(&cl[i].conn);
                curl_slist_free_all(cl[i].driver_h);
                for (int h = 0; h < st.nhosts; h++)
                        curl_slist_free_all(cl[i].host_h[h]);
                free(cl[i].host_h);
        }
        if (state_save(&st, cfg.state_path) < 0) {
                fprintf(stderr, "booking_load: cannot write %s\n", cfg.state_path);
                errors++;
        }
        getrusage(RUSAGE_SELF, &ru);
        cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        {
                double p50 = run_quantile(&run_pair, 0.50), p99 = run_quantile(&run_pair, 0.99);
                double rq99 = run_quantile(&run_req, 0.99), ap99 = run_quantile(&run_appr, 0.99);

                printf("booking_load: %ld bookings in %.2f s = %.0f bookings/s, %d clients, "
                       "pair p50 %.1f ms p99 %.1f ms, request p99 %.1f ms, approve p99 %.1f ms, "
                       "conflicts %ld, client cpu %.1f s, errors %ld\n", pairs, cfg.duration_s,
                       (double)pairs / cfg.duration_s, cfg.clients, p50, p99, rq99, ap99,
                       conflicts, cpu, errors);
        }
        pthread_barrier_destroy(&run_start);
        free(run_pair.us);
        free(run_req.us);
        free(run_appr.us);
        free(cl);
        free(th);
        state_free(&st);
        return errors > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
        int rc;

        if (argc < 2) {
                fprintf(stderr, "usage: booking_load setup|run ...\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        if (strcmp(argv[1], "setup") == 0) {
                rc = cmd_setup(argc, argv);
        } else if (strcmp(argv[1], "run") == 0) {
                rc = cmd_run(argc, argv);
        } else {
                fprintf(stderr, "usage: booking_load setup|run ...\n");
                rc = 2;
        }
        curl_global_cleanup();
        return rc;
}
