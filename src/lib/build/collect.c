/* collect.c - the inputs of a build, as imgpkg sees them: a directory gives its
 * contents at the layer root, a file its base name; entries are merged and
 * sorted in walk order; --file-exclusion drops exact relative paths; anything
 * but directories and regular files is refused, never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "build/build-internal.h"
#include "util/banned.h"

struct collector {
    const struct ip_build_opts *opts;
    struct ip_build_entry *e;
    size_t n, cap;
    struct build_imgpkg_dirs *imgpkg;
};

static bool excluded(const struct ip_build_opts *o, const char *rel)
{
    for (size_t i = 0; i < o->n_exclusions; i++)
        if (!strcmp(o->exclusions[i], rel))
            return true;
    return false;
}

static void add(struct collector *c, const char *rel, const char *full, const struct stat *st)
{
    IP_GROW(c->e, c->cap, c->n + 1);
    struct ip_build_entry *e = &c->e[c->n++];
    e->rel = ip_xstrdup(rel);
    e->full = ip_xstrdup(full);
    e->is_dir = S_ISDIR(st->st_mode);
    e->mode = st->st_mode & 07777;
    e->size = e->is_dir ? 0 : st->st_size;
    e->seq = c->n - 1;
}

static int not_regular(const char *full, struct ip_err *err)
{
    return ip_err_set(err, IP_E_INPUT, "Expected file '%s' to be a regular file", full);
}

static int lstat_err(const char *path, struct ip_err *err)
{
    int e = errno;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", strerror(e));
    if (msg[0] >= 'A' && msg[0] <= 'Z')
        msg[0] = (char)(msg[0] - 'A' + 'a');
    ip_err_set(err, e == ENOENT ? IP_E_INPUT : IP_E_IO, "lstat %s: %s", path, msg);
    err->sys_errno = e;
    return -err->code;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct collector *c, const char *full, const char *rel, int depth,
                    struct ip_err *err)
{
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (depth > 256)
        return ip_err_set(err, IP_E_INPUT, "'%s': directories nested too deeply", full);
    d = opendir(full);
    if (!d)
        return ip_err_sys(err, errno, "reading directory '%s'", full);
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        IP_GROW(names, cap, n + 1);
        names[n++] = ip_xstrdup(de->d_name);
    }
    if (errno) {
        rc = ip_err_sys(err, errno, "reading directory '%s'", full);
        goto out;
    }
    if (n > 1) /* an empty directory has names == NULL: qsort must not see it */
        qsort(names, n, sizeof(char *), name_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        cleanup_free char *cfull = ip_path_join(full, names[i]);
        cleanup_free char *crel = rel[0] ? ip_xasprintf("%s/%s", rel, names[i])
                                         : ip_xstrdup(names[i]);
        struct stat st;
        /* relative to the open directory: no path walk per file */
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = lstat_err(cfull, err);
            break;
        }
        if (S_ISDIR(st.st_mode) && !strcmp(names[i], ".imgpkg"))
            build_imgpkg_dirs_add(c->imgpkg, cfull, crel);
        if (excluded(c->opts, crel))
            continue;
        if (S_ISDIR(st.st_mode)) {
            add(c, crel, cfull, &st);
            rc = walk_dir(c, cfull, crel, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            add(c, crel, cfull, &st);
        } else {
            rc = not_regular(cfull, err);
        }
    }
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Walk order: byte order where '/' sorts before every other byte, which is
 * what a depth-first walk of sorted directories produces. */
static int path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x == y) {
            if (!x)
                return 0;
            continue;
        }
        if (!x)
            return -1;
        if (!y)
            return 1;
        if (x == '/')
            return -1;
        if (y == '/')
            return 1;
        return x < y ? -1 : 1;
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const struct ip_build_entry *x = a, *y = b;
    int c = path_cmp(x->rel, y->rel);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void ip_build_entries_free(struct ip_build_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].rel);
        free(e[i].full);
    }
    free(e);
}

int build_collect(const struct ip_build_opts *opts, struct build_imgpkg_dirs *imgpkg,
                  struct ip_build_entry **out, size_t *n_out, struct ip_err *err)
{
    struct collector c = {.opts = opts, .imgpkg = imgpkg};
    int rc = 0;

    if (opts->n_paths == 0)
        return ip_err_set(err, IP_E_USAGE, "Expected at least one input (--file/-f)");
    for (size_t i = 0; i < opts->n_paths && rc == 0; i++) {
        const char *p = opts->paths[i];
        struct stat st;
        if (!*p) {
            rc = ip_err_set(err, IP_E_INPUT, "empty input path");
            break;
        }
        if (lstat(p, &st) < 0) {
            rc = lstat_err(p, err);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            cleanup_free char *base = ip_basename(p);
            if (!strcmp(base, ".imgpkg"))
                build_imgpkg_dirs_add(imgpkg, p, "");
            rc = walk_dir(&c, p, "", 0, err);
        } else if (S_ISREG(st.st_mode)) {
            cleanup_free char *base = ip_basename(p);
            if (!excluded(opts, base))
                add(&c, base, p, &st);
        } else {
            rc = not_regular(p, err);
        }
    }
    if (rc < 0) {
        ip_build_entries_free(c.e, c.n);
        return rc;
    }
    if (c.n > 1)
        qsort(c.e, c.n, sizeof(*c.e), entry_cmp);
    /* merge directories given by several inputs; refuse other duplicates */
    size_t w = 0;
    struct ip_buf dups = IP_BUF_INIT;
    bool prev_dup = false;
    for (size_t r = 0; r < c.n; r++) {
        if (w > 0 && !strcmp(c.e[w - 1].rel, c.e[r].rel)) {
            if (c.e[w - 1].is_dir && c.e[r].is_dir) {
                free(c.e[r].rel);
                free(c.e[r].full);
                continue;
            }
            if (!prev_dup)
                ip_buf_printf(&dups, "%s%s", dups.len ? ", " : "", c.e[r].rel);
            prev_dup = true;
            free(c.e[r].rel);
            free(c.e[r].full);
            continue;
        }
        prev_dup = false;
        c.e[w++] = c.e[r];
    }
    c.n = w;
    if (dups.len) {
        rc = ip_err_set(err, IP_E_INPUT, "Found duplicate paths: %s", dups.data);
        ip_buf_release(&dups);
        ip_build_entries_free(c.e, c.n);
        return rc;
    }
    *out = c.e;
    *n_out = c.n;
    return 0;
}

int ip_build_collect(const struct ip_build_opts *opts, struct ip_build_entry **out, size_t *n,
                     struct ip_err *err)
{
    struct build_imgpkg_dirs dirs = {0};
    int rc = build_collect(opts, &dirs, out, n, err);
    build_imgpkg_dirs_release(&dirs);
    return rc;
}

void build_imgpkg_dirs_add(struct build_imgpkg_dirs *d, const char *full, const char *rel)
{
    IP_GROW(d->full, d->cap, d->n + 1);
    d->rel = ip_xrealloc(d->rel, d->cap * sizeof(char *));
    d->full[d->n] = ip_xstrdup(full);
    d->rel[d->n] = ip_xstrdup(rel);
    d->n++;
}

void build_imgpkg_dirs_release(struct build_imgpkg_dirs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->full[i]);
        free(d->rel[i]);
    }
    free(d->full);
    free(d->rel);
    memset(d, 0, sizeof(*d));
}
