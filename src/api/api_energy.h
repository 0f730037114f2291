/*
 * api_energy.h - handlers of the home energy service (issue 6): gateways
 * (gateways.c), homes and their members (homes.c), measurement ingest
 * (ingest.c), the household's view (energy.c), settings, history and
 * household information (homedata.c), and the access checks they share.
 */
#ifndef ENEMANE_API_API_ENERGY_H
#define ENEMANE_API_API_ENERGY_H

#include "api/api.h"
#include "store/store_gateway.h"

/*
 * Authenticates a gateway call: "Authorization: Basic base64(code:secret)",
 * "Authorization: Token code:secret" or (allow_query, the v1 /write path)
 * the query's u= and p=. On success *gw is the gateway and 0 is returned.
 * Otherwise the problem is rendered (401 gateway_auth_failed) and <0 returned.
 */
int api_gateway_auth(struct api_ctx *c, bool allow_query, struct store_gateway *gw);
/*
 * The same, plus the gateway must have an active home (HE-2, HE-4): 409
 * not_registered before registration, 410 gateway_deregistered after.
 * *home gets the active home.
 */
int api_gateway_home(struct api_ctx *c, bool allow_query, struct store_gateway *gw,
                     struct store_home *home);
/*
 * The home of path parameter {id} as the calling member sees it: 404 when
 * it does not exist or the caller is neither a member of it nor an operator
 * (operators only when allow_operator); 403 not_owner when need_owner and the
 * caller is not its owner. 0 or <0 with the problem rendered.
 */
int api_home_access(struct api_ctx *c, bool need_owner, bool allow_operator,
                    struct store_home *home);
/* "GW-****-****-1A2B" from the last four characters. */
void api_gateway_mask(const char *tail, char out[24]);
json_t *api_home_json(struct api_ctx *c, const struct store_home *h);

/* gateways.c */
void api_gateways_create(struct api_ctx *c);
void api_gateways_bulk(struct api_ctx *c);
void api_gateways_list(struct api_ctx *c);
void api_gateway_get(struct api_ctx *c);
void api_gateway_register(struct api_ctx *c);
void api_gateway_deregister(struct api_ctx *c);
void api_gateway_pairing_code(struct api_ctx *c);

/* homes.c */
void api_homes_link(struct api_ctx *c);
void api_homes_join(struct api_ctx *c);
void api_me_homes(struct api_ctx *c);
void api_home_get(struct api_ctx *c);
void api_home_invite(struct api_ctx *c);
void api_home_member_remove(struct api_ctx *c);
void api_home_deregister(struct api_ctx *c);
void api_home_household_get(struct api_ctx *c);
void api_home_household_put(struct api_ctx *c);

/* ingest.c */
void api_ingest_json(struct api_ctx *c);
void api_ingest_v1_write(struct api_ctx *c);
void api_ingest_v2_write(struct api_ctx *c);

/* energy.c */
void api_home_latest(struct api_ctx *c);
void api_home_series(struct api_ctx *c);
void api_home_series_data(struct api_ctx *c);
void api_home_summary(struct api_ctx *c);
void api_home_data(struct api_ctx *c);

/* homedata.c: settings (HE-8) and history (HE-9) */
void api_gateway_settings_put(struct api_ctx *c);
void api_gateway_settings_get(struct api_ctx *c);
void api_gateway_history_post(struct api_ctx *c);
void api_home_settings_list(struct api_ctx *c);
void api_home_settings_get(struct api_ctx *c);
void api_home_settings_diff(struct api_ctx *c);
void api_home_settings_restore(struct api_ctx *c);
void api_home_history(struct api_ctx *c);
void api_gateway_errors_stats(struct api_ctx *c);

/* poll.c: the combined gateway poll (notices, lamp, firmware offer). */
void api_gateway_poll(struct api_ctx *c);

/* Sweeper: purge of kept data past its period (HE-4); *n homes purged. */
int api_energy_purge(struct app *a, int64_t now, int *n);

#endif
