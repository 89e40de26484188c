/* cmd-save.c - imgpkg save: files become an OCI image or bundle, written to an
 * OCI image layout directory or tarball, with no registry involved.  Also the
 * parts push shares with it: naming, building, writing a layout. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "util/banned.h"

static const struct command save_cmd = {
    "save", "Save files as an OCI image or bundle into an OCI image layout (directory or tarball)",
    "imgpkg save [-b NAME[:TAG] | -i NAME[:TAG]] -f PATH [-f PATH ...] "
    "(--to-tar FILE | --to-oci-layout DIR) [flags]",
    cmd_save};

void build_flags_init(struct build_flags *f)
{
    memset(f, 0, sizeof(*f));
    f->compression_level = 1;
    f->exclusions.v = ip_xcalloc(1, sizeof(char *));
    f->exclusions.v[0] = ip_xstrdup(".git");
    f->exclusions.n = 1;
}

size_t build_flags_add(struct flag *t, size_t at, struct build_flags *f)
{
    const struct flag defs[] = {
        {"bundle", 'b', FLAG_STRING, &f->bundle, "Set bundle reference: NAME[:TAG]", false},
        {"image", 'i', FLAG_STRING, &f->image, "Set image reference: NAME[:TAG]", false},
        {"file", 'f', FLAG_SLICE, &f->files, "Set file or directory to include (can be specified multiple times)", false},
        {"file-exclusion", 0, FLAG_SLICE, &f->exclusions, "Exclude file whose path, relative to the bundle root, matches (format: bundle-dir/sub-dir/file.txt) (default [.git])", false},
        {"preserve-permissions", 0, FLAG_BOOL, &f->preserve_permissions, "Preserve files permissions (default: only the user bits are kept)", false},
        {"labels", 'l', FLAG_MAP, &f->labels, "Set labels on image (KEY=VALUE)", false},
        {"compression-level", 0, FLAG_INT, &f->compression_level, "gzip level of the layer, 1 (fastest) to 9 (default 1)", false},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        t[at++] = defs[i];
    return at;
}

void build_flags_release(struct build_flags *f)
{
    free(f->bundle);
    free(f->image);
    flag_slice_release(&f->files);
    flag_slice_release(&f->exclusions);
    flag_map_release(&f->labels);
}

void image_name_release(struct image_name *n)
{
    ip_ref_release(&n->ref);
    free(n->tag);
    free(n->containerd);
    free(n->repo_tag);
    free(n->shown);
    memset(n, 0, sizeof(*n));
}

int image_name_parse(const char *flag, struct image_name *n, struct ip_err *err)
{
    memset(n, 0, sizeof(*n));
    if (flag) {
        if (ip_ref_parse(flag, &n->ref, err) < 0)
            return ip_err_wrap(err, "Parsing '%s'", flag);
        if (n->ref.digest[0]) {
            ip_ref_release(&n->ref);
            return ip_err_set(err, IP_E_USAGE,
                              "Parsing '%s': expected a tag (NAME[:TAG]), not a digest", flag);
        }
        n->named = true;
    }
    n->tag = ip_xstrdup(n->ref.tag ? n->ref.tag : "latest");
    n->ann[n->n_ann].key = (char *)IP_ANN_REF_NAME;
    n->ann[n->n_ann++].val = n->tag;
    if (n->named) {
        cleanup_free char *fam = ip_ref_familiar(&n->ref);
        cleanup_free char *full = ip_ref_name(&n->ref);
        cleanup_free char *cd = ip_ref_containerd(&n->ref);
        n->containerd = ip_xasprintf("%s:%s", cd, n->tag);
        n->ann[n->n_ann].key = (char *)IP_ANN_CONTAINERD_NAME;
        n->ann[n->n_ann++].val = n->containerd;
        n->repo_tag = ip_xasprintf("%s:%s", fam, n->tag);
        n->shown = ip_xasprintf("%s:%s", full, n->tag);
    } else {
        n->shown = ip_xstrdup(n->tag);
    }
    return 0;
}

int build_from_flags(const struct build_flags *f, const char *tmp_dir, bool transient,
                     struct ip_build_result *out, struct ip_err *err)
{
    struct ip_build_opts bo;
    memset(&bo, 0, sizeof(bo));
    if (f->bundle && f->image)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
    if (f->files.n == 0)
        return ip_err_set(err, IP_E_USAGE, "Expected at least one input (--file/-f)");
    if (f->compression_level < 1 || f->compression_level > 9)
        return ip_err_set(err, IP_E_USAGE, "--compression-level must be between 1 and 9");
    bo.paths = (const char **)f->files.v;
    bo.n_paths = f->files.n;
    bo.exclusions = (const char **)f->exclusions.v;
    bo.n_exclusions = f->exclusions.n;
    bo.labels = f->labels.v;
    bo.n_labels = f->labels.n;
    bo.preserve_permissions = f->preserve_permissions;
    bo.kind = f->bundle ? IP_BUILD_BUNDLE : f->image ? IP_BUILD_IMAGE : IP_BUILD_AUTO;
    bo.compression_level = f->compression_level;
    bo.tmp_dir = tmp_dir;
    bo.layer_transient = transient;
    return ip_build(&bo, out, err);
}

char *layout_tmp_dir(const char *to_tar, const char *to_layout)
{
    /* the layer is built next to its destination, so nothing crosses file systems */
    if (to_tar)
        return ip_dirname(to_tar);
    if (ip_is_dir(to_layout)) {
        cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", to_layout);
        return ip_is_dir(blobs) ? ip_xstrdup(blobs) : ip_dirname(to_layout);
    }
    return ip_dirname(to_layout);
}

int open_layout_dest(const char *to_tar, const char *to_layout, struct ip_store **out,
                     struct ip_err *err)
{
    if (to_layout)
        return ip_store_oci_dir_open(to_layout, true, out, err);
    return ip_store_oci_tar_create(to_tar, out, err);
}

int write_built(const struct ip_build_result *br, const struct image_name *name,
                struct ip_store *dst, char digest[IP_DIGEST_SIZE], struct ip_err *err)
{
    struct ip_copy_item item;
    struct ip_copy_result res;
    memset(&item, 0, sizeof(item));
    item.src_ref = br->manifest_digest;
    item.annotations = (struct ip_kv *)name->ann;
    item.n_annotations = name->n_ann;
    item.repo_tag = name->repo_tag;
    int rc = ip_copy(br->store, dst, &item, 1, NULL, &res, err);
    if (rc == 0)
        memcpy(digest, res.digest, IP_DIGEST_SIZE);
    return rc;
}

int cmd_save(int argc, char **argv, struct ip_err *err)
{
    struct build_flags bf;
    char *to_tar = NULL, *to_layout = NULL;
    bool oci = false;
    struct flag flags[16];
    size_t nf;
    struct image_name name;
    struct ip_build_result br;
    struct ip_store *dst = NULL;
    char digest[IP_DIGEST_SIZE];
    cleanup_free char *tmp_dir = NULL;
    int rc;

    memset(&name, 0, sizeof(name));
    memset(&br, 0, sizeof(br));
    build_flags_init(&bf);
    nf = build_flags_add(flags, 0, &bf);
    flags[nf++] = (struct flag){"to-tar", 0, FLAG_STRING, &to_tar, "Write an OCI image layout tarball to FILE", false};
    flags[nf++] = (struct flag){"to-oci-layout", 0, FLAG_STRING, &to_layout, "Write into the OCI image layout directory DIR (created or added to)", false};
    flags[nf++] = (struct flag){"oci", 0, FLAG_BOOL, &oci, "Use OCI media types (the default)", false};
    flags[nf] = (struct flag){NULL, 0, 0, NULL, NULL, false};

    rc = cli_parse(&save_cmd, flags, argc, argv, err);
    if (rc < 0)
        goto out;
    if (g_cli.help) {
        cli_print_help(&save_cmd, flags);
        goto out;
    }
    if (bf.bundle && bf.image) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
        goto out;
    }
    if (!to_tar == !to_layout) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected either --to-tar or --to-oci-layout");
        goto out;
    }
    if ((rc = image_name_parse(bf.bundle ? bf.bundle : bf.image, &name, err)) < 0)
        goto out;
    tmp_dir = layout_tmp_dir(to_tar, to_layout);
    /* open the destination first: a corrupt layout is refused before any work */
    if ((rc = open_layout_dest(to_tar, to_layout, &dst, err)) < 0)
        goto out;
    /* a layer bound for a tarball is copied into it and deleted; a layout keeps it */
    if ((rc = build_from_flags(&bf, tmp_dir, to_tar != NULL, &br, err)) < 0)
        goto out;
    if ((rc = write_built(&br, &name, dst, digest, err)) < 0)
        goto out;
    ui_result("Saved %s '%s@%s' to %s", br.is_bundle ? "bundle" : "image", name.shown, digest,
              to_tar ? to_tar : to_layout);
out:
    ip_store_free(dst);
    ip_build_result_release(&br);
    image_name_release(&name);
    build_flags_release(&bf);
    free(to_tar);
    free(to_layout);
    return rc;
}
