/* build-flags.c - the flags of save and push that turn files into an image
 * or bundle, and the build they ask for. */
#include <string.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "util/banned.h"

#define B(field) offsetof(struct build_flags, field)

const struct flag build_flag_table[] = {
    {"bundle", 'b', FLAG_STRING, B(bundle), "Set bundle (example: docker.io/dkalinin/test-content)",
     NULL, 0},
    {"image", 'i', FLAG_STRING, B(image), "Set image (example: docker.io/dkalinin/test-content)",
     NULL, 0},
    {"file", 'f', FLAG_SLICE, B(files),
     "Set file (format: /tmp/foo) (can be specified multiple times)", NULL, 0},
    {"file-exclusion", 0, FLAG_SLICE, B(exclusions),
     "Exclude file whose path, relative to the bundle root, matches (format: bar.yaml, "
     "nested-dir/baz.txt) (can be specified multiple times)",
     "[.git]", 0},
    {"preserve-permissions", 0, FLAG_BOOL, B(preserve_permissions),
     "Preserve files permissions (default: only the user bits are kept)", NULL, 0},
    {"labels", 'l', FLAG_MAP, B(labels), "Set labels on image (format: KEY=VALUE)", NULL, 0},
    {"compression-level", 0, FLAG_INT, B(compression_level),
     "gzip level of the layer, 1 (fastest) to 9", "1", 0},
    {"oci", 0, FLAG_BOOL, B(oci),
     "Use OCI media types (application/vnd.oci.*), needed by skopeo's oci:/oci-archive:, umoci "
     "and oci-image-tool; the default (Docker schema 2, as imgpkg makes it) is what the real "
     "imgpkg's copy requires and what podman/docker/containerd load",
     NULL, 0},
    FLAG_END,
};

int build_from_flags(const struct build_flags *f, const char *tmp_dir, bool transient,
                     struct ip_store *layer_into, struct ip_build_result *out, struct ip_err *err)
{
    struct ip_build_opts bo;
    memset(&bo, 0, sizeof(bo));
    if (f->bundle && f->image)
        return ip_err_set(err, IP_E_USAGE, "Expected only one of image or bundle");
    if (f->files.n == 0)
        return ip_err_set(err, IP_E_USAGE, "Expected at least one input (--file/-f)");
    if (f->compression_level < 1 || f->compression_level > 9)
        return ip_err_set(err, IP_E_USAGE, "--compression-level must be between 1 and 9");
    bo.paths = (const char **)f->files.v;
    bo.n_paths = f->files.n;
    bo.exclusions = (const char **)f->exclusions.v;
    bo.n_exclusions = f->exclusions.n;
    bo.labels = f->labels.v;
    bo.n_labels = f->labels.n;
    bo.preserve_permissions = f->preserve_permissions;
    bo.kind = f->bundle ? IP_BUILD_BUNDLE : f->image ? IP_BUILD_IMAGE : IP_BUILD_AUTO;
    bo.compression_level = f->compression_level;
    bo.tmp_dir = tmp_dir;
    bo.layer_transient = transient;
    bo.layer_into = layer_into;
    bo.docker_media_types = !f->oci;
    return ip_build(&bo, out, err);
}
