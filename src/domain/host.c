/*
 * host.c - host and driver rules.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "domain/host.h"
