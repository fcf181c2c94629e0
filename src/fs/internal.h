/*
 * Internal layout of the layered file tree (see include/bale/fs.h for the model).
 *
 * Nodes and versions live in paged arrays addressed by 32-bit ids, so growing never moves a
 * record and nothing is allocated per path. Names and link targets are NUL-terminated strings
 * in a paged pool (a string never straddles a page); offset 0 holds "". A directory keeps its
 * children in a singly linked list; once it has DIRHASH_MIN children it also gets an
 * open-addressing table of child ids, the only per-directory allocation.
 */
#ifndef BALE_FS_INTERNAL_H
#define BALE_FS_INTERNAL_H

#include "bale/fs.h"
#include "util/util.h"

#define NODE_SHIFT  15 /* 32768 nodes (1 MiB) a page */
#define VER_SHIFT   14 /* 16384 versions (896 KiB) a page */
#define POOL_SHIFT  20 /* 1 MiB of strings a page */
#define DIRHASH_MIN 24

struct node {
	uint32_t parent, first_child, next_sibling;
	uint32_t name;	  /* pool offset */
	uint32_t latest;  /* newest version or NONE */
	uint32_t hash;	  /* of the name */
	uint32_t dirhash; /* 1 + index in fs->dirhashes, 0 when none */
	uint16_t name_len;
	uint8_t nchildren; /* saturates at 255 */
	uint8_t pad;
};

/* Version flags beyond the public ones (bale_fs_entry.flags holds the low 10 bits). */
#define VF_PUBLIC  0x03ffu
#define VF_ADDED   0x4000u /* counted in its layer's `added` */
#define VF_CHANGED 0x8000u /* counted in its layer's `changed` */

struct version {
	uint64_t size;
	int64_t mtime;
	uint32_t node, prev;
	uint32_t uid, gid;
	uint32_t link;	 /* pool offset, or NONE */
	uint32_t target; /* hardlink: the file version, or NONE */
	uint32_t entry_index;
	uint16_t layer, until; /* until: 0xffff when none */
	uint16_t mode, flags;
	uint8_t type, fate;
};

#define LAYER_NONE16 0xffffu

struct pages {
	char **page;
	size_t npages, alloc;
	uint32_t count; /* records (or bytes, for the pool) in use */
	size_t elem;
	unsigned shift;
};

struct dirhash {
	uint32_t *slots; /* node ids, NONE when empty */
	uint32_t mask;
	uint32_t count;
};

struct fs_layer {
	bale_fs_layer_stats stats;
	uint32_t first, end; /* version ids */
	bool begun;
};

struct bale_fs {
	struct pages nodes, versions, pool;
	struct dirhash *dirhashes;
	size_t ndirhashes, dirhashes_alloc;
	struct fs_layer *layers;
	size_t nlayers;
	size_t cur;  /* the layer being applied, BALE_FS_NO_LAYER when none */
	size_t last; /* the last layer begun, BALE_FS_NO_LAYER before any */
	bale_fs_layer_stats pending;
	/* undo log of the current layer */
	uint32_t *undo_ver;
	size_t nundo_ver, undo_ver_alloc;
	uint32_t *undo_node;
	size_t nundo_node, undo_node_alloc;
	/* the parent directory of the previous entry, to skip the walk from the root */
	bale_buf last_dir;
	uint32_t last_dir_node;
	bale_buf scratch; /* paths handed out by bale_fs_add */
	uint32_t *stack;  /* subtree walks */
	size_t stack_alloc;
};

static inline struct node *fs_node(const bale_fs *fs, uint32_t id)
{
	return (struct node *)(fs->nodes.page[id >> NODE_SHIFT] +
			       (size_t)(id & ((1u << NODE_SHIFT) - 1)) * sizeof(struct node));
}

static inline struct version *fs_ver(const bale_fs *fs, uint32_t id)
{
	return (struct version *)(fs->versions.page[id >> VER_SHIFT] +
				  (size_t)(id & ((1u << VER_SHIFT) - 1)) * sizeof(struct version));
}

static inline const char *fs_str(const bale_fs *fs, uint32_t off)
{
	return fs->pool.page[off >> POOL_SHIFT] + (off & ((1u << POOL_SHIFT) - 1));
}

static inline bool fs_is_marker(uint8_t type)
{
	return type == BALE_FS_WHITEOUT || type == BALE_FS_OPAQUE;
}

static inline size_t fs_pages_bytes(const struct pages *p)
{
	return p->npages * (p->elem << p->shift) + p->alloc * sizeof(char *);
}

/* The newest non-marker version of a node, or NONE. */
uint32_t fs_newest_real(const bale_fs *fs, uint32_t node);

#endif
