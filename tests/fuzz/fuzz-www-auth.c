/* fuzz-www-auth.c - ip_www_auth_parse on arbitrary WWW-Authenticate header
 * values.  A parsed challenge has a lowercase, non-empty scheme. */
#include <ctype.h>

#include "fuzz.h"

#include "http/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct ip_challenge c;
    struct ip_err err;

    ip_err_clear(&err);
    if (ip_www_auth_parse(s, &c, &err) == 0) {
        FUZZ_CHECK(c.scheme && *c.scheme, "no scheme");
        for (const char *p = c.scheme; *p; p++)
            FUZZ_CHECK(!isupper((unsigned char)*p), "scheme '%s' not lowercase", c.scheme);
        ip_challenge_release(&c);
    } else {
        FUZZ_CHECK(err.msg[0], "error without a message");
        FUZZ_CHECK(!c.scheme && !c.realm && !c.service && !c.scope && !c.error,
                   "output set on failure");
    }
    free(s);
    return 0;
}
