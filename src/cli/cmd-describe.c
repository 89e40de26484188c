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
    const struct cli_global *gl;
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

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ip_kv *)a)->key, ((const struct ip_kv *)b)->key);
}

static int kv_yaml_cmp(const void *a, const void *b)
{
    return ip_yaml_key_cmp(((const struct ip_kv *)a)->key, ((const struct ip_kv *)b)->key);
}

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

/* An item's annotations (its signature's tag among them), sorted: by bytes
 * for text (Go's sort.Strings), in go-yaml's order for YAML. */
static size_t item_annotations(const struct item *it, bool yaml_order, struct ip_kv **out)
{
    struct ip_kv *kv = ip_xcalloc(it->n_ann + 1, sizeof(*kv));
    size_t n = 0;
    for (size_t a = 0; a < it->n_ann; a++)
        kv[n++] = it->ann[a];
    if (it->sig_tag) {
        kv[n].key = (char *)"tag";
        kv[n++].val = it->sig_tag;
    }
    qsort(kv, n, sizeof(*kv), yaml_order ? kv_yaml_cmp : kv_cmp);
    *out = kv;
    return n;
}

/* imgpkg's order is Go's map order (it varies from run to run): ours is by
 * origin, nested bundles first as imgpkg has them. */
static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    bool xb = !strcmp(x->type, "Bundle"), yb = !strcmp(y->type, "Bundle");
    if (xb != yb)
        return xb ? -1 : 1;
    int c = strcmp(x->origin, y->origin);
    return c ? c : strcmp(x->image, y->image);
}

static void text_annotations(const struct cli_global *g, const struct item *it, int level)
{
    struct ip_kv *kv;
    size_t n = item_annotations(it, false, &kv);
    if (n)
        ui_text(g, "%*sAnnotations:\n", level * 2, "");
    for (size_t a = 0; a < n; a++) {
        /* go-cli-ui indents every line of a value but after its last newline */
        struct ip_buf b = IP_BUF_INIT;
        cleanup_free char *text = ip_xasprintf("%s: %s\n", kv[a].key, kv[a].val);
        for (const char *p = text; *p; p++) {
            char ch[2] = {*p, 0};
            if (p == text || (p[-1] == '\n'))
                ip_buf_printf(&b, "%*s", (level + 1) * 2, "");
            ip_buf_adds(&b, ch);
        }
        ui_text(g, "%s", b.data);
        ip_buf_release(&b);
    }
    free(kv);
}

/* The text imgpkg prints, call for call (with --json each is one line of
 * the document): a bundle's items at depth+1, its "Images:" heading there
 * too but for the root's, a blank line between bundles. */
static void text_bundle(struct dctx *c, const struct ip_graph_node *b, int depth)
{
    const struct cli_global *g = c->gl;
    struct item *it;
    size_t n = bundle_items(c->g, b, &it), n_bundles = 0, n_images = 0;
    int ind = (depth + 1) * 2;
    qsort(it, n, sizeof(*it), item_cmp);
    if (n)
        ui_text(g, "%*sImages:\n", depth ? ind : 0, "");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(it[i].type, "Bundle") != 0)
            continue;
        if (n_bundles++)
            ui_text(g, "\n");
        ui_text(g, "%*s- Image: %s\n", ind, "", it[i].image);
        ui_text(g, "%*s  Type: Bundle\n", ind, "");
        ui_text(g, "%*s  Origin: %s\n", ind, "", it[i].origin);
        text_annotations(g, &it[i], depth + 2);
        text_bundle(c, &c->g->nodes[it[i].node], depth + 1);
    }
    if (n_bundles)
        ui_text(g, "%s", "");
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(it[i].type, "Bundle"))
            continue;
        if (n_images++)
            ui_text(g, "%s", "");
        ui_text(g, "%*s- Image: %s\n", ind, "", it[i].image);
        ui_text(g, "%*s  Type: %s\n", ind, "", it[i].type);
        if (!strcmp(it[i].type, "Image"))
            ui_text(g, "%*s  Origin: %s\n", ind, "", it[i].origin);
        text_annotations(g, &it[i], depth + 2);
    }
    items_free(it, n);
}

static void yaml_bundle(struct dctx *c, const struct ip_graph_node *b, const struct item *self);

static void yaml_annotations(struct dctx *c, const struct item *it)
{
    struct ip_kv *kv;
    size_t n = item_annotations(it, true, &kv);
    if (n) {
        ip_yaml_scalar(c->w, "annotations");
        ip_yaml_map_start(c->w);
        for (size_t a = 0; a < n; a++)
            ip_yaml_kv(c->w, kv[a].key, kv[a].val);
        ip_yaml_map_end(c->w);
    }
    free(kv);
}

static const char *item_digest(const struct item *it)
{
    const char *at = strchr(it->image, '@');
    return at ? at + 1 : it->image;
}

static int item_digest_cmp(const void *a, const void *b)
{
    return ip_yaml_key_cmp(item_digest(a), item_digest(b));
}

/* keys in sigs.k8s.io/yaml's order: alphabetical; self is the item naming
 * this bundle in its parent (NULL for the root) */
static void yaml_bundle(struct dctx *c, const struct ip_graph_node *b, const struct item *self)
{
    struct item *it;
    size_t n = bundle_items(c->g, b, &it);
    cleanup_free char *img = where(b);
    qsort(it, n, sizeof(*it), item_digest_cmp);
    ip_yaml_map_start(c->w);
    if (self)
        yaml_annotations(c, self);
    ip_yaml_scalar(c->w, "content");
    if (n)
        ip_yaml_map_start(c->w);
    else
        ip_yaml_flow_map_start(c->w);
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
            yaml_bundle(c, &c->g->nodes[it[i].node], &it[i]);
        }
        ip_yaml_map_end(c->w);
    }
    if (any_image) {
        ip_yaml_scalar(c->w, "images");
        ip_yaml_map_start(c->w);
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(it[i].type, "Bundle"))
                continue;
            ip_yaml_scalar(c->w, item_digest(&it[i]));
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
    ip_yaml_kv(c->w, "origin", self ? self->origin : b->orig_ref);
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
                        "--output-type can only have the following values [text, yaml]");
        goto out;
    }
    if (!bundle) {
        rc = ip_err_set(err, IP_E_USAGE, "Expected bundle flag (-b) to be specified");
        goto out;
    }
    set = ip_source_set_new(&ro);
    struct ip_graph_opts go = {.kind = IP_ROOT_BUNDLE,
                               .cosign_signatures = o->cosign,
                               .images_context = "Retrieving Images from bundle",
                               .root_context = "Unable to check if %s is a bundle"};
    if ((rc = ip_graph_from_registry(set, bundle, &go, &g, err)) < 0) {
        if (err->code == IP_E_INPUT)
            ip_err_set(err, IP_E_INPUT, "Only bundles can be described, and %s is not a bundle",
                       bundle);
        goto out;
    }
    struct dctx c = {.gl = gl, .g = &g, .layers = o->layers};
    const struct ip_graph_node *root = &g.nodes[0];
    if (output && !strcmp(output, "yaml")) {
        struct ip_buf b = IP_BUF_INIT;
        c.w = ip_yaml_writer_new(false);
        yaml_bundle(&c, root, NULL);
        if ((rc = ip_yaml_writer_finish(c.w, &b, err)) == 0) {
            /* blocks, printed with or without a TTY */
            ui_block(gl, "sha: %s\n", root->digest);
            ui_block(gl, "%s", b.data ? b.data : "");
        }
        ip_buf_release(&b);
    } else {
        /* status lines: printed on a TTY (or with --tty) only, as imgpkg */
        ui_text(gl, "Bundle SHA: %s\n", root->digest);
        ui_text(gl, "\n");
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
