/* flags.c - a flag parser that accepts what imgpkg's (pflag) accepts:
 * --name value, --name=value, -n value, -nvalue, -n=value, booleans as --name
 * or --name=true|false (and grouped, -yr), repeatable slices
 * (comma-separated too), KEY=VALUE maps, Go durations; and pflag's help
 * layout. */
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "imgpkg/util.h"
#include "util/banned.h"

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

void flag_set_add(struct flag_set *s, const struct flag *table, void *base)
{
    for (const struct flag *f = table; f->name; f++) {
        s->v = ip_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n].f = f;
        s->v[s->n].target = (char *)base + f->offset;
        s->n++;
    }
}

void flag_set_add_uses(struct flag_set *s, const struct flag_use *uses, void *base)
{
    for (const struct flag_use *u = uses; u && u->table; u++)
        flag_set_add(s, u->table, (char *)base + u->offset);
}

void flag_set_free(struct flag_set *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

void flag_set_release_values(const struct flag_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        void *t = s->v[i].target;
        switch (s->v[i].f->type) {
        case FLAG_STRING:
            free(*(char **)t);
            *(char **)t = NULL;
            break;
        case FLAG_SLICE:
            flag_slice_release(t);
            break;
        case FLAG_MAP:
            flag_map_release(t);
            break;
        default:
            break;
        }
    }
}

static void slice_push(struct flag_slice *s, const char *v, size_t n)
{
    s->v = ip_xrealloc(s->v, (s->n + 1) * sizeof(char *));
    s->v[s->n++] = ip_xstrndup(v, n);
}

static void slice_split(struct flag_slice *s, const char *val)
{
    for (const char *p = val;;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n)
            slice_push(s, p, n);
        if (!c)
            break;
        p = c + 1;
    }
}

static int parse_bool(const char *val, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!strcmp(val, yes[i]))
            return *out = true, 0;
        if (!strcmp(val, no[i]))
            return *out = false, 0;
    }
    return -1;
}

/* Adds KEY=VALUE pairs: one '=' makes the whole value one pair; more make
 * comma-separated pairs.  A key given again replaces its value. */
static int map_add(struct flag_map *m, const char *shown, const char *val, struct ip_err *err)
{
    const char *eq = strchr(val, '=');
    bool several = eq && strchr(eq + 1, '=') != NULL;
    for (const char *p = val;;) {
        const char *c = several ? strchr(p, ',') : NULL;
        size_t n = c ? (size_t)(c - p) : strlen(p);
        const char *e = memchr(p, '=', n);
        if (!e)
            return ip_err_set(err, IP_E_USAGE,
                              "invalid argument \"%s\" for \"%s\" flag: %.*s must be formatted "
                              "as key=value",
                              val, shown, (int)n, p);
        size_t kn = (size_t)(e - p), i;
        for (i = 0; i < m->n; i++)
            if (strlen(m->v[i].key) == kn && !strncmp(m->v[i].key, p, kn))
                break;
        if (i == m->n) {
            m->v = ip_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
            m->v[m->n].key = ip_xstrndup(p, kn);
            m->n++;
        } else {
            free(m->v[i].val);
        }
        m->v[i].val = ip_xstrndup(e + 1, n - kn - 1);
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

static int set_value(const struct flag_ref *r, const char *shown, const char *val,
                     struct ip_err *err)
{
    const struct flag *f = r->f;
    void *t = r->target;
    switch (f->type) {
    case FLAG_BOOL:
        if (parse_bool(val ? val : "true", t) < 0)
            return ip_err_set(err, IP_E_USAGE,
                              "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
                              "parsing \"%s\": invalid syntax",
                              val, shown, val);
        return 0;
    case FLAG_STRING:
        free(*(char **)t);
        *(char **)t = ip_xstrdup(val);
        return 0;
    case FLAG_INT: {
        char *end;
        long v = strtol(val, &end, 10);
        if (!*val || *end || v < -1000000 || v > 1000000)
            return ip_err_set(err, IP_E_USAGE,
                              "invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
                              "parsing \"%s\": invalid syntax",
                              val, shown, val);
        *(int *)t = (int)v;
        return 0;
    }
    case FLAG_DURATION:
        if (flag_parse_duration(val, t, err) < 0)
            return ip_err_wrap(err, "invalid argument \"%s\" for \"%s\" flag", val, shown);
        return 0;
    case FLAG_SLICE: {
        struct flag_slice *s = t;
        if (!s->set) {
            flag_slice_release(s); /* the first use replaces the default */
            s->set = true;
        }
        if (f->opts & FLAG_NO_COMMA)
            slice_push(s, val, strlen(val));
        else
            slice_split(s, val);
        return 0;
    }
    case FLAG_MAP:
        return map_add(t, shown, val, err);
    }
    return 0;
}

int flag_set_defaults(const struct flag_set *s, struct ip_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct flag *f = s->v[i].f;
        if (!f->def)
            continue;
        if (f->type == FLAG_SLICE) {
            /* "[a,b]" */
            struct flag_slice *sl = s->v[i].target;
            size_t n = strlen(f->def);
            cleanup_free char *inner = ip_xstrndup(f->def + 1, n >= 2 ? n - 2 : 0);
            flag_slice_release(sl);
            slice_split(sl, inner);
            continue;
        }
        if (set_value(&s->v[i], f->name, f->def, err) < 0)
            return -IP_E_USAGE;
    }
    return 0;
}

static const struct flag_ref *find_long(const struct flag_set *s, const char *name, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i].f->name) == n && !strncmp(s->v[i].f->name, name, n))
            return &s->v[i];
    return NULL;
}

static const struct flag_ref *find_short(const struct flag_set *s, char c)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].f->short_name == c)
            return &s->v[i];
    return NULL;
}

bool flag_takes_next(const struct flag_set *s, const char *a)
{
    const struct flag_ref *r = NULL;
    if (!strncmp(a, "--", 2) && a[2] && !strchr(a, '='))
        r = find_long(s, a + 2, strlen(a + 2));
    else if (a[0] == '-' && a[1] && a[1] != '-' && !a[2])
        r = find_short(s, a[1]);
    return r && r->f->type != FLAG_BOOL;
}

/* --name, --name=value, --name value */
static int parse_long(const struct flag_set *s, int argc, char **argv, int *i, struct ip_err *err)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    const struct flag_ref *r = find_long(s, name, n);
    const char *val = eq ? eq + 1 : NULL;
    char shown[160];
    if (!r)
        return ip_err_set(err, IP_E_USAGE, "unknown flag: --%.*s", (int)n, name);
    if (r->f->short_name)
        snprintf(shown, sizeof(shown), "-%c, --%s", r->f->short_name, r->f->name);
    else
        snprintf(shown, sizeof(shown), "--%s", r->f->name);
    if (!eq && r->f->type != FLAG_BOOL) {
        if (*i + 1 >= argc)
            return ip_err_set(err, IP_E_USAGE, "flag needs an argument: --%s", r->f->name);
        val = argv[++*i];
    }
    return set_value(r, shown, val, err);
}

/* -n, -nvalue, -n=value, -n value, grouped booleans -yr */
static int parse_short(const struct flag_set *s, int argc, char **argv, int *i, struct ip_err *err)
{
    const char *a = argv[*i];
    for (const char *p = a + 1; *p; p++) {
        const struct flag_ref *r = find_short(s, *p);
        const char *val = NULL;
        char shown[160];
        if (!r)
            return ip_err_set(err, IP_E_USAGE, "unknown shorthand flag: '%c' in %s", *p, a);
        snprintf(shown, sizeof(shown), "-%c, --%s", r->f->short_name, r->f->name);
        if (p[1] == '=')
            val = p + 2;
        else if (p[1] && r->f->type != FLAG_BOOL)
            val = p + 1;
        else if (!p[1] && r->f->type != FLAG_BOOL) {
            if (*i + 1 >= argc)
                return ip_err_set(err, IP_E_USAGE, "flag needs an argument: '%c' in -%c", *p, *p);
            val = argv[++*i];
        }
        if (set_value(r, shown, val, err) < 0)
            return -IP_E_USAGE;
        if (val)
            break; /* the value took the rest of the argument, or the next one */
    }
    return 0;
}

/* cobra's message (imgpkg's commands take no arguments) */
static int extra_argument(const char *cmd, const char *arg, struct ip_err *err)
{
    return ip_err_set(err, IP_E_USAGE, "command '%s' does not accept extra arguments '%s'", cmd,
                      arg);
}

int flag_parse(const struct flag_set *s, const char *cmd, int argc, char **argv, char **pos,
               int *n_pos, struct ip_err *err)
{
    if (n_pos)
        *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!strcmp(a, "--")) {
            for (int k = i + 1; k < argc; k++) {
                if (!pos)
                    return extra_argument(cmd, argv[k], err);
                pos[(*n_pos)++] = argv[k];
            }
            break;
        }
        if (!strncmp(a, "--", 2))
            rc = parse_long(s, argc, argv, &i, err);
        else if (a[0] == '-' && a[1])
            rc = parse_short(s, argc, argv, &i, err);
        else if (pos)
            pos[(*n_pos)++] = argv[i];
        else
            return extra_argument(cmd, a, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The unit at p (its length in *n, 0 when missing): its value in ms, or < 0
 * when unknown. */
static double duration_unit(const char *p, size_t *n)
{
    static const struct {
        const char *name;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
                 {"ms", 1},    {"s", 1e3},   {"m", 60e3},         {"h", 3600e3}};
    *n = strcspn(p, "0123456789.");
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == *n && !strncmp(p, units[i].name, *n))
            return units[i].ms;
    return -1;
}

int flag_parse_duration(const char *s, long *ms, struct ip_err *err)
{
    const char *p = s;
    double total = 0;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!strcmp(p, "0"))
        return *ms = 0, 0;
    if (!*p)
        goto invalid;
    while (*p) {
        char num[64];
        size_t nd = strspn(p, "0123456789."), nu;
        const char *dot = memchr(p, '.', nd);
        if (!nd || nd >= sizeof(num) || (dot && memchr(dot + 1, '.', nd - (size_t)(dot + 1 - p))) ||
            (nd == 1 && dot))
            goto invalid;
        memcpy(num, p, nd);
        num[nd] = 0;
        p += nd;
        double scale = duration_unit(p, &nu);
        if (!nu)
            return ip_err_set(err, IP_E_USAGE, "time: missing unit in duration \"%s\"", s);
        if (scale < 0)
            return ip_err_set(err, IP_E_USAGE, "time: unknown unit \"%.*s\" in duration \"%s\"",
                              (int)nu, p, s);
        total += strtod(num, NULL) * scale;
        p += nu;
    }
    if (total > 9.2e15)
        goto invalid;
    *ms = (long)(neg ? -total : total);
    return 0;
invalid:
    return ip_err_set(err, IP_E_USAGE, "time: invalid duration \"%s\"", s);
}

static int ref_cmp(const void *a, const void *b)
{
    return strcmp(((const struct flag_ref *)a)->f->name, ((const struct flag_ref *)b)->f->name);
}

static const char *type_word(enum flag_type t)
{
    switch (t) {
    case FLAG_STRING:
        return " string";
    case FLAG_SLICE:
        return " strings";
    case FLAG_INT:
        return " int";
    case FLAG_MAP:
        return " stringToString";
    case FLAG_DURATION:
        return " duration";
    default:
        return "";
    }
}

/* pflag's FlagUsages: "  -s, --name type" padded to the widest, three
 * spaces, the usage and " (default ...)" when the default is not zero. */
void flag_set_print(const struct flag_set *s, FILE *out)
{
    struct flag_ref *v = ip_xcalloc(s->n ? s->n : 1, sizeof(*v));
    size_t width = 0;
    memcpy(v, s->v, s->n * sizeof(*v));
    qsort(v, s->n, sizeof(*v), ref_cmp);
    for (size_t i = 0; i < s->n; i++) {
        size_t w = 8 + strlen(v[i].f->name) + strlen(type_word(v[i].f->type));
        if (w > width)
            width = w;
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct flag *f = v[i].f;
        char left[256];
        if (f->short_name)
            snprintf(left, sizeof(left), "  -%c, --%s%s", f->short_name, f->name,
                     type_word(f->type));
        else
            snprintf(left, sizeof(left), "      --%s%s", f->name, type_word(f->type));
        fprintf(out, "%-*s   %s", (int)width, left, f->help);
        if (f->def && f->type == FLAG_STRING)
            fprintf(out, " (default \"%s\")", f->def);
        else if (f->def && strcmp(f->def, "false") != 0 && strcmp(f->def, "0") != 0)
            fprintf(out, " (default %s)", f->def);
        fputc('\n', out);
    }
    free(v);
}
