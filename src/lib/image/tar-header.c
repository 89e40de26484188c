/* tar-header.c - puts the ustar headers libarchive writes into the form Go's
 * archive/tar (and so imgpkg) writes them: numeric fields as zero-padded octal
 * ending in NUL, directory names without the '/' libarchive always appends,
 * long names split between prefix and name where Go splits them.  Entry data
 * and pax extension entries pass through untouched.  With the same entries the
 * header bytes are the same, and so is the layer's diff_id. */
#include <stdio.h>
#include <string.h>

#include "image/image-internal.h"
#include "util/banned.h"

#define BLOCK 512
#define NAME_OFF 0
#define NAME_LEN 100
#define TYPE_OFF 156
#define MAGIC_OFF 257
#define PREFIX_OFF 345
#define PREFIX_LEN 155
#define CHKSUM_OFF 148

static const struct {
    unsigned off, len;
} numeric_fields[] = {
    {100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {329, 8}, {337, 8},
};

static bool field_octal(const unsigned char *f, unsigned len, uint64_t *out)
{
    uint64_t v = 0;
    unsigned i = 0;
    if (f[0] & 0x80)
        return false; /* base-256: left as it is */
    while (i < len && f[i] == ' ')
        i++;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(f[i] - '0');
    *out = v;
    return true;
}

static void put_octal(unsigned char *f, unsigned len, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%0*llo", (int)(len - 1), (unsigned long long)v);
    memcpy(f, tmp, len - 1);
    f[len - 1] = '\0';
}

static uint64_t entry_size(const unsigned char *h)
{
    uint64_t v = 0;
    if (h[124] & 0x80) {
        for (unsigned i = 125; i < 136; i++)
            v = (v << 8) | h[i];
        return v;
    }
    field_octal(h + 124, 12, &v);
    return v;
}

/* Go's splitUSTARPath: the longest prefix (up to 155 bytes, at a '/') that
 * leaves a name of at most 100 bytes. */
static bool go_split(const char *path, size_t len, size_t *cut)
{
    size_t limit = len;
    if (len <= NAME_LEN)
        return false;
    if (limit > PREFIX_LEN + 1)
        limit = PREFIX_LEN + 1;
    else if (path[limit - 1] == '/')
        limit--;
    const char *slash = NULL;
    for (size_t i = 0; i < limit; i++)
        if (path[i] == '/')
            slash = path + i;
    if (!slash || slash == path)
        return false;
    size_t plen = (size_t)(slash - path), nlen = len - plen - 1;
    if (nlen == 0 || nlen > NAME_LEN || plen > PREFIX_LEN)
        return false;
    *cut = plen;
    return true;
}

static void fix_name(unsigned char *h)
{
    char path[NAME_LEN + PREFIX_LEN + 2];
    size_t plen = strnlen((char *)h + PREFIX_OFF, PREFIX_LEN);
    size_t nlen = strnlen((char *)h + NAME_OFF, NAME_LEN);
    size_t len = 0, cut;

    if (plen) {
        memcpy(path, h + PREFIX_OFF, plen);
        path[plen] = '/';
        len = plen + 1;
    }
    memcpy(path + len, h + NAME_OFF, nlen);
    len += nlen;
    if (h[TYPE_OFF] == '5' && len > 1 && path[len - 1] == '/')
        len--;
    memset(h + NAME_OFF, 0, NAME_LEN);
    memset(h + PREFIX_OFF, 0, PREFIX_LEN);
    if (len <= NAME_LEN) {
        memcpy(h + NAME_OFF, path, len);
    } else if (go_split(path, len, &cut)) {
        memcpy(h + PREFIX_OFF, path, cut);
        memcpy(h + NAME_OFF, path + cut + 1, len - cut - 1);
    } else { /* where Go would not split, libarchive's split stands */
        memcpy(h + PREFIX_OFF, path, plen);
        memcpy(h + NAME_OFF, path + (plen ? plen + 1 : 0), len - (plen ? plen + 1 : 0));
    }
}

static void put_checksum(unsigned char *h);

/* Numeric fields in Go's form, and the checksum. */
static void fix_header_fields(unsigned char *h)
{
    for (size_t i = 0; i < sizeof(numeric_fields) / sizeof(numeric_fields[0]); i++) {
        unsigned char *f = h + numeric_fields[i].off;
        unsigned len = numeric_fields[i].len;
        uint64_t v;
        if (field_octal(f, len, &v) && v < ((uint64_t)1 << (3 * (len - 1))))
            put_octal(f, len, v);
    }
    put_checksum(h);
}

static void fix_header(unsigned char *h)
{
    if (memcmp(h + MAGIC_OFF,
               "ustar\0"
               "00",
               8) != 0)
        return;
    if (h[TYPE_OFF] == '0' || h[TYPE_OFF] == '\0' || h[TYPE_OFF] == '5')
        fix_name(h);
    fix_header_fields(h);
}

static bool all_zero(const unsigned char *h)
{
    for (size_t i = 0; i < BLOCK; i++)
        if (h[i])
            return false;
    return true;
}

/* Go's toASCII: bytes of runes under 0x80 (invalid UTF-8 and every
 * multi-byte rune dropped). */
static size_t to_ascii(char *dst, const char *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!((unsigned char)src[i] & 0x80))
            dst[k++] = src[i];
    return k;
}

struct pax_rec {
    const char *key, *val;
    size_t klen, vlen;
};

static int pax_rec_cmp(const void *a, const void *b)
{
    const struct pax_rec *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* Splits pax records "LEN key=value\n"; false when malformed. */
static bool pax_parse(const char *d, size_t n, struct pax_rec *r, size_t cap, size_t *count)
{
    size_t k = 0;
    while (n > 0) {
        size_t len = 0, i = 0;
        while (i < n && d[i] >= '0' && d[i] <= '9')
            len = len * 10 + (size_t)(d[i++] - '0');
        if (i == 0 || i >= n || d[i] != ' ' || len <= i + 1 || len > n || d[len - 1] != '\n' ||
            k == cap)
            return false;
        const char *kv = d + i + 1, *eq = memchr(kv, '=', len - i - 2);
        if (!eq)
            return false;
        r[k].key = kv;
        r[k].klen = (size_t)(eq - kv);
        r[k].val = eq + 1;
        r[k].vlen = (size_t)(d + len - 1 - (eq + 1));
        k++;
        d += len;
        n -= len;
    }
    *count = k;
    return true;
}

/* One record as Go's formatPAXRecord writes it: the length counts itself. */
static void pax_put(struct ip_buf *b, const char *k, size_t kl, const char *v, size_t vl)
{
    size_t base = kl + vl + 3, len = base;
    char num[24];
    for (;;) {
        int d = snprintf(num, sizeof(num), "%zu", len);
        if (base + (size_t)d == len)
            break;
        len = base + (size_t)d;
    }
    ip_buf_printf(b, "%s %.*s=%.*s\n", num, (int)kl, k, (int)vl, v);
}

static void put_checksum(unsigned char *h)
{
    unsigned sum = 0;
    memset(h + CHKSUM_OFF, ' ', 8);
    for (size_t i = 0; i < BLOCK; i++)
        sum += h[i];
    put_octal(h + CHKSUM_OFF, 7, sum);
    h[CHKSUM_OFF + 7] = ' ';
}

/* The header Go writes before a pax extension's records (writeRawFile). */
static void go_pax_header(unsigned char *h, const char *path, size_t len, size_t size)
{
    char name[NAME_LEN + PREFIX_LEN + 32], ascii[sizeof(name)];
    const char *slash = memrchr(path, '/', len);
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    int n = snprintf(name, sizeof(name), "%.*sPaxHeaders.0/%.*s", (int)dlen, path,
                     (int)(len - dlen), path + dlen);
    size_t k = to_ascii(ascii, name, n < (int)sizeof(name) ? (size_t)n : sizeof(name) - 1);
    if (k > NAME_LEN)
        k = NAME_LEN;
    while (k > 0 && ascii[k - 1] == '/')
        k--;
    memset(h, 0, BLOCK);
    memcpy(h + NAME_OFF, ascii, k);
    put_octal(h + 100, 8, 0);
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, size);
    put_octal(h + 136, 12, 0);
    h[TYPE_OFF] = 'x';
    memcpy(h + MAGIC_OFF,
           "ustar\0"
           "00",
           8);
    put_checksum(h);
}

/* A pax extension (header + records) and the entry it describes, gathered
 * whole, rewritten as Go writes them: records sorted by key with libarchive's
 * hdrcharset dropped and a directory's path without its '/', Go's header for
 * the extension, and the entry's own header named by the first 100 ASCII
 * bytes of its path.  When Go would need no extension at all (the path alone,
 * ASCII, fitting ustar), the entry gets a plain header. */
static int flush_pax(struct image_tar_fix *f, image_sink_fn out, void *ctx, struct ip_err *err)
{
    unsigned char *main_h = (unsigned char *)f->pax.data + f->pax_len;
    struct pax_rec recs[32];
    size_t n_recs = 0, path_len = 0;
    const char *path = NULL;
    bool only_path = true;
    struct ip_buf data = IP_BUF_INIT;
    int rc;

    if (!pax_parse((char *)f->pax.data + BLOCK, f->pax_size, recs, 32, &n_recs)) {
        fix_header(main_h); /* not ours to understand: passed on as it is */
        return out(ctx, f->pax.data, f->pax.len, err);
    }
    qsort(recs, n_recs, sizeof(recs[0]), pax_rec_cmp);
    for (size_t i = 0; i < n_recs; i++) {
        if (recs[i].klen == 4 && !memcmp(recs[i].key, "path", 4)) {
            path = recs[i].val;
            path_len = recs[i].vlen;
            if (main_h[TYPE_OFF] == '5' && path_len > 1 && path[path_len - 1] == '/')
                path_len--;
            pax_put(&data, "path", 4, path, path_len);
        } else if (!(recs[i].klen == 10 && !memcmp(recs[i].key, "hdrcharset", 10))) {
            only_path = false;
            pax_put(&data, recs[i].key, recs[i].klen, recs[i].val, recs[i].vlen);
        }
    }
    bool ascii = true;
    for (size_t i = 0; path && i < path_len; i++)
        if ((unsigned char)path[i] & 0x80)
            ascii = false;
    size_t cut = 0;
    if (!path && only_path) { /* nothing Go would write an extension for */
        fix_header(main_h);
        rc = out(ctx, main_h, BLOCK, err);
        ip_buf_release(&data);
        return rc;
    }
    if (path && only_path && ascii && (path_len <= NAME_LEN || go_split(path, path_len, &cut))) {
        memset(main_h + NAME_OFF, 0, NAME_LEN);
        memset(main_h + PREFIX_OFF, 0, PREFIX_LEN);
        if (path_len <= NAME_LEN) {
            memcpy(main_h + NAME_OFF, path, path_len);
        } else {
            memcpy(main_h + PREFIX_OFF, path, cut);
            memcpy(main_h + NAME_OFF, path + cut + 1, path_len - cut - 1);
        }
        fix_header(main_h);
        rc = out(ctx, main_h, BLOCK, err);
        ip_buf_release(&data);
        return rc;
    }
    unsigned char ph[BLOCK];
    go_pax_header(ph, path ? path : "", path ? path_len : 0, data.len);
    if (path) {
        char ascii_name[NAME_LEN + PREFIX_LEN + 2];
        size_t k = to_ascii(ascii_name, path,
                            path_len < sizeof(ascii_name) ? path_len : sizeof(ascii_name));
        memset(main_h + NAME_OFF, 0, NAME_LEN);
        memset(main_h + PREFIX_OFF, 0, PREFIX_LEN);
        memcpy(main_h + NAME_OFF, ascii_name, k < NAME_LEN ? k : NAME_LEN);
    }
    fix_header_fields(main_h);
    size_t pad = (BLOCK - data.len % BLOCK) % BLOCK;
    static const unsigned char zeros[BLOCK];
    if ((rc = out(ctx, ph, BLOCK, err)) == 0 && (rc = out(ctx, data.data, data.len, err)) == 0 &&
        (rc = out(ctx, zeros, pad, err)) == 0)
        rc = out(ctx, main_h, BLOCK, err);
    ip_buf_release(&data);
    return rc;
}

/* The largest pax extension gathered whole; larger ones pass as they are. */
#define PAX_MAX (64u << 10)

static int take_header(struct image_tar_fix *f, image_sink_fn out, void *ctx, struct ip_err *err)
{
    uint64_t size = entry_size(f->hdr);
    if (f->hdr[TYPE_OFF] == 'x' && size <= PAX_MAX && !f->in_pax) {
        f->in_pax = true;
        f->pax_size = (size_t)size;
        f->pax_len = BLOCK + (size_t)((size + BLOCK - 1) / BLOCK * BLOCK);
        ip_buf_release(&f->pax);
        return ip_buf_add(&f->pax, f->hdr, BLOCK, err);
    }
    if (f->in_pax) { /* the entry the extension describes: all is here */
        f->in_pax = false;
        if (ip_buf_add(&f->pax, f->hdr, BLOCK, err) < 0)
            return -err->code;
        f->skip = (size + BLOCK - 1) / BLOCK * BLOCK;
        int rc = flush_pax(f, out, ctx, err);
        ip_buf_release(&f->pax);
        return rc;
    }
    fix_header(f->hdr);
    f->skip = (size + BLOCK - 1) / BLOCK * BLOCK;
    return out(ctx, f->hdr, BLOCK, err);
}

int image_tar_fix_write(struct image_tar_fix *f, const void *data, size_t n, image_sink_fn out,
                        void *ctx, struct ip_err *err)
{
    const unsigned char *p = data;
    int rc;
    while (n > 0) {
        if (f->in_pax && f->pax.len < f->pax_len) { /* the extension's records */
            size_t k = f->pax_len - f->pax.len < n ? f->pax_len - f->pax.len : n;
            if ((rc = ip_buf_add(&f->pax, p, k, err)) < 0)
                return rc;
            p += k;
            n -= k;
            continue;
        }
        if (f->done || f->skip > 0) {
            size_t k = f->done || f->skip > n ? n : (size_t)f->skip;
            if ((rc = out(ctx, p, k, err)) < 0)
                return rc;
            if (!f->done)
                f->skip -= k;
            p += k;
            n -= k;
            continue;
        }
        size_t k = BLOCK - f->have < n ? BLOCK - f->have : n;
        memcpy(f->hdr + f->have, p, k);
        f->have += k;
        p += k;
        n -= k;
        if (f->have < BLOCK)
            continue;
        f->have = 0;
        if (!f->in_pax && all_zero(f->hdr)) {
            f->done = true; /* the end of the archive: zeros to the end */
            if ((rc = out(ctx, f->hdr, BLOCK, err)) < 0)
                return rc;
            continue;
        }
        if ((rc = take_header(f, out, ctx, err)) < 0)
            return rc;
    }
    return 0;
}

void image_tar_fix_release(struct image_tar_fix *f)
{
    ip_buf_release(&f->pax);
}
