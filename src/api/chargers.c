/*
 * chargers.c - chargers: listing, photos, QR codes, operator change requests and delisting.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_chargers.h"
