/*
 * sites.c - sites and the simultaneous-use limit option (CS-12).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_chargers.h"
