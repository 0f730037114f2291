/*
 * ledger.c - the operator's view of the ledger and the ledger's own
 * transfer API (TigerBeetle-style batches of up to 16 transfers, linked
 * ones all-or-nothing): execute transfers, read transfers and accounts,
 * account history, reconciliation totals per Tokyo day and code, and the
 * ledger-wide sums whose debits must equal their credits.
 * Also the JSON and query helpers the wallet handlers share (api.h).
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "store/store_ledger.h"
#include "util/timeutil.h"

#define PAGE_MAX 200

json_t *api_transfer_json(const struct ledger_transfer *t)
{
        const char *state = t->pending_state ? ledger_pending_state_name(t->pending_state)
                                             : "posted";
        json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:s, s:b, s:b, s:b, s:b, s:s, s:I,"
                              " s:s, s:s, s:s}",
                              "seq", (json_int_t)t->seq, "id", t->id,
                              "debit_account_id", (json_int_t)t->debit_account_id,
                              "credit_account_id", (json_int_t)t->credit_account_id,
                              "amount", (json_int_t)t->amount,
                              "code", ledger_transfer_code_name(t->code),
                              "pending", (t->flags & LEDGER_PENDING) != 0,
                              "post_pending", (t->flags & LEDGER_POST_PENDING) != 0,
                              "void_pending", (t->flags & LEDGER_VOID_PENDING) != 0,
                              "linked", (t->flags & LEDGER_LINKED) != 0,
                              "pending_id", t->pending_id, "timeout", (json_int_t)t->timeout_s,
                              "state", state, "ref", t->ref, "reason", t->reason);

        if (!o)
                return NULL;
        json_object_set_new(o, "expires_at", api_time(t->expires_at));
        json_object_set_new(o, "time", api_time(t->ts));
        return o;
}

json_t *api_account_json(const struct ledger_account *a)
{
        return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)a->id,
                         "code", ledger_account_code_name(a->code),
                         "member_id", (json_int_t)a->member_id,
                         "debits_posted", (json_int_t)a->debits_posted,
                         "credits_posted", (json_int_t)a->credits_posted,
                         "debits_pending", (json_int_t)a->debits_pending,
                         "credits_pending", (json_int_t)a->credits_pending,
                         "balance", (json_int_t)ledger_balance(a),
                         "available", (json_int_t)ledger_available(a));
}

/* "YYYY-MM-DD" as the start of that day in Asia/Tokyo (unix seconds). */
static int tokyo_day_start(const char *s, int64_t *out)
{
        char iso[40];
        int64_t t;

        if (strlen(s) != 10)
                return -EINVAL;
        snprintf(iso, sizeof(iso), "%sT00:00:00+09:00", s);
        if (time_parse_rfc3339(iso, &t) < 0)
                return -EINVAL;
        *out = t;
        return 0;
}

int api_query_filter(struct api_ctx *c, struct api_transfer_query *q)
{
        static const char *const keys[] = { "from", "to", "code", "after", "limit" };
        char *v[5] = { NULL };
        struct jv jv;
        int64_t t;

        memset(q, 0, sizeof(*q));
        q->code = -1;
        q->limit = 50;
        jv_init(&jv);
        for (int i = 0; i < 5; i++)
                if (http_query_get(c->req->query, keys[i], &v[i]) < 0)
                        jv_error(&jv, NULL, keys[i], "invalid", "Bad percent-encoding.");
        if (v[0] && tokyo_day_start(v[0], &q->from_ts) < 0)
                jv_error(&jv, NULL, "from", "invalid", "from must be a date YYYY-MM-DD.");
        if (v[1] && tokyo_day_start(v[1], &t) < 0)
                jv_error(&jv, NULL, "to", "invalid", "to must be a date YYYY-MM-DD.");
        else if (v[1])
                q->to_ts = t + 86400;   /* the whole day */
        if (v[2]) {
                q->code = ledger_transfer_code_from_name(v[2]);
                if (q->code < 0)
                        jv_error(&jv, NULL, "code", "invalid", "Unknown transfer code '%s'.", v[2]);
        }
        if (v[3]) {
                char *end = NULL;

                q->after = strtoll(v[3], &end, 10);
                if (!*v[3] || *end || q->after < 0)
                        jv_error(&jv, NULL, "after", "invalid", "after must be a sequence number.");
        }
        if (v[4]) {
                char *end = NULL;
                long long n = strtoll(v[4], &end, 10);

                if (!*v[4] || *end || n < 1 || n > PAGE_MAX)
                        jv_error(&jv, NULL, "limit", "invalid", "limit must be 1 to %d.", PAGE_MAX);
                else
                        q->limit = (int)n;
        }
        for (int i = 0; i < 5; i++)
                free(v[i]);
        if (jv_ok(&jv))
                return 0;
        jv_render(&jv, c->res);
        return -EINVAL;
}

/* ---- POST /api/v1/ledger/transfers --------------------------------------- */

static const char *const transfer_fields[] = {
        "id", "debit_account_id", "credit_account_id", "amount", "code", "pending",
        "post_pending", "void_pending", "linked", "pending_id", "timeout", "ref", "reason", NULL,
};

static void copy_str(char *dst, size_t len, const char *src)
{
        snprintf(dst, len, "%s", src ? src : "");
}

static void read_transfer(struct jv *v, json_t *o, const char *prefix, struct ledger_transfer *t)
{
        const char *code;

        memset(t, 0, sizeof(*t));
        jv_unknown(v, o, prefix, transfer_fields);
        copy_str(t->id, sizeof(t->id), jv_str(v, o, prefix, "id", true, LEDGER_ID_MAX - 1));
        t->debit_account_id = jv_int(v, o, prefix, "debit_account_id", false, 0, INT64_MAX, 0);
        t->credit_account_id = jv_int(v, o, prefix, "credit_account_id", false, 0, INT64_MAX, 0);
        t->amount = jv_int(v, o, prefix, "amount", false, 0, LEDGER_AMOUNT_MAX, 0);
        code = jv_str(v, o, prefix, "code", true, 32);
        t->code = code ? ledger_transfer_code_from_name(code) : 0;
        if (code && t->code < 0)
                jv_error(v, prefix, "code", "invalid", "Unknown transfer code '%s'.", code);
        if (jv_bool(v, o, prefix, "pending", false, false))
                t->flags |= LEDGER_PENDING;
        if (jv_bool(v, o, prefix, "post_pending", false, false))
                t->flags |= LEDGER_POST_PENDING;
        if (jv_bool(v, o, prefix, "void_pending", false, false))
                t->flags |= LEDGER_VOID_PENDING;
        if (jv_bool(v, o, prefix, "linked", false, false))
                t->flags |= LEDGER_LINKED;
        copy_str(t->pending_id, sizeof(t->pending_id),
                 jv_str(v, o, prefix, "pending_id", false, LEDGER_ID_MAX - 1));
        t->timeout_s = jv_int(v, o, prefix, "timeout", false, 0, 366LL * 86400, 0);
        copy_str(t->ref, sizeof(t->ref), jv_str(v, o, prefix, "ref", false, LEDGER_REF_MAX - 1));
        copy_str(t->reason, sizeof(t->reason),
                 jv_str(v, o, prefix, "reason", false, LEDGER_REASON_MAX - 1));
}

/* The stored field names as the request spells them. */
static const char *request_field(const char *stored)
{
        if (strcmp(stored, "timeout_s") == 0)
                return "timeout";
        return stored;
}

json_t *api_ledger_results(const struct ledger_transfer *t, const struct store_ledger_result *res,
                           size_t n, bool *all_ok)
{
        json_t *arr = json_array();

        *all_ok = true;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_pack("{s:s, s:s}", "id", t[i].id, "result",
                                      ledger_result_name(res[i].result));
                bool ok = res[i].result == LEDGER_OK || res[i].result == LEDGER_EXISTS;

                if (res[i].field)
                        json_object_set_new(o, "field", json_string(request_field(res[i].field)));
                if (ok)
                        json_object_set_new(o, "transfer", api_transfer_json(&t[i]));
                else
                        *all_ok = false;
                json_array_append_new(arr, o);
        }
        return arr;
}

void api_ledger_transfers_post(struct api_ctx *c)
{
        static const char *const allowed[] = { "transfers", NULL };
        struct ledger_transfer t[LEDGER_CHAIN_MAX];
        struct store_ledger_result res[LEDGER_CHAIN_MAX];
        json_t *body, *arr, *item, *results;
        struct jv v;
        size_t i, n;
        bool all_ok;
        int r;

        if (api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        arr = jv_array(&v, body, NULL, "transfers", true, LEDGER_CHAIN_MAX);
        n = arr ? json_array_size(arr) : 0;
        if (arr && n == 0)
                jv_error(&v, NULL, "transfers", "required", "Give 1 to %d transfers.",
                         LEDGER_CHAIN_MAX);
        json_array_foreach(arr, i, item) {
                char prefix[40];

                snprintf(prefix, sizeof(prefix), "transfers.%zu", i);
                if (!json_is_object(item)) {
                        jv_error(&v, "transfers", prefix + 10, "type", "Must be an object.");
                        continue;
                }
                read_transfer(&v, item, prefix, &t[i]);
        }
        json_decref(body);
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                return;
        }
        r = store_ledger_execute(c->app->st, t, n, res, c->now, &c->actor);
        if (r < 0) {
                api_store_error(c, r, "transfer");
                return;
        }
        results = api_ledger_results(t, res, n, &all_ok);
        if (all_ok) {
                api_json(c, 200, json_pack("{s:o}", "results", results));
                return;
        }
        struct problem *p = problem_new(409, "transfer_failed",
                                        "Some transfers were not executed; see results.");

        problem_set_json(p, "results", results);
        problem_render(p, c->res);
}

/* ---- reads -------------------------------------------------------------- */

void api_ledger_transfer_get(struct api_ctx *c)
{
        const char *id = http_request_param(c->req, "id");
        struct ledger_transfer t;
        int r = store_ledger_transfer_get(c->app->st, id ? id : "", &t);

        if (r < 0) {
                api_store_error(c, r, "transfer");
                return;
        }
        api_json(c, 200, api_transfer_json(&t));
}

void api_ledger_account_get(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        struct ledger_account a;
        int r;

        if (!id)
                return;
        r = store_ledger_account_get(c->app->st, id, &a);
        if (r < 0) {
                api_store_error(c, r, "account");
                return;
        }
        api_json(c, 200, api_account_json(&a));
}

struct page_acc {
        json_t *items;
        int64_t last;
        int n;
};

static void transfer_cb(const struct ledger_transfer *t, void *ud)
{
        struct page_acc *a = ud;

        json_array_append_new(a->items, api_transfer_json(t));
        a->last = t->seq;
        a->n++;
}

void api_ledger_account_transfers(struct api_ctx *c)
{
        struct api_transfer_query q;
        struct store_ledger_filter f;
        struct page_acc acc = { 0 };
        int64_t id = api_param_id(c, "id");
        struct ledger_account a;
        int r;

        if (!id || api_query_filter(c, &q) < 0)
                return;
        r = store_ledger_account_get(c->app->st, id, &a);
        if (r < 0) {
                api_store_error(c, r, "account");
                return;
        }
        f = (struct store_ledger_filter){ id, q.from_ts, q.to_ts, q.code, q.after, q.limit };
        acc.items = json_array();
        r = store_ledger_transfers(c->app->st, &f, transfer_cb, &acc);
        if (r < 0) {
                json_decref(acc.items);
                api_store_error(c, r, "account");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_after",
                                   acc.n == q.limit ? json_integer(acc.last) : json_null()));
}

static void totals_cb(const struct store_ledger_totals_row *row, void *ud)
{
        json_array_append_new(ud, json_pack("{s:s, s:s, s:I, s:I}", "day", row->day, "code",
                                            ledger_transfer_code_name(row->code),
                                            "count", (json_int_t)row->count,
                                            "amount", (json_int_t)row->amount));
}

void api_ledger_totals(struct api_ctx *c)
{
        struct api_transfer_query q;
        struct store_ledger_sums s;
        json_t *days;
        int r;

        if (api_query_filter(c, &q) < 0)
                return;
        days = json_array();
        r = store_ledger_totals(c->app->st, q.from_ts, q.to_ts, totals_cb, days);
        if (r >= 0)
                r = store_ledger_sums(c->app->st, &s);
        if (r < 0) {
                json_decref(days);
                api_store_error(c, r, "ledger");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:b}}", "days", days,
                                   "sums", "debits_posted", (json_int_t)s.debits_posted,
                                   "credits_posted", (json_int_t)s.credits_posted,
                                   "debits_pending", (json_int_t)s.debits_pending,
                                   "credits_pending", (json_int_t)s.credits_pending,
                                   "accounts", (json_int_t)s.accounts,
                                   "transfers", (json_int_t)s.transfers,
                                   "balanced", s.debits_posted == s.credits_posted &&
                                               s.debits_pending == s.credits_pending));
}
