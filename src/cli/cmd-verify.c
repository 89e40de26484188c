/* cmd-verify.c - imgpkg verify: a complete check of an OCI image layout
 * (directory or tarball); each problem on its own line, exit 0 only if none. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/verify.h"
#include "util/banned.h"

static void report(void *ctx, const char *line)
{
    (void)ctx;
    printf("problem: %s\n", line);
}

struct verify_opts {
    char *tar, *layout;
};

static int verify_run(const struct cli_global *g, void *opts, struct ip_err *err)
{
    struct verify_opts *o = opts;
    struct ip_store *s = NULL;
    struct ip_verify_stats st;
    int rc;

    (void)g;
    if (!o->tar == !o->layout)
        return ip_err_set(err, IP_E_USAGE, "Expected either --tar or --oci-layout");
    if (o->tar)
        rc = ip_store_oci_tar_open(o->tar, &s, err);
    else
        rc = ip_store_oci_dir_open(o->layout, false, &s, err);
    if (rc < 0)
        return rc;
    rc = ip_verify_store(s, report, NULL, &st, err);
    if (rc == 0)
        ui_result(g, "Verified %s: %zu manifest%s, %zu blob%s, no problems",
                  o->tar ? o->tar : o->layout, st.manifests, st.manifests == 1 ? "" : "s", st.blobs,
                  st.blobs == 1 ? "" : "s");
    ip_store_free(s);
    return rc;
}

#define O(field) offsetof(struct verify_opts, field)

static const struct flag verify_flags[] = {
    {"tar", 0, FLAG_STRING, O(tar), "OCI image layout tarball to check", NULL, 0},
    {"oci-layout", 0, FLAG_STRING, O(layout), "OCI image layout directory to check", NULL, 0},
    FLAG_END,
};

static const struct flag_use verify_uses[] = {
    {verify_flags, 0},
    {NULL, 0},
};

const struct command cmd_verify = {
    .name = "verify",
    .summary = "Check an OCI image layout or tarball completely (sizes, digests, diff_ids)",
    .examples = "\n  # Check every manifest, blob and diff_id of a tarball\n"
                "  imgpkg verify --tar app1-bundle.tar\n",
    .flags = verify_uses,
    .opts_size = sizeof(struct verify_opts),
    .run = verify_run,
};
