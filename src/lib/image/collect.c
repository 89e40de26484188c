/* collect.c - the inputs of a build, as imgpkg sees them: a directory gives an
 * entry "." and its contents at the layer root, a file its base name; entries
 * come in the order of the inputs, each directory walked depth-first in byte
 * order; a path given twice is refused; --file-exclusion drops exact relative
 * paths; anything but directories and regular files is refused, never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image-internal.h"
#include "util/banned.h"

struct collector {
    const struct ip_build_opts *opts;
    struct ip_build_entry *e;
    size_t n, cap;
    struct image_imgpkg_dirs *imgpkg;
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
        cleanup_free char *crel =
            rel[0] ? ip_xasprintf("%s/%s", rel, names[i]) : ip_xstrdup(names[i]);
        struct stat st;
        /* relative to the open directory: no path walk per file */
        if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = lstat_err(cfull, err);
            break;
        }
        if (S_ISDIR(st.st_mode) && !strcmp(names[i], ".imgpkg"))
            image_imgpkg_dirs_add(c->imgpkg, cfull, crel);
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

void ip_build_entries_free(struct ip_build_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].rel);
        free(e[i].full);
    }
    free(e);
}

static int rel_cmp(const void *a, const void *b)
{
    const struct ip_build_entry *x = *(const struct ip_build_entry *const *)a;
    const struct ip_build_entry *y = *(const struct ip_build_entry *const *)b;
    int c = strcmp(x->rel, y->rel);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* imgpkg refuses any layer path that two inputs give, directories included
 * (every input directory's own "." entry excepted), naming each path on disk. */
static int refuse_duplicates(const struct ip_build_entry *e, size_t n, struct ip_err *err)
{
    const struct ip_build_entry **by_rel = ip_xcalloc(n ? n : 1, sizeof(*by_rel));
    struct ip_buf dups = IP_BUF_INIT;
    size_t k = 0;
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].rel, ".") != 0)
            by_rel[k++] = &e[i];
    if (k > 1)
        qsort(by_rel, k, sizeof(*by_rel), rel_cmp);
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && !strcmp(by_rel[i]->rel, by_rel[j]->rel))
            j++;
        if (j - i > 1)
            for (size_t m = i; m < j; m++)
                ip_buf_printf(&dups, "%s%s", dups.len ? ", " : "", by_rel[m]->full);
        i = j;
    }
    if (dups.len)
        rc = ip_err_set(err, IP_E_INPUT, "Found duplicate paths: %s", dups.data);
    ip_buf_release(&dups);
    free(by_rel);
    return rc;
}

int image_collect(const struct ip_build_opts *opts, struct image_imgpkg_dirs *imgpkg,
                  struct ip_build_entry **out, size_t *n_out, struct ip_err *err)
{
    struct collector c = {.opts = opts, .imgpkg = imgpkg};
    int rc = 0;

    if (opts->n_paths == 0)
        return ip_err_set(err, IP_E_USAGE, "Expected at least one input (--file/-f)");
    /* imgpkg's order: the inputs as given, each directory walked depth-first
     * in byte order behind an entry "." of its own */
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
            if (excluded(opts, "."))
                continue;
            if (!strcmp(base, ".imgpkg"))
                image_imgpkg_dirs_add(imgpkg, p, "");
            add(&c, ".", p, &st);
            rc = walk_dir(&c, p, "", 0, err);
        } else if (S_ISREG(st.st_mode)) {
            cleanup_free char *base = ip_basename(p);
            if (!excluded(opts, base))
                add(&c, base, p, &st);
        } else {
            rc = not_regular(p, err);
        }
    }
    if (rc == 0)
        rc = refuse_duplicates(c.e, c.n, err);
    if (rc < 0) {
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
    struct image_imgpkg_dirs dirs = {0};
    int rc = image_collect(opts, &dirs, out, n, err);
    image_imgpkg_dirs_release(&dirs);
    return rc;
}

void image_imgpkg_dirs_add(struct image_imgpkg_dirs *d, const char *full, const char *rel)
{
    IP_GROW(d->full, d->cap, d->n + 1);
    d->rel = ip_xrealloc(d->rel, d->cap * sizeof(char *));
    d->full[d->n] = ip_xstrdup(full);
    d->rel[d->n] = ip_xstrdup(rel);
    d->n++;
}

void image_imgpkg_dirs_release(struct image_imgpkg_dirs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->full[i]);
        free(d->rel[i]);
    }
    free(d->full);
    free(d->rel);
    memset(d, 0, sizeof(*d));
}
