/* test-extract.c - extracting an image's layers into a directory: files,
 * directories, modes (imgpkg's rule and kept), links that stay inside,
 * whiteouts across layers, and every hostile layer refused with nothing
 * written outside the directory. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "imgpkg/extract.h"
#include "suites.h"
#include "store/store-private.h"

#define MTIME 1500000000

/* One tar entry: 'f' file (arg: content), 'z' file of `zeros` zero bytes,
 * 'd' directory, 'l' symlink (arg: target), 'h' hardlink (arg: target),
 * 'c' character device, 'b' block device, 'p' FIFO. */
struct tentry {
    char type;
    const char *name;
    const char *arg;
    int mode;
    int64_t zeros;
};
/* clang-format off */
#define END {0, NULL, NULL, 0, 0}
/* clang-format on */

enum compression { GZIP, PLAIN, ZSTD };

static bool utf8_headers;

static la_ssize_t buf_write(struct archive *a, void *p, const void *data, size_t n)
{
    struct ip_err err;
    ck_assert_int_eq(ip_buf_add(p, data, n, &err), 0);
    return (la_ssize_t)n;
}

/* Builds a layer in memory; false when the compression is not available. */
static bool make_layer(const struct tentry *t, enum compression c, struct ip_buf *out)
{
    struct archive *a = archive_write_new();
    static char zeros[1 << 16];
    archive_write_set_format_pax_restricted(a);
    /* names are bytes, whatever the locale (unless a test wants UTF-8 records) */
    if (!utf8_headers)
        ck_assert_int_eq(archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY"),
                         ARCHIVE_OK);
    if (c == GZIP)
        ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    if (c == ZSTD && archive_write_add_filter_zstd(a) != ARCHIVE_OK) {
        archive_write_free(a);
        return false;
    }
    archive_write_set_bytes_in_last_block(a, 1);
    ip_buf_init(out, 0);
    ck_assert_int_eq(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
    for (; t->type; t++) {
        struct archive_entry *e = archive_entry_new();
        int64_t size = 0;
        archive_entry_set_pathname(e, t->name);
        archive_entry_set_mtime(e, MTIME, 0);
        archive_entry_set_perm(e, (mode_t)(t->mode ? t->mode : 0644));
        switch (t->type) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            size = (int64_t)strlen(t->arg);
            break;
        case 'z':
            archive_entry_set_filetype(e, AE_IFREG);
            size = t->zeros;
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, (mode_t)(t->mode ? t->mode : 0755));
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, t->arg);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, t->arg);
            break;
        case 'c':
        case 'b':
            archive_entry_set_filetype(e, t->type == 'c' ? AE_IFCHR : AE_IFBLK);
            archive_entry_set_rdevmajor(e, 1);
            archive_entry_set_rdevminor(e, 3);
            break;
        case 'p':
            archive_entry_set_filetype(e, AE_IFIFO);
            break;
        default:
            ck_abort_msg("bad test entry type %c", t->type);
        }
        archive_entry_set_size(e, size);
        ck_assert_msg(archive_write_header(a, e) == ARCHIVE_OK, "%s: %s", t->name,
                      archive_error_string(a));
        if (t->type == 'f')
            ck_assert_int_eq(archive_write_data(a, t->arg, (size_t)size), size);
        for (int64_t left = size; t->type == 'z' && left > 0;) {
            size_t k = left < (int64_t)sizeof(zeros) ? (size_t)left : sizeof(zeros);
            ck_assert_int_eq(archive_write_data(a, zeros, k), (la_ssize_t)k);
            left -= (int64_t)k;
        }
        archive_entry_free(e);
    }
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    return true;
}

struct fx {
    char *tmp;
    char *out;
    char *sentinel;
    struct ip_store *s;
    struct ip_manifest *m;
    struct ip_buf layers;        /* the "layers" JSON array so far */
    struct ip_buf last;          /* bytes of the last layer added */
    char digest[IP_DIGEST_SIZE]; /* of the last layer added */
    mode_t old_umask;
};

static void fx_init(struct fx *f)
{
    struct ip_err err;
    memset(f, 0, sizeof(*f));
    f->old_umask = umask(022);
    f->tmp = test_tmpdir();
    f->out = ip_path_join(f->tmp, "out");
    ck_assert_int_eq(ip_mkdirs(f->out, &err), 0);
    f->sentinel = ip_path_join(f->tmp, "sentinel");
    test_write_file(f->sentinel, "sentinel\n", 0644);
    f->s = ip_store_mem_new();
    ip_buf_init(&f->layers, 0);
    ip_buf_init(&f->last, 0);
}

/* Adds a layer; flip_at >= 0 stores it with that byte changed (digest of the original). */
static bool fx_add(struct fx *f, const struct tentry *t, enum compression c, long flip_at)
{
    struct ip_desc d;
    const char *mt = c == GZIP   ? IP_MT_OCI_LAYER_GZIP
                     : c == ZSTD ? IP_MT_OCI_LAYER_ZSTD
                                 : IP_MT_OCI_LAYER_TAR;
    ip_buf_release(&f->last);
    if (!make_layer(t, c, &f->last))
        return false;
    memset(&d, 0, sizeof(d));
    d.media_type = (char *)mt;
    d.size = (int64_t)f->last.len;
    ip_sha256_of(f->last.data, f->last.len, d.digest);
    memcpy(f->digest, d.digest, IP_DIGEST_SIZE);
    if (flip_at >= 0) {
        ck_assert_int_lt(flip_at, (long)f->last.len);
        f->last.data[flip_at] ^= 0x01;
    }
    ip_store_mem_add_blob(f->s, &d, f->last.data);
    ip_buf_printf(&f->layers, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
                  f->layers.len ? "," : "", mt, d.digest, (long long)d.size);
    return true;
}

static void fx_manifest(struct fx *f)
{
    struct ip_buf j = IP_BUF_INIT;
    struct ip_err err;
    char cfg[IP_DIGEST_SIZE];
    ip_sha256_of("{}", 2, cfg);
    ip_buf_init(&j, 0);
    ip_buf_printf(&j,
                  "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
                  "\"digest\":\"%s\",\"size\":2},\"layers\":[%s]}",
                  IP_MT_OCI_MANIFEST, IP_MT_OCI_CONFIG, cfg, f->layers.data ? f->layers.data : "");
    ip_manifest_free(f->m);
    f->m = NULL;
    ck_assert_msg(ip_manifest_parse(j.data, j.len, NULL, &f->m, &err) == 0, "%s", err.msg);
    ip_buf_release(&j);
}

static int fx_extract(struct fx *f, const struct ip_extract_opts *o, struct ip_err *err)
{
    char before[4096], after[4096];
    fx_manifest(f);
    ck_assert_ptr_nonnull(getcwd(before, sizeof(before)));
    ip_err_clear(err);
    int rc = ip_extract_image(f->s, f->m, f->out, o, err);
    ck_assert_ptr_nonnull(getcwd(after, sizeof(after)));
    ck_assert_str_eq(before, after);
    if (rc < 0) {
        ck_assert_int_eq(rc, -(int)err->code);
        ck_assert_ptr_null(strchr(err->msg, '\n'));
    }
    return rc;
}

static void fx_release(struct fx *f)
{
    ip_manifest_free(f->m);
    ip_store_free(f->s);
    ip_buf_release(&f->layers);
    ip_buf_release(&f->last);
    free(f->out);
    free(f->sentinel);
    test_tmpdir_cleanup(f->tmp);
    umask(f->old_umask);
}

static char *out_path(const struct fx *f, const char *rel)
{
    return ip_path_join(f->out, rel);
}

static void assert_file(const struct fx *f, const char *rel, const char *content, int mode)
{
    char *p = out_path(f, rel);
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    struct stat st;
    ck_assert_msg(lstat(p, &st) == 0, "%s missing", rel);
    ck_assert_msg(S_ISREG(st.st_mode), "%s not a file", rel);
    if (mode >= 0)
        ck_assert_msg((int)(st.st_mode & 07777) == mode, "%s: mode %o, want %o", rel,
                      (unsigned)(st.st_mode & 07777), (unsigned)mode);
    if (content) {
        chmod(p, 0644);
        ck_assert_int_eq(ip_read_file(p, 1 << 20, &b, &err), 0);
        ck_assert_str_eq(b.data ? b.data : "", content);
        ip_buf_release(&b);
    }
    free(p);
}

static void assert_dir(const struct fx *f, const char *rel, int mode)
{
    char *p = out_path(f, rel);
    struct stat st;
    ck_assert_msg(lstat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s not a directory", rel);
    if (mode >= 0)
        ck_assert_msg((int)(st.st_mode & 07777) == mode, "%s: mode %o, want %o", rel,
                      (unsigned)(st.st_mode & 07777), (unsigned)mode);
    free(p);
}

static void assert_absent(const struct fx *f, const char *rel)
{
    char *p = out_path(f, rel);
    struct stat st;
    ck_assert_msg(lstat(p, &st) < 0 && errno == ENOENT, "%s should not exist", rel);
    free(p);
}

/* Nothing but out/ and the untouched sentinel next to out/. */
static void assert_contained(const struct fx *f)
{
    struct ip_buf b = IP_BUF_INIT;
    struct ip_err err;
    struct stat st;
    DIR *d = opendir(f->tmp);
    struct dirent *de;
    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        ck_assert_msg(!strcmp(de->d_name, "out") || !strcmp(de->d_name, "sentinel"),
                      "'%s' appeared next to the extraction directory", de->d_name);
    }
    closedir(d);
    ck_assert_int_eq(ip_read_file(f->sentinel, 1024, &b, &err), 0);
    ck_assert_str_eq(b.data, "sentinel\n");
    ip_buf_release(&b);
    ck_assert_int_eq(lstat(f->sentinel, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0644);
    ck_assert_int_ne(lstat("/etc/x", &st), 0);
}

/* One layer, refused with `code`; the message names the layer and has `needle`. */
static void expect_refused(const struct tentry *t, enum ip_code code, const char *needle)
{
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, t, GZIP, -1);
    int rc = fx_extract(&f, NULL, &err);
    ck_assert_msg(rc == -(int)code, "rc %d (want %d): %s", rc, -(int)code, err.msg);
    ck_assert_msg(strstr(err.msg, f.digest) != NULL, "no layer digest in: %s", err.msg);
    if (needle)
        ck_assert_msg(strstr(err.msg, needle) != NULL, "'%s' not in: %s", needle, err.msg);
    assert_contained(&f);
    fx_release(&f);
}

START_TEST(files_dirs_and_imgpkg_modes)
{
    static const struct tentry l[] = {
        {'d', "./", NULL, 0755, 0},
        {'d', "./dir/", NULL, 0500, 0},
        {'f', "./dir/exec", "#!/bin/sh\n", 0700, 0},
        {'f', "dir/plain", "plain\n", 0600, 0},
        {'f', "dir//sub/deep.txt", "deep\n", 0640, 0},
        {'f', "ro", "read only\n", 0400, 0},
        {'f', "suid", "s\n", 04755, 0},
        {'f', "empty", "", 0644, 0},
        END,
    };
    struct fx f;
    struct ip_err err;
    struct stat st;
    fx_init(&f);
    fx_add(&f, l, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    /* perm = u | u>>3 | u>>6, then umask 022; directories at least u+rwx */
    assert_dir(&f, "dir", 0755);
    assert_dir(&f, "dir/sub", 0755);
    assert_file(&f, "dir/exec", "#!/bin/sh\n", 0755);
    assert_file(&f, "dir/plain", "plain\n", 0644);
    assert_file(&f, "dir/sub/deep.txt", "deep\n", 0644);
    assert_file(&f, "ro", NULL, 0444);
    assert_file(&f, "suid", "s\n", 0755);
    assert_file(&f, "empty", "", 0644);
    char *p = out_path(&f, "dir/plain");
    ck_assert_int_eq(lstat(p, &st), 0);
    ck_assert_int_eq(st.st_mtime, MTIME);
    free(p);
    assert_contained(&f);
    fx_release(&f);

    /* another umask: imgpkg has no explicit chmod */
    fx_init(&f);
    umask(077);
    fx_add(&f, l, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "dir/exec", NULL, 0700);
    assert_file(&f, "dir/plain", NULL, 0600);
    assert_dir(&f, "dir", 0700);
    fx_release(&f);
}
END_TEST

START_TEST(kept_permissions)
{
    static const struct tentry l[] = {
        {'d', "dir", NULL, 0500, 0},
        {'d', "open", NULL, 0777, 0},
        {'f', "dir/a", "a\n", 0640, 0},
        {'f', "b", "b\n", 0604, 0},
        {'f', "suid", "s\n", 06755, 0},
        {'f', "none", "n\n", 0000, 0},
        END,
    };
    struct fx f;
    struct ip_err err;
    struct ip_extract_opts o = {.keep_permissions = true};
    fx_init(&f);
    fx_add(&f, l, GZIP, -1);
    ck_assert_msg(fx_extract(&f, &o, &err) == 0, "%s", err.msg);
    assert_dir(&f, "dir", 0700);  /* u+rwx added */
    assert_dir(&f, "open", 0777); /* exactly, umask or not */
    assert_file(&f, "dir/a", "a\n", 0640);
    assert_file(&f, "b", "b\n", 0604);
    assert_file(&f, "suid", "s\n", 0755); /* no setuid, setgid */
    fx_release(&f);
}
END_TEST

START_TEST(links_inside)
{
    static const struct tentry l[] = {
        {'d', "dir", NULL, 0755, 0},
        {'f', "dir/f", "target\n", 0644, 0},
        {'l', "link", "dir/f", 0, 0},
        {'l', "dir/up", "../dir/./f", 0, 0},
        {'l', "dir/self", ".", 0, 0},
        {'l', "dangling", "nowhere/at/all", 0, 0},
        {'h', "hard", "dir/f", 0, 0},
        {'h', "dir/hard2", "./dir/f", 0, 0},
        END,
    };
    struct fx f;
    struct ip_err err;
    char buf[256];
    struct stat a, b;
    fx_init(&f);
    fx_add(&f, l, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    char *p = out_path(&f, "link");
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "dir/f");
    free(p);
    p = out_path(&f, "dir/up");
    n = readlink(p, buf, sizeof(buf) - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "../dir/./f");
    ck_assert_int_eq(stat(p, &a), 0);
    free(p);
    p = out_path(&f, "dir/f");
    ck_assert_int_eq(stat(p, &b), 0);
    ck_assert_uint_eq(a.st_ino, b.st_ino);
    free(p);
    p = out_path(&f, "hard");
    ck_assert_int_eq(lstat(p, &a), 0);
    ck_assert_uint_eq(a.st_ino, b.st_ino);
    ck_assert_uint_eq(b.st_nlink, 3);
    free(p);
    assert_file(&f, "dir/hard2", "target\n", -1);
    assert_contained(&f);
    fx_release(&f);
}
END_TEST

START_TEST(later_layers_replace)
{
    static const struct tentry l1[] = {
        {'d', "sub", NULL, 0755, 0},       {'f', "sub/f", "original\n", 0644, 0},
        {'l', "l", "sub/f", 0, 0},         {'d', "d", NULL, 0755, 0},
        {'f', "d/deep/x", "x\n", 0644, 0}, {'f', "f", "file\n", 0644, 0},
        {'l', "ld", "sub", 0, 0},          END,
    };
    static const struct tentry l2[] = {
        /* a file over a symlink replaces the symlink, never writes through it */
        {'f', "l", "new\n", 0600, 0},
        /* a file over a non-empty directory, a directory over a file */
        {'f', "d", "was a dir\n", 0644, 0},
        {'d', "f", NULL, 0755, 0},
        {'f', "f/in", "in\n", 0644, 0},
        /* a directory over a symlink to a directory */
        {'d', "ld", NULL, 0755, 0},
        {'f', "ld/g", "g\n", 0644, 0},
        {'f', "\303\274n\303\257code.txt", "u\n", 0644, 0},
        END,
    };
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, l1, GZIP, -1);
    fx_add(&f, l2, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "sub/f", "original\n", 0644);
    assert_file(&f, "l", "new\n", 0644);
    assert_file(&f, "d", "was a dir\n", 0644);
    assert_file(&f, "f/in", "in\n", 0644);
    assert_dir(&f, "ld", 0755);
    assert_file(&f, "ld/g", "g\n", 0644);
    assert_absent(&f, "sub/g");
    assert_file(&f, "\303\274n\303\257code.txt", "u\n", 0644);
    assert_contained(&f);
    fx_release(&f);
}
END_TEST

START_TEST(utf8_names_in_c_locale)
{
    /* as Go and Docker write them: pax "path" and "linkpath" records in UTF-8 */
    static const struct tentry l[] = {
        {'f', "\303\274n\303\257code.txt", "u\n", 0644, 0},
        {'l', "l", "\303\274n\303\257code.txt", 0, 0},
        END,
    };
    struct fx f;
    struct ip_err err;
    char buf[64];
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        return;
    fx_init(&f);
    utf8_headers = true;
    fx_add(&f, l, GZIP, -1);
    utf8_headers = false;
    setlocale(LC_CTYPE, "C");
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "\303\274n\303\257code.txt", "u\n", 0644);
    char *p = out_path(&f, "l");
    ssize_t n = readlink(p, buf, sizeof(buf) - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "\303\274n\303\257code.txt");
    free(p);
    fx_release(&f);
}
END_TEST

START_TEST(relative_paths)
{
    /* a relative output directory, and a store that opens blobs by relative paths */
    static const struct tentry l[] = {{'f', "a", "a\n", 0644, 0}, END};
    struct fx f;
    struct ip_err err;
    struct ip_desc d;
    char here[4096];
    fx_init(&f);
    fx_add(&f, l, GZIP, -1);
    fx_manifest(&f);
    char *blobs = ip_path_join(f.tmp, "out/../blobs");
    char *bpath = ip_path_join(blobs, "layer");
    ck_assert_int_eq(ip_mkdirs(blobs, &err), 0);
    ck_assert_int_eq(ip_write_file_atomic(bpath, f.last.data, f.last.len, 0644, &err), 0);
    struct ip_store *s = ip_store_mem_new();
    memset(&d, 0, sizeof(d));
    d.media_type = (char *)IP_MT_OCI_LAYER_GZIP;
    d.size = (int64_t)f.last.len;
    memcpy(d.digest, f.digest, IP_DIGEST_SIZE);
    ip_store_mem_add_file_blob(s, &d, "blobs/layer");
    ck_assert_ptr_nonnull(getcwd(here, sizeof(here)));
    ck_assert_int_eq(chdir(f.tmp), 0);
    int rc = ip_extract_image(s, f.m, "out", NULL, &err);
    ck_assert_int_eq(chdir(here), 0);
    ck_assert_msg(rc == 0, "%s", err.msg);
    assert_file(&f, "a", "a\n", 0644);
    ip_store_free(s);
    free(bpath);
    free(blobs);
    fx_release(&f);
}
END_TEST

START_TEST(plain_and_zstd_layers)
{
    static const struct tentry l1[] = {{'f', "a", "plain tar\n", 0644, 0}, END};
    static const struct tentry l2[] = {{'f', "b", "zstd tar\n", 0644, 0}, END};
    static const struct tentry empty[] = {END};
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, l1, PLAIN, -1);
    fx_add(&f, empty, GZIP, -1);
    bool zstd = fx_add(&f, l2, ZSTD, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "a", "plain tar\n", 0644);
    if (zstd)
        assert_file(&f, "b", "zstd tar\n", 0644);
    fx_release(&f);
}
END_TEST

START_TEST(refuses_dotdot)
{
    static const struct tentry a[] = {
        {'f', "ok", "ok\n", 0644, 0}, {'f', "../x", "x\n", 0644, 0}, END};
    static const struct tentry b[] = {
        {'d', "a", NULL, 0755, 0}, {'f', "a/../../x", "x\n", 0644, 0}, END};
    static const struct tentry c[] = {{'d', "a/..", NULL, 0755, 0}, END};
    expect_refused(a, IP_E_INPUT, "entry '../x'");
    expect_refused(b, IP_E_INPUT, "entry 'a/../../x'");
    expect_refused(c, IP_E_INPUT, "'..'");
}
END_TEST

START_TEST(refuses_absolute)
{
    static const struct tentry a[] = {{'f', "/etc/x", "x\n", 0644, 0}, END};
    struct fx f;
    struct ip_err err;
    expect_refused(a, IP_E_INPUT, "entry '/etc/x': absolute name");

    /* an absolute name that would land right next to the directory */
    fx_init(&f);
    char *abs = ip_path_join(f.tmp, "x");
    struct tentry b[] = {{'f', abs, "x\n", 0644, 0}, END};
    fx_add(&f, b, GZIP, -1);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_INPUT);
    ck_assert_msg(strstr(err.msg, "absolute") != NULL, "%s", err.msg);
    assert_contained(&f);
    free(abs);
    fx_release(&f);
}
END_TEST

START_TEST(refuses_symlinks_leaving)
{
    static const struct tentry a[] = {{'l', "l", "/etc", 0, 0}, {'f', "l/x", "x\n", 0644, 0}, END};
    static const struct tentry b[] = {{'l', "l", "../../x", 0, 0}, END};
    static const struct tentry c[] = {
        {'d', "sub", NULL, 0755, 0}, {'l', "sub/l", "../../x", 0, 0}, END};
    static const struct tentry d[] = {{'l', "l", "..", 0, 0}, END};
    /* lexically inside, but "a" is a symlink to "." so a/.. is the parent */
    static const struct tentry e[] = {{'l', "a", ".", 0, 0}, {'l', "b", "a/..", 0, 0}, END};
    static const struct tentry g[] = {
        {'d', "in", NULL, 0755, 0}, {'l', "in/l", "sub/../../..", 0, 0}, END};
    expect_refused(a, IP_E_INPUT, "entry 'l': symlink with an absolute target ('/etc')");
    expect_refused(b, IP_E_INPUT, "leaves the directory");
    expect_refused(c, IP_E_INPUT, "entry 'sub/l'");
    expect_refused(d, IP_E_INPUT, "leaves the directory");
    expect_refused(e, IP_E_INPUT, "entry 'b'");
    expect_refused(g, IP_E_INPUT, "'..' after a name");
}
END_TEST

START_TEST(refuses_writing_through_symlinks)
{
    /* same layer: the name was a symlink, so nothing goes inside it */
    static const struct tentry a[] = {
        {'d', "sub", NULL, 0755, 0}, {'l', "l", "sub", 0, 0}, {'f', "l/x", "x\n", 0644, 0}, END};
    static const struct tentry l1[] = {
        {'d', "sub", NULL, 0755, 0}, {'f', "sub/f", "f\n", 0644, 0}, {'l', "l", "sub", 0, 0}, END};
    static const struct tentry l2[] = {{'f', "l/x", "x\n", 0644, 0}, END};
    static const struct tentry l3[] = {{'f', "l/.wh.f", "", 0644, 0}, END};
    struct fx f;
    struct ip_err err;
    expect_refused(a, IP_E_INPUT, "'l' is a symlink in this layer");

    /* across layers: libarchive's SECURE_SYMLINKS refuses */
    fx_init(&f);
    fx_add(&f, l1, GZIP, -1);
    fx_add(&f, l2, GZIP, -1);
    int rc = fx_extract(&f, NULL, &err);
    ck_assert_msg(rc < 0, "written through a symlink");
    ck_assert_msg(strstr(err.msg, f.digest) && strstr(err.msg, "entry 'l/x'"), "%s", err.msg);
    assert_absent(&f, "sub/x");
    assert_contained(&f);
    fx_release(&f);

    /* a whiteout does not act through a symlink either */
    fx_init(&f);
    fx_add(&f, l1, GZIP, -1);
    fx_add(&f, l3, GZIP, -1);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_INPUT);
    ck_assert_msg(strstr(err.msg, "whiteout inside a symlink"), "%s", err.msg);
    assert_file(&f, "sub/f", "f\n", -1);
    fx_release(&f);
}
END_TEST

START_TEST(refuses_hardlinks_leaving)
{
    static const struct tentry a[] = {{'h', "pw", "/etc/passwd", 0, 0}, END};
    static const struct tentry b[] = {{'h', "h", "../x", 0, 0}, END};
    static const struct tentry c[] = {{'h', "h", "not-there", 0, 0}, END};
    /* a hardlink to a symlink would be read from another directory */
    static const struct tentry d[] = {{'d', "sub", NULL, 0755, 0},
                                      {'l', "sub/l", "../f", 0, 0},
                                      {'h', "sub2/h", "sub/l", 0, 0},
                                      END};
    static const struct tentry e[] = {{'f', "f", "f\n", 0644, 0}, {'h', "f", "f", 0, 0}, END};
    expect_refused(a, IP_E_INPUT, "entry 'pw': hardlink to '/etc/passwd', outside");
    expect_refused(b, IP_E_INPUT, "hardlink to '../x', outside");
    expect_refused(c, IP_E_INPUT, "not an earlier entry");
    expect_refused(d, IP_E_INPUT, "not a regular file");
    expect_refused(e, IP_E_INPUT, "hardlink to itself");
}
END_TEST

START_TEST(refuses_devices_and_fifos)
{
    static const struct tentry a[] = {{'c', "null", NULL, 0666, 0}, END};
    static const struct tentry b[] = {{'b', "disk", NULL, 0660, 0}, END};
    static const struct tentry c[] = {{'p', "fifo", NULL, 0644, 0}, END};
    expect_refused(a, IP_E_UNSUPPORTED, "entry 'null': character devices");
    expect_refused(b, IP_E_UNSUPPORTED, "entry 'disk': block devices");
    expect_refused(c, IP_E_UNSUPPORTED, "entry 'fifo': FIFOs");
}
END_TEST

START_TEST(refuses_bombs)
{
    static const struct tentry a[] = {{'z', "zeros", NULL, 0644, 10 << 20}, END};
    struct ip_extract_opts o = {.max_bytes = 1 << 20};
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, a, GZIP, -1);
    ck_assert_uint_lt(f.last.len, 100 << 10);
    ck_assert_int_eq(fx_extract(&f, &o, &err), -IP_E_TOOBIG);
    ck_assert_msg(strstr(err.msg, "entry 'zeros'") && strstr(err.msg, f.digest), "%s", err.msg);
    assert_absent(&f, "zeros");
    assert_contained(&f);
    /* the same layer fits the default cap */
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    fx_release(&f);

    /* the total over two layers counts */
    static const struct tentry half[] = {{'z', "half", NULL, 0644, 600 << 10}, END};
    fx_init(&f);
    fx_add(&f, half, GZIP, -1);
    fx_add(&f, half, GZIP, -1);
    ck_assert_int_eq(fx_extract(&f, &o, &err), -IP_E_TOOBIG);
    fx_release(&f);

    /* headers alone: many empty files make a tar stream over the cap */
    struct tentry many[401];
    char names[400][16];
    for (int i = 0; i < 400; i++) {
        snprintf(names[i], sizeof(names[i]), "f%03d", i);
        many[i] = (struct tentry){'f', names[i], "", 0644, 0};
    }
    many[400] = (struct tentry)END;
    o.max_bytes = 64 << 10;
    fx_init(&f);
    fx_add(&f, many, GZIP, -1);
    ck_assert_int_eq(fx_extract(&f, &o, &err), -IP_E_TOOBIG);
    ck_assert_msg(strstr(err.msg, "uncompress to more than"), "%s", err.msg);
    fx_release(&f);
}
END_TEST

START_TEST(refuses_corrupt_layer)
{
    static const struct tentry a[] = {
        {'f', "a", "some content\n", 0644, 0}, {'z', "zeros", NULL, 0644, 100000}, END};
    struct fx f;
    struct ip_err err;
    /* inside the deflate data */
    fx_init(&f);
    fx_add(&f, a, GZIP, -1);
    size_t len = f.last.len;
    fx_release(&f);
    fx_init(&f);
    fx_add(&f, a, GZIP, (long)(len / 2));
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_DIGEST);
    ck_assert_msg(strstr(err.msg, f.digest), "%s", err.msg);
    assert_contained(&f);
    fx_release(&f);
    /* in the gzip header's mtime, which nothing else would notice */
    fx_init(&f);
    fx_add(&f, a, GZIP, 5);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_DIGEST);
    fx_release(&f);
    /* in the last byte (the gzip size trailer) */
    fx_init(&f);
    fx_add(&f, a, GZIP, (long)len - 1);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_DIGEST);
    fx_release(&f);
    /* a plain tar: a changed byte in the padding after the end */
    fx_init(&f);
    fx_add(&f, a, PLAIN, -1);
    len = f.last.len;
    fx_release(&f);
    fx_init(&f);
    fx_add(&f, a, PLAIN, (long)len - 1);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_DIGEST);
    fx_release(&f);
    /* a blob that is not a tar at all */
    fx_init(&f);
    struct ip_desc d;
    memset(&d, 0, sizeof(d));
    d.media_type = (char *)IP_MT_OCI_LAYER_GZIP;
    d.size = 40;
    ip_sha256_of("this is not a tar archive, nor gzip.....", 40, d.digest);
    ip_store_mem_add_blob(f.s, &d, "this is not a tar archive, nor gzip.....");
    ip_buf_printf(&f.layers, "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":40}",
                  IP_MT_OCI_LAYER_GZIP, d.digest);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_FORMAT);
    ck_assert_msg(strstr(err.msg, d.digest), "%s", err.msg);
    fx_release(&f);
}
END_TEST

START_TEST(whiteouts_across_layers)
{
    static const struct tentry l1[] = {
        {'d', "a", NULL, 0755, 0},
        {'f', "a/f1", "1\n", 0644, 0},
        {'f', "a/f2", "2\n", 0644, 0},
        {'d', "b", NULL, 0755, 0},
        {'f', "b/g", "g\n", 0644, 0},
        {'d', "b/d", NULL, 0755, 0},
        {'f', "b/d/h", "h\n", 0644, 0},
        {'f', "c/sub/h", "h\n", 0644, 0},
        {'f', "keep", "k\n", 0644, 0},
        {'d', "o", NULL, 0755, 0},
        {'f', "o/old", "old\n", 0644, 0},
        {'f', "o/d/old", "old\n", 0644, 0},
        {'f', "re", "file\n", 0644, 0},
        {'f', "top", "top\n", 0644, 0},
        END,
    };
    static const struct tentry l2[] = {
        {'f', "a/.wh.f1", "", 0644, 0},
        {'f', "b/.wh..wh..opq", "", 0644, 0},
        {'f', "b/new", "new\n", 0644, 0},
        {'f', ".wh.c", "", 0644, 0},
        {'f', "a/.wh.missing", "", 0644, 0},
        /* the marker after entries of the same layer: those stay */
        {'f', "o/new", "new\n", 0644, 0},
        {'f', "o/d/new", "new\n", 0644, 0},
        {'f', "o/.wh..wh..opq", "", 0644, 0},
        /* removed, then written again by the same layer */
        {'f', ".wh.re", "", 0644, 0},
        {'d', "re", NULL, 0755, 0},
        {'f', ".wh..wh.plnk", "", 0644, 0},
        END,
    };
    static const struct tentry l3[] = {
        {'f', ".wh..wh..opq", "", 0644, 0}, {'f', "only", "only\n", 0644, 0}, END};
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, l1, GZIP, -1);
    fx_add(&f, l2, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_absent(&f, "a/f1");
    assert_absent(&f, "a/.wh.f1");
    assert_file(&f, "a/f2", "2\n", -1);
    assert_dir(&f, "b", -1);
    assert_absent(&f, "b/g");
    assert_absent(&f, "b/d");
    assert_absent(&f, "b/.wh..wh..opq");
    assert_file(&f, "b/new", "new\n", -1);
    assert_absent(&f, "c");
    assert_file(&f, "keep", "k\n", -1);
    assert_file(&f, "o/new", "new\n", -1);
    assert_file(&f, "o/d/new", "new\n", -1);
    assert_absent(&f, "o/old");
    assert_absent(&f, "o/d/old");
    assert_dir(&f, "re", -1);
    assert_absent(&f, ".wh..wh.plnk");
    assert_file(&f, "top", "top\n", -1);
    assert_contained(&f);
    fx_release(&f);

    /* an opaque marker at the top empties the whole directory of earlier layers */
    fx_init(&f);
    fx_add(&f, l1, GZIP, -1);
    fx_add(&f, l3, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "only", "only\n", -1);
    assert_absent(&f, "keep");
    assert_absent(&f, "a");
    assert_contained(&f);
    fx_release(&f);
}
END_TEST

START_TEST(duplicates_and_long_names)
{
    static const struct tentry same[] = {
        {'f', "a", "first\n", 0644, 0}, {'f', "a", "second\n", 0644, 0}, {'d', "d", NULL, 0755, 0},
        {'f', "d/x", "x\n", 0644, 0},   {'d', "d", NULL, 0700, 0},       END};
    static const struct tentry a[] = {{'f', "a", "f\n", 0644, 0}, {'d', "a", NULL, 0755, 0}, END};
    static const struct tentry b[] = {{'d', "a", NULL, 0755, 0}, {'l', "a", "b", 0, 0}, END};
    static const struct tentry c[] = {
        {'f', "a/b", "f\n", 0644, 0}, {'f', "a", "a\n", 0644, 0}, END};
    static const struct tentry l2[] = {{'d', "a", NULL, 0755, 0}, END};
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, same, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_file(&f, "a", "second\n", -1);
    assert_file(&f, "d/x", "x\n", -1);
    fx_release(&f);
    expect_refused(a, IP_E_INPUT, "also has a file of that name");
    expect_refused(b, IP_E_INPUT, "also has a directory of that name");
    expect_refused(c, IP_E_INPUT, "also has a directory of that name");

    /* across layers a file can become a directory (libarchive replaces it) */
    fx_init(&f);
    fx_add(&f, same, GZIP, -1);
    fx_add(&f, l2, GZIP, -1);
    ck_assert_msg(fx_extract(&f, NULL, &err) == 0, "%s", err.msg);
    assert_dir(&f, "a", -1);
    fx_release(&f);

    /* names over 4096 bytes */
    char *longname = ip_xmalloc(4200 + 1);
    for (int i = 0; i < 2100; i++)
        memcpy(longname + 2 * i, "a/", 2);
    longname[4199] = 'f';
    longname[4200] = '\0';
    struct tentry l[] = {{'f', longname, "x\n", 0644, 0}, END};
    expect_refused(l, IP_E_INPUT, "longer than 4096 bytes");
    struct tentry s[] = {{'l', "l", longname, 0, 0}, END};
    expect_refused(s, IP_E_INPUT, "symlink target longer than 4096 bytes");
    free(longname);
}
END_TEST

START_TEST(index_and_missing_layer)
{
    struct fx f;
    struct ip_err err;
    struct ip_manifest *idx = NULL;
    const char *raw =
        "{\"schemaVersion\":2,\"mediaType\":\"" IP_MT_OCI_INDEX "\",\"manifests\":[]}";
    fx_init(&f);
    ck_assert_int_eq(ip_manifest_parse(raw, strlen(raw), NULL, &idx, &err), 0);
    ck_assert_int_eq(ip_extract_image(f.s, idx, f.out, NULL, &err), -IP_E_INPUT);
    ip_manifest_free(idx);
    /* a layer the store does not have */
    ip_buf_printf(&f.layers, "{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\",\"size\":3}",
                  IP_MT_OCI_LAYER_GZIP, 0);
    ck_assert_int_eq(fx_extract(&f, NULL, &err), -IP_E_NOTFOUND);
    /* a directory that is not there */
    char *gone = ip_path_join(f.tmp, "gone");
    fx_manifest(&f);
    ck_assert_int_eq(ip_extract_image(f.s, f.m, gone, NULL, &err), -IP_E_IO);
    free(gone);
    fx_release(&f);
}
END_TEST

/* A store that reads from another one and notes, at every read of a blob,
 * whether the working directory is still the caller's. */
struct cwd_reader {
    struct ip_reader base;
    struct ip_reader *inner;
    struct cwd_store *store;
};

struct cwd_store {
    struct ip_store base;
    struct ip_store *inner;
    char want[4096];
    int reads, moved;
};

static void cwd_note(struct cwd_store *c)
{
    char now[4096];
    c->reads++;
    if (!getcwd(now, sizeof(now)) || strcmp(now, c->want) != 0)
        c->moved++;
}

static ssize_t cwd_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    struct cwd_reader *cr = (struct cwd_reader *)r;
    cwd_note(cr->store);
    return ip_reader_read(cr->inner, buf, n, err);
}

static void cwd_reader_free(struct ip_reader *r)
{
    struct cwd_reader *cr = (struct cwd_reader *)r;
    ip_reader_free(cr->inner);
    free(cr);
}

static int cwd_open_blob(struct ip_store *s, const struct ip_desc *d, struct ip_reader **out,
                         struct ip_err *err)
{
    struct cwd_store *c = (struct cwd_store *)s;
    struct ip_reader *inner;
    int rc = ip_store_open_blob(c->inner, d, &inner, err);
    if (rc < 0)
        return rc;
    struct cwd_reader *cr = ip_xcalloc(1, sizeof(*cr));
    cr->base.read = cwd_read;
    cr->base.free = cwd_reader_free;
    cr->inner = inner;
    cr->store = c;
    *out = &cr->base;
    return 0;
}

static void cwd_store_free(struct ip_store *s)
{
    (void)s; /* on the stack; the inner store is the fixture's */
}

static const struct ip_store_ops cwd_ops = {
    .scheme = "cwd", .open_blob = cwd_open_blob, .free = cwd_store_free};

START_TEST(working_directory_never_changes)
{
    static const struct tentry a[] = {{'d', "dir", NULL, 0755, 0},
                                      {'f', "dir/f", "f\n", 0644, 0},
                                      {'f', "g", "g\n", 0644, 0},
                                      END};
    static const struct tentry b[] = {{'f', "dir/.wh.f", "", 0644, 0}, {'l', "l", "g", 0, 0}, END};
    struct cwd_store c;
    struct fx f;
    struct ip_err err;
    fx_init(&f);
    fx_add(&f, a, GZIP, -1);
    fx_add(&f, b, PLAIN, -1);
    fx_manifest(&f);
    memset(&c, 0, sizeof(c));
    c.base.ops = &cwd_ops;
    c.base.location = (char *)"cwd";
    c.inner = f.s;
    ck_assert_ptr_nonnull(getcwd(c.want, sizeof(c.want)));
    ck_assert_msg(ip_extract_image(&c.base, f.m, f.out, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_gt(c.reads, 0);
    ck_assert_int_eq(c.moved, 0); /* the layers stream while the working directory stays */
    assert_file(&f, "g", "g\n", 0644);
    assert_absent(&f, "dir/f");
    fx_release(&f);
}
END_TEST

Suite *suite_extract(void)
{
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("extract");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, files_dirs_and_imgpkg_modes);
    tcase_add_test(tc, kept_permissions);
    tcase_add_test(tc, links_inside);
    tcase_add_test(tc, later_layers_replace);
    tcase_add_test(tc, utf8_names_in_c_locale);
    tcase_add_test(tc, relative_paths);
    tcase_add_test(tc, plain_and_zstd_layers);
    tcase_add_test(tc, refuses_dotdot);
    tcase_add_test(tc, refuses_absolute);
    tcase_add_test(tc, refuses_symlinks_leaving);
    tcase_add_test(tc, refuses_writing_through_symlinks);
    tcase_add_test(tc, refuses_hardlinks_leaving);
    tcase_add_test(tc, refuses_devices_and_fifos);
    tcase_add_test(tc, refuses_bombs);
    tcase_add_test(tc, refuses_corrupt_layer);
    tcase_add_test(tc, whiteouts_across_layers);
    tcase_add_test(tc, duplicates_and_long_names);
    tcase_add_test(tc, index_and_missing_layer);
    tcase_add_test(tc, working_directory_never_changes);
    suite_add_tcase(s, tc);
    return s;
}
