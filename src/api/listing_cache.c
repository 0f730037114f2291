/*
 * listing_cache.c - the cache of rendered public listings (see
 * listing_cache.h). Direct mapped: slot = id % slots; a new entry for a
 * slot replaces the old one. Each slot's fields are guarded by one of
 * LISTING_CACHE_LOCKS mutexes (slot % locks), so workers rarely contend.
 */
#include "api/listing_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define LISTING_CACHE_LOCKS 64

struct listing_entry {
        int64_t id;                     /* 0 = empty */
        int64_t charger_rev, host_rev;
        char *members;                  /* owned */
        size_t len;
};

struct listing_cache {
        size_t slots;
        struct listing_entry *e;
        pthread_mutex_t lock[LISTING_CACHE_LOCKS];
};

int listing_cache_new(size_t slots, struct listing_cache **out)
{
        struct listing_cache *c;

        if (slots < 1)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->e = calloc(slots, sizeof(*c->e));
        if (!c->e) {
                free(c);
                return -ENOMEM;
        }
        c->slots = slots;
        for (size_t i = 0; i < LISTING_CACHE_LOCKS; i++)
                pthread_mutex_init(&c->lock[i], NULL);
        *out = c;
        return 0;
}

void listing_cache_free(struct listing_cache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->slots; i++)
                free(c->e[i].members);
        for (size_t i = 0; i < LISTING_CACHE_LOCKS; i++)
                pthread_mutex_destroy(&c->lock[i]);
        free(c->e);
        free(c);
}

static size_t slot_of(const struct listing_cache *c, int64_t id)
{
        return (size_t)((uint64_t)id % c->slots);
}

int listing_cache_get(struct listing_cache *c, int64_t id, int64_t charger_rev,
                      int64_t host_rev, struct buf *b)
{
        size_t i = slot_of(c, id);
        pthread_mutex_t *m = &c->lock[i % LISTING_CACHE_LOCKS];
        struct listing_entry *e = &c->e[i];
        int r = 0;

        pthread_mutex_lock(m);
        if (e->id == id && e->charger_rev == charger_rev && e->host_rev == host_rev &&
            e->members) {
                r = buf_append(b, e->members, e->len);
                if (r == 0)
                        r = 1;
        }
        pthread_mutex_unlock(m);
        return r;
}

void listing_cache_put(struct listing_cache *c, int64_t id, int64_t charger_rev,
                       int64_t host_rev, const char *members, size_t len)
{
        size_t i = slot_of(c, id);
        pthread_mutex_t *m = &c->lock[i % LISTING_CACHE_LOCKS];
        struct listing_entry *e = &c->e[i];
        char *copy, *old;

        if (id <= 0 || len > LISTING_CACHE_ENTRY_MAX)
                return;
        copy = malloc(len ? len : 1);
        if (!copy)
                return;
        memcpy(copy, members, len);
        pthread_mutex_lock(m);
        old = e->members;
        e->id = id;
        e->charger_rev = charger_rev;
        e->host_rev = host_rev;
        e->members = copy;
        e->len = len;
        pthread_mutex_unlock(m);
        free(old);
}
