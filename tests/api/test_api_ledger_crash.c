/*
 * test_api_ledger_crash.c - the ledger survives kill -9 (issue 3,
 * guarantee 12).
 *
 * CRASH_THREADS callers put load on the server through
 * POST /api/v1/ledger/transfers: top-ups, holds (some too large: refused),
 * captures, voids and linked chains, every id unique. Each caller records
 * what the server answered for every transfer: ok, a definite refusal
 * (exceeds_credits, linked_event_failed) or nothing at all (the connection
 * died under it; the caller then stops until the next round). At a random
 * moment the server gets SIGKILL, at least CRASH_ROUNDS times, and is
 * started again on the same database. After each restart:
 *
 *  - the ledger's sums are balanced (debits == credits, posted and pending);
 *  - every transfer answered ok is there (GET /api/v1/ledger/transfers/{id}
 *    200 with the same amount), none that was refused is (404);
 *  - a transfer whose answer never came may or may not be there, but a
 *    linked chain is all there or not at all, and it never counts twice:
 *    every wallet and system account equals, to the yen, the sum of the
 *    transfers that are there; a retry of an acknowledged id is "exists"
 *    and changes nothing.
 *
 * The server's log is scanned for sanitizer reports before each restart.
 * CRASH_SEED=<n> replays the callers' choices (not the kill moments).
 */
#include "client.h"
#include "common.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define CRASH_ROUNDS    24
#define CRASH_THREADS   4
#define CRASH_WALLETS   4               /* per caller */
#define KILL_MIN_MS     150
#define KILL_MAX_MS     700
#define SAMPLE_OLD      40              /* older transfers re-checked per caller and round */
#define ESCROW          (-1)
#define FEE_REVENUE     (-2)
#define FUNDING         (-4)

static struct api_server srv;
static char *op;
static uint64_t seed;
static const char *const serve_args[] = { "--no-log-requests", NULL };


static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- what each caller knows ------------------------------------------------ */

struct macc {
        int64_t dp, cp, dpend, cpend;
};

enum { K_PLAIN, K_HOLD, K_POST, K_VOID };
enum { O_OK, O_REFUSED, O_UNKNOWN, O_ABSENT };  /* ABSENT: unknown, found not there */
enum { S_NONE, S_PENDING, S_POSTED, S_VOIDED };

struct ct {
        char id[32];
        int kind;
        int debit, credit;              /* refs: >= 0 wallet index, < 0 system account */
        int64_t amount;                 /* always sent explicitly */
        int pending;                    /* post/void: index of the hold */
        bool linked;
        int chain;                      /* > 0: member of chain number `chain` */
        int outcome;
        int round;
        int state;                      /* holds */
        bool busy;                      /* hold: a post/void of it is in flight */
};

struct caller {
        int index;
        uint64_t rng;
        struct client cl;
        int64_t wallet_id[CRASH_WALLETS];
        struct macc w[CRASH_WALLETS];
        struct macc sys[5];
        struct ct *t;
        size_t nt, capt;
        size_t unknown_from, unknown_to;        /* entries of the unanswered request */
        long counter, chains, requests, acked, refused, unknown, odd;
        int round;
        bool failed;
        char err[4096];
};

static struct caller callers[CRASH_THREADS];
static struct macc sys_base[5];
static atomic_bool stop_round;

static struct macc *acc(struct caller *c, int ref)
{
        return ref >= 0 ? &c->w[ref] : &c->sys[-ref];
}

static int64_t acc_id(struct caller *c, int ref)
{
        return ref >= 0 ? c->wallet_id[ref] : -ref;
}

static int64_t avail(struct caller *c, int ref)
{
        return c->w[ref].cp - c->w[ref].dp - c->w[ref].dpend;
}

/* What transfer i did to the accounts (it is there). */
static void apply(struct caller *c, struct ct *t)
{
        struct ct *p;

        switch (t->kind) {
        case K_PLAIN:
                acc(c, t->debit)->dp += t->amount;
                acc(c, t->credit)->cp += t->amount;
                break;
        case K_HOLD:
                acc(c, t->debit)->dpend += t->amount;
                acc(c, t->credit)->cpend += t->amount;
                t->state = S_PENDING;
                break;
        default:
                p = &c->t[t->pending];
                acc(c, p->debit)->dpend -= p->amount;
                acc(c, p->credit)->cpend -= p->amount;
                if (t->kind == K_POST) {
                        acc(c, p->debit)->dp += t->amount;
                        acc(c, p->credit)->cp += t->amount;
                        p->state = S_POSTED;
                } else {
                        p->state = S_VOIDED;
                }
                break;
        }
}

static void caller_fail(struct caller *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void caller_fail(struct caller *c, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (c->failed)
                return;
        c->failed = true;
        n = snprintf(c->err, sizeof(c->err), "crash test: seed %" PRIu64 ", caller %d, round %d: ",
                     seed, c->index, c->round);
        va_start(ap, fmt);
        vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
        va_end(ap);
}

static int add(struct caller *c, int kind, int debit, int credit, int64_t amount, int pending)
{
        struct ct *t;

        if (c->nt == c->capt) {
                c->capt = c->capt ? c->capt * 2 : 4096;
                c->t = realloc(c->t, c->capt * sizeof(*c->t));
                if (!c->t)
                        abort();
        }
        t = &c->t[c->nt];
        memset(t, 0, sizeof(*t));
        snprintf(t->id, sizeof(t->id), "c%d-%ld", c->index, ++c->counter);
        t->kind = kind;
        t->debit = debit;
        t->credit = credit;
        t->amount = amount;
        t->pending = pending;
        t->round = c->round;
        t->outcome = O_UNKNOWN;
        return (int)c->nt++;
}

/* A pending hold nobody is resolving (index), or -1. */
static int pick_hold(struct caller *c)
{
        for (int tries = 0; tries < 16 && c->nt > 0; tries++) {
                size_t lo = c->nt > 400 ? c->nt - 400 : 0;
                size_t i = (size_t)rnd_range(&c->rng, (int64_t)lo, (int64_t)c->nt - 1);

                if (c->t[i].kind == K_HOLD && c->t[i].state == S_PENDING && !c->t[i].busy)
                        return (int)i;
        }
        return -1;
}

/* Appends 1..4 operations to c->t (from index `first`). */
static void generate(struct caller *c)
{
        int n = (int)rnd_range(&c->rng, 1, 4), h, i, u;
        int64_t roll, av, a;

        for (int k = 0; k < n; k++) {
                roll = rnd_range(&c->rng, 0, 99);
                u = (int)rnd_range(&c->rng, 0, CRASH_WALLETS - 1);
                av = avail(c, u);
                if (roll < 25) {
                        add(c, K_PLAIN, FUNDING, u, rnd_range(&c->rng, 100, 5000), -1);
                } else if (roll < 55) {
                        if (av > 0 && rnd_range(&c->rng, 0, 99) < 85)
                                a = rnd_range(&c->rng, 1, av < 5000 ? av : 5000);
                        else
                                a = av + rnd_range(&c->rng, 1, 1000);   /* refused */
                        add(c, K_HOLD, u, ESCROW, a, -1);
                } else if (roll < 85) {
                        h = pick_hold(c);
                        if (h < 0)
                                continue;
                        c->t[h].busy = true;
                        a = rnd_range(&c->rng, 1, c->t[h].amount);
                        if (roll < 75) {
                                add(c, K_POST, c->t[h].debit, ESCROW, a, h);
                        } else {
                                add(c, K_VOID, c->t[h].debit, ESCROW, c->t[h].amount, h);
                        }
                } else {
                        /* capture + platform fee, linked; sometimes a third member
                         * overdraws a wallet and the whole chain is refused */
                        h = pick_hold(c);
                        if (h < 0)
                                continue;
                        c->t[h].busy = true;
                        c->chains++;
                        a = rnd_range(&c->rng, 1, c->t[h].amount);
                        i = add(c, K_POST, c->t[h].debit, ESCROW, a, h);
                        c->t[i].linked = true;
                        c->t[i].chain = (int)c->chains;
                        i = add(c, K_PLAIN, ESCROW, FEE_REVENUE, rnd_range(&c->rng, 1, a), -1);
                        c->t[i].chain = (int)c->chains;
                        if (rnd_range(&c->rng, 0, 3) == 0) {
                                c->t[i].linked = true;
                                i = add(c, K_PLAIN, u, FEE_REVENUE,
                                        av + rnd_range(&c->rng, 1, 1000), -1);
                                c->t[i].chain = (int)c->chains;
                        }
                }
        }
}

static json_t *ct_json(struct caller *c, const struct ct *t)
{
        static const char *const codes[] = { "refund", "hold", "capture", "release" };
        const char *code = codes[t->kind];
        json_t *o;

        if (t->kind == K_PLAIN)
                code = t->debit == FUNDING ? "top_up" : "platform_fee";
        o = json_pack("{s:s, s:s}", "id", t->id, "code", code);
        if (t->kind != K_VOID)          /* a void takes the hold's amount */
                json_object_set_new(o, "amount", json_integer(t->amount));
        if (t->kind == K_PLAIN || t->kind == K_HOLD) {
                json_object_set_new(o, "debit_account_id", json_integer(acc_id(c, t->debit)));
                json_object_set_new(o, "credit_account_id", json_integer(acc_id(c, t->credit)));
        }
        if (t->kind == K_HOLD)
                json_object_set_new(o, "pending", json_true());
        if (t->kind == K_POST)
                json_object_set_new(o, "post_pending", json_true());
        if (t->kind == K_VOID)
                json_object_set_new(o, "void_pending", json_true());
        if (t->kind == K_POST || t->kind == K_VOID)
                json_object_set_new(o, "pending_id", json_string(c->t[t->pending].id));
        if (t->linked)
                json_object_set_new(o, "linked", json_true());
        return o;
}

static bool definite_refusal(const char *res)
{
        return strcmp(res, "exceeds_credits") == 0 || strcmp(res, "linked_event_failed") == 0;
}

/* One request. Returns false when the caller must stop for this round. */
static bool caller_step(struct caller *c)
{
        size_t first = c->nt;
        json_t *arr = json_array(), *req, *j = NULL, *results;
        char *body;
        long st;

        generate(c);
        if (c->nt == first) {
                json_decref(arr);
                return true;
        }
        for (size_t i = first; i < c->nt; i++)
                json_array_append_new(arr, ct_json(c, &c->t[i]));
        req = json_pack("{s:o}", "transfers", arr);
        body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        st = client_call(&c->cl, "POST", "/api/v1/ledger/transfers", body, &j);
        c->requests++;
        results = api_json_get(j, "results");
        if ((st != 200 && st != 409) || json_array_size(results) != c->nt - first) {
                /* no answer (or no usable one): outcome unknown, stop here */
                if (st > 0)
                        c->odd++;
                c->unknown_from = first;
                c->unknown_to = c->nt;
                c->unknown += (long)(c->nt - first);
                json_decref(j);
                free(body);
                return false;
        }
        for (size_t i = first; i < c->nt; i++) {
                struct ct *t = &c->t[i];
                json_t *r = json_array_get(results, i - first);
                const char *res = json_string_value(json_object_get(r, "result"));
                const char *id = json_string_value(json_object_get(r, "id"));

                if (!res || !id || strcmp(id, t->id) != 0) {
                        caller_fail(c, "bad results for %s: %s", body, c->cl.buf);
                        break;
                }
                if (strcmp(res, "ok") == 0) {
                        t->outcome = O_OK;
                        c->acked++;
                        apply(c, t);
                } else if (definite_refusal(res)) {
                        t->outcome = O_REFUSED;
                        c->refused++;
                } else {
                        caller_fail(c, "unexpected result %s for %s\nrequest: %s\nanswer: %s",
                                    res, t->id, body, c->cl.buf);
                        break;
                }
                if (t->pending >= 0)
                        c->t[t->pending].busy = false;
        }
        json_decref(j);
        free(body);
        return !c->failed;
}

static void *caller_main(void *arg)
{
        struct caller *c = arg;

        c->unknown_from = c->unknown_to = 0;
        while (!atomic_load(&stop_round) && !c->failed) {
                if (!caller_step(c))
                        break;
        }
        return NULL;
}

/* ---- checks between rounds (callers stopped; main thread only) ---------------- */

static long get_transfer(const char *id, json_int_t *amount)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/ledger/transfers/%s", id);
        long st;

        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        st = r.status;
        if (amount)
                *amount = api_json_int(r.json, "amount", -1);
        if (st != 200 && st != 404)
                fprintf(stderr, "GET %s: %ld %s\n", path, st, r.body);
        api_resp_free(&r);
        free(path);
        return st;
}

/* The unanswered request: find out what is there. A chain is all or
 * nothing; what is there counts once in the model. */
static void resolve_unknown(struct caller *c)
{
        for (size_t i = c->unknown_from; i < c->unknown_to; i++) {
                struct ct *t = &c->t[i];
                long st = get_transfer(t->id, NULL);

                assert_true(st == 200 || st == 404);
                t->outcome = st == 200 ? O_OK : O_ABSENT;
                if (t->pending >= 0)
                        c->t[t->pending].busy = false;
        }
        for (size_t i = c->unknown_from; i < c->unknown_to; i++) {
                struct ct *t = &c->t[i];

                for (size_t k = c->unknown_from; t->chain > 0 && k < c->unknown_to; k++) {
                        if (c->t[k].chain == t->chain && c->t[k].outcome != t->outcome) {
                                fprintf(stderr, "crash test: seed %" PRIu64 ": chain %d half "
                                        "there: %s %s, %s %s\n", seed, t->chain, t->id,
                                        t->outcome == O_OK ? "present" : "absent", c->t[k].id,
                                        c->t[k].outcome == O_OK ? "present" : "absent");
                                fail();
                        }
                }
                if (t->outcome == O_OK)
                        apply(c, t);
        }
        c->unknown_from = c->unknown_to = 0;
}

static void check_transfer(struct caller *c, const struct ct *t)
{
        json_int_t amount = -1;
        long st;

        if (t->outcome != O_OK && t->outcome != O_REFUSED)
                return;
        st = get_transfer(t->id, &amount);
        if (t->outcome == O_OK && (st != 200 || (t->kind != K_VOID && amount != t->amount))) {
                fprintf(stderr, "crash test: seed %" PRIu64 ": %s was answered ok (amount %"
                        PRId64 ") in round %d but after round %d it is %ld (amount %lld)\n",
                        seed, t->id, t->amount, t->round, c->round, st, (long long)amount);
                fail();
        }
        if (t->outcome == O_REFUSED && st != 404) {
                fprintf(stderr, "crash test: seed %" PRIu64 ": %s was refused in round %d but "
                        "is there after round %d\n", seed, t->id, t->round, c->round);
                fail();
        }
}

static void check_account(int64_t id, const struct macc *m)
{
        struct api_resp r = { 0 };
        char *path = api_printf("/api/v1/ledger/accounts/%" PRId64, id);

        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        if (api_json_int(r.json, "debits_posted", -1) != m->dp ||
            api_json_int(r.json, "credits_posted", -1) != m->cp ||
            api_json_int(r.json, "debits_pending", -1) != m->dpend ||
            api_json_int(r.json, "credits_pending", -1) != m->cpend) {
                fprintf(stderr, "crash test: seed %" PRIu64 ": account %" PRId64 " is %s, the "
                        "transfers that are there say debits_posted %" PRId64 " credits_posted %"
                        PRId64 " debits_pending %" PRId64 " credits_pending %" PRId64 "\n",
                        seed, id, r.body, m->dp, m->cp, m->dpend, m->cpend);
                fail();
        }
        api_resp_free(&r);
        free(path);
}

static void check_sums(void)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/ledger/totals", op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        if (!json_is_true(api_json_get(r.json, "sums.balanced")) ||
            api_json_int(r.json, "sums.debits_posted", -1) !=
            api_json_int(r.json, "sums.credits_posted", -2) ||
            api_json_int(r.json, "sums.debits_pending", -1) !=
            api_json_int(r.json, "sums.credits_pending", -2)) {
                fprintf(stderr, "crash test: seed %" PRIu64 ": sums not balanced: %s\n", seed,
                        r.body);
                fail();
        }
        api_resp_free(&r);
}

/* Sends an acknowledged, unlinked transfer again: "exists", no effect
 * (the account check that follows proves the latter). */
static void retry_one(struct caller *c)
{
        struct api_resp r = { 0 };
        json_t *req;
        char *body;

        for (int tries = 0; tries < 32 && c->nt > 0; tries++) {
                struct ct *t = &c->t[rnd_range(&c->rng, 0, (int64_t)c->nt - 1)];

                if (t->outcome != O_OK || t->chain > 0)
                        continue;
                req = json_pack("{s:[o]}", "transfers", ct_json(c, t));
                body = json_dumps(req, JSON_COMPACT);
                json_decref(req);
                assert_int_equal(api_call(&srv, "POST", "/api/v1/ledger/transfers", op, body, &r),
                                 0);
                if (r.status != 200 || !api_json_str(r.json, "results.0.result") ||
                    strcmp(api_json_str(r.json, "results.0.result"), "exists") != 0) {
                        fprintf(stderr, "crash test: retry of %s: %ld %s\n", t->id, r.status,
                                r.body);
                        fail();
                }
                api_resp_free(&r);
                free(body);
                return;
        }
}

static void check_all(bool everything)
{
        struct macc sys[5];

        check_sums();
        memcpy(sys, sys_base, sizeof(sys));
        for (int k = 0; k < CRASH_THREADS; k++) {
                struct caller *c = &callers[k];

                resolve_unknown(c);
                for (size_t i = 0; i < c->nt; i++) {
                        if (everything || c->t[i].round == c->round)
                                check_transfer(c, &c->t[i]);
                }
                for (int s = 0; !everything && s < SAMPLE_OLD && c->nt > 0; s++)
                        check_transfer(c, &c->t[rnd_range(&c->rng, 0, (int64_t)c->nt - 1)]);
                retry_one(c);
                for (int i = 0; i < CRASH_WALLETS; i++)
                        check_account(c->wallet_id[i], &c->w[i]);
                for (int id = 1; id <= 4; id++) {
                        sys[id].dp += c->sys[id].dp;
                        sys[id].cp += c->sys[id].cp;
                        sys[id].dpend += c->sys[id].dpend;
                        sys[id].cpend += c->sys[id].cpend;
                }
        }
        for (int id = 1; id <= 4; id++)
                check_account(id, &sys[id]);
}

/* ---- the server: kill -9 and start again ---------------------------------------- */

/* Fails on a sanitizer report in the server log, then empties the log so
 * that the harness' restart does not print pages of it. */
static void scan_and_truncate_log(void)
{
        char *all = NULL;
        size_t n = 0;
        FILE *f = fopen(srv.log_path, "r");

        if (f) {
                char chunk[65536];

                for (;;) {
                        size_t got = fread(chunk, 1, sizeof(chunk), f);
                        char *na;

                        if (got == 0)
                                break;
                        na = realloc(all, n + got + 1);
                        assert_non_null(na);
                        all = na;
                        memcpy(all + n, chunk, got);
                        n += got;
                        all[n] = '\0';
                }
                fclose(f);
        }
        if (all && (strstr(all, "AddressSanitizer") || strstr(all, "runtime error:") ||
                    strstr(all, "LeakSanitizer"))) {
                fprintf(stderr, "crash test: sanitizer report in the server log:\n%s\n", all);
                free(all);
                fail();
        }
        free(all);
        assert_int_equal(truncate(srv.log_path, 0), 0);
}

/* After the SIGKILL: start on the same database. The killed server stays
 * a zombie (our child, so its pid cannot be reused) until
 * api_server_restart reaps it; its SIGTERM to the zombie is harmless. */
static void restart_after_kill(void)
{
        int old = -1;

        scan_and_truncate_log();
        assert_int_equal(api_server_restart(&srv, serve_args, &old), 0);
        assert_int_equal(old, 128 + SIGKILL);
}

/* ---- setup ------------------------------------------------------------------------ */

static int setup(void **state)
{
        const char *s = getenv("CRASH_SEED");

        if (s && *s)
                seed = strtoull(s, NULL, 0);
        else
                seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
        printf("crash test: seed %" PRIu64 " (CRASH_SEED=%" PRIu64 " replays the callers)\n",
               seed, seed);
        fflush(stdout);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -1;
        if (api_server_start(&srv, serve_args) < 0)
                return -1;
        op = operator_token(&srv, "crash@operator.test");
        return 0;
}

static int teardown(void **state)
{
        for (int k = 0; k < CRASH_THREADS; k++)
                free(callers[k].t);
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static void test_acknowledged_transfers_survive_kill_9(void **state)
{
        pthread_t th[CRASH_THREADS];
        uint64_t kill_rng = seed ^ 0xc0ffee;
        int64_t t0 = now_ms();
        long acked = 0, refused = 0, unknown = 0, reqs = 0, odd = 0, present = 0;

        /* wallets with money to spend; the base of the system accounts */
        for (int k = 0; k < CRASH_THREADS; k++) {
                struct caller *c = &callers[k];

                memset(c, 0, sizeof(*c));
                c->index = k;
                c->rng = seed ^ (0x2545f4914f6cdd1dULL * (uint64_t)(k + 1));
                for (int i = 0; i < CRASH_WALLETS; i++) {
                        char email[64];

                        snprintf(email, sizeof(email), "crash-%d-%d@ledger.test", k, i);
                        c->wallet_id[i] = member_wallet(&srv, op, email);
                }
        }
        for (int id = 1; id <= 4; id++) {
                struct api_resp r = { 0 };
                char *path = api_printf("/api/v1/ledger/accounts/%d", id);

                assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
                assert_int_equal(r.status, 200);
                sys_base[id].dp = api_json_int(r.json, "debits_posted", -1);
                sys_base[id].cp = api_json_int(r.json, "credits_posted", -1);
                sys_base[id].dpend = api_json_int(r.json, "debits_pending", -1);
                sys_base[id].cpend = api_json_int(r.json, "credits_pending", -1);
                api_resp_free(&r);
                free(path);
        }

        for (int round = 1; round <= CRASH_ROUNDS; round++) {
                int64_t wait_ms = rnd_range(&kill_rng, KILL_MIN_MS, KILL_MAX_MS);

                atomic_store(&stop_round, false);
                for (int k = 0; k < CRASH_THREADS; k++) {
                        callers[k].round = round;
                        assert_int_equal(client_init(&callers[k].cl, srv.base_url, op,
                                                     20000L, false), 0);
                        assert_int_equal(pthread_create(&th[k], NULL, caller_main, &callers[k]),
                                         0);
                }
                usleep((useconds_t)wait_ms * 1000);
                /* the crash: in the middle of whatever the callers are doing */
                assert_int_equal(kill(srv.pid, SIGKILL), 0);
                atomic_store(&stop_round, true);
                for (int k = 0; k < CRASH_THREADS; k++) {
                        pthread_join(th[k], NULL);
                        client_free(&callers[k].cl);
                        if (callers[k].failed)
                                fprintf(stderr, "%s\n", callers[k].err);
                        assert_false(callers[k].failed);
                }
                restart_after_kill();
                check_all(false);
        }

        /* a clean stop and start, then every transfer once more */
        {
                int old = -1;

                scan_and_truncate_log();
                assert_int_equal(api_server_restart(&srv, serve_args, &old), 0);
                assert_int_equal(old, 0);
        }
        check_all(true);
        for (int k = 0; k < CRASH_THREADS; k++) {
                acked += callers[k].acked;
                refused += callers[k].refused;
                unknown += callers[k].unknown;
                reqs += callers[k].requests;
                odd += callers[k].odd;
                for (size_t i = 0; i < callers[k].nt; i++) {
                        if (callers[k].t[i].outcome == O_OK)
                                present++;
                }
        }
        printf("crash test: %d kills in %.1f s; %ld requests; %ld transfers acknowledged, %ld "
               "refused, %ld unanswered (%ld of them with a non-2xx/409 answer); %ld present "
               "in the end\n", CRASH_ROUNDS, (double)(now_ms() - t0) / 1000, reqs, acked,
               refused, unknown, odd, present);
        assert_true(acked > 0);
        assert_true(refused > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_acknowledged_transfers_survive_kill_9),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
