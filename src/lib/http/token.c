/* token.c - authentication of the registry client: the challenge of a 401
 * taken in (Basic, or Bearer with its realm and service), bearer tokens
 * fetched from the realm (GET, or the OAuth2 refresh-token POST), cached per
 * scope and renewed before they expire, and the Authorization header of a
 * request. */
#include <stdio.h>
#include <string.h>

#include "http/client-private.h"
#include "oci/json.h"
#include "util/base64.h"
#include "util/secret.h"
#include "util/banned.h"

#define MAX_TOKEN_BODY (1u << 20)

static struct ip_http_token *token_find(struct ip_http_client *c, const char *scope)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < c->n_tokens; i++)
        if (!strcmp(c->tokens[i].scope, scope) && c->tokens[i].expires > now)
            return &c->tokens[i];
    return NULL;
}

static void token_drop(struct ip_http_client *c, const char *scope)
{
    for (size_t i = 0; i < c->n_tokens; i++) {
        if (!strcmp(c->tokens[i].scope, scope)) {
            c->tokens[i].expires = 0;
        }
    }
}

static void token_store(struct ip_http_client *c, const char *scope, const char *value, long ttl)
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

/* A token request on its way. */
struct token_fetch {
    struct ip_http_client *c;
    CURL *h;
    const char *realm;
    struct ip_http_resp resp;
    struct ip_http_xfer x;
    struct ip_buf body;
};

static void append_scopes(struct ip_buf *u, CURL *h, const char *scope, bool *first)
{
    char *dup = ip_xstrdup(scope), *save = NULL;
    for (char *s = strtok_r(dup, " ", &save); s; s = strtok_r(NULL, " ", &save))
        append_query(u, h, "scope", s, first);
    free(dup);
}

/* Sets up the handle: the OAuth2 refresh-token POST when there is an
 * identity token, else a GET with the credentials as Basic auth.  `url` and
 * `form` must outlive the transfer. */
static void token_request(struct token_fetch *f, const char *service, const char *scope,
                          struct ip_buf *url, struct ip_buf *form)
{
    struct ip_http_client *c = f->c;
    bool first = !strchr(f->realm, '?');
    ip_buf_adds(url, f->realm);
    if (c->cred.identity_token) {
        bool more = false;
        ip_http_setup_handle(c, f->h, f->realm);
        ip_buf_adds(form, "grant_type=refresh_token");
        if (service)
            append_query(form, f->h, "service", service, &more);
        append_scopes(form, f->h, scope, &more);
        append_query(form, f->h, "client_id", "imgpkg", &more);
        append_query(form, f->h, "refresh_token", c->cred.identity_token, &more);
        curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, form->data);
        curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form->len);
    } else {
        if (service)
            append_query(url, f->h, "service", service, &first);
        append_scopes(url, f->h, scope, &first);
        ip_http_setup_handle(c, f->h, url->data);
        if (c->cred.username && c->cred.password) {
            curl_easy_setopt(f->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(f->h, CURLOPT_USERNAME, c->cred.username);
            curl_easy_setopt(f->h, CURLOPT_PASSWORD, c->cred.password);
        }
    }
    curl_easy_setopt(f->h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
    curl_easy_setopt(f->h, CURLOPT_HEADERDATA, &f->x);
    curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, ip_http_write_cb);
    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, &f->x);
}

/* One try at the token server (which may reset, cut short or answer 429 /
 * 5xx for a while, as registries do). */
static int token_once(void *ctx, struct ip_err *err)
{
    struct token_fetch *f = ctx;
    ip_buf_reset(&f->body);
    ip_buf_reset(&f->x.errbody);
    ip_http_resp_release(&f->resp);
    f->x.header_bytes = 0;
    f->x.discard_full = false;
    ip_http_debug_attach(f->c, f->h, &f->x, f->realm, IP_REDACT_TOKEN);
    CURLcode cc = ip_http_outcome(f->c, &f->x, curl_easy_perform(f->h));
    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &f->resp.status);
    ip_http_debug_done(&f->x, f->h, f->c->cred.identity_token ? "POST" : "GET", cc);
    if (cc != CURLE_OK)
        return ip_http_curl_error(f->h, cc, "GET", f->realm, err);
    if (f->resp.status >= 400) {
        ip_http_status_error("GET", f->realm, f->resp.status, &f->x.errbody, err);
        if (err->code == IP_E_NOTFOUND)
            err->code = IP_E_AUTH;
        return -(int)err->code;
    }
    return 0;
}

/* Keeps the token of a token server's answer. */
static int token_keep(struct ip_http_client *c, const char *scope, const char *realm,
                      const struct ip_buf *body, struct ip_err *err)
{
    yajl_val tree = NULL;
    int rc = ip_json_parse(body->data ? body->data : "", body->len, &tree, err);
    if (rc < 0)
        return ip_err_wrap(err, "token from %s", realm);
    const char *tok = ip_json_get_str(tree, "token");
    if (!tok || !*tok)
        tok = ip_json_get_str(tree, "access_token");
    if (!tok || !*tok) {
        yajl_tree_free(tree);
        return ip_err_set(err, IP_E_AUTH, "token server %s answered without a token", realm);
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
    yajl_tree_free(tree);
    return 0;
}

/* Fetches a bearer token for `scope` (space-separated scopes) from the realm. */
static int fetch_token(struct ip_http_client *c, const char *scope, struct ip_err *err)
{
    struct ip_buf url = IP_BUF_INIT, form = IP_BUF_INIT;
    int rc;

    pthread_mutex_lock(&c->mu);
    cleanup_free char *realm = c->realm ? ip_xstrdup(c->realm) : NULL;
    cleanup_free char *service = c->service ? ip_xstrdup(c->service) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!realm)
        return ip_err_set(err, IP_E_AUTH, "registry %s asked for a bearer token without a realm",
                          c->host);
    if (strncmp(realm, "https://", 8) != 0 && strncmp(realm, "http://", 7) != 0)
        return ip_err_set(err, IP_E_AUTH, "registry %s: token realm is not an http(s) URL",
                          c->host);
    struct token_fetch f = {.c = c, .h = ip_http_pool_get(c), .realm = realm};
    ip_buf_init(&f.body, MAX_TOKEN_BODY);
    f.x.resp = &f.resp;
    f.x.body = &f.body;
    f.x.body_max = MAX_TOKEN_BODY;
    token_request(&f, service, scope, &url, &form);
    struct ip_retry policy = ip_retry_policy(c->opts.retries);
    rc = ip_retry_run(&policy, token_once, &f, err);
    if (rc == 0)
        rc = token_keep(c, scope, realm, &f.body, err);
    ip_http_pool_put(c, f.h);
    ip_http_resp_release(&f.resp);
    ip_buf_release(&f.x.errbody);
    ip_secret_buf_release(&f.body);
    ip_buf_release(&url);
    ip_secret_buf_release(&form);
    return rc;
}

/* The Authorization header for a request on `scope`, or NULL. */
int ip_http_auth_header(struct ip_http_client *c, const char *scope, char **out, struct ip_err *err)
{
    enum ip_http_auth_mode mode;
    *out = NULL;
    if (c->cred.registry_token) {
        *out = ip_xasprintf("Authorization: Bearer %s", c->cred.registry_token);
        return 0;
    }
    pthread_mutex_lock(&c->mu);
    mode = c->mode;
    pthread_mutex_unlock(&c->mu);
    if (mode == IP_AUTH_BASIC) {
        if (!c->cred.username || !c->cred.password)
            return 0;
        cleanup_free char *up = ip_xasprintf("%s:%s", c->cred.username, c->cred.password);
        cleanup_free char *b64 = ip_base64_encode(up, strlen(up));
        *out = ip_xasprintf("Authorization: Basic %s", b64);
        return 0;
    }
    if (mode == IP_AUTH_BEARER && scope) {
        pthread_mutex_lock(&c->mu);
        struct ip_http_token *t = token_find(c, scope);
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
bool ip_http_take_challenge(struct ip_http_client *c, const char *www, const char *scope,
                            struct ip_err *err)
{
    struct ip_challenge ch;
    struct ip_err e;
    if (!www || ip_www_auth_parse(www, &ch, &e) < 0)
        return false;
    pthread_mutex_lock(&c->mu);
    bool can = true;
    if (!strcmp(ch.scheme, "basic")) {
        can = c->mode != IP_AUTH_BASIC && c->cred.username != NULL;
        c->mode = IP_AUTH_BASIC;
    } else if (!strcmp(ch.scheme, "bearer")) {
        c->mode = IP_AUTH_BEARER;
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
