/*
 * Lint configuration: hadolint's keys and variables, bale's own, found and merged as
 * include/bale/lint.h describes. YAML is read with libyaml's document API; every value is
 * type-checked, and a mistake names the file, line and column.
 */
#include "bale/lint.h"
#include "util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define CONFIG_MAX_SIZE		   ((size_t)1 << 20)
#define SHELLCHECK_TIMEOUT_DEFAULT 60

void bale_lint_config_init(bale_lint_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->failure_threshold = BALE_SEV_INFO;
	cfg->shellcheck = -1;
	cfg->shellcheck_timeout = SHELLCHECK_TIMEOUT_DEFAULT;
}

/* A shellcheck-timeout: whole seconds, 1 to a day. */
static bool parse_seconds(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (unsigned)(*s - '0')) > 86400)
			return false;
	}
	if (v == 0)
		return false;
	*out = v;
	return true;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void bale_lint_config_release(bale_lint_config *cfg)
{
	free_list(cfg->ignored, cfg->nignored);
	for (size_t i = 0; i < cfg->noverrides; i++)
		free(cfg->overrides[i].code);
	free(cfg->overrides);
	free_list(cfg->trusted_registries, cfg->ntrusted_registries);
	for (size_t i = 0; i < cfg->nlabel_schema; i++) {
		free(cfg->label_schema[i].label);
		free(cfg->label_schema[i].type);
	}
	free(cfg->label_schema);
	free(cfg->format);
	free(cfg->source);
	bale_lint_config_init(cfg);
}

static int push_string(char ***v, size_t *n, const char *s)
{
	size_t alloc = *n;
	char *c;

	/* Lists are short: grow by exact size. */
	if (BALE_ARRAY_RESERVE(*v, alloc, *n + 1))
		return BALE_ENOMEM;
	c = strdup(s);
	if (!c)
		return bale_error_oom();
	(*v)[(*n)++] = c;
	return 0;
}

int bale_lint_config_add_ignored(bale_lint_config *cfg, const char *code)
{
	return push_string(&cfg->ignored, &cfg->nignored, code);
}

int bale_lint_config_add_trusted_registry(bale_lint_config *cfg, const char *reg)
{
	return push_string(&cfg->trusted_registries, &cfg->ntrusted_registries, reg);
}

int bale_lint_config_add_override(bale_lint_config *cfg, const char *code, bale_severity sev)
{
	size_t alloc = cfg->noverrides;
	char *c;

	if (BALE_ARRAY_RESERVE(cfg->overrides, alloc, cfg->noverrides + 1))
		return BALE_ENOMEM;
	c = strdup(code);
	if (!c)
		return bale_error_oom();
	cfg->overrides[cfg->noverrides].code = c;
	cfg->overrides[cfg->noverrides].severity = sev;
	cfg->noverrides++;
	return 0;
}

int bale_lint_config_add_label(bale_lint_config *cfg, const char *label, const char *type)
{
	static const char *const types[] = {"text",    "url",  "semver", "hash",
					    "rfc3339", "spdx", "email"};
	size_t alloc = cfg->nlabel_schema;
	bool known = false;
	char *l, *t;

	for (size_t i = 0; i < BALE_ARRAY_SIZE(types); i++)
		known |= strcmp(type, types[i]) == 0;
	if (!known)
		return bale_error_set(BALE_EINVAL,
				      "label '%s': unknown type '%s' (use text, url, semver, hash, "
				      "rfc3339, spdx or email)",
				      label, type);
	if (BALE_ARRAY_RESERVE(cfg->label_schema, alloc, cfg->nlabel_schema + 1))
		return BALE_ENOMEM;
	l = strdup(label);
	t = strdup(type);
	if (!l || !t) {
		free(l);
		free(t);
		return bale_error_oom();
	}
	cfg->label_schema[cfg->nlabel_schema].label = l;
	cfg->label_schema[cfg->nlabel_schema].type = t;
	cfg->nlabel_schema++;
	return 0;
}

bale_severity bale_lint_config_severity(const bale_lint_config *cfg, const bale_rule *rule)
{
	bale_severity sev = rule->severity;

	for (size_t i = 0; i < cfg->nignored; i++)
		if (bale_rule_matches(rule, cfg->ignored[i]))
			return BALE_SEV_NONE;
	for (size_t i = 0; i < cfg->noverrides; i++)
		if (bale_rule_matches(rule, cfg->overrides[i].code))
			sev = cfg->overrides[i].severity;
	return sev;
}

/* --- YAML ------------------------------------------------------------------------------ */

struct yctx {
	yaml_document_t *doc;
	const char *name;
};

static int yerr(const struct yctx *y, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int yerr(const struct yctx *y, const yaml_node_t *node, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bale_error_set(BALE_EINVAL, "%s:%zu:%zu: %s", y->name, node->start_mark.line + 1,
			      node->start_mark.column + 1, msg);
}

static const char *scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static int get_bool(const struct yctx *y, const yaml_node_t *node, const char *key, bool *out)
{
	const char *s = scalar(node);

	if (s &&
	    (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0)) {
		*out = true;
		return 0;
	}
	if (s && (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
		  strcasecmp(s, "off") == 0)) {
		*out = false;
		return 0;
	}
	return yerr(y, node, "'%s' must be true or false", key);
}

/* A list of strings; a single scalar counts as a list of one, as hadolint allows. */
static int each_string(const struct yctx *y, yaml_node_t *node, const char *key,
		       int (*fn)(bale_lint_config *, const char *), bale_lint_config *cfg)
{
	int rc;

	if (node->type == YAML_SCALAR_NODE)
		return fn(cfg, scalar(node));
	if (node->type != YAML_SEQUENCE_NODE)
		return yerr(y, node, "'%s' must be a list of strings", key);
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(y->doc, *it);

		if (!item || item->type != YAML_SCALAR_NODE)
			return yerr(y, item ? item : node, "'%s' must be a list of strings", key);
		if ((rc = fn(cfg, scalar(item))) != 0)
			return rc;
	}
	return 0;
}

static int apply_overrides(const struct yctx *y, yaml_node_t *node, bale_lint_config *cfg)
{
	if (node->type != YAML_MAPPING_NODE)
		return yerr(y, node, "'override' must map error/warning/info/style to rule lists");
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, pr->value);
		bale_severity sev;

		if (!k || !v || !scalar(k) || bale_severity_parse(&sev, scalar(k)) != 0)
			return yerr(y, k ? k : node,
				    "'override' keys are error, warning, info, style or none");
		if (v->type == YAML_SCALAR_NODE && scalar(v)[0] == '\0')
			continue;
		if (v->type == YAML_SCALAR_NODE) {
			if (bale_lint_config_add_override(cfg, scalar(v), sev))
				return BALE_ENOMEM;
			continue;
		}
		if (v->type != YAML_SEQUENCE_NODE)
			return yerr(y, v, "'override.%s' must be a list of rule codes", scalar(k));
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(y->doc, *it);

			if (!item || !scalar(item))
				return yerr(y, item ? item : v,
					    "'override.%s' must be a list of rule codes",
					    scalar(k));
			if (bale_lint_config_add_override(cfg, scalar(item), sev))
				return BALE_ENOMEM;
		}
	}
	return 0;
}

static int apply_label_schema(const struct yctx *y, yaml_node_t *node, bale_lint_config *cfg)
{
	if (node->type != YAML_MAPPING_NODE)
		return yerr(y, node, "'label-schema' must map label names to types");
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, pr->value);

		if (!k || !v || !scalar(k) || !scalar(v))
			return yerr(y, k ? k : node,
				    "'label-schema' must map label names to types");
		if (bale_lint_config_add_label(cfg, scalar(k), scalar(v)) != 0)
			return yerr(y, v, "%s", bale_error_last()->message);
	}
	return 0;
}

static int set_threshold(const struct yctx *y, yaml_node_t *node, bale_lint_config *cfg)
{
	const char *s = scalar(node);

	if (!s || bale_severity_parse(&cfg->failure_threshold, s) != 0)
		return yerr(y, node,
			    "'failure-threshold' must be error, warning, info, style or none");
	return 0;
}

static int apply_document(const struct yctx *y, bale_lint_config *cfg)
{
	yaml_node_t *root = yaml_document_get_root_node(y->doc);

	if (!root || (root->type == YAML_SCALAR_NODE && scalar(root)[0] == '\0'))
		return 0; /* an empty file */
	if (root->type != YAML_MAPPING_NODE)
		return yerr(y, root, "the configuration must be a mapping of keys to values");
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, pr->value);
		const char *key = k ? scalar(k) : NULL;
		int rc;

		if (!key || !v)
			return yerr(y, k ? k : root, "keys must be plain strings");
		if (strcmp(key, "ignored") == 0)
			rc = each_string(y, v, key, bale_lint_config_add_ignored, cfg);
		else if (strcmp(key, "trustedRegistries") == 0 ||
			 strcmp(key, "trusted-registries") == 0)
			rc = each_string(y, v, key, bale_lint_config_add_trusted_registry, cfg);
		else if (strcmp(key, "override") == 0)
			rc = apply_overrides(y, v, cfg);
		else if (strcmp(key, "failure-threshold") == 0)
			rc = set_threshold(y, v, cfg);
		else if (strcmp(key, "label-schema") == 0)
			rc = apply_label_schema(y, v, cfg);
		else if (strcmp(key, "strict-labels") == 0)
			rc = get_bool(y, v, key, &cfg->strict_labels);
		else if (strcmp(key, "disable-ignore-pragma") == 0)
			rc = get_bool(y, v, key, &cfg->disable_ignore_pragma);
		else if (strcmp(key, "no-fail") == 0)
			rc = get_bool(y, v, key, &cfg->no_fail);
		else if (strcmp(key, "no-color") == 0)
			rc = get_bool(y, v, key, &cfg->no_color);
		else if (strcmp(key, "format") == 0 && scalar(v)) {
			free(cfg->format);
			cfg->format = strdup(scalar(v));
			rc = cfg->format ? 0 : bale_error_oom();
		} else if (strcmp(key, "shellcheck") == 0) {
			bool on;

			rc = get_bool(y, v, key, &on);
			cfg->shellcheck = on;
		} else if (strcmp(key, "shellcheck-timeout") == 0) {
			if (!parse_seconds(scalar(v), &cfg->shellcheck_timeout))
				rc = yerr(y, v, "'%s' must be whole seconds, 1 to 86400", key);
		} else {
			rc = yerr(y, k, "unknown key '%s'", key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int bale_lint_config_parse(bale_lint_config *cfg, const char *text, size_t len, const char *name)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yctx y = {&doc, name};
	int rc;

	if (!yaml_parser_initialize(&parser))
		return bale_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = bale_error_set(BALE_EINVAL, "%s:%zu:%zu: %s", name,
				    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				    parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = apply_document(&y, cfg);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int bale_lint_config_load(bale_lint_config *cfg, const char *path)
{
	bale_buf text = BALE_BUF_INIT;
	int rc = bale_read_file(&text, path, CONFIG_MAX_SIZE);

	if (rc == 0)
		rc = bale_lint_config_parse(cfg, text.ptr, text.len, path);
	if (rc == 0) {
		free(cfg->source);
		cfg->source = strdup(path);
		if (!cfg->source)
			rc = bale_error_oom();
	}
	bale_buf_release(&text);
	return rc;
}

/* --- finding the file -------------------------------------------------------------------- */

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Looks for `names` in `dir` and each parent up to the one holding .git (or /). */
static char *find_upward(const char *dir, const char *const *names)
{
	char *cur = realpath(dir && *dir ? dir : ".", NULL);
	bale_buf path = BALE_BUF_INIT;

	while (cur) {
		for (const char *const *n = names; *n; n++) {
			bale_buf_reset(&path);
			bale_buf_addf(&path, "%s/%s", strcmp(cur, "/") ? cur : "", *n);
			if (!path.err && is_file(path.ptr)) {
				free(cur);
				return bale_buf_detach(&path, NULL);
			}
		}
		bale_buf_reset(&path);
		bale_buf_addf(&path, "%s/.git", strcmp(cur, "/") ? cur : "");
		if (access(path.ptr, F_OK) == 0 || strcmp(cur, "/") == 0)
			break;
		*strrchr(cur, '/') = '\0';
		if (cur[0] == '\0') {
			cur[0] = '/';
			cur[1] = '\0';
		}
	}
	free(cur);
	bale_buf_release(&path);
	return NULL;
}

static char *find_in_home(const char *const *rel)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	bale_buf path = BALE_BUF_INIT;

	for (const char *const *r = rel; *r; r++) {
		const char *base = NULL;
		const char *tail = *r;

		/* Entries are "xdg:NAME" (under the XDG config dir) or "home:NAME". */
		if (strncmp(tail, "xdg:", 4) == 0) {
			tail += 4;
			if (xdg && *xdg) {
				bale_buf_reset(&path);
				bale_buf_addf(&path, "%s/%s", xdg, tail);
				if (!path.err && is_file(path.ptr))
					return bale_buf_detach(&path, NULL);
				continue;
			}
			base = home;
			bale_buf_reset(&path);
			if (base)
				bale_buf_addf(&path, "%s/.config/%s", base, tail);
		} else {
			tail += 5;
			bale_buf_reset(&path);
			if (home)
				bale_buf_addf(&path, "%s/%s", home, tail);
		}
		if (path.len && !path.err && is_file(path.ptr))
			return bale_buf_detach(&path, NULL);
	}
	bale_buf_release(&path);
	return NULL;
}

int bale_lint_config_find(char **out, const char *dir)
{
	static const char *const bale_names[] = {".bale.yaml", ".bale.yml", NULL};
	static const char *const bale_home[] = {"xdg:bale.yaml", "xdg:bale/config.yaml", NULL};
	static const char *const hadolint_names[] = {".hadolint.yaml", ".hadolint.yml", NULL};
	static const char *const hadolint_home[] = {
	    "xdg:hadolint.yaml", "home:.hadolint/hadolint.yaml", "home:.hadolint.yaml", NULL};

	*out = find_upward(dir, bale_names);
	if (!*out)
		*out = find_in_home(bale_home);
	if (!*out)
		*out = find_upward(dir, hadolint_names);
	if (!*out)
		*out = find_in_home(hadolint_home);
	return 0;
}

/* --- environment ------------------------------------------------------------------------- */

static const char *env(const char *key)
{
	char name[128];
	const char *v;

	snprintf(name, sizeof(name), "BALE_%s", key);
	v = getenv(name);
	if (v)
		return v;
	snprintf(name, sizeof(name), "HADOLINT_%s", key);
	return getenv(name);
}

static bool env_true(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		     strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0);
}

/* Calls fn on each non-empty comma-separated item of `list`. */
static int each_item(const char *list, int (*fn)(bale_lint_config *, const char *, void *),
		     bale_lint_config *cfg, void *arg)
{
	bale_buf item = BALE_BUF_INIT;
	int rc = 0;

	for (const char *p = list;; p++) {
		if (*p == ',' || *p == '\0') {
			size_t s = 0, e = item.len;

			while (s < e && (item.ptr[s] == ' ' || item.ptr[s] == '\t'))
				s++;
			while (e > s && (item.ptr[e - 1] == ' ' || item.ptr[e - 1] == '\t'))
				e--;
			item.ptr[e] = '\0';
			if (e > s && (rc = fn(cfg, item.ptr + s, arg)) != 0)
				break;
			bale_buf_reset(&item);
			if (*p == '\0')
				break;
			continue;
		}
		bale_buf_addch(&item, *p);
	}
	bale_buf_release(&item);
	return rc;
}

static int add_ignored_cb(bale_lint_config *cfg, const char *s, void *arg)
{
	(void)arg;
	return bale_lint_config_add_ignored(cfg, s);
}

static int add_registry_cb(bale_lint_config *cfg, const char *s, void *arg)
{
	(void)arg;
	return bale_lint_config_add_trusted_registry(cfg, s);
}

static int add_override_cb(bale_lint_config *cfg, const char *s, void *arg)
{
	return bale_lint_config_add_override(cfg, s, *(bale_severity *)arg);
}

static int add_label_cb(bale_lint_config *cfg, const char *s, void *arg)
{
	const char *colon = strchr(s, ':');
	char label[256];

	(void)arg;
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(label))
		return bale_error_set(
		    BALE_EINVAL, "REQUIRE_LABELS: '%s' is not LABEL:TYPE (e.g. version:semver)", s);
	memcpy(label, s, (size_t)(colon - s));
	label[colon - s] = '\0';
	return bale_lint_config_add_label(cfg, label, colon + 1);
}

int bale_lint_config_env(bale_lint_config *cfg)
{
	static const struct {
		const char *key;
		bale_severity sev;
	} overrides[] = {{"OVERRIDE_ERROR", BALE_SEV_ERROR},
			 {"OVERRIDE_WARNING", BALE_SEV_WARNING},
			 {"OVERRIDE_INFO", BALE_SEV_INFO},
			 {"OVERRIDE_STYLE", BALE_SEV_STYLE}};
	const char *v;
	int rc;

	if ((v = env("IGNORE")) && (rc = each_item(v, add_ignored_cb, cfg, NULL)) != 0)
		return rc;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(overrides); i++) {
		bale_severity sev = overrides[i].sev;

		if ((v = env(overrides[i].key)) && (rc = each_item(v, add_override_cb, cfg, &sev)))
			return rc;
	}
	if ((v = env("TRUSTED_REGISTRIES")) && (rc = each_item(v, add_registry_cb, cfg, NULL)) != 0)
		return rc;
	if ((v = env("REQUIRE_LABELS")) && (rc = each_item(v, add_label_cb, cfg, NULL)) != 0)
		return rc;
	if ((v = env("FAILURE_THRESHOLD")) && bale_severity_parse(&cfg->failure_threshold, v) != 0)
		return bale_error_set(BALE_EINVAL,
				      "FAILURE_THRESHOLD: '%s' is not error, warning, info, style "
				      "or none",
				      v);
	if ((v = env("NOFAIL")))
		cfg->no_fail = env_true(v);
	if ((v = env("NOCOLOR")))
		cfg->no_color = env_true(v);
	if ((v = env("STRICT_LABELS")))
		cfg->strict_labels = env_true(v);
	if ((v = env("DISABLE_IGNORE_PRAGMA")))
		cfg->disable_ignore_pragma = env_true(v);
	if ((v = getenv("BALE_SHELLCHECK")))
		cfg->shellcheck = env_true(v) ? 1 : 0;
	if ((v = getenv("BALE_SHELLCHECK_TIMEOUT")) && !parse_seconds(v, &cfg->shellcheck_timeout))
		return bale_error_set(BALE_EINVAL,
				      "BALE_SHELLCHECK_TIMEOUT: '%s' is not whole seconds, 1 to "
				      "86400",
				      v);
	if ((v = env("FORMAT"))) {
		free(cfg->format);
		cfg->format = strdup(v);
		if (!cfg->format)
			return bale_error_oom();
	}
	return 0;
}
