/* test-build.c - the folder builder: which entries go into the layer and in
 * what order, the layer's tar headers, determinism, and bundle or image. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "image/image-internal.h"
#include "imgpkg/lock.h"
#include "suites.h"

#define DG1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define VALID_LOCK                                                                                 \
    "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"                          \
    "- image: example.com/app@" DG1 "\n"

static char *path_in(const char *dir, const char *rel)
{
    return ip_path_join(dir, rel);
}

static void put(const char *dir, const char *rel, const char *content, int mode)
{
    char *p = path_in(dir, rel);
    test_write_file(p, content, mode);
    free(p);
}

static void mkdir_in(const char *dir, const char *rel, int mode)
{
    struct ip_err err;
    char *p = path_in(dir, rel);
    ck_assert_int_eq(ip_mkdirs(p, &err), 0);
    ck_assert_int_eq(chmod(p, (mode_t)mode), 0);
    free(p);
}

static void opts_init(struct ip_build_opts *o, const char **paths, size_t n)
{
    memset(o, 0, sizeof(*o));
    o->paths = paths;
    o->n_paths = n;
}

static struct ip_build_entry *collect_ok(const struct ip_build_opts *o, size_t *n)
{
    struct ip_build_entry *e = NULL;
    struct ip_err err;
    ip_err_clear(&err);
    int rc = ip_build_collect(o, &e, n, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return e;
}

static void collect_fails(const struct ip_build_opts *o, enum ip_code code, const char *msg)
{
    struct ip_build_entry *e = NULL;
    size_t n = 0;
    struct ip_err err;
    ip_err_clear(&err);
    int rc = ip_build_collect(o, &e, &n, &err);
    ck_assert_msg(rc == -(int)code, "rc %d, want %d (%s)", rc, -(int)code, err.msg);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(!strcmp(err.msg, msg), "message '%s', want '%s'", err.msg, msg);
    ck_assert_ptr_null(e);
}

/* The rel paths, joined with spaces. */
static char *rels(const struct ip_build_entry *e, size_t n)
{
    struct ip_buf b = IP_BUF_INIT;
    ip_buf_adds(&b, "");
    for (size_t i = 0; i < n; i++)
        ip_buf_printf(&b, "%s%s", i ? " " : "", e[i].rel);
    return ip_buf_detach(&b, NULL);
}

static void assert_rels(const struct ip_build_opts *o, const char *want)
{
    size_t n = 0;
    struct ip_build_entry *e = collect_ok(o, &n);
    char *got = rels(e, n);
    ck_assert_str_eq(got, want);
    free(got);
    ip_build_entries_free(e, n);
}

/* ---- collect ---- */

START_TEST(collect_walk_order)
{
    char *d = test_tmpdir();
    put(d, "a/b", "ab", 0644);
    put(d, "a/c/d", "acd", 0644);
    put(d, "a-b", "a-b", 0755);
    put(d, "a.c", "", 0600);
    put(d, "B", "B", 0644);
    const char *paths[] = {d};
    struct ip_build_opts o;
    opts_init(&o, paths, 1);
    size_t n = 0;
    struct ip_build_entry *e = collect_ok(&o, &n);
    char *got = rels(e, n);
    /* the directory's own entry, then a depth-first walk in byte order (Go's
     * filepath.Walk): a, a/b, a/c, a/c/d, then a-b */
    ck_assert_str_eq(got, ". B a a/b a/c a/c/d a-b a.c");
    free(got);
    ck_assert(e[0].is_dir);
    ck_assert(e[2].is_dir);
    ck_assert(!e[3].is_dir);
    ck_assert(e[4].is_dir);
    ck_assert_int_eq(e[3].size, 2);
    ck_assert_int_eq(e[5].size, 3);
    ck_assert_int_eq(e[2].size, 0);
    ck_assert_uint_eq(e[6].mode, 0755);
    ck_assert_uint_eq(e[7].mode, 0600);
    ck_assert_int_eq(e[7].size, 0);
    char *full = path_in(d, "a/c/d");
    ck_assert_str_eq(e[5].full, full);
    free(full);
    ip_build_entries_free(e, n);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_inputs_in_order)
{
    /* imgpkg's layer: each input in the order given, a directory behind its
     * own "." entry; nothing is merged or sorted across inputs */
    char *d = test_tmpdir();
    char *d1 = path_in(d, "one"), *d2 = path_in(d, "two");
    put(d1, "common/x", "x", 0644);
    put(d1, "f1", "1", 0644);
    put(d2, "other/y", "y", 0644);
    put(d2, "other/sub/z", "z", 0644);
    put(d2, "f2", "2", 0644);
    const char *paths[] = {d2, d1};
    struct ip_build_opts o;
    opts_init(&o, paths, 2);
    size_t n = 0;
    struct ip_build_entry *e = collect_ok(&o, &n);
    char *got = rels(e, n);
    ck_assert_str_eq(got, ". f2 other other/sub other/sub/z other/y . common common/x f1");
    free(got);
    /* entries point at the input they came from */
    char *x = path_in(d1, "common/x"), *y = path_in(d2, "other/y");
    ck_assert_str_eq(e[0].full, d2);
    ck_assert_str_eq(e[5].full, y);
    ck_assert_str_eq(e[6].full, d1);
    ck_assert_str_eq(e[8].full, x);
    free(x);
    free(y);
    ip_build_entries_free(e, n);
    free(d1);
    free(d2);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_file_input_is_basename)
{
    char *d = test_tmpdir();
    put(d, "deep/er/file.txt", "content", 0640);
    put(d, "dir/z", "z", 0644);
    char *file = path_in(d, "deep/er/file.txt"), *dir = path_in(d, "dir");
    const char *paths[] = {dir, file};
    struct ip_build_opts o;
    opts_init(&o, paths, 2);
    size_t n = 0;
    struct ip_build_entry *e = collect_ok(&o, &n);
    char *got = rels(e, n);
    ck_assert_str_eq(got, ". z file.txt");
    free(got);
    ck_assert_str_eq(e[2].full, file);
    ck_assert(!e[2].is_dir);
    ck_assert_int_eq(e[2].size, 7);
    ck_assert_uint_eq(e[2].mode, 0640);
    ip_build_entries_free(e, n);
    free(file);
    free(dir);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_exclusions)
{
    char *d = test_tmpdir();
    put(d, "a/b", "ab", 0644);
    put(d, "a/c/d", "acd", 0644);
    put(d, "a-b", "a-b", 0644);
    put(d, "b", "b", 0644);
    put(d, ".git/config", "x", 0644);
    const char *paths[] = {d};
    struct ip_build_opts o;
    opts_init(&o, paths, 1);

    const char *file_ex[] = {"a/b"};
    o.exclusions = file_ex;
    o.n_exclusions = 1;
    assert_rels(&o, ". .git .git/config a a/c a/c/d a-b b");

    /* a directory takes its whole subtree with it */
    const char *dir_ex[] = {"a", ".git"};
    o.exclusions = dir_ex;
    o.n_exclusions = 2;
    assert_rels(&o, ". a-b b");

    const char *nested_dir_ex[] = {"a/c"};
    o.exclusions = nested_dir_ex;
    o.n_exclusions = 1;
    assert_rels(&o, ". .git .git/config a a/b a-b b");

    /* exact relative paths only: "b" is not "a/b", "a/" is not "a" */
    const char *exact[] = {"b", "a/", "c/d", "*"};
    o.exclusions = exact;
    o.n_exclusions = 4;
    assert_rels(&o, ". .git .git/config a a/b a/c a/c/d a-b");

    /* a file input is excluded by its base name */
    char *f = path_in(d, "a-b");
    const char *paths2[] = {f};
    const char *base_ex[] = {"a-b"};
    opts_init(&o, paths2, 1);
    o.exclusions = base_ex;
    o.n_exclusions = 1;
    assert_rels(&o, "");
    free(f);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_exclusion_skips_bad_subtree)
{
    /* what is excluded is never looked at: a symlink in it is not an error */
    char *d = test_tmpdir();
    put(d, "keep", "k", 0644);
    mkdir_in(d, "skip", 0755);
    char *link = path_in(d, "skip/link");
    ck_assert_int_eq(symlink("/etc/passwd", link), 0);
    free(link);
    const char *paths[] = {d};
    const char *ex[] = {"skip"};
    struct ip_build_opts o;
    opts_init(&o, paths, 1);
    o.exclusions = ex;
    o.n_exclusions = 1;
    assert_rels(&o, ". keep");
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_duplicates_refused)
{
    /* as imgpkg: any layer path two inputs give, directories included, is
     * refused, and the message names every path on disk that gives it */
    char *d = test_tmpdir();
    char *d1 = path_in(d, "one"), *d2 = path_in(d, "two"), *d3 = path_in(d, "three");
    put(d1, "f", "1", 0644);
    put(d1, "sub/g", "1", 0644);
    put(d2, "f", "2", 0644);
    put(d2, "sub/g", "2", 0644);
    put(d2, "other", "2", 0644);
    put(d3, "f/inside", "3", 0644); /* f is a directory here */
    struct ip_build_opts o;
    char *want;

    const char *p12[] = {d1, d2};
    opts_init(&o, p12, 2);
    want = ip_xasprintf("Found duplicate paths: %s/f, %s/f, %s/sub, %s/sub, %s/sub/g, %s/sub/g", d1,
                        d2, d1, d2, d1, d2);
    collect_fails(&o, IP_E_INPUT, want);
    free(want);

    const char *p13[] = {d1, d3};
    opts_init(&o, p13, 2);
    want = ip_xasprintf("Found duplicate paths: %s/f, %s/f", d1, d3);
    collect_fails(&o, IP_E_INPUT, want);
    free(want);

    /* a file input against a directory's file of the same name */
    char *f = path_in(d2, "other");
    put(d, "x/other", "x", 0644);
    char *x = path_in(d, "x");
    const char *pfx[] = {f, x};
    opts_init(&o, pfx, 2);
    want = ip_xasprintf("Found duplicate paths: %s, %s/other", f, x);
    collect_fails(&o, IP_E_INPUT, want);
    free(want);

    /* the same file twice */
    const char *pff[] = {f, f};
    opts_init(&o, pff, 2);
    want = ip_xasprintf("Found duplicate paths: %s, %s", f, f);
    collect_fails(&o, IP_E_INPUT, want);
    free(want);

    /* the same directory twice: every path in it twice ("." excepted) */
    const char *p11[] = {d1, d1};
    opts_init(&o, p11, 2);
    want = ip_xasprintf("Found duplicate paths: %s/f, %s/f, %s/sub, %s/sub, %s/sub/g, %s/sub/g", d1,
                        d1, d1, d1, d1, d1);
    collect_fails(&o, IP_E_INPUT, want);
    free(want);

    free(f);
    free(x);
    free(d1);
    free(d2);
    free(d3);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_refuses_symlinks)
{
    char *d = test_tmpdir();
    char *in = path_in(d, "in");
    put(in, "ok", "ok", 0644);
    put(d, "target", "t", 0644);
    mkdir_in(in, "sub", 0755);
    char *link = path_in(in, "sub/link");
    char *link2 = path_in(d, "link2");
    char *msg = ip_xasprintf("Expected file '%s' to be a regular file", link);
    char *msg2 = ip_xasprintf("Expected file '%s' to be a regular file", link2);
    ck_assert_int_eq(symlink("../ok", link), 0);
    const char *paths[] = {in};
    struct ip_build_opts o;
    opts_init(&o, paths, 1);
    collect_fails(&o, IP_E_INPUT, msg);

    /* a symlink given as an input is not followed either */
    ck_assert_int_eq(symlink("target", link2), 0);
    const char *paths2[] = {link2};
    opts_init(&o, paths2, 1);
    collect_fails(&o, IP_E_INPUT, msg2);

    /* nor a symlink to a directory */
    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(symlink(d, link), 0);
    opts_init(&o, paths, 1);
    collect_fails(&o, IP_E_INPUT, msg);

    /* a fifo is refused too */
    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(mkfifo(link, 0644), 0);
    collect_fails(&o, IP_E_INPUT, msg);

    free(msg);
    free(msg2);
    free(link);
    free(link2);
    free(in);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(collect_missing_path)
{
    char *d = test_tmpdir();
    char *missing = path_in(d, "does-not-exist");
    const char *paths[] = {d, missing};
    struct ip_build_opts o;
    opts_init(&o, paths, 2);
    char *msg = ip_xasprintf("lstat %s: no such file or directory", missing);
    collect_fails(&o, IP_E_INPUT, msg);
    free(msg);

    opts_init(&o, NULL, 0);
    struct ip_build_entry *e = NULL;
    size_t n = 0;
    struct ip_err err;
    ck_assert_int_eq(ip_build_collect(&o, &e, &n, &err), -IP_E_USAGE);
    const char *empty[] = {""};
    opts_init(&o, empty, 1);
    ck_assert_int_eq(ip_build_collect(&o, &e, &n, &err), -IP_E_INPUT);
    free(missing);
    test_tmpdir_cleanup(d);
}
END_TEST

/* ---- the layer ---- */

struct tar_item {
    char *name;
    int type;
    unsigned perm;
    int64_t mtime;
    int64_t uid, gid;
    char *uname, *gname;
    int64_t size;
    char *data;
};

struct tar_list {
    struct tar_item *items;
    size_t n;
};

static void tar_list_free(struct tar_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].name);
        free(l->items[i].uname);
        free(l->items[i].gname);
        free(l->items[i].data);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Reads a gzip tar layer with libarchive. */
static struct tar_list read_layer(const char *path)
{
    struct tar_list l = {NULL, 0};
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    int r;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    ck_assert_int_eq(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
    /* (a warning: a UTF-8 name the C locale cannot show; the name is kept) */
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        l.items = ip_xrealloc(l.items, (l.n + 1) * sizeof(*l.items));
        struct tar_item *t = &l.items[l.n++];
        memset(t, 0, sizeof(*t));
        t->name = ip_xstrdup(archive_entry_pathname(ae));
        t->type = (int)archive_entry_filetype(ae);
        t->perm = (unsigned)archive_entry_perm(ae);
        t->mtime = (int64_t)archive_entry_mtime(ae);
        t->uid = (int64_t)archive_entry_uid(ae);
        t->gid = (int64_t)archive_entry_gid(ae);
        t->uname = archive_entry_uname(ae) ? ip_xstrdup(archive_entry_uname(ae)) : NULL;
        t->gname = archive_entry_gname(ae) ? ip_xstrdup(archive_entry_gname(ae)) : NULL;
        t->size = (int64_t)archive_entry_size(ae);
        t->data = ip_xcalloc(1, (size_t)t->size + 1);
        if (t->size)
            ck_assert_int_eq(archive_read_data(a, t->data, (size_t)t->size), t->size);
    }
    ck_assert_int_eq(r, ARCHIVE_EOF);
    /* the layer was gzip */
    ck_assert_int_eq(archive_filter_code(a, 0), ARCHIVE_FILTER_GZIP);
    archive_read_free(a);
    return l;
}

/* sha256 of the uncompressed layer (the diff_id). */
static void gunzip_digest(const char *path, char out[IP_DIGEST_SIZE])
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    struct ip_sha256 h;
    char buf[8192];
    la_ssize_t k;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    ck_assert_int_eq(archive_read_open_filename(a, path, 65536), ARCHIVE_OK);
    ck_assert_int_eq(archive_read_next_header(a, &ae), ARCHIVE_OK);
    ip_sha256_init(&h);
    while ((k = archive_read_data(a, buf, sizeof(buf))) > 0)
        ip_sha256_update(&h, buf, (size_t)k);
    ck_assert_int_eq(k, 0);
    ip_sha256_final(&h, out);
    archive_read_free(a);
}

static void file_digest(const char *path, char out[IP_DIGEST_SIZE], int64_t *size)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_int_eq(ip_read_file(path, 0, &b, &err), 0);
    ip_sha256_of(b.data ? b.data : "", b.len, out);
    *size = (int64_t)b.len;
    ip_buf_release(&b);
}

static char *file_bytes(const char *path, size_t *len)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_int_eq(ip_read_file(path, 0, &b, &err), 0);
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, len);
}

/* Collects `dir` and writes its layer to `out`. */
static void write_layer(const char *dir, bool preserve, const char *out, struct ip_layer_info *li)
{
    const char *paths[] = {dir};
    struct ip_build_opts o;
    struct ip_err err;
    opts_init(&o, paths, 1);
    size_t n = 0;
    struct ip_build_entry *e = collect_ok(&o, &n);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ip_err_clear(&err);
    int rc = ip_layer_write(e, n, preserve, 6, fd, li, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    close(fd);
    ip_build_entries_free(e, n);
}

static void make_tree(const char *in)
{
    put(in, "bin/tool", "#!/bin/sh\necho hi\n", 0755);
    put(in, "data.txt", "hello\n", 0644);
    put(in, "empty", "", 0640);
    put(in, "secret", "s", 0400);
    mkdir_in(in, "bin", 0750);
}

/* Gives every file and directory under `dir` another mtime and owner. */
static void touch_all(const char *dir, time_t when, uid_t uid, gid_t gid)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = path_in(dir, de->d_name);
        if (ip_is_dir(p))
            touch_all(p, when, uid, gid);
        struct timeval tv[2] = {{when, 0}, {when, 0}};
        ck_assert_int_eq(utimes(p, tv), 0);
        if (getuid() == 0)
            ck_assert_int_eq(lchown(p, uid, gid), 0);
        free(p);
    }
    closedir(d);
}

START_TEST(layer_is_deterministic)
{
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1"), *l2 = path_in(d, "l2"),
         *l3 = path_in(d, "l3");
    make_tree(in);
    touch_all(in, 1000000000, 0, 0);
    struct ip_layer_info a, b, c;
    write_layer(in, false, l1, &a);

    /* digest and size describe the bytes written; diff_id the tar inside */
    char dg[IP_DIGEST_SIZE];
    int64_t size = 0;
    file_digest(l1, dg, &size);
    ck_assert_str_eq(a.digest, dg);
    ck_assert_int_eq(a.size, size);
    gunzip_digest(l1, dg);
    ck_assert_str_eq(a.diff_id, dg);
    ck_assert_str_ne(a.digest, a.diff_id);

    /* other times and owners: the same layer, byte for byte */
    touch_all(in, 1700000000, 1234, 5678);
    write_layer(in, false, l2, &b);
    ck_assert_str_eq(a.digest, b.digest);
    ck_assert_str_eq(a.diff_id, b.diff_id);
    ck_assert_int_eq(a.size, b.size);
    size_t n1, n2;
    char *b1 = file_bytes(l1, &n1), *b2 = file_bytes(l2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);

    /* but the content counts */
    put(in, "data.txt", "hello!\n", 0644);
    write_layer(in, false, l3, &c);
    ck_assert_str_ne(a.digest, c.digest);
    ck_assert_str_ne(a.diff_id, c.diff_id);

    free(in);
    free(l1);
    free(l2);
    free(l3);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(layer_mode_matters_only_as_kept)
{
    /* group/other bits do not change the default layer; user bits do */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1"), *l2 = path_in(d, "l2");
    struct ip_layer_info a, b;
    make_tree(in);
    write_layer(in, false, l1, &a);
    char *p = path_in(in, "data.txt");
    ck_assert_int_eq(chmod(p, 0600), 0);
    write_layer(in, false, l2, &b);
    ck_assert_str_eq(a.digest, b.digest);
    write_layer(in, true, l2, &b);
    ck_assert_str_ne(a.digest, b.digest);
    ck_assert_int_eq(chmod(p, 0700), 0);
    write_layer(in, false, l2, &b);
    ck_assert_str_ne(a.digest, b.digest);
    free(p);
    free(in);
    free(l1);
    free(l2);
    test_tmpdir_cleanup(d);
}
END_TEST

static const struct tar_item *find_item(const struct tar_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        size_t n = strlen(l->items[i].name);
        if (!strcmp(l->items[i].name, name) ||
            (n == strlen(name) + 1 && l->items[i].name[n - 1] == '/' &&
             !strncmp(l->items[i].name, name, n - 1)))
            return &l->items[i];
    }
    ck_abort_msg("no entry '%s' in the layer", name);
    return NULL;
}

START_TEST(layer_tar_headers)
{
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1");
    struct ip_layer_info li;
    make_tree(in);
    touch_all(in, 1600000000, 4321, 8765);
    write_layer(in, false, l1, &li);
    struct tar_list l = read_layer(l1);

    /* imgpkg's names: "." first, directories without a trailing '/' */
    static const char *const order[] = {".", "bin", "bin/tool", "data.txt", "empty", "secret"};
    ck_assert_uint_eq(l.n, IP_ARRAY_SIZE(order));
    for (size_t i = 0; i < l.n; i++) {
        const struct tar_item *t = &l.items[i];
        ck_assert_msg(!strcmp(t->name, order[i]), "entry %zu is '%s', want '%s'", i, t->name,
                      order[i]);
        ck_assert_int_eq(t->mtime, 0);
        ck_assert_int_eq(t->uid, 0);
        ck_assert_int_eq(t->gid, 0);
        ck_assert_msg(t->uname == NULL || t->uname[0] == '\0', "uname '%s'", t->uname);
        ck_assert_msg(t->gname == NULL || t->gname[0] == '\0', "gname '%s'", t->gname);
    }
    /* user bits only: 0755 -> 0700, 0644 -> 0600, 0640 -> 0600, dirs 0700 */
    const struct tar_item *t = find_item(&l, "bin");
    ck_assert_int_eq(t->type, AE_IFDIR);
    ck_assert_uint_eq(t->perm, 0700);
    t = find_item(&l, "bin/tool");
    ck_assert_int_eq(t->type, AE_IFREG);
    ck_assert_uint_eq(t->perm, 0700);
    ck_assert_str_eq(t->data, "#!/bin/sh\necho hi\n");
    t = find_item(&l, "data.txt");
    ck_assert_uint_eq(t->perm, 0600);
    ck_assert_int_eq(t->size, 6);
    ck_assert_str_eq(t->data, "hello\n");
    t = find_item(&l, "empty");
    ck_assert_uint_eq(t->perm, 0600);
    ck_assert_int_eq(t->size, 0);
    t = find_item(&l, "secret");
    ck_assert_uint_eq(t->perm, 0400);
    tar_list_free(&l);

    /* --preserve-permissions keeps the modes as they are */
    write_layer(in, true, l1, &li);
    l = read_layer(l1);
    ck_assert_uint_eq(find_item(&l, "bin")->perm, 0750);
    ck_assert_uint_eq(find_item(&l, "bin/tool")->perm, 0755);
    ck_assert_uint_eq(find_item(&l, "data.txt")->perm, 0644);
    ck_assert_uint_eq(find_item(&l, "empty")->perm, 0640);
    ck_assert_uint_eq(find_item(&l, "secret")->perm, 0400);
    for (size_t i = 0; i < l.n; i++) {
        ck_assert_int_eq(l.items[i].mtime, 0);
        ck_assert_int_eq(l.items[i].uid, 0);
        ck_assert_int_eq(l.items[i].gid, 0);
    }
    tar_list_free(&l);
    free(in);
    free(l1);
    test_tmpdir_cleanup(d);
}
END_TEST

/* The uncompressed layer of a file (gunzipped). */
static struct ip_buf layer_tar_bytes(const char *path)
{
    struct ip_buf b = IP_BUF_INIT;
    gzFile z = gzopen(path, "rb");
    char chunk[4096];
    int k;
    ck_assert_ptr_nonnull(z);
    while ((k = gzread(z, chunk, sizeof(chunk))) > 0)
        ck_assert_int_eq(ip_buf_add(&b, chunk, (size_t)k, NULL), 0);
    gzclose(z);
    return b;
}

START_TEST(layer_headers_in_go_form)
{
    /* the folder imgpkg v0.36 pushed as a bundle: its diff_id, taken from the
     * real imgpkg, is ours too (same entries, same header bytes) */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1");
    struct ip_layer_info li;
    put(in, ".imgpkg/images.yml",
        "---\napiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages: []\n", 0644);
    put(in, "config/cm.yml", "kind: x\n", 0640);
    put(in, "config/sub/v.yml", "a\n", 0644);
    put(in, "run.sh", "#!/bin/sh\n", 0755);
    mkdir_in(in, "empty", 0755);
    write_layer(in, false, l1, &li);
    ck_assert_str_eq(li.diff_id,
                     "sha256:fa7cd5620692d4229e211ed61a754139c3c947fcc9ee21a447a51069b4544d6f");

    struct ip_buf tar = layer_tar_bytes(l1);
    const unsigned char *h = (const unsigned char *)tar.data;
    ck_assert_uint_ge(tar.len, 1024);
    ck_assert_str_eq((const char *)h, ".");      /* name, no '/' */
    ck_assert(!memcmp(h + 100, "0000700\0", 8)); /* mode */
    ck_assert(!memcmp(h + 108,
                      "0000000\0"
                      "0000000\0",
                      16));                           /* uid, gid */
    ck_assert(!memcmp(h + 124, "00000000000\0", 12)); /* size */
    ck_assert(!memcmp(h + 136, "00000000000\0", 12)); /* mtime */
    ck_assert(!memcmp(h + 329,
                      "0000000\0"
                      "0000000\0",
                      16)); /* devmajor, devminor */
    ck_assert_int_eq(h[156], '5');
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    char chk[9];
    snprintf(chk, sizeof(chk), "%06o", sum);
    ck_assert(!memcmp(h + 148, chk, 6) && h[154] == '\0' && h[155] == ' ');
    ck_assert_str_eq((const char *)h + 512, ".imgpkg");
    /* Go ends the archive after two zero blocks: no padding to a record */
    ck_assert_uint_eq(tar.len % 512, 0);
    for (size_t i = tar.len - 1024; i < tar.len; i++)
        ck_assert_int_eq(tar.data[i], 0);
    ip_buf_release(&tar);
    free(in);
    free(l1);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(layer_pax_entries_in_go_form)
{
    /* names ustar cannot hold (over 256 bytes, over 100 without a split,
     * non-ASCII) get pax extensions written as Go writes them: the diff_id
     * is the one the real imgpkg v0.36 gives for this folder, in any locale */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1");
    char d60[61], f90[91], g120[121];
    memset(d60, 'd', 60);
    d60[60] = '\0';
    memset(f90, 'f', 90);
    f90[90] = '\0';
    memset(g120, 'g', 120);
    g120[120] = '\0';
    char *deep = ip_xasprintf("%s/%s/%s/%s/%s.txt", d60, d60, d60, d60, f90);
    put(in, deep, "deep\n", 0644);
    put(in, g120, "long\n", 0644);
    put(in,
        "\xc3\xbc"
        "n\xc3\xaf c\xc3\xb8"
        "d\xc3\xa9.txt",
        "u\n", 0644);
    put(in, "\xe6\x97\xa5\xe6\x9c\xac.yml", "j\n", 0644);
    struct ip_layer_info li;
    write_layer(in, false, l1, &li);
    ck_assert_str_eq(li.diff_id,
                     "sha256:58f4a041e89e0006e90d6f6761415dd883cf3a9ad29a17866e7a3601ca67a02d");
    struct tar_list l = read_layer(l1);
    ck_assert_str_eq(find_item(&l, deep)->data, "deep\n");
    ck_assert_str_eq(find_item(&l, g120)->data, "long\n");
    tar_list_free(&l);
    free(deep);
    free(in);
    free(l1);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(layer_long_names_split_as_go)
{
    /* a path over 100 bytes goes into prefix + name, split at the last '/'
     * that leaves a prefix of at most 155 bytes (Go's rule, not libarchive's) */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1");
    char a[41], b[41];
    memset(a, 'a', 40);
    a[40] = '\0';
    memset(b, 'b', 40);
    b[40] = '\0';
    char *rel = ip_xasprintf("%s/%s/%s/f.txt", a, b, a); /* 128 bytes */
    put(in, rel, "x", 0644);
    struct ip_layer_info li;
    write_layer(in, false, l1, &li);
    struct ip_buf tar = layer_tar_bytes(l1);
    const char *h = tar.data + 4 * 512; /* ".", a, a/b, a/b/a, then the file */
    char *want_prefix = ip_xasprintf("%s/%s/%s", a, b, a);
    ck_assert_str_eq(h + 345, want_prefix);
    ck_assert_str_eq(h, "f.txt");
    /* a directory whose path is 100 bytes with its '/' gone is not split */
    ip_buf_release(&tar);
    free(want_prefix);
    free(rel);
    free(in);
    free(l1);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(layer_large_file)
{
    /* more than one read chunk, and a size that is not a block multiple */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1");
    size_t big = (600u << 10) + 7;
    char *content = ip_xmalloc(big + 1);
    for (size_t i = 0; i < big; i++)
        content[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    content[big] = '\0';
    put(in, "big", content, 0644);
    struct ip_layer_info li;
    write_layer(in, false, l1, &li);
    struct tar_list l = read_layer(l1);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_int_eq(l.items[1].size, (int64_t)big);
    ck_assert(memcmp(l.items[1].data, content, big) == 0);
    tar_list_free(&l);
    free(content);
    free(in);
    free(l1);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(layer_long_names)
{
    /* names over the 100 bytes of a ustar header survive, deterministically */
    char *d = test_tmpdir();
    char *in = path_in(d, "in"), *l1 = path_in(d, "l1"), *l2 = path_in(d, "l2");
    char seg[61];
    memset(seg, 'n', 60);
    seg[60] = '\0';
    char *rel = ip_xasprintf("%s/%s/%s/file-with-a-long-name.txt", seg, seg, seg);
    put(in, rel, "deep", 0644);
    touch_all(in, 1000, 0, 0);
    struct ip_layer_info a, b;
    memset(&b, 0, sizeof(b));
    write_layer(in, false, l1, &a);
    touch_all(in, 2000000000, 1, 1);
    sleep(1);
    /* in another process (nothing like a pid or the time goes into pax headers) */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        write_layer(in, false, l2, &b);
        _exit(0);
    }
    int status = -1;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char dg[IP_DIGEST_SIZE];
    int64_t size;
    file_digest(l2, dg, &size);
    ck_assert_str_eq(a.digest, dg);
    ck_assert_int_eq(a.size, size);
    struct tar_list l = read_layer(l1);
    ck_assert_uint_eq(l.n, 5);
    ck_assert_str_eq(find_item(&l, rel)->data, "deep");
    ck_assert_int_eq(find_item(&l, rel)->mtime, 0);
    tar_list_free(&l);
    free(rel);
    free(in);
    free(l1);
    free(l2);
    test_tmpdir_cleanup(d);
}
END_TEST

/* ---- ip_build ---- */

static char *read_blob(struct ip_store *s, const struct ip_desc *d)
{
    struct ip_reader *r = NULL;
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    ck_assert_msg(ip_store_open_blob(s, d, &r, &err) == 0, "%s", err.msg);
    r = ip_reader_verify(r, d->digest, d->size, "blob");
    ck_assert_msg(ip_reader_slurp(r, 0, &b, &err) == 0, "%s", err.msg);
    ip_reader_free(r);
    ip_buf_adds(&b, "");
    return ip_buf_detach(&b, NULL);
}

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool empty = true;
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = false;
    closedir(d);
    return empty;
}

struct built {
    struct ip_build_result r;
    struct ip_manifest *m;
    struct ip_config cfg;
};

static void build_ok(struct ip_build_opts *o, struct built *b)
{
    struct ip_err err;
    memset(b, 0, sizeof(*b));
    ip_err_clear(&err);
    int rc = ip_build(o, &b->r, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_msg(ip_store_get_manifest(b->r.store, b->r.manifest_digest, &b->m, &err) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(b->m->digest, b->r.manifest_digest);
    ck_assert_str_eq(b->m->media_type, IP_MT_OCI_MANIFEST);
    ck_assert_uint_eq(b->m->n_layers, 1);
    ck_assert_str_eq(b->m->layers[0].media_type, IP_MT_OCI_LAYER_GZIP);
    ck_assert_str_eq(b->m->config.media_type, IP_MT_OCI_CONFIG);
    char *cfg = read_blob(b->r.store, &b->m->config);
    ck_assert_msg(ip_config_parse(cfg, strlen(cfg), &b->cfg, &err) == 0, "%s", err.msg);
    free(cfg);
    /* the config's diff_id is the layer's, uncompressed */
    char did[IP_DIGEST_SIZE];
    ck_assert_ptr_nonnull(b->r.layer_path);
    gunzip_digest(b->r.layer_path, did);
    ck_assert_uint_eq(b->cfg.n_diff_ids, 1);
    ck_assert_str_eq(b->cfg.diff_ids[0], did);
    /* the layer blob in the store is that file */
    char dg[IP_DIGEST_SIZE];
    int64_t size;
    file_digest(b->r.layer_path, dg, &size);
    ck_assert_str_eq(b->m->layers[0].digest, dg);
    ck_assert_int_eq(b->m->layers[0].size, size);
}

static void built_release(struct built *b)
{
    ip_manifest_free(b->m);
    ip_config_release(&b->cfg);
    ip_build_result_release(&b->r);
}

static void build_fails(struct ip_build_opts *o, enum ip_code code, const char *msg_part)
{
    struct ip_build_result r;
    struct ip_err err;
    memset(&r, 0, sizeof(r));
    ip_err_clear(&err);
    int rc = ip_build(o, &r, &err);
    ck_assert_msg(rc == -(int)code, "rc %d, want %d (%s)", rc, -(int)code, err.msg);
    ck_assert_msg(strstr(err.msg, msg_part) != NULL, "'%s' not in '%s'", msg_part, err.msg);
    ck_assert_ptr_null(r.store);
}

START_TEST(build_bundle_and_image)
{
    char *d = test_tmpdir();
    char *bundle = path_in(d, "bundle"), *image = path_in(d, "image"), *tmp = path_in(d, "tmp");
    put(bundle, ".imgpkg/images.yml", VALID_LOCK, 0644);
    put(bundle, "config.yml", "a: 1\n", 0644);
    put(image, "config.yml", "a: 1\n", 0644);
    mkdir_in(d, "tmp", 0755);
    struct ip_kv labels[] = {{(char *)"zeta", (char *)"last"}, {(char *)"alpha", (char *)"first"}};
    struct ip_build_opts o;
    struct built b, i, b2;

    const char *pb[] = {bundle};
    opts_init(&o, pb, 1);
    o.tmp_dir = tmp;
    o.labels = labels;
    o.n_labels = 2;
    build_ok(&o, &b);
    ck_assert(b.r.is_bundle);
    ck_assert_str_eq(ip_config_label(&b.cfg, IP_LABEL_BUNDLE), "true");
    ck_assert_str_eq(ip_config_label(&b.cfg, "alpha"), "first");
    ck_assert_str_eq(ip_config_label(&b.cfg, "zeta"), "last");
    /* the layer file is in tmp_dir while the result lives */
    char *dir_of_layer = ip_dirname(b.r.layer_path);
    ck_assert_str_eq(dir_of_layer, tmp);
    free(dir_of_layer);
    struct tar_list l = read_layer(b.r.layer_path);
    ck_assert_uint_eq(l.n, 4);
    find_item(&l, ".imgpkg");
    ck_assert_str_eq(find_item(&l, ".imgpkg/images.yml")->data, VALID_LOCK);
    find_item(&l, "config.yml");
    tar_list_free(&l);

    /* the same input builds the same image */
    build_ok(&o, &b2);
    ck_assert_str_eq(b.r.manifest_digest, b2.r.manifest_digest);
    built_release(&b2);

    /* kind BUNDLE says the same */
    o.kind = IP_BUILD_BUNDLE;
    build_ok(&o, &b2);
    ck_assert(b2.r.is_bundle);
    ck_assert_str_eq(b.r.manifest_digest, b2.r.manifest_digest);
    built_release(&b2);

    /* a folder without .imgpkg is an image */
    const char *pi[] = {image};
    opts_init(&o, pi, 1);
    o.tmp_dir = tmp;
    build_ok(&o, &i);
    ck_assert(!i.r.is_bundle);
    ck_assert_ptr_null(ip_config_label(&i.cfg, IP_LABEL_BUNDLE));
    ck_assert_uint_eq(i.cfg.n_labels, 0);
    ck_assert_str_ne(i.r.manifest_digest, b.r.manifest_digest);
    o.kind = IP_BUILD_IMAGE;
    build_ok(&o, &b2);
    ck_assert(!b2.r.is_bundle);
    ck_assert_str_eq(i.r.manifest_digest, b2.r.manifest_digest);
    built_release(&b2);

    built_release(&b);
    built_release(&i);
    /* releasing a result removes its layer file */
    ck_assert(dir_is_empty(tmp));
    free(bundle);
    free(image);
    free(tmp);
    test_tmpdir_cleanup(d);
}
END_TEST

START_TEST(build_refusals)
{
    char *d = test_tmpdir();
    char *bundle = path_in(d, "bundle"), *image = path_in(d, "image"), *tmp = path_in(d, "tmp"),
         *nested = path_in(d, "nested"), *nolock = path_in(d, "nolock"),
         *badlock = path_in(d, "badlock"), *other = path_in(d, "other");
    put(bundle, ".imgpkg/images.yml", VALID_LOCK, 0644);
    put(bundle, "f", "f", 0644);
    put(other, ".imgpkg/images.yml", VALID_LOCK, 0644);
    put(image, "f", "f", 0644);
    put(nested, "sub/.imgpkg/images.yml", VALID_LOCK, 0644);
    mkdir_in(nolock, ".imgpkg", 0755);
    put(badlock, ".imgpkg/images.yml",
        "apiVersion: imgpkg.carvel.dev/v1alpha1\nkind: ImagesLock\nimages:\n"
        "- image: example.com/app:v1\n",
        0644);
    mkdir_in(d, "tmp", 0755);
    struct ip_build_opts o;

    /* an image cannot carry .imgpkg */
    const char *pb[] = {bundle};
    opts_init(&o, pb, 1);
    o.tmp_dir = tmp;
    o.kind = IP_BUILD_IMAGE;
    build_fails(&o, IP_E_INPUT, "Images cannot be pushed with '.imgpkg' directories");

    /* the bundle label is the tool's */
    struct ip_kv reserved[] = {{(char *)"x", (char *)"y"},
                               {(char *)IP_LABEL_BUNDLE, (char *)"false"}};
    opts_init(&o, pb, 1);
    o.tmp_dir = tmp;
    o.labels = reserved;
    o.n_labels = 2;
    build_fails(&o, IP_E_USAGE, "label 'dev.carvel.imgpkg.bundle' is reserved");
    const char *pi[] = {image};
    opts_init(&o, pi, 1);
    o.tmp_dir = tmp;
    o.labels = reserved;
    o.n_labels = 2;
    build_fails(&o, IP_E_USAGE, "is reserved");

    /* a bundle needs .imgpkg/images.yml, once, at the top of an input */
    opts_init(&o, pi, 1);
    o.tmp_dir = tmp;
    o.kind = IP_BUILD_BUNDLE;
    build_fails(&o, IP_E_INPUT, "This directory is not a bundle. It is missing .imgpkg/images.yml");
    const char *pn[] = {nested};
    opts_init(&o, pn, 1);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_INPUT, "Expected '.imgpkg' directory, to be a direct child of one of:");
    const char *pl[] = {nolock};
    opts_init(&o, pl, 1);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_INPUT, "The bundle expected .imgpkg/images.yml to exist");
    const char *pbad[] = {badlock};
    opts_init(&o, pbad, 1);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_FORMAT, "Expected ref to be in digest form");
    /* two inputs with .imgpkg: two bundle definitions (not just duplicate paths) */
    const char *p2[] = {bundle, other};
    opts_init(&o, p2, 2);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_INPUT, "This directory contains multiple bundle definitions");
    o.kind = IP_BUILD_IMAGE;
    build_fails(&o, IP_E_INPUT, "Images cannot be pushed with '.imgpkg' directories");
    /* one input with two .imgpkg directories */
    put(bundle, "sub/.imgpkg/images.yml", VALID_LOCK, 0644);
    opts_init(&o, pb, 1);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_INPUT, "This directory contains multiple bundle definitions");
    char *subdot = path_in(bundle, "sub");
    ip_remove_tree(subdot);
    free(subdot);
    /* an input that is itself .imgpkg is not at the top of the layer */
    char *dot = path_in(bundle, ".imgpkg");
    const char *pdot[] = {dot};
    opts_init(&o, pdot, 1);
    o.tmp_dir = tmp;
    build_fails(&o, IP_E_INPUT, "Expected '.imgpkg' directory, to be a direct child");
    free(dot);

    /* nothing was left behind */
    ck_assert(dir_is_empty(tmp));
    free(bundle);
    free(image);
    free(tmp);
    free(nested);
    free(nolock);
    free(badlock);
    free(other);
    test_tmpdir_cleanup(d);
}
END_TEST

Suite *suite_build(void)
{
    Suite *s = suite_create("build");
    TCase *tc = tcase_create("collect");
    tcase_add_test(tc, collect_walk_order);
    tcase_add_test(tc, collect_inputs_in_order);
    tcase_add_test(tc, collect_file_input_is_basename);
    tcase_add_test(tc, collect_exclusions);
    tcase_add_test(tc, collect_exclusion_skips_bad_subtree);
    tcase_add_test(tc, collect_duplicates_refused);
    tcase_add_test(tc, collect_refuses_symlinks);
    tcase_add_test(tc, collect_missing_path);
    suite_add_tcase(s, tc);
    tc = tcase_create("layer");
    tcase_add_test(tc, layer_is_deterministic);
    tcase_add_test(tc, layer_mode_matters_only_as_kept);
    tcase_add_test(tc, layer_tar_headers);
    tcase_add_test(tc, layer_large_file);
    tcase_add_test(tc, layer_headers_in_go_form);
    tcase_add_test(tc, layer_long_names_split_as_go);
    tcase_add_test(tc, layer_pax_entries_in_go_form);
    tcase_add_test(tc, layer_long_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("image");
    tcase_add_test(tc, build_bundle_and_image);
    tcase_add_test(tc, build_refusals);
    suite_add_tcase(s, tc);
    return s;
}
