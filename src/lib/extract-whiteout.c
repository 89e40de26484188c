/* extract-whiteout.c - the extractor's whiteouts (OCI image-spec): ".wh.NAME"
 * removes NAME as the earlier layers left it, ".wh..wh..opq" empties its
 * directory of what they put there; neither acts through a symlink.  Also the
 * directory of an earlier layer that goes where this layer puts a file or a
 * symlink.  Every path is relative to the output directory's descriptor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract-internal.h"
#include "util/util-private.h"
#include "util/banned.h"

/* What lies along path: 1 when every component is a real directory, 0 when one
 * is missing or not a directory, -1 when one is a symlink, -2 (errno set) when
 * it cannot be told. */
static int path_state(int dirfd, char *path)
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
        r = fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW);
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
    int st = path_state(x->dirfd, path);
    if (st == -2)
        return extract_entry_sys(x, errno, raw, "checking the whiteout's directory");
    if (st == -1)
        return extract_refuse(x, IP_E_INPUT, raw, "whiteout inside a symlink");
    return st;
}

static int remove_path(struct xctx *x, const char *raw, const char *rel)
{
    struct stat st;
    ip_remove_tree_at(x->dirfd, rel);
    if (fstatat(x->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return extract_entry_sys(x, EACCES, raw, "the whiteout's target could not be removed");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes from the real directory rel what this layer did not write. */
static int opaque_clean(struct xctx *x, const char *raw, const char *rel)
{
    int fd = openat(x->dirfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    if (!d) {
        if (fd >= 0)
            close(fd);
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return extract_entry_sys(x, errno, raw, "reading the directory to make opaque");
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
        else if (kind_is_dir(k) && fstatat(x->dirfd, child, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISDIR(st.st_mode))
            rc = opaque_clean(x, raw, child);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int extract_whiteout(struct xctx *x, const char *raw, const char *rel, const char *base)
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
        return extract_refuse(x, IP_E_INPUT, raw, "whiteout that names nothing");
    if ((rc = real_dirs(x, raw, parent)) <= 0)
        return rc;
    target = *parent ? ip_path_join(parent, name) : ip_xstrdup(name);
    enum kind k = seen_get(&x->seen, target);
    if (k == K_NONE)
        return remove_path(x, raw, target);
    /* Written by this same layer: only what the earlier layers left below it goes. */
    if (kind_is_dir(k) && fstatat(x->dirfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode))
        return opaque_clean(x, raw, target);
    return 0;
}

/* A directory left by an earlier layer where this layer puts a file or a
 * symlink goes with all it holds, as a whiteout would (libarchive only removes
 * empty ones).  Nothing is removed through a symlink: libarchive refuses such
 * an entry anyway. */
int extract_replace_dir(struct xctx *x, const char *raw, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    cleanup_free char *parent = ip_xstrndup(rel, slash ? (size_t)(slash - rel) : 0);
    struct stat st;
    if (path_state(x->dirfd, parent) != 1)
        return 0;
    if (fstatat(x->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    return remove_path(x, raw, rel);
}
