/*
 * ledger.c - the pure rules of the double-entry ledger (see ledger.h):
 * stable names for codes and results, validation of a transfer on its
 * own, the idempotency comparison, and the arithmetic that applies a plain
 * or pending transfer and resolves a hold (post in full or in part, void,
 * expiry), exactly once.
 *
 * No I/O, no allocation. Every function that changes accounts works on
 * copies and writes them back only when every check passed, so a refused
 * transfer leaves nothing behind. All counter arithmetic is checked: a
 * counter that would leave 0 .. INT64_MAX refuses the transfer
 * (LEDGER_OVERFLOW) instead of wrapping.
 */
#include "domain/ledger.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- names --------------------------------------------------------------- */

static const char *const ledger_result_names[_LEDGER_RESULT_MAX] = {
        [LEDGER_OK] = "ok",
        [LEDGER_EXISTS] = "exists",
        [LEDGER_EXISTS_DIFFERENT] = "exists_different",
        [LEDGER_ID_INVALID] = "id_invalid",
        [LEDGER_AMOUNT_INVALID] = "amount_invalid",
        [LEDGER_CODE_INVALID] = "code_invalid",
        [LEDGER_FLAGS_INVALID] = "flags_invalid",
        [LEDGER_ACCOUNTS_SAME] = "accounts_same",
        [LEDGER_ACCOUNT_NOT_FOUND] = "account_not_found",
        [LEDGER_EXCEEDS_CREDITS] = "exceeds_credits",
        [LEDGER_PENDING_ID_REQUIRED] = "pending_id_required",
        [LEDGER_PENDING_ID_INVALID] = "pending_id_invalid",
        [LEDGER_PENDING_NOT_FOUND] = "pending_not_found",
        [LEDGER_PENDING_NOT_PENDING] = "pending_not_pending",
        [LEDGER_PENDING_ALREADY_POSTED] = "pending_already_posted",
        [LEDGER_PENDING_ALREADY_VOIDED] = "pending_already_voided",
        [LEDGER_PENDING_EXPIRED] = "pending_expired",
        [LEDGER_PENDING_ACCOUNTS_DIFFER] = "pending_accounts_differ",
        [LEDGER_AMOUNT_EXCEEDS_PENDING] = "amount_exceeds_pending",
        [LEDGER_TIMEOUT_INVALID] = "timeout_invalid",
        [LEDGER_REASON_REQUIRED] = "reason_required",
        [LEDGER_LINKED_EVENT_FAILED] = "linked_event_failed",
        [LEDGER_LINKED_CHAIN_OPEN] = "linked_chain_open",
        [LEDGER_OVERFLOW] = "overflow",
};

static const char *const ledger_account_code_names[_LEDGER_ACC_CODE_MAX] = {
        [LEDGER_ACC_WALLET] = "wallet",
        [LEDGER_ACC_ESCROW] = "escrow",
        [LEDGER_ACC_FEE_REVENUE] = "fee_revenue",
        [LEDGER_ACC_PENALTY_SHARE] = "penalty_share",
        [LEDGER_ACC_FUNDING] = "funding",
        [LEDGER_ACC_DEBT] = "debt",
};

static const char *const ledger_transfer_code_names[_LEDGER_TRANSFER_CODE_MAX] = {
        [LEDGER_TOPUP] = "top_up",
        [LEDGER_HOLD] = "hold",
        [LEDGER_CAPTURE] = "capture",
        [LEDGER_RELEASE] = "release",
        [LEDGER_EXPIRY] = "expiry",
        [LEDGER_REFUND] = "refund",
        [LEDGER_CANCELLATION_FEE] = "cancellation_fee",
        [LEDGER_PLATFORM_FEE] = "platform_fee",
        [LEDGER_HOST_CANCELLATION_FEE] = "host_cancellation_fee",
        [LEDGER_PENALTY] = "penalty",
        [LEDGER_PENALTY_SHARE] = "penalty_share",
        [LEDGER_PAYOUT] = "payout",
        [LEDGER_CORRECTION] = "correction",
        [LEDGER_FEE] = "fee",
};

static const char *const ledger_pending_state_names[] = {
        [LEDGER_PS_NONE] = "none",
        [LEDGER_PS_PENDING] = "pending",
        [LEDGER_PS_POSTED] = "posted",
        [LEDGER_PS_VOIDED] = "voided",
        [LEDGER_PS_EXPIRED] = "expired",
};

/* The tables above are sized by their enums; a value added without a
 * name is caught by test_ledger_domain (every name non-NULL, distinct). */
_Static_assert(sizeof(ledger_pending_state_names) / sizeof(ledger_pending_state_names[0]) ==
               LEDGER_PS_EXPIRED + 1, "a pending state without a name");

static int ledger_name_find(const char *const *names, int n, const char *s)
{
        int i;

        if (!s)
                return -EINVAL;
        for (i = 0; i < n; i++) {
                if (names[i] && strcmp(names[i], s) == 0)
                        return i;
        }
        return -EINVAL;
}

const char *ledger_result_name(enum ledger_result r)
{
        if ((int)r < 0 || r >= _LEDGER_RESULT_MAX || !ledger_result_names[r])
                return "unknown";
        return ledger_result_names[r];
}

const char *ledger_account_code_name(int code)
{
        if (code < 0 || code >= _LEDGER_ACC_CODE_MAX)
                return NULL;
        return ledger_account_code_names[code];
}

int ledger_account_code_from_name(const char *s)
{
        return ledger_name_find(ledger_account_code_names, _LEDGER_ACC_CODE_MAX, s);
}

const char *ledger_transfer_code_name(int code)
{
        if (code < 0 || code >= _LEDGER_TRANSFER_CODE_MAX)
                return NULL;
        return ledger_transfer_code_names[code];
}

int ledger_transfer_code_from_name(const char *s)
{
        return ledger_name_find(ledger_transfer_code_names, _LEDGER_TRANSFER_CODE_MAX, s);
}

const char *ledger_pending_state_name(int s)
{
        if (s < LEDGER_PS_NONE || s > LEDGER_PS_EXPIRED)
                return NULL;
        return ledger_pending_state_names[s];
}

/* ---- validation ---------------------------------------------------------- */

static bool ledger_id_char_ok(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == ':' || c == '.' || c == '_' || c == '-';
}

/* 1 .. LEDGER_ID_MAX - 1 characters of [A-Za-z0-9:._-], NUL-terminated
 * inside the buffer. */
static bool ledger_id_valid(const char id[LEDGER_ID_MAX])
{
        size_t i;

        for (i = 0; i < LEDGER_ID_MAX; i++) {
                if (id[i] == '\0')
                        return i > 0;
                if (!ledger_id_char_ok(id[i]))
                        return false;
        }
        return false;           /* no NUL inside the buffer */
}

static bool ledger_is_expiry_id(const char *id)
{
        return strncmp(id, LEDGER_EXPIRY_PREFIX, sizeof(LEDGER_EXPIRY_PREFIX) - 1) == 0;
}

/* The only id a caller may give an expiry: "expiry:" + the hold's id. */
static bool ledger_expiry_id_matches(const struct ledger_transfer *t)
{
        const size_t plen = sizeof(LEDGER_EXPIRY_PREFIX) - 1;

        return ledger_is_expiry_id(t->id) &&
               strncmp(t->id + plen, t->pending_id, LEDGER_ID_MAX - plen) == 0;
}

enum ledger_result ledger_check_transfer(const struct ledger_transfer *t)
{
        const unsigned known = LEDGER_PENDING | LEDGER_POST_PENDING | LEDGER_VOID_PENDING |
                               LEDGER_LINKED;
        unsigned kind;
        bool resolve;

        if (!t || !ledger_id_valid(t->id))
                return LEDGER_ID_INVALID;
        /* The sweeper's ids: only the expiry void may carry the prefix. */
        if (ledger_is_expiry_id(t->id) && t->code != LEDGER_EXPIRY)
                return LEDGER_ID_INVALID;

        if (t->flags & ~known)
                return LEDGER_FLAGS_INVALID;
        kind = t->flags & (LEDGER_PENDING | LEDGER_POST_PENDING | LEDGER_VOID_PENDING);
        if (kind & (kind - 1))          /* more than one of the three */
                return LEDGER_FLAGS_INVALID;
        resolve = (kind & (LEDGER_POST_PENDING | LEDGER_VOID_PENDING)) != 0;

        if (resolve) {
                if (t->pending_id[0] == '\0')
                        return LEDGER_PENDING_ID_REQUIRED;
                if (!ledger_id_valid(t->pending_id))
                        return LEDGER_PENDING_ID_INVALID;
        } else if (t->pending_id[0] != '\0') {
                return LEDGER_PENDING_ID_INVALID;
        }

        if (resolve) {
                /* 0 = take the pending transfer's account. */
                if (t->debit_account_id < 0 || t->credit_account_id < 0)
                        return LEDGER_ACCOUNT_NOT_FOUND;
        } else if (t->debit_account_id <= 0 || t->credit_account_id <= 0) {
                return LEDGER_ACCOUNT_NOT_FOUND;
        }
        if (t->debit_account_id != 0 && t->debit_account_id == t->credit_account_id)
                return LEDGER_ACCOUNTS_SAME;

        if (t->amount > LEDGER_AMOUNT_MAX || t->amount < (resolve ? 0 : 1))
                return LEDGER_AMOUNT_INVALID;

        if (kind == LEDGER_PENDING) {
                if (t->timeout_s < 0 || t->timeout_s > LEDGER_TIMEOUT_MAX)
                        return LEDGER_TIMEOUT_INVALID;
        } else if (t->timeout_s != 0) {
                return LEDGER_TIMEOUT_INVALID;
        }

        if (t->code < 0 || t->code >= _LEDGER_TRANSFER_CODE_MAX)
                return LEDGER_CODE_INVALID;
        if (t->code == LEDGER_EXPIRY) {
                if (kind != LEDGER_VOID_PENDING || !ledger_expiry_id_matches(t))
                        return LEDGER_CODE_INVALID;
        }

        if (t->code == LEDGER_CORRECTION && t->reason[0] == '\0')
                return LEDGER_REASON_REQUIRED;
        return LEDGER_OK;
}

/* ---- idempotency ----------------------------------------------------- */

static int ledger_strfield_cmp(const char *a, const char *b, size_t max)
{
        return strncmp(a, b, max);
}

enum ledger_result ledger_compare(const struct ledger_transfer *stored,
                                  const struct ledger_transfer *req, const char **field)
{
        int64_t debit = stored->debit_account_id;
        int64_t credit = stored->credit_account_id;
        int64_t amount = stored->amount;
        const char *f = NULL;

        /* The stored request as it was given: what ledger_resolve filled in
         * was 0 in the request. */
        if (stored->defaulted & LEDGER_DEFAULTED_DEBIT)
                debit = 0;
        if (stored->defaulted & LEDGER_DEFAULTED_CREDIT)
                credit = 0;
        if (stored->defaulted & LEDGER_DEFAULTED_AMOUNT)
                amount = 0;

        if (req->debit_account_id != debit)
                f = "debit_account_id";
        else if (req->credit_account_id != credit)
                f = "credit_account_id";
        else if (req->amount != amount)
                f = "amount";
        else if (ledger_strfield_cmp(req->pending_id, stored->pending_id, LEDGER_ID_MAX) != 0)
                f = "pending_id";
        else if (req->flags != stored->flags)
                f = "flags";
        else if (req->code != stored->code)
                f = "code";
        else if (req->timeout_s != stored->timeout_s)
                f = "timeout_s";
        else if (ledger_strfield_cmp(req->ref, stored->ref, LEDGER_REF_MAX) != 0)
                f = "ref";
        else if (ledger_strfield_cmp(req->reason, stored->reason, LEDGER_REASON_MAX) != 0)
                f = "reason";

        if (field)
                *field = f;
        return f ? LEDGER_EXISTS_DIFFERENT : LEDGER_EXISTS;
}

/* ---- arithmetic ---------------------------------------------------------- */

/* *c += v, staying inside 0 .. INT64_MAX (v may be negative). */
static bool ledger_counter_add(int64_t *c, int64_t v)
{
        int64_t r;

        if (__builtin_add_overflow(*c, v, &r) || r < 0)
                return false;
        *c = r;
        return true;
}

/* The balance rule of a flagged account: debits (posted and pending) never
 * exceed posted credits. The sum is checked for overflow too: counters
 * that big would already have been refused, but the check costs nothing. */
static bool ledger_account_within_limit(const struct ledger_account *a)
{
        int64_t debits;

        if (!(a->flags & LEDGER_ACC_DEBITS_LE_CREDITS))
                return true;
        if (__builtin_add_overflow(a->debits_posted, a->debits_pending, &debits))
                return false;
        return debits <= a->credits_posted;
}

enum ledger_result ledger_apply(struct ledger_account *debit, struct ledger_account *credit,
                                const struct ledger_transfer *t)
{
        struct ledger_account d, c;
        bool ok;

        if (!debit || !credit || !t)
                return LEDGER_ACCOUNT_NOT_FOUND;
        if (t->flags & (LEDGER_POST_PENDING | LEDGER_VOID_PENDING))
                return LEDGER_FLAGS_INVALID;    /* that is ledger_resolve's job */
        if (debit->id != t->debit_account_id || credit->id != t->credit_account_id)
                return LEDGER_ACCOUNT_NOT_FOUND;
        if (debit->id == credit->id)
                return LEDGER_ACCOUNTS_SAME;
        if (t->amount < 1 || t->amount > LEDGER_AMOUNT_MAX)
                return LEDGER_AMOUNT_INVALID;

        d = *debit;
        c = *credit;
        if (t->flags & LEDGER_PENDING)
                ok = ledger_counter_add(&d.debits_pending, t->amount) &&
                     ledger_counter_add(&c.credits_pending, t->amount);
        else
                ok = ledger_counter_add(&d.debits_posted, t->amount) &&
                     ledger_counter_add(&c.credits_posted, t->amount);
        if (!ok)
                return LEDGER_OVERFLOW;
        /* The pending debits count: a hold cannot promise money that a
         * plain debit could spend a second time. */
        if (!ledger_account_within_limit(&d) || !ledger_account_within_limit(&c))
                return LEDGER_EXCEEDS_CREDITS;

        *debit = d;
        *credit = c;
        return LEDGER_OK;
}

enum ledger_result ledger_resolve(struct ledger_account *debit, struct ledger_account *credit,
                                  struct ledger_transfer *p, struct ledger_transfer *t,
                                  int64_t now)
{
        struct ledger_account d, c;
        unsigned defaulted = 0;
        bool post, is_expiry, expired;
        int64_t amount;

        if (!debit || !credit || !p || !t)
                return LEDGER_PENDING_NOT_FOUND;
        post = (t->flags & LEDGER_POST_PENDING) != 0;
        if (!post && !(t->flags & LEDGER_VOID_PENDING))
                return LEDGER_FLAGS_INVALID;
        if (strncmp(p->id, t->pending_id, LEDGER_ID_MAX) != 0)
                return LEDGER_PENDING_NOT_FOUND;
        if (!(p->flags & LEDGER_PENDING))
                return LEDGER_PENDING_NOT_PENDING;
        if ((t->debit_account_id != 0 && t->debit_account_id != p->debit_account_id) ||
            (t->credit_account_id != 0 && t->credit_account_id != p->credit_account_id))
                return LEDGER_PENDING_ACCOUNTS_DIFFER;
        /* The caller must hand in the pending transfer's own accounts. */
        if (debit->id != p->debit_account_id || credit->id != p->credit_account_id ||
            debit->id == credit->id)
                return LEDGER_ACCOUNT_NOT_FOUND;

        /* Exactly once. */
        switch (p->pending_state) {
        case LEDGER_PS_PENDING:
                break;
        case LEDGER_PS_POSTED:
                return LEDGER_PENDING_ALREADY_POSTED;
        case LEDGER_PS_VOIDED:
                return LEDGER_PENDING_ALREADY_VOIDED;
        case LEDGER_PS_EXPIRED:
                return LEDGER_PENDING_EXPIRED;
        default:
                return LEDGER_PENDING_NOT_PENDING;
        }

        /* A hold past its expiry is expired whether or not the sweeper got
         * to it yet; only the expiry itself may resolve it then. */
        is_expiry = !post && t->code == LEDGER_EXPIRY;
        expired = p->expires_at > 0 && now >= p->expires_at;
        if (expired && !is_expiry)
                return LEDGER_PENDING_EXPIRED;
        if (is_expiry && !expired)
                return LEDGER_CODE_INVALID;

        if (post) {
                amount = t->amount != 0 ? t->amount : p->amount;
                if (amount > p->amount)
                        return LEDGER_AMOUNT_EXCEEDS_PENDING;
        } else {
                if (t->amount != 0 && t->amount != p->amount)
                        return LEDGER_AMOUNT_INVALID;
                amount = p->amount;
        }
        if (amount < 1)
                return LEDGER_AMOUNT_INVALID;   /* a stored hold of 0: corrupt */

        /* The whole pending amount leaves the pending counters; a post adds
         * what it takes to the posted ones (the rest simply returns). */
        d = *debit;
        c = *credit;
        if (!ledger_counter_add(&d.debits_pending, -p->amount) ||
            !ledger_counter_add(&c.credits_pending, -p->amount))
                return LEDGER_OVERFLOW;
        if (post && (!ledger_counter_add(&d.debits_posted, amount) ||
                     !ledger_counter_add(&c.credits_posted, amount)))
                return LEDGER_OVERFLOW;
        /* The hold already reserved this money, so a post cannot break the
         * limit (it lowers debits_pending by at least what it posts). The
         * check stays: a corrupt account must refuse rather than sink. */
        if (!ledger_account_within_limit(&d) || !ledger_account_within_limit(&c))
                return LEDGER_EXCEEDS_CREDITS;

        if (t->debit_account_id == 0)
                defaulted |= LEDGER_DEFAULTED_DEBIT;
        if (t->credit_account_id == 0)
                defaulted |= LEDGER_DEFAULTED_CREDIT;
        if (t->amount == 0)
                defaulted |= LEDGER_DEFAULTED_AMOUNT;

        *debit = d;
        *credit = c;
        t->debit_account_id = p->debit_account_id;
        t->credit_account_id = p->credit_account_id;
        t->amount = amount;
        t->defaulted = defaulted;
        t->pending_state = LEDGER_PS_NONE;
        p->pending_state = post ? LEDGER_PS_POSTED : is_expiry ? LEDGER_PS_EXPIRED
                                                               : LEDGER_PS_VOIDED;
        return LEDGER_OK;
}

/* ---- balances ------------------------------------------------------------ */

int64_t ledger_balance(const struct ledger_account *a)
{
        int64_t r;

        /* Both counters are >= 0, so the difference always fits. */
        if (__builtin_sub_overflow(a->credits_posted, a->debits_posted, &r))
                return a->credits_posted < a->debits_posted ? INT64_MIN : INT64_MAX;
        return r;
}

int64_t ledger_available(const struct ledger_account *a)
{
        int64_t r;

        if (__builtin_sub_overflow(ledger_balance(a), a->debits_pending, &r))
                return INT64_MIN;
        return r;
}

/* ---- the wallet provider's transfers -------------------------------------- */

int ledger_topup_transfer(struct ledger_transfer *t, const char *txn, int64_t funding_id,
                          int64_t wallet_id, int64_t amount)
{
        memset(t, 0, sizeof(*t));
        if (snprintf(t->id, sizeof(t->id), "topup:%s", txn) >= (int)sizeof(t->id))
                return -ENAMETOOLONG;
        t->debit_account_id = funding_id;
        t->credit_account_id = wallet_id;
        t->amount = amount;
        t->code = LEDGER_TOPUP;
        return 0;
}

int ledger_payout_hold(struct ledger_transfer *t, int64_t member_id, const char *client_id,
                       int64_t funding_id, int64_t wallet_id, int64_t amount)
{
        memset(t, 0, sizeof(*t));
        /* room for the result's ":failed" suffix too */
        if (snprintf(t->id, sizeof(t->id) - 7, "payout:%lld:%s", (long long)member_id,
                     client_id) >= (int)sizeof(t->id) - 7)
                return -ENAMETOOLONG;
        t->debit_account_id = wallet_id;
        t->credit_account_id = funding_id;
        t->amount = amount;
        t->code = LEDGER_PAYOUT;
        t->flags = LEDGER_PENDING;
        return 0;
}

int ledger_payout_result(struct ledger_transfer *t, const struct ledger_transfer *hold, bool paid)
{
        memset(t, 0, sizeof(*t));
        if (snprintf(t->id, sizeof(t->id), "%s:%s", hold->id, paid ? "paid" : "failed") >=
            (int)sizeof(t->id))
                return -ENAMETOOLONG;
        snprintf(t->pending_id, sizeof(t->pending_id), "%s", hold->id);
        t->flags = paid ? LEDGER_POST_PENDING : LEDGER_VOID_PENDING;
        t->code = paid ? LEDGER_PAYOUT : LEDGER_RELEASE;
        return 0;
}
