/* digest.c - sha256 through OpenSSL EVP (uses SHA-NI where the CPU has it). */
#include <openssl/evp.h>
#include <string.h>

#include "imgpkg/digest.h"
#include "imgpkg/util.h"
#include "util/banned.h"

void ip_sha256_init(struct ip_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        abort();
    h->ctx = ctx;
}

void ip_sha256_update(struct ip_sha256 *h, const void *p, size_t n)
{
    if (n)
        EVP_DigestUpdate(h->ctx, p, n);
}

void ip_sha256_final(struct ip_sha256 *h, char out[IP_DIGEST_SIZE])
{
    static const char hexd[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < 32; i++) {
        out[7 + 2 * i] = hexd[md[i] >> 4];
        out[8 + 2 * i] = hexd[md[i] & 15];
    }
    out[IP_DIGEST_LEN] = '\0';
    ip_sha256_release(h);
}

void ip_sha256_release(struct ip_sha256 *h)
{
    if (h->ctx)
        EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void ip_sha256_of(const void *p, size_t n, char out[IP_DIGEST_SIZE])
{
    struct ip_sha256 h;
    ip_sha256_init(&h);
    ip_sha256_update(&h, p, n);
    ip_sha256_final(&h, out);
}

bool ip_digest_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != IP_DIGEST_LEN)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int ip_digest_check(const char *d, struct ip_err *err)
{
    if (ip_digest_valid(d))
        return 0;
    if (d && (!strncmp(d, "sha512:", 7) || !strncmp(d, "sha384:", 7)))
        return ip_err_set(err, IP_E_UNSUPPORTED, "digest algorithm of '%.80s' is not supported", d);
    return ip_err_set(err, IP_E_FORMAT, "invalid digest '%.80s'", d ? d : "");
}
