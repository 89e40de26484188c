/* secret.c - wiping secrets before their memory is given back. */
#include <string.h>

#include <openssl/crypto.h>

#include "util/secret.h"
#include "util/banned.h"

void ip_secret_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void ip_secret_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void ip_secret_buf_release(struct ip_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    ip_buf_release(b);
}
