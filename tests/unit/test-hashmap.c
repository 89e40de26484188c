/* test-hashmap.c - the library's hash map: put, get, overwrite, growth past
 * many resizes, borrowed and copied keys, iteration, colliding buckets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"
#include "util/hashmap.h"

START_TEST(empty_map_finds_nothing)
{
    struct ip_hashmap m = IP_HASHMAP_INIT;
    size_t v = 7, pos = 0;
    ck_assert_ptr_null(ip_hashmap_find(&m, "a"));
    ck_assert(!ip_hashmap_get(&m, "a", &v));
    ck_assert_uint_eq(v, 7);
    ck_assert_ptr_null(ip_hashmap_next(&m, &pos));
    ck_assert_uint_eq(ip_hashmap_size(&m), 0);
    ip_hashmap_release(&m);
}
END_TEST

START_TEST(put_get_and_overwrite)
{
    struct ip_hashmap m;
    size_t v = 0;
    ip_hashmap_init(&m, false);
    ck_assert(ip_hashmap_put(&m, "sha256:aa", 1));
    ck_assert(ip_hashmap_put(&m, "sha256:bb", 2));
    ck_assert(ip_hashmap_put(&m, "", 3)); /* the empty string is a key like any other */
    ck_assert(!ip_hashmap_put(&m, "sha256:aa", 10));
    ck_assert_uint_eq(ip_hashmap_size(&m), 3);
    ck_assert(ip_hashmap_get(&m, "sha256:aa", &v));
    ck_assert_uint_eq(v, 10);
    ck_assert(ip_hashmap_get(&m, "", &v));
    ck_assert_uint_eq(v, 3);
    ck_assert(!ip_hashmap_get(&m, "sha256:a", NULL));
    ck_assert(!ip_hashmap_get(&m, "sha256:aaa", NULL));
    *ip_hashmap_find(&m, "sha256:bb") = 20;
    ck_assert(ip_hashmap_get(&m, "sha256:bb", &v));
    ck_assert_uint_eq(v, 20);
    ip_hashmap_release(&m);
}
END_TEST

START_TEST(copies_keys_unless_borrowed)
{
    struct ip_hashmap m;
    char key[16] = "name";
    ip_hashmap_init(&m, false);
    ip_hashmap_put(&m, key, 1);
    memcpy(key, "other", 6);
    ck_assert(ip_hashmap_get(&m, "name", NULL));
    ck_assert(!ip_hashmap_get(&m, "other", NULL));
    ip_hashmap_release(&m);

    char *owned = strdup("borrowed");
    ip_hashmap_init(&m, true);
    ip_hashmap_put(&m, owned, 5);
    size_t pos = 0;
    const struct ip_hashmap_entry *e = ip_hashmap_next(&m, &pos);
    ck_assert_ptr_nonnull(e);
    ck_assert_ptr_eq(e->key, owned); /* the caller's string itself */
    ck_assert_ptr_null(ip_hashmap_next(&m, &pos));
    ip_hashmap_release(&m); /* does not free the borrowed key */
    ck_assert_str_eq(owned, "borrowed");
    free(owned);
}
END_TEST

START_TEST(grows_and_keeps_everything)
{
    enum { N = 20000 };
    struct ip_hashmap m;
    char k[32];
    size_t v, pos = 0, seen = 0, sum = 0;
    const struct ip_hashmap_entry *e;
    ip_hashmap_init(&m, false);
    for (size_t i = 0; i < N; i++) {
        snprintf(k, sizeof(k), "dir/%zu/file", i);
        ck_assert(ip_hashmap_put(&m, k, i));
    }
    ck_assert_uint_eq(ip_hashmap_size(&m), N);
    ck_assert_uint_le(m.n * 2, m.cap); /* at most half full */
    for (size_t i = 0; i < N; i++) {
        snprintf(k, sizeof(k), "dir/%zu/file", i);
        ck_assert_msg(ip_hashmap_get(&m, k, &v) && v == i, "%s", k);
    }
    snprintf(k, sizeof(k), "dir/%d/file", N);
    ck_assert(!ip_hashmap_get(&m, k, NULL));
    while ((e = ip_hashmap_next(&m, &pos)) != NULL) {
        seen++;
        sum += e->val;
    }
    ck_assert_uint_eq(seen, N);
    ck_assert_uint_eq(sum, (size_t)N * (N - 1) / 2);
    ip_hashmap_release(&m);
}
END_TEST

/* Keys that land in one bucket of a small table still resolve (linear probing
 * across the end of the table too). */
START_TEST(colliding_keys)
{
    struct ip_hashmap m;
    char keys[40][16];
    size_t n = 0, v;
    ip_hashmap_init(&m, false);
    for (unsigned i = 0; n < 20 && i < 100000; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%u", i);
        if ((ip_strhash(k) & 63) == 63)
            memcpy(keys[n++], k, sizeof(k));
    }
    ck_assert_uint_eq(n, 20);
    for (size_t i = 0; i < n; i++)
        ip_hashmap_put(&m, keys[i], i);
    ck_assert_uint_eq(m.cap, 64); /* 20 entries: no growth, all in one run */
    for (size_t i = 0; i < n; i++)
        ck_assert(ip_hashmap_get(&m, keys[i], &v) && v == i);
    ck_assert(!ip_hashmap_get(&m, "k-absent", NULL));
    ip_hashmap_release(&m);
}
END_TEST

START_TEST(fnv1a_values)
{
    /* the published FNV-1a 64-bit test vectors */
    ck_assert_uint_eq((uint64_t)ip_strhash(""), 0xcbf29ce484222325ULL);
    ck_assert_uint_eq((uint64_t)ip_strhash("a"), 0xaf63dc4c8601ec8cULL);
    ck_assert_uint_eq((uint64_t)ip_strhash("foobar"), 0x85944171f73967e8ULL);
}
END_TEST

Suite *suite_hashmap(void)
{
    Suite *s = suite_create("hashmap");
    TCase *tc = tcase_create("hashmap");
    tcase_add_test(tc, empty_map_finds_nothing);
    tcase_add_test(tc, put_get_and_overwrite);
    tcase_add_test(tc, copies_keys_unless_borrowed);
    tcase_add_test(tc, grows_and_keeps_everything);
    tcase_add_test(tc, colliding_keys);
    tcase_add_test(tc, fnv1a_values);
    suite_add_tcase(s, tc);
    return s;
}
