/* bundle.c - imgpkg bundles as stored images: the bundle label, the
 * .imgpkg/images.yml inside the bundle layer (read by streaming the layer
 * through libarchive, nothing held whole), and the ImageLocations record. */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "imgpkg/bundle.h"
#include "imgpkg/ref.h"
#include "imgpkg/yaml-writer.h"
#include "lock-private.h"
#include "util/banned.h"

#define MAX_LOCK (16u << 20)

void ip_images_lock_rebase(const struct ip_images_lock *in, const char *repo,
                           struct ip_images_lock *out)
{
    memset(out, 0, sizeof(*out));
    out->images = ip_xcalloc(in->n_images ? in->n_images : 1, sizeof(*out->images));
    for (size_t i = 0; i < in->n_images; i++) {
        const struct ip_lock_image *src = &in->images[i];
        struct ip_lock_image *dst = &out->images[i];
        const char *at = strchr(src->image, '@');
        dst->image = ip_xasprintf("%s%s", repo, at ? at : "");
        dst->annotations =
            ip_xcalloc(src->n_annotations ? src->n_annotations : 1, sizeof(*dst->annotations));
        for (size_t j = 0; j < src->n_annotations; j++) {
            dst->annotations[j].key = ip_xstrdup(src->annotations[j].key);
            dst->annotations[j].val = ip_xstrdup(src->annotations[j].val);
        }
        dst->n_annotations = src->n_annotations;
    }
    out->n_images = in->n_images;
}

int ip_images_lock_relocate(struct ip_store *s, const char *repo, const char *bundle_digest,
                            const struct ip_images_lock *lock, struct ip_images_lock *out,
                            bool *relocated, struct ip_err *err)
{
    cleanup_free char *ltag = ip_imgpkg_locations_tag(bundle_digest);
    struct ip_manifest *m = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    *relocated = false;
    if (ip_store_get_manifest(s, ltag, &m, err) == 0) {
        ip_manifest_free(m);
    } else {
        for (size_t i = 0; i < lock->n_images; i++) {
            const char *at = strchr(lock->images[i].image, '@');
            if (!at)
                return 0;
            if ((rc = ip_store_get_manifest(s, at + 1, &m, err)) < 0) {
                if (err->code != IP_E_NOTFOUND && err->code != IP_E_AUTH)
                    return rc;
                ip_err_clear(err);
                return 0;
            }
            ip_manifest_free(m);
        }
    }
    ip_err_clear(err);
    ip_images_lock_rebase(lock, repo, out);
    *relocated = true;
    return 0;
}

int ip_image_is_bundle(struct ip_store *s, const struct ip_manifest *m, bool *out,
                       struct ip_err *err)
{
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    struct ip_config cfg;
    int rc;
    *out = false;
    if (m->is_index)
        return 0;
    if (m->config.size > (int64_t)IP_MAX_JSON)
        return ip_err_set(err, IP_E_TOOBIG, "config %s is over %u bytes", m->config.digest,
                          IP_MAX_JSON);
    if ((rc = ip_store_open_blob(s, &m->config, &r, err)) < 0)
        return rc;
    r = ip_reader_verify(r, m->config.digest, m->config.size, m->config.digest);
    rc = ip_reader_slurp(r, IP_MAX_JSON, &b, err);
    ip_reader_free(r);
    if (rc == 0 && (rc = ip_config_parse(b.data ? b.data : "", b.len, &cfg, err)) == 0) {
        const char *v = ip_config_label(&cfg, IP_LABEL_BUNDLE);
        /* the key makes a bundle, whatever its value (as imgpkg) */
        *out = v != NULL;
        ip_config_release(&cfg);
    }
    ip_buf_release(&b);
    if (rc < 0)
        ip_err_wrap(err, "reading config of %s", m->digest);
    return rc;
}

struct layer_src {
    struct ip_reader *r;
    struct ip_err *err;
    bool failed;
    char buf[1 << 16];
};

static la_ssize_t layer_read(struct archive *a, void *ud, const void **out)
{
    struct layer_src *ls = ud;
    ssize_t k = ip_reader_read(ls->r, ls->buf, sizeof(ls->buf), ls->err);
    if (k < 0) {
        ls->failed = true;
        archive_set_error(a, EIO, "%s", ls->err->msg);
        return -1;
    }
    *out = ls->buf;
    return (la_ssize_t)k;
}

static const char *strip_dot(const char *p)
{
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    while (p[0] == '/')
        p++;
    return p;
}

/* Looks for .imgpkg/images.yml in one layer; *found tells whether it was there. */
static int lock_from_layer(struct ip_store *s, const struct ip_desc *l, struct ip_buf *out,
                           bool *found, struct ip_err *err)
{
    struct layer_src *ls = ip_xcalloc(1, sizeof(*ls));
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    int rc = 0, r;

    *found = false;
    if ((rc = ip_store_open_blob(s, l, &ls->r, err)) < 0)
        goto out;
    ls->r = ip_reader_verify(ls->r, l->digest, l->size, l->digest);
    ls->err = err;
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_none(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_format_tar(a);
    if (archive_read_open(a, ls, NULL, layer_read, NULL) != ARCHIVE_OK) {
        rc = ls->failed
                 ? -(int)err->code
                 : ip_err_set(err, IP_E_FORMAT, "layer %s: %s", l->digest, archive_error_string(a));
        goto out;
    }
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        const char *name = strip_dot(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
        if (strcmp(name, ".imgpkg/images.yml") != 0 || archive_entry_filetype(ae) != AE_IFREG)
            continue;
        if (archive_entry_size(ae) > (la_int64_t)MAX_LOCK) {
            rc = ip_err_set(err, IP_E_TOOBIG, "layer %s: .imgpkg/images.yml is too large",
                            l->digest);
            goto out;
        }
        ip_buf_reset(out);
        char chunk[65536];
        la_ssize_t k;
        while ((k = archive_read_data(a, chunk, sizeof(chunk))) > 0)
            ip_buf_add(out, chunk, (size_t)k, err);
        if (k < 0) {
            rc = ls->failed ? -(int)err->code
                            : ip_err_set(err, IP_E_FORMAT, "layer %s: %s", l->digest,
                                         archive_error_string(a));
            goto out;
        }
        *found = true;
    }
    if (r != ARCHIVE_EOF)
        rc = ls->failed
                 ? -(int)err->code
                 : ip_err_set(err, IP_E_FORMAT, "layer %s: %s", l->digest, archive_error_string(a));
out:
    archive_read_free(a);
    ip_reader_free(ls->r);
    free(ls);
    return rc;
}

int ip_bundle_images_lock(struct ip_store *s, const struct ip_manifest *m,
                          struct ip_images_lock *out, struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    int rc = 0;
    bool found = false;
    if (m->is_index)
        return ip_err_set(err, IP_E_INPUT, "%s is an index, not a bundle", m->digest);
    for (size_t i = m->n_layers; i-- > 0 && !found;) {
        if ((rc = lock_from_layer(s, &m->layers[i], &b, &found, err)) < 0)
            break;
    }
    if (rc == 0 && !found)
        rc = ip_err_set(err, IP_E_FORMAT, "bundle %s has no .imgpkg/images.yml", m->digest);
    if (rc == 0) {
        cleanup_free char *what = ip_xasprintf("bundle %s: .imgpkg/images.yml", m->digest);
        rc = ip_images_lock_parse(b.data ? b.data : "", b.len, what, out, err);
    }
    ip_buf_release(&b);
    return rc;
}

void ip_image_locations_release(struct ip_image_locations *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->images[i].image);
    free(l->images);
    memset(l, 0, sizeof(*l));
}

void ip_image_locations_yaml(const struct ip_image_locations *l, struct ip_buf *out)
{
    struct ip_yaml_writer *w = ip_yaml_writer_new(true);
    struct ip_err err;
    ip_yaml_map_start(w);
    ip_yaml_kv(w, "apiVersion", "imgpkg.carvel.dev/v1alpha1");
    ip_yaml_scalar(w, "images");
    ip_yaml_seq_start(w);
    for (size_t i = 0; i < l->n; i++) {
        ip_yaml_map_start(w);
        ip_yaml_kv(w, "image", l->images[i].image);
        ip_yaml_scalar(w, "isBundle");
        ip_yaml_plain(w, l->images[i].is_bundle ? "true" : "false");
        ip_yaml_map_end(w);
    }
    ip_yaml_seq_end(w);
    ip_yaml_kv(w, "kind", "ImageLocations");
    ip_yaml_map_end(w);
    ip_yaml_writer_finish(w, out, &err);
}

static const char *yscalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *ymap_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = yscalar(yaml_document_get_node(d, p->key));
        if (k && !strcmp(k, key))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

int ip_image_locations_parse(const char *data, size_t len, struct ip_image_locations *out,
                             struct ip_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ip_image_locations l = {0};
    int rc = 0;
    if (len > MAX_LOCK)
        return ip_err_set(err, IP_E_TOOBIG, "image-locations.yml is too large");
    if ((rc = ip_yaml_check_nesting(data, len, "image-locations.yml", err)) < 0)
        return rc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_parser_delete(&parser);
        return ip_err_set(err, IP_E_FORMAT, "image-locations.yml: invalid YAML");
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    const char *api = yscalar(ymap_get(&doc, root, "apiVersion"));
    const char *kind = yscalar(ymap_get(&doc, root, "kind"));
    yaml_node_t *images = ymap_get(&doc, root, "images");
    if (!api || strcmp(api, "imgpkg.carvel.dev/v1alpha1") != 0) {
        rc = ip_err_set(err, IP_E_FORMAT,
                        "image-locations.yml: Validating apiVersion: Unknown version (known: "
                        "imgpkg.carvel.dev/v1alpha1)");
    } else if (!kind || strcmp(kind, "ImageLocations") != 0) {
        rc = ip_err_set(
            err, IP_E_FORMAT,
            "image-locations.yml: Validating kind: Unknown kind (known: ImageLocations)");
    } else if (images && images->type == YAML_SEQUENCE_NODE) {
        size_t n = (size_t)(images->data.sequence.items.top - images->data.sequence.items.start);
        l.images = ip_xcalloc(n ? n : 1, sizeof(*l.images));
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *it = yaml_document_get_node(&doc, images->data.sequence.items.start[i]);
            const char *img = yscalar(ymap_get(&doc, it, "image"));
            const char *ib = yscalar(ymap_get(&doc, it, "isBundle"));
            if (!img) {
                rc = ip_err_set(err, IP_E_FORMAT, "image-locations.yml: images[%zu] has no image",
                                i);
                break;
            }
            l.images[l.n].image = ip_xstrdup(img);
            l.images[l.n].is_bundle = ib && !strcmp(ib, "true");
            l.n++;
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc < 0) {
        ip_image_locations_release(&l);
        return rc;
    }
    *out = l;
    return 0;
}

char *ip_imgpkg_digest_tag(const char *digest)
{
    return ip_xasprintf("sha256-%s.imgpkg", ip_digest_hex(digest));
}

char *ip_imgpkg_locations_tag(const char *bundle_digest)
{
    return ip_xasprintf("sha256-%s.image-locations.imgpkg", ip_digest_hex(bundle_digest));
}

/* imgpkg's RepoBasedTagGenerator: the repository path with '/' as '-',
 * characters a tag cannot hold removed, the last 49 kept, no leading '-'. */
static void clean_tag_part(char *s)
{
    char *w = s;
    bool leading = true;
    for (char *r = s; *r; r++) {
        char c = *r;
        bool ok = isalnum((unsigned char)c) || c == '_' || (!leading && (c == '.' || c == '-'));
        if (!ok)
            continue;
        leading = false;
        *w++ = c;
    }
    *w = '\0';
}

char *ip_imgpkg_repo_based_tag(const char *orig_repository, const char *digest)
{
    char *p = ip_xstrdup(orig_repository);
    for (char *c = p; *c; c++)
        if (*c == '/')
            *c = '-';
    clean_tag_part(p);
    size_t n = strlen(p);
    if (n > 49)
        memmove(p, p + n - 49, 50);
    clean_tag_part(p);
    char *start = p;
    while (*start == '-')
        start++;
    char *tag = *start ? ip_xasprintf("%s-sha256-%s.imgpkg", start, ip_digest_hex(digest))
                       : ip_imgpkg_digest_tag(digest);
    free(p);
    return tag;
}
