/* ref.c - image references: the Docker reference grammar, normalised the way
 * go-containerregistry does (default registry index.docker.io, "library/" for
 * single-component names on it). */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "imgpkg/ref.h"
#include "imgpkg/util.h"
#include "util/banned.h"

#define DEFAULT_REGISTRY "index.docker.io"

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (([._]|__|[-]*) [a-z0-9]+)* */
static bool component_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
        return false;
    while (i < n) {
        if (is_alnum_lower(s[i])) {
            i++;
            continue;
        }
        /* a separator run, followed by an alnum */
        size_t j = i;
        if (s[i] == '.') {
            j = i + 1;
        } else if (s[i] == '_') {
            j = i + 1;
            if (j < n && s[j] == '_')
                j++;
        } else if (s[i] == '-') {
            while (j < n && s[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= n || !is_alnum_lower(s[j]))
            return false;
        i = j;
    }
    return true;
}

static bool host_valid(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    if (s[0] == '[') { /* IPv6 literal */
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':')
                return false;
        i = (size_t)(close - s) + 1;
    } else {
        while (i < n && s[i] != ':') {
            char c = s[i];
            if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
                return false;
            i++;
        }
        if (i == 0 || s[0] == '-' || s[0] == '.' || s[i - 1] == '-' || s[i - 1] == '.')
            return false;
    }
    if (i < n) {
        if (s[i] != ':' || i + 1 == n)
            return false;
        for (size_t j = i + 1; j < n; j++)
            if (!isdigit((unsigned char)s[j]))
                return false;
    }
    return true;
}

bool ip_tag_valid(const char *tag)
{
    size_t n = strlen(tag);
    if (n == 0 || n > 128)
        return false;
    if (!(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
            return false;
    return true;
}

void ip_ref_release(struct ip_ref *r)
{
    free(r->registry);
    free(r->repository);
    free(r->tag);
    memset(r, 0, sizeof(*r));
}

/* Whether the first component of a name (its `first` bytes before a '/') is
 * read as a registry host rather than as part of the repository. */
static bool first_is_host(const char *name, size_t first)
{
    if (memchr(name, '.', first) || memchr(name, ':', first) ||
        (first == 9 && !memcmp(name, "localhost", 9)))
        return true;
    for (size_t i = 0; i < first; i++)
        if (isupper((unsigned char)name[i]))
            return true;
    return false;
}

static int parse_name(const char *name, size_t n, const char *orig, struct ip_ref *out,
                      struct ip_err *err)
{
    const char *slash = memchr(name, '/', n);
    const char *path = name;
    size_t plen = n;
    char *registry, *repository;

    if (n == 0)
        return ip_err_set(err, IP_E_FORMAT, "invalid reference '%.300s': empty name", orig);
    if (slash) {
        size_t first = (size_t)(slash - name);
        if (first_is_host(name, first)) {
            if (!host_valid(name, first))
                return ip_err_set(err, IP_E_FORMAT,
                                  "invalid reference '%.300s': bad registry '%.*s'", orig,
                                  (int)first, name);
            registry = ip_xstrndup(name, first);
            path = slash + 1;
            plen = n - first - 1;
        } else {
            registry = ip_xstrdup(DEFAULT_REGISTRY);
        }
    } else {
        registry = ip_xstrdup(DEFAULT_REGISTRY);
    }
    if (!strcmp(registry, "docker.io") || !strcmp(registry, "registry-1.docker.io")) {
        free(registry);
        registry = ip_xstrdup(DEFAULT_REGISTRY);
    }
    /* validate path components */
    for (size_t start = 0; start <= plen;) {
        const char *p = memchr(path + start, '/', plen - start);
        size_t end = p ? (size_t)(p - path) : plen;
        if (!component_valid(path + start, end - start)) {
            free(registry);
            return ip_err_set(err, IP_E_FORMAT,
                              "invalid reference '%.300s': repository must be lowercase "
                              "letters, digits and separators",
                              orig);
        }
        start = end + 1;
        if (!p)
            break;
    }
    if (!strcmp(registry, DEFAULT_REGISTRY) && !memchr(path, '/', plen))
        repository = ip_xasprintf("library/%.*s", (int)plen, path);
    else
        repository = ip_xstrndup(path, plen);
    /* the repository as registries see it ("library/" included), so that the
     * name always parses again */
    if (strlen(repository) > 255) {
        free(registry);
        free(repository);
        return ip_err_set(err, IP_E_FORMAT, "invalid reference '%.300s': name too long", orig);
    }
    out->registry = registry;
    out->repository = repository;
    return 0;
}

int ip_ref_parse(const char *s, struct ip_ref *out, struct ip_err *err)
{
    struct ip_ref r;
    const char *at, *name_end, *last_slash, *colon;
    int rc;

    memset(&r, 0, sizeof(r));
    if (!s || !*s)
        return ip_err_set(err, IP_E_FORMAT, "invalid reference '': empty");
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return ip_err_set(err, IP_E_FORMAT, "invalid reference '%.300s': bad character", s);
    at = strchr(s, '@');
    name_end = at ? at : s + strlen(s);
    if (at) {
        if (ip_digest_check(at + 1, err) < 0)
            return ip_err_wrap(err, "invalid reference '%.300s'", s);
        memcpy(r.digest, at + 1, IP_DIGEST_SIZE);
    }
    last_slash = NULL;
    for (const char *p = s; p < name_end; p++)
        if (*p == '/')
            last_slash = p;
    colon = NULL;
    for (const char *p = last_slash ? last_slash : s; p < name_end; p++)
        if (*p == ':')
            colon = p;
    if (colon) {
        r.tag = ip_xstrndup(colon + 1, (size_t)(name_end - colon - 1));
        if (!ip_tag_valid(r.tag)) {
            free(r.tag);
            return ip_err_set(err, IP_E_FORMAT, "invalid reference '%.300s': bad tag", s);
        }
        name_end = colon;
    }
    if ((rc = parse_name(s, (size_t)(name_end - s), s, &r, err)) < 0) {
        free(r.tag);
        return rc;
    }
    *out = r;
    return 0;
}

int ip_repo_parse(const char *s, struct ip_ref *out, struct ip_err *err)
{
    int rc = ip_ref_parse(s, out, err);
    if (rc < 0)
        return rc;
    if (out->tag || out->digest[0]) {
        ip_ref_release(out);
        return ip_err_set(err, IP_E_FORMAT,
                          "invalid repository '%.300s': expected no tag or digest", s);
    }
    return 0;
}

char *ip_ref_name(const struct ip_ref *r)
{
    return ip_xasprintf("%s/%s", r->registry, r->repository);
}

char *ip_ref_familiar(const struct ip_ref *r)
{
    if (!strcmp(r->registry, DEFAULT_REGISTRY)) {
        if (!strncmp(r->repository, "library/", 8) && !strchr(r->repository + 8, '/'))
            return ip_xstrdup(r->repository + 8);
        /* "docker.io/a.b/app", not "a.b/app", which names registry a.b */
        const char *slash = strchr(r->repository, '/');
        if (slash && first_is_host(r->repository, (size_t)(slash - r->repository)))
            return ip_xasprintf("docker.io/%s", r->repository);
        return ip_xstrdup(r->repository);
    }
    return ip_ref_name(r);
}

char *ip_ref_containerd(const struct ip_ref *r)
{
    if (!strcmp(r->registry, DEFAULT_REGISTRY))
        return ip_xasprintf("docker.io/%s", r->repository);
    return ip_ref_name(r);
}

bool ip_registry_is_loopback(const char *registry)
{
    size_t n = strlen(registry);
    const char *colon = strrchr(registry, ':');
    char host[INET_ADDRSTRLEN];
    struct in_addr addr;
    if (registry[0] == '[')
        return !strncmp(registry, "[::1]", 5) && (registry[5] == '\0' || registry[5] == ':');
    if (colon)
        n = (size_t)(colon - registry);
    if (n == 9 && !strncmp(registry, "localhost", 9))
        return true;
    /* an IPv4 address in 127.0.0.0/8, not any host name that starts with "127." */
    if (n >= sizeof(host))
        return false;
    memcpy(host, registry, n);
    host[n] = '\0';
    return inet_pton(AF_INET, host, &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}
