/*
 * slot.h - slot rules: the reservation grid, weekly patterns, overlap, price of a range (CS-13, CS-16, CS-24), occupancy (CS-25).
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_DOMAIN_SLOT_H
#define ENEMANE_DOMAIN_SLOT_H

#endif
