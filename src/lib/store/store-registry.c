/* store-registry.c - a repository in a registry, through the OCI distribution
 * API: manifests by tag or digest (digest checked against the bytes), blobs
 * checked with HEAD and streamed in both directions, uploads monolithic (POST
 * then PUT) for small blobs and streamed PATCH then PUT for large ones.  Tags
 * are put on commit, after every blob and manifest, so that a failed push
 * never leaves a tag pointing at an incomplete image.  A layer the registry
 * lacks is read from its descriptor's http(s) `urls` (url-blob.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/client.h"
#include "imgpkg/registry.h"
#include "oci/json.h"
#include "store/store-private.h"
#include "store/url-blob.h"
#include "util/banned.h"

#define MONOLITHIC_MAX (8 << 20)
#define MANIFEST_ACCEPT                                                                            \
    IP_MT_OCI_MANIFEST ", " IP_MT_OCI_INDEX ", " IP_MT_DOCKER_MANIFEST ", " IP_MT_DOCKER_LIST

struct pending_tag {
    char *tag;
    char *media_type;
    char *raw;
    size_t raw_len;
    char digest[IP_DIGEST_SIZE];
};

/* One client per registry, shared by the stores of its repositories (one
 * probe of the registry, one set of credentials and tokens). */
struct shared_client {
    struct ip_http_client *c;
    int refs;
};

struct reg_store {
    struct ip_store base;
    struct ip_http_client *c; /* sc->c */
    struct shared_client *sc;
    char *repo;
    char *pull_scope;
    char *push_scope;
    struct pending_tag *tags;
    size_t n_tags;
    /* for fetches from a layer's urls: the TLS and timeout settings */
    bool verify_certs;
    long connect_timeout_s, header_timeout_s;
    char **ca_paths;
    size_t n_ca_paths;
};

/* as_image: an error is worded as imgpkg's image fetches word it */
static int fetch_manifest(struct ip_store *s, const char *ref, bool as_image,
                          struct ip_manifest **out, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    struct ip_buf body = IP_BUF_INIT;
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/manifests/%s", rs->repo, ref);
    struct ip_http_req req = {.method = "GET",
                              .url = path,
                              .scope = rs->pull_scope,
                              .accept = MANIFEST_ACCEPT,
                              .resp_body = &body,
                              .resp_max = IP_MAX_JSON,
                              .follow_redirects = true};
    char digest[IP_DIGEST_SIZE];
    int rc;

    ip_buf_init(&body, IP_MAX_JSON);
    rc = ip_http_do(rs->c, &req, NULL, &resp, err);
    if (rc < 0) {
        /* imgpkg's words (its registry.Get) */
        if (err->code == IP_E_TOOBIG)
            ip_err_wrap(err, "manifest %s in %s", ref, s->location);
        else if (as_image)
            ip_err_wrap(err, "Fetching image");
        goto out;
    }
    ip_sha256_of(body.data ? body.data : "", body.len, digest);
    if (ip_digest_valid(ref) && strcmp(digest, ref) != 0) {
        rc = ip_err_set(err, IP_E_DIGEST,
                        "manifest %s from %s: the registry sent content with digest %s", ref,
                        s->location, digest);
        goto out;
    }
    /* strip parameters from the Content-Type ("; charset=...") */
    char *ct = resp.content_type;
    if (ct) {
        char *semi = strchr(ct, ';');
        if (semi)
            *semi = '\0';
    }
    rc = ip_manifest_parse(body.data ? body.data : "", body.len, ct, out, err);
    if (rc < 0)
        ip_err_wrap(err, "manifest %s in %s", ref, s->location);
out:
    ip_http_resp_release(&resp);
    ip_buf_release(&body);
    return rc;
}

static int rs_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                           struct ip_err *err)
{
    return fetch_manifest(s, ref, true, out, err);
}

int ip_registry_resolve(struct ip_store *s, const char *ref, struct ip_manifest **out,
                        struct ip_err *err)
{
    return fetch_manifest(s, ref, false, out, err);
}

static int rs_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/blobs/%s", rs->repo, d->digest);
    static const long ok[] = {404, 0};
    struct ip_http_req req = {.method = "HEAD",
                              .url = path,
                              .scope = rs->push_scope ? rs->push_scope : rs->pull_scope,
                              .follow_redirects = true};
    int rc = ip_http_do(rs->c, &req, ok, &resp, err);
    if (rc == 0)
        *out = resp.status == 200 && (resp.content_length < 0 || resp.content_length == d->size);
    ip_http_resp_release(&resp);
    return rc;
}

static int rs_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                        struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    cleanup_free char *path = ip_xasprintf("/v2/%s/blobs/%s", rs->repo, d->digest);
    if (ip_digest_check(d->digest, err) < 0)
        return -IP_E_FORMAT;
    if (d->n_urls) {
        /* the registry first, as go-containerregistry does */
        bool have = false;
        int rc = rs_has_blob(s, d, &have, err);
        if (rc < 0)
            return rc;
        if (!have) {
            struct ip_url_fetch f = {rs->verify_certs, rs->connect_timeout_s, rs->header_timeout_s,
                                     rs->ca_paths, rs->n_ca_paths};
            return ip_url_blob_open(&f, d, rs->base.location, out, err);
        }
    }
    return ip_http_get_stream(rs->c, path, rs->pull_scope, NULL, out, err);
}

static char *with_digest(const char *url, const char *digest)
{
    return ip_xasprintf("%s%sdigest=%s", url, strchr(url, '?') ? "&" : "?", digest);
}

static int rs_put_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader *r,
                       struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    struct ip_http_resp resp = {0};
    cleanup_free char *start = ip_xasprintf("/v2/%s/blobs/uploads/", rs->repo);
    cleanup_free char *url = NULL, *put = NULL;
    int rc;

    struct ip_http_req post = {.method = "POST", .url = start, .scope = rs->push_scope};
    if ((rc = ip_http_do(rs->c, &post, NULL, &resp, err)) < 0)
        goto fail;
    if (!resp.location) {
        rc = ip_err_set(err, IP_E_HTTP, "POST %s%s: no Location in the answer",
                        ip_http_client_base(rs->c), start);
        goto fail;
    }
    url = ip_http_resolve_url(rs->c, resp.location);
    if (d->size > MONOLITHIC_MAX) {
        /* stream the whole blob in one PATCH, then close the upload with a PUT */
        struct ip_http_req patch = {.method = "PATCH",
                                    .url = url,
                                    .scope = rs->push_scope,
                                    .content_type = "application/octet-stream",
                                    .body_reader = r,
                                    .body_size = d->size};
        if ((rc = ip_http_do(rs->c, &patch, NULL, &resp, err)) < 0)
            goto fail;
        if (resp.location) {
            free(url);
            url = ip_http_resolve_url(rs->c, resp.location);
        }
        put = with_digest(url, d->digest);
        struct ip_http_req close_req = {.method = "PUT",
                                        .url = put,
                                        .scope = rs->push_scope,
                                        .content_type = "application/octet-stream"};
        if ((rc = ip_http_do(rs->c, &close_req, NULL, &resp, err)) < 0)
            goto fail;
    } else {
        put = with_digest(url, d->digest);
        struct ip_http_req mono = {.method = "PUT",
                                   .url = put,
                                   .scope = rs->push_scope,
                                   .content_type = "application/octet-stream",
                                   .body_reader = r,
                                   .body_size = d->size};
        if ((rc = ip_http_do(rs->c, &mono, NULL, &resp, err)) < 0)
            goto fail;
    }
    if (resp.docker_digest && strcmp(resp.docker_digest, d->digest) != 0) {
        rc = ip_err_set(err, IP_E_DIGEST, "blob %s: %s stored it as %.80s", d->digest, s->location,
                        resp.docker_digest);
        goto fail;
    }
    ip_http_resp_release(&resp);
    return 0;
fail:
    /* as imgpkg's: the failed request's own words (its URL names the blob) */
    ip_http_resp_release(&resp);
    return rc < 0 ? rc : -(int)err->code;
}

static int put_manifest_ref(struct reg_store *rs, const char *ref, const char *media_type,
                            const char *raw, size_t len, const char *digest, struct ip_err *err)
{
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/manifests/%s", rs->repo, ref);
    struct ip_http_req req = {.method = "PUT",
                              .url = path,
                              .scope = rs->push_scope,
                              .content_type = media_type,
                              .body = raw,
                              .body_len = len};
    int rc = ip_http_do(rs->c, &req, NULL, &resp, err);
    if (rc == 0 && resp.docker_digest && strcmp(resp.docker_digest, digest) != 0)
        rc = ip_err_set(err, IP_E_DIGEST, "manifest %s: the registry computed %.80s", digest,
                        resp.docker_digest);
    ip_http_resp_release(&resp);
    if (rc < 0)
        ip_err_wrap(err, "pushing manifest %s to %s", ref, rs->base.location);
    return rc;
}

static int rs_put_manifest(struct ip_store *s, const struct ip_manifest *m, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    return put_manifest_ref(rs, m->digest, m->media_type, m->raw, m->raw_len, m->digest, err);
}

static void add_pending(struct reg_store *rs, const char *tag, const struct ip_manifest *m)
{
    rs->tags = ip_xrealloc(rs->tags, (rs->n_tags + 1) * sizeof(*rs->tags));
    struct pending_tag *t = &rs->tags[rs->n_tags++];
    t->tag = ip_xstrdup(tag);
    t->media_type = ip_xstrdup(m->media_type);
    t->raw = ip_xstrndup(m->raw, m->raw_len);
    t->raw_len = m->raw_len;
    memcpy(t->digest, m->digest, IP_DIGEST_SIZE);
}

/* Tags are pending between begin and commit only: one store may serve
 * several copies, and each commit puts its own tags, once. */
static void clear_pending(struct reg_store *rs)
{
    for (size_t i = 0; i < rs->n_tags; i++) {
        free(rs->tags[i].tag);
        free(rs->tags[i].media_type);
        free(rs->tags[i].raw);
    }
    free(rs->tags);
    rs->tags = NULL;
    rs->n_tags = 0;
}

static int rs_begin(struct ip_store *s, const struct ip_store_entry *e, size_t n,
                    struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    clear_pending(rs);
    for (size_t i = 0; i < n; i++) {
        if (!e[i].manifest)
            continue;
        if (e[i].n_tags) {
            for (size_t j = 0; j < e[i].n_tags; j++) {
                if (!ip_tag_valid(e[i].tags[j]))
                    return ip_err_set(err, IP_E_FORMAT, "'%s' is not a valid tag", e[i].tags[j]);
                add_pending(rs, e[i].tags[j], e[i].manifest);
            }
            continue;
        }
        const char *tag = ip_desc_annotation(&e[i].desc, IP_ANN_REF_NAME);
        if (!tag)
            continue;
        if (!ip_tag_valid(tag))
            return ip_err_set(err, IP_E_FORMAT, "'%s' is not a valid tag", tag);
        add_pending(rs, tag, e[i].manifest);
    }
    return 0;
}

/* Cross-repository mount, when the blob's source is another repository of the
 * same registry (POST .../blobs/uploads/?mount=DIGEST&from=REPO). */
static int rs_mount_blob(struct ip_store *s, const struct ip_desc *d, struct ip_store *from,
                         bool *done, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    *done = false;
    if (from->ops != s->ops)
        return 0;
    struct reg_store *src = (struct reg_store *)from;
    if (strcmp(ip_http_client_host(src->c), ip_http_client_host(rs->c)) != 0 ||
        !strcmp(src->repo, rs->repo))
        return 0;
    struct ip_http_resp resp = {0};
    cleanup_free char *scope = ip_xasprintf("%s repository:%s:pull", rs->push_scope, src->repo);
    cleanup_free char *path =
        ip_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", rs->repo, d->digest, src->repo);
    struct ip_http_req req = {.method = "POST", .url = path, .scope = scope};
    int rc = ip_http_do(rs->c, &req, NULL, &resp, err);
    if (rc == 0 && resp.status == 201) {
        *done = true;
    } else if (rc == 0 && resp.status == 202 && resp.location) {
        /* the registry opened an upload instead: close it, the blob goes up normally */
        cleanup_free char *url = ip_http_resolve_url(rs->c, resp.location);
        struct ip_http_req del = {.method = "DELETE", .url = url, .scope = rs->push_scope};
        static const long ok[] = {404, 405, 0};
        struct ip_err ignored;
        ip_http_do(rs->c, &del, ok, &resp, &ignored);
    } else if (rc < 0) {
        /* a refused mount is not an error: the blob is pushed the usual way */
        rc = 0;
    }
    ip_http_resp_release(&resp);
    return rc;
}

static int rs_commit(struct ip_store *s, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    for (size_t i = 0; i < rs->n_tags; i++) {
        struct pending_tag *t = &rs->tags[i];
        int rc = put_manifest_ref(rs, t->tag, t->media_type, t->raw, t->raw_len, t->digest, err);
        if (rc < 0)
            return rc;
    }
    clear_pending(rs);
    return 0;
}

static void rs_free(struct ip_store *s)
{
    struct reg_store *rs = (struct reg_store *)s;
    clear_pending(rs);
    if (rs->sc && __atomic_sub_fetch(&rs->sc->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        ip_http_client_free(rs->sc->c);
        free(rs->sc);
    }
    free(rs->repo);
    free(rs->pull_scope);
    free(rs->push_scope);
    for (size_t i = 0; i < rs->n_ca_paths; i++)
        free(rs->ca_paths[i]);
    free(rs->ca_paths);
    free(rs->base.location);
    free(rs);
}

static const struct ip_store_ops registry_ops = {
    .scheme = "registry",
    .get_manifest = rs_get_manifest,
    .open_blob = rs_open_blob,
    .has_blob = rs_has_blob,
    .begin = rs_begin,
    .put_blob = rs_put_blob,
    .put_manifest = rs_put_manifest,
    .commit = rs_commit,
    .mount_blob = rs_mount_blob,
    .free = rs_free,
};

static struct reg_store *reg_store_new(const char *registry, const char *repository)
{
    struct reg_store *rs = ip_xcalloc(1, sizeof(*rs));
    rs->base.ops = &registry_ops;
    rs->base.location = ip_xasprintf("%s/%s", registry, repository);
    rs->base.parallel_read = true;
    rs->base.parallel_write = true;
    rs->repo = ip_xstrdup(repository);
    rs->pull_scope = ip_xasprintf("repository:%s:pull", repository);
    rs->push_scope = ip_xasprintf("repository:%s:pull,push", repository);
    return rs;
}

int ip_store_registry_open(const struct ip_ref *ref, const struct ip_registry_opts *opts,
                           struct ip_store **out, struct ip_err *err)
{
    struct reg_store *rs = reg_store_new(ref->registry, ref->repository);
    struct ip_http_client *c = NULL;
    int rc;
    rs->verify_certs = opts->verify_certs;
    rs->connect_timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 30;
    rs->header_timeout_s =
        opts->response_header_timeout_s > 0 ? opts->response_header_timeout_s : 30;
    if (opts->n_ca_cert_paths) {
        rs->ca_paths = ip_xcalloc(opts->n_ca_cert_paths, sizeof(char *));
        for (size_t i = 0; i < opts->n_ca_cert_paths; i++)
            rs->ca_paths[i] = ip_xstrdup(opts->ca_cert_paths[i]);
        rs->n_ca_paths = opts->n_ca_cert_paths;
    }
    if ((rc = ip_http_client_new(ref->registry, opts, &c, err)) < 0) {
        rs_free(&rs->base);
        return rc;
    }
    rs->sc = ip_xcalloc(1, sizeof(*rs->sc));
    rs->sc->c = c;
    rs->sc->refs = 1;
    rs->c = c;
    *out = &rs->base;
    return 0;
}

bool ip_store_registry_is_on(const struct ip_store *s, const char *registry)
{
    return s && s->ops == &registry_ops &&
           !strcmp(ip_http_client_host(((const struct reg_store *)s)->c), registry);
}

struct ip_store *ip_store_registry_sibling(struct ip_store *s, const char *repository)
{
    struct reg_store *from = (struct reg_store *)s;
    struct reg_store *rs = reg_store_new(ip_http_client_host(from->c), repository);
    rs->verify_certs = from->verify_certs;
    rs->connect_timeout_s = from->connect_timeout_s;
    rs->header_timeout_s = from->header_timeout_s;
    if (from->n_ca_paths) {
        rs->ca_paths = ip_xcalloc(from->n_ca_paths, sizeof(char *));
        for (size_t i = 0; i < from->n_ca_paths; i++)
            rs->ca_paths[i] = ip_xstrdup(from->ca_paths[i]);
        rs->n_ca_paths = from->n_ca_paths;
    }
    __atomic_add_fetch(&from->sc->refs, 1, __ATOMIC_ACQ_REL);
    rs->sc = from->sc;
    rs->c = from->c;
    return &rs->base;
}

/* A tag list is bounded in pages, in bytes a page and in tags: a registry
 * cannot make it grow without end. */
#define MAX_TAG_PAGES 10000
#define MAX_TAG_PAGE (4u << 20)
#define MAX_TAGS 500000
#define MAX_TAG_BYTES (16u << 20) /* of tag names in all */

int ip_registry_list_tags(struct ip_store *s, char ***tags, size_t *n, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    char **list = NULL;
    size_t count = 0, cap = 0;
    cleanup_free char *next = ip_xasprintf("/v2/%s/tags/list?n=1000", rs->repo);
    char **seen = NULL; /* the pages asked for: a `next` that comes back is refused */
    size_t n_seen = 0, cap_seen = 0, tag_bytes = 0;
    int rc = 0;

    for (int page = 0; next; page++) {
        if (page >= MAX_TAG_PAGES) {
            rc = ip_err_set(err, IP_E_TOOBIG, "listing tags of %s: more than %d pages", s->location,
                            MAX_TAG_PAGES);
            break;
        }
        char *abs = ip_http_resolve_url(rs->c, next);
        for (size_t i = 0; i < n_seen; i++) {
            if (!strcmp(seen[i], abs)) {
                rc = ip_err_set(err, IP_E_FORMAT,
                                "listing tags of %s: the registry's next page is one already read",
                                s->location);
                break;
            }
        }
        if (rc < 0) {
            free(abs);
            break;
        }
        IP_GROW(seen, cap_seen, n_seen + 1);
        seen[n_seen++] = abs;
        struct ip_buf body = IP_BUF_INIT;
        struct ip_http_resp resp = {0};
        yajl_val tree = NULL;
        struct ip_http_req req = {.method = "GET",
                                  .url = next,
                                  .scope = rs->pull_scope,
                                  .resp_body = &body,
                                  .resp_max = MAX_TAG_PAGE};
        ip_buf_init(&body, MAX_TAG_PAGE);
        rc = ip_http_do(rs->c, &req, NULL, &resp, err);
        if (rc == 0)
            rc = ip_json_parse(body.data ? body.data : "", body.len, &tree, err);
        if (rc == 0) {
            yajl_val t = ip_json_get(tree, "tags");
            for (size_t i = 0; YAJL_IS_ARRAY(t) && i < t->u.array.len; i++) {
                if (!YAJL_IS_STRING(t->u.array.values[i]))
                    continue;
                size_t len = strlen(t->u.array.values[i]->u.string);
                if (count >= MAX_TAGS || tag_bytes + len > MAX_TAG_BYTES) {
                    rc = ip_err_set(err, IP_E_TOOBIG,
                                    "listing tags of %s: more than %d tags or %u bytes of names",
                                    s->location, MAX_TAGS, MAX_TAG_BYTES);
                    break;
                }
                tag_bytes += len;
                IP_GROW(list, cap, count + 1);
                list[count++] = ip_xstrdup(t->u.array.values[i]->u.string);
            }
        }
        free(next);
        next = NULL;
        /* Link: </v2/name/tags/list?last=x&n=1000>; rel="next" */
        if (rc == 0 && resp.link) {
            char *lt = strchr(resp.link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
            if (lt && gt && strstr(gt, "next")) {
                cleanup_free char *u = ip_xstrndup(lt + 1, (size_t)(gt - lt - 1));
                next = u[0] == '/' ? ip_xstrdup(u) : ip_http_resolve_url(rs->c, u);
            }
        }
        if (tree)
            yajl_tree_free(tree);
        ip_buf_release(&body);
        ip_http_resp_release(&resp);
        if (rc < 0)
            break;
    }
    for (size_t i = 0; i < n_seen; i++)
        free(seen[i]);
    free(seen);
    if (rc < 0) {
        for (size_t i = 0; i < count; i++)
            free(list[i]);
        free(list);
        return rc;
    }
    *tags = list;
    *n = count;
    return 0;
}
