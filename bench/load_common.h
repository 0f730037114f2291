/*
 * load_common.h - what the load generators of bench/ share: a growing text
 * buffer, the home's channel layout and its data generator (the same seeded
 * values for enemane and InfluxDB, for ingest_load and query_load), and a
 * keep-alive libcurl connection with GET and POST. Benchmark code only.
 */
#ifndef ENEMANE_BENCH_LOAD_COMMON_H
#define ENEMANE_BENCH_LOAD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define LOAD_REQUEST_TIMEOUT_MS 120000L
#define LOAD_CODE_MAX           128
#define LOAD_SECRET_MAX         128

struct lbuf {
        char *p;
        size_t len, cap;
};

enum chan_kind { CK_POWER, CK_ENERGY, CK_SOC, CK_GAS, CK_WATER };

struct chan {
        enum chan_kind kind;
        const char *quantity;           /* line protocol measurement */
        const char *unit;
        char name[32];                  /* channel tag */
        int class_code, epc, circuit;   /* circuit -1: none */
        int scale;                      /* value = stored integer / scale */
        int64_t lo, hi;                 /* gauges: range of the random walk */
        char tags[160];                 /* "power,channel=grid,class=0x0287,epc=0xC6" */
};

struct gen {
        uint64_t rng;
        int64_t v;
};

struct load_conn {
        CURL *curl;
        char *buf;                      /* answer body */
        size_t len, cap;
        long status;
};

void lbuf_reserve(struct lbuf *b, size_t more);
void lbuf_add(struct lbuf *b, const char *s, size_t n);
void lbuf_str(struct lbuf *b, const char *s);
void lbuf_printf(struct lbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lbuf_int(struct lbuf *b, int64_t v);
void lbuf_value(struct lbuf *b, int64_t v, int scale);
void chan_define(struct chan *ch, int i, int n);
uint64_t gen_next64(uint64_t *s);
void gen_init(struct gen *g, const struct chan *ch, uint64_t seed, int gw, int c);
int64_t gen_step(struct gen *g, const struct chan *ch);
int64_t load_now_ns(void);
size_t load_write(char *p, size_t size, size_t nmemb, void *ud);
int load_conn_init(struct load_conn *c);
void load_conn_free(struct load_conn *c);
int load_post(struct load_conn *c, const char *url, struct curl_slist *headers,
              const char *body, size_t len, char *err, size_t errlen);
void base64(const char *in, char *out);
void basic_header(const char *code, const char *secret, char *out, size_t outlen);
int load_get(struct load_conn *c, const char *url, struct curl_slist *headers,
             char *err, size_t errlen);

#endif
