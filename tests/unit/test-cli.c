/* test-cli.c - the command-line flag parser: long and short forms, values
 * given with '=' or as the next argument, tables joined at run time, global
 * flags before and after positional arguments, defaults, durations, help;
 * and imgpkg's multi-line error form. */
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "flags.h"
#include "suites.h"

struct t_global {
    bool tty;
    bool yes;
    struct flag_slice columns;
};

struct t_group {
    char *user;
    int retries;
    long timeout_ms;
    bool verify;
};

struct t_opts {
    char *bundle;
    struct flag_slice files;
    struct flag_map labels;
    bool recursive;
    struct t_group group;
};

static const struct flag t_global_flags[] = {
    {"tty", 0, FLAG_BOOL, offsetof(struct t_global, tty), "Force TTY-like output", NULL, 0},
    {"yes", 'y', FLAG_BOOL, offsetof(struct t_global, yes), "Assume yes", NULL, 0},
    {"column", 0, FLAG_SLICE, offsetof(struct t_global, columns), "Columns", NULL, 0},
    FLAG_END,
};

static const struct flag t_group_flags[] = {
    {"user", 0, FLAG_STRING, offsetof(struct t_group, user), "User", NULL, 0},
    {"retries", 0, FLAG_INT, offsetof(struct t_group, retries), "Retries", "5", 0},
    {"timeout", 0, FLAG_DURATION, offsetof(struct t_group, timeout_ms), "Timeout", "30s", 0},
    {"verify", 0, FLAG_BOOL, offsetof(struct t_group, verify), "Verify", "true", 0},
    FLAG_END,
};

static const struct flag t_cmd_flags[] = {
    {"bundle", 'b', FLAG_STRING, offsetof(struct t_opts, bundle), "Bundle", NULL, 0},
    {"file", 'f', FLAG_SLICE, offsetof(struct t_opts, files), "Files", "[a,b]", 0},
    {"labels", 'l', FLAG_MAP, offsetof(struct t_opts, labels), "Labels", NULL, 0},
    {"recursive", 'r', FLAG_BOOL, offsetof(struct t_opts, recursive), "Recursive", NULL, 0},
    FLAG_END,
};

static const struct flag_use t_uses[] = {
    {t_cmd_flags, 0},
    {t_group_flags, offsetof(struct t_opts, group)},
    {NULL, 0},
};

struct fixture {
    struct t_global g;
    struct t_opts o;
    struct flag_set set;
    char *pos[16];
    int n_pos;
    struct ip_err err;
};

static void setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    flag_set_add_uses(&f->set, t_uses, &f->o);
    flag_set_add(&f->set, t_global_flags, &f->g);
    ck_assert_int_eq(flag_set_defaults(&f->set, &f->err), 0);
}

static void teardown(struct fixture *f)
{
    flag_set_release_values(&f->set);
    flag_set_free(&f->set);
}

static int parse(struct fixture *f, bool positional, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    return flag_parse(&f->set, "imgpkg test", argc, argv, positional ? f->pos : NULL, &f->n_pos,
                      &f->err);
}

START_TEST(defaults_are_set)
{
    struct fixture f;
    setup(&f);
    ck_assert_int_eq(f.o.group.retries, 5);
    ck_assert_int_eq(f.o.group.timeout_ms, 30000);
    ck_assert(f.o.group.verify);
    ck_assert_uint_eq(f.o.files.n, 2);
    ck_assert_str_eq(f.o.files.v[1], "b");
    ck_assert_ptr_null(f.o.bundle);
    teardown(&f);
}
END_TEST

START_TEST(long_forms)
{
    struct fixture f;
    setup(&f);
    char *argv[] = {"--bundle",       "reg/x:1",   "--user=me", "--retries=2",
                    "--verify=false", "--timeout", "1m30s",     NULL};
    ck_assert_int_eq(parse(&f, false, argv), 0);
    ck_assert_str_eq(f.o.bundle, "reg/x:1");
    ck_assert_str_eq(f.o.group.user, "me");
    ck_assert_int_eq(f.o.group.retries, 2);
    ck_assert(!f.o.group.verify);
    ck_assert_int_eq(f.o.group.timeout_ms, 90000);
    teardown(&f);
}
END_TEST

START_TEST(value_with_equals_sign)
{
    struct fixture f;
    setup(&f);
    char *argv[] = {"--user=a=b", "-b=x=y", NULL};
    ck_assert_int_eq(parse(&f, false, argv), 0);
    ck_assert_str_eq(f.o.group.user, "a=b");
    ck_assert_str_eq(f.o.bundle, "x=y");
    teardown(&f);
}
END_TEST

START_TEST(shorthand_forms)
{
    struct fixture f;
    setup(&f);
    char *argv[] = {"-b", "one", "-fx", "-f=y", "-f", "z,w", "-yr", NULL};
    ck_assert_int_eq(parse(&f, false, argv), 0);
    ck_assert_str_eq(f.o.bundle, "one");
    ck_assert_uint_eq(f.o.files.n, 4); /* the first use replaced the default */
    ck_assert_str_eq(f.o.files.v[0], "x");
    ck_assert_str_eq(f.o.files.v[1], "y");
    ck_assert_str_eq(f.o.files.v[2], "z");
    ck_assert_str_eq(f.o.files.v[3], "w");
    ck_assert(f.g.yes);
    ck_assert(f.o.recursive);
    teardown(&f);
}
END_TEST

START_TEST(global_flags_anywhere)
{
    struct fixture f;
    setup(&f);
    char *argv[] = {"--tty", "topic", "-b", "x", "--column", "a,b", "-y", NULL};
    ck_assert_int_eq(parse(&f, true, argv), 0);
    ck_assert(f.g.tty);
    ck_assert(f.g.yes);
    ck_assert_uint_eq(f.g.columns.n, 2);
    ck_assert_int_eq(f.n_pos, 1);
    ck_assert_str_eq(f.pos[0], "topic");
    ck_assert(flag_takes_next(&f.set, "--column"));
    ck_assert(flag_takes_next(&f.set, "-b"));
    ck_assert(!flag_takes_next(&f.set, "--tty"));
    ck_assert(!flag_takes_next(&f.set, "--column=x"));
    ck_assert(!flag_takes_next(&f.set, "--nosuch"));
    teardown(&f);
}
END_TEST

START_TEST(maps)
{
    struct fixture f;
    setup(&f);
    char *argv[] = {"-l", "a=1", "--labels", "b=2,c=3", "-l", "a=x,y", NULL};
    ck_assert_int_eq(parse(&f, false, argv), 0);
    ck_assert_uint_eq(f.o.labels.n, 3);
    ck_assert_str_eq(f.o.labels.v[0].key, "a");
    ck_assert_str_eq(f.o.labels.v[0].val, "x,y");
    ck_assert_str_eq(f.o.labels.v[2].val, "3");
    teardown(&f);
}
END_TEST

static void expect_error(char **argv, bool positional, const char *msg)
{
    struct fixture f;
    setup(&f);
    ck_assert_int_lt(parse(&f, positional, argv), 0);
    ck_assert_str_eq(f.err.msg, msg);
    teardown(&f);
}

START_TEST(errors_in_pflag_wording)
{
    expect_error((char *[]){"--nosuch", NULL}, false, "unknown flag: --nosuch");
    expect_error((char *[]){"-q", NULL}, false, "unknown shorthand flag: 'q' in -q");
    expect_error((char *[]){"--user", NULL}, false, "flag needs an argument: --user");
    expect_error((char *[]){"-b", NULL}, false, "flag needs an argument: 'b' in -b");
    expect_error((char *[]){"extra", NULL}, false,
                 "command 'imgpkg test' does not accept extra arguments 'extra'");
    expect_error((char *[]){"--retries", "x", NULL}, false,
                 "invalid argument \"x\" for \"--retries\" flag: strconv.ParseInt: parsing \"x\": "
                 "invalid syntax");
    expect_error((char *[]){"--verify=maybe", NULL}, false,
                 "invalid argument \"maybe\" for \"--verify\" flag: strconv.ParseBool: parsing "
                 "\"maybe\": invalid syntax");
    expect_error((char *[]){"-l", "novalue", NULL}, false,
                 "invalid argument \"novalue\" for \"-l, --labels\" flag: novalue must be "
                 "formatted as key=value");
    expect_error((char *[]){"--timeout", "5", NULL}, false,
                 "invalid argument \"5\" for \"--timeout\" flag: time: missing unit in duration "
                 "\"5\"");
}
END_TEST

START_TEST(go_durations)
{
    struct ip_err err;
    long ms = -1;
    ck_assert_int_eq(flag_parse_duration("30s", &ms, &err), 0);
    ck_assert_int_eq(ms, 30000);
    ck_assert_int_eq(flag_parse_duration("1m30s", &ms, &err), 0);
    ck_assert_int_eq(ms, 90000);
    ck_assert_int_eq(flag_parse_duration("500ms", &ms, &err), 0);
    ck_assert_int_eq(ms, 500);
    ck_assert_int_eq(flag_parse_duration("1h", &ms, &err), 0);
    ck_assert_int_eq(ms, 3600000);
    ck_assert_int_eq(flag_parse_duration("1.5s", &ms, &err), 0);
    ck_assert_int_eq(ms, 1500);
    ck_assert_int_eq(flag_parse_duration("0", &ms, &err), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_lt(flag_parse_duration("5x", &ms, &err), 0);
    ck_assert_str_eq(err.msg, "time: unknown unit \"x\" in duration \"5x\"");
    ck_assert_int_lt(flag_parse_duration("", &ms, &err), 0);
    ck_assert_str_eq(err.msg, "time: invalid duration \"\"");
    ck_assert_int_lt(flag_parse_duration("s", &ms, &err), 0);
    ck_assert_int_lt(flag_parse_duration("1..2s", &ms, &err), 0);
}
END_TEST

START_TEST(help_layout)
{
    struct fixture f;
    char *buf = NULL;
    size_t len = 0;
    setup(&f);
    FILE *m = open_memstream(&buf, &len);
    flag_set_print(&f.set, m);
    fclose(m);
    /* sorted by name, one column three spaces after the widest, defaults */
    ck_assert_str_eq(buf, "  -b, --bundle string           Bundle\n"
                          "      --column strings          Columns\n"
                          "  -f, --file strings            Files (default [a,b])\n"
                          "  -l, --labels stringToString   Labels\n"
                          "  -r, --recursive               Recursive\n"
                          "      --retries int             Retries (default 5)\n"
                          "      --timeout duration        Timeout (default 30s)\n"
                          "      --tty                     Force TTY-like output\n"
                          "      --user string             User\n"
                          "      --verify                  Verify (default true)\n"
                          "  -y, --yes                     Assume yes\n");
    free(buf);
    teardown(&f);
}
END_TEST

static void expect_multiline(const char *msg, const char *want)
{
    char *got = cli_error_multiline(msg);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(errors_in_multiline_form)
{
    /* the example real imgpkg prints */
    expect_multiline("Fetching image: GET http://127.0.0.1:5999/v2/nope/x/manifests/v1: "
                     "MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]",
                     "Fetching image:\n"
                     "  GET http://127.0.0.1:5999/v2/nope/x/manifests/v1:\n"
                     "    MANIFEST_UNKNOWN: manifest unknown; map[Tag:v1]");
    /* only before an uppercase letter */
    expect_multiline("Parsing 'x': invalid reference: a", "Parsing 'x': invalid reference: a");
    expect_multiline("a: b: C", "a: b:\n  C");
    /* never inside brackets, nested or not */
    expect_multiline("Outer (inner: Not split [deep: No]): Split",
                     "Outer (inner: Not split [deep: No]):\n  Split");
    expect_multiline("{a: B}: C", "{a: B}:\n  C");
    /* a bracket left open: nothing after it is split */
    expect_multiline("A: B (c: D", "A:\n  B (c: D");
    /* a closing bracket alone is text */
    expect_multiline("x) y: Z", "x) y:\n  Z");
    /* raw text */
    expect_multiline("A: ...|b: C|...: D", "A: ...|b: C|...:\n  D");
    /* newlines from libraries become spaces first */
    expect_multiline("Reading: line one\nline: Two", "Reading: line one line:\n  Two");
    expect_multiline("Reading: Line one\nline: Two", "Reading:\n  Line one line:\n    Two");
    expect_multiline("", "");
    expect_multiline("trailing: ", "trailing: ");
}
END_TEST

Suite *suite_cli(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("flags");
    tcase_add_test(tc, defaults_are_set);
    tcase_add_test(tc, long_forms);
    tcase_add_test(tc, value_with_equals_sign);
    tcase_add_test(tc, shorthand_forms);
    tcase_add_test(tc, global_flags_anywhere);
    tcase_add_test(tc, maps);
    tcase_add_test(tc, errors_in_pflag_wording);
    tcase_add_test(tc, go_durations);
    tcase_add_test(tc, help_layout);
    tcase_add_test(tc, errors_in_multiline_form);
    suite_add_tcase(s, tc);
    return s;
}
