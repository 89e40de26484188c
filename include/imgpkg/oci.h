/* oci.h - the OCI data model: descriptors, image manifests, image indexes and
 * configs as read from raw bytes (which are kept, so digests never change), and
 * the generators for the documents the tool creates. */
#ifndef IMGPKG_OCI_H
#define IMGPKG_OCI_H

#include <stdbool.h>
#include <stdint.h>

#include "imgpkg/digest.h"
#include "imgpkg/util.h"

#define IP_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IP_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define IP_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define IP_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define IP_MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define IP_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define IP_MT_OCI_LAYER_ND_GZIP "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define IP_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IP_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IP_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IP_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IP_MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define IP_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define IP_ANN_CONTAINERD_NAME "io.containerd.image.name"
#define IP_LABEL_BUNDLE "dev.carvel.imgpkg.bundle"

struct ip_kv {
    char *key;
    char *val;
};

struct ip_desc {
    char *media_type;
    char digest[IP_DIGEST_SIZE];
    int64_t size;
    struct ip_kv *annotations;
    size_t n_annotations;
    char **urls;
    size_t n_urls;
    char *platform_os;
    char *platform_arch;
    char *platform_variant;
};

void ip_desc_release(struct ip_desc *d);
void ip_descs_free(struct ip_desc *d, size_t n);
void ip_desc_copy(struct ip_desc *dst, const struct ip_desc *src);
const char *ip_desc_annotation(const struct ip_desc *d, const char *key);
void ip_desc_set_annotation(struct ip_desc *d, const char *key, const char *val);
void ip_desc_unset_annotation(struct ip_desc *d, const char *key);
bool ip_media_type_is_index(const char *mt);
bool ip_media_type_is_manifest(const char *mt);
/* A layer that registries may refuse to store (Docker foreign, OCI non-distributable). */
bool ip_media_type_is_foreign(const char *mt);
bool ip_media_type_is_gzip_layer(const char *mt);

/* A manifest or index, as raw bytes plus what was parsed from them. */
struct ip_manifest {
    char *raw;
    size_t raw_len;
    char digest[IP_DIGEST_SIZE];
    char *media_type; /* from the document, or as fetched */
    bool is_index;
    /* image manifest */
    struct ip_desc config;
    struct ip_desc *layers;
    size_t n_layers;
    /* index */
    struct ip_desc *manifests;
    size_t n_manifests;
};

/* Parses raw bytes (copied) of a manifest or index.  media_type_hint is the
 * Content-Type or descriptor media type when known (may be NULL). */
int ip_manifest_parse(const char *raw, size_t len, const char *media_type_hint,
                      struct ip_manifest **out, struct ip_err *err);
void ip_manifest_free(struct ip_manifest *m);
static inline void ip_cleanup_manifest(struct ip_manifest **m)
{
    ip_manifest_free(*m);
}
#define cleanup_manifest __attribute__((cleanup(ip_cleanup_manifest)))

/* What the tool reads from an image config. */
struct ip_config {
    char **diff_ids;
    size_t n_diff_ids;
    struct ip_kv *labels;
    size_t n_labels;
};
int ip_config_parse(const char *raw, size_t len, struct ip_config *out, struct ip_err *err);
void ip_config_release(struct ip_config *c);
const char *ip_config_label(const struct ip_config *c, const char *key);

#endif
