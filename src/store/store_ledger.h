/*
 * store_ledger.h - the ledger in the store: accounts, immutable transfers,
 * chains committed all-or-nothing in one write job, idempotency by
 * transfer id, the hold-expiry sweep, and the read views (wallet,
 * statement, account history, totals per code and day, ledger-wide sums).
 *
 * The rules are in domain/ledger.h; this file only loads the accounts and
 * pending transfers a chain touches, calls the domain, and writes the
 * result, all inside one store_write() job (so group commit applies).
 *
 * Accounts. The four system accounts have fixed ids (below). Each member
 * has at most one wallet and one debt account, created on first use:
 *  - the wallet is credit-normal and flagged LEDGER_ACC_DEBITS_LE_CREDITS:
 *    balance = credits_posted - debits_posted, never below zero counting
 *    the holds (debits_pending);
 *  - the debt account (CS-34) is debit-normal: what the wallet could not
 *    pay is posted as a debit of the debt account (credit: where the money
 *    goes), and paying it back debits the wallet and credits the debt
 *    account. The member owes debits_posted - credits_posted (negative
 *    only if more was paid back than owed: a credit, shown as it is).
 *
 * Schema (migration 3): ledger_accounts and ledger_transfers. Transfer
 * rows are immutable (SQLite triggers refuse DELETE and any UPDATE except
 * a hold's pending_state leaving 'pending'); accounts cannot be deleted and
 * their id, code, member and flags never change. CHECK constraints repeat
 * the money rules of domain/ledger.c as a second net.
 */
#ifndef ENEMANE_STORE_LEDGER_H
#define ENEMANE_STORE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/ledger.h"
#include "store/store.h"

/* Fixed ids of the system accounts (created by the migration). */
#define LEDGER_ESCROW_ID 1
#define LEDGER_FEE_REVENUE_ID 2
#define LEDGER_PENALTY_SHARE_ID 3
#define LEDGER_FUNDING_ID 4

/* The member's wallet (LEDGER_ACC_WALLET) or debt account
 * (LEDGER_ACC_DEBT), created on first use (a write job only then); *out
 * filled. -EINVAL for another code or member_id <= 0. */
int store_ledger_member_account(struct store *st, int64_t member_id, int code,
                                struct ledger_account *out);
int store_ledger_account_get(struct store *st, int64_t id, struct ledger_account *out);

struct store_ledger_result {
        enum ledger_result result;
        const char *field;              /* for LEDGER_EXISTS_DIFFERENT, static */
};

/* Executes n transfers (a chain when flagged linked; unlinked transfers in
 * one call are independent: each succeeds or fails on its own, like
 * TigerBeetle's batches). Written transfers get seq/ts/expires_at/
 * pending_state filled in t[]; results[i] says what happened to t[i]. A
 * transfer answered LEDGER_EXISTS gets the stored transfer copied into
 * t[i]. Returns 0 when the call ran (look at results), negative errno
 * when the store failed (nothing written). `audit` (may be NULL) writes
 * an audit row per member whose wallet a correction touched.
 *
 * n is 1 .. LEDGER_CHAIN_MAX (-EINVAL otherwise). Chains: when one
 * transfer of a chain fails, the chain's earlier transfers are rolled back
 * and every transfer of the chain except the failing one reports
 * LEDGER_LINKED_EVENT_FAILED (its t[] entry restored to the request); the
 * rest of the chain is not tried. LEDGER_EXISTS is a success inside a
 * chain (a retried chain answers EXISTS for each transfer). When the last
 * transfer of the call is still flagged linked, its whole chain reports
 * LEDGER_LINKED_CHAIN_OPEN and nothing of it is tried. Every transfer
 * runs at `now` (ts = now; a hold's expires_at = now + timeout_s). */
struct store_actor;
int store_ledger_execute(struct store *st, struct ledger_transfer *t, size_t n,
                         struct store_ledger_result *results, int64_t now,
                         const struct store_actor *audit);

/* Voids every hold whose expires_at <= now (code LEDGER_EXPIRY, id
 * "expiry:<pending id>", or "expiry:#<pending seq>" when that would not
 * fit in LEDGER_ID_MAX), oldest expiry first, in one write job; *count
 * gets how many. At most `max` (1 .. 10000) per call: call again while
 * *count == max. */
int store_ledger_expire(struct store *st, int64_t now, int max, int *count);

int store_ledger_transfer_get(struct store *st, const char *id, struct ledger_transfer *out);

struct store_ledger_filter {
        int64_t account_id;
        int64_t from_ts;                /* inclusive; 0 = no bound */
        int64_t to_ts;                  /* exclusive; 0 = no bound */
        int code;                       /* -1 = any */
        int64_t after_seq;              /* keyset paging, oldest first */
        int limit;
};
/* Transfers that debit or credit the account (account_id 0: every
 * transfer), oldest first, at most limit (1 .. 1000) with seq > after_seq,
 * ts in [from_ts, to_ts) and the code (if >= 0). Returns the count. */
int store_ledger_transfers(struct store *st, const struct store_ledger_filter *f,
                           void (*cb)(const struct ledger_transfer *t, void *ud), void *ud);

struct store_ledger_totals_row {
        char day[11];                   /* YYYY-MM-DD in Asia/Tokyo */
        int code;
        int64_t count;
        int64_t amount;
};
/* Posted transfers grouped by Tokyo day and code, ts in [from_ts, to_ts)
 * (to_ts 0 = no bound), day then code ascending. Counted are the
 * transfers that moved posted money: plain transfers and posts of holds
 * (the captured part). Holds, voids and expiries move only pending money
 * and are not counted, so a hold captured in part appears once, with the
 * captured amount, under the post's code. Returns the row count. */
int store_ledger_totals(struct store *st, int64_t from_ts, int64_t to_ts,
                        void (*cb)(const struct store_ledger_totals_row *r, void *ud), void *ud);

struct store_ledger_sums {
        int64_t debits_posted, credits_posted, debits_pending, credits_pending;
        int64_t accounts, transfers;
};
/* Sums over every account: the invariant is debits == credits, both kinds.
 * transfers is the number of transfer rows (the highest seq: rows are
 * never deleted and each insert takes the next seq). */
int store_ledger_sums(struct store *st, struct store_ledger_sums *out);

/* For withdrawal (CS-4): what the member has on hold (the wallet's
 * debits_pending) and owes (the debt account's debits_posted -
 * credits_posted); 0 for an account not created yet. */
int store_ledger_member_blockers(struct store *st, int64_t member_id, int64_t *held,
                                 int64_t *debt);

/* ---- for the store's own files (inside a write job on the writer's db) ---- */

/* store_ledger_execute()'s work on db, inside the caller's write job (so a
 * reservation's state change and its money are one transaction). */
int store_ledger_db_execute(sqlite3 *db, struct ledger_transfer *t, size_t n,
                            struct store_ledger_result *results, int64_t now);
/* The member's wallet or debt account, created when missing. */
int store_ledger_db_member_account(sqlite3 *db, int64_t member_id, int code, int64_t now,
                                   struct ledger_account *out);
int store_ledger_db_account(sqlite3 *db, int64_t id, struct ledger_account *out);

#endif
