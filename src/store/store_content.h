/*
 * store_content.h - placeholder being written (HE-12, HE-15).
 */
#ifndef ENEMANE_STORE_STORE_CONTENT_H
#define ENEMANE_STORE_STORE_CONTENT_H

#include "store/store.h"

/* The SQL of migration 17 (store/migrations.c). */
extern const char store_m017_sql[];

#endif
