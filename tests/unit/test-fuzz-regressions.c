/* test-fuzz-regressions.c - inputs the libFuzzer targets (tests/fuzz/) found
 * mishandled, kept as unit tests so that every build checks them. */
#include <string.h>
#include <time.h>

#include "imgpkg/bundle.h"
#include "imgpkg/oci.h"
#include "imgpkg/ref.h"
#include "suites.h"
#include "oci/oci-private.h"
#include "lock-private.h"

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

/* fuzz-index (a hand-made input): an index.json with an unknown member nested
 * past yajl's generator limit (128) was accepted and written back cut short,
 * as invalid JSON. */
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

/* fuzz-ref: the familiar name of a Docker Hub repository whose first component
 * looks like a host ("a.b/app") parsed again as another registry. */
START_TEST(familiar_name_keeps_docker_hub)
{
    static const char *const in[] = {"index.docker.io/librardocker.iy/nginx",
                                     "docker.io/a.b/app:v1", "index.docker.io/localhost/x"};
    static const char *const want[] = {"docker.io/librardocker.iy/nginx", "docker.io/a.b/app",
                                       "docker.io/localhost/x"};
    for (size_t i = 0; i < IP_ARRAY_SIZE(in); i++) {
        struct ip_ref r, back;
        struct ip_err err;
        ck_assert_int_eq(ip_ref_parse(in[i], &r, &err), 0);
        char *f = ip_ref_familiar(&r);
        ck_assert_str_eq(f, want[i]);
        ck_assert_int_eq(ip_ref_parse(f, &back, &err), 0);
        ck_assert_str_eq(back.registry, "index.docker.io");
        ck_assert_str_eq(back.repository, r.repository);
        ip_ref_release(&back);
        ip_ref_release(&r);
        free(f);
    }
}
END_TEST

/* fuzz-ref: a 250-character Docker Hub name became "library/" + 250 characters,
 * a repository over 255 that its own name (ip_ref_name) could not parse as. */
START_TEST(repository_limit_counts_library_prefix)
{
    char name[300];
    struct ip_ref r;
    struct ip_err err;
    memset(name, 'a', 247);
    name[247] = '\0';
    ck_assert_int_eq(ip_ref_parse(name, &r, &err), 0); /* library/ + 247 = 255 */
    ck_assert_uint_eq(strlen(r.repository), 255);
    char *full = ip_ref_name(&r);
    ip_ref_release(&r);
    ck_assert_int_eq(ip_ref_parse(full, &r, &err), 0);
    ip_ref_release(&r);
    free(full);
    name[247] = 'a';
    name[248] = '\0';
    ck_assert_int_eq(ip_ref_parse(name, &r, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "name too long"));
}
END_TEST

/* fuzz-lock (a hand-made input to the target): libyaml's scanner is quadratic
 * in the nesting of flow collections; 100000 "[" took minutes to load.  Deep
 * documents are now refused before loading, at once. */
START_TEST(yaml_deep_flow_nesting_is_refused_fast)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_images_lock lock;
    struct ip_image_locations loc;
    struct ip_err err;
    time_t start = time(NULL);

    ip_buf_adds(&b, "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: ");
    for (int i = 0; i < 100000; i++)
        ip_buf_adds(&b, "[");
    for (int i = 0; i < 100000; i++)
        ip_buf_adds(&b, "]");
    ip_buf_adds(&b, "\n");
    ck_assert_int_eq(ip_images_lock_parse(b.data, b.len, "images.yml", &lock, &err), -IP_E_FORMAT);
    ck_assert_str_eq(err.msg, "images.yml: YAML nested more than 64 deep");
    ck_assert_int_eq(ip_image_locations_parse(b.data, b.len, &loc, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nested more than 64 deep"));
    ck_assert_int_le(time(NULL) - start, 5);
    ip_buf_release(&b);

    /* the top mapping, images, its item, annotations and n flow sequences:
     * 4 + 60 = 64 levels are fine, 65 are not */
    for (int n = 60; n <= 61; n++) {
        ip_buf_reset(&b);
        ip_buf_adds(
            &b,
            "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
            "- image: x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
            "  annotations: {a: ");
        for (int i = 0; i < n; i++)
            ip_buf_adds(&b, "[");
        for (int i = 0; i < n; i++)
            ip_buf_adds(&b, "]");
        ip_buf_adds(&b, "}\n");
        ck_assert_int_eq(ip_yaml_check_nesting(b.data, b.len, "images.yml", &err),
                         n == 60 ? 0 : -IP_E_FORMAT);
    }
    /* shallow nesting loads; a sequence as an annotation value is refused by the lock */
    ip_buf_reset(&b);
    ip_buf_adds(
        &b, "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
            "- image: x@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
            "  annotations: {a: [[]]}\n");
    ck_assert_int_eq(ip_images_lock_parse(b.data, b.len, "images.yml", &lock, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "must map strings to strings"));
    ip_buf_release(&b);
}
END_TEST

Suite *suite_fuzz_regressions(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, index_json_nested_too_deep_is_refused);
    tcase_add_test(tc, familiar_name_keeps_docker_hub);
    tcase_add_test(tc, repository_limit_counts_library_prefix);
    tcase_add_test(tc, yaml_deep_flow_nesting_is_refused_fast);
    suite_add_tcase(s, tc);
    return s;
}
