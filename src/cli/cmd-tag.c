/* cmd-tag.c - imgpkg tag list / tag resolve: a repository's tags (optionally
 * with digests), and a reference resolved to its digest. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "oci/json.h"
#include "util/banned.h"

struct tag_opts {
    struct registry_flags rf;
    char *image;
    bool digests, internal;
};

#define O(field) offsetof(struct tag_opts, field)

static const struct flag tag_image_flag[] = {
    {"image", 'i', FLAG_STRING, O(image), "Set image (example: docker.io/dkalinin/test-content)",
     NULL, 0},
    FLAG_END,
};

static const struct flag tag_list_flags[] = {
    {"digests", 0, FLAG_BOOL, O(digests), "Include digests", NULL, 0},
    {"imgpkg-internal-tags", 0, FLAG_BOOL, O(internal), "Include internal .imgpkg tags", NULL, 0},
    FLAG_END,
};

/* The checks both subcommands start with: flags, -i, and the repository. */
static int open_image_repo(const struct cli_global *g, const struct registry_flags *rf,
                           const char *image, struct ip_ref *ref, struct ip_store **s,
                           struct ip_err *err)
{
    struct ip_registry_opts ro;
    int rc;
    if ((rc = registry_flags_opts(g, rf, &ro, err)) < 0)
        return rc;
    if (!image)
        return ip_err_set(err, IP_E_USAGE, "Expected image flag (-i) to be specified");
    if ((rc = ip_ref_parse(image, ref, err)) < 0)
        return ip_err_wrap(err, "Parsing '%s'", image);
    return ip_store_registry_open(ref, &ro, s, err);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tag_list(const struct cli_global *gl, void *opts, struct ip_err *err)
{
    struct tag_opts *o = opts;
    bool digests = o->digests, internal = o->internal;
    struct ip_ref ref;
    struct ip_store *s = NULL;
    char **tags = NULL;
    size_t n = 0;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = open_image_repo(gl, &o->rf, o->image, &ref, &s, err)) < 0)
        goto out;
    if ((rc = ip_registry_list_tags(s, &tags, &n, err)) < 0)
        goto out;
    qsort(tags, n, sizeof(char *), str_cmp);
    size_t shown = 0;
    yajl_gen g = NULL;
    if (gl->json) {
        g = ip_json_gen_new();
        yajl_gen_map_open(g);
        ip_json_str(g, "Tables");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        ip_json_kv(g, "Content", "tags");
        ip_json_str(g, "Header");
        yajl_gen_map_open(g);
        ip_json_kv(g, "name", "Name");
        if (digests)
            ip_json_kv(g, "digest", "Digest");
        yajl_gen_map_close(g);
        ip_json_str(g, "Rows");
        yajl_gen_array_open(g);
    } else {
        printf("\nTags\n\n%s\n", digests ? "Name  Digest" : "Name");
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(tags[i]);
        if (!internal && len >= 7 && !strcmp(tags[i] + len - 7, ".imgpkg"))
            continue;
        char digest[IP_DIGEST_SIZE] = "";
        if (digests) {
            struct ip_manifest *m = NULL;
            if ((rc = ip_store_get_manifest(s, tags[i], &m, err)) < 0) {
                if (g)
                    yajl_gen_free(g);
                goto out;
            }
            memcpy(digest, m->digest, IP_DIGEST_SIZE);
            ip_manifest_free(m);
        }
        if (g) {
            yajl_gen_map_open(g);
            ip_json_kv(g, "name", tags[i]);
            if (digests)
                ip_json_kv(g, "digest", digest);
            yajl_gen_map_close(g);
        } else if (digests) {
            printf("%s  %s\n", tags[i], digest);
        } else {
            printf("%s\n", tags[i]);
        }
        shown++;
    }
    if (g) {
        struct ip_buf b = IP_BUF_INIT;
        yajl_gen_array_close(g);
        ip_json_str(g, "Notes");
        yajl_gen_null(g);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        ip_json_str(g, "Blocks");
        yajl_gen_null(g);
        ip_json_str(g, "Lines");
        yajl_gen_array_open(g);
        ip_json_str(g, "Succeeded");
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        ip_json_gen_finish(g, &b);
        printf("%s\n", b.data);
        ip_buf_release(&b);
    } else {
        printf("\n%zu tags\n", shown);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(tags[i]);
    free(tags);
    ip_store_free(s);
    ip_ref_release(&ref);
    return rc;
}

static int tag_resolve(const struct cli_global *gl, void *opts, struct ip_err *err)
{
    struct tag_opts *o = opts;
    struct ip_ref ref;
    struct ip_store *s = NULL;
    struct ip_manifest *m = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = open_image_repo(gl, &o->rf, o->image, &ref, &s, err)) < 0)
        goto out;
    rc = ip_store_get_manifest(s, ref.digest[0] ? ref.digest : (ref.tag ? ref.tag : "latest"), &m,
                               err);
    if (rc < 0)
        goto out;
    printf("%s@%s\n", ip_store_location(s), m->digest);
out:
    ip_manifest_free(m);
    ip_store_free(s);
    ip_ref_release(&ref);
    return rc;
}

static const struct flag_use tag_list_uses[] = {
    {tag_image_flag, 0},
    {tag_list_flags, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

static const struct flag_use tag_resolve_uses[] = {
    {tag_image_flag, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

const struct command cmd_tag_list = {
    .name = "list",
    .alias = "ls",
    .summary = "List tags for image",
    .flags = tag_list_uses,
    .opts_size = sizeof(struct tag_opts),
    .run = tag_list,
};

const struct command cmd_tag_resolve = {
    .name = "resolve",
    .summary = "Resolve tag to digest for image",
    .flags = tag_resolve_uses,
    .opts_size = sizeof(struct tag_opts),
    .run = tag_resolve,
};

static const struct command *const tag_subcommands[] = {&cmd_tag_list, &cmd_tag_resolve, NULL};

const struct command cmd_tag = {
    .name = "tag",
    .summary = "Tag (list, resolve)",
    .subcommands = tag_subcommands,
};
