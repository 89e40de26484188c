/* store.c - dispatch to a store's operations (with defaults for absent slots)
 * and the in-memory store used by the folder builder and the unit tests. */
#include <string.h>

#include "imgpkg/store.h"
#include "store/store-private.h"
#include "util/banned.h"

#define NOT_SUPPORTED(s, what)                                                                     \
    ip_err_set(err, IP_E_UNSUPPORTED, "%s store '%s' cannot %s", (s)->ops->scheme,                 \
               (s)->location ? (s)->location : "", what)

int ip_store_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err)
{
    return s->ops->list ? s->ops->list(s, out, n, err) : NOT_SUPPORTED(s, "list images");
}

int ip_store_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                          struct ip_err *err)
{
    return s->ops->get_manifest ? s->ops->get_manifest(s, ref, out, err)
                                : NOT_SUPPORTED(s, "read manifests");
}

int ip_store_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                       struct ip_err *err)
{
    return s->ops->open_blob ? s->ops->open_blob(s, d, out, err) : NOT_SUPPORTED(s, "read blobs");
}

int ip_store_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    if (!s->ops->has_blob) {
        *out = false;
        return 0;
    }
    return s->ops->has_blob(s, d, out, err);
}

int ip_store_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n, struct ip_err *err)
{
    return s->ops->begin ? s->ops->begin(s, e, n, err) : 0;
}

int ip_store_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                      struct ip_err *err)
{
    return s->ops->put_blob ? s->ops->put_blob(s, d, r, err) : NOT_SUPPORTED(s, "write blobs");
}

int ip_store_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err)
{
    return s->ops->put_manifest ? s->ops->put_manifest(s, m, err)
                                : NOT_SUPPORTED(s, "write manifests");
}

int ip_store_commit(struct ip_store *s, struct ip_err *err)
{
    return s->ops->commit ? s->ops->commit(s, err) : 0;
}

void ip_store_free(struct ip_store *s)
{
    if (s)
        s->ops->free(s);
}

const char *ip_store_location(const struct ip_store *s)
{
    return s->location;
}

/* ---- mem ---- */

struct mem_blob {
    struct ip_desc desc;
    char *data; /* bytes, or NULL when path is set */
    char *path;
};

struct mem_store {
    struct ip_store base;
    struct mem_blob *blobs;
    size_t n_blobs, cap_blobs;
    struct ip_manifest **manifests;
    struct ip_desc *entries; /* one per manifest, with its annotations */
    size_t n_manifests, cap_manifests;
};

static struct mem_blob *mem_find(struct mem_store *m, const char *digest)
{
    for (size_t i = 0; i < m->n_blobs; i++)
        if (!strcmp(m->blobs[i].desc.digest, digest))
            return &m->blobs[i];
    return NULL;
}

static int mem_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err)
{
    struct mem_store *m = (struct mem_store *)s;
    struct ip_desc *d = ip_xcalloc(m->n_manifests, sizeof(*d));
    for (size_t i = 0; i < m->n_manifests; i++)
        ip_desc_copy(&d[i], &m->entries[i]);
    *out = d;
    *n = m->n_manifests;
    return 0;
}

static int mem_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                            struct ip_err *err)
{
    struct mem_store *m = (struct mem_store *)s;
    for (size_t i = 0; i < m->n_manifests; i++) {
        const char *tag = ip_desc_annotation(&m->entries[i], IP_ANN_REF_NAME);
        if (!strcmp(m->manifests[i]->digest, ref) || (tag && !strcmp(tag, ref)))
            return ip_manifest_parse(m->manifests[i]->raw, m->manifests[i]->raw_len,
                                     m->manifests[i]->media_type, out, err);
    }
    struct mem_blob *b = mem_find(m, ref);
    if (b && b->data)
        return ip_manifest_parse(b->data, (size_t)b->desc.size, b->desc.media_type, out, err);
    return ip_err_set(err, IP_E_NOTFOUND, "manifest '%s' not found", ref);
}

static int mem_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                         struct ip_err *err)
{
    struct mem_store *m = (struct mem_store *)s;
    struct mem_blob *b = mem_find(m, d->digest);
    if (!b)
        return ip_err_set(err, IP_E_NOTFOUND, "blob %s not found", d->digest);
    if (b->data) {
        *out = ip_reader_mem(b->data, (size_t)b->desc.size);
        return 0;
    }
    if (!b->path)
        return ip_err_set(err, IP_E_NOTFOUND, "blob %s was written straight to its destination",
                          d->digest);
    return ip_reader_file(b->path, out, err);
}

static int mem_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    *out = mem_find((struct mem_store *)s, d->digest) != NULL;
    return 0;
}

static int mem_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                        struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    int rc = ip_reader_slurp(r, 0, &b, err);
    if (rc < 0) {
        ip_buf_release(&b);
        return rc;
    }
    if (!mem_find((struct mem_store *)s, d->digest))
        ip_store_mem_add_blob(s, d, b.data ? b.data : "");
    ip_buf_release(&b);
    return 0;
}

static const char *mem_blob_file(struct ip_store *s, const struct ip_desc *d)
{
    struct mem_blob *b = mem_find((struct mem_store *)s, d->digest);
    return b && b->path ? b->path : NULL;
}

static int mem_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err)
{
    return ip_store_mem_add_manifest(s, m->raw, m->raw_len, m->media_type, NULL, 0, err);
}

static void mem_free(struct ip_store *s)
{
    struct mem_store *m = (struct mem_store *)s;
    for (size_t i = 0; i < m->n_blobs; i++) {
        ip_desc_release(&m->blobs[i].desc);
        free(m->blobs[i].data);
        free(m->blobs[i].path);
    }
    free(m->blobs);
    for (size_t i = 0; i < m->n_manifests; i++) {
        ip_manifest_free(m->manifests[i]);
        ip_desc_release(&m->entries[i]);
    }
    free(m->manifests);
    free(m->entries);
    free(m->base.location);
    free(m);
}

static const struct ip_store_ops mem_ops = {
    .scheme = "mem",
    .list = mem_list,
    .get_manifest = mem_get_manifest,
    .open_blob = mem_open_blob,
    .has_blob = mem_has_blob,
    .put_blob = mem_put_blob,
    .put_manifest = mem_put_manifest,
    .blob_file = mem_blob_file,
    .free = mem_free,
};

struct ip_store *ip_store_mem_new(void)
{
    struct mem_store *m = ip_xcalloc(1, sizeof(*m));
    m->base.ops = &mem_ops;
    m->base.location = ip_xstrdup("memory");
    m->base.parallel_read = true;
    return &m->base;
}

static struct mem_blob *mem_add(struct mem_store *m, const struct ip_desc *d)
{
    IP_GROW(m->blobs, m->cap_blobs, m->n_blobs + 1);
    struct mem_blob *b = &m->blobs[m->n_blobs++];
    ip_desc_copy(&b->desc, d);
    return b;
}

void ip_store_mem_add_blob(struct ip_store *s, const struct ip_desc *d, const void *data)
{
    struct mem_blob *b = mem_add((struct mem_store *)s, d);
    b->data = ip_xmalloc((size_t)d->size + 1);
    memcpy(b->data, data, (size_t)d->size);
}

void ip_store_mem_add_file_blob(struct ip_store *s, const struct ip_desc *d, const char *path)
{
    struct mem_blob *b = mem_add((struct mem_store *)s, d);
    b->path = path ? ip_xstrdup(path) : NULL; /* NULL: known, held by its destination */
}

int ip_store_mem_add_manifest(struct ip_store *s, const char *raw, size_t len,
                              const char *media_type, const struct ip_kv *ann, size_t n_ann,
                              struct ip_err *err)
{
    struct mem_store *m = (struct mem_store *)s;
    struct ip_manifest *man;
    int rc = ip_manifest_parse(raw, len, media_type, &man, err);
    if (rc < 0)
        return rc;
    IP_GROW(m->manifests, m->cap_manifests, m->n_manifests + 1);
    m->entries = ip_xrealloc(m->entries, m->cap_manifests * sizeof(*m->entries));
    struct ip_desc *e = &m->entries[m->n_manifests];
    memset(e, 0, sizeof(*e));
    e->media_type = ip_xstrdup(man->media_type);
    memcpy(e->digest, man->digest, IP_DIGEST_SIZE);
    e->size = (int64_t)len;
    for (size_t i = 0; i < n_ann; i++)
        ip_desc_set_annotation(e, ann[i].key, ann[i].val);
    m->manifests[m->n_manifests++] = man;
    return 0;
}
