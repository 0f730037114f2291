/*
 * weather.c - placeholder being written (HE-11).
 */
#include "api/api_weather.h"
