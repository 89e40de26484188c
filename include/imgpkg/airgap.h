/* airgap.h - a bundle (or image) with every image it references, as one graph:
 * collected from registries (following .imgpkg/images.yml recursively through
 * nested bundles) or from a layout made by copy, and written to a layout (the
 * air-gap tarball) or relocated into one repository with imgpkg's tags and
 * image-locations records. */
#ifndef IMGPKG_AIRGAP_H
#define IMGPKG_AIRGAP_H

#include "imgpkg/bundle.h"
#include "imgpkg/copy.h"
#include "imgpkg/registry.h"

/* Registry stores, one per repository, opened on demand and shared. */
struct ip_source_set;
struct ip_source_set *ip_source_set_new(const struct ip_registry_opts *opts);
void ip_source_set_free(struct ip_source_set *set);
int ip_source_set_store(struct ip_source_set *set, const struct ip_ref *ref, struct ip_store **out,
                        struct ip_err *err);
/* Repositories of the registry of `s` (a registry store, borrowed; other
 * stores are ignored) opened through the set from now on share its client:
 * no new probe of the registry, the same credentials. */
void ip_source_set_share(struct ip_source_set *set, struct ip_store *s);

struct ip_graph_node {
    struct ip_store *src; /* borrowed */
    char digest[IP_DIGEST_SIZE];
    char *orig_ref; /* as images.yml names it, or the root's digest reference */
    char *tag;      /* root: its tag; cosign signatures: their tag; else NULL */
    char *repo;     /* "registry/repository" it was read from (registries) */
    bool is_bundle;
    bool is_root;
    struct ip_images_lock lock; /* bundles: their images.yml */
};

struct ip_graph {
    struct ip_graph_node *nodes; /* nodes[0] is the root */
    size_t n, cap;
};
void ip_graph_release(struct ip_graph *g);
long ip_graph_find(const struct ip_graph *g, const char *digest);

enum ip_root_kind { IP_ROOT_ANY, IP_ROOT_BUNDLE, IP_ROOT_IMAGE };

struct ip_graph_opts {
    enum ip_root_kind kind;
    bool cosign_signatures;
    /* optional: what an error finding a bundle's images is wrapped in (imgpkg's
     * words differ by command: "Reading Images from Bundle") */
    const char *images_context;
    /* optional: a printf format with one %s (the reference) that an error
     * fetching the root is wrapped in (describe: "Unable to check if %s is a
     * bundle") */
    const char *root_context;
    /* optional log of what is found ("found image ..."): */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
};

/* From registries: `ref` names the root (tag or digest). */
int ip_graph_from_registry(struct ip_source_set *set, const char *ref,
                           const struct ip_graph_opts *o, struct ip_graph *out, struct ip_err *err);
/* From registries: every image an ImagesLock names (by digest), no root. */
int ip_graph_from_images_lock(struct ip_source_set *set, const struct ip_images_lock *lock,
                              const struct ip_graph_opts *o, struct ip_graph *out,
                              struct ip_err *err);
/* From a layout (directory or tarball) written by copy, or any layout whose
 * single tagged entry is the root. */
int ip_graph_from_layout(struct ip_store *s, const struct ip_graph_opts *o, struct ip_graph *out,
                         struct ip_err *err);

/* Writes the graph into a layout store: the root tagged, every other image an
 * entry by digest, annotated (see spec-notes/airgap-tarball.md). */
int ip_graph_to_layout(const struct ip_graph *g, struct ip_store *dst,
                       const struct ip_copy_opts *co, struct ip_err *err);

struct ip_relocate_opts {
    bool repo_based_tags;
    const char *tmp_dir; /* where the image-locations images are built */
    /* Where the recorded origins of images read from a tarball or layout are
     * opened, when they are on the destination's registry (never any other):
     * blobs are mounted from there, and a non-distributable layer the tarball
     * lacks is taken from there.  NULL: origins are not used. */
    struct ip_source_set *origins;
};
/* Relocates the graph into the repository of `dst` (a registry store): every
 * image by digest with imgpkg's tag, the root also under its tag, signatures
 * under theirs, and an image-locations record per bundle. */
int ip_graph_to_repo(const struct ip_graph *g, struct ip_store *dst, const struct ip_copy_opts *co,
                     const struct ip_relocate_opts *ro, struct ip_err *err);

#endif
