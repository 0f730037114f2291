/*
 * store_notice.h - placeholder being written (HE-5, HE-6, HE-13).
 */
#ifndef ENEMANE_STORE_STORE_NOTICE_H
#define ENEMANE_STORE_STORE_NOTICE_H

#include "store/store.h"

/* The SQL of migration 14 (store/migrations.c). */
extern const char store_m014_sql[];

#endif
