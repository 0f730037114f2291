/*
 * api_notices.h - placeholder being written (HE-5, HE-6, HE-13).
 */
#ifndef ENEMANE_API_API_NOTICES_H
#define ENEMANE_API_API_NOTICES_H

#include "api/api.h"

struct route;

/*
 * HE-6: called by api_dispatch() for every request before authentication.
 * While a maintenance window covers the route's scope it renders 503 with
 * Retry-After and the maintenance notice and returns 1; otherwise 0. Must be
 * cheap (no database read per request).
 */
int api_maintenance_gate(struct api_ctx *c, const struct route *rt);

#endif
