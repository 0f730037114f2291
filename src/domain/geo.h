/*
 * geo.h - geography for the charger search: great-circle distances
 * (haversine on a spherical Earth), the latitude/longitude box that holds
 * every point within a radius (what the R*Tree is asked for), and the
 * service area (Japan's bounding box). Pure functions, no I/O.
 *
 * Degrees everywhere in the interface; microdegrees (e6) are how the
 * store keeps coordinates exactly (chargers.lat_e6, lon_e6).
 */
#ifndef ENEMANE_DOMAIN_GEO_H
#define ENEMANE_DOMAIN_GEO_H

#include <stdbool.h>
#include <stdint.h>

/* Mean Earth radius (IUGG), metres. The sphere is off by at most ~0.5 %
 * against the ellipsoid: plenty for "chargers near me". */
#define GEO_EARTH_RADIUS_M 6371008.8

/* The service area: Japan's bounding box (CS-9 coordinates must lie in it). */
#define GEO_JAPAN_MIN_LAT 20.0
#define GEO_JAPAN_MAX_LAT 46.0
#define GEO_JAPAN_MIN_LON 122.0
#define GEO_JAPAN_MAX_LON 154.0

struct geo_bbox {
        double min_lat, max_lat;
        double min_lon, max_lon;
};

/* Haversine distance in metres between two points given in degrees. */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

/* The smallest box (in degrees) guaranteed to hold every point within
 * radius_m of (lat, lon). Longitude is scaled by the cosine of the box's
 * most poleward latitude (the circle is widest there in degrees); when the
 * box reaches a pole it spans every longitude. The box is clamped to
 * -90..90 and -180..180: it does not wrap across the antimeridian (Japan is
 * far from it). radius_m < 0 counts as 0. */
void geo_bbox_around(double lat, double lon, double radius_m, struct geo_bbox *out);

/* True when lat is in -90..90 and lon in -180..180 (and neither is NaN). */
bool geo_valid(double lat, double lon);
/* True when the point lies in the service area (bounds inclusive). */
bool geo_in_japan(double lat, double lon);
/* True when the point lies in the box (bounds inclusive). */
bool geo_bbox_contains(const struct geo_bbox *b, double lat, double lon);

/* Degrees to microdegrees, rounded to nearest, and back. */
int64_t geo_to_e6(double deg);
double geo_from_e6(int64_t e6);

#endif
