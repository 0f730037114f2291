/*
 * store_slot.h - slots (CS-13, CS-16) and the reads of the reservations
 * table that part 1 needs (occupancy, the calendar, the CS-16 guard).
 *
 * The rules are in domain/slot.h; the functions here load what a change
 * touches and run it inside one store_write() job, so the checks (charger
 * exists and is the host's, host publishable, no overlap, CS-16) and the
 * write, plus its CS-7 host action row, are one transaction.
 *
 * Schema (migration 7): slots(id, charger_id, starts_at, ends_at,
 * hourly_price, created_at, updated_at) and reservations (filled by part 2;
 * status pending|confirmed|checked_in|completed|cancelled|rejected|expired).
 * A charger's slots never overlap, so ordering them by ends_at orders them
 * by starts_at too: the index slots_charger(charger_id, ends_at) serves
 * "future slots", windows and listings alike. Active reservations
 * (pending, confirmed, checked_in) have their own partial index.
 *
 * Errors: negative errno. -ENOENT no such slot or charger (a deleted
 * charger counts as none), -EPERM host not publishable (CS-8), -EEXIST the
 * range overlaps another slot of the charger, -EBUSY a reservation blocks
 * the change (CS-16), -E2BIG too many rows for the call's limit.
 */
#ifndef ENEMANE_STORE_SLOT_H
#define ENEMANE_STORE_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/slot.h"
#include "store/store.h"
#include "store/store_member.h"

extern const char store_m007_sql[];

/* Most rows one call returns or writes. */
#define STORE_SLOT_LIST_MAX 2000
#define STORE_SLOT_WINDOW_MAX 4096

struct store_slot {
        int64_t id;
        int64_t charger_id;
        int64_t starts_at;
        int64_t ends_at;
        int64_t hourly_price;
        int64_t created_at;
        int64_t updated_at;
};

struct store_reservation_brief {
        int64_t id;
        int64_t starts_at;
        int64_t ends_at;
        int status;                     /* enum slot_res_status */
};

/* What the slot endpoints need to know about a charger and its host. */
struct store_slot_charger {
        int64_t id;
        int64_t host_id;                /* the host's member id */
        struct slot_listing listing;    /* deleted, delisted, attached, publishable, ... */
        char verification[16];          /* hosts.verification */
        char contract[16];              /* hosts.contract */
        char member_status[16];         /* members.status of the host */
};

/* Why a write was refused, filled according to the error. */
struct store_slot_conflict {
        struct store_slot slot;                 /* -EEXIST: the slot overlapped */
        struct store_reservation_brief res;     /* -EBUSY: the blocking reservation */
        struct store_slot_charger charger;      /* -EPERM: the host's states */
};

/* The charger (deleted ones too: listing.deleted says so); -ENOENT when no
 * such id. */
int store_slot_charger_get(struct store *st, int64_t charger_id, struct store_slot_charger *out);

/* True when member_id is the host itself or one of its administrators. */
int store_slot_is_host_actor(struct store *st, int64_t host_id, int64_t member_id, bool *out);

/*
 * Creates n slots (1 .. STORE_SLOT_LIST_MAX; -EINVAL otherwise) on the
 * charger with one price, all or nothing, in one write job: the charger
 * must exist and not be deleted (-ENOENT), its host be publishable
 * (-EPERM, why->charger filled), each range must not overlap an existing
 * slot (-EEXIST, why->slot = the first existing slot hit) nor another range
 * of the call (-EINVAL; the caller checks that first with the domain).
 * ranges must be sorted by starts_at. Appends one CS-7 host action:
 * `action` ("slot.create" / "slot.create_pattern") on the slot (n == 1) or
 * the charger (n > 1). out (room for n) gets the slots written.
 */
int store_slot_create(struct store *st, int64_t charger_id, const struct slot_range *ranges,
                      size_t n, int64_t hourly_price, const char *action,
                      const struct store_actor *actor, int64_t now, struct store_slot *out,
                      struct store_slot_conflict *why);

int store_slot_get(struct store *st, int64_t id, struct store_slot *out);

/*
 * Changes slot id to [starts_at, ends_at) at hourly_price in one write job,
 * with the CS-16 guard (domain slot_change_blocker over the active
 * reservations overlapping the slot: -EBUSY, why->res), the overlap check
 * against the charger's other slots (-EEXIST, why->slot) and, when
 * check_publishable, the host's publishability (-EPERM). Appends the
 * host action "slot.update". *out gets the slot as written.
 */
int store_slot_update(struct store *st, int64_t id, int64_t starts_at, int64_t ends_at,
                      int64_t hourly_price, bool check_publishable,
                      const struct store_actor *actor, int64_t now, struct store_slot *out,
                      struct store_slot_conflict *why);

/* Deletes slot id unless an active reservation overlaps it (CS-16:
 * -EBUSY, why->res). Appends the host action "slot.delete". */
int store_slot_delete(struct store *st, int64_t id, const struct store_actor *actor, int64_t now,
                      struct store_slot_conflict *why);

/* CS-13: *out = the charger has a slot ending after now. */
int store_slot_has_future(struct store *st, int64_t charger_id, int64_t now, bool *out);

/*
 * The charger's slots that overlap [from, to) (to 0: no bound), oldest
 * first, at most max (1 .. STORE_SLOT_LIST_MAX). *items is malloc'd (the
 * caller frees; NULL when none). Returns the count; *truncated says
 * whether more slots matched than max.
 */
int store_slot_list(struct store *st, int64_t charger_id, int64_t from, int64_t to, size_t max,
                    struct store_slot **items, bool *truncated);

/*
 * For the calendar: the charger's slots overlapping [from, to) as domain
 * slots, and its active reservations overlapping [from, to), each oldest
 * first. Both arrays malloc'd (the caller frees both; NULL when empty).
 * -E2BIG when either exceeds STORE_SLOT_WINDOW_MAX.
 */
int store_slot_window(struct store *st, int64_t charger_id, int64_t from, int64_t to,
                      struct slot **slots, size_t *n_slots, struct slot_reservation **res,
                      size_t *n_res);

/* For the store's own files (store_search.c): the active reservations
 * (pending, confirmed, checked in) of the charger overlapping [from, to),
 * ordered by (ends_at, id) and strictly after the keyset (after_end,
 * after_id), at most max, on db (a reader, or the writer inside a job).
 * Returns how many, or <0. */
struct slot_reservation;
int store_slot_db_active_res(sqlite3 *db, int64_t charger_id, int64_t from, int64_t to,
                             int64_t after_end, int64_t after_id, struct slot_reservation *out,
                             size_t max);

#endif
