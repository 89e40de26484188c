/* test-auth.c - WWW-Authenticate parsing, base64, and credential resolution
 * from flags, IMGPKG_REGISTRY_* variables and Docker's config.json (with
 * credential helpers written here as small shell scripts).  Each test runs in
 * its own process (CK_FORK) with a cleared environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/auth.h"
#include "util/base64.h"
#include "imgpkg/util.h"
#include "suites.h"

static char *tmp;

static void setup(void)
{
    tmp = test_tmpdir();
    ck_assert_int_eq(clearenv(), 0);
    char *home = ip_path_join(tmp, "home");
    setenv("HOME", home, 1);
    free(home);
    setenv("PATH", "/usr/bin:/bin", 1);
}

static void teardown(void)
{
    test_tmpdir_cleanup(tmp);
    tmp = NULL;
}

static char *tmp_path(const char *rel)
{
    return ip_path_join(tmp, rel);
}

static void write_home_config(const char *json)
{
    char *p = tmp_path("home/.docker/config.json");
    test_write_file(p, json, 0600);
    free(p);
}

/* Writes bin/docker-credential-NAME and puts bin/ first on PATH. */
static void write_helper(const char *name, const char *script)
{
    char *rel = ip_xasprintf("bin/docker-credential-%s", name);
    char *p = tmp_path(rel);
    char *bin = tmp_path("bin");
    char *path = ip_xasprintf("%s:/usr/bin:/bin", bin);
    test_write_file(p, script, 0755);
    setenv("PATH", path, 1);
    free(rel);
    free(p);
    free(bin);
    free(path);
}

static void resolve_ok(const char *registry, const struct ip_auth_opts *opts, struct ip_cred *c)
{
    struct ip_err err;
    int rc = ip_auth_resolve(registry, opts, c, &err);
    ck_assert_msg(rc == 0, "resolving %s: %s", registry, err.msg);
}

static void assert_basic(const char *registry, const struct ip_auth_opts *opts, const char *user,
                         const char *pass)
{
    struct ip_cred c;
    resolve_ok(registry, opts, &c);
    ck_assert_msg(!c.anonymous, "%s: anonymous", registry);
    ck_assert_ptr_nonnull(c.username);
    ck_assert_str_eq(c.username, user);
    ck_assert_ptr_nonnull(c.password);
    ck_assert_str_eq(c.password, pass);
    ck_assert_ptr_null(c.identity_token);
    ck_assert_ptr_null(c.registry_token);
    ip_cred_release(&c);
}

static void assert_anonymous(const char *registry, const struct ip_auth_opts *opts)
{
    struct ip_cred c;
    resolve_ok(registry, opts, &c);
    ck_assert_msg(c.anonymous, "%s: expected anonymous", registry);
    ck_assert_ptr_null(c.username);
    ck_assert_ptr_null(c.password);
    ck_assert_ptr_null(c.identity_token);
    ck_assert_ptr_null(c.registry_token);
    ip_cred_release(&c);
}

/* ---- WWW-Authenticate ---------------------------------------------------- */

static const struct {
    const char *header;
    const char *scheme, *realm, *service, *scope, *error;
} valid_challenges[] = {
    {"Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\","
     "scope=\"repository:a/b:pull,push\"",
     "bearer", "https://auth.example.com/token", "registry.example.com", "repository:a/b:pull,push",
     NULL},
    {"Basic realm=\"test\"", "basic", "test", NULL, NULL, NULL},
    {"Basic", "basic", NULL, NULL, NULL, NULL},
    {"  Basic  ", "basic", NULL, NULL, NULL, NULL},
    {"bearer service=\"s\", realm=\"r\"", "bearer", "r", "s", NULL, NULL},
    {"BEARER Realm=r ,  SERVICE = s", "bearer", "r", "s", NULL, NULL},
    {"Bearer realm=\"a\\\"b\\\\c\"", "bearer", "a\"b\\c", NULL, NULL, NULL},
    {"Bearer realm=\"r\",error=\"invalid_token\"", "bearer", "r", NULL, NULL, "invalid_token"},
    {"Bearer realm=\"r\", unknown=x, scope=\"s\"", "bearer", "r", NULL, "s", NULL},
    {"Bearer realm=\"r\", Basic realm=\"x\"", "bearer", "r", NULL, NULL, NULL},
    {"Negotiate dGVzdA==", "negotiate", NULL, NULL, NULL, NULL},
    {"Negotiate dGVzdA==, Bearer realm=\"r\"", "negotiate", NULL, NULL, NULL, NULL},
    {"Bearer realm=\"r\",", "bearer", "r", NULL, NULL, NULL},
    {"Bearer realm=\"\"", "bearer", "", NULL, NULL, NULL},
    {"Bearer realm=\"r\"\r\n", "bearer", "r", NULL, NULL, NULL},
    {"Bearer realm=\"first\",realm=\"second\"", "bearer", "second", NULL, NULL, NULL},
    {"Bearer\trealm=\"tab\"", "bearer", "tab", NULL, NULL, NULL},
};

static void assert_opt_str(const char *got, const char *want, const char *header)
{
    if (!want) {
        ck_assert_msg(got == NULL, "%s: expected NULL, got '%s'", header, got);
        return;
    }
    ck_assert_msg(got != NULL, "%s: expected '%s', got NULL", header, want);
    ck_assert_msg(!strcmp(got, want), "%s: expected '%s', got '%s'", header, want, got);
}

START_TEST(www_auth_valid)
{
    const char *h = valid_challenges[_i].header;
    struct ip_challenge c;
    struct ip_err err;
    int rc = ip_www_auth_parse(h, &c, &err);
    ck_assert_msg(rc == 0, "%s: %s", h, err.msg);
    assert_opt_str(c.scheme, valid_challenges[_i].scheme, h);
    assert_opt_str(c.realm, valid_challenges[_i].realm, h);
    assert_opt_str(c.service, valid_challenges[_i].service, h);
    assert_opt_str(c.scope, valid_challenges[_i].scope, h);
    assert_opt_str(c.error, valid_challenges[_i].error, h);
    ip_challenge_release(&c);
    ck_assert_ptr_null(c.scheme);
}
END_TEST

static const char *const malformed_challenges[] = {
    "",
    "   ",
    ",",
    "=foo",
    "\"Bearer\" realm=x",
    "Bearer realm=\"unterminated",
    "Bearer realm=\"ends in escape\\",
    "Bearer realm=",
    "Bearer realm",
    "Bearer realm=\"a\" service=\"b\"",
    "Bearer =x",
    "Bearer realm=\"a\"junk",
    "Bearer realm=\"a\", =b",
    "Bearer realm=\"a\x01b\"",
    "Bearer/x realm=y",
    "Bearer realm=a b",
    "Basic dGVzdA==",
};

START_TEST(www_auth_malformed)
{
    const char *h = malformed_challenges[_i];
    struct ip_challenge c;
    struct ip_err err;
    int rc = ip_www_auth_parse(h, &c, &err);
    ck_assert_msg(rc == -IP_E_FORMAT, "'%s' was accepted (rc %d)", h, rc);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
    ck_assert_ptr_null(c.scheme);
    ck_assert_ptr_null(c.realm);
}
END_TEST

START_TEST(www_auth_limits)
{
    struct ip_challenge c;
    struct ip_err err;
    size_t n = 9000;
    char *big = ip_xmalloc(n + 1);
    memcpy(big, "Bearer realm=\"", 14);
    memset(big + 14, 'a', n - 15);
    big[n - 1] = '"';
    big[n] = '\0';
    ck_assert_int_eq(ip_www_auth_parse(big, &c, &err), -IP_E_FORMAT);
    /* Just under the limit is fine. */
    big[8000] = '"';
    big[8001] = '\0';
    ck_assert_int_eq(ip_www_auth_parse(big, &c, &err), 0);
    ck_assert_uint_eq(strlen(c.realm), 8000 - 14);
    ip_challenge_release(&c);
    free(big);
    ck_assert_int_eq(ip_www_auth_parse(NULL, &c, &err), -IP_E_FORMAT);
}
END_TEST

/* ---- base64 ------------------------------------------------------------ */

START_TEST(base64_vectors)
{
    static const struct {
        const char *plain, *enc;
    } v[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {"user:pass", "dXNlcjpwYXNz"},
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(v); i++) {
        char *e = ip_base64_encode(v[i].plain, strlen(v[i].plain));
        ck_assert_str_eq(e, v[i].enc);
        free(e);
        size_t len = 99;
        unsigned char *d = ip_base64_decode(v[i].enc, &len);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(len, strlen(v[i].plain));
        ck_assert_mem_eq(d, v[i].plain, len);
        free(d);
    }
}
END_TEST

START_TEST(base64_round_trip)
{
    unsigned char data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(data); n++) {
        char *e = ip_base64_encode(data, n);
        ck_assert_uint_eq(strlen(e), 4 * ((n + 2) / 3));
        size_t len = 0;
        unsigned char *d = ip_base64_decode(e, &len);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(len, n);
        if (n)
            ck_assert_mem_eq(d, data, n);
        free(d);
        free(e);
    }
}
END_TEST

START_TEST(base64_invalid)
{
    static const char *const bad[] = {
        "Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9v", "====", "Zm9v\n"};
    size_t len;
    for (size_t i = 0; i < IP_ARRAY_SIZE(bad); i++)
        ck_assert_msg(ip_base64_decode(bad[i], &len) == NULL, "'%s' decoded", bad[i]);
    ck_assert_ptr_null(ip_base64_decode(NULL, &len));
}
END_TEST

/* ---- precedence ---------------------------------------------------------- */

START_TEST(precedence_env_flags_config)
{
    struct ip_auth_opts o = {0};
    struct ip_cred c;
    setenv("IMGPKG_REGISTRY_HOSTNAME", "reg.example.com", 1);
    setenv("IMGPKG_REGISTRY_USERNAME", "envuser", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD", "envpass", 1);
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"}}}");

    /* IMGPKG_REGISTRY_* for a matching host wins over the flags, as in imgpkg */
    o.username = "flaguser";
    o.password = "flagpass";
    assert_basic("reg.example.com", &o, "envuser", "envpass");
    /* for another host the flags apply */
    o.token = "flagtoken"; /* the username wins over the token, as in imgpkg */
    assert_basic("other.example.com", &o, "flaguser", "flagpass");

    memset(&o, 0, sizeof(o));
    o.token = "flagtoken";
    resolve_ok("other.example.com", &o, &c);
    ck_assert(!c.anonymous);
    ck_assert_ptr_null(c.username);
    ck_assert_str_eq(c.registry_token, "flagtoken");
    ip_cred_release(&c);

    memset(&o, 0, sizeof(o));
    o.anon = true;
    assert_anonymous("other.example.com", &o);

    /* flags over config.json */
    unsetenv("IMGPKG_REGISTRY_HOSTNAME");
    memset(&o, 0, sizeof(o));
    o.username = "flaguser";
    o.password = "flagpass";
    assert_basic("reg.example.com", &o, "flaguser", "flagpass");
    /* nothing else: config.json */
    assert_basic("reg.example.com", NULL, "cfguser", "cfgpass");
}
END_TEST

START_TEST(flag_variables)
{
    struct ip_auth_opts o = {0};
    struct ip_cred c;
    setenv("IMGPKG_USERNAME", "u", 1);
    setenv("IMGPKG_PASSWORD", "p", 1);
    assert_basic("any.example.com", NULL, "u", "p");
    /* A flag overrides its own variable only. */
    o.username = "flaguser";
    assert_basic("any.example.com", &o, "flaguser", "p");
    unsetenv("IMGPKG_USERNAME");
    unsetenv("IMGPKG_PASSWORD");

    setenv("IMGPKG_TOKEN", "tok", 1);
    resolve_ok("any.example.com", NULL, &c);
    ck_assert_str_eq(c.registry_token, "tok");
    ip_cred_release(&c);
    unsetenv("IMGPKG_TOKEN");

    /* IMGPKG_ANON must be exactly "true". */
    setenv("IMGPKG_REGISTRY_HOSTNAME", "any.example.com", 1);
    setenv("IMGPKG_REGISTRY_USERNAME", "envuser", 1);
    setenv("IMGPKG_ANON", "1", 1);
    assert_basic("any.example.com", NULL, "envuser", "");
    setenv("IMGPKG_ANON", "true", 1);
    /* the environment's host credentials still come first; other hosts go anonymous */
    assert_basic("any.example.com", NULL, "envuser", "");
    assert_anonymous("other.example.com", NULL);
}
END_TEST

START_TEST(env_over_config)
{
    write_home_config("{\"auths\":{\"a.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"},"
                      "\"b.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"}}}");
    setenv("IMGPKG_REGISTRY_HOSTNAME_0", "a.example.com", 1);
    setenv("IMGPKG_REGISTRY_USERNAME_0", "envuser", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD_0", "envpass", 1);
    assert_basic("a.example.com", NULL, "envuser", "envpass");
    assert_basic("b.example.com", NULL, "cfguser", "cfgpass");
}
END_TEST

/* ---- IMGPKG_REGISTRY_* ------------------------------------------------- */

START_TEST(env_suffixes_and_ports)
{
    struct ip_cred c;
    setenv("IMGPKG_REGISTRY_HOSTNAME_0", "localhost:5000", 1);
    setenv("IMGPKG_REGISTRY_USERNAME_0", "user0", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD_0", "pass0", 1);
    setenv("IMGPKG_REGISTRY_HOSTNAME_1", "http://localhost:5001", 1);
    setenv("IMGPKG_REGISTRY_USERNAME_1", "user1", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD_1", "pass1", 1);
    setenv("IMGPKG_REGISTRY_HOSTNAME_12", "https://reg.example.com/v2/", 1);
    setenv("IMGPKG_REGISTRY_IDENTITY_TOKEN_12", "idtok", 1);
    setenv("IMGPKG_REGISTRY_HOSTNAME_3", "*.example.com", 1);
    setenv("IMGPKG_REGISTRY_REGISTRY_TOKEN_3", "regtok", 1);
    setenv("IMGPKG_REGISTRY_HOSTNAME_TEAM", "quay.io/coreos", 1);
    setenv("IMGPKG_REGISTRY_USERNAME_TEAM", "coreos", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD_TEAM", "cpass", 1);
    setenv("IMGPKG_REGISTRY_HOSTNAME", "docker.io", 1);
    setenv("IMGPKG_REGISTRY_USERNAME", "hubuser", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD", "hubpass", 1);
    setenv("IMGPKG_REGISTRY_AZURE_CR_CONFIG", "/nowhere", 1); /* not a credential */

    assert_basic("localhost:5000", NULL, "user0", "pass0");
    assert_basic("localhost:5001", NULL, "user1", "pass1");
    assert_anonymous("localhost", NULL);
    assert_anonymous("localhost:5002", NULL);
    assert_anonymous("127.0.0.1:5000", NULL);

    resolve_ok("reg.example.com", NULL, &c);
    ck_assert(!c.anonymous);
    ck_assert_ptr_null(c.username);
    ck_assert_str_eq(c.identity_token, "idtok");
    ip_cred_release(&c);

    resolve_ok("other.example.com", NULL, &c);
    ck_assert_str_eq(c.registry_token, "regtok");
    ip_cred_release(&c);
    assert_anonymous("a.b.example.com", NULL);
    assert_anonymous("example.com", NULL);
    assert_anonymous("other.example.com:443", NULL);

    /* Docker Hub under either name. */
    assert_basic("index.docker.io", NULL, "hubuser", "hubpass");
    assert_basic("docker.io", NULL, "hubuser", "hubpass");

    /* A hostname with a path matches repositories under it only. */
    assert_anonymous("quay.io", NULL);
    assert_basic("quay.io/coreos/etcd", NULL, "coreos", "cpass");
}
END_TEST

START_TEST(env_unknown_variable)
{
    struct ip_cred c;
    struct ip_err err;
    setenv("IMGPKG_REGISTRY_HOSTNAME", "reg.example.com", 1);
    setenv("IMGPKG_REGISTRY_PASSWROD", "s3cr3t", 1);
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_USAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "Unknown env variable 'IMGPKG_REGISTRY_PASSWROD'"));
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));
}
END_TEST

START_TEST(env_hostname_without_credentials)
{
    /* A matching set with no credential stops the search: anonymous, as
     * imgpkg's env keychain returns an empty authenticator. */
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"}}}");
    setenv("IMGPKG_REGISTRY_HOSTNAME_0", "reg.example.com", 1);
    assert_anonymous("reg.example.com", NULL);
}
END_TEST

/* ---- config.json ---------------------------------------------------------- */

START_TEST(config_auths)
{
    struct ip_cred c;
    /* "user:pa:ss" - the password may hold colons. */
    write_home_config(
        "{\"auths\":{"
        "\"reg.example.com:5000\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
        "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnBhc3M=\"},"
        "\"https://url.example.com/v2/\":{\"username\":\"urluser\",\"password\":\"urlpass\"},"
        "\"http://plain.example.com\":{\"auth\":\"cDpx\"},"
        "\"id.example.com\":{\"identitytoken\":\"refresh-me\"},"
        "\"empty.example.com\":{}"
        "},\"credHelpers\":null}");
    assert_basic("reg.example.com:5000", NULL, "user", "pa:ss");
    assert_anonymous("reg.example.com", NULL);
    assert_basic("index.docker.io", NULL, "hub", "hubpass");
    assert_basic("docker.io", NULL, "hub", "hubpass");
    assert_basic("url.example.com", NULL, "urluser", "urlpass");
    assert_basic("plain.example.com", NULL, "p", "q");
    assert_anonymous("empty.example.com", NULL);
    assert_anonymous("unknown.example.com", NULL);

    resolve_ok("id.example.com", NULL, &c);
    ck_assert(!c.anonymous);
    ck_assert_ptr_null(c.username);
    ck_assert_str_eq(c.identity_token, "refresh-me");
    ip_cred_release(&c);
}
END_TEST

START_TEST(config_invalid)
{
    struct ip_cred c;
    struct ip_err err;
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"s3cr3t-not-base64\"}}}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));
    ck_assert_ptr_nonnull(strstr(err.msg, "reg.example.com"));

    /* base64 without a colon */
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"czNjcjN0\"}}}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));

    write_home_config("{\"auths\": [1, 2]}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_FORMAT);

    write_home_config("{\"auths\": {\"reg.example.com\": {\"auth\": \"s3cr3t");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "config.json"));
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));
}
END_TEST

START_TEST(config_locations)
{
    char *dc = tmp_path("dockercfg");
    char *dcfile = tmp_path("dockercfg/config.json");
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"aG9tZTpocA==\"}}}");
    test_write_file(dcfile, "{\"auths\":{\"reg.example.com\":{\"auth\":\"ZGM6ZHA=\"}}}", 0600);
    assert_basic("reg.example.com", NULL, "home", "hp");
    setenv("DOCKER_CONFIG", dc, 1);
    assert_basic("reg.example.com", NULL, "dc", "dp");
    free(dc);
    free(dcfile);

    /* Podman's auth.json when there is no Docker config. */
    char *xdg = tmp_path("run");
    char *pod = tmp_path("run/containers/auth.json");
    test_write_file(pod, "{\"auths\":{\"reg.example.com\":{\"auth\":\"cG9kOnBw\"}}}", 0600);
    setenv("DOCKER_CONFIG", xdg, 1); /* no config.json there */
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    assert_basic("reg.example.com", NULL, "pod", "pp");
    free(xdg);
    free(pod);
}
END_TEST

/* ---- credential helpers ------------------------------------------------- */

static const char helper_script[] =
    "#!/bin/sh\n"
    "[ \"$1\" = get ] || exit 9\n"
    "url=$(cat)\n"
    "case \"$url\" in\n"
    "reg.example.com|localhost:5000)\n"
    "  printf '{\"ServerURL\":\"%s\",\"Username\":\"u-%s\",\"Secret\":\"helper-secret\"}\\n' "
    "\"$url\" \"$url\" ;;\n"
    "https://index.docker.io/v1/)\n"
    "  printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"id-tok\"}' \"$url\" ;;\n"
    "*)\n"
    "  echo 'credentials not found in native keychain'; exit 1 ;;\n"
    "esac\n";

START_TEST(cred_helpers)
{
    struct ip_cred c;
    write_helper("test", helper_script);
    write_home_config("{\"auths\":{\"reg.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"},"
                      "\"other.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"}},"
                      "\"credHelpers\":{\"reg.example.com\":\"test\",\"localhost:5000\":\"test\","
                      "\"index.docker.io\":\"test\",\"none.example.com\":\"test\"}}");
    /* The helper takes precedence over the registry's auths entry. */
    assert_basic("reg.example.com", NULL, "u-reg.example.com", "helper-secret");
    assert_basic("localhost:5000", NULL, "u-localhost:5000", "helper-secret");
    /* Docker Hub: the helper gets the historical URL; "<token>" means an
     * identity token. */
    resolve_ok("docker.io", NULL, &c);
    ck_assert(!c.anonymous);
    ck_assert_ptr_null(c.username);
    ck_assert_ptr_null(c.password);
    ck_assert_str_eq(c.identity_token, "id-tok");
    ip_cred_release(&c);
    /* "credentials not found": anonymous. */
    assert_anonymous("none.example.com", NULL);
    /* No helper for this one: its auths entry. */
    assert_basic("other.example.com", NULL, "cfguser", "cfgpass");
}
END_TEST

START_TEST(creds_store)
{
    write_helper("store", helper_script);
    /* With credsStore the auths entries are not used (Docker Desktop leaves
     * empty ones there). */
    write_home_config("{\"auths\":{\"reg.example.com\":{},"
                      "\"other.example.com\":{\"auth\":\"Y2ZndXNlcjpjZmdwYXNz\"}},"
                      "\"credsStore\":\"store\"}");
    assert_basic("reg.example.com", NULL, "u-reg.example.com", "helper-secret");
    assert_anonymous("other.example.com", NULL);
}
END_TEST

START_TEST(cred_helper_failures)
{
    struct ip_cred c;
    struct ip_err err;
    write_helper("fail", "#!/bin/sh\necho 'boom: keyring locked' >&2\nexit 3\n");
    write_helper("leaky", "#!/bin/sh\necho '{\"Username\":\"u\",\"Secret\":\"s3cr3t\"}'\nexit 2\n");
    write_helper("garbage", "#!/bin/sh\necho 'not json s3cr3t'\n");
    write_helper("sig", "#!/bin/sh\nkill -9 $$\n");

    write_home_config("{\"credHelpers\":{\"reg.example.com\":\"fail\"}}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "docker-credential-fail"));
    ck_assert_ptr_nonnull(strstr(err.msg, "exit status 3"));
    ck_assert_ptr_nonnull(strstr(err.msg, "boom: keyring locked"));
    ck_assert_ptr_nonnull(strstr(err.msg, "reg.example.com"));

    write_home_config("{\"credHelpers\":{\"reg.example.com\":\"leaky\"}}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "docker-credential-leaky"));
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));

    write_home_config("{\"credsStore\":\"garbage\"}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "docker-credential-garbage"));
    ck_assert_ptr_null(strstr(err.msg, "s3cr3t"));

    write_home_config("{\"credsStore\":\"sig\"}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "signal 9"));

    write_home_config("{\"credsStore\":\"missing\"}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "docker-credential-missing"));
    ck_assert_ptr_nonnull(strstr(err.msg, "PATH"));

    /* A helper name is never a path. */
    write_home_config("{\"credsStore\":\"../../bin/sh\"}");
    ck_assert_int_eq(ip_auth_resolve("reg.example.com", NULL, &c, &err), -IP_E_INPUT);
}
END_TEST

START_TEST(cred_helper_not_run_by_shell)
{
    /* The helper is exec'd directly: a name full of shell syntax is just a
     * file name (a shell would split it and run `touch`). */
    char *marker = tmp_path("pwned");
    write_helper("x;touch pwned #", helper_script);
    write_home_config("{\"credsStore\":\"x;touch pwned #\"}");
    ck_assert_int_eq(chdir(tmp), 0);
    assert_basic("reg.example.com", NULL, "u-reg.example.com", "helper-secret");
    ck_assert_int_ne(access(marker, F_OK), 0);
    free(marker);
}
END_TEST

/* ---- fallback ------------------------------------------------------------ */

START_TEST(anonymous_fallback)
{
    struct ip_cred c;
    struct ip_err err;
    /* No flags, no variables, no config.json. */
    assert_anonymous("reg.example.com", NULL);
    /* An empty config and a config without a match. */
    write_home_config("{}");
    assert_anonymous("reg.example.com", NULL);
    write_home_config("{\"auths\":{\"elsewhere.example.com\":{\"auth\":\"dTpw\"}}}");
    assert_anonymous("reg.example.com", NULL);
    ck_assert_int_eq(ip_auth_resolve("", NULL, &c, &err), -IP_E_USAGE);
    ip_cred_release(&c);
    ip_cred_release(&c); /* releasing twice is harmless */
}
END_TEST

/* ---- IMGPKG_ACTIVE_KEYCHAINS ---------------------------------------------- */

static void assert_resolve_fails(const char *registry, const char *want)
{
    struct ip_cred c;
    struct ip_err err;
    ck_assert_int_lt(ip_auth_resolve(registry, NULL, &c, &err), 0);
    ck_assert_msg(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
}

START_TEST(keychain_names)
{
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "github,foo", 1);
    assert_resolve_fails("ghcr.io", "Creating registry keychain: Unable to load keychain for foo, "
                                    "available keychains [aks, ecr, gke, github]");
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "github,", 1);
    assert_resolve_fails("reg.example.com", "Unable to load keychain for , available");
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "GitHub", 1);
    assert_resolve_fails("reg.example.com", "Unable to load keychain for GitHub, available");
    setenv("IMGPKG_ACTIVE_KEYCHAINS", " github , gke,ecr,aks", 1);
    assert_anonymous("reg.example.com", NULL);
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "", 1);
    assert_anonymous("reg.example.com", NULL);
}
END_TEST

START_TEST(keychain_github)
{
    struct ip_auth_opts flags = {.username = "flaguser", .password = "flagpass"};
    setenv("GITHUB_TOKEN", "ghp_secret", 1);
    /* not active: GITHUB_TOKEN is not used */
    assert_anonymous("ghcr.io", NULL);
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "github", 1);
    assert_basic("ghcr.io", NULL, "unset", "ghp_secret");
    assert_basic("GHCR.IO:443", NULL, "unset", "ghp_secret");
    setenv("GITHUB_ACTOR", "octocat", 1);
    assert_basic("ghcr.io", NULL, "octocat", "ghp_secret");
    /* before the flags, after IMGPKG_REGISTRY_* (imgpkg's order) */
    assert_basic("ghcr.io", &flags, "octocat", "ghp_secret");
    setenv("IMGPKG_REGISTRY_HOSTNAME", "ghcr.io", 1);
    setenv("IMGPKG_REGISTRY_USERNAME", "envuser", 1);
    setenv("IMGPKG_REGISTRY_PASSWORD", "envpass", 1);
    assert_basic("ghcr.io", &flags, "envuser", "envpass");
    unsetenv("IMGPKG_REGISTRY_HOSTNAME");
    unsetenv("IMGPKG_REGISTRY_USERNAME");
    unsetenv("IMGPKG_REGISTRY_PASSWORD");
    /* only ghcr.io */
    assert_basic("docker.pkg.example.com", &flags, "flaguser", "flagpass");
    assert_anonymous("ghcr.io.example.com", NULL);
    /* without a token: the next keychains */
    unsetenv("GITHUB_TOKEN");
    assert_basic("ghcr.io", &flags, "flaguser", "flagpass");
    /* IMGPKG_ENABLE_IAAS_AUTH=true turns every keychain on */
    unsetenv("IMGPKG_ACTIVE_KEYCHAINS");
    setenv("GITHUB_TOKEN", "ghp_other", 1);
    setenv("IMGPKG_ENABLE_IAAS_AUTH", "true", 1);
    assert_basic("ghcr.io", NULL, "octocat", "ghp_other");
}
END_TEST

static const char cloud_helper[] =
    "#!/bin/sh\n"
    "[ \"$1\" = get ] || exit 9\n"
    "url=$(cat)\n"
    "printf '{\"ServerURL\":\"%s\",\"Username\":\"cloud-%s\",\"Secret\":\"cloud-secret\"}' "
    "\"$url\" \"$url\"\n";

START_TEST(keychain_cloud)
{
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "gke,ecr,aks", 1);
    /* a registry none of them serves: on to the next keychains */
    assert_anonymous("reg.example.com", NULL);
    /* each serves its registries through its credential helper, which must be there */
    char *empty = tmp_path("empty-bin");
    setenv("PATH", empty, 1);
    free(empty);
    assert_resolve_fails("gcr.io", "the gke keychain gets credentials for gcr.io from "
                                   "docker-credential-gcloud, which is not in $PATH");
    assert_resolve_fails("123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                         "from docker-credential-ecr-login, which is not in $PATH");
    assert_resolve_fails("team.azurecr.io",
                         "from docker-credential-acr-env, which is not in $PATH");
    write_helper("gcloud", cloud_helper);
    write_helper("ecr-login", cloud_helper);
    write_helper("acr-env", cloud_helper);
    assert_basic("gcr.io", NULL, "cloud-gcr.io", "cloud-secret");
    assert_basic("eu.gcr.io", NULL, "cloud-eu.gcr.io", "cloud-secret");
    assert_basic("europe-docker.pkg.dev", NULL, "cloud-europe-docker.pkg.dev", "cloud-secret");
    assert_basic("123456789012.dkr.ecr.eu-west-1.amazonaws.com", NULL,
                 "cloud-123456789012.dkr.ecr.eu-west-1.amazonaws.com", "cloud-secret");
    assert_basic("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", NULL,
                 "cloud-123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "cloud-secret");
    assert_basic("team.azurecr.io", NULL, "cloud-team.azurecr.io", "cloud-secret");
    /* not theirs */
    assert_anonymous("12345.dkr.ecr.eu-west-1.amazonaws.com", NULL);
    assert_anonymous("gcr.io.example.com", NULL);
    assert_anonymous("azurecr.io", NULL);
    /* a keychain not active does not answer */
    setenv("IMGPKG_ACTIVE_KEYCHAINS", "ecr", 1);
    assert_anonymous("gcr.io", NULL);
}
END_TEST

Suite *suite_auth(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("challenge");
    tcase_add_loop_test(tc, www_auth_valid, 0, (int)IP_ARRAY_SIZE(valid_challenges));
    tcase_add_loop_test(tc, www_auth_malformed, 0, (int)IP_ARRAY_SIZE(malformed_challenges));
    tcase_add_test(tc, www_auth_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("base64");
    tcase_add_test(tc, base64_vectors);
    tcase_add_test(tc, base64_round_trip);
    tcase_add_test(tc, base64_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, precedence_env_flags_config);
    tcase_add_test(tc, flag_variables);
    tcase_add_test(tc, env_over_config);
    tcase_add_test(tc, env_suffixes_and_ports);
    tcase_add_test(tc, env_unknown_variable);
    tcase_add_test(tc, env_hostname_without_credentials);
    tcase_add_test(tc, config_auths);
    tcase_add_test(tc, config_invalid);
    tcase_add_test(tc, config_locations);
    tcase_add_test(tc, cred_helpers);
    tcase_add_test(tc, creds_store);
    tcase_add_test(tc, cred_helper_failures);
    tcase_add_test(tc, cred_helper_not_run_by_shell);
    tcase_add_test(tc, anonymous_fallback);
    tcase_add_test(tc, keychain_names);
    tcase_add_test(tc, keychain_github);
    tcase_add_test(tc, keychain_cloud);
    suite_add_tcase(s, tc);
    return s;
}
