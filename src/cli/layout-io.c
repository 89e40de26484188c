/* layout-io.c - OCI image layouts (tarballs and directories) as the sources
 * and destinations of commands. */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "util/banned.h"

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

/* A tarball is told by its content: an OCI image layout (oci-layout member) or
 * Go imgpkg's own format (manifest.json array of image descriptors). */
int open_layout_source(const char *tar, const char *dir, struct ip_store **out, struct ip_err *err)
{
    struct stat st;
    if (!tar)
        return ip_store_oci_dir_open(dir, false, out, err);
    if (stat(tar, &st) < 0 || !S_ISREG(st.st_mode) || ip_tar_has_member(tar, "oci-layout"))
        return ip_store_oci_tar_open(tar, out, err); /* reports a missing file too */
    if (ip_tar_is_imgpkg_legacy(tar))
        return ip_store_imgpkg_tar_open(tar, out, err);
    return ip_err_set(err, IP_E_INPUT,
                      "'%s' is neither an OCI image layout tarball nor an imgpkg tarball", tar);
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
