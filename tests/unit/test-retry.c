/* test-retry.c - the one classification of failures (by code, errno, curl
 * code and HTTP status, never by message) and the retry loop's policy. */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#include "http/retry.h"
#include "suites.h"

static struct ip_err mk(enum ip_code code, long status, int curl_code, int sys_errno)
{
    struct ip_err e;
    ip_err_set(&e, code, "certificate Couldn't connect no answer in time");
    e.http_status = status;
    e.curl_code = curl_code;
    e.sys_errno = sys_errno;
    return e;
}

static const struct {
    enum ip_code code;
    long status;
    int curl_code, sys_errno;
    enum ip_failure want;
} cases[] = {
    {IP_E_NETWORK, 0, CURLE_RECV_ERROR, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_SEND_ERROR, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_PARTIAL_FILE, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_GOT_NOTHING, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_SEND_FAIL_REWIND, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_WEIRD_SERVER_REPLY, 0, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_SSL_CONNECT_ERROR, ECONNRESET, IP_FAIL_TRANSIENT},
    {IP_E_NETWORK, 0, CURLE_TOO_MANY_REDIRECTS, 0, IP_FAIL_FINAL},
    {IP_E_NETWORK, 0, CURLE_UNSUPPORTED_PROTOCOL, 0, IP_FAIL_FINAL},
    {IP_E_TLS, 0, CURLE_PEER_FAILED_VERIFICATION, 0, IP_FAIL_FINAL},
    {IP_E_TLS, 0, CURLE_SSL_CONNECT_ERROR, 0, IP_FAIL_FINAL},
    {IP_E_TIMEOUT, 0, CURLE_OPERATION_TIMEDOUT, 0, IP_FAIL_UNREACHABLE},
    {IP_E_UNREACHABLE, 0, CURLE_COULDNT_CONNECT, ECONNREFUSED, IP_FAIL_UNREACHABLE},
    {IP_E_HTTP, 429, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_HTTP, 500, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_HTTP, 502, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_HTTP, 503, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_HTTP, 504, 0, 0, IP_FAIL_TRANSIENT},
    {IP_E_HTTP, 501, 0, 0, IP_FAIL_FINAL},
    {IP_E_HTTP, 400, 0, 0, IP_FAIL_FINAL},
    {IP_E_AUTH, 401, 0, 0, IP_FAIL_FINAL},
    {IP_E_NOTFOUND, 404, 0, 0, IP_FAIL_FINAL},
    {IP_E_IO, 0, 0, ECONNRESET, IP_FAIL_TRANSIENT},
    {IP_E_IO, 0, 0, ENOSPC, IP_FAIL_FINAL},
    {IP_E_DIGEST, 0, 0, 0, IP_FAIL_CORRUPT},
    {IP_E_TOOBIG, 0, 0, 0, IP_FAIL_FINAL},
    {IP_E_FORMAT, 0, 0, 0, IP_FAIL_FINAL},
};

START_TEST(classify)
{
    struct ip_err e =
        mk(cases[_i].code, cases[_i].status, cases[_i].curl_code, cases[_i].sys_errno);
    ck_assert_int_eq(ip_err_classify(&e), cases[_i].want);
}
END_TEST

struct counter {
    int calls;
    int fail_times;
    enum ip_code code;
    long status;
};

static int flaky(void *ctx, struct ip_err *err)
{
    struct counter *c = ctx;
    if (c->calls++ < c->fail_times) {
        ip_err_set(err, c->code, "try %d failed", c->calls);
        err->http_status = c->status;
        return -(int)c->code;
    }
    return 0;
}

START_TEST(run_retries_transient_until_success)
{
    struct ip_retry r = ip_retry_policy(3);
    struct counter c = {0, 2, IP_E_HTTP, 503};
    struct ip_err err;
    ck_assert_int_eq(ip_retry_run(&r, flaky, &c, &err), 0);
    ck_assert_int_eq(c.calls, 3);
    ck_assert_int_eq(r.attempt, 2);
}
END_TEST

START_TEST(run_gives_up_after_max)
{
    struct ip_retry r = ip_retry_policy(2);
    struct counter c = {0, 10, IP_E_NETWORK, 0};
    struct ip_err err;
    ck_assert_int_eq(ip_retry_run(&r, flaky, &c, &err), -IP_E_NETWORK);
    ck_assert_int_eq(c.calls, 3);
    ck_assert_str_eq(err.msg, "try 3 failed");
}
END_TEST

START_TEST(run_final_failure_not_retried)
{
    struct ip_retry r = ip_retry_policy(5);
    struct counter c = {0, 10, IP_E_AUTH, 401};
    struct ip_err err;
    ck_assert_int_eq(ip_retry_run(&r, flaky, &c, &err), -IP_E_AUTH);
    ck_assert_int_eq(c.calls, 1);
}
END_TEST

START_TEST(policy_classes)
{
    struct ip_err down = mk(IP_E_UNREACHABLE, 0, CURLE_COULDNT_CONNECT, ECONNREFUSED);
    struct ip_err bad = mk(IP_E_DIGEST, 0, 0, 0);
    struct ip_retry first = {.max = 5, .unreachable = false};
    struct ip_retry req = ip_retry_policy(5);
    struct ip_retry blob = ip_retry_policy(5);
    blob.corrupt = true;
    ck_assert(!ip_retry_again(&first, &down));
    ck_assert(ip_retry_again(&req, &down));
    ck_assert(!ip_retry_again(&req, &bad));
    ck_assert(ip_retry_again(&blob, &bad));
    struct ip_retry none = ip_retry_policy(-1);
    ck_assert_int_eq(none.max, 0);
    ck_assert(!ip_retry_again(&none, &down));
}
END_TEST

Suite *suite_retry(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("classify");
    tcase_add_loop_test(tc, classify, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("loop");
    tcase_add_test(tc, run_retries_transient_until_success);
    tcase_add_test(tc, run_gives_up_after_max);
    tcase_add_test(tc, run_final_failure_not_retried);
    tcase_add_test(tc, policy_classes);
    suite_add_tcase(s, tc);
    return s;
}
