/*
 * store_notice.h - notices to gateways (HE-13, with the service and terms
 * change notices of HE-5) and maintenance windows (HE-6): publishing,
 * withdrawing and listing notices, which notices a home has read, and
 * scheduling, ending and listing maintenance windows with the notice each
 * one sends out automatically.
 *
 * A notice's target is stored as the JSON text the API validated ("{}" for
 * every gateway); matching a gateway against it happens in memory
 * (api/notices.c), so the store only hands out the live notices. Reads are
 * per home: a new resident of the same gateway starts with nothing read.
 */
#ifndef ENEMANE_STORE_STORE_NOTICE_H
#define ENEMANE_STORE_STORE_NOTICE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define NOTICE_TITLE_MAX 300            /* bytes */
#define NOTICE_BODY_MAX 8192            /* bytes */
#define NOTICE_LINK_MAX 512             /* bytes */
#define NOTICE_LIVE_MAX 1000            /* live notices, maintenance notices aside */
#define NOTICE_LIST_MAX 200             /* one operator page */
#define NOTICE_READ_IDS_MAX 100         /* ids in one read report */
#define MAINT_BODY_MAX 2048             /* bytes */
#define MAINT_LIVE_MAX 50               /* windows not over */
#define MAINT_LIST_MAX 200

struct store_notice {
        int64_t id;
        char kind[16];          /* info | service_change | terms_change | service_end |
                                 * maintenance */
        char importance[8];     /* low | normal | high */
        char *title, *body;     /* heap, owned (store_notice_clear) */
        char *link;             /* heap, owned; "" none */
        char *target;           /* heap, owned; JSON object text, "{}" every gateway */
        int64_t lamp_seconds;   /* the lamp is lit this long after publish_at; 0 never */
        int64_t publish_at, expires_at;
        int64_t service_ends_at;        /* service_end only, else 0 */
        int64_t maintenance_id;         /* maintenance only, else 0 */
        int64_t created_by, created_at, withdrawn_at;
        int64_t read_count;     /* homes that read it (store_notice_get only) */
};

/* Frees the strings of n (accepts a zeroed notice) and zeroes it. */
void store_notice_clear(struct store_notice *n);
/* Clears the n notices of a malloc'd array and frees it (accepts NULL). */
void store_notice_array_free(struct store_notice *a, int n);

/* Publishes n (its strings are read, not taken); n->id and n->created_at
 * are set. -ENOSPC when NOTICE_LIVE_MAX notices (maintenance notices not
 * counted) are live at now. */
int store_notice_create(struct store *st, struct store_notice *n, int64_t now);
int store_notice_get(struct store *st, int64_t id, struct store_notice *out);

struct store_notice_filter {
        const char *kind;       /* NULL or "" any */
        int64_t before_id;      /* 0: from the newest */
        int limit;
};
/* Newest first (id descending); out[0..*n) must be cleared by the caller. */
int store_notice_list(struct store *st, const struct store_notice_filter *f,
                      struct store_notice *out, int max, int *n);
/* Withdraws a notice (it stops being shown at once); *out gets it.
 * -ENOENT, -EPERM for a maintenance notice (end the maintenance instead).
 * Withdrawing twice is 0 and keeps the first time. */
int store_notice_withdraw(struct store *st, int64_t id, int64_t now, struct store_notice *out);
/* Every notice neither withdrawn nor expired at now, scheduled ones
 * included, by id: *out is malloc'd (store_notice_array_free), at most
 * NOTICE_LIVE_MAX + MAINT_LIVE_MAX. */
int store_notice_live(struct store *st, int64_t now, struct store_notice **out, int *n);

/* read[i] = whether home_id read ids[i] (n <= NOTICE_LIVE_MAX + MAINT_LIVE_MAX). */
int store_notice_reads(struct store *st, int64_t home_id, const int64_t *ids, int n,
                       bool *read);
/* Records that home_id read the n notices (again is harmless). */
int store_notice_mark_read(struct store *st, int64_t home_id, const int64_t *ids, int n,
                           int64_t now);

struct store_maintenance {
        int64_t id;
        char scope[8];          /* gateway | apps | all */
        bool emergency;
        bool cancelled;         /* ended before it started */
        char title[NOTICE_TITLE_MAX + 1];
        char body[MAINT_BODY_MAX + 1];
        int64_t starts_at, ends_at;     /* ends_at: the expected end */
        int64_t ended_at;               /* ended (or cancelled) early by the operator, else 0 */
        int64_t notice_id, notice_at;   /* its notice and when that is published */
        int64_t created_by, created_at;
};

/* Schedules m and its notice in one transaction: kind maintenance,
 * importance as given, every gateway, published at notice_at, expiring
 * at the window's end with the lamp lit until then. m->id, notice_id,
 * notice_at and created_at are set. -ENOSPC when MAINT_LIVE_MAX windows are
 * not over. */
int store_maintenance_create(struct store *st, struct store_maintenance *m, int64_t notice_at,
                             const char *importance, int64_t now);
int store_maintenance_get(struct store *st, int64_t id, struct store_maintenance *out);
/* Newest first; *n windows. */
int store_maintenance_list(struct store *st, int64_t before_id, int limit,
                           struct store_maintenance *out, int max, int *n);
/* Ends a running window now, or cancels one not started yet; its notice
 * expires now (running) or is withdrawn (cancelled). -ENOENT, -ESTALE when
 * the window is over already. */
int store_maintenance_end(struct store *st, int64_t id, int64_t now,
                          struct store_maintenance *out);
/* The windows not over at now (running or to come), by start. */
int store_maintenance_live(struct store *st, int64_t now, struct store_maintenance *out,
                           int max, int *n);

/* The SQL of migration 14 (store/migrations.c). */
extern const char store_m014_sql[];

#endif
