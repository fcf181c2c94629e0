/*
 * dive's CI mode: three rules with dive's names, defaults, value syntax and messages
 * (cmd/dive/cli/internal/command/ci), read from a `.dive-ci` YAML file as dive documents it,
 * and the report dive prints: Analysis, Inefficient Files, Evaluation, and the summary line.
 */
#include "inspect/internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static void rule_init(bale_inspect_ci_rule *r, const char *config, bool disabled, double ratio)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->config, sizeof(r->config), "%s", config);
	r->disabled = disabled;
	r->ratio = ratio;
}

void bale_inspect_ci_rules_init(bale_inspect_ci_rules *rules)
{
	rule_init(&rules->lowest_efficiency, "0.9", false, 0.9);
	rule_init(&rules->highest_wasted_bytes, "disabled", true, 0);
	rule_init(&rules->highest_user_wasted_percent, "0.1", false, 0.1);
}

/* dive: "", "disabled", "off", "false" (any case, spaces around) turn a rule off. */
static bool is_disabled(const char *v)
{
	char t[32];
	size_t len;

	while (isspace((unsigned char)*v))
		v++;
	len = strlen(v);
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	if (len >= sizeof(t))
		return false;
	memcpy(t, v, len);
	t[len] = '\0';
	return !len || strcasecmp(t, "disabled") == 0 || strcasecmp(t, "off") == 0 ||
	       strcasecmp(t, "false") == 0;
}

/* strconv.ParseFloat: the whole string must be a number. */
static bool parse_float(const char *s, double *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !*end && errno == 0 && !isnan(*out);
}

/* go-humanize's ParseBytes: "42", "42MB", "42 MiB", "1.5 kB" (units case-insensitive). */
static bool parse_bytes(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {{"", 1},
		     {"b", 1},
		     {"k", 1e3},
		     {"kb", 1e3},
		     {"ki", 1024.0},
		     {"kib", 1024.0},
		     {"m", 1e6},
		     {"mb", 1e6},
		     {"mi", 1048576.0},
		     {"mib", 1048576.0},
		     {"g", 1e9},
		     {"gb", 1e9},
		     {"gi", 1073741824.0},
		     {"gib", 1073741824.0},
		     {"t", 1e12},
		     {"tb", 1e12},
		     {"ti", 1099511627776.0},
		     {"tib", 1099511627776.0},
		     {"p", 1e15},
		     {"pb", 1e15},
		     {"pi", 1125899906842624.0},
		     {"pib", 1125899906842624.0}};
	char num[64], unit[8];
	size_t n = 0, u = 0;
	const char *p = s;
	double v;

	while (*p && (isdigit((unsigned char)*p) || *p == '.' || *p == ',') &&
	       n + 1 < sizeof(num)) {
		if (*p != ',')
			num[n++] = *p;
		p++;
	}
	num[n] = '\0';
	while (*p == ' ')
		p++;
	while (*p && u + 1 < sizeof(unit))
		unit[u++] = (char)tolower((unsigned char)*p++);
	unit[u] = '\0';
	if (*p || !n || !parse_float(num, &v))
		return false;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(units); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			double b = v * units[i].mult;

			if (b >= 18446744073709551615.0)
				return false;
			*out = (uint64_t)b;
			return true;
		}
	}
	return false;
}

static int set_ratio(bale_inspect_ci_rule *r, const char *key, const char *value)
{
	double v;

	if (is_disabled(value)) {
		rule_init(r, value, true, 0);
		return 0;
	}
	if (!parse_float(value, &v))
		return bale_error_set(BALE_EINVAL, "invalid %s config value, given '%s'", key,
				      value);
	if (v < 0 || v > 1)
		return bale_error_set(BALE_EINVAL,
				      "%s config value is outside allowed range (0-1), given '%s'",
				      key, value);
	rule_init(r, value, false, v);
	return 0;
}

int bale_inspect_ci_rules_set(bale_inspect_ci_rules *rules, const char *name, const char *value)
{
	if (strlen(value) >= sizeof(rules->lowest_efficiency.config))
		return bale_error_set(BALE_EINVAL, "the value of %s is too long", name);
	if (strcmp(name, "lowestEfficiency") == 0 || strcmp(name, "lowest-efficiency") == 0 ||
	    strcmp(name, "lowest-efficiency-threshold") == 0)
		return set_ratio(&rules->lowest_efficiency, "lowestEfficiency", value);
	if (strcmp(name, "highestUserWastedPercent") == 0 ||
	    strcmp(name, "highest-user-wasted-percent") == 0)
		return set_ratio(&rules->highest_user_wasted_percent, "highestUserWastedPercent",
				 value);
	if (strcmp(name, "highestWastedBytes") == 0 || strcmp(name, "highest-wasted-bytes") == 0) {
		uint64_t b;

		if (is_disabled(value)) {
			rule_init(&rules->highest_wasted_bytes, value, true, 0);
			return 0;
		}
		if (!parse_bytes(value, &b))
			return bale_error_set(BALE_EINVAL,
					      "invalid highestWastedBytes config value, given '%s'",
					      value);
		rule_init(&rules->highest_wasted_bytes, value, false, 0);
		rules->highest_wasted_bytes.bytes = b;
		return 0;
	}
	return bale_error_set(BALE_EINVAL,
			      "unknown CI rule '%s' (lowestEfficiency, highestWastedBytes, "
			      "highestUserWastedPercent)",
			      name);
}

/* Applies the scalar rules of mapping `map`; other keys are dive's other settings: ignored. */
static int load_map(bale_inspect_ci_rules *rules, yaml_document_t *doc, yaml_node_t *map,
		    const char *path)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *key;
		int rc;

		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "lowestEfficiency") && strcmp(key, "lowest-efficiency") &&
		    strcmp(key, "lowest-efficiency-threshold") &&
		    strcmp(key, "highestWastedBytes") && strcmp(key, "highest-wasted-bytes") &&
		    strcmp(key, "highestUserWastedPercent") &&
		    strcmp(key, "highest-user-wasted-percent"))
			continue;
		if (!v || v->type != YAML_SCALAR_NODE)
			return bale_error_set(BALE_EINVAL, "%s:%zu: '%s' must be a value", path,
					      k->start_mark.line + 1, key);
		rc = bale_inspect_ci_rules_set(rules, key, (const char *)v->data.scalar.value);
		if (rc)
			return bale_error_prefix("%s:%zu", path, v->start_mark.line + 1);
	}
	return 0;
}

int bale_inspect_ci_rules_load(bale_inspect_ci_rules *rules, const char *path)
{
	bale_buf text = BALE_BUF_INIT;
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	if ((rc = bale_read_file(&text, path, 1 << 20)) != 0) {
		bale_buf_release(&text);
		return rc;
	}
	if (!yaml_parser_initialize(&parser)) {
		bale_buf_release(&text);
		return bale_error_oom();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text.ptr, text.len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = bale_error_set(BALE_EINVAL, "%s:%zu:%zu: %s", path,
				    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				    parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		bale_buf_release(&text);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		rc = load_map(rules, &doc, root, path);
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     !rc && p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);
			yaml_node_t *v = yaml_document_get_node(&doc, p->value);

			if (k && k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value, "rules") == 0) {
				if (!v || v->type != YAML_MAPPING_NODE)
					rc = bale_error_set(BALE_EINVAL,
							    "%s:%zu: 'rules' must be a mapping",
							    path, k->start_mark.line + 1);
				else
					rc = load_map(rules, &doc, v, path);
			}
		}
	} else if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		rc = bale_error_set(BALE_EINVAL, "%s: expected a mapping of rules", path);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	bale_buf_release(&text);
	return rc;
}

enum status { PASS, FAIL, SKIP };

struct result {
	const char *name;
	enum status status;
	bale_buf message;
};

static void style(bale_buf *out, bool color, const char *code, const char *text)
{
	if (color)
		bale_buf_addf(out, "\033[%sm%s\033[0m", code, text);
	else
		bale_buf_adds(out, text);
}

int bale_inspect_ci_evaluate(bale_buf *report, bool *pass, const bale_inspect *ins,
			     const bale_inspect_ci_rules *rules, bool color)
{
	const bale_inspect_summary *s = &ins->sum;
	/* dive lists the rules sorted by name */
	struct result r[3] = {{"highestUserWastedPercent", PASS, BALE_BUF_INIT},
			      {"highestWastedBytes", PASS, BALE_BUF_INIT},
			      {"lowestEfficiency", PASS, BALE_BUF_INIT}};
	const bale_inspect_ci_rule *cfg[3] = {&rules->highest_user_wasted_percent,
					      &rules->highest_wasted_bytes,
					      &rules->lowest_efficiency};
	int npass = 0, nfail = 0, nskip = 0;
	char human[32];

	for (int i = 0; i < 3; i++) {
		bale_buf *m = &r[i].message;

		if (cfg[i]->disabled) {
			r[i].status = SKIP;
			bale_buf_adds(m, "disabled");
			continue;
		}
		if (i == 0 && s->user_wasted_percent > cfg[i]->ratio) {
			r[i].status = FAIL;
			bale_buf_addf(m,
				      "too many bytes wasted, relative to the user bytes added "
				      "(%%-user-wasted-bytes=%2.2f > threshold=",
				      s->user_wasted_percent);
			inspect_go_v_float(m, cfg[i]->ratio);
			bale_buf_addch(m, ')');
		} else if (i == 1 && s->wasted_bytes > cfg[i]->bytes) {
			r[i].status = FAIL;
			bale_buf_addf(
			    m, "too many bytes wasted (wasted-bytes=%llu > threshold=%llu)",
			    (unsigned long long)s->wasted_bytes, (unsigned long long)cfg[i]->bytes);
		} else if (i == 2 && cfg[i]->ratio > s->efficiency) {
			r[i].status = FAIL;
			bale_buf_addf(m,
				      "image efficiency is too low (efficiency=%2.2f < threshold=",
				      s->efficiency);
			inspect_go_v_float(m, cfg[i]->ratio);
			bale_buf_addch(m, ')');
		} else {
			bale_buf_adds(m, cfg[i]->config); /* dive shows the configured value */
		}
	}
	for (int i = 0; i < 3; i++)
		r[i].status == PASS ? npass++ : r[i].status == FAIL ? nfail++ : nskip++;
	*pass = nfail == 0;
	if (report) {
		/* Analysis */
		style(report, color, "1", "Analysis:");
		bale_buf_addf(report, "\n  %-18s %.2f %%\n", "efficiency:", s->efficiency * 100);
		bale_inspect_human_bytes(human, sizeof(human), s->wasted_bytes);
		bale_buf_addf(report, "  %-18s %llu bytes ",
			      "wastedBytes:", (unsigned long long)s->wasted_bytes);
		if (s->wasted_bytes)
			bale_buf_addf(report, "(%s)", human);
		bale_buf_addf(report, "\n  %-18s ", "userWastedPercent:");
		if (s->wasted_bytes) {
			if (isinf(s->user_wasted_percent))
				bale_buf_adds(report, "+Inf %");
			else
				bale_buf_addf(report, "%.2f %%", s->user_wasted_percent * 100);
		} else {
			bale_buf_adds(report, "0 %");
		}
		bale_buf_adds(report, "\n\n");
		/* Inefficient Files */
		style(report, color, "1", "Inefficient Files:");
		if (!s->npaths) {
			bale_buf_adds(report, " (None)");
		} else {
			bale_buf_addch(report, '\n');
			if (color)
				bale_buf_adds(report, "\033[1m");
			bale_buf_addf(report, "  %-5s  %-12s  %s", "Count", "Wasted Space",
				      "File Path");
			if (color)
				bale_buf_adds(report, "\033[0m");
			for (size_t i = 0; i < s->npaths; i++) {
				bale_inspect_human_bytes(human, sizeof(human),
							 s->paths[i].cumulative);
				bale_buf_addf(report, "\n  %-5u  %-12s  %s", s->paths[i].count,
					      human, s->paths[i].path);
			}
		}
		bale_buf_adds(report, "\n\n");
		/* Evaluation */
		style(report, color, "1", "Evaluation:");
		for (int i = 0; i < 3; i++) {
			static const char *const word[] = {"PASS", "FAIL", "SKIP"};
			static const char *const code[] = {"32", "1;31", "2"};

			bale_buf_adds(report, "\n  ");
			style(report, color, code[r[i].status], word[r[i].status]);
			bale_buf_addf(report, "  %s (%s)", r[i].name, r[i].message.ptr);
		}
		bale_buf_adds(report, "\n\n");
		style(report, color, *pass ? "32" : "1;31", *pass ? "PASS" : "FAIL");
		{
			bale_buf tally = BALE_BUF_INIT;

			if (npass)
				bale_buf_addf(&tally, "%spass:%d", tally.len ? " " : "", npass);
			if (nfail)
				bale_buf_addf(&tally, "%sfail:%d", tally.len ? " " : "", nfail);
			if (nskip)
				bale_buf_addf(&tally, "%sskip:%d", tally.len ? " " : "", nskip);
			bale_buf_addf(report, " [%s]\n", tally.ptr);
			bale_buf_release(&tally);
		}
	}
	for (int i = 0; i < 3; i++)
		bale_buf_release(&r[i].message);
	return report && report->err ? report->err : 0;
}
