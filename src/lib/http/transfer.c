/* transfer.c - one curl transfer of the registry client: the handle's
 * options, the header, body and upload callbacks with their bounds, and the
 * outcome as an error (the registry's error code and message, or curl's). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/client-private.h"
#include "oci/json.h"
#include "util/banned.h"

void ip_http_resp_release(struct ip_http_resp *r)
{
    free(r->location);
    free(r->docker_digest);
    free(r->content_type);
    free(r->www_authenticate);
    free(r->link);
    memset(r, 0, sizeof(*r));
}

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

/* A header line over curl's own limit (100 KiB) never reaches ip_http_header_cb:
 * curl fails with "out of memory" after the status line. */
bool ip_http_headers_too_big(const struct ip_http_xfer *x, CURLcode cc, long status)
{
    return x->header_overflow || (cc == CURLE_OUT_OF_MEMORY && status > 0);
}

size_t ip_http_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct ip_http_xfer *x = ud;
    size_t n = size * nmemb;
    struct ip_http_resp *r = x->resp;
    x->header_bytes += n;
    if (x->header_bytes > MAX_HEADER_BYTES) {
        x->header_overflow = true;
        return 0;
    }
    if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* a new response (after a redirect or 100 Continue): forget the last one */
        const char *sp = memchr(p, ' ', n);
        ip_http_resp_release(r);
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

size_t ip_http_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct ip_http_xfer *x = ud;
    size_t n = size * nmemb;
    struct ip_err e;
    if (x->resp->status >= 300 || !x->body) {
        /* keep the start of an error body for its message; a body that goes
         * on past that ends the transfer (a server may never end it) */
        if (x->errbody.len + n > MAX_ERROR_BODY) {
            x->discard_full = true;
            return 0;
        }
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

size_t ip_http_read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    struct ip_http_xfer *x = ud;
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

CURLcode ip_http_outcome(const struct ip_http_client *c, struct ip_http_xfer *x, CURLcode cc)
{
    if (cc == CURLE_WRITE_ERROR && x->discard_full)
        return CURLE_OK;
    if (cc == CURLE_ABORTED_BY_CALLBACK && x->timed_out) {
        snprintf(curl_errbuf, sizeof(curl_errbuf), "the answer (HTTP %ld) did not end within %ld s",
                 x->resp->status, x->deadline_s);
        return CURLE_OPERATION_TIMEDOUT;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT && x->resp && x->resp->status > 0 && x->deadline_s == 0)
        snprintf(curl_errbuf, sizeof(curl_errbuf), "the answer (HTTP %ld) did not end within %ld s",
                 x->resp->status, c->opts.request_timeout_s);
    return cc;
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int deadline_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct ip_http_xfer *x = ud;
    if (!x->resp || x->resp->status < 300 || x->deadline_s <= 0)
        return 0;
    double now = mono_now();
    if (x->error_since == 0)
        x->error_since = now;
    else if (now - x->error_since > (double)x->deadline_s) {
        x->timed_out = true;
        return 1;
    }
    return 0;
}

void ip_http_error_deadline(CURL *h, struct ip_http_xfer *x, long deadline_s)
{
    x->deadline_s = deadline_s;
    x->error_since = 0;
    x->timed_out = false;
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, deadline_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

void ip_http_setup_handle(struct ip_http_client *c, CURL *h, const char *url)
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
    long handshake_s =
        c->opts.response_header_timeout_s < 10 ? 10 : c->opts.response_header_timeout_s;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     c->opts.connect_timeout_s < handshake_s ? c->opts.connect_timeout_s
                                                             : handshake_s);
    /* a server that sends nothing for this long is given up on */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->opts.response_header_timeout_s);
    /* and every answer ends in time, however slowly it trickles (blob
     * transfers lift this, see ip_http_error_deadline) */
    if (c->opts.request_timeout_s > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, c->opts.request_timeout_s);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* as Go's transport: gzip asked for, and decoded (streamed blobs opt out) */
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");
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

/* The library's code for a failed transfer: what it means for the user and
 * for ip_err_classify(). */
static enum ip_code curl_code_class(CURLcode cc, int os_errno)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return IP_E_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT:
        return IP_E_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
        /* a handshake cut short by a reset is the network's doing */
        return os_errno == ECONNRESET || os_errno == EPIPE ? IP_E_NETWORK : IP_E_TLS;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
        return IP_E_TLS;
    default:
        return IP_E_NETWORK;
    }
}

/* "host:port" of a URL (the default port filled in). */
static void url_host_port(const char *url, char *out, size_t size, bool with_port)
{
    bool https = !strncmp(url, "https://", 8);
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, "/?#");
    const char *colon = memrchr(h, ':', n);
    if (colon && memchr(colon, ']', n - (size_t)(colon - h)))
        colon = NULL;
    if (!with_port)
        snprintf(out, size, "%.*s", (int)(colon ? (size_t)(colon - h) : n), h);
    else if (colon)
        snprintf(out, size, "%.*s", (int)n, h);
    else
        snprintf(out, size, "%.*s:%s", (int)n, h, https ? "443" : "80");
}

/* The address a transfer dialled, as Go prints it ("127.0.0.1:5000", "[::1]:5000"). */
static void dialled(CURL *h, const char *url, char *out, size_t size)
{
    char *ip = NULL;
    long port = 0;
    if (h && curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip &&
        curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK && port > 0)
        snprintf(out, size, strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip, port);
    else
        url_host_port(url, out, size, true);
}

/* "local->remote" of a connection, as Go prints it in read and write errors. */
static bool conn_pair(CURL *h, char *out, size_t size)
{
    char *lip = NULL, *rip = NULL;
    long lport = 0, rport = 0;
    if (!h || curl_easy_getinfo(h, CURLINFO_LOCAL_IP, &lip) != CURLE_OK || !lip || !*lip ||
        curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &rip) != CURLE_OK || !rip || !*rip)
        return false;
    curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &lport);
    curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &rport);
    snprintf(out, size, strchr(lip, ':') ? "[%s]:%ld->[%s]:%ld" : "%s:%ld->%s:%ld", lip, lport, rip,
             rport);
    return true;
}

/* Why a transfer failed, in Go's net/http words where imgpkg's users know
 * them (a refused connection, an unknown host, the timeouts), else curl's. */
static void failure_reason(CURL *h, CURLcode cc, int os_errno, const char *url, char *out,
                           size_t size)
{
    char addr[300];
    curl_off_t handshaken = 0;
    long status = 0, connected = 0;
    switch (cc) {
    case CURLE_COULDNT_CONNECT: {
        char why[128];
        snprintf(why, sizeof(why), "%s", strerror(os_errno ? os_errno : ECONNREFUSED));
        why[0] = (char)tolower((unsigned char)why[0]);
        dialled(h, url, addr, sizeof(addr));
        snprintf(out, size, "dial tcp %s: connect: %s", addr, why);
        return;
    }
    case CURLE_GOT_NOTHING: /* closed before any answer */
        snprintf(out, size, "EOF");
        return;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR: {
        bool recv = cc == CURLE_RECV_ERROR;
        if ((os_errno == ECONNRESET || os_errno == EPIPE) && conn_pair(h, addr, sizeof(addr))) {
            snprintf(out, size, "%s tcp %s: %s: %s", recv ? "read" : "write", addr,
                     recv ? "read" : "write",
                     os_errno == EPIPE ? "broken pipe" : "connection reset by peer");
            return;
        }
        snprintf(out, size, "%s", curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(cc));
        return;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
        url_host_port(url, addr, sizeof(addr), false);
        snprintf(out, size, "dial tcp: lookup %s: no such host", addr);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        if (h) {
            /* a local port: the TCP connection was made */
            curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &connected);
            curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &handshaken);
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        if (!connected) {
            dialled(h, url, addr, sizeof(addr));
            snprintf(out, size, "dial tcp %s: i/o timeout", addr);
        } else if (!strncmp(url, "https://", 8) && !handshaken) {
            snprintf(out, size, "net/http: TLS handshake timeout");
        } else if (status == 0) {
            snprintf(out, size, "net/http: timeout awaiting response headers");
        } else {
            snprintf(out, size, "%s", curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(cc));
        }
        return;
    case CURLE_PEER_FAILED_VERIFICATION: {
        long verify = 0;
        if (h)
            curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify);
        /* OpenSSL's "no issuer known" results: Go's unknown authority */
        if (verify == 18 || verify == 19 || verify == 20 || verify == 21) {
            snprintf(out, size, "x509: certificate signed by unknown authority");
            return;
        }
        snprintf(out, size, "%s (trust the registry's CA with --registry-ca-cert-path)",
                 curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(cc));
        return;
    }
    default:
        snprintf(out, size, "%s%s", curl_errbuf[0] ? curl_errbuf : curl_easy_strerror(cc),
                 cc == CURLE_SSL_CACERT_BADFILE
                     ? " (trust the registry's CA with --registry-ca-cert-path)"
                     : "");
    }
}

int ip_http_curl_error(CURL *h, CURLcode cc, const char *method, const char *url,
                       struct ip_err *err)
{
    /* the state of an upload in its URL's query is nobody's business */
    bool keep_query = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    const char *q = keep_query ? NULL : strchr(url, '?');
    int ulen = q ? (int)(q - url) : (int)strlen(url);
    long os_errno = 0;
    char reason[CURL_ERROR_SIZE + 128], op[16];

    if (h)
        curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    enum ip_code ec = curl_code_class(cc, (int)os_errno);
    failure_reason(h, cc, (int)os_errno, url, reason, sizeof(reason));
    /* Go's url.Error: `Get "URL": reason` */
    snprintf(op, sizeof(op), "%s", method);
    for (char *p = op + 1; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    ip_err_set(err, ec, "%s \"%.*s\": %s", op, ulen, url, reason);
    err->curl_code = (int)cc;
    err->sys_errno = (int)os_errno;
    return -(int)ec;
}

char *ip_http_resolve_url(const struct ip_http_client *c, const char *location)
{
    if (!strncmp(location, "http://", 7) || !strncmp(location, "https://", 8))
        return ip_xstrdup(location);
    if (location[0] == '/')
        return ip_xasprintf("%s%s", c->base, location);
    return ip_xasprintf("%s/%s", c->base, location);
}
