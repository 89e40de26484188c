/* cmd-push.c - imgpkg push: files to a registry as a bundle or image (and, in
 * the same run, to an OCI tarball with the same digests), or a whole OCI
 * layout (tarball or directory, made by us or any OCI tool) to a registry. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "imgpkg/bundle.h"
#include "imgpkg/build.h"
#include "imgpkg/copy.h"
#include "imgpkg/lock.h"
#include "util/banned.h"

static const struct command push_cmd = {
    "push", "Push files as a bundle or image, or an OCI image layout, to a registry",
    "imgpkg push (-b|-i) REF -f PATH... [--to-oci-tar FILE] [--lock-output FILE] [flags]\n"
    "  imgpkg push (--tar FILE | --oci-layout DIR) (--to-repo REPO | -b REF | -i REF) [flags]",
    cmd_push};

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

static int push_files(struct build_flags *bf, const char *to_oci_tar, const char *lock_output,
                      const struct ip_registry_opts *ro, int concurrency, struct ip_err *err)
{
    struct image_name name;
    struct ip_build_result br;
    struct ip_store *reg = NULL, *tar = NULL;
    struct ip_copy_item item;
    struct ip_copy_result res;
    char tar_digest[IP_DIGEST_SIZE];
    cleanup_free char *tmp_dir = NULL, *repo = NULL, *image = NULL, *digest_tag = NULL;
    int rc;

    memset(&br, 0, sizeof(br));
    if ((rc = image_name_parse(bf->bundle ? bf->bundle : bf->image, &name, err)) < 0)
        return rc;
    if (to_oci_tar) {
        tmp_dir = ip_dirname(to_oci_tar);
        if ((rc = ip_store_oci_tar_create(to_oci_tar, &tar, err)) < 0)
            goto out;
    } else {
        tmp_dir = ip_xstrdup(getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    }
    if ((rc = build_from_flags(bf, tmp_dir, true, &br, err)) < 0)
        goto out;
    if ((rc = ip_store_registry_open(&name.ref, ro, &reg, err)) < 0)
        goto out;
    /* imgpkg tags what it pushes twice: the tag asked for, and sha256-<hex>.imgpkg */
    digest_tag = ip_imgpkg_digest_tag(br.manifest_digest);
    const char *tags[2] = {name.tag, digest_tag};
    memset(&item, 0, sizeof(item));
    item.src_ref = br.manifest_digest;
    item.tags = tags;
    item.n_tags = 2;
    item.annotations = name.ann; /* the tag */
    item.n_annotations = 1;
    struct ip_copy_opts co = {.concurrency = concurrency, .retries = ro->retries,
                              .progress = ui_is_tty() ? ip_copy_progress_lines : NULL};
    if ((rc = ip_copy(br.store, reg, &item, 1, &co, &res, err)) < 0)
        goto out;
    repo = ip_ref_name(&name.ref);
    ui_line("Pushed '%s@%s'", repo, res.digest);
    if (tar) {
        if ((rc = write_built(&br, &name, tar, tar_digest, err)) < 0)
            goto out;
        ui_line("Saved '%s@%s' to %s", name.shown, tar_digest, to_oci_tar);
    }
    if (lock_output) {
        image = ip_xasprintf("%s@%s", repo, res.digest);
        if (bf->bundle) {
            rc = ip_bundle_lock_write(lock_output, image, name.tag, err);
        } else {
            struct ip_lock_image li = {.image = image};
            struct ip_images_lock l = {.images = &li, .n_images = 1};
            rc = ip_images_lock_write(lock_output, &l, err);
        }
    }
out:
    ip_store_free(reg);
    ip_store_free(tar);
    ip_build_result_release(&br);
    image_name_release(&name);
    return rc;
}

int cmd_push(int argc, char **argv, struct ip_err *err)
{
    struct build_flags bf;
    struct registry_flags rf;
    struct ip_registry_opts ro;
    char *to_oci_tar = NULL, *lock_output = NULL, *tar = NULL, *oci_tar = NULL,
         *oci_layout = NULL, *to_repo = NULL;
    struct flag flags[32];
    size_t nf;
    int rc;

    build_flags_init(&bf);
    registry_flags_init(&rf);
    nf = build_flags_add(flags, 0, &bf);
    flags[nf++] = (struct flag){"to-oci-tar", 0, FLAG_STRING, &to_oci_tar, "Also write the image to an OCI image layout tarball", false};
    flags[nf++] = (struct flag){"lock-output", 0, FLAG_STRING, &lock_output, "Location to output the generated lock file (BundleLock for -b, ImagesLock for -i)", false};
    flags[nf++] = (struct flag){"tar", 0, FLAG_STRING, &tar, "Push the images of an OCI image layout tarball", false};
    flags[nf++] = (struct flag){"oci-tar", 0, FLAG_STRING, &oci_tar, "Same as --tar", false};
    flags[nf++] = (struct flag){"oci-layout", 0, FLAG_STRING, &oci_layout, "Push the images of an OCI image layout directory", false};
    flags[nf++] = (struct flag){"to-repo", 0, FLAG_STRING, &to_repo, "With --tar or --oci-layout: push every image, each under its own tag, into REPO", false};
    nf = registry_flags_add(flags, nf, &rf);
    flags[nf] = (struct flag){NULL, 0, 0, NULL, NULL, false};

    rc = cli_parse(&push_cmd, flags, argc, argv, err);
    if (rc < 0)
        goto out;
    if (g_cli.help) {
        cli_print_help(&push_cmd, flags);
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
    if (tar || oci_layout) {
        struct ip_store *src = NULL;
        if (tar && oci_layout) {
            rc = ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-layout");
            goto out;
        }
        if (bf.files.n || to_oci_tar) {
            rc = ip_err_set(err, IP_E_USAGE, "--file and --to-oci-tar cannot be used with --tar or --oci-layout");
            goto out;
        }
        if ((rc = open_layout_source(tar, oci_layout, &src, err)) < 0)
            goto out;
        struct publish_opts po = {.to_repo = to_repo, .bundle = bf.bundle, .image = bf.image,
                                  .lock_output = lock_output, .registry = &ro,
                                  .concurrency = rf.concurrency};
        rc = publish_layout(src, &po, err);
        ip_store_free(src);
        goto out;
    }
    if (to_repo) {
        rc = ip_err_set(err, IP_E_USAGE, "--to-repo goes with --tar or --oci-layout");
        goto out;
    }
    if (bf.bundle && bf.image) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
        goto out;
    }
    if (!bf.bundle && !bf.image) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected either image or bundle");
        goto out;
    }
    rc = push_files(&bf, to_oci_tar, lock_output, &ro, rf.concurrency, err);
out:
    build_flags_release(&bf);
    registry_flags_release(&rf);
    free(to_oci_tar);
    free(lock_output);
    free(tar);
    free(oci_tar);
    free(oci_layout);
    free(to_repo);
    return rc;
}
