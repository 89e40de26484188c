/* flags.h - flag tables and the one parser for global and command flags.
 *
 * A table is static data: each entry names the flag, its type, the offset of
 * its value inside the options structure the table describes, its help text
 * and its default.  A command joins the tables it uses (its own, the registry
 * flags, the build flags, the global flags) at run time into a flag_set, each
 * table at its own base address, as git's parse_options_concat does. */
#ifndef IMGPKG_CLI_FLAGS_H
#define IMGPKG_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "imgpkg/error.h"
#include "imgpkg/oci.h"

enum flag_type {
    FLAG_BOOL,     /* bool */
    FLAG_STRING,   /* char *, NULL when not given */
    FLAG_SLICE,    /* struct flag_slice */
    FLAG_INT,      /* int */
    FLAG_MAP,      /* struct flag_map (KEY=VALUE) */
    FLAG_DURATION, /* long, milliseconds, Go's syntax: 30s, 1m30s, 500ms, 1h */
};

#define FLAG_NO_COMMA 1u /* a slice's values are taken whole, not split at commas */

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
    size_t offset; /* of the value inside the options the table describes */
    const char *help;
    const char *def; /* the default: set before parsing, shown by help; NULL: zero */
    unsigned opts;
};
#define FLAG_END                                                                                   \
    {                                                                                              \
        NULL, 0, FLAG_BOOL, 0, NULL, NULL, 0                                                       \
    }

/* A table used inside larger options, at `offset`; lists end with {NULL, 0}. */
struct flag_use {
    const struct flag *table;
    size_t offset;
};

struct flag_ref {
    const struct flag *f;
    void *target;
};

/* Tables joined at run time. */
struct flag_set {
    struct flag_ref *v;
    size_t n;
};

/* Appends every flag of `table` (ended by FLAG_END), its values at `base`. */
void flag_set_add(struct flag_set *s, const struct flag *table, void *base);
/* Appends each table of `uses`, at base + offset. */
void flag_set_add_uses(struct flag_set *s, const struct flag_use *uses, void *base);
/* Sets every value to its default. */
int flag_set_defaults(const struct flag_set *s, struct ip_err *err);
/* Parses argv.  Positional arguments are collected in order into pos (an
 * array of argc entries; *n_pos is their count); NULL pos refuses them with
 * cobra's `command 'CMD' does not accept extra arguments 'ARG'` (cmd is the
 * command's full name, "imgpkg tag list"). */
int flag_parse(const struct flag_set *s, const char *cmd, int argc, char **argv, char **pos,
               int *n_pos, struct ip_err *err);
/* True when arg is a flag of s that takes its value from the next argument. */
bool flag_takes_next(const struct flag_set *s, const char *arg);
/* The flags, sorted by name, in pflag's layout (name column, usage, default). */
void flag_set_print(const struct flag_set *s, FILE *out);
/* Frees the strings, slices and maps the flags point at. */
void flag_set_release_values(const struct flag_set *s);
void flag_set_free(struct flag_set *s);

void flag_slice_release(struct flag_slice *s);
void flag_map_release(struct flag_map *m);

/* Go's time.ParseDuration, in milliseconds (what pflag reports on error). */
int flag_parse_duration(const char *s, long *ms, struct ip_err *err);

#endif
