/*
 * audit/internal.h: what the audit's files share. One `struct audit` lives for one
 * bale_audit_image() call; findings go to its private list, copied to the caller's only when
 * the whole image was read and verified.
 */
#ifndef BALE_AUDIT_INTERNAL_H
#define BALE_AUDIT_INTERNAL_H

#include "bale/audit.h"
#include "bale/fs.h"
#include "util/util.h"

enum audit_rule {
#define AUDIT_RULE(e, id, name, sev, cat, summary, fix, aliases) R_##e,
#include "audit/rules.def"
#undef AUDIT_RULE
	R_COUNT
};

extern const bale_rule audit_rules[R_COUNT];

/* A finding in a layer's file, held until the tree knows what became of the version. */
struct audit_pending {
	enum audit_rule rule;
	size_t layer;
	bale_fs_id version;
	char *path; /* "/etc/x" */
	char *message;
};

/* The content of an account file's latest version (/etc/passwd, /etc/shadow, /etc/group). */
struct audit_account_file {
	bale_fs_id version;
	bale_buf data;
};

struct audit {
	bale_findings *findings; /* private; copied to the caller's at the end */
	const bale_audit_config *cfg;
	const char *name;
	bale_buf msg, path, content;
	struct audit_pending *pending;
	size_t npending, apending;
	struct audit_account_file passwd, shadow, group;
};

/* Adds a finding unless the configuration ignores it; `layer` -1 for config and history. */
int audit_emit(struct audit *a, enum audit_rule rule, int layer, const char *path, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));

/* Appends `secret` masked, in quotes, to `out`. */
int audit_add_masked(bale_buf *out, const char *secret, size_t len);

int audit_check_config(struct audit *a, const bale_image_config *config);
int audit_check_history(struct audit *a, const bale_image_config *config);
/* The fs_build entry hook: secret files and content of every layer, account files. */
int audit_scan_entry(void *ctx, bale_fs *fs, const bale_fs_entry *applied,
		     const bale_image_entry *entry, bale_image_reader *content);
/* Emits the pending layer findings with what became of each version. */
int audit_flush_pending(struct audit *a, const bale_fs *fs);
int audit_check_merged(struct audit *a, const bale_fs *fs);

#endif
