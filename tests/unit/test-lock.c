/* test-lock.c - the ImagesLock of a bundle (.imgpkg/images.yml). */
#include <string.h>

#include "imgpkg/bundle.h"
#include "imgpkg/lock.h"
#include "imgpkg/yaml-writer.h"
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
        "{\"apiVersion\": \"imgpkg.carvel.dev/v1alpha1\", \"kind\": \"ImagesLock\", \"images\": "
        "null}",
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
    parse_fails(
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n- just-a-string\n",
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
    test_write_file(path,
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
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

/* What imgpkg (go-yaml v2) writes for each string, captured from
 * `imgpkg pull` of a relocated bundle whose images.yml held these values. */
static const struct {
    const char *in, *out;
} yaml_strings[] = {
    {"1.0", "\"1.0\""},
    {"true", "\"true\""},
    {"null", "\"null\""},
    {"0x1f", "\"0x1f\""},
    {"1e3", "\"1e3\""},
    {"~", "\"~\""},
    {"yes", "\"yes\""},
    {"on", "\"on\""},
    {"Off", "\"Off\""},
    {"y", "\"y\""},
    {"n", "\"n\""},
    {".inf", "\".inf\""},
    {"-.Inf", "\"-.Inf\""},
    {".nan", "\".nan\""},
    {"0o17", "\"0o17\""},
    {"017", "\"017\""},
    {"1_000", "\"1_000\""},
    {"+12", "\"+12\""},
    {"12:30", "\"12:30\""},
    {"2001-12-14", "\"2001-12-14\""},
    {"", "\"\""},
    {" lead", "' lead'"},
    {"a: b", "'a: b'"},
    {"#x", "'#x'"},
    {"-", "'-'"},
    {"1.", "\"1.\""},
    {".5", "\".5\""},
    {"0b101", "\"0b101\""},
    {"NULL", "\"NULL\""},
    {"True", "\"True\""},
    {"TRUE", "\"TRUE\""},
    {"tRue", "tRue"},
    {"1e", "1e"},
    {"-0", "\"-0\""},
    {"0x", "0x"},
    {"+.5e-3", "\"+.5e-3\""},
    {"=", "="},
    {"<<", "<<"},
    {"- x", "'- x'"},
    {"日本", "日本"},
    {"tab\there", "\"tab\\there\""},
    {"@at", "'@at'"},
    {"`bt", "'`bt'"},
    {"1,000", "1,000"},
    {"12e03", "\"12e03\""},
    {"0.1.2", "0.1.2"},
    {"Yes", "\"Yes\""},
    {"NO", "\"NO\""},
    {"ON", "\"ON\""},
    {"99999999999999999999999", "\"99999999999999999999999\""},
    {"1e999", "1e999"},
    {"0xFFFFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFFFF"},
    {"08", "\"08\""},
    {"0b+101", "\"0b+101\""},
    {"1:20:30", "\"1:20:30\""},
    {"2001-12-14t21:59:43.10-05:00", "\"2001-12-14t21:59:43.10-05:00\""},
    {"2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"},
    {"2001-1-1", "\"2001-1-1\""},
    {"0x1p3", "0x1p3"},
    {"+.inf", "\"+.inf\""},
    {".INf", ".INf"},
    {"._5", "._5"},
    {"1__0", "\"1__0\""},
    {"_1", "_1"},
    {"0O17", "\"0O17\""},
    {"-0b11", "\"-0b11\""},
    {"0B11", "\"0B11\""},
    {"0X1f", "\"0X1f\""},
    {"a\nb", "|-\n  a\n  b"},
    {"end\n", "|\n  end"},
    {"v1", "v1"},
    {"127.0.0.1:5000/app@sha256:00", "127.0.0.1:5000/app@sha256:00"},
};

START_TEST(yaml_strings_quoted_as_imgpkg)
{
    for (size_t i = 0; i < sizeof(yaml_strings) / sizeof(yaml_strings[0]); i++) {
        struct ip_yaml_writer *w = ip_yaml_writer_new(false);
        struct ip_buf b = IP_BUF_INIT;
        struct ip_err err;
        ip_yaml_map_start(w);
        ip_yaml_kv(w, "k", yaml_strings[i].in);
        ip_yaml_map_end(w);
        ck_assert_int_eq(ip_yaml_writer_finish(w, &b, &err), 0);
        char *want = ip_xasprintf("k: %s\n", yaml_strings[i].out);
        ck_assert_msg(b.len == strlen(want) && !memcmp(b.data, want, b.len),
                      "'%s': got '%.*s', want '%s'", yaml_strings[i].in, (int)b.len, b.data, want);
        free(want);
        ip_buf_release(&b);
    }
}
END_TEST

START_TEST(yaml_keys_quoted_and_sorted)
{
    /* keys are strings too; annotations come out sorted as go-yaml sorts a map */
    struct ip_lock_image img = {.image = (char *)"example.com/app@" DG1};
    struct ip_kv ann[] = {{(char *)"b10", (char *)"x"},  {(char *)"b9", (char *)"x"},
                          {(char *)"true", (char *)"x"}, {(char *)"a", (char *)"x"},
                          {(char *)"B", (char *)"x"},    {(char *)"-z", (char *)"x"}};
    img.annotations = ann;
    img.n_annotations = sizeof(ann) / sizeof(ann[0]);
    struct ip_images_lock l = {.images = &img, .n_images = 1};
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_int_eq(ip_images_lock_yaml(&l, &b, &err), 0);
    const char *want = "---\n"
                       "apiVersion: imgpkg.carvel.dev/v1alpha1\n"
                       "images:\n"
                       "- annotations:\n"
                       "    -z: x\n"
                       "    B: x\n"
                       "    a: x\n"
                       "    b9: x\n"
                       "    b10: x\n"
                       "    \"true\": x\n"
                       "  image: example.com/app@" DG1 "\n"
                       "kind: ImagesLock\n";
    ck_assert_msg(b.len == strlen(want) && !memcmp(b.data, want, b.len), "got:\n%.*s", (int)b.len,
                  b.data);
    ip_buf_release(&b);
    ck_assert_int_lt(ip_yaml_key_cmp("a1", "a01"), 0);
    ck_assert_int_lt(ip_yaml_key_cmp("a", "ab"), 0);
    ck_assert_int_eq(ip_yaml_key_cmp("same", "same"), 0);
}
END_TEST

START_TEST(empty_lock_written_as_imgpkg)
{
    /* imgpkg writes no images key for an empty lock; it reads back empty */
    struct ip_images_lock l = {0}, back;
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_int_eq(ip_images_lock_yaml(&l, &b, &err), 0);
    const char *want = "---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n";
    ck_assert_msg(b.len == strlen(want) && !memcmp(b.data, want, b.len), "got:\n%.*s", (int)b.len,
                  b.data);
    ck_assert_int_eq(parse(want, &back, &err), 0);
    ck_assert_uint_eq(back.n_images, 0);
    ip_buf_release(&b);
}
END_TEST

START_TEST(bundle_lock_parsed)
{
    struct ip_bundle_lock bl;
    struct ip_err err;
    const char *y = "---\n"
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\n"
                    "bundle:\n"
                    "  image: example.com/b@" DG1 "\n"
                    "  tag: \"1.0\"\n"
                    "kind: BundleLock\n";
    ck_assert_msg(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(bl.image, "example.com/b@" DG1);
    ck_assert_str_eq(bl.tag, "1.0");
    ip_bundle_lock_release(&bl);
    /* flow style and other key orders are YAML too (no substring matching) */
    y = "{kind: BundleLock, bundle: {image: 'example.com/b@" DG2
        "'}, apiVersion: imgpkg.carvel.dev/v1alpha1}";
    ck_assert_msg(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(bl.image, "example.com/b@" DG2);
    ck_assert_ptr_null(bl.tag);
    ip_bundle_lock_release(&bl);
    /* a comment mentioning the kind does not make a BundleLock */
    y = "# kind: BundleLock\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\n"
        "bundle:\n  image: example.com/b@" DG1 "\n";
    ck_assert_int_eq(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err), -IP_E_FORMAT);
    ck_assert_str_eq(err.msg, "l.yml: Validating bundle lock: Validating kind: Unknown kind "
                              "(known: BundleLock)");
    y = "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: BundleLock\nbundle:\n"
        "  image: example.com/b:v1\n";
    ck_assert_int_eq(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err), -IP_E_FORMAT);
    ck_assert_str_eq(err.msg, "l.yml: Validating bundle lock: Expected ref to be in digest form, "
                              "got 'example.com/b:v1'");
    y = "apiVersion: imgpkg.carvel.dev/v1\nkind: BundleLock\n";
    ck_assert_int_eq(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "Validating apiVersion: Unknown version"));
}
END_TEST

START_TEST(lock_file_of_either_kind)
{
    char *dir = test_tmpdir();
    char *path = ip_path_join(dir, "lock.yml");
    struct ip_lock_file lf;
    struct ip_err err;
    test_write_file(path,
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: BundleLock\nbundle:\n"
                    "  image: example.com/b@" DG1 "\n  tag: v2\n",
                    0644);
    ck_assert_msg(ip_lock_file_read(path, &lf, &err) == 0, "%s", err.msg);
    ck_assert(lf.is_bundle_lock);
    ck_assert_str_eq(lf.bundle.image, "example.com/b@" DG1);
    ck_assert_str_eq(lf.bundle.tag, "v2");
    ip_lock_file_release(&lf);
    test_write_file(path,
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                    "- image: example.com/i@" DG2 "\n  annotations: {x: \"1\"}\n",
                    0644);
    ck_assert_msg(ip_lock_file_read(path, &lf, &err) == 0, "%s", err.msg);
    ck_assert(!lf.is_bundle_lock);
    ck_assert_uint_eq(lf.images.n_images, 1);

    /* relocated: the repository changes, digests and annotations stay */
    struct ip_images_lock moved;
    ip_images_lock_rebase(&lf.images, "other.example/team/dst", &moved);
    ck_assert_str_eq(moved.images[0].image, "other.example/team/dst@" DG2);
    ck_assert_uint_eq(moved.images[0].n_annotations, 1);
    ck_assert_str_eq(moved.images[0].annotations[0].val, "1");
    ip_images_lock_release(&moved);
    ip_lock_file_release(&lf);

    test_write_file(path, "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: Other\n", 0644);
    ck_assert_int_eq(ip_lock_file_read(path, &lf, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "Unknown kind (known: ImagesLock)"));
    free(path);
    test_tmpdir_cleanup(dir);
}
END_TEST

START_TEST(unknown_fields_refused_keys_in_any_case)
{
    struct ip_images_lock l;
    struct ip_err err;
    /* imgpkg reads lock files strictly */
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nextra: 1\n",
                "Unmarshaling images lock: error unmarshaling JSON: while decoding JSON: json: "
                "unknown field \"extra\"");
    parse_fails("apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                "- image: example.com/a@" DG1 "\n  tag: v1\n",
                "unknown field \"tag\"");
    /* and, as Go's JSON decoding, matches keys whatever their case */
    const char *y = "APIVersion: imgpkg.carvel.dev/v1alpha1\nKind: ImagesLock\nImages:\n"
                    "- Image: example.com/a@" DG1 "\n  Annotations: {k: v}\n";
    ck_assert_msg(parse(y, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n_images, 1);
    ck_assert_str_eq(l.images[0].image, "example.com/a@" DG1);
    ck_assert_uint_eq(l.images[0].n_annotations, 1);
    ip_images_lock_release(&l);

    struct ip_bundle_lock bl;
    y = "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: BundleLock\nbundle:\n"
        "  image: example.com/b@" DG1 "\n  extra: 1\n";
    ck_assert_int_eq(ip_bundle_lock_parse(y, strlen(y), "l.yml", &bl, &err), -IP_E_FORMAT);
    ck_assert_str_eq(err.msg, "l.yml: Unmarshaling bundle lock: error unmarshaling JSON: while "
                              "decoding JSON: json: unknown field \"extra\"");

    /* the folder push reads: loosely, as imgpkg's push */
    char *dir = test_tmpdir();
    char *path = ip_path_join(dir, "images.yml");
    test_write_file(path,
                    "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
                    "- image: example.com/a@" DG1 "\n  extra: 1\n",
                    0644);
    ck_assert_int_eq(ip_images_lock_read(path, &l, &err), -IP_E_FORMAT);
    ck_assert_msg(ip_images_lock_read_loose(path, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n_images, 1);
    ip_images_lock_release(&l);
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
    tcase_add_test(tc, yaml_strings_quoted_as_imgpkg);
    tcase_add_test(tc, yaml_keys_quoted_and_sorted);
    tcase_add_test(tc, empty_lock_written_as_imgpkg);
    tcase_add_test(tc, bundle_lock_parsed);
    tcase_add_test(tc, lock_file_of_either_kind);
    tcase_add_test(tc, unknown_fields_refused_keys_in_any_case);
    suite_add_tcase(s, tc);
    return s;
}
