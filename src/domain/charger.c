/*
 * charger.c - charger listing rules.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "domain/charger.h"
