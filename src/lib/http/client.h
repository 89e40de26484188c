/* client.h - the registry HTTP client shared by the registry store: one
 * struct ip_http_client per repository store (client.c), holding the base URL, the credentials,
 * the bearer tokens per scope and a pool of curl handles (one connection each,
 * kept alive).  Thread-safe: transfers may run concurrently. */
#ifndef IMGPKG_HTTP_CLIENT_H
#define IMGPKG_HTTP_CLIENT_H

#include <curl/curl.h>
#include <stdint.h>

#include "imgpkg/io.h"
#include "imgpkg/registry.h"

struct ip_http_client;

struct ip_http_req {
    const char *method; /* GET, HEAD, POST, PUT, PATCH, DELETE */
    const char *url;    /* absolute URL, or a path starting with "/v2/" */
    const char *scope;  /* "repository:NAME:pull" or ":pull,push" */
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

struct ip_http_resp {
    long status;
    char *location;
    char *docker_digest;
    char *content_type;
    char *www_authenticate;
    char *link;
    int64_t content_length;
};
void ip_http_resp_release(struct ip_http_resp *r);

int ip_http_client_new(const char *registry, const struct ip_registry_opts *opts,
                       struct ip_http_client **out, struct ip_err *err);
void ip_http_client_free(struct ip_http_client *c);
const char *ip_http_client_base(const struct ip_http_client *c);
const char *ip_http_client_host(const struct ip_http_client *c);

/* Sends a request, authenticating as the registry asks (Basic or Bearer for the
 * scope; tokens cached and renewed), retrying transient failures when the body
 * can be sent again.  A response with status >= 400 becomes an error carrying
 * the registry's error code and message; `ok_status` lists extra statuses that
 * are not errors (e.g. 404 for HEAD), ending with 0. */
int ip_http_do(struct ip_http_client *c, const struct ip_http_req *req, const long *ok_status,
               struct ip_http_resp *resp, struct ip_err *err);

/* Starts a GET whose body is read through the returned reader (bounded buffer,
 * nothing held whole); the reader fails on any transfer error. */
int ip_http_get_stream(struct ip_http_client *c, const char *path, const char *scope,
                       const char *accept, struct ip_reader **out, struct ip_err *err);

/* Makes an absolute URL from a Location header (relative or absolute). */
char *ip_http_resolve_url(const struct ip_http_client *c, const char *location);

#endif
