/*
 * The layered file tree: building it from tar entries, layer by layer, with the OCI rules for
 * whiteouts, opaque directories and type changes, and an undo log so that a layer whose read
 * fails leaves nothing behind. See include/bale/fs.h for the model, internal.h for the layout.
 */
#include "fs/internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- paged storage ------------------------------------------------------------------------ */

static void pages_init(struct pages *p, size_t elem, unsigned shift)
{
	memset(p, 0, sizeof(*p));
	p->elem = elem;
	p->shift = shift;
}

static void pages_release(struct pages *p)
{
	for (size_t i = 0; i < p->npages; i++)
		free(p->page[i]);
	free(p->page);
	memset(p, 0, sizeof(*p));
}

/* Reserves `n` more records (contiguous when they fit a page); returns the first id. */
static int pages_take(struct pages *p, uint32_t n, uint32_t *out)
{
	size_t per = (size_t)1 << p->shift;
	size_t at = p->count;

	if ((at & (per - 1)) + n > per)
		at = (at + per - 1) & ~(per - 1); /* the rest of the page stays unused */
	if (at + n >= UINT32_MAX)
		return bale_error_set(BALE_ELIMIT,
				      "the file tree is full (over 2^32 records); the image is "
				      "too large for bale");
	while ((at + n + per - 1) / per > p->npages) {
		char *page = malloc(p->elem * per);

		if (!page || BALE_ARRAY_RESERVE(p->page, p->alloc, p->npages + 1)) {
			free(page);
			return bale_error_oom();
		}
		p->page[p->npages++] = page;
	}
	*out = (uint32_t)at;
	p->count = (uint32_t)(at + n);
	return 0;
}

static int pool_add(bale_fs *fs, const char *s, size_t len, uint32_t *out)
{
	uint32_t off;
	int rc;

	if (len >= ((size_t)1 << POOL_SHIFT))
		return bale_error_set(BALE_ELIMIT, "a name of %zu bytes is too long", len);
	if ((rc = pages_take(&fs->pool, (uint32_t)len + 1, &off)) != 0)
		return rc;
	memcpy((char *)fs_str(fs, off), s, len);
	((char *)fs_str(fs, off))[len] = '\0';
	*out = off;
	return 0;
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

int bale_fs_new(bale_fs **out, size_t nlayers)
{
	bale_fs *fs;
	uint32_t root, off;
	struct node *n;

	*out = NULL;
	if (nlayers >= LAYER_NONE16)
		return bale_error_set(BALE_ELIMIT,
				      "an image of %zu layers is over bale's limit of %u", nlayers,
				      LAYER_NONE16 - 1);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return bale_error_oom();
	pages_init(&fs->nodes, sizeof(struct node), NODE_SHIFT);
	pages_init(&fs->versions, sizeof(struct version), VER_SHIFT);
	pages_init(&fs->pool, 1, POOL_SHIFT);
	bale_buf_init(&fs->last_dir, 0);
	bale_buf_init(&fs->scratch, 0);
	fs->nlayers = nlayers;
	fs->cur = fs->last = BALE_FS_NO_LAYER;
	fs->layers = calloc(nlayers ? nlayers : 1, sizeof(*fs->layers));
	if (!fs->layers || pool_add(fs, "", 0, &off) || pages_take(&fs->nodes, 1, &root)) {
		bale_fs_free(fs);
		return bale_error_oom();
	}
	for (size_t i = 0; i < nlayers; i++)
		fs->layers[i].stats.replayed_from = BALE_FS_NO_LAYER;
	n = fs_node(fs, root);
	memset(n, 0, sizeof(*n));
	n->parent = n->first_child = n->next_sibling = n->latest = BALE_FS_NONE;
	n->name = off;
	n->hash = hash_name("", 0);
	fs->last_dir_node = BALE_FS_ROOT;
	*out = fs;
	return 0;
}

void bale_fs_free(bale_fs *fs)
{
	if (!fs)
		return;
	pages_release(&fs->nodes);
	pages_release(&fs->versions);
	pages_release(&fs->pool);
	for (size_t i = 0; i < fs->ndirhashes; i++)
		free(fs->dirhashes[i].slots);
	free(fs->dirhashes);
	free(fs->layers);
	free(fs->undo_ver);
	free(fs->undo_node);
	free(fs->stack);
	bale_buf_release(&fs->last_dir);
	bale_buf_release(&fs->scratch);
	free(fs);
}

/* ---- directories -------------------------------------------------------------------------- */

static bool name_is(const bale_fs *fs, const struct node *n, const char *name, size_t len,
		    uint32_t h)
{
	return n->hash == h && n->name_len == len && memcmp(fs_str(fs, n->name), name, len) == 0;
}

static int dirhash_insert(struct dirhash *d, const bale_fs *fs, uint32_t id)
{
	uint32_t i;

	if ((d->count + 1) * 2 > d->mask + 1) {
		uint32_t size = (d->mask + 1) * 2, *slots = malloc(size * sizeof(*slots)), *old;
		uint32_t oldsize = d->mask + 1;

		if (!slots)
			return bale_error_oom();
		memset(slots, 0xff, size * sizeof(*slots));
		old = d->slots;
		d->slots = slots;
		d->mask = size - 1;
		for (uint32_t k = 0; k < oldsize; k++) {
			if (old[k] == BALE_FS_NONE)
				continue;
			for (i = fs_node(fs, old[k])->hash & d->mask; d->slots[i] != BALE_FS_NONE;
			     i = (i + 1) & d->mask)
				;
			d->slots[i] = old[k];
		}
		free(old);
	}
	for (i = fs_node(fs, id)->hash & d->mask; d->slots[i] != BALE_FS_NONE;
	     i = (i + 1) & d->mask)
		;
	d->slots[i] = id;
	d->count++;
	return 0;
}

static int dirhash_build(bale_fs *fs, uint32_t dir)
{
	struct dirhash d = {0};
	int rc = 0;

	d.mask = 63;
	d.slots = malloc(64 * sizeof(*d.slots));
	if (!d.slots ||
	    BALE_ARRAY_RESERVE(fs->dirhashes, fs->dirhashes_alloc, fs->ndirhashes + 1)) {
		free(d.slots);
		return bale_error_oom();
	}
	memset(d.slots, 0xff, 64 * sizeof(*d.slots));
	for (uint32_t c = fs_node(fs, dir)->first_child; c != BALE_FS_NONE && !rc;
	     c = fs_node(fs, c)->next_sibling)
		rc = dirhash_insert(&d, fs, c);
	if (rc) {
		free(d.slots);
		return rc;
	}
	fs->dirhashes[fs->ndirhashes++] = d;
	fs_node(fs, dir)->dirhash = (uint32_t)fs->ndirhashes;
	return 0;
}

static uint32_t child_find(const bale_fs *fs, uint32_t dir, const char *name, size_t len,
			   uint32_t h)
{
	const struct node *d = fs_node(fs, dir);

	if (d->dirhash) {
		const struct dirhash *t = &fs->dirhashes[d->dirhash - 1];

		for (uint32_t i = h & t->mask; t->slots[i] != BALE_FS_NONE; i = (i + 1) & t->mask)
			if (name_is(fs, fs_node(fs, t->slots[i]), name, len, h))
				return t->slots[i];
		return BALE_FS_NONE;
	}
	for (uint32_t c = d->first_child; c != BALE_FS_NONE; c = fs_node(fs, c)->next_sibling)
		if (name_is(fs, fs_node(fs, c), name, len, h))
			return c;
	return BALE_FS_NONE;
}

static int child_get(bale_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t *out)
{
	uint32_t h = hash_name(name, len), id, off;
	struct node *n, *d;
	int rc;

	if ((id = child_find(fs, dir, name, len, h)) != BALE_FS_NONE) {
		*out = id;
		return 0;
	}
	if (len > UINT16_MAX)
		return bale_error_set(BALE_ELIMIT, "a name of %zu bytes is too long", len);
	if ((rc = pool_add(fs, name, len, &off)) != 0 || (rc = pages_take(&fs->nodes, 1, &id)) != 0)
		return rc;
	n = fs_node(fs, id);
	d = fs_node(fs, dir);
	memset(n, 0, sizeof(*n));
	n->parent = dir;
	n->first_child = BALE_FS_NONE;
	n->latest = BALE_FS_NONE;
	n->name = off;
	n->name_len = (uint16_t)len;
	n->hash = h;
	n->next_sibling = d->first_child;
	d->first_child = id;
	if (d->nchildren < 255)
		d->nchildren++;
	if (d->dirhash) {
		if ((rc = dirhash_insert(&fs->dirhashes[d->dirhash - 1], fs, id)) != 0)
			return rc;
	} else if (d->nchildren >= DIRHASH_MIN) {
		if ((rc = dirhash_build(fs, dir)) != 0)
			return rc;
	}
	*out = id;
	return 0;
}

/* The node of a normalized path (no leading "/", no empty components), created as needed. */
static int node_get(bale_fs *fs, const char *path, size_t len, uint32_t *out)
{
	const char *slash = len ? memrchr(path, '/', len) : NULL;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	const char *base = slash ? slash + 1 : path;
	uint32_t dir;
	int rc;

	if (len == 0) {
		*out = BALE_FS_ROOT;
		return 0;
	}
	if (fs->last_dir.len == dlen && memcmp(fs->last_dir.ptr, path, dlen) == 0) {
		dir = fs->last_dir_node;
	} else {
		const char *p = path, *end = path + dlen;

		dir = BALE_FS_ROOT;
		while (p < end) {
			const char *q = memchr(p, '/', (size_t)(end - p));

			if (!q)
				q = end;
			if (q > p && (rc = child_get(fs, dir, p, (size_t)(q - p), &dir)) != 0)
				return rc;
			p = q + 1;
		}
		bale_buf_reset(&fs->last_dir);
		if (bale_buf_add(&fs->last_dir, path, dlen))
			return fs->last_dir.err;
		fs->last_dir_node = dir;
	}
	return child_get(fs, dir, base, len - (size_t)(base - path), out);
}

uint32_t fs_newest_real(const bale_fs *fs, uint32_t node)
{
	uint32_t v = fs_node(fs, node)->latest;

	while (v != BALE_FS_NONE && fs_is_marker(fs_ver(fs, v)->type))
		v = fs_ver(fs, v)->prev;
	return v;
}

bale_fs_id bale_fs_node_present(const bale_fs *fs, bale_fs_id node)
{
	uint32_t v = fs_newest_real(fs, node);

	return v != BALE_FS_NONE && fs_ver(fs, v)->fate == BALE_FS_PRESENT ? v : BALE_FS_NONE;
}

/* ---- applying a layer --------------------------------------------------------------------- */

static int undo_fate(bale_fs *fs, uint32_t v)
{
	if (BALE_ARRAY_RESERVE(fs->undo_ver, fs->undo_ver_alloc, fs->nundo_ver + 1))
		return BALE_ENOMEM;
	fs->undo_ver[fs->nundo_ver++] = v;
	return 0;
}

/* Ends version `v` with `fate` at the current layer; counts a removal when asked. */
static int end_version(bale_fs *fs, uint32_t v, bale_fs_fate fate, bool count_removed)
{
	struct version *ver = fs_ver(fs, v);

	ver->fate = (uint8_t)fate;
	ver->until = (uint16_t)fs->cur;
	if (count_removed && ver->type != BALE_FS_DIR) {
		fs->pending.removed++;
		fs->pending.removed_bytes += ver->size;
	}
	return undo_fate(fs, v);
}

/*
 * Hides every present version below `node` with `fate`: those of lower layers only, or those
 * of the current layer too (`same_layer`).
 */
static int hide_subtree(bale_fs *fs, uint32_t node, bale_fs_fate fate, bool same_layer)
{
	size_t n = 0;
	int rc;

	for (uint32_t c = fs_node(fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(fs, c)->next_sibling) {
		if (BALE_ARRAY_RESERVE(fs->stack, fs->stack_alloc, n + 1))
			return BALE_ENOMEM;
		fs->stack[n++] = c;
	}
	while (n) {
		uint32_t id = fs->stack[--n], v = bale_fs_node_present(fs, id);

		if (v != BALE_FS_NONE && (same_layer || fs_ver(fs, v)->layer < fs->cur) &&
		    (rc = end_version(fs, v, fate, true)) != 0)
			return rc;
		for (uint32_t c = fs_node(fs, id)->first_child; c != BALE_FS_NONE;
		     c = fs_node(fs, c)->next_sibling) {
			if (BALE_ARRAY_RESERVE(fs->stack, fs->stack_alloc, n + 1))
				return BALE_ENOMEM;
			fs->stack[n++] = c;
		}
	}
	return 0;
}

static int new_version(bale_fs *fs, uint32_t node, const bale_image_entry *e, uint8_t type,
		       uint32_t *out)
{
	struct version *v;
	struct node *n;
	uint32_t id;
	int rc;

	if ((rc = pages_take(&fs->versions, 1, &id)) != 0)
		return rc;
	if (BALE_ARRAY_RESERVE(fs->undo_node, fs->undo_node_alloc, fs->nundo_node + 1))
		return BALE_ENOMEM;
	fs->undo_node[fs->nundo_node++] = node;
	v = fs_ver(fs, id);
	n = fs_node(fs, node);
	memset(v, 0, sizeof(*v));
	v->node = node;
	v->prev = n->latest;
	v->link = BALE_FS_NONE;
	v->target = BALE_FS_NONE;
	v->layer = (uint16_t)fs->cur;
	v->until = LAYER_NONE16;
	v->type = type;
	v->fate = BALE_FS_PRESENT;
	v->mode = (uint16_t)(e->mode & 07777);
	v->uid = e->uid > UINT32_MAX ? UINT32_MAX : (uint32_t)e->uid;
	v->gid = e->gid > UINT32_MAX ? UINT32_MAX : (uint32_t)e->gid;
	if (e->uid > UINT32_MAX || e->gid > UINT32_MAX)
		v->flags |= BALE_FS_ID_CLAMPED;
	v->mtime = e->mtime;
	v->entry_index = e->index > UINT32_MAX ? UINT32_MAX : (uint32_t)e->index;
	if (e->flags & BALE_IMAGE_ENTRY_ABSOLUTE)
		v->flags |= BALE_FS_ABSOLUTE;
	if (e->flags & BALE_IMAGE_ENTRY_DOTDOT)
		v->flags |= BALE_FS_DOTDOT;
	if (e->nxattrs)
		v->flags |= BALE_FS_XATTRS;
	for (size_t i = 0; i < e->nxattrs; i++)
		if (strcmp(e->xattrs[i].name, "security.capability") == 0)
			v->flags |= BALE_FS_CAPABILITY;
	n->latest = id;
	*out = id;
	return 0;
}

/* True when a relative symlink target climbs above the root from directory `dir`. */
static bool link_escapes(const bale_fs *fs, uint32_t dir, const char *target)
{
	long depth = 0;
	const char *p = target;

	if (*target == '/')
		return false; /* absolute: resolved from the image's root, inside it */
	for (uint32_t d = dir; d != BALE_FS_ROOT && d != BALE_FS_NONE; d = fs_node(fs, d)->parent)
		depth++;
	while (*p) {
		const char *q = strchr(p, '/');
		size_t len = q ? (size_t)(q - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p += len + (q ? 1 : 0);
	}
	return false;
}

static uint8_t type_of(bale_image_entry_type t)
{
	switch (t) {
	case BALE_IMAGE_ENTRY_FILE:
		return BALE_FS_FILE;
	case BALE_IMAGE_ENTRY_DIR:
		return BALE_FS_DIR;
	case BALE_IMAGE_ENTRY_SYMLINK:
		return BALE_FS_SYMLINK;
	case BALE_IMAGE_ENTRY_HARDLINK:
		return BALE_FS_HARDLINK;
	case BALE_IMAGE_ENTRY_CHAR:
		return BALE_FS_CHAR;
	case BALE_IMAGE_ENTRY_BLOCK:
		return BALE_FS_BLOCK;
	case BALE_IMAGE_ENTRY_FIFO:
		return BALE_FS_FIFO;
	}
	return BALE_FS_FILE;
}

static void fill_out(const bale_fs *fs, uint32_t id, const char *path, bale_fs_entry *out)
{
	if (!out)
		return;
	bale_fs_get(fs, id, out);
	out->path = path;
}

/* True when the lower version below the current layer's ones was replaced by this layer. */
static bool replaced_below(const bale_fs *fs, uint32_t v)
{
	for (v = fs_ver(fs, v)->prev; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		const struct version *p = fs_ver(fs, v);

		if (fs_is_marker(p->type) || p->layer == fs->cur)
			continue;
		return p->fate == BALE_FS_REPLACED && p->until == fs->cur;
	}
	return false;
}

/* A regular entry (anything but a marker) at `path`. */
static int add_real(bale_fs *fs, const bale_image_entry *e, bale_fs_entry *out)
{
	size_t len = strlen(e->path);
	uint8_t type = type_of(e->type);
	uint32_t node, r, id, parent;
	struct version *rv;
	bool existed = false;
	int rc;

	if ((rc = node_get(fs, e->path, len, &node)) != 0)
		return rc;
	r = fs_newest_real(fs, node);
	rv = r != BALE_FS_NONE ? fs_ver(fs, r) : NULL;
	if ((rc = new_version(fs, node, e, type, &id)) != 0)
		return rc;
	if (rv && rv->fate == BALE_FS_PRESENT) {
		bool same = rv->layer == fs->cur;

		if (same) {
			/* a later entry of the same layer takes the earlier one's place */
			if (rv->flags & VF_ADDED) {
				fs->pending.added--;
				fs->pending.added_bytes -= rv->size;
			} else if (rv->flags & VF_CHANGED) {
				fs->pending.changed--;
				fs->pending.changed_bytes -= rv->size;
			}
			existed = replaced_below(fs, r);
		} else {
			existed = true;
		}
		if ((rc = end_version(fs, r, same ? BALE_FS_SHADOWED : BALE_FS_REPLACED, false)) !=
		    0)
			return rc;
		/* a non-directory over a directory: the subtree goes (no whiteout is written) */
		if (rv->type == BALE_FS_DIR && type != BALE_FS_DIR &&
		    (rc = hide_subtree(fs, node, BALE_FS_PARENT_REPLACED, true)) != 0)
			return rc;
	}
	if (type != BALE_FS_DIR) {
		struct version *v = fs_ver(fs, id);

		v->size = type == BALE_FS_FILE ? e->size : 0;
		if (existed) {
			v->flags |= VF_CHANGED;
			fs->pending.changed++;
			fs->pending.changed_bytes += v->size;
		} else {
			v->flags |= VF_ADDED;
			fs->pending.added++;
			fs->pending.added_bytes += v->size;
		}
	}
	parent = fs_node(fs, node)->parent;
	if (parent != BALE_FS_NONE) {
		uint32_t pv = bale_fs_node_present(fs, parent);

		if (pv != BALE_FS_NONE && fs_ver(fs, pv)->type != BALE_FS_DIR)
			fs_ver(fs, id)->flags |= BALE_FS_PARENT_NOT_DIR;
	}
	if ((type == BALE_FS_SYMLINK || type == BALE_FS_HARDLINK) && e->link) {
		uint32_t off = 0;

		if ((rc = pool_add(fs, e->link, strlen(e->link), &off)) != 0)
			return rc;
		fs_ver(fs, id)->link = off;
		if (type == BALE_FS_SYMLINK && link_escapes(fs, parent, e->link))
			fs_ver(fs, id)->flags |= BALE_FS_LINK_ESCAPES;
		if (type == BALE_FS_HARDLINK) {
			uint32_t t = BALE_FS_NONE;

			if (bale_fs_lookup(fs, &t, e->link) == 0)
				t = bale_fs_node_present(fs, t);
			if (t != BALE_FS_NONE && fs_ver(fs, t)->type == BALE_FS_HARDLINK)
				t = fs_ver(fs, t)->target;
			if (t == BALE_FS_NONE || t == id)
				fs_ver(fs, id)->flags |= BALE_FS_LINK_DANGLING;
			else
				fs_ver(fs, id)->target = t;
		}
	}
	fill_out(fs, id, e->path, out);
	return 0;
}

/* A whiteout `dir/.wh.name` deleting `dir/name` (`path`, `len`) from the lower layers. */
static int add_whiteout(bale_fs *fs, const bale_image_entry *e, const char *path, size_t len,
			bale_fs_entry *out)
{
	uint32_t node, r, id;
	int rc;

	if ((rc = node_get(fs, path, len, &node)) != 0)
		return rc;
	r = bale_fs_node_present(fs, node);
	if (r != BALE_FS_NONE && fs_ver(fs, r)->layer < fs->cur &&
	    (rc = end_version(fs, r, BALE_FS_DELETED, true)) != 0)
		return rc;
	/* everything the lower layers had below it, whatever replaced it in this layer */
	if ((rc = hide_subtree(fs, node, BALE_FS_DELETED_WITH_PARENT, false)) != 0)
		return rc;
	if ((rc = new_version(fs, node, e, BALE_FS_WHITEOUT, &id)) != 0)
		return rc;
	fs->pending.whiteouts++;
	fill_out(fs, id, path, out);
	return 0;
}

static int add_opaque(bale_fs *fs, const bale_image_entry *e, const char *dir, size_t len,
		      bale_fs_entry *out)
{
	uint32_t node, id;
	int rc;

	if ((rc = node_get(fs, dir, len, &node)) != 0 ||
	    (rc = hide_subtree(fs, node, BALE_FS_HIDDEN_BY_OPAQUE, false)) != 0 ||
	    (rc = new_version(fs, node, e, BALE_FS_OPAQUE, &id)) != 0)
		return rc;
	fs->pending.opaques++;
	fill_out(fs, id, fs->scratch.ptr, out);
	return 0;
}

int bale_fs_add(bale_fs *fs, const bale_image_entry *e, bale_fs_entry *out)
{
	const char *path = e->path, *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	int rc;

	if (out) {
		memset(out, 0, sizeof(*out));
		out->id = out->node = out->target = BALE_FS_NONE;
		out->path = path;
	}
	if (fs->cur == BALE_FS_NO_LAYER)
		return bale_error_set(BALE_EINVAL, "bale_fs_add outside of a layer");
	fs->pending.entries++;
	fs->pending.tar_bytes += e->type == BALE_IMAGE_ENTRY_FILE ? e->size : 0;
	/* aufs metadata (`.wh..wh.plnk`, `.wh..wh.aufs`) anywhere in the path: not content */
	if ((strncmp(path, ".wh..wh.", 8) == 0 || strstr(path, "/.wh..wh.")) &&
	    strcmp(base, ".wh..wh..opq") != 0)
		return 0;
	if (strcmp(base, ".wh..wh..opq") == 0) {
		bale_buf_reset(&fs->scratch);
		if (bale_buf_add(&fs->scratch, path, dlen))
			return fs->scratch.err;
		return add_opaque(fs, e, fs->scratch.ptr, dlen, out);
	}
	if (strncmp(base, ".wh.", 4) == 0) {
		if (!base[4])
			return 0; /* ".wh." alone names nothing */
		bale_buf_reset(&fs->scratch);
		bale_buf_add(&fs->scratch, path, dlen);
		if (dlen)
			bale_buf_addch(&fs->scratch, '/');
		bale_buf_adds(&fs->scratch, base + 4);
		if (fs->scratch.err)
			return fs->scratch.err;
		return add_whiteout(fs, e, fs->scratch.ptr, fs->scratch.len, out);
	}
	rc = add_real(fs, e, out);
	return rc;
}

int bale_fs_layer_begin(bale_fs *fs, size_t layer)
{
	if (layer >= fs->nlayers)
		return bale_error_set(BALE_EINVAL, "no layer %zu (the tree has %zu)", layer,
				      fs->nlayers);
	if (fs->cur != BALE_FS_NO_LAYER)
		return bale_error_set(BALE_EINVAL, "layer %zu is still being applied", fs->cur);
	if (fs->last != BALE_FS_NO_LAYER && layer <= fs->last)
		return bale_error_set(BALE_EINVAL, "layer %zu comes after layer %zu", layer,
				      fs->last);
	fs->cur = fs->last = layer;
	memset(&fs->pending, 0, sizeof(fs->pending));
	fs->pending.replayed_from = BALE_FS_NO_LAYER;
	fs->nundo_ver = fs->nundo_node = 0;
	fs->layers[layer].begun = true;
	fs->layers[layer].first = fs->layers[layer].end = fs->versions.count;
	return 0;
}

int bale_fs_layer_commit(bale_fs *fs)
{
	struct fs_layer *l;

	if (fs->cur == BALE_FS_NO_LAYER)
		return bale_error_set(BALE_EINVAL, "no layer to commit");
	l = &fs->layers[fs->cur];
	l->stats = fs->pending;
	l->stats.applied = true;
	l->end = fs->versions.count;
	fs->cur = BALE_FS_NO_LAYER;
	fs->nundo_ver = fs->nundo_node = 0;
	return 0;
}

void bale_fs_layer_abort(bale_fs *fs)
{
	size_t layer = fs->cur;

	if (layer == BALE_FS_NO_LAYER)
		return;
	for (size_t i = fs->nundo_ver; i-- > 0;) {
		struct version *v = fs_ver(fs, fs->undo_ver[i]);

		v->fate = BALE_FS_PRESENT;
		v->until = LAYER_NONE16;
	}
	for (size_t i = fs->nundo_node; i-- > 0;) {
		struct node *n = fs_node(fs, fs->undo_node[i]);

		while (n->latest != BALE_FS_NONE && fs_ver(fs, n->latest)->layer == layer)
			n->latest = fs_ver(fs, n->latest)->prev;
	}
	fs->versions.count = fs->layers[layer].first;
	fs->layers[layer].end = fs->layers[layer].first;
	memset(&fs->layers[layer].stats, 0, sizeof(fs->layers[layer].stats));
	fs->layers[layer].stats.replayed_from = BALE_FS_NO_LAYER;
	fs->cur = BALE_FS_NO_LAYER;
	fs->nundo_ver = fs->nundo_node = 0;
}

int bale_fs_layer_missing(bale_fs *fs, size_t layer)
{
	int rc;

	if ((rc = bale_fs_layer_begin(fs, layer)) != 0)
		return rc;
	fs->pending.missing = true;
	rc = bale_fs_layer_commit(fs);
	fs->layers[layer].stats.applied = false;
	return rc;
}

int bale_fs_layer_replay(bale_fs *fs, size_t layer, size_t from)
{
	bale_buf path = BALE_BUF_INIT;
	struct fs_layer *src;
	uint64_t entries, tar_bytes;
	int rc;

	if (from >= fs->nlayers || !fs->layers[from].stats.applied)
		return bale_error_set(BALE_EINVAL, "layer %zu was not applied: cannot replay it",
				      from);
	src = &fs->layers[from];
	if ((rc = bale_fs_layer_begin(fs, layer)) != 0)
		return rc;
	for (uint32_t id = src->first; id < src->end && !rc; id++) {
		struct version v = *fs_ver(fs, id);
		bale_image_entry e = {0};
		bale_fs_entry made;

		bale_buf_reset(&path);
		if (v.type == BALE_FS_WHITEOUT) {
			uint32_t parent = fs_node(fs, v.node)->parent;
			size_t nlen;
			const char *name = bale_fs_node_name(fs, v.node, &nlen);

			bale_fs_path(fs, parent, &path);
			if (path.len)
				bale_buf_addch(&path, '/');
			bale_buf_addf(&path, ".wh.%.*s", (int)nlen, name);
		} else {
			bale_fs_path(fs, v.node, &path);
			if (v.type == BALE_FS_OPAQUE)
				bale_buf_adds(&path, path.len ? "/.wh..wh..opq" : ".wh..wh..opq");
		}
		if (path.err) {
			rc = path.err;
			break;
		}
		e.path = path.ptr;
		e.name_raw = path.ptr;
		e.link = v.link != BALE_FS_NONE ? fs_str(fs, v.link) : NULL;
		switch (v.type) {
		case BALE_FS_DIR:
			e.type = BALE_IMAGE_ENTRY_DIR;
			break;
		case BALE_FS_SYMLINK:
			e.type = BALE_IMAGE_ENTRY_SYMLINK;
			break;
		case BALE_FS_HARDLINK:
			e.type = BALE_IMAGE_ENTRY_HARDLINK;
			break;
		case BALE_FS_CHAR:
			e.type = BALE_IMAGE_ENTRY_CHAR;
			break;
		case BALE_FS_BLOCK:
			e.type = BALE_IMAGE_ENTRY_BLOCK;
			break;
		case BALE_FS_FIFO:
			e.type = BALE_IMAGE_ENTRY_FIFO;
			break;
		default:
			e.type = BALE_IMAGE_ENTRY_FILE;
		}
		e.mode = v.mode;
		e.uid = v.uid;
		e.gid = v.gid;
		e.size = v.size;
		e.mtime = v.mtime;
		e.index = v.entry_index;
		e.flags = ((v.flags & BALE_FS_ABSOLUTE) ? BALE_IMAGE_ENTRY_ABSOLUTE : 0) |
			  ((v.flags & BALE_FS_DOTDOT) ? BALE_IMAGE_ENTRY_DOTDOT : 0);
		rc = bale_fs_add(fs, &e, &made);
		if (!rc && made.id != BALE_FS_NONE)
			fs_ver(fs, made.id)->flags |=
			    BALE_FS_REPLAYED | (v.flags & (BALE_FS_XATTRS | BALE_FS_CAPABILITY));
	}
	bale_buf_release(&path);
	if (rc) {
		bale_fs_layer_abort(fs);
		return rc;
	}
	/* the blob is the same: so are its entry count and sizes, aufs metadata included */
	entries = src->stats.entries;
	tar_bytes = src->stats.tar_bytes;
	fs->pending.entries = entries;
	fs->pending.tar_bytes = tar_bytes;
	fs->pending.replayed_from = from;
	return bale_fs_layer_commit(fs);
}

/* ---- building from an image --------------------------------------------------------------- */

struct build {
	bale_fs *fs;
	const bale_fs_hooks *hooks;
	bool applying;
};

static int build_begin(void *ctx, const bale_image_layer *l)
{
	struct build *b = ctx;
	int rc = 0;

	if (!l->missing && l->duplicate_of == BALE_IMAGE_NONE) {
		if ((rc = bale_fs_layer_begin(b->fs, l->index)) != 0)
			return rc;
		b->applying = true;
	}
	if (b->hooks && b->hooks->layer_begin)
		rc = b->hooks->layer_begin(b->hooks->ctx, b->fs, l);
	return rc;
}

static int build_entry(void *ctx, const bale_image_entry *e, bale_image_reader *r)
{
	struct build *b = ctx;
	bale_fs_entry made;
	int rc;

	if (!b->applying)
		return bale_error_set(BALE_EINVAL, "an entry outside of a layer");
	if ((rc = bale_fs_add(b->fs, e, &made)) != 0)
		return rc;
	if (b->hooks && b->hooks->entry)
		return b->hooks->entry(b->hooks->ctx, b->fs, made.id != BALE_FS_NONE ? &made : NULL,
				       e, r);
	return 0;
}

static int build_end(void *ctx, const bale_image_layer *l)
{
	struct build *b = ctx;
	int rc;

	if (l->missing)
		rc = bale_fs_layer_missing(b->fs, l->index);
	else if (l->duplicate_of != BALE_IMAGE_NONE)
		rc = bale_fs_layer_replay(b->fs, l->index, l->duplicate_of);
	else
		rc = bale_fs_layer_commit(b->fs);
	b->applying = false;
	if (rc)
		return rc;
	if (b->hooks && b->hooks->layer_end)
		rc = b->hooks->layer_end(b->hooks->ctx, b->fs, l);
	return rc;
}

int bale_fs_build(bale_fs **out, bale_image *image, const bale_fs_hooks *hooks)
{
	const bale_image_info *info = bale_image_info_get(image);
	struct build b = {0};
	bale_image_visitor v = {build_begin, build_entry, build_end, &b};
	int rc;

	*out = NULL;
	if ((rc = bale_fs_new(&b.fs, info->nlayers)) != 0)
		return rc;
	b.hooks = hooks;
	rc = bale_image_read_layers(image, &v);
	if (rc) {
		bale_fs_layer_abort(b.fs);
		bale_fs_free(b.fs);
		return rc;
	}
	*out = b.fs;
	return 0;
}
