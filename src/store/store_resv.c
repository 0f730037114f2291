/*
 * store_resv.c - reservations in the store (see store_resv.h): the SQL of
 * requests and lifecycle steps, each one write job that checks with the
 * domain, moves the money through the ledger on the same connection,
 * updates the row, logs the event and writes the notifications.
 */
#include "store/store_resv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/geo.h"
#include "domain/resv_money.h"
#include "domain/slot.h"
#include "store/sql.h"
#include "store/store_ledger.h"
#include "store/store_notify.h"
#include "store/store_slot.h"
#include "util/timeutil.h"

const char store_m008_sql[] =
        "-- reservations, part 2 (issue 5): the exact lifecycle state, the frozen prices,\n"
        "-- the hold, what was charged and refunded, overstay, and the schedule\n"
        "ALTER TABLE reservations ADD COLUMN state TEXT NOT NULL DEFAULT 'requested';\n"
        "ALTER TABLE reservations ADD COLUMN host_id INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN onsite INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN hourly_price INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN extension_fee INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN hold_version INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN hold_amount INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN checked_in_at INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN checked_out_at INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN closed_at INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN charged INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN platform_fee INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN refunded INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN overtime_s INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN penalty INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN penalty_paid INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN host_fee INTEGER NOT NULL DEFAULT 0;\n"
        "ALTER TABLE reservations ADD COLUMN message TEXT NOT NULL DEFAULT '';\n"
        "ALTER TABLE reservations ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;\n"
        "-- the scheduler's queue: state in the database, so it survives restarts\n"
        "CREATE INDEX reservations_due ON reservations(due_at) WHERE due_at > 0;\n"
        "CREATE INDEX reservations_host ON reservations(host_id, id);\n"
        "CREATE INDEX reservations_user_id ON reservations(user_id, id);\n"
        "CREATE TABLE reservation_events (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  reservation_id INTEGER NOT NULL REFERENCES reservations(id),\n"
        "  event TEXT NOT NULL,\n"
        "  from_state TEXT NOT NULL,\n"
        "  to_state TEXT NOT NULL,\n"
        "  actor_id INTEGER NOT NULL,                  -- 0 = the system\n"
        "  actor_role TEXT NOT NULL,\n"
        "  reason TEXT NOT NULL DEFAULT '',\n"
        "  lat_e6 INTEGER,                             -- check-in location (CS-29), if sent\n"
        "  lon_e6 INTEGER,\n"
        "  at INTEGER NOT NULL\n"
        ");\n"
        "CREATE INDEX reservation_events_resv ON reservation_events(reservation_id, id);\n"
        "CREATE TRIGGER reservation_events_immutable BEFORE UPDATE ON reservation_events\n"
        "  BEGIN SELECT RAISE(ABORT, 'reservation events are immutable'); END;\n"
        "CREATE TABLE debts (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  member_id INTEGER NOT NULL REFERENCES members(id),\n"
        "  reservation_id INTEGER NOT NULL REFERENCES reservations(id),\n"
        "  kind TEXT NOT NULL CHECK (kind IN ('penalty','host_fee')),\n"
        "  creditor_id INTEGER NOT NULL,               -- the host for a penalty, 0 = operator\n"
        "  amount INTEGER NOT NULL CHECK (amount > 0), -- the whole charge\n"
        "  paid INTEGER NOT NULL CHECK (paid >= 0 AND paid <= amount),\n"
        "  repayments INTEGER NOT NULL DEFAULT 0,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  settled_at INTEGER NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE INDEX debts_open ON debts(member_id, id) WHERE paid < amount;\n"
        "ALTER TABLE hosts ADD COLUMN ical_token_hash TEXT;\n"
        "CREATE UNIQUE INDEX hosts_ical ON hosts(ical_token_hash)\n"
        "  WHERE ical_token_hash IS NOT NULL;\n";

#define RESV_COLS "id, charger_id, host_id, user_id, vehicle_id, starts_at, ends_at, state," \
        " onsite, fee, hourly_price, extension_fee, hold_version, hold_amount, expires_at," \
        " checked_in_at, checked_out_at, closed_at, charged, platform_fee, refunded," \
        " overtime_s, penalty, penalty_paid, host_fee, message, due_at, created_at, updated_at"

/* Slots and other reservations one step looks at. */
#define RESV_SLOTS_MAX 512
#define RESV_OTHERS_MAX 256

static void resv_from_row(sqlite3_stmt *s, struct store_resv *o)
{
        char state[32];
        int st;

        memset(o, 0, sizeof(*o));
        o->id = sqlite3_column_int64(s, 0);
        o->charger_id = sqlite3_column_int64(s, 1);
        o->host_id = sqlite3_column_int64(s, 2);
        o->user_id = sqlite3_column_int64(s, 3);
        o->vehicle_id = sqlite3_column_int64(s, 4);
        o->starts_at = sqlite3_column_int64(s, 5);
        o->ends_at = sqlite3_column_int64(s, 6);
        sql_col_copy(s, 7, state, sizeof(state));
        st = resv_state_from_name(state);
        o->state = st < 0 ? RESV_REQUESTED : st;
        o->onsite = sqlite3_column_int(s, 8) != 0;
        o->fee = sqlite3_column_int64(s, 9);
        o->hourly_price = sqlite3_column_int64(s, 10);
        o->extension_fee = sqlite3_column_int64(s, 11);
        o->hold_version = sqlite3_column_int(s, 12);
        o->hold_amount = sqlite3_column_int64(s, 13);
        o->expires_at = sqlite3_column_int64(s, 14);
        o->checked_in_at = sqlite3_column_int64(s, 15);
        o->checked_out_at = sqlite3_column_int64(s, 16);
        o->closed_at = sqlite3_column_int64(s, 17);
        o->charged = sqlite3_column_int64(s, 18);
        o->platform_fee = sqlite3_column_int64(s, 19);
        o->refunded = sqlite3_column_int64(s, 20);
        o->overtime_s = sqlite3_column_int64(s, 21);
        o->penalty = sqlite3_column_int64(s, 22);
        o->penalty_paid = sqlite3_column_int64(s, 23);
        o->host_fee = sqlite3_column_int64(s, 24);
        sql_col_copy(s, 25, o->message, sizeof(o->message));
        o->due_at = sqlite3_column_int64(s, 26);
        o->created_at = sqlite3_column_int64(s, 27);
        o->updated_at = sqlite3_column_int64(s, 28);
}

static int db_resv_get(sqlite3 *db, int64_t id, struct store_resv *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT " RESV_COLS " FROM reservations WHERE id = ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1)
                resv_from_row(s, out);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* Writes every mutable column of r back. */
static int db_resv_save(sqlite3 *db, const struct store_resv *r)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE reservations SET starts_at = ?2, ends_at = ?3, state = ?4, status = ?5,"
                " fee = ?6, hourly_price = ?7, extension_fee = ?8, hold_version = ?9,"
                " hold_amount = ?10, expires_at = ?11, checked_in_at = ?12,"
                " checked_out_at = ?13, closed_at = ?14, charged = ?15, platform_fee = ?16,"
                " refunded = ?17, overtime_s = ?18, penalty = ?19, penalty_paid = ?20,"
                " host_fee = ?21, message = ?22, due_at = ?23, updated_at = ?24 WHERE id = ?1");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, r->id);
        sqlite3_bind_int64(s, 2, r->starts_at);
        sqlite3_bind_int64(s, 3, r->ends_at);
        sqlite3_bind_text(s, 4, resv_state_name(r->state), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, slot_res_status_name(resv_state_slot_status(r->state)), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, r->fee);
        sqlite3_bind_int64(s, 7, r->hourly_price);
        sqlite3_bind_int64(s, 8, r->extension_fee);
        sqlite3_bind_int(s, 9, r->hold_version);
        sqlite3_bind_int64(s, 10, r->hold_amount);
        sqlite3_bind_int64(s, 11, r->expires_at);
        sqlite3_bind_int64(s, 12, r->checked_in_at);
        sqlite3_bind_int64(s, 13, r->checked_out_at);
        sqlite3_bind_int64(s, 14, r->closed_at);
        sqlite3_bind_int64(s, 15, r->charged);
        sqlite3_bind_int64(s, 16, r->platform_fee);
        sqlite3_bind_int64(s, 17, r->refunded);
        sqlite3_bind_int64(s, 18, r->overtime_s);
        sqlite3_bind_int64(s, 19, r->penalty);
        sqlite3_bind_int64(s, 20, r->penalty_paid);
        sqlite3_bind_int64(s, 21, r->host_fee);
        sql_bind_text(s, 22, r->message);
        sqlite3_bind_int64(s, 23, r->due_at);
        sqlite3_bind_int64(s, 24, r->updated_at);
        return sql_exec_change(s);
}

/* ---- what a step needs to know about the charger ---------------------------- */

struct resv_charger {
        int64_t id;
        int64_t host_id;
        int64_t site_id;
        bool deleted, delisted, attached, out_of_service, publishable;
        bool onsite_only, penalty_enabled, extendable;
        bool corporate_host;
        int64_t lat_e6, lon_e6;
};

static int db_charger(sqlite3 *db, int64_t id, struct resv_charger *o)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT c.id, c.host_id, COALESCE(c.site_id, 0), c.deleted_at, c.delisted_at,"
                " c.qr_state, c.out_of_service, c.onsite_reservation, c.penalty_enabled,"
                " c.extendable, c.lat_e6, c.lon_e6, m.kind,"
                " (h.verification = 'verified' AND h.contract = 'active' AND m.status = 'active')"
                " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                " JOIN members m ON m.id = c.host_id WHERE c.id = ?");
        const unsigned char *t;
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        r = sql_step_row(s);
        if (r == 1) {
                memset(o, 0, sizeof(*o));
                o->id = sqlite3_column_int64(s, 0);
                o->host_id = sqlite3_column_int64(s, 1);
                o->site_id = sqlite3_column_int64(s, 2);
                o->deleted = sqlite3_column_int64(s, 3) != 0;
                o->delisted = sqlite3_column_int64(s, 4) != 0;
                t = sqlite3_column_text(s, 5);
                o->attached = t && strcmp((const char *)t, "attached") == 0;
                o->out_of_service = sqlite3_column_int(s, 6) != 0;
                o->onsite_only = sqlite3_column_int(s, 7) != 0;
                o->penalty_enabled = sqlite3_column_int(s, 8) != 0;
                o->extendable = sqlite3_column_int(s, 9) != 0;
                o->lat_e6 = sqlite3_column_int64(s, 10);
                o->lon_e6 = sqlite3_column_int64(s, 11);
                t = sqlite3_column_text(s, 12);
                o->corporate_host = t && strcmp((const char *)t, "corporation") == 0;
                o->publishable = sqlite3_column_int(s, 13) != 0;
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* Why a charger cannot take a new booking, or NULL. */
static const char *charger_unbookable(const struct resv_charger *c, bool onsite)
{
        if (c->deleted)
                return "charger_deleted";
        if (c->delisted)
                return "charger_delisted";
        if (!c->publishable)
                return "host_not_publishable";
        if (!c->attached)
                return "qr_not_attached";
        if (c->out_of_service)
                return "out_of_service";
        if (c->onsite_only && !onsite)
                return "onsite_only";
        return NULL;
}

/* The charger's slots overlapping [from, to), oldest first. Count or <0. */
static int db_slots(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                    struct slot *out, int max)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT id, starts_at, ends_at, hourly_price FROM slots"
                " WHERE charger_id = ?1 AND ends_at > ?2 AND starts_at < ?3"
                " ORDER BY ends_at LIMIT ?4");
        int n = 0, rc;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        sqlite3_bind_int64(s, 2, from);
        sqlite3_bind_int64(s, 3, to);
        sqlite3_bind_int(s, 4, max + 1);
        for (rc = sqlite3_step(s); rc == SQLITE_ROW; rc = sqlite3_step(s)) {
                if (n == max) {
                        sqlite3_reset(s);
                        return -E2BIG;
                }
                out[n].id = sqlite3_column_int64(s, 0);
                out[n].starts_at = sqlite3_column_int64(s, 1);
                out[n].ends_at = sqlite3_column_int64(s, 2);
                out[n].hourly_price = sqlite3_column_int64(s, 3);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* The hourly price in force at the last second of [from, to). */
static int64_t price_at_end(const struct slot *slots, int n, int64_t to)
{
        for (int i = n - 1; i >= 0; i--) {
                if (slots[i].starts_at < to && slots[i].ends_at >= to)
                        return slots[i].hourly_price;
        }
        return n > 0 ? slots[n - 1].hourly_price : 0;
}

/* The slots and active reservations of a charger around [from, to). */
struct resv_window {
        struct slot *slots;             /* malloc'd, RESV_SLOTS_MAX */
        int n;
        struct slot_reservation others[RESV_OTHERS_MAX];
        int k;
};

static void window_free(struct resv_window *w)
{
        free(w->slots);
        w->slots = NULL;
}

static int window_load(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                       struct resv_window *w)
{
        w->slots = calloc(RESV_SLOTS_MAX, sizeof(*w->slots));
        if (!w->slots)
                return -ENOMEM;
        w->n = db_slots(db, charger_id, from, to, w->slots, RESV_SLOTS_MAX);
        if (w->n < 0)
                return w->n == -E2BIG ? -EINVAL : w->n;
        w->k = store_slot_db_active_res(db, charger_id, from, to, INT64_MIN, INT64_MIN,
                                        w->others, RESV_OTHERS_MAX);
        return w->k < 0 ? w->k : 0;
}

/*
 * The fee of [from, to) on the charger and the price at its end; -ERANGE
 * when slots do not cover it, -EADDRINUSE (why->conflict_id) when an active
 * reservation other than self_id overlaps it.
 */
static int range_quote(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                       int64_t self_id, int64_t *fee, int64_t *hourly,
                       struct store_resv_why *why)
{
        struct resv_window w = { 0 };
        int r = window_load(db, charger_id, from, to, &w);

        if (r == 0)
                r = resv_fee(w.slots, (size_t)w.n, from, to, fee);
        if (r == -ENOENT)
                r = -ERANGE;
        if (r == 0)
                *hourly = price_at_end(w.slots, w.n, to);
        for (int i = 0; r == 0 && i < w.k; i++) {
                if (w.others[i].id != self_id) {
                        why->conflict_id = w.others[i].id;
                        r = -EADDRINUSE;
                }
        }
        window_free(&w);
        return r;
}

/* ---- money ------------------------------------------------------------------------ */

static int load_accounts(sqlite3 *db, int64_t user_id, int64_t host_id, int64_t now,
                         struct resv_accounts *a)
{
        struct ledger_account acc;
        int r;

        a->escrow = LEDGER_ESCROW_ID;
        a->fee_revenue = LEDGER_FEE_REVENUE_ID;
        a->penalty_share = LEDGER_PENALTY_SHARE_ID;
        r = store_ledger_db_member_account(db, user_id, LEDGER_ACC_WALLET, now, &acc);
        if (r < 0)
                return r;
        a->user_wallet = acc.id;
        r = store_ledger_db_member_account(db, user_id, LEDGER_ACC_DEBT, now, &acc);
        if (r < 0)
                return r;
        a->user_debt = acc.id;
        r = store_ledger_db_member_account(db, host_id, LEDGER_ACC_WALLET, now, &acc);
        if (r < 0)
                return r;
        a->host_wallet = acc.id;
        r = store_ledger_db_member_account(db, host_id, LEDGER_ACC_DEBT, now, &acc);
        if (r < 0)
                return r;
        a->host_debt = acc.id;
        return 0;
}

static int wallet_available(sqlite3 *db, int64_t account_id, int64_t *avail)
{
        struct ledger_account acc;
        int r = store_ledger_db_account(db, account_id, &acc);

        if (r < 0)
                return r;
        *avail = ledger_available(&acc);
        if (*avail < 0)
                *avail = 0;
        return 0;
}

/*
 * Runs p as one chain. A refused transfer fails the step: -ENOSPC when a
 * wallet could not cover it (why->available/needed filled from the
 * wallet), else -EIO (a bug: the domain built a transfer the ledger
 * refuses), with why->ledger_result. The job's savepoint undoes it all.
 */
static int exec_postings(sqlite3 *db, struct resv_postings *p, int64_t now,
                         int64_t user_wallet, struct store_resv_why *why)
{
        struct store_ledger_result res[RESV_POSTINGS_MAX];
        int r;

        if (p->n == 0)
                return 0;
        resv_postings_link(p);
        r = store_ledger_db_execute(db, p->t, p->n, res, now);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n; i++) {
                if (res[i].result == LEDGER_OK || res[i].result == LEDGER_EXISTS ||
                    res[i].result == LEDGER_LINKED_EVENT_FAILED)
                        continue;
                why->ledger_result = res[i].result;
                if (res[i].result == LEDGER_EXCEEDS_CREDITS) {
                        why->needed = p->t[i].amount;
                        if (p->t[i].debit_account_id == user_wallet)
                                (void)wallet_available(db, user_wallet, &why->available);
                        return -ENOSPC;
                }
                return -EIO;
        }
        return 0;
}

/* ---- events and notices ---------------------------------------------------------------- */

static int db_event(sqlite3 *db, int64_t resv_id, enum resv_event ev, int from, int to,
                    const struct store_resv_step *s, int64_t now)
{
        sqlite3_stmt *st = store_prepare(db,
                "INSERT INTO reservation_events (reservation_id, event, from_state, to_state,"
                " actor_id, actor_role, reason, lat_e6, lon_e6, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, resv_id);
        sqlite3_bind_text(st, 2, ev < 0 ? "request" : resv_event_name(ev), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, from < 0 ? "" : resv_state_name(from), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, resv_state_name(to), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, s ? s->actor_id : 0);
        sql_bind_text(st, 6, s && s->actor_role ? s->actor_role : "system");
        sql_bind_text(st, 7, s && s->reason ? s->reason : "");
        if (s && s->has_location) {
                sqlite3_bind_int64(st, 8, s->lat_e6);
                sqlite3_bind_int64(st, 9, s->lon_e6);
        } else {
                sqlite3_bind_null(st, 8);
                sqlite3_bind_null(st, 9);
        }
        sqlite3_bind_int64(st, 10, now);
        return sql_exec_reset(st);
}

/* The Japanese subject of a notice about reaching state `to` by ev. */
static const char *notice_subject(int ev, enum resv_state to)
{
        if (ev == RESV_EV_EARLY_USE)
                return "予約の開始時刻が早まりました";
        if (ev == RESV_EV_EXTEND)
                return "予約が延長されました";
        switch (to) {
        case RESV_REQUESTED:
                return "新しい予約リクエストがあります";
        case RESV_CONFIRMED:
                return "予約が確定しました";
        case RESV_CHECKED_IN:
                return "チェックインしました";
        case RESV_COMPLETED:
                return "ご利用が完了しました";
        case RESV_REJECTED:
                return "予約リクエストが承認されませんでした";
        case RESV_EXPIRED:
                return "予約リクエストの期限が切れました";
        case RESV_WITHDRAWN:
                return "予約リクエストが取り下げられました";
        case RESV_CANCELLED_BY_USER:
                return "予約がユーザーによりキャンセルされました";
        case RESV_CANCELLED_BY_HOST:
                return "予約がホストによりキャンセルされました";
        case RESV_CANCELLED_NONPERFORMANCE:
                return "予約が不履行によりキャンセルされました";
        case RESV_CANCELLED_UNUSABLE:
                return "充電器が利用できないため予約がキャンセルされました";
        case RESV_OVERDUE:
                return "予約の終了時刻を過ぎています";
        default:
                return "予約が更新されました";
        }
}

/* Writes the notice of r's new state to member_id's inbox and outbox. */
static int notify(sqlite3 *db, int64_t member_id, int ev, const struct store_resv *r,
                  const struct store_resv_money *m, int64_t now)
{
        char body[600], kind[NOTIFY_KIND_MAX], ref[NOTIFY_REF_MAX], from[TIME_RFC3339_MAX],
                to[TIME_RFC3339_MAX];
        int n;

        if (member_id <= 0)
                return 0;
        time_format_rfc3339(r->starts_at, from);
        time_format_rfc3339(r->ends_at, to);
        n = snprintf(body, sizeof(body),
                     "予約番号 %lld / 充電器 %lld\n%s - %s\n状態: %s\n料金: %lld 円",
                     (long long)r->id, (long long)r->charger_id, from, to,
                     resv_state_name(r->state), (long long)(r->fee + r->extension_fee));
        if (m && n > 0 && (size_t)n < sizeof(body) && (m->refunded || m->charged || m->penalty))
                snprintf(body + n, sizeof(body) - (size_t)n,
                         "\n支払: %lld 円 / 返金: %lld 円 / 違約金: %lld 円",
                         (long long)m->charged, (long long)m->refunded, (long long)m->penalty);
        snprintf(kind, sizeof(kind), "reservation.%s",
                 ev < 0 ? "requested" : resv_event_name(ev));
        snprintf(ref, sizeof(ref), "reservation:%lld", (long long)r->id);
        return store_notify_db_add(db, member_id, kind, notice_subject(ev, r->state), body,
                                   ref, now, NULL);
}

/* Who hears about an event: bit 1 the user, bit 2 the host. */
static int notice_audience(int ev)
{
        switch (ev) {
        case -1:                                /* a new request */
        case RESV_EV_WITHDRAW:
        case RESV_EV_CANCEL_USER:
        case RESV_EV_CHECK_IN:
        case RESV_EV_EARLY_USE:
        case RESV_EV_EXTEND:
                return 2;
        case RESV_EV_APPROVE:
        case RESV_EV_REJECT:
        case RESV_EV_BECOME_OVERDUE:
                return 1;
        default:
                return 3;
        }
}

static int notify_all(sqlite3 *db, int ev, const struct store_resv *r,
                      const struct store_resv_money *m, int64_t now)
{
        int who = notice_audience(ev), rc = 0;

        if (ev == -1 && r->onsite)
                who = 3;
        if (who & 1)
                rc = notify(db, r->user_id, ev, r, m, now);
        if (rc == 0 && (who & 2))
                rc = notify(db, r->host_id, ev, r, m, now);
        return rc;
}

/* ---- debts (CS-34) ------------------------------------------------------------------- */

static int db_debt_add(sqlite3 *db, int64_t member_id, int64_t resv_id, const char *kind,
                       int64_t creditor, int64_t amount, int64_t paid, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO debts (member_id, reservation_id, kind, creditor_id, amount, paid,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        sqlite3_bind_int64(s, 2, resv_id);
        sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, creditor);
        sqlite3_bind_int64(s, 5, amount);
        sqlite3_bind_int64(s, 6, paid);
        sqlite3_bind_int64(s, 7, now);
        return sql_exec_reset(s);
}

static int db_debt_owed(sqlite3 *db, int64_t member_id, int64_t *owed)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT COALESCE(SUM(amount - paid), 0) FROM debts"
                " WHERE member_id = ? AND paid < amount");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        r = sql_step_row(s);
        *owed = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/*
 * A member pays what it owes for a reservation (penalty or host fee): the
 * wallet pays what it can now, the rest becomes a debt row (CS-34).
 */
static int charge_member(sqlite3 *db, const struct resv_rules *rules, struct store_resv *r,
                         bool penalty, int64_t amount, const struct resv_accounts *a,
                         int64_t now, int64_t *paid, int64_t *owed, int64_t *share,
                         struct store_resv_why *why)
{
        struct resv_postings p;
        struct resv_charge c = { 0 };
        int rc;

        *paid = *owed = 0;
        if (share)
                *share = 0;
        if (amount <= 0)
                return 0;
        c.amount = amount;
        c.payer_wallet = penalty ? a->user_wallet : a->host_wallet;
        c.payer_debt = penalty ? a->user_debt : a->host_debt;
        rc = wallet_available(db, c.payer_wallet, &c.available);
        if (rc < 0)
                return rc;
        c.creditor = penalty ? a->host_wallet : a->fee_revenue;
        c.receivable = penalty ? a->escrow : a->fee_revenue;
        c.code = penalty ? LEDGER_PENALTY : LEDGER_HOST_CANCELLATION_FEE;
        c.tag = penalty ? "pen" : "hostfee";
        c.share_from = a->host_wallet;
        c.share_to = a->penalty_share;
        c.pay_share = penalty;
        resv_postings_init(&p);
        rc = resv_add_charge(&p, rules, r->id, &c, paid, owed, share);
        if (rc == 0)
                rc = exec_postings(db, &p, now, a->user_wallet, why);
        if (rc == 0 && *owed > 0)
                rc = db_debt_add(db, penalty ? r->user_id : r->host_id, r->id,
                                 penalty ? "penalty" : "host_fee", penalty ? r->host_id : 0,
                                 amount, *paid, now);
        return rc;
}

/* ---- a new request or on-site booking ----------------------------------------------- */

struct request_job {
        const struct store_resv_new *n;
        const struct resv_rules *rules;
        int64_t now;
        struct store_resv *out;
        struct store_resv_why *why;
};

static int db_vehicle_ok(sqlite3 *db, int64_t vehicle_id, int64_t user_id)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT 1 FROM vehicles WHERE id = ? AND member_id = ? AND removed_at = 0");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, vehicle_id);
        sqlite3_bind_int64(s, 2, user_id);
        r = sql_step_row(s);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}

/* CS-12: one more energized charger at the site would exceed its limit. */
static int site_limit_check(sqlite3 *db, int64_t site_id, int64_t now, struct store_resv_why *why)
{
        sqlite3_stmt *s;
        char today[TIME_RFC3339_MAX], starts_on[16];
        int64_t limit, in_use;
        int r;

        if (site_id <= 0)
                return 0;
        s = store_prepare(db, "SELECT limit_n, limit_starts_on FROM sites WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, site_id);
        r = sql_step_row(s);
        limit = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        if (r == 1)
                sql_col_copy(s, 1, starts_on, sizeof(starts_on));
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (limit <= 0)
                return 0;
        time_format_rfc3339(now, today);        /* "YYYY-MM-DD..." in Tokyo */
        if (strncmp(starts_on, today, 10) > 0)
                return 0;                       /* the limit starts later */
        s = store_prepare(db,
                "SELECT count(*) FROM reservations r JOIN chargers c ON c.id = r.charger_id"
                " WHERE c.site_id = ? AND r.status = 'checked_in'");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, site_id);
        r = sql_step_row(s);
        in_use = r == 1 ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (in_use >= limit) {
                why->limit = limit;
                return -EDQUOT;
        }
        return 0;
}

static int db_resv_insert(sqlite3 *db, struct store_resv *r)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO reservations (charger_id, user_id, vehicle_id, starts_at, ends_at,"
                " status, fee, created_at, updated_at, state, host_id, onsite)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        int rc;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, r->charger_id);
        sqlite3_bind_int64(s, 2, r->user_id);
        sqlite3_bind_int64(s, 3, r->vehicle_id);
        sqlite3_bind_int64(s, 4, r->starts_at);
        sqlite3_bind_int64(s, 5, r->ends_at);
        sqlite3_bind_text(s, 6, slot_res_status_name(resv_state_slot_status(r->state)), -1,
                          SQLITE_STATIC);
        sqlite3_bind_int64(s, 7, r->fee);
        sqlite3_bind_int64(s, 8, r->created_at);
        sqlite3_bind_int64(s, 9, r->updated_at);
        sqlite3_bind_text(s, 10, resv_state_name(r->state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 11, r->host_id);
        sqlite3_bind_int(s, 12, r->onsite ? 1 : 0);
        rc = sql_exec_reset(s);
        if (rc == 0)
                r->id = sqlite3_last_insert_rowid(db);
        return rc;
}

static int request_job_run(sqlite3 *db, void *arg)
{
        struct request_job *j = arg;
        const struct store_resv_new *n = j->n;
        struct store_resv *r = j->out;
        struct resv_charger ch;
        struct resv_accounts acc;
        struct resv_postings p;
        enum resv_event ignored;
        int64_t owed;
        int rc;

        rc = db_charger(db, n->charger_id, &ch);
        if (rc < 0)
                return rc;
        j->why->reason = charger_unbookable(&ch, n->onsite);
        if (j->why->reason)
                return -ENOTCONN;
        if (ch.host_id == n->user_id) {
                j->why->reason = "own_charger";         /* CS-15 */
                return -ENOTCONN;
        }
        rc = db_vehicle_ok(db, n->vehicle_id, n->user_id);
        if (rc < 0)
                return rc;
        rc = db_debt_owed(db, n->user_id, &owed);       /* CS-34 */
        if (rc < 0)
                return rc;
        if (owed > 0) {
                j->why->needed = owed;
                return -ENOLINK;
        }
        memset(r, 0, sizeof(*r));
        r->charger_id = n->charger_id;
        r->host_id = ch.host_id;
        r->user_id = n->user_id;
        r->vehicle_id = n->vehicle_id;
        r->starts_at = n->starts_at;
        r->ends_at = n->ends_at;
        r->onsite = n->onsite;
        r->state = resv_initial_state(n->onsite);
        r->created_at = r->updated_at = j->now;
        rc = range_quote(db, n->charger_id, n->starts_at, n->ends_at, 0, &r->fee,
                         &r->hourly_price, j->why);
        if (rc < 0)
                return rc;
        if (n->onsite) {
                rc = site_limit_check(db, ch.site_id, j->now, j->why);
                if (rc < 0)
                        return rc;
                r->checked_in_at = j->now;
        } else {
                rc = resv_request_expiry(j->rules, j->now, n->starts_at, &r->expires_at);
                if (rc < 0)
                        return rc;
        }
        rc = db_resv_insert(db, r);
        if (rc < 0)
                return rc;
        rc = load_accounts(db, r->user_id, r->host_id, j->now, &acc);
        if (rc < 0)
                return rc;
        resv_postings_init(&p);
        if (r->fee > 0) {
                r->hold_version = 1;
                r->hold_amount = r->fee;
                rc = resv_add_hold(&p, r->id, 1, &acc, r->fee);
                if (rc == 0)
                        rc = exec_postings(db, &p, j->now, acc.user_wallet, j->why);
                if (rc < 0)
                        return rc;
        }
        r->due_at = resv_due_at(j->rules, r->state, r->expires_at, r->ends_at, &ignored);
        rc = db_resv_save(db, r);
        if (rc == 0) {
                struct store_resv_step who = { .actor_id = n->user_id, .actor_role = "user" };

                rc = db_event(db, r->id, -1, -1, r->state, &who, j->now);
        }
        if (rc == 0)
                rc = notify_all(db, -1, r, NULL, j->now);
        return rc;
}

int store_resv_request(struct store *st, const struct store_resv_new *n,
                       const struct resv_rules *r, int64_t now, struct store_resv *out,
                       struct store_resv_why *why)
{
        struct request_job j = { n, r, now, out, why };

        if (!st || !n || !r || !out || !why)
                return -EINVAL;
        memset(why, 0, sizeof(*why));
        if (resv_check_range(r, n->starts_at, n->ends_at) < 0)
                return -EINVAL;
        return store_write(st, request_job_run, &j);
}

/* ---- the steps ------------------------------------------------------------------------ */

struct step_job {
        int64_t id;
        const struct store_resv_step *s;
        const struct resv_rules *rules;
        int64_t now;
        struct store_resv *out;
        struct store_resv_money *m;
        struct store_resv_why *why;
        bool tick;                      /* the scheduler: pick the due event */
        enum resv_event done;
};

/* Replaces the hold with one of new_amount (early use, extension). */
static int rehold(sqlite3 *db, struct store_resv *r, int64_t new_amount,
                  const struct resv_accounts *a, int64_t now, struct store_resv_why *why)
{
        struct resv_postings p;
        int rc;

        resv_postings_init(&p);
        rc = resv_add_void(&p, r->id, r->hold_version, r->hold_amount);
        if (rc == 0 && new_amount > 0)
                rc = resv_add_hold(&p, r->id, r->hold_version + 1, a, new_amount);
        if (rc == 0)
                rc = exec_postings(db, &p, now, a->user_wallet, why);
        if (rc < 0)
                return rc;
        r->hold_version++;
        r->hold_amount = new_amount;
        return 0;
}

/* Releases the whole hold to the user. */
static int release_hold(sqlite3 *db, struct store_resv *r, const struct resv_accounts *a,
                        int64_t now, struct store_resv_money *m, struct store_resv_why *why)
{
        struct resv_postings p;
        int rc;

        resv_postings_init(&p);
        rc = resv_add_void(&p, r->id, r->hold_version, r->hold_amount);
        if (rc == 0)
                rc = exec_postings(db, &p, now, a->user_wallet, why);
        if (rc < 0)
                return rc;
        m->refunded = r->hold_amount;
        r->refunded += r->hold_amount;
        r->hold_amount = 0;
        return 0;
}

/* Charges `charge` of the hold for the host (CS-19, CS-27); the rest returns. */
static int settle_hold(sqlite3 *db, const struct resv_rules *rules, struct store_resv *r,
                       int64_t charge, int code, const char *tag, const struct resv_accounts *a,
                       int64_t now, struct store_resv_money *m, struct store_resv_why *why)
{
        struct resv_postings p;
        int rc;

        resv_postings_init(&p);
        rc = resv_add_settle(&p, rules, r->id, r->hold_version, r->hold_amount, charge, code,
                             tag, a, &m->platform_fee, &m->host_net);
        if (rc == 0)
                rc = exec_postings(db, &p, now, a->user_wallet, why);
        if (rc < 0)
                return rc;
        m->charged = charge;
        m->refunded = r->hold_amount - charge;
        r->charged += charge;
        r->platform_fee += m->platform_fee;
        r->refunded += r->hold_amount - charge;
        r->hold_amount = 0;
        return 0;
}

/* The end of use: capture the fee (CS-19), then any overstay penalty (CS-33). */
static int finish_use(sqlite3 *db, struct step_job *j, struct store_resv *r,
                      const struct resv_charger *ch, const struct resv_accounts *a, bool out)
{
        struct resv_end_facts f = { 0 };
        int64_t minutes, owed, paid;
        int rc;

        rc = settle_hold(db, j->rules, r, r->hold_amount, LEDGER_FEE, "fee", a, j->now, j->m,
                         j->why);
        if (rc < 0)
                return rc;
        f.starts_at = r->starts_at;
        f.ends_at = r->ends_at;
        f.checked_out = out;
        f.checked_out_at = j->now;
        rc = resv_overtime(j->rules, &f, &r->overtime_s);
        if (rc == 0)
                rc = resv_overstay_penalty(j->rules, ch->penalty_enabled, r->hourly_price,
                                           r->overtime_s, &minutes, &r->penalty);
        if (rc < 0)
                return rc;
        j->m->penalty = r->penalty;
        rc = charge_member(db, j->rules, r, true, r->penalty, a, j->now, &paid, &owed,
                           &j->m->penalty_share, j->why);
        if (rc < 0)
                return rc;
        r->penalty_paid = paid;
        j->m->penalty_paid = paid;
        j->m->penalty_owed = owed;
        if (out)
                r->checked_out_at = j->now;
        return 0;
}

/* Early use (CS-31): the same duration from new_start (the domain's rule),
 * the fee difference settled at once through the hold. */
static int early_use(sqlite3 *db, struct step_job *j, struct store_resv *r,
                     const struct resv_accounts *a)
{
        int64_t dur = r->ends_at - r->starts_at, diff = 0, ns = j->s->new_start;
        struct resv_window w = { 0 };
        struct slot_range moved;
        int rc;

        if (ns <= 0 || ns >= r->starts_at || ns > INT64_MAX - dur)
                return ns >= r->starts_at ? -EINVAL : -ETIME;
        rc = window_load(db, r->charger_id, ns, ns + dur, &w);
        if (rc == 0)
                rc = resv_early_use(j->rules, w.slots, (size_t)w.n, w.others, (size_t)w.k, r->id,
                                    r->starts_at, r->ends_at, r->fee, ns, j->now, &moved, &diff);
        if (rc == 0)
                r->hourly_price = price_at_end(w.slots, w.n, moved.ends_at);
        window_free(&w);
        if (rc == -EPERM)
                return -ETIME;
        if (rc == -ENOENT)
                return -ERANGE;
        if (rc == -EBUSY)
                return -EADDRINUSE;     /* the domain's "taken" (not the store's busy) */
        if (rc < 0)
                return rc;
        rc = rehold(db, r, r->fee + diff + r->extension_fee, a, j->now, j->why);
        if (rc < 0)
                return rc;
        j->m->held_diff = diff;
        r->starts_at = moved.starts_at;
        r->ends_at = moved.ends_at;
        r->fee += diff;
        return 0;
}

/* Extension (CS-32): [ends_at, new_end) in slots and free, at the frozen price. */
static int extend(sqlite3 *db, struct step_job *j, struct store_resv *r,
                  const struct resv_accounts *a)
{
        int64_t ne = j->s->new_end, extra = 0, ignored_fee, ignored_price;
        int rc;

        if (resv_check_range(j->rules, r->ends_at, ne) < 0)
                return -EINVAL;
        if (j->s->max_duration_s > 0 && ne - r->starts_at > j->s->max_duration_s)
                return -EINVAL;
        if (j->now >= r->ends_at)
                return -ETIME;
        rc = range_quote(db, r->charger_id, r->ends_at, ne, r->id, &ignored_fee, &ignored_price,
                         j->why);
        if (rc == 0)
                rc = resv_extension_fee(j->rules, r->hourly_price, r->ends_at, ne, &extra);
        if (rc == 0)
                rc = rehold(db, r, r->hold_amount + extra, a, j->now, j->why);
        if (rc < 0)
                return rc;
        j->m->held_diff = extra;
        r->extension_fee += extra;
        r->ends_at = ne;
        return 0;
}

/* The host's handling fee (CS-17, CS-20), from its wallet or as its debt. */
static int host_fee(sqlite3 *db, struct step_job *j, struct store_resv *r,
                    const struct resv_accounts *a, int64_t fee)
{
        int64_t paid, owed;
        int rc = charge_member(db, j->rules, r, false, fee, a, j->now, &paid, &owed, NULL,
                               j->why);

        if (rc < 0)
                return rc;
        r->host_fee = fee;
        j->m->host_fee = fee;
        j->m->host_fee_paid = paid;
        j->m->host_fee_owed = owed;
        return 0;
}

/* The money and facts of event ev taking r to `next`. */
static int step_effects(sqlite3 *db, struct step_job *j, struct store_resv *r, enum resv_event ev,
                        const struct resv_charger *ch, const struct resv_accounts *a)
{
        struct resv_host_cancel hc;
        int64_t charge;
        int rc;

        switch (ev) {
        case RESV_EV_APPROVE:
        case RESV_EV_BECOME_OVERDUE:
                return 0;
        case RESV_EV_REJECT:
        case RESV_EV_EXPIRE:
        case RESV_EV_WITHDRAW:
        case RESV_EV_CANCEL_UNUSABLE:
                return release_hold(db, r, a, j->now, j->m, j->why);
        case RESV_EV_CANCEL_USER:
                rc = resv_user_cancel_fee(j->rules, r->hold_amount, r->starts_at, j->now, &charge);
                if (rc < 0)
                        return rc;
                return settle_hold(db, j->rules, r, charge, LEDGER_CANCELLATION_FEE, "cxl", a,
                                   j->now, j->m, j->why);
        case RESV_EV_CANCEL_HOST:
                rc = resv_host_cancel(j->rules, ch->corporate_host, r->starts_at, j->now, &hc);
                if (rc < 0)
                        return rc;
                if (!hc.self_service && !j->s->operator)
                        return -EACCES;
                rc = release_hold(db, r, a, j->now, j->m, j->why);
                if (rc == 0 && !hc.self_service)
                        rc = host_fee(db, j, r, a, hc.fee);
                return rc;
        case RESV_EV_CANCEL_NONPERFORMANCE:
                rc = release_hold(db, r, a, j->now, j->m, j->why);
                if (rc == 0)
                        rc = host_fee(db, j, r, a,
                                      resv_nonperformance_fee(j->rules, ch->corporate_host,
                                                              j->s->third_party));
                return rc;
        case RESV_EV_CHECK_IN:
                if (j->now < r->starts_at || j->now >= r->ends_at)
                        return -ETIME;
                rc = site_limit_check(db, ch->site_id, j->now, j->why);
                if (rc == 0)
                        r->checked_in_at = j->now;
                return rc;
        case RESV_EV_CHECK_OUT:
                return finish_use(db, j, r, ch, a, true);
        case RESV_EV_CLOSE_OVERDUE:
                return finish_use(db, j, r, ch, a, false);
        case RESV_EV_NO_SHOW:
                return settle_hold(db, j->rules, r, r->hold_amount, LEDGER_FEE, "fee", a, j->now,
                                   j->m, j->why);
        case RESV_EV_EARLY_USE:
                return early_use(db, j, r, a);
        case RESV_EV_EXTEND:
                return extend(db, j, r, a);
        default:
                return -EINVAL;
        }
}

static int step_job_run(sqlite3 *db, void *arg)
{
        struct step_job *j = arg;
        struct store_resv *r = j->out;
        struct resv_charger ch;
        struct resv_accounts acc;
        enum resv_event ev = j->tick ? RESV_EV_EXPIRE : j->s->ev, due_ev;
        enum resv_state next;
        unsigned flags = 0;
        int from, rc;

        rc = db_resv_get(db, j->id, r);
        if (rc < 0)
                return rc;
        if (j->tick) {
                int64_t at = resv_due_at(j->rules, r->state, r->expires_at, r->ends_at, &due_ev);

                if (at == 0 || at > j->now)
                        return -EALREADY;
                ev = due_ev;
                j->done = ev;
        }
        rc = db_charger(db, r->charger_id, &ch);
        if (rc < 0)
                return rc;
        if (r->onsite)
                flags |= RESV_F_ONSITE;
        if (!ch.extendable)
                flags |= RESV_F_NOT_EXTENDABLE;
        rc = resv_next_flags(r->state, ev, flags, &next);
        if (rc < 0) {
                j->why->state = r->state;
                return -EPERM;
        }
        rc = load_accounts(db, r->user_id, r->host_id, j->now, &acc);
        if (rc == 0)
                rc = step_effects(db, j, r, ev, &ch, &acc);
        if (rc < 0)
                return rc;
        from = r->state;
        r->state = next;
        if (resv_state_final(next))
                r->closed_at = j->now;
        if ((ev == RESV_EV_REJECT || resv_state_final(next)) && j->s && j->s->reason)
                snprintf(r->message, sizeof(r->message), "%s", j->s->reason);
        r->due_at = resv_due_at(j->rules, r->state, r->expires_at, r->ends_at, &due_ev);
        r->updated_at = j->now;
        rc = db_resv_save(db, r);
        if (rc == 0)
                rc = db_event(db, r->id, ev, from, r->state, j->s, j->now);
        if (rc == 0)
                rc = notify_all(db, ev, r, j->m, j->now);
        return rc;
}

int store_resv_apply(struct store *st, int64_t id, const struct store_resv_step *s,
                     const struct resv_rules *r, int64_t now, struct store_resv *out,
                     struct store_resv_money *money, struct store_resv_why *why)
{
        struct step_job j = { 0 };

        if (!st || !s || !r || !out || !money || !why)
                return -EINVAL;
        memset(why, 0, sizeof(*why));
        memset(money, 0, sizeof(*money));
        j.id = id;
        j.s = s;
        j.rules = r;
        j.now = now;
        j.out = out;
        j.m = money;
        j.why = why;
        return store_write(st, step_job_run, &j);
}

int store_resv_tick(struct store *st, int64_t id, const struct resv_rules *r, int64_t now,
                    enum resv_event *done)
{
        static const struct store_resv_step system = { .actor_role = "system" };
        struct store_resv out;
        struct store_resv_money m = { 0 };
        struct store_resv_why why = { 0 };
        struct step_job j = { 0 };
        int rc;

        j.id = id;
        j.s = &system;
        j.rules = r;
        j.now = now;
        j.out = &out;
        j.m = &m;
        j.why = &why;
        j.tick = true;
        rc = store_write(st, step_job_run, &j);
        if (rc == 0 && done)
                *done = j.done;
        return rc;
}

int store_resv_due(struct store *st, int64_t now, int64_t *ids, int max)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT id FROM reservations WHERE due_at > 0 AND due_at <= ?"
                              " ORDER BY due_at, id LIMIT ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_int(s, 2, max);
        for (rc = sqlite3_step(s); rc == SQLITE_ROW && n < max; rc = sqlite3_step(s))
                ids[n++] = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? n : store_errno(rc);
}

/* ---- reads ------------------------------------------------------------------------------ */

int store_resv_get(struct store *st, int64_t id, struct store_resv *out)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return db_resv_get(db, id, out);
}

int store_resv_list(struct store *st, const struct store_resv_filter *f,
                    void (*cb)(const struct store_resv *r, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        struct store_resv r;
        int n = 0, rc;

        if (!db)
                return -EIO;
        if (!f || f->limit < 1 || f->limit > 500)
                return -EINVAL;
        s = store_prepare(db,
                "SELECT " RESV_COLS " FROM reservations"
                " WHERE (?1 = 0 OR user_id = ?1) AND (?2 = 0 OR host_id = ?2)"
                " AND (?3 = 0 OR charger_id = ?3) AND (?4 = '' OR state = ?4)"
                " AND (?5 = 0 OR state IN ('requested','confirmed','checked_in','overdue'))"
                " AND (?6 = 0 OR ends_at > ?6) AND (?7 = 0 OR starts_at < ?7)"
                " AND (?8 = 0 OR id < ?8) ORDER BY id DESC LIMIT ?9");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, f->user_id);
        sqlite3_bind_int64(s, 2, f->host_id);
        sqlite3_bind_int64(s, 3, f->charger_id);
        sqlite3_bind_text(s, 4, f->state >= 0 ? resv_state_name(f->state) : "", -1,
                          SQLITE_STATIC);
        sqlite3_bind_int(s, 5, f->active_only ? 1 : 0);
        sqlite3_bind_int64(s, 6, f->from);
        sqlite3_bind_int64(s, 7, f->to);
        sqlite3_bind_int64(s, 8, f->after_id);
        sqlite3_bind_int(s, 9, f->limit);
        for (rc = sqlite3_step(s); rc == SQLITE_ROW; rc = sqlite3_step(s)) {
                resv_from_row(s, &r);
                cb(&r, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

int store_resv_events(struct store *st, int64_t id,
                      void (*cb)(const struct store_resv_event *e, void *ud), void *ud)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        struct store_resv_event e;
        int n = 0, rc;

        if (!db)
                return -EIO;
        s = store_prepare(db,
                "SELECT id, reservation_id, event, from_state, to_state, actor_id, actor_role,"
                " reason, lat_e6, lon_e6, at FROM reservation_events"
                " WHERE reservation_id = ? ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, id);
        for (rc = sqlite3_step(s); rc == SQLITE_ROW; rc = sqlite3_step(s)) {
                memset(&e, 0, sizeof(e));
                e.id = sqlite3_column_int64(s, 0);
                e.reservation_id = sqlite3_column_int64(s, 1);
                sql_col_copy(s, 2, e.event, sizeof(e.event));
                sql_col_copy(s, 3, e.from_state, sizeof(e.from_state));
                sql_col_copy(s, 4, e.to_state, sizeof(e.to_state));
                e.actor_id = sqlite3_column_int64(s, 5);
                sql_col_copy(s, 6, e.actor_role, sizeof(e.actor_role));
                sql_col_copy(s, 7, e.reason, sizeof(e.reason));
                e.has_location = sqlite3_column_type(s, 8) != SQLITE_NULL;
                e.lat_e6 = sqlite3_column_int64(s, 8);
                e.lon_e6 = sqlite3_column_int64(s, 9);
                e.at = sqlite3_column_int64(s, 10);
                cb(&e, ud);
                n++;
        }
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? n : store_errno(rc);
}

/* ---- debts (CS-34) ---------------------------------------------------------------------- */

struct settle_job {
        int64_t member_id;
        const struct resv_rules *rules;
        int64_t now;
        int64_t paid;
};

struct open_debt {
        int64_t id, reservation_id, creditor_id, amount, paid;
        int repayments;
        bool penalty;
};

static int db_next_debt(sqlite3 *db, int64_t member_id, int64_t after, struct open_debt *d)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT id, reservation_id, creditor_id, amount, paid, repayments, kind"
                " FROM debts WHERE member_id = ? AND paid < amount AND id > ?"
                " ORDER BY id LIMIT 1");
        const unsigned char *k;
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        sqlite3_bind_int64(s, 2, after);
        r = sql_step_row(s);
        if (r == 1) {
                d->id = sqlite3_column_int64(s, 0);
                d->reservation_id = sqlite3_column_int64(s, 1);
                d->creditor_id = sqlite3_column_int64(s, 2);
                d->amount = sqlite3_column_int64(s, 3);
                d->paid = sqlite3_column_int64(s, 4);
                d->repayments = sqlite3_column_int(s, 5);
                k = sqlite3_column_text(s, 6);
                d->penalty = k && strcmp((const char *)k, "penalty") == 0;
        }
        sqlite3_reset(s);
        return r;
}

static int db_debt_paid(sqlite3 *db, const struct open_debt *d, int64_t pay, int64_t now)
{
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE debts SET paid = paid + ?2, repayments = repayments + 1,"
                " settled_at = CASE WHEN paid + ?2 >= amount THEN ?3 ELSE 0 END WHERE id = ?1");
        sqlite3_stmt *u;
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, d->id);
        sqlite3_bind_int64(s, 2, pay);
        sqlite3_bind_int64(s, 3, now);
        r = sql_exec_change(s);
        if (r < 0 || !d->penalty)
                return r;
        u = store_prepare(db, "UPDATE reservations SET penalty_paid = penalty_paid + ?2"
                              " WHERE id = ?1");
        if (!u)
                return -EIO;
        sqlite3_bind_int64(u, 1, d->reservation_id);
        sqlite3_bind_int64(u, 2, pay);
        return sql_exec_change(u);
}

static int settle_one(sqlite3 *db, struct settle_job *j, const struct open_debt *d,
                      int64_t wallet, int64_t debt_acc, int64_t avail, int64_t *pay)
{
        struct ledger_account host;
        struct resv_repay rp = { 0 };
        struct resv_postings p;
        struct store_resv_why why = { 0 };
        int rc;

        *pay = d->amount - d->paid < avail ? d->amount - d->paid : avail;
        rp.debt_id = d->id;
        rp.n = d->repayments + 1;
        rp.pay = *pay;
        rp.paid_before = d->paid;
        rp.penalty = d->penalty;
        rp.payer_wallet = wallet;
        rp.payer_debt = debt_acc;
        rp.escrow = LEDGER_ESCROW_ID;
        rp.penalty_share = LEDGER_PENALTY_SHARE_ID;
        if (d->penalty) {
                rc = store_ledger_db_member_account(db, d->creditor_id, LEDGER_ACC_WALLET,
                                                    j->now, &host);
                if (rc < 0)
                        return rc;
                rp.host_wallet = host.id;
        }
        resv_postings_init(&p);
        rc = resv_add_repay(&p, j->rules, &rp, NULL);
        if (rc == 0)
                rc = exec_postings(db, &p, j->now, wallet, &why);
        if (rc == 0)
                rc = db_debt_paid(db, d, *pay, j->now);
        return rc;
}

static int settle_job_run(sqlite3 *db, void *arg)
{
        struct settle_job *j = arg;
        struct ledger_account w, dacc;
        struct open_debt d;
        int64_t avail, after = 0, pay;
        int rc;

        rc = store_ledger_db_member_account(db, j->member_id, LEDGER_ACC_WALLET, j->now, &w);
        if (rc == 0)
                rc = store_ledger_db_member_account(db, j->member_id, LEDGER_ACC_DEBT, j->now,
                                                    &dacc);
        if (rc < 0)
                return rc;
        avail = ledger_available(&w);
        while (avail > 0) {
                rc = db_next_debt(db, j->member_id, after, &d);
                if (rc <= 0)
                        return rc;
                after = d.id;
                rc = settle_one(db, j, &d, w.id, dacc.id, avail, &pay);
                if (rc < 0)
                        return rc;
                avail -= pay;
                j->paid += pay;
        }
        return 0;
}

int store_resv_settle_debts(struct store *st, int64_t member_id, const struct resv_rules *r,
                            int64_t now, int64_t *paid)
{
        struct settle_job j = { member_id, r, now, 0 };
        int64_t owed = 0;
        int rc = store_resv_debt(st, member_id, &owed);

        if (paid)
                *paid = 0;
        if (rc < 0 || owed == 0)
                return rc;
        rc = store_write(st, settle_job_run, &j);
        if (rc == 0 && paid)
                *paid = j.paid;
        return rc;
}

int store_resv_debt(struct store *st, int64_t member_id, int64_t *owed)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return db_debt_owed(db, member_id, owed);
}

int store_resv_blockers(struct store *st, int64_t member_id, int64_t *as_user,
                        int64_t *as_host)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db,
                "SELECT (SELECT count(*) FROM reservations WHERE user_id = ?1"
                "  AND state IN ('requested','confirmed','checked_in','overdue')),"
                " (SELECT count(*) FROM reservations WHERE host_id = ?1"
                "  AND state IN ('confirmed','checked_in','overdue'))");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, member_id);
        r = sql_step_row(s);
        if (r == 1) {
                *as_user = sqlite3_column_int64(s, 0);
                *as_host = sqlite3_column_int64(s, 1);
        }
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -EIO : r;
}

/* ---- calendar feed tokens ------------------------------------------------------------- */

struct ical_job {
        int64_t host_id;
        const char *hash;
};

static int ical_job_run(sqlite3 *db, void *arg)
{
        struct ical_job *j = arg;
        sqlite3_stmt *s = store_prepare(db,
                "UPDATE hosts SET ical_token_hash = ? WHERE member_id = ?");

        if (!s)
                return -EIO;
        sql_bind_text(s, 1, j->hash);
        sqlite3_bind_int64(s, 2, j->host_id);
        return sql_exec_change(s);
}

int store_resv_ical_set(struct store *st, int64_t host_id, const char *hash_hex)
{
        struct ical_job j = { host_id, hash_hex };

        if (!st || !hash_hex || !*hash_hex)
                return -EINVAL;
        return store_write(st, ical_job_run, &j);
}

int store_resv_ical_host(struct store *st, const char *hash_hex, int64_t *host_id)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT member_id FROM hosts WHERE ical_token_hash = ?");
        if (!s)
                return -EIO;
        sql_bind_text(s, 1, hash_hex);
        r = sql_step_row(s);
        if (r == 1)
                *host_id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return r == 1 ? 0 : r == 0 ? -ENOENT : r;
}
