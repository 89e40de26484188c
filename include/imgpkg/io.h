/* io.h - the byte stream every blob flows through.  A reader yields a blob's
 * bytes in order; readers can be stacked (a verifying reader hashes what it
 * passes on and fails at the end when the digest or size is wrong). */
#ifndef IMGPKG_IO_H
#define IMGPKG_IO_H

#include <stdint.h>
#include <sys/types.h>

#include "imgpkg/digest.h"
#include "imgpkg/error.h"
#include "imgpkg/util.h"

struct ip_reader {
    /* Returns bytes read (0 at the end) or a negative ip_code. */
    ssize_t (*read)(struct ip_reader *r, void *buf, size_t n, struct ip_err *err);
    void (*free)(struct ip_reader *r);
};

static inline ssize_t ip_reader_read(struct ip_reader *r, void *buf, size_t n, struct ip_err *err)
{
    return r->read(r, buf, n, err);
}
void ip_reader_free(struct ip_reader *r);
static inline void ip_cleanup_reader(struct ip_reader **r)
{
    ip_reader_free(*r);
}
#define cleanup_reader __attribute__((cleanup(ip_cleanup_reader)))

/* Reads from an open file descriptor, taking ownership of it. */
struct ip_reader *ip_reader_fd(int fd);
/* Reads a file by path (regular files only, symlinks not followed). */
int ip_reader_file(const char *path, struct ip_reader **out, struct ip_err *err);
/* Reads borrowed memory. */
struct ip_reader *ip_reader_mem(const void *p, size_t n);
/* Wraps inner (taking ownership): fails with IP_E_DIGEST unless exactly `size`
 * bytes with `digest` come out; `what` names the blob in the error. */
struct ip_reader *ip_reader_verify(struct ip_reader *inner, const char *digest, int64_t size,
                                   const char *what);
/* Reads a reader to its end into a buffer, refusing more than max bytes. */
int ip_reader_slurp(struct ip_reader *r, size_t max, struct ip_buf *out, struct ip_err *err);

#endif
