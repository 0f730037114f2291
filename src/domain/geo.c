/*
 * geo.c - distances, search boxes and the service area (see geo.h).
 */
#include "domain/geo.h"

#include <math.h>

#define DEG2RAD (M_PI / 180.0)
#define RAD2DEG (180.0 / M_PI)
/* Slack for floating-point rounding (about 0.1 mm): a point exactly on the
 * circle must not fall out of the box by one ulp. */
#define GEO_BBOX_EPS 1e-9

double geo_distance_m(double lat1, double lon1, double lat2, double lon2)
{
        double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD;
        double dp = (lat2 - lat1) * DEG2RAD, dl = (lon2 - lon1) * DEG2RAD;
        double sp = sin(dp / 2), sl = sin(dl / 2);
        double a = sp * sp + cos(p1) * cos(p2) * sl * sl;

        /* Rounding can push a a hair above 1 for antipodal points. */
        if (a > 1.0)
                a = 1.0;
        return 2.0 * GEO_EARTH_RADIUS_M * asin(sqrt(a));
}

void geo_bbox_around(double lat, double lon, double radius_m, struct geo_bbox *out)
{
        double dlat, dlon, far_lat;

        if (!(radius_m > 0))
                radius_m = 0;
        /* Along a meridian one radian of arc is one Earth radius. */
        dlat = radius_m / GEO_EARTH_RADIUS_M * RAD2DEG + GEO_BBOX_EPS;
        out->min_lat = lat - dlat;
        out->max_lat = lat + dlat;
        if (out->min_lat <= -90.0 || out->max_lat >= 90.0) {
                out->min_lat = fmax(out->min_lat, -90.0);
                out->max_lat = fmin(out->max_lat, 90.0);
                out->min_lon = -180.0;
                out->max_lon = 180.0;
                return;
        }
        /*
         * A degree of longitude shrinks with cos(latitude). The circle's
         * widest extent in degrees is where cos is smallest inside the box:
         * at the poleward edge. Using that edge (rather than the centre)
         * errs on the large side, which a prefilter must.
         */
        far_lat = fmax(fabs(out->min_lat), fabs(out->max_lat));
        dlon = dlat / cos(far_lat * DEG2RAD) + GEO_BBOX_EPS;
        out->min_lon = fmax(lon - dlon, -180.0);
        out->max_lon = fmin(lon + dlon, 180.0);
}

bool geo_valid(double lat, double lon)
{
        return lat >= -90.0 && lat <= 90.0 && lon >= -180.0 && lon <= 180.0;
}

bool geo_in_japan(double lat, double lon)
{
        return lat >= GEO_JAPAN_MIN_LAT && lat <= GEO_JAPAN_MAX_LAT &&
               lon >= GEO_JAPAN_MIN_LON && lon <= GEO_JAPAN_MAX_LON;
}

bool geo_bbox_contains(const struct geo_bbox *b, double lat, double lon)
{
        return lat >= b->min_lat && lat <= b->max_lat && lon >= b->min_lon && lon <= b->max_lon;
}

int64_t geo_to_e6(double deg)
{
        return (int64_t)llround(deg * 1e6);
}

double geo_from_e6(int64_t e6)
{
        return (double)e6 / 1e6;
}
