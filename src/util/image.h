/*
 * image.h - recognising JPEG and PNG images by their bytes (never by what
 * the client claims) and reading their dimensions.
 *
 * image_sniff() reads only what it needs (the PNG signature and IHDR
 * chunk; the JPEG markers up to the first start-of-frame) and checks every
 * length against the buffer before reading: a truncated or lying file is
 * -EINVAL, never an out-of-bounds read. It does not decode pixels.
 */
#ifndef ENEMANE_UTIL_IMAGE_H
#define ENEMANE_UTIL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Largest width or height accepted (a 20000 px photo is already absurd). */
#define IMAGE_MAX_DIM 20000

enum image_type {
        IMAGE_NONE = 0,
        IMAGE_JPEG,
        IMAGE_PNG,
};

struct image_info {
        enum image_type type;
        uint32_t width;
        uint32_t height;
};

/* Fills *out from data[0..len). Returns 0, or -EINVAL when the bytes are
 * neither a well-formed JPEG nor PNG header, or the dimensions are 0 or
 * above IMAGE_MAX_DIM (out->type then says what the magic bytes looked
 * like, IMAGE_NONE when not even those matched). */
int image_sniff(const void *data, size_t len, struct image_info *out);

/* "image/jpeg", "image/png", or NULL for IMAGE_NONE. */
const char *image_content_type(enum image_type t);

/* The type named by a Content-Type value ("image/png; x=y" works; case
 * does not matter; "image/jpg" is taken as JPEG); IMAGE_NONE otherwise. */
enum image_type image_type_from_content_type(const char *content_type);

#endif
