/* test-verify.c - the complete check of a layout: a good one passes, and each
 * kind of damage to a blob is found and reported. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "imgpkg/verify.h"
#include "suites.h"
#include "store/store-private.h"

struct lines {
    size_t n;
    struct ip_buf text;
};

static void collect_line(void *ctx, const char *line)
{
    struct lines *l = ctx;
    ck_assert_ptr_null(strchr(line, '\n'));
    l->n++;
    ip_buf_printf(&l->text, "%s\n", line);
}

struct layout {
    char *tmp;
    char *dir;
    char manifest[IP_DIGEST_SIZE];
    struct ip_desc layer, config;
};

static char *blob_file(const struct layout *l, const char *digest)
{
    return ip_xasprintf("%s/blobs/sha256/%s", l->dir, ip_digest_hex(digest));
}

/* Builds a small image from files and saves it as a layout directory. */
static void layout_make(struct layout *l)
{
    struct ip_build_opts o;
    struct ip_build_result r;
    struct ip_store *dst = NULL;
    struct ip_manifest *m = NULL;
    struct ip_err err;
    memset(l, 0, sizeof(*l));
    l->tmp = test_tmpdir();
    l->dir = ip_path_join(l->tmp, "layout");
    char *in = ip_path_join(l->tmp, "in");
    char *f = ip_path_join(in, "sub/file.txt");
    test_write_file(f, "some content for the layer\n", 0644);
    free(f);
    f = ip_path_join(in, "other");
    test_write_file(f, "other file\n", 0755);
    free(f);
    const char *paths[] = {in};
    memset(&o, 0, sizeof(o));
    o.paths = paths;
    o.n_paths = 1;
    o.tmp_dir = l->tmp;
    ck_assert_msg(ip_build(&o, &r, &err) == 0, "%s", err.msg);
    ck_assert_msg(ip_store_oci_dir_open(l->dir, true, &dst, &err) == 0, "%s", err.msg);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"v1"};
    struct ip_copy_item item = {
        .src_ref = r.manifest_digest, .annotations = &ann, .n_annotations = 1};
    struct ip_copy_result res;
    ck_assert_msg(ip_copy(r.store, dst, &item, 1, NULL, &res, &err) == 0, "%s", err.msg);
    ip_store_free(dst);
    ck_assert_int_eq(ip_store_get_manifest(r.store, r.manifest_digest, &m, &err), 0);
    memcpy(l->manifest, m->digest, IP_DIGEST_SIZE);
    ip_desc_copy(&l->layer, &m->layers[0]);
    ip_desc_copy(&l->config, &m->config);
    ip_manifest_free(m);
    ip_build_result_release(&r);
    free(in);
}

static void layout_release(struct layout *l)
{
    ip_desc_release(&l->layer);
    ip_desc_release(&l->config);
    free(l->dir);
    test_tmpdir_cleanup(l->tmp);
}

/* Runs verify on the layout; returns the return code. */
static int verify_dir(const char *dir, struct ip_verify_stats *st, struct lines *lines,
                      struct ip_err *err)
{
    struct ip_store *s = NULL;
    ip_err_clear(err);
    ck_assert_msg(ip_store_oci_dir_open(dir, false, &s, err) == 0, "%s", err->msg);
    memset(lines, 0, sizeof(*lines));
    int rc = ip_verify_store(s, collect_line, lines, st, err);
    ip_store_free(s);
    return rc;
}

/* Expects exactly `problems` problems, one of them mentioning each of a and b. */
static void expect_problems(const char *dir, size_t problems, const char *a, const char *b)
{
    struct ip_verify_stats st;
    struct lines lines;
    struct ip_err err;
    int rc = verify_dir(dir, &st, &lines, &err);
    ck_assert_int_eq(rc, -IP_E_VERIFY);
    ck_assert_int_eq(err.code, IP_E_VERIFY);
    ck_assert_msg(st.problems == problems, "%zu problems, want %zu:\n%s", st.problems, problems,
                  lines.text.data);
    ck_assert_uint_eq(lines.n, problems);
    ck_assert_msg(strstr(err.msg, problems == 1 ? "1 problem found" : "problems found") != NULL,
                  "%s", err.msg);
    if (a)
        ck_assert_msg(strstr(lines.text.data, a) != NULL, "'%s' not in:\n%s", a, lines.text.data);
    if (b)
        ck_assert_msg(strstr(lines.text.data, b) != NULL, "'%s' not in:\n%s", b, lines.text.data);
    ip_buf_release(&lines.text);
}

static void flip_byte(const char *path, off_t at)
{
    unsigned char c;
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, at), 1);
    c ^= 0x01;
    ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
    close(fd);
}

START_TEST(good_layout_passes)
{
    struct layout l;
    struct ip_verify_stats st;
    struct lines lines;
    struct ip_err err;
    layout_make(&l);
    int rc = verify_dir(l.dir, &st, &lines, &err);
    ck_assert_msg(rc == 0, "%s\n%s", err.msg, lines.text.data ? lines.text.data : "");
    ck_assert_uint_eq(st.problems, 0);
    ck_assert_uint_eq(lines.n, 0);
    ck_assert_uint_eq(st.manifests, 1);
    ck_assert_uint_eq(st.blobs, 2);
    ip_buf_release(&lines.text);
    layout_release(&l);
}
END_TEST

START_TEST(flipped_byte_in_layer)
{
    struct layout l;
    layout_make(&l);
    char *p = blob_file(&l, l.layer.digest);
    flip_byte(p, l.layer.size / 2);
    expect_problems(l.dir, 1, l.layer.digest, "layer 0");
    /* the last byte (gzip trailer) too */
    flip_byte(p, l.layer.size / 2);
    flip_byte(p, l.layer.size - 1);
    expect_problems(l.dir, 1, l.layer.digest, NULL);
    free(p);
    layout_release(&l);
}
END_TEST

START_TEST(missing_layer)
{
    struct layout l;
    layout_make(&l);
    char *p = blob_file(&l, l.layer.digest);
    ck_assert_int_eq(unlink(p), 0);
    expect_problems(l.dir, 1, l.layer.digest, "missing");
    free(p);
    layout_release(&l);
}
END_TEST

START_TEST(truncated_layer)
{
    struct layout l;
    layout_make(&l);
    char *p = blob_file(&l, l.layer.digest);
    ck_assert_int_eq(truncate(p, l.layer.size - 1), 0);
    expect_problems(l.dir, 1, l.layer.digest, "size");
    /* and empty */
    ck_assert_int_eq(truncate(p, 0), 0);
    expect_problems(l.dir, 1, l.layer.digest, NULL);
    /* and longer than stated */
    ck_assert_int_eq(truncate(p, l.layer.size + 10), 0);
    expect_problems(l.dir, 1, l.layer.digest, NULL);
    free(p);
    layout_release(&l);
}
END_TEST

START_TEST(damaged_config_and_manifest)
{
    struct layout l;
    layout_make(&l);
    char *p = blob_file(&l, l.config.digest);
    flip_byte(p, 3);
    expect_problems(l.dir, 1, l.config.digest, "config");
    free(p);
    /* two problems at once are both reported */
    p = blob_file(&l, l.layer.digest);
    ck_assert_int_eq(unlink(p), 0);
    expect_problems(l.dir, 2, l.config.digest, l.layer.digest);
    free(p);
    /* without its manifest, nothing below can be checked: one problem */
    p = blob_file(&l, l.manifest);
    ck_assert_int_eq(unlink(p), 0);
    expect_problems(l.dir, 1, l.manifest, NULL);
    free(p);
    layout_release(&l);
}
END_TEST

/* A mem store image whose layer is `layer` (its digest right) and whose
 * config states `diff_id`; saved into a layout at dir. */
static void save_image(const char *dir, const void *layer, size_t layer_len, const char *diff_id)
{
    struct ip_store *src = ip_store_mem_new(), *dst = NULL;
    struct ip_desc ld, cd;
    struct ip_err err;
    memset(&ld, 0, sizeof(ld));
    memset(&cd, 0, sizeof(cd));
    ld.media_type = ip_xstrdup(IP_MT_OCI_LAYER_GZIP);
    ld.size = (int64_t)layer_len;
    ip_sha256_of(layer, layer_len, ld.digest);
    char *cfg = ip_xasprintf("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff_id);
    cd.media_type = ip_xstrdup(IP_MT_OCI_CONFIG);
    cd.size = (int64_t)strlen(cfg);
    ip_sha256_of(cfg, strlen(cfg), cd.digest);
    char *man =
        ip_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld}]}",
                     IP_MT_OCI_MANIFEST, IP_MT_OCI_CONFIG, cd.digest, (long long)cd.size,
                     IP_MT_OCI_LAYER_GZIP, ld.digest, (long long)ld.size);
    ip_store_mem_add_blob(src, &ld, layer);
    ip_store_mem_add_blob(src, &cd, cfg);
    ck_assert_int_eq(ip_store_mem_add_manifest(src, man, strlen(man), NULL, NULL, 0, &err), 0);
    char digest[IP_DIGEST_SIZE];
    ip_sha256_of(man, strlen(man), digest);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"x"};
    struct ip_copy_item item = {.src_ref = digest, .annotations = &ann, .n_annotations = 1};
    struct ip_copy_result res;
    ck_assert_int_eq(ip_store_oci_dir_open(dir, true, &dst, &err), 0);
    ck_assert_msg(ip_copy(src, dst, &item, 1, NULL, &res, &err) == 0, "%s", err.msg);
    ip_store_free(dst);
    ip_store_free(src);
    ip_desc_release(&ld);
    ip_desc_release(&cd);
    free(cfg);
    free(man);
}

START_TEST(wrong_diff_id_and_bad_gzip)
{
    struct layout l;
    struct ip_buf layer = IP_BUF_INIT;
    struct ip_err err;
    layout_make(&l);
    char *p = blob_file(&l, l.layer.digest);
    ck_assert_int_eq(ip_read_file(p, 0, &layer, &err), 0);
    free(p);

    /* an intact layer whose config states another diff_id */
    char *d2 = ip_path_join(l.tmp, "wrong-diff-id");
    save_image(d2, layer.data, layer.len,
               "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    expect_problems(d2, 1, "diff_id", l.layer.digest);
    free(d2);

    /* the right diff_id passes (the check above is about the diff_id only) */
    struct ip_store *s = NULL;
    struct ip_manifest *m = NULL;
    ck_assert_int_eq(ip_store_oci_dir_open(l.dir, false, &s, &err), 0);
    ck_assert_int_eq(ip_store_get_manifest(s, "v1", &m, &err), 0);
    struct ip_reader *r = NULL;
    struct ip_buf cfg = IP_BUF_INIT;
    ck_assert_int_eq(ip_store_open_blob(s, &m->config, &r, &err), 0);
    ck_assert_int_eq(ip_reader_slurp(r, 0, &cfg, &err), 0);
    ip_reader_free(r);
    struct ip_config c;
    ck_assert_int_eq(ip_config_parse(cfg.data, cfg.len, &c, &err), 0);
    char *d3 = ip_path_join(l.tmp, "right-diff-id");
    save_image(d3, layer.data, layer.len, c.diff_ids[0]);
    struct ip_verify_stats st;
    struct lines lines;
    ck_assert_msg(verify_dir(d3, &st, &lines, &err) == 0, "%s", err.msg);
    ip_buf_release(&lines.text);
    free(d3);
    ip_config_release(&c);
    ip_buf_release(&cfg);
    ip_manifest_free(m);
    ip_store_free(s);

    /* a "gzip" layer that is not gzip, though its digest is right */
    char *d4 = ip_path_join(l.tmp, "not-gzip");
    save_image(d4, "plain text", 10,
               "sha256:0000000000000000000000000000000000000000000000000000000000000000");
    expect_problems(d4, 1, "not valid gzip", NULL);
    free(d4);

    ip_buf_release(&layer);
    layout_release(&l);
}
END_TEST

START_TEST(tarball_verified_too)
{
    struct layout l;
    struct ip_err err;
    struct ip_store *src = NULL, *dst = NULL, *rd = NULL;
    layout_make(&l);
    char *tar = ip_path_join(l.tmp, "out.tar");
    ck_assert_int_eq(ip_store_oci_dir_open(l.dir, false, &src, &err), 0);
    ck_assert_int_eq(ip_store_oci_tar_create(tar, &dst, &err), 0);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"v1"};
    struct ip_copy_item item = {.src_ref = "v1", .annotations = &ann, .n_annotations = 1};
    struct ip_copy_result res;
    ck_assert_msg(ip_copy(src, dst, &item, 1, NULL, &res, &err) == 0, "%s", err.msg);
    ip_store_free(dst);
    ip_store_free(src);

    struct ip_verify_stats st;
    struct lines lines;
    memset(&lines, 0, sizeof(lines));
    ck_assert_int_eq(ip_store_oci_tar_open(tar, &rd, &err), 0);
    ck_assert_msg(ip_verify_store(rd, collect_line, &lines, &st, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(st.blobs, 2);
    ck_assert_uint_eq(st.manifests, 1);
    ip_store_free(rd);

    /* flip a byte of the layer inside the tarball */
    struct ip_buf t = IP_BUF_INIT, layer = IP_BUF_INIT;
    char *lp = blob_file(&l, l.layer.digest);
    ck_assert_int_eq(ip_read_file(tar, 0, &t, &err), 0);
    ck_assert_int_eq(ip_read_file(lp, 0, &layer, &err), 0);
    char *at = memmem(t.data, t.len, layer.data, layer.len);
    ck_assert_ptr_nonnull(at);
    flip_byte(tar, (off_t)(at - t.data) + (off_t)layer.len / 2);
    ck_assert_int_eq(ip_store_oci_tar_open(tar, &rd, &err), 0);
    ck_assert_int_eq(ip_verify_store(rd, collect_line, &lines, &st, &err), -IP_E_VERIFY);
    ck_assert_uint_eq(st.problems, 1);
    ck_assert_ptr_nonnull(strstr(lines.text.data, l.layer.digest));
    ip_store_free(rd);

    ip_buf_release(&lines.text);
    ip_buf_release(&t);
    ip_buf_release(&layer);
    free(lp);
    free(tar);
    layout_release(&l);
}
END_TEST

Suite *suite_verify(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("verify");
    tcase_add_test(tc, good_layout_passes);
    tcase_add_test(tc, flipped_byte_in_layer);
    tcase_add_test(tc, missing_layer);
    tcase_add_test(tc, truncated_layer);
    tcase_add_test(tc, damaged_config_and_manifest);
    tcase_add_test(tc, wrong_diff_id_and_bad_gzip);
    tcase_add_test(tc, tarball_verified_too);
    suite_add_tcase(s, tc);
    return s;
}
