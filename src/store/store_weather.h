/*
 * store_weather.h - placeholder being written (HE-11).
 */
#ifndef ENEMANE_STORE_STORE_WEATHER_H
#define ENEMANE_STORE_STORE_WEATHER_H

#include "store/store.h"

/* The SQL of migration 16 (store/migrations.c). */
extern const char store_m016_sql[];

#endif
