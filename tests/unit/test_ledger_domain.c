/*
 * test_ledger_domain.c - unit tests of the pure ledger rules in
 * domain/ledger.c: names, validation of a transfer on its own, the
 * idempotency comparison, plain and pending transfers, partial and full
 * posts, voids, expiry, exactly-once resolution, overflow refusal, and
 * that a wallet never goes below zero counting its holds.
 *
 * Every result a domain function can give is recorded as it is seen; the
 * last test checks that each one was reached (the two linked-chain results
 * come from the store and are proven in test_store_ledger.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "domain/ledger.h"

/* ---- helpers --------------------------------------------------------- */

static bool reached[_LEDGER_RESULT_MAX];

static enum ledger_result seen(enum ledger_result r)
{
        if ((int)r >= 0 && r < _LEDGER_RESULT_MAX)
                reached[r] = true;
        return r;
}

#define CHECK(t) seen(ledger_check_transfer(t))
#define APPLY(d, c, t) seen(ledger_apply((d), (c), (t)))
#define RESOLVE(d, c, p, t, now) seen(ledger_resolve((d), (c), (p), (t), (now)))

enum { FUNDING = 4, ESCROW = 1, WALLET = 10, WALLET2 = 11 };

static struct ledger_account acc(int64_t id, int code, unsigned flags)
{
        struct ledger_account a;

        memset(&a, 0, sizeof(a));
        a.id = id;
        a.code = code;
        a.flags = flags;
        a.member_id = code == LEDGER_ACC_WALLET ? id : 0;
        return a;
}

static struct ledger_account wallet(int64_t id, int64_t balance)
{
        struct ledger_account a = acc(id, LEDGER_ACC_WALLET, LEDGER_ACC_DEBITS_LE_CREDITS);

        a.credits_posted = balance;
        return a;
}

static struct ledger_transfer xfer(const char *id, int64_t debit, int64_t credit, int64_t amount,
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

static struct ledger_transfer resolver(const char *id, const char *pending_id, int64_t amount,
                                       unsigned flags, int code)
{
        struct ledger_transfer t = xfer(id, 0, 0, amount, flags, code);

        snprintf(t.pending_id, sizeof(t.pending_id), "%s", pending_id);
        return t;
}

/* A hold of `amount` from wallet w to escrow e, applied, as the store
 * would write it (state pending, expires_at given). */
static struct ledger_transfer hold(struct ledger_account *w, struct ledger_account *e,
                                   const char *id, int64_t amount, int64_t expires_at)
{
        struct ledger_transfer p = xfer(id, w->id, e->id, amount, LEDGER_PENDING, LEDGER_HOLD);

        assert_int_equal(CHECK(&p), LEDGER_OK);
        assert_int_equal(APPLY(w, e, &p), LEDGER_OK);
        p.pending_state = LEDGER_PS_PENDING;
        p.expires_at = expires_at;
        p.seq = 1;
        return p;
}

/* Field by field: the struct has padding, which memcmp would read. */
static bool account_eq(const struct ledger_account *a, const struct ledger_account *b)
{
        return a->id == b->id && a->code == b->code && a->member_id == b->member_id &&
               a->flags == b->flags && a->debits_posted == b->debits_posted &&
               a->credits_posted == b->credits_posted &&
               a->debits_pending == b->debits_pending &&
               a->credits_pending == b->credits_pending;
}

/* ---- names --------------------------------------------------------------- */

static bool is_snake(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
                        return false;
        }
        return true;
}

static void test_names_are_stable_snake_case_and_round_trip(void **state)
{
        static const char *const accounts[] = {
                "wallet", "escrow", "fee_revenue", "penalty_share", "funding", "debt",
        };
        static const char *const codes[] = {
                "top_up", "hold", "capture", "release", "expiry", "refund", "cancellation_fee",
                "platform_fee", "host_cancellation_fee", "penalty", "penalty_share", "payout",
                "correction", "fee",
        };
        int i, j;

        assert_int_equal(sizeof(accounts) / sizeof(accounts[0]), _LEDGER_ACC_CODE_MAX);
        for (i = 0; i < _LEDGER_ACC_CODE_MAX; i++) {
                assert_string_equal(ledger_account_code_name(i), accounts[i]);
                assert_int_equal(ledger_account_code_from_name(accounts[i]), i);
        }
        assert_int_equal(sizeof(codes) / sizeof(codes[0]), _LEDGER_TRANSFER_CODE_MAX);
        for (i = 0; i < _LEDGER_TRANSFER_CODE_MAX; i++) {
                assert_string_equal(ledger_transfer_code_name(i), codes[i]);
                assert_int_equal(ledger_transfer_code_from_name(codes[i]), i);
        }
        for (i = 0; i < _LEDGER_RESULT_MAX; i++) {
                const char *n = ledger_result_name((enum ledger_result)i);

                assert_true(is_snake(n));
                assert_string_not_equal(n, "unknown");
                for (j = 0; j < i; j++)
                        assert_string_not_equal(n, ledger_result_name((enum ledger_result)j));
        }
        assert_string_equal(ledger_result_name(LEDGER_EXCEEDS_CREDITS), "exceeds_credits");
        assert_string_equal(ledger_result_name(LEDGER_PENDING_ALREADY_POSTED),
                            "pending_already_posted");
        assert_string_equal(ledger_result_name(LEDGER_LINKED_EVENT_FAILED),
                            "linked_event_failed");
        assert_string_equal(ledger_result_name(LEDGER_OVERFLOW), "overflow");
        assert_string_equal(ledger_pending_state_name(LEDGER_PS_NONE), "none");
        assert_string_equal(ledger_pending_state_name(LEDGER_PS_PENDING), "pending");
        assert_string_equal(ledger_pending_state_name(LEDGER_PS_POSTED), "posted");
        assert_string_equal(ledger_pending_state_name(LEDGER_PS_VOIDED), "voided");
        assert_string_equal(ledger_pending_state_name(LEDGER_PS_EXPIRED), "expired");

        /* Out of range and unknown. */
        assert_string_equal(ledger_result_name(_LEDGER_RESULT_MAX), "unknown");
        assert_string_equal(ledger_result_name((enum ledger_result)-1), "unknown");
        assert_null(ledger_account_code_name(-1));
        assert_null(ledger_account_code_name(_LEDGER_ACC_CODE_MAX));
        assert_null(ledger_transfer_code_name(_LEDGER_TRANSFER_CODE_MAX));
        assert_null(ledger_pending_state_name(LEDGER_PS_EXPIRED + 1));
        assert_int_equal(ledger_account_code_from_name("Wallet"), -EINVAL);
        assert_int_equal(ledger_account_code_from_name(""), -EINVAL);
        assert_int_equal(ledger_account_code_from_name(NULL), -EINVAL);
        assert_int_equal(ledger_transfer_code_from_name("topup"), -EINVAL);
}

/* ---- validation ---------------------------------------------------------- */

static void test_check_id_syntax(void **state)
{
        struct ledger_transfer t = xfer("topup:1", FUNDING, WALLET, 100, 0, LEDGER_TOPUP);
        static const char *const bad[] = { "", "a b", "a/b", "a#b", "caf\xc3\xa9", "a\tb", "é" };
        size_t i;

        assert_int_equal(CHECK(&t), LEDGER_OK);
        snprintf(t.id, sizeof(t.id), "AZaz09:._-");
        assert_int_equal(CHECK(&t), LEDGER_OK);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(t.id, sizeof(t.id), "%s", bad[i]);
                assert_int_equal(CHECK(&t), LEDGER_ID_INVALID);
        }
        /* 63 characters fit; a buffer without NUL does not. */
        memset(t.id, 'x', LEDGER_ID_MAX - 1);
        t.id[LEDGER_ID_MAX - 1] = '\0';
        assert_int_equal(CHECK(&t), LEDGER_OK);
        memset(t.id, 'x', LEDGER_ID_MAX);
        assert_int_equal(CHECK(&t), LEDGER_ID_INVALID);
        assert_int_equal(CHECK(NULL), LEDGER_ID_INVALID);
}

static void test_check_expiry_ids_are_reserved_for_the_sweeper(void **state)
{
        struct ledger_transfer t = xfer("expiry:h1", FUNDING, WALLET, 100, 0, LEDGER_TOPUP);
        struct ledger_transfer e = resolver("expiry:h1", "h1", 0, LEDGER_VOID_PENDING,
                                            LEDGER_EXPIRY);

        assert_int_equal(CHECK(&t), LEDGER_ID_INVALID);
        assert_int_equal(CHECK(&e), LEDGER_OK);
        /* The expiry of another hold than its id names. */
        snprintf(e.pending_id, sizeof(e.pending_id), "h2");
        assert_int_equal(CHECK(&e), LEDGER_CODE_INVALID);
        /* Code expiry under another id, or not as a void. */
        e = resolver("void-h1", "h1", 0, LEDGER_VOID_PENDING, LEDGER_EXPIRY);
        assert_int_equal(CHECK(&e), LEDGER_CODE_INVALID);
        e = resolver("expiry:h1", "h1", 0, LEDGER_POST_PENDING, LEDGER_EXPIRY);
        assert_int_equal(CHECK(&e), LEDGER_CODE_INVALID);
        t = xfer("x", FUNDING, WALLET, 100, 0, LEDGER_EXPIRY);
        assert_int_equal(CHECK(&t), LEDGER_CODE_INVALID);
}

static void test_check_flags(void **state)
{
        struct ledger_transfer t = xfer("a", WALLET, ESCROW, 100, 0, LEDGER_HOLD);
        struct ledger_transfer r = resolver("b", "a", 0, 0, LEDGER_CAPTURE);

        t.flags = LEDGER_PENDING | LEDGER_LINKED;
        assert_int_equal(CHECK(&t), LEDGER_OK);
        t.flags = 1u << 4;
        assert_int_equal(CHECK(&t), LEDGER_FLAGS_INVALID);
        t.flags = LEDGER_PENDING | LEDGER_POST_PENDING;
        assert_int_equal(CHECK(&t), LEDGER_FLAGS_INVALID);
        t.flags = LEDGER_PENDING | LEDGER_VOID_PENDING;
        assert_int_equal(CHECK(&t), LEDGER_FLAGS_INVALID);
        r.flags = LEDGER_POST_PENDING | LEDGER_VOID_PENDING;
        assert_int_equal(CHECK(&r), LEDGER_FLAGS_INVALID);
        r.flags = LEDGER_POST_PENDING | LEDGER_LINKED;
        assert_int_equal(CHECK(&r), LEDGER_OK);
}

static void test_check_pending_id(void **state)
{
        struct ledger_transfer r = resolver("b", "", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        struct ledger_transfer t = xfer("a", WALLET, ESCROW, 100, 0, LEDGER_FEE);

        assert_int_equal(CHECK(&r), LEDGER_PENDING_ID_REQUIRED);
        r.flags = LEDGER_VOID_PENDING;
        assert_int_equal(CHECK(&r), LEDGER_PENDING_ID_REQUIRED);
        snprintf(r.pending_id, sizeof(r.pending_id), "bad id");
        assert_int_equal(CHECK(&r), LEDGER_PENDING_ID_INVALID);
        snprintf(r.pending_id, sizeof(r.pending_id), "hold-1");
        assert_int_equal(CHECK(&r), LEDGER_OK);
        /* Given on a transfer that resolves nothing. */
        snprintf(t.pending_id, sizeof(t.pending_id), "hold-1");
        assert_int_equal(CHECK(&t), LEDGER_PENDING_ID_INVALID);
        t.flags = LEDGER_PENDING;
        assert_int_equal(CHECK(&t), LEDGER_PENDING_ID_INVALID);
}

static void test_check_accounts(void **state)
{
        struct ledger_transfer t = xfer("a", 0, ESCROW, 100, 0, LEDGER_FEE);
        struct ledger_transfer r = resolver("b", "a", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);

        assert_int_equal(CHECK(&t), LEDGER_ACCOUNT_NOT_FOUND);
        t.debit_account_id = WALLET;
        t.credit_account_id = 0;
        assert_int_equal(CHECK(&t), LEDGER_ACCOUNT_NOT_FOUND);
        t.credit_account_id = -3;
        assert_int_equal(CHECK(&t), LEDGER_ACCOUNT_NOT_FOUND);
        t.credit_account_id = WALLET;
        assert_int_equal(CHECK(&t), LEDGER_ACCOUNTS_SAME);

        /* A post/void may leave them 0 (taken from the hold). */
        assert_int_equal(CHECK(&r), LEDGER_OK);
        r.debit_account_id = WALLET;
        assert_int_equal(CHECK(&r), LEDGER_OK);
        r.credit_account_id = WALLET;
        assert_int_equal(CHECK(&r), LEDGER_ACCOUNTS_SAME);
        r.credit_account_id = -1;
        assert_int_equal(CHECK(&r), LEDGER_ACCOUNT_NOT_FOUND);
}

static void test_check_amount(void **state)
{
        struct ledger_transfer t = xfer("a", FUNDING, WALLET, 0, 0, LEDGER_TOPUP);
        struct ledger_transfer r = resolver("b", "a", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);

        assert_int_equal(CHECK(&t), LEDGER_AMOUNT_INVALID);
        t.amount = -5;
        assert_int_equal(CHECK(&t), LEDGER_AMOUNT_INVALID);
        t.amount = LEDGER_AMOUNT_MAX + 1;
        assert_int_equal(CHECK(&t), LEDGER_AMOUNT_INVALID);
        t.amount = LEDGER_AMOUNT_MAX;
        assert_int_equal(CHECK(&t), LEDGER_OK);
        t.amount = 1;
        t.flags = LEDGER_PENDING;
        assert_int_equal(CHECK(&t), LEDGER_OK);
        t.amount = 0;
        assert_int_equal(CHECK(&t), LEDGER_AMOUNT_INVALID);

        assert_int_equal(CHECK(&r), LEDGER_OK);         /* 0 = the whole hold */
        r.amount = -1;
        assert_int_equal(CHECK(&r), LEDGER_AMOUNT_INVALID);
        r.amount = LEDGER_AMOUNT_MAX + 1;
        assert_int_equal(CHECK(&r), LEDGER_AMOUNT_INVALID);
}

static void test_check_timeout_only_on_holds(void **state)
{
        struct ledger_transfer t = xfer("a", WALLET, ESCROW, 100, LEDGER_PENDING, LEDGER_HOLD);
        struct ledger_transfer r = resolver("b", "a", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);

        t.timeout_s = 3600;
        assert_int_equal(CHECK(&t), LEDGER_OK);
        t.timeout_s = LEDGER_TIMEOUT_MAX;
        assert_int_equal(CHECK(&t), LEDGER_OK);
        t.timeout_s = LEDGER_TIMEOUT_MAX + 1;
        assert_int_equal(CHECK(&t), LEDGER_TIMEOUT_INVALID);
        t.timeout_s = -1;
        assert_int_equal(CHECK(&t), LEDGER_TIMEOUT_INVALID);
        t.timeout_s = 60;
        t.flags = 0;
        assert_int_equal(CHECK(&t), LEDGER_TIMEOUT_INVALID);
        r.timeout_s = 60;
        assert_int_equal(CHECK(&r), LEDGER_TIMEOUT_INVALID);
}

static void test_check_code_and_reason(void **state)
{
        struct ledger_transfer t = xfer("fix-1", FUNDING, WALLET, 10, 0, -1);

        assert_int_equal(CHECK(&t), LEDGER_CODE_INVALID);
        t.code = _LEDGER_TRANSFER_CODE_MAX;
        assert_int_equal(CHECK(&t), LEDGER_CODE_INVALID);
        t.code = LEDGER_CORRECTION;
        assert_int_equal(CHECK(&t), LEDGER_REASON_REQUIRED);
        snprintf(t.reason, sizeof(t.reason), "double top-up of 2026-01-02");
        assert_int_equal(CHECK(&t), LEDGER_OK);
        /* A reason on any other code is allowed. */
        t.code = LEDGER_REFUND;
        assert_int_equal(CHECK(&t), LEDGER_OK);
}

/* ---- apply ---------------------------------------------------------------- */

static void test_plain_transfer_moves_posted_money(void **state)
{
        struct ledger_account f = acc(FUNDING, LEDGER_ACC_FUNDING, 0);
        struct ledger_account w = wallet(WALLET, 0);
        struct ledger_transfer t = xfer("topup-1", FUNDING, WALLET, 5000, 0, LEDGER_TOPUP);

        assert_int_equal(APPLY(&f, &w, &t), LEDGER_OK);
        assert_int_equal(f.debits_posted, 5000);
        assert_int_equal(w.credits_posted, 5000);
        assert_int_equal(ledger_balance(&w), 5000);
        assert_int_equal(ledger_available(&w), 5000);
        assert_int_equal(ledger_balance(&f), -5000);
        assert_int_equal(f.debits_pending + f.credits_pending + w.debits_pending, 0);
}

static void test_apply_refuses_misuse(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer t = xfer("a", WALLET, ESCROW, 10, LEDGER_POST_PENDING,
                                        LEDGER_CAPTURE);
        struct ledger_account w0 = w, e0 = e;

        assert_int_equal(APPLY(&w, &e, &t), LEDGER_FLAGS_INVALID);
        t.flags = 0;
        assert_int_equal(APPLY(&e, &w, &t), LEDGER_ACCOUNT_NOT_FOUND);  /* swapped */
        assert_int_equal(APPLY(NULL, &e, &t), LEDGER_ACCOUNT_NOT_FOUND);
        t.amount = 0;
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_AMOUNT_INVALID);
        t = xfer("a", WALLET, WALLET, 10, 0, LEDGER_FEE);
        assert_int_equal(APPLY(&w, &w, &t), LEDGER_ACCOUNTS_SAME);
        assert_true(account_eq(&w, &w0));
        assert_true(account_eq(&e, &e0));
}

static void test_wallet_never_below_zero_counting_pending(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_account w0, e0;
        struct ledger_transfer t;

        t = xfer("h1", WALLET, ESCROW, 60, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_OK);
        assert_int_equal(ledger_balance(&w), 100);
        assert_int_equal(ledger_available(&w), 40);

        /* The held 60 is not spendable again, neither by a plain debit nor
         * by a second hold. */
        w0 = w;
        e0 = e;
        t = xfer("fee", WALLET, ESCROW, 50, 0, LEDGER_FEE);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_EXCEEDS_CREDITS);
        t = xfer("h2", WALLET, ESCROW, 41, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_EXCEEDS_CREDITS);
        assert_true(account_eq(&w, &w0));
        assert_true(account_eq(&e, &e0));

        /* Exactly to zero is fine. */
        t = xfer("h2", WALLET, ESCROW, 40, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_OK);
        assert_int_equal(ledger_available(&w), 0);
        t = xfer("fee", WALLET, ESCROW, 1, 0, LEDGER_FEE);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_EXCEEDS_CREDITS);

        /* An unflagged account may go negative (escrow paying out). */
        t = xfer("out", ESCROW, WALLET2, 500, 0, LEDGER_REFUND);
        w0 = wallet(WALLET2, 0);
        assert_int_equal(APPLY(&e, &w0, &t), LEDGER_OK);
        assert_int_equal(ledger_balance(&e), -500);
}

static void test_hold_counts_only_posted_credits(void **state)
{
        struct ledger_account f = acc(FUNDING, LEDGER_ACC_FUNDING, 0);
        struct ledger_account w = wallet(WALLET, 0);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer t;

        /* Money on its way in (a pending credit) cannot be spent yet. */
        t = xfer("in", FUNDING, WALLET, 100, LEDGER_PENDING, LEDGER_TOPUP);
        assert_int_equal(APPLY(&f, &w, &t), LEDGER_OK);
        assert_int_equal(w.credits_pending, 100);
        t = xfer("spend", WALLET, ESCROW, 1, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_EXCEEDS_CREDITS);
}

/* ---- resolve -------------------------------------------------------------- */

static void test_partial_capture_returns_the_rest(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 80, 0);
        struct ledger_transfer t = resolver("c1", "h1", 30, LEDGER_POST_PENDING,
                                            LEDGER_CAPTURE);

        assert_int_equal(ledger_available(&w), 20);
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1000), LEDGER_OK);
        assert_int_equal(w.debits_posted, 30);
        assert_int_equal(w.debits_pending, 0);
        assert_int_equal(ledger_balance(&w), 70);
        assert_int_equal(ledger_available(&w), 70);
        assert_int_equal(e.credits_posted, 30);
        assert_int_equal(e.credits_pending, 0);
        assert_int_equal(p.pending_state, LEDGER_PS_POSTED);
        /* t filled in from the hold, and what it left 0 is recorded. */
        assert_int_equal(t.debit_account_id, WALLET);
        assert_int_equal(t.credit_account_id, ESCROW);
        assert_int_equal(t.amount, 30);
        assert_int_equal(t.defaulted, LEDGER_DEFAULTED_DEBIT | LEDGER_DEFAULTED_CREDIT);
        assert_int_equal(t.pending_state, LEDGER_PS_NONE);
}

static void test_full_capture_by_default(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 100, 0);
        struct ledger_transfer t = resolver("c1", "h1", 0, LEDGER_POST_PENDING,
                                            LEDGER_CAPTURE);

        t.debit_account_id = WALLET;
        t.credit_account_id = ESCROW;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1000), LEDGER_OK);
        assert_int_equal(t.amount, 100);
        assert_int_equal(t.defaulted, LEDGER_DEFAULTED_AMOUNT);
        assert_int_equal(ledger_balance(&w), 0);
        assert_int_equal(ledger_balance(&e), 100);
}

static void test_void_returns_everything(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_account w0 = w, e0 = e;
        struct ledger_transfer p = hold(&w, &e, "h1", 70, 0);
        struct ledger_transfer t = resolver("v1", "h1", 69, LEDGER_VOID_PENDING,
                                            LEDGER_RELEASE);

        /* A void names no amount or exactly the hold's. */
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1000), LEDGER_AMOUNT_INVALID);
        t.amount = 70;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1000), LEDGER_OK);
        assert_true(account_eq(&w, &w0));
        assert_true(account_eq(&e, &e0));
        assert_int_equal(p.pending_state, LEDGER_PS_VOIDED);
        assert_int_equal(t.amount, 70);
        assert_int_equal(t.defaulted, LEDGER_DEFAULTED_DEBIT | LEDGER_DEFAULTED_CREDIT);
}

static void test_hold_resolves_exactly_once(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 50, 0);
        struct ledger_transfer post = resolver("c1", "h1", 0, LEDGER_POST_PENDING,
                                               LEDGER_CAPTURE);
        struct ledger_transfer post2 = resolver("c2", "h1", 10, LEDGER_POST_PENDING,
                                                LEDGER_CAPTURE);
        struct ledger_transfer vd = resolver("v1", "h1", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE);
        struct ledger_account w1, e1;
        struct ledger_transfer p1;

        assert_int_equal(RESOLVE(&w, &e, &p, &post, 1000), LEDGER_OK);
        w1 = w;
        e1 = e;
        p1 = p;
        assert_int_equal(RESOLVE(&w, &e, &p, &post2, 1000), LEDGER_PENDING_ALREADY_POSTED);
        assert_int_equal(RESOLVE(&w, &e, &p, &vd, 1000), LEDGER_PENDING_ALREADY_POSTED);
        assert_true(account_eq(&w, &w1));
        assert_true(account_eq(&e, &e1));
        assert_memory_equal(&p, &p1, sizeof(p));

        /* A voided hold can never be posted (the bug other wallets had). */
        w = wallet(WALLET, 100);
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        p = hold(&w, &e, "h2", 50, 0);
        vd = resolver("v2", "h2", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE);
        post = resolver("c3", "h2", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &p, &vd, 1000), LEDGER_OK);
        assert_int_equal(RESOLVE(&w, &e, &p, &post, 1000), LEDGER_PENDING_ALREADY_VOIDED);
        vd = resolver("v3", "h2", 0, LEDGER_VOID_PENDING, LEDGER_RELEASE);
        assert_int_equal(RESOLVE(&w, &e, &p, &vd, 1000), LEDGER_PENDING_ALREADY_VOIDED);
        assert_int_equal(w.debits_pending, 0);
        assert_int_equal(ledger_balance(&w), 100);
}

static void test_expiry(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 50, 2000);
        struct ledger_transfer post = resolver("c1", "h1", 0, LEDGER_POST_PENDING,
                                               LEDGER_CAPTURE);
        struct ledger_transfer rel = resolver("v1", "h1", 0, LEDGER_VOID_PENDING,
                                              LEDGER_RELEASE);
        struct ledger_transfer exp = resolver("expiry:h1", "h1", 0, LEDGER_VOID_PENDING,
                                              LEDGER_EXPIRY);
        struct ledger_account wc = w, ec = e;
        struct ledger_transfer pc = p, postc = post;

        /* One second before: still capturable, and not yet expirable. */
        assert_int_equal(RESOLVE(&w, &e, &p, &exp, 1999), LEDGER_CODE_INVALID);
        assert_int_equal(RESOLVE(&wc, &ec, &pc, &postc, 1999), LEDGER_OK);

        /* At expires_at: expired even though no sweeper ran yet. */
        assert_int_equal(RESOLVE(&w, &e, &p, &post, 2000), LEDGER_PENDING_EXPIRED);
        assert_int_equal(RESOLVE(&w, &e, &p, &rel, 2000), LEDGER_PENDING_EXPIRED);
        assert_int_equal(p.pending_state, LEDGER_PS_PENDING);
        assert_int_equal(w.debits_pending, 50);

        assert_int_equal(RESOLVE(&w, &e, &p, &exp, 2000), LEDGER_OK);
        assert_int_equal(p.pending_state, LEDGER_PS_EXPIRED);
        assert_int_equal(w.debits_pending, 0);
        assert_int_equal(e.credits_pending, 0);
        assert_int_equal(ledger_available(&w), 100);

        /* After the expiry, nothing resolves it again. */
        post = resolver("c2", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &p, &post, 2001), LEDGER_PENDING_EXPIRED);
        exp = resolver("expiry:h1", "h1", 0, LEDGER_VOID_PENDING, LEDGER_EXPIRY);
        assert_int_equal(RESOLVE(&w, &e, &p, &exp, 2001), LEDGER_PENDING_EXPIRED);

        /* A hold without timeout never expires. */
        w = wallet(WALLET, 100);
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        p = hold(&w, &e, "h2", 50, 0);
        post = resolver("c3", "h2", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &p, &post, INT64_MAX), LEDGER_OK);
}

static void test_resolve_refusals_change_nothing(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_account other = acc(FUNDING, LEDGER_ACC_FUNDING, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 50, 0);
        struct ledger_transfer plain = xfer("fee", WALLET, ESCROW, 10, 0, LEDGER_FEE);
        struct ledger_account w0 = w, e0 = e;
        struct ledger_transfer p0 = p, t, t0;

        t = resolver("c1", "h1", 51, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        t0 = t;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_AMOUNT_EXCEEDS_PENDING);
        assert_memory_equal(&t, &t0, sizeof(t));

        t = resolver("c1", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        t.debit_account_id = WALLET2;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_PENDING_ACCOUNTS_DIFFER);
        t.debit_account_id = WALLET;
        t.credit_account_id = FUNDING;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_PENDING_ACCOUNTS_DIFFER);

        t = resolver("c1", "h9", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_PENDING_NOT_FOUND);

        t = resolver("c1", "fee", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &plain, &t, 1), LEDGER_PENDING_NOT_PENDING);

        t = resolver("c1", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &other, &p, &t, 1), LEDGER_ACCOUNT_NOT_FOUND);
        assert_int_equal(RESOLVE(&w, &e, NULL, &t, 1), LEDGER_PENDING_NOT_FOUND);
        t.flags = 0;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_FLAGS_INVALID);

        assert_true(account_eq(&w, &w0));
        assert_true(account_eq(&e, &e0));
        assert_memory_equal(&p, &p0, sizeof(p));
}

static void test_corrupt_account_refuses_post(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 50, 0);
        struct ledger_transfer t = resolver("c1", "h1", 0, LEDGER_POST_PENDING,
                                            LEDGER_CAPTURE);

        /* A wallet already over its limit (impossible through the domain;
         * the store's CHECK forbids it too) is refused, not made worse. */
        w.debits_posted = 200;
        assert_int_equal(RESOLVE(&w, &e, &p, &t, 1), LEDGER_EXCEEDS_CREDITS);
        assert_int_equal(p.pending_state, LEDGER_PS_PENDING);
}

/* ---- overflow ------------------------------------------------------------- */

static void test_counters_never_overflow(void **state)
{
        struct ledger_account f = acc(FUNDING, LEDGER_ACC_FUNDING, 0);
        struct ledger_account w = wallet(WALLET, 0);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_account f0, w0;
        struct ledger_transfer t, p, r;

        f.debits_posted = INT64_MAX - 10;
        f0 = f;
        w0 = w;
        t = xfer("big", FUNDING, WALLET, 11, 0, LEDGER_TOPUP);
        assert_int_equal(APPLY(&f, &w, &t), LEDGER_OVERFLOW);
        assert_true(account_eq(&f, &f0));
        assert_true(account_eq(&w, &w0));
        t.amount = 10;
        assert_int_equal(APPLY(&f, &w, &t), LEDGER_OK);
        assert_int_equal(f.debits_posted, INT64_MAX);

        /* Credit side and pending counters too. */
        w = wallet(WALLET, INT64_MAX);
        f = acc(FUNDING, LEDGER_ACC_FUNDING, 0);
        t = xfer("more", FUNDING, WALLET, 1, 0, LEDGER_TOPUP);
        assert_int_equal(APPLY(&f, &w, &t), LEDGER_OVERFLOW);
        e.credits_pending = INT64_MAX;
        t = xfer("h", WALLET, ESCROW, 1, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_OVERFLOW);

        /* debits_posted + debits_pending itself would overflow: refused as
         * over the limit, never wrapped to a small number. */
        w = wallet(WALLET, INT64_MAX);
        w.debits_posted = INT64_MAX - 5;
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        w.debits_pending = 5;
        t = xfer("h", WALLET, ESCROW, 1, LEDGER_PENDING, LEDGER_HOLD);
        assert_int_equal(APPLY(&w, &e, &t), LEDGER_EXCEEDS_CREDITS);

        /* Posting into a full counter. */
        w = wallet(WALLET, 100);
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        p = hold(&w, &e, "h1", 50, 0);
        e.credits_posted = INT64_MAX - 10;
        r = resolver("c1", "h1", 0, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        assert_int_equal(RESOLVE(&w, &e, &p, &r, 1), LEDGER_OVERFLOW);
        assert_int_equal(p.pending_state, LEDGER_PS_PENDING);

        /* A pending counter smaller than the hold (corrupt) cannot go
         * negative. */
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        e.credits_pending = 49;
        assert_int_equal(RESOLVE(&w, &e, &p, &r, 1), LEDGER_OVERFLOW);
        assert_int_equal(e.credits_pending, 49);

        /* Views saturate instead of overflowing. */
        w = wallet(WALLET, 0);
        w.debits_posted = INT64_MAX;
        w.debits_pending = INT64_MAX;
        assert_int_equal(ledger_balance(&w), -INT64_MAX);
        assert_true(ledger_available(&w) == INT64_MIN);
}

/* ---- idempotency ---------------------------------------------------------- */

static void test_compare_names_the_first_differing_field(void **state)
{
        struct ledger_transfer s = xfer("fee-1", WALLET, ESCROW, 100, LEDGER_LINKED, LEDGER_FEE);
        struct ledger_transfer q;
        const char *field = "x";

        snprintf(s.ref, sizeof(s.ref), "reservation:12");
        snprintf(s.reason, sizeof(s.reason), "because");
        s.seq = 42;
        s.ts = 1700000000;              /* set when written: never compared */
        q = s;
        q.seq = 0;
        q.ts = 0;
        assert_int_equal(seen(ledger_compare(&s, &q, &field)), LEDGER_EXISTS);
        assert_null(field);

#define DIFF(mutate, name)                                                            \
        do {                                                                          \
                q = s;                                                                \
                mutate;                                                               \
                assert_int_equal(seen(ledger_compare(&s, &q, &field)),                \
                                 LEDGER_EXISTS_DIFFERENT);                            \
                assert_string_equal(field, name);                                     \
        } while (0)

        DIFF(q.debit_account_id = WALLET2, "debit_account_id");
        DIFF(q.credit_account_id = FUNDING, "credit_account_id");
        DIFF(q.amount = 101, "amount");
        DIFF(snprintf(q.pending_id, sizeof(q.pending_id), "h"), "pending_id");
        DIFF(q.flags = 0, "flags");
        DIFF(q.code = LEDGER_REFUND, "code");
        DIFF(q.timeout_s = 5, "timeout_s");
        DIFF(q.ref[0] = '\0', "ref");
        DIFF(snprintf(q.reason, sizeof(q.reason), "because!"), "reason");
        /* Several differ: the first in the documented order wins. */
        DIFF((q.amount = 1, q.code = LEDGER_REFUND, q.credit_account_id = 99),
             "credit_account_id");
#undef DIFF
        /* field may be NULL. */
        q = s;
        q.amount = 7;
        assert_int_equal(ledger_compare(&s, &q, NULL), LEDGER_EXISTS_DIFFERENT);
}

static void test_compare_uses_the_request_as_given(void **state)
{
        struct ledger_account w = wallet(WALLET, 100);
        struct ledger_account e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        struct ledger_transfer p = hold(&w, &e, "h1", 80, 0);
        struct ledger_transfer req = resolver("c1", "h1", 0, LEDGER_POST_PENDING,
                                              LEDGER_CAPTURE);
        struct ledger_transfer stored = req, retry;
        const char *field;

        assert_int_equal(RESOLVE(&w, &e, &p, &stored, 5), LEDGER_OK);
        assert_int_equal(stored.amount, 80);

        /* The same body again: equal, although the stored row carries the
         * filled-in accounts and amount. */
        retry = req;
        assert_int_equal(ledger_compare(&stored, &retry, &field), LEDGER_EXISTS);
        /* Spelling out what was defaulted is a different request. */
        retry.amount = 80;
        assert_int_equal(ledger_compare(&stored, &retry, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "amount");
        retry = req;
        retry.debit_account_id = WALLET;
        assert_int_equal(ledger_compare(&stored, &retry, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "debit_account_id");

        /* And the other way round: accounts given explicitly stay explicit. */
        w = wallet(WALLET, 100);
        e = acc(ESCROW, LEDGER_ACC_ESCROW, 0);
        p = hold(&w, &e, "h1", 80, 0);
        req = resolver("c1", "h1", 30, LEDGER_POST_PENDING, LEDGER_CAPTURE);
        req.debit_account_id = WALLET;
        req.credit_account_id = ESCROW;
        stored = req;
        assert_int_equal(RESOLVE(&w, &e, &p, &stored, 5), LEDGER_OK);
        assert_int_equal(stored.defaulted, 0);
        retry = req;
        assert_int_equal(ledger_compare(&stored, &retry, &field), LEDGER_EXISTS);
        retry.credit_account_id = 0;
        assert_int_equal(ledger_compare(&stored, &retry, &field), LEDGER_EXISTS_DIFFERENT);
        assert_string_equal(field, "credit_account_id");
}

/* ---- properties ----------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
        /* xorshift64* */
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 2685821657736338717ULL;
}

/* Random plain transfers, holds, posts and voids among a few accounts:
 * after every step the ledger balances (debits == credits, posted and
 * pending) and no wallet is below zero counting its holds. */
static void test_random_operations_keep_the_ledger_balanced(void **state)
{
        enum { NACC = 6, NHOLD = 64, STEPS = 20000 };
        struct ledger_account a[NACC];
        struct ledger_transfer holds[NHOLD];
        int nholds = 0, i, k, step;
        int applied = 0, resolved = 0;

        rng_state = 0x9e3779b97f4a7c15ULL;
        a[0] = acc(1, LEDGER_ACC_ESCROW, 0);
        a[1] = acc(4, LEDGER_ACC_FUNDING, 0);
        for (i = 2; i < NACC; i++)
                a[i] = wallet(10 + i, 0);

        for (step = 0; step < STEPS; step++) {
                int di = (int)(rng() % NACC), ci = (int)(rng() % NACC);
                int64_t amount = 1 + (int64_t)(rng() % 1000);
                unsigned kind = (unsigned)(rng() % 4);
                struct ledger_transfer t;
                char id[32];

                snprintf(id, sizeof(id), "t%d", step);
                if (kind <= 1 || nholds == 0) {
                        if (di == ci)
                                continue;
                        t = xfer(id, a[di].id, a[ci].id, amount,
                                 kind == 1 && nholds < NHOLD ? LEDGER_PENDING : 0, LEDGER_FEE);
                        if (APPLY(&a[di], &a[ci], &t) != LEDGER_OK)
                                continue;
                        applied++;
                        if (t.flags & LEDGER_PENDING) {
                                t.pending_state = LEDGER_PS_PENDING;
                                holds[nholds++] = t;
                        }
                } else {
                        struct ledger_transfer *p = &holds[rng() % (uint64_t)nholds];
                        struct ledger_account *d = NULL, *c = NULL;

                        for (k = 0; k < NACC; k++) {
                                if (a[k].id == p->debit_account_id)
                                        d = &a[k];
                                if (a[k].id == p->credit_account_id)
                                        c = &a[k];
                        }
                        t = resolver(id, p->id, kind == 2 ? (int64_t)(rng() % 1200) : 0,
                                     kind == 2 ? LEDGER_POST_PENDING : LEDGER_VOID_PENDING,
                                     LEDGER_CAPTURE);
                        if (RESOLVE(d, c, p, &t, step) == LEDGER_OK)
                                resolved++;
                }

                int64_t dp = 0, cp = 0, dq = 0, cq = 0;

                for (k = 0; k < NACC; k++) {
                        dp += a[k].debits_posted;
                        cp += a[k].credits_posted;
                        dq += a[k].debits_pending;
                        cq += a[k].credits_pending;
                        if (a[k].code == LEDGER_ACC_WALLET)
                                assert_true(ledger_available(&a[k]) >= 0);
                }
                assert_int_equal(dp, cp);
                assert_int_equal(dq, cq);
        }
        /* The sequence really moved money (not only refusals). */
        assert_true(applied > STEPS / 10);
        assert_true(resolved >= NHOLD / 2);
}

/* Runs last: every result the domain can produce was produced above. */
static void test_every_domain_result_is_reachable(void **state)
{
        int i;

        for (i = 0; i < _LEDGER_RESULT_MAX; i++) {
                if (i == LEDGER_LINKED_EVENT_FAILED || i == LEDGER_LINKED_CHAIN_OPEN)
                        continue;       /* chains are the store's: test_store_ledger */
                if (!reached[i])
                        fail_msg("result %s never produced", ledger_result_name(i));
        }
}

/* CS-6: the provider's top-ups and payouts are ordinary ledger transfers. */
static void test_CS_6_provider_transfers(void **state)
{
        struct ledger_transfer t, hold, res;
        char long_id[80];

        assert_int_equal(ledger_topup_transfer(&t, "pp-1", 4, 9, 5000), 0);
        assert_string_equal(t.id, "topup:pp-1");
        assert_int_equal(t.debit_account_id, 4);
        assert_int_equal(t.credit_account_id, 9);
        assert_int_equal(t.code, LEDGER_TOPUP);
        assert_int_equal(ledger_check_transfer(&t), LEDGER_OK);

        assert_int_equal(ledger_payout_hold(&hold, 42, "p-1", 4, 9, 3000), 0);
        assert_string_equal(hold.id, "payout:42:p-1");
        assert_true(hold.flags & LEDGER_PENDING);
        assert_int_equal(hold.debit_account_id, 9);
        assert_int_equal(hold.credit_account_id, 4);
        assert_int_equal(ledger_check_transfer(&hold), LEDGER_OK);

        assert_int_equal(ledger_payout_result(&res, &hold, true), 0);
        assert_string_equal(res.id, "payout:42:p-1:paid");
        assert_string_equal(res.pending_id, "payout:42:p-1");
        assert_true(res.flags & LEDGER_POST_PENDING);
        assert_int_equal(ledger_payout_result(&res, &hold, false), 0);
        assert_string_equal(res.id, "payout:42:p-1:failed");
        assert_true(res.flags & LEDGER_VOID_PENDING);
        assert_int_equal(res.code, LEDGER_RELEASE);

        /* a hold id leaves room for the result's suffix */
        memset(long_id, 'x', 60);
        long_id[60] = '\0';
        assert_int_equal(ledger_payout_hold(&hold, 42, long_id, 4, 9, 1), -ENAMETOOLONG);
        assert_int_equal(ledger_topup_transfer(&t, long_id, 4, 9, 1), -ENAMETOOLONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_are_stable_snake_case_and_round_trip),
                cmocka_unit_test(test_check_id_syntax),
                cmocka_unit_test(test_check_expiry_ids_are_reserved_for_the_sweeper),
                cmocka_unit_test(test_check_flags),
                cmocka_unit_test(test_check_pending_id),
                cmocka_unit_test(test_check_accounts),
                cmocka_unit_test(test_check_amount),
                cmocka_unit_test(test_check_timeout_only_on_holds),
                cmocka_unit_test(test_check_code_and_reason),
                cmocka_unit_test(test_plain_transfer_moves_posted_money),
                cmocka_unit_test(test_apply_refuses_misuse),
                cmocka_unit_test(test_wallet_never_below_zero_counting_pending),
                cmocka_unit_test(test_hold_counts_only_posted_credits),
                cmocka_unit_test(test_partial_capture_returns_the_rest),
                cmocka_unit_test(test_full_capture_by_default),
                cmocka_unit_test(test_void_returns_everything),
                cmocka_unit_test(test_hold_resolves_exactly_once),
                cmocka_unit_test(test_expiry),
                cmocka_unit_test(test_resolve_refusals_change_nothing),
                cmocka_unit_test(test_corrupt_account_refuses_post),
                cmocka_unit_test(test_counters_never_overflow),
                cmocka_unit_test(test_compare_names_the_first_differing_field),
                cmocka_unit_test(test_compare_uses_the_request_as_given),
                cmocka_unit_test(test_random_operations_keep_the_ledger_balanced),
                cmocka_unit_test(test_every_domain_result_is_reachable),
                cmocka_unit_test(test_CS_6_provider_transfers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
