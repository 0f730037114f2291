/*
 * test_api_energy.c - the home energy service over HTTP (issue 6): gateway
 * credentials (HE-1), registration (HE-2), linking a household (HE-3),
 * deregistration and hand-over (HE-4), measurement ingest in line protocol
 * (v1, v2, gzip) and in JSON batches, with per-point rejects, resends and
 * late points (HE-7), and the household's view: latest values, hourly,
 * daily and monthly rollups on Tokyo days, cost, CO2, self-consumption and
 * CSV export (HE-16). Expected numbers are worked out by hand next to the
 * data that produces them.
 *
 * The server clock is the test build's (PUT /api/v1/_test/clock, which also
 * runs the scheduler, including the purge of kept home data): each test
 * sets it to a fixed time before its gateway registers, then moves it past
 * the points it sends, so every timestamp is deterministic. Sessions live
 * 300 days on this server so that HE-4's 90-day jump keeps them valid.
 *
 * Every test makes its own members and gateways. The server runs with
 * energy.max_batch_points = 200, energy.max_decoded_body = 64 KiB and
 * energy.max_series_per_home = 12 so that the limits can be reached with
 * small requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "energy_fixture.h"
#include "harness.h"

#define MINUTE 60LL
#define HOUR 3600LL
#define DAY 86400LL
#define TOKYO_OFFSET (9 * HOUR)
#define MAX_POINTS 200                  /* energy.max_batch_points of this server */
#define MAX_DECODED (64 * 1024)         /* energy.max_decoded_body of this server */
#define MAX_SERIES 12                   /* energy.max_series_per_home of this server */

#define LP_CT "Content-Type: text/plain; charset=utf-8"
#define JSON_CT "Content-Type: application/json"

static struct api_server srv;
static char *op;
static int seq;

static const char *const server_args[] = {
        "--session-ttl", "300d",
        "--energy-max-batch-points", "200",
        "--energy-max-decoded-body", "64k",
        "--energy-max-series-per-home", "12",
        NULL,
};

/* ---- time --------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (Hinnant's algorithm). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
        long long era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (long long)doe - 719468;
}

/* Unix seconds of a wall-clock time in Tokyo. */
static long long tk(int y, int mo, int d, int hh, int mm)
{
        return days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY + hh * HOUR + mm * MINUTE -
               TOKYO_OFFSET;
}

/* RFC 3339 in +09:00 (the server's form), rotating static buffers. */
static const char *rfc(long long t)
{
        static char bufs[8][40];
        static int k;
        char *out = bufs[k++ % 8];
        time_t lt = (time_t)(t + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 40, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
        return out;
}

/* The same for a query string ('+' escaped). */
static const char *qt(long long t)
{
        static char bufs[8][48];
        static int k;
        char *out = bufs[k++ % 8];
        time_t lt = (time_t)(t + TOKYO_OFFSET);
        struct tm tm;

        gmtime_r(&lt, &tm);
        strftime(out, 48, "%Y-%m-%dT%H:%M:%S%%2B09:00", &tm);
        return out;
}

/* Unix milliseconds of an RFC 3339 time ("...T10:00:00[.123](Z|+09:00)"),
 * or LLONG_MIN when it is not one. */
static long long time_ms(const char *s)
{
        int y, mo, d, hh, mi, ss, n = 0, ms = 0, k = 0, oh = 0, om = 0;
        long long t, off = 0;

        if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &hh, &mi, &ss, &n) != 6)
                return LLONG_MIN;
        s += n;
        if (*s == '.') {
                for (s++; *s >= '0' && *s <= '9'; s++)
                        if (k < 3) {
                                ms = ms * 10 + (*s - '0');
                                k++;
                        }
                for (; k < 3; k++)
                        ms *= 10;
        }
        t = days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY + hh * HOUR + mi * MINUTE + ss;
        if (*s == '+' || *s == '-') {
                if (sscanf(s + 1, "%d:%d", &oh, &om) != 2)
                        return LLONG_MIN;
                off = (oh * HOUR + om * MINUTE) * (*s == '-' ? -1 : 1);
        } else if (*s != 'Z') {
                return LLONG_MIN;
        }
        return (t - off) * 1000 + ms;
}

/* ---- plumbing ------------------------------------------------------------------------ */

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct api_resp callf(const char *method, const char *token, const char *body,
                             const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        assert_int_equal(api_call(&srv, method, path, token, body, &r), 0);
        return r;
}

static void expect(struct api_resp *r, long status)
{
        if (r->status != status)
                fprintf(stderr, "expected %ld, got %ld %s\n", status, r->status, r->body);
        assert_int_equal(r->status, status);
}

/* GET that must answer 200 with JSON; returns the JSON (caller decrefs). */
static json_t *getf(const char *token, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *getf(const char *token, const char *fmt, ...)
{
        struct api_resp r = { 0 };
        char path[1024];
        json_t *j;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        assert_int_equal(api_call(&srv, "GET", path, token, NULL, &r), 0);
        if (r.status != 200)
                fprintf(stderr, "GET %s: %ld %s\n", path, r.status, r.body);
        assert_int_equal(r.status, 200);
        assert_non_null(r.json);
        j = json_incref(r.json);
        api_resp_free(&r);
        return j;
}

/* Moves the server's clock to t and runs what is due then. Returns the
 * number of homes the scheduler purged. */
static int clock_at(long long t)
{
        char *body = api_printf("{\"now\":\"%s\"}", rfc(t));
        struct api_resp r = callf("PUT", op, body, "/api/v1/_test/clock");
        int purged;

        expect(&r, 200);
        purged = (int)api_json_int(r.json, "homes_purged", 0);
        api_resp_free(&r);
        free(body);
        return purged;
}

static char *new_member(const char *who)
{
        char *email = api_printf("%s-%d@energy.test", who, ++seq);
        char *token = member_token(&srv, email);

        free(email);
        return token;
}

static int64_t me_id(const char *token)
{
        json_t *j = getf(token, "/api/v1/me");
        int64_t id = api_json_int(j, "id", 0);

        json_decref(j);
        assert_true(id > 0);
        return id;
}

/* A growing text (request bodies). */
struct text {
        char *s;
        size_t len, cap;
};

static void tadd(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tadd(struct text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (t->len + (size_t)n + 1 > t->cap) {
                size_t cap = (t->cap ? t->cap * 2 : 256) + (size_t)n;
                char *p = realloc(t->s, cap);

                assert_non_null(p);
                t->s = p;
                t->cap = cap;
        }
        va_start(ap, fmt);
        vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        t->len += (size_t)n;
}

static void tfree(struct text *t)
{
        free(t->s);
        memset(t, 0, sizeof(*t));
}

/* Whether needle occurs in hay. */
static int contains(const char *hay, const char *needle)
{
        return hay && needle && *needle && strstr(hay, needle) != NULL;
}

/* ---- numbers --------------------------------------------------------------------------- */

static void assert_close(double got, double want, const char *what)
{
        double d = got - want, tol = 1e-9 * (want < 0 ? -want : want) + 1e-6;

        if (d < 0)
                d = -d;
        if (!(d <= tol)) {
                fprintf(stderr, "%s: want %.10g, got %.10g\n", what, want, got);
                fail();
        }
}

/* A number member (or NAN when missing or not a number). */
static double num(json_t *o, const char *key)
{
        json_t *v = o ? json_object_get(o, key) : NULL;

        return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---- gzip without zlib: stored deflate blocks and a CRC-32 ---------------------------- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
        uint32_t c = 0xFFFFFFFFu;

        for (size_t i = 0; i < n; i++) {
                c ^= p[i];
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
        return ~c;
}

static void put_le32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)(v >> 16);
        p[3] = (unsigned char)(v >> 24);
}

/* A valid gzip member of data (malloc'd, *out_len bytes). */
static char *gzip_stored(const char *data, size_t n, size_t *out_len)
{
        static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
        size_t cap = 10 + n + (n / 65535 + 1) * 5 + 8, off = 0;
        unsigned char *o = malloc(cap), *p = o;

        assert_non_null(o);
        memcpy(p, hdr, sizeof(hdr));
        p += sizeof(hdr);
        do {
                size_t k = n - off > 65535 ? 65535 : n - off;

                *p++ = off + k == n ? 1 : 0;            /* BFINAL, BTYPE 00 (stored) */
                *p++ = (unsigned char)(k & 0xff);
                *p++ = (unsigned char)(k >> 8);
                *p++ = (unsigned char)(~k & 0xff);
                *p++ = (unsigned char)((~k >> 8) & 0xff);
                memcpy(p, data + off, k);
                p += k;
                off += k;
        } while (off < n);
        put_le32(p, crc32_of((const unsigned char *)data, n));
        put_le32(p + 4, (uint32_t)n);
        p += 8;
        *out_len = (size_t)(p - o);
        return (char *)o;
}

/* ---- gateways and homes ------------------------------------------------------------------ */

/* A gateway call with full control of the headers: auth is the whole
 * Authorization line (NULL: none), ctype and extra whole header lines. */
static struct api_resp gw_send(const char *auth, const char *method, const char *path,
                               const char *ctype, const char *extra, const char *body,
                               size_t len)
{
        const char *h[4];
        struct api_resp r = { 0 };
        int n = 0;

        if (auth)
                h[n++] = auth;
        if (ctype)
                h[n++] = ctype;
        if (extra)
                h[n++] = extra;
        h[n] = NULL;
        assert_int_equal(api_call_raw(&srv, method, path, h, body, body ? len : 0, &r), 0);
        return r;
}

/* Line protocol, v1 path, seconds, Basic auth. */
static struct api_resp lp_write(const struct energy_gateway *g, const char *body)
{
        return gw_send(g->auth, "POST", "/write?db=home&precision=s", LP_CT, NULL, body,
                       strlen(body));
}

static void lp_ok(const struct energy_gateway *g, const char *body)
{
        struct api_resp r = lp_write(g, body);

        expect(&r, 204);
        api_resp_free(&r);
}

/* JSON batch. */
static struct api_resp measure(const struct energy_gateway *g, const char *body)
{
        return gw_send(g->auth, "POST", "/api/v1/gateway/measurements", JSON_CT, NULL, body,
                       strlen(body));
}

/* The Authorization line "Token code:secret" (caller frees). */
static char *token_auth(const struct energy_gateway *g)
{
        return api_printf("Authorization: Token %s:%s", g->device_code, g->secret);
}

struct home {
        struct energy_gateway g;
        char *owner;                    /* the owner's session token */
        int64_t id;
};

/* At time t0: a new owner, a gateway provisioned, registered and linked. */
static void home_new(struct home *h, long long t0)
{
        memset(h, 0, sizeof(*h));
        clock_at(t0);
        h->owner = new_member("owner");
        energy_gateway_in_home(&srv, "MKN704", "2.1.0", h->owner, &h->g);
        h->id = h->g.home_id;
}

static void home_free(struct home *h)
{
        free(h->owner);
        h->owner = NULL;
}

/* The item of a series list with this channel and quantity (borrowed), or NULL. */
static json_t *series_item(json_t *list, const char *channel, const char *quantity)
{
        json_t *items = api_json_get(list, "items"), *it;
        size_t i;

        json_array_foreach(items, i, it) {
                const char *c = json_string_value(json_object_get(it, "channel"));
                const char *q = json_string_value(json_object_get(it, "quantity"));

                if (c && q && strcmp(c, channel) == 0 && strcmp(q, quantity) == 0)
                        return it;
        }
        return NULL;
}

/* The id of a home's series, 0 when there is none. */
static int64_t series_id(const struct home *h, const char *channel, const char *quantity)
{
        json_t *list = getf(h->owner, "/api/v1/homes/%lld/series", (long long)h->id);
        json_t *it = series_item(list, channel, quantity);
        int64_t id = it ? json_integer_value(json_object_get(it, "id")) : 0;

        json_decref(list);
        return id;
}

static int64_t series_must(const struct home *h, const char *channel, const char *quantity)
{
        int64_t id = series_id(h, channel, quantity);

        if (id <= 0)
                fprintf(stderr, "home %lld has no series %s/%s\n", (long long)h->id, channel,
                        quantity);
        assert_true(id > 0);
        return id;
}

/* GET .../series/{sid}/data over [from, to) at a resolution (JSON). */
static json_t *data_of(const struct home *h, int64_t sid, const char *res, long long from,
                       long long to)
{
        return getf(h->owner, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s&resolution=%s",
                    (long long)h->id, (long long)sid, qt(from), qt(to), res);
}

/* The bucket starting at start (unix s), or NULL. */
static json_t *bucket_at(json_t *d, long long start)
{
        json_t *b = api_json_get(d, "buckets"), *it;
        size_t i;

        json_array_foreach(b, i, it)
                if (time_ms(json_string_value(json_object_get(it, "start"))) == start * 1000)
                        return it;
        return NULL;
}

static json_t *bucket_must(json_t *d, long long start)
{
        json_t *b = bucket_at(d, start);

        if (!b) {
                char *s = json_dumps(d, JSON_COMPACT);

                fprintf(stderr, "no bucket at %s in %s\n", rfc(start), s);
                free(s);
        }
        assert_non_null(b);
        return b;
}

/* The value of the raw point at ms (the test fails when there is none). */
static double point_value(json_t *d, long long ms)
{
        json_t *p = api_json_get(d, "points"), *it;
        size_t i;

        json_array_foreach(p, i, it)
                if (time_ms(json_string_value(json_array_get(it, 0))) == ms)
                        return json_number_value(json_array_get(it, 1));
        fprintf(stderr, "no raw point at %lld ms\n", ms);
        fail();
        return NAN;
}

static size_t n_points(json_t *d)
{
        json_t *p = api_json_get(d, "points");

        assert_true(json_is_array(p));
        return json_array_size(p);
}

/* The counter increase of the bucket at start (res hour|day|month). */
static double total_at(const struct home *h, int64_t sid, const char *res, long long start)
{
        json_t *d = data_of(h, sid, res, start, start + 1);
        double v = num(bucket_must(d, start), "total");

        json_decref(d);
        return v;
}

/* The reject of point index in an ingest answer, or NULL. */
static json_t *reject_at(json_t *ans, long long index)
{
        json_t *arr = api_json_get(ans, "rejects"), *it;
        size_t i;

        json_array_foreach(arr, i, it)
                if (json_integer_value(json_object_get(it, "index")) == index)
                        return it;
        return NULL;
}

/* Asserts the reject of point index has this code (and line when line > 0). */
static void assert_reject(struct api_resp *r, long long index, long long line, const char *code)
{
        json_t *rj = reject_at(r->json, index);

        if (!rj || !json_string_value(json_object_get(rj, "code")) ||
            strcmp(json_string_value(json_object_get(rj, "code")), code) != 0 ||
            (line > 0 && json_integer_value(json_object_get(rj, "line")) != line))
                fprintf(stderr, "expected reject index %lld line %lld %s in %s\n", index, line,
                        code, r->body);
        assert_non_null(rj);
        assert_string_equal(json_string_value(json_object_get(rj, "code")), code);
        assert_non_null(json_string_value(json_object_get(rj, "message")));
        if (line > 0)
                assert_int_equal(json_integer_value(json_object_get(rj, "line")), line);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int setup(void **state)
{
        if (sodium_init() < 0)
                return -1;
        if (api_server_start(&srv, server_args) < 0)
                return -1;
        op = operator_token(&srv, "op@energy.test");
        return 0;
}

static int teardown(void **state)
{
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

/* ---- HE-1 gateways and their credentials --------------------------------------------------- */

/* Splits CSV text into lines (a copy; caller frees *lines[0]'s buffer via buf). */
static size_t csv_lines(const char *text, char **buf, char *lines[], size_t max)
{
        size_t n = 0;
        char *p, *save = NULL;

        *buf = strdup(text);
        assert_non_null(*buf);
        for (p = strtok_r(*buf, "\r\n", &save); p && n < max; p = strtok_r(NULL, "\r\n", &save))
                lines[n++] = p;
        return n;
}

/* Splits one CSV line into fields in place (no quoting). */
static size_t csv_fields(char *line, char *f[], size_t max)
{
        size_t n = 0;
        char *p = line;

        while (n < max) {
                char *c = strchr(p, ',');

                f[n++] = p;
                if (!c)
                        break;
                *c = '\0';
                p = c + 1;
        }
        return n;
}

/* Number of gateways of a model (operator list). */
static size_t gateways_of_model(const char *model)
{
        json_t *j = getf(op, "/api/v1/gateways?model=%s&limit=100", model);
        size_t n = json_array_size(api_json_get(j, "items"));

        json_decref(j);
        return n;
}

static void test_HE_1_provision_secret_shown_once_code_masked(void **state)
{
        char *model = api_printf("HE1-%d", ++seq), *model2 = api_printf("HE1B-%d", ++seq);
        char *body, *code, *secret, *masked, *mine, *csv, *buf, *lines[8] = { 0 }, *f[8] = { 0 };
        struct energy_gateway bg[2];
        struct api_resp r;
        int64_t id;
        json_t *j;
        size_t n;

        /* one gateway, generated code: both shown in full once */
        body = api_printf("{\"model\":\"%s\",\"firmware\":\"1.0.0\"}", model);
        r = callf("POST", op, body, "/api/v1/gateways");
        expect(&r, 201);
        free(body);
        id = api_json_int(r.json, "id", 0);
        assert_true(id > 0);
        code = strdup(api_json_str(r.json, "device_code"));
        secret = strdup(api_json_str(r.json, "secret"));
        assert_string_equal(api_json_str(r.json, "state"), "provisioned");
        assert_true(json_is_null(api_json_get(r.json, "home_id")));
        api_resp_free(&r);
        /* GW-XXXX-XXXX-XXXX of Crockford base32 */
        assert_int_equal(strlen(code), 17);
        assert_memory_equal(code, "GW-", 3);
        assert_int_equal(code[7], '-');
        assert_int_equal(code[12], '-');
        for (size_t i = 3; i < 17; i++)
                if (i != 7 && i != 12)
                        assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", code[i]));
        assert_true(strlen(secret) >= 32);
        masked = api_printf("GW-****-****-%s", code + 13);

        /* afterwards: masked, never the code or the secret */
        r = callf("GET", op, NULL, "/api/v1/gateways/%lld", (long long)id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "device_code"), masked);
        assert_null(api_json_get(r.json, "secret"));
        assert_false(contains(r.body, code));
        assert_false(contains(r.body, secret));
        assert_string_equal(api_json_str(r.json, "model"), model);
        assert_string_equal(api_json_str(r.json, "firmware"), "1.0.0");
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/gateways?model=%s", model);
        expect(&r, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.device_code"), masked);
        assert_false(contains(r.body, code));
        assert_false(contains(r.body, secret));
        api_resp_free(&r);

        /* a printed code: normalised to upper case, masked by its last four */
        mine = api_printf("aiseg-he1-%d-7q2z", ++seq);
        body = api_printf("{\"model\":\"%s\",\"device_code\":\"%s\"}", model, mine);
        r = callf("POST", op, body, "/api/v1/gateways");
        expect(&r, 201);
        {
                char *up = api_printf("AISEG-HE1-%d-7Q2Z", seq);

                assert_string_equal(api_json_str(r.json, "device_code"), up);
                free(up);
        }
        id = api_json_int(r.json, "id", 0);
        api_resp_free(&r);
        r = callf("GET", op, NULL, "/api/v1/gateways/%lld", (long long)id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "device_code"), "GW-****-****-7Q2Z");
        api_resp_free(&r);
        /* the same code again, in any case: taken */
        r = callf("POST", op, body, "/api/v1/gateways");
        assert_problem(&r, 409, "device_code_taken");
        api_resp_free(&r);
        free(body);
        r = callf("POST", op, "{\"model\":\"X\",\"device_code\":\"ab\"}", "/api/v1/gateways");
        expect(&r, 422);
        api_resp_free(&r);
        r = callf("POST", op, "{\"firmware\":\"1\"}", "/api/v1/gateways");
        expect(&r, 422);
        api_resp_free(&r);
        /* operators only */
        {
                char *m = new_member("he1");

                r = callf("POST", m, "{\"model\":\"X\"}", "/api/v1/gateways");
                expect(&r, 403);
                api_resp_free(&r);
                r = callf("GET", m, NULL, "/api/v1/gateways");
                expect(&r, 403);
                api_resp_free(&r);
                free(m);
        }

        /* bulk CSV: id,device_code,secret,model,firmware per row, once */
        csv = api_printf("model,device_code,firmware\r\n%s,BULK-%d-0001,1.0\r\n%s,,1.1\r\n\r\n",
                         model2, seq, model2);
        r = gw_send(NULL, "POST", "/api/v1/gateways/bulk", "Content-Type: text/csv", NULL, csv,
                    strlen(csv));
        expect(&r, 401);
        api_resp_free(&r);
        {
                const char *hh[] = { NULL, "Content-Type: text/csv", NULL };
                char *bearer = api_printf("Authorization: Bearer %s", op);

                hh[0] = bearer;
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                free(bearer);
        }
        expect(&r, 201);
        assert_memory_equal(r.content_type, "text/csv", 8);
        n = csv_lines(r.body, &buf, lines, 8);
        assert_int_equal(n, 3);
        assert_string_equal(lines[0], "id,device_code,secret,model,firmware");
        for (size_t i = 1; i < 3; i++) {
                char *expect_code = api_printf("BULK-%d-0001", seq);

                assert_int_equal(csv_fields(lines[i], f, 8), 5);
                assert_true(atoll(f[0]) > 0);
                if (i == 1)
                        assert_string_equal(f[1], expect_code);
                else
                        assert_memory_equal(f[1], "GW-", 3);
                assert_true(strlen(f[2]) >= 32);
                assert_string_equal(f[3], model2);
                assert_string_equal(f[4], i == 1 ? "1.0" : "1.1");
                energy_gateway_credentials(&bg[i - 1], atoll(f[0]), f[1], f[2]);
                free(expect_code);
        }
        free(buf);
        api_resp_free(&r);
        free(csv);
        /* each bulk gateway authenticates with its code and secret, and is shown masked */
        for (int i = 0; i < 2; i++) {
                char *mk = api_printf("GW-****-****-%s",
                                      bg[i].device_code + strlen(bg[i].device_code) - 4);

                energy_gateway_register(&srv, &bg[i]);
                j = getf(op, "/api/v1/gateways/%lld", (long long)bg[i].id);
                assert_string_equal(api_json_str(j, "device_code"), mk);
                assert_string_equal(api_json_str(j, "state"), "registered");
                json_decref(j);
                free(mk);
        }
        assert_int_equal(gateways_of_model(model2), 2);

        /* bad rows: 422 naming each bad row, nothing created */
        {
                char *m3 = api_printf("HE1C-%d", ++seq);
                char *bearer = api_printf("Authorization: Bearer %s", op);
                const char *hh[] = { bearer, "Content-Type: text/csv", NULL };
                json_t *errs, *e;
                size_t i;
                int row2 = 0, row3 = 0;

                csv = api_printf("model,device_code,firmware\n%s,GOOD-%d-0001,1.0\n"
                                 ",NOMODEL-%d,1.0\n%s,bad code!,1.0\n", m3, seq, seq, m3);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                assert_problem(&r, 422, "validation_failed");
                errs = api_json_get(r.json, "errors");
                assert_int_equal(json_array_size(errs), 2);
                json_array_foreach(errs, i, e) {
                        const char *msg = json_string_value(json_object_get(e, "detail"));

                        assert_non_null(msg);
                        row2 |= strstr(msg, "Row 2") != NULL;
                        row3 |= strstr(msg, "Row 3") != NULL;
                }
                assert_true(row2 && row3);
                api_resp_free(&r);
                free(csv);
                assert_int_equal(gateways_of_model(m3), 0);

                /* an unknown column, no rows, a header only */
                csv = api_printf("model,colour\n%s,red\n", m3);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                expect(&r, 422);
                api_resp_free(&r);
                free(csv);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh,
                                              "model,device_code\n", 18, &r), 0);
                expect(&r, 422);
                api_resp_free(&r);

                /* a code repeated within the upload: 409, nothing created */
                csv = api_printf("model,device_code\n%s,DUP-%d-0001\n%s,NEW-%d-0002\n"
                                 "%s,dup-%d-0001\n", m3, seq, m3, seq, m3, seq);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                assert_problem(&r, 409, "device_code_taken");
                api_resp_free(&r);
                free(csv);
                assert_int_equal(gateways_of_model(m3), 0);

                /* a code that exists already: 409, the new row not created either */
                csv = api_printf("model,device_code\n%s,FRESH-%d-0003\n%s,%s\n", m3, seq, m3,
                                 bg[0].device_code);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                assert_problem(&r, 409, "device_code_taken");
                assert_false(contains(r.body, bg[0].device_code));
                api_resp_free(&r);
                free(csv);
                assert_int_equal(gateways_of_model(m3), 0);

                /* CSV only */
                hh[1] = JSON_CT;
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh,
                                              "{}", 2, &r), 0);
                expect(&r, 415);
                api_resp_free(&r);

                /* answers that carry a secret are not to be cached (like session tokens) */
                body = api_printf("{\"model\":\"%s\"}", m3);
                r = callf("POST", op, body, "/api/v1/gateways");
                expect(&r, 201);
                if (strcmp(r.cache_control, "no-store") != 0)
                        fprintf(stderr, "POST /gateways: Cache-Control '%s'\n", r.cache_control);
                assert_string_equal(r.cache_control, "no-store");
                api_resp_free(&r);
                free(body);
                hh[1] = "Content-Type: text/csv";
                csv = api_printf("model\n%s\n", m3);
                assert_int_equal(api_call_raw(&srv, "POST", "/api/v1/gateways/bulk", hh, csv,
                                              strlen(csv), &r), 0);
                expect(&r, 201);
                if (strcmp(r.cache_control, "no-store") != 0)
                        fprintf(stderr, "POST /gateways/bulk: Cache-Control '%s'\n",
                                r.cache_control);
                assert_string_equal(r.cache_control, "no-store");
                api_resp_free(&r);
                free(csv);
                free(bearer);
                free(m3);
        }
        free(masked);
        free(mine);
        free(code);
        free(secret);
        free(model);
        free(model2);
}

static void test_HE_1_wrong_secret_401(void **state)
{
        struct energy_gateway g, other, bad;
        char *wrong, *tok, *path, *member = new_member("he1w");
        struct api_resp r;
        const char *reg = "/api/v1/gateway/registration";
        char *terms = energy_terms_version(&srv);
        char *body = api_printf("{\"terms_version\":\"%s\"}", terms);

        energy_gateway_provision(&srv, "MKN704", "1.0.0", &g);
        energy_gateway_provision(&srv, "MKN704", "1.0.0", &other);

        /* the right code with a wrong secret (last character changed) */
        wrong = strdup(g.secret);
        wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
        energy_gateway_credentials(&bad, g.id, g.device_code, wrong);
        r = gw_send(bad.auth, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        assert_true(r.www_authenticate[0] != '\0');
        api_resp_free(&r);
        /* an unknown code with a real secret; another gateway's secret */
        energy_gateway_credentials(&bad, g.id, "GW-0000-0000-0000", g.secret);
        r = gw_send(bad.auth, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        energy_gateway_credentials(&bad, g.id, g.device_code, other.secret);
        r = gw_send(bad.auth, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        /* no credentials, broken Basic, Token with a wrong secret, a member's session */
        r = gw_send(NULL, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        r = gw_send("Authorization: Basic !!!not-base64", "POST", reg, JSON_CT, NULL, body,
                    strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        tok = api_printf("Authorization: Token %s:%s", g.device_code, wrong);
        r = gw_send(tok, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        free(tok);
        tok = api_printf("Authorization: Bearer %s", member);
        r = gw_send(tok, "POST", reg, JSON_CT, NULL, body, strlen(body));
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        free(tok);

        /* ?u=&p= on /write only, and only with the right secret */
        path = api_printf("/write?db=home&precision=s&u=%s&p=%s", g.device_code, wrong);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, "power,channel=m value=1", 23);
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        free(path);
        path = api_printf("/write?db=home&precision=s&u=%s", g.device_code);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, "power,channel=m value=1", 23);
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v2/write?bucket=home&precision=s&u=%s&p=%s", g.device_code,
                          g.secret);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, "power,channel=m value=1", 23);
        assert_problem(&r, 401, "gateway_auth_failed");
        api_resp_free(&r);
        free(path);

        /* nothing of that registered the gateway; the right secret does */
        {
                json_t *j = getf(op, "/api/v1/gateways/%lld", (long long)g.id);

                assert_string_equal(api_json_str(j, "state"), "provisioned");
                json_decref(j);
        }
        tok = token_auth(&g);
        r = gw_send(tok, "POST", reg, JSON_CT, NULL, body, strlen(body));
        expect(&r, 201);
        api_resp_free(&r);
        r = gw_send(tok, "POST", "/api/v1/gateway/pairing-code", NULL, NULL, NULL, 0);
        expect(&r, 201);
        api_resp_free(&r);
        free(tok);
        free(wrong);
        free(member);
        free(body);
        free(terms);
}

/* Reads the whole server log (caller frees). */
static char *read_log(void)
{
        FILE *f = fopen(srv.log_path, "rb");
        struct text t = { 0 };
        char buf[4096];
        size_t n;

        assert_non_null(f);
        tadd(&t, "%s", "");
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                tadd(&t, "%.*s", (int)n, buf);
        fclose(f);
        return t.s;
}

static void test_HE_1_device_code_not_in_logs(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0);
        struct home h;
        struct api_resp r;
        char *path, *log, *lower, *lines;
        int64_t sid;
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        json_t *j;

        home_new(&h, t0);
        clock_at(t0 + HOUR);
        lines = api_printf("power,channel=main value=1200 %lld\n"
                           "energy,channel=main,class=0x0287,epc=0xC0 value=100 %lld\n",
                           t0 + 10 * MINUTE, t0 + 10 * MINUTE);
        /* credentials in the query (InfluxDB v1 clients), right and wrong */
        path = api_printf("/write?db=home&precision=s&u=%s&p=%s", h.g.device_code, h.g.secret);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, lines, strlen(lines));
        expect(&r, 204);
        api_resp_free(&r);
        free(path);
        path = api_printf("/write?db=home&precision=s&u=%s&p=nope", h.g.device_code);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, lines, strlen(lines));
        expect(&r, 401);
        assert_false(contains(r.body, h.g.device_code));
        api_resp_free(&r);
        free(path);
        lower = strdup(h.g.device_code);
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');

        /* what members, operators and exports see */
        sid = series_must(&h, "main", "power");
        {
                char *paths[] = {
                        api_printf("/api/v1/homes/%lld", (long long)h.id),
                        api_printf("/api/v1/me/homes"),
                        api_printf("/api/v1/homes/%lld/series", (long long)h.id),
                        api_printf("/api/v1/homes/%lld/latest", (long long)h.id),
                        api_printf("/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                                   "&format=csv", (long long)h.id, (long long)sid, qt(t0),
                                   qt(t0 + HOUR)),
                        api_printf("/api/v1/homes/%lld/summary?period=day&from=%s&to=%s"
                                   "&format=csv", (long long)h.id, qt(t0 - 12 * HOUR),
                                   qt(t0 + 12 * HOUR)),
                };

                for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                        r = callf("GET", h.owner, NULL, "%s", paths[i]);
                        expect(&r, 200);
                        if (contains(r.body, h.g.device_code) || contains(r.body, h.g.secret))
                                fprintf(stderr, "GET %s shows a credential: %s\n", paths[i],
                                        r.body);
                        assert_false(contains(r.body, h.g.device_code));
                        assert_false(contains(r.body, lower));
                        assert_false(contains(r.body, h.g.secret));
                        api_resp_free(&r);
                        free(paths[i]);
                }
        }
        j = getf(h.owner, "/api/v1/homes/%lld", (long long)h.id);
        {
                char *mk = api_printf("GW-****-****-%s", h.g.device_code + 13);

                assert_string_equal(api_json_str(j, "gateway.device_code"), mk);
                free(mk);
        }
        json_decref(j);
        r = callf("GET", op, NULL, "/api/v1/gateways?limit=100");
        expect(&r, 200);
        assert_false(contains(r.body, h.g.device_code));
        assert_false(contains(r.body, h.g.secret));
        api_resp_free(&r);

        /* the server's log (stdout + stderr): the requests are there, the credentials not */
        nanosleep(&ts, NULL);
        log = read_log();
        assert_true(contains(log, "/write"));
        if (contains(log, h.g.device_code) || contains(log, lower) ||
            contains(log, h.g.secret))
                fprintf(stderr, "the server log shows a gateway credential\n");
        assert_false(contains(log, h.g.device_code));
        assert_false(contains(log, lower));
        assert_false(contains(log, h.g.secret));
        free(log);
        free(lower);
        free(lines);
        home_free(&h);
}

/* ---- HE-2 registration ---------------------------------------------------------------------- */

static void test_HE_2_upload_before_registration_refused(void **state)
{
        struct energy_gateway g;
        struct api_resp r;
        char *tok, *member = new_member("he2"), *body, *path;
        json_t *j;
        const char *lp = "power,channel=main value=1200\n";
        const char *batch = "{\"batch_id\":\"b1\",\"series\":[{\"channel\":\"main\","
                            "\"quantity\":\"power\",\"unit\":\"W\"}],\"points\":[]}";

        energy_gateway_provision(&srv, "MKN704", "1.0.0", &g);
        r = measure(&g, batch);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        r = lp_write(&g, lp);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        tok = token_auth(&g);
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&precision=s", LP_CT, NULL, lp,
                    strlen(lp));
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        free(tok);
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/pairing-code", NULL, 409);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &g, "PUT", "/api/v1/gateway/settings", "{}", 409);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/history",
                                "{\"events\":[]}", 409);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &g, "DELETE", "/api/v1/gateway/registration?data=keep",
                                NULL, 409);
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);

        /* no member can link to it either */
        body = api_printf("{\"device_code\":\"%s\",\"pairing_code\":\"12345678\"}",
                          g.device_code);
        r = callf("POST", member, body, "/api/v1/homes/link");
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        free(body);

        /* the operator sees it provisioned, without a home */
        j = getf(op, "/api/v1/gateways/%lld", (long long)g.id);
        assert_string_equal(api_json_str(j, "state"), "provisioned");
        assert_true(json_is_null(api_json_get(j, "home_id")));
        assert_true(json_is_null(api_json_get(j, "registered_at")));
        json_decref(j);
        path = api_printf("/api/v1/gateways?state=provisioned&model=MKN704&limit=100");
        json_decref(getf(op, "%s", path));
        free(path);
        free(member);
}

static void test_HE_2_registration_records_terms_and_start(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0), started, started2;
        struct energy_gateway g;
        struct api_resp r;
        char *terms = energy_terms_version(&srv), *body, *owner = new_member("he2r");
        int64_t home;
        json_t *j;

        clock_at(t0);
        energy_gateway_provision(&srv, "MKN704", "1.0.0", &g);
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/registration", "{}", 422);
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/registration",
                                "{\"terms_version\":\"x\",\"colour\":\"red\"}", 422);
        api_resp_free(&r);

        body = api_printf("{\"terms_version\":\"%s\",\"firmware\":\"2.0.0\"}", terms);
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/registration", body, 201);
        home = api_json_int(r.json, "home_id", 0);
        assert_true(home > 0);
        assert_int_equal(api_json_int(r.json, "gateway_id", 0), g.id);
        assert_string_equal(api_json_str(r.json, "state"), "registered");
        assert_string_equal(api_json_str(r.json, "terms_version"), terms);
        started = time_ms(api_json_str(r.json, "started_at")) / 1000;
        assert_true(started >= t0 && started <= t0 + 60);
        api_resp_free(&r);
        g.home_id = home;

        /* registering again answers the running registration */
        r = energy_gateway_call(&srv, &g, "POST", "/api/v1/gateway/registration", body, 200);
        assert_int_equal(api_json_int(r.json, "home_id", 0), home);
        started2 = time_ms(api_json_str(r.json, "started_at")) / 1000;
        assert_int_equal(started2, started);
        api_resp_free(&r);

        /* the operator's view */
        j = getf(op, "/api/v1/gateways/%lld", (long long)g.id);
        assert_string_equal(api_json_str(j, "state"), "registered");
        assert_int_equal(api_json_int(j, "home_id", 0), home);
        assert_int_equal(time_ms(api_json_str(j, "registered_at")) / 1000, started);
        assert_string_equal(api_json_str(j, "firmware"), "2.0.0");
        json_decref(j);

        /* the home keeps the terms version and the start */
        assert_int_equal(energy_home_link(&srv, &g, owner), home);
        j = getf(owner, "/api/v1/homes/%lld", (long long)home);
        assert_string_equal(api_json_str(j, "terms_version"), terms);
        assert_int_equal(time_ms(api_json_str(j, "started_at")) / 1000, started);
        assert_string_equal(api_json_str(j, "state"), "active");
        assert_string_equal(api_json_str(j, "role"), "owner");
        assert_int_equal(api_json_int(j, "gateway.id", 0), g.id);
        assert_true(json_is_null(api_json_get(j, "ended_at")));
        json_decref(j);

        /* collection starts: data is kept against this registration */
        clock_at(t0 + HOUR);
        {
                char *lp = api_printf("power,channel=main value=750 %lld\n", t0 + 5 * MINUTE);
                struct home h = { .g = g, .owner = owner, .id = home };
                json_t *d;

                lp_ok(&g, lp);
                d = data_of(&h, series_must(&h, "main", "power"), "raw", t0, t0 + HOUR);
                assert_int_equal(n_points(d), 1);
                assert_close(point_value(d, (t0 + 5 * MINUTE) * 1000), 750, "value");
                json_decref(d);
                free(lp);
        }
        free(body);
        free(terms);
        free(owner);
}

/* ---- HE-3 linking --------------------------------------------------------------------------- */

/* The gateway shows a pairing code; returns it (caller frees), *expires in unix s. */
static char *pairing_code(const struct energy_gateway *g, long long *expires)
{
        struct api_resp r = energy_gateway_call(&srv, g, "POST", "/api/v1/gateway/pairing-code",
                                                NULL, 201);
        const char *code = api_json_str(r.json, "pairing_code");
        char *out;

        assert_non_null(code);
        assert_int_equal(strlen(code), 8);
        for (size_t i = 0; i < 8; i++)
                assert_true(code[i] >= '0' && code[i] <= '9');
        if (expires)
                *expires = time_ms(api_json_str(r.json, "expires_at")) / 1000;
        out = strdup(code);
        api_resp_free(&r);
        return out;
}

static struct api_resp link_home(const char *token, const char *device_code, const char *pairing)
{
        char *body = api_printf("{\"device_code\":\"%s\",\"pairing_code\":\"%s\"}", device_code,
                                pairing);
        struct api_resp r = callf("POST", token, body, "/api/v1/homes/link");

        free(body);
        return r;
}

static void test_HE_3_link_with_pairing_code_owner_then_invitation(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0), exp;
        struct energy_gateway g, g2;
        char *owner = new_member("he3o"), *second = new_member("he3s"), *third = new_member("he3t");
        char *fourth = new_member("he3f");
        int64_t owner_id = me_id(owner), second_id = me_id(second);
        char *p1, *p2, *wrong, *inv, *body;
        struct api_resp r;
        json_t *j, *members;

        clock_at(t0);
        energy_gateway_provision(&srv, "MKN704", "1.0.0", &g);
        energy_gateway_register(&srv, &g);
        energy_gateway_provision(&srv, "MKN704", "1.0.0", &g2);
        energy_gateway_register(&srv, &g2);

        p1 = pairing_code(&g, &exp);
        assert_true(exp >= t0 + 600 && exp <= t0 + 600 + 60);     /* 10 minutes */
        /* a wrong pairing code; the right one with another gateway's code */
        wrong = strdup(p1);
        wrong[7] = wrong[7] == '9' ? '0' : (char)(wrong[7] + 1);
        r = link_home(owner, g.device_code, wrong);
        assert_problem(&r, 422, "pairing_failed");
        api_resp_free(&r);
        r = link_home(owner, g2.device_code, p1);
        assert_problem(&r, 422, "pairing_failed");
        api_resp_free(&r);

        /* the first linker owns the home */
        r = link_home(owner, g.device_code, p1);
        expect(&r, 201);
        assert_int_equal(api_json_int(r.json, "id", 0), g.home_id);
        assert_string_equal(api_json_str(r.json, "role"), "owner");
        assert_int_equal(json_array_size(api_json_get(r.json, "members")), 1);
        api_resp_free(&r);
        /* a pairing code links once */
        r = link_home(second, g.device_code, p1);
        assert_problem(&r, 422, "pairing_failed");
        api_resp_free(&r);
        /* with a fresh code, a second member still needs an invitation */
        p2 = pairing_code(&g, NULL);
        r = link_home(second, g.device_code, p2);
        assert_problem(&r, 403, "invitation_required");
        api_resp_free(&r);
        r = callf("GET", second, NULL, "/api/v1/homes/%lld", (long long)g.home_id);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        r = callf("POST", second, "{}", "/api/v1/homes/%lld/invitations", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);

        /* the owner invites; the invitation joins once */
        r = callf("POST", owner, "{}", "/api/v1/homes/%lld/invitations", (long long)g.home_id);
        expect(&r, 201);
        inv = strdup(api_json_str(r.json, "invitation_code"));
        {
                long long e = time_ms(api_json_str(r.json, "expires_at")) / 1000;

                assert_true(e >= t0 + 7 * DAY && e <= t0 + 7 * DAY + 120);
        }
        api_resp_free(&r);
        body = api_printf("{\"invitation_code\":\"%s\"}", inv);
        r = callf("POST", second, body, "/api/v1/homes/join");
        expect(&r, 201);
        assert_int_equal(api_json_int(r.json, "id", 0), g.home_id);
        assert_string_equal(api_json_str(r.json, "role"), "member");
        api_resp_free(&r);
        r = callf("POST", third, body, "/api/v1/homes/join");
        assert_problem(&r, 422, "invitation_invalid");
        api_resp_free(&r);
        r = callf("POST", second, body, "/api/v1/homes/join");
        expect(&r, 422);
        api_resp_free(&r);
        free(body);
        r = callf("POST", second, "{\"invitation_code\":\"ehi_nonsense\"}", "/api/v1/homes/join");
        assert_problem(&r, 422, "invitation_invalid");
        api_resp_free(&r);
        /* members cannot invite */
        r = callf("POST", second, "{}", "/api/v1/homes/%lld/invitations", (long long)g.home_id);
        assert_problem(&r, 403, "not_owner");
        api_resp_free(&r);

        /* the member list, seen by both */
        for (int k = 0; k < 2; k++) {
                j = getf(k ? second : owner, "/api/v1/homes/%lld", (long long)g.home_id);
                assert_string_equal(api_json_str(j, "role"), k ? "member" : "owner");
                members = api_json_get(j, "members");
                assert_int_equal(json_array_size(members), 2);
                assert_int_equal(api_json_int(j, "members.0.member_id", 0), owner_id);
                assert_string_equal(api_json_str(j, "members.0.role"), "owner");
                assert_int_equal(api_json_int(j, "members.1.member_id", 0), second_id);
                assert_string_equal(api_json_str(j, "members.1.role"), "member");
                assert_non_null(api_json_str(j, "members.1.joined_at"));
                json_decref(j);
        }
        j = getf(second, "/api/v1/me/homes");
        assert_int_equal(json_array_size(api_json_get(j, "items")), 1);
        assert_int_equal(api_json_int(j, "items.0.id", 0), g.home_id);
        assert_string_equal(api_json_str(j, "items.0.role"), "member");
        json_decref(j);

        /* the member leaves; the owner cannot */
        r = callf("DELETE", owner, NULL, "/api/v1/homes/%lld/members/%lld", (long long)g.home_id,
                  (long long)owner_id);
        assert_problem(&r, 409, "owner_stays");
        api_resp_free(&r);
        r = callf("DELETE", second, NULL, "/api/v1/homes/%lld/members/%lld",
                  (long long)g.home_id, (long long)second_id);
        expect(&r, 204);
        api_resp_free(&r);
        r = callf("GET", second, NULL, "/api/v1/homes/%lld", (long long)g.home_id);
        expect(&r, 404);
        api_resp_free(&r);

        /* an invitation expires after 7 days */
        r = callf("POST", owner, "{}", "/api/v1/homes/%lld/invitations", (long long)g.home_id);
        expect(&r, 201);
        body = api_printf("{\"invitation_code\":\"%s\"}", api_json_str(r.json, "invitation_code"));
        exp = time_ms(api_json_str(r.json, "expires_at")) / 1000;
        api_resp_free(&r);
        clock_at(exp + 1);
        r = callf("POST", third, body, "/api/v1/homes/join");
        assert_problem(&r, 422, "invitation_invalid");
        api_resp_free(&r);
        free(body);

        /* a pairing code works until its 10 minutes are over, not after */
        {
                long long t1 = tk(2026, 12, 20, 9, 0), e1, e2;
                char *pa, *pb;

                clock_at(t1);
                pa = pairing_code(&g2, &e1);
                clock_at(e1 - 5);
                {
                        char *lc = strdup(g2.device_code);

                        for (char *q = lc; *q; q++)
                                if (*q >= 'A' && *q <= 'Z')
                                        *q = (char)(*q - 'A' + 'a');
                        r = link_home(third, lc, pa);
                        free(lc);
                }
                expect(&r, 201);
                assert_string_equal(api_json_str(r.json, "role"), "owner");
                api_resp_free(&r);
                pb = pairing_code(&g2, &e2);
                assert_true(e2 >= e1 - 5 + 600);
                clock_at(e2 + 1);
                r = link_home(fourth, g2.device_code, pb);
                assert_problem(&r, 422, "pairing_failed");
                api_resp_free(&r);
                free(pa);
                free(pb);
        }
        free(inv);
        free(p1);
        free(p2);
        free(wrong);
        free(owner);
        free(second);
        free(third);
        free(fourth);
}

/* ---- HE-4 deregistration and hand-over ------------------------------------------------------ */

static void assert_gateway_refused(const struct energy_gateway *g, long status, const char *code)
{
        const char *lp = "power,channel=main value=1\n";
        const char *batch = "{\"batch_id\":\"after\",\"series\":[{\"channel\":\"main\","
                            "\"quantity\":\"power\"}],\"points\":[]}";
        char *tok = token_auth(g);
        struct api_resp r;

        r = lp_write(g, lp);
        assert_problem(&r, status, code);
        api_resp_free(&r);
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&precision=s", LP_CT, NULL, lp,
                    strlen(lp));
        assert_problem(&r, status, code);
        api_resp_free(&r);
        r = measure(g, batch);
        assert_problem(&r, status, code);
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, g, "POST", "/api/v1/gateway/pairing-code", NULL);
        assert_problem(&r, status, code);
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, g, "PUT", "/api/v1/gateway/settings", "{}");
        assert_problem(&r, status, code);
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, g, "POST", "/api/v1/gateway/history", "{\"events\":[]}");
        assert_problem(&r, status, code);
        api_resp_free(&r);
        free(tok);
}

static void test_HE_4_deregistration_stops_collection_410(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0), keep;
        struct home h, h2;
        struct api_resp r;
        char *lp, *member, *inv;
        json_t *j;

        home_new(&h, t0);
        clock_at(t0 + 10 * MINUTE);
        lp = api_printf("power,channel=main value=500 %lld\n", t0 + 5 * MINUTE);
        lp_ok(&h.g, lp);

        /* an invitation made before the deregistration */
        r = callf("POST", h.owner, "{}", "/api/v1/homes/%lld/invitations", (long long)h.id);
        expect(&r, 201);
        inv = api_printf("{\"invitation_code\":\"%s\"}", api_json_str(r.json, "invitation_code"));
        api_resp_free(&r);

        /* by the gateway */
        r = energy_gateway_raw(&srv, &h.g, "DELETE", "/api/v1/gateway/registration?data=maybe",
                               NULL);
        expect(&r, 422);
        api_resp_free(&r);
        r = energy_gateway_call(&srv, &h.g, "DELETE", "/api/v1/gateway/registration?data=keep",
                                NULL, 200);
        assert_int_equal(api_json_int(r.json, "home_id", 0), h.id);
        assert_string_equal(api_json_str(r.json, "state"), "ended");
        keep = time_ms(api_json_str(r.json, "keep_until")) / 1000;
        assert_true(keep >= t0 + 10 * MINUTE + 90 * DAY && keep <= t0 + 11 * MINUTE + 90 * DAY);
        api_resp_free(&r);
        /* at once: every upload refused with a clear error, nothing stored */
        assert_gateway_refused(&h.g, 410, "gateway_deregistered");
        r = energy_gateway_raw(&srv, &h.g, "DELETE", "/api/v1/gateway/registration?data=keep",
                               NULL);
        assert_problem(&r, 410, "gateway_deregistered");
        api_resp_free(&r);
        j = getf(op, "/api/v1/gateways/%lld", (long long)h.g.id);
        assert_string_equal(api_json_str(j, "state"), "deregistered");
        json_decref(j);
        j = getf(h.owner, "/api/v1/homes/%lld", (long long)h.id);
        assert_string_equal(api_json_str(j, "state"), "ended");
        assert_true(time_ms(api_json_str(j, "ended_at")) / 1000 >= t0 + 10 * MINUTE);
        assert_int_equal(time_ms(api_json_str(j, "keep_until")) / 1000, keep);
        json_decref(j);
        j = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), 1);
        json_decref(j);
        r = callf("POST", h.owner, "{}", "/api/v1/homes/%lld/invitations", (long long)h.id);
        assert_problem(&r, 409, "home_ended");
        api_resp_free(&r);
        /* nobody joins or links an ended home */
        member = new_member("he4j");
        r = callf("POST", member, inv, "/api/v1/homes/join");
        assert_problem(&r, 422, "invitation_invalid");
        api_resp_free(&r);
        r = link_home(member, h.g.device_code, "12345678");
        assert_problem(&r, 409, "not_registered");
        api_resp_free(&r);
        free(member);
        free(inv);

        /* by the owner (hand-over); members may not */
        home_new(&h2, t0);
        clock_at(t0 + 10 * MINUTE);
        member = new_member("he4m");
        energy_home_add_member(&srv, h2.id, h2.owner, member);
        r = callf("POST", member, "{\"data\":\"keep\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h2.id);
        assert_problem(&r, 403, "not_owner");
        api_resp_free(&r);
        r = callf("POST", h2.owner, "{\"data\":\"maybe\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h2.id);
        expect(&r, 422);
        api_resp_free(&r);
        r = callf("POST", h2.owner, "{}", "/api/v1/homes/%lld/deregistration", (long long)h2.id);
        expect(&r, 422);
        api_resp_free(&r);
        lp_ok(&h2.g, lp);               /* still collecting until deregistered (5.5) */
        r = callf("POST", h2.owner, "{\"data\":\"keep\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h2.id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "ended");
        assert_non_null(api_json_str(r.json, "keep_until"));
        api_resp_free(&r);
        assert_gateway_refused(&h2.g, 410, "gateway_deregistered");
        r = callf("POST", h2.owner, "{\"data\":\"keep\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h2.id);
        assert_problem(&r, 409, "home_ended");
        api_resp_free(&r);
        free(lp);
        free(member);
        home_free(&h);
        home_free(&h2);
}

static void test_HE_4_handover_keep_then_purged_after_90_days(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0), keep;
        struct home h;
        struct api_resp r;
        char *lp, *member = new_member("he4k");
        int64_t sid;
        json_t *j, *d;

        home_new(&h, t0);
        energy_home_add_member(&srv, h.id, h.owner, member);
        clock_at(t0 + 2 * HOUR);
        /* 1000 Wh at 12:10, 1500 Wh at 13:10: 500 Wh in the 13:00 hour */
        lp = api_printf("energy,channel=grid,class=0x0287,epc=0xC0 value=1000 %lld\n"
                        "energy,channel=grid,class=0x0287,epc=0xC0 value=1500 %lld\n",
                        t0 + 10 * MINUTE, t0 + 70 * MINUTE);
        lp_ok(&h.g, lp);
        sid = series_must(&h, "grid", "energy");

        r = callf("POST", h.owner, "{\"data\":\"keep\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h.id);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "state"), "ended");
        keep = time_ms(api_json_str(r.json, "keep_until")) / 1000;
        assert_true(keep >= t0 + 2 * HOUR + 90 * DAY && keep <= t0 + 2 * HOUR + 90 * DAY + 60);
        api_resp_free(&r);

        /* the former residents can still read and export */
        for (int k = 0; k < 2; k++) {
                const char *who = k ? member : h.owner;

                j = getf(who, "/api/v1/homes/%lld", (long long)h.id);
                assert_string_equal(api_json_str(j, "state"), "ended");
                json_decref(j);
                j = getf(who, "/api/v1/me/homes");
                assert_int_equal(api_json_int(j, "items.0.id", 0), h.id);
                json_decref(j);
        }
        d = data_of(&h, sid, "raw", t0, t0 + 2 * HOUR);
        assert_int_equal(n_points(d), 2);
        json_decref(d);
        assert_close(total_at(&h, sid, "hour", t0 + HOUR), 500, "13:00 total");
        r = callf("GET", member, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                  "&format=csv", (long long)h.id, (long long)sid, qt(t0), qt(t0 + 2 * HOUR));
        expect(&r, 200);
        assert_memory_equal(r.content_type, "text/csv", 8);
        assert_true(contains(r.body, "1500"));
        api_resp_free(&r);
        json_decref(getf(h.owner, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                         (long long)h.id, qt(tk(2026, 12, 1, 0, 0)), qt(tk(2026, 12, 2, 0, 0))));

        /* an hour before the 90 days are over: still there */
        clock_at(keep - HOUR);
        d = data_of(&h, sid, "raw", t0, t0 + 2 * HOUR);
        assert_int_equal(n_points(d), 2);
        json_decref(d);

        /* past them, the scheduler deletes it */
        assert_true(clock_at(keep + MINUTE) >= 1);
        for (int k = 0; k < 2; k++) {
                const char *who = k ? member : h.owner;

                r = callf("GET", who, NULL, "/api/v1/homes/%lld", (long long)h.id);
                assert_problem(&r, 404, "not_found");
                api_resp_free(&r);
                r = callf("GET", who, NULL, "/api/v1/homes/%lld/series", (long long)h.id);
                expect(&r, 404);
                api_resp_free(&r);
                r = callf("GET", who, NULL,
                          "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s&resolution=raw",
                          (long long)h.id, (long long)sid, qt(t0), qt(t0 + 2 * HOUR));
                expect(&r, 404);
                api_resp_free(&r);
                j = getf(who, "/api/v1/me/homes");
                assert_int_equal(json_array_size(api_json_get(j, "items")), 0);
                json_decref(j);
        }
        /* the gateway itself remains, deregistered, ready for a new resident */
        j = getf(op, "/api/v1/gateways/%lld", (long long)h.g.id);
        assert_string_equal(api_json_str(j, "state"), "deregistered");
        json_decref(j);
        free(lp);
        free(member);
        home_free(&h);
}

static void test_HE_4_handover_delete_now(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0);
        struct home h, h2;
        struct api_resp r;
        char *lp, *member = new_member("he4d");
        int64_t sid;
        json_t *j;

        home_new(&h, t0);
        energy_home_add_member(&srv, h.id, h.owner, member);
        clock_at(t0 + HOUR);
        lp = api_printf("power,channel=main value=800 %lld\n", t0 + 10 * MINUTE);
        lp_ok(&h.g, lp);
        sid = series_must(&h, "main", "power");

        r = callf("POST", h.owner, "{\"data\":\"delete\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)h.id);
        expect(&r, 200);
        assert_true(json_is_null(api_json_get(r.json, "keep_until")) ||
                    time_ms(api_json_str(r.json, "keep_until")) / 1000 <= t0 + HOUR + 60);
        api_resp_free(&r);
        /* gone at once, for every former member; the gateway is refused */
        for (int k = 0; k < 2; k++) {
                const char *who = k ? member : h.owner;

                r = callf("GET", who, NULL, "/api/v1/homes/%lld", (long long)h.id);
                assert_problem(&r, 404, "not_found");
                api_resp_free(&r);
                r = callf("GET", who, NULL,
                          "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s&resolution=raw",
                          (long long)h.id, (long long)sid, qt(t0), qt(t0 + HOUR));
                expect(&r, 404);
                api_resp_free(&r);
                r = callf("GET", who, NULL, "/api/v1/homes/%lld/latest", (long long)h.id);
                expect(&r, 404);
                api_resp_free(&r);
                j = getf(who, "/api/v1/me/homes");
                assert_int_equal(json_array_size(api_json_get(j, "items")), 0);
                json_decref(j);
        }
        assert_gateway_refused(&h.g, 410, "gateway_deregistered");

        /* the same through the gateway */
        home_new(&h2, t0);
        clock_at(t0 + HOUR);
        lp_ok(&h2.g, lp);
        r = energy_gateway_call(&srv, &h2.g, "DELETE", "/api/v1/gateway/registration?data=delete",
                                NULL, 200);
        assert_int_equal(api_json_int(r.json, "home_id", 0), h2.id);
        assert_true(json_is_null(api_json_get(r.json, "keep_until")));
        api_resp_free(&r);
        r = callf("GET", h2.owner, NULL, "/api/v1/homes/%lld/series", (long long)h2.id);
        expect(&r, 404);
        api_resp_free(&r);
        assert_gateway_refused(&h2.g, 410, "gateway_deregistered");
        free(lp);
        free(member);
        home_free(&h);
        home_free(&h2);
}

static void test_HE_4_new_resident_starts_fresh_home(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0), t1 = t0 + 2 * HOUR, keep;
        struct home old, fresh;
        struct api_resp r;
        char *lp, *terms = energy_terms_version(&srv), *body;
        int64_t old_sid, new_sid;
        json_t *j, *d;

        home_new(&old, t0);
        clock_at(t0 + HOUR);
        lp = api_printf("energy,channel=grid,class=0x0287,epc=0xC0 value=1000 %lld\n"
                        "energy,channel=grid,class=0x0287,epc=0xC0 value=1200 %lld\n"
                        "power,channel=main value=640 %lld\n",
                        t0 + 10 * MINUTE, t0 + 40 * MINUTE, t0 + 40 * MINUTE);
        lp_ok(&old.g, lp);
        free(lp);
        old_sid = series_must(&old, "grid", "energy");
        energy_gateway_deregister(&srv, &old.g, "keep");

        /* the new resident registers the same gateway afresh */
        clock_at(t1);
        memset(&fresh, 0, sizeof(fresh));
        fresh.g = old.g;
        body = api_printf("{\"terms_version\":\"%s\"}", terms);
        r = energy_gateway_call(&srv, &fresh.g, "POST", "/api/v1/gateway/registration", body,
                                201);
        fresh.id = api_json_int(r.json, "home_id", 0);
        assert_true(fresh.id > 0);
        assert_true(fresh.id != old.id);
        assert_true(time_ms(api_json_str(r.json, "started_at")) / 1000 >= t1);
        api_resp_free(&r);
        fresh.g.home_id = fresh.id;
        fresh.owner = new_member("he4new");
        /* the new home has no owner yet: the new resident becomes it */
        assert_int_equal(energy_home_link(&srv, &fresh.g, fresh.owner), fresh.id);
        j = getf(fresh.owner, "/api/v1/homes/%lld", (long long)fresh.id);
        assert_string_equal(api_json_str(j, "role"), "owner");
        assert_int_equal(json_array_size(api_json_get(j, "members")), 1);
        json_decref(j);
        j = getf(op, "/api/v1/gateways/%lld", (long long)old.g.id);
        assert_string_equal(api_json_str(j, "state"), "registered");
        assert_int_equal(api_json_int(j, "home_id", 0), fresh.id);
        json_decref(j);

        /* nothing of the old home shows */
        j = getf(fresh.owner, "/api/v1/homes/%lld/series", (long long)fresh.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), 0);
        json_decref(j);
        j = getf(fresh.owner, "/api/v1/homes/%lld/latest", (long long)fresh.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), 0);
        json_decref(j);
        r = callf("GET", fresh.owner, NULL, "/api/v1/homes/%lld", (long long)old.id);
        expect(&r, 404);
        api_resp_free(&r);
        r = callf("GET", fresh.owner, NULL,
                  "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s&resolution=raw",
                  (long long)fresh.id, (long long)old_sid, qt(t0), qt(t1));
        expect(&r, 404);
        api_resp_free(&r);
        r = callf("GET", old.owner, NULL, "/api/v1/homes/%lld", (long long)fresh.id);
        expect(&r, 404);
        api_resp_free(&r);

        /* the gateway's old-period points do not enter the new home */
        clock_at(t1 + HOUR);
        lp = api_printf("energy,channel=grid,class=0x0287,epc=0xC0 value=1100 %lld\n"
                        "energy,channel=grid,class=0x0287,epc=0xC0 value=1300 %lld\n"
                        "energy,channel=grid,class=0x0287,epc=0xC0 value=1350 %lld\n",
                        t0 + 30 * MINUTE, t1 + 10 * MINUTE, t1 + 20 * MINUTE);
        r = lp_write(&fresh.g, lp);
        expect(&r, 400);
        assert_reject(&r, 0, 1, "before_registration");
        api_resp_free(&r);
        free(lp);
        new_sid = series_must(&fresh, "grid", "energy");
        assert_true(new_sid != old_sid);
        d = data_of(&fresh, new_sid, "raw", t0, t1 + HOUR);
        assert_int_equal(n_points(d), 2);
        json_decref(d);
        assert_close(total_at(&fresh, new_sid, "hour", t1), 50, "new home hour total");

        /* the former residents keep their data, unchanged */
        d = data_of(&old, old_sid, "raw", t0, t1 + HOUR);
        assert_int_equal(n_points(d), 2);
        assert_close(point_value(d, (t0 + 10 * MINUTE) * 1000), 1000, "old 12:10");
        assert_close(point_value(d, (t0 + 40 * MINUTE) * 1000), 1200, "old 12:40");
        json_decref(d);
        assert_close(total_at(&old, old_sid, "hour", t0), 200, "old hour total");
        j = getf(old.owner, "/api/v1/homes/%lld/latest", (long long)old.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), 2);
        json_decref(j);
        j = getf(old.owner, "/api/v1/homes/%lld", (long long)old.id);
        keep = time_ms(api_json_str(j, "keep_until")) / 1000;
        json_decref(j);

        /* when the old home's keeping period ends, only it is deleted */
        assert_true(keep > t1);
        clock_at(keep + MINUTE);
        r = callf("GET", old.owner, NULL, "/api/v1/homes/%lld", (long long)old.id);
        expect(&r, 404);
        api_resp_free(&r);
        d = data_of(&fresh, new_sid, "raw", t0, t1 + HOUR);
        assert_int_equal(n_points(d), 2);
        json_decref(d);
        j = getf(op, "/api/v1/gateways/%lld", (long long)old.g.id);
        assert_string_equal(api_json_str(j, "state"), "registered");
        assert_int_equal(api_json_int(j, "home_id", 0), fresh.id);
        json_decref(j);
        lp = api_printf("energy,channel=grid,class=0x0287,epc=0xC0 value=1400 %lld\n",
                        keep + 30);
        lp_ok(&fresh.g, lp);
        free(lp);
        free(body);
        free(terms);
        home_free(&old);
        home_free(&fresh);
}

/* ---- HE-7 measurements ---------------------------------------------------------------------- */

static void test_HE_7_line_protocol_v1_and_v2(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE, now = t0 + HOUR;
        struct home h;
        struct api_resp r;
        char *lp, *path, *tok;
        int64_t sid;
        json_t *list, *it, *d;

        home_new(&h, t0);
        clock_at(now);
        /* v1, seconds, Basic */
        lp = api_printf("power,channel=main,class=0x0287,epc=0xC6 value=1200 %lld\n"
                        "energy,channel=main,class=0x0287,epc=0xC0 value=5000i %lld\n",
                        t1, t1);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT, NULL, lp, strlen(lp));
        expect(&r, 204);
        assert_int_equal(r.len, 0);
        api_resp_free(&r);
        free(lp);
        /* v1 with ?u=&p= (no header) */
        path = api_printf("/write?db=home&precision=s&u=%s&p=%s", h.g.device_code, h.g.secret);
        lp = api_printf("power,channel=main value=1300 %lld\n", t1 + 60);
        r = gw_send(NULL, "POST", path, LP_CT, NULL, lp, strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        free(path);
        /* v2, milliseconds, Token */
        tok = token_auth(&h.g);
        lp = api_printf("power,channel=main value=1400 %lld\n", (t1 + 120) * 1000 + 250);
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&org=enemane&precision=ms", LP_CT,
                    NULL, lp, strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        /* v1 default precision (ns) and v2 us: truncated to ms */
        lp = api_printf("power,channel=main value=1500 %lld123456789\n", t1 + 180);
        r = gw_send(h.g.auth, "POST", "/write?db=home", LP_CT, NULL, lp, strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        lp = api_printf("power,channel=main value=1600 %lld005999\n", t1 + 240);
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&precision=us", LP_CT, NULL, lp,
                    strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        /* no timestamp: now */
        lp = api_printf("soc,channel=battery,class=0x027D,epc=0xE4 value=55\n");
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&precision=s", LP_CT, NULL, lp,
                    strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        /* minutes and hours; escaped tag values; CRLF line ends and blanks */
        lp = api_printf("power,channel=hm value=10 %lld\n", (t1 + 300) / 60);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=m", LP_CT, NULL, lp, strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        lp = api_printf("power,channel=hm value=20 %lld\n", (t0 + HOUR) / 3600);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=h", LP_CT, NULL, lp, strlen(lp));
        expect(&r, 204);
        api_resp_free(&r);
        free(lp);
        lp = api_printf("  power,channel=room.1,name=Living\\ room\\,\\ 1F value=33.5 %lld  \r\n"
                        "\r\n", t1);
        lp_ok(&h.g, lp);
        free(lp);
        /* an unknown precision */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=fortnight", LP_CT, NULL,
                    "power,channel=main value=1", 26);
        assert_problem(&r, 400, "bad_precision");
        api_resp_free(&r);
        free(tok);

        /* the series and their ECHONET Lite sources */
        list = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(list, "items")), 5);
        it = series_item(list, "room.1", "power");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "name")), "Living room, 1F");
        assert_close(num(json_object_get(it, "latest"), "value"), 33.5, "escaped line");
        it = series_item(list, "main", "power");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "W");
        assert_string_equal(json_string_value(json_object_get(it, "class")), "0x0287");
        assert_string_equal(json_string_value(json_object_get(it, "epc")), "0xC6");
        it = series_item(list, "main", "energy");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "Wh");
        assert_string_equal(json_string_value(json_object_get(it, "role")), "purchase");
        assert_close(num(json_object_get(it, "latest"), "value"), 5000, "energy latest");
        it = series_item(list, "battery", "soc");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "%");
        assert_string_equal(json_string_value(json_object_get(it, "class")), "0x027D");
        {
                long long t = time_ms(api_json_str(json_object_get(it, "latest"), "time")) / 1000;

                assert_true(t >= now && t <= now + 120);
        }
        json_decref(list);

        sid = series_must(&h, "main", "power");
        d = data_of(&h, sid, "raw", t0, now);
        assert_int_equal(n_points(d), 5);
        assert_close(point_value(d, t1 * 1000), 1200, "v1 s");
        assert_close(point_value(d, (t1 + 60) * 1000), 1300, "v1 query auth");
        assert_close(point_value(d, (t1 + 120) * 1000 + 250), 1400, "v2 ms");
        assert_close(point_value(d, (t1 + 180) * 1000 + 123), 1500, "v1 ns");
        assert_close(point_value(d, (t1 + 240) * 1000 + 5), 1600, "v2 us");
        json_decref(d);
        d = data_of(&h, series_must(&h, "hm", "power"), "raw", t0, now + 1);
        assert_int_equal(n_points(d), 2);
        assert_close(point_value(d, (t1 + 300) * 1000), 10, "v1 minutes");
        assert_close(point_value(d, (t0 + HOUR) * 1000), 20, "v1 hours");
        json_decref(d);
        home_free(&h);
}

static void test_HE_7_gzip_body(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE;
        struct home h;
        struct api_resp r;
        struct text big = { 0 };
        char *lp, *gz, *tok, *json;
        size_t gzlen;
        int64_t sid;
        json_t *d;

        home_new(&h, t0);
        clock_at(t0 + HOUR);
        lp = api_printf("power,channel=gz value=100 %lld\npower,channel=gz value=200 %lld\n"
                        "power,channel=gz value=300 %lld\n", t1, t1 + 60, t1 + 120);
        gz = gzip_stored(lp, strlen(lp), &gzlen);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        expect(&r, 204);
        api_resp_free(&r);
        sid = series_must(&h, "gz", "power");
        d = data_of(&h, sid, "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 3);
        assert_close(point_value(d, (t1 + 60) * 1000), 200, "gzip point");
        json_decref(d);

        /* v2 too */
        tok = token_auth(&h.g);
        free(lp);
        free(gz);
        lp = api_printf("power,channel=gz value=400 %lld\n", t1 + 180);
        gz = gzip_stored(lp, strlen(lp), &gzlen);
        r = gw_send(tok, "POST", "/api/v2/write?bucket=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        expect(&r, 204);
        api_resp_free(&r);

        /* broken gzip: not gzip, cut short, a wrong checksum */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", lp, strlen(lp));
        assert_problem(&r, 400, "bad_gzip");
        api_resp_free(&r);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen - 8);
        assert_problem(&r, 400, "bad_gzip");
        api_resp_free(&r);
        gz[gzlen - 6] ^= 0x55;
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        assert_problem(&r, 400, "bad_gzip");
        api_resp_free(&r);
        /* an encoding the server does not speak */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: br", lp, strlen(lp));
        assert_problem(&r, 415, "unsupported_encoding");
        api_resp_free(&r);
        free(gz);
        /* more than energy.max_decoded_body once decoded */
        while (big.len <= MAX_DECODED)
                tadd(&big, "# padding comment line to make the decoded body large .......\n");
        tadd(&big, "power,channel=gz value=1 %lld\n", t1 + 300);
        gz = gzip_stored(big.s, big.len, &gzlen);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        assert_problem(&r, 413, "body_too_large");
        api_resp_free(&r);
        free(gz);
        d = data_of(&h, sid, "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 4);
        json_decref(d);

        /* a gzip JSON batch */
        json = api_printf("{\"batch_id\":\"gz-json-1\",\"series\":[{\"channel\":\"gzj\","
                          "\"quantity\":\"power\",\"unit\":\"W\"}],\"points\":[[0,%lld,42]]}",
                          t1);
        gz = gzip_stored(json, strlen(json), &gzlen);
        r = gw_send(h.g.auth, "POST", "/api/v1/gateway/measurements", JSON_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "accepted", -1), 1);
        api_resp_free(&r);
        d = data_of(&h, series_must(&h, "gzj", "power"), "raw", t0, t0 + HOUR);
        assert_close(point_value(d, t1 * 1000), 42, "gzip json");
        json_decref(d);
        free(gz);
        free(json);
        free(lp);
        free(tok);
        tfree(&big);
        home_free(&h);
}

static void test_HE_7_json_batch(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE, t2 = t0 + 40 * MINUTE;
        struct home h;
        struct api_resp r;
        char *body;
        json_t *list, *it, *d;

        home_new(&h, t0);
        clock_at(t0 + 2 * HOUR);
        body = api_printf(
                "{\"batch_id\":\"jb-1\",\"precision\":\"s\",\"series\":["
                "{\"channel\":\"grid\",\"quantity\":\"energy\",\"unit\":\"kWh\","
                "\"class\":\"0x0287\",\"epc\":\"0xC0\",\"name\":\"Grid purchase\"},"
                "{\"channel\":\"pv\",\"quantity\":\"power\",\"unit\":\"kW\",\"class\":\"0x0279\","
                "\"epc\":\"0xE0\",\"instance\":1},"
                "{\"channel\":\"c3\",\"quantity\":\"power\",\"unit\":\"W\",\"class\":\"0x0287\","
                "\"epc\":\"0xB7\",\"circuit\":3,\"name\":\"キッチン\",\"role\":\"circuit\"},"
                "{\"channel\":\"gas\",\"quantity\":\"gas\",\"unit\":\"m3\",\"class\":\"0x0282\","
                "\"epc\":\"0xE0\"},"
                "{\"channel\":\"water\",\"quantity\":\"water\",\"unit\":\"L\",\"class\":\"0x0281\","
                "\"epc\":\"0xE0\"},"
                "{\"channel\":\"bat\",\"quantity\":\"soc\",\"unit\":\"%%\",\"class\":\"0x027D\","
                "\"epc\":\"0xE4\"}],"
                "\"points\":[[0,%lld,12.5],[0,%lld,13.25],[1,%lld,2.4],[2,%lld,350],"
                "[3,%lld,100.5],[4,%lld,2000],[5,%lld,80]]}",
                t1, t2, t1, t1, t1, t1, t1);
        r = measure(&h.g, body);
        expect(&r, 200);
        assert_string_equal(api_json_str(r.json, "batch_id"), "jb-1");
        assert_int_equal(api_json_int(r.json, "accepted", -1), 7);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 0);
        assert_int_equal(json_array_size(api_json_get(r.json, "rejects")), 0);
        assert_true(json_is_false(api_json_get(r.json, "duplicate")));
        api_resp_free(&r);
        free(body);

        list = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(list, "items")), 6);
        it = series_item(list, "grid", "energy");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "kWh");
        assert_string_equal(json_string_value(json_object_get(it, "role")), "purchase");
        assert_string_equal(json_string_value(json_object_get(it, "name")), "Grid purchase");
        assert_close(num(json_object_get(it, "latest"), "value"), 13.25, "grid latest");
        it = series_item(list, "pv", "power");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "role")), "generation");
        assert_int_equal(json_integer_value(json_object_get(it, "instance")), 1);
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "kW");
        it = series_item(list, "c3", "power");
        assert_non_null(it);
        assert_int_equal(json_integer_value(json_object_get(it, "circuit")), 3);
        assert_string_equal(json_string_value(json_object_get(it, "name")), "キッチン");
        assert_string_equal(json_string_value(json_object_get(it, "role")), "circuit");
        assert_string_equal(json_string_value(json_object_get(it, "epc")), "0xB7");
        it = series_item(list, "gas", "gas");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "role")), "gas");
        it = series_item(list, "water", "water");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "role")), "water");
        it = series_item(list, "bat", "soc");
        assert_non_null(it);
        assert_string_equal(json_string_value(json_object_get(it, "role")), "soc");
        assert_string_equal(json_string_value(json_object_get(it, "unit")), "%");
        json_decref(list);
        /* kWh counter: 12.5 -> 13.25 = 0.75 in the 09:00 hour */
        assert_close(total_at(&h, series_must(&h, "grid", "energy"), "hour", t0), 0.75,
                     "grid hour");

        /* milliseconds */
        body = api_printf("{\"batch_id\":\"jb-2\",\"precision\":\"ms\",\"series\":["
                          "{\"channel\":\"pv\",\"quantity\":\"power\",\"unit\":\"kW\"}],"
                          "\"points\":[[0,%lld,2.6]]}", (t2 * 1000) + 500);
        r = measure(&h.g, body);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "accepted", -1), 1);
        api_resp_free(&r);
        free(body);
        d = data_of(&h, series_must(&h, "pv", "power"), "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 2);
        assert_close(point_value(d, t1 * 1000), 2.4, "pv s");
        assert_close(point_value(d, t2 * 1000 + 500), 2.6, "pv ms");
        json_decref(d);
        home_free(&h);
}

static void test_HE_7_resend_same_batch_not_duplicated(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE, t2 = t0 + 40 * MINUTE;
        long long t3 = t0 + 50 * MINUTE;
        struct home h;
        struct api_resp r;
        char *b1, *b2, *x, *y, *z, *w;
        int64_t sid;
        json_t *d;

        home_new(&h, t0);
        clock_at(t0 + 2 * HOUR);
        /* JSON: the same batch id twice */
        b1 = api_printf("{\"batch_id\":\"dup-1\",\"series\":[{\"channel\":\"grid\","
                        "\"quantity\":\"energy\",\"unit\":\"Wh\"}],"
                        "\"points\":[[0,%lld,1000],[0,%lld,1600],[0,%lld,5]]}", t1, t2,
                        t0 + 5 * HOUR);
        r = measure(&h.g, b1);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "accepted", -1), 2);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 1);
        assert_true(json_is_false(api_json_get(r.json, "duplicate")));
        api_resp_free(&r);
        sid = series_must(&h, "grid", "energy");
        assert_close(total_at(&h, sid, "hour", t0), 600, "first total");
        r = measure(&h.g, b1);
        expect(&r, 200);
        assert_true(json_is_true(api_json_get(r.json, "duplicate")));
        assert_string_equal(api_json_str(r.json, "batch_id"), "dup-1");
        assert_int_equal(api_json_int(r.json, "accepted", -1), 2);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 1);
        assert_reject(&r, 2, 0, "future_timestamp");
        api_resp_free(&r);
        /* the same id with other points: still the first batch */
        b2 = api_printf("{\"batch_id\":\"dup-1\",\"series\":[{\"channel\":\"grid\","
                        "\"quantity\":\"energy\",\"unit\":\"Wh\"}],"
                        "\"points\":[[0,%lld,2000],[0,%lld,3000]]}", t2, t3);
        r = measure(&h.g, b2);
        expect(&r, 200);
        assert_true(json_is_true(api_json_get(r.json, "duplicate")));
        api_resp_free(&r);
        d = data_of(&h, sid, "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 2);
        assert_close(point_value(d, t2 * 1000), 1600, "not overwritten");
        json_decref(d);
        d = data_of(&h, sid, "hour", t0, t0 + HOUR);
        assert_close(num(bucket_must(d, t0), "total"), 600, "total after resend");
        assert_int_equal(json_integer_value(json_object_get(bucket_must(d, t0), "n")), 2);
        json_decref(d);
        assert_close(total_at(&h, sid, "day", tk(2026, 12, 2, 0, 0)), 600, "day after resend");

        /* line protocol without an id: the body's hash is the id */
        x = api_printf("energy,channel=lp value=100 %lld\nenergy,channel=lp value=300 %lld\n",
                       t1, t2);
        y = api_printf("energy,channel=lp value=150 %lld\nenergy,channel=lp value=350 %lld\n",
                       t1, t2);
        lp_ok(&h.g, x);
        lp_ok(&h.g, y);                 /* same times, other values: the later write wins */
        lp_ok(&h.g, x);                 /* a resend of the first body: nothing written */
        {
                size_t gzlen;
                char *gz = gzip_stored(x, strlen(x), &gzlen);

                /* the same body, gzipped: the hash is of the decoded body */
                r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                            "Content-Encoding: gzip", gz, gzlen);
                expect(&r, 204);
                api_resp_free(&r);
                free(gz);
        }
        sid = series_must(&h, "lp", "energy");
        d = data_of(&h, sid, "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 2);
        assert_close(point_value(d, t1 * 1000), 150, "lp after resend 1");
        assert_close(point_value(d, t2 * 1000), 350, "lp after resend 2");
        json_decref(d);
        assert_close(total_at(&h, sid, "hour", t0), 200, "lp total");

        /* X-Batch-Id and ?batch= name the batch */
        z = api_printf("energy,channel=lp2 value=10 %lld\nenergy,channel=lp2 value=20 %lld\n",
                       t1, t2);
        w = api_printf("energy,channel=lp2 value=50 %lld\nenergy,channel=lp2 value=90 %lld\n",
                       t1, t2);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT, "X-Batch-Id: hdr-1",
                    z, strlen(z));
        expect(&r, 204);
        api_resp_free(&r);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT, "X-Batch-Id: hdr-1",
                    w, strlen(w));
        expect(&r, 204);
        api_resp_free(&r);
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s&batch=hdr-1", LP_CT, NULL, w,
                    strlen(w));
        expect(&r, 204);
        api_resp_free(&r);
        d = data_of(&h, series_must(&h, "lp2", "energy"), "raw", t0, t0 + HOUR);
        assert_close(point_value(d, t1 * 1000), 10, "lp2 1");
        assert_close(point_value(d, t2 * 1000), 20, "lp2 2");
        json_decref(d);
        /* a batch id must be an id */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "X-Batch-Id: not an id!", w, strlen(w));
        assert_problem(&r, 422, "bad_batch_id");
        api_resp_free(&r);
        free(b1);
        free(b2);
        free(x);
        free(y);
        free(z);
        free(w);
        home_free(&h);
}

static void test_HE_7_late_out_of_order_points_update_rollups(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), h1 = t0 + HOUR, h2 = t0 + 2 * HOUR;
        long long day = tk(2026, 12, 2, 0, 0), month = tk(2026, 12, 1, 0, 0);
        struct home h;
        char *lp;
        int64_t e, p;
        json_t *d, *b;

        home_new(&h, t0);
        clock_at(t0 + 6 * HOUR);
        /* hour 2 first: 2000 @ 11:00, 2500 @ 11:30 */
        lp = api_printf("energy,channel=ooo value=2000 %lld\nenergy,channel=ooo value=2500 %lld\n"
                        "power,channel=ooo value=300 %lld\n", h2, h2 + 30 * MINUTE,
                        h2 + 10 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        e = series_must(&h, "ooo", "energy");
        p = series_must(&h, "ooo", "power");
        assert_close(total_at(&h, e, "hour", h2), 500, "hour 2 alone");
        /* then hour 1: 1000 @ 10:00, 1500 @ 10:30; 1500 -> 2000 now belongs to hour 2 */
        lp = api_printf("energy,channel=ooo value=1000 %lld\nenergy,channel=ooo value=1500 %lld\n"
                        "power,channel=ooo value=100 %lld\npower,channel=ooo value=200 %lld\n",
                        h1, h1 + 30 * MINUTE, h1 + 10 * MINUTE, h1 + 20 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        assert_close(total_at(&h, e, "hour", h1), 500, "hour 1");
        assert_close(total_at(&h, e, "hour", h2), 1000, "hour 2");
        assert_close(total_at(&h, e, "day", day), 1500, "day");
        assert_close(total_at(&h, e, "month", month), 1500, "month");
        d = data_of(&h, p, "hour", h1, h2 + HOUR);
        b = bucket_must(d, h1);
        assert_int_equal(json_integer_value(json_object_get(b, "n")), 2);
        assert_close(num(b, "min"), 100, "power h1 min");
        assert_close(num(b, "max"), 200, "power h1 max");
        assert_close(num(b, "mean"), 150, "power h1 mean");
        b = bucket_must(d, h2);
        assert_int_equal(json_integer_value(json_object_get(b, "n")), 1);
        assert_close(num(b, "mean"), 300, "power h2 mean");
        json_decref(d);
        d = data_of(&h, p, "day", day, day + DAY);
        b = bucket_must(d, day);
        assert_int_equal(json_integer_value(json_object_get(b, "n")), 3);
        assert_close(num(b, "min"), 100, "power day min");
        assert_close(num(b, "max"), 300, "power day max");
        assert_close(num(b, "mean"), 200, "power day mean");
        json_decref(d);

        /* a late point inside hour 1 (1800 @ 10:45): hour 1 = 800, hour 2 = 200 + 500 */
        lp = api_printf("energy,channel=ooo value=1800 %lld\n", h1 + 45 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        d = data_of(&h, e, "hour", h1, h2 + HOUR);
        assert_close(num(bucket_must(d, h1), "total"), 800, "hour 1 after late");
        assert_int_equal(json_integer_value(json_object_get(bucket_must(d, h1), "n")), 3);
        assert_close(num(bucket_must(d, h2), "total"), 700, "hour 2 after late");
        json_decref(d);
        assert_close(total_at(&h, e, "day", day), 1500, "day after late");
        /* a corrected reading at an existing time (1600 @ 10:30): the later write wins */
        lp = api_printf("energy,channel=ooo value=1600 %lld\n", h1 + 30 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        d = data_of(&h, e, "raw", h1, h2 + HOUR);
        assert_int_equal(n_points(d), 5);
        assert_close(point_value(d, (h1 + 30 * MINUTE) * 1000), 1600, "corrected");
        json_decref(d);
        assert_close(total_at(&h, e, "hour", h1), 800, "hour 1 after correction");
        assert_close(total_at(&h, e, "hour", h2), 700, "hour 2 after correction");
        /* and in order again afterwards: 2700 @ 12:10 (+200 in hour 3) */
        lp = api_printf("energy,channel=ooo value=2700 %lld\n", t0 + 3 * HOUR + 10 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        assert_close(total_at(&h, e, "hour", t0 + 3 * HOUR), 200, "hour 3");
        assert_close(total_at(&h, e, "day", day), 1700, "day at the end");
        assert_close(total_at(&h, e, "month", month), 1700, "month at the end");
        /* a corrected newest reading (2750 @ 12:10) is the latest value too */
        lp = api_printf("energy,channel=ooo value=2750 %lld\n", t0 + 3 * HOUR + 10 * MINUTE);
        lp_ok(&h.g, lp);
        free(lp);
        assert_close(total_at(&h, e, "hour", t0 + 3 * HOUR), 250, "hour 3 corrected");
        d = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        b = series_item(d, "ooo", "energy");
        assert_int_equal(time_ms(api_json_str(json_object_get(b, "latest"), "time")),
                         (t0 + 3 * HOUR + 10 * MINUTE) * 1000);
        assert_close(num(json_object_get(b, "latest"), "value"), 2750, "latest corrected");
        json_decref(d);
        home_free(&h);
}

static void test_HE_7_future_and_before_registration_rejected_per_point(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), now = t0 + HOUR;
        struct home h;
        struct api_resp r;
        char *body;
        int64_t sid;
        json_t *d;

        home_new(&h, t0);
        clock_at(now);
        /* 0 before the registration, 1 good, 2 ten minutes ahead, 3 four minutes ahead
         * (within the 5-minute tolerance), 4 good */
        body = api_printf("{\"batch_id\":\"win-1\",\"series\":[{\"channel\":\"win\","
                          "\"quantity\":\"power\"}],\"points\":[[0,%lld,1],[0,%lld,2],"
                          "[0,%lld,3],[0,%lld,4],[0,%lld,5]]}",
                          t0 - MINUTE, t0 + 10 * MINUTE, now + 10 * MINUTE, now + 4 * MINUTE,
                          t0 + 20 * MINUTE);
        r = measure(&h.g, body);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "accepted", -1), 3);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 2);
        assert_int_equal(json_array_size(api_json_get(r.json, "rejects")), 2);
        assert_reject(&r, 0, 0, "before_registration");
        assert_reject(&r, 2, 0, "future_timestamp");
        api_resp_free(&r);
        free(body);
        sid = series_must(&h, "win", "power");
        d = data_of(&h, sid, "raw", t0 - HOUR, now + HOUR);
        assert_int_equal(n_points(d), 3);
        assert_close(point_value(d, (t0 + 10 * MINUTE) * 1000), 2, "good 1");
        assert_close(point_value(d, (now + 4 * MINUTE) * 1000), 4, "within tolerance");
        assert_close(point_value(d, (t0 + 20 * MINUTE) * 1000), 5, "good 2");
        json_decref(d);

        /* line protocol: indexes count points, lines count lines (comments, blanks) */
        body = api_printf("# a comment\n\npower,channel=win value=6 %lld\n"
                          "power,channel=win value=7 %lld\npower,channel=win value=8 %lld\n",
                          t0 - HOUR, t0 + 30 * MINUTE, now + HOUR);
        r = lp_write(&h.g, body);
        assert_problem(&r, 400, "partial_write");
        assert_non_null(api_json_str(r.json, "error"));
        assert_int_equal(api_json_int(r.json, "accepted", -1), 1);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 2);
        assert_reject(&r, 0, 3, "before_registration");
        assert_reject(&r, 2, 5, "future_timestamp");
        api_resp_free(&r);
        free(body);
        d = data_of(&h, sid, "raw", t0 - 2 * HOUR, now + 2 * HOUR);
        assert_int_equal(n_points(d), 4);
        assert_close(point_value(d, (t0 + 30 * MINUTE) * 1000), 7, "lp good");
        json_decref(d);

        /* nothing good at all */
        body = api_printf("power,channel=win value=9 %lld\n", now + DAY);
        r = lp_write(&h.g, body);
        assert_problem(&r, 422, "no_valid_points");
        assert_reject(&r, 0, 1, "future_timestamp");
        api_resp_free(&r);
        free(body);
        body = api_printf("{\"batch_id\":\"win-2\",\"series\":[{\"channel\":\"win\","
                          "\"quantity\":\"power\"}],\"points\":[[0,%lld,1]]}", t0 - DAY);
        r = measure(&h.g, body);
        assert_problem(&r, 422, "no_valid_points");
        api_resp_free(&r);
        free(body);
        home_free(&h);
}

static void test_HE_7_counter_reset_and_wrap(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), h1 = t0 + HOUR, h2 = t0 + 2 * HOUR;
        long long day = tk(2026, 12, 2, 0, 0);
        struct home h;
        struct text b = { 0 };
        int64_t rs, wr;

        home_new(&h, t0);
        clock_at(t0 + 3 * HOUR);
        /* reset: 100, 200 (+100), 0 (reset: +0), 50 (+50) = 150 */
        tadd(&b, "energy,channel=reset value=100 %lld\n", h1 + 5 * MINUTE);
        tadd(&b, "energy,channel=reset value=200 %lld\n", h1 + 15 * MINUTE);
        tadd(&b, "energy,channel=reset value=0 %lld\n", h1 + 25 * MINUTE);
        tadd(&b, "energy,channel=reset value=50 %lld\n", h1 + 35 * MINUTE);
        /* wrap at 99999999 (D-45: wrap - previous + current): 99999000, 99999900 (+900),
         * 100 (+99 + 100 = 199), 300 (+200) = 1299 */
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=99999000 %lld\n", h1 + 5 * MINUTE);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=99999900 %lld\n", h1 + 15 * MINUTE);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=100 %lld\n", h1 + 25 * MINUTE);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=300 %lld\n", h1 + 35 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        rs = series_must(&h, "reset", "energy");
        wr = series_must(&h, "wrap", "energy");
        assert_close(total_at(&h, rs, "hour", h1), 150, "reset hour 1");
        assert_close(total_at(&h, wr, "hour", h1), 1299, "wrap hour 1");

        /* across batches: reset 50 -> 20 (+20); wrap 300 -> 5000 (+4700) -> 10 (a reset:
         * 5000 is not in the top 10 % of the wrap value, +10) */
        tadd(&b, "energy,channel=reset value=20 %lld\n", h2 + 5 * MINUTE);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=5000 %lld\n", h2 + 5 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=10 %lld\n", h2 + 15 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        assert_close(total_at(&h, rs, "hour", h2), 20, "reset hour 2");
        assert_close(total_at(&h, wr, "hour", h2), 4710, "wrap hour 2");
        assert_close(total_at(&h, rs, "day", day), 170, "reset day");
        assert_close(total_at(&h, wr, "day", day), 6009, "wrap day");
        /* a wrap across batches: 10 -> 99999950 (+99999940) -> 30 (+49 + 30 = 79) */
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=99999950 %lld\n", h2 + 25 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        tadd(&b, "energy,channel=wrap,wrap=99999999 value=30 %lld\n", h2 + 35 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        assert_close(total_at(&h, wr, "hour", h2), 4710 + 99999940 + 79, "wrap across batches");
        /* the wrap value belongs to the series: a later line without the tag still
         * wraps (30 -> 99999990 (+99999960) -> 5 (+9 + 5 = 14)) */
        tadd(&b, "energy,channel=wrap value=99999990 %lld\n", h2 + 45 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        tadd(&b, "energy,channel=wrap value=5 %lld\n", h2 + 50 * MINUTE);
        lp_ok(&h.g, b.s);
        tfree(&b);
        assert_close(total_at(&h, wr, "hour", h2), 4710 + 99999940 + 79 + 99999960 + 14,
                     "wrap without the tag");
        home_free(&h);
}

static void test_HE_7_bad_input(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE, t2 = t0 + 20 * MINUTE;
        struct home h;
        struct api_resp r;
        struct text b = { 0 };
        char *lp, *gz;
        size_t gzlen;
        json_t *d, *list;

        home_new(&h, t0);
        clock_at(t0 + HOUR);

        /* a malformed line: rejected with its line, the good lines stored */
        lp = api_printf("power,channel=m value=1 %lld\nthis line is broken\n"
                        "power,channel=m value=2 %lld\n", t1, t2);
        r = lp_write(&h.g, lp);
        assert_problem(&r, 400, "partial_write");
        assert_int_equal(api_json_int(r.json, "accepted", -1), 2);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 1);
        assert_reject(&r, 1, 2, "bad_line");
        api_resp_free(&r);
        free(lp);
        d = data_of(&h, series_must(&h, "m", "power"), "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 2);
        json_decref(d);

        /* per-line problems */
        tadd(&b, "power,channel=n value=NaN %lld\n", t1);                       /* 0 */
        tadd(&b, "power,channel=n value=-inf %lld\n", t1 + 1);                  /* 1 */
        tadd(&b, "power,channel=u,unit=MW value=1 %lld\n", t1);                 /* 2 */
        tadd(&b, "voltage,channel=v value=230 %lld\n", t1);                      /* 3 */
        tadd(&b, "power,channel=x,colour=red value=1 %lld\n", t1);              /* 4 */
        tadd(&b, "power,room=kitchen value=1 %lld\n", t1);                      /* 5 */
        tadd(&b, "power,channel=s value=\"high\" %lld\n", t1);                  /* 6 */
        tadd(&b, "power,channel=t value=true %lld\n", t1);                      /* 7 */
        tadd(&b, "power,channel=f watts=5 %lld\n", t1);                         /* 8 */
        tadd(&b, "power,channel=n value=7 %lld\n", t2);                         /* 9 good */
        tadd(&b, "soc,channel=b,unit=kWh value=50 %lld\n", t1);                 /* 10 */
        tadd(&b, "power,channel=n value=8 yesterday\n");                        /* 11 */
        tadd(&b, "power,channel=n value=1e999 %lld\n", t1 + 2);                 /* 12 */
        r = lp_write(&h.g, b.s);
        assert_problem(&r, 400, "partial_write");
        assert_int_equal(api_json_int(r.json, "accepted", -1), 1);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 12);
        assert_reject(&r, 0, 1, "not_finite");
        assert_reject(&r, 1, 2, "not_finite");
        assert_reject(&r, 2, 3, "unknown_unit");
        assert_reject(&r, 3, 4, "unknown_quantity");
        assert_reject(&r, 4, 5, "unknown_tag");
        assert_reject(&r, 5, 6, "unknown_tag");
        assert_reject(&r, 6, 7, "bad_value");
        assert_reject(&r, 7, 8, "bad_value");
        assert_reject(&r, 8, 9, "unknown_field");
        assert_null(reject_at(r.json, 9));
        assert_reject(&r, 10, 11, "unknown_unit");
        assert_reject(&r, 11, 12, "bad_time");
        assert_reject(&r, 12, 13, "not_finite");
        api_resp_free(&r);
        tfree(&b);
        /* rejected lines add no series */
        list = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(list, "items")), 2);
        assert_non_null(series_item(list, "n", "power"));
        assert_null(series_item(list, "u", "power"));
        assert_null(series_item(list, "v", "power"));
        json_decref(list);
        /* nothing good: 422 */
        r = lp_write(&h.g, "power,channel=n value=NaN\nnonsense\n");
        assert_problem(&r, 422, "no_valid_points");
        api_resp_free(&r);
        /* a NUL byte makes the body unreadable */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT, NULL,
                    "power,channel=n value=1\0 1", 26);
        assert_problem(&r, 400, "malformed_line_protocol");
        api_resp_free(&r);

        /* more points than energy.max_batch_points: 413, nothing stored */
        for (int i = 0; i <= MAX_POINTS; i++)
                tadd(&b, "power,channel=big value=%d %lld\n", i, t0 + 5 * MINUTE + i);
        r = lp_write(&h.g, b.s);
        assert_problem(&r, 413, "too_many_points");
        api_resp_free(&r);
        tfree(&b);
        tadd(&b, "{\"batch_id\":\"big-1\",\"series\":[{\"channel\":\"bigj\","
             "\"quantity\":\"power\"}],\"points\":[");
        for (int i = 0; i <= MAX_POINTS; i++)
                tadd(&b, "%s[0,%lld,%d]", i ? "," : "", t0 + 5 * MINUTE + i, i);
        tadd(&b, "]}");
        r = measure(&h.g, b.s);
        expect(&r, 413);
        api_resp_free(&r);
        tfree(&b);
        assert_int_equal(series_id(&h, "big", "power"), 0);
        assert_int_equal(series_id(&h, "bigj", "power"), 0);
        /* exactly the limit is fine */
        for (int i = 0; i < MAX_POINTS; i++)
                tadd(&b, "power,channel=big value=%d %lld\n", i, t0 + 5 * MINUTE + i);
        lp_ok(&h.g, b.s);
        tfree(&b);

        /* invalid gzip */
        r = gw_send(h.g.auth, "POST", "/api/v1/gateway/measurements", JSON_CT,
                    "Content-Encoding: gzip", "{\"batch_id\":\"x\"}", 16);
        assert_problem(&r, 400, "bad_gzip");
        api_resp_free(&r);
        gz = gzip_stored("abc", 3, &gzlen);
        gz[3] = (char)0xE0;             /* reserved flag bits set */
        r = gw_send(h.g.auth, "POST", "/write?db=home&precision=s", LP_CT,
                    "Content-Encoding: gzip", gz, gzlen);
        assert_problem(&r, 400, "bad_gzip");
        api_resp_free(&r);
        free(gz);

        /* JSON: duplicate keys, not JSON, unknown members, bad series, bad points */
        lp = api_printf("{\"batch_id\":\"j-1\",\"batch_id\":\"j-2\",\"series\":[{\"channel\":"
                        "\"j\",\"quantity\":\"power\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"batch_id\":\"j-3\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\",\"channel\":\"k\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        expect(&r, 400);
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"batch_id\":\"j-4\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\"}],\"points\":[[0,%lld,NaN]]}", t1);
        r = measure(&h.g, lp);
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        free(lp);
        r = measure(&h.g, "[]");
        assert_true(r.status == 400 || r.status == 422);
        api_resp_free(&r);
        lp = api_printf("{\"batch_id\":\"j-5\",\"colour\":\"red\",\"series\":[{\"channel\":\"j\","
                        "\"quantity\":\"power\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_true(r.status == 400 || r.status == 422);
        assert_true(contains(r.body, "/colour"));
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"series\":[{\"channel\":\"j\",\"quantity\":\"power\"}],"
                        "\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_true(r.status == 400 || r.status == 422);
        assert_true(contains(r.body, "batch_id"));
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"batch_id\":\"j-6\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\",\"unit\":\"MW\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_problem(&r, 422, "validation_failed");
        assert_true(contains(r.body, "/series/0/unit"));
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"batch_id\":\"j-7\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\"},{\"channel\":\"k\",\"quantity\":\"voltage\"}],"
                        "\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_problem(&r, 422, "validation_failed");
        assert_true(contains(r.body, "/series/1/quantity"));
        api_resp_free(&r);
        free(lp);
        lp = api_printf("{\"batch_id\":\"bad id!\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        expect(&r, 422);
        api_resp_free(&r);
        free(lp);
        /* bad points are rejects: a string value, a series index out of range, a
         * fractional time; the good one is stored */
        lp = api_printf("{\"batch_id\":\"j-8\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\"}],\"points\":[[0,%lld,\"abc\"],[3,%lld,1],[0,%lld.5,1],"
                        "[0,%lld,11],[0,%lld,1e999],[0,%lld,null]]}", t1, t1, t1, t2, t1, t1);
        r = measure(&h.g, lp);
        expect(&r, 200);
        assert_int_equal(api_json_int(r.json, "accepted", -1), 1);
        assert_int_equal(api_json_int(r.json, "rejected", -1), 5);
        assert_non_null(reject_at(r.json, 0));
        assert_non_null(reject_at(r.json, 1));
        assert_non_null(reject_at(r.json, 2));
        assert_null(reject_at(r.json, 3));
        assert_non_null(reject_at(r.json, 4));
        assert_non_null(reject_at(r.json, 5));
        api_resp_free(&r);
        free(lp);
        d = data_of(&h, series_must(&h, "j", "power"), "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(d), 1);
        assert_close(point_value(d, t2 * 1000), 11, "json good point");
        json_decref(d);
        /* errors[].pointer is the JSON pointer of the fault */
        lp = api_printf("{\"batch_id\":\"j-9\",\"series\":[{\"channel\":\"j\",\"quantity\":"
                        "\"power\",\"unit\":\"MW\"}],\"points\":[[0,%lld,1]]}", t1);
        r = measure(&h.g, lp);
        assert_problem(&r, 422, "validation_failed");
        if (!api_json_str(r.json, "errors.0.pointer") ||
            strcmp(api_json_str(r.json, "errors.0.pointer"), "/series/0/unit") != 0)
                fprintf(stderr, "bad pointer in %s\n", r.body);
        assert_string_equal(api_json_str(r.json, "errors.0.pointer"), "/series/0/unit");
        api_resp_free(&r);
        free(lp);
        /* a body cut short is malformed JSON, not a bad member */
        r = measure(&h.g, "{\"batch_id\":");
        assert_problem(&r, 400, "malformed_json");
        api_resp_free(&r);
        home_free(&h);
}

static void test_HE_7_series_per_home_limit(void **state)
{
        long long t0 = tk(2026, 12, 2, 9, 0), t1 = t0 + 10 * MINUTE;
        struct home h;
        struct text b = { 0 };
        struct api_resp r;
        json_t *j;

        home_new(&h, t0);
        clock_at(t0 + HOUR);
        for (int i = 0; i < MAX_SERIES; i++)
                tadd(&b, "power,channel=c%d value=%d %lld\n", i, i, t1);
        lp_ok(&h.g, b.s);
        tfree(&b);
        /* one more series: refused, with nothing of the batch stored */
        tadd(&b, "power,channel=c0 value=100 %lld\npower,channel=extra value=1 %lld\n",
             t1 + 60, t1 + 60);
        r = lp_write(&h.g, b.s);
        assert_problem(&r, 422, "series_limit_reached");
        api_resp_free(&r);
        r = measure(&h.g, "{\"batch_id\":\"lim-1\",\"series\":[{\"channel\":\"extra2\","
                          "\"quantity\":\"power\"}],\"points\":[[0,1796000000,1]]}");
        expect(&r, 422);
        api_resp_free(&r);
        j = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), MAX_SERIES);
        json_decref(j);
        j = data_of(&h, series_must(&h, "c0", "power"), "raw", t0, t0 + HOUR);
        assert_int_equal(n_points(j), 1);
        json_decref(j);
        /* the existing series still take points; the refused batch can be sent again
         * once it fits */
        lp_ok(&h.g, "power,channel=c0 value=5\n");
        r = lp_write(&h.g, b.s);
        assert_problem(&r, 422, "series_limit_reached");
        api_resp_free(&r);
        tfree(&b);
        home_free(&h);
}

/* ---- HE-16 the household's view ------------------------------------------------------------- */

static void test_HE_16_latest_and_resolutions(void **state)
{
        long long t0 = tk(2026, 11, 28, 12, 0);
        long long a = tk(2026, 11, 29, 10, 10), b = tk(2026, 11, 29, 10, 40);
        long long c = tk(2026, 11, 29, 11, 20), e = tk(2026, 11, 30, 23, 30);
        long long f = tk(2026, 12, 1, 0, 30);
        long long from = tk(2026, 11, 29, 0, 0), to = tk(2026, 12, 2, 0, 0);
        struct home h;
        struct text t = { 0 };
        int64_t load, grid;
        json_t *d, *bk, *j, *it;
        size_t i;

        home_new(&h, t0);
        clock_at(tk(2026, 12, 2, 12, 0));
        /* load (W): 100, 300, 200, 400, 600; grid (Wh): 1000, 1500, 1800, 5000, 5200 */
        tadd(&t, "power,channel=load value=100 %lld\n", a);
        tadd(&t, "power,channel=load value=300 %lld\n", b);
        tadd(&t, "power,channel=load value=200 %lld\n", c);
        tadd(&t, "power,channel=load value=400 %lld\n", e);
        tadd(&t, "power,channel=load value=600 %lld\n", f);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1000 %lld\n", a);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1500 %lld\n", b);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1800 %lld\n", c);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=5000 %lld\n", e);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=5200 %lld\n", f);
        lp_ok(&h.g, t.s);
        tfree(&t);
        load = series_must(&h, "load", "power");
        grid = series_must(&h, "grid", "energy");

        /* now */
        j = getf(h.owner, "/api/v1/homes/%lld/latest", (long long)h.id);
        assert_int_equal(json_array_size(api_json_get(j, "items")), 2);
        json_array_foreach(api_json_get(j, "items"), i, it) {
                const char *ch = json_string_value(json_object_get(it, "channel"));

                assert_int_equal(time_ms(json_string_value(json_object_get(it, "time"))),
                                 f * 1000);
                if (strcmp(ch, "load") == 0) {
                        assert_int_equal(json_integer_value(json_object_get(it, "series_id")),
                                         load);
                        assert_close(num(it, "value"), 600, "latest load");
                        assert_string_equal(json_string_value(json_object_get(it, "unit")), "W");
                } else {
                        assert_string_equal(ch, "grid");
                        assert_int_equal(json_integer_value(json_object_get(it, "series_id")),
                                         grid);
                        assert_close(num(it, "value"), 5200, "latest grid");
                        assert_string_equal(json_string_value(json_object_get(it, "role")),
                                            "purchase");
                        assert_string_equal(json_string_value(json_object_get(it, "class")),
                                            "0x0287");
                        assert_string_equal(json_string_value(json_object_get(it, "epc")),
                                            "0xC0");
                }
        }
        json_decref(j);

        /* raw: [from, to) */
        d = data_of(&h, load, "raw", from, to);
        assert_int_equal(n_points(d), 5);
        assert_close(point_value(d, a * 1000), 100, "raw a");
        assert_close(point_value(d, f * 1000), 600, "raw f");
        json_decref(d);
        d = data_of(&h, load, "raw", b, c);
        assert_int_equal(n_points(d), 1);
        assert_close(point_value(d, b * 1000), 300, "raw b only");
        json_decref(d);

        /* hour */
        d = data_of(&h, load, "hour", from, to);
        assert_string_equal(api_json_str(d, "resolution"), "hour");
        assert_int_equal(json_array_size(api_json_get(d, "buckets")), 4);
        bk = bucket_must(d, tk(2026, 11, 29, 10, 0));
        assert_int_equal(json_integer_value(json_object_get(bk, "n")), 2);
        assert_close(num(bk, "min"), 100, "h10 min");
        assert_close(num(bk, "max"), 300, "h10 max");
        assert_close(num(bk, "mean"), 200, "h10 mean");
        bk = bucket_must(d, tk(2026, 11, 29, 11, 0));
        assert_close(num(bk, "mean"), 200, "h11 mean");
        bk = bucket_must(d, tk(2026, 11, 30, 23, 0));
        assert_close(num(bk, "mean"), 400, "h23 mean");
        bk = bucket_must(d, tk(2026, 12, 1, 0, 0));
        assert_close(num(bk, "mean"), 600, "h00 mean");
        json_decref(d);
        d = data_of(&h, grid, "hour", from, to);
        assert_int_equal(json_array_size(api_json_get(d, "buckets")), 4);
        assert_close(num(bucket_must(d, tk(2026, 11, 29, 10, 0)), "total"), 500, "grid h10");
        assert_close(num(bucket_must(d, tk(2026, 11, 29, 11, 0)), "total"), 300, "grid h11");
        assert_close(num(bucket_must(d, tk(2026, 11, 30, 23, 0)), "total"), 3200, "grid h23");
        assert_close(num(bucket_must(d, tk(2026, 12, 1, 0, 0)), "total"), 200, "grid h00");
        json_decref(d);

        /* day (Tokyo) */
        d = data_of(&h, load, "day", from, to);
        assert_int_equal(json_array_size(api_json_get(d, "buckets")), 3);
        bk = bucket_must(d, tk(2026, 11, 29, 0, 0));
        assert_int_equal(json_integer_value(json_object_get(bk, "n")), 3);
        assert_close(num(bk, "min"), 100, "d29 min");
        assert_close(num(bk, "max"), 300, "d29 max");
        assert_close(num(bk, "mean"), 200, "d29 mean");
        assert_close(num(bucket_must(d, tk(2026, 11, 30, 0, 0)), "mean"), 400, "d30 mean");
        assert_close(num(bucket_must(d, tk(2026, 12, 1, 0, 0)), "mean"), 600, "d1 mean");
        json_decref(d);
        d = data_of(&h, grid, "day", from, to);
        assert_close(num(bucket_must(d, tk(2026, 11, 29, 0, 0)), "total"), 800, "grid d29");
        assert_close(num(bucket_must(d, tk(2026, 11, 30, 0, 0)), "total"), 3200, "grid d30");
        assert_close(num(bucket_must(d, tk(2026, 12, 1, 0, 0)), "total"), 200, "grid d1");
        json_decref(d);

        /* month (Tokyo) */
        d = data_of(&h, load, "month", from, to);
        assert_int_equal(json_array_size(api_json_get(d, "buckets")), 2);
        bk = bucket_must(d, tk(2026, 11, 1, 0, 0));
        assert_int_equal(json_integer_value(json_object_get(bk, "n")), 4);
        assert_close(num(bk, "min"), 100, "nov min");
        assert_close(num(bk, "max"), 400, "nov max");
        assert_close(num(bk, "mean"), 250, "nov mean");
        bk = bucket_must(d, tk(2026, 12, 1, 0, 0));
        assert_int_equal(json_integer_value(json_object_get(bk, "n")), 1);
        assert_close(num(bk, "mean"), 600, "dec mean");
        json_decref(d);
        d = data_of(&h, grid, "month", from, to);
        assert_close(num(bucket_must(d, tk(2026, 11, 1, 0, 0)), "total"), 4000, "grid nov");
        assert_close(num(bucket_must(d, tk(2026, 12, 1, 0, 0)), "total"), 200, "grid dec");
        json_decref(d);

        /* bad queries */
        {
                struct api_resp r;

                r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                          "&resolution=week", (long long)h.id, (long long)load, qt(from), qt(to));
                expect(&r, 422);
                api_resp_free(&r);
                r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s",
                          (long long)h.id, (long long)load, qt(to), qt(from));
                expect(&r, 422);
                api_resp_free(&r);
                r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?to=%s",
                          (long long)h.id, (long long)load, qt(to));
                expect(&r, 422);
                api_resp_free(&r);
                r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/999999/data?from=%s"
                          "&to=%s", (long long)h.id, qt(from), qt(to));
                expect(&r, 404);
                api_resp_free(&r);
        }
        home_free(&h);
}

static void test_HE_16_day_boundary_tokyo(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0);
        long long d1 = tk(2026, 12, 1, 0, 0), d2 = tk(2026, 12, 2, 0, 0);
        struct home h;
        struct text t = { 0 };
        int64_t p, e;
        json_t *d, *j;

        home_new(&h, t0);
        clock_at(tk(2026, 12, 3, 12, 0));
        /* 23:30 and 00:30 Tokyo: both on 2026-12-01 in UTC, two days in Tokyo */
        tadd(&t, "power,channel=main value=100 %lld\n", tk(2026, 12, 1, 23, 30));
        tadd(&t, "power,channel=main value=300 %lld\n", tk(2026, 12, 2, 0, 30));
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1000 %lld\n",
             tk(2026, 12, 1, 23, 10));
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1100 %lld\n",
             tk(2026, 12, 1, 23, 30));
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1400 %lld\n",
             tk(2026, 12, 2, 0, 30));
        lp_ok(&h.g, t.s);
        tfree(&t);
        p = series_must(&h, "main", "power");
        e = series_must(&h, "grid", "energy");
        /* late readings of the day before: 3000 @ 00:30, then 2000 @ 23:30, then 1500 @ 23:00:
         * Dec 1 gets 500, Dec 2 gets 1000 */
        tadd(&t, "energy,channel=late value=3000 %lld\n", tk(2026, 12, 2, 0, 30));
        lp_ok(&h.g, t.s);
        tfree(&t);
        tadd(&t, "energy,channel=late value=2000 %lld\n", tk(2026, 12, 1, 23, 30));
        lp_ok(&h.g, t.s);
        tfree(&t);
        tadd(&t, "energy,channel=late value=1500 %lld\n", tk(2026, 12, 1, 23, 0));
        lp_ok(&h.g, t.s);
        tfree(&t);
        {
                int64_t l = series_must(&h, "late", "energy");

                assert_close(total_at(&h, l, "day", d1), 500, "late Dec 1");
                assert_close(total_at(&h, l, "day", d2), 1000, "late Dec 2");
                assert_close(total_at(&h, l, "hour", tk(2026, 12, 1, 23, 0)), 500, "late 23:00");
                assert_close(total_at(&h, l, "hour", d2), 1000, "late 00:00");
                assert_close(total_at(&h, l, "month", d1), 1500, "late month");
        }

        d = data_of(&h, p, "day", d1, d2 + DAY);
        assert_int_equal(json_array_size(api_json_get(d, "buckets")), 2);
        assert_int_equal(json_integer_value(json_object_get(bucket_must(d, d1), "n")), 1);
        assert_close(num(bucket_must(d, d1), "mean"), 100, "Dec 1 mean");
        assert_int_equal(json_integer_value(json_object_get(bucket_must(d, d2), "n")), 1);
        assert_close(num(bucket_must(d, d2), "mean"), 300, "Dec 2 mean");
        assert_string_equal(api_json_str(d, "buckets.0.start"), "2026-12-01T00:00:00+09:00");
        assert_string_equal(api_json_str(d, "buckets.1.start"), "2026-12-02T00:00:00+09:00");
        json_decref(d);
        d = data_of(&h, e, "day", d1, d2 + DAY);
        assert_close(num(bucket_must(d, d1), "total"), 100, "Dec 1 energy");
        assert_close(num(bucket_must(d, d2), "total"), 300, "Dec 2 energy");
        json_decref(d);
        d = data_of(&h, e, "hour", d1, d2 + DAY);
        assert_close(num(bucket_must(d, tk(2026, 12, 1, 23, 0)), "total"), 100, "23:00");
        assert_close(num(bucket_must(d, d2), "total"), 300, "00:00");
        json_decref(d);
        /* a day's raw points are the Tokyo day's */
        d = data_of(&h, p, "raw", d2, d2 + DAY);
        assert_int_equal(n_points(d), 1);
        json_decref(d);

        /* the daily summary follows the same days */
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                 (long long)h.id, qt(d1), qt(d2 + DAY));
        assert_int_equal(json_array_size(api_json_get(j, "items")), 2);
        assert_int_equal(time_ms(api_json_str(j, "items.0.start")), d1 * 1000);
        assert_close(num(api_json_get(j, "items.0"), "purchase_kwh"), 0.1, "Dec 1 kWh");
        assert_int_equal(time_ms(api_json_str(j, "items.1.start")), d2 * 1000);
        assert_close(num(api_json_get(j, "items.1"), "purchase_kwh"), 0.3, "Dec 2 kWh");
        /* without generation there is no self-consumption ratio */
        assert_true(json_is_null(api_json_get(j, "items.0.self_consumption_ratio")));
        json_decref(j);
        home_free(&h);
}

/* The summary fixture: a TOU tariff and purchase, sale and generation counters over
 * 2026-12-01 and 02 (see the numbers in test_HE_16_summary_cost_and_co2). */
static void summary_home(struct home *h)
{
        static const char settings[] =
                "{\"circuits\":[{\"channel\":\"c1\",\"name\":\"Kitchen\"}],"
                "\"tariff\":{\"plan\":\"TOU-3\",\"currency\":\"JPY\","
                "\"basic_charge_per_month\":1210,"
                "\"bands\":[{\"name\":\"night\",\"from\":\"23:00\",\"to\":\"07:00\","
                "\"price_per_kwh\":28.5},"
                "{\"name\":\"day\",\"from\":\"07:00\",\"to\":\"23:00\",\"price_per_kwh\":35.0}],"
                "\"sell_price_per_kwh\":16},"
                "\"co2_kg_per_kwh\":0.441,\"co2_kg_per_m3_gas\":2.23}";
        struct text t = { 0 };
        struct api_resp r;

        home_new(h, tk(2026, 12, 1, 12, 0));
        r = energy_gateway_call(&srv, &h->g, "PUT", "/api/v1/gateway/settings", settings, 201);
        api_resp_free(&r);
        clock_at(tk(2026, 12, 3, 12, 0));
#define PUR "energy,channel=buy,class=0x0287,epc=0xC0"
#define SAL "energy,channel=sell,class=0x0287,epc=0xC1"
#define GEN "energy,channel=pv,class=0x0279,epc=0xE1"
        tadd(&t, PUR " value=10000 %lld\n", tk(2026, 12, 1, 12, 10));
        tadd(&t, PUR " value=12000 %lld\n", tk(2026, 12, 1, 13, 10));   /* +2 kWh day band */
        tadd(&t, PUR " value=13000 %lld\n", tk(2026, 12, 1, 23, 30));   /* +1 kWh night */
        tadd(&t, PUR " value=16000 %lld\n", tk(2026, 12, 2, 6, 30));    /* +3 kWh night */
        tadd(&t, PUR " value=16500 %lld\n", tk(2026, 12, 2, 8, 30));    /* +0.5 kWh day */
        tadd(&t, GEN " value=50000 %lld\n", tk(2026, 12, 1, 12, 10));
        tadd(&t, GEN " value=53000 %lld\n", tk(2026, 12, 1, 13, 10));   /* +3 kWh */
        tadd(&t, GEN " value=54000 %lld\n", tk(2026, 12, 2, 8, 30));    /* +1 kWh */
        tadd(&t, SAL " value=7000 %lld\n", tk(2026, 12, 1, 12, 10));
        tadd(&t, SAL " value=8000 %lld\n", tk(2026, 12, 1, 13, 10));    /* +1 kWh */
        tadd(&t, SAL " value=8200 %lld\n", tk(2026, 12, 2, 8, 30));     /* +0.2 kWh */
        /* gas in litres (+1.5 m3 on Dec 1), water in m3 (+300 L on Dec 2) */
        tadd(&t, "gas,channel=gas,unit=L,class=0x0282,epc=0xE0 value=100000 %lld\n",
             tk(2026, 12, 1, 12, 10));
        tadd(&t, "gas,channel=gas,unit=L,class=0x0282,epc=0xE0 value=101500 %lld\n",
             tk(2026, 12, 1, 18, 0));
        tadd(&t, "water,channel=water,unit=m3,class=0x0281,epc=0xE0 value=5 %lld\n",
             tk(2026, 12, 1, 12, 10));
        tadd(&t, "water,channel=water,unit=m3,class=0x0281,epc=0xE0 value=5.3 %lld\n",
             tk(2026, 12, 2, 7, 0));
#undef PUR
#undef SAL
#undef GEN
        lp_ok(&h->g, t.s);
        tfree(&t);
}

/* Finds the summary item starting at start. */
static json_t *summary_item(json_t *j, long long start)
{
        json_t *it;
        size_t i;

        json_array_foreach(api_json_get(j, "items"), i, it)
                if (time_ms(json_string_value(json_object_get(it, "start"))) == start * 1000)
                        return it;
        fprintf(stderr, "no summary item at %s\n", rfc(start));
        fail();
        return NULL;
}

static void test_HE_16_summary_cost_and_co2(void **state)
{
        long long d1 = tk(2026, 12, 1, 0, 0), d2 = tk(2026, 12, 2, 0, 0);
        long long d3 = tk(2026, 12, 3, 0, 0);
        struct home h;
        json_t *j, *it, *list;
        struct api_resp r;

        summary_home(&h);
        list = getf(h.owner, "/api/v1/homes/%lld/series", (long long)h.id);
        assert_string_equal(json_string_value(json_object_get(series_item(list, "buy", "energy"),
                                                              "role")), "purchase");
        assert_string_equal(json_string_value(json_object_get(series_item(list, "sell", "energy"),
                                                              "role")), "sale");
        assert_string_equal(json_string_value(json_object_get(series_item(list, "pv", "energy"),
                                                              "role")), "generation");
        json_decref(list);

        /*
         * December: purchase 2 + 1 + 3 + 0.5 = 6.5 kWh, sale 1.2, generation 4.
         * consumption = 6.5 + 4 - 1.2 = 9.3; self-consumption = (4 - 1.2) / 4 = 0.7.
         * cost = 2 * 35 + 1 * 28.5 + 3 * 28.5 + 0.5 * 35 + 1210 = 1411.5 -> 1411 yen;
         * sale 1.2 * 16 = 19.2 -> 19 yen; gas 1.5 m3, water 300 L;
         * CO2 = 6.5 kWh bought * 0.441 + 1.5 m3 gas * 2.23 = 2.8665 + 3.345 = 6.2115 kg.
         */
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=month&from=%s&to=%s",
                 (long long)h.id, qt(d1), qt(tk(2027, 1, 1, 0, 0)));
        assert_int_equal(json_array_size(api_json_get(j, "items")), 1);
        assert_string_equal(api_json_str(j, "tariff.plan"), "TOU-3");
        it = summary_item(j, d1);
        assert_close(num(it, "purchase_kwh"), 6.5, "month purchase");
        assert_close(num(it, "sale_kwh"), 1.2, "month sale");
        assert_close(num(it, "generation_kwh"), 4.0, "month generation");
        assert_close(num(it, "consumption_kwh"), 9.3, "month consumption");
        assert_close(num(it, "self_consumption_ratio"), 0.7, "month self-consumption");
        assert_close(num(it, "gas_m3"), 1.5, "month gas");
        assert_close(num(it, "water_l"), 300, "month water");
        assert_close(num(it, "cost_yen"), 1411, "month cost");
        assert_close(num(it, "sale_yen"), 19, "month sale yen");
        assert_close(num(it, "co2_kg"), 6.2115, "month co2");
        json_decref(j);

        /*
         * Days; the basic charge is pro-rated: 1210 / 31 = 39.032 yen a day.
         * Dec 1: purchase 3 (2 day + 1 night), sale 1, generation 3, consumption 5,
         *   self-consumption 2/3; cost 70 + 28.5 + 39.032 = 137.53 -> 137; sale 16;
         *   gas 1.5 m3; CO2 3 * 0.441 + 1.5 * 2.23 = 1.323 + 3.345 = 4.668.
         * Dec 2: purchase 3.5 (3 night + 0.5 day), sale 0.2, generation 1, consumption 4.3,
         *   self-consumption 0.8; cost 85.5 + 17.5 + 39.032 = 142.03 -> 142; sale 3.2 -> 3;
         *   water 300 L; CO2 3.5 * 0.441 = 1.5435.
         */
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                 (long long)h.id, qt(d1), qt(d3));
        assert_int_equal(json_array_size(api_json_get(j, "items")), 2);
        it = summary_item(j, d1);
        assert_close(num(it, "purchase_kwh"), 3, "d1 purchase");
        assert_close(num(it, "sale_kwh"), 1, "d1 sale");
        assert_close(num(it, "generation_kwh"), 3, "d1 generation");
        assert_close(num(it, "consumption_kwh"), 5, "d1 consumption");
        assert_close(num(it, "self_consumption_ratio"), 2.0 / 3.0, "d1 self-consumption");
        assert_close(num(it, "cost_yen"), 137, "d1 cost");
        assert_close(num(it, "sale_yen"), 16, "d1 sale yen");
        assert_close(num(it, "gas_m3"), 1.5, "d1 gas");
        assert_close(num(it, "water_l"), 0, "d1 water");
        assert_close(num(it, "co2_kg"), 4.668, "d1 co2");
        it = summary_item(j, d2);
        assert_close(num(it, "purchase_kwh"), 3.5, "d2 purchase");
        assert_close(num(it, "sale_kwh"), 0.2, "d2 sale");
        assert_close(num(it, "generation_kwh"), 1, "d2 generation");
        assert_close(num(it, "consumption_kwh"), 4.3, "d2 consumption");
        assert_close(num(it, "self_consumption_ratio"), 0.8, "d2 self-consumption");
        assert_close(num(it, "cost_yen"), 142, "d2 cost");
        assert_close(num(it, "sale_yen"), 3, "d2 sale yen");
        assert_close(num(it, "gas_m3"), 0, "d2 gas");
        assert_close(num(it, "water_l"), 300, "d2 water");
        assert_close(num(it, "co2_kg"), 1.5435, "d2 co2");
        json_decref(j);

        /* bad queries; a bad tariff is refused at upload */
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/summary?period=week&from=%s&to=%s",
                  (long long)h.id, qt(d1), qt(d3));
        expect(&r, 422);
        api_resp_free(&r);
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/summary?period=day&from=%s",
                  (long long)h.id, qt(d1));
        expect(&r, 422);
        api_resp_free(&r);
        r = energy_gateway_raw(&srv, &h.g, "PUT", "/api/v1/gateway/settings",
                               "{\"tariff\":{\"plan\":\"X\",\"bands\":[{\"name\":\"day\","
                               "\"from\":\"07:00\",\"to\":\"23:00\",\"price_per_kwh\":35}]}}");
        expect(&r, 422);
        api_resp_free(&r);
        home_free(&h);
}

static void test_HE_16_tiered_tariff_counts_the_month(void **state)
{
        static const char settings[] =
                "{\"tariff\":{\"plan\":\"TIER-3\",\"currency\":\"JPY\","
                "\"basic_charge_per_month\":1000,"
                "\"tiers\":[{\"up_to_kwh\":120,\"price_per_kwh\":29.8},"
                "{\"up_to_kwh\":300,\"price_per_kwh\":36.4},{\"price_per_kwh\":40.5}]},"
                "\"co2_kg_per_kwh\":0.5}";
        long long d1 = tk(2026, 12, 1, 0, 0), d2 = tk(2026, 12, 2, 0, 0);
        long long d3 = tk(2026, 12, 3, 0, 0);
        struct home h;
        struct text t = { 0 };
        struct api_resp r;
        json_t *j;

        home_new(&h, tk(2026, 12, 1, 12, 0));
        r = energy_gateway_call(&srv, &h.g, "PUT", "/api/v1/gateway/settings", settings, 201);
        api_resp_free(&r);
        clock_at(tk(2026, 12, 4, 12, 0));
        /* purchase: Dec 1 +100 kWh, Dec 2 +50 kWh, Dec 3 +200 kWh */
        tadd(&t, "energy,channel=buy,class=0x0287,epc=0xC0 value=1000000 %lld\n",
             tk(2026, 12, 1, 12, 10));
        tadd(&t, "energy,channel=buy,class=0x0287,epc=0xC0 value=1100000 %lld\n",
             tk(2026, 12, 1, 20, 0));
        tadd(&t, "energy,channel=buy,class=0x0287,epc=0xC0 value=1150000 %lld\n",
             tk(2026, 12, 2, 10, 0));
        tadd(&t, "energy,channel=buy,class=0x0287,epc=0xC0 value=1350000 %lld\n",
             tk(2026, 12, 3, 9, 0));
        lp_ok(&h.g, t.s);
        tfree(&t);

        /* the month: 120 * 29.8 + 180 * 36.4 + 50 * 40.5 + 1000 = 13153 yen */
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=month&from=%s&to=%s",
                 (long long)h.id, qt(d1), qt(tk(2027, 1, 1, 0, 0)));
        assert_string_equal(api_json_str(j, "tariff.plan"), "TIER-3");
        assert_close(num(summary_item(j, d1), "purchase_kwh"), 350, "tier month kWh");
        assert_close(num(summary_item(j, d1), "cost_yen"), 13153, "tier month cost");
        assert_close(num(summary_item(j, d1), "co2_kg"), 175, "tier month co2");
        json_decref(j);
        /*
         * Days, basic 1000 / 31 = 32.258 a day; the tiers count the month so far:
         * Dec 1: 100 * 29.8 = 2980 -> 3012; Dec 2: 20 * 29.8 + 30 * 36.4 = 1688 -> 1720;
         * Dec 3: 150 * 36.4 + 50 * 40.5 = 7485 -> 7517. A view starting on Dec 2 still
         * counts Dec 1's 100 kWh.
         */
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                 (long long)h.id, qt(d1), qt(tk(2026, 12, 4, 0, 0)));
        assert_int_equal(json_array_size(api_json_get(j, "items")), 3);
        assert_close(num(summary_item(j, d1), "cost_yen"), 3012, "tier Dec 1");
        assert_close(num(summary_item(j, d2), "cost_yen"), 1720, "tier Dec 2");
        assert_close(num(summary_item(j, d3), "cost_yen"), 7517, "tier Dec 3");
        json_decref(j);
        j = getf(h.owner, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                 (long long)h.id, qt(d2), qt(d3));
        assert_int_equal(json_array_size(api_json_get(j, "items")), 1);
        assert_close(num(summary_item(j, d2), "cost_yen"), 1720, "tier Dec 2 alone");
        json_decref(j);
        home_free(&h);
}

/* Parses CSV text: the header's column of name in *col, rows in lines[1..]. */
/* HE-16: the app's views in one request: GET /homes/{id}/data answers every
 * series at one resolution, bucket for bucket what the per-series route says;
 * a stranger gets 404. */
static void test_HE_16_all_series_view_in_one_request(void **state)
{
        long long t0 = tk(2026, 11, 28, 12, 0);
        long long a = tk(2026, 11, 29, 10, 10), b = tk(2026, 11, 29, 11, 40);
        long long from = tk(2026, 11, 29, 0, 0), to = tk(2026, 11, 30, 0, 0);
        struct home h;
        struct text t = { 0 };
        const char *res[] = { "hour", "day", "month" };
        char *stranger;
        json_t *all, *one, *it;
        size_t i;

        (void)state;
        home_new(&h, t0);
        clock_at(tk(2026, 11, 29, 12, 0));
        tadd(&t, "power,channel=load value=100 %lld\n", a);
        tadd(&t, "power,channel=load value=301 %lld\n", b);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1000 %lld\n", a);
        tadd(&t, "energy,channel=grid,class=0x0287,epc=0xC0 value=1250.5 %lld\n", b);
        lp_ok(&h.g, t.s);
        tfree(&t);
        for (int k = 0; k < 3; k++) {
                all = getf(h.owner, "/api/v1/homes/%lld/data?from=%s&to=%s&resolution=%s",
                           (long long)h.id, qt(from), qt(to), res[k]);
                assert_string_equal(json_string_value(json_object_get(all, "resolution")),
                                    res[k]);
                assert_int_equal(json_array_size(api_json_get(all, "series")), 2);
                json_array_foreach(api_json_get(all, "series"), i, it) {
                        int64_t sid = json_integer_value(json_object_get(it, "series_id"));
                        json_t *ba = json_object_get(it, "buckets");

                        one = data_of(&h, sid, res[k], from, to);
                        assert_true(json_equal(ba, api_json_get(one, "buckets")));
                        assert_true(json_array_size(ba) >= 1);
                        json_decref(one);
                }
                json_decref(all);
        }
        /* hour buckets: load 10:00 and 11:00; grid total 250.5 in the 11:00 hour */
        all = getf(h.owner, "/api/v1/homes/%lld/data?from=%s&to=%s&resolution=hour",
                   (long long)h.id, qt(from), qt(to));
        json_array_foreach(api_json_get(all, "series"), i, it) {
                json_t *ba = json_object_get(it, "buckets");

                assert_int_equal(json_array_size(ba), 2);
                if (strcmp(json_string_value(json_object_get(it, "channel")), "grid") == 0)
                        assert_close(num(json_array_get(ba, 1), "total"), 250.5, "grid 11:00");
                else
                        assert_close(num(json_array_get(ba, 1), "mean"), 301, "load 11:00");
        }
        json_decref(all);
        stranger = new_member("stranger");
        {
                char *path = api_printf("/api/v1/homes/%lld/data?from=%s&to=%s&resolution=day",
                                        (long long)h.id, qt(from), qt(to));
                struct api_resp r = fixture_call(&srv, "GET", path, stranger, NULL, 404);

                api_resp_free(&r);
                free(path);
        }
        {
                char *path = api_printf("/api/v1/homes/%lld/data?from=%s&to=%s&resolution=week",
                                        (long long)h.id, qt(from), qt(to));
                struct api_resp r = fixture_call(&srv, "GET", path, h.owner, NULL, 422);

                api_resp_free(&r);
                free(path);
        }
        free(stranger);
        home_free(&h);
}

static int csv_col(char *header, const char *name)
{
        char *f[32];
        char *copy = strdup(header);
        size_t n = csv_fields(copy, f, 32);
        int col = -1;

        for (size_t i = 0; i < n; i++)
                if (strcmp(f[i], name) == 0)
                        col = (int)i;
        free(copy);
        if (col < 0)
                fprintf(stderr, "no column %s in '%s'\n", name, header);
        assert_true(col >= 0);
        return col;
}

/* The value of column name in the row whose first column is the time t. */
static double csv_value(char *lines[], size_t n, const char *name, long long t)
{
        int col = csv_col(lines[0], name);

        for (size_t i = 1; i < n; i++) {
                char *copy = strdup(lines[i]), *f[32];
                size_t nf = csv_fields(copy, f, 32);
                double v = NAN;
                int hit = nf > (size_t)col && time_ms(f[0]) == t * 1000;

                if (hit)
                        v = f[col][0] ? strtod(f[col], NULL) : NAN;
                free(copy);
                if (hit)
                        return v;
        }
        fprintf(stderr, "no CSV row at %s\n", rfc(t));
        fail();
        return NAN;
}

static void test_HE_16_csv_export(void **state)
{
        long long d1 = tk(2026, 12, 1, 0, 0), d3 = tk(2026, 12, 3, 0, 0);
        struct home h;
        struct api_resp r;
        char *buf, *lines[64];
        size_t n;
        int64_t buy;
        struct text t = { 0 };

        summary_home(&h);
        tadd(&t, "power,channel=load value=480 %lld\npower,channel=load value=520.5 %lld\n",
             tk(2026, 12, 1, 12, 15), tk(2026, 12, 1, 12, 45));
        lp_ok(&h.g, t.s);
        tfree(&t);
        buy = series_must(&h, "buy", "energy");

        /* raw series */
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                  "&resolution=raw&format=csv", (long long)h.id, (long long)buy, qt(d1), qt(d3));
        expect(&r, 200);
        assert_memory_equal(r.content_type, "text/csv", 8);
        assert_false(contains(r.body, h.g.device_code));
        n = csv_lines(r.body, &buf, lines, 64);
        assert_int_equal(n, 6);
        assert_int_equal(csv_col(lines[0], "time"), 0);
        assert_close(csv_value(lines, n, "value", tk(2026, 12, 1, 12, 10)), 10000, "csv raw 1");
        assert_close(csv_value(lines, n, "value", tk(2026, 12, 2, 8, 30)), 16500, "csv raw 5");
        free(buf);
        api_resp_free(&r);
        /* counter rollups: increases */
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                  "&resolution=day&format=csv", (long long)h.id, (long long)buy, qt(d1), qt(d3));
        expect(&r, 200);
        assert_memory_equal(r.content_type, "text/csv", 8);
        n = csv_lines(r.body, &buf, lines, 64);
        assert_int_equal(n, 3);
        assert_close(csv_value(lines, n, "total", d1), 3000, "csv day 1");
        assert_close(csv_value(lines, n, "total", tk(2026, 12, 2, 0, 0)), 3500, "csv day 2");
        free(buf);
        api_resp_free(&r);
        /* gauge rollups: min, max, mean */
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s"
                  "&resolution=hour&format=csv", (long long)h.id,
                  (long long)series_must(&h, "load", "power"), qt(d1), qt(d3));
        expect(&r, 200);
        n = csv_lines(r.body, &buf, lines, 64);
        assert_int_equal(n, 2);
        assert_close(csv_value(lines, n, "n", tk(2026, 12, 1, 12, 0)), 2, "csv n");
        assert_close(csv_value(lines, n, "min", tk(2026, 12, 1, 12, 0)), 480, "csv min");
        assert_close(csv_value(lines, n, "max", tk(2026, 12, 1, 12, 0)), 520.5, "csv max");
        assert_close(csv_value(lines, n, "mean", tk(2026, 12, 1, 12, 0)), 500.25, "csv mean");
        free(buf);
        api_resp_free(&r);

        /* summary */
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s"
                  "&format=csv", (long long)h.id, qt(d1), qt(d3));
        expect(&r, 200);
        assert_memory_equal(r.content_type, "text/csv", 8);
        assert_false(contains(r.body, h.g.device_code));
        n = csv_lines(r.body, &buf, lines, 64);
        assert_int_equal(n, 3);
        assert_int_equal(csv_col(lines[0], "start"), 0);
        assert_close(csv_value(lines, n, "purchase_kwh", d1), 3, "csv purchase");
        assert_close(csv_value(lines, n, "sale_kwh", d1), 1, "csv sale");
        assert_close(csv_value(lines, n, "generation_kwh", d1), 3, "csv generation");
        assert_close(csv_value(lines, n, "consumption_kwh", d1), 5, "csv consumption");
        {
                double ratio = csv_value(lines, n, "self_consumption_ratio", d1);

                assert_true(ratio > 0.666 && ratio < 0.6668);
        }
        assert_close(csv_value(lines, n, "cost_yen", d1), 137, "csv cost");
        assert_close(csv_value(lines, n, "sale_yen", d1), 16, "csv sale yen");
        assert_close(csv_value(lines, n, "co2_kg", d1), 4.668, "csv co2");
        assert_close(csv_value(lines, n, "gas_m3", d1), 1.5, "csv gas");
        assert_close(csv_value(lines, n, "water_l", tk(2026, 12, 2, 0, 0)), 300, "csv water");
        assert_close(csv_value(lines, n, "purchase_kwh", tk(2026, 12, 2, 0, 0)), 3.5,
                     "csv purchase 2");
        free(buf);
        api_resp_free(&r);
        r = callf("GET", h.owner, NULL, "/api/v1/homes/%lld/summary?period=day&from=%s&to=%s"
                  "&format=xml", (long long)h.id, qt(d1), qt(d3));
        expect(&r, 422);
        api_resp_free(&r);
        home_free(&h);
}

static void test_HE_16_other_household_cannot_read(void **state)
{
        long long t0 = tk(2026, 12, 1, 12, 0);
        struct home a, b;
        char *lp, *left = new_member("he16left");
        int64_t sa, sb;
        struct api_resp r;
        char *paths[8];
        size_t np = 0;

        home_new(&a, t0);
        home_new(&b, t0);
        energy_home_add_member(&srv, a.id, a.owner, left);
        clock_at(t0 + HOUR);
        lp = api_printf("power,channel=main value=300 %lld\n", t0 + 10 * MINUTE);
        lp_ok(&a.g, lp);
        lp_ok(&b.g, lp);
        sa = series_must(&a, "main", "power");
        sb = series_must(&b, "main", "power");
        assert_true(sa != sb);
        r = callf("DELETE", left, NULL, "/api/v1/homes/%lld/members/%lld", (long long)a.id,
                  (long long)me_id(left));
        expect(&r, 204);
        api_resp_free(&r);

        paths[np++] = api_printf("/api/v1/homes/%lld", (long long)a.id);
        paths[np++] = api_printf("/api/v1/homes/%lld/latest", (long long)a.id);
        paths[np++] = api_printf("/api/v1/homes/%lld/series", (long long)a.id);
        paths[np++] = api_printf("/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s",
                                 (long long)a.id, (long long)sa, qt(t0), qt(t0 + HOUR));
        paths[np++] = api_printf("/api/v1/homes/%lld/summary?period=day&from=%s&to=%s",
                                 (long long)a.id, qt(t0 - 12 * HOUR), qt(t0 + 12 * HOUR));
        paths[np++] = api_printf("/api/v1/homes/%lld/household", (long long)a.id);
        /* a's series through b's home */
        paths[np++] = api_printf("/api/v1/homes/%lld/series/%lld/data?from=%s&to=%s",
                                 (long long)b.id, (long long)sa, qt(t0), qt(t0 + HOUR));
        for (size_t i = 0; i < np; i++) {
                int cross = i == np - 1;

                /* b's owner (another household) and a former member of a */
                r = callf("GET", b.owner, NULL, "%s", paths[i]);
                if (r.status != 404)
                        fprintf(stderr, "GET %s by another household: %ld\n", paths[i], r.status);
                expect(&r, 404);
                api_resp_free(&r);
                if (!cross) {
                        r = callf("GET", left, NULL, "%s", paths[i]);
                        expect(&r, 404);
                        api_resp_free(&r);
                        r = callf("GET", NULL, NULL, "%s", paths[i]);
                        expect(&r, 401);
                        api_resp_free(&r);
                        /* the household itself can */
                        r = callf("GET", a.owner, NULL, "%s", paths[i]);
                        expect(&r, 200);
                        api_resp_free(&r);
                }
                free(paths[i]);
        }
        /* nor write: invitations, deregistration */
        r = callf("POST", b.owner, "{}", "/api/v1/homes/%lld/invitations", (long long)a.id);
        expect(&r, 404);
        api_resp_free(&r);
        r = callf("POST", b.owner, "{\"data\":\"delete\"}", "/api/v1/homes/%lld/deregistration",
                  (long long)a.id);
        expect(&r, 404);
        api_resp_free(&r);
        free(lp);
        free(left);
        home_free(&a);
        home_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_HE_1_provision_secret_shown_once_code_masked),
                cmocka_unit_test(test_HE_1_wrong_secret_401),
                cmocka_unit_test(test_HE_1_device_code_not_in_logs),
                cmocka_unit_test(test_HE_2_upload_before_registration_refused),
                cmocka_unit_test(test_HE_2_registration_records_terms_and_start),
                cmocka_unit_test(test_HE_3_link_with_pairing_code_owner_then_invitation),
                cmocka_unit_test(test_HE_4_deregistration_stops_collection_410),
                cmocka_unit_test(test_HE_4_handover_keep_then_purged_after_90_days),
                cmocka_unit_test(test_HE_4_handover_delete_now),
                cmocka_unit_test(test_HE_4_new_resident_starts_fresh_home),
                cmocka_unit_test(test_HE_7_line_protocol_v1_and_v2),
                cmocka_unit_test(test_HE_7_gzip_body),
                cmocka_unit_test(test_HE_7_json_batch),
                cmocka_unit_test(test_HE_7_resend_same_batch_not_duplicated),
                cmocka_unit_test(test_HE_7_late_out_of_order_points_update_rollups),
                cmocka_unit_test(test_HE_7_future_and_before_registration_rejected_per_point),
                cmocka_unit_test(test_HE_7_counter_reset_and_wrap),
                cmocka_unit_test(test_HE_7_bad_input),
                cmocka_unit_test(test_HE_7_series_per_home_limit),
                cmocka_unit_test(test_HE_16_latest_and_resolutions),
                cmocka_unit_test(test_HE_16_all_series_view_in_one_request),
                cmocka_unit_test(test_HE_16_day_boundary_tokyo),
                cmocka_unit_test(test_HE_16_summary_cost_and_co2),
                cmocka_unit_test(test_HE_16_tiered_tariff_counts_the_month),
                cmocka_unit_test(test_HE_16_csv_export),
                cmocka_unit_test(test_HE_16_other_household_cannot_read),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
