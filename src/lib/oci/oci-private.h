/* oci-private.h - the parts of the OCI data model that work on yajl trees: the
 * descriptor parser and generator, and index.json kept as a tree.  Private to
 * the library (and its tests): the public oci.h carries no yajl type. */
#ifndef IMGPKG_OCI_PRIVATE_H
#define IMGPKG_OCI_PRIVATE_H

#include "imgpkg/oci.h"
#include "oci/json.h"

/* Reads a descriptor object, validating mediaType, digest and size. */
int ip_desc_parse(yajl_val v, struct ip_desc *out, struct ip_err *err);
void ip_desc_gen(yajl_gen g, const struct ip_desc *d);

/* An OCI image layout's index.json: kept as a tree so that every field of
 * every entry survives a rewrite. */
struct ip_index_doc {
    yajl_val tree; /* NULL for a new, empty index */
    struct ip_desc *entries;
    yajl_val *entry_trees; /* the entry as read (NULL for added ones) */
    size_t n_entries;
    size_t cap;
};
int ip_index_doc_parse(const char *raw, size_t len, struct ip_index_doc *out, struct ip_err *err);
void ip_index_doc_release(struct ip_index_doc *doc);
/* Adds desc as an entry.  When it carries a ref.name, that name is taken away
 * from any other entry first; an untagged entry with the same digest is dropped. */
void ip_index_doc_add(struct ip_index_doc *doc, const struct ip_desc *desc);
/* Index of the entry whose ref.name is `tag`, or -1. */
long ip_index_doc_find_tag(const struct ip_index_doc *doc, const char *tag);
/* index.json bytes: schemaVersion, mediaType, manifests, and any other top-level
 * members of the original document. */
void ip_index_doc_gen(const struct ip_index_doc *doc, struct ip_buf *out);

#endif
