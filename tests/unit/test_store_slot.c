/*
 * test_store_slot.c - slots in the store (store_slot.c with the real
 * migrations): create one and a pattern all-or-nothing, overlap refused
 * naming the slot, the host's publishability (CS-8), CS-16 (a slot cannot
 * be changed or deleted while a pending or confirmed reservation falls in
 * it; it can once that reservation is cancelled), CS-13's "has a future
 * slot", listings and the calendar window, and the CS-7 host action rows.
 *
 * Hosts, members, chargers, vehicles and reservations are inserted with
 * raw SQL through a second connection: part 1 has no API that creates
 * reservations.
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

#include "domain/slot.h"
#include "store/store.h"
#include "store/store_slot.h"

#define T0 1780239600LL          /* 2026-06-01T00:00:00+09:00 */
#define H 3600LL

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
        sqlite3 *raw;
        int64_t host, charger, user, vehicle;
};

static const struct store_actor host_actor = { 10, "member", "127.0.0.1", "req-1" };

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

static void add_member(struct fx *fx, int64_t id)
{
        raw(fx, "INSERT INTO members (id, kind, email, email_norm, password_hash, name, name_kana,"
                " phone, postcode, prefecture, city, line1, created_at, updated_at) VALUES"
                " (%" PRId64 ", 'individual', 'm%" PRId64 "@example.jp', 'm%" PRId64
                "@example.jp', 'x', 'N', 'N', '090', '100-0001', 'Tokyo', 'Chiyoda', '1-1', 0, 0)",
                id, id, id);
}

static void add_host(struct fx *fx, int64_t id, const char *verification, const char *contract)
{
        add_member(fx, id);
        raw(fx, "INSERT INTO hosts (member_id, display_name, verification, contract, created_at,"
                " updated_at) VALUES (%" PRId64 ", 'Host %" PRId64 "', '%s', '%s', 0, 0)",
                id, id, verification, contract);
}

static int64_t add_charger(struct fx *fx, int64_t host)
{
        raw(fx, "INSERT INTO chargers (host_id, kind, maker, model, output_w, connector, postcode,"
                " prefecture, city, line1, lat_e6, lon_e6, qr_token_hash, qr_state, qr_issued_at,"
                " created_at, updated_at) VALUES (%" PRId64 ", 'normal', 'M', 'X', 6000, 'type1',"
                " '100-0001', 'Tokyo', 'Chiyoda', '1-1', 35681236, 139767125, x'00', 'attached',"
                " 0, 0, 0)", host);
        return sqlite3_last_insert_rowid(fx->raw);
}

static int64_t add_reservation(struct fx *fx, int64_t charger, int64_t s, int64_t e,
                               const char *status)
{
        raw(fx, "INSERT INTO reservations (charger_id, user_id, vehicle_id, starts_at, ends_at,"
                " status, created_at, updated_at) VALUES (%" PRId64 ", %" PRId64 ", %" PRId64
                ", %" PRId64 ", %" PRId64 ", '%s', 0, 0)",
                charger, fx->user, fx->vehicle, s, e, status);
        return sqlite3_last_insert_rowid(fx->raw);
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256];
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-slot-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/slot.db", fx->dir);
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
        add_host(fx, 10, "verified", "active");
        fx->host = 10;
        fx->charger = add_charger(fx, 10);
        add_member(fx, 20);
        fx->user = 20;
        raw(fx, "INSERT INTO vehicles (member_id, maker, model, plate, powertrain, connector,"
                " battery_wh, created_at) VALUES (20, 'N', 'L', 'P', 'ev', 'type1', 40000, 0)");
        fx->vehicle = sqlite3_last_insert_rowid(fx->raw);
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

static int create1(struct fx *fx, int64_t charger, int64_t s, int64_t e, int64_t price,
                   struct store_slot *out, struct store_slot_conflict *why)
{
        struct slot_range r = { s, e };

        return store_slot_create(fx->st, charger, &r, 1, price, "slot.create", &host_actor, T0,
                                 out, why);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_CS_13_create_get_list_has_future(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, b, got, *items = NULL;
        struct store_slot_conflict why;
        bool future, truncated;
        int n;

        assert_int_equal(store_slot_has_future(fx->st, fx->charger, T0, &future), 0);
        assert_false(future);
        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 12 * H, 300, &a, &why), 0);
        assert_true(a.id > 0);
        assert_int_equal(a.charger_id, fx->charger);
        /* Adjacent is not overlapping. */
        assert_int_equal(create1(fx, fx->charger, T0 + 12 * H, T0 + 13 * H, 450, &b, &why), 0);
        assert_int_equal(store_slot_get(fx->st, a.id, &got), 0);
        assert_true(got.starts_at == T0 + 9 * H && got.ends_at == T0 + 12 * H &&
                    got.hourly_price == 300);
        assert_int_equal(store_slot_get(fx->st, 999999, &got), -ENOENT);

        assert_int_equal(store_slot_has_future(fx->st, fx->charger, T0, &future), 0);
        assert_true(future);
        assert_int_equal(store_slot_has_future(fx->st, fx->charger, T0 + 13 * H, &future), 0);
        assert_false(future);           /* the last slot ended */

        n = store_slot_list(fx->st, fx->charger, 0, 0, 100, &items, &truncated);
        assert_int_equal(n, 2);
        assert_false(truncated);
        assert_int_equal(items[0].id, a.id);
        assert_int_equal(items[1].id, b.id);
        free(items);
        n = store_slot_list(fx->st, fx->charger, T0 + 12 * H, 0, 100, &items, &truncated);
        assert_int_equal(n, 1);         /* a ends at 12:00: not in [12:00, ...) */
        free(items);
        n = store_slot_list(fx->st, fx->charger, 0, T0 + 12 * H, 100, &items, &truncated);
        assert_int_equal(n, 1);
        free(items);
        n = store_slot_list(fx->st, fx->charger, 0, 0, 1, &items, &truncated);
        assert_int_equal(n, 1);
        assert_true(truncated);
        free(items);

        /* One CS-7 host action per created slot, naming the slot. */
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM host_actions WHERE action ="
                                     " 'slot.create' AND object_kind = 'slot' AND principal_id"
                                     " = 10"), 2);
}

static void test_CS_13_overlap_refused_naming_the_slot(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, x;
        struct store_slot_conflict why;
        int64_t other = add_charger(fx, fx->host);

        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 12 * H, 300, &a, &why), 0);
        assert_int_equal(create1(fx, fx->charger, T0 + 11 * H, T0 + 14 * H, 300, &x, &why),
                         -EEXIST);
        assert_int_equal(why.slot.id, a.id);
        assert_int_equal(why.slot.starts_at, T0 + 9 * H);
        assert_int_equal(create1(fx, fx->charger, T0 + 8 * H, T0 + 9 * H + 900, 300, &x, &why),
                         -EEXIST);
        /* Another charger's slots do not count. */
        assert_int_equal(create1(fx, other, T0 + 9 * H, T0 + 12 * H, 300, &x, &why), 0);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM slots"), 2);
}

static void test_CS_13_pattern_all_or_nothing(void **state)
{
        struct fx *fx = *state;
        struct slot_range r[5];
        struct store_slot out[5], x;
        struct store_slot_conflict why;

        for (int i = 0; i < 5; i++) {
                r[i].starts_at = T0 + i * 86400 + 9 * H;
                r[i].ends_at = T0 + i * 86400 + 18 * H;
        }
        /* An existing slot on day 3 makes the whole pattern fail. */
        assert_int_equal(create1(fx, fx->charger, T0 + 3 * 86400 + 17 * H, T0 + 3 * 86400 + 19 * H,
                                 100, &x, &why), 0);
        assert_int_equal(store_slot_create(fx->st, fx->charger, r, 5, 300, "slot.create_pattern",
                                           &host_actor, T0, out, &why), -EEXIST);
        assert_int_equal(why.slot.id, x.id);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM slots"), 1);
        /* Without it, all five. */
        raw(fx, "DELETE FROM slots");
        assert_int_equal(store_slot_create(fx->st, fx->charger, r, 5, 300, "slot.create_pattern",
                                           &host_actor, T0, out, &why), 0);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM slots"), 5);
        assert_true(out[4].id > out[0].id);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM host_actions WHERE action ="
                                     " 'slot.create_pattern' AND object_kind = 'charger'"), 1);
        /* Unsorted or self-overlapping input is refused. */
        raw(fx, "DELETE FROM slots");
        r[1] = r[0];
        assert_int_equal(store_slot_create(fx->st, fx->charger, r, 2, 300, "slot.create_pattern",
                                           &host_actor, T0, out, &why), -EINVAL);
        assert_int_equal(store_slot_create(fx->st, fx->charger, r, 0, 300, "slot.create_pattern",
                                           &host_actor, T0, out, &why), -EINVAL);
}

static void test_CS_8_unpublishable_host_cannot_publish(void **state)
{
        struct fx *fx = *state;
        struct store_slot x;
        struct store_slot_conflict why;
        int64_t c2, c3;

        add_host(fx, 30, "pending", "active");
        c2 = add_charger(fx, 30);
        assert_int_equal(create1(fx, c2, T0 + 9 * H, T0 + 10 * H, 1, &x, &why), -EPERM);
        assert_string_equal(why.charger.verification, "pending");
        assert_false(why.charger.listing.host_publishable);
        /* A suspended member is not publishable either. */
        raw(fx, "UPDATE members SET status = 'suspended' WHERE id = 10");
        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 10 * H, 1, &x, &why), -EPERM);
        assert_string_equal(why.charger.member_status, "suspended");
        raw(fx, "UPDATE members SET status = 'active' WHERE id = 10");
        /* A deleted charger and an unknown one are not found. */
        c3 = add_charger(fx, fx->host);
        raw(fx, "UPDATE chargers SET deleted_at = 5 WHERE id = %" PRId64, c3);
        assert_int_equal(create1(fx, c3, T0 + 9 * H, T0 + 10 * H, 1, &x, &why), -ENOENT);
        assert_int_equal(create1(fx, 424242, T0 + 9 * H, T0 + 10 * H, 1, &x, &why), -ENOENT);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM slots"), 0);
}

static void test_CS_16_slot_change_refused_while_reservation_pending_or_confirmed(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, out;
        struct store_slot_conflict why;
        int64_t res;

        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 18 * H, 300, &a, &why), 0);
        res = add_reservation(fx, fx->charger, T0 + 14 * H, T0 + 15 * H, "pending");

        /* Delete: refused naming the reservation. */
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), -EBUSY);
        assert_int_equal(why.res.id, res);
        assert_int_equal(why.res.status, SLOT_RES_PENDING);
        assert_int_equal(why.res.starts_at, T0 + 14 * H);
        /* Price change: refused (CS-16, 14.2). */
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, a.ends_at, 500, true,
                                           &host_actor, T0, &out, &why), -EBUSY);
        /* Cutting the reserved afternoon: refused. */
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 14 * H + 1800, 300,
                                           true, &host_actor, T0, &out, &why), -EBUSY);
        /* Shrinking the free morning: allowed. */
        assert_int_equal(store_slot_update(fx->st, a.id, T0 + 10 * H, a.ends_at, 300, true,
                                           &host_actor, T0, &out, &why), 0);
        assert_int_equal(out.starts_at, T0 + 10 * H);

        /* Confirmed blocks the same way. */
        raw(fx, "UPDATE reservations SET status = 'confirmed' WHERE id = %" PRId64, res);
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), -EBUSY);
        assert_int_equal(why.res.status, SLOT_RES_CONFIRMED);
        /* So does checked_in. */
        raw(fx, "UPDATE reservations SET status = 'checked_in' WHERE id = %" PRId64, res);
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), -EBUSY);

        /* Cancelled: the change and the delete go through. */
        raw(fx, "UPDATE reservations SET status = 'cancelled' WHERE id = %" PRId64, res);
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, a.ends_at, 500, true,
                                           &host_actor, T0, &out, &why), 0);
        assert_int_equal(out.hourly_price, 500);
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), 0);
        assert_int_equal(store_slot_get(fx->st, a.id, &out), -ENOENT);
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), -ENOENT);
        assert_int_equal(raw_int(fx, "SELECT count(*) FROM host_actions WHERE action IN"
                                     " ('slot.update', 'slot.delete')"), 3);
}

static void test_CS_16_guard_looks_past_the_first_batch(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, out;
        struct store_slot_conflict why;
        int64_t last = 0;

        /* 100 short reservations in a long slot; only the last one is cut. */
        assert_int_equal(create1(fx, fx->charger, T0 + H, T0 + 200 * H, 300, &a, &why), 0);
        for (int i = 0; i < 100; i++)
                last = add_reservation(fx, fx->charger, T0 + (1 + i) * H, T0 + (1 + i) * H + 900,
                                       "confirmed");
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 100 * H + 600, 300,
                                           true, &host_actor, T0, &out, &why), -EBUSY);
        assert_int_equal(why.res.id, last);
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 101 * H, 300, true,
                                           &host_actor, T0, &out, &why), 0);
}

static void test_update_overlap_and_publishable(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, b, out;
        struct store_slot_conflict why;

        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 12 * H, 300, &a, &why), 0);
        assert_int_equal(create1(fx, fx->charger, T0 + 13 * H, T0 + 15 * H, 300, &b, &why), 0);
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 14 * H, 300, true,
                                           &host_actor, T0, &out, &why), -EEXIST);
        assert_int_equal(why.slot.id, b.id);
        /* Touching is fine; itself is not an overlap. */
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 13 * H, 300, true,
                                           &host_actor, T0, &out, &why), 0);
        /* Host contract ended: changes refused, deletion still allowed. */
        raw(fx, "UPDATE hosts SET contract = 'ended' WHERE member_id = 10");
        assert_int_equal(store_slot_update(fx->st, a.id, a.starts_at, T0 + 12 * H, 300, true,
                                           &host_actor, T0, &out, &why), -EPERM);
        assert_string_equal(why.charger.contract, "ended");
        assert_int_equal(store_slot_delete(fx->st, a.id, &host_actor, T0, &why), 0);
}

static void test_window_for_calendar(void **state)
{
        struct fx *fx = *state;
        struct store_slot a, b;
        struct store_slot_conflict why;
        struct slot *sl = NULL;
        struct slot_reservation *rv = NULL;
        size_t ns, nr;

        assert_int_equal(create1(fx, fx->charger, T0 + 9 * H, T0 + 12 * H, 300, &a, &why), 0);
        assert_int_equal(create1(fx, fx->charger, T0 + 86400 + 9 * H, T0 + 86400 + 12 * H, 400,
                                 &b, &why), 0);
        add_reservation(fx, fx->charger, T0 + 10 * H, T0 + 11 * H, "confirmed");
        add_reservation(fx, fx->charger, T0 + 9 * H, T0 + 10 * H, "cancelled");
        add_reservation(fx, fx->charger, T0 + 86400 + 9 * H, T0 + 86400 + 10 * H, "pending");

        assert_int_equal(store_slot_window(fx->st, fx->charger, T0, T0 + 86400, &sl, &ns, &rv,
                                           &nr), 0);
        assert_int_equal(ns, 1);
        assert_int_equal(sl[0].id, a.id);
        assert_int_equal(sl[0].hourly_price, 300);
        assert_int_equal(nr, 1);                /* the cancelled one is not active */
        assert_int_equal(rv[0].status, SLOT_RES_CONFIRMED);
        free(sl);
        free(rv);
        assert_int_equal(store_slot_window(fx->st, fx->charger, T0, T0 + 2 * 86400, &sl, &ns,
                                           &rv, &nr), 0);
        assert_int_equal(ns, 2);
        assert_int_equal(nr, 2);
        free(sl);
        free(rv);
        assert_int_equal(store_slot_window(fx->st, fx->charger, T0 + 3 * 86400, T0 + 4 * 86400,
                                           &sl, &ns, &rv, &nr), 0);
        assert_int_equal(ns, 0);
        assert_null(sl);
        assert_null(rv);
}

static void test_charger_and_actor_reads(void **state)
{
        struct fx *fx = *state;
        struct store_slot_charger c;
        bool ok;

        assert_int_equal(store_slot_charger_get(fx->st, fx->charger, &c), 0);
        assert_int_equal(c.host_id, fx->host);
        assert_true(c.listing.attached && c.listing.host_publishable);
        assert_false(c.listing.deleted || c.listing.delisted || c.listing.out_of_service);
        assert_int_equal(store_slot_charger_get(fx->st, 777, &c), -ENOENT);
        assert_int_equal(store_slot_is_host_actor(fx->st, fx->host, fx->host, &ok), 0);
        assert_true(ok);
        assert_int_equal(store_slot_is_host_actor(fx->st, fx->host, fx->user, &ok), 0);
        assert_false(ok);
        raw(fx, "INSERT INTO host_admins (host_id, member_id, appointed_by, appointed_at)"
                " VALUES (10, 20, 10, 0)");
        assert_int_equal(store_slot_is_host_actor(fx->st, fx->host, fx->user, &ok), 0);
        assert_true(ok);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_CS_13_create_get_list_has_future, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_13_overlap_refused_naming_the_slot, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_13_pattern_all_or_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_8_unpublishable_host_cannot_publish, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        test_CS_16_slot_change_refused_while_reservation_pending_or_confirmed,
                        setup, teardown),
                cmocka_unit_test_setup_teardown(test_CS_16_guard_looks_past_the_first_batch,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_update_overlap_and_publishable, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_window_for_calendar, setup, teardown),
                cmocka_unit_test_setup_teardown(test_charger_and_actor_reads, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
