/*
 * store_firmware.h - placeholder being written (HE-14).
 */
#ifndef ENEMANE_STORE_STORE_FIRMWARE_H
#define ENEMANE_STORE_STORE_FIRMWARE_H

#include "store/store.h"

/* The SQL of migration 15 (store/migrations.c). */
extern const char store_m015_sql[];

#endif
