/* client.h - the registry HTTP client shared by the registry store: one
 * struct reg_client per repository store, holding the base URL, the credentials,
 * the bearer tokens per scope and a pool of curl handles (one connection each,
 * kept alive).  Thread-safe: transfers may run concurrently. */
#ifndef IMGPKG_HTTP_CLIENT_H
#define IMGPKG_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stdint.h>

#include "imgpkg/io.h"
#include "imgpkg/registry.h"

struct reg_client;

struct reg_req {
    const char *method;  /* GET, HEAD, POST, PUT, PATCH, DELETE */
    const char *url;     /* absolute URL, or a path starting with "/v2/" */
    const char *scope;   /* "repository:NAME:pull" or ":pull,push" */
    const char *content_type;
    const char *accept;
    /* request body: bytes, or a reader of body_size bytes (-1: unknown) */
    const void *body;
    size_t body_len;
    struct ip_reader *body_reader;
    int64_t body_size;
    /* response body: buffered up to resp_max bytes (0: discarded) */
    struct ip_buf *resp_body;
    size_t resp_max;
    bool follow_redirects;
};

struct reg_resp {
    long status;
    char *location;
    char *docker_digest;
    char *content_type;
    char *www_authenticate;
    char *link;
    int64_t content_length;
};
void reg_resp_release(struct reg_resp *r);

int reg_client_new(const char *registry, const struct ip_registry_opts *opts,
                   struct reg_client **out, struct ip_err *err);
void reg_client_free(struct reg_client *c);
const char *reg_client_base(const struct reg_client *c);
const char *reg_client_host(const struct reg_client *c);

/* Sends a request, authenticating as the registry asks (Basic or Bearer for the
 * scope; tokens cached and renewed), retrying transient failures when the body
 * can be sent again.  A response with status >= 400 becomes an error carrying
 * the registry's error code and message; `ok_status` lists extra statuses that
 * are not errors (e.g. 404 for HEAD), ending with 0. */
int reg_do(struct reg_client *c, const struct reg_req *req, const long *ok_status,
           struct reg_resp *resp, struct ip_err *err);

/* Starts a GET whose body is read through the returned reader (bounded buffer,
 * nothing held whole); the reader fails on any transfer error. */
int reg_get_stream(struct reg_client *c, const char *path, const char *scope, const char *accept,
                   struct ip_reader **out, struct ip_err *err);

/* Makes an absolute URL from a Location header (relative or absolute). */
char *reg_resolve_url(const struct reg_client *c, const char *location);

#endif
