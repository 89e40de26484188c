/* extract.h - writes the layers of an image into a directory (what pull does):
 * each layer is streamed from its store through a verifying reader, read by
 * libarchive, and every entry checked before it is written (relative to a
 * descriptor of dir, never through a symlink).
 *
 * What is refused, with a one-line error naming the entry and the layer digest:
 * absolute names, any ".." component, names over 4096 bytes, character and
 * block devices, FIFOs and sockets, symlinks with an absolute target or whose
 * relative target climbs above dir (resolved lexically from the link's
 * directory; a ".." after a name, as in "a/../b", is refused too, since
 * lexical resolution would not be sound through another symlink), hardlinks
 * whose target is not a regular file already inside dir, entries written
 * through a symlink, and two entries of different types (file, directory,
 * symlink) for one name in one layer.
 *
 * Whiteouts (OCI image-spec): ".wh.NAME" removes NAME as left by the earlier
 * layers, ".wh..wh..opq" empties its directory of what the earlier layers put
 * there; neither hides what the same layer writes, and neither acts through a
 * symlink (refused).  Other ".wh..wh." names (aufs metadata) are ignored.
 * A file or symlink of a later layer replaces what an earlier layer left at
 * its name: a symlink is replaced (never written through), a directory goes
 * with everything in it.  Names are taken as bytes (UTF-8 pax names are
 * written as they are, whatever the locale).
 *
 * Modes: by default imgpkg's rule, perm = u | u>>3 | u>>6 with u = mode & 0700,
 * then the process umask (as imgpkg, which has no explicit chmod).  With
 * keep_permissions the tar's permission bits (0777, no setuid/setgid/sticky)
 * are set exactly.  Directories always get at least u+rwx so that later
 * entries and layers can be written.  Modification times come from the tar;
 * owners, ACLs, extended attributes and file flags are never restored.
 *
 * The digest of each layer is only known once the whole blob has gone through:
 * a damaged layer fails the extraction (IP_E_DIGEST), but possibly after some
 * of its files were written.  On any error what was written so far stays in
 * dir (never outside it): callers extract into a fresh temporary directory
 * and rename it into place on success, removing it on failure.
 *
 * dir should be empty (or hold only a previous trusted extraction): the checks
 * cover what the layers create, not symlinks already there.
 *
 * Entries are created relative to a descriptor of dir with *at() calls, each
 * name walked one component at a time without following symlinks: the
 * process's working directory is never changed, and other threads may go on
 * using relative paths.
 */
#ifndef IMGPKG_EXTRACT_H
#define IMGPKG_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "imgpkg/error.h"
#include "imgpkg/oci.h"
#include "imgpkg/store.h"

#define IP_EXTRACT_DEFAULT_MAX_BYTES ((int64_t)64 << 30)
#define IP_EXTRACT_MAX_NAME 4096

struct ip_extract_opts {
    bool keep_permissions; /* false: imgpkg's rule (user bits copied to group and other) */
    /* Cap on the total uncompressed size (0: IP_EXTRACT_DEFAULT_MAX_BYTES), counted
     * both as the sizes of the files written and as the bytes of the uncompressed
     * tar streams of all layers together; passing it fails with IP_E_TOOBIG (a
     * file whose header states a size over the cap is refused before it is written). */
    int64_t max_bytes;
    /* Optional: told of each layer as its extraction starts (index from 0). */
    void (*on_layer)(void *ctx, const struct ip_desc *layer, size_t index, size_t n_layers);
    void *on_layer_ctx;
};

/* Extracts the layers of image manifest m, read from store s (each blob verified
 * against its digest while it streams), into the existing directory dir, in
 * order (later layers overwrite earlier ones; OCI whiteouts ".wh.NAME" remove
 * NAME, ".wh..wh..opq" empties the directory).  Never writes outside dir.
 * o may be NULL (defaults).  Layers may be gzip, zstd (when libarchive has it
 * built in) or plain tar, whatever their media type says.  Errors: IP_E_INPUT
 * (a refused entry), IP_E_UNSUPPORTED (devices, FIFOs, sockets), IP_E_TOOBIG,
 * IP_E_DIGEST (a damaged blob), IP_E_FORMAT (not a tar), IP_E_NOTFOUND (a blob
 * the store lacks), IP_E_IO. */
int ip_extract_image(struct ip_store *s, const struct ip_manifest *m, const char *dir,
                     const struct ip_extract_opts *o, struct ip_err *err);

#endif
