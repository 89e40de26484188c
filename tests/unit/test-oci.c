/* test-oci.c - manifests, indexes, configs and the index.json document. */
#include <string.h>

#include "imgpkg/oci.h"
#include "suites.h"
#include "oci/oci-private.h"

#define D_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define D_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define D_C "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define D_D "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

/* An OCI image manifest with odd (but valid) formatting: its digest is of these bytes. */
static const char oci_manifest[] =
    "{\n"
    "  \"schemaVersion\": 2,\n"
    "  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
    "  \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
    "             \"digest\": \"" D_A "\", \"size\": 123},\n"
    "  \"layers\": [\n"
    "    {\"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\", \"digest\": \"" D_B
    "\", \"size\": 4567,\n"
    "     \"annotations\": {\"org.opencontainers.image.title\": \"a.tgz\"}},\n"
    "    {\"mediaType\": \"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\",\n"
    "     \"digest\": \"" D_C "\", \"size\": 0, \"urls\": [\"https://example.com/l\"]}\n"
    "  ],\n"
    "  \"annotations\": {\"x\": \"y\"}\n"
    "}\n";

static struct ip_manifest *parse_manifest_ok(const char *raw, const char *hint)
{
    struct ip_manifest *m = NULL;
    struct ip_err err;
    ip_err_clear(&err);
    int rc = ip_manifest_parse(raw, strlen(raw), hint, &m, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(m);
    return m;
}

static int parse_manifest_err(const char *raw, const char *hint, struct ip_err *err)
{
    struct ip_manifest *m = NULL;
    ip_err_clear(err);
    int rc = ip_manifest_parse(raw, strlen(raw), hint, &m, err);
    ck_assert_ptr_null(m);
    ck_assert_int_lt(rc, 0);
    ck_assert_int_eq(rc, -(int)err->code);
    return rc;
}

START_TEST(image_manifest)
{
    struct ip_manifest *m = parse_manifest_ok(oci_manifest, NULL);
    char d[IP_DIGEST_SIZE];

    /* raw kept byte-exact; digest of those bytes */
    ck_assert_uint_eq(m->raw_len, strlen(oci_manifest));
    ck_assert(memcmp(m->raw, oci_manifest, m->raw_len) == 0);
    ip_sha256_of(oci_manifest, strlen(oci_manifest), d);
    ck_assert_str_eq(m->digest, d);

    ck_assert_str_eq(m->media_type, IP_MT_OCI_MANIFEST);
    ck_assert(!m->is_index);
    ck_assert_str_eq(m->config.media_type, IP_MT_OCI_CONFIG);
    ck_assert_str_eq(m->config.digest, D_A);
    ck_assert_int_eq(m->config.size, 123);
    ck_assert_uint_eq(m->n_layers, 2);
    ck_assert_str_eq(m->layers[0].media_type, IP_MT_OCI_LAYER_GZIP);
    ck_assert_str_eq(m->layers[0].digest, D_B);
    ck_assert_int_eq(m->layers[0].size, 4567);
    ck_assert_str_eq(ip_desc_annotation(&m->layers[0], "org.opencontainers.image.title"), "a.tgz");
    ck_assert_ptr_null(ip_desc_annotation(&m->layers[0], "missing"));
    ck_assert_int_eq(m->layers[1].size, 0);
    ck_assert_uint_eq(m->layers[1].n_urls, 1);
    ck_assert_str_eq(m->layers[1].urls[0], "https://example.com/l");
    ck_assert(ip_media_type_is_foreign(m->layers[1].media_type));
    ck_assert(!ip_media_type_is_foreign(m->layers[0].media_type));
    ck_assert_uint_eq(m->n_manifests, 0);
    ip_manifest_free(m);
}
END_TEST

START_TEST(raw_with_trailing_bytes_kept)
{
    /* a document whose bytes differ only in whitespace has another digest */
    size_t n = strlen(oci_manifest);
    char *copy = ip_xmalloc(n + 3);
    memcpy(copy, oci_manifest, n);
    memcpy(copy + n, "  ", 3);
    struct ip_manifest *a = parse_manifest_ok(oci_manifest, NULL);
    struct ip_manifest *b = parse_manifest_ok(copy, NULL);
    ck_assert_uint_eq(b->raw_len, n + 2);
    ck_assert_str_ne(a->digest, b->digest);
    ck_assert_str_eq(a->config.digest, b->config.digest);
    ip_manifest_free(a);
    ip_manifest_free(b);
    free(copy);
}
END_TEST

START_TEST(image_index)
{
    const char *raw =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_A "\","
        "\"size\":500,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}"
        "},"
        "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"" D_B "\","
        "\"size\":300,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}"
        "]}";
    struct ip_manifest *m = parse_manifest_ok(raw, NULL);
    ck_assert(m->is_index);
    ck_assert_str_eq(m->media_type, IP_MT_OCI_INDEX);
    ck_assert_uint_eq(m->n_manifests, 2);
    ck_assert_uint_eq(m->n_layers, 0);
    ck_assert_str_eq(m->manifests[0].digest, D_A);
    ck_assert_int_eq(m->manifests[0].size, 500);
    ck_assert_str_eq(m->manifests[0].platform_arch, "arm64");
    ck_assert_str_eq(m->manifests[0].platform_os, "linux");
    ck_assert_str_eq(m->manifests[0].platform_variant, "v8");
    ck_assert_str_eq(m->manifests[1].media_type, IP_MT_OCI_INDEX);
    ck_assert_str_eq(ip_desc_annotation(&m->manifests[1], IP_ANN_REF_NAME), "v1");
    ck_assert_ptr_null(m->manifests[1].platform_os);
    ip_manifest_free(m);

    /* an empty index is an index */
    m = parse_manifest_ok(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":[]}",
        NULL);
    ck_assert(m->is_index);
    ck_assert_uint_eq(m->n_manifests, 0);
    ip_manifest_free(m);
}
END_TEST

START_TEST(docker_media_types)
{
    const char *dm =
        "{\"schemaVersion\":2,\"mediaType\":\"application/"
        "vnd.docker.distribution.manifest.v2+json\","
        "\"config\":{\"mediaType\":\"application/"
        "vnd.docker.container.image.v1+json\",\"digest\":\"" D_A "\",\"size\":10},"
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"" D_B "\",\"size\":20},"
        "{\"mediaType\":\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\","
        "\"digest\":\"" D_C "\",\"size\":30,\"urls\":[\"https://x/y\"]}]}";
    struct ip_manifest *m = parse_manifest_ok(dm, NULL);
    ck_assert(!m->is_index);
    ck_assert_str_eq(m->media_type, IP_MT_DOCKER_MANIFEST);
    ck_assert_str_eq(m->config.media_type, IP_MT_DOCKER_CONFIG);
    ck_assert_uint_eq(m->n_layers, 2);
    ck_assert(ip_media_type_is_gzip_layer(m->layers[0].media_type));
    ck_assert(ip_media_type_is_foreign(m->layers[1].media_type));
    ip_manifest_free(m);

    const char *dl =
        "{\"schemaVersion\":2,\"mediaType\":\"application/"
        "vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"digest\":\"" D_A
        "\",\"size\":7,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
    m = parse_manifest_ok(dl, NULL);
    ck_assert(m->is_index);
    ck_assert_str_eq(m->media_type, IP_MT_DOCKER_LIST);
    ck_assert_uint_eq(m->n_manifests, 1);
    ck_assert(ip_media_type_is_manifest(m->manifests[0].media_type));
    ip_manifest_free(m);
}
END_TEST

START_TEST(media_type_from_hint_or_shape)
{
    const char *img = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
                      "vnd.docker.container.image.v1+json\","
                      "\"digest\":\"" D_A "\",\"size\":1},\"layers\":[]}";
    const char *idx = "{\"schemaVersion\":2,\"manifests\":[]}";
    /* no mediaType in the document: the hint (Content-Type) decides */
    struct ip_manifest *m = parse_manifest_ok(img, IP_MT_DOCKER_MANIFEST);
    ck_assert_str_eq(m->media_type, IP_MT_DOCKER_MANIFEST);
    ck_assert(!m->is_index);
    ip_manifest_free(m);
    /* no hint either: the shape does */
    m = parse_manifest_ok(img, NULL);
    ck_assert_str_eq(m->media_type, IP_MT_OCI_MANIFEST);
    ck_assert(!m->is_index);
    ip_manifest_free(m);
    m = parse_manifest_ok(idx, NULL);
    ck_assert_str_eq(m->media_type, IP_MT_OCI_INDEX);
    ck_assert(m->is_index);
    ip_manifest_free(m);
    m = parse_manifest_ok(idx, IP_MT_DOCKER_LIST);
    ck_assert_str_eq(m->media_type, IP_MT_DOCKER_LIST);
    ip_manifest_free(m);
    /* the document's own mediaType wins over the hint */
    m = parse_manifest_ok(oci_manifest, IP_MT_DOCKER_MANIFEST);
    ck_assert_str_eq(m->media_type, IP_MT_OCI_MANIFEST);
    ip_manifest_free(m);
}
END_TEST

START_TEST(manifest_refusals)
{
    struct ip_err err;
#define CFG                                                                                        \
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D_A     \
    "\",\"size\":1}"
#define MT "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","

    /* schemaVersion must be the integer 2 */
    parse_manifest_err("{\"schemaVersion\":1," MT CFG ",\"layers\":[]}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "schemaVersion"));
    parse_manifest_err("{" MT CFG ",\"layers\":[]}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":\"2\"," MT CFG ",\"layers\":[]}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":3," MT CFG ",\"layers\":[]}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);

    /* bad digests in a descriptor */
    parse_manifest_err("{\"schemaVersion\":2," MT CFG ",\"layers\":[{\"mediaType\":\"application/"
                       "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:abc\",\"size\":1}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "layers[0]"));
    parse_manifest_err(
        "{\"schemaVersion\":2," MT "\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"size\":1},"
        "\"layers\":[]}",
        NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "config"));
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"digest\":\"../../"
                       "etc/passwd\",\"size\":1}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"size\":1}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);

    /* size missing, negative or not an integer */
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"digest\":\"" D_B "\"}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "size"));
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"digest\":\"" D_B "\",\"size\":-1}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"digest\":\"" D_B "\",\"size\":\"1\"}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2," MT CFG
                       ",\"layers\":[{\"mediaType\":\"a\",\"digest\":\"" D_B "\",\"size\":1.5}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    /* no mediaType in a descriptor */
    parse_manifest_err("{\"schemaVersion\":2," MT CFG ",\"layers\":[{\"digest\":\"" D_B
                       "\",\"size\":1}]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);

    /* the shape has to match the media type */
    parse_manifest_err("{\"schemaVersion\":2," MT "\"layers\":[]}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2," MT CFG "}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2," MT CFG ",\"layers\":{}}", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}", NULL,
        &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);

    /* not a manifest at all */
    parse_manifest_err("[]", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    parse_manifest_err("{\"schemaVersion\":2,", NULL, &err);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
#undef CFG
#undef MT
}
END_TEST

START_TEST(unknown_media_type_unsupported)
{
    struct ip_err err;
    parse_manifest_err("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example.thing+json\","
                       "\"config\":{\"mediaType\":\"a\",\"digest\":\"" D_A
                       "\",\"size\":1},\"layers\":[]}",
                       NULL, &err);
    ck_assert_int_eq(err.code, IP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "application/vnd.example.thing+json"));
    /* nor from the hint */
    parse_manifest_err("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" D_A
                       "\",\"size\":1},\"layers\":[]}",
                       "application/vnd.docker.distribution.manifest.v1+prettyjws", &err);
    ck_assert_int_eq(err.code, IP_E_UNSUPPORTED);
}
END_TEST

START_TEST(media_type_predicates)
{
    ck_assert(ip_media_type_is_index(IP_MT_OCI_INDEX));
    ck_assert(ip_media_type_is_index(IP_MT_DOCKER_LIST));
    ck_assert(!ip_media_type_is_index(IP_MT_OCI_MANIFEST));
    ck_assert(!ip_media_type_is_index(NULL));
    ck_assert(ip_media_type_is_manifest(IP_MT_OCI_MANIFEST));
    ck_assert(ip_media_type_is_manifest(IP_MT_DOCKER_MANIFEST));
    ck_assert(!ip_media_type_is_manifest(IP_MT_OCI_INDEX));
    ck_assert(!ip_media_type_is_manifest(NULL));
    ck_assert(ip_media_type_is_gzip_layer(IP_MT_OCI_LAYER_GZIP));
    ck_assert(ip_media_type_is_gzip_layer(IP_MT_OCI_LAYER_ND_GZIP));
    ck_assert(ip_media_type_is_gzip_layer(IP_MT_DOCKER_LAYER));
    ck_assert(!ip_media_type_is_gzip_layer(IP_MT_OCI_LAYER_TAR));
    ck_assert(!ip_media_type_is_gzip_layer(IP_MT_OCI_LAYER_ZSTD));
    ck_assert(!ip_media_type_is_gzip_layer(NULL));
    ck_assert(ip_media_type_is_foreign(IP_MT_DOCKER_FOREIGN));
    ck_assert(ip_media_type_is_foreign(IP_MT_OCI_LAYER_ND_GZIP));
    ck_assert(!ip_media_type_is_foreign(IP_MT_DOCKER_LAYER));
}
END_TEST

START_TEST(config_parse)
{
    const char *raw =
        "{\"architecture\":\"amd64\",\"os\":\"linux\","
        "\"config\":{\"Labels\":{\"dev.carvel.imgpkg.bundle\":\"true\",\"team\":\"x\","
        "\"num\":5}},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D_A "\",\"" D_B "\"]}}";
    struct ip_config c;
    struct ip_err err;
    ck_assert_int_eq(ip_config_parse(raw, strlen(raw), &c, &err), 0);
    ck_assert_uint_eq(c.n_diff_ids, 2);
    ck_assert_str_eq(c.diff_ids[0], D_A);
    ck_assert_str_eq(c.diff_ids[1], D_B);
    ck_assert_str_eq(ip_config_label(&c, IP_LABEL_BUNDLE), "true");
    ck_assert_str_eq(ip_config_label(&c, "team"), "x");
    ck_assert_ptr_null(ip_config_label(&c, "num")); /* not a string: ignored */
    ck_assert_ptr_null(ip_config_label(&c, "missing"));
    ck_assert_uint_eq(c.n_labels, 2);
    ip_config_release(&c);
    ck_assert_uint_eq(c.n_diff_ids, 0);

    /* a config with neither is fine */
    ck_assert_int_eq(ip_config_parse("{}", 2, &c, &err), 0);
    ck_assert_uint_eq(c.n_diff_ids, 0);
    ck_assert_uint_eq(c.n_labels, 0);
    ck_assert_ptr_null(ip_config_label(&c, IP_LABEL_BUNDLE));
    ip_config_release(&c);
    const char *null_labels = "{\"config\":{\"Labels\":null},\"rootfs\":{\"diff_ids\":[]}}";
    ck_assert_int_eq(ip_config_parse(null_labels, strlen(null_labels), &c, &err), 0);
    ck_assert_uint_eq(c.n_labels, 0);
    ip_config_release(&c);

    /* refused */
    const char *bad_ids = "{\"rootfs\":{\"diff_ids\":[\"" D_A "\",7]}}";
    ck_assert_int_eq(ip_config_parse(bad_ids, strlen(bad_ids), &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "diff_ids"));
    ck_assert_int_eq(ip_config_parse("[1]", 3, &c, &err), -IP_E_FORMAT);
    ck_assert_int_eq(ip_config_parse("{", 1, &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "config"));
}
END_TEST

/* ---- index.json ---- */

static struct ip_index_doc index_ok(const char *raw)
{
    struct ip_index_doc doc;
    struct ip_err err;
    ip_err_clear(&err);
    int rc = ip_index_doc_parse(raw, strlen(raw), &doc, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return doc;
}

/* Generates the document and parses the result back as JSON. */
static yajl_val index_gen_tree(const struct ip_index_doc *doc, char **raw_out)
{
    struct ip_buf out = IP_BUF_INIT;
    struct ip_err err;
    yajl_val v = NULL;
    ip_index_doc_gen(doc, &out);
    ck_assert_msg(ip_json_parse(out.data, out.len, &v, &err) == 0, "%s: %s", err.msg, out.data);
    if (raw_out)
        *raw_out = ip_buf_detach(&out, NULL);
    else
        ip_buf_release(&out);
    return v;
}

static yajl_val entry_at(yajl_val top, size_t i)
{
    yajl_val arr = ip_json_get(top, "manifests");
    ck_assert(YAJL_IS_ARRAY(arr));
    ck_assert_uint_lt(i, arr->u.array.len);
    return arr->u.array.values[i];
}

static size_t n_entries(yajl_val top)
{
    yajl_val arr = ip_json_get(top, "manifests");
    ck_assert(YAJL_IS_ARRAY(arr));
    return arr->u.array.len;
}

static void make_desc(struct ip_desc *d, const char *digest, const char *tag, const char *cname)
{
    memset(d, 0, sizeof(*d));
    d->media_type = ip_xstrdup(IP_MT_OCI_MANIFEST);
    memcpy(d->digest, digest, IP_DIGEST_SIZE);
    d->size = 321;
    if (tag)
        ip_desc_set_annotation(d, IP_ANN_REF_NAME, tag);
    if (cname)
        ip_desc_set_annotation(d, IP_ANN_CONTAINERD_NAME, cname);
}

static const char layout_index[] =
    "{\"schemaVersion\":2,"
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_A
    "\",\"size\":10,"
    "\"x-entry\":{\"keep\":[1,2.50]},"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\","
    "\"io.containerd.image.name\":\"docker.io/library/app:v1\",\"other\":\"stays\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_B
    "\",\"size\":20,"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v2\"},\"platform\":{\"os\":\"linux\","
    "\"architecture\":\"s390x\"}}"
    "],"
    "\"annotations\":{\"top\":\"level\"},\"x-top\":1.0}";

START_TEST(index_doc_parse)
{
    struct ip_index_doc doc = index_ok(layout_index);
    ck_assert_uint_eq(doc.n_entries, 2);
    ck_assert_str_eq(doc.entries[0].digest, D_A);
    ck_assert_int_eq(doc.entries[1].size, 20);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v1"), 0);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v2"), 1);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v3"), -1);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_gen_keeps_unknown_fields)
{
    struct ip_index_doc doc = index_ok(layout_index);
    yajl_val top = index_gen_tree(&doc, NULL);
    /* mediaType was missing in the input: added on output */
    ck_assert_str_eq(ip_json_get_str(top, "mediaType"), IP_MT_OCI_INDEX);
    int64_t sv = 0;
    ck_assert(ip_json_get_int(top, "schemaVersion", &sv));
    ck_assert_int_eq(sv, 2);
    ck_assert_str_eq(ip_json_get_str(ip_json_get(top, "annotations"), "top"), "level");
    ck_assert_ptr_nonnull(ip_json_get(top, "x-top"));
    ck_assert_str_eq(ip_json_get(top, "x-top")->u.number.r, "1.0");
    ck_assert_uint_eq(n_entries(top), 2);
    yajl_val e0 = entry_at(top, 0);
    yajl_val keep = ip_json_get(ip_json_get(e0, "x-entry"), "keep");
    ck_assert(YAJL_IS_ARRAY(keep));
    ck_assert_str_eq(keep->u.array.values[1]->u.number.r, "2.50");
    ck_assert_str_eq(ip_json_get_str(ip_json_get(entry_at(top, 1), "platform"), "architecture"),
                     "s390x");
    yajl_tree_free(top);

    /* gen output parses back to the same entries */
    char *raw = NULL;
    top = index_gen_tree(&doc, &raw);
    yajl_tree_free(top);
    struct ip_index_doc again = index_ok(raw);
    ck_assert_uint_eq(again.n_entries, 2);
    ck_assert_int_eq(ip_index_doc_find_tag(&again, "v2"), 1);
    ck_assert_str_eq(ip_desc_annotation(&again.entries[0], "other"), "stays");
    ip_index_doc_release(&again);
    free(raw);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_add_moves_tag)
{
    struct ip_index_doc doc = index_ok(layout_index);
    struct ip_desc d;
    make_desc(&d, D_C, "v1", "docker.io/library/app:v1");
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);

    ck_assert_uint_eq(doc.n_entries, 3);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v1"), 2);
    ck_assert_str_eq(doc.entries[2].digest, D_C);
    /* the old entry lost the tag and the matching containerd name, nothing else */
    ck_assert_ptr_null(ip_desc_annotation(&doc.entries[0], IP_ANN_REF_NAME));
    ck_assert_ptr_null(ip_desc_annotation(&doc.entries[0], IP_ANN_CONTAINERD_NAME));
    ck_assert_str_eq(ip_desc_annotation(&doc.entries[0], "other"), "stays");
    ck_assert_str_eq(ip_desc_annotation(&doc.entries[1], IP_ANN_REF_NAME), "v2");

    yajl_val top = index_gen_tree(&doc, NULL);
    ck_assert_uint_eq(n_entries(top), 3);
    yajl_val e0 = entry_at(top, 0);
    yajl_val ann0 = ip_json_get(e0, "annotations");
    ck_assert_ptr_null(ip_json_get(ann0, IP_ANN_REF_NAME));
    ck_assert_ptr_null(ip_json_get(ann0, IP_ANN_CONTAINERD_NAME));
    ck_assert_str_eq(ip_json_get_str(ann0, "other"), "stays");
    ck_assert_ptr_nonnull(ip_json_get(e0, "x-entry")); /* unknown entry field survives */
    yajl_val e2 = entry_at(top, 2);
    ck_assert_str_eq(ip_json_get_str(e2, "digest"), D_C);
    ck_assert_str_eq(ip_json_get_str(e2, "mediaType"), IP_MT_OCI_MANIFEST);
    int64_t size = 0;
    ck_assert(ip_json_get_int(e2, "size", &size));
    ck_assert_int_eq(size, 321);
    ck_assert_str_eq(ip_json_get_str(ip_json_get(e2, "annotations"), IP_ANN_REF_NAME), "v1");
    ck_assert_str_eq(ip_json_get_str(ip_json_get(e2, "annotations"), IP_ANN_CONTAINERD_NAME),
                     "docker.io/library/app:v1");
    ck_assert_str_eq(ip_json_get_str(ip_json_get(top, "annotations"), "top"), "level");
    yajl_tree_free(top);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_add_keeps_other_containerd_name)
{
    struct ip_index_doc doc = index_ok(layout_index);
    struct ip_desc d;
    /* same tag, but the old entry's containerd name names another image */
    make_desc(&d, D_C, "v1", "docker.io/library/other:v1");
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    ck_assert_ptr_null(ip_desc_annotation(&doc.entries[0], IP_ANN_REF_NAME));
    ck_assert_str_eq(ip_desc_annotation(&doc.entries[0], IP_ANN_CONTAINERD_NAME),
                     "docker.io/library/app:v1");
    ip_index_doc_release(&doc);

    /* an entry whose only annotation was the tag has no annotations left */
    doc = index_ok(layout_index);
    make_desc(&d, D_C, "v2", NULL);
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    yajl_val top = index_gen_tree(&doc, NULL);
    yajl_val e1 = entry_at(top, 1);
    ck_assert_str_eq(ip_json_get_str(e1, "digest"), D_B);
    yajl_val ann1 = ip_json_get(e1, "annotations");
    ck_assert(ann1 == NULL || (YAJL_IS_OBJECT(ann1) && ann1->u.object.len == 0));
    yajl_tree_free(top);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_add_drops_untagged_duplicate)
{
    const char *raw =
        "{\"schemaVersion\":2,\"mediaType\":\"application/"
        "vnd.oci.image.index.v1+json\",\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_A
        "\",\"size\":10},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_B
        "\",\"size\":10,"
        "\"annotations\":{\"org.opencontainers.image.ref.name\":\"b\"}},"
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D_D
        "\",\"size\":10}"
        "]}";
    struct ip_index_doc doc = index_ok(raw);
    struct ip_desc d;

    /* untagged D_A is replaced by the tagged one */
    make_desc(&d, D_A, "a", NULL);
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    ck_assert_uint_eq(doc.n_entries, 3);
    ck_assert_str_eq(doc.entries[0].digest, D_B);
    ck_assert_str_eq(doc.entries[1].digest, D_D);
    ck_assert_str_eq(doc.entries[2].digest, D_A);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "a"), 2);

    /* a tagged entry with the same digest stays: one image, two tags */
    make_desc(&d, D_B, "b2", NULL);
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    ck_assert_uint_eq(doc.n_entries, 4);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "b"), 0);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "b2"), 3);

    /* the generated document matches, entry by entry */
    yajl_val top = index_gen_tree(&doc, NULL);
    ck_assert_uint_eq(n_entries(top), 4);
    ck_assert_str_eq(ip_json_get_str(entry_at(top, 1), "digest"), D_D);
    ck_assert_ptr_null(ip_json_get(entry_at(top, 1), "annotations"));
    ck_assert_str_eq(ip_json_get_str(ip_json_get(entry_at(top, 2), "annotations"), IP_ANN_REF_NAME),
                     "a");
    yajl_tree_free(top);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_new_empty)
{
    struct ip_index_doc doc;
    struct ip_desc d;
    memset(&doc, 0, sizeof(doc));
    char *raw = NULL;
    yajl_val top = index_gen_tree(&doc, &raw);
    ck_assert_str_eq(
        raw, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
             "\"manifests\":[]}");
    yajl_tree_free(top);
    free(raw);
    make_desc(&d, D_A, "v1", NULL);
    ip_index_doc_add(&doc, &d);
    /* again: the tag moves to the new entry and the old one, left untagged with
     * the same digest, is dropped */
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    ck_assert_uint_eq(doc.n_entries, 1);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v1"), 0);
    /* a second tag for the same digest is a second entry */
    make_desc(&d, D_A, "v2", NULL);
    ip_index_doc_add(&doc, &d);
    ip_desc_release(&d);
    ck_assert_uint_eq(doc.n_entries, 2);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v1"), 0);
    ck_assert_int_eq(ip_index_doc_find_tag(&doc, "v2"), 1);
    top = index_gen_tree(&doc, NULL);
    ck_assert_uint_eq(n_entries(top), 2);
    yajl_tree_free(top);
    ip_index_doc_release(&doc);
}
END_TEST

START_TEST(index_doc_refusals)
{
    static const char *const bad[] = {
        "{\"manifests\":[]}",
        "{\"schemaVersion\":1,\"manifests\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"application/"
        "vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[]}",
        "{\"schemaVersion\":2}",
        "{\"schemaVersion\":2,\"manifests\":{}}",
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a\",\"digest\":\"sha256:00\","
        "\"size\":1}]}",
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a\",\"digest\":\"" D_A "\"}]}",
        "{\"schemaVersion\":2,\"manifests\":[1]}",
        "[]",
        "{\"schemaVersion\":2,\"manifests\":[",
        "",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(bad); i++) {
        struct ip_index_doc doc;
        struct ip_err err;
        ip_err_clear(&err);
        int rc = ip_index_doc_parse(bad[i], strlen(bad[i]), &doc, &err);
        ck_assert_msg(rc == -IP_E_FORMAT, "'%s' gave %d (%s)", bad[i], rc, err.msg);
        ck_assert_ptr_nonnull(strstr(err.msg, "index.json"));
    }
    /* the message names the media type found */
    const char *docker =
        "{\"schemaVersion\":2,\"mediaType\":\"" IP_MT_DOCKER_LIST "\",\"manifests\":[]}";
    struct ip_index_doc doc;
    struct ip_err err;
    ck_assert_int_eq(ip_index_doc_parse(docker, strlen(docker), &doc, &err), -IP_E_FORMAT);
    ck_assert_str_eq(err.msg, "index.json: mediaType is '" IP_MT_DOCKER_LIST "'");
}
END_TEST

START_TEST(desc_annotations_and_copy)
{
    struct ip_desc d, c;
    memset(&d, 0, sizeof(d));
    d.media_type = ip_xstrdup(IP_MT_OCI_MANIFEST);
    memcpy(d.digest, D_A, IP_DIGEST_SIZE);
    d.size = 9;
    ip_desc_set_annotation(&d, "k1", "v1");
    ip_desc_set_annotation(&d, "k2", "v2");
    ip_desc_set_annotation(&d, "k1", "v1b"); /* replaces */
    ck_assert_uint_eq(d.n_annotations, 2);
    ck_assert_str_eq(ip_desc_annotation(&d, "k1"), "v1b");
    ip_desc_copy(&c, &d);
    ip_desc_unset_annotation(&d, "k1");
    ip_desc_unset_annotation(&d, "nope");
    ck_assert_uint_eq(d.n_annotations, 1);
    ck_assert_ptr_null(ip_desc_annotation(&d, "k1"));
    ck_assert_str_eq(ip_desc_annotation(&d, "k2"), "v2");
    /* the copy is deep */
    ck_assert_str_eq(ip_desc_annotation(&c, "k1"), "v1b");
    ck_assert_str_eq(c.digest, D_A);
    ck_assert_int_eq(c.size, 9);
    ck_assert_ptr_ne(c.media_type, d.media_type);
    ip_desc_release(&d);
    ck_assert_str_eq(c.media_type, IP_MT_OCI_MANIFEST);
    ip_desc_release(&c);
}
END_TEST

Suite *suite_oci(void)
{
    Suite *s = suite_create("oci");
    TCase *tc = tcase_create("manifest");
    tcase_add_test(tc, image_manifest);
    tcase_add_test(tc, raw_with_trailing_bytes_kept);
    tcase_add_test(tc, image_index);
    tcase_add_test(tc, docker_media_types);
    tcase_add_test(tc, media_type_from_hint_or_shape);
    tcase_add_test(tc, manifest_refusals);
    tcase_add_test(tc, unknown_media_type_unsupported);
    tcase_add_test(tc, media_type_predicates);
    tcase_add_test(tc, config_parse);
    tcase_add_test(tc, desc_annotations_and_copy);
    suite_add_tcase(s, tc);
    tc = tcase_create("index_doc");
    tcase_add_test(tc, index_doc_parse);
    tcase_add_test(tc, index_doc_gen_keeps_unknown_fields);
    tcase_add_test(tc, index_doc_add_moves_tag);
    tcase_add_test(tc, index_doc_add_keeps_other_containerd_name);
    tcase_add_test(tc, index_doc_add_drops_untagged_duplicate);
    tcase_add_test(tc, index_doc_new_empty);
    tcase_add_test(tc, index_doc_refusals);
    suite_add_tcase(s, tc);
    return s;
}
