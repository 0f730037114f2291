/*
 * store_ledger.c - SQL for the ledger (see store_ledger.h): member
 * accounts created on first use, the transfer executor (idempotency by
 * id, linked chains all-or-nothing, two-phase holds), the hold-expiry
 * sweep and the read views. The money rules are domain/ledger.c's; this
 * file loads what a transfer touches, asks the domain, and writes the
 * outcome.
 *
 * The write path (store_ledger_execute) is the hot one: every transfer of
 * every client goes through the single writer thread. One call is one
 * store_write() job (so it shares a group commit with other callers), and
 * one transfer costs a handful of indexed statements, all from the
 * statement cache:
 *     SELECT transfer by id            (idempotency; unique index)
 *     SELECT pending transfer by id    (post/void only)
 *     SELECT account x2                (rowid)
 *     INSERT transfer
 *     UPDATE account x2                (rowid)
 *     UPDATE pending_state             (post/void only)
 * Accounts are read again for every transfer, from the write connection:
 * inside a job that connection sees the job's own uncommitted updates, so
 * a chain that touches one account twice sees its first change, and
 * there is no cache to keep coherent. Nothing is allocated per transfer.
 */
#include "store/store_ledger.h"

#include <string.h>
#include <time.h>

#include "store/sql.h"
#include "store/store_member.h"       /* struct store_actor, store_audit_write */

#define LEDGER_EXPIRE_MAX 10000
#define LEDGER_LIST_MAX 1000

#define ACCOUNT_COLS \
        "id, code, member_id, flags, debits_posted, credits_posted, debits_pending," \
        " credits_pending"

#define TRANSFER_COLS \
        "seq, id, debit_account_id, credit_account_id, amount, pending_id, flags, code," \
        " timeout_s, expires_at, pending_state, defaulted, ref, reason, ts"

/* ---- rows ------------------------------------------------------------- */

/* Copies a text column into a fixed buffer (truncating; always
 * NUL-terminated). Cheaper than snprintf on the hot path. */
static void ledger_col_text(sqlite3_stmt *s, int i, char *dst, size_t len)
{
        const unsigned char *v = sqlite3_column_text(s, i);
        size_t n = (size_t)sqlite3_column_bytes(s, i);

        if (!v)
                n = 0;
        if (n >= len)
                n = len - 1;
        if (n)
                memcpy(dst, v, n);
        dst[n] = '\0';
}

/* Binds a fixed-size text field without copying it: every statement here
 * is stepped and reset before the struct it points into goes away. */
static int ledger_bind_text(sqlite3_stmt *s, int i, const char *v, size_t max)
{
        return sqlite3_bind_text(s, i, v, (int)strnlen(v, max), SQLITE_STATIC);
}

static int ledger_pending_state_from_name(const unsigned char *s)
{
        int i;

        for (i = LEDGER_PS_NONE; i <= LEDGER_PS_EXPIRED; i++) {
                if (s && strcmp((const char *)s, ledger_pending_state_name(i)) == 0)
                        return i;
        }
        return -1;
}

static void ledger_account_from_row(sqlite3_stmt *s, struct ledger_account *a)
{
        a->id = sqlite3_column_int64(s, 0);
        a->code = ledger_account_code_from_name((const char *)sqlite3_column_text(s, 1));
        a->member_id = sqlite3_column_int64(s, 2);
        a->flags = (unsigned)sqlite3_column_int(s, 3);
        a->debits_posted = sqlite3_column_int64(s, 4);
        a->credits_posted = sqlite3_column_int64(s, 5);
        a->debits_pending = sqlite3_column_int64(s, 6);
        a->credits_pending = sqlite3_column_int64(s, 7);
}

static void ledger_transfer_from_row(sqlite3_stmt *s, struct ledger_transfer *t)
{
        t->seq = sqlite3_column_int64(s, 0);
        ledger_col_text(s, 1, t->id, sizeof(t->id));
        t->debit_account_id = sqlite3_column_int64(s, 2);
        t->credit_account_id = sqlite3_column_int64(s, 3);
        t->amount = sqlite3_column_int64(s, 4);
        ledger_col_text(s, 5, t->pending_id, sizeof(t->pending_id));
        t->flags = (unsigned)sqlite3_column_int(s, 6);
        t->code = ledger_transfer_code_from_name((const char *)sqlite3_column_text(s, 7));
        t->timeout_s = sqlite3_column_int64(s, 8);
        t->expires_at = sqlite3_column_int64(s, 9);
        t->pending_state = ledger_pending_state_from_name(sqlite3_column_text(s, 10));
        t->defaulted = (unsigned)sqlite3_column_int(s, 11);
        ledger_col_text(s, 12, t->ref, sizeof(t->ref));
        ledger_col_text(s, 13, t->reason, sizeof(t->reason));
        t->ts = sqlite3_column_int64(s, 14);
}

/* ---- statements shared by reads and the write jobs ---------------------- */

/* 0, -ENOENT or another negative errno. Works on a reader or, inside a
 * job, on the write connection. */
static int ledger_db_account(sqlite3 *db, int64_t id, struct ledger_account *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " ACCOUNT_COLS
                                            " FROM ledger_accounts WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                ledger_account_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

static int ledger_db_member_account(sqlite3 *db, int64_t member_id, int code,
                                    struct ledger_account *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " ACCOUNT_COLS " FROM ledger_accounts"
                                            " WHERE code = ? AND member_id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, ledger_account_code_name(code), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, member_id);
        r = sql_step_row(s);
        if (r == 1)
                ledger_account_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

static int ledger_db_transfer(sqlite3 *db, const char *id, struct ledger_transfer *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " TRANSFER_COLS
                                            " FROM ledger_transfers WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        ledger_bind_text(s, 1, id, LEDGER_ID_MAX);
        r = sql_step_row(s);
        if (r == 1)
                ledger_transfer_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* ---- write-side statements (inside a job) -------------------------------- */

static int ledger_db_account_save(sqlite3 *db, const struct ledger_account *a)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE ledger_accounts SET debits_posted = ?2, credits_posted = ?3,"
                " debits_pending = ?4, credits_pending = ?5 WHERE id = ?1");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, a->id);
        sqlite3_bind_int64(s, 2, a->debits_posted);
        sqlite3_bind_int64(s, 3, a->credits_posted);
        sqlite3_bind_int64(s, 4, a->debits_pending);
        sqlite3_bind_int64(s, 5, a->credits_pending);
        return sql_exec_change(s);
}

/* Writes t (ts, expires_at, pending_state already set) and fills t->seq. */
static int ledger_db_transfer_insert(sqlite3 *db, struct ledger_transfer *t)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount,"
                " pending_id, flags, code, timeout_s, expires_at, pending_state, defaulted, ref,"
                " reason, ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        int r;

        if (!s)
                return -EIO;
        ledger_bind_text(s, 1, t->id, sizeof(t->id));
        sqlite3_bind_int64(s, 2, t->debit_account_id);
        sqlite3_bind_int64(s, 3, t->credit_account_id);
        sqlite3_bind_int64(s, 4, t->amount);
        ledger_bind_text(s, 5, t->pending_id, sizeof(t->pending_id));
        sqlite3_bind_int(s, 6, (int)t->flags);
        sqlite3_bind_text(s, 7, ledger_transfer_code_name(t->code), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, t->timeout_s);
        sqlite3_bind_int64(s, 9, t->expires_at);
        sqlite3_bind_text(s, 10, ledger_pending_state_name(t->pending_state), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(s, 11, (int)t->defaulted);
        ledger_bind_text(s, 12, t->ref, sizeof(t->ref));
        ledger_bind_text(s, 13, t->reason, sizeof(t->reason));
        sqlite3_bind_int64(s, 14, t->ts);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        t->seq = sqlite3_last_insert_rowid(db);
        return 0;
}

/* The one UPDATE a transfer row ever sees (the triggers allow nothing
 * else): the hold leaves 'pending'. The WHERE repeats the state so a
 * second resolution changes no row and fails. */
static int ledger_db_pending_resolve(sqlite3 *db, const struct ledger_transfer *p)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE ledger_transfers SET pending_state = ?2"
                " WHERE seq = ?1 AND pending_state = 'pending'");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, p->seq);
        sqlite3_bind_text(s, 2, ledger_pending_state_name(p->pending_state), -1,
                          SQLITE_STATIC);
        return sql_exec_change(s);
}

/* Writes a transfer the domain accepted: the row, both accounts and, for
 * a post/void, the hold's new state. Any failure here is a store error
 * (the domain already said yes); the job then fails as a whole. */
static int ledger_db_commit(sqlite3 *db, struct ledger_transfer *t,
                            const struct ledger_account *d, const struct ledger_account *c,
                            const struct ledger_transfer *p)
{
        int r;

        r = ledger_db_transfer_insert(db, t);
        if (r < 0)
                return r;
        r = ledger_db_account_save(db, d);
        if (r < 0)
                return r;
        r = ledger_db_account_save(db, c);
        if (r < 0)
                return r;
        if (p)
                return ledger_db_pending_resolve(db, p);
        return 0;
}

/* ---- execute ------------------------------------------------------------- */

struct ledger_exec_job {
        struct ledger_transfer *t;
        size_t n;
        struct store_ledger_result *results;
        int64_t now;
        const struct store_actor *audit;
        /* The requests of the chain being run, to restore on rollback. */
        struct ledger_transfer saved[LEDGER_CHAIN_MAX];
};

static int ledger_audit_correction(sqlite3 *db, const struct store_actor *audit,
                                   const struct ledger_transfer *t,
                                   const struct ledger_account *d,
                                   const struct ledger_account *c, int64_t now)
{
        int r;

        if (d->member_id > 0) {
                r = store_audit_write(db, audit, d->member_id, "ledger_correction", t->id, now);
                if (r < 0)
                        return r;
        }
        if (c->member_id > 0 && c->member_id != d->member_id)
                return store_audit_write(db, audit, c->member_id, "ledger_correction", t->id,
                                         now);
        return 0;
}

/* Loads an account a transfer names: 0, or a result in *res (not found),
 * or a negative errno. */
static int ledger_load_account(sqlite3 *db, int64_t id, struct ledger_account *a,
                               enum ledger_result *res)
{
        int r = ledger_db_account(db, id, a);

        if (r == -ENOENT) {
                *res = LEDGER_ACCOUNT_NOT_FOUND;
                return 0;
        }
        return r;
}

/* Runs one transfer. Returns 0 with res->result set (the transfer is
 * written exactly when that is LEDGER_OK), or a negative errno when the
 * store failed. On any result but OK and EXISTS, *t is unchanged. */
static int ledger_exec_one(sqlite3 *db, struct ledger_transfer *t, int64_t now,
                           const struct store_actor *audit, struct store_ledger_result *res)
{
        struct ledger_transfer stored, p;
        struct ledger_account d, c;
        enum ledger_result lr = LEDGER_OK;
        bool resolve = (t->flags & (LEDGER_POST_PENDING | LEDGER_VOID_PENDING)) != 0;
        int64_t expires_at = 0;
        int r;

        res->field = NULL;
        res->result = ledger_check_transfer(t);
        if (res->result != LEDGER_OK)
                return 0;

        /* Idempotency: the id decides, whatever happened since. */
        r = ledger_db_transfer(db, t->id, &stored);
        if (r == 0) {
                res->result = ledger_compare(&stored, t, &res->field);
                if (res->result == LEDGER_EXISTS)
                        *t = stored;
                return 0;
        }
        if (r != -ENOENT)
                return r;

        if (resolve) {
                r = ledger_db_transfer(db, t->pending_id, &p);
                if (r == -ENOENT) {
                        res->result = LEDGER_PENDING_NOT_FOUND;
                        return 0;
                }
                if (r < 0)
                        return r;
                r = ledger_load_account(db, p.debit_account_id, &d, &lr);
                if (r == 0 && lr == LEDGER_OK)
                        r = ledger_load_account(db, p.credit_account_id, &c, &lr);
                if (r < 0)
                        return r;
                if (lr == LEDGER_OK)
                        lr = ledger_resolve(&d, &c, &p, t, now);
        } else {
                r = ledger_load_account(db, t->debit_account_id, &d, &lr);
                if (r == 0 && lr == LEDGER_OK)
                        r = ledger_load_account(db, t->credit_account_id, &c, &lr);
                if (r < 0)
                        return r;
                if (lr == LEDGER_OK && t->timeout_s > 0 &&
                    __builtin_add_overflow(now, t->timeout_s, &expires_at))
                        lr = LEDGER_TIMEOUT_INVALID;
                if (lr == LEDGER_OK)
                        lr = ledger_apply(&d, &c, t);
        }
        res->result = lr;
        if (lr != LEDGER_OK)
                return 0;

        t->ts = now;
        if (!resolve) {
                t->expires_at = expires_at;
                t->pending_state = (t->flags & LEDGER_PENDING) ? LEDGER_PS_PENDING
                                                                : LEDGER_PS_NONE;
                t->defaulted = 0;
        } else {
                t->expires_at = 0;
        }
        r = ledger_db_commit(db, t, &d, &c, resolve ? &p : NULL);
        if (r < 0)
                return r;
        if (t->code == LEDGER_CORRECTION && audit)
                return ledger_audit_correction(db, audit, t, &d, &c, now);
        return 0;
}

static int ledger_savepoint(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *s = store_prepare(db, sql);

        if (!s)
                return -EIO;
        return sql_exec_reset(s);
}

static const char ledger_sql_savepoint[] = "SAVEPOINT ledger_chain";
static const char ledger_sql_rollback_to[] = "ROLLBACK TO ledger_chain";
static const char ledger_sql_release[] = "RELEASE ledger_chain";

/* Runs t[first .. last] as one chain inside its own savepoint: either all
 * stay or none does. */
static int ledger_exec_chain(sqlite3 *db, struct ledger_exec_job *j, size_t first, size_t last)
{
        struct store_ledger_result *res = j->results;
        size_t k, failed = last + 1;
        int r;

        memcpy(j->saved, &j->t[first], (last - first + 1) * sizeof(j->t[0]));
        r = ledger_savepoint(db, ledger_sql_savepoint);
        if (r < 0)
                return r;
        for (k = first; k <= last; k++) {
                r = ledger_exec_one(db, &j->t[k], j->now, j->audit, &res[k]);
                if (r < 0)
                        return r;       /* the job's own savepoint undoes all */
                if (res[k].result != LEDGER_OK && res[k].result != LEDGER_EXISTS) {
                        failed = k;
                        break;
                }
        }
        if (failed <= last) {
                r = ledger_savepoint(db, ledger_sql_rollback_to);
                if (r < 0)
                        return r;
                for (k = first; k <= last; k++) {
                        if (k == failed)
                                continue;
                        j->t[k] = j->saved[k - first];
                        res[k].result = LEDGER_LINKED_EVENT_FAILED;
                        res[k].field = NULL;
                }
        }
        return ledger_savepoint(db, ledger_sql_release);
}

static int ledger_exec_job_run(sqlite3 *db, void *arg)
{
        struct ledger_exec_job *j = arg;
        size_t i = 0, last, k;
        int r;

        while (i < j->n) {
                last = i;
                while (last + 1 < j->n && (j->t[last].flags & LEDGER_LINKED))
                        last++;
                if (j->t[last].flags & LEDGER_LINKED) {
                        /* The call ends inside a chain: none of it runs. */
                        for (k = i; k <= last; k++) {
                                j->results[k].result = LEDGER_LINKED_CHAIN_OPEN;
                                j->results[k].field = NULL;
                        }
                        break;
                }
                if (last == i)
                        r = ledger_exec_one(db, &j->t[i], j->now, j->audit, &j->results[i]);
                else
                        r = ledger_exec_chain(db, j, i, last);
                if (r < 0)
                        return r;
                i = last + 1;
        }
        return 0;
}

int store_ledger_execute(struct store *st, struct ledger_transfer *t, size_t n,
                         struct store_ledger_result *results, int64_t now,
                         const struct store_actor *audit)
{
        struct ledger_exec_job j;

        if (!st || !t || !results || n == 0 || n > LEDGER_CHAIN_MAX)
                return -EINVAL;
        j.t = t;
        j.n = n;
        j.results = results;
        j.now = now;
        j.audit = audit;
        return store_write(st, ledger_exec_job_run, &j);
}

int store_ledger_db_execute(sqlite3 *db, struct ledger_transfer *t, size_t n,
                            struct store_ledger_result *results, int64_t now)
{
        struct ledger_exec_job j;

        if (!db || !t || !results || n == 0 || n > LEDGER_CHAIN_MAX)
                return -EINVAL;
        j.t = t;
        j.n = n;
        j.results = results;
        j.now = now;
        j.audit = NULL;
        return ledger_exec_job_run(db, &j);
}

/* ---- expiry sweep -------------------------------------------------------- */

struct ledger_expire_job {
        int64_t now;
        int max;
        int count;
};

/* The sweeper's id for hold p: "expiry:<id>", or "expiry:#<seq>" when
 * that does not fit ('#' is outside the caller's id alphabet, so the two
 * forms never meet, and callers cannot use the prefix at all). */
static void ledger_expiry_id(const struct ledger_transfer *p, char id[LEDGER_ID_MAX])
{
        int w = snprintf(id, LEDGER_ID_MAX, LEDGER_EXPIRY_PREFIX "%s", p->id);

        if (w < 0 || w >= LEDGER_ID_MAX)
                snprintf(id, LEDGER_ID_MAX, LEDGER_EXPIRY_PREFIX "#%lld", (long long)p->seq);
}

/* Next expired hold, oldest expiry first: 1, 0 none, <0 error. */
static int ledger_db_next_expired(sqlite3 *db, int64_t now, struct ledger_transfer *p)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " TRANSFER_COLS " FROM ledger_transfers"
                                            " WHERE pending_state = 'pending' AND expires_at > 0"
                                            "   AND expires_at <= ? ORDER BY expires_at LIMIT 1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        r = sql_step_row(s);
        if (r == 1)
                ledger_transfer_from_row(s, p);
        sqlite3_reset(s);
        return r;
}

static int ledger_expire_job_run(sqlite3 *db, void *arg)
{
        struct ledger_expire_job *j = arg;
        struct ledger_transfer p, t;
        struct ledger_account d, c;
        int r;

        j->count = 0;
        while (j->count < j->max) {
                r = ledger_db_next_expired(db, j->now, &p);
                if (r <= 0)
                        return r;
                memset(&t, 0, sizeof(t));
                ledger_expiry_id(&p, t.id);
                memcpy(t.pending_id, p.id, sizeof(t.pending_id));
                t.flags = LEDGER_VOID_PENDING;
                t.code = LEDGER_EXPIRY;
                r = ledger_db_account(db, p.debit_account_id, &d);
                if (r < 0)
                        return r == -ENOENT ? -EIO : r;
                r = ledger_db_account(db, p.credit_account_id, &c);
                if (r < 0)
                        return r == -ENOENT ? -EIO : r;
                /* The query found it pending and due: a refusal here means
                 * the stored state is inconsistent. Fail loudly rather than
                 * skip it and find it again on every sweep. */
                if (ledger_resolve(&d, &c, &p, &t, j->now) != LEDGER_OK)
                        return -EIO;
                t.ts = j->now;
                r = ledger_db_commit(db, &t, &d, &c, &p);
                if (r < 0)
                        return r;
                j->count++;
        }
        return 0;
}

int store_ledger_expire(struct store *st, int64_t now, int max, int *count)
{
        struct ledger_expire_job j = { now, max, 0 };
        int r;

        if (count)
                *count = 0;
        if (!st || max < 1 || max > LEDGER_EXPIRE_MAX)
                return -EINVAL;
        r = store_write(st, ledger_expire_job_run, &j);
        if (r == 0 && count)
                *count = j.count;
        return r;
}

/* ---- accounts ------------------------------------------------------------ */

struct ledger_member_job {
        int64_t member_id;
        int code;
        int64_t now;
        struct ledger_account *out;
};

static int ledger_member_job_run(sqlite3 *db, void *arg)
{
        struct ledger_member_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO ledger_accounts (code, member_id, flags, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (code, member_id) DO NOTHING");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_text(s, 1, ledger_account_code_name(j->code), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, j->member_id);
        sqlite3_bind_int(s, 3, j->code == LEDGER_ACC_WALLET ? LEDGER_ACC_DEBITS_LE_CREDITS : 0);
        sqlite3_bind_int64(s, 4, j->now);
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        r = ledger_db_member_account(db, j->member_id, j->code, j->out);
        return r == -ENOENT ? -EIO : r;
}

int store_ledger_member_account(struct store *st, int64_t member_id, int code,
                                struct ledger_account *out)
{
        struct ledger_member_job j = { member_id, code, (int64_t)time(NULL), out };
        sqlite3 *db;
        int r;

        if (!st || !out || member_id <= 0 ||
            (code != LEDGER_ACC_WALLET && code != LEDGER_ACC_DEBT))
                return -EINVAL;
        /* Almost always there already: no write job then. */
        db = store_reader(st);
        if (!db)
                return -EIO;
        r = ledger_db_member_account(db, member_id, code, out);
        if (r != -ENOENT)
                return r;
        return store_write(st, ledger_member_job_run, &j);
}

int store_ledger_db_member_account(sqlite3 *db, int64_t member_id, int code, int64_t now,
                                   struct ledger_account *out)
{
        struct ledger_member_job j = { member_id, code, now, out };
        int r;

        if (!db || !out || member_id <= 0 ||
            (code != LEDGER_ACC_WALLET && code != LEDGER_ACC_DEBT))
                return -EINVAL;
        r = ledger_db_member_account(db, member_id, code, out);
        if (r != -ENOENT)
                return r;
        return ledger_member_job_run(db, &j);
}

int store_ledger_db_account(sqlite3 *db, int64_t id, struct ledger_account *out)
{
        return ledger_db_account(db, id, out);
}

int store_ledger_account_get(struct store *st, int64_t id, struct ledger_account *out)
{
        sqlite3 *db = store_reader(st);

        if (!db || !out)
                return -EIO;
        return ledger_db_account(db, id, out);
}

/* ---- reads --------------------------------------------------------------- */

int store_ledger_transfer_get(struct store *st, const char *id, struct ledger_transfer *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        if (!id || !out || strnlen(id, LEDGER_ID_MAX) >= LEDGER_ID_MAX)
                return -ENOENT;
        return ledger_db_transfer(db, id, out);
}

/* Both arms walk one account index in seq order; UNION ALL with ORDER BY
 * seq merges them (a transfer never debits and credits one account, so
 * nothing appears twice). */
static const char ledger_sql_list_account[] =
        "SELECT " TRANSFER_COLS " FROM ledger_transfers"
        " WHERE debit_account_id = ?1 AND seq > ?2 AND ts >= ?3 AND ts < ?4"
        "   AND (?5 = '' OR code = ?5)"
        " UNION ALL "
        "SELECT " TRANSFER_COLS " FROM ledger_transfers"
        " WHERE credit_account_id = ?1 AND seq > ?2 AND ts >= ?3 AND ts < ?4"
        "   AND (?5 = '' OR code = ?5)"
        " ORDER BY seq LIMIT ?6";

static const char ledger_sql_list_all[] =
        "SELECT " TRANSFER_COLS " FROM ledger_transfers"
        " WHERE seq > ?2 AND ts >= ?3 AND ts < ?4 AND (?5 = '' OR code = ?5)"
        " ORDER BY seq LIMIT ?6";

int store_ledger_transfers(struct store *st, const struct store_ledger_filter *f,
                           void (*cb)(const struct ledger_transfer *t, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        struct ledger_transfer t;
        const char *code = "";
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        if (!f || !cb || f->limit < 1 || f->limit > LEDGER_LIST_MAX || f->account_id < 0)
                return -EINVAL;
        if (f->code >= 0) {
                code = ledger_transfer_code_name(f->code);
                if (!code)
                        return -EINVAL;
        }
        s = store_prepare(db, f->account_id ? ledger_sql_list_account : ledger_sql_list_all);
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->account_id);
        sqlite3_bind_int64(s, 2, f->after_seq);
        sqlite3_bind_int64(s, 3, f->from_ts ? f->from_ts : INT64_MIN);
        sqlite3_bind_int64(s, 4, f->to_ts ? f->to_ts : INT64_MAX);
        sqlite3_bind_text(s, 5, code, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 6, f->limit);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                ledger_transfer_from_row(s, &t);
                cb(&t, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_ledger_totals(struct store *st, int64_t from_ts, int64_t to_ts,
                        void (*cb)(const struct store_ledger_totals_row *r, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        struct store_ledger_totals_row row;
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        if (!cb)
                return -EINVAL;
        /* Posted money only: flags without pending (1) and void (4), i.e.
         * plain transfers and posts. Asia/Tokyo has no DST: UTC+9. */
        s = store_prepare(db,
                "SELECT date(ts + 32400, 'unixepoch') AS day, code, count(*), sum(amount)"
                " FROM ledger_transfers"
                " WHERE ts >= ?1 AND ts < ?2 AND (flags & 5) = 0"
                " GROUP BY day, code ORDER BY day, code");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, from_ts);
        sqlite3_bind_int64(s, 2, to_ts ? to_ts : INT64_MAX);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                ledger_col_text(s, 0, row.day, sizeof(row.day));
                row.code = ledger_transfer_code_from_name((const char *)sqlite3_column_text(s, 1));
                row.count = sqlite3_column_int64(s, 2);
                row.amount = sqlite3_column_int64(s, 3);
                cb(&row, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_ledger_sums(struct store *st, struct store_ledger_sums *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        if (!out)
                return -EINVAL;
        /* One statement, one snapshot: the accounts and the transfer count
         * agree with each other. */
        s = store_prepare(db,
                "SELECT coalesce(sum(debits_posted), 0), coalesce(sum(credits_posted), 0),"
                " coalesce(sum(debits_pending), 0), coalesce(sum(credits_pending), 0), count(*),"
                " (SELECT coalesce(max(seq), 0) FROM ledger_transfers)"
                " FROM ledger_accounts");
        if (!s)
                return -EIO;
        r = sql_step_row(s);
        if (r == 1) {
                out->debits_posted = sqlite3_column_int64(s, 0);
                out->credits_posted = sqlite3_column_int64(s, 1);
                out->debits_pending = sqlite3_column_int64(s, 2);
                out->credits_pending = sqlite3_column_int64(s, 3);
                out->accounts = sqlite3_column_int64(s, 4);
                out->transfers = sqlite3_column_int64(s, 5);
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -EIO : r;
}

int store_ledger_member_blockers(struct store *st, int64_t member_id, int64_t *held,
                                 int64_t *debt)
{
        sqlite3 *db = store_reader(st);
        int64_t h = 0, d = 0;
        sqlite3_stmt *s;
        int rc;

        if (!db)
                return -EIO;
        s = store_prepare(db,
                "SELECT code, debits_pending, debits_posted - credits_posted"
                " FROM ledger_accounts WHERE member_id = ? AND code IN ('wallet', 'debt')");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        for (;;) {
                const unsigned char *code;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                code = sqlite3_column_text(s, 0);
                if (code && strcmp((const char *)code, "wallet") == 0)
                        h = sqlite3_column_int64(s, 1);
                else
                        d = sqlite3_column_int64(s, 2);
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        if (held)
                *held = h;
        if (debt)
                *debt = d;
        return 0;
}
