/*
 * geo.h - geography: distances and bounding boxes on the WGS84 sphere.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_DOMAIN_GEO_H
#define ENEMANE_DOMAIN_GEO_H

#endif
