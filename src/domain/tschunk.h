/*
 * tschunk.h - the compact encoding of a chunk of one series' points
 * (HE-7 storage): timestamps as Gorilla-style delta-of-delta bit packing,
 * values as zigzag deltas when all are integral, else XOR of doubles.
 * A chunk holds the points of one series within one UTC hour window.
 */
#ifndef ENEMANE_DOMAIN_TSCHUNK_H
#define ENEMANE_DOMAIN_TSCHUNK_H

#include <stddef.h>
#include <stdint.h>

#define TSCHUNK_MAX_POINTS 1000000

/* Encodes n (1..TSCHUNK_MAX_POINTS) points sorted by strictly increasing
 * ts_ms into a blob malloc'd for the caller. 0, -EINVAL, -ENOMEM. */
int tschunk_encode(const int64_t *ts_ms, const double *v, size_t n, uint8_t **out,
                   size_t *out_len);
/* Decodes a blob into arrays malloc'd for the caller (both NULL when n is 0).
 * -EINVAL for a corrupt blob (never reads out of bounds), -ENOMEM. */
int tschunk_decode(const uint8_t *blob, size_t len, int64_t **ts_ms, double **v, size_t *n);
/* Number of points of a blob from its header without decoding, or -EINVAL. */
int64_t tschunk_count(const uint8_t *blob, size_t len);

#endif
