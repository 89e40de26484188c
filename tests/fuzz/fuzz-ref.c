/* fuzz-ref.c - image references: ip_ref_parse and ip_repo_parse on arbitrary
 * strings.  For a valid reference: its parts are valid, and its name
 * (ip_ref_name), familiar name and containerd name each parse again to the
 * same registry and repository, as does the whole reference rebuilt from its
 * parts (with the same tag and digest). */
#include "fuzz.h"

#include "imgpkg/ref.h"
#include "imgpkg/util.h"

static void same_repo(const struct ip_ref *r, const char *s, bool with_tag_digest)
{
    struct ip_ref back;
    struct ip_err err;
    ip_err_clear(&err);
    FUZZ_CHECK(ip_ref_parse(s, &back, &err) == 0, "'%s' (from %s/%s) does not parse: %s", s,
               r->registry, r->repository, err.msg);
    FUZZ_CHECK(!strcmp(back.registry, r->registry), "'%s': registry %s, expected %s", s,
               back.registry, r->registry);
    FUZZ_CHECK(!strcmp(back.repository, r->repository), "'%s': repository %s, expected %s", s,
               back.repository, r->repository);
    if (with_tag_digest) {
        FUZZ_CHECK((!back.tag && !r->tag) || (back.tag && r->tag && !strcmp(back.tag, r->tag)),
                   "'%s': tag", s);
        FUZZ_CHECK(!strcmp(back.digest, r->digest), "'%s': digest", s);
    } else {
        FUZZ_CHECK(!back.tag && !back.digest[0], "'%s': tag or digest", s);
    }
    ip_ref_release(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    struct ip_ref r, repo;
    struct ip_err err;

    ip_err_clear(&err);
    int rc = ip_ref_parse(s, &r, &err);
    if (rc == 0) {
        FUZZ_CHECK(r.registry && *r.registry, "empty registry");
        FUZZ_CHECK(r.repository && *r.repository, "empty repository");
        FUZZ_CHECK(strlen(r.repository) <= 255, "repository of %zu bytes", strlen(r.repository));
        FUZZ_CHECK(!r.tag || ip_tag_valid(r.tag), "tag '%s'", r.tag);
        FUZZ_CHECK(!r.digest[0] || ip_digest_valid(r.digest), "digest '%s'", r.digest);
        char *name = ip_ref_name(&r);
        char *familiar = ip_ref_familiar(&r);
        char *containerd = ip_ref_containerd(&r);
        same_repo(&r, name, false);
        same_repo(&r, familiar, false);
        same_repo(&r, containerd, false);
        char *full = ip_xasprintf("%s%s%s%s%s", name, r.tag ? ":" : "", r.tag ? r.tag : "",
                                  r.digest[0] ? "@" : "", r.digest);
        same_repo(&r, full, true);
        (void)ip_registry_is_loopback(r.registry);
        free(full);
        free(name);
        free(familiar);
        free(containerd);
    } else {
        FUZZ_CHECK(rc == -(int)err.code && err.msg[0], "error rc %d", rc);
    }

    ip_err_clear(&err);
    int rc2 = ip_repo_parse(s, &repo, &err);
    if (rc2 == 0) {
        FUZZ_CHECK(rc == 0 && !r.tag && !r.digest[0], "a repository that is no plain reference");
        FUZZ_CHECK(!strcmp(repo.registry, r.registry) && !strcmp(repo.repository, r.repository),
                   "repository parse differs");
        ip_ref_release(&repo);
    } else {
        FUZZ_CHECK(rc != 0 || r.tag || r.digest[0],
                   "a reference without tag refused as repository");
    }
    if (rc == 0)
        ip_ref_release(&r);
    (void)ip_tag_valid(s);
    free(s);
    return 0;
}
