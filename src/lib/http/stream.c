/* stream.c - a streaming GET: the body handed out through a reader from a
 * bounded buffer (curl paused while it is full), restarted after a transient
 * failure with the bytes already delivered skipped. */
#include <stdio.h>
#include <string.h>

#include "http/client-private.h"
#include "util/banned.h"

#define STREAM_BUF (1u << 20)

struct stream_reader {
    struct ip_reader base;
    struct ip_http_client *c;
    CURL *h;
    CURLM *m;
    struct curl_slist *hdrs;
    char *url;
    char *scope;
    char *accept;
    struct ip_http_resp resp;
    struct ip_http_xfer x; /* headers and error body */
    char *buf;
    size_t start, len;
    bool paused, done, started_body, auth_retried;
    CURLcode result;
    /* a transient failure restarts the GET: the bytes already handed out are
     * skipped in the new answer (a blob's content never changes; the caller
     * verifies its digest) */
    int64_t delivered, skip;
    struct ip_retry retry;
};

static size_t stream_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct stream_reader *s = ud;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 300 || status == 0) {
        struct ip_err e;
        /* the start of an error body, for its message; a longer one ends the transfer */
        if (s->x.errbody.len + n > MAX_ERROR_BODY) {
            s->x.discard_full = true;
            return 0;
        }
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
        ip_http_pool_put(s->c, s->h);
        s->h = NULL;
    }
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    if ((rc = ip_http_auth_header(s->c, s->scope, &auth, err)) < 0)
        return rc;
    s->h = ip_http_pool_get(s->c);
    ip_http_setup_handle(s->c, s->h, s->url);
    if (auth) {
        s->hdrs = curl_slist_append(s->hdrs, auth);
        free(auth);
    }
    if (s->accept) {
        cleanup_free char *ac = ip_xasprintf("Accept: %s", s->accept);
        s->hdrs = curl_slist_append(s->hdrs, ac);
    }
    /* asked for as imgpkg asks, but never decoded: a blob's digest is over
     * the bytes as the registry holds them */
    curl_easy_setopt(s->h, CURLOPT_ACCEPT_ENCODING, NULL);
    s->hdrs = curl_slist_append(s->hdrs, "Accept-Encoding: gzip");
    ip_http_resp_release(&s->resp);
    s->x.resp = &s->resp;
    s->x.header_bytes = 0;
    s->x.discard_full = false;
    ip_buf_reset(&s->x.errbody);
    /* a blob's content takes the time it takes; an error answer does not */
    ip_http_error_deadline(s->h, &s->x, s->c->opts.request_timeout_s);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, ip_http_header_cb);
    curl_easy_setopt(s->h, CURLOPT_HEADERDATA, &s->x);
    ip_http_debug_attach(s->c, s->h, &s->x, s->url, IP_REDACT_BLOB);
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

/* Runs the transfer until bytes are buffered or it ends (a 401 before the
 * body taken as a challenge and the GET sent again). */
static int stream_pump(struct stream_reader *s, struct ip_err *err)
{
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
                s->result = ip_http_outcome(s->c, &s->x, msg->data.result);
            }
        }
        if (s->done) {
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            s->resp.status = status;
            ip_http_debug_done(&s->x, s->h, "GET", s->result);
            if (ip_http_headers_too_big(&s->x, s->result, status))
                return ip_err_set(err, IP_E_TOOBIG, "GET %s: response headers over %u bytes",
                                  s->c->host, MAX_HEADER_BYTES);
            if (s->result == CURLE_OK && status == 401 && !s->auth_retried && !s->started_body &&
                ip_http_take_challenge(s->c, s->resp.www_authenticate, s->scope, err)) {
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
    return 0;
}

/* The end of a transfer with nothing buffered: 0 at the body's end, else
 * its failure. */
static int stream_outcome(struct stream_reader *s, struct ip_err *err)
{
    if (s->result != CURLE_OK)
        return ip_http_curl_error(s->h, s->result, "GET", s->url, err);
    if (s->resp.status >= 300)
        return ip_http_status_error("GET", s->url, s->resp.status, &s->x.errbody, err);
    return 0;
}

static ssize_t stream_read(struct ip_reader *r, void *out, size_t n, struct ip_err *err)
{
    struct stream_reader *s = (struct stream_reader *)r;
    int rc;
    for (;;) {
        if ((rc = stream_pump(s, err)) < 0)
            return rc;
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
        if ((rc = stream_outcome(s, err)) == 0 || !ip_retry_again(&s->retry, err))
            return rc;
        /* the same GET again, the bytes handed out skipped */
        s->skip = s->delivered;
        if ((rc = stream_start(s, err)) < 0)
            return rc;
    }
}

static void stream_free(struct ip_reader *r)
{
    struct stream_reader *s = (struct stream_reader *)r;
    if (s->h) {
        ip_http_debug_detach(s->h);
        curl_multi_remove_handle(s->m, s->h);
        if (s->done)
            ip_http_pool_put(s->c, s->h);
        else
            curl_easy_cleanup(s->h); /* a transfer cut short: its connection is not reusable */
    }
    if (s->m)
        curl_multi_cleanup(s->m);
    ip_http_debug_release(&s->x);
    curl_slist_free_all(s->hdrs);
    ip_http_resp_release(&s->resp);
    ip_buf_release(&s->x.errbody);
    free(s->buf);
    free(s->url);
    free(s->scope);
    free(s->accept);
    free(s);
}

int ip_http_get_stream(struct ip_http_client *c, const char *path, const char *scope,
                       const char *accept, struct ip_reader **out, struct ip_err *err)
{
    struct stream_reader *s = ip_xcalloc(1, sizeof(*s));
    int rc;
    s->base.read = stream_read;
    s->base.free = stream_free;
    s->c = c;
    s->retry = ip_retry_policy(c->opts.retries);
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
