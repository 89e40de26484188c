/* suites.h - every Check suite of the unit tests; main.c runs them all. */
#ifndef IMGPKG_TEST_SUITES_H
#define IMGPKG_TEST_SUITES_H

#include <check.h>

/* clang-format off */
#define UNIT_SUITES(X) \
    X(auth) \
    X(digest) \
    X(hashmap) \
    X(parallel) \
    X(json) \
    X(oci) \
    X(ref) \
    X(lock) \
    X(build) \
    X(store) \
    X(verify) \
    X(extract) \
    X(legacy_tar) \
    X(retry) \
    X(fuzz_regressions) \
    X(cli)
/* clang-format on */

#define DECLARE_SUITE(name) Suite *suite_##name(void);
UNIT_SUITES(DECLARE_SUITE)

/* A fresh temporary directory (removed by test_tmpdir_cleanup). */
char *test_tmpdir(void);
void test_tmpdir_cleanup(char *dir);
/* Writes a file (creating parent directories). */
void test_write_file(const char *path, const char *content, int mode);

#endif
