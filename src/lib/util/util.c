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

#include "imgpkg/util.h"
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
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ip_xstrdup(".");
    if (slash == path)
        return ip_xstrdup("/");
    return ip_xstrndup(path, (size_t)(slash - path));
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

int ip_mkstemp_in(const char *dir, const char *prefix, char **path_out, struct ip_err *err)
{
    char *tmpl = ip_xasprintf("%s/.%s-XXXXXX", dir, prefix);
    int fd = mkostemp(tmpl, O_CLOEXEC);
    /* held while the file is ours: a later run removes only unlocked leftovers */
    if (fd >= 0)
        flock(fd, LOCK_EX | LOCK_NB);
    if (fd < 0) {
        int e = errno;
        ip_err_sys(err, e, "creating a temporary file in '%s'", dir);
        free(tmpl);
        return -IP_E_IO;
    }
    if (fchmod(fd, 0644) < 0) {
        int e = errno;
        close(fd);
        unlink(tmpl);
        free(tmpl);
        return ip_err_sys(err, e, "creating a temporary file in '%s'", dir);
    }
    *path_out = tmpl;
    return fd;
}

int ip_mkdtemp_in(const char *dir, const char *prefix, char **path_out, struct ip_err *err)
{
    char *tmpl = ip_xasprintf("%s/.%s-XXXXXX", dir, prefix);
    int fd;
    if (!mkdtemp(tmpl)) {
        int e = errno;
        free(tmpl);
        return ip_err_sys(err, e, "creating a temporary directory in '%s'", dir);
    }
    fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        rmdir(tmpl);
        free(tmpl);
        return ip_err_sys(err, e, "creating a temporary directory in '%s'", dir);
    }
    flock(fd, LOCK_EX | LOCK_NB);
    *path_out = tmpl;
    return fd;
}

static bool temp_suffix(const char *s)
{
    if (strlen(s) != 7 || s[0] != '-')
        return false;
    for (int i = 1; i < 7; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

void ip_cleanup_stale_temps(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t plen = prefix ? strlen(prefix) : 0;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (n[0] != '.' || !strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        size_t len = strlen(n);
        if (len < 9 || !temp_suffix(n + len - 7))
            continue;
        if (prefix && (len != 1 + plen + 7 || strncmp(n + 1, prefix, plen) != 0))
            continue;
        int fd = openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        /* a live run holds its lock: only what a killed run left is taken */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            cleanup_free char *path = ip_path_join(dir, n);
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
                ip_remove_tree(path);
            else
                unlink(path);
        }
        close(fd);
    }
    closedir(d);
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

int ip_write_file_atomic(const char *path, const void *data, size_t n, int mode,
                         struct ip_err *err)
{
    cleanup_free char *dir = ip_dirname(path);
    cleanup_free char *base = ip_basename(path);
    cleanup_free char *tmp = NULL;
    int fd = ip_mkstemp_in(dir, base, &tmp, err);
    if (fd < 0)
        return fd;
    if (ip_write_all(fd, data, n, err) < 0 || fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0) {
        if (err->code == IP_OK || err->sys_errno == 0)
            ip_err_sys(err, errno, "writing '%s'", path);
        close(fd);
        unlink(tmp);
        return -IP_E_IO;
    }
    ip_crashpoint();
    if (rename(tmp, path) < 0) {
        int e = errno;
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
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return ip_err_sys(err, errno, "creating directory '%s'", p);
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return ip_err_sys(err, errno, "creating directory '%s'", p);
    return 0;
}

static void remove_tree_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        DIR *d = fdopendir(fd);
        struct dirent *de;
        if (d) {
            while ((de = readdir(d)) != NULL) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                remove_tree_at(dirfd(d), de->d_name);
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
    remove_tree_at(AT_FDCWD, path);
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
