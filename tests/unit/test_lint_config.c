/* Lint configuration: hadolint's YAML keys and variables, bale's, precedence and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bale/lint.h"
#include "util/util.h"

static const char *const pin_aliases[] = {"DL3008", NULL};
static const bale_rule pin = {.id = "DL3008",
			      .name = "pin-apt-versions",
			      .severity = BALE_SEV_WARNING,
			      .aliases = pin_aliases};
static const bale_rule other = {.id = "BL1001", .name = "other", .severity = BALE_SEV_INFO};

static void test_hadolint_yaml_keys_are_read(void **state)
{
	const char *yaml = "ignored:\n  - DL3007\n  - pin-apt-versions\n"
			   "override:\n  error: [BL1001]\n  info:\n    - DL3009\n"
			   "failure-threshold: warning\n"
			   "trustedRegistries:\n  - docker.io\n  - my.registry\n"
			   "label-schema:\n  version: semver\n  maintainer: email\n"
			   "strict-labels: true\ndisable-ignore-pragma: yes\nno-color: false\n";
	bale_lint_config cfg;

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_lint_config_parse(&cfg, yaml, strlen(yaml), ".hadolint.yaml"), 0);
	assert_int_equal(cfg.nignored, 2);
	assert_string_equal(cfg.ignored[0], "DL3007");
	assert_int_equal(cfg.noverrides, 2);
	assert_int_equal(cfg.overrides[0].severity, BALE_SEV_ERROR);
	assert_int_equal(cfg.failure_threshold, BALE_SEV_WARNING);
	assert_int_equal(cfg.ntrusted_registries, 2);
	assert_int_equal(cfg.nlabel_schema, 2);
	assert_string_equal(cfg.label_schema[1].type, "email");
	assert_true(cfg.strict_labels);
	assert_true(cfg.disable_ignore_pragma);
	/* Ignored by name; the override raises the other rule. */
	assert_int_equal(bale_lint_config_severity(&cfg, &pin), BALE_SEV_NONE);
	assert_int_equal(bale_lint_config_severity(&cfg, &other), BALE_SEV_ERROR);
	bale_lint_config_release(&cfg);
}

static void test_mistakes_name_file_line_and_column(void **state)
{
	bale_lint_config cfg;

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_lint_config_parse(&cfg, "ignored: [a]\nignord: [b]\n", 25, "c.yaml"),
			 BALE_EINVAL);
	assert_string_equal(bale_error_last()->message, "c.yaml:2:1: unknown key 'ignord'");
	assert_int_equal(bale_lint_config_parse(&cfg, "failure-threshold: loud\n", 24, "c.yaml"),
			 BALE_EINVAL);
	assert_non_null(strstr(bale_error_last()->message, "c.yaml:1:20: 'failure-threshold'"));
	assert_int_equal(bale_lint_config_parse(&cfg, "ignored: [a\n", 12, "c.yaml"), BALE_EINVAL);
	assert_non_null(strstr(bale_error_last()->message, "c.yaml:2:"));
	assert_int_equal(
	    bale_lint_config_parse(&cfg, "label-schema:\n  v: version\n", 27, "c.yaml"),
	    BALE_EINVAL);
	assert_non_null(strstr(bale_error_last()->message, "unknown type 'version'"));
	bale_lint_config_release(&cfg);
}

static void test_environment_overrides_file(void **state)
{
	bale_lint_config cfg;

	(void)state;
	bale_lint_config_init(&cfg);
	setenv("HADOLINT_FAILURE_THRESHOLD", "error", 1);
	setenv("BALE_FAILURE_THRESHOLD", "style", 1);
	setenv("HADOLINT_IGNORE", "DL3000, DL3001", 1);
	setenv("HADOLINT_OVERRIDE_INFO", "DL3008", 1);
	setenv("HADOLINT_REQUIRE_LABELS", "version:semver", 1);
	setenv("HADOLINT_NOFAIL", "1", 1);
	assert_int_equal(bale_lint_config_env(&cfg), 0);
	assert_int_equal(cfg.failure_threshold, BALE_SEV_STYLE); /* BALE_ wins over HADOLINT_ */
	assert_int_equal(cfg.nignored, 2);
	assert_string_equal(cfg.ignored[1], "DL3001");
	assert_int_equal(bale_lint_config_severity(&cfg, &pin), BALE_SEV_INFO);
	assert_int_equal(cfg.nlabel_schema, 1);
	assert_true(cfg.no_fail);
	setenv("HADOLINT_REQUIRE_LABELS", "broken", 1);
	assert_int_equal(bale_lint_config_env(&cfg), BALE_EINVAL);
	unsetenv("HADOLINT_FAILURE_THRESHOLD");
	unsetenv("BALE_FAILURE_THRESHOLD");
	unsetenv("HADOLINT_IGNORE");
	unsetenv("HADOLINT_OVERRIDE_INFO");
	unsetenv("HADOLINT_REQUIRE_LABELS");
	unsetenv("HADOLINT_NOFAIL");
	bale_lint_config_release(&cfg);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_search_prefers_bale_then_hadolint_up_to_repo_root(void **state)
{
	char tmpl[] = "/tmp/bale-cfg-XXXXXX", path[512];
	char *dir = mkdtemp(tmpl), *found = NULL;

	(void)state;
	assert_non_null(dir);
	setenv("XDG_CONFIG_HOME", dir, 1); /* nothing there */
	setenv("HOME", dir, 1);
	snprintf(path, sizeof(path), "%s/repo", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/repo/.git", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/repo/app", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.bale.yaml", dir); /* above the repo: not used */
	write_file(path, "ignored: [x]\n");
	snprintf(path, sizeof(path), "%s/repo/app", dir);
	assert_int_equal(bale_lint_config_find(&found, path), 0);
	assert_null(found);
	snprintf(path, sizeof(path), "%s/repo/.hadolint.yaml", dir);
	write_file(path, "ignored: [DL3008]\n");
	snprintf(path, sizeof(path), "%s/repo/app", dir);
	assert_int_equal(bale_lint_config_find(&found, path), 0);
	assert_non_null(found);
	assert_non_null(strstr(found, "/repo/.hadolint.yaml"));
	free(found);
	snprintf(path, sizeof(path), "%s/repo/.bale.yml", dir);
	write_file(path, "ignored: [DL3008]\n");
	snprintf(path, sizeof(path), "%s/repo/app", dir);
	assert_int_equal(bale_lint_config_find(&found, path), 0);
	assert_non_null(strstr(found, "/repo/.bale.yml"));
	free(found);
	unsetenv("XDG_CONFIG_HOME");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hadolint_yaml_keys_are_read),
	    cmocka_unit_test(test_mistakes_name_file_line_and_column),
	    cmocka_unit_test(test_environment_overrides_file),
	    cmocka_unit_test(test_search_prefers_bale_then_hadolint_up_to_repo_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
