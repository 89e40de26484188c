/* test-ref.c - image references: the Docker grammar, normalised as
 * go-containerregistry does; the names derived from a reference. */
#include <string.h>

#include "imgpkg/ref.h"
#include "imgpkg/util.h"
#include "suites.h"

#define DG "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good_ref {
    const char *in;
    const char *registry;
    const char *repository;
    const char *tag;    /* NULL: none */
    const char *digest; /* "": none */
};

static const struct good_ref good[] = {
    {"nginx", "index.docker.io", "library/nginx", NULL, ""},
    {"nginx:1.25", "index.docker.io", "library/nginx", "1.25", ""},
    {"nginx:latest", "index.docker.io", "library/nginx", "latest", ""},
    {"bitnami/nginx:1.2.3-debian_r0", "index.docker.io", "bitnami/nginx", "1.2.3-debian_r0", ""},
    {"docker.io/nginx", "index.docker.io", "library/nginx", NULL, ""},
    {"docker.io/library/nginx:v1", "index.docker.io", "library/nginx", "v1", ""},
    {"docker.io/team/app", "index.docker.io", "team/app", NULL, ""},
    {"index.docker.io/nginx", "index.docker.io", "library/nginx", NULL, ""},
    {"index.docker.io/team/app:_x", "index.docker.io", "team/app", "_x", ""},
    {"example.com/team/app:v1", "example.com", "team/app", "v1", ""},
    {"example.com/app", "example.com", "app", NULL, ""},
    {"registry.example.com:5000/a/b/c:tag", "registry.example.com:5000", "a/b/c", "tag", ""},
    {"localhost/app", "localhost", "app", NULL, ""},
    {"localhost:5000/app:v2", "localhost:5000", "app", "v2", ""},
    {"127.0.0.1:5000/team/app", "127.0.0.1:5000", "team/app", NULL, ""},
    {"[::1]:5000/app:t", "[::1]:5000", "app", "t", ""},
    {"[::1]/app", "[::1]", "app", NULL, ""},
    {"[fe80::1]:443/x/y", "[fe80::1]:443", "x/y", NULL, ""},
    {"Example.COM/app", "Example.COM", "app", NULL, ""},
    {"gcr.io/a__b/c-d.e/f--g", "gcr.io", "a__b/c-d.e/f--g", NULL, ""},
    {"nginx@" DG, "index.docker.io", "library/nginx", NULL, DG},
    {"example.com/app@" DG, "example.com", "app", NULL, DG},
    {"localhost:5000/app@" DG, "localhost:5000", "app", NULL, DG},
    {"example.com:5000/app:v1@" DG, "example.com:5000", "app", "v1", DG},
    {"nginx:1.25@" DG, "index.docker.io", "library/nginx", "1.25", DG},
    {"localhost:5000", "index.docker.io", "library/localhost", "5000", ""},
    {"a0/b1", "index.docker.io", "a0/b1", NULL, ""},
};

START_TEST(parse_valid)
{
    for (size_t i = 0; i < IP_ARRAY_SIZE(good); i++) {
        const struct good_ref *g = &good[i];
        struct ip_ref r;
        struct ip_err err;
        ip_err_clear(&err);
        int rc = ip_ref_parse(g->in, &r, &err);
        ck_assert_msg(rc == 0, "'%s': %s", g->in, err.msg);
        ck_assert_msg(!strcmp(r.registry, g->registry), "'%s': registry '%s', want '%s'", g->in,
                      r.registry, g->registry);
        ck_assert_msg(!strcmp(r.repository, g->repository), "'%s': repository '%s', want '%s'",
                      g->in, r.repository, g->repository);
        if (g->tag)
            ck_assert_msg(r.tag && !strcmp(r.tag, g->tag), "'%s': tag '%s', want '%s'", g->in,
                          r.tag ? r.tag : "(none)", g->tag);
        else
            ck_assert_msg(r.tag == NULL, "'%s': unexpected tag '%s'", g->in, r.tag);
        ck_assert_msg(!strcmp(r.digest, g->digest), "'%s': digest '%s'", g->in, r.digest);
        ip_ref_release(&r);
    }
}
END_TEST

struct bad_ref {
    const char *in;
    enum ip_code code;
};

static const struct bad_ref bad[] = {
    {"", IP_E_FORMAT},
    {"Nginx", IP_E_FORMAT}, /* uppercase repository */
    {"team/App", IP_E_FORMAT},
    {"example.com/Team/app", IP_E_FORMAT},
    {"nginx:", IP_E_FORMAT},     /* empty tag */
    {"nginx:-bad", IP_E_FORMAT}, /* tag starts with '-' */
    {"nginx:.bad", IP_E_FORMAT},
    {"nginx:b@d", IP_E_FORMAT},
    {"nginx:a+b", IP_E_FORMAT},
    {"nginx:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "a",
     IP_E_FORMAT}, /* 129 characters */
    {"ngi nx", IP_E_FORMAT},
    {" nginx", IP_E_FORMAT},
    {"nginx ", IP_E_FORMAT},
    {"nginx:v1 ", IP_E_FORMAT},
    {"ngi\tnx", IP_E_FORMAT},
    {"ngi\xc3\xa9nx", IP_E_FORMAT},
    {"nginx@sha256:abc", IP_E_FORMAT},
    {"nginx@", IP_E_FORMAT},
    {"nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", IP_E_FORMAT},
    {"nginx@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     IP_E_UNSUPPORTED},
    {"a//b", IP_E_FORMAT},
    {"a/", IP_E_FORMAT},
    {"/a", IP_E_FORMAT},
    {"a/b/", IP_E_FORMAT},
    {"-a", IP_E_FORMAT},
    {"a-", IP_E_FORMAT},
    {"a..b", IP_E_FORMAT},
    {"a___b", IP_E_FORMAT},
    {"a_.b", IP_E_FORMAT},
    {"example.com:port/app", IP_E_FORMAT},
    {"example.com:/app", IP_E_FORMAT},
    {"-example.com/app", IP_E_FORMAT},
    {"example.com./app", IP_E_FORMAT},
    {"exa_mple.com/app", IP_E_FORMAT},
    {"[::1/app", IP_E_FORMAT},
    {"[::g]:5000/app", IP_E_FORMAT},
    {"example.com/", IP_E_FORMAT},
    {":tag", IP_E_FORMAT},
    {"@" DG, IP_E_FORMAT},
};

START_TEST(parse_invalid)
{
    for (size_t i = 0; i < IP_ARRAY_SIZE(bad); i++) {
        struct ip_ref r;
        struct ip_err err;
        memset(&r, 0, sizeof(r));
        ip_err_clear(&err);
        int rc = ip_ref_parse(bad[i].in, &r, &err);
        ck_assert_msg(rc == -(int)bad[i].code, "'%s' gave %d (%s), want %d", bad[i].in, rc, err.msg,
                      -(int)bad[i].code);
        ck_assert_int_eq(err.code, bad[i].code);
        ck_assert_msg(strstr(err.msg, "invalid reference") != NULL, "'%s': %s", bad[i].in, err.msg);
        ck_assert_ptr_null(r.registry);
        ck_assert_ptr_null(r.tag);
    }
    /* NULL is refused like "" */
    struct ip_ref r;
    struct ip_err err;
    ck_assert_int_eq(ip_ref_parse(NULL, &r, &err), -IP_E_FORMAT);
}
END_TEST

START_TEST(name_length_limit)
{
    /* 255 characters of path are fine, 256 are not */
    char name[300];
    struct ip_ref r;
    struct ip_err err;
    memcpy(name, "example.com/", 12);
    memset(name + 12, 'a', 255);
    name[12 + 255] = '\0';
    ck_assert_int_eq(ip_ref_parse(name, &r, &err), 0);
    ck_assert_uint_eq(strlen(r.repository), 255);
    ip_ref_release(&r);
    name[12 + 255] = 'a';
    name[12 + 256] = '\0';
    ck_assert_int_eq(ip_ref_parse(name, &r, &err), -IP_E_FORMAT);
    /* a 128-character tag is the longest */
    char tagged[140];
    memcpy(tagged, "app:", 4);
    memset(tagged + 4, 't', 128);
    tagged[4 + 128] = '\0';
    ck_assert_int_eq(ip_ref_parse(tagged, &r, &err), 0);
    ck_assert_uint_eq(strlen(r.tag), 128);
    ip_ref_release(&r);
}
END_TEST

START_TEST(repo_parse)
{
    struct ip_ref r;
    struct ip_err err;
    ck_assert_int_eq(ip_repo_parse("example.com/team/app", &r, &err), 0);
    ck_assert_str_eq(r.registry, "example.com");
    ck_assert_str_eq(r.repository, "team/app");
    ip_ref_release(&r);
    ck_assert_int_eq(ip_repo_parse("example.com/team/app:v1", &r, &err), -IP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected no tag or digest"));
    ck_assert_int_eq(ip_repo_parse("app@" DG, &r, &err), -IP_E_FORMAT);
    ck_assert_int_eq(ip_repo_parse("App", &r, &err), -IP_E_FORMAT);
}
END_TEST

START_TEST(tag_valid)
{
    ck_assert(ip_tag_valid("v1"));
    ck_assert(ip_tag_valid("_"));
    ck_assert(ip_tag_valid("V1.2-rc_3"));
    ck_assert(!ip_tag_valid(""));
    ck_assert(!ip_tag_valid("-v1"));
    ck_assert(!ip_tag_valid(".v1"));
    ck_assert(!ip_tag_valid("v1/x"));
    ck_assert(!ip_tag_valid("v1:x"));
}
END_TEST

struct names {
    const char *in;
    const char *name;
    const char *familiar;
    const char *containerd;
};

static const struct names names_table[] = {
    {"nginx", "index.docker.io/library/nginx", "nginx", "docker.io/library/nginx"},
    {"docker.io/library/nginx:v1", "index.docker.io/library/nginx", "nginx",
     "docker.io/library/nginx"},
    {"team/app", "index.docker.io/team/app", "team/app", "docker.io/team/app"},
    {"library/a/b", "index.docker.io/library/a/b", "library/a/b", "docker.io/library/a/b"},
    {"example.com/team/app:v1", "example.com/team/app", "example.com/team/app",
     "example.com/team/app"},
    {"localhost:5000/app@" DG, "localhost:5000/app", "localhost:5000/app", "localhost:5000/app"},
    {"[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"},
};

START_TEST(derived_names)
{
    for (size_t i = 0; i < IP_ARRAY_SIZE(names_table); i++) {
        const struct names *t = &names_table[i];
        struct ip_ref r;
        struct ip_err err;
        ck_assert_msg(ip_ref_parse(t->in, &r, &err) == 0, "%s: %s", t->in, err.msg);
        char *n = ip_ref_name(&r), *f = ip_ref_familiar(&r), *c = ip_ref_containerd(&r);
        ck_assert_msg(!strcmp(n, t->name), "%s: name %s", t->in, n);
        ck_assert_msg(!strcmp(f, t->familiar), "%s: familiar %s", t->in, f);
        ck_assert_msg(!strcmp(c, t->containerd), "%s: containerd %s", t->in, c);
        free(n);
        free(f);
        free(c);
        ip_ref_release(&r);
    }
}
END_TEST

START_TEST(loopback)
{
    static const char *const yes[] = {
        "localhost",    "localhost:5000", "127.0.0.1",  "127.0.0.1:5000",
        "127.1.2.3:80", "[::1]",          "[::1]:5000",
    };
    static const char *const no[] = {
        "example.com",
        "example.com:5000",
        "localhost.example.com",
        "localhostx:5000",
        "mylocalhost",
        "128.0.0.1:5000",
        "10.0.0.1",
        "[::2]:5000",
        "index.docker.io",
        "127.example.com",
        "127.0.0.1.nip.io:5000",
        "[::1]x",
        "127.evil.com:5000",
        "",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(yes); i++)
        ck_assert_msg(ip_registry_is_loopback(yes[i]), "'%s' should be loopback", yes[i]);
    for (size_t i = 0; i < IP_ARRAY_SIZE(no); i++)
        ck_assert_msg(!ip_registry_is_loopback(no[i]), "'%s' should not be loopback", no[i]);
}
END_TEST

START_TEST(loopback_of_parsed_refs)
{
    struct ip_ref r;
    struct ip_err err;
    ck_assert_int_eq(ip_ref_parse("localhost:5000/app:v1", &r, &err), 0);
    ck_assert(ip_registry_is_loopback(r.registry));
    ip_ref_release(&r);
    ck_assert_int_eq(ip_ref_parse("nginx", &r, &err), 0);
    ck_assert(!ip_registry_is_loopback(r.registry));
    ip_ref_release(&r);
}
END_TEST

Suite *suite_ref(void)
{
    Suite *s = suite_create("ref");
    TCase *tc = tcase_create("ref");
    tcase_add_test(tc, parse_valid);
    tcase_add_test(tc, parse_invalid);
    tcase_add_test(tc, name_length_limit);
    tcase_add_test(tc, repo_parse);
    tcase_add_test(tc, tag_valid);
    tcase_add_test(tc, derived_names);
    tcase_add_test(tc, loopback);
    tcase_add_test(tc, loopback_of_parsed_refs);
    suite_add_tcase(s, tc);
    return s;
}
