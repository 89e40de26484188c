/* cli.h - what the commands share: global flags, the flag parser, output. */
#ifndef IMGPKG_CLI_H
#define IMGPKG_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/error.h"
#include "imgpkg/oci.h"
#include "imgpkg/ref.h"
#include "imgpkg/registry.h"
#include "imgpkg/store.h"

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

/* imgpkg's registry flags. */
struct registry_flags {
    struct flag_slice ca;
    bool verify_certs;
    bool insecure;
    char *username;
    char *password;
    char *token;
    bool anon;
    char *timeout;
    int retry_count;
    int concurrency;
};
#define REGISTRY_FLAG_COUNT 10
void registry_flags_init(struct registry_flags *f);
/* Appends the flag definitions to t at `at`; returns the new count. */
size_t registry_flags_add(struct flag *t, size_t at, struct registry_flags *f);
int registry_flags_opts(struct registry_flags *f, struct ip_registry_opts *o, struct ip_err *err);
void registry_flags_release(struct registry_flags *f);

/* Pushes every image of a layout store to a registry: under their own tags
 * (to_repo), or the only image as bundle/image REF. */
struct publish_opts {
    const char *to_repo;
    const char *bundle;
    const char *image;
    const char *lock_output;
    const struct ip_registry_opts *registry;
    int concurrency;
};
int publish_layout(struct ip_store *src, const struct publish_opts *po, struct ip_err *err);
/* Opens a tarball or layout directory given to push/copy as a source. */
int open_layout_source(const char *tar, const char *dir, struct ip_store **out, struct ip_err *err);

/* The folder-building flags of save and push. */
struct build_flags {
    char *bundle;
    char *image;
    struct flag_slice files;
    struct flag_slice exclusions;
    bool preserve_permissions;
    struct flag_map labels;
    int compression_level;
};
void build_flags_init(struct build_flags *f);
size_t build_flags_add(struct flag *t, size_t at, struct build_flags *f);
void build_flags_release(struct build_flags *f);
struct ip_build_result;
int build_from_flags(const struct build_flags *f, const char *tmp_dir, bool transient,
                     struct ip_build_result *out, struct ip_err *err);

/* How a saved or pushed image is named: tag (default latest), and with a name,
 * the containerd name and Docker's repo tag. */
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
char *layout_tmp_dir(const char *to_tar, const char *to_layout);
int open_layout_dest(const char *to_tar, const char *to_layout, struct ip_store **out,
                     struct ip_err *err);
int write_built(const struct ip_build_result *br, const struct image_name *name,
                struct ip_store *dst, char digest[IP_DIGEST_SIZE], struct ip_err *err);

int cmd_save(int argc, char **argv, struct ip_err *err);
int cmd_push(int argc, char **argv, struct ip_err *err);
int cmd_copy(int argc, char **argv, struct ip_err *err);
int cmd_tag(int argc, char **argv, struct ip_err *err);
int cmd_describe(int argc, char **argv, struct ip_err *err);
int cmd_pull(int argc, char **argv, struct ip_err *err);
int cmd_verify(int argc, char **argv, struct ip_err *err);
int cmd_version(int argc, char **argv, struct ip_err *err);

#endif
