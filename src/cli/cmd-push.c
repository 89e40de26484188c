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

static int push_files(const struct cli_global *g, struct build_flags *bf, const char *to_oci_tar,
                      const char *lock_output, const struct ip_registry_opts *ro, int concurrency,
                      struct ip_err *err)
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
        tmp_dir = ip_xstrdup(cli_tmp_dir());
    }
    if ((rc = build_from_flags(bf, tmp_dir, true, NULL, &br, err)) < 0)
        goto out;
    /* imgpkg lists what went into the layer, and no transfer lines */
    for (size_t i = 0; i < br.n_entries; i++)
        ui_line(g, "%s: %s", br.entries[i].is_dir ? "dir" : "file", br.entries[i].rel);
    /* imgpkg's words: Writing 'REF': ... (a keychain or CA file in error aside) */
    if ((rc = ip_store_registry_open(&name.ref, ro, &reg, err)) < 0) {
        if (err->code != IP_E_USAGE && err->code != IP_E_INPUT && err->code != IP_E_IO)
            ip_err_wrap(err, "Writing '%s'", name.shown);
        goto out;
    }
    /* imgpkg tags what it pushes twice: the tag asked for, and sha256-<hex>.imgpkg */
    digest_tag = ip_imgpkg_digest_tag(br.manifest_digest);
    const char *tags[2] = {name.tag, digest_tag};
    memset(&item, 0, sizeof(item));
    item.src_ref = br.manifest_digest;
    item.tags = tags;
    item.n_tags = 2;
    item.annotations = name.ann; /* the tag */
    item.n_annotations = 1;
    struct ip_copy_opts co = {.concurrency = concurrency, .retries = ro->retries};
    if ((rc = ip_copy(br.store, reg, &item, 1, &co, &res, err)) < 0) {
        ip_err_wrap(err, "Writing '%s': Writing image", name.shown);
        goto out;
    }
    repo = ip_ref_name(&name.ref);
    ui_text(g, "Pushed '%s@%s'", repo, res.digest);
    if (tar) {
        if ((rc = write_built(&br, &name, tar, tar_digest, err)) < 0)
            goto out;
        ui_text(g, "\nSaved '%s@%s' to %s", name.shown, tar_digest, to_oci_tar);
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

struct push_opts {
    struct build_flags bf;
    struct registry_flags rf;
    char *to_oci_tar, *lock_output, *tar, *oci_tar, *oci_layout, *to_repo;
};

#define O(field) offsetof(struct push_opts, field)

static const struct flag push_flags[] = {
    {"to-oci-tar", 0, FLAG_STRING, O(to_oci_tar),
     "Also write the image to an OCI image layout tarball", NULL, 0},
    {"lock-output", 0, FLAG_STRING, O(lock_output),
     "Location to output the generated lockfile (BundleLock for -b, ImagesLock for -i)", NULL, 0},
    {"tar", 0, FLAG_STRING, O(tar), "Push the images of an OCI image layout tarball", NULL, 0},
    {"oci-tar", 0, FLAG_STRING, O(oci_tar), "Same as --tar", NULL, 0},
    {"oci-layout", 0, FLAG_STRING, O(oci_layout),
     "Push the images of an OCI image layout directory", NULL, 0},
    {"to-repo", 0, FLAG_STRING, O(to_repo),
     "With --tar or --oci-layout: push every image, each under its own tag, into REPO", NULL, 0},
    FLAG_END,
};

static const struct flag_use push_uses[] = {
    {build_flag_table, O(bf)},
    {push_flags, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

/* --tar, --oci-tar or --oci-layout: a whole layout to the registry. */
static int push_layout(const struct cli_global *g, struct push_opts *o,
                       const struct ip_registry_opts *ro, struct ip_err *err)
{
    struct ip_store *src = NULL;
    const char *tar = o->tar ? o->tar : o->oci_tar;
    int rc;
    if (o->tar && o->oci_tar)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-tar");
    if (tar && o->oci_layout)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of --tar and --oci-layout");
    if (o->bf.files.n || o->to_oci_tar || o->bf.oci)
        return ip_err_set(
            err, IP_E_USAGE,
            "--file, --to-oci-tar and --oci cannot be used with --tar or --oci-layout");
    if ((rc = open_layout_source(tar, o->oci_layout, &src, err)) < 0)
        return rc;
    struct publish_opts po = {.to_repo = o->to_repo,
                              .bundle = o->bf.bundle,
                              .image = o->bf.image,
                              .lock_output = o->lock_output,
                              .registry = ro,
                              .concurrency = o->rf.concurrency};
    rc = publish_layout(g, src, &po, err);
    ip_store_free(src);
    return rc;
}

static int push_run(const struct cli_global *g, void *opts, struct ip_err *err)
{
    struct push_opts *o = opts;
    struct ip_registry_opts ro;
    int rc;

    if ((rc = registry_flags_opts(g, &o->rf, &ro, err)) < 0)
        return rc;
    if (o->tar || o->oci_tar || o->oci_layout)
        return push_layout(g, o, &ro, err);
    if (o->to_repo)
        return ip_err_set(err, IP_E_USAGE, "--to-repo goes with --tar or --oci-layout");
    if (o->bf.bundle && o->bf.image)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
    if (!o->bf.bundle && !o->bf.image)
        return ip_err_set(err, IP_E_USAGE, "Expected either image or bundle");
    return push_files(g, &o->bf, o->to_oci_tar, o->lock_output, &ro, o->rf.concurrency, err);
}

const struct command cmd_push = {
    .name = "push",
    .summary = "Push files as image",
    .examples = "\n  # Push bundle repo/app1-config with contents of config/ directory\n"
                "  imgpkg push -b repo/app1-config -f config/\n\n"
                "  # Push image repo/app1-config with contents from multiple locations\n"
                "  imgpkg push -i repo/app1-config -f config/ -f additional-config.yml\n\n"
                "  # Push every image of an OCI image layout tarball, each under its own tag\n"
                "  imgpkg push --tar images.tar --to-repo registry.example.com/images\n",
    .flags = push_uses,
    .opts_size = sizeof(struct push_opts),
    .run = push_run,
};
