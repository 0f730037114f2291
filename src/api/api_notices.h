/*
 * api_notices.h - notices to gateways (HE-13), the service and terms
 * change notices and the 30-day rule for ending the service (HE-5), and
 * maintenance windows with their automatic notice and the 503 gate (HE-6):
 * the operator's routes, the gateway's routes, the helper of the combined
 * gateway poll (poll.c) and the maintenance gate api_dispatch() calls.
 *
 * The live notices and the windows not over are kept in memory (one
 * immutable snapshot, swapped when the operator changes them and when the
 * clock passes an expiry), so neither the poll nor the gate reads the
 * database for them.
 */
#ifndef ENEMANE_API_API_NOTICES_H
#define ENEMANE_API_API_NOTICES_H

#include "api/api.h"
#include "store/store_gateway.h"

struct route;

/* Notices in one answer to a gateway. */
#define NOTICE_PAGE_MAX 50

/*
 * HE-6: called by api_dispatch() for every request before authentication.
 * While a maintenance window covers the route's scope it renders 503 with
 * Retry-After and the maintenance notice and returns 1; otherwise 0. Must be
 * cheap (no database read per request).
 *
 * Scopes: "gateway" covers /api/v1/gateway/... and the line-protocol
 * /write and /api/v2/write; "apps" every other route except the operator's
 * (API_OPERATOR), /readyz and signing in and out (POST /api/v1/sessions,
 * DELETE /api/v1/sessions/current), so that an operator can end the
 * maintenance early; "all" both. Routes run on the event loop (/healthz,
 * /metrics, the API documents) never reach the gate.
 */
int api_maintenance_gate(struct api_ctx *c, const struct route *rt);

/*
 * Adds "notices" (targeting this gateway, published, not expired nor
 * withdrawn, after cursor, newest first, at most NOTICE_PAGE_MAX),
 * "next_cursor", "has_more" and "lamp" ({"on": bool, "until": time|null})
 * to obj. 0 or <0 (nothing rendered).
 *
 * The cursor is opaque to the gateway: it orders notices by publication
 * (publish time, then id), so a notice scheduled earlier but published
 * later is still delivered after the cursor moved past newer ids. A page
 * holds the oldest notices after the cursor (shown newest first), so none
 * is skipped; has_more says to ask again at once with next_cursor.
 *
 * The lamp is on while the home has an unread live notice whose lamp
 * period (from its publish time) has not passed; until is when the last
 * such period ends (or its notice expires, if sooner).
 *
 * Served from memory plus at most two indexed reads (the household's
 * prefecture, only when a live notice targets prefectures; the reads of
 * the notices concerned).
 */
int api_notices_poll(struct api_ctx *c, const struct store_gateway *gw,
                     const struct store_home *home, int64_t cursor, json_t *obj);

/* Operator: notices (HE-13, HE-5). */
void api_notices_create(struct api_ctx *c);
void api_notices_list(struct api_ctx *c);
void api_notice_get(struct api_ctx *c);
void api_notice_withdraw(struct api_ctx *c);

/* Gateway: its notices and read reports (HE-13). */
void api_gateway_notices(struct api_ctx *c);
void api_gateway_notices_read(struct api_ctx *c);

/* Operator: maintenance windows (HE-6). */
void api_maintenance_create(struct api_ctx *c);
void api_maintenance_list(struct api_ctx *c);
void api_maintenance_end(struct api_ctx *c);

#endif
