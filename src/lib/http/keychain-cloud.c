/* keychain-cloud.c - the keychains IMGPKG_ACTIVE_KEYCHAINS turns on (imgpkg's
 * keychain.go; IMGPKG_ENABLE_IAAS_AUTH=true turns on all four):
 *   github  GITHUB_TOKEN (user GITHUB_ACTOR, else "unset") for ghcr.io, as
 *           go-containerregistry's github keychain;
 *   gke     registries of Google (gcr.io, *.gcr.io, *.pkg.dev) through
 *           docker-credential-gcloud;
 *   ecr     Amazon ECR registries through docker-credential-ecr-login (the
 *           helper go-containerregistry's ecr keychain is built from);
 *   aks     Azure registries (*.azurecr.io) through docker-credential-acr-env
 *           (the helper imgpkg's aks keychain is built from).
 * A keychain answers only for its registries.  The cloud ones run their
 * credential helper (imgpkg links the helpers' code in): when it is not on
 * $PATH, resolving fails naming it (imgpkg would go on anonymously). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"
#include "imgpkg/util.h"
#include "util/run-command.h"
#include "util/banned.h"

enum { KC_AKS = 1, KC_ECR = 2, KC_GKE = 4, KC_GITHUB = 8 };

static const struct {
    const char *name;
    unsigned bit;
} keychains[] = {{"gke", KC_GKE}, {"ecr", KC_ECR}, {"aks", KC_AKS}, {"github", KC_GITHUB}};

/* Go's strconv.ParseBool true values. */
static bool env_true(const char *v)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; v && i < IP_ARRAY_SIZE(t); i++)
        if (!strcmp(v, t[i]))
            return true;
    return false;
}

int ip_active_keychains(unsigned *out, struct ip_err *err)
{
    const char *v = getenv("IMGPKG_ACTIVE_KEYCHAINS");
    *out = 0;
    if (env_true(getenv("IMGPKG_ENABLE_IAAS_AUTH"))) {
        *out = KC_AKS | KC_ECR | KC_GKE | KC_GITHUB;
        return 0;
    }
    if (!v || !*v)
        return 0;
    /* comma-separated, spaces around a name ignored */
    for (const char *p = v;;) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && isspace((unsigned char)*s))
            s++;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        size_t k = 0;
        for (; k < IP_ARRAY_SIZE(keychains); k++)
            if (strlen(keychains[k].name) == (size_t)(e - s) &&
                !strncmp(keychains[k].name, s, (size_t)(e - s)))
                break;
        if (k == IP_ARRAY_SIZE(keychains))
            return ip_err_set(err, IP_E_USAGE,
                              "Creating registry keychain: Unable to load keychain for %.*s, "
                              "available keychains [aks, ecr, gke, github]",
                              (int)(e - s), s);
        *out |= keychains[k].bit;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

static bool suffix(const char *host, const char *sfx)
{
    size_t h = strlen(host), s = strlen(sfx);
    return h > s && !strcasecmp(host + h - s, sfx);
}

static bool gke_host(const char *h)
{
    return !strcasecmp(h, "gcr.io") || suffix(h, ".gcr.io") || suffix(h, ".pkg.dev");
}

/* ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn] */
static bool ecr_host(const char *h)
{
    size_t n = strspn(h, "0123456789");
    if (n != 12 || strncasecmp(h + n, ".dkr.ecr", 8) != 0)
        return false;
    const char *p = h + n + 8;
    if (!strncasecmp(p, "-fips", 5))
        p += 5;
    if (*p++ != '.')
        return false;
    const char *dot = strchr(p, '.');
    if (!dot || dot == p)
        return false;
    return !strcasecmp(dot, ".amazonaws.com") || !strcasecmp(dot, ".amazonaws.com.cn");
}

static bool aks_host(const char *h)
{
    return suffix(h, ".azurecr.io") || suffix(h, ".azurecr.cn") || suffix(h, ".azurecr.de") ||
           suffix(h, ".azurecr.us");
}

static int from_helper(const char *keychain, const char *helper, const char *host,
                       struct ip_cred *out, struct ip_err *err)
{
    cleanup_free char *prog = ip_xasprintf("docker-credential-%s", helper);
    cleanup_free char *path = ip_find_in_path(prog);
    if (!path)
        return ip_err_set(err, IP_E_AUTH,
                          "the %s keychain gets credentials for %s from %s, which is not in $PATH",
                          keychain, host, prog);
    return ip_cred_helper_get(helper, host, out, err);
}

int ip_keychain_cloud_resolve(unsigned active, const char *registry, struct ip_cred *out,
                              struct ip_err *err)
{
    cleanup_free char *host = ip_xstrndup(registry, strcspn(registry, "/"));
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']'))
        *colon = '\0';
    if ((active & KC_GKE) && gke_host(host))
        return from_helper("gke", "gcloud", registry, out, err);
    if ((active & KC_ECR) && ecr_host(host))
        return from_helper("ecr", "ecr-login", registry, out, err);
    if ((active & KC_AKS) && aks_host(host))
        return from_helper("aks", "acr-env", registry, out, err);
    if ((active & KC_GITHUB) && !strcasecmp(host, "ghcr.io")) {
        const char *token = getenv("GITHUB_TOKEN");
        const char *actor = getenv("GITHUB_ACTOR");
        if (!token || !*token)
            return 0;
        out->username = ip_xstrdup(actor && *actor ? actor : "unset");
        out->password = ip_xstrdup(token);
        return 1;
    }
    return 0;
}
