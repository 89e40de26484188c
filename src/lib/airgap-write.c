/* airgap-write.c - a collected graph (airgap.c) written out: into a layout
 * store (the air-gap tarball: the root tagged, every other image an entry by
 * digest, annotated), or relocated into one repository with imgpkg's tags and
 * an image-locations image per bundle. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "airgap-internal.h"
#include "imgpkg/airgap.h"
#include "imgpkg/build.h"
#include "store/store-private.h"
#include "util/parallel.h"
#include "util/banned.h"

int ip_graph_to_layout(const struct ip_graph *g, struct ip_store *dst,
                       const struct ip_copy_opts *co, struct ip_err *err)
{
    struct ip_copy_item *items = ip_xcalloc(g->n ? g->n : 1, sizeof(*items));
    struct ip_kv(*ann)[5] = ip_xcalloc(g->n ? g->n : 1, sizeof(*ann));
    struct ip_copy_result *res = ip_xcalloc(g->n ? g->n : 1, sizeof(*res));
    char **owned = ip_xcalloc(g->n * 2 + 1, sizeof(char *));
    size_t n_owned = 0;
    int rc;

    for (size_t i = 0; i < g->n; i++) {
        const struct ip_graph_node *node = &g->nodes[i];
        size_t k = 0;
        if (node->tag) {
            ann[i][k].key = (char *)IP_ANN_REF_NAME;
            ann[i][k++].val = node->tag;
        }
        if (node->is_root && node->tag && node->orig_ref) {
            struct ip_ref r;
            struct ip_err e2;
            memset(&r, 0, sizeof(r));
            if (ip_ref_parse(node->orig_ref, &r, &e2) == 0) {
                cleanup_free char *cd = ip_ref_containerd(&r);
                cleanup_free char *fam = ip_ref_familiar(&r);
                owned[n_owned] = ip_xasprintf("%s:%s", cd, node->tag);
                ann[i][k].key = (char *)IP_ANN_CONTAINERD_NAME;
                ann[i][k++].val = owned[n_owned++];
                owned[n_owned] = ip_xasprintf("%s:%s", fam, node->tag);
                items[i].repo_tag = owned[n_owned++];
                ip_ref_release(&r);
            }
        }
        if (node->is_root && node->is_bundle) {
            ann[i][k].key = (char *)IP_ANN_ROOT_BUNDLE;
            ann[i][k++].val = (char *)"";
        }
        if (node->orig_ref) {
            ann[i][k].key = (char *)IP_ANN_ORIGINAL_REF;
            ann[i][k++].val = node->orig_ref;
        }
        ann[i][k].key = (char *)IP_ANN_IS_BUNDLE;
        ann[i][k++].val = (char *)(node->is_bundle ? "true" : "false");
        items[i].src = node->src;
        items[i].src_ref = node->digest;
        items[i].annotations = ann[i];
        items[i].n_annotations = k;
    }
    rc = ip_copy(NULL, dst, items, g->n, co, res, err);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    free(owned);
    free(items);
    free(ann);
    free(res);
    return rc;
}

static int location_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ip_image_location *)a)->image,
                  ((const struct ip_image_location *)b)->image);
}

/* Builds and pushes the image-locations record of bundle b into dst. */
static int push_locations(const struct ip_graph *g, const struct ip_graph_node *b,
                          struct ip_store *dst, const struct ip_copy_opts *co,
                          const struct ip_relocate_opts *ro, struct ip_err *err)
{
    struct ip_image_locations loc = {0};
    struct ip_buf yaml = IP_BUF_INIT;
    struct ip_build_result br;
    struct ip_build_opts bo;
    cleanup_free char *dir = NULL, *file = NULL, *ltag = NULL, *dtag = NULL;
    cleanup_close int lock = -1;
    int rc;

    memset(&br, 0, sizeof(br));
    memset(&bo, 0, sizeof(bo));
    loc.images = ip_xcalloc(b->lock.n_images ? b->lock.n_images : 1, sizeof(*loc.images));
    for (size_t i = 0; i < b->lock.n_images; i++) {
        const char *img = b->lock.images[i].image;
        const char *at = strchr(img, '@');
        long k = at ? ip_graph_find(g, at + 1) : -1;
        loc.images[loc.n].image = ip_xstrdup(img);
        loc.images[loc.n].is_bundle = k >= 0 && g->nodes[k].is_bundle;
        loc.n++;
    }
    /* imgpkg lists them sorted (so its record, and its digest, are the same) */
    qsort(loc.images, loc.n, sizeof(*loc.images), location_cmp);
    ip_image_locations_yaml(&loc, &yaml);
    ip_image_locations_release(&loc);

    /* locked while this run lives; what a killed run left is removed here */
    const char *tmp_root = ro && ro->tmp_dir ? ro->tmp_dir : "/tmp";
    ip_cleanup_stale_temps(tmp_root, "imgpkg-locations");
    if ((lock = ip_mkdtemp_in(tmp_root, "imgpkg-locations", &dir, err)) < 0) {
        rc = lock;
        goto out;
    }
    file = ip_path_join(dir, "image-locations.yml");
    if ((rc = ip_write_file_atomic(file, yaml.data, yaml.len, 0600, err)) < 0)
        goto out;
    const char *paths[1] = {dir};
    bo.paths = paths;
    bo.n_paths = 1;
    bo.kind = IP_BUILD_IMAGE;
    bo.compression_level = 1;
    bo.tmp_dir = dir;
    bo.docker_media_types = true;
    if ((rc = ip_build(&bo, &br, err)) < 0)
        goto out;
    ltag = ip_imgpkg_locations_tag(b->digest);
    dtag = ip_imgpkg_digest_tag(br.manifest_digest);
    const char *tags[2] = {ltag, dtag};
    struct ip_copy_item item = {.src_ref = br.manifest_digest, .tags = tags, .n_tags = 2};
    struct ip_copy_result res;
    rc = ip_copy(br.store, dst, &item, 1, co, &res, err);
    if (rc < 0)
        ip_err_wrap(err, "Pushing locations image to '%s:%s'", dst->location, ltag);
out:
    ip_build_result_release(&br);
    if (dir)
        ip_remove_tree(dir);
    ip_buf_release(&yaml);
    return rc;
}

/* The repository a node read from a tarball was recorded in (its original
 * reference), when it is on the destination's registry, is not the
 * destination itself, and still holds the node's manifest (imgpkg makes the
 * same check before it mounts).  Any failure only means no origin. */
static struct ip_store *origin_store(struct ip_source_set *set, const struct ip_graph_node *node,
                                     const struct ip_ref *dst_repo)
{
    struct ip_ref r;
    struct ip_err e;
    struct ip_store *s = NULL;
    struct ip_manifest *m = NULL;
    if (!set || !node->orig_ref || !strcmp(node->src->ops->scheme, "registry"))
        return NULL;
    memset(&r, 0, sizeof(r));
    if (ip_ref_parse(node->orig_ref, &r, &e) < 0)
        return NULL;
    if (!strcmp(r.registry, dst_repo->registry) &&
        strcmp(r.repository, dst_repo->repository) != 0 &&
        ip_source_set_store(set, &r, &s, &e) == 0 &&
        ip_store_get_manifest(s, node->digest, &m, &e) == 0)
        ip_manifest_free(m);
    else
        s = NULL;
    ip_ref_release(&r);
    return s;
}

struct origin_ctx {
    struct ip_source_set *set;
    const struct ip_graph *g;
    const struct ip_ref *dst_repo;
    struct ip_copy_item *items;
};

static int origin_one(void *ctx, size_t i, struct ip_err *unused)
{
    struct origin_ctx *c = ctx;
    c->items[i].origin = origin_store(c->set, &c->g->nodes[i], c->dst_repo);
    return 0;
}

/* Each node's origin, up to LOCATE_THREADS checks at a time (one manifest GET
 * each: a bundle of many images is not checked one by one). */
static void find_origins(struct ip_source_set *set, const struct ip_graph *g,
                         const struct ip_ref *dst_repo, struct ip_copy_item *items)
{
    struct origin_ctx c = {.set = set, .g = g, .dst_repo = dst_repo, .items = items};
    struct ip_err err;
    ip_parallel_for(g->n, LOCATE_THREADS, origin_one, &c, &err);
}

int ip_graph_to_repo(const struct ip_graph *g, struct ip_store *dst, const struct ip_copy_opts *co,
                     const struct ip_relocate_opts *ro, struct ip_err *err)
{
    struct ip_ref dst_repo;
    struct ip_err perr;
    memset(&dst_repo, 0, sizeof(dst_repo));
    bool use_origins = ro && ro->origins && ip_repo_parse(dst->location, &dst_repo, &perr) == 0;
    struct ip_copy_item *items = ip_xcalloc(g->n ? g->n : 1, sizeof(*items));
    const char *(*tags)[2] = ip_xcalloc(g->n ? g->n : 1, sizeof(*tags));
    char **owned = ip_xcalloc(g->n + 1, sizeof(char *));
    struct ip_copy_result *res = ip_xcalloc(g->n ? g->n : 1, sizeof(*res));
    int rc;

    for (size_t i = 0; i < g->n; i++) {
        const struct ip_graph_node *node = &g->nodes[i];
        size_t k = 0;
        struct ip_ref r;
        struct ip_err e2;
        memset(&r, 0, sizeof(r));
        if (ro && ro->repo_based_tags && node->orig_ref &&
            ip_ref_parse(node->orig_ref, &r, &e2) == 0) {
            owned[i] = ip_imgpkg_repo_based_tag(r.repository, node->digest);
            ip_ref_release(&r);
        } else {
            owned[i] = ip_imgpkg_digest_tag(node->digest);
        }
        tags[i][k++] = owned[i];
        if (node->tag)
            tags[i][k++] = node->tag;
        items[i].src = node->src;
        items[i].src_ref = node->digest;
        items[i].tags = tags[i];
        items[i].n_tags = k;
    }
    if (use_origins)
        find_origins(ro->origins, g, &dst_repo, items);
    rc = ip_copy(NULL, dst, items, g->n, co, res, err);
    for (size_t i = 0; rc == 0 && i < g->n; i++)
        if (g->nodes[i].is_bundle)
            rc = push_locations(g, &g->nodes[i], dst, co, ro, err);
    for (size_t i = 0; i < g->n; i++)
        free(owned[i]);
    free(owned);
    free(items);
    free((void *)tags);
    free(res);
    ip_ref_release(&dst_repo);
    return rc;
}
