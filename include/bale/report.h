/*
 * bale/report.h: findings, the one result type of every checker (lint, audit, later scan),
 * and the formatters that render them: tty, json, sarif, checkstyle, gitlab, github.
 *
 * A rule is static metadata (id, kebab-case name, default severity, aliases such as the
 * hadolint code or the BuildKit check name). A finding is one rule firing at one place: a
 * Dockerfile position or an image layer and path. A bale_findings list owns its findings and
 * their strings (one arena); rules are borrowed and must outlive the list.
 */
#ifndef BALE_REPORT_H
#define BALE_REPORT_H

#include "common.h"
#include "buf.h"

/* Ordered: a threshold lets through everything at or above it. */
typedef enum bale_severity {
	BALE_SEV_NONE = 0, /* "none"/"ignore": the rule is off */
	BALE_SEV_STYLE,
	BALE_SEV_INFO,
	BALE_SEV_WARNING,
	BALE_SEV_ERROR,
} bale_severity;

BALE_EXTERN(const char *) bale_severity_name(bale_severity sev);
/* Accepts error, warning, info, style, none, ignore (any case); BALE_EINVAL otherwise. */
BALE_EXTERN(int) bale_severity_parse(bale_severity *out, const char *name);

typedef struct bale_rule {
	const char *id;		    /* bale's id: "BL1001", or the shared one "DL3008" */
	const char *name;	    /* kebab-case: "pin-apt-versions" */
	bale_severity severity;	    /* the default */
	const char *summary;	    /* one line: what the rule checks */
	const char *fix;	    /* the hint: how to fix a finding */
	const char *const *aliases; /* NULL-terminated, or NULL: "DL3008", "StageNameCasing" */
	const char *category;	    /* "security", "efficiency", "correctness", "style", ... */
} bale_rule;

/* True when `code` is the rule's id, its name or one of its aliases (case-insensitive). */
BALE_EXTERN(bool) bale_rule_matches(const bale_rule *rule, const char *code);

typedef struct bale_location {
	const char *file;  /* Dockerfile path, or the image reference; NULL when none */
	uint32_t line;	   /* 1-based; 0 when the finding has no line */
	uint32_t col;	   /* 1-based; 0 when unknown */
	uint32_t end_line; /* 0 when the same as line */
	int layer;	   /* image findings: the layer index, -1 for config/history */
	const char *path;  /* image findings: the path in the image, or a config key */
} bale_location;

typedef struct bale_finding {
	const bale_rule *rule;
	bale_severity severity; /* after configuration overrides */
	const char *message;	/* what is wrong here and why; secrets already masked */
	bale_location loc;
} bale_finding;

typedef struct bale_findings bale_findings;

BALE_EXTERN(int) bale_findings_new(bale_findings **out);
BALE_EXTERN(void) bale_findings_free(bale_findings *findings);
/*
 * Adds a finding; strings in `loc` and the message are copied. `severity` BALE_SEV_NONE means
 * the rule's default.
 */
BALE_EXTERN(int)
bale_findings_add(bale_findings *findings, const bale_rule *rule, bale_severity severity,
		  const bale_location *loc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
BALE_EXTERN(size_t) bale_findings_count(const bale_findings *findings);
BALE_EXTERN(const bale_finding *) bale_findings_get(const bale_findings *findings, size_t i);
/* Sorts by file, line, column, layer, path, then rule id: the order every format prints. */
BALE_EXTERN(void) bale_findings_sort(bale_findings *findings);
/* How many findings are at or above `threshold`. */
BALE_EXTERN(size_t)
bale_findings_at_or_above(const bale_findings *findings, bale_severity threshold);
/*
 * Copies `rule` (its strings, not its aliases) into the list, for rules made at run time (a
 * ShellCheck code, say); *out lives as long as the list. The same id gives the same copy.
 */
BALE_EXTERN(int) bale_findings_intern_rule(bale_findings *findings, const bale_rule *rule,
					   const bale_rule **out);
/* Notes a file that was checked, so formats that list files (checkstyle) show clean ones. */
BALE_EXTERN(int) bale_findings_add_file(bale_findings *findings, const char *file);

typedef enum bale_format {
	BALE_FORMAT_TTY,
	BALE_FORMAT_JSON,
	BALE_FORMAT_SARIF,
	BALE_FORMAT_CHECKSTYLE,
	BALE_FORMAT_GITLAB,
	BALE_FORMAT_GITHUB,
} bale_format;

/* Accepts tty, json, sarif, checkstyle, gitlab (also codeclimate), github; else BALE_EINVAL. */
BALE_EXTERN(int) bale_format_parse(bale_format *out, const char *name);
BALE_EXTERN(const char *) bale_format_name(bale_format format);

typedef struct bale_report_opts {
	bool color;		  /* tty: ANSI colours */
	const char *tool_version; /* sarif: driver version */
	const char *docs_url;	  /* base of rule pages: <docs_url>/<id>.md */
	const bale_rule *const
	    *rules; /* sarif: the rule catalogue to describe (NULL: those used) */
	size_t nrules;
} bale_report_opts;

/* Renders the (sorted) findings in `format`, appended to `out`. */
BALE_EXTERN(int)
bale_report_render(bale_buf *out, bale_format format, const bale_findings *findings,
		   const bale_report_opts *opts);

/*
 * Masks a secret for display: keeps a short prefix that tells its kind (at most 4 characters,
 * never more than a quarter of it) and replaces the rest with '*'. Appends to `out`.
 */
BALE_EXTERN(int) bale_mask_secret(bale_buf *out, const char *secret, size_t len);

#endif
