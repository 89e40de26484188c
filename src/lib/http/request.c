/* request.c - one request to the registry, authenticated as it asks and
 * retried when it fails on the way and its body can be sent again. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/client-private.h"
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

int ip_http_do(struct ip_http_client *c, const struct ip_http_req *req, const long *ok_status,
               struct ip_http_resp *resp, struct ip_err *err)
{
    cleanup_free char *url =
        req->url[0] == '/' ? ip_xasprintf("%s%s", c->base, req->url) : ip_xstrdup(req->url);
    bool resendable = req->body_reader == NULL;
    bool auth_retried = false;
    int attempt = 0, rc = 0;

    for (;;) {
        CURL *h = ip_http_pool_get(c);
        struct curl_slist *hdrs = NULL;
        struct ip_http_xfer x = {0};
        char *auth = NULL;
        CURLcode cc;

        ip_http_resp_release(resp);
        resp->content_length = -1;
        if ((rc = ip_http_auth_header(c, req->scope, &auth, err)) < 0) {
            ip_http_pool_put(c, h);
            return rc;
        }
        if (req->resp_body)
            ip_buf_reset(req->resp_body);
        x.resp = resp;
        x.body = req->resp_body;
        x.body_max = req->resp_max;
        x.body_reader = req->body_reader;
        ip_http_setup_handle(c, h, url);
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
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ip_http_write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
        if (req->follow_redirects) {
            curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
            curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
        }
        if (!strcmp(req->method, "HEAD")) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (req->body_reader) {
            curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(h, CURLOPT_READFUNCTION, ip_http_read_cb);
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
        ip_http_pool_put(c, h);
        ip_http_debug_line(c, req->method, url, resp->status);

        if (x.reader_failed) {
            *err = x.reader_err;
            ip_buf_release(&x.errbody);
            return -(int)(err->code ? err->code : IP_E_IO);
        }
        if (ip_http_headers_too_big(&x, cc, resp->status)) {
            ip_buf_release(&x.errbody);
            return ip_err_set(err, IP_E_TOOBIG, "%s %s: response headers over %u bytes",
                              req->method, c->host, MAX_HEADER_BYTES);
        }
        if (x.body_overflow) {
            ip_buf_release(&x.errbody);
            return ip_err_set(err, IP_E_TOOBIG, "%s %s: response body over %zu bytes", req->method,
                              c->host, req->resp_max);
        }
        if (cc != CURLE_OK) {
            rc = ip_http_curl_error(cc, req->method, url, err);
            ip_buf_release(&x.errbody);
            if (ip_http_curl_retryable(cc) && resendable && attempt < c->opts.retries) {
                ip_http_backoff(attempt++);
                continue;
            }
            return rc;
        }
        if (resp->status == 401 && !auth_retried && !c->cred.registry_token &&
            ip_http_take_challenge(c, resp->www_authenticate, req->scope, err)) {
            auth_retried = true;
            ip_buf_release(&x.errbody);
            if (!resendable)
                return ip_err_set(err, IP_E_NETWORK, "%s %s: authentication expired during upload",
                                  req->method, c->host);
            continue;
        }
        if (!status_ok(resp->status, ok_status)) {
            rc = ip_http_status_error(req->method, url, resp->status, &x.errbody, err);
            ip_buf_release(&x.errbody);
            if (ip_http_status_retryable(resp->status) && resendable && attempt < c->opts.retries) {
                ip_http_backoff(attempt++);
                continue;
            }
            return rc;
        }
        ip_buf_release(&x.errbody);
        return 0;
    }
}
