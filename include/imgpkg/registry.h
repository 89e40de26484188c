/* registry.h - the registry client (OCI distribution API over libcurl) and the
 * registry store built on it. */
#ifndef IMGPKG_REGISTRY_H
#define IMGPKG_REGISTRY_H

#include <stdbool.h>

#include "imgpkg/ref.h"
#include "imgpkg/store.h"

/* Values of the credential flags (NULL/false when not given); see the
 * library's http/auth.h for the order in which credentials are looked up. */
struct ip_auth_opts {
    const char *username; /* --registry-username */
    const char *password; /* --registry-password */
    const char *token;    /* --registry-token */
    bool anon;            /* --registry-anon */
};

struct ip_registry_opts {
    const char **ca_cert_paths; /* --registry-ca-cert-path, repeatable */
    size_t n_ca_cert_paths;
    bool verify_certs;              /* --registry-verify-certs (default true) */
    bool insecure;                  /* --registry-insecure: plain HTTP allowed */
    long response_header_timeout_s; /* --registry-response-header-timeout */
    /* --registry-request-timeout: a request whose answer is held in memory
     * or dropped (everything but a blob's content) ends within this; an
     * error answer to a blob transfer too, counted from its status line */
    long request_timeout_s;
    long connect_timeout_s;
    int retries; /* per request, for resets, 429 and 5xx */
    bool debug;  /* each request and answer to debug_log, credentials redacted */
    /* With debug: gets each entry as Go's log.Print would (the caller adds a
     * time stamp and a newline when the text lacks one). */
    void (*debug_log)(void *ctx, const char *text);
    void *debug_log_ctx;
    struct ip_auth_opts auth;
    /* Warnings for the user (e.g. certificate verification off), one line
     * each, from the thread that opens the store: the library never prints.
     * NULL: dropped. */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
};
void ip_registry_opts_init(struct ip_registry_opts *o);

/* A registry store for one repository.  `ref` names the repository (any tag
 * or digest in it is ignored by the store: callers pass them to get_manifest).
 * As a destination, begin() takes the entries' tags (org.opencontainers.image.ref.name)
 * and commit() puts each tag last, after every blob and manifest is in. */
int ip_store_registry_open(const struct ip_ref *ref, const struct ip_registry_opts *opts,
                           struct ip_store **out, struct ip_err *err);

/* True when `s` is a registry store of `registry` ("host[:port]"). */
bool ip_store_registry_is_on(const struct ip_store *s, const char *registry);
/* A store for another repository of the registry store `s` (which must be
 * one): it shares `s`'s connection, credentials and tokens, and sends nothing
 * now.  Either may be freed first. */
struct ip_store *ip_store_registry_sibling(struct ip_store *s, const char *repository);

/* The manifest a tag or digest names (tag resolve): as get_manifest, with the
 * registry's error as it is (imgpkg's tag resolve does not word it as an image
 * fetch). */
int ip_registry_resolve(struct ip_store *s, const char *ref, struct ip_manifest **out,
                        struct ip_err *err);

/* Tags of the repository (GET /v2/<name>/tags/list, following pagination). */
int ip_registry_list_tags(struct ip_store *s, char ***tags, size_t *n, struct ip_err *err);

#endif
