/* layout.h - what the two OCI image layout stores (directory and tarball) share:
 * the oci-layout file, resolving a reference against index.json, and reading a
 * manifest blob within the size cap. */
#ifndef IMGPKG_STORE_LAYOUT_H
#define IMGPKG_STORE_LAYOUT_H

#include "imgpkg/store.h"
#include "oci/oci-private.h"

#define IP_OCI_LAYOUT_CONTENT "{\"imageLayoutVersion\":\"1.0.0\"}"

int ip_layout_check_oci_layout(const char *data, size_t len, const char *where, struct ip_err *err);
/* ref: a tag (ref.name), a digest, or NULL/"" for the only entry. */
int ip_layout_resolve(const struct ip_index_doc *doc, const char *ref, const char *where,
                      const struct ip_desc **out, struct ip_err *err);
int ip_layout_list(const struct ip_index_doc *doc, struct ip_desc **out, size_t *n);
/* Reads the manifest of desc from the store's blobs, checking digest and size. */
int ip_layout_read_manifest(struct ip_store *s, const struct ip_desc *desc,
                            struct ip_manifest **out, struct ip_err *err);

#endif
