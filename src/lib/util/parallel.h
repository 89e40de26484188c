/* parallel.h - the library's one worker pool: a loop over n indexes run on a
 * bounded number of threads (locating images, checking origins, moving blobs). */
#ifndef IMGPKG_UTIL_PARALLEL_H
#define IMGPKG_UTIL_PARALLEL_H

#include <stddef.h>

#include "imgpkg/error.h"

/* Calls fn(ctx, i, err) for every i in [0, n), indexes handed out in order, on
 * up to `threads` threads (the calling thread is one of them; fewer when
 * threads cannot be started).  The first call that fails (returns < 0) stops
 * the handing out; its error is copied to *err and its code returned.  Calls
 * run concurrently: fn guards what it shares. */
int ip_parallel_for(size_t n, size_t threads, int (*fn)(void *ctx, size_t i, struct ip_err *err),
                    void *ctx, struct ip_err *err);

#endif
