/* verify.h - complete check of an image layout or tarball: every descriptor
 * reachable from the index exists with its size and digest, documents parse,
 * and each config's diff_ids match its uncompressed layers. */
#ifndef IMGPKG_VERIFY_H
#define IMGPKG_VERIFY_H

#include <stdio.h>

#include "imgpkg/store.h"

struct ip_verify_stats {
    size_t manifests;
    size_t blobs;
    size_t problems;
};

/* Reports each problem through `report` (one line each); returns 0 when none. */
int ip_verify_store(struct ip_store *s, void (*report)(void *ctx, const char *line), void *ctx,
                    struct ip_verify_stats *stats, struct ip_err *err);

#endif
