/*
 * bale/audit.h: auditing a container image for security mistakes.
 *
 * One pass over the image's layers builds its layered file tree (bale/fs.h) and scans the text
 * files of every layer for credentials on the way; then the config, the history and the final
 * file system are checked. Four groups of rules:
 *   AU1xxx  the config: root user, no HEALTHCHECK, EXPOSE 22, volumes on /proc /sys /dev,
 *           credentials in ENV and labels;
 *   AU2xxx  the history: build arguments that recorded a secret, tokens in RUN lines,
 *           apt-get update alone, ADD of a URL, sudo, chmod 777;
 *   AU3xxx  the final file system: setuid/setgid files, world-writable paths, package caches,
 *           .git directories, toolchains, shells and package managers, empty passwords,
 *           duplicate UIDs/GIDs, symlinks out of the root, file capabilities;
 *   AU4xxx  every layer, deleted and overwritten copies included: secret files and credentials
 *           in file contents, each reported with the layer that ships it.
 *
 * Findings are the same type as lint's (bale/report.h): layer -1 and a path "config:KEY" or
 * "history:N" (the index of the history entry) for config and history, otherwise the layer
 * index and the absolute path in the image. Every secret is masked with bale_mask_secret().
 */
#ifndef BALE_AUDIT_H
#define BALE_AUDIT_H

#include "common.h"
#include "image.h"
#include "report.h"

typedef struct bale_audit_ignore {
	char *code; /* a rule id, name or alias */
	char *path; /* only at this path (and below it), or NULL: everywhere */
} bale_audit_ignore;

typedef struct bale_audit_override {
	char *code;
	bale_severity severity;
} bale_audit_override;

/* The settings; a bale_audit_config owns its strings (bale_audit_config_release()). */
typedef struct bale_audit_config {
	bale_audit_ignore *ignored;
	size_t nignored;
	bale_audit_override *overrides;
	size_t noverrides;
	bale_severity failure_threshold; /* for the caller's exit status (default info) */
	bool no_fail;
	uint64_t max_scan_size; /* files larger than this are not scanned (default 1 MiB) */
} bale_audit_config;

BALE_EXTERN(void) bale_audit_config_init(bale_audit_config *cfg);
BALE_EXTERN(void) bale_audit_config_release(bale_audit_config *cfg);
/* `path` may be NULL (everywhere); a leading '/' is optional. */
BALE_EXTERN(int)
bale_audit_config_add_ignored(bale_audit_config *cfg, const char *code, const char *path);
BALE_EXTERN(int)
bale_audit_config_add_override(bale_audit_config *cfg, const char *code, bale_severity severity);
/*
 * Reads an ignore file: one `CODE` or `CODE PATH` per line; blank lines and '#' comments are
 * skipped. An unknown rule code is an error naming the file and line (BALE_EINVAL), as a typo
 * must not silently keep a finding.
 */
BALE_EXTERN(int) bale_audit_config_load_ignore(bale_audit_config *cfg, const char *file);
/* The same over `len` bytes of text; `name` is used in messages. */
BALE_EXTERN(int)
bale_audit_config_parse_ignore(bale_audit_config *cfg, const char *text, size_t len,
			       const char *name);

/* The severity a finding of `rule` at `path` (may be NULL) gets: BALE_SEV_NONE when ignored. */
BALE_EXTERN(bale_severity)
bale_audit_config_severity(const bale_audit_config *cfg, const bale_rule *rule, const char *path);

/*
 * Audits `image` (opened, no layer read yet), adding its findings to `out`; `name` is the
 * reference shown as the findings' file. Findings are added only when the whole image was read
 * and verified: on an error (the reader's, naming blob and entry) nothing is added.
 */
BALE_EXTERN(int)
bale_audit_image(bale_findings *out, bale_image *image, const char *name,
		 const bale_audit_config *cfg);

/* Every audit rule, in id order. */
BALE_EXTERN(const bale_rule *) bale_audit_rule(size_t index);
BALE_EXTERN(size_t) bale_audit_rule_count(void);
/* The rule with this id, name or alias, or NULL. */
BALE_EXTERN(const bale_rule *) bale_audit_rule_find(const char *code);

#endif
