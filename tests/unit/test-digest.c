/* test-digest.c - sha256 digests and their validation. */
#include <string.h>

#include "imgpkg/digest.h"
#include "suites.h"

START_TEST(sha256_of_known_input)
{
    char d[IP_DIGEST_SIZE];
    ip_sha256_of("abc", 3, d);
    ck_assert_str_eq(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ip_sha256_of("", 0, d);
    ck_assert_str_eq(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(sha256_streaming_equals_one_shot)
{
    struct ip_sha256 h;
    char a[IP_DIGEST_SIZE], b[IP_DIGEST_SIZE];
    ip_sha256_init(&h);
    ip_sha256_update(&h, "hello ", 6);
    ip_sha256_update(&h, "world", 5);
    ip_sha256_final(&h, a);
    ip_sha256_of("hello world", 11, b);
    ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(digest_validation)
{
    struct ip_err err;
    ck_assert(
        ip_digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    ck_assert(!ip_digest_valid(
        "sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    ck_assert(!ip_digest_valid("sha256:ba7816bf"));
    ck_assert(
        !ip_digest_valid("md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    ck_assert(
        !ip_digest_valid("sha256:../../../../etc/passwd0000000000000000000000000000000000000000"));
    ck_assert(!ip_digest_valid(NULL));
    ck_assert_int_lt(ip_digest_check("sha512:abc", &err), 0);
    ck_assert_int_eq(err.code, IP_E_UNSUPPORTED);
    ck_assert_int_lt(ip_digest_check("nonsense", &err), 0);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
}
END_TEST

Suite *suite_digest(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, sha256_of_known_input);
    tcase_add_test(tc, sha256_streaming_equals_one_shot);
    tcase_add_test(tc, digest_validation);
    suite_add_tcase(s, tc);
    return s;
}
