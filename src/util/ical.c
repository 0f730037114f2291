/*
 * ical.c - a small iCalendar (RFC 5545) writer for the hosts' booking feeds
 * (see ical.h): content lines, TEXT escaping, UTC DATE-TIME values and the
 * 75-octet line folding.
 */
#include "util/ical.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/*
 * RFC 5545 3.1: "Lines of text SHOULD NOT be longer than 75 octets,
 * excluding the line break." We treat the SHOULD as a MUST: no physical line
 * we write is longer than this, continuation lines included (their leading
 * space counts as one of the 75 octets).
 */
#define ICAL_LINE_MAX 75

/* "20261122T010000Z" plus the NUL. */
#define ICAL_DATETIME_LEN 17

/*
 * DATE-TIME years have exactly four digits, so the instants we can write
 * run from 1970-01-01T00:00:00Z (we take no instants before the epoch:
 * nothing in enemane is older) to 9999-12-31T23:59:59Z.
 */
#define ICAL_TIME_MIN INT64_C(0)
#define ICAL_TIME_MAX INT64_C(253402300799)

/*
 * A content line being written. Everything a property needs (name, ':',
 * value) goes through ical_put() in indivisible units, and ical_put() folds
 * before a unit that would not fit on the current physical line. The first
 * error sticks in err and turns every later call into a no-op, so callers
 * check once at the end (the jsonw pattern).
 */
struct ical_line {
        struct buf *b;
        size_t col;     /* octets on the current physical line, 0..75 */
        int err;
};

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid
 * (overlong forms, UTF-16 surrogates, above U+10FFFF, truncated). s is
 * NUL-terminated, and the || chains stop at the first non-continuation
 * byte, so nothing past the NUL is read. */
static size_t ical_utf8_len(const unsigned char *s)
{
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
                        return 0;
                return 3;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                        return 0;
                return 4;
        }
        return 0;
}

static void ical_append(struct ical_line *l, const char *p, size_t n)
{
        int r;

        if (l->err)
                return;
        r = buf_append(l->b, p, n);
        if (r < 0)
                l->err = r;
}

/*
 * Appends one unit of n octets (1..4) to the content line, folding first
 * when it would not fit.
 *
 * A unit is what must never be split across a fold: one whole UTF-8
 * character (so a 3-byte Japanese character that would straddle octet 75
 * moves to the next line instead, leaving the current line at 73 or 74
 * octets), or one two-octet TEXT escape such as "\n" (RFC 5545 allows a
 * fold inside an escape, since unfolding removes only CRLF + space, but
 * lenient parsers do not all cope, and keeping it whole costs nothing).
 *
 * Folding is CRLF followed by a single space (RFC 5545 3.1). The space
 * belongs to the new physical line, so the column restarts at 1 and a
 * continuation line carries at most 74 octets of content. Since a unit is
 * at most 4 octets, it always fits after a fold, and we never fold before
 * the first unit of a line (col 0), so no physical line is ever empty and
 * the folding always makes progress.
 */
static void ical_put(struct ical_line *l, const char *p, size_t n)
{
        if (l->col > 0 && l->col + n > ICAL_LINE_MAX) {
                ical_append(l, "\r\n ", 3);
                l->col = 1;
        }
        ical_append(l, p, n);
        l->col += n;
}

/* ASCII octets that need no escaping (property names, fixed values,
 * DATE-TIME text), one unit each. */
static void ical_put_ascii(struct ical_line *l, const char *s)
{
        for (; *s; s++)
                ical_put(l, s, 1);
}

/*
 * A TEXT value (RFC 5545 3.3.11), escaped:
 *   backslash -> \\    ';' -> \;    ',' -> \,
 *   LF or CRLF -> \n (a lone CR is a control character like the others)
 *   other CONTROL characters (%x00-08, %x0A-1F, %x7F) are dropped; HTAB
 *   is allowed in TEXT and kept. ':' and '"' are allowed as they are.
 * Bytes that are not valid UTF-8 make the whole call fail with -EILSEQ
 * (the same rule as the JSON writer): iCalendar's charset is UTF-8, and
 * a feed that calendar apps reject is worse than an error.
 */
static void ical_put_text(struct ical_line *l, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p && !l->err) {
                size_t n;

                if (*p == '\\' || *p == ';' || *p == ',') {
                        char esc[2] = { '\\', (char)*p };

                        ical_put(l, esc, 2);
                        p++;
                        continue;
                }
                if (*p == '\r' && p[1] == '\n') {
                        ical_put(l, "\\n", 2);
                        p += 2;
                        continue;
                }
                if (*p == '\n') {
                        ical_put(l, "\\n", 2);
                        p++;
                        continue;
                }
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
                        p++;
                        continue;
                }
                n = ical_utf8_len(p);
                if (n == 0) {
                        l->err = -EILSEQ;
                        return;
                }
                ical_put(l, (const char *)p, n);
                p += n;
        }
}

/* Ends the content line: CRLF, and the next line starts at column 0. */
static void ical_end_line(struct ical_line *l)
{
        ical_append(l, "\r\n", 2);
        l->col = 0;
}

/* NAME:value with a value that needs no escaping. */
static void ical_prop_ascii(struct ical_line *l, const char *name, const char *value)
{
        ical_put_ascii(l, name);
        ical_put(l, ":", 1);
        ical_put_ascii(l, value);
        ical_end_line(l);
}

/* NAME:value with a TEXT value. */
static void ical_prop_text(struct ical_line *l, const char *name, const char *value)
{
        ical_put_ascii(l, name);
        ical_put(l, ":", 1);
        ical_put_text(l, value);
        ical_end_line(l);
}

/* "20261122T010000Z": DATE-TIME in UTC form (RFC 5545 3.3.5, form #2).
 * 0 or -EINVAL outside 1970..9999. */
static int ical_format_utc(int64_t unix_s, char out[ICAL_DATETIME_LEN])
{
        time_t t;
        struct tm tm;

        if (unix_s < ICAL_TIME_MIN || unix_s > ICAL_TIME_MAX)
                return -EINVAL;
        t = (time_t)unix_s;
        if (!gmtime_r(&t, &tm))
                return -EINVAL;
        if (strftime(out, ICAL_DATETIME_LEN, "%Y%m%dT%H%M%SZ", &tm) != ICAL_DATETIME_LEN - 1)
                return -EINVAL;
        return 0;
}

static bool ical_status_valid(const char *status)
{
        return strcmp(status, "CONFIRMED") == 0 ||
               strcmp(status, "TENTATIVE") == 0 ||
               strcmp(status, "CANCELLED") == 0;
}

/* Drops whatever a failed call appended, so the buf holds only whole
 * components (a calendar cut off mid-event is never handed out). */
static int ical_finish(struct ical_line *l, size_t start)
{
        if (!l->err)
                return 0;
        l->b->len = start;
        if (l->b->data)
                l->b->data[start] = '\0';
        return l->err;
}

int ical_begin(struct buf *b, const char *prodid, const char *name)
{
        struct ical_line l = { .b = b };
        size_t start;

        if (!b || !prodid || !name)
                return -EINVAL;
        start = b->len;
        ical_prop_ascii(&l, "BEGIN", "VCALENDAR");
        ical_prop_ascii(&l, "VERSION", "2.0");
        ical_prop_text(&l, "PRODID", prodid);
        ical_prop_ascii(&l, "CALSCALE", "GREGORIAN");
        ical_prop_ascii(&l, "METHOD", "PUBLISH");
        ical_prop_text(&l, "X-WR-CALNAME", name);
        return ical_finish(&l, start);
}

int ical_event(struct buf *b, const struct ical_event *e)
{
        struct ical_line l = { .b = b };
        char stamp[ICAL_DATETIME_LEN], dtstart[ICAL_DATETIME_LEN], dtend[ICAL_DATETIME_LEN];
        size_t start;
        int r;

        /* Everything is checked before the first octet is written. */
        if (!b || !e || !e->uid || !e->uid[0] || !e->summary)
                return -EINVAL;
        if (e->dtend <= e->dtstart)
                return -EINVAL;
        if (e->status && !ical_status_valid(e->status))
                return -EINVAL;
        r = ical_format_utc(e->dtstamp, stamp);
        if (r < 0)
                return r;
        r = ical_format_utc(e->dtstart, dtstart);
        if (r < 0)
                return r;
        r = ical_format_utc(e->dtend, dtend);
        if (r < 0)
                return r;

        start = b->len;
        ical_prop_ascii(&l, "BEGIN", "VEVENT");
        ical_prop_text(&l, "UID", e->uid);
        ical_prop_ascii(&l, "DTSTAMP", stamp);
        ical_prop_ascii(&l, "DTSTART", dtstart);
        ical_prop_ascii(&l, "DTEND", dtend);
        ical_prop_text(&l, "SUMMARY", e->summary);
        if (e->description)
                ical_prop_text(&l, "DESCRIPTION", e->description);
        if (e->location)
                ical_prop_text(&l, "LOCATION", e->location);
        if (e->status)
                ical_prop_ascii(&l, "STATUS", e->status);
        ical_prop_ascii(&l, "END", "VEVENT");
        return ical_finish(&l, start);
}

int ical_end(struct buf *b)
{
        struct ical_line l = { .b = b };
        size_t start;

        if (!b)
                return -EINVAL;
        start = b->len;
        ical_prop_ascii(&l, "END", "VCALENDAR");
        return ical_finish(&l, start);
}
