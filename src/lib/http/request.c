/* request.c - one request to the registry, authenticated as it asks and
 * retried when it fails on the way and its body can be sent again. */
#include <stdio.h>
#include <string.h>

#include "http/client-private.h"
#include "util/secret.h"
#include "util/banned.h"

static bool same_origin(const struct ip_http_client *c, const char *url)
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

/* One request on its way: what the tries share. */
struct request {
    struct ip_http_client *c;
    const struct ip_http_req *req;
    const long *ok_status;
    struct ip_http_resp *resp;
    char *url;
    bool auth_retried;
    struct ip_retry *policy;
};

static struct curl_slist *request_headers(const struct request *r, const char *auth)
{
    struct curl_slist *hdrs = NULL;
    /* credentials go to the registry only, never to another host that a
     * Location or Link header names */
    if (auth && same_origin(r->c, r->url))
        hdrs = curl_slist_append(hdrs, auth);
    if (r->req->content_type) {
        cleanup_free char *ct = ip_xasprintf("Content-Type: %s", r->req->content_type);
        hdrs = curl_slist_append(hdrs, ct);
    }
    if (r->req->accept) {
        cleanup_free char *ac = ip_xasprintf("Accept: %s", r->req->accept);
        hdrs = curl_slist_append(hdrs, ac);
    }
    return curl_slist_append(hdrs, "Expect:");
}

static void request_method(CURL *h, const struct ip_http_req *req, struct ip_http_xfer *x,
                           long req_timeout)
{
    if (!strcmp(req->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req->body_reader) {
        /* a blob's upload takes the time it takes; the answer to it does not */
        ip_http_error_deadline(h, x, req_timeout);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, ip_http_read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
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
}

/* Sends the request once; the response's status and headers land in
 * r->resp, an error body (kept for its message) in x->errbody. */
static int exchange(struct request *r, struct ip_http_xfer *x, struct ip_err *err)
{
    const struct ip_http_req *req = r->req;
    struct ip_http_client *c = r->c;
    char *auth = NULL;
    int rc;

    ip_http_resp_release(r->resp);
    r->resp->content_length = -1;
    if ((rc = ip_http_auth_header(c, req->scope, &auth, err)) < 0) {
        r->policy->max = r->policy->attempt; /* the token fetch had its own tries */
        return rc;
    }
    if (req->resp_body)
        ip_buf_reset(req->resp_body);
    x->resp = r->resp;
    x->body = req->resp_body;
    x->body_max = req->resp_max;
    x->body_reader = req->body_reader;
    CURL *h = ip_http_pool_get(c);
    ip_http_setup_handle(c, h, r->url);
    struct curl_slist *hdrs = request_headers(r, auth);
    if (auth) {
        ip_secret_wipe(auth, strlen(auth));
        free(auth);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    ip_http_debug_attach(c, h, x, r->url, req->body_reader ? IP_REDACT_BLOB : NULL);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ip_http_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    if (req->follow_redirects) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    request_method(h, req, x, c->opts.request_timeout_s);
    CURLcode cc = ip_http_outcome(c, x, curl_easy_perform(h));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->resp->status);
    ip_http_debug_done(x, h, req->method, cc);

    if (x->reader_failed) {
        *err = x->reader_err;
        rc = -(int)(err->code ? err->code : IP_E_IO);
    } else if (ip_http_headers_too_big(x, cc, r->resp->status)) {
        rc = ip_err_set(err, IP_E_TOOBIG, "%s %s: response headers over %u bytes", req->method,
                        c->host, MAX_HEADER_BYTES);
    } else if (x->body_overflow) {
        rc = ip_err_set(err, IP_E_TOOBIG, "%s %s: response body over %zu bytes", req->method,
                        c->host, req->resp_max);
    } else if (cc != CURLE_OK) {
        rc = ip_http_curl_error(h, cc, req->method, r->url, err);
    }
    curl_slist_free_all(hdrs);
    ip_http_pool_put(c, h);
    return rc;
}

/* One try: the request, sent again once with the credentials a 401 asks for. */
static int request_once(void *ctx, struct ip_err *err)
{
    struct request *r = ctx;
    struct ip_http_xfer x = {0};
    int rc = exchange(r, &x, err);

    if (rc == 0 && r->resp->status == 401 && !r->auth_retried && !r->c->cred.registry_token &&
        ip_http_take_challenge(r->c, r->resp->www_authenticate, r->req->scope, err)) {
        r->auth_retried = true;
        ip_buf_release(&x.errbody);
        if (r->req->body_reader)
            return ip_err_set(err, IP_E_NETWORK, "%s %s: authentication expired during upload",
                              r->req->method, r->c->host);
        x = (struct ip_http_xfer){0};
        rc = exchange(r, &x, err);
    }
    if (rc == 0 && !status_ok(r->resp->status, r->ok_status))
        rc = ip_http_status_error(r->req->method, r->url, r->resp->status, &x.errbody, err);
    ip_buf_release(&x.errbody);
    return rc;
}

int ip_http_do(struct ip_http_client *c, const struct ip_http_req *req, const long *ok_status,
               struct ip_http_resp *resp, struct ip_err *err)
{
    cleanup_free char *url =
        req->url[0] == '/' ? ip_xasprintf("%s%s", c->base, req->url) : ip_xstrdup(req->url);
    /* a body read from a stream cannot be sent again */
    struct ip_retry policy = ip_retry_policy(req->body_reader ? 0 : c->opts.retries);
    struct request r = {c, req, ok_status, resp, url, false, &policy};
    return ip_retry_run(&policy, request_once, &r, err);
}
