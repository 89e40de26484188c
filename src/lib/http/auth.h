/* auth.h - registry credentials and authentication challenges (internal to
 * the library: the registry client is their only user).
 *
 * Credentials are resolved in imgpkg's order of precedence (auth.c): the
 * IMGPKG_REGISTRY_* environment variables (keychain-env.c) for a matching
 * host, then the command-line flags (--registry-username/--registry-password,
 * --registry-token, --registry-anon, and IMGPKG_USERNAME/PASSWORD/TOKEN/ANON),
 * then Docker's config.json (docker-config.c: auths, credHelpers and
 * credsStore, the helpers run by cred-helper.c).  Secrets are never put in
 * error messages and are wiped before their memory is freed. */
#ifndef IMGPKG_HTTP_AUTH_H
#define IMGPKG_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/error.h"
#include "imgpkg/registry.h"

/* One challenge from a WWW-Authenticate header (www-auth.c). */
struct ip_challenge {
    char *scheme;  /* lowercased: "basic", "bearer" */
    char *realm;   /* NULL when absent */
    char *service; /* NULL when absent */
    char *scope;   /* NULL when absent */
    char *error;   /* e.g. "invalid_token", NULL when absent */
};

/* Parses the first challenge of a WWW-Authenticate header value (quoted
 * strings with escapes, unquoted tokens, any order, unknown params ignored).
 * A malformed header gives IP_E_FORMAT. */
int ip_www_auth_parse(const char *header, struct ip_challenge *out, struct ip_err *err);
void ip_challenge_release(struct ip_challenge *c);

struct ip_cred {
    char *username; /* basic auth, or NULL */
    char *password;
    char *identity_token; /* OAuth2 refresh token to exchange at the realm, or NULL */
    char *registry_token; /* a bearer token used as is, or NULL */
    bool anonymous;       /* nothing found, or --registry-anon */
};
void ip_cred_release(struct ip_cred *c);

/* Resolves the credentials for `registry` ("host" or "host:port";
 * "index.docker.io" also matches Docker config keys for Docker Hub). */
int ip_auth_resolve(const char *registry, const struct ip_auth_opts *opts, struct ip_cred *out,
                    struct ip_err *err);

/* ---- between the keychains ---- */

/* The first IMGPKG_REGISTRY_* set whose hostname matches `registry`.
 * 1: matched (the set may hold no credential: anonymous), 0: none. */
int ip_keychain_env_resolve(const char *registry, struct ip_cred *out, struct ip_err *err);

/* The keychains IMGPKG_ACTIVE_KEYCHAINS names (a set of bits), checked
 * before any network: an unknown name is imgpkg's error. */
int ip_active_keychains(unsigned *out, struct ip_err *err);
/* The active cloud or GitHub keychain serving `registry`, if any.
 * 1: credentials, 0: none, <0: error. */
int ip_keychain_cloud_resolve(unsigned active, const char *registry, struct ip_cred *out,
                              struct ip_err *err);

/* Docker's config.json (and Podman's auth.json) for `registry`.
 * 1: credentials, 0: none, <0: error. */
int ip_docker_config_resolve(const char *registry, struct ip_cred *out, struct ip_err *err);

/* Runs `docker-credential-HELPER get` with `server_url` on its stdin.
 * 1: credentials, 0: the helper has none, <0: error. */
int ip_cred_helper_get(const char *helper, const char *server_url, struct ip_cred *out,
                       struct ip_err *err);

/* "docker.io", "registry-1.docker.io" and "index.docker.io" name one registry
 * (go-containerregistry's name package). */
bool ip_host_is_docker_hub(const char *host, size_t n);
/* Host names equal ignoring case, Docker Hub's names taken as one. */
bool ip_hosts_equal(const char *a, size_t an, const char *b, size_t bn);
/* A fresh copy of a non-empty string, else NULL. */
char *ip_dup_nonempty(const char *s);

#endif
