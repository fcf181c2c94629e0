/*
 * bale/lint.h: linting Dockerfiles.
 *
 * The configuration is what hadolint users know (.hadolint.yaml keys, HADOLINT_* variables)
 * plus bale's own keys; .bale.yaml and BALE_* variables take the same keys. Precedence, lowest
 * first: defaults, the configuration file, environment variables, command-line flags (the CLI
 * applies those last). A bale_lint_config owns all its strings; release it with
 * bale_lint_config_release().
 */
#ifndef BALE_LINT_H
#define BALE_LINT_H

#include "common.h"
#include "report.h"
#include "dockerfile.h"

typedef struct bale_severity_override {
	char *code; /* a rule id, name or alias */
	bale_severity severity;
} bale_severity_override;

typedef struct bale_label_rule {
	char *label;
	char *type; /* text, url, semver, hash, rfc3339, spdx, email */
} bale_label_rule;

typedef struct bale_lint_config {
	char **ignored; /* rule codes never reported */
	size_t nignored;
	bale_severity_override *overrides;
	size_t noverrides;
	bale_severity failure_threshold; /* exit 1 when a finding is at or above it */
	bool no_fail;			 /* always exit 0 on findings */
	bool no_color;
	char **trusted_registries; /* when set, FROM must use one of them (DL3026) */
	size_t ntrusted_registries;
	bale_label_rule *label_schema; /* required labels and their types (DL3049-DL3058) */
	size_t nlabel_schema;
	bool strict_labels;	     /* labels outside the schema are reported (DL3050) */
	bool disable_ignore_pragma;  /* `# hadolint ignore=` / `# bale ignore=` have no effect */
	int shellcheck;		     /* -1: when installed (default), 0: never, 1: required */
	unsigned shellcheck_timeout; /* seconds shellcheck may take on one file (default 60) */
	char *format;		     /* the default output format, when set */
	char *source;		     /* the file the configuration came from, or NULL */
} bale_lint_config;

/*
 * Defaults: failure threshold info, shellcheck when installed (for 60 s at most a file), nothing
 * ignored.
 */
BALE_EXTERN(void) bale_lint_config_init(bale_lint_config *cfg);
BALE_EXTERN(void) bale_lint_config_release(bale_lint_config *cfg);

/*
 * Finds the configuration for a Dockerfile in directory `dir`: .bale.yaml (or .bale.yml) in
 * `dir` and each parent up to the repository root (the first directory holding .git), then
 * $XDG_CONFIG_HOME/bale.yaml (default ~/.config); when there is none, .hadolint.yaml the same
 * way, then hadolint's own places (~/.config/hadolint.yaml, ~/.hadolint/hadolint.yaml,
 * ~/.hadolint.yaml). *out is a malloc'd path, or NULL when there is no file (not an error).
 */
BALE_EXTERN(int) bale_lint_config_find(char **out, const char *dir);

/*
 * Merges the YAML file at `path` into `cfg`. Unknown keys are errors (a typo must not
 * silently disable a check); wrong types name the file, line and column.
 */
BALE_EXTERN(int) bale_lint_config_load(bale_lint_config *cfg, const char *path);
/* The same from `len` bytes of YAML text; `name` is used in messages. */
BALE_EXTERN(int)
bale_lint_config_parse(bale_lint_config *cfg, const char *yaml, size_t len, const char *name);

/*
 * Applies environment variables: BALE_<KEY> and, when that is unset, HADOLINT_<KEY>, for
 * IGNORE, FAILURE_THRESHOLD, NOFAIL, NOCOLOR, OVERRIDE_ERROR/WARNING/INFO/STYLE,
 * TRUSTED_REGISTRIES, REQUIRE_LABELS (label:type,...), STRICT_LABELS, DISABLE_IGNORE_PRAGMA,
 * FORMAT, and bale's SHELLCHECK and SHELLCHECK_TIMEOUT. Lists are comma-separated.
 */
BALE_EXTERN(int) bale_lint_config_env(bale_lint_config *cfg);

/* Adds to a list-valued setting; used by the CLI for repeated flags. */
BALE_EXTERN(int) bale_lint_config_add_ignored(bale_lint_config *cfg, const char *code);
BALE_EXTERN(int)
bale_lint_config_add_override(bale_lint_config *cfg, const char *code, bale_severity severity);
BALE_EXTERN(int) bale_lint_config_add_trusted_registry(bale_lint_config *cfg, const char *reg);
BALE_EXTERN(int)
bale_lint_config_add_label(bale_lint_config *cfg, const char *label, const char *type);

/*
 * The severity a finding of `rule` gets under `cfg`: BALE_SEV_NONE when ignored, else the last
 * override that names the rule, else the rule's default.
 */
BALE_EXTERN(bale_severity)
bale_lint_config_severity(const bale_lint_config *cfg, const bale_rule *rule);

typedef struct bale_lint_opts {
	/* Where the build context is (for .dockerignore); NULL: the Dockerfile's directory, and
	 * no context for standard input. */
	const char *context_dir;
	const bale_build_arg *build_args; /* values for ARGs, as docker build --build-arg */
	size_t nbuild_args;
	const char *target; /* the stage that ships; NULL: the last one */
	size_t max_size;    /* bytes; 0: BALE_PARSE_DEFAULT_MAX_SIZE */
} bale_lint_opts;

/*
 * Lints `len` bytes of a Dockerfile named `filename` (used in findings and messages), adding
 * findings to `out`. A file that does not parse gives BALE_EPARSE (nothing is added); a file
 * that parses but that BuildKit would refuse to build (an unknown flag, FROM with a wrong
 * argument count, ...) is reported as a finding of rule BL0001 and the checks that need no
 * stage model still run.
 */
BALE_EXTERN(int)
bale_lint(bale_findings *out, const char *data, size_t len, const char *filename,
	  const bale_lint_config *cfg, const bale_lint_opts *opts);

/*
 * Rewrites the Dockerfile to fix what can be fixed mechanically (see docs/lint.md: MAINTAINER,
 * legacy ENV/LABEL, keyword casing, exec-form CMD/ENTRYPOINT, apt-get/pip/apk cache and
 * recommends flags, apt lists, consecutive RUNs), for findings the configuration keeps.
 * Appends the new text to `out` (the same text when nothing applies) and sets *nfixed to the
 * number of edits. Comments and untouched lines stay byte for byte. Errors as bale_lint().
 */
BALE_EXTERN(int)
bale_lint_fix(bale_buf *out, size_t *nfixed, const char *data, size_t len, const char *filename,
	      const bale_lint_config *cfg, const bale_lint_opts *opts);

/* Every rule bale lint knows, in id order. */
BALE_EXTERN(const bale_rule *) bale_lint_rule(size_t index);
BALE_EXTERN(size_t) bale_lint_rule_count(void);

#endif
