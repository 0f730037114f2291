/*
 * solar.c - the sun's position, day events, clear-sky irradiance and PV
 * output (see solar.h for the models and conventions).
 *
 * Position: the low-precision solar coordinates of NOAA's solar calculator
 * (Meeus, Astronomical Algorithms, ch. 25 and 28): the sun's mean longitude
 * and anomaly in Julian centuries from J2000, the equation of centre, the
 * apparent longitude with nutation and aberration, the corrected obliquity,
 * declination and the equation of time; then the local hour angle, the
 * horizontal coordinates and NOAA's piecewise refraction model.
 */
#include "domain/solar.h"

#include <math.h>

#define DEG2RAD (M_PI / 180.0)
#define RAD2DEG (180.0 / M_PI)
#define DAY_S 86400.0
#define JD_UNIX_EPOCH 2440587.5         /* Julian day of 1970-01-01T00:00Z */
#define JD_J2000 2451545.0
#define DAYS_PER_CENTURY 36525.0
#define SECONDS_PER_DEGREE 240.0        /* the earth turns a degree in 4 minutes */
#define EVENT_ITERATIONS 5

static double sind(double d) { return sin(d * DEG2RAD); }
static double cosd(double d) { return cos(d * DEG2RAD); }
static double tand(double d) { return tan(d * DEG2RAD); }

/* x modulo m in [0, m). */
static double wrap(double x, double m)
{
        double r = fmod(x, m);

        return r < 0 ? r + m : r;
}

/* An angle in (-180, 180]. */
static double wrap180(double a)
{
        a = wrap(a, 360.0);
        return a > 180.0 ? a - 360.0 : a;
}

/* ---- the sun in the sky --------------------------------------------------- */

struct sun_coords {
        double decl;            /* declination, degrees */
        double eqt;             /* equation of time, minutes */
        double dist;            /* radius vector, AU */
};

/* Declination, equation of time and distance at Julian century jc. */
static void sun_coords(double jc, struct sun_coords *out)
{
        double l0 = wrap(280.46646 + jc * (36000.76983 + jc * 0.0003032), 360.0);
        double m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc);
        double e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);
        double c = sind(m) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) +
                   sind(2 * m) * (0.019993 - 0.000101 * jc) + sind(3 * m) * 0.000289;
        double true_long = l0 + c, true_anom = m + c;
        double omega = 125.04 - 1934.136 * jc;  /* longitude of the moon's node */
        double app_long = true_long - 0.00569 - 0.00478 * sind(omega);
        double eps0 = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) /
                                     60.0) / 60.0;
        double eps = eps0 + 0.00256 * cosd(omega);
        double y = tand(eps / 2) * tand(eps / 2);

        out->decl = asin(sind(eps) * sind(app_long)) * RAD2DEG;
        out->dist = 1.000001018 * (1 - e * e) / (1 + e * cosd(true_anom));
        out->eqt = 4.0 * RAD2DEG *
                   (y * sind(2 * l0) - 2 * e * sind(m) + 4 * e * y * sind(m) * cosd(2 * l0) -
                    0.5 * y * y * sind(4 * l0) - 1.25 * e * e * sind(2 * m));
}

static double julian_century(double unix_s)
{
        return (unix_s / DAY_S + JD_UNIX_EPOCH - JD_J2000) / DAYS_PER_CENTURY;
}

/* Hour angle (degrees, 0 at transit, positive after it) at unix_s. */
static double hour_angle(double lon, double unix_s, double eqt)
{
        double utc_min = wrap(unix_s, DAY_S) / 60.0;
        double true_solar_min = utc_min + eqt + 4.0 * lon;

        return wrap180(true_solar_min / 4.0 - 180.0);
}

/* NOAA's atmospheric refraction (degrees) for a true elevation. */
static double refraction(double e)
{
        double t, arcsec;

        if (e > 85.0)
                return 0.0;
        t = tand(e);
        if (e > 5.0)
                arcsec = 58.1 / t - 0.07 / (t * t * t) + 0.000086 / pow(t, 5);
        else if (e > -0.575)
                arcsec = 1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)));
        else
                arcsec = -20.772 / t;
        return arcsec / 3600.0;
}

void solar_position(double lat, double lon, double unix_s, struct solar_pos *out)
{
        struct sun_coords sc;
        double ha, cosz, zen, az;

        sun_coords(julian_century(unix_s), &sc);
        ha = hour_angle(lon, unix_s, sc.eqt);
        cosz = sind(lat) * sind(sc.decl) + cosd(lat) * cosd(sc.decl) * cosd(ha);
        cosz = fmax(-1.0, fmin(1.0, cosz));
        zen = acos(cosz) * RAD2DEG;
        /* Azimuth from the south (westward positive), turned to north-based. */
        az = atan2(sind(ha), cosd(ha) * sind(lat) - tand(sc.decl) * cosd(lat)) * RAD2DEG;
        out->true_elevation_deg = 90.0 - zen;
        out->elevation_deg = out->true_elevation_deg + refraction(out->true_elevation_deg);
        out->azimuth_deg = wrap(az + 180.0, 360.0);
        out->declination_deg = sc.decl;
        out->eq_time_min = sc.eqt;
        out->hour_angle_deg = ha;
        out->distance_au = sc.dist;
}

/* ---- sunrise, noon, sunset ---------------------------------------------------- */

/* The transit nearest to t: step by the hour angle until it is ~0. */
static double transit_near(double lon, double t)
{
        struct sun_coords sc;

        for (int i = 0; i < EVENT_ITERATIONS; i++) {
                sun_coords(julian_century(t), &sc);
                t -= hour_angle(lon, t, sc.eqt) * SECONDS_PER_DEGREE;
        }
        return t;
}

/* Cosine of the hour angle at which the sun's centre is at the sunrise
 * zenith, for declination decl (outside [-1, 1]: no such event). */
static double event_cos_ha(double lat, double decl)
{
        return (cosd(SOLAR_SUNRISE_ZENITH_DEG) - sind(lat) * sind(decl)) /
               (cosd(lat) * cosd(decl));
}

/* Sunrise (sign -1) or sunset (+1) near the transit noon; returns the
 * cosine found at the event (outside [-1, 1]: the sun never reaches it). */
static double event_near(double lat, double lon, double noon, int sign, double *t_out)
{
        struct sun_coords sc;
        double t = noon, cha = 0;

        for (int i = 0; i < EVENT_ITERATIONS; i++) {
                sun_coords(julian_century(t), &sc);
                cha = event_cos_ha(lat, sc.decl);
                if (cha < -1.0 || cha > 1.0)
                        return cha;
                /* Move t until the hour angle there equals the event's. */
                t += (sign * acos(cha) * RAD2DEG - hour_angle(lon, t, sc.eqt)) *
                     SECONDS_PER_DEGREE;
        }
        *t_out = t;
        return cha;
}

void solar_day(double lat, double lon, int64_t day_start, struct solar_day *out)
{
        struct solar_pos p;
        double cr, cs, rise = 0, set = 0;

        out->noon = transit_near(lon, (double)day_start + DAY_S / 2);
        solar_position(lat, lon, out->noon, &p);
        out->noon_elevation_deg = p.elevation_deg;
        out->sunrise = out->sunset = 0;
        cr = event_near(lat, lon, out->noon, -1, &rise);
        cs = event_near(lat, lon, out->noon, +1, &set);
        if (cr < -1.0 || cs < -1.0) {
                out->kind = SOLAR_DAY_MIDNIGHT_SUN;
                return;
        }
        if (cr > 1.0 || cs > 1.0) {
                out->kind = SOLAR_DAY_POLAR_NIGHT;
                return;
        }
        out->kind = SOLAR_DAY_NORMAL;
        out->sunrise = rise;
        out->sunset = set;
}

/* ---- clear sky ------------------------------------------------------------------- */

double solar_air_mass(double zenith_deg)
{
        if (zenith_deg >= 90.0)
                return 0.0;
        return 1.0 / (cosd(zenith_deg) + 0.50572 * pow(96.07995 - zenith_deg, -1.6364));
}

void solar_clear_sky(const struct solar_pos *p, double altitude_m, double linke,
                     struct solar_irradiance *out)
{
        double zen = 90.0 - p->elevation_deg, cosz = cosd(zen);
        double tl = linke > 0 ? linke : SOLAR_LINKE_DEFAULT;
        double i0 = SOLAR_CONSTANT_WM2 / (p->distance_au * p->distance_au);
        double fh1 = exp(-altitude_m / 8000.0), fh2 = exp(-altitude_m / 1250.0);
        double cg1 = 5.09e-5 * altitude_m + 0.868, cg2 = 3.92e-5 * altitude_m + 0.0387;
        double pressure_ratio = pow(1.0 - 2.25577e-5 * altitude_m, 5.25588);
        double am, b, dni_a, dni_b;

        out->ghi = out->dni = out->dhi = 0.0;
        if (zen >= 90.0)
                return;
        am = solar_air_mass(zen) * pressure_ratio;      /* absolute air mass */
        out->ghi = fmax(0.0, cg1 * i0 * cosz * exp(-cg2 * am * (fh1 + fh2 * (tl - 1.0))));
        b = 0.664 + 0.163 / fh1;
        dni_a = b * i0 * exp(-0.09 * am * (tl - 1.0));
        /* The beam can never carry more than the global minus a minimum diffuse. */
        dni_b = out->ghi * (1.0 - (0.1 - 0.2 * exp(-tl)) / (0.1 + 0.882 / fh1)) / cosz;
        out->dni = fmax(0.0, fmin(dni_a, dni_b));
        out->dhi = fmax(0.0, out->ghi - out->dni * cosz);
}

double solar_haurwitz_ghi(double zenith_deg)
{
        double cosz = cosd(zenith_deg);

        if (zenith_deg >= 90.0 || cosz <= 0.0)
                return 0.0;
        return 1098.0 * cosz * exp(-0.059 / cosz);
}

double solar_cloud_factor(double cloud_fraction)
{
        double n = fmax(0.0, fmin(1.0, cloud_fraction));

        return 1.0 - 0.75 * pow(n, 3.4);
}

/* ---- PV ----------------------------------------------------------------------- */

double solar_plane_irradiance(const struct solar_pos *p, const struct solar_irradiance *irr,
                              double tilt_deg, double azimuth_deg)
{
        double zen = 90.0 - p->elevation_deg;
        double cos_aoi = cosd(zen) * cosd(tilt_deg) +
                         sind(zen) * sind(tilt_deg) * cosd(p->azimuth_deg - azimuth_deg);
        double beam = irr->dni * fmax(0.0, cos_aoi);
        double sky = irr->dhi * (1.0 + cosd(tilt_deg)) / 2.0;
        double ground = irr->ghi * SOLAR_ALBEDO * (1.0 - cosd(tilt_deg)) / 2.0;

        if (zen >= 90.0)
                return 0.0;
        return beam + sky + ground;
}

double solar_pv_power_kw(const struct solar_pv *pv, const struct solar_pos *p,
                         const struct solar_irradiance *irr)
{
        double pr = pv->performance_ratio > 0 ? pv->performance_ratio
                                              : SOLAR_PV_PERFORMANCE_RATIO;
        double poa = solar_plane_irradiance(p, irr, pv->tilt_deg, pv->azimuth_deg);

        return fmin(pv->kw, pv->kw * poa / 1000.0 * pr);
}

void solar_interval(double lat, double lon, const struct solar_pv *pv, double linke,
                    int64_t t0, int64_t seconds, struct solar_interval *out)
{
        int n = (int)(seconds * SOLAR_SAMPLES_PER_HOUR / 3600);
        double step, hours = (double)seconds / 3600.0;
        struct solar_pos p;
        struct solar_irradiance irr;

        if (n < 1)
                n = 1;
        step = (double)seconds / n;
        out->ghi_wh_m2 = out->pv_kwh = 0.0;
        for (int i = 0; i < n; i++) {
                solar_position(lat, lon, (double)t0 + step * (i + 0.5), &p);
                solar_clear_sky(&p, 0.0, linke, &irr);
                out->ghi_wh_m2 += irr.ghi * hours / n;
                if (pv)
                        out->pv_kwh += solar_pv_power_kw(pv, &p, &irr) * hours / n;
        }
}
