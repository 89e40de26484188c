/* retry.h - the one retry loop of the library: a failure classified by
 * ip_err_classify() is tried again, after a pause that doubles each time
 * (100 ms up to 3.2 s), while tries are left and the policy takes its class.
 * Requests, token fetches and first contact (client.c) run it through
 * ip_retry_run(); the streaming GET (stream.c), whose tries happen inside a
 * reader, and the copy engine's whole-blob retry go through
 * ip_retry_again(). */
#ifndef IMGPKG_HTTP_RETRY_H
#define IMGPKG_HTTP_RETRY_H

#include <stdbool.h>

#include "imgpkg/error.h"

struct ip_retry {
    int max;          /* further tries after the first */
    int attempt;      /* further tries made so far */
    bool unreachable; /* IP_FAIL_UNREACHABLE is worth another try (not at first
                       * contact: a registry that refuses or never answers is
                       * down, waiting would only delay the error) */
    bool corrupt;     /* IP_FAIL_CORRUPT too (bytes that came over the network) */
};

/* A policy for a request: transient and unreachable failures, `max` tries more. */
static inline struct ip_retry ip_retry_policy(int max)
{
    return (struct ip_retry){.max = max < 0 ? 0 : max, .unreachable = true};
}

/* After a failure: true when another try is worth it (the pause already
 * taken), false when err is the answer. */
bool ip_retry_again(struct ip_retry *r, const struct ip_err *err);

/* Runs once() until it returns 0 or ip_retry_again() says no. */
int ip_retry_run(struct ip_retry *r, int (*once)(void *ctx, struct ip_err *err), void *ctx,
                 struct ip_err *err);

#endif
