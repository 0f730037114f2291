/*
 * store_search.h - the charger search: listed chargers near a point,
 * nearest first, optionally only those free for a whole time range (with
 * the CS-24 price of that range), each with its CS-25 occupancy.
 *
 * Callable without HTTP (part 2's CS-28 substitutes use it): the handler
 * in api/search.c only parses the query and renders.
 *
 * How it runs (store_search.c has the details):
 *   1. R*Tree box around the point (domain/geo.h geo_bbox_around), joined
 *      with chargers, hosts and members for the static filters: listed
 *      (not deleted, not delisted, QR attached, host publishable - CS-8,
 *      CS-10, CS-11), connector, output, on-site reservation;
 *   2. exact haversine distance, keep those within the radius, sort by
 *      (distance in mm, id);
 *   3. in that order, lazily, check that the slots cover the range
 *      contiguously and no active reservation overlaps it (only until the
 *      page is full);
 *   4. occupancy at `now` for the page's items.
 * Dense areas would make step 1 return thousands of rows for a page of
 * 20, so the radius grows in rings: first a small circle; only when it
 * does not fill the page is the next, twice as wide, searched (skipping
 * what the smaller one already examined). The nearest-first order is
 * exact: everything inside a ring is nearer than anything outside it.
 */
#ifndef ENEMANE_STORE_SEARCH_H
#define ENEMANE_STORE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_SEARCH_LIMIT_MAX 100

struct store_search_query {
        double lat, lon;                /* degrees */
        int64_t radius_m;               /* > 0 */
        int64_t from, to;               /* range [from, to); both 0 = no range */
        const char *connector;          /* NULL or "" = any */
        int64_t min_output_w;           /* 0 = any */
        int onsite;                     /* -1 any, 0 no, 1 yes (onsite_reservation) */
        int limit;                      /* 1 .. STORE_SEARCH_LIMIT_MAX */
        /* Keyset cursor: results strictly after (after_mm, after_id);
         * after_mm -1 = from the start. */
        int64_t after_mm;
        int64_t after_id;
        int64_t exclude_id;             /* a charger to leave out (CS-28), 0 = none */
};

struct store_search_item {
        int64_t id;                     /* charger id */
        int64_t host_id;
        int64_t distance_mm;            /* exact haversine, millimetres */
        bool has_price;                 /* a range was given */
        int64_t price;                  /* CS-24 fee of the range, yen */
        int occupancy;                  /* enum slot_occupancy at now */
        /* Revisions of the charger's and its host's rows (bumped by every
         * update): a cached rendering of the public listing is current
         * while both match. */
        int64_t charger_rev, host_rev;
};

struct store_search_result {
        struct store_search_item *items;        /* malloc'd; store_search_result_free */
        size_t n;
        bool more;                      /* another page exists */
        int64_t next_mm, next_id;       /* the cursor for it (the last item's key) */
        size_t examined;                /* candidates distance-checked (diagnostics) */
};

/* Fills *out (zeroed first). -EINVAL for a bad query (limit, radius,
 * range with to <= from). */
int store_search_chargers(struct store *st, const struct store_search_query *q, int64_t now,
                          struct store_search_result *out);

/* The same, then calls each(item, ud) for every item of the page, still
 * inside the search's read transaction: store reads each() makes on this
 * thread (e.g. store_charger_get) see the same snapshot as the search. */
int store_search_chargers_each(struct store *st, const struct store_search_query *q,
                               int64_t now, struct store_search_result *out,
                               void (*each)(const struct store_search_item *it, void *ud),
                               void *ud);
void store_search_result_free(struct store_search_result *r);       /* accepts NULL */

/* CS-25 occupancy of one charger at now (listing state and reservations
 * covering now); -ENOENT when no such charger. */
int store_search_occupancy(struct store *st, int64_t charger_id, int64_t now, int *occ);

/* ---- bulk seeding for benchmarks (`enemane admin seed-chargers`) ------------- */

struct store_seed_charger {
        int64_t host_id;                /* a member id made by this or an earlier batch */
        double lat, lon;
        int64_t output_w;
        const char *connector;
        bool onsite;
};

struct store_seed_range {
        size_t charger;                 /* index into the batch's chargers */
        int64_t starts_at, ends_at;
        int64_t hourly_price;           /* slots only */
};

struct store_seed {
        int64_t host_first_id;          /* members+hosts created: ids first .. first+n-1 */
        size_t n_hosts;
        const struct store_seed_charger *chargers;
        size_t n_chargers;
        const struct store_seed_range *slots;       /* non-overlapping per charger */
        size_t n_slots;
        const struct store_seed_range *reservations; /* confirmed, inside slots */
        size_t n_reservations;
};

/*
 * Writes one batch in ONE write job (a single transaction): publishable
 * hosts (verified, contract active; members with unusable password
 * hashes), listed chargers with attached QR codes and their R*Tree rows,
 * slots, and confirmed reservations (by the batch's first host as the
 * user, with one vehicle made for it). For benchmarks on a fresh
 * database; the rows bypass the API's checks (the caller makes them
 * valid).
 */
int store_search_seed(struct store *st, const struct store_seed *b, int64_t now);

#endif
