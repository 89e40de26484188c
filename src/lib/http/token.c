/* token.c - authentication of the registry client: the challenge of a 401
 * taken in (Basic, or Bearer with its realm and service), bearer tokens
 * fetched from the realm (GET, or the OAuth2 refresh-token POST), cached per
 * scope and renewed before they expire, and the Authorization header of a
 * request. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/client-private.h"
#include "oci/json.h"
#include "util/base64.h"
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

/* Fetches a bearer token for `scope` (space-separated scopes) from the realm. */
static int fetch_token(struct ip_http_client *c, const char *scope, struct ip_err *err)
{
    CURL *h = ip_http_pool_get(c);
    struct ip_buf url = IP_BUF_INIT, body = IP_BUF_INIT, form = IP_BUF_INIT;
    struct ip_http_resp resp = {0};
    struct ip_http_xfer x = {0};
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
        ip_http_setup_handle(c, h, realm);
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
        ip_http_setup_handle(c, h, url.data);
        if (c->cred.username && c->cred.password) {
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(h, CURLOPT_USERNAME, c->cred.username);
            curl_easy_setopt(h, CURLOPT_PASSWORD, c->cred.password);
        }
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ip_http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    /* the token server, too, may reset or cut short a connection or answer
     * 429 / 5xx for a while: the same request again, after a pause */
    for (int attempt = 0;; attempt++) {
        ip_buf_reset(&body);
        ip_buf_reset(&x.errbody);
        ip_http_resp_release(&resp);
        x.header_bytes = 0;
        cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
        ip_http_debug_line(c, c->cred.identity_token ? "POST" : "GET", realm, resp.status);
        if (attempt >= c->opts.retries ||
            !(cc != CURLE_OK ? ip_http_curl_retryable(cc) : ip_http_status_retryable(resp.status)))
            break;
        ip_http_backoff(attempt);
    }
    if (cc != CURLE_OK) {
        rc = ip_http_curl_error(cc, "GET", realm, err);
        goto out;
    }
    if (resp.status >= 400) {
        rc = ip_http_status_error("GET", realm, resp.status, &x.errbody, err);
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
    ip_http_pool_put(c, h);
    ip_http_resp_release(&resp);
    ip_buf_release(&x.errbody);
    ip_buf_release(&url);
    ip_buf_release(&body);
    ip_buf_release(&form);
    free(realm);
    free(service);
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
