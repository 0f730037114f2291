/*
 * test_api_wallet.c - the prepaid wallet over HTTP against the real binary
 * (issue 3, CS-6): the member's wallet view and statement (JSON paging,
 * filters, CSV), the wallet provider's signed top-up and payout-result
 * webhooks (signature, stale timestamp, replay, idempotency by transaction
 * id), payouts, and the operator's ledger: holds resolved exactly once
 * (capture in full or in part, void, expiry by the sweeper), idempotent
 * transfer ids, linked chains all or nothing, audited corrections,
 * balanced totals, who may call the ledger, and the wallet hold as a
 * withdrawal blocker (CS-4).
 *
 * The webhooks are signed here with our own HMAC-SHA256 (FIPS 180-4 and
 * RFC 2104, checked against RFC 4231 in setup), so the test shares no code
 * with the server's verification.
 */
#include "common.h"

#include <time.h>
#include <unistd.h>

#define SECRET "test-secret"

static struct api_server srv;
static char *op;                /* an operator's token */

/* ---- HMAC-SHA256 -------------------------------------------------------- */

struct sha256 {
        uint32_t h[8];
        uint8_t block[64];
        size_t fill;            /* bytes in block */
        uint64_t total;         /* bytes hashed so far */
};

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
        return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *c)
{
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

        memcpy(c->h, iv, sizeof(iv));
        c->fill = 0;
        c->total = 0;
}

static void sha256_block(struct sha256 *c, const uint8_t *p)
{
        uint32_t w[64], v[8], t1, t2;

        for (int i = 0; i < 16; i++)
                w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        for (int i = 16; i < 64; i++) {
                uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);

                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        memcpy(v, c->h, sizeof(v));
        for (int i = 0; i < 64; i++) {
                /* v = a b c d e f g h */
                t1 = v[7] + (ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25)) +
                     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha256_k[i] + w[i];
                t2 = (ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22)) +
                     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
                memmove(v + 1, v, 7 * sizeof(v[0]));
                v[4] += t1;
                v[0] = t1 + t2;
        }
        for (int i = 0; i < 8; i++)
                c->h[i] += v[i];
}

static void sha256_update(struct sha256 *c, const void *data, size_t n)
{
        const uint8_t *p = data;

        c->total += n;
        while (n > 0) {
                size_t take = 64 - c->fill;

                if (take > n)
                        take = n;
                memcpy(c->block + c->fill, p, take);
                c->fill += take;
                p += take;
                n -= take;
                if (c->fill == 64) {
                        sha256_block(c, c->block);
                        c->fill = 0;
                }
        }
}

static void sha256_final(struct sha256 *c, uint8_t out[32])
{
        uint64_t bits = c->total * 8;
        uint8_t pad = 0x80, zero = 0, len[8];

        sha256_update(c, &pad, 1);
        while (c->fill != 56)
                sha256_update(c, &zero, 1);
        for (int i = 0; i < 8; i++)
                len[i] = (uint8_t)(bits >> (56 - 8 * i));
        sha256_update(c, len, 8);
        for (int i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t)(c->h[i] >> 24);
                out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
                out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
                out[4 * i + 3] = (uint8_t)c->h[i];
        }
}

/* Lowercase hex HMAC-SHA256(key, a || b) into hex (65 bytes). */
static void hmac_sha256_hex(const char *key, const char *a, size_t alen, const char *b,
                            size_t blen, char hex[65])
{
        uint8_t k[64] = { 0 }, ipad[64], opad[64], inner[32], mac[32];
        size_t klen = strlen(key);
        struct sha256 c;

        if (klen > 64) {
                sha256_init(&c);
                sha256_update(&c, key, klen);
                sha256_final(&c, k);
        } else {
                memcpy(k, key, klen);
        }
        for (int i = 0; i < 64; i++) {
                ipad[i] = k[i] ^ 0x36;
                opad[i] = k[i] ^ 0x5c;
        }
        sha256_init(&c);
        sha256_update(&c, ipad, 64);
        sha256_update(&c, a, alen);
        sha256_update(&c, b, blen);
        sha256_final(&c, inner);
        sha256_init(&c);
        sha256_update(&c, opad, 64);
        sha256_update(&c, inner, 32);
        sha256_final(&c, mac);
        for (int i = 0; i < 32; i++)
                snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

/* ---- helpers ------------------------------------------------------------ */

struct member {
        json_int_t id;
        char *token;
        json_int_t wallet;      /* the wallet's ledger account id */
};

struct acc {
        json_int_t dp, cp, dpend, cpend, balance, available;
};

static int setup(void **state)
{
        static const char *const args[] = { "--wallet-webhook-secret", SECRET,
                                             "--ledger-sweep-interval", "1s",
                                             "--no-log-requests", NULL };
        char hex[65];

        /* RFC 4231 test case 2: our HMAC must be right before it judges the server. */
        hmac_sha256_hex("Jefe", "what do ya want ", 16, "for nothing?", 12, hex);
        if (strcmp(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") != 0) {
                fprintf(stderr, "HMAC-SHA256 self-test failed: %s\n", hex);
                return -1;
        }
        if (api_server_start(&srv, args) < 0)
                return -1;
        op = operator_token(&srv, "ledger@operator.test");
        return 0;
}

static int teardown(void **state)
{
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static void new_member(const char *email, struct member *m)
{
        struct api_resp r = { 0 };

        assert_int_equal(register_member(&srv, email, "", &r), 201);
        m->id = api_json_int(r.json, "id", 0);
        assert_true(m->id > 0);
        api_resp_free(&r);
        m->token = login(&srv, email, DEFAULT_PASSWORD);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet", m->token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        m->wallet = api_json_int(r.json, "account_id", 0);
        assert_true(m->wallet > 4);     /* 1..4 are the system accounts */
        api_resp_free(&r);
}

static void member_free(struct member *m)
{
        free(m->token);
        m->token = NULL;
}

/* The Tokyo calendar day `offset` days from today, YYYY-MM-DD. */
static void tokyo_day(int offset, char out[11])
{
        time_t t = time(NULL) + 9 * 3600 + (time_t)offset * 86400;
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(out, 11, "%Y-%m-%d", &tm);
}

/*
 * POSTs body to a webhook path. sig NULL: sign correctly with ts; "" : no
 * signature header at all; anything else: sent as the header value.
 */
static void webhook(const char *path, const char *body, long long ts, const char *sig,
                    struct api_resp *out)
{
        char hex[65], tsbuf[24];
        char *h_ts, *h_sig = NULL;
        const char *headers[4];
        int n = 0;

        /* signed text: "<timestamp>.<raw body>" */
        snprintf(tsbuf, sizeof(tsbuf), "%lld.", ts);
        hmac_sha256_hex(SECRET, tsbuf, strlen(tsbuf), body, strlen(body), hex);
        tsbuf[strlen(tsbuf) - 1] = '\0';
        h_ts = api_printf("X-Wallet-Timestamp: %s", tsbuf);
        headers[n++] = "Content-Type: application/json";
        headers[n++] = h_ts;
        if (!sig) {
                h_sig = api_printf("X-Wallet-Signature: sha256=%s", hex);
                headers[n++] = h_sig;
        } else if (sig[0]) {
                h_sig = api_printf("X-Wallet-Signature: %s", sig);
                headers[n++] = h_sig;
        }
        headers[n] = NULL;
        assert_int_equal(api_call_raw(&srv, "POST", path, headers, body, strlen(body), out), 0);
        free(h_ts);
        free(h_sig);
}

static long topup(const char *txid, json_int_t member, long long amount, long long ts,
                  struct api_resp *out)
{
        struct api_resp r = { 0 };
        char *body = api_printf("{\"transaction_id\":\"%s\",\"member_id\":%lld,\"amount\":%lld}",
                                txid, (long long)member, amount);
        long status;

        webhook("/api/v1/wallet/topups", body, ts, NULL, &r);
        status = r.status;
        free(body);
        if (out)
                *out = r;
        else
                api_resp_free(&r);
        return status;
}

static void topup_ok(const char *txid, json_int_t member, long long amount)
{
        struct api_resp r = { 0 };

        if (topup(txid, member, amount, (long long)time(NULL), &r) != 201)
                fprintf(stderr, "top-up %s: %ld %s\n", txid, r.status, r.body);
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
}

static void wallet_get(const char *token, json_int_t *balance, json_int_t *available,
                       json_int_t *held)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet", token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        *balance = api_json_int(r.json, "balance", -1);
        *available = api_json_int(r.json, "available", -1);
        *held = api_json_int(r.json, "held", -1);
        api_resp_free(&r);
}

static void assert_wallet(const struct member *m, json_int_t balance, json_int_t available,
                          json_int_t held)
{
        json_int_t b, a, h;

        wallet_get(m->token, &b, &a, &h);
        if (b != balance || a != available || h != held)
                fprintf(stderr, "wallet of member %lld: balance %lld available %lld held %lld, "
                        "expected %lld %lld %lld\n", (long long)m->id, (long long)b,
                        (long long)a, (long long)h, (long long)balance, (long long)available,
                        (long long)held);
        assert_int_equal(b, balance);
        assert_int_equal(a, available);
        assert_int_equal(h, held);
}

static void acc_get(json_int_t id, struct acc *a)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/ledger/accounts/%lld", (long long)id);

        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        if (r.status != 200)
                fprintf(stderr, "GET %s: %ld %s\n", path, r.status, r.body);
        assert_int_equal(r.status, 200);
        assert_int_equal(api_json_int(r.json, "id", 0), id);
        a->dp = api_json_int(r.json, "debits_posted", -1);
        a->cp = api_json_int(r.json, "credits_posted", -1);
        a->dpend = api_json_int(r.json, "debits_pending", -1);
        a->cpend = api_json_int(r.json, "credits_pending", -1);
        a->balance = api_json_int(r.json, "balance", -1);
        a->available = api_json_int(r.json, "available", -1);
        api_resp_free(&r);
        free(path);
}

/* POSTs {"transfers":[list]} (list: comma-separated transfer objects)
 * as the operator. Returns the status; *out keeps the answer. */
static long transfers(const char *list, struct api_resp *out)
{
        char *body = api_printf("{\"transfers\":[%s]}", list);

        assert_int_equal(api_call(&srv, "POST", "/api/v1/ledger/transfers", op, body, out), 0);
        free(body);
        return out->status;
}

/* One transfer; asserts the status matching the expected result (200 for
 * ok/exists, 409 otherwise) and the result name. */
static void transfer_expect(const char *t, const char *result, struct api_resp *out)
{
        struct api_resp r = { 0 };
        int good = strcmp(result, "ok") == 0 || strcmp(result, "exists") == 0;
        const char *got;

        transfers(t, &r);
        got = api_json_str(r.json, "results.0.result");
        if (!got || strcmp(got, result) != 0 || r.status != (good ? 200 : 409))
                fprintf(stderr, "transfer %s: expected %s, got %ld %s\n", t, result, r.status,
                        r.body);
        assert_int_equal(r.status, good ? 200 : 409);
        if (!good)
                assert_string_equal(api_json_str(r.json, "code"), "transfer_failed");
        assert_non_null(got);
        assert_string_equal(got, result);
        if (out)
                *out = r;
        else
                api_resp_free(&r);
}

/* GET /api/v1/ledger/transfers/{id}: the status; *out keeps the answer. */
static long transfer_get(const char *id, struct api_resp *out)
{
        char *path = api_printf("/api/v1/ledger/transfers/%s", id);

        assert_int_equal(api_call(&srv, "GET", path, op, NULL, out), 0);
        free(path);
        return out->status;
}

static void assert_transfer_state(const char *id, const char *state)
{
        struct api_resp r = { 0 };

        assert_int_equal(transfer_get(id, &r), 200);
        if (!api_json_str(r.json, "state") || strcmp(api_json_str(r.json, "state"), state) != 0)
                fprintf(stderr, "transfer %s: expected state %s: %s\n", id, state, r.body);
        assert_string_equal(api_json_str(r.json, "state"), state);
        api_resp_free(&r);
}

static char *hold_json(const char *id, json_int_t from, long long amount, long long timeout)
{
        if (timeout > 0)
                return api_printf("{\"id\":\"%s\",\"debit_account_id\":%lld,"
                                  "\"credit_account_id\":1,\"amount\":%lld,\"code\":\"hold\","
                                  "\"pending\":true,\"timeout\":%lld}", id, (long long)from,
                                  amount, timeout);
        return api_printf("{\"id\":\"%s\",\"debit_account_id\":%lld,\"credit_account_id\":1,"
                          "\"amount\":%lld,\"code\":\"hold\",\"pending\":true}", id,
                          (long long)from, amount);
}

/* A post (amount > 0: partial) or void of a pending transfer. */
static char *resolve_json(const char *id, const char *pending_id, int post, long long amount)
{
        if (post && amount > 0)
                return api_printf("{\"id\":\"%s\",\"pending_id\":\"%s\",\"post_pending\":true,"
                                  "\"amount\":%lld,\"code\":\"capture\"}", id, pending_id, amount);
        if (post)
                return api_printf("{\"id\":\"%s\",\"pending_id\":\"%s\",\"post_pending\":true,"
                                  "\"code\":\"capture\"}", id, pending_id);
        return api_printf("{\"id\":\"%s\",\"pending_id\":\"%s\",\"void_pending\":true,"
                          "\"code\":\"release\"}", id, pending_id);
}

static char *plain_json(const char *id, json_int_t from, json_int_t to, long long amount,
                        const char *code)
{
        return api_printf("{\"id\":\"%s\",\"debit_account_id\":%lld,\"credit_account_id\":%lld,"
                          "\"amount\":%lld,\"code\":\"%s\"}", id, (long long)from, (long long)to,
                          amount, code);
}

/* Runs one transfer given as an owned JSON string and frees it. */
static void run(char *t, const char *result)
{
        transfer_expect(t, result, NULL);
        free(t);
}

/* Like run, keeping the answer in *out. */
static void run_keep(char *t, const char *result, struct api_resp *out)
{
        transfer_expect(t, result, out);
        free(t);
}

/* ---- wallet view ------------------------------------------------------ */

static void test_wallet_view_starts_empty(void **state)
{
        struct api_resp r = { 0 };
        struct member m;

        new_member("view@wallet.test", &m);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet", m.token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, "application/json");
        assert_int_equal(api_json_int(r.json, "account_id", 0), m.wallet);
        assert_true(api_json_int(r.json, "debt_account_id", 0) > 4);
        assert_int_not_equal(api_json_int(r.json, "debt_account_id", 0), m.wallet);
        assert_int_equal(api_json_int(r.json, "balance", -1), 0);
        assert_int_equal(api_json_int(r.json, "available", -1), 0);
        assert_int_equal(api_json_int(r.json, "held", -1), 0);
        assert_int_equal(api_json_int(r.json, "debt", -1), 0);
        assert_string_equal(api_json_str(r.json, "currency"), "JPY");
        api_resp_free(&r);
        /* the same wallet every time, and the operator sees the same one */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet", m.token, NULL, &r), 0);
        assert_int_equal(api_json_int(r.json, "account_id", 0), m.wallet);
        api_resp_free(&r);
        {
                char *path = api_printf("/api/v1/members/%lld/wallet", (long long)m.id);

                assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
                assert_int_equal(r.status, 200);
                assert_int_equal(api_json_int(r.json, "account_id", 0), m.wallet);
                api_resp_free(&r);
                free(path);
        }
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet", NULL, NULL, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        member_free(&m);
}

/* ---- top-up webhook ---------------------------------------------------- */

static void test_topup_signed_webhook_credits_once(void **state)
{
        struct api_resp r = { 0 };
        long long now = (long long)time(NULL);
        struct member m;

        new_member("topup@wallet.test", &m);
        assert_int_equal(topup("tx-001", m.id, 5000, now, &r), 201);
        assert_string_equal(api_json_str(r.json, "transfer_id"), "topup:tx-001");
        assert_int_equal(api_json_int(r.json, "member_id", 0), m.id);
        assert_int_equal(api_json_int(r.json, "amount", 0), 5000);
        assert_int_equal(api_json_int(r.json, "balance", -1), 5000);
        api_resp_free(&r);
        assert_wallet(&m, 5000, 5000, 0);

        /* the provider retries: same transaction, newly signed -> 200, no second credit */
        assert_int_equal(topup("tx-001", m.id, 5000, now - 1, &r), 200);
        assert_string_equal(api_json_str(r.json, "transfer_id"), "topup:tx-001");
        assert_int_equal(api_json_int(r.json, "amount", 0), 5000);
        assert_int_equal(api_json_int(r.json, "balance", -1), 5000);
        api_resp_free(&r);
        assert_wallet(&m, 5000, 5000, 0);

        /* same transaction id, another amount or member: a conflict naming the field */
        assert_int_equal(topup("tx-001", m.id, 6000, now - 2, &r), 409);
        assert_problem(&r, 409, "idempotency_conflict");
        assert_string_equal(api_json_str(r.json, "errors.0.field"), "amount");
        api_resp_free(&r);
        {
                struct member other;

                new_member("topup-other@wallet.test", &other);
                assert_int_equal(topup("tx-001", other.id, 5000, now - 3, &r), 409);
                assert_problem(&r, 409, "idempotency_conflict");
                assert_string_equal(api_json_str(r.json, "errors.0.field"), "member_id");
                api_resp_free(&r);
                assert_wallet(&other, 0, 0, 0);
                member_free(&other);
        }
        assert_wallet(&m, 5000, 5000, 0);

        /* the ledger has it once, as a posted top-up from the funding account */
        assert_int_equal(transfer_get("topup:tx-001", &r), 200);
        assert_int_equal(api_json_int(r.json, "debit_account_id", 0), 4);
        assert_int_equal(api_json_int(r.json, "credit_account_id", 0), m.wallet);
        assert_int_equal(api_json_int(r.json, "amount", 0), 5000);
        assert_string_equal(api_json_str(r.json, "code"), "top_up");
        assert_string_equal(api_json_str(r.json, "state"), "posted");
        assert_non_null(strstr(api_json_str(r.json, "time"), "+09:00"));
        api_resp_free(&r);
        member_free(&m);
}

static void test_topup_signature_and_timestamp_checked(void **state)
{
        const char *body_fmt = "{\"transaction_id\":\"%s\",\"member_id\":%lld,\"amount\":700}";
        struct api_resp r = { 0 };
        long long now = (long long)time(NULL);
        struct member m;
        char *body;

        new_member("signed@wallet.test", &m);
        body = api_printf(body_fmt, "tx-sig", (long long)m.id);

        /* a signature made with another secret */
        webhook("/api/v1/wallet/topups", body, now,
                "sha256=0000000000000000000000000000000000000000000000000000000000000000", &r);
        assert_problem(&r, 401, "bad_signature");
        api_resp_free(&r);
        /* no signature at all */
        webhook("/api/v1/wallet/topups", body, now, "", &r);
        assert_problem(&r, 401, "bad_signature");
        api_resp_free(&r);
        /* correctly signed, but six minutes old (tolerance 5 minutes) */
        webhook("/api/v1/wallet/topups", body, now - 360, NULL, &r);
        assert_problem(&r, 401, "stale_timestamp");
        api_resp_free(&r);
        /* ... or six minutes in the future */
        webhook("/api/v1/wallet/topups", body, now + 360, NULL, &r);
        assert_problem(&r, 401, "stale_timestamp");
        api_resp_free(&r);
        /* signed for another body (the amount changed on the way) */
        {
                char hex[65], *sig, *msg = api_printf("%lld.%s", now, body);
                char *other = api_printf("{\"transaction_id\":\"tx-sig\",\"member_id\":%lld,"
                                         "\"amount\":70000}", (long long)m.id);

                hmac_sha256_hex(SECRET, msg, strlen(msg), "", 0, hex);
                sig = api_printf("sha256=%s", hex);
                webhook("/api/v1/wallet/topups", other, now, sig, &r);
                assert_problem(&r, 401, "bad_signature");
                api_resp_free(&r);
                free(sig);
                free(msg);
                free(other);
        }
        assert_wallet(&m, 0, 0, 0);
        assert_int_equal(transfer_get("topup:tx-sig", &r), 404);
        api_resp_free(&r);

        /* accepted once; the exact same request again is a replay */
        webhook("/api/v1/wallet/topups", body, now, NULL, &r);
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
        webhook("/api/v1/wallet/topups", body, now, NULL, &r);
        assert_problem(&r, 409, "replayed");
        api_resp_free(&r);
        assert_wallet(&m, 700, 700, 0);
        free(body);

        /* four minutes old is still within the tolerance */
        body = api_printf(body_fmt, "tx-late", (long long)m.id);
        webhook("/api/v1/wallet/topups", body, now - 240, NULL, &r);
        assert_int_equal(r.status, 201);
        api_resp_free(&r);
        assert_wallet(&m, 1400, 1400, 0);
        free(body);

        /* a member that does not exist */
        body = api_printf(body_fmt, "tx-nobody", 999999LL);
        webhook("/api/v1/wallet/topups", body, now, NULL, &r);
        assert_int_equal(r.status, 422);
        assert_true(has_field_error(&r, "member_id", NULL));
        api_resp_free(&r);
        assert_int_equal(transfer_get("topup:tx-nobody", &r), 404);
        api_resp_free(&r);
        free(body);
        member_free(&m);
}

/* ---- statement ---------------------------------------------------------- */

/* GET path with the member's token; returns the answer in *r (200 asserted). */
static void statement(const struct member *m, const char *query, struct api_resp *r)
{
        char *path = api_printf("/api/v1/me/wallet/statement%s", query);

        assert_int_equal(api_call(&srv, "GET", path, m->token, NULL, r), 0);
        if (r->status != 200)
                fprintf(stderr, "GET %s: %ld %s\n", path, r->status, r->body);
        assert_int_equal(r->status, 200);
        free(path);
}

static size_t statement_count(const struct member *m, const char *query)
{
        struct api_resp r = { 0 };
        size_t n;

        statement(m, query, &r);
        n = json_array_size(api_json_get(r.json, "items"));
        api_resp_free(&r);
        return n;
}

/* CSV lines may end in CRLF (RFC 4180) or LF: compare without the CRs. */
static void drop_cr(char *s)
{
        char *d = s;

        for (; *s; s++) {
                if (*s != '\r')
                        *d++ = *s;
        }
        *d = '\0';
}

static void test_statement_pages_filters_and_csv(void **state)
{
        struct api_resp r = { 0 };
        struct member m, host;
        char today[11], tomorrow[11], yesterday[11], *q, *line;
        json_int_t after, seen[8];
        size_t n = 0, lines = 0;
        json_t *items, *it;
        size_t i;

        new_member("statement@wallet.test", &m);
        new_member("statement-host@wallet.test", &host);
        topup_ok("st-1", m.id, 1000);
        topup_ok("st-2", m.id, 2000);
        topup_ok("st-3", m.id, 3000);
        topup_ok("st-host", host.id, 900);
        run(plain_json("st-refund", host.wallet, m.wallet, 400, "refund"), "ok");
        run(hold_json("st-hold", m.wallet, 500, 0), "ok");
        assert_wallet(&m, 6400, 5900, 500);

        /* pages of two, oldest first, every entry once */
        after = 0;
        for (int page = 0; page < 10; page++) {
                q = api_printf("?limit=2&after=%lld", (long long)after);
                statement(&m, page == 0 ? "?limit=2" : q, &r);
                free(q);
                items = api_json_get(r.json, "items");
                assert_true(json_array_size(items) <= 2);
                json_array_foreach(items, i, it) {
                        json_int_t seq = json_integer_value(json_object_get(it, "seq"));

                        assert_true(n < 8);
                        assert_true(n == 0 || seq > seen[n - 1]);
                        seen[n++] = seq;
                        assert_non_null(strstr(json_string_value(json_object_get(it, "time")),
                                               "+09:00"));
                }
                if (json_is_null(api_json_get(r.json, "next_after"))) {
                        api_resp_free(&r);
                        break;
                }
                after = api_json_int(r.json, "next_after", 0);
                assert_int_equal(after, seen[n - 1]);
                api_resp_free(&r);
        }
        assert_int_equal(n, 5);

        /* the entries: three top-ups, the refund, the hold */
        statement(&m, "?limit=200", &r);
        assert_string_equal(api_json_str(r.json, "items.0.code"), "top_up");
        assert_string_equal(api_json_str(r.json, "items.0.direction"), "credit");
        assert_int_equal(api_json_int(r.json, "items.0.amount", 0), 1000);
        assert_string_equal(api_json_str(r.json, "items.0.state"), "posted");
        assert_string_equal(api_json_str(r.json, "items.0.id"), "topup:st-1");
        assert_string_equal(api_json_str(r.json, "items.3.code"), "refund");
        assert_string_equal(api_json_str(r.json, "items.3.direction"), "credit");
        assert_int_equal(api_json_int(r.json, "items.3.amount", 0), 400);
        assert_string_equal(api_json_str(r.json, "items.4.code"), "hold");
        assert_string_equal(api_json_str(r.json, "items.4.direction"), "debit");
        assert_string_equal(api_json_str(r.json, "items.4.state"), "pending");
        assert_true(json_is_null(api_json_get(r.json, "next_after")));
        api_resp_free(&r);

        /* filter by code */
        statement(&m, "?code=refund", &r);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.id"), "st-refund");
        api_resp_free(&r);
        assert_int_equal(statement_count(&m, "?code=top_up"), 3);
        assert_int_equal(statement_count(&host, "?code=refund"), 1);   /* host's debit */

        /* filter by Tokyo calendar day, both ends inclusive */
        tokyo_day(0, today);
        tokyo_day(1, tomorrow);
        tokyo_day(-1, yesterday);
        q = api_printf("?from=%s&to=%s", today, today);
        assert_int_equal(statement_count(&m, q), 5);
        free(q);
        q = api_printf("?from=%s", tomorrow);
        assert_int_equal(statement_count(&m, q), 0);
        free(q);
        q = api_printf("?to=%s", yesterday);
        assert_int_equal(statement_count(&m, q), 0);
        free(q);
        q = api_printf("?from=%s&to=%s&code=top_up", yesterday, tomorrow);
        assert_int_equal(statement_count(&m, q), 3);
        free(q);

        /* CSV: the header, then one line per entry (RFC 4180: CRLF) */
        statement(&m, "?format=csv", &r);
        assert_int_equal(strncmp(r.content_type, "text/csv", 8), 0);
        assert_non_null(strstr(r.body, "\r\n"));
        drop_cr(r.body);
        assert_int_equal(strncmp(r.body, "seq,time,code,direction,amount,state,ref,transfer_id,"
                                 "balance_effect\n", 68), 0);
        for (line = strchr(r.body, '\n'); line && line[1]; line = strchr(line + 1, '\n'))
                lines++;
        assert_int_equal(lines, 5);
        assert_non_null(strstr(r.body, ",top_up,credit,2000,posted,"));
        assert_non_null(strstr(r.body, ",hold,debit,500,pending,"));
        assert_non_null(strstr(r.body, ",topup:st-3,3000\n"));
        assert_non_null(strstr(r.body, ",st-hold,0\n"));
        api_resp_free(&r);
        statement(&m, "?format=csv&code=refund", &r);
        drop_cr(r.body);
        assert_non_null(strstr(r.body, ",refund,credit,400,posted,"));
        assert_null(strstr(r.body, "top_up"));
        api_resp_free(&r);

        /* the balance effects add up to the balance, whatever happened to holds */
        run(resolve_json("st-void", "st-hold", 0, 0), "ok");
        run(hold_json("st-hold2", m.wallet, 700, 0), "ok");
        run(resolve_json("st-capture", "st-hold2", 1, 300), "ok");
        assert_wallet(&m, 6100, 6100, 0);
        statement(&m, "?limit=200", &r);
        {
                json_int_t sum = 0;

                json_array_foreach(api_json_get(r.json, "items"), i, it)
                        sum += json_integer_value(json_object_get(it, "balance_effect"));
                assert_int_equal(sum, 6100);
        }
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 8);
        assert_string_equal(api_json_str(r.json, "items.4.state"), "voided");
        assert_string_equal(api_json_str(r.json, "items.5.code"), "release");
        assert_string_equal(api_json_str(r.json, "items.7.code"), "capture");
        assert_int_equal(api_json_int(r.json, "items.7.amount", 0), 300);
        assert_int_equal(api_json_int(r.json, "items.7.balance_effect", 0), -300);
        api_resp_free(&r);

        /* bad parameters are refused, naming them */
        {
                struct api_resp b = { 0 };

                assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet/statement?limit=0",
                                          m.token, NULL, &b), 0);
                assert_int_equal(b.status, 422);
                assert_true(has_field_error(&b, "limit", NULL));
                api_resp_free(&b);
                assert_int_equal(api_call(&srv, "GET", "/api/v1/me/wallet/statement?code=nope",
                                          m.token, NULL, &b), 0);
                assert_int_equal(b.status, 422);
                assert_true(has_field_error(&b, "code", NULL));
                api_resp_free(&b);
        }
        member_free(&m);
        member_free(&host);
}

/* ---- payouts ------------------------------------------------------------- */

static long payout_request(const struct member *m, const char *id, long long amount,
                           struct api_resp *out)
{
        char *body = api_printf("{\"id\":\"%s\",\"amount\":%lld}", id, amount);

        assert_int_equal(api_call(&srv, "POST", "/api/v1/me/wallet/payouts", m->token, body, out),
                         0);
        free(body);
        return out->status;
}

static void payout_result(const char *transfer_id, const char *status, long long ts,
                          struct api_resp *out)
{
        char *path = api_printf("/api/v1/wallet/payouts/%s/result", transfer_id);
        char *body = api_printf("{\"transfer_id\":\"%s\",\"status\":\"%s\"}", transfer_id,
                                status);

        webhook(path, body, ts, NULL, out);
        free(path);
        free(body);
}

static void assert_payout_state(const struct member *m, const char *id, const char *state)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/me/wallet/payouts/%s", id);

        assert_int_equal(api_call(&srv, "GET", path, m->token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "id"), id);
        assert_string_equal(api_json_str(r.json, "state"), state);
        api_resp_free(&r);
        free(path);
}

static void test_payout_paid_or_failed_once(void **state)
{
        struct api_resp r = { 0 };
        long long now = (long long)time(NULL);
        struct acc f0, f1;
        struct member m;
        char *tid, *tid2;

        new_member("payout@wallet.test", &m);
        topup_ok("po-topup", m.id, 5000);
        acc_get(4, &f0);

        /* requested: held, pending until the provider answers */
        assert_int_equal(payout_request(&m, "p-1", 3000, &r), 202);
        tid = api_printf("payout:%lld:p-1", (long long)m.id);
        assert_string_equal(api_json_str(r.json, "id"), "p-1");
        assert_string_equal(api_json_str(r.json, "transfer_id"), tid);
        assert_int_equal(api_json_int(r.json, "amount", 0), 3000);
        assert_string_equal(api_json_str(r.json, "state"), "pending");
        assert_non_null(strstr(api_json_str(r.json, "requested_at"), "+09:00"));
        api_resp_free(&r);
        assert_wallet(&m, 5000, 2000, 3000);
        /* retry: same answer, no second hold; another amount: conflict */
        assert_int_equal(payout_request(&m, "p-1", 3000, &r), 200);
        assert_string_equal(api_json_str(r.json, "transfer_id"), tid);
        assert_string_equal(api_json_str(r.json, "state"), "pending");
        api_resp_free(&r);
        assert_int_equal(payout_request(&m, "p-1", 2500, &r), 409);
        assert_problem(&r, 409, "idempotency_conflict");
        assert_string_equal(api_json_str(r.json, "errors.0.field"), "amount");
        api_resp_free(&r);
        assert_wallet(&m, 5000, 2000, 3000);
        /* nothing or less than nothing */
        assert_int_equal(payout_request(&m, "p-0", 0, &r), 422);
        assert_true(has_field_error(&r, "amount", NULL));
        api_resp_free(&r);
        assert_int_equal(payout_request(&m, "p-0", -5, &r), 422);
        api_resp_free(&r);
        /* more than is available (the hold counts) */
        assert_int_equal(payout_request(&m, "p-2", 2001, &r), 409);
        assert_problem(&r, 409, "insufficient_funds");
        assert_int_equal(api_json_int(r.json, "available", -1), 2000);
        api_resp_free(&r);
        assert_payout_state(&m, "p-1", "pending");

        /* the provider confirms: the money leaves to the funding account */
        payout_result(tid, "succeeded", now, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "transfer_id"), tid);
        assert_string_equal(api_json_str(r.json, "state"), "paid");
        api_resp_free(&r);
        assert_wallet(&m, 2000, 2000, 0);
        assert_payout_state(&m, "p-1", "paid");
        acc_get(4, &f1);
        assert_int_equal(f1.cp - f0.cp, 3000);
        /* the same result again is fine, the other one is refused */
        payout_result(tid, "succeeded", now - 1, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "state"), "paid");
        api_resp_free(&r);
        payout_result(tid, "failed", now - 2, &r);
        assert_problem(&r, 409, "already_resolved");
        api_resp_free(&r);
        assert_wallet(&m, 2000, 2000, 0);

        /* a failed payout returns the money */
        assert_int_equal(payout_request(&m, "p-3", 1500, &r), 202);
        tid2 = api_printf("%s", api_json_str(r.json, "transfer_id"));
        api_resp_free(&r);
        assert_wallet(&m, 2000, 500, 1500);
        /* (the signature covers only timestamp and body, not the payout in
         * the path: a new timestamp keeps it apart from the results above) */
        payout_result(tid2, "failed", now - 3, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "state"), "failed");
        api_resp_free(&r);
        assert_wallet(&m, 2000, 2000, 0);
        assert_payout_state(&m, "p-3", "failed");
        payout_result(tid2, "succeeded", now - 4, &r);
        assert_problem(&r, 409, "already_resolved");
        api_resp_free(&r);
        assert_wallet(&m, 2000, 2000, 0);

        /* the signed body names the payout: a result signed for one payout
         * cannot be replayed against another */
        {
                char *path = api_printf("/api/v1/wallet/payouts/%s/result", tid);
                char *body = api_printf("{\"transfer_id\":\"%s\",\"status\":\"failed\"}", tid2);

                webhook(path, body, now - 17, NULL, &r);
                assert_problem(&r, 422, "validation_failed");
                api_resp_free(&r);
                free(path);
                free(body);
        }

        /* the result webhook is signed too */
        webhook("/api/v1/wallet/payouts/x/result", "{\"status\":\"failed\"}", now, "", &r);
        assert_problem(&r, 401, "bad_signature");
        api_resp_free(&r);
        free(tid);
        free(tid2);
        member_free(&m);
}

/* ---- operator transfers: two-phase ---------------------------------------- */

static void test_hold_then_partial_capture_returns_the_rest(void **state)
{
        struct api_resp r = { 0 };
        struct acc e0, e1;
        struct member m;

        new_member("capture@wallet.test", &m);
        topup_ok("cap-topup", m.id, 10000);
        acc_get(1, &e0);
        run_keep(hold_json("cap-hold", m.wallet, 4000, 0), "ok", &r);
        assert_string_equal(api_json_str(r.json, "results.0.id"), "cap-hold");
        assert_string_equal(api_json_str(r.json, "results.0.transfer.state"), "pending");
        assert_int_equal(api_json_int(r.json, "results.0.transfer.amount", 0), 4000);
        assert_true(json_is_true(api_json_get(r.json, "results.0.transfer.pending")));
        assert_true(json_is_null(api_json_get(r.json, "results.0.transfer.expires_at")));
        api_resp_free(&r);
        assert_wallet(&m, 10000, 6000, 4000);

        run(resolve_json("cap-post", "cap-hold", 1, 2500), "ok");
        assert_wallet(&m, 7500, 7500, 0);
        assert_transfer_state("cap-hold", "posted");
        acc_get(1, &e1);
        assert_int_equal(e1.cp - e0.cp, 2500);
        assert_int_equal(e1.cpend, e0.cpend);
        /* the capture is a transfer of its own with the accounts of the hold */
        assert_int_equal(transfer_get("cap-post", &r), 200);
        assert_int_equal(api_json_int(r.json, "debit_account_id", 0), m.wallet);
        assert_int_equal(api_json_int(r.json, "credit_account_id", 0), 1);
        assert_int_equal(api_json_int(r.json, "amount", 0), 2500);
        assert_string_equal(api_json_str(r.json, "pending_id"), "cap-hold");
        api_resp_free(&r);

        /* a full capture, and a capture larger than the hold */
        run(hold_json("cap-hold2", m.wallet, 1000, 0), "ok");
        run(resolve_json("cap-post2-big", "cap-hold2", 1, 1001), "amount_exceeds_pending");
        assert_wallet(&m, 7500, 6500, 1000);
        run(resolve_json("cap-post2", "cap-hold2", 1, 0), "ok");
        assert_wallet(&m, 6500, 6500, 0);
        /* a hold larger than what is available is refused */
        run(hold_json("cap-too-big", m.wallet, 6501, 0), "exceeds_credits");
        assert_wallet(&m, 6500, 6500, 0);
        member_free(&m);
}

static void test_hold_resolves_at_most_once(void **state)
{
        struct member m;

        new_member("once@wallet.test", &m);
        topup_ok("once-topup", m.id, 3000);
        /* voided: the money is back, a post afterwards is refused */
        run(hold_json("once-a", m.wallet, 1200, 0), "ok");
        assert_wallet(&m, 3000, 1800, 1200);
        run(resolve_json("once-a-void", "once-a", 0, 0), "ok");
        assert_wallet(&m, 3000, 3000, 0);
        assert_transfer_state("once-a", "voided");
        run(resolve_json("once-a-post", "once-a", 1, 0), "pending_already_voided");
        run(resolve_json("once-a-void2", "once-a", 0, 0), "pending_already_voided");
        assert_wallet(&m, 3000, 3000, 0);
        /* posted: a void afterwards is refused */
        run(hold_json("once-b", m.wallet, 800, 0), "ok");
        run(resolve_json("once-b-post", "once-b", 1, 0), "ok");
        assert_wallet(&m, 2200, 2200, 0);
        run(resolve_json("once-b-void", "once-b", 0, 0), "pending_already_posted");
        run(resolve_json("once-b-post2", "once-b", 1, 0), "pending_already_posted");
        assert_wallet(&m, 2200, 2200, 0);
        assert_transfer_state("once-b", "posted");
        /* a plain transfer cannot be resolved, an unknown id neither */
        run(plain_json("once-plain", m.wallet, 2, 100, "platform_fee"), "ok");
        run(resolve_json("once-c-post", "once-plain", 1, 0), "pending_not_pending");
        run(resolve_json("once-d-post", "no-such-hold", 1, 0), "pending_not_found");
        assert_wallet(&m, 2100, 2100, 0);
        member_free(&m);
}

static void test_hold_expires_by_itself(void **state)
{
        struct api_resp r = { 0 };
        struct member m;

        new_member("expiry@wallet.test", &m);
        topup_ok("exp-topup", m.id, 2000);
        run_keep(hold_json("exp-hold", m.wallet, 1500, 1), "ok", &r);
        assert_int_equal(api_json_int(r.json, "results.0.transfer.timeout", 0), 1);
        assert_non_null(strstr(api_json_str(r.json, "results.0.transfer.expires_at"), "+09:00"));
        api_resp_free(&r);
        assert_wallet(&m, 2000, 500, 1500);
        /* the sweeper runs every second: after 2.5 s the hold is gone */
        usleep(2500 * 1000);
        for (int i = 0; i < 20; i++) {
                assert_int_equal(transfer_get("exp-hold", &r), 200);
                if (strcmp(api_json_str(r.json, "state"), "expired") == 0) {
                        api_resp_free(&r);
                        break;
                }
                /* allow a slow (sanitizer) build another moment, but not forever */
                api_resp_free(&r);
                usleep(250 * 1000);
        }
        assert_transfer_state("exp-hold", "expired");
        assert_wallet(&m, 2000, 2000, 0);
        run(resolve_json("exp-post", "exp-hold", 1, 0), "pending_expired");
        run(resolve_json("exp-void", "exp-hold", 0, 0), "pending_expired");
        assert_wallet(&m, 2000, 2000, 0);
        /* the expiry is a transfer of its own in the history */
        assert_int_equal(transfer_get("expiry:exp-hold", &r), 200);
        assert_string_equal(api_json_str(r.json, "code"), "expiry");
        assert_string_equal(api_json_str(r.json, "pending_id"), "exp-hold");
        api_resp_free(&r);
        member_free(&m);
}

/* ---- idempotency and chains ------------------------------------------------ */

static void test_transfer_id_retry_has_no_second_effect(void **state)
{
        struct api_resp r = { 0 };
        struct member m;
        json_int_t seq;
        char *t;

        new_member("retry@wallet.test", &m);
        t = plain_json("retry-1", 4, m.wallet, 700, "top_up");
        transfer_expect(t, "ok", &r);
        seq = api_json_int(r.json, "results.0.transfer.seq", 0);
        assert_true(seq > 0);
        api_resp_free(&r);
        assert_wallet(&m, 700, 700, 0);
        /* the same request again: the original answer */
        transfer_expect(t, "exists", &r);
        assert_int_equal(api_json_int(r.json, "results.0.transfer.seq", 0), seq);
        assert_int_equal(api_json_int(r.json, "results.0.transfer.amount", 0), 700);
        api_resp_free(&r);
        free(t);
        assert_wallet(&m, 700, 700, 0);
        /* the same id with a field changed: refused, naming the field */
        run_keep(plain_json("retry-1", 4, m.wallet, 701, "top_up"), "exists_different", &r);
        assert_string_equal(api_json_str(r.json, "results.0.field"), "amount");
        api_resp_free(&r);
        run_keep(plain_json("retry-1", 4, m.wallet, 700, "refund"), "exists_different", &r);
        assert_string_equal(api_json_str(r.json, "results.0.field"), "code");
        api_resp_free(&r);
        run_keep(plain_json("retry-1", 2, m.wallet, 700, "top_up"), "exists_different", &r);
        assert_string_equal(api_json_str(r.json, "results.0.field"), "debit_account_id");
        api_resp_free(&r);
        assert_wallet(&m, 700, 700, 0);

        /* a retried capture and a retried void do nothing more either */
        run(hold_json("retry-h", m.wallet, 300, 0), "ok");
        t = resolve_json("retry-h-post", "retry-h", 1, 200);
        run(api_printf("%s", t), "ok");
        assert_wallet(&m, 500, 500, 0);
        run(t, "exists");
        run(hold_json("retry-h", m.wallet, 300, 0), "exists");
        assert_wallet(&m, 500, 500, 0);
        run(hold_json("retry-v", m.wallet, 100, 0), "ok");
        t = resolve_json("retry-v-void", "retry-v", 0, 0);
        run(api_printf("%s", t), "ok");
        run(t, "exists");
        assert_wallet(&m, 500, 500, 0);
        member_free(&m);
}

static void test_linked_chain_all_or_nothing(void **state)
{
        struct api_resp r = { 0 };
        struct member user, host;
        struct acc fee0, fee1;
        char *chain;

        new_member("chain-user@wallet.test", &user);
        new_member("chain-host@wallet.test", &host);
        topup_ok("chain-topup", user.id, 5000);
        run(hold_json("chain-hold", user.wallet, 3000, 0), "ok");
        acc_get(2, &fee0);

        /* capture the hold, pay the host, take a platform fee from the host:
         * the fee is more than the host will have, so nothing happens */
        chain = api_printf(
                "{\"id\":\"chain-cap\",\"pending_id\":\"chain-hold\",\"post_pending\":true,"
                "\"amount\":3000,\"code\":\"capture\",\"linked\":true},"
                "{\"id\":\"chain-pay\",\"debit_account_id\":1,\"credit_account_id\":%lld,"
                "\"amount\":3000,\"code\":\"fee\",\"linked\":true},"
                "{\"id\":\"chain-fee\",\"debit_account_id\":%lld,\"credit_account_id\":2,"
                "\"amount\":3001,\"code\":\"platform_fee\"}",
                (long long)host.wallet, (long long)host.wallet);
        assert_int_equal(transfers(chain, &r), 409);
        assert_string_equal(api_json_str(r.json, "code"), "transfer_failed");
        assert_string_equal(api_json_str(r.json, "results.0.result"), "linked_event_failed");
        assert_string_equal(api_json_str(r.json, "results.1.result"), "linked_event_failed");
        assert_string_equal(api_json_str(r.json, "results.2.result"), "exceeds_credits");
        api_resp_free(&r);
        free(chain);
        assert_wallet(&user, 5000, 2000, 3000);
        assert_wallet(&host, 0, 0, 0);
        acc_get(2, &fee1);
        assert_int_equal(fee1.cp, fee0.cp);
        assert_transfer_state("chain-hold", "pending");
        assert_int_equal(transfer_get("chain-cap", &r), 404);
        api_resp_free(&r);
        assert_int_equal(transfer_get("chain-pay", &r), 404);
        api_resp_free(&r);
        assert_int_equal(transfer_get("chain-fee", &r), 404);
        api_resp_free(&r);

        /* the right fee: all three at once */
        chain = api_printf(
                "{\"id\":\"chain-cap\",\"pending_id\":\"chain-hold\",\"post_pending\":true,"
                "\"amount\":3000,\"code\":\"capture\",\"linked\":true},"
                "{\"id\":\"chain-pay\",\"debit_account_id\":1,\"credit_account_id\":%lld,"
                "\"amount\":3000,\"code\":\"fee\",\"linked\":true},"
                "{\"id\":\"chain-fee\",\"debit_account_id\":%lld,\"credit_account_id\":2,"
                "\"amount\":300,\"code\":\"platform_fee\"}",
                (long long)host.wallet, (long long)host.wallet);
        assert_int_equal(transfers(chain, &r), 200);
        for (int i = 0; i < 3; i++) {
                char *p = api_printf("results.%d.result", i);

                assert_string_equal(api_json_str(r.json, p), "ok");
                free(p);
        }
        api_resp_free(&r);
        free(chain);
        assert_wallet(&user, 2000, 2000, 0);
        assert_wallet(&host, 2700, 2700, 0);
        acc_get(2, &fee1);
        assert_int_equal(fee1.cp - fee0.cp, 300);
        assert_transfer_state("chain-hold", "posted");

        /* a chain whose last transfer still says linked is refused whole */
        chain = api_printf("{\"id\":\"open-1\",\"debit_account_id\":4,\"credit_account_id\":%lld,"
                           "\"amount\":10,\"code\":\"top_up\",\"linked\":true}",
                           (long long)host.wallet);
        assert_int_equal(transfers(chain, &r), 409);
        assert_string_equal(api_json_str(r.json, "results.0.result"), "linked_chain_open");
        api_resp_free(&r);
        free(chain);
        assert_wallet(&host, 2700, 2700, 0);
        member_free(&user);
        member_free(&host);
}

/* ---- operator views ----------------------------------------------------------- */

static void test_operator_reads_any_account_history(void **state)
{
        struct api_resp r = { 0 };
        struct member m;
        char *path;
        json_int_t after;

        new_member("history@wallet.test", &m);
        topup_ok("hist-1", m.id, 100);
        topup_ok("hist-2", m.id, 200);
        run(hold_json("hist-hold", m.wallet, 50, 0), "ok");
        run(resolve_json("hist-post", "hist-hold", 1, 0), "ok");

        /* oldest first, in pages */
        path = api_printf("/api/v1/ledger/accounts/%lld/transfers?limit=3", (long long)m.wallet);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 3);
        assert_string_equal(api_json_str(r.json, "items.0.id"), "topup:hist-1");
        assert_string_equal(api_json_str(r.json, "items.1.id"), "topup:hist-2");
        assert_string_equal(api_json_str(r.json, "items.2.id"), "hist-hold");
        assert_string_equal(api_json_str(r.json, "items.2.state"), "posted");
        after = api_json_int(r.json, "next_after", 0);
        assert_int_equal(after, api_json_int(r.json, "items.2.seq", -1));
        api_resp_free(&r);
        free(path);
        path = api_printf("/api/v1/ledger/accounts/%lld/transfers?limit=3&after=%lld",
                          (long long)m.wallet, (long long)after);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.id"), "hist-post");
        assert_true(json_is_null(api_json_get(r.json, "next_after")));
        api_resp_free(&r);
        free(path);
        /* filtered by code */
        path = api_printf("/api/v1/ledger/accounts/%lld/transfers?code=capture",
                          (long long)m.wallet);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(json_array_size(api_json_get(r.json, "items")), 1);
        assert_string_equal(api_json_str(r.json, "items.0.pending_id"), "hist-hold");
        api_resp_free(&r);
        free(path);
        /* the account itself, and one that does not exist */
        path = api_printf("/api/v1/ledger/accounts/%lld", (long long)m.wallet);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(api_json_str(r.json, "code"), "wallet");
        assert_int_equal(api_json_int(r.json, "member_id", 0), m.id);
        assert_int_equal(api_json_int(r.json, "credits_posted", -1), 300);
        assert_int_equal(api_json_int(r.json, "debits_posted", -1), 50);
        assert_int_equal(api_json_int(r.json, "balance", -1), 250);
        assert_int_equal(api_json_int(r.json, "available", -1), 250);
        api_resp_free(&r);
        free(path);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/ledger/accounts/999999", op, NULL, &r), 0);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/ledger/accounts/1", op, NULL, &r), 0);
        assert_string_equal(api_json_str(r.json, "code"), "escrow");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "GET", "/api/v1/ledger/accounts/4", op, NULL, &r), 0);
        assert_string_equal(api_json_str(r.json, "code"), "funding");
        api_resp_free(&r);
        member_free(&m);
}

/* ---- corrections, totals, access ------------------------------------------- */

static void test_correction_needs_a_reason_and_is_audited(void **state)
{
        struct api_resp r = { 0 };
        struct member m;
        char *path, *t;
        json_t *items, *it;
        size_t i, before;
        int found = 0;

        new_member("correction@wallet.test", &m);
        path = api_printf("/api/v1/audit?subject_id=%lld&limit=100", (long long)m.id);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        before = json_array_size(api_json_get(r.json, "items"));
        api_resp_free(&r);

        run(plain_json("corr-1", 4, m.wallet, 123, "correction"), "reason_required");
        t = api_printf("{\"id\":\"corr-1\",\"debit_account_id\":4,\"credit_account_id\":%lld,"
                       "\"amount\":123,\"code\":\"correction\",\"reason\":\"\"}",
                       (long long)m.wallet);
        run(t, "reason_required");
        assert_wallet(&m, 0, 0, 0);
        t = api_printf("{\"id\":\"corr-1\",\"debit_account_id\":4,\"credit_account_id\":%lld,"
                       "\"amount\":123,\"code\":\"correction\",\"reason\":\"top-up lost by the "
                       "provider, ticket 42\"}", (long long)m.wallet);
        transfer_expect(t, "ok", &r);
        assert_string_equal(api_json_str(r.json, "results.0.transfer.reason"),
                            "top-up lost by the provider, ticket 42");
        api_resp_free(&r);
        free(t);
        assert_wallet(&m, 123, 123, 0);

        /* the operator's correction is in the member's audit trail */
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        items = api_json_get(r.json, "items");
        assert_true(json_array_size(items) > before);
        json_array_foreach(items, i, it) {
                const char *role = json_string_value(json_object_get(it, "actor_role"));
                const char *action = json_string_value(json_object_get(it, "action"));
                const char *what = json_string_value(json_object_get(it, "items"));

                if (role && strcmp(role, "operator") == 0 && action &&
                    strstr(action, "correction") && what && strstr(what, "corr-1"))
                        found = 1;
        }
        if (!found)
                fprintf(stderr, "no correction in the audit trail: %s\n", r.body);
        assert_true(found);
        api_resp_free(&r);
        free(path);
        member_free(&m);
}

static void test_totals_are_balanced(void **state)
{
        struct api_resp r = { 0 };
        char today[11], *path;
        json_t *days, *d;
        size_t i;
        int topups = 0;

        tokyo_day(0, today);
        path = api_printf("/api/v1/ledger/totals?from=%s&to=%s", today, today);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_true(json_is_true(api_json_get(r.json, "sums.balanced")));
        assert_int_equal(api_json_int(r.json, "sums.debits_posted", -1),
                         api_json_int(r.json, "sums.credits_posted", -2));
        assert_int_equal(api_json_int(r.json, "sums.debits_pending", -1),
                         api_json_int(r.json, "sums.credits_pending", -2));
        assert_true(api_json_int(r.json, "sums.debits_posted", 0) > 0);
        assert_true(api_json_int(r.json, "sums.accounts", 0) >= 4);
        assert_true(api_json_int(r.json, "sums.transfers", 0) > 0);
        days = api_json_get(r.json, "days");
        json_array_foreach(days, i, d) {
                assert_string_equal(json_string_value(json_object_get(d, "day")), today);
                if (strcmp(json_string_value(json_object_get(d, "code")), "top_up") == 0)
                        topups = (int)json_integer_value(json_object_get(d, "count"));
        }
        /* the tests before this one topped up (order of main()) */
        assert_true(topups > 0);
        api_resp_free(&r);
        free(path);
}

static void test_ledger_is_for_operators_only(void **state)
{
        static const char *const paths[] = { "/api/v1/ledger/accounts/1",
                                             "/api/v1/ledger/accounts/1/transfers",
                                             "/api/v1/ledger/transfers/x",
                                             "/api/v1/ledger/totals", NULL };
        const char *body = "{\"transfers\":[{\"id\":\"sneaky\",\"debit_account_id\":4,"
                           "\"credit_account_id\":5,\"amount\":1000,\"code\":\"top_up\"}]}";
        struct api_resp r = { 0 };
        struct member m;

        new_member("nosy@wallet.test", &m);
        for (int i = 0; paths[i]; i++) {
                assert_int_equal(api_call(&srv, "GET", paths[i], m.token, NULL, &r), 0);
                assert_problem(&r, 403, "forbidden");
                api_resp_free(&r);
                assert_int_equal(api_call(&srv, "GET", paths[i], NULL, NULL, &r), 0);
                assert_problem(&r, 401, "unauthorized");
                api_resp_free(&r);
        }
        assert_int_equal(api_call(&srv, "POST", "/api/v1/ledger/transfers", m.token, body, &r), 0);
        assert_problem(&r, 403, "forbidden");
        api_resp_free(&r);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/ledger/transfers", NULL, body, &r), 0);
        assert_problem(&r, 401, "unauthorized");
        api_resp_free(&r);
        assert_int_equal(transfer_get("sneaky", &r), 404);
        assert_problem(&r, 404, "not_found");
        api_resp_free(&r);
        member_free(&m);
}

/* ---- CS-4 ------------------------------------------------------------------ */

static void test_CS_4_wallet_hold_blocks_withdrawal(void **state)
{
        struct api_resp r = { 0 };
        json_t *blockers, *b;
        struct member m;
        int found = 0;
        size_t i;

        new_member("held-leaver@wallet.test", &m);
        topup_ok("leaver-topup", m.id, 1000);
        run(hold_json("leaver-hold", m.wallet, 400, 0), "ok");
        assert_int_equal(api_call(&srv, "DELETE", "/api/v1/me", m.token, NULL, &r), 0);
        assert_problem(&r, 409, "withdrawal_blocked");
        blockers = api_json_get(r.json, "blockers");
        json_array_foreach(blockers, i, b) {
                if (strcmp(json_string_value(json_object_get(b, "code")), "wallet_hold") == 0)
                        found = 1;
        }
        assert_true(found);
        api_resp_free(&r);
        /* still a member */
        assert_int_equal(api_call(&srv, "GET", "/api/v1/me", m.token, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);

        run(resolve_json("leaver-void", "leaver-hold", 0, 0), "ok");
        assert_int_equal(api_call(&srv, "DELETE", "/api/v1/me", m.token, NULL, &r), 0);
        assert_int_equal(r.status, 204);
        api_resp_free(&r);
        member_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_wallet_view_starts_empty),
                cmocka_unit_test(test_topup_signed_webhook_credits_once),
                cmocka_unit_test(test_topup_signature_and_timestamp_checked),
                cmocka_unit_test(test_statement_pages_filters_and_csv),
                cmocka_unit_test(test_payout_paid_or_failed_once),
                cmocka_unit_test(test_hold_then_partial_capture_returns_the_rest),
                cmocka_unit_test(test_hold_resolves_at_most_once),
                cmocka_unit_test(test_hold_expires_by_itself),
                cmocka_unit_test(test_transfer_id_retry_has_no_second_effect),
                cmocka_unit_test(test_linked_chain_all_or_nothing),
                cmocka_unit_test(test_operator_reads_any_account_history),
                cmocka_unit_test(test_correction_needs_a_reason_and_is_audited),
                cmocka_unit_test(test_totals_are_balanced),
                cmocka_unit_test(test_ledger_is_for_operators_only),
                cmocka_unit_test(test_CS_4_wallet_hold_blocks_withdrawal),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
