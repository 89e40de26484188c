/* error.h - the error object every fallible function of the library fills.
 *
 * Functions return 0 on success or a negative ip_code and fill the struct ip_err
 * passed as their last argument.  Callers add context on the way up with
 * ip_err_wrap(); only main() prints.  Codes are never renumbered. */
#ifndef IMGPKG_ERROR_H
#define IMGPKG_ERROR_H

#include <stdarg.h>

enum ip_code {
    IP_OK = 0,
    IP_E_USAGE = 1,  /* bad command line */
    IP_E_INPUT = 2,  /* bad input files or folders */
    IP_E_IO = 3,     /* a system call failed */
    IP_E_FORMAT = 4, /* malformed JSON, YAML, tar, reference */
    IP_E_DIGEST = 5, /* content does not match its digest or size */
    IP_E_NOMEM = 6,
    IP_E_NOTFOUND = 7,     /* tag, manifest or blob not found */
    IP_E_UNSUPPORTED = 8,  /* valid but not handled (algorithm, media type) */
    IP_E_HTTP = 9,         /* registry answered with an error */
    IP_E_AUTH = 10,        /* registry refused the credentials */
    IP_E_NETWORK = 11,     /* connection, TLS, timeout */
    IP_E_TOOBIG = 12,      /* input over a size cap */
    IP_E_VERIFY = 13,      /* verify found problems */
    IP_E_EXISTS = 14,      /* destination in the way */
    IP_E_TIMEOUT = 15,     /* no answer in time (a registry, a child process) */
    IP_E_TLS = 16,         /* TLS handshake or certificate refused */
    IP_E_UNREACHABLE = 17, /* connection refused, host not found */
};

struct ip_err {
    enum ip_code code;
    int sys_errno; /* errno when code is IP_E_IO (or a transfer's socket), else 0 */
    long http_status;
    int curl_code; /* libcurl's CURLcode of a failed transfer, else 0 */
    char msg[2048];
};

/* Sets the error (replacing any message) and returns -code. */
int ip_err_set(struct ip_err *err, enum ip_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like ip_err_set with IP_E_IO, appending ": strerror(errnum)". */
int ip_err_sys(struct ip_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes "context: " to the message; returns -code. */
int ip_err_wrap(struct ip_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ip_err_clear(struct ip_err *err);
/* How a failure bears on trying again: the one classification every retry
 * of the library (requests, token fetches, streamed downloads, whole blobs)
 * and its callers go by, read from the code, errno, curl code and HTTP
 * status, never from the message (src/lib/http/retry.c). */
enum ip_failure {
    IP_FAIL_FINAL,       /* trying again cannot help */
    IP_FAIL_TRANSIENT,   /* a reset, an answer cut short, 429, 5xx */
    IP_FAIL_UNREACHABLE, /* refused, not found, or no answer in time: maybe down */
    IP_FAIL_CORRUPT,     /* content did not match its digest or size */
};
enum ip_failure ip_err_classify(const struct ip_err *err);

/* Process exit status for an error (imgpkg exits 1 on every error). */
int ip_err_exit_status(const struct ip_err *err);

#endif
