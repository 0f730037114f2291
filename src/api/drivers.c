/*
 * drivers.c - drivers (users): declarations and vehicles (CS-23).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_hosts.h"
