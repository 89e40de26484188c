/* json.c - yajl helpers: capped parsing, typed getters, a compact generator. */
#include <inttypes.h>
#include <string.h>

#include "oci/json.h"
#include "util/banned.h"

/* Documents nested deeper than this are refused: yajl's generator stops at 128
 * levels, so a document written back (index.json keeps unknown members) would
 * come out cut short, and yajl frees its trees recursively. */
#define MAX_JSON_DEPTH 100

static bool nested_too_deep(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_JSON_DEPTH)
                return true;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return false;
}

/* data must be NUL-terminated at len */
static int parse_terminated(const char *data, size_t len, size_t max, yajl_val *out,
                            struct ip_err *err)
{
    char errbuf[256];
    if (len > max)
        return ip_err_set(err, IP_E_TOOBIG, "JSON document of %zu bytes is over the %zu byte limit",
                          len, max);
    if (memchr(data, '\0', len))
        return ip_err_set(err, IP_E_FORMAT, "invalid JSON: NUL byte");
    if (nested_too_deep(data, len))
        return ip_err_set(err, IP_E_FORMAT, "invalid JSON: nested more than %d deep",
                          MAX_JSON_DEPTH);
    errbuf[0] = '\0';
    yajl_val v = yajl_tree_parse(data, errbuf, sizeof(errbuf));
    if (!v) {
        /* yajl's message spans lines; keep the first. */
        char *nl = strchr(errbuf, '\n');
        if (nl)
            *nl = '\0';
        return ip_err_set(err, IP_E_FORMAT, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
    }
    *out = v;
    return 0;
}

int ip_json_parse(const char *data, size_t len, yajl_val *out, struct ip_err *err)
{
    if (len > IP_MAX_JSON)
        return ip_err_set(err, IP_E_TOOBIG, "JSON document of %zu bytes is over the %u byte limit",
                          len, IP_MAX_JSON);
    cleanup_free char *copy = ip_xstrndup(data, len);
    return parse_terminated(copy, len, IP_MAX_JSON, out, err);
}

int ip_json_parse_buf(const struct ip_buf *b, size_t max, yajl_val *out, struct ip_err *err)
{
    return parse_terminated(b->data ? b->data : "", b->data ? b->len : 0, max, out, err);
}

yajl_val ip_json_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (!strcmp(obj->u.object.keys[i], key))
            return obj->u.object.values[i];
    return NULL;
}

const char *ip_json_get_str(yajl_val obj, const char *key)
{
    yajl_val v = ip_json_get(obj, key);
    return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool ip_json_get_int(yajl_val obj, const char *key, int64_t *out)
{
    yajl_val v = ip_json_get(obj, key);
    if (!YAJL_IS_INTEGER(v))
        return false;
    *out = v->u.number.i;
    return true;
}

yajl_gen ip_json_gen_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        abort();
    yajl_gen_config(g, yajl_gen_validate_utf8, 0);
    return g;
}

void ip_json_gen_finish(yajl_gen g, struct ip_buf *out)
{
    const unsigned char *p;
    size_t len;
    yajl_gen_get_buf(g, &p, &len);
    ip_buf_adds(out, ""); /* make sure data exists */
    struct ip_err e;
    ip_buf_add(out, p, len, &e);
    yajl_gen_free(g);
}

void ip_json_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void ip_json_int(yajl_gen g, int64_t v)
{
    yajl_gen_integer(g, (long long)v);
}

void ip_json_kv(yajl_gen g, const char *key, const char *val)
{
    ip_json_str(g, key);
    ip_json_str(g, val);
}

void ip_json_value(yajl_gen g, yajl_val v)
{
    if (!v) {
        yajl_gen_null(g);
        return;
    }
    switch (v->type) {
    case yajl_t_string:
        ip_json_str(g, v->u.string);
        break;
    case yajl_t_number:
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        break;
    case yajl_t_object:
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            ip_json_str(g, v->u.object.keys[i]);
            ip_json_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
        break;
    case yajl_t_array:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            ip_json_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
        break;
    case yajl_t_true:
        yajl_gen_bool(g, 1);
        break;
    case yajl_t_false:
        yajl_gen_bool(g, 0);
        break;
    default:
        yajl_gen_null(g);
        break;
    }
}
