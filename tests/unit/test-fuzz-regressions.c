/* test-fuzz-regressions.c - inputs the libFuzzer targets (tests/fuzz/) found
 * mishandled, kept as unit tests so that every build checks them. */
#include <string.h>

#include "imgpkg/oci.h"
#include "suites.h"

/* '{"schemaVersion":2,"manifests":[],"x":' + '['*depth + ']'*depth + '}' (owned) */
static char *index_nested(int depth)
{
    struct ip_buf b = IP_BUF_INIT;
    ip_buf_adds(&b, "{\"schemaVersion\":2,\"manifests\":[],\"x\":");
    for (int i = 0; i < depth; i++)
        ip_buf_adds(&b, "[");
    for (int i = 0; i < depth; i++)
        ip_buf_adds(&b, "]");
    ip_buf_adds(&b, "}");
    return ip_buf_detach(&b, NULL);
}

/* fuzz-index: an index.json with an unknown member nested past yajl's generator
 * limit (128) was accepted and written back cut short, as invalid JSON. */
START_TEST(index_json_nested_too_deep_is_refused)
{
    struct ip_index_doc doc, back;
    struct ip_buf out = IP_BUF_INIT;
    struct ip_err err;
    char *deep = index_nested(130);
    char *ok = index_nested(98); /* 100 levels with the top object */

    ip_err_clear(&err);
    ck_assert_int_eq(ip_index_doc_parse(deep, strlen(deep), &doc, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nested more than 100 deep"));

    ip_err_clear(&err);
    ck_assert_int_eq(ip_index_doc_parse(ok, strlen(ok), &doc, &err), 0);
    ip_index_doc_gen(&doc, &out);
    ck_assert_int_eq(ip_index_doc_parse(out.data, out.len, &back, &err), 0);
    ck_assert_ptr_nonnull(strstr(out.data, "\"x\":[[[["));
    ip_index_doc_release(&back);
    ip_index_doc_release(&doc);
    ip_buf_release(&out);
    free(deep);
    free(ok);
}
END_TEST

Suite *suite_fuzz_regressions(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, index_json_nested_too_deep_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
