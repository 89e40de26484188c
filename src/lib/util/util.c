/* util.c - allocation, the growable buffer, and atomic file helpers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <ctype.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>

#include "imgpkg/util.h"
#include "util/util-private.h"
#include "util/banned.h"

static void oom(void)
{
    fputs("imgpkg: Error: out of memory\n", stderr);
    abort();
}

void *ip_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *ip_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *ip_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *ip_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        oom();
    return p;
}

char *ip_xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        oom();
    return p;
}

char *ip_xasprintf(const char *fmt, ...)
{
    char *p;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&p, fmt, ap) < 0)
        oom();
    va_end(ap);
    return p;
}

void ip_grow(void **arr, size_t *cap, size_t n, size_t elt)
{
    size_t c = *cap;
    if (n <= c)
        return;
    c = c ? c * 2 : 8;
    while (c < n)
        c *= 2;
    *arr = ip_xrealloc(*arr, c * elt);
    memset((char *)*arr + *cap * elt, 0, (c - *cap) * elt);
    *cap = c;
}

void ip_buf_init(struct ip_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void ip_buf_release(struct ip_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ip_buf_reset(struct ip_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void buf_reserve(struct ip_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 256;
    while (c < need)
        c *= 2;
    b->data = ip_xrealloc(b->data, c);
    b->cap = c;
}

int ip_buf_add(struct ip_buf *b, const void *p, size_t n, struct ip_err *err)
{
    if (b->max && b->len + n > b->max)
        return ip_err_set(err, IP_E_TOOBIG, "more than %zu bytes", b->max);
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void ip_buf_adds(struct ip_buf *b, const char *s)
{
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void ip_buf_printf(struct ip_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    buf_reserve(b, 64);
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

char *ip_buf_detach(struct ip_buf *b, size_t *len)
{
    char *p;
    buf_reserve(b, 0);
    p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

int ip_read_file(const char *path, size_t max, struct ip_buf *out, struct ip_err *err)
{
    /* symlinks followed: inputs are often links (Kubernetes mounts secrets and
     * config maps so, /etc/ssl/certs is made of them); reading never changes
     * what a link points to */
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    char chunk[65536];
    ssize_t n;
    if (fd < 0)
        return ip_err_sys(err, errno, "reading '%s'", path);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ip_err_sys(err, errno, "reading '%s'", path);
        }
        if (n == 0)
            return 0;
        if (max && out->len + (size_t)n > max)
            return ip_err_set(err, IP_E_TOOBIG, "reading '%s': larger than %zu bytes", path, max);
        ip_buf_add(out, chunk, (size_t)n, err);
    }
}

int ip_write_all(int fd, const void *p, size_t n, struct ip_err *err)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ip_err_sys(err, errno, "writing");
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

#define WRITEBACK_CHUNK (8 << 20)

void ip_seq_writer_init(struct ip_seq_writer *w, int fd)
{
    w->fd = fd;
    w->no_writeback = false;
    w->written = 0;
    w->flushed = 0;
}

int ip_seq_write(struct ip_seq_writer *w, const void *p, size_t n, struct ip_err *err)
{
    int rc = ip_write_all(w->fd, p, n, err);
    if (rc < 0)
        return rc;
    w->written += (int64_t)n;
    if (!w->no_writeback && w->written - w->flushed >= WRITEBACK_CHUNK) {
        /* start writeback of what was just written; no waiting */
        sync_file_range(w->fd, w->flushed, w->written - w->flushed, SYNC_FILE_RANGE_WRITE);
        w->flushed = w->written;
    }
    return 0;
}

char *ip_dirname(const char *path)
{
    size_t len = strlen(path);
    /* "a/b/" is "b" in "a", as dirname(1) has it */
    while (len > 1 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    if (len == 0)
        return ip_xstrdup(".");
    while (len > 1 && path[len - 1] == '/')
        len--;
    return ip_xstrndup(path, len);
}

char *ip_basename(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    const char *start = path + len;
    while (start > path && start[-1] != '/')
        start--;
    return ip_xstrndup(start, (size_t)(path + len - start));
}

char *ip_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    if (la > 0 && a[la - 1] == '/')
        return ip_xasprintf("%s%s", a, b);
    return ip_xasprintf("%s/%s", a, b);
}

/* The umask, read once before any thread runs (umask(2) can only be read by
 * setting it). */
static mode_t g_umask = 022;

__attribute__((constructor)) static void read_umask(void)
{
    g_umask = umask(022);
    umask(g_umask);
}

mode_t ip_umask(void)
{
    return g_umask;
}

mode_t ip_file_mode(void)
{
    return 0666 & ~g_umask;
}

mode_t ip_dir_mode(void)
{
    return 0777 & ~g_umask;
}

bool ip_err_no_space(const struct ip_err *err)
{
    return err->sys_errno == ENOSPC || err->sys_errno == EDQUOT || err->sys_errno == EFBIG;
}

static void random_suffix(char *p)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[IP_TMP_RANDOM];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)p;
        for (size_t i = 0; i < sizeof(r); i++, x = x * 6364136223846793005u + 1442695040888963407u)
            r[i] = (unsigned char)(x >> 56);
    }
    for (size_t i = 0; i < sizeof(r); i++)
        p[i] = chars[r[i] % (sizeof(chars) - 1)];
}

static int flock_wait(int fd)
{
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* The entry dfd/name is the object fd is open on (not removed or replaced). */
static bool still_there(int dfd, const char *name, int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && fstatat(dfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Creates "<dir>/.<name>.imgpkg-tmp-XXXXXX" (a file, or a directory) with
 * O_EXCL and locks it.  A cleaner of another run may take the lock between the
 * two (the entry is visible, unlocked, for an instant) and remove the entry:
 * the lock is therefore taken waiting, and the entry checked to be still there
 * once it is held; if it is gone, another name is tried. */
static int make_temp(const char *dir, const char *name, bool is_dir, char **path_out,
                     struct ip_err *err)
{
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const char *what = is_dir ? "directory" : "file";
    if (dfd < 0)
        return ip_err_sys(err, errno, "creating a temporary %s in '%s'", what, dir);
    for (int attempt = 0; attempt < 100; attempt++) {
        char *leaf = ip_xasprintf(".%s" IP_TMP_MARKER "%0*d", name, IP_TMP_RANDOM, 0);
        char *sfx = leaf + strlen(leaf) - IP_TMP_RANDOM;
        int fd;
        random_suffix(sfx);
        if (is_dir) {
            if (mkdirat(dfd, leaf, 0700) < 0) {
                fd = -1;
            } else {
                fd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                    free(leaf);
                    continue; /* taken away at once: another name */
                }
            }
        } else {
            fd = openat(dfd, leaf, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        }
        if (fd < 0) {
            int e = errno;
            free(leaf);
            if (e == EEXIST)
                continue;
            return ip_err_sys(err, e, "creating a temporary %s in '%s'", what, dir);
        }
        if (flock_wait(fd) < 0 || !still_there(dfd, leaf, fd)) {
            close(fd);
            free(leaf);
            continue;
        }
        if (fchmod(fd, is_dir ? ip_dir_mode() : ip_file_mode()) < 0) {
            int e = errno;
            if (is_dir)
                unlinkat(dfd, leaf, AT_REMOVEDIR);
            else
                unlinkat(dfd, leaf, 0);
            close(fd);
            free(leaf);
            return ip_err_sys(err, e, "creating a temporary %s in '%s'", what, dir);
        }
        *path_out = ip_path_join(dir, leaf);
        free(leaf);
        return fd;
    }
    return ip_err_set(err, IP_E_IO, "creating a temporary %s in '%s': no free name", what, dir);
}

int ip_mkstemp_in(const char *dir, const char *name, char **path_out, struct ip_err *err)
{
    return make_temp(dir, name, false, path_out, err);
}

int ip_mkdtemp_in(const char *dir, const char *name, char **path_out, struct ip_err *err)
{
    return make_temp(dir, name, true, path_out, err);
}

bool ip_is_temp_name(const char *n, const char *name)
{
    size_t len = strlen(n), mlen = strlen(IP_TMP_MARKER);
    if (n[0] != '.' || len < 1 + mlen + IP_TMP_RANDOM)
        return false;
    const char *m = n + len - IP_TMP_RANDOM - mlen;
    if (strncmp(m, IP_TMP_MARKER, mlen) != 0)
        return false;
    for (const char *c = m + mlen; *c; c++)
        if (!isalnum((unsigned char)*c))
            return false;
    if (name)
        return (size_t)(m - n) == 1 + strlen(name) && !strncmp(n + 1, name, strlen(name));
    return m > n + 1;
}

void ip_cleanup_stale_temps_at(int dfd, const char *name)
{
    int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *de;
    if (!d) {
        if (dup_fd >= 0)
            close(dup_fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (!ip_is_temp_name(n, name))
            continue;
        /* never through a symlink: what is not a file or directory we made is left */
        int fd = openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
            continue;
        /* a live run holds its lock: only what a killed run left is taken, and
         * only if the name still is the entry that was locked */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
            (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) && still_there(dirfd(d), n, fd)) {
            if (S_ISDIR(st.st_mode))
                ip_remove_tree_at(dirfd(d), n);
            else
                unlinkat(dirfd(d), n, 0);
        }
        close(fd);
    }
    closedir(d);
}

void ip_cleanup_stale_temps(const char *dir, const char *name)
{
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        ip_cleanup_stale_temps_at(dfd, name);
}

int ip_lock_dir(const char *path, struct ip_err *err)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return ip_err_sys(err, errno, "locking '%s'", path);
        if (flock_wait(fd) < 0) {
            int e = errno;
            close(fd);
            return ip_err_sys(err, e, "locking '%s'", path);
        }
        if (still_there(AT_FDCWD, path, fd))
            return fd;
        close(fd); /* replaced while we waited: lock what is there now */
    }
    return ip_err_set(err, IP_E_IO, "locking '%s': it keeps being replaced", path);
}

static long crash_at = -1;
static long crash_count;

void ip_crashpoint(void)
{
    if (crash_at < 0) {
        const char *s = getenv("IMGPKG_TEST_CRASH_AT");
        crash_at = s && *s ? atol(s) : 0;
    }
    if (crash_at > 0 && ++crash_count == crash_at)
        kill(getpid(), SIGKILL);
}

int ip_fsync_dir(const char *dir, struct ip_err *err)
{
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        return ip_err_sys(err, errno, "syncing '%s'", dir);
    return 0;
}

int ip_write_file_atomic(const char *path, const void *data, size_t n, int mode, struct ip_err *err)
{
    cleanup_free char *dir = ip_dirname(path);
    cleanup_free char *base = ip_basename(path);
    cleanup_free char *tmp = NULL;
    int fd = ip_mkstemp_in(dir, base, &tmp, err);
    if (fd < 0)
        return ip_err_wrap(err, "writing '%s'", path);
    int e = 0;
    if (ip_write_all(fd, data, n, err) < 0)
        e = err->sys_errno;
    else if (fchmod(fd, (mode_t)mode & ~ip_umask()) < 0 || fsync(fd) < 0)
        e = errno;
    if (e) {
        close(fd);
        unlink(tmp);
        return ip_err_sys(err, e, "writing '%s'", path);
    }
    ip_crashpoint();
    if (rename(tmp, path) < 0) {
        e = errno;
        close(fd);
        unlink(tmp);
        return ip_err_sys(err, e, "writing '%s'", path);
    }
    close(fd);
    ip_crashpoint();
    return 0;
}

int ip_mkdirs(const char *path, struct ip_err *err)
{
    cleanup_free char *p = ip_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST)
            return ip_err_sys(err, errno, "creating directory '%s'", p);
        *s = '/';
    }
    if (mkdir(p, 0777) < 0 && errno != EEXIST)
        return ip_err_sys(err, errno, "creating directory '%s'", p);
    return 0;
}

void ip_remove_tree_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        struct dirent *de;
        if (d) {
            while ((de = readdir(d)) != NULL) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                ip_remove_tree_at(dirfd(d), de->d_name);
            }
            closedir(d);
        } else {
            close(fd);
        }
        unlinkat(dfd, name, AT_REMOVEDIR);
    } else {
        unlinkat(dfd, name, 0);
    }
}

void ip_remove_tree(const char *path)
{
    ip_remove_tree_at(AT_FDCWD, path);
}

bool ip_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t ip_source_date_epoch(void)
{
    const char *s = getenv("SOURCE_DATE_EPOCH");
    char *end;
    long long v;
    if (!s || !*s)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return 0;
    return (int64_t)v;
}
