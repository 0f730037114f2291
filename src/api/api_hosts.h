/*
 * api_hosts.h - handlers for hosts, their administrators and drivers (users) with vehicles; api_host_acting().
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_API_API_HOSTS_H
#define ENEMANE_API_API_HOSTS_H

#include "api/api.h"

#endif
