/*
 * store_homedata.h - a home's settings backup (HE-8) and its device history
 * (HE-9) in the store, and the operator's after-service statistics of
 * device error codes across every gateway (HE-9, 4.3.1).
 *
 * Settings: every upload of the gateway's settings document that differs
 * from the newest version is a new version of its home (1, 2, ...;
 * numbers are never reused). Only the HOMEDATA_VERSIONS_KEPT newest
 * versions of a home are kept: the upload that makes one more deletes the
 * oldest in the same write job. A restore copies a version of one home
 * into another (or the same) home as its newest version, source
 * 'restore', remembering where it came from and who asked; who may
 * restore what is the API's decision.
 *
 * History: events as the gateway reported them (time it happened, kind,
 * device, code, detail), stamped with the gateway and the model and
 * firmware it had when the batch arrived, so the error statistics group by
 * what the device ran at the time.
 *
 * Schema (migration 11): settings_versions and history. Both reference
 * homes(id) and history gateways(id) (migration 10); the purge of HE-4
 * deletes a home's rows with store_homedata_delete() inside its own write
 * job.
 *
 * Errors: negative errno; -ENOENT no such home version / cursor, -EINVAL
 * bad argument (checked here too, not only in the API).
 */
#ifndef ENEMANE_STORE_HOMEDATA_H
#define ENEMANE_STORE_HOMEDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

extern const char store_m011_sql[];

/* Versions kept per home: a home's newest 100 uploads and restores. An
 * hourly upload for four days, or a daily one for three months, fits; a
 * gateway uploads on change, which is rarer. */
#define HOMEDATA_VERSIONS_KEPT 100
#define HOMEDATA_DOC_MAX (256 * 1024)           /* bytes of a settings document */
#define HOMEDATA_VERSIONS_PAGE_MAX 100

#define HOMEDATA_EVENTS_MAX 1000                /* events per upload (one write job) */
#define HOMEDATA_KIND_MAX 9                     /* "operation" */
#define HOMEDATA_DEVICE_MAX 64                  /* characters (code points) */
#define HOMEDATA_CODE_MAX 32                    /* characters, printable ASCII */
#define HOMEDATA_DETAIL_MAX 500                 /* characters */
#define HOMEDATA_HISTORY_PAGE_MAX 1000
#define HOMEDATA_ERRSTATS_MAX 1000              /* groups in one statistics answer */
#define HOMEDATA_MODEL_MAX 64                   /* bytes, as GW_MODEL_MAX */
#define HOMEDATA_FIRMWARE_MAX 64                /* bytes, as GW_FIRMWARE_MAX */

/* Room for n UTF-8 characters of up to 4 bytes plus the NUL. */
#define HOMEDATA_TEXT_BYTES(n) (4 * (n) + 1)

/* ---- settings (HE-8) ---------------------------------------------------- */

struct store_settings_version {
        int64_t home_id;
        int64_t version;
        int64_t created_at;
        char source[8];                 /* gateway | restore */
        int64_t restored_from_home;     /* restore: the home and version copied, else 0 */
        int64_t restored_from_version;
        int64_t restored_by;            /* restore: the member who asked, else 0 */
        char *doc;                      /* the document (JSON text); NULL in lists */
};

/* Frees v->doc (accepts NULL and a zeroed struct). */
void store_settings_version_free(struct store_settings_version *v);

/* Stores doc (a JSON object text of at most HOMEDATA_DOC_MAX bytes; the
 * caller has checked it) as the home's next version, source 'gateway', and
 * drops versions beyond HOMEDATA_VERSIONS_KEPT: one write job. Returns 0
 * with *version and *created_at (either may be NULL) of the new version;
 * or 1 when doc is byte for byte the newest version's text: nothing is
 * stored and they get that version's. <0 on error. */
int store_settings_put(struct store *st, int64_t home_id, const char *doc, int64_t now,
                       int64_t *version, int64_t *created_at);
/* A version of the home with its document (out->doc malloc'd; free with
 * store_settings_version_free); version 0 = the newest. -ENOENT none. */
int store_settings_get(struct store *st, int64_t home_id, int64_t version,
                       struct store_settings_version *out);
/* The home's versions newest first, without documents, with version <
 * before (0 = from the newest), at most limit (1 .. HOMEDATA_VERSIONS_PAGE_MAX).
 * Returns the count or <0. */
int store_settings_list(struct store *st, int64_t home_id, int64_t before, int limit,
                        void (*cb)(const struct store_settings_version *v, void *ud),
                        void *ud);
/* Copies version of from_home into to_home as its next version, source
 * 'restore', by member_id; trims to_home like an upload. *new_version gets
 * the number. -ENOENT when from_home has no such version. */
int store_settings_restore(struct store *st, int64_t from_home, int64_t version,
                           int64_t to_home, int64_t member_id, int64_t now,
                           int64_t *new_version);

/* ---- history (HE-9) ----------------------------------------------------- */

struct store_history_event {
        int64_t id;                     /* set by the store */
        int64_t at;                     /* when it happened, unix s */
        char kind[HOMEDATA_KIND_MAX + 1];       /* operation | saving | error */
        char device[HOMEDATA_TEXT_BYTES(HOMEDATA_DEVICE_MAX)];
        char code[HOMEDATA_CODE_MAX + 1];
        char detail[HOMEDATA_TEXT_BYTES(HOMEDATA_DETAIL_MAX)];  /* "" none */
        int64_t received_at;            /* set by the store */
};

/* The reporting gateway as it was when the batch arrived. */
struct store_history_source {
        int64_t home_id;
        int64_t gateway_id;
        const char *model;
        const char *firmware;           /* NULL or "" unknown */
};

/* Adds n (1 .. HOMEDATA_EVENTS_MAX) events in one write job: all or none.
 * Each event's kind must be known and device and code non-empty (-EINVAL);
 * ev[i].id is set to the new ids. */
int store_history_add(struct store *st, const struct store_history_source *src,
                      struct store_history_event *ev, size_t n, int64_t now);

struct store_history_filter {
        const char *kind;               /* NULL any */
        const char *device;             /* NULL any (exact match) */
        const char *code;               /* NULL any (exact match) */
        int64_t from;                   /* at >= from (unix s; INT64_MIN: open) */
        int64_t to;                     /* at < to (INT64_MAX: open) */
        int64_t after_id;               /* 0: from the start; else the events after
                                         * this one of the same home, in the order below */
        int limit;                      /* 1 .. HOMEDATA_HISTORY_PAGE_MAX */
};

/* The home's events in time order (at, then id), filtered. Returns the
 * count or <0; -ENOENT when after_id is not an event of this home. */
int store_history_list(struct store *st, int64_t home_id, const struct store_history_filter *f,
                       void (*cb)(const struct store_history_event *e, void *ud), void *ud);

/* ---- error statistics (HE-9 after-service) ------------------------------- */

struct store_error_stat {
        char model[HOMEDATA_MODEL_MAX + 1];
        char firmware[HOMEDATA_FIRMWARE_MAX + 1];
        char code[HOMEDATA_CODE_MAX + 1];
        int64_t count;                  /* error events */
        int64_t gateways;               /* distinct gateways that reported it */
        int64_t first_at, last_at;
};

struct store_error_filter {
        const char *model;              /* NULL any (exact match) */
        const char *firmware;           /* NULL any (exact match) */
        int64_t from;                   /* at >= from (INT64_MIN: open) */
        int64_t to;                     /* at < to (INT64_MAX: open) */
        int limit;                      /* 1 .. HOMEDATA_ERRSTATS_MAX + 1: a caller
                                         * asks one more than it shows to learn
                                         * whether the list was cut */
};

/* Error events of every gateway grouped by (model, firmware, code), the
 * most frequent first (then model, firmware, code). Returns the count of
 * groups given to cb or <0. */
int store_error_stats(struct store *st, const struct store_error_filter *f,
                      void (*cb)(const struct store_error_stat *s, void *ud), void *ud);

/* ---- purge ---------------------------------------------------------------- */

/* Deletes every settings version and history event of the home, on db
 * inside the caller's write job (the purge of HE-4): 0 or <0. */
int store_homedata_delete(sqlite3 *db, int64_t home_id);

#endif
