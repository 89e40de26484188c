/* store-imgpkg-tar.c - the tarball Go imgpkg's `copy --to-tar` writes (read
 * only): an uncompressed tar holding manifest.json, a JSON array of
 * ImageOrImageIndexDescriptor objects (Go field names as keys), and one member
 * "sha256-<hex>.tar.gz" per distinct layer with the compressed blob bytes.
 *
 * Manifests, indexes and configs live only inside manifest.json, as JSON
 * strings holding their exact bytes ("Raw").  Everything in manifest.json is
 * checked when the store is opened: every Raw against its digest, every image's
 * config against its manifest, every distributable layer against the tar
 * members, every index child against the manifests present.  Layers are read
 * with random access through tar-index.c, so reads may run in parallel. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "imgpkg/bundle.h"
#include "imgpkg/ref.h"
#include "imgpkg/store.h"
#include "store/tar-index.h"
#include "oci/json.h"
#include "store/store-private.h"
#include "util/banned.h"

#define MANIFEST_JSON "manifest.json"
#define MAX_MANIFEST_JSON (64u << 20)
#define MAX_INDEX_DEPTH 16
/* the entry annotations a copy puts in an OCI tarball (the same as imgpkg/bundle.h's) */

struct legacy_config {
    char digest[IP_DIGEST_SIZE];
    char *raw;
    size_t len;
};

struct legacy_store {
    struct ip_store base;
    struct ip_tar_index tar;
    /* every manifest and index (children of indexes too), unique by digest */
    struct ip_manifest **manifests;
    size_t n_manifests, cap_manifests;
    struct ip_hashmap manifest_map; /* digest -> index */
    struct legacy_config **configs;
    size_t n_configs, cap_configs;
    struct ip_hashmap config_map; /* digest -> index */
    /* one per top-level descriptor of manifest.json */
    struct ip_desc *entries;
    size_t n_entries, cap_entries;
};

/* ---------- lookups ---------- */

static const struct ip_manifest *find_manifest(const struct legacy_store *ls, const char *digest)
{
    size_t i;
    return ip_hashmap_get(&ls->manifest_map, digest, &i) ? ls->manifests[i] : NULL;
}

static const struct legacy_config *find_config(const struct legacy_store *ls, const char *digest)
{
    size_t i;
    return ip_hashmap_get(&ls->config_map, digest, &i) ? ls->configs[i] : NULL;
}

static void layer_member_name(const char *digest, char name[128])
{
    snprintf(name, 128, "sha256-%s.tar.gz", ip_digest_hex(digest));
}

static const struct ip_tar_member *find_layer(const struct legacy_store *ls, const char *digest)
{
    char name[128];
    layer_member_name(digest, name);
    return ip_tar_index_find(&ls->tar, name);
}

/* True when some image manifest lists digest as a layer. */
static bool is_known_layer(const struct legacy_store *ls, const char *digest)
{
    for (size_t i = 0; i < ls->n_manifests; i++) {
        const struct ip_manifest *m = ls->manifests[i];
        for (size_t j = 0; j < m->n_layers; j++)
            if (!strcmp(m->layers[j].digest, digest))
                return true;
    }
    return false;
}

/* ---------- reading manifest.json ---------- */

/* Parses manifest.json (up to MAX_MANIFEST_JSON bytes, more than ip_json_parse takes). */
static int parse_manifest_json(const struct ip_buf *b, const char *where, yajl_val *out,
                               struct ip_err *err)
{
    if (!b->data || b->len == 0)
        return ip_err_set(err, IP_E_FORMAT, "%s: invalid JSON: empty", where);
    if (ip_json_parse_buf(b, MAX_MANIFEST_JSON, out, err) < 0)
        return ip_err_wrap(err, "%s", where);
    return 0;
}

/* A member that must be a string or null/absent (*out NULL then). */
static int opt_str(yajl_val obj, const char *key, const char *where, const char **out,
                   struct ip_err *err)
{
    yajl_val v = ip_json_get(obj, key);
    *out = NULL;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_STRING(v))
        return ip_err_set(err, IP_E_FORMAT, "%s: %s is not a string", where, key);
    *out = v->u.string;
    return 0;
}

static int req_str(yajl_val obj, const char *key, const char *where, const char **out,
                   struct ip_err *err)
{
    int rc = opt_str(obj, key, where, out, err);
    if (rc == 0 && !*out)
        rc = ip_err_set(err, IP_E_FORMAT, "%s: %s is missing", where, key);
    return rc;
}

/* A member that must be an array or null/absent (*out NULL then). */
static int opt_array(yajl_val obj, const char *key, const char *where, yajl_val *out,
                     struct ip_err *err)
{
    yajl_val v = ip_json_get(obj, key);
    *out = NULL;
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return ip_err_set(err, IP_E_FORMAT, "%s: %s is not an array", where, key);
    *out = v;
    return 0;
}

/* Checks that raw hashes to the digest manifest.json claims for it. */
static int check_raw(const char *raw, const char *digest, const char *what, const char *where,
                     size_t *len_out, struct ip_err *err)
{
    char got[IP_DIGEST_SIZE];
    size_t len = strlen(raw);
    if (!ip_digest_valid(digest))
        return ip_err_set(err, IP_E_FORMAT, "%s: invalid %s digest '%.100s'", where, what, digest);
    if (len > IP_MAX_JSON)
        return ip_err_set(err, IP_E_TOOBIG, "%s: %s %s: %zu bytes is over the %u byte limit", where,
                          what, digest, len, IP_MAX_JSON);
    ip_sha256_of(raw, len, got);
    if (strcmp(got, digest) != 0)
        return ip_err_set(err, IP_E_DIGEST, "%s: %s %s: its content in manifest.json has digest %s",
                          where, what, digest, got);
    *len_out = len;
    return 0;
}

/* Reads the {MediaType, Digest, Raw} of a manifest or index, checked and added
 * to the store (once per digest); *out is the store's copy. */
static int add_manifest(struct legacy_store *ls, const char *media_type, const char *digest,
                        const char *raw, bool want_index, const char *where,
                        const struct ip_manifest **out, struct ip_err *err)
{
    const char *what = want_index ? "index" : "manifest";
    struct ip_manifest *m = NULL;
    size_t len = 0;
    int rc;

    if ((rc = check_raw(raw, digest, what, where, &len, err)) < 0)
        return rc;
    if ((*out = find_manifest(ls, digest)) == NULL) {
        if ((rc = ip_manifest_parse(raw, len, media_type && *media_type ? media_type : NULL, &m,
                                    err)) < 0)
            return ip_err_wrap(err, "%s: %s %s", where, what, digest);
        IP_GROW(ls->manifests, ls->cap_manifests, ls->n_manifests + 1);
        ls->manifests[ls->n_manifests] = m;
        ip_hashmap_put(&ls->manifest_map, m->digest, ls->n_manifests++);
        *out = m;
    }
    if ((*out)->is_index != want_index)
        return ip_err_set(err, IP_E_FORMAT, "%s: %s %s is %s", where, what, digest,
                          (*out)->is_index ? "an index" : "an image manifest");
    return 0;
}

static int parse_image(struct legacy_store *ls, yajl_val img, const char *where,
                       const struct ip_manifest **out, struct ip_err *err)
{
    yajl_val man = ip_json_get(img, "Manifest"), cfg = ip_json_get(img, "Config"), layers;
    const char *mt, *digest, *raw, *cdigest, *craw;
    const struct ip_manifest *m;
    size_t clen = 0;
    int rc;

    if (!YAJL_IS_OBJECT(img))
        return ip_err_set(err, IP_E_FORMAT, "%s: Image is not an object", where);
    if (!YAJL_IS_OBJECT(man))
        return ip_err_set(err, IP_E_FORMAT, "%s: Image has no Manifest object", where);
    if (!YAJL_IS_OBJECT(cfg))
        return ip_err_set(err, IP_E_FORMAT, "%s: Image has no Config object", where);
    if ((rc = opt_str(man, "MediaType", where, &mt, err)) < 0 ||
        (rc = req_str(man, "Digest", where, &digest, err)) < 0 ||
        (rc = req_str(man, "Raw", where, &raw, err)) < 0 ||
        (rc = req_str(cfg, "Digest", where, &cdigest, err)) < 0 ||
        (rc = req_str(cfg, "Raw", where, &craw, err)) < 0 ||
        (rc = opt_array(img, "Layers", where, &layers, err)) < 0)
        return rc;
    if ((rc = add_manifest(ls, mt, digest, raw, false, where, &m, err)) < 0)
        return rc;
    if ((rc = check_raw(craw, cdigest, "config", where, &clen, err)) < 0)
        return rc;
    if (strcmp(cdigest, m->config.digest) != 0)
        return ip_err_set(err, IP_E_DIGEST, "%s: manifest %s names config %s, not %s", where,
                          m->digest, m->config.digest, cdigest);
    if (!find_config(ls, cdigest)) {
        struct legacy_config *c = ip_xcalloc(1, sizeof(*c));
        memcpy(c->digest, cdigest, IP_DIGEST_SIZE);
        c->raw = ip_xstrndup(craw, clen);
        c->len = clen;
        IP_GROW(ls->configs, ls->cap_configs, ls->n_configs + 1);
        ls->configs[ls->n_configs] = c;
        ip_hashmap_put(&ls->config_map, c->digest, ls->n_configs++);
    }
    /* The Layers descriptors only repeat the manifest; the manifest decides
     * which members must be present (non-distributable layers may be absent,
     * as Go imgpkg leaves them out without --include-non-distributable-layers). */
    for (size_t i = 0; layers && i < layers->u.array.len; i++) {
        yajl_val l = layers->u.array.values[i];
        const char *ld;
        if (!YAJL_IS_OBJECT(l))
            return ip_err_set(err, IP_E_FORMAT, "%s: Layers[%zu] is not an object", where, i);
        if ((rc = req_str(l, "Digest", where, &ld, err)) < 0)
            return rc;
        if (!ip_digest_valid(ld))
            return ip_err_set(err, IP_E_FORMAT, "%s: invalid layer digest '%.100s'", where, ld);
    }
    for (size_t i = 0; i < m->n_layers; i++) {
        const struct ip_desc *l = &m->layers[i];
        const struct ip_tar_member *tm = find_layer(ls, l->digest);
        if (!tm && ip_media_type_is_foreign(l->media_type))
            continue;
        if (!tm)
            return ip_err_set(err, IP_E_NOTFOUND,
                              "%s: layer %s of manifest %s is missing (no member "
                              "sha256-%s.tar.gz)",
                              where, l->digest, m->digest, ip_digest_hex(l->digest));
        if (tm->size != l->size)
            return ip_err_set(err, IP_E_DIGEST,
                              "%s: layer %s of manifest %s: member %s is %lld bytes, the "
                              "manifest says %lld",
                              where, l->digest, m->digest, tm->name, (long long)tm->size,
                              (long long)l->size);
    }
    *out = m;
    return 0;
}

static int parse_index(struct legacy_store *ls, yajl_val idx, int depth, const char *where,
                       const struct ip_manifest **out, struct ip_err *err)
{
    const char *mt, *digest, *raw;
    yajl_val images, indexes;
    const struct ip_manifest *m, *child;
    int rc;

    if (!YAJL_IS_OBJECT(idx))
        return ip_err_set(err, IP_E_FORMAT, "%s: ImageIndex is not an object", where);
    if (depth >= MAX_INDEX_DEPTH)
        return ip_err_set(err, IP_E_FORMAT, "%s: indexes nested more than %d deep", where,
                          MAX_INDEX_DEPTH);
    if ((rc = opt_str(idx, "MediaType", where, &mt, err)) < 0 ||
        (rc = req_str(idx, "Digest", where, &digest, err)) < 0 ||
        (rc = req_str(idx, "Raw", where, &raw, err)) < 0 ||
        (rc = opt_array(idx, "Images", where, &images, err)) < 0 ||
        (rc = opt_array(idx, "Indexes", where, &indexes, err)) < 0)
        return rc;
    if ((rc = add_manifest(ls, mt, digest, raw, true, where, &m, err)) < 0)
        return rc;
    for (size_t i = 0; images && i < images->u.array.len; i++)
        if ((rc = parse_image(ls, images->u.array.values[i], where, &child, err)) < 0)
            return rc;
    for (size_t i = 0; indexes && i < indexes->u.array.len; i++)
        if ((rc = parse_index(ls, indexes->u.array.values[i], depth + 1, where, &child, err)) < 0)
            return rc;
    *out = m;
    return 0;
}

/* The names a top-level descriptor gives its entry. */
static int entry_annotations(yajl_val d, struct ip_desc *desc, const char *where,
                             struct ip_err *err)
{
    const char *tag, *orig;
    yajl_val refs, labels;
    int rc;
    if ((rc = opt_str(d, "Tag", where, &tag, err)) < 0 ||
        (rc = opt_str(d, "OrigRef", where, &orig, err)) < 0 ||
        (rc = opt_array(d, "Refs", where, &refs, err)) < 0)
        return rc;
    labels = ip_json_get(d, "Labels");
    if (labels && !YAJL_IS_NULL(labels) && !YAJL_IS_OBJECT(labels))
        return ip_err_set(err, IP_E_FORMAT, "%s: Labels is not an object", where);
    if (tag && *tag && ip_tag_valid(tag))
        ip_desc_set_annotation(desc, IP_ANN_REF_NAME, tag);
    if ((!orig || !*orig) && refs && refs->u.array.len > 0 &&
        YAJL_IS_STRING(refs->u.array.values[0]))
        orig = refs->u.array.values[0]->u.string;
    if (orig && *orig)
        ip_desc_set_annotation(desc, IP_ANN_ORIGINAL_REF, orig);
    if (ip_json_get(labels, IP_ANN_ROOT_BUNDLE))
        ip_desc_set_annotation(desc, IP_ANN_ROOT_BUNDLE, "");
    return 0;
}

static int parse_entry(struct legacy_store *ls, yajl_val e, size_t i, struct ip_err *err)
{
    char where[160];
    yajl_val image = ip_json_get(e, "Image"), index = ip_json_get(e, "ImageIndex");
    const struct ip_manifest *m;
    struct ip_desc desc;
    int rc;

    snprintf(where, sizeof(where), "'%.100s': manifest.json entry %zu", ls->tar.path, i + 1);
    if (!YAJL_IS_OBJECT(e))
        return ip_err_set(err, IP_E_FORMAT, "%s is not an object", where);
    if (YAJL_IS_NULL(image))
        image = NULL;
    if (YAJL_IS_NULL(index))
        index = NULL;
    if (!image == !index)
        return ip_err_set(err, IP_E_FORMAT, "%s: expected exactly one of Image and ImageIndex",
                          where);
    if (image)
        rc = parse_image(ls, image, where, &m, err);
    else
        rc = parse_index(ls, index, 0, where, &m, err);
    if (rc < 0)
        return rc;
    memset(&desc, 0, sizeof(desc));
    desc.media_type = ip_xstrdup(m->media_type);
    memcpy(desc.digest, m->digest, IP_DIGEST_SIZE);
    desc.size = (int64_t)m->raw_len;
    if ((rc = entry_annotations(image ? image : index, &desc, where, err)) < 0) {
        ip_desc_release(&desc);
        return rc;
    }
    IP_GROW(ls->entries, ls->cap_entries, ls->n_entries + 1);
    ls->entries[ls->n_entries++] = desc;
    return 0;
}

/* Every image or index an index names must be in manifest.json. */
static int check_index_children(const struct legacy_store *ls, struct ip_err *err)
{
    for (size_t i = 0; i < ls->n_manifests; i++) {
        const struct ip_manifest *m = ls->manifests[i];
        for (size_t j = 0; j < m->n_manifests; j++) {
            const struct ip_desc *c = &m->manifests[j];
            if (!ip_media_type_is_index(c->media_type) && !ip_media_type_is_manifest(c->media_type))
                continue;
            if (!find_manifest(ls, c->digest))
                return ip_err_set(err, IP_E_NOTFOUND,
                                  "'%s': index %s: manifest %s is not in manifest.json",
                                  ls->tar.path, m->digest, c->digest);
        }
    }
    return 0;
}

static int load(struct legacy_store *ls, struct ip_err *err)
{
    const struct ip_tar_member *mj = ip_tar_index_find(&ls->tar, MANIFEST_JSON);
    struct ip_buf b = IP_BUF_INIT;
    yajl_val tree = NULL;
    char where[160];
    int rc;

    snprintf(where, sizeof(where), "'%.100s': manifest.json", ls->tar.path);
    if (ip_tar_index_find(&ls->tar, "oci-layout"))
        return ip_err_set(err, IP_E_FORMAT,
                          "'%s' is an OCI image layout tarball, not an imgpkg tarball",
                          ls->tar.path);
    if (!mj)
        return ip_err_set(err, IP_E_FORMAT, "'%s' is not an imgpkg tarball: no manifest.json",
                          ls->tar.path);
    if ((rc = ip_tar_index_read(&ls->tar, mj, MAX_MANIFEST_JSON, &b, err)) < 0)
        goto out;
    if ((rc = parse_manifest_json(&b, where, &tree, err)) < 0)
        goto out;
    if (!YAJL_IS_ARRAY(tree)) {
        rc = ip_err_set(err, IP_E_FORMAT, "%s is not a JSON array", where);
        goto out;
    }
    for (size_t i = 0; i < tree->u.array.len; i++)
        if ((rc = parse_entry(ls, tree->u.array.values[i], i, err)) < 0)
            goto out;
    rc = check_index_children(ls, err);
out:
    if (tree)
        yajl_tree_free(tree);
    ip_buf_release(&b);
    return rc;
}

/* ---------- source operations ---------- */

static int legacy_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err)
{
    struct legacy_store *ls = (struct legacy_store *)s;
    struct ip_desc *d = ip_xcalloc(ls->n_entries ? ls->n_entries : 1, sizeof(*d));
    for (size_t i = 0; i < ls->n_entries; i++)
        ip_desc_copy(&d[i], &ls->entries[i]);
    *out = d;
    *n = ls->n_entries;
    return 0;
}

static int legacy_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                               struct ip_err *err)
{
    struct legacy_store *ls = (struct legacy_store *)s;
    const char *digest = NULL;
    const struct ip_manifest *m;

    if (!ref || !*ref) {
        if (ls->n_entries != 1)
            return ip_err_set(err, IP_E_NOTFOUND, "%s holds %zu images: name one (tag or digest)",
                              ls->tar.path, ls->n_entries);
        digest = ls->entries[0].digest;
    } else if (!strncmp(ref, "sha256:", 7)) {
        digest = ref;
    } else {
        for (size_t i = 0; i < ls->n_entries && !digest; i++) {
            const char *t = ip_desc_annotation(&ls->entries[i], IP_ANN_REF_NAME);
            if (t && !strcmp(t, ref))
                digest = ls->entries[i].digest;
        }
        if (!digest)
            return ip_err_set(err, IP_E_NOTFOUND, "%s: no image tagged '%s'", ls->tar.path, ref);
    }
    if ((m = find_manifest(ls, digest)) == NULL)
        return ip_err_set(err, IP_E_NOTFOUND, "%s: no image with digest %s", ls->tar.path, digest);
    /* the bytes were checked against the digest when the store was opened */
    return ip_manifest_parse(m->raw, m->raw_len, m->media_type, out, err);
}

static int legacy_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                            struct ip_err *err)
{
    struct legacy_store *ls = (struct legacy_store *)s;
    const struct legacy_config *c;
    const struct ip_manifest *m;
    const struct ip_tar_member *tm;

    if (ip_digest_check(d->digest, err) < 0)
        return -IP_E_FORMAT;
    if ((c = find_config(ls, d->digest)) != NULL) {
        *out = ip_reader_mem(c->raw, c->len);
        return 0;
    }
    if ((m = find_manifest(ls, d->digest)) != NULL) {
        *out = ip_reader_mem(m->raw, m->raw_len);
        return 0;
    }
    if ((tm = find_layer(ls, d->digest)) != NULL)
        return ip_tar_index_open(&ls->tar, tm, out, err);
    if (is_known_layer(ls, d->digest))
        return ip_err_set(err, IP_E_NOTFOUND,
                          "file sha256-%s.tar.gz not found in tar " IP_HINT_NONDISTRIBUTABLE,
                          ip_digest_hex(d->digest));
    return ip_err_set(err, IP_E_NOTFOUND, "blob %s is missing from %s", d->digest, ls->tar.path);
}

static int legacy_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out,
                           struct ip_err *err)
{
    struct legacy_store *ls = (struct legacy_store *)s;
    const struct legacy_config *c;
    const struct ip_manifest *m;
    const struct ip_tar_member *tm;

    *out = false;
    if (!ip_digest_valid(d->digest))
        return 0;
    if ((c = find_config(ls, d->digest)) != NULL)
        *out = (int64_t)c->len == d->size;
    else if ((m = find_manifest(ls, d->digest)) != NULL)
        *out = (int64_t)m->raw_len == d->size;
    else if ((tm = find_layer(ls, d->digest)) != NULL)
        *out = tm->size == d->size;
    return 0;
}

static void legacy_free(struct ip_store *s)
{
    struct legacy_store *ls = (struct legacy_store *)s;
    ip_tar_index_release(&ls->tar);
    for (size_t i = 0; i < ls->n_manifests; i++)
        ip_manifest_free(ls->manifests[i]);
    free(ls->manifests);
    ip_hashmap_release(&ls->manifest_map);
    for (size_t i = 0; i < ls->n_configs; i++) {
        free(ls->configs[i]->raw);
        free(ls->configs[i]);
    }
    free(ls->configs);
    ip_hashmap_release(&ls->config_map);
    ip_descs_free(ls->entries, ls->n_entries);
    free(ls->base.location);
    free(ls);
}

static const struct ip_store_ops legacy_ops = {
    .scheme = "imgpkg-tar",
    .list = legacy_list,
    .get_manifest = legacy_get_manifest,
    .open_blob = legacy_open_blob,
    .has_blob = legacy_has_blob,
    .free = legacy_free,
};

int ip_store_imgpkg_tar_open(const char *path, struct ip_store **out, struct ip_err *err)
{
    struct legacy_store *ls;
    struct stat st;
    int rc;

    if (stat(path, &st) < 0)
        return ip_err_sys(err, errno, "opening tarball '%s'", path);
    if (!S_ISREG(st.st_mode))
        return ip_err_set(err, IP_E_INPUT, "'%s' is not a regular file", path);
    ls = ip_xcalloc(1, sizeof(*ls));
    ls->base.ops = &legacy_ops;
    ls->base.location = ip_xstrdup(path);
    ls->base.parallel_read = true;
    ip_hashmap_init(&ls->manifest_map, true); /* keys: the manifests' and configs' digests */
    ip_hashmap_init(&ls->config_map, true);
    if ((rc = ip_tar_index_scan(&ls->tar, path, err)) < 0 || (rc = load(ls, err)) < 0) {
        legacy_free(&ls->base);
        return rc;
    }
    *out = &ls->base;
    return 0;
}

/* ---------- detection ---------- */

/* Detection reads the headers in one streaming pass and is lenient about
 * everything else (duplicates, later entries): opening reports those. */
bool ip_tar_is_imgpkg_legacy(const char *path)
{
    struct archive *a;
    struct archive_entry *ae;
    struct ip_buf b;
    struct ip_err err;
    struct stat st;
    bool have_manifest = false, oci_layout = false, ok = false;
    yajl_val tree = NULL;
    int r;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    ip_buf_init(&b, MAX_MANIFEST_JSON);
    a = archive_read_new();
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK)
        goto out;
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *raw = archive_entry_pathname(ae);
        if (!raw || archive_entry_filetype(ae) != AE_IFREG)
            continue;
        cleanup_free char *p = ip_tar_norm_name(raw);
        if (!strcmp(p, "oci-layout")) {
            oci_layout = true;
            break;
        }
        if (!strcmp(p, MANIFEST_JSON) && !have_manifest) {
            char chunk[65536];
            la_ssize_t k;
            if (archive_entry_size(ae) > (la_int64_t)MAX_MANIFEST_JSON)
                goto out;
            while ((k = archive_read_data(a, chunk, sizeof(chunk))) > 0)
                if (ip_buf_add(&b, chunk, (size_t)k, &err) < 0)
                    goto out;
            if (k < 0)
                goto out;
            have_manifest = true;
        }
    }
    if (oci_layout || !have_manifest || (r != ARCHIVE_EOF))
        goto out;
    if (parse_manifest_json(&b, path, &tree, &err) < 0 || !YAJL_IS_ARRAY(tree))
        goto out;
    /* Docker's `docker save` manifest.json is an array too, of {Config, RepoTags, Layers} */
    ok = tree->u.array.len == 0 || ip_json_get(tree->u.array.values[0], "Image") ||
         ip_json_get(tree->u.array.values[0], "ImageIndex");
out:
    if (tree)
        yajl_tree_free(tree);
    ip_buf_release(&b);
    archive_read_free(a);
    return ok;
}
