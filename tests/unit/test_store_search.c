/*
 * test_store_search.c - the charger search (store_search.c) against a
 * brute force over the same data: nearest first by exact distance, ties by
 * id, every listed charger within the radius exactly once across the pages
 * of the keyset cursor, none outside it; unlisted chargers (host not
 * publishable, code not attached, delisted) never appear (CS-8, CS-11,
 * CS-40); free-for-a-range leaves out chargers with a reservation in the
 * range (CS-14: pending holds its range like confirmed).
 *
 * Data: store_search_seed() (the bench's bulk loader) puts 3,000 chargers
 * in clusters, some exactly on top of each other (ties), around two
 * points; raw SQL then unlists some of them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "domain/geo.h"
#include "store/store.h"
#include "store/store_search.h"

#define N_CHARGERS 3000
#define N_HOSTS 300
#define NOW 1780239600LL         /* 2026-06-01T00:00:00+09:00 */
#define H 3600LL

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
        sqlite3 *raw;
};

struct ref {
        int64_t mm, id;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

/* splitmix64: a small deterministic generator for the data. */
static uint64_t rnd(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
        return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static void raw(struct fx *fx, const char *sql)
{
        char *err = NULL;

        if (sqlite3_exec(fx->raw, sql, NULL, NULL, &err) != SQLITE_OK) {
                fprintf(stderr, "%s: %s\n", sql, err ? err : "?");
                sqlite3_free(err);
                fail();
        }
}

static int seed(struct fx *fx)
{
        static struct store_seed_charger ch[N_CHARGERS];
        static struct store_seed_range sl[N_CHARGERS];
        static struct store_seed_range rv[N_CHARGERS / 10];
        struct store_seed b = { .host_first_id = 1000, .n_hosts = N_HOSTS, .chargers = ch,
                                .n_chargers = N_CHARGERS, .slots = sl, .n_slots = N_CHARGERS,
                                .reservations = rv, .n_reservations = N_CHARGERS / 10 };
        uint64_t s = 42;

        for (size_t i = 0; i < N_CHARGERS; i++) {
                /* two clusters (Tokyo, Osaka); every 50th charger sits on
                 * the previous one's spot (equal distances: ties by id) */
                bool tokyo = i % 3 != 0;
                double lat = tokyo ? 35.6812 : 34.6937, lon = tokyo ? 139.7671 : 135.5023;

                if (i > 0 && i % 50 == 0) {
                        ch[i] = ch[i - 1];
                } else {
                        ch[i].lat = lat + (unit(&s) - 0.5) * 0.2;
                        ch[i].lon = lon + (unit(&s) - 0.5) * 0.2;
                }
                ch[i].host_id = 1000 + (int64_t)(i % N_HOSTS);
                ch[i].output_w = 6000;
                ch[i].connector = "type2";
                ch[i].onsite = false;
                sl[i] = (struct store_seed_range){ i, NOW + H, NOW + 25 * H, 300 };
        }
        for (size_t i = 0; i < N_CHARGERS / 10; i++)
                rv[i] = (struct store_seed_range){ i * 10, NOW + 3 * H, NOW + 5 * H, 0 };
        return store_search_seed(fx->st, &b, NOW);
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256];
        int applied = 0;

        if (!fx)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-search-XXXXXX");
        if (!mkdtemp(fx->dir)) {
                free(fx);
                return -1;
        }
        snprintf(fx->path, sizeof(fx->path), "%s/search.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0 || seed(fx) < 0 ||
            sqlite3_open(fx->path, &fx->raw) != SQLITE_OK) {
                fprintf(stderr, "store: %s\n", err);
                store_close(fx->st);
                nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
                free(fx);
                return -1;
        }
        sqlite3_busy_timeout(fx->raw, 5000);
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

static int ref_cmp(const void *a, const void *b)
{
        const struct ref *x = a, *y = b;

        if (x->mm != y->mm)
                return x->mm < y->mm ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

/* The brute force: every listed charger within radius, sorted. When
 * ranged, those with an active reservation overlapping [from, to) are
 * left out (the seed's slots cover the whole test range). */
static size_t brute(struct fx *fx, const struct store_search_query *q, struct ref *out)
{
        const char *sql =
                "SELECT c.id, c.lat_e6, c.lon_e6,"
                " (SELECT count(*) FROM reservations r WHERE r.charger_id = c.id"
                "  AND r.status IN ('pending','confirmed','checked_in')"
                "  AND r.ends_at > ?1 AND r.starts_at < ?2)"
                " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                " JOIN members m ON m.id = c.host_id"
                " WHERE c.deleted_at = 0 AND c.delisted_at = 0 AND c.qr_state = 'attached'"
                " AND h.verification = 'verified' AND h.contract = 'active'"
                " AND m.status = 'active'";
        sqlite3_stmt *s = NULL;
        size_t n = 0;

        assert_int_equal(sqlite3_prepare_v2(fx->raw, sql, -1, &s, NULL), SQLITE_OK);
        sqlite3_bind_int64(s, 1, q->from);
        sqlite3_bind_int64(s, 2, q->to);
        while (sqlite3_step(s) == SQLITE_ROW) {
                double d = geo_distance_m(q->lat, q->lon,
                                          geo_from_e6(sqlite3_column_int64(s, 1)),
                                          geo_from_e6(sqlite3_column_int64(s, 2)));
                int64_t mm = llround(d * 1000.0);

                if (mm > q->radius_m * 1000)
                        continue;
                if ((q->from || q->to) && sqlite3_column_int64(s, 3) > 0)
                        continue;
                out[n].mm = mm;
                out[n].id = sqlite3_column_int64(s, 0);
                n++;
        }
        sqlite3_finalize(s);
        qsort(out, n, sizeof(*out), ref_cmp);
        return n;
}

/* Pages through the search and compares with the brute force. */
static void compare(struct fx *fx, struct store_search_query q)
{
        static struct ref want[N_CHARGERS];
        size_t n = brute(fx, &q, want), got = 0;

        q.after_mm = -1;
        q.after_id = 0;
        for (;;) {
                struct store_search_result res;

                assert_int_equal(store_search_chargers(fx->st, &q, NOW, &res), 0);
                for (size_t i = 0; i < res.n; i++) {
                        assert_true(got < n);
                        assert_int_equal(res.items[i].id, want[got].id);
                        assert_int_equal(res.items[i].distance_mm, want[got].mm);
                        got++;
                }
                if (!res.more) {
                        store_search_result_free(&res);
                        break;
                }
                assert_int_equal(res.n, (size_t)q.limit);
                q.after_mm = res.next_mm;
                q.after_id = res.next_id;
                store_search_result_free(&res);
        }
        assert_int_equal(got, n);
}

static void test_CS_40_search_matches_brute_force(void **state)
{
        struct fx *fx = *state;
        uint64_t s = 7;
        static const int64_t radii[] = { 300, 1500, 4000, 9000 };
        static const int limits[] = { 1, 7, 20, 100 };

        /* some chargers unlisted: host not publishable, not attached, delisted */
        raw(fx, "UPDATE hosts SET verification = 'pending' WHERE member_id % 7 = 0");
        raw(fx, "UPDATE chargers SET qr_state = 'mailed' WHERE id % 11 = 0");
        raw(fx, "UPDATE chargers SET delisted_at = 1, delisted_reason = 'fraud'"
                " WHERE id % 13 = 0");
        for (int i = 0; i < 24; i++) {
                bool tokyo = i % 2 == 0;
                struct store_search_query q = {
                        .lat = (tokyo ? 35.6812 : 34.6937) + (unit(&s) - 0.5) * 0.1,
                        .lon = (tokyo ? 139.7671 : 135.5023) + (unit(&s) - 0.5) * 0.1,
                        .radius_m = radii[i % 4], .onsite = -1, .limit = limits[(i / 4) % 4],
                };

                compare(fx, q);
        }
}

static void test_CS_14_free_search_skips_reserved_chargers(void **state)
{
        struct fx *fx = *state;
        struct store_search_query q = { .lat = 35.6812, .lon = 139.7671, .radius_m = 5000,
                                        .onsite = -1, .limit = 20,
                                        .from = NOW + 4 * H, .to = NOW + 6 * H };

        /* a pending request occupies its range like a confirmed booking */
        raw(fx, "UPDATE reservations SET status = 'pending' WHERE id % 2 = 0");
        compare(fx, q);
        q.from = NOW + 6 * H;           /* after every reservation: all free */
        q.to = NOW + 8 * H;
        compare(fx, q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_CS_40_search_matches_brute_force, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_14_free_search_skips_reserved_chargers,
                                                setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
