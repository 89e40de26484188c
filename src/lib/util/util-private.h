/* util-private.h - helpers only the library uses: the temporary-name scheme
 * and its locks, the sequential file writer, the modes new files get, and the
 * fault-injection hook of the crash tests. */
#ifndef IMGPKG_UTIL_PRIVATE_H
#define IMGPKG_UTIL_PRIVATE_H

#include "imgpkg/util.h"

/* write(2) until done, retrying EINTR. */
int ip_write_all(int fd, const void *p, size_t n, struct ip_err *err);
/* A file being written sequentially, whose pages are handed to the disk as it
 * goes (sync_file_range), so that the fsync before its rename finds little to
 * do and the disk works while the CPU compresses or the network delivers. */
struct ip_seq_writer {
    int fd;
    bool no_writeback; /* a file that will be deleted: let the kernel keep it in memory */
    int64_t written;
    int64_t flushed;
};
void ip_seq_writer_init(struct ip_seq_writer *w, int fd);
int ip_seq_write(struct ip_seq_writer *w, const void *p, size_t n, struct ip_err *err);
/* Every temporary name the tool makes is "<dir>/.<name>.imgpkg-tmp-XXXXXX":
 * nothing else carries the marker, so cleaning up never touches a user's file. */
#define IP_TMP_MARKER ".imgpkg-tmp-"
#define IP_TMP_RANDOM 6
/* Creates a temporary file (mode 0666 & ~umask), locked while its descriptor
 * is open; the lock is held before anyone else can take it for a leftover.
 * *path_out is owned. */
int ip_mkstemp_in(const char *dir, const char *name, char **path_out, struct ip_err *err);
/* n is a temporary name made for name (NULL: for any name). */
bool ip_is_temp_name(const char *n, const char *name);
void ip_cleanup_stale_temps_at(int dfd, const char *name);
/* Takes the exclusive lock of a directory (waiting for it); returns the fd
 * that holds it. */
int ip_lock_dir(const char *path, struct ip_err *err);
/* The process umask and the modes new files and directories get under it
 * (0666 and 0777 & ~umask, as imgpkg). */
mode_t ip_umask(void);
mode_t ip_file_mode(void);
mode_t ip_dir_mode(void);
/* Fault injection for the crash tests: with IMGPKG_TEST_CRASH_AT=N the process
 * kills itself (SIGKILL) at the Nth point where it writes or renames. */
void ip_crashpoint(void);
int ip_fsync_dir(const char *dir, struct ip_err *err);
void ip_remove_tree_at(int dfd, const char *name);
/* Timestamp for generated archives: SOURCE_DATE_EPOCH when set and valid, else 0. */
int64_t ip_source_date_epoch(void);

#endif
