/*
 * instructions.h: the typed instruction layer (BuildKit's instructions.Parse) and the small
 * helpers stages.c and json.c share with it. Everything a bale_command points to is allocated
 * in the arena passed in, which belongs to the bale_stages being built.
 */
#ifndef BALE_DOCKERFILE_INSTRUCTIONS_H
#define BALE_DOCKERFILE_INSTRUCTIONS_H

#include "bale/dockerfile.h"
#include "util/util.h"

/*
 * Fills `out` with the typed view of `ins` (which must be a top-level instruction or an ONBUILD
 * trigger). What BuildKit rejects gives BALE_EPARSE with "FILE:LINE:COL: message", the position
 * being the instruction's.
 */
int df_command_build(bale_command *out, const bale_instruction *ins, bale_arena *arena,
		     const char *file);

/* Sets BALE_EPARSE "FILE:LINE:COL: <message>" at `ins`'s position and returns BALE_EPARSE. */
int df_error_at(const char *file, const bale_instruction *ins, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends `s` quoted as Go's %q does (for messages in BuildKit's words). */
void df_go_quote(bale_buf *out, const char *s);

/*
 * Go's path.Clean and path.Base, into the arena. NULL when out of memory. df_path_clean()
 * returns `path` itself when it is clean already (it must live as long as the arena).
 */
const char *df_path_clean(bale_arena *arena, const char *path);
char *df_path_base(bale_arena *arena, const char *path);

/*
 * Splits one CSV record (a --mount value) as Go's encoding/csv does. On a malformed record
 * returns BALE_EPARSE with the reason in `err` (no error is set); BALE_ENOMEM when out of memory.
 */
int df_csv_fields(bale_arena *arena, const char *s, char ***fields, size_t *n, char *err,
		  size_t err_cap);

/* The names used in messages and JSON for mount types and sharing modes. */
const char *df_mount_type_name(bale_mount_type type);
const char *df_mount_sharing_name(bale_mount_sharing sharing);

#endif
