/*
 * test_qr.c - QR rendering (util/qr.c): the PNG we write is decoded here
 * with zlib (chunk CRCs checked, IHDR read, IDAT inflated) and every
 * pixel compared with the module matrix, including the 4-module quiet
 * zone and the scale; the finder patterns are where the standard puts
 * them; the symbol size proves error-correction level M; the SVG carries
 * exactly one unit square per dark module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "util/qr.h"

#define URL "http://127.0.0.1:8080/c/42?t=chq_0123456789abcdefghijABCDEFGHIJ0123456789_-x"

static uint32_t rd32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct png {
        uint32_t w, h;
        unsigned depth, color;
        unsigned char *pixels;  /* inflated scanlines */
        size_t len;
};

/* Parses our PNG: signature, chunks with CRCs, one IHDR, IDATs, IEND. */
static void png_decode(const unsigned char *p, size_t n, struct png *out)
{
        static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
        unsigned char *z = NULL;
        size_t zlen = 0, i = 8;
        int seen_end = 0;

        memset(out, 0, sizeof(*out));
        assert_true(n > 8);
        assert_memory_equal(p, sig, 8);
        while (i < n) {
                assert_true(n - i >= 12);
                uint32_t len = rd32(p + i);
                const unsigned char *type = p + i + 4, *data = p + i + 8;

                assert_true(len <= n - i - 12);
                assert_int_equal(rd32(data + len), (uint32_t)crc32(crc32(0L, type, 4), data, len));
                if (memcmp(type, "IHDR", 4) == 0) {
                        assert_int_equal(len, 13);
                        out->w = rd32(data);
                        out->h = rd32(data + 4);
                        out->depth = data[8];
                        out->color = data[9];
                } else if (memcmp(type, "IDAT", 4) == 0) {
                        z = realloc(z, zlen + len);
                        assert_non_null(z);
                        memcpy(z + zlen, data, len);
                        zlen += len;
                } else if (memcmp(type, "IEND", 4) == 0) {
                        seen_end = 1;
                }
                i += 12 + len;
        }
        assert_true(seen_end);
        assert_int_equal(i, n);
        uLongf plen = (uLongf)((1 + (out->w + 7) / 8) * out->h);

        out->pixels = malloc(plen);
        assert_non_null(out->pixels);
        assert_int_equal(uncompress(out->pixels, &plen, z, zlen), Z_OK);
        out->len = plen;
        free(z);
}

/* 1 when pixel (x, y) of a 1-bit grayscale image is black. */
static int png_black(const struct png *img, uint32_t x, uint32_t y)
{
        size_t stride = 1 + (img->w + 7) / 8;
        const unsigned char *row = img->pixels + (size_t)y * stride;

        assert_int_equal(row[0], 0);    /* filter none */
        return !(row[1 + x / 8] & (0x80u >> (x % 8)));
}

static void test_png_matches_modules_with_quiet_zone(void **state)
{
        struct qr_code *q = NULL;
        struct buf b;
        struct png img;
        const int scale = 3;

        buf_init(&b, 0);
        assert_int_equal(qr_encode(URL, &q), 0);
        assert_int_equal(qr_render_png(q, scale, &b), 0);
        png_decode((const unsigned char *)b.data, b.len, &img);
        assert_int_equal(img.w, (uint32_t)(q->width + 2 * QR_QUIET) * scale);
        assert_int_equal(img.h, img.w);
        assert_int_equal(img.depth, 1);
        assert_int_equal(img.color, 0);
        assert_int_equal(img.len, (1 + (img.w + 7) / 8) * img.h);
        int dark = 0;

        for (uint32_t y = 0; y < img.h; y++) {
                for (uint32_t x = 0; x < img.w; x++) {
                        int mx = (int)(x / scale) - QR_QUIET, my = (int)(y / scale) - QR_QUIET;
                        int want = qr_dark(q, mx, my);

                        assert_int_equal(png_black(&img, x, y), want);
                        if (mx < 0 || my < 0 || mx >= q->width || my >= q->width)
                                assert_int_equal(want, 0);      /* quiet zone is white */
                        dark += want;
                }
        }
        assert_true(dark > 0);
        free(img.pixels);
        buf_free(&b);
        qr_free(q);
}

/* The three 7x7 finder patterns: dark ring, light ring, dark 3x3 core,
 * with a light separator row/column beside them. */
static void check_finder(const struct qr_code *q, int ox, int oy)
{
        for (int y = 0; y < 7; y++) {
                for (int x = 0; x < 7; x++) {
                        int ring = x == 0 || y == 0 || x == 6 || y == 6;
                        int core = x >= 2 && x <= 4 && y >= 2 && y <= 4;

                        assert_int_equal(qr_dark(q, ox + x, oy + y), ring || core);
                }
        }
}

static void test_finder_patterns_and_level_m(void **state)
{
        struct qr_code *q = NULL;

        /* 15 lowercase bytes (8-bit mode): version 1 at level L (17 bytes) would be
         * 21 modules wide; at level M (14 bytes) it needs version 2: 25. */
        assert_int_equal(qr_encode("abcdefghijklmno", &q), 0);
        assert_int_equal(q->width, 25);
        check_finder(q, 0, 0);
        check_finder(q, q->width - 7, 0);
        check_finder(q, 0, q->width - 7);
        for (int i = 0; i < 8; i++) {
                assert_int_equal(qr_dark(q, 7, i), 0);          /* separators */
                assert_int_equal(qr_dark(q, i, 7), 0);
        }
        /* timing pattern on row 6 alternates between the finders */
        for (int x = 8; x < q->width - 8; x++)
                assert_int_equal(qr_dark(q, x, 6), x % 2 == 0);
        qr_free(q);
        assert_int_equal(qr_encode("abcdefghijklmn", &q), 0);     /* 14 bytes: version 1 */
        assert_int_equal(q->width, 21);
        qr_free(q);
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;

        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void test_svg_has_one_square_per_dark_module(void **state)
{
        struct qr_code *q = NULL;
        struct buf b;
        size_t dark = 0;
        char view[64], size[64];

        buf_init(&b, 0);
        assert_int_equal(qr_encode(URL, &q), 0);
        assert_int_equal(qr_render_svg(q, 8, &b), 0);
        for (int y = 0; y < q->width; y++)
                for (int x = 0; x < q->width; x++)
                        dark += (size_t)qr_dark(q, x, y);
        assert_int_equal(count(b.data, "h1v1h-1z"), dark);
        snprintf(view, sizeof(view), "viewBox=\"0 0 %d %d\"", q->width + 8, q->width + 8);
        snprintf(size, sizeof(size), "width=\"%d\" height=\"%d\"", (q->width + 8) * 8,
                 (q->width + 8) * 8);
        assert_non_null(strstr(b.data, view));
        assert_non_null(strstr(b.data, size));
        /* the top-left module of the symbol sits at (4, 4): inside the quiet zone offset */
        assert_non_null(strstr(b.data, "d=\"M4 4h1v1h-1z"));
        assert_non_null(strstr(b.data, "</svg>"));
        buf_free(&b);
        qr_free(q);
}

static void test_bad_input(void **state)
{
        struct qr_code *q = NULL;
        struct buf b;
        char *big = malloc(QR_TEXT_MAX + 2);

        assert_non_null(big);
        memset(big, 'a', QR_TEXT_MAX + 1);
        big[QR_TEXT_MAX + 1] = '\0';
        assert_int_equal(qr_encode("", &q), -EINVAL);
        assert_null(q);
        assert_int_equal(qr_encode(NULL, &q), -EINVAL);
        assert_int_equal(qr_encode(big, &q), -EINVAL);
        big[QR_TEXT_MAX] = '\0';
        assert_int_equal(qr_encode(big, &q), 0);
        free(big);
        buf_init(&b, 0);
        assert_int_equal(qr_render_png(q, 0, &b), -EINVAL);
        assert_int_equal(qr_render_png(q, QR_SCALE_MAX + 1, &b), -EINVAL);
        assert_int_equal(qr_render_svg(q, -1, &b), -EINVAL);
        assert_int_equal(b.len, 0);
        buf_init(&b, 64);               /* a cap too small for the picture */
        assert_int_equal(qr_render_png(q, 1, &b), -E2BIG);
        buf_free(&b);
        qr_free(q);
        qr_free(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_png_matches_modules_with_quiet_zone),
                cmocka_unit_test(test_finder_patterns_and_level_m),
                cmocka_unit_test(test_svg_has_one_square_per_dark_module),
                cmocka_unit_test(test_bad_input),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
