/* gzip.c - the deflate engine of the layer builder: standard gzip members from
 * zlib, or from ISA-L's igzip when the build found it (same format, much
 * faster at level 1; the bytes, and so the layer digest, differ by engine). */
#include <string.h>
#include <zlib.h>

#include "build/build-internal.h"
#include "imgpkg-config.h"
#include "util/banned.h"

#ifdef IMGPKG_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define OUT_CHUNK (256u << 10)

struct build_gzip {
    build_sink_fn sink;
    void *ctx;
    unsigned char *out;
    bool use_isal;
    z_stream z;
#ifdef IMGPKG_HAVE_ISAL
    struct isal_zstream iz;
    bool header_done;
    unsigned char *level_buf;
#endif
};

const char *ip_build_deflate_engine(void)
{
    return build_gzip_engine();
}

const char *build_gzip_engine(void)
{
#ifdef IMGPKG_HAVE_ISAL
    return "isa-l";
#else
    return "zlib";
#endif
}

struct build_gzip *build_gzip_new(int level, build_sink_fn sink, void *ctx)
{
    struct build_gzip *gz = ip_xcalloc(1, sizeof(*gz));
    gz->sink = sink;
    gz->ctx = ctx;
    gz->out = ip_xmalloc(OUT_CHUNK);
    if (level < 0 || level > 9)
        level = 1;
#ifdef IMGPKG_HAVE_ISAL
    /* igzip levels 0..3; map zlib's 1 to igzip's 1, heavier levels to 2..3 */
    if (level >= 1) {
        gz->use_isal = true;
        isal_deflate_init(&gz->iz);
        gz->iz.gzip_flag = IGZIP_GZIP_NO_HDR;
        gz->iz.level = level <= 1 ? 1 : (level <= 5 ? 2 : 3);
        static const unsigned lb[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                      ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
        gz->iz.level_buf_size = lb[gz->iz.level];
        gz->level_buf = ip_xmalloc(gz->iz.level_buf_size);
        gz->iz.level_buf = gz->level_buf;
        return gz;
    }
#endif
    if (deflateInit2(&gz->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    return gz;
}

#ifdef IMGPKG_HAVE_ISAL
/* A fixed gzip header: no name, mtime 0, OS unix, so output is deterministic. */
static const unsigned char gzip_header_bytes[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

static int isal_header(struct build_gzip *gz, struct ip_err *err)
{
    if (gz->header_done)
        return 0;
    gz->header_done = true;
    return gz->sink(gz->ctx, gzip_header_bytes, sizeof(gzip_header_bytes), err);
}

static int isal_run(struct build_gzip *gz, const void *p, size_t n, bool finish, struct ip_err *err)
{
    int rc;
    gz->iz.next_in = (unsigned char *)p;
    gz->iz.avail_in = (uint32_t)n;
    gz->iz.end_of_stream = finish;
    gz->iz.flush = NO_FLUSH;
    do {
        gz->iz.next_out = gz->out;
        gz->iz.avail_out = OUT_CHUNK;
        if (isal_deflate(&gz->iz) != COMP_OK)
            return ip_err_set(err, IP_E_IO, "compressing layer: igzip failed");
        size_t have = OUT_CHUNK - gz->iz.avail_out;
        if (have && (rc = gz->sink(gz->ctx, gz->out, have, err)) < 0)
            return rc;
    } while (gz->iz.avail_in > 0 || gz->iz.avail_out == 0 ||
             (finish && gz->iz.internal_state.state != ZSTATE_END));
    return 0;
}
#endif

int build_gzip_write(struct build_gzip *gz, const void *p, size_t n, struct ip_err *err)
{
    int rc;
#ifdef IMGPKG_HAVE_ISAL
    if (gz->use_isal) {
        if (n > 0 && (rc = isal_header(gz, err)) < 0)
            return rc;
        while (n > 0) {
            size_t chunk = n > (1u << 30) ? (1u << 30) : n;
            if ((rc = isal_run(gz, p, chunk, false, err)) < 0)
                return rc;
            p = (const char *)p + chunk;
            n -= chunk;
        }
        return 0;
    }
#endif
    gz->z.next_in = (Bytef *)p;
    gz->z.avail_in = (uInt)n;
    while (gz->z.avail_in > 0) {
        gz->z.next_out = gz->out;
        gz->z.avail_out = OUT_CHUNK;
        if (deflate(&gz->z, Z_NO_FLUSH) == Z_STREAM_ERROR)
            return ip_err_set(err, IP_E_IO, "compressing layer: zlib failed");
        size_t have = OUT_CHUNK - gz->z.avail_out;
        if (have && (rc = gz->sink(gz->ctx, gz->out, have, err)) < 0)
            return rc;
    }
    return 0;
}

int build_gzip_finish(struct build_gzip *gz, struct ip_err *err)
{
    int rc, zr;
#ifdef IMGPKG_HAVE_ISAL
    if (gz->use_isal) {
        if ((rc = isal_header(gz, err)) < 0)
            return rc;
        /* igzip writes the trailer (crc32, size) itself */
        return isal_run(gz, "", 0, true, err);
    }
#endif
    gz->z.next_in = NULL;
    gz->z.avail_in = 0;
    do {
        gz->z.next_out = gz->out;
        gz->z.avail_out = OUT_CHUNK;
        zr = deflate(&gz->z, Z_FINISH);
        if (zr == Z_STREAM_ERROR)
            return ip_err_set(err, IP_E_IO, "compressing layer: zlib failed");
        size_t have = OUT_CHUNK - gz->z.avail_out;
        if (have && (rc = gz->sink(gz->ctx, gz->out, have, err)) < 0)
            return rc;
    } while (zr != Z_STREAM_END);
    return 0;
}

void build_gzip_free(struct build_gzip *gz)
{
    if (!gz)
        return;
#ifdef IMGPKG_HAVE_ISAL
    free(gz->level_buf);
    if (!gz->use_isal)
        deflateEnd(&gz->z);
#else
    deflateEnd(&gz->z);
#endif
    free(gz->out);
    free(gz);
}
