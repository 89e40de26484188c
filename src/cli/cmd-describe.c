/* cmd-describe.c - imgpkg describe: a bundle and everything it references
 * (nested bundles, images, signatures, imgpkg's internal images), as text or
 * YAML in imgpkg's formats. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/airgap.h"
#include "imgpkg/yaml-writer.h"
#include "util/banned.h"

struct dctx {
    const struct ip_graph *g;
    bool layers;
    struct ip_yaml_writer *w; /* yaml, or NULL for text */
};

/* What describe says of one image. */
struct item {
    char *image;  /* where it is: repo@digest */
    char *origin; /* as images.yml names it */
    const char *type;
    const struct ip_kv *ann;
    size_t n_ann;
    char *sig_tag;
    long node;
};

static char *where(const struct ip_graph_node *n)
{
    return ip_xasprintf("%s@%s", ip_store_location(n->src), n->digest);
}

/* The items of bundle b: its images.yml images, their signatures and its
 * image-locations record. */
static size_t bundle_items(const struct ip_graph *g, const struct ip_graph_node *b,
                           struct item **out)
{
    struct item *it = ip_xcalloc(b->lock.n_images * 2 + 2, sizeof(*it));
    size_t n = 0;
    for (size_t i = 0; i < b->lock.n_images; i++) {
        const char *img = b->lock.images[i].image;
        const char *at = strchr(img, '@');
        long k = at ? ip_graph_find(g, at + 1) : -1;
        if (k < 0)
            continue;
        it[n].node = k;
        it[n].image = where(&g->nodes[k]);
        it[n].origin = ip_xstrdup(img);
        it[n].type = g->nodes[k].is_bundle ? "Bundle" : "Image";
        it[n].ann = b->lock.images[i].annotations;
        it[n].n_ann = b->lock.images[i].n_annotations;
        n++;
        /* its signature, when one was found */
        cleanup_free char *sig = ip_xasprintf("sha256-%s.sig", ip_digest_hex(at + 1));
        for (size_t s = 0; s < g->n; s++) {
            if (g->nodes[s].tag && !strcmp(g->nodes[s].tag, sig)) {
                it[n].node = (long)s;
                it[n].image = where(&g->nodes[s]);
                it[n].origin = where(&g->nodes[s]);
                it[n].type = "Signature";
                it[n].sig_tag = ip_xstrdup(sig);
                n++;
            }
        }
    }
    /* the locations record imgpkg keeps beside a relocated bundle */
    cleanup_free char *ltag = ip_imgpkg_locations_tag(b->digest);
    struct ip_manifest *m = NULL;
    struct ip_err e;
    if (ip_store_get_manifest(b->src, ltag, &m, &e) == 0) {
        it[n].node = -1;
        it[n].image = ip_xasprintf("%s@%s", ip_store_location(b->src), m->digest);
        it[n].origin = ip_xstrdup(it[n].image);
        it[n].type = "Internal";
        n++;
        ip_manifest_free(m);
    }
    *out = it;
    return n;
}

static void items_free(struct item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(it[i].image);
        free(it[i].origin);
        free(it[i].sig_tag);
    }
    free(it);
}

static void text_bundle(struct dctx *c, const struct ip_graph_node *b, int depth)
{
    struct item *it;
    size_t n = bundle_items(c->g, b, &it);
    int ind = depth * 2;
    printf("%*sImages:\n", ind, "");
    for (size_t i = 0; i < n; i++) {
        printf("%*s  - Image: %s\n", ind, "", it[i].image);
        printf("%*s    Type: %s\n", ind, "", it[i].type);
        if (strcmp(it[i].type, "Internal") != 0 && strcmp(it[i].type, "Signature") != 0)
            printf("%*s    Origin: %s\n", ind, "", it[i].origin);
        if (it[i].n_ann || it[i].sig_tag) {
            printf("%*s    Annotations:\n", ind, "");
            for (size_t a = 0; a < it[i].n_ann; a++)
                printf("%*s      %s: %s\n", ind, "", it[i].ann[a].key, it[i].ann[a].val);
            if (it[i].sig_tag)
                printf("%*s      tag: %s\n", ind, "", it[i].sig_tag);
        }
        if (!strcmp(it[i].type, "Bundle"))
            text_bundle(c, &c->g->nodes[it[i].node], depth + 2);
        printf("\n");
    }
    items_free(it, n);
}

static void yaml_bundle(struct dctx *c, const struct ip_graph_node *b, const char *origin);

static void yaml_annotations(struct dctx *c, const struct item *it)
{
    if (!it->n_ann && !it->sig_tag)
        return;
    ip_yaml_scalar(c->w, "annotations");
    ip_yaml_map_start(c->w);
    for (size_t a = 0; a < it->n_ann; a++)
        ip_yaml_kv(c->w, it->ann[a].key, it->ann[a].val);
    if (it->sig_tag)
        ip_yaml_kv(c->w, "tag", it->sig_tag);
    ip_yaml_map_end(c->w);
}

/* keys in sigs.k8s.io/yaml's order: alphabetical */
static void yaml_bundle(struct dctx *c, const struct ip_graph_node *b, const char *origin)
{
    struct item *it;
    size_t n = bundle_items(c->g, b, &it);
    cleanup_free char *img = where(b);
    ip_yaml_map_start(c->w);
    ip_yaml_scalar(c->w, "content");
    ip_yaml_map_start(c->w);
    bool any_bundle = false, any_image = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(it[i].type, "Bundle"))
            any_bundle = true;
        else
            any_image = true;
    }
    if (any_bundle) {
        ip_yaml_scalar(c->w, "bundles");
        ip_yaml_map_start(c->w);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(it[i].type, "Bundle") != 0)
                continue;
            ip_yaml_scalar(c->w, c->g->nodes[it[i].node].digest);
            yaml_bundle(c, &c->g->nodes[it[i].node], it[i].origin);
        }
        ip_yaml_map_end(c->w);
    }
    if (any_image) {
        ip_yaml_scalar(c->w, "images");
        ip_yaml_map_start(c->w);
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(it[i].type, "Bundle"))
                continue;
            const char *at = strchr(it[i].image, '@');
            ip_yaml_scalar(c->w, at ? at + 1 : it[i].image);
            ip_yaml_map_start(c->w);
            yaml_annotations(c, &it[i]);
            ip_yaml_kv(c->w, "image", it[i].image);
            ip_yaml_kv(c->w, "imageType", it[i].type);
            ip_yaml_kv(c->w, "origin", it[i].origin);
            ip_yaml_map_end(c->w);
        }
        ip_yaml_map_end(c->w);
    }
    ip_yaml_map_end(c->w);
    ip_yaml_kv(c->w, "image", img);
    ip_yaml_scalar(c->w, "metadata");
    ip_yaml_flow_map_start(c->w);
    ip_yaml_map_end(c->w);
    ip_yaml_kv(c->w, "origin", origin);
    ip_yaml_map_end(c->w);
    items_free(it, n);
}

struct describe_opts {
    struct registry_flags rf;
    char *bundle, *output;
    bool layers, cosign;
};

static int describe_run(const struct cli_global *gl, void *opts, struct ip_err *err)
{
    struct describe_opts *o = opts;
    struct ip_registry_opts ro;
    const char *bundle = o->bundle, *output = o->output;
    struct ip_source_set *set = NULL;
    struct ip_graph g = {0};
    int rc;

    if ((rc = registry_flags_opts(gl, &o->rf, &ro, err)) < 0)
        goto out;
    if (output && strcmp(output, "text") != 0 && strcmp(output, "yaml") != 0) {
        rc = ip_err_set(err, IP_E_USAGE,
                        "--output-type can only have the following values: [text, yaml]");
        goto out;
    }
    if (!bundle) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected bundle flag (-b) to be specified");
        goto out;
    }
    set = ip_source_set_new(&ro);
    struct ip_graph_opts go = {.kind = IP_ROOT_BUNDLE, .cosign_signatures = o->cosign};
    if ((rc = ip_graph_from_registry(set, bundle, &go, &g, err)) < 0) {
        if (err->code == IP_E_INPUT)
            ip_err_set(err, IP_E_INPUT, "Only bundles can be described, and %s is not a bundle",
                       bundle);
        goto out;
    }
    struct dctx c = {.g = &g, .layers = o->layers};
    const struct ip_graph_node *root = &g.nodes[0];
    if (output && !strcmp(output, "yaml")) {
        struct ip_buf b = IP_BUF_INIT;
        c.w = ip_yaml_writer_new(false);
        yaml_bundle(&c, root, root->orig_ref);
        if ((rc = ip_yaml_writer_finish(c.w, &b, err)) == 0)
            printf("sha: %s\n%s", root->digest, b.data ? b.data : "");
        ip_buf_release(&b);
    } else {
        printf("Bundle SHA: %s\n\n", root->digest);
        text_bundle(&c, root, 0);
    }
out:
    ip_graph_release(&g);
    ip_source_set_free(set);
    return rc;
}

#define O(field) offsetof(struct describe_opts, field)

static const struct flag describe_flags[] = {
    {"bundle", 'b', FLAG_STRING, O(bundle),
     "Bundle reference for copying (happens thickly, i.e. bundle image + all referenced images)",
     NULL, 0},
    {"output-type", 'o', FLAG_STRING, O(output), "Type of output possible values: [text, yaml]",
     "text", 0},
    {"layers", 0, FLAG_BOOL, O(layers), "Retrieve image layers info", NULL, 0},
    {"cosign-artifacts", 0, FLAG_BOOL, O(cosign),
     "Retrieve cosign artifact information (Default: true)", "true", 0},
    {"cosign-signatures", 0, FLAG_BOOL, O(cosign), "Same as --cosign-artifacts", "true", 0},
    FLAG_END,
};

static const struct flag_use describe_uses[] = {
    {describe_flags, 0},
    {registry_flag_table, O(rf)},
    {NULL, 0},
};

const struct command cmd_describe = {
    .name = "describe",
    .summary = "Describe the images and bundles associated with a give bundle",
    .examples = "\n    # Describe a bundle\n    imgpkg describe -b carvel.dev/app1-bundle\n",
    .flags = describe_uses,
    .opts_size = sizeof(struct describe_opts),
    .run = describe_run,
};
