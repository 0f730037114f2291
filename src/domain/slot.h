/*
 * slot.h - slot rules: the reservation grid, slot validation, weekly
 * patterns in Tokyo local dates, overlap over a sorted list, the price of
 * a range (CS-24), free and taken ranges for the calendar, the CS-16 guard
 * on changing a slot, recruiting (CS-13) and occupancy (CS-25).
 *
 * Pure functions: no I/O, no clock (`now` is passed in), no allocation.
 * Times are unix seconds (UTC). Ranges are half-open [starts_at, ends_at):
 * a slot ending at 10:00 and one starting at 10:00 are adjacent, not
 * overlapping.
 *
 * Local time. Patterns and the grid are Tokyo wall-clock notions. Every
 * UTC <-> local conversion goes through slot_local_offset(), the one place
 * that knows Tokyo's offset (+09:00, no daylight saving since 1951); were a
 * zone with DST ever configured, only that function would change.
 */
#ifndef ENEMANE_DOMAIN_SLOT_H
#define ENEMANE_DOMAIN_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A half-open time range [starts_at, ends_at). */
struct slot_range {
        int64_t starts_at;
        int64_t ends_at;
};

/* A slot as the rules see it. */
struct slot {
        int64_t id;
        int64_t starts_at;
        int64_t ends_at;
        int64_t hourly_price;           /* yen per hour, tax included */
};

/* Reservation states (the reservations.status column). */
enum slot_res_status {
        SLOT_RES_PENDING,
        SLOT_RES_CONFIRMED,
        SLOT_RES_CHECKED_IN,
        SLOT_RES_COMPLETED,
        SLOT_RES_CANCELLED,
        SLOT_RES_REJECTED,
        SLOT_RES_EXPIRED,
};

/* A reservation as the slot rules see it. */
struct slot_reservation {
        int64_t id;
        int64_t starts_at;
        int64_t ends_at;
        int status;                     /* enum slot_res_status */
};

/* The configuration the rules need (from struct config). */
struct slot_rules {
        int64_t grid_minutes;           /* charging.grid_minutes */
        int64_t max_hourly_price;       /* charging.max_hourly_price */
        int64_t horizon_s;              /* charging.slot_horizon */
        int64_t pattern_max_slots;      /* charging.pattern_max_slots */
};

/* ---- local time ------------------------------------------------------------ */

/* Offset of Tokyo local time from UTC at the instant utc, in seconds. */
int64_t slot_local_offset(int64_t utc);
/* The UTC instant of a local wall-clock time given as seconds since the
 * local epoch (local date's day number * 86400 + seconds of the day). */
int64_t slot_local_to_utc(int64_t local);
/* The local day number (days since 1970-01-01, Tokyo) holding utc. */
int64_t slot_local_day(int64_t utc);
/* Parses "YYYY-MM-DD" into a day number: 0 or -EINVAL. */
int slot_parse_date(const char *s, int64_t *day);
/* Parses "HH:MM" (00:00 .. 23:59, or 24:00 when allow_24) into minutes
 * of the day: 0 or -EINVAL. */
int slot_parse_hhmm(const char *s, bool allow_24, int *minutes);
/* Day of the week of a day number: 0 = Monday .. 6 = Sunday. */
int slot_weekday(int64_t day);
/* "mon".."sun" to 0..6, or -1. */
int slot_weekday_from_name(const char *s);

/* ---- grid and validation ----------------------------------------------------- */

/* True when utc lies on the grid of grid_minutes in local wall-clock time
 * (e.g. :00, :15, :30, :45 for 15). grid_minutes must divide a day evenly
 * to be meaningful; <= 0 means "any whole minute". */
bool slot_on_grid(int64_t utc, int64_t grid_minutes);

/* One validation finding: the request field, a stable code and a sentence. */
struct slot_issue {
        const char *field;              /* "starts_at", "ends_at", "hourly_price" */
        const char *code;               /* off_grid, in_past, beyond_horizon, ... */
        const char *detail;             /* static text */
};
#define SLOT_ISSUES_MAX 6

/*
 * Checks a slot against the rules at now (CS-13, CS-24's grid):
 *   starts_at and ends_at on the grid      (off_grid)
 *   ends_at after starts_at                (not_after_start, on ends_at)
 *   starts_at in the future                (in_past)
 *   ends_at within now + horizon           (beyond_horizon)
 *   hourly_price in 0 .. max_hourly_price  (out_of_range)
 * Fills up to SLOT_ISSUES_MAX issues and returns their count (0 = valid).
 */
int slot_validate(const struct slot_rules *rules, int64_t starts_at, int64_t ends_at,
                  int64_t hourly_price, int64_t now, struct slot_issue *issues);

/* ---- weekly patterns ----------------------------------------------------------- */

struct slot_pattern {
        int64_t from_day, to_day;       /* local day numbers, inclusive */
        unsigned weekdays;              /* bit 0 = Monday .. bit 6 = Sunday */
        int start_min, end_min;         /* minutes of the local day; end may be 1440 */
};

/*
 * Expands a pattern into ranges, oldest first, into out (room for max).
 * Returns the count; -EINVAL when end_min <= start_min (a pattern over the
 * night is not supported: it would need two local dates per slot) or
 * to_day < from_day; -E2BIG when more than max ranges would result
 * (nothing useful is left in out then).
 */
int slot_pattern_expand(const struct slot_pattern *p, struct slot_range *out, size_t max);

/* ---- overlap ---------------------------------------------------------------------- */

/* Index of the first range in sorted (by starts_at, non-overlapping) that
 * overlaps [s, e), or -1. Binary search: O(log n). */
long slot_find_overlap(const struct slot_range *sorted, size_t n, int64_t s, int64_t e);
/* The same over struct slot. */
long slot_find_overlap_slots(const struct slot *sorted, size_t n, int64_t s, int64_t e);
/* True when two ranges of sorted (by starts_at) overlap; *a and *b get
 * the indexes of the first such pair. */
bool slot_ranges_overlap_sorted(const struct slot_range *sorted, size_t n, size_t *a, size_t *b);

/* ---- price (CS-24) ----------------------------------------------------------------- */

/*
 * The fee of [s, e) over the slots covering it: floor(sum over the covered
 * pieces of hourly_price x minutes / 60), computed in seconds (exact for
 * ranges on a minute grid). slots must be sorted by starts_at and
 * non-overlapping. Returns 0 and *price; -ENOENT when the slots do not
 * cover [s, e) contiguously (a gap, or a part outside every slot);
 * -EINVAL when e <= s.
 */
int slot_price_of_range(const struct slot *sorted, size_t n, int64_t s, int64_t e,
                        int64_t *price);

/* ---- reservations, the CS-16 guard, free ranges -------------------------------------- */

/* True for pending, confirmed and checked_in: a reservation that holds its
 * range (CS-14: a pending request occupies it like a confirmed one). */
bool slot_res_active(int status);
const char *slot_res_status_name(int status);
/* -1 for an unknown name. */
int slot_res_status_from_name(const char *s);

/*
 * CS-16: may the slot `old` become `new_r` (same id) with price_changes?
 * Blocking is any active reservation overlapping the part of old that new_r
 * no longer covers, or, when the price changes, any active reservation
 * overlapping old at all. new_r NULL means delete (the whole of old is
 * removed). Returns the index of the first blocking reservation in res, or
 * -1 when the change is allowed.
 */
long slot_change_blocker(const struct slot_range *old, const struct slot_range *new_r,
                         bool price_changes, const struct slot_reservation *res, size_t n);

/* A piece of the calendar: part of a slot, free or taken. */
struct slot_piece {
        int64_t starts_at;
        int64_t ends_at;
        int64_t hourly_price;
        int64_t slot_id;
        bool taken;
};

/*
 * The calendar of [from, to): every slot clipped to the window, cut into
 * free and taken pieces by the active reservations (inactive ones are
 * ignored). Gaps without a slot are not listed. slots sorted by starts_at,
 * non-overlapping; res in any order (n_res <= a few hundred: O(slots x res)).
 * Writes at most max pieces; returns how many there are in total (so a
 * return > max means out was too small).
 */
size_t slot_calendar(const struct slot *slots, size_t n_slots, const struct slot_reservation *res,
                     size_t n_res, int64_t from, int64_t to, struct slot_piece *out, size_t max);

/* True when [s, e) is covered by slots (sorted) and no active reservation
 * overlaps it; *price gets the CS-24 fee when so (may be NULL). */
bool slot_range_free(const struct slot *sorted, size_t n_slots, const struct slot_reservation *res,
                     size_t n_res, int64_t s, int64_t e, int64_t *price);

/* ---- listing state: recruiting (CS-13) and occupancy (CS-25) ------------------------ */

/* What the listing rules need to know about a charger and its host. */
struct slot_listing {
        bool deleted;
        bool delisted;
        bool attached;                  /* QR code attached (CS-11) */
        bool host_publishable;          /* CS-8 */
        bool out_of_service;            /* the charger's own status */
};

/* Listed: visible to other members (not deleted or delisted, QR attached,
 * host publishable). */
bool slot_listed(const struct slot_listing *l);
/* CS-13: listed and at least one slot ends after now. */
bool slot_recruiting(const struct slot_listing *l, bool has_future_slot);

enum slot_occupancy {
        SLOT_OCC_AVAILABLE,
        SLOT_OCC_RESERVED,
        SLOT_OCC_IN_USE,
        SLOT_OCC_OUT_OF_SERVICE,
};

/*
 * CS-25 at now: out_of_service when the charger is not listed or reports
 * itself out of service; in_use when a checked_in reservation covers now;
 * reserved when a pending or confirmed one covers now; else available.
 */
int slot_occupancy(const struct slot_listing *l, const struct slot_reservation *res, size_t n,
                   int64_t now);
const char *slot_occupancy_name(int occ);

#endif
