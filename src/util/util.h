/*
 * util.h: internal helpers shared by every module, the CLI and the tests: error setting,
 * array growth, an arena for parse trees, and reading files with a size cap.
 */
#ifndef BALE_UTIL_H
#define BALE_UTIL_H

#include "bale/common.h"
#include "bale/buf.h"
#include <stdarg.h>

/* Sets this thread's error and returns `code`, so `return bale_error_set(...)` reads well. */
int bale_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bale_error_vset(int code, const char *fmt, va_list ap);
/* Prefixes the current message with "<prefix>: " (e.g. a file name) and returns its code. */
int bale_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets BALE_ENOMEM with the standard message and returns it. */
int bale_error_oom(void);

#define BALE_BUG(msg) bale_bug(__FILE__, __LINE__, (msg))
void bale_bug(const char *file, int line, const char *msg) __attribute__((noreturn));

/*
 * Makes room for at least `need` elements in a malloc'd array `*arr` whose capacity is
 * `*alloc`, growing geometrically. On failure the array is left as it was and BALE_ENOMEM set.
 */
int bale_array_reserve_(void **arr, size_t *alloc, size_t need, size_t elem_size);
#define BALE_ARRAY_RESERVE(arr, alloc, need)                                                       \
	((need) <= (alloc) ? 0 : bale_array_reserve_((void **)&(arr), &(alloc), (need), sizeof(*(arr))))

#define BALE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * An arena: many small allocations freed at once. Parse trees live in one, so freeing a
 * Dockerfile's model is one call and allocation is a pointer bump. Memory is 16-byte aligned.
 */
typedef struct bale_arena {
	struct bale_arena_chunk *head;
	size_t used;  /* bytes used in head */
	size_t total; /* bytes allocated from the system, for limits and benchmarks */
} bale_arena;

#define BALE_ARENA_INIT {NULL, 0, 0}
void *bale_arena_alloc(bale_arena *arena, size_t size);
void *bale_arena_calloc(bale_arena *arena, size_t count, size_t size);
char *bale_arena_strndup(bale_arena *arena, const char *str, size_t len);
char *bale_arena_strdup(bale_arena *arena, const char *str);
void bale_arena_release(bale_arena *arena);

/*
 * Reads a whole file ("-" is standard input) into `out`. A file larger than `max` bytes is
 * refused with BALE_ELIMIT; an unreadable one gives BALE_EIO. Messages name the file.
 */
int bale_read_file(bale_buf *out, const char *path, size_t max);

/* True when `len` bytes at `s` are valid UTF-8; on false, `*bad` is the offset of the error. */
bool bale_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
