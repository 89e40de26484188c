/* extract-disk.c - entries written under a directory descriptor (see
 * extract-disk.h).  What libarchive's write-to-disk did for the extractor,
 * with its SECURE_SYMLINKS rule (never through a symlink; a symlink at the
 * entry's own name is replaced) and its way of replacing what is in the way,
 * but relative to a descriptor instead of the working directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract-disk.h"
#include "imgpkg/util.h"
#include "util/banned.h"

struct disk_dir_time {
    char *rel;
    struct timespec times[2];
};

void extract_disk_error_release(struct disk_error *e)
{
    free(e->through);
    e->through = NULL;
}

static enum disk_result sys_fail(struct disk_error *err, const char *what)
{
    err->errnum = errno;
    err->what = what;
    return DISK_SYS;
}

/* Removes what is at name (a directory only when empty); nothing there is fine. */
static int clear_name(int pfd, const char *name)
{
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    return unlinkat(pfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
}

/* One step down: the directory `name` in fd, made when missing (and create). */
static int open_step(int fd, const char *name, bool create)
{
    struct stat st;
    for (int tries = 0; tries < 3; tries++) {
        int n = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (n >= 0)
            return n;
        if (errno == ENOENT && create) {
            if (mkdirat(fd, name, 0777) < 0 && errno != EEXIST)
                return -1;
            continue;
        }
        if (errno != ELOOP && errno != ENOTDIR)
            return -1;
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -1;
        if (S_ISLNK(st.st_mode)) {
            errno = ELOOP;
            return -1;
        }
        if (S_ISDIR(st.st_mode) || !create) {
            errno = ENOTDIR;
            return -1;
        }
        /* a file of an earlier layer where this one has a directory */
        if (unlinkat(fd, name, 0) < 0)
            return -1;
    }
    errno = EAGAIN;
    return -1;
}

int extract_disk_open_parent(int dirfd, const char *rel, bool create, const char **base,
                             struct disk_error *err)
{
    int fd = dirfd;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (!slash) {
            *base = p;
            return fd;
        }
        cleanup_free char *comp = ip_xstrndup(p, (size_t)(slash - p));
        int next = open_step(fd, comp, create);
        int en = errno;
        if (fd != dirfd)
            close(fd);
        if (next < 0) {
            if (en == ELOOP && err) {
                free(err->through);
                err->through = ip_xstrndup(rel, (size_t)(slash - rel));
            }
            errno = en;
            return -1;
        }
        fd = next;
        p = slash + 1;
    }
}

static void remember_dir(struct disk_layer *l, const struct disk_entry *e)
{
    IP_GROW(l->dirs, l->cap_dirs, l->n_dirs + 1);
    l->dirs[l->n_dirs].rel = ip_xstrdup(e->rel);
    l->dirs[l->n_dirs].times[0] = e->atime;
    l->dirs[l->n_dirs].times[1] = e->mtime;
    l->n_dirs++;
}

static enum disk_result make_dir(struct disk_layer *l, int pfd, const char *base,
                                 const struct disk_entry *e, struct disk_error *err)
{
    struct stat st;
    if (mkdirat(pfd, base, e->perm) < 0) {
        if (errno != EEXIST || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return sys_fail(err, "creating the directory");
        /* a directory left by an earlier layer is kept, as libarchive does */
        if (!S_ISDIR(st.st_mode) && (unlinkat(pfd, base, 0) < 0 || mkdirat(pfd, base, e->perm) < 0))
            return sys_fail(err, "replacing it with a directory");
    }
    /* kept permissions are set exactly, whatever the umask */
    if (e->exact && fchmodat(pfd, base, e->perm, 0) < 0)
        return sys_fail(err, "setting the directory's mode");
    remember_dir(l, e);
    return DISK_OK;
}

static enum disk_result make_file(int pfd, const char *base, const struct disk_entry *e, int *fd,
                                  struct disk_error *err)
{
    /* the umask applies unless the mode is kept exactly (set at the end) */
    mode_t m = e->exact ? 0600 : e->perm;
    for (int tries = 0; tries < 2; tries++) {
        int f = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, m);
        if (f >= 0) {
            *fd = f;
            return DISK_OK;
        }
        if (errno != EEXIST)
            break;
        if (clear_name(pfd, base) < 0)
            return sys_fail(err, "replacing what is there");
    }
    return sys_fail(err, "creating the file");
}

static enum disk_result make_symlink(int pfd, const char *base, const struct disk_entry *e,
                                     struct disk_error *err)
{
    struct timespec ts[2] = {e->atime, e->mtime};
    if (clear_name(pfd, base) < 0)
        return sys_fail(err, "replacing what is there");
    if (symlinkat(e->target, pfd, base) < 0)
        return sys_fail(err, "creating the symlink");
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return sys_fail(err, "setting the symlink's times");
    return DISK_OK;
}

static enum disk_result make_hardlink(struct disk_layer *l, int pfd, const char *base,
                                      const struct disk_entry *e, int *fd, struct disk_error *err)
{
    const char *tbase;
    enum disk_result r = DISK_OK;
    int tfd = extract_disk_open_parent(l->dirfd, e->target, false, &tbase, err);
    if (tfd < 0)
        return err->through && errno == ELOOP ? DISK_THROUGH_SYMLINK
                                              : sys_fail(err, "finding the hardlink's target");
    if (clear_name(pfd, base) < 0)
        r = sys_fail(err, "replacing what is there");
    else if (linkat(tfd, tbase, pfd, base, 0) < 0)
        r = sys_fail(err, "creating the hardlink");
    if (tfd != l->dirfd)
        close(tfd);
    if (r == DISK_OK && e->size > 0) {
        *fd = openat(pfd, base, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        if (*fd < 0)
            r = sys_fail(err, "opening the hardlink for its data");
    }
    return r;
}

enum disk_result extract_disk_create(struct disk_layer *l, const struct disk_entry *e, int *fd,
                                     struct disk_error *err)
{
    const char *base;
    enum disk_result r = DISK_OK;
    int pfd;

    *fd = -1;
    pfd = extract_disk_open_parent(l->dirfd, e->rel, true, &base, err);
    if (pfd < 0)
        return err->through && errno == ELOOP ? DISK_THROUGH_SYMLINK
                                              : sys_fail(err, "creating the directories above it");
    switch (e->type) {
    case DISK_DIR:
        r = make_dir(l, pfd, base, e, err);
        break;
    case DISK_FILE:
        r = make_file(pfd, base, e, fd, err);
        break;
    case DISK_SYMLINK:
        r = make_symlink(pfd, base, e, err);
        break;
    case DISK_HARDLINK:
        r = make_hardlink(l, pfd, base, e, fd, err);
        break;
    }
    if (pfd != l->dirfd)
        close(pfd);
    return r;
}

enum disk_result extract_disk_file_done(int fd, const struct disk_entry *e, int64_t size,
                                        struct disk_error *err)
{
    struct timespec ts[2] = {e->atime, e->mtime};
    struct stat st;
    enum disk_result r = DISK_OK;
    /* a sparse entry may end in a hole */
    if (fstat(fd, &st) < 0 || (st.st_size < size && ftruncate(fd, size) < 0))
        r = sys_fail(err, "writing");
    else if (e->type == DISK_FILE && e->exact && fchmod(fd, e->perm) < 0)
        r = sys_fail(err, "setting the file's mode");
    else if (futimens(fd, ts) < 0)
        r = sys_fail(err, "setting the file's times");
    if (close(fd) < 0 && r == DISK_OK)
        r = sys_fail(err, "writing");
    return r;
}

static int cmp_dir_desc(const void *a, const void *b)
{
    return strcmp(((const struct disk_dir_time *)b)->rel, ((const struct disk_dir_time *)a)->rel);
}

enum disk_result extract_disk_layer_finish(struct disk_layer *l, struct disk_error *err)
{
    enum disk_result r = DISK_OK;
    if (l->n_dirs)
        qsort(l->dirs, l->n_dirs, sizeof(*l->dirs), cmp_dir_desc);
    for (size_t i = 0; i < l->n_dirs && r == DISK_OK; i++) {
        const char *base;
        int pfd = extract_disk_open_parent(l->dirfd, l->dirs[i].rel, false, &base, NULL);
        if (pfd < 0)
            continue; /* gone with a later entry of the layer */
        if (utimensat(pfd, base, l->dirs[i].times, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
            r = sys_fail(err, "setting a directory's times");
        if (pfd != l->dirfd)
            close(pfd);
    }
    extract_disk_layer_release(l);
    return r;
}

void extract_disk_layer_release(struct disk_layer *l)
{
    for (size_t i = 0; i < l->n_dirs; i++)
        free(l->dirs[i].rel);
    free(l->dirs);
    l->dirs = NULL;
    l->n_dirs = l->cap_dirs = 0;
}
