/* docker-config.c - Docker's config.json as go-containerregistry's default
 * keychain reads it: $DOCKER_CONFIG/config.json or ~/.docker/config.json
 * (then Podman's $REGISTRY_AUTH_FILE and $XDG_RUNTIME_DIR/containers/auth.json),
 * its `credHelpers` for the registry, else `credsStore`, else `auths`. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/auth.h"
#include "oci/json.h"
#include "imgpkg/util.h"
#include "util/base64.h"
#include "util/secret.h"
#include "util/banned.h"

#define MAX_DOCKER_CONFIG (4u << 20)
/* The key Docker uses for Docker Hub in config files, hardcoded for
 * historical reasons (go-containerregistry authn.DefaultAuthKey). */
#define DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

/* Wipes every string of a parsed document (config.json holds secrets). */
static void json_cleanse(yajl_val v)
{
    if (!v)
        return;
    if (YAJL_IS_STRING(v) && v->u.string) {
        ip_secret_wipe(v->u.string, strlen(v->u.string));
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
            ip_secret_wipe(chunk, sizeof(chunk));
            return ip_err_set(err, IP_E_TOOBIG, "reading '%s': larger than %u bytes", path,
                              MAX_DOCKER_CONFIG);
        }
        ip_buf_add(out, chunk, (size_t)n, err);
    }
    ip_secret_wipe(chunk, sizeof(chunk));
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
        if (ip_hosts_equal(h, hn, host, strlen(host))) {
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
                ip_secret_wipe(dec, len);
                free(dec);
            }
            return ip_err_set(err, IP_E_FORMAT,
                              "%s: invalid auth for '%.300s' (expected base64 of "
                              "'username:password')",
                              path, key);
        }
        out->username = ip_xstrndup((char *)dec, (size_t)(colon - (char *)dec));
        out->password = ip_xstrndup(colon + 1, len - (size_t)(colon + 1 - (char *)dec));
        ip_secret_wipe(dec, len);
        free(dec);
    } else if ((user && *user) || (pass && *pass)) {
        out->username = ip_xstrdup(user ? user : "");
        out->password = ip_xstrdup(pass ? pass : "");
    }
    out->identity_token = ip_dup_nonempty(ip_json_get_str(entry, "identitytoken"));
    out->registry_token = ip_dup_nonempty(ip_json_get_str(entry, "registrytoken"));
    return out->username || out->identity_token || out->registry_token ? 1 : 0;
}

int ip_docker_config_resolve(const char *registry, struct ip_cred *out, struct ip_err *err)
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
    key = ip_host_is_docker_hub(host, strlen(host)) ? DOCKER_HUB_AUTH_KEY : host;

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
        rc = ip_cred_helper_get(helper, key, out, err);
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
    ip_secret_buf_release(&data);
    return rc;
}
