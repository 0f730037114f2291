/*
 * api_weather.h - handlers of HE-11 (weather and location, weather.c):
 * the operator's postcode table and forecast imports, the gateway's
 * location and weather, and the members' view of their home's weather.
 */
#ifndef ENEMANE_API_API_WEATHER_H
#define ENEMANE_API_API_WEATHER_H

#include "api/api.h"

/* Operator: POST /api/v1/weather/postcodes (text/csv postcode,latitude,longitude). */
void api_weather_postcodes_import(struct api_ctx *c);
/* Operator: POST /api/v1/weather/forecasts (application/json or text/csv). */
void api_weather_forecasts_import(struct api_ctx *c);
/* Gateway: GET /api/v1/gateway/location. */
void api_gateway_location(struct api_ctx *c);
/* Gateway: GET /api/v1/gateway/weather?days=N. */
void api_gateway_weather(struct api_ctx *c);
/* Member: GET /api/v1/homes/{id}/weather?days=N (the same answer). */
void api_home_weather(struct api_ctx *c);

#endif
