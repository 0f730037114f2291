/*
 * store_ts.h - the time-series store of the home energy service (HE-7,
 * HE-16): series, compressed chunks and hourly/daily/monthly rollups.
 *
 * Ingest is split in two so the writer thread does as little as possible:
 *  - ts_ingest_prepare() runs on the request's worker: groups the batch's
 *    points by series, sorts and de-duplicates them (the later of two points
 *    with one time wins), encodes one chunk per series and UTC hour
 *    (domain/tschunk.h) and aggregates hour, day and month cells
 *    (domain/rollup.h);
 *  - store_ts_ingest() is ONE write job: it records the batch id (a resend
 *    is answered from the record, nothing is written twice), finds or
 *    creates the series, inserts the chunks and merges the cells into the
 *    rollups. Points later than everything stored for their series (the
 *    normal case) merge incrementally; late or repeated points make the job
 *    recompute the affected hours from the chunks, then their days and months.
 */
#ifndef ENEMANE_STORE_STORE_TS_H
#define ENEMANE_STORE_STORE_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/ingest.h"
#include "domain/rollup.h"
#include "store/store.h"

/* Series ids are home id * TS_SERIES_PER_HOME + n: a home's series are one
 * id range (no index needed to find them) and a home has at most this many. */
#define TS_SERIES_PER_HOME 1024
/* Series ids stay below 2^32 (chunk and rollup ids pack them): home ids too. */
#define TS_HOMES_MAX (1LL << 22)
/* The earliest time the store keeps (2020-01-01T00:00Z, unix ms). */
#define TS_EPOCH_MS 1577836800000LL

struct ts_chunk {
        int64_t t0, t1;                 /* unix ms of the first and last point */
        uint32_t n;
        uint8_t *blob;
        size_t len;
};

struct ts_series_batch {
        const struct ingest_series *key;        /* into the parsed batch */
        int64_t *ts;                    /* sorted, unique */
        double *v;
        size_t n;
        struct ts_chunk *chunks;
        size_t n_chunks;
        struct rollup_cell *cells[3];   /* hour, day, month cells of these points alone */
        size_t n_cells[3];
};

struct ts_ingest {
        int64_t home_id;
        char batch_id[INGEST_BATCH_ID_MAX + 1];
        int64_t now;                    /* unix s */
        int max_series_per_home;
        struct ts_series_batch *series;
        size_t n_series;
        int64_t accepted, rejected;     /* what the answer reports */
        char *rejects_json;             /* the rejects as JSON text, kept with the batch id */
        /* Filled by store_ts_ingest when the batch id was seen before. */
        bool duplicate;
        int64_t dup_accepted, dup_rejected;
        char *dup_rejects_json;         /* malloc'd */
        int64_t bytes_written;          /* chunk bytes, for metrics */
};

/* Builds 'in' from a parsed batch (worker side). in->home_id, batch_id, now,
 * accepted/rejected and rejects_json are the caller's. 0 or -ENOMEM. */
int ts_ingest_prepare(const struct ingest_batch *b, struct ts_ingest *in);
/* Frees what prepare and ingest allocated; accepts NULL. */
void ts_ingest_free(struct ts_ingest *in);
/* The write job. -EDQUOT when a new series would pass max_series_per_home,
 * -EMLINK when a series-hour has 4,096 chunks, -EOVERFLOW past TS_HOMES_MAX. */
int store_ts_ingest(struct store *st, struct ts_ingest *in);

struct store_series {
        int64_t id;
        int64_t home_id;
        struct ingest_series key;
        int64_t last_ts;                /* unix ms, 0 none */
        double last_value;
};

/* The series of a home (array malloc'd for the caller). */
int store_ts_series_list(struct store *st, int64_t home_id, struct store_series **out,
                         size_t *n);
int store_ts_series_get(struct store *st, int64_t home_id, int64_t series_id,
                        struct store_series *out);
/* Raw points in [from_ms, to_ms), at most max (-E2BIG beyond). Arrays
 * malloc'd for the caller. */
int store_ts_raw(struct store *st, int64_t series_id, int64_t from_ms, int64_t to_ms,
                 size_t max, int64_t **ts, double **v, size_t *n);
/* Rollup cells of one resolution with bucket in [from_s, to_s). */
int store_ts_rollups(struct store *st, int64_t series_id, enum rollup_res res, int64_t from_s,
                     int64_t to_s, struct rollup_cell **out, size_t *n);

/* Deletes a home's series, chunks, rollups and batch records (writer side,
 * inside another job: the purge of HE-4). */
int store_ts_delete_home(sqlite3 *db, int64_t home_id);
/* Forgets batch ids older than before_s (they only serve resends). */
int store_ts_prune_batches(struct store *st, int64_t before_s, int *n);

extern const char store_m012_sql[];

#endif
