/*
 * store_notify.c - SQL for notifications (CS-39): the members' inboxes and
 * the mail outbox the delivery worker (api/mailer.c) drains. See the
 * header for the contract of each call.
 *
 * An outbox row moves pending -> sent, pending -> failed (retry_max
 * attempts used up) or pending -> dropped (the member withdrew or has no
 * address when the mail comes due); nothing moves it back. The worker
 * "claims" due rows by pushing their next_attempt_at one lease ahead, so a
 * row is never handed out twice while an attempt is under way.
 */
#include "store/store_notify.h"

#include <stdint.h>
#include <string.h>

#include "domain/member.h"
#include "store/sql.h"

const char store_m009_sql[] =
        "CREATE TABLE inbox (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  kind TEXT NOT NULL,                -- 'reservation.confirmed'\n"
        "  subject TEXT NOT NULL,\n"
        "  body TEXT NOT NULL,\n"
        "  ref TEXT NOT NULL DEFAULT '',      -- 'reservation:12'\n"
        "  created_at INTEGER NOT NULL,\n"
        "  read_at INTEGER NOT NULL DEFAULT 0 -- 0 = unread\n"
        ");\n"
        "CREATE INDEX inbox_member ON inbox(member_id, id);\n"
        "CREATE INDEX inbox_unread ON inbox(member_id) WHERE read_at = 0;\n"
        "CREATE TABLE outbox (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  inbox_id INTEGER REFERENCES inbox(id),\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  kind TEXT NOT NULL,\n"
        "  subject TEXT NOT NULL,\n"
        "  body TEXT NOT NULL,\n"
        "  state TEXT NOT NULL DEFAULT 'pending'\n"
        "    CHECK (state IN ('pending','sent','failed','dropped')),\n"
        "  attempts INTEGER NOT NULL DEFAULT 0,\n"
        "  next_attempt_at INTEGER NOT NULL,\n"
        "  last_error TEXT NOT NULL DEFAULT '',\n"
        "  created_at INTEGER NOT NULL,\n"
        "  sent_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX outbox_due ON outbox(next_attempt_at, id) WHERE state = 'pending';\n"
        "CREATE INDEX outbox_state ON outbox(state, id);\n";

#define LIST_MAX 100

/* ---- checks ------------------------------------------------------------- */

/* kind: 1 .. NOTIFY_KIND_MAX - 1 bytes of [a-z0-9._-] ("reservation.confirmed"). */
static bool kind_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n >= NOTIFY_KIND_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];

                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                      ch == '_' || ch == '-'))
                        return false;
        }
        return true;
}

/* Valid UTF-8 of at most max bytes with no control character (but line
 * breaks and tabs when multiline). Empty is fine; NULL counts as empty. */
static bool text_ok(const char *s, size_t max, bool multiline)
{
        size_t n, ncp;

        if (!s)
                return true;
        n = strnlen(s, max + 1);
        if (n > max || member_utf8_length(s, &ncp) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)s[i];

                if (multiline && (ch == '\n' || ch == '\r' || ch == '\t'))
                        continue;
                if (ch < 0x20 || ch == 0x7f)
                        return false;
        }
        return true;
}

static bool state_ok(const char *s)
{
        return strcmp(s, "pending") == 0 || strcmp(s, "sent") == 0 ||
               strcmp(s, "failed") == 0 || strcmp(s, "dropped") == 0;
}

/* ---- adding a notice ------------------------------------------------------ */

int store_notify_db_add(sqlite3 *db, int64_t member_id, const char *kind, const char *subject,
                        const char *body, const char *ref, int64_t now, int64_t *id_out)
{
        sqlite3_stmt *s;
        int64_t inbox_id;
        int r;

        if (member_id <= 0 || !kind_ok(kind) || !subject || !*subject ||
            !text_ok(subject, NOTIFY_SUBJECT_MAX, false) ||
            !text_ok(body, NOTIFY_BODY_MAX, true) || !text_ok(ref, NOTIFY_REF_MAX - 1, false))
                return -EINVAL;
        s = store_prepare(db, "INSERT INTO inbox (member_id, kind, subject, body, ref, created_at)"
                              " VALUES (?, ?, ?, ?, ?, ?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        sql_bind_text(s, 2, kind);
        sql_bind_text(s, 3, subject);
        sql_bind_text(s, 4, body);
        sql_bind_text(s, 5, ref);
        sqlite3_bind_int64(s, 6, now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        inbox_id = sqlite3_last_insert_rowid(db);
        s = store_prepare(db, "INSERT INTO outbox (inbox_id, member_id, kind, subject, body,"
                              " next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, inbox_id);
        sqlite3_bind_int64(s, 2, member_id);
        sql_bind_text(s, 3, kind);
        sql_bind_text(s, 4, subject);
        sql_bind_text(s, 5, body);
        sqlite3_bind_int64(s, 6, now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        if (id_out)
                *id_out = inbox_id;
        return 0;
}

struct add_job {
        int64_t member_id;
        const char *kind, *subject, *body, *ref;
        int64_t now, id;
};

static int add_job_run(sqlite3 *db, void *arg)
{
        struct add_job *j = arg;

        return store_notify_db_add(db, j->member_id, j->kind, j->subject, j->body, j->ref,
                                   j->now, &j->id);
}

int store_notify_add(struct store *st, int64_t member_id, const char *kind, const char *subject,
                     const char *body, const char *ref, int64_t now, int64_t *id_out)
{
        struct add_job j = { member_id, kind, subject, body, ref, now, 0 };
        int r = store_write(st, add_job_run, &j);

        if (r == 0 && id_out)
                *id_out = j.id;
        return r;
}

/* ---- inbox ---------------------------------------------------------------- */

static void item_from_row(sqlite3_stmt *s, struct store_inbox_item *it)
{
        it->id = sqlite3_column_int64(s, 0);
        it->member_id = sqlite3_column_int64(s, 1);
        sql_col_copy(s, 2, it->kind, sizeof(it->kind));
        sql_col_copy(s, 3, it->subject, sizeof(it->subject));
        sql_col_copy(s, 4, it->body, sizeof(it->body));
        sql_col_copy(s, 5, it->ref, sizeof(it->ref));
        it->created_at = sqlite3_column_int64(s, 6);
        it->read_at = sqlite3_column_int64(s, 7);
}

int store_inbox_list(struct store *st, int64_t member_id, int64_t before_id, int limit,
                     bool unread_only, void (*cb)(const struct store_inbox_item *it, void *ud),
                     void *ud)
{
        sqlite3 *db;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (limit < 1 || limit > LIST_MAX || before_id < 0 || !cb)
                return -EINVAL;
        db = store_reader(st);
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, member_id, kind, subject, body, ref, created_at, read_at"
                              " FROM inbox WHERE member_id = ?1 AND id < ?2"
                              " AND (?3 = 0 OR read_at = 0) ORDER BY id DESC LIMIT ?4");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        sqlite3_bind_int64(s, 2, before_id > 0 ? before_id : INT64_MAX);
        sqlite3_bind_int(s, 3, unread_only ? 1 : 0);
        sqlite3_bind_int(s, 4, limit);
        for (;;) {
                struct store_inbox_item it;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                item_from_row(s, &it);
                cb(&it, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

struct read_job {
        int64_t member_id, id, now;
};

static int read_job_run(sqlite3 *db, void *arg)
{
        struct read_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE inbox SET read_at = ?3"
                                            " WHERE id = ?1 AND member_id = ?2 AND read_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->member_id);
        sqlite3_bind_int64(s, 3, j->now);
        r = sql_exec_change(s);
        if (r != -ENOENT)
                return r;
        /* Nothing changed: read already (fine, idempotent) or not theirs. */
        s = store_prepare(db, "SELECT 1 FROM inbox WHERE id = ? AND member_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->member_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

int store_inbox_mark_read(struct store *st, int64_t member_id, int64_t id, int64_t now)
{
        struct read_job j = { member_id, id, now };

        if (member_id <= 0 || id <= 0)
                return -ENOENT;
        return store_write(st, read_job_run, &j);
}

int store_inbox_unread(struct store *st, int64_t member_id, int64_t *count)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT count(*) FROM inbox WHERE member_id = ? AND read_at = 0");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        r = sql_step_row(s);
        if (r == 1)
                *count = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -EIO : r;
}

/* ---- outbox --------------------------------------------------------------- */

int64_t store_outbox_backoff(int64_t base_s, int64_t attempts)
{
        int64_t d = base_s < 1 ? 1 : base_s;

        if (d >= OUTBOX_BACKOFF_CAP)
                return OUTBOX_BACKOFF_CAP;
        /* Doubling stops at the cap, so d never overflows. */
        for (int64_t i = 1; i < attempts; i++) {
                d *= 2;
                if (d >= OUTBOX_BACKOFF_CAP)
                        return OUTBOX_BACKOFF_CAP;
        }
        return d;
}

struct claim_job {
        int64_t now, lease;
        int max;
        struct store_outbox_mail *out;
        int n, dropped;
};

/* Marks one row dropped, saying why. */
static int drop_row(sqlite3 *db, int64_t id, const char *why)
{
        sqlite3_stmt *s = store_prepare(db, "UPDATE outbox SET state = 'dropped', last_error = ?2"
                                            " WHERE id = ?1 AND state = 'pending'");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        sql_bind_text(s, 2, why);
        return sql_exec_reset(s);
}

static int claim_job_run(sqlite3 *db, void *arg)
{
        struct claim_job *j = arg;
        /* Rows are read first and changed after the SELECT is reset: SQLite
         * does not promise what a running scan sees of its own updates. */
        int64_t drop_ids[LIST_MAX];
        bool drop_withdrawn[LIST_MAX];
        int nd = 0, rc, r;
        sqlite3_stmt *s = store_prepare(db,
                "SELECT o.id, o.inbox_id, o.member_id, o.kind, o.subject, o.body, o.attempts,"
                " o.created_at, m.status, m.email"
                " FROM outbox o JOIN members m ON m.id = o.member_id"
                " WHERE o.state = 'pending' AND o.next_attempt_at <= ?1"
                " ORDER BY o.next_attempt_at, o.id LIMIT ?2");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->now);
        sqlite3_bind_int(s, 2, j->max);
        for (;;) {
                const unsigned char *status, *email;
                struct store_outbox_mail *m;
                bool withdrawn;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                status = sqlite3_column_text(s, 8);
                email = sqlite3_column_text(s, 9);
                withdrawn = !status || strcmp((const char *)status, "withdrawn") == 0;
                if (withdrawn || !email || !*email) {
                        drop_withdrawn[nd] = withdrawn;
                        drop_ids[nd++] = sqlite3_column_int64(s, 0);
                        continue;
                }
                m = &j->out[j->n++];
                m->id = sqlite3_column_int64(s, 0);
                m->inbox_id = sqlite3_column_int64(s, 1);
                m->member_id = sqlite3_column_int64(s, 2);
                sql_col_copy(s, 3, m->kind, sizeof(m->kind));
                sql_col_copy(s, 4, m->subject, sizeof(m->subject));
                sql_col_copy(s, 5, m->body, sizeof(m->body));
                m->attempts = sqlite3_column_int64(s, 6);
                m->created_at = sqlite3_column_int64(s, 7);
                sql_col_copy(s, 9, m->to, sizeof(m->to));
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        for (int i = 0; i < nd; i++) {
                r = drop_row(db, drop_ids[i], drop_withdrawn[i] ? "member withdrawn"
                                                                 : "member has no mail address");
                if (r < 0)
                        return r;
        }
        j->dropped = nd;
        s = store_prepare(db, "UPDATE outbox SET next_attempt_at = ?2"
                              " WHERE id = ?1 AND state = 'pending'");
        if (!s)
                return -EIO;
        for (int i = 0; i < j->n; i++) {
                sqlite3_bind_int64(s, 1, j->out[i].id);
                sqlite3_bind_int64(s, 2, j->now + j->lease);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int store_outbox_claim(struct store *st, int64_t now, int64_t lease_s, int max,
                       struct store_outbox_mail *out, int *dropped)
{
        struct claim_job j = { now, lease_s < 0 ? 0 : lease_s, max, out, 0, 0 };
        int r;

        if (max < 1 || max > LIST_MAX || !out)
                return -EINVAL;
        r = store_write(st, claim_job_run, &j);
        if (r < 0)
                return r;
        if (dropped)
                *dropped = j.dropped;
        return j.n;
}

struct mark_job {
        int64_t id, now, base, retry_max;
        const char *error;
        bool failed;
};

static int sent_job_run(sqlite3 *db, void *arg)
{
        struct mark_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE outbox SET state = 'sent', sent_at = ?2,"
                                            " attempts = attempts + 1, last_error = ''"
                                            " WHERE id = ?1 AND state = 'pending'");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->now);
        return sql_exec_change(s);
}

int store_outbox_mark_sent(struct store *st, int64_t id, int64_t now)
{
        struct mark_job j = { .id = id, .now = now };

        return store_write(st, sent_job_run, &j);
}

/* Copies an error text for last_error: at most OUTBOX_ERROR_MAX - 1 bytes
 * of printable ASCII (SMTP replies are ASCII; anything else becomes '?',
 * so the text is always valid UTF-8 for the operator's JSON). */
static void error_copy(char *dst, const char *src)
{
        size_t n = 0;

        for (; src && src[n] && n < OUTBOX_ERROR_MAX - 1; n++) {
                unsigned char ch = (unsigned char)src[n];

                dst[n] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
        }
        dst[n] = '\0';
}

static int failed_job_run(sqlite3 *db, void *arg)
{
        struct mark_job *j = arg;
        char err[OUTBOX_ERROR_MAX];
        int64_t attempts;
        sqlite3_stmt *s = store_prepare(db, "SELECT attempts FROM outbox"
                                            " WHERE id = ? AND state = 'pending'");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        r = sql_step_row(s);
        attempts = r == 1 ? sqlite3_column_int64(s, 0) + 1 : 0;
        sqlite3_reset(s);
        if (r <= 0)
                return r == 0 ? -ENOENT : r;
        j->failed = attempts >= j->retry_max;
        error_copy(err, j->error);
        s = store_prepare(db, "UPDATE outbox SET attempts = ?2, last_error = ?3, state = ?4,"
                              " next_attempt_at = ?5 WHERE id = ?1");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, attempts);
        sql_bind_text(s, 3, err);
        sql_bind_text(s, 4, j->failed ? "failed" : "pending");
        sqlite3_bind_int64(s, 5, j->failed ? j->now
                                           : j->now + store_outbox_backoff(j->base, attempts));
        return sql_exec_change(s);
}

int store_outbox_mark_failed(struct store *st, int64_t id, const char *error, int64_t now,
                             int64_t base_s, int64_t retry_max, char *state_out)
{
        struct mark_job j = { id, now, base_s, retry_max, error, false };
        int r = store_write(st, failed_job_run, &j);

        if (r == 0 && state_out)
                strcpy(state_out, j.failed ? "failed" : "pending");
        return r;
}

static int release_job_run(sqlite3 *db, void *arg)
{
        struct mark_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "UPDATE outbox SET next_attempt_at = ?2"
                                            " WHERE id = ?1 AND state = 'pending'");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->id);
        sqlite3_bind_int64(s, 2, j->now);
        return sql_exec_change(s);
}

int store_outbox_release(struct store *st, int64_t id, int64_t now)
{
        struct mark_job j = { .id = id, .now = now };

        return store_write(st, release_job_run, &j);
}

int store_outbox_list(struct store *st, const char *state, int64_t before_id, int limit,
                      void (*cb)(const struct store_outbox_row *row, void *ud), void *ud)
{
        sqlite3 *db;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (limit < 1 || limit > LIST_MAX || before_id < 0 || !cb || (state && !state_ok(state)))
                return -EINVAL;
        db = store_reader(st);
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id, inbox_id, member_id, kind, subject, state, attempts,"
                              " next_attempt_at, last_error, created_at, sent_at FROM outbox"
                              " WHERE id < ?1 AND (?2 = '' OR state = ?2)"
                              " ORDER BY id DESC LIMIT ?3");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, before_id > 0 ? before_id : INT64_MAX);
        sql_bind_text(s, 2, state);
        sqlite3_bind_int(s, 3, limit);
        for (;;) {
                struct store_outbox_row o;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                o.id = sqlite3_column_int64(s, 0);
                o.inbox_id = sqlite3_column_int64(s, 1);
                o.member_id = sqlite3_column_int64(s, 2);
                sql_col_copy(s, 3, o.kind, sizeof(o.kind));
                sql_col_copy(s, 4, o.subject, sizeof(o.subject));
                sql_col_copy(s, 5, o.state, sizeof(o.state));
                o.attempts = sqlite3_column_int64(s, 6);
                o.next_attempt_at = sqlite3_column_int64(s, 7);
                sql_col_copy(s, 8, o.last_error, sizeof(o.last_error));
                o.created_at = sqlite3_column_int64(s, 9);
                o.sent_at = sqlite3_column_int64(s, 10);
                cb(&o, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}
