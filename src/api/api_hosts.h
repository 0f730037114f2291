/*
 * api_hosts.h - handlers for hosts (CS-8), their corporate administrators
 * and the CS-7 action log (hosts.c), and for drivers (users) with their
 * declarations and vehicles (CS-23, drivers.c); plus api_host_acting(),
 * the authorisation check every host-owned resource uses.
 */
#ifndef ENEMANE_API_API_HOSTS_H
#define ENEMANE_API_API_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

/* Authorises c's caller to act for host host_id (a member id): the host
 * member itself or one of its administrators (CS-7), or an operator when
 * allow_operator. Renders 404 problem `host_not_found` when there is no
 * such host, 403 `not_host_actor` when the caller may not act for it, and
 * returns a negative errno; 0 when allowed. */
int api_host_acting(struct api_ctx *c, int64_t host_id, bool allow_operator);

/* hosts.c */
void api_me_host_create(struct api_ctx *c);
void api_me_host_get(struct api_ctx *c);
void api_me_hosts_list(struct api_ctx *c);
void api_hosts_list(struct api_ctx *c);
void api_host_get(struct api_ctx *c);
void api_host_patch(struct api_ctx *c);
void api_host_verification_put(struct api_ctx *c);
void api_host_contract_put(struct api_ctx *c);
void api_host_admins_list(struct api_ctx *c);
void api_host_admin_add(struct api_ctx *c);
void api_host_admin_remove(struct api_ctx *c);
void api_host_actions_list(struct api_ctx *c);

/* drivers.c */
void api_me_driver_put(struct api_ctx *c);
void api_me_driver_get(struct api_ctx *c);
void api_me_vehicle_add(struct api_ctx *c);
void api_me_vehicles_list(struct api_ctx *c);
void api_me_vehicle_remove(struct api_ctx *c);

#endif
