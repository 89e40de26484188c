/* layer.c - writes the layer in one pass: entries -> tar (libarchive) -> gzip,
 * hashing the tar stream (diff_id) and the gzip stream (digest) on the way.
 * Nothing is held whole in memory; headers are deterministic (mtime 0, uid and
 * gid 0, no user or group names, imgpkg's modes). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image-internal.h"
#include "util/util-private.h"
#include "util/banned.h"

#define READ_CHUNK (256u << 10)

struct layer_ctx {
    struct image_tar_fix fix;
    struct ip_sha256 diff;
    struct ip_sha256 comp;
    struct image_gzip *gz;
    struct ip_seq_writer out;
    int64_t size;
    struct ip_err *err;
    bool failed;
};

static int sink(void *p, const void *data, size_t n, struct ip_err *err)
{
    struct layer_ctx *c = p;
    ip_sha256_update(&c->comp, data, n);
    c->size += (int64_t)n;
    ip_crashpoint();
    return ip_seq_write(&c->out, data, n, err);
}

/* The tar stream, its headers in Go's form: hashed (diff_id) and compressed. */
static int tar_fixed(void *p, const void *data, size_t n, struct ip_err *err)
{
    struct layer_ctx *c = p;
    ip_sha256_update(&c->diff, data, n);
    return image_gzip_write(c->gz, data, n, err);
}

static la_ssize_t tar_out(struct archive *a, void *p, const void *data, size_t n)
{
    struct layer_ctx *c = p;
    if (image_tar_fix_write(&c->fix, data, n, tar_fixed, c, c->err) < 0) {
        c->failed = true;
        archive_set_error(a, EIO, "%s", c->err->msg);
        return -1;
    }
    return (la_ssize_t)n;
}

static int tar_fail(struct layer_ctx *c, struct archive *a, const char *what)
{
    if (c->failed)
        return ip_err_wrap(c->err, "writing layer");
    return ip_err_set(c->err, IP_E_IO, "writing layer: %s: %s", what,
                      archive_error_string(a) ? archive_error_string(a) : "error");
}

/* The directory of the last file opened: files come sorted, so most share
 * it, and opening them relative to it spares a path walk per file. */
struct parent_cache {
    char *path;
    int fd;
};

static int open_in_parent(struct parent_cache *pc, const char *full)
{
    const char *slash = strrchr(full, '/');
    if (!slash)
        return open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    size_t n = (size_t)(slash - full);
    if (!pc->path || strlen(pc->path) != n || memcmp(pc->path, full, n) != 0) {
        if (pc->fd >= 0)
            close(pc->fd);
        free(pc->path);
        pc->path = ip_xstrndup(full, n ? n : 1);
        pc->fd = open(pc->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pc->fd < 0)
            return -1;
    }
    return openat(pc->fd, slash + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

static int add_file(struct layer_ctx *c, struct archive *a, const struct ip_build_entry *e,
                    char *buf, struct parent_cache *pc)
{
    cleanup_close int fd = open_in_parent(pc, e->full);
    struct stat st;
    int64_t left = e->size;
    if (fd < 0)
        return ip_err_sys(c->err, errno, "opening '%s'", e->full);
    if (fstat(fd, &st) < 0)
        return ip_err_sys(c->err, errno, "reading '%s'", e->full);
    if (!S_ISREG(st.st_mode) || st.st_size != e->size)
        return ip_err_set(c->err, IP_E_INPUT, "file '%s' changed while it was being saved",
                          e->full);
    if (e->size > READ_CHUNK)
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (left > 0) {
        size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
        ssize_t k = read(fd, buf, want);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return ip_err_sys(c->err, errno, "reading '%s'", e->full);
        }
        if (k == 0)
            return ip_err_set(c->err, IP_E_INPUT, "file '%s' changed while it was being saved",
                              e->full);
        if (archive_write_data(a, buf, (size_t)k) != k)
            return tar_fail(c, a, e->rel);
        left -= k;
    }
    return 0;
}

int ip_layer_write(const struct ip_build_entry *e, size_t n, bool preserve_permissions, int level,
                   int fd, struct ip_layer_info *out, struct ip_err *err)
{
    return ip_layer_write_to(e, n, preserve_permissions, level, fd, true, out, err);
}

int ip_layer_write_to(const struct ip_build_entry *e, size_t n, bool preserve_permissions,
                      int level, int fd, bool writeback, struct ip_layer_info *out,
                      struct ip_err *err)
{
    struct layer_ctx c = {.err = err};
    struct archive *a;
    struct archive_entry *ae;
    cleanup_free char *buf = ip_xmalloc(READ_CHUNK);
    struct parent_cache pc = {NULL, -1};
    int rc = 0;

    ip_seq_writer_init(&c.out, fd);
    c.out.no_writeback = !writeback;
    ip_sha256_init(&c.diff);
    ip_sha256_init(&c.comp);
    c.gz = image_gzip_new(level, sink, &c);
    a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    /* names are bytes, as Go writes them: no conversion through the locale */
    archive_write_set_options(a, "hdrcharset=BINARY");
    archive_write_set_bytes_per_block(a, 10240);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open2(a, &c, NULL, tar_out, NULL, NULL) != ARCHIVE_OK) {
        rc = tar_fail(&c, a, "opening");
        goto out;
    }
    ae = archive_entry_new();
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned mode;
        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, e[i].rel);
        if (preserve_permissions)
            mode = e[i].mode & 07777;
        else
            mode = e[i].is_dir ? 0700 : (e[i].mode & 0700);
        archive_entry_set_filetype(ae, e[i].is_dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(ae, mode);
        archive_entry_set_size(ae, e[i].is_dir ? 0 : e[i].size);
        archive_entry_set_mtime(ae, 0, 0);
        archive_entry_set_uid(ae, 0);
        archive_entry_set_gid(ae, 0);
        if (archive_write_header(a, ae) != ARCHIVE_OK) {
            rc = tar_fail(&c, a, e[i].rel);
            break;
        }
        if (!e[i].is_dir && e[i].size > 0)
            rc = add_file(&c, a, &e[i], buf, &pc);
    }
    archive_entry_free(ae);
    if (rc < 0)
        goto out;
    if (archive_write_close(a) != ARCHIVE_OK) {
        rc = tar_fail(&c, a, "closing");
        goto out;
    }
    if ((rc = image_gzip_finish(c.gz, err)) < 0)
        goto out;
    ip_sha256_final(&c.diff, out->diff_id);
    ip_sha256_final(&c.comp, out->digest);
    out->size = c.size;
out:
    if (pc.fd >= 0)
        close(pc.fd);
    free(pc.path);
    archive_write_free(a);
    image_gzip_free(c.gz);
    image_tar_fix_release(&c.fix);
    ip_sha256_release(&c.diff);
    ip_sha256_release(&c.comp);
    return rc;
}
