/*
 * store_host.h - hosts, administrators, CS-7 action log, drivers, vehicles.
 */
#ifndef ENEMANE_STORE_HOST_H
#define ENEMANE_STORE_HOST_H

#include "store/store.h"
#include "store/store_member.h"

extern const char store_m005_sql[];

#endif
