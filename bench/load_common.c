/*
 * load_common.c - the pieces the bench load generators share (see
 * load_common.h): text buffer, channel layout and data generator, HTTP
 * connection. Benchmark code only.
 */
#include "load_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- growing text buffer ------------------------------------------------------------------ */


void lbuf_reserve(struct lbuf *b, size_t more)
{
        size_t ncap;
        char *np;

        if (b->len + more + 1 <= b->cap)
                return;
        ncap = b->cap ? b->cap : 65536;
        while (ncap < b->len + more + 1)
                ncap *= 2;
        np = realloc(b->p, ncap);
        if (!np) {
                fprintf(stderr, "load: out of memory\n");
                exit(1);
        }
        b->p = np;
        b->cap = ncap;
}

void lbuf_add(struct lbuf *b, const char *s, size_t n)
{
        lbuf_reserve(b, n);
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

void lbuf_str(struct lbuf *b, const char *s)
{
        lbuf_add(b, s, strlen(s));
}

void lbuf_printf(struct lbuf *b, const char *fmt, ...)
{
        char small[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        lbuf_reserve(b, (size_t)n);
        if ((size_t)n < sizeof(small)) {
                memcpy(b->p + b->len, small, (size_t)n + 1);
        } else {
                va_start(ap, fmt);
                vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        b->len += (size_t)n;
}

/* Appends integer v in decimal. */
void lbuf_int(struct lbuf *b, int64_t v)
{
        char tmp[24];
        int i = (int)sizeof(tmp);
        bool neg = v < 0;
        uint64_t u = neg ? (uint64_t)(-v) : (uint64_t)v;

        do {
                tmp[--i] = (char)('0' + u % 10);
                u /= 10;
        } while (u > 0);
        if (neg)
                tmp[--i] = '-';
        lbuf_add(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Appends a stored value: v itself (scale 1) or v / 1000 with three decimals. */
void lbuf_value(struct lbuf *b, int64_t v, int scale)
{
        char frac[4];

        if (scale == 1) {
                lbuf_int(b, v);
                return;
        }
        /* scale 1000, v >= 0 (counters) */
        lbuf_int(b, v / 1000);
        frac[0] = '.';
        frac[1] = (char)('0' + (v / 100) % 10);
        frac[2] = (char)('0' + (v / 10) % 10);
        frac[3] = (char)('0' + v % 10);
        lbuf_add(b, frac, 4);
}

/* ---- the home's channels and their data (same generator as query_load.c) ----------------- */



/* Channel i of n: n - 3 split into power gauges and energy counters
 * (20 -> 10 + 7, 40 -> 22 + 15), then soc, gas and water. */
void chan_define(struct chan *ch, int i, int n)
{
        int rest = n - 3, npower = rest - rest * 7 / 17;

        memset(ch, 0, sizeof(*ch));
        ch->circuit = -1;
        ch->scale = 1;
        if (i < npower) {
                static const struct { const char *name; int cls, epc; int64_t lo, hi; } fixed[] = {
                        { "grid", 0x0287, 0xC6, -3000, 6000 },
                        { "solar", 0x0279, 0xE0, 0, 5500 },
                        { "battery", 0x027D, 0xD3, -3000, 3000 },
                        { "fuelcell", 0x027C, 0xC4, 0, 700 },
                };
                ch->kind = CK_POWER;
                ch->quantity = "power";
                ch->unit = "W";
                if (i < 4) {
                        snprintf(ch->name, sizeof(ch->name), "%s", fixed[i].name);
                        ch->class_code = fixed[i].cls;
                        ch->epc = fixed[i].epc;
                        ch->lo = fixed[i].lo;
                        ch->hi = fixed[i].hi;
                } else {
                        ch->circuit = i - 3;
                        snprintf(ch->name, sizeof(ch->name), "c%02d", ch->circuit);
                        ch->class_code = 0x0287;
                        ch->epc = 0xB7;
                        ch->lo = 0;
                        ch->hi = 2000;
                }
        } else if (i < rest) {
                static const struct { const char *name; int cls, epc; } fixed[] = {
                        { "grid_buy", 0x0287, 0xC0 },
                        { "grid_sell", 0x0287, 0xC1 },
                        { "solar_energy", 0x0279, 0xE1 },
                        { "battery_charge", 0x027D, 0xD8 },
                };
                int j = i - npower;

                ch->kind = CK_ENERGY;
                ch->quantity = "energy";
                ch->unit = "Wh";
                if (j < 4) {
                        snprintf(ch->name, sizeof(ch->name), "%s", fixed[j].name);
                        ch->class_code = fixed[j].cls;
                        ch->epc = fixed[j].epc;
                } else {
                        ch->circuit = j - 3;
                        snprintf(ch->name, sizeof(ch->name), "c%02d_energy", ch->circuit);
                        ch->class_code = 0x0287;
                        ch->epc = 0xB3;
                }
        } else if (i == rest) {
                ch->kind = CK_SOC;
                ch->quantity = "soc";
                ch->unit = "%";
                snprintf(ch->name, sizeof(ch->name), "battery_soc");
                ch->class_code = 0x027D;
                ch->epc = 0xE4;
                ch->lo = 0;
                ch->hi = 100;
        } else if (i == rest + 1) {
                ch->kind = CK_GAS;
                ch->quantity = "gas";
                ch->unit = "m3";
                snprintf(ch->name, sizeof(ch->name), "gas");
                ch->class_code = 0x0282;
                ch->epc = 0xE0;
                ch->scale = 1000;
        } else {
                ch->kind = CK_WATER;
                ch->quantity = "water";
                ch->unit = "L";
                snprintf(ch->name, sizeof(ch->name), "water");
                ch->class_code = 0x0281;
                ch->epc = 0xE0;
        }
        /* tags in lexical order (channel < circuit < class < epc), as InfluxDB likes them */
        if (ch->circuit >= 0)
                snprintf(ch->tags, sizeof(ch->tags), "%s,channel=%s,circuit=%d,class=0x%04X,"
                         "epc=0x%02X", ch->quantity, ch->name, ch->circuit, ch->class_code,
                         ch->epc);
        else
                snprintf(ch->tags, sizeof(ch->tags), "%s,channel=%s,class=0x%04X,epc=0x%02X",
                         ch->quantity, ch->name, ch->class_code, ch->epc);
}

/* One series' value stream: deterministic from (seed, gateway, channel). */

uint64_t gen_next64(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void gen_init(struct gen *g, const struct chan *ch, uint64_t seed, int gw, int c)
{
        g->rng = seed * 0x2545F4914F6CDD1DULL ^ (uint64_t)gw * 0x9E3779B97F4A7C15ULL ^
                 (uint64_t)c * 0xC2B2AE3D27D4EB4FULL;
        gen_next64(&g->rng);
        g->v = 0;
        switch (ch->kind) {
        case CK_POWER:
        case CK_SOC:
                g->v = ch->lo + (int64_t)(gen_next64(&g->rng) % (uint64_t)(ch->hi - ch->lo + 1));
                break;
        case CK_ENERGY:
                g->v = 1000000 + (int64_t)(gen_next64(&g->rng) % 9000000);
                break;
        case CK_GAS:
                g->v = (int64_t)(gen_next64(&g->rng) % 5000000);   /* 0..5000 m3 */
                break;
        case CK_WATER:
                g->v = (int64_t)(gen_next64(&g->rng) % 2000000);   /* L */
                break;
        }
}

/* The next minute's value (as the stored integer; / ch->scale for the unit). */
int64_t gen_step(struct gen *g, const struct chan *ch)
{
        uint64_t r = gen_next64(&g->rng);

        switch (ch->kind) {
        case CK_POWER:
                g->v += (int64_t)(r % 201) - 100;
                break;
        case CK_SOC:
                g->v += (int64_t)(r % 3) - 1;
                break;
        case CK_ENERGY:
                g->v += (int64_t)(r % 30);
                return g->v;
        case CK_GAS:
                if (r % 10 == 0)
                        g->v += (int64_t)((r >> 8) % 50);
                return g->v;
        case CK_WATER:
                if (r % 8 == 0)
                        g->v += (int64_t)((r >> 8) % 20);
                return g->v;
        }
        if (g->v < ch->lo)
                g->v = ch->lo;
        if (g->v > ch->hi)
                g->v = ch->hi;
        return g->v;
}

/* ---- HTTP --------------------------------------------------------------------------------- */


int64_t load_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

size_t load_write(char *p, size_t size, size_t nmemb, void *ud)
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

int load_conn_init(struct load_conn *c)
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

void load_conn_free(struct load_conn *c)
{
        if (!c)
                return;
        if (c->curl)
                curl_easy_cleanup(c->curl);
        free(c->buf);
        memset(c, 0, sizeof(*c));
}

/* A POST of body (len bytes) to url; c->status and c->buf hold the answer.
 * 0, or -EIO when the transfer failed (message in err). */
int load_post(struct load_conn *c, const char *url, struct curl_slist *headers,
              const char *body, size_t len, char *err, size_t errlen)
{
        CURLcode cc;

        c->len = 0;
        c->status = 0;
        if (c->buf)
                c->buf[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK) {
                snprintf(err, errlen, "POST %s: %s", url, curl_easy_strerror(cc));
                return -EIO;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
        return 0;
}

/* A GET of url; c->status and c->buf hold the answer. 0, or -EIO. */
void base64(const char *in, char *out)
{
        static const char tab[] =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t n = strlen(in), i, o = 0;
        const unsigned char *s = (const unsigned char *)in;

        for (i = 0; i + 2 < n; i += 3) {
                out[o++] = tab[s[i] >> 2];
                out[o++] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
                out[o++] = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
                out[o++] = tab[s[i + 2] & 63];
        }
        if (i < n) {
                out[o++] = tab[s[i] >> 2];
                if (i + 1 < n) {
                        out[o++] = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
                        out[o++] = tab[(s[i + 1] & 15) << 2];
                } else {
                        out[o++] = tab[(s[i] & 3) << 4];
                        out[o++] = '=';
                }
                out[o++] = '=';
        }
        out[o] = '\0';
}

/* "Authorization: Basic base64(code:secret)" */
void basic_header(const char *code, const char *secret, char *out, size_t outlen)
{
        char plain[LOAD_CODE_MAX + LOAD_SECRET_MAX + 2];
        char enc[(sizeof(plain) + 2) / 3 * 4 + 1];

        snprintf(plain, sizeof(plain), "%s:%s", code, secret);
        base64(plain, enc);
        snprintf(out, outlen, "Authorization: Basic %s", enc);
}

/* A GET of url; c->status and c->buf hold the answer. 0 or -EIO. */
int load_get(struct load_conn *c, const char *url, struct curl_slist *headers,
             char *err, size_t errlen)
{
        CURLcode cc;

        c->len = 0;
        c->status = 0;
        if (c->buf)
                c->buf[0] = '\0';
        curl_easy_setopt(c->curl, CURLOPT_URL, url);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
        cc = curl_easy_perform(c->curl);
        if (cc != CURLE_OK) {
                snprintf(err, errlen, "GET %s: %s", url, curl_easy_strerror(cc));
                return -EIO;
        }
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &c->status);
        return 0;
}

