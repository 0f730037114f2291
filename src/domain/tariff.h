/*
 * tariff.h - the household's tariff and CO2 factors from its settings
 * document (HE-8), and the daily or monthly energy summary of HE-16: purchase,
 * sale, generation, consumption, self-consumption ratio, gas, water, cost by
 * the tariff (time-of-use bands on the hour in Asia/Tokyo time, or monthly
 * tiered prices, plus a basic charge per month) and CO2 by the factor.
 * Pure: no I/O; the caller passes hourly energy in.
 */
#ifndef ENEMANE_DOMAIN_TARIFF_H
#define ENEMANE_DOMAIN_TARIFF_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TARIFF_BANDS_MAX 24
#define TARIFF_TIERS_MAX 8
#define TARIFF_PLAN_MAX 64

struct tariff {
        char plan[TARIFF_PLAN_MAX + 1];
        double basic_charge_per_month;          /* yen */
        int n_bands;                            /* 0: no time-of-use */
        double band_price[24];                  /* yen/kWh per Tokyo hour of day */
        int n_tiers;                            /* 0: no tiers */
        double tier_up_to_kwh[TARIFF_TIERS_MAX];/* last tier: INFINITY */
        double tier_price[TARIFF_TIERS_MAX];
        double flat_price_per_kwh;              /* neither bands nor tiers */
        double sell_price_per_kwh;
        double co2_kg_per_kwh;
        double co2_kg_per_m3_gas;
        int present;                            /* 0: settings had no tariff */
};

struct tariff_error {
        char pointer[64];       /* JSON pointer into the settings document */
        char message[160];
};

/* Reads "tariff", "co2_kg_per_kwh", "co2_kg_per_m3_gas" of a settings
 * document (other members are ignored here). A document without a tariff
 * gives present = 0 and zero prices. -EINVAL with *err on a bad tariff. */
int tariff_from_settings(const json_t *settings, struct tariff *t, struct tariff_error *err);

/* One hour of a home's energy (kWh / m3 / L), hour_start in unix s. */
struct energy_hour {
        int64_t hour_start;
        double purchase_kwh, sale_kwh, generation_kwh, battery_charge_kwh,
               battery_discharge_kwh, gas_m3, water_l;
};

struct energy_summary {
        int64_t start;                  /* bucket start, unix s */
        double purchase_kwh, sale_kwh, generation_kwh, consumption_kwh;
        double self_consumption_ratio;  /* -1 when there was no generation */
        double gas_m3, water_l;
        int64_t cost_yen, sale_yen;     /* rounded down at the end */
        double co2_kg;
};

/*
 * Summaries per Tokyo day (period 'd') or month ('m') of hours sorted by
 * hour_start. Consumption = purchase + generation - sale + battery discharge
 * - battery charge; self-consumption = (generation - sale) / generation.
 * Tiers apply to the cumulative purchase of the Tokyo month (month_kwh_before
 * is the purchase of that month before the first hour given, for day views);
 * the basic charge is per month, and per day pro-rated by the month's days.
 * out is malloc'd for the caller. 0 or -ENOMEM / -EINVAL.
 */
int tariff_summarise(const struct tariff *t, char period, const struct energy_hour *hours,
                     size_t n, double month_kwh_before, struct energy_summary **out,
                     size_t *n_out);

#endif
