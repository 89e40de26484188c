/* parallel.c - the worker pool (see parallel.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "imgpkg/util.h"
#include "util/parallel.h"
#include "util/banned.h"

struct pool {
    int (*fn)(void *ctx, size_t i, struct ip_err *err);
    void *ctx;
    size_t n, next;
    pthread_mutex_t mu;
    bool failed;
    int rc;
    struct ip_err err;
};

static void *run(void *arg)
{
    struct pool *p = arg;
    struct ip_err err;
    for (;;) {
        size_t i;
        int rc;
        pthread_mutex_lock(&p->mu);
        if (p->failed || p->next >= p->n) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        ip_err_clear(&err);
        if ((rc = p->fn(p->ctx, i, &err)) < 0) {
            pthread_mutex_lock(&p->mu);
            if (!p->failed) {
                p->failed = true;
                p->rc = rc;
                p->err = err;
            }
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
    }
}

int ip_parallel_for(size_t n, size_t threads, int (*fn)(void *ctx, size_t i, struct ip_err *err),
                    void *ctx, struct ip_err *err)
{
    struct pool p = {.fn = fn, .ctx = ctx, .n = n};
    pthread_t *th;
    size_t started = 0;
    if (threads > n)
        threads = n;
    th = ip_xcalloc(threads ? threads : 1, sizeof(*th));
    pthread_mutex_init(&p.mu, NULL);
    for (size_t i = 1; i < threads; i++)
        if (pthread_create(&th[started], NULL, run, &p) == 0)
            started++;
    run(&p);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
    free(th);
    if (p.failed) {
        *err = p.err;
        return p.rc;
    }
    return 0;
}
