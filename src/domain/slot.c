/*
 * slot.c - slot rules.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "domain/slot.h"
