/* image-name.c - how save and push name what they make: the tag (latest by
 * default), and with a name, the containerd name and Docker's repo tag. */
#include <string.h>

#include "cli.h"
#include "imgpkg/copy.h"
#include "util/banned.h"

void image_name_release(struct image_name *n)
{
    ip_ref_release(&n->ref);
    free(n->tag);
    free(n->containerd);
    free(n->repo_tag);
    free(n->shown);
    memset(n, 0, sizeof(*n));
}

int image_name_parse(const char *flag, struct image_name *n, struct ip_err *err)
{
    memset(n, 0, sizeof(*n));
    if (flag) {
        if (ip_ref_parse(flag, &n->ref, err) < 0)
            return ip_err_wrap(err, "Parsing '%s'", flag);
        if (n->ref.digest[0]) {
            ip_ref_release(&n->ref);
            return ip_err_set(err, IP_E_USAGE,
                              "Parsing '%s': expected a tag (NAME[:TAG]), not a digest", flag);
        }
        n->named = true;
    }
    n->tag = ip_xstrdup(n->ref.tag ? n->ref.tag : "latest");
    n->ann[n->n_ann].key = (char *)IP_ANN_REF_NAME;
    n->ann[n->n_ann++].val = n->tag;
    if (n->named) {
        cleanup_free char *fam = ip_ref_familiar(&n->ref);
        cleanup_free char *full = ip_ref_name(&n->ref);
        cleanup_free char *cd = ip_ref_containerd(&n->ref);
        n->containerd = ip_xasprintf("%s:%s", cd, n->tag);
        n->ann[n->n_ann].key = (char *)IP_ANN_CONTAINERD_NAME;
        n->ann[n->n_ann++].val = n->containerd;
        n->repo_tag = ip_xasprintf("%s:%s", fam, n->tag);
        n->shown = ip_xasprintf("%s:%s", full, n->tag);
    } else {
        n->shown = ip_xstrdup(n->tag);
    }
    return 0;
}
