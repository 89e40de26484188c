/* extract-disk.h - the writing half of the extractor: entries created under a
 * directory descriptor with *at() calls, walking every name one component at a
 * time with O_NOFOLLOW, so that nothing is written through a symlink and the
 * process's working directory is never used.  Names are the extractor's cleaned
 * relative names ("a/b/c": no "..", no empty or "." components). */
#ifndef IMGPKG_EXTRACT_DISK_H
#define IMGPKG_EXTRACT_DISK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum disk_type { DISK_FILE, DISK_DIR, DISK_SYMLINK, DISK_HARDLINK };

struct disk_entry {
    const char *rel;
    enum disk_type type;
    mode_t perm;        /* final permission bits (files and directories) */
    bool exact;         /* perm as it is; else the umask applies */
    const char *target; /* symlink target, or the hardlink's (cleaned) name */
    struct timespec mtime;
    struct timespec atime;
    int64_t size; /* a hardlink with data (pax) is opened to take it */
};

/* The directories of one layer, whose times are set last (creating entries in
 * them changes their mtime). */
struct disk_layer {
    int dirfd;
    struct disk_dir_time *dirs;
    size_t n_dirs, cap_dirs;
};

/* What went wrong, for the caller's message: DISK_OK, a symlink on the way
 * (`through` names it), or a system error (errno set, `what` says doing what). */
enum disk_result { DISK_OK = 0, DISK_THROUGH_SYMLINK, DISK_SYS };
struct disk_error {
    const char *what;
    int errnum;
    char *through; /* owned; the symlink's name */
};
void extract_disk_error_release(struct disk_error *e);

/* Creates the entry (and the directories above it), replacing what an earlier
 * layer left at its name (a directory only when empty).  For a file (and a
 * hardlink with data), *fd is the descriptor to write its data to, to be passed
 * to extract_disk_file_done; else it is -1. */
enum disk_result extract_disk_create(struct disk_layer *l, const struct disk_entry *e, int *fd,
                                     struct disk_error *err);
/* Ends a file: its size (holes left by sparse entries), mode and times. */
enum disk_result extract_disk_file_done(int fd, const struct disk_entry *e, int64_t size,
                                        struct disk_error *err);
/* Sets the times of the layer's directories, deepest first, and forgets them. */
enum disk_result extract_disk_layer_finish(struct disk_layer *l, struct disk_error *err);
void extract_disk_layer_release(struct disk_layer *l);

/* The descriptor of the directory holding rel (dirfd itself for a top-level
 * name: never close that one), *base pointing at rel's last component; missing
 * directories are made when create is set (a non-directory in the way is
 * replaced).  Returns the fd or -1 (errno set; ELOOP when a component is a
 * symlink, `err->through` naming it). */
int extract_disk_open_parent(int dirfd, const char *rel, bool create, const char **base,
                             struct disk_error *err);

#endif
