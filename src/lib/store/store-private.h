/* store-private.h - the inside of a store: the table of operations every
 * store implements, the destination-side calls the copy engine makes, and the
 * in-memory store the folder builder and the unit tests use.  Private to the
 * library (libarchive keeps its format vtables the same way). */
#ifndef IMGPKG_STORE_PRIVATE_H
#define IMGPKG_STORE_PRIVATE_H

#include "imgpkg/store.h"

/* imgpkg's hint when a tarball lacks a layer (a non-distributable one, left
 * out when the tarball was written). */
#define IP_HINT_NONDISTRIBUTABLE                                                                   \
    "(hint: This may be because when copying to a tarball, the "                                   \
    "--include-non-distributable-layers flag should have been provided.)"

/* A top-level entry: a manifest or index with the names it is known by. */
struct ip_store_entry {
    struct ip_desc desc; /* annotations carry ref.name / containerd name */
    const struct ip_manifest *manifest;
    /* For image manifests, their config (for Docker's manifest.json). */
    const char *repo_tag;    /* "name:tag" when the image has a name */
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
    char *location;      /* for messages */
    bool parallel_read;  /* open_blob and has_blob may run on several threads at once */
    bool parallel_write; /* put_blob (and has_blob) may run on several threads at once */
};

/* Destination side: fall back to "not supported" when a store lacks the slot. */
int ip_store_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n,
                   struct ip_err *err);
int ip_store_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                      struct ip_err *err);
int ip_store_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err);
int ip_store_commit(struct ip_store *s, struct ip_err *err);

/* In memory (blobs as bytes or as files), used by the folder builder and tests. */
struct ip_store *ip_store_mem_new(void);
void ip_store_mem_add_blob(struct ip_store *s, const struct ip_desc *d, const void *data);
void ip_store_mem_add_file_blob(struct ip_store *s, const struct ip_desc *d, const char *path);
int ip_store_mem_add_manifest(struct ip_store *s, const char *raw, size_t len,
                              const char *media_type, const struct ip_kv *ann, size_t n_ann,
                              struct ip_err *err);

#endif
