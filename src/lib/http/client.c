/* client.c - registry HTTP over libcurl: scheme detection (https, or plain
 * http for loopback hosts and --registry-insecure), the authentication
 * challenge flow (anonymous first, then Basic or Bearer from WWW-Authenticate,
 * tokens cached per scope and renewed when refused), retries with backoff for
 * resets, 429 and 5xx, bounded header and body sizes, and a streaming GET that
 * hands the body out through a reader without holding it whole. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/client.h"
#include "imgpkg/json.h"
#include "util/banned.h"

#define MAX_HEADER_BYTES (64u << 10)
#define MAX_ERROR_BODY (64u << 10)
#define MAX_TOKEN_BODY (1u << 20)
#define STREAM_BUF (1u << 20)

enum auth_mode { AUTH_UNKNOWN, AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
    char *scope;
    char *value;
    time_t expires;
};

struct reg_client {
    char *host;
    char *base; /* scheme://host */
    struct ip_registry_opts opts;
    char **ca_paths;
    char *ca_blob;
    size_t ca_blob_len;
    struct ip_cred cred;
    pthread_mutex_t mu;
    enum auth_mode mode;
    char *realm;
    char *service;
    struct token *tokens;
    size_t n_tokens, cap_tokens;
    CURL **pool;
    size_t n_pool, cap_pool;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void reg_resp_release(struct reg_resp *r)
{
    free(r->location);
    free(r->docker_digest);
    free(r->content_type);
    free(r->www_authenticate);
    free(r->link);
    memset(r, 0, sizeof(*r));
}

const char *reg_client_base(const struct reg_client *c)
{
    return c->base;
}

const char *reg_client_host(const struct reg_client *c)
{
    return c->host;
}

/* ---- curl handles ---- */

static CURL *pool_get(struct reg_client *c)
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

static void pool_put(struct reg_client *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    IP_GROW(c->pool, c->cap_pool, c->n_pool + 1);
    c->pool[c->n_pool++] = h;
    pthread_mutex_unlock(&c->mu);
}

struct xfer {
    struct reg_resp *resp;
    size_t header_bytes;
    bool header_overflow;
    struct ip_buf *body;
    size_t body_max;
    bool body_overflow;
    struct ip_buf errbody;
    struct ip_reader *body_reader;
    struct ip_err reader_err;
    bool reader_failed;
    bool reader_started;
};

static char *trim_dup(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    return ip_xstrndup(p, n);
}

/* A header line over curl's own limit (100 KiB) never reaches header_cb:
 * curl fails with "out of memory" after the status line. */
static bool headers_too_big(const struct xfer *x, CURLcode cc, long status)
{
    return x->header_overflow || (cc == CURLE_OUT_OF_MEMORY && status > 0);
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct reg_resp *r = x->resp;
    x->header_bytes += n;
    if (x->header_bytes > MAX_HEADER_BYTES) {
        x->header_overflow = true;
        return 0;
    }
    if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* a new response (after a redirect or 100 Continue): forget the last one */
        const char *sp = memchr(p, ' ', n);
        reg_resp_release(r);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->content_length = -1;
        ip_buf_reset(&x->errbody);
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t klen = (size_t)(colon - p);
    const char *v = colon + 1;
    size_t vlen = n - klen - 1;
#define HDR(name, field)                                                                           \
    if (klen == strlen(name) && !strncasecmp(p, name, klen)) {                                     \
        free(r->field);                                                                            \
        r->field = trim_dup(v, vlen);                                                              \
        return n;                                                                                  \
    }
    HDR("Location", location)
    HDR("Docker-Content-Digest", docker_digest)
    HDR("Content-Type", content_type)
    HDR("WWW-Authenticate", www_authenticate)
    HDR("Link", link)
#undef HDR
    if (klen == 14 && !strncasecmp(p, "Content-Length", 14)) {
        cleanup_free char *s = trim_dup(v, vlen);
        r->content_length = strtoll(s, NULL, 10);
    }
    return n;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct ip_err e;
    if (x->resp->status >= 300 || !x->body) {
        /* keep the start of an error body for its message; drop the rest */
        if (x->errbody.len + n <= MAX_ERROR_BODY)
            ip_buf_add(&x->errbody, p, n, &e);
        return n;
    }
    if (x->body_max && x->body->len + n > x->body_max) {
        x->body_overflow = true;
        return 0;
    }
    ip_buf_add(x->body, p, n, &e);
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    x->reader_started = true;
    ssize_t k = ip_reader_read(x->body_reader, buf, size * nitems, &x->reader_err);
    if (k < 0) {
        x->reader_failed = true;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)k;
}

/* curl's detailed message for the last transfer of this thread */
static __thread char curl_errbuf[CURL_ERROR_SIZE];

static void setup_handle(struct reg_client *c, CURL *h, const char *url)
{
    curl_easy_reset(h);
    curl_errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "imgpkg-c/0.1");
    /* curl's connect phase includes the TLS handshake, which a server that
     * accepts and never answers stalls: bound it by the response header
     * timeout too, but not below 10 s (Go's TLS handshake timeout) */
    long handshake_s = c->opts.response_header_timeout_s < 10 ? 10 : c->opts.response_header_timeout_s;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     c->opts.connect_timeout_s < handshake_s ? c->opts.connect_timeout_s : handshake_s);
    /* a server that sends nothing for this long is given up on */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->opts.response_header_timeout_s);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!c->opts.verify_certs) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->ca_blob) {
        struct curl_blob blob = {c->ca_blob, c->ca_blob_len, CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    /* curl reads http_proxy but, by design, not HTTP_PROXY: honour it as Go does */
    if (!strncmp(url, "http://", 7) && !getenv("http_proxy") && getenv("HTTP_PROXY"))
        curl_easy_setopt(h, CURLOPT_PROXY, getenv("HTTP_PROXY"));
}

static const char *code_message(long status)
{
    switch (status) {
    case 401: return "UNAUTHORIZED";
    case 403: return "DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "TOOMANYREQUESTS";
    default: return NULL;
    }
}

/* Fills err from an error response, with the registry's error code and message. */
static int status_error(const char *method, const char *url, long status, struct ip_buf *body,
                        struct ip_err *err)
{
    const char *code = NULL, *message = NULL;
    yajl_val tree = NULL;
    struct ip_err e;
    enum ip_code ec = IP_E_HTTP;
    if (body->len && ip_json_parse(body->data, body->len, &tree, &e) == 0) {
        yajl_val errs = ip_json_get(tree, "errors");
        if (YAJL_IS_ARRAY(errs) && errs->u.array.len > 0) {
            code = ip_json_get_str(errs->u.array.values[0], "code");
            message = ip_json_get_str(errs->u.array.values[0], "message");
        }
    }
    if (!code)
        code = code_message(status);
    if (status == 401 || status == 403)
        ec = IP_E_AUTH;
    else if (status == 404)
        ec = IP_E_NOTFOUND;
    /* keep the URL free of query strings (upload state) */
    const char *q = strchr(url, '?');
    int ulen = q ? (int)(q - url) : (int)strlen(url);
    ip_err_set(err, ec, "%s %.*s: HTTP %ld%s%s%s%.300s", method, ulen, url, status,
               code ? ": " : "", code ? code : "", message ? ": " : "", message ? message : "");
    err->http_status = status;
    if (tree)
        yajl_tree_free(tree);
    return -(int)ec;
}

static int curl_error(CURLcode cc, const char *method, const char *url, struct ip_err *err)
{
    const char *q = strchr(url, '?');
    int ulen = q ? (int)(q - url) : (int)strlen(url);
    enum ip_code ec = IP_E_NETWORK;
    const char *detail = curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(cc);
    bool cert = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                strstr(detail, "certificate") != NULL;
    ip_err_set(err, ec, "%s %.*s: %s%s", method, ulen, url, detail,
               cert ? " (trust the registry's CA with --registry-ca-cert-path)" : "");
    if (cc == CURLE_OPERATION_TIMEDOUT)
        ip_err_wrap(err, "no answer in time");
    return -(int)ec;
}

static bool status_retryable(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static void backoff(int attempt)
{
    struct timespec ts;
    long ms = 100L << (attempt < 5 ? attempt : 5); /* 100 ms .. 3.2 s */
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

char *reg_resolve_url(const struct reg_client *c, const char *location)
{
    if (!strncmp(location, "http://", 7) || !strncmp(location, "https://", 8))
        return ip_xstrdup(location);
    if (location[0] == '/')
        return ip_xasprintf("%s%s", c->base, location);
    return ip_xasprintf("%s/%s", c->base, location);
}

/* ---- auth ---- */

static void debug_line(const struct reg_client *c, const char *method, const char *url, long status)
{
    if (!c->opts.debug)
        return;
    const char *q = strchr(url, '?');
    int ulen = q ? (int)(q - url) : (int)strlen(url);
    fprintf(stderr, "imgpkg: debug: %s %.*s -> %ld\n", method, ulen, url, status);
}

static struct token *token_find(struct reg_client *c, const char *scope)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < c->n_tokens; i++)
        if (!strcmp(c->tokens[i].scope, scope) && c->tokens[i].expires > now)
            return &c->tokens[i];
    return NULL;
}

static void token_drop(struct reg_client *c, const char *scope)
{
    for (size_t i = 0; i < c->n_tokens; i++) {
        if (!strcmp(c->tokens[i].scope, scope)) {
            c->tokens[i].expires = 0;
        }
    }
}

static void token_store(struct reg_client *c, const char *scope, const char *value, long ttl)
{
    for (size_t i = 0; i < c->n_tokens; i++) {
        if (!strcmp(c->tokens[i].scope, scope)) {
            free(c->tokens[i].value);
            c->tokens[i].value = ip_xstrdup(value);
            c->tokens[i].expires = time(NULL) + ttl;
            return;
        }
    }
    IP_GROW(c->tokens, c->cap_tokens, c->n_tokens + 1);
    c->tokens[c->n_tokens].scope = ip_xstrdup(scope);
    c->tokens[c->n_tokens].value = ip_xstrdup(value);
    c->tokens[c->n_tokens].expires = time(NULL) + ttl;
    c->n_tokens++;
}

static void append_query(struct ip_buf *u, CURL *h, const char *key, const char *val, bool *first)
{
    char *esc = curl_easy_escape(h, val, 0);
    ip_buf_printf(u, "%s%s=%s", *first ? "?" : "&", key, esc);
    curl_free(esc);
    *first = false;
}

/* Fetches a bearer token for `scope` (space-separated scopes) from the realm. */
static int fetch_token(struct reg_client *c, const char *scope, struct ip_err *err)
{
    CURL *h = pool_get(c);
    struct ip_buf url = IP_BUF_INIT, body = IP_BUF_INIT, form = IP_BUF_INIT;
    struct reg_resp resp = {0};
    struct xfer x = {0};
    struct curl_slist *hdrs = NULL;
    yajl_val tree = NULL;
    bool first = true;
    int rc = 0;
    CURLcode cc;
    char *realm, *service;

    pthread_mutex_lock(&c->mu);
    realm = c->realm ? ip_xstrdup(c->realm) : NULL;
    service = c->service ? ip_xstrdup(c->service) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!realm) {
        rc = ip_err_set(err, IP_E_AUTH, "registry %s asked for a bearer token without a realm",
                        c->host);
        goto out;
    }
    if (strncmp(realm, "https://", 8) != 0 && strncmp(realm, "http://", 7) != 0) {
        rc = ip_err_set(err, IP_E_AUTH, "registry %s: token realm is not an http(s) URL", c->host);
        goto out;
    }
    ip_buf_init(&body, MAX_TOKEN_BODY);
    x.resp = &resp;
    x.body = &body;
    x.body_max = MAX_TOKEN_BODY;
    ip_buf_adds(&url, realm);
    if (c->cred.identity_token) {
        /* OAuth2 refresh-token exchange */
        setup_handle(c, h, realm);
        ip_buf_adds(&form, "grant_type=refresh_token");
        bool f2 = false;
        if (service)
            append_query(&form, h, "service", service, &f2);
        char *dup = ip_xstrdup(scope), *save = NULL;
        for (char *s = strtok_r(dup, " ", &save); s; s = strtok_r(NULL, " ", &save))
            append_query(&form, h, "scope", s, &f2);
        free(dup);
        append_query(&form, h, "client_id", "imgpkg", &f2);
        append_query(&form, h, "refresh_token", c->cred.identity_token, &f2);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form.len);
    } else {
        if (strchr(realm, '?'))
            first = false;
        if (service)
            append_query(&url, h, "service", service, &first);
        char *dup = ip_xstrdup(scope), *save = NULL;
        for (char *s = strtok_r(dup, " ", &save); s; s = strtok_r(NULL, " ", &save))
            append_query(&url, h, "scope", s, &first);
        free(dup);
        setup_handle(c, h, url.data);
        if (c->cred.username && c->cred.password) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, c->cred.username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, c->cred.password);
        }
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    /* the token server, too, may reset or cut short a connection or answer
     * 429 / 5xx for a while: the same request again, after a pause */
    for (int attempt = 0;; attempt++) {
        ip_buf_reset(&body);
        ip_buf_reset(&x.errbody);
        reg_resp_release(&resp);
        x.header_bytes = 0;
        cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
        debug_line(c, c->cred.identity_token ? "POST" : "GET", realm, resp.status);
        if (attempt >= c->opts.retries ||
            !(cc != CURLE_OK ? curl_retryable(cc) : status_retryable(resp.status)))
            break;
        backoff(attempt);
    }
    if (cc != CURLE_OK) {
        rc = curl_error(cc, "GET", realm, err);
        goto out;
    }
    if (resp.status >= 400) {
        rc = status_error("GET", realm, resp.status, &x.errbody, err);
        if (rc == -IP_E_NOTFOUND)
            err->code = IP_E_AUTH;
        rc = -(int)err->code;
        goto out;
    }
    if ((rc = ip_json_parse(body.data ? body.data : "", body.len, &tree, err)) < 0) {
        ip_err_wrap(err, "token from %s", realm);
        goto out;
    }
    const char *tok = ip_json_get_str(tree, "token");
    if (!tok || !*tok)
        tok = ip_json_get_str(tree, "access_token");
    if (!tok || !*tok) {
        rc = ip_err_set(err, IP_E_AUTH, "token server %s answered without a token", realm);
        goto out;
    }
    int64_t ttl = 60;
    if (ip_json_get_int(tree, "expires_in", &ttl) && ttl < 10)
        ttl = 10;
    if (ttl > 3600)
        ttl = 3600;
    pthread_mutex_lock(&c->mu);
    /* renew a little early so a token never expires in the middle of a request */
    token_store(c, scope, tok, (long)(ttl > 30 ? ttl - 10 : ttl));
    pthread_mutex_unlock(&c->mu);
out:
    if (tree)
        yajl_tree_free(tree);
    curl_slist_free_all(hdrs);
    pool_put(c, h);
    reg_resp_release(&resp);
    ip_buf_release(&x.errbody);
    ip_buf_release(&url);
    ip_buf_release(&body);
    ip_buf_release(&form);
    free(realm);
    free(service);
    return rc;
}

/* The Authorization header for a request on `scope`, or NULL. */
static int auth_header(struct reg_client *c, const char *scope, char **out, struct ip_err *err)
{
    enum auth_mode mode;
    *out = NULL;
    if (c->cred.registry_token) {
        *out = ip_xasprintf("Authorization: Bearer %s", c->cred.registry_token);
        return 0;
    }
    pthread_mutex_lock(&c->mu);
    mode = c->mode;
    pthread_mutex_unlock(&c->mu);
    if (mode == AUTH_BASIC) {
        if (!c->cred.username || !c->cred.password)
            return 0;
        cleanup_free char *up = ip_xasprintf("%s:%s", c->cred.username, c->cred.password);
        cleanup_free char *b64 = ip_base64_encode(up, strlen(up));
        *out = ip_xasprintf("Authorization: Basic %s", b64);
        return 0;
    }
    if (mode == AUTH_BEARER && scope) {
        pthread_mutex_lock(&c->mu);
        struct token *t = token_find(c, scope);
        char *v = t ? ip_xstrdup(t->value) : NULL;
        pthread_mutex_unlock(&c->mu);
        if (!v) {
            int rc = fetch_token(c, scope, err);
            if (rc < 0)
                return rc;
            pthread_mutex_lock(&c->mu);
            t = token_find(c, scope);
            v = t ? ip_xstrdup(t->value) : NULL;
            pthread_mutex_unlock(&c->mu);
            if (!v)
                return ip_err_set(err, IP_E_AUTH, "no token for %s", scope);
        }
        *out = ip_xasprintf("Authorization: Bearer %s", v);
        free(v);
    }
    return 0;
}

/* Takes a 401's challenge into the client; false when nothing can be done. */
static bool take_challenge(struct reg_client *c, const char *www, const char *scope,
                           struct ip_err *err)
{
    struct ip_challenge ch;
    struct ip_err e;
    if (!www || ip_www_auth_parse(www, &ch, &e) < 0)
        return false;
    pthread_mutex_lock(&c->mu);
    bool can = true;
    if (!strcmp(ch.scheme, "basic")) {
        can = c->mode != AUTH_BASIC && c->cred.username != NULL;
        c->mode = AUTH_BASIC;
    } else if (!strcmp(ch.scheme, "bearer")) {
        c->mode = AUTH_BEARER;
        if (ch.realm) {
            free(c->realm);
            c->realm = ip_xstrdup(ch.realm);
        }
        free(c->service);
        c->service = ch.service ? ip_xstrdup(ch.service) : NULL;
        if (scope)
            token_drop(c, scope);
    } else {
        can = false;
    }
    pthread_mutex_unlock(&c->mu);
    ip_challenge_release(&ch);
    (void)err;
    return can;
}

/* ---- requests ---- */

static bool same_origin(const struct reg_client *c, const char *url)
{
    size_t n = strlen(c->base);
    return !strncmp(url, c->base, n) && (url[n] == '/' || url[n] == '\0' || url[n] == '?');
}

static bool status_ok(long s, const long *ok)
{
    if (s >= 200 && s < 300)
        return true;
    for (; ok && *ok; ok++)
        if (*ok == s)
            return true;
    return false;
}

int reg_do(struct reg_client *c, const struct reg_req *req, const long *ok_status,
           struct reg_resp *resp, struct ip_err *err)
{
    cleanup_free char *url = req->url[0] == '/' ? ip_xasprintf("%s%s", c->base, req->url)
                                                : ip_xstrdup(req->url);
    bool resendable = req->body_reader == NULL;
    bool auth_retried = false;
    int attempt = 0, rc = 0;

    for (;;) {
        CURL *h = pool_get(c);
        struct curl_slist *hdrs = NULL;
        struct xfer x = {0};
        char *auth = NULL;
        CURLcode cc;

        reg_resp_release(resp);
        resp->content_length = -1;
        if ((rc = auth_header(c, req->scope, &auth, err)) < 0) {
            pool_put(c, h);
            return rc;
        }
        if (req->resp_body)
            ip_buf_reset(req->resp_body);
        x.resp = resp;
        x.body = req->resp_body;
        x.body_max = req->resp_max;
        x.body_reader = req->body_reader;
        setup_handle(c, h, url);
        /* credentials go to the registry only, never to another host that a
         * Location or Link header names */
        if (auth && same_origin(c, url))
            hdrs = curl_slist_append(hdrs, auth);
        if (req->content_type) {
            cleanup_free char *ct = ip_xasprintf("Content-Type: %s", req->content_type);
            hdrs = curl_slist_append(hdrs, ct);
        }
        if (req->accept) {
            cleanup_free char *ac = ip_xasprintf("Accept: %s", req->accept);
            hdrs = curl_slist_append(hdrs, ac);
        }
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        if (req->follow_redirects) {
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
            curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        }
        if (!strcmp(req->method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (req->body_reader) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
            curl_easy_setopt(h, CURLOPT_READDATA, &x);
            if (req->body_size >= 0)
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        } else if (!strcmp(req->method, "POST") || !strcmp(req->method, "PUT") ||
                   !strcmp(req->method, "PATCH")) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        } else if (strcmp(req->method, "GET") != 0) {
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        }
        cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_slist_free_all(hdrs);
        if (auth) {
            memset(auth, 0, strlen(auth));
            free(auth);
        }
        pool_put(c, h);
        debug_line(c, req->method, url, resp->status);

        if (x.reader_failed) {
            *err = x.reader_err;
            ip_buf_release(&x.errbody);
            return -(int)(err->code ? err->code : IP_E_IO);
        }
        if (headers_too_big(&x, cc, resp->status)) {
            ip_buf_release(&x.errbody);
            return ip_err_set(err, IP_E_TOOBIG, "%s %s: response headers over %u bytes",
                              req->method, c->host, MAX_HEADER_BYTES);
        }
        if (x.body_overflow) {
            ip_buf_release(&x.errbody);
            return ip_err_set(err, IP_E_TOOBIG, "%s %s: response body over %zu bytes",
                              req->method, c->host, req->resp_max);
        }
        if (cc != CURLE_OK) {
            rc = curl_error(cc, req->method, url, err);
            ip_buf_release(&x.errbody);
            if (curl_retryable(cc) && resendable && attempt < c->opts.retries) {
                backoff(attempt++);
                continue;
            }
            return rc;
        }
        if (resp->status == 401 && !auth_retried && !c->cred.registry_token &&
            take_challenge(c, resp->www_authenticate, req->scope, err)) {
            auth_retried = true;
            ip_buf_release(&x.errbody);
            if (!resendable)
                return ip_err_set(err, IP_E_NETWORK, "%s %s: authentication expired during upload",
                                  req->method, c->host);
            continue;
        }
        if (!status_ok(resp->status, ok_status)) {
            rc = status_error(req->method, url, resp->status, &x.errbody, err);
            ip_buf_release(&x.errbody);
            if (status_retryable(resp->status) && resendable && attempt < c->opts.retries) {
                backoff(attempt++);
                continue;
            }
            return rc;
        }
        ip_buf_release(&x.errbody);
        return 0;
    }
}

/* ---- streaming GET ---- */

struct stream_reader {
    struct ip_reader base;
    struct reg_client *c;
    CURL *h;
    CURLM *m;
    struct curl_slist *hdrs;
    char *url;
    char *scope;
    char *accept;
    struct reg_resp resp;
    struct xfer x; /* headers and error body */
    char *buf;
    size_t start, len;
    bool paused, done, started_body, auth_retried;
    CURLcode result;
    /* a transient failure restarts the GET: the bytes already handed out are
     * skipped in the new answer (a blob's content never changes; the caller
     * verifies its digest) */
    int64_t delivered, skip;
    int attempt;
};

static size_t stream_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct stream_reader *s = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 || status == 0) {
        struct ip_err e;
        if (s->x.errbody.len + n <= MAX_ERROR_BODY)
            ip_buf_add(&s->x.errbody, p, n, &e);
        return n;
    }
    /* after a restart, the bytes already handed out (the skip is only taken
     * once the rest fits: a paused chunk comes again whole) */
    size_t total = n, off = s->skip <= 0 ? 0 : (uint64_t)s->skip < n ? (size_t)s->skip : n;
    p += off;
    n -= off;
    if (s->start + s->len + n > STREAM_BUF) {
        if (s->start) {
            memmove(s->buf, s->buf + s->start, s->len);
            s->start = 0;
        }
        if (s->len + n > STREAM_BUF) {
            s->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        }
    }
    s->skip -= (int64_t)off;
    if (n == 0)
        return total;
    memcpy(s->buf + s->start + s->len, p, n);
    s->len += n;
    s->started_body = true;
    return total;
}

static int stream_start(struct stream_reader *s, struct ip_err *err)
{
    char *auth = NULL;
    int rc;
    if (s->h) {
        curl_multi_remove_handle(s->m, s->h);
        pool_put(s->c, s->h);
        s->h = NULL;
    }
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    if ((rc = auth_header(s->c, s->scope, &auth, err)) < 0)
        return rc;
    s->h = pool_get(s->c);
    setup_handle(s->c, s->h, s->url);
    if (auth) {
        s->hdrs = curl_slist_append(s->hdrs, auth);
        free(auth);
    }
    if (s->accept) {
        cleanup_free char *ac = ip_xasprintf("Accept: %s", s->accept);
        s->hdrs = curl_slist_append(s->hdrs, ac);
    }
    reg_resp_release(&s->resp);
    s->x.resp = &s->resp;
    s->x.header_bytes = 0;
    ip_buf_reset(&s->x.errbody);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(s->h, CURLOPT_HEADERDATA, &s->x);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(s->h, CURLOPT_MAXREDIRS, 5L);
    s->done = false;
    s->paused = false;
    s->result = CURLE_OK;
    curl_multi_add_handle(s->m, s->h);
    return 0;
}

static ssize_t stream_read(struct ip_reader *r, void *out, size_t n, struct ip_err *err)
{
    struct stream_reader *s = (struct stream_reader *)r;
again:
    while (s->len == 0 && !s->done) {
        int running = 0, msgs = 0;
        CURLMsg *msg;
        if (s->paused) {
            s->paused = false;
            curl_easy_pause(s->h, CURLPAUSE_CONT);
            if (s->len)
                break;
        }
        curl_multi_perform(s->m, &running);
        while ((msg = curl_multi_info_read(s->m, &msgs)) != NULL) {
            if (msg->msg == CURLMSG_DONE) {
                s->done = true;
                s->result = msg->data.result;
            }
        }
        if (s->done) {
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            s->resp.status = status;
            debug_line(s->c, "GET", s->url, status);
            if (headers_too_big(&s->x, s->result, status))
                return ip_err_set(err, IP_E_TOOBIG, "GET %s: response headers over %u bytes",
                                  s->c->host, MAX_HEADER_BYTES);
            if (s->result == CURLE_OK && status == 401 && !s->auth_retried && !s->started_body &&
                take_challenge(s->c, s->resp.www_authenticate, s->scope, err)) {
                s->auth_retried = true;
                int rc = stream_start(s, err);
                if (rc < 0)
                    return rc;
                continue;
            }
            break;
        }
        if (s->len == 0 && !s->done && !s->paused)
            curl_multi_poll(s->m, NULL, 0, 1000, NULL);
    }
    if (s->len > 0) {
        size_t k = n < s->len ? n : s->len;
        memcpy(out, s->buf + s->start, k);
        s->start += k;
        s->len -= k;
        if (s->len == 0)
            s->start = 0;
        s->delivered += (int64_t)k;
        return (ssize_t)k;
    }
    /* a reset, a body cut short, 429 or 5xx: the same GET again, after a pause */
    if (((s->result != CURLE_OK && curl_retryable(s->result)) ||
         (s->result == CURLE_OK && status_retryable(s->resp.status))) &&
        s->attempt < s->c->opts.retries) {
        backoff(s->attempt++);
        s->skip = s->delivered;
        int rc = stream_start(s, err);
        if (rc < 0)
            return rc;
        goto again;
    }
    if (s->result != CURLE_OK)
        return curl_error(s->result, "GET", s->url, err);
    if (s->resp.status >= 300)
        return status_error("GET", s->url, s->resp.status, &s->x.errbody, err);
    return 0;
}

static void stream_free(struct ip_reader *r)
{
    struct stream_reader *s = (struct stream_reader *)r;
    if (s->h) {
        curl_multi_remove_handle(s->m, s->h);
        if (s->done)
            pool_put(s->c, s->h);
        else
            curl_easy_cleanup(s->h); /* a transfer cut short: its connection is not reusable */
    }
    if (s->m)
        curl_multi_cleanup(s->m);
    curl_slist_free_all(s->hdrs);
    reg_resp_release(&s->resp);
    ip_buf_release(&s->x.errbody);
    free(s->buf);
    free(s->url);
    free(s->scope);
    free(s->accept);
    free(s);
}

int reg_get_stream(struct reg_client *c, const char *path, const char *scope, const char *accept,
                   struct ip_reader **out, struct ip_err *err)
{
    struct stream_reader *s = ip_xcalloc(1, sizeof(*s));
    int rc;
    s->base.read = stream_read;
    s->base.free = stream_free;
    s->c = c;
    s->url = path[0] == '/' ? ip_xasprintf("%s%s", c->base, path) : ip_xstrdup(path);
    s->scope = scope ? ip_xstrdup(scope) : NULL;
    s->accept = accept ? ip_xstrdup(accept) : NULL;
    s->buf = ip_xmalloc(STREAM_BUF);
    s->m = curl_multi_init();
    if (!s->m)
        abort();
    if ((rc = stream_start(s, err)) < 0) {
        stream_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

/* ---- setup ---- */

static int load_cas(struct reg_client *c, struct ip_err *err)
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
            return ip_err_set(err, IP_E_INPUT, "--registry-ca-cert-path '%s' holds no PEM certificate",
                              c->opts.ca_cert_paths[i]);
        }
        ip_buf_adds(&b, "\n");
    }
    c->ca_blob = ip_buf_detach(&b, &c->ca_blob_len);
    return 0;
}

/* GET /v2/ with a scheme; fills mode and challenge.  Returns a curl error code. */
static int ping(struct reg_client *c, const char *scheme, struct ip_err *err)
{
    struct reg_resp resp = {0};
    free(c->base);
    c->base = ip_xasprintf("%s://%s", scheme, c->host);
    CURL *h = pool_get(c);
    struct xfer x = {0};
    cleanup_free char *url = ip_xasprintf("%s/v2/", c->base);
    x.resp = &resp;
    setup_handle(c, h, url);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    pool_put(c, h);
    debug_line(c, "GET", url, resp.status);
    int rc = 0;
    if (headers_too_big(&x, cc, resp.status)) {
        rc = ip_err_set(err, IP_E_TOOBIG, "GET %s: response headers over %u bytes", url,
                        MAX_HEADER_BYTES);
    } else if (cc != CURLE_OK) {
        rc = curl_error(cc, "GET", url, err);
    } else if (resp.status == 401) {
        take_challenge(c, resp.www_authenticate, NULL, err);
    } else if (resp.status >= 200 && resp.status < 300) {
        c->mode = AUTH_NONE;
    } else {
        rc = status_error("GET", url, resp.status, &x.errbody, err);
    }
    ip_buf_release(&x.errbody);
    reg_resp_release(&resp);
    return rc;
}

int reg_client_new(const char *registry, const struct ip_registry_opts *opts,
                   struct reg_client **out, struct ip_err *err)
{
    struct reg_client *c = ip_xcalloc(1, sizeof(*c));
    int rc;
    pthread_once(&curl_once, curl_init_once);
    pthread_mutex_init(&c->mu, NULL);
    c->host = ip_xstrdup(registry);
    c->opts = *opts;
    if (c->opts.connect_timeout_s <= 0)
        c->opts.connect_timeout_s = 30;
    if (c->opts.response_header_timeout_s <= 0)
        c->opts.response_header_timeout_s = 30;
    if (c->opts.retries < 0)
        c->opts.retries = 0;
    c->opts.auth = (struct ip_auth_opts){0}; /* flags are consumed by ip_auth_resolve */
    c->opts.ca_cert_paths = NULL;
    c->opts.n_ca_cert_paths = 0;
    if (opts->n_ca_cert_paths) {
        c->ca_paths = ip_xcalloc(opts->n_ca_cert_paths, sizeof(char *));
        for (size_t i = 0; i < opts->n_ca_cert_paths; i++)
            c->ca_paths[i] = ip_xstrdup(opts->ca_cert_paths[i]);
        c->opts.ca_cert_paths = (const char **)c->ca_paths;
        c->opts.n_ca_cert_paths = opts->n_ca_cert_paths;
    }
    if ((rc = load_cas(c, err)) < 0)
        goto fail;
    if ((rc = ip_auth_resolve(registry, &opts->auth, &c->cred, err)) < 0)
        goto fail;
    if (!opts->verify_certs)
        fprintf(stderr, "imgpkg: Warning: TLS certificate verification is off for %s\n", registry);

    for (int attempt = 0;; attempt++) {
        rc = ping(c, "https", err);
        if (rc < 0 && err->code == IP_E_NETWORK &&
            (opts->insecure || ip_registry_is_loopback(registry))) {
            struct ip_err https_err = *err;
            rc = ping(c, "http", err);
            /* the https failure is the more telling one, unless plain http
             * reached a registry that is busy or failing (429, 5xx) or that
             * sent headers too large */
            if (rc < 0 && err->code != IP_E_TOOBIG &&
                !(err->code == IP_E_HTTP && status_retryable(err->http_status)))
                *err = https_err;
        }
        bool transient = rc < 0 && (err->code == IP_E_NETWORK ||
                                    (err->code == IP_E_HTTP && status_retryable(err->http_status)));
        /* a registry that refuses connections outright is down: no point waiting */
        if (rc == 0 || !transient || attempt >= c->opts.retries ||
            strstr(err->msg, "Couldn't connect") || strstr(err->msg, "certificate") ||
            strstr(err->msg, "no answer in time"))
            break;
        backoff(attempt);
    }
    if (rc < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    reg_client_free(c);
    return rc;
}

void reg_client_free(struct reg_client *c)
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
    o->connect_timeout_s = 30;
    o->retries = 5;
}
