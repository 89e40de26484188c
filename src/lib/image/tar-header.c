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

static void fix_header(unsigned char *h)
{
    unsigned sum = 0;
    if (memcmp(h + MAGIC_OFF, "ustar\0" "00", 8) != 0)
        return;
    if (h[TYPE_OFF] == '0' || h[TYPE_OFF] == '\0' || h[TYPE_OFF] == '5')
        fix_name(h);
    for (size_t i = 0; i < sizeof(numeric_fields) / sizeof(numeric_fields[0]); i++) {
        unsigned char *f = h + numeric_fields[i].off;
        unsigned len = numeric_fields[i].len;
        uint64_t v;
        if (field_octal(f, len, &v) && v < ((uint64_t)1 << (3 * (len - 1))))
            put_octal(f, len, v);
    }
    memset(h + CHKSUM_OFF, ' ', 8);
    for (size_t i = 0; i < BLOCK; i++)
        sum += h[i];
    put_octal(h + CHKSUM_OFF, 7, sum);
    h[CHKSUM_OFF + 7] = ' ';
}

static bool all_zero(const unsigned char *h)
{
    for (size_t i = 0; i < BLOCK; i++)
        if (h[i])
            return false;
    return true;
}

int image_tar_fix_write(struct image_tar_fix *f, const void *data, size_t n, image_sink_fn out,
                        void *ctx, struct ip_err *err)
{
    const unsigned char *p = data;
    int rc;
    while (n > 0) {
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
        if (all_zero(f->hdr)) {
            f->done = true; /* the end of the archive: zeros to the end */
        } else {
            uint64_t size = entry_size(f->hdr);
            fix_header(f->hdr);
            f->skip = (size + BLOCK - 1) / BLOCK * BLOCK;
        }
        if ((rc = out(ctx, f->hdr, BLOCK, err)) < 0)
            return rc;
    }
    return 0;
}
