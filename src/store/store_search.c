/*
 * store_search.c - the charger search.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#include "store/store_search.h"
