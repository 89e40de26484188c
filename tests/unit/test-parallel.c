/* test-parallel.c - the worker pool: every index once, on several threads;
 * the first failure stops the handing out and is returned with its error. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "suites.h"
#include "util/parallel.h"

struct counts {
    int calls[1000];
    pthread_mutex_t mu;
    int running, most; /* calls at once */
    size_t fail_at;
};

static int count_call(void *ctx, size_t i, struct ip_err *err)
{
    struct counts *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->calls[i]++;
    if (++c->running > c->most)
        c->most = c->running;
    pthread_mutex_unlock(&c->mu);
    usleep(200);
    pthread_mutex_lock(&c->mu);
    c->running--;
    pthread_mutex_unlock(&c->mu);
    if (i == c->fail_at)
        return ip_err_set(err, IP_E_NETWORK, "item %zu failed", i);
    return 0;
}

START_TEST(every_index_once_in_parallel)
{
    static struct counts c;
    struct ip_err err;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    c.fail_at = (size_t)-1;
    ck_assert_int_eq(ip_parallel_for(1000, 4, count_call, &c, &err), 0);
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(c.calls[i], 1);
    ck_assert_int_le(c.most, 4);
    ck_assert_int_gt(c.most, 1);
    /* one thread: the calling one, in order */
    memset(c.calls, 0, sizeof(c.calls));
    c.most = 0;
    ck_assert_int_eq(ip_parallel_for(10, 1, count_call, &c, &err), 0);
    ck_assert_int_eq(c.most, 1);
    /* nothing to do, more threads than items */
    ck_assert_int_eq(ip_parallel_for(0, 8, count_call, &c, &err), 0);
    ck_assert_int_eq(ip_parallel_for(2, 8, count_call, &c, &err), 0);
    pthread_mutex_destroy(&c.mu);
}
END_TEST

START_TEST(first_failure_stops_the_rest)
{
    static struct counts c;
    struct ip_err err;
    int total = 0;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    c.fail_at = 10;
    ck_assert_int_eq(ip_parallel_for(1000, 3, count_call, &c, &err), -IP_E_NETWORK);
    ck_assert_str_eq(err.msg, "item 10 failed");
    ck_assert_int_eq(err.code, IP_E_NETWORK);
    for (int i = 0; i < 1000; i++)
        total += c.calls[i];
    ck_assert_int_lt(total, 20); /* only what was already handed out ran */
    pthread_mutex_destroy(&c.mu);
}
END_TEST

Suite *suite_parallel(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = tcase_create("parallel");
    tcase_add_test(tc, every_index_once_in_parallel);
    tcase_add_test(tc, first_failure_stops_the_rest);
    suite_add_tcase(s, tc);
    return s;
}
