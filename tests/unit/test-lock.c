/* test-lock.c - the ImagesLock of a bundle (.imgpkg/images.yml). */
#include <string.h>

#include "imgpkg/lock.h"
#include "suites.h"

#define DG1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DG2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static int parse(const char *yaml, struct ip_images_lock *l, struct ip_err *err)
{
    ip_err_clear(err);
    memset(l, 0, sizeof(*l));
    return ip_images_lock_parse(yaml, strlen(yaml), "images.yml", l, err);
}

static void parse_fails(const char *yaml, const char *msg_part)
{
    struct ip_images_lock l;
    struct ip_err err;
    int rc = parse(yaml, &l, &err);
    ck_assert_msg(rc == -IP_E_FORMAT, "rc %d (%s) for:\n%s", rc, err.msg, yaml);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, msg_part) != NULL, "'%s' not in '%s'", msg_part, err.msg);
    /* errors name the file */
    ck_assert_msg(!strncmp(err.msg, "images.yml: ", 12), "%s", err.msg);
    ck_assert_ptr_null(l.images);
    ck_assert_uint_eq(l.n_images, 0);
}

START_TEST(valid_lock_with_annotations)
{
    const char *y = "---\n"
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\n"
                    "kind: ImagesLock\n"
                    "images:\n"
                    "- image: registry.example.com/team/app@" DG1 "\n"
                    "  annotations:\n"
                    "    kbld.carvel.dev/id: app\n"
                    "    \"quoted key\": 'single quoted'\n"
                    "- annotations: {a: \"1\"}\n"
                    "  image: index.docker.io/library/nginx@" DG2 "\n"
                    "- image: example.com/bare@" DG1 "\n";
    struct ip_images_lock l;
    struct ip_err err;
    ck_assert_msg(parse(y, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n_images, 3);
    ck_assert_str_eq(l.images[0].image, "registry.example.com/team/app@" DG1);
    ck_assert_uint_eq(l.images[0].n_annotations, 2);
    ck_assert_str_eq(l.images[0].annotations[0].key, "kbld.carvel.dev/id");
    ck_assert_str_eq(l.images[0].annotations[0].val, "app");
    ck_assert_str_eq(l.images[0].annotations[1].key, "quoted key");
    ck_assert_str_eq(l.images[0].annotations[1].val, "single quoted");
    ck_assert_str_eq(l.images[1].image, "index.docker.io/library/nginx@" DG2);
    ck_assert_uint_eq(l.images[1].n_annotations, 1);
    ck_assert_str_eq(l.images[1].annotations[0].key, "a");
    ck_assert_str_eq(l.images[1].annotations[0].val, "1");
    ck_assert_uint_eq(l.images[2].n_annotations, 0);
    ip_images_lock_release(&l);
    ck_assert_uint_eq(l.n_images, 0);
    ck_assert_ptr_null(l.images);
}
END_TEST

START_TEST(tag_and_digest_is_pinned)
{
    const char *y = "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n"
                    "images:\n- image: example.com/app:v1@" DG1 "\n";
    struct ip_images_lock l;
    struct ip_err err;
    ck_assert_msg(parse(y, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n_images, 1);
    ip_images_lock_release(&l);
}
END_TEST

START_TEST(empty_images)
{
    static const char *const docs[] = {
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: []\n",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: null\n",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: ~\n",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: NULL\n",
        "{\"apiVersion\": \"imgpkg.carvel.dev/v1alpha1\", \"kind\": \"ImagesLock\", \"images\": null}",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(docs); i++) {
        struct ip_images_lock l;
        struct ip_err err;
        ck_assert_msg(parse(docs[i], &l, &err) == 0, "%s: %s", docs[i], err.msg);
        ck_assert_uint_eq(l.n_images, 0);
        ip_images_lock_release(&l);
    }
}
END_TEST

START_TEST(wrong_api_version)
{
    parse_fails("apiVersion: imgpkg.carvel.dev/v1\nkind: ImagesLock\nimages: []\n",
                "Validating apiVersion: Unknown version");
    parse_fails("kind: ImagesLock\nimages: []\n", "Unknown version");
    parse_fails("apiVersion: [imgpkg.carvel.dev/v1alpha1]\nkind: ImagesLock\n", "Unknown version");
}
END_TEST

START_TEST(wrong_kind)
{
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: BundleLock\nimages: []\n",
                "Validating kind: Unknown kind");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nimages: []\n", "Unknown kind");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: imageslock\n", "Unknown kind");
}
END_TEST

START_TEST(tag_only_image)
{
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: example.com/app@" DG1 "\n"
                "- image: example.com/app:v1\n",
                "Expected ref to be in digest form, got 'example.com/app:v1'");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: nginx\n",
                "Expected ref to be in digest form");
    /* not a reference at all */
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: Not A Ref@" DG1 "\n",
                "Expected ref to be in digest form");
}
END_TEST

START_TEST(bad_images_shapes)
{
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: everything\n",
                "images must be a list");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: {a: b}\n",
                "images must be a list");
    /* a quoted "null" is a string, not a null */
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: \"null\"\n",
                "images must be a list");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: ''\n",
                "images must be a list");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- {}\n",
                "images[0] has no image");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- just-a-string\n",
                "images[0] has no image");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: example.com/a@" DG1 "\n- image: \"\"\n",
                "images[1] has no image");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: example.com/a@" DG1 "\n  annotations: [x]\n",
                "annotations must be a mapping");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: example.com/a@" DG1 "\n  annotations:\n    ok: yes\n    nested: {a: b}\n",
                "annotations must map strings to strings");
}
END_TEST

START_TEST(malformed_yaml)
{
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: [\n",
                "invalid YAML");
    parse_fails("apiVersion: \"unterminated\nkind: ImagesLock\n", "invalid YAML");
    parse_fails("a: b\n  c: d\n", "invalid YAML");
    parse_fails("\t- tab indented: x\n", "invalid YAML");
}
END_TEST

START_TEST(not_a_mapping)
{
    parse_fails("- apiVersion: imgpkg.carvel.dev/v1alpha1\n- kind: ImagesLock\n",
                "expected a YAML mapping");
    parse_fails("just text\n", "expected a YAML mapping");
    parse_fails("", "empty document");
    parse_fails("# only a comment\n", "empty document");
}
END_TEST

START_TEST(read_from_file)
{
    char *dir = test_tmpdir();
    char *path = ip_path_join(dir, ".imgpkg/images.yml");
    struct ip_images_lock l;
    struct ip_err err;
    test_write_file(path, "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                          "- image: example.com/app@" DG1 "\n",
                    0644);
    ck_assert_msg(ip_images_lock_read(path, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n_images, 1);
    ck_assert_str_eq(l.images[0].image, "example.com/app@" DG1);
    ip_images_lock_release(&l);

    /* errors name the file by its path */
    test_write_file(path, "kind: ImagesLock\n", 0644);
    ck_assert_int_eq(ip_images_lock_read(path, &l, &err), -IP_E_FORMAT);
    ck_assert_msg(!strncmp(err.msg, path, strlen(path)), "%s", err.msg);
    /* an empty file is an error, not an empty lock */
    test_write_file(path, "", 0644);
    ck_assert_int_eq(ip_images_lock_read(path, &l, &err), -IP_E_FORMAT);
    /* a missing file */
    char *missing = ip_path_join(dir, "nope.yml");
    ck_assert_int_eq(ip_images_lock_read(missing, &l, &err), -IP_E_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, missing));
    free(missing);
    free(path);
    test_tmpdir_cleanup(dir);
}
END_TEST

Suite *suite_lock(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("lock");
    tcase_add_test(tc, valid_lock_with_annotations);
    tcase_add_test(tc, tag_and_digest_is_pinned);
    tcase_add_test(tc, empty_images);
    tcase_add_test(tc, wrong_api_version);
    tcase_add_test(tc, wrong_kind);
    tcase_add_test(tc, tag_only_image);
    tcase_add_test(tc, bad_images_shapes);
    tcase_add_test(tc, malformed_yaml);
    tcase_add_test(tc, not_a_mapping);
    tcase_add_test(tc, read_from_file);
    suite_add_tcase(s, tc);
    return s;
}
