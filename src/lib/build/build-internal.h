/* build-internal.h - what the parts of the folder builder share. */
#ifndef IMGPKG_BUILD_INTERNAL_H
#define IMGPKG_BUILD_INTERNAL_H

#include "imgpkg/build.h"

/* The .imgpkg directories met while walking the inputs. */
struct build_imgpkg_dirs {
    char **full; /* path on disk */
    char **rel;  /* path relative to its input ("" for an input that is .imgpkg) */
    size_t n, cap;
};
void build_imgpkg_dirs_add(struct build_imgpkg_dirs *d, const char *full, const char *rel);
void build_imgpkg_dirs_release(struct build_imgpkg_dirs *d);

int build_collect(const struct ip_build_opts *opts, struct build_imgpkg_dirs *imgpkg,
                  struct ip_build_entry **out, size_t *n, struct ip_err *err);

/* gzip stream engine: data in, compressed bytes out to a sink. */
struct build_gzip;
typedef int (*build_sink_fn)(void *ctx, const void *p, size_t n, struct ip_err *err);
struct build_gzip *build_gzip_new(int level, build_sink_fn sink, void *ctx);
int build_gzip_write(struct build_gzip *gz, const void *p, size_t n, struct ip_err *err);
int build_gzip_finish(struct build_gzip *gz, struct ip_err *err);
void build_gzip_free(struct build_gzip *gz);
const char *build_gzip_engine(void);

/* A filter over the tar stream libarchive writes: its ustar headers are
 * rewritten in the form Go's archive/tar gives them (imgpkg's layers). */
struct build_tar_fix {
    unsigned char hdr[512];
    size_t have;   /* bytes of the current header gathered */
    uint64_t skip; /* entry data (padded to 512) still to pass through */
    bool done;     /* the end-of-archive blocks started */
};
int build_tar_fix_write(struct build_tar_fix *f, const void *data, size_t n, build_sink_fn out,
                        void *ctx, struct ip_err *err);

#endif
