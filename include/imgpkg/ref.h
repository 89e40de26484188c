/* ref.h - image references in the Docker grammar, normalised as
 * go-containerregistry and imgpkg do (index.docker.io, library/). */
#ifndef IMGPKG_REF_H
#define IMGPKG_REF_H

#include <stdbool.h>

#include "imgpkg/digest.h"
#include "imgpkg/error.h"

struct ip_ref {
    char *registry;              /* "index.docker.io", "127.0.0.1:5000" */
    char *repository;            /* "library/nginx" */
    char *tag;                   /* NULL when none was given */
    char digest[IP_DIGEST_SIZE]; /* "" when none */
};

/* Parses a reference; `what` names the input in errors ("bundle reference"). */
int ip_ref_parse(const char *s, struct ip_ref *out, struct ip_err *err);
/* Parses a repository (no tag, no digest). */
int ip_repo_parse(const char *s, struct ip_ref *out, struct ip_err *err);
void ip_ref_release(struct ip_ref *r);
bool ip_tag_valid(const char *tag);
/* "registry/repository" (fresh string). */
char *ip_ref_name(const struct ip_ref *r);
/* The familiar name Docker shows: "nginx", "example.com/app". */
char *ip_ref_familiar(const struct ip_ref *r);
/* "docker.io/library/nginx" style name that containerd stores. */
char *ip_ref_containerd(const struct ip_ref *r);
bool ip_registry_is_loopback(const char *registry);

#endif
