/* copy.h - the copy engine: moves image graphs from one store to another,
 * children first (blobs, configs, then manifests and indexes), skipping what the
 * destination has, verifying every byte against its digest, committing last. */
#ifndef IMGPKG_COPY_H
#define IMGPKG_COPY_H

#include "imgpkg/store.h"

struct ip_copy_item {
    struct ip_store *src; /* where this item lives (NULL: ip_copy's src) */
    /* A registry repository that also holds the item (its recorded origin),
     * on the destination's registry: blobs are mounted from it rather than
     * uploaded, and a non-distributable layer the source lacks is taken from
     * it.  NULL: none. */
    struct ip_store *origin;
    const char *src_ref;     /* tag or digest in the source store */
    const char *const *tags; /* tags to put in a registry destination (none: the
                              * ref.name annotation, if any) */
    size_t n_tags;
    struct ip_kv *annotations; /* annotations of the destination entry */
    size_t n_annotations;
    const char *repo_tag; /* Docker "name:tag", or NULL */
};

struct ip_copy_result {
    char digest[IP_DIGEST_SIZE]; /* of each item, in order */
};

struct ip_copy_opts {
    int concurrency; /* blobs moved at once (default 5) */
    int retries;     /* further tries of a blob after a transient failure (default 5) */
    /* Called once per blob when it is done (from any copy thread, serialised):
     * bytes moved (0 when the destination had it) and seconds taken. */
    void (*progress)(void *ctx, const struct ip_desc *d, bool skipped, double seconds);
    void *progress_ctx;
    /* Non-distributable (foreign) layers are left out unless this is set.
     * Each one met is reported through `foreign` (may be NULL) once per image
     * manifest that lists it, in plan order, before any blob moves: `item` is
     * the index of the item it was found under, `manifest` the digest of the
     * image manifest listing it, `left_out` whether it is left out. */
    bool include_nondistributable;
    void (*foreign)(void *ctx, size_t item, const char *manifest, const struct ip_desc *layer,
                    bool left_out);
    void *foreign_ctx;
};

/* The progress callback the commands use: one line per blob on a TTY. */
void ip_copy_progress_lines(void *ctx, const struct ip_desc *d, bool skipped, double seconds);

int ip_copy(struct ip_store *src, struct ip_store *dst, const struct ip_copy_item *items, size_t n,
            const struct ip_copy_opts *opts, struct ip_copy_result *results, struct ip_err *err);

#endif
