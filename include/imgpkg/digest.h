/* digest.h - content digests ("sha256:<64 hex>") through OpenSSL's EVP. */
#ifndef IMGPKG_DIGEST_H
#define IMGPKG_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/error.h"

#define IP_DIGEST_LEN 71 /* "sha256:" + 64 hex */
#define IP_DIGEST_SIZE (IP_DIGEST_LEN + 1)

struct ip_sha256 {
    void *ctx; /* EVP_MD_CTX */
};

void ip_sha256_init(struct ip_sha256 *h);
void ip_sha256_update(struct ip_sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out and releases the context. */
void ip_sha256_final(struct ip_sha256 *h, char out[IP_DIGEST_SIZE]);
void ip_sha256_release(struct ip_sha256 *h);
void ip_sha256_of(const void *p, size_t n, char out[IP_DIGEST_SIZE]);

/* True for "sha256:" followed by exactly 64 lowercase hex digits. */
bool ip_digest_valid(const char *d);
/* Checks a digest string, naming it in the error when it is not usable. */
int ip_digest_check(const char *d, struct ip_err *err);
/* The hex part of a valid digest. */
static inline const char *ip_digest_hex(const char *d)
{
    return d + 7;
}

#endif
