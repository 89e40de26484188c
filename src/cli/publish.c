/* publish.c - pushing a whole OCI image layout (tarball or directory) to a
 * registry: every image under its own tag, or the only one as -b/-i REF. */
#include <string.h>

#include "cli.h"
#include "imgpkg/bundle.h"
#include "imgpkg/copy.h"
#include "imgpkg/lock.h"
#include "util/banned.h"

/* -b must name a bundle, -i a plain image. */
static int check_kind(struct ip_store *src, const struct ip_desc *d, const struct publish_opts *po,
                      struct ip_err *err)
{
    struct ip_manifest *m = NULL;
    bool is_bundle = false;
    int rc;
    if ((rc = ip_store_get_manifest(src, d->digest, &m, err)) < 0)
        return rc;
    rc = ip_image_is_bundle(src, m, &is_bundle, err);
    ip_manifest_free(m);
    if (rc < 0)
        return rc;
    if (po->bundle && !is_bundle)
        return ip_err_set(err, IP_E_INPUT,
                          "Expected bundle image but found plain image (hint: Did you use -i "
                          "instead of -b?)");
    if (po->image && is_bundle)
        return ip_err_set(err, IP_E_INPUT,
                          "Expected image flag when pushing a plain image, found a bundle (hint: "
                          "Use -b instead of -i for bundles)");
    return 0;
}

/* --lock-output: a BundleLock for -b, else an ImagesLock of every image pushed. */
static int write_lock(const struct publish_opts *po, const char *name,
                      const struct ip_copy_result *results, size_t n, const char *tag,
                      struct ip_err *err)
{
    cleanup_free char *image = ip_xasprintf("%s@%s", name, results[0].digest);
    struct ip_images_lock l = {0};
    int rc;
    if (po->bundle)
        return ip_bundle_lock_write(po->lock_output, image, tag ? tag : "latest", err);
    l.images = ip_xcalloc(n, sizeof(*l.images));
    for (size_t i = 0; i < n; i++)
        l.images[l.n_images++].image = ip_xasprintf("%s@%s", name, results[i].digest);
    rc = ip_images_lock_write(po->lock_output, &l, err);
    ip_images_lock_release(&l);
    return rc;
}

int publish_layout(const struct cli_global *g, struct ip_store *src, const struct publish_opts *po,
                   struct ip_err *err)
{
    struct ip_desc *entries = NULL;
    size_t n = 0;
    struct ip_ref ref;
    struct ip_store *dst = NULL;
    struct ip_copy_item *items = NULL;
    struct ip_copy_result *results = NULL;
    struct ip_kv *ann = NULL;
    const char *target = po->to_repo ? po->to_repo : po->bundle ? po->bundle : po->image;
    cleanup_free char *name = NULL, *digest_tag = NULL;
    const char *one_tags[2];
    int rc;

    memset(&ref, 0, sizeof(ref));
    if (!!po->to_repo + !!po->bundle + !!po->image != 1)
        return ip_err_set(err, IP_E_USAGE,
                          "Expected one of --to-repo, --bundle (-b) or --image (-i)");
    if (po->to_repo)
        rc = ip_repo_parse(po->to_repo, &ref, err);
    else
        rc = ip_ref_parse(target, &ref, err);
    if (rc < 0)
        return ip_err_wrap(err, "Parsing '%s'", target);
    if (ref.digest[0]) {
        ip_ref_release(&ref);
        return ip_err_set(err, IP_E_USAGE, "Parsing '%s': expected a tag, not a digest", target);
    }
    if ((rc = ip_store_list(src, &entries, &n, err)) < 0)
        goto out;
    if (n == 0) {
        rc = ip_err_set(err, IP_E_INPUT, "%s holds no image", ip_store_location(src));
        goto out;
    }
    if (!po->to_repo && n != 1) {
        rc = ip_err_set(err, IP_E_INPUT, "%s holds %zu images: push them with --to-repo",
                        ip_store_location(src), n);
        goto out;
    }
    items = ip_xcalloc(n, sizeof(*items));
    results = ip_xcalloc(n, sizeof(*results));
    ann = ip_xcalloc(n, sizeof(*ann));
    for (size_t i = 0; i < n; i++) {
        const char *tag = po->to_repo ? ip_desc_annotation(&entries[i], IP_ANN_REF_NAME)
                                      : (ref.tag ? ref.tag : "latest");
        items[i].src_ref = entries[i].digest;
        if (tag && ip_tag_valid(tag)) {
            ann[i].key = (char *)IP_ANN_REF_NAME;
            ann[i].val = (char *)tag;
            items[i].annotations = &ann[i];
            items[i].n_annotations = 1;
        }
    }
    if ((po->bundle || po->image) && (rc = check_kind(src, &entries[0], po, err)) < 0)
        goto out;
    if (!po->to_repo) { /* as push -f: the tag and sha256-<hex>.imgpkg */
        digest_tag = ip_imgpkg_digest_tag(entries[0].digest);
        one_tags[0] = ref.tag ? ref.tag : "latest";
        one_tags[1] = digest_tag;
        items[0].tags = one_tags;
        items[0].n_tags = 2;
    }
    if ((rc = ip_store_registry_open(&ref, po->registry, &dst, err)) < 0)
        goto out;
    struct ip_copy_opts co = {.concurrency = po->concurrency,
                              .retries = po->registry->retries,
                              .progress = ui_is_tty(g) ? ip_copy_progress_lines : NULL};
    if ((rc = ip_copy(src, dst, items, n, &co, results, err)) < 0)
        goto out;
    name = ip_ref_name(&ref);
    for (size_t i = 0; i < n; i++)
        ui_line(g, "Pushed '%s@%s'", name, results[i].digest);
    if (po->lock_output)
        rc = write_lock(po, name, results, n, ref.tag, err);
out:
    ip_store_free(dst);
    ip_descs_free(entries, n);
    free(items);
    free(results);
    free(ann);
    ip_ref_release(&ref);
    return rc;
}
