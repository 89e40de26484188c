/* ui.c - the global flags and output, as imgpkg's go-cli-ui gives them:
 * status lines only on a TTY (or with --tty), blocks always, tables aligned
 * on a TTY and tab-separated otherwise, "Succeeded" last on a TTY; with
 * --json everything is collected into one JSON document printed at the end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* What --json collects, printed as one document when the command ends (the
 * JSON UI of imgpkg's go-cli-ui: {"Tables":[...],"Blocks":[...],"Lines":[...]}). */
struct ui_doc {
    struct ip_buf tables; /* the tables' JSON objects, already indented, comma-separated */
    size_t n_tables;
    char **blocks, **lines;
    size_t n_blocks, n_lines, cap_blocks, cap_lines;
};

void ui_begin(struct cli_global *g)
{
    if (g->json && !g->doc)
        g->doc = ip_xcalloc(1, sizeof(*g->doc));
}

bool ui_is_tty(const struct cli_global *g)
{
    return g->tty || isatty(STDOUT_FILENO);
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = ip_xmalloc(n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(s, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    return s;
}

static void push_str(char ***v, size_t *n, size_t *cap, char *s)
{
    IP_GROW(*v, *cap, *n + 1);
    (*v)[(*n)++] = s;
}

static void vtext(const struct cli_global *g, bool newline, const char *fmt, va_list ap)
{
    if (g->doc) {
        struct ip_buf b = IP_BUF_INIT;
        char *s = xvasprintf(fmt, ap);
        ip_buf_adds(&b, s);
        if (newline)
            ip_buf_adds(&b, "\n");
        free(s);
        push_str(&g->doc->lines, &g->doc->n_lines, &g->doc->cap_lines,
                 b.data ? b.data : ip_xstrdup(""));
        return;
    }
    if (!ui_is_tty(g))
        return;
    vprintf(fmt, ap);
    if (newline)
        putchar('\n');
}

void ui_line(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtext(g, true, fmt, ap);
    va_end(ap);
}

void ui_text(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtext(g, false, fmt, ap);
    va_end(ap);
}

void ui_block(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (g->doc)
        push_str(&g->doc->blocks, &g->doc->n_blocks, &g->doc->cap_blocks, xvasprintf(fmt, ap));
    else
        vprintf(fmt, ap);
    va_end(ap);
}

void ui_result(const struct cli_global *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (g->doc) {
        char *s = xvasprintf(fmt, ap);
        push_str(&g->doc->blocks, &g->doc->n_blocks, &g->doc->cap_blocks, ip_xasprintf("%s\n", s));
        free(s);
    } else {
        vprintf(fmt, ap);
        putchar('\n');
    }
    va_end(ap);
}

/* A JSON string as Go's encoding/json writes it (HTML characters escaped). */
static void json_str(struct ip_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    ip_buf_adds(b, "\"");
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char e[3] = {'\\', (char)c, 0};
            ip_buf_adds(b, e);
        } else if (c == '\n') {
            ip_buf_adds(b, "\\n");
        } else if (c == '\r') {
            ip_buf_adds(b, "\\r");
        } else if (c == '\t') {
            ip_buf_adds(b, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            ip_buf_adds(b, e);
        } else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            ip_buf_adds(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
            p += 2;
        } else {
            char e[2] = {(char)c, 0};
            ip_buf_adds(b, e);
        }
        p++;
    }
    ip_buf_adds(b, "\"");
}

static void indent(struct ip_buf *b, int level)
{
    for (int i = 0; i < level; i++)
        ip_buf_adds(b, "    ");
}

static void json_str_array(struct ip_buf *b, char **v, size_t n)
{
    if (!n) {
        ip_buf_adds(b, "null");
        return;
    }
    ip_buf_adds(b, "[\n");
    for (size_t i = 0; i < n; i++) {
        indent(b, 2);
        json_str(b, v[i]);
        ip_buf_adds(b, i + 1 < n ? ",\n" : "\n");
    }
    indent(b, 1);
    ip_buf_adds(b, "]");
}

/* Indices of the columns to show (--column names a column by key or title,
 * case-insensitively), in the table's order. */
static int shown_columns(const struct cli_global *g, const struct ui_table *t, size_t *cols,
                         size_t *n, struct ip_err *err)
{
    *n = 0;
    for (size_t k = 0; k < g->columns.n; k++) {
        bool found = false;
        for (size_t c = 0; c < t->n_cols && !found; c++)
            found = !strcasecmp(g->columns.v[k], t->cols[c].key) ||
                    !strcasecmp(g->columns.v[k], t->cols[c].title);
        if (!found)
            return ip_err_set(err, IP_E_USAGE, "Failed to find header: %s", g->columns.v[k]);
    }
    for (size_t c = 0; c < t->n_cols; c++) {
        bool want = g->columns.n == 0;
        for (size_t k = 0; k < g->columns.n && !want; k++)
            want = !strcasecmp(g->columns.v[k], t->cols[c].key) ||
                   !strcasecmp(g->columns.v[k], t->cols[c].title);
        if (want)
            cols[(*n)++] = c;
    }
    return 0;
}

static int key_idx_cmp(const void *a, const void *b, void *t)
{
    const struct ui_table *tab = t;
    return strcmp(tab->cols[*(const size_t *)a].key, tab->cols[*(const size_t *)b].key);
}

/* A JSON map of the shown columns (sorted by key, as Go writes a map). */
static void json_row(struct ip_buf *b, const struct ui_table *t, const size_t *cols, size_t n,
                     const char *const *cells, int level)
{
    cleanup_free size_t *order = ip_xcalloc(n ? n : 1, sizeof(*order));
    memcpy(order, cols, n * sizeof(*order));
    qsort_r(order, n, sizeof(*order), key_idx_cmp, (void *)t);
    ip_buf_adds(b, "{\n");
    for (size_t i = 0; i < n; i++) {
        indent(b, level + 1);
        json_str(b, t->cols[order[i]].key);
        ip_buf_adds(b, ": ");
        json_str(b, cells[order[i]]);
        ip_buf_adds(b, i + 1 < n ? ",\n" : "\n");
    }
    indent(b, level);
    ip_buf_adds(b, "}");
}

int ui_table(const struct cli_global *g, const struct ui_table *t, struct ip_err *err)
{
    cleanup_free size_t *cols = ip_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*cols));
    size_t n;
    int rc;

    if ((rc = shown_columns(g, t, cols, &n, err)) < 0)
        return rc;
    if (g->doc) {
        struct ip_buf *b = &g->doc->tables;
        const char **header = ip_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*header));
        for (size_t c = 0; c < t->n_cols; c++)
            header[c] = t->cols[c].title;
        if (g->doc->n_tables++)
            ip_buf_adds(b, ",\n");
        indent(b, 2);
        ip_buf_adds(b, "{\n");
        indent(b, 3);
        ip_buf_adds(b, "\"Content\": ");
        json_str(b, t->content);
        ip_buf_adds(b, ",\n");
        indent(b, 3);
        ip_buf_adds(b, "\"Header\": ");
        json_row(b, t, cols, n, header, 3);
        ip_buf_adds(b, ",\n");
        indent(b, 3);
        ip_buf_adds(b, "\"Rows\": [");
        for (size_t r = 0; r < t->n_rows; r++) {
            ip_buf_adds(b, r ? ",\n" : "\n");
            indent(b, 4);
            json_row(b, t, cols, n, t->cells + r * t->n_cols, 4);
        }
        if (t->n_rows) {
            ip_buf_adds(b, "\n");
            indent(b, 3);
        }
        ip_buf_adds(b, "],\n");
        indent(b, 3);
        ip_buf_adds(b, "\"Notes\": null\n");
        indent(b, 2);
        ip_buf_adds(b, "}");
        free(header);
        return 0;
    }
    if (!ui_is_tty(g)) {
        /* rows only, each value followed by a tab */
        for (size_t r = 0; r < t->n_rows; r++) {
            for (size_t i = 0; i < n; i++)
                printf("%s\t", t->cells[r * t->n_cols + cols[i]]);
            putchar('\n');
        }
        return 0;
    }
    cleanup_free size_t *width = ip_xcalloc(t->n_cols ? t->n_cols : 1, sizeof(*width));
    for (size_t i = 0; i < n; i++) {
        width[i] = strlen(t->cols[cols[i]].title);
        for (size_t r = 0; r < t->n_rows; r++) {
            size_t w = strlen(t->cells[r * t->n_cols + cols[i]]);
            if (w > width[i])
                width[i] = w;
        }
    }
    /* every value followed by two spaces, padded to its column's width but
     * in the last column */
    printf("%s\n\n", t->title);
    for (size_t i = 0; i < n; i++)
        printf("%-*s  ", i + 1 < n ? (int)width[i] : 0, t->cols[cols[i]].title);
    putchar('\n');
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t i = 0; i < n; i++)
            printf("%-*s  ", i + 1 < n ? (int)width[i] : 0, t->cells[r * t->n_cols + cols[i]]);
        putchar('\n');
    }
    printf("\n%zu %s\n", t->n_rows, t->content);
    return 0;
}

void ui_end(struct cli_global *g, bool succeeded)
{
    struct ui_doc *d = g->doc;
    if (!d) {
        if (succeeded && ui_is_tty(g))
            fputs("\nSucceeded\n", stdout);
        return;
    }
    if (succeeded) {
        struct ip_buf b = IP_BUF_INIT;
        push_str(&d->lines, &d->n_lines, &d->cap_lines, ip_xstrdup("Succeeded"));
        ip_buf_adds(&b, "{\n");
        indent(&b, 1);
        ip_buf_adds(&b, "\"Tables\": ");
        if (d->n_tables) {
            ip_buf_adds(&b, "[\n");
            ip_buf_adds(&b, d->tables.data);
            ip_buf_adds(&b, "\n");
            indent(&b, 1);
            ip_buf_adds(&b, "]");
        } else {
            ip_buf_adds(&b, "null");
        }
        ip_buf_adds(&b, ",\n");
        indent(&b, 1);
        ip_buf_adds(&b, "\"Blocks\": ");
        json_str_array(&b, d->blocks, d->n_blocks);
        ip_buf_adds(&b, ",\n");
        indent(&b, 1);
        ip_buf_adds(&b, "\"Lines\": ");
        json_str_array(&b, d->lines, d->n_lines);
        ip_buf_adds(&b, "\n}");
        fwrite(b.data, 1, b.len, stdout);
        ip_buf_release(&b);
    }
    /* a failed command prints no document (as imgpkg); its error goes to stderr */
    for (size_t i = 0; i < d->n_blocks; i++)
        free(d->blocks[i]);
    for (size_t i = 0; i < d->n_lines; i++)
        free(d->lines[i]);
    free(d->blocks);
    free(d->lines);
    ip_buf_release(&d->tables);
    free(d);
    g->doc = NULL;
}

const char *cli_tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}
