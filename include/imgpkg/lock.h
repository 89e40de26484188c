/* lock.h - imgpkg's lock files (YAML, read with libyaml): the ImagesLock
 * (.imgpkg/images.yml) and the BundleLock written by --lock-output. */
#ifndef IMGPKG_LOCK_H
#define IMGPKG_LOCK_H

#include "imgpkg/oci.h"

#define IP_LOCK_API_VERSION "imgpkg.carvel.dev/v1alpha1"

struct ip_lock_image {
    char *image; /* pinned reference "repo@sha256:..." */
    struct ip_kv *annotations;
    size_t n_annotations;
};

struct ip_images_lock {
    struct ip_lock_image *images;
    size_t n_images;
};

/* Parses and validates an ImagesLock; `what` names the file in errors. */
int ip_images_lock_parse(const char *data, size_t len, const char *what, struct ip_images_lock *out,
                         struct ip_err *err);
int ip_images_lock_read(const char *path, struct ip_images_lock *out, struct ip_err *err);
/* Keys imgpkg does not know are errors, as in imgpkg's reading of lock files
 * (its pull, copy, describe); read loosely they are ignored, as imgpkg's push
 * does with the images.yml of the folder it pushes. */
int ip_images_lock_read_loose(const char *path, struct ip_images_lock *out, struct ip_err *err);
void ip_images_lock_release(struct ip_images_lock *l);

/* A BundleLock: the bundle's pinned reference and the tag it was pushed with. */
struct ip_bundle_lock {
    char *image; /* "repo@sha256:..." */
    char *tag;   /* or NULL */
};
int ip_bundle_lock_parse(const char *data, size_t len, const char *what, struct ip_bundle_lock *out,
                         struct ip_err *err);
int ip_bundle_lock_read(const char *path, struct ip_bundle_lock *out, struct ip_err *err);
void ip_bundle_lock_release(struct ip_bundle_lock *l);

/* A lock file of either kind (copy --lock): its kind says which. */
struct ip_lock_file {
    bool is_bundle_lock;
    struct ip_bundle_lock bundle;
    struct ip_images_lock images;
};
int ip_lock_file_read(const char *path, struct ip_lock_file *out, struct ip_err *err);
void ip_lock_file_release(struct ip_lock_file *l);

/* Writes imgpkg's lock files (atomically, "---" first, keys as imgpkg orders them),
 * mode 0600 less the umask as imgpkg's --lock-output. */
int ip_images_lock_write(const char *path, const struct ip_images_lock *l, struct ip_err *err);
int ip_bundle_lock_write(const char *path, const char *image, const char *tag, struct ip_err *err);
/* The bytes ip_images_lock_write writes. */
int ip_images_lock_yaml(const struct ip_images_lock *l, struct ip_buf *out, struct ip_err *err);

#endif
