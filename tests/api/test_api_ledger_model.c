/*
 * test_api_ledger_model.c - the ledger against a reference model, over
 * HTTP (issue 3, guarantees 10, 11 and 13).
 *
 * A seeded random sequence of at least 100,000 transfer operations -
 * top-ups, holds (some with a timeout that expires them), partial and full
 * captures, voids, second resolutions of a resolved hold, refunds from
 * escrow and from another wallet, overdraws that must fail, retries with
 * the same id (no second effect) and with a field changed, linked chains
 * that commit all or nothing - is sent to the server through
 * POST /api/v1/ledger/transfers (1..16 per request) and applied to a small
 * model here. After every request the result of every transfer is
 * compared with the model's prediction and every wallet the request
 * touched is compared with GET /api/v1/ledger/accounts/{id}.
 *
 * Phase 1 is one caller; phase 2 runs CONC_THREADS callers at once, each
 * with its own curl handle and its own wallets, so that each caller's
 * model stays deterministic: the shared system accounts (escrow, fee
 * revenue, funding), and every wallet once more, are compared at
 * synchronisation points where every caller waits. Refunds out of escrow are kept within what the caller
 * itself captured into it, so no caller's result depends on another's.
 *
 * Holds with a timeout of one second expire by the server's sweeper at a
 * moment the model cannot know. They are taken from each caller's own
 * "expiry wallets", which nothing else touches: once the hold must have
 * expired it is checked to be "expired" and the model voids it; until then
 * those wallets' and escrow's pending amounts are compared as a range.
 * At the end, capturing or voiding each expired hold must fail
 * (pending_expired). Nothing the generator chooses depends on when the
 * sweeper ran.
 *
 * The seed is printed at the start; LEDGER_SEED=<n> replays a run (each
 * caller's sequence of requests depends only on the seed). A failure
 * prints the seed, the caller, the step (operation number), the request
 * and the answer. LEDGER_OPS=<n> scales the total down for quick local
 * runs.
 *
 * The last test is guarantee 13: 64 clients spending from one wallet at
 * once never overdraw it.
 */
#include "client.h"
#include "common.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define TOTAL_OPS_DEFAULT       100000
#define SEQ_SHARE               0.4     /* of the operations in phase 1 */
#define CONC_THREADS            4
#define SEQ_WALLETS             32
#define CONC_WALLETS            8       /* per concurrent caller */
#define NWORKERS                (1 + CONC_THREADS)
#define BATCH_MAX               16
#define ROUND_OPS               1000    /* phase 2: operations between sync points */
#define EXPIRE_MS               3000    /* a 1 s hold has surely expired after this */
#define EXPIRY_WAIT_MS          15000   /* ... and if not after this much more, fail */
#define EXP_WALLETS             2       /* per caller, only for holds that expire */
#define EXP_FUNDS               100000000
#define XREF                    1000    /* account refs: 0.. wallet index, */
                                        /* XREF.. expiry wallet, < 0 system */
#define ESCROW                  (-1)
#define FEE_REVENUE             (-2)
#define FUNDING                 (-4)

static struct api_server srv;
static char *op;
static uint64_t seed;


static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the model ----------------------------------------------------------- */

struct macc {
        int64_t dp, cp, dpend, cpend;   /* debits/credits posted/pending */
};

struct wallet {
        int64_t id;                     /* ledger account id */
        struct macc m;
};

/* A hold with a 1 s timeout, waiting to be seen expired. */
struct expiring {
        int t;                          /* index in worker.t */
        int64_t due_ms;                 /* when it must be gone */
};

enum { K_PLAIN, K_HOLD, K_POST, K_VOID };
enum { S_NONE, S_PENDING, S_POSTED, S_VOIDED, S_EXPIRED };

/* A transfer as sent (and, once written, as the model knows it). */
struct mt {
        char id[32];
        int kind;
        int debit, credit;              /* account refs; post/void: the hold's */
        bool accounts_sent;             /* post/void: accounts in the request */
        int64_t amount;                 /* as sent; 0 = omitted (post/void) */
        int64_t moved;                  /* hold: held; post: posted */
        const char *code;
        int64_t timeout;
        int pending;                    /* post/void: index of the hold in worker.t */
        bool linked;
        int state;                      /* holds */
        int64_t seq;                    /* from the server */
};

/* One entry of a request, with what the model predicts. */
struct entry {
        struct mt t;
        const char *expect;             /* "ok", "exists", "exceeds_credits", ... */
        int stored;                     /* index in worker.t: retried or newly written; -1 */
};

struct worker {
        int index;
        uint64_t rng;
        struct client cl;
        struct wallet *w;
        int nw;
        struct macc sys[5];             /* changes to accounts 1..4 by this caller */
        int64_t escrow_budget;          /* what this caller may take out of escrow */
        struct wallet xw[EXP_WALLETS];  /* expiry wallets */
        int xnext;
        struct expiring *exp;           /* oldest first */
        size_t nexp, capexp, exp_head;
        int64_t expiring_sum;           /* held by expiring holds not yet seen expired */
        int64_t x_unconfirmed[EXP_WALLETS];     /* the same per expiry wallet */
        struct mt *t;                   /* every transfer the server wrote for us */
        size_t nt, capt;
        int *open;                      /* holds that may still be pending */
        size_t nopen, capopen;
        int *resolved;                  /* holds known resolved */
        size_t nres, capres;
        long ops_done, requests, gets, counter, expired;
        bool check_system;              /* compare accounts 1, 2, 4 after each request */
        bool failed;
        char err[32768];
        long stats[32];
};

static const char *const result_names[] = {
        "ok", "exists", "exists_different", "exceeds_credits", "amount_exceeds_pending",
        "pending_already_posted", "pending_already_voided", "pending_expired",
        "pending_not_found", "pending_not_pending", "linked_event_failed", NULL,
};

static struct worker workers[NWORKERS];
static struct macc sys_base[5];         /* accounts 1..4 before the model ran */
static json_int_t sums_base[4];
static atomic_bool stop_all;

static void worker_fail(struct worker *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void worker_fail(struct worker *w, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (w->failed)
                return;
        w->failed = true;
        n = snprintf(w->err, sizeof(w->err),
                     "ledger model FAILED: seed %" PRIu64 " (replay: LEDGER_SEED=%" PRIu64
                     "), caller %d, step %ld (request %ld): ", seed, seed, w->index,
                     w->ops_done, w->requests);
        va_start(ap, fmt);
        vsnprintf(w->err + n, sizeof(w->err) - (size_t)n, fmt, ap);
        va_end(ap);
        atomic_store(&stop_all, true);
}

#define GROW(arr, n, cap)                                                       \
        do {                                                                    \
                if ((n) == (cap)) {                                             \
                        (cap) = (cap) ? (cap) * 2 : 1024;                       \
                        (arr) = realloc((arr), (cap) * sizeof(*(arr)));         \
                        if (!(arr))                                             \
                                abort();                                        \
                }                                                               \
        } while (0)

static struct macc *acc(struct worker *w, int ref)
{
        if (ref >= XREF)
                return &w->xw[ref - XREF].m;
        return ref >= 0 ? &w->w[ref].m : &w->sys[-ref];
}

static int64_t acc_id(struct worker *w, int ref)
{
        if (ref >= XREF)
                return w->xw[ref - XREF].id;
        return ref >= 0 ? w->w[ref].id : -ref;
}

static int64_t avail(struct worker *w, int ref)
{
        const struct macc *m = acc(w, ref);

        return m->cp - m->dp - m->dpend;
}

static int store_transfer(struct worker *w, const struct mt *t)
{
        GROW(w->t, w->nt, w->capt);
        w->t[w->nt] = *t;
        return (int)w->nt++;
}

static void push_open(struct worker *w, int i)
{
        GROW(w->open, w->nopen, w->capopen);
        w->open[w->nopen++] = i;
}

static void push_resolved(struct worker *w, int i)
{
        GROW(w->resolved, w->nres, w->capres);
        w->resolved[w->nres++] = i;
}

/*
 * Applies t to the model as the server must, and returns the result name.
 * On failure nothing changes. Wallets may not go below zero counting
 * pending debits; system accounts are unlimited (the generator keeps
 * escrow non-negative anyway). Moves of escrow's posted balance adjust
 * the caller's escrow budget.
 */
static const char *model_apply(struct worker *w, struct mt *t)
{
        struct macc *d, *c;
        struct mt *p;
        int64_t a;

        if (t->kind == K_PLAIN || t->kind == K_HOLD) {
                d = acc(w, t->debit);
                c = acc(w, t->credit);
                if (t->debit >= 0 && d->dp + d->dpend + t->amount > d->cp)
                        return "exceeds_credits";
                if (t->kind == K_PLAIN) {
                        d->dp += t->amount;
                        c->cp += t->amount;
                        if (t->debit == ESCROW)
                                w->escrow_budget -= t->amount;
                        if (t->credit == ESCROW)
                                w->escrow_budget += t->amount;
                } else {
                        d->dpend += t->amount;
                        c->cpend += t->amount;
                        t->state = S_PENDING;
                }
                t->moved = t->amount;
                return "ok";
        }
        p = &w->t[t->pending];
        if (p->kind != K_HOLD)
                return "pending_not_pending";
        if (p->state == S_POSTED)
                return "pending_already_posted";
        if (p->state == S_VOIDED)
                return "pending_already_voided";
        if (p->state == S_EXPIRED)
                return "pending_expired";
        a = t->amount ? t->amount : p->amount;
        if (t->kind == K_POST && a > p->amount)
                return "amount_exceeds_pending";
        d = acc(w, p->debit);
        c = acc(w, p->credit);
        d->dpend -= p->amount;
        c->cpend -= p->amount;
        if (t->kind == K_POST) {
                d->dp += a;
                c->cp += a;
                if (p->credit == ESCROW)
                        w->escrow_budget += a;
                p->state = S_POSTED;
                t->moved = a;
        } else {
                p->state = S_VOIDED;
                t->moved = p->amount;
        }
        return "ok";
}

/* ---- generating requests --------------------------------------------------- */

static void new_id(struct worker *w, struct mt *t)
{
        snprintf(t->id, sizeof(t->id), "m%d-%ld", w->index, ++w->counter);
}

/* A wallet index other than other_than (-1: any), or -1. */
static int pick_wallet(struct worker *w, int other_than)
{
        for (int tries = 0; tries < 8; tries++) {
                int i = (int)rnd_range(&w->rng, 0, w->nw - 1);

                if (i != other_than)
                        return i;
        }
        return -1;
}

/* An open hold (index in w->t), or -1. Holds found no longer pending move
 * to the resolved list. */
static int pick_open(struct worker *w)
{
        for (int tries = 0; tries < 8 && w->nopen > 0; tries++) {
                size_t k = (size_t)rnd_range(&w->rng, 0, (int64_t)w->nopen - 1);
                int i = w->open[k];

                if (w->t[i].state != S_PENDING) {
                        w->open[k] = w->open[--w->nopen];
                        push_resolved(w, i);
                        continue;
                }
                return i;
        }
        return -1;
}

static void add_entry(struct worker *w, struct entry *e, size_t *n, const struct mt *t,
                      const char *expect, int stored)
{
        e[*n].t = *t;
        e[*n].expect = expect;
        e[*n].stored = stored;
        (*n)++;
}

/* A new (not retried) transfer: predicted, and stored when ok. */
static void add_new(struct worker *w, struct entry *e, size_t *n, struct mt *t)
{
        const char *res = model_apply(w, t);
        int stored = -1;

        if (strcmp(res, "ok") == 0) {
                stored = store_transfer(w, t);
                if (t->kind == K_HOLD && t->timeout != 1)
                        push_open(w, stored);
        }
        add_entry(w, e, n, t, res, stored);
}

static struct mt plain(struct worker *w, int debit, int credit, int64_t amount, const char *code)
{
        struct mt t = { .kind = K_PLAIN, .debit = debit, .credit = credit, .amount = amount,
                        .code = code, .pending = -1 };

        new_id(w, &t);
        return t;
}

static struct mt resolve(struct worker *w, int hold, bool post, int64_t amount)
{
        struct mt t = { .kind = post ? K_POST : K_VOID, .amount = amount,
                        .code = post ? "capture" : "release", .pending = hold };

        new_id(w, &t);
        t.debit = w->t[hold].debit;
        t.credit = w->t[hold].credit;
        t.accounts_sent = rnd_range(&w->rng, 0, 4) == 0;
        return t;
}

/*
 * A linked chain (2..4 transfers): capture a hold, pay a host from escrow,
 * take a platform fee; or a pair of top-ups. Sometimes one member must
 * fail (a capture above the hold, a fee the host cannot pay), and then
 * nothing of the chain may happen.
 */
static void add_chain(struct worker *w, struct entry *e, size_t *n)
{
        struct macc wsave[SEQ_WALLETS], ssave[5];
        struct mt chain[4];
        const char *res[4];
        int64_t bsave = w->escrow_budget, a, pay;
        int hold, host, fail_at = -1, k = 0, undo_hold = -1, undo_state = 0;
        bool failing = rnd_range(&w->rng, 0, 3) == 0;

        hold = pick_open(w);
        host = hold >= 0 ? pick_wallet(w, w->t[hold].debit) : -1;
        if (hold >= 0 && host >= 0) {
                int64_t p = w->t[hold].amount;

                a = rnd_range(&w->rng, 1, p);
                if (failing && rnd_range(&w->rng, 0, 1) == 0)
                        a = p + rnd_range(&w->rng, 1, 100);
                chain[k++] = resolve(w, hold, true, a);
                pay = a > 1 ? rnd_range(&w->rng, 1, a - 1) : 0;
                if (pay > 0)
                        chain[k++] = plain(w, ESCROW, host, pay, "fee");
                if (a - pay > 0 && a <= p)
                        chain[k++] = plain(w, ESCROW, FEE_REVENUE, a - pay, "platform_fee");
                if (failing && a <= p)
                        chain[k++] = plain(w, host, FEE_REVENUE,
                                           avail(w, host) + pay + rnd_range(&w->rng, 1, 500),
                                           "platform_fee");
        } else {
                int u = pick_wallet(w, -1), v = pick_wallet(w, u);

                if (u < 0 || v < 0)
                        return;
                chain[k++] = plain(w, FUNDING, u, rnd_range(&w->rng, 100, 5000), "top_up");
                chain[k++] = plain(w, FUNDING, v, rnd_range(&w->rng, 100, 5000), "top_up");
                if (failing)
                        chain[k++] = plain(w, v, FEE_REVENUE, avail(w, v) + 10000, "platform_fee");
        }
        if (*n + (size_t)k > BATCH_MAX || k < 2)
                return;
        for (int i = 0; i < k; i++)
                chain[i].linked = i < k - 1;

        /* apply on the live model, roll back when a member fails */
        for (int i = 0; i < w->nw; i++)
                wsave[i] = w->w[i].m;
        memcpy(ssave, w->sys, sizeof(ssave));
        if (chain[0].kind == K_POST) {
                undo_hold = chain[0].pending;
                undo_state = w->t[undo_hold].state;
        }
        for (int i = 0; i < k; i++) {
                res[i] = model_apply(w, &chain[i]);
                if (strcmp(res[i], "ok") != 0) {
                        fail_at = i;
                        break;
                }
        }
        if (fail_at >= 0) {
                for (int i = 0; i < w->nw; i++)
                        w->w[i].m = wsave[i];
                memcpy(w->sys, ssave, sizeof(ssave));
                w->escrow_budget = bsave;
                if (undo_hold >= 0)
                        w->t[undo_hold].state = undo_state;
                for (int i = 0; i < k; i++)
                        add_entry(w, e, n, &chain[i], i == fail_at ? res[i] : "linked_event_failed",
                                  -1);
                return;
        }
        for (int i = 0; i < k; i++)
                add_entry(w, e, n, &chain[i], "ok", store_transfer(w, &chain[i]));
}

/* One operation (or a chain of them) appended to the request. */
static void gen_op(struct worker *w, struct entry *e, size_t *n)
{
        int64_t roll = rnd_range(&w->rng, 0, 99), a, av;
        struct mt t;
        int u, v, h;

        if (roll < 14) {                        /* top-up from the funding account */
                u = pick_wallet(w, -1);
                if (u < 0)
                        return;
                t = plain(w, FUNDING, u, rnd_range(&w->rng, 500, 20000), "top_up");
                add_new(w, e, n, &t);
        } else if (roll < 32) {                 /* a hold, sometimes more than available */
                u = pick_wallet(w, -1);
                if (u < 0)
                        return;
                av = avail(w, u);
                if (av > 0 && rnd_range(&w->rng, 0, 9) < 8)
                        a = rnd_range(&w->rng, 1, av);
                else
                        a = av + rnd_range(&w->rng, 1, 3000);
                t = plain(w, u, ESCROW, a, "hold");
                t.kind = K_HOLD;
                t.timeout = rnd_range(&w->rng, 0, 1) ? 3600 : 0;
                add_new(w, e, n, &t);
        } else if (roll < 33) {                 /* a hold that expires after 1 s */
                u = XREF + w->xnext++ % EXP_WALLETS;
                t = plain(w, u, ESCROW, rnd_range(&w->rng, 1, 1000), "hold");
                t.kind = K_HOLD;
                t.timeout = 1;
                add_new(w, e, n, &t);
                if (e[*n - 1].stored < 0) {
                        worker_fail(w, "expiry wallet %d cannot pay a hold", u - XREF);
                        return;
                }
                GROW(w->exp, w->nexp, w->capexp);
                w->exp[w->nexp].t = e[*n - 1].stored;
                w->exp[w->nexp].due_ms = now_ms() + EXPIRE_MS;  /* refined once sent */
                w->nexp++;
                w->expiring_sum += t.amount;
                w->x_unconfirmed[u - XREF] += t.amount;
        } else if (roll < 47) {                 /* capture: full, partial, too much */
                h = pick_open(w);
                if (h < 0)
                        return;
                a = w->t[h].amount;
                switch (rnd_range(&w->rng, 0, 19)) {
                case 0:
                        a += rnd_range(&w->rng, 1, 1000);
                        break;
                case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8:
                        a = 0;
                        break;
                case 9: case 10:
                        break;
                default:
                        a = rnd_range(&w->rng, 1, a);
                        break;
                }
                t = resolve(w, h, true, a);
                add_new(w, e, n, &t);
        } else if (roll < 56) {                 /* void */
                h = pick_open(w);
                if (h < 0)
                        return;
                t = resolve(w, h, false, 0);
                add_new(w, e, n, &t);
        } else if (roll < 59) {                 /* a second resolution must fail */
                if (w->nres == 0)
                        return;
                h = w->resolved[rnd_range(&w->rng, 0, (int64_t)w->nres - 1)];
                t = resolve(w, h, rnd_range(&w->rng, 0, 1), 0);
                add_new(w, e, n, &t);
        } else if (roll < 65) {                 /* refund out of escrow */
                u = pick_wallet(w, -1);
                if (u < 0 || w->escrow_budget < 1)
                        return;
                a = rnd_range(&w->rng, 1, w->escrow_budget < 5000 ? w->escrow_budget : 5000);
                t = plain(w, ESCROW, u, a, "refund");
                add_new(w, e, n, &t);
        } else if (roll < 70) {                 /* refund from a host's wallet */
                u = pick_wallet(w, -1);
                v = pick_wallet(w, u);
                if (u < 0 || v < 0)
                        return;
                av = avail(w, v);
                if (av > 0 && rnd_range(&w->rng, 0, 4) > 0)
                        a = rnd_range(&w->rng, 1, av);
                else
                        a = av + rnd_range(&w->rng, 1, 1000);
                t = plain(w, v, u, a, "refund");
                add_new(w, e, n, &t);
        } else if (roll < 74) {                 /* overdraw: must fail */
                u = pick_wallet(w, -1);
                if (u < 0)
                        return;
                t = plain(w, u, FEE_REVENUE, avail(w, u) + rnd_range(&w->rng, 1, 1000),
                          "platform_fee");
                add_new(w, e, n, &t);
        } else if (roll < 76) {                 /* spend within the balance */
                u = pick_wallet(w, -1);
                if (u < 0 || avail(w, u) < 1)
                        return;
                t = plain(w, u, FEE_REVENUE, rnd_range(&w->rng, 1, avail(w, u)), "platform_fee");
                add_new(w, e, n, &t);
        } else if (roll < 86) {                 /* retry: the same request again */
                if (w->nt == 0)
                        return;
                h = (int)rnd_range(&w->rng, 0, (int64_t)w->nt - 1);
                if (w->t[h].linked)     /* alone it would be an open chain */
                        return;
                add_entry(w, e, n, &w->t[h], "exists", h);
        } else if (roll < 88) {                 /* retry with the amount changed */
                if (w->nt == 0)
                        return;
                h = (int)rnd_range(&w->rng, 0, (int64_t)w->nt - 1);
                if (w->t[h].kind == K_VOID || w->t[h].amount == 0 || w->t[h].linked)
                        return;
                t = w->t[h];
                t.amount += 1;
                add_entry(w, e, n, &t, "exists_different", -1);
        } else if (roll < 89) {                 /* resolve a transfer that is no hold */
                if (w->nt == 0)
                        return;
                h = (int)rnd_range(&w->rng, 0, (int64_t)w->nt - 1);
                if (w->t[h].kind != K_PLAIN)
                        return;
                t = resolve(w, h, rnd_range(&w->rng, 0, 1), 0);
                t.accounts_sent = false;
                add_new(w, e, n, &t);
        } else if (roll < 90) {                 /* resolve what does not exist */
                memset(&t, 0, sizeof(t));
                new_id(w, &t);
                t.kind = K_POST;
                t.code = "capture";
                t.pending = -1;
                add_entry(w, e, n, &t, "pending_not_found", -1);
        } else {
                add_chain(w, e, n);
        }
}

/* ---- talking to the server -------------------------------------------------- */

static json_t *mt_json(struct worker *w, const struct mt *t)
{
        json_t *o = json_pack("{s:s, s:s}", "id", t->id, "code", t->code);

        if (t->kind == K_PLAIN || t->kind == K_HOLD || t->accounts_sent) {
                json_object_set_new(o, "debit_account_id", json_integer(acc_id(w, t->debit)));
                json_object_set_new(o, "credit_account_id", json_integer(acc_id(w, t->credit)));
        }
        if (t->amount)
                json_object_set_new(o, "amount", json_integer(t->amount));
        if (t->kind == K_HOLD)
                json_object_set_new(o, "pending", json_true());
        if (t->kind == K_HOLD && t->timeout)
                json_object_set_new(o, "timeout", json_integer(t->timeout));
        if (t->kind == K_POST)
                json_object_set_new(o, "post_pending", json_true());
        if (t->kind == K_VOID)
                json_object_set_new(o, "void_pending", json_true());
        if (t->kind == K_POST || t->kind == K_VOID)
                json_object_set_new(o, "pending_id",
                                    json_string(t->pending >= 0 ? w->t[t->pending].id
                                                               : "no-such-hold"));
        if (t->linked)
                json_object_set_new(o, "linked", json_true());
        return o;
}

static void count_result(struct worker *w, const char *res)
{
        for (int i = 0; result_names[i]; i++) {
                if (strcmp(result_names[i], res) == 0) {
                        w->stats[i]++;
                        return;
                }
        }
}

/* Compares one account with the model. While holds that expire are in
 * flight, pending debits (expiry wallets) and pending credits (escrow) may
 * be up to that much lower than the model says. */
static bool compare_account(struct worker *w, struct client *cl, int64_t id,
                            const struct macc *m, int64_t dpend_slack, int64_t cpend_slack)
{
        char path[64];
        json_t *j = NULL;
        long st;
        json_int_t dp, cp, dpend, cpend, bal, av;
        bool ok;

        snprintf(path, sizeof(path), "/api/v1/ledger/accounts/%" PRId64, id);
        st = client_call(cl, "GET", path, NULL, &j);
        if (w)
                w->gets++;
        if (st != 200) {
                if (w)
                        worker_fail(w, "GET %s: %ld %s", path, st, cl->buf ? cl->buf : "");
                else
                        fprintf(stderr, "GET %s: %ld %s\n", path, st, cl->buf ? cl->buf : "");
                json_decref(j);
                return false;
        }
        dp = api_json_int(j, "debits_posted", -1);
        cp = api_json_int(j, "credits_posted", -1);
        dpend = api_json_int(j, "debits_pending", -1);
        cpend = api_json_int(j, "credits_pending", -1);
        bal = api_json_int(j, "balance", INT64_MIN);
        av = api_json_int(j, "available", INT64_MIN);
        ok = dp == m->dp && cp == m->cp && dpend <= m->dpend &&
             dpend >= m->dpend - dpend_slack && cpend <= m->cpend &&
             cpend >= m->cpend - cpend_slack;
        /* a wallet's views (ids > 4): balance and available as documented */
        if (id > 4)
                ok = ok && bal == cp - dp && av == cp - dp - dpend && av >= 0;
        if (!ok) {
                char msg[1024];

                snprintf(msg, sizeof(msg),
                         "account %" PRId64 ": server %s; model debits_posted %" PRId64
                         " credits_posted %" PRId64 " debits_pending %" PRId64
                         " credits_pending %" PRId64 " (expiring: debits %" PRId64
                         ", credits %" PRId64 ")", id, cl->buf, m->dp, m->cp, m->dpend, m->cpend,
                         dpend_slack, cpend_slack);
                if (w)
                        worker_fail(w, "%s", msg);
                else
                        fprintf(stderr, "%s\n", msg);
        }
        json_decref(j);
        return ok;
}

/* Accounts 1, 2, 4 against base + every caller's changes. */
static bool compare_system(struct worker *w, struct client *cl)
{
        static const int ids[] = { 1, 2, 4 };
        int64_t slack = 0;

        for (int k = 0; k < NWORKERS; k++)
                slack += workers[k].expiring_sum;
        for (size_t i = 0; i < 3; i++) {
                struct macc m = sys_base[ids[i]];

                for (int k = 0; k < NWORKERS; k++) {
                        m.dp += workers[k].sys[ids[i]].dp;
                        m.cp += workers[k].sys[ids[i]].cp;
                        m.dpend += workers[k].sys[ids[i]].dpend;
                        m.cpend += workers[k].sys[ids[i]].cpend;
                }
                if (!compare_account(w, cl, ids[i], &m, 0, ids[i] == 1 ? slack : 0))
                        return false;
        }
        return true;
}

/* Every wallet of every caller (callers quiet). */
static bool compare_wallets(struct client *cl)
{
        for (int k = 0; k < NWORKERS; k++) {
                struct worker *w = &workers[k];

                for (int i = 0; i < w->nw; i++) {
                        if (!compare_account(NULL, cl, w->w[i].id, &w->w[i].m, 0, 0))
                                return false;
                }
                for (int i = 0; i < EXP_WALLETS; i++) {
                        if (!compare_account(NULL, cl, w->xw[i].id, &w->xw[i].m,
                                             w->x_unconfirmed[i], 0))
                                return false;
                }
        }
        return true;
}

/* Checks every entry's result against the prediction. */
static void check_results(struct worker *w, const struct entry *e, size_t n, long status,
                          json_t *j, const char *body)
{
        json_t *results = api_json_get(j, "results");
        bool all_good = true;

        for (size_t i = 0; i < n; i++)
                all_good = all_good && (strcmp(e[i].expect, "ok") == 0 ||
                                        strcmp(e[i].expect, "exists") == 0);
        if (status != (all_good ? 200 : 409) || json_array_size(results) != n) {
                worker_fail(w, "expected HTTP %d with %zu results\nrequest: %s\nanswer: %ld %s",
                            all_good ? 200 : 409, n, body, status, w->cl.buf);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *r = json_array_get(results, i);
                const char *id = json_string_value(json_object_get(r, "id"));
                const char *res = json_string_value(json_object_get(r, "result"));
                json_t *tr = json_object_get(r, "transfer");
                json_int_t seq = json_integer_value(json_object_get(tr, "seq"));
                json_int_t amount = json_integer_value(json_object_get(tr, "amount"));
                const struct mt *t = &e[i].t;

                if (!id || strcmp(id, t->id) != 0 || !res || strcmp(res, e[i].expect) != 0) {
                        worker_fail(w, "transfer %zu (%s): expected %s\nrequest: %s\nanswer: %s",
                                    i, t->id, e[i].expect, body, w->cl.buf);
                        return;
                }
                count_result(w, res);
                if (strcmp(res, "exists_different") == 0) {
                        const char *field = json_string_value(json_object_get(r, "field"));

                        if (!field || strcmp(field, "amount") != 0) {
                                worker_fail(w, "transfer %s: expected field amount\nanswer: %s",
                                            t->id, w->cl.buf);
                                return;
                        }
                }
                if (strcmp(res, "ok") == 0) {
                        bool amount_known = t->kind != K_VOID && t->amount != 0;

                        if (seq <= 0 || (amount_known && amount != t->moved)) {
                                worker_fail(w, "transfer %s: bad transfer object\nanswer: %s",
                                            t->id, w->cl.buf);
                                return;
                        }
                        w->t[e[i].stored].seq = seq;
                }
                if (strcmp(res, "exists") == 0 && seq != w->t[e[i].stored].seq) {
                        worker_fail(w, "retry of %s: seq %lld, the original had %" PRId64
                                    "\nanswer: %s", t->id, (long long)seq,
                                    w->t[e[i].stored].seq, w->cl.buf);
                        return;
                }
        }
}

/* Sends one request of random operations and checks everything it touched. */
/* Marks the account a transfer's entry touches (wallets only). */
static void touch(bool *touched, bool *xtouched, int ref)
{
        if (ref >= XREF)
                xtouched[ref - XREF] = true;
        else if (ref >= 0)
                touched[ref] = true;
}

/* Sends the n entries as one request and checks the results and every
 * account they touched. Holds that expire from index exp_before on were
 * generated for this request. */
static void worker_send(struct worker *w, const struct entry *e, size_t n, size_t exp_before)
{
        bool touched[SEQ_WALLETS] = { false }, xtouched[EXP_WALLETS] = { false };
        json_t *arr, *req, *j = NULL;
        char *body;
        long status;

        arr = json_array();
        for (size_t i = 0; i < n; i++) {
                const struct mt *t = &e[i].t;

                json_array_append_new(arr, mt_json(w, t));
                if (t->kind == K_POST || t->kind == K_VOID) {
                        if (t->pending >= 0)
                                touch(touched, xtouched, w->t[t->pending].debit);
                } else {
                        touch(touched, xtouched, t->debit);
                        touch(touched, xtouched, t->credit);
                }
        }
        req = json_pack("{s:o}", "transfers", arr);
        body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        status = client_call(&w->cl, "POST", "/api/v1/ledger/transfers", body, &j);
        w->requests++;
        w->ops_done += (long)n;
        /* the holds that expire were written now: they are gone EXPIRE_MS later */
        for (size_t k = exp_before; k < w->nexp; k++)
                w->exp[k].due_ms = now_ms() + EXPIRE_MS;
        if (status < 0)
                worker_fail(w, "no answer to %s", body);
        else
                check_results(w, e, n, status, j, body);
        json_decref(j);
        free(body);
        for (int i = 0; i < w->nw && !w->failed; i++) {
                if (touched[i])
                        compare_account(w, &w->cl, w->w[i].id, &w->w[i].m, 0, 0);
        }
        for (int i = 0; i < EXP_WALLETS && !w->failed; i++) {
                if (xtouched[i])
                        compare_account(w, &w->cl, w->xw[i].id, &w->xw[i].m,
                                        w->x_unconfirmed[i], 0);
        }
        if (w->check_system && !w->failed)
                compare_system(w, &w->cl);
}

/* One request of random operations. */
static void worker_step(struct worker *w)
{
        struct entry e[BATCH_MAX];
        size_t n = 0, want = (size_t)rnd_range(&w->rng, 1, BATCH_MAX), exp_before = w->nexp;

        for (int tries = 0; n < want && tries < 64; tries++)
                gen_op(w, e, &n);
        if (n > 0)
                worker_send(w, e, n, exp_before);
}

/* Tops up the expiry wallets: the first request of each caller. */
static void worker_fund(struct worker *w)
{
        struct entry e[EXP_WALLETS];
        size_t n = 0;

        for (int k = 0; k < EXP_WALLETS; k++) {
                struct mt t = plain(w, FUNDING, XREF + k, EXP_FUNDS, "top_up");

                add_new(w, e, &n, &t);
        }
        worker_send(w, e, n, w->nexp);
}

/* At the end: capturing or voiding an expired hold must fail. */
static void worker_resolve_expired(struct worker *w)
{
        struct entry e[BATCH_MAX];
        size_t n = 0;

        for (size_t i = 0; i < w->nexp && !w->failed; i++) {
                struct mt t = resolve(w, w->exp[i].t, i % 2 == 0, 0);

                add_new(w, e, &n, &t);
                if (n == BATCH_MAX || i + 1 == w->nexp) {
                        worker_send(w, e, n, w->nexp);
                        n = 0;
                }
        }
}

/*
 * Holds that expire and are due: each must now be "expired" (the sweeper
 * voided it), and the model voids it too. wait_all: wait for every one.
 * Only the model's pending amounts change here, never anything the
 * generator looks at.
 */
static void worker_expire(struct worker *w, bool wait_all)
{
        while (w->exp_head < w->nexp && !w->failed) {
                struct expiring *x = &w->exp[w->exp_head];
                struct mt *h = &w->t[x->t];
                int k = h->debit - XREF;
                char path[96];
                json_t *j = NULL;
                const char *state;
                long st;

                if (!wait_all && now_ms() < x->due_ms)
                        return;
                while (now_ms() < x->due_ms)
                        usleep(20 * 1000);
                snprintf(path, sizeof(path), "/api/v1/ledger/transfers/%s", h->id);
                for (;;) {
                        st = client_call(&w->cl, "GET", path, NULL, &j);
                        w->gets++;
                        state = api_json_str(j, "state");
                        if (st != 200 || !state || strcmp(state, "pending") != 0)
                                break;
                        json_decref(j);
                        j = NULL;
                        if (now_ms() > x->due_ms + EXPIRY_WAIT_MS)
                                break;
                        usleep(100 * 1000);
                }
                if (st != 200 || !state || strcmp(state, "expired") != 0) {
                        worker_fail(w, "hold %s (timeout 1 s, sent %d ms ago) should have "
                                    "expired: %ld %s", h->id,
                                    (int)(now_ms() - x->due_ms + EXPIRE_MS), st, w->cl.buf);
                        json_decref(j);
                        return;
                }
                json_decref(j);
                w->xw[k].m.dpend -= h->amount;
                w->sys[1].cpend -= h->amount;
                w->expiring_sum -= h->amount;
                w->x_unconfirmed[k] -= h->amount;
                h->state = S_EXPIRED;
                w->expired++;
                w->exp_head++;
                compare_account(w, &w->cl, w->xw[k].id, &w->xw[k].m, w->x_unconfirmed[k], 0);
        }
}

static void worker_run(struct worker *w, long ops)
{
        long target = w->ops_done + ops;

        while (w->ops_done < target && !w->failed && !atomic_load(&stop_all)) {
                worker_expire(w, false);
                if (!w->failed)
                        worker_step(w);
        }
}

/* ---- phase 2: concurrent callers ----------------------------------------------- */

static pthread_barrier_t bar_a, bar_b;
static long rounds;
static long ops_per_thread_round;

static void *conc_main(void *arg)
{
        struct worker *w = arg;

        for (long r = 0; r < rounds; r++) {
                if (!atomic_load(&stop_all))
                        worker_run(w, ops_per_thread_round);
                pthread_barrier_wait(&bar_a);   /* everyone quiet: main compares */
                pthread_barrier_wait(&bar_b);
                if (atomic_load(&stop_all))
                        break;
        }
        return NULL;
}

/* ---- setup ------------------------------------------------------------------------ */

static int setup(void **state)
{
        static const char *const args[] = { "--ledger-sweep-interval", "1s",
                                             "--no-log-requests", NULL };
        const char *s = getenv("LEDGER_SEED");

        if (s && *s)
                seed = strtoull(s, NULL, 0);
        else
                seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
        printf("ledger model: seed %" PRIu64 " (replay with LEDGER_SEED=%" PRIu64 ")\n", seed,
               seed);
        fflush(stdout);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -1;
        if (api_server_start(&srv, args) < 0)
                return -1;
        op = operator_token(&srv, "model@operator.test");
        return 0;
}

static int teardown(void **state)
{
        for (int k = 0; k < NWORKERS; k++) {
                client_free(&workers[k].cl);
                free(workers[k].w);
                free(workers[k].t);
                free(workers[k].open);
                free(workers[k].resolved);
                free(workers[k].exp);
        }
        free(op);
        return api_server_stop(&srv) == 0 ? 0 : -1;
}

static void read_sums(json_int_t out[4], bool *balanced)
{
        struct api_resp r = { 0 };

        assert_int_equal(api_call(&srv, "GET", "/api/v1/ledger/totals", op, NULL, &r), 0);
        if (r.status != 200)
                fprintf(stderr, "GET /api/v1/ledger/totals: %ld %s\n", r.status, r.body);
        assert_int_equal(r.status, 200);
        out[0] = api_json_int(r.json, "sums.debits_posted", -1);
        out[1] = api_json_int(r.json, "sums.credits_posted", -1);
        out[2] = api_json_int(r.json, "sums.debits_pending", -1);
        out[3] = api_json_int(r.json, "sums.credits_pending", -1);
        *balanced = json_is_true(api_json_get(r.json, "sums.balanced"));
        api_resp_free(&r);
}

static void worker_init(struct worker *w, int index, int nwallets)
{
        char email[64];

        memset(w, 0, sizeof(*w));
        w->index = index;
        w->rng = seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(index + 1));
        w->nw = nwallets;
        w->w = calloc((size_t)nwallets, sizeof(*w->w));
        assert_non_null(w->w);
        for (int i = 0; i < nwallets; i++) {
                snprintf(email, sizeof(email), "model-%d-%d@ledger.test", index, i);
                w->w[i].id = member_wallet(&srv, op, email);
        }
        for (int k = 0; k < EXP_WALLETS; k++) {
                snprintf(email, sizeof(email), "model-%d-x%d@ledger.test", index, k);
                w->xw[k].id = member_wallet(&srv, op, email);
        }
        assert_int_equal(client_init(&w->cl, srv.base_url, op, 60000L, true), 0);
}

static void print_stats(const char *phase, double secs)
{
        long ops = 0, reqs = 0, gets = 0, expired = 0, st[32] = { 0 };

        for (int k = 0; k < NWORKERS; k++) {
                ops += workers[k].ops_done;
                reqs += workers[k].requests;
                gets += workers[k].gets;
                expired += workers[k].expired;
                for (int i = 0; result_names[i]; i++)
                        st[i] += workers[k].stats[i];
        }
        printf("ledger model: %s: %ld operations in %ld requests (+%ld account reads), %.1f s; "
               "%ld holds expired by the sweeper; results:", phase, ops, reqs, gets, secs,
               expired);
        for (int i = 0; result_names[i]; i++)
                printf(" %s %ld", result_names[i], st[i]);
        printf("\n");
        fflush(stdout);
}

static void assert_no_failure(void)
{
        bool any = false;

        for (int k = 0; k < NWORKERS; k++) {
                if (workers[k].failed) {
                        fprintf(stderr, "%s\n", workers[k].err);
                        any = true;
                }
        }
        if (any)
                fprintf(stderr, "ledger model: seed %" PRIu64 " failed\n", seed);
        assert_false(any);
}

/* ---- the test ---------------------------------------------------------------------- */

static void test_ledger_matches_model_over_100000_operations(void **state)
{
        const char *env_ops = getenv("LEDGER_OPS");
        long total = env_ops && *env_ops ? atol(env_ops) : TOTAL_OPS_DEFAULT;
        long seq_ops = (long)(total * SEQ_SHARE), conc_ops = total - seq_ops;
        int64_t t0 = now_ms(), t1;
        pthread_t th[CONC_THREADS];
        json_int_t sums[4], expect[4];
        struct client main_cl;
        bool balanced;

        worker_init(&workers[0], 0, SEQ_WALLETS);
        for (int k = 1; k < NWORKERS; k++)
                worker_init(&workers[k], k, CONC_WALLETS);
        printf("ledger model: %d + %d x %d wallets ready in %.1f s\n", SEQ_WALLETS, CONC_THREADS,
               CONC_WALLETS, (double)(now_ms() - t0) / 1000);
        read_sums(sums_base, &balanced);
        assert_true(balanced);
        assert_int_equal(client_init(&main_cl, srv.base_url, op, 60000L, true), 0);
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

        for (int k = 0; k < NWORKERS; k++)
                worker_fund(&workers[k]);
        assert_no_failure();

        /* phase 1: one caller, system accounts compared after every request */
        t1 = now_ms();
        workers[0].check_system = true;
        worker_run(&workers[0], seq_ops);
        workers[0].check_system = false;
        print_stats("one caller", (double)(now_ms() - t1) / 1000);
        assert_no_failure();

        /* phase 2: concurrent callers, compared at sync points */
        t1 = now_ms();
        ops_per_thread_round = ROUND_OPS;
        rounds = (conc_ops / CONC_THREADS + ROUND_OPS - 1) / ROUND_OPS;
        if (rounds < 1)
                rounds = 1;
        if (ops_per_thread_round * rounds * CONC_THREADS > conc_ops)
                ops_per_thread_round = (conc_ops + rounds * CONC_THREADS - 1) /
                                       (rounds * CONC_THREADS);
        assert_int_equal(pthread_barrier_init(&bar_a, NULL, CONC_THREADS + 1), 0);
        assert_int_equal(pthread_barrier_init(&bar_b, NULL, CONC_THREADS + 1), 0);
        for (int k = 0; k < CONC_THREADS; k++)
                assert_int_equal(pthread_create(&th[k], NULL, conc_main, &workers[k + 1]), 0);
        for (long r = 0; r < rounds; r++) {
                pthread_barrier_wait(&bar_a);
                if (!atomic_load(&stop_all) &&
                    (!compare_system(NULL, &main_cl) || !compare_wallets(&main_cl))) {
                        atomic_store(&stop_all, true);
                        workers[0].failed = true;
                        snprintf(workers[0].err, sizeof(workers[0].err),
                                 "ledger model FAILED: seed %" PRIu64 " (replay: LEDGER_SEED=%"
                                 PRIu64 "): accounts differ at sync point %ld of phase 2 (see "
                                 "above)", seed, seed, r + 1);
                }
                pthread_barrier_wait(&bar_b);
                if (atomic_load(&stop_all))
                        break;
        }
        for (int k = 0; k < CONC_THREADS; k++)
                pthread_join(th[k], NULL);
        pthread_barrier_destroy(&bar_a);
        pthread_barrier_destroy(&bar_b);
        print_stats("total", (double)(now_ms() - t0) / 1000);
        assert_no_failure();

        /* the end: every hold that expires expired and cannot be resolved
         * any more; every account exact */
        for (int k = 0; k < NWORKERS; k++) {
                worker_expire(&workers[k], true);
                worker_resolve_expired(&workers[k]);
        }
        assert_no_failure();
        for (int k = 0; k < NWORKERS; k++) {
                for (int i = 0; i < workers[k].nw; i++)
                        assert_true(compare_account(NULL, &main_cl, workers[k].w[i].id,
                                                    &workers[k].w[i].m, 0, 0));
                for (int i = 0; i < EXP_WALLETS; i++)
                        assert_true(compare_account(NULL, &main_cl, workers[k].xw[i].id,
                                                    &workers[k].xw[i].m, 0, 0));
        }
        assert_true(compare_system(NULL, &main_cl));
        print_stats("end", (double)(now_ms() - t0) / 1000);

        /* the ledger's own sums: balanced, and what the model moved */
        read_sums(sums, &balanced);
        memcpy(expect, sums_base, sizeof(expect));
        for (int k = 0; k < NWORKERS; k++) {
                for (int i = 0; i < workers[k].nw; i++) {
                        expect[0] += workers[k].w[i].m.dp;
                        expect[1] += workers[k].w[i].m.cp;
                        expect[2] += workers[k].w[i].m.dpend;
                        expect[3] += workers[k].w[i].m.cpend;
                }
                for (int i = 0; i < EXP_WALLETS; i++) {
                        expect[0] += workers[k].xw[i].m.dp;
                        expect[1] += workers[k].xw[i].m.cp;
                        expect[2] += workers[k].xw[i].m.dpend;
                        expect[3] += workers[k].xw[i].m.cpend;
                }
                for (int id = 1; id <= 4; id++) {
                        expect[0] += workers[k].sys[id].dp;
                        expect[1] += workers[k].sys[id].cp;
                        expect[2] += workers[k].sys[id].dpend;
                        expect[3] += workers[k].sys[id].cpend;
                }
        }
        printf("ledger model: sums debits_posted %lld credits_posted %lld debits_pending %lld "
               "credits_pending %lld\n", (long long)sums[0], (long long)sums[1],
               (long long)sums[2], (long long)sums[3]);
        assert_true(balanced);
        assert_int_equal(sums[0], sums[1]);
        assert_int_equal(sums[2], sums[3]);
        for (int i = 0; i < 4; i++)
                assert_int_equal(sums[i], expect[i]);
        {
                long ops = 0;

                for (int k = 0; k < NWORKERS; k++)
                        ops += workers[k].ops_done;
                if (!env_ops)
                        assert_true(ops >= TOTAL_OPS_DEFAULT);
        }
        client_free(&main_cl);
}

/* ---- guarantee 13: 64 clients, one wallet ------------------------------------------ */

#define SPENDERS 64
#define SPEND_TRIES 5
#define SPEND_AMOUNT 300
#define SPEND_FUNDS 10000

struct spender {
        int index;
        int64_t wallet;
        int ok, refused, other;
        char base[80];
};

static void *spender_main(void *arg)
{
        struct spender *s = arg;
        struct client cl;

        if (client_init(&cl, s->base, op, 60000L, true) < 0) {
                s->other++;
                return NULL;
        }
        for (int i = 0; i < SPEND_TRIES; i++) {
                /* alternately a hold and a plain spend, both count against the balance */
                char *body = api_printf(
                        "{\"transfers\":[{\"id\":\"spend-%d-%d\",\"debit_account_id\":%" PRId64
                        ",\"credit_account_id\":%d,\"amount\":%d,\"code\":\"%s\"%s}]}",
                        s->index, i, s->wallet, i % 2 ? 2 : 1, SPEND_AMOUNT,
                        i % 2 ? "platform_fee" : "hold", i % 2 ? "" : ",\"pending\":true");
                json_t *j = NULL;
                long st = client_call(&cl, "POST", "/api/v1/ledger/transfers", body, &j);
                const char *res = api_json_str(j, "results.0.result");

                if (st == 200 && res && strcmp(res, "ok") == 0)
                        s->ok++;
                else if (st == 409 && res && strcmp(res, "exceeds_credits") == 0)
                        s->refused++;
                else
                        s->other++;
                json_decref(j);
                free(body);
        }
        client_free(&cl);
        return NULL;
}

static void test_64_clients_spending_one_wallet_never_overdraw_it(void **state)
{
        static struct spender sp[SPENDERS];
        pthread_t th[SPENDERS];
        struct api_resp r = { 0 };
        json_int_t wallet = member_wallet(&srv, op, "spent@ledger.test");
        int ok = 0, refused = 0, other = 0;
        char *body, *path;

        body = api_printf("{\"transfers\":[{\"id\":\"spend-funds\",\"debit_account_id\":4,"
                          "\"credit_account_id\":%lld,\"amount\":%d,\"code\":\"top_up\"}]}",
                          (long long)wallet, SPEND_FUNDS);
        assert_int_equal(api_call(&srv, "POST", "/api/v1/ledger/transfers", op, body, &r), 0);
        assert_int_equal(r.status, 200);
        api_resp_free(&r);
        free(body);
        for (int i = 0; i < SPENDERS; i++) {
                sp[i].index = i;
                sp[i].wallet = wallet;
                snprintf(sp[i].base, sizeof(sp[i].base), "%s", srv.base_url);
                assert_int_equal(pthread_create(&th[i], NULL, spender_main, &sp[i]), 0);
        }
        for (int i = 0; i < SPENDERS; i++) {
                pthread_join(th[i], NULL);
                ok += sp[i].ok;
                refused += sp[i].refused;
                other += sp[i].other;
        }
        printf("64 spenders: %d ok, %d refused (exceeds_credits), %d other\n", ok, refused, other);
        assert_int_equal(other, 0);
        /* exactly as many as the money allows: never more, and no spurious refusals */
        assert_int_equal(ok, SPEND_FUNDS / SPEND_AMOUNT);
        assert_int_equal(ok + refused, SPENDERS * SPEND_TRIES);
        path = api_printf("/api/v1/ledger/accounts/%lld", (long long)wallet);
        assert_int_equal(api_call(&srv, "GET", path, op, NULL, &r), 0);
        assert_int_equal(r.status, 200);
        assert_int_equal(api_json_int(r.json, "available", -1), SPEND_FUNDS % SPEND_AMOUNT);
        assert_int_equal(api_json_int(r.json, "debits_posted", -1) +
                         api_json_int(r.json, "debits_pending", -1),
                         (json_int_t)ok * SPEND_AMOUNT);
        api_resp_free(&r);
        free(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ledger_matches_model_over_100000_operations),
                cmocka_unit_test(test_64_clients_spending_one_wallet_never_overdraw_it),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
