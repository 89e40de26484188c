/* lock.c - imgpkg's lock files read with libyaml's document API: the
 * ImagesLock of a bundle (.imgpkg/images.yml). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "imgpkg/lock.h"
#include "imgpkg/ref.h"
#include "imgpkg/yaml-writer.h"
#include "lock-private.h"
#include "util/banned.h"

#define MAX_LOCK_FILE (16u << 20)

static const char *scalar(yaml_document_t *doc, yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return NULL;
    (void)doc;
    return (const char *)n->data.scalar.value;
}

/* A key of the mapping: its exact spelling first, else in any case (Go's
 * encoding/json, which imgpkg's YAML goes through, matches keys so). */
static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    yaml_node_t *folded = NULL;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
        if (k && !strcmp(k, key))
            return yaml_document_get_node(doc, p->value);
        if (k && !folded && !strcasecmp(k, key))
            folded = yaml_document_get_node(doc, p->value);
    }
    return folded;
}

/* imgpkg reads lock files strictly: a key it does not know is an error. */
static int check_fields(yaml_document_t *doc, yaml_node_t *map, const char *const *known,
                        const char *what, const char *label, struct ip_err *err)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
        bool ok = false;
        for (size_t i = 0; k && known[i] && !ok; i++)
            ok = !strcasecmp(k, known[i]);
        if (!ok)
            return ip_err_set(err, IP_E_FORMAT,
                              "%s: Unmarshaling %s: error unmarshaling JSON: while decoding JSON: "
                              "json: unknown field \"%.200s\"",
                              what, label, k ? k : "");
    }
    return 0;
}

/* A YAML null: an empty plain scalar, or ~ / null / Null / NULL (core schema). */
static bool yaml_is_null(yaml_node_t *n)
{
    const char *v;
    if (!n || n->type != YAML_SCALAR_NODE)
        return false;
    v = (const char *)n->data.scalar.value;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

void ip_images_lock_release(struct ip_images_lock *l)
{
    for (size_t i = 0; i < l->n_images; i++) {
        free(l->images[i].image);
        for (size_t j = 0; j < l->images[i].n_annotations; j++) {
            free(l->images[i].annotations[j].key);
            free(l->images[i].annotations[j].val);
        }
        free(l->images[i].annotations);
    }
    free(l->images);
    memset(l, 0, sizeof(*l));
}

/* apiVersion and kind, as imgpkg validates them ("images lock", "bundle lock"). */
static int check_header(yaml_document_t *doc, yaml_node_t *root, const char *what,
                        const char *kind_name, const char *label, struct ip_err *err)
{
    const char *api, *kind;
    if (!root || root->type != YAML_MAPPING_NODE)
        return ip_err_set(err, IP_E_FORMAT, "%s: expected a YAML mapping (%s)", what, kind_name);
    api = scalar(doc, map_get(doc, root, "apiVersion"));
    kind = scalar(doc, map_get(doc, root, "kind"));
    if (!api || strcmp(api, IP_LOCK_API_VERSION) != 0)
        return ip_err_set(err, IP_E_FORMAT,
                          "%s: Validating %s: Validating apiVersion: Unknown version (known: %s)",
                          what, label, IP_LOCK_API_VERSION);
    if (!kind || strcmp(kind, kind_name) != 0)
        return ip_err_set(err, IP_E_FORMAT,
                          "%s: Validating %s: Validating kind: Unknown kind (known: %s)", what,
                          label, kind_name);
    return 0;
}

static int lock_from_doc(yaml_document_t *doc, const char *what, bool strict,
                         struct ip_images_lock *out, struct ip_err *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    yaml_node_t *images;
    struct ip_images_lock l;
    int rc;

    static const char *const top_keys[] = {"apiVersion", "kind", "images", NULL};
    static const char *const image_keys[] = {"image", "annotations", NULL};

    memset(&l, 0, sizeof(l));
    if (strict && (rc = check_fields(doc, root, top_keys, what, "images lock", err)) < 0)
        return rc;
    images = map_get(doc, root, "images");
    if (strict && images && images->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = images->data.sequence.items.start;
             it < images->data.sequence.items.top; it++)
            if ((rc = check_fields(doc, yaml_document_get_node(doc, *it), image_keys, what,
                                   "images lock", err)) < 0)
                return rc;
    }
    if ((rc = check_header(doc, root, what, "ImagesLock", "images lock", err)) < 0)
        return rc;
    if (images && !yaml_is_null(images)) {
        if (images->type != YAML_SEQUENCE_NODE)
            return ip_err_set(err, IP_E_FORMAT, "%s: images must be a list", what);
        size_t n = (size_t)(images->data.sequence.items.top - images->data.sequence.items.start);
        l.images = ip_xcalloc(n, sizeof(*l.images));
        for (size_t i = 0; i < n; i++) {
            yaml_node_t *item = yaml_document_get_node(doc, images->data.sequence.items.start[i]);
            const char *image = scalar(doc, map_get(doc, item, "image"));
            yaml_node_t *ann = map_get(doc, item, "annotations");
            struct ip_ref ref;
            struct ip_lock_image *li = &l.images[l.n_images];
            if (!item || item->type != YAML_MAPPING_NODE || !image || !*image) {
                ip_images_lock_release(&l);
                return ip_err_set(err, IP_E_FORMAT, "%s: images[%zu] has no image", what, i);
            }
            memset(&ref, 0, sizeof(ref));
            bool pinned = ip_ref_parse(image, &ref, err) == 0 && ref.digest[0] != '\0';
            ip_ref_release(&ref);
            if (!pinned) {
                ip_images_lock_release(&l);
                return ip_err_set(err, IP_E_FORMAT,
                                  "%s: Validating images lock: Expected ref to be in digest form, "
                                  "got '%.300s'",
                                  what, image);
            }
            li->image = ip_xstrdup(image);
            l.n_images++;
            if (ann && ann->type == YAML_MAPPING_NODE) {
                size_t na = (size_t)(ann->data.mapping.pairs.top - ann->data.mapping.pairs.start);
                li->annotations = ip_xcalloc(na, sizeof(struct ip_kv));
                for (size_t j = 0; j < na; j++) {
                    yaml_node_pair_t *p = &ann->data.mapping.pairs.start[j];
                    const char *k = scalar(doc, yaml_document_get_node(doc, p->key));
                    const char *v = scalar(doc, yaml_document_get_node(doc, p->value));
                    if (!k || !v) {
                        ip_images_lock_release(&l);
                        return ip_err_set(err, IP_E_FORMAT,
                                          "%s: images[%zu].annotations must map strings to strings",
                                          what, i);
                    }
                    li->annotations[li->n_annotations].key = ip_xstrdup(k);
                    li->annotations[li->n_annotations].val = ip_xstrdup(v);
                    li->n_annotations++;
                }
            } else if (ann && !(ann->type == YAML_SCALAR_NODE)) {
                ip_images_lock_release(&l);
                return ip_err_set(err, IP_E_FORMAT, "%s: images[%zu].annotations must be a mapping",
                                  what, i);
            }
        }
    }
    *out = l;
    return 0;
}

#define MAX_YAML_DEPTH 64

int ip_yaml_check_nesting(const char *data, size_t len, const char *what, struct ip_err *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int depth = 0, rc = 0;

    if (!yaml_parser_initialize(&parser))
        return ip_err_set(err, IP_E_NOMEM, "%s: cannot initialise the YAML parser", what);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    /* events come as the scanner goes (it looks ahead a line at most), so the
     * pass stops before the deep part is scanned */
    while (yaml_parser_parse(&parser, &ev)) {
        yaml_event_type_t t = ev.type;
        yaml_event_delete(&ev);
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > MAX_YAML_DEPTH) {
                rc = ip_err_set(err, IP_E_FORMAT, "%s: YAML nested more than %d deep", what,
                                MAX_YAML_DEPTH);
                break;
            }
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (t == YAML_DOCUMENT_END_EVENT || t == YAML_STREAM_END_EVENT) {
            break;
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* Loads the first document of data into doc (the caller deletes it). */
static int load_doc(const char *data, size_t len, const char *what, const char *kind,
                    yaml_document_t *doc, struct ip_err *err)
{
    yaml_parser_t parser;
    int rc;

    if (len > MAX_LOCK_FILE)
        return ip_err_set(err, IP_E_TOOBIG, "%s: larger than %u bytes", what, MAX_LOCK_FILE);
    if ((rc = ip_yaml_check_nesting(data, len, what, err)) < 0)
        return rc;
    if (!yaml_parser_initialize(&parser))
        return ip_err_set(err, IP_E_NOMEM, "%s: cannot initialise the YAML parser", what);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, doc)) {
        rc = ip_err_set(err, IP_E_FORMAT, "%s: invalid YAML: %s at line %zu column %zu", what,
                        parser.problem ? parser.problem : "parse error",
                        parser.problem_mark.line + 1, parser.problem_mark.column + 1);
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_parser_delete(&parser);
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        return ip_err_set(err, IP_E_FORMAT, "%s: empty document (expected a %s)", what, kind);
    }
    return 0;
}

static int images_lock_parse(const char *data, size_t len, const char *what, bool strict,
                             struct ip_images_lock *out, struct ip_err *err)
{
    yaml_document_t doc;
    int rc = load_doc(data, len, what, "ImagesLock", &doc, err);
    if (rc < 0)
        return rc;
    rc = lock_from_doc(&doc, what, strict, out, err);
    yaml_document_delete(&doc);
    return rc;
}

int ip_images_lock_parse(const char *data, size_t len, const char *what, struct ip_images_lock *out,
                         struct ip_err *err)
{
    return images_lock_parse(data, len, what, true, out, err);
}

void ip_bundle_lock_release(struct ip_bundle_lock *l)
{
    free(l->image);
    free(l->tag);
    memset(l, 0, sizeof(*l));
}

/* A BundleLock: apiVersion, kind, bundle: {image: REPO@DIGEST, tag: TAG}. */
static int bundle_lock_from_doc(yaml_document_t *doc, const char *what, struct ip_bundle_lock *out,
                                struct ip_err *err)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    yaml_node_t *bundle;
    const char *image = NULL, *tag = NULL;
    struct ip_ref ref;
    int rc;

    static const char *const top_keys[] = {"apiVersion", "kind", "bundle", NULL};
    static const char *const bundle_keys[] = {"image", "tag", NULL};

    bundle = map_get(doc, root, "bundle");
    if ((rc = check_fields(doc, root, top_keys, what, "bundle lock", err)) < 0 ||
        (rc = check_fields(doc, bundle, bundle_keys, what, "bundle lock", err)) < 0)
        return rc;
    if ((rc = check_header(doc, root, what, "BundleLock", "bundle lock", err)) < 0)
        return rc;
    if (bundle && bundle->type == YAML_MAPPING_NODE) {
        image = scalar(doc, map_get(doc, bundle, "image"));
        tag = scalar(doc, map_get(doc, bundle, "tag"));
    } else if (bundle && !yaml_is_null(bundle)) {
        return ip_err_set(err, IP_E_FORMAT, "%s: bundle must be a mapping", what);
    }
    memset(&ref, 0, sizeof(ref));
    bool pinned = image && ip_ref_parse(image, &ref, err) == 0 && ref.digest[0] != '\0';
    ip_ref_release(&ref);
    if (!pinned)
        return ip_err_set(err, IP_E_FORMAT,
                          "%s: Validating bundle lock: Expected ref to be in digest form, got "
                          "'%.300s'",
                          what, image ? image : "");
    out->image = ip_xstrdup(image);
    out->tag = tag && *tag ? ip_xstrdup(tag) : NULL;
    return 0;
}

int ip_bundle_lock_parse(const char *data, size_t len, const char *what, struct ip_bundle_lock *out,
                         struct ip_err *err)
{
    yaml_document_t doc;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = load_doc(data, len, what, "BundleLock", &doc, err)) < 0)
        return rc;
    rc = bundle_lock_from_doc(&doc, what, out, err);
    yaml_document_delete(&doc);
    return rc;
}

int ip_bundle_lock_read(const char *path, struct ip_bundle_lock *out, struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    int rc = ip_read_file(path, MAX_LOCK_FILE, &b, err);
    if (rc == 0)
        rc = ip_bundle_lock_parse(b.data ? b.data : "", b.len, path, out, err);
    ip_buf_release(&b);
    return rc;
}
int ip_lock_file_read(const char *path, struct ip_lock_file *out, struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    yaml_document_t doc;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = ip_read_file(path, MAX_LOCK_FILE, &b, err)) < 0)
        return rc;
    if ((rc = load_doc(b.data ? b.data : "", b.len, path, "BundleLock or ImagesLock", &doc, err)) <
        0) {
        ip_buf_release(&b);
        return rc;
    }
    /* the kind decides; anything else is read as an ImagesLock, as imgpkg
     * does after failing to read a BundleLock */
    const char *kind = scalar(&doc, map_get(&doc, yaml_document_get_root_node(&doc), "kind"));
    if (kind && !strcmp(kind, "BundleLock")) {
        out->is_bundle_lock = true;
        rc = bundle_lock_from_doc(&doc, path, &out->bundle, err);
    } else {
        rc = lock_from_doc(&doc, path, true, &out->images, err);
    }
    yaml_document_delete(&doc);
    ip_buf_release(&b);
    return rc;
}

void ip_lock_file_release(struct ip_lock_file *l)
{
    ip_bundle_lock_release(&l->bundle);
    ip_images_lock_release(&l->images);
    l->is_bundle_lock = false;
}

static int images_lock_read(const char *path, bool strict, struct ip_images_lock *out,
                            struct ip_err *err)
{
    struct ip_buf b = IP_BUF_INIT;
    int rc = ip_read_file(path, MAX_LOCK_FILE, &b, err);
    if (rc == 0)
        rc = images_lock_parse(b.data ? b.data : "", b.len, path, strict, out, err);
    ip_buf_release(&b);
    return rc;
}

int ip_images_lock_read(const char *path, struct ip_images_lock *out, struct ip_err *err)
{
    return images_lock_read(path, true, out, err);
}

int ip_images_lock_read_loose(const char *path, struct ip_images_lock *out, struct ip_err *err)
{
    return images_lock_read(path, false, out, err);
}

/* Ends the document and writes it to path atomically. */
static int write_lock_file(struct ip_yaml_writer *w, const char *path, struct ip_err *err)
{
    struct ip_buf out = IP_BUF_INIT;
    int rc = ip_yaml_writer_finish(w, &out, err);
    if (rc == 0)
        rc = ip_write_file_atomic(path, out.data, out.len, 0600, err);
    ip_buf_release(&out);
    return rc;
}

int ip_bundle_lock_write(const char *path, const char *image, const char *tag, struct ip_err *err)
{
    struct ip_yaml_writer *w = ip_yaml_writer_new(true);
    ip_yaml_map_start(w);
    ip_yaml_kv(w, "apiVersion", IP_LOCK_API_VERSION);
    ip_yaml_scalar(w, "bundle");
    ip_yaml_map_start(w);
    ip_yaml_kv(w, "image", image);
    if (tag && *tag)
        ip_yaml_kv(w, "tag", tag);
    ip_yaml_map_end(w);
    ip_yaml_kv(w, "kind", "BundleLock");
    ip_yaml_map_end(w);
    return write_lock_file(w, path, err);
}

static int kv_key_cmp(const void *a, const void *b)
{
    return ip_yaml_key_cmp(((const struct ip_kv *)a)->key, ((const struct ip_kv *)b)->key);
}

/* imgpkg's order: annotations (a map, its keys sorted) before image; no
 * images key at all for an empty list. */
int ip_images_lock_yaml(const struct ip_images_lock *l, struct ip_buf *out, struct ip_err *err)
{
    struct ip_yaml_writer *w = ip_yaml_writer_new(true);
    ip_yaml_map_start(w);
    ip_yaml_kv(w, "apiVersion", IP_LOCK_API_VERSION);
    if (l->n_images) {
        ip_yaml_scalar(w, "images");
        ip_yaml_seq_start(w);
    }
    for (size_t i = 0; i < l->n_images; i++) {
        const struct ip_lock_image *li = &l->images[i];
        ip_yaml_map_start(w);
        if (li->n_annotations) {
            cleanup_free struct ip_kv *sorted = ip_xcalloc(li->n_annotations, sizeof(*sorted));
            memcpy(sorted, li->annotations, li->n_annotations * sizeof(*sorted));
            qsort(sorted, li->n_annotations, sizeof(*sorted), kv_key_cmp);
            ip_yaml_scalar(w, "annotations");
            ip_yaml_map_start(w);
            for (size_t j = 0; j < li->n_annotations; j++)
                ip_yaml_kv(w, sorted[j].key, sorted[j].val);
            ip_yaml_map_end(w);
        }
        ip_yaml_kv(w, "image", li->image);
        ip_yaml_map_end(w);
    }
    if (l->n_images)
        ip_yaml_seq_end(w);
    ip_yaml_kv(w, "kind", "ImagesLock");
    ip_yaml_map_end(w);
    return ip_yaml_writer_finish(w, out, err);
}

int ip_images_lock_write(const char *path, const struct ip_images_lock *l, struct ip_err *err)
{
    struct ip_buf out = IP_BUF_INIT;
    int rc = ip_images_lock_yaml(l, &out, err);
    if (rc == 0)
        rc = ip_write_file_atomic(path, out.data ? out.data : "", out.len, 0600, err);
    ip_buf_release(&out);
    return rc;
}
