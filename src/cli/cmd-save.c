/* cmd-save.c - imgpkg save: files become an OCI image or bundle, written to an
 * OCI image layout directory or tarball, with no registry involved. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "imgpkg/ref.h"
#include "util/banned.h"

static const struct command save_cmd = {
    "save", "Save files as an OCI image or bundle into an OCI image layout (directory or tarball)",
    "imgpkg save [-b NAME[:TAG] | -i NAME[:TAG]] -f PATH [-f PATH ...] "
    "(--to-tar FILE | --to-oci-layout DIR) [flags]",
    cmd_save};

struct save_opts {
    char *bundle;
    char *image;
    struct flag_slice files;
    char *to_tar;
    char *to_layout;
    bool oci;
    struct flag_slice exclusions;
    bool preserve_permissions;
    struct flag_map labels;
    int compression_level;
};

static int do_save(struct save_opts *o, struct ip_err *err)
{
    struct ip_ref ref;
    struct ip_build_opts bo;
    struct ip_build_result br;
    struct ip_store *dst = NULL;
    struct ip_copy_item item;
    struct ip_copy_result res;
    struct ip_kv ann[2];
    size_t n_ann = 0;
    const char *name_flag = o->bundle ? o->bundle : o->image;
    cleanup_free char *tag = NULL, *cname = NULL, *repo_tag = NULL, *shown = NULL, *tmp_dir = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    memset(&bo, 0, sizeof(bo));
    memset(&br, 0, sizeof(br));
    if (o->bundle && o->image)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
    if (!o->to_tar == !o->to_layout)
        return ip_err_set(err, IP_E_USAGE, "Expected either --to-tar or --to-oci-layout");
    if (o->files.n == 0)
        return ip_err_set(err, IP_E_USAGE, "Expected at least one input (--file/-f)");
    if (o->compression_level < 1 || o->compression_level > 9)
        return ip_err_set(err, IP_E_USAGE, "--compression-level must be between 1 and 9");
    if (name_flag) {
        if ((rc = ip_ref_parse(name_flag, &ref, err)) < 0)
            return ip_err_wrap(err, "Parsing '%s'", name_flag);
        if (ref.digest[0]) {
            ip_ref_release(&ref);
            return ip_err_set(err, IP_E_USAGE,
                              "Parsing '%s': save names the image by tag; a digest is not allowed",
                              name_flag);
        }
    }
    tag = ip_xstrdup(ref.tag ? ref.tag : "latest");
    ann[n_ann].key = (char *)IP_ANN_REF_NAME;
    ann[n_ann++].val = tag;
    if (name_flag) {
        cleanup_free char *fam = ip_ref_familiar(&ref);
        cleanup_free char *full = ip_ref_name(&ref);
        cname = ip_ref_containerd(&ref);
        char *with_tag = ip_xasprintf("%s:%s", cname, tag);
        free(cname);
        cname = with_tag;
        ann[n_ann].key = (char *)IP_ANN_CONTAINERD_NAME;
        ann[n_ann++].val = cname;
        repo_tag = ip_xasprintf("%s:%s", fam, tag);
        shown = ip_xasprintf("%s:%s", full, tag);
    }

    bo.paths = (const char **)o->files.v;
    bo.n_paths = o->files.n;
    bo.exclusions = (const char **)o->exclusions.v;
    bo.n_exclusions = o->exclusions.n;
    bo.labels = o->labels.v;
    bo.n_labels = o->labels.n;
    bo.preserve_permissions = o->preserve_permissions;
    bo.kind = o->bundle ? IP_BUILD_BUNDLE : o->image ? IP_BUILD_IMAGE : IP_BUILD_AUTO;
    bo.compression_level = o->compression_level;

    /* the layer is built next to its destination, so nothing crosses file systems */
    if (o->to_tar) {
        tmp_dir = ip_dirname(o->to_tar);
    } else if (ip_is_dir(o->to_layout)) {
        cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", o->to_layout);
        tmp_dir = ip_is_dir(blobs) ? ip_xstrdup(blobs) : ip_dirname(o->to_layout);
    } else {
        tmp_dir = ip_dirname(o->to_layout);
    }
    bo.tmp_dir = tmp_dir;

    /* open the destination first: a corrupt layout is refused before any work */
    if (o->to_layout)
        rc = ip_store_oci_dir_open(o->to_layout, true, &dst, err);
    else
        rc = ip_store_oci_tar_create(o->to_tar, &dst, err);
    if (rc < 0)
        goto out;
    if ((rc = ip_build(&bo, &br, err)) < 0)
        goto out;

    memset(&item, 0, sizeof(item));
    item.src_ref = br.manifest_digest;
    item.annotations = ann;
    item.n_annotations = n_ann;
    item.repo_tag = repo_tag;
    if ((rc = ip_copy(br.store, dst, &item, 1, NULL, &res, err)) < 0)
        goto out;
    if (shown)
        ui_result("Saved %s '%s@%s' to %s", br.is_bundle ? "bundle" : "image", shown, res.digest,
                  o->to_tar ? o->to_tar : o->to_layout);
    else
        ui_result("Saved %s '%s@%s' to %s", br.is_bundle ? "bundle" : "image", tag, res.digest,
                  o->to_tar ? o->to_tar : o->to_layout);
out:
    ip_store_free(dst);
    ip_build_result_release(&br);
    ip_ref_release(&ref);
    return rc;
}

int cmd_save(int argc, char **argv, struct ip_err *err)
{
    struct save_opts o;
    int rc;
    memset(&o, 0, sizeof(o));
    o.compression_level = 1;
    o.exclusions.v = ip_xcalloc(1, sizeof(char *));
    o.exclusions.v[0] = ip_xstrdup(".git");
    o.exclusions.n = 1;
    const struct flag flags[] = {
        {"bundle", 'b', FLAG_STRING, &o.bundle, "Name the result a bundle: NAME[:TAG]", false},
        {"image", 'i', FLAG_STRING, &o.image, "Name the result an image: NAME[:TAG]", false},
        {"file", 'f', FLAG_SLICE, &o.files, "Set file or directory to include (can be repeated)",
         false},
        {"to-tar", 0, FLAG_STRING, &o.to_tar, "Write an OCI image layout tarball to FILE", false},
        {"to-oci-layout", 0, FLAG_STRING, &o.to_layout,
         "Write into the OCI image layout directory DIR (created or added to)", false},
        {"oci", 0, FLAG_BOOL, &o.oci, "Use OCI media types (the default)", false},
        {"file-exclusion", 0, FLAG_SLICE, &o.exclusions,
         "Exclude file whose path, relative to the bundle root, matches (default [.git])", false},
        {"preserve-permissions", 0, FLAG_BOOL, &o.preserve_permissions,
         "Keep file permissions as they are (default: user bits only)", false},
        {"labels", 'l', FLAG_MAP, &o.labels, "Set labels on the image config (KEY=VALUE)", false},
        {"compression-level", 0, FLAG_INT, &o.compression_level,
         "gzip level of the layer, 1 (fastest) to 9", false},
        {NULL, 0, 0, NULL, NULL, false},
    };
    rc = cli_parse(&save_cmd, flags, argc, argv, err);
    if (rc == 0 && g_cli.help)
        cli_print_help(&save_cmd, flags);
    else if (rc == 0)
        rc = do_save(&o, err);
    free(o.bundle);
    free(o.image);
    free(o.to_tar);
    free(o.to_layout);
    flag_slice_release(&o.files);
    flag_slice_release(&o.exclusions);
    flag_map_release(&o.labels);
    return rc;
}
