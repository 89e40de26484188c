/* oci.c - descriptors, manifests, indexes and configs (image-spec v1.1). */
#include <string.h>

#include "imgpkg/oci.h"
#include "oci/oci-private.h"
#include "util/banned.h"

void ip_desc_release(struct ip_desc *d)
{
    free(d->media_type);
    for (size_t i = 0; i < d->n_annotations; i++) {
        free(d->annotations[i].key);
        free(d->annotations[i].val);
    }
    free(d->annotations);
    for (size_t i = 0; i < d->n_urls; i++)
        free(d->urls[i]);
    free(d->urls);
    free(d->platform_os);
    free(d->platform_arch);
    free(d->platform_variant);
    memset(d, 0, sizeof(*d));
}

static char *dup_or_null(const char *s)
{
    return s ? ip_xstrdup(s) : NULL;
}

void ip_desc_copy(struct ip_desc *dst, const struct ip_desc *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->media_type = dup_or_null(src->media_type);
    memcpy(dst->digest, src->digest, sizeof(dst->digest));
    dst->size = src->size;
    for (size_t i = 0; i < src->n_annotations; i++)
        ip_desc_set_annotation(dst, src->annotations[i].key, src->annotations[i].val);
    if (src->n_urls) {
        dst->urls = ip_xcalloc(src->n_urls, sizeof(char *));
        for (size_t i = 0; i < src->n_urls; i++)
            dst->urls[i] = ip_xstrdup(src->urls[i]);
        dst->n_urls = src->n_urls;
    }
    dst->platform_os = dup_or_null(src->platform_os);
    dst->platform_arch = dup_or_null(src->platform_arch);
    dst->platform_variant = dup_or_null(src->platform_variant);
}

const char *ip_desc_annotation(const struct ip_desc *d, const char *key)
{
    for (size_t i = 0; i < d->n_annotations; i++)
        if (!strcmp(d->annotations[i].key, key))
            return d->annotations[i].val;
    return NULL;
}

void ip_desc_set_annotation(struct ip_desc *d, const char *key, const char *val)
{
    for (size_t i = 0; i < d->n_annotations; i++) {
        if (!strcmp(d->annotations[i].key, key)) {
            free(d->annotations[i].val);
            d->annotations[i].val = ip_xstrdup(val);
            return;
        }
    }
    d->annotations = ip_xrealloc(d->annotations, (d->n_annotations + 1) * sizeof(struct ip_kv));
    d->annotations[d->n_annotations].key = ip_xstrdup(key);
    d->annotations[d->n_annotations].val = ip_xstrdup(val);
    d->n_annotations++;
}

void ip_desc_unset_annotation(struct ip_desc *d, const char *key)
{
    for (size_t i = 0; i < d->n_annotations; i++) {
        if (!strcmp(d->annotations[i].key, key)) {
            free(d->annotations[i].key);
            free(d->annotations[i].val);
            memmove(&d->annotations[i], &d->annotations[i + 1],
                    (d->n_annotations - i - 1) * sizeof(struct ip_kv));
            d->n_annotations--;
            return;
        }
    }
}

int ip_desc_parse(yajl_val v, struct ip_desc *out, struct ip_err *err)
{
    struct ip_desc d;
    const char *mt, *dg;
    yajl_val ann, urls, plat;
    int rc;

    memset(&d, 0, sizeof(d));
    if (!YAJL_IS_OBJECT(v))
        return ip_err_set(err, IP_E_FORMAT, "descriptor is not a JSON object");
    mt = ip_json_get_str(v, "mediaType");
    if (!mt || !*mt)
        return ip_err_set(err, IP_E_FORMAT, "descriptor has no mediaType");
    dg = ip_json_get_str(v, "digest");
    if (!dg)
        return ip_err_set(err, IP_E_FORMAT, "descriptor has no digest");
    if ((rc = ip_digest_check(dg, err)) < 0)
        return ip_err_wrap(err, "descriptor");
    if (!ip_json_get_int(v, "size", &d.size) || d.size < 0)
        return ip_err_set(err, IP_E_FORMAT, "descriptor %s has no valid size", dg);
    d.media_type = ip_xstrdup(mt);
    memcpy(d.digest, dg, IP_DIGEST_SIZE);

    ann = ip_json_get(v, "annotations");
    if (ann && !YAJL_IS_NULL(ann)) {
        if (!YAJL_IS_OBJECT(ann))
            goto bad_ann;
        for (size_t i = 0; i < ann->u.object.len; i++) {
            if (!YAJL_IS_STRING(ann->u.object.values[i]))
                goto bad_ann;
            ip_desc_set_annotation(&d, ann->u.object.keys[i], ann->u.object.values[i]->u.string);
        }
    }
    urls = ip_json_get(v, "urls");
    if (urls && YAJL_IS_ARRAY(urls)) {
        d.urls = ip_xcalloc(urls->u.array.len, sizeof(char *));
        for (size_t i = 0; i < urls->u.array.len; i++) {
            if (!YAJL_IS_STRING(urls->u.array.values[i])) {
                ip_desc_release(&d);
                return ip_err_set(err, IP_E_FORMAT, "descriptor %s: urls must be strings", dg);
            }
            d.urls[d.n_urls++] = ip_xstrdup(urls->u.array.values[i]->u.string);
        }
    }
    plat = ip_json_get(v, "platform");
    if (plat && YAJL_IS_OBJECT(plat)) {
        d.platform_os = dup_or_null(ip_json_get_str(plat, "os"));
        d.platform_arch = dup_or_null(ip_json_get_str(plat, "architecture"));
        d.platform_variant = dup_or_null(ip_json_get_str(plat, "variant"));
    }
    *out = d;
    return 0;
bad_ann:
    ip_desc_release(&d);
    return ip_err_set(err, IP_E_FORMAT, "descriptor %s: annotations must map strings to strings",
                      dg);
}

void ip_desc_gen(yajl_gen g, const struct ip_desc *d)
{
    yajl_gen_map_open(g);
    ip_json_kv(g, "mediaType", d->media_type);
    ip_json_kv(g, "digest", d->digest);
    ip_json_str(g, "size");
    ip_json_int(g, d->size);
    if (d->n_urls) {
        ip_json_str(g, "urls");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->n_urls; i++)
            ip_json_str(g, d->urls[i]);
        yajl_gen_array_close(g);
    }
    if (d->n_annotations) {
        ip_json_str(g, "annotations");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < d->n_annotations; i++)
            ip_json_kv(g, d->annotations[i].key, d->annotations[i].val);
        yajl_gen_map_close(g);
    }
    if (d->platform_os || d->platform_arch) {
        ip_json_str(g, "platform");
        yajl_gen_map_open(g);
        if (d->platform_arch)
            ip_json_kv(g, "architecture", d->platform_arch);
        if (d->platform_os)
            ip_json_kv(g, "os", d->platform_os);
        if (d->platform_variant)
            ip_json_kv(g, "variant", d->platform_variant);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

bool ip_media_type_is_index(const char *mt)
{
    return mt && (!strcmp(mt, IP_MT_OCI_INDEX) || !strcmp(mt, IP_MT_DOCKER_LIST));
}

bool ip_media_type_is_manifest(const char *mt)
{
    return mt && (!strcmp(mt, IP_MT_OCI_MANIFEST) || !strcmp(mt, IP_MT_DOCKER_MANIFEST));
}

bool ip_media_type_is_foreign(const char *mt)
{
    return mt && (strstr(mt, ".nondistributable.") || !strcmp(mt, IP_MT_DOCKER_FOREIGN));
}

bool ip_media_type_is_gzip_layer(const char *mt)
{
    if (!mt)
        return false;
    size_t n = strlen(mt);
    return !strcmp(mt, IP_MT_DOCKER_LAYER) || !strcmp(mt, IP_MT_DOCKER_FOREIGN) ||
           (n > 5 && !strcmp(mt + n - 5, "+gzip"));
}

void ip_manifest_free(struct ip_manifest *m)
{
    if (!m)
        return;
    free(m->raw);
    free(m->media_type);
    ip_desc_release(&m->config);
    ip_descs_free(m->layers, m->n_layers);
    ip_descs_free(m->manifests, m->n_manifests);
    free(m);
}

void ip_descs_free(struct ip_desc *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ip_desc_release(&d[i]);
    free(d);
}

static int parse_desc_array(yajl_val arr, const char *what, struct ip_desc **out, size_t *n,
                            struct ip_err *err)
{
    if (!YAJL_IS_ARRAY(arr))
        return ip_err_set(err, IP_E_FORMAT, "%s must be an array", what);
    struct ip_desc *d = ip_xcalloc(arr->u.array.len, sizeof(*d));
    for (size_t i = 0; i < arr->u.array.len; i++) {
        int rc = ip_desc_parse(arr->u.array.values[i], &d[i], err);
        if (rc < 0) {
            ip_descs_free(d, i);
            return ip_err_wrap(err, "%s[%zu]", what, i);
        }
    }
    *out = d;
    *n = arr->u.array.len;
    return 0;
}

int ip_manifest_parse(const char *raw, size_t len, const char *media_type_hint,
                      struct ip_manifest **out, struct ip_err *err)
{
    yajl_val tree = NULL;
    int64_t schema = 0;
    int rc;
    struct ip_manifest *m;
    const char *mt;
    yajl_val manifests, config, layers;

    if ((rc = ip_json_parse(raw, len, &tree, err)) < 0)
        return rc;
    if (!YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "manifest is not a JSON object");
    }
    if (!ip_json_get_int(tree, "schemaVersion", &schema) || schema != 2) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "manifest schemaVersion is not 2");
    }
    m = ip_xcalloc(1, sizeof(*m));
    m->raw = ip_xstrndup(raw, len);
    m->raw_len = len;
    ip_sha256_of(raw, len, m->digest);
    mt = ip_json_get_str(tree, "mediaType");
    if (!mt)
        mt = media_type_hint;
    manifests = ip_json_get(tree, "manifests");
    config = ip_json_get(tree, "config");
    layers = ip_json_get(tree, "layers");
    if (!mt)
        mt = manifests ? IP_MT_OCI_INDEX : IP_MT_OCI_MANIFEST;
    m->media_type = ip_xstrdup(mt);
    if (ip_media_type_is_index(mt)) {
        m->is_index = true;
        if (!manifests) {
            rc = ip_err_set(err, IP_E_FORMAT, "index has no manifests");
            goto fail;
        }
        if ((rc = parse_desc_array(manifests, "manifests", &m->manifests, &m->n_manifests, err)) <
            0)
            goto fail;
    } else if (ip_media_type_is_manifest(mt)) {
        if (!config || !layers) {
            rc = ip_err_set(err, IP_E_FORMAT, "image manifest needs config and layers");
            goto fail;
        }
        if ((rc = ip_desc_parse(config, &m->config, err)) < 0) {
            ip_err_wrap(err, "config");
            goto fail;
        }
        if ((rc = parse_desc_array(layers, "layers", &m->layers, &m->n_layers, err)) < 0)
            goto fail;
    } else {
        rc = ip_err_set(err, IP_E_UNSUPPORTED, "unsupported manifest media type '%.200s'", mt);
        goto fail;
    }
    yajl_tree_free(tree);
    *out = m;
    return 0;
fail:
    yajl_tree_free(tree);
    ip_manifest_free(m);
    return rc < 0 ? rc : -IP_E_FORMAT;
}

int ip_config_parse(const char *raw, size_t len, struct ip_config *out, struct ip_err *err)
{
    yajl_val tree = NULL, rootfs, ids, cfg, labels;
    int rc;
    struct ip_config c;

    memset(&c, 0, sizeof(c));
    if ((rc = ip_json_parse(raw, len, &tree, err)) < 0)
        return ip_err_wrap(err, "config");
    if (!YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "config is not a JSON object");
    }
    rootfs = ip_json_get(tree, "rootfs");
    ids = ip_json_get(rootfs, "diff_ids");
    if (ids && YAJL_IS_ARRAY(ids)) {
        c.diff_ids = ip_xcalloc(ids->u.array.len, sizeof(char *));
        for (size_t i = 0; i < ids->u.array.len; i++) {
            yajl_val s = ids->u.array.values[i];
            if (!YAJL_IS_STRING(s)) {
                ip_config_release(&c);
                yajl_tree_free(tree);
                return ip_err_set(err, IP_E_FORMAT, "config: rootfs.diff_ids must be strings");
            }
            c.diff_ids[c.n_diff_ids++] = ip_xstrdup(s->u.string);
        }
    }
    cfg = ip_json_get(tree, "config");
    labels = ip_json_get(cfg, "Labels");
    if (labels && YAJL_IS_OBJECT(labels)) {
        c.labels = ip_xcalloc(labels->u.object.len, sizeof(struct ip_kv));
        for (size_t i = 0; i < labels->u.object.len; i++) {
            yajl_val s = labels->u.object.values[i];
            /* null reads as "" (Go's map[string]string) */
            if (!YAJL_IS_STRING(s) && !YAJL_IS_NULL(s))
                continue;
            c.labels[c.n_labels].key = ip_xstrdup(labels->u.object.keys[i]);
            c.labels[c.n_labels].val = ip_xstrdup(YAJL_IS_STRING(s) ? s->u.string : "");
            c.n_labels++;
        }
    }
    yajl_tree_free(tree);
    *out = c;
    return 0;
}

void ip_config_release(struct ip_config *c)
{
    for (size_t i = 0; i < c->n_diff_ids; i++)
        free(c->diff_ids[i]);
    free(c->diff_ids);
    for (size_t i = 0; i < c->n_labels; i++) {
        free(c->labels[i].key);
        free(c->labels[i].val);
    }
    free(c->labels);
    memset(c, 0, sizeof(*c));
}

const char *ip_config_label(const struct ip_config *c, const char *key)
{
    for (size_t i = 0; i < c->n_labels; i++)
        if (!strcmp(c->labels[i].key, key))
            return c->labels[i].val;
    return NULL;
}

/* ---- index.json ---- */

int ip_index_doc_parse(const char *raw, size_t len, struct ip_index_doc *out, struct ip_err *err)
{
    yajl_val tree = NULL, manifests;
    int64_t schema = 0;
    int rc;
    struct ip_index_doc doc;

    memset(&doc, 0, sizeof(doc));
    if ((rc = ip_json_parse(raw, len, &tree, err)) < 0)
        return ip_err_wrap(err, "index.json");
    if (!YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "index.json: not a JSON object");
    }
    if (!ip_json_get_int(tree, "schemaVersion", &schema) || schema != 2) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "index.json: schemaVersion is not 2");
    }
    const char *mt = ip_json_get_str(tree, "mediaType");
    if (mt && strcmp(mt, IP_MT_OCI_INDEX) != 0) {
        /* mt points into the tree: format the message before freeing it */
        rc = ip_err_set(err, IP_E_FORMAT, "index.json: mediaType is '%.100s'", mt);
        yajl_tree_free(tree);
        return rc;
    }
    manifests = ip_json_get(tree, "manifests");
    if (!YAJL_IS_ARRAY(manifests)) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_FORMAT, "index.json: manifests is not an array");
    }
    doc.tree = tree;
    IP_GROW(doc.entries, doc.cap, manifests->u.array.len);
    doc.entry_trees = ip_xcalloc(doc.cap, sizeof(yajl_val));
    for (size_t i = 0; i < manifests->u.array.len; i++) {
        if ((rc = ip_desc_parse(manifests->u.array.values[i], &doc.entries[i], err)) < 0) {
            doc.n_entries = i;
            ip_index_doc_release(&doc);
            return ip_err_wrap(err, "index.json: manifests[%zu]", i);
        }
        doc.entry_trees[i] = manifests->u.array.values[i];
        doc.n_entries = i + 1;
    }
    *out = doc;
    return 0;
}

void ip_index_doc_release(struct ip_index_doc *doc)
{
    for (size_t i = 0; i < doc->n_entries; i++)
        ip_desc_release(&doc->entries[i]);
    free(doc->entries);
    free(doc->entry_trees);
    if (doc->tree)
        yajl_tree_free(doc->tree);
    memset(doc, 0, sizeof(*doc));
}

long ip_index_doc_find_tag(const struct ip_index_doc *doc, const char *tag)
{
    for (size_t i = 0; i < doc->n_entries; i++) {
        const char *t = ip_desc_annotation(&doc->entries[i], IP_ANN_REF_NAME);
        if (t && !strcmp(t, tag))
            return (long)i;
    }
    return -1;
}

static void index_remove(struct ip_index_doc *doc, size_t i)
{
    ip_desc_release(&doc->entries[i]);
    memmove(&doc->entries[i], &doc->entries[i + 1],
            (doc->n_entries - i - 1) * sizeof(*doc->entries));
    memmove(&doc->entry_trees[i], &doc->entry_trees[i + 1],
            (doc->n_entries - i - 1) * sizeof(*doc->entry_trees));
    doc->n_entries--;
}

void ip_index_doc_add(struct ip_index_doc *doc, const struct ip_desc *desc)
{
    const char *tag = ip_desc_annotation(desc, IP_ANN_REF_NAME);
    const char *name = ip_desc_annotation(desc, IP_ANN_CONTAINERD_NAME);
    if (tag) {
        long i;
        while ((i = ip_index_doc_find_tag(doc, tag)) >= 0) {
            struct ip_desc *old = &doc->entries[i];
            const char *oname = ip_desc_annotation(old, IP_ANN_CONTAINERD_NAME);
            /* The containerd name goes with the tag when it names the same image. */
            if (oname && (!name || !strcmp(oname, name)))
                ip_desc_unset_annotation(old, IP_ANN_CONTAINERD_NAME);
            ip_desc_unset_annotation(old, IP_ANN_REF_NAME);
        }
    }
    for (size_t i = 0; i < doc->n_entries;) {
        if (!strcmp(doc->entries[i].digest, desc->digest) &&
            !ip_desc_annotation(&doc->entries[i], IP_ANN_REF_NAME))
            index_remove(doc, i);
        else
            i++;
    }
    IP_GROW(doc->entries, doc->cap, doc->n_entries + 1);
    doc->entry_trees = ip_xrealloc(doc->entry_trees, doc->cap * sizeof(yajl_val));
    ip_desc_copy(&doc->entries[doc->n_entries], desc);
    doc->entry_trees[doc->n_entries] = NULL;
    doc->n_entries++;
}

static void gen_annotations(yajl_gen g, const struct ip_desc *d)
{
    ip_json_str(g, "annotations");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < d->n_annotations; i++)
        ip_json_kv(g, d->annotations[i].key, d->annotations[i].val);
    yajl_gen_map_close(g);
}

static void gen_entry(yajl_gen g, const struct ip_desc *d, yajl_val tree)
{
    bool had_ann = false;
    if (!tree) {
        ip_desc_gen(g, d);
        return;
    }
    yajl_gen_map_open(g);
    for (size_t i = 0; i < tree->u.object.len; i++) {
        const char *k = tree->u.object.keys[i];
        if (!strcmp(k, "annotations")) {
            had_ann = true;
            if (d->n_annotations)
                gen_annotations(g, d);
            continue;
        }
        ip_json_str(g, k);
        ip_json_value(g, tree->u.object.values[i]);
    }
    if (!had_ann && d->n_annotations)
        gen_annotations(g, d);
    yajl_gen_map_close(g);
}

void ip_index_doc_gen(const struct ip_index_doc *doc, struct ip_buf *out)
{
    yajl_gen g = ip_json_gen_new();
    yajl_gen_map_open(g);
    ip_json_str(g, "schemaVersion");
    ip_json_int(g, 2);
    ip_json_kv(g, "mediaType", IP_MT_OCI_INDEX);
    ip_json_str(g, "manifests");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < doc->n_entries; i++)
        gen_entry(g, &doc->entries[i], doc->entry_trees ? doc->entry_trees[i] : NULL);
    yajl_gen_array_close(g);
    if (doc->tree) {
        for (size_t i = 0; i < doc->tree->u.object.len; i++) {
            const char *k = doc->tree->u.object.keys[i];
            if (!strcmp(k, "schemaVersion") || !strcmp(k, "mediaType") || !strcmp(k, "manifests"))
                continue;
            ip_json_str(g, k);
            ip_json_value(g, doc->tree->u.object.values[i]);
        }
    }
    yajl_gen_map_close(g);
    ip_json_gen_finish(g, out);
}
