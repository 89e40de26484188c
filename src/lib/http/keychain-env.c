/* keychain-env.c - imgpkg's environment keychain: the IMGPKG_REGISTRY_*
 * variables (HOSTNAME, USERNAME, PASSWORD, IDENTITY_TOKEN, REGISTRY_TOKEN,
 * each also with a _SUFFIX naming one set), matched against the registry as
 * imgpkg's pkg/imgpkg/registry/auth/env.go does. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"
#include "imgpkg/util.h"
#include "util/secret.h"
#include "util/banned.h"

extern char **environ;

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
    if (ip_hosts_equal(ghost, strlen(ghost), thost, strlen(thost)))
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
    ip_secret_free(e->password);
    ip_secret_free(e->identity_token);
    ip_secret_free(e->registry_token);
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
            ip_secret_free(info->password);
            info->password = ip_xstrdup(val);
            break;
        case 3:
            ip_secret_free(info->identity_token);
            info->identity_token = ip_xstrdup(val);
            break;
        default:
            ip_secret_free(info->registry_token);
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

int ip_keychain_env_resolve(const char *registry, struct ip_cred *out, struct ip_err *err)
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
        out->username = ip_dup_nonempty(e->username);
        out->password = e->username && *e->username ? ip_xstrdup(e->password ? e->password : "")
                                                    : ip_dup_nonempty(e->password);
        out->identity_token = ip_dup_nonempty(e->identity_token);
        out->registry_token = ip_dup_nonempty(e->registry_token);
        out->anonymous =
            !out->username && !out->password && !out->identity_token && !out->registry_token;
    }
    for (size_t i = 0; i < n; i++)
        env_info_release(&infos[i]);
    free(infos);
    return rc;
}
