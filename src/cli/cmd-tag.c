/* cmd-tag.c - imgpkg tag list / tag resolve: a repository's tags (optionally
 * with digests), and a reference resolved to its digest. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
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
    static const struct ui_column cols[] = {{"name", "Name"}, {"digest", "Digest"}};
    struct tag_opts *o = opts;
    struct ip_ref ref;
    struct ip_store *s = NULL;
    char **tags = NULL;
    size_t n = 0, n_rows = 0, n_cols = o->digests ? 2 : 1;
    char **digests = NULL;
    const char **cells = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = open_image_repo(gl, &o->rf, o->image, &ref, &s, err)) < 0)
        goto out;
    if ((rc = ip_registry_list_tags(s, &tags, &n, err)) < 0)
        goto out;
    /* sorted by name, as imgpkg's table is */
    qsort(tags, n, sizeof(char *), str_cmp);
    digests = ip_xcalloc(n ? n : 1, sizeof(*digests));
    cells = ip_xcalloc(n ? n * n_cols : 1, sizeof(*cells));
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(tags[i]);
        if (!o->internal && len >= 7 && !strcmp(tags[i] + len - 7, ".imgpkg"))
            continue;
        cells[n_rows * n_cols] = tags[i];
        if (o->digests) {
            struct ip_manifest *m = NULL;
            if ((rc = ip_store_get_manifest(s, tags[i], &m, err)) < 0)
                goto out;
            digests[i] = ip_xstrdup(m->digest);
            ip_manifest_free(m);
            cells[n_rows * n_cols + 1] = digests[i];
        }
        n_rows++;
    }
    struct ui_table t = {.title = "Tags",
                         .content = "tags",
                         .cols = cols,
                         .n_cols = n_cols,
                         .cells = cells,
                         .n_rows = n_rows};
    rc = ui_table(gl, &t, err);
out:
    for (size_t i = 0; i < n; i++) {
        free(tags[i]);
        if (digests)
            free(digests[i]);
    }
    free(tags);
    free(digests);
    free(cells);
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
    cleanup_free char *name = NULL;
    int rc;

    memset(&ref, 0, sizeof(ref));
    if ((rc = open_image_repo(gl, &o->rf, o->image, &ref, &s, err)) < 0)
        goto out;
    rc = ip_registry_resolve(s, ref.digest[0] ? ref.digest : (ref.tag ? ref.tag : "latest"), &m,
                             err);
    if (rc < 0)
        goto out;
    name = ip_ref_name(&ref);
    ui_block(gl, "%s@%s", name, m->digest);
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
