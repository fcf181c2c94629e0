/*
 * layout.h: a private temporary OCI layout for the image fuzz targets. Created once per
 * process (blobs/sha256 inside), removed at exit, so the replay driver, which runs every seed
 * in one process, leaves nothing behind. Failures abort: they are the harness's, not bale's.
 */
#ifndef BALE_FUZZ_LAYOUT_H
#define BALE_FUZZ_LAYOUT_H

#include <stddef.h>

/* The directory, made on the first call as /tmp/bale-fuzz-TAG-XXXXXX. */
const char *fuzz_layout(const char *tag);
/* Writes `len` bytes to NAME below the directory. */
void fuzz_layout_write(const char *name, const void *buf, size_t len);
/* Writes `buf` as the blob of its own sha256 digest; `digest` gets "sha256:<hex>". */
void fuzz_layout_blob(const void *buf, size_t len, char *digest);
/* Removes the blob of `digest` again (blobs are content-addressed: one per input piles up). */
void fuzz_layout_drop(const char *digest);

#endif
