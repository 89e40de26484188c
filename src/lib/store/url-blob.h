/* url-blob.h - a layer the registry does not hold, read from its
 * descriptor's http(s) `urls` (where non-distributable layers live), with the
 * registry client's TLS and timeout settings but never its credentials. */
#ifndef IMGPKG_STORE_URL_BLOB_H
#define IMGPKG_STORE_URL_BLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/io.h"
#include "imgpkg/oci.h"

struct ip_url_fetch {
    bool verify_certs;
    long connect_timeout_s, header_timeout_s;
    char **ca_paths; /* added to the system's CAs */
    size_t n_ca_paths;
};

/* A reader of d's bytes from the first of its urls that answers (only http
 * and https are tried; never more than d->size bytes are taken); `where`
 * names the registry store in errors. */
int ip_url_blob_open(const struct ip_url_fetch *f, const struct ip_desc *d, const char *where,
                     struct ip_reader **out, struct ip_err *err);

#endif
