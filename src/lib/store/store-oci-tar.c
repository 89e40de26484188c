/* store-oci-tar.c - an OCI image layout as one uncompressed tar stream
 * (skopeo's oci-archive), read with random access and written in one pass.
 *
 * Writing: the tarball goes to a temporary file beside the destination and is
 * renamed into place on commit.  begin() writes oci-layout, index.json and a
 * Docker manifest.json first, so readers that stream the file find the index
 * before the blobs; blobs then stream straight into the tar.
 *
 * Reading: one pass over the headers records where each entry starts; a blob is
 * then read by starting libarchive at that entry's header (tar-index.c). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "imgpkg/store.h"
#include "store/layout.h"
#include "store/tar-index.h"
#include "oci/oci-private.h"
#include "store/store-private.h"
#include "util/util-private.h"
#include "util/banned.h"

struct tar_store {
    struct ip_store base;
    char *path;
    /* reading */
    struct ip_tar_index tar;
    struct ip_index_doc index;
    /* writing */
    char *tmp_path;
    int fd;
    struct ip_seq_writer out;
    struct archive *aw;
    int64_t mtime;
    char **written; /* digests already in the tarball */
    size_t n_written, cap_written;
    bool begun;
    bool prefix_written; /* oci-layout and blobs/ went out ahead of a streamed blob */
    bool streaming;      /* a blob is being written straight into the file */
    bool failed;
    bool aborted; /* nothing more reaches the file (libarchive would pad an unfinished entry) */
};

/* ---------- reading ---------- */

static int read_member_bytes(struct tar_store *ts, const char *name, size_t max, struct ip_buf *out,
                             struct ip_err *err)
{
    const struct ip_tar_member *m = ip_tar_index_find(&ts->tar, name);
    if (!m)
        return ip_err_set(err, IP_E_FORMAT, "'%s' is not an OCI image layout tarball: no %s",
                          ts->path, name);
    return ip_tar_index_read(&ts->tar, m, max, out, err);
}

static int tar_list(struct ip_store *s, struct ip_desc **out, size_t *n, struct ip_err *err)
{
    return ip_layout_list(&((struct tar_store *)s)->index, out, n);
}

static int tar_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                         struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    char name[128];
    if (ip_digest_check(d->digest, err) < 0)
        return -IP_E_FORMAT;
    snprintf(name, sizeof(name), "blobs/sha256/%s", ip_digest_hex(d->digest));
    const struct ip_tar_member *m = ip_tar_index_find(&ts->tar, name);
    if (!m && ip_media_type_is_foreign(d->media_type))
        return ip_err_set(err, IP_E_NOTFOUND, "file %s not found in tar " IP_HINT_NONDISTRIBUTABLE,
                          name);
    if (!m)
        return ip_err_set(err, IP_E_NOTFOUND, "blob %s is missing from %s", d->digest, ts->path);
    return ip_tar_index_open(&ts->tar, m, out, err);
}

static int tar_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    if (ts->aw) {
        *out = false;
        for (size_t i = 0; i < ts->n_written; i++)
            if (!strcmp(ts->written[i], d->digest))
                *out = true;
        return 0;
    }
    char name[128];
    snprintf(name, sizeof(name), "blobs/sha256/%s", ip_digest_hex(d->digest));
    const struct ip_tar_member *m = ip_tar_index_find(&ts->tar, name);
    *out = m && m->size == d->size;
    return 0;
}

static int tar_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                            struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    const struct ip_desc *d;
    int rc = ip_layout_resolve(&ts->index, ref, ts->path, &d, err);
    if (rc < 0 && ref && ip_digest_valid(ref)) {
        char name[128];
        snprintf(name, sizeof(name), "blobs/sha256/%s", ip_digest_hex(ref));
        const struct ip_tar_member *m = ip_tar_index_find(&ts->tar, name);
        if (!m)
            return rc;
        struct ip_desc tmp;
        memset(&tmp, 0, sizeof(tmp));
        memcpy(tmp.digest, ref, IP_DIGEST_SIZE);
        tmp.size = m->size;
        return ip_layout_read_manifest(s, &tmp, out, err);
    }
    if (rc < 0)
        return rc;
    return ip_layout_read_manifest(s, d, out, err);
}

/* ---------- writing ---------- */

static int aw_fail(struct tar_store *ts, struct ip_err *err, const char *what)
{
    int e = archive_errno(ts->aw);
    ts->failed = true;
    ts->aborted = true;
    if (e > 0 && e != ECANCELED)
        return ip_err_sys(err, e, "writing '%s' (%s)", ts->path, what);
    return ip_err_set(err, IP_E_IO, "writing '%s': %s: %s", ts->path, what,
                      archive_error_string(ts->aw) ? archive_error_string(ts->aw) : "error");
}

static void fill_entry(struct archive_entry *ae, const char *name, bool dir, int64_t size,
                       int64_t mtime)
{
    archive_entry_set_pathname(ae, name);
    archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(ae, dir ? 0755 : 0644);
    archive_entry_set_size(ae, dir ? 0 : size);
    archive_entry_set_mtime(ae, (time_t)mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
}

static int write_header(struct tar_store *ts, const char *name, bool dir, int64_t size,
                        struct ip_err *err)
{
    struct archive_entry *ae = archive_entry_new();
    int r;
    fill_entry(ae, name, dir, size, ts->mtime);
    r = archive_write_header(ts->aw, ae);
    archive_entry_free(ae);
    if (r != ARCHIVE_OK)
        return aw_fail(ts, err, name);
    return 0;
}

static int write_bytes(struct tar_store *ts, const char *name, const void *p, size_t n,
                       struct ip_err *err)
{
    int rc = write_header(ts, name, false, (int64_t)n, err);
    if (rc < 0)
        return rc;
    if (n && archive_write_data(ts->aw, p, n) != (la_ssize_t)n)
        return aw_fail(ts, err, name);
    return 0;
}

static void gen_docker_manifest(const struct ip_store_entry *e, size_t n, struct ip_buf *out)
{
    yajl_gen g = ip_json_gen_new();
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        const struct ip_manifest *m = e[i].manifest;
        char path[128];
        if (!m || m->is_index)
            continue;
        yajl_gen_map_open(g);
        snprintf(path, sizeof(path), "blobs/sha256/%s", ip_digest_hex(m->config.digest));
        ip_json_kv(g, "Config", path);
        ip_json_str(g, "RepoTags");
        yajl_gen_array_open(g);
        if (e[i].repo_tag)
            ip_json_str(g, e[i].repo_tag);
        yajl_gen_array_close(g);
        ip_json_str(g, "Layers");
        yajl_gen_array_open(g);
        for (size_t j = 0; j < m->n_layers; j++) {
            snprintf(path, sizeof(path), "blobs/sha256/%s", ip_digest_hex(m->layers[j].digest));
            ip_json_str(g, path);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    ip_json_gen_finish(g, out);
}

static int tar_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n,
                     struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    struct ip_index_doc doc;
    struct ip_buf index = IP_BUF_INIT, docker = IP_BUF_INIT;
    bool any_image = false;
    int rc;

    memset(&doc, 0, sizeof(doc));
    for (size_t i = 0; i < n; i++) {
        ip_index_doc_add(&doc, &e[i].desc);
        if (e[i].manifest && !e[i].manifest->is_index)
            any_image = true;
    }
    ip_index_doc_gen(&doc, &index);
    ip_index_doc_release(&doc);
    rc = ts->prefix_written ? 0
                            : write_bytes(ts, "oci-layout", IP_OCI_LAYOUT_CONTENT,
                                          strlen(IP_OCI_LAYOUT_CONTENT), err);
    if (rc == 0)
        rc = write_bytes(ts, "index.json", index.data, index.len, err);
    if (rc == 0 && any_image) {
        gen_docker_manifest(e, n, &docker);
        rc = write_bytes(ts, "manifest.json", docker.data, docker.len, err);
    }
    if (rc == 0 && !ts->prefix_written)
        rc = write_header(ts, "blobs/", true, 0, err);
    if (rc == 0 && !ts->prefix_written)
        rc = write_header(ts, "blobs/sha256/", true, 0, err);
    ip_buf_release(&index);
    ip_buf_release(&docker);
    if (rc == 0)
        ts->begun = true;
    return rc;
}

static void mark_written(struct tar_store *ts, const char *digest)
{
    IP_GROW(ts->written, ts->cap_written, ts->n_written + 1);
    ts->written[ts->n_written++] = ip_xstrdup(digest);
}

static int tar_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                        struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    char name[128];
    cleanup_free char *buf = NULL;
    ssize_t k;
    int rc;

    if (!ts->begun)
        return ip_err_set(err, IP_E_IO, "writing '%s': blob before index", ts->path);
    for (size_t i = 0; i < ts->n_written; i++)
        if (!strcmp(ts->written[i], d->digest))
            return 0;
    snprintf(name, sizeof(name), "blobs/sha256/%s", ip_digest_hex(d->digest));
    if ((rc = write_header(ts, name, false, d->size, err)) < 0)
        return rc;
    buf = ip_xmalloc(1 << 20);
    while ((k = ip_reader_read(r, buf, 1 << 20, err)) > 0) {
        ip_crashpoint();
        if (archive_write_data(ts->aw, buf, (size_t)k) != k)
            return aw_fail(ts, err, name);
    }
    if (k < 0) {
        /* the entry cannot be completed: the tarball is given up at once */
        ts->failed = true;
        ts->aborted = true;
        return (int)k;
    }
    mark_written(ts, d->digest);
    return 0;
}

static int tar_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err)
{
    struct ip_desc d;
    memset(&d, 0, sizeof(d));
    memcpy(d.digest, m->digest, IP_DIGEST_SIZE);
    d.size = (int64_t)m->raw_len;
    struct ip_reader *r = ip_reader_mem(m->raw, m->raw_len);
    int rc = tar_put_blob(s, &d, r, err);
    ip_reader_free(r);
    return rc;
}

static const struct ip_store_ops tar_write_ops;

/* ---------- a blob streamed straight into the file ----------
 *
 * A layer built for a new tarball is written into it as it is made, instead of
 * to a temporary file that is then copied: the members that do not depend on
 * it (oci-layout, blobs/, blobs/sha256/) go first, then 512 bytes kept for its
 * header, then the blob; once its digest and size are known the header is
 * written into the gap, and index.json, manifest.json and the other blobs
 * follow as usual.  The headers are libarchive's, made in memory. */

struct mem_out {
    unsigned char *buf;
    size_t cap, *used;
    bool done; /* what is wanted is in: padding and end-of-archive blocks refused */
};

static la_ssize_t mem_out_cb(struct archive *a, void *p, const void *data, size_t n)
{
    struct mem_out *m = p;
    if (m->done) {
        archive_set_error(a, ECANCELED, "only the headers are wanted");
        return -1;
    }
    if (n > m->cap - *m->used) {
        archive_set_error(a, ENOSPC, "headers larger than expected");
        return -1;
    }
    memcpy(m->buf + *m->used, data, n);
    *m->used += n;
    return (la_ssize_t)n;
}

/* The members' bytes as libarchive writes them (unblocked, no end-of-archive
 * blocks): a member with size > 0 and no data gives its header alone.  The
 * writer is closed, not failed (after archive_write_fail, libarchive 3.6
 * leaks its output state), and what close would add is refused. */
static int members_bytes(struct tar_store *ts, const char *const *names, const bool *dirs,
                         const int64_t *sizes, const char *const *data, size_t n,
                         unsigned char *buf, size_t cap, size_t *used, struct ip_err *err)
{
    struct archive *a = archive_write_new();
    struct archive_entry *ae = archive_entry_new();
    int rc = 0;
    /* ustar: one 512-byte header whatever the size (base-256 beyond 8 GiB) */
    archive_write_set_format_ustar(a);
    archive_write_set_bytes_per_block(a, 0);
    struct mem_out mo = {buf, cap, used, false};
    *used = 0;
    if (archive_write_open2(a, &mo, NULL, mem_out_cb, NULL, NULL) != ARCHIVE_OK)
        rc = ip_err_set(err, IP_E_IO, "writing '%s': %s", ts->path, archive_error_string(a));
    for (size_t i = 0; i < n && rc == 0; i++) {
        archive_entry_clear(ae);
        fill_entry(ae, names[i], dirs[i], sizes[i], ts->mtime);
        if (archive_write_header(a, ae) != ARCHIVE_OK ||
            (data[i] && archive_write_data(a, data[i], (size_t)sizes[i]) != sizes[i]))
            rc = ip_err_set(err, IP_E_IO, "writing '%s': %s: %s", ts->path, names[i],
                            archive_error_string(a) ? archive_error_string(a) : "error");
    }
    archive_entry_free(ae);
    mo.done = true;
    archive_write_close(a); /* fails, as meant: nothing more is taken */
    archive_write_free(a);
    return rc;
}

int ip_store_oci_tar_stream_begin(struct ip_store *s, int *fd, struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    static const char *const names[] = {"oci-layout", "blobs/", "blobs/sha256/"};
    static const bool dirs[] = {false, true, true};
    const int64_t sizes[] = {(int64_t)strlen(IP_OCI_LAYOUT_CONTENT), 0, 0};
    const char *const data[] = {IP_OCI_LAYOUT_CONTENT, NULL, NULL};
    unsigned char buf[4096];
    size_t used = 0;
    int rc;

    if (s->ops != &tar_write_ops || ts->begun || ts->prefix_written || ts->out.written)
        return ip_err_set(err, IP_E_IO, "writing '%s': a blob can only start a new tarball",
                          ts->path);
    if ((rc = members_bytes(ts, names, dirs, sizes, data, 3, buf, sizeof(buf), &used, err)) < 0)
        return rc;
    memset(buf + used, 0, 512); /* the streamed blob's header, filled in at the end */
    ts->failed = true;          /* until the blob is complete */
    if ((rc = ip_seq_write(&ts->out, buf, used + 512, err)) < 0)
        return ip_err_wrap(err, "writing '%s'", ts->path);
    ts->prefix_written = true;
    ts->streaming = true;
    *fd = ts->fd;
    return 0;
}

int ip_store_oci_tar_stream_end(struct ip_store *s, const struct ip_desc *d, struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    static const unsigned char zeros[512];
    char name[128];
    unsigned char hdr[1024];
    size_t used = 0, pad = (size_t)((512 - d->size % 512) % 512);
    int rc;

    if (!ts->streaming)
        return ip_err_set(err, IP_E_IO, "writing '%s': no blob was started", ts->path);
    ts->streaming = false;
    snprintf(name, sizeof(name), "blobs/sha256/%s", ip_digest_hex(d->digest));
    const char *names[] = {name};
    const bool dirs[] = {false};
    const int64_t sizes[] = {d->size};
    const char *data[] = {NULL};
    if ((rc = members_bytes(ts, names, dirs, sizes, data, 1, hdr, sizeof(hdr), &used, err)) < 0)
        return rc;
    if (used != 512)
        return ip_err_set(err, IP_E_IO, "writing '%s': a header of %zu bytes for %s", ts->path,
                          used, name);
    /* the blob started right after the header kept for it */
    int64_t at = ts->out.written - 512;
    ts->out.written += d->size;
    ts->out.flushed = ts->out.written; /* the blob's writer started its writeback */
    if (pad && (rc = ip_seq_write(&ts->out, zeros, pad, err)) < 0)
        return ip_err_wrap(err, "writing '%s'", ts->path);
    if (pwrite(ts->fd, hdr, 512, at) != 512)
        return ip_err_sys(err, errno, "writing '%s'", ts->path);
    mark_written(ts, d->digest);
    ts->failed = false;
    return 0;
}

static int tar_commit(struct ip_store *s, struct ip_err *err)
{
    struct tar_store *ts = (struct tar_store *)s;
    int rc;
    if (ts->failed)
        return ip_err_set(err, IP_E_IO, "writing '%s': earlier error", ts->path);
    if (!ts->begun && (rc = tar_begin(s, NULL, 0, err)) < 0)
        return rc;
    if (archive_write_close(ts->aw) != ARCHIVE_OK)
        return aw_fail(ts, err, "closing");
    archive_write_free(ts->aw);
    ts->aw = NULL;
    if (fsync(ts->fd) < 0)
        return ip_err_sys(err, errno, "writing '%s'", ts->path);
    ip_crashpoint();
    /* renamed while the temporary file is still locked (open) */
    if (rename(ts->tmp_path, ts->path) < 0)
        return ip_err_sys(err, errno, "writing '%s'", ts->path);
    close(ts->fd);
    ts->fd = -1;
    free(ts->tmp_path);
    ts->tmp_path = NULL;
    cleanup_free char *dir = ip_dirname(ts->path);
    return ip_fsync_dir(dir, err);
}

static void tar_free(struct ip_store *s)
{
    struct tar_store *ts = (struct tar_store *)s;
    if (ts->aw) {
        /* not committed: freeing the writer would finish the open entry with
         * zeros up to its declared size; nothing more is written */
        ts->aborted = true;
        archive_write_free(ts->aw);
    }
    if (ts->fd >= 0)
        close(ts->fd);
    if (ts->tmp_path) {
        unlink(ts->tmp_path);
        free(ts->tmp_path);
    }
    ip_tar_index_release(&ts->tar);
    for (size_t i = 0; i < ts->n_written; i++)
        free(ts->written[i]);
    free(ts->written);
    ip_index_doc_release(&ts->index);
    free(ts->path);
    free(ts->base.location);
    free(ts);
}

static const struct ip_store_ops tar_read_ops = {
    .scheme = "oci-tar",
    .list = tar_list,
    .get_manifest = tar_get_manifest,
    .open_blob = tar_open_blob,
    .has_blob = tar_has_blob,
    .free = tar_free,
};

static const struct ip_store_ops tar_write_ops = {
    .scheme = "oci-tar",
    .has_blob = tar_has_blob,
    .begin = tar_begin,
    .put_blob = tar_put_blob,
    .put_manifest = tar_put_manifest,
    .commit = tar_commit,
    .free = tar_free,
};

static la_ssize_t tar_out_cb(struct archive *a, void *ud, const void *p, size_t n)
{
    struct tar_store *ts = ud;
    struct ip_err e;
    if (ts->aborted) {
        archive_set_error(a, ECANCELED, "the tarball was given up");
        return -1;
    }
    if (ip_seq_write(&ts->out, p, n, &e) < 0) {
        archive_set_error(a, e.sys_errno ? e.sys_errno : EIO, "%s",
                          e.sys_errno ? strerror(e.sys_errno) : e.msg);
        return -1;
    }
    return (la_ssize_t)n;
}

static struct tar_store *tar_new(const char *path, const struct ip_store_ops *ops)
{
    struct tar_store *ts = ip_xcalloc(1, sizeof(*ts));
    ts->base.ops = ops;
    ts->base.location = ip_xstrdup(path);
    ts->path = ip_xstrdup(path);
    ts->fd = -1;
    return ts;
}

int ip_store_oci_tar_open(const char *path, struct ip_store **out, struct ip_err *err)
{
    struct tar_store *ts = tar_new(path, &tar_read_ops);
    ts->base.parallel_read = true;
    struct ip_buf b = IP_BUF_INIT;
    struct stat st;
    int rc;

    if (stat(path, &st) < 0) {
        rc = ip_err_sys(err, errno, "opening tarball '%s'", path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ip_err_set(err, IP_E_INPUT, "'%s' is not a regular file", path);
        goto fail;
    }
    if ((rc = ip_tar_index_scan(&ts->tar, path, err)) < 0)
        goto fail;
    if ((rc = read_member_bytes(ts, "oci-layout", 4096, &b, err)) < 0)
        goto fail;
    if ((rc = ip_layout_check_oci_layout(b.data ? b.data : "", b.len, path, err)) < 0)
        goto fail;
    ip_buf_reset(&b);
    if ((rc = read_member_bytes(ts, "index.json", IP_MAX_JSON, &b, err)) < 0)
        goto fail;
    if ((rc = ip_index_doc_parse(b.data ? b.data : "", b.len, &ts->index, err)) < 0) {
        ip_err_wrap(err, "'%s'", path);
        goto fail;
    }
    ip_buf_release(&b);
    *out = &ts->base;
    return 0;
fail:
    ip_buf_release(&b);
    tar_free(&ts->base);
    return rc;
}

int ip_store_oci_tar_create(const char *path, struct ip_store **out, struct ip_err *err)
{
    struct tar_store *ts;
    struct stat st;
    cleanup_free char *dir = ip_dirname(path);
    cleanup_free char *base = ip_basename(path);

    if ((stat(path, &st) == 0 && S_ISDIR(st.st_mode)) || (*path && path[strlen(path) - 1] == '/'))
        return ip_err_set(err, IP_E_EXISTS, "'%s' is a directory, expected a tarball path", path);
    ts = tar_new(path, &tar_write_ops);
    ip_cleanup_stale_temps(dir, base);
    ts->fd = ip_mkstemp_in(dir, base, &ts->tmp_path, err);
    if (ts->fd < 0) {
        int rc = ts->fd;
        ts->fd = -1;
        tar_free(&ts->base);
        return rc;
    }
    ts->mtime = ip_source_date_epoch();
    ts->aw = archive_write_new();
    archive_write_set_format_pax_restricted(ts->aw);
    /* large blocks, few writes; the last block is not padded, so the bytes do
     * not depend on the block size */
    archive_write_set_bytes_per_block(ts->aw, 1 << 20);
    archive_write_set_bytes_in_last_block(ts->aw, 1);
    ip_seq_writer_init(&ts->out, ts->fd);
    if (archive_write_open2(ts->aw, ts, NULL, tar_out_cb, NULL, NULL) != ARCHIVE_OK) {
        int rc = ip_err_set(err, IP_E_IO, "writing '%s': %s", path, archive_error_string(ts->aw));
        tar_free(&ts->base);
        return rc;
    }
    *out = &ts->base;
    return 0;
}
