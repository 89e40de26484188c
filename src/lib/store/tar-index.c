/* tar-index.c - random access to the members of an uncompressed tar file (see
 * tar-index.h), shared by the OCI layout tarball and imgpkg tarball stores. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "imgpkg/store.h"
#include "store/tar-index.h"
#include "util/banned.h"

#define MAX_TAR_ENTRIES 1000000

static void buf_add_n(struct ip_buf *b, const char *p, size_t n);

char *ip_tar_norm_name(const char *n)
{
    /* "a//b", "./a/./b", "/a/b/" are all "a/b": the name a tar reader extracts to */
    struct ip_buf b = IP_BUF_INIT;
    for (const char *p = n; *p;) {
        size_t len = strcspn(p, "/");
        if (len && !(len == 1 && p[0] == '.')) {
            if (b.len)
                ip_buf_adds(&b, "/");
            buf_add_n(&b, p, len);
        }
        p += len;
        while (*p == '/')
            p++;
    }
    return b.data ? ip_buf_detach(&b, NULL) : ip_xstrdup("");
}

static void buf_add_n(struct ip_buf *b, const char *p, size_t n)
{
    struct ip_err e;
    ip_buf_add(b, p, n, &e); /* no maximum: cannot fail */
}

static const struct ip_tar_member *find_any(const struct ip_tar_index *ti, const char *name)
{
    size_t i;
    return ip_hashmap_get(&ti->names, name, &i) ? &ti->members[i] : NULL;
}

const struct ip_tar_member *ip_tar_index_find(const struct ip_tar_index *ti, const char *name)
{
    const struct ip_tar_member *m = find_any(ti, name);
    return m && m->regular ? m : NULL;
}

struct tar_blob_reader {
    struct ip_reader base;
    struct archive *a;
    int fd;
};

static ssize_t tbr_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct tar_blob_reader *t = (struct tar_blob_reader *)r;
    la_ssize_t k = archive_read_data(t->a, buf, n);
    if (k < 0)
        return ip_err_set(err, IP_E_FORMAT, "reading tarball: %s", archive_error_string(t->a));
    return (ssize_t)k;
}

static void tbr_free(struct ip_reader *r)
{
    struct tar_blob_reader *t = (struct tar_blob_reader *)r;
    if (t->a)
        archive_read_free(t->a);
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

int ip_tar_index_open(const struct ip_tar_index *ti, const struct ip_tar_member *m,
                      struct ip_reader **out, struct ip_err *err)
{
    struct tar_blob_reader *t = ip_xcalloc(1, sizeof(*t));
    struct archive_entry *ae;
    t->base.read = tbr_read;
    t->base.free = tbr_free;
    t->fd = open(ti->path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        tbr_free(&t->base);
        return ip_err_sys(err, e, "opening '%s'", ti->path);
    }
    if (lseek(t->fd, (off_t)m->header_pos, SEEK_SET) < 0) {
        int e = errno;
        tbr_free(&t->base);
        return ip_err_sys(err, e, "reading '%s'", ti->path);
    }
    t->a = archive_read_new();
    archive_read_support_format_tar(t->a);
    cleanup_free char *again = NULL;
    if (archive_read_open_fd(t->a, t->fd, 1 << 20) != ARCHIVE_OK ||
        archive_read_next_header(t->a, &ae) != ARCHIVE_OK || !archive_entry_pathname(ae) ||
        strcmp((again = ip_tar_norm_name(archive_entry_pathname(ae))), m->name) != 0) {
        tbr_free(&t->base);
        return ip_err_set(err, IP_E_FORMAT, "'%s': cannot read entry '%s' again", ti->path,
                          m->name);
    }
    *out = &t->base;
    return 0;
}

int ip_tar_index_read(const struct ip_tar_index *ti, const struct ip_tar_member *m, size_t max,
                      struct ip_buf *out, struct ip_err *err)
{
    struct ip_reader *r;
    int rc;
    if (m->size > (int64_t)max)
        return ip_err_set(err, IP_E_TOOBIG, "'%s': %s is larger than %zu bytes", ti->path, m->name,
                          max);
    if ((rc = ip_tar_index_open(ti, m, &r, err)) < 0)
        return rc;
    rc = ip_reader_slurp(r, max, out, err);
    ip_reader_free(r);
    return rc;
}

/* A name with a ".." component: no member of a layout is ever named so, and
 * extracting tools refuse it (it would land outside their directory). */
static bool climbs_out(const char *n)
{
    for (const char *p = n; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p += len;
        while (*p == '/')
            p++;
    }
    return false;
}

int ip_tar_index_scan(struct ip_tar_index *ti, const char *path, struct ip_err *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    int r, rc = 0;

    if (!ti->path)
        ti->path = ip_xstrdup(path);
    ti->names.borrow_keys = true; /* the members' names */
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, ti->path, 1 << 20) != ARCHIVE_OK) {
        rc = ip_err_set(err, IP_E_FORMAT, "'%s': %s", ti->path, archive_error_string(a));
        goto out;
    }
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        cleanup_free char *name =
            ip_tar_norm_name(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
        if (climbs_out(name)) {
            rc = ip_err_set(err, IP_E_FORMAT, "'%s': entry '%.300s' has a '..' component", ti->path,
                            name);
            goto out;
        }
        if (archive_entry_filetype(ae) == AE_IFDIR)
            continue;
        /* a second entry of one name (after normalisation), whatever its type:
         * tar -x keeps the last, this reader would take the first */
        if (find_any(ti, name)) {
            rc = ip_err_set(err, IP_E_FORMAT, "'%s': duplicate entry '%.300s'", ti->path, name);
            goto out;
        }
        if (ti->n_members >= MAX_TAR_ENTRIES) {
            rc = ip_err_set(err, IP_E_TOOBIG, "'%s': more than %d entries", ti->path,
                            MAX_TAR_ENTRIES);
            goto out;
        }
        IP_GROW(ti->members, ti->cap_members, ti->n_members + 1);
        struct ip_tar_member *m = &ti->members[ti->n_members++];
        m->name = ip_xstrdup(name);
        m->regular = archive_entry_filetype(ae) == AE_IFREG;
        m->header_pos = archive_read_header_position(a);
        m->size = archive_entry_size(ae);
        ip_hashmap_put(&ti->names, m->name, ti->n_members - 1);
    }
    if (r != ARCHIVE_EOF) {
        rc = ip_err_set(err, IP_E_FORMAT, "'%s' is not a valid tar file: %s", ti->path,
                        archive_error_string(a) ? archive_error_string(a) : "read error");
        goto out;
    }
out:
    archive_read_free(a);
    return rc;
}

void ip_tar_index_release(struct ip_tar_index *ti)
{
    for (size_t i = 0; i < ti->n_members; i++)
        free(ti->members[i].name);
    free(ti->members);
    ip_hashmap_release(&ti->names);
    free(ti->path);
    memset(ti, 0, sizeof(*ti));
}

bool ip_tar_has_member(const char *path, const char *name)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    bool found = false;
    int r;

    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 1 << 20) == ARCHIVE_OK) {
        while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
            const char *p = archive_entry_pathname(ae);
            cleanup_free char *norm = p ? ip_tar_norm_name(p) : NULL;
            if (archive_entry_filetype(ae) == AE_IFREG && norm && !strcmp(norm, name)) {
                found = true;
                break;
            }
        }
    }
    archive_read_free(a);
    return found;
}
