/* flags.c - a flag parser that accepts what imgpkg's (pflag) accepts:
 * --name value, --name=value, -n value, -nvalue, -n=value, booleans as --name
 * or --name=true|false, repeatable slices (comma-separated too), KEY=VALUE maps. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "imgpkg/util.h"
#include "util/banned.h"

struct cli_global g_cli = {.color = true};

static struct flag_slice g_columns;

static const struct flag global_flags[] = {
    {"tty", 0, FLAG_BOOL, &g_cli.tty, "Force TTY-like output", false},
    {"debug", 0, FLAG_BOOL, &g_cli.debug, "Enables debugging", false},
    {"json", 0, FLAG_BOOL, &g_cli.json, "Output as JSON", false},
    {"yes", 'y', FLAG_BOOL, &g_cli.yes, "Assume yes for any prompt", false},
    {"color", 0, FLAG_BOOL, &g_cli.color, "Set color output", false},
    {"column", 0, FLAG_SLICE, &g_columns, "Filter to show only given columns", false},
    {"help", 'h', FLAG_BOOL, &g_cli.help, "Help for the command", false},
    {NULL, 0, 0, NULL, NULL, false},
};

void flag_slice_release(struct flag_slice *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

void flag_map_release(struct flag_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static void slice_push(struct flag_slice *s, const char *v, size_t n)
{
    s->v = ip_xrealloc(s->v, (s->n + 1) * sizeof(char *));
    s->v[s->n++] = ip_xstrndup(v, n);
}

static int set_value(const struct flag *f, const char *shown, const char *val, struct ip_err *err)
{
    switch (f->type) {
    case FLAG_BOOL:
        if (!val || !strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "t") ||
            !strcmp(val, "TRUE") || !strcmp(val, "True"))
            *(bool *)f->target = true;
        else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "f") ||
                 !strcmp(val, "FALSE") || !strcmp(val, "False"))
            *(bool *)f->target = false;
        else
            return ip_err_set(err, IP_E_USAGE, "invalid argument \"%s\" for \"%s\" flag: expected true or false",
                              val, shown);
        return 0;
    case FLAG_STRING: {
        char **t = f->target;
        free(*t);
        *t = ip_xstrdup(val);
        return 0;
    }
    case FLAG_INT: {
        char *end;
        long v = strtol(val, &end, 10);
        if (!*val || *end || v < -1000000 || v > 1000000)
            return ip_err_set(err, IP_E_USAGE, "invalid argument \"%s\" for \"%s\" flag: expected an integer",
                              val, shown);
        *(int *)f->target = (int)v;
        return 0;
    }
    case FLAG_SLICE: {
        struct flag_slice *s = f->target;
        if (!s->set) {
            flag_slice_release(s); /* the first use replaces the default */
            s->set = true;
        }
        if (f->no_comma) {
            slice_push(s, val, strlen(val));
            return 0;
        }
        for (const char *p = val;;) {
            const char *c = strchr(p, ',');
            size_t n = c ? (size_t)(c - p) : strlen(p);
            if (n)
                slice_push(s, p, n);
            if (!c)
                break;
            p = c + 1;
        }
        return 0;
    }
    case FLAG_MAP: {
        struct flag_map *m = f->target;
        /* one '=': the whole value is the pair; more: comma-separated pairs */
        const char *eq = strchr(val, '=');
        if (!eq)
            return ip_err_set(err, IP_E_USAGE,
                              "invalid argument \"%s\" for \"%s\" flag: %s must be formatted as key=value",
                              val, shown, val);
        bool several = strchr(eq + 1, '=') != NULL;
        for (const char *p = val;;) {
            const char *c = several ? strchr(p, ',') : NULL;
            size_t n = c ? (size_t)(c - p) : strlen(p);
            const char *e = memchr(p, '=', n);
            if (!e)
                return ip_err_set(err, IP_E_USAGE,
                                  "invalid argument \"%s\" for \"%s\" flag: %.*s must be formatted as key=value",
                                  val, shown, (int)n, p);
            size_t i;
            for (i = 0; i < m->n; i++)
                if (strlen(m->v[i].key) == (size_t)(e - p) && !strncmp(m->v[i].key, p, (size_t)(e - p)))
                    break;
            if (i == m->n) {
                m->v = ip_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
                m->v[m->n].key = ip_xstrndup(p, (size_t)(e - p));
                m->n++;
            } else {
                free(m->v[i].val);
            }
            m->v[i].val = ip_xstrndup(e + 1, n - (size_t)(e - p) - 1);
            if (!c)
                break;
            p = c + 1;
        }
        return 0;
    }
    }
    return 0;
}

static const struct flag *find_long(const struct flag *flags, const char *name, size_t n)
{
    for (const struct flag *f = flags; f && f->name; f++)
        if (strlen(f->name) == n && !strncmp(f->name, name, n))
            return f;
    for (const struct flag *f = global_flags; f->name; f++)
        if (strlen(f->name) == n && !strncmp(f->name, name, n))
            return f;
    return NULL;
}

static const struct flag *find_short(const struct flag *flags, char c)
{
    for (const struct flag *f = flags; f && f->name; f++)
        if (f->short_name == c)
            return f;
    for (const struct flag *f = global_flags; f->name; f++)
        if (f->short_name == c)
            return f;
    return NULL;
}

int cli_parse(const struct command *cmd, const struct flag *flags, int argc, char **argv,
              struct ip_err *err)
{
    int rc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const struct flag *f;
        const char *val = NULL;
        char shown[160];
        if (!strcmp(a, "--")) {
            if (i + 1 < argc)
                return ip_err_set(err, IP_E_USAGE, "unknown command \"%s\" for \"imgpkg %s\"",
                                  argv[i + 1], cmd->name);
            break;
        }
        if (!strncmp(a, "--", 2)) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t n = eq ? (size_t)(eq - name) : strlen(name);
            f = find_long(flags, name, n);
            if (!f)
                return ip_err_set(err, IP_E_USAGE, "unknown flag: --%.*s", (int)n, name);
            snprintf(shown, sizeof(shown), "--%s", f->name);
            if (eq)
                val = eq + 1;
            if (!eq && f->type != FLAG_BOOL) {
                if (i + 1 >= argc)
                    return ip_err_set(err, IP_E_USAGE, "flag needs an argument: --%s", f->name);
                val = argv[++i];
            }
        } else if (a[0] == '-' && a[1]) {
            f = find_short(flags, a[1]);
            if (!f)
                return ip_err_set(err, IP_E_USAGE, "unknown shorthand flag: '%c' in %s", a[1], a);
            snprintf(shown, sizeof(shown), "-%c, --%s", f->short_name, f->name);
            if (a[2] == '=')
                val = a + 3;
            else if (a[2])
                val = a + 2;
            else if (f->type != FLAG_BOOL) {
                if (i + 1 >= argc)
                    return ip_err_set(err, IP_E_USAGE, "flag needs an argument: '%c' in -%c", a[1],
                                      a[1]);
                val = argv[++i];
            }
        } else {
            return ip_err_set(err, IP_E_USAGE, "unknown command \"%s\" for \"imgpkg %s\"", a,
                              cmd->name);
        }
        if ((rc = set_value(f, shown, val, err)) < 0)
            return rc;
    }
    g_cli.columns = g_columns.v;
    g_cli.n_columns = g_columns.n;
    return 0;
}

static void print_flags(const struct flag *flags)
{
    for (const struct flag *f = flags; f && f->name; f++) {
        char left[64];
        const char *arg = f->type == FLAG_BOOL ? "" : f->type == FLAG_INT ? " int"
                          : f->type == FLAG_MAP                            ? " KEY=VALUE"
                          : f->type == FLAG_SLICE                          ? " strings"
                                                                           : " string";
        if (f->short_name)
            snprintf(left, sizeof(left), "-%c, --%s%s", f->short_name, f->name, arg);
        else
            snprintf(left, sizeof(left), "    --%s%s", f->name, arg);
        printf("  %-40s %s\n", left, f->help);
    }
}

void cli_print_help(const struct command *cmd, const struct flag *flags)
{
    printf("%s\n\nUsage:\n  %s\n", cmd->summary, cmd->usage);
    if (flags && flags->name) {
        printf("\nFlags:\n");
        print_flags(flags);
    }
    printf("\nGlobal Flags:\n");
    print_flags(global_flags);
}

bool ui_is_tty(void)
{
    return g_cli.tty || isatty(STDOUT_FILENO);
}

void ui_line(const char *fmt, ...)
{
    va_list ap;
    if (!ui_is_tty())
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void ui_result(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}
