/* fuzz-manifest.c - ip_manifest_parse (without and with each media type hint)
 * and ip_config_parse on arbitrary bytes.  A parsed manifest keeps the exact
 * bytes and their digest; each of its descriptors written back with
 * ip_desc_gen parses again to the same descriptor. */
#include "fuzz.h"

#include "imgpkg/oci.h"
#include "oci/oci-private.h"

static const char *const hints[] = {
    NULL,
    IP_MT_OCI_MANIFEST,
    IP_MT_OCI_INDEX,
    IP_MT_DOCKER_MANIFEST,
    IP_MT_DOCKER_LIST,
    "application/vnd.example.unknown+json",
};

static void desc_roundtrip(const struct ip_desc *d)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    struct ip_desc back;
    yajl_val tree = NULL;
    yajl_gen g = ip_json_gen_new();

    ip_desc_gen(g, d);
    ip_json_gen_finish(g, &b);
    ip_err_clear(&err);
    FUZZ_CHECK(ip_json_parse(b.data, b.len, &tree, &err) == 0, "%s: %s", err.msg, b.data);
    FUZZ_CHECK(ip_desc_parse(tree, &back, &err) == 0, "%s: %s", err.msg, b.data);
    FUZZ_CHECK(!strcmp(back.media_type, d->media_type), "%s", b.data);
    FUZZ_CHECK(!strcmp(back.digest, d->digest), "%s", b.data);
    FUZZ_CHECK(back.size == d->size, "%s", b.data);
    FUZZ_CHECK(back.n_annotations == d->n_annotations, "%s", b.data);
    for (size_t i = 0; i < d->n_annotations; i++) {
        const char *v = ip_desc_annotation(&back, d->annotations[i].key);
        FUZZ_CHECK(v && !strcmp(v, d->annotations[i].val), "%s", b.data);
    }
    FUZZ_CHECK(back.n_urls == d->n_urls, "%s", b.data);
    ip_desc_release(&back);
    yajl_tree_free(tree);
    ip_buf_release(&b);
}

static void check_manifest(const struct ip_manifest *m, const uint8_t *data, size_t size,
                           const char *hint)
{
    char digest[IP_DIGEST_SIZE];
    ip_sha256_of(data, size, digest);
    FUZZ_CHECK(m->raw_len == size && !memcmp(m->raw, data, size), "raw bytes not kept");
    FUZZ_CHECK(!strcmp(m->digest, digest), "digest %s, expected %s", m->digest, digest);
    FUZZ_CHECK(m->media_type && *m->media_type, "no media type");
    FUZZ_CHECK(m->is_index == ip_media_type_is_index(m->media_type), "is_index for %s",
               m->media_type);
    FUZZ_CHECK(m->is_index || ip_media_type_is_manifest(m->media_type), "media type %s",
               m->media_type);
    if (m->is_index) {
        FUZZ_CHECK(m->n_layers == 0, "index with layers");
        for (size_t i = 0; i < m->n_manifests; i++)
            desc_roundtrip(&m->manifests[i]);
    } else {
        FUZZ_CHECK(m->n_manifests == 0, "manifest with manifests");
        desc_roundtrip(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
            desc_roundtrip(&m->layers[i]);
    }
    (void)hint;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_err err;
    struct ip_config cfg;

    for (size_t i = 0; i < IP_ARRAY_SIZE(hints); i++) {
        struct ip_manifest *m = NULL;
        ip_err_clear(&err);
        int rc = ip_manifest_parse((const char *)data, size, hints[i], &m, &err);
        if (rc == 0) {
            FUZZ_CHECK(m != NULL, "success without a manifest");
            check_manifest(m, data, size, hints[i]);
            ip_manifest_free(m);
        } else {
            FUZZ_CHECK(m == NULL && rc == -(int)err.code && err.msg[0], "rc %d code %d", rc,
                       (int)err.code);
        }
    }

    ip_err_clear(&err);
    if (ip_config_parse((const char *)data, size, &cfg, &err) == 0) {
        for (size_t i = 0; i < cfg.n_diff_ids; i++)
            FUZZ_CHECK(cfg.diff_ids[i] != NULL, "diff_id %zu", i);
        for (size_t i = 0; i < cfg.n_labels; i++)
            FUZZ_CHECK(ip_config_label(&cfg, cfg.labels[i].key) != NULL, "label %zu", i);
        ip_config_release(&cfg);
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
    }
    return 0;
}
