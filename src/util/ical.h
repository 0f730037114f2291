/*
 * ical.h - a small iCalendar (RFC 5545) writer for the hosts' booking
 * feeds: VCALENDAR with VEVENTs, CRLF line ends, lines folded at 75
 * octets (never inside a UTF-8 sequence), TEXT values escaped
 * (backslash, semicolon, comma, newline), DATE-TIME values in UTC
 * ("20261122T010000Z").
 */
#ifndef ENEMANE_UTIL_ICAL_H
#define ENEMANE_UTIL_ICAL_H

#include <stdint.h>

#include "util/buf.h"

struct ical_event {
        const char *uid;                /* globally unique, e.g. "reservation-12@enemane" */
        int64_t dtstamp;                /* unix seconds: when the item last changed */
        int64_t dtstart;                /* unix seconds */
        int64_t dtend;
        const char *summary;            /* TEXT, may be UTF-8 Japanese */
        const char *description;        /* TEXT or NULL */
        const char *location;           /* TEXT or NULL */
        const char *status;             /* "CONFIRMED", "TENTATIVE", "CANCELLED" or NULL */
};

/*
 * Errors of all three: -EINVAL for a NULL argument, -EILSEQ for TEXT that
 * is not valid UTF-8, or the buf's own -ENOMEM / -E2BIG (cap reached). On
 * any error b is left exactly as it was (no half-written component).
 */

/* BEGIN:VCALENDAR, VERSION, PRODID, CALSCALE, METHOD:PUBLISH, X-WR-CALNAME
 * (prodid and name escaped as TEXT). 0 or a negative errno. */
int ical_begin(struct buf *b, const char *prodid, const char *name);
/* One VEVENT. -EINVAL for NULL/empty uid, NULL summary, dtend <= dtstart,
 * a status other than the three above, or a time outside 1970..9999. */
int ical_event(struct buf *b, const struct ical_event *e);
/* END:VCALENDAR. */
int ical_end(struct buf *b);

#endif
