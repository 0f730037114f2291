/*
 * resv_money.h - how money moves through the wallet at each step of a
 * reservation (issue 5: CS-17, CS-19, CS-20, CS-21, CS-24, CS-27, CS-31 to
 * CS-34): the ledger transfers of each step, built here as plain structs
 * (pure: no I/O) and executed by the store in the same transaction as the
 * state change.
 *
 * The accounts: the user's wallet, the escrow, the host's wallet, the
 * operator's fee revenue and penalty share accounts, and the members' debt
 * accounts (CS-34). One hold per reservation at a time, from the user's
 * wallet to escrow, id "resv:<id>:h<version>"; a changed amount (early
 * use, extension) voids it and holds the new total in one linked chain, so
 * the wallet is charged or refunded the difference at once. Reservation
 * holds have no timeout: the reservation's own schedule resolves them.
 *
 * Transfer ids are deterministic per reservation and step, so a repeated
 * step is answered by the ledger's idempotency instead of paying twice.
 */
#ifndef ENEMANE_DOMAIN_RESV_MONEY_H
#define ENEMANE_DOMAIN_RESV_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "domain/ledger.h"
#include "domain/resv.h"

#define RESV_POSTINGS_MAX LEDGER_CHAIN_MAX

struct resv_accounts {
        int64_t user_wallet;
        int64_t user_debt;
        int64_t host_wallet;
        int64_t host_debt;
        int64_t escrow;
        int64_t fee_revenue;
        int64_t penalty_share;
};

/* A list of transfers, run as one linked chain (all or nothing). */
struct resv_postings {
        struct ledger_transfer t[RESV_POSTINGS_MAX];
        size_t n;
};

void resv_postings_init(struct resv_postings *p);
/* Marks every transfer but the last LEDGER_LINKED. */
void resv_postings_link(struct resv_postings *p);

/* "resv:<id>:h<version>". 0 or -ENAMETOOLONG. */
int resv_hold_id(int64_t resv_id, int version, char out[LEDGER_ID_MAX]);

/* A hold of amount from the user's wallet to escrow (nothing for 0). */
int resv_add_hold(struct resv_postings *p, int64_t resv_id, int version,
                  const struct resv_accounts *a, int64_t amount);
/* Voids hold `version` (nothing when hold_amount is 0: there is none). */
int resv_add_void(struct resv_postings *p, int64_t resv_id, int version, int64_t hold_amount);

/*
 * Settles hold `version` of hold_amount by charging the user `charge`
 * (0 .. hold_amount) for the host (CS-19, CS-27): the hold is posted for
 * charge (the rest returns to the user) or voided when charge is 0, then
 * the escrow pays the host charge less the platform fee and the operator
 * the platform fee. code: LEDGER_FEE (check-out) or LEDGER_CANCELLATION_FEE.
 * tag names the step in the ids ("fee", "cxl"). *platform and *host_net
 * get the split. -EINVAL, -EOVERFLOW, -ENAMETOOLONG, -E2BIG (no room).
 */
int resv_add_settle(struct resv_postings *p, const struct resv_rules *r, int64_t resv_id,
                    int version, int64_t hold_amount, int64_t charge, int code, const char *tag,
                    const struct resv_accounts *a, int64_t *platform, int64_t *host_net);

/*
 * A member pays `amount` it owes (a host's handling fee, CS-17/CS-20, or a
 * user's penalty, CS-33/CS-34) out of `available` in its wallet: what the
 * wallet can pay is transferred at once (payer wallet -> creditor), the
 * rest is posted as a debt (payer debt account -> receivable). For a
 * penalty the creditor is the host and the receivable the escrow (the host
 * is paid when the user pays); with pay_share the host pays the operator
 * its CS-21 share of what was paid now. For a host fee the creditor and
 * the receivable are the operator's fee revenue. Ids "resv:<id>:<tag>",
 * "<tag>-share", "<tag>-debt". *paid and *owed get the split, *share the
 * share paid (may be NULL).
 */
struct resv_charge {
        int64_t amount;
        int64_t available;              /* payer's wallet, >= 0 */
        int64_t payer_wallet;
        int64_t payer_debt;
        int64_t creditor;               /* wallet or account paid at once */
        int64_t receivable;             /* credited by the debt posting */
        int code;                       /* LEDGER_PENALTY or LEDGER_HOST_CANCELLATION_FEE */
        const char *tag;                /* "pen", "hostfee" */
        int64_t share_from;             /* with pay_share: the host's wallet */
        int64_t share_to;               /* the operator's penalty share account */
        int pay_share;
};
int resv_add_charge(struct resv_postings *p, const struct resv_rules *r, int64_t resv_id,
                    const struct resv_charge *c, int64_t *paid, int64_t *owed, int64_t *share);

/*
 * Paying back a debt (CS-34) after a top-up: `pay` (<= what is owed, <=
 * available) from the member's wallet to its debt account; for a penalty
 * debt the escrow then pays the host, and the host the operator its CS-21
 * share of the total paid so far: share(paid_before + pay) -
 * share(paid_before), so the shares always add up to floor(pct x paid).
 * Ids "debt:<debt id>:<n>:pay|host|share".
 */
struct resv_repay {
        int64_t debt_id;
        int n;                          /* repayment number, 1.. */
        int64_t pay;
        int64_t paid_before;            /* of this debt's whole amount */
        int penalty;                    /* 1: a penalty debt (the host is paid) */
        int64_t payer_wallet, payer_debt;
        int64_t escrow, host_wallet, penalty_share;
};
int resv_add_repay(struct resv_postings *p, const struct resv_rules *r,
                   const struct resv_repay *d, int64_t *share);

#endif
