/* cmd-copy.c - imgpkg copy: a bundle with every image it references, or an
 * image, from a registry or a tarball to a tarball, a layout directory or a
 * repository (relocation with imgpkg's tags and image-locations records). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imgpkg/airgap.h"
#include "imgpkg/lock.h"
#include "util/banned.h"

struct copy_opts {
    struct registry_flags rf;
    char *bundle, *image, *lock, *tar, *oci_tar;
    char *to_repo, *to_tar, *to_layout, *lock_output;
    bool include_nd, cosign, resume, repo_based_tags;
    const struct cli_global *g;
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* imgpkg's export lines: every image where it was found, sorted. */
static void export_lines(const struct cli_global *gl, const struct ip_graph *g)
{
    char **refs = ip_xcalloc(g->n ? g->n : 1, sizeof(*refs));
    size_t n = 0;
    ui_line(gl, "copy | exporting %zu images...", g->n);
    for (size_t i = 0; i < g->n; i++) {
        const struct ip_graph_node *node = &g->nodes[i];
        if (node->repo)
            refs[n++] = ip_xasprintf("%s@%s", node->repo, node->digest);
        else if (node->orig_ref)
            refs[n++] = ip_xstrdup(node->orig_ref);
    }
    qsort(refs, n, sizeof(*refs), str_cmp);
    for (size_t i = 0; i < n; i++) {
        ui_line(gl, "copy | will export %s", refs[i]);
        free(refs[i]);
    }
    free(refs);
    ui_line(gl, "copy | exported %zu images", g->n);
}

/* Non-distributable layers met by the copy, and those left out, for
 * imgpkg's warning (one entry per image manifest and layer). */
struct foreign_layers {
    size_t n_met;
    struct left_out {
        size_t item;
        char manifest[IP_DIGEST_SIZE];
        char layer[IP_DIGEST_SIZE];
    } * left;
    size_t n_left, cap_left;
};

static void note_foreign(void *ctx, size_t item, const char *manifest, const struct ip_desc *layer,
                         bool left_out)
{
    struct foreign_layers *f = ctx;
    f->n_met++;
    if (!left_out)
        return;
    /* a copy that falls back to staging plans the same graph again */
    for (size_t i = 0; i < f->n_left; i++)
        if (!strcmp(f->left[i].manifest, manifest) && !strcmp(f->left[i].layer, layer->digest))
            return;
    IP_GROW(f->left, f->cap_left, f->n_left + 1);
    struct left_out *l = &f->left[f->n_left++];
    l->item = item;
    memcpy(l->manifest, manifest, IP_DIGEST_SIZE);
    memcpy(l->layer, layer->digest, IP_DIGEST_SIZE);
}

/* imgpkg's warning, grouped per image: named in the destination repository
 * when there is one, else where it was read from. */
static void warn_foreign(const struct copy_opts *o, const struct foreign_layers *f,
                         const struct ip_graph *g, const struct ip_store *dst_repo)
{
    if (o->include_nd) {
        if (!f->n_met)
            ui_line(o->g,
                    "copy | Warning: '--include-non-distributable-layers' flag provided, but no "
                    "images contained a non-distributable layer.");
        return;
    }
    if (!f->n_left)
        return;
    ui_line(o->g,
            "copy | Warning: Skipped the followings layer(s) due to it being non-distributable. If "
            "you would like to include non-distributable layers, use the "
            "--include-non-distributable-layers flag");
    for (size_t i = 0; i < f->n_left; i++) {
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(f->left[j].manifest, f->left[i].manifest) != 0;
        if (!first)
            continue;
        const struct ip_store *where = dst_repo;
        if (!where && f->left[i].item < g->n)
            where = g->nodes[f->left[i].item].src;
        ui_line(o->g, "copy |  - Image: %s@%s", where ? ip_store_location(where) : "",
                f->left[i].manifest);
        ui_line(o->g, "copy |    Layers:");
        for (size_t j = i; j < f->n_left; j++)
            if (!strcmp(f->left[j].manifest, f->left[i].manifest))
                ui_line(o->g, "copy |      - %s", f->left[j].layer);
    }
}

struct lock_entry {
    char *source; /* where the image came from: the order of imgpkg's lock */
    const char *digest;
};

static int lock_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct lock_entry *)a)->source, ((const struct lock_entry *)b)->source);
}

/* --lock-output: a BundleLock for a bundle; an ImagesLock of where the
 * images are now otherwise: from an ImagesLock, its entries with their
 * annotations; else every image copied (signatures too), in the order of
 * the references they were copied from, as imgpkg writes it. */
static int write_lock_output(const char *path, const struct ip_graph *g,
                             const struct ip_lock_file *in, const char *repo, struct ip_err *err)
{
    const struct ip_graph_node *root = &g->nodes[0];
    struct ip_images_lock l = {0};
    int rc;
    if (root->is_root && root->is_bundle) {
        cleanup_free char *image = ip_xasprintf("%s@%s", repo, root->digest);
        return ip_bundle_lock_write(path, image, root->tag, err);
    }
    if (in && !in->is_bundle_lock) {
        ip_images_lock_rebase(&in->images, repo, &l);
    } else {
        struct lock_entry *e = ip_xcalloc(g->n ? g->n : 1, sizeof(*e));
        for (size_t i = 0; i < g->n; i++) {
            const struct ip_graph_node *n = &g->nodes[i];
            if (n->repo)
                e[i].source = ip_xasprintf("%s@%s", n->repo, n->digest);
            else if (n->orig_ref && strchr(n->orig_ref, '@'))
                e[i].source = ip_xstrdup(n->orig_ref);
            else
                e[i].source = ip_xstrdup(n->digest);
            e[i].digest = n->digest;
        }
        qsort(e, g->n, sizeof(*e), lock_entry_cmp);
        l.images = ip_xcalloc(g->n ? g->n : 1, sizeof(*l.images));
        for (size_t i = 0; i < g->n; i++) {
            l.images[l.n_images++].image = ip_xasprintf("%s@%s", repo, e[i].digest);
            free(e[i].source);
        }
        free(e);
    }
    rc = ip_images_lock_write(path, &l, err);
    ip_images_lock_release(&l);
    return rc;
}

static int copy_to_tar_staged(const struct copy_opts *o, const struct ip_graph *g,
                              const struct ip_copy_opts *co, struct ip_err *err);

/* Copy to a tarball.  First straight into it, every blob written once; if a
 * blob fails on the way (a tar stream cannot take a blob again), or with
 * --resume, through a staging layout beside it: blobs land there verified,
 * in parallel, retried one by one, and survive an interrupted run (--resume
 * picks them up); the tarball is then written from it in one pass and the
 * staging removed. */
static int copy_to_tar(const struct copy_opts *o, const struct ip_graph *g,
                       const struct ip_copy_opts *co, struct ip_err *err)
{
    cleanup_free char *sdir = ip_dirname(o->to_tar);
    cleanup_free char *sbase = ip_basename(o->to_tar);
    cleanup_free char *sname = ip_xasprintf("%s/.%s.imgpkg-partial", sdir, sbase);
    if (!o->resume && !ip_is_dir(sname)) {
        struct ip_store *direct = NULL;
        struct stat dst_st;
        int drc;
        if (stat(o->to_tar, &dst_st) == 0 && S_ISDIR(dst_st.st_mode))
            return ip_err_set(err, IP_E_EXISTS, "'%s' is a directory, expected a tarball path",
                              o->to_tar);
        if ((drc = ip_store_oci_tar_create(o->to_tar, &direct, err)) < 0)
            return drc;
        drc = ip_graph_to_layout(g, direct, co, err);
        ip_store_free(direct);
        /* a failure of the destination itself (disk full) is not helped by staging */
        if (drc == 0 || err->code == IP_E_IO || err->code == IP_E_EXISTS)
            return drc;
        ui_line(o->g, "copy | %s; fetching %s through a staging directory", err->msg,
                ip_err_classify(err) != IP_FAIL_FINAL ? "again" : "what can be fetched");
    }
    return copy_to_tar_staged(o, g, co, err);
}

static int copy_to_tar_staged(const struct copy_opts *o, const struct ip_graph *g,
                              const struct ip_copy_opts *co, struct ip_err *err)
{
    cleanup_free char *dir = ip_dirname(o->to_tar);
    cleanup_free char *base = ip_basename(o->to_tar);
    cleanup_free char *staging = ip_xasprintf("%s/.%s.imgpkg-partial", dir, base);
    struct ip_store *stage = NULL, *tar = NULL;
    struct ip_graph g2 = {0};
    struct stat st;
    int rc;

    if (stat(o->to_tar, &st) == 0 && S_ISDIR(st.st_mode))
        return ip_err_set(err, IP_E_EXISTS, "'%s' is a directory, expected a tarball path",
                          o->to_tar);
    /* refuse early when the tarball cannot be written */
    if ((rc = ip_store_oci_tar_create(o->to_tar, &tar, err)) < 0)
        return rc;
    if (!o->resume && ip_is_dir(staging))
        ip_remove_tree(staging);
    if ((rc = ip_store_oci_dir_open_in_place(staging, &stage, err)) < 0)
        goto out;
    if ((rc = ip_graph_to_layout(g, stage, co, err)) < 0) {
        ip_err_wrap(err, "copying to '%s' (what was fetched is kept; rerun with --resume)",
                    o->to_tar);
        goto out;
    }
    g2 = *g;
    g2.nodes = ip_xcalloc(g->n ? g->n : 1, sizeof(*g2.nodes));
    memcpy(g2.nodes, g->nodes, g->n * sizeof(*g2.nodes));
    for (size_t i = 0; i < g2.n; i++)
        g2.nodes[i].src = stage;
    struct ip_copy_opts local = *co;
    local.progress = NULL;
    local.foreign = NULL; /* the first pass already noted them */
    if ((rc = ip_graph_to_layout(&g2, tar, &local, err)) < 0)
        goto out;
    ip_store_free(stage);
    stage = NULL;
    ip_remove_tree(staging);
out:
    free(g2.nodes);
    ip_store_free(stage);
    ip_store_free(tar);
    return rc;
}

/* The graph to copy: from the tarball (never contacting the source
 * registry), or from the registry by -b, -i or --lock (a BundleLock or an
 * ImagesLock, kept in *lock for --lock-output). */
static int load_source(const struct copy_opts *o, struct ip_source_set *set,
                       struct ip_graph_opts *go, struct ip_store **src, struct ip_graph *gr,
                       struct ip_lock_file *lock, struct ip_err *err)
{
    int rc;
    if (o->tar) {
        if ((rc = open_layout_source(o->tar, NULL, src, err)) < 0)
            return rc;
        return ip_graph_from_layout(*src, go, gr, err);
    }
    const char *ref = o->bundle ? o->bundle : o->image;
    if (o->lock) {
        if ((rc = ip_lock_file_read(o->lock, lock, err)) < 0)
            return ip_err_wrap(err, "Trying to read bundle or images lock file");
        if (!lock->is_bundle_lock)
            return ip_graph_from_images_lock(set, &lock->images, go, gr, err);
        ref = lock->bundle.image;
        go->kind = IP_ROOT_BUNDLE;
    }
    if ((rc = ip_graph_from_registry(set, ref, go, gr, err)) < 0)
        return rc;
    if (o->lock && lock->bundle.tag && ip_tag_valid(lock->bundle.tag)) {
        /* the lock's tag goes with the bundle, as imgpkg does */
        free(gr->nodes[0].tag);
        gr->nodes[0].tag = ip_xstrdup(lock->bundle.tag);
    }
    return 0;
}

/* Which source and which destination: exactly one of each, and the flags
 * that go with them (imgpkg's messages). */
static int check_flags(struct copy_opts *o, struct ip_err *err)
{
    if (o->tar && o->oci_tar)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-tar");
    if (o->oci_tar) {
        o->tar = o->oci_tar;
        o->oci_tar = NULL;
    }
    if (!!o->tar + !!o->bundle + !!o->image + !!o->lock != 1)
        return ip_err_set(
            err, IP_E_USAGE,
            "Expected either --lock, --bundle (-b), --image (-i), or --tar as a source");
    if (!!o->to_repo + !!o->to_tar + !!o->to_layout != 1)
        return ip_err_set(err, IP_E_USAGE, "Expected either --to-tar or --to-repo");
    if (o->tar && (o->to_tar || o->to_layout))
        return ip_err_set(err, IP_E_USAGE,
                          "Cannot use tar source (--tar) with tar destination (--to-tar)");
    if (o->lock_output && !o->to_repo)
        return ip_err_set(err, IP_E_USAGE, "Cannot output lock file with tar destination");
    if (o->resume && !o->to_tar)
        return ip_err_set(err, IP_E_USAGE, "Flag --resume can only be used when copying to tar");
    return 0;
}

static int copy_run(const struct cli_global *gl, void *opts, struct ip_err *err)
{
    struct copy_opts *o = opts;
    struct ip_registry_opts ro;
    struct ip_source_set *set = NULL;
    struct ip_store *src = NULL, *dst = NULL;
    struct ip_graph g = {0};
    struct ip_lock_file lock = {0};
    struct foreign_layers fl = {0};
    int rc;

    o->g = gl;
    if ((rc = registry_flags_opts(gl, &o->rf, &ro, err)) < 0)
        return rc;
    if ((rc = check_flags(o, err)) < 0)
        return rc;

    struct ip_graph_opts go = {.kind = o->bundle  ? IP_ROOT_BUNDLE
                                       : o->image ? IP_ROOT_IMAGE
                                                  : IP_ROOT_ANY,
                               .cosign_signatures = o->cosign,
                               .images_context = "Reading Images from Bundle"};
    set = ip_source_set_new(&ro);
    if ((rc = load_source(o, set, &go, &src, &g, &lock, err)) < 0)
        goto out;
    if (!o->tar)
        export_lines(gl, &g);

    struct ip_copy_opts co = {
        .concurrency = o->rf.concurrency,
        .retries = ro.retries,
        /* imgpkg shows none; a tarball's blobs, ours on a TTY */
        .progress = ui_is_tty(gl) && !o->to_repo && !gl->doc ? ip_copy_progress_lines : NULL,
        .include_nondistributable = o->include_nd,
        .foreign = note_foreign,
        .foreign_ctx = &fl};
    if (o->to_tar) {
        rc = copy_to_tar(o, &g, &co, err);
    } else if (o->to_layout) {
        if ((rc = ip_store_oci_dir_open(o->to_layout, true, &dst, err)) == 0)
            rc = ip_graph_to_layout(&g, dst, &co, err);
    } else {
        struct ip_ref repo;
        memset(&repo, 0, sizeof(repo));
        if ((rc = ip_repo_parse(o->to_repo, &repo, err)) < 0) {
            ip_err_wrap(err, "--to-repo");
            goto out;
        }
        rc = ip_store_registry_open(&repo, &ro, &dst, err);
        cleanup_free char *repo_name = ip_ref_name(&repo);
        ip_ref_release(&repo);
        if (rc < 0)
            goto out;
        /* from a tarball, blobs are mounted from their recorded origins on the
         * destination's registry (only there), through the destination's client */
        if (o->tar)
            ip_source_set_share(set, dst);
        ui_line(gl, "copy | importing %zu images...", g.n);
        struct ip_relocate_opts rel = {.repo_based_tags = o->repo_based_tags,
                                       .tmp_dir = cli_tmp_dir(),
                                       .origins = o->tar ? set : NULL};
        if ((rc = ip_graph_to_repo(&g, dst, &co, &rel, err)) < 0)
            goto out;
        ui_line(gl, "copy | done uploading images");
        warn_foreign(o, &fl, &g, dst);
        ui_line(gl, "copy | Tagging images");
        if (o->lock_output)
            rc = write_lock_output(o->lock_output, &g, o->lock ? &lock : NULL, repo_name, err);
    }
    if (rc == 0 && !o->to_repo)
        warn_foreign(o, &fl, &g, NULL);
out:
    ip_lock_file_release(&lock);
    free(fl.left);
    ip_graph_release(&g);
    ip_store_free(dst);
    ip_store_free(src);
    ip_source_set_free(set);
    return rc;
}

#define O(field) offsetof(struct copy_opts, field)

static const struct flag copy_flags[] = {
    {"bundle", 'b', FLAG_STRING, O(bundle),
     "Bundle reference for copying (happens thickly, i.e. bundle image + all referenced images)",
     NULL, 0},
    {"image", 'i', FLAG_STRING, O(image),
     "Image reference for copying a generic image (example: docker.io/dkalinin/test-content)", NULL,
     0},
    {"lock", 0, FLAG_STRING, O(lock), "Lock file with asset references to copy to destination",
     NULL, 0},
    {"tar", 0, FLAG_STRING, O(tar),
     "Path to tar file which contains assets to be copied to a registry", NULL, 0},
    {"oci-tar", 0, FLAG_STRING, O(oci_tar), "Same as --tar", NULL, 0},
    {"to-repo", 0, FLAG_STRING, O(to_repo), "Location to upload assets", NULL, 0},
    {"to-tar", 0, FLAG_STRING, O(to_tar), "Location to write a tar file containing assets", NULL,
     0},
    {"to-oci-layout", 0, FLAG_STRING, O(to_layout),
     "Location to write an OCI image layout directory", NULL, 0},
    {"lock-output", 0, FLAG_STRING, O(lock_output),
     "Location to output the generated lockfile. Option only available when using --bundle or "
     "--lock flags",
     NULL, 0},
    {"include-non-distributable-layers", 0, FLAG_BOOL, O(include_nd),
     "Include non-distributable layers when copying an image/bundle", NULL, 0},
    {"cosign-signatures", 0, FLAG_BOOL, O(cosign), "Find and copy cosign signatures for images",
     NULL, 0},
    {"resume", 0, FLAG_BOOL, O(resume),
     "Resume the copy to tar. When set to true will try to read the tar and only download the "
     "missing blobs",
     NULL, 0},
    {"repo-based-tags", 0, FLAG_BOOL, O(repo_based_tags),
     "Allow imgpkg to use repository-based tags for convenience", NULL, 0},
    FLAG_END,
};

static const struct flag_use copy_uses[] = {
    {copy_flags, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

const struct command cmd_copy = {
    .name = "copy",
    .summary = "Copy a bundle from one location to another",
    .examples =
        "\n"
        "    # Copy bundle dkalinin/app1-bundle to local tarball at /Volumes/app1-bundle.tar\n"
        "    imgpkg copy -b dkalinin/app1-bundle --to-tar /Volumes/app1-bundle.tar\n"
        "\n"
        "    # Copy bundle dkalinin/app1-bundle to another registry (or repository)\n"
        "    imgpkg copy -b dkalinin/app1-bundle --to-repo internal-registry/app1-bundle\n"
        "\n"
        "    # Copy image dkalinin/app1-image to another registry (or repository)\n"
        "    imgpkg copy -i dkalinin/app1-image --to-repo internal-registry/app1-image\n"
        "\n"
        "    # Copy using image --repo-based-tags flag\n"
        "    imgpkg copy -i registry.foo.bar/some/application/app \\\n"
        "                --to-repo other-reg.faz.baz/my-app --repo-based-tags\n",
    .flags = copy_uses,
    .opts_size = sizeof(struct copy_opts),
    .run = copy_run,
};
