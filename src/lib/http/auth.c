/* auth.c - registry credentials and WWW-Authenticate challenges.
 *
 * Credentials come, in imgpkg's order, from the IMGPKG_REGISTRY_* variables
 * (imgpkg's env keychain) for a matching host, the command-line flags (with
 * imgpkg's $IMGPKG_USERNAME, $IMGPKG_PASSWORD, $IMGPKG_TOKEN and $IMGPKG_ANON
 * defaults), then Docker's
 * config.json as go-containerregistry's default keychain reads it: `auths`,
 * `credHelpers` and `credsStore`, the helpers being run as
 * `docker-credential-NAME get` without a shell.  Secrets never reach an error
 * message and are wiped before their memory is freed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "imgpkg/auth.h"
#include "imgpkg/json.h"
#include "imgpkg/util.h"
#include "util/banned.h"

extern char **environ;

#define MAX_WWW_AUTH 8192
#define MAX_DOCKER_CONFIG (4u << 20)
#define MAX_HELPER_OUT (1u << 20)
#define MAX_HELPER_ERR (64u << 10)
#define HELPER_TIMEOUT_MS 30000
/* The server URL is written into the helper's stdin pipe before it starts, so
 * it must fit in the pipe without blocking. */
#define MAX_SERVER_URL 4096

#define DOCKER_HUB "index.docker.io"
/* The key Docker uses for Docker Hub in config files, hardcoded for
 * historical reasons (go-containerregistry authn.DefaultAuthKey). */
#define DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"
#define CREDS_NOT_FOUND "credentials not found"

/* ---- secrets ------------------------------------------------------------ */

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void ip_cred_release(struct ip_cred *c)
{
    if (!c)
        return;
    free(c->username);
    free_secret(c->password);
    free_secret(c->identity_token);
    free_secret(c->registry_token);
    memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
    return s && *s ? ip_xstrdup(s) : NULL;
}

/* ---- base64 ------------------------------------------------------------- */

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
    /* Standard padded encoding only (Go's base64.StdEncoding): length a
     * multiple of 4, at most two '=' and only at the very end.  OpenSSL would
     * skip whitespace and decode padding as zero bytes; check first. */
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

/* ---- WWW-Authenticate --------------------------------------------------- */

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

/* ---- host matching ------------------------------------------------------ */

/* "docker.io" and "registry-1.docker.io" are the same registry as
 * "index.docker.io" (go-containerregistry's name package). */
static bool is_docker_hub(const char *host, size_t n)
{
    static const char *const names[] = {"index.docker.io", "docker.io", "registry-1.docker.io"};
    for (size_t i = 0; i < IP_ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && !strncasecmp(names[i], host, n))
            return true;
    return false;
}

static bool hosts_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && !strncasecmp(a, b, an))
        return true;
    return is_docker_hub(a, an) && is_docker_hub(b, bn);
}

/* Splits "host[:port]" as Go's net.SplitHostPort, the whole string being the
 * host when that fails (imgpkg's splitURL).  Fresh strings. */
static void split_host_port(const char *hp, char **host, char **port)
{
    const char *colon;
    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (end && end[1] == ':' && !strchr(end + 2, ':')) {
            *host = ip_xstrndup(hp + 1, (size_t)(end - hp - 1));
            *port = ip_xstrdup(end + 2);
            return;
        }
    } else if ((colon = strchr(hp, ':')) && !strchr(colon + 1, ':')) {
        *host = ip_xstrndup(hp, (size_t)(colon - hp));
        *port = ip_xstrdup(colon + 1);
        return;
    }
    *host = ip_xstrdup(hp);
    *port = ip_xstrdup("");
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* imgpkg's urlsMatch on schemeless "host[:port][/path]" strings: ports equal,
 * the same number of dot-separated host parts, each target part matching the
 * glob part (filepath.Match, so "*.example.com"), and the glob's path a prefix
 * of the target's.  Docker Hub's names are taken as one (an extension: imgpkg
 * compares the strings). */
static bool urls_match(const char *glob, const char *target)
{
    size_t gh = strcspn(glob, "/"), th = strcspn(target, "/");
    cleanup_free char *ghp = ip_xstrndup(glob, gh);
    cleanup_free char *thp = ip_xstrndup(target, th);
    cleanup_free char *ghost = NULL, *gport = NULL, *thost = NULL, *tport = NULL;
    char *gs, *ts, *gpart, *tpart;

    if (strncmp(target + th, glob + gh, strlen(glob + gh)) != 0)
        return false;
    split_host_port(ghp, &ghost, &gport);
    split_host_port(thp, &thost, &tport);
    if (strcmp(gport, tport) != 0)
        return false;
    lower(ghost);
    lower(thost);
    if (hosts_equal(ghost, strlen(ghost), thost, strlen(thost)))
        return true;
    /* The same number of parts, each matching its glob. */
    size_t gdots = 0, tdots = 0;
    for (gs = ghost; *gs; gs++)
        gdots += *gs == '.';
    for (ts = thost; *ts; ts++)
        tdots += *ts == '.';
    if (gdots != tdots || !*ghost || !*thost)
        return false;
    gs = ghost;
    ts = thost;
    for (;;) {
        gpart = strsep(&gs, ".");
        tpart = strsep(&ts, ".");
        if (!gpart || !tpart)
            return !gpart && !tpart;
        if (fnmatch(gpart, tpart, 0) != 0)
            return false;
    }
}

/* ---- the flags ---------------------------------------------------------- */

/* imgpkg's RegistryFlags.AsRegistryOpts: each flag defaults to its variable. */
static bool resolve_flags(const struct ip_auth_opts *opts, struct ip_cred *out)
{
    const char *user = opts && opts->username && *opts->username ? opts->username
                                                                  : getenv("IMGPKG_USERNAME");
    const char *pass = opts && opts->password && *opts->password ? opts->password
                                                                  : getenv("IMGPKG_PASSWORD");
    const char *token = opts && opts->token && *opts->token ? opts->token : getenv("IMGPKG_TOKEN");
    const char *anon_env = getenv("IMGPKG_ANON");
    bool anon = (opts && opts->anon) || (anon_env && !strcmp(anon_env, "true"));

    /* CustomRegistryKeychain: username, then token, then anon. */
    if (user && *user) {
        out->username = ip_xstrdup(user);
        out->password = ip_xstrdup(pass ? pass : "");
        return true;
    }
    if (token && *token) {
        out->registry_token = ip_xstrdup(token);
        return true;
    }
    if (anon) {
        out->anonymous = true;
        return true;
    }
    return false;
}

/* ---- IMGPKG_REGISTRY_* -------------------------------------------------- */

struct env_info {
    char *suffix; /* NULL for the unsuffixed variables */
    char *url;    /* "host[:port][/path]" */
    char *username, *password, *identity_token, *registry_token;
};

static void env_info_release(struct env_info *e)
{
    free(e->suffix);
    free(e->url);
    free(e->username);
    free_secret(e->password);
    free_secret(e->identity_token);
    free_secret(e->registry_token);
}

static bool env_info_empty(const struct env_info *e)
{
    return !(e->url && *e->url) && !(e->username && *e->username) &&
           !(e->password && *e->password) && !(e->identity_token && *e->identity_token) &&
           !(e->registry_token && *e->registry_token);
}

/* The HOSTNAME value as imgpkg keys it: scheme dropped, "/v1/" and "/v2/"
 * meaning the host, any other path kept ("foo.bar.com/namespace"). */
static int env_hostname_key(const char *val, char **out, struct ip_err *err)
{
    const char *p = val, *host, *path;
    size_t hn, pn;

    for (const char *q = val; *q; q++)
        if ((unsigned char)*q <= 32 || *q == 127)
            return ip_err_set(err, IP_E_USAGE,
                              "Parsing registry hostname: invalid character in '%.200s' "
                              "(e.g. gcr.io, index.docker.io)",
                              val);
    if (!strncmp(p, "https://", 8))
        p += 8;
    else if (!strncmp(p, "http://", 7))
        p += 7;
    host = p;
    hn = strcspn(host, "/?#");
    /* url.Parse drops user information from the host. */
    for (size_t i = hn; i > 0; i--)
        if (host[i - 1] == '@') {
            hn -= i;
            host += i;
            break;
        }
    path = host + hn;
    pn = *path == '/' ? strcspn(path, "?#") : 0;
    if (pn >= 4 && (!strncmp(path, "/v2/", 4) || !strncmp(path, "/v1/", 4))) {
        path += 3;
        pn -= 3;
    }
    if (pn > 0 && !(pn == 1 && path[0] == '/'))
        *out = ip_xasprintf("%.*s%.*s", (int)hn, host, (int)pn, path);
    else
        *out = ip_xstrndup(host, hn);
    return 0;
}

static int env_info_cmp(const void *a, const void *b)
{
    const struct env_info *x = a, *y = b;
    /* Reverse order of URL, so "quay.io/coreos" is tried before "quay.io". */
    int c = strcmp(y->url ? y->url : "", x->url ? x->url : "");
    if (c)
        return c;
    if (!x->suffix || !y->suffix)
        return x->suffix ? 1 : y->suffix ? -1 : 0;
    return strcmp(x->suffix, y->suffix);
}

static int collect_env(struct env_info **out, size_t *n_out, struct ip_err *err)
{
    static const char prefix[] = "IMGPKG_REGISTRY_";
    static const char *const keys[] = {"HOSTNAME", "USERNAME", "PASSWORD", "IDENTITY_TOKEN",
                                       "REGISTRY_TOKEN"};
    struct env_info *infos = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    /* infos[0] is the unsuffixed one. */
    IP_GROW(infos, cap, 1);
    n = 1;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        const char *name = *e, *val, *rest;
        size_t name_len, k;
        struct env_info *info = NULL;

        if (!eq || strncmp(name, prefix, sizeof(prefix) - 1) != 0)
            continue;
        name_len = (size_t)(eq - name);
        val = eq + 1;
        if (name_len == strlen("IMGPKG_REGISTRY_AZURE_CR_CONFIG") &&
            !strncmp(name, "IMGPKG_REGISTRY_AZURE_CR_CONFIG", name_len))
            continue;
        rest = name + sizeof(prefix) - 1;
        for (k = 0; k < IP_ARRAY_SIZE(keys); k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(rest, keys[k], kl) != 0)
                continue;
            if (rest + kl == eq) {
                info = &infos[0];
                break;
            }
            if (rest[kl] == '_') {
                const char *suffix = rest + kl + 1;
                size_t sl = (size_t)(eq - suffix);
                for (size_t i = 1; i < n; i++)
                    if (strlen(infos[i].suffix) == sl && !strncmp(infos[i].suffix, suffix, sl)) {
                        info = &infos[i];
                        break;
                    }
                if (!info) {
                    IP_GROW(infos, cap, n + 1);
                    info = &infos[n++];
                    info->suffix = ip_xstrndup(suffix, sl);
                }
                break;
            }
        }
        if (!info) {
            rc = ip_err_set(err, IP_E_USAGE, "Unknown env variable '%.*s'", (int)name_len, name);
            goto out;
        }
        switch (k) {
        case 0: {
            char *key = NULL;
            if ((rc = env_hostname_key(val, &key, err)) < 0)
                goto out;
            free(info->url);
            info->url = key;
            break;
        }
        case 1:
            free(info->username);
            info->username = ip_xstrdup(val);
            break;
        case 2:
            free_secret(info->password);
            info->password = ip_xstrdup(val);
            break;
        case 3:
            free_secret(info->identity_token);
            info->identity_token = ip_xstrdup(val);
            break;
        default:
            free_secret(info->registry_token);
            info->registry_token = ip_xstrdup(val);
            break;
        }
    }
out:
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            env_info_release(&infos[i]);
        free(infos);
        return rc;
    }
    /* Like imgpkg, the unsuffixed set counts only when something is set. */
    if (env_info_empty(&infos[0])) {
        env_info_release(&infos[0]);
        memmove(&infos[0], &infos[1], (n - 1) * sizeof(*infos));
        n--;
    }
    qsort(infos, n, sizeof(*infos), env_info_cmp);
    *out = infos;
    *n_out = n;
    return 0;
}

/* The first IMGPKG_REGISTRY_* set whose hostname matches.  1: matched (the
 * set may hold no credential: anonymous), 0: none matched. */
static int resolve_env(const char *registry, struct ip_cred *out, struct ip_err *err)
{
    struct env_info *infos;
    size_t n;
    int rc = collect_env(&infos, &n, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct env_info *e = &infos[i];
        if (!e->url || !urls_match(e->url, registry))
            continue;
        rc = 1;
        out->username = dup_or_null(e->username);
        out->password = e->username && *e->username ? ip_xstrdup(e->password ? e->password : "")
                                                    : dup_or_null(e->password);
        out->identity_token = dup_or_null(e->identity_token);
        out->registry_token = dup_or_null(e->registry_token);
        out->anonymous = !out->username && !out->password && !out->identity_token &&
                         !out->registry_token;
    }
    for (size_t i = 0; i < n; i++)
        env_info_release(&infos[i]);
    free(infos);
    return rc;
}

/* ---- credential helpers ------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The program on $PATH, as execvp would find it; NULL when absent. */
static char *find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        cleanup_free char *dir = n ? ip_xstrndup(p, n) : ip_xstrdup(".");
        char *full = ip_path_join(dir, prog);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        if (p[n] == '\0')
            return NULL;
        p += n + 1;
    }
}

/* Between fork and exec only async-signal-safe calls. */
static void __attribute__((noreturn)) child_exec(const char *path, char *const argv[], int in,
                                                 int out, int errfd)
{
    struct sigaction sa;
    sigset_t none;
    int fds[3];

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Out of the way of 0-2 first, so no dup2 clobbers another source. */
    fds[0] = fcntl(in, F_DUPFD_CLOEXEC, 3);
    fds[1] = fcntl(out, F_DUPFD_CLOEXEC, 3);
    fds[2] = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
    for (int i = 0; i < 3; i++)
        if (fds[i] < 0 || dup2(fds[i], i) < 0)
            _exit(127);
    execv(path, argv);
    _exit(127);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The first line of a helper's complaint, unless it looks like output that
 * may hold a secret. */
static void helper_message(const struct ip_buf *errb, const struct ip_buf *outb, char *msg,
                           size_t size)
{
    const struct ip_buf *srcs[2] = {errb, outb};
    msg[0] = '\0';
    for (int i = 0; i < 2; i++) {
        const char *s = srcs[i]->data ? srcs[i]->data : "";
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '{')
            continue;
        size_t n = strcspn(s, "\r\n");
        if (n > 200)
            n = 200;
        snprintf(msg, size, ": %.*s", (int)n, s);
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c == 127)
                *c = '?';
        return;
    }
}

static void buf_release_secret(struct ip_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
    ip_buf_release(b);
}

/* Runs `docker-credential-NAME get` with the server URL on its stdin.
 * 1: credentials, 0: the helper has none, <0: error. */
static int run_cred_helper(const char *helper, const char *server_url, struct ip_cred *out,
                           struct ip_err *err)
{
    int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    struct ip_buf ob, eb;
    bool timed_out = false, too_big = false;
    int status = 0, rc = 0, sys_errno = 0;
    const char *sys_what = NULL;
    pid_t pid;

    if (!*helper || strlen(helper) > 200 || strchr(helper, '/'))
        return ip_err_set(err, IP_E_INPUT, "invalid credential helper name '%.200s'", helper);
    for (const char *c = helper; *c; c++)
        if ((unsigned char)*c < 32 || *c == 127)
            return ip_err_set(err, IP_E_INPUT, "invalid credential helper name");
    if (strlen(server_url) > MAX_SERVER_URL)
        return ip_err_set(err, IP_E_INPUT, "server URL too long for a credential helper");

    cleanup_free char *prog = ip_xasprintf("docker-credential-%s", helper);
    cleanup_free char *path = find_in_path(prog);
    if (!path)
        return ip_err_set(err, IP_E_AUTH,
                          "credential helper %s: executable file not found in $PATH", prog);

    if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = ip_err_sys(err, errno, "running %s: pipe", prog);
        goto close_all;
    }
    /* The URL fits in the pipe: write it now, so the helper exiting early
     * cannot raise SIGPIPE here. */
    if ((rc = ip_write_all(inp[1], server_url, strlen(server_url), err)) < 0) {
        ip_err_wrap(err, "running %s", prog);
        goto close_all;
    }
    close_fd(&inp[1]);

    char *argv[] = {prog, (char *)"get", NULL};
    pid = fork();
    if (pid < 0) {
        rc = ip_err_sys(err, errno, "running %s: fork", prog);
        goto close_all;
    }
    if (pid == 0)
        child_exec(path, argv, inp[0], outp[1], errp[1]);
    close_fd(&inp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[1]);

    ip_buf_init(&ob, MAX_HELPER_OUT);
    ip_buf_init(&eb, 0);
    int64_t deadline = now_ms() + HELPER_TIMEOUT_MS;
    while (outp[0] >= 0 || errp[0] >= 0) {
        struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int r = poll(pfd, 2, (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            sys_errno = errno;
            sys_what = "poll";
            break;
        }
        for (int i = 0; i < 2; i++) {
            char chunk[16384];
            int *fd = i == 0 ? &outp[0] : &errp[0];
            if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                continue;
            ssize_t n = read(*fd, chunk, sizeof(chunk));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                close_fd(fd);
                continue;
            }
            if (i == 0) {
                struct ip_err e;
                if (ip_buf_add(&ob, chunk, (size_t)n, &e) < 0)
                    too_big = true;
            } else if (eb.len < MAX_HELPER_ERR) {
                size_t k = (size_t)n < MAX_HELPER_ERR - eb.len ? (size_t)n : MAX_HELPER_ERR - eb.len;
                struct ip_err e;
                ip_buf_add(&eb, chunk, k, &e);
            }
            OPENSSL_cleanse(chunk, (size_t)n);
        }
        if (too_big)
            break;
    }
    close_fd(&outp[0]);
    close_fd(&errp[0]);

    /* Reap it, killing it when it overstays. */
    bool killed = timed_out || too_big || sys_what;
    if (killed)
        kill(pid, SIGKILL);
    for (;;) {
        pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = 0;
            break;
        }
        if (w == 0) {
            if (now_ms() >= deadline) {
                timed_out = killed = true;
                kill(pid, SIGKILL);
            } else {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
        }
    }

    if (sys_what) {
        rc = ip_err_sys(err, sys_errno, "running %s: %s", prog, sys_what);
    } else if (timed_out) {
        rc = ip_err_set(err, IP_E_AUTH, "credential helper %s timed out after %d s", prog,
                        HELPER_TIMEOUT_MS / 1000);
    } else if (too_big) {
        rc = ip_err_set(err, IP_E_TOOBIG, "credential helper %s: output over %u bytes", prog,
                        MAX_HELPER_OUT);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* docker-credential-helpers: "credentials not found in native
         * keychain" on stdout means there is nothing for this server. */
        if ((ob.data && strstr(ob.data, CREDS_NOT_FOUND)) ||
            (eb.data && strstr(eb.data, CREDS_NOT_FOUND))) {
            rc = 0;
        } else {
            char msg[256], how[64];
            helper_message(&eb, &ob, msg, sizeof(msg));
            if (WIFEXITED(status))
                snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
            else
                snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
            rc = ip_err_set(err, IP_E_AUTH,
                            "error getting credentials from %s for '%.300s' (%s)%s", prog,
                            server_url, how, msg);
        }
    } else {
        yajl_val v = NULL;
        struct ip_err e;
        if (ip_json_parse(ob.data ? ob.data : "", ob.len, &v, &e) < 0 || !YAJL_IS_OBJECT(v)) {
            rc = ip_err_set(err, IP_E_FORMAT,
                            "credential helper %s: output is not a JSON object", prog);
        } else {
            const char *user = ip_json_get_str(v, "Username");
            const char *secret = ip_json_get_str(v, "Secret");
            rc = 0;
            if (user && !strcmp(user, "<token>")) {
                /* An identity token stored by `docker login`. */
                out->identity_token = dup_or_null(secret);
                rc = out->identity_token ? 1 : 0;
            } else if ((user && *user) || (secret && *secret)) {
                out->username = ip_xstrdup(user ? user : "");
                out->password = ip_xstrdup(secret ? secret : "");
                rc = 1;
            }
        }
        if (v) {
            const char *sec = ip_json_get_str(v, "Secret");
            if (sec)
                OPENSSL_cleanse((void *)sec, strlen(sec));
            yajl_tree_free(v);
        }
    }
    buf_release_secret(&ob);
    buf_release_secret(&eb);
    return rc;

close_all:
    close_fd(&inp[0]);
    close_fd(&inp[1]);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    return rc;
}

/* ---- Docker's config.json ----------------------------------------------- */

/* Wipes every string of a parsed document (config.json holds secrets). */
static void json_cleanse(yajl_val v)
{
    if (!v)
        return;
    if (YAJL_IS_STRING(v) && v->u.string) {
        OPENSSL_cleanse(v->u.string, strlen(v->u.string));
    } else if (YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len; i++)
            json_cleanse(v->u.object.values[i]);
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            json_cleanse(v->u.array.values[i]);
    }
}

/* 1: read, 0: no such file (or a directory), <0: error. */
static int read_config_file(const char *path, struct ip_buf *out, struct ip_err *err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char chunk[65536];

    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return ip_err_sys(err, errno, "reading '%s'", path);
    }
    if (fstat(fd, &st) < 0)
        return ip_err_sys(err, errno, "reading '%s'", path);
    if (S_ISDIR(st.st_mode))
        return 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ip_err_sys(err, errno, "reading '%s'", path);
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > MAX_DOCKER_CONFIG) {
            OPENSSL_cleanse(chunk, sizeof(chunk));
            return ip_err_set(err, IP_E_TOOBIG, "reading '%s': larger than %u bytes", path,
                              MAX_DOCKER_CONFIG);
        }
        ip_buf_add(out, chunk, (size_t)n, err);
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    return 1;
}

static char *home_dir(void)
{
    const char *home = getenv("HOME");
    if (home && *home)
        return ip_xstrdup(home);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_dir)
        return ip_xstrdup(res->pw_dir);
    return NULL;
}

/* Reads the first of $DOCKER_CONFIG/config.json (else ~/.docker/config.json),
 * then, as go-containerregistry falls back for Podman users,
 * $REGISTRY_AUTH_FILE and $XDG_RUNTIME_DIR/containers/auth.json.
 * 1: read (*path_out names it), 0: none. */
static int load_docker_config(struct ip_buf *out, char **path_out, struct ip_err *err)
{
    char *candidates[3] = {NULL, NULL, NULL};
    const char *dc = getenv("DOCKER_CONFIG");
    const char *raf = getenv("REGISTRY_AUTH_FILE");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int rc = 0;

    if (dc && *dc) {
        candidates[0] = ip_path_join(dc, "config.json");
    } else {
        cleanup_free char *home = home_dir();
        if (home)
            candidates[0] = ip_path_join(home, ".docker/config.json");
    }
    if (raf && *raf)
        candidates[1] = ip_xstrdup(raf);
    if (xdg && *xdg)
        candidates[2] = ip_path_join(xdg, "containers/auth.json");
    for (size_t i = 0; i < IP_ARRAY_SIZE(candidates) && rc == 0; i++) {
        if (!candidates[i])
            continue;
        rc = read_config_file(candidates[i], out, err);
        if (rc > 0) {
            *path_out = candidates[i];
            candidates[i] = NULL;
        }
    }
    for (size_t i = 0; i < IP_ARRAY_SIZE(candidates); i++)
        free(candidates[i]);
    return rc;
}

/* Docker's ConvertToHostname: scheme and path dropped. */
static void key_host(const char *key, const char **host, size_t *n)
{
    if (!strncmp(key, "http://", 7))
        key += 7;
    else if (!strncmp(key, "https://", 8))
        key += 8;
    *host = key;
    *n = strcspn(key, "/");
}

/* The member for `key`: exact, else the first whose key names the same host. */
static yajl_val find_member(yajl_val obj, const char *key, const char *host, const char **found)
{
    yajl_val v;
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    if ((v = ip_json_get(obj, key))) {
        *found = key;
        return v;
    }
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *h;
        size_t hn;
        key_host(obj->u.object.keys[i], &h, &hn);
        if (hosts_equal(h, hn, host, strlen(host))) {
            *found = obj->u.object.keys[i];
            return obj->u.object.values[i];
        }
    }
    return NULL;
}

/* An `auths` entry; 1: credentials, 0: empty. */
static int cred_from_entry(yajl_val entry, const char *path, const char *key, struct ip_cred *out,
                           struct ip_err *err)
{
    const char *auth, *user, *pass;
    if (!YAJL_IS_OBJECT(entry))
        return ip_err_set(err, IP_E_FORMAT, "%s: auths entry '%.300s' is not an object", path, key);
    auth = ip_json_get_str(entry, "auth");
    user = ip_json_get_str(entry, "username");
    pass = ip_json_get_str(entry, "password");
    if (auth && *auth) {
        /* Docker's decodeAuth: base64 of "username:password", overriding
         * the username and password fields. */
        size_t len;
        unsigned char *dec = ip_base64_decode(auth, &len);
        char *colon = dec ? memchr(dec, ':', len) : NULL;
        if (!colon || colon == (char *)dec) {
            if (dec) {
                OPENSSL_cleanse(dec, len);
                free(dec);
            }
            return ip_err_set(err, IP_E_FORMAT,
                              "%s: invalid auth for '%.300s' (expected base64 of "
                              "'username:password')",
                              path, key);
        }
        out->username = ip_xstrndup((char *)dec, (size_t)(colon - (char *)dec));
        out->password = ip_xstrndup(colon + 1, len - (size_t)(colon + 1 - (char *)dec));
        OPENSSL_cleanse(dec, len);
        free(dec);
    } else if ((user && *user) || (pass && *pass)) {
        out->username = ip_xstrdup(user ? user : "");
        out->password = ip_xstrdup(pass ? pass : "");
    }
    out->identity_token = dup_or_null(ip_json_get_str(entry, "identitytoken"));
    out->registry_token = dup_or_null(ip_json_get_str(entry, "registrytoken"));
    return out->username || out->identity_token || out->registry_token ? 1 : 0;
}

static int resolve_docker_config(const char *registry, struct ip_cred *out, struct ip_err *err)
{
    struct ip_buf data;
    cleanup_free char *path = NULL;
    cleanup_free char *host = ip_xstrndup(registry, strcspn(registry, "/"));
    const char *key, *found = NULL, *helper = NULL;
    yajl_val root = NULL, helpers, auths, store, entry;
    int rc;

    ip_buf_init(&data, 0);
    rc = load_docker_config(&data, &path, err);
    if (rc <= 0)
        goto out;
    rc = ip_json_parse(data.data, data.len, &root, err);
    if (rc < 0) {
        ip_err_wrap(err, "loading '%s'", path);
        goto out;
    }
    if (!YAJL_IS_OBJECT(root)) {
        rc = ip_err_set(err, IP_E_FORMAT, "loading '%s': not a JSON object", path);
        goto out;
    }
    helpers = ip_json_get(root, "credHelpers");
    auths = ip_json_get(root, "auths");
    store = ip_json_get(root, "credsStore");
    if ((helpers && !YAJL_IS_OBJECT(helpers) && !YAJL_IS_NULL(helpers)) ||
        (auths && !YAJL_IS_OBJECT(auths) && !YAJL_IS_NULL(auths)) ||
        (store && !YAJL_IS_STRING(store) && !YAJL_IS_NULL(store))) {
        rc = ip_err_set(err, IP_E_FORMAT,
                        "loading '%s': auths and credHelpers must be objects, credsStore a string",
                        path);
        goto out;
    }
    /* Docker Hub's credentials live under its historical URL. */
    key = is_docker_hub(host, strlen(host)) ? DOCKER_HUB_AUTH_KEY : host;

    /* Docker's GetCredentialsStore: the registry's helper, else credsStore,
     * else the file's own auths. */
    entry = find_member(helpers, key, host, &found);
    if (entry) {
        if (!YAJL_IS_STRING(entry)) {
            rc = ip_err_set(err, IP_E_FORMAT, "loading '%s': credHelpers['%.300s'] is not a string",
                            path, found);
            goto out;
        }
        helper = entry->u.string;
    } else if (YAJL_IS_STRING(store) && *store->u.string) {
        helper = store->u.string;
    }
    if (helper && *helper) {
        rc = run_cred_helper(helper, key, out, err);
        goto out;
    }
    found = NULL;
    entry = find_member(auths, key, host, &found);
    rc = entry ? cred_from_entry(entry, path, found, out, err) : 0;
out:
    if (root) {
        json_cleanse(root);
        yajl_tree_free(root);
    }
    buf_release_secret(&data);
    return rc;
}

/* ---- resolution --------------------------------------------------------- */

int ip_auth_resolve(const char *registry, const struct ip_auth_opts *opts, struct ip_cred *out,
                    struct ip_err *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (!registry || !*registry)
        return ip_err_set(err, IP_E_USAGE, "resolving credentials: no registry given");
    /* imgpkg's order (pkg/imgpkg/registry/keychain.go): the environment's
     * IMGPKG_REGISTRY_* credentials for a matching host come first, then
     * the flags (--registry-username/--registry-password, --registry-token,
     * --registry-anon and their IMGPKG_* variables), then config.json. */
    rc = resolve_env(registry, out, err);
    if (rc > 0)
        return 0;
    if (rc == 0 && resolve_flags(opts, out))
        return 0;
    if (rc == 0)
        rc = resolve_docker_config(registry, out, err);
    if (rc < 0) {
        ip_cred_release(out);
        return ip_err_wrap(err, "resolving credentials for '%.300s'", registry);
    }
    if (rc == 0) {
        ip_cred_release(out);
        out->anonymous = true;
    }
    return 0;
}
