/* run-command.h - running a program as a child process, never through a
 * shell: its stdin fed from memory, its stdout and stderr collected through
 * pipes with bounds, a deadline after which it is killed (git's
 * pipe_command()).  Every child process of the library goes through here. */
#ifndef IMGPKG_UTIL_RUN_COMMAND_H
#define IMGPKG_UTIL_RUN_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "imgpkg/util.h"

/* What the child gets on its stdin is written into the pipe before it runs,
 * so it must fit in the pipe's buffer (POSIX guarantees PIPE_BUF). */
#define IP_CHILD_MAX_STDIN 4096

struct ip_child {
    const char *path;  /* the executable (see ip_find_in_path) */
    char *const *argv; /* argv[0] included, NULL-terminated */
    const void *in;    /* stdin bytes (at most IP_CHILD_MAX_STDIN), or NULL */
    size_t in_len;
    struct ip_buf *out; /* stdout; over out->max the child is killed */
    struct ip_buf *err; /* stderr, the first err_keep bytes kept (NULL: discarded) */
    size_t err_keep;
    int timeout_ms; /* after this the child is killed */
    int status;     /* its wait status, on success */
};

/* Runs the child to its end.  0: it ran and exited (or was killed by a
 * signal: see status); IP_E_TIMEOUT when it overstayed, IP_E_TOOBIG when its
 * stdout passed the maximum (killed in both cases), IP_E_IO when a system
 * call failed.  Messages do not name the program: callers add it. */
int ip_pipe_command(struct ip_child *c, struct ip_err *err);

/* The program on $PATH as execvp would find it (a regular executable file);
 * NULL when there is none.  Fresh string. */
char *ip_find_in_path(const char *prog);

#endif
