/*
 * `--format dive`: dive's `--json` export, field for field and byte for byte where the image
 * allows (cmd/dive/cli/internal/command/export): {"layer": [...], "image": {...}}, indented
 * by json.MarshalIndent, no newline at the end.
 *
 * A layer's "fileList" is every node of dive's tree of that layer, visited children first and
 * siblings by name: the entries of the layer (a whiteout as its `.wh.` file), and the parent
 * directories that deeper paths imply, which carry an empty FileInfo (path "", typeFlag 0) as
 * in dive. FileInfo is Go's view of the tar header: typeFlag the header's type byte, fileMode
 * Go's os.FileMode (permission bits, then ModeDir 1<<31, ModeSymlink 1<<27, ModeDevice 1<<26,
 * ModeNamedPipe 1<<25, ModeSetuid 1<<23, ModeSetgid 1<<22, ModeCharDevice 1<<21,
 * ModeSticky 1<<20), path the header name cleaned as Go's path.Clean does.
 */
#include "inspect/jw.h"
#include "fs/internal.h"

#include <stdlib.h>
#include <string.h>

struct dive {
	const bale_fs *fs;
	struct jw *w;
	uint32_t *inset, *wh; /* per node: layer + 1 when in that layer's tree / whited out */
	uint32_t stamp;
	unsigned layer;
	bale_buf path;
	uint32_t *ids; /* children lists, stacked */
	size_t nids, ids_alloc;
};

static unsigned type_flag(uint8_t type)
{
	switch (type) {
	case BALE_FS_HARDLINK:
		return '1';
	case BALE_FS_SYMLINK:
		return '2';
	case BALE_FS_CHAR:
		return '3';
	case BALE_FS_BLOCK:
		return '4';
	case BALE_FS_DIR:
		return '5';
	case BALE_FS_FIFO:
		return '6';
	default:
		return '0';
	}
}

static uint32_t go_mode(const struct version *v)
{
	uint32_t m = v->mode & 0777;

	if (v->mode & 04000)
		m |= 1u << 23;
	if (v->mode & 02000)
		m |= 1u << 22;
	if (v->mode & 01000)
		m |= 1u << 20;
	switch (v->type) {
	case BALE_FS_DIR:
		m |= 1u << 31;
		break;
	case BALE_FS_SYMLINK:
		m |= 1u << 27;
		break;
	case BALE_FS_CHAR:
		m |= (1u << 26) | (1u << 21);
		break;
	case BALE_FS_BLOCK:
		m |= 1u << 26;
		break;
	case BALE_FS_FIFO:
		m |= 1u << 25;
		break;
	}
	return m;
}

static void file_info(struct dive *d, const struct version *v, const char *path)
{
	struct jw *w = d->w;

	jw_open(w, '{');
	jw_key(w, "path");
	jw_str(w, path);
	jw_key(w, "typeFlag");
	jw_u64(w, v ? type_flag(v->type) : 0);
	jw_key(w, "linkName");
	jw_str(w, v && v->link != BALE_FS_NONE ? fs_str(d->fs, v->link) : "");
	jw_key(w, "size");
	jw_u64(w, v ? v->size : 0);
	jw_key(w, "fileMode");
	jw_u64(w, v ? go_mode(v) : 0);
	jw_key(w, "uid");
	jw_u64(w, v ? v->uid : 0);
	jw_key(w, "gid");
	jw_u64(w, v ? v->gid : 0);
	jw_key(w, "isDir");
	jw_bool(w, v && v->type == BALE_FS_DIR);
	jw_close(w, '}');
}

/* The version of `node` in this layer: the last real one, or the last whiteout. */
static const struct version *in_layer(const struct dive *d, uint32_t node, bool whiteout)
{
	for (uint32_t v = fs_node(d->fs, node)->latest; v != BALE_FS_NONE;
	     v = fs_ver(d->fs, v)->prev) {
		const struct version *ver = fs_ver(d->fs, v);

		if (ver->layer < d->layer)
			break;
		if (ver->layer != d->layer)
			continue;
		if (whiteout ? ver->type == BALE_FS_WHITEOUT : !fs_is_marker(ver->type))
			return ver;
	}
	return NULL;
}

/* A child of the layer tree: node id with bit 31 free; whiteouts are tagged in `wh_tag`. */
struct child {
	uint32_t node;
	bool whiteout;
};

static int cmp_child_names(const bale_fs *fs, const struct child *a, const struct child *b)
{
	const struct node *x = fs_node(fs, a->node), *y = fs_node(fs, b->node);
	const char *xn = fs_str(fs, x->name), *yn = fs_str(fs, y->name);
	size_t xl = x->name_len, yl = y->name_len;
	/* compare "[.wh.]name" strings without building them */
	char xb[4], yb[4];
	size_t xp = a->whiteout ? 4 : 0, yp = b->whiteout ? 4 : 0;

	memcpy(xb, ".wh.", 4);
	memcpy(yb, ".wh.", 4);
	for (size_t i = 0;; i++) {
		int cx, cy;

		if (i >= xp + xl || i >= yp + yl)
			return (int)(xp + xl) - (int)(yp + yl) < 0 ? -1
								   : (xp + xl == yp + yl ? 0 : 1);
		cx = (unsigned char)(i < xp ? xb[i] : xn[i - xp]);
		cy = (unsigned char)(i < yp ? yb[i] : yn[i - yp]);
		if (cx != cy)
			return cx - cy;
	}
}

static void sort_children(const bale_fs *fs, struct child *c, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct child x = c[i];
		size_t j = i;

		for (; j > 0 && cmp_child_names(fs, &c[j - 1], &x) > 0; j--)
			c[j] = c[j - 1];
		c[j] = x;
	}
}

static int visit(struct dive *d, uint32_t node, int depth)
{
	struct child *kids = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	if (depth > 4096)
		return bale_error_set(BALE_ELIMIT, "a path deeper than 4096 directories");
	for (uint32_t c = fs_node(d->fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(d->fs, c)->next_sibling) {
		for (int k = 0; k < 2; k++) {
			bool wh = k == 1;

			if ((wh ? d->wh[c] : d->inset[c]) != d->stamp)
				continue;
			if (BALE_ARRAY_RESERVE(kids, alloc, n + 1)) {
				free(kids);
				return BALE_ENOMEM;
			}
			kids[n].node = c;
			kids[n].whiteout = wh;
			n++;
		}
	}
	if (n > 64) {
		/* big directories: sort by name first (whiteouts among them are few) */
		uint32_t *ids = malloc(n * sizeof(*ids));
		size_t m = 0;

		if (!ids) {
			free(kids);
			return bale_error_oom();
		}
		for (size_t i = 0; i < n; i++)
			ids[m++] = kids[i].node;
		bale_fs_sort_by_name(d->fs, ids, m);
		/* rebuild in name order, then fix the few whiteouts with an insertion pass */
		{
			size_t k = 0;

			for (size_t i = 0; i < m; i++) {
				uint32_t id = ids[i];

				if (i && ids[i - 1] == id)
					continue;
				if (d->inset[id] == d->stamp)
					kids[k++] = (struct child){id, false};
				if (d->wh[id] == d->stamp)
					kids[k++] = (struct child){id, true};
			}
			n = k;
		}
		free(ids);
	}
	sort_children(d->fs, kids, n);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t keep = d->path.len;
		size_t nlen;
		const char *name = bale_fs_node_name(d->fs, kids[i].node, &nlen);

		if (d->path.len)
			bale_buf_addch(&d->path, '/');
		if (kids[i].whiteout) {
			const struct version *v = in_layer(d, kids[i].node, true);
			bale_buf p = BALE_BUF_INIT;

			if (v && (v->flags & BALE_FS_ABSOLUTE))
				bale_buf_addch(&p, '/');
			bale_buf_add(&p, d->path.ptr, d->path.len);
			bale_buf_addf(&p, ".wh.%.*s", (int)nlen, name);
			file_info(d, v, p.ptr);
			bale_buf_release(&p);
		} else {
			bale_buf_add(&d->path, name, nlen);
			if ((rc = visit(d, kids[i].node, depth + 1)) == 0) {
				const struct version *v = in_layer(d, kids[i].node, false);
				bale_buf p = BALE_BUF_INIT;

				if (v && (v->flags & BALE_FS_ABSOLUTE))
					bale_buf_addch(&p, '/');
				bale_buf_add(&p, d->path.ptr, d->path.len);
				/* an implied directory has dive's empty FileInfo */
				file_info(d, v, v ? p.ptr : "");
				bale_buf_release(&p);
			}
		}
		bale_buf_truncate(&d->path, keep);
		if (d->path.err)
			rc = d->path.err;
	}
	free(kids);
	return rc;
}

/* dive's layer id: the blob's file name without .tar, or the legacy <id>/layer.tar's <id>. */
static void layer_id(bale_buf *out, const char *path)
{
	const char *base, *slash;
	size_t len;

	if (!path) {
		bale_buf_adds(out, "");
		return;
	}
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (strcmp(base, "layer.tar") == 0 && slash && slash > path) {
		const char *start = slash;

		while (start > path && start[-1] != '/')
			start--;
		bale_buf_add(out, start, (size_t)(slash - start));
		return;
	}
	len = strlen(base);
	if (len > 7 && strcmp(base + len - 7, ".tar.gz") == 0)
		len -= 7;
	else if (len > 4 && strcmp(base + len - 4, ".tgz") == 0)
		len -= 4;
	else if (len > 4 && strcmp(base + len - 4, ".tar") == 0)
		len -= 4;
	bale_buf_add(out, base, len);
}

static int export_layer(struct dive *d, const bale_inspect *ins, size_t i)
{
	const bale_image_info *info = ins->info;
	const bale_image_layer *l = &info->layers[i];
	const bale_image_config *cfg = info->config;
	const bale_image_history *h = NULL;
	struct jw *w = d->w;
	bale_buf id = BALE_BUF_INIT;
	const char *cmd = "(missing)";
	uint32_t first, end;
	int rc = 0;

	/* dive pairs the layers with the history entries that are not empty_layer, in order */
	{
		size_t k = 0;

		for (size_t j = 0; cfg && j < cfg->nhistory; j++) {
			if (cfg->history[j].empty_layer)
				continue;
			if (k++ == i) {
				h = &cfg->history[j];
				break;
			}
		}
	}
	if (h) {
		cmd = h->created_by ? h->created_by : "";
		if (strncmp(cmd, "/bin/sh -c ", 11) == 0)
			cmd += 11;
	}
	layer_id(&id, l->path);
	jw_open(w, '{');
	jw_key(w, "index");
	jw_u64(w, i);
	jw_key(w, "id");
	jw_str(w, id.ptr);
	jw_key(w, "digestId");
	jw_str(w, h ? l->diff_id : "");
	jw_key(w, "sizeBytes");
	jw_u64(w, ins->layers[i].tar_bytes);
	jw_key(w, "command");
	jw_str(w, cmd);
	jw_key(w, "fileList");
	jw_open(w, '[');
	if (bale_fs_layer(d->fs, i)->applied) {
		d->layer = (unsigned)i;
		d->stamp = (uint32_t)i + 1;
		bale_fs_layer_range(d->fs, i, &first, &end);
		for (uint32_t v = first; v < end; v++) {
			const struct version *ver = fs_ver(d->fs, v);
			uint32_t n = ver->node;

			if (n == BALE_FS_ROOT)
				continue;
			if (ver->type == BALE_FS_WHITEOUT)
				d->wh[n] = d->stamp;
			else
				d->inset[n] = d->stamp;
			for (uint32_t p = fs_node(d->fs, n)->parent;
			     p != BALE_FS_NONE && p != BALE_FS_ROOT && d->inset[p] != d->stamp;
			     p = fs_node(d->fs, p)->parent)
				d->inset[p] = d->stamp;
		}
		bale_buf_reset(&d->path);
		rc = visit(d, BALE_FS_ROOT, 0);
	}
	jw_close(w, ']');
	jw_close(w, '}');
	bale_buf_release(&id);
	return rc;
}

int inspect_render_dive(bale_buf *out, const bale_inspect *ins)
{
	size_t nodes = bale_fs_node_count(ins->fs);
	struct dive d = {.fs = ins->fs, .path = BALE_BUF_INIT};
	struct jw w;
	int rc = 0;

	d.w = &w;
	d.inset = calloc(nodes, sizeof(*d.inset));
	d.wh = calloc(nodes, sizeof(*d.wh));
	if (!d.inset || !d.wh) {
		rc = bale_error_oom();
		goto out;
	}
	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "layer");
	jw_open(&w, '[');
	for (size_t i = 0; i < ins->info->nlayers && !rc; i++)
		rc = export_layer(&d, ins, i);
	if (rc)
		goto out;
	jw_close(&w, ']');
	jw_key(&w, "image");
	jw_open(&w, '{');
	jw_key(&w, "sizeBytes");
	jw_u64(&w, ins->sum.size_bytes);
	jw_key(&w, "inefficientBytes");
	jw_u64(&w, ins->sum.wasted_bytes);
	jw_key(&w, "efficiencyScore");
	jw_float(&w, ins->sum.efficiency);
	jw_key(&w, "fileReference");
	jw_open(&w, '[');
	for (size_t i = 0; i < ins->sum.npaths; i++) {
		const bale_inspect_path *p = &ins->sum.paths[i];

		jw_open(&w, '{');
		jw_key(&w, "count");
		jw_u64(&w, p->count);
		jw_key(&w, "sizeBytes");
		jw_u64(&w, p->cumulative);
		jw_key(&w, "file");
		jw_str(&w, p->path);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_close(&w, '}');
	if (out->err)
		rc = out->err;
out:
	free(d.inset);
	free(d.wh);
	free(d.ids);
	bale_buf_release(&d.path);
	return rc;
}
