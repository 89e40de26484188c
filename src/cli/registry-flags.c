/* registry-flags.c - imgpkg's registry flags, shared by the commands that talk
 * to registries, and publishing a whole layout (tarball or directory) to one. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/bundle.h"
#include "imgpkg/copy.h"
#include "imgpkg/lock.h"
#include "util/banned.h"

void registry_flags_init(struct registry_flags *f)
{
    memset(f, 0, sizeof(*f));
    f->verify_certs = true;
    f->retry_count = 5;
    f->concurrency = 5;
}

size_t registry_flags_add(struct flag *t, size_t at, struct registry_flags *f)
{
    const struct flag defs[] = {
        {"registry-ca-cert-path", 0, FLAG_SLICE, &f->ca, "Add CA certificates for registry API (format: /tmp/foo) (can be specified multiple times)", false},
        {"registry-verify-certs", 0, FLAG_BOOL, &f->verify_certs, "Set whether to verify server's certificate chain and host name (default true)", false},
        {"registry-insecure", 0, FLAG_BOOL, &f->insecure, "Allow the use of http when interacting with registries", false},
        {"registry-username", 0, FLAG_STRING, &f->username, "Set username for auth ($IMGPKG_USERNAME)", false},
        {"registry-password", 0, FLAG_STRING, &f->password, "Set password for auth ($IMGPKG_PASSWORD)", false},
        {"registry-token", 0, FLAG_STRING, &f->token, "Set token for auth ($IMGPKG_TOKEN)", false},
        {"registry-anon", 0, FLAG_BOOL, &f->anon, "Set anonymous auth ($IMGPKG_ANON)", false},
        {"registry-response-header-timeout", 0, FLAG_STRING, &f->timeout, "Maximum time to allow a request to wait for a server's response headers from the registry (ms|s|m|h) (default 30s)", false},
        {"registry-retry-count", 0, FLAG_INT, &f->retry_count, "Set the number of times imgpkg retries to send requests to the registry in case of an error (default 5)", false},
        {"concurrency", 0, FLAG_INT, &f->concurrency, "Concurrency (default 5)", false},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
        t[at++] = defs[i];
    return at;
}

void registry_flags_release(struct registry_flags *f)
{
    flag_slice_release(&f->ca);
    free(f->username);
    free(f->password);
    free(f->token);
    free(f->timeout);
}

/* Go-style durations: "30s", "1m30s", "500ms", "2h"; a bare number is seconds. */
static int parse_duration(const char *s, long *secs, struct ip_err *err)
{
    double total = 0;
    const char *p = s;
    if (!*p)
        goto bad;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || v < 0)
            goto bad;
        p = end;
        if (!strncmp(p, "ms", 2)) {
            total += v / 1000;
            p += 2;
        } else if (*p == 's') {
            total += v;
            p++;
        } else if (*p == 'm') {
            total += v * 60;
            p++;
        } else if (*p == 'h') {
            total += v * 3600;
            p++;
        } else if (!*p && p == end && total == 0) {
            total = v;
        } else {
            goto bad;
        }
    }
    *secs = total < 1 ? 1 : (long)(total + 0.999);
    return 0;
bad:
    return ip_err_set(err, IP_E_USAGE, "invalid duration \"%s\" for --registry-response-header-timeout", s);
}

int registry_flags_opts(struct registry_flags *f, struct ip_registry_opts *o, struct ip_err *err)
{
    ip_registry_opts_init(o);
    o->ca_cert_paths = (const char **)f->ca.v;
    o->n_ca_cert_paths = f->ca.n;
    o->verify_certs = f->verify_certs;
    o->insecure = f->insecure;
    o->retries = f->retry_count < 0 ? 0 : f->retry_count;
    o->debug = g_cli.debug;
    o->auth.username = f->username;
    o->auth.password = f->password;
    o->auth.token = f->token;
    o->auth.anon = f->anon;
    if (f->timeout && parse_duration(f->timeout, &o->response_header_timeout_s, err) < 0)
        return -IP_E_USAGE;
    if (f->concurrency < 1)
        return ip_err_set(err, IP_E_USAGE, "--concurrency must be at least 1");
    if ((f->username == NULL) != (f->password == NULL) && !getenv("IMGPKG_USERNAME") &&
        !getenv("IMGPKG_PASSWORD"))
        return ip_err_set(err, IP_E_USAGE,
                          "Expected both --registry-username and --registry-password");
    return 0;
}

int publish_layout(struct ip_store *src, const struct publish_opts *po, struct ip_err *err)
{
    struct ip_desc *entries = NULL;
    size_t n = 0;
    struct ip_ref ref;
    struct ip_store *dst = NULL;
    struct ip_copy_item *items = NULL;
    struct ip_copy_result *results = NULL;
    struct ip_kv *ann = NULL;
    const char *target = po->to_repo ? po->to_repo : po->bundle ? po->bundle : po->image;
    cleanup_free char *name = NULL, *image = NULL, *digest_tag = NULL;
    const char *one_tags[2];
    int rc;

    memset(&ref, 0, sizeof(ref));
    if (!!po->to_repo + !!po->bundle + !!po->image != 1)
        return ip_err_set(err, IP_E_USAGE, "Expected one of --to-repo, --bundle (-b) or --image (-i)");
    if (po->to_repo)
        rc = ip_repo_parse(po->to_repo, &ref, err);
    else
        rc = ip_ref_parse(target, &ref, err);
    if (rc < 0)
        return ip_err_wrap(err, "Parsing '%s'", target);
    if (ref.digest[0]) {
        ip_ref_release(&ref);
        return ip_err_set(err, IP_E_USAGE, "Parsing '%s': expected a tag, not a digest", target);
    }
    if ((rc = ip_store_list(src, &entries, &n, err)) < 0)
        goto out;
    if (n == 0) {
        rc = ip_err_set(err, IP_E_INPUT, "%s holds no image", src->location);
        goto out;
    }
    if (!po->to_repo && n != 1) {
        rc = ip_err_set(err, IP_E_INPUT, "%s holds %zu images: push them with --to-repo",
                        src->location, n);
        goto out;
    }
    items = ip_xcalloc(n, sizeof(*items));
    results = ip_xcalloc(n, sizeof(*results));
    ann = ip_xcalloc(n, sizeof(*ann));
    for (size_t i = 0; i < n; i++) {
        const char *tag = po->to_repo ? ip_desc_annotation(&entries[i], IP_ANN_REF_NAME)
                                      : (ref.tag ? ref.tag : "latest");
        items[i].src_ref = entries[i].digest;
        if (tag && ip_tag_valid(tag)) {
            ann[i].key = (char *)IP_ANN_REF_NAME;
            ann[i].val = (char *)tag;
            items[i].annotations = &ann[i];
            items[i].n_annotations = 1;
        }
    }
    if (po->bundle || po->image) {
        struct ip_manifest *m = NULL;
        bool is_bundle = false;
        if ((rc = ip_store_get_manifest(src, entries[0].digest, &m, err)) < 0)
            goto out;
        rc = ip_image_is_bundle(src, m, &is_bundle, err);
        ip_manifest_free(m);
        if (rc < 0)
            goto out;
        if (po->bundle && !is_bundle) {
            rc = ip_err_set(err, IP_E_INPUT,
                            "Expected bundle image but found plain image (hint: Did you use -i "
                            "instead of -b?)");
            goto out;
        }
        if (po->image && is_bundle) {
            rc = ip_err_set(err, IP_E_INPUT,
                            "Expected image flag when pushing a plain image, found a bundle (hint: "
                            "Use -b instead of -i for bundles)");
            goto out;
        }
    }
    if (!po->to_repo) { /* as push -f: the tag and sha256-<hex>.imgpkg */
        digest_tag = ip_imgpkg_digest_tag(entries[0].digest);
        one_tags[0] = ref.tag ? ref.tag : "latest";
        one_tags[1] = digest_tag;
        items[0].tags = one_tags;
        items[0].n_tags = 2;
    }
    if ((rc = ip_store_registry_open(&ref, po->registry, &dst, err)) < 0)
        goto out;
    struct ip_copy_opts co = {.concurrency = po->concurrency, .retries = po->registry->retries,
                              .progress = ui_is_tty() ? ip_copy_progress_lines : NULL};
    if ((rc = ip_copy(src, dst, items, n, &co, results, err)) < 0)
        goto out;
    name = ip_ref_name(&ref);
    for (size_t i = 0; i < n; i++)
        ui_line("Pushed '%s@%s'", name, results[i].digest);
    if (po->lock_output) {
        image = ip_xasprintf("%s@%s", name, results[0].digest);
        if (po->bundle) {
            rc = ip_bundle_lock_write(po->lock_output, image, ref.tag ? ref.tag : "latest", err);
        } else {
            struct ip_images_lock l = {0};
            l.images = ip_xcalloc(n, sizeof(*l.images));
            for (size_t i = 0; i < n; i++)
                l.images[l.n_images++].image = ip_xasprintf("%s@%s", name, results[i].digest);
            rc = ip_images_lock_write(po->lock_output, &l, err);
            ip_images_lock_release(&l);
        }
    }
out:
    ip_store_free(dst);
    ip_descs_free(entries, n);
    free(items);
    free(results);
    free(ann);
    ip_ref_release(&ref);
    return rc;
}
