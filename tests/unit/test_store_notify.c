/*
 * test_store_notify.c - notifications in the store (store_notify.c with
 * the real migrations, CS-39): inbox add, list newest first, paging,
 * unread filter and count, mark read (idempotent; another member's item
 * is not found), the text limits; the mail outbox: claim of due mail with
 * a lease, sent, failed attempts with doubling backoff capped at a day,
 * 'failed' after retry_max, 'dropped' for a withdrawn member or one
 * without an address, release, and the operator's list by state.
 *
 * Members are inserted with raw SQL through a second connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_notify.h"

#define T0 1780239600LL          /* 2026-06-01T00:00:00+09:00 */
#define LEASE 600

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
        sqlite3 *raw;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

static void raw(struct fx *fx, const char *fmt, ...)
{
        char sql[1024];
        char *err = NULL;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(sql, sizeof(sql), fmt, ap);
        va_end(ap);
        if (sqlite3_exec(fx->raw, sql, NULL, NULL, &err) != SQLITE_OK) {
                fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
                sqlite3_free(err);
                fail();
        }
}

static int64_t raw_int(struct fx *fx, const char *sql)
{
        sqlite3_stmt *s = NULL;
        int64_t v = -1;

        assert_int_equal(sqlite3_prepare_v2(fx->raw, sql, -1, &s, NULL), SQLITE_OK);
        if (sqlite3_step(s) == SQLITE_ROW)
                v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        return v;
}

static void add_member(struct fx *fx, int64_t id, const char *status, const char *email)
{
        raw(fx, "INSERT INTO members (id, kind, status, email, email_norm, password_hash, name,"
                " name_kana, phone, postcode, prefecture, city, line1, created_at, updated_at)"
                " VALUES (%" PRId64 ", 'individual', '%s', '%s', NULL, 'x', 'N', 'N', '090',"
                " '100-0001', 'Tokyo', 'Chiyoda', '1-1', 0, 0)",
                id, status, email);
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256] = "";
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-notify-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/notify.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0 || sqlite3_open(fx->path, &fx->raw) != SQLITE_OK) {
                fprintf(stderr, "store: %s\n", err);
                store_close(fx->st);
                nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
                free(fx);
                return -1;
        }
        sqlite3_busy_timeout(fx->raw, 5000);
        add_member(fx, 1, "active", "m1@example.jp");
        add_member(fx, 2, "active", "m2@example.jp");
        add_member(fx, 3, "withdrawn", "gone@example.jp");
        add_member(fx, 4, "active", "");
        add_member(fx, 5, "suspended", "m5@example.jp");
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        sqlite3_close(fx->raw);
        store_close(fx->st);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

/* ---- collecting list results ------------------------------------------------ */

#define GOT_MAX 128

struct got {
        struct store_inbox_item items[16];
        int64_t ids[GOT_MAX];
        int n;
};

static void got_item(const struct store_inbox_item *it, void *ud)
{
        struct got *g = ud;

        if (g->n < 16)
                g->items[g->n] = *it;
        if (g->n < GOT_MAX)
                g->ids[g->n] = it->id;
        g->n++;
}

struct got_rows {
        struct store_outbox_row rows[16];
        int n;
};

static void got_row(const struct store_outbox_row *o, void *ud)
{
        struct got_rows *g = ud;

        if (g->n < 16)
                g->rows[g->n] = *o;
        g->n++;
}

static int64_t add(struct fx *fx, int64_t member, const char *subject, int64_t now)
{
        int64_t id = 0;

        assert_int_equal(store_notify_add(fx->st, member, "reservation.confirmed", subject,
                                          "予約が確定しました。\n開始: 6月1日 10:00",
                                          "reservation:7", now, &id), 0);
        assert_true(id > 0);
        return id;
}

/* ---- inbox ------------------------------------------------------------------- */

static void test_cs39_inbox_add_and_list_newest_first(void **state)
{
        struct fx *fx = *state;
        struct got g = { 0 };
        struct got_rows o = { 0 };
        int64_t a, b, c, other;

        a = add(fx, 1, "予約リクエストが届きました", T0);
        b = add(fx, 1, "予約が確定しました", T0 + 10);
        other = add(fx, 2, "ほかの会員への通知", T0 + 15);
        c = add(fx, 1, "予約がキャンセルされました", T0 + 20);
        assert_int_equal(store_inbox_list(fx->st, 1, 0, 50, false, got_item, &g), 3);
        assert_int_equal(g.n, 3);
        assert_true(g.items[0].id == c && g.items[1].id == b && g.items[2].id == a);
        assert_string_equal(g.items[0].subject, "予約がキャンセルされました");
        assert_string_equal(g.items[0].kind, "reservation.confirmed");
        assert_string_equal(g.items[0].body, "予約が確定しました。\n開始: 6月1日 10:00");
        assert_string_equal(g.items[0].ref, "reservation:7");
        assert_int_equal(g.items[0].member_id, 1);
        assert_int_equal(g.items[0].created_at, T0 + 20);
        assert_int_equal(g.items[0].read_at, 0);

        /* Member 2 sees only their own. */
        memset(&g, 0, sizeof(g));
        assert_int_equal(store_inbox_list(fx->st, 2, 0, 50, false, got_item, &g), 1);
        assert_int_equal(g.items[0].id, other);

        /* Every inbox item is also queued for mail, pending and due now. */
        assert_int_equal(store_outbox_list(fx->st, "pending", 0, 100, got_row, &o), 4);
        assert_int_equal(o.rows[0].inbox_id, c);
        assert_int_equal(o.rows[0].member_id, 1);
        assert_int_equal(o.rows[0].attempts, 0);
        assert_int_equal(o.rows[0].next_attempt_at, T0 + 20);
        assert_string_equal(o.rows[0].subject, "予約がキャンセルされました");
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM outbox WHERE body LIKE '予約が%'"),
                         4);
}

static void test_cs39_inbox_paging(void **state)
{
        struct fx *fx = *state;
        struct got g = { 0 };
        int64_t id[5];

        for (int i = 0; i < 5; i++)
                id[i] = add(fx, 1, "通知", T0 + i);
        assert_int_equal(store_inbox_list(fx->st, 1, 0, 2, false, got_item, &g), 2);
        assert_true(g.ids[0] == id[4] && g.ids[1] == id[3]);
        memset(&g, 0, sizeof(g));
        assert_int_equal(store_inbox_list(fx->st, 1, id[3], 2, false, got_item, &g), 2);
        assert_true(g.ids[0] == id[2] && g.ids[1] == id[1]);
        memset(&g, 0, sizeof(g));
        assert_int_equal(store_inbox_list(fx->st, 1, id[1], 2, false, got_item, &g), 1);
        assert_int_equal(g.ids[0], id[0]);
        memset(&g, 0, sizeof(g));
        assert_int_equal(store_inbox_list(fx->st, 1, id[0], 2, false, got_item, &g), 0);
        /* limit is 1 .. 100 */
        assert_int_equal(store_inbox_list(fx->st, 1, 0, 0, false, got_item, &g), -EINVAL);
        assert_int_equal(store_inbox_list(fx->st, 1, 0, 101, false, got_item, &g), -EINVAL);
        assert_int_equal(store_inbox_list(fx->st, 1, -1, 10, false, got_item, &g), -EINVAL);
}

static void test_cs39_inbox_unread_and_mark_read(void **state)
{
        struct fx *fx = *state;
        struct got g = { 0 };
        int64_t a, b, c, other, count = -1;

        a = add(fx, 1, "一", T0);
        b = add(fx, 1, "二", T0 + 1);
        c = add(fx, 1, "三", T0 + 2);
        other = add(fx, 2, "他", T0 + 3);
        assert_int_equal(store_inbox_unread(fx->st, 1, &count), 0);
        assert_int_equal(count, 3);

        assert_int_equal(store_inbox_mark_read(fx->st, 1, b, T0 + 100), 0);
        assert_int_equal(store_inbox_unread(fx->st, 1, &count), 0);
        assert_int_equal(count, 2);
        /* Idempotent: the first read time stays. */
        assert_int_equal(store_inbox_mark_read(fx->st, 1, b, T0 + 200), 0);
        assert_int_equal(raw_int(fx, "SELECT read_at FROM inbox WHERE subject = '二'"), T0 + 100);

        assert_int_equal(store_inbox_list(fx->st, 1, 0, 50, true, got_item, &g), 2);
        assert_true(g.ids[0] == c && g.ids[1] == a);
        memset(&g, 0, sizeof(g));
        assert_int_equal(store_inbox_list(fx->st, 1, 0, 50, false, got_item, &g), 3);
        assert_int_equal(g.items[1].read_at, T0 + 100);

        /* Another member's item, or none at all: not found, nothing changed. */
        assert_int_equal(store_inbox_mark_read(fx->st, 1, other, T0 + 300), -ENOENT);
        assert_int_equal(store_inbox_mark_read(fx->st, 2, a, T0 + 300), -ENOENT);
        assert_int_equal(store_inbox_mark_read(fx->st, 1, 999999, T0 + 300), -ENOENT);
        assert_int_equal(store_inbox_mark_read(fx->st, 1, 0, T0 + 300), -ENOENT);
        assert_int_equal(store_inbox_unread(fx->st, 2, &count), 0);
        assert_int_equal(count, 1);
        assert_int_equal(raw_int(fx, "SELECT read_at FROM inbox WHERE subject = '一'"), 0);
}

/* n copies of the UTF-8 character ch (or an ASCII byte) into a new string. */
static char *repeat(const char *ch, size_t n)
{
        size_t l = strlen(ch);
        char *s = malloc(l * n + 1);

        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
                memcpy(s + i * l, ch, l);
        s[l * n] = '\0';
        return s;
}

static void test_cs39_limits_refused_never_cut(void **state)
{
        struct fx *fx = *state;
        char *kind63 = repeat("k", NOTIFY_KIND_MAX - 1), *kind64 = repeat("k", NOTIFY_KIND_MAX);
        char *ref63 = repeat("r", NOTIFY_REF_MAX - 1), *ref64 = repeat("r", NOTIFY_REF_MAX);
        char *subj200 = repeat("予", NOTIFY_SUBJECT_MAX / 3);       /* 198 bytes */
        char *subj201 = repeat("a", NOTIFY_SUBJECT_MAX + 1);
        char *body4000 = repeat("a", NOTIFY_BODY_MAX);
        char *body4001 = repeat("a", NOTIFY_BODY_MAX + 1);
        int64_t id = 0;

        /* At the limits: accepted. */
        assert_int_equal(store_notify_add(fx->st, 1, kind63, subj200, body4000, ref63, T0, &id),
                         0);
        assert_true(id > 0);
        /* Over: refused, not cut. */
        assert_int_equal(store_notify_add(fx->st, 1, kind64, "s", "b", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", subj201, "b", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "s", body4001, "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "s", "b", ref64, T0, NULL), -EINVAL);
        /* Malformed text: refused. */
        assert_int_equal(store_notify_add(fx->st, 1, "", "s", "b", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "Bad Kind", "s", "b", "", T0, NULL),
                         -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "", "b", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "two\nlines", "b", "", T0, NULL),
                         -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "bad \xff utf-8", "b", "", T0, NULL),
                         -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "s", "bad \xc3", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 1, "k", "s", "bell \a", "", T0, NULL), -EINVAL);
        assert_int_equal(store_notify_add(fx->st, 0, "k", "s", "b", "", T0, NULL), -EINVAL);
        /* No such member: the foreign key refuses it. */
        assert_true(store_notify_add(fx->st, 777, "k", "s", "b", "", T0, NULL) < 0);
        /* Only the accepted one is stored, whole, in both tables. */
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM inbox"), 1);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM outbox"), 1);
        assert_int_equal(raw_int(fx, "SELECT length(CAST(body AS BLOB)) FROM inbox"),
                         NOTIFY_BODY_MAX);
        assert_int_equal(raw_int(fx, "SELECT length(CAST(subject AS BLOB)) FROM outbox"),
                         strlen(subj200));
        free(kind63);
        free(kind64);
        free(ref63);
        free(ref64);
        free(subj200);
        free(subj201);
        free(body4000);
        free(body4001);
}

/* ---- outbox ------------------------------------------------------------------- */

static void test_cs39_outbox_claim_lease_and_sent(void **state)
{
        struct fx *fx = *state;
        struct store_outbox_mail m[4];
        struct got_rows o = { 0 };
        int64_t inbox = add(fx, 1, "予約が確定しました", T0);
        int dropped = -1;

        /* Not due before its time. */
        assert_int_equal(store_outbox_claim(fx->st, T0 - 1, LEASE, 4, m, &dropped), 0);
        assert_int_equal(dropped, 0);
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 4, m, &dropped), 1);
        assert_int_equal(m[0].inbox_id, inbox);
        assert_int_equal(m[0].member_id, 1);
        assert_string_equal(m[0].to, "m1@example.jp");
        assert_string_equal(m[0].subject, "予約が確定しました");
        assert_string_equal(m[0].body, "予約が確定しました。\n開始: 6月1日 10:00");
        assert_string_equal(m[0].kind, "reservation.confirmed");
        assert_int_equal(m[0].attempts, 0);
        assert_int_equal(m[0].created_at, T0);
        /* Claimed: not handed out again until the lease runs out. */
        assert_int_equal(store_outbox_claim(fx->st, T0 + LEASE - 1, LEASE, 4, m, NULL), 0);
        assert_int_equal(store_outbox_claim(fx->st, T0 + LEASE, LEASE, 4, m, NULL), 1);

        /* The member changed their address meanwhile: the new one is used. */
        raw(fx, "UPDATE members SET email = 'new1@example.jp' WHERE id = 1");
        assert_int_equal(store_outbox_claim(fx->st, T0 + 2 * LEASE, LEASE, 4, m, NULL), 1);
        assert_string_equal(m[0].to, "new1@example.jp");

        assert_int_equal(store_outbox_mark_sent(fx->st, m[0].id, T0 + 2 * LEASE + 1), 0);
        assert_int_equal(store_outbox_list(fx->st, "sent", 0, 10, got_row, &o), 1);
        assert_string_equal(o.rows[0].state, "sent");
        assert_int_equal(o.rows[0].attempts, 1);
        assert_int_equal(o.rows[0].sent_at, T0 + 2 * LEASE + 1);
        /* Sent is final. */
        assert_int_equal(store_outbox_mark_sent(fx->st, m[0].id, T0 + 9999), -ENOENT);
        assert_int_equal(store_outbox_mark_failed(fx->st, m[0].id, "x", T0, 30, 8, NULL),
                         -ENOENT);
        assert_int_equal(store_outbox_claim(fx->st, T0 + 99999, LEASE, 4, m, NULL), 0);
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 0, m, NULL), -EINVAL);
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 101, m, NULL), -EINVAL);
}

static void test_cs39_outbox_backoff(void **state)
{
        struct fx *fx = *state;
        struct store_outbox_mail m[2];
        struct got_rows o = { 0 };
        char st[8] = "";
        int64_t t;

        /* The wait doubles per failed attempt, from the base, up to a day. */
        assert_int_equal(store_outbox_backoff(30, 1), 30);
        assert_int_equal(store_outbox_backoff(30, 2), 60);
        assert_int_equal(store_outbox_backoff(30, 3), 120);
        assert_int_equal(store_outbox_backoff(30, 12), 30 * 2048);
        assert_int_equal(store_outbox_backoff(30, 13), OUTBOX_BACKOFF_CAP);
        assert_int_equal(store_outbox_backoff(30, 1000000), OUTBOX_BACKOFF_CAP);
        assert_int_equal(store_outbox_backoff(100000, 1), OUTBOX_BACKOFF_CAP);
        assert_int_equal(store_outbox_backoff(0, 1), 1);
        assert_int_equal(OUTBOX_BACKOFF_CAP, 86400);

        add(fx, 1, "通知", T0);
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 2, m, NULL), 1);
        assert_int_equal(store_outbox_mark_failed(fx->st, m[0].id, "MAIL FROM: 451 4.3.0 later",
                                                  T0 + 5, 30, 8, st), 0);
        assert_string_equal(st, "pending");
        /* Due again base seconds later, not before. */
        assert_int_equal(store_outbox_claim(fx->st, T0 + 5 + 29, LEASE, 2, m, NULL), 0);
        assert_int_equal(store_outbox_claim(fx->st, T0 + 5 + 30, LEASE, 2, m, NULL), 1);
        assert_int_equal(m[0].attempts, 1);
        t = T0 + 100;
        assert_int_equal(store_outbox_mark_failed(fx->st, m[0].id, "RCPT TO: 450\r\nbusy", t, 30,
                                                  8, st), 0);
        assert_int_equal(store_outbox_list(fx->st, "pending", 0, 10, got_row, &o), 1);
        assert_int_equal(o.rows[0].attempts, 2);
        assert_int_equal(o.rows[0].next_attempt_at, t + 60);
        /* Control bytes from a reply are not stored as such. */
        assert_string_equal(o.rows[0].last_error, "RCPT TO: 450??busy");

        /* Many failures later the wait stops growing at a day. */
        raw(fx, "UPDATE outbox SET attempts = 20");
        assert_int_equal(store_outbox_claim(fx->st, t + 60, LEASE, 2, m, NULL), 1);
        assert_int_equal(store_outbox_mark_failed(fx->st, m[0].id, "x", t + 60, 30, 100, st), 0);
        assert_int_equal(raw_int(fx, "SELECT next_attempt_at FROM outbox"), t + 60 + 86400);
}

static void test_cs39_outbox_failed_after_retry_max(void **state)
{
        struct fx *fx = *state;
        struct store_outbox_mail m[2];
        struct got_rows o = { 0 };
        char st[8] = "", *longerr = repeat("e", 1000);
        int64_t t = T0;

        add(fx, 1, "通知", T0);
        for (int i = 1; i <= 3; i++) {
                assert_int_equal(store_outbox_claim(fx->st, t, LEASE, 2, m, NULL), 1);
                assert_int_equal(m[0].attempts, i - 1);
                assert_int_equal(store_outbox_mark_failed(fx->st, m[0].id, longerr, t, 10, 3, st),
                                 0);
                assert_string_equal(st, i < 3 ? "pending" : "failed");
                t += store_outbox_backoff(10, i);
        }
        /* Failed is final: never claimed again. */
        assert_int_equal(store_outbox_claim(fx->st, t + 10 * 86400, LEASE, 2, m, NULL), 0);
        assert_int_equal(store_outbox_list(fx->st, "failed", 0, 10, got_row, &o), 1);
        assert_int_equal(o.rows[0].attempts, 3);
        assert_int_equal(strlen(o.rows[0].last_error), OUTBOX_ERROR_MAX - 1);
        assert_int_equal(o.rows[0].sent_at, 0);
        free(longerr);
}

static void test_cs39_outbox_dropped_for_withdrawn_member(void **state)
{
        struct fx *fx = *state;
        struct store_outbox_mail m[8];
        struct got_rows o = { 0 };
        int dropped = -1;

        add(fx, 3, "退会済み会員", T0);         /* withdrawn */
        add(fx, 4, "アドレスなし", T0);         /* no address */
        add(fx, 1, "あとで退会", T0);
        add(fx, 5, "利用停止中", T0);           /* suspended: still mailed */
        raw(fx, "UPDATE members SET status = 'withdrawn' WHERE id = 1");
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 8, m, &dropped), 1);
        assert_int_equal(dropped, 3);
        assert_int_equal(m[0].member_id, 5);
        assert_string_equal(m[0].to, "m5@example.jp");
        assert_int_equal(store_outbox_list(fx->st, "dropped", 0, 10, got_row, &o), 3);
        assert_int_equal(o.rows[0].member_id, 1);
        assert_string_equal(o.rows[0].last_error, "member withdrawn");
        assert_int_equal(o.rows[1].member_id, 4);
        assert_string_equal(o.rows[1].last_error, "member has no mail address");
        assert_int_equal(o.rows[2].member_id, 3);
        assert_string_equal(o.rows[2].last_error, "member withdrawn");
        assert_int_equal(o.rows[2].attempts, 0);
        /* Dropped is final; the inbox items stay. */
        assert_int_equal(store_outbox_mark_sent(fx->st, m[0].id, T0), 0);
        assert_int_equal(store_outbox_claim(fx->st, T0 + 99999, LEASE, 8, m, &dropped), 0);
        assert_int_equal(dropped, 0);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM inbox"), 4);
}

static void test_cs39_outbox_release_and_operator_list(void **state)
{
        struct fx *fx = *state;
        struct store_outbox_mail m[4], again[4];
        struct got_rows o = { 0 };
        int64_t last;
        bool found = false;

        for (int i = 0; i < 5; i++)
                add(fx, 1 + i % 2, "通知", T0);
        assert_int_equal(store_outbox_claim(fx->st, T0, LEASE, 2, m, NULL), 2);
        assert_int_equal(store_outbox_mark_sent(fx->st, m[0].id, T0), 0);
        /* Given back untried: due at once, no attempt counted. */
        assert_int_equal(store_outbox_release(fx->st, m[1].id, T0 + 1), 0);
        assert_int_equal(store_outbox_claim(fx->st, T0 + 1, LEASE, 4, again, NULL), 4);
        for (int i = 0; i < 4; i++) {
                if (again[i].id == m[1].id) {
                        found = true;
                        assert_int_equal(again[i].attempts, 0);
                }
        }
        assert_true(found);
        assert_int_equal(store_outbox_release(fx->st, m[0].id, T0), -ENOENT);  /* sent */

        /* All states, newest first, paged with before. */
        assert_int_equal(store_outbox_list(fx->st, NULL, 0, 3, got_row, &o), 3);
        assert_true(o.rows[0].id > o.rows[1].id && o.rows[1].id > o.rows[2].id);
        last = o.rows[2].id;
        memset(&o, 0, sizeof(o));
        assert_int_equal(store_outbox_list(fx->st, NULL, last, 3, got_row, &o), 2);
        assert_true(o.rows[0].id < last);
        memset(&o, 0, sizeof(o));
        assert_int_equal(store_outbox_list(fx->st, "sent", 0, 100, got_row, &o), 1);
        assert_int_equal(o.rows[0].id, m[0].id);
        assert_int_equal(store_outbox_list(fx->st, "pending", 0, 100, got_row, &o), 4);
        assert_int_equal(store_outbox_list(fx->st, "bogus", 0, 10, got_row, &o), -EINVAL);
        assert_int_equal(store_outbox_list(fx->st, NULL, 0, 0, got_row, &o), -EINVAL);
        assert_int_equal(store_outbox_list(fx->st, NULL, 0, 101, got_row, &o), -EINVAL);
}

/* The schema refuses a state outside the four. */
static void test_cs39_outbox_state_check(void **state)
{
        struct fx *fx = *state;
        char *err = NULL;

        add(fx, 1, "通知", T0);
        assert_int_not_equal(sqlite3_exec(fx->raw, "UPDATE outbox SET state = 'lost'", NULL, NULL,
                                          &err), SQLITE_OK);
        sqlite3_free(err);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_cs39_inbox_add_and_list_newest_first, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_inbox_paging, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cs39_inbox_unread_and_mark_read, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_limits_refused_never_cut, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_claim_lease_and_sent, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_failed_after_retry_max, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_dropped_for_withdrawn_member,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_release_and_operator_list, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_cs39_outbox_state_check, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
