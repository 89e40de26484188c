/* bundle.h - imgpkg bundles as stored images: telling a bundle from a plain
 * image (its config label), reading its .imgpkg/images.yml out of its layer,
 * and the image-locations record imgpkg writes beside a relocated bundle. */
#ifndef IMGPKG_BUNDLE_H
#define IMGPKG_BUNDLE_H

#include "imgpkg/lock.h"
#include "imgpkg/store.h"

/* Annotations on the entries of an OCI tarball made by copy (see
 * spec-notes/airgap-tarball.md). */
#define IP_ANN_ROOT_BUNDLE "dev.carvel.imgpkg.copy.root-bundle"
#define IP_ANN_ORIGINAL_REF "dev.carvel.imgpkg.copy.original-ref"
#define IP_ANN_IS_BUNDLE "dev.carvel.imgpkg.copy.is-bundle"

/* Reads the config of image manifest m from s (verified) and tells whether it
 * carries the label dev.carvel.imgpkg.bundle (any value).  An index is never a bundle. */
int ip_image_is_bundle(struct ip_store *s, const struct ip_manifest *m, bool *out,
                       struct ip_err *err);

/* Reads and validates .imgpkg/images.yml from the bundle's layers (the last
 * layer holding it wins), streaming each layer through a verifying reader. */
int ip_bundle_images_lock(struct ip_store *s, const struct ip_manifest *m,
                          struct ip_images_lock *out, struct ip_err *err);

/* The lock with every image's repository replaced by `repo`
 * ("registry/repository"), digests and annotations kept. */
void ip_images_lock_rebase(const struct ip_images_lock *in, const char *repo,
                           struct ip_images_lock *out);
/* Where a bundle's images are once the bundle was found in repository `repo`
 * (store s): when every image of its lock is there, or an image-locations
 * record says they were copied there, *relocated is set and *out is the lock
 * pointing into `repo`; else *relocated is false and *out empty. */
int ip_images_lock_relocate(struct ip_store *s, const char *repo, const char *bundle_digest,
                            const struct ip_images_lock *lock, struct ip_images_lock *out,
                            bool *relocated, struct ip_err *err);

/* imgpkg's ImageLocations document (image-locations.yml). */
struct ip_image_location {
    char *image;
    bool is_bundle;
};
struct ip_image_locations {
    struct ip_image_location *images;
    size_t n;
};
void ip_image_locations_release(struct ip_image_locations *l);
/* YAML bytes, as imgpkg writes them ("---", keys sorted). */
void ip_image_locations_yaml(const struct ip_image_locations *l, struct ip_buf *out);
int ip_image_locations_parse(const char *data, size_t len, struct ip_image_locations *out,
                             struct ip_err *err);
/* The tags imgpkg uses: "sha256-<hex>.imgpkg" and the locations tag. */
char *ip_imgpkg_digest_tag(const char *digest);
char *ip_imgpkg_locations_tag(const char *bundle_digest);
/* imgpkg's --repo-based-tags tag for an image from `orig_repo_path` ("ns/app"). */
char *ip_imgpkg_repo_based_tag(const char *orig_repository, const char *digest);

#endif
