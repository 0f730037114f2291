/*
 * poll.c - the gateway's combined poll (HE-13, HE-14): one request that a
 * gateway makes every few minutes instead of three. GET
 * /api/v1/gateway/poll?cursor=N answers the notices for it since the
 * cursor with the lamp state (notices.c) and the firmware update offered to
 * it now (firmware.c). The hottest gateway route: its parts keep what they
 * need in memory.
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/api_energy.h"
#include "api/api_firmware.h"
#include "api/api_notices.h"

void api_gateway_poll(struct api_ctx *c)
{
        struct store_gateway gw;
        struct store_home home;
        int64_t cursor = 0;
        json_t *out;
        int r;

        if (api_gateway_home(c, false, &gw, &home) < 0)
                return;
        if (api_query_int(c, "cursor", 0, INT64_MAX, &cursor) < 0)
                return;
        out = json_object();
        r = out ? api_notices_poll(c, &gw, &home, cursor, out) : -ENOMEM;
        if (r == 0)
                r = api_firmware_poll(c, &gw, out);
        if (r < 0) {
                json_decref(out);
                api_store_error(c, r, "poll");
                return;
        }
        api_json(c, 200, out);
}
