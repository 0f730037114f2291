/*
 * api_content.h - handlers of electronic manuals (HE-12) and information
 * distribution (HE-15), in content.c.
 *
 * Manuals: the operator uploads a file (PDF or HTML) per device model and
 * lists or deletes them; a member of a household lists and downloads the
 * manuals of the models connected to its gateway (the newest settings
 * document's devices[].model, and the gateway's own model), and no others.
 *
 * Distribution: the operator creates contracted distributors (an API key
 * shown once, a contract of allowed targets, an expiry), revokes them and
 * reads the record of deliveries; a distributor sends content with its key
 * (Authorization: Bearer edk_...); gateways and members fetch what was
 * delivered to them; a member may opt out of receiving it.
 */
#ifndef ENEMANE_API_API_CONTENT_H
#define ENEMANE_API_API_CONTENT_H

#include "api/api.h"

/* Manuals (HE-12). */
void api_manuals_upload(struct api_ctx *c);
void api_manuals_list(struct api_ctx *c);
void api_manual_delete(struct api_ctx *c);
void api_home_manuals(struct api_ctx *c);
void api_home_manual_file(struct api_ctx *c);

/* Distribution (HE-15): the operator's side. */
void api_distributors_create(struct api_ctx *c);
void api_distributors_list(struct api_ctx *c);
void api_distributor_revoke(struct api_ctx *c);
void api_deliveries_list(struct api_ctx *c);
/* The distributor's own calls (API_PUBLIC: they check its key). */
void api_distribution_send(struct api_ctx *c);
void api_distribution_contents(struct api_ctx *c);
/* The recipients. */
void api_gateway_contents(struct api_ctx *c);
void api_me_contents(struct api_ctx *c);
void api_me_distribution_get(struct api_ctx *c);
void api_me_distribution_put(struct api_ctx *c);

#endif
