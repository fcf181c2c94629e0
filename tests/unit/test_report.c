/* Findings and every output format, checked against exact expected text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bale/report.h"
#include "util/util.h"

static const char *const pin_aliases[] = {"DL3008", NULL};
static const bale_rule pin_rule = {
    .id = "DL3008",
    .name = "pin-apt-versions",
    .severity = BALE_SEV_WARNING,
    .summary = "Pin versions in apt-get install",
    .fix = "write apt-get install <package>=<version>",
    .aliases = pin_aliases,
    .category = "reproducibility",
};
static const bale_rule key_rule = {
    .id = "BL2001",
    .name = "secret-file-in-layer",
    .severity = BALE_SEV_ERROR,
    .summary = "A private key is shipped in a layer",
    .fix = "use RUN --mount=type=secret",
    .category = "security",
};

static bale_findings *sample(void)
{
	bale_findings *f;
	bale_location l1 = {.file = "Dockerfile", .line = 7, .col = 1, .layer = -1};
	bale_location l2 = {.file = "Dockerfile", .line = 3, .col = 5, .end_line = 4, .layer = -1};
	bale_location l3 = {.file = "app.tar", .layer = 2, .path = "/root/.ssh/id_rsa"};

	assert_int_equal(bale_findings_new(&f), 0);
	assert_int_equal(bale_findings_add_file(f, "Dockerfile"), 0);
	assert_int_equal(bale_findings_add_file(f, "clean/Dockerfile"), 0);
	assert_int_equal(bale_findings_add(f, &pin_rule, BALE_SEV_NONE, &l1, "pin \"%s\"", "curl"),
			 0);
	assert_int_equal(bale_findings_add(f, &pin_rule, BALE_SEV_INFO, &l2, "pin <gcc> & co"), 0);
	assert_int_equal(bale_findings_add(f, &key_rule, BALE_SEV_NONE, &l3,
					   "private key deleted later, still shipped"),
			 0);
	bale_findings_sort(f);
	return f;
}

static char *render(bale_format fmt, const bale_findings *f, const bale_report_opts *opts)
{
	bale_buf out = BALE_BUF_INIT;

	assert_int_equal(bale_report_render(&out, fmt, f, opts), 0);
	return bale_buf_detach(&out, NULL);
}

static void test_findings_sort_by_place_and_keep_overrides(void **state)
{
	bale_findings *f = sample();

	(void)state;
	assert_int_equal(bale_findings_count(f), 3);
	assert_int_equal(bale_findings_get(f, 0)->loc.line, 3);
	assert_int_equal(bale_findings_get(f, 0)->severity, BALE_SEV_INFO);
	assert_int_equal(bale_findings_get(f, 1)->severity, BALE_SEV_WARNING);
	assert_string_equal(bale_findings_get(f, 2)->loc.file, "app.tar");
	assert_int_equal(bale_findings_at_or_above(f, BALE_SEV_WARNING), 2);
	assert_int_equal(bale_findings_at_or_above(f, BALE_SEV_ERROR), 1);
	assert_int_equal(bale_findings_at_or_above(f, BALE_SEV_STYLE), 3);
	bale_findings_free(f);
}

static void test_tty_lines_name_place_severity_rule_and_hint(void **state)
{
	bale_findings *f = sample();
	char *s = render(BALE_FORMAT_TTY, f, NULL);

	(void)state;
	assert_string_equal(s,
			    "Dockerfile:3:5 info DL3008 pin-apt-versions: pin <gcc> & co\n"
			    "  hint: write apt-get install <package>=<version>\n"
			    "Dockerfile:7:1 warning DL3008 pin-apt-versions: pin \"curl\"\n"
			    "  hint: write apt-get install <package>=<version>\n"
			    "app.tar layer 2 /root/.ssh/id_rsa error BL2001 secret-file-in-layer: "
			    "private key deleted later, still shipped\n"
			    "  hint: use RUN --mount=type=secret\n");
	free(s);
	bale_findings_free(f);
}

static void test_tty_colour_only_when_asked(void **state)
{
	bale_findings *f = sample();
	bale_report_opts opts = {.color = true};
	char *plain = render(BALE_FORMAT_TTY, f, NULL), *color = render(BALE_FORMAT_TTY, f, &opts);

	(void)state;
	assert_null(strchr(plain, '\033'));
	assert_non_null(strstr(color, "\033[1;31merror\033[0m"));
	free(plain);
	free(color);
	bale_findings_free(f);
}

static void test_json_has_hadolint_keys(void **state)
{
	bale_findings *f = sample();
	char *s = render(BALE_FORMAT_JSON, f, NULL);

	(void)state;
	assert_non_null(strstr(s, "\"code\": \"DL3008\""));
	assert_non_null(strstr(s, "\"level\": \"info\""));
	assert_non_null(strstr(s, "\"message\": \"pin \\\"curl\\\"\""));
	assert_non_null(strstr(s, "\"layer\": 2"));
	assert_non_null(strstr(s, "\"path\": \"/root/.ssh/id_rsa\""));
	assert_int_equal(s[0], '[');
	free(s);
	bale_findings_free(f);
}

static void test_sarif_describes_rules_and_maps_levels(void **state)
{
	bale_findings *f = sample();
	bale_report_opts opts = {.docs_url = "https://example.invalid/rules"};
	char *s = render(BALE_FORMAT_SARIF, f, &opts);

	(void)state;
	assert_non_null(strstr(s, "\"version\": \"2.1.0\""));
	assert_non_null(strstr(s, "\"helpUri\": \"https://example.invalid/rules/DL3008.md\""));
	assert_non_null(strstr(s, "\"level\": \"note\""));
	assert_non_null(strstr(s, "\"startLine\": 3"));
	assert_non_null(strstr(s, "\"endLine\": 4"));
	assert_non_null(strstr(s, "\"fullyQualifiedName\": \"layer 2 /root/.ssh/id_rsa\""));
	/* Each used rule described once: DL3008 then BL2001. */
	assert_non_null(strstr(s, "\"ruleIndex\": 1"));
	assert_null(strstr(strstr(s, "\"id\": \"DL3008\"") + 1, "\"id\": \"DL3008\""));
	free(s);
	bale_findings_free(f);
}

static void test_checkstyle_lists_clean_files_and_escapes(void **state)
{
	bale_findings *f = sample();
	char *s = render(BALE_FORMAT_CHECKSTYLE, f, NULL);

	(void)state;
	assert_string_equal(
	    s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">"
	       "<file name=\"Dockerfile\"><error line=\"3\" column=\"5\" severity=\"info\" "
	       "message=\"pin &lt;gcc&gt; &amp; co\" source=\"DL3008\"/><error line=\"7\" "
	       "column=\"1\" severity=\"warning\" message=\"pin &quot;curl&quot;\" "
	       "source=\"DL3008\"/></file><file name=\"clean/Dockerfile\"></file>"
	       "<file name=\"app.tar\"><error line=\"0\" column=\"0\" severity=\"error\" "
	       "message=\"layer 2 /root/.ssh/id_rsa: private key deleted later, still "
	       "shipped\" source=\"BL2001\"/></file></checkstyle>\n");
	free(s);
	bale_findings_free(f);
}

static void test_gitlab_has_fingerprints_and_severities(void **state)
{
	bale_findings *f = sample(), *g = sample();
	char *s = render(BALE_FORMAT_GITLAB, f, NULL), *t = render(BALE_FORMAT_GITLAB, g, NULL);

	(void)state;
	assert_non_null(strstr(s, "\"severity\": \"critical\""));
	assert_non_null(strstr(s, "\"severity\": \"major\""));
	assert_non_null(strstr(s, "\"check_name\": \"BL2001\""));
	assert_non_null(strstr(s, "\"begin\": 7"));
	/* Fingerprints are stable across runs and differ between findings. */
	assert_string_equal(s, t);
	{
		const char *a = strstr(s, "\"fingerprint\": \""),
			   *b = strstr(a + 1, "\"fingerprint\"");

		assert_non_null(b);
		assert_memory_not_equal(a + 16, b + 16, 32);
	}
	free(s);
	free(t);
	bale_findings_free(f);
	bale_findings_free(g);
}

static void test_github_commands_escape_properties(void **state)
{
	bale_findings *f;
	bale_location l = {.file = "a,b:c", .line = 2, .col = 1, .layer = -1};
	char *s;

	(void)state;
	assert_int_equal(bale_findings_new(&f), 0);
	assert_int_equal(bale_findings_add(f, &pin_rule, BALE_SEV_NONE, &l, "50%% done\nnext"), 0);
	s = render(BALE_FORMAT_GITHUB, f, NULL);
	assert_string_equal(s, "::warning file=a%2Cb%3Ac,line=2,col=1,title=DL3008 "
			       "pin-apt-versions::50%25 done%0Anext\n");
	free(s);
	bale_findings_free(f);
}

static void test_format_and_severity_names(void **state)
{
	bale_format fmt;
	bale_severity sev;

	(void)state;
	assert_int_equal(bale_format_parse(&fmt, "SARIF"), 0);
	assert_int_equal(fmt, BALE_FORMAT_SARIF);
	assert_int_equal(bale_format_parse(&fmt, "codeclimate"), 0);
	assert_int_equal(fmt, BALE_FORMAT_GITLAB);
	assert_int_equal(bale_format_parse(&fmt, "xml"), BALE_EINVAL);
	assert_int_equal(bale_severity_parse(&sev, "Warning"), 0);
	assert_int_equal(sev, BALE_SEV_WARNING);
	assert_int_equal(bale_severity_parse(&sev, "ignore"), 0);
	assert_int_equal(sev, BALE_SEV_NONE);
	assert_int_equal(bale_severity_parse(&sev, "fatal"), BALE_EINVAL);
	assert_true(bale_rule_matches(&pin_rule, "dl3008"));
	assert_true(bale_rule_matches(&pin_rule, "pin-apt-versions"));
	assert_false(bale_rule_matches(&key_rule, "DL3008"));
}

static void test_mask_keeps_a_short_prefix_only(void **state)
{
	bale_buf out = BALE_BUF_INIT;

	(void)state;
	bale_mask_secret(&out, "AKIAABCDEFGHIJKLMNOP", 20);
	assert_string_equal(out.ptr, "AKIA****************");
	bale_buf_reset(&out);
	bale_mask_secret(&out, "abc", 3);
	assert_string_equal(out.ptr, "***");
	bale_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_findings_sort_by_place_and_keep_overrides),
	    cmocka_unit_test(test_tty_lines_name_place_severity_rule_and_hint),
	    cmocka_unit_test(test_tty_colour_only_when_asked),
	    cmocka_unit_test(test_json_has_hadolint_keys),
	    cmocka_unit_test(test_sarif_describes_rules_and_maps_levels),
	    cmocka_unit_test(test_checkstyle_lists_clean_files_and_escapes),
	    cmocka_unit_test(test_gitlab_has_fingerprints_and_severities),
	    cmocka_unit_test(test_github_commands_escape_properties),
	    cmocka_unit_test(test_format_and_severity_names),
	    cmocka_unit_test(test_mask_keeps_a_short_prefix_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
