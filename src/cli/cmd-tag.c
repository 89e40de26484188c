/* cmd-tag.c - imgpkg tag list / tag resolve: a repository's tags (optionally
 * with digests), and a reference resolved to its digest. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/json.h"
#include "util/banned.h"

static const struct command tag_list_cmd = {"tag list", "List tags for image repository",
                                            "imgpkg tag list -i REPO [--digests] [flags]", NULL};
static const struct command tag_resolve_cmd = {"tag resolve", "Resolve tag to a digest for image",
                                               "imgpkg tag resolve -i REF [flags]", NULL};

/* The checks both subcommands start with: flags, -i, and the repository. */
static int open_image_repo(struct registry_flags *rf, const char *image, struct ip_ref *ref,
                           struct ip_store **s, struct ip_err *err)
{
    struct ip_registry_opts ro;
    int rc;
    if ((rc = registry_flags_opts(rf, &ro, err)) < 0)
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

static int tag_list(int argc, char **argv, struct ip_err *err)
{
    struct registry_flags rf;
    char *image = NULL;
    bool digests = false, internal = false;
    struct flag flags[20];
    size_t nf = 0;
    struct ip_ref ref;
    struct ip_store *s = NULL;
    char **tags = NULL;
    size_t n = 0;
    int rc;

    memset(&ref, 0, sizeof(ref));
    registry_flags_init(&rf);
    flags[nf++] = (struct flag){"image", 'i', FLAG_STRING, &image, "Set image (example: docker.io/dkalinin/test-content)", false};
    flags[nf++] = (struct flag){"digests", 0, FLAG_BOOL, &digests, "Include digests", false};
    flags[nf++] = (struct flag){"imgpkg-internal-tags", 0, FLAG_BOOL, &internal, "Include internal .imgpkg tags", false};
    nf = registry_flags_add(flags, nf, &rf);
    flags[nf] = (struct flag){NULL, 0, 0, NULL, NULL, false};
    if ((rc = cli_parse(&tag_list_cmd, flags, argc, argv, err)) < 0)
        goto out;
    if (g_cli.help) {
        cli_print_help(&tag_list_cmd, flags);
        goto out;
    }
    if ((rc = open_image_repo(&rf, image, &ref, &s, err)) < 0)
        goto out;
    if ((rc = ip_registry_list_tags(s, &tags, &n, err)) < 0)
        goto out;
    qsort(tags, n, sizeof(char *), str_cmp);
    size_t shown = 0;
    yajl_gen g = NULL;
    if (g_cli.json) {
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
    registry_flags_release(&rf);
    free(image);
    return rc;
}

static int tag_resolve(int argc, char **argv, struct ip_err *err)
{
    struct registry_flags rf;
    char *image = NULL;
    struct flag flags[20];
    size_t nf = 0;
    struct ip_ref ref;
    struct ip_store *s = NULL;
    struct ip_manifest *m = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    registry_flags_init(&rf);
    flags[nf++] = (struct flag){"image", 'i', FLAG_STRING, &image, "Set image (example: docker.io/dkalinin/test-content)", false};
    nf = registry_flags_add(flags, nf, &rf);
    flags[nf] = (struct flag){NULL, 0, 0, NULL, NULL, false};
    if ((rc = cli_parse(&tag_resolve_cmd, flags, argc, argv, err)) < 0)
        goto out;
    if (g_cli.help) {
        cli_print_help(&tag_resolve_cmd, flags);
        goto out;
    }
    if ((rc = open_image_repo(&rf, image, &ref, &s, err)) < 0)
        goto out;
    rc = ip_store_get_manifest(s, ref.digest[0] ? ref.digest : (ref.tag ? ref.tag : "latest"), &m,
                               err);
    if (rc < 0)
        goto out;
    printf("%s@%s\n", s->location, m->digest);
out:
    ip_manifest_free(m);
    ip_store_free(s);
    ip_ref_release(&ref);
    registry_flags_release(&rf);
    free(image);
    return rc;
}

int cmd_tag(int argc, char **argv, struct ip_err *err)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        printf("Tag (list, resolve)\n\nUsage:\n  imgpkg tag [command]\n\nAvailable Commands:\n"
               "  list       List tags for image repository\n"
               "  resolve    Resolve tag to a digest for image\n");
        if (argc < 1)
            return 0;
        g_cli.help = true;
        return 0;
    }
    if (!strcmp(argv[0], "list") || !strcmp(argv[0], "ls"))
        return tag_list(argc - 1, argv + 1, err);
    if (!strcmp(argv[0], "resolve"))
        return tag_resolve(argc - 1, argv + 1, err);
    return ip_err_set(err, IP_E_USAGE, "unknown command \"%s\" for \"imgpkg tag\"", argv[0]);
}
