/*
 * solar.h - the sun for any place and time (HE-11): its position (NOAA's
 * solar position equations, after Meeus), sunrise, solar noon and sunset,
 * clear-sky irradiance (Ineichen-Perez 2002, and Haurwitz 1945 as a
 * cross-check), the cloud-cover reduction of Kasten and Czeplak (1980),
 * the irradiance on a tilted panel (isotropic sky, Liu and Jordan) and
 * the expected output of a PV system from it. Pure functions, no I/O.
 *
 * Conventions: degrees in the interface, latitude north positive,
 * longitude east positive, azimuth clockwise from true north (90 east,
 * 180 south). Times are Unix seconds (UTC; the difference between UT1 and
 * UTC and delta T are ignored, as NOAA's calculator does: under a second
 * of time, far below the model's own error). Irradiance in W/m2.
 *
 * Accuracy: the NOAA equations are good to about 0.01 degree for years
 * 1800-2100 (refraction near the horizon dominates the error); sunrise and
 * sunset to about a minute between the polar circles.
 */
#ifndef ENEMANE_DOMAIN_SOLAR_H
#define ENEMANE_DOMAIN_SOLAR_H

#include <stdint.h>

/* Zenith angle of the sun's centre at sunrise and sunset: 90 degrees plus
 * 34' of refraction at the horizon and 16' of the sun's semidiameter. */
#define SOLAR_SUNRISE_ZENITH_DEG 90.833
/* Total solar irradiance at 1 AU (Kopp and Lean 2011), W/m2. */
#define SOLAR_CONSTANT_WM2 1361.0
/* Linke turbidity used when nothing better is known: a typical annual
 * mean for Japan's lowlands (clean air about 2, hazy summer air 4 to 5). */
#define SOLAR_LINKE_DEFAULT 3.0
/* Ground reflectance for the ground-reflected part on a tilted panel. */
#define SOLAR_ALBEDO 0.2
/* AC output per kW of panel at 1000 W/m2 on the panel: temperature,
 * inverter, wiring and soiling losses together (a common planning value). */
#define SOLAR_PV_PERFORMANCE_RATIO 0.80
/* Samples per integration interval (midpoints): 4 per hour keeps the
 * hourly energy within about 1 % of a fine integration. */
#define SOLAR_SAMPLES_PER_HOUR 4

struct solar_pos {
        double elevation_deg;           /* apparent: refraction added (NOAA's model) */
        double true_elevation_deg;      /* geometric, without refraction */
        double azimuth_deg;             /* clockwise from north, 0 <= az < 360 */
        double declination_deg;
        double eq_time_min;             /* equation of time, minutes */
        double hour_angle_deg;          /* -180 < ha <= 180, 0 at solar noon */
        double distance_au;             /* sun-earth distance */
};

/* The sun's position seen from (lat, lon) at unix_s. */
void solar_position(double lat, double lon, double unix_s, struct solar_pos *out);

enum solar_day_kind {
        SOLAR_DAY_NORMAL,               /* the sun rises and sets */
        SOLAR_DAY_MIDNIGHT_SUN,         /* above the horizon all day */
        SOLAR_DAY_POLAR_NIGHT,          /* below it all day */
};

struct solar_day {
        enum solar_day_kind kind;
        double noon;                    /* solar noon (transit), unix s */
        double noon_elevation_deg;      /* apparent elevation at noon */
        double sunrise, sunset;         /* unix s; only for SOLAR_DAY_NORMAL (else 0) */
};

/* Sunrise, noon and sunset for the civil day that starts at day_start
 * (unix s of local midnight: the caller's time zone decides the day). The
 * noon found is the transit nearest to local noon; sunrise and sunset are
 * those around it, found by iterating on the sun's position at the event
 * itself (no fixed-day approximation). */
void solar_day(double lat, double lon, int64_t day_start, struct solar_day *out);

struct solar_irradiance {
        double ghi;                     /* global horizontal */
        double dni;                     /* direct normal */
        double dhi;                     /* diffuse horizontal */
};

/* Kasten and Young (1989) relative air mass for an apparent zenith angle;
 * 0 when the sun is below the horizon. */
double solar_air_mass(double zenith_deg);

/* Clear-sky irradiance by Ineichen and Perez (2002) for the position p,
 * the site altitude (m) and a Linke turbidity (<= 0: SOLAR_LINKE_DEFAULT).
 * All zero when the sun is below the horizon. */
void solar_clear_sky(const struct solar_pos *p, double altitude_m, double linke,
                     struct solar_irradiance *out);

/* Haurwitz (1945) clear-sky global horizontal irradiance: needs only the
 * zenith angle. 0 when the sun is below the horizon. */
double solar_haurwitz_ghi(double zenith_deg);

/* Kasten and Czeplak (1980): the fraction of the clear-sky global
 * irradiance left under a cloud cover of cloud_fraction (0..1, clamped). */
double solar_cloud_factor(double cloud_fraction);

struct solar_pv {
        double kw;                      /* rated DC size, kW (> 0) */
        double tilt_deg;                /* 0 flat .. 90 vertical */
        double azimuth_deg;             /* direction faced, 180 = south */
        double performance_ratio;       /* <= 0: SOLAR_PV_PERFORMANCE_RATIO */
};

/* Irradiance on a panel of tilt and azimuth (isotropic sky diffuse, ground
 * reflection SOLAR_ALBEDO), W/m2. */
double solar_plane_irradiance(const struct solar_pos *p, const struct solar_irradiance *irr,
                              double tilt_deg, double azimuth_deg);

/* The PV system's AC output (kW) under irr, never above its rated size. */
double solar_pv_power_kw(const struct solar_pv *pv, const struct solar_pos *p,
                         const struct solar_irradiance *irr);

struct solar_interval {
        double ghi_wh_m2;               /* clear-sky global horizontal irradiation */
        double pv_kwh;                  /* clear-sky PV energy; 0 without pv */
};

/* Clear-sky energy over [t0, t0 + seconds) at (lat, lon), sampled at
 * SOLAR_SAMPLES_PER_HOUR midpoints per hour (at least one); pv may be NULL.
 * linke as for solar_clear_sky. */
void solar_interval(double lat, double lon, const struct solar_pv *pv, double linke,
                    int64_t t0, int64_t seconds, struct solar_interval *out);

#endif
