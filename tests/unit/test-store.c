/* test-store.c - the OCI image layout stores (directory and tarball) written by
 * the copy engine from the in-memory store, and read back. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgpkg/copy.h"
#include "imgpkg/store.h"
#include "suites.h"
#include "store/store-private.h"
#include "store/tar-index.h"
#include "util/util-private.h"

#define CNAME "docker.io/library/app:v1"

struct image {
    struct ip_desc layer, config;
    char *layer_data, *config_data, *manifest;
    char digest[IP_DIGEST_SIZE]; /* of the manifest */
};

static void blob_desc(struct ip_desc *d, const char *mt, const char *data)
{
    memset(d, 0, sizeof(*d));
    d->media_type = ip_xstrdup(mt);
    d->size = (int64_t)strlen(data);
    ip_sha256_of(data, strlen(data), d->digest);
}

/* An image (layer bytes `layer`) in the mem store, its manifest tagged `tag`. */
static void image_add(struct ip_store *src, struct image *im, const char *layer, const char *tag)
{
    struct ip_err err;
    memset(im, 0, sizeof(*im));
    im->layer_data = ip_xstrdup(layer);
    blob_desc(&im->layer, IP_MT_OCI_LAYER_GZIP, im->layer_data);
    im->config_data =
        ip_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                     "\"layers\",\"diff_ids\":[\"%s\"]}}",
                     im->layer.digest);
    blob_desc(&im->config, IP_MT_OCI_CONFIG, im->config_data);
    im->manifest = ip_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":\"%"
        "s\","
        "\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}]}",
        IP_MT_OCI_MANIFEST, IP_MT_OCI_CONFIG, im->config.digest, (long long)im->config.size,
        IP_MT_OCI_LAYER_GZIP, im->layer.digest, (long long)im->layer.size);
    ip_sha256_of(im->manifest, strlen(im->manifest), im->digest);
    ip_store_mem_add_blob(src, &im->layer, im->layer_data);
    ip_store_mem_add_blob(src, &im->config, im->config_data);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)tag};
    ck_assert_int_eq(ip_store_mem_add_manifest(src, im->manifest, strlen(im->manifest),
                                               IP_MT_OCI_MANIFEST, &ann, tag ? 1 : 0, &err),
                     0);
}

static void image_release(struct image *im)
{
    ip_desc_release(&im->layer);
    ip_desc_release(&im->config);
    free(im->layer_data);
    free(im->config_data);
    free(im->manifest);
}

/* Copies src_ref from src into dst, naming it tag (and the containerd name). */
static int copy_one(struct ip_store *src, struct ip_store *dst, const char *src_ref,
                    const char *tag, char digest[IP_DIGEST_SIZE], struct ip_err *err)
{
    struct ip_kv ann[2] = {{(char *)IP_ANN_REF_NAME, (char *)tag},
                           {(char *)IP_ANN_CONTAINERD_NAME, (char *)CNAME}};
    struct ip_copy_item item = {
        .src_ref = src_ref, .annotations = ann, .n_annotations = 2, .repo_tag = "app:v1"};
    struct ip_copy_result res;
    ip_err_clear(err);
    memset(&res, 0, sizeof(res));
    int rc = ip_copy(src, dst, &item, 1, NULL, &res, err);
    if (rc == 0)
        memcpy(digest, res.digest, IP_DIGEST_SIZE);
    return rc;
}

static struct ip_store *dir_open_ok(const char *dir, bool writable)
{
    struct ip_store *s = NULL;
    struct ip_err err;
    ip_err_clear(&err);
    int rc = ip_store_oci_dir_open(dir, writable, &s, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return s;
}

/* Copies into the layout at dir (created or added to) and commits. */
static void copy_to_dir(struct ip_store *src, const char *dir, const char *src_ref, const char *tag)
{
    struct ip_err err;
    char d[IP_DIGEST_SIZE];
    struct ip_store *dst = dir_open_ok(dir, true);
    int rc = copy_one(src, dst, src_ref, tag, d, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ip_store_free(dst);
}

/* Names in a directory, sorted, joined with spaces. */
static char *dir_names(const char *path)
{
    struct dirent **list = NULL;
    int n = scandir(path, &list, NULL, alphasort);
    struct ip_buf b = IP_BUF_INIT;
    ip_buf_adds(&b, "");
    ck_assert_int_ge(n, 0);
    for (int i = 0; i < n; i++) {
        if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
            ip_buf_printf(&b, "%s%s", b.len ? " " : "", list[i]->d_name);
        free(list[i]);
    }
    free(list);
    return ip_buf_detach(&b, NULL);
}

static void assert_dir_names(const char *path, const char *want)
{
    char *got = dir_names(path);
    ck_assert_msg(!strcmp(got, want), "%s holds '%s', want '%s'", path, got, want);
    free(got);
}

static char *slurp_blob(struct ip_store *s, const struct ip_desc *d)
{
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_msg(ip_store_open_blob(s, d, &r, &err) == 0, "%s", err.msg);
    ck_assert_msg(ip_reader_slurp(r, 0, &b, &err) == 0, "%s", err.msg);
    ip_reader_free(r);
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, NULL);
}

static char *read_text(const char *path)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_msg(ip_read_file(path, 0, &b, &err) == 0, "%s", err.msg);
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, NULL);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Everything a reader of the image needs, from any readable store. */
static void assert_store_holds(struct ip_store *s, const struct image *im, const char *tag)
{
    struct ip_manifest *m = NULL;
    struct ip_err err;
    ck_assert_msg(ip_store_get_manifest(s, tag, &m, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(m->digest, im->digest);
    ck_assert_uint_eq(m->raw_len, strlen(im->manifest));
    ck_assert(memcmp(m->raw, im->manifest, m->raw_len) == 0);
    ip_manifest_free(m);
    ck_assert_msg(ip_store_get_manifest(s, im->digest, &m, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(m->digest, im->digest);
    ck_assert_str_eq(m->layers[0].digest, im->layer.digest);
    ip_manifest_free(m);
    char *data = slurp_blob(s, &im->layer);
    ck_assert_str_eq(data, im->layer_data);
    free(data);
    data = slurp_blob(s, &im->config);
    ck_assert_str_eq(data, im->config_data);
    free(data);
    bool have = false;
    ck_assert_int_eq(ip_store_has_blob(s, &im->layer, &have, &err), 0);
    ck_assert(have);
}

/* The entry of `list` with this digest (must exist). */
static const struct ip_desc *entry_of(const struct ip_desc *list, size_t n, const char *digest)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].digest, digest))
            return &list[i];
    ck_abort_msg("no entry %s", digest);
    return NULL;
}

/* ---- directory ---- */

START_TEST(dir_copy_and_read_back)
{
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    struct ip_store *src = ip_store_mem_new();
    struct image im;
    struct ip_err err;
    char d[IP_DIGEST_SIZE];
    image_add(src, &im, "layer one", "v1");

    struct ip_store *dst = dir_open_ok(dir, true);
    ck_assert(!exists(dir)); /* built beside, moved into place at commit */
    ck_assert_msg(copy_one(src, dst, "v1", "v1", d, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(d, im.digest);
    ip_store_free(dst);

    /* the layout and nothing else */
    assert_dir_names(t, "layout");
    assert_dir_names(dir, "blobs index.json oci-layout");
    char *p = ip_path_join(dir, "oci-layout");
    char *text = read_text(p);
    ck_assert_str_eq(text, "{\"imageLayoutVersion\":\"1.0.0\"}");
    free(text);
    free(p);
    p = ip_path_join(dir, "blobs/sha256");
    char *want = NULL;
    {
        /* the three blobs by hex digest, sorted */
        const char *h[3] = {ip_digest_hex(im.layer.digest), ip_digest_hex(im.config.digest),
                            ip_digest_hex(im.digest)};
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                if (strcmp(h[i], h[j]) > 0) {
                    const char *x = h[i];
                    h[i] = h[j];
                    h[j] = x;
                }
        want = ip_xasprintf("%s %s %s", h[0], h[1], h[2]);
    }
    assert_dir_names(p, want);
    free(want);
    free(p);

    /* read back */
    struct ip_store *rd = dir_open_ok(dir, false);
    struct ip_desc *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(ip_store_list(rd, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].digest, im.digest);
    ck_assert_str_eq(list[0].media_type, IP_MT_OCI_MANIFEST);
    ck_assert_int_eq(list[0].size, (int64_t)strlen(im.manifest));
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_REF_NAME), "v1");
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_CONTAINERD_NAME), CNAME);
    ip_descs_free(list, n);
    assert_store_holds(rd, &im, "v1");

    /* the only image is found without a name too */
    struct ip_manifest *m = NULL;
    ck_assert_int_eq(ip_store_get_manifest(rd, NULL, &m, &err), 0);
    ck_assert_str_eq(m->digest, im.digest);
    ip_manifest_free(m);
    /* what is not there */
    ck_assert_int_eq(ip_store_get_manifest(rd, "v2", &m, &err), -IP_E_NOTFOUND);
    ck_assert_int_eq(ip_store_get_manifest(
                         rd,
                         "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                         &m, &err),
                     -IP_E_NOTFOUND);
    struct ip_desc missing;
    blob_desc(&missing, IP_MT_OCI_LAYER_GZIP, "not stored");
    struct ip_reader *r = NULL;
    ck_assert_int_eq(ip_store_open_blob(rd, &missing, &r, &err), -IP_E_NOTFOUND);
    ck_assert_ptr_null(r);
    bool have = true;
    ck_assert_int_eq(ip_store_has_blob(rd, &missing, &have, &err), 0);
    ck_assert(!have);
    ip_desc_release(&missing);
    ip_store_free(rd);

    ip_store_free(src);
    image_release(&im);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(dir_second_copy_moves_tag)
{
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    struct ip_store *src = ip_store_mem_new();
    struct image a, b;
    struct ip_err err;
    image_add(src, &a, "layer a", "a");
    image_add(src, &b, "layer b", "b");

    copy_to_dir(src, dir, "a", "v1");
    copy_to_dir(src, dir, b.digest, "v1");
    assert_dir_names(t, "layout");

    struct ip_store *rd = dir_open_ok(dir, false);
    struct ip_desc *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(ip_store_list(rd, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    const struct ip_desc *ea = entry_of(list, n, a.digest), *eb = entry_of(list, n, b.digest);
    ck_assert_str_eq(ip_desc_annotation(eb, IP_ANN_REF_NAME), "v1");
    ck_assert_str_eq(ip_desc_annotation(eb, IP_ANN_CONTAINERD_NAME), CNAME);
    /* the old image lost its names but none of its blobs */
    ck_assert_ptr_null(ip_desc_annotation(ea, IP_ANN_REF_NAME));
    ck_assert_ptr_null(ip_desc_annotation(ea, IP_ANN_CONTAINERD_NAME));
    ip_descs_free(list, n);
    assert_store_holds(rd, &b, "v1");
    assert_store_holds(rd, &a, a.digest);
    ip_store_free(rd);

    /* the untagged old image, saved again under a tag, is one entry again */
    copy_to_dir(src, dir, "a", "v0");
    rd = dir_open_ok(dir, false);
    ck_assert_int_eq(ip_store_list(rd, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ip_desc_annotation(entry_of(list, n, a.digest), IP_ANN_REF_NAME), "v0");
    ck_assert_str_eq(ip_desc_annotation(entry_of(list, n, b.digest), IP_ANN_REF_NAME), "v1");
    ip_descs_free(list, n);
    assert_store_holds(rd, &a, "v0");
    ip_store_free(rd);

    ip_store_free(src);
    image_release(&a);
    image_release(&b);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(dir_keeps_unknown_index_fields)
{
    /* a layout written by another tool keeps what we do not know */
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    struct ip_store *src = ip_store_mem_new();
    struct image a, b;
    image_add(src, &a, "layer a", "a");
    image_add(src, &b, "layer b", "b");
    copy_to_dir(src, dir, "a", "v1");
    char *ip = ip_path_join(dir, "index.json");
    char *idx =
        ip_xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":"
                     "\"%s\",\"size\":%zu,\"x-other\":[1.50],\"annotations\":{\"%s\":\"v1\","
                     "\"keep\":\"me\"}}],\"x-top\":{\"k\":true}}",
                     IP_MT_OCI_MANIFEST, a.digest, strlen(a.manifest), IP_ANN_REF_NAME);
    test_write_file(ip, idx, 0644);
    copy_to_dir(src, dir, "b", "v2");
    char *out = read_text(ip);
    ck_assert_msg(strstr(out, "\"x-top\":{\"k\":true}") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"x-other\":[1.50]") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"keep\":\"me\"") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "\"mediaType\":\"application/vnd.oci.image.index.v1+json\"") != NULL,
                  "%s", out);
    free(out);
    free(idx);
    free(ip);
    ip_store_free(src);
    image_release(&a);
    image_release(&b);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(dir_open_refusals)
{
    char *t = test_tmpdir();
    char *other = ip_path_join(t, "other"), *file = ip_path_join(other, "hello.txt");
    struct ip_store *s = NULL;
    struct ip_err err;

    /* a directory that is neither empty nor a layout */
    test_write_file(file, "hello", 0644);
    ck_assert_int_eq(ip_store_oci_dir_open(other, true, &s, &err), -IP_E_FORMAT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(err.msg, "OCI image layout") != NULL, "%s", err.msg);
    assert_dir_names(other, "hello.txt");
    ck_assert_int_eq(ip_store_oci_dir_open(other, false, &s, &err), -IP_E_FORMAT);

    /* a file where the layout should be */
    ck_assert_int_eq(ip_store_oci_dir_open(file, true, &s, &err), -IP_E_EXISTS);
    /* a layout that does not exist cannot be read */
    char *none = ip_path_join(t, "none");
    ck_assert_int_eq(ip_store_oci_dir_open(none, false, &s, &err), -IP_E_IO);
    ck_assert_int_eq(err.sys_errno, ENOENT);
    free(none);
    assert_dir_names(t, "other");

    free(other);
    free(file);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(dir_corrupt_layout_refused)
{
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    char *ip = ip_path_join(dir, "index.json"), *lp = ip_path_join(dir, "oci-layout");
    struct ip_store *src = ip_store_mem_new(), *s = NULL;
    struct image a;
    struct ip_err err;
    image_add(src, &a, "layer a", "a");
    copy_to_dir(src, dir, "a", "v1");

    static const char *const bad_index[] = {
        "{",
        "",
        "[]",
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:1\",\"size\":"
        "1}]}",
        "{\"schemaVersion\":1,\"manifests\":[]}",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(bad_index); i++) {
        test_write_file(ip, bad_index[i], 0644);
        ck_assert_msg(ip_store_oci_dir_open(dir, false, &s, &err) == -IP_E_FORMAT, "'%s': %s",
                      bad_index[i], err.msg);
        ck_assert_int_eq(ip_store_oci_dir_open(dir, true, &s, &err), -IP_E_FORMAT);
        ck_assert_ptr_nonnull(strstr(err.msg, "index.json"));
    }
    /* a corrupt layout is not overwritten by a copy into it */
    char *before = read_text(ip);
    ck_assert_int_ne(ip_store_oci_dir_open(dir, true, &s, &err), 0);
    char *after = read_text(ip);
    ck_assert_str_eq(before, after);
    free(before);
    free(after);

    /* index.json missing, oci-layout of another version */
    unlink(ip);
    ck_assert_int_lt(ip_store_oci_dir_open(dir, false, &s, &err), 0);
    test_write_file(ip, "{\"schemaVersion\":2,\"manifests\":[]}", 0644);
    ck_assert_int_eq(ip_store_oci_dir_open(dir, false, &s, &err), 0);
    ip_store_free(s);
    test_write_file(lp, "{\"imageLayoutVersion\":\"2.0.0\"}", 0644);
    ck_assert_int_eq(ip_store_oci_dir_open(dir, false, &s, &err), -IP_E_FORMAT);
    test_write_file(lp, "not json", 0644);
    ck_assert_int_eq(ip_store_oci_dir_open(dir, false, &s, &err), -IP_E_FORMAT);

    ip_store_free(src);
    image_release(&a);
    free(ip);
    free(lp);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(dir_uncommitted_leaves_nothing)
{
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    struct ip_store *src = ip_store_mem_new(), *dst;
    struct image a;
    struct ip_err err;
    image_add(src, &a, "layer a", "a");

    /* blobs written, never committed */
    dst = dir_open_ok(dir, true);
    ck_assert_int_eq(ip_store_begin(dst, NULL, 0, &err), 0);
    struct ip_reader *r = ip_reader_mem(a.layer_data, strlen(a.layer_data));
    ck_assert_int_eq(ip_store_put_blob(dst, &a.layer, r, &err), 0);
    ip_reader_free(r);
    ip_store_free(dst);
    ck_assert(!exists(dir));
    assert_dir_names(t, "");

    /* an empty directory stays as it was */
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    dst = dir_open_ok(dir, true);
    ip_store_free(dst);
    ck_assert(ip_is_dir(dir));
    assert_dir_names(dir, "");
    assert_dir_names(t, "layout");
    ck_assert_int_eq(rmdir(dir), 0);

    /* a copy that fails (a blob that is not what its digest says) */
    struct ip_desc bad;
    blob_desc(&bad, IP_MT_OCI_LAYER_GZIP, "expected");
    ip_store_mem_add_blob(src, &bad, "tampered");
    char *cfg = ip_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", bad.digest);
    struct ip_desc cdesc;
    blob_desc(&cdesc, IP_MT_OCI_CONFIG, cfg);
    ip_store_mem_add_blob(src, &cdesc, cfg);
    char *man =
        ip_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld}]}",
                     IP_MT_OCI_MANIFEST, IP_MT_OCI_CONFIG, cdesc.digest, (long long)cdesc.size,
                     IP_MT_OCI_LAYER_GZIP, bad.digest, (long long)bad.size);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"bad"};
    ck_assert_int_eq(ip_store_mem_add_manifest(src, man, strlen(man), NULL, &ann, 1, &err), 0);
    char d[IP_DIGEST_SIZE];
    dst = dir_open_ok(dir, true);
    ck_assert_int_eq(copy_one(src, dst, "bad", "v1", d, &err), -IP_E_DIGEST);
    ip_store_free(dst);
    ck_assert(!exists(dir));
    assert_dir_names(t, "");

    /* into an existing layout: it is left as it was, with no stray files */
    copy_to_dir(src, dir, "a", "v1");
    char *ip = ip_path_join(dir, "index.json"), *blobs = ip_path_join(dir, "blobs/sha256");
    char *idx_before = read_text(ip), *blobs_before = dir_names(blobs);
    dst = dir_open_ok(dir, true);
    ck_assert_int_eq(copy_one(src, dst, "bad", "v1", d, &err), -IP_E_DIGEST);
    ck_assert_ptr_nonnull(strstr(err.msg, bad.digest));
    ip_store_free(dst);
    char *idx_after = read_text(ip), *blobs_after = dir_names(blobs);
    ck_assert_str_eq(idx_before, idx_after);
    /* every old blob is still there; blobs that did verify may have been added,
     * but no temporary file or blob under the bad digest is left */
    ck_assert_msg(strstr(blobs_after, ip_digest_hex(a.layer.digest)) &&
                      strstr(blobs_after, ip_digest_hex(a.config.digest)) &&
                      strstr(blobs_after, ip_digest_hex(a.digest)),
                  "%s", blobs_after);
    ck_assert_msg(strstr(blobs_after, ip_digest_hex(bad.digest)) == NULL, "%s", blobs_after);
    ck_assert_msg(blobs_after[0] != '.' && strstr(blobs_after, " .") == NULL, "%s", blobs_after);
    assert_dir_names(t, "layout");
    assert_dir_names(dir, "blobs index.json oci-layout");

    free(idx_before);
    free(idx_after);
    free(blobs_before);
    free(blobs_after);
    free(ip);
    free(blobs);
    free(man);
    free(cfg);
    ip_desc_release(&bad);
    ip_desc_release(&cdesc);
    ip_store_free(src);
    image_release(&a);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

static void copy_to_tar(struct ip_store *src, const char *path, const char *src_ref,
                        const char *tag)
{
    struct ip_store *dst = NULL;
    struct ip_err err;
    char d[IP_DIGEST_SIZE];
    ck_assert_int_eq(ip_store_oci_tar_create(path, &dst, &err), 0);
    int rc = copy_one(src, dst, src_ref, tag, d, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ip_store_free(dst);
}

START_TEST(dir_path_with_trailing_slash)
{
    /* "--to-oci-layout out/" names the directory out */
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout");
    char *slashed = ip_xasprintf("%s//", dir);
    struct ip_store *src = ip_store_mem_new();
    struct image a, b;
    image_add(src, &a, "layer a", "a");
    image_add(src, &b, "layer b", "b");

    copy_to_dir(src, slashed, "a", "v1"); /* a new layout */
    assert_dir_names(t, "layout");
    assert_dir_names(dir, "blobs index.json oci-layout");
    copy_to_dir(src, slashed, "b", "v2"); /* added to */
    struct ip_store *rd = dir_open_ok(slashed, false);
    assert_store_holds(rd, &a, "v1");
    assert_store_holds(rd, &b, "v2");
    ip_store_free(rd);

    /* an existing empty directory */
    ip_remove_tree(dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    copy_to_dir(src, slashed, "a", "v1");
    assert_dir_names(t, "layout");
    assert_dir_names(dir, "blobs index.json oci-layout");

    ip_store_free(src);
    image_release(&a);
    image_release(&b);
    free(slashed);
    free(dir);
    test_tmpdir_cleanup(t);
}
END_TEST

/* An index of two images (in the mem store, children untagged), tagged `tag`. */
static void index_add(struct ip_store *src, struct image *a, struct image *b, const char *tag,
                      char **raw_out, char digest[IP_DIGEST_SIZE])
{
    struct ip_err err;
    image_add(src, a, "arch one", NULL);
    image_add(src, b, "arch two", NULL);
    char *raw = ip_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":"
        "\"amd64\",\"os\":\"linux\"}},"
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":"
        "\"arm64\",\"os\":\"linux\"}}]}",
        IP_MT_OCI_INDEX, IP_MT_OCI_MANIFEST, a->digest, strlen(a->manifest), IP_MT_OCI_MANIFEST,
        b->digest, strlen(b->manifest));
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)tag};
    ck_assert_int_eq(ip_store_mem_add_manifest(src, raw, strlen(raw), NULL, &ann, 1, &err), 0);
    ip_sha256_of(raw, strlen(raw), digest);
    *raw_out = raw;
}

static void assert_index_readable(struct ip_store *rd, const struct image *a, const struct image *b,
                                  const char *raw, const char *digest)
{
    struct ip_manifest *m = NULL;
    struct ip_err err;
    struct ip_desc *list = NULL;
    size_t n = 0;
    /* one top-level entry: the index; its children are found by digest */
    ck_assert_int_eq(ip_store_list(rd, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].digest, digest);
    ck_assert_str_eq(list[0].media_type, IP_MT_OCI_INDEX);
    ip_descs_free(list, n);
    ck_assert_msg(ip_store_get_manifest(rd, "multi", &m, &err) == 0, "%s", err.msg);
    ck_assert(m->is_index);
    ck_assert_uint_eq(m->raw_len, strlen(raw));
    ck_assert(memcmp(m->raw, raw, m->raw_len) == 0);
    ip_manifest_free(m);
    assert_store_holds(rd, a, a->digest);
    assert_store_holds(rd, b, b->digest);
}

START_TEST(index_copied_with_children)
{
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout"), *tar = ip_path_join(t, "out.tar");
    struct ip_store *src = ip_store_mem_new(), *rd = NULL;
    struct image a, b;
    struct ip_err err;
    char *raw = NULL;
    char digest[IP_DIGEST_SIZE];
    index_add(src, &a, &b, "multi", &raw, digest);

    copy_to_dir(src, dir, "multi", "multi");
    rd = dir_open_ok(dir, false);
    assert_index_readable(rd, &a, &b, raw, digest);
    ip_store_free(rd);

    copy_to_tar(src, tar, "multi", "multi");
    ck_assert_msg(ip_store_oci_tar_open(tar, &rd, &err) == 0, "%s", err.msg);
    assert_index_readable(rd, &a, &b, raw, digest);
    ip_store_free(rd);

    free(raw);
    ip_store_free(src);
    image_release(&a);
    image_release(&b);
    free(dir);
    free(tar);
    test_tmpdir_cleanup(t);
}
END_TEST

/* ---- tarball ---- */

/* Regular-file member names of a tar, in order. */
static char **tar_members(const char *path, size_t *n)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    char **names = NULL;
    int r;
    *n = 0;
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        names = ip_xrealloc(names, (*n + 1) * sizeof(char *));
        names[(*n)++] = ip_xstrdup(archive_entry_pathname(ae));
    }
    ck_assert_int_eq(r, ARCHIVE_EOF);
    archive_read_free(a);
    return names;
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static long name_pos(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return (long)i;
    return -1;
}

START_TEST(tar_copy_and_read_back)
{
    char *t = test_tmpdir();
    char *path = ip_path_join(t, "out.tar");
    struct ip_store *src = ip_store_mem_new(), *rd = NULL;
    struct image a;
    struct ip_err err;
    image_add(src, &a, "layer a", "a");
    copy_to_tar(src, path, "a", "v1");
    assert_dir_names(t, "out.tar");

    ck_assert_msg(ip_store_oci_tar_open(path, &rd, &err) == 0, "%s", err.msg);
    struct ip_desc *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(ip_store_list(rd, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].digest, a.digest);
    ck_assert_str_eq(list[0].media_type, IP_MT_OCI_MANIFEST);
    ck_assert_int_eq(list[0].size, (int64_t)strlen(a.manifest));
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_REF_NAME), "v1");
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_CONTAINERD_NAME), CNAME);
    ip_descs_free(list, n);
    assert_store_holds(rd, &a, "v1");
    struct ip_manifest *m = NULL;
    ck_assert_int_eq(ip_store_get_manifest(rd, "v2", &m, &err), -IP_E_NOTFOUND);
    ip_store_free(rd);

    /* oci-layout and index.json come before any blob */
    char **names = tar_members(path, &n);
    ck_assert_uint_ge(n, 5);
    ck_assert_str_eq(names[0], "oci-layout");
    ck_assert_str_eq(names[1], "index.json");
    long first_blob = -1;
    for (size_t i = 0; i < n; i++)
        if (!strncmp(names[i], "blobs/sha256/", 13) && names[i][13] && first_blob < 0)
            first_blob = (long)i;
    ck_assert_int_gt(first_blob, 1);
    char blob[128];
    const char *digests[] = {a.digest, a.layer.digest, a.config.digest};
    for (size_t i = 0; i < IP_ARRAY_SIZE(digests); i++) {
        snprintf(blob, sizeof(blob), "blobs/sha256/%s", ip_digest_hex(digests[i]));
        ck_assert_msg(name_pos(names, n, blob) > 1, "%s", blob);
    }
    /* each blob once, and a Docker manifest.json before the blobs */
    ck_assert_int_gt(name_pos(names, n, "manifest.json"), 1);
    ck_assert_int_lt(name_pos(names, n, "manifest.json"), first_blob);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_str_ne(names[i], names[j]);
    names_free(names, n);

    ip_store_free(src);
    image_release(&a);
    free(path);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(tar_is_reproducible)
{
    char *t = test_tmpdir();
    char *p1 = ip_path_join(t, "1.tar"), *p2 = ip_path_join(t, "2.tar");
    struct ip_store *src = ip_store_mem_new();
    struct image a;
    image_add(src, &a, "layer a", "a");
    copy_to_tar(src, p1, "a", "v1");
    copy_to_tar(src, p2, a.digest, "v1");
    struct ip_buf b1 = IP_BUF_INIT, b2 = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_int_eq(ip_read_file(p1, 0, &b1, &err), 0);
    ck_assert_int_eq(ip_read_file(p2, 0, &b2, &err), 0);
    ck_assert_uint_eq(b1.len, b2.len);
    ck_assert(memcmp(b1.data, b2.data, b1.len) == 0);
    ip_buf_release(&b1);
    ip_buf_release(&b2);
    ip_store_free(src);
    image_release(&a);
    free(p1);
    free(p2);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(tar_bad_blob_leaves_nothing)
{
    char *t = test_tmpdir();
    char *path = ip_path_join(t, "out.tar");
    struct ip_store *src = ip_store_mem_new(), *dst = NULL;
    struct ip_err err;
    struct ip_desc bad, cdesc;
    blob_desc(&bad, IP_MT_OCI_LAYER_GZIP, "expected");
    ip_store_mem_add_blob(src, &bad, "tampered");
    char *cfg = ip_xasprintf("{\"rootfs\":{\"diff_ids\":[\"%s\"]}}", bad.digest);
    blob_desc(&cdesc, IP_MT_OCI_CONFIG, cfg);
    ip_store_mem_add_blob(src, &cdesc, cfg);
    char *man =
        ip_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\","
                     "\"digest\":\"%s\",\"size\":%lld}]}",
                     IP_MT_OCI_MANIFEST, IP_MT_OCI_CONFIG, cdesc.digest, (long long)cdesc.size,
                     IP_MT_OCI_LAYER_GZIP, bad.digest, (long long)bad.size);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"bad"};
    ck_assert_int_eq(ip_store_mem_add_manifest(src, man, strlen(man), NULL, &ann, 1, &err), 0);

    ck_assert_int_eq(ip_store_oci_tar_create(path, &dst, &err), 0);
    char d[IP_DIGEST_SIZE];
    ck_assert_int_eq(copy_one(src, dst, "bad", "v1", d, &err), -IP_E_DIGEST);
    ck_assert_ptr_nonnull(strstr(err.msg, bad.digest));
    ck_assert(!exists(path));
    ip_store_free(dst);
    ck_assert(!exists(path));
    assert_dir_names(t, "");

    /* an existing tarball at the path is left as it was */
    struct image a;
    image_add(src, &a, "layer a", "a");
    copy_to_tar(src, path, "a", "v1");
    char *before = read_text(path);
    ck_assert_int_eq(ip_store_oci_tar_create(path, &dst, &err), 0);
    ck_assert_int_eq(copy_one(src, dst, "bad", "v1", d, &err), -IP_E_DIGEST);
    ip_store_free(dst);
    char *after = read_text(path);
    ck_assert_str_eq(before, after);
    assert_dir_names(t, "out.tar");
    free(before);
    free(after);

    image_release(&a);
    free(man);
    free(cfg);
    ip_desc_release(&bad);
    ip_desc_release(&cdesc);
    ip_store_free(src);
    free(path);
    test_tmpdir_cleanup(t);
}
END_TEST

/* Adds the file at `path` to the tar as `name`. */
static void tar_add_file(struct archive *a, const char *name, const char *path)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    struct archive_entry *ae = archive_entry_new();
    ck_assert_int_eq(ip_read_file(path, 0, &b, &err), 0);
    archive_entry_set_pathname(ae, name);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, (la_int64_t)b.len);
    ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
    if (b.len)
        ck_assert_int_eq(archive_write_data(a, b.data, b.len), (la_ssize_t)b.len);
    archive_entry_free(ae);
    ip_buf_release(&b);
}

static void tar_add_dir(struct archive *a, const char *name)
{
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, name);
    archive_entry_set_filetype(ae, AE_IFDIR);
    archive_entry_set_perm(ae, 0755);
    ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
    archive_entry_free(ae);
}

START_TEST(tar_written_by_other_tools)
{
    /* "tar -C layout -cf x.tar ." : "./" prefixes, directories, blobs first */
    char *t = test_tmpdir();
    char *dir = ip_path_join(t, "layout"), *tar = ip_path_join(t, "x.tar");
    struct ip_store *src = ip_store_mem_new(), *rd = NULL;
    struct image a;
    struct ip_err err;
    image_add(src, &a, "layer a", "a");
    copy_to_dir(src, dir, "a", "v1");

    struct archive *w = archive_write_new();
    archive_write_set_format_gnutar(w);
    ck_assert_int_eq(archive_write_open_filename(w, tar), ARCHIVE_OK);
    tar_add_dir(w, "./");
    tar_add_dir(w, "./blobs/");
    tar_add_dir(w, "./blobs/sha256/");
    const char *digests[] = {a.layer.digest, a.config.digest, a.digest};
    for (size_t i = 0; i < IP_ARRAY_SIZE(digests); i++) {
        char *name = ip_xasprintf("./blobs/sha256/%s", ip_digest_hex(digests[i]));
        char *path = ip_xasprintf("%s/blobs/sha256/%s", dir, ip_digest_hex(digests[i]));
        tar_add_file(w, name, path);
        free(name);
        free(path);
    }
    char *ip = ip_path_join(dir, "index.json"), *lp = ip_path_join(dir, "oci-layout");
    tar_add_file(w, "./index.json", ip);
    tar_add_file(w, "./oci-layout", lp);
    free(ip);
    free(lp);
    ck_assert_int_eq(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);

    ck_assert_msg(ip_store_oci_tar_open(tar, &rd, &err) == 0, "%s", err.msg);
    assert_store_holds(rd, &a, "v1");
    ip_store_free(rd);

    /* and it copies on into a layout of ours */
    char *dir2 = ip_path_join(t, "layout2");
    ck_assert_int_eq(ip_store_oci_tar_open(tar, &rd, &err), 0);
    struct ip_store *dst = dir_open_ok(dir2, true);
    char d[IP_DIGEST_SIZE];
    ck_assert_msg(copy_one(rd, dst, "v1", "v1", d, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(d, a.digest);
    ip_store_free(dst);
    ip_store_free(rd);
    rd = dir_open_ok(dir2, false);
    assert_store_holds(rd, &a, "v1");
    ip_store_free(rd);

    free(dir2);
    ip_store_free(src);
    image_release(&a);
    free(dir);
    free(tar);
    test_tmpdir_cleanup(t);
}
END_TEST

START_TEST(tar_open_refusals)
{
    char *t = test_tmpdir();
    char *p = ip_path_join(t, "x.tar");
    struct ip_store *s = NULL;
    struct ip_err err;

    ck_assert_int_eq(ip_store_oci_tar_open(p, &s, &err), -IP_E_IO); /* missing */
    test_write_file(p, "this is not a tar file at all, not even close....", 0644);
    ck_assert_int_eq(ip_store_oci_tar_open(p, &s, &err), -IP_E_FORMAT);
    ck_assert_int_eq(ip_store_oci_tar_open(t, &s, &err), -IP_E_INPUT); /* a directory */

    /* a tar without index.json */
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();
    archive_write_set_format_pax_restricted(a);
    ck_assert_int_eq(archive_write_open_filename(a, p), ARCHIVE_OK);
    archive_entry_set_pathname(ae, "oci-layout");
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_size(ae, 30);
    ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(a, "{\"imageLayoutVersion\":\"1.0.0\"}", 30), 30);
    archive_entry_free(ae);
    archive_write_close(a);
    archive_write_free(a);
    ck_assert_int_eq(ip_store_oci_tar_open(p, &s, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "index.json") != NULL, "%s", err.msg);
    ck_assert_ptr_null(s);

    /* a directory path for a new tarball */
    ck_assert_int_eq(ip_store_oci_tar_create(t, &s, &err), -IP_E_EXISTS);
    free(p);
    test_tmpdir_cleanup(t);
}
END_TEST

/* ---- memory ---- */

START_TEST(mem_store)
{
    struct ip_store *s = ip_store_mem_new();
    struct image a;
    struct ip_err err;
    image_add(s, &a, "layer a", "a");
    struct ip_desc *list = NULL;
    size_t n = 0;
    ck_assert_int_eq(ip_store_list(s, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].digest, a.digest);
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_REF_NAME), "a");
    ip_descs_free(list, n);
    assert_store_holds(s, &a, "a");
    struct ip_manifest *m = NULL;
    ck_assert_int_eq(ip_store_get_manifest(s, "nope", &m, &err), -IP_E_NOTFOUND);
    /* bad bytes for a manifest are refused when added */
    ck_assert_int_eq(ip_store_mem_add_manifest(s, "{}", 2, NULL, NULL, 0, &err), -IP_E_FORMAT);
    ip_store_free(s);
    image_release(&a);
}
END_TEST

/* ---------- temporary names, their cleanup, paths ---------- */

START_TEST(temp_names_marked)
{
    ck_assert(ip_is_temp_name(".out.tar.imgpkg-tmp-a1B2c3", "out.tar"));
    ck_assert(ip_is_temp_name(".out.tar.imgpkg-tmp-a1B2c3", NULL));
    ck_assert(!ip_is_temp_name(".out.tar.imgpkg-tmp-a1B2c3", "out"));
    ck_assert(!ip_is_temp_name(".out.tar-a1B2c3", "out.tar")); /* the old pattern */
    ck_assert(!ip_is_temp_name(".out.tar-backup", NULL));
    ck_assert(!ip_is_temp_name(".out.tar.imgpkg-tmp-a1B2c", NULL));  /* too short */
    ck_assert(!ip_is_temp_name(".out.tar.imgpkg-tmp-a1B2c_", NULL)); /* not alphanumeric */
    ck_assert(!ip_is_temp_name("out.tar.imgpkg-tmp-a1B2c3", NULL));  /* not hidden */
    ck_assert(!ip_is_temp_name(".imgpkg-tmp-a1B2c3", NULL));         /* no name */
}
END_TEST

START_TEST(temp_cleanup_takes_only_free_marked_entries)
{
    char *dir = test_tmpdir();
    struct ip_err err;
    char *live = NULL, *livedir = NULL, *stale = NULL;
    int fd = ip_mkstemp_in(dir, "x.tar", &live, &err);
    int dfd = ip_mkdtemp_in(dir, "x.tar", &livedir, &err);
    int sfd = ip_mkstemp_in(dir, "x.tar", &stale, &err);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(dfd, 0);
    ck_assert_int_ge(sfd, 0);
    close(sfd); /* its run is gone */
    cleanup_free char *user = ip_path_join(dir, ".x.tar-backup");
    cleanup_free char *other = ip_path_join(dir, ".y.tar.imgpkg-tmp-abcdef");
    cleanup_free char *link = ip_path_join(dir, ".x.tar.imgpkg-tmp-linkkk");
    cleanup_free char *target = ip_path_join(dir, "target");
    ck_assert_int_eq(ip_write_file_atomic(user, "u", 1, 0644, &err), 0);
    ck_assert_int_eq(ip_write_file_atomic(other, "o", 1, 0644, &err), 0);
    ck_assert_int_eq(ip_write_file_atomic(target, "t", 1, 0644, &err), 0);
    ck_assert_int_eq(symlink("target", link), 0);
    ip_cleanup_stale_temps(dir, "x.tar");
    struct stat st;
    ck_assert_int_eq(stat(live, &st), 0);    /* locked: kept */
    ck_assert_int_eq(stat(livedir, &st), 0); /* locked: kept */
    ck_assert_int_ne(stat(stale, &st), 0);   /* free: removed */
    ck_assert_int_eq(stat(user, &st), 0);    /* not marked */
    ck_assert_int_eq(stat(other, &st), 0);   /* another destination's */
    ck_assert_int_eq(lstat(link, &st), 0);   /* a symlink: never */
    ck_assert_int_eq(stat(target, &st), 0);
    /* modes: 0666 and 0777 under the umask */
    ck_assert_int_eq(stat(live, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0666 & ~ip_umask());
    ck_assert_int_eq(stat(livedir, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0777 & ~ip_umask());
    close(fd);
    close(dfd);
    ip_cleanup_stale_temps(dir, NULL);
    ck_assert_int_ne(stat(live, &st), 0);
    ck_assert_int_ne(stat(livedir, &st), 0);
    ck_assert_int_ne(stat(other, &st), 0);
    free(live);
    free(livedir);
    free(stale);
    test_tmpdir_cleanup(dir);
}
END_TEST

START_TEST(dirname_and_basename)
{
    static const char *cases[][3] = {
        {"out", ".", "out"},       {"out/", ".", "out"},          {"a/out/", "a", "out"},
        {"a//out//", "a", "out"},  {"/out", "/", "out"},          {"/a/b", "/a", "b"},
        {"./x.tar", ".", "x.tar"}, {"a/b/c.tar", "a/b", "c.tar"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *d = ip_dirname(cases[i][0]), *b = ip_basename(cases[i][0]);
        ck_assert_msg(!strcmp(d, cases[i][1]), "dirname(%s) = %s", cases[i][0], d);
        ck_assert_msg(!strcmp(b, cases[i][2]), "basename(%s) = %s", cases[i][0], b);
        free(d);
        free(b);
    }
}
END_TEST

START_TEST(tar_names_normalised)
{
    static const char *cases[][2] = {
        {"blobs/sha256/h", "blobs/sha256/h"},
        {"blobs//sha256/h", "blobs/sha256/h"},
        {"./blobs/./sha256/h", "blobs/sha256/h"},
        {"/blobs/sha256/h", "blobs/sha256/h"},
        {"blobs/sha256/h/", "blobs/sha256/h"},
        {"././index.json", "index.json"},
        {"a/../b", "a/../b"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *n = ip_tar_norm_name(cases[i][0]);
        ck_assert_msg(!strcmp(n, cases[i][1]), "norm(%s) = %s", cases[i][0], n);
        free(n);
    }
}
END_TEST

struct foreign_seen {
    int met, left_out;
    size_t item;
    char manifest[IP_DIGEST_SIZE];
};

static void on_foreign(void *ctx, size_t item, const char *manifest, const struct ip_desc *layer,
                       bool left_out)
{
    struct foreign_seen *f = ctx;
    (void)layer;
    f->met++;
    f->left_out += left_out;
    f->item = item;
    memcpy(f->manifest, manifest, IP_DIGEST_SIZE);
}

static bool store_has(struct ip_store *s, const struct ip_desc *d)
{
    struct ip_err err;
    bool have = false;
    ck_assert_int_eq(ip_store_has_blob(s, d, &have, &err), 0);
    return have;
}

/* A non-distributable layer: left out by default (and reported); asked for,
 * taken from the item's origin when the source lacks it, else the copy stops
 * before anything is written. */
START_TEST(copy_foreign_layer_from_origin)
{
    struct ip_store *src = ip_store_mem_new(), *origin = ip_store_mem_new();
    struct ip_desc layer, foreign, config;
    struct ip_err err;
    char digest[IP_DIGEST_SIZE];
    blob_desc(&layer, IP_MT_DOCKER_LAYER, "ordinary layer");
    blob_desc(&foreign, IP_MT_DOCKER_FOREIGN, "foreign layer");
    blob_desc(&config, IP_MT_DOCKER_CONFIG, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
    char *manifest = ip_xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
        "\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld},"
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,\"urls\":[\"https://example.com/"
        "f\"]}]}",
        IP_MT_DOCKER_MANIFEST, IP_MT_DOCKER_CONFIG, config.digest, (long long)config.size,
        IP_MT_DOCKER_LAYER, layer.digest, (long long)layer.size, IP_MT_DOCKER_FOREIGN,
        foreign.digest, (long long)foreign.size);
    ip_sha256_of(manifest, strlen(manifest), digest);
    ip_store_mem_add_blob(src, &layer, "ordinary layer");
    ip_store_mem_add_blob(src, &config, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
    ck_assert_int_eq(ip_store_mem_add_manifest(src, manifest, strlen(manifest),
                                               IP_MT_DOCKER_MANIFEST, NULL, 0, &err),
                     0);
    ip_store_mem_add_blob(origin, &foreign, "foreign layer");
    struct ip_copy_result res;

    /* by default: left out, reported once with its image */
    struct foreign_seen seen = {0};
    struct ip_copy_opts co = {.foreign = on_foreign, .foreign_ctx = &seen};
    struct ip_copy_item item = {.src_ref = digest};
    struct ip_store *dst = ip_store_mem_new();
    ck_assert_msg(ip_copy(src, dst, &item, 1, &co, &res, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(seen.met, 1);
    ck_assert_int_eq(seen.left_out, 1);
    ck_assert_uint_eq(seen.item, 0);
    ck_assert_str_eq(seen.manifest, digest);
    ck_assert(store_has(dst, &layer));
    ck_assert(!store_has(dst, &foreign));
    ip_store_free(dst);

    /* asked for, the source lacks it, no origin: nothing is written */
    co.include_nondistributable = true;
    memset(&seen, 0, sizeof(seen));
    dst = ip_store_mem_new();
    ck_assert_int_eq(ip_copy(src, dst, &item, 1, &co, &res, &err), -IP_E_NOTFOUND);
    ck_assert_msg(strstr(err.msg, foreign.digest) != NULL, "%s", err.msg);
    ck_assert_int_eq(seen.met, 1);
    ck_assert_int_eq(seen.left_out, 0);
    ck_assert(!store_has(dst, &layer));
    ck_assert(!store_has(dst, &config));
    ip_store_free(dst);

    /* the origin holds it: taken from there, the rest from the source */
    item.origin = origin;
    dst = ip_store_mem_new();
    ck_assert_msg(ip_copy(src, dst, &item, 1, &co, &res, &err) == 0, "%s", err.msg);
    ck_assert(store_has(dst, &foreign));
    ck_assert(store_has(dst, &layer));
    ip_store_free(dst);

    ip_store_free(src);
    ip_store_free(origin);
    ip_desc_release(&layer);
    ip_desc_release(&foreign);
    ip_desc_release(&config);
    free(manifest);
}
END_TEST

Suite *suite_store(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("oci-dir");
    tcase_add_test(tc, dir_copy_and_read_back);
    tcase_add_test(tc, dir_second_copy_moves_tag);
    tcase_add_test(tc, dir_keeps_unknown_index_fields);
    tcase_add_test(tc, dir_open_refusals);
    tcase_add_test(tc, dir_corrupt_layout_refused);
    tcase_add_test(tc, dir_uncommitted_leaves_nothing);
    tcase_add_test(tc, dir_path_with_trailing_slash);
    tcase_add_test(tc, index_copied_with_children);
    suite_add_tcase(s, tc);
    tc = tcase_create("oci-tar");
    tcase_add_test(tc, tar_copy_and_read_back);
    tcase_add_test(tc, tar_is_reproducible);
    tcase_add_test(tc, tar_bad_blob_leaves_nothing);
    tcase_add_test(tc, tar_written_by_other_tools);
    tcase_add_test(tc, tar_open_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("mem");
    tcase_add_test(tc, mem_store);
    tcase_add_test(tc, copy_foreign_layer_from_origin);
    suite_add_tcase(s, tc);
    tc = tcase_create("temp-files");
    tcase_add_test(tc, temp_names_marked);
    tcase_add_test(tc, temp_cleanup_takes_only_free_marked_entries);
    tcase_add_test(tc, dirname_and_basename);
    tcase_add_test(tc, tar_names_normalised);
    suite_add_tcase(s, tc);
    return s;
}
