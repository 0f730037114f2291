/*
 * ratelimit.h - failure counters with lock-out, in memory, thread-safe.
 *
 * Used for failed logins per account and per client address (CS-5). Each
 * key counts failures in a window; reaching `max` locks the key for
 * `lockout` seconds. The table holds at most `max_keys` keys: when full,
 * expired entries are dropped first, then the oldest. State is per process
 * (decision: one enemane process per database; see docs/decisions.md).
 */
#ifndef ENEMANE_UTIL_RATELIMIT_H
#define ENEMANE_UTIL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(size_t max_keys, int max_failures, int64_t window_s,
                                int64_t lockout_s);
void ratelimit_free(struct ratelimit *rl);

/* 0 when key may try now; else the seconds until it may (>= 1). */
int64_t ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now);
/* Records a failure; returns the seconds of lock-out it caused (0 if none). */
int64_t ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now);
/* Forgets key (after a success). */
void ratelimit_reset(struct ratelimit *rl, const char *key);
size_t ratelimit_size(struct ratelimit *rl);

#endif
