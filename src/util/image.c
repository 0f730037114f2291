/*
 * image.c - JPEG and PNG recognition (see image.h).
 *
 * PNG: 8-byte signature, then the IHDR chunk must come first: length 13,
 * type "IHDR", width and height (big-endian, 1..2^31-1), bit depth, colour
 * type, compression 0, filter 0, interlace 0/1, and a CRC that we check
 * with zlib's crc32 (a cheap way to refuse random bytes that happen to
 * start with the signature).
 *
 * JPEG: SOI (FF D8), then a sequence of markers. Each marker is FF
 * followed by a code (FF fill bytes may repeat); RSTn / TEM have no
 * payload; every other marker has a big-endian 16-bit length that counts
 * itself. We walk segments until a start-of-frame (SOF0-SOF15 except DHT
 * C4, JPG C8 and DAC CC), whose payload is precision(1) height(2) width(2).
 * Reaching SOS or EOI before any SOF means there is no frame header.
 */
#include "util/image.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t be16(const unsigned char *p)
{
        return (uint32_t)p[0] << 8 | p[1];
}

static int dims_ok(uint32_t w, uint32_t h)
{
        return w >= 1 && h >= 1 && w <= IMAGE_MAX_DIM && h <= IMAGE_MAX_DIM;
}

/* Valid (colour type, bit depth) pairs of the PNG specification. */
static int png_depth_ok(unsigned ct, unsigned depth)
{
        switch (ct) {
        case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
        case 2:
        case 4:
        case 6: return depth == 8 || depth == 16;
        default: return 0;
        }
}

static int png_sniff(const unsigned char *p, size_t len, struct image_info *out)
{
        /* signature (8) + length (4) + "IHDR" (4) + data (13) + crc (4) */
        const size_t need = 8 + 4 + 4 + 13 + 4;
        const unsigned char *ihdr = p + 8;
        uint32_t w, h;
        uLong crc;

        if (len < need)
                return -EINVAL;
        if (be32(ihdr) != 13 || memcmp(ihdr + 4, "IHDR", 4) != 0)
                return -EINVAL;
        crc = crc32(0L, ihdr + 4, 4 + 13);
        if ((uint32_t)crc != be32(ihdr + 8 + 13))
                return -EINVAL;
        w = be32(ihdr + 8);
        h = be32(ihdr + 12);
        if (!png_depth_ok(ihdr[17], ihdr[16]) || ihdr[18] != 0 || ihdr[19] != 0 || ihdr[20] > 1)
                return -EINVAL;
        if (!dims_ok(w, h))
                return -EINVAL;
        out->width = w;
        out->height = h;
        return 0;
}

static int jpeg_is_sof(unsigned m)
{
        return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static int jpeg_sniff(const unsigned char *p, size_t len, struct image_info *out)
{
        size_t i = 2;   /* after SOI */

        for (;;) {
                unsigned m;
                size_t seg;

                if (i >= len || p[i] != 0xFF)
                        return -EINVAL;
                while (i < len && p[i] == 0xFF)
                        i++;
                if (i >= len)
                        return -EINVAL;
                m = p[i++];
                if (m == 0x00 || m == 0xD8 || m == 0xD9 || m == 0xDA)
                        return -EINVAL;         /* stuffing, SOI again, EOI, SOS: no frame */
                if ((m >= 0xD0 && m <= 0xD7) || m == 0x01)
                        continue;               /* RSTn, TEM: no payload */
                if (len - i < 2)
                        return -EINVAL;
                seg = be16(p + i);
                if (seg < 2 || seg > len - i)
                        return -EINVAL;
                if (jpeg_is_sof(m)) {
                        uint32_t h, w;

                        if (seg < 2 + 5)
                                return -EINVAL;
                        h = be16(p + i + 3);
                        w = be16(p + i + 5);
                        if (!dims_ok(w, h))
                                return -EINVAL;
                        out->width = w;
                        out->height = h;
                        return 0;
                }
                i += seg;
        }
}

int image_sniff(const void *data, size_t len, struct image_info *out)
{
        static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
        const unsigned char *p = data;

        memset(out, 0, sizeof(*out));
        if (!p)
                return -EINVAL;
        if (len >= 8 && memcmp(p, png_sig, 8) == 0) {
                out->type = IMAGE_PNG;
                return png_sniff(p, len, out);
        }
        if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
                out->type = IMAGE_JPEG;
                return jpeg_sniff(p, len, out);
        }
        return -EINVAL;
}

const char *image_content_type(enum image_type t)
{
        switch (t) {
        case IMAGE_JPEG: return "image/jpeg";
        case IMAGE_PNG: return "image/png";
        default: return NULL;
        }
}

/* Compares the media type part (before any ';' and spaces) with name. */
static int media_type_is(const char *ct, const char *name)
{
        size_t n = strlen(name);

        if (strncasecmp(ct, name, n) != 0)
                return 0;
        ct += n;
        while (*ct == ' ' || *ct == '\t')
                ct++;
        return *ct == '\0' || *ct == ';';
}

enum image_type image_type_from_content_type(const char *content_type)
{
        if (!content_type)
                return IMAGE_NONE;
        if (media_type_is(content_type, "image/jpeg") || media_type_is(content_type, "image/jpg"))
                return IMAGE_JPEG;
        if (media_type_is(content_type, "image/png"))
                return IMAGE_PNG;
        return IMAGE_NONE;
}
