/* run-command.c - one way to run a child process: fork and exec without a
 * shell, pipes on 0-2, a poll loop draining stdout and stderr until both
 * close or the deadline passes, and a reap that kills a child overstaying. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/run-command.h"
#include "util/secret.h"
#include "util/util-private.h"
#include "util/banned.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *ip_find_in_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        size_t n = strcspn(p, ":");
        cleanup_free char *dir = n ? ip_xstrndup(p, n) : ip_xstrdup(".");
        char *full = ip_path_join(dir, prog);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
            return full;
        free(full);
        if (p[n] == '\0')
            return NULL;
        p += n + 1;
    }
}

/* Between fork and exec only async-signal-safe calls. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], int in, int out, int errfd)
{
    struct sigaction sa;
    sigset_t none;
    int fds[3];

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Out of the way of 0-2 first, so no dup2 clobbers another source. */
    fds[0] = fcntl(in, F_DUPFD_CLOEXEC, 3);
    fds[1] = fcntl(out, F_DUPFD_CLOEXEC, 3);
    fds[2] = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
    for (int i = 0; i < 3; i++)
        if (fds[i] < 0 || dup2(fds[i], i) < 0)
            _exit(127);
    execv(path, argv);
    _exit(127);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

struct run {
    struct ip_child *c;
    int out_fd, err_fd;
    int64_t deadline;
    bool timed_out, too_big;
    int sys_errno;
    const char *sys_what;
};

/* One chunk from fd into the child's stdout or stderr buffer. */
static void drain(struct run *r, int *fd, bool is_out)
{
    char chunk[16384];
    struct ip_err e;
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(fd);
        return;
    }
    if (is_out) {
        if (ip_buf_add(r->c->out, chunk, (size_t)n, &e) < 0)
            r->too_big = true;
    } else if (r->c->err && r->c->err->len < r->c->err_keep) {
        size_t room = r->c->err_keep - r->c->err->len;
        ip_buf_add(r->c->err, chunk, (size_t)n < room ? (size_t)n : room, &e);
    }
    /* what a credential helper prints may be a secret */
    ip_secret_wipe(chunk, (size_t)n);
}

static void collect(struct run *r)
{
    while (r->out_fd >= 0 || r->err_fd >= 0) {
        struct pollfd pfd[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
        int64_t left = r->deadline - now_ms();
        if (left <= 0) {
            r->timed_out = true;
            return;
        }
        int n = poll(pfd, 2, (int)left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->sys_errno = errno;
            r->sys_what = "poll";
            return;
        }
        short ready = POLLIN | POLLHUP | POLLERR | POLLNVAL;
        if (r->out_fd >= 0 && (pfd[0].revents & ready))
            drain(r, &r->out_fd, true);
        if (r->err_fd >= 0 && (pfd[1].revents & ready))
            drain(r, &r->err_fd, false);
        if (r->too_big)
            return;
    }
}

/* Reaps the child, killing it when it failed us or overstays. */
static void reap(struct run *r, pid_t pid)
{
    bool killed = r->timed_out || r->too_big || r->sys_what;
    if (killed)
        kill(pid, SIGKILL);
    for (;;) {
        pid_t w = waitpid(pid, &r->c->status, killed ? 0 : WNOHANG);
        if (w == pid)
            return;
        if (w < 0 && errno != EINTR) {
            r->c->status = 0;
            return;
        }
        if (w != 0)
            continue;
        if (now_ms() >= r->deadline) {
            r->timed_out = killed = true;
            kill(pid, SIGKILL);
        } else {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

int ip_pipe_command(struct ip_child *c, struct ip_err *err)
{
    int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    struct run r = {.c = c, .out_fd = -1, .err_fd = -1};
    int rc = 0;
    pid_t pid;

    if (c->in_len > IP_CHILD_MAX_STDIN)
        return ip_err_set(err, IP_E_INPUT, "input of %zu bytes over the %d a pipe takes", c->in_len,
                          IP_CHILD_MAX_STDIN);
    if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = ip_err_sys(err, errno, "pipe");
        goto out;
    }
    /* The input fits in the pipe: written now, the child exiting early
     * cannot raise SIGPIPE here. */
    if (c->in_len && (rc = ip_write_all(inp[1], c->in, c->in_len, err)) < 0)
        goto out;
    close_fd(&inp[1]);
    pid = fork();
    if (pid < 0) {
        rc = ip_err_sys(err, errno, "fork");
        goto out;
    }
    if (pid == 0)
        child_exec(c->path, c->argv, inp[0], outp[1], errp[1]);
    close_fd(&inp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    r.out_fd = outp[0];
    r.err_fd = errp[0];
    outp[0] = errp[0] = -1;
    r.deadline = now_ms() + c->timeout_ms;
    collect(&r);
    close_fd(&r.out_fd);
    close_fd(&r.err_fd);
    reap(&r, pid);
    if (r.sys_what)
        rc = ip_err_sys(err, r.sys_errno, "%s", r.sys_what);
    else if (r.timed_out)
        rc = ip_err_set(err, IP_E_TIMEOUT, "timed out after %d s", c->timeout_ms / 1000);
    else if (r.too_big)
        rc = ip_err_set(err, IP_E_TOOBIG, "output over %zu bytes", c->out->max);
out:
    close_fd(&inp[0]);
    close_fd(&inp[1]);
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    return rc;
}
