/*
 * slot.c - slot rules (see slot.h): grid, validation, weekly patterns,
 * overlap, CS-24 price, CS-16 guard, calendar pieces, CS-13 and CS-25.
 */
#include "domain/slot.h"

#include <errno.h>
#include <string.h>

#include "util/timeutil.h"

/* ---- local time ------------------------------------------------------------ */

/*
 * The only place that knows Tokyo's offset. Japan has had no daylight
 * saving time since 1951, so the offset does not depend on utc; the
 * parameter is there so that a zone with transitions could be answered
 * here without touching any caller.
 */
int64_t slot_local_offset(int64_t utc)
{
        (void)utc;
        return TIME_DISPLAY_OFFSET_S;
}

int64_t slot_local_to_utc(int64_t local)
{
        /* Two steps settle on the right offset for any zone whose offset
         * changes rarely (the usual trick; one step suffices for Tokyo). */
        int64_t guess = local - slot_local_offset(local);

        return local - slot_local_offset(guess);
}

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        if ((a % b != 0) && ((a < 0) != (b < 0)))
                q--;
        return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
        return a - floor_div(a, b) * b;
}

int64_t slot_local_day(int64_t utc)
{
        return floor_div(utc + slot_local_offset(utc), 86400);
}

static int two_digits(const char *s, int *out)
{
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -EINVAL;
        *out = (s[0] - '0') * 10 + (s[1] - '0');
        return 0;
}

int slot_parse_date(const char *s, int64_t *day)
{
        int64_t d, y;
        unsigned m2, d2;
        int yy = 0, mm, dd, hi, lo;

        if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        if (two_digits(s, &hi) < 0 || two_digits(s + 2, &lo) < 0 || two_digits(s + 5, &mm) < 0 ||
            two_digits(s + 8, &dd) < 0)
                return -EINVAL;
        yy = hi * 100 + lo;
        if (yy < 1970 || mm < 1 || mm > 12 || dd < 1 || dd > 31)
                return -EINVAL;
        d = time_days_from_civil(yy, (unsigned)mm, (unsigned)dd);
        /* Round trip rejects 2026-02-30 and friends. */
        time_civil_from_days(d, &y, &m2, &d2);
        if (y != yy || (int)m2 != mm || (int)d2 != dd)
                return -EINVAL;
        *day = d;
        return 0;
}

int slot_parse_hhmm(const char *s, bool allow_24, int *minutes)
{
        int h, m;

        if (!s || strlen(s) != 5 || s[2] != ':')
                return -EINVAL;
        if (two_digits(s, &h) < 0 || two_digits(s + 3, &m) < 0)
                return -EINVAL;
        if (allow_24 && h == 24 && m == 0) {
                *minutes = 1440;
                return 0;
        }
        if (h > 23 || m > 59)
                return -EINVAL;
        *minutes = h * 60 + m;
        return 0;
}

int slot_weekday(int64_t day)
{
        /* 1970-01-01 was a Thursday (3 when Monday is 0). */
        return (int)floor_mod(day + 3, 7);
}

int slot_weekday_from_name(const char *s)
{
        static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

        for (int i = 0; s && i < 7; i++)
                if (strcmp(s, names[i]) == 0)
                        return i;
        return -1;
}

/* ---- grid and validation ----------------------------------------------------- */

bool slot_on_grid(int64_t utc, int64_t grid_minutes)
{
        int64_t step = grid_minutes > 0 ? grid_minutes * 60 : 60;

        return floor_mod(utc + slot_local_offset(utc), step) == 0;
}

static void issue(struct slot_issue *out, int *n, const char *field, const char *code,
                  const char *detail)
{
        if (*n >= SLOT_ISSUES_MAX)
                return;
        out[*n].field = field;
        out[*n].code = code;
        out[*n].detail = detail;
        (*n)++;
}

int slot_validate(const struct slot_rules *rules, int64_t starts_at, int64_t ends_at,
                  int64_t hourly_price, int64_t now, struct slot_issue *issues)
{
        int n = 0;

        if (!slot_on_grid(starts_at, rules->grid_minutes))
                issue(issues, &n, "starts_at", "off_grid",
                      "starts_at must lie on the reservation grid.");
        if (!slot_on_grid(ends_at, rules->grid_minutes))
                issue(issues, &n, "ends_at", "off_grid", "ends_at must lie on the reservation grid.");
        if (ends_at <= starts_at)
                issue(issues, &n, "ends_at", "not_after_start", "ends_at must be after starts_at.");
        if (starts_at <= now)
                issue(issues, &n, "starts_at", "in_past", "starts_at must be in the future.");
        if (ends_at > now + rules->horizon_s)
                issue(issues, &n, "ends_at", "beyond_horizon",
                      "ends_at is further ahead than slots may be published.");
        if (hourly_price < 0 || hourly_price > rules->max_hourly_price)
                issue(issues, &n, "hourly_price", "out_of_range",
                      "hourly_price is outside the allowed range.");
        return n;
}

/* ---- weekly patterns ----------------------------------------------------------- */

int slot_pattern_expand(const struct slot_pattern *p, struct slot_range *out, size_t max)
{
        size_t n = 0;

        if (p->end_min <= p->start_min || p->start_min < 0 || p->end_min > 1440 ||
            p->to_day < p->from_day)
                return -EINVAL;
        for (int64_t d = p->from_day; d <= p->to_day; d++) {
                if (!(p->weekdays & (1u << slot_weekday(d))))
                        continue;
                if (n >= max)
                        return -E2BIG;
                out[n].starts_at = slot_local_to_utc(d * 86400 + p->start_min * 60);
                out[n].ends_at = slot_local_to_utc(d * 86400 + p->end_min * 60);
                n++;
        }
        return (int)n;
}

/* ---- overlap ---------------------------------------------------------------------- */

/*
 * In a sorted, non-overlapping list the ends are sorted too, so the first
 * range that could overlap [s, e) is the first whose end is after s; it
 * overlaps when it also starts before e.
 */
#define FIND_OVERLAP(arr, n, s, e)                                        \
        do {                                                              \
                size_t lo = 0, hi = (n);                                  \
                while (lo < hi) {                                         \
                        size_t mid = lo + (hi - lo) / 2;                  \
                        if ((arr)[mid].ends_at <= (s))                    \
                                lo = mid + 1;                             \
                        else                                              \
                                hi = mid;                                 \
                }                                                         \
                if (lo < (n) && (arr)[lo].starts_at < (e))                \
                        return (long)lo;                                  \
                return -1;                                                \
        } while (0)

long slot_find_overlap(const struct slot_range *sorted, size_t n, int64_t s, int64_t e)
{
        FIND_OVERLAP(sorted, n, s, e);
}

long slot_find_overlap_slots(const struct slot *sorted, size_t n, int64_t s, int64_t e)
{
        FIND_OVERLAP(sorted, n, s, e);
}

bool slot_ranges_overlap_sorted(const struct slot_range *sorted, size_t n, size_t *a, size_t *b)
{
        int64_t max_end = 0;
        size_t max_i = 0;

        for (size_t i = 0; i < n; i++) {
                if (i > 0 && sorted[i].starts_at < max_end) {
                        *a = max_i;
                        *b = i;
                        return true;
                }
                if (i == 0 || sorted[i].ends_at > max_end) {
                        max_end = sorted[i].ends_at;
                        max_i = i;
                }
        }
        return false;
}

/* ---- price (CS-24) ----------------------------------------------------------------- */

int slot_price_of_range(const struct slot *sorted, size_t n, int64_t s, int64_t e,
                        int64_t *price)
{
        long i = slot_find_overlap_slots(sorted, n, s, e);
        int64_t at = s, sum = 0;        /* yen x seconds */

        if (e <= s)
                return -EINVAL;
        if (i < 0)
                return -ENOENT;
        /* Walk the slots from the one holding s; each must start exactly
         * where the covered part ends (contiguity). */
        for (size_t k = (size_t)i; k < n && at < e; k++) {
                int64_t piece_end;

                if (sorted[k].starts_at > at)
                        return -ENOENT;         /* a gap */
                piece_end = sorted[k].ends_at < e ? sorted[k].ends_at : e;
                sum += sorted[k].hourly_price * (piece_end - at);
                at = piece_end;
        }
        if (at < e)
                return -ENOENT;
        *price = sum / 3600;    /* floor: sum >= 0 */
        return 0;
}

/* ---- reservations ------------------------------------------------------------------ */

static const char *const res_names[] = {
        [SLOT_RES_PENDING] = "pending",
        [SLOT_RES_CONFIRMED] = "confirmed",
        [SLOT_RES_CHECKED_IN] = "checked_in",
        [SLOT_RES_COMPLETED] = "completed",
        [SLOT_RES_CANCELLED] = "cancelled",
        [SLOT_RES_REJECTED] = "rejected",
        [SLOT_RES_EXPIRED] = "expired",
};

bool slot_res_active(int status)
{
        return status == SLOT_RES_PENDING || status == SLOT_RES_CONFIRMED ||
               status == SLOT_RES_CHECKED_IN;
}

const char *slot_res_status_name(int status)
{
        if (status < 0 || status > SLOT_RES_EXPIRED)
                return "unknown";
        return res_names[status];
}

int slot_res_status_from_name(const char *s)
{
        for (int i = 0; s && i <= SLOT_RES_EXPIRED; i++)
                if (strcmp(s, res_names[i]) == 0)
                        return i;
        return -1;
}

static bool overlaps(int64_t s1, int64_t e1, int64_t s2, int64_t e2)
{
        return s1 < e2 && s2 < e1;
}

long slot_change_blocker(const struct slot_range *old, const struct slot_range *new_r,
                         bool price_changes, const struct slot_reservation *res, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const struct slot_reservation *r = &res[i];

                if (!slot_res_active(r->status))
                        continue;
                if (!overlaps(r->starts_at, r->ends_at, old->starts_at, old->ends_at))
                        continue;
                if (!new_r || price_changes)
                        return (long)i;
                /* The removed parts: [old.s, new.s) and [new.e, old.e), each
                 * clipped to old (the new range may also grow). */
                if (new_r->starts_at > old->starts_at &&
                    overlaps(r->starts_at, r->ends_at, old->starts_at,
                             new_r->starts_at < old->ends_at ? new_r->starts_at : old->ends_at))
                        return (long)i;
                if (new_r->ends_at < old->ends_at &&
                    overlaps(r->starts_at, r->ends_at,
                             new_r->ends_at > old->starts_at ? new_r->ends_at : old->starts_at,
                             old->ends_at))
                        return (long)i;
        }
        return -1;
}

/* ---- calendar ---------------------------------------------------------------------- */

static void piece(struct slot_piece *out, size_t max, size_t *n, const struct slot *sl,
                  int64_t s, int64_t e, bool taken)
{
        if (e <= s)
                return;
        /* Merge with the previous piece of the same slot and state. */
        if (*n > 0 && *n <= max) {
                struct slot_piece *prev = &out[*n - 1];

                if (prev->slot_id == sl->id && prev->taken == taken && prev->ends_at == s) {
                        prev->ends_at = e;
                        return;
                }
        }
        if (*n < max) {
                out[*n].starts_at = s;
                out[*n].ends_at = e;
                out[*n].hourly_price = sl->hourly_price;
                out[*n].slot_id = sl->id;
                out[*n].taken = taken;
        }
        (*n)++;
}

size_t slot_calendar(const struct slot *slots, size_t n_slots, const struct slot_reservation *res,
                     size_t n_res, int64_t from, int64_t to, struct slot_piece *out, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < n_slots; i++) {
                int64_t s = slots[i].starts_at > from ? slots[i].starts_at : from;
                int64_t e = slots[i].ends_at < to ? slots[i].ends_at : to;
                int64_t at = s;

                if (e <= s)
                        continue;
                /* Sweep from s to e: at each step, the earliest active
                 * reservation that overlaps [at, e) cuts a taken piece. */
                while (at < e) {
                        int64_t best_s = e, best_e = e;

                        for (size_t k = 0; k < n_res; k++) {
                                const struct slot_reservation *r = &res[k];
                                int64_t rs;

                                if (!slot_res_active(r->status) ||
                                    !overlaps(r->starts_at, r->ends_at, at, e))
                                        continue;
                                rs = r->starts_at > at ? r->starts_at : at;
                                if (rs < best_s || (rs == best_s && r->ends_at > best_e)) {
                                        best_s = rs;
                                        best_e = r->ends_at < e ? r->ends_at : e;
                                }
                        }
                        piece(out, max, &n, &slots[i], at, best_s, false);
                        if (best_s >= e)
                                break;
                        piece(out, max, &n, &slots[i], best_s, best_e, true);
                        at = best_e;
                }
        }
        return n;
}

bool slot_range_free(const struct slot *sorted, size_t n_slots, const struct slot_reservation *res,
                     size_t n_res, int64_t s, int64_t e, int64_t *price)
{
        int64_t p;

        if (slot_price_of_range(sorted, n_slots, s, e, &p) < 0)
                return false;
        for (size_t i = 0; i < n_res; i++)
                if (slot_res_active(res[i].status) &&
                    overlaps(res[i].starts_at, res[i].ends_at, s, e))
                        return false;
        if (price)
                *price = p;
        return true;
}

/* ---- listing state ------------------------------------------------------------------ */

bool slot_listed(const struct slot_listing *l)
{
        return !l->deleted && !l->delisted && l->attached && l->host_publishable;
}

bool slot_recruiting(const struct slot_listing *l, bool has_future_slot)
{
        return slot_listed(l) && has_future_slot;
}

int slot_occupancy(const struct slot_listing *l, const struct slot_reservation *res, size_t n,
                   int64_t now)
{
        int occ = SLOT_OCC_AVAILABLE;

        if (!slot_listed(l) || l->out_of_service)
                return SLOT_OCC_OUT_OF_SERVICE;
        for (size_t i = 0; i < n; i++) {
                if (!(res[i].starts_at <= now && now < res[i].ends_at))
                        continue;
                if (res[i].status == SLOT_RES_CHECKED_IN)
                        return SLOT_OCC_IN_USE;
                if (res[i].status == SLOT_RES_PENDING || res[i].status == SLOT_RES_CONFIRMED)
                        occ = SLOT_OCC_RESERVED;
        }
        return occ;
}

const char *slot_occupancy_name(int occ)
{
        switch (occ) {
        case SLOT_OCC_AVAILABLE:
                return "available";
        case SLOT_OCC_RESERVED:
                return "reserved";
        case SLOT_OCC_IN_USE:
                return "in_use";
        default:
                return "out_of_service";
        }
}
