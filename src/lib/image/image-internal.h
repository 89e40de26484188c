/* image-internal.h - what the parts of the folder builder share, and what the
 * unit tests call directly (entry collection, the layer writer). */
#ifndef IMGPKG_IMAGE_INTERNAL_H
#define IMGPKG_IMAGE_INTERNAL_H

#include "imgpkg/build.h"

/* Collects the entries of the inputs in layer order. */
int ip_build_collect(const struct ip_build_opts *opts, struct ip_build_entry **out, size_t *n,
                     struct ip_err *err);
void ip_build_entries_free(struct ip_build_entry *e, size_t n);

/* The layer writer: entries -> tar -> gzip, hashing both streams on the way. */
struct ip_layer_info {
    char digest[IP_DIGEST_SIZE];
    char diff_id[IP_DIGEST_SIZE];
    int64_t size;
};
int ip_layer_write(const struct ip_build_entry *e, size_t n, bool preserve_permissions, int level,
                   int fd, struct ip_layer_info *out, struct ip_err *err);
/* The same; writeback false when the file is only a temporary copy. */
int ip_layer_write_to(const struct ip_build_entry *e, size_t n, bool preserve_permissions,
                      int level, int fd, bool writeback, struct ip_layer_info *out,
                      struct ip_err *err);

/* The .imgpkg directories met while walking the inputs. */
struct image_imgpkg_dirs {
    char **full; /* path on disk */
    char **rel;  /* path relative to its input ("" for an input that is .imgpkg) */
    size_t n, cap;
};
void image_imgpkg_dirs_add(struct image_imgpkg_dirs *d, const char *full, const char *rel);
void image_imgpkg_dirs_release(struct image_imgpkg_dirs *d);

int image_collect(const struct ip_build_opts *opts, struct image_imgpkg_dirs *imgpkg,
                  struct ip_build_entry **out, size_t *n, struct ip_err *err);

/* gzip stream engine: data in, compressed bytes out to a sink. */
struct image_gzip;
typedef int (*image_sink_fn)(void *ctx, const void *p, size_t n, struct ip_err *err);
struct image_gzip *image_gzip_new(int level, image_sink_fn sink, void *ctx);
int image_gzip_write(struct image_gzip *gz, const void *p, size_t n, struct ip_err *err);
int image_gzip_finish(struct image_gzip *gz, struct ip_err *err);
void image_gzip_free(struct image_gzip *gz);
const char *image_gzip_engine(void);

/* A filter over the tar stream libarchive writes: its ustar headers are
 * rewritten in the form Go's archive/tar gives them (imgpkg's layers). */
struct image_tar_fix {
    unsigned char hdr[512];
    size_t have;   /* bytes of the current header gathered */
    uint64_t skip; /* entry data (padded to 512) still to pass through */
    bool done;     /* the end-of-archive blocks started */
    bool in_pax;   /* gathering a pax extension and the header it describes */
    struct ip_buf pax;
    size_t pax_size, pax_len; /* its records' size; header + padded records */
};
int image_tar_fix_write(struct image_tar_fix *f, const void *data, size_t n, image_sink_fn out,
                        void *ctx, struct ip_err *err);
void image_tar_fix_release(struct image_tar_fix *f);

#endif
