/*
 * ingest.c - the parsed measurement batch of HE-7 (see ingest.h): the
 * quantity, unit and role tables, the ECHONET Lite default roles, the value
 * checks both ingest parsers share (ids, names, codes, decimal numbers,
 * UTF-8), the batch arrays (geometric growth) with their O(1) series index,
 * and the post-parse point filters (the time window).
 */
#include "domain/ingest.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables --------------------------------------------------------------- */

static const char *const ingest_quantity_names[_EQ_MAX] = {
        "power", "energy", "gas", "water", "soc",
};

static const enum energy_kind ingest_quantity_kinds[_EQ_MAX] = {
        EK_GAUGE, EK_COUNTER, EK_COUNTER, EK_COUNTER, EK_GAUGE,
};

/* The first unit of a row is the default one. */
static const char *const ingest_units[_EQ_MAX][2] = {
        { "W", "kW" },
        { "Wh", "kWh" },
        { "m3", "L" },
        { "L", "m3" },
        { "%", NULL },
};

static const char *const ingest_roles[] = {
        "purchase", "sale", "generation", "consumption", "battery_charge",
        "battery_discharge", "fuelcell", "gas", "water", "soc", "circuit", "other",
};

static bool ingest_quantity_ok(enum energy_quantity q)
{
        return (unsigned)q < (unsigned)_EQ_MAX;
}

/* strcmp() == 0 for the short strings of units and series keys, without a
 * library call (this is on the per-point path). */
static bool ingest_str_eq(const char *a, const char *b)
{
        while (*a && *a == *b) {
                a++;
                b++;
        }
        return *a == *b;
}

const char *energy_quantity_name(enum energy_quantity q)
{
        return ingest_quantity_ok(q) ? ingest_quantity_names[q] : NULL;
}

int energy_quantity_from_name(const char *s)
{
        int q;

        if (!s)
                return -EINVAL;
        for (q = 0; q < _EQ_MAX; q++) {
                if (strcmp(s, ingest_quantity_names[q]) == 0)
                        return q;
        }
        return -EINVAL;
}

enum energy_kind energy_quantity_kind(enum energy_quantity q)
{
        return ingest_quantity_ok(q) ? ingest_quantity_kinds[q] : EK_GAUGE;
}



bool energy_unit_valid(enum energy_quantity q, const char *unit)
{
        size_t i;

        if (!ingest_quantity_ok(q) || !unit)
                return false;
        for (i = 0; i < 2; i++) {
                if (ingest_units[q][i] && ingest_str_eq(unit, ingest_units[q][i]))
                        return true;
        }
        return false;
}

const char *energy_default_unit(enum energy_quantity q)
{
        return ingest_quantity_ok(q) ? ingest_units[q][0] : NULL;
}

bool energy_role_valid(const char *role)
{
        size_t i;

        if (!role)
                return false;
        for (i = 0; i < sizeof(ingest_roles) / sizeof(ingest_roles[0]); i++) {
                if (strcmp(role, ingest_roles[i]) == 0)
                        return true;
        }
        return false;
}

/* ---- shared value checks ---------------------------------------------------- */

static bool ingest_id_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == ':' || c == '-';
}

bool ingest_id_valid(const char *s, size_t len)
{
        size_t i;

        if (!s || len == 0 || len > INGEST_CHANNEL_MAX)
                return false;
        for (i = 0; i < len; i++) {
                if (!ingest_id_char((unsigned char)s[i]))
                        return false;
        }
        return true;
}

/* The code point of the valid UTF-8 sequence at u[0..len) (1..4 bytes). */
static size_t ingest_utf8_decode(const unsigned char *u, size_t n, uint32_t *cp)
{
        uint32_t v, min;
        size_t len, i;

        if (n == 0)
                return 0;
        if (u[0] < 0x80) {
                *cp = u[0];
                return 1;
        }
        if ((u[0] & 0xE0) == 0xC0) {
                len = 2;
                v = u[0] & 0x1F;
                min = 0x80;
        } else if ((u[0] & 0xF0) == 0xE0) {
                len = 3;
                v = u[0] & 0x0F;
                min = 0x800;
        } else if ((u[0] & 0xF8) == 0xF0) {
                len = 4;
                v = u[0] & 0x07;
                min = 0x10000;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((u[i] & 0xC0) != 0x80)
                        return 0;
                v = (v << 6) | (u[i] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                return 0;
        *cp = v;
        return len;
}

size_t ingest_utf8_char(const char *s, size_t n)
{
        uint32_t cp;

        if (!s)
                return 0;
        return ingest_utf8_decode((const unsigned char *)s, n, &cp);
}

bool ingest_name_valid(const char *s, size_t len)
{
        size_t i = 0, k;
        uint32_t cp;

        if (!s || len > INGEST_NAME_MAX)
                return false;
        while (i < len) {
                k = ingest_utf8_decode((const unsigned char *)s + i, len - i, &cp);
                if (k == 0)
                        return false;
                /* C0, DEL and C1 controls have no place in a display name. */
                if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
                        return false;
                i += k;
        }
        return true;
}

static int ingest_hex_digit(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int ingest_code_parse(const char *s, size_t len, uint32_t max, int32_t *out)
{
        uint64_t v = 0;
        size_t i;
        int d;

        if (!s || len == 0)
                return -EINVAL;
        if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                if (len - 2 > 8)
                        return -EINVAL;
                for (i = 2; i < len; i++) {
                        d = ingest_hex_digit((unsigned char)s[i]);
                        if (d < 0)
                                return -EINVAL;
                        v = v * 16 + (uint64_t)d;
                }
        } else {
                if (len > 10)
                        return -EINVAL;
                for (i = 0; i < len; i++) {
                        if (s[i] < '0' || s[i] > '9')
                                return -EINVAL;
                        v = v * 10 + (uint64_t)(s[i] - '0');
                }
        }
        if (v > max || v > INT32_MAX)
                return -EINVAL;
        *out = (int32_t)v;
        return 0;
}

/* ---- decimal numbers -------------------------------------------------------- */

/* Powers of ten that a double holds exactly (10^22 < 2^53 * 2^22). */
static const double ingest_pow10[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define INGEST_EXACT_MANT (UINT64_C(1) << 53)
#define INGEST_DECIMAL_MAX 255

/* strtod on a NUL-terminated stack copy; the caller checked the syntax, so
 * neither hex floats nor inf/nan reach it. The server never calls
 * setlocale(), so the decimal point is '.'. */
static int ingest_decimal_slow(const char *s, size_t len, double *out)
{
        char buf[INGEST_DECIMAL_MAX + 1];
        char *end;

        if (len > INGEST_DECIMAL_MAX)
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        errno = 0;
        *out = strtod(buf, &end);
        if (end != buf + len)
                return -EINVAL;
        return 0;
}

/* The digits of a decimal literal as read so far. */
struct ingest_dec {
        uint64_t mant;          /* the first 19 significant digits */
        size_t nd;              /* significant digits in mant */
        size_t ndig;            /* mantissa digits seen, zeros included */
        int64_t exp10;          /* value = mant * 10^exp10 */
        bool slow;              /* more than 19 significant digits */
};

static void ingest_dec_digit(struct ingest_dec *d, char c, bool fraction)
{
        d->ndig++;
        if (d->mant == 0 && c == '0') {
                d->exp10 -= fraction;
                return;
        }
        if (d->nd == 19) {
                d->slow = true;
                return;
        }
        d->mant = d->mant * 10 + (uint64_t)(c - '0');
        d->nd++;
        d->exp10 -= fraction;
}

/* The exponent at s[i] ('e' or 'E' seen): the index after it, or 0. */
static size_t ingest_dec_exponent(const char *s, size_t i, size_t len, int64_t *e)
{
        bool neg = false;

        *e = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
                neg = s[i] == '-';
                i++;
        }
        if (i == len || s[i] < '0' || s[i] > '9')
                return 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                if (*e < 100000)        /* far past any double; stops overflow */
                        *e = *e * 10 + (s[i] - '0');
        }
        if (neg)
                *e = -*e;
        return i;
}

/*
 * Clinger's fast path: with a mantissa m <= 2^53 and |e| <= 22 both m and
 * 10^|e| are exact doubles, so one IEEE multiplication or division gives the
 * correctly rounded m * 10^e (x86-64 evaluates doubles in SSE registers,
 * FLT_EVAL_METHOD 0). Everything else goes to strtod.
 */
int ingest_decimal(const char *s, size_t len, double *out)
{
        struct ingest_dec d = { 0 };
        size_t i = 0;
        int64_t e;
        bool neg = false;
        double v;

        if (!s || len == 0 || len > INGEST_DECIMAL_MAX)
                return -EINVAL;
        if (s[0] == '-' || s[0] == '+') {
                neg = s[0] == '-';
                i++;
        }
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ingest_dec_digit(&d, s[i], false);
        if (i < len && s[i] == '.') {
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                        ingest_dec_digit(&d, s[i], true);
        }
        if (d.ndig == 0)
                return -EINVAL;
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i = ingest_dec_exponent(s, i + 1, len, &e);
                if (i == 0)
                        return -EINVAL;
                d.exp10 += e;
        }
        if (i != len)
                return -EINVAL;
        if (d.mant == 0 && !d.slow) {
                *out = neg ? -0.0 : 0.0;
                return 0;
        }
        if (d.slow || d.mant > INGEST_EXACT_MANT || d.exp10 < -22 || d.exp10 > 22)
                return ingest_decimal_slow(s, len, out);
        if (d.exp10 >= 0)
                v = (double)d.mant * ingest_pow10[d.exp10];
        else
                v = (double)d.mant / ingest_pow10[-d.exp10];
        *out = neg ? -v : v;
        return 0;
}

/* ---- batch arrays ------------------------------------------------------------ */

void ingest_batch_init(struct ingest_batch *b)
{
        if (b)
                memset(b, 0, sizeof(*b));
}

void ingest_batch_free(struct ingest_batch *b)
{
        if (!b)
                return;
        free(b->series);
        free(b->points);
        free(b->rejects);
        free(b->series_slots);
        ingest_batch_init(b);
}

/* Makes room for need elements of size elem: doubling from 16. */
static int ingest_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
        size_t ncap;
        void *p;

        if (need <= *cap)
                return 0;
        ncap = *cap ? *cap : 16;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2 / elem)
                        return -ENOMEM;
                ncap *= 2;
        }
        p = realloc(*arr, ncap * elem);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = ncap;
        return 0;
}

/* FNV-1a over channel, quantity and unit (short strings). */
static uint32_t ingest_series_hash(const struct ingest_series *s)
{
        const unsigned char *p;
        uint32_t h = 2166136261u;

        for (p = (const unsigned char *)s->channel; *p; p++)
                h = (h ^ *p) * 16777619u;
        h = (h ^ (uint32_t)(s->quantity + 1)) * 16777619u;
        for (p = (const unsigned char *)s->unit; *p; p++)
                h = (h ^ *p) * 16777619u;
        /* Spread the low bits: the table uses them as the slot. */
        h ^= h >> 15;
        h *= 0x2c1b3c6dU;
        h ^= h >> 12;
        return h;
}

static bool ingest_series_same(const struct ingest_series *a, const struct ingest_series *b)
{
        return a->quantity == b->quantity && ingest_str_eq(a->channel, b->channel) &&
               ingest_str_eq(a->unit, b->unit);
}

/* An existing series takes the attributes it lacks from a later mention. */
static void ingest_series_merge(struct ingest_series *into, const struct ingest_series *s)
{
        if (into->class_code < 0)
                into->class_code = s->class_code;
        if (into->epc < 0)
                into->epc = s->epc;
        if (into->instance < 0)
                into->instance = s->instance;
        if (into->circuit < 0)
                into->circuit = s->circuit;
        if (into->wrap == 0)
                into->wrap = s->wrap;
        if (into->name[0] == '\0' && s->name[0] != '\0')
                memcpy(into->name, s->name, sizeof(into->name));
        if (into->role[0] == '\0' && s->role[0] != '\0')
                memcpy(into->role, s->role, sizeof(into->role));
}

static void ingest_slot_put(uint64_t *slots, size_t cap, uint32_t h, size_t idx)
{
        size_t mask = cap - 1, i = h & mask;

        while (slots[i] != 0)
                i = (i + 1) & mask;
        slots[i] = ((uint64_t)h << 32) | (uint64_t)(idx + 1);
}

/* Keeps the table at most half full. */
static int ingest_slots_reserve(struct ingest_batch *b, size_t n)
{
        uint64_t *ns;
        size_t ncap = b->cap_slots ? b->cap_slots : 16, i;

        if (b->cap_slots && n * 2 <= b->cap_slots)
                return 0;
        while (n * 2 > ncap)
                ncap *= 2;
        ns = calloc(ncap, sizeof(*ns));
        if (!ns)
                return -ENOMEM;
        for (i = 0; i < b->cap_slots; i++) {
                if (b->series_slots[i] != 0)
                        ingest_slot_put(ns, ncap, (uint32_t)(b->series_slots[i] >> 32),
                                        (size_t)(b->series_slots[i] & 0xFFFFFFFFu) - 1);
        }
        free(b->series_slots);
        b->series_slots = ns;
        b->cap_slots = ncap;
        return 0;
}

int ingest_batch_series(struct ingest_batch *b, const struct ingest_series *s,
                        const struct ingest_limits *lim)
{
        uint32_t h = ingest_series_hash(s);
        size_t mask, i, idx;
        uint64_t slot;
        int r;

        if (b->cap_slots) {
                mask = b->cap_slots - 1;
                for (i = h & mask; b->series_slots[i] != 0; i = (i + 1) & mask) {
                        slot = b->series_slots[i];
                        if ((uint32_t)(slot >> 32) != h)
                                continue;
                        idx = (size_t)(slot & 0xFFFFFFFFu) - 1;
                        if (ingest_series_same(&b->series[idx], s)) {
                                ingest_series_merge(&b->series[idx], s);
                                return (int)idx;
                        }
                }
        }
        if ((lim && b->n_series >= lim->max_series) || b->n_series >= INT32_MAX - 1)
                return -E2BIG;
        r = ingest_grow((void **)&b->series, &b->cap_series, b->n_series + 1, sizeof(*b->series));
        if (r < 0)
                return r;
        r = ingest_slots_reserve(b, b->n_series + 1);
        if (r < 0)
                return r;
        b->series[b->n_series] = *s;
        ingest_slot_put(b->series_slots, b->cap_slots, h, b->n_series);
        return (int)b->n_series++;
}

int ingest_batch_point_line(struct ingest_batch *b, uint32_t series, int64_t ts_ms, double v,
                            uint32_t line, const struct ingest_limits *lim)
{
        struct ingest_point *p;
        int r;

        if ((lim && b->n_input >= lim->max_points) || b->n_input >= UINT32_MAX)
                return -E2BIG;
        if (b->n_points == b->cap_points) {
                r = ingest_grow((void **)&b->points, &b->cap_points, b->n_points + 1,
                                sizeof(*b->points));
                if (r < 0)
                        return r;
        }
        p = &b->points[b->n_points++];
        p->series = series;
        p->index = (uint32_t)b->n_input++;
        p->ts_ms = ts_ms;
        p->value = v;
        p->line = line;
        return 0;
}

int ingest_batch_point(struct ingest_batch *b, uint32_t series, int64_t ts_ms, double v,
                       const struct ingest_limits *lim)
{
        return ingest_batch_point_line(b, series, ts_ms, v, 0, lim);
}

int ingest_batch_reject(struct ingest_batch *b, uint32_t index, uint32_t line, const char *code,
                        const char *fmt, ...)
{
        struct ingest_reject *rj;
        va_list ap;
        int r;

        r = ingest_grow((void **)&b->rejects, &b->cap_rejects, b->n_rejects + 1,
                        sizeof(*b->rejects));
        if (r < 0)
                return r;
        rj = &b->rejects[b->n_rejects++];
        rj->index = index;
        rj->line = line;
        rj->code = code;
        rj->message[0] = '\0';
        if (fmt) {
                va_start(ap, fmt);
                vsnprintf(rj->message, sizeof(rj->message), fmt, ap);
                va_end(ap);
        }
        b->n_input++;
        return 0;
}

/* ---- roles ------------------------------------------------------------------- */

/* ECHONET Lite class codes (class group 0x02: housing/facility devices). */
#define ECHO_SOLAR        0x0279
#define ECHO_FUEL_CELL    0x027C
#define ECHO_BATTERY      0x027D
#define ECHO_WATER_METER  0x0281
#define ECHO_GAS_METER    0x0282
#define ECHO_DIST_BOARD   0x0287
#define ECHO_SMART_METER  0x0288

static const char *ingest_quantity_role(enum energy_quantity q)
{
        switch (q) {
        case EQ_GAS:
                return "gas";
        case EQ_WATER:
                return "water";
        case EQ_SOC:
                return "soc";
        default:
                return "other";
        }
}

const char *ingest_default_role(const struct ingest_series *s)
{
        if (!s)
                return "other";
        switch (s->class_code) {
        case ECHO_SOLAR:
                if (s->epc == 0xE3)     /* measured cumulative energy sold */
                        return "sale";
                return "generation";    /* 0xE0 instantaneous, 0xE1 cumulative */
        case ECHO_FUEL_CELL:
                return "fuelcell";
        case ECHO_BATTERY:
                if (s->epc == 0xD8)     /* measured cumulative charging energy */
                        return "battery_charge";
                if (s->epc == 0xD6)     /* measured cumulative discharging energy */
                        return "battery_discharge";
                break;
        case ECHO_GAS_METER:
                return "gas";
        case ECHO_WATER_METER:
                return "water";
        case ECHO_DIST_BOARD:
                if (s->epc == 0xC0)     /* cumulative energy, normal direction (bought) */
                        return "purchase";
                if (s->epc == 0xC1)     /* cumulative energy, reverse direction (sold) */
                        return "sale";
                return "circuit";       /* 0xB3, 0xB7, 0xD0..: per-circuit values */
        case ECHO_SMART_METER:
                if (s->epc == 0xE0)
                        return "purchase";
                if (s->epc == 0xE3)
                        return "sale";
                break;
        default:
                break;
        }
        return ingest_quantity_role(s->quantity);
}

/* ---- post-parse filters -------------------------------------------------------- */

/* Writes the rejects of the failing points, merged by index with the old ones,
 * into m (room for all); compacts the good points. */
static void ingest_filter_apply(struct ingest_batch *b, ingest_point_check_fn check, void *ctx,
                                struct ingest_reject *m)
{
        size_t i, w = 0, old = 0, n = 0;
        struct ingest_reject *rj;
        char msg[sizeof(m->message)];
        const char *code;

        for (i = 0; i < b->n_points; i++) {
                msg[0] = '\0';
                code = check(&b->points[i], ctx, msg, sizeof(msg));
                if (!code) {
                        b->points[w++] = b->points[i];
                        continue;
                }
                while (old < b->n_rejects && b->rejects[old].index < b->points[i].index)
                        m[n++] = b->rejects[old++];
                rj = &m[n++];
                rj->index = b->points[i].index;
                rj->line = b->points[i].line;
                rj->code = code;
                memcpy(rj->message, msg, sizeof(rj->message));
                rj->message[sizeof(rj->message) - 1] = '\0';
        }
        while (old < b->n_rejects)
                m[n++] = b->rejects[old++];
        b->n_points = w;
        free(b->rejects);
        b->rejects = m;
        b->n_rejects = n;
        b->cap_rejects = n;
}

int ingest_batch_filter(struct ingest_batch *b, ingest_point_check_fn check, void *ctx)
{
        struct ingest_point copy;
        struct ingest_reject *m;
        char msg[sizeof(m->message)];
        size_t i, fail = 0;

        /* A dry run on copies first, so a failed allocation changes nothing. */
        for (i = 0; i < b->n_points; i++) {
                copy = b->points[i];
                if (check(&copy, ctx, msg, sizeof(msg)))
                        fail++;
        }
        if (fail == 0) {
                for (i = 0; i < b->n_points; i++)
                        check(&b->points[i], ctx, msg, sizeof(msg));
                return 0;
        }
        m = malloc((b->n_rejects + fail) * sizeof(*m));
        if (!m)
                return -ENOMEM;
        ingest_filter_apply(b, check, ctx, m);
        return 0;
}

struct ingest_window {
        int64_t min_ms, max_ms;
};

static const char *ingest_window_check(struct ingest_point *p, void *ctx, char *msg,
                                       size_t msg_size)
{
        const struct ingest_window *w = ctx;

        if (p->ts_ms < w->min_ms) {
                snprintf(msg, msg_size, "time %lld ms is before the registration (%lld ms)",
                         (long long)p->ts_ms, (long long)w->min_ms);
                return "before_registration";
        }
        if (p->ts_ms > w->max_ms) {
                snprintf(msg, msg_size, "time %lld ms is in the future (after %lld ms)",
                         (long long)p->ts_ms, (long long)w->max_ms);
                return "future_timestamp";
        }
        return NULL;
}

int ingest_batch_window(struct ingest_batch *b, int64_t min_ms, int64_t max_ms)
{
        struct ingest_window w = { .min_ms = min_ms, .max_ms = max_ms };

        return ingest_batch_filter(b, ingest_window_check, &w);
}
