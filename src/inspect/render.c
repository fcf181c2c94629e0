/*
 * Renderers of bale inspect: the terminal report, bale's JSON (docs/inspect.md) and the file
 * tree with sizes. Env values and build-arg values in history are never printed: they are
 * where secrets hide; names are enough to inspect.
 */
#include "inspect/jw.h"
#include "fs/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bale_inspect_format_parse(bale_inspect_format *out, const char *name)
{
	if (strcmp(name, "tty") == 0 || strcmp(name, "text") == 0)
		*out = BALE_INSPECT_TTY;
	else if (strcmp(name, "json") == 0)
		*out = BALE_INSPECT_JSON;
	else if (strcmp(name, "dive") == 0)
		*out = BALE_INSPECT_DIVE;
	else
		return bale_error_set(BALE_EINVAL, "unknown format '%s' (tty, json or dive)", name);
	return 0;
}

/* created_by with the values of a `|N NAME=value ...` build-arg prefix masked. */
static void history_line(bale_buf *out, const char *s)
{
	const char *p = s;
	long n;
	char *end;

	if (!s)
		return;
	if (*p == '|') {
		n = strtol(p + 1, &end, 10);
		if (end > p + 1 && *end == ' ' && n > 0 && n < 1000) {
			bale_buf_add(out, p, (size_t)(end - p) + 1);
			p = end + 1;
			for (long i = 0; i < n && *p; i++) {
				const char *eq = strchr(p, '='), *sp = strchr(p, ' ');

				if (!eq || (sp && sp < eq))
					break;
				bale_buf_add(out, p, (size_t)(eq - p) + 1);
				bale_buf_adds(out, "***");
				p = sp ? sp + 1 : p + strlen(p);
				bale_buf_addch(out, ' ');
			}
		}
	}
	bale_buf_adds(out, p);
}

/* The created_by a person reads: without the shell prefix and #(nop). */
static void history_short(bale_buf *out, const char *s)
{
	bale_buf full = BALE_BUF_INIT;
	const char *p;

	history_line(&full, s);
	p = full.ptr;
	if (*p == '|') {
		/* keep the masked build args, drop the shell prefix after them */
		const char *sh = strstr(p, "/bin/sh -c ");

		if (sh) {
			bale_buf_add(out, p, (size_t)(sh - p));
			p = sh + 11;
		}
	} else if (strncmp(p, "/bin/sh -c ", 11) == 0) {
		p += 11;
	}
	if (strncmp(p, "#(nop) ", 7) == 0)
		p += 7;
	while (*p == ' ')
		p++;
	bale_buf_adds(out, p);
	bale_buf_release(&full);
}

static void human(char *buf, size_t cap, uint64_t n)
{
	bale_inspect_human_bytes(buf, cap, n);
}

static void heading(bale_buf *out, bool color, const char *text)
{
	if (color)
		bale_buf_addf(out, "\033[1m%s\033[0m\n", text);
	else
		bale_buf_addf(out, "%s\n", text);
}

static void field(bale_buf *out, const char *name, const char *value)
{
	bale_buf_addf(out, "  %-13s%s\n", name, value ? value : "-");
}

static void json_array_text(bale_buf *out, const char *const *v, size_t n, bool present)
{
	if (!present) {
		bale_buf_adds(out, "-");
		return;
	}
	bale_buf_addch(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			bale_buf_addch(out, ',');
		inspect_go_json_string(out, v[i], strlen(v[i]));
	}
	bale_buf_addch(out, ']');
}

static void duration(bale_buf *out, const char *name, int64_t ns)
{
	if (!ns)
		return;
	if (ns % 1000000000 == 0)
		bale_buf_addf(out, ", %s %llds", name, (long long)(ns / 1000000000));
	else
		bale_buf_addf(out, ", %s %.3fs", name, (double)ns / 1e9);
}

static void healthcheck_text(bale_buf *out, const bale_image_healthcheck *h)
{
	for (size_t i = 0; i < h->ntest; i++)
		bale_buf_addf(out, "%s%s", i ? " " : "", h->test[i]);
	duration(out, "interval", h->interval);
	duration(out, "timeout", h->timeout);
	duration(out, "start period", h->start_period);
	duration(out, "start interval", h->start_interval);
	if (h->retries)
		bale_buf_addf(out, ", retries %lld", (long long)h->retries);
}

static const char *transport_name(bale_image_transport t)
{
	return t == BALE_IMAGE_DOCKER_ARCHIVE ? "docker-archive"
	       : t == BALE_IMAGE_OCI_ARCHIVE  ? "oci-archive"
					      : "oci";
}

static void summary_tty(bale_buf *out, const bale_inspect *ins, const bale_inspect_render_opts *o)
{
	const bale_image_info *info = ins->info;
	const bale_image_config *c = info->config;
	bale_buf v = BALE_BUF_INIT;

	heading(out, o->color, "Image");
	bale_buf_addf(&v, "%s (%s)", o->name ? o->name : info->path,
		      transport_name(info->transport));
	field(out, "reference", v.ptr);
	if (info->name)
		field(out, "name", info->name);
	field(out, "manifest",
	      info->manifest.digest ? info->manifest.digest : "- (docker-archive)");
	if (info->index_digest)
		field(out, "index", info->index_digest);
	field(out, "config", info->config_blob.digest);
	field(out, "platform", info->platform);
	field(out, "created", c->created);
	if (c->author)
		field(out, "author", c->author);
	field(out, "user", c->user && *c->user ? c->user : "- (root)");
	bale_buf_reset(&v);
	json_array_text(&v, c->entrypoint, c->nentrypoint, c->entrypoint != NULL);
	field(out, "entrypoint", v.ptr);
	bale_buf_reset(&v);
	json_array_text(&v, c->cmd, c->ncmd, c->cmd != NULL);
	field(out, "cmd", v.ptr);
	field(out, "workdir", c->working_dir && *c->working_dir ? c->working_dir : NULL);
	bale_buf_reset(&v);
	for (size_t i = 0; i < c->nenv; i++) {
		const char *eq = strchr(c->env[i], '=');

		bale_buf_addf(&v, "%s%.*s", i ? ", " : "",
			      (int)(eq ? (size_t)(eq - c->env[i]) : strlen(c->env[i])), c->env[i]);
	}
	field(out, "env", v.len ? v.ptr : NULL);
	bale_buf_reset(&v);
	for (size_t i = 0; i < c->nexposed_ports; i++)
		bale_buf_addf(&v, "%s%s", i ? ", " : "", c->exposed_ports[i]);
	field(out, "ports", v.len ? v.ptr : NULL);
	bale_buf_reset(&v);
	for (size_t i = 0; i < c->nvolumes; i++)
		bale_buf_addf(&v, "%s%s", i ? ", " : "", c->volumes[i]);
	if (v.len)
		field(out, "volumes", v.ptr);
	for (size_t i = 0; i < c->nlabels; i++) {
		bale_buf_reset(&v);
		bale_buf_addf(&v, "%s=%s", c->labels[i].name, c->labels[i].value);
		field(out, i ? "" : "labels", v.ptr);
	}
	if (!c->nlabels)
		field(out, "labels", NULL);
	bale_buf_reset(&v);
	if (c->healthcheck)
		healthcheck_text(&v, c->healthcheck);
	field(out, "healthcheck", c->healthcheck ? v.ptr : NULL);
	bale_buf_release(&v);
}

static void short_digest(char *buf, size_t cap, const char *d)
{
	const char *colon = d ? strchr(d, ':') : NULL;

	snprintf(buf, cap, "%.12s", colon ? colon + 1 : d ? d : "-");
}

static void layers_tty(bale_buf *out, const bale_inspect *ins, const bale_inspect_render_opts *o)
{
	const bale_image_info *info = ins->info;
	const bale_image_config *c = info->config;
	char blob[16], tar[16], dead[16], id[16];
	bale_buf hist = BALE_BUF_INIT;
	size_t next_layer = 0;

	heading(out, o->color, "Layers");
	bale_buf_addf(out, "  %3s  %-12s  %9s  %9s  %7s  %7s  %7s  %9s  %s\n", "#", "DIFF ID",
		      "BLOB", "SIZE", "ADDED", "CHANGED", "REMOVED", "NOT FINAL", "CREATED BY");
	/* history order, with each layer where its history entry is; the rest at the end */
	for (size_t h = 0; h <= c->nhistory; h++) {
		for (size_t i = next_layer; i < ins->sum.nlayers; i++) {
			const bale_inspect_layer *l = &ins->layers[i];

			if (h < c->nhistory && l->history != h)
				continue;
			if (h < c->nhistory && i != next_layer)
				break;
			short_digest(id, sizeof(id), l->diff_id);
			human(blob, sizeof(blob), l->compressed_size);
			human(tar, sizeof(tar), l->size);
			human(dead, sizeof(dead), l->dead_bytes);
			bale_buf_reset(&hist);
			if (l->missing)
				bale_buf_adds(&hist, "(missing: a foreign layer, not read) ");
			else if (l->duplicate_of != BALE_IMAGE_NONE)
				bale_buf_addf(&hist, "(same blob as layer %zu) ", l->duplicate_of);
			history_short(&hist, l->created_by);
			bale_buf_addf(out,
				      "  %3zu  %-12s  %9s  %9s  %7llu  %7llu  %7llu  %9s  %s\n", i,
				      id, blob, l->missing ? "-" : tar,
				      (unsigned long long)l->added, (unsigned long long)l->changed,
				      (unsigned long long)l->removed, dead, hist.ptr);
			next_layer = i + 1;
			if (h < c->nhistory)
				break;
		}
		if (h < c->nhistory && c->history[h].layer == BALE_IMAGE_NONE) {
			bale_buf_reset(&hist);
			history_short(&hist, c->history[h].created_by);
			bale_buf_addf(out, "  %3s  %-12s  %9s  %9s  %7s  %7s  %7s  %9s  %s%s\n",
				      "-", "(empty)", "", "", "", "", "", "", hist.ptr,
				      c->history[h].empty_layer ? "" : " (no layer)");
		}
	}
	bale_buf_release(&hist);
}

static void waste_tty(bale_buf *out, const bale_inspect *ins, const bale_inspect_render_opts *o)
{
	const bale_inspect_summary *s = &ins->sum;
	char a[32], b[32];

	heading(out, o->color, "Waste (dive's measures)");
	bale_buf_addf(out, "  %-22s%.2f %%\n", "efficiency", s->efficiency * 100);
	human(a, sizeof(a), s->wasted_bytes);
	bale_buf_addf(out, "  %-22s%llu bytes (%s)\n", "wasted bytes",
		      (unsigned long long)s->wasted_bytes, a);
	human(a, sizeof(a), s->user_size_bytes);
	if (isfinite(s->user_wasted_percent))
		bale_buf_addf(out, "  %-22s%.2f %% of %s above the base layer\n",
			      "user wasted percent", s->user_wasted_percent * 100, a);
	else
		bale_buf_addf(out, "  %-22s- (nothing above the base layer)\n",
			      "user wasted percent");
	human(a, sizeof(a), s->size_bytes);
	bale_buf_addf(out, "  %-22s%llu bytes (%s)\n", "image size",
		      (unsigned long long)s->size_bytes, a);
	heading(out, o->color, "Shipped but not in the final file system (bale)");
	human(a, sizeof(a), s->dead_bytes);
	human(b, sizeof(b), s->final_bytes);
	bale_buf_addf(out, "  %-22s%llu bytes (%s); the final file system holds %s in %llu files\n",
		      "total", (unsigned long long)s->dead_bytes, a, b,
		      (unsigned long long)s->final_files);
	for (size_t i = 0; i < s->nlayers; i++) {
		char label[32];

		if (!s->layers[i].dead_bytes)
			continue;
		snprintf(label, sizeof(label), "layer %zu", i);
		human(a, sizeof(a), s->layers[i].dead_bytes);
		bale_buf_addf(out, "  %-22s%llu bytes (%s)\n", label,
			      (unsigned long long)s->layers[i].dead_bytes, a);
	}
	if (o->top && s->npaths) {
		size_t n = s->npaths < o->top ? s->npaths : o->top;

		bale_buf_addch(out, '\n');
		bale_buf_addf(out, "Top %zu of %zu paths in several layers\n", n, s->npaths);
		if (o->color)
			bale_buf_adds(out, "\033[1m");
		bale_buf_addf(out, "  %5s  %10s  %12s  %s", "COUNT", "DIVE WASTE", "NOT IN FINAL",
			      "PATH");
		bale_buf_adds(out, o->color ? "\033[0m\n" : "\n");
		for (size_t i = 0; i < n; i++) {
			const bale_inspect_path *p = &s->paths[i];

			human(a, sizeof(a), p->cumulative);
			human(b, sizeof(b), p->dead_bytes);
			bale_buf_addf(out, "  %5u  %10s  %12s  %s\n", p->count, a, b, p->path);
		}
	}
}

int inspect_render_tty(bale_buf *out, const bale_inspect *ins, const bale_inspect_render_opts *opts)
{
	summary_tty(out, ins, opts);
	bale_buf_addch(out, '\n');
	layers_tty(out, ins, opts);
	bale_buf_addch(out, '\n');
	waste_tty(out, ins, opts);
	if (opts->tree) {
		int rc;

		bale_buf_addch(out, '\n');
		if (opts->tree_layer == BALE_FS_NO_LAYER)
			heading(out, opts->color, "Final file system");
		else
			bale_buf_addf(out, "%sLayer %zu%s\n", opts->color ? "\033[1m" : "",
				      opts->tree_layer, opts->color ? "\033[0m" : "");
		if ((rc = bale_inspect_render_tree(out, ins, opts->tree_layer)) != 0)
			return rc;
	}
	return out->err;
}

/* ---- the file tree ------------------------------------------------------------------------ */

struct tree {
	const bale_fs *fs;
	bale_buf *out;
	uint8_t *shown;	 /* per node: 1 shown, 2 also a whiteout line (layer trees) */
	uint64_t *bytes; /* per node: bytes at or below it */
	size_t layer;	 /* BALE_FS_NO_LAYER: the final file system */
	bale_buf prefix;
};

static void mode_string(char *m, const struct version *v)
{
	static const char rwx[] = "rwxrwxrwx";
	uint16_t mode = v->mode;

	m[0] = v->type == BALE_FS_DIR	    ? 'd'
	       : v->type == BALE_FS_SYMLINK ? 'l'
	       : v->type == BALE_FS_CHAR    ? 'c'
	       : v->type == BALE_FS_BLOCK   ? 'b'
	       : v->type == BALE_FS_FIFO    ? 'p'
					    : '-';
	for (int i = 0; i < 9; i++)
		m[1 + i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		m[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		m[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000)
		m[9] = (mode & 0001) ? 't' : 'T';
	m[10] = '\0';
}

/* The version a tree line shows for `node`, or NONE (an implicit directory). */
static uint32_t shown_version(const struct tree *t, uint32_t node, bool whiteout)
{
	if (t->layer == BALE_FS_NO_LAYER)
		return bale_fs_node_present(t->fs, node);
	for (uint32_t v = fs_node(t->fs, node)->latest; v != BALE_FS_NONE;
	     v = fs_ver(t->fs, v)->prev) {
		const struct version *ver = fs_ver(t->fs, v);

		if (ver->layer < t->layer)
			break;
		if (ver->layer == t->layer &&
		    (whiteout ? ver->type == BALE_FS_WHITEOUT : !fs_is_marker(ver->type)))
			return v;
	}
	return BALE_FS_NONE;
}

static bool has_opaque(const struct tree *t, uint32_t node)
{
	for (uint32_t v = fs_node(t->fs, node)->latest; v != BALE_FS_NONE;
	     v = fs_ver(t->fs, v)->prev) {
		const struct version *ver = fs_ver(t->fs, v);

		if (ver->layer < t->layer)
			break;
		if (ver->layer == t->layer && ver->type == BALE_FS_OPAQUE)
			return true;
	}
	return false;
}

static void tree_line(struct tree *t, uint32_t node, bool whiteout, bool last)
{
	uint32_t v = shown_version(t, node, whiteout);
	char mode[12], owner[32], size[32];
	size_t nlen;
	const char *name = bale_fs_node_name(t->fs, node, &nlen);

	if (v != BALE_FS_NONE && !whiteout) {
		const struct version *ver = fs_ver(t->fs, v);

		mode_string(mode, ver);
		snprintf(owner, sizeof(owner), "%u:%u", ver->uid, ver->gid);
	} else if (whiteout) {
		snprintf(mode, sizeof(mode), "----------");
		snprintf(owner, sizeof(owner), "-");
	} else {
		snprintf(mode, sizeof(mode), "d?????????");
		snprintf(owner, sizeof(owner), "-");
	}
	if (whiteout)
		snprintf(size, sizeof(size), "-");
	else
		human(size, sizeof(size), t->bytes[node]);
	bale_buf_addf(t->out, "%s %11s %9s  %s%s", mode, owner, size, t->prefix.ptr,
		      last ? "└── " : "├── ");
	if (whiteout)
		bale_buf_adds(t->out, ".wh.");
	bale_buf_add(t->out, name, nlen);
	if (whiteout) {
		bale_buf_adds(t->out, "  (whiteout: deletes it)");
	} else if (v != BALE_FS_NONE) {
		const struct version *ver = fs_ver(t->fs, v);

		if (ver->type == BALE_FS_SYMLINK && ver->link != BALE_FS_NONE)
			bale_buf_addf(t->out, " -> %s", fs_str(t->fs, ver->link));
		else if (ver->type == BALE_FS_HARDLINK && ver->link != BALE_FS_NONE)
			bale_buf_addf(t->out, " => /%s", fs_str(t->fs, ver->link));
	}
	if (t->layer != BALE_FS_NO_LAYER && !whiteout && has_opaque(t, node))
		bale_buf_adds(t->out, "  (opaque: lower contents hidden)");
	bale_buf_addch(t->out, '\n');
}

static int tree_visit(struct tree *t, uint32_t node, int depth)
{
	uint32_t *kids = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	if (depth > 4096)
		return bale_error_set(BALE_ELIMIT, "a path deeper than 4096 directories");
	for (uint32_t c = fs_node(t->fs, node)->first_child; c != BALE_FS_NONE;
	     c = fs_node(t->fs, c)->next_sibling) {
		if (!t->shown[c])
			continue;
		if (BALE_ARRAY_RESERVE(kids, alloc, n + 1)) {
			free(kids);
			return BALE_ENOMEM;
		}
		kids[n++] = c;
	}
	bale_fs_sort_by_name(t->fs, kids, n);
	for (size_t i = 0; i < n && !rc; i++) {
		uint32_t c = kids[i];
		bool wh = t->shown[c] & 2, real = t->shown[c] & 1;
		bool last = i + 1 == n;
		size_t keep = t->prefix.len;

		if (wh)
			tree_line(t, c, true, last && !real);
		if (!real)
			continue;
		tree_line(t, c, false, last);
		bale_buf_adds(&t->prefix, last ? "    " : "│   ");
		rc = tree_visit(t, c, depth + 1);
		bale_buf_truncate(&t->prefix, keep);
	}
	free(kids);
	return rc ? rc : t->prefix.err;
}

int bale_inspect_render_tree(bale_buf *out, const bale_inspect *ins, size_t layer)
{
	const bale_fs *fs = ins->fs;
	size_t nodes = bale_fs_node_count(fs);
	struct tree t = {fs, out, NULL, NULL, layer, BALE_BUF_INIT};
	int rc = 0;

	if (layer != BALE_FS_NO_LAYER && layer >= ins->info->nlayers)
		return bale_error_set(BALE_EINVAL, "no layer %zu (the image has %zu)", layer,
				      ins->info->nlayers);
	t.shown = calloc(nodes, 1);
	t.bytes = calloc(nodes, sizeof(*t.bytes));
	if (!t.shown || !t.bytes) {
		rc = bale_error_oom();
		goto out;
	}
	if (layer == BALE_FS_NO_LAYER) {
		bale_fs_stats st;

		bale_fs_stats_get(fs, &st);
		for (uint32_t id = 0; id < st.versions; id++) {
			const struct version *v = fs_ver(fs, id);

			if (fs_is_marker(v->type) || v->fate != BALE_FS_PRESENT)
				continue;
			for (uint32_t n = v->node; n != BALE_FS_NONE; n = fs_node(fs, n)->parent) {
				t.bytes[n] += v->size;
				t.shown[n] |= 1;
			}
		}
	} else {
		uint32_t first, end;

		bale_fs_layer_range(fs, layer, &first, &end);
		for (uint32_t id = first; id < end; id++) {
			const struct version *v = fs_ver(fs, id);
			bool counted = !fs_is_marker(v->type) && v->fate != BALE_FS_SHADOWED;

			t.shown[v->node] |= v->type == BALE_FS_WHITEOUT ? 2 : 1;
			for (uint32_t n = v->type == BALE_FS_WHITEOUT ? fs_node(fs, v->node)->parent
								      : v->node;
			     n != BALE_FS_NONE; n = fs_node(fs, n)->parent) {
				if (counted)
					t.bytes[n] += v->size;
				t.shown[n] |= 1;
			}
		}
	}
	{
		uint32_t rv = shown_version(&t, BALE_FS_ROOT, false);
		char mode[12] = "d?????????", owner[32] = "-", size[32];

		if (rv != BALE_FS_NONE) {
			mode_string(mode, fs_ver(fs, rv));
			snprintf(owner, sizeof(owner), "%u:%u", fs_ver(fs, rv)->uid,
				 fs_ver(fs, rv)->gid);
		}
		human(size, sizeof(size), t.bytes[BALE_FS_ROOT]);
		bale_buf_addf(out, "%s %11s %9s  /\n", mode, owner, size);
	}
	rc = tree_visit(&t, BALE_FS_ROOT, 0);
out:
	free(t.shown);
	free(t.bytes);
	bale_buf_release(&t.prefix);
	return rc ? rc : out->err;
}

/* ---- bale's JSON -------------------------------------------------------------------------- */

static void jw_strings(struct jw *w, const char *const *v, size_t n)
{
	if (!v) {
		jw_null(w);
		return;
	}
	jw_open(w, '[');
	for (size_t i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_close(w, ']');
}

/* An array, empty when absent. */
static void jw_list(struct jw *w, const char *const *v, size_t n)
{
	jw_open(w, '[');
	for (size_t i = 0; v && i < n; i++)
		jw_str(w, v[i]);
	jw_close(w, ']');
}

static void jw_history(struct jw *w, const char *created_by)
{
	bale_buf h = BALE_BUF_INIT;

	if (!created_by) {
		jw_null(w);
		return;
	}
	history_line(&h, created_by);
	jw_str(w, h.ptr);
	bale_buf_release(&h);
}

struct tree_json {
	struct jw *w;
	size_t layer;
};

static int tree_json_entry(void *ctx, const bale_fs_entry *e)
{
	struct tree_json *tj = ctx;
	struct jw *w = tj->w;

	jw_open(w, '{');
	jw_key(w, "path");
	{
		bale_buf p = BALE_BUF_INIT;

		bale_buf_addch(&p, '/');
		bale_buf_adds(&p, e->path);
		jw_str(w, p.ptr);
		bale_buf_release(&p);
	}
	jw_key(w, "type");
	jw_str(w, bale_fs_type_name(e->type));
	if (!(e->flags & BALE_FS_IMPLICIT) && e->type != BALE_FS_WHITEOUT &&
	    e->type != BALE_FS_OPAQUE) {
		jw_key(w, "mode");
		jw_u64(w, e->mode);
		jw_key(w, "uid");
		jw_u64(w, e->uid);
		jw_key(w, "gid");
		jw_u64(w, e->gid);
		jw_key(w, "size");
		jw_u64(w, e->size);
	}
	if (e->link) {
		jw_key(w, "link");
		jw_str(w, e->link);
	}
	if (e->flags & BALE_FS_IMPLICIT) {
		jw_key(w, "implicit");
		jw_bool(w, true);
	} else {
		jw_key(w, "layer");
		jw_u64(w, e->layer);
	}
	if (tj->layer != BALE_FS_NO_LAYER) {
		jw_key(w, "fate");
		jw_str(w, bale_fs_fate_name(e->fate));
		jw_key(w, "until");
		if (e->until == BALE_FS_NO_LAYER)
			jw_null(w);
		else
			jw_u64(w, e->until);
	}
	if (e->flags & BALE_FS_LINK_ESCAPES) {
		jw_key(w, "link_escapes_root");
		jw_bool(w, true);
	}
	jw_close(w, '}');
	return 0;
}

static void change(struct jw *w, const char *key, uint64_t files, uint64_t bytes)
{
	jw_key(w, key);
	jw_open(w, '{');
	jw_key(w, "files");
	jw_u64(w, files);
	jw_key(w, "bytes");
	jw_u64(w, bytes);
	jw_close(w, '}');
}

int inspect_render_json(bale_buf *out, const bale_inspect *ins, const bale_inspect_render_opts *o)
{
	const bale_image_info *info = ins->info;
	const bale_image_config *c = info->config;
	const bale_inspect_summary *s = &ins->sum;
	struct jw w;
	int rc = 0;

	jw_init(&w, out);
	jw_open(&w, '{');
	jw_key(&w, "image");
	jw_open(&w, '{');
	jw_key(&w, "reference");
	jw_str(&w, o->name ? o->name : info->path);
	jw_key(&w, "transport");
	jw_str(&w, transport_name(info->transport));
	jw_key(&w, "name");
	jw_str(&w, info->name);
	jw_key(&w, "index_digest");
	jw_str(&w, info->index_digest);
	jw_key(&w, "manifest_digest");
	jw_str(&w, info->manifest.digest);
	jw_key(&w, "config_digest");
	jw_str(&w, info->config_blob.digest);
	jw_key(&w, "platform");
	jw_str(&w, info->platform);
	jw_key(&w, "created");
	jw_str(&w, c->created);
	jw_key(&w, "author");
	jw_str(&w, c->author);
	jw_close(&w, '}');

	jw_key(&w, "config");
	jw_open(&w, '{');
	jw_key(&w, "user");
	jw_str(&w, c->user);
	jw_key(&w, "entrypoint");
	jw_strings(&w, c->entrypoint, c->nentrypoint);
	jw_key(&w, "cmd");
	jw_strings(&w, c->cmd, c->ncmd);
	jw_key(&w, "working_dir");
	jw_str(&w, c->working_dir);
	jw_key(&w, "env_names");
	jw_open(&w, '[');
	for (size_t i = 0; i < c->nenv; i++) {
		const char *eq = strchr(c->env[i], '=');
		bale_buf n = BALE_BUF_INIT;

		bale_buf_add(&n, c->env[i], eq ? (size_t)(eq - c->env[i]) : strlen(c->env[i]));
		jw_str(&w, n.ptr);
		bale_buf_release(&n);
	}
	jw_close(&w, ']');
	jw_key(&w, "exposed_ports");
	jw_list(&w, c->exposed_ports, c->nexposed_ports);
	jw_key(&w, "volumes");
	jw_list(&w, c->volumes, c->nvolumes);
	jw_key(&w, "labels");
	jw_open(&w, '{');
	for (size_t i = 0; i < c->nlabels; i++) {
		jw_key(&w, c->labels[i].name);
		jw_str(&w, c->labels[i].value);
	}
	jw_close(&w, '}');
	jw_key(&w, "healthcheck");
	if (c->healthcheck) {
		const bale_image_healthcheck *h = c->healthcheck;

		jw_open(&w, '{');
		jw_key(&w, "test");
		jw_strings(&w, h->test, h->ntest);
		jw_key(&w, "interval_ns");
		jw_i64(&w, h->interval);
		jw_key(&w, "timeout_ns");
		jw_i64(&w, h->timeout);
		jw_key(&w, "start_period_ns");
		jw_i64(&w, h->start_period);
		jw_key(&w, "start_interval_ns");
		jw_i64(&w, h->start_interval);
		jw_key(&w, "retries");
		jw_i64(&w, h->retries);
		jw_close(&w, '}');
	} else {
		jw_null(&w);
	}
	jw_close(&w, '}');

	jw_key(&w, "layers");
	jw_open(&w, '[');
	for (size_t i = 0; i < s->nlayers; i++) {
		const bale_inspect_layer *l = &s->layers[i];

		jw_open(&w, '{');
		jw_key(&w, "index");
		jw_u64(&w, i);
		jw_key(&w, "digest");
		jw_str(&w, l->digest);
		jw_key(&w, "diff_id");
		jw_str(&w, l->diff_id);
		jw_key(&w, "compressed_size");
		jw_u64(&w, l->compressed_size);
		jw_key(&w, "size");
		jw_u64(&w, l->size);
		jw_key(&w, "entries_bytes");
		jw_u64(&w, l->tar_bytes);
		jw_key(&w, "entries");
		jw_u64(&w, l->entries);
		change(&w, "added", l->added, l->added_bytes);
		change(&w, "changed", l->changed, l->changed_bytes);
		change(&w, "removed", l->removed, l->removed_bytes);
		jw_key(&w, "not_in_final_bytes");
		jw_u64(&w, l->dead_bytes);
		jw_key(&w, "missing");
		jw_bool(&w, l->missing);
		jw_key(&w, "duplicate_of");
		if (l->duplicate_of == BALE_IMAGE_NONE)
			jw_null(&w);
		else
			jw_u64(&w, l->duplicate_of);
		jw_key(&w, "history");
		if (l->history == BALE_IMAGE_NONE)
			jw_null(&w);
		else
			jw_u64(&w, l->history);
		jw_key(&w, "created_by");
		jw_history(&w, l->created_by);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "history");
	jw_open(&w, '[');
	for (size_t i = 0; i < c->nhistory; i++) {
		const bale_image_history *h = &c->history[i];

		jw_open(&w, '{');
		jw_key(&w, "created");
		jw_str(&w, h->created);
		jw_key(&w, "created_by");
		jw_history(&w, h->created_by);
		jw_key(&w, "comment");
		jw_str(&w, h->comment);
		jw_key(&w, "empty_layer");
		jw_bool(&w, h->empty_layer);
		jw_key(&w, "layer");
		if (h->layer == BALE_IMAGE_NONE)
			jw_null(&w);
		else
			jw_u64(&w, h->layer);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "dive");
	jw_open(&w, '{');
	jw_key(&w, "efficiency");
	jw_float(&w, s->efficiency);
	jw_key(&w, "size_bytes");
	jw_u64(&w, s->size_bytes);
	jw_key(&w, "user_size_bytes");
	jw_u64(&w, s->user_size_bytes);
	jw_key(&w, "wasted_bytes");
	jw_u64(&w, s->wasted_bytes);
	jw_key(&w, "user_wasted_percent");
	jw_float(&w, s->user_wasted_percent);
	jw_key(&w, "paths_in_several_layers");
	jw_u64(&w, s->npaths);
	jw_close(&w, '}');

	jw_key(&w, "final");
	jw_open(&w, '{');
	jw_key(&w, "files");
	jw_u64(&w, s->final_files);
	jw_key(&w, "bytes");
	jw_u64(&w, s->final_bytes);
	jw_key(&w, "shipped_not_in_final_bytes");
	jw_u64(&w, s->dead_bytes);
	jw_key(&w, "compressed_bytes");
	jw_u64(&w, s->compressed_bytes);
	jw_key(&w, "uncompressed_bytes");
	jw_u64(&w, s->uncompressed_bytes);
	jw_close(&w, '}');

	jw_key(&w, "wasteful_paths");
	jw_open(&w, '[');
	for (size_t i = 0; i < s->npaths && i < o->top; i++) {
		const bale_inspect_path *p = &s->paths[i];

		jw_open(&w, '{');
		jw_key(&w, "path");
		jw_str(&w, p->path);
		jw_key(&w, "count");
		jw_u64(&w, p->count);
		jw_key(&w, "cumulative_bytes");
		jw_u64(&w, p->cumulative);
		jw_key(&w, "minimum_bytes");
		jw_u64(&w, p->minimum);
		jw_key(&w, "not_in_final_bytes");
		jw_u64(&w, p->dead_bytes);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	if (o->ci) {
		bool pass;

		rc = bale_inspect_ci_evaluate(NULL, &pass, ins, o->ci, false);
		if (rc)
			return rc;
		jw_key(&w, "ci");
		jw_open(&w, '{');
		jw_key(&w, "pass");
		jw_bool(&w, pass);
		jw_key(&w, "rules");
		jw_open(&w, '{');
		jw_key(&w, "lowestEfficiency");
		jw_str(&w, o->ci->lowest_efficiency.config);
		jw_key(&w, "highestWastedBytes");
		jw_str(&w, o->ci->highest_wasted_bytes.config);
		jw_key(&w, "highestUserWastedPercent");
		jw_str(&w, o->ci->highest_user_wasted_percent.config);
		jw_close(&w, '}');
		jw_close(&w, '}');
	}

	if (o->tree) {
		struct tree_json tj = {&w, o->tree_layer};

		jw_key(&w, "tree");
		jw_open(&w, '{');
		jw_key(&w, "layer");
		if (o->tree_layer == BALE_FS_NO_LAYER)
			jw_null(&w);
		else
			jw_u64(&w, o->tree_layer);
		jw_key(&w, "entries");
		jw_open(&w, '[');
		if (o->tree_layer == BALE_FS_NO_LAYER)
			rc =
			    bale_fs_walk_merged(ins->fs, BALE_FS_WALK_SORTED, tree_json_entry, &tj);
		else if (o->tree_layer < info->nlayers)
			rc = bale_fs_walk_layer(ins->fs, o->tree_layer, tree_json_entry, &tj);
		else
			rc = bale_error_set(BALE_EINVAL, "no layer %zu (the image has %zu)",
					    o->tree_layer, info->nlayers);
		if (rc)
			return rc;
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	jw_close(&w, '}');
	bale_buf_addch(out, '\n');
	return out->err;
}

int bale_inspect_render(bale_buf *out, const bale_inspect *ins, bale_inspect_format format,
			const bale_inspect_render_opts *opts)
{
	bale_inspect_render_opts defaults = {10, false, BALE_FS_NO_LAYER, NULL, false, NULL};

	if (!opts)
		opts = &defaults;
	switch (format) {
	case BALE_INSPECT_TTY:
		return inspect_render_tty(out, ins, opts);
	case BALE_INSPECT_JSON:
		return inspect_render_json(out, ins, opts);
	case BALE_INSPECT_DIVE:
		return inspect_render_dive(out, ins);
	}
	return bale_error_set(BALE_EINVAL, "unknown inspect format %d", (int)format);
}
