/*
 * member.h - the pure rules about members: kinds and statuses, field
 * validation and normalisation, birth dates and age (CS-2), the fixed list
 * of suspension reasons (CS-3) and which changes need re-verification (CS-8).
 *
 * Everything here is pure: no I/O, no allocation, no logging, no global
 * mutable state. The current time is always passed in as `now`, unix
 * seconds UTC. All strings are NUL-terminated UTF-8. The returned strings
 * (names, labels, `why` fragments) are static and owned by this module.
 *
 * Validators return 0 when the value is acceptable and a negative errno
 * otherwise: -EINVAL for a bad value, -ENOBUFS when a normalised value does
 * not fit the caller's buffer (a programming error: use the *_BUFSZ sizes
 * below). On failure they set *why to a static English sentence fragment
 * meant to follow the field's name ("email " + "must contain exactly one
 * '@'"); on success *why is set to NULL. `why` itself may be NULL. A NULL
 * input string is invalid, never a crash. Normalising functions leave ""
 * in `out` on failure (when outlen > 0); `out` may be the same buffer as
 * `in`.
 */
#ifndef ENEMANE_DOMAIN_MEMBER_H
#define ENEMANE_DOMAIN_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- kinds and statuses -------------------------------------------------- */

enum member_kind {
        MEMBER_INDIVIDUAL,
        MEMBER_CORPORATION,
};

/* "individual" / "corporation"; NULL for a value outside the enum. */
const char *member_kind_name(enum member_kind k);
/* The enum value (>= 0) for an exact, case-sensitive name, or -EINVAL. */
int member_kind_from_name(const char *s);

enum member_status {
        MEMBER_ACTIVE,
        MEMBER_SUSPENDED,
        MEMBER_WITHDRAWN,
};

/* "active" / "suspended" / "withdrawn"; NULL for a value outside the enum. */
const char *member_status_name(enum member_status s);
/* The enum value (>= 0) for an exact, case-sensitive name, or -EINVAL. */
int member_status_from_name(const char *s);

/* ---- UTF-8 ----------------------------------------------------------------- */

/* Decodes one code point from s[0..len). Strict: rejects overlong forms,
 * surrogates (U+D800..U+DFFF), values above U+10FFFF, stray continuation
 * bytes and truncated sequences. Returns the number of bytes used (1..4)
 * and sets *cp, or -EILSEQ (also for len == 0). */
int member_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Counts the code points of a NUL-terminated string: 0 and *ncp, or
 * -EILSEQ when it is not valid UTF-8 (or s is NULL). */
int member_utf8_length(const char *s, size_t *ncp);

/* ---- field validators ------------------------------------------------------ */

#define MEMBER_EMAIL_MAX        254     /* bytes, whole address */
#define MEMBER_EMAIL_LOCAL_MAX  64      /* bytes before the '@' */
#define MEMBER_EMAIL_BUFSZ      (MEMBER_EMAIL_MAX + 1)
#define MEMBER_PHONE_BUFSZ      12      /* 11 digits + NUL */
#define MEMBER_POSTCODE_BUFSZ   9       /* "100-0001" + NUL */
#define MEMBER_KANA_MAX         100     /* code points */
#define MEMBER_PASSWORD_MIN     10      /* bytes */
#define MEMBER_PASSWORD_MAX     128     /* bytes */

/* Validates an email address and writes its uniqueness key (CS-1: emails
 * are unique case-insensitively) to out: the address with every ASCII
 * letter lower-cased. Nothing is trimmed; the syntax accepted is a
 * practical subset of RFC 5321/5322: ASCII only, one '@', a dot-atom local
 * part of 1..64 atext characters and single inner dots, a domain of at
 * least two dot-separated labels of [A-Za-z0-9-] (1..63 each, no leading
 * or trailing '-'), at most 254 bytes in all. */
int member_email_normalize(const char *in, char *out, size_t outlen, const char **why);

/* A display name (person, corporation, host): valid UTF-8, 1..max_chars
 * code points, no control characters (C0, DEL, C1, and the Unicode line
 * and paragraph separators and bidirectional overrides/isolates, which can
 * make a name shown to other members render misleadingly), and not only
 * whitespace (ASCII space, U+3000). Not trimmed. */
int member_name_valid(const char *s, size_t max_chars, const char **why);

/* A furigana reading: 1..100 code points, each a full-width katakana
 * (U+30A0..U+30FF, which holds the prolonged sound mark U+30FC and the
 * middle dot U+30FB), an ASCII space or U+3000; not only spaces. */
int member_kana_valid(const char *s, const char **why);

/* A Japanese phone number: ASCII digits separated by single hyphens or
 * spaces, optionally in the international form "+81" followed by the
 * number without its leading 0 ("+81 90-1234-5678", "+819012345678").
 * Written to out as domestic digits only ("09012345678"). Valid when that
 * is 10 or 11 digits, starting with 0 and not with 00 (an international
 * call prefix, not a subscriber number). outlen >= MEMBER_PHONE_BUFSZ. */
int member_phone_normalize(const char *in, char *out, size_t outlen, const char **why);

/* A Japanese postal code, "1000001" or "100-0001", written to out as
 * "100-0001". outlen >= MEMBER_POSTCODE_BUFSZ. */
int member_postcode_normalize(const char *in, char *out, size_t outlen, const char **why);

/* One of the 47 prefectures, written in Japanese exactly as in JIS X 0401
 * ("北海道", "東京都", "大阪府", "京都府", "沖縄県", ...). */
int member_prefecture_valid(const char *s, const char **why);
/* The JIS X 0401 code 1..47 of a prefecture name, or -1. */
int member_prefecture_code(const char *s);
/* The name for a JIS code 1..47, or NULL. */
const char *member_prefecture_name(int code);

/* A new password: 10..128 bytes of valid UTF-8, not the member's email
 * (compared ignoring ASCII case; email may be NULL), not one character
 * repeated, and not in a built-in list of very common passwords (compared
 * ignoring ASCII case). */
int member_password_valid(const char *pw, const char *email, const char **why);

/* ---- dates and age (CS-2) ---------------------------------------------------- */

#define MEMBER_DATE_YEAR_MIN    1900
#define MEMBER_DATE_YEAR_MAX    2100
#define MEMBER_AGE_MAX          150

/* True when y-m-d is a real Gregorian calendar date (leap years included)
 * with MEMBER_DATE_YEAR_MIN <= y <= MEMBER_DATE_YEAR_MAX. */
bool member_date_valid(int y, int m, int d);
/* Parses exactly "YYYY-MM-DD" (ASCII digits, nothing before or after)
 * into a valid date as above: 0, or -EINVAL leaving *y, *m, *d untouched. */
int member_date_parse(const char *s, int *y, int *m, int *d);

/* The calendar date in Asia/Tokyo (UTC+9 all year; Japan has no DST) at
 * unix time `now`: 0, or -ERANGE when that date is outside years 1..9999. */
int member_tokyo_date(int64_t now, int *y, int *m, int *d);

/* Age in completed years on the Asia/Tokyo calendar date of `now`.
 *
 * Choice: the age increases at 00:00 Asia/Tokyo on the birthday, which is
 * what an app user expects. (Japanese law, 年齢計算ニ関スル法律, counts a
 * year as completed at the end of the day before the birthday, so a person
 * legally turns 18 one day earlier; we deliberately do not follow it.) A
 * person born on Feb 29 becomes a year older on Mar 1 in a non-leap year.
 *
 * Returns the age (>= 0), -EINVAL when the birth date is not valid (see
 * member_date_valid) or is after that Tokyo date, -ERANGE when `now` is
 * out of range (see member_tokyo_date). */
int member_age_on(int by, int bm, int bd, int64_t now);

/* True when the person is younger than adult_age on the Tokyo date of now.
 * An invalid or future birth date, or an out-of-range now, gives true: the
 * restrictive answer (a guardian consent is then required). Validate with
 * member_birth_date_valid() first. */
bool member_is_minor(int by, int bm, int bd, int64_t now, int adult_age);

/* A birth date given at registration: "YYYY-MM-DD" as member_date_parse,
 * not after today in Asia/Tokyo, and giving an age of at most 150. */
int member_birth_date_valid(const char *s, int64_t now, const char **why);

/* ---- suspension reasons (CS-3) ----------------------------------------------- */

/* One reason from the fixed list of the terms' article 3. The code is
 * stable (stored and sent over the API); the labels are for display. */
struct member_suspend_reason {
        const char *code;
        const char *label_en;
        const char *label_ja;
};

/* In the order of article 3 (1)..(13). */
extern const struct member_suspend_reason member_suspend_reasons[];
extern const size_t member_suspend_reasons_count;

/* The reason with this exact code, or NULL. */
const struct member_suspend_reason *member_suspend_reason_find(const char *code);

/* ---- re-verification (CS-8) ---------------------------------------------------- */

/* True when a change of this registered field makes a host's identity
 * verification stale: "name", "address" and any "address.<part>",
 * "birth_date", "corporate_name". */
bool member_change_needs_reverification(const char *field);

#endif
