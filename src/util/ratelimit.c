/*
 * ratelimit.c - failure counters with lock-out (see ratelimit.h).
 *
 * An open-addressing table would be faster, but failed logins are rare and
 * the table is bounded, so a linear array under one mutex is enough and
 * obviously correct: lookups are O(max_keys) only on the failure path and
 * on each login attempt.
 */
#include "util/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_KEY_MAX 128

struct rl_entry {
        char key[RL_KEY_MAX];
        int failures;
        int64_t window_start;
        int64_t locked_until;
        int64_t last_seen;
};

struct ratelimit {
        pthread_mutex_t lock;
        struct rl_entry *e;
        size_t n, max;
        int max_failures;
        int64_t window, lockout;
};

struct ratelimit *ratelimit_new(size_t max_keys, int max_failures, int64_t window_s,
                                int64_t lockout_s)
{
        struct ratelimit *rl = calloc(1, sizeof(*rl));

        if (!rl)
                return NULL;
        rl->e = calloc(max_keys ? max_keys : 1, sizeof(*rl->e));
        if (!rl->e) {
                free(rl);
                return NULL;
        }
        pthread_mutex_init(&rl->lock, NULL);
        rl->max = max_keys ? max_keys : 1;
        rl->max_failures = max_failures;
        rl->window = window_s;
        rl->lockout = lockout_s;
        return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
        if (!rl)
                return;
        pthread_mutex_destroy(&rl->lock);
        free(rl->e);
        free(rl);
}

static struct rl_entry *find(struct ratelimit *rl, const char *key)
{
        for (size_t i = 0; i < rl->n; i++)
                if (strncmp(rl->e[i].key, key, RL_KEY_MAX - 1) == 0)
                        return &rl->e[i];
        return NULL;
}

static void drop(struct ratelimit *rl, size_t i)
{
        rl->e[i] = rl->e[rl->n - 1];
        rl->n--;
}

/* Makes room: drops entries that no longer matter, else the oldest. */
static void evict(struct ratelimit *rl, int64_t now)
{
        size_t oldest = 0;

        for (size_t i = 0; i < rl->n;) {
                struct rl_entry *x = &rl->e[i];

                if (x->locked_until <= now && x->window_start + rl->window <= now) {
                        drop(rl, i);
                        continue;
                }
                if (x->last_seen < rl->e[oldest].last_seen)
                        oldest = i;
                i++;
        }
        if (rl->n >= rl->max)
                drop(rl, oldest);
}

int64_t ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now)
{
        int64_t wait = 0;
        struct rl_entry *x;

        pthread_mutex_lock(&rl->lock);
        x = find(rl, key);
        if (x && x->locked_until > now)
                wait = x->locked_until - now;
        pthread_mutex_unlock(&rl->lock);
        return wait;
}

int64_t ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now)
{
        int64_t lock = 0;
        struct rl_entry *x;

        pthread_mutex_lock(&rl->lock);
        x = find(rl, key);
        if (!x) {
                if (rl->n >= rl->max)
                        evict(rl, now);
                x = &rl->e[rl->n++];
                memset(x, 0, sizeof(*x));
                strncpy(x->key, key, RL_KEY_MAX - 1);
                x->window_start = now;
        }
        if (x->window_start + rl->window <= now) {
                x->failures = 0;
                x->window_start = now;
        }
        x->failures++;
        x->last_seen = now;
        if (x->failures >= rl->max_failures) {
                x->locked_until = now + rl->lockout;
                x->failures = 0;
                x->window_start = now;
                lock = rl->lockout;
        }
        pthread_mutex_unlock(&rl->lock);
        return lock;
}

void ratelimit_reset(struct ratelimit *rl, const char *key)
{
        struct rl_entry *x;

        pthread_mutex_lock(&rl->lock);
        x = find(rl, key);
        if (x)
                drop(rl, (size_t)(x - rl->e));
        pthread_mutex_unlock(&rl->lock);
}

size_t ratelimit_size(struct ratelimit *rl)
{
        size_t n;

        pthread_mutex_lock(&rl->lock);
        n = rl->n;
        pthread_mutex_unlock(&rl->lock);
        return n;
}
