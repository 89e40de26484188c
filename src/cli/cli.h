/* cli.h - what the commands share: the global options every command is
 * given, the command table entry, output, and the flag groups and helpers
 * several commands use (each in a file of its own). */
#ifndef IMGPKG_CLI_H
#define IMGPKG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "flags.h"
#include "imgpkg/error.h"
#include "imgpkg/oci.h"
#include "imgpkg/ref.h"
#include "imgpkg/registry.h"
#include "imgpkg/store.h"

/* The global flags, parsed by main before and after the command name. */
struct cli_global {
    bool tty;
    bool debug;
    bool json;
    bool yes;
    bool color;
    struct flag_slice columns;
    bool help;
    bool version;
    struct ui_doc *doc; /* --json: what the command printed (ui.c) */
};
extern const struct flag cli_global_flags[]; /* offsets in struct cli_global */

/* A command: its flag tables are used at offsets inside its options (of
 * opts_size bytes, zeroed, then set to the flags' defaults); main parses
 * argv into them and runs it. */
struct command {
    const char *name;
    const char *alias;    /* another name (tag list: ls), or NULL */
    const char *summary;  /* first line of help and the command list */
    const char *examples; /* NULL: none */
    const struct flag_use *flags;
    size_t opts_size;
    int (*run)(const struct cli_global *g, void *opts, struct ip_err *err);
    const struct command *const *subcommands; /* NULL-terminated, or NULL */
};

extern const struct command cmd_save, cmd_push, cmd_copy, cmd_pull, cmd_describe, cmd_tag,
    cmd_tag_list, cmd_tag_resolve, cmd_verify, cmd_version;

/* Output as imgpkg's UI gives it (ui.c); with --json each call is one entry
 * of the document.  ui_begin before the command, ui_end after it. */
void ui_begin(struct cli_global *g);
void ui_end(struct cli_global *g, bool succeeded);
/* Status lines (stdout only with a TTY or --tty, as imgpkg does); ui_text
 * the same without the newline. */
void ui_line(const struct cli_global *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ui_text(const struct cli_global *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A block of output (tag resolve's reference): always printed, as is. */
void ui_block(const struct cli_global *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A table: the cells row by row (n_rows * n_cols).  Honours --column
 * (an unknown column is an error). */
struct ui_column {
    const char *key;   /* "name" */
    const char *title; /* "Name" */
};
struct ui_table {
    const char *title;   /* "Tags" */
    const char *content; /* "tags" */
    const struct ui_column *cols;
    size_t n_cols;
    const char *const *cells;
    size_t n_rows;
};
int ui_table(const struct cli_global *g, const struct ui_table *t, struct ip_err *err);
/* Result lines: always on stdout. */
void ui_result(const struct cli_global *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool ui_is_tty(const struct cli_global *g);

/* imgpkg's registry flags (registry-flags.c). */
struct registry_flags {
    struct flag_slice ca;
    bool verify_certs;
    bool insecure;
    char *username;
    char *password;
    char *token;
    bool anon;
    long timeout_ms;
    long request_timeout_ms;
    int retry_count;
    int concurrency;
};
extern const struct flag registry_flag_table[];
int registry_flags_opts(const struct cli_global *g, const struct registry_flags *f,
                        struct ip_registry_opts *o, struct ip_err *err);

/* The folder-building flags of save and push (build-flags.c). */
struct build_flags {
    char *bundle;
    char *image;
    struct flag_slice files;
    struct flag_slice exclusions;
    bool preserve_permissions;
    struct flag_map labels;
    int compression_level;
    bool oci; /* OCI media types instead of Docker schema 2 */
};
extern const struct flag build_flag_table[];
struct ip_build_result;
/* layer_into: a tarball being created that the layer is written straight into */
int build_from_flags(const struct build_flags *f, const char *tmp_dir, bool transient,
                     struct ip_store *layer_into, struct ip_build_result *out, struct ip_err *err);

/* How a saved or pushed image is named: tag (default latest), and with a name,
 * the containerd name and Docker's repo tag (image-name.c). */
struct image_name {
    struct ip_ref ref;
    bool named;
    char *tag;
    char *containerd;
    char *repo_tag;
    char *shown;
    struct ip_kv ann[2];
    size_t n_ann;
};
int image_name_parse(const char *flag, struct image_name *n, struct ip_err *err);
void image_name_release(struct image_name *n);

/* OCI image layouts as sources and destinations of commands (layout-io.c). */
char *layout_tmp_dir(const char *to_tar, const char *to_layout);
int open_layout_dest(const char *to_tar, const char *to_layout, struct ip_store **out,
                     struct ip_err *err);
/* Opens a tarball or layout directory given to push/copy/pull as a source. */
int open_layout_source(const char *tar, const char *dir, struct ip_store **out, struct ip_err *err);
int write_built(const struct ip_build_result *br, const struct image_name *name,
                struct ip_store *dst, char digest[IP_DIGEST_SIZE], struct ip_err *err);

/* Pushes every image of a layout store to a registry: under their own tags
 * (to_repo), or the only image as bundle/image REF (publish.c). */
struct publish_opts {
    const char *to_repo;
    const char *bundle;
    const char *image;
    const char *lock_output;
    const struct ip_registry_opts *registry;
    int concurrency;
};
int publish_layout(const struct cli_global *g, struct ip_store *src, const struct publish_opts *po,
                   struct ip_err *err);

/* The temporary directory ($TMPDIR or /tmp). */
const char *cli_tmp_dir(void);

#endif
