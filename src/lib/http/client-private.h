/* client-private.h - what the files of the registry client share: the
 * client's state (client.c), one transfer's callbacks and errors
 * (transfer.c), authentication and tokens (token.c).  Requests (request.c)
 * and streaming GETs (stream.c) are built on these. */
#ifndef IMGPKG_HTTP_CLIENT_PRIVATE_H
#define IMGPKG_HTTP_CLIENT_PRIVATE_H

#include <pthread.h>
#include <time.h>

#include "http/auth.h"
#include "http/client.h"
#include "http/retry.h"

#define MAX_HEADER_BYTES (64u << 10)
#define MAX_ERROR_BODY (64u << 10)

enum ip_http_auth_mode { IP_AUTH_UNKNOWN, IP_AUTH_NONE, IP_AUTH_BASIC, IP_AUTH_BEARER };

struct ip_http_token {
    char *scope;
    char *value;
    time_t expires;
};

struct ip_http_client {
    char *host;
    char *base; /* scheme://host */
    struct ip_registry_opts opts;
    char **ca_paths;
    char *ca_blob;
    size_t ca_blob_len;
    struct ip_cred cred;
    pthread_mutex_t mu; /* guards what follows */
    enum ip_http_auth_mode mode;
    char *realm;
    char *service;
    struct ip_http_token *tokens;
    size_t n_tokens, cap_tokens;
    CURL **pool;
    size_t n_pool, cap_pool;
};

/* ---- client.c ---- */

/* A curl handle of the pool (a new one when none is free). */
CURL *ip_http_pool_get(struct ip_http_client *c);
void ip_http_pool_put(struct ip_http_client *c, CURL *h);

/* ---- transfer.c ---- */

/* The state of one transfer, passed to the callbacks. */
struct ip_http_xfer {
    struct ip_http_resp *resp;
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
    bool discard_full;  /* a dropped body passed MAX_ERROR_BODY: the transfer was ended */
    long deadline_s;    /* with ip_http_deadline_cb: limit on an error answer */
    double error_since; /* monotonic time its status line came */
    bool timed_out;
    struct ip_http_debug *dbg; /* --debug: what is logged of this transfer (debug.c) */
};

/* Resets the handle and sets the options every transfer shares. */
void ip_http_setup_handle(struct ip_http_client *c, CURL *h, const char *url);
size_t ip_http_header_cb(char *p, size_t size, size_t nmemb, void *ud);
size_t ip_http_write_cb(char *p, size_t size, size_t nmemb, void *ud);
size_t ip_http_read_cb(char *buf, size_t size, size_t nitems, void *ud);
bool ip_http_headers_too_big(const struct ip_http_xfer *x, CURLcode cc, long status);
/* The transfer's outcome as the rest of the client sees it: a dropped body
 * cut at its cap is a complete answer, a deadline passed is a timeout. */
CURLcode ip_http_outcome(const struct ip_http_client *c, struct ip_http_xfer *x, CURLcode cc);
/* For transfers with no overall timeout (blob contents): an error answer
 * (status 300 or more) must end within x->deadline_s of its status line. */
void ip_http_error_deadline(CURL *h, struct ip_http_xfer *x, long deadline_s);
/* Fills err from an error response, with the registry's error code and message. */
int ip_http_status_error(const char *method, const char *url, long status, struct ip_buf *body,
                         struct ip_err *err);
/* Fills err from a failed transfer of this thread. */
int ip_http_curl_error(CURL *h, CURLcode cc, const char *method, const char *url,
                       struct ip_err *err);

/* ---- debug.c ---- */

/* Logs the transfer on h with --debug; `redact` (or NULL) says why its
 * bodies are left out. */
void ip_http_debug_attach(const struct ip_http_client *c, CURL *h, struct ip_http_xfer *x,
                          const char *url, const char *redact);
/* Logs the answer (or the failure) once the transfer ended. */
void ip_http_debug_done(struct ip_http_xfer *x, CURL *h, const char *method, CURLcode cc);
void ip_http_debug_release(struct ip_http_xfer *x);
/* Stops logging the handle's activity (before its state is freed). */
void ip_http_debug_detach(CURL *h);
#define IP_REDACT_BLOB "omitting binary blobs from logs"
#define IP_REDACT_TOKEN "oauth token response contains credentials"

/* ---- token.c ---- */

/* The Authorization header for a request on `scope` (fetching a token when
 * needed), or NULL. */
int ip_http_auth_header(struct ip_http_client *c, const char *scope, char **out,
                        struct ip_err *err);
/* Takes a 401's challenge into the client; false when nothing can be done. */
bool ip_http_take_challenge(struct ip_http_client *c, const char *www, const char *scope,
                            struct ip_err *err);

#endif
