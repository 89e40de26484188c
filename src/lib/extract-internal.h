/* extract-internal.h - what the parts of the extractor share: the state of
 * one extraction, the kinds of names a layer writes, and the one-line
 * messages that name an entry and its layer.  extract.c reads the layers and
 * checks each entry, extract-whiteout.c applies whiteouts and clears what is
 * in an entry's way, extract-disk.c writes. */
#ifndef IMGPKG_EXTRACT_INTERNAL_H
#define IMGPKG_EXTRACT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "extract-disk.h"
#include "imgpkg/extract.h"
#include "util/hashmap.h"

#define QUOTE_MAX 200

enum kind {
    K_NONE,
    K_DIR,    /* a directory entry */
    K_PARENT, /* a directory implied by a deeper entry */
    K_FILE,   /* a regular file or a hardlink */
    K_LINK,   /* a symlink */
};

/* The names one layer has written (a map of path to kind). */
static inline enum kind seen_get(const struct ip_hashmap *seen, const char *path)
{
    size_t k;
    return ip_hashmap_get(seen, path, &k) ? (enum kind)k : K_NONE;
}

static inline bool kind_is_dir(enum kind k)
{
    return k == K_DIR || k == K_PARENT;
}

/* The state of one extraction. */
struct xctx {
    struct ip_store *s;
    int dirfd; /* the output directory */
    struct disk_layer disk;
    const struct ip_desc *layer;
    size_t index, n_layers;
    struct ip_reader *r;
    struct ip_err *err;
    struct ip_err rerr; /* what the reader said when it failed */
    bool read_failed;
    bool blob_ended;    /* the layer's reader has delivered its last byte */
    int64_t data_start; /* where the current entry's data starts in the tar stream */
    char *buf;
    bool keep;
    int64_t max;
    int64_t data_total;     /* sizes of the files of all layers so far */
    int64_t stream_base;    /* uncompressed bytes of the layers before this one */
    bool cut_after_data;    /* the layer ends right after an entry's data (no padding) */
    struct ip_hashmap seen; /* names this layer wrote -> enum kind */
};

/* An entry name fit for a one-line message: control bytes escaped, long names
 * cut (out holds at least QUOTE_MAX * 4 + 8 bytes). */
void extract_quote_name(const char *s, char *out, size_t outsz);
/* "layer <digest>: entry '<name>': <why>" with code (returns -code). */
int extract_refuse(struct xctx *x, enum ip_code code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same for a system error. */
int extract_entry_sys(struct xctx *x, int errnum, const char *name, const char *what);

/* Applies the whiteout `base` (the last component of rel). */
int extract_whiteout(struct xctx *x, const char *raw, const char *rel, const char *base);
/* Removes a directory an earlier layer left where this one puts a non-directory. */
int extract_replace_dir(struct xctx *x, const char *raw, const char *rel);

#endif
