/*
 * store_slot.h - slots and reservation reads.
 */
#ifndef ENEMANE_STORE_SLOT_H
#define ENEMANE_STORE_SLOT_H

#include "store/store.h"
#include "store/store_member.h"

extern const char store_m007_sql[];

#endif
