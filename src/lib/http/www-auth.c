/* www-auth.c - parsing a WWW-Authenticate header (RFC 7235 section 4.1,
 * RFC 7230 section 3.2.6 for tokens and quoted strings): the first challenge
 * of the list, its scheme and the parameters the token flow needs. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"
#include "imgpkg/util.h"
#include "util/banned.h"

#define MAX_WWW_AUTH 8192

/* RFC 7230 token characters: any CHAR except CTLs and separators. */
static bool is_tchar(unsigned char c)
{
    return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[]\\{}", c);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *p)
{
    while (is_ws(*p))
        p++;
    return p;
}

static size_t token_len(const char *p)
{
    size_t n = 0;
    while (is_tchar((unsigned char)p[n]))
        n++;
    return n;
}

/* token68 (RFC 7235) filling the rest of the challenge, e.g.
 * "Negotiate dGVzdA=="; returns the end or NULL. */
static const char *token68_end(const char *p)
{
    const char *q = p;
    while (isalnum((unsigned char)*q) || (*q && strchr("-._~+/", *q)))
        q++;
    if (q == p)
        return NULL;
    while (*q == '=')
        q++;
    q = skip_ws(q);
    return *q == '\0' || *q == ',' ? q : NULL;
}

/* Quoted string at p (on the opening quote); the value with escapes removed
 * goes to *out, the position after the closing quote is returned, NULL when
 * malformed. */
static const char *parse_quoted(const char *p, char **out)
{
    struct ip_buf b;
    struct ip_err e;

    ip_buf_init(&b, 0);
    ip_buf_adds(&b, "");
    for (p++;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            *out = ip_buf_detach(&b, NULL);
            return p + 1;
        }
        if (c == '\\') {
            p++;
            c = (unsigned char)*p;
        }
        if (c == '\0' || (c < 32 && c != '\t') || c == 127) {
            ip_buf_release(&b);
            return NULL;
        }
        ip_buf_add(&b, &c, 1, &e);
    }
}

static void set_param(struct ip_challenge *c, const char *name, size_t n, char *val)
{
    static const struct {
        const char *name;
        size_t off;
    } known[] = {
        {"realm", offsetof(struct ip_challenge, realm)},
        {"service", offsetof(struct ip_challenge, service)},
        {"scope", offsetof(struct ip_challenge, scope)},
        {"error", offsetof(struct ip_challenge, error)},
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(known); i++) {
        if (strlen(known[i].name) == n && !strncasecmp(known[i].name, name, n)) {
            char **slot = (char **)((char *)c + known[i].off);
            free(*slot); /* a repeated parameter: the last one wins */
            *slot = val;
            return;
        }
    }
    free(val);
}

void ip_challenge_release(struct ip_challenge *c)
{
    if (!c)
        return;
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof(*c));
}

static int www_auth_bad(struct ip_challenge *c, struct ip_err *err, const char *why)
{
    ip_challenge_release(c);
    return ip_err_set(err, IP_E_FORMAT, "malformed WWW-Authenticate header: %s", why);
}

int ip_www_auth_parse(const char *header, struct ip_challenge *out, struct ip_err *err)
{
    struct ip_challenge c;
    const char *p;
    size_t n, hlen;
    bool after_comma = false;

    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    if (!header)
        return www_auth_bad(&c, err, "empty");
    hlen = strlen(header);
    if (hlen > MAX_WWW_AUTH)
        return ip_err_set(err, IP_E_FORMAT,
                          "malformed WWW-Authenticate header: longer than %d bytes", MAX_WWW_AUTH);
    /* Work on a copy without the trailing whitespace (and CRLF) curl keeps. */
    while (hlen > 0 && strchr(" \t\r\n", header[hlen - 1]))
        hlen--;
    cleanup_free char *copy = ip_xstrndup(header, hlen);

    /* Empty list elements may come first: "#challenge". */
    p = copy;
    while (is_ws(*p) || *p == ',')
        p++;
    if (*p == '\0')
        return www_auth_bad(&c, err, "empty");
    n = token_len(p);
    if (n == 0)
        return www_auth_bad(&c, err, "no authentication scheme");
    c.scheme = ip_xstrndup(p, n);
    for (char *s = c.scheme; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    p += n;
    if (*p == '\0' || *p == ',')
        goto done; /* a scheme alone, e.g. "Basic" */
    if (!is_ws(*p))
        return www_auth_bad(&c, err, "expected a space after the scheme");
    p = skip_ws(p);
    if (*p == '\0' || *p == ',')
        goto done;
    /* Basic and Bearer challenges carry auth-params only (RFC 7617, 6750),
     * so "Bearer realm" is a parameter without a value there; other schemes
     * may carry a token68 ("Negotiate YII="), which we have no use for. */
    if (strcmp(c.scheme, "basic") != 0 && strcmp(c.scheme, "bearer") != 0 && token68_end(p))
        goto done;

    for (;;) {
        const char *name = p;
        char *val;
        n = token_len(p);
        if (n == 0)
            return www_auth_bad(&c, err, "expected a parameter name");
        p = skip_ws(p + n);
        if (*p != '=') {
            /* After a comma, a token not followed by '=' starts the next
             * challenge ("Bearer realm=..., Basic realm=..."): keep the first. */
            if (after_comma)
                goto done;
            return www_auth_bad(&c, err, "expected '=' after a parameter name");
        }
        p = skip_ws(p + 1);
        if (*p == '"') {
            p = parse_quoted(p, &val);
            if (!p)
                return www_auth_bad(&c, err, "unterminated or invalid quoted string");
        } else {
            size_t vn = token_len(p);
            if (vn == 0)
                return www_auth_bad(&c, err, "expected a parameter value");
            val = ip_xstrndup(p, vn);
            p += vn;
        }
        set_param(&c, name, n, val);
        p = skip_ws(p);
        if (*p == '\0')
            break;
        if (*p != ',')
            return www_auth_bad(&c, err, "expected ',' between parameters");
        while (*p == ',' || is_ws(*p))
            p++;
        if (*p == '\0')
            break;
        after_comma = true;
    }
done:
    *out = c;
    return 0;
}
