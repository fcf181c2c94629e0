/*
 * Reading the layered file tree: decoding versions, paths, lookups, symlink resolution inside
 * the root, and the three walks (merged view, one layer, one path's history).
 */
#include "fs/internal.h"

#include <stdlib.h>
#include <string.h>

void bale_fs_stats_get(const bale_fs *fs, bale_fs_stats *out)
{
	size_t dh = fs->dirhashes_alloc * sizeof(*fs->dirhashes);

	for (size_t i = 0; i < fs->ndirhashes; i++)
		dh += ((size_t)fs->dirhashes[i].mask + 1) * sizeof(uint32_t);
	out->nodes = fs->nodes.count;
	out->versions = fs->versions.count;
	out->layers = fs->nlayers;
	out->memory =
	    sizeof(*fs) + fs_pages_bytes(&fs->nodes) + fs_pages_bytes(&fs->versions) +
	    fs_pages_bytes(&fs->pool) + dh + fs->nlayers * sizeof(*fs->layers) +
	    (fs->undo_ver_alloc + fs->undo_node_alloc + fs->stack_alloc) * sizeof(uint32_t) +
	    fs->last_dir.alloc + fs->scratch.alloc;
}

const bale_fs_layer_stats *bale_fs_layer(const bale_fs *fs, size_t layer)
{
	static const bale_fs_layer_stats none = {.replayed_from = BALE_FS_NO_LAYER};

	return layer < fs->nlayers ? &fs->layers[layer].stats : &none;
}

void bale_fs_get(const bale_fs *fs, bale_fs_id id, bale_fs_entry *out)
{
	const struct version *v = fs_ver(fs, id);

	memset(out, 0, sizeof(*out));
	out->path = NULL;
	out->link = v->link != BALE_FS_NONE ? fs_str(fs, v->link) : NULL;
	out->type = (bale_fs_type)v->type;
	out->fate = (bale_fs_fate)v->fate;
	out->mode = v->mode;
	out->uid = v->uid;
	out->gid = v->gid;
	out->size = v->size;
	out->mtime = v->mtime;
	out->layer = v->layer;
	out->until = v->until == LAYER_NONE16 ? BALE_FS_NO_LAYER : v->until;
	out->flags = v->flags & VF_PUBLIC;
	out->entry_index = v->entry_index;
	out->id = id;
	out->node = v->node;
	out->target = v->target;
}

size_t bale_fs_node_count(const bale_fs *fs)
{
	return fs->nodes.count;
}

bale_fs_id bale_fs_node_parent(const bale_fs *fs, bale_fs_id node)
{
	return fs_node(fs, node)->parent;
}

const char *bale_fs_node_name(const bale_fs *fs, bale_fs_id node, size_t *len)
{
	const struct node *n = fs_node(fs, node);

	if (len)
		*len = n->name_len;
	return fs_str(fs, n->name);
}

bale_fs_id bale_fs_node_first_child(const bale_fs *fs, bale_fs_id node)
{
	return fs_node(fs, node)->first_child;
}

bale_fs_id bale_fs_node_next_sibling(const bale_fs *fs, bale_fs_id node)
{
	return fs_node(fs, node)->next_sibling;
}

bale_fs_id bale_fs_node_latest(const bale_fs *fs, bale_fs_id node)
{
	return fs_node(fs, node)->latest;
}

bale_fs_id bale_fs_version_prev(const bale_fs *fs, bale_fs_id version)
{
	return fs_ver(fs, version)->prev;
}

bale_fs_id bale_fs_version_node(const bale_fs *fs, bale_fs_id version)
{
	return fs_ver(fs, version)->node;
}

void bale_fs_layer_range(const bale_fs *fs, size_t layer, bale_fs_id *first, bale_fs_id *end)
{
	if (layer >= fs->nlayers || !fs->layers[layer].begun) {
		*first = *end = 0;
		return;
	}
	*first = fs->layers[layer].first;
	*end = fs->cur == layer ? fs->versions.count : fs->layers[layer].end;
}

int bale_fs_path(const bale_fs *fs, bale_fs_id node, bale_buf *out)
{
	uint32_t small[64], *chain = small;
	size_t depth = 0, start = out->len, i = 0;

	for (uint32_t n = node; n != BALE_FS_ROOT && n != BALE_FS_NONE; n = fs_node(fs, n)->parent)
		depth++;
	if (depth > BALE_ARRAY_SIZE(small) && !(chain = malloc(depth * sizeof(*chain))))
		return bale_error_oom();
	for (uint32_t n = node; n != BALE_FS_ROOT && n != BALE_FS_NONE; n = fs_node(fs, n)->parent)
		chain[depth - ++i] = n;
	for (i = 0; i < depth; i++) {
		const struct node *c = fs_node(fs, chain[i]);

		if (out->len > start)
			bale_buf_addch(out, '/');
		bale_buf_add(out, fs_str(fs, c->name), c->name_len);
	}
	if (chain != small)
		free(chain);
	return out->err;
}

static int cmp_names(const bale_fs *fs, uint32_t a, uint32_t b)
{
	const struct node *x = fs_node(fs, a), *y = fs_node(fs, b);
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(fs_str(fs, x->name), fs_str(fs, y->name), n);

	return c ? c : (int)x->name_len - (int)y->name_len;
}

static void insertion_sort(const bale_fs *fs, uint32_t *ids, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t x = ids[i];
		size_t j = i;

		for (; j > 0 && cmp_names(fs, ids[j - 1], x) > 0; j--)
			ids[j] = ids[j - 1];
		ids[j] = x;
	}
}

/* qsort has no context argument in C17: a small merge sort instead. */
static void sort_ids(const bale_fs *fs, uint32_t *ids, uint32_t *tmp, size_t n)
{
	size_t mid;

	if (n < 2)
		return;
	if (n < 12) {
		insertion_sort(fs, ids, n);
		return;
	}
	mid = n / 2;
	sort_ids(fs, ids, tmp, mid);
	sort_ids(fs, ids + mid, tmp, n - mid);
	{
		size_t i = 0, j = mid, k = 0;

		while (i < mid && j < n)
			tmp[k++] = cmp_names(fs, ids[i], ids[j]) <= 0 ? ids[i++] : ids[j++];
		while (i < mid)
			tmp[k++] = ids[i++];
		while (j < n)
			tmp[k++] = ids[j++];
		memcpy(ids, tmp, n * sizeof(*ids));
	}
}

void bale_fs_sort_by_name(const bale_fs *fs, bale_fs_id *nodes, size_t n)
{
	uint32_t small[64], *tmp = n <= 64 ? small : malloc(n * sizeof(*tmp));

	if (!tmp) {
		insertion_sort(fs, nodes, n); /* no memory for the merge buffer */
		return;
	}
	sort_ids(fs, nodes, tmp, n);
	if (tmp != small)
		free(tmp);
}

static uint32_t find_child(const bale_fs *fs, uint32_t dir, const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	const struct node *d = fs_node(fs, dir);

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	if (d->dirhash) {
		const struct dirhash *t = &fs->dirhashes[d->dirhash - 1];

		for (uint32_t i = h & t->mask; t->slots[i] != BALE_FS_NONE; i = (i + 1) & t->mask) {
			const struct node *c = fs_node(fs, t->slots[i]);

			if (c->hash == h && c->name_len == len &&
			    memcmp(fs_str(fs, c->name), name, len) == 0)
				return t->slots[i];
		}
		return BALE_FS_NONE;
	}
	for (uint32_t c = d->first_child; c != BALE_FS_NONE; c = fs_node(fs, c)->next_sibling) {
		const struct node *n = fs_node(fs, c);

		if (n->hash == h && n->name_len == len &&
		    memcmp(fs_str(fs, n->name), name, len) == 0)
			return c;
	}
	return BALE_FS_NONE;
}

int bale_fs_lookup(const bale_fs *fs, bale_fs_id *out, const char *path)
{
	uint32_t n = BALE_FS_ROOT;
	const char *p = path;

	while (*p) {
		const char *q = strchr(p, '/');
		size_t len = q ? (size_t)(q - p) : strlen(p);

		if (len && !(len == 1 && *p == '.')) {
			if (len == 2 && p[0] == '.' && p[1] == '.') {
				if (n != BALE_FS_ROOT)
					n = fs_node(fs, n)->parent;
			} else if ((n = find_child(fs, n, p, len)) == BALE_FS_NONE) {
				return bale_error_set(BALE_ENOTFOUND, "'%s' is not in the image",
						      path);
			}
		}
		p += len + (q ? 1 : 0);
	}
	*out = n;
	return 0;
}

/* True when some version below `node` is present (a directory that no entry names). */
static bool has_present_below(const bale_fs *fs, uint32_t node, int depth)
{
	if (depth > 256)
		return false;
	for (uint32_t c = fs_node(fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(fs, c)->next_sibling)
		if (bale_fs_node_present(fs, c) != BALE_FS_NONE ||
		    has_present_below(fs, c, depth + 1))
			return true;
	return false;
}

static void implicit_entry(uint32_t node, bale_fs_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->type = BALE_FS_DIR;
	out->mode = 0755;
	out->until = BALE_FS_NO_LAYER;
	out->flags = BALE_FS_IMPLICIT;
	out->id = BALE_FS_NONE;
	out->node = node;
	out->target = BALE_FS_NONE;
}

int bale_fs_resolve(const bale_fs *fs, const char *path, bool follow_last, bale_fs_entry *out,
		    bale_buf *resolved)
{
	bale_buf rest = BALE_BUF_INIT, next = BALE_BUF_INIT;
	uint32_t cur = BALE_FS_ROOT, v = BALE_FS_NONE;
	size_t pos = 0;
	int links = 0, rc = 0;

	if (bale_buf_adds(&rest, path)) {
		rc = rest.err;
		goto out;
	}
	while (pos < rest.len) {
		const char *p = rest.ptr + pos, *q = memchr(p, '/', rest.len - pos);
		size_t len = q ? (size_t)(q - p) : rest.len - pos;
		bool last;
		uint32_t child;

		pos += len + (q ? 1 : 0);
		last = rest.ptr[pos - (q ? 1 : 0)] == '\0' || pos >= rest.len;
		if (!last) {
			/* trailing slashes and dots: the component is last when nothing real
			 * follows */
			size_t k = pos;

			while (k < rest.len && (rest.ptr[k] == '/' ||
						(rest.ptr[k] == '.' &&
						 (k + 1 == rest.len || rest.ptr[k + 1] == '/'))))
				k++;
			last = k >= rest.len;
		}
		if (len == 0 || (len == 1 && p[0] == '.'))
			continue;
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (cur != BALE_FS_ROOT)
				cur = fs_node(fs, cur)->parent;
			continue;
		}
		child = find_child(fs, cur, p, len);
		v = child != BALE_FS_NONE ? bale_fs_node_present(fs, child) : BALE_FS_NONE;
		if (child == BALE_FS_NONE ||
		    (v == BALE_FS_NONE && !has_present_below(fs, child, 0))) {
			rc = bale_error_set(BALE_ENOTFOUND, "'%s': '%.*s' is not in the image",
					    path, (int)len, p);
			goto out;
		}
		if (v != BALE_FS_NONE && fs_ver(fs, v)->type == BALE_FS_SYMLINK &&
		    (!last || follow_last)) {
			const char *target = fs_str(fs, fs_ver(fs, v)->link);

			if (++links > 40) {
				rc = bale_error_set(
				    BALE_ELIMIT, "'%s': too many levels of symbolic links", path);
				goto out;
			}
			bale_buf_reset(&next);
			bale_buf_adds(&next, target);
			if (pos < rest.len) {
				bale_buf_addch(&next, '/');
				bale_buf_add(&next, rest.ptr + pos, rest.len - pos);
			}
			if (next.err) {
				rc = next.err;
				goto out;
			}
			if (target[0] == '/')
				cur = BALE_FS_ROOT;
			bale_buf_reset(&rest);
			bale_buf_add(&rest, next.ptr, next.len);
			if (rest.err) {
				rc = rest.err;
				goto out;
			}
			pos = 0;
			continue;
		}
		if (!last && v != BALE_FS_NONE && fs_ver(fs, v)->type != BALE_FS_DIR) {
			rc = bale_error_set(BALE_ENOTFOUND, "'%s': '%.*s' is not a directory", path,
					    (int)len, p);
			goto out;
		}
		cur = child;
	}
	v = bale_fs_node_present(fs, cur);
	if (v != BALE_FS_NONE)
		bale_fs_get(fs, v, out);
	else
		implicit_entry(cur, out);
	out->path = NULL;
	if (resolved)
		rc = bale_fs_path(fs, cur, resolved);
out:
	bale_buf_release(&rest);
	bale_buf_release(&next);
	return rc;
}

/* ---- walks -------------------------------------------------------------------------------- */

int bale_fs_walk_layer(const bale_fs *fs, size_t layer, bale_fs_walk_fn fn, void *ctx)
{
	bale_buf path = BALE_BUF_INIT;
	bale_fs_id first, end;
	int rc = 0;

	bale_fs_layer_range(fs, layer, &first, &end);
	for (uint32_t id = first; id < end && !rc; id++) {
		bale_fs_entry e;

		bale_fs_get(fs, id, &e);
		bale_buf_reset(&path);
		if ((rc = bale_fs_path(fs, e.node, &path)) != 0)
			break;
		e.path = path.ptr;
		rc = fn(ctx, &e);
		if (rc == BALE_FS_SKIP)
			rc = 0;
	}
	bale_buf_release(&path);
	return rc;
}

int bale_fs_walk_history(const bale_fs *fs, bale_fs_id node, bale_fs_walk_fn fn, void *ctx)
{
	bale_buf path = BALE_BUF_INIT;
	uint32_t *ids = NULL;
	size_t n = 0, alloc = 0;
	int rc;

	for (uint32_t v = fs_node(fs, node)->latest; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		if (BALE_ARRAY_RESERVE(ids, alloc, n + 1)) {
			free(ids);
			return BALE_ENOMEM;
		}
		ids[n++] = v;
	}
	rc = bale_fs_path(fs, node, &path);
	while (n && !rc) {
		bale_fs_entry e;

		bale_fs_get(fs, ids[--n], &e);
		e.path = path.ptr;
		rc = fn(ctx, &e);
		if (rc == BALE_FS_SKIP)
			rc = 0;
	}
	free(ids);
	bale_buf_release(&path);
	return rc;
}

struct frame {
	size_t first, end; /* children ids in the walk's id buffer */
	size_t pos;
	size_t path_len; /* of this directory's own path */
	uint32_t node;
	bool emitted;
};

struct walk {
	const bale_fs *fs;
	bale_fs_walk_fn fn;
	void *ctx;
	struct frame *frames;
	size_t nframes, frames_alloc;
	uint32_t *ids;
	size_t nids, ids_alloc;
	bale_buf path;
	unsigned flags;
};

static int walk_emit(struct walk *w, uint32_t node, uint32_t v)
{
	bale_fs_entry e;

	if (v != BALE_FS_NONE)
		bale_fs_get(w->fs, v, &e);
	else
		implicit_entry(node, &e);
	e.path = w->path.ptr;
	return w->fn(w->ctx, &e);
}

/* Pushes a directory frame: its children go to the id buffer (sorted when asked). */
static int walk_push(struct walk *w, uint32_t node, bool emitted)
{
	struct frame *f;
	size_t first = w->nids;

	for (uint32_t c = fs_node(w->fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(w->fs, c)->next_sibling) {
		if (BALE_ARRAY_RESERVE(w->ids, w->ids_alloc, w->nids + 1))
			return BALE_ENOMEM;
		w->ids[w->nids++] = c;
	}
	if (w->flags & BALE_FS_WALK_SORTED)
		bale_fs_sort_by_name(w->fs, w->ids + first, w->nids - first);
	if (BALE_ARRAY_RESERVE(w->frames, w->frames_alloc, w->nframes + 1))
		return BALE_ENOMEM;
	f = &w->frames[w->nframes++];
	f->first = f->pos = first;
	f->end = w->nids;
	f->node = node;
	f->emitted = emitted;
	f->path_len = w->path.len;
	return 0;
}

int bale_fs_walk_merged(const bale_fs *fs, unsigned flags, bale_fs_walk_fn fn, void *ctx)
{
	struct walk w = {fs, fn, ctx, NULL, 0, 0, NULL, 0, 0, BALE_BUF_INIT, flags};
	uint32_t rv = bale_fs_node_present(fs, BALE_FS_ROOT);
	int rc;

	/* the root always comes first, as an implicit directory when no entry names it */
	rc = walk_emit(&w, BALE_FS_ROOT, rv);
	if (rc == BALE_FS_SKIP) {
		rc = 0;
		goto out;
	}
	if (rc || (rc = walk_push(&w, BALE_FS_ROOT, true)) != 0)
		goto out;
	while (w.nframes && !rc) {
		struct frame *f = &w.frames[w.nframes - 1];
		uint32_t c, v;
		const struct node *cn;

		if (f->pos == f->end) {
			w.nids = f->first;
			bale_buf_truncate(&w.path, f->path_len);
			w.nframes--;
			continue;
		}
		c = w.ids[f->pos++];
		cn = fs_node(fs, c);
		v = bale_fs_node_present(fs, c);
		if (v == BALE_FS_NONE && cn->first_child == BALE_FS_NONE)
			continue; /* gone, nothing below */
		bale_buf_truncate(&w.path, f->path_len);
		if (w.path.len)
			bale_buf_addch(&w.path, '/');
		bale_buf_add(&w.path, fs_str(fs, cn->name), cn->name_len);
		if (w.path.err) {
			rc = w.path.err;
			break;
		}
		if (v != BALE_FS_NONE) {
			/* ancestors not emitted yet (implicit directories) come first */
			for (size_t i = 0; i < w.nframes && !rc; i++) {
				struct frame *a = &w.frames[i];
				char saved;

				if (a->emitted)
					continue;
				saved = w.path.ptr[a->path_len];
				w.path.ptr[a->path_len] = '\0';
				rc = walk_emit(&w, a->node, BALE_FS_NONE);
				w.path.ptr[a->path_len] = saved;
				a->emitted = true;
				if (rc == BALE_FS_SKIP)
					rc = 0; /* too late to skip: its children are being read */
			}
			if (rc)
				break;
			rc = walk_emit(&w, c, v);
			if (rc == BALE_FS_SKIP) {
				rc = 0;
				continue;
			}
			if (rc)
				break;
			if (cn->first_child != BALE_FS_NONE)
				rc = walk_push(&w, c, true);
		} else {
			rc = walk_push(&w, c, false);
		}
	}
out:
	free(w.frames);
	free(w.ids);
	bale_buf_release(&w.path);
	return rc;
}

const char *bale_fs_type_name(bale_fs_type type)
{
	static const char *const names[] = {"?",    "file",  "dir",  "symlink",	 "hardlink",
					    "char", "block", "fifo", "whiteout", "opaque"};

	return (unsigned)type < BALE_ARRAY_SIZE(names) ? names[type] : "?";
}

const char *bale_fs_fate_name(bale_fs_fate fate)
{
	static const char *const names[] = {
	    "present",		"replaced",	  "shadowed", "deleted", "deleted-with-parent",
	    "hidden-by-opaque", "parent-replaced"};

	return (unsigned)fate < BALE_ARRAY_SIZE(names) ? names[fate] : "?";
}
