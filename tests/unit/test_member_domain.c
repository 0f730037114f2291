/*
 * test_member_domain.c - unit tests of the pure member rules in
 * src/domain/member.c: kinds and statuses, UTF-8, email (CS-1), names,
 * kana, phone, postcode, prefecture, password, dates and age (CS-2),
 * suspension reasons (CS-3) and re-verification fields (CS-8).
 *
 * Tests are table-driven; a failing row is reported with its index and
 * input. Test names cite the rule id where they prove one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "domain/member.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Fails with the row index and input when cond does not hold. */
#define CHECK_ROW(cond, i, in)                                                  \
        do {                                                                    \
                if (!(cond))                                                    \
                        fail_msg("%s:%d row %zu (%s): %s", __FILE__, __LINE__,  \
                                 (size_t)(i), (in) ? (in) : "(null)", #cond);   \
        } while (0)

/* After a validator ran: a failure must explain itself, a success not. */
#define CHECK_WHY(r, why, i, in)                                                \
        do {                                                                    \
                if ((r) < 0)                                                    \
                        CHECK_ROW((why) != NULL && (why)[0] != '\0', i, in);    \
                else                                                            \
                        CHECK_ROW((why) == NULL, i, in);                        \
        } while (0)

/* Unix times (UTC) used by the age tests, each checked with an independent
 * tool (python datetime) when written. */
#define T_2025_01_01_0000Z      INT64_C(1735689600)     /* 09:00 JST same day */
#define T_2024_12_31_1500Z      INT64_C(1735657200)     /* 2025-01-01 00:00 JST */
#define T_2025_06_14_1500Z      INT64_C(1749913200)     /* 2025-06-15 00:00 JST */
#define T_2026_02_28_1500Z      INT64_C(1772290800)     /* 2026-03-01 00:00 JST */
#define T_2024_02_28_1500Z      INT64_C(1709132400)     /* 2024-02-29 00:00 JST */
#define T_2008_02_28_1500Z      INT64_C(1204210800)     /* 2008-02-29 00:00 JST */
#define T_2060_01_01_0000Z      INT64_C(2840140800)

/* ---- kinds and statuses ---------------------------------------------------- */

static void test_member_kind_names(void **state)
{
        assert_string_equal(member_kind_name(MEMBER_INDIVIDUAL), "individual");
        assert_string_equal(member_kind_name(MEMBER_CORPORATION), "corporation");
        assert_null(member_kind_name((enum member_kind)2));
        assert_null(member_kind_name((enum member_kind)-1));

        assert_int_equal(member_kind_from_name("individual"), MEMBER_INDIVIDUAL);
        assert_int_equal(member_kind_from_name("corporation"), MEMBER_CORPORATION);
        assert_int_equal(member_kind_from_name("Individual"), -EINVAL);
        assert_int_equal(member_kind_from_name("corp"), -EINVAL);
        assert_int_equal(member_kind_from_name(""), -EINVAL);
        assert_int_equal(member_kind_from_name(NULL), -EINVAL);
}

static void test_member_status_names(void **state)
{
        static const struct {
                enum member_status s;
                const char *name;
        } rows[] = {
                { MEMBER_ACTIVE, "active" },
                { MEMBER_SUSPENDED, "suspended" },
                { MEMBER_WITHDRAWN, "withdrawn" },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                CHECK_ROW(strcmp(member_status_name(rows[i].s), rows[i].name) == 0, i, rows[i].name);
                CHECK_ROW(member_status_from_name(rows[i].name) == (int)rows[i].s, i, rows[i].name);
        }
        assert_null(member_status_name((enum member_status)3));
        assert_int_equal(member_status_from_name("ACTIVE"), -EINVAL);
        assert_int_equal(member_status_from_name("active "), -EINVAL);
        assert_int_equal(member_status_from_name("revoked"), -EINVAL);
        assert_int_equal(member_status_from_name(NULL), -EINVAL);
}

/* ---- UTF-8 ------------------------------------------------------------------- */

static void test_utf8_decode_strict(void **state)
{
        static const struct {
                const char *bytes;
                size_t len;
                int ret;                /* bytes used, or -EILSEQ */
                uint32_t cp;
        } rows[] = {
                { "A", 1, 1, 0x41 },
                { "\x7f", 1, 1, 0x7F },
                { "\xc2\x80", 2, 2, 0x80 },                     /* smallest 2-byte */
                { "\xdf\xbf", 2, 2, 0x7FF },
                { "\xe0\xa0\x80", 3, 3, 0x800 },                /* smallest 3-byte */
                { "\xe3\x81\x82", 3, 3, 0x3042 },               /* あ */
                { "\xed\x9f\xbf", 3, 3, 0xD7FF },               /* just below surrogates */
                { "\xee\x80\x80", 3, 3, 0xE000 },               /* just above */
                { "\xef\xbf\xbf", 3, 3, 0xFFFF },
                { "\xf0\x90\x80\x80", 4, 4, 0x10000 },          /* smallest 4-byte */
                { "\xf0\x9f\x98\x80", 4, 4, 0x1F600 },          /* emoji */
                { "\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF },         /* largest */
                { "\xe3\x81\x82zz", 5, 3, 0x3042 },             /* stops after one */
                /* overlong forms */
                { "\xc0\x80", 2, -EILSEQ, 0 },
                { "\xc1\xbf", 2, -EILSEQ, 0 },
                { "\xe0\x80\x80", 3, -EILSEQ, 0 },
                { "\xe0\x9f\xbf", 3, -EILSEQ, 0 },
                { "\xf0\x80\x80\x80", 4, -EILSEQ, 0 },
                { "\xf0\x8f\xbf\xbf", 4, -EILSEQ, 0 },
                /* surrogates */
                { "\xed\xa0\x80", 3, -EILSEQ, 0 },
                { "\xed\xbf\xbf", 3, -EILSEQ, 0 },
                /* beyond U+10FFFF and impossible leads */
                { "\xf4\x90\x80\x80", 4, -EILSEQ, 0 },
                { "\xf5\x80\x80\x80", 4, -EILSEQ, 0 },
                { "\xf8\x88\x80\x80\x80", 5, -EILSEQ, 0 },
                { "\xfe", 1, -EILSEQ, 0 },
                { "\xff", 1, -EILSEQ, 0 },
                /* stray continuation, truncated, bad continuation */
                { "\x80", 1, -EILSEQ, 0 },
                { "\xbf", 1, -EILSEQ, 0 },
                { "\xe3\x81", 2, -EILSEQ, 0 },
                { "\xe3\x81\x82", 2, -EILSEQ, 0 },              /* len cuts it */
                { "\xe3\x41\x82", 3, -EILSEQ, 0 },
                { "\xc2", 2, -EILSEQ, 0 },                      /* NUL is no continuation */
                { "", 0, -EILSEQ, 0 },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                uint32_t cp = 0xDEADBEEF;
                int r = member_utf8_decode(rows[i].bytes, rows[i].len, &cp);

                CHECK_ROW(r == rows[i].ret, i, "utf8 row");
                if (rows[i].ret > 0)
                        CHECK_ROW(cp == rows[i].cp, i, "utf8 row");
        }
        assert_int_equal(member_utf8_decode(NULL, 1, &(uint32_t){ 0 }), -EILSEQ);
}

static void test_utf8_length(void **state)
{
        static const struct {
                const char *s;
                int ret;
                size_t n;
        } rows[] = {
                { "", 0, 0 },
                { "abc", 0, 3 },
                { "山田太郎", 0, 4 },
                { "a\xc3\xa9\xf0\x9f\x98\x80z", 0, 4 },         /* a é 😀 z */
                { "ok\xc0\xafno", -EILSEQ, 0 },
                { "abc\xed\xa0\x80", -EILSEQ, 0 },
                { "abc\xe3\x81", -EILSEQ, 0 },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                size_t n = 999;
                int r = member_utf8_length(rows[i].s, &n);

                CHECK_ROW(r == rows[i].ret, i, rows[i].s);
                if (r == 0)
                        CHECK_ROW(n == rows[i].n, i, rows[i].s);
        }
        assert_int_equal(member_utf8_length(NULL, NULL), -EILSEQ);
}

/* ---- email (CS-1) ------------------------------------------------------------ */

static void test_CS_1_email_normalized_case_insensitive(void **state)
{
        /* Spellings of one address that must map to one uniqueness key. */
        static const char *const same[] = {
                "taro.yamada@example.co.jp",
                "Taro.Yamada@Example.co.jp",
                "TARO.YAMADA@EXAMPLE.CO.JP",
                "tArO.yAmAdA@eXaMpLe.Co.Jp",
        };
        char key0[MEMBER_EMAIL_BUFSZ], key[MEMBER_EMAIL_BUFSZ];
        const char *why = "x";
        size_t i;

        assert_int_equal(member_email_normalize(same[0], key0, sizeof(key0), &why), 0);
        assert_null(why);
        assert_string_equal(key0, "taro.yamada@example.co.jp");
        for (i = 1; i < NELEMS(same); i++) {
                CHECK_ROW(member_email_normalize(same[i], key, sizeof(key), &why) == 0, i, same[i]);
                CHECK_ROW(strcmp(key, key0) == 0, i, same[i]);
        }
        /* A different address keeps a different key. */
        assert_int_equal(member_email_normalize("taro.yamada2@example.co.jp", key, sizeof(key), NULL), 0);
        assert_string_not_equal(key, key0);
}

static void test_CS_1_email_syntax(void **state)
{
        static const struct {
                const char *in;
                const char *key;        /* NULL: invalid */
        } rows[] = {
                { "taro@example.com", "taro@example.com" },
                { "Taro.Yamada+tag@Example.CO.JP", "taro.yamada+tag@example.co.jp" },
                { "a@b.co", "a@b.co" },
                { "o'brien@example.ie", "o'brien@example.ie" },
                { "!#$%&'*+-/=?^_`{|}~@mail-server.example.jp",
                  "!#$%&'*+-/=?^_`{|}~@mail-server.example.jp" },
                { "1@a-b.c", "1@a-b.c" },
                { "x@123.example", "x@123.example" },
                { "", NULL },
                { " taro@example.com", NULL },
                { "taro@example.com ", NULL },
                { "taro @example.com", NULL },
                { "taro\t@example.com", NULL },
                { "taro@example.com\n", NULL },
                { "taro\x7f@example.com", NULL },
                { "tar\xc3\xb6@example.com", NULL },            /* non-ASCII */
                { "taroexample.com", NULL },
                { "taro@@example.com", NULL },
                { "ta@ro@example.com", NULL },
                { "@example.com", NULL },
                { "taro@", NULL },
                { "taro@localhost", NULL },
                { "taro@.example.com", NULL },
                { "taro@example..com", NULL },
                { "taro@example.com.", NULL },
                { "taro@-example.com", NULL },
                { "taro@example-.com", NULL },
                { "taro@exa_mple.com", NULL },
                { ".taro@example.com", NULL },
                { "taro.@example.com", NULL },
                { "ta..ro@example.com", NULL },
                { "taro(x)@example.com", NULL },
                { "\"taro\"@example.com", NULL },
                { "ta,ro@example.com", NULL },
                { "taro@[127.0.0.1]", NULL },
        };
        char out[MEMBER_EMAIL_BUFSZ];
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                const char *why = "unset";
                int r;

                memset(out, 'Z', sizeof(out));
                r = member_email_normalize(rows[i].in, out, sizeof(out), &why);
                CHECK_WHY(r, why, i, rows[i].in);
                if (rows[i].key) {
                        CHECK_ROW(r == 0, i, rows[i].in);
                        CHECK_ROW(strcmp(out, rows[i].key) == 0, i, rows[i].in);
                } else {
                        CHECK_ROW(r == -EINVAL, i, rows[i].in);
                        CHECK_ROW(out[0] == '\0', i, rows[i].in);
                }
        }
        assert_int_equal(member_email_normalize(NULL, out, sizeof(out), NULL), -EINVAL);
}

static void test_CS_1_email_length_limits(void **state)
{
        char in[400], out[MEMBER_EMAIL_BUFSZ], small[8];
        const char *why;

        /* Local part of exactly 64 is fine, 65 is not. */
        memset(in, 'a', 64);
        strcpy(in + 64, "@example.com");
        assert_int_equal(member_email_normalize(in, out, sizeof(out), &why), 0);
        memset(in, 'a', 65);
        strcpy(in + 65, "@example.com");
        assert_int_equal(member_email_normalize(in, out, sizeof(out), &why), -EINVAL);
        assert_non_null(why);

        /* 254 bytes in all: 64 + '@' + 63 '.' 63 '.' 61 = 254. */
        memset(in, 'a', 64);
        in[64] = '@';
        memset(in + 65, 'b', 63);
        in[128] = '.';
        memset(in + 129, 'c', 63);
        in[192] = '.';
        memset(in + 193, 'd', 61);
        in[254] = '\0';
        assert_int_equal(strlen(in), 254);
        assert_int_equal(member_email_normalize(in, out, sizeof(out), &why), 0);
        assert_string_equal(out, in);
        /* One more byte in the last label: 255, too long. */
        in[254] = 'd';
        in[255] = '\0';
        assert_int_equal(member_email_normalize(in, out, sizeof(out), &why), -EINVAL);

        /* A domain label of 64 bytes is refused. */
        strcpy(in, "x@");
        memset(in + 2, 'e', 64);
        strcpy(in + 66, ".jp");
        assert_int_equal(member_email_normalize(in, out, sizeof(out), &why), -EINVAL);

        /* Valid but the output buffer is too small: -ENOBUFS, "" left. */
        assert_int_equal(member_email_normalize("taro@example.com", small, sizeof(small), &why), -ENOBUFS);
        assert_non_null(why);
        assert_string_equal(small, "");
        assert_int_equal(member_email_normalize("taro@example.com", NULL, 0, &why), -ENOBUFS);

        /* In place. */
        strcpy(in, "Hanako@Example.JP");
        assert_int_equal(member_email_normalize(in, in, sizeof(in), NULL), 0);
        assert_string_equal(in, "hanako@example.jp");
}

/* ---- names and kana ------------------------------------------------------------ */

static void test_name_valid(void **state)
{
        static const struct {
                const char *s;
                size_t max;
                int ret;
        } rows[] = {
                { "山田太郎", 5, 0 },
                { "山田 太郎", 5, 0 },
                { "山田　太郎", 5, 0 },                         /* U+3000 inside */
                { "山田太郎花", 5, 0 },                         /* exactly 5 code points */
                { "山田太郎花子", 5, -EINVAL },                 /* 6 */
                { "abcde", 5, 0 },
                { "abcdef", 5, -EINVAL },
                { "Renée", 5, 0 },
                { "\xf0\x9f\x98\x80", 1, 0 },                   /* one emoji, 4 bytes */
                { "株式会社エネマネ", 100, 0 },
                { " 山田", 5, 0 },                              /* not trimmed, still allowed */
                { "", 5, -EINVAL },
                { " ", 5, -EINVAL },
                { "　", 5, -EINVAL },
                { " 　 ", 5, -EINVAL },
                { "a\tb", 5, -EINVAL },                         /* C0 */
                { "a\nb", 5, -EINVAL },
                { "a\x7f", 5, -EINVAL },                        /* DEL */
                { "a\xc2\x85", 5, -EINVAL },                    /* C1 NEL */
                { "a\xc2\x9f", 5, -EINVAL },                    /* C1 APC */
                { "a\xc2\xa0" "b", 5, 0 },                      /* NBSP is not C1 */
                { "ab\xe2\x80\xae" "cd", 10, -EINVAL },         /* RLO */
                { "ab\xe2\x81\xa6" "cd", 10, -EINVAL },         /* LRI */
                { "ab\xe2\x80\xa8" "cd", 10, -EINVAL },         /* LINE SEPARATOR */
                { "a\xc0\xaf", 5, -EINVAL },                    /* overlong */
                { "a\xed\xa0\x80", 5, -EINVAL },                /* surrogate */
                { "a\xf4\x90\x80\x80", 5, -EINVAL },            /* > U+10FFFF */
                { "a\xe3\x81", 5, -EINVAL },                    /* truncated */
                { "a", 0, -EINVAL },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                const char *why = "unset";
                int r = member_name_valid(rows[i].s, rows[i].max, &why);

                CHECK_ROW(r == rows[i].ret, i, rows[i].s);
                CHECK_WHY(r, why, i, rows[i].s);
        }
        assert_int_equal(member_name_valid(NULL, 5, NULL), -EINVAL);
}

static void test_kana_valid(void **state)
{
        static const struct {
                const char *s;
                int ret;
        } rows[] = {
                { "ヤマダ タロウ", 0 },
                { "ヤマダ　タロウ", 0 },
                { "ヤマダ・タロウ", 0 },                        /* middle dot U+30FB */
                { "ヴィーナス", 0 },                            /* prolonged sound mark */
                { "ァィゥェォヵヶ", 0 },                        /* small kana */
                { "゠", 0 },                                    /* U+30A0 */
                { "ヿ", 0 },                                    /* U+30FF */
                { "ー", 0 },
                { "やまだ", -EINVAL },                          /* hiragana */
                { "ﾔﾏﾀﾞ", -EINVAL },                             /* half-width katakana */
                { "Yamada", -EINVAL },
                { "ヤマダ1", -EINVAL },
                { "山田", -EINVAL },
                { "ヤマダ\tタロウ", -EINVAL },
                { "ヤマダ\xe3\x82", -EINVAL },                  /* truncated */
                { "ㇰ", -EINVAL },                               /* U+31F0, outside the block */
                { "", -EINVAL },
                { " ", -EINVAL },
                { "　　", -EINVAL },
        };
        char long_kana[101 * 3 + 1];
        const char *why;
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                int r;

                why = "unset";
                r = member_kana_valid(rows[i].s, &why);
                CHECK_ROW(r == rows[i].ret, i, rows[i].s);
                CHECK_WHY(r, why, i, rows[i].s);
        }
        assert_int_equal(member_kana_valid(NULL, NULL), -EINVAL);

        /* 100 code points pass, 101 do not ("ア" is 3 bytes). */
        for (i = 0; i < 100; i++)
                memcpy(long_kana + 3 * i, "ア", 3);
        long_kana[300] = '\0';
        assert_int_equal(member_kana_valid(long_kana, &why), 0);
        memcpy(long_kana + 300, "ア", 3);
        long_kana[303] = '\0';
        assert_int_equal(member_kana_valid(long_kana, &why), -EINVAL);
        assert_non_null(why);
}

/* ---- phone and postcode ------------------------------------------------------------ */

static void test_phone_normalize(void **state)
{
        static const struct {
                const char *in;
                const char *out;        /* NULL: invalid */
        } rows[] = {
                { "090-1234-5678", "09012345678" },
                { "09012345678", "09012345678" },
                { "090 1234 5678", "09012345678" },
                { "090-1234 5678", "09012345678" },
                { "+81 90-1234-5678", "09012345678" },
                { "+81-90-1234-5678", "09012345678" },
                { "+819012345678", "09012345678" },
                { "+81 3-1234-5678", "0312345678" },
                { "03-1234-5678", "0312345678" },
                { "0120-123-456", "0120123456" },
                { "0800-123-4567", "08001234567" },
                { "", NULL },
                { "090--1234-5678", NULL },
                { "090  1234 5678", NULL },
                { "-09012345678", NULL },
                { " 09012345678", NULL },
                { "09012345678-", NULL },
                { "09012345678 ", NULL },
                { "090123456", NULL },                  /* 9 digits */
                { "090123456789", NULL },               /* 12 digits */
                { "12345678901", NULL },                /* no leading 0 */
                { "0012345678", NULL },                 /* 00: international prefix */
                { "+1 555 123 4567", NULL },
                { "+8", NULL },
                { "+81", NULL },
                { "+81 ", NULL },
                { "+81  90-1234-5678", NULL },
                { "+81 090-1234-5678", NULL },          /* trunk 0 kept after +81 */
                { "+81 9012345678901", NULL },
                { "81-90-1234-5678", NULL },            /* 81 without '+' */
                { "090.1234.5678", NULL },
                { "(090)1234-5678", NULL },
                { "090-1234-5678x", NULL },
                { "０９０１２３４５６７８", NULL },     /* full-width digits */
                { "090\xe2\x80\x90" "1234-5678", NULL },/* U+2010 hyphen */
        };
        char out[MEMBER_PHONE_BUFSZ], small[11];
        char in[32];
        const char *why;
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                int r;

                why = "unset";
                memset(out, 'Z', sizeof(out));
                r = member_phone_normalize(rows[i].in, out, sizeof(out), &why);
                CHECK_WHY(r, why, i, rows[i].in);
                if (rows[i].out) {
                        CHECK_ROW(r == 0, i, rows[i].in);
                        CHECK_ROW(strcmp(out, rows[i].out) == 0, i, rows[i].in);
                } else {
                        CHECK_ROW(r == -EINVAL, i, rows[i].in);
                        CHECK_ROW(out[0] == '\0', i, rows[i].in);
                }
        }
        assert_int_equal(member_phone_normalize(NULL, out, sizeof(out), NULL), -EINVAL);

        /* 11 digits do not fit 11 bytes (no room for NUL); 10 digits do. */
        assert_int_equal(member_phone_normalize("090-1234-5678", small, sizeof(small), &why), -ENOBUFS);
        assert_string_equal(small, "");
        assert_int_equal(member_phone_normalize("03-1234-5678", small, sizeof(small), &why), 0);
        assert_string_equal(small, "0312345678");

        /* In place. */
        strcpy(in, "+81 80-9876-5432");
        assert_int_equal(member_phone_normalize(in, in, sizeof(in), NULL), 0);
        assert_string_equal(in, "08098765432");
}

static void test_postcode_normalize(void **state)
{
        static const struct {
                const char *in;
                const char *out;        /* NULL: invalid */
        } rows[] = {
                { "1000001", "100-0001" },
                { "100-0001", "100-0001" },
                { "0600000", "060-0000" },
                { "9071801", "907-1801" },
                { "", NULL },
                { "100-001", NULL },
                { "100001", NULL },
                { "10000011", NULL },
                { "100-00011", NULL },
                { "1000-001", NULL },
                { "10-00001", NULL },
                { "100_0001", NULL },
                { "100 0001", NULL },
                { "100--001", NULL },
                { "abc-defg", NULL },
                { "100-000a", NULL },
                { " 1000001", NULL },
                { "1000001 ", NULL },
                { "〒100-0001", NULL },
                { "１００-０００１", NULL },
        };
        char out[MEMBER_POSTCODE_BUFSZ], small[8];
        const char *why;
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                int r;

                why = "unset";
                memset(out, 'Z', sizeof(out));
                r = member_postcode_normalize(rows[i].in, out, sizeof(out), &why);
                CHECK_WHY(r, why, i, rows[i].in);
                if (rows[i].out) {
                        CHECK_ROW(r == 0, i, rows[i].in);
                        CHECK_ROW(strcmp(out, rows[i].out) == 0, i, rows[i].in);
                } else {
                        CHECK_ROW(r == -EINVAL, i, rows[i].in);
                        CHECK_ROW(out[0] == '\0', i, rows[i].in);
                }
        }
        assert_int_equal(member_postcode_normalize(NULL, out, sizeof(out), NULL), -EINVAL);
        assert_int_equal(member_postcode_normalize("1000001", small, sizeof(small), &why), -ENOBUFS);
        assert_string_equal(small, "");
}

/* ---- prefectures ------------------------------------------------------------------ */

static void test_prefecture_codes(void **state)
{
        static const struct {
                const char *name;
                int code;
        } known[] = {
                { "北海道", 1 }, { "青森県", 2 }, { "宮城県", 4 }, { "茨城県", 8 },
                { "埼玉県", 11 }, { "千葉県", 12 }, { "東京都", 13 }, { "神奈川県", 14 },
                { "新潟県", 15 }, { "愛知県", 23 }, { "京都府", 26 }, { "大阪府", 27 },
                { "兵庫県", 28 }, { "和歌山県", 30 }, { "広島県", 34 }, { "福岡県", 40 },
                { "鹿児島県", 46 }, { "沖縄県", 47 },
        };
        static const char *const bad[] = {
                "東京", "Tokyo", "tokyo", "東京都 ", " 東京都", "大阪", "北海道庁",
                "京都", "東京都東京都", "", "\xe6\x9d\xb1",
        };
        const char *why;
        size_t i;
        int code, seen[48] = { 0 };

        for (i = 0; i < NELEMS(known); i++) {
                CHECK_ROW(member_prefecture_code(known[i].name) == known[i].code, i, known[i].name);
                why = "unset";
                CHECK_ROW(member_prefecture_valid(known[i].name, &why) == 0, i, known[i].name);
                CHECK_ROW(why == NULL, i, known[i].name);
        }
        /* Every code 1..47 names a distinct prefecture that maps back. */
        for (code = 1; code <= 47; code++) {
                const char *name = member_prefecture_name(code);

                assert_non_null(name);
                assert_int_equal(member_prefecture_code(name), code);
                seen[code]++;
        }
        for (code = 1; code <= 47; code++)
                assert_int_equal(seen[code], 1);
        assert_null(member_prefecture_name(0));
        assert_null(member_prefecture_name(48));
        assert_null(member_prefecture_name(-1));

        for (i = 0; i < NELEMS(bad); i++) {
                CHECK_ROW(member_prefecture_code(bad[i]) == -1, i, bad[i]);
                why = NULL;
                CHECK_ROW(member_prefecture_valid(bad[i], &why) == -EINVAL, i, bad[i]);
                CHECK_ROW(why != NULL, i, bad[i]);
        }
        assert_int_equal(member_prefecture_code(NULL), -1);
        assert_int_equal(member_prefecture_valid(NULL, NULL), -EINVAL);
}

/* ---- passwords ------------------------------------------------------------------------ */

static void test_password_valid(void **state)
{
        static const struct {
                const char *pw;
                const char *email;
                int ret;
        } rows[] = {
                { "correct horse battery staple", NULL, 0 },
                { "Tr0ub4dor&3x", "taro@example.com", 0 },
                { "a1b2c3d4e5", NULL, 0 },                              /* exactly 10 */
                { "パスワードは長い", NULL, 0 },                        /* 8 chars, 24 bytes */
                { "aaaaaaaaab", NULL, 0 },                              /* not all the same */
                { "a1b2c3d4e", NULL, -EINVAL },                         /* 9 */
                { "short", NULL, -EINVAL },
                { "", NULL, -EINVAL },
                { "aaaaaaaaaaaa", NULL, -EINVAL },                      /* one char repeated */
                { "1111111111", NULL, -EINVAL },
                { "ああああ", NULL, -EINVAL },                          /* 12 bytes, one char */
                { "password123", NULL, -EINVAL },
                { "Password123", NULL, -EINVAL },                       /* common, any ASCII case */
                { "PASSWORD123", NULL, -EINVAL },
                { "1234567890", NULL, -EINVAL },
                { "qwertyuiop", NULL, -EINVAL },
                { "QwertyUiop", NULL, -EINVAL },
                { "1qaz2wsx3edc", NULL, -EINVAL },
                { "taro@example.com", "taro@example.com", -EINVAL },
                { "Taro@Example.com", "taro@example.COM", -EINVAL },   /* same email, other case */
                { "taro@example.com1", "taro@example.com", 0 },        /* longer: not equal */
                { "abcdefghi\xff", NULL, -EINVAL },                     /* invalid UTF-8 */
                { "abcdefgh\xc0\xaf", NULL, -EINVAL },                  /* overlong */
        };
        char pw[200];
        const char *why;
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                int r;

                why = "unset";
                r = member_password_valid(rows[i].pw, rows[i].email, &why);
                CHECK_ROW(r == rows[i].ret, i, rows[i].pw);
                CHECK_WHY(r, why, i, rows[i].pw);
        }
        assert_int_equal(member_password_valid(NULL, NULL, NULL), -EINVAL);

        /* 128 bytes pass, 129 do not. */
        for (i = 0; i < 128; i++)
                pw[i] = (char)('a' + (i % 26));
        pw[128] = '\0';
        assert_int_equal(member_password_valid(pw, NULL, &why), 0);
        pw[128] = 'x';
        pw[129] = '\0';
        assert_int_equal(member_password_valid(pw, NULL, &why), -EINVAL);
        assert_non_null(why);
}

/* ---- dates (CS-2) ------------------------------------------------------------------------ */

static void test_date_parse(void **state)
{
        static const struct {
                const char *s;
                int ret, y, m, d;
        } rows[] = {
                { "2000-02-29", 0, 2000, 2, 29 },       /* divisible by 400: leap */
                { "2024-02-29", 0, 2024, 2, 29 },
                { "1900-01-01", 0, 1900, 1, 1 },
                { "2100-12-31", 0, 2100, 12, 31 },
                { "2024-04-30", 0, 2024, 4, 30 },
                { "1985-12-31", 0, 1985, 12, 31 },
                { "1900-02-29", -EINVAL, 0, 0, 0 },     /* divisible by 100: not leap */
                { "2100-02-29", -EINVAL, 0, 0, 0 },
                { "2023-02-29", -EINVAL, 0, 0, 0 },
                { "2024-02-30", -EINVAL, 0, 0, 0 },
                { "2024-04-31", -EINVAL, 0, 0, 0 },
                { "2024-13-01", -EINVAL, 0, 0, 0 },
                { "2024-00-10", -EINVAL, 0, 0, 0 },
                { "2024-01-00", -EINVAL, 0, 0, 0 },
                { "2024-01-32", -EINVAL, 0, 0, 0 },
                { "1899-12-31", -EINVAL, 0, 0, 0 },
                { "2101-01-01", -EINVAL, 0, 0, 0 },
                { "2024-4-01", -EINVAL, 0, 0, 0 },
                { "2024-04-1", -EINVAL, 0, 0, 0 },
                { "2024-04-01 ", -EINVAL, 0, 0, 0 },
                { " 2024-04-01", -EINVAL, 0, 0, 0 },
                { "2024-04-01T00:00:00Z", -EINVAL, 0, 0, 0 },
                { "2024/04/01", -EINVAL, 0, 0, 0 },
                { "20240401", -EINVAL, 0, 0, 0 },
                { "+024-04-01", -EINVAL, 0, 0, 0 },
                { "2024-+4-01", -EINVAL, 0, 0, 0 },
                { "2024--4-01", -EINVAL, 0, 0, 0 },
                { "２０２４-04-01", -EINVAL, 0, 0, 0 },
                { "", -EINVAL, 0, 0, 0 },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                int y = -7, m = -7, d = -7;
                int r = member_date_parse(rows[i].s, &y, &m, &d);

                CHECK_ROW(r == rows[i].ret, i, rows[i].s);
                if (r == 0) {
                        CHECK_ROW(y == rows[i].y && m == rows[i].m && d == rows[i].d, i, rows[i].s);
                } else {
                        /* Outputs untouched on failure. */
                        CHECK_ROW(y == -7 && m == -7 && d == -7, i, rows[i].s);
                }
        }
        assert_int_equal(member_date_parse(NULL, &(int){ 0 }, &(int){ 0 }, &(int){ 0 }), -EINVAL);
        assert_true(member_date_valid(2000, 2, 29));
        assert_false(member_date_valid(1900, 2, 29));
        assert_false(member_date_valid(2024, 0, 1));
}

/*
 * The Tokyo calendar date of every day from 1900-01-01 to 2100-12-31,
 * checked against a naive day-by-day counter (independent of the cycle
 * arithmetic under test), at both ends of each Tokyo day.
 */
static void test_tokyo_date_every_day(void **state)
{
        static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        /* 1900-01-01 00:00 JST: 25567 days before the epoch, minus 9 h. */
        int64_t t = INT64_C(-25567) * 86400 - 9 * 3600;
        int ey = 1900, em = 1, ed = 1;

        while (ey <= 2100) {
                int y, m, d, n;

                assert_int_equal(member_tokyo_date(t, &y, &m, &d), 0);
                if (y != ey || m != em || d != ed)
                        fail_msg("t=%lld start of day: got %d-%d-%d, want %d-%d-%d",
                                 (long long)t, y, m, d, ey, em, ed);
                assert_int_equal(member_tokyo_date(t + 86399, &y, &m, &d), 0);
                if (y != ey || m != em || d != ed)
                        fail_msg("t=%lld end of day: got %d-%d-%d, want %d-%d-%d",
                                 (long long)t + 86399, y, m, d, ey, em, ed);
                n = dim[em - 1];
                if (em == 2 && ((ey % 4 == 0 && ey % 100 != 0) || ey % 400 == 0))
                        n = 29;
                ed++;
                if (ed > n) {
                        ed = 1;
                        em++;
                }
                if (em > 12) {
                        em = 1;
                        ey++;
                }
                t += 86400;
        }
}

static void test_tokyo_date_offset_and_range(void **state)
{
        int y, m, d;

        /* 1970-01-01 00:00 JST is 1969-12-31 15:00 UTC. */
        assert_int_equal(member_tokyo_date(-32401, &y, &m, &d), 0);
        assert_true(y == 1969 && m == 12 && d == 31);
        assert_int_equal(member_tokyo_date(-32400, &y, &m, &d), 0);
        assert_true(y == 1970 && m == 1 && d == 1);
        assert_int_equal(member_tokyo_date(0, &y, &m, &d), 0);
        assert_true(y == 1970 && m == 1 && d == 1);
        /* 2000-02-29 00:00 UTC is 09:00 JST the same day. */
        assert_int_equal(member_tokyo_date(INT64_C(951782400), &y, &m, &d), 0);
        assert_true(y == 2000 && m == 2 && d == 29);

        /* Range: 0001-01-01 .. 9999-12-31 in Tokyo. 0001-01-01 is day
         * -719162; 9999-12-31 is day 2932896 from the epoch. */
        assert_int_equal(member_tokyo_date(INT64_C(-719162) * 86400 - 9 * 3600, &y, &m, &d), 0);
        assert_true(y == 1 && m == 1 && d == 1);
        assert_int_equal(member_tokyo_date(INT64_C(-719162) * 86400 - 9 * 3600 - 1, &y, &m, &d), -ERANGE);
        assert_int_equal(member_tokyo_date(INT64_C(2932896) * 86400 - 9 * 3600, &y, &m, &d), 0);
        assert_true(y == 9999 && m == 12 && d == 31);
        assert_int_equal(member_tokyo_date(INT64_C(2932897) * 86400 - 9 * 3600, &y, &m, &d), -ERANGE);
        /* The extremes of int64_t do not overflow. */
        assert_int_equal(member_tokyo_date(INT64_MAX, &y, &m, &d), -ERANGE);
        assert_int_equal(member_tokyo_date(INT64_MIN, &y, &m, &d), -ERANGE);
        assert_int_equal(member_age_on(2000, 1, 1, INT64_MAX), -ERANGE);
}

static void test_CS_2_minor_by_birth_date_in_tokyo(void **state)
{
        /*
         * Born 2007-06-15: turns 18 at 2025-06-15 00:00 JST, which is
         * 2025-06-14 15:00 UTC. At that instant the UTC date is still the
         * 14th but the Tokyo date is the 15th, so an implementation that
         * used the UTC date would wrongly still answer "minor".
         */
        static const struct {
                int64_t now;
                int age;
                bool minor;
        } rows[] = {
                { T_2025_06_14_1500Z - 86400, 17, true },
                { T_2025_06_14_1500Z - 1, 17, true },
                { T_2025_06_14_1500Z, 18, false },
                { T_2025_06_14_1500Z + 1, 18, false },
                { T_2025_06_14_1500Z + 9 * 3600, 18, false },   /* 00:00 UTC 15th */
                { T_2025_06_14_1500Z + 365 * 86400, 19, false },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                CHECK_ROW(member_age_on(2007, 6, 15, rows[i].now) == rows[i].age, i, "2007-06-15");
                CHECK_ROW(member_is_minor(2007, 6, 15, rows[i].now, 18) == rows[i].minor, i, "2007-06-15");
        }
        /* The adult age is a parameter (configuration), not a constant. */
        assert_true(member_is_minor(2007, 6, 15, T_2025_06_14_1500Z, 20));
        assert_false(member_is_minor(2007, 6, 15, T_2025_06_14_1500Z, 18));
        assert_false(member_is_minor(2007, 6, 15, T_2025_06_14_1500Z, 0));

        /* Born today (Tokyo): age 0; born tomorrow: invalid. */
        assert_int_equal(member_age_on(2025, 6, 15, T_2025_06_14_1500Z), 0);
        assert_int_equal(member_age_on(2025, 6, 16, T_2025_06_14_1500Z), -EINVAL);
        assert_int_equal(member_age_on(2025, 6, 15, T_2025_06_14_1500Z - 1), -EINVAL);
        /* Invalid or future birth dates answer "minor": the restrictive side. */
        assert_true(member_is_minor(2025, 6, 16, T_2025_06_14_1500Z, 18));
        assert_true(member_is_minor(2023, 2, 29, T_2025_06_14_1500Z, 18));
        assert_int_equal(member_age_on(2023, 2, 29, T_2025_06_14_1500Z), -EINVAL);
        assert_int_equal(member_age_on(1899, 12, 31, T_2025_06_14_1500Z), -EINVAL);
}

static void test_CS_2_feb29_birthday(void **state)
{
        static const struct {
                int by;
                int64_t now;
                int age;
        } rows[] = {
                /* Non-leap 2026: a year older on Mar 1 00:00 JST. */
                { 2008, T_2026_02_28_1500Z - 86400, 17 },       /* Feb 28 00:00 JST */
                { 2008, T_2026_02_28_1500Z - 1, 17 },           /* Feb 28 23:59:59 JST */
                { 2008, T_2026_02_28_1500Z, 18 },               /* Mar 1 00:00 JST */
                /* Leap 2024: on Feb 29 itself. */
                { 2004, T_2024_02_28_1500Z - 1, 19 },           /* Feb 28 23:59:59 JST */
                { 2004, T_2024_02_28_1500Z, 20 },               /* Feb 29 00:00 JST */
                /* The day of birth. */
                { 2008, T_2008_02_28_1500Z, 0 },
                { 2008, T_2008_02_28_1500Z - 1, -EINVAL },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++)
                CHECK_ROW(member_age_on(rows[i].by, 2, 29, rows[i].now) == rows[i].age, i, "02-29");
        assert_true(member_is_minor(2008, 2, 29, T_2026_02_28_1500Z - 1, 18));
        assert_false(member_is_minor(2008, 2, 29, T_2026_02_28_1500Z, 18));
}

static void test_CS_2_birth_date_valid(void **state)
{
        static const struct {
                const char *s;
                int64_t now;
                int ret;
        } rows[] = {
                { "2000-01-01", T_2025_01_01_0000Z, 0 },
                { "2025-01-01", T_2025_01_01_0000Z, 0 },        /* born today */
                { "2025-01-02", T_2025_01_01_0000Z, -EINVAL },  /* future */
                { "2100-01-01", T_2025_01_01_0000Z, -EINVAL },
                /* "Today" is the Tokyo date: 00:00 JST on 2025-01-01. */
                { "2025-01-01", T_2024_12_31_1500Z, 0 },
                { "2025-01-01", T_2024_12_31_1500Z - 1, -EINVAL },
                /* At most 150 years old. */
                { "1910-01-01", T_2060_01_01_0000Z, 0 },        /* 150 */
                { "1909-01-02", T_2060_01_01_0000Z, 0 },        /* 150 */
                { "1909-01-01", T_2060_01_01_0000Z, -EINVAL },  /* 151 */
                { "1900-01-01", T_2060_01_01_0000Z, -EINVAL },
                /* Syntax and calendar. */
                { "2023-02-29", T_2025_01_01_0000Z, -EINVAL },
                { "1899-12-31", T_2025_01_01_0000Z, -EINVAL },
                { "2000-1-1", T_2025_01_01_0000Z, -EINVAL },
                { "", T_2025_01_01_0000Z, -EINVAL },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                const char *why = "unset";
                int r = member_birth_date_valid(rows[i].s, rows[i].now, &why);

                CHECK_ROW(r == rows[i].ret, i, rows[i].s);
                CHECK_WHY(r, why, i, rows[i].s);
        }
        assert_int_equal(member_birth_date_valid(NULL, T_2025_01_01_0000Z, NULL), -EINVAL);
        assert_int_equal(member_birth_date_valid("2000-01-01", INT64_MAX, NULL), -EINVAL);
}

/* ---- suspension reasons (CS-3) ------------------------------------------------------------ */

static void test_CS_3_suspend_reasons_fixed_list(void **state)
{
        /* The codes of terms article 3 (1)..(13), in order, then CS-35's (art 29). */
        static const char *const codes[] = {
                "past_revocation", "false_information", "law_or_terms_violation",
                "duplicate_registration", "insolvency", "unreachable", "fraudulent_use",
                "wallet_missing", "host_wallet_contract_ended", "inactive",
                "antisocial_forces", "violent_demands", "unfit_conduct",
                "user_obligations_breach",
        };
        size_t i, j;

        assert_int_equal(member_suspend_reasons_count, NELEMS(codes));
        for (i = 0; i < NELEMS(codes); i++) {
                const struct member_suspend_reason *r = member_suspend_reason_find(codes[i]);

                CHECK_ROW(r == &member_suspend_reasons[i], i, codes[i]);
                CHECK_ROW(strcmp(r->code, codes[i]) == 0, i, codes[i]);
                CHECK_ROW(r->label_en && r->label_en[0], i, codes[i]);
                CHECK_ROW(r->label_ja && r->label_ja[0], i, codes[i]);
                /* Japanese labels are valid UTF-8 and not plain ASCII. */
                CHECK_ROW(member_utf8_length(r->label_ja, NULL) == 0, i, codes[i]);
                CHECK_ROW(strlen(r->label_ja) > 0 && (unsigned char)r->label_ja[0] >= 0x80, i, codes[i]);
                /* Labels are distinct. */
                for (j = 0; j < i; j++) {
                        CHECK_ROW(strcmp(member_suspend_reasons[j].label_en, r->label_en) != 0, i, codes[i]);
                        CHECK_ROW(strcmp(member_suspend_reasons[j].label_ja, r->label_ja) != 0, i, codes[i]);
                }
        }
        assert_null(member_suspend_reason_find("other"));
        assert_null(member_suspend_reason_find("Inactive"));
        assert_null(member_suspend_reason_find("inactive "));
        assert_null(member_suspend_reason_find(""));
        assert_null(member_suspend_reason_find(NULL));
}

/* ---- re-verification (CS-8) ---------------------------------------------------------------- */

static void test_CS_8_reverification_fields(void **state)
{
        static const struct {
                const char *field;
                bool needs;
        } rows[] = {
                { "name", true },
                { "address", true },
                { "address.postcode", true },
                { "address.prefecture", true },
                { "address.line1", true },
                { "birth_date", true },
                { "corporate_name", true },
                { "email", false },
                { "phone", false },
                { "name_kana", false },
                { "nickname", false },
                { "address.", false },
                { "addresses", false },
                { "Address", false },
                { "birth_date ", false },
                { "corporate_name_kana", false },
                { "", false },
        };
        size_t i;

        for (i = 0; i < NELEMS(rows); i++) {
                bool needs = member_change_needs_reverification(rows[i].field);

                CHECK_ROW(needs == rows[i].needs, i, rows[i].field);
        }
        assert_false(member_change_needs_reverification(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_member_kind_names),
                cmocka_unit_test(test_member_status_names),
                cmocka_unit_test(test_utf8_decode_strict),
                cmocka_unit_test(test_utf8_length),
                cmocka_unit_test(test_CS_1_email_normalized_case_insensitive),
                cmocka_unit_test(test_CS_1_email_syntax),
                cmocka_unit_test(test_CS_1_email_length_limits),
                cmocka_unit_test(test_name_valid),
                cmocka_unit_test(test_kana_valid),
                cmocka_unit_test(test_phone_normalize),
                cmocka_unit_test(test_postcode_normalize),
                cmocka_unit_test(test_prefecture_codes),
                cmocka_unit_test(test_password_valid),
                cmocka_unit_test(test_date_parse),
                cmocka_unit_test(test_tokyo_date_every_day),
                cmocka_unit_test(test_tokyo_date_offset_and_range),
                cmocka_unit_test(test_CS_2_minor_by_birth_date_in_tokyo),
                cmocka_unit_test(test_CS_2_feb29_birthday),
                cmocka_unit_test(test_CS_2_birth_date_valid),
                cmocka_unit_test(test_CS_3_suspend_reasons_fixed_list),
                cmocka_unit_test(test_CS_8_reverification_fields),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
