/*
 * store_search.c - SQL for the charger search (see store_search.h).
 *
 * Costs. Every statement comes from the per-connection cache. Per ring:
 * one R*Tree query (the box) joined by rowid to chargers; the host's
 * publishability is read once per host, only for candidates the page
 * considers (host_ok). Per candidate examined with a range: one slots
 * index range (charger_id, ends_at > from; stepping stops at the first slot
 * starting at or after `to`) and one probe of the partial index of active
 * reservations. Per item of the page: one probe for the reservations
 * covering now.
 */
#include "store/store_search.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain/geo.h"
#include "domain/slot.h"
#include "store/sql.h"
#include "store/store_slot.h"

/* The first ring's radius; each next ring doubles it. */
#define SEARCH_RING0_M 1000
/* Slots one range may span (7 days of 15-minute slots is 672). */
#define SEARCH_SLOTS_MAX 1024
#define SEARCH_RES_MAX 16
/* Candidates one query may examine (every charger in Japan's box). */
#define SEARCH_CANDIDATES_MAX 2000000

struct cand {
        int64_t mm;
        int64_t id;
        int64_t host_id;
        bool out_of_service;
        bool free;              /* free for the range (always, without one) */
        int64_t charger_rev, host_rev;  /* the rows' revisions (listing caches) */
        int64_t price;          /* CS-24 fee of the range */
        int occ;                /* occupancy at now, -1 = not known yet */
};

struct cands {
        struct cand *v;
        size_t n, cap;
};

/* The page being filled by search_run. */
struct page {
        const struct store_search_query *q;
        int64_t now;
        bool ranged;
        struct slot *sl;                /* scratch for range_free */
        struct store_search_result *out;
        size_t want;
        bool oos[STORE_SEARCH_LIMIT_MAX + 1];
};

static int cand_push(struct cands *c, const struct cand *x)
{
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                struct cand *v;

                if (cap > SEARCH_CANDIDATES_MAX)
                        return -E2BIG;
                v = realloc(c->v, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->cap = cap;
        }
        c->v[c->n++] = *x;
        return 0;
}

static int cand_cmp(const void *a, const void *b)
{
        const struct cand *x = a, *y = b;

        if (x->mm != y->mm)
                return x->mm < y->mm ? -1 : 1;
        return (x->id > y->id) - (x->id < y->id);
}

/* (mm, id) strictly after (amm, aid)? */
static bool key_after(int64_t mm, int64_t id, int64_t amm, int64_t aid)
{
        return mm > amm || (mm == amm && id > aid);
}

/*
 * Where the R*Tree's position of a charger can be off: it keeps float32
 * boxes rounded outwards (about 0.4 m of latitude, 1.4 m of longitude in
 * Japan), so the distance to a box's centre is within this of the exact
 * distance from lat_e6/lon_e6.
 */
#define SEARCH_BOX_SLACK_MM 3000

/*
 * Phase 1 of a ring: the R*Tree alone (no table row is read). Appends the
 * chargers whose box lies in the ring's bounding box and whose distance
 * may be in (lo_mm, hi_mm] and after the cursor, with cand.mm a lower
 * bound of the exact distance. Phase 2 (cand_fetch) reads the rows of only
 * as many candidates, in that order, as the page needs.
 */
static int ring_boxes(sqlite3 *db, const struct store_search_query *q, int64_t lo_mm,
                      int64_t hi_mm, size_t *examined, struct cands *c)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT id, min_lat, max_lat, min_lon, max_lon FROM charger_geo"
                " WHERE max_lat >= ?1 AND min_lat <= ?2 AND max_lon >= ?3 AND min_lon <= ?4");
        struct geo_bbox b;
        int rc, r = 0;

        if (!s)
                return -EIO;
        geo_bbox_around(q->lat, q->lon, (double)hi_mm / 1000.0, &b);
        sqlite3_bind_double(s, 1, b.min_lat);
        sqlite3_bind_double(s, 2, b.max_lat);
        sqlite3_bind_double(s, 3, b.min_lon);
        sqlite3_bind_double(s, 4, b.max_lon);
        for (;;) {
                struct cand x = { 0 };
                double lat, lon;
                int64_t mm;

                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                (*examined)++;
                lat = (sqlite3_column_double(s, 1) + sqlite3_column_double(s, 2)) / 2.0;
                lon = (sqlite3_column_double(s, 3) + sqlite3_column_double(s, 4)) / 2.0;
                mm = llround(geo_distance_m(q->lat, q->lon, lat, lon) * 1000.0);
                if (mm + SEARCH_BOX_SLACK_MM <= lo_mm || mm - SEARCH_BOX_SLACK_MM > hi_mm ||
                    mm + SEARCH_BOX_SLACK_MM < q->after_mm)
                        continue;
                x.mm = mm - SEARCH_BOX_SLACK_MM;
                x.id = sqlite3_column_int64(s, 0);
                r = cand_push(c, &x);
                if (r < 0)
                        break;
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        if (rc != SQLITE_DONE)
                return store_errno(rc);
        return 0;
}

/* Active reservations of the charger overlapping [from, to), at most max. */
static int active_res(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                      struct slot_reservation *out, size_t max)
{
        return store_slot_db_active_res(db, charger_id, from, to, INT64_MIN, 0, out, max);
}

/*
 * Is [from, to) free on the charger, given its n slots ending after from
 * (in order, as cand_fetch read them)? Sets x->free, x->price and x->occ,
 * the occupancy at now, from the same reservation read when it can: one
 * query fetches the active reservations overlapping [now, to) (the range
 * is in the future in practice); only when that is more than
 * SEARCH_RES_MAX rows does the occupancy need its own query (x->occ -1).
 */
static int range_check(sqlite3 *db, const struct slot *sl, size_t n, int64_t from, int64_t to,
                       int64_t now, struct cand *x)
{
        struct slot_listing l = { .attached = true, .host_publishable = true,
                                  .out_of_service = x->out_of_service };
        struct slot_reservation res[SEARCH_RES_MAX];
        int64_t lo = from < now ? from : now, hi = to > now + 1 ? to : now + 1;
        int nr;

        x->free = false;
        x->occ = -1;
        if (slot_price_of_range(sl, n, from, to, &x->price) < 0)
                return 0;
        nr = active_res(db, x->id, lo, hi, res, SEARCH_RES_MAX);
        if (nr < 0)
                return nr;
        if (nr < SEARCH_RES_MAX)
                x->occ = slot_occupancy(&l, res, (size_t)nr, now);
        else
                nr = active_res(db, x->id, from, to, res, SEARCH_RES_MAX);
        if (nr < 0)
                return nr;
        x->free = slot_range_free(sl, n, res, (size_t)nr, from, to, &x->price);
        return 0;
}

static int occupancy_at(sqlite3 *db, int64_t charger_id, bool out_of_service, int64_t now,
                        int *occ)
{
        struct slot_listing l = { .attached = true, .host_publishable = true,
                                  .out_of_service = out_of_service };
        struct slot_reservation res[SEARCH_RES_MAX];
        int n = active_res(db, charger_id, now, now + 1, res, SEARCH_RES_MAX);

        if (n < 0)
                return n;
        *occ = slot_occupancy(&l, res, (size_t)n, now);
        return 0;
}

/* Binds the static filters shared by both phase-2 statements (?2..?6). */
static void bind_filters(sqlite3_stmt *s, const struct store_search_query *q)
{
        sqlite3_bind_text(s, 2, q->connector ? q->connector : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, q->min_output_w);
        sqlite3_bind_int(s, 4, q->onsite);
        /* With a range, a charger out of service cannot be booked. */
        sqlite3_bind_int(s, 5, (q->from || q->to) ? 1 : 0);
        sqlite3_bind_int64(s, 6, q->exclude_id);
}

#define FETCH_WHERE \
        " WHERE c.id = ?1" \
        " AND c.deleted_at = 0 AND c.delisted_at = 0 AND c.qr_state = 'attached'" \
        " AND h.verification = 'verified' AND h.contract = 'active'" \
        " AND m.status = 'active'" \
        " AND (?2 = '' OR c.connector = ?2) AND c.output_w >= ?3" \
        " AND (?4 < 0 OR c.onsite_reservation = ?4)" \
        " AND (?5 = 0 OR c.out_of_service = 0) AND c.id <> ?6"

static void fetch_row(sqlite3_stmt *s, const struct store_search_query *q, struct cand *x)
{
        double d = geo_distance_m(q->lat, q->lon, geo_from_e6(sqlite3_column_int64(s, 0)),
                                  geo_from_e6(sqlite3_column_int64(s, 1)));

        x->mm = llround(d * 1000.0);
        x->host_id = sqlite3_column_int64(s, 2);
        x->out_of_service = sqlite3_column_int(s, 3) != 0;
        x->charger_rev = sqlite3_column_int64(s, 4);
        x->host_rev = sqlite3_column_int64(s, 5);
}

/*
 * Phase 2 with a range: the charger row (static filters, the host's
 * publishability, CS-8) and, in the same statement, its slots ending
 * after from, in order; stepping stops at the first slot starting at or
 * after `to` or after a gap. Then range_check. 1 with x completed, 0 when
 * the charger is not listed or filtered out, <0 on error.
 */
static int cand_fetch_ranged(sqlite3 *db, const struct page *pg, struct cand *x)
{
        sqlite3_stmt *s = store_prepare(db,
                "SELECT c.lat_e6, c.lon_e6, c.host_id, c.out_of_service, c.rev, h.rev,"
                " sl.id, sl.starts_at, sl.ends_at, sl.hourly_price"
                " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                " JOIN members m ON m.id = c.host_id"
                " LEFT JOIN slots sl ON sl.charger_id = c.id AND sl.ends_at > ?7"
                FETCH_WHERE " ORDER BY sl.ends_at");
        const struct store_search_query *q = pg->q;
        struct slot *sl = pg->sl;
        size_t n = 0;
        int rc, found = 0, r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, x->id);
        bind_filters(s, q);
        sqlite3_bind_int64(s, 7, q->from);
        for (;;) {
                rc = sqlite3_step(s);
                if (rc != SQLITE_ROW)
                        break;
                if (!found)
                        fetch_row(s, q, x);
                found = 1;
                /* End order is start order (slots never overlap). */
                if (sqlite3_column_type(s, 6) == SQLITE_NULL ||
                    sqlite3_column_int64(s, 7) >= q->to || n == SEARCH_SLOTS_MAX)
                        break;
                sl[n].id = sqlite3_column_int64(s, 6);
                sl[n].starts_at = sqlite3_column_int64(s, 7);
                sl[n].ends_at = sqlite3_column_int64(s, 8);
                sl[n].hourly_price = sqlite3_column_int64(s, 9);
                n++;
                if (n > 1 && sl[n - 1].starts_at != sl[n - 2].ends_at)
                        break;          /* a gap before `to` already answers no */
        }
        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return store_errno(rc);
        if (!found)
                return 0;
        r = range_check(db, sl, n, q->from, q->to, pg->now, x);
        return r < 0 ? r : 1;
}

/* Phase 2 without a range: the charger row only. */
static int cand_fetch(sqlite3 *db, const struct page *pg, struct cand *x)
{
        sqlite3_stmt *s;
        int r;

        if (pg->ranged)
                return cand_fetch_ranged(db, pg, x);
        s = store_prepare(db, "SELECT c.lat_e6, c.lon_e6, c.host_id, c.out_of_service,"
                              " c.rev, h.rev FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                              " JOIN members m ON m.id = c.host_id" FETCH_WHERE);
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, x->id);
        bind_filters(s, pg->q);
        r = sql_step_row(s);
        if (r == 1) {
                fetch_row(s, pg->q, x);
                x->free = true;
                x->occ = -1;
        }
        sqlite3_reset(s);
        return r;
}


/* The search proper, on the reader db inside a read transaction. */

/* Adds the exact candidate x to the page when it is free for the range
 * (or when no range was asked). */
static void page_offer(struct page *pg, const struct cand *x)
{
        struct store_search_item *it = &pg->out->items[pg->out->n];

        if (!x->free)
                return;
        it->id = x->id;
        it->host_id = x->host_id;
        it->distance_mm = x->mm;
        it->charger_rev = x->charger_rev;
        it->host_rev = x->host_rev;
        it->has_price = pg->ranged;
        it->price = pg->ranged ? x->price : 0;
        it->occupancy = x->occ;         /* -1: computed once the page is known */
        pg->oos[pg->out->n] = x->out_of_service;
        pg->out->n++;
}

/* Keeps the fetched candidates sorted by their exact key. */
static int pend_insert(struct cands *p, const struct cand *x)
{
        size_t i;
        int r = cand_push(p, x);

        if (r < 0)
                return r;
        for (i = p->n - 1; i > 0 && cand_cmp(&p->v[i - 1], x) > 0; i--)
                p->v[i] = p->v[i - 1];
        p->v[i] = *x;
        return 0;
}

/* Offers, in order, the fetched candidates nearer than below_mm: every
 * candidate not fetched yet is at least that far (its lower bound). */
static void pend_flush(struct page *pg, struct cands *p, int64_t below_mm)
{
        size_t k = 0;

        while (k < p->n && p->v[k].mm < below_mm && pg->out->n < pg->want)
                page_offer(pg, &p->v[k++]);
        if (k == 0)
                return;         /* also: p->v may still be NULL */
        memmove(p->v, p->v + k, (p->n - k) * sizeof(*p->v));
        p->n -= k;
}

/*
 * One ring (lo_mm, hi_mm]: R*Tree boxes first, sorted by the lower bound
 * of their distance; rows are fetched in that order, and a fetched
 * charger is offered to the page once no unfetched one can be nearer.
 * So only about as many rows are read as the page needs.
 */
static int search_ring(sqlite3 *db, struct page *pg, int64_t lo_mm, int64_t hi_mm,
                       struct cands *c, struct cands *pend)
{
        const struct store_search_query *q = pg->q;
        int r;

        c->n = 0;
        pend->n = 0;
        r = ring_boxes(db, q, lo_mm, hi_mm, &pg->out->examined, c);
        if (r < 0)
                return r;
        if (c->n > 1)
                qsort(c->v, c->n, sizeof(*c->v), cand_cmp);
        for (size_t i = 0; i < c->n && pg->out->n < pg->want; i++) {
                struct cand x = c->v[i];

                pend_flush(pg, pend, x.mm);
                if (pg->out->n == pg->want)
                        break;
                r = cand_fetch(db, pg, &x);
                if (r < 0)
                        return r;
                if (r == 0 || x.mm <= lo_mm || x.mm > hi_mm ||
                    !key_after(x.mm, x.id, q->after_mm, q->after_id))
                        continue;
                r = pend_insert(pend, &x);
                if (r < 0)
                        return r;
        }
        pend_flush(pg, pend, INT64_MAX);
        return 0;
}

static int search_run(sqlite3 *db, const struct store_search_query *q, int64_t now,
                      struct store_search_result *out)
{
        struct page pg = { .q = q, .now = now, .ranged = q->from || q->to, .out = out };
        int64_t radius_mm, lo_mm, hi_mm;
        struct cands c = { 0 }, pend = { 0 };
        size_t want;
        int r = 0;

        want = pg.want = (size_t)q->limit + 1;  /* one more tells whether a next page exists */
        out->items = calloc(want, sizeof(*out->items));
        if (pg.ranged)
                pg.sl = malloc(SEARCH_SLOTS_MAX * sizeof(*pg.sl));
        if (!out->items || (pg.ranged && !pg.sl)) {
                free(pg.sl);
                store_search_result_free(out);
                return -ENOMEM;
        }
        radius_mm = q->radius_m * 1000;
        lo_mm = -1;
        hi_mm = SEARCH_RING0_M * 1000;
        if (q->after_mm >= 0 && hi_mm < q->after_mm + 1000)
                hi_mm = q->after_mm + 1000;     /* the cursor's ring at least */
        if (hi_mm > radius_mm)
                hi_mm = radius_mm;
        for (;;) {
                r = search_ring(db, &pg, lo_mm, hi_mm, &c, &pend);
                if (r < 0 || out->n == want || hi_mm >= radius_mm)
                        break;
                lo_mm = hi_mm;
                hi_mm = hi_mm * 2 > radius_mm ? radius_mm : hi_mm * 2;
        }
        free(pend.v);
        free(c.v);
        free(pg.sl);
        if (r < 0) {
                store_search_result_free(out);
                return r;
        }
        if (out->n == want) {
                out->more = true;
                out->n--;
        }
        for (size_t i = 0; i < out->n; i++) {
                struct store_search_item *it = &out->items[i];

                if (it->occupancy >= 0)
                        continue;
                r = occupancy_at(db, it->id, pg.oos[i], now, &it->occupancy);
                if (r < 0) {
                        store_search_result_free(out);
                        return r;
                }
        }
        if (out->more) {
                out->next_mm = out->items[out->n - 1].distance_mm;
                out->next_id = out->items[out->n - 1].id;
        }
        return 0;
}

/* Statements without a result row on the reader (BEGIN, COMMIT). */
static int reader_exec(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *s = store_prepare(db, sql);

        if (!s)
                return -EIO;
        return sql_exec_reset(s);
}

int store_search_chargers_each(struct store *st, const struct store_search_query *q,
                               int64_t now, struct store_search_result *out,
                               void (*each)(const struct store_search_item *it, void *ud),
                               void *ud)
{
        sqlite3 *db = store_reader(st);
        bool ranged = q->from || q->to;
        int r;

        memset(out, 0, sizeof(*out));
        if (q->limit < 1 || q->limit > STORE_SEARCH_LIMIT_MAX || q->radius_m <= 0 ||
            (ranged && q->to <= q->from) || !geo_valid(q->lat, q->lon))
                return -EINVAL;
        if (!db)
                return -EIO;
        /*
         * One read transaction for the whole search: one snapshot (the
         * ring queries, the range checks and each() agree), and one WAL
         * read lock instead of one per statement, which is most of the
         * cost of a small statement.
         */
        r = reader_exec(db, "BEGIN");
        if (r < 0)
                return r;
        r = search_run(db, q, now, out);
        for (size_t i = 0; r == 0 && each && i < out->n; i++)
                each(&out->items[i], ud);
        reader_exec(db, "COMMIT");
        return r;
}

int store_search_chargers(struct store *st, const struct store_search_query *q, int64_t now,
                          struct store_search_result *out)
{
        return store_search_chargers_each(st, q, now, out, NULL, NULL);
}

void store_search_result_free(struct store_search_result *r)
{
        if (!r)
                return;
        free(r->items);
        r->items = NULL;
        r->n = 0;
}

int store_search_occupancy(struct store *st, int64_t charger_id, int64_t now, int *occ)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        struct slot_listing l;
        struct slot_reservation res[SEARCH_RES_MAX];
        const unsigned char *qr;
        int r, n;

        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT c.deleted_at, c.delisted_at, c.qr_state, c.out_of_service,"
                              " (h.verification = 'verified' AND h.contract = 'active'"
                              " AND m.status = 'active')"
                              " FROM chargers c JOIN hosts h ON h.member_id = c.host_id"
                              " JOIN members m ON m.id = c.host_id WHERE c.id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, charger_id);
        r = sql_step_row(s);
        if (r == 1) {
                l.deleted = sqlite3_column_int64(s, 0) != 0;
                l.delisted = sqlite3_column_int64(s, 1) != 0;
                qr = sqlite3_column_text(s, 2);
                l.attached = qr && strcmp((const char *)qr, "attached") == 0;
                l.out_of_service = sqlite3_column_int(s, 3) != 0;
                l.host_publishable = sqlite3_column_int(s, 4) != 0;
        }
        sqlite3_reset(s);
        if (r <= 0)
                return r == 0 ? -ENOENT : r;
        n = active_res(db, charger_id, now, now + 1, res, SEARCH_RES_MAX);
        if (n < 0)
                return n;
        *occ = slot_occupancy(&l, res, (size_t)n, now);
        return 0;
}

/* ---- bulk seeding ------------------------------------------------------------------- */

struct seed_job {
        const struct store_seed *b;
        int64_t now;
};

static int seed_hosts(sqlite3 *db, const struct store_seed *b, int64_t now)
{
        sqlite3_stmt *m = store_prepare(db,
                "INSERT INTO members (id, kind, email, email_norm, password_hash, name, name_kana,"
                " phone, postcode, prefecture, city, line1, created_at, updated_at)"
                " VALUES (?1, 'individual', 'seed' || ?1 || '@seed.invalid',"
                " 'seed' || ?1 || '@seed.invalid', '!', 'Seed Host', 'シード', '000',"
                " '100-0001', '東京都', '千代田区', '1-1', ?2, ?2)");
        sqlite3_stmt *h = store_prepare(db,
                "INSERT INTO hosts (member_id, display_name, verification, contract,"
                " verification_at, contract_at, created_at, updated_at)"
                " VALUES (?1, 'Seed charging ' || ?1, 'verified', 'active', ?2, ?2, ?2, ?2)");
        int r;

        if (!m || !h)
                return -EIO;
        for (size_t i = 0; i < b->n_hosts; i++) {
                int64_t id = b->host_first_id + (int64_t)i;

                sqlite3_bind_int64(m, 1, id);
                sqlite3_bind_int64(m, 2, now);
                r = sql_exec_reset(m);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(h, 1, id);
                sqlite3_bind_int64(h, 2, now);
                r = sql_exec_reset(h);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int seed_fn(sqlite3 *db, void *arg)
{
        struct seed_job *j = arg;
        const struct store_seed *b = j->b;
        sqlite3_stmt *c, *g, *sl, *rv, *veh;
        int64_t *ids, vehicle = 0, user = 0;
        int r;

        r = seed_hosts(db, b, j->now);
        if (r < 0)
                return r;
        c = store_prepare(db,
                "INSERT INTO chargers (host_id, kind, maker, model, output_w, connector, postcode,"
                " prefecture, city, line1, lat_e6, lon_e6, onsite_reservation, penalty_enabled,"
                " qr_token_hash, qr_state, qr_issued_at, qr_mailed_at, qr_attached_at,"
                " created_at, updated_at) VALUES (?1, 'normal', 'Seed', 'S-1', ?2, ?3,"
                " '100-0001', '東京都', '千代田区', '1-1', ?4, ?5, ?6, 1, randomblob(32),"
                " 'attached', ?7, ?7, ?7, ?7, ?7)");
        g = store_prepare(db, "INSERT INTO charger_geo (id, min_lat, max_lat, min_lon, max_lon)"
                              " VALUES (?1, ?2, ?2, ?3, ?3)");
        sl = store_prepare(db, "INSERT INTO slots (charger_id, starts_at, ends_at, hourly_price,"
                               " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)");
        rv = store_prepare(db, "INSERT INTO reservations (charger_id, user_id, vehicle_id,"
                               " starts_at, ends_at, status, fee, created_at, updated_at)"
                               " VALUES (?, ?, ?, ?, ?, 'confirmed', 0, ?, ?)");
        veh = store_prepare(db, "INSERT INTO vehicles (member_id, maker, model, plate, powertrain,"
                                " connector, battery_wh, created_at)"
                                " VALUES (?, 'Seed', 'EV', 'seed', 'ev', 'type1', 40000, ?)");
        if (!c || !g || !sl || !rv || !veh)
                return -EIO;
        ids = malloc((b->n_chargers ? b->n_chargers : 1) * sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_chargers && r == 0; i++) {
                const struct store_seed_charger *x = &b->chargers[i];

                sqlite3_bind_int64(c, 1, x->host_id);
                sqlite3_bind_int64(c, 2, x->output_w);
                sqlite3_bind_text(c, 3, x->connector, -1, SQLITE_STATIC);
                sqlite3_bind_int64(c, 4, geo_to_e6(x->lat));
                sqlite3_bind_int64(c, 5, geo_to_e6(x->lon));
                sqlite3_bind_int(c, 6, x->onsite ? 1 : 0);
                sqlite3_bind_int64(c, 7, j->now);
                r = sql_exec_reset(c);
                if (r < 0)
                        break;
                ids[i] = sqlite3_last_insert_rowid(db);
                sqlite3_bind_int64(g, 1, ids[i]);
                sqlite3_bind_double(g, 2, x->lat);
                sqlite3_bind_double(g, 3, x->lon);
                r = sql_exec_reset(g);
        }
        for (size_t i = 0; i < b->n_slots && r == 0; i++) {
                const struct store_seed_range *x = &b->slots[i];

                sqlite3_bind_int64(sl, 1, ids[x->charger]);
                sqlite3_bind_int64(sl, 2, x->starts_at);
                sqlite3_bind_int64(sl, 3, x->ends_at);
                sqlite3_bind_int64(sl, 4, x->hourly_price);
                sqlite3_bind_int64(sl, 5, j->now);
                sqlite3_bind_int64(sl, 6, j->now);
                r = sql_exec_reset(sl);
        }
        if (r == 0 && b->n_reservations > 0) {
                user = b->n_hosts ? b->host_first_id : b->chargers[0].host_id;
                sqlite3_bind_int64(veh, 1, user);
                sqlite3_bind_int64(veh, 2, j->now);
                r = sql_exec_reset(veh);
                vehicle = sqlite3_last_insert_rowid(db);
        }
        for (size_t i = 0; i < b->n_reservations && r == 0; i++) {
                const struct store_seed_range *x = &b->reservations[i];

                sqlite3_bind_int64(rv, 1, ids[x->charger]);
                sqlite3_bind_int64(rv, 2, user);
                sqlite3_bind_int64(rv, 3, vehicle);
                sqlite3_bind_int64(rv, 4, x->starts_at);
                sqlite3_bind_int64(rv, 5, x->ends_at);
                sqlite3_bind_int64(rv, 6, j->now);
                sqlite3_bind_int64(rv, 7, j->now);
                r = sql_exec_reset(rv);
        }
        free(ids);
        return r;
}

int store_search_seed(struct store *st, const struct store_seed *b, int64_t now)
{
        struct seed_job j = { .b = b, .now = now };

        for (size_t i = 0; i < b->n_slots; i++)
                if (b->slots[i].charger >= b->n_chargers)
                        return -EINVAL;
        for (size_t i = 0; i < b->n_reservations; i++)
                if (b->reservations[i].charger >= b->n_chargers)
                        return -EINVAL;
        if (b->n_reservations && !b->n_hosts && !b->n_chargers)
                return -EINVAL;
        return store_write(st, seed_fn, &j);
}
