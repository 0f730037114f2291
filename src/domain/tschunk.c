/*
 * tschunk.c - the chunk codec of tschunk.h (HE-7 compact storage): encodes
 * one series' points as a small blob and decodes blobs defensively (any
 * byte string is safe to pass; allocation is bounded by its length).
 *
 * Blob layout, version 1 (varints are unsigned LEB128, at most 10 bytes,
 * zigzag maps signed to unsigned: 0,-1,1,-2 -> 0,1,2,3):
 *
 *   byte    0xE1 (magic 0xE, version 1)
 *   varint  n (1..TSCHUNK_MAX_POINTS)
 *   varint  zigzag(ts[0])
 *   varint  ts[1] - ts[0] (>= 1), only when n > 1
 *   byte    value mode: low nibble 0 = decimal integers, 1 = XOR of doubles;
 *           high nibble k = decimal scale of mode 0 (v = m / 10^k, k <= 9)
 *   first value: mode 0 varint zigzag(m[0]); mode 1 its 8 bytes little endian
 *   bit stream (most significant bit first, zero padded to a whole byte):
 *     n - 2 timestamp delta-of-deltas dod, z = zigzag(dod), in buckets
 *       '0' z = 0 | '10' 7 bits | '110' 9 | '1110' 12 | '11110' 32 | '11111' 64
 *     mode 0 (when n > 1): 1 bit order (0 deltas, 1 delta-of-deltas of m),
 *       1 bit zigzag (0: all residuals >= 0, stored as they are), 1 bit
 *       escape, 6 bits width w; then n - 1 residuals u: without escape u in
 *       w bits; with escape '0' + w bits, or '1' + 6 bits (L - 1) + the low
 *       L - 1 bits of u, L being the bit length of u (its top bit is 1).
 *       The encoder picks the parameters that give the fewest bits.
 *     mode 1: n - 1 Gorilla records of x = bits(v[i]) ^ bits(v[i-1]):
 *       '0' x = 0 | '10' + meaningful bits in the previous window |
 *       '11' + 5 bits leading zeros + 6 bits (length - 1) + the bits.
 *
 * Mode 0 is used when every value is m / 10^k for an integer |m| < 2^52
 * with the exact same bit pattern (so plain integers have k = 0, and -0.0,
 * NaN and infinities fall back to mode 1). The decoder accepts only the
 * canonical end (no trailing bytes, zero padding) and strictly increasing
 * timestamps; anything else is -EINVAL. It allocates only after checking
 * that the blob has a bit for every timestamp record it claims, so at most
 * 16 * (8 * len + 2) bytes.
 */
#include "domain/tschunk.h"

#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TSCHUNK_MAGIC 0xE1
#define MODE_DECIMAL 0
#define MODE_XOR 1
#define DECIMAL_K_MAX 9
#define MANTISSA_LIMIT (INT64_C(1) << 52)
#define HEADER_MAX (1 + 10 + 10 + 10 + 1 + 10)
/* timestamp record (5 + 64) plus the largest value record (XOR 2 + 5 + 6 + 64) */
#define POINT_BITS_MAX 146
/* whole bound for n >= 1 points, parameters and padding included */
#define ENCODED_BOUND(n) (HEADER_MAX + (((n) - 1) * POINT_BITS_MAX + 9 + 7) / 8 + 8)

static const double pow10_tab[DECIMAL_K_MAX + 1] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
};

/* ---- integer helpers ------------------------------------------------ */

static uint64_t zz_enc(int64_t x)
{
        return ((uint64_t)x << 1) ^ (x < 0 ? UINT64_MAX : 0);
}

static uint64_t zz_dec(uint64_t u)
{
        return (u >> 1) ^ (0 - (u & 1));
}

/* Two's complement reinterpretation without implementation-defined casts. */
static int64_t u2i(uint64_t u)
{
        if (u <= (uint64_t)INT64_MAX)
                return (int64_t)u;
        return -(int64_t)(~u) - 1;
}

static unsigned bitlen(uint64_t u)
{
        return u ? 64u - (unsigned)__builtin_clzll(u) : 0u;
}

static uint64_t dbits(double d)
{
        uint64_t u;

        memcpy(&u, &d, sizeof(u));
        return u;
}

static double bitsd(uint64_t u)
{
        double d;

        memcpy(&d, &u, sizeof(d));
        return d;
}

/* The value of mantissa m at decimal scale k (shared by both directions so
 * that the encoder's exactness check is what the decoder computes). */
static double dec_value(int64_t m, unsigned k)
{
        return k == 0 ? (double)m : (double)m / pow10_tab[k];
}

/* Mantissa of v at scale k when v is exactly m / 10^k with |m| < 2^52. */
static bool dec_mantissa(double v, unsigned k, int64_t *m)
{
        double x = v * pow10_tab[k];
        int64_t r;

        if (!(fabs(x) < (double)MANTISSA_LIMIT))
                return false;
        r = (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
        if (r <= -MANTISSA_LIMIT || r >= MANTISSA_LIMIT)
                return false;
        if (dbits(dec_value(r, k)) != dbits(v))
                return false;
        *m = r;
        return true;
}

/* Rescales the first n mantissas from scale k to k + 1: the same values,
 * since (m * 10) / 10^(k+1) and m / 10^k round the same real number. */
static bool dec_rescale(int64_t *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (m[i] <= -MANTISSA_LIMIT / 10 || m[i] >= MANTISSA_LIMIT / 10)
                        return false;
                m[i] *= 10;
        }
        return true;
}

/* Mantissas m of all values at their smallest common decimal scale; returns
 * the scale, or -1 when some value has none (XOR mode). */
static int dec_mantissas(const double *v, size_t n, int64_t *m)
{
        unsigned k = 0;

        for (size_t i = 0; i < n; i++) {
                while (!dec_mantissa(v[i], k, &m[i])) {
                        if (k == DECIMAL_K_MAX || !dec_rescale(m, i))
                                return -1;
                        k++;
                }
        }
        return (int)k;
}

/* ---- byte and bit writers ------------------------------------------- */

struct bw {
        uint8_t *p;
        size_t pos;             /* bytes written */
        uint64_t acc;           /* pending bits in the low nacc (< 64) bits */
        unsigned nacc;
};

static void bw_byte(struct bw *w, uint8_t b)
{
        w->p[w->pos++] = b;
}

static void bw_varint(struct bw *w, uint64_t u)
{
        while (u >= 0x80) {
                bw_byte(w, (uint8_t)(u | 0x80));
                u >>= 7;
        }
        bw_byte(w, (uint8_t)u);
}

/* Appends the low nbits (<= 64) of v, most significant first; full 64-bit
 * words go out big endian. Byte writes come only before the first bits. */
static inline __attribute__((always_inline)) void bw_put(struct bw *w, uint64_t v, unsigned nbits)
{
        unsigned room = 64 - w->nacc;   /* 1..64 */
        unsigned rest;

        if (nbits < 64)
                v &= (UINT64_C(1) << nbits) - 1;
        if (nbits < room) {
                w->acc = (w->acc << nbits) | v;
                w->nacc += nbits;
                return;
        }
        rest = nbits - room;            /* 0..63 bits that do not fit */
        w->acc = room == 64 ? v : (w->acc << room) | (v >> rest);
        w->acc = htobe64(w->acc);
        memcpy(w->p + w->pos, &w->acc, sizeof(w->acc));
        w->pos += 8;
        w->nacc = rest;
        w->acc = rest ? v & ((UINT64_C(1) << rest) - 1) : 0;
}

/* Writes the pending bits, zero padded to a byte. */
static void bw_flush(struct bw *w)
{
        uint64_t left;

        if (w->nacc == 0)
                return;
        left = w->acc << (64 - w->nacc);
        for (unsigned i = 0; i * 8 < w->nacc; i++)
                bw_byte(w, (uint8_t)(left >> (56 - 8 * i)));
        w->nacc = 0;
        w->acc = 0;
}

/* ---- byte and bit readers (bounds checked; errors are sticky) ------- */

struct br {
        const uint8_t *p;
        size_t len;             /* bytes */
        size_t pos;             /* byte position (header part) */
        size_t bit;             /* bit position (stream part) */
        size_t nbits;           /* len * 8 */
        bool bad;
};

static uint8_t br_byte(struct br *r)
{
        if (r->pos >= r->len) {
                r->bad = true;
                return 0;
        }
        return r->p[r->pos++];
}

static uint64_t br_varint(struct br *r)
{
        uint64_t u = 0;

        for (unsigned shift = 0; shift < 64; shift += 7) {
                uint8_t b = br_byte(r);

                if (shift == 63 && b > 1)
                        break;          /* more than 64 bits */
                u |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return r->bad ? 0 : u;
        }
        r->bad = true;
        return 0;
}

/* Starts the bit stream at the current byte position. */
static void br_bits_begin(struct br *r)
{
        r->bit = r->pos * 8;
}

static size_t br_bits_left(const struct br *r)
{
        return r->bad ? 0 : r->nbits - r->bit;
}

static unsigned br_bit(struct br *r)
{
        unsigned b;

        if (r->bit >= r->nbits) {
                r->bad = true;
                return 0;
        }
        b = (r->p[r->bit >> 3] >> (7 - (r->bit & 7))) & 1u;
        r->bit++;
        return b;
}

/* Reads nbits (<= 57) with one 8-byte load; the caller checked bounds. */
static uint64_t br_get_word(struct br *r, unsigned nbits)
{
        uint64_t word;

        memcpy(&word, r->p + (r->bit >> 3), sizeof(word));
        word = be64toh(word) << (r->bit & 7);
        r->bit += nbits;
        return nbits ? word >> (64 - nbits) : 0;
}

/* Reads nbits (<= 64), most significant first. */
static uint64_t br_get(struct br *r, unsigned nbits)
{
        uint64_t v = 0;

        if (nbits > r->nbits - r->bit) {
                r->bad = true;
                r->bit = r->nbits;
                return 0;
        }
        if (nbits <= 57 && (r->bit >> 3) + 8 <= r->len)
                return br_get_word(r, nbits);
        while (nbits > 0) {
                unsigned off = (unsigned)(r->bit & 7);
                unsigned avail = 8 - off;
                unsigned take = nbits < avail ? nbits : avail;
                unsigned byte = r->p[r->bit >> 3];

                v = (v << take) | ((byte >> (avail - take)) & ((1u << take) - 1));
                r->bit += take;
                nbits -= take;
        }
        return v;
}

/* Counts leading 1 bits up to max (the bucket prefixes). */
static unsigned br_ones(struct br *r, unsigned max)
{
        unsigned k = 0;

        while (k < max && br_bit(r))
                k++;
        return k;
}

/* ---- timestamps ------------------------------------------------------ */

static const unsigned ts_bucket_bits[] = { 0, 7, 9, 12, 32, 64 };
#define TS_BUCKETS 6

static void ts_put_dod(struct bw *w, uint64_t dod)
{
        uint64_t z = zz_enc(u2i(dod));
        unsigned len = bitlen(z);
        unsigned b = 0;

        while (b + 1 < TS_BUCKETS && len > ts_bucket_bits[b])
                b++;
        if (b == 0) {
                bw_put(w, 0, 1);
                return;
        }
        /* b ones, then a terminating zero except for the last bucket */
        if (b + 1 < TS_BUCKETS)
                bw_put(w, ((UINT64_C(1) << b) - 1) << 1, b + 1);
        else
                bw_put(w, (UINT64_C(1) << b) - 1, b);
        bw_put(w, z, ts_bucket_bits[b]);
}

/* The hot loops below write through a local copy of the writer, which the
 * compiler can keep in registers. */
static void ts_encode(struct bw *w, const int64_t *ts, size_t n)
{
        struct bw lw = *w;
        uint64_t prev_delta;

        if (n < 3)
                return;
        prev_delta = (uint64_t)ts[1] - (uint64_t)ts[0];
        for (size_t i = 2; i < n; i++) {
                uint64_t delta = (uint64_t)ts[i] - (uint64_t)ts[i - 1];

                ts_put_dod(&lw, delta - prev_delta);
                prev_delta = delta;
        }
        *w = lw;
}

static int ts_decode(struct br *r, int64_t ts0, uint64_t delta1, int64_t *ts, size_t n)
{
        uint64_t delta = delta1;

        ts[0] = ts0;
        for (size_t i = 1; i < n; i++) {
                if (i >= 2 && br_bit(r)) {
                        unsigned b = 1 + br_ones(r, TS_BUCKETS - 2);

                        delta += zz_dec(br_get(r, ts_bucket_bits[b]));
                }
                ts[i] = u2i((uint64_t)ts[i - 1] + delta);
                if (r->bad || ts[i] <= ts[i - 1])
                        return -EINVAL;
        }
        return 0;
}

/* ---- values: decimal integer mode ------------------------------------ */

struct int_params {
        unsigned order;         /* 1: deltas, 2: delta-of-deltas */
        bool zigzag;
        bool escape;
        unsigned width;
};

/* Residual i (>= 1) of mantissas m (order 1 or 2; m[-1] taken as m[0]). */
static int64_t int_residual(const int64_t *m, size_t i, unsigned order)
{
        int64_t d = m[i] - m[i - 1];

        if (order == 1 || i < 2)
                return d;
        return d - (m[i - 1] - m[i - 2]);
}

/* The width and escape that give the fewest bits for a histogram of
 * residual bit lengths; returns the bits. */
static uint64_t int_cost(const uint64_t hist[65], struct int_params *p)
{
        uint64_t count = 0, above = 0, below = 0, best;
        unsigned maxlen = 0;

        for (unsigned l = 0; l <= 64; l++) {
                count += hist[l];
                above += hist[l] * (6 + l);
                maxlen = hist[l] ? l : maxlen;
        }
        best = count * maxlen;
        p->escape = false;
        p->width = maxlen;
        for (unsigned wd = 0; wd < maxlen; wd++) {
                uint64_t c;

                below += hist[wd];
                above -= hist[wd] * (6 + wd);
                c = below * (1 + wd) + above;
                if (c < best) {
                        best = c;
                        p->escape = true;
                        p->width = wd;
                }
        }
        return best;
}

/* Zigzag bit lengths of one order's residuals. When none is negative they
 * are stored without zigzag, one bit shorter each but for zeros (a positive
 * d has zigzag 2d). */
struct int_shape {
        uint64_t sum;           /* of the zigzag lengths */
        uint64_t nonzero;
        bool neg;
};

static inline void shape_add(struct int_shape *sh, int64_t d)
{
        sh->neg |= d < 0;
        sh->sum += bitlen(zz_enc(d));
        sh->nonzero += d != 0;
}

/* Bits of the residuals as stored, before choosing a width. */
static uint64_t shape_bits(const struct int_shape *sh)
{
        return sh->neg ? sh->sum : sh->sum - sh->nonzero;
}

/* Histogram of the stored bit lengths of the chosen order (two halves
 * counted apart, which keeps repeated increments of one bin independent). */
static void int_histogram(const int64_t *m, size_t n, const struct int_params *p,
                          uint64_t hist[65])
{
        uint64_t h2[2][65];

        memset(h2, 0, sizeof(h2));
        for (size_t i = 1; i < n; i++) {
                int64_t d = int_residual(m, i, p->order);

                h2[i & 1][bitlen(p->zigzag ? zz_enc(d) : (uint64_t)d)]++;
        }
        for (unsigned l = 0; l <= 64; l++)
                hist[l] = h2[0][l] + h2[1][l];
}

/* Picks the order with the fewer residual bits, then the width and escape
 * for the fewest bits. */
static void int_choose(const int64_t *m, size_t n, struct int_params *p)
{
        struct int_shape s1 = { 0, 0, false }, s2 = { 0, 0, false };
        uint64_t hist[65];
        bool second;

        for (size_t i = 1; i < n; i++) {
                shape_add(&s1, int_residual(m, i, 1));
                shape_add(&s2, int_residual(m, i, 2));
        }
        second = shape_bits(&s2) < shape_bits(&s1);
        p->order = second ? 2 : 1;
        p->zigzag = second ? s2.neg : s1.neg;
        int_histogram(m, n, p, hist);
        int_cost(hist, p);
}

static void int_put(struct bw *w, uint64_t u, const struct int_params *p)
{
        unsigned len;

        if (!p->escape) {
                bw_put(w, u, p->width);
                return;
        }
        len = bitlen(u);
        if (len <= p->width) {
                bw_put(w, 0, 1);
                bw_put(w, u, p->width);
                return;
        }
        bw_put(w, 1, 1);
        bw_put(w, len - 1, 6);
        bw_put(w, u, len - 1);
}

/* The bit stream part of mode 0 (n >= 2). */
static void int_encode(struct bw *w, const int64_t *m, size_t n)
{
        struct int_params p;
        struct bw lw;

        int_choose(m, n, &p);
        bw_put(w, p.order - 1, 1);
        bw_put(w, p.zigzag, 1);
        bw_put(w, p.escape, 1);
        bw_put(w, p.width, 6);
        lw = *w;
        for (size_t i = 1; i < n; i++) {
                int64_t d = int_residual(m, i, p.order);

                int_put(&lw, p.zigzag ? zz_enc(d) : (uint64_t)d, &p);
        }
        *w = lw;
}

static uint64_t int_get(struct br *r, const struct int_params *p)
{
        unsigned len;

        if (!p->escape || !br_bit(r))
                return br_get(r, p->width);
        len = (unsigned)br_get(r, 6) + 1;
        return (UINT64_C(1) << (len - 1)) | br_get(r, len - 1);
}

static bool mantissa_ok(uint64_t m)
{
        return m + (uint64_t)(MANTISSA_LIMIT - 1) < (uint64_t)(2 * MANTISSA_LIMIT - 1);
}

/* The bit stream part of mode 0; v[0] is set. */
static int int_decode(struct br *r, uint64_t m0, unsigned k, double *v, size_t n)
{
        struct int_params p;
        uint64_t m = m0, delta = 0;

        if (n < 2)
                return 0;
        p.order = (unsigned)br_bit(r) + 1;
        p.zigzag = br_bit(r);
        p.escape = br_bit(r);
        p.width = (unsigned)br_get(r, 6);
        for (size_t i = 1; i < n; i++) {
                uint64_t u = int_get(r, &p);
                uint64_t d = p.zigzag ? zz_dec(u) : u;

                delta = p.order == 1 ? d : delta + d;
                m += delta;
                if (r->bad || !mantissa_ok(m))
                        return -EINVAL;
                v[i] = dec_value(u2i(m), k);
        }
        return 0;
}

/* ---- values: XOR mode -------------------------------------------------- */

struct xor_window {
        unsigned lead, trail;   /* zero bits around the meaningful ones */
        bool valid;
};

static void xor_put(struct bw *w, uint64_t x, struct xor_window *win)
{
        unsigned lead, trail, len;

        if (x == 0) {
                bw_put(w, 0, 1);
                return;
        }
        lead = (unsigned)__builtin_clzll(x);
        trail = (unsigned)__builtin_ctzll(x);
        if (lead > 31)
                lead = 31;
        if (win->valid && lead >= win->lead && trail >= win->trail) {
                bw_put(w, 2, 2);
                bw_put(w, x >> win->trail, 64 - win->lead - win->trail);
                return;
        }
        len = 64 - lead - trail;
        bw_put(w, 3, 2);
        bw_put(w, lead, 5);
        bw_put(w, len - 1, 6);
        bw_put(w, x >> trail, len);
        win->lead = lead;
        win->trail = trail;
        win->valid = true;
}

/* The bit stream part of mode 1. */
static void xor_encode(struct bw *w, const double *v, size_t n)
{
        struct xor_window win = { 0 };
        struct bw lw = *w;

        for (size_t i = 1; i < n; i++)
                xor_put(&lw, dbits(v[i]) ^ dbits(v[i - 1]), &win);
        *w = lw;
}

/* One XOR record; false on a malformed one. */
static bool xor_get(struct br *r, struct xor_window *win, uint64_t *x)
{
        unsigned len;

        if (!br_bit(r)) {
                *x = 0;
                return true;
        }
        if (!br_bit(r)) {
                if (!win->valid)
                        return false;
                *x = br_get(r, 64 - win->lead - win->trail) << win->trail;
                return true;
        }
        win->lead = (unsigned)br_get(r, 5);
        len = (unsigned)br_get(r, 6) + 1;
        if (win->lead + len > 64)
                return false;
        win->trail = 64 - win->lead - len;
        win->valid = true;
        *x = br_get(r, len) << win->trail;
        return true;
}

/* The bit stream part of mode 1; v[0] is set. */
static int xor_decode(struct br *r, double *v, size_t n)
{
        struct xor_window win = { 0 };
        uint64_t bits = dbits(v[0]);

        for (size_t i = 1; i < n; i++) {
                uint64_t x;

                if (!xor_get(r, &win, &x) || r->bad)
                        return -EINVAL;
                bits ^= x;
                v[i] = bitsd(bits);
        }
        return 0;
}

/* ---- encode ------------------------------------------------------------ */

static bool ts_increasing(const int64_t *ts, size_t n)
{
        for (size_t i = 1; i < n; i++) {
                if (ts[i] <= ts[i - 1])
                        return false;
        }
        return true;
}

static void put_u64_le(struct bw *w, uint64_t u)
{
        for (unsigned i = 0; i < 8; i++)
                bw_byte(w, (uint8_t)(u >> (8 * i)));
}

/* Mode byte, first value and the bit stream of mode 0: mantissas m at
 * scale k. */
static void encode_decimal(struct bw *w, const int64_t *ts, const int64_t *m, size_t n,
                           unsigned k)
{
        bw_byte(w, (uint8_t)(k << 4 | MODE_DECIMAL));
        bw_varint(w, zz_enc(m[0]));
        ts_encode(w, ts, n);
        if (n > 1)
                int_encode(w, m, n);
}

/* Mode byte, first value and the bit stream of mode 1. */
static void encode_xor(struct bw *w, const int64_t *ts, const double *v, size_t n)
{
        bw_byte(w, MODE_XOR);
        put_u64_le(w, dbits(v[0]));
        ts_encode(w, ts, n);
        xor_encode(w, v, n);
}

/* The whole blob into w->p (room for ENCODED_BOUND(n) bytes). */
static void encode_all(struct bw *w, const int64_t *ts, const double *v, size_t n, int k,
                       int64_t *m)
{
        bw_byte(w, TSCHUNK_MAGIC);
        bw_varint(w, n);
        bw_varint(w, zz_enc(ts[0]));
        if (n > 1)
                bw_varint(w, (uint64_t)ts[1] - (uint64_t)ts[0]);
        if (k >= 0)
                encode_decimal(w, ts, m, n, (unsigned)k);
        else
                encode_xor(w, ts, v, n);
        bw_flush(w);
}

/* Small chunks are encoded on the stack and copied out at their size. */
#define STACK_POINTS 128
#define STACK_BYTES ENCODED_BOUND(STACK_POINTS)

/* Encodes into w->p and copies the blob out at its size. */
static int encode_out(struct bw *w, const int64_t *ts, const double *v, size_t n, int64_t *m,
                      uint8_t **out, size_t *out_len)
{
        encode_all(w, ts, v, n, dec_mantissas(v, n, m), m);
        *out = malloc(w->pos);
        if (!*out)
                return -ENOMEM;
        memcpy(*out, w->p, w->pos);
        *out_len = w->pos;
        return 0;
}

int tschunk_encode(const int64_t *ts_ms, const double *v, size_t n, uint8_t **out,
                   size_t *out_len)
{
        uint8_t stack_buf[STACK_BYTES];
        int64_t stack_m[STACK_POINTS];
        struct bw w = { .p = stack_buf };
        int64_t *m;
        int r;

        if (!ts_ms || !v || !out || !out_len || n == 0 || n > TSCHUNK_MAX_POINTS)
                return -EINVAL;
        if (!ts_increasing(ts_ms, n))
                return -EINVAL;
        if (n <= STACK_POINTS)
                return encode_out(&w, ts_ms, v, n, stack_m, out, out_len);
        w.p = malloc(ENCODED_BOUND(n));
        m = malloc(n * sizeof(*m));
        r = w.p && m ? encode_out(&w, ts_ms, v, n, m, out, out_len) : -ENOMEM;
        free(w.p);
        free(m);
        return r;
}

/* ---- decode ------------------------------------------------------------ */

struct header {
        uint64_t n;
        int64_t ts0;
        uint64_t delta1;
        unsigned mode, k;
        uint64_t first;         /* zigzag mantissa (mode 0) or double bits (1) */
};

/* Magic and count; the count is bounded by the bits the blob can hold
 * (every point after the second needs at least one timestamp bit). */
static int read_count(struct br *r, uint64_t *n)
{
        if (r->len == 0 || r->len > SIZE_MAX / 8 || br_byte(r) != TSCHUNK_MAGIC)
                return -EINVAL;
        *n = br_varint(r);
        if (r->bad || *n > TSCHUNK_MAX_POINTS || *n > (uint64_t)r->len * 8 + 2)
                return -EINVAL;
        return 0;
}

static uint64_t get_u64_le(struct br *r)
{
        uint64_t u = 0;

        for (unsigned i = 0; i < 8; i++)
                u |= (uint64_t)br_byte(r) << (8 * i);
        return u;
}

static int read_header(struct br *r, struct header *h)
{
        unsigned mode;

        h->ts0 = u2i(zz_dec(br_varint(r)));
        h->delta1 = h->n > 1 ? br_varint(r) : 0;
        mode = br_byte(r);
        h->mode = mode & 0x0f;
        h->k = mode >> 4;
        if (h->mode == MODE_DECIMAL && h->k <= DECIMAL_K_MAX) {
                h->first = br_varint(r);
                if (!mantissa_ok(zz_dec(h->first)))
                        return -EINVAL;
        } else if (h->mode == MODE_XOR && h->k == 0) {
                h->first = get_u64_le(r);
        } else {
                return -EINVAL;
        }
        if (r->bad)
                return -EINVAL;
        br_bits_begin(r);
        /* n - 2 timestamp records of at least one bit each */
        if (h->n > 2 && h->n - 2 > br_bits_left(r))
                return -EINVAL;
        return 0;
}

/* The stream ends within the last byte and its padding is zero. */
static bool stream_end_ok(const struct br *r)
{
        size_t pad = (8 - (r->bit & 7)) & 7;

        if (r->bad || r->bit + pad != r->nbits)
                return false;
        return pad == 0 || (r->p[r->len - 1] & ((1u << pad) - 1)) == 0;
}

static int decode_points(struct br *r, const struct header *h, int64_t *ts, double *v)
{
        size_t n = (size_t)h->n;
        int e = ts_decode(r, h->ts0, h->delta1, ts, n);

        if (e < 0)
                return e;
        if (h->mode == MODE_DECIMAL) {
                v[0] = dec_value(u2i(zz_dec(h->first)), h->k);
                e = int_decode(r, zz_dec(h->first), h->k, v, n);
        } else {
                v[0] = bitsd(h->first);
                e = xor_decode(r, v, n);
        }
        if (e < 0)
                return e;
        return stream_end_ok(r) ? 0 : -EINVAL;
}

int tschunk_decode(const uint8_t *blob, size_t len, int64_t **ts_ms, double **v, size_t *n)
{
        struct br r = { .p = blob, .len = len, .nbits = len * 8 };
        struct header h = { 0 };
        int64_t *ts = NULL;
        double *vals = NULL;
        int e;

        if (!ts_ms || !v || !n || (!blob && len > 0))
                return -EINVAL;
        *ts_ms = NULL;
        *v = NULL;
        *n = 0;
        e = read_count(&r, &h.n);
        if (e < 0)
                return e;
        if (h.n == 0)
                return r.pos == len ? 0 : -EINVAL;
        e = read_header(&r, &h);
        if (e < 0)
                return e;
        ts = malloc((size_t)h.n * sizeof(*ts));
        vals = malloc((size_t)h.n * sizeof(*vals));
        if (!ts || !vals) {
                free(ts);
                free(vals);
                return -ENOMEM;
        }
        e = decode_points(&r, &h, ts, vals);
        if (e < 0) {
                free(ts);
                free(vals);
                return e;
        }
        *ts_ms = ts;
        *v = vals;
        *n = (size_t)h.n;
        return 0;
}

int64_t tschunk_count(const uint8_t *blob, size_t len)
{
        struct br r = { .p = blob, .len = len, .nbits = len * 8 };
        uint64_t n;

        if (!blob || read_count(&r, &n) < 0)
                return -EINVAL;
        return (int64_t)n;
}
