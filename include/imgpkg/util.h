/* util.h - small helpers shared by the whole library: allocation that never
 * returns NULL, a growable byte buffer with an optional hard maximum (for
 * network and file input), cleanup attributes, and file-system helpers that
 * write atomically.  What only the library itself uses (temporary names, the
 * sequential writer, modes, the crash-test hook) is in src/lib/util/util-private.h. */
#ifndef IMGPKG_UTIL_H
#define IMGPKG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "imgpkg/error.h"

#define IP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Manifests, indexes, configs and other JSON documents are refused over this. */
#define IP_MAX_JSON (4u << 20)

void *ip_xmalloc(size_t n);
void *ip_xcalloc(size_t n, size_t size);
void *ip_xrealloc(void *p, size_t n);
char *ip_xstrdup(const char *s);
char *ip_xstrndup(const char *s, size_t n);
char *ip_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grows *arr (of *cap elements of size elt) to hold at least n. */
void ip_grow(void **arr, size_t *cap, size_t n, size_t elt);
#define IP_GROW(arr, cap, n) ip_grow((void **)&(arr), &(cap), (n), sizeof(*(arr)))

static inline void ip_cleanup_free(void *p)
{
    free(*(void **)p);
}
static inline void ip_cleanup_close(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define cleanup_free __attribute__((cleanup(ip_cleanup_free)))
#define cleanup_close __attribute__((cleanup(ip_cleanup_close)))

struct ip_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* 0: no limit */
};
#define IP_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

void ip_buf_init(struct ip_buf *b, size_t max);
void ip_buf_release(struct ip_buf *b);
void ip_buf_reset(struct ip_buf *b);
/* Fails with IP_E_TOOBIG when the maximum would be passed. */
int ip_buf_add(struct ip_buf *b, const void *p, size_t n, struct ip_err *err);
void ip_buf_adds(struct ip_buf *b, const char *s); /* ignores max */
void ip_buf_printf(struct ip_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ip_buf_detach(struct ip_buf *b, size_t *len);

/* Reads a whole file of at most max bytes (through symlinks). */
int ip_read_file(const char *path, size_t max, struct ip_buf *out, struct ip_err *err);

/* Writes data to path atomically: temp file in the same directory, fsync,
 * rename.  The file gets mode & ~umask. */
int ip_write_file_atomic(const char *path, const void *data, size_t n, int mode,
                         struct ip_err *err);

/* Makes a temporary directory "<dir>/.<name>.imgpkg-tmp-XXXXXX" (mode 0777 &
 * ~umask), locked while the returned fd is open (close it when done); *path_out
 * is owned. */
int ip_mkdtemp_in(const char *dir, const char *name, char **path_out, struct ip_err *err);
/* Removes the temporary files and directories of `name` (NULL: any) in dir
 * that no live run holds: what a killed run left.  Only entries carrying the
 * marker, only files and directories (never a symlink), only when their lock
 * is free. */
void ip_cleanup_stale_temps(const char *dir, const char *name);
/* The error is a full disk or quota (ENOSPC, EDQUOT, EFBIG). */
bool ip_err_no_space(const struct ip_err *err);
/* Directory part and base name of a path (fresh strings). */
char *ip_dirname(const char *path);
char *ip_basename(const char *path);
char *ip_path_join(const char *a, const char *b);
/* mkdir -p (mode 0777 & ~umask). */
int ip_mkdirs(const char *path, struct ip_err *err);
/* rm -rf of a directory we created ourselves (no symlink following). */
void ip_remove_tree(const char *path);
bool ip_is_dir(const char *path);

#endif
