/* layout.c - helpers shared by the OCI layout stores (image-spec image-layout.md). */
#include <string.h>

#include "store/layout.h"
#include "oci/oci-private.h"
#include "store/store-private.h"
#include "util/banned.h"

int ip_layout_check_oci_layout(const char *data, size_t len, const char *where, struct ip_err *err)
{
    yajl_val tree = NULL;
    int rc = ip_json_parse(data, len, &tree, err);
    if (rc < 0)
        return ip_err_wrap(err, "%s: oci-layout", where);
    const char *v = ip_json_get_str(tree, "imageLayoutVersion");
    if (!v || strncmp(v, "1.", 2) != 0) {
        /* v points into tree: format the message before freeing it */
        rc = ip_err_set(err, IP_E_FORMAT, "%s: oci-layout: unsupported imageLayoutVersion '%s'",
                        where, v ? v : "");
        yajl_tree_free(tree);
        return rc;
    }
    yajl_tree_free(tree);
    return 0;
}

int ip_layout_resolve(const struct ip_index_doc *doc, const char *ref, const char *where,
                      const struct ip_desc **out, struct ip_err *err)
{
    if (!ref || !*ref) {
        if (doc->n_entries != 1)
            return ip_err_set(err, IP_E_NOTFOUND, "%s holds %zu images: name one (tag or digest)",
                              where, doc->n_entries);
        *out = &doc->entries[0];
        return 0;
    }
    if (!strncmp(ref, "sha256:", 7)) {
        for (size_t i = 0; i < doc->n_entries; i++) {
            if (!strcmp(doc->entries[i].digest, ref)) {
                *out = &doc->entries[i];
                return 0;
            }
        }
        return ip_err_set(err, IP_E_NOTFOUND, "%s: no image with digest %s", where, ref);
    }
    long i = ip_index_doc_find_tag(doc, ref);
    if (i < 0)
        return ip_err_set(err, IP_E_NOTFOUND, "%s: no image tagged '%s'", where, ref);
    *out = &doc->entries[i];
    return 0;
}

int ip_layout_list(const struct ip_index_doc *doc, struct ip_desc **out, size_t *n)
{
    struct ip_desc *d = ip_xcalloc(doc->n_entries, sizeof(*d));
    for (size_t i = 0; i < doc->n_entries; i++)
        ip_desc_copy(&d[i], &doc->entries[i]);
    *out = d;
    *n = doc->n_entries;
    return 0;
}

int ip_layout_read_manifest(struct ip_store *s, const struct ip_desc *desc,
                            struct ip_manifest **out, struct ip_err *err)
{
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    int rc;
    if (desc->size > (int64_t)IP_MAX_JSON)
        return ip_err_set(err, IP_E_TOOBIG, "manifest %s: %lld bytes is over the %u byte limit",
                          desc->digest, (long long)desc->size, IP_MAX_JSON);
    if ((rc = s->ops->open_blob(s, desc, &r, err)) < 0)
        return rc;
    r = ip_reader_verify(r, desc->digest, desc->size, desc->digest);
    rc = ip_reader_slurp(r, IP_MAX_JSON, &b, err);
    ip_reader_free(r);
    if (rc == 0)
        rc = ip_manifest_parse(b.data ? b.data : "", b.len, desc->media_type, out, err);
    if (rc < 0)
        ip_err_wrap(err, "manifest %s", desc->digest);
    ip_buf_release(&b);
    return rc;
}
