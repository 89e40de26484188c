/* extract.c - unpacks an image's layers into a directory.  libarchive reads
 * each layer (through the verifying reader); every entry is checked here
 * (names, types, link targets, sizes) before extract-disk.c writes it
 * relative to a descriptor of the output directory (the working directory is
 * never changed), and whiteouts are applied by extract-whiteout.c. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "extract-internal.h"
#include "util/banned.h"

#define READ_BUF (256u << 10)

/* An entry name fit for a one-line message: control bytes escaped, long names cut. */
void extract_quote_name(const char *s, char *out, size_t outsz)
{
    size_t o = 0, i;
    for (i = 0; s[i] && i < QUOTE_MAX && o + 5 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'')
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (s[i] && o + 4 < outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

int extract_refuse(struct xctx *x, enum ip_code code, const char *name, const char *fmt, ...)
{
    char why[1024], q[QUOTE_MAX * 4 + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    extract_quote_name(name, q, sizeof(q));
    return ip_err_set(x->err, code, "layer %s: entry '%s': %s", x->layer->digest, q, why);
}

int extract_entry_sys(struct xctx *x, int errnum, const char *name, const char *what)
{
    char q[QUOTE_MAX * 4 + 8];
    extract_quote_name(name, q, sizeof(q));
    return ip_err_sys(x->err, errnum, "layer %s: entry '%s': %s", x->layer->digest, q, what);
}

static la_ssize_t read_cb(struct archive *a, void *p, const void **out)
{
    struct xctx *x = p;
    ssize_t k;
    if (x->read_failed) {
        archive_set_error(a, EIO, "%s", x->rerr.msg);
        return -1;
    }
    k = ip_reader_read(x->r, x->buf, READ_BUF, &x->rerr);
    if (k < 0) {
        x->read_failed = true;
        archive_set_error(a, EIO, "%s", x->rerr.msg);
        return -1;
    }
    if (k == 0)
        x->blob_ended = true; /* every byte read, and its digest checked */
    *out = x->buf;
    return (la_ssize_t)k;
}

/* Reads what is left of the blob so that the verifier sees all of it. */
static int drain(struct xctx *x)
{
    ssize_t k;
    if (x->read_failed)
        return -(int)x->rerr.code;
    while ((k = ip_reader_read(x->r, x->buf, READ_BUF, &x->rerr)) > 0)
        ;
    if (k < 0) {
        x->read_failed = true;
        return (int)k;
    }
    return 0;
}

static int reader_error(struct xctx *x)
{
    *x->err = x->rerr;
    return -(int)x->err->code;
}

/* libarchive could not read the layer: the blob itself may be at fault (a
 * damaged byte shows up as bad gzip or a bad header long before the digest is
 * known), so the rest is read to let the verifier have its say first. */
static int read_fail(struct xctx *x, struct archive *a, const char *what)
{
    const char *msg = archive_error_string(a);
    char saved[512];
    snprintf(saved, sizeof(saved), "%s", msg ? msg : "unknown error");
    if (x->read_failed || drain(x) < 0)
        return reader_error(x);
    return ip_err_set(x->err, IP_E_FORMAT, "layer %s: %s: %s", x->layer->digest, what, saved);
}

/* extract-disk.c could not write an entry. */
static int disk_fail(struct xctx *x, const char *name, enum disk_result r, struct disk_error *de)
{
    int rc;
    if (r == DISK_THROUGH_SYMLINK) {
        char q[QUOTE_MAX * 4 + 8];
        extract_quote_name(de->through, q, sizeof(q));
        rc = extract_refuse(x, IP_E_INPUT, name, "cannot extract through symlink '%s'", q);
    } else {
        rc = extract_entry_sys(x, de->errnum, name, de->what);
    }
    extract_disk_error_release(de);
    return rc;
}

static int check_stream(struct xctx *x, struct archive *a)
{
    int64_t n = x->stream_base + archive_filter_bytes(a, 0);
    if (n > x->max)
        return ip_err_set(x->err, IP_E_TOOBIG,
                          "layer %s: the layers uncompress to more than the limit of %lld bytes",
                          x->layer->digest, (long long)x->max);
    return 0;
}

static const char *kind_name(enum kind k)
{
    switch (k) {
    case K_DIR:
    case K_PARENT:
        return "directory";
    case K_FILE:
        return "file";
    case K_LINK:
        return "symlink";
    default:
        return "entry";
    }
}

/* ---- names ---- */

/* Cleans an entry name into "a/b/c" (no empty or "." components, no trailing
 * slash; "" for the directory itself).  Returns NULL, or why the name is refused. */
static const char *clean_path(const char *raw, char **out)
{
    size_t len = 0;
    char *o;
    const char *p = raw;
    *out = NULL;
    if (*p == '/')
        return "absolute name";
    o = ip_xmalloc(strlen(raw) + 1);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t cl = slash ? (size_t)(slash - p) : strlen(p);
        if (cl == 2 && p[0] == '.' && p[1] == '.') {
            free(o);
            return "name has a '..' component";
        }
        if (cl > 0 && !(cl == 1 && p[0] == '.')) {
            if (len)
                o[len++] = '/';
            memcpy(o + len, p, cl);
            len += cl;
        }
        p += cl;
        if (*p == '/')
            p++;
    }
    o[len] = '\0';
    *out = o;
    return NULL;
}

/* Whether a symlink at rel pointing at target stays inside the directory.
 * Only leading ".." are accepted: each climbs one real directory of the link's
 * own path (libarchive never writes through a symlink, and a directory holding
 * the link cannot be replaced while it does), and the names after them lead
 * only through the layers' own, equally checked, symlinks. */
static const char *check_symlink_target(const char *rel, const char *target)
{
    size_t depth = 0;
    bool named = false;
    const char *p = target;
    if (!*target)
        return "symlink with an empty target";
    if (*target == '/')
        return "symlink with an absolute target";
    for (const char *c = rel; *c; c++)
        if (*c == '/')
            depth++;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t cl = slash ? (size_t)(slash - p) : strlen(p);
        if (cl == 2 && p[0] == '.' && p[1] == '.') {
            if (named)
                return "symlink target has '..' after a name";
            if (depth == 0)
                return "symlink target leaves the directory";
            depth--;
        } else if (cl > 0 && !(cl == 1 && p[0] == '.')) {
            named = true;
        }
        p += cl;
        if (*p == '/')
            p++;
    }
    return NULL;
}

/* Records rel (and the directories it implies) as written by this layer. */
static int note_entry(struct xctx *x, const char *raw, char *rel, enum kind k)
{
    enum kind old;
    for (char *c = rel; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        old = seen_get(&x->seen, rel);
        if (old == K_NONE) {
            ip_hashmap_put(&x->seen, rel, K_PARENT);
        } else if (!kind_is_dir(old)) {
            char q[QUOTE_MAX * 4 + 8];
            extract_quote_name(rel, q, sizeof(q));
            *c = '/';
            return extract_refuse(x, IP_E_INPUT, raw, "'%s' is a %s in this layer, not a directory",
                                  q, kind_name(old));
        }
        *c = '/';
    }
    old = seen_get(&x->seen, rel);
    if (old != K_NONE && old != k && !(kind_is_dir(old) && kind_is_dir(k)))
        return extract_refuse(x, IP_E_INPUT, raw, "the layer also has a %s of that name",
                              kind_name(old));
    if (old == K_NONE || old == K_PARENT)
        ip_hashmap_put(&x->seen, rel, k);
    return 0;
}

/* ---- entries ---- */

static mode_t entry_perm(const struct xctx *x, mode_t perm, bool dir)
{
    mode_t p;
    if (x->keep) {
        p = perm & 0777;
    } else {
        mode_t u = perm & 0700;
        if (dir)
            u |= 0700;
        p = u | u >> 3 | u >> 6;
    }
    if (dir)
        p |= 0700;
    return p;
}

/* A layer that ends right after the data of its last entry, without (all of)
 * the padding to 512 bytes nor the end-of-archive blocks (umoci before 0.4.8
 * writes such layers with `umoci insert`; Go's archive/tar, and so imgpkg,
 * reads them to the end): libarchive fails on the missing padding once all
 * the data was delivered.  Taken as the end of the layer when the blob,
 * verified, has ended and not one byte of padding was there (the failed skip
 * of the padding consumes what there is: the stream stands at the data's end). */
static bool ends_after_data(const struct xctx *x, struct archive *a, int64_t got, int64_t size)
{
    return x->blob_ended && size > 0 && got == size && size % 512 != 0 &&
           archive_filter_bytes(a, 0) == x->data_start + size;
}

static int pwrite_all(int fd, const void *buf, size_t n, int64_t off)
{
    const char *p = buf;
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static int copy_data(struct xctx *x, struct archive *a, int fd, const char *raw, int64_t entry_size)
{
    int64_t got = 0;
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN && !x->read_failed && ends_after_data(x, a, got, entry_size)) {
            x->cut_after_data = true;
            return 0;
        }
        if (r < ARCHIVE_WARN)
            return read_fail(x, a, "reading file data");
        if (off + (int64_t)size > got)
            got = off + (int64_t)size;
        if (check_stream(x, a) < 0)
            return -IP_E_TOOBIG;
        if (size && pwrite_all(fd, buf, size, off) < 0)
            return extract_entry_sys(x, errno, raw, "writing");
    }
}

/* What the entry is, or a refusal of the types that are not extracted. */
static int entry_kind(struct xctx *x, struct archive_entry *e, const char *raw, enum kind *k)
{
    if (archive_entry_hardlink(e)) {
        *k = K_FILE;
        return 0;
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        *k = K_FILE;
        return 0;
    case AE_IFDIR:
        *k = K_DIR;
        return 0;
    case AE_IFLNK:
        *k = K_LINK;
        return 0;
    case AE_IFCHR:
        return extract_refuse(x, IP_E_UNSUPPORTED, raw, "character devices are not extracted");
    case AE_IFBLK:
        return extract_refuse(x, IP_E_UNSUPPORTED, raw, "block devices are not extracted");
    case AE_IFIFO:
        return extract_refuse(x, IP_E_UNSUPPORTED, raw, "FIFOs are not extracted");
    case AE_IFSOCK:
        return extract_refuse(x, IP_E_UNSUPPORTED, raw, "sockets are not extracted");
    default:
        return extract_refuse(x, IP_E_UNSUPPORTED, raw, "unknown entry type 0%o",
                              (unsigned)archive_entry_filetype(e));
    }
}

static int check_symlink(struct xctx *x, struct archive_entry *e, const char *raw, const char *rel)
{
    const char *t = archive_entry_symlink(e), *why;
    char q[QUOTE_MAX * 4 + 8];
    if (!t)
        return extract_refuse(x, IP_E_INPUT, raw, "symlink without a readable target");
    if (strlen(t) > IP_EXTRACT_MAX_NAME)
        return extract_refuse(x, IP_E_INPUT, raw, "symlink target longer than %d bytes",
                              IP_EXTRACT_MAX_NAME);
    extract_quote_name(t, q, sizeof(q));
    if ((why = check_symlink_target(rel, t)) != NULL)
        return extract_refuse(x, IP_E_INPUT, raw, "%s ('%s')", why, q);
    return 0;
}

/* A hardlink's target, cleaned into *out: a regular file already written. */
static int check_hardlink(struct xctx *x, const char *hl, const char *raw, const char *rel,
                          char **out)
{
    char q[QUOTE_MAX * 4 + 8];
    struct stat st;
    extract_quote_name(hl, q, sizeof(q));
    if (strlen(hl) > IP_EXTRACT_MAX_NAME)
        return extract_refuse(x, IP_E_INPUT, raw, "hardlink target longer than %d bytes",
                              IP_EXTRACT_MAX_NAME);
    if (clean_path(hl, out) != NULL || !**out)
        return extract_refuse(x, IP_E_INPUT, raw, "hardlink to '%s', outside the directory", q);
    if (!strcmp(*out, rel))
        return extract_refuse(x, IP_E_INPUT, raw, "hardlink to itself");
    if (fstatat(x->dirfd, *out, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return extract_refuse(x, IP_E_INPUT, raw, "hardlink to '%s', which is not an earlier entry",
                              q);
    if (!S_ISREG(st.st_mode))
        return extract_refuse(x, IP_E_INPUT, raw, "hardlink to '%s', which is not a regular file",
                              q);
    return 0;
}

static struct timespec entry_time(bool set, time_t sec, long nsec)
{
    struct timespec t = {.tv_sec = sec, .tv_nsec = nsec};
    if (!set)
        t.tv_nsec = UTIME_NOW;
    return t;
}

/* Writes the checked entry under the output directory. */
static int write_entry(struct xctx *x, struct archive *a, struct archive_entry *e, const char *raw,
                       const char *rel, enum kind k, const char *hl_target)
{
    struct disk_entry de = {
        .rel = rel,
        .exact = x->keep,
        .mtime = entry_time(archive_entry_mtime_is_set(e), archive_entry_mtime(e),
                            archive_entry_mtime_nsec(e)),
        .atime = entry_time(archive_entry_atime_is_set(e), archive_entry_atime(e),
                            archive_entry_atime_nsec(e)),
        .size = archive_entry_size(e),
    };
    struct disk_error xe = {0};
    enum disk_result r;
    int fd, rc;

    if (hl_target) {
        de.type = DISK_HARDLINK;
        de.target = hl_target;
    } else if (k == K_LINK) {
        de.type = DISK_SYMLINK;
        de.target = archive_entry_symlink(e);
    } else {
        de.type = k == K_DIR ? DISK_DIR : DISK_FILE;
        de.perm = entry_perm(x, archive_entry_perm(e), k == K_DIR);
    }
    if ((r = extract_disk_create(&x->disk, &de, &fd, &xe)) != DISK_OK)
        return disk_fail(x, raw, r, &xe);
    if (fd < 0)
        return 0;
    if (de.size > 0 && (rc = copy_data(x, a, fd, raw, de.size)) < 0) {
        close(fd);
        return rc;
    }
    if ((r = extract_disk_file_done(fd, &de, de.size, &xe)) != DISK_OK)
        return disk_fail(x, raw, r, &xe);
    return 0;
}

static int do_entry(struct xctx *x, struct archive *a, struct archive_entry *e)
{
    const char *raw = archive_entry_pathname(e);
    cleanup_free char *rel = NULL, *hl_target = NULL;
    const char *why, *base, *hl;
    enum kind k = K_NONE;
    int rc;

    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    if (!raw)
        return ip_err_set(x->err, IP_E_INPUT, "layer %s: an entry has a name that cannot be read",
                          x->layer->digest);
    if (strlen(raw) > IP_EXTRACT_MAX_NAME)
        return extract_refuse(x, IP_E_INPUT, raw, "name longer than %d bytes", IP_EXTRACT_MAX_NAME);
    if ((why = clean_path(raw, &rel)) != NULL)
        return extract_refuse(x, IP_E_INPUT, raw, "%s", why);
    base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (*rel && !strncmp(base, ".wh.", 4))
        return extract_whiteout(x, raw, rel, base);
    if ((rc = entry_kind(x, e, raw, &k)) < 0)
        return rc;
    if (!*rel) {
        if (k == K_DIR)
            return 0; /* "." or "./": the directory itself, left as the caller made it */
        return extract_refuse(x, IP_E_INPUT, raw, "names the extraction directory itself");
    }
    if ((rc = note_entry(x, raw, rel, k)) < 0)
        return rc;
    if (k == K_LINK && (rc = check_symlink(x, e, raw, rel)) < 0)
        return rc;
    hl = archive_entry_hardlink(e);
    if (hl && (rc = check_hardlink(x, hl, raw, rel, &hl_target)) < 0)
        return rc;
    if (k == K_FILE && archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
        int64_t sz = archive_entry_size(e);
        if (sz > x->max - x->data_total)
            return extract_refuse(x, IP_E_TOOBIG, raw,
                                  "%lld bytes would take the files over the limit of %lld bytes",
                                  (long long)sz, (long long)x->max);
        x->data_total += sz;
    }
    if (k != K_DIR && (rc = extract_replace_dir(x, raw, rel)) < 0)
        return rc;
    return write_entry(x, a, e, raw, rel, k, hl_target);
}

/* Whether libarchive decodes zstd itself (and would not run an external program). */
static bool zstd_builtin(void)
{
    struct archive *a = archive_read_new();
    bool ok = a && archive_read_support_filter_zstd(a) == ARCHIVE_OK;
    archive_read_free(a);
    return ok;
}

/* Opens the layer's blob, verified as it streams, and a tar reader on it. */
static int open_layer(struct xctx *x, bool zstd, struct archive **out)
{
    const struct ip_desc *l = x->layer;
    struct ip_reader *inner = NULL;
    struct archive *a;
    int rc = ip_store_open_blob(x->s, l, &inner, x->err);
    if (rc < 0)
        return ip_err_wrap(x->err, "layer %zu of %zu", x->index + 1, x->n_layers);
    cleanup_free char *what = ip_xasprintf("layer %s", l->digest);
    x->r = ip_reader_verify(inner, l->digest, l->size, what);
    x->read_failed = false;
    x->blob_ended = false;
    x->cut_after_data = false;
    ip_err_clear(&x->rerr);

    *out = a = archive_read_new();
    if (!a)
        return ip_err_set(x->err, IP_E_NOMEM, "out of memory");
    archive_read_support_filter_gzip(a);
    if (zstd)
        archive_read_support_filter_zstd(a);
    archive_read_support_filter_none(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    if (archive_read_open(a, x, NULL, read_cb, NULL) != ARCHIVE_OK)
        return read_fail(x, a, "not a tar archive");
    return 0;
}

static int extract_layer(struct xctx *x, bool zstd)
{
    struct archive *a = NULL;
    struct archive_entry *e;
    struct disk_error xe = {0};
    enum disk_result xr;
    int rc, r;

    x->disk.dirfd = x->dirfd;
    if ((rc = open_layer(x, zstd, &a)) < 0)
        goto out;
    for (;;) {
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = read_fail(x, a, "reading the tar");
            goto out;
        }
        x->data_start = archive_filter_bytes(a, 0); /* the header is consumed */
        if ((rc = check_stream(x, a)) < 0 || (rc = do_entry(x, a, e)) < 0)
            goto out;
        if (x->cut_after_data)
            break; /* the end of the layer; drain() below still checks its digest */
    }
    if ((rc = check_stream(x, a)) < 0)
        goto out;
    if ((xr = extract_disk_layer_finish(&x->disk, &xe)) != DISK_OK) {
        rc = ip_err_sys(x->err, xe.errnum, "layer %s: finishing: %s", x->layer->digest, xe.what);
        extract_disk_error_release(&xe);
        goto out;
    }
    if (drain(x) < 0)
        rc = reader_error(x);
out:
    if (a) {
        x->stream_base += archive_filter_bytes(a, 0);
        archive_read_free(a);
    }
    extract_disk_layer_release(&x->disk);
    ip_reader_free(x->r);
    x->r = NULL;
    ip_hashmap_release(&x->seen);
    return rc;
}

int ip_extract_image(struct ip_store *s, const struct ip_manifest *m, const char *dir,
                     const struct ip_extract_opts *o, struct ip_err *err)
{
    struct xctx x;
    int rc = 0;
    bool zstd;

    if (m->is_index)
        return ip_err_set(err, IP_E_INPUT, "%s is an index, not an image manifest", m->digest);
    memset(&x, 0, sizeof(x));
    x.s = s;
    x.err = err;
    x.keep = o && o->keep_permissions;
    x.max = o && o->max_bytes > 0 ? o->max_bytes : IP_EXTRACT_DEFAULT_MAX_BYTES;
    zstd = zstd_builtin();

    x.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x.dirfd < 0)
        return ip_err_sys(err, errno, "entering '%s'", dir);
    x.buf = ip_xmalloc(READ_BUF);
    for (size_t i = 0; i < m->n_layers && rc == 0; i++) {
        x.layer = &m->layers[i];
        x.index = i;
        x.n_layers = m->n_layers;
        if (o && o->on_layer)
            o->on_layer(o->on_layer_ctx, x.layer, i, m->n_layers);
        rc = extract_layer(&x, zstd);
    }
    free(x.buf);
    close(x.dirfd);
    return rc;
}
