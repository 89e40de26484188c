/* errfmt.h - how main prints an error: imgpkg's (go-cli-ui's) MultiLineError
 * form. */
#ifndef IMGPKG_CLI_ERRFMT_H
#define IMGPKG_CLI_ERRFMT_H

#include <stdio.h>

/* The message with its newlines (from libraries) flattened to spaces, then
 * broken as go-cli-ui breaks the first line of an error: at every ": "
 * followed by an uppercase ASCII letter outside (), [] and {} (and outside
 * "...|" to "|..." raw text), chunk i indented by 2*i spaces. */
char *cli_error_multiline(const char *msg);
/* "imgpkg: Error: " and the message in that form, on out. */
void cli_print_error(FILE *out, const char *msg);

#endif
