/*
 * tariff.c - the tariff of a settings document and the daily or monthly
 * energy summaries priced by it (see tariff.h; HE-8, HE-16).
 *
 * Parsing is strict about what it reads ("tariff", "co2_kg_per_kwh",
 * "co2_kg_per_m3_gas") and ignores everything else; members that are null
 * count as absent. Prices are yen per kWh, finite and not negative. Bands
 * are "HH:00" Tokyo hours ("to" may be "24:00"; from == to is the whole
 * day), a band may wrap midnight, and the bands must cover every hour of the
 * day exactly once. Tiers ascend by up_to_kwh and the last has none.
 *
 * Summaries add the hours of each Tokyo day or month. The energy charge is
 * the purchase of each hour at the band price of its Tokyo hour of day, or
 * at the tier prices of the cumulative purchase of its Tokyo month (an hour
 * crossing a tier boundary is split), or at the flat price; a negative
 * purchase is not charged. The basic charge is the month's, or for a day
 * the month's divided by the days of that month. Yen amounts are rounded
 * down once per summary (after adding 1e-6 yen against binary fractions
 * like 0.1 kWh that would otherwise lose a whole yen). The self-consumption
 * ratio is clamped to 0..1 (a sale above generation, from a battery, is 0).
 */
#include "domain/tariff.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/rollup.h"
#include "util/timeutil.h"

#define YEN_EPSILON 1e-6
#define YEN_MAX 1e15

/* ---- errors ------------------------------------------------------------ */

static int fail(struct tariff_error *err, const char *pointer, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(struct tariff_error *err, const char *pointer, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return -EINVAL;
        snprintf(err->pointer, sizeof(err->pointer), "%s", pointer);
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* "/tariff/<list>/<i>/<member>" into buf. */
static const char *item_ptr(char *buf, size_t size, const char *list, size_t i,
                            const char *member)
{
        snprintf(buf, size, "/tariff/%s/%zu%s%s", list, i, member[0] ? "/" : "", member);
        return buf;
}

/* ---- members -------------------------------------------------------------- */

/* A member, or NULL when absent or null. */
static json_t *member(const json_t *obj, const char *key)
{
        json_t *v = json_object_get(obj, key);

        return json_is_null(v) ? NULL : v;
}

/* An optional non-negative finite number; absent leaves *out as it is. */
static int get_amount(const json_t *obj, const char *key, const char *ptr, bool required,
                      double *out, struct tariff_error *err)
{
        json_t *v = member(obj, key);
        double x;

        if (!v) {
                if (required)
                        return fail(err, ptr, "%s is required", key);
                return 0;
        }
        if (!json_is_number(v))
                return fail(err, ptr, "%s must be a number", key);
        x = json_number_value(v);
        if (!isfinite(x) || x < 0)
                return fail(err, ptr, "%s must be a finite number >= 0", key);
        *out = x;
        return 0;
}

/* "HH:00" (HH 00..max) -> hour, or -1. */
static int parse_hour(const json_t *v, int max)
{
        const char *s = json_string_value(v);
        int h;

        if (!s || strlen(s) != 5 || s[2] != ':' || s[3] != '0' || s[4] != '0')
                return -1;
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -1;
        h = (s[0] - '0') * 10 + (s[1] - '0');
        return h <= max ? h : -1;
}

/* ---- bands ------------------------------------------------------------------ */

/* Reads band i and assigns its hours in owner[]/t->band_price[]. */
static int parse_band(const json_t *band, size_t i, int owner[24], struct tariff *t,
                      struct tariff_error *err)
{
        char ptr[64];
        int from, to, h;
        double price = 0;
        json_t *name = member(band, "name");
        int r;

        if (!json_is_object(band))
                return fail(err, item_ptr(ptr, sizeof(ptr), "bands", i, ""),
                            "a band must be an object");
        if (name && !json_is_string(name))
                return fail(err, item_ptr(ptr, sizeof(ptr), "bands", i, "name"),
                            "name must be a string");
        from = parse_hour(member(band, "from"), 23);
        if (from < 0)
                return fail(err, item_ptr(ptr, sizeof(ptr), "bands", i, "from"),
                            "from must be \"HH:00\" (00..23, on the hour)");
        to = parse_hour(member(band, "to"), 24);
        if (to < 0)
                return fail(err, item_ptr(ptr, sizeof(ptr), "bands", i, "to"),
                            "to must be \"HH:00\" (00..24, on the hour)");
        r = get_amount(band, "price_per_kwh", item_ptr(ptr, sizeof(ptr), "bands", i,
                       "price_per_kwh"), true, &price, err);
        if (r < 0)
                return r;
        h = from;
        do {
                if (owner[h] >= 0)
                        return fail(err, item_ptr(ptr, sizeof(ptr), "bands", i, "from"),
                                    "hour %02d:00 is already in band %d", h, owner[h]);
                owner[h] = (int)i;
                t->band_price[h] = price;
                h = (h + 1) % 24;
        } while (h != to % 24);
        return 0;
}

/* The first hour no band covers points at the band ending there. */
static int bands_gap(const json_t *bands, const int owner[24], struct tariff_error *err)
{
        char ptr[64];

        for (int h = 0; h < 24; h++) {
                if (owner[h] >= 0)
                        continue;
                for (size_t j = 0; j < json_array_size(bands); j++) {
                        if (parse_hour(member(json_array_get(bands, j), "to"), 24) % 24 == h)
                                return fail(err, item_ptr(ptr, sizeof(ptr), "bands", j, "to"),
                                            "hour %02d:00 is in no band", h);
                }
                return fail(err, "/tariff/bands", "hour %02d:00 is in no band", h);
        }
        return 0;
}

static int parse_bands(const json_t *bands, struct tariff *t, struct tariff_error *err)
{
        int owner[24];
        size_t n = json_array_size(bands);
        int r;

        if (!json_is_array(bands))
                return fail(err, "/tariff/bands", "bands must be an array");
        if (n == 0 || n > TARIFF_BANDS_MAX)
                return fail(err, "/tariff/bands", "bands must have 1..%d items", TARIFF_BANDS_MAX);
        for (int h = 0; h < 24; h++)
                owner[h] = -1;
        for (size_t i = 0; i < n; i++) {
                r = parse_band(json_array_get(bands, i), i, owner, t, err);
                if (r < 0)
                        return r;
        }
        r = bands_gap(bands, owner, err);
        if (r < 0)
                return r;
        t->n_bands = (int)n;
        return 0;
}

/* ---- tiers ------------------------------------------------------------------ */

static int parse_tier(const json_t *tier, size_t i, size_t n, struct tariff *t,
                      struct tariff_error *err)
{
        char ptr[64];
        double up = INFINITY, floor_kwh = i > 0 ? t->tier_up_to_kwh[i - 1] : 0;
        int r;

        if (!json_is_object(tier))
                return fail(err, item_ptr(ptr, sizeof(ptr), "tiers", i, ""),
                            "a tier must be an object");
        r = get_amount(tier, "price_per_kwh", item_ptr(ptr, sizeof(ptr), "tiers", i,
                       "price_per_kwh"), true, &t->tier_price[i], err);
        if (r < 0)
                return r;
        item_ptr(ptr, sizeof(ptr), "tiers", i, "up_to_kwh");
        if (i + 1 == n) {
                if (member(tier, "up_to_kwh"))
                        return fail(err, ptr, "the last tier has no up_to_kwh");
        } else {
                r = get_amount(tier, "up_to_kwh", ptr, true, &up, err);
                if (r < 0)
                        return r;
                if (!(up > floor_kwh))
                        return fail(err, ptr, "up_to_kwh must be above %g", floor_kwh);
        }
        t->tier_up_to_kwh[i] = up;
        return 0;
}

static int parse_tiers(const json_t *tiers, struct tariff *t, struct tariff_error *err)
{
        size_t n = json_array_size(tiers);

        if (!json_is_array(tiers))
                return fail(err, "/tariff/tiers", "tiers must be an array");
        if (n == 0 || n > TARIFF_TIERS_MAX)
                return fail(err, "/tariff/tiers", "tiers must have 1..%d items", TARIFF_TIERS_MAX);
        for (size_t i = 0; i < n; i++) {
                int r = parse_tier(json_array_get(tiers, i), i, n, t, err);

                if (r < 0)
                        return r;
        }
        t->n_tiers = (int)n;
        return 0;
}

/* ---- the tariff object ------------------------------------------------------- */

static int parse_labels(const json_t *tariff, struct tariff *t, struct tariff_error *err)
{
        json_t *plan = member(tariff, "plan");
        json_t *currency = member(tariff, "currency");

        if (plan && (!json_is_string(plan) || json_string_length(plan) > TARIFF_PLAN_MAX))
                return fail(err, "/tariff/plan", "plan must be a string of at most %d bytes",
                            TARIFF_PLAN_MAX);
        if (plan)
                snprintf(t->plan, sizeof(t->plan), "%s", json_string_value(plan));
        if (currency && (!json_is_string(currency) ||
                         strcmp(json_string_value(currency), "JPY") != 0))
                return fail(err, "/tariff/currency", "currency must be \"JPY\"");
        return 0;
}

/* Bands, tiers or the flat price: exactly one way of pricing energy. */
static int parse_pricing(const json_t *tariff, struct tariff *t, struct tariff_error *err)
{
        json_t *bands = member(tariff, "bands");
        json_t *tiers = member(tariff, "tiers");
        bool flat = member(tariff, "price_per_kwh") != NULL;

        if (bands && tiers)
                return fail(err, "/tariff/tiers", "bands and tiers are mutually exclusive");
        if ((bands || tiers) && flat)
                return fail(err, "/tariff/price_per_kwh",
                            "price_per_kwh is not allowed with bands or tiers");
        if (bands)
                return parse_bands(bands, t, err);
        if (tiers)
                return parse_tiers(tiers, t, err);
        return get_amount(tariff, "price_per_kwh", "/tariff/price_per_kwh", true,
                          &t->flat_price_per_kwh, err);
}

static int parse_tariff(const json_t *tariff, struct tariff *t, struct tariff_error *err)
{
        int r;

        if (!json_is_object(tariff))
                return fail(err, "/tariff", "tariff must be an object");
        r = parse_labels(tariff, t, err);
        if (r == 0)
                r = get_amount(tariff, "basic_charge_per_month", "/tariff/basic_charge_per_month",
                               false, &t->basic_charge_per_month, err);
        if (r == 0)
                r = get_amount(tariff, "sell_price_per_kwh", "/tariff/sell_price_per_kwh", false,
                               &t->sell_price_per_kwh, err);
        if (r == 0)
                r = parse_pricing(tariff, t, err);
        if (r == 0)
                t->present = 1;
        return r;
}

int tariff_from_settings(const json_t *settings, struct tariff *t, struct tariff_error *err)
{
        json_t *tariff;
        int r;

        memset(t, 0, sizeof(*t));
        if (err)
                memset(err, 0, sizeof(*err));
        if (!json_is_object(settings))
                return fail(err, "", "the settings document must be an object");
        r = get_amount(settings, "co2_kg_per_kwh", "/co2_kg_per_kwh", false, &t->co2_kg_per_kwh,
                       err);
        if (r == 0)
                r = get_amount(settings, "co2_kg_per_m3_gas", "/co2_kg_per_m3_gas", false,
                               &t->co2_kg_per_m3_gas, err);
        tariff = member(settings, "tariff");
        if (r == 0 && tariff)
                r = parse_tariff(tariff, t, err);
        if (r < 0)
                memset(t, 0, sizeof(*t));
        return r;
}

/* ---- energy charge -------------------------------------------------------- */

static int tokyo_hour_of_day(int64_t unix_s)
{
        int64_t s = (unix_s + TIME_DISPLAY_OFFSET_S) % 86400;

        return (int)((s < 0 ? s + 86400 : s) / 3600);
}

/* Charge of kwh bought on top of *month_kwh in the month, by tiers. */
static double tier_charge(const struct tariff *t, double *month_kwh, double kwh)
{
        double yen = 0;

        for (int i = 0; i < t->n_tiers && kwh > 0; i++) {
                double room = t->tier_up_to_kwh[i] - *month_kwh;
                double take;

                if (room <= 0)
                        continue;
                take = kwh < room ? kwh : room;
                yen += take * t->tier_price[i];
                *month_kwh += take;
                kwh -= take;
        }
        return yen;
}

/* Energy charge of one hour's purchase; *month_kwh grows by it. */
static double hour_charge(const struct tariff *t, int64_t hour_start, double kwh,
                          double *month_kwh)
{
        if (!(kwh > 0))
                return 0;
        if (t->n_bands > 0) {
                *month_kwh += kwh;
                return kwh * t->band_price[tokyo_hour_of_day(hour_start)];
        }
        if (t->n_tiers > 0)
                return tier_charge(t, month_kwh, kwh);
        *month_kwh += kwh;
        return kwh * t->flat_price_per_kwh;
}

/* ---- summaries ---------------------------------------------------------------- */

/* Summary under construction: energy yen kept apart until rounding. */
struct acc {
        struct energy_summary *s;
        double battery_charge, battery_discharge;
        double energy_yen;
};

static bool yen_floor(double x, int64_t *out)
{
        if (!isfinite(x) || fabs(x) > YEN_MAX)
                return false;
        *out = (int64_t)floor(x + YEN_EPSILON);
        return true;
}

static double basic_charge(const struct tariff *t, char period, int64_t start)
{
        int64_t month, days;

        if (period == 'm')
                return t->basic_charge_per_month;
        month = rollup_bucket(RU_MONTH, start);
        days = (rollup_next(RU_MONTH, month) - month) / 86400;
        return t->basic_charge_per_month / (double)days;
}

static int acc_finish(const struct tariff *t, char period, struct acc *a)
{
        struct energy_summary *s = a->s;
        double cost = basic_charge(t, period, s->start) + a->energy_yen;

        s->consumption_kwh = s->purchase_kwh + s->generation_kwh - s->sale_kwh +
                             a->battery_discharge - a->battery_charge;
        s->self_consumption_ratio = -1;
        if (s->generation_kwh > 0) {
                double r = (s->generation_kwh - s->sale_kwh) / s->generation_kwh;

                s->self_consumption_ratio = r < 0 ? 0 : (r > 1 ? 1 : r);
        }
        s->co2_kg = s->purchase_kwh * t->co2_kg_per_kwh + s->gas_m3 * t->co2_kg_per_m3_gas;
        if (!yen_floor(cost, &s->cost_yen) ||
            !yen_floor(s->sale_kwh * t->sell_price_per_kwh, &s->sale_yen))
                return -EINVAL;
        return 0;
}

static void acc_add(struct acc *a, const struct energy_hour *h)
{
        struct energy_summary *s = a->s;

        s->purchase_kwh += h->purchase_kwh;
        s->sale_kwh += h->sale_kwh;
        s->generation_kwh += h->generation_kwh;
        s->gas_m3 += h->gas_m3;
        s->water_l += h->water_l;
        a->battery_charge += h->battery_charge_kwh;
        a->battery_discharge += h->battery_discharge_kwh;
}

/* Number of summaries, or -EINVAL when hours are not strictly increasing. */
static int64_t count_summaries(enum rollup_res res, const struct energy_hour *hours, size_t n)
{
        int64_t count = n > 0 ? 1 : 0;

        for (size_t i = 1; i < n; i++) {
                if (hours[i].hour_start <= hours[i - 1].hour_start)
                        return -EINVAL;
                count += rollup_bucket(res, hours[i].hour_start) !=
                         rollup_bucket(res, hours[i - 1].hour_start);
        }
        return count;
}

/* Fills out[] (count summaries) from the hours. */
static int summarise_into(const struct tariff *t, char period, const struct energy_hour *hours,
                          size_t n, double month_kwh, struct energy_summary *out)
{
        enum rollup_res res = period == 'd' ? RU_DAY : RU_MONTH;
        struct acc a = { .s = NULL };
        int64_t month = n > 0 ? rollup_bucket(RU_MONTH, hours[0].hour_start) : 0;

        for (size_t i = 0; i < n; i++) {
                int64_t b = rollup_bucket(res, hours[i].hour_start);
                int64_t m = rollup_bucket(RU_MONTH, hours[i].hour_start);

                if (!a.s || a.s->start != b) {
                        if (a.s && acc_finish(t, period, &a) < 0)
                                return -EINVAL;
                        a = (struct acc){ .s = a.s ? a.s + 1 : out };
                        a.s->start = b;
                }
                if (m != month) {
                        month = m;
                        month_kwh = 0;
                }
                acc_add(&a, &hours[i]);
                a.energy_yen += hour_charge(t, hours[i].hour_start, hours[i].purchase_kwh,
                                            &month_kwh);
        }
        return a.s ? acc_finish(t, period, &a) : 0;
}

int tariff_summarise(const struct tariff *t, char period, const struct energy_hour *hours,
                     size_t n, double month_kwh_before, struct energy_summary **out,
                     size_t *n_out)
{
        enum rollup_res res = period == 'd' ? RU_DAY : RU_MONTH;
        struct energy_summary *s;
        int64_t count;
        int r;

        *out = NULL;
        *n_out = 0;
        if (!t || (period != 'd' && period != 'm') || (n > 0 && !hours))
                return -EINVAL;
        count = count_summaries(res, hours, n);
        if (count <= 0)
                return (int)count;
        s = calloc((size_t)count, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = summarise_into(t, period, hours, n, month_kwh_before, s);
        if (r < 0) {
                free(s);
                return r;
        }
        *out = s;
        *n_out = (size_t)count;
        return 0;
}
