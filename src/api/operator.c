/*
 * operator.c - what the operator does with members: list and read them
 * (every read of another member's data is audited, PD-8), suspend with a
 * reason from the fixed list and reinstate (CS-3), read the audit trail.
 */
#include "api/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "domain/member.h"

#define LIST_MAX 200

struct list_acc {
        json_t *items;
        int64_t ids[LIST_MAX];
        int n;
        int64_t last;
};

static void list_cb(const struct store_member *m, void *ud)
{
        struct list_acc *a = ud;

        json_array_append_new(a->items, api_member_json(m));
        if (a->n < LIST_MAX)
                a->ids[a->n++] = m->id;
        a->last = m->id;
}

/* Unknown filter values are errors, not silently empty lists. */
static bool filters_valid(struct api_ctx *c, const char *status, const char *role)
{
        struct jv v;

        jv_init(&v);
        if (status && member_status_from_name(status) < 0)
                jv_error(&v, NULL, "status", "invalid",
                         "status must be active, suspended or withdrawn.");
        if (role && strcmp(role, "member") != 0 && strcmp(role, "operator") != 0)
                jv_error(&v, NULL, "role", "invalid", "role must be member or operator.");
        if (jv_ok(&v))
                return true;
        jv_render(&v, c->res);
        return false;
}

void api_op_members_list(struct api_ctx *c)
{
        struct store_member_filter f = { .limit = 50 };
        struct list_acc acc = { .items = json_array() };
        char *status = NULL, *role = NULL, *email = NULL;
        int64_t limit = 50;
        int n;

        if (api_query_int(c, "after", 0, INT64_MAX, &f.after_id) < 0 ||
            api_query_int(c, "limit", 1, LIST_MAX, &limit) < 0) {
                json_decref(acc.items);
                return;
        }
        f.limit = (int)limit;
        http_query_get(c->req->query, "status", &status);
        http_query_get(c->req->query, "role", &role);
        http_query_get(c->req->query, "email_prefix", &email);
        if (!filters_valid(c, status, role)) {
                free(status);
                free(role);
                free(email);
                json_decref(acc.items);
                return;
        }
        /* emails are matched on their normalised (lower-case) form */
        for (char *q = email; q && *q; q++)
                if (*q >= 'A' && *q <= 'Z')
                        *q = (char)(*q - 'A' + 'a');
        f.status = status;
        f.role = role;
        f.email_prefix = email;
        n = store_member_list(c->app->st, &f, list_cb, &acc);
        free(status);
        free(role);
        free(email);
        if (n > 0)
                n = store_audit_append_many(c->app->st, &c->actor, acc.ids, (size_t)acc.n,
                                            "read", "profile", c->now) < 0 ? -EIO : n;
        if (n < 0) {
                json_decref(acc.items);
                api_store_error(c, n, "member");
                return;
        }
        api_json(c, 200, json_pack("{s:o, s:o}", "items", acc.items, "next_after",
                                   n == f.limit ? json_integer(acc.last) : json_null()));
}

static json_t *history_json(struct api_ctx *c, int64_t id)
{
        struct store_member_status_event ev[32];
        int n = store_member_status_history(c->app->st, id, ev, 32);
        json_t *a = json_array();

        for (int i = 0; i < n; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:o}", "status",
                                                   ev[i].status, "reason", ev[i].reason,
                                                   "note", ev[i].note, "actor_id",
                                                   (json_int_t)ev[i].actor_id, "at",
                                                   api_time(ev[i].at)));
        return a;
}

static void render_member(struct api_ctx *c, int64_t id, int status)
{
        struct store_member m;
        json_t *o;
        int r = store_member_get(c->app->st, id, &m);

        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        o = api_member_json(&m);
        json_object_set_new(o, "status_history", history_json(c, id));
        api_json(c, status, o);
}

void api_op_member_get(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        struct store_member m;
        int r;

        if (!id)
                return;
        r = store_member_get(c->app->st, id, &m);
        /* PD-8: the read is recorded before any personal data leaves. */
        if (r == 0)
                r = store_audit_append(c->app->st, &c->actor, id, "read",
                                       "profile,status_history", c->now);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        render_member(c, id, 200);
}

void api_op_member_suspend(struct api_ctx *c)
{
        static const char *const allowed[] = { "reason", "note", NULL };
        int64_t id = api_param_id(c, "id");
        const char *reason, *note;
        struct store_member m;
        struct jv v;
        json_t *body;
        int r;

        if (!id || api_body_object(c->req, c->res, &body) < 0)
                return;
        jv_init(&v);
        jv_unknown(&v, body, NULL, allowed);
        reason = jv_str(&v, body, NULL, "reason", true, 48);
        note = jv_str(&v, body, NULL, "note", false, 400);
        if (reason && !member_suspend_reason_find(reason))
                jv_error(&v, NULL, "reason", "invalid",
                         "reason must be one of the codes of GET /api/v1/suspension-reasons "
                         "(CS-3).");
        if (id == c->member_id) {
                jv_free(&v);
                json_decref(body);
                problem_respond(c->res, 409, "conflict", "An operator cannot suspend itself.");
                return;
        }
        note = note ? note : "";
        if (*note && member_name_valid(note, 400, NULL) < 0)
                jv_error(&v, NULL, "note", "invalid",
                         "note must be text without control characters.");
        if (!jv_ok(&v)) {
                jv_render(&v, c->res);
                json_decref(body);
                return;
        }
        r = store_member_get(c->app->st, id, &m);
        if (r == 0 && strcmp(m.status, "withdrawn") == 0) {
                json_decref(body);
                problem_respond(c->res, 409, "conflict", "Member %lld has withdrawn.",
                                (long long)id);
                return;
        }
        if (r == 0)
                r = store_member_set_status(c->app->st, id, "suspended", reason,
                                            note, &c->actor, c->now);
        json_decref(body);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        render_member(c, id, 200);
}

void api_op_member_reinstate(struct api_ctx *c)
{
        int64_t id = api_param_id(c, "id");
        struct store_member m;
        int r;

        if (!id)
                return;
        r = store_member_get(c->app->st, id, &m);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        if (strcmp(m.status, "suspended") != 0) {
                problem_respond(c->res, 409, "conflict", "Member %lld is %s, not suspended.",
                                (long long)id, m.status);
                return;
        }
        r = store_member_set_status(c->app->st, id, "active", "", "", &c->actor, c->now);
        if (r < 0) {
                api_store_error(c, r, "member");
                return;
        }
        render_member(c, id, 200);
}

static void audit_cb(const struct store_audit_entry *e, void *ud)
{
        json_array_append_new(ud, json_pack("{s:I, s:o, s:I, s:s, s:I, s:s, s:s, s:s, s:s}",
                                             "id", (json_int_t)e->id, "at", api_time(e->at),
                                             "actor_id", (json_int_t)e->actor_id,
                                             "actor_role", e->actor_role,
                                             "subject_id", (json_int_t)e->subject_id,
                                             "action", e->action, "items", e->items,
                                             "client_ip", e->client_ip,
                                             "request_id", e->request_id));
}

void api_op_audit_list(struct api_ctx *c)
{
        struct store_audit_filter f = { 0 };
        int64_t limit = 100;
        json_t *items = json_array();
        int n;

        if (api_query_int(c, "subject_id", 1, INT64_MAX, &f.subject_id) < 0 ||
            api_query_int(c, "actor_id", 1, INT64_MAX, &f.actor_id) < 0 ||
            api_query_int(c, "before", 1, INT64_MAX, &f.before_id) < 0 ||
            api_query_int(c, "limit", 1, LIST_MAX, &limit) < 0) {
                json_decref(items);
                return;
        }
        f.limit = (int)limit;
        n = store_audit_list(c->app->st, &f, audit_cb, items);
        if (n < 0) {
                json_decref(items);
                api_store_error(c, n, "audit entry");
                return;
        }
        json_t *last = json_array_get(items, json_array_size(items) - 1);

        api_json(c, 200, json_pack("{s:o, s:o}", "items", items, "next_before",
                                   n == f.limit && last ? json_incref(json_object_get(last, "id"))
                                                        : json_null()));
}

void api_suspension_reasons(struct api_ctx *c)
{
        json_t *a = json_array();

        for (size_t i = 0; i < member_suspend_reasons_count; i++)
                json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "code",
                                                   member_suspend_reasons[i].code, "label_en",
                                                   member_suspend_reasons[i].label_en,
                                                   "label_ja", member_suspend_reasons[i].label_ja));
        api_json(c, 200, json_pack("{s:o}", "items", a));
}
