/* test-legacy-tar.c - the store of Go imgpkg's own tarball (`copy --to-tar`):
 * manifest.json with the raw manifests and configs as JSON strings, one
 * sha256-<hex>.tar.gz member per layer.  The tarballs are built here, their
 * JSON escaped as Go's encoding/json does (<, >, & as \u003c...). */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "imgpkg/copy.h"
#include "imgpkg/store.h"
#include "suites.h"
#include "store/store-private.h"

#define ANN_ORIG "dev.carvel.imgpkg.copy.original-ref"
#define ANN_ROOT "dev.carvel.imgpkg.copy.root-bundle"

struct lt_image {
    char *layer; /* the blob bytes as stored (a stand-in for gzip data) */
    char layer_digest[IP_DIGEST_SIZE];
    const char *layer_mt;
    char *config;
    char config_digest[IP_DIGEST_SIZE];
    char *manifest;
    char digest[IP_DIGEST_SIZE];
};

static void lt_image_make(struct lt_image *im, const char *layer, const char *layer_mt)
{
    memset(im, 0, sizeof(*im));
    im->layer = ip_xstrdup(layer);
    im->layer_mt = layer_mt ? layer_mt : IP_MT_DOCKER_LAYER;
    ip_sha256_of(layer, strlen(layer), im->layer_digest);
    /* characters Go escapes, quotes, a newline and non-ASCII: kept byte for byte */
    im->config = ip_xasprintf("{\"architecture\":\"amd64\",\"config\":{\"Labels\":{\"note\":"
                              "\"a<b>&c \\\"q\\\" \xc3\xa9\",\"of\":\"%s\"}},\n\"os\":\"linux\","
                              "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                              layer, im->layer_digest);
    ip_sha256_of(im->config, strlen(im->config), im->config_digest);
    im->manifest = ip_xasprintf(
        "{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n   \"config\": {\"mediaType\": "
        "\"%s\", \"size\": %zu, \"digest\": \"%s\"},\n   \"layers\": [{\"mediaType\": \"%s\", "
        "\"size\": %zu, \"digest\": \"%s\"}]\n}",
        IP_MT_DOCKER_MANIFEST, IP_MT_DOCKER_CONFIG, strlen(im->config), im->config_digest,
        im->layer_mt, strlen(im->layer), im->layer_digest);
    ip_sha256_of(im->manifest, strlen(im->manifest), im->digest);
}

static void lt_image_release(struct lt_image *im)
{
    free(im->layer);
    free(im->config);
    free(im->manifest);
}

/* A JSON string as Go's encoding/json writes it. */
static void go_str(struct ip_buf *b, const char *s)
{
    ip_buf_adds(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"')
            ip_buf_adds(b, "\\\"");
        else if (*p == '\\')
            ip_buf_adds(b, "\\\\");
        else if (*p == '\n')
            ip_buf_adds(b, "\\n");
        else if (*p == '\t')
            ip_buf_adds(b, "\\t");
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            ip_buf_printf(b, "\\u%04x", *p);
        else
            ip_buf_printf(b, "%c", *p);
    }
    ip_buf_adds(b, "\"");
}

/* An ImageDescriptor object. */
static void image_json(struct ip_buf *b, const struct lt_image *im, const char *tag,
                       const char *orig_ref, const char *labels)
{
    ip_buf_printf(
        b,
        "{\"Refs\":[\"example.com/app@%s\"],\"Layers\":[{\"MediaType\":\"%s\","
        "\"Digest\":\"%s\",\"DiffID\":\"%s\",\"Size\":%zu}],\"Config\":{\"Digest\":\"%s\","
        "\"Raw\":",
        im->digest, im->layer_mt, im->layer_digest, im->layer_digest, strlen(im->layer),
        im->config_digest);
    go_str(b, im->config);
    ip_buf_printf(b, "},\"Manifest\":{\"MediaType\":\"%s\",\"Digest\":\"%s\",\"Raw\":",
                  IP_MT_DOCKER_MANIFEST, im->digest);
    go_str(b, im->manifest);
    ip_buf_adds(b, "},\"Tag\":");
    go_str(b, tag ? tag : "");
    ip_buf_adds(b, ",\"OrigRef\":");
    go_str(b, orig_ref ? orig_ref : "");
    ip_buf_printf(b, ",\"Labels\":%s}", labels ? labels : "null");
}

struct lt_member {
    const char *name;
    const char *data;
    size_t len;
};

static void write_tar(const char *path, const struct lt_member *m, size_t n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_ustar(a);
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, m[i].name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)m[i].len);
        ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
        if (m[i].len)
            ck_assert_int_eq(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        archive_entry_free(ae);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static char *layer_name(const struct lt_image *im)
{
    return ip_xasprintf("sha256-%s.tar.gz", ip_digest_hex(im->layer_digest));
}

/* A tarball of manifest.json `json` and the layers of the images given. */
static void write_legacy(const char *path, const char *json, struct lt_image **ims, size_t n)
{
    struct lt_member m[8];
    char *names[8];
    ck_assert_uint_le(n, 7);
    m[0] = (struct lt_member){"manifest.json", json, strlen(json)};
    for (size_t i = 0; i < n; i++) {
        names[i] = layer_name(ims[i]);
        m[i + 1] = (struct lt_member){names[i], ims[i]->layer, strlen(ims[i]->layer)};
    }
    write_tar(path, m, n + 1);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

/* An index over b, its descriptor, and a tarball of [a (tagged, labelled), index]. */
struct fixture {
    char *dir, *tar;
    struct lt_image a, b;
    char *index;
    char index_digest[IP_DIGEST_SIZE];
};

static void index_json(struct ip_buf *j, const struct fixture *f)
{
    ip_buf_printf(j, "{\"ImageIndex\":{\"Refs\":[\"example.com/idx@%s\"],\"Images\":[",
                  f->index_digest);
    image_json(j, &f->b, "", "", NULL);
    ip_buf_printf(j, "],\"Indexes\":null,\"MediaType\":\"%s\",\"Digest\":\"%s\",\"Raw\":",
                  IP_MT_OCI_INDEX, f->index_digest);
    go_str(j, f->index);
    ip_buf_adds(j, ",\"Tag\":\"\",\"OrigRef\":\"\",\"Labels\":null},\"Image\":null}");
}

static void fixture_init(struct fixture *f)
{
    f->dir = test_tmpdir();
    f->tar = ip_path_join(f->dir, "legacy.tar");
    lt_image_make(&f->a, "layer of a", NULL);
    lt_image_make(&f->b, "layer of b", NULL);
    f->index =
        ip_xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":"
                     "\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":"
                     "\"amd64\",\"os\":\"linux\"}}]}",
                     IP_MT_OCI_INDEX, IP_MT_DOCKER_MANIFEST, f->b.digest, strlen(f->b.manifest));
    ip_sha256_of(f->index, strlen(f->index), f->index_digest);
}

static char *fixture_json(const struct fixture *f)
{
    struct ip_buf j = IP_BUF_INIT;
    ip_buf_adds(&j, "[{\"ImageIndex\":null,\"Image\":");
    image_json(&j, &f->a, "v1", "example.com/src/app:v1",
               "{\"dev.carvel.imgpkg.copy.root-bundle\":\"\"}");
    ip_buf_adds(&j, "},");
    index_json(&j, f);
    ip_buf_adds(&j, "]");
    return ip_buf_detach(&j, NULL);
}

static void fixture_write(const struct fixture *f)
{
    char *json = fixture_json(f);
    struct lt_image *ims[] = {(struct lt_image *)&f->a, (struct lt_image *)&f->b};
    write_legacy(f->tar, json, ims, 2);
    free(json);
}

static void fixture_release(struct fixture *f)
{
    lt_image_release(&f->a);
    lt_image_release(&f->b);
    free(f->index);
    free(f->tar);
    test_tmpdir_cleanup(f->dir);
}

static char *read_blob(struct ip_store *s, const char *digest, int64_t size)
{
    struct ip_desc d;
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, digest, IP_DIGEST_SIZE);
    d.size = size;
    ck_assert_msg(ip_store_open_blob(s, &d, &r, &err) == 0, "%s", err.msg);
    r = ip_reader_verify(r, digest, size, digest);
    ck_assert_msg(ip_reader_slurp(r, 0, &b, &err) == 0, "%s", err.msg);
    ip_reader_free(r);
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, NULL);
}

static bool has(struct ip_store *s, const char *digest, int64_t size)
{
    struct ip_desc d;
    struct ip_err err;
    bool out = true;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, digest, IP_DIGEST_SIZE);
    d.size = size;
    ck_assert_int_eq(ip_store_has_blob(s, &d, &out, &err), 0);
    return out;
}

static void assert_manifest(struct ip_store *s, const char *ref, const char *raw)
{
    struct ip_manifest *m = NULL;
    struct ip_err err;
    char digest[IP_DIGEST_SIZE];
    ck_assert_msg(ip_store_get_manifest(s, ref, &m, &err) == 0, "%s: %s", ref, err.msg);
    ck_assert_uint_eq(m->raw_len, strlen(raw));
    ck_assert_int_eq(memcmp(m->raw, raw, m->raw_len), 0);
    ip_sha256_of(raw, strlen(raw), digest);
    ck_assert_str_eq(m->digest, digest);
    ip_manifest_free(m);
}

static int open_err(const char *path, struct ip_err *err)
{
    struct ip_store *s = NULL;
    ip_err_clear(err);
    int rc = ip_store_imgpkg_tar_open(path, &s, err);
    ck_assert_ptr_null(s);
    return rc;
}

START_TEST(legacy_reads_images_and_indexes)
{
    struct fixture f;
    struct ip_store *s = NULL;
    struct ip_err err;
    struct ip_desc *list = NULL;
    size_t n = 0;
    fixture_init(&f);
    fixture_write(&f);

    ck_assert(ip_tar_is_imgpkg_legacy(f.tar));
    ck_assert_msg(ip_store_imgpkg_tar_open(f.tar, &s, &err) == 0, "%s", err.msg);
    ck_assert(s->parallel_read);

    /* one entry per top-level descriptor, named as imgpkg names them */
    ck_assert_int_eq(ip_store_list(s, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(list[0].digest, f.a.digest);
    ck_assert_str_eq(list[0].media_type, IP_MT_DOCKER_MANIFEST);
    ck_assert_int_eq(list[0].size, (int64_t)strlen(f.a.manifest));
    ck_assert_str_eq(ip_desc_annotation(&list[0], IP_ANN_REF_NAME), "v1");
    ck_assert_str_eq(ip_desc_annotation(&list[0], ANN_ORIG), "example.com/src/app:v1");
    ck_assert_str_eq(ip_desc_annotation(&list[0], ANN_ROOT), "");
    ck_assert_str_eq(list[1].digest, f.index_digest);
    ck_assert_str_eq(list[1].media_type, IP_MT_OCI_INDEX);
    ck_assert_ptr_null(ip_desc_annotation(&list[1], IP_ANN_REF_NAME));
    ck_assert_ptr_null(ip_desc_annotation(&list[1], ANN_ROOT));
    char *idx_ref = ip_xasprintf("example.com/idx@%s", f.index_digest);
    ck_assert_str_eq(ip_desc_annotation(&list[1], ANN_ORIG), idx_ref); /* first of Refs */
    free(idx_ref);
    ip_descs_free(list, n);

    /* manifests by digest (an index's child too) and by tag: the exact Raw bytes */
    assert_manifest(s, f.a.digest, f.a.manifest);
    assert_manifest(s, "v1", f.a.manifest);
    assert_manifest(s, f.b.digest, f.b.manifest);
    assert_manifest(s, f.index_digest, f.index);
    struct ip_manifest *m = NULL;
    ck_assert_int_eq(ip_store_get_manifest(s, "v2", &m, &err), -IP_E_NOTFOUND);
    ck_assert_int_eq(ip_store_get_manifest(s, NULL, &m, &err), -IP_E_NOTFOUND); /* two entries */
    ck_assert_int_eq(ip_store_get_manifest(s, f.a.layer_digest, &m, &err), -IP_E_NOTFOUND);
    ck_assert_ptr_null(m);

    /* configs from Raw (escapes undone byte for byte), layers from their members */
    char *got = read_blob(s, f.a.config_digest, (int64_t)strlen(f.a.config));
    ck_assert_str_eq(got, f.a.config);
    free(got);
    got = read_blob(s, f.b.layer_digest, (int64_t)strlen(f.b.layer));
    ck_assert_str_eq(got, f.b.layer);
    free(got);
    ck_assert(has(s, f.a.layer_digest, (int64_t)strlen(f.a.layer)));
    ck_assert(has(s, f.b.config_digest, (int64_t)strlen(f.b.config)));
    ck_assert(!has(s, f.a.layer_digest, 3)); /* wrong size */
    ck_assert(
        !has(s, "sha256:0000000000000000000000000000000000000000000000000000000000000000", 3));
    struct ip_desc d;
    struct ip_reader *r = NULL;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
           IP_DIGEST_SIZE);
    ck_assert_int_eq(ip_store_open_blob(s, &d, &r, &err), -IP_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, d.digest));

    /* two layers read at once, interleaved (each reader has its own descriptor) */
    struct ip_reader *r1 = NULL, *r2 = NULL;
    char c1[4], c2[4];
    memcpy(d.digest, f.a.layer_digest, IP_DIGEST_SIZE);
    ck_assert_int_eq(ip_store_open_blob(s, &d, &r1, &err), 0);
    memcpy(d.digest, f.b.layer_digest, IP_DIGEST_SIZE);
    ck_assert_int_eq(ip_store_open_blob(s, &d, &r2, &err), 0);
    ck_assert_int_eq(ip_reader_read(r1, c1, 4, &err), 4);
    ck_assert_int_eq(ip_reader_read(r2, c2, 4, &err), 4);
    ck_assert_int_eq(memcmp(c1, "laye", 4), 0);
    ck_assert_int_eq(memcmp(c2, "laye", 4), 0);
    ip_reader_free(r1);
    ip_reader_free(r2);
    ip_store_free(s);
    fixture_release(&f);
}
END_TEST

START_TEST(legacy_copies_with_digests_intact)
{
    struct fixture f;
    struct ip_store *s = NULL, *dst = NULL;
    struct ip_err err;
    fixture_init(&f);
    fixture_write(&f);
    char *lay = ip_path_join(f.dir, "layout");
    ck_assert_msg(ip_store_imgpkg_tar_open(f.tar, &s, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ip_store_oci_dir_open(lay, true, &dst, &err), 0);
    struct ip_kv ann = {(char *)IP_ANN_REF_NAME, (char *)"v1"};
    struct ip_copy_item items[2] = {
        {.src_ref = "v1", .annotations = &ann, .n_annotations = 1},
        {.src_ref = f.index_digest},
    };
    struct ip_copy_result res[2];
    ck_assert_msg(ip_copy(s, dst, items, 2, NULL, res, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(res[0].digest, f.a.digest);
    ck_assert_str_eq(res[1].digest, f.index_digest);
    ip_store_free(dst);
    ip_store_free(s);

    ck_assert_int_eq(ip_store_oci_dir_open(lay, false, &dst, &err), 0);
    assert_manifest(dst, "v1", f.a.manifest);
    assert_manifest(dst, f.b.digest, f.b.manifest);
    assert_manifest(dst, f.index_digest, f.index);
    char *got = read_blob(dst, f.b.config_digest, (int64_t)strlen(f.b.config));
    ck_assert_str_eq(got, f.b.config);
    free(got);
    ip_store_free(dst);
    free(lay);
    fixture_release(&f);
}
END_TEST

START_TEST(legacy_refuses_digest_mismatches)
{
    struct fixture f;
    struct ip_err err;
    char good[IP_DIGEST_SIZE];
    fixture_init(&f);

    /* a manifest whose Raw does not hash to its Digest */
    memcpy(good, f.a.digest, IP_DIGEST_SIZE);
    f.a.digest[10] = f.a.digest[10] == 'a' ? 'b' : 'a';
    fixture_write(&f);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_DIGEST);
    ck_assert_msg(strstr(err.msg, f.a.digest) != NULL, "%s", err.msg);
    memcpy(f.a.digest, good, IP_DIGEST_SIZE);

    /* an index likewise */
    memcpy(good, f.index_digest, IP_DIGEST_SIZE);
    f.index_digest[20] = f.index_digest[20] == 'a' ? 'b' : 'a';
    fixture_write(&f);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_DIGEST);
    ck_assert_msg(strstr(err.msg, f.index_digest) != NULL, "%s", err.msg);
    memcpy(f.index_digest, good, IP_DIGEST_SIZE);

    /* a config whose Raw was changed (the manifest still names the old digest) */
    char *cfg = f.b.config;
    f.b.config = ip_xasprintf("%s ", cfg);
    fixture_write(&f);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_DIGEST);
    ck_assert_msg(strstr(err.msg, f.b.config_digest) != NULL, "%s", err.msg);
    free(f.b.config);
    f.b.config = cfg;

    /* a layer member of another size than the manifest says */
    char *json = fixture_json(&f);
    char *name = layer_name(&f.a), *bname = layer_name(&f.b);
    const char *layer = f.a.layer;
    struct ip_buf other = IP_BUF_INIT;
    ip_buf_printf(&other, "%sXX", layer);
    struct lt_member mem3[] = {{"manifest.json", json, strlen(json)},
                               {name, other.data, other.len},
                               {bname, f.b.layer, strlen(f.b.layer)}};
    write_tar(f.tar, mem3, 3);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_DIGEST);
    ck_assert_msg(strstr(err.msg, f.a.layer_digest) != NULL, "%s", err.msg);

    /* a layer member of the right size but other bytes: refused when read through
     * a verifying reader, as the copy engine reads every blob */
    ip_buf_reset(&other);
    ip_buf_adds(&other, layer);
    other.data[0] = 'L';
    mem3[1].data = other.data;
    mem3[1].len = other.len;
    write_tar(f.tar, mem3, 3);
    struct ip_store *s = NULL;
    ck_assert_msg(ip_store_imgpkg_tar_open(f.tar, &s, &err) == 0, "%s", err.msg);
    struct ip_desc d;
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, f.a.layer_digest, IP_DIGEST_SIZE);
    d.size = (int64_t)strlen(layer);
    ck_assert_int_eq(ip_store_open_blob(s, &d, &r, &err), 0);
    r = ip_reader_verify(r, d.digest, d.size, d.digest);
    ck_assert_int_eq(ip_reader_slurp(r, 0, &b, &err), -IP_E_DIGEST);
    ip_reader_free(r);
    ip_buf_release(&b);
    ip_store_free(s);

    ip_buf_release(&other);
    free(bname);
    free(name);
    free(json);
    fixture_release(&f);
}
END_TEST

START_TEST(legacy_missing_layers)
{
    struct fixture f;
    struct ip_err err;
    fixture_init(&f);

    /* b's layer is not in the tarball: refused on open, naming the layer */
    char *json = fixture_json(&f);
    struct lt_image *only_a[] = {&f.a};
    write_legacy(f.tar, json, only_a, 1);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_NOTFOUND);
    ck_assert_msg(strstr(err.msg, f.b.layer_digest) != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "sha256-") != NULL, "%s", err.msg);
    free(json);

    /* a non-distributable layer may be absent (imgpkg leaves it out unless asked):
     * the store opens, and reading it says why it is not there */
    struct lt_image fo;
    lt_image_make(&fo, "foreign layer", IP_MT_DOCKER_FOREIGN);
    struct ip_buf j = IP_BUF_INIT;
    ip_buf_adds(&j, "[{\"ImageIndex\":null,\"Image\":");
    image_json(&j, &fo, "v1", NULL, NULL);
    ip_buf_adds(&j, "}]");
    write_legacy(f.tar, j.data, NULL, 0);
    struct ip_store *s = NULL;
    ck_assert_msg(ip_store_imgpkg_tar_open(f.tar, &s, &err) == 0, "%s", err.msg);
    struct ip_desc d;
    struct ip_reader *r = NULL;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, fo.layer_digest, IP_DIGEST_SIZE);
    d.size = (int64_t)strlen(fo.layer);
    ck_assert(!has(s, fo.layer_digest, d.size));
    ck_assert_int_eq(ip_store_open_blob(s, &d, &r, &err), -IP_E_NOTFOUND);
    /* imgpkg's message, word for word */
    char want[512];
    snprintf(want, sizeof(want),
             "file sha256-%s.tar.gz not found in tar (hint: This may be because when copying to "
             "a tarball, the --include-non-distributable-layers flag should have been provided.)",
             fo.layer_digest + 7);
    ck_assert_str_eq(err.msg, want);
    /* the rest is there: manifest and config */
    assert_manifest(s, NULL, fo.manifest);
    char *got = read_blob(s, fo.config_digest, (int64_t)strlen(fo.config));
    ck_assert_str_eq(got, fo.config);
    free(got);
    ip_store_free(s);
    ip_buf_release(&j);
    lt_image_release(&fo);

    /* an index whose child image is not in manifest.json */
    j = (struct ip_buf)IP_BUF_INIT;
    ip_buf_adds(&j, "[");
    ip_buf_printf(&j,
                  "{\"ImageIndex\":{\"Refs\":null,\"Images\":null,\"Indexes\":null,"
                  "\"MediaType\":\"%s\",\"Digest\":\"%s\",\"Raw\":",
                  IP_MT_OCI_INDEX, f.index_digest);
    go_str(&j, f.index);
    ip_buf_adds(&j, ",\"Tag\":\"\",\"OrigRef\":\"\",\"Labels\":null},\"Image\":null}]");
    write_legacy(f.tar, j.data, NULL, 0);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_NOTFOUND);
    ck_assert_msg(strstr(err.msg, f.b.digest) != NULL, "%s", err.msg);
    ip_buf_release(&j);
    fixture_release(&f);
}
END_TEST

/* Opening a tarball of manifest.json `json` (and a's layer) fails with code. */
static void refused(const struct fixture *f, const char *json, int code, const char *needle)
{
    struct ip_err err;
    struct lt_image *ims[] = {(struct lt_image *)&f->a};
    write_legacy(f->tar, json, ims, 1);
    ck_assert_msg(open_err(f->tar, &err) == -code, "%s: got '%s'", json, err.msg);
    if (needle)
        ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' lacks '%s'", err.msg, needle);
}

START_TEST(legacy_refuses_malformed_input)
{
    struct fixture f;
    struct ip_err err;
    fixture_init(&f);

    refused(&f, "", IP_E_FORMAT, "invalid JSON");
    refused(&f, "[{\"Image\":", IP_E_FORMAT, "invalid JSON");
    refused(&f, "{\"Image\":null}", IP_E_FORMAT, "not a JSON array");
    refused(&f, "[42]", IP_E_FORMAT, "entry 1 is not an object");
    refused(&f, "[{\"Image\":null,\"ImageIndex\":null}]", IP_E_FORMAT, "exactly one");
    refused(&f, "[{}]", IP_E_FORMAT, "exactly one");
    refused(&f, "[{\"Image\":{\"Manifest\":{\"Digest\":\"sha256:x\",\"Raw\":1},\"Config\":{}}}]",
            IP_E_FORMAT, "Raw is not a string");
    refused(&f, "[{\"Image\":{\"Manifest\":{},\"Config\":{}}}]", IP_E_FORMAT, "Digest is missing");
    refused(&f, "[{\"Image\":{\"Config\":{}}}]", IP_E_FORMAT, "no Manifest");

    /* a Raw that is valid JSON but no manifest, with its right digest */
    char digest[IP_DIGEST_SIZE];
    ip_sha256_of("{}", 2, digest);
    char *json = ip_xasprintf("[{\"Image\":{\"Manifest\":{\"Digest\":\"%s\",\"Raw\":\"{}\"},"
                              "\"Config\":{\"Digest\":\"%s\",\"Raw\":\"{}\"}}}]",
                              digest, digest);
    refused(&f, json, IP_E_FORMAT, digest);
    free(json);

    /* an image that is really an index (and the other way round) */
    struct ip_buf j = IP_BUF_INIT;
    ip_buf_printf(&j, "[{\"ImageIndex\":{\"MediaType\":\"%s\",\"Digest\":\"%s\",\"Raw\":",
                  IP_MT_OCI_INDEX, f.a.digest);
    go_str(&j, f.a.manifest);
    ip_buf_adds(&j, "}}]");
    refused(&f, j.data, IP_E_FORMAT, "image manifest");
    ip_buf_release(&j);

    /* nesting beyond reason */
    struct ip_buf deep = IP_BUF_INIT;
    for (int i = 0; i < 100000; i++)
        ip_buf_adds(&deep, "[");
    refused(&f, deep.data, IP_E_FORMAT, "nested");
    ip_buf_release(&deep);

    /* no manifest.json; an OCI layout; duplicate members; not a tar at all */
    char *name = layer_name(&f.a);
    struct lt_member only_layer[] = {{name, f.a.layer, strlen(f.a.layer)}};
    write_tar(f.tar, only_layer, 1);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "no manifest.json") != NULL, "%s", err.msg);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));

    json = fixture_json(&f);
    struct lt_member dup[] = {{"manifest.json", json, strlen(json)},
                              {name, f.a.layer, strlen(f.a.layer)},
                              {name, f.a.layer, strlen(f.a.layer)}};
    write_tar(f.tar, dup, 3);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "duplicate") != NULL, "%s", err.msg);
    struct lt_member dupm[] = {{"manifest.json", json, strlen(json)}, {"./manifest.json", "[]", 2}};
    write_tar(f.tar, dupm, 2);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "duplicate") != NULL, "%s", err.msg);

    test_write_file(f.tar, "this is not a tar file at all, not even close....", 0644);
    ck_assert_int_eq(open_err(f.tar, &err), -IP_E_FORMAT);
    ck_assert_int_eq(open_err(f.dir, &err), -IP_E_INPUT);
    char *missing = ip_path_join(f.dir, "missing.tar");
    ck_assert_int_eq(open_err(missing, &err), -IP_E_IO);
    ck_assert_msg(strstr(err.msg, "missing.tar") != NULL, "%s", err.msg);

    /* an empty array is a tarball of nothing */
    struct lt_member empty[] = {{"manifest.json", "[]", 2}};
    write_tar(f.tar, empty, 1);
    struct ip_store *s = NULL;
    struct ip_desc *list = NULL;
    size_t n = 1;
    ck_assert_int_eq(ip_store_imgpkg_tar_open(f.tar, &s, &err), 0);
    ck_assert_int_eq(ip_store_list(s, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    ip_descs_free(list, n);
    ip_store_free(s);

    free(missing);
    free(json);
    free(name);
    fixture_release(&f);
}
END_TEST

START_TEST(legacy_detection)
{
    struct fixture f;
    fixture_init(&f);
    fixture_write(&f);
    ck_assert(ip_tar_is_imgpkg_legacy(f.tar));
    ck_assert(ip_tar_has_member(f.tar, "manifest.json"));
    ck_assert(!ip_tar_has_member(f.tar, "oci-layout"));

    /* "./" prefixes as tar(1) writes them */
    char *json = fixture_json(&f);
    struct lt_member dot[] = {{"./manifest.json", json, strlen(json)}};
    write_tar(f.tar, dot, 1);
    ck_assert(ip_tar_is_imgpkg_legacy(f.tar));

    /* an OCI layout with a Docker manifest.json beside it (as we write them) */
    const char *docker = "[{\"Config\":\"blobs/sha256/x\",\"RepoTags\":[],\"Layers\":[]}]";
    struct lt_member oci[] = {{"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30},
                              {"index.json", "{}", 2},
                              {"manifest.json", json, strlen(json)}};
    write_tar(f.tar, oci, 3);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    ck_assert(ip_tar_has_member(f.tar, "oci-layout"));
    struct ip_store *s = NULL;
    struct ip_err err;
    ck_assert_int_eq(ip_store_imgpkg_tar_open(f.tar, &s, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, "OCI image layout") != NULL, "%s", err.msg);

    /* docker save: a manifest.json array of another kind */
    struct lt_member ds[] = {{"manifest.json", docker, strlen(docker)}};
    write_tar(f.tar, ds, 1);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    /* a JSON object, malformed JSON, no manifest.json, no tar, no file */
    struct lt_member obj[] = {{"manifest.json", "{\"Image\":null}", 14}};
    write_tar(f.tar, obj, 1);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    struct lt_member bad[] = {{"manifest.json", "[{\"Image\"", 9}};
    write_tar(f.tar, bad, 1);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    struct lt_member other[] = {{"hello.txt", "hi", 2}};
    write_tar(f.tar, other, 1);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    ck_assert(!ip_tar_has_member(f.tar, "oci-layout"));
    test_write_file(f.tar, "not a tar", 0644);
    ck_assert(!ip_tar_is_imgpkg_legacy(f.tar));
    ck_assert(!ip_tar_has_member(f.tar, "oci-layout"));
    ck_assert(!ip_tar_is_imgpkg_legacy(f.dir));
    char *missing = ip_path_join(f.dir, "missing.tar");
    ck_assert(!ip_tar_is_imgpkg_legacy(missing));
    free(missing);
    free(json);
    fixture_release(&f);
}
END_TEST

Suite *suite_legacy_tar(void)
{
    Suite *s = suite_create("legacy_tar");
    TCase *tc = tcase_create("legacy_tar");
    tcase_add_test(tc, legacy_reads_images_and_indexes);
    tcase_add_test(tc, legacy_copies_with_digests_intact);
    tcase_add_test(tc, legacy_refuses_digest_mismatches);
    tcase_add_test(tc, legacy_missing_layers);
    tcase_add_test(tc, legacy_refuses_malformed_input);
    tcase_add_test(tc, legacy_detection);
    suite_add_tcase(s, tc);
    return s;
}
