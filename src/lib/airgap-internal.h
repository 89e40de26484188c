/* airgap-internal.h - what airgap.c (collecting a graph) and airgap-write.c
 * (writing it out) share. */
#ifndef IMGPKG_AIRGAP_INTERNAL_H
#define IMGPKG_AIRGAP_INTERNAL_H

/* Registry lookups (locating images, checking origins) made at a time. */
#define LOCATE_THREADS 8

#endif
