/* store.h - every place an image graph can live, behind one table of
 * operations (a source and/or a destination for the copy engine).
 *
 * Copying into a store goes: begin (declares the top-level entries, with their
 * manifests, before any blob moves, so a tarball can write index.json early),
 * put_blob for each config and layer, put_manifest for each manifest and index
 * (children first), then commit.  Freeing a store that was not committed
 * discards whatever it wrote. */
#ifndef IMGPKG_STORE_H
#define IMGPKG_STORE_H

#include <stdbool.h>

#include "imgpkg/io.h"
#include "imgpkg/oci.h"

struct ip_store;

/* A top-level entry: a manifest or index with the names it is known by. */
struct ip_store_entry {
    struct ip_desc desc; /* annotations carry ref.name / containerd name */
    const struct ip_manifest *manifest;
    /* For image manifests, their config (for Docker's manifest.json). */
    const char *repo_tag; /* "name:tag" when the image has a name */
    const char *const *tags; /* tags a registry destination puts (else ref.name) */
    size_t n_tags;
};

struct ip_store_ops {
    const char *scheme;
    /* Source side. */
    int (*list)(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err);
    int (*get_manifest)(struct ip_store *s, const char *tag_or_digest, struct ip_manifest **out,
                        struct ip_err *err);
    int (*open_blob)(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                     struct ip_err *err);
    int (*has_blob)(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err);
    /* Destination side. */
    int (*begin)(struct ip_store *s, const struct ip_store_entry *entries, size_t n,
                 struct ip_err *err);
    int (*put_blob)(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                    struct ip_err *err);
    int (*put_manifest)(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err);
    int (*commit)(struct ip_store *s, struct ip_err *err);
    /* Optional fast path for blobs that are plain files the tool itself wrote:
     * the source names the file, the destination takes it over (rename). */
    const char *(*blob_file)(struct ip_store *s, const struct ip_desc *d);
    int (*adopt_blob_file)(struct ip_store *s, const struct ip_desc *d, const char *path,
                           struct ip_err *err);
    /* Optional: take the blob from another store without moving its bytes (a
     * registry's cross-repository mount); *done is false when it cannot. */
    int (*mount_blob)(struct ip_store *s, const struct ip_desc *d, struct ip_store *from,
                      bool *done, struct ip_err *err);
    void (*free)(struct ip_store *s);
};

struct ip_store {
    const struct ip_store_ops *ops;
    char *location; /* for messages */
    bool parallel_read;  /* open_blob and has_blob may run on several threads at once */
    bool parallel_write; /* put_blob (and has_blob) may run on several threads at once */
};

/* Calls that fall back to "not supported" when a store lacks the slot. */
int ip_store_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err);
int ip_store_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                          struct ip_err *err);
int ip_store_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                       struct ip_err *err);
int ip_store_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err);
int ip_store_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n,
                   struct ip_err *err);
int ip_store_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                      struct ip_err *err);
int ip_store_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err);
int ip_store_commit(struct ip_store *s, struct ip_err *err);
void ip_store_free(struct ip_store *s);
static inline void ip_cleanup_store(struct ip_store **s)
{
    ip_store_free(*s);
}
#define cleanup_store __attribute__((cleanup(ip_cleanup_store)))

/* In memory (blobs as bytes or as files), used by the folder builder and tests. */
struct ip_store *ip_store_mem_new(void);
void ip_store_mem_add_blob(struct ip_store *s, const struct ip_desc *d, const void *data);
void ip_store_mem_add_file_blob(struct ip_store *s, const struct ip_desc *d, const char *path);
int ip_store_mem_add_manifest(struct ip_store *s, const char *raw, size_t len,
                              const char *media_type, const struct ip_kv *ann, size_t n_ann,
                              struct ip_err *err);

/* OCI image layout directory.  Opening for writing checks any existing layout
 * first and refuses a directory that is neither empty nor a valid layout. */
int ip_store_oci_dir_open(const char *dir, bool writable, struct ip_store **out,
                          struct ip_err *err);
/* A layout written in place (created if missing), for staging: blobs that a
 * killed run already wrote stay and are found again. */
int ip_store_oci_dir_open_in_place(const char *dir, struct ip_store **out, struct ip_err *err);
/* OCI image layout as one tar file (read), or a new one written atomically. */
int ip_store_oci_tar_open(const char *path, struct ip_store **out, struct ip_err *err);
int ip_store_oci_tar_create(const char *path, struct ip_store **out, struct ip_err *err);

/* The tarball Go imgpkg's `copy --to-tar` writes (read only): manifest.json, a
 * JSON array of image and index descriptors holding the raw manifests and
 * configs, and a "sha256-<hex>.tar.gz" member per layer.  Entries carry their
 * Tag as ref.name, their OrigRef (or first Ref) as
 * dev.carvel.imgpkg.copy.original-ref, and dev.carvel.imgpkg.copy.root-bundle
 * when labelled so.  Every digest is checked when the store is opened. */
int ip_store_imgpkg_tar_open(const char *path, struct ip_store **out, struct ip_err *err);
/* True for a tar with a manifest.json that is such an array and no oci-layout. */
bool ip_tar_is_imgpkg_legacy(const char *path);
/* True for a tar holding a regular file `name` (e.g. "oci-layout"). */
bool ip_tar_has_member(const char *path, const char *name);

#endif
