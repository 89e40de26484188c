/* auth.c - resolving a registry's credentials in imgpkg's order: the
 * IMGPKG_REGISTRY_* variables (keychain-env.c) for a matching host, the
 * command-line flags (with imgpkg's $IMGPKG_USERNAME, $IMGPKG_PASSWORD,
 * $IMGPKG_TOKEN and $IMGPKG_ANON defaults), then Docker's config.json
 * (docker-config.c); anonymous when none has any. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/auth.h"
#include "imgpkg/util.h"
#include "util/secret.h"
#include "util/banned.h"

void ip_cred_release(struct ip_cred *c)
{
    if (!c)
        return;
    free(c->username);
    ip_secret_free(c->password);
    ip_secret_free(c->identity_token);
    ip_secret_free(c->registry_token);
    memset(c, 0, sizeof(*c));
}

char *ip_dup_nonempty(const char *s)
{
    return s && *s ? ip_xstrdup(s) : NULL;
}

/* "docker.io" and "registry-1.docker.io" are the same registry as
 * "index.docker.io" (go-containerregistry's name package). */
bool ip_host_is_docker_hub(const char *host, size_t n)
{
    static const char *const names[] = {"index.docker.io", "docker.io", "registry-1.docker.io"};
    for (size_t i = 0; i < IP_ARRAY_SIZE(names); i++)
        if (strlen(names[i]) == n && !strncasecmp(names[i], host, n))
            return true;
    return false;
}

bool ip_hosts_equal(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && !strncasecmp(a, b, an))
        return true;
    return ip_host_is_docker_hub(a, an) && ip_host_is_docker_hub(b, bn);
}

/* imgpkg's RegistryFlags.AsRegistryOpts: each flag defaults to its variable. */
static bool resolve_flags(const struct ip_auth_opts *opts, struct ip_cred *out)
{
    const char *user =
        opts && opts->username && *opts->username ? opts->username : getenv("IMGPKG_USERNAME");
    const char *pass =
        opts && opts->password && *opts->password ? opts->password : getenv("IMGPKG_PASSWORD");
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

int ip_auth_resolve(const char *registry, const struct ip_auth_opts *opts, struct ip_cred *out,
                    struct ip_err *err)
{
    unsigned active;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!registry || !*registry)
        return ip_err_set(err, IP_E_USAGE, "resolving credentials: no registry given");
    if ((rc = ip_active_keychains(&active, err)) < 0)
        return rc;
    /* imgpkg's order (pkg/imgpkg/registry/keychain.go): the environment's
     * IMGPKG_REGISTRY_* credentials for a matching host come first, then
     * the active keychains (IMGPKG_ACTIVE_KEYCHAINS), then the flags
     * (--registry-username/--registry-password, --registry-token,
     * --registry-anon and their IMGPKG_* variables), then config.json. */
    rc = ip_keychain_env_resolve(registry, out, err);
    if (rc > 0)
        return 0;
    if (rc == 0)
        rc = ip_keychain_cloud_resolve(active, registry, out, err);
    if (rc > 0)
        return 0;
    if (rc == 0 && resolve_flags(opts, out))
        return 0;
    if (rc == 0)
        rc = ip_docker_config_resolve(registry, out, err);
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
