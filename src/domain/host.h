/*
 * host.h - host and driver rules: publishability (CS-8), roles (CS-7), vehicles and declarations (CS-23).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_DOMAIN_HOST_H
#define ENEMANE_DOMAIN_HOST_H

#endif
