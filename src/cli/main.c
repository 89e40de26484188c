/* main.c - the imgpkg command: finds the command in argv, parses the global
 * and the command's flags with one parser (global flags before and after the
 * command name, as cobra does), runs it, and is the one place where errors
 * are printed ("imgpkg: Error: ...", exit 1). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errfmt.h"
#include "imgpkg-config.h"
#include "imgpkg/build.h"
#include "imgpkg/util.h"
#include "util/banned.h"

/* "imgpkg help [COMMAND...]": listed as a command, handled by main */
static const struct command cmd_help = {
    .name = "help",
    .summary = "Help about any command",
};

/* in the order cobra lists them: by name */
static const struct command *const commands[] = {
    &cmd_copy, &cmd_describe, &cmd_help,   &cmd_pull,    &cmd_push,
    &cmd_save, &cmd_tag,      &cmd_verify, &cmd_version, NULL,
};

static const struct command cmd_root = {
    .name = "imgpkg",
    .summary = "imgpkg allows to store configuration and image references as OCI artifacts "
               "(copy, describe, pull, push, save, tag, verify, version)",
    .subcommands = commands,
};

static int version_run(const struct cli_global *g, void *opts, struct ip_err *err)
{
    (void)opts, (void)err;
    /* a block, as imgpkg's (with --json: the document's one block) */
    ui_block(g, "imgpkg version %s\n\ndeflate engine: %s\n", IMGPKG_VERSION,
             ip_build_deflate_engine());
    return 0;
}

const struct command cmd_version = {
    .name = "version",
    .summary = "Print client version",
    .run = version_run,
};

/* What argv asks for: the command (path[depth-1]), its options and flags. */
struct invocation {
    const struct command *path[4];
    size_t depth;
    bool help_cmd; /* imgpkg help [COMMAND...] */
    void *opts;
    struct flag_set set;
    struct flag help_flag[2];
    char help_text[64];
    char name[64]; /* "imgpkg tag list" */
};

static const struct command *current(const struct invocation *inv)
{
    return inv->depth ? inv->path[inv->depth - 1] : &cmd_root;
}

/* The flags of the current command: its tables, -h, and the global ones
 * (with --version at the top). */
static int build_set(struct invocation *inv, struct cli_global *g, struct ip_err *err)
{
    static const struct flag version_flag[] = {
        {"version", 'v', FLAG_BOOL, offsetof(struct cli_global, version), "version for imgpkg",
         NULL, 0},
        FLAG_END,
    };
    const struct command *c = current(inv);
    flag_set_release_values(&inv->set);
    flag_set_free(&inv->set);
    free(inv->opts);
    inv->opts = ip_xcalloc(1, c->opts_size ? c->opts_size : 1);
    flag_set_add_uses(&inv->set, c->flags, inv->opts);
    if (flag_set_defaults(&inv->set, err) < 0)
        return -IP_E_USAGE;
    snprintf(inv->help_text, sizeof(inv->help_text), "help for %s", c->name);
    inv->help_flag[0] = (struct flag){
        "help", 'h', FLAG_BOOL, offsetof(struct cli_global, help), inv->help_text, NULL, 0};
    inv->help_flag[1] = (struct flag)FLAG_END;
    flag_set_add(&inv->set, inv->help_flag, g);
    flag_set_add(&inv->set, cli_global_flags, g);
    if (!inv->depth)
        flag_set_add(&inv->set, version_flag, g);
    snprintf(inv->name, sizeof(inv->name), "imgpkg");
    for (size_t d = 0; d < inv->depth; d++) {
        size_t len = strlen(inv->name);
        snprintf(inv->name + len, sizeof(inv->name) - len, " %s", inv->path[d]->name);
    }
    return 0;
}

static const struct command *find_sub(const struct command *c, const char *name)
{
    for (const struct command *const *s = c->subcommands; s && *s; s++)
        if (!strcmp((*s)->name, name) || ((*s)->alias && !strcmp((*s)->alias, name)))
            return *s;
    return NULL;
}

/* Splits argv into the command path and the rest (flags, their values and
 * other arguments), as cobra's Find does; then parses the rest. */
static int parse_argv(struct invocation *inv, struct cli_global *g, int argc, char **argv,
                      char **pos, int *n_pos, struct ip_err *err)
{
    cleanup_free char **rest = ip_xcalloc((size_t)argc + 1, sizeof(char *));
    int n = 0, rc;
    if ((rc = build_set(inv, g, err)) < 0)
        return rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct command *sub;
        if (!strcmp(a, "--")) {
            while (i < argc)
                rest[n++] = argv[i++];
            break;
        }
        if (a[0] == '-' && a[1]) {
            rest[n++] = argv[i];
            if (flag_takes_next(&inv->set, a) && i + 1 < argc)
                rest[n++] = argv[++i];
            continue;
        }
        if (!inv->depth && !inv->help_cmd && !strcmp(a, "help")) {
            inv->help_cmd = true;
            continue;
        }
        if (!inv->help_cmd && current(inv)->subcommands && (sub = find_sub(current(inv), a)) &&
            inv->depth < sizeof(inv->path) / sizeof(inv->path[0])) {
            inv->path[inv->depth++] = sub;
            if ((rc = build_set(inv, g, err)) < 0)
                return rc;
            continue;
        }
        rest[n++] = argv[i];
    }
    return flag_parse(&inv->set, inv->name, n, rest, inv->help_cmd ? pos : NULL, n_pos, err);
}

static void print_commands(const struct command *c)
{
    printf("\nAvailable Commands:\n");
    for (const struct command *const *s = c->subcommands; *s; s++)
        printf("  %-11s %s\n", (*s)->name, (*s)->summary);
}

/* cobra's help: summary, usage, aliases, examples, commands, flags. */
static void print_help(const struct invocation *inv, const struct cli_global *g)
{
    const struct command *c = current(inv);
    struct flag_set local = {0}, global = {0};
    for (size_t i = 0; i < inv->set.n; i++) {
        bool is_global = inv->set.v[i].target >= (void *)g &&
                         inv->set.v[i].target < (void *)(g + 1) &&
                         inv->set.v[i].f != &inv->help_flag[0];
        struct flag_set *s = is_global && inv->depth ? &global : &local;
        s->v = ip_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = inv->set.v[i];
    }
    printf("%s\n\nUsage:\n", c->summary);
    if (c->run || !c->subcommands)
        printf("  %s [flags]\n", inv->name);
    else
        printf("  %s [flags]\n  %s [command]\n", inv->name, inv->name);
    if (c->alias)
        printf("\nAliases:\n  %s, %s\n", c->name, c->alias);
    if (c->examples)
        printf("\nExamples:\n%s", c->examples);
    if (c->subcommands)
        print_commands(c);
    printf("\nFlags:\n");
    flag_set_print(&local, stdout);
    if (global.n) {
        printf("\nGlobal Flags:\n");
        flag_set_print(&global, stdout);
    }
    if (c->subcommands)
        printf("\nUse \"%s [command] --help\" for more information about a command.\n", inv->name);
    printf("\nSucceeded\n");
    flag_set_free(&local);
    flag_set_free(&global);
}

/* "Use one of available subcommands: a, b" (imgpkg, for a command alone). */
static int no_subcommand(const struct command *c, struct ip_err *err)
{
    char list[512] = "";
    for (const struct command *const *s = c->subcommands; *s; s++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", (*s)->name);
    }
    return ip_err_set(err, IP_E_USAGE, "Use one of available subcommands: %s", list);
}

static int run(struct invocation *inv, struct cli_global *g, int argc, char **argv,
               struct ip_err *err)
{
    cleanup_free char **pos = ip_xcalloc((size_t)argc + 1, sizeof(char *));
    int n_pos = 0, rc;
    if ((rc = parse_argv(inv, g, argc, argv, pos, &n_pos, err)) < 0)
        return rc;
    if (inv->help_cmd) {
        /* imgpkg help [COMMAND [SUBCOMMAND]] */
        for (int i = 0; i < n_pos; i++) {
            const struct command *sub = find_sub(current(inv), pos[i]);
            if (!sub || inv->depth >= sizeof(inv->path) / sizeof(inv->path[0]))
                return ip_err_set(err, IP_E_USAGE, "unknown help topic \"%s\"", pos[i]);
            inv->path[inv->depth++] = sub;
        }
        if ((rc = build_set(inv, g, err)) < 0)
            return rc;
        g->help = true;
    }
    if (g->help) {
        print_help(inv, g);
        return 0;
    }
    if (!inv->depth && g->version) {
        printf("imgpkg version %s\n", IMGPKG_VERSION);
        return 0;
    }
    if (!current(inv)->run)
        return no_subcommand(current(inv), err);
    ui_begin(g);
    return current(inv)->run(g, inv->opts, err);
}

int main(int argc, char **argv)
{
    struct ip_err err;
    struct cli_global g;
    struct flag_set gs = {0};
    struct invocation inv;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    ip_err_clear(&err);
    memset(&g, 0, sizeof(g));
    memset(&inv, 0, sizeof(inv));
    flag_set_add(&gs, cli_global_flags, &g);
    flag_set_defaults(&gs, &err);
    rc = run(&inv, &g, argc, argv, &err);
    ui_end(&g, rc >= 0 && !g.help && current(&inv)->run);
    fflush(stdout);
    flag_set_release_values(&inv.set);
    flag_set_free(&inv.set);
    flag_set_release_values(&gs);
    flag_set_free(&gs);
    free(inv.opts);
    if (rc < 0) {
        if (err.code == IP_OK)
            err.code = IP_E_IO;
        cli_print_error(stderr, err.msg);
        return ip_err_exit_status(&err);
    }
    return 0;
}
