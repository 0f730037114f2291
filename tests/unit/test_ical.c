/*
 * test_ical.c - the iCalendar writer: exact output, TEXT escaping, UTC
 * DATE-TIME values, 75-octet folding (never inside a UTF-8 character),
 * argument validation and buf caps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/ical.h"

/* 2026-11-20T08:15:07Z, 2026-11-22T01:00:00Z, 2026-11-22T03:30:00Z */
#define T_STAMP INT64_C(1795162507)
#define T_START INT64_C(1795309200)
#define T_END   INT64_C(1795318200)

/* ---- helpers ---------------------------------------------------------- */

/* A plain event the tests then modify. */
static struct ical_event base_event(void)
{
        struct ical_event e = {
                .uid = "reservation-12@enemane",
                .dtstamp = T_STAMP,
                .dtstart = T_START,
                .dtend = T_END,
                .summary = "charge",
        };

        return e;
}

/* Decodes one UTF-8 character at s (at most n octets) independently of the
 * writer's own check: returns its length, or 0 when it is not valid
 * (truncated, overlong, surrogate, above U+10FFFF). */
static size_t test_utf8_char(const unsigned char *s, size_t n)
{
        uint32_t cp;
        size_t len, i;

        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xe0) == 0xc0) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if ((s[0] & 0xf0) == 0xe0) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if ((s[0] & 0xf8) == 0xf0) {
                len = 4;
                cp = s[0] & 0x07;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
                return 0;
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

static bool test_utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;

        while (i < n) {
                size_t len = test_utf8_char(p + i, n - i);

                if (len == 0)
                        return false;
                i += len;
        }
        return true;
}

/*
 * Checks the physical lines of writer output: every line ends in CRLF
 * (no bare CR or LF anywhere else), is at most 75 octets without the CRLF,
 * is not empty, and is valid UTF-8 on its own (so no fold split a
 * character). Returns the number of physical lines.
 */
static size_t check_physical_lines(const char *s, size_t len)
{
        size_t i = 0, lines = 0;

        assert_true(len >= 2);
        assert_memory_equal(s + len - 2, "\r\n", 2);
        while (i < len) {
                const char *crlf = strstr(s + i, "\r\n");
                size_t n;

                assert_non_null(crlf);
                n = (size_t)(crlf - (s + i));
                assert_null(memchr(s + i, '\r', n));
                assert_null(memchr(s + i, '\n', n));
                assert_true(n >= 1);
                if (n > 75)
                        fail_msg("physical line %zu is %zu octets: %.*s", lines, n, (int)n, s + i);
                if (!test_utf8_valid(s + i, n))
                        fail_msg("physical line %zu is not valid UTF-8: %.*s", lines, (int)n, s + i);
                i += n + 2;
                lines++;
        }
        return lines;
}

/* The output with every fold (CRLF followed by a space) removed, as an
 * RFC 5545 parser unfolds it. Caller frees. */
static char *unfold(const char *s)
{
        char *out = malloc(strlen(s) + 1);
        size_t o = 0;

        assert_non_null(out);
        while (*s) {
                if (s[0] == '\r' && s[1] == '\n' && s[2] == ' ') {
                        s += 3;
                        continue;
                }
                out[o++] = *s++;
        }
        out[o] = '\0';
        return out;
}

/* The unfolded logical line starting with prefix (without its CRLF), or
 * NULL when there is none. Caller frees. */
static char *logical_line(const char *output, const char *prefix)
{
        char *u = unfold(output);
        char *p = u, *line = NULL;

        while (*p) {
                char *end = strstr(p, "\r\n");

                assert_non_null(end);
                if (strncmp(p, prefix, strlen(prefix)) == 0) {
                        line = strndup(p, (size_t)(end - p));
                        break;
                }
                p = end + 2;
        }
        free(u);
        return line;
}

/* Writes a single event with the given summary and returns the output,
 * checked physical line by physical line. Caller frees. */
static char *event_with_summary(const char *summary)
{
        struct ical_event e = base_event();
        struct buf b;

        e.summary = summary;
        buf_init(&b, 0);
        assert_int_equal(ical_event(&b, &e), 0);
        check_physical_lines(b.data, b.len);
        return buf_steal(&b, NULL);
}

/* Asserts the SUMMARY content line unfolds to exactly "SUMMARY:" + want. */
static void assert_summary_unfolds_to(const char *output, const char *want)
{
        char *line = logical_line(output, "SUMMARY:");

        assert_non_null(line);
        assert_string_equal(line + strlen("SUMMARY:"), want);
        free(line);
}

/* The physical lines of output that make up the SUMMARY content line:
 * returns how many there are and stores their lengths (without CRLF). */
static size_t summary_physical_lines(const char *output, size_t *lens, size_t max)
{
        const char *p = strstr(output, "\r\nSUMMARY:");
        size_t n = 0;

        assert_non_null(p);
        p += 2;
        do {
                const char *end = strstr(p, "\r\n");

                assert_non_null(end);
                assert_true(n < max);
                lens[n++] = (size_t)(end - p);
                p = end + 2;
        } while (*p == ' ');
        return n;
}

/* ---- exact output ----------------------------------------------------- */

static void test_ical_calendar_exact(void **state)
{
        struct ical_event e = {
                .uid = "reservation-12@enemane",
                .dtstamp = T_STAMP,
                .dtstart = T_START,
                .dtend = T_END,
                .summary = "充電予約: 田中",
                .description = "Plug B; bring card, please",
                .location = "Tokyo, Minato-ku 1-2-3",
                .status = "CONFIRMED",
        };
        const char *want =
                "BEGIN:VCALENDAR\r\n"
                "VERSION:2.0\r\n"
                "PRODID:-//enemane//booking feed//JA\r\n"
                "CALSCALE:GREGORIAN\r\n"
                "METHOD:PUBLISH\r\n"
                "X-WR-CALNAME:enemane 予約\\, 田中\r\n"
                "BEGIN:VEVENT\r\n"
                "UID:reservation-12@enemane\r\n"
                "DTSTAMP:20261120T081507Z\r\n"
                "DTSTART:20261122T010000Z\r\n"
                "DTEND:20261122T033000Z\r\n"
                "SUMMARY:充電予約: 田中\r\n"
                "DESCRIPTION:Plug B\\; bring card\\, please\r\n"
                "LOCATION:Tokyo\\, Minato-ku 1-2-3\r\n"
                "STATUS:CONFIRMED\r\n"
                "END:VEVENT\r\n"
                "END:VCALENDAR\r\n";
        struct buf b;

        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//enemane//booking feed//JA", "enemane 予約, 田中"), 0);
        assert_int_equal(ical_event(&b, &e), 0);
        assert_int_equal(ical_end(&b), 0);
        assert_string_equal(b.data, want);
        assert_int_equal(b.len, strlen(want));
        buf_free(&b);
}

static void test_ical_optional_fields_omitted(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        e.summary = "";
        buf_init(&b, 0);
        assert_int_equal(ical_event(&b, &e), 0);
        assert_string_equal(b.data,
                "BEGIN:VEVENT\r\n"
                "UID:reservation-12@enemane\r\n"
                "DTSTAMP:20261120T081507Z\r\n"
                "DTSTART:20261122T010000Z\r\n"
                "DTEND:20261122T033000Z\r\n"
                "SUMMARY:\r\n"
                "END:VEVENT\r\n");
        buf_free(&b);
}

static void test_ical_two_events_in_order(void **state)
{
        struct ical_event e1 = base_event(), e2 = base_event();
        struct buf b;
        const char *first, *second;

        e2.uid = "reservation-13@enemane";
        e2.status = "CANCELLED";
        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//enemane//JA", "feed"), 0);
        assert_int_equal(ical_event(&b, &e1), 0);
        assert_int_equal(ical_event(&b, &e2), 0);
        assert_int_equal(ical_end(&b), 0);
        check_physical_lines(b.data, b.len);
        first = strstr(b.data, "UID:reservation-12@enemane\r\n");
        second = strstr(b.data, "UID:reservation-13@enemane\r\n");
        assert_non_null(first);
        assert_non_null(second);
        assert_true(first < second);
        assert_non_null(strstr(second, "STATUS:CANCELLED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"));
        buf_free(&b);
}

/* ---- TEXT escaping ---------------------------------------------------- */

static void test_ical_escape_every_special(void **state)
{
        static const struct {
                const char *in;
                const char *out;
        } cases[] = {
                { "back\\slash", "back\\\\slash" },
                { "semi;colon", "semi\\;colon" },
                { "com,ma", "com\\,ma" },
                { "line\nfeed", "line\\nfeed" },
                { "crlf\r\nend", "crlf\\nend" },
                { "\n\n", "\\n\\n" },
                { "\r\r\n", "\\n" },                    /* lone CR dropped, CRLF kept */
                { "lone\rcr", "lonecr" },
                { "\\n", "\\\\n" },                     /* a literal backslash-n */
                { "a\x01" "b\x1f" "c\x7f" "d", "abcd" },/* controls dropped */
                { "tab\there", "tab\there" },           /* HTAB is allowed */
                { "at 10:00 \"B\"", "at 10:00 \"B\"" }, /* ':' and '"' as is */
                { ";,\\", "\\;\\,\\\\" },
                { "予約;確定,済み\n", "予約\\;確定\\,済み\\n" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = event_with_summary(cases[i].in);

                assert_summary_unfolds_to(out, cases[i].out);
                free(out);
        }
}

static void test_ical_escape_in_every_text_property(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        e.uid = "r,1;x@enemane";
        e.description = "a;b";
        e.location = "c,d";
        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//a,b;c//JA", "x\ny"), 0);
        assert_int_equal(ical_event(&b, &e), 0);
        assert_non_null(strstr(b.data, "\r\nPRODID:-//a\\,b\\;c//JA\r\n"));
        assert_non_null(strstr(b.data, "\r\nX-WR-CALNAME:x\\ny\r\n"));
        assert_non_null(strstr(b.data, "\r\nUID:r\\,1\\;x@enemane\r\n"));
        assert_non_null(strstr(b.data, "\r\nDESCRIPTION:a\\;b\r\n"));
        assert_non_null(strstr(b.data, "\r\nLOCATION:c\\,d\r\n"));
        buf_free(&b);
}

/* A newline in user text must not start a new content line. */
static void test_ical_newline_cannot_inject_property(void **state)
{
        char *out = event_with_summary("x\r\nEND:VEVENT\r\nX-EVIL:1\nBEGIN:VALARM");
        char *evil;

        assert_summary_unfolds_to(out, "x\\nEND:VEVENT\\nX-EVIL:1\\nBEGIN:VALARM");
        evil = logical_line(out, "X-EVIL");
        assert_null(evil);
        assert_null(logical_line(out, "BEGIN:VALARM"));
        free(out);
}

static void test_ical_invalid_utf8_refused(void **state)
{
        static const char *bad[] = {
                "\xff",
                "ok\xe4\xba",           /* truncated 3-byte sequence */
                "\xc0\xaf",             /* overlong '/' */
                "\xed\xa0\x80",         /* UTF-16 surrogate */
                "\xf4\x90\x80\x80",     /* above U+10FFFF */
                "\x80",                 /* stray continuation byte */
        };
        struct ical_event e = base_event();
        struct buf b;

        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//enemane//JA", "feed"), 0);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                size_t before = b.len;

                e.summary = bad[i];
                assert_int_equal(ical_event(&b, &e), -EILSEQ);
                assert_int_equal(b.len, before);
                assert_int_equal(strlen(b.data), before);
        }
        e.summary = "ok";
        e.location = "\xe4\xba";
        assert_int_equal(ical_event(&b, &e), -EILSEQ);
        assert_int_equal(ical_begin(&b, "-//x//JA", "\xfe"), -EILSEQ);
        assert_true(strstr(b.data, "VEVENT") == NULL);
        buf_free(&b);
}

/* ---- DATE-TIME -------------------------------------------------------- */

static void test_ical_datetime_utc_form(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        e.dtstamp = INT64_C(253402300799);      /* last second of year 9999 */
        e.dtstart = 0;
        e.dtend = INT64_C(1835481599);          /* 2028-02-29T23:59:59Z */
        buf_init(&b, 0);
        assert_int_equal(ical_event(&b, &e), 0);
        assert_non_null(strstr(b.data, "\r\nDTSTAMP:99991231T235959Z\r\n"));
        assert_non_null(strstr(b.data, "\r\nDTSTART:19700101T000000Z\r\n"));
        assert_non_null(strstr(b.data, "\r\nDTEND:20280229T235959Z\r\n"));
        buf_free(&b);
}

static void test_ical_datetime_out_of_range_refused(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        buf_init(&b, 0);
        e.dtstart = -1;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e = base_event();
        e.dtend = INT64_C(253402300800);        /* year 10000 */
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e = base_event();
        e.dtstamp = INT64_MIN;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e = base_event();
        e.dtend = INT64_MAX;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        assert_int_equal(b.len, 0);
        buf_free(&b);
}

/* ---- folding ---------------------------------------------------------- */

static char *repeat(const char *unit, size_t times)
{
        size_t n = strlen(unit);
        char *s = malloc(n * times + 1);

        assert_non_null(s);
        for (size_t i = 0; i < times; i++)
                memcpy(s + i * n, unit, n);
        s[n * times] = '\0';
        return s;
}

/* "SUMMARY:" is 8 octets, so 67 more make a content line of exactly 75:
 * not folded. One more octet folds, and the continuation line is the
 * single space plus that octet. */
static void test_ical_fold_exactly_75(void **state)
{
        char *s75 = repeat("a", 67), *s76 = repeat("a", 68);
        char *out, *want;
        size_t lens[8];

        out = event_with_summary(s75);
        assert_int_equal(asprintf(&want, "\r\nSUMMARY:%s\r\nEND:VEVENT\r\n", s75), (int)(10 + 67 + 14));
        assert_non_null(strstr(out, want));
        assert_int_equal(summary_physical_lines(out, lens, 8), 1);
        assert_int_equal(lens[0], 75);
        free(want);
        free(out);

        out = event_with_summary(s76);
        assert_true(asprintf(&want, "\r\nSUMMARY:%s\r\n a\r\nEND:VEVENT\r\n", s75) > 0);
        assert_non_null(strstr(out, want));
        assert_summary_unfolds_to(out, s76);
        free(want);
        free(out);
        free(s75);
        free(s76);
}

/* ASCII content lines of every length from 9 to 400 octets: the first
 * physical line takes 75 octets, each continuation a space and 74 more,
 * and unfolding gives the content line back. */
static void test_ical_fold_long_ascii_lines(void **state)
{
        char text[400];

        for (size_t i = 0; i < sizeof(text) - 1; i++)
                text[i] = (char)('a' + i % 26);
        for (size_t k = 1; k < sizeof(text); k++) {
                size_t logical = 8 + k, lens[16], n, want_n;
                char saved = text[k];
                char *out;

                text[k] = '\0';
                out = event_with_summary(text);
                n = summary_physical_lines(out, lens, 16);
                want_n = logical <= 75 ? 1 : 1 + (logical - 75 + 73) / 74;
                assert_int_equal(n, want_n);
                for (size_t i = 0; i + 1 < n; i++)
                        assert_int_equal(lens[i], 75);
                assert_summary_unfolds_to(out, text);
                free(out);
                text[k] = saved;
        }
}

/*
 * Japanese summaries: every character is 3 octets. After "SUMMARY:" (8)
 * and p ASCII octets, 67 - p octets are left on the first line:
 *   p = 0: 22 characters take 66, the 23rd would straddle octet 75 -> 74
 *   p = 1: 22 characters fit exactly                                -> 75
 *   p = 2: 21 characters take 63, the 22nd would straddle 74..76    -> 73
 * A continuation line holds 74 octets after its space: 24 characters (72)
 * and the 25th would straddle, so it is 73 octets long.
 */
static void test_ical_fold_utf8_boundary(void **state)
{
        static const size_t first_len[3] = { 74, 75, 73 };
        char *kana = repeat("充電スポット予約確定", 8);       /* 80 characters */

        for (size_t p = 0; p < 3; p++) {
                char *summary, *out;
                size_t lens[16], n;

                assert_true(asprintf(&summary, "%.*s%s", (int)p, "xy", kana) > 0);
                out = event_with_summary(summary);      /* checks UTF-8 per line */
                n = summary_physical_lines(out, lens, 16);
                assert_true(n >= 3);
                assert_int_equal(lens[0], first_len[p]);
                for (size_t i = 1; i + 1 < n; i++)
                        assert_int_equal(lens[i], 73);
                assert_summary_unfolds_to(out, summary);
                free(summary);
                free(out);
        }
        free(kana);
}

/* Mixed widths (1-, 2-, 3- and 4-octet characters) at every alignment:
 * no physical line may end or start inside a character. */
static void test_ical_fold_mixed_utf8_every_offset(void **state)
{
        char *mix = repeat("é予🔌a", 40);

        for (size_t p = 0; p < 8; p++) {
                char *summary, *out;

                assert_true(asprintf(&summary, "%.*s%s", (int)p, "01234567", mix) > 0);
                out = event_with_summary(summary);
                assert_summary_unfolds_to(out, summary);
                free(summary);
                free(out);
        }
        free(mix);
}

/* A two-octet escape is kept whole: 66 'a' bring the line to 74 octets,
 * and "\;" goes to the next line instead of being split. */
static void test_ical_fold_keeps_escape_whole(void **state)
{
        char *a66 = repeat("a", 66), *summary, *out, *want;

        assert_true(asprintf(&summary, "%s;b", a66) > 0);
        out = event_with_summary(summary);
        assert_true(asprintf(&want, "\r\nSUMMARY:%s\r\n \\;b\r\n", a66) > 0);
        assert_non_null(strstr(out, want));
        free(want);
        free(summary);
        free(out);
        free(a66);
}

/* Folding applies to every TEXT property, X-WR-CALNAME included. */
static void test_ical_fold_long_calname_and_description(void **state)
{
        char *name = repeat("ホスト", 40), *desc = repeat("abc; ", 60);
        struct ical_event e = base_event();
        struct buf b;
        char *line, *want;

        e.description = desc;
        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//enemane//JA", name), 0);
        assert_int_equal(ical_event(&b, &e), 0);
        assert_int_equal(ical_end(&b), 0);
        assert_true(check_physical_lines(b.data, b.len) > 17);
        line = logical_line(b.data, "X-WR-CALNAME:");
        assert_non_null(line);
        assert_string_equal(line + strlen("X-WR-CALNAME:"), name);
        free(line);
        line = logical_line(b.data, "DESCRIPTION:");
        assert_non_null(line);
        want = repeat("abc\\; ", 60);
        assert_string_equal(line + strlen("DESCRIPTION:"), want);
        free(want);
        free(line);
        buf_free(&b);
        free(name);
        free(desc);
}

/* ---- validation ------------------------------------------------------- */

static void test_ical_status_validation(void **state)
{
        static const char *good[] = { "CONFIRMED", "TENTATIVE", "CANCELLED" };
        static const char *bad[] = {
                "confirmed", "Cancelled", "DONE", "", "CONFIRMED ",
                "CONFIRMED\r\nX-EVIL:1", "CANCELED",
        };
        struct ical_event e = base_event();
        struct buf b;
        char want[64];

        buf_init(&b, 0);
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                buf_reset(&b);
                e.status = good[i];
                assert_int_equal(ical_event(&b, &e), 0);
                snprintf(want, sizeof(want), "\r\nSTATUS:%s\r\nEND:VEVENT\r\n", good[i]);
                assert_non_null(strstr(b.data, want));
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                buf_reset(&b);
                e.status = bad[i];
                assert_int_equal(ical_event(&b, &e), -EINVAL);
                assert_int_equal(b.len, 0);
        }
        buf_reset(&b);
        e.status = NULL;
        assert_int_equal(ical_event(&b, &e), 0);
        assert_null(strstr(b.data, "STATUS"));
        buf_free(&b);
}

static void test_ical_dtend_not_after_dtstart_refused(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        buf_init(&b, 0);
        assert_int_equal(ical_begin(&b, "-//enemane//JA", "feed"), 0);
        e.dtend = e.dtstart;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e.dtend = e.dtstart - 1;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        assert_null(strstr(b.data, "VEVENT"));
        e.dtend = e.dtstart + 1;
        assert_int_equal(ical_event(&b, &e), 0);
        buf_free(&b);
}

static void test_ical_null_arguments_refused(void **state)
{
        struct ical_event e = base_event();
        struct buf b;

        buf_init(&b, 0);
        e.uid = NULL;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e.uid = "";
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        e = base_event();
        e.summary = NULL;
        assert_int_equal(ical_event(&b, &e), -EINVAL);
        assert_int_equal(ical_event(&b, NULL), -EINVAL);
        e = base_event();
        assert_int_equal(ical_event(NULL, &e), -EINVAL);
        assert_int_equal(ical_begin(NULL, "-//x//JA", "n"), -EINVAL);
        assert_int_equal(ical_begin(&b, NULL, "n"), -EINVAL);
        assert_int_equal(ical_begin(&b, "-//x//JA", NULL), -EINVAL);
        assert_int_equal(ical_end(NULL), -EINVAL);
        assert_int_equal(b.len, 0);
        buf_free(&b);
}

/* ---- buf caps --------------------------------------------------------- */

/* Writes begin + two events + end into b; returns the first error (or 0)
 * and how many calls succeeded before it. */
static int write_calendar(struct buf *b, int *done)
{
        struct ical_event e1 = base_event(), e2 = base_event();
        int r;

        e1.summary = "充電スポット予約確定充電スポット予約確定充電スポット予約確定";
        e2.uid = "reservation-13@enemane";
        e2.description = "long; text, to fold ............................................";
        *done = 0;
        r = ical_begin(b, "-//enemane//booking feed//JA", "予約");
        if (r < 0)
                return r;
        (*done)++;
        r = ical_event(b, &e1);
        if (r < 0)
                return r;
        (*done)++;
        r = ical_event(b, &e2);
        if (r < 0)
                return r;
        (*done)++;
        r = ical_end(b);
        if (r < 0)
                return r;
        (*done)++;
        return 0;
}

/*
 * With every cap below the full size, some call fails with -E2BIG and the
 * buf holds exactly the output of the calls that succeeded: never a
 * truncated line or half an event. At the full size everything fits.
 */
static void test_ical_small_max_returns_error(void **state)
{
        struct buf full, b;
        size_t boundary[5];
        int done, r;

        /* The reference output, and where each call's output ends. */
        buf_init(&full, 0);
        assert_int_equal(write_calendar(&full, &done), 0);
        check_physical_lines(full.data, full.len);
        boundary[0] = 0;
        boundary[1] = (size_t)(strstr(full.data, "BEGIN:VEVENT") - full.data);
        boundary[2] = (size_t)(strstr(full.data, "BEGIN:VEVENT\r\nUID:reservation-13") - full.data);
        boundary[3] = (size_t)(strstr(full.data, "END:VCALENDAR") - full.data);
        boundary[4] = full.len;

        for (size_t max = 1; max < full.len; max++) {
                buf_init(&b, max);
                r = write_calendar(&b, &done);
                assert_int_equal(r, -E2BIG);
                assert_true(done < 4);
                assert_int_equal(b.len, boundary[done]);
                assert_true(b.len <= max);
                if (b.len > 0)
                        assert_memory_equal(b.data, full.data, b.len);
                if (b.data)
                        assert_int_equal(b.data[b.len], '\0');
                buf_free(&b);
        }

        buf_init(&b, full.len);
        assert_int_equal(write_calendar(&b, &done), 0);
        assert_int_equal(b.len, full.len);
        assert_memory_equal(b.data, full.data, full.len);
        buf_free(&b);
        buf_free(&full);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ical_calendar_exact),
                cmocka_unit_test(test_ical_optional_fields_omitted),
                cmocka_unit_test(test_ical_two_events_in_order),
                cmocka_unit_test(test_ical_escape_every_special),
                cmocka_unit_test(test_ical_escape_in_every_text_property),
                cmocka_unit_test(test_ical_newline_cannot_inject_property),
                cmocka_unit_test(test_ical_invalid_utf8_refused),
                cmocka_unit_test(test_ical_datetime_utc_form),
                cmocka_unit_test(test_ical_datetime_out_of_range_refused),
                cmocka_unit_test(test_ical_fold_exactly_75),
                cmocka_unit_test(test_ical_fold_long_ascii_lines),
                cmocka_unit_test(test_ical_fold_utf8_boundary),
                cmocka_unit_test(test_ical_fold_mixed_utf8_every_offset),
                cmocka_unit_test(test_ical_fold_keeps_escape_whole),
                cmocka_unit_test(test_ical_fold_long_calname_and_description),
                cmocka_unit_test(test_ical_status_validation),
                cmocka_unit_test(test_ical_dtend_not_after_dtstart_refused),
                cmocka_unit_test(test_ical_null_arguments_refused),
                cmocka_unit_test(test_ical_small_max_returns_error),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
