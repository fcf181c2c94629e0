/*
 * bale/fs.h: the layered file tree of an image, built in one streaming pass over its layers.
 *
 * The model. A *node* is a path (one per distinct path across all layers; its name is stored
 * once, under its parent directory). A *version* is one appearance of a path in one layer: a
 * tar entry (file, directory, symlink, hardlink, device, fifo) or a marker (a whiteout
 * `.wh.NAME`, which sits on the node of the path it deletes, or an opaque marker
 * `.wh..wh..opq`, which sits on the node of its directory). Every version is kept, so a path's
 * whole history is there: which layer added each copy, its mode, owner, size and link target,
 * and which later layer replaced or deleted it (its `until` layer and its `fate`). A version is
 * in the final (merged) file system when its fate is BALE_FS_PRESENT.
 *
 * The rules are the OCI image spec's, as overlay applies them: a whiteout deletes the lower
 * path and everything below it; an opaque marker hides the lower layers' children of its
 * directory (entries of the same layer stay, wherever they sit in the tar); a non-directory
 * replacing a directory hides the subtree (engines write no whiteout for that); a later entry
 * for the same path in the same layer wins. Symlinks are never followed by the tree itself; a
 * symlink whose target climbs above the root (`../../..`) is flagged BALE_FS_LINK_ESCAPES, and
 * bale_fs_resolve() follows links inside the root only, as a chroot would.
 *
 * Memory: nodes and versions are compact records in paged arrays, names and link targets in a
 * paged string pool; nothing is allocated per node, and a directory gets a hash table only
 * once it has many children. bale_fs_stats() reports the bytes held.
 *
 * Verification: a layer's entries reach the tree while its blob is still being checked; they
 * count only once bale_fs_layer_commit() is called (after the digests matched). A layer that
 * fails is undone with bale_fs_layer_abort(), which restores every version it had replaced or
 * deleted. bale_fs_build() does all of this over an image.
 *
 * Identifiers (bale_fs_id) are indexes, stable for the life of the tree. Strings returned
 * belong to the tree and live until bale_fs_free(), except bale_fs_entry.path, which belongs to
 * the walk that produced it and is valid during the callback only.
 */
#ifndef BALE_FS_H
#define BALE_FS_H

#include "common.h"
#include "buf.h"
#include "image.h"

typedef struct bale_fs bale_fs;
typedef uint32_t bale_fs_id;

#define BALE_FS_NONE ((bale_fs_id)UINT32_MAX)
/* "No layer": bale_fs_entry.until of a version that is in the final file system. */
#define BALE_FS_NO_LAYER ((size_t)-1)
/* The root directory's node. */
#define BALE_FS_ROOT ((bale_fs_id)0)

typedef enum bale_fs_type {
	BALE_FS_FILE = 1,
	BALE_FS_DIR,
	BALE_FS_SYMLINK,
	BALE_FS_HARDLINK,
	BALE_FS_CHAR,
	BALE_FS_BLOCK,
	BALE_FS_FIFO,
	BALE_FS_WHITEOUT, /* `.wh.NAME`: deletes the lower NAME (the version sits on NAME's node) */
	BALE_FS_OPAQUE,	  /* `.wh..wh..opq`: hides the lower children (sits on the directory) */
} bale_fs_type;

/* What became of a version. */
typedef enum bale_fs_fate {
	BALE_FS_PRESENT = 0,	     /* in the final file system (markers: still in effect) */
	BALE_FS_REPLACED,	     /* a later entry for the same path */
	BALE_FS_SHADOWED,	     /* a later entry for the same path in the same layer */
	BALE_FS_DELETED,	     /* a whiteout of this path */
	BALE_FS_DELETED_WITH_PARENT, /* a whiteout of a directory above it */
	BALE_FS_HIDDEN_BY_OPAQUE,    /* an opaque directory above it */
	BALE_FS_PARENT_REPLACED,     /* a directory above it replaced by a non-directory */
} bale_fs_fate;

/* bale_fs_entry.flags */
#define BALE_FS_XATTRS	       0x001u /* the entry carries PAX xattrs */
#define BALE_FS_CAPABILITY     0x002u /* ... among them security.capability */
#define BALE_FS_LINK_ESCAPES   0x004u /* a symlink whose target climbs above the root */
#define BALE_FS_ABSOLUTE       0x008u /* the tar name started with "/" */
#define BALE_FS_DOTDOT	       0x010u /* the tar name held ".." that stayed inside the root */
#define BALE_FS_IMPLICIT       0x020u /* walks only: a directory that no entry names */
#define BALE_FS_PARENT_NOT_DIR 0x040u /* a directory above it was not a directory then */
#define BALE_FS_LINK_DANGLING  0x080u /* a hardlink whose target was not there */
#define BALE_FS_ID_CLAMPED     0x100u /* uid or gid over 2^32-1, stored as 2^32-1 */
#define BALE_FS_REPLAYED       0x200u /* copied from an earlier layer with the same blob */

/* One version, decoded. */
typedef struct bale_fs_entry {
	const char
	    *path; /* "etc/passwd" (no leading "/"), "" for the root; NULL from bale_fs_get */
	const char *link; /* symlink target as written; hardlink target path; NULL otherwise */
	bale_fs_type type;
	bale_fs_fate fate;
	uint32_t mode; /* permission bits with setuid, setgid, sticky (07777) */
	uint64_t uid, gid;
	uint64_t size; /* content bytes of a file; 0 for everything else */
	int64_t mtime;
	size_t layer; /* the layer that holds this version */
	size_t until; /* the layer that replaced or deleted it; BALE_FS_NO_LAYER if none */
	unsigned flags;
	uint64_t entry_index; /* position in its layer's tar (of the replayed layer for copies) */
	bale_fs_id id;	      /* this version; BALE_FS_NONE for an implicit directory */
	bale_fs_id node;      /* its path */
	bale_fs_id target;    /* hardlink: the file version it shares content with, or NONE */
} bale_fs_entry;

/* Per-layer changes; the counts are of non-directories (files, links, devices, fifos). */
typedef struct bale_fs_layer_stats {
	bool applied;	      /* committed: its read succeeded and its digests matched */
	bool missing;	      /* not in the image (a foreign layer): nothing applied */
	size_t replayed_from; /* a duplicate: the layer whose entries were applied again, or
				 BALE_FS_NO_LAYER */
	uint64_t entries;     /* tar entries */
	uint64_t tar_bytes;   /* sum of the entries' sizes (what dive calls the layer's size) */
	uint64_t added, added_bytes;	 /* paths that were not there */
	uint64_t changed, changed_bytes; /* paths that were there (new content or metadata) */
	uint64_t removed, removed_bytes; /* lower copies that this layer deleted or hid */
	uint64_t whiteouts, opaques;	 /* markers */
} bale_fs_layer_stats;

typedef struct bale_fs_stats {
	size_t nodes, versions, layers;
	size_t memory; /* bytes held by the tree */
} bale_fs_stats;

/* A tree for an image of `nlayers` layers (at most 65535). */
BALE_EXTERN(int) bale_fs_new(bale_fs **out, size_t nlayers);
BALE_EXTERN(void) bale_fs_free(bale_fs *fs);

/* ---- building ------------------------------------------------------------------------- */

/*
 * Starts applying layer `layer`; layers are applied in order (a layer may be skipped: a
 * missing one). Then bale_fs_add() for each entry, and bale_fs_layer_commit() or _abort().
 */
BALE_EXTERN(int) bale_fs_layer_begin(bale_fs *fs, size_t layer);
/*
 * Applies one tar entry of the current layer. `out` (may be NULL) receives the version made
 * (path is `entry->path`; for a whiteout, the path it deletes); out->id is BALE_FS_NONE for
 * entries that make none (the root's own entry still makes one; aufs's `.wh..wh.*` metadata
 * makes none). Errors: BALE_ELIMIT when the tree's indexes are full, BALE_ENOMEM.
 */
BALE_EXTERN(int) bale_fs_add(bale_fs *fs, const bale_image_entry *entry, bale_fs_entry *out);
BALE_EXTERN(int) bale_fs_layer_commit(bale_fs *fs);
/* Undoes everything the current layer did; its stats stay zero and `applied` false. */
BALE_EXTERN(void) bale_fs_layer_abort(bale_fs *fs);
/* Marks `layer` missing (a foreign layer not in the image): it applies nothing. */
BALE_EXTERN(int) bale_fs_layer_missing(bale_fs *fs, size_t layer);
/* Applies the entries of committed layer `from` again as layer `layer` (the same blob). */
BALE_EXTERN(int) bale_fs_layer_replay(bale_fs *fs, size_t layer, size_t from);

/*
 * Callbacks of bale_fs_build(); each optional. `entry` runs after the tree applied the entry
 * (`applied` is the version made, NULL when none), with the image reader's entry and content
 * reader, so a caller reads content during the one pass. `layer_end` runs after the commit.
 * A non-zero return stops the build with that value.
 */
typedef struct bale_fs_hooks {
	int (*layer_begin)(void *ctx, bale_fs *fs, const bale_image_layer *layer);
	int (*entry)(void *ctx, bale_fs *fs, const bale_fs_entry *applied,
		     const bale_image_entry *entry, bale_image_reader *content);
	int (*layer_end)(void *ctx, bale_fs *fs, const bale_image_layer *layer);
	void *ctx;
} bale_fs_hooks;

/*
 * Reads every layer of `image` into a new tree (*out, the caller's). Missing layers are marked
 * and skipped; a duplicate blob is read once and replayed. On a read error the layer being
 * read is undone, *out is NULL and the reader's error (naming blob and entry) is returned.
 */
BALE_EXTERN(int) bale_fs_build(bale_fs **out, bale_image *image, const bale_fs_hooks *hooks);

/* ---- reading -------------------------------------------------------------------------- */

BALE_EXTERN(void) bale_fs_stats_get(const bale_fs *fs, bale_fs_stats *out);
/* Stats of a layer (zero and not applied for a layer never applied). */
BALE_EXTERN(const bale_fs_layer_stats *) bale_fs_layer(const bale_fs *fs, size_t layer);

/* Decodes version `id` (path NULL; see bale_fs_path()). */
BALE_EXTERN(void) bale_fs_get(const bale_fs *fs, bale_fs_id id, bale_fs_entry *out);

/* Nodes: the root is BALE_FS_ROOT; parent of the root is BALE_FS_NONE. */
BALE_EXTERN(size_t) bale_fs_node_count(const bale_fs *fs);
BALE_EXTERN(bale_fs_id) bale_fs_node_parent(const bale_fs *fs, bale_fs_id node);
/* The node's name (not NUL-terminated; "" for the root) and its length. */
BALE_EXTERN(const char *) bale_fs_node_name(const bale_fs *fs, bale_fs_id node, size_t *len);
/* Children, in no particular order: first child, then next sibling; BALE_FS_NONE at the end. */
BALE_EXTERN(bale_fs_id) bale_fs_node_first_child(const bale_fs *fs, bale_fs_id node);
BALE_EXTERN(bale_fs_id) bale_fs_node_next_sibling(const bale_fs *fs, bale_fs_id node);
/* The newest version of the node (markers included), or NONE; older ones by _version_prev. */
BALE_EXTERN(bale_fs_id) bale_fs_node_latest(const bale_fs *fs, bale_fs_id node);
BALE_EXTERN(bale_fs_id) bale_fs_version_prev(const bale_fs *fs, bale_fs_id version);
BALE_EXTERN(bale_fs_id) bale_fs_version_node(const bale_fs *fs, bale_fs_id version);
/* The node's version in the final file system, or NONE (deleted, or never an entry). */
BALE_EXTERN(bale_fs_id) bale_fs_node_present(const bale_fs *fs, bale_fs_id node);
/* Appends the node's path ("a/b", "" for the root) to `out`. */
BALE_EXTERN(int) bale_fs_path(const bale_fs *fs, bale_fs_id node, bale_buf *out);
/* Sorts node ids by name (byte order), as the walks do with BALE_FS_WALK_SORTED. */
BALE_EXTERN(void) bale_fs_sort_by_name(const bale_fs *fs, bale_fs_id *nodes, size_t n);
/* The versions of `layer` are the ids [*first, *end), in tar order. */
BALE_EXTERN(void)
bale_fs_layer_range(const bale_fs *fs, size_t layer, bale_fs_id *first, bale_fs_id *end);

/* The node of `path` ("/a/b", "a/b/", "." are accepted), or BALE_ENOTFOUND. */
BALE_EXTERN(int) bale_fs_lookup(const bale_fs *fs, bale_fs_id *out, const char *path);

/*
 * Resolves `path` in the final file system, following symlinks (the last component too when
 * `follow_last`) inside the root: ".." at the root stays at the root and an absolute target
 * starts again at the image's root, as in a chroot. *out is the version found; `resolved`
 * (may be NULL) gets the path reached. BALE_ENOTFOUND when a component is missing,
 * BALE_ELIMIT after 40 links (a loop).
 */
BALE_EXTERN(int)
bale_fs_resolve(const bale_fs *fs, const char *path, bool follow_last, bale_fs_entry *out,
		bale_buf *resolved);

/* A walk's callback: 0 goes on, BALE_FS_SKIP skips a directory's subtree, other stops. */
#define BALE_FS_SKIP 1
typedef int (*bale_fs_walk_fn)(void *ctx, const bale_fs_entry *entry);

#define BALE_FS_WALK_SORTED 0x1u /* siblings in byte order of their names */

/*
 * The final file system: every present path, parents before children, the root first. A
 * directory with no entry of its own but present children comes with id NONE, type DIR and
 * BALE_FS_IMPLICIT. Markers are not part of it.
 */
BALE_EXTERN(int)
bale_fs_walk_merged(const bale_fs *fs, unsigned flags, bale_fs_walk_fn fn, void *ctx);
/* One layer's versions in tar order: markers, shadowed and replaced versions included. */
BALE_EXTERN(int)
bale_fs_walk_layer(const bale_fs *fs, size_t layer, bale_fs_walk_fn fn, void *ctx);
/* Every version of one path, oldest first, deleted ones and markers included. */
BALE_EXTERN(int)
bale_fs_walk_history(const bale_fs *fs, bale_fs_id node, bale_fs_walk_fn fn, void *ctx);

/* "file", "dir", "symlink", "hardlink", "char", "block", "fifo", "whiteout", "opaque". */
BALE_EXTERN(const char *) bale_fs_type_name(bale_fs_type type);
/* "present", "replaced", "shadowed", "deleted", "deleted-with-parent", "hidden-by-opaque",
   "parent-replaced". */
BALE_EXTERN(const char *) bale_fs_fate_name(bale_fs_fate fate);

#endif
