/* client.c - the registry client: its options and credentials, a pool of
 * curl handles (one kept-alive connection each), the CAs it trusts, and the
 * first contact that picks the scheme (https, or plain http for loopback
 * hosts and --registry-insecure) and learns how the registry authenticates. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "http/client-private.h"
#include "util/banned.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *ip_http_client_base(const struct ip_http_client *c)
{
    return c->base;
}

const char *ip_http_client_host(const struct ip_http_client *c)
{
    return c->host;
}

CURL *ip_http_pool_get(struct ip_http_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->n_pool)
        h = c->pool[--c->n_pool];
    pthread_mutex_unlock(&c->mu);
    if (!h && !(h = curl_easy_init()))
        abort();
    return h;
}

void ip_http_pool_put(struct ip_http_client *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    IP_GROW(c->pool, c->cap_pool, c->n_pool + 1);
    c->pool[c->n_pool++] = h;
    pthread_mutex_unlock(&c->mu);
}

static int load_cas(struct ip_http_client *c, struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    int rc;
    if (!c->opts.n_ca_cert_paths)
        return 0;
    /* the given CAs are added to the system's, as imgpkg does */
    static const char *system_bundles[] = {"/etc/ssl/certs/ca-certificates.crt",
                                           "/etc/pki/tls/certs/ca-bundle.crt", NULL};
    for (const char **p = system_bundles; *p; p++) {
        if (access(*p, R_OK) == 0) {
            ip_read_file(*p, 16u << 20, &b, err);
            ip_buf_adds(&b, "\n");
            break;
        }
    }
    for (size_t i = 0; i < c->opts.n_ca_cert_paths; i++) {
        size_t before = b.len;
        if ((rc = ip_read_file(c->opts.ca_cert_paths[i], 16u << 20, &b, err)) < 0) {
            ip_buf_release(&b);
            return ip_err_wrap(err, "--registry-ca-cert-path");
        }
        if (!strstr(b.data + before, "-----BEGIN CERTIFICATE-----")) {
            ip_buf_release(&b);
            return ip_err_set(err, IP_E_INPUT,
                              "--registry-ca-cert-path '%s' holds no PEM certificate",
                              c->opts.ca_cert_paths[i]);
        }
        ip_buf_adds(&b, "\n");
    }
    c->ca_blob = ip_buf_detach(&b, &c->ca_blob_len);
    return 0;
}

/* GET /v2/ with a scheme; fills mode and challenge. */
static int ping(struct ip_http_client *c, const char *scheme, struct ip_err *err)
{
    struct ip_http_resp resp = {0};
    free(c->base);
    c->base = ip_xasprintf("%s://%s", scheme, c->host);
    CURL *h = ip_http_pool_get(c);
    struct ip_http_xfer x = {0};
    cleanup_free char *url = ip_xasprintf("%s/v2/", c->base);
    x.resp = &resp;
    ip_http_setup_handle(c, h, url);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    ip_http_debug_attach(c, h, &x, url, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ip_http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    CURLcode cc = ip_http_outcome(c, &x, curl_easy_perform(h));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    ip_http_debug_done(&x, h, "GET", cc);
    int rc = 0;
    if (ip_http_headers_too_big(&x, cc, resp.status)) {
        rc = ip_err_set(err, IP_E_TOOBIG, "GET %s: response headers over %u bytes", url,
                        MAX_HEADER_BYTES);
    } else if (cc != CURLE_OK) {
        rc = ip_http_curl_error(h, cc, "GET", url, err);
    } else if (resp.status == 401) {
        ip_http_take_challenge(c, resp.www_authenticate, NULL, err);
    } else if (resp.status >= 200 && resp.status < 300) {
        c->mode = IP_AUTH_NONE;
    } else {
        rc = ip_http_status_error("GET", url, resp.status, &x.errbody, err);
    }
    ip_http_pool_put(c, h);
    ip_buf_release(&x.errbody);
    ip_http_resp_release(&resp);
    return rc;
}

static bool transport_failed(const struct ip_err *err)
{
    return err->code == IP_E_NETWORK || err->code == IP_E_TLS || err->code == IP_E_TIMEOUT ||
           err->code == IP_E_UNREACHABLE;
}

/* The first contact: the error to report (every scheme's failure, as
 * imgpkg's transport reports them) differs from the one that decides
 * whether to try again (the last). */
struct first_contact {
    struct ip_http_client *c;
    struct ip_err reported;
};

/* https, and plain http when that is allowed and https failed on the way:
 * err is the last failure (it decides the retry), f->reported both in
 * imgpkg's words. */
static int first_contact_once(void *ctx, struct ip_err *err)
{
    struct first_contact *f = ctx;
    struct ip_http_client *c = f->c;
    int rc = ping(c, "https", err);
    if (rc == 0)
        return 0;
    struct ip_err https_err = *err;
    bool tried_http = false;
    if (transport_failed(err) && (c->opts.insecure || ip_registry_is_loopback(c->host))) {
        tried_http = true;
        if ((rc = ping(c, "http", err)) == 0)
            return 0;
    }
    f->reported = *err;
    snprintf(f->reported.msg, sizeof(f->reported.msg),
             "Error while preparing a transport to talk with the registry: Unable to create round "
             "tripper: %.900s%s%.900s",
             https_err.msg, tried_http ? "; " : "", tried_http ? err->msg : "");
    return rc;
}

static void copy_ca_paths(struct ip_http_client *c, const struct ip_registry_opts *opts)
{
    c->opts.ca_cert_paths = NULL;
    c->opts.n_ca_cert_paths = 0;
    if (!opts->n_ca_cert_paths)
        return;
    c->ca_paths = ip_xcalloc(opts->n_ca_cert_paths, sizeof(char *));
    for (size_t i = 0; i < opts->n_ca_cert_paths; i++)
        c->ca_paths[i] = ip_xstrdup(opts->ca_cert_paths[i]);
    c->opts.ca_cert_paths = (const char **)c->ca_paths;
    c->opts.n_ca_cert_paths = opts->n_ca_cert_paths;
}

int ip_http_client_new(const char *registry, const struct ip_registry_opts *opts,
                       struct ip_http_client **out, struct ip_err *err)
{
    struct ip_http_client *c = ip_xcalloc(1, sizeof(*c));
    int rc;
    pthread_once(&curl_once, curl_init_once);
    pthread_mutex_init(&c->mu, NULL);
    c->host = ip_xstrdup(registry);
    c->opts = *opts;
    if (c->opts.connect_timeout_s <= 0)
        c->opts.connect_timeout_s = 30;
    if (c->opts.response_header_timeout_s <= 0)
        c->opts.response_header_timeout_s = 30;
    if (c->opts.request_timeout_s <= 0)
        c->opts.request_timeout_s = 120;
    if (c->opts.retries < 0)
        c->opts.retries = 0;
    c->opts.auth = (struct ip_auth_opts){0}; /* flags are consumed by ip_auth_resolve */
    copy_ca_paths(c, opts);
    if ((rc = load_cas(c, err)) < 0)
        goto fail;
    if ((rc = ip_auth_resolve(registry, &opts->auth, &c->cred, err)) < 0)
        goto fail;
    if (!opts->verify_certs && opts->warn) {
        cleanup_free char *w = ip_xasprintf("TLS certificate verification is off for %s", registry);
        opts->warn(opts->warn_ctx, w);
    }

    /* a registry that refuses connections or never answers is down: no
     * point waiting for it */
    struct ip_retry policy = {.max = c->opts.retries, .unreachable = false};
    struct first_contact f = {.c = c};
    if ((rc = ip_retry_run(&policy, first_contact_once, &f, err)) < 0) {
        *err = f.reported;
        goto fail;
    }
    *out = c;
    return 0;
fail:
    ip_http_client_free(c);
    return rc;
}

void ip_http_client_free(struct ip_http_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_pool; i++)
        curl_easy_cleanup(c->pool[i]);
    free(c->pool);
    for (size_t i = 0; i < c->n_tokens; i++) {
        free(c->tokens[i].scope);
        free(c->tokens[i].value);
    }
    free(c->tokens);
    for (size_t i = 0; i < c->opts.n_ca_cert_paths; i++)
        free(c->ca_paths[i]);
    free(c->ca_paths);
    free(c->ca_blob);
    ip_cred_release(&c->cred);
    free(c->realm);
    free(c->service);
    free(c->host);
    free(c->base);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void ip_registry_opts_init(struct ip_registry_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->verify_certs = true;
    o->response_header_timeout_s = 30;
    o->request_timeout_s = 120;
    o->connect_timeout_s = 30;
    o->retries = 5;
}
