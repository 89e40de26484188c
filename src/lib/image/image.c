/* image.c - the folder builder: decides bundle or image (imgpkg's .imgpkg
 * rules), writes the layer, and generates the config and the manifest.  The
 * result is an in-memory store the copy engine reads from. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image-internal.h"
#include "imgpkg/lock.h"
#include "oci/oci-private.h"
#include "store/store-private.h"
#include "util/util-private.h"
#include "util/banned.h"

#define FIXED_CREATED "1970-01-01T00:00:00Z"

static int check_bundle(const struct ip_build_opts *o, const struct image_imgpkg_dirs *d,
                        struct ip_err *err)
{
    struct ip_buf list = IP_BUF_INIT;
    struct ip_images_lock lock;
    int rc;

    if (d->n == 0)
        return ip_err_set(err, IP_E_INPUT,
                          "This directory is not a bundle. It is missing .imgpkg/images.yml");
    if (d->n > 1) {
        for (size_t i = 0; i < d->n; i++)
            ip_buf_printf(&list, "%s%s", i ? ", " : "", d->full[i]);
        rc = ip_err_set(err, IP_E_INPUT,
                        "This directory contains multiple bundle definitions. Only a single "
                        "instance of .imgpkg/images.yml can be provided and instead these were "
                        "provided %s",
                        list.data);
        ip_buf_release(&list);
        return rc;
    }
    if (strcmp(d->rel[0], ".imgpkg") != 0) {
        for (size_t i = 0; i < o->n_paths; i++)
            ip_buf_printf(&list, "%s%s", i ? ", " : "", o->paths[i]);
        rc = ip_err_set(err, IP_E_INPUT,
                        "Expected '.imgpkg' directory, to be a direct child of one of: %s; was %s",
                        list.data, d->full[0]);
        ip_buf_release(&list);
        return rc;
    }
    cleanup_free char *images = ip_path_join(d->full[0], "images.yml");
    struct stat st;
    if (lstat(images, &st) < 0 || !S_ISREG(st.st_mode))
        return ip_err_set(err, IP_E_INPUT,
                          "The bundle expected .imgpkg/images.yml to exist, but it wasn't found in "
                          "the path %s",
                          images);
    if ((rc = ip_images_lock_read_loose(images, &lock, err)) < 0)
        return rc;
    ip_images_lock_release(&lock);
    return 0;
}

static int image_with_imgpkg(struct ip_err *err)
{
    return ip_err_set(err, IP_E_INPUT,
                      "Images cannot be pushed with '.imgpkg' directories, consider using "
                      "--bundle (-b) option");
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ip_kv *)a)->key, ((const struct ip_kv *)b)->key);
}

/* imgpkg's config (go-containerregistry's ConfigFile: its field order, zero
 * times, empty os and architecture) for the Docker form; the OCI form names
 * linux/amd64, which umoci and oci-image-tool require. */
#define GO_ZERO_TIME "0001-01-01T00:00:00Z"

static void gen_labels(yajl_gen g, const struct ip_kv *labels, size_t k)
{
    ip_json_str(g, "config");
    yajl_gen_map_open(g);
    if (k) {
        ip_json_str(g, "Labels");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < k; i++)
            ip_json_kv(g, labels[i].key, labels[i].val);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

static void gen_rootfs(yajl_gen g, const char *diff_id)
{
    ip_json_str(g, "rootfs");
    yajl_gen_map_open(g);
    ip_json_kv(g, "type", "layers");
    ip_json_str(g, "diff_ids");
    yajl_gen_array_open(g);
    ip_json_str(g, diff_id);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static void gen_history(yajl_gen g, bool docker)
{
    const char *created = docker ? GO_ZERO_TIME : FIXED_CREATED;
    ip_json_str(g, "history");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    if (!docker)
        ip_json_kv(g, "created", created);
    ip_json_kv(g, "author", "imgpkg");
    if (docker)
        ip_json_kv(g, "created", created);
    ip_json_kv(g, "created_by", "imgpkg");
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
}

static void gen_config(const struct ip_build_opts *o, bool bundle, const char *diff_id,
                       struct ip_buf *out)
{
    bool docker = o->docker_media_types;
    size_t n = o->n_labels + 1;
    struct ip_kv *labels = ip_xcalloc(n, sizeof(*labels));
    size_t k = 0;
    for (size_t i = 0; i < o->n_labels; i++)
        labels[k++] = o->labels[i];
    if (bundle) {
        labels[k].key = (char *)IP_LABEL_BUNDLE;
        labels[k++].val = (char *)"true";
    }
    qsort(labels, k, sizeof(*labels), label_cmp);

    yajl_gen g = ip_json_gen_new();
    yajl_gen_map_open(g);
    ip_json_kv(g, "architecture", docker ? "" : "amd64");
    if (!docker)
        gen_labels(g, labels, k);
    ip_json_kv(g, "created", docker ? GO_ZERO_TIME : FIXED_CREATED);
    gen_history(g, docker);
    ip_json_kv(g, "os", docker ? "" : "linux");
    gen_rootfs(g, diff_id);
    if (docker)
        gen_labels(g, labels, k);
    yajl_gen_map_close(g);
    ip_json_gen_finish(g, out);
    free(labels);
}

/* A descriptor in go-containerregistry's field order (mediaType, size,
 * digest), as imgpkg's manifests have it. */
static void gen_go_desc(yajl_gen g, const struct ip_desc *d)
{
    yajl_gen_map_open(g);
    ip_json_kv(g, "mediaType", d->media_type);
    ip_json_str(g, "size");
    ip_json_int(g, d->size);
    ip_json_kv(g, "digest", d->digest);
    yajl_gen_map_close(g);
}

static void gen_manifest(const struct ip_desc *config, const struct ip_desc *layer, bool docker,
                         struct ip_buf *out)
{
    void (*desc)(yajl_gen, const struct ip_desc *) = docker ? gen_go_desc : ip_desc_gen;
    yajl_gen g = ip_json_gen_new();
    yajl_gen_map_open(g);
    ip_json_str(g, "schemaVersion");
    ip_json_int(g, 2);
    ip_json_kv(g, "mediaType", docker ? IP_MT_DOCKER_MANIFEST : IP_MT_OCI_MANIFEST);
    ip_json_str(g, "config");
    desc(g, config);
    ip_json_str(g, "layers");
    yajl_gen_array_open(g);
    desc(g, layer);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    ip_json_gen_finish(g, out);
}

void ip_build_result_release(struct ip_build_result *r)
{
    ip_store_free(r->store);
    ip_build_entries_free(r->entries, r->n_entries);
    if (r->layer_path) {
        unlink(r->layer_path);
        free(r->layer_path);
    }
    if (r->layer_fd > 0)
        close(r->layer_fd);
    memset(r, 0, sizeof(*r));
}

/* The layer: straight into the destination tarball, or into a temporary
 * file of tmp_dir (*fd, r->layer_path) that the copy engine moves or copies. */
static int write_layer(const struct ip_build_opts *o, const struct ip_build_entry *entries,
                       size_t n, struct ip_build_result *r, int *fd, struct ip_layer_info *li,
                       struct ip_err *err)
{
    int level = o->compression_level ? o->compression_level : 1, out_fd, rc;
    const char *where;
    if (o->layer_into) {
        if ((rc = ip_store_oci_tar_stream_begin(o->layer_into, &out_fd, err)) < 0)
            return rc;
        where = o->layer_into->location;
    } else {
        where = o->tmp_dir ? o->tmp_dir : ".";
        ip_cleanup_stale_temps(where, "imgpkg-layer");
        *fd = ip_mkstemp_in(where, "imgpkg-layer", &r->layer_path, err);
        if (*fd < 0) {
            rc = *fd;
            *fd = -1;
            return rc;
        }
        out_fd = *fd;
    }
    rc = ip_layer_write_to(entries, n, o->preserve_permissions, level, out_fd,
                           o->layer_into || !o->layer_transient, li, err);
    if (rc < 0 && ip_err_no_space(err))
        ip_err_wrap(err, "writing a layer into '%s'", where);
    return rc;
}

int ip_build(const struct ip_build_opts *o, struct ip_build_result *out, struct ip_err *err)
{
    struct image_imgpkg_dirs dirs = {0};
    struct ip_build_entry *entries = NULL;
    size_t n = 0;
    struct ip_build_result r;
    struct ip_layer_info li;
    struct ip_buf config = IP_BUF_INIT, manifest = IP_BUF_INIT;
    struct ip_desc cdesc, ldesc;
    int rc, fd = -1;

    memset(&r, 0, sizeof(r));
    memset(&cdesc, 0, sizeof(cdesc));
    memset(&ldesc, 0, sizeof(ldesc));
    for (size_t i = 0; i < o->n_labels; i++)
        if (!strcmp(o->labels[i].key, IP_LABEL_BUNDLE))
            return ip_err_set(err, IP_E_USAGE,
                              "label '%s' is reserved and cannot be overriden. Please use a "
                              "different key",
                              IP_LABEL_BUNDLE);
    if ((rc = image_collect(o, &dirs, &entries, &n, err)) < 0) {
        /* .imgpkg directories already found break imgpkg's rules: say so rather
         * than the duplicates they cause (two inputs each with .imgpkg/images.yml) */
        if (rc == -IP_E_INPUT && o->kind == IP_BUILD_IMAGE && dirs.n > 0)
            rc = image_with_imgpkg(err);
        else if (rc == -IP_E_INPUT && dirs.n > 1)
            rc = check_bundle(o, &dirs, err);
        goto out;
    }
    if (o->kind == IP_BUILD_IMAGE && dirs.n > 0) {
        rc = image_with_imgpkg(err);
        goto out;
    }
    r.is_bundle = o->kind == IP_BUILD_BUNDLE || (o->kind == IP_BUILD_AUTO && dirs.n > 0);
    if (r.is_bundle && (rc = check_bundle(o, &dirs, err)) < 0)
        goto out;

    if ((rc = write_layer(o, entries, n, &r, &fd, &li, err)) < 0)
        goto out;

    gen_config(o, r.is_bundle, li.diff_id, &config);
    cdesc.media_type = ip_xstrdup(o->docker_media_types ? IP_MT_DOCKER_CONFIG : IP_MT_OCI_CONFIG);
    ip_sha256_of(config.data, config.len, cdesc.digest);
    cdesc.size = (int64_t)config.len;
    ldesc.media_type =
        ip_xstrdup(o->docker_media_types ? IP_MT_DOCKER_LAYER : IP_MT_OCI_LAYER_GZIP);
    memcpy(ldesc.digest, li.digest, IP_DIGEST_SIZE);
    ldesc.size = li.size;
    gen_manifest(&cdesc, &ldesc, o->docker_media_types, &manifest);
    if (o->layer_into && (rc = ip_store_oci_tar_stream_end(o->layer_into, &ldesc, err)) < 0)
        goto out;

    r.store = ip_store_mem_new();
    ip_store_mem_add_file_blob(r.store, &ldesc, r.layer_path);
    ip_store_mem_add_blob(r.store, &cdesc, config.data);
    if ((rc = ip_store_mem_add_manifest(
             r.store, manifest.data, manifest.len,
             o->docker_media_types ? IP_MT_DOCKER_MANIFEST : IP_MT_OCI_MANIFEST, NULL, 0, err)) < 0)
        goto out;
    ip_sha256_of(manifest.data, manifest.len, r.manifest_digest);
    r.layer_fd = fd;
    fd = -1;
    r.entries = entries;
    r.n_entries = n;
    entries = NULL;
    n = 0;
    *out = r;
    memset(&r, 0, sizeof(r));
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    ip_build_result_release(&r);
    ip_desc_release(&cdesc);
    ip_desc_release(&ldesc);
    ip_buf_release(&config);
    ip_buf_release(&manifest);
    ip_build_entries_free(entries, n);
    image_imgpkg_dirs_release(&dirs);
    return rc;
}
