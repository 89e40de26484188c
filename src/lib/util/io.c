/* io.c - file, memory and verifying readers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "imgpkg/io.h"
#include "imgpkg/util.h"
#include "util/banned.h"

void ip_reader_free(struct ip_reader *r)
{
    if (r)
        r->free(r);
}

struct fd_reader {
    struct ip_reader base;
    int fd;
};

static ssize_t fd_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct fd_reader *f = (struct fd_reader *)r;
    for (;;) {
        ssize_t got = read(f->fd, buf, n);
        if (got >= 0)
            return got;
        if (errno != EINTR)
            return ip_err_sys(err, errno, "reading");
    }
}

static void fd_free(struct ip_reader *r)
{
    struct fd_reader *f = (struct fd_reader *)r;
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

struct ip_reader *ip_reader_fd(int fd)
{
    struct fd_reader *f = ip_xcalloc(1, sizeof(*f));
    f->base.read = fd_read;
    f->base.free = fd_free;
    f->fd = fd;
    return &f->base;
}

int ip_reader_file(const char *path, struct ip_reader **out, struct ip_err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ip_err_sys(err, errno, "opening '%s'", path);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ip_err_set(err, IP_E_INPUT, "'%s' is not a regular file", path);
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = ip_reader_fd(fd);
    return 0;
}

struct mem_reader {
    struct ip_reader base;
    const char *p;
    size_t left;
};

static ssize_t mem_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct mem_reader *m = (struct mem_reader *)r;
    if (n > m->left)
        n = m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return (ssize_t)n;
}

static void mem_free(struct ip_reader *r)
{
    free(r);
}

struct ip_reader *ip_reader_mem(const void *p, size_t n)
{
    struct mem_reader *m = ip_xcalloc(1, sizeof(*m));
    m->base.read = mem_read;
    m->base.free = mem_free;
    m->p = p;
    m->left = n;
    return &m->base;
}

struct verify_reader {
    struct ip_reader base;
    struct ip_reader *inner;
    struct ip_sha256 h;
    char digest[IP_DIGEST_SIZE];
    int64_t size;
    int64_t seen;
    char *what;
    bool done;
    bool checked;
};

static ssize_t verify_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct verify_reader *v = (struct verify_reader *)r;
    char got[IP_DIGEST_SIZE];
    ssize_t k;
    if (v->done)
        return 0;
    k = v->inner->read(v->inner, buf, n, err);
    if (k < 0)
        return ip_err_wrap(err, "reading %s", v->what);
    if (k > 0) {
        v->seen += k;
        if (v->seen > v->size)
            return ip_err_set(err, IP_E_DIGEST,
                              "%s: more than the %lld bytes its descriptor states", v->what,
                              (long long)v->size);
        ip_sha256_update(&v->h, buf, (size_t)k);
        if (v->seen == v->size) {
            /* checked at the last byte already: a consumer that stops at the
             * stated size (curl uploading a body of known length) never reads
             * the end */
            v->checked = true;
            ip_sha256_final(&v->h, got);
            if (strcmp(got, v->digest) != 0)
                return ip_err_set(err, IP_E_DIGEST, "%s: content has digest %s", v->what, got);
        }
        return k;
    }
    v->done = true;
    if (v->seen != v->size)
        return ip_err_set(err, IP_E_DIGEST, "%s: size is %lld bytes, descriptor states %lld",
                          v->what, (long long)v->seen, (long long)v->size);
    if (!v->checked) {
        ip_sha256_final(&v->h, got);
        if (strcmp(got, v->digest) != 0)
            return ip_err_set(err, IP_E_DIGEST, "%s: content has digest %s", v->what, got);
    }
    return 0;
}

static void verify_free(struct ip_reader *r)
{
    struct verify_reader *v = (struct verify_reader *)r;
    ip_reader_free(v->inner);
    ip_sha256_release(&v->h);
    free(v->what);
    free(v);
}

struct ip_reader *ip_reader_verify(struct ip_reader *inner, const char *digest, int64_t size,
                                   const char *what)
{
    struct verify_reader *v = ip_xcalloc(1, sizeof(*v));
    v->base.read = verify_read;
    v->base.free = verify_free;
    v->inner = inner;
    ip_sha256_init(&v->h);
    snprintf(v->digest, sizeof(v->digest), "%s", digest);
    v->size = size;
    v->what = ip_xstrdup(what);
    return &v->base;
}

int ip_reader_slurp(struct ip_reader *r, size_t max, struct ip_buf *out, struct ip_err *err)
{
    char chunk[65536];
    for (;;) {
        ssize_t k = r->read(r, chunk, sizeof(chunk), err);
        if (k < 0)
            return (int)k;
        if (k == 0)
            return 0;
        if (max && out->len + (size_t)k > max)
            return ip_err_set(err, IP_E_TOOBIG, "document larger than %zu bytes", max);
        ip_buf_add(out, chunk, (size_t)k, err);
    }
}
