/* cmd-pull.c - imgpkg pull: an image's or bundle's files into a directory,
 * from a registry, an OCI tarball (ours or imgpkg's legacy one) or a layout.
 * The files are extracted into a temporary directory beside the output and
 * moved into place only when complete; after a relocation, a bundle's
 * .imgpkg/images.yml is rewritten to where its images are now. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imgpkg/airgap.h"
#include "imgpkg/bundle.h"
#include "imgpkg/extract.h"
#include "imgpkg/lock.h"
#include "util/banned.h"

struct pull_opts {
    struct registry_flags rf;
    char *bundle, *image, *lock, *tar, *layout, *output;
    bool recursive, bundle_check, keep_permissions;
};

/* Extracts m from s into a temporary directory next to `out` (locked while
 * this run lives, removed by a later run if this one is killed), then puts it
 * in place of `out`: exchanged with an existing directory in one step where
 * the file system can, the old one then removed. */
struct layer_log {
    const struct cli_global *g;
    int indent;
};

static void log_layer(void *ctx, const struct ip_desc *layer, size_t index, size_t n)
{
    const struct layer_log *l = ctx;
    ui_line(l->g, "%*sExtracting layer '%s' (%zu/%zu)", l->indent, "", layer->digest, index + 1, n);
}

static int extract_to(struct ip_store *s, const struct ip_manifest *m, const char *out,
                      const struct pull_opts *o, const struct layer_log *log, struct ip_err *err)
{
    cleanup_free char *parent = ip_dirname(out);
    cleanup_free char *base = ip_basename(out);
    cleanup_free char *tmp = NULL, *old = NULL;
    cleanup_close int lock = -1, old_lock = -1;
    struct ip_extract_opts eo = {.keep_permissions = o->keep_permissions,
                                 .on_layer = log ? log_layer : NULL,
                                 .on_layer_ctx = (void *)log};
    int rc;

    if ((rc = ip_mkdirs(parent, err)) < 0)
        return rc;
    ip_cleanup_stale_temps(parent, base);
    if ((lock = ip_mkdtemp_in(parent, base, &tmp, err)) < 0)
        return ip_err_wrap(err, "pulling into '%s'", out);
    if ((rc = ip_extract_image(s, m, tmp, &eo, err)) < 0) {
        if (ip_err_no_space(err))
            ip_err_wrap(err, "pulling into '%s'", out);
        ip_remove_tree(tmp);
        return rc;
    }
    if (ip_is_dir(out)) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) == 0) {
            ip_remove_tree(tmp); /* the old files, now under the temporary name */
            return 0;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
            rc = ip_err_sys(err, errno, "replacing '%s'", out);
            ip_remove_tree(tmp);
            return rc;
        }
        /* no exchange here: the old directory is moved aside first */
        if ((old_lock = ip_mkdtemp_in(parent, base, &old, err)) < 0 || rename(out, old) < 0) {
            rc = old_lock < 0 ? ip_err_wrap(err, "replacing '%s'", out)
                              : ip_err_sys(err, errno, "replacing '%s'", out);
            if (old_lock >= 0)
                rmdir(old);
            ip_remove_tree(tmp);
            return rc;
        }
    }
    if (rename(tmp, out) < 0) {
        rc = ip_err_sys(err, errno, "moving the pulled files to '%s'", out);
        if (old)
            rename(old, out);
        ip_remove_tree(tmp);
        return rc;
    }
    if (old)
        ip_remove_tree(old);
    return 0;
}

/* Rewrites DIR/.imgpkg/images.yml to the bundle's repository when every
 * image is found there (or a locations record says they were copied). */
static int relocate_lock(const struct cli_global *g, const struct ip_graph_node *b, const char *dir,
                         bool print, struct ip_err *err)
{
    cleanup_free char *path = ip_xasprintf("%s/.imgpkg/images.yml", dir);
    struct ip_images_lock l = {0};
    bool relocated;
    int rc;

    if (print)
        ui_line(g, "\nLocating image lock file images...");
    rc = ip_images_lock_relocate(b->src, b->repo, b->digest, &b->lock, &l, &relocated, err);
    if (rc < 0)
        return rc;
    if (!relocated) {
        if (print)
            ui_line(g, "One or more images not found in bundle repo; skipping lock file update");
        return 0;
    }
    /* 0666 less the umask, as imgpkg rewrites it */
    struct ip_buf y = IP_BUF_INIT;
    if ((rc = ip_images_lock_yaml(&l, &y, err)) == 0)
        rc = ip_write_file_atomic(path, y.data ? y.data : "", y.len, 0666, err);
    ip_buf_release(&y);
    ip_images_lock_release(&l);
    if (rc < 0)
        return ip_err_wrap(err, "Rewriting image lock file");
    if (print)
        ui_line(g,
                "The bundle repo (%s) is hosting every image specified in the bundle's Images "
                "Lock file (.imgpkg/images.yml)",
                b->repo);
    return 0;
}

static int pick_platform(struct ip_store *s, struct ip_manifest **m, struct ip_err *err)
{
    struct ip_manifest *idx = *m;
    if (!idx->is_index)
        return 0;
    for (size_t i = 0; i < idx->n_manifests; i++) {
        const struct ip_desc *d = &idx->manifests[i];
        if (d->platform_os && !strcmp(d->platform_os, "linux") && d->platform_arch &&
            !strcmp(d->platform_arch, "amd64") && ip_media_type_is_manifest(d->media_type)) {
            struct ip_manifest *child;
            int rc = ip_store_get_manifest(s, d->digest, &child, err);
            if (rc < 0)
                return rc;
            ip_manifest_free(idx);
            *m = child;
            return 0;
        }
    }
    return ip_err_set(err, IP_E_UNSUPPORTED,
                      "%s is an image index without a linux/amd64 image: pull one of its images "
                      "by digest",
                      idx->digest);
}

/* The root alone, from its registry: pull contacts no other repository unless
 * -r needs the nested bundles (images.yml may name images that are not
 * reachable from here, or not at all). */
static int root_from_registry(struct ip_source_set *set, const char *ref_str,
                              const struct pull_opts *o, struct ip_graph *g, struct ip_err *err)
{
    struct ip_ref ref;
    struct ip_store *s = NULL;
    struct ip_manifest *m = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = ip_ref_parse(ref_str, &ref, err)) < 0)
        return ip_err_wrap(err, "Parsing '%s'", ref_str);
    if ((rc = ip_source_set_store(set, &ref, &s, err)) == 0)
        rc = ip_store_get_manifest(s, ref.digest[0] ? ref.digest : (ref.tag ? ref.tag : "latest"),
                                   &m, err);
    if (rc == 0) {
        struct ip_graph_node *n = ip_xcalloc(1, sizeof(*n));
        cleanup_free char *name = ip_ref_name(&ref);
        g->nodes = n;
        g->n = g->cap = 1;
        n->src = s;
        n->is_root = true;
        memcpy(n->digest, m->digest, IP_DIGEST_SIZE);
        n->orig_ref = ip_xasprintf("%s@%s", name, m->digest);
        n->repo = ip_xstrdup(name);
        rc = ip_image_is_bundle(s, m, &n->is_bundle, err);
        /* before images.yml is read: it may not even be there */
        if (rc == 0 && n->is_bundle && o->image && o->bundle_check)
            rc = ip_err_set(err, IP_E_INPUT,
                            "Expected bundle flag when pulling a bundle (hint: Use -b instead of "
                            "-i for bundles)");
        if (rc == 0 && n->is_bundle && !o->image)
            rc = ip_bundle_images_lock(s, m, &n->lock, err);
    }
    ip_manifest_free(m);
    ip_ref_release(&ref);
    return rc;
}

/* From a tarball or layout: -b/-i NAME[:TAG] (or a digest) picks the entry,
 * else the layout's root. */
static int load_from_layout(const struct pull_opts *o, struct ip_store *src,
                            const struct ip_graph_opts *go, struct ip_graph *g,
                            struct ip_manifest **m, struct ip_err *err)
{
    int rc;
    const char *name = o->bundle ? o->bundle : o->image;
    if (name) {
        /* NAME[:TAG] or a digest picks the entry */
        struct ip_ref r;
        memset(&r, 0, sizeof(r));
        const char *sel = name;
        if (!ip_digest_valid(name) && ip_ref_parse(name, &r, err) == 0)
            sel = r.digest[0] ? r.digest : (r.tag ? r.tag : "latest");
        rc = ip_store_get_manifest(src, sel, m, err);
        ip_ref_release(&r);
        if (rc < 0)
            return rc;
        struct ip_graph_node *n = ip_xcalloc(1, sizeof(*n));
        g->nodes = n;
        g->n = g->cap = 1;
        n->src = src;
        n->is_root = true;
        memcpy(n->digest, (*m)->digest, IP_DIGEST_SIZE);
        if ((rc = ip_image_is_bundle(src, *m, &n->is_bundle, err)) < 0)
            return rc;
    } else {
        if ((rc = ip_graph_from_layout(src, go, g, err)) < 0)
            return rc;
        if ((rc = ip_store_get_manifest(src, g->nodes[0].digest, m, err)) < 0)
            return rc;
    }
    return 0;
}

/* From the registry: only what pull needs, the root, and with -r the nested
 * bundles. */
static int load_from_registry(const struct pull_opts *o, struct ip_source_set *set,
                              const struct ip_graph_opts *go, struct ip_graph *g,
                              struct ip_manifest **m, struct ip_err *err)
{
    int rc;
    const char *ref = o->bundle ? o->bundle : o->image;
    struct ip_bundle_lock bl = {0};
    if (o->lock) {
        if ((rc = ip_bundle_lock_read(o->lock, &bl, err)) < 0)
            return rc;
        ref = bl.image;
    }
    /* only what pull needs: the root, and with -r the nested bundles */
    rc = root_from_registry(set, ref, o, g, err);
    ip_bundle_lock_release(&bl);
    if (rc < 0)
        return rc;
    if (o->recursive && g->nodes[0].is_bundle && !(o->image && o->bundle_check)) {
        cleanup_free char *pinned = ip_xstrdup(g->nodes[0].orig_ref);
        ip_graph_release(g);
        if ((rc = ip_graph_from_registry(set, pinned, go, g, err)) < 0)
            return rc;
    }
    if ((rc = ip_store_get_manifest(g->nodes[0].src, g->nodes[0].digest, m, err)) < 0)
        return rc;
    return 0;
}

/* -r: the nested bundles of b, depth first in the lock file's order, each
 * into the root's .imgpkg/bundles/sha256-HEX, with imgpkg's lines: a bundle
 * named again is skipped (by the reference images.yml gives), nested ones
 * indented one step more. */
struct nested {
    const struct cli_global *g;
    const struct pull_opts *o;
    const struct ip_graph *graph;
    bool from_registry;
    const char **seen;
    size_t n_seen, cap_seen, n_bundles;
};

static int pull_nested(struct nested *c, const struct ip_graph_node *b, int depth,
                       struct ip_err *err)
{
    int ind = 2 * (depth + 1), rc;
    for (size_t i = 0; i < b->lock.n_images; i++) {
        const char *image = b->lock.images[i].image;
        const char *at = strchr(image, '@');
        long k = at ? ip_graph_find(c->graph, at + 1) : -1;
        bool seen = false;
        for (size_t j = 0; j < c->n_seen && !seen; j++)
            seen = !strcmp(c->seen[j], image);
        if (seen) {
            if (k >= 0 && c->graph->nodes[k].is_bundle) {
                ui_line(c->g, "%*sPulling nested bundle '%s'", ind, "", image);
                ui_line(c->g, "%*sSkipped, already downloaded", ind, "");
            }
            continue;
        }
        IP_GROW(c->seen, c->cap_seen, c->n_seen + 1);
        c->seen[c->n_seen++] = image;
        if (k < 0 || !c->graph->nodes[k].is_bundle)
            continue;
        const struct ip_graph_node *n = &c->graph->nodes[k];
        if (depth == 0 && c->n_bundles++ == 0)
            ui_line(c->g, "\nNested bundles");
        struct ip_manifest *nm = NULL;
        cleanup_free char *dir =
            ip_xasprintf("%s/.imgpkg/bundles/sha256-%s", c->o->output, ip_digest_hex(n->digest));
        if ((rc = ip_store_get_manifest(n->src, n->digest, &nm, err)) < 0)
            return rc;
        ui_line(c->g, "%*sPulling nested bundle '%s@%s'", ind, "",
                n->repo ? n->repo : ip_store_location(n->src), n->digest);
        struct layer_log log = {c->g, ind + 2};
        rc = extract_to(n->src, nm, dir, c->o, &log, err);
        ip_manifest_free(nm);
        if (rc == 0)
            rc = pull_nested(c, n, depth + 1, err);
        if (rc == 0 && c->from_registry)
            rc = relocate_lock(c->g, n, dir, false, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int pull_run(const struct cli_global *gl, void *opts, struct ip_err *err)
{
    struct pull_opts *o = opts;
    struct ip_registry_opts ro;
    struct ip_source_set *set = NULL;
    struct ip_store *src = NULL;
    struct ip_graph g = {0};
    struct ip_manifest *m = NULL;
    int rc;

    if ((rc = registry_flags_opts(gl, &o->rf, &ro, err)) < 0)
        return rc;
    if (!o->output || !*o->output)
        return ip_err_set(err, IP_E_USAGE, "Expected --output to be none empty");
    cleanup_free char *outbase = ip_basename(o->output);
    if (!strcmp(o->output, "/") || !strcmp(outbase, ".") || !strcmp(outbase, ".."))
        return ip_err_set(err, IP_E_USAGE,
                          "Disallowed output directory (trying to avoid accidental deletion)");
    if (!!o->bundle + !!o->image + !!o->lock > 1)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image, bundle, or lock");
    if (o->tar && o->layout)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-layout");
    if (!o->tar && !o->layout && !o->bundle && !o->image && !o->lock)
        return ip_err_set(err, IP_E_USAGE, "Expected either image or bundle reference");

    struct ip_graph_opts go = {.kind = o->bundle || o->lock          ? IP_ROOT_BUNDLE
                                       : o->image && o->bundle_check ? IP_ROOT_IMAGE
                                                                     : IP_ROOT_ANY};
    set = ip_source_set_new(&ro);
    if (o->tar || o->layout) {
        if ((rc = open_layout_source(o->tar, o->layout, &src, err)) < 0)
            goto out;
        if ((rc = load_from_layout(o, src, &go, &g, &m, err)) < 0)
            goto out;
    } else {
        if ((rc = load_from_registry(o, set, &go, &g, &m, err)) < 0)
            goto out;
    }
    struct ip_graph_node *root = &g.nodes[0];
    if (o->bundle && !root->is_bundle) {
        rc = ip_err_set(err, IP_E_INPUT,
                        "Expected bundle image but found plain image (hint: Did you use -i instead "
                        "of -b?)");
        goto out;
    }
    if (o->image && root->is_bundle && o->bundle_check) {
        rc = ip_err_set(err, IP_E_INPUT,
                        "Expected bundle flag when pulling a bundle (hint: Use -b instead of -i "
                        "for bundles)");
        goto out;
    }
    /* imgpkg pulls images only; a layout or tarball's index gives its
     * linux/amd64 image */
    if (m->is_index && !o->tar && !o->layout) {
        rc = ip_err_set(err, IP_E_UNSUPPORTED,
                        "Unable to pull non-images, such as image indexes. (hint: provide a "
                        "specific digest to the image instead)");
        goto out;
    }
    if ((rc = pick_platform(root->src, &m, err)) < 0)
        goto out;
    bool as_bundle = root->is_bundle && !o->image;
    ui_line(gl, "Pulling %s '%s@%s'", as_bundle ? "bundle" : "image", ip_store_location(root->src),
            root->digest);
    struct layer_log log = {gl, as_bundle ? 2 : 0};
    if ((rc = extract_to(root->src, m, o->output, o, &log, err)) < 0)
        goto out;
    bool from_registry = !o->tar && !o->layout;
    if (as_bundle && !root->lock.n_images && !root->lock.images &&
        (rc = ip_bundle_images_lock(root->src, m, &root->lock, err)) < 0)
        goto out;
    if (o->recursive && as_bundle) {
        struct nested c = {.g = gl, .o = o, .graph = &g, .from_registry = from_registry};
        rc = pull_nested(&c, root, 0, err);
        free(c.seen);
        if (rc < 0)
            goto out;
    }
    /* the root's lock last, as imgpkg */
    if (as_bundle && from_registry)
        rc = relocate_lock(gl, root, o->output, true, err);
out:
    ip_manifest_free(m);
    ip_graph_release(&g);
    ip_store_free(src);
    ip_source_set_free(set);
    return rc;
}

#define O(field) offsetof(struct pull_opts, field)

static const struct flag pull_flags[] = {
    {"bundle", 'b', FLAG_STRING, O(bundle), "Set bundle (example: docker.io/dkalinin/test-content)",
     NULL, 0},
    {"image", 'i', FLAG_STRING, O(image), "Set image (example: docker.io/dkalinin/test-content)",
     NULL, 0},
    {"lock", 0, FLAG_STRING, O(lock), "Lock file with asset references to copy to destination",
     NULL, 0},
    {"tar", 0, FLAG_STRING, O(tar),
     "Pull from a tarball (OCI, or imgpkg's own); -b/-i pick its image by tag", NULL, 0},
    {"oci-layout", 0, FLAG_STRING, O(layout),
     "Pull from an OCI image layout directory; -b/-i pick its image by tag", NULL, 0},
    {"output", 'o', FLAG_STRING, O(output), "Output directory path", NULL, 0},
    {"recursive", 'r', FLAG_BOOL, O(recursive),
     "Recursively iterate and fetch content of every bundle", NULL, 0},
    {"image-is-bundle-check", 0, FLAG_BOOL, O(bundle_check),
     "Error when image is a bundle (disable pulling bundles via -i)", "true", 0},
    {"preserve-permissions", 0, FLAG_BOOL, O(keep_permissions),
     "Keep the permissions of the files as stored", NULL, 0},
    FLAG_END,
};

static const struct flag_use pull_uses[] = {
    {pull_flags, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

const struct command cmd_pull = {
    .name = "pull",
    .summary = "Pull files from bundle, image, or bundle lock file",
    .examples = "\n  # Pull bundle repo/app1-bundle and extract into /tmp/app1-bundle\n"
                "  imgpkg pull -b repo/app1-bundle -o /tmp/app1-bundle\n\n"
                "  # Pull image repo/app1-image and extract into /tmp/app1-image\n"
                "  imgpkg pull -i repo/app1-image -o /tmp/app1-image\n",
    .flags = pull_uses,
    .opts_size = sizeof(struct pull_opts),
    .run = pull_run,
};
