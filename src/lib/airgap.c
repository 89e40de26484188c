/* airgap.c - bundles with all their images: collecting the graph from
 * registries (following images.yml through nested bundles), from an ImagesLock
 * or from a layout.  Writing it to a layout (the air-gap tarball) and
 * relocating it into one repository are in airgap-write.c. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "airgap-internal.h"
#include "imgpkg/airgap.h"
#include "imgpkg/build.h"
#include "store/store-private.h"
#include "util/parallel.h"
#include "util/banned.h"

struct source_entry {
    char *name;
    struct ip_store *store;
};

struct ip_source_set {
    const struct ip_registry_opts *opts;
    struct source_entry *e;
    size_t n, cap;
    pthread_mutex_t mu; /* images are located on several threads */
};

struct ip_source_set *ip_source_set_new(const struct ip_registry_opts *opts)
{
    struct ip_source_set *s = ip_xcalloc(1, sizeof(*s));
    s->opts = opts;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void ip_source_set_free(struct ip_source_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->e[i].name);
        ip_store_free(set->e[i].store);
    }
    free(set->e);
    pthread_mutex_destroy(&set->mu);
    free(set);
}

static int source_set_store(struct ip_source_set *set, const struct ip_ref *ref,
                            struct ip_store **out, struct ip_err *err);

int ip_source_set_store(struct ip_source_set *set, const struct ip_ref *ref, struct ip_store **out,
                        struct ip_err *err)
{
    pthread_mutex_lock(&set->mu);
    int rc = source_set_store(set, ref, out, err);
    pthread_mutex_unlock(&set->mu);
    return rc;
}

static int source_set_store(struct ip_source_set *set, const struct ip_ref *ref,
                            struct ip_store **out, struct ip_err *err)
{
    cleanup_free char *name = ip_ref_name(ref);
    for (size_t i = 0; i < set->n; i++) {
        if (!strcmp(set->e[i].name, name)) {
            *out = set->e[i].store;
            return 0;
        }
    }
    struct ip_store *s = NULL;
    /* another repository of a registry already open shares its client */
    for (size_t i = 0; i < set->n && !s; i++)
        if (ip_store_registry_is_on(set->e[i].store, ref->registry))
            s = ip_store_registry_sibling(set->e[i].store, ref->repository);
    if (!s) {
        int rc = ip_store_registry_open(ref, set->opts, &s, err);
        if (rc < 0) {
            /* imgpkg's words for an image it could not reach (its
             * registry.Get); a keychain or CA file in error is no fetching
             * problem */
            if (err->code != IP_E_USAGE && err->code != IP_E_INPUT && err->code != IP_E_IO)
                ip_err_wrap(err, "Fetching image");
            return rc;
        }
    }
    IP_GROW(set->e, set->cap, set->n + 1);
    set->e[set->n].name = name;
    name = NULL;
    set->e[set->n].store = s;
    set->n++;
    *out = s;
    return 0;
}

void ip_source_set_share(struct ip_source_set *set, struct ip_store *s)
{
    if (!s || strcmp(s->ops->scheme, "registry") != 0)
        return;
    struct ip_ref r;
    struct ip_err e;
    memset(&r, 0, sizeof(r));
    if (ip_repo_parse(ip_store_location(s), &r, &e) < 0)
        return;
    pthread_mutex_lock(&set->mu);
    IP_GROW(set->e, set->cap, set->n + 1);
    set->e[set->n].name = ip_ref_name(&r);
    set->e[set->n].store = ip_store_registry_sibling(s, r.repository);
    set->n++;
    pthread_mutex_unlock(&set->mu);
    ip_ref_release(&r);
}

void ip_graph_release(struct ip_graph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->nodes[i].orig_ref);
        free(g->nodes[i].tag);
        free(g->nodes[i].repo);
        ip_images_lock_release(&g->nodes[i].lock);
    }
    free(g->nodes);
    memset(g, 0, sizeof(*g));
}

long ip_graph_find(const struct ip_graph *g, const char *digest)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcmp(g->nodes[i].digest, digest))
            return (long)i;
    return -1;
}

static struct ip_graph_node *graph_add(struct ip_graph *g)
{
    IP_GROW(g->nodes, g->cap, g->n + 1);
    struct ip_graph_node *n = &g->nodes[g->n++];
    memset(n, 0, sizeof(*n));
    return n;
}

static void glog(const struct ip_graph_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void glog(const struct ip_graph_opts *o, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!o || !o->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    o->log(o->log_ctx, line);
}

static int check_kind(const struct ip_graph_opts *o, bool is_bundle, struct ip_err *err)
{
    if (o && o->kind == IP_ROOT_BUNDLE && !is_bundle)
        return ip_err_set(err, IP_E_INPUT,
                          "Expected bundle image but found plain image (hint: Did you use -i "
                          "instead of -b?)");
    if (o && o->kind == IP_ROOT_IMAGE && is_bundle)
        return ip_err_set(err, IP_E_INPUT,
                          "Expected bundle flag when copying a bundle (hint: Use -b instead of -i "
                          "for bundles)");
    return 0;
}

/* Finds the image `image` (repo@digest) referenced by a bundle held in
 * `bundle_ref`'s repository: that repository first (where a relocated bundle
 * keeps its images), then the image's own. */
static int locate_image(struct ip_source_set *set, const struct ip_ref *bundle_ref,
                        const char *image, struct ip_store **store, struct ip_manifest **m,
                        char **repo, struct ip_err *err)
{
    struct ip_ref ref;
    int rc;
    memset(&ref, 0, sizeof(ref));
    if ((rc = ip_ref_parse(image, &ref, err)) < 0)
        return rc;
    struct ip_ref here = *bundle_ref;
    const struct ip_ref *candidates[2] = {&here, &ref};
    rc = 0;
    for (int i = 0; i < 2; i++) {
        struct ip_store *s;
        if (i == 0 && !strcmp(bundle_ref->registry, ref.registry) &&
            !strcmp(bundle_ref->repository, ref.repository))
            continue; /* the same repository: tried as the image's own */
        if ((rc = ip_source_set_store(set, candidates[i], &s, err)) < 0) {
            if (i == 0)
                continue;
            break;
        }
        rc = ip_registry_resolve(s, ref.digest, m, err);
        if (rc == 0) {
            *store = s;
            *repo = ip_ref_name(candidates[i]);
            break;
        }
        if (err->code != IP_E_NOTFOUND && err->code != IP_E_AUTH)
            break;
    }
    /* imgpkg's words: the registry's answer for the image's own repository */
    if (rc < 0 && (err->code == IP_E_NOTFOUND || err->code == IP_E_AUTH))
        ip_err_wrap(err, "Checking image existence");
    ip_ref_release(&ref);
    return rc;
}

static int add_signatures(struct ip_graph *g, const struct ip_graph_opts *o, struct ip_err *err)
{
    size_t n = g->n;
    for (size_t i = 0; i < n; i++) {
        struct ip_graph_node *node = &g->nodes[i];
        cleanup_free char *tag = ip_xasprintf("sha256-%s.sig", ip_digest_hex(node->digest));
        struct ip_manifest *m = NULL;
        int rc = ip_store_get_manifest(node->src, tag, &m, err);
        if (rc < 0) {
            if (err->code == IP_E_NOTFOUND)
                continue;
            return ip_err_wrap(err, "looking for the signature of %s", node->digest);
        }
        if (ip_graph_find(g, m->digest) < 0) {
            struct ip_store *src = g->nodes[i].src;
            char *repo = g->nodes[i].repo ? ip_xstrdup(g->nodes[i].repo) : NULL;
            struct ip_graph_node *s = graph_add(g);
            s->src = src;
            s->repo = repo;
            memcpy(s->digest, m->digest, IP_DIGEST_SIZE);
            s->tag = ip_xstrdup(tag);
            s->orig_ref = ip_xasprintf("%s:%s", repo ? repo : src->location, tag);
            glog(o, "found signature %s", s->orig_ref);
        }
        ip_manifest_free(m);
    }
    return 0;
}

/* Locating the images of one bundle: every distinct image once, several at a
 * time (each is two or three sequential requests), the results then taken in
 * the lock file's order so the graph does not depend on timing
 * (LOCATE_THREADS at a time, airgap-internal.h). */

struct located {
    const char *image;
    struct ip_store *store;
    struct ip_manifest *m;
    char *repo; /* where it was found */
    bool is_bundle;
    int rc;
    struct ip_err err;
};

struct locate_ctx {
    struct ip_source_set *set;
    const struct ip_ref *bref;
    struct located *l;
};

static int locate_one(void *ctx, size_t i, struct ip_err *unused)
{
    struct locate_ctx *c = ctx;
    struct located *l = &c->l[i];
    ip_err_clear(&l->err);
    l->rc = locate_image(c->set, c->bref, l->image, &l->store, &l->m, &l->repo, &l->err);
    if (l->rc == 0)
        l->rc = ip_image_is_bundle(l->store, l->m, &l->is_bundle, &l->err);
    return 0; /* each image's outcome is its own */
}

static void locate_all(struct ip_source_set *set, const struct ip_ref *bref, struct located *l,
                       size_t n)
{
    struct locate_ctx c = {.set = set, .bref = bref, .l = l};
    struct ip_err err;
    ip_parallel_for(n, LOCATE_THREADS, locate_one, &c, &err);
}

/* The images of lock not yet in g, each once (by digest, else by name). */
static size_t distinct_images(const struct ip_graph *g, const struct ip_images_lock *lock,
                              struct located **out)
{
    struct located *l = ip_xcalloc(lock->n_images ? lock->n_images : 1, sizeof(*l));
    size_t n = 0;
    for (size_t i = 0; i < lock->n_images; i++) {
        const char *image = lock->images[i].image;
        const char *at = strrchr(image, '@');
        bool seen = at && ip_graph_find(g, at + 1) >= 0;
        for (size_t j = 0; j < n && !seen; j++) {
            const char *o = l[j].image, *oat = strrchr(o, '@');
            seen = !strcmp(o, image) || (at && oat && !strcmp(at, oat));
        }
        if (!seen)
            l[n++].image = image;
    }
    *out = l;
    return n;
}

int ip_graph_from_registry(struct ip_source_set *set, const char *ref_str,
                           const struct ip_graph_opts *o, struct ip_graph *out, struct ip_err *err)
{
    struct ip_graph g = {0};
    struct ip_ref ref;
    struct ip_store *s;
    struct ip_manifest *m = NULL;
    cleanup_free char *name = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = ip_ref_parse(ref_str, &ref, err)) < 0)
        return ip_err_wrap(err, "Parsing '%s'", ref_str);
    if ((rc = ip_source_set_store(set, &ref, &s, err)) < 0 ||
        (rc = ip_store_get_manifest(s, ref.digest[0] ? ref.digest : (ref.tag ? ref.tag : "latest"),
                                    &m, err)) < 0) {
        if (o->root_context && err->code != IP_E_USAGE)
            ip_err_wrap(err, o->root_context, ref_str);
        goto out;
    }
    bool is_bundle = false;
    if ((rc = ip_image_is_bundle(s, m, &is_bundle, err)) < 0)
        goto out;
    if ((rc = check_kind(o, is_bundle, err)) < 0)
        goto out;
    struct ip_graph_node *root = graph_add(&g);
    root->src = s;
    root->is_root = true;
    root->is_bundle = is_bundle;
    memcpy(root->digest, m->digest, IP_DIGEST_SIZE);
    name = ip_ref_name(&ref);
    root->orig_ref = ip_xasprintf("%s@%s", name, m->digest);
    root->repo = ip_xstrdup(name);
    if (!ref.digest[0] || ref.tag)
        root->tag = ip_xstrdup(ref.tag ? ref.tag : "latest");
    glog(o, "found %s %s", is_bundle ? "bundle" : "image", root->orig_ref);
    if (is_bundle && (rc = ip_bundle_images_lock(s, m, &root->lock, err)) < 0)
        goto out;
    ip_manifest_free(m);
    m = NULL;

    /* bundles in g, in order: each one's images are added after it */
    for (size_t bi = 0; bi < g.n; bi++) {
        if (!g.nodes[bi].is_bundle)
            continue;
        struct ip_ref bref;
        memset(&bref, 0, sizeof(bref));
        if ((rc = ip_ref_parse(g.nodes[bi].orig_ref, &bref, err)) < 0)
            goto out;
        /* the bundle's repository is where it was found */
        free(bref.registry);
        free(bref.repository);
        struct ip_ref where;
        memset(&where, 0, sizeof(where));
        if ((rc = ip_repo_parse(g.nodes[bi].repo, &where, err)) < 0) {
            ip_ref_release(&bref);
            goto out;
        }
        bref.registry = ip_xstrdup(where.registry);
        bref.repository = ip_xstrdup(where.repository);
        ip_ref_release(&where);
        struct located *l = NULL;
        size_t nl = distinct_images(&g, &g.nodes[bi].lock, &l);
        locate_all(set, &bref, l, nl);
        ip_ref_release(&bref);
        rc = 0;
        for (size_t i = 0; i < nl; i++) {
            if (rc == 0 && l[i].rc < 0) {
                rc = l[i].rc;
                *err = l[i].err;
                if (o && o->images_context)
                    ip_err_wrap(err, "%s", o->images_context);
            }
            if (rc < 0 || ip_graph_find(&g, l[i].m->digest) >= 0) {
                ip_manifest_free(l[i].m);
                free(l[i].repo);
                continue;
            }
            struct ip_graph_node *node = graph_add(&g);
            node->src = l[i].store;
            node->repo = l[i].repo;
            node->is_bundle = l[i].is_bundle;
            memcpy(node->digest, l[i].m->digest, IP_DIGEST_SIZE);
            node->orig_ref = ip_xstrdup(l[i].image);
            glog(o, "found %s %s", node->is_bundle ? "bundle" : "image", l[i].image);
            if (node->is_bundle)
                rc = ip_bundle_images_lock(node->src, l[i].m, &node->lock, err);
            ip_manifest_free(l[i].m);
        }
        free(l);
        if (rc < 0)
            goto out;
    }
    if (o && o->cosign_signatures && (rc = add_signatures(&g, o, err)) < 0)
        goto out;
    *out = g;
    memset(&g, 0, sizeof(g));
    rc = 0;
out:
    ip_manifest_free(m);
    ip_graph_release(&g);
    ip_ref_release(&ref);
    return rc;
}

int ip_graph_from_images_lock(struct ip_source_set *set, const struct ip_images_lock *lock,
                              const struct ip_graph_opts *o, struct ip_graph *out,
                              struct ip_err *err)
{
    struct ip_graph g = {0};
    int rc = 0;

    for (size_t i = 0; i < lock->n_images && rc == 0; i++) {
        const char *image = lock->images[i].image;
        struct ip_ref ref;
        struct ip_store *s = NULL;
        struct ip_manifest *m = NULL;
        memset(&ref, 0, sizeof(ref));
        if ((rc = ip_ref_parse(image, &ref, err)) < 0) {
            ip_err_wrap(err, "Parsing '%s'", image);
            break;
        }
        if ((rc = ip_source_set_store(set, &ref, &s, err)) == 0 &&
            (rc = ip_store_get_manifest(s, ref.digest, &m, err)) == 0 &&
            ip_graph_find(&g, m->digest) < 0) {
            /* each image is copied as an image, bundle or not (as imgpkg) */
            struct ip_graph_node *node = graph_add(&g);
            node->src = s;
            memcpy(node->digest, m->digest, IP_DIGEST_SIZE);
            node->orig_ref = ip_xstrdup(image);
            node->repo = ip_ref_name(&ref);
            glog(o, "found image %s", image);
        }
        ip_manifest_free(m);
        ip_ref_release(&ref);
    }
    if (rc == 0 && g.n == 0)
        rc = ip_err_set(err, IP_E_INPUT, "the images lock names no image");
    if (rc == 0 && o && o->cosign_signatures)
        rc = add_signatures(&g, o, err);
    if (rc == 0) {
        *out = g;
        memset(&g, 0, sizeof(g));
    }
    ip_graph_release(&g);
    return rc;
}

int ip_graph_from_layout(struct ip_store *s, const struct ip_graph_opts *o, struct ip_graph *out,
                         struct ip_err *err)
{
    struct ip_graph g = {0};
    struct ip_desc *e = NULL;
    size_t n = 0;
    long root = -1;
    int rc;

    if ((rc = ip_store_list(s, &e, &n, err)) < 0)
        return rc;
    if (n == 0) {
        /* callers take nodes[0] as the root */
        ip_descs_free(e, n);
        return ip_err_set(err, IP_E_INPUT, "%s holds no image", s->location);
    }
    for (size_t i = 0; i < n && root < 0; i++)
        if (ip_desc_annotation(&e[i], IP_ANN_ROOT_BUNDLE))
            root = (long)i;
    if (root < 0) {
        /* a layout not made by copy: its only entry, or its only tagged one */
        long tagged = -1;
        size_t n_tagged = 0;
        for (size_t i = 0; i < n; i++) {
            const char *t = ip_desc_annotation(&e[i], IP_ANN_REF_NAME);
            if (t && !strstr(t, ".sig")) {
                tagged = (long)i;
                n_tagged++;
            }
        }
        if (n == 1)
            root = 0;
        else if (n_tagged == 1)
            root = tagged;
    }
    /* no root (several images, e.g. copied from a lock file): every image is
     * copied as it is, under its own tag */
    bool rootless = root < 0;
    if (rootless)
        root = 0;
    for (size_t k = 0; k < n; k++) {
        /* the root first */
        size_t i = k == 0 ? (size_t)root : (k <= (size_t)root ? k - 1 : k);
        struct ip_manifest *m = NULL;
        if ((rc = ip_store_get_manifest(s, e[i].digest, &m, err)) < 0)
            goto out;
        struct ip_graph_node *node = graph_add(&g);
        node->src = s;
        memcpy(node->digest, e[i].digest, IP_DIGEST_SIZE);
        node->is_root = k == 0 && !rootless;
        const char *orig = ip_desc_annotation(&e[i], IP_ANN_ORIGINAL_REF);
        const char *tag = ip_desc_annotation(&e[i], IP_ANN_REF_NAME);
        node->orig_ref = orig ? ip_xstrdup(orig) : NULL;
        if (tag && ip_tag_valid(tag) && (node->is_root || rootless || strstr(tag, ".sig")))
            node->tag = ip_xstrdup(tag);
        rc = ip_image_is_bundle(s, m, &node->is_bundle, err);
        if (rc == 0 && node->is_bundle)
            rc = ip_bundle_images_lock(s, m, &node->lock, err);
        ip_manifest_free(m);
        if (rc < 0)
            goto out;
        if (node->is_root && (rc = check_kind(o, node->is_bundle, err)) < 0)
            goto out;
    }
    /* every image a bundle names must be here */
    for (size_t i = 0; i < g.n; i++) {
        for (size_t j = 0; j < g.nodes[i].lock.n_images; j++) {
            const char *img = g.nodes[i].lock.images[j].image;
            const char *at = strchr(img, '@');
            if (!at || ip_graph_find(&g, at + 1) < 0) {
                rc = ip_err_set(err, IP_E_INPUT, "%s lacks image '%s' that bundle %s references",
                                s->location, img, g.nodes[i].digest);
                goto out;
            }
        }
    }
    *out = g;
    memset(&g, 0, sizeof(g));
    rc = 0;
out:
    ip_descs_free(e, n);
    ip_graph_release(&g);
    return rc;
}
