/*
 * store_ts.c - SQL and preparation of the time-series store (HE-7, HE-16).
 * See store_ts.h for the split between the worker (prepare) and the writer
 * (one job per batch).
 *
 * Tables (migration 12):
 *   series           one row per (home, channel, quantity, unit) with its
 *                    ECHONET source, role, wrap, the newest point and a
 *                    chunk sequence number;
 *   chunks           key (series, hour, seq) packed into the rowid: one
 *                    compressed run of points within one UTC hour; a later
 *                    seq wins over an earlier one for the same timestamp;
 *   rollups          key (series, res, bucket) packed into the rowid: the
 *                    count and,
 *                    for gauges, min, max and sum; for counters the increase
 *                    and, in hour rows, the last point (the start of a
 *                    recomputation). Columns a row does not need hold 0,
 *                    which SQLite stores in no bytes: storage per point is
 *                    what bench/ingest.sh compares with InfluxDB;
 *   ingest_batches   WITHOUT ROWID, key (home, batch id): what was answered,
 *                    so a resend gets the same answer and writes nothing.
 *
 * Why keys packed into rowids: rows arrive in key order per series (time
 * goes forward), and SQLite fills a rowid table's pages completely on
 * appends while it splits an index b-tree's (a WITHOUT ROWID table's)
 * pages part-full; the packed key is also shorter than the three columns.
 *   chunk id  = series << 31 | (hour - 2020-01-01 in hours) << 12 | seq
 *   rollup id = series << 31 | res << 29 | (bucket - 2020-01-01 in hours)
 * so series ids stay below 2^32 (home ids below 2^22 at 1,024 series per
 * home), hours run to 2079 and a series-hour holds up to 4,096 chunks.
 */
#include "store/store_ts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "domain/tschunk.h"
#include "store/sql.h"

const char store_m012_sql[] =
        "CREATE TABLE series (\n"
        "  id INTEGER PRIMARY KEY,            -- home id * 1024 + n (TS_SERIES_PER_HOME)\n"
        "  channel TEXT NOT NULL,\n"
        "  quantity INTEGER NOT NULL,\n"
        "  unit TEXT NOT NULL,\n"
        "  class_code INTEGER NOT NULL DEFAULT -1,\n"
        "  epc INTEGER NOT NULL DEFAULT -1,\n"
        "  instance INTEGER NOT NULL DEFAULT -1,\n"
        "  circuit INTEGER NOT NULL DEFAULT -1,\n"
        "  wrap REAL NOT NULL DEFAULT 0,\n"
        "  name TEXT NOT NULL DEFAULT '',\n"
        "  role TEXT NOT NULL DEFAULT '',     -- '' = the default of its source\n"
        "  last_ts INTEGER NOT NULL DEFAULT 0,\n"
        "  last_value REAL NOT NULL DEFAULT 0\n"
        ");\n"
        "CREATE TABLE chunks (\n"
        "  id INTEGER PRIMARY KEY,            -- ts_chunk_id(series, hour, seq)\n"
        "  n INTEGER NOT NULL,\n"
        "  data BLOB NOT NULL\n"
        ");\n"
        "CREATE TABLE rollups (\n"
        "  id INTEGER PRIMARY KEY,            -- ts_rollup_id(series, res, bucket)\n"
        "  n INTEGER NOT NULL,\n"
        "  vmin REAL NOT NULL,\n"
        "  vmax REAL NOT NULL,\n"
        "  vsum REAL NOT NULL,\n"
        "  total REAL NOT NULL,\n"
        "  last_off INTEGER NOT NULL,         -- counters' hours: ms of the last point after bucket\n"
        "  last_v REAL NOT NULL\n"
        ");\n"
        "CREATE TABLE ingest_batches (\n"
        "  home_id INTEGER NOT NULL,\n"
        "  batch_id TEXT NOT NULL,\n"
        "  received_at INTEGER NOT NULL,\n"
        "  accepted INTEGER NOT NULL,\n"
        "  rejected INTEGER NOT NULL,\n"
        "  rejects TEXT NOT NULL DEFAULT '[]',\n"
        "  PRIMARY KEY (home_id, batch_id)\n"
        ") WITHOUT ROWID;\n"
        "";

#define HOUR_MS 3600000LL
#define EPOCH_HOUR 438288LL             /* 2020-01-01T00:00Z, hours since 1970 */
#define SEQ_BITS 12
#define SEQ_MAX ((1LL << SEQ_BITS) - 1)

static int64_t chunk_id(int64_t series_id, int64_t hour, int64_t seq)
{
        return (series_id << 31) | ((hour - EPOCH_HOUR) << SEQ_BITS) | seq;
}

static int64_t rollup_id(int64_t series_id, enum rollup_res res, int64_t bucket_s)
{
        return (series_id << 31) | ((int64_t)res << 29) | (bucket_s / 3600 - EPOCH_HOUR);
}

/* The id just past every rollup of (series, res) with bucket < to_s. */
static int64_t rollup_id_end(int64_t series_id, enum rollup_res res, int64_t to_s)
{
        return rollup_id(series_id, res, to_s + 3599);
}

static int64_t rollup_bucket_of(int64_t id)
{
        return ((id & ((1LL << 29) - 1)) + EPOCH_HOUR) * 3600;
}

/* ---- worker side: prepare ------------------------------------------------ */

struct tv {
        int64_t ts;
        double v;
        uint32_t order;                 /* input order: the later wins a tie */
};

static int tv_cmp(const void *a, const void *b)
{
        const struct tv *x = a, *y = b;

        if (x->ts != y->ts)
                return x->ts < y->ts ? -1 : 1;
        return x->order < y->order ? -1 : (x->order > y->order);
}

/* Sorts and de-duplicates the points of one series into sb->ts / sb->v. */
static int series_points(const struct ingest_batch *b, uint32_t si, size_t count,
                         struct ts_series_batch *sb)
{
        struct tv *p = malloc(count * sizeof(*p));
        size_t k = 0, out = 0;
        bool sorted = true;

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < b->n_points; i++) {
                if (b->points[i].series != si)
                        continue;
                p[k] = (struct tv){ b->points[i].ts_ms, b->points[i].value, (uint32_t)i };
                if (k > 0 && p[k].ts <= p[k - 1].ts)
                        sorted = false;
                k++;
        }
        if (!sorted)
                qsort(p, k, sizeof(*p), tv_cmp);
        sb->ts = malloc(k * sizeof(*sb->ts));
        sb->v = malloc(k * sizeof(*sb->v));
        if (!sb->ts || !sb->v) {
                free(p);
                return -ENOMEM;
        }
        for (size_t i = 0; i < k; i++) {
                if (i + 1 < k && p[i + 1].ts == p[i].ts)
                        continue;       /* the later input point wins */
                sb->ts[out] = p[i].ts;
                sb->v[out] = p[i].v;
                out++;
        }
        sb->n = out;
        free(p);
        return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Appends one chunk of the points [start, end) of one hour to sb. */
static int chunk_add(struct ts_series_batch *sb, int64_t *rel, size_t start, size_t end,
                     int64_t hour, size_t *cap)
{
        struct ts_chunk *c;
        int r;

        if (sb->n_chunks == *cap) {
                size_t ncap = *cap ? *cap * 2 : 2;
                void *np = realloc(sb->chunks, ncap * sizeof(*sb->chunks));

                if (!np)
                        return -ENOMEM;
                sb->chunks = np;
                *cap = ncap;
        }
        c = &sb->chunks[sb->n_chunks];
        memset(c, 0, sizeof(*c));
        for (size_t i = start; i < end; i++)
                rel[i] = sb->ts[i] - hour * HOUR_MS;
        r = tschunk_encode(rel + start, sb->v + start, end - start, &c->blob, &c->len);
        if (r < 0)
                return r;
        c->t0 = sb->ts[start];
        c->t1 = sb->ts[end - 1];
        c->n = (uint32_t)(end - start);
        sb->n_chunks++;
        return 0;
}

/* One chunk per UTC hour of the series' points; times are encoded as
 * milliseconds after the hour (the hour is in the chunk's key). */
static int series_chunks(struct ts_series_batch *sb)
{
        size_t start = 0, cap = 0;
        int64_t *rel = malloc(sb->n * sizeof(*rel));
        int r = rel ? 0 : -ENOMEM;

        while (r == 0 && start < sb->n) {
                int64_t hour = floor_div(sb->ts[start], HOUR_MS);
                size_t end = start + 1;

                while (end < sb->n && floor_div(sb->ts[end], HOUR_MS) == hour)
                        end++;
                r = chunk_add(sb, rel, start, end, hour, &cap);
                start = end;
        }
        free(rel);
        return r;
}

static int series_cells(struct ts_series_batch *sb)
{
        enum energy_kind k = energy_quantity_kind(sb->key->quantity);
        int r = rollup_hours(k, sb->key->wrap, 0, 0, 0, sb->ts, sb->v, sb->n, &sb->cells[RU_HOUR],
                             &sb->n_cells[RU_HOUR]);

        if (r < 0)
                return r;
        r = rollup_coarsen(RU_DAY, sb->cells[RU_HOUR], sb->n_cells[RU_HOUR], &sb->cells[RU_DAY],
                           &sb->n_cells[RU_DAY]);
        if (r < 0)
                return r;
        return rollup_coarsen(RU_MONTH, sb->cells[RU_DAY], sb->n_cells[RU_DAY],
                              &sb->cells[RU_MONTH], &sb->n_cells[RU_MONTH]);
}

int ts_ingest_prepare(const struct ingest_batch *b, struct ts_ingest *in)
{
        size_t *count = calloc(b->n_series ? b->n_series : 1, sizeof(*count));
        int r = 0;

        if (!count)
                return -ENOMEM;
        in->series = calloc(b->n_series ? b->n_series : 1, sizeof(*in->series));
        if (!in->series) {
                free(count);
                return -ENOMEM;
        }
        for (size_t i = 0; i < b->n_points; i++)
                count[b->points[i].series]++;
        for (uint32_t si = 0; si < b->n_series && r == 0; si++) {
                struct ts_series_batch *sb;

                if (count[si] == 0)
                        continue;
                sb = &in->series[in->n_series++];
                sb->key = &b->series[si];
                r = series_points(b, si, count[si], sb);
                if (r == 0)
                        r = series_chunks(sb);
                if (r == 0)
                        r = series_cells(sb);
        }
        free(count);
        return r;
}

void ts_ingest_free(struct ts_ingest *in)
{
        if (!in)
                return;
        for (size_t i = 0; i < in->n_series; i++) {
                struct ts_series_batch *sb = &in->series[i];

                for (size_t c = 0; c < sb->n_chunks; c++)
                        free(sb->chunks[c].blob);
                free(sb->chunks);
                free(sb->ts);
                free(sb->v);
                for (int k = 0; k < 3; k++)
                        free(sb->cells[k]);
        }
        free(in->series);
        in->series = NULL;
        in->n_series = 0;
        free(in->dup_rejects_json);
        in->dup_rejects_json = NULL;
}

/* ---- writer side: one job per batch --------------------------------------- */

struct series_state {
        int64_t id;
        int64_t last_ts;
        double last_value;
        double wrap;                    /* stored counter wrap value, 0 none */
};

/* Records the batch id: 1 new, 0 seen before (in->dup_* filled), <0 error. */
static int batch_record(sqlite3 *db, struct ts_ingest *in)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO ingest_batches (home_id, batch_id, received_at, accepted, rejected, "
                "rejects) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, in->home_id);
        sql_bind_text(s, 2, in->batch_id);
        sqlite3_bind_int64(s, 3, in->now);
        sqlite3_bind_int64(s, 4, in->accepted);
        sqlite3_bind_int64(s, 5, in->rejected);
        sql_bind_text(s, 6, in->rejects_json ? in->rejects_json : "[]");
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        if (sqlite3_changes(db) == 1)
                return 1;
        s = store_prepare(db, "SELECT accepted, rejected, rejects FROM ingest_batches "
                          "WHERE home_id = ? AND batch_id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, in->home_id);
        sql_bind_text(s, 2, in->batch_id);
        r = sql_step_row(s);
        if (r == 1) {
                const unsigned char *t = sqlite3_column_text(s, 2);

                in->duplicate = true;
                in->dup_accepted = sqlite3_column_int64(s, 0);
                in->dup_rejected = sqlite3_column_int64(s, 1);
                in->dup_rejects_json = strdup(t ? (const char *)t : "[]");
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return 0;
}

/* The series of the home being written, loaded once per job: a batch names
 * few series of one home, and without a key index (see the migration) the
 * lookup is an in-memory match. */
struct home_series {
        struct known_series {
                char channel[INGEST_CHANNEL_MAX + 1];
                int quantity;
                char unit[INGEST_UNIT_MAX + 1];
                struct series_state st;
        } *a;
        size_t n, cap;
        int64_t next_id;
};

static void home_series_free(struct home_series *hs)
{
        free(hs->a);
        hs->a = NULL;
        hs->n = hs->cap = 0;
}

static int home_series_add(struct home_series *hs, const char *channel, int quantity,
                           const char *unit, const struct series_state *st)
{
        struct known_series *k;

        if (hs->n == hs->cap) {
                size_t ncap = hs->cap ? hs->cap * 2 : 32;
                void *np = realloc(hs->a, ncap * sizeof(*hs->a));

                if (!np)
                        return -ENOMEM;
                hs->a = np;
                hs->cap = ncap;
        }
        k = &hs->a[hs->n++];
        snprintf(k->channel, sizeof(k->channel), "%s", channel);
        k->quantity = quantity;
        snprintf(k->unit, sizeof(k->unit), "%s", unit);
        k->st = *st;
        if (st->id >= hs->next_id)
                hs->next_id = st->id + 1;
        return 0;
}

static int home_series_load(sqlite3 *db, int64_t home_id, struct home_series *hs)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id, channel, quantity, unit, last_ts, "
                                        "last_value, wrap FROM series "
                                        "WHERE id BETWEEN ? AND ?");
        int r = 0;

        if (!s)
                return -EIO;
        hs->next_id = home_id * TS_SERIES_PER_HOME;
        sqlite3_bind_int64(s, 1, home_id * TS_SERIES_PER_HOME);
        sqlite3_bind_int64(s, 2, home_id * TS_SERIES_PER_HOME + TS_SERIES_PER_HOME - 1);
        while (r == 0) {
                struct series_state st;

                r = sql_step_row(s);
                if (r <= 0)
                        break;
                st.id = sqlite3_column_int64(s, 0);
                st.last_ts = sqlite3_column_int64(s, 4);
                st.last_value = sqlite3_column_double(s, 5);
                st.wrap = sqlite3_column_double(s, 6);
                r = home_series_add(hs, (const char *)sqlite3_column_text(s, 1),
                                    sqlite3_column_int(s, 2),
                                    (const char *)sqlite3_column_text(s, 3), &st);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

/* The role stored for a series: "" when it is the default of its source
 * (derived again on reading), which keeps rows short. */
static const char *role_stored(const struct ingest_series *k)
{
        if (!k->role[0] || strcmp(k->role, ingest_default_role(k)) == 0)
                return "";
        return k->role;
}

static int series_insert(sqlite3 *db, const struct ts_ingest *in, struct home_series *hs,
                         const struct ingest_series *k, struct series_state *ss)
{
        sqlite3_stmt *s;
        int r;

        if ((int64_t)hs->n >= in->max_series_per_home ||
            hs->next_id >= (in->home_id + 1) * TS_SERIES_PER_HOME)
                return -EDQUOT;
        if (in->home_id >= TS_HOMES_MAX)
                return -EOVERFLOW;              /* the packed ids would overflow */
        s = store_prepare(db, "INSERT INTO series (id, channel, quantity, unit, class_code, "
                          "epc, instance, circuit, wrap, name, role) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, hs->next_id);
        sql_bind_text(s, 2, k->channel);
        sqlite3_bind_int(s, 3, (int)k->quantity);
        sql_bind_text(s, 4, k->unit);
        sqlite3_bind_int(s, 5, k->class_code);
        sqlite3_bind_int(s, 6, k->epc);
        sqlite3_bind_int(s, 7, k->instance);
        sqlite3_bind_int(s, 8, k->circuit);
        sqlite3_bind_double(s, 9, k->wrap);
        sql_bind_text(s, 10, k->name);
        sql_bind_text(s, 11, role_stored(k));
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        memset(ss, 0, sizeof(*ss));
        ss->id = hs->next_id;
        ss->wrap = k->wrap;
        return home_series_add(hs, k->channel, (int)k->quantity, k->unit, ss);
}

/* The series of key k (created when new); *idx gets its place in hs. */
static int series_find(sqlite3 *db, const struct ts_ingest *in, struct home_series *hs,
                       const struct ingest_series *k, size_t *idx)
{
        struct series_state ss;
        int r;

        for (size_t i = 0; i < hs->n; i++) {
                const struct known_series *e = &hs->a[i];

                if (e->quantity == (int)k->quantity && strcmp(e->channel, k->channel) == 0 &&
                    strcmp(e->unit, k->unit) == 0) {
                        *idx = i;
                        return 0;
                }
        }
        r = series_insert(db, in, hs, k, &ss);
        if (r < 0)
                return r;
        *idx = hs->n - 1;
        return 0;
}

/* The next free seq of (series, hour): 0 when the hour has no chunk yet. */
static int chunk_next_seq(sqlite3 *db, int64_t series_id, int64_t hour, int64_t *seq)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT max(id) FROM chunks WHERE id BETWEEN ? AND ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, chunk_id(series_id, hour, 0));
        sqlite3_bind_int64(s, 2, chunk_id(series_id, hour, SEQ_MAX));
        r = sql_step_row(s);
        *seq = 0;
        if (r == 1 && sqlite3_column_type(s, 0) != SQLITE_NULL)
                *seq = (sqlite3_column_int64(s, 0) & SEQ_MAX) + 1;
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return *seq > SEQ_MAX ? -EMLINK : 0;
}

static int chunks_insert(sqlite3 *db, const struct ts_series_batch *sb,
                         const struct series_state *ss, int64_t *bytes)
{
        sqlite3_stmt *s = store_prepare(db, "INSERT INTO chunks (id, n, data) VALUES (?, ?, ?)");
        int64_t last_hour = ss->last_ts > 0 ? floor_div(ss->last_ts, HOUR_MS) : -1;
        int r;

        if (!s)
                return -EIO;
        for (size_t i = 0; i < sb->n_chunks; i++) {
                const struct ts_chunk *c = &sb->chunks[i];
                int64_t hour = floor_div(c->t0, HOUR_MS), seq = 0;

                /* An hour after the newest point stored has no chunk yet. */
                if (hour <= last_hour) {
                        r = chunk_next_seq(db, ss->id, hour, &seq);
                        if (r < 0)
                                return r;
                }
                sqlite3_bind_int64(s, 1, chunk_id(ss->id, hour, seq));
                sqlite3_bind_int(s, 2, (int)c->n);
                sqlite3_bind_blob(s, 3, c->blob, (int)c->len, SQLITE_STATIC);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
                *bytes += (int64_t)c->len;
        }
        return 0;
}

/* Binds the columns a cell of this kind and resolution keeps; 0 elsewhere. */
static void bind_cell(sqlite3_stmt *s, int64_t series_id, enum rollup_res res,
                      enum energy_kind kind, const struct rollup_cell *c)
{
        bool gauge = kind == EK_GAUGE;

        sqlite3_bind_int64(s, 1, rollup_id(series_id, res, c->bucket));
        sqlite3_bind_int64(s, 2, c->n);
        sqlite3_bind_double(s, 3, gauge ? c->min : 0);
        sqlite3_bind_double(s, 4, gauge ? c->max : 0);
        sqlite3_bind_double(s, 5, gauge ? c->sum : 0);
        sqlite3_bind_double(s, 6, gauge ? 0 : c->total);
        if (!gauge && res == RU_HOUR) {
                sqlite3_bind_int64(s, 7, c->last_ts - c->bucket * 1000);
                sqlite3_bind_double(s, 8, c->last);
        } else {
                sqlite3_bind_int64(s, 7, 0);
                sqlite3_bind_double(s, 8, 0);
        }
}

/* Merges cells into the rollups (in-order points: nothing stored overlaps). */
static int cells_merge(sqlite3 *db, int64_t series_id, enum rollup_res res, enum energy_kind kind,
                       const struct rollup_cell *cells, size_t n)
{
        sqlite3_stmt *s = store_prepare(db,
                "INSERT INTO rollups (id, n, vmin, vmax, vsum, total, last_off, last_v) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET n = n + excluded.n, "
                "vmin = min(vmin, excluded.vmin), vmax = max(vmax, excluded.vmax), "
                "vsum = vsum + excluded.vsum, total = total + excluded.total, "
                "last_v = CASE WHEN excluded.last_off >= last_off THEN excluded.last_v "
                "  ELSE last_v END, last_off = max(last_off, excluded.last_off)");
        int r;

        if (!s)
                return -EIO;
        for (size_t i = 0; i < n; i++) {
                bind_cell(s, series_id, res, kind, &cells[i]);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Replaces the rollups of res in [from, to] with cells. */
static int cells_replace(sqlite3 *db, int64_t series_id, enum rollup_res res,
                         enum energy_kind kind, int64_t from, int64_t to,
                         const struct rollup_cell *cells, size_t n)
{
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM rollups WHERE id BETWEEN ? AND ?");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, rollup_id(series_id, res, from));
        sqlite3_bind_int64(s, 2, rollup_id(series_id, res, to));
        r = sql_exec_reset(s);
        if (r < 0)
                return r;
        return cells_merge(db, series_id, res, kind, cells, n);
}

static int rollups_read(sqlite3 *db, int64_t series_id, enum rollup_res res, int64_t from_s,
                        int64_t to_s, struct rollup_cell **out, size_t *n);

/* The last point stored before hour h0 (from the hour rollups): 1 found. */
static int point_before(sqlite3 *db, int64_t series_id, int64_t h0, int64_t *ts, double *v)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id, last_off, last_v FROM rollups "
                                        "WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT 1");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, rollup_id(series_id, RU_HOUR, EPOCH_HOUR * 3600));
        sqlite3_bind_int64(s, 2, rollup_id(series_id, RU_HOUR, h0));
        r = sql_step_row(s);
        if (r == 1) {
                *ts = rollup_bucket_of(sqlite3_column_int64(s, 0)) * 1000 +
                      sqlite3_column_int64(s, 1);
                *v = sqlite3_column_double(s, 2);
        }
        sqlite3_reset(s);
        return r;
}

/* The first hour bucket with data after hour h (0 none). */
static int64_t hour_after(sqlite3 *db, int64_t series_id, int64_t h)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id FROM rollups WHERE id > ? AND id < ? "
                                        "ORDER BY id LIMIT 1");
        int64_t b = 0;

        if (!s)
                return 0;
        sqlite3_bind_int64(s, 1, rollup_id(series_id, RU_HOUR, h));
        sqlite3_bind_int64(s, 2, (series_id << 31) | ((int64_t)RU_DAY << 29));
        if (sql_step_row(s) == 1)
                b = rollup_bucket_of(sqlite3_column_int64(s, 0));
        sqlite3_reset(s);
        return b;
}

struct pts {
        struct tv *p;
        size_t n, cap;
};

static int pts_add(struct pts *a, int64_t ts, double v, uint32_t order)
{
        if (a->n == a->cap) {
                size_t ncap = a->cap ? a->cap * 2 : 256;
                void *np = realloc(a->p, ncap * sizeof(*a->p));

                if (!np)
                        return -ENOMEM;
                a->p = np;
                a->cap = ncap;
        }
        a->p[a->n++] = (struct tv){ ts, v, order };
        return 0;
}

/* Decodes the chunks of a series with t0 in [from_ms, to_ms) into a sorted,
 * de-duplicated point list (later seq wins). */
static int chunks_read(sqlite3 *db, int64_t series_id, int64_t from_ms, int64_t to_ms,
                       size_t max, struct pts *out)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id, data FROM chunks WHERE id >= ? AND id < ? "
                                        "ORDER BY id");
        int64_t h0 = floor_div(from_ms, HOUR_MS), h1 = floor_div(to_ms + HOUR_MS - 1, HOUR_MS);
        size_t w = 0;
        int r = 0;

        if (!s)
                return -EIO;
        if (h0 < EPOCH_HOUR)
                h0 = EPOCH_HOUR;
        if (h1 < h0)
                h1 = h0;
        sqlite3_bind_int64(s, 1, chunk_id(series_id, h0, 0));
        sqlite3_bind_int64(s, 2, chunk_id(series_id, h1, 0));
        while (r == 0) {
                int64_t *ts = NULL, id, base;
                double *v = NULL;
                size_t n = 0;
                uint32_t seq;

                r = sql_step_row(s);
                if (r <= 0)
                        break;
                id = sqlite3_column_int64(s, 0);
                seq = (uint32_t)(id & SEQ_MAX);
                base = (((id >> SEQ_BITS) & ((1LL << 19) - 1)) + EPOCH_HOUR) * HOUR_MS;
                r = tschunk_decode(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1),
                                   &ts, &v, &n);
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = pts_add(out, base + ts[i], v[i], seq);
                free(ts);
                free(v);
                if (r == 0 && out->n > max)
                        r = -E2BIG;
        }
        sqlite3_reset(s);
        if (r < 0)
                return r;
        qsort(out->p, out->n, sizeof(*out->p), tv_cmp);
        for (size_t i = 0; i < out->n; i++) {
                if (i + 1 < out->n && out->p[i + 1].ts == out->p[i].ts)
                        continue;
                out->p[w++] = out->p[i];
        }
        out->n = w;
        return 0;
}

/* Recomputes the coarser rollups of res over the buckets touching
 * [from_s, to_s] from the next finer resolution. */
static int coarse_recompute(sqlite3 *db, int64_t series_id, enum rollup_res res,
                            enum energy_kind kind, int64_t from_s, int64_t to_s)
{
        int64_t b0 = rollup_bucket(res, from_s), b1 = rollup_bucket(res, to_s);
        struct rollup_cell *fine = NULL, *coarse = NULL;
        size_t nf = 0, nc = 0;
        int r = rollups_read(db, series_id, (enum rollup_res)(res - 1), b0, rollup_next(res, b1),
                             &fine, &nf);

        if (r == 0)
                r = rollup_coarsen(res, fine, nf, &coarse, &nc);
        if (r == 0)
                r = cells_replace(db, series_id, res, kind, b0, b1, coarse, nc);
        free(fine);
        free(coarse);
        return r;
}

/* The slow path: late or repeated points. Recomputes the hours from the
 * first new point's hour through the hour of the first stored point after
 * the last new one (its counter increase changes), then days and months. */
static int series_recompute(sqlite3 *db, const struct ts_series_batch *sb, int64_t series_id,
                            double wrap)
{
        enum energy_kind k = energy_quantity_kind(sb->key->quantity);
        int64_t h0 = rollup_bucket(RU_HOUR, floor_div(sb->ts[0], 1000));
        int64_t h1 = rollup_bucket(RU_HOUR, floor_div(sb->ts[sb->n - 1], 1000));
        int64_t next = hour_after(db, series_id, h1), pts_ts = 0;
        double pv = 0;
        struct pts a = { 0 };
        int64_t *ts = NULL;
        double *v = NULL;
        struct rollup_cell *cells = NULL;
        size_t nc = 0;
        int have_prev, r;

        if (next > 0)
                h1 = next;
        have_prev = point_before(db, series_id, h0, &pts_ts, &pv);
        if (have_prev < 0)
                return have_prev;
        r = chunks_read(db, series_id, h0 * 1000, (h1 + 3600) * 1000, SIZE_MAX / 2, &a);
        if (r == 0 && a.n > 0) {
                ts = malloc(a.n * sizeof(*ts));
                v = malloc(a.n * sizeof(*v));
                if (!ts || !v)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < a.n; i++) {
                ts[i] = a.p[i].ts;
                v[i] = a.p[i].v;
        }
        if (r == 0)
                r = rollup_hours(k, wrap, have_prev, pts_ts, pv, ts, v, a.n, &cells, &nc);
        if (r == 0)
                r = cells_replace(db, series_id, RU_HOUR, k, h0, h1, cells, nc);
        if (r == 0)
                r = coarse_recompute(db, series_id, RU_DAY, k, h0, h1);
        if (r == 0)
                r = coarse_recompute(db, series_id, RU_MONTH, k, h0, h1);
        free(a.p);
        free(ts);
        free(v);
        free(cells);
        return r;
}

/* Adds the counter increase from the stored newest point to the first new
 * one into the cells that hold the first new point (fast path). */
static void boundary_delta(struct ts_series_batch *sb, const struct series_state *ss)
{
        double d;

        if (energy_quantity_kind(sb->key->quantity) != EK_COUNTER || ss->last_ts == 0)
                return;
        d = rollup_counter_delta(ss->last_value, sb->v[0], ss->wrap);
        for (int res = 0; res < 3; res++)
                if (sb->n_cells[res] > 0)
                        sb->cells[res][0].total += d;
}

static int series_state_save(sqlite3 *db, const struct series_state *ss)
{
        sqlite3_stmt *s = store_prepare(db, "UPDATE series SET last_ts = ?, last_value = ?, "
                                        "wrap = ? WHERE id = ?");

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, ss->last_ts);
        sqlite3_bind_double(s, 2, ss->last_value);
        sqlite3_bind_double(s, 3, ss->wrap);
        sqlite3_bind_int64(s, 4, ss->id);
        return sql_exec_reset(s);
}

static int series_ingest(sqlite3 *db, struct ts_ingest *in, struct home_series *hs,
                         struct ts_series_batch *sb)
{
        struct series_state ss = { 0 };
        size_t idx = 0;
        int r = series_find(db, in, hs, sb->key, &idx);
        bool in_order;

        if (r < 0)
                return r;
        ss = hs->a[idx].st;
        /* A counter's wrap value is remembered from the batch that last named
         * one; the worker aggregated with the batch's own value, so a batch
         * that relies on the remembered one is recomputed. */
        if (sb->key->wrap > 0)
                ss.wrap = sb->key->wrap;
        in_order = sb->ts[0] > ss.last_ts && sb->key->wrap == ss.wrap;
        r = chunks_insert(db, sb, &ss, &in->bytes_written);
        if (r < 0)
                return r;
        if (in_order) {
                boundary_delta(sb, &ss);
                for (int res = 0; res < 3 && r == 0; res++)
                        r = cells_merge(db, ss.id, (enum rollup_res)res,
                                        energy_quantity_kind(sb->key->quantity), sb->cells[res],
                                        sb->n_cells[res]);
        } else {
                r = series_recompute(db, sb, ss.id, ss.wrap);
        }
        if (r < 0)
                return r;
        if (sb->ts[sb->n - 1] >= ss.last_ts) {
                ss.last_ts = sb->ts[sb->n - 1];
                ss.last_value = sb->v[sb->n - 1];
        }
        hs->a[idx].st = ss;             /* a batch may name a series twice: no */
        return series_state_save(db, &ss);
}

static int ingest_job_run(sqlite3 *db, void *arg)
{
        struct ts_ingest *in = arg;
        struct home_series hs = { 0 };
        int r = batch_record(db, in);

        if (r <= 0)
                return r;
        r = home_series_load(db, in->home_id, &hs);
        for (size_t i = 0; r == 0 && i < in->n_series; i++)
                r = series_ingest(db, in, &hs, &in->series[i]);
        home_series_free(&hs);
        return r;
}

int store_ts_ingest(struct store *st, struct ts_ingest *in)
{
        in->duplicate = false;
        in->bytes_written = 0;
        return store_write(st, ingest_job_run, in);
}

/* ---- reads ----------------------------------------------------------------- */

#define SERIES_COLS "id, channel, quantity, unit, class_code, epc, instance, circuit, " \
        "wrap, name, role, last_ts, last_value"

static void series_row(sqlite3_stmt *s, struct store_series *o)
{
        memset(o, 0, sizeof(*o));
        o->id = sqlite3_column_int64(s, 0);
        o->home_id = o->id / TS_SERIES_PER_HOME;
        sql_col_copy(s, 1, o->key.channel, sizeof(o->key.channel));
        o->key.quantity = (enum energy_quantity)sqlite3_column_int(s, 2);
        sql_col_copy(s, 3, o->key.unit, sizeof(o->key.unit));
        o->key.class_code = sqlite3_column_int(s, 4);
        o->key.epc = sqlite3_column_int(s, 5);
        o->key.instance = sqlite3_column_int(s, 6);
        o->key.circuit = sqlite3_column_int(s, 7);
        o->key.wrap = sqlite3_column_double(s, 8);
        sql_col_copy(s, 9, o->key.name, sizeof(o->key.name));
        sql_col_copy(s, 10, o->key.role, sizeof(o->key.role));
        if (!o->key.role[0])
                snprintf(o->key.role, sizeof(o->key.role), "%s", ingest_default_role(&o->key));
        o->last_ts = sqlite3_column_int64(s, 11);
        o->last_value = sqlite3_column_double(s, 12);
}

int store_ts_series_list(struct store *st, int64_t home_id, struct store_series **out,
                         size_t *n)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        size_t cap = 0;
        int r = 0;

        *out = NULL;
        *n = 0;
        if (!db)
                return -EIO;
        s = store_prepare(db, "SELECT " SERIES_COLS " FROM series WHERE id BETWEEN ? AND ? "
                          "ORDER BY id");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, home_id * TS_SERIES_PER_HOME);
        sqlite3_bind_int64(s, 2, home_id * TS_SERIES_PER_HOME + TS_SERIES_PER_HOME - 1);
        for (;;) {
                r = sql_step_row(s);
                if (r <= 0)
                        break;
                if (*n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        void *np = realloc(*out, ncap * sizeof(**out));

                        if (!np) {
                                r = -ENOMEM;
                                break;
                        }
                        *out = np;
                        cap = ncap;
                }
                series_row(s, &(*out)[(*n)++]);
        }
        sqlite3_reset(s);
        return r < 0 ? r : 0;
}

int store_ts_series_get(struct store *st, int64_t home_id, int64_t series_id,
                        struct store_series *out)
{
        sqlite3 *db = store_reader(st);
        sqlite3_stmt *s;
        int r;

        if (!db)
                return -EIO;
        if (series_id / TS_SERIES_PER_HOME != home_id)
                return -ENOENT;
        s = store_prepare(db, "SELECT " SERIES_COLS " FROM series WHERE id = ?");
        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, series_id);
        r = sql_step_row(s);
        if (r == 1)
                series_row(s, out);
        sqlite3_reset(s);
        if (r < 0)
                return r;
        return r == 1 ? 0 : -ENOENT;
}

int store_ts_raw(struct store *st, int64_t series_id, int64_t from_ms, int64_t to_ms,
                 size_t max, int64_t **ts, double **v, size_t *n)
{
        sqlite3 *db = store_reader(st);
        struct pts a = { 0 };
        size_t w = 0;
        int r;

        *ts = NULL;
        *v = NULL;
        *n = 0;
        if (!db)
                return -EIO;
        r = chunks_read(db, series_id, floor_div(from_ms, HOUR_MS) * HOUR_MS, to_ms, max * 2 + 4096,
                        &a);
        if (r == 0 && a.n > 0) {
                *ts = malloc(a.n * sizeof(**ts));
                *v = malloc(a.n * sizeof(**v));
                if (!*ts || !*v)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < a.n; i++) {
                if (a.p[i].ts < from_ms || a.p[i].ts >= to_ms)
                        continue;
                if (w == max) {
                        r = -E2BIG;
                        break;
                }
                (*ts)[w] = a.p[i].ts;
                (*v)[w] = a.p[i].v;
                w++;
        }
        free(a.p);
        *n = w;
        if (r < 0) {
                free(*ts);
                free(*v);
                *ts = NULL;
                *v = NULL;
                *n = 0;
        }
        return r;
}

static int rollups_read(sqlite3 *db, int64_t series_id, enum rollup_res res, int64_t from_s,
                        int64_t to_s, struct rollup_cell **out, size_t *n)
{
        sqlite3_stmt *s = store_prepare(db, "SELECT id, n, vmin, vmax, vsum, total, last_off, "
                                        "last_v FROM rollups WHERE id >= ? AND id < ? "
                                        "ORDER BY id");
        size_t cap = 0;
        int r = 0;

        *out = NULL;
        *n = 0;
        if (!s)
                return -EIO;
        if (from_s < EPOCH_HOUR * 3600)
                from_s = EPOCH_HOUR * 3600;
        if (to_s < from_s)
                to_s = from_s;
        sqlite3_bind_int64(s, 1, rollup_id_end(series_id, res, from_s));
        sqlite3_bind_int64(s, 2, rollup_id_end(series_id, res, to_s));
        for (;;) {
                struct rollup_cell *c;

                r = sql_step_row(s);
                if (r <= 0)
                        break;
                if (*n == cap) {
                        size_t ncap = cap ? cap * 2 : 32;
                        void *np = realloc(*out, ncap * sizeof(**out));

                        if (!np) {
                                r = -ENOMEM;
                                break;
                        }
                        *out = np;
                        cap = ncap;
                }
                c = &(*out)[(*n)++];
                memset(c, 0, sizeof(*c));
                c->bucket = rollup_bucket_of(sqlite3_column_int64(s, 0));
                c->n = sqlite3_column_int64(s, 1);
                c->min = sqlite3_column_double(s, 2);
                c->max = sqlite3_column_double(s, 3);
                c->sum = sqlite3_column_double(s, 4);
                c->total = sqlite3_column_double(s, 5);
                c->last_ts = c->bucket * 1000 + sqlite3_column_int64(s, 6);
                c->last = sqlite3_column_double(s, 7);
                c->first_ts = c->last_ts;
                c->first = c->last;
        }
        sqlite3_reset(s);
        if (r < 0) {
                free(*out);
                *out = NULL;
                *n = 0;
        }
        return r < 0 ? r : 0;
}

int store_ts_rollups(struct store *st, int64_t series_id, enum rollup_res res, int64_t from_s,
                     int64_t to_s, struct rollup_cell **out, size_t *n)
{
        sqlite3 *db = store_reader(st);

        if (!db)
                return -EIO;
        return rollups_read(db, series_id, res, from_s, to_s, out, n);
}

/* ---- deletion and pruning ---------------------------------------------------- */

int store_ts_delete_home(sqlite3 *db, int64_t home_id)
{
        static const char *const sql[] = {
                "DELETE FROM chunks WHERE id BETWEEN ?1 << 31 AND ((?2 + 1) << 31) - 1",
                "DELETE FROM rollups WHERE id BETWEEN ?1 << 31 AND ((?2 + 1) << 31) - 1",
                "DELETE FROM series WHERE id BETWEEN ?1 AND ?2",
                "DELETE FROM ingest_batches WHERE home_id = ?3",
        };
        sqlite3_stmt *s;
        int r;

        for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
                s = store_prepare(db, sql[i]);
                if (!s)
                        return -EIO;
                sqlite3_bind_int64(s, 1, home_id * TS_SERIES_PER_HOME);
                sqlite3_bind_int64(s, 2, home_id * TS_SERIES_PER_HOME + TS_SERIES_PER_HOME - 1);
                sqlite3_bind_int64(s, 3, home_id);
                r = sql_exec_reset(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct prune_job {
        int64_t before;
        int n;
};

static int prune_job_run(sqlite3 *db, void *arg)
{
        struct prune_job *j = arg;
        sqlite3_stmt *s = store_prepare(db, "DELETE FROM ingest_batches WHERE (home_id, batch_id) IN ("
                                        "SELECT home_id, batch_id FROM ingest_batches "
                                        "WHERE received_at < ? LIMIT 5000)");
        int r;

        if (!s)
                return -EIO;
        sqlite3_bind_int64(s, 1, j->before);
        r = sql_exec_reset(s);
        j->n = r < 0 ? 0 : sqlite3_changes(db);
        return r;
}

int store_ts_prune_batches(struct store *st, int64_t before_s, int *n)
{
        struct prune_job j = { before_s, 0 };
        int r = store_write(st, prune_job_run, &j);

        *n = j.n;
        return r;
}
