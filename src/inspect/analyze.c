/*
 * The analysis behind bale inspect: per-layer rows, dive's efficiency and wasted bytes, and
 * bale's "shipped but not in the final file system" measure.
 *
 * dive builds one tree per layer from that layer's tar entries (parents implied by deeper
 * paths, `.wh..wh..` names dropped) and visits each tree's leaves. A leaf occurrence weighs
 * its entry's size; a whiteout `.wh.NAME` weighs 0 unless NAME was a directory in the stack
 * of the layers below, then the sum of the sizes under it in that stack. The stack is dive's
 * own: whiteouts remove, everything else adds, opaque markers are ignored, and a path whose
 * latest layer only implied it (no entry of its own) is not a directory there. The per-layer
 * trees are not kept: every version of the layered tree knows its layer, so each layer's tree
 * is recovered from the versions of that layer and the parents of their nodes.
 */
#include "inspect/internal.h"
#include "fs/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct analysis {
	const bale_fs *fs;
	uint32_t *nonleaf, *done, *done_wh; /* per node: layer + 1 that stamped it */
	uint64_t *cum, *min;
	uint32_t *count;
	uint32_t *stack;
	long *stack_carry;
	size_t stack_alloc, carry_alloc;
};

/* The highest layer below `layer` with a whiteout of `node`, or -1. */
static long whiteout_below(const bale_fs *fs, uint32_t node, unsigned layer)
{
	long best = -1;

	for (uint32_t v = fs_node(fs, node)->latest; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		const struct version *ver = fs_ver(fs, v);

		if (ver->type == BALE_FS_WHITEOUT && ver->layer < layer && (long)ver->layer > best)
			best = ver->layer;
	}
	return best;
}

/* The newest non-marker version of `node` below `layer`, or NONE. */
static uint32_t real_below(const bale_fs *fs, uint32_t node, unsigned layer)
{
	for (uint32_t v = fs_node(fs, node)->latest; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		const struct version *ver = fs_ver(fs, v);

		if (!fs_is_marker(ver->type) && ver->layer < layer)
			return v;
	}
	return BALE_FS_NONE;
}

/* The last non-marker version of `node` in `layer` (its payload in dive's layer tree). */
static uint32_t real_in(const bale_fs *fs, uint32_t node, unsigned layer)
{
	for (uint32_t v = fs_node(fs, node)->latest; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		const struct version *ver = fs_ver(fs, v);

		if (ver->layer < layer)
			break;
		if (ver->layer == layer && !fs_is_marker(ver->type))
			return v;
	}
	return BALE_FS_NONE;
}

static int push(struct analysis *a, size_t *n, uint32_t node, long carry)
{
	if (BALE_ARRAY_RESERVE(a->stack, a->stack_alloc, *n + 1) ||
	    BALE_ARRAY_RESERVE(a->stack_carry, a->carry_alloc, *n + 1))
		return BALE_ENOMEM;
	a->stack[*n] = node;
	a->stack_carry[*n] = carry;
	(*n)++;
	return 0;
}

/*
 * What dive counts for a whiteout of `node` in `layer`: 0 unless the node is a directory in
 * dive's stack of the layers below, then the sum of the sizes below it in that stack.
 */
static int dive_whiteout_size(struct analysis *a, uint32_t node, unsigned layer, uint64_t *out)
{
	const bale_fs *fs = a->fs;
	long carry = whiteout_below(fs, node, layer), jexp = -1, jimp = -1;
	uint32_t rv = real_below(fs, node, layer);
	uint64_t sum = 0;
	size_t n = 0;
	int rc;

	*out = 0;
	for (uint32_t p = fs_node(fs, node)->parent; p != BALE_FS_NONE;
	     p = fs_node(fs, p)->parent) {
		long w = whiteout_below(fs, p, layer);

		if (w > carry)
			carry = w;
	}
	if (rv != BALE_FS_NONE)
		jexp = fs_ver(fs, rv)->layer;
	/* its own opaque markers imply it in their layer's tree, with no payload */
	for (uint32_t v = fs_node(fs, node)->latest; v != BALE_FS_NONE; v = fs_ver(fs, v)->prev) {
		const struct version *ver = fs_ver(fs, v);

		if (ver->type == BALE_FS_OPAQUE && ver->layer < layer && (long)ver->layer > jimp)
			jimp = ver->layer;
	}
	for (uint32_t c = fs_node(fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(fs, c)->next_sibling)
		if ((rc = push(a, &n, c, carry)) != 0)
			return rc;
	while (n) {
		uint32_t d = a->stack[--n], dv;
		long cy = a->stack_carry[n], w = whiteout_below(fs, d, layer);

		if (w > cy)
			cy = w;
		for (uint32_t v = fs_node(fs, d)->latest; v != BALE_FS_NONE;
		     v = fs_ver(fs, v)->prev) {
			const struct version *ver = fs_ver(fs, v);

			if (ver->layer < layer && (long)ver->layer > jimp)
				jimp =
				    ver->layer; /* anything below implies the node in that layer */
		}
		dv = real_below(fs, d, layer);
		if (dv != BALE_FS_NONE && (long)fs_ver(fs, dv)->layer >= cy)
			sum += fs_ver(fs, dv)->size;
		for (uint32_t c = fs_node(fs, d)->first_child; c != BALE_FS_NONE;
		     c = fs_node(fs, c)->next_sibling)
			if ((rc = push(a, &n, c, cy)) != 0)
				return rc;
	}
	{
		long latest = jexp > jimp ? jexp : jimp;
		bool present = latest >= 0 && latest >= carry;
		bool is_dir = jexp >= 0 && jexp >= jimp && fs_ver(fs, rv)->type == BALE_FS_DIR;

		*out = present && is_dir ? sum : 0;
	}
	return 0;
}

static void occurrence(struct analysis *a, uint32_t node, uint64_t size)
{
	if (a->count[node] == 0 || size < a->min[node])
		a->min[node] = size;
	a->cum[node] += size;
	a->count[node]++;
}

/* The leaves of layer `layer`'s own tree, as dive visits them. */
static int dive_layer(struct analysis *a, unsigned layer)
{
	const bale_fs *fs = a->fs;
	uint32_t stamp = layer + 1, first, end;
	int rc;

	bale_fs_layer_range(fs, layer, &first, &end);
	/* every node holding a version (a whiteout's pseudo-node hangs under its parent) makes
	   its ancestors inner nodes of this layer's tree */
	for (uint32_t id = first; id < end; id++) {
		uint32_t p = fs_node(fs, fs_ver(fs, id)->node)->parent;

		for (; p != BALE_FS_NONE && a->nonleaf[p] != stamp; p = fs_node(fs, p)->parent)
			a->nonleaf[p] = stamp;
	}
	for (uint32_t id = first; id < end; id++) {
		const struct version *v = fs_ver(fs, id);
		uint32_t node = v->node;

		if (node == BALE_FS_ROOT)
			continue; /* "." is not in dive's trees */
		if (v->type == BALE_FS_WHITEOUT) {
			uint64_t size;

			if (a->done_wh[node] == stamp)
				continue;
			a->done_wh[node] = stamp;
			if ((rc = dive_whiteout_size(a, node, layer, &size)) != 0)
				return rc;
			occurrence(a, node, size);
		} else if (a->nonleaf[node] != stamp && a->done[node] != stamp) {
			uint32_t payload = real_in(fs, node, layer);

			a->done[node] = stamp;
			occurrence(a, node,
				   payload != BALE_FS_NONE ? fs_ver(fs, payload)->size : 0);
		}
	}
	return 0;
}

static int cmp_paths(const void *x, const void *y)
{
	const bale_inspect_path *a = x, *b = y;

	if (a->cumulative != b->cumulative)
		return a->cumulative > b->cumulative ? -1 : 1;
	return strcmp(a->path, b->path);
}

static int dive_measures(bale_inspect *ins)
{
	const bale_fs *fs = ins->fs;
	size_t nodes = bale_fs_node_count(fs), npaths = 0;
	struct analysis a = {.fs = fs};
	uint64_t sum_min = 0, sum_cum = 0;
	bale_buf path = BALE_BUF_INIT;
	int rc = 0;

	a.nonleaf = calloc(nodes, sizeof(*a.nonleaf));
	a.done = calloc(nodes, sizeof(*a.done));
	a.done_wh = calloc(nodes, sizeof(*a.done_wh));
	a.cum = calloc(nodes, sizeof(*a.cum));
	a.min = calloc(nodes, sizeof(*a.min));
	a.count = calloc(nodes, sizeof(*a.count));
	if (!a.nonleaf || !a.done || !a.done_wh || !a.cum || !a.min || !a.count) {
		rc = bale_error_oom();
		goto out;
	}
	for (size_t i = 0; i < ins->info->nlayers && !rc; i++)
		if (bale_fs_layer(fs, i)->applied)
			rc = dive_layer(&a, (unsigned)i);
	if (rc)
		goto out;
	for (size_t n = 0; n < nodes; n++) {
		if (!a.count[n])
			continue;
		sum_min += a.min[n];
		sum_cum += a.cum[n];
		if (a.count[n] >= 2) {
			ins->sum.wasted_bytes += a.cum[n];
			npaths++;
		}
	}
	ins->sum.efficiency = sum_cum == 0 ? 1.0 : (double)sum_min / (double)sum_cum;
	ins->paths = calloc(npaths ? npaths : 1, sizeof(*ins->paths));
	if (!ins->paths) {
		rc = bale_error_oom();
		goto out;
	}
	npaths = 0;
	for (size_t n = 0; n < nodes && !rc; n++) {
		bale_inspect_path *p;

		if (a.count[n] < 2)
			continue;
		p = &ins->paths[npaths++];
		bale_buf_reset(&path);
		bale_buf_addch(&path, '/');
		if ((rc = bale_fs_path(fs, (uint32_t)n, &path)) != 0)
			break;
		p->path = bale_arena_strndup(&ins->arena, path.ptr, path.len);
		if (!p->path) {
			rc = BALE_ENOMEM;
			break;
		}
		p->node = (uint32_t)n;
		p->count = a.count[n];
		p->cumulative = a.cum[n];
		p->minimum = a.min[n];
		p->dead_bytes = ins->node_dead[n];
	}
	qsort(ins->paths, npaths, sizeof(*ins->paths), cmp_paths);
	ins->sum.paths = ins->paths;
	ins->sum.npaths = npaths;
out:
	free(a.nonleaf);
	free(a.done);
	free(a.done_wh);
	free(a.cum);
	free(a.min);
	free(a.count);
	free(a.stack);
	free(a.stack_carry);
	bale_buf_release(&path);
	return rc;
}

/* Bytes shipped that the final file system does not hold, per layer and per path. */
static int dead_bytes(bale_inspect *ins)
{
	const bale_fs *fs = ins->fs;
	bale_fs_stats st;
	unsigned char *alive;

	bale_fs_stats_get(fs, &st);
	alive = calloc(st.versions / 8 + 1, 1);
	ins->node_dead = calloc(st.nodes ? st.nodes : 1, sizeof(*ins->node_dead));
	if (!alive || !ins->node_dead) {
		free(alive);
		return bale_error_oom();
	}
	/* a copy whose name is gone but that a present hardlink still shares is not lost */
	for (uint32_t id = 0; id < st.versions; id++) {
		const struct version *v = fs_ver(fs, id);

		if (v->type == BALE_FS_HARDLINK && v->fate == BALE_FS_PRESENT &&
		    v->target != BALE_FS_NONE)
			alive[v->target / 8] |= (unsigned char)(1u << (v->target % 8));
	}
	for (uint32_t id = 0; id < st.versions; id++) {
		const struct version *v = fs_ver(fs, id);

		if (fs_is_marker(v->type))
			continue;
		if (v->fate == BALE_FS_PRESENT) {
			if (v->type != BALE_FS_DIR)
				ins->sum.final_files++;
			ins->sum.final_bytes += v->size;
			continue;
		}
		if (v->type != BALE_FS_FILE || !v->size || (alive[id / 8] & (1u << (id % 8))))
			continue;
		ins->layers[v->layer].dead_bytes += v->size;
		ins->node_dead[v->node] += v->size;
		ins->sum.dead_bytes += v->size;
	}
	free(alive);
	return 0;
}

int bale_inspect_analyze(bale_inspect **out, const bale_image_info *info, const bale_fs *fs)
{
	bale_inspect *ins;
	const bale_image_config *cfg = info->config;
	int rc;

	*out = NULL;
	ins = calloc(1, sizeof(*ins));
	if (!ins)
		return bale_error_oom();
	ins->fs = fs;
	ins->info = info;
	ins->layers = calloc(info->nlayers ? info->nlayers : 1, sizeof(*ins->layers));
	if (!ins->layers) {
		bale_inspect_free(ins);
		return bale_error_oom();
	}
	for (size_t i = 0; i < info->nlayers; i++) {
		const bale_image_layer *l = &info->layers[i];
		const bale_fs_layer_stats *s = bale_fs_layer(fs, i);
		bale_inspect_layer *r = &ins->layers[i];

		r->index = i;
		r->digest = l->blob.digest;
		r->diff_id = l->diff_id;
		r->compressed_size = l->blob.size;
		r->size = l->duplicate_of != BALE_IMAGE_NONE
			      ? info->layers[l->duplicate_of].uncompressed_size
			      : l->uncompressed_size;
		r->tar_bytes = s->tar_bytes;
		r->entries = s->entries;
		r->added = s->added;
		r->added_bytes = s->added_bytes;
		r->changed = s->changed;
		r->changed_bytes = s->changed_bytes;
		r->removed = s->removed;
		r->removed_bytes = s->removed_bytes;
		r->missing = l->missing;
		r->duplicate_of = l->duplicate_of;
		r->history = l->history;
		r->created_by = cfg && l->history != BALE_IMAGE_NONE && l->history < cfg->nhistory
				    ? cfg->history[l->history].created_by
				    : NULL;
		ins->sum.size_bytes += s->tar_bytes;
		if (i)
			ins->sum.user_size_bytes += s->tar_bytes;
		ins->sum.compressed_bytes += r->compressed_size;
		ins->sum.uncompressed_bytes += r->size;
	}
	ins->sum.layers = ins->layers;
	ins->sum.nlayers = info->nlayers;
	if ((rc = dead_bytes(ins)) != 0 || (rc = dive_measures(ins)) != 0) {
		bale_inspect_free(ins);
		return rc;
	}
	/* Go's float division: wasted / 0 is +Inf, 0 / 0 is NaN */
	if (ins->sum.user_size_bytes)
		ins->sum.user_wasted_percent =
		    (double)ins->sum.wasted_bytes / (double)ins->sum.user_size_bytes;
	else
		ins->sum.user_wasted_percent = ins->sum.wasted_bytes ? INFINITY : NAN;
	*out = ins;
	return 0;
}

int bale_inspect_image(bale_inspect **out, bale_image *image)
{
	bale_fs *fs = NULL;
	int rc;

	*out = NULL;
	if ((rc = bale_fs_build(&fs, image, NULL)) != 0)
		return rc;
	if ((rc = bale_inspect_analyze(out, bale_image_info_get(image), fs)) != 0) {
		bale_fs_free(fs);
		return rc;
	}
	(*out)->owned_fs = fs;
	return 0;
}

void bale_inspect_free(bale_inspect *ins)
{
	if (!ins)
		return;
	bale_fs_free(ins->owned_fs);
	free(ins->layers);
	free(ins->paths);
	free(ins->node_dead);
	bale_arena_release(&ins->arena);
	free(ins);
}

const bale_inspect_summary *bale_inspect_summary_get(const bale_inspect *ins)
{
	return &ins->sum;
}

const bale_fs *bale_inspect_fs(const bale_inspect *ins)
{
	return ins->fs;
}

const bale_image_info *bale_inspect_info(const bale_inspect *ins)
{
	return ins->info;
}

void bale_inspect_human_bytes(char *out, size_t cap, uint64_t bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
	double p = 1, val;
	int e = 0;

	if (bytes < 10) {
		snprintf(out, cap, "%llu B", (unsigned long long)bytes);
		return;
	}
	/* go-humanize: the power of 1000 below the value, then one decimal rounded half up */
	while (e + 1 < (int)BALE_ARRAY_SIZE(units) && (double)bytes >= p * 1000) {
		p *= 1000;
		e++;
	}
	val = (double)(uint64_t)((double)bytes / p * 10 + 0.5) / 10;
	snprintf(out, cap, val < 10 ? "%.1f %s" : "%.0f %s", val, units[e]);
}
