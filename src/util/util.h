/*
 * util.h: internal helpers shared by every module, the CLI and the tests: error setting,
 * array growth, an arena for parse trees, and reading files with a size cap.
 */
#ifndef BALE_UTIL_H
#define BALE_UTIL_H

#include "bale/common.h"
#include "bale/buf.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

/* Sets this thread's error and returns `code`, so `return bale_error_set(...)` reads well. */
int bale_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int bale_error_vset(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
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
	((need) <= (alloc)                                                                         \
	     ? 0                                                                                   \
	     : bale_array_reserve_((void **)&(arr), &(alloc), (need), sizeof(*(arr))))

#define BALE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * bale_buf_add() for the parsers' inner loops: appends without a call when the room is there
 * (the buffers are reused, so it nearly always is), else calls bale_buf_add().
 */
static inline int bale_buf_add_fast(bale_buf *buf, const void *data, size_t len)
{
	if (!buf->err && len < buf->alloc - buf->len && buf->len <= buf->max &&
	    len <= buf->max - buf->len) {
		if (len)
			memcpy(buf->ptr + buf->len, data, len);
		buf->len += len;
		buf->ptr[buf->len] = '\0';
		return 0;
	}
	return bale_buf_add(buf, data, len);
}

/*
 * A per-thread object, made zeroed on first use and handed to `destroy` (which frees what it
 * holds and the object itself) when its thread ends: the caches that let a thread parse file
 * after file without allocating its working memory again. Define one per kind, static:
 *   static bale_thread_cache cache = BALE_THREAD_CACHE_INIT(struct scratch, scratch_destroy);
 */
typedef struct bale_thread_cache {
	void (*destroy)(void *obj);
	size_t size;
	pthread_key_t key;
	_Atomic bool ready; /* the key was tried */
	bool key_ok;	    /* and made */
} bale_thread_cache;

#define BALE_THREAD_CACHE_INIT(type, free_fn)                                                      \
	{                                                                                          \
		.destroy = (free_fn), .size = sizeof(type)                                         \
	}

/* This thread's object; NULL when none can be had (out of memory, no key). */
void *bale_thread_cache_get(bale_thread_cache *cache);

/*
 * An arena: many small allocations freed at once. Parse trees live in one, so freeing a
 * Dockerfile's model is one call and allocation is a pointer bump. Memory is 16-byte aligned.
 */
typedef struct bale_arena {
	struct bale_arena_chunk *head;
	size_t used;  /* bytes used in head */
	size_t total; /* bytes allocated from the system, for limits and benchmarks */
} bale_arena;

#define BALE_ARENA_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
/* bale_arena_alloc() when the head chunk has no room: takes a new chunk (alloc.c). */
void *bale_arena_alloc_grow(bale_arena *arena, size_t size);

/* A chunk of an arena; `head` is the one allocations are cut from. */
struct bale_arena_chunk {
	struct bale_arena_chunk *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

/*
 * `size` bytes, 16-byte aligned, in the arena (NULL when out of memory). Inline: the parsers
 * and the findings allocate hundreds of thousands of small nodes, and one that fits the
 * current chunk is a pointer bump that needs no call.
 */
static inline void *bale_arena_alloc(bale_arena *arena, size_t size)
{
	size_t rounded = (size + 15) & ~(size_t)15;
	void *p;

	if (!arena->head || rounded < size || arena->head->size - arena->used < rounded)
		return bale_arena_alloc_grow(arena, size);
	p = arena->head->data + arena->used;
	arena->used += rounded;
	return p;
}

/*
 * For a writer that learns its length only as it writes: the free room at the end of the head
 * chunk, at least `min` bytes (a new chunk when it has less), its size in *room; NULL when out
 * of memory. Nothing else may be allocated until bale_arena_take() keeps what was written.
 */
static inline char *bale_arena_room(bale_arena *arena, size_t min, size_t *room)
{
	if (!arena->head || arena->head->size - arena->used < min) {
		size_t rounded = (min + 15) & ~(size_t)15;

		/* A chunk with the room, taken as an allocation and given back at once. */
		if (!bale_arena_alloc_grow(arena, min))
			return NULL;
		arena->used -= rounded;
	}
	*room = arena->head->size - arena->used;
	return (char *)arena->head->data + arena->used;
}

/*
 * Keeps the first `len` bytes of bale_arena_room()'s room (len at most the room) as an
 * allocation. A chunk's size need not be a multiple of 16: bytes that end it take the rest.
 */
static inline void bale_arena_take(bale_arena *arena, size_t len)
{
	size_t room = arena->head->size - arena->used, rounded = (len + 15) & ~(size_t)15;

	arena->used += rounded <= room ? rounded : room;
}

/* `count` zeroed elements of `size` bytes in the arena (NULL when out of memory). */
static inline void *bale_arena_calloc(bale_arena *arena, size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size) {
		bale_error_oom();
		return NULL;
	}
	p = bale_arena_alloc(arena, count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

/*
 * Grows an array that lives in the arena to twice its capacity (`first` elements when it has
 * none): a new block holding the `n` elements of `old`. The old block stays until the arena
 * is released. Returns the new array and sets *alloc, or NULL when out of memory (error set).
 */
void *bale_arena_grow(bale_arena *arena, const void *old, size_t n, size_t *alloc, size_t first,
		      size_t size);

/*
 * A copy of `len` bytes at `str`, NUL-terminated, in the arena (NULL when out of memory).
 * Inline: the parsers copy every word.
 */
static inline char *bale_arena_strndup(bale_arena *arena, const char *str, size_t len)
{
	char *p = bale_arena_alloc(arena, len + 1);

	if (!p)
		return NULL;
	if (len)
		memcpy(p, str, len);
	p[len] = '\0';
	return p;
}
char *bale_arena_strdup(bale_arena *arena, const char *str);
void bale_arena_release(bale_arena *arena);

/*
 * Reads a whole file ("-" is standard input) into `out`. A file larger than `max` bytes is
 * refused with BALE_ELIMIT; an unreadable one gives BALE_EIO. Messages name the file.
 */
int bale_read_file(bale_buf *out, const char *path, size_t max);

/*
 * Appends a unified diff (3 lines of context) turning text `a` into text `b` to `out`, headed
 * "--- name_a" / "+++ name_b"; nothing when they are equal.
 */
int bale_diff_unified(bale_buf *out, const char *a, size_t alen, const char *b, size_t blen,
		      const char *name_a, const char *name_b);

/* True when `len` bytes at `s` are valid UTF-8; on false, `*bad` is the offset of the error. */
bool bale_utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * A JSON writer that appends to a bale_buf: fast, allocation-free beyond the buffer, for the
 * documents bale prints (`bale parse`, reports). The caller emits values in order; the writer
 * adds commas, colons and (when pretty) newlines and indentation. Strings are escaped as RFC 8259
 * requires (quote, backslash, every control character; also DEL, U+2028 and U+2029, so the
 * output is safe to embed in JavaScript); a byte sequence that is not valid UTF-8 is written as
 * U+FFFD, so the output is always valid UTF-8. Errors are sticky: a buffer failure (memory, the
 * buffer's cap) or misuse (a key outside an object, nesting deeper than BALE_JSON_MAX_DEPTH)
 * stops further output, and bale_json_finish() returns it.
 */
#define BALE_JSON_MAX_DEPTH 256

/* Receives output; returns 0 or a negative BALE_E* code (with its message set). */
typedef int (*bale_json_sink_fn)(void *ctx, const char *data, size_t len);

typedef struct bale_json {
	bale_buf *out;
	bale_json_sink_fn sink;
	void *sink_ctx;
	size_t chunk;
	bool pretty;
	bool need_comma; /* a value was written at the current level */
	bool after_key;	 /* a key was written; its value comes next */
	int err;
	unsigned depth;
	unsigned char kind[BALE_JSON_MAX_DEPTH]; /* '{' or '[' per open level */
} bale_json;

void bale_json_init(bale_json *json, bale_buf *out, bool pretty);
void bale_json_object_begin(bale_json *json);
void bale_json_object_end(bale_json *json);
void bale_json_array_begin(bale_json *json);
void bale_json_array_end(bale_json *json);
/*
 * Streams the output: whenever `out` holds `chunk` bytes or more after a value (and at
 * bale_json_finish()), its content goes to `sink` and `out` is emptied. A large document then
 * needs no large buffer. A sink error stops the writer; bale_json_finish() returns it.
 */
void bale_json_set_sink(bale_json *json, bale_json_sink_fn sink, void *ctx, size_t chunk);
/* The key of the next member; only inside an object. */
void bale_json_key(bale_json *json, const char *key);
/* A string value; NULL writes null. */
void bale_json_string(bale_json *json, const char *str);
void bale_json_stringn(bale_json *json, const char *str, size_t len);
void bale_json_int(bale_json *json, int64_t value);
void bale_json_uint(bale_json *json, uint64_t value);
void bale_json_bool(bale_json *json, bool value);
void bale_json_null(bale_json *json);
/* Appends `len` bytes at `str` as the body of a JSON string (no quotes) to `out`. */
int bale_json_escape(bale_buf *out, const char *str, size_t len);
/*
 * Checks that every container was closed, ends pretty output with a newline, and returns 0 or
 * the first error (its message set).
 */
int bale_json_finish(bale_json *json);

/* --- paths and platforms (path.c) ---------------------------------------------------------- */

/*
 * Go's path.Clean of `len` bytes at `s`, into `out` (room for len + 2 bytes): one '/' between
 * elements, no "." elements, ".." eating the element before it (never past the root), "." for
 * an empty result. BuildKit cleans COPY sources, mount targets and .dockerignore patterns so.
 */
void bale_path_clean(char *out, const char *s, size_t len);
/*
 * The architecture this program runs on, in Go's (GOARCH) names: "amd64", "arm64", "arm", ...;
 * `variant` gets BuildKit's default variant for it ("v7" for arm, else "").
 */
const char *bale_host_arch(const char **variant);

/* --- scanning text 16 bytes a step --------------------------------------------------------- */

/*
 * The scans that look for the first of a few bytes in text (a parser's special characters, the
 * anchors of the secret scan) take sixteen bytes a step where SSE2 is compiled in: `mask16(p,
 * arg)` gives a bit per byte of p[0, 16) that stops the scan. bale_find16() moves *at to the
 * first stop in s[*at, len), or to len when there is none, and returns true; the last bytes are
 * read as the sixteen that end `s`, so nothing past len is read. With fewer than sixteen bytes
 * in all, or without SSE2, it returns false and the caller looks at the bytes one by one.
 */
static inline __attribute__((always_inline)) bool
bale_find16(const char *s, size_t len, size_t *at, unsigned (*mask16)(const char *, unsigned),
	    unsigned arg)
{
#if defined(__SSE2__)
	size_t i = *at;
	unsigned bits;

	if (len < 16)
		return false;
	for (; len - i >= 16; i += 16)
		if ((bits = mask16(s + i, arg)) != 0) {
			*at = i + (size_t)__builtin_ctz(bits);
			return true;
		}
	bits = i < len ? mask16(s + len - 16, arg) >> (16 - (len - i)) : 0;
	*at = bits ? i + (size_t)__builtin_ctz(bits) : len;
	return true;
#else
	(void)s, (void)len, (void)at, (void)mask16, (void)arg;
	return false;
#endif
}

#endif
