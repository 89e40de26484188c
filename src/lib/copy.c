/* copy.c - the copy engine.  It resolves every item's graph in the source
 * (manifests are small and read whole; an index's children recursively, with
 * cycles refused), declares the top-level entries to the destination, moves
 * each blob once through a verifying reader, writes manifests children first,
 * and commits last. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/retry.h"
#include "imgpkg/copy.h"
#include "store/store-private.h"
#include "util/hashmap.h"
#include "util/parallel.h"
#include "util/banned.h"

#define MAX_DEPTH 16

/* A non-distributable layer as an image manifest lists it. */
struct foreign_use {
    size_t item;
    char manifest[IP_DIGEST_SIZE];
    struct ip_desc layer;
    bool left_out;
};

struct plan {
    struct ip_manifest **manifests; /* children first, unique */
    size_t n_manifests, cap_manifests;
    struct ip_desc *blobs;         /* unique */
    struct ip_store **blob_src;    /* where each blob is read from */
    struct ip_store **blob_origin; /* a registry it may be mounted from, or NULL */
    size_t n_blobs, cap_blobs;
    bool include_foreign;
    struct foreign_use *foreign; /* unique per (manifest, layer) */
    size_t n_foreign, cap_foreign;
    /* digest -> index in manifests (keys borrowed), in blobs; "manifest layer" -> in foreign */
    struct ip_hashmap manifest_idx, blob_idx, foreign_idx;
    /* the item being planned */
    size_t cur_item;
    struct ip_store *cur_origin;
};

static bool plan_has_manifest(const struct plan *p, const char *digest)
{
    return ip_hashmap_get(&p->manifest_idx, digest, NULL);
}

static void plan_add_blob(struct plan *p, struct ip_store *src, const struct ip_desc *d)
{
    size_t i;
    if (ip_hashmap_get(&p->blob_idx, d->digest, &i)) {
        if (!p->blob_origin[i])
            p->blob_origin[i] = p->cur_origin;
        return;
    }
    ip_hashmap_put(&p->blob_idx, d->digest, p->n_blobs);
    size_t cap = p->cap_blobs;
    IP_GROW(p->blobs, p->cap_blobs, p->n_blobs + 1);
    if (cap != p->cap_blobs) {
        p->blob_src = ip_xrealloc(p->blob_src, p->cap_blobs * sizeof(*p->blob_src));
        p->blob_origin = ip_xrealloc(p->blob_origin, p->cap_blobs * sizeof(*p->blob_origin));
    }
    p->blob_src[p->n_blobs] = src;
    p->blob_origin[p->n_blobs] = p->cur_origin;
    ip_desc_copy(&p->blobs[p->n_blobs++], d);
}

static void plan_add_layer(struct plan *p, struct ip_store *src, const char *manifest,
                           const struct ip_desc *d)
{
    if (ip_media_type_is_foreign(d->media_type)) {
        cleanup_free char *key = ip_xasprintf("%s %s", manifest, d->digest);
        if (ip_hashmap_put(&p->foreign_idx, key, p->n_foreign)) {
            IP_GROW(p->foreign, p->cap_foreign, p->n_foreign + 1);
            struct foreign_use *u = &p->foreign[p->n_foreign++];
            memset(u, 0, sizeof(*u));
            u->item = p->cur_item;
            memcpy(u->manifest, manifest, IP_DIGEST_SIZE);
            ip_desc_copy(&u->layer, d);
            u->left_out = !p->include_foreign;
        }
        if (!p->include_foreign)
            return;
    }
    plan_add_blob(p, src, d);
}

static void plan_release(struct plan *p)
{
    for (size_t i = 0; i < p->n_manifests; i++)
        ip_manifest_free(p->manifests[i]);
    free(p->manifests);
    ip_descs_free(p->blobs, p->n_blobs);
    free(p->blob_src);
    free(p->blob_origin);
    for (size_t i = 0; i < p->n_foreign; i++)
        ip_desc_release(&p->foreign[i].layer);
    free(p->foreign);
    ip_hashmap_release(&p->manifest_idx);
    ip_hashmap_release(&p->blob_idx);
    ip_hashmap_release(&p->foreign_idx);
}

/* Adds m (owned) and everything below it; `path` holds the digests of the
 * indexes above, to refuse an index that reaches itself. */
static int plan_add(struct ip_store *src, struct plan *p, struct ip_manifest *m, const char **path,
                    int depth, struct ip_err *err)
{
    int rc;
    for (int i = 0; i < depth; i++) {
        if (!strcmp(path[i], m->digest)) {
            rc = ip_err_set(err, IP_E_FORMAT, "index %s refers to itself", m->digest);
            ip_manifest_free(m);
            return rc;
        }
    }
    if (depth >= MAX_DEPTH) {
        rc = ip_err_set(err, IP_E_FORMAT, "indexes nested more than %d deep at %s", MAX_DEPTH,
                        m->digest);
        ip_manifest_free(m);
        return rc;
    }
    if (m->is_index) {
        path[depth] = m->digest;
        for (size_t i = 0; i < m->n_manifests; i++) {
            const struct ip_desc *c = &m->manifests[i];
            struct ip_manifest *child;
            bool in_path = false;
            for (int j = 0; j <= depth; j++)
                if (!strcmp(path[j], c->digest))
                    in_path = true;
            if (in_path) {
                rc = ip_err_set(err, IP_E_FORMAT, "index %s refers to itself", c->digest);
                ip_manifest_free(m);
                return rc;
            }
            if (plan_has_manifest(p, c->digest))
                continue;
            if (!ip_media_type_is_index(c->media_type) &&
                !ip_media_type_is_manifest(c->media_type)) {
                /* an artifact that is not an image: copy it as a blob */
                plan_add_blob(p, src, c);
                continue;
            }
            if ((rc = ip_store_get_manifest(src, c->digest, &child, err)) < 0) {
                /* c points into m: the message is made before m is freed */
                rc = ip_err_wrap(err, "reading manifest %s", c->digest);
                ip_manifest_free(m);
                return rc;
            }
            if (strcmp(child->digest, c->digest) != 0 || (int64_t)child->raw_len != c->size) {
                rc = ip_err_set(err, IP_E_DIGEST,
                                "manifest %s: content does not match its descriptor", c->digest);
                ip_manifest_free(child);
                ip_manifest_free(m);
                return rc;
            }
            if ((rc = plan_add(src, p, child, path, depth + 1, err)) < 0) {
                ip_manifest_free(m);
                return rc;
            }
        }
    } else {
        for (size_t i = 0; i < m->n_layers; i++)
            plan_add_layer(p, src, m->digest, &m->layers[i]);
        plan_add_blob(p, src, &m->config);
    }
    if (plan_has_manifest(p, m->digest)) {
        ip_manifest_free(m);
        return 0;
    }
    IP_GROW(p->manifests, p->cap_manifests, p->n_manifests + 1);
    ip_hashmap_put(&p->manifest_idx, m->digest, p->n_manifests);
    p->manifests[p->n_manifests++] = m;
    return 0;
}

static const struct ip_manifest *plan_find(const struct plan *p, const char *digest)
{
    size_t i;
    return ip_hashmap_get(&p->manifest_idx, digest, &i) ? p->manifests[i] : NULL;
}

/* A non-distributable layer that a tarball or layout lacks (left out when it
 * was written) is taken from the item's origin when the origin holds it; else
 * the copy stops before anything moves, with the source's own message. */
static int locate_missing_foreign(struct plan *p, struct ip_err *err)
{
    for (size_t i = 0; i < p->n_blobs; i++) {
        const struct ip_desc *d = &p->blobs[i];
        struct ip_store *src = p->blob_src[i], *origin = p->blob_origin[i];
        bool have = false;
        int rc;
        if (!ip_media_type_is_foreign(d->media_type) || !strcmp(src->ops->scheme, "registry"))
            continue;
        if ((rc = ip_store_has_blob(src, d, &have, err)) < 0)
            return rc;
        if (have)
            continue;
        if (origin && ip_store_has_blob(origin, d, &have, err) == 0 && have) {
            p->blob_src[i] = origin;
            continue;
        }
        struct ip_reader *r = NULL;
        if ((rc = ip_store_open_blob(src, d, &r, err)) < 0)
            return rc;
        ip_reader_free(r); /* it can be read after all */
    }
    return 0;
}

static int copy_blob_once(struct ip_store *src, struct ip_store *origin, struct ip_store *dst,
                          const struct ip_desc *d, bool *skipped, struct ip_err *err)
{
    struct ip_reader *r = NULL;
    bool have = false;
    int rc;
    if ((rc = ip_store_has_blob(dst, d, &have, err)) < 0)
        return rc;
    *skipped = have;
    if (have)
        return 0;
    /* a registry can take the blob from another repository it holds */
    if (dst->ops->mount_blob) {
        bool mounted = false;
        if ((rc = dst->ops->mount_blob(dst, d, src, &mounted, err)) < 0)
            return rc;
        /* a blob from a tarball: its recorded origin may hold it */
        if (!mounted && origin && origin != src &&
            (rc = dst->ops->mount_blob(dst, d, origin, &mounted, err)) < 0)
            return rc;
        if (mounted)
            return 0;
    }
    /* a layer the builder wrote next to the destination is moved, not copied */
    if (src->ops->blob_file && dst->ops->adopt_blob_file) {
        const char *path = src->ops->blob_file(src, d);
        if (path)
            return dst->ops->adopt_blob_file(dst, d, path, err);
    }
    if ((rc = ip_store_open_blob(src, d, &r, err)) < 0)
        return rc;
    cleanup_free char *what = ip_xasprintf("blob %s from %s", d->digest, src->location);
    r = ip_reader_verify(r, d->digest, d->size, what);
    rc = ip_store_put_blob(dst, d, r, err);
    ip_reader_free(r);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pthread_mutex_t progress_mu = PTHREAD_MUTEX_INITIALIZER;

struct blob_copy {
    struct ip_store *src, *origin, *dst;
    const struct ip_desc *d;
    const struct ip_copy_opts *opts;
    double start;
};

static int copy_blob_try(void *ctx, struct ip_err *err)
{
    struct blob_copy *b = ctx;
    bool skipped = false;
    int rc = copy_blob_once(b->src, b->origin, b->dst, b->d, &skipped, err);
    if (rc == 0 && b->opts && b->opts->progress) {
        pthread_mutex_lock(&progress_mu);
        b->opts->progress(b->opts->progress_ctx, b->d, skipped, now_s() - b->start);
        pthread_mutex_unlock(&progress_mu);
    }
    return rc;
}

static int copy_blob(struct ip_store *src, struct ip_store *origin, struct ip_store *dst,
                     const struct ip_desc *d, int retries, const struct ip_copy_opts *opts,
                     struct ip_err *err)
{
    struct blob_copy b = {src, origin, dst, d, opts, now_s()};
    /* a tarball being written cannot take a blob again after a partial one;
     * a digest mismatch is worth another try only for bytes that came over
     * the network (spoiled on the way, or cut short) */
    struct ip_retry policy = ip_retry_policy(dst->parallel_write ? retries : 0);
    policy.corrupt = !strcmp(src->ops->scheme, "registry");
    return ip_retry_run(&policy, copy_blob_try, &b, err);
}

struct blob_job {
    struct ip_store *dst;
    const struct plan *plan;
    const struct ip_copy_opts *opts;
    int retries;
};

static int copy_one(void *ctx, size_t i, struct ip_err *err)
{
    const struct blob_job *j = ctx;
    const struct plan *p = j->plan;
    return copy_blob(p->blob_src[i], p->blob_origin[i], j->dst, &p->blobs[i], j->retries, j->opts,
                     err);
}

/* Moves every blob of the plan, on up to `concurrency` threads when both
 * stores allow it; the first failure stops the rest. */
static int copy_blobs(struct ip_store *src, struct ip_store *dst, const struct plan *plan,
                      const struct ip_copy_opts *opts, struct ip_err *err)
{
    int concurrency = opts && opts->concurrency ? opts->concurrency : 5;
    int retries = opts ? opts->retries : 5;
    if (retries < 0)
        retries = 0;
    struct blob_job j = {.dst = dst, .plan = plan, .opts = opts, .retries = retries};
    int n = concurrency;
    if (n < 1)
        n = 1;
    if (n > 64)
        n = 64;
    if (!dst->parallel_write)
        n = 1;
    for (size_t i = 0; i < plan->n_blobs; i++)
        if (!plan->blob_src[i]->parallel_read)
            n = 1;
    return ip_parallel_for(plan->n_blobs, (size_t)n, copy_one, &j, err);
}

int ip_copy(struct ip_store *src, struct ip_store *dst, const struct ip_copy_item *items, size_t n,
            const struct ip_copy_opts *opts, struct ip_copy_result *results, struct ip_err *err)
{
    struct plan p;
    struct ip_store_entry *entries = ip_xcalloc(n ? n : 1, sizeof(*entries));
    const char *path[MAX_DEPTH + 1];
    int rc = 0;

    memset(&p, 0, sizeof(p));
    ip_hashmap_init(&p.manifest_idx, true); /* keys: the manifests' own digests */
    p.include_foreign = opts && opts->include_nondistributable;
    for (size_t i = 0; i < n; i++) {
        struct ip_store *isrc = items[i].src ? items[i].src : src;
        struct ip_manifest *m;
        if ((rc = ip_store_get_manifest(isrc, items[i].src_ref, &m, err)) < 0)
            goto out;
        if (ip_digest_valid(items[i].src_ref) && strcmp(m->digest, items[i].src_ref) != 0) {
            rc = ip_err_set(err, IP_E_DIGEST, "manifest %s from %s has digest %s", items[i].src_ref,
                            isrc->location, m->digest);
            ip_manifest_free(m);
            goto out;
        }
        memcpy(results[i].digest, m->digest, IP_DIGEST_SIZE);
        struct ip_desc *d = &entries[i].desc;
        d->media_type = ip_xstrdup(m->media_type);
        memcpy(d->digest, m->digest, IP_DIGEST_SIZE);
        d->size = (int64_t)m->raw_len;
        for (size_t j = 0; j < items[i].n_annotations; j++)
            ip_desc_set_annotation(d, items[i].annotations[j].key, items[i].annotations[j].val);
        entries[i].repo_tag = items[i].repo_tag;
        entries[i].tags = items[i].tags;
        entries[i].n_tags = items[i].n_tags;
        p.cur_item = i;
        p.cur_origin = items[i].origin;
        if ((rc = plan_add(isrc, &p, m, path, 0, err)) < 0)
            goto out;
    }
    for (size_t i = 0; i < n; i++)
        entries[i].manifest = plan_find(&p, entries[i].desc.digest);
    if (opts && opts->foreign) {
        for (size_t i = 0; i < p.n_foreign; i++)
            opts->foreign(opts->foreign_ctx, p.foreign[i].item, p.foreign[i].manifest,
                          &p.foreign[i].layer, p.foreign[i].left_out);
    }
    if ((rc = locate_missing_foreign(&p, err)) < 0)
        goto out;
    if ((rc = ip_store_begin(dst, entries, n, err)) < 0)
        goto out;
    if ((rc = copy_blobs(src, dst, &p, opts, err)) < 0)
        goto out;
    for (size_t i = 0; i < p.n_manifests; i++)
        if ((rc = ip_store_put_manifest(dst, p.manifests[i], err)) < 0)
            goto out;
    rc = ip_store_commit(dst, err);
out:
    for (size_t i = 0; i < n; i++)
        ip_desc_release(&entries[i].desc);
    free(entries);
    plan_release(&p);
    return rc;
}

void ip_copy_progress_lines(void *ctx, const struct ip_desc *d, bool skipped, double seconds)
{
    FILE *out = ctx ? ctx : stdout;
    double mib = (double)d->size / (1024.0 * 1024.0);
    if (skipped)
        fprintf(out, "%.19s... %.1f MiB already present\n", d->digest, mib);
    else
        fprintf(out, "%.19s... %.1f MiB in %.1fs (%.1f MiB/s)\n", d->digest, mib, seconds,
                seconds > 0 ? mib / seconds : 0.0);
    fflush(out);
}
