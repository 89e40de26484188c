/* gzip.c - the deflate engine of the layer builder.  The input is cut into
 * fixed 1 MiB blocks that are compressed independently on all cores (each block
 * byte-aligned with a full flush, the last one final, as pigz does), written in
 * order as one standard gzip member whose CRC is combined from the blocks'.
 * Blocks come from ISA-L's igzip when the build found it, else from zlib.  The
 * output is deterministic for a given engine and level (and so is the layer
 * digest); it differs between engines. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "image/image-internal.h"
#include "imgpkg-config.h"
#include "util/banned.h"

#ifdef IMGPKG_HAVE_ISAL
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#endif

#define BLOCK (1u << 20)
#define MAX_WORKERS 8

/* fixed gzip header: no name, mtime 0, no extra flags, OS unix */
static const unsigned char gzip_header_bytes[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};

enum job_state { JOB_FREE, JOB_READY, JOB_BUSY, JOB_DONE };

struct job {
    enum job_state state;
    size_t seq;
    unsigned char *in;
    size_t in_len;
    unsigned char *out;
    size_t out_cap, out_len;
    uint32_t crc;
    bool final;
    bool failed;
};

struct image_gzip {
    image_sink_fn sink;
    void *ctx;
    int level;
    bool use_isal;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a job is ready, or stop */
    pthread_cond_t done_cv; /* a job is done */
    pthread_t workers[MAX_WORKERS];
    int n_workers;
    bool stop;
    struct job *jobs;
    size_t n_jobs;
    size_t next_seq;   /* sequence number of the block being filled */
    size_t next_write; /* next sequence number to hand to the sink */
    struct job *filling;
    uint32_t crc;
    uint64_t total_in;
    bool header_done;
};

const char *image_gzip_engine(void)
{
#ifdef IMGPKG_HAVE_ISAL
    return "isa-l";
#else
    return "zlib";
#endif
}

const char *ip_build_deflate_engine(void)
{
    return image_gzip_engine();
}

static uint32_t block_crc(const unsigned char *p, size_t n)
{
#ifdef IMGPKG_HAVE_ISAL
    return crc32_gzip_refl(0, p, (uint64_t)n);
#else
    return (uint32_t)crc32(0, p, (uInt)n);
#endif
}

static bool compress_zlib(int level, struct job *j)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    z.next_in = j->in;
    z.avail_in = (uInt)j->in_len;
    z.next_out = j->out;
    z.avail_out = (uInt)j->out_cap;
    int zr = deflate(&z, j->final ? Z_FINISH : Z_FULL_FLUSH);
    bool ok = j->final ? zr == Z_STREAM_END : (zr == Z_OK && z.avail_in == 0);
    j->out_len = j->out_cap - z.avail_out;
    deflateEnd(&z);
    return ok;
}

#ifdef IMGPKG_HAVE_ISAL
static bool compress_isal(int level, struct job *j, unsigned char *level_buf, uint32_t lb_size)
{
    struct isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.level = (uint32_t)level;
    s.level_buf = level_buf;
    s.level_buf_size = lb_size;
    s.gzip_flag = IGZIP_DEFLATE;
    s.flush = j->final ? NO_FLUSH : FULL_FLUSH;
    s.end_of_stream = j->final;
    s.next_in = j->in;
    s.avail_in = (uint32_t)j->in_len;
    s.next_out = j->out;
    s.avail_out = (uint32_t)j->out_cap;
    if (isal_deflate_stateless(&s) != COMP_OK || s.avail_in != 0)
        return false;
    j->out_len = j->out_cap - s.avail_out;
    return true;
}

static int isal_level(int level)
{
    /* zlib's 1 is igzip's 1; heavier zlib levels map to igzip 2 and 3 */
    return level <= 1 ? 1 : (level <= 5 ? 2 : 3);
}
#endif

static void *worker_main(void *arg)
{
    struct image_gzip *gz = arg;
    unsigned char *level_buf = NULL;
#ifdef IMGPKG_HAVE_ISAL
    uint32_t lb_size = 0;
    if (gz->use_isal) {
        static const uint32_t sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                         ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
        lb_size = sizes[isal_level(gz->level)];
        level_buf = ip_xmalloc(lb_size);
    }
#endif
    pthread_mutex_lock(&gz->mu);
    for (;;) {
        struct job *pick = NULL;
        for (size_t i = 0; i < gz->n_jobs; i++) {
            struct job *j = &gz->jobs[i];
            if (j->state == JOB_READY && (!pick || j->seq < pick->seq))
                pick = j;
        }
        if (!pick) {
            if (gz->stop)
                break;
            pthread_cond_wait(&gz->work_cv, &gz->mu);
            continue;
        }
        pick->state = JOB_BUSY;
        pthread_mutex_unlock(&gz->mu);
        bool ok;
#ifdef IMGPKG_HAVE_ISAL
        if (gz->use_isal)
            ok = compress_isal(isal_level(gz->level), pick, level_buf, lb_size);
        else
#endif
            ok = compress_zlib(gz->level, pick);
        pick->crc = block_crc(pick->in, pick->in_len);
        pthread_mutex_lock(&gz->mu);
        pick->failed = !ok;
        pick->state = JOB_DONE;
        pthread_cond_broadcast(&gz->done_cv);
    }
    pthread_mutex_unlock(&gz->mu);
    free(level_buf);
    return NULL;
}

struct image_gzip *image_gzip_new(int level, image_sink_fn sink, void *ctx)
{
    struct image_gzip *gz = ip_xcalloc(1, sizeof(*gz));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    gz->sink = sink;
    gz->ctx = ctx;
    gz->level = level < 1 || level > 9 ? 1 : level;
#ifdef IMGPKG_HAVE_ISAL
    gz->use_isal = true;
#endif
    gz->n_workers = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (int)cpus;
    /* two blocks in flight per worker keep every core busy while one is written */
    gz->n_jobs = (size_t)gz->n_workers * 2 + 1;
    gz->jobs = ip_xcalloc(gz->n_jobs, sizeof(*gz->jobs));
    for (size_t i = 0; i < gz->n_jobs; i++) {
        gz->jobs[i].in = ip_xmalloc(BLOCK);
        gz->jobs[i].out_cap = BLOCK + BLOCK / 8 + 65536;
        gz->jobs[i].out = ip_xmalloc(gz->jobs[i].out_cap);
    }
    pthread_mutex_init(&gz->mu, NULL);
    pthread_cond_init(&gz->work_cv, NULL);
    pthread_cond_init(&gz->done_cv, NULL);
    for (int i = 0; i < gz->n_workers; i++)
        if (pthread_create(&gz->workers[i], NULL, worker_main, gz) != 0)
            abort();
    return gz;
}

/* Hands the oldest finished block to the sink; waits for it if needed. */
static int write_next(struct image_gzip *gz, struct ip_err *err)
{
    struct job *j = NULL;
    int rc;
    pthread_mutex_lock(&gz->mu);
    for (;;) {
        for (size_t i = 0; i < gz->n_jobs; i++)
            if (gz->jobs[i].state != JOB_FREE && gz->jobs[i].seq == gz->next_write)
                j = &gz->jobs[i];
        if (j && j->state == JOB_DONE)
            break;
        pthread_cond_wait(&gz->done_cv, &gz->mu);
        j = NULL;
    }
    pthread_mutex_unlock(&gz->mu);
    if (j->failed)
        return ip_err_set(err, IP_E_IO, "compressing layer: %s failed", image_gzip_engine());
    if (!gz->header_done) {
        gz->header_done = true;
        if ((rc = gz->sink(gz->ctx, gzip_header_bytes, sizeof(gzip_header_bytes), err)) < 0)
            return rc;
    }
    if (j->out_len && (rc = gz->sink(gz->ctx, j->out, j->out_len, err)) < 0)
        return rc;
    gz->crc = (uint32_t)crc32_combine(gz->crc, j->crc, (z_off_t)j->in_len);
    pthread_mutex_lock(&gz->mu);
    j->state = JOB_FREE;
    gz->next_write++;
    pthread_mutex_unlock(&gz->mu);
    return 0;
}

/* A free job to fill, writing finished ones out until one is free. */
static int take_job(struct image_gzip *gz, struct ip_err *err)
{
    for (;;) {
        struct job *free_job = NULL;
        pthread_mutex_lock(&gz->mu);
        for (size_t i = 0; i < gz->n_jobs && !free_job; i++)
            if (gz->jobs[i].state == JOB_FREE)
                free_job = &gz->jobs[i];
        pthread_mutex_unlock(&gz->mu);
        if (free_job) {
            free_job->in_len = 0;
            free_job->final = false;
            free_job->failed = false;
            free_job->seq = gz->next_seq++;
            gz->filling = free_job;
            return 0;
        }
        int rc = write_next(gz, err);
        if (rc < 0)
            return rc;
    }
}

static void submit(struct image_gzip *gz)
{
    pthread_mutex_lock(&gz->mu);
    gz->filling->state = JOB_READY;
    pthread_cond_signal(&gz->work_cv);
    pthread_mutex_unlock(&gz->mu);
    gz->filling = NULL;
}

int image_gzip_write(struct image_gzip *gz, const void *p, size_t n, struct ip_err *err)
{
    const unsigned char *c = p;
    int rc;
    gz->total_in += n;
    while (n > 0) {
        if (!gz->filling && (rc = take_job(gz, err)) < 0)
            return rc;
        struct job *j = gz->filling;
        size_t k = BLOCK - j->in_len;
        if (k > n)
            k = n;
        memcpy(j->in + j->in_len, c, k);
        j->in_len += k;
        c += k;
        n -= k;
        /* a full block waits for more input before it is submitted, so that
         * the final flag can go on the real last block */
        if (j->in_len == BLOCK && n > 0)
            submit(gz);
    }
    return 0;
}

int image_gzip_finish(struct image_gzip *gz, struct ip_err *err)
{
    int rc;
    if (!gz->filling && (rc = take_job(gz, err)) < 0)
        return rc;
    gz->filling->final = true;
    submit(gz);
    while (gz->next_write < gz->next_seq)
        if ((rc = write_next(gz, err)) < 0)
            return rc;
    if (!gz->header_done) {
        gz->header_done = true;
        if ((rc = gz->sink(gz->ctx, gzip_header_bytes, sizeof(gzip_header_bytes), err)) < 0)
            return rc;
    }
    unsigned char t[8];
    uint32_t sz = (uint32_t)gz->total_in;
    for (int i = 0; i < 4; i++) {
        t[i] = (unsigned char)(gz->crc >> (8 * i));
        t[4 + i] = (unsigned char)(sz >> (8 * i));
    }
    return gz->sink(gz->ctx, t, sizeof(t), err);
}

void image_gzip_free(struct image_gzip *gz)
{
    if (!gz)
        return;
    pthread_mutex_lock(&gz->mu);
    gz->stop = true;
    /* jobs still queued after a failure are dropped */
    for (size_t i = 0; i < gz->n_jobs; i++)
        if (gz->jobs[i].state == JOB_READY)
            gz->jobs[i].state = JOB_FREE;
    pthread_cond_broadcast(&gz->work_cv);
    pthread_mutex_unlock(&gz->mu);
    for (int i = 0; i < gz->n_workers; i++)
        pthread_join(gz->workers[i], NULL);
    for (size_t i = 0; i < gz->n_jobs; i++) {
        free(gz->jobs[i].in);
        free(gz->jobs[i].out);
    }
    free(gz->jobs);
    pthread_mutex_destroy(&gz->mu);
    pthread_cond_destroy(&gz->work_cv);
    pthread_cond_destroy(&gz->done_cv);
    free(gz);
}
