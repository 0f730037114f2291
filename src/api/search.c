/*
 * search.c - the charger search and availability calendar (CS-25, CS-40).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_slots.h"
