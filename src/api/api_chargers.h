/*
 * api_chargers.h - handlers for chargers, photos, QR codes, operator
 * actions (chargers.c) and sites with their limit applications (sites.c),
 * plus the charger JSON views shared with the search (slots' files).
 */
#ifndef ENEMANE_API_API_CHARGERS_H
#define ENEMANE_API_API_CHARGERS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

struct store_charger;

/* The CS-40 public listing of ch: host display name and the charger's
 * own fields; no host personal data, no QR state. No store access (the
 * search builds many of these); photos and recruiting are not included. */
json_t *api_charger_public_fields(const struct store_charger *ch);
/* The same fields written into an open JSON object (jsonw.h). */
struct jw;
void api_charger_public_write(struct jw *w, const struct store_charger *ch);

/* The full JSON of ch: the host view (full) or the public listing, with
 * photos, bookable and recruiting; the host view adds the QR state, the
 * delisting, open change requests and why it is not bookable. NULL after
 * rendering a store error. */
json_t *api_charger_json(struct api_ctx *c, const struct store_charger *ch, bool full);

/* chargers.c */
void api_host_chargers_create(struct api_ctx *c);
void api_host_chargers_list(struct api_ctx *c);
void api_charger_get(struct api_ctx *c);
void api_charger_patch(struct api_ctx *c);
void api_charger_delete(struct api_ctx *c);
void api_charger_photo_add(struct api_ctx *c);
void api_charger_photo_get(struct api_ctx *c);
void api_charger_photo_delete(struct api_ctx *c);
void api_charger_qr_get(struct api_ctx *c);
void api_charger_qr_png(struct api_ctx *c);
void api_charger_qr_svg(struct api_ctx *c);
void api_charger_qr_mailed(struct api_ctx *c);
void api_charger_qr_attached(struct api_ctx *c);
void api_charger_qr_rotate(struct api_ctx *c);
void api_charger_scan(struct api_ctx *c);
void api_charger_change_request_add(struct api_ctx *c);
void api_charger_change_requests_list(struct api_ctx *c);
void api_charger_delist(struct api_ctx *c);
void api_charger_relist(struct api_ctx *c);
void api_delisting_reasons(struct api_ctx *c);

/* sites.c */
void api_host_sites_create(struct api_ctx *c);
void api_host_sites_list(struct api_ctx *c);
void api_site_get(struct api_ctx *c);
void api_site_limit_apply(struct api_ctx *c);
void api_limit_applications_list(struct api_ctx *c);
void api_limit_application_decide(struct api_ctx *c);

#endif
