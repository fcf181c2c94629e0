/*
 * Every lint rule against its cases: tests/data/lint/<ID>.cases holds Dockerfiles that must
 * make the rule fire (on the lines listed) and Dockerfiles that must not. The catalogue itself
 * is checked too: each rule has cases of both kinds, a docs page, a unique id and name.
 *
 * A cases file: lines before the first "---" are comments. Each case starts with
 *   --- fire LINE[,LINE...] [| OPTION: VALUE]...      the rule fires exactly on these lines
 *   --- pass [| OPTION: VALUE]...                      the rule does not fire
 * followed by the Dockerfile. Options: "yaml: {flow mapping}" (configuration), "target: NAME",
 * "build-arg: NAME=VALUE", "dockerignore: LINE;LINE" (a build context with that .dockerignore;
 * "dockerignore: -" a context without one).
 *
 * ONLY=ID[,ID...] in the environment runs the cases of those rules alone (while working on a
 * rule); it says so, and the catalogue checks still cover every rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bale/lint.h"
#include "util/util.h"

#define CASES_DIR BALE_TEST_DATA "/lint"
#define DOCS_DIR  BALE_TEST_DATA "/../../docs/rules"

struct lint_case {
	bool fire;
	unsigned lines[64];
	size_t nlines;
	char yaml[1024];
	char target[128];
	char build_arg[512];
	char dockerignore[1024];
	bool has_dockerignore, has_context;
	bale_buf text;
	unsigned at_line; /* in the cases file */
};

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void parse_header(struct lint_case *c, const char *h, const char *file)
{
	const char *p = h + 3;

	while (*p == ' ')
		p++;
	if (strncmp(p, "fire", 4) == 0) {
		c->fire = true;
		p += 4;
		while (*p == ' ')
			p++;
		while (*p >= '0' && *p <= '9') {
			c->lines[c->nlines++] = (unsigned)strtoul(p, (char **)&p, 10);
			if (*p == ',')
				p++;
		}
		if (c->nlines == 0)
			fail_msg("%s:%u: 'fire' needs the lines it fires on", file, c->at_line);
	} else if (strncmp(p, "pass", 4) == 0) {
		p += 4;
	} else {
		fail_msg("%s:%u: a case starts with '--- fire LINES' or '--- pass'", file,
			 c->at_line);
	}
	while ((p = strchr(p, '|')) != NULL) {
		const char *v, *end;
		char key[32];
		size_t klen;

		p++;
		while (*p == ' ')
			p++;
		v = strchr(p, ':');
		if (!v)
			fail_msg("%s:%u: option without ':'", file, c->at_line);
		klen = (size_t)(v - p) < sizeof(key) - 1 ? (size_t)(v - p) : sizeof(key) - 1;
		memcpy(key, p, klen);
		key[klen] = '\0';
		v++;
		while (*v == ' ')
			v++;
		end = strchr(v, '|');
		if (!end)
			end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\n'))
			end--;
#define SET(field) snprintf(c->field, sizeof(c->field), "%.*s", (int)(end - v), v)
		if (strcmp(key, "yaml") == 0)
			SET(yaml);
		else if (strcmp(key, "target") == 0)
			SET(target);
		else if (strcmp(key, "build-arg") == 0)
			SET(build_arg);
		else if (strcmp(key, "dockerignore") == 0) {
			SET(dockerignore);
			c->has_context = true;
			c->has_dockerignore = strcmp(c->dockerignore, "-") != 0;
		} else
			fail_msg("%s:%u: unknown option '%s'", file, c->at_line, key);
#undef SET
		p = end;
	}
	qsort(c->lines, c->nlines, sizeof(c->lines[0]), cmp_uint);
}

/* Runs one case; returns the lines the rule fired on (sorted) in got/ngot. */
static void run_case(const char *id, const char *file, struct lint_case *c)
{
	bale_lint_config cfg;
	bale_lint_opts opts = {0};
	bale_build_arg arg;
	bale_findings *f;
	char ctxdir[] = "/tmp/bale-lint-ctx-XXXXXX";
	unsigned got[64];
	size_t ngot = 0;
	int rc;

	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	if (c->yaml[0] && bale_lint_config_parse(&cfg, c->yaml, strlen(c->yaml), "case") != 0)
		fail_msg("%s:%u: bad yaml option: %s", file, c->at_line,
			 bale_error_last()->message);
	if (c->target[0])
		opts.target = c->target;
	if (c->build_arg[0]) {
		char *eq = strchr(c->build_arg, '=');

		assert_non_null(eq);
		*eq = '\0';
		arg.name = c->build_arg;
		arg.value = eq + 1;
		opts.build_args = &arg;
		opts.nbuild_args = 1;
	}
	if (c->has_context) {
		assert_non_null(mkdtemp(ctxdir));
		opts.context_dir = ctxdir;
		if (c->has_dockerignore) {
			char path[256];
			FILE *fp;

			snprintf(path, sizeof(path), "%s/.dockerignore", ctxdir);
			fp = fopen(path, "w");
			assert_non_null(fp);
			for (const char *p = c->dockerignore; *p; p++)
				fputc(*p == ';' ? '\n' : *p, fp);
			fputc('\n', fp);
			fclose(fp);
		}
	}
	assert_int_equal(bale_findings_new(&f), 0);
	rc = bale_lint(f, c->text.ptr, c->text.len, "Dockerfile", &cfg, &opts);
	if (rc != 0)
		fail_msg("%s:%u: lint failed: %s", file, c->at_line, bale_error_last()->message);
	for (size_t i = 0; i < bale_findings_count(f); i++) {
		const bale_finding *fd = bale_findings_get(f, i);

		if (strcmp(fd->rule->id, id) == 0 && ngot < 64)
			got[ngot++] = fd->loc.line;
	}
	qsort(got, ngot, sizeof(got[0]), cmp_uint);
	if (ngot != c->nlines || memcmp(got, c->lines, ngot * sizeof(got[0])) != 0) {
		char want_s[512] = "", got_s[512] = "";

		for (size_t i = 0; i < c->nlines; i++)
			snprintf(want_s + strlen(want_s), sizeof(want_s) - strlen(want_s), "%s%u",
				 i ? "," : "", c->lines[i]);
		for (size_t i = 0; i < ngot; i++)
			snprintf(got_s + strlen(got_s), sizeof(got_s) - strlen(got_s), "%s%u",
				 i ? "," : "", got[i]);
		fail_msg("%s:%u: %s expected on lines [%s], fired on [%s]\n--- Dockerfile:\n%s",
			 file, c->at_line, id, want_s, got_s, c->text.ptr);
	}
	if (c->has_context) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ctxdir);
		assert_int_equal(system(cmd), 0);
	}
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
}

/* Runs every case of one file; counts fire and pass cases. */
static void run_file(const char *id, const char *path, int *nfire, int *npass)
{
	bale_buf all = BALE_BUF_INIT;
	struct lint_case c;
	bool in_case = false;
	unsigned lineno = 0;
	const char *p, *end;

	assert_int_equal(bale_read_file(&all, path, 1 << 20), 0);
	memset(&c, 0, sizeof(c));
	for (p = all.ptr; *p; p = end + (*end == '\n')) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		lineno++;
		if (strncmp(p, "---", 3) == 0) {
			char header[2048];

			if (in_case) {
				run_case(id, path, &c);
				*(c.fire ? nfire : npass) += 1;
				bale_buf_release(&c.text);
			}
			memset(&c, 0, sizeof(c));
			bale_buf_init(&c.text, 0);
			c.at_line = lineno;
			snprintf(header, sizeof(header), "%.*s", (int)(end - p), p);
			parse_header(&c, header, path);
			in_case = true;
			continue;
		}
		if (in_case) {
			bale_buf_add(&c.text, p, (size_t)(end - p));
			bale_buf_addch(&c.text, '\n');
		}
	}
	if (in_case) {
		run_case(id, path, &c);
		*(c.fire ? nfire : npass) += 1;
		bale_buf_release(&c.text);
	}
	bale_buf_release(&all);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* True when ONLY is unset or lists `id` (comma-separated). */
static bool selected(const char *only, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = only; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && strncmp(p, id, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return !only || !*only;
}

static void test_every_rule_fires_and_passes_on_its_cases(void **state)
{
	size_t n = bale_lint_rule_count();
	const char *only = getenv("ONLY");
	int total = 0, nrules = 0;

	(void)state;
	assert_true(n > 0);
	if (only && *only)
		print_message("ONLY=%s: the cases of those rules alone\n", only);
	for (size_t i = 0; i < n; i++) {
		const bale_rule *r = bale_lint_rule(i);
		char path[512];
		int nfire = 0, npass = 0;

		if (!selected(only, r->id))
			continue;
		nrules++;
		snprintf(path, sizeof(path), "%s/%s.cases", CASES_DIR, r->id);
		if (!file_exists(path))
			fail_msg("rule %s has no cases file %s", r->id, path);
		run_file(r->id, path, &nfire, &npass);
		if (nfire == 0 || npass == 0)
			fail_msg("%s: %d fire and %d pass cases; each kind needs one at least",
				 path, nfire, npass);
		total += nfire + npass;
	}
	print_message("%d rules, %d cases\n", nrules, total);
}

static void test_catalogue_is_complete_and_unique(void **state)
{
	size_t n = bale_lint_rule_count();

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const bale_rule *r = bale_lint_rule(i);
		char path[512];

		assert_non_null(r->id);
		assert_non_null(r->name);
		if (!r->summary || !r->summary[0] || !r->fix || !r->fix[0])
			fail_msg("rule %s needs a summary and a fix hint", r->id);
		/* BALE_SEV_NONE: off unless configured, as hadolint's "ignore" rules (DL1001). */
		if (r->severity > BALE_SEV_ERROR)
			fail_msg("rule %s has no valid default severity", r->id);
		for (const char *c = r->name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
				fail_msg("rule %s: name '%s' is not kebab-case", r->id, r->name);
		if (i > 0 && strcmp(bale_lint_rule(i - 1)->id, r->id) >= 0)
			fail_msg("two rules have the id %s, or the catalogue is not sorted", r->id);
		for (size_t k = 0; k < i; k++)
			if (strcmp(bale_lint_rule(k)->name, r->name) == 0)
				fail_msg("rules %s and %s share the name %s", bale_lint_rule(k)->id,
					 r->id, r->name);
		snprintf(path, sizeof(path), "%s/%s.md", DOCS_DIR, r->id);
		if (!file_exists(path))
			fail_msg("rule %s has no docs page %s", r->id, path);
	}
}

static void test_every_cases_file_names_a_rule(void **state)
{
	DIR *d = opendir(CASES_DIR);
	struct dirent *e;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		bool found = false;

		if (len < 7 || strcmp(e->d_name + len - 6, ".cases") != 0)
			continue;
		for (size_t i = 0; i < bale_lint_rule_count(); i++)
			found |= strncmp(bale_lint_rule(i)->id, e->d_name, len - 6) == 0 &&
				 strlen(bale_lint_rule(i)->id) == len - 6;
		if (!found)
			fail_msg("%s names no rule in rules.def", e->d_name);
	}
	closedir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_is_complete_and_unique),
	    cmocka_unit_test(test_every_cases_file_names_a_rule),
	    cmocka_unit_test(test_every_rule_fires_and_passes_on_its_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
