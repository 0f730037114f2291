/*
 * ledger.h - the rules of enemane's double-entry ledger (pure: no I/O).
 *
 * Model (after TigerBeetle): every account carries four counters,
 * debits/credits posted and pending. Money moves only by transfers, each
 * debiting one account and crediting another by the same positive amount,
 * so the sum of all debits always equals the sum of all credits. A
 * transfer is immutable once written; a mistake is fixed by another
 * transfer (code correction).
 *
 *  - A plain transfer posts at once.
 *  - A pending transfer (a hold) adds to debits_pending / credits_pending.
 *    It is resolved exactly once: posted (in full or in part: the rest
 *    returns) by a transfer with LEDGER_POST_PENDING and pending_id, or
 *    voided by LEDGER_VOID_PENDING, or voided by the sweeper when its
 *    timeout passed (code expiry). Resolving removes the whole pending
 *    amount and, for a post, adds the posted amount.
 *  - An account with LEDGER_ACC_DEBITS_LE_CREDITS (every member wallet)
 *    may never have debits_posted + debits_pending > credits_posted: a
 *    hold counts against the balance the moment it is made.
 *  - Transfers flagged LEDGER_LINKED form a chain with the next one; a
 *    chain commits all or nothing.
 *  - The transfer id is the idempotency key: the same id with the same
 *    fields returns the original result; with any field different, the
 *    answer names the first field that differs.
 *
 * Amounts are integer yen, 1 .. LEDGER_AMOUNT_MAX. Counters are int64 and
 * a transfer that would take one out of 0 .. INT64_MAX is refused
 * (LEDGER_OVERFLOW), never wrapped.
 *
 * Transfer ids beginning with "expiry:" are reserved for the hold-expiry
 * sweeper (see store_ledger_expire): a transfer with such an id must be
 * the void with code expiry of exactly the hold "expiry:" names, and code
 * expiry is accepted on nothing else.
 */
#ifndef ENEMANE_DOMAIN_LEDGER_H
#define ENEMANE_DOMAIN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LEDGER_AMOUNT_MAX 1000000000LL  /* one billion yen per transfer */
#define LEDGER_ID_MAX 64                /* transfer id: 1..63 of [A-Za-z0-9:._-] */
#define LEDGER_REF_MAX 64
#define LEDGER_REASON_MAX 256
#define LEDGER_CHAIN_MAX 16             /* transfers in one request/chain */
#define LEDGER_TIMEOUT_MAX (10LL * 366 * 86400) /* a hold's timeout_s: at most ~10 years */
#define LEDGER_EXPIRY_PREFIX "expiry:"  /* ids reserved for the sweeper */

/* What an account is. */
enum ledger_account_code {
        LEDGER_ACC_WALLET = 0,          /* a member's prepaid wallet */
        LEDGER_ACC_ESCROW,              /* holds and captured fees in transit */
        LEDGER_ACC_FEE_REVENUE,         /* the operator's platform fees */
        LEDGER_ACC_PENALTY_SHARE,       /* the operator's share of penalties */
        LEDGER_ACC_FUNDING,             /* the wallet provider: top-ups come from it */
        LEDGER_ACC_DEBT,                /* what a member owes (CS-34), one per member */
        _LEDGER_ACC_CODE_MAX,
};

/* Account flags. */
enum {
        LEDGER_ACC_DEBITS_LE_CREDITS = 1 << 0,
};

/* Why money moved. */
enum ledger_transfer_code {
        LEDGER_TOPUP = 0,
        LEDGER_HOLD,
        LEDGER_CAPTURE,
        LEDGER_RELEASE,                 /* a hold voided on purpose */
        LEDGER_EXPIRY,                  /* a hold voided by its timeout */
        LEDGER_REFUND,
        LEDGER_CANCELLATION_FEE,
        LEDGER_PLATFORM_FEE,
        LEDGER_HOST_CANCELLATION_FEE,
        LEDGER_PENALTY,
        LEDGER_PENALTY_SHARE,
        LEDGER_PAYOUT,
        LEDGER_CORRECTION,
        LEDGER_FEE,                     /* a charge service fee paid to a host (CS-19) */
        _LEDGER_TRANSFER_CODE_MAX,
};

/* Transfer flags. */
enum {
        LEDGER_PENDING = 1 << 0,
        LEDGER_POST_PENDING = 1 << 1,
        LEDGER_VOID_PENDING = 1 << 2,
        LEDGER_LINKED = 1 << 3,
};

/* Which fields a post/void left 0 for ledger_resolve to fill in from the
 * pending transfer (struct ledger_transfer.defaulted). Kept with the
 * transfer so that a retry is compared with the request as it was given. */
enum {
        LEDGER_DEFAULTED_DEBIT = 1 << 0,
        LEDGER_DEFAULTED_CREDIT = 1 << 1,
        LEDGER_DEFAULTED_AMOUNT = 1 << 2,
};

enum ledger_pending_state {
        LEDGER_PS_NONE = 0,             /* not a pending transfer */
        LEDGER_PS_PENDING,
        LEDGER_PS_POSTED,
        LEDGER_PS_VOIDED,
        LEDGER_PS_EXPIRED,
};

struct ledger_account {
        int64_t id;
        int code;                       /* enum ledger_account_code */
        int64_t member_id;              /* 0 for system accounts */
        unsigned flags;
        int64_t debits_posted;
        int64_t credits_posted;
        int64_t debits_pending;
        int64_t credits_pending;
};

struct ledger_transfer {
        char id[LEDGER_ID_MAX];
        int64_t debit_account_id;       /* for post/void: 0 = take the pending's */
        int64_t credit_account_id;
        int64_t amount;                 /* post: 0 = the full pending amount */
        char pending_id[LEDGER_ID_MAX]; /* for post/void */
        unsigned flags;
        int code;                       /* enum ledger_transfer_code */
        int64_t timeout_s;              /* pending only: 0 = no expiry */
        char ref[LEDGER_REF_MAX];       /* caller's reference ("reservation:12") */
        char reason[LEDGER_REASON_MAX]; /* required for corrections */
        /* Set when written: */
        int64_t seq;                    /* global order */
        int64_t ts;                     /* unix seconds */
        int64_t expires_at;             /* pending with timeout: ts + timeout_s */
        int pending_state;              /* enum ledger_pending_state (pending ones) */
        unsigned defaulted;             /* post/void: LEDGER_DEFAULTED_* (by ledger_resolve) */
};

/* Every way a transfer can fail. Stable names (ledger_result_name) are
 * what the API reports. */
enum ledger_result {
        LEDGER_OK = 0,
        LEDGER_EXISTS,                  /* same id, same fields: not an error */
        LEDGER_EXISTS_DIFFERENT,        /* same id, a field differs (see field) */
        LEDGER_ID_INVALID,
        LEDGER_AMOUNT_INVALID,
        LEDGER_CODE_INVALID,
        LEDGER_FLAGS_INVALID,           /* e.g. pending and post at once */
        LEDGER_ACCOUNTS_SAME,
        LEDGER_ACCOUNT_NOT_FOUND,
        LEDGER_EXCEEDS_CREDITS,         /* would overdraw a wallet */
        LEDGER_PENDING_ID_REQUIRED,
        LEDGER_PENDING_ID_INVALID,      /* given without post/void */
        LEDGER_PENDING_NOT_FOUND,
        LEDGER_PENDING_NOT_PENDING,     /* referenced transfer is not a hold */
        LEDGER_PENDING_ALREADY_POSTED,
        LEDGER_PENDING_ALREADY_VOIDED,
        LEDGER_PENDING_EXPIRED,
        LEDGER_PENDING_ACCOUNTS_DIFFER, /* post/void names other accounts */
        LEDGER_AMOUNT_EXCEEDS_PENDING,
        LEDGER_TIMEOUT_INVALID,         /* timeout on a non-pending transfer */
        LEDGER_REASON_REQUIRED,         /* correction without a reason */
        LEDGER_LINKED_EVENT_FAILED,     /* another transfer of the chain failed */
        LEDGER_LINKED_CHAIN_OPEN,       /* last transfer still says linked */
        LEDGER_OVERFLOW,                /* a counter would leave 0 .. INT64_MAX */
        _LEDGER_RESULT_MAX,
};

const char *ledger_result_name(enum ledger_result r);      /* "exceeds_credits" */
const char *ledger_account_code_name(int code);            /* "wallet" */
int ledger_account_code_from_name(const char *s);          /* or -EINVAL */
const char *ledger_transfer_code_name(int code);           /* "top_up" ... */
int ledger_transfer_code_from_name(const char *s);         /* or -EINVAL */
const char *ledger_pending_state_name(int s);              /* "pending", "posted", ... */

/* Checks the transfer on its own (id syntax, amount, code, flags,
 * timeout, reason), in this order: id, flags, pending_id, accounts (an id
 * <= 0 where one is required is account_not_found; post/void may leave
 * them 0), amount (post/void: 0 = take the pending's), timeout, code,
 * reason. */
enum ledger_result ledger_check_transfer(const struct ledger_transfer *t);

/* Compares a new request with the stored transfer of the same id:
 * LEDGER_EXISTS when equal, else LEDGER_EXISTS_DIFFERENT with *field set
 * to the first differing field's name, in this order: "debit_account_id",
 * "credit_account_id", "amount", "pending_id", "flags", "code",
 * "timeout_s", "ref", "reason". Fields the caller left to be defaulted (0
 * accounts/amount on a post) are compared as given in the stored request:
 * a field whose bit is set in stored->defaulted counts as 0 there. */
enum ledger_result ledger_compare(const struct ledger_transfer *stored,
                                  const struct ledger_transfer *req, const char **field);

/* Applies a plain or pending transfer to the two accounts (in memory).
 * debit/credit must be the accounts t names. A wallet (flag
 * LEDGER_ACC_DEBITS_LE_CREDITS) debited by a hold must keep
 * debits_posted + debits_pending + amount <= credits_posted: a hold counts
 * against the balance at once. On failure the accounts are unchanged.
 * The caller sets t's ts, expires_at (ts + timeout_s when timeout_s > 0)
 * and pending_state (LEDGER_PS_PENDING for a hold) when it writes t. */
enum ledger_result ledger_apply(struct ledger_account *debit, struct ledger_account *credit,
                                const struct ledger_transfer *t);

/* Resolves the pending transfer p with t (post or void; a void with code
 * LEDGER_EXPIRY is what the sweeper writes). Fills in t's accounts and
 * amount from p when t left them 0 (and records which in t->defaulted),
 * checks the state and amounts and `now` against p->expires_at, and
 * updates the accounts and p's state. debit/credit must be p's accounts.
 *
 * Exactly once: p must still be LEDGER_PS_PENDING (else
 * pending_already_posted / pending_already_voided / pending_expired). A
 * hold whose expires_at (> 0) is <= now is expired even before the sweeper
 * ran: post and void then fail with pending_expired, and only the expiry
 * void is accepted (an expiry void of a hold not yet expired is
 * code_invalid). A void's amount is 0 or exactly the pending amount
 * (else amount_invalid); a post's is 0 (all) or 1 .. the pending amount
 * (else amount_exceeds_pending); the whole pending amount leaves the
 * pending counters and the posted amount is added to the posted ones.
 * On failure nothing is changed. */
enum ledger_result ledger_resolve(struct ledger_account *debit, struct ledger_account *credit,
                                  struct ledger_transfer *p, struct ledger_transfer *t,
                                  int64_t now);

/* Balance views. balance = credits_posted - debits_posted for a wallet
 * (a credit-normal account); available = balance - debits_pending. The
 * same formulas are used for every account (the funding account, debited
 * by every top-up, so shows a negative balance). available saturates at
 * INT64_MIN instead of overflowing (only reachable with corrupt counters). */
int64_t ledger_balance(const struct ledger_account *a);
int64_t ledger_available(const struct ledger_account *a);

/* ---- the wallet provider's transfers -------------------------------------
 * Built here so the money rules stay out of the handlers. Each returns 0,
 * or -ENAMETOOLONG when the resulting transfer id would not fit. */

/* A top-up: the funding account credits the wallet, id "topup:<txn>". */
int ledger_topup_transfer(struct ledger_transfer *t, const char *txn, int64_t funding_id,
                          int64_t wallet_id, int64_t amount);
/* A payout request: a hold from the wallet towards the funding account,
 * id "payout:<member>:<client id>", resolved by the provider's result. */
int ledger_payout_hold(struct ledger_transfer *t, int64_t member_id, const char *client_id,
                       int64_t funding_id, int64_t wallet_id, int64_t amount);
/* The provider's result for a payout hold: paid posts it in full (the
 * money leaves), failed voids it (the money returns). Id
 * "<hold id>:paid" or "<hold id>:failed", so a repeated result is
 * idempotent and a contrary one is refused by the hold's state. */
int ledger_payout_result(struct ledger_transfer *t, const struct ledger_transfer *hold, bool paid);

#endif
