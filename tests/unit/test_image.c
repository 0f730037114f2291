/*
 * test_image.c - JPEG and PNG sniffing (util/image.c): dimensions read
 * from real headers, magic bytes win over the claimed Content-Type,
 * every truncation of a valid header is refused without reading past the
 * end (each prefix is copied into a buffer of exactly its size, so ASan
 * catches any over-read), lying segment lengths, bad CRCs, zero and
 * absurd dimensions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util/image.h"

static void be32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

/* A PNG signature + IHDR (+ a fake IEND) of w x h, 8-bit RGB. */
static size_t make_png(unsigned char *p, uint32_t w, uint32_t h)
{
        static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
        uLong crc;

        memcpy(p, sig, 8);
        be32(p + 8, 13);
        memcpy(p + 12, "IHDR", 4);
        be32(p + 16, w);
        be32(p + 20, h);
        p[24] = 8;
        p[25] = 2;
        p[26] = 0;
        p[27] = 0;
        p[28] = 0;
        crc = crc32(0L, p + 12, 17);
        be32(p + 29, (uint32_t)crc);
        be32(p + 33, 0);
        memcpy(p + 37, "IEND", 4);
        be32(p + 41, (uint32_t)crc32(0L, (const unsigned char *)"IEND", 4));
        return 45;
}

/* SOI, APP0 (JFIF), DQT stub, SOF0 w x h, then SOS. */
static size_t make_jpeg(unsigned char *p, unsigned w, unsigned h)
{
        static const unsigned char head[] = {
                0xFF, 0xD8,
                0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
                0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01,
                0xFF, 0xFF,                     /* fill byte before the next marker */
                0xFF, 0xC0, 0x00, 0x11, 0x08,
        };
        size_t n = sizeof(head);

        memcpy(p, head, n);
        p[n++] = (unsigned char)(h >> 8);
        p[n++] = (unsigned char)h;
        p[n++] = (unsigned char)(w >> 8);
        p[n++] = (unsigned char)w;
        p[n++] = 3;
        for (int i = 0; i < 9; i++)
                p[n++] = 0x11;
        p[n++] = 0xFF;
        p[n++] = 0xDA;
        p[n++] = 0x00;
        p[n++] = 0x02;
        return n;
}

/* Sniffs a heap copy of exactly len bytes (so over-reads are caught). */
static int sniff_exact(const unsigned char *p, size_t len, struct image_info *info)
{
        unsigned char *copy = malloc(len ? len : 1);
        int r;

        assert_non_null(copy);
        memcpy(copy, p, len);
        r = image_sniff(copy, len, info);
        free(copy);
        return r;
}

static void test_png_dimensions(void **state)
{
        unsigned char p[64];
        struct image_info info;
        size_t n = make_png(p, 640, 480);

        assert_int_equal(sniff_exact(p, n, &info), 0);
        assert_int_equal(info.type, IMAGE_PNG);
        assert_int_equal(info.width, 640);
        assert_int_equal(info.height, 480);
        assert_string_equal(image_content_type(info.type), "image/png");
}

static void test_jpeg_dimensions(void **state)
{
        unsigned char p[128];
        struct image_info info;
        size_t n = make_jpeg(p, 1024, 768);

        assert_int_equal(sniff_exact(p, n, &info), 0);
        assert_int_equal(info.type, IMAGE_JPEG);
        assert_int_equal(info.width, 1024);
        assert_int_equal(info.height, 768);
        assert_string_equal(image_content_type(info.type), "image/jpeg");
}

static void test_every_truncation_is_refused(void **state)
{
        unsigned char png[64], jpg[128];
        struct image_info info;
        size_t np = make_png(png, 10, 20), nj = make_jpeg(jpg, 30, 40);

        /* the PNG header ends with the IHDR CRC at byte 33 */
        for (size_t i = 0; i < 33; i++)
                assert_int_equal(sniff_exact(png, i, &info), -EINVAL);
        assert_int_equal(sniff_exact(png, 33, &info), 0);
        assert_int_equal(sniff_exact(png, np, &info), 0);
        /* the JPEG is complete once the whole SOF0 segment (length 17 from
         * byte 30) is in */
        size_t sof_end = 30 + 17;

        for (size_t i = 0; i < sof_end; i++)
                assert_int_equal(sniff_exact(jpg, i, &info), -EINVAL);
        assert_int_equal(sniff_exact(jpg, sof_end, &info), 0);
        assert_int_equal(sniff_exact(jpg, nj, &info), 0);
        assert_int_equal(info.width, 30);
}

static void test_png_bad_crc_or_header(void **state)
{
        unsigned char p[64];
        struct image_info info;
        size_t n = make_png(p, 10, 10);

        p[20] ^= 1;                             /* height changed, CRC not */
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
        assert_int_equal(info.type, IMAGE_PNG);
        n = make_png(p, 10, 10);
        p[25] = 7;                              /* no colour type 7 */
        be32(p + 29, (uint32_t)crc32(0L, p + 12, 17));
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
        n = make_png(p, 10, 10);
        be32(p + 8, 14);                        /* IHDR length must be 13 */
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
}

static void test_zero_and_absurd_dimensions(void **state)
{
        unsigned char p[128];
        struct image_info info;

        assert_int_equal(sniff_exact(p, make_png(p, 0, 10), &info), -EINVAL);
        assert_int_equal(sniff_exact(p, make_png(p, 10, IMAGE_MAX_DIM + 1), &info), -EINVAL);
        assert_int_equal(sniff_exact(p, make_png(p, 0x80000000u, 1), &info), -EINVAL);
        assert_int_equal(sniff_exact(p, make_png(p, IMAGE_MAX_DIM, IMAGE_MAX_DIM), &info), 0);
        assert_int_equal(sniff_exact(p, make_jpeg(p, 10, 0), &info), -EINVAL);
        assert_int_equal(sniff_exact(p, make_jpeg(p, 65535, 10), &info), -EINVAL);
}

static void test_jpeg_lying_lengths(void **state)
{
        unsigned char p[128];
        struct image_info info;
        size_t n = make_jpeg(p, 10, 10);

        p[4] = 0xFF;                            /* APP0 length 0xFF10: past the end */
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
        n = make_jpeg(p, 10, 10);
        p[4] = 0;
        p[5] = 1;                               /* length 1 < 2 */
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
        n = make_jpeg(p, 10, 10);
        p[30] = 0;
        p[31] = 4;                              /* SOF too short to hold dimensions */
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
        /* SOS before any frame header */
        static const unsigned char sos_first[] = { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02 };

        assert_int_equal(sniff_exact(sos_first, sizeof(sos_first), &info), -EINVAL);
        /* a marker is not followed by 0xFF: garbage between segments */
        n = make_jpeg(p, 10, 10);
        p[20] = 0x00;
        assert_int_equal(sniff_exact(p, n, &info), -EINVAL);
}

static void test_not_images(void **state)
{
        static const char *texts[] = { "", "hello", "GIF89a\x01\x00\x01\x00",
                                       "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                                       "%PDF-1.7\n" };
        struct image_info info;

        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
                assert_int_equal(sniff_exact((const unsigned char *)texts[i],
                                             strlen(texts[i]), &info), -EINVAL);
                assert_int_equal(info.type, IMAGE_NONE);
        }
        assert_int_equal(image_sniff(NULL, 10, &info), -EINVAL);
        assert_null(image_content_type(IMAGE_NONE));
}

static void test_content_type_parsing(void **state)
{
        assert_int_equal(image_type_from_content_type("image/png"), IMAGE_PNG);
        assert_int_equal(image_type_from_content_type("IMAGE/PNG; charset=x"), IMAGE_PNG);
        assert_int_equal(image_type_from_content_type("image/jpeg"), IMAGE_JPEG);
        assert_int_equal(image_type_from_content_type("image/jpg"), IMAGE_JPEG);
        assert_int_equal(image_type_from_content_type("image/pngx"), IMAGE_NONE);
        assert_int_equal(image_type_from_content_type("image/gif"), IMAGE_NONE);
        assert_int_equal(image_type_from_content_type("application/json"), IMAGE_NONE);
        assert_int_equal(image_type_from_content_type(NULL), IMAGE_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_png_dimensions),
                cmocka_unit_test(test_jpeg_dimensions),
                cmocka_unit_test(test_every_truncation_is_refused),
                cmocka_unit_test(test_png_bad_crc_or_header),
                cmocka_unit_test(test_zero_and_absurd_dimensions),
                cmocka_unit_test(test_jpeg_lying_lengths),
                cmocka_unit_test(test_not_images),
                cmocka_unit_test(test_content_type_parsing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
