/* ui.c - the global flags and output: status lines only on a TTY (or with
 * --tty), as imgpkg's go-cli-ui does; results always. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "util/banned.h"

#define G(field) offsetof(struct cli_global, field)

const struct flag cli_global_flags[] = {
    {"color", 0, FLAG_BOOL, G(color), "Set color output", "true", 0},
    {"column", 0, FLAG_SLICE, G(columns), "Filter to show only given columns", NULL, 0},
    {"debug", 0, FLAG_BOOL, G(debug), "Enables debugging", NULL, 0},
    {"json", 0, FLAG_BOOL, G(json), "Output as JSON", NULL, 0},
    {"tty", 0, FLAG_BOOL, G(tty), "Force TTY-like output", NULL, 0},
    {"yes", 'y', FLAG_BOOL, G(yes), "Assume yes for any prompt", NULL, 0},
    FLAG_END,
};

bool ui_is_tty(const struct cli_global *g)
{
    return g->tty || isatty(STDOUT_FILENO);
}

void ui_line(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    if (!ui_is_tty(g))
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void ui_text(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    if (!ui_is_tty(g))
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void ui_result(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

const char *cli_tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}
