/*
 * api_slots.h - handlers for slots, the charger search and availability calendars.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_API_API_SLOTS_H
#define ENEMANE_API_API_SLOTS_H

#include "api/api.h"

#endif
