/*
 * webhooks.c - what the wallet provider calls: top-ups (money enters a
 * member's wallet from the provider's funding account) and payout results
 * (the provider paid a host out, or could not). Every call is signed:
 *
 *   X-Wallet-Timestamp: <unix seconds>
 *   X-Wallet-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * A wrong or missing signature is refused, so is a timestamp further than
 * wallet.webhook_tolerance from the server's clock, and so is the exact
 * same signed message a second time (replay). A retry that the provider
 * signs anew is answered idempotently by the provider's transaction id.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_resv.h"
#include "api/validate.h"
#include "store/store_ledger.h"
#include "store/store_resv.h"
#include "store/store_webhook.h"
#include "util/crypto.h"

#define TXN_ID_MAX 48

static void unsigned_problem(struct api_ctx *c, const char *code, const char *detail)
{
        problem_respond(c->res, 401, code, "%s", detail);
        http_response_header(c->res, "WWW-Authenticate", "HMAC-SHA256 realm=\"wallet\"");
}

/* Checks the signature headers; renders the refusal and returns <0. */
static int webhook_verify(struct api_ctx *c)
{
        const char *secret = c->app->cfg->wallet_webhook_secret;
        const char *sig = c->req->signature, *ts = c->req->signature_ts;
        char want[CRYPTO_HMAC_HEX + 8], prefix[32];
        long long t;
        char *end = NULL;
        int r;

        if (!secret || !*secret) {
                problem_respond(c->res, 503, "webhooks_disabled",
                                "The wallet webhooks are off: wallet.webhook_secret is not set.");
                return -ENOTCONN;
        }
        if (!sig || !ts || strncmp(sig, "sha256=", 7) != 0) {
                unsigned_problem(c, "bad_signature",
                                 "Sign the call: X-Wallet-Timestamp and X-Wallet-Signature "
                                 "(sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">).");
                return -EACCES;
        }
        t = strtoll(ts, &end, 10);
        if (!*ts || *end) {
                unsigned_problem(c, "bad_signature", "X-Wallet-Timestamp must be unix seconds.");
                return -EACCES;
        }
        if (snprintf(prefix, sizeof(prefix), "%s.", ts) >= (int)sizeof(prefix)) {
                unsigned_problem(c, "bad_signature", "X-Wallet-Timestamp is too long.");
                return -EACCES;
        }
        memcpy(want, "sha256=", 7);
        crypto_hmac_sha256_hex(secret, prefix, strlen(prefix), c->req->body ? c->req->body : "",
                               c->req->body_len, want + 7);
        if (!crypto_streq(want, sig)) {
                unsigned_problem(c, "bad_signature", "The signature does not match the body.");
                return -EACCES;
        }
        if (t < c->now - c->app->cfg->wallet_webhook_tolerance ||
            t > c->now + c->app->cfg->wallet_webhook_tolerance) {
                unsigned_problem(c, "stale_timestamp",
                                 "The timestamp is too far from the server's clock.");
                return -EACCES;
        }
        r = store_webhook_seen(c->app->st, sig + 7, c->now);
        if (r == -EEXIST) {
                problem_respond(c->res, 409, "replayed", "This signed message was received "
                                                         "before; sign a retry anew.");
                return r;
        }
        if (r < 0) {
                api_store_error(c, r, "webhook");
                return r;
        }
        return 0;
}

static bool txn_id_valid(const char *s)
{
        size_t n = strlen(s);

        if (n < 1 || n > TXN_ID_MAX)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *s))
                        return false;
        return true;
}

static void conflict(struct api_ctx *c, const char *what, const char *field)
{
        struct problem *p = problem_new(409, "idempotency_conflict",
                                        "%s exists with other values.", what);

        problem_add_error(p, field ? field : "amount", "conflict",
                          "Differs from the first call with this id.");
        problem_render(p, c->res);
}

/* ---- POST /api/v1/wallet/topups ------------------------------------------- */

void api_wallet_topup(struct api_ctx *c)
{
        static const char *const allowed[] = { "transaction_id", "member_id", "amount", NULL };
        struct store_ledger_result res;
        struct ledger_transfer t;
        struct ledger_account w;
        struct store_member m;
        const char *txn;
        int64_t member_id, amount, debt_paid = 0;
        struct resv_rules rules;
        struct jv v;
        json_t *body;
        int r;

        if (webhook_verify(c) < 0 || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        txn = jv_str(&v, body, NULL, "transaction_id", true, TXN_ID_MAX);
        if (txn && !txn_id_valid(txn))
                jv_error(&v, NULL, "transaction_id", "invalid",
                         "transaction_id must be 1 to %d of A-Z a-z 0-9 . _ -.", TXN_ID_MAX);
        member_id = jv_int(&v, body, NULL, "member_id", true, 1, INT64_MAX, 0);
        amount = jv_int(&v, body, NULL, "amount", true, 1, LEDGER_AMOUNT_MAX, 0);
        r = member_id ? store_member_get(c->app->st, member_id, &m) : 0;
        if (r < 0 && r != -ENOENT) {
                jv_free(&v);
                json_decref(body);
                api_store_error(c, r, "member");
                return;
        }
        if (r == -ENOENT)
                jv_error(&v, NULL, "member_id", "not_found", "No member has this id.");
        else if (member_id && strcmp(m.status, "withdrawn") == 0)
                jv_error(&v, NULL, "member_id", "withdrawn", "This member has withdrawn.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = store_ledger_member_account(c->app->st, member_id, LEDGER_ACC_WALLET, &w);
        if (r == 0)
                r = ledger_topup_transfer(&t, txn, LEDGER_FUNDING_ID, w.id, amount);
        json_decref(body);      /* txn pointed into it */
        if (r < 0) {
                api_store_error(c, r, "wallet");
                return;
        }
        r = store_ledger_execute(c->app->st, &t, 1, &res, c->now, NULL);
        if (r == 0 && (res.result == LEDGER_OK || res.result == LEDGER_EXISTS)) {
                /* CS-34: a top-up pays the member's debts first. */
                api_resv_rules(c->app->cfg, &rules);
                r = store_resv_settle_debts(c->app->st, member_id, &rules, c->now, &debt_paid);
        }
        if (r == 0)
                r = store_ledger_account_get(c->app->st, w.id, &w);
        if (r < 0) {
                api_store_error(c, r, "top-up");
                return;
        }
        if (res.result == LEDGER_EXISTS_DIFFERENT) {
                /* the wallet account stands for the member here */
                conflict(c, "This transaction",
                         res.field && strcmp(res.field, "credit_account_id") == 0 ? "member_id"
                                                                                  : res.field);
                return;
        }
        if (res.result != LEDGER_OK && res.result != LEDGER_EXISTS) {
                problem_respond(c->res, 409, "transfer_failed", "The top-up was refused: %s.",
                                ledger_result_name(res.result));
                return;
        }
        api_json(c, res.result == LEDGER_OK ? 201 : 200,
                 json_pack("{s:s, s:I, s:I, s:I, s:I}", "transfer_id", t.id,
                           "member_id", (json_int_t)member_id, "amount", (json_int_t)t.amount,
                           "balance", (json_int_t)ledger_balance(&w),
                           "debt_paid", (json_int_t)debt_paid));
}

/* ---- POST /api/v1/wallet/payouts/{transfer_id}/result ---------------------- */

void api_wallet_payout_result(struct api_ctx *c)
{
        static const char *const allowed[] = { "transfer_id", "status", NULL };
        const char *tid = http_request_param(c->req, "transfer_id");
        struct store_ledger_result res;
        struct ledger_transfer hold, t;
        const char *status;
        bool paid;
        struct jv v;
        json_t *body;
        int r;

        if (webhook_verify(c) < 0 || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        /* The signature covers the body, not the path: the body must name
         * the payout, or a result signed for one payout could be replayed
         * against another (and two results in one second would collide). */
        const char *named = jv_str(&v, body, NULL, "transfer_id", true, LEDGER_ID_MAX);

        if (named && (!tid || strcmp(named, tid) != 0))
                jv_error(&v, NULL, "transfer_id", "mismatch",
                         "transfer_id must be the payout of the path.");
        status = jv_str(&v, body, NULL, "status", true, 16);
        if (status && strcmp(status, "succeeded") != 0 && strcmp(status, "failed") != 0)
                jv_error(&v, NULL, "status", "invalid", "status must be succeeded or failed.");
        paid = status && strcmp(status, "succeeded") == 0;
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        r = store_ledger_transfer_get(c->app->st, tid ? tid : "", &hold);
        if (r < 0 || hold.code != LEDGER_PAYOUT || !(hold.flags & LEDGER_PENDING)) {
                problem_respond(c->res, 404, "not_found", "No payout has this transfer id.");
                return;
        }
        if (ledger_payout_result(&t, &hold, paid) < 0) {
                problem_respond(c->res, 404, "not_found", "No payout has this transfer id.");
                return;
        }
        r = store_ledger_execute(c->app->st, &t, 1, &res, c->now, NULL);
        if (r < 0) {
                api_store_error(c, r, "payout");
                return;
        }
        if (res.result == LEDGER_PENDING_ALREADY_POSTED ||
            res.result == LEDGER_PENDING_ALREADY_VOIDED ||
            res.result == LEDGER_PENDING_EXPIRED) {
                problem_respond(c->res, 409, "already_resolved",
                                "This payout was already resolved otherwise.");
                return;
        }
        if (res.result != LEDGER_OK && res.result != LEDGER_EXISTS) {
                problem_respond(c->res, 409, "transfer_failed", "The result was refused: %s.",
                                ledger_result_name(res.result));
                return;
        }
        api_json(c, 200, json_pack("{s:s, s:s}", "transfer_id", hold.id, "state",
                                   paid ? "paid" : "failed"));
}
