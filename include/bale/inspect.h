/*
 * bale/inspect.h: what an image is made of and what it wastes.
 *
 * bale_inspect_image() reads every layer once (through bale_fs_build(), so every blob is
 * verified) and computes, from the layered file tree and the config:
 *
 *  - per layer: its sizes (compressed, uncompressed, the sum of its entries' sizes), the
 *    files it added, changed and removed, the history line that made it;
 *  - dive's measures, exactly as dive defines them (dive/filetree/efficiency.go): every path
 *    that is a leaf of a layer's own tree is an occurrence (a whiteout of a file counts 0
 *    bytes, a whiteout of a directory the bytes below it in the layers under it, opaque markers
 *    nothing); per path, the cumulative size over its occurrences and the smallest one;
 *    efficiency = sum of smallest / sum of cumulative (1 when nothing); wasted bytes = sum of
 *    cumulative over paths seen in 2 or more layers; size = sum of the entries' sizes of all
 *    layers; user size = the same without layer 0; user wasted percent = wasted / user size;
 *  - bale's own measure, which dive lacks: the bytes shipped that the final file system does
 *    not contain (every superseded, shadowed or deleted copy of a file, once; a copy still
 *    reachable through a present hardlink is not counted), per layer and in total.
 *
 * Renderers produce a terminal report, bale's JSON (docs/inspect.md), dive's `--json` export
 * field for field, a file tree with sizes, and dive's CI evaluation (`--ci`).
 */
#ifndef BALE_INSPECT_H
#define BALE_INSPECT_H

#include "common.h"
#include "buf.h"
#include "fs.h"
#include "image.h"

typedef struct bale_inspect bale_inspect;

typedef struct bale_inspect_layer {
	size_t index;
	const char *digest, *diff_id; /* of the blob as stored, of the uncompressed tar */
	uint64_t compressed_size;     /* the blob's size */
	uint64_t size;		      /* bytes of the uncompressed tar (0 when missing) */
	uint64_t tar_bytes;	      /* sum of its entries' sizes: dive's layer size */
	uint64_t entries;
	uint64_t added, added_bytes, changed, changed_bytes, removed, removed_bytes;
	uint64_t dead_bytes;	/* bytes it ships that the final file system does not hold */
	bool missing;		/* not in the image (foreign): not read */
	size_t duplicate_of;	/* same blob as this earlier layer, or BALE_IMAGE_NONE */
	size_t history;		/* config history entry that made it, or BALE_IMAGE_NONE */
	const char *created_by; /* that entry's created_by, or NULL */
} bale_inspect_layer;

/* A path with occurrences in several layers (dive's "inefficient files"). */
typedef struct bale_inspect_path {
	const char *path; /* "/etc/app.conf" */
	bale_fs_id node;
	uint32_t count;	     /* layers where it is a leaf (dive's count) */
	uint64_t cumulative; /* dive: sum of its sizes over those layers */
	uint64_t minimum;    /* dive: the smallest of them */
	uint64_t dead_bytes; /* bale: its copies shipped that the final file system lacks */
} bale_inspect_path;

typedef struct bale_inspect_summary {
	/* dive's measures */
	double efficiency;
	uint64_t size_bytes, user_size_bytes, wasted_bytes;
	double user_wasted_percent; /* a ratio; +inf or NaN when the user size is 0, as in dive */
	/* bale's */
	uint64_t dead_bytes;  /* shipped, not in the final file system */
	uint64_t final_bytes; /* bytes of the files of the final file system */
	uint64_t final_files; /* non-directories in the final file system */
	uint64_t compressed_bytes, uncompressed_bytes; /* of all layer blobs, as listed */
	const bale_inspect_layer *layers;
	size_t nlayers;
	const bale_inspect_path *paths; /* every path seen in 2+ layers, most cumulative first */
	size_t npaths;
} bale_inspect_summary;

/*
 * Reads `image` (every layer, verified) and analyzes it. On success *out is the caller's
 * (bale_inspect_free()); it refers to `image`, which must outlive it. Errors are the image
 * reader's (naming the blob and the entry).
 */
BALE_EXTERN(int) bale_inspect_image(bale_inspect **out, bale_image *image);
/* Analyzes a tree already built from the image `info` describes; both must outlive *out. */
BALE_EXTERN(int)
bale_inspect_analyze(bale_inspect **out, const bale_image_info *info, const bale_fs *fs);
BALE_EXTERN(void) bale_inspect_free(bale_inspect *ins);

BALE_EXTERN(const bale_inspect_summary *) bale_inspect_summary_get(const bale_inspect *ins);
BALE_EXTERN(const bale_fs *) bale_inspect_fs(const bale_inspect *ins);
BALE_EXTERN(const bale_image_info *) bale_inspect_info(const bale_inspect *ins);

/* ---- dive's CI rules ---------------------------------------------------------------------- */

typedef struct bale_inspect_ci_rule {
	char config[64]; /* the value as configured: "0.9", "20MB", "disabled" */
	bool disabled;
	double ratio;	/* lowestEfficiency, highestUserWastedPercent */
	uint64_t bytes; /* highestWastedBytes */
} bale_inspect_ci_rule;

typedef struct bale_inspect_ci_rules {
	bale_inspect_ci_rule lowest_efficiency;		  /* default 0.9 */
	bale_inspect_ci_rule highest_wasted_bytes;	  /* default disabled */
	bale_inspect_ci_rule highest_user_wasted_percent; /* default 0.1 */
} bale_inspect_ci_rules;

/* dive's defaults. */
BALE_EXTERN(void) bale_inspect_ci_rules_init(bale_inspect_ci_rules *rules);
/*
 * Sets one rule. `name` is dive's key (lowestEfficiency, highestWastedBytes,
 * highestUserWastedPercent) or its kebab-case form (lowest-efficiency, highest-wasted-bytes,
 * highest-user-wasted-percent; dive 0.13's `lowest-efficiency-threshold` too). `value` as
 * dive reads it: a ratio between 0 and 1, bytes with an optional unit (20MB, 1.5GiB), or
 * "disabled" / "off" / "false" / "". BALE_EINVAL with a message for anything else.
 */
BALE_EXTERN(int)
bale_inspect_ci_rules_set(bale_inspect_ci_rules *rules, const char *name, const char *value);
/*
 * Reads a `.dive-ci` file: YAML with the rules under `rules:` (or at the top level), as dive
 * documents it. Rules it does not name keep their current value. Errors name the file and
 * the line.
 */
BALE_EXTERN(int) bale_inspect_ci_rules_load(bale_inspect_ci_rules *rules, const char *path);

/*
 * Evaluates the rules; appends dive's CI report (analysis, inefficient files, one PASS, FAIL
 * or SKIP line per rule, the summary line) to `report` when not NULL; *pass is false when a
 * rule failed.
 */
BALE_EXTERN(int)
bale_inspect_ci_evaluate(bale_buf *report, bool *pass, const bale_inspect *ins,
			 const bale_inspect_ci_rules *rules, bool color);

/* ---- rendering ------------------------------------------------------------------------- */

typedef enum bale_inspect_format {
	BALE_INSPECT_TTY = 0,
	BALE_INSPECT_JSON, /* bale's own, docs/inspect.md */
	BALE_INSPECT_DIVE, /* dive's --json export, field for field */
} bale_inspect_format;

BALE_EXTERN(int) bale_inspect_format_parse(bale_inspect_format *out, const char *name);

typedef struct bale_inspect_render_opts {
	size_t top;			 /* wasteful paths to list (tty, json); 0: none */
	bool tree;			 /* add the file tree (tty, json) */
	size_t tree_layer;		 /* its layer, or BALE_FS_NO_LAYER for the merged tree */
	const char *name;		 /* the reference as the user gave it */
	bool color;			 /* ANSI colours (tty) */
	const bale_inspect_ci_rules *ci; /* json: add the CI evaluation; NULL: none */
} bale_inspect_render_opts;

BALE_EXTERN(int)
bale_inspect_render(bale_buf *out, const bale_inspect *ins, bale_inspect_format format,
		    const bale_inspect_render_opts *opts);

/*
 * The merged tree (`layer` BALE_FS_NO_LAYER) or one layer's, one line per entry: type and
 * mode, owner, size (a directory: the bytes below it), and the name under tree branches; in a
 * layer's tree, whiteouts and opaque markers are shown as such.
 */
BALE_EXTERN(int) bale_inspect_render_tree(bale_buf *out, const bale_inspect *ins, size_t layer);

/* "1.2 MB" as dive prints sizes (go-humanize: powers of 1000, one decimal under 10). */
BALE_EXTERN(void) bale_inspect_human_bytes(char *out, size_t cap, uint64_t bytes);

#endif
