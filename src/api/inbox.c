/*
 * inbox.c - notifications (CS-39): a member reads their inbox and marks
 * items read; the operator lists the mail outbox by state for support
 * (no bodies, no addresses). The items themselves are written by the
 * transitions that notify (store_notify_db_add) and mailed by the
 * delivery worker (mailer.c).
 */
#include "api/api_inbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "store/store_notify.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 100

/* Renders 422 validation_failed naming the query parameter. */
static void query_invalid(struct api_ctx *c, const char *key, const char *detail)
{
        struct jv v;

        jv_init(&v);
        jv_error(&v, NULL, key, "invalid", "%s", detail);
        jv_render(&v, c->res);
}

/* Reads an integer query parameter in [min, max] into *out (unchanged when
 * absent). -EINVAL when bad (422 rendered). */
static int query_int(struct api_ctx *c, const char *key, int64_t min, int64_t max, int64_t *out)
{
        char *v = NULL, *end = NULL, detail[128];
        long long n = 0;
        int r = http_query_get(c->req->query, key, &v);
        bool ok;

        if (r == 0)
                return 0;
        ok = r > 0 && *v && *v != '+' && *v != '-';
        if (ok) {
                errno = 0;
                n = strtoll(v, &end, 10);
                ok = !errno && !*end && n >= min && n <= max;
        }
        free(v);
        if (ok) {
                *out = n;
                return 0;
        }
        snprintf(detail, sizeof(detail), "%s must be an integer from %lld to %lld.", key,
                 (long long)min, (long long)max);
        query_invalid(c, key, detail);
        return -EINVAL;
}

/* Reads the paging parameters before (an id, 1 or more) and limit. */
static int query_page(struct api_ctx *c, int64_t *before, int *limit)
{
        int64_t l = PAGE_DEFAULT;

        *before = 0;
        if (query_int(c, "before", 1, INT64_MAX, before) < 0 ||
            query_int(c, "limit", 1, PAGE_MAX, &l) < 0)
                return -EINVAL;
        *limit = (int)l;
        return 0;
}

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

/* ---- the member's inbox ------------------------------------------------------ */

struct page_acc {
        json_t *items;
        int64_t last;
};

static void inbox_cb(const struct store_inbox_item *it, void *ud)
{
        struct page_acc *a = ud;

        json_array_append_new(a->items, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}",
                                                  "id", (json_int_t)it->id, "kind", it->kind,
                                                  "subject", it->subject, "body", it->body,
                                                  "ref", str_or_null(it->ref),
                                                  "created_at", api_time(it->created_at),
                                                  "read_at", api_time(it->read_at)));
        a->last = it->id;
}

void api_me_inbox_list(struct api_ctx *c)
{
        struct page_acc acc = { 0 };
        char *v = NULL;
        bool unread_only = false;
        int64_t before, unread = 0;
        int limit, n, count, r;

        if (query_page(c, &before, &limit) < 0)
                return;
        r = http_query_get(c->req->query, "unread", &v);
        if (r > 0 && strcmp(v, "true") == 0) {
                unread_only = true;
        } else if (r != 0 && (r < 0 || strcmp(v, "false") != 0)) {
                free(v);
                query_invalid(c, "unread", "unread must be true or false.");
                return;
        }
        free(v);
        acc.items = json_array();
        n = store_inbox_list(c->app->st, c->member_id, before, limit, unread_only, inbox_cb,
                             &acc);
        count = n;
        if (n >= 0)
                n = store_inbox_unread(c->app->st, c->member_id, &unread);
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "inbox");
                return;
        }
        /* A full page may have a next one; the client asks with before. */
        api_json(c, 200, json_pack("{s:o, s:I, s:o}", "items", acc.items, "unread",
                                   (json_int_t)unread, "next_before",
                                   count == limit ? json_integer(acc.last) : json_null()));
}

void api_me_inbox_read(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        int r;

        if (!id)
                return;
        r = store_inbox_mark_read(c->app->st, c->member_id, id, c->now);
        if (r == -ENOENT) {
                /* Someone else's item answers like a missing one. */
                problem_respond(c->res, 404, "inbox_item_not_found",
                                "Your inbox has no item %lld.", (long long)id);
                return;
        }
        if (r < 0) {
                api_store_error(c, r, "inbox item");
                return;
        }
        c->res->status = 204;
}

/* ---- the operator's view of the outbox ---------------------------------------- */

static void outbox_cb(const struct store_outbox_row *o, void *ud)
{
        struct page_acc *a = ud;
        bool pending = strcmp(o->state, "pending") == 0;

        json_array_append_new(a->items,
                json_pack("{s:I, s:o, s:I, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o}",
                          "id", (json_int_t)o->id,
                          "inbox_id", o->inbox_id ? json_integer(o->inbox_id) : json_null(),
                          "member_id", (json_int_t)o->member_id, "kind", o->kind,
                          "subject", o->subject, "state", o->state,
                          "attempts", (json_int_t)o->attempts,
                          "next_attempt_at", pending ? api_time(o->next_attempt_at)
                                                     : json_null(),
                          "last_error", str_or_null(o->last_error),
                          "created_at", api_time(o->created_at),
                          "sent_at", api_time(o->sent_at)));
        a->last = o->id;
}

void api_op_outbox_list(struct api_ctx *c)
{
        static const char *const states[] = { "pending", "sent", "failed", "dropped" };
        struct page_acc acc = { 0 };
        char *state = NULL;
        int64_t before;
        int limit, n, r;
        bool known = false;

        if (query_page(c, &before, &limit) < 0)
                return;
        r = http_query_get(c->req->query, "state", &state);
        for (size_t i = 0; r > 0 && i < sizeof(states) / sizeof(states[0]); i++)
                known = known || strcmp(state, states[i]) == 0;
        if (r < 0 || (r > 0 && !known)) {
                free(state);
                query_invalid(c, "state", "state must be pending, sent, failed or dropped.");
                return;
        }
        acc.items = json_array();
        n = store_outbox_list(c->app->st, state, before, limit, outbox_cb, &acc);
        free(state);
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "outbox");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_before",
                                   n == limit ? json_integer(acc.last) : json_null()));
}
