/* extract.c - unpacks an image's layers into a directory.  libarchive reads
 * each layer (through the verifying reader) and writes it to disk with its
 * SECURE_* checks; before an entry reaches the writer it is checked here too
 * (names, types, link targets, sizes), and whiteouts are applied here since
 * libarchive knows nothing of them.  Writing happens relative to the working
 * directory (the only way libarchive's write-to-disk takes a base), so the
 * working directory is dir for the duration of ip_extract_image (except while
 * a blob is opened, as the store may use relative paths). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "imgpkg/extract.h"
#include "util/banned.h"

#define READ_BUF (256u << 10)
#define QUOTE_MAX 200

/* ---- the names one layer has written (for duplicates and whiteouts) ---- */

enum kind {
    K_NONE,
    K_DIR,    /* a directory entry */
    K_PARENT, /* a directory implied by a deeper entry */
    K_FILE,   /* a regular file or a hardlink */
    K_LINK,   /* a symlink */
};

struct seen_slot {
    char *path;
    enum kind kind;
};

struct seen {
    struct seen_slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

static size_t seen_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static struct seen_slot *seen_find(const struct seen *t, const char *path)
{
    if (!t->cap)
        return NULL;
    for (size_t i = seen_hash(path) & (t->cap - 1); t->slots[i].path; i = (i + 1) & (t->cap - 1))
        if (!strcmp(t->slots[i].path, path))
            return &t->slots[i];
    return NULL;
}

static enum kind seen_get(const struct seen *t, const char *path)
{
    const struct seen_slot *s = seen_find(t, path);
    return s ? s->kind : K_NONE;
}

static void seen_place(struct seen_slot *slots, size_t cap, char *path, enum kind k)
{
    size_t i = seen_hash(path) & (cap - 1);
    while (slots[i].path)
        i = (i + 1) & (cap - 1);
    slots[i].path = path;
    slots[i].kind = k;
}

static void seen_put(struct seen *t, const char *path, enum kind k)
{
    struct seen_slot *s = seen_find(t, path);
    if (s) {
        s->kind = k;
        return;
    }
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct seen_slot *slots = ip_xcalloc(cap, sizeof(*slots));
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].path)
                seen_place(slots, cap, t->slots[i].path, t->slots[i].kind);
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    seen_place(t->slots, t->cap, ip_xstrdup(path), k);
    t->n++;
}

static void seen_release(struct seen *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].path);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static bool kind_is_dir(enum kind k)
{
    return k == K_DIR || k == K_PARENT;
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

/* ---- extraction state ---- */

struct xctx {
    struct ip_store *s;
    int cwd;   /* the caller's working directory */
    int dirfd; /* the output directory */
    const struct ip_desc *layer;
    size_t index, n_layers;
    struct ip_reader *r;
    struct ip_err *err;
    struct ip_err rerr; /* what the reader said when it failed */
    bool read_failed;
    char *buf;
    bool keep;
    int64_t max;
    int64_t data_total;  /* sizes of the files of all layers so far */
    int64_t stream_base; /* uncompressed bytes of the layers before this one */
    bool cut_after_data; /* the layer ends right after an entry's data (no padding) */
    struct seen seen;
};

/* An entry name fit for a one-line message: control bytes escaped, long names cut. */
static void quote_name(const char *s, char *out, size_t outsz)
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

static int refuse(struct xctx *x, enum ip_code code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(struct xctx *x, enum ip_code code, const char *name, const char *fmt, ...)
{
    char why[1024], q[QUOTE_MAX * 4 + 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    quote_name(name, q, sizeof(q));
    return ip_err_set(x->err, code, "layer %s: entry '%s': %s", x->layer->digest, q, why);
}

static int entry_sys(struct xctx *x, int errnum, const char *name, const char *what)
{
    char q[QUOTE_MAX * 4 + 8];
    quote_name(name, q, sizeof(q));
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

static int write_fail(struct xctx *x, struct archive *w, const char *name)
{
    int en = archive_errno(w);
    const char *msg = archive_error_string(w);
    if (en > 0)
        return entry_sys(x, en, name, msg ? msg : "cannot be written");
    return refuse(x, IP_E_INPUT, name, "%s", msg ? msg : "cannot be written");
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
            seen_put(&x->seen, rel, K_PARENT);
        } else if (!kind_is_dir(old)) {
            char q[QUOTE_MAX * 4 + 8];
            quote_name(rel, q, sizeof(q));
            *c = '/';
            return refuse(x, IP_E_INPUT, raw, "'%s' is a %s in this layer, not a directory", q,
                          kind_name(old));
        }
        *c = '/';
    }
    old = seen_get(&x->seen, rel);
    if (old != K_NONE && old != k && !(kind_is_dir(old) && kind_is_dir(k)))
        return refuse(x, IP_E_INPUT, raw, "the layer also has a %s of that name", kind_name(old));
    if (old == K_NONE || old == K_PARENT)
        seen_put(&x->seen, rel, k);
    return 0;
}

/* ---- whiteouts ---- */

/* What lies along path: 1 when every component is a real directory, 0 when one
 * is missing or not a directory, -1 when one is a symlink, -2 (errno set) when
 * it cannot be told. */
static int path_state(char *path)
{
    struct stat st;
    char *c = path;
    if (!*path)
        return 1;
    for (;;) {
        char *slash = strchr(c, '/');
        int r, en;
        if (slash)
            *slash = '\0';
        r = fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW);
        en = errno;
        if (slash)
            *slash = '/';
        if (r < 0) {
            errno = en;
            return en == ENOENT || en == ENOTDIR ? 0 : -2;
        }
        if (S_ISLNK(st.st_mode))
            return -1;
        if (!S_ISDIR(st.st_mode))
            return 0;
        if (!slash)
            return 1;
        c = slash + 1;
    }
}

/* path_state for a whiteout's directory, with a symlink refused. */
static int real_dirs(struct xctx *x, const char *raw, char *path)
{
    int st = path_state(path);
    if (st == -2)
        return entry_sys(x, errno, raw, "checking the whiteout's directory");
    if (st == -1)
        return refuse(x, IP_E_INPUT, raw, "whiteout inside a symlink");
    return st;
}

static int remove_path(struct xctx *x, const char *raw, const char *rel)
{
    struct stat st;
    ip_remove_tree(rel);
    if (fstatat(AT_FDCWD, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return entry_sys(x, EACCES, raw, "the whiteout's target could not be removed");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes from the real directory rel what this layer did not write. */
static int opaque_clean(struct xctx *x, const char *raw, const char *rel)
{
    DIR *d = opendir(*rel ? rel : ".");
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return entry_sys(x, errno, raw, "reading the directory to make opaque");
    }
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        IP_GROW(names, cap, n + 1);
        names[n++] = ip_xstrdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *child = *rel ? ip_path_join(rel, names[i]) : ip_xstrdup(names[i]);
        enum kind k = seen_get(&x->seen, child);
        struct stat st;
        if (rc < 0)
            break;
        if (k == K_NONE)
            rc = remove_path(x, raw, child);
        else if (kind_is_dir(k) && fstatat(AT_FDCWD, child, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISDIR(st.st_mode))
            rc = opaque_clean(x, raw, child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int whiteout(struct xctx *x, const char *raw, const char *rel, const char *base)
{
    cleanup_free char *parent = ip_xstrndup(rel, base > rel ? (size_t)(base - rel - 1) : 0);
    cleanup_free char *target = NULL;
    const char *name = base + 4;
    struct stat st;
    int rc;

    if (!strcmp(base, ".wh..wh..opq")) {
        if ((rc = real_dirs(x, raw, parent)) <= 0)
            return rc;
        return opaque_clean(x, raw, parent);
    }
    if (!strncmp(base, ".wh..wh.", 8))
        return 0; /* aufs metadata (.wh..wh.plnk, .wh..wh.aufs) */
    if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
        return refuse(x, IP_E_INPUT, raw, "whiteout that names nothing");
    if ((rc = real_dirs(x, raw, parent)) <= 0)
        return rc;
    target = *parent ? ip_path_join(parent, name) : ip_xstrdup(name);
    enum kind k = seen_get(&x->seen, target);
    if (k == K_NONE)
        return remove_path(x, raw, target);
    /* Written by this same layer: only what the earlier layers left below it goes. */
    if (kind_is_dir(k) && fstatat(AT_FDCWD, target, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
        return opaque_clean(x, raw, target);
    return 0;
}

/* ---- entries ---- */

/* A directory left by an earlier layer where this layer puts a file or a
 * symlink goes with all it holds, as a whiteout would (libarchive only removes
 * empty ones).  Nothing is removed through a symlink: libarchive refuses such
 * an entry anyway. */
static int replace_dir(struct xctx *x, const char *raw, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    cleanup_free char *parent = ip_xstrndup(rel, slash ? (size_t)(slash - rel) : 0);
    struct stat st;
    if (path_state(parent) != 1)
        return 0;
    if (fstatat(AT_FDCWD, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    return remove_path(x, raw, rel);
}

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

/* A layer that ends right after the data of its last entry, without the
 * padding to 512 bytes nor the end-of-archive blocks (umoci before 0.4.8
 * writes such layers with `umoci insert`; Go's archive/tar, and so imgpkg,
 * reads them to the end): libarchive fails on the missing padding only once
 * all the data was delivered. */
static bool ends_after_data(struct archive *a, int64_t got, int64_t size)
{
    const char *msg = archive_error_string(a);
    return size > 0 && got == size && size % 512 != 0 && msg &&
           strstr(msg, "Truncated input file") && strstr(msg, "only 0 available");
}

static int copy_data(struct xctx *x, struct archive *a, struct archive *w, const char *raw,
                     int64_t entry_size)
{
    int64_t got = 0;
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &size, &off);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN && !x->read_failed && ends_after_data(a, got, entry_size)) {
            x->cut_after_data = true;
            return 0;
        }
        if (r < ARCHIVE_WARN)
            return read_fail(x, a, "reading file data");
        if (off + (int64_t)size > got)
            got = off + (int64_t)size;
        if (check_stream(x, a) < 0)
            return -IP_E_TOOBIG;
        if (size && archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
            return write_fail(x, w, raw);
    }
}

static int do_entry(struct xctx *x, struct archive *a, struct archive *w, struct archive_entry *e)
{
    const char *raw = archive_entry_pathname(e);
    cleanup_free char *rel = NULL;
    const char *why, *base, *hl;
    enum kind k;
    int r, rc;

    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    if (!raw)
        return ip_err_set(x->err, IP_E_INPUT, "layer %s: an entry has a name that cannot be read",
                          x->layer->digest);
    if (strlen(raw) > IP_EXTRACT_MAX_NAME)
        return refuse(x, IP_E_INPUT, raw, "name longer than %d bytes", IP_EXTRACT_MAX_NAME);
    if ((why = clean_path(raw, &rel)) != NULL)
        return refuse(x, IP_E_INPUT, raw, "%s", why);
    base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (*rel && !strncmp(base, ".wh.", 4))
        return whiteout(x, raw, rel, base);

    hl = archive_entry_hardlink(e);
    if (hl) {
        k = K_FILE;
    } else {
        switch (archive_entry_filetype(e)) {
        case AE_IFREG:
            k = K_FILE;
            break;
        case AE_IFDIR:
            k = K_DIR;
            break;
        case AE_IFLNK:
            k = K_LINK;
            break;
        case AE_IFCHR:
            return refuse(x, IP_E_UNSUPPORTED, raw, "character devices are not extracted");
        case AE_IFBLK:
            return refuse(x, IP_E_UNSUPPORTED, raw, "block devices are not extracted");
        case AE_IFIFO:
            return refuse(x, IP_E_UNSUPPORTED, raw, "FIFOs are not extracted");
        case AE_IFSOCK:
            return refuse(x, IP_E_UNSUPPORTED, raw, "sockets are not extracted");
        default:
            return refuse(x, IP_E_UNSUPPORTED, raw, "unknown entry type 0%o",
                          (unsigned)archive_entry_filetype(e));
        }
    }
    if (!*rel) {
        if (k == K_DIR)
            return 0; /* "." or "./": the directory itself, left as the caller made it */
        return refuse(x, IP_E_INPUT, raw, "names the extraction directory itself");
    }
    if ((rc = note_entry(x, raw, rel, k)) < 0)
        return rc;

    if (k == K_LINK) {
        const char *t = archive_entry_symlink(e);
        char q[QUOTE_MAX * 4 + 8];
        if (!t)
            return refuse(x, IP_E_INPUT, raw, "symlink without a readable target");
        if (strlen(t) > IP_EXTRACT_MAX_NAME)
            return refuse(x, IP_E_INPUT, raw, "symlink target longer than %d bytes",
                          IP_EXTRACT_MAX_NAME);
        quote_name(t, q, sizeof(q));
        if ((why = check_symlink_target(rel, t)) != NULL)
            return refuse(x, IP_E_INPUT, raw, "%s ('%s')", why, q);
    }
    if (hl) {
        cleanup_free char *t = NULL;
        char q[QUOTE_MAX * 4 + 8];
        struct stat st;
        quote_name(hl, q, sizeof(q));
        if (strlen(hl) > IP_EXTRACT_MAX_NAME)
            return refuse(x, IP_E_INPUT, raw, "hardlink target longer than %d bytes",
                          IP_EXTRACT_MAX_NAME);
        if (clean_path(hl, &t) != NULL || !*t)
            return refuse(x, IP_E_INPUT, raw, "hardlink to '%s', outside the directory", q);
        if (!strcmp(t, rel))
            return refuse(x, IP_E_INPUT, raw, "hardlink to itself");
        if (fstatat(AT_FDCWD, t, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return refuse(x, IP_E_INPUT, raw, "hardlink to '%s', which is not an earlier entry", q);
        if (!S_ISREG(st.st_mode))
            return refuse(x, IP_E_INPUT, raw, "hardlink to '%s', which is not a regular file", q);
        archive_entry_copy_hardlink(e, t);
    }
    if (k == K_FILE && archive_entry_size_is_set(e) && archive_entry_size(e) > 0) {
        int64_t sz = archive_entry_size(e);
        if (sz > x->max - x->data_total)
            return refuse(x, IP_E_TOOBIG, raw,
                          "%lld bytes would take the files over the limit of %lld bytes",
                          (long long)sz, (long long)x->max);
        x->data_total += sz;
    }
    if (k != K_DIR && (rc = replace_dir(x, raw, rel)) < 0)
        return rc;
    if (!hl && (k == K_FILE || k == K_DIR))
        archive_entry_set_perm(e, entry_perm(x, archive_entry_perm(e), k == K_DIR));
    archive_entry_copy_pathname(e, rel);
    archive_entry_acl_clear(e);
    archive_entry_xattr_clear(e);
    archive_entry_set_fflags(e, 0, 0);

    r = archive_write_header(w, e);
    if (r < ARCHIVE_WARN)
        return write_fail(x, w, raw);
    if (archive_entry_size(e) > 0 &&
        (rc = copy_data(x, a, w, raw, archive_entry_size(e))) < 0)
        return rc;
    r = archive_write_finish_entry(w);
    if (r < ARCHIVE_WARN)
        return write_fail(x, w, raw);
    return 0;
}

/* Whether libarchive decodes zstd itself (and would not run an external program). */
static bool zstd_builtin(void)
{
    struct archive *a = archive_read_new();
    bool ok = a && archive_read_support_filter_zstd(a) == ARCHIVE_OK;
    archive_read_free(a);
    return ok;
}

static int extract_layer(struct xctx *x, bool zstd)
{
    const struct ip_desc *l = x->layer;
    struct ip_reader *inner = NULL;
    struct archive *a = NULL, *w = NULL;
    struct archive_entry *e;
    int flags =
        ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_TIME;
    int rc = 0, r;

#ifdef ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS
    flags |= ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
#endif
    if (x->keep)
        flags |= ARCHIVE_EXTRACT_PERM;
    /* the store may open files by relative paths: open the blob from the
     * caller's working directory, then come back to dir */
    if (fchdir(x->cwd) < 0)
        return ip_err_sys(x->err, errno, "returning to the working directory");
    rc = ip_store_open_blob(x->s, l, &inner, x->err);
    if (fchdir(x->dirfd) < 0) {
        ip_reader_free(inner);
        return ip_err_sys(x->err, errno, "entering the output directory");
    }
    if (rc < 0)
        return ip_err_wrap(x->err, "layer %zu of %zu", x->index + 1, x->n_layers);
    cleanup_free char *what = ip_xasprintf("layer %s", l->digest);
    x->r = ip_reader_verify(inner, l->digest, l->size, what);
    x->read_failed = false;
    x->cut_after_data = false;
    ip_err_clear(&x->rerr);

    a = archive_read_new();
    w = archive_write_disk_new();
    if (!a || !w) {
        rc = ip_err_set(x->err, IP_E_NOMEM, "out of memory");
        goto out;
    }
    archive_read_support_filter_gzip(a);
    if (zstd)
        archive_read_support_filter_zstd(a);
    archive_read_support_filter_none(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_empty(a);
    archive_write_disk_set_options(w, flags);

    if (archive_read_open(a, x, NULL, read_cb, NULL) != ARCHIVE_OK) {
        rc = read_fail(x, a, "not a tar archive");
        goto out;
    }
    for (;;) {
        r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = read_fail(x, a, "reading the tar");
            goto out;
        }
        if ((rc = check_stream(x, a)) < 0 || (rc = do_entry(x, a, w, e)) < 0)
            goto out;
        if (x->cut_after_data)
            break; /* the end of the layer; drain() below still checks its digest */
    }
    if ((rc = check_stream(x, a)) < 0)
        goto out;
    if (archive_write_close(w) < ARCHIVE_WARN) {
        rc = ip_err_set(x->err, IP_E_IO, "layer %s: finishing: %s", l->digest,
                        archive_error_string(w) ? archive_error_string(w) : "error");
        goto out;
    }
    if (drain(x) < 0)
        rc = reader_error(x);
out:
    if (a) {
        x->stream_base += archive_filter_bytes(a, 0);
        archive_read_free(a);
    }
    archive_write_free(w);
    ip_reader_free(x->r);
    x->r = NULL;
    seen_release(&x->seen);
    return rc;
}

int ip_extract_image(struct ip_store *s, const struct ip_manifest *m, const char *dir,
                     const struct ip_extract_opts *o, struct ip_err *err)
{
    struct xctx x;
    int cwd, rc = 0;
    bool zstd;

    if (m->is_index)
        return ip_err_set(err, IP_E_INPUT, "%s is an index, not an image manifest", m->digest);
    memset(&x, 0, sizeof(x));
    x.s = s;
    x.err = err;
    x.keep = o && o->keep_permissions;
    x.max = o && o->max_bytes > 0 ? o->max_bytes : IP_EXTRACT_DEFAULT_MAX_BYTES;
    zstd = zstd_builtin();

    cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0)
        return ip_err_sys(err, errno, "remembering the working directory");
    x.cwd = cwd;
    x.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (x.dirfd < 0 || fchdir(x.dirfd) < 0) {
        rc = ip_err_sys(err, errno, "entering '%s'", dir);
        if (x.dirfd >= 0)
            close(x.dirfd);
        close(cwd);
        return rc;
    }
    x.buf = ip_xmalloc(READ_BUF);
    for (size_t i = 0; i < m->n_layers && rc == 0; i++) {
        x.layer = &m->layers[i];
        x.index = i;
        x.n_layers = m->n_layers;
        rc = extract_layer(&x, zstd);
    }
    free(x.buf);
    if (fchdir(cwd) < 0 && rc == 0)
        rc = ip_err_sys(err, errno, "returning to the working directory");
    close(x.dirfd);
    close(cwd);
    return rc;
}
