/* store-registry.c - a repository in a registry, through the OCI distribution
 * API: manifests by tag or digest (digest checked against the bytes), blobs
 * checked with HEAD and streamed in both directions, uploads monolithic (POST
 * then PUT) for small blobs and streamed PATCH then PUT for large ones.  Tags
 * are put on commit, after every blob and manifest, so that a failed push
 * never leaves a tag pointing at an incomplete image.  A layer the registry
 * lacks is read from its descriptor's http(s) `urls` (non-distributable
 * layers live there), without the registry's credentials. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/client.h"
#include "imgpkg/registry.h"
#include "oci/json.h"
#include "store/store-private.h"
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

static int rs_get_manifest(struct ip_store *s, const char *ref, struct ip_manifest **out,
                           struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    struct ip_buf body = IP_BUF_INIT;
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/manifests/%s", rs->repo, ref);
    struct ip_http_req req = {.method = "GET", .url = path, .scope = rs->pull_scope,
                          .accept = MANIFEST_ACCEPT, .resp_body = &body, .resp_max = IP_MAX_JSON,
                          .follow_redirects = true};
    char digest[IP_DIGEST_SIZE];
    int rc;

    ip_buf_init(&body, IP_MAX_JSON);
    rc = ip_http_do(rs->c, &req, NULL, &resp, err);
    if (rc < 0) {
        /* imgpkg's words (its registry.Get) */
        if (err->code != IP_E_TOOBIG)
            ip_err_wrap(err, "Fetching image");
        else
            ip_err_wrap(err, "manifest %s in %s", ref, s->location);
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

static int rs_has_blob(struct ip_store *s, const struct ip_desc *d, bool *out, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/blobs/%s", rs->repo, d->digest);
    static const long ok[] = {404, 0};
    struct ip_http_req req = {.method = "HEAD", .url = path,
                          .scope = rs->push_scope ? rs->push_scope : rs->pull_scope,
                          .follow_redirects = true};
    int rc = ip_http_do(rs->c, &req, ok, &resp, err);
    if (rc == 0)
        *out = resp.status == 200 && (resp.content_length < 0 || resp.content_length == d->size);
    ip_http_resp_release(&resp);
    return rc;
}

/* ---- a layer from its descriptor's urls ---- */

/* One GET on its own thread, writing the body into a socket pair that the
 * reader drains: the body streams, never held whole, and never more than the
 * descriptor's size is accepted.  No Authorization is sent: the URL is not the
 * registry. */
struct url_reader {
    struct ip_reader base;
    int fd, wfd; /* our end, the transfer's end */
    pthread_t thread;
    bool joined;
    CURL *h;
    char *url;
    int64_t limit, got;
    bool too_big;
    CURLcode result;
    long status;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, finished; /* the body has begun; the transfer is over */
    struct curl_blob ca;
    char *ca_data;
    char errbuf[CURL_ERROR_SIZE];
};

static void url_signal(struct url_reader *u, bool *flag)
{
    pthread_mutex_lock(&u->mu);
    *flag = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

static size_t url_write(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct url_reader *u = ctx;
    size_t n = size * nmemb;
    if (!u->started) {
        curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &u->status);
        url_signal(u, &u->started);
    }
    if (u->status != 200)
        return 0;
    if ((int64_t)n > u->limit - u->got) {
        u->too_big = true;
        return 0;
    }
    u->got += (int64_t)n;
    while (n > 0) {
        ssize_t k = send(u->wfd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return 0; /* the reader is gone */
        p += k;
        n -= (size_t)k;
    }
    return size * nmemb;
}

static void *url_thread(void *arg)
{
    struct url_reader *u = arg;
    u->result = curl_easy_perform(u->h);
    if (!u->started)
        curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &u->status);
    close(u->wfd);
    u->wfd = -1;
    url_signal(u, &u->finished);
    return NULL;
}

static void url_join(struct url_reader *u)
{
    if (!u->joined) {
        pthread_join(u->thread, NULL);
        u->joined = true;
    }
}

/* The transfer's outcome once it is over: 0, or the error. */
static int url_outcome(struct url_reader *u, struct ip_err *err)
{
    if (u->too_big)
        return ip_err_set(err, IP_E_DIGEST, "GET %s: more than the %lld bytes the layer has",
                          u->url, (long long)u->limit);
    if (u->status != 200 && u->status != 0)
        return ip_err_set(err, IP_E_NOTFOUND, "GET %s: unexpected status code %ld", u->url,
                          u->status);
    if (u->result != CURLE_OK)
        return ip_err_set(err, IP_E_NETWORK, "GET %s: %s", u->url,
                          u->errbuf[0] ? u->errbuf : curl_easy_strerror(u->result));
    return 0;
}

static ssize_t url_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct url_reader *u = (struct url_reader *)r;
    for (;;) {
        ssize_t k = read(u->fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return ip_err_sys(err, errno, "GET %s", u->url);
        if (k > 0)
            return k;
        url_join(u);
        int rc = url_outcome(u, err);
        return rc < 0 ? rc : 0;
    }
}

static void url_free(struct ip_reader *r)
{
    struct url_reader *u = (struct url_reader *)r;
    close(u->fd); /* a transfer still running fails its next write and stops */
    url_join(u);
    curl_easy_cleanup(u->h);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u->ca_data);
    free(u->url);
    free(u);
}

/* The system's CAs plus --registry-ca-cert-path, as the registry client uses. */
static char *url_ca_bundle(const struct reg_store *rs, size_t *len)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err e;
    static const char *system_bundles[] = {"/etc/ssl/certs/ca-certificates.crt",
                                           "/etc/pki/tls/certs/ca-bundle.crt", NULL};
    for (const char **p = system_bundles; *p; p++) {
        if (access(*p, R_OK) == 0 && ip_read_file(*p, 16u << 20, &b, &e) == 0) {
            ip_buf_adds(&b, "\n");
            break;
        }
    }
    for (size_t i = 0; i < rs->n_ca_paths; i++) {
        if (ip_read_file(rs->ca_paths[i], 16u << 20, &b, &e) == 0)
            ip_buf_adds(&b, "\n");
    }
    return ip_buf_detach(&b, len);
}

static int open_url(struct reg_store *rs, const struct ip_desc *d, const char *url,
                    struct ip_reader **out, struct ip_err *err)
{
    struct url_reader *u = ip_xcalloc(1, sizeof(*u));
    int sv[2];
    u->base.read = url_read;
    u->base.free = url_free;
    u->url = ip_xstrdup(url);
    u->limit = d->size;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        free(u->url);
        free(u);
        return ip_err_sys(err, e, "GET %s", url);
    }
    u->fd = sv[0];
    u->wfd = sv[1];
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (!(u->h = curl_easy_init()))
        abort();
    curl_easy_setopt(u->h, CURLOPT_URL, url);
    curl_easy_setopt(u->h, CURLOPT_ERRORBUFFER, u->errbuf);
    curl_easy_setopt(u->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(u->h, CURLOPT_USERAGENT, "imgpkg-c/0.1");
    curl_easy_setopt(u->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(u->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(u->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(u->h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(u->h, CURLOPT_CONNECTTIMEOUT, rs->connect_timeout_s);
    curl_easy_setopt(u->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(u->h, CURLOPT_LOW_SPEED_TIME, rs->header_timeout_s);
    curl_easy_setopt(u->h, CURLOPT_WRITEFUNCTION, url_write);
    curl_easy_setopt(u->h, CURLOPT_WRITEDATA, u);
    if (!rs->verify_certs) {
        curl_easy_setopt(u->h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(u->h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (rs->n_ca_paths) {
        size_t len = 0;
        u->ca_data = url_ca_bundle(rs, &len);
        u->ca = (struct curl_blob){u->ca_data, len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(u->h, CURLOPT_CAINFO_BLOB, &u->ca);
    }
    if (pthread_create(&u->thread, NULL, url_thread, u) != 0) {
        close(u->wfd);
        u->joined = true;
        url_free(&u->base);
        return ip_err_set(err, IP_E_IO, "GET %s: cannot start a thread", url);
    }
    /* wait for the body (or the end): a failed URL lets the next one be tried */
    pthread_mutex_lock(&u->mu);
    while (!u->started && !u->finished)
        pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
    if (u->status != 200) {
        url_join(u);
        int rc = url_outcome(u, err);
        if (rc == 0)
            rc = ip_err_set(err, IP_E_NETWORK, "GET %s: no answer", url);
        url_free(&u->base);
        return rc;
    }
    *out = &u->base;
    return 0;
}

static bool http_url(const char *u)
{
    return !strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8);
}

/* A layer the repository does not hold, from the first of its urls that
 * answers (only http and https are tried). */
static int open_from_urls(struct reg_store *rs, const struct ip_desc *d, struct ip_reader **out,
                          struct ip_err *err)
{
    int rc = 0;
    bool tried = false;
    for (size_t i = 0; i < d->n_urls; i++) {
        if (!http_url(d->urls[i]))
            continue;
        tried = true;
        if ((rc = open_url(rs, d, d->urls[i], out, err)) == 0)
            return 0;
    }
    if (!tried)
        return ip_err_set(err, IP_E_NOTFOUND,
                          "blob %s is not in %s and none of its urls is http(s)", d->digest,
                          rs->base.location);
    return ip_err_wrap(err, "blob %s is not in %s; from its urls", d->digest, rs->base.location);
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
        if (!have)
            return open_from_urls(rs, d, out, err);
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
        struct ip_http_req patch = {.method = "PATCH", .url = url, .scope = rs->push_scope,
                                .content_type = "application/octet-stream", .body_reader = r,
                                .body_size = d->size};
        if ((rc = ip_http_do(rs->c, &patch, NULL, &resp, err)) < 0)
            goto fail;
        if (resp.location) {
            free(url);
            url = ip_http_resolve_url(rs->c, resp.location);
        }
        put = with_digest(url, d->digest);
        struct ip_http_req close_req = {.method = "PUT", .url = put, .scope = rs->push_scope,
                                    .content_type = "application/octet-stream"};
        if ((rc = ip_http_do(rs->c, &close_req, NULL, &resp, err)) < 0)
            goto fail;
    } else {
        put = with_digest(url, d->digest);
        struct ip_http_req mono = {.method = "PUT", .url = put, .scope = rs->push_scope,
                               .content_type = "application/octet-stream", .body_reader = r,
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
    ip_http_resp_release(&resp);
    return ip_err_wrap(err, "pushing blob %s to %s", d->digest, s->location);
}

static int put_manifest_ref(struct reg_store *rs, const char *ref, const char *media_type,
                            const char *raw, size_t len, const char *digest, struct ip_err *err)
{
    struct ip_http_resp resp = {0};
    cleanup_free char *path = ip_xasprintf("/v2/%s/manifests/%s", rs->repo, ref);
    struct ip_http_req req = {.method = "PUT", .url = path, .scope = rs->push_scope,
                          .content_type = media_type, .body = raw, .body_len = len};
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
    cleanup_free char *path = ip_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", rs->repo,
                                           d->digest, src->repo);
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

int ip_registry_list_tags(struct ip_store *s, char ***tags, size_t *n, struct ip_err *err)
{
    struct reg_store *rs = (struct reg_store *)s;
    char **list = NULL;
    size_t count = 0, cap = 0;
    cleanup_free char *next = ip_xasprintf("/v2/%s/tags/list?n=1000", rs->repo);
    char **seen = NULL; /* the pages asked for: a `next` that comes back is refused */
    size_t n_seen = 0, cap_seen = 0;
    int rc = 0;

    for (int page = 0; next; page++) {
        if (page >= MAX_TAG_PAGES) {
            rc = ip_err_set(err, IP_E_TOOBIG, "listing tags of %s: more than %d pages",
                            s->location, MAX_TAG_PAGES);
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
        struct ip_http_req req = {.method = "GET", .url = next, .scope = rs->pull_scope,
                              .resp_body = &body, .resp_max = MAX_TAG_PAGE};
        ip_buf_init(&body, MAX_TAG_PAGE);
        rc = ip_http_do(rs->c, &req, NULL, &resp, err);
        if (rc == 0)
            rc = ip_json_parse(body.data ? body.data : "", body.len, &tree, err);
        if (rc == 0) {
            yajl_val t = ip_json_get(tree, "tags");
            for (size_t i = 0; YAJL_IS_ARRAY(t) && i < t->u.array.len; i++) {
                if (!YAJL_IS_STRING(t->u.array.values[i]))
                    continue;
                if (count >= MAX_TAGS) {
                    rc = ip_err_set(err, IP_E_TOOBIG, "listing tags of %s: more than %d tags",
                                    s->location, MAX_TAGS);
                    break;
                }
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
