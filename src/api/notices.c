/*
 * notices.c - placeholder being written (HE-5, HE-6, HE-13).
 */
#include "api/api_notices.h"

int api_maintenance_gate(struct api_ctx *c, const struct route *rt)
{
        (void)c;
        (void)rt;
        return 0;
}
