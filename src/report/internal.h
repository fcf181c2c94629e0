/*
 * internal.h: the one-function-per-format layout of the report module. Each format lives in
 * its own file, named after it (tty.c, json.c, sarif.c, ...); the findings list they read is
 * in findings.h.
 */
#ifndef BALE_REPORT_INTERNAL_H
#define BALE_REPORT_INTERNAL_H

#include "report/findings.h"

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
