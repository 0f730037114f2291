/*
 * api_firmware.h - firmware updates (HE-14), firmware.c: the operator
 * uploads signed images and runs staged rollout campaigns; gateways ask
 * for their offer, download the image in ranges and report the result.
 */
#ifndef ENEMANE_API_API_FIRMWARE_H
#define ENEMANE_API_API_FIRMWARE_H

#include "api/api.h"
#include "store/store_gateway.h"

/* Operator: images. */
void api_firmware_upload(struct api_ctx *c);
void api_firmware_list(struct api_ctx *c);
void api_firmware_get(struct api_ctx *c);
void api_firmware_patch(struct api_ctx *c);
void api_firmware_image(struct api_ctx *c);
/* Public: the key that signs manifests, for gateways to pin. */
void api_firmware_public_key(struct api_ctx *c);

/* Operator: campaigns. */
void api_firmware_campaigns_create(struct api_ctx *c);
void api_firmware_campaigns_list(struct api_ctx *c);
void api_firmware_campaign_get(struct api_ctx *c);
void api_firmware_campaign_patch(struct api_ctx *c);

/* Gateway. */
void api_gateway_firmware_offer(struct api_ctx *c);
void api_gateway_firmware_image(struct api_ctx *c);
void api_gateway_firmware_report(struct api_ctx *c);

/* Adds "update" to obj: the offer for this gateway now ({"campaign_id",
 * "version", "size", "sha256", "manifest", "signature", "url"}) or null.
 * 0 or <0. Fast: the running campaigns are kept in memory (reloaded after
 * every change the operator or an automatic pause makes). */
int api_firmware_poll(struct api_ctx *c, const struct store_gateway *gw, json_t *obj);

#endif
