/* lock-private.h - the check every YAML parser of the library runs first
 * (lock.c, bundle.c; the fuzz regressions call it directly). */
#ifndef IMGPKG_LOCK_PRIVATE_H
#define IMGPKG_LOCK_PRIVATE_H

#include "imgpkg/lock.h"

/* Refuses YAML whose first document nests collections more than 64 deep, before
 * it is loaded: libyaml's scanner takes time quadratic in the nesting of flow
 * collections ("[[[[..."), so a small hostile file could stall it for hours.
 * Syntax errors are left to the loader. */
int ip_yaml_check_nesting(const char *data, size_t len, const char *what, struct ip_err *err);

#endif
