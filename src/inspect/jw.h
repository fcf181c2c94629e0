/*
 * A small pretty JSON writer laid out exactly as Go's json.MarshalIndent(v, "", "  ") lays
 * out its output ("key": value, two spaces a level, [] and {} when empty), with Go's string
 * escaping and float formatting. Used for both of inspect's JSON formats.
 */
#ifndef BALE_INSPECT_JW_H
#define BALE_INSPECT_JW_H

#include "inspect/internal.h"

#define JW_MAX_DEPTH 32

struct jw {
	bale_buf *out;
	int depth;
	bool empty[JW_MAX_DEPTH]; /* nothing written yet at this level */
	bool after_key;
};

static inline void jw_init(struct jw *w, bale_buf *out)
{
	w->out = out;
	w->depth = 0;
	w->empty[0] = true;
	w->after_key = false;
}

static inline void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (!w->empty[w->depth])
		bale_buf_addch(w->out, ',');
	bale_buf_addch(w->out, '\n');
	for (int i = 0; i < w->depth; i++)
		bale_buf_adds(w->out, "  ");
	w->empty[w->depth] = false;
}

static inline void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	bale_buf_addch(w->out, c);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->empty[w->depth] = true;
}

static inline void jw_close(struct jw *w, char c)
{
	bool was_empty = w->empty[w->depth];

	w->depth--;
	if (!was_empty) {
		bale_buf_addch(w->out, '\n');
		for (int i = 0; i < w->depth; i++)
			bale_buf_adds(w->out, "  ");
	}
	bale_buf_addch(w->out, c);
}

static inline void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	inspect_go_json_string(w->out, key, strlen(key));
	bale_buf_adds(w->out, ": ");
	w->after_key = true;
}

static inline void jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	if (s)
		inspect_go_json_string(w->out, s, strlen(s));
	else
		bale_buf_adds(w->out, "null");
}

static inline void jw_u64(struct jw *w, uint64_t v)
{
	jw_sep(w);
	bale_buf_addf(w->out, "%llu", (unsigned long long)v);
}

static inline void jw_i64(struct jw *w, int64_t v)
{
	jw_sep(w);
	bale_buf_addf(w->out, "%lld", (long long)v);
}

static inline void jw_float(struct jw *w, double v)
{
	jw_sep(w);
	inspect_go_json_float(w->out, v);
}

static inline void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	bale_buf_adds(w->out, v ? "true" : "false");
}

static inline void jw_null(struct jw *w)
{
	jw_sep(w);
	bale_buf_adds(w->out, "null");
}

#endif
