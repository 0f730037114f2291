/*
 * resv_money.c - the ledger transfers of each reservation step (see
 * resv_money.h). Pure: builds structs, checks amounts, never executes.
 */
#include "domain/resv_money.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void resv_postings_init(struct resv_postings *p)
{
        memset(p, 0, sizeof(*p));
}

void resv_postings_link(struct resv_postings *p)
{
        for (size_t i = 0; i < p->n; i++) {
                if (i + 1 < p->n)
                        p->t[i].flags |= LEDGER_LINKED;
                else
                        p->t[i].flags &= ~(unsigned)LEDGER_LINKED;
        }
}

/* snprintf into a transfer id field: 0 or -ENAMETOOLONG. */
static int money_id(char out[LEDGER_ID_MAX], const char *fmt, int64_t a, const char *b)
{
        int n = snprintf(out, LEDGER_ID_MAX, fmt, (long long)a, b);

        return (n < 0 || n >= LEDGER_ID_MAX) ? -ENAMETOOLONG : 0;
}

/* The next free transfer, cleared, with its ref; NULL when full. */
static struct ledger_transfer *money_next(struct resv_postings *p, const char *ref_prefix,
                                          int64_t id)
{
        struct ledger_transfer *t;

        if (p->n >= RESV_POSTINGS_MAX)
                return NULL;
        t = &p->t[p->n];
        memset(t, 0, sizeof(*t));
        snprintf(t->ref, sizeof(t->ref), "%s:%lld", ref_prefix, (long long)id);
        return t;
}

int resv_hold_id(int64_t resv_id, int version, char out[LEDGER_ID_MAX])
{
        int n = snprintf(out, LEDGER_ID_MAX, "resv:%lld:h%d", (long long)resv_id, version);

        return (n < 0 || n >= LEDGER_ID_MAX) ? -ENAMETOOLONG : 0;
}

/* A plain transfer debit -> credit. */
static int money_plain(struct resv_postings *p, const char *ref_prefix, int64_t ref_id,
                       const char *id_fmt, int64_t id_a, const char *id_b, int64_t debit,
                       int64_t credit, int64_t amount, int code)
{
        struct ledger_transfer *t;

        if (amount == 0)
                return 0;
        if (amount < 0 || amount > LEDGER_AMOUNT_MAX)
                return -EINVAL;
        t = money_next(p, ref_prefix, ref_id);
        if (!t)
                return -E2BIG;
        if (money_id(t->id, id_fmt, id_a, id_b) < 0)
                return -ENAMETOOLONG;
        t->debit_account_id = debit;
        t->credit_account_id = credit;
        t->amount = amount;
        t->code = code;
        p->n++;
        return 0;
}

int resv_add_hold(struct resv_postings *p, int64_t resv_id, int version,
                  const struct resv_accounts *a, int64_t amount)
{
        struct ledger_transfer *t;

        if (amount == 0)
                return 0;
        if (amount < 0 || amount > LEDGER_AMOUNT_MAX || version < 1)
                return -EINVAL;
        t = money_next(p, "reservation", resv_id);
        if (!t)
                return -E2BIG;
        if (resv_hold_id(resv_id, version, t->id) < 0)
                return -ENAMETOOLONG;
        t->debit_account_id = a->user_wallet;
        t->credit_account_id = a->escrow;
        t->amount = amount;
        t->flags = LEDGER_PENDING;
        t->code = LEDGER_HOLD;
        p->n++;
        return 0;
}

/* A post (amount > 0) or void (amount 0) of hold `version`. */
static int money_resolve(struct resv_postings *p, int64_t resv_id, int version, int64_t amount)
{
        struct ledger_transfer *t = money_next(p, "reservation", resv_id);
        char hold[LEDGER_ID_MAX];

        if (!t)
                return -E2BIG;
        if (resv_hold_id(resv_id, version, hold) < 0)
                return -ENAMETOOLONG;
        if (snprintf(t->id, LEDGER_ID_MAX, "%s:%s", hold, amount > 0 ? "post" : "void") >=
            LEDGER_ID_MAX)
                return -ENAMETOOLONG;
        memcpy(t->pending_id, hold, sizeof(hold));
        t->amount = amount;
        t->flags = amount > 0 ? LEDGER_POST_PENDING : LEDGER_VOID_PENDING;
        t->code = amount > 0 ? LEDGER_CAPTURE : LEDGER_RELEASE;
        p->n++;
        return 0;
}

int resv_add_void(struct resv_postings *p, int64_t resv_id, int version, int64_t hold_amount)
{
        if (hold_amount == 0)
                return 0;
        if (hold_amount < 0 || version < 1)
                return -EINVAL;
        return money_resolve(p, resv_id, version, 0);
}

int resv_add_settle(struct resv_postings *p, const struct resv_rules *r, int64_t resv_id,
                    int version, int64_t hold_amount, int64_t charge, int code, const char *tag,
                    const struct resv_accounts *a, int64_t *platform, int64_t *host_net)
{
        int64_t plat = 0, net = 0;
        int rc;

        if (charge < 0 || charge > hold_amount || !tag)
                return -EINVAL;
        *platform = 0;
        *host_net = 0;
        if (hold_amount == 0)
                return 0;
        if (charge == 0)
                return resv_add_void(p, resv_id, version, hold_amount);
        rc = resv_platform_fee(r, charge, &plat, &net);
        if (rc < 0)
                return rc;
        rc = money_resolve(p, resv_id, version, charge);
        if (rc == 0)
                rc = money_plain(p, "reservation", resv_id, "resv:%lld:%s", resv_id, tag,
                                 a->escrow, a->host_wallet, net, code);
        if (rc == 0) {
                char t2[24];

                snprintf(t2, sizeof(t2), "%s-platform", tag);
                rc = money_plain(p, "reservation", resv_id, "resv:%lld:%s", resv_id, t2,
                                 a->escrow, a->fee_revenue, plat, LEDGER_PLATFORM_FEE);
        }
        if (rc < 0)
                return rc;
        *platform = plat;
        *host_net = net;
        return 0;
}

/* floor(amount x pct / 100) with the rules' penalty share. */
static int money_share(const struct resv_rules *r, int64_t amount, int64_t *share)
{
        int64_t keeps;

        return resv_penalty_share(r, amount, share, &keeps);
}

int resv_add_charge(struct resv_postings *p, const struct resv_rules *r, int64_t resv_id,
                    const struct resv_charge *c, int64_t *paid, int64_t *owed, int64_t *share)
{
        int64_t now_paid, rest, sh = 0;
        char tag[24];
        int rc;

        if (c->amount < 0 || c->available < 0 || !c->tag)
                return -EINVAL;
        now_paid = c->amount < c->available ? c->amount : c->available;
        rest = c->amount - now_paid;
        rc = money_plain(p, "reservation", resv_id, "resv:%lld:%s", resv_id, c->tag,
                         c->payer_wallet, c->creditor, now_paid, c->code);
        if (rc == 0 && c->pay_share && now_paid > 0) {
                rc = money_share(r, now_paid, &sh);
                snprintf(tag, sizeof(tag), "%s-share", c->tag);
                if (rc == 0)
                        rc = money_plain(p, "reservation", resv_id, "resv:%lld:%s", resv_id,
                                         tag, c->share_from, c->share_to, sh,
                                         LEDGER_PENALTY_SHARE);
        }
        if (rc == 0 && rest > 0) {
                snprintf(tag, sizeof(tag), "%s-debt", c->tag);
                rc = money_plain(p, "reservation", resv_id, "resv:%lld:%s", resv_id, tag,
                                 c->payer_debt, c->receivable, rest, c->code);
        }
        if (rc < 0)
                return rc;
        *paid = now_paid;
        *owed = rest;
        if (share)
                *share = sh;
        return 0;
}

int resv_add_repay(struct resv_postings *p, const struct resv_rules *r,
                   const struct resv_repay *d, int64_t *share)
{
        int64_t before = 0, after = 0, sh = 0;
        char tag[32];
        int rc;

        if (d->pay <= 0 || d->paid_before < 0 || d->n < 1)
                return -EINVAL;
        snprintf(tag, sizeof(tag), "%d:pay", d->n);
        rc = money_plain(p, "debt", d->debt_id, "debt:%lld:%s", d->debt_id, tag,
                         d->payer_wallet, d->payer_debt, d->pay,
                         d->penalty ? LEDGER_PENALTY : LEDGER_HOST_CANCELLATION_FEE);
        if (rc == 0 && d->penalty) {
                snprintf(tag, sizeof(tag), "%d:host", d->n);
                rc = money_plain(p, "debt", d->debt_id, "debt:%lld:%s", d->debt_id, tag,
                                 d->escrow, d->host_wallet, d->pay, LEDGER_PENALTY);
                if (rc == 0)
                        rc = money_share(r, d->paid_before, &before);
                if (rc == 0)
                        rc = money_share(r, d->paid_before + d->pay, &after);
                sh = after - before;
                snprintf(tag, sizeof(tag), "%d:share", d->n);
                if (rc == 0)
                        rc = money_plain(p, "debt", d->debt_id, "debt:%lld:%s", d->debt_id, tag,
                                         d->host_wallet, d->penalty_share, sh,
                                         LEDGER_PENALTY_SHARE);
        }
        if (rc < 0)
                return rc;
        if (share)
                *share = sh;
        return 0;
}
