/*
 * audit.c: the rule catalogue, the configuration (ignores, overrides, the ignore file) and
 * bale_audit_image(), which runs the groups of checks over one image.
 */
#include "audit/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const bale_rule audit_rules[R_COUNT] = {
#define ALIASES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_ALIASES   NULL
#define AUDIT_RULE(e, id, name, sev, cat, summary, fix, aliases)                                   \
	[R_##e] = {id, name, BALE_SEV_##sev, summary, fix, aliases, cat},
#include "audit/rules.def"
#undef AUDIT_RULE
#undef ALIASES
#undef NO_ALIASES
};

const bale_rule *bale_audit_rule(size_t index)
{
	return index < R_COUNT ? &audit_rules[index] : NULL;
}

size_t bale_audit_rule_count(void)
{
	return R_COUNT;
}

const bale_rule *bale_audit_rule_find(const char *code)
{
	for (size_t i = 0; i < R_COUNT; i++)
		if (bale_rule_matches(&audit_rules[i], code))
			return &audit_rules[i];
	return NULL;
}

/* ---- configuration ------------------------------------------------------------------- */

void bale_audit_config_init(bale_audit_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->failure_threshold = BALE_SEV_INFO;
	cfg->max_scan_size = (uint64_t)1 << 20;
}

void bale_audit_config_release(bale_audit_config *cfg)
{
	for (size_t i = 0; i < cfg->nignored; i++) {
		free(cfg->ignored[i].code);
		free(cfg->ignored[i].path);
	}
	free(cfg->ignored);
	for (size_t i = 0; i < cfg->noverrides; i++)
		free(cfg->overrides[i].code);
	free(cfg->overrides);
	bale_audit_config_init(cfg);
}

int bale_audit_config_add_ignored(bale_audit_config *cfg, const char *code, const char *path)
{
	size_t alloc = cfg->nignored;
	char *c = strdup(code), *p = NULL;

	if (path) {
		size_t len;

		/* findings name files "/a/b": accept "a/b" and "/a/b/" too */
		/* "config:KEY", "history:N" and a layer's "sha256:..." are taken as they are */
		if (!strchr(path, ':') && path[0] != '/') {
			size_t n = strlen(path) + 2;

			p = malloc(n);
			if (p)
				snprintf(p, n, "/%s", path);
		} else {
			p = strdup(path);
		}
		if (p && (len = strlen(p)) > 1 && p[len - 1] == '/')
			p[len - 1] = '\0';
	}
	if (!c || (path && !p) || BALE_ARRAY_RESERVE(cfg->ignored, alloc, cfg->nignored + 1)) {
		free(c);
		free(p);
		return bale_error_oom();
	}
	cfg->ignored[cfg->nignored].code = c;
	cfg->ignored[cfg->nignored].path = p;
	cfg->nignored++;
	return 0;
}

int bale_audit_config_add_override(bale_audit_config *cfg, const char *code, bale_severity severity)
{
	size_t alloc = cfg->noverrides;
	char *c = strdup(code);

	if (!c || BALE_ARRAY_RESERVE(cfg->overrides, alloc, cfg->noverrides + 1)) {
		free(c);
		return bale_error_oom();
	}
	cfg->overrides[cfg->noverrides].code = c;
	cfg->overrides[cfg->noverrides].severity = severity;
	cfg->noverrides++;
	return 0;
}

int bale_audit_config_parse_ignore(bale_audit_config *cfg, const char *text, size_t len,
				   const char *name)
{
	size_t pos = 0, line = 0;
	bale_buf code = BALE_BUF_INIT, path = BALE_BUF_INIT;
	int rc = 0;

	while (pos < len && rc == 0) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos, i = 0, start;

		pos += n + (nl ? 1 : 0);
		line++;
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i == n || s[i] == '#')
			continue;
		start = i;
		while (i < n && !isspace((unsigned char)s[i]))
			i++;
		bale_buf_reset(&code);
		bale_buf_add(&code, s + start, i - start);
		while (i < n && isspace((unsigned char)s[i]))
			i++;
		start = i;
		while (i < n && !isspace((unsigned char)s[i]))
			i++;
		bale_buf_reset(&path);
		if (start < n && s[start] != '#')
			bale_buf_add(&path, s + start, i - start);
		if (code.err || path.err) {
			rc = bale_error_oom();
			break;
		}
		if (memchr(code.ptr, '\0', code.len) || !bale_audit_rule_find(code.ptr)) {
			rc = bale_error_set(BALE_EINVAL, "%s:%zu: unknown audit rule '%s'", name,
					    line, code.ptr);
			break;
		}
		rc = bale_audit_config_add_ignored(cfg, code.ptr, path.len ? path.ptr : NULL);
	}
	bale_buf_release(&code);
	bale_buf_release(&path);
	return rc;
}

int bale_audit_config_load_ignore(bale_audit_config *cfg, const char *file)
{
	bale_buf text = BALE_BUF_INIT;
	int rc = bale_read_file(&text, file, (size_t)16 << 20);

	if (rc == 0)
		rc = bale_audit_config_parse_ignore(cfg, text.ptr, text.len, file);
	bale_buf_release(&text);
	return rc;
}

static bool path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path[0] == '/';
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bale_severity bale_audit_config_severity(const bale_audit_config *cfg, const bale_rule *rule,
					 const char *path)
{
	bale_severity sev = rule->severity;

	for (size_t i = 0; i < cfg->nignored; i++) {
		const bale_audit_ignore *ig = &cfg->ignored[i];

		if (bale_rule_matches(rule, ig->code) &&
		    (!ig->path || (path && path_under(path, ig->path))))
			return BALE_SEV_NONE;
	}
	for (size_t i = 0; i < cfg->noverrides; i++)
		if (bale_rule_matches(rule, cfg->overrides[i].code))
			sev = cfg->overrides[i].severity;
	return sev;
}

/* ---- findings ------------------------------------------------------------------------ */

int audit_emit(struct audit *a, enum audit_rule rule, int layer, const char *path, const char *fmt,
	       ...)
{
	bale_location loc = {.file = a->name, .layer = layer, .path = path};
	bale_severity sev = bale_audit_config_severity(a->cfg, &audit_rules[rule], path);
	va_list ap;

	if (sev == BALE_SEV_NONE)
		return 0;
	bale_buf_reset(&a->msg);
	va_start(ap, fmt);
	bale_buf_vaddf(&a->msg, fmt, ap);
	va_end(ap);
	if (a->msg.err)
		return bale_error_oom();
	return bale_findings_add(a->findings, &audit_rules[rule], sev, &loc, "%s", a->msg.ptr);
}

int audit_add_masked(bale_buf *out, const char *secret, size_t len)
{
	bale_buf_addch(out, '\'');
	bale_mask_secret(out, secret, len);
	return bale_buf_addch(out, '\'');
}

/* ---- the audit ----------------------------------------------------------------------- */

static void audit_release(struct audit *a)
{
	bale_findings_free(a->findings);
	bale_buf_release(&a->msg);
	bale_buf_release(&a->path);
	bale_buf_release(&a->content);
	for (size_t i = 0; i < a->npending; i++) {
		free(a->pending[i].path);
		free(a->pending[i].message);
	}
	free(a->pending);
	bale_buf_release(&a->passwd.data);
	bale_buf_release(&a->shadow.data);
	bale_buf_release(&a->group.data);
}

int bale_audit_image(bale_findings *out, bale_image *image, const char *name,
		     const bale_audit_config *cfg)
{
	bale_audit_config defaults;
	struct audit a = {0};
	const bale_image_info *info = bale_image_info_get(image);
	bale_fs_hooks hooks = {.entry = audit_scan_entry, .ctx = &a};
	bale_fs *fs = NULL;
	int rc;

	bale_audit_config_init(&defaults);
	a.cfg = cfg ? cfg : &defaults;
	a.name = name;
	bale_buf_init(&a.msg, 0);
	bale_buf_init(&a.path, 0);
	bale_buf_init(&a.content, 0);
	a.passwd.version = a.shadow.version = a.group.version = BALE_FS_NONE;
	bale_buf_init(&a.passwd.data, 0);
	bale_buf_init(&a.shadow.data, 0);
	bale_buf_init(&a.group.data, 0);
	if ((rc = bale_findings_new(&a.findings)) != 0)
		goto out;
	if ((rc = audit_check_config(&a, info->config)) != 0)
		goto out;
	if ((rc = audit_check_history(&a, info->config)) != 0)
		goto out;
	if ((rc = bale_fs_build(&fs, image, &hooks)) != 0)
		goto out;
	if ((rc = audit_flush_pending(&a, fs)) != 0)
		goto out;
	for (size_t i = 0; i < info->nlayers && rc == 0; i++)
		if (info->layers[i].missing)
			rc =
			    audit_emit(&a, R_LAYER_NOT_AUDITED, (int)i, info->layers[i].blob.digest,
				       "layer %zu (%s) is not in the image%s: its files were not "
				       "audited",
				       i, info->layers[i].blob.digest,
				       info->layers[i].foreign ? " (a foreign layer)" : "");
	if (rc)
		goto out;
	if ((rc = audit_check_merged(&a, fs)) != 0)
		goto out;
	if (name)
		bale_findings_add_file(out, name);
	for (size_t i = 0; i < bale_findings_count(a.findings) && rc == 0; i++) {
		const bale_finding *f = bale_findings_get(a.findings, i);

		rc = bale_findings_add(out, f->rule, f->severity, &f->loc, "%s", f->message);
	}
out:
	bale_fs_free(fs);
	audit_release(&a);
	return rc;
}
