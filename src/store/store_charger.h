/*
 * store_charger.h - chargers, QR codes, photos, notes, sites.
 */
#ifndef ENEMANE_STORE_CHARGER_H
#define ENEMANE_STORE_CHARGER_H

#include "store/store.h"
#include "store/store_member.h"

extern const char store_m006_sql[];

#endif
