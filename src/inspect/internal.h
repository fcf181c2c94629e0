/* Internal interfaces of the inspect module: the analysis and its renderers. */
#ifndef BALE_INSPECT_INTERNAL_H
#define BALE_INSPECT_INTERNAL_H

#include "bale/inspect.h"
#include "util/util.h"

struct bale_inspect {
	bale_fs *owned_fs; /* built by bale_inspect_image() */
	const bale_fs *fs;
	const bale_image_info *info;
	bale_inspect_summary sum;
	bale_inspect_layer *layers;
	bale_inspect_path *paths;
	uint64_t *node_dead; /* per node: its copies shipped, not in the final file system */
	bale_arena arena;    /* path strings */
};

/* Go's strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json writes a float64. */
void inspect_go_json_float(bale_buf *out, double f);
/* Go's fmt %v of a float64 (shortest, %g style). */
void inspect_go_v_float(bale_buf *out, double f);
/* A JSON string the way Go's encoding/json writes it (HTML characters escaped too). */
void inspect_go_json_string(bale_buf *out, const char *s, size_t len);

int inspect_render_tty(bale_buf *out, const bale_inspect *ins,
		       const bale_inspect_render_opts *opts);
int inspect_render_json(bale_buf *out, const bale_inspect *ins,
			const bale_inspect_render_opts *opts);
int inspect_render_dive(bale_buf *out, const bale_inspect *ins);

#endif
