/* error.c - filling and wrapping struct ip_err. */
#include <stdio.h>
#include <string.h>

#include "imgpkg/error.h"
#include "util/banned.h"

int ip_err_set(struct ip_err *err, enum ip_code code, const char *fmt, ...)
{
    va_list ap;
    err->code = code;
    err->sys_errno = 0;
    err->http_status = 0;
    err->curl_code = 0;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return -(int)code;
}

int ip_err_sys(struct ip_err *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t len;
    err->code = IP_E_IO;
    err->http_status = 0;
    err->curl_code = 0;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    len = strlen(err->msg);
    snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
    err->sys_errno = errnum;
    return -(int)IP_E_IO;
}

int ip_err_wrap(struct ip_err *err, const char *fmt, ...)
{
    char prefix[1024], old[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
    if (err->code == IP_OK)
        err->code = IP_E_IO;
    return -(int)err->code;
}

void ip_err_clear(struct ip_err *err)
{
    err->code = IP_OK;
    err->sys_errno = 0;
    err->http_status = 0;
    err->curl_code = 0;
    err->msg[0] = '\0';
}

int ip_err_exit_status(const struct ip_err *err)
{
    return err->code == IP_OK ? 0 : 1;
}
