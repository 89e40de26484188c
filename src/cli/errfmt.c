/* errfmt.c - how main prints an error. */
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "imgpkg/util.h"
#include "util/banned.h"

void cli_print_error(FILE *out, const char *msg)
{
    cleanup_free char *flat = ip_xstrdup(msg);
    /* one line: newlines inside messages (from libraries) become spaces */
    for (char *p = flat; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(out, "imgpkg: Error: %s\n", flat);
}
