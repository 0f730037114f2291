/*
 * listing_cache.h - rendered public listings (CS-40) of chargers for the
 * search: the JSON members api_charger_public_write() produces, kept per
 * charger and valid while the charger's and its host's row revisions
 * (chargers.rev, hosts.rev: bumped by a trigger on every update) are the
 * ones the search read in its snapshot. A stale entry is never served: a
 * revision mismatch is a miss. Bounded: a fixed number of slots (direct
 * mapped by id), entries at most LISTING_CACHE_ENTRY_MAX bytes. Safe for
 * concurrent workers (striped locks).
 */
#ifndef ENEMANE_API_LISTING_CACHE_H
#define ENEMANE_API_LISTING_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define LISTING_CACHE_ENTRY_MAX 16384

struct listing_cache;

/* slots: how many entries at most (>= 1). */
int listing_cache_new(size_t slots, struct listing_cache **out);
void listing_cache_free(struct listing_cache *c);         /* accepts NULL */

/* Appends the cached members for (id, charger_rev, host_rev) to b:
 * 1 hit, 0 miss, <0 when b could not take them. */
int listing_cache_get(struct listing_cache *c, int64_t id, int64_t charger_rev,
                      int64_t host_rev, struct buf *b);
/* Remembers members (len bytes, copied) for (id, charger_rev, host_rev);
 * silently does nothing when out of memory or too large. */
void listing_cache_put(struct listing_cache *c, int64_t id, int64_t charger_rev,
                       int64_t host_rev, const char *members, size_t len);

#endif
