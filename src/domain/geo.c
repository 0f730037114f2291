/*
 * geo.c - geography.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "domain/geo.h"
