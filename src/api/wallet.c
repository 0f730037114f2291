/*
 * wallet.c - the member's prepaid wallet (CS-6): balance, available and
 * held amounts, the statement (JSON or CSV), payout requests to the wallet
 * provider, the operator's view of a member's wallet, and the wallet's
 * withdrawal blockers (CS-4: a held amount or a debt).
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "domain/withdrawal.h"
#include "store/store_ledger.h"
#include "util/timeutil.h"

/* A payout's ledger ids "payout:<member>:<id>:failed" must fit LEDGER_ID_MAX. */
#define PAYOUT_ID_MAX 33

/* The wallet view of a member; renders the store error on failure. */
static json_t *wallet_json(struct api_ctx *c, int64_t member_id)
{
        struct ledger_account w, d;
        int r = store_ledger_member_account(c->app->st, member_id, LEDGER_ACC_WALLET, &w);

        if (r == 0)
                r = store_ledger_member_account(c->app->st, member_id, LEDGER_ACC_DEBT, &d);
        if (r < 0) {
                api_store_error(c, r, "wallet");
                return NULL;
        }
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "account_id", (json_int_t)w.id,
                         "debt_account_id", (json_int_t)d.id,
                         "balance", (json_int_t)ledger_balance(&w),
                         "available", (json_int_t)ledger_available(&w),
                         "held", (json_int_t)w.debits_pending,
                         "debt", (json_int_t)(d.debits_posted - d.credits_posted),
                         "currency", "JPY");
}

void api_me_wallet(struct api_ctx *c)
{
        json_t *o = wallet_json(c, c->member_id);

        if (o)
                api_json(c, 200, o);
}

void api_op_member_wallet(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        struct store_member m;
        json_t *o;
        int r;

        if (!id)
                return;
        r = store_member_get(c->app->st, id, &m);
        if (r == 0)
                r = store_audit_append(c->app->st, &c->actor, id, "read", "wallet", c->now);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        o = wallet_json(c, id);
        if (o)
                api_json(c, 200, o);
}

/* ---- statement ------------------------------------------------------------ */

struct statement {
        int64_t account_id;
        bool csv;
        json_t *items;
        struct buf *out;
        int64_t last;
        int n;
};

static const char *state_name(const struct ledger_transfer *t)
{
        return t->pending_state ? ledger_pending_state_name(t->pending_state) : "posted";
}

/* RFC 4180: quote a field that holds a comma, quote or line break. */
static void csv_field(struct buf *b, const char *s)
{
        if (!strpbrk(s, ",\"\r\n")) {
                buf_puts(b, s);
                return;
        }
        buf_puts(b, "\"");
        for (; *s; s++) {
                if (*s == '"')
                        buf_puts(b, "\"");
                buf_append(b, s, 1);
        }
        buf_puts(b, "\"");
}

/* What a statement line does to the balance: holds and their voids or
 * expiries change only what is available (the hold line shows its state),
 * plain transfers and captures move posted money. Summing the effects of
 * every line gives the balance. */
static int64_t balance_effect(const struct ledger_transfer *t, bool credit)
{
        if (t->flags & (LEDGER_PENDING | LEDGER_VOID_PENDING))
                return 0;
        return credit ? t->amount : -t->amount;
}

static void statement_cb(const struct ledger_transfer *t, void *ud)
{
        struct statement *st = ud;
        bool credit = t->credit_account_id == st->account_id;
        const char *dir = credit ? "credit" : "debit";
        int64_t effect = balance_effect(t, credit);
        char when[TIME_RFC3339_MAX];

        st->last = t->seq;
        st->n++;
        time_format_rfc3339(t->ts, when);
        if (!st->csv) {
                json_array_append_new(st->items,
                                      json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
                                                "seq", (json_int_t)t->seq, "id", t->id,
                                                "time", when,
                                                "code", ledger_transfer_code_name(t->code),
                                                "direction", dir, "amount", (json_int_t)t->amount,
                                                "balance_effect", (json_int_t)effect,
                                                "state", state_name(t), "ref", t->ref));
                return;
        }
        buf_printf(st->out, "%lld,%s,%s,%s,%lld,%s,", (long long)t->seq, when,
                   ledger_transfer_code_name(t->code), dir, (long long)t->amount, state_name(t));
        csv_field(st->out, t->ref);
        buf_puts(st->out, ",");
        csv_field(st->out, t->id);
        buf_printf(st->out, ",%lld\r\n", (long long)effect);
}

void api_me_statement(struct api_ctx *c)
{
        struct api_transfer_query q;
        struct store_ledger_filter f;
        struct ledger_account w;
        struct statement st = { 0 };
        char *format = NULL;
        int r;

        if (api_query_filter(c, &q) < 0)
                return;
        http_query_get(c->req->query, "format", &format);
        st.csv = format && strcmp(format, "csv") == 0;
        if (format && !st.csv && strcmp(format, "json") != 0) {
                free(format);
                problem_respond(c->res, 422, "validation_failed", "format must be json or csv.");
                return;
        }
        free(format);
        r = store_ledger_member_account(c->app->st, c->member_id, LEDGER_ACC_WALLET, &w);
        if (r < 0) {
                api_store_error(c, r, "wallet");
                return;
        }
        st.account_id = w.id;
        f = (struct store_ledger_filter){ w.id, q.from_ts, q.to_ts, q.code, q.after, q.limit };
        if (st.csv) {
                st.out = &c->res->body;
                buf_puts(st.out, "seq,time,code,direction,amount,state,ref,transfer_id,"
                                 "balance_effect\r\n");
        } else {
                st.items = json_array();
        }
        r = store_ledger_transfers(c->app->st, &f, statement_cb, &st);
        if (r < 0) {
                json_decref(st.items);
                buf_reset(&c->res->body);
                api_store_error(c, r, "statement");
                return;
        }
        if (st.csv) {
                c->res->status = 200;
                c->res->content_type = "text/csv; charset=utf-8";
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", st.items, "next_after",
                                   st.n == q.limit ? json_integer(st.last) : json_null()));
}

/* ---- payouts ----------------------------------------------------------------- */

static bool payout_id_valid(const char *s)
{
        size_t n = strlen(s);

        if (n < 1 || n >= PAYOUT_ID_MAX)
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *s))
                        return false;
        return true;
}

static const char *payout_state(const struct ledger_transfer *t)
{
        switch (t->pending_state) {
        case LEDGER_PS_POSTED: return "paid";
        case LEDGER_PS_VOIDED:
        case LEDGER_PS_EXPIRED: return "failed";
        default: return "pending";
        }
}

static json_t *payout_json(const char *client_id, const struct ledger_transfer *t)
{
        json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "id", client_id, "transfer_id", t->id,
                              "amount", (json_int_t)t->amount, "state", payout_state(t));

        json_object_set_new(o, "requested_at", api_time(t->ts));
        return o;
}

void api_me_payout_create(struct api_ctx *c)
{
        static const char *const allowed[] = { "id", "amount", NULL };
        struct store_ledger_result res;
        struct ledger_transfer t;
        struct ledger_account w;
        const char *id;
        int64_t amount;
        struct jv v;
        json_t *body;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        id = jv_str(&v, body, NULL, "id", true, PAYOUT_ID_MAX);
        if (id && !payout_id_valid(id))
                jv_error(&v, NULL, "id", "invalid", "id must be 1 to %d of A-Z a-z 0-9 . _ -.",
                         PAYOUT_ID_MAX - 1);
        amount = jv_int(&v, body, NULL, "amount", true, 1, LEDGER_AMOUNT_MAX, 0);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = store_ledger_member_account(c->app->st, c->member_id, LEDGER_ACC_WALLET, &w);
        if (r < 0) {
                json_decref(body);
                api_store_error(c, r, "wallet");
                return;
        }
        char client_id[PAYOUT_ID_MAX];

        snprintf(client_id, sizeof(client_id), "%s", id);
        json_decref(body);
        if (ledger_payout_hold(&t, c->member_id, client_id, LEDGER_FUNDING_ID, w.id,
                               amount) < 0) {
                problem_respond(c->res, 422, "validation_failed", "The payout id is too long.");
                return;
        }
        r = store_ledger_execute(c->app->st, &t, 1, &res, c->now, &c->actor);
        if (r < 0) {
                api_store_error(c, r, "payout");
                return;
        }
        switch (res.result) {
        case LEDGER_OK:
                api_json(c, 202, payout_json(client_id, &t));
                return;
        case LEDGER_EXISTS:
                api_json(c, 200, payout_json(client_id, &t));
                return;
        case LEDGER_EXISTS_DIFFERENT: {
                struct problem *p = problem_new(409, "idempotency_conflict",
                                                "Payout '%s' exists with other values.", client_id);

                problem_add_error(p, res.field ? res.field : "amount", "conflict",
                                  "Differs from the payout first requested with this id.");
                problem_render(p, c->res);
                return;
        }
        case LEDGER_EXCEEDS_CREDITS: {
                struct problem *p = problem_new(409, "insufficient_funds",
                                                "The wallet has %lld yen available.",
                                                (long long)ledger_available(&w));

                problem_set_int(p, "available", ledger_available(&w));
                problem_render(p, c->res);
                return;
        }
        default:
                problem_respond(c->res, 409, "transfer_failed", "The payout was refused: %s.",
                                ledger_result_name(res.result));
        }
}

void api_me_payout_get(struct api_ctx *c)
{
        const char *id = http_request_param(c->req, "id");
        struct ledger_transfer t;
        char tid[LEDGER_ID_MAX + 32];
        int r;

        if (!id || !payout_id_valid(id)) {
                problem_respond(c->res, 404, "not_found", "No such payout.");
                return;
        }
        if (ledger_payout_hold(&t, c->member_id, id, LEDGER_FUNDING_ID, 0, 0) < 0) {
                problem_respond(c->res, 404, "not_found", "No such payout.");
                return;
        }
        snprintf(tid, sizeof(tid), "%s", t.id);
        r = store_ledger_transfer_get(c->app->st, tid, &t);
        if (r < 0) {
                api_store_error(c, r, "payout");
                return;
        }
        api_json(c, 200, payout_json(id, &t));
}

/* ---- withdrawal blockers (CS-4) ------------------------------------------- */

static int wallet_blockers(void *ctx, int64_t member_id, int64_t now,
                           struct withdrawal_result *out)
{
        int64_t held = 0, debt = 0;
        char detail[128];
        int r = store_ledger_member_blockers(ctx, member_id, &held, &debt);

        if (r < 0)
                return r;
        if (held > 0) {
                snprintf(detail, sizeof(detail),
                         "%lld yen is held in your wallet for a pending payment.", (long long)held);
                withdrawal_add(out, WITHDRAWAL_WALLET_HOLD, detail);
        }
        if (debt > 0) {
                snprintf(detail, sizeof(detail), "You owe %lld yen (CS-34).", (long long)debt);
                withdrawal_add(out, WITHDRAWAL_UNPAID_PENALTY, detail);
        }
        return 0;
}

void api_wallet_register_blockers(void)
{
        (void)withdrawal_register("wallet", wallet_blockers);
}
