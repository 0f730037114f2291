/*
 * test_listing_cache.c - the rendered-listing cache of the search: a hit
 * only for the same charger id and both row revisions, a newer revision
 * replaces the entry, a slot shared by two ids keeps the last, oversize
 * entries are not kept, and concurrent readers and writers never see a
 * torn entry (four threads).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/listing_cache.h"

static void test_hit_only_for_same_revisions(void **state)
{
        struct listing_cache *c = NULL;
        struct buf b;

        assert_int_equal(listing_cache_new(8, &c), 0);
        buf_init(&b, 0);
        assert_int_equal(listing_cache_get(c, 5, 1, 1, &b), 0);
        listing_cache_put(c, 5, 1, 1, "\"id\":5", 6);
        assert_int_equal(listing_cache_get(c, 5, 1, 1, &b), 1);
        assert_string_equal(b.data, "\"id\":5");
        buf_reset(&b);
        assert_int_equal(listing_cache_get(c, 5, 2, 1, &b), 0);        /* charger changed */
        assert_int_equal(listing_cache_get(c, 5, 1, 2, &b), 0);        /* host changed */
        assert_int_equal(listing_cache_get(c, 13, 1, 1, &b), 0);       /* same slot, other id */
        assert_int_equal(b.len, 0);
        listing_cache_put(c, 5, 2, 1, "\"id\":5,\"x\":2", 12);
        assert_int_equal(listing_cache_get(c, 5, 1, 1, &b), 0);        /* old one gone */
        assert_int_equal(listing_cache_get(c, 5, 2, 1, &b), 1);
        assert_string_equal(b.data, "\"id\":5,\"x\":2");
        buf_reset(&b);
        listing_cache_put(c, 13, 1, 1, "\"id\":13", 7);                 /* evicts 5 */
        assert_int_equal(listing_cache_get(c, 5, 2, 1, &b), 0);
        assert_int_equal(listing_cache_get(c, 13, 1, 1, &b), 1);
        buf_free(&b);
        listing_cache_free(c);
        listing_cache_free(NULL);
}

static void test_oversize_not_kept(void **state)
{
        struct listing_cache *c = NULL;
        char *big = malloc(LISTING_CACHE_ENTRY_MAX + 1);
        struct buf b;

        assert_non_null(big);
        memset(big, 'a', LISTING_CACHE_ENTRY_MAX + 1);
        assert_int_equal(listing_cache_new(4, &c), 0);
        listing_cache_put(c, 1, 0, 0, big, LISTING_CACHE_ENTRY_MAX + 1);
        buf_init(&b, 0);
        assert_int_equal(listing_cache_get(c, 1, 0, 0, &b), 0);
        buf_free(&b);
        listing_cache_free(c);
        free(big);
        assert_int_equal(listing_cache_new(0, &c), -EINVAL);
}

struct stress {
        struct listing_cache *c;
        int seed;
        int bad;
};

/* Every entry for id carries its own id and revision in its text. */
static void *stress_main(void *arg)
{
        struct stress *st = arg;
        struct buf b;
        unsigned s = (unsigned)st->seed;

        buf_init(&b, 0);
        for (int i = 0; i < 20000; i++) {
                int64_t id = 1 + rand_r(&s) % 64, rev = rand_r(&s) % 4;
                char want[64];
                int n = snprintf(want, sizeof(want), "\"id\":%lld,\"rev\":%lld", (long long)id,
                                 (long long)rev);

                if (rand_r(&s) % 3 == 0) {
                        listing_cache_put(st->c, id, rev, 0, want, (size_t)n);
                        continue;
                }
                buf_reset(&b);
                if (listing_cache_get(st->c, id, rev, 0, &b) == 1 && strcmp(b.data, want) != 0)
                        st->bad++;
        }
        buf_free(&b);
        return NULL;
}

static void test_concurrent_use(void **state)
{
        struct listing_cache *c = NULL;
        struct stress st[4];
        pthread_t t[4];

        assert_int_equal(listing_cache_new(16, &c), 0);
        for (int i = 0; i < 4; i++) {
                st[i] = (struct stress){ c, i + 1, 0 };
                assert_int_equal(pthread_create(&t[i], NULL, stress_main, &st[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(st[i].bad, 0);
        }
        listing_cache_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hit_only_for_same_revisions),
                cmocka_unit_test(test_oversize_not_kept),
                cmocka_unit_test(test_concurrent_use),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
