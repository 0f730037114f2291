/*
 * charger.h - charger listing rules (CS-9), connectors, delisting reasons (CS-10), sites (CS-12).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_DOMAIN_CHARGER_H
#define ENEMANE_DOMAIN_CHARGER_H

#endif
