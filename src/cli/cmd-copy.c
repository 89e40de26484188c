/* cmd-copy.c - imgpkg copy: an OCI image layout tarball (ours, skopeo's, any
 * OCI tool's) into a registry repository, every digest kept. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util/banned.h"

static const struct command copy_cmd = {
    "copy", "Copy a bundle or image from one location to another",
    "imgpkg copy --tar FILE --to-repo REPO [--lock-output FILE] [flags]", cmd_copy};

int cmd_copy(int argc, char **argv, struct ip_err *err)
{
    struct registry_flags rf;
    struct ip_registry_opts ro;
    char *tar = NULL, *oci_tar = NULL, *to_repo = NULL, *to_tar = NULL, *lock_output = NULL,
         *bundle = NULL, *image = NULL, *lock = NULL;
    bool include_nd = false, cosign = false;
    struct flag flags[32];
    size_t nf = 0;
    int rc;

    registry_flags_init(&rf);
    flags[nf++] = (struct flag){"bundle", 'b', FLAG_STRING, &bundle, "Set bundle reference for copying", false};
    flags[nf++] = (struct flag){"image", 'i', FLAG_STRING, &image, "Set image reference for copying", false};
    flags[nf++] = (struct flag){"lock", 0, FLAG_STRING, &lock, "BundleLock or ImagesLock of bundle or images for copying", false};
    flags[nf++] = (struct flag){"tar", 0, FLAG_STRING, &tar, "Path to a tarball to copy from", false};
    flags[nf++] = (struct flag){"oci-tar", 0, FLAG_STRING, &oci_tar, "Same as --tar", false};
    flags[nf++] = (struct flag){"to-repo", 0, FLAG_STRING, &to_repo, "Location to upload assets", false};
    flags[nf++] = (struct flag){"to-tar", 0, FLAG_STRING, &to_tar, "Location to write a tarball", false};
    flags[nf++] = (struct flag){"lock-output", 0, FLAG_STRING, &lock_output, "Location to output the generated lock file", false};
    flags[nf++] = (struct flag){"include-non-distributable-layers", 0, FLAG_BOOL, &include_nd, "Include non-distributable layers", false};
    flags[nf++] = (struct flag){"cosign-signatures", 0, FLAG_BOOL, &cosign, "Find and copy cosign signatures for images", false};
    nf = registry_flags_add(flags, nf, &rf);
    flags[nf] = (struct flag){NULL, 0, 0, NULL, NULL, false};

    rc = cli_parse(&copy_cmd, flags, argc, argv, err);
    if (rc < 0)
        goto out;
    if (g_cli.help) {
        cli_print_help(&copy_cmd, flags);
        goto out;
    }
    if ((rc = registry_flags_opts(&rf, &ro, err)) < 0)
        goto out;
    if (tar && oci_tar) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-tar");
        goto out;
    }
    if (oci_tar) {
        tar = oci_tar;
        oci_tar = NULL;
    }
    if (!!tar + !!bundle + !!image + !!lock != 1) {
        rc = ip_err_set(err, IP_E_USAGE,
                        "Expected either --lock, --bundle (-b), --image (-i), or --tar as a source");
        goto out;
    }
    if (!to_repo == !to_tar) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected either --to-tar or --to-repo");
        goto out;
    }
    if (tar && to_tar) {
        rc = ip_err_set(err, IP_E_USAGE, "Cannot use tar source (--tar) with tar destination (--to-tar)");
        goto out;
    }
    if (!tar) {
        rc = ip_err_set(err, IP_E_UNSUPPORTED, "copy from a registry is not supported by this version; "
                        "use --tar FILE --to-repo REPO");
        goto out;
    }
    struct ip_store *src = NULL;
    if ((rc = open_layout_source(tar, NULL, &src, err)) < 0)
        goto out;
    struct publish_opts po = {.to_repo = to_repo, .lock_output = lock_output, .registry = &ro,
                              .concurrency = rf.concurrency};
    rc = publish_layout(src, &po, err);
    ip_store_free(src);
out:
    registry_flags_release(&rf);
    free(tar);
    free(oci_tar);
    free(to_repo);
    free(to_tar);
    free(lock_output);
    free(bundle);
    free(image);
    free(lock);
    return rc;
}
