/* store-oci-dir.c - an OCI image layout directory (oci-layout, index.json,
 * blobs/sha256/<hex>).
 *
 * Writes are atomic: each blob goes to a temporary name in blobs/sha256/ and is
 * renamed into place once its digest is verified; index.json is replaced last.
 * A layout that does not exist yet (or an empty directory) is built in a
 * temporary sibling directory and renamed into place on commit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "imgpkg/store.h"
#include "store/layout.h"
#include "oci/oci-private.h"
#include "store/store-private.h"
#include "util/util-private.h"
#include "util/banned.h"

struct dir_store {
    struct ip_store base;
    char *dir;  /* where the layout is (or will be) */
    char *work; /* where we write: dir itself, or a temporary sibling */
    bool writable;
    bool fresh; /* work is a temporary directory renamed onto dir at commit */
    bool committed;
    int lock_fd; /* holds the lock of a temporary layout directory */
    struct ip_index_doc index;
    struct ip_desc *pending; /* entries declared by begin */
    size_t n_pending;
};

static bool dir_is_empty(const char *path);
static int load_layout(struct dir_store *ds, struct ip_err *err);

static char *blob_path(const char *root, const char *digest)
{
    return ip_xasprintf("%s/blobs/sha256/%s", root, ip_digest_hex(digest));
}

static int dir_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err)
{
    return ip_layout_list(&((struct dir_store *)s)->index, out, n);
}

static int dir_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                         struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    cleanup_free char *p = NULL;
    if (ip_digest_check(d->digest, err) < 0)
        return -IP_E_FORMAT;
    p = blob_path(ds->work, d->digest);
    if (ip_reader_file(p, out, err) < 0) {
        if (err->sys_errno == ENOENT && ip_media_type_is_foreign(d->media_type))
            return ip_err_set(err, IP_E_NOTFOUND,
                              "file blobs/sha256/%s not found in %s " IP_HINT_NONDISTRIBUTABLE,
                              ip_digest_hex(d->digest), ds->dir);
        if (err->sys_errno == ENOENT)
            return ip_err_set(err, IP_E_NOTFOUND, "blob %s is missing from %s", d->digest, ds->dir);
        return -err->code;
    }
    return 0;
}

static int dir_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                            struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    const struct ip_desc *d;
    struct ip_desc tmp;
    int rc = ip_layout_resolve(&ds->index, ref, ds->dir, &d, err);
    if (rc < 0 && ref && !strncmp(ref, "sha256:", 7) && ip_digest_valid(ref)) {
        /* a child manifest: not in index.json, but in blobs/ */
        struct stat st;
        cleanup_free char *p = blob_path(ds->work, ref);
        if (stat(p, &st) < 0)
            return rc;
        memset(&tmp, 0, sizeof(tmp));
        memcpy(tmp.digest, ref, IP_DIGEST_SIZE);
        tmp.size = st.st_size;
        return ip_layout_read_manifest(s, &tmp, out, err);
    }
    if (rc < 0)
        return rc;
    return ip_layout_read_manifest(s, d, out, err);
}

static int dir_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    struct stat st;
    cleanup_free char *p = blob_path(ds->work, d->digest);
    *out = lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == d->size;
    return 0;
}

static int dir_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n,
                     struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    ds->pending = ip_xcalloc(n, sizeof(*ds->pending));
    for (size_t i = 0; i < n; i++)
        ip_desc_copy(&ds->pending[i], &e[i].desc);
    ds->n_pending = n;
    return 0;
}

/* Streams r into blobs/sha256/<hex> through a temporary file.  The reader is the
 * caller's (the copy engine hands a verifying one): only when it has reached its
 * end without error is the blob renamed into place. */
static int dir_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                        struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    cleanup_free char *dir = ip_xasprintf("%s/blobs/sha256", ds->work);
    cleanup_free char *final = blob_path(ds->work, d->digest);
    cleanup_free char *tmp = NULL;
    cleanup_free char *buf = ip_xmalloc(1 << 20);
    struct ip_reader *v = r;
    int rc, fd;
    ssize_t k;

    fd = ip_mkstemp_in(dir, ip_digest_hex(d->digest), &tmp, err);
    if (fd < 0)
        return fd;
    struct ip_seq_writer w;
    ip_seq_writer_init(&w, fd);
    while ((k = ip_reader_read(v, buf, 1 << 20, err)) > 0) {
        ip_crashpoint();
        if ((rc = ip_seq_write(&w, buf, (size_t)k, err)) < 0) {
            ip_err_wrap(err, "writing blob %s into %s", d->digest, ds->dir);
            goto out;
        }
    }
    if (k < 0) {
        rc = (int)k;
        goto out;
    }
    if (fsync(fd) < 0) {
        rc = ip_err_sys(err, errno, "writing blob %s into %s", d->digest, ds->dir);
        goto out;
    }
    ip_crashpoint();
    if (rename(tmp, final) < 0) {
        rc = ip_err_sys(err, errno, "writing blob %s into %s", d->digest, ds->dir);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        unlink(tmp);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Takes over a file the tool wrote itself (a layer it built): renamed into
 * place when it is on the same file system, else copied. */
static int dir_adopt_blob_file(struct ip_store *s, const struct ip_desc *d, const char *path,
                               struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    cleanup_free char *final = blob_path(ds->work, d->digest);
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != d->size)
        return ip_err_set(err, IP_E_IO, "blob %s: '%s' is not what was built", d->digest, path);
    /* durable before it gets its final name */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ip_err_sys(err, e, "syncing blob %s", d->digest);
    }
    close(fd);
    ip_crashpoint();
    if (rename(path, final) == 0) {
        ip_crashpoint();
        return 0;
    }
    if (errno != EXDEV)
        return ip_err_sys(err, errno, "moving blob %s into %s", d->digest, ds->dir);
    struct ip_reader *r = NULL;
    int rc = ip_reader_file(path, &r, err);
    if (rc < 0)
        return rc;
    struct ip_reader *v = ip_reader_verify(r, d->digest, d->size, d->digest);
    rc = dir_put_blob(s, d, v, err);
    ip_reader_free(v);
    return rc;
}

static int dir_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err)
{
    struct ip_desc d;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, m->digest, IP_DIGEST_SIZE);
    d.size = (int64_t)m->raw_len;
    struct ip_reader *r = ip_reader_mem(m->raw, m->raw_len);
    int rc = dir_put_blob(s, &d, r, err);
    ip_reader_free(r);
    return rc;
}

/* Moves the blobs of the temporary layout into the existing one at ds->dir
 * (same file system; a blob already there has the same bytes). */
static int move_blobs(struct dir_store *ds, struct ip_err *err)
{
    cleanup_free char *from = ip_xasprintf("%s/blobs/sha256", ds->work);
    cleanup_free char *to = ip_xasprintf("%s/blobs/sha256", ds->dir);
    DIR *d;
    struct dirent *de;
    int rc = 0;
    if ((rc = ip_mkdirs(to, err)) < 0)
        return rc;
    if (!(d = opendir(from)))
        return ip_err_sys(err, errno, "reading '%s'", from);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        cleanup_free char *digest = ip_xasprintf("sha256:%s", de->d_name);
        if (de->d_name[0] == '.' || !ip_digest_valid(digest))
            continue;
        cleanup_free char *a = ip_path_join(from, de->d_name);
        cleanup_free char *b = ip_path_join(to, de->d_name);
        ip_crashpoint();
        if (rename(a, b) < 0)
            rc = ip_err_sys(err, errno, "moving blob sha256:%s into %s", de->d_name, ds->dir);
    }
    closedir(d);
    if (rc == 0)
        rc = ip_fsync_dir(to, err);
    return rc;
}

/* Writes index.json: the one on disk, read again under the layout's lock, with
 * this run's entries added, so concurrent writers of one layout each keep
 * their tags. */
static int merge_index(struct dir_store *ds, const char *root, bool reread, struct ip_err *err)
{
    struct ip_buf out = IP_BUF_INIT;
    cleanup_free char *index_path = ip_path_join(root, "index.json");
    int rc;
    if (reread) {
        char *saved = ds->dir;
        ip_index_doc_release(&ds->index);
        memset(&ds->index, 0, sizeof(ds->index));
        ds->dir = (char *)root;
        rc = load_layout(ds, err);
        ds->dir = saved;
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < ds->n_pending; i++)
        ip_index_doc_add(&ds->index, &ds->pending[i]);
    ip_index_doc_gen(&ds->index, &out);
    rc = ip_write_file_atomic(index_path, out.data, out.len, 0666, err);
    if (rc == 0)
        rc = ip_fsync_dir(root, err);
    ip_buf_release(&out);
    return rc;
}

static int dir_commit(struct ip_store *s, struct ip_err *err)
{
    struct dir_store *ds = (struct dir_store *)s;
    cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", ds->work);
    cleanup_close int lock = -1;
    cleanup_close int parent_lock = -1;
    int rc;

    if ((rc = ip_fsync_dir(blobs, err)) < 0)
        return rc;
    if (!ds->fresh) {
        if ((lock = ip_lock_dir(ds->dir, err)) < 0)
            return lock;
        if ((rc = merge_index(ds, ds->dir, true, err)) < 0)
            return rc;
        ds->committed = true;
        return 0;
    }
    /* A new layout: renamed into place, unless another run made it meanwhile
     * (both are decided under the lock of the parent directory). */
    cleanup_free char *parent = ip_dirname(ds->dir);
    if ((parent_lock = ip_lock_dir(parent, err)) < 0)
        return parent_lock;
    struct stat st;
    if (stat(ds->dir, &st) < 0 || (S_ISDIR(st.st_mode) && dir_is_empty(ds->dir))) {
        if ((rc = merge_index(ds, ds->work, false, err)) < 0)
            return rc;
        ip_crashpoint();
        if (rename(ds->work, ds->dir) < 0)
            return ip_err_sys(err, errno, "moving the new layout into place at '%s'", ds->dir);
        ip_fsync_dir(parent, err);
        free(ds->work);
        ds->work = ip_xstrdup(ds->dir);
    } else {
        if (!S_ISDIR(st.st_mode))
            return ip_err_set(err, IP_E_EXISTS, "'%s' exists and is not a directory", ds->dir);
        if ((lock = ip_lock_dir(ds->dir, err)) < 0)
            return lock;
        if ((rc = move_blobs(ds, err)) < 0 || (rc = merge_index(ds, ds->dir, true, err)) < 0)
            return rc;
        ip_remove_tree(ds->work);
        free(ds->work);
        ds->work = ip_xstrdup(ds->dir);
    }
    ds->fresh = false;
    ds->committed = true;
    if (ds->lock_fd >= 0) {
        close(ds->lock_fd);
        ds->lock_fd = -1;
    }
    return 0;
}

static void dir_free(struct ip_store *s)
{
    struct dir_store *ds = (struct dir_store *)s;
    if (ds->fresh && ds->work)
        ip_remove_tree(ds->work);
    if (ds->lock_fd >= 0)
        close(ds->lock_fd);
    ip_index_doc_release(&ds->index);
    ip_descs_free(ds->pending, ds->n_pending);
    free(ds->dir);
    free(ds->work);
    free(ds->base.location);
    free(ds);
}

static const struct ip_store_ops dir_ops = {
    .scheme = "oci-layout",
    .list = dir_list,
    .get_manifest = dir_get_manifest,
    .open_blob = dir_open_blob,
    .has_blob = dir_has_blob,
    .begin = dir_begin,
    .put_blob = dir_put_blob,
    .put_manifest = dir_put_manifest,
    .commit = dir_commit,
    .adopt_blob_file = dir_adopt_blob_file,
    .free = dir_free,
};

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool empty = true;
    if (!d)
        return false;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

/* Loads oci-layout and index.json of an existing layout. */
static int load_layout(struct dir_store *ds, struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    cleanup_free char *lp = ip_path_join(ds->dir, "oci-layout");
    cleanup_free char *ip = ip_path_join(ds->dir, "index.json");
    int rc = ip_read_file(lp, 4096, &b, err);
    if (rc < 0) {
        ip_buf_release(&b);
        if (err->sys_errno == ENOENT)
            return ip_err_set(err, IP_E_FORMAT,
                              "'%s' is not an OCI image layout: no oci-layout file", ds->dir);
        return rc;
    }
    rc = ip_layout_check_oci_layout(b.data ? b.data : "", b.len, ds->dir, err);
    ip_buf_reset(&b);
    if (rc == 0)
        rc = ip_read_file(ip, IP_MAX_JSON, &b, err);
    if (rc == 0)
        rc = ip_index_doc_parse(b.data ? b.data : "", b.len, &ds->index, err);
    ip_buf_release(&b);
    if (rc < 0)
        return ip_err_wrap(err, "'%s' is not a valid OCI image layout", ds->dir);
    return 0;
}

/* What a killed run left in a layout: temporary blobs and index files.  The
 * blob directories are opened without following symlinks: a layout whose
 * blobs/sha256 points elsewhere is not cleaned there. */
static void cleanup_stale_in_layout(const char *dir)
{
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int bfd = -1, sfd = -1;
    if (dfd < 0)
        return;
    ip_cleanup_stale_temps_at(dfd, "index.json");
    ip_cleanup_stale_temps_at(dfd, "oci-layout");
    bfd = openat(dfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd >= 0)
        sfd = openat(bfd, "sha256", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd >= 0)
        ip_cleanup_stale_temps_at(sfd, NULL);
}

int ip_store_oci_dir_open(const char *dir_arg, bool writable, struct ip_store **out,
                          struct ip_err *err)
{
    struct dir_store *ds = ip_xcalloc(1, sizeof(*ds));
    struct stat st;
    int rc;
    size_t len = strlen(dir_arg);

    /* "out/" names the directory "out": the temporary sibling must not land inside it */
    while (len > 1 && dir_arg[len - 1] == '/')
        len--;
    ds->base.ops = &dir_ops;
    ds->lock_fd = -1;
    ds->base.location = ip_xstrdup(dir_arg);
    ds->base.parallel_read = true;
    ds->base.parallel_write = true;
    ds->dir = ip_xstrndup(dir_arg, len);
    ds->writable = writable;
    const char *dir = ds->dir;

    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || !writable) {
            rc = ip_err_sys(err, errno, "opening layout '%s'", dir);
            goto fail;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        rc = ip_err_set(err, IP_E_EXISTS, "'%s' exists and is not a directory", dir);
        goto fail;
    }

    if (writable && (errno = 0, stat(dir, &st) < 0 || dir_is_empty(dir))) {
        /* new layout: build it beside the destination, rename at commit */
        cleanup_free char *parent = ip_dirname(dir);
        cleanup_free char *base = ip_basename(dir);
        char *tmpl = NULL;
        ip_cleanup_stale_temps(parent, base);
        ds->lock_fd = ip_mkdtemp_in(parent, base, &tmpl, err);
        if (ds->lock_fd < 0) {
            rc = ip_err_wrap(err, "creating layout '%s'", dir);
            goto fail;
        }
        ds->work = tmpl;
        ds->fresh = true;
        cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", tmpl);
        cleanup_free char *lp = ip_path_join(tmpl, "oci-layout");
        if ((rc = ip_mkdirs(blobs, err)) < 0)
            goto fail;
        if ((rc = ip_write_file_atomic(lp, IP_OCI_LAYOUT_CONTENT, strlen(IP_OCI_LAYOUT_CONTENT),
                                       0666, err)) < 0)
            goto fail;
        *out = &ds->base;
        return 0;
    }
    ds->work = ip_xstrdup(dir);
    if ((rc = load_layout(ds, err)) < 0)
        goto fail;
    if (writable) {
        cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", dir);
        if ((rc = ip_mkdirs(blobs, err)) < 0)
            goto fail;
        cleanup_stale_in_layout(dir);
        {
            /* and the temporary layout a killed run was building beside it */
            cleanup_free char *parent = ip_dirname(dir);
            cleanup_free char *base = ip_basename(dir);
            ip_cleanup_stale_temps(parent, base);
        }
        if (access(blobs, W_OK) < 0 || access(dir, W_OK) < 0) {
            rc = ip_err_sys(err, errno, "layout '%s' is not writable", dir);
            goto fail;
        }
    }
    *out = &ds->base;
    return 0;
fail:
    dir_free(&ds->base);
    return rc;
}

int ip_store_oci_dir_open_in_place(const char *dir, struct ip_store **out, struct ip_err *err)
{
    cleanup_free char *lp = ip_path_join(dir, "oci-layout");
    cleanup_free char *ip = ip_path_join(dir, "index.json");
    cleanup_free char *blobs = ip_xasprintf("%s/blobs/sha256", dir);
    int rc;
    if ((rc = ip_mkdirs(blobs, err)) < 0)
        return rc;
    if (access(lp, F_OK) < 0 &&
        (rc = ip_write_file_atomic(lp, IP_OCI_LAYOUT_CONTENT, strlen(IP_OCI_LAYOUT_CONTENT), 0666,
                                   err)) < 0)
        return rc;
    if (access(ip, F_OK) < 0) {
        static const char empty[] =
            "{\"schemaVersion\":2,\"mediaType\":\"" IP_MT_OCI_INDEX "\",\"manifests\":[]}";
        if ((rc = ip_write_file_atomic(ip, empty, strlen(empty), 0666, err)) < 0)
            return rc;
    }
    /* an existing (possibly partial) layout: opened for writing in place */
    return ip_store_oci_dir_open(dir, true, out, err);
}
