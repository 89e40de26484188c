/* build.h - the folder builder: input paths become one gzip tar layer, an image
 * config and a manifest, with imgpkg's rules for paths and permissions.  The
 * result is deterministic: same files, same digests. */
#ifndef IMGPKG_BUILD_H
#define IMGPKG_BUILD_H

#include <stdbool.h>

#include "imgpkg/oci.h"
#include "imgpkg/store.h"

enum ip_build_kind { IP_BUILD_AUTO = 0, IP_BUILD_BUNDLE, IP_BUILD_IMAGE };

struct ip_build_opts {
    const char **paths;
    size_t n_paths;
    const char **exclusions; /* relative paths left out */
    size_t n_exclusions;
    struct ip_kv *labels;
    size_t n_labels;
    bool preserve_permissions;
    enum ip_build_kind kind;
    int compression_level;   /* 1..9 */
    const char *tmp_dir;     /* where the layer is written while it is built */
    bool docker_media_types; /* Docker schema 2 instead of OCI (imgpkg's internal images) */
    bool layer_transient; /* the layer file is copied elsewhere and deleted: no early writeback */
    struct ip_store *layer_into; /* a new OCI tarball: the layer is written straight into it */
};

/* One file-system entry that goes into the layer. */
struct ip_build_entry {
    char *rel;  /* path in the layer */
    char *full; /* path on disk */
    bool is_dir;
    unsigned mode;
    int64_t size;
    size_t seq; /* order of discovery: ties in sorting keep it, on any libc */
};

struct ip_build_result {
    bool is_bundle;
    struct ip_store *store; /* mem store holding layer file, config, manifest */
    char manifest_digest[IP_DIGEST_SIZE];
    char *layer_path;               /* temporary file, removed by ip_build_result_release */
    int layer_fd;                   /* holds the temporary file's lock until then */
    struct ip_build_entry *entries; /* what went into the layer, in order */
    size_t n_entries;
};

int ip_build(const struct ip_build_opts *opts, struct ip_build_result *out, struct ip_err *err);
void ip_build_result_release(struct ip_build_result *r);

/* The gzip engine layers are compressed with ("isa-l" or "zlib"): layer digests
 * depend on it and on the level. */
const char *ip_build_deflate_engine(void);

#endif
