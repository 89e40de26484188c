/* cmd-save.c - imgpkg save: files become an OCI image or bundle, written to an
 * OCI image layout directory or tarball, with no registry involved. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "util/banned.h"

struct save_opts {
    struct build_flags bf;
    char *to_tar, *to_oci_tar, *to_layout;
};

#define O(field) offsetof(struct save_opts, field)

static const struct flag save_flags[] = {
    {"to-tar", 0, FLAG_STRING, O(to_tar), "Write an OCI image layout tarball to FILE", NULL, 0},
    {"to-oci-tar", 0, FLAG_STRING, O(to_oci_tar), "Same as --to-tar", NULL, 0},
    {"to-oci-layout", 0, FLAG_STRING, O(to_layout),
     "Write into the OCI image layout directory DIR (created or added to)", NULL, 0},
    FLAG_END,
};

static const struct flag_use save_uses[] = {
    {build_flag_table, O(bf)},
    {save_flags, 0},
    {NULL, 0},
};

static int save_run(const struct cli_global *g, void *opts, struct ip_err *err)
{
    struct save_opts *o = opts;
    struct build_flags *bf = &o->bf;
    struct image_name name;
    struct ip_build_result br;
    struct ip_store *dst = NULL;
    char digest[IP_DIGEST_SIZE];
    cleanup_free char *tmp_dir = NULL;
    int rc;

    (void)g;
    memset(&name, 0, sizeof(name));
    memset(&br, 0, sizeof(br));
    if (bf->bundle && bf->image)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
    if (o->to_tar && o->to_oci_tar)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of --to-tar and --to-oci-tar");
    const char *to_tar = o->to_tar ? o->to_tar : o->to_oci_tar;
    if (!to_tar == !o->to_layout)
        return ip_err_set(err, IP_E_USAGE, "Expected either --to-tar or --to-oci-layout");
    if ((rc = image_name_parse(bf->bundle ? bf->bundle : bf->image, &name, err)) < 0)
        goto out;
    tmp_dir = layout_tmp_dir(to_tar, o->to_layout);
    /* open the destination first: a corrupt layout is refused before any work */
    if ((rc = open_layout_dest(to_tar, o->to_layout, &dst, err)) < 0)
        goto out;
    /* a layer bound for a tarball is written straight into it; a layout keeps
     * the layer file it is built in */
    if ((rc = build_from_flags(bf, tmp_dir, to_tar != NULL, to_tar ? dst : NULL, &br, err)) < 0)
        goto out;
    if ((rc = write_built(&br, &name, dst, digest, err)) < 0)
        goto out;
    ui_result(g, "Saved %s '%s@%s' to %s", br.is_bundle ? "bundle" : "image", name.shown, digest,
              to_tar ? to_tar : o->to_layout);
out:
    ip_store_free(dst);
    ip_build_result_release(&br);
    image_name_release(&name);
    return rc;
}

const struct command cmd_save = {
    .name = "save",
    .summary =
        "Save files as an OCI image or bundle into an OCI image layout (directory or tarball)",
    .examples =
        "\n  # Save bundle repo/app1-config with contents of config/ directory to a tarball\n"
        "  imgpkg save -b repo/app1-config -f config/ --to-tar app1-config.tar\n\n"
        "  # Save image repo/app1-config into an OCI image layout directory\n"
        "  imgpkg save -i repo/app1-config -f config/ --to-oci-layout layout/\n",
    .flags = save_uses,
    .opts_size = sizeof(struct save_opts),
    .run = save_run,
};
