/*
 * api_resv.h - handlers of the reservation lifecycle (reservations.c,
 * issue 5) and what the scheduler and the wallet share with them.
 */
#ifndef ENEMANE_API_API_RESV_H
#define ENEMANE_API_API_RESV_H

#include "api/api.h"
#include "domain/resv.h"

struct store_resv;

/* The rules' numbers from the configuration (charging.*). */
void api_resv_rules(const struct config *cfg, struct resv_rules *r);
json_t *api_resv_json(const struct store_resv *r);

void api_resv_create(struct api_ctx *c);
void api_resv_onsite(struct api_ctx *c);
void api_resv_get(struct api_ctx *c);
void api_resv_events(struct api_ctx *c);
void api_resv_receipt(struct api_ctx *c);
void api_resv_approve(struct api_ctx *c);
void api_resv_reject(struct api_ctx *c);
void api_resv_withdraw(struct api_ctx *c);
void api_resv_cancel(struct api_ctx *c);
void api_resv_host_cancel(struct api_ctx *c);
void api_resv_check_in(struct api_ctx *c);
void api_resv_check_out(struct api_ctx *c);
void api_resv_early_use(struct api_ctx *c);
void api_resv_extend(struct api_ctx *c);
void api_resv_finding(struct api_ctx *c);
void api_me_reservations(struct api_ctx *c);
void api_host_reservations(struct api_ctx *c);
void api_host_calendar_token(struct api_ctx *c);
void api_calendar_feed(struct api_ctx *c);

/* Test builds only: PUT /api/v1/_test/clock (system.c). */
void api_test_clock(struct api_ctx *c);

/* Registers the reservation withdrawal blockers (CS-4). */
void api_resv_register_blockers(void);

#endif
