/* base64.h - standard padded base64 (RFC 4648 section 4, Go's
 * base64.StdEncoding), for Basic auth and config.json "auth" fields. */
#ifndef IMGPKG_UTIL_BASE64_H
#define IMGPKG_UTIL_BASE64_H

#include <stddef.h>

/* A fresh NUL-terminated string. */
char *ip_base64_encode(const void *p, size_t n);
/* Returns NULL on invalid input (wrong length, bad characters, misplaced
 * padding, whitespace); *len receives the decoded size.  The result is
 * NUL-terminated. */
unsigned char *ip_base64_decode(const char *s, size_t *len);

#endif
