/*
 * store_search.h - the charger search (near a point, free for a range), callable without HTTP.
 *
 * PLACEHOLDER: being written for issue 4.
 */
#ifndef ENEMANE_STORE_STORE_SEARCH_H
#define ENEMANE_STORE_STORE_SEARCH_H

#endif
