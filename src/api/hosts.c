/*
 * hosts.c - hosts: application, operator verification and contract, corporate administrators, the CS-7 action log.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "api/api_hosts.h"
