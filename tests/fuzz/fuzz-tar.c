/* fuzz-tar.c - the two tarball stores on arbitrary files: the input is written
 * to a temporary file, opened as an OCI layout tarball (ip_store_oci_tar_open)
 * and as a Go imgpkg tarball (ip_store_imgpkg_tar_open); every listed entry's
 * manifest is read, and the whole store is verified (ip_verify_store).  None
 * of it may crash, leak or hang, whatever the bytes. */
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

#include "imgpkg/store.h"
#include "imgpkg/verify.h"

static char tar_path[64];

static void no_report(void *ctx, const char *line)
{
    size_t *n = ctx;
    FUZZ_CHECK(line && *line, "empty problem line");
    (*n)++;
}

static void exercise(struct ip_store *s)
{
    struct ip_desc *entries = NULL;
    size_t n = 0, lines = 0;
    struct ip_err err;
    struct ip_verify_stats st;

    ip_err_clear(&err);
    if (ip_store_list(s, &entries, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            const char *tag = ip_desc_annotation(&entries[i], IP_ANN_REF_NAME);
            const char *refs[] = {entries[i].digest, tag};
            for (size_t j = 0; j < IP_ARRAY_SIZE(refs); j++) {
                struct ip_manifest *m = NULL;
                if (!refs[j])
                    continue;
                ip_err_clear(&err);
                if (ip_store_get_manifest(s, refs[j], &m, &err) == 0) {
                    FUZZ_CHECK(m != NULL, "manifest");
                    if (j == 0)
                        FUZZ_CHECK(!strcmp(m->digest, entries[i].digest), "digest %s for %s",
                                   m->digest, entries[i].digest);
                    ip_manifest_free(m);
                }
            }
        }
        ip_descs_free(entries, n);
    }
    struct ip_manifest *m = NULL;
    if (ip_store_get_manifest(s, NULL, &m, &err) == 0)
        ip_manifest_free(m);
    ip_err_clear(&err);
    int rc = ip_verify_store(s, no_report, &lines, &st, &err);
    FUZZ_CHECK(rc == 0 || err.msg[0], "verify failed without a message");
    FUZZ_CHECK(st.problems == lines, "%zu problems, %zu lines", st.problems, lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_store *s = NULL;
    struct ip_err err;
    int fd;

    if (!tar_path[0])
        snprintf(tar_path, sizeof(tar_path), "/tmp/imgpkg-fuzz-tar-%ld.tar", (long)getpid());
    fd = open(tar_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot create %s", tar_path);
    FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "cannot write %s", tar_path);
    close(fd);

    ip_err_clear(&err);
    if (ip_store_oci_tar_open(tar_path, &s, &err) == 0) {
        exercise(s);
        ip_store_free(s);
        s = NULL;
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
    }

    (void)ip_tar_is_imgpkg_legacy(tar_path);
    (void)ip_tar_has_member(tar_path, "index.json");
    ip_err_clear(&err);
    if (ip_store_imgpkg_tar_open(tar_path, &s, &err) == 0) {
        exercise(s);
        ip_store_free(s);
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
    }
    unlink(tar_path);
    return 0;
}
