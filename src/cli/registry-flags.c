/* registry-flags.c - imgpkg's registry flags, shared by the commands that
 * talk to registries, and the registry options they make. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util/banned.h"

#define R(field) offsetof(struct registry_flags, field)

const struct flag registry_flag_table[] = {
    {"registry-ca-cert-path", 0, FLAG_SLICE, R(ca),
     "Add CA certificates for registry API (format: /tmp/foo) (can be specified multiple times)",
     NULL, 0},
    {"registry-verify-certs", 0, FLAG_BOOL, R(verify_certs),
     "Set whether to verify server's certificate chain and host name", "true", 0},
    {"registry-insecure", 0, FLAG_BOOL, R(insecure),
     "Allow the use of http when interacting with registries", NULL, 0},
    {"registry-username", 0, FLAG_STRING, R(username), "Set username for auth ($IMGPKG_USERNAME)",
     NULL, 0},
    {"registry-password", 0, FLAG_STRING, R(password), "Set password for auth ($IMGPKG_PASSWORD)",
     NULL, 0},
    {"registry-token", 0, FLAG_STRING, R(token), "Set token for auth ($IMGPKG_TOKEN)", NULL, 0},
    {"registry-anon", 0, FLAG_BOOL, R(anon), "Set anonymous auth ($IMGPKG_ANON)", NULL, 0},
    {"registry-response-header-timeout", 0, FLAG_DURATION, R(timeout_ms),
     "Maximum time to allow a request to wait for a server's response headers from the registry "
     "(ms|s|m|h)",
     "30s", 0},
    {"registry-request-timeout", 0, FLAG_DURATION, R(request_timeout_ms),
     "Maximum time for a registry answer that is not a blob's content, and for an error answer "
     "(ms|s|m|h)",
     "2m", 0},
    {"registry-retry-count", 0, FLAG_INT, R(retry_count),
     "Set the number of times imgpkg retries to send requests to the registry in case of an error",
     "5", 0},
    {"concurrency", 0, FLAG_INT, R(concurrency), "Concurrency", "5", 0},
    FLAG_END,
};

/* The library's warnings, printed as imgpkg prints its own. */
static void print_warning(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "imgpkg: Warning: %s\n", msg);
}

/* --debug: each entry with Go's log time stamp, as imgpkg's. */
static void print_debug(void *ctx, const char *text)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    (void)ctx;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
    size_t n = strlen(text);
    fprintf(stderr, "%s %s%s", stamp, text, n && text[n - 1] == '\n' ? "" : "\n");
}

int registry_flags_opts(const struct cli_global *g, const struct registry_flags *f,
                        struct ip_registry_opts *o, struct ip_err *err)
{
    ip_registry_opts_init(o);
    o->ca_cert_paths = (const char **)f->ca.v;
    o->n_ca_cert_paths = f->ca.n;
    o->verify_certs = f->verify_certs;
    o->insecure = f->insecure;
    o->retries = f->retry_count < 0 ? 0 : f->retry_count;
    o->debug = g->debug;
    o->debug_log = print_debug;
    /* imgpkg says so on stdout whenever the variable is set, whatever its value */
    static bool iaas_noted;
    if (getenv("IMGPKG_ENABLE_IAAS_AUTH") && !iaas_noted) {
        iaas_noted = true;
        printf("IMGPKG_ENABLE_IAAS_AUTH environment variable will be deprecated, please use the "
               "flag --activate-keychain to activate the needed keychains\n\n");
        fflush(stdout);
    }
    o->warn = print_warning;
    o->auth.username = f->username;
    o->auth.password = f->password;
    o->auth.token = f->token;
    o->auth.anon = f->anon;
    /* whole seconds, rounded up; 0 or less: the library's default */
    if (f->timeout_ms > 0)
        o->response_header_timeout_s = (f->timeout_ms + 999) / 1000;
    if (f->request_timeout_ms > 0)
        o->request_timeout_s = (f->request_timeout_ms + 999) / 1000;
    if (f->concurrency < 1)
        return ip_err_set(err, IP_E_USAGE, "--concurrency must be at least 1");
    if ((f->username == NULL) != (f->password == NULL) && !getenv("IMGPKG_USERNAME") &&
        !getenv("IMGPKG_PASSWORD"))
        return ip_err_set(err, IP_E_USAGE,
                          "Expected both --registry-username and --registry-password");
    return 0;
}
