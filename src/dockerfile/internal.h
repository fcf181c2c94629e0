/*
 * internal.h: what the files of the Dockerfile module share, and the layout of the opaque
 * bale_dockerfile. The tree lives in one arena: every string, flag and argument array of every
 * instruction, so bale_dockerfile_free() is one release. Only a large top-level instruction
 * array is a separate malloc'd block, grown as instructions are found (see reserve_instrs()).
 */

/* Up to this many bytes, the instruction array is in the arena. */
#define INSTRS_ARENA_MAX ((size_t)64 << 10)
#ifndef BALE_DOCKERFILE_INTERNAL_H
#define BALE_DOCKERFILE_INTERNAL_H

#include "bale/dockerfile.h"
#include "util/util.h"

struct bale_dockerfile {
	bale_arena arena;
	const char *source; /* the caller's input, borrowed (see bale_dockerfile_parse) */
	size_t len;
	char *filename;
	bale_instruction *instrs;
	size_t ninstrs, alloc;
	bool instrs_malloced; /* instrs is malloc'd, not in the arena */
	bale_directive directives[3];
	size_t ndirectives;
	int escape;
};

/* A list of (pointer, length) strings, reused across instructions while parsing. */
typedef struct df_strvec {
	const char **v;
	size_t *lens;
	size_t n, alloc;
} df_strvec;

/* Room for `n` strings in all. */
int df_strvec_reserve(df_strvec *vec, size_t n);

/* Appends one string (inline: every word of every instruction comes through here). */
static inline int df_strvec_push(df_strvec *vec, const char *s, size_t len)
{
	if (vec->n + 1 > vec->alloc && df_strvec_reserve(vec, vec->n + 1))
		return BALE_ENOMEM;
	vec->v[vec->n] = s;
	vec->lens[vec->n] = len;
	vec->n++;
	return 0;
}
void df_strvec_release(df_strvec *vec);

/*
 * Reads `len` bytes as Go's json.Unmarshal reads a []interface{}: 1 when it is a valid JSON
 * array of strings (appended to `out`, decoded, in `arena`); 0 when it is not valid JSON (the
 * caller then keeps the text as shell form); BALE_EPARSE when it is a valid array holding
 * something other than strings, which BuildKit rejects.
 */
int df_json_string_array(df_strvec *out, bale_arena *arena, const char *s, size_t len);

#endif
