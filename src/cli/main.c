/* main.c - the imgpkg command: a table of commands, global flags, and the one
 * place where errors are printed ("imgpkg: Error: ...", exit 1). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "imgpkg/build.h"
#include "imgpkg-config.h"
#include "util/banned.h"

static int cmd_help(int argc, char **argv, struct ip_err *err);

static const struct command commands[] = {
    {"save", "Save files as an OCI image or bundle into an OCI image layout (directory or tarball)",
     "imgpkg save [-b NAME[:TAG] | -i NAME[:TAG]] -f PATH [-f PATH ...] "
     "(--to-tar FILE | --to-oci-layout DIR) [flags]",
     cmd_save},
    {"push", "Push files as a bundle or image, or an OCI image layout, to a registry",
     "imgpkg push (-b|-i) REF -f PATH... | (--tar FILE | --oci-layout DIR) (--to-repo REPO | -b REF | -i REF)",
     cmd_push},
    {"copy", "Copy a bundle or image from one location to another",
     "imgpkg copy --tar FILE --to-repo REPO", cmd_copy},
    {"pull", "Pull a bundle or image into a directory",
     "imgpkg pull (-b REF | -i REF | --tar FILE) -o DIR", cmd_pull},
    {"describe", "Describe the images and bundles contained in a given bundle",
     "imgpkg describe -b REF [-o text|yaml]", cmd_describe},
    {"tag", "Tag (list, resolve)", "imgpkg tag (list|resolve) -i REF", cmd_tag},
    {"verify", "Check an OCI image layout or tarball completely (sizes, digests, diff_ids)",
     "imgpkg verify (--tar FILE | --oci-layout DIR)", cmd_verify},
    {"version", "Print client version", "imgpkg version", cmd_version},
    {"help", "Help about any command", "imgpkg help [COMMAND]", cmd_help},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void print_usage(void)
{
    printf("imgpkg: store files as OCI images and bundles, in OCI image layouts and registries\n\n"
           "Usage:\n  imgpkg [command]\n\nAvailable Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        printf("  %-10s %s\n", commands[i].name, commands[i].summary);
    printf("\nGlobal Flags:\n"
           "      --color        Set color output (default true)\n"
           "      --column strings  Filter to show only given columns\n"
           "      --debug        Enables debugging\n"
           "  -h, --help         Help for imgpkg\n"
           "      --json         Output as JSON\n"
           "      --tty          Force TTY-like output\n"
           "  -v, --version      Version for imgpkg\n"
           "  -y, --yes          Assume yes for any prompt\n"
           "\nUse \"imgpkg [command] --help\" for more information about a command.\n");
}

static int cmd_help(int argc, char **argv, struct ip_err *err)
{
    if (argc > 0) {
        const struct command *c = find_command(argv[0]);
        if (!c)
            return ip_err_set(err, IP_E_USAGE, "unknown help topic \"%s\"", argv[0]);
        char *hargv[] = {(char *)"--help", NULL};
        return c->run(1, hargv, err);
    }
    print_usage();
    return 0;
}

int cmd_version(int argc, char **argv, struct ip_err *err)
{
    static const struct command self = {"version", "Print client version", "imgpkg version", NULL};
    int rc = cli_parse(&self, NULL, argc, argv, err);
    if (rc < 0)
        return rc;
    if (g_cli.help) {
        cli_print_help(&self, NULL);
        return 0;
    }
    printf("imgpkg version %s\n\ndeflate engine: %s\n", IMGPKG_VERSION, ip_build_deflate_engine());
    return 0;
}

int main(int argc, char **argv)
{
    struct ip_err err;
    const struct command *c = NULL;
    int first = 1, rc;

    signal(SIGPIPE, SIG_IGN);
    ip_err_clear(&err);
    /* global flags may come before the command */
    while (first < argc && argv[first][0] == '-') {
        const char *a = argv[first];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_usage();
            return 0;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
            printf("imgpkg version %s\n", IMGPKG_VERSION);
            return 0;
        }
        if (!strcmp(a, "--tty") || !strcmp(a, "--tty=true"))
            g_cli.tty = true;
        else if (!strcmp(a, "--debug") || !strcmp(a, "--debug=true"))
            g_cli.debug = true;
        else if (!strcmp(a, "--json") || !strcmp(a, "--json=true"))
            g_cli.json = true;
        else if (!strcmp(a, "-y") || !strcmp(a, "--yes"))
            g_cli.yes = true;
        else {
            fprintf(stderr, "imgpkg: Error: unknown flag: %s\n", a);
            return 1;
        }
        first++;
    }
    if (first >= argc) {
        print_usage();
        return 0;
    }
    c = find_command(argv[first]);
    if (!c) {
        fprintf(stderr, "imgpkg: Error: unknown command \"%s\" for \"imgpkg\"\n", argv[first]);
        return 1;
    }
    rc = c->run(argc - first - 1, argv + first + 1, &err);
    fflush(stdout);
    if (rc < 0) {
        if (err.code == IP_OK)
            err.code = IP_E_IO;
        /* one line: newlines inside messages (from libraries) become spaces */
        for (char *p = err.msg; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        fprintf(stderr, "imgpkg: Error: %s\n", err.msg);
        return ip_err_exit_status(&err);
    }
    if (ui_is_tty() && strcmp(c->name, "help") != 0 && !g_cli.help)
        ui_line("\nSucceeded");
    return 0;
}
