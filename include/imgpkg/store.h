/* store.h - every place an image graph can live, behind one table of
 * operations (a source and/or a destination for the copy engine).
 *
 * Copying into a store goes: begin (declares the top-level entries, with their
 * manifests, before any blob moves, so a tarball can write index.json early),
 * put_blob for each config and layer, put_manifest for each manifest and index
 * (children first), then commit.  Freeing a store that was not committed
 * discards whatever it wrote.
 *
 * The table of operations, the destination side and the in-memory store are
 * the library's own (src/lib/store/store-private.h): a program using the
 * library opens stores here and hands them to the copy engine, pull and verify. */
#ifndef IMGPKG_STORE_H
#define IMGPKG_STORE_H

#include <stdbool.h>

#include "imgpkg/io.h"
#include "imgpkg/oci.h"

struct ip_store;

/* Where the store is, for messages ("registry.example/repo", a path). */
const char *ip_store_location(const struct ip_store *s);

/* Reading; a store that cannot answers "not supported". */
int ip_store_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err);
int ip_store_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                          struct ip_err *err);
int ip_store_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                       struct ip_err *err);
int ip_store_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err);
void ip_store_free(struct ip_store *s);
static inline void ip_cleanup_store(struct ip_store **s)
{
    ip_store_free(*s);
}
#define cleanup_store __attribute__((cleanup(ip_cleanup_store)))

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
/* A blob written straight into a tarball being created, before anything else
 * is put into it: *fd is where its bytes go (sequentially, from the current
 * offset); _end, with the blob's digest and size, completes its member. */
int ip_store_oci_tar_stream_begin(struct ip_store *s, int *fd, struct ip_err *err);
int ip_store_oci_tar_stream_end(struct ip_store *s, const struct ip_desc *d, struct ip_err *err);

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
