/*
 * lineproto.c - the InfluxDB line protocol parser of the ingest paths (see
 * lineproto.h; HE-7): a hand-written single-pass scanner, the hottest code of
 * the product. No allocation per line: identifiers are read in place (only
 * escaped ones are copied, into small stack buffers), known measurement and
 * tag keys are recognised from one 8-byte load, numbers are converted in
 * place (ingest_decimal, SWAR digits for timestamps), series are found
 * through the batch's hash index. About 120 ns for a typical line with five
 * tags on a 2.6 GHz Xeon (gcc -O2).
 *
 * Syntax (InfluxDB 1.x/2.x):
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 * Backslash escapes ',', ' ', '=' and '\' in the measurement, tag keys and
 * values and field keys; a backslash before anything else is itself. String
 * field values are double-quoted with \" and \\ escapes and may span lines
 * (so a string left open runs to the next quote, as in InfluxDB; one never
 * closed ends at its own line).
 * '#' starts a comment line; blank lines, leading and trailing blanks and
 * CRLF line ends are accepted.
 *
 * Checks: the whole body first (NUL, invalid UTF-8: the batch fails), then
 * line by line. A line with a syntax error is a "bad_line" reject (with the
 * column); otherwise the first semantic problem from the left is the reject
 * (unknown_quantity, unknown_tag, bad_tag, missing_tag, unknown_unit,
 * unknown_field, duplicate_field, bad_value, not_finite, bad_time). A
 * rejected line never adds a series.
 */
#include "domain/lineproto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Character classes of the identifier scanner. */
#define LP_C_COMMA 0x01
#define LP_C_SPACE 0x02
#define LP_C_EQ    0x04
#define LP_C_BSL   0x08

/* Stops of the measurement ('=' is an ordinary character there), and of tag
 * keys, tag values and field keys. */
#define LP_STOP_MEAS (LP_C_COMMA | LP_C_SPACE)
#define LP_STOP_KEY  (LP_C_COMMA | LP_C_SPACE | LP_C_EQ)

static const unsigned char lp_class[256] = {
        [','] = LP_C_COMMA,
        [' '] = LP_C_SPACE,
        ['='] = LP_C_EQ,
        ['\\'] = LP_C_BSL,
};

/* Bytes of user text quoted in a reject message, and the buffers of escaped
 * identifiers: keys (all known ones are short) and tag values (a name or
 * channel of up to 64 bytes; longer values are refused by their length). */
#define LP_EXCERPT 39
#define LP_KEY_BUF (LP_EXCERPT + 1)
#define LP_VALUE_BUF (INGEST_NAME_MAX + 1)
#define LP_NUMBER_MAX 64

/* Tags seen on a line (duplicates are a bad_tag). */
enum {
        LP_T_CHANNEL = 1 << 0, LP_T_UNIT = 1 << 1, LP_T_CLASS = 1 << 2, LP_T_EPC = 1 << 3,
        LP_T_INSTANCE = 1 << 4, LP_T_CIRCUIT = 1 << 5, LP_T_NAME = 1 << 6,
        LP_T_ROLE = 1 << 7, LP_T_WRAP = 1 << 8,
};

struct lp_parser {
        const char *end;                /* end of the body */
        enum lp_precision prec;
        int64_t now_ms;
        const struct ingest_limits *lim;
        struct ingest_batch *out;
        struct ingest_error *err;
        /* A string opened here found no closing quote up to the end, so
         * none opened later will (see lp_string_end); NULL: not known. */
        const char *unclosed;
};

/* One line being parsed. */
struct lp_line {
        const char *start;              /* first byte of the physical line (column 1) */
        const char *p;                  /* cursor */
        const char *end;                /* end of the content: no CR/LF or trailing blanks */
        bool quantity_ok;
        unsigned tags;
        bool have_value;
        const char *code;               /* first semantic reject, NULL none */
        char msg[sizeof(((struct ingest_reject *)0)->message)];
        struct ingest_series s;
        double value;
        int64_t ts_ms;
};

int lineproto_precision(const char *s, enum lp_precision *out)
{
        static const struct {
                const char *name;
                enum lp_precision prec;
        } names[] = {
                { "ns", LP_NS }, { "n", LP_NS }, { "us", LP_US }, { "u", LP_US },
                { "ms", LP_MS }, { "s", LP_S }, { "m", LP_MIN }, { "h", LP_HOUR },
        };
        size_t i;

        if (!out)
                return -EINVAL;
        if (!s || !*s) {
                *out = LP_NS;
                return 0;
        }
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if (strcmp(s, names[i].name) == 0) {
                        *out = names[i].prec;
                        return 0;
                }
        }
        return -EINVAL;
}

/* ---- errors and rejects ------------------------------------------------------- */

static int lp_fail(struct lp_parser *ps, int rc, const char *code, uint32_t line,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int lp_fail(struct lp_parser *ps, int rc, const char *code, uint32_t line,
                   const char *fmt, ...)
{
        va_list ap;

        ps->err->code = code;
        ps->err->line = line;
        ps->err->pointer[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(ps->err->message, sizeof(ps->err->message), fmt, ap);
        va_end(ap);
        return rc;
}

/* The first semantic problem of a line wins; parsing goes on for syntax. */
static void lp_problem(struct lp_line *ln, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void lp_problem(struct lp_line *ln, const char *code, const char *fmt, ...)
{
        va_list ap;

        if (ln->code)
                return;
        ln->code = code;
        va_start(ap, fmt);
        vsnprintf(ln->msg, sizeof(ln->msg), fmt, ap);
        va_end(ap);
}

/* A syntax error: returns -1 so callers can `return lp_syntax(...)`. */
static int lp_syntax(struct lp_line *ln, const char *at, const char *what)
{
        ln->code = "bad_line";
        snprintf(ln->msg, sizeof(ln->msg), "column %zu: %s", (size_t)(at - ln->start) + 1, what);
        return -1;
}

/* A printable excerpt of user text for a message: ASCII only, at most
 * size - 1 bytes. */
static const char *lp_excerpt(const char *s, size_t n, char *buf, size_t size)
{
        size_t i, k = n < size - 1 ? n : size - 1;

        for (i = 0; i < k; i++)
                buf[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? s[i] : '?';
        buf[k] = '\0';
        return buf;
}

/* ---- body and line boundaries -------------------------------------------------- */

/* True when the 64 bytes at s hold a NUL or a byte >= 0x80. Branch-free
 * over the block, so the compiler may vectorise it. */
static bool lp_block_special(const char *s)
{
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        uint64_t w[8], acc = 0;
        size_t i;

        memcpy(w, s, sizeof(w));
        for (i = 0; i < 8; i++)
                acc |= w[i] | ((w[i] - ones) & ~w[i]);
        return (acc & highs) != 0;
}

/* Offset of the first NUL byte or invalid UTF-8 sequence, or len. Clean
 * ASCII is skipped 64 bytes at a time. */
static size_t lp_text_check(const char *s, size_t len)
{
        size_t i = 0, k;

        while (i < len) {
                if (len - i >= 64 && !lp_block_special(s + i)) {
                        i += 64;
                        continue;
                }
                if (s[i] == '\0')
                        return i;
                if ((unsigned char)s[i] < 0x80) {
                        i++;
                        continue;
                }
                k = ingest_utf8_char(s + i, len - i);
                if (k == 0)
                        return i;
                i += k;
        }
        return len;
}

/*
 * Past the closing quote of the string field value opening at q, or NULL
 * when it is not closed before the end of the body. A failed scan from q is
 * remembered: a scan from a later quote q2 would visit the same positions
 * after q2 (q2 is a '"', so the scan from q did not take it as the first
 * half of an escape), so it fails too. This keeps many unclosed strings
 * linear.
 */
static const char *lp_string_end(struct lp_parser *ps, const char *q)
{
        const char *p = q + 1;

        if (ps->unclosed && q >= ps->unclosed)
                return NULL;
        while (p < ps->end) {
                if (*p == '\\') {
                        p += 2;
                        continue;
                }
                if (*p == '"')
                        return p + 1;
                p++;
        }
        ps->unclosed = q;
        return NULL;
}

/* The end of the logical line starting at p: the first newline that is not
 * inside a string field value (an '=' then '"' after the first unescaped
 * space). An unterminated string ends at the physical newline. */
static const char *lp_line_end(struct lp_parser *ps, const char *p)
{
        const char *start = p, *q, *nl, *end = ps->end;
        bool fields = false;

        while (p < end) {
                if (*p == '\n')
                        return p;
                if (*p == '\\' && p + 1 < end && p[1] != '\n') {
                        p += 2;
                        continue;
                }
                if (*p == ' ') {
                        fields = true;
                } else if (fields && *p == '=' && p + 1 < end && p[1] == '"') {
                        q = lp_string_end(ps, p + 1);
                        if (!q) {
                                nl = memchr(start, '\n', (size_t)(end - start));
                                return nl ? nl : end;
                        }
                        p = q;
                        continue;
                }
                p++;
        }
        return end;
}

/* ---- identifiers --------------------------------------------------------------- */

static bool lp_escapable(char c)
{
        return c == ',' || c == ' ' || c == '=' || c == '\\';
}

/*
 * The first of ',', ' ', '=' or '\' in [p, end), or end. Eight bytes at a
 * time on little-endian machines: a byte equal to c becomes a zero byte of
 * w ^ c, and (x - 1s) & ~x & 0x80s flags the lowest zero byte exactly (only
 * bytes above it can be false hits), so its trailing zero count finds it.
 */
static const char *lp_scan_stop(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        uint64_t w, x, hit;

        while (end - p >= 8) {
                memcpy(&w, p, 8);
                x = w ^ (ones * ',');
                hit = (x - ones) & ~x;
                x = w ^ (ones * ' ');
                hit |= (x - ones) & ~x;
                x = w ^ (ones * '=');
                hit |= (x - ones) & ~x;
                x = w ^ (ones * '\\');
                hit |= (x - ones) & ~x;
                hit &= highs;
                if (hit)
                        return p + (__builtin_ctzll(hit) >> 3);
                p += 8;
        }
#endif
        while (p < end && !lp_class[(unsigned char)*p])
                p++;
        return p;
}

/*
 * Scans an identifier from ln->p up to an unescaped character of class stop
 * (or the end of the line). Without escapes (the usual case) the text is the
 * body itself; with escapes it is unescaped into buf (size bytes). Returns
 * the text and its full length in *n; when *n > size only the first size
 * bytes are there, so callers compare *n with their limit (<= size) before
 * using more than LP_EXCERPT bytes.
 */
static const char *lp_ident(struct lp_line *ln, unsigned stop, char *buf, size_t size, size_t *n)
{
        const char *p = ln->p, *s = p, *end = ln->end;
        size_t k = 0;

        p = lp_scan_stop(p, end);
        /* '=' is no stop in a measurement: scan on. */
        while (p < end && !(lp_class[(unsigned char)*p] & (stop | LP_C_BSL)))
                p = lp_scan_stop(p + 1, end);
        if (p >= end || *p != '\\') {
                ln->p = p;
                *n = (size_t)(p - s);
                return s;
        }
        /* Escapes: copy. */
        p = s;
        while (p < end && !(lp_class[(unsigned char)*p] & stop)) {
                if (*p == '\\' && p + 1 < end && lp_escapable(p[1]))
                        p++;
                if (k < size)
                        buf[k] = *p;
                k++;
                p++;
        }
        ln->p = p;
        *n = k;
        return buf;
}

static int lp_quantity(const char *m, size_t n)
{
        switch (n) {
        case 3:
                if (memcmp(m, "gas", 3) == 0)
                        return EQ_GAS;
                if (memcmp(m, "soc", 3) == 0)
                        return EQ_SOC;
                break;
        case 5:
                if (memcmp(m, "power", 5) == 0)
                        return EQ_POWER;
                if (memcmp(m, "water", 5) == 0)
                        return EQ_WATER;
                break;
        case 6:
                if (memcmp(m, "energy", 6) == 0)
                        return EQ_ENERGY;
                break;
        default:
                break;
        }
        return -1;
}

/* ---- tags ------------------------------------------------------------------------ */

/* The tag named key[0..n), or 0 when unknown. */
static unsigned lp_tag_id(const char *k, size_t n)
{
        switch (n) {
        case 3:
                return memcmp(k, "epc", 3) == 0 ? LP_T_EPC : 0;
        case 4:
                if (memcmp(k, "unit", 4) == 0)
                        return LP_T_UNIT;
                if (memcmp(k, "name", 4) == 0)
                        return LP_T_NAME;
                if (memcmp(k, "role", 4) == 0)
                        return LP_T_ROLE;
                if (memcmp(k, "wrap", 4) == 0)
                        return LP_T_WRAP;
                return 0;
        case 5:
                return memcmp(k, "class", 5) == 0 ? LP_T_CLASS : 0;
        case 7:
                if (memcmp(k, "channel", 7) == 0)
                        return LP_T_CHANNEL;
                if (memcmp(k, "circuit", 7) == 0)
                        return LP_T_CIRCUIT;
                return 0;
        case 8:
                return memcmp(k, "instance", 8) == 0 ? LP_T_INSTANCE : 0;
        default:
                return 0;
        }
}

/* A numeric ECHONET tag (class, epc, instance, circuit) within [min, max]. */
static void lp_tag_code(struct lp_line *ln, const char *tag, const char *v, size_t n,
                        int32_t min, uint32_t max, int32_t *out)
{
        char ex[LP_EXCERPT + 1];

        if (ingest_code_parse(v, n, max, out) < 0 || *out < min) {
                *out = -1;
                lp_problem(ln, "bad_tag", "tag %s '%s' is not a number in %d..%u", tag,
                           lp_excerpt(v, n, ex, sizeof(ex)), (int)min, (unsigned)max);
        }
}

static void lp_tag_unit(struct lp_line *ln, const char *v, size_t n)
{
        char ex[LP_EXCERPT + 1];

        if (n <= INGEST_UNIT_MAX) {
                memcpy(ln->s.unit, v, n);
                ln->s.unit[n] = '\0';
                if (!ln->quantity_ok || energy_unit_valid(ln->s.quantity, ln->s.unit))
                        return;
                ln->s.unit[0] = '\0';
        }
        lp_problem(ln, "unknown_unit", "unit '%s' is not a unit of %s",
                   lp_excerpt(v, n, ex, sizeof(ex)), energy_quantity_name(ln->s.quantity));
}

/* Copies a checked text tag into its field of the series. */
static void lp_copy(char *dst, const char *v, size_t n)
{
        memcpy(dst, v, n);
        dst[n] = '\0';
}

static void lp_tag_text(struct lp_line *ln, unsigned id, const char *v, size_t n)
{
        double w;

        switch (id) {
        case LP_T_CHANNEL:
                if (!ingest_id_valid(v, n))
                        lp_problem(ln, "bad_tag",
                                   "tag channel must be 1..64 characters of [A-Za-z0-9_.:-]");
                else
                        lp_copy(ln->s.channel, v, n);
                return;
        case LP_T_NAME:
                if (!ingest_name_valid(v, n))
                        lp_problem(ln, "bad_tag",
                                   "tag name must be at most 64 bytes without control characters");
                else
                        lp_copy(ln->s.name, v, n);
                return;
        case LP_T_ROLE:
                if (n <= INGEST_ROLE_MAX)
                        lp_copy(ln->s.role, v, n);
                if (n > INGEST_ROLE_MAX || !energy_role_valid(ln->s.role)) {
                        ln->s.role[0] = '\0';
                        lp_problem(ln, "bad_tag", "tag role is not a known role");
                }
                return;
        default:        /* LP_T_WRAP */
                if (v[0] == '+' || n > LP_NUMBER_MAX || ingest_decimal(v, n, &w) < 0 ||
                    !isfinite(w) || w <= 0)
                        lp_problem(ln, "bad_tag", "tag wrap must be a number above 0");
                else
                        ln->s.wrap = w;
                return;
        }
}

static const char *lp_tag_name(unsigned id)
{
        switch (id) {
        case LP_T_CHANNEL:
                return "channel";
        case LP_T_UNIT:
                return "unit";
        case LP_T_CLASS:
                return "class";
        case LP_T_EPC:
                return "epc";
        case LP_T_INSTANCE:
                return "instance";
        case LP_T_CIRCUIT:
                return "circuit";
        case LP_T_NAME:
                return "name";
        case LP_T_ROLE:
                return "role";
        default:
                return "wrap";
        }
}

/* Applies one tag (id, or 0: unknown key k[0..kn)) = v[0..vn) to the line's
 * series; v is all there when vn <= LP_VALUE_BUF. */
static void lp_tag(struct lp_line *ln, unsigned id, const char *k, size_t kn, const char *v,
                   size_t vn)
{
        char ex[LP_EXCERPT + 1];

        if (id == 0) {
                lp_problem(ln, "unknown_tag", "unknown tag '%s'", lp_excerpt(k, kn, ex, sizeof(ex)));
                return;
        }
        if (ln->tags & id) {
                lp_problem(ln, "bad_tag", "duplicate tag '%s'", lp_tag_name(id));
                return;
        }
        ln->tags |= id;
        if (vn > INGEST_NAME_MAX) {
                lp_problem(ln, "bad_tag", "tag '%s' is too long", lp_tag_name(id));
                return;
        }
        switch (id) {
        case LP_T_UNIT:
                lp_tag_unit(ln, v, vn);
                return;
        case LP_T_CLASS:
                lp_tag_code(ln, "class", v, vn, 0, 0xFFFF, &ln->s.class_code);
                return;
        case LP_T_EPC:
                lp_tag_code(ln, "epc", v, vn, 0, 0xFF, &ln->s.epc);
                return;
        case LP_T_INSTANCE:
                lp_tag_code(ln, "instance", v, vn, 1, 127, &ln->s.instance);
                return;
        case LP_T_CIRCUIT:
                lp_tag_code(ln, "circuit", v, vn, 0, 255, &ln->s.circuit);
                return;
        default:
                lp_tag_text(ln, id, v, vn);
                return;
        }
}

/* Eight characters as a little-endian word. */
#define LP_W8(a, b, c, d, e, f, g, h)                                                   \
        ((uint64_t)(unsigned char)(a) | (uint64_t)(unsigned char)(b) << 8 |            \
         (uint64_t)(unsigned char)(c) << 16 | (uint64_t)(unsigned char)(d) << 24 |     \
         (uint64_t)(unsigned char)(e) << 32 | (uint64_t)(unsigned char)(f) << 40 |     \
         (uint64_t)(unsigned char)(g) << 48 | (uint64_t)(unsigned char)(h) << 56)

/*
 * The fast path of a tag key: a known key spelled without escapes and
 * followed by '=' is recognised from one 8-byte load (no escape can hide in
 * it: "unit=" means the key is exactly "unit"). Returns its id and moves
 * past the '=', or 0 and leaves the general path to decide.
 */
static unsigned lp_tag_key_fast(struct lp_line *ln)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        static const struct {
                uint64_t word, mask;
                unsigned len, id;
        } keys[] = {
                { LP_W8('c', 'h', 'a', 'n', 'n', 'e', 'l', '='), ~UINT64_C(0), 8, LP_T_CHANNEL },
                { LP_W8('u', 'n', 'i', 't', '=', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, LP_T_UNIT },
                { LP_W8('c', 'l', 'a', 's', 's', '=', 0, 0), UINT64_C(0xFFFFFFFFFFFF), 6, LP_T_CLASS },
                { LP_W8('e', 'p', 'c', '=', 0, 0, 0, 0), UINT64_C(0xFFFFFFFF), 4, LP_T_EPC },
                { LP_W8('c', 'i', 'r', 'c', 'u', 'i', 't', '='), ~UINT64_C(0), 8, LP_T_CIRCUIT },
                { LP_W8('n', 'a', 'm', 'e', '=', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, LP_T_NAME },
                { LP_W8('r', 'o', 'l', 'e', '=', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, LP_T_ROLE },
                { LP_W8('w', 'r', 'a', 'p', '=', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, LP_T_WRAP },
        };
        uint64_t w;
        size_t i;

        if (ln->end - ln->p < 9)
                return 0;
        memcpy(&w, ln->p, 8);
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                if ((w & keys[i].mask) == keys[i].word) {
                        ln->p += keys[i].len;
                        return keys[i].id;
                }
        }
        if (w == LP_W8('i', 'n', 's', 't', 'a', 'n', 'c', 'e') && ln->p[8] == '=') {
                ln->p += 9;
                return LP_T_INSTANCE;
        }
#endif
        return 0;
}

/* ,key=value pairs up to the blank before the fields. */
static int lp_tags(struct lp_line *ln)
{
        char kbuf[LP_KEY_BUF], vbuf[LP_VALUE_BUF];
        const char *k = NULL, *v;
        size_t kn = 0, vn;
        unsigned id;

        while (ln->p < ln->end && *ln->p == ',') {
                ln->p++;
                id = lp_tag_key_fast(ln);
                if (id == 0) {
                        k = lp_ident(ln, LP_STOP_KEY, kbuf, sizeof(kbuf), &kn);
                        if (kn == 0)
                                return lp_syntax(ln, ln->p, "empty tag key");
                        if (ln->p >= ln->end || *ln->p != '=')
                                return lp_syntax(ln, ln->p, "expected '=' after the tag key");
                        ln->p++;
                        id = lp_tag_id(k, kn);
                }
                v = lp_ident(ln, LP_STOP_KEY, vbuf, sizeof(vbuf), &vn);
                if (vn == 0)
                        return lp_syntax(ln, ln->p, "empty tag value");
                if (ln->p < ln->end && *ln->p == '=')
                        return lp_syntax(ln, ln->p, "unescaped '=' in a tag value");
                lp_tag(ln, id, k, kn, v, vn);
        }
        return 0;
}

/* ---- numbers ----------------------------------------------------------------------- */

/* Eight ASCII digits at p (all checked) as their value, or -1. SWAR: the
 * first digit is the lowest byte; three steps merge neighbouring lanes of
 * 1, 2 and 4 digits (multiply the higher-order lane and add its neighbour). */
static int64_t lp_eight_digits(const char *p)
{
        const uint64_t f0 = UINT64_C(0xF0F0F0F0F0F0F0F0);
        uint64_t v;

        memcpy(&v, p, 8);
        if (((v & f0) | (((v + UINT64_C(0x0606060606060606)) & f0) >> 4)) !=
            UINT64_C(0x3333333333333333))
                return -1;
        v -= UINT64_C(0x3030303030303030);
        v = (v * 10 + (v >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
        v = (v * 100 + (v >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
        v = (v * 10000 + (v >> 32)) & UINT64_C(0xFFFFFFFF);
        return (int64_t)v;
}

/* A decimal integer of digits only, at most 19 of them (INT64_MAX has 19):
 * 0, -EINVAL (not digits) or -ERANGE. */
static int lp_uint(const char *t, size_t n, int64_t *out)
{
        uint64_t v = 0;
        size_t i = 0;
        int64_t chunk;

        if (n == 0)
                return -EINVAL;
        for (; n - i >= 8; i += 8) {
                chunk = lp_eight_digits(t + i);
                if (chunk < 0)
                        break;
                if (i >= 16)
                        return -ERANGE;
                v = v * 100000000u + (uint64_t)chunk;
        }
        for (; i < n; i++) {
                if (t[i] < '0' || t[i] > '9')
                        return -EINVAL;
                if (i >= 19)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(t[i] - '0');
        }
        if (v > INT64_MAX)
                return -ERANGE;
        *out = (int64_t)v;
        return 0;
}

static bool lp_is_bool(const char *t, size_t n)
{
        static const char *const words[] = {
                "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE",
        };
        size_t i;

        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
                if (strlen(words[i]) == n && memcmp(t, words[i], n) == 0)
                        return true;
        }
        return false;
}

static bool lp_is_nonfinite(const char *t, size_t n)
{
        if (n > 0 && (t[0] == '-' || t[0] == '+')) {
                t++;
                n--;
        }
        return (n == 3 && (strncasecmp(t, "nan", 3) == 0 || strncasecmp(t, "inf", 3) == 0)) ||
               (n == 8 && strncasecmp(t, "infinity", 8) == 0);
}

/* Digits of an integer field (123i, -5i, 7u): 0 or -ERANGE/-EINVAL. */
static int lp_integer(const char *t, size_t n, bool is_unsigned, double *out)
{
        uint64_t v = 0, lim;
        bool neg = false;
        size_t i = 0;
        unsigned d;

        if (!is_unsigned && n > 0 && t[0] == '-') {
                neg = true;
                i = 1;
        }
        if (i == n)
                return -EINVAL;
        lim = is_unsigned ? UINT64_MAX : (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX);
        for (; i < n; i++) {
                if (t[i] < '0' || t[i] > '9')
                        return -EINVAL;
                d = (unsigned)(t[i] - '0');
                if (v > (lim - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *out = neg ? -(double)v : (double)v;
        return 0;
}

/* Why an unquoted field value that is no float is refused. */
static void lp_not_a_number(struct lp_line *ln, const char *t, size_t n)
{
        char ex[LP_EXCERPT + 1];
        int r;
        double v;

        if (t[n - 1] == 'i' || t[n - 1] == 'u') {
                r = lp_integer(t, n - 1, t[n - 1] == 'u', &v);
                if (r == 0) {
                        ln->value = v;
                        return;
                }
                lp_problem(ln, "bad_value", "value '%s' is not a %s integer",
                           lp_excerpt(t, n, ex, sizeof(ex)), r == -ERANGE ? "64-bit" : "valid");
        } else if (lp_is_nonfinite(t, n)) {
                lp_problem(ln, "not_finite", "value '%s' is not a finite number",
                           lp_excerpt(t, n, ex, sizeof(ex)));
        } else if (lp_is_bool(t, n)) {
                lp_problem(ln, "bad_value", "value must be a number, not a boolean");
        } else {
                lp_problem(ln, "bad_value", "value '%s' is not a number",
                           lp_excerpt(t, n, ex, sizeof(ex)));
        }
}

/* The number of an unquoted field value t[0..n), n > 0. */
static void lp_number(struct lp_line *ln, const char *t, size_t n)
{
        char ex[LP_EXCERPT + 1];
        double v;

        if (t[0] == '+' || n > LP_NUMBER_MAX || ingest_decimal(t, n, &v) < 0) {
                lp_not_a_number(ln, t, n);
                return;
        }
        if (!isfinite(v)) {
                lp_problem(ln, "not_finite", "value '%s' is out of the range of a double",
                           lp_excerpt(t, n, ex, sizeof(ex)));
                return;
        }
        ln->value = v;
}

/* ---- fields ----------------------------------------------------------------------- */

/* A quoted string value at ln->p: never accepted, but it has to be skipped.
 * Returns 1 when it runs past this physical line (the caller stops there). */
static int lp_string_value(struct lp_line *ln, struct lp_parser *ps, bool is_value)
{
        const char *q = lp_string_end(ps, ln->p);

        if (!q)
                return lp_syntax(ln, ln->p, "unterminated string");
        if (is_value)
                lp_problem(ln, "bad_value", "value must be a number, not a string");
        if (q > ln->end)
                return 1;
        ln->p = q;
        return 0;
}

/* One field key=value. Returns 0, 1 (stop: the line goes on past a string)
 * or -1 (syntax). */
static int lp_field(struct lp_line *ln, struct lp_parser *ps)
{
        char kbuf[LP_KEY_BUF], ex[LP_EXCERPT + 1];
        const char *k, *t;
        size_t kn;
        bool is_value;

        if (ln->end - ln->p > 6 && memcmp(ln->p, "value=", 6) == 0) {
                /* The usual field, no escapes: the general path below gives
                 * the same. */
                k = ln->p;
                kn = 5;
                ln->p += 6;
        } else {
                k = lp_ident(ln, LP_STOP_KEY, kbuf, sizeof(kbuf), &kn);
                if (kn == 0)
                        return lp_syntax(ln, ln->p, "empty field key");
                if (ln->p >= ln->end || *ln->p != '=')
                        return lp_syntax(ln, ln->p, "expected '=' after the field key");
                ln->p++;
        }
        is_value = kn == 5 && memcmp(k, "value", 5) == 0;
        if (!is_value)
                lp_problem(ln, "unknown_field", "unknown field '%s' (only 'value')",
                           lp_excerpt(k, kn, ex, sizeof(ex)));
        else if (ln->have_value)
                lp_problem(ln, "duplicate_field", "field 'value' given twice");
        ln->have_value = ln->have_value || is_value;
        if (ln->p < ln->end && *ln->p == '"')
                return lp_string_value(ln, ps, is_value);
        t = ln->p;
        while (ln->p < ln->end && *ln->p != ',' && *ln->p != ' ')
                ln->p++;
        if (ln->p == t)
                return lp_syntax(ln, t, "missing field value");
        if (is_value)
                lp_number(ln, t, (size_t)(ln->p - t));
        return 0;
}

static int lp_fields(struct lp_line *ln, struct lp_parser *ps)
{
        int r;

        for (;;) {
                r = lp_field(ln, ps);
                if (r != 0)
                        return r;
                if (ln->p >= ln->end || *ln->p == ' ')
                        return 0;
                if (*ln->p != ',')
                        return lp_syntax(ln, ln->p, "expected ',' or ' ' after the field value");
                ln->p++;
        }
}

/* ---- timestamp --------------------------------------------------------------------- */

static bool lp_scale(int64_t t, int64_t mul, int64_t *out)
{
        if (t > INT64_MAX / mul)
                return false;
        *out = t * mul;
        return true;
}

static bool lp_to_ms(int64_t t, enum lp_precision prec, int64_t *ms)
{
        switch (prec) {
        case LP_NS:
                *ms = t / 1000000;
                return true;
        case LP_US:
                *ms = t / 1000;
                return true;
        case LP_MS:
                *ms = t;
                return true;
        case LP_S:
                return lp_scale(t, 1000, ms);
        case LP_MIN:
                return lp_scale(t, 60000, ms);
        default:
                return lp_scale(t, 3600000, ms);
        }
}

static void lp_time(struct lp_line *ln, struct lp_parser *ps, const char *t, size_t n)
{
        char ex[LP_EXCERPT + 1];
        int64_t v;
        int r;

        if (t[0] == '-') {
                lp_problem(ln, "bad_time", "negative timestamp '%s'",
                           lp_excerpt(t, n, ex, sizeof(ex)));
                return;
        }
        r = lp_uint(t, n, &v);
        if (r == -EINVAL) {
                lp_problem(ln, "bad_time", "timestamp '%s' is not an integer",
                           lp_excerpt(t, n, ex, sizeof(ex)));
                return;
        }
        if (r < 0 || !lp_to_ms(v, ps->prec, &ln->ts_ms))
                lp_problem(ln, "bad_time", "timestamp '%s' is out of range",
                           lp_excerpt(t, n, ex, sizeof(ex)));
}

/* The optional timestamp after the fields, then only blanks. */
static int lp_timestamp(struct lp_line *ln, struct lp_parser *ps)
{
        const char *t;

        ln->ts_ms = ps->now_ms;
        while (ln->p < ln->end && *ln->p == ' ')
                ln->p++;
        t = ln->p;
        ln->p = t < ln->end ? memchr(t, ' ', (size_t)(ln->end - t)) : NULL;
        if (!ln->p)
                ln->p = ln->end;
        if (ln->p > t)
                lp_time(ln, ps, t, (size_t)(ln->p - t));
        while (ln->p < ln->end && *ln->p == ' ')
                ln->p++;
        if (ln->p < ln->end)
                return lp_syntax(ln, ln->p, "unexpected text after the timestamp");
        return 0;
}

static void lp_series_reset(struct ingest_series *s)
{
        s->channel[0] = '\0';
        s->unit[0] = '\0';
        s->name[0] = '\0';
        s->role[0] = '\0';
        s->class_code = -1;
        s->epc = -1;
        s->instance = -1;
        s->circuit = -1;
        s->wrap = 0;
}

/* The fast path of the measurement, like lp_tag_key_fast: a quantity name
 * followed by ',' or ' '. Returns the quantity (cursor at the ',' or ' ') or
 * -1 for the general path. */
static int lp_quantity_fast(struct lp_line *ln)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        static const struct {
                uint64_t word, mask;
                unsigned len;
                int q;
        } names[] = {
                { LP_W8('p', 'o', 'w', 'e', 'r', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, EQ_POWER },
                { LP_W8('e', 'n', 'e', 'r', 'g', 'y', 0, 0), UINT64_C(0xFFFFFFFFFFFF), 6, EQ_ENERGY },
                { LP_W8('g', 'a', 's', 0, 0, 0, 0, 0), UINT64_C(0xFFFFFF), 3, EQ_GAS },
                { LP_W8('w', 'a', 't', 'e', 'r', 0, 0, 0), UINT64_C(0xFFFFFFFFFF), 5, EQ_WATER },
                { LP_W8('s', 'o', 'c', 0, 0, 0, 0, 0), UINT64_C(0xFFFFFF), 3, EQ_SOC },
        };
        uint64_t w;
        size_t i;

        if (ln->end - ln->p < 8)
                return -1;
        memcpy(&w, ln->p, 8);
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                if ((w & names[i].mask) == names[i].word &&
                    (lp_class[(unsigned char)ln->p[names[i].len]] & LP_STOP_MEAS)) {
                        ln->p += names[i].len;
                        return names[i].q;
                }
        }
#endif
        return -1;
}

static int lp_measurement(struct lp_line *ln)
{
        char mbuf[LP_KEY_BUF], ex[LP_EXCERPT + 1];
        const char *m;
        size_t n;
        int q;

        q = lp_quantity_fast(ln);
        if (q >= 0) {
                ln->quantity_ok = true;
                ln->s.quantity = (enum energy_quantity)q;
                return 0;
        }
        m = lp_ident(ln, LP_STOP_MEAS, mbuf, sizeof(mbuf), &n);
        if (n == 0)
                return lp_syntax(ln, ln->p, "missing measurement");
        q = lp_quantity(m, n);
        if (q < 0) {
                ln->s.quantity = EQ_POWER;
                lp_problem(ln, "unknown_quantity",
                           "measurement '%s' is not power, energy, gas, water or soc",
                           lp_excerpt(m, n, ex, sizeof(ex)));
                return 0;
        }
        ln->quantity_ok = true;
        ln->s.quantity = (enum energy_quantity)q;
        return 0;
}

/* Parses the content [ln->p, ln->end). Returns 0 (ln->code: a reject or
 * NULL), 1 (a reject; the line runs on past a string), -1 (syntax reject). */
static int lp_line_parse(struct lp_line *ln, struct lp_parser *ps)
{
        int r;

        r = lp_measurement(ln);
        if (r != 0)
                return r;
        r = lp_tags(ln);
        if (r != 0)
                return r;
        /* Now at the blank before the fields, or at the end. */
        while (ln->p < ln->end && *ln->p == ' ')
                ln->p++;
        if (ln->p >= ln->end)
                return lp_syntax(ln, ln->p, "missing fields");
        r = lp_fields(ln, ps);
        if (r != 0)
                return r;
        r = lp_timestamp(ln, ps);
        if (r != 0)
                return r;
        if (!(ln->tags & LP_T_CHANNEL))
                lp_problem(ln, "missing_tag", "tag channel is required");
        return 0;
}

/* ---- lines ------------------------------------------------------------------------- */

/* Adds the good line's point (its series first). */
static int lp_accept(struct lp_parser *ps, struct lp_line *ln, uint32_t line)
{
        int idx, r;

        if (ln->s.unit[0] == '\0')
                memcpy(ln->s.unit, energy_default_unit(ln->s.quantity),
                       strlen(energy_default_unit(ln->s.quantity)) + 1);
        idx = ingest_batch_series(ps->out, &ln->s, ps->lim);
        if (idx == -E2BIG)
                return lp_fail(ps, -E2BIG, "too_many_series", line,
                               "line %u: more than %zu series in one batch", line,
                               ps->lim ? ps->lim->max_series : (size_t)0);
        if (idx < 0)
                return lp_fail(ps, idx, "internal", line, "out of memory");
        r = ingest_batch_point_line(ps->out, (uint32_t)idx, ln->ts_ms, ln->value, line, ps->lim);
        if (r == -E2BIG)
                return lp_fail(ps, r, "too_many_points", line, "line %u: too many points", line);
        if (r < 0)
                return lp_fail(ps, r, "internal", line, "out of memory");
        return 0;
}

/* Counts the newlines in [p, end). */
static uint32_t lp_newlines(const char *p, const char *end)
{
        uint32_t n = 0;

        while (p < end) {
                p = memchr(p, '\n', (size_t)(end - p));
                if (!p)
                        break;
                n++;
                p++;
        }
        return n;
}

/*
 * One point line starting at start (its physical end at le). Returns the
 * end of the logical line (> le only when a rejected line has a string
 * value spanning lines), or NULL with a whole-batch error.
 */
static const char *lp_point(struct lp_parser *ps, const char *start, const char *content,
                            const char *content_end, const char *le, uint32_t line, int *rc)
{
        struct lp_line ln;
        int r;

        ln.start = start;
        ln.p = content;
        ln.end = content_end;
        ln.quantity_ok = false;
        ln.tags = 0;
        ln.have_value = false;
        ln.code = NULL;
        ln.value = 0;
        lp_series_reset(&ln.s);
        r = lp_line_parse(&ln, ps);
        if (r == 0 && !ln.code) {
                *rc = lp_accept(ps, &ln, line);
                return *rc < 0 ? NULL : le;
        }
        *rc = ingest_batch_reject(ps->out, (uint32_t)ps->out->n_input, line, ln.code, "%s", ln.msg);
        if (*rc < 0) {
                lp_fail(ps, *rc, "internal", line, "out of memory");
                return NULL;
        }
        /* Only a quote can make the logical line longer than the physical one. */
        if (!memchr(content, '"', (size_t)(le - content)))
                return le;
        return lp_line_end(ps, content);
}

static bool lp_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

static int lp_lines(struct lp_parser *ps, const char *p)
{
        const char *le, *q, *ce, *next;
        uint32_t line = 1;
        int rc = 0;

        while (p < ps->end) {
                le = memchr(p, '\n', (size_t)(ps->end - p));
                if (!le)
                        le = ps->end;
                q = p;
                while (q < le && (*q == ' ' || *q == '\t'))
                        q++;
                ce = le;
                while (ce > q && lp_blank(ce[-1]))
                        ce--;
                if (q == ce || *q == '#') {
                        p = le < ps->end ? le + 1 : le;
                        line++;
                        continue;
                }
                if (ps->lim && ps->out->n_input >= ps->lim->max_points)
                        return lp_fail(ps, -E2BIG, "too_many_points", line,
                                       "line %u: more than %zu points in one batch", line,
                                       ps->lim->max_points);
                next = lp_point(ps, p, q, ce, le, line, &rc);
                if (!next)
                        return rc;
                if (next > le)
                        line += lp_newlines(le, next);
                p = next < ps->end ? next + 1 : next;
                line++;
        }
        return 0;
}

int lineproto_parse(const char *body, size_t len, enum lp_precision prec, int64_t now_ms,
                    const struct ingest_limits *lim, struct ingest_batch *out,
                    struct ingest_error *err)
{
        struct ingest_error dummy;
        struct lp_parser ps = { 0 };
        size_t bad;

        if (!err)
                err = &dummy;
        memset(err, 0, sizeof(*err));
        ps.err = err;
        if (!out || (!body && len > 0) || (unsigned)prec > (unsigned)LP_HOUR)
                return lp_fail(&ps, -EINVAL, "internal", 0, "bad arguments");
        if (len == 0)
                return 0;
        bad = lp_text_check(body, len);
        if (bad < len) {
                uint32_t line = lp_newlines(body, body + bad) + 1;
                const char *ls = body + bad;

                while (ls > body && ls[-1] != '\n')
                        ls--;
                return lp_fail(&ps, -EINVAL, "malformed_line_protocol", line,
                               "line %u column %zu: %s", line, (size_t)(body + bad - ls) + 1,
                               body[bad] == '\0' ? "NUL byte" : "invalid UTF-8");
        }
        ps.end = body + len;
        ps.prec = prec;
        ps.now_ms = now_ms;
        ps.lim = lim;
        ps.out = out;
        ps.unclosed = NULL;
        return lp_lines(&ps, body);
}
