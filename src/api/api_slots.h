/*
 * api_slots.h - handlers for slots (slots.c: CS-13, CS-16), the charger
 * search and availability calendars (search.c: CS-24 prices, CS-25
 * occupancy, CS-40 public fields only).
 */
#ifndef ENEMANE_API_API_SLOTS_H
#define ENEMANE_API_API_SLOTS_H

#include "api/api.h"

/* slots.c */
void api_charger_slots_create(struct api_ctx *c);
void api_charger_slots_pattern(struct api_ctx *c);
void api_charger_slots_list(struct api_ctx *c);
void api_slot_patch(struct api_ctx *c);
void api_slot_delete(struct api_ctx *c);

/* search.c */
void api_chargers_search(struct api_ctx *c);
void api_charger_calendar(struct api_ctx *c);

#endif
