/* cli.h - what the commands share: global flags, the flag parser, output. */
#ifndef IMGPKG_CLI_H
#define IMGPKG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/error.h"
#include "imgpkg/oci.h"

struct cli_global {
    bool tty;
    bool debug;
    bool json;
    bool yes;
    bool color;
    char **columns;
    size_t n_columns;
    bool help;
};
extern struct cli_global g_cli;

enum flag_type { FLAG_BOOL, FLAG_STRING, FLAG_SLICE, FLAG_INT, FLAG_MAP };

struct flag_slice {
    char **v;
    size_t n;
    bool set; /* given on the command line (replaces the default) */
};

struct flag_map {
    struct ip_kv *v;
    size_t n;
};

struct flag {
    const char *name;
    char short_name;
    enum flag_type type;
    void *target; /* bool*, char**, struct flag_slice*, int*, struct flag_map* */
    const char *help;
    bool no_comma; /* slice values are taken whole */
};

struct command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv, struct ip_err *err);
};

/* Parses argv (after the command name) against flags plus the global ones.
 * Leftover positional arguments are refused. */
int cli_parse(const struct command *cmd, const struct flag *flags, int argc, char **argv,
              struct ip_err *err);
void cli_print_help(const struct command *cmd, const struct flag *flags);
void flag_slice_release(struct flag_slice *s);
void flag_map_release(struct flag_map *m);

/* Status lines (stdout only with a TTY or --tty, as imgpkg does). */
void ui_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Result lines: always on stdout. */
void ui_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool ui_is_tty(void);

int cmd_save(int argc, char **argv, struct ip_err *err);
int cmd_verify(int argc, char **argv, struct ip_err *err);
int cmd_version(int argc, char **argv, struct ip_err *err);

#endif
