/*
 * ingest.h - a parsed measurement batch (HE-7): series keys, points and the
 * per-point rejects, shared by the two ingest formats (line protocol in
 * lineproto.h, JSON batches in ingest_json.h). Pure data and rules: no I/O.
 *
 * A series is (channel, quantity, unit) within one home; its ECHONET Lite
 * source (class code, property code, instance, circuit), display name, role
 * and counter wrap value travel with it. Times are unix milliseconds.
 *
 * Ownership: struct ingest_batch owns its three arrays (ingest_batch_free).
 */
#ifndef ENEMANE_DOMAIN_INGEST_H
#define ENEMANE_DOMAIN_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum energy_quantity { EQ_POWER = 0, EQ_ENERGY, EQ_GAS, EQ_WATER, EQ_SOC, _EQ_MAX };
enum energy_kind { EK_GAUGE = 0, EK_COUNTER };

/* "power", "energy", "gas", "water", "soc"; NULL for a bad value. */
const char *energy_quantity_name(enum energy_quantity q);
/* The quantity of a name, or -EINVAL. */
int energy_quantity_from_name(const char *s);
enum energy_kind energy_quantity_kind(enum energy_quantity q);
/* Units: power W kW; energy Wh kWh; gas m3 L; water L m3; soc %. */
bool energy_unit_valid(enum energy_quantity q, const char *unit);
/* The unit assumed when a series names none: W, Wh, m3, L, %. */
const char *energy_default_unit(enum energy_quantity q);
/* Known roles: purchase sale generation consumption battery_charge
 * battery_discharge fuelcell gas water soc circuit other. */
bool energy_role_valid(const char *role);

/* The length (1..4) of the valid UTF-8 sequence at s[0..n), 0 when it is
 * not one (overlong, surrogate, above U+10FFFF, truncated). */
size_t ingest_utf8_char(const char *s, size_t n);
/* A channel or batch id: 1..64 characters of [A-Za-z0-9_.:-]. */
bool ingest_id_valid(const char *s, size_t len);
/* A display name: at most INGEST_NAME_MAX bytes of UTF-8 without control
 * characters ("" is valid: no name). */
bool ingest_name_valid(const char *s, size_t len);
/* An ECHONET code written as hex "0x0287"/"0X2a" (1..8 hex digits) or as a
 * decimal: 0 and *out set when it is <= max, else -EINVAL. */
int ingest_code_parse(const char *s, size_t len, uint32_t max, int32_t *out);
/* Converts a decimal literal [-+]?d*[.d*][(e|E)[-+]d+] with at least one
 * mantissa digit and len <= 255 to the nearest double: Clinger's exact fast
 * path (mantissa <= 2^53, |exponent| <= 22), strtod otherwise. Returns 0
 * (+-inf on overflow) or -EINVAL when s is no such literal. */
int ingest_decimal(const char *s, size_t len, double *out);

#define INGEST_CHANNEL_MAX 64
#define INGEST_NAME_MAX 64
#define INGEST_UNIT_MAX 8
#define INGEST_ROLE_MAX 24
#define INGEST_BATCH_ID_MAX 64

struct ingest_series {
        char channel[INGEST_CHANNEL_MAX + 1];   /* [A-Za-z0-9_.:-]{1,64} */
        enum energy_quantity quantity;
        char unit[INGEST_UNIT_MAX + 1];
        int32_t class_code;     /* -1 none, else 0..0xFFFF (ECHONET class group+class) */
        int32_t epc;            /* -1 none, else 0..0xFF */
        int32_t instance;       /* -1 none, else 1..127 */
        int32_t circuit;        /* -1 none, else 0..255 */
        double wrap;            /* counter wrap value, 0 = none */
        char name[INGEST_NAME_MAX + 1];         /* "" = none */
        char role[INGEST_ROLE_MAX + 1];         /* "" = derive with ingest_default_role */
};

struct ingest_point {
        uint32_t series;        /* index into ingest_batch.series */
        uint32_t index;         /* 0-based index of the point in the input */
        int64_t ts_ms;
        double value;
        uint32_t line;          /* 1-based line (line protocol), 0 for JSON */
};

struct ingest_reject {
        uint32_t index;         /* 0-based index of the point in the input */
        uint32_t line;          /* 1-based line (line protocol), 0 for JSON */
        const char *code;       /* static string: "bad_value", "future_timestamp", ... */
        char message[120];
};

struct ingest_batch {
        char batch_id[INGEST_BATCH_ID_MAX + 1]; /* "" when the input named none */
        struct ingest_series *series;
        size_t n_series, cap_series;
        struct ingest_point *points;            /* the good points, input order */
        size_t n_points, cap_points;
        struct ingest_reject *rejects;          /* sorted by index */
        size_t n_rejects, cap_rejects;
        size_t n_input;                         /* points seen (good + rejected) */
        /* Private to ingest.c: open-addressing index of the series by
         * (channel, quantity, unit); a slot is (hash << 32 | series + 1),
         * 0 = empty; cap_slots is 0 or a power of two. */
        uint64_t *series_slots;
        size_t cap_slots;
};

struct ingest_limits {
        size_t max_points;      /* points per batch (good + rejected) */
        size_t max_series;      /* distinct series per batch */
};

/* A whole-batch error: the input could not be read on. */
struct ingest_error {
        const char *code;       /* static: "malformed_line_protocol", "too_many_points", ... */
        char message[160];
        char pointer[64];       /* JSON pointer of the fault ("" for line protocol) */
        uint32_t line;          /* 1-based line for line protocol, else 0 */
};

void ingest_batch_init(struct ingest_batch *b);
/* Frees the arrays; accepts NULL. */
void ingest_batch_free(struct ingest_batch *b);
/* Finds or adds the series equal to s in (channel, quantity, unit); a found
 * series takes the attributes it lacks (-1, 0, "") from s. Returns its index,
 * -E2BIG past lim->max_series, -ENOMEM. lim may be NULL (no limits). */
int ingest_batch_series(struct ingest_batch *b, const struct ingest_series *s,
                        const struct ingest_limits *lim);
/* Appends a good point (its index is n_input; series is not checked): 0,
 * -E2BIG past lim->max_points, -ENOMEM. lim may be NULL (no limits). */
int ingest_batch_point(struct ingest_batch *b, uint32_t series, int64_t ts_ms, double v,
                       const struct ingest_limits *lim);
/* The same with the point's 1-based input line (line protocol). */
int ingest_batch_point_line(struct ingest_batch *b, uint32_t series, int64_t ts_ms, double v,
                            uint32_t line, const struct ingest_limits *lim);
/* Records a rejected point (counts toward n_input): 0 or -ENOMEM. */
int ingest_batch_reject(struct ingest_batch *b, uint32_t index, uint32_t line, const char *code,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The role a series has when it names none, from its ECHONET source and quantity. */
const char *ingest_default_role(const struct ingest_series *s);
/* Moves the good points outside [min_ms, max_ms] to the rejects
 * ("before_registration" below, "future_timestamp" above), keeping the order
 * of the rest. Returns 0 or -ENOMEM. */
int ingest_batch_window(struct ingest_batch *b, int64_t min_ms, int64_t max_ms);
/* A re-check of a good point: NULL keeps it (it may modify *p), a static
 * reject code (with msg filled) moves it to the rejects. */
typedef const char *(*ingest_point_check_fn)(struct ingest_point *p, void *ctx, char *msg,
                                             size_t msg_size);
/* Runs check over the good points in order and moves the failing ones to the
 * rejects; the good ones keep their order, the rejects stay sorted by index
 * and n_input does not change. Returns 0 or -ENOMEM (batch unchanged). */
int ingest_batch_filter(struct ingest_batch *b, ingest_point_check_fn check, void *ctx);

#endif
