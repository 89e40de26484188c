/* auth.h - registry credentials and authentication challenges.
 *
 * Credentials are resolved in imgpkg's order of precedence: the
 * IMGPKG_REGISTRY_* environment variables (with _N suffixes) for a matching
 * host, then the command-line flags (--registry-username/--registry-password,
 * --registry-token, --registry-anon, and IMGPKG_USERNAME/PASSWORD/TOKEN/ANON),
 * then Docker's config.json (auths, credHelpers, credsStore).  Secrets are never put
 * in error messages. */
#ifndef IMGPKG_AUTH_H
#define IMGPKG_AUTH_H

#include <stdbool.h>

#include "imgpkg/error.h"

/* One challenge from a WWW-Authenticate header. */
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
    char *username;       /* basic auth, or NULL */
    char *password;
    char *identity_token; /* OAuth2 refresh token to exchange at the realm, or NULL */
    char *registry_token; /* a bearer token used as is, or NULL */
    bool anonymous;       /* nothing found, or --registry-anon */
};
void ip_cred_release(struct ip_cred *c);

/* Values of the command-line flags (NULL/false when not given). */
struct ip_auth_opts {
    const char *username;
    const char *password;
    const char *token;
    bool anon;
};

/* Resolves the credentials for `registry` ("host" or "host:port";
 * "index.docker.io" also matches Docker config keys for Docker Hub). */
int ip_auth_resolve(const char *registry, const struct ip_auth_opts *opts, struct ip_cred *out,
                    struct ip_err *err);

/* Base64 helpers used for Basic auth and config.json "auth" fields. */
char *ip_base64_encode(const void *p, size_t n);
/* Returns NULL on invalid input; *len receives the decoded size. */
unsigned char *ip_base64_decode(const char *s, size_t *len);

#endif
