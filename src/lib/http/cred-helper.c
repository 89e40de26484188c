/* cred-helper.c - Docker credential helpers (docker-credential-helpers'
 * protocol): `docker-credential-NAME get` run from $PATH without a shell,
 * the server URL on its stdin, a JSON object {"Username", "Secret"} on its
 * stdout.  What it prints is wiped once read; its complaints reach an error
 * message only when they cannot be a secret. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "http/auth.h"
#include "oci/json.h"
#include "imgpkg/util.h"
#include "util/run-command.h"
#include "util/secret.h"
#include "util/banned.h"

#define MAX_HELPER_OUT (1u << 20)
#define MAX_HELPER_ERR (64u << 10)
#define HELPER_TIMEOUT_MS 30000
/* docker-credential-helpers: "credentials not found in native keychain"
 * means there is nothing for this server. */
#define CREDS_NOT_FOUND "credentials not found"

/* The first line of a helper's complaint, unless it looks like output that
 * may hold a secret. */
static void helper_message(const struct ip_buf *errb, const struct ip_buf *outb, char *msg,
                           size_t size)
{
    const struct ip_buf *srcs[2] = {errb, outb};
    msg[0] = '\0';
    for (int i = 0; i < 2; i++) {
        const char *s = srcs[i]->data ? srcs[i]->data : "";
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '{')
            continue;
        size_t n = strcspn(s, "\r\n");
        if (n > 200)
            n = 200;
        snprintf(msg, size, ": %.*s", (int)n, s);
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c == 127)
                *c = '?';
        return;
    }
}

static int check_helper_name(const char *helper, const char *server_url, struct ip_err *err)
{
    if (!*helper || strlen(helper) > 200 || strchr(helper, '/'))
        return ip_err_set(err, IP_E_INPUT, "invalid credential helper name '%.200s'", helper);
    for (const char *c = helper; *c; c++)
        if ((unsigned char)*c < 32 || *c == 127)
            return ip_err_set(err, IP_E_INPUT, "invalid credential helper name");
    if (strlen(server_url) > IP_CHILD_MAX_STDIN)
        return ip_err_set(err, IP_E_INPUT, "server URL too long for a credential helper");
    return 0;
}

/* A helper that exited non-zero: nothing for this server, or an error. */
static int helper_failed(const char *prog, const char *server_url, int status,
                         const struct ip_buf *ob, const struct ip_buf *eb, struct ip_err *err)
{
    char msg[256], how[64];
    if ((ob->data && strstr(ob->data, CREDS_NOT_FOUND)) ||
        (eb->data && strstr(eb->data, CREDS_NOT_FOUND)))
        return 0;
    helper_message(eb, ob, msg, sizeof(msg));
    if (WIFEXITED(status))
        snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
    return ip_err_set(err, IP_E_AUTH, "error getting credentials from %s for '%.300s' (%s)%s", prog,
                      server_url, how, msg);
}

/* The helper's JSON answer.  1: credentials, 0: empty. */
static int helper_answer(const char *prog, const struct ip_buf *ob, struct ip_cred *out,
                         struct ip_err *err)
{
    yajl_val v = NULL;
    struct ip_err e;
    int rc = 0;
    if (ip_json_parse(ob->data ? ob->data : "", ob->len, &v, &e) < 0 || !YAJL_IS_OBJECT(v)) {
        rc =
            ip_err_set(err, IP_E_FORMAT, "credential helper %s: output is not a JSON object", prog);
    } else {
        const char *user = ip_json_get_str(v, "Username");
        const char *secret = ip_json_get_str(v, "Secret");
        if (user && !strcmp(user, "<token>")) {
            /* An identity token stored by `docker login`. */
            out->identity_token = ip_dup_nonempty(secret);
            rc = out->identity_token ? 1 : 0;
        } else if ((user && *user) || (secret && *secret)) {
            out->username = ip_xstrdup(user ? user : "");
            out->password = ip_xstrdup(secret ? secret : "");
            rc = 1;
        }
    }
    if (v) {
        const char *sec = ip_json_get_str(v, "Secret");
        if (sec)
            ip_secret_wipe((void *)sec, strlen(sec));
        yajl_tree_free(v);
    }
    return rc;
}

int ip_cred_helper_get(const char *helper, const char *server_url, struct ip_cred *out,
                       struct ip_err *err)
{
    struct ip_buf ob, eb;
    int rc;

    if ((rc = check_helper_name(helper, server_url, err)) < 0)
        return rc;
    cleanup_free char *prog = ip_xasprintf("docker-credential-%s", helper);
    cleanup_free char *path = ip_find_in_path(prog);
    if (!path)
        return ip_err_set(err, IP_E_AUTH,
                          "credential helper %s: executable file not found in $PATH", prog);

    char *argv[] = {prog, (char *)"get", NULL};
    ip_buf_init(&ob, MAX_HELPER_OUT);
    ip_buf_init(&eb, 0);
    struct ip_child child = {.path = path,
                             .argv = argv,
                             .in = server_url,
                             .in_len = strlen(server_url),
                             .out = &ob,
                             .err = &eb,
                             .err_keep = MAX_HELPER_ERR,
                             .timeout_ms = HELPER_TIMEOUT_MS};
    rc = ip_pipe_command(&child, err);
    if (rc < 0 && err->code == IP_E_TIMEOUT)
        rc = ip_err_set(err, IP_E_AUTH, "credential helper %s timed out after %d s", prog,
                        HELPER_TIMEOUT_MS / 1000);
    else if (rc < 0 && err->code == IP_E_TOOBIG)
        rc = ip_err_set(err, IP_E_TOOBIG, "credential helper %s: output over %u bytes", prog,
                        MAX_HELPER_OUT);
    else if (rc < 0)
        ip_err_wrap(err, "running %s", prog);
    else if (!WIFEXITED(child.status) || WEXITSTATUS(child.status) != 0)
        rc = helper_failed(prog, server_url, child.status, &ob, &eb, err);
    else
        rc = helper_answer(prog, &ob, out, err);
    ip_secret_buf_release(&ob);
    ip_secret_buf_release(&eb);
    return rc;
}
