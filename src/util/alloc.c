/* Array growth and the arena allocator (see util.h). */
#include "util/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

int bale_array_reserve_(void **arr, size_t *alloc, size_t need, size_t elem_size)
{
	/* 16 to start: most lists (words, commands, stages) then grow once or never. */
	size_t n = *alloc ? *alloc : 16;
	void *p;

	while (n < need) {
		if (n > SIZE_MAX / 2)
			return bale_error_oom();
		n *= 2;
	}
	if (n > SIZE_MAX / elem_size)
		return bale_error_oom();
	p = realloc(*arr, n * elem_size);
	if (!p)
		return bale_error_oom();
	*arr = p;
	*alloc = n;
	return 0;
}

#define ARENA_CHUNK_MIN ((size_t)16 * 1024)
/*
 * Released chunks are kept per thread, up to this many bytes, for the next arena: a process
 * that parses many files (bale lint DIR) reuses memory that is already mapped and in cache
 * instead of faulting in fresh pages for every large file.
 */
#define ARENA_POOL_MAX ((size_t)16 << 20)

struct arena_pool {
	struct bale_arena_chunk *head;
	size_t bytes;
};

static void pool_destroy(void *arg)
{
	struct arena_pool *pool = arg;

	while (pool->head) {
		struct bale_arena_chunk *next = pool->head->next;

		free(pool->head);
		pool->head = next;
	}
	free(pool);
}

static bale_thread_cache pool_cache = BALE_THREAD_CACHE_INIT(struct arena_pool, pool_destroy);

static struct arena_pool *thread_pool(void)
{
	return bale_thread_cache_get(&pool_cache);
}

void *bale_arena_grow(bale_arena *arena, const void *old, size_t n, size_t *alloc, size_t first,
		      size_t size)
{
	size_t want = *alloc ? *alloc * 2 : first;
	void *p;

	if (*alloc > SIZE_MAX / 2 || (size && want > SIZE_MAX / size)) {
		bale_error_oom();
		return NULL;
	}
	p = bale_arena_alloc(arena, want * size);
	if (!p)
		return NULL;
	if (n)
		memcpy(p, old, n * size);
	*alloc = want;
	return p;
}

/* A pooled chunk of at least `want` bytes (the first that fits), or NULL. */
static struct bale_arena_chunk *pool_take(size_t want)
{
	struct arena_pool *pool = thread_pool();
	struct bale_arena_chunk **link;

	for (link = pool ? &pool->head : NULL; link && *link; link = &(*link)->next)
		if ((*link)->size >= want) {
			struct bale_arena_chunk *chunk = *link;

			*link = chunk->next;
			pool->bytes -= chunk->size;
			return chunk;
		}
	return NULL;
}

void *bale_arena_alloc_grow(bale_arena *arena, size_t size)
{
	struct bale_arena_chunk *chunk = arena->head;
	size_t rounded = (size + 15) & ~(size_t)15;
	void *p;

	if (rounded < size)
		goto oom;
	if (!chunk || chunk->size - arena->used < rounded) {
		/* Chunks double with the arena's size, so big trees take few mallocs. */
		size_t want =
		    arena->total / 2 > ARENA_CHUNK_MIN ? arena->total / 2 : ARENA_CHUNK_MIN;

		if (want > ((size_t)1 << 26))
			want = (size_t)1 << 26;
		if (want < rounded)
			want = rounded;
		if (want > SIZE_MAX - sizeof(*chunk))
			goto oom;
		chunk = pool_take(want);
		if (chunk) {
			want = chunk->size;
		} else {
			chunk = malloc(sizeof(*chunk) + want);
			if (!chunk)
				goto oom;
			chunk->size = want;
		}
		chunk->next = arena->head;
		arena->head = chunk;
		arena->used = 0;
		arena->total += want;
	}
	p = chunk->data + arena->used;
	arena->used += rounded;
	return p;
oom:
	bale_error_oom();
	return NULL;
}

char *bale_arena_strdup(bale_arena *arena, const char *str)
{
	return bale_arena_strndup(arena, str, strlen(str));
}

void bale_arena_release(bale_arena *arena)
{
	struct bale_arena_chunk *chunk = arena->head, *next;

	struct arena_pool *pool = chunk ? thread_pool() : NULL;

	for (; chunk; chunk = next) {
		next = chunk->next;
		if (pool && pool->bytes + chunk->size <= ARENA_POOL_MAX) {
			chunk->next = pool->head;
			pool->head = chunk;
			pool->bytes += chunk->size;
		} else {
			free(chunk);
		}
	}
	arena->head = NULL;
	arena->used = 0;
	arena->total = 0;
}
