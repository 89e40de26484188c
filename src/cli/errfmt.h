/* errfmt.h - how main prints an error. */
#ifndef IMGPKG_CLI_ERRFMT_H
#define IMGPKG_CLI_ERRFMT_H

#include <stdio.h>

/* "imgpkg: Error: MSG\n", newlines inside MSG (from libraries) flattened. */
void cli_print_error(FILE *out, const char *msg);

#endif
