/*
 * qr.h - QR codes (libqrencode, error correction level M) rendered as SVG
 * text and as a 1-bit grayscale PNG written here with zlib.
 *
 * qr_encode() gives a plain module matrix (1 = dark) owned by the caller
 * (qr_free accepts NULL). Both renderers add the standard quiet zone of
 * QR_QUIET modules on every side; `scale` is pixels (PNG) or user units
 * (SVG width/height) per module, 1..QR_SCALE_MAX. They append to a struct
 * buf and return 0 or a negative errno (-EINVAL bad scale, -ENOMEM,
 * -E2BIG when the buffer cap is reached).
 */
#ifndef ENEMANE_UTIL_QR_H
#define ENEMANE_UTIL_QR_H

#include <stddef.h>

#include "util/buf.h"

#define QR_QUIET 4
#define QR_SCALE_MAX 32
/* Longest text encoded: a URL with a token fits in far less; this keeps
 * the symbol small enough to print on a sticker. */
#define QR_TEXT_MAX 512

struct qr_code {
        int width;                      /* modules per side, without the quiet zone */
        unsigned char *modules;         /* width * width, row-major, 1 = dark */
};

/* -EINVAL empty or longer than QR_TEXT_MAX, -ENOMEM, -EIO encoder failure. */
int qr_encode(const char *text, struct qr_code **out);
void qr_free(struct qr_code *q);

/* 1 when the module at (x, y) is dark; 0 outside the symbol (quiet zone). */
int qr_dark(const struct qr_code *q, int x, int y);

int qr_render_svg(const struct qr_code *q, int scale, struct buf *out);
int qr_render_png(const struct qr_code *q, int scale, struct buf *out);

#endif
