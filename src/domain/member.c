/*
 * member.c - the pure rules about members (see member.h): names of kinds and
 * statuses, a strict UTF-8 decoder, field validators and normalisers, the
 * Asia/Tokyo calendar arithmetic behind age checks (CS-2), the fixed list
 * of suspension reasons (CS-3) and the fields whose change needs identity
 * re-verification (CS-8).
 *
 * No I/O, no allocation, no locale: every character class below is spelled
 * out in ASCII or code points, so the answers do not depend on setlocale().
 */
#include "domain/member.h"

#include <errno.h>
#include <string.h>

/* ---- small helpers ------------------------------------------------------- */

static int member_fail(const char **why, const char *msg, int err)
{
        if (why)
                *why = msg;
        return err;
}

static int member_ok(const char **why)
{
        if (why)
                *why = NULL;
        return 0;
}

/* Empties a caller's output buffer after a failed normalisation. */
static void member_out_clear(char *out, size_t outlen)
{
        if (out && outlen > 0)
                out[0] = '\0';
}

static bool member_is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool member_is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char member_ascii_lower(char c)
{
        if (c >= 'A' && c <= 'Z')
                return (char)(c - 'A' + 'a');
        return c;
}

/* strcmp ignoring the case of ASCII letters only (no locale). */
static bool member_ascii_case_equal(const char *a, const char *b)
{
        while (*a && *b) {
                if (member_ascii_lower(*a) != member_ascii_lower(*b))
                        return false;
                a++;
                b++;
        }
        return *a == *b;
}

/* ---- kinds and statuses ---------------------------------------------------- */

static const char *const member_kind_names[] = {
        [MEMBER_INDIVIDUAL] = "individual",
        [MEMBER_CORPORATION] = "corporation",
};

static const char *const member_status_names[] = {
        [MEMBER_ACTIVE] = "active",
        [MEMBER_SUSPENDED] = "suspended",
        [MEMBER_WITHDRAWN] = "withdrawn",
};

#define MEMBER_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Shared by the two enums: the index of s in names[], or -EINVAL. */
static int member_name_lookup(const char *const *names, size_t n, const char *s)
{
        size_t i;

        if (!s)
                return -EINVAL;
        for (i = 0; i < n; i++) {
                if (strcmp(names[i], s) == 0)
                        return (int)i;
        }
        return -EINVAL;
}

const char *member_kind_name(enum member_kind k)
{
        /* Cast through unsigned so a negative value is out of range too. */
        if ((unsigned)k >= MEMBER_NELEMS(member_kind_names))
                return NULL;
        return member_kind_names[k];
}

int member_kind_from_name(const char *s)
{
        return member_name_lookup(member_kind_names, MEMBER_NELEMS(member_kind_names), s);
}

const char *member_status_name(enum member_status s)
{
        if ((unsigned)s >= MEMBER_NELEMS(member_status_names))
                return NULL;
        return member_status_names[s];
}

int member_status_from_name(const char *s)
{
        return member_name_lookup(member_status_names, MEMBER_NELEMS(member_status_names), s);
}

/* ---- UTF-8 ----------------------------------------------------------------- */

/*
 * Strict decoder following the well-formed byte sequences of Unicode
 * (table 3-7 of the standard):
 *
 *   U+0000..U+007F      00..7F
 *   U+0080..U+07FF      C2..DF  80..BF
 *   U+0800..U+FFFF      E0..EF  80..BF  80..BF   (minus surrogates)
 *   U+10000..U+10FFFF   F0..F4  80..BF  80..BF  80..BF
 *
 * Rather than special-casing the second byte per lead byte, we decode the
 * value and then reject what is not the shortest form (overlong), what is a
 * surrogate, and what is above U+10FFFF. C0, C1 and F5..FF leads never pass
 * those checks; 80..BF as a lead is a stray continuation byte.
 */
int member_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
        const unsigned char *u = (const unsigned char *)s;
        uint32_t v, min;
        size_t n, i;

        if (!s || len == 0)
                return -EILSEQ;
        if (u[0] < 0x80) {
                *cp = u[0];
                return 1;
        }
        if ((u[0] & 0xE0) == 0xC0) {
                n = 2;
                v = u[0] & 0x1F;
                min = 0x80;
        } else if ((u[0] & 0xF0) == 0xE0) {
                n = 3;
                v = u[0] & 0x0F;
                min = 0x800;
        } else if ((u[0] & 0xF8) == 0xF0) {
                n = 4;
                v = u[0] & 0x07;
                min = 0x10000;
        } else {
                return -EILSEQ;         /* continuation byte or F8..FF */
        }
        if (len < n)
                return -EILSEQ;         /* truncated */
        for (i = 1; i < n; i++) {
                /* A NUL terminator also ends up here: it is not 10xxxxxx. */
                if ((u[i] & 0xC0) != 0x80)
                        return -EILSEQ;
                v = (v << 6) | (u[i] & 0x3F);
        }
        if (v < min)
                return -EILSEQ;         /* overlong */
        if (v >= 0xD800 && v <= 0xDFFF)
                return -EILSEQ;         /* UTF-16 surrogate */
        if (v > 0x10FFFF)
                return -EILSEQ;
        *cp = v;
        return (int)n;
}

int member_utf8_length(const char *s, size_t *ncp)
{
        size_t len, off = 0, count = 0;
        uint32_t cp;
        int r;

        if (!s)
                return -EILSEQ;
        len = strlen(s);
        while (off < len) {
                r = member_utf8_decode(s + off, len - off, &cp);
                if (r < 0)
                        return r;
                off += (size_t)r;
                count++;
        }
        if (ncp)
                *ncp = count;
        return 0;
}

/* ---- email (CS-1) ---------------------------------------------------------- */

/* RFC 5322 atext: ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~". */
static bool member_email_atext(char c)
{
        if (member_is_alpha(c) || member_is_digit(c))
                return true;
        return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* The local part s[0..len): dot-atom, 1..64 bytes. */
static int member_email_local_check(const char *s, size_t len, const char **why)
{
        size_t i;

        if (len == 0 || len > MEMBER_EMAIL_LOCAL_MAX)
                return member_fail(why, "must have 1 to 64 characters before the '@'", -EINVAL);
        for (i = 0; i < len; i++) {
                if (s[i] == '.') {
                        /* No dot first, last, or right after another dot. */
                        if (i == 0 || i == len - 1 || s[i - 1] == '.')
                                return member_fail(why, "must not have a dot at the start or end "
                                                   "of the part before the '@' or two dots in a row",
                                                   -EINVAL);
                        continue;
                }
                if (!member_email_atext(s[i]))
                        return member_fail(why, "has a character that is not allowed before the '@'",
                                           -EINVAL);
        }
        return 0;
}

/* The domain s[0..len): labels of [A-Za-z0-9-], 1..63 bytes, no '-' at
 * either end of a label, at least two labels. Empty labels (leading,
 * trailing or doubled dots) are refused by the length rule. */
static int member_email_domain_check(const char *s, size_t len, const char **why)
{
        size_t i, start = 0, labels = 0;

        for (i = 0; i <= len; i++) {
                size_t llen;

                if (i < len && s[i] != '.') {
                        if (!member_is_alpha(s[i]) && !member_is_digit(s[i]) && s[i] != '-')
                                return member_fail(why, "has a character that is not allowed "
                                                   "in the domain", -EINVAL);
                        continue;
                }
                /* s[start..i) is one label. */
                llen = i - start;
                if (llen == 0 || llen > 63)
                        return member_fail(why, "must have a domain of dot-separated parts of "
                                           "1 to 63 characters, without two dots in a row",
                                           -EINVAL);
                if (s[start] == '-' || s[i - 1] == '-')
                        return member_fail(why, "must not have a domain part that starts or ends "
                                           "with '-'", -EINVAL);
                labels++;
                start = i + 1;
        }
        if (labels < 2)
                return member_fail(why, "must have a domain with at least one dot after the '@'",
                                   -EINVAL);
        return 0;
}

int member_email_normalize(const char *in, char *out, size_t outlen, const char **why)
{
        const char *at = NULL;
        size_t len, i;
        int r;

        if (!in) {
                member_out_clear(out, outlen);
                return member_fail(why, "must be a valid email address of at most 254 characters",
                                   -EINVAL);
        }
        /* Bounded scan: a huge input costs no more than a long valid one. */
        len = strnlen(in, MEMBER_EMAIL_MAX + 1);
        if (len == 0 || len > MEMBER_EMAIL_MAX) {
                member_out_clear(out, outlen);
                return member_fail(why, "must be a valid email address of at most 254 characters",
                                   -EINVAL);
        }
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)in[i];

                /* Space, C0 controls, DEL and every non-ASCII byte. */
                if (c <= 0x20 || c >= 0x7F) {
                        member_out_clear(out, outlen);
                        return member_fail(why, "must not contain spaces, control characters or "
                                           "non-ASCII characters", -EINVAL);
                }
                if (c == '@') {
                        if (at) {
                                member_out_clear(out, outlen);
                                return member_fail(why, "must contain exactly one '@'", -EINVAL);
                        }
                        at = in + i;
                }
        }
        if (!at) {
                member_out_clear(out, outlen);
                return member_fail(why, "must contain exactly one '@'", -EINVAL);
        }
        r = member_email_local_check(in, (size_t)(at - in), why);
        if (r == 0)
                r = member_email_domain_check(at + 1, len - (size_t)(at - in) - 1, why);
        if (r < 0) {
                member_out_clear(out, outlen);
                return r;
        }
        if (!out || outlen < len + 1) {
                member_out_clear(out, outlen);
                return member_fail(why, "does not fit the output buffer", -ENOBUFS);
        }
        /* Byte by byte, so out == in works. */
        for (i = 0; i < len; i++)
                out[i] = member_ascii_lower(in[i]);
        out[len] = '\0';
        return member_ok(why);
}

/* ---- names and kana -------------------------------------------------------- */

static bool member_is_control(uint32_t cp)
{
        if (cp < 0x20 || cp == 0x7F)
                return true;                    /* C0 and DEL */
        if (cp >= 0x80 && cp <= 0x9F)
                return true;                    /* C1 */
        if (cp == 0x2028 || cp == 0x2029)
                return true;                    /* line / paragraph separator */
        if (cp >= 0x202A && cp <= 0x202E)
                return true;                    /* bidi embeddings and overrides */
        if (cp >= 0x2066 && cp <= 0x2069)
                return true;                    /* bidi isolates */
        return false;
}

static bool member_is_space(uint32_t cp)
{
        return cp == 0x20 || cp == 0x3000;
}

int member_name_valid(const char *s, size_t max_chars, const char **why)
{
        size_t len, off = 0, count = 0;
        bool visible = false;
        uint32_t cp;
        int r;

        if (!s || !*s)
                return member_fail(why, "must not be empty", -EINVAL);
        len = strlen(s);
        while (off < len) {
                r = member_utf8_decode(s + off, len - off, &cp);
                if (r < 0)
                        return member_fail(why, "must be valid UTF-8", -EINVAL);
                off += (size_t)r;
                /* Stop at the first code point over the limit: bounded work. */
                count++;
                if (count > max_chars)
                        return member_fail(why, "is too long", -EINVAL);
                if (member_is_control(cp))
                        return member_fail(why, "must not contain control characters", -EINVAL);
                if (!member_is_space(cp))
                        visible = true;
        }
        if (!visible)
                return member_fail(why, "must not be only spaces", -EINVAL);
        return member_ok(why);
}

int member_kana_valid(const char *s, const char **why)
{
        size_t len, off = 0, count = 0;
        bool visible = false;
        uint32_t cp;
        int r;

        if (!s || !*s)
                return member_fail(why, "must not be empty", -EINVAL);
        len = strlen(s);
        while (off < len) {
                r = member_utf8_decode(s + off, len - off, &cp);
                if (r < 0)
                        return member_fail(why, "must be valid UTF-8", -EINVAL);
                off += (size_t)r;
                count++;
                if (count > MEMBER_KANA_MAX)
                        return member_fail(why, "must be at most 100 characters", -EINVAL);
                if (member_is_space(cp))
                        continue;
                if (cp < 0x30A0 || cp > 0x30FF)
                        return member_fail(why, "must be written in full-width katakana", -EINVAL);
                visible = true;
        }
        if (!visible)
                return member_fail(why, "must not be only spaces", -EINVAL);
        return member_ok(why);
}

/* ---- phone and postcode ------------------------------------------------------ */

int member_phone_normalize(const char *in, char *out, size_t outlen, const char **why)
{
        char digits[MEMBER_PHONE_BUFSZ];
        const char *p = in;
        bool intl = false, after_sep;
        size_t n = 0;

        if (!in || !*in) {
                member_out_clear(out, outlen);
                return member_fail(why, "must not be empty", -EINVAL);
        }
        if (*p == '+') {
                if (p[1] != '8' || p[2] != '1') {
                        member_out_clear(out, outlen);
                        return member_fail(why, "must be a Japanese number (+81)", -EINVAL);
                }
                p += 3;
                /* "+81 90..." and "+81-90...": one separator after the code. */
                if (*p == ' ' || *p == '-')
                        p++;
                if (*p == '0') {
                        member_out_clear(out, outlen);
                        return member_fail(why, "must leave out the leading 0 after +81", -EINVAL);
                }
                intl = true;
                digits[n++] = '0';
        }
        /*
         * Digits with single separators between them. after_sep starts
         * true so that a separator at the start is refused like a doubled
         * one; at the end it tells a trailing separator (or no digit).
         */
        after_sep = true;
        for (; *p; p++) {
                if (member_is_digit(*p)) {
                        /* Bail out early: the input can be arbitrarily long. */
                        if (n >= MEMBER_PHONE_BUFSZ - 1) {
                                member_out_clear(out, outlen);
                                return member_fail(why, "must have 10 or 11 digits", -EINVAL);
                        }
                        digits[n++] = *p;
                        after_sep = false;
                } else if (*p == '-' || *p == ' ') {
                        if (after_sep) {
                                member_out_clear(out, outlen);
                                return member_fail(why, "must be digits separated by single "
                                                   "hyphens or spaces", -EINVAL);
                        }
                        after_sep = true;
                } else {
                        member_out_clear(out, outlen);
                        return member_fail(why, "must be digits separated by single hyphens "
                                           "or spaces", -EINVAL);
                }
        }
        if (after_sep) {
                member_out_clear(out, outlen);
                return member_fail(why, "must be digits separated by single hyphens or spaces",
                                   -EINVAL);
        }
        if (n < 10) {
                member_out_clear(out, outlen);
                return member_fail(why, "must have 10 or 11 digits", -EINVAL);
        }
        if (digits[0] != '0' || digits[1] == '0') {
                member_out_clear(out, outlen);
                return member_fail(why, intl ? "must leave out the leading 0 after +81"
                                             : "must start with 0 followed by a non-zero digit",
                                   -EINVAL);
        }
        digits[n] = '\0';
        if (!out || outlen < n + 1) {
                member_out_clear(out, outlen);
                return member_fail(why, "does not fit the output buffer", -ENOBUFS);
        }
        memcpy(out, digits, n + 1);
        return member_ok(why);
}

int member_postcode_normalize(const char *in, char *out, size_t outlen, const char **why)
{
        static const char *const bad = "must be 7 digits, as 1000001 or 100-0001";
        char code[MEMBER_POSTCODE_BUFSZ];
        size_t len, i, n = 0;

        if (!in) {
                member_out_clear(out, outlen);
                return member_fail(why, bad, -EINVAL);
        }
        len = strnlen(in, 9);
        if (len == 8 && in[3] != '-') {
                member_out_clear(out, outlen);
                return member_fail(why, bad, -EINVAL);
        }
        if (len != 7 && len != 8) {
                member_out_clear(out, outlen);
                return member_fail(why, bad, -EINVAL);
        }
        for (i = 0; i < len; i++) {
                if (len == 8 && i == 3)
                        continue;
                if (!member_is_digit(in[i])) {
                        member_out_clear(out, outlen);
                        return member_fail(why, bad, -EINVAL);
                }
                if (n == 3)
                        code[n++] = '-';
                code[n++] = in[i];
        }
        code[n] = '\0';
        if (!out || outlen < sizeof(code)) {
                member_out_clear(out, outlen);
                return member_fail(why, "does not fit the output buffer", -ENOBUFS);
        }
        memcpy(out, code, sizeof(code));
        return member_ok(why);
}

/* ---- prefectures ------------------------------------------------------------- */

/* JIS X 0401 order: the index + 1 is the prefecture code. */
static const char *const member_prefectures[47] = {
        "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県",
        "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県",
        "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県",
        "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県",
        "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県",
        "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県",
        "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
};

int member_prefecture_code(const char *s)
{
        size_t i;

        if (!s)
                return -1;
        for (i = 0; i < MEMBER_NELEMS(member_prefectures); i++) {
                if (strcmp(member_prefectures[i], s) == 0)
                        return (int)i + 1;
        }
        return -1;
}

const char *member_prefecture_name(int code)
{
        if (code < 1 || code > (int)MEMBER_NELEMS(member_prefectures))
                return NULL;
        return member_prefectures[code - 1];
}

int member_prefecture_valid(const char *s, const char **why)
{
        if (member_prefecture_code(s) < 0)
                return member_fail(why, "must be one of the 47 prefectures, written in Japanese "
                                   "(for example 東京都)", -EINVAL);
        return member_ok(why);
}

/* ---- passwords ------------------------------------------------------------------ */

/*
 * Very common passwords that the length rule alone lets through (every
 * entry is at least MEMBER_PASSWORD_MIN bytes; shorter ones are refused
 * anyway). Compared ignoring ASCII case. Runs of one character
 * ("1111111111") are caught by the repeated-character rule instead.
 */
static const char *const member_common_passwords[] = {
        "password123", "password1234", "password12", "password1!", "passw0rd123",
        "1234567890", "0123456789", "0987654321", "9876543210", "12345678910",
        "1234567891", "123456789a", "a123456789", "abc1234567", "abcd123456",
        "abcdefghij", "qwertyuiop", "qwerty1234", "qwerty12345", "qwerty123456",
        "1q2w3e4r5t", "1qaz2wsx3edc", "asdfghjkl1", "zxcvbnm123", "iloveyou123",
        "letmein123", "welcome123", "admin12345", "sunshine123", "princess123",
        "football123", "baseball123",
};

static bool member_password_common(const char *pw)
{
        size_t i;

        for (i = 0; i < MEMBER_NELEMS(member_common_passwords); i++) {
                if (member_ascii_case_equal(pw, member_common_passwords[i]))
                        return true;
        }
        return false;
}

/* True when pw (valid UTF-8) is one code point repeated. */
static bool member_password_one_char(const char *pw, size_t len)
{
        uint32_t first, cp;
        size_t off;
        int r;

        r = member_utf8_decode(pw, len, &first);
        if (r < 0)
                return false;
        for (off = (size_t)r; off < len; off += (size_t)r) {
                r = member_utf8_decode(pw + off, len - off, &cp);
                if (r < 0 || cp != first)
                        return false;
        }
        return true;
}

int member_password_valid(const char *pw, const char *email, const char **why)
{
        size_t len;

        if (!pw)
                return member_fail(why, "must be 10 to 128 bytes long", -EINVAL);
        len = strnlen(pw, MEMBER_PASSWORD_MAX + 1);
        if (len < MEMBER_PASSWORD_MIN || len > MEMBER_PASSWORD_MAX)
                return member_fail(why, "must be 10 to 128 bytes long", -EINVAL);
        if (member_utf8_length(pw, NULL) < 0)
                return member_fail(why, "must be valid UTF-8", -EINVAL);
        if (email && member_ascii_case_equal(pw, email))
                return member_fail(why, "must not be the email address", -EINVAL);
        if (member_password_one_char(pw, len))
                return member_fail(why, "must not be one character repeated", -EINVAL);
        if (member_password_common(pw))
                return member_fail(why, "is too common", -EINVAL);
        return member_ok(why);
}

/* ---- dates and age (CS-2) ---------------------------------------------------------- */

static bool member_is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int member_days_in_month(int64_t y, int m)
{
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        if (m == 2 && member_is_leap(y))
                return 29;
        return days[m - 1];
}

bool member_date_valid(int y, int m, int d)
{
        if (y < MEMBER_DATE_YEAR_MIN || y > MEMBER_DATE_YEAR_MAX)
                return false;
        if (m < 1 || m > 12)
                return false;
        return d >= 1 && d <= member_days_in_month(y, m);
}

/* n ASCII digits at s as a number, or -1. */
static int member_parse_digits(const char *s, size_t n)
{
        int v = 0;
        size_t i;

        for (i = 0; i < n; i++) {
                if (!member_is_digit(s[i]))
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

int member_date_parse(const char *s, int *y, int *m, int *d)
{
        int yy, mm, dd;

        /* strnlen(…, 11) == 10: exactly ten bytes, nothing after. */
        if (!s || strnlen(s, 11) != 10 || s[4] != '-' || s[7] != '-')
                return -EINVAL;
        yy = member_parse_digits(s, 4);
        mm = member_parse_digits(s + 5, 2);
        dd = member_parse_digits(s + 8, 2);
        if (yy < 0 || mm < 0 || dd < 0 || !member_date_valid(yy, mm, dd))
                return -EINVAL;
        *y = yy;
        *m = mm;
        *d = dd;
        return 0;
}

/*
 * Days from 0001-01-01 (day 0) to 1970-01-01 in the proleptic Gregorian
 * calendar: 1969 years of 365 days plus their leap days
 * (1969/4 - 1969/100 + 1969/400 = 492 - 19 + 4 = 477).
 */
#define MEMBER_DAYS_0001_TO_1970        (1969 * 365 + 477)
/* Days in a 400-, 100-, 4- and 1-year Gregorian cycle starting on Jan 1
 * of a year y with y % 400 == 1. */
#define MEMBER_DAYS_400Y                146097
#define MEMBER_DAYS_100Y                36524
#define MEMBER_DAYS_4Y                  1461
/* 9999-12-31 is day 3652058 from 0001-01-01: 25 cycles of 400 years
 * reach 10001-01-01, and the leap year 10000 has 366 days. */
#define MEMBER_DAYS_LAST                (MEMBER_DAYS_400Y * 25 - 366 - 1)

int member_tokyo_date(int64_t now, int *y, int *m, int *d)
{
        int64_t days, rem, n, n400, n100, n4, n1, year;
        int month;

        /*
         * Floor division: C truncates towards zero, which would put the
         * second before the epoch on 1970-01-01 instead of 1969-12-31.
         * Adding the +9 h offset to the remainder rather than to now keeps
         * this free of overflow for every int64_t.
         */
        days = now / 86400;
        rem = now % 86400;
        if (rem < 0) {
                rem += 86400;
                days--;
        }
        if (rem + 9 * 3600 >= 86400)
                days++;
        if (days < -(int64_t)MEMBER_DAYS_0001_TO_1970 ||
            days > (int64_t)MEMBER_DAYS_LAST - MEMBER_DAYS_0001_TO_1970)
                return -ERANGE;
        n = days + MEMBER_DAYS_0001_TO_1970;

        /*
         * Peel off whole cycles. Years 1..400 form a 400-year cycle whose
         * only 400-divisible year is the last one; inside it, 100-year
         * blocks have 36524 days except the last (36525), and likewise
         * 4-year blocks have 1461 days except that their last year is the
         * leap one. So n100 == 4 or n1 == 4 means the very last day of a
         * longer block: Dec 31 of the year before.
         */
        n400 = n / MEMBER_DAYS_400Y;
        n %= MEMBER_DAYS_400Y;
        n100 = n / MEMBER_DAYS_100Y;
        n %= MEMBER_DAYS_100Y;
        n4 = n / MEMBER_DAYS_4Y;
        n %= MEMBER_DAYS_4Y;
        n1 = n / 365;
        n %= 365;
        year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;
        if (n100 == 4 || n1 == 4) {
                *y = (int)(year - 1);
                *m = 12;
                *d = 31;
                return 0;
        }
        /* n is now the 0-based day of the year. */
        for (month = 1; month < 12; month++) {
                int dim = member_days_in_month(year, month);

                if (n < dim)
                        break;
                n -= dim;
        }
        *y = (int)year;
        *m = month;
        *d = (int)n + 1;
        return 0;
}

int member_age_on(int by, int bm, int bd, int64_t now)
{
        int ty, tm, td, age, r;

        if (!member_date_valid(by, bm, bd))
                return -EINVAL;
        r = member_tokyo_date(now, &ty, &tm, &td);
        if (r < 0)
                return r;
        age = ty - by;
        /*
         * Not yet had this year's birthday: one year less. A Feb 29
         * birthday in a non-leap year compares (2, 28) < (2, 29) on Feb 28,
         * so the age goes up on Mar 1 (see the choice noted in member.h).
         */
        if (tm < bm || (tm == bm && td < bd))
                age--;
        if (age < 0)
                return -EINVAL;         /* born after today (Tokyo) */
        return age;
}

bool member_is_minor(int by, int bm, int bd, int64_t now, int adult_age)
{
        int age = member_age_on(by, bm, bd, now);

        if (age < 0)
                return true;
        return age < adult_age;
}

int member_birth_date_valid(const char *s, int64_t now, const char **why)
{
        int y, m, d, age;

        if (member_date_parse(s, &y, &m, &d) < 0)
                return member_fail(why, "must be a real date written YYYY-MM-DD, "
                                   "between 1900 and 2100", -EINVAL);
        age = member_age_on(y, m, d, now);
        if (age == -ERANGE)
                return member_fail(why, "cannot be checked against the current date", -EINVAL);
        if (age < 0)
                return member_fail(why, "must not be in the future", -EINVAL);
        if (age > MEMBER_AGE_MAX)
                return member_fail(why, "must not be more than 150 years ago", -EINVAL);
        return member_ok(why);
}

/* ---- suspension reasons (CS-3) ------------------------------------------------------- */

/* Terms article 3, items (1)..(13), in order. Codes are stable: stored in
 * the database and sent over the API. Never renumber or rename. */
const struct member_suspend_reason member_suspend_reasons[] = {
        { "past_revocation",
          "Registration was revoked in the past",
          "過去に会員登録の取消等の処分を受けている" },
        { "false_information",
          "Registered information is false",
          "登録した情報に虚偽の事項が含まれている" },
        { "law_or_terms_violation",
          "Violation of laws or of the terms",
          "法令違反または本規約等への違反" },
        { "duplicate_registration",
          "Duplicate of an existing registration",
          "既存の登録と会員登録が重複している" },
        { "insolvency",
          "Insolvency or suspension of payments",
          "債務超過、無資力、支払停止または支払不能" },
        { "unreachable",
          "Registered phone, email or address is unreachable",
          "登録した電話番号、メールアドレス、住所が不通" },
        { "fraudulent_use",
          "Fraudulent use or undue nuisance to others",
          "不正利用等により他の会員や第三者に不当に迷惑をかけた" },
        { "wallet_missing",
          "Wallet not registered or lost",
          "ウォレットへの登録が未完了、または登録を失った" },
        { "host_wallet_contract_ended",
          "Host wallet contract not concluded or terminated",
          "ウォレットのホスト契約が未締結、または解除された" },
        { "inactive",
          "No login within the configured period",
          "一定期間内にログインがなかった" },
        { "antisocial_forces",
          "Member of anti-social forces",
          "反社会的勢力に該当する" },
        { "violent_demands",
          "Violent, unjust or threatening demands or conduct",
          "暴力的な要求行為、不当な要求行為、脅迫的な言動等を行った" },
        { "unfit_conduct",
          "Other conduct unfit for a member",
          "その他会員としてふさわしくない行為があった" },
        /* Charger sharing terms art 29 (CS-35), after the art 3 list. */
        { "user_obligations_breach",
          "Breach of a user's obligations (charger sharing art 21, 22, 31) or the switch terms",
          "利用者の義務（第21条、第22条、第31条）または通電スイッチ利用規約への違反" },
};

const size_t member_suspend_reasons_count = MEMBER_NELEMS(member_suspend_reasons);

const struct member_suspend_reason *member_suspend_reason_find(const char *code)
{
        size_t i;

        if (!code)
                return NULL;
        for (i = 0; i < member_suspend_reasons_count; i++) {
                if (strcmp(member_suspend_reasons[i].code, code) == 0)
                        return &member_suspend_reasons[i];
        }
        return NULL;
}

/* ---- re-verification (CS-8) ------------------------------------------------------------ */

bool member_change_needs_reverification(const char *field)
{
        static const char *const exact[] = { "name", "address", "birth_date", "corporate_name" };
        size_t i;

        if (!field)
                return false;
        for (i = 0; i < MEMBER_NELEMS(exact); i++) {
                if (strcmp(field, exact[i]) == 0)
                        return true;
        }
        /* "address.<part>" with a non-empty part: any piece of the address. */
        return strncmp(field, "address.", 8) == 0 && field[8] != '\0';
}
