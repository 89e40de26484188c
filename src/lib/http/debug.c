/* debug.c - --debug: each request and response as go-containerregistry's
 * logging transport prints them (imgpkg --debug): "--> METHOD URL", the
 * request as sent (httputil.DumpRequestOut, CRLF line ends), "<-- STATUS URL
 * (DURATION)", the response (httputil.DumpResponse: its headers in Go's
 * canonical form, Content-Length first, the rest sorted) and its body.
 * Authorization is shown as <redacted>; the bodies of blobs and of token
 * requests and answers are left out ("[body redacted: REASON]").  Lines go
 * to the caller's debug_log (the library never prints). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http/client-private.h"
#include "util/banned.h"

struct ip_http_debug {
    const struct ip_http_client *c;
    const char *redact; /* why the bodies are left out, or NULL */
    struct ip_buf req;  /* the request as sent, until the answer starts */
    struct ip_buf in;   /* the response's status line and header lines */
    char *url;
    double start;
    bool req_pending;
    bool logged; /* the "-->" line is out */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(const struct ip_http_client *c, const char *text)
{
    c->opts.debug_log(c->opts.debug_log_ctx, text);
}

/* Go's time.Duration.String() for durations under an hour. */
static void go_duration(char *out, size_t size, double secs)
{
    long long ns = (long long)(secs * 1e9 + 0.5);
    const char *unit = "s";
    long long div = 1000000000LL;
    if (ns < 1000) {
        snprintf(out, size, "%lldns", ns);
        return;
    }
    if (ns < 1000000) {
        unit = "µs";
        div = 1000;
    } else if (ns < 1000000000LL) {
        unit = "ms";
        div = 1000000;
    }
    char frac[16];
    int w = div == 1000 ? 3 : div == 1000000 ? 6 : 9;
    snprintf(frac, sizeof(frac), "%0*lld", w, ns % div);
    for (int i = w - 1; i >= 0 && frac[i] == '0'; i--)
        frac[i] = '\0';
    snprintf(out, size, "%lld%s%s%s", ns / div, frac[0] ? "." : "", frac, unit);
}

static void flush_request(struct ip_http_debug *d)
{
    if (!d->req_pending)
        return;
    d->req_pending = false;
    ip_buf_adds(&d->req, "\n");
    emit(d->c, d->req.data);
    ip_buf_reset(&d->req);
}

/* Go canonical header key ("docker-content-digest" -> "Docker-Content-Digest"). */
static void canonical_key(char *k, size_t n)
{
    bool up = true;
    for (size_t i = 0; i < n; i++) {
        k[i] = (char)(up ? toupper((unsigned char)k[i]) : tolower((unsigned char)k[i]));
        up = k[i] == '-';
    }
}

/* Go writes a request's headers Host, User-Agent, Content-Length first, the
 * others sorted, Accept-Encoding (its transport's) last. */
static int request_rank(const char *l)
{
    static const char *const first[] = {
        "Host:", "User-Agent:", "Content-Length:", "Transfer-Encoding:"};
    for (int i = 0; i < (int)IP_ARRAY_SIZE(first); i++)
        if (!strncasecmp(l, first[i], strlen(first[i])))
            return i;
    return strncasecmp(l, "Accept-Encoding:", 16) ? 10 : 20;
}

static int request_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int rx = request_rank(x), ry = request_rank(y);
    if (rx != ry)
        return rx - ry;
    return strcasecmp(x, y);
}

static void log_request_line(struct ip_http_debug *d, const char *method, const char *url)
{
    cleanup_free char *line =
        ip_xasprintf("--> %s %s%s%s%s", method, url, d->redact ? " [body redacted: " : "",
                     d->redact ? d->redact : "", d->redact ? "]" : "");
    emit(d->c, line);
    d->logged = true;
}

/* The request's header block, Authorization redacted, in Go's order. */
static void take_request(struct ip_http_debug *d, CURL *h, const char *data, size_t size)
{
    const char *url = NULL;
    char *save = NULL, *lines[256];
    size_t n = 0;
    flush_request(d);
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &url);
    cleanup_free char *block = ip_xstrndup(data, size);
    cleanup_free char *method = ip_xstrndup(block, strcspn(block, " "));
    log_request_line(d, method, url ? url : d->url);
    if (url) {
        free(d->url);
        d->url = ip_xstrdup(url);
    }
    char *first = strtok_r(block, "\r\n", &save);
    for (char *l = strtok_r(NULL, "\r\n", &save); l && n < IP_ARRAY_SIZE(lines);
         l = strtok_r(NULL, "\r\n", &save)) {
        canonical_key(l, strcspn(l, ":"));
        lines[n++] = l;
    }
    qsort(lines, n, sizeof(*lines), request_cmp);
    ip_buf_printf(&d->req, "%s\r\n", first ? first : "");
    for (size_t i = 0; i < n; i++) {
        if (!strncasecmp(lines[i], "Authorization:", 14))
            ip_buf_adds(&d->req, "Authorization: <redacted>\r\n");
        else
            ip_buf_printf(&d->req, "%s\r\n", lines[i]);
    }
    ip_buf_adds(&d->req, "\r\n");
    d->req_pending = true;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    struct ip_http_debug *d = ud;
    struct ip_err e;
    if (!d)
        return 0;
    switch (type) {
    case CURLINFO_HEADER_OUT:
        take_request(d, h, data, size);
        break;
    case CURLINFO_DATA_OUT:
        if (!d->redact && d->req_pending && d->req.len < (64u << 10))
            ip_buf_add(&d->req, data, size, &e);
        break;
    case CURLINFO_HEADER_IN:
        flush_request(d);
        if (size >= 5 && !strncmp(data, "HTTP/", 5))
            ip_buf_reset(&d->in); /* a new answer (after 100 Continue or a redirect) */
        ip_buf_add(&d->in, data, size, &e);
        break;
    default:
        break;
    }
    return 0;
}

void ip_http_debug_attach(const struct ip_http_client *c, CURL *h, struct ip_http_xfer *x,
                          const char *url, const char *redact)
{
    ip_http_debug_release(x);
    if (!c->opts.debug || !c->opts.debug_log)
        return;
    struct ip_http_debug *d = ip_xcalloc(1, sizeof(*d));
    d->c = c;
    d->redact = redact;
    d->url = ip_xstrdup(url);
    d->start = mono_s();
    ip_buf_init(&d->req, 0);
    ip_buf_init(&d->in, 0);
    x->dbg = d;
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, d);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

static int header_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t xn = strcspn(x, ":"), yn = strcspn(y, ":");
    int c = strncmp(x, y, xn < yn ? xn : yn);
    return c ? c : (xn > yn) - (xn < yn);
}

/* The answer as httputil.DumpResponse gives it. */
static void dump_response(struct ip_http_debug *d, const struct ip_http_xfer *x, struct ip_buf *out)
{
    char *save = NULL, *lines[256];
    size_t n = 0;
    const char *clen = NULL;
    cleanup_free char *in = ip_xstrdup(d->in.data ? d->in.data : "");
    char *status = strtok_r(in, "\r\n", &save);
    for (char *l = strtok_r(NULL, "\r\n", &save); l && n < IP_ARRAY_SIZE(lines);
         l = strtok_r(NULL, "\r\n", &save)) {
        size_t kn = strcspn(l, ":");
        if (!l[kn])
            continue;
        canonical_key(l, kn);
        if (!strncmp(l, "Content-Length:", 15))
            clen = l;
        else if (strncmp(l, "Transfer-Encoding:", 18) != 0)
            lines[n++] = l;
    }
    qsort(lines, n, sizeof(*lines), header_cmp);
    ip_buf_printf(out, "%s\r\n", status ? status : "");
    if (clen)
        ip_buf_printf(out, "%s\r\n", clen);
    for (size_t i = 0; i < n; i++)
        ip_buf_printf(out, "%s\r\n", lines[i]);
    ip_buf_adds(out, "\r\n");
    if (d->redact)
        return;
    const struct ip_buf *body = x->resp && x->resp->status < 300 && x->body ? x->body : &x->errbody;
    if (body->len)
        ip_buf_printf(out, "%.*s", (int)(body->len < (64u << 10) ? body->len : (64u << 10)),
                      body->data);
}

void ip_http_debug_done(struct ip_http_xfer *x, CURL *h, const char *method, CURLcode cc)
{
    struct ip_http_debug *d = x->dbg;
    char dur[48];
    if (!d)
        return;
    flush_request(d);
    if (!d->logged) /* nothing was sent: the connection or the handshake failed */
        log_request_line(d, method, d->url);
    go_duration(dur, sizeof(dur), mono_s() - d->start);
    const char *url = d->url ? d->url : "";
    if (cc != CURLE_OK && !(d->in.len && x->resp && x->resp->status)) {
        cleanup_free char *why =
            ip_xasprintf("<-- %s %s %s (%s)", curl_easy_strerror(cc), method, url, dur);
        emit(d->c, why);
    } else {
        long status = 0;
        struct ip_buf out = IP_BUF_INIT;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        cleanup_free char *line = ip_xasprintf("<-- %ld %s (%s)%s%s%s", status, url, dur,
                                               d->redact ? " [body redacted: " : "",
                                               d->redact ? d->redact : "", d->redact ? "]" : "");
        emit(d->c, line);
        dump_response(d, x, &out);
        ip_buf_adds(&out, "\n");
        emit(d->c, out.data);
        ip_buf_release(&out);
    }
    /* the handle goes back to the pool: nothing more of it is logged here */
    ip_http_debug_detach(h);
    ip_http_debug_release(x);
}

void ip_http_debug_detach(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, NULL);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, NULL);
}

void ip_http_debug_release(struct ip_http_xfer *x)
{
    struct ip_http_debug *d = x->dbg;
    if (!d)
        return;
    ip_buf_release(&d->req);
    ip_buf_release(&d->in);
    free(d->url);
    free(d);
    x->dbg = NULL;
}
