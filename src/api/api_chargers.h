/*
 * api_chargers.h - handlers for chargers, photos, QR codes, operator actions and sites.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_API_API_CHARGERS_H
#define ENEMANE_API_API_CHARGERS_H

#include "api/api.h"

#endif
