/* main.c - runs every unit test suite; Check prints the totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgpkg/util.h"
#include "suites.h"

char *test_tmpdir(void)
{
    char *t = strdup("/tmp/imgpkg-unit.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t));
    return t;
}

void test_tmpdir_cleanup(char *dir)
{
    ip_remove_tree(dir);
    free(dir);
}

void test_write_file(const char *path, const char *content, int mode)
{
    struct ip_err err;
    char *dir = ip_dirname(path);
    ck_assert_int_eq(ip_mkdirs(dir, &err), 0);
    free(dir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define ADD_SUITE(name) srunner_add_suite(sr, suite_##name());
    UNIT_SUITES(ADD_SUITE)
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
