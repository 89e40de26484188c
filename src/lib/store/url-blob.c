/* url-blob.c - a layer from its descriptor's urls (see url-blob.h). */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imgpkg/util.h"
#include "store/url-blob.h"
#include "util/banned.h"

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
static char *url_ca_bundle(const struct ip_url_fetch *rs, size_t *len)
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

static int open_url(const struct ip_url_fetch *rs, const struct ip_desc *d, const char *url,
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
int ip_url_blob_open(const struct ip_url_fetch *f, const struct ip_desc *d, const char *where,
                     struct ip_reader **out, struct ip_err *err)
{
    int rc = 0;
    bool tried = false;
    for (size_t i = 0; i < d->n_urls; i++) {
        if (!http_url(d->urls[i]))
            continue;
        tried = true;
        if ((rc = open_url(f, d, d->urls[i], out, err)) == 0)
            return 0;
    }
    if (!tried)
        return ip_err_set(err, IP_E_NOTFOUND,
                          "blob %s is not in %s and none of its urls is http(s)", d->digest, where);
    return ip_err_wrap(err, "blob %s is not in %s; from its urls", d->digest, where);
}
