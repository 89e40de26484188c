/* base64.c - base64 over OpenSSL's EVP block coder, with the strict input
 * checks Go's decoder makes (OpenSSL alone skips whitespace and decodes
 * padding as zero bytes). */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "imgpkg/util.h"
#include "util/base64.h"
#include "util/banned.h"

/* EVP_EncodeBlock/EVP_DecodeBlock take int lengths: work in chunks. */
#define B64_CHUNK (3u * 4u * 1024u * 1024u) /* a multiple of 3 and of 4 */

char *ip_base64_encode(const void *p, size_t n)
{
    const unsigned char *in = p;
    size_t out_len = 4 * ((n + 2) / 3);
    char *out = ip_xmalloc(out_len + 1);
    size_t o = 0;

    out[0] = '\0';
    while (n > 0) {
        size_t k = n < B64_CHUNK ? n : B64_CHUNK;
        int w = EVP_EncodeBlock((unsigned char *)out + o, in, (int)k);
        o += (size_t)w;
        in += k;
        n -= k;
    }
    out[o] = '\0';
    return out;
}

static bool b64_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '/';
}

unsigned char *ip_base64_decode(const char *s, size_t *len)
{
    size_t n, pad = 0;
    unsigned char *out;
    size_t o = 0;

    if (!s)
        return NULL;
    n = strlen(s);
    /* Length a multiple of 4, at most two '=' and only at the very end. */
    if (n % 4 != 0)
        return NULL;
    while (pad < n && s[n - 1 - pad] == '=')
        pad++;
    if (pad > 2)
        return NULL;
    for (size_t i = 0; i < n - pad; i++)
        if (!b64_char((unsigned char)s[i]))
            return NULL;
    out = ip_xmalloc(n / 4 * 3 + 1);
    for (size_t i = 0; i < n;) {
        size_t k = n - i < B64_CHUNK ? n - i : B64_CHUNK;
        int r = EVP_DecodeBlock(out + o, (const unsigned char *)s + i, (int)k);
        if (r < 0) {
            OPENSSL_cleanse(out, n / 4 * 3 + 1);
            free(out);
            return NULL;
        }
        o += (size_t)r;
        i += k;
    }
    /* EVP_DecodeBlock counts the padding as decoded zero bytes. */
    o -= pad;
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}
