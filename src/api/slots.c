/*
 * slots.c - slots: one by one, weekly patterns, change and delete (CS-13, CS-16).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_slots.h"
