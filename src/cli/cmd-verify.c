/* cmd-verify.c - imgpkg verify: a complete check of an OCI image layout
 * (directory or tarball); each problem on its own line, exit 0 only if none. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/verify.h"
#include "util/banned.h"

static const struct command verify_cmd = {
    "verify", "Check an OCI image layout or tarball completely (sizes, digests, diff_ids)",
    "imgpkg verify (--tar FILE | --oci-layout DIR)", cmd_verify};

static void report(void *ctx, const char *line)
{
    (void)ctx;
    printf("problem: %s\n", line);
}

int cmd_verify(int argc, char **argv, struct ip_err *err)
{
    char *tar = NULL, *layout = NULL;
    struct ip_store *s = NULL;
    struct ip_verify_stats st;
    int rc;
    const struct flag flags[] = {
        {"tar", 0, FLAG_STRING, &tar, "OCI image layout tarball to check", false},
        {"oci-layout", 0, FLAG_STRING, &layout, "OCI image layout directory to check", false},
        {NULL, 0, 0, NULL, NULL, false},
    };
    rc = cli_parse(&verify_cmd, flags, argc, argv, err);
    if (rc == 0 && g_cli.help) {
        cli_print_help(&verify_cmd, flags);
        goto out;
    }
    if (rc < 0)
        goto out;
    if (!tar == !layout) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected either --tar or --oci-layout");
        goto out;
    }
    if (tar)
        rc = ip_store_oci_tar_open(tar, &s, err);
    else
        rc = ip_store_oci_dir_open(layout, false, &s, err);
    if (rc < 0)
        goto out;
    rc = ip_verify_store(s, report, NULL, &st, err);
    if (rc == 0)
        ui_result("Verified %s: %zu manifest%s, %zu blob%s, no problems", tar ? tar : layout,
                  st.manifests, st.manifests == 1 ? "" : "s", st.blobs, st.blobs == 1 ? "" : "s");
out:
    ip_store_free(s);
    free(tar);
    free(layout);
    return rc;
}
