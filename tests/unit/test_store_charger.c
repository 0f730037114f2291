/*
 * test_store_charger.c - chargers in the store (store_charger.c with the
 * real migrations, on a temp database): create/update/delete keep the
 * R*Tree in step; CS-18 refuses deleting a charger a live reservation
 * refers to (rows inserted with raw SQL, as part 1 creates none) and
 * allows it once the reservation is cancelled; the QR life cycle with
 * constant-time token checks (CS-11); photos and their limit; delisting
 * (CS-10); sites and limit applications (CS-12); every write records the
 * CS-7 host action in its own transaction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_charger.h"
#include "util/crypto.h"

#define T0 1767225600           /* 2026-01-01T00:00:00Z */
#define HOST 1
#define OTHER_HOST 2
#define DRIVER 3

struct fx {
        char dir[64];
        char path[128];
        struct store *st;
        struct store_actor actor;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

/* ---- raw SQL through the writer (fixtures and checks) ------------------------ */

static int exec_job(sqlite3 *db, void *arg)
{
        char *err = NULL;

        if (sqlite3_exec(db, arg, NULL, NULL, &err) == SQLITE_OK)
                return 0;
        fprintf(stderr, "sql: %s\n  in: %s\n", err ? err : "?", (const char *)arg);
        sqlite3_free(err);
        return -EIO;
}

static void sql(struct fx *fx, const char *fmt, ...)
{
        char *q;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&q, fmt, ap) > 0);
        va_end(ap);
        assert_int_equal(store_write(fx->st, exec_job, q), 0);
        free(q);
}

struct int_job {
        const char *q;
        int64_t v;
};

static int int_job_run(sqlite3 *db, void *arg)
{
        struct int_job *j = arg;
        sqlite3_stmt *s;
        int rc;

        if (sqlite3_prepare_v2(db, j->q, -1, &s, NULL) != SQLITE_OK)
                return -EIO;
        rc = sqlite3_step(s);
        j->v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
        sqlite3_finalize(s);
        return 0;
}

/* The first column of the first row of q (-1 when no row). */
static int64_t sql_int(struct fx *fx, const char *fmt, ...)
{
        struct int_job j;
        char *q;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&q, fmt, ap) > 0);
        va_end(ap);
        j.q = q;
        assert_int_equal(store_write(fx->st, int_job_run, &j), 0);
        free(q);
        return j.v;
}

static void add_member(struct fx *fx, int64_t id)
{
        sql(fx, "INSERT INTO members (id, kind, email, email_norm, password_hash, name, name_kana,"
                " phone, postcode, prefecture, city, line1, created_at, updated_at)"
                " VALUES (%lld, 'individual', 'm%lld@x.test', 'm%lld@x.test', 'x', 'Name',"
                " 'ナ', '0312345678', '100-0001', '東京都', '千代田区', '1-1', %d, %d)",
            (long long)id, (long long)id, (long long)id, T0, T0);
}

static int setup(void **state)
{
        struct fx *fx = calloc(1, sizeof(*fx));
        struct store_options opt = { 0 };
        char err[256];
        int applied = 0;

        if (!fx || crypto_init() < 0)
                return -1;
        snprintf(fx->dir, sizeof(fx->dir), "/tmp/enemane-charger-XXXXXX");
        if (!mkdtemp(fx->dir))
                return -1;
        snprintf(fx->path, sizeof(fx->path), "%s/c.db", fx->dir);
        opt.path = fx->path;
        if (store_open(&opt, &fx->st, err, sizeof(err)) < 0 ||
            store_migrate(fx->st, &applied) < 0) {
                fprintf(stderr, "store: %s\n", err);
                return -1;
        }
        fx->actor = (struct store_actor){ HOST, "member", "127.0.0.1", "req-1" };
        add_member(fx, HOST);
        add_member(fx, OTHER_HOST);
        add_member(fx, DRIVER);
        sql(fx, "INSERT INTO hosts (member_id, display_name, verification, contract, created_at,"
                " updated_at) VALUES (%d, 'Spot A', 'verified', 'active', %d, %d),"
                " (%d, 'Spot B', 'pending', 'none', %d, %d)",
            HOST, T0, T0, OTHER_HOST, T0, T0);
        sql(fx, "INSERT INTO vehicles (id, member_id, maker, model, plate, powertrain, connector,"
                " battery_wh, created_at) VALUES (1, %d, 'Nissan', 'Leaf', '品川 300 あ 12-34',"
                " 'ev', 'chademo', 40000, %d)", DRIVER, T0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        store_close(fx->st);
        nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(fx);
        return 0;
}

/* A charger of host at (lat, lon) with a fresh token; returns its id. */
static int64_t new_charger(struct fx *fx, int64_t host, double lat, double lon,
                           char token[CRYPTO_TOKEN_MAX])
{
        struct store_charger *c = calloc(1, sizeof(*c));
        int64_t id = 0;

        assert_non_null(c);
        c->host_id = host;
        snprintf(c->kind, sizeof(c->kind), "normal");
        snprintf(c->maker, sizeof(c->maker), "Panasonic");
        snprintf(c->model, sizeof(c->model), "ELSEEV");
        c->output_w = 6000;
        snprintf(c->connector, sizeof(c->connector), "type1");
        snprintf(c->postcode, sizeof(c->postcode), "100-0005");
        snprintf(c->prefecture, sizeof(c->prefecture), "東京都");
        snprintf(c->city, sizeof(c->city), "千代田区");
        snprintf(c->line1, sizeof(c->line1), "丸の内1-9-1");
        c->lat_e6 = charger_deg_to_e6(lat);
        c->lon_e6 = charger_deg_to_e6(lon);
        c->extendable = true;
        crypto_token_new("chq_", c->qr_token);
        crypto_token_hash(c->qr_token, c->qr_token_hash);
        if (token)
                memcpy(token, c->qr_token, CRYPTO_TOKEN_MAX);
        assert_int_equal(store_charger_create(fx->st, c, &fx->actor, T0, &id), 0);
        assert_true(id > 0);
        free(c);
        return id;
}

static int64_t actions(struct fx *fx, const char *action, int64_t object_id)
{
        return sql_int(fx, "SELECT count(*) FROM host_actions WHERE principal_id = %d"
                           " AND action = '%s' AND object_id = %lld AND actor_id = %d"
                           " AND request_id = 'req-1'", HOST, action, (long long)object_id,
                       HOST);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_create_get_and_rtree_in_step(void **state)
{
        struct fx *fx = *state;
        struct store_charger *c = malloc(sizeof(*c));
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX];
        int64_t id = new_charger(fx, HOST, 35.681236, 139.767125, token);
        struct charger_status cs;

        assert_non_null(c);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_int_equal(c->host_id, HOST);
        assert_int_equal(c->lat_e6, 35681236);
        assert_int_equal(c->lon_e6, 139767125);
        assert_string_equal(c->qr_state, "issued");
        assert_string_equal(c->qr_token, token);
        crypto_token_hash(token, hash);
        assert_string_equal(c->qr_token_hash, hash);
        assert_string_equal(c->host_display_name, "Spot A");
        assert_true(c->host_publishable);
        assert_int_equal(c->site_id, 0);
        store_charger_status(c, &cs);
        assert_int_equal(charger_not_bookable(&cs), CHARGER_NB_QR_NOT_ATTACHED);
        /* R*Tree: one box around the point */
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM charger_geo WHERE id = %lld"
                                     " AND min_lat <= 35.6813 AND max_lat >= 35.6812"
                                     " AND min_lon <= 139.7672 AND max_lon >= 139.7671",
                                 (long long)id), 1);
        assert_int_equal(actions(fx, "charger.create", id), 1);
        /* update moves it, in the same job */
        c->lat_e6 = charger_deg_to_e6(34.702485);
        c->lon_e6 = charger_deg_to_e6(135.495951);
        snprintf(c->model, sizeof(c->model), "ELSEEV cabi");
        assert_int_equal(store_charger_update(fx->st, c, &fx->actor, T0 + 60), 0);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM charger_geo WHERE id = %lld"
                                     " AND min_lat BETWEEN 34.70 AND 34.71"
                                     " AND min_lon BETWEEN 135.49 AND 135.50",
                                 (long long)id), 1);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM charger_geo"), 1);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->model, "ELSEEV cabi");
        assert_int_equal(c->updated_at, T0 + 60);
        assert_int_equal(actions(fx, "charger.update", id), 1);
        assert_int_equal(store_charger_get(fx->st, id + 100, c), -ENOENT);
        free(c);
}

static void test_CS_18_delete_refused_while_reservation_live(void **state)
{
        struct fx *fx = *state;
        struct store_reservation_ref b = { 0 };
        struct store_charger *c = malloc(sizeof(*c));
        int64_t id = new_charger(fx, HOST, 35.0, 139.0, NULL);
        static const char *const live[] = { "pending", "confirmed", "checked_in" };

        assert_non_null(c);
        sql(fx, "INSERT INTO reservations (id, charger_id, user_id, vehicle_id, starts_at,"
                " ends_at, status, fee, created_at, updated_at) VALUES"
                " (77, %lld, %d, 1, %d, %d, 'completed', 500, %d, %d)",
            (long long)id, DRIVER, T0 - 7200, T0 - 3600, T0, T0);
        for (size_t i = 0; i < 3; i++) {
                sql(fx, "INSERT OR REPLACE INTO reservations (id, charger_id, user_id, vehicle_id,"
                        " starts_at, ends_at, status, fee, created_at, updated_at) VALUES"
                        " (78, %lld, %d, 1, %d, %d, '%s', 1000, %d, %d)",
                    (long long)id, DRIVER, T0 + 86400, T0 + 90000, live[i], T0, T0);
                memset(&b, 0, sizeof(b));
                assert_int_equal(store_charger_delete(fx->st, id, &fx->actor, T0, &b),
                                 -ENOTEMPTY);
                assert_int_equal(b.id, 78);
                assert_string_equal(b.status, live[i]);
                assert_int_equal(b.starts_at, T0 + 86400);
                assert_int_equal(b.ends_at, T0 + 90000);
        }
        /* nothing changed by the refused attempts */
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_int_equal(c->deleted_at, 0);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM charger_geo WHERE id = %lld",
                                 (long long)id), 1);
        assert_int_equal(actions(fx, "charger.delete", id), 0);
        /* cancelled: the charger may go */
        sql(fx, "UPDATE reservations SET status = 'cancelled' WHERE id = 78");
        assert_int_equal(store_charger_delete(fx->st, id, &fx->actor, T0 + 5, &b), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_int_equal(c->deleted_at, T0 + 5);
        assert_string_equal(c->qr_token, "");
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM charger_geo WHERE id = %lld",
                                 (long long)id), 0);
        assert_int_equal(actions(fx, "charger.delete", id), 1);
        /* deleted: gone for every write */
        assert_int_equal(store_charger_delete(fx->st, id, &fx->actor, T0 + 6, &b), -ENOENT);
        assert_int_equal(store_charger_update(fx->st, c, &fx->actor, T0 + 6), -ENOENT);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_MAIL, NULL, NULL,
                                                &fx->actor, T0), -ENOENT);
        free(c);
}

static void test_CS_11_qr_life_cycle(void **state)
{
        struct fx *fx = *state;
        struct store_charger *c = malloc(sizeof(*c));
        char token[CRYPTO_TOKEN_MAX], hash[CRYPTO_HASH_HEX], wrong[CRYPTO_HASH_HEX];
        char t2[CRYPTO_TOKEN_MAX], h2[CRYPTO_HASH_HEX];
        int64_t id = new_charger(fx, HOST, 35.0, 139.0, token);

        assert_non_null(c);
        crypto_token_hash(token, hash);
        crypto_token_hash("chq_not-the-token", wrong);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ATTACH, NULL, hash,
                                                &fx->actor, T0), -EAGAIN);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_MAIL, NULL, NULL,
                                                &fx->actor, T0 + 1), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->qr_state, "mailed");
        assert_string_equal(c->qr_token, "");           /* plaintext wiped */
        assert_int_equal(c->qr_mailed_at, T0 + 1);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_MAIL, NULL, NULL,
                                                &fx->actor, T0 + 2), -EALREADY);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ATTACH, NULL, wrong,
                                                &fx->actor, T0 + 3), -EACCES);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ATTACH, NULL, hash,
                                                &fx->actor, T0 + 4), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->qr_state, "attached");
        assert_int_equal(c->qr_attached_at, T0 + 4);
        assert_int_equal(actions(fx, "charger.qr_attached", id), 1);
        /* rotate: back to issued with the new code; the old one is dead */
        crypto_token_new("chq_", t2);
        crypto_token_hash(t2, h2);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ROTATE, t2, h2,
                                                &fx->actor, T0 + 5), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->qr_state, "issued");
        assert_string_equal(c->qr_token, t2);
        assert_string_equal(c->qr_token_hash, h2);
        assert_int_equal(c->qr_attached_at, 0);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_MAIL, NULL, NULL,
                                                &fx->actor, T0 + 6), 0);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ATTACH, NULL, hash,
                                                &fx->actor, T0 + 7), -EACCES);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ATTACH, NULL, h2,
                                                &fx->actor, T0 + 8), 0);
        assert_int_equal(store_charger_qr_event(fx->st, id, CHARGER_QR_ROTATE, NULL, NULL,
                                                &fx->actor, T0), -EINVAL);
        free(c);
}

static void test_photos_and_their_limit(void **state)
{
        struct fx *fx = *state;
        struct store_charger_photo meta = { .width = 2, .height = 3 }, got;
        int64_t id = new_charger(fx, HOST, 35.0, 139.0, NULL), pid = 0, first = 0;
        void *data = NULL;
        const char bytes[] = "\x89PNG-not-really";

        snprintf(meta.content_type, sizeof(meta.content_type), "image/png");
        for (int i = 0; i < 3; i++) {
                assert_int_equal(store_charger_photo_add(fx->st, id, &meta, bytes, sizeof(bytes),
                                                         3, &fx->actor, T0, &pid), 0);
                if (!first)
                        first = pid;
        }
        assert_int_equal(store_charger_photo_add(fx->st, id, &meta, bytes, sizeof(bytes), 3,
                                                 &fx->actor, T0, &pid), -EDQUOT);
        assert_int_equal(store_charger_photo_get(fx->st, id, first, &got, &data), 0);
        assert_int_equal(got.size, sizeof(bytes));
        assert_memory_equal(data, bytes, sizeof(bytes));
        assert_int_equal(got.width, 2);
        assert_string_equal(got.content_type, "image/png");
        free(data);
        /* a photo is reachable only through its own charger */
        assert_int_equal(store_charger_photo_get(fx->st, id + 1, first, &got, NULL), -ENOENT);
        assert_int_equal(store_charger_photo_delete(fx->st, id, first, &fx->actor, T0), 0);
        assert_int_equal(store_charger_photo_delete(fx->st, id, first, &fx->actor, T0), -ENOENT);
        assert_int_equal(store_charger_photo_add(fx->st, id, &meta, bytes, sizeof(bytes), 3,
                                                 &fx->actor, T0, &pid), 0);
        assert_int_equal(actions(fx, "charger.photo_delete", first), 1);
}

struct notes {
        int n;
        char kinds[8][20];
};

static void notes_cb(const struct store_charger_note *n, void *ud)
{
        struct notes *x = ud;

        if (x->n < 8)
                snprintf(x->kinds[x->n], sizeof(x->kinds[0]), "%s", n->kind);
        x->n++;
}

static void test_CS_10_change_requests_and_delisting(void **state)
{
        struct fx *fx = *state;
        struct store_actor op = { 99, "operator", "127.0.0.1", "req-op" };
        struct store_charger *c = malloc(sizeof(*c));
        struct notes all = { 0 }, open = { 0 };
        int64_t id = new_charger(fx, HOST, 35.0, 139.0, NULL), nid = 0;
        struct charger_status cs;

        assert_non_null(c);
        assert_int_equal(store_charger_change_request(fx->st, id, "Fix the photo", &op, T0,
                                                      &nid), 0);
        assert_int_equal(store_charger_notes(fx->st, id, true, notes_cb, &open), 1);
        assert_int_equal(store_charger_delist(fx->st, id, "obvious_error", "wrong address", &op,
                                              T0 + 1), 0);
        assert_int_equal(store_charger_delist(fx->st, id, "fraud", "", &op, T0 + 2), -EALREADY);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->delisted_reason, "obvious_error");
        assert_string_equal(c->delisted_note, "wrong address");
        store_charger_status(c, &cs);
        assert_false(charger_listed(&cs));
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM host_actions WHERE action ="
                                     " 'charger.delist' AND actor_id = 99 AND actor_role ="
                                     " 'operator' AND principal_id = %d", HOST), 1);
        /* the host's update resolves the open change request */
        assert_int_equal(store_charger_update(fx->st, c, &fx->actor, T0 + 3), 0);
        open.n = 0;
        assert_int_equal(store_charger_notes(fx->st, id, true, notes_cb, &open), 0);
        assert_int_equal(store_charger_relist(fx->st, id, &op, T0 + 4), 0);
        assert_int_equal(store_charger_relist(fx->st, id, &op, T0 + 5), -EALREADY);
        assert_int_equal(store_charger_notes(fx->st, id, false, notes_cb, &all), 3);
        assert_string_equal(all.kinds[0], "change_request");
        assert_string_equal(all.kinds[1], "delisting");
        assert_string_equal(all.kinds[2], "relisting");
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_string_equal(c->delisted_reason, "");
        free(c);
}

static void test_CS_12_sites_and_limit_applications(void **state)
{
        struct fx *fx = *state;
        struct store_actor op = { 99, "operator", "127.0.0.1", "req-op" };
        struct store_charger *c = malloc(sizeof(*c));
        struct store_limit_application a;
        struct store_site s;
        int64_t site = 0, other = 0, app = 0, app2 = 0;
        int64_t id = new_charger(fx, HOST, 35.0, 139.0, NULL);

        assert_non_null(c);
        assert_int_equal(store_site_create(fx->st, HOST, "本社駐車場", &fx->actor, T0, &site), 0);
        assert_int_equal(store_site_create(fx->st, OTHER_HOST, "B", &fx->actor, T0, &other), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        c->site_id = other;                     /* another host's site */
        assert_int_equal(store_charger_update(fx->st, c, &fx->actor, T0), -ENXIO);
        c->site_id = site;
        assert_int_equal(store_charger_update(fx->st, c, &fx->actor, T0), 0);
        assert_int_equal(store_charger_get(fx->st, id, c), 0);
        assert_int_equal(c->site_id, site);
        assert_int_equal(store_limit_apply(fx->st, site, 2, "two at once", &fx->actor, T0, &app),
                         0);
        assert_int_equal(store_limit_apply(fx->st, site, 3, "", &fx->actor, T0, &app2),
                         -EALREADY);
        assert_int_equal(store_limit_decide(fx->st, app, true, 1, "2026-02-01", "", &op, T0 + 1),
                         0);
        assert_int_equal(store_limit_decide(fx->st, app, false, 0, NULL, "no", &op, T0 + 2),
                         -EALREADY);
        assert_int_equal(store_limit_get(fx->st, app, &a), 0);
        assert_string_equal(a.status, "approved");
        assert_int_equal(a.requested_limit, 2);
        assert_int_equal(a.approved_limit, 1);
        assert_int_equal(a.host_id, HOST);
        assert_int_equal(a.decided_by, 99);
        assert_int_equal(store_site_get(fx->st, site, &s), 0);
        assert_int_equal(s.limit_n, 1);
        assert_string_equal(s.limit_starts_on, "2026-02-01");
        /* a rejection leaves the limit alone */
        assert_int_equal(store_limit_apply(fx->st, site, 5, "", &fx->actor, T0, &app2), 0);
        assert_int_equal(store_limit_decide(fx->st, app2, false, 0, NULL, "too many", &op, T0),
                         0);
        assert_int_equal(store_site_get(fx->st, site, &s), 0);
        assert_int_equal(s.limit_n, 1);
        assert_int_equal(store_limit_decide(fx->st, 999, true, 1, "2026-02-01", "", &op, T0),
                         -ENOENT);
        assert_int_equal(sql_int(fx, "SELECT count(*) FROM host_actions WHERE principal_id = %d"
                                     " AND action LIKE 'site.%%'", HOST), 5);
        free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_get_and_rtree_in_step, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_18_delete_refused_while_reservation_live,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_CS_11_qr_life_cycle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_photos_and_their_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_CS_10_change_requests_and_delisting, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_CS_12_sites_and_limit_applications, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
