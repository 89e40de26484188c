/* verify.c - checks a whole store: each descriptor reachable from the index
 * exists with its size and digest, manifests, indexes and configs parse, and
 * each config's diff_ids match its layers uncompressed.  Problems are reported
 * one line each; the walk goes on after a problem so that all are found. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "imgpkg/verify.h"
#include "store/store-private.h"
#include "util/banned.h"

#define MAX_DEPTH 16

struct vctx {
    struct ip_store *s;
    void (*report)(void *, const char *);
    void *rctx;
    struct ip_verify_stats *st;
    char **seen; /* blobs already checked */
    size_t n_seen, cap_seen;
    const char *path[MAX_DEPTH + 1];
    struct ip_kv *layers; /* layer digest -> diff_id ("" when unknown or bad) */
    size_t n_layers, cap_layers;
};

static const char *layer_known(struct vctx *v, const char *digest)
{
    for (size_t i = 0; i < v->n_layers; i++)
        if (!strcmp(v->layers[i].key, digest))
            return v->layers[i].val;
    return NULL;
}

static void layer_remember(struct vctx *v, const char *digest, const char *diff_id)
{
    IP_GROW(v->layers, v->cap_layers, v->n_layers + 1);
    v->layers[v->n_layers].key = ip_xstrdup(digest);
    v->layers[v->n_layers].val = ip_xstrdup(diff_id);
    v->n_layers++;
}

static void problem(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct vctx *v, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    v->st->problems++;
    v->report(v->rctx, line);
}

static bool seen(struct vctx *v, const char *digest)
{
    for (size_t i = 0; i < v->n_seen; i++)
        if (!strcmp(v->seen[i], digest))
            return true;
    IP_GROW(v->seen, v->cap_seen, v->n_seen + 1);
    v->seen[v->n_seen++] = ip_xstrdup(digest);
    return false;
}

/* Reads a blob through the verifier; with `keep` the bytes are returned (small
 * documents), with `diff_id` the gunzipped stream is hashed too. */
static int check_blob(struct vctx *v, const struct ip_desc *d, struct ip_buf *keep, bool gunzip,
                      char diff_id[IP_DIGEST_SIZE], struct ip_err *err)
{
    struct ip_reader *r = NULL;
    cleanup_free char *buf = ip_xmalloc(1 << 20);
    cleanup_free char *zout = gunzip ? ip_xmalloc(1 << 20) : NULL;
    struct ip_sha256 h = {0};
    z_stream z;
    bool zok = true, zend = false;
    ssize_t k;
    int rc;

    if ((rc = ip_store_open_blob(v->s, d, &r, err)) < 0)
        return rc;
    cleanup_free char *what = ip_xasprintf("blob %s", d->digest);
    r = ip_reader_verify(r, d->digest, d->size, what);
    if (gunzip) {
        memset(&z, 0, sizeof(z));
        inflateInit2(&z, 15 + 16);
        ip_sha256_init(&h);
    }
    while ((k = ip_reader_read(r, buf, 1 << 20, err)) > 0) {
        if (keep && (rc = ip_buf_add(keep, buf, (size_t)k, err)) < 0) {
            k = rc;
            ip_err_wrap(err, "%s", what);
            break;
        }
        if (gunzip && zok) {
            z.next_in = (Bytef *)buf;
            z.avail_in = (uInt)k;
            while (z.avail_in > 0 && zok) {
                if (zend) {
                    /* another gzip member follows */
                    inflateReset(&z);
                    zend = false;
                }
                z.next_out = (Bytef *)zout;
                z.avail_out = 1 << 20;
                int zr = inflate(&z, Z_NO_FLUSH);
                if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
                    zok = false;
                ip_sha256_update(&h, zout, (1 << 20) - z.avail_out);
                if (zr == Z_STREAM_END)
                    zend = true;
                if (zr == Z_BUF_ERROR && z.avail_in == 0)
                    break;
            }
        }
    }
    ip_reader_free(r);
    if (gunzip) {
        inflateEnd(&z);
        if (k == 0 && (!zok || !zend)) {
            ip_sha256_release(&h);
            return ip_err_set(err, IP_E_FORMAT, "layer %s is not valid gzip", d->digest);
        }
        if (k == 0)
            ip_sha256_final(&h, diff_id);
        else
            ip_sha256_release(&h);
    }
    return k < 0 ? (int)k : 0;
}

static void verify_manifest(struct vctx *v, const struct ip_desc *d, int depth);

static void verify_image(struct vctx *v, const struct ip_manifest *m)
{
    struct ip_err err;
    struct ip_buf cbytes = IP_BUF_INIT;
    struct ip_config cfg;
    bool have_cfg = false;
    char **diff = ip_xcalloc(m->n_layers + 1, sizeof(char *));

    ip_err_clear(&err);
    ip_buf_init(&cbytes, IP_MAX_JSON);
    /* configs are small: read for every manifest, they are needed for diff_ids */
    if (check_blob(v, &m->config, &cbytes, false, NULL, &err) < 0) {
        problem(v, "manifest %s: config: %s", m->digest, err.msg);
    } else if (ip_config_parse(cbytes.data ? cbytes.data : "", cbytes.len, &cfg, &err) < 0) {
        problem(v, "manifest %s: config %s: %s", m->digest, m->config.digest, err.msg);
    } else {
        have_cfg = true;
    }
    if (!seen(v, m->config.digest))
        v->st->blobs++;
    for (size_t i = 0; i < m->n_layers; i++) {
        const struct ip_desc *l = &m->layers[i];
        char did[IP_DIGEST_SIZE] = "";
        bool gz = ip_media_type_is_gzip_layer(l->media_type);
        bool plain = !gz && (!strcmp(l->media_type, IP_MT_OCI_LAYER_TAR) ||
                             strstr(l->media_type, "diff.tar") != NULL);
        if (ip_media_type_is_foreign(l->media_type) && l->n_urls) {
            /* non-distributable layers may live elsewhere; check only if present */
            bool have = false;
            ip_store_has_blob(v->s, l, &have, &err);
            if (!have)
                continue;
        }
        const char *known = layer_known(v, l->digest);
        if (known) {
            if (*known)
                diff[i] = ip_xstrdup(known);
            continue;
        }
        ip_err_clear(&err);
        if (check_blob(v, l, NULL, gz, did, &err) < 0) {
            layer_remember(v, l->digest, "");
            problem(v, "manifest %s: layer %zu: %s", m->digest, i, err.msg);
            continue;
        }
        v->st->blobs++;
        if (plain)
            memcpy(did, l->digest, IP_DIGEST_SIZE);
        layer_remember(v, l->digest, did);
        if (did[0])
            diff[i] = ip_xstrdup(did);
    }
    if (have_cfg) {
        if (cfg.n_diff_ids != m->n_layers)
            problem(v, "manifest %s: config lists %zu diff_ids for %zu layers", m->digest,
                    cfg.n_diff_ids, m->n_layers);
        for (size_t i = 0; i < m->n_layers && i < cfg.n_diff_ids; i++)
            if (diff[i] && strcmp(diff[i], cfg.diff_ids[i]) != 0)
                problem(v,
                        "manifest %s: layer %zu: blob %s uncompressed is %s, config diff_id "
                        "says %s",
                        m->digest, i, m->layers[i].digest, diff[i], cfg.diff_ids[i]);
        ip_config_release(&cfg);
    }
    for (size_t i = 0; i < m->n_layers; i++)
        free(diff[i]);
    free(diff);
    ip_buf_release(&cbytes);
}

static void verify_manifest(struct vctx *v, const struct ip_desc *d, int depth)
{
    struct ip_err err;
    struct ip_buf bytes = IP_BUF_INIT;
    struct ip_manifest *m = NULL;

    for (int i = 0; i < depth; i++) {
        if (!strcmp(v->path[i], d->digest)) {
            problem(v, "index %s refers to itself", d->digest);
            return;
        }
    }
    if (depth >= MAX_DEPTH) {
        problem(v, "indexes nested more than %d deep at %s", MAX_DEPTH, d->digest);
        return;
    }
    if (seen(v, d->digest))
        return;
    ip_err_clear(&err);
    ip_buf_init(&bytes, IP_MAX_JSON);
    if (check_blob(v, d, &bytes, false, NULL, &err) < 0) {
        problem(v, "%s", err.msg);
        goto out;
    }
    if (ip_manifest_parse(bytes.data ? bytes.data : "", bytes.len, d->media_type, &m, &err) < 0) {
        problem(v, "manifest %s: %s", d->digest, err.msg);
        goto out;
    }
    v->st->manifests++;
    if (strcmp(m->media_type, d->media_type) != 0)
        problem(v, "manifest %s: document says mediaType '%s', descriptor says '%s'", d->digest,
                m->media_type, d->media_type);
    if (m->is_index) {
        v->path[depth] = d->digest;
        for (size_t i = 0; i < m->n_manifests; i++) {
            const struct ip_desc *c = &m->manifests[i];
            if (ip_media_type_is_index(c->media_type) || ip_media_type_is_manifest(c->media_type)) {
                verify_manifest(v, c, depth + 1);
            } else if (!seen(v, c->digest)) {
                ip_err_clear(&err);
                if (check_blob(v, c, NULL, false, NULL, &err) < 0)
                    problem(v, "index %s: %s", d->digest, err.msg);
                else
                    v->st->blobs++;
            }
        }
    } else {
        verify_image(v, m);
    }
out:
    ip_manifest_free(m);
    ip_buf_release(&bytes);
}

int ip_verify_store(struct ip_store *s, void (*report)(void *ctx, const char *line), void *ctx,
                    struct ip_verify_stats *stats, struct ip_err *err)
{
    struct vctx v = {.s = s, .report = report, .rctx = ctx, .st = stats};
    struct ip_desc *entries = NULL;
    size_t n = 0;
    int rc;

    memset(stats, 0, sizeof(*stats));
    if ((rc = ip_store_list(s, &entries, &n, err)) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (ip_media_type_is_index(entries[i].media_type) ||
            ip_media_type_is_manifest(entries[i].media_type))
            verify_manifest(&v, &entries[i], 0);
        /* other media types (artifacts) are left alone, as the image-spec says */
    }
    ip_descs_free(entries, n);
    for (size_t i = 0; i < v.n_seen; i++)
        free(v.seen[i]);
    free(v.seen);
    for (size_t i = 0; i < v.n_layers; i++) {
        free(v.layers[i].key);
        free(v.layers[i].val);
    }
    free(v.layers);
    if (stats->problems)
        return ip_err_set(err, IP_E_VERIFY, "%s: %zu problem%s found", s->location, stats->problems,
                          stats->problems == 1 ? "" : "s");
    return 0;
}
