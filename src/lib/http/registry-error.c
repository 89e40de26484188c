/* registry-error.c - an error response in go-containerregistry's words (its
 * transport.Error, which imgpkg prints): "METHOD URL: CODE: message" for
 * each entry of the distribution API's {"errors": [...]} body, with "; "
 * and the entry's detail as Go's %v prints a decoded JSON value
 * ("map[Tag:v1]"), several joined as "multiple errors returned: ..."; any
 * other body as "unexpected status code N Text: body". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/client-private.h"
#include "oci/json.h"
#include "util/banned.h"

/* Go's http.StatusText for the statuses a registry sends. */
static const char *status_text(long s)
{
    static const struct {
        long code;
        const char *text;
    } t[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Request Entity Too Large"},
        {414, "Request URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Requested Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I'm a teapot"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Entity"},
        {423, "Locked"},
        {424, "Failed Dependency"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {507, "Insufficient Storage"},
        {511, "Network Authentication Required"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(t); i++)
        if (t[i].code == s)
            return t[i].text;
    return "";
}

/* A float64 as Go's %v prints it: the shortest digits that read back the
 * same, in %e form when the exponent is below -4 or at least 6 (strconv's
 * 'g' with the shortest precision). */
static void go_float(struct ip_buf *b, double v)
{
    char digits[40];
    int prec = 1;
    if (v == 0) {
        ip_buf_adds(b, signbit(v) ? "-0" : "0");
        return;
    }
    for (; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, v);
        if (strtod(digits, NULL) == v)
            break;
    }
    char *e = strchr(digits, 'e');
    int exp = atoi(e + 1);
    *e = '\0';
    if (exp < -4 || exp >= 6) {
        ip_buf_printf(b, "%se%c%02d", digits, exp < 0 ? '-' : '+', abs(exp));
        return;
    }
    /* plain decimal: the mantissa's digits with the point moved */
    char mant[40];
    size_t m = 0;
    bool neg = digits[0] == '-';
    for (const char *p = digits + neg; *p; p++)
        if (*p != '.')
            mant[m++] = *p;
    mant[m] = '\0';
    if (neg)
        ip_buf_adds(b, "-");
    if (exp < 0) {
        ip_buf_adds(b, "0.");
        for (int i = -1; i > exp; i--)
            ip_buf_adds(b, "0");
        ip_buf_adds(b, mant);
    } else if ((size_t)exp + 1 >= m) {
        ip_buf_adds(b, mant);
        for (size_t i = m; i < (size_t)exp + 1; i++)
            ip_buf_adds(b, "0");
    } else {
        ip_buf_printf(b, "%.*s.%s", exp + 1, mant, mant + exp + 1);
    }
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* A decoded JSON value as Go's %v prints an interface{}: maps with their
 * keys sorted, slices in brackets, null as <nil>. */
static void go_value(struct ip_buf *b, yajl_val v, int depth)
{
    if (!v || YAJL_IS_NULL(v)) {
        ip_buf_adds(b, "<nil>");
    } else if (YAJL_IS_STRING(v)) {
        ip_buf_adds(b, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        go_float(b, strtod(v->u.number.r, NULL));
    } else if (YAJL_IS_TRUE(v)) {
        ip_buf_adds(b, "true");
    } else if (YAJL_IS_FALSE(v)) {
        ip_buf_adds(b, "false");
    } else if (depth > 32) {
        ip_buf_adds(b, "...");
    } else if (YAJL_IS_ARRAY(v)) {
        ip_buf_adds(b, "[");
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                ip_buf_adds(b, " ");
            go_value(b, v->u.array.values[i], depth + 1);
        }
        ip_buf_adds(b, "]");
    } else if (YAJL_IS_OBJECT(v)) {
        size_t n = v->u.object.len;
        const char **keys = ip_xcalloc(n ? n : 1, sizeof(*keys));
        const char ***order = ip_xcalloc(n ? n : 1, sizeof(*order));
        for (size_t i = 0; i < n; i++) {
            keys[i] = v->u.object.keys[i];
            order[i] = &keys[i];
        }
        qsort(order, n, sizeof(*order), key_cmp);
        ip_buf_adds(b, "map[");
        for (size_t i = 0; i < n; i++) {
            size_t k = (size_t)(order[i] - keys);
            if (i)
                ip_buf_adds(b, " ");
            ip_buf_printf(b, "%s:", keys[k]);
            go_value(b, v->u.object.values[k], depth + 1);
        }
        ip_buf_adds(b, "]");
        free(order);
        free(keys);
    }
}

/* The entries of {"errors": [...]}, as ggcr's Diagnostic.String() each;
 * false when the body holds none. */
static bool diagnostics(const struct ip_buf *body, struct ip_buf *out)
{
    yajl_val tree = NULL, errs;
    struct ip_err e;
    if (!body->len || ip_json_parse(body->data, body->len, &tree, &e) < 0)
        return false;
    errs = YAJL_IS_OBJECT(tree) ? ip_json_get(tree, "errors") : NULL;
    size_t n = YAJL_IS_ARRAY(errs) ? errs->u.array.len : 0;
    if (n > 1)
        ip_buf_adds(out, "multiple errors returned: ");
    for (size_t i = 0; i < n; i++) {
        yajl_val d = errs->u.array.values[i];
        const char *code = ip_json_get_str(d, "code");
        const char *message = ip_json_get_str(d, "message");
        yajl_val detail = YAJL_IS_OBJECT(d) ? ip_json_get(d, "detail") : NULL;
        ip_buf_printf(out, "%s%s: %s", i ? "; " : "", code ? code : "", message ? message : "");
        if (detail && !YAJL_IS_NULL(detail)) {
            ip_buf_adds(out, "; ");
            go_value(out, detail, 0);
        }
    }
    yajl_tree_free(tree);
    return n > 0;
}

int ip_http_status_error(const char *method, const char *url, long status, struct ip_buf *body,
                         struct ip_err *err)
{
    struct ip_buf why = IP_BUF_INIT;
    enum ip_code ec = IP_E_HTTP;
    if (status == 401 || status == 403)
        ec = IP_E_AUTH;
    else if (status == 404)
        ec = IP_E_NOTFOUND;
    if (!diagnostics(body, &why)) {
        ip_buf_printf(&why, "unexpected status code %ld %s", status, status_text(status));
        if (body->len)
            ip_buf_printf(&why, ": %.*s", (int)(body->len < 1024 ? body->len : 1024), body->data);
        else if (!strcmp(method, "HEAD"))
            ip_buf_adds(&why, " (HEAD responses have no body, use GET for details)");
    }
    /* the state of an upload in its URL's query is nobody's business */
    bool keep_query = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    const char *q = keep_query ? NULL : strchr(url, '?');
    int ulen = q ? (int)(q - url) : (int)strlen(url);
    ip_err_set(err, ec, "%s %.*s: %s", method, ulen, url, why.data);
    err->http_status = status;
    ip_buf_release(&why);
    return -(int)ec;
}
