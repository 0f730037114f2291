/*
 * test_store_ledger.c - the ledger in the store (store_ledger.c with the
 * real migrations): top-up, hold, capture, void and expiry flows;
 * idempotent retries; linked chains all-or-nothing; the immutability
 * triggers and CHECKs; correction audit rows; totals per Tokyo day;
 * statement filters; withdrawal blockers and debt (CS-4, CS-34); 64
 * threads spending from one wallet; and a model-based test that runs a
 * seeded random sequence of operations against the store and against a
 * small reference model written here, comparing every touched balance
 * after every step.
 *
 * The model-based test replays: it prints its seed, and on a mismatch the
 * seed and step. LEDGER_SEED=<n> runs that seed only; LEDGER_STEPS=<n>
 * changes the number of steps (default 100000).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "domain/ledger.h"
#include "store/store.h"
#include "store/store_ledger.h"
#include "store/store_member.h"

#define ESCROW LEDGER_ESCROW_ID
#define FEE_REVENUE LEDGER_FEE_REVENUE_ID
#define PENALTY_SHARE LEDGER_PENALTY_SHARE_ID
#define FUNDING LEDGER_FUNDING_ID

#define T0 1767225600           /* 2026-01-01T00:00:00Z */

/* ---- fixture ---------------------------------------------------------- */

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int fx_open(void **state, const char *base)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256];
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "%s/enemane-ledger-XXXXXX", base);
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/ledger.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0) {
                fprintf(stderr, "store: %s\n", err);
                store_close(fx->st);
                rm_rf(fx->dir);
                free(fx);
                return -1;
        }
        *state = fx;
        return 0;
}

/* On disk (the durable path, as in production). */
static int setup(void **state)
{
        return fx_open(state, "/tmp");
}

/* In memory-backed tmpfs where there is one: the model test commits
 * 100,000 times and measures logic, not fsync. */
static int setup_shm(void **state)
{
        return fx_open(state, access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        store_close(fx->st);
        rm_rf(fx->dir);
        free(fx);
        return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static struct ledger_transfer T(const char *id, int64_t debit, int64_t credit, int64_t amount,
                                unsigned flags, int code)
{
        struct ledger_transfer t;

        memset(&t, 0, sizeof(t));
        snprintf(t.id, sizeof(t.id), "%s", id);
        t.debit_account_id = debit;
        t.credit_account_id = credit;
        t.amount = amount;
        t.flags = flags;
        t.code = code;
        return t;
}

static struct ledger_transfer R(const char *id, const char *pending_id, int64_t amount,
                                unsigned flags, int code)
{
        struct ledger_transfer t = T(id, 0, 0, amount, flags, code);

        snprintf(t.pending_id, sizeof(t.pending_id), "%s", pending_id);
        return t;
}

static enum ledger_result run1(struct fx *fx, struct ledger_transfer *t, int64_t now,
                               const char **field)
{
        struct store_ledger_result res = { _LEDGER_RESULT_MAX, NULL };

        assert_int_equal(store_ledger_execute(fx->st, t, 1, &res, now, NULL), 0);
        if (field)
                *field = res.field;
        return res.result;
}

static enum ledger_result exec1(struct fx *fx, struct ledger_transfer t, int64_t now)
{
        return run1(fx, &t, now, NULL);
}

static struct ledger_account A(struct fx *fx, int64_t id)
{
        struct ledger_account a;

        assert_int_equal(store_ledger_account_get(fx->st, id, &a), 0);
        return a;
}

static int64_t bal(struct fx *fx, int64_t id)
{
        struct ledger_account a = A(fx, id);

        return ledger_balance(&a);
}

static int64_t wallet_of(struct fx *fx, int64_t member)
{
        struct ledger_account a;

        assert_int_equal(store_ledger_member_account(fx->st, member, LEDGER_ACC_WALLET, &a), 0);
        return a.id;
}

static int64_t debt_of(struct fx *fx, int64_t member)
{
        struct ledger_account a;

        assert_int_equal(store_ledger_member_account(fx->st, member, LEDGER_ACC_DEBT, &a), 0);
        return a.id;
}

/* Field by field: the structs have padding, which memcmp would read. */
static bool account_eq(const struct ledger_account *a, const struct ledger_account *b)
{
        return a->id == b->id && a->code == b->code && a->member_id == b->member_id &&
               a->flags == b->flags && a->debits_posted == b->debits_posted &&
               a->credits_posted == b->credits_posted &&
               a->debits_pending == b->debits_pending &&
               a->credits_pending == b->credits_pending;
}

static bool transfer_eq(const struct ledger_transfer *a, const struct ledger_transfer *b)
{
        return strcmp(a->id, b->id) == 0 && a->debit_account_id == b->debit_account_id &&
               a->credit_account_id == b->credit_account_id && a->amount == b->amount &&
               strcmp(a->pending_id, b->pending_id) == 0 && a->flags == b->flags &&
               a->code == b->code && a->timeout_s == b->timeout_s &&
               strcmp(a->ref, b->ref) == 0 && strcmp(a->reason, b->reason) == 0 &&
               a->seq == b->seq && a->ts == b->ts && a->expires_at == b->expires_at &&
               a->pending_state == b->pending_state && a->defaulted == b->defaulted;
}

static void assert_balanced(struct fx *fx)
{
        struct store_ledger_sums s;

        assert_int_equal(store_ledger_sums(fx->st, &s), 0);
        assert_int_equal(s.debits_posted, s.credits_posted);
        assert_int_equal(s.debits_pending, s.credits_pending);
}

static int64_t sql_int(struct fx *fx, const char *sql)
{
        sqlite3 *db = store_reader(fx->st);
        sqlite3_stmt *s = NULL;
        int64_t v = -1;

        assert_non_null(db);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        if (sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
}

static void topup(struct fx *fx, const char *id, int64_t wallet, int64_t amount, int64_t now)
{
        assert_int_equal(exec1(fx, T(id, FUNDING, wallet, amount, 0, LEDGER_TOPUP), now),
                         LEDGER_OK);
}

/* ---- schema and accounts ---------------------------------------------- */

static void test_migration_creates_the_system_accounts(void **state)
{
        struct fx *fx = *state;
        static const int codes[] = { LEDGER_ACC_ESCROW, LEDGER_ACC_FEE_REVENUE,
                                     LEDGER_ACC_PENALTY_SHARE, LEDGER_ACC_FUNDING };
        struct store_ledger_sums s;
        struct ledger_account a;
        int i;

        for (i = 0; i < 4; i++) {
                a = A(fx, i + 1);
                assert_int_equal(a.code, codes[i]);
                assert_int_equal(a.member_id, 0);
                assert_int_equal(a.flags, 0);
                assert_int_equal(a.debits_posted + a.credits_posted + a.debits_pending +
                                 a.credits_pending, 0);
        }
        assert_int_equal(store_ledger_account_get(fx->st, 5, &a), -ENOENT);
        assert_int_equal(store_ledger_sums(fx->st, &s), 0);
        assert_int_equal(s.accounts, 4);
        assert_int_equal(s.transfers, 0);
        assert_int_equal(store_migrations_current(fx->st), 1);
}

static void test_member_accounts_are_created_once(void **state)
{
        struct fx *fx = *state;
        struct ledger_account w, w2, d, d2;

        assert_int_equal(store_ledger_member_account(fx->st, 7, LEDGER_ACC_WALLET, &w), 0);
        assert_int_equal(w.code, LEDGER_ACC_WALLET);
        assert_int_equal(w.member_id, 7);
        assert_int_equal(w.flags, LEDGER_ACC_DEBITS_LE_CREDITS);
        assert_int_equal(store_ledger_member_account(fx->st, 7, LEDGER_ACC_WALLET, &w2), 0);
        assert_int_equal(w2.id, w.id);
        assert_int_equal(store_ledger_member_account(fx->st, 7, LEDGER_ACC_DEBT, &d), 0);
        assert_int_equal(d.code, LEDGER_ACC_DEBT);
        assert_int_equal(d.flags, 0);
        assert_true(d.id != w.id);
        assert_int_equal(store_ledger_member_account(fx->st, 7, LEDGER_ACC_DEBT, &d2), 0);
        assert_int_equal(d2.id, d.id);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM ledger_accounts"), 6);

        assert_int_equal(store_ledger_member_account(fx->st, 7, LEDGER_ACC_ESCROW, &w), -EINVAL);
        assert_int_equal(store_ledger_member_account(fx->st, 0, LEDGER_ACC_WALLET, &w), -EINVAL);
        assert_int_equal(store_ledger_member_account(fx->st, -1, LEDGER_ACC_DEBT, &w), -EINVAL);
}

/* ---- flows -------------------------------------------------------------- */

struct collect {
        struct ledger_transfer t[64];
        int n;
};

static void collect_cb(const struct ledger_transfer *t, void *ud)
{
        struct collect *c = ud;

        if (c->n < 64)
                c->t[c->n++] = *t;
}

static void test_topup_hold_capture_and_payout(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1), host = wallet_of(fx, 2);
        struct ledger_transfer t, chain[2], got;
        struct store_ledger_result res[2];
        struct store_ledger_filter f = { w, 0, 0, -1, 0, 100 };
        struct collect c = { .n = 0 };
        struct ledger_account a;

        t = T("tu-1", FUNDING, w, 1000, 0, LEDGER_TOPUP);
        assert_int_equal(run1(fx, &t, T0, NULL), LEDGER_OK);
        assert_true(t.seq > 0);
        assert_int_equal(t.ts, T0);
        assert_int_equal(t.pending_state, LEDGER_PS_NONE);

        t = T("h-1", w, ESCROW, 600, LEDGER_PENDING, LEDGER_HOLD);
        t.timeout_s = 3600;
        snprintf(t.ref, sizeof(t.ref), "reservation:12");
        assert_int_equal(run1(fx, &t, T0 + 10, NULL), LEDGER_OK);
        assert_int_equal(t.expires_at, T0 + 10 + 3600);
        assert_int_equal(t.pending_state, LEDGER_PS_PENDING);
        a = A(fx, w);
        assert_int_equal(ledger_balance(&a), 1000);
        assert_int_equal(ledger_available(&a), 400);
        assert_int_equal(A(fx, ESCROW).credits_pending, 600);

        /* Capture in part: the rest returns to the wallet at once. */
        t = R("c-1", "h-1", 250, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(run1(fx, &t, T0 + 20, NULL), LEDGER_OK);
        assert_int_equal(t.amount, 250);
        assert_int_equal(t.debit_account_id, w);
        assert_int_equal(t.credit_account_id, ESCROW);
        assert_int_equal(t.defaulted, LEDGER_DEFAULTED_DEBIT | LEDGER_DEFAULTED_CREDIT);
        a = A(fx, w);
        assert_int_equal(ledger_balance(&a), 750);
        assert_int_equal(ledger_available(&a), 750);
        assert_int_equal(a.debits_pending, 0);
        a = A(fx, ESCROW);
        assert_int_equal(a.credits_posted, 250);
        assert_int_equal(a.credits_pending, 0);
        assert_int_equal(store_ledger_transfer_get(fx->st, "h-1", &got), 0);
        assert_int_equal(got.pending_state, LEDGER_PS_POSTED);
        assert_int_equal(got.amount, 600);
        assert_string_equal(got.ref, "reservation:12");
        assert_int_equal(store_ledger_transfer_get(fx->st, "c-1", &got), 0);
        assert_string_equal(got.pending_id, "h-1");
        assert_int_equal(got.amount, 250);

        /* CS-19: the fee reaches the host less the platform fee, together. */
        chain[0] = T("pay-1", ESCROW, host, 225, LEDGER_LINKED, LEDGER_FEE);
        chain[1] = T("pf-1", ESCROW, FEE_REVENUE, 25, 0, LEDGER_PLATFORM_FEE);
        assert_int_equal(store_ledger_execute(fx->st, chain, 2, res, T0 + 30, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_OK);
        assert_int_equal(res[1].result, LEDGER_OK);
        assert_int_equal(chain[1].seq, chain[0].seq + 1);
        a = A(fx, host);
        assert_int_equal(ledger_balance(&a), 225);
        a = A(fx, FEE_REVENUE);
        assert_int_equal(ledger_balance(&a), 25);
        a = A(fx, ESCROW);
        assert_int_equal(ledger_balance(&a), 0);
        assert_balanced(fx);

        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 3);
        assert_string_equal(c.t[0].id, "tu-1");
        assert_string_equal(c.t[1].id, "h-1");
        assert_string_equal(c.t[2].id, "c-1");
        assert_true(c.t[0].seq < c.t[1].seq && c.t[1].seq < c.t[2].seq);
}

static void test_void_and_exactly_once(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1);
        struct ledger_transfer got;
        struct ledger_account a;

        topup(fx, "tu", w, 100, T0);
        assert_int_equal(exec1(fx, T("h1", w, ESCROW, 70, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        assert_int_equal(exec1(fx, R("v1", "h1", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE), T0),
                         LEDGER_OK);
        a = A(fx, w);
        assert_int_equal(ledger_available(&a), 100);
        assert_int_equal(a.debits_pending, 0);
        assert_int_equal(store_ledger_transfer_get(fx->st, "h1", &got), 0);
        assert_int_equal(got.pending_state, LEDGER_PS_VOIDED);
        /* A voided hold is never posted, nor voided twice. */
        assert_int_equal(exec1(fx, R("c1", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_PENDING_ALREADY_VOIDED);
        assert_int_equal(exec1(fx, R("v2", "h1", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE), T0),
                         LEDGER_PENDING_ALREADY_VOIDED);

        assert_int_equal(exec1(fx, T("h2", w, ESCROW, 30, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        assert_int_equal(exec1(fx, R("c2", "h2", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_OK);
        assert_int_equal(exec1(fx, R("c3", "h2", 5, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_PENDING_ALREADY_POSTED);
        assert_int_equal(exec1(fx, R("v3", "h2", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE), T0),
                         LEDGER_PENDING_ALREADY_POSTED);
        a = A(fx, w);
        assert_int_equal(ledger_balance(&a), 70);

        /* The other refusals of a post/void, through the store. */
        assert_int_equal(exec1(fx, R("c4", "nope", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_PENDING_NOT_FOUND);
        assert_int_equal(exec1(fx, R("c5", "tu", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_PENDING_NOT_PENDING);
        assert_int_equal(exec1(fx, T("h3", w, ESCROW, 10, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        got = R("c6", "h3", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        got.credit_account_id = FEE_REVENUE;
        assert_int_equal(exec1(fx, got, T0), LEDGER_PENDING_ACCOUNTS_DIFFER);
        assert_int_equal(exec1(fx, R("c7", "h3", 11, LEDGER_POST_PENDING, LEDGER_CAPTURE), T0),
                         LEDGER_AMOUNT_EXCEEDS_PENDING);
        assert_int_equal(exec1(fx, T("x1", 999, ESCROW, 10, 0, LEDGER_FEE), T0),
                         LEDGER_ACCOUNT_NOT_FOUND);
        assert_int_equal(exec1(fx, T("x2", w, ESCROW, 1000, 0, LEDGER_FEE), T0),
                         LEDGER_EXCEEDS_CREDITS);
        assert_int_equal(exec1(fx, T("bad id", w, ESCROW, 1, 0, LEDGER_FEE), T0),
                         LEDGER_ID_INVALID);
        /* None of the refused ones left a row. */
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM ledger_transfers"), 6);
        assert_balanced(fx);
}

static void test_expiry_sweep(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1);
        struct ledger_transfer t, got;
        char longid[LEDGER_ID_MAX], want[LEDGER_ID_MAX];
        struct ledger_account a;
        int count = -1;

        topup(fx, "tu", w, 1000, T0);
        t = T("h1", w, ESCROW, 100, LEDGER_PENDING, LEDGER_HOLD);
        t.timeout_s = 60;
        assert_int_equal(run1(fx, &t, T0, NULL), LEDGER_OK);
        assert_int_equal(t.expires_at, T0 + 60);

        assert_int_equal(store_ledger_expire(fx->st, T0 + 59, 100, &count), 0);
        assert_int_equal(count, 0);
        /* Due but not swept yet: already refused. */
        assert_int_equal(exec1(fx, R("c1", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE),
                               T0 + 60), LEDGER_PENDING_EXPIRED);
        assert_int_equal(exec1(fx, R("v1", "h1", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE),
                               T0 + 60), LEDGER_PENDING_EXPIRED);
        assert_int_equal(A(fx, w).debits_pending, 100);

        assert_int_equal(store_ledger_expire(fx->st, T0 + 60, 100, &count), 0);
        assert_int_equal(count, 1);
        a = A(fx, w);
        assert_int_equal(a.debits_pending, 0);
        assert_int_equal(ledger_available(&a), 1000);
        assert_int_equal(store_ledger_transfer_get(fx->st, "h1", &got), 0);
        assert_int_equal(got.pending_state, LEDGER_PS_EXPIRED);
        assert_int_equal(store_ledger_transfer_get(fx->st, "expiry:h1", &got), 0);
        assert_int_equal(got.code, LEDGER_EXPIRY);
        assert_int_equal(got.flags, LEDGER_VOID_PENDING);
        assert_int_equal(got.amount, 100);
        assert_int_equal(got.ts, T0 + 60);
        assert_string_equal(got.pending_id, "h1");
        assert_int_equal(store_ledger_expire(fx->st, T0 + 600, 100, &count), 0);
        assert_int_equal(count, 0);
        assert_int_equal(exec1(fx, R("c2", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE),
                               T0 + 700), LEDGER_PENDING_EXPIRED);

        /* A hold id too long for "expiry:<id>" gets "expiry:#<seq>". */
        memset(longid, 'L', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';
        t = T(longid, w, ESCROW, 10, LEDGER_PENDING, LEDGER_HOLD);
        t.timeout_s = 1;
        assert_int_equal(run1(fx, &t, T0 + 1000, NULL), LEDGER_OK);
        /* And `max` bounds one sweep. */
        for (int i = 0; i < 3; i++) {
                char id[16];

                snprintf(id, sizeof(id), "hm%d", i);
                t = T(id, w, ESCROW, 10, LEDGER_PENDING, LEDGER_HOLD);
                t.timeout_s = 2 + i;
                assert_int_equal(run1(fx, &t, T0 + 1000, NULL), LEDGER_OK);
        }
        assert_int_equal(store_ledger_expire(fx->st, T0 + 2000, 2, &count), 0);
        assert_int_equal(count, 2);
        assert_int_equal(store_ledger_transfer_get(fx->st, longid, &got), 0);
        snprintf(want, sizeof(want), "expiry:#%" PRId64, got.seq);
        assert_int_equal(store_ledger_transfer_get(fx->st, want, &got), 0);
        assert_int_equal(store_ledger_expire(fx->st, T0 + 2000, 2, &count), 0);
        assert_int_equal(count, 2);
        assert_int_equal(store_ledger_expire(fx->st, T0 + 2000, 2, &count), 0);
        assert_int_equal(count, 0);
        assert_int_equal(A(fx, w).debits_pending, 0);
        assert_int_equal(store_ledger_expire(fx->st, T0, 0, &count), -EINVAL);
        assert_balanced(fx);
}

/* ---- idempotency -------------------------------------------------------- */

static void test_retry_returns_the_original_without_second_effect(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1);
        struct ledger_transfer t, orig;
        const char *field;

        orig = T("tu-7", FUNDING, w, 500, 0, LEDGER_TOPUP);
        snprintf(orig.ref, sizeof(orig.ref), "provider:abc");
        assert_int_equal(run1(fx, &orig, T0, NULL), LEDGER_OK);

        t = T("tu-7", FUNDING, w, 500, 0, LEDGER_TOPUP);
        snprintf(t.ref, sizeof(t.ref), "provider:abc");
        assert_int_equal(run1(fx, &t, T0 + 99, &field), LEDGER_EXISTS);
        assert_null(field);
        assert_int_equal(t.seq, orig.seq);
        assert_int_equal(t.ts, T0);             /* the original's */
        assert_int_equal(A(fx, w).credits_posted, 500);

        t.amount = 501;
        assert_int_equal(run1(fx, &t, T0, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "amount");
        t = orig;
        t.ref[0] = '\0';
        assert_int_equal(run1(fx, &t, T0, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "ref");
        t = orig;
        t.credit_account_id = ESCROW;
        assert_int_equal(run1(fx, &t, T0, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "credit_account_id");
        assert_int_equal(A(fx, w).credits_posted, 500);

        /* A post retried after its hold resolved: the original, not
         * pending_already_posted; and the amount the request left 0 still
         * compares as 0. */
        assert_int_equal(exec1(fx, T("h", w, ESCROW, 200, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        orig = R("c", "h", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(run1(fx, &orig, T0, NULL), LEDGER_OK);
        t = R("c", "h", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(run1(fx, &t, T0 + 5, NULL), LEDGER_EXISTS);
        assert_int_equal(t.seq, orig.seq);
        assert_int_equal(t.amount, 200);
        t = R("c", "h", 200, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(run1(fx, &t, T0 + 5, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "amount");
        /* The hold itself retried: still the one hold. */
        t = T("h", w, ESCROW, 200, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(run1(fx, &t, T0 + 5, NULL), LEDGER_EXISTS);
        assert_int_equal(t.pending_state, LEDGER_PS_POSTED);

        /* A refund retried (the bug other wallets had: paid twice). */
        assert_int_equal(exec1(fx, T("rf", ESCROW, w, 50, 0, LEDGER_REFUND), T0), LEDGER_OK);
        assert_int_equal(exec1(fx, T("rf", ESCROW, w, 50, 0, LEDGER_REFUND), T0 + 1),
                         LEDGER_EXISTS);
        assert_int_equal(exec1(fx, T("rf", ESCROW, w, 50, 0, LEDGER_REFUND), T0 + 2),
                         LEDGER_EXISTS);
        assert_int_equal(bal(fx, w), 500 - 200 + 50);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM ledger_transfers"), 4);
        assert_balanced(fx);
}

/* ---- chains --------------------------------------------------------------- */

static void assert_no_transfer(struct fx *fx, const char *id)
{
        struct ledger_transfer got;

        assert_int_equal(store_ledger_transfer_get(fx->st, id, &got), -ENOENT);
}

static void test_linked_chain_is_all_or_nothing(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1), host = wallet_of(fx, 2);
        struct ledger_transfer t[4], req[4];
        struct store_ledger_result res[LEDGER_CHAIN_MAX + 1];
        struct ledger_account w0, e0, h0, w1, e1, h1;
        struct ledger_transfer big[LEDGER_CHAIN_MAX + 1];

        topup(fx, "tu", w, 100, T0);
        w0 = A(fx, w);
        e0 = A(fx, ESCROW);
        h0 = A(fx, host);

        /* The middle one fails: the first is rolled back, the third never
         * runs; only the failing one says why. */
        t[0] = T("a", w, ESCROW, 50, LEDGER_LINKED, LEDGER_FEE);
        t[1] = T("b", w, ESCROW, 60, LEDGER_LINKED, LEDGER_FEE);
        t[2] = T("c", ESCROW, host, 10, 0, LEDGER_FEE);
        memcpy(req, t, sizeof(t));
        assert_int_equal(store_ledger_execute(fx->st, t, 3, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_LINKED_EVENT_FAILED);
        assert_int_equal(res[1].result, LEDGER_EXCEEDS_CREDITS);
        assert_int_equal(res[2].result, LEDGER_LINKED_EVENT_FAILED);
        for (int i = 0; i < 3; i++)                     /* requests as given */
                assert_true(transfer_eq(&t[i], &req[i]));
        w1 = A(fx, w);
        e1 = A(fx, ESCROW);
        h1 = A(fx, host);
        assert_true(account_eq(&w0, &w1));
        assert_true(account_eq(&e0, &e1));
        assert_true(account_eq(&h0, &h1));
        assert_no_transfer(fx, "a");
        assert_no_transfer(fx, "b");
        assert_no_transfer(fx, "c");

        /* A chain sees its own earlier transfers: two holds on one wallet,
         * and a hold posted inside the chain that made it. */
        t[0] = T("h1", w, ESCROW, 60, LEDGER_PENDING | LEDGER_LINKED, LEDGER_HOLD);
        t[1] = T("h2", w, ESCROW, 50, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(store_ledger_execute(fx->st, t, 2, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_LINKED_EVENT_FAILED);
        assert_int_equal(res[1].result, LEDGER_EXCEEDS_CREDITS);
        t[0] = T("h1", w, ESCROW, 60, LEDGER_PENDING | LEDGER_LINKED, LEDGER_HOLD);
        t[1] = R("c1", "h1", 40, LEDGER_POST_PENDING | LEDGER_LINKED, LEDGER_CAPTURE);
        t[2] = T("p1", ESCROW, host, 36, LEDGER_LINKED, LEDGER_FEE);
        t[3] = T("f1", ESCROW, FEE_REVENUE, 4, 0, LEDGER_PLATFORM_FEE);
        memcpy(req, t, sizeof(t));
        assert_int_equal(store_ledger_execute(fx->st, t, 4, res, T0, NULL), 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(res[i].result, LEDGER_OK);
        assert_int_equal(bal(fx, w), 60);
        assert_int_equal(bal(fx, host), 36);
        assert_int_equal(bal(fx, ESCROW), 0);

        /* The whole chain retried: every transfer answers exists. */
        memcpy(t, req, sizeof(t));
        assert_int_equal(store_ledger_execute(fx->st, t, 4, res, T0 + 1, NULL), 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(res[i].result, LEDGER_EXISTS);
        assert_int_equal(bal(fx, host), 36);

        /* The call ends inside a chain: nothing of that chain runs; an
         * independent transfer before it does. */
        t[0] = T("solo", FUNDING, w, 5, 0, LEDGER_TOPUP);
        t[1] = T("o1", FUNDING, w, 5, LEDGER_LINKED, LEDGER_TOPUP);
        t[2] = T("o2", FUNDING, w, 5, LEDGER_LINKED, LEDGER_TOPUP);
        assert_int_equal(store_ledger_execute(fx->st, t, 3, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_OK);
        assert_int_equal(res[1].result, LEDGER_LINKED_CHAIN_OPEN);
        assert_int_equal(res[2].result, LEDGER_LINKED_CHAIN_OPEN);
        assert_no_transfer(fx, "o1");
        assert_no_transfer(fx, "o2");

        /* Unlinked transfers of one call stand alone. */
        t[0] = T("i1", FUNDING, w, 5, 0, LEDGER_TOPUP);
        t[1] = T("i2", w, ESCROW, 100000, 0, LEDGER_FEE);
        t[2] = T("i3", FUNDING, w, 5, 0, LEDGER_TOPUP);
        assert_int_equal(store_ledger_execute(fx->st, t, 3, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_OK);
        assert_int_equal(res[1].result, LEDGER_EXCEEDS_CREDITS);
        assert_int_equal(res[2].result, LEDGER_OK);

        /* A chain member that exists with other fields fails the chain,
         * naming the field. */
        t[0] = T("n1", FUNDING, w, 5, LEDGER_LINKED, LEDGER_TOPUP);
        t[1] = T("i1", FUNDING, w, 6, 0, LEDGER_TOPUP);
        assert_int_equal(store_ledger_execute(fx->st, t, 2, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_LINKED_EVENT_FAILED);
        assert_int_equal(res[1].result, LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(res[1].field, "amount");
        assert_no_transfer(fx, "n1");

        /* Bounds of a call. */
        memset(big, 0, sizeof(big));
        assert_int_equal(store_ledger_execute(fx->st, big, 0, res, T0, NULL), -EINVAL);
        assert_int_equal(store_ledger_execute(fx->st, big, LEDGER_CHAIN_MAX + 1, res, T0, NULL),
                         -EINVAL);
        assert_balanced(fx);
}

/* ---- the schema's own net ------------------------------------------------- */

static int raw_exec(sqlite3 *db, const char *sql)
{
        return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static void test_rows_are_immutable_and_checks_hold(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1);
        sqlite3 *db = NULL;
        char sql[256];

        topup(fx, "tu", w, 100, T0);
        assert_int_equal(exec1(fx, T("h", w, ESCROW, 40, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        assert_int_equal(exec1(fx, R("v", "h", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE), T0),
                         LEDGER_OK);
        assert_int_equal(exec1(fx, T("h2", w, ESCROW, 40, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);

        assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET amount = 1 WHERE id = 'tu'"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET ref = 'x'"),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "DELETE FROM ledger_transfers WHERE id = 'tu'"),
                         SQLITE_CONSTRAINT);
        /* pending_state: only a pending hold, only to a final state. */
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET pending_state = 'pending'"
                                      " WHERE id = 'h'"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET pending_state = 'posted'"
                                      " WHERE id = 'h'"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET pending_state = 'none'"
                                      " WHERE id = 'h2'"), SQLITE_CONSTRAINT);
        /* Accounts: never deleted, identity fixed, counters checked. */
        assert_int_equal(raw_exec(db, "DELETE FROM ledger_accounts WHERE id = 1"),
                         SQLITE_CONSTRAINT);
        snprintf(sql, sizeof(sql), "UPDATE ledger_accounts SET flags = 0 WHERE id = %" PRId64, w);
        assert_int_equal(raw_exec(db, sql), SQLITE_CONSTRAINT);
        snprintf(sql, sizeof(sql),
                 "UPDATE ledger_accounts SET debits_posted = 61 WHERE id = %" PRId64, w);
        assert_int_equal(raw_exec(db, sql), SQLITE_CONSTRAINT);         /* 61 + 40 > 100 */
        assert_int_equal(raw_exec(db, "UPDATE ledger_accounts SET credits_pending = -1"
                                      " WHERE id = 1"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "INSERT INTO ledger_accounts (code, member_id, flags)"
                                      " VALUES ('wallet', 99, 0)"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "INSERT INTO ledger_transfers (id, debit_account_id,"
                                      " credit_account_id, amount, flags, code, ts)"
                                      " VALUES ('z', 1, 1, 5, 0, 'fee', 0)"), SQLITE_CONSTRAINT);
        assert_int_equal(raw_exec(db, "INSERT INTO ledger_transfers (id, debit_account_id,"
                                      " credit_account_id, amount, flags, code, ts)"
                                      " VALUES ('z', 1, 2, 0, 0, 'fee', 0)"), SQLITE_CONSTRAINT);
        /* The one update that is allowed. */
        assert_int_equal(raw_exec(db, "UPDATE ledger_transfers SET pending_state = 'voided'"
                                      " WHERE id = 'h2'"), SQLITE_OK);
        sqlite3_close(db);
}

/* ---- audit, totals, statements -------------------------------------------- */

static void test_correction_is_audited_per_member(void **state)
{
        struct fx *fx = *state;
        int64_t w1 = wallet_of(fx, 11), w2 = wallet_of(fx, 12);
        struct store_actor op = { 1, "operator", "127.0.0.1", "req-1" };
        struct store_ledger_result res;
        struct ledger_transfer t;

        topup(fx, "tu", w1, 100, T0);
        t = T("fix-1", w1, w2, 30, 0, LEDGER_CORRECTION);
        assert_int_equal(store_ledger_execute(fx->st, &t, 1, &res, T0, &op), 0);
        assert_int_equal(res.result, LEDGER_REASON_REQUIRED);
        snprintf(t.reason, sizeof(t.reason), "top-up booked to the wrong member");
        assert_int_equal(store_ledger_execute(fx->st, &t, 1, &res, T0, &op), 0);
        assert_int_equal(res.result, LEDGER_OK);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit_log"
                                     " WHERE action = 'ledger_correction' AND items = 'fix-1'"
                                     "   AND actor_id = 1 AND subject_id IN (11, 12)"), 2);
        /* A retry writes no second audit row; a system correction into
         * escrow touches one member. */
        assert_int_equal(store_ledger_execute(fx->st, &t, 1, &res, T0, &op), 0);
        assert_int_equal(res.result, LEDGER_EXISTS);
        t = T("fix-2", w2, ESCROW, 5, 0, LEDGER_CORRECTION);
        snprintf(t.reason, sizeof(t.reason), "r");
        assert_int_equal(store_ledger_execute(fx->st, &t, 1, &res, T0, &op), 0);
        t = T("fix-3", w2, ESCROW, 5, 0, LEDGER_CORRECTION);
        snprintf(t.reason, sizeof(t.reason), "r");
        assert_int_equal(store_ledger_execute(fx->st, &t, 1, &res, T0, NULL), 0);
        assert_int_equal(res.result, LEDGER_OK);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM audit_log"
                                     " WHERE action = 'ledger_correction'"), 3);
        assert_int_equal(bal(fx, w2), 20);
}

struct totals {
        struct store_ledger_totals_row r[32];
        int n;
};

static void totals_cb(const struct store_ledger_totals_row *r, void *ud)
{
        struct totals *t = ud;

        if (t->n < 32)
                t->r[t->n++] = *r;
}

static void test_totals_by_tokyo_day_count_posted_money_only(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1);
        /* 2026-01-01T14:59:59Z is 23:59:59 on Jan 1 in Tokyo; one second
         * later it is Jan 2 there. */
        const int64_t last_jan1 = T0 + 15 * 3600 - 1, first_jan2 = T0 + 15 * 3600;
        struct totals t = { .n = 0 };

        topup(fx, "tu1", w, 1000, last_jan1);
        topup(fx, "tu2", w, 500, first_jan2);
        assert_int_equal(exec1(fx, T("h1", w, ESCROW, 300, LEDGER_PENDING, LEDGER_HOLD),
                               first_jan2), LEDGER_OK);
        assert_int_equal(exec1(fx, R("c1", "h1", 120, LEDGER_POST_PENDING, LEDGER_CAPTURE),
                               first_jan2 + 5), LEDGER_OK);
        assert_int_equal(exec1(fx, T("h2", w, ESCROW, 50, LEDGER_PENDING, LEDGER_HOLD),
                               first_jan2), LEDGER_OK);
        assert_int_equal(exec1(fx, R("v2", "h2", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE),
                               first_jan2), LEDGER_OK);

        assert_int_equal(store_ledger_totals(fx->st, 0, 0, totals_cb, &t), 3);
        assert_string_equal(t.r[0].day, "2026-01-01");
        assert_int_equal(t.r[0].code, LEDGER_TOPUP);
        assert_int_equal(t.r[0].count, 1);
        assert_int_equal(t.r[0].amount, 1000);
        /* Jan 2: the capture (120, not the 300 hold) and the top-up; the
         * hold, the voided hold and the void itself are not there. */
        assert_string_equal(t.r[1].day, "2026-01-02");
        assert_int_equal(t.r[1].code, LEDGER_CAPTURE);
        assert_int_equal(t.r[1].count, 1);
        assert_int_equal(t.r[1].amount, 120);
        assert_string_equal(t.r[2].day, "2026-01-02");
        assert_int_equal(t.r[2].code, LEDGER_TOPUP);
        assert_int_equal(t.r[2].amount, 500);

        /* [from, to) bounds in UTC seconds. */
        t.n = 0;
        assert_int_equal(store_ledger_totals(fx->st, first_jan2, 0, totals_cb, &t), 2);
        t.n = 0;
        assert_int_equal(store_ledger_totals(fx->st, 0, first_jan2, totals_cb, &t), 1);
        t.n = 0;
        assert_int_equal(store_ledger_totals(fx->st, last_jan1 + 1, first_jan2, totals_cb, &t),
                         0);
}

static void test_statement_filters_and_paging(void **state)
{
        struct fx *fx = *state;
        int64_t w = wallet_of(fx, 1), other = wallet_of(fx, 2);
        struct store_ledger_filter f;
        struct collect c;
        char id[16];
        int i;

        for (i = 0; i < 10; i++) {
                snprintf(id, sizeof(id), "tu%d", i);
                topup(fx, id, w, 10, T0 + i * 100);
        }
        topup(fx, "other", other, 10, T0);
        assert_int_equal(exec1(fx, T("fee", w, other, 5, 0, LEDGER_FEE), T0 + 1000), LEDGER_OK);

        f = (struct store_ledger_filter){ w, 0, 0, -1, 0, 100 };
        c.n = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 11);
        assert_string_equal(c.t[10].id, "fee");        /* debit side too */
        f.account_id = other;
        c.n = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 2);

        /* Keyset paging, 4 at a time. */
        f = (struct store_ledger_filter){ w, 0, 0, -1, 0, 4 };
        int total = 0, pages = 0;
        int64_t last = 0;

        for (;;) {
                int n;

                c.n = 0;
                f.after_seq = last;
                n = store_ledger_transfers(fx->st, &f, collect_cb, &c);
                assert_true(n >= 0);
                if (n == 0)
                        break;
                for (i = 0; i < n; i++)
                        assert_true(c.t[i].seq > last && (i == 0 || c.t[i].seq > c.t[i - 1].seq));
                last = c.t[n - 1].seq;
                total += n;
                pages++;
        }
        assert_int_equal(total, 11);
        assert_int_equal(pages, 3);

        /* Date range [from, to) and code. */
        f = (struct store_ledger_filter){ w, T0 + 200, T0 + 500, -1, 0, 100 };
        c.n = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 3);
        assert_string_equal(c.t[0].id, "tu2");
        assert_string_equal(c.t[2].id, "tu4");
        f = (struct store_ledger_filter){ w, 0, 0, LEDGER_FEE, 0, 100 };
        c.n = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 1);
        /* Every transfer (account 0). */
        f = (struct store_ledger_filter){ 0, 0, 0, -1, 0, 100 };
        c.n = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), 12);

        f.limit = 0;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), -EINVAL);
        f.limit = 1001;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), -EINVAL);
        f.limit = 10;
        f.code = _LEDGER_TRANSFER_CODE_MAX;
        assert_int_equal(store_ledger_transfers(fx->st, &f, collect_cb, &c), -EINVAL);
}

/* ---- CS-4 / CS-34 --------------------------------------------------------- */

static void test_CS_34_penalty_beyond_the_wallet_is_recorded_as_debt(void **state)
{
        struct fx *fx = *state;
        int64_t user = wallet_of(fx, 21), host = wallet_of(fx, 22), debt = debt_of(fx, 21);
        struct ledger_transfer t[2];
        struct store_ledger_result res[2];
        int64_t held = -1, owed = -1;

        topup(fx, "tu", user, 100, T0);
        assert_int_equal(store_ledger_member_blockers(fx->st, 21, &held, &owed), 0);
        assert_int_equal(held, 0);
        assert_int_equal(owed, 0);

        /* A penalty of 150: 100 from the wallet, 50 recorded as debt. */
        t[0] = T("pen-1", user, host, 100, LEDGER_LINKED, LEDGER_PENALTY);
        t[1] = T("pen-1-debt", debt, host, 50, 0, LEDGER_PENALTY);
        assert_int_equal(store_ledger_execute(fx->st, t, 2, res, T0, NULL), 0);
        assert_int_equal(res[0].result, LEDGER_OK);
        assert_int_equal(res[1].result, LEDGER_OK);
        assert_int_equal(bal(fx, host), 150);
        assert_int_equal(store_ledger_member_blockers(fx->st, 21, &held, &owed), 0);
        assert_int_equal(owed, 50);

        /* CS-4: a hold blocks withdrawal as well. */
        topup(fx, "tu2", user, 80, T0);
        assert_int_equal(exec1(fx, T("h", user, ESCROW, 30, LEDGER_PENDING, LEDGER_HOLD), T0),
                         LEDGER_OK);
        assert_int_equal(store_ledger_member_blockers(fx->st, 21, &held, &owed), 0);
        assert_int_equal(held, 30);
        assert_int_equal(owed, 50);

        /* Paying the debt back from the wallet clears it. */
        assert_int_equal(exec1(fx, T("debt-pay", user, debt, 50, 0, LEDGER_PENALTY), T0),
                         LEDGER_OK);
        assert_int_equal(store_ledger_member_blockers(fx->st, 21, &held, &owed), 0);
        assert_int_equal(owed, 0);
        /* A member without ledger accounts has nothing. */
        assert_int_equal(store_ledger_member_blockers(fx->st, 999, &held, &owed), 0);
        assert_int_equal(held, 0);
        assert_int_equal(owed, 0);
        assert_balanced(fx);
}

/* ---- concurrency ---------------------------------------------------------- */

#define SPENDERS 64

struct spender {
        struct fx *fx;
        int64_t wallet;
        int index;
        int64_t amount;
        int64_t spent;
        int pairs;
        int errors;
        bool refused;
};

static void *spender_main(void *arg)
{
        struct spender *s = arg;
        struct store_ledger_result res;
        struct ledger_transfer t;
        char id[32], hid[32];

        for (int i = 0; !s->refused; i++) {
                snprintf(hid, sizeof(hid), "h%d-%d", s->index, i);
                t = T(hid, s->wallet, ESCROW, s->amount, LEDGER_PENDING, LEDGER_HOLD);
                if (store_ledger_execute(s->fx->st, &t, 1, &res, T0, NULL) < 0) {
                        s->errors++;
                        break;
                }
                if (res.result == LEDGER_EXCEEDS_CREDITS) {
                        s->refused = true;
                        break;
                }
                if (res.result != LEDGER_OK) {
                        s->errors++;
                        break;
                }
                snprintf(id, sizeof(id), "c%d-%d", s->index, i);
                t = R(id, hid, 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
                if (store_ledger_execute(s->fx->st, &t, 1, &res, T0, NULL) < 0 ||
                    res.result != LEDGER_OK) {
                        s->errors++;
                        break;
                }
                s->spent += s->amount;
                s->pairs++;
        }
        return NULL;
}

static double mono_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 64 callers hold-and-capture from one wallet at once until it refuses
 * them: it never goes below zero, and the final balance is exactly the
 * top-up less what was captured. */
static void test_64_concurrent_spenders_never_overdraw_one_wallet(void **state)
{
        struct fx *fx = *state;
        const int64_t funded = 12000;
        int64_t w = wallet_of(fx, 1), spent = 0, min_amount = INT64_MAX;
        struct spender s[SPENDERS];
        pthread_t th[SPENDERS];
        struct store_commit_stats c0, c1;
        struct ledger_account a;
        int pairs = 0, i;
        double t0, dt;

        topup(fx, "tu", w, funded, T0);
        store_commit_stats(fx->st, &c0);
        t0 = mono_s();
        for (i = 0; i < SPENDERS; i++) {
                s[i] = (struct spender){ fx, w, i, 1 + i % 7, 0, 0, 0, false };
                assert_int_equal(pthread_create(&th[i], NULL, spender_main, &s[i]), 0);
        }
        for (i = 0; i < SPENDERS; i++)
                pthread_join(th[i], NULL);
        dt = mono_s() - t0;
        store_commit_stats(fx->st, &c1);

        for (i = 0; i < SPENDERS; i++) {
                assert_int_equal(s[i].errors, 0);
                assert_true(s[i].refused);
                spent += s[i].spent;
                pairs += s[i].pairs;
                if (s[i].amount < min_amount)
                        min_amount = s[i].amount;
        }
        a = A(fx, w);
        assert_int_equal(a.debits_pending, 0);
        assert_int_equal(ledger_balance(&a), funded - spent);
        assert_true(ledger_balance(&a) >= 0);
        /* Available only ever fell, and every spender was refused at some
         * point: what is left is less than the smallest amount. */
        assert_true(ledger_balance(&a) < min_amount);
        assert_int_equal(A(fx, ESCROW).credits_posted, spent);
        assert_balanced(fx);
        print_message("ledger: %d threads, %d hold+capture pairs (%d transfers) in %.2f s ="
                      " %.0f transfers/s, %.1f jobs per commit\n",
                      SPENDERS, pairs, 2 * pairs, dt, 2 * pairs / dt,
                      (double)(c1.jobs - c0.jobs) / (double)(c1.batches - c0.batches));
}

/* ---- model-based ---------------------------------------------------------- */

/*
 * The reference model: the four counters of every account, and every
 * written transfer by id (the request as given, what it became, and for a
 * hold its state and expiry). It knows the rules independently of
 * domain/ledger.c, in their plainest form: a wallet may not have debits
 * (posted + pending) above its posted credits; a hold resolves once and
 * not at or after its expiry; a post takes 0 = all, or at most the hold; a
 * void names 0 or the hold's amount; a chain commits all or nothing.
 */
#define M_ACCOUNTS 64
#define M_MEMBERS 8
#define M_RING 512
#define M_ID 32
#define M_EXPIRE_MAX 10000

struct m_acct {
        int64_t dp, cp, dq, cq;
        bool wallet;
        bool exists;
};

struct m_rec {
        /* The request as given. */
        char id[M_ID];
        char pending_id[M_ID];
        char ref[M_ID];
        int64_t req_debit, req_credit, req_amount, timeout_s;
        unsigned flags;
        int code;
        /* As written. */
        int64_t debit, credit, amount;
        int64_t seq;
        int64_t expires_at;
        int state;                      /* holds */
        bool hold;
};

struct model {
        struct m_acct acct[M_ACCOUNTS];
        struct m_rec *rec;
        size_t nrec, caprec;
        int32_t *hash;                  /* index into rec, -1 empty */
        size_t hcap;
        size_t *pending;                /* rec indexes of holds, maybe resolved */
        size_t npending, cappending;
        /* To undo a chain that fails. */
        struct m_acct saved_acct[M_ACCOUNTS];
        struct { size_t rec; int state; } undo[LEDGER_CHAIN_MAX];
        int nundo;
        size_t saved_nrec;
};

static uint64_t m_rng_state;

static uint64_t m_rng(void)
{
        /* xorshift64* */
        m_rng_state ^= m_rng_state >> 12;
        m_rng_state ^= m_rng_state << 25;
        m_rng_state ^= m_rng_state >> 27;
        return m_rng_state * 2685821657736338717ULL;
}

static int64_t m_between(int64_t lo, int64_t hi)
{
        return lo + (int64_t)(m_rng() % (uint64_t)(hi - lo + 1));
}

static bool m_chance(int percent)
{
        return (int)(m_rng() % 100) < percent;
}

static uint64_t m_hash_str(const char *s)
{
        uint64_t h = 1469598103934665603ULL;    /* FNV-1a */

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static struct m_rec *m_find(struct model *m, const char *id)
{
        size_t i = m_hash_str(id) & (m->hcap - 1);

        while (m->hash[i] >= 0) {
                if (strcmp(m->rec[m->hash[i]].id, id) == 0)
                        return &m->rec[m->hash[i]];
                i = (i + 1) & (m->hcap - 1);
        }
        return NULL;
}

static void m_hash_put(struct model *m, size_t idx)
{
        size_t i = m_hash_str(m->rec[idx].id) & (m->hcap - 1);

        while (m->hash[i] >= 0)
                i = (i + 1) & (m->hcap - 1);
        m->hash[i] = (int32_t)idx;
}

/* Linear probing delete: empty the slot, then re-insert the rest of its
 * cluster so that no lookup stops early at the hole. */
static void m_hash_del(struct model *m, size_t idx)
{
        size_t i = m_hash_str(m->rec[idx].id) & (m->hcap - 1), j;

        while (m->hash[i] != (int32_t)idx)
                i = (i + 1) & (m->hcap - 1);
        m->hash[i] = -1;
        for (j = (i + 1) & (m->hcap - 1); m->hash[j] >= 0; j = (j + 1) & (m->hcap - 1)) {
                int32_t v = m->hash[j];

                m->hash[j] = -1;
                m_hash_put(m, (size_t)v);
        }
}

static size_t m_add(struct model *m, const struct m_rec *r)
{
        if (m->nrec == m->caprec) {
                m->caprec = m->caprec ? m->caprec * 2 : 4096;
                m->rec = realloc(m->rec, m->caprec * sizeof(*m->rec));
                assert_non_null(m->rec);
        }
        assert_true(m->nrec * 2 < m->hcap);
        m->rec[m->nrec] = *r;
        m_hash_put(m, m->nrec);
        return m->nrec++;
}

static void m_pending_add(struct model *m, size_t idx)
{
        if (m->npending == m->cappending) {
                m->cappending = m->cappending ? m->cappending * 2 : 1024;
                m->pending = realloc(m->pending, m->cappending * sizeof(*m->pending));
                assert_non_null(m->pending);
        }
        m->pending[m->npending++] = idx;
}

static const char *m_differs(const struct m_rec *g, const struct ledger_transfer *t)
{
        if (t->debit_account_id != g->req_debit)
                return "debit_account_id";
        if (t->credit_account_id != g->req_credit)
                return "credit_account_id";
        if (t->amount != g->req_amount)
                return "amount";
        if (strcmp(t->pending_id, g->pending_id) != 0)
                return "pending_id";
        if (t->flags != g->flags)
                return "flags";
        if (t->code != g->code)
                return "code";
        if (t->timeout_s != g->timeout_s)
                return "timeout_s";
        if (strcmp(t->ref, g->ref) != 0)
                return "ref";
        return NULL;
}

/* The model's answer for one transfer at `now`; applies it when OK. */
static enum ledger_result m_exec(struct model *m, const struct ledger_transfer *t, int64_t now,
                                 const char **field)
{
        bool post = t->flags & LEDGER_POST_PENDING, vd = t->flags & LEDGER_VOID_PENDING;
        struct m_rec *old, r;
        struct m_acct *d, *c;
        size_t idx;

        *field = NULL;
        if (!post && !vd && t->amount == 0)
                return LEDGER_AMOUNT_INVALID;
        old = m_find(m, t->id);
        if (old) {
                *field = m_differs(old, t);
                return *field ? LEDGER_EXISTS_DIFFERENT : LEDGER_EXISTS;
        }
        memset(&r, 0, sizeof(r));
        snprintf(r.id, sizeof(r.id), "%s", t->id);
        snprintf(r.pending_id, sizeof(r.pending_id), "%s", t->pending_id);
        snprintf(r.ref, sizeof(r.ref), "%s", t->ref);
        r.req_debit = t->debit_account_id;
        r.req_credit = t->credit_account_id;
        r.req_amount = t->amount;
        r.timeout_s = t->timeout_s;
        r.flags = t->flags;
        r.code = t->code;
        if (post || vd) {
                struct m_rec *p = m_find(m, t->pending_id);
                int64_t amount;

                if (!p)
                        return LEDGER_PENDING_NOT_FOUND;
                if (!p->hold)
                        return LEDGER_PENDING_NOT_PENDING;
                if (p->state == LEDGER_PS_POSTED)
                        return LEDGER_PENDING_ALREADY_POSTED;
                if (p->state == LEDGER_PS_VOIDED)
                        return LEDGER_PENDING_ALREADY_VOIDED;
                if (p->state == LEDGER_PS_EXPIRED)
                        return LEDGER_PENDING_EXPIRED;
                if (p->expires_at > 0 && now >= p->expires_at)
                        return LEDGER_PENDING_EXPIRED;
                amount = t->amount ? t->amount : p->amount;
                if (post && amount > p->amount)
                        return LEDGER_AMOUNT_EXCEEDS_PENDING;
                if (vd && amount != p->amount)
                        return LEDGER_AMOUNT_INVALID;
                d = &m->acct[p->debit];
                c = &m->acct[p->credit];
                d->dq -= p->amount;
                c->cq -= p->amount;
                if (post) {
                        d->dp += amount;
                        c->cp += amount;
                }
                assert_true(m->nundo < LEDGER_CHAIN_MAX);
                m->undo[m->nundo].rec = (size_t)(p - m->rec);
                m->undo[m->nundo].state = p->state;
                m->nundo++;
                p->state = post ? LEDGER_PS_POSTED : LEDGER_PS_VOIDED;
                r.debit = p->debit;
                r.credit = p->credit;
                r.amount = amount;
        } else {
                if (t->debit_account_id >= M_ACCOUNTS || !m->acct[t->debit_account_id].exists ||
                    t->credit_account_id >= M_ACCOUNTS || !m->acct[t->credit_account_id].exists)
                        return LEDGER_ACCOUNT_NOT_FOUND;
                d = &m->acct[t->debit_account_id];
                c = &m->acct[t->credit_account_id];
                if (d->wallet && d->dp + d->dq + t->amount > d->cp)
                        return LEDGER_EXCEEDS_CREDITS;
                if (t->flags & LEDGER_PENDING) {
                        d->dq += t->amount;
                        c->cq += t->amount;
                        r.hold = true;
                        r.state = LEDGER_PS_PENDING;
                        r.expires_at = t->timeout_s ? now + t->timeout_s : 0;
                } else {
                        d->dp += t->amount;
                        c->cp += t->amount;
                }
                r.debit = t->debit_account_id;
                r.credit = t->credit_account_id;
                r.amount = t->amount;
        }
        idx = m_add(m, &r);
        if (r.hold)
                m_pending_add(m, idx);
        return LEDGER_OK;
}

static void m_chain_begin(struct model *m)
{
        memcpy(m->saved_acct, m->acct, sizeof(m->acct));
        m->nundo = 0;
        m->saved_nrec = m->nrec;
}

static void m_chain_rollback(struct model *m)
{
        memcpy(m->acct, m->saved_acct, sizeof(m->acct));
        while (m->nundo > 0) {
                m->nundo--;
                m->rec[m->undo[m->nundo].rec].state = m->undo[m->nundo].state;
        }
        while (m->nrec > m->saved_nrec) {
                m->nrec--;
                m_hash_del(m, m->nrec);
                /* A hold made inside the chain is last in `pending`. */
                if (m->npending > 0 && m->pending[m->npending - 1] == m->nrec)
                        m->npending--;
        }
}

/* The sweep: every pending hold due at `now` expires. */
static int m_expire(struct model *m, int64_t now)
{
        int n = 0;

        for (size_t i = 0; i < m->npending; i++) {
                struct m_rec *p = &m->rec[m->pending[i]];
                struct m_rec r;

                if (p->state != LEDGER_PS_PENDING || p->expires_at == 0 || p->expires_at > now)
                        continue;
                p->state = LEDGER_PS_EXPIRED;
                m->acct[p->debit].dq -= p->amount;
                m->acct[p->credit].cq -= p->amount;
                memset(&r, 0, sizeof(r));
                snprintf(r.id, sizeof(r.id), "expiry:%.*s", (int)sizeof(r.id) - 8, p->id);
                snprintf(r.pending_id, sizeof(r.pending_id), "%s", p->id);
                r.flags = LEDGER_VOID_PENDING;
                r.code = LEDGER_EXPIRY;
                r.debit = p->debit;
                r.credit = p->credit;
                r.amount = p->amount;
                m_add(m, &r);           /* may move the records: p is stale now */
                n++;
        }
        return n;
}

/* Drops resolved holds from the pending list. */
static void m_pending_compact(struct model *m)
{
        size_t i, j = 0;

        for (i = 0; i < m->npending; i++) {
                if (m->rec[m->pending[i]].state == LEDGER_PS_PENDING)
                        m->pending[j++] = m->pending[i];
        }
        m->npending = j;
}

struct m_call {
        struct ledger_transfer t[LEDGER_CHAIN_MAX];
        size_t n;
};

struct m_run {
        struct fx *fx;
        struct model m;
        uint64_t seed;
        int step;
        int64_t now;
        int64_t wallets[M_MEMBERS];
        int64_t debts[M_MEMBERS];
        struct m_call ring[M_RING];     /* earlier calls, for retries */
        size_t nring;
        int seq_id;
        long results[_LEDGER_RESULT_MAX];
        long expired;
};

#define M_FAIL(run, ...)                                                                   \
        do {                                                                               \
                print_error("ledger model: FAILED at seed %" PRIu64 " step %d; replay with" \
                            " LEDGER_SEED=%" PRIu64 " LEDGER_STEPS=%d\n", (run)->seed,      \
                            (run)->step, (run)->seed, (run)->step + 1);                    \
                fail_msg(__VA_ARGS__);                                                     \
        } while (0)

static void m_new_id(struct m_run *run, char *id, const char *what)
{
        snprintf(id, LEDGER_ID_MAX, "%s%d", what, run->seq_id++);
}

static int64_t m_wallet(struct m_run *run)
{
        return run->wallets[m_rng() % M_MEMBERS];
}

/* A hold id to resolve: mostly one still pending, sometimes any earlier
 * transfer (a resolved or expired hold, or not a hold at all), sometimes
 * one that does not exist. */
static void m_pick_hold(struct m_run *run, char *pending_id)
{
        struct model *m = &run->m;

        if (m->npending > 0 && m_chance(85))
                snprintf(pending_id, LEDGER_ID_MAX, "%s",
                         m->rec[m->pending[m_rng() % m->npending]].id);
        else if (m->nrec > 0 && m_chance(90))
                snprintf(pending_id, LEDGER_ID_MAX, "%s", m->rec[m_rng() % m->nrec].id);
        else
                snprintf(pending_id, LEDGER_ID_MAX, "nohold%d", run->seq_id++);
}

/* One random new transfer. Amounts are sized so that wallets hover near
 * empty: spending is refused often enough to test the limit. */
static struct ledger_transfer m_gen(struct m_run *run)
{
        struct ledger_transfer t;
        int kind = (int)(m_rng() % 100);
        int64_t w = m_wallet(run), w2;

        memset(&t, 0, sizeof(t));
        if (kind < 14) {                                /* top-up */
                m_new_id(run, t.id, "tu");
                t.debit_account_id = FUNDING;
                t.credit_account_id = w;
                t.amount = m_between(1, 2000);
                t.code = LEDGER_TOPUP;
                snprintf(t.ref, sizeof(t.ref), "provider:%d", run->seq_id);
        } else if (kind < 36) {                         /* hold */
                m_new_id(run, t.id, "h");
                t.debit_account_id = w;
                t.credit_account_id = ESCROW;
                t.amount = m_between(1, 3000);
                t.flags = LEDGER_PENDING;
                t.code = LEDGER_HOLD;
                t.timeout_s = m_chance(50) ? m_between(1, 120) : 0;
        } else if (kind < 52) {                         /* capture, full or part */
                m_new_id(run, t.id, "c");
                m_pick_hold(run, t.pending_id);
                t.flags = LEDGER_POST_PENDING;
                t.code = LEDGER_CAPTURE;
                t.amount = m_chance(40) ? 0 : m_between(1, 3100);
        } else if (kind < 60) {                         /* release */
                m_new_id(run, t.id, "v");
                m_pick_hold(run, t.pending_id);
                t.flags = LEDGER_VOID_PENDING;
                t.code = LEDGER_RELEASE;
        } else if (kind < 66) {                         /* refund from escrow */
                m_new_id(run, t.id, "rf");
                t.debit_account_id = ESCROW;
                t.credit_account_id = w;
                t.amount = m_between(1, 500);
                t.code = LEDGER_REFUND;
        } else if (kind < 72) {                         /* fee to a host */
                m_new_id(run, t.id, "fee");
                t.debit_account_id = ESCROW;
                t.credit_account_id = w;
                t.amount = m_between(1, 800);
                t.code = LEDGER_FEE;
        } else if (kind < 75) {                         /* platform fee */
                m_new_id(run, t.id, "pf");
                t.debit_account_id = ESCROW;
                t.credit_account_id = FEE_REVENUE;
                t.amount = m_between(1, 100);
                t.code = LEDGER_PLATFORM_FEE;
        } else if (kind < 83) {                         /* cancellation fee, no hold */
                m_new_id(run, t.id, "cf");
                t.debit_account_id = w;
                t.credit_account_id = ESCROW;
                t.amount = m_between(1, 3000);
                t.code = LEDGER_CANCELLATION_FEE;
        } else if (kind < 90) {                         /* penalty to another member */
                w2 = m_wallet(run);
                m_new_id(run, t.id, "pen");
                t.debit_account_id = w;
                t.credit_account_id = w2 == w ? PENALTY_SHARE : w2;
                t.amount = m_between(1, 4000);
                t.code = LEDGER_PENALTY;
        } else if (kind < 94) {                         /* debt recorded (CS-34) */
                m_new_id(run, t.id, "debt");
                t.debit_account_id = run->debts[m_rng() % M_MEMBERS];
                t.credit_account_id = w;
                t.amount = m_between(1, 300);
                t.code = LEDGER_PENALTY;
        } else if (kind < 99) {                         /* payout to the provider */
                m_new_id(run, t.id, "po");
                t.debit_account_id = w;
                t.credit_account_id = FUNDING;
                t.amount = m_between(1, 2000);
                t.code = LEDGER_PAYOUT;
        } else {                                        /* invalid: amount 0 */
                m_new_id(run, t.id, "bad");
                t.debit_account_id = w;
                t.credit_account_id = ESCROW;
                t.code = LEDGER_FEE;
        }
        return t;
}

static void m_compare_account(struct m_run *run, int64_t id)
{
        const struct m_acct *ma = &run->m.acct[id];
        struct ledger_account a;

        if (store_ledger_account_get(run->fx->st, id, &a) != 0)
                M_FAIL(run, "account %" PRId64 " unreadable", id);
        if (a.debits_posted != ma->dp || a.credits_posted != ma->cp ||
            a.debits_pending != ma->dq || a.credits_pending != ma->cq)
                M_FAIL(run, "account %" PRId64 ": store dp=%" PRId64 " cp=%" PRId64 " dq=%"
                       PRId64 " cq=%" PRId64 ", model dp=%" PRId64 " cp=%" PRId64 " dq=%" PRId64
                       " cq=%" PRId64, id, a.debits_posted, a.credits_posted, a.debits_pending,
                       a.credits_pending, ma->dp, ma->cp, ma->dq, ma->cq);
        if (ma->wallet && ledger_available(&a) < 0)
                M_FAIL(run, "wallet %" PRId64 " below zero", id);
}

static void m_check_sums(struct m_run *run, bool count)
{
        struct store_ledger_sums s;

        if (store_ledger_sums(run->fx->st, &s) != 0)
                M_FAIL(run, "sums unreadable");
        if (s.debits_posted != s.credits_posted || s.debits_pending != s.credits_pending)
                M_FAIL(run, "ledger out of balance: posted %" PRId64 "/%" PRId64 " pending %"
                       PRId64 "/%" PRId64, s.debits_posted, s.credits_posted, s.debits_pending,
                       s.credits_pending);
        if (count && s.transfers != (int64_t)run->m.nrec)
                M_FAIL(run, "store has %" PRId64 " transfers, model %zu", s.transfers,
                       run->m.nrec);
}

static void m_compare_all(struct m_run *run)
{
        for (int64_t id = 1; id < M_ACCOUNTS; id++) {
                if (run->m.acct[id].exists)
                        m_compare_account(run, id);
        }
        m_check_sums(run, true);
}

/* The model's answers for a call, chain by chain, as the store decides. */
static void m_call_expect(struct m_run *run, const struct m_call *call,
                          enum ledger_result *want, const char **wfield)
{
        struct model *m = &run->m;
        size_t k, first, last, failed;

        for (first = 0; first < call->n; first = last + 1) {
                last = first;
                while (last + 1 < call->n && (call->t[last].flags & LEDGER_LINKED))
                        last++;
                if (call->t[last].flags & LEDGER_LINKED) {
                        for (k = first; k <= last; k++) {
                                want[k] = LEDGER_LINKED_CHAIN_OPEN;
                                wfield[k] = NULL;
                        }
                        return;
                }
                m_chain_begin(m);
                failed = last + 1;
                for (k = first; k <= last; k++) {
                        want[k] = m_exec(m, &call->t[k], run->now, &wfield[k]);
                        if (want[k] != LEDGER_OK && want[k] != LEDGER_EXISTS) {
                                failed = k;
                                break;
                        }
                }
                if (failed > last || last == first)
                        continue;
                m_chain_rollback(m);
                for (k = first; k <= last; k++) {
                        if (k != failed) {
                                want[k] = LEDGER_LINKED_EVENT_FAILED;
                                wfield[k] = NULL;
                        }
                }
        }
}

/* Runs one call against both and compares the results, the transfers the
 * store returned, every touched account and the sums. */
static void m_call_run(struct m_run *run, const struct m_call *call)
{
        struct ledger_transfer sent[LEDGER_CHAIN_MAX];
        struct store_ledger_result res[LEDGER_CHAIN_MAX];
        enum ledger_result want[LEDGER_CHAIN_MAX];
        const char *wfield[LEDGER_CHAIN_MAX];
        int64_t touched[4 * LEDGER_CHAIN_MAX];
        size_t i, ntouched = 0;
        struct m_rec *rec;
        int r;

        m_call_expect(run, call, want, wfield);
        memcpy(sent, call->t, call->n * sizeof(sent[0]));
        r = store_ledger_execute(run->fx->st, sent, call->n, res, run->now, NULL);
        if (r != 0)
                M_FAIL(run, "store_ledger_execute: %d", r);
        for (i = 0; i < call->n; i++) {
                run->results[res[i].result]++;
                if (res[i].result != want[i])
                        M_FAIL(run, "transfer %zu (%s): store %s, model %s", i, call->t[i].id,
                               ledger_result_name(res[i].result), ledger_result_name(want[i]));
                if (want[i] == LEDGER_EXISTS_DIFFERENT &&
                    (!res[i].field || strcmp(res[i].field, wfield[i]) != 0))
                        M_FAIL(run, "transfer %s: field %s, model %s", call->t[i].id,
                               res[i].field ? res[i].field : "(none)", wfield[i]);
                if (call->t[i].debit_account_id > 0 && call->t[i].debit_account_id < M_ACCOUNTS)
                        touched[ntouched++] = call->t[i].debit_account_id;
                if (call->t[i].credit_account_id > 0 &&
                    call->t[i].credit_account_id < M_ACCOUNTS)
                        touched[ntouched++] = call->t[i].credit_account_id;
                if (want[i] != LEDGER_OK && want[i] != LEDGER_EXISTS) {
                        if (!transfer_eq(&sent[i], &call->t[i]))
                                M_FAIL(run, "refused transfer %s was changed", sent[i].id);
                        continue;
                }
                rec = m_find(&run->m, call->t[i].id);
                if (!rec)
                        M_FAIL(run, "model lost %s", call->t[i].id);
                if (sent[i].amount != rec->amount || sent[i].debit_account_id != rec->debit ||
                    sent[i].credit_account_id != rec->credit)
                        M_FAIL(run, "transfer %s written as %" PRId64 " %" PRId64 "->%" PRId64
                               ", model %" PRId64 " %" PRId64 "->%" PRId64, sent[i].id,
                               sent[i].amount, sent[i].debit_account_id,
                               sent[i].credit_account_id, rec->amount, rec->debit, rec->credit);
                if (want[i] == LEDGER_OK) {
                        rec->seq = sent[i].seq;
                        if (sent[i].ts != run->now || sent[i].seq <= 0)
                                M_FAIL(run, "transfer %s: ts %" PRId64 " seq %" PRId64,
                                       sent[i].id, sent[i].ts, sent[i].seq);
                } else if (sent[i].seq != rec->seq) {
                        M_FAIL(run, "retry of %s returned seq %" PRId64 ", original %" PRId64,
                               sent[i].id, sent[i].seq, rec->seq);
                }
                touched[ntouched++] = rec->debit;
                touched[ntouched++] = rec->credit;
        }
        for (i = 0; i < ntouched; i++) {
                if (run->m.acct[touched[i]].exists)
                        m_compare_account(run, touched[i]);
        }
        m_check_sums(run, false);
}

static void m_remember(struct m_run *run, const struct m_call *call)
{
        run->ring[run->nring % M_RING] = *call;
        run->nring++;
}

/* A previous call again, as it was, or (30 %) with one field changed. */
static bool m_retry(struct m_run *run, struct m_call *call)
{
        size_t n = run->nring < M_RING ? run->nring : M_RING;
        struct ledger_transfer *t;

        if (n == 0)
                return false;
        *call = run->ring[m_rng() % n];
        if (m_chance(30)) {
                t = &call->t[m_rng() % call->n];
                switch (m_rng() % 4) {
                case 0:
                        t->amount += 1;
                        break;
                case 1:
                        snprintf(t->ref, sizeof(t->ref), "changed");
                        break;
                case 2:
                        t->code = t->code == LEDGER_FEE ? LEDGER_REFUND : LEDGER_FEE;
                        break;
                default:
                        if (t->flags & LEDGER_PENDING)
                                t->timeout_s += 1;
                        break;
                }
        }
        return true;
}

static void m_sweep(struct m_run *run)
{
        int want = m_expire(&run->m, run->now), count = -1;

        if (store_ledger_expire(run->fx->st, run->now, M_EXPIRE_MAX, &count) != 0)
                M_FAIL(run, "store_ledger_expire failed");
        if (count != want)
                M_FAIL(run, "expired %d, model %d", count, want);
        run->expired += count;
        m_pending_compact(&run->m);
        m_compare_all(run);
}

static void m_step(struct m_run *run)
{
        struct m_call call;
        int what = (int)(m_rng() % 100);

        run->now += m_between(0, 3);
        if (what < 4) {
                m_sweep(run);
                return;
        }
        memset(&call, 0, sizeof(call));
        if (what < 16) {
                if (!m_retry(run, &call))
                        return;
        } else if (what < 28) {
                /* A chain of 2 to 4; sometimes one independent transfer
                 * after it, sometimes left open. */
                call.n = (size_t)m_between(2, 4);
                for (size_t i = 0; i < call.n; i++) {
                        call.t[i] = m_gen(run);
                        if (i + 1 < call.n)
                                call.t[i].flags |= LEDGER_LINKED;
                }
                if (m_chance(5))
                        call.t[call.n - 1].flags |= LEDGER_LINKED;
                else if (m_chance(20))
                        call.t[call.n++] = m_gen(run);
        } else if (what < 33) {
                /* A hold and its capture in one chain. */
                call.n = 2;
                m_new_id(run, call.t[0].id, "hc");
                call.t[0].debit_account_id = m_wallet(run);
                call.t[0].credit_account_id = ESCROW;
                call.t[0].amount = m_between(1, 2000);
                call.t[0].flags = LEDGER_PENDING | LEDGER_LINKED;
                call.t[0].code = LEDGER_HOLD;
                m_new_id(run, call.t[1].id, "cc");
                snprintf(call.t[1].pending_id, LEDGER_ID_MAX, "%s", call.t[0].id);
                call.t[1].flags = LEDGER_POST_PENDING;
                call.t[1].code = LEDGER_CAPTURE;
                call.t[1].amount = m_between(0, 2100);
        } else {
                call.n = 1;
                call.t[0] = m_gen(run);
        }
        m_call_run(run, &call);
        m_remember(run, &call);
}

/* Runs one seed on the fixture's store, which must be freshly migrated. */
static void m_run_seed(struct fx *fx, uint64_t seed, int steps)
{
        struct m_run *run = calloc(1, sizeof(*run));
        struct ledger_account a, d;
        double t0 = mono_s();
        int i;

        assert_non_null(run);
        run->fx = fx;
        run->seed = seed;
        run->now = T0 + (int64_t)(seed % 100000);
        m_rng_state = seed ? seed : 1;
        run->m.hcap = 1024;
        while (run->m.hcap < (size_t)steps * 16)
                run->m.hcap <<= 1;
        run->m.hash = malloc(run->m.hcap * sizeof(*run->m.hash));
        assert_non_null(run->m.hash);
        memset(run->m.hash, 0xff, run->m.hcap * sizeof(*run->m.hash));

        for (i = 1; i <= 4; i++)
                run->m.acct[i].exists = true;
        for (i = 0; i < M_MEMBERS; i++) {
                assert_int_equal(store_ledger_member_account(fx->st, 1000 + i,
                                                             LEDGER_ACC_WALLET, &a), 0);
                assert_int_equal(store_ledger_member_account(fx->st, 1000 + i,
                                                             LEDGER_ACC_DEBT, &d), 0);
                assert_true(a.id < M_ACCOUNTS && d.id < M_ACCOUNTS);
                run->wallets[i] = a.id;
                run->debts[i] = d.id;
                run->m.acct[a.id] = (struct m_acct){ .wallet = true, .exists = true };
                run->m.acct[d.id] = (struct m_acct){ .exists = true };
        }
        m_compare_all(run);

        print_message("ledger model: seed %" PRIu64 ", %d steps (LEDGER_SEED=%" PRIu64
                      " replays it)\n", seed, steps, seed);
        for (run->step = 0; run->step < steps; run->step++) {
                m_step(run);
                if (run->step % 1000 == 999)
                        m_compare_all(run);
        }
        /* Everything expires in the end. */
        run->now += 1000;
        m_sweep(run);
        print_message("ledger model: seed %" PRIu64 " ok in %.1f s, %zu transfers: %ld ok,"
                      " %ld exists, %ld exists_different, %ld exceeds_credits,"
                      " %ld linked_event_failed, %ld linked_chain_open, %ld already resolved,"
                      " %ld pending_expired, %ld expired by the sweeper\n",
                      seed, mono_s() - t0, run->m.nrec, run->results[LEDGER_OK],
                      run->results[LEDGER_EXISTS], run->results[LEDGER_EXISTS_DIFFERENT],
                      run->results[LEDGER_EXCEEDS_CREDITS],
                      run->results[LEDGER_LINKED_EVENT_FAILED],
                      run->results[LEDGER_LINKED_CHAIN_OPEN],
                      run->results[LEDGER_PENDING_ALREADY_POSTED] +
                      run->results[LEDGER_PENDING_ALREADY_VOIDED],
                      run->results[LEDGER_PENDING_EXPIRED], run->expired);
        /* The sequence exercised what it is meant to. */
        if (steps >= 10000) {
                assert_true(run->results[LEDGER_OK] > steps / 4);
                assert_true(run->results[LEDGER_EXISTS] > 0);
                assert_true(run->results[LEDGER_EXISTS_DIFFERENT] > 0);
                assert_true(run->results[LEDGER_EXCEEDS_CREDITS] > 0);
                assert_true(run->results[LEDGER_LINKED_EVENT_FAILED] > 0);
                assert_true(run->results[LEDGER_LINKED_CHAIN_OPEN] > 0);
                assert_true(run->results[LEDGER_PENDING_EXPIRED] > 0);
                assert_true(run->results[LEDGER_PENDING_ALREADY_POSTED] > 0);
                assert_true(run->results[LEDGER_PENDING_ALREADY_VOIDED] > 0);
                assert_true(run->results[LEDGER_AMOUNT_EXCEEDS_PENDING] > 0);
                assert_true(run->expired > 0);
        }
        free(run->m.rec);
        free(run->m.hash);
        free(run->m.pending);
        free(run);
}

static int env_int(const char *name, int def)
{
        const char *v = getenv(name);

        return v && *v ? atoi(v) : def;
}

/* At least 100,000 operations with the fixed seed, then a random seed on
 * a fresh store (a quarter as long, to keep the test short); both print
 * their seed. */
static void test_model_based_random_operations(void **state)
{
        struct fx *fx = *state;
        const char *env = getenv("LEDGER_SEED");
        int steps = env_int("LEDGER_STEPS", 100000);
        void *second = NULL;

        if (env && *env) {
                m_run_seed(fx, strtoull(env, NULL, 0), steps);
                return;
        }
        m_run_seed(fx, 20260101, steps);
        assert_int_equal(setup_shm(&second), 0);
        m_run_seed(second, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32), steps / 4);
        teardown(&second);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_migration_creates_the_system_accounts,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_member_accounts_are_created_once,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_topup_hold_capture_and_payout,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_void_and_exactly_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expiry_sweep, setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_retry_returns_the_original_without_second_effect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_linked_chain_is_all_or_nothing,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_rows_are_immutable_and_checks_hold,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_correction_is_audited_per_member,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_totals_by_tokyo_day_count_posted_money_only,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_statement_filters_and_paging,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_CS_34_penalty_beyond_the_wallet_is_recorded_as_debt,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(
                        test_64_concurrent_spenders_never_overdraw_one_wallet, setup, teardown),
                cmocka_unit_test_setup_teardown(test_model_based_random_operations,
                                                setup_shm, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
