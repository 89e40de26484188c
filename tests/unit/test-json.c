/* test-json.c - capped JSON parsing, typed getters, and writing parsed values
 * back out unchanged (member order, number spelling). */
#include <string.h>

#include "oci/json.h"
#include "suites.h"

/* Parses s, expecting success. */
static yajl_val parse_ok(const char *s)
{
    struct ip_err err;
    yajl_val v = NULL;
    ip_err_clear(&err);
    int rc = ip_json_parse(s, strlen(s), &v, &err);
    ck_assert_msg(rc == 0, "parsing %s: %s", s, err.msg);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Parses s and writes it back with ip_json_value; returns the bytes (owned). */
static char *round_trip(const char *s)
{
    struct ip_buf out = IP_BUF_INIT;
    yajl_val v = parse_ok(s);
    yajl_gen g = ip_json_gen_new();
    ip_json_value(g, v);
    ip_json_gen_finish(g, &out);
    yajl_tree_free(v);
    return ip_buf_detach(&out, NULL);
}

START_TEST(parse_accepts_documents)
{
    yajl_val v = parse_ok("{\"a\": 1, \"b\": [true, null]}");
    ck_assert(YAJL_IS_OBJECT(v));
    ck_assert_uint_eq(v->u.object.len, 2);
    yajl_tree_free(v);
    v = parse_ok("  [1, 2, 3]\n");
    ck_assert(YAJL_IS_ARRAY(v));
    ck_assert_uint_eq(v->u.array.len, 3);
    yajl_tree_free(v);
}
END_TEST

START_TEST(parse_uses_only_len_bytes)
{
    /* the bytes after len are not part of the document */
    const char *s = "{\"a\":1}garbage";
    struct ip_err err;
    yajl_val v = NULL;
    ck_assert_int_eq(ip_json_parse(s, 7, &v, &err), 0);
    int64_t a = 0;
    ck_assert(ip_json_get_int(v, "a", &a));
    ck_assert_int_eq(a, 1);
    yajl_tree_free(v);
    ck_assert_int_lt(ip_json_parse(s, strlen(s), &v, &err), 0);
    ck_assert_int_eq(err.code, IP_E_FORMAT);
}
END_TEST

START_TEST(parse_caps_size)
{
    struct ip_err err;
    yajl_val v = NULL;
    /* "{}" padded with spaces to exactly the cap is accepted ... */
    char *big = ip_xmalloc(IP_MAX_JSON + 2);
    memset(big, ' ', IP_MAX_JSON + 1);
    big[0] = '{';
    big[1] = '}';
    big[IP_MAX_JSON + 1] = '\0';
    ip_err_clear(&err);
    ck_assert_msg(ip_json_parse(big, IP_MAX_JSON, &v, &err) == 0, "%s", err.msg);
    ck_assert(YAJL_IS_OBJECT(v));
    yajl_tree_free(v);
    /* ... one byte more is refused before parsing */
    v = NULL;
    ck_assert_int_eq(ip_json_parse(big, IP_MAX_JSON + 1, &v, &err), -IP_E_TOOBIG);
    ck_assert_int_eq(err.code, IP_E_TOOBIG);
    ck_assert_ptr_null(v);
    free(big);
}
END_TEST

START_TEST(parse_refuses_malformed)
{
    static const char *const bad[] = {
        "",      "{",   "}",      "{\"a\":}",   "[1,]", "{\"a\" 1}", "{'a':1}", "{} {}",
        "[1] x", "nul", "\"open", "{\"a\":1,}", "[01]", "{a:1}",     "tru",     "[1 2]",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(bad); i++) {
        struct ip_err err;
        yajl_val v = NULL;
        ip_err_clear(&err);
        int rc = ip_json_parse(bad[i], strlen(bad[i]), &v, &err);
        ck_assert_msg(rc == -IP_E_FORMAT, "'%s' gave %d", bad[i], rc);
        ck_assert_int_eq(err.code, IP_E_FORMAT);
        ck_assert_msg(!strncmp(err.msg, "invalid JSON", 12), "'%s': %s", bad[i], err.msg);
        ck_assert_msg(strchr(err.msg, '\n') == NULL, "message spans lines: %s", err.msg);
        ck_assert_ptr_null(v);
    }
}
END_TEST

START_TEST(parse_refuses_nul_byte)
{
    static const char doc[] = "{\"a\":\"x\0y\"}";
    struct ip_err err;
    yajl_val v = NULL;
    ck_assert_int_eq(ip_json_parse(doc, sizeof(doc) - 1, &v, &err), -IP_E_FORMAT);
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(getters)
{
    yajl_val v = parse_ok("{\"s\":\"text\",\"i\":42,\"neg\":-7,\"f\":1.5,\"big\":9007199254740993,"
                          "\"n\":null,\"o\":{\"s\":\"inner\"},\"arr\":[1],\"is\":\"12\"}");
    int64_t i = 0;

    ck_assert_ptr_nonnull(ip_json_get(v, "o"));
    ck_assert(YAJL_IS_OBJECT(ip_json_get(v, "o")));
    ck_assert_ptr_null(ip_json_get(v, "missing"));
    ck_assert_ptr_null(ip_json_get(v, "S")); /* keys are case-sensitive */

    ck_assert_str_eq(ip_json_get_str(v, "s"), "text");
    ck_assert_str_eq(ip_json_get_str(ip_json_get(v, "o"), "s"), "inner");
    ck_assert_ptr_null(ip_json_get_str(v, "i"));
    ck_assert_ptr_null(ip_json_get_str(v, "n"));
    ck_assert_ptr_null(ip_json_get_str(v, "o"));
    ck_assert_ptr_null(ip_json_get_str(v, "missing"));

    ck_assert(ip_json_get_int(v, "i", &i));
    ck_assert_int_eq(i, 42);
    ck_assert(ip_json_get_int(v, "neg", &i));
    ck_assert_int_eq(i, -7);
    ck_assert(ip_json_get_int(v, "big", &i));
    ck_assert_int_eq(i, 9007199254740993LL);
    i = 99;
    ck_assert(!ip_json_get_int(v, "f", &i));
    ck_assert(!ip_json_get_int(v, "is", &i));
    ck_assert(!ip_json_get_int(v, "n", &i));
    ck_assert(!ip_json_get_int(v, "missing", &i));
    ck_assert_int_eq(i, 99); /* untouched on failure */

    /* getters on something that is not an object find nothing */
    yajl_val arr = ip_json_get(v, "arr");
    ck_assert_ptr_null(ip_json_get(arr, "0"));
    ck_assert_ptr_null(ip_json_get_str(arr, "s"));
    ck_assert(!ip_json_get_int(arr, "i", &i));
    ck_assert_ptr_null(ip_json_get(NULL, "s"));
    yajl_tree_free(v);
}
END_TEST

START_TEST(int_out_of_range_is_not_an_int)
{
    yajl_val v = parse_ok("{\"huge\":123456789012345678901234567890}");
    int64_t i = 5;
    ck_assert(!ip_json_get_int(v, "huge", &i));
    ck_assert_int_eq(i, 5);
    yajl_tree_free(v);
}
END_TEST

START_TEST(value_round_trip_is_byte_exact)
{
    /* compact input: output equals input exactly (order, numbers, escapes) */
    static const char *const docs[] = {
        "{\"z\":1,\"a\":2,\"m\":3}",
        "{\"b\":1,\"a\":[1.50,-0,1e3,2E-2,true,false,null,\"x\\\"y\\\\z\"],\"c\":{\"z\":{},\"y\":[]"
        "}}",
        "{\"huge\":123456789012345678901234567890,\"neg\":-9223372036854775808}",
        "[0.10,100,1.0e+10]",
        "{\"dup\":1,\"dup\":2}",
        "\"just a string\"",
        "{\"nl\":\"a\\nb\\tc\"}",
    };
    for (size_t i = 0; i < IP_ARRAY_SIZE(docs); i++) {
        char *out = round_trip(docs[i]);
        ck_assert_str_eq(out, docs[i]);
        free(out);
    }
}
END_TEST

START_TEST(value_round_trip_drops_whitespace_only)
{
    char *out = round_trip("{ \"b\" : [ 1 , 2.50 ] ,\n  \"a\" : { \"k\" : \"v\" } }\n");
    ck_assert_str_eq(out, "{\"b\":[1,2.50],\"a\":{\"k\":\"v\"}}");
    free(out);
}
END_TEST

START_TEST(value_round_trip_keeps_meaning_of_unicode)
{
    /* escapes may be rewritten as UTF-8, but the value must be the same */
    char *out = round_trip("{\"k\":\"caf\\u00e9 \\u2603\"}");
    yajl_val a = parse_ok(out);
    ck_assert_str_eq(ip_json_get_str(a, "k"), "caf\xc3\xa9 \xe2\x98\x83");
    yajl_tree_free(a);
    free(out);
}
END_TEST

START_TEST(generator_helpers)
{
    struct ip_buf out = IP_BUF_INIT;
    ip_buf_adds(&out, "prefix:");
    yajl_gen g = ip_json_gen_new();
    yajl_gen_map_open(g);
    ip_json_kv(g, "name", "va\"lue");
    ip_json_str(g, "n");
    ip_json_int(g, -12345678901LL);
    ip_json_str(g, "v");
    ip_json_value(g, NULL);
    yajl_gen_map_close(g);
    ip_json_gen_finish(g, &out);
    /* appended, compact, fixed order */
    ck_assert_str_eq(out.data, "prefix:{\"name\":\"va\\\"lue\",\"n\":-12345678901,\"v\":null}");
    ck_assert_uint_eq(out.len, strlen(out.data));
    ip_buf_release(&out);
}
END_TEST

Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, parse_accepts_documents);
    tcase_add_test(tc, parse_uses_only_len_bytes);
    tcase_add_test(tc, parse_caps_size);
    tcase_add_test(tc, parse_refuses_malformed);
    tcase_add_test(tc, parse_refuses_nul_byte);
    tcase_add_test(tc, getters);
    tcase_add_test(tc, int_out_of_range_is_not_an_int);
    tcase_add_test(tc, value_round_trip_is_byte_exact);
    tcase_add_test(tc, value_round_trip_drops_whitespace_only);
    tcase_add_test(tc, value_round_trip_keeps_meaning_of_unicode);
    tcase_add_test(tc, generator_helpers);
    suite_add_tcase(s, tc);
    return s;
}
