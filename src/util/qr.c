/*
 * qr.c - QR codes as PNG and SVG (see qr.h).
 *
 * The PNG is the smallest valid file that carries the symbol: signature,
 * IHDR (bit depth 1, colour type 0 = grayscale, no interlace), one IDAT
 * with the zlib stream of all scanlines (each row is filter byte 0 then
 * the packed bits, most significant bit first; 1 = white, 0 = black) and
 * IEND. Chunk CRCs are zlib's crc32 over type and data.
 *
 * The SVG draws a white background and one path with a unit square
 * "M x y h1v1h-1z" per dark module, in module coordinates (the viewBox
 * includes the quiet zone), so printers scale it without blur.
 */
#include "util/qr.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <zlib.h>

int qr_encode(const char *text, struct qr_code **out)
{
        QRcode *c;
        struct qr_code *q;
        size_t n, len;

        *out = NULL;
        if (!text)
                return -EINVAL;
        len = strlen(text);
        if (len == 0 || len > QR_TEXT_MAX)
                return -EINVAL;
        c = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        if (!c)
                return errno == ENOMEM ? -ENOMEM : -EIO;
        q = calloc(1, sizeof(*q));
        n = (size_t)c->width * (size_t)c->width;
        if (q)
                q->modules = malloc(n);
        if (!q || !q->modules) {
                free(q);
                QRcode_free(c);
                return -ENOMEM;
        }
        q->width = c->width;
        /* libqrencode: bit 0 of each byte is the module colour (1 = dark);
         * the other bits describe what the module is part of. */
        for (size_t i = 0; i < n; i++)
                q->modules[i] = c->data[i] & 1;
        QRcode_free(c);
        *out = q;
        return 0;
}

void qr_free(struct qr_code *q)
{
        if (!q)
                return;
        free(q->modules);
        free(q);
}

int qr_dark(const struct qr_code *q, int x, int y)
{
        if (x < 0 || y < 0 || x >= q->width || y >= q->width)
                return 0;
        return q->modules[(size_t)y * (size_t)q->width + (size_t)x];
}

int qr_render_svg(const struct qr_code *q, int scale, struct buf *out)
{
        int side = q->width + 2 * QR_QUIET;
        int r;

        if (scale < 1 || scale > QR_SCALE_MAX)
                return -EINVAL;
        r = buf_printf(out,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\""
                       " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
                       " shape-rendering=\"crispEdges\">\n"
                       "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
                       "<path fill=\"#000000\" d=\"",
                       side * scale, side * scale, side, side, side, side);
        for (int y = 0; r == 0 && y < q->width; y++)
                for (int x = 0; r == 0 && x < q->width; x++)
                        if (qr_dark(q, x, y))
                                r = buf_printf(out, "M%d %dh1v1h-1z", x + QR_QUIET,
                                               y + QR_QUIET);
        if (r == 0)
                r = buf_puts(out, "\"/>\n</svg>\n");
        return r;
}

static void put_be32(unsigned char *p, uint32_t v)
{
        p[0] = (unsigned char)(v >> 24);
        p[1] = (unsigned char)(v >> 16);
        p[2] = (unsigned char)(v >> 8);
        p[3] = (unsigned char)v;
}

/* Appends one chunk: length, type, data, CRC(type + data). */
static int png_chunk(struct buf *out, const char type[4], const unsigned char *data, size_t len)
{
        unsigned char hdr[8], crc[4];
        uLong c;
        int r;

        if (len > 0x7FFFFFFFu)
                return -E2BIG;
        put_be32(hdr, (uint32_t)len);
        memcpy(hdr + 4, type, 4);
        c = crc32(0L, (const Bytef *)type, 4);
        if (len)
                c = crc32(c, data, (uInt)len);
        put_be32(crc, (uint32_t)c);
        r = buf_append(out, hdr, sizeof(hdr));
        if (r == 0 && len)
                r = buf_append(out, data, len);
        if (r == 0)
                r = buf_append(out, crc, sizeof(crc));
        return r;
}

int qr_render_png(const struct qr_code *q, int scale, struct buf *out)
{
        static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
        unsigned char ihdr[13];
        unsigned char *raw = NULL, *z = NULL;
        size_t px, stride, rawlen;
        uLongf zlen;
        int r;

        if (scale < 1 || scale > QR_SCALE_MAX)
                return -EINVAL;
        /* At most (177 + 8) * 32 = 5920 px a side: rawlen stays below 4.5 MB. */
        px = (size_t)(q->width + 2 * QR_QUIET) * (size_t)scale;
        stride = 1 + (px + 7) / 8;
        rawlen = stride * px;
        raw = malloc(rawlen);
        if (!raw)
                return -ENOMEM;
        memset(raw, 0xFF, rawlen);      /* all white, and padding bits set */
        for (size_t y = 0; y < px; y++) {
                unsigned char *row = raw + y * stride;
                int my = (int)(y / (size_t)scale) - QR_QUIET;

                row[0] = 0;             /* filter: none */
                for (size_t x = 0; x < px; x++) {
                        int mx = (int)(x / (size_t)scale) - QR_QUIET;

                        if (qr_dark(q, mx, my))
                                row[1 + x / 8] &= (unsigned char)~(0x80u >> (x % 8));
                }
        }
        zlen = compressBound((uLong)rawlen);
        z = malloc(zlen);
        if (!z) {
                free(raw);
                return -ENOMEM;
        }
        if (compress2(z, &zlen, raw, (uLong)rawlen, Z_BEST_COMPRESSION) != Z_OK) {
                free(raw);
                free(z);
                return -ENOMEM;
        }
        free(raw);
        put_be32(ihdr, (uint32_t)px);
        put_be32(ihdr + 4, (uint32_t)px);
        ihdr[8] = 1;    /* bit depth */
        ihdr[9] = 0;    /* grayscale */
        ihdr[10] = 0;   /* deflate */
        ihdr[11] = 0;   /* adaptive filtering */
        ihdr[12] = 0;   /* no interlace */
        r = buf_append(out, sig, sizeof(sig));
        if (r == 0)
                r = png_chunk(out, "IHDR", ihdr, sizeof(ihdr));
        if (r == 0)
                r = png_chunk(out, "IDAT", z, zlen);
        if (r == 0)
                r = png_chunk(out, "IEND", NULL, 0);
        free(z);
        return r;
}
