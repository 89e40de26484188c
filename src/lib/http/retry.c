/* retry.c - which failures are worth another try, and the loop that tries. */
#include <errno.h>
#include <time.h>

#include <curl/curl.h>

#include "http/retry.h"
#include "util/banned.h"

/* Transfers that failed on the way: the next one may well get through. */
static bool curl_transient(int cc)
{
    switch (cc) {
    case 0: /* a network failure of our own (e.g. authentication expired mid-upload) */
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:   /* an answer garbled on the way */
    case CURLE_BAD_CONTENT_ENCODING: /* a compressed answer cut short */
    case CURLE_SEND_FAIL_REWIND:     /* a connection lost under an upload */
        return true;
    default:
        return false;
    }
}

static bool errno_transient(int e)
{
    return e == ECONNRESET || e == ECONNABORTED || e == EPIPE || e == ETIMEDOUT;
}

/* Registries answer these while busy or restarting (go-containerregistry
 * retries the same statuses). */
static bool status_transient(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

enum ip_failure ip_err_classify(const struct ip_err *err)
{
    switch (err->code) {
    case IP_E_NETWORK:
        return curl_transient(err->curl_code) || errno_transient(err->sys_errno) ? IP_FAIL_TRANSIENT
                                                                                 : IP_FAIL_FINAL;
    case IP_E_TIMEOUT:
    case IP_E_UNREACHABLE:
        return IP_FAIL_UNREACHABLE;
    case IP_E_HTTP:
        return status_transient(err->http_status) ? IP_FAIL_TRANSIENT : IP_FAIL_FINAL;
    case IP_E_IO:
        return errno_transient(err->sys_errno) ? IP_FAIL_TRANSIENT : IP_FAIL_FINAL;
    case IP_E_DIGEST:
        return IP_FAIL_CORRUPT;
    default:
        return IP_FAIL_FINAL;
    }
}

static void pause_before(int attempt)
{
    long ms = 100L << (attempt < 5 ? attempt : 5); /* 100 ms .. 3.2 s */
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

bool ip_retry_again(struct ip_retry *r, const struct ip_err *err)
{
    enum ip_failure f = ip_err_classify(err);
    bool worth = f == IP_FAIL_TRANSIENT || (f == IP_FAIL_UNREACHABLE && r->unreachable) ||
                 (f == IP_FAIL_CORRUPT && r->corrupt);
    if (!worth || r->attempt >= r->max)
        return false;
    pause_before(r->attempt++);
    return true;
}

int ip_retry_run(struct ip_retry *r, int (*once)(void *ctx, struct ip_err *err), void *ctx,
                 struct ip_err *err)
{
    for (;;) {
        int rc = once(ctx, err);
        if (rc == 0 || !ip_retry_again(r, err))
            return rc;
    }
}
