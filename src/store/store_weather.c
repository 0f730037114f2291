/*
 * store_weather.c - placeholder being written (HE-11).
 */
#include "store/store_weather.h"

const char store_m016_sql[] = "SELECT 1;";
