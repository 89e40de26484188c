/* secret.h - memory that held a password or token is wiped before it is
 * freed (OPENSSL_cleanse, which the compiler cannot optimise away). */
#ifndef IMGPKG_UTIL_SECRET_H
#define IMGPKG_UTIL_SECRET_H

#include <stddef.h>

#include "imgpkg/util.h"

void ip_secret_wipe(void *p, size_t n);
/* Wipes and frees a NUL-terminated string (NULL is fine). */
void ip_secret_free(char *s);
/* Wipes a buffer's whole allocation, then releases it. */
void ip_secret_buf_release(struct ip_buf *b);

#endif
