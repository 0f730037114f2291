/*
 * api_weather.h - placeholder being written (HE-11).
 */
#ifndef ENEMANE_API_API_WEATHER_H
#define ENEMANE_API_API_WEATHER_H

#include "api/api.h"

#endif
