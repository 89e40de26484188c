/* tar-index.h - random access to the members of an uncompressed tar file: one
 * pass over the headers records where each regular file starts; a member is
 * later read by seeking a fresh descriptor there and starting libarchive at
 * its header, so several members can be read at once on different threads. */
#ifndef IMGPKG_STORE_TAR_INDEX_H
#define IMGPKG_STORE_TAR_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "imgpkg/io.h"
#include "util/hashmap.h"

struct ip_tar_member {
    char *name;   /* normalised (ip_tar_norm_name) */
    bool regular; /* other entries are recorded only to refuse duplicates */
    int64_t header_pos;
    int64_t size;
};

struct ip_tar_index {
    char *path;
    struct ip_tar_member *members;
    size_t n_members, cap_members;
    struct ip_hashmap names; /* name -> index in members */
};

/* Member names as they are looked up (a fresh string): empty and "."
 * components dropped, so "./a//./b/" is "a/b". */
char *ip_tar_norm_name(const char *name);
/* Records every regular file of the tar at path, refusing two entries (other
 * than directories) of one normalised name. */
int ip_tar_index_scan(struct ip_tar_index *ti, const char *path, struct ip_err *err);
void ip_tar_index_release(struct ip_tar_index *ti);
const struct ip_tar_member *ip_tar_index_find(const struct ip_tar_index *ti, const char *name);
/* A reader of the member's bytes, on its own file descriptor. */
int ip_tar_index_open(const struct ip_tar_index *ti, const struct ip_tar_member *m,
                      struct ip_reader **out, struct ip_err *err);
/* Reads a whole member of at most max bytes (IP_E_TOOBIG over it). */
int ip_tar_index_read(const struct ip_tar_index *ti, const struct ip_tar_member *m, size_t max,
                      struct ip_buf *out, struct ip_err *err);
/* ip_tar_has_member() (imgpkg/store.h) is in tar-index.c too. */

#endif
