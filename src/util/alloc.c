/* Array growth and the arena allocator (see util.h). */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

int bale_array_reserve_(void **arr, size_t *alloc, size_t need, size_t elem_size)
{
	size_t n = *alloc ? *alloc : 8;
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

struct bale_arena_chunk {
	struct bale_arena_chunk *next;
	size_t size;
	_Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK_MIN ((size_t)16 * 1024)

void *bale_arena_alloc(bale_arena *arena, size_t size)
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
		chunk = malloc(sizeof(*chunk) + want);
		if (!chunk)
			goto oom;
		chunk->size = want;
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

void *bale_arena_calloc(bale_arena *arena, size_t count, size_t size)
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

char *bale_arena_strndup(bale_arena *arena, const char *str, size_t len)
{
	char *p = bale_arena_alloc(arena, len + 1);

	if (!p)
		return NULL;
	if (len)
		memcpy(p, str, len);
	p[len] = '\0';
	return p;
}

char *bale_arena_strdup(bale_arena *arena, const char *str)
{
	return bale_arena_strndup(arena, str, strlen(str));
}

void bale_arena_release(bale_arena *arena)
{
	struct bale_arena_chunk *chunk = arena->head, *next;

	for (; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	arena->head = NULL;
	arena->used = 0;
	arena->total = 0;
}
