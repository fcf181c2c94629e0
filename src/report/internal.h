/*
 * internal.h: the findings list and the one-function-per-format layout of the report module.
 * Each format lives in its own file, named after it (tty.c, json.c, sarif.c, ...).
 */
#ifndef BALE_REPORT_INTERNAL_H
#define BALE_REPORT_INTERNAL_H

#include "bale/report.h"
#include "util/util.h"

struct bale_findings {
	bale_arena arena;      /* messages, copied location strings, v and files */
	const char *last_file; /* the arena's copy of the file name last added */
	bale_finding *v;
	size_t n, alloc;
	const char **files; /* files that were checked, in the order noted */
	size_t nfiles, files_alloc;
	bale_rule **rules; /* rules made at run time (bale_findings_intern_rule), in the arena */
	size_t nrules, rules_alloc;
};

int report_tty(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);
int report_json(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);
int report_sarif(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);
int report_checkstyle(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);
int report_gitlab(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);
int report_github(bale_buf *out, const bale_findings *f, const bale_report_opts *opts);

/* "file:line:col" for Dockerfile findings, "image layer N path" for image ones. */
void report_location(bale_buf *out, const bale_location *loc);
/* A stable 32-hex-digit fingerprint of a finding (rule, place, message). */
void report_fingerprint(char out[33], const bale_finding *finding);

#endif
