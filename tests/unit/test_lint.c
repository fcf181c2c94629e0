/*
 * The lint driver: what reaches the findings list and what does not (configuration,
 * pragmas), files BuildKit would refuse, parse errors, and ShellCheck's findings mapped to
 * Dockerfile lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bale/lint.h"
#include "lint/internal.h"
#include "util/util.h"

static bale_findings *lint(const char *text, bale_lint_config *cfg)
{
	bale_findings *f;
	bale_lint_config local;

	if (!cfg) {
		bale_lint_config_init(&local);
		local.shellcheck = 0;
		cfg = &local;
	}
	assert_int_equal(bale_findings_new(&f), 0);
	if (bale_lint(f, text, strlen(text), "Dockerfile", cfg, NULL) != 0)
		fail_msg("lint failed: %s", bale_error_last()->message);
	bale_findings_sort(f);
	return f;
}

static size_t count(const bale_findings *f, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < bale_findings_count(f); i++)
		n += strcmp(bale_findings_get(f, i)->rule->id, id) == 0;
	return n;
}

static const bale_finding *first(const bale_findings *f, const char *id)
{
	for (size_t i = 0; i < bale_findings_count(f); i++)
		if (strcmp(bale_findings_get(f, i)->rule->id, id) == 0)
			return bale_findings_get(f, i);
	return NULL;
}

static void test_configuration_ignores_and_overrides(void **state)
{
	const char *text = "FROM debian\nMAINTAINER x\n";
	bale_lint_config cfg;
	bale_findings *f;

	(void)state;
	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	assert_int_equal(bale_lint_config_add_ignored(&cfg, "tag-base-image"), 0);
	assert_int_equal(
	    bale_lint_config_add_override(&cfg, "MaintainerDeprecated", BALE_SEV_STYLE), 0);
	f = lint(text, &cfg);
	assert_int_equal(count(f, "DL3006"), 0);
	assert_int_equal(count(f, "DL4000"), 1);
	assert_int_equal(first(f, "DL4000")->severity, BALE_SEV_STYLE);
	assert_int_equal(first(f, "DL4000")->loc.line, 2);
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
}

static void test_pragmas_reach_lint_report(void **state)
{
	bale_findings *f = lint("# hadolint global ignore=DL3006\nFROM debian\n"
				"# hadolint ignore=DL4000\nMAINTAINER x\nMAINTAINER y\n",
				NULL);

	(void)state;
	assert_int_equal(count(f, "DL3006"), 0);
	assert_int_equal(count(f, "DL4000"), 1);
	assert_int_equal(first(f, "DL4000")->loc.line, 5);
	bale_findings_free(f);
}

static void test_undefined_var_suggests_the_nearest_base_image_variable(void **state)
{
	/* The base image's names were compared through one reused buffer, so the suggestion
	 * named whichever name came last, not the nearest one. */
	bale_findings *f = lint("FROM golang:1.22\nWORKDIR $GOPATHX\n", NULL);
	const bale_finding *undefined = first(f, "BK0010");

	(void)state;
	assert_non_null(undefined);
	assert_non_null(strstr(undefined->message, "(did you mean $GOPATH?)"));
	bale_findings_free(f);
}

static void test_exec_form_hint_names_the_program_after_assignments(void **state)
{
	bale_findings *f =
	    lint("FROM golang:1.22\nCMD CGO_ENABLED=1 GOOS=linux go build .\n", NULL);
	const bale_finding *dl3025 = first(f, "DL3025");

	(void)state;
	assert_non_null(dl3025);
	assert_non_null(strstr(dl3025->message, "on to 'go'"));
	assert_non_null(strstr(dl3025->message, "with ENV and write CMD [\"go\", ...]"));
	assert_null(strstr(dl3025->message, "CGO_ENABLED"));
	bale_findings_free(f);
}

static void test_refused_by_buildkit_is_reported_and_linting_goes_on(void **state)
{
	bale_findings *f = lint("FROM debian\nCOPY --chwn=1 a b\nMAINTAINER x\n", NULL);
	const bale_finding *bad;

	(void)state;
	bad = first(f, "BL0001");
	assert_non_null(bad);
	assert_int_equal(bad->loc.line, 2);
	assert_non_null(strstr(bad->message, "unknown flag"));
	/* No file name or position repeated inside the message. */
	assert_null(strstr(bad->message, "Dockerfile:"));
	assert_int_equal(count(f, "DL4000"), 1); /* an AST-only rule still ran */
	assert_int_equal(count(f, "DL3006"), 0); /* a stage rule did not guess */
	bale_findings_free(f);
}

static void test_dangling_pragma_silences_nothing(void **state)
{
	bale_findings *f = lint("FROM debian\n# hadolint ignore=BL0001,DL3006\n\n"
				"COPY --chwn=1 a b\n# hadolint ignore=BL0001\n",
				NULL);

	(void)state;
	assert_int_equal(count(f, "BL0001"), 1);
	bale_findings_free(f);
}

static void test_parse_errors_are_errors_not_findings(void **state)
{
	bale_findings *f;
	bale_lint_config cfg;
	const char *text = "FROM a\nRUN <<EOF\nnever ends\n";

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_findings_new(&f), 0);
	assert_int_equal(bale_lint(f, text, strlen(text), "Dockerfile", &cfg, NULL), BALE_EPARSE);
	assert_non_null(strstr(bale_error_last()->message, "Dockerfile:2:1: unterminated heredoc"));
	assert_int_equal(bale_findings_count(f), 0);
	bale_findings_free(f);
}

static void test_unknown_target_is_a_usage_error(void **state)
{
	bale_findings *f;
	bale_lint_config cfg;
	bale_lint_opts opts = {.target = "nope"};
	const char *text = "FROM a:1 AS one\n";

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_findings_new(&f), 0);
	assert_int_equal(bale_lint(f, text, strlen(text), "Dockerfile", &cfg, &opts), BALE_EINVAL);
	bale_findings_free(f);
}

static void test_shellcheck_findings_land_on_dockerfile_lines(void **state)
{
	const char *text = "FROM debian:12\n"
			   "ARG VERSION=1\n"
			   "RUN --mount=type=cache,target=/root/.cache \\\n"
			   "    --mount=type=secret,id=tok \\\n"
			   "    echo $VERSION && \\\n"
			   "    # a comment inside\n"
			   "    echo $undefined_thing\n"
			   "RUN <<EOF\n"
			   "cd /x\n"
			   "EOF\n";
	bale_lint_config cfg;
	bale_findings *f;
	const bale_finding *sc;

	(void)state;
	if (access("/usr/bin/shellcheck", X_OK) != 0)
		fail_msg("shellcheck is not installed (tools/debian-packages lists it)");
	bale_lint_config_init(&cfg);
	f = lint(text, &cfg);
	sc = first(f, "SC2154");
	assert_non_null(sc);
	assert_int_equal(sc->loc.line, 7);
	assert_int_equal(sc->loc.col, 10);
	assert_non_null(strstr(sc->message, "undefined_thing"));
	assert_int_equal(count(f, "SC2086"), 1); /* $VERSION is known, so only line 7 */
	sc = first(f, "SC2164");
	assert_non_null(sc);
	assert_int_equal(sc->loc.line, 9); /* in the heredoc body */
	assert_int_equal(sc->severity, BALE_SEV_WARNING);
	bale_findings_free(f);
	/* Ignored like any rule, and off when the configuration says so. */
	assert_int_equal(bale_lint_config_add_ignored(&cfg, "SC2154"), 0);
	f = lint(text, &cfg);
	assert_int_equal(count(f, "SC2154"), 0);
	assert_int_equal(count(f, "SC2164"), 1);
	bale_findings_free(f);
	cfg.shellcheck = 0;
	f = lint(text, &cfg);
	assert_int_equal(count(f, "SC2164"), 0);
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
}

/* RUN <<EOF with #!/usr/bin/env python3 is a Python script: no SC1071 "only supports sh". */
static void test_shellcheck_skips_heredocs_of_other_interpreters(void **state)
{
	const char *text = "FROM python:3.12-slim\n"
			   "RUN <<EOF\n"
			   "#!/usr/bin/env python3\n"
			   "print([k for k in range(3)])\n"
			   "EOF\n"
			   "RUN <<EOF\n"
			   "#!/usr/bin/env bash\n"
			   "cd /x\n"
			   "EOF\n";
	bale_lint_config cfg;
	bale_findings *f;

	(void)state;
	if (access("/usr/bin/shellcheck", X_OK) != 0)
		fail_msg("shellcheck is not installed (tools/debian-packages lists it)");
	bale_lint_config_init(&cfg);
	f = lint(text, &cfg);
	assert_int_equal(count(f, "SC1071"), 0);
	assert_int_equal(count(f, "SC2164"), 1); /* the bash script is still checked */
	assert_int_equal(first(f, "SC2164")->loc.line, 8);
	bale_findings_free(f);
	bale_lint_config_release(&cfg);
}

/* --- the command walk every command rule shares (lint_each_command) ---------------------- */

static void note_command(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 const bale_cmd *cmd, void *arg)
{
	(void)ctx;
	(void)rule;
	bale_buf_addf(arg, "%zu:%s ", instr, cmd->name);
}

/* Which commands lint_each_command() hands to a rule asking for `tools`, in order. */
static void walk(struct lint_ctx *ctx, const char *const *tools, const char *want)
{
	bale_buf got = BALE_BUF_INIT;

	lint_each_command(ctx, NULL, tools, note_command, &got);
	assert_int_equal(ctx->err, 0);
	assert_string_equal(got.ptr, want);
	bale_buf_release(&got);
}

static void test_each_command_gives_a_rules_tools_in_file_order(void **state)
{
	static const char text[] =
	    "FROM alpine\n"
	    "RUN t01 && t02 && t03 && t04 && t05 && t06 && t07 && t08 && t09 && t10 && t11 && "
	    "t12 && t13 && t14 && t15 && t16 && t17 && t18 && t19 && t20 && other\n"
	    "ONBUILD RUN t03 && t01\n"
	    "COPY t01 /t01\n";
	static const char *const twenty[] = {"t01", "t02", "t03", "t04", "t05", "t06", "t07",
					     "t08", "t09", "t10", "t11", "t12", "t13", "t14",
					     "t15", "t16", "t17", "t18", "t19", "t20", NULL};
	static const char *const two[] = {"t03", "t01", NULL};
	static const char *const twice[] = {"t01", "missing", "t01", NULL};
	static const char *const none[] = {"missing", NULL};
	bale_parse_opts popts = {.filename = "Dockerfile"};
	struct lint_ctx ctx = {.filename = "Dockerfile"};
	bale_dockerfile *df;
	bale_buf all = BALE_BUF_INIT;

	(void)state;
	assert_int_equal(bale_dockerfile_parse(&df, text, sizeof(text) - 1, &popts), 0);
	ctx.df = df;
	ctx.instrs = bale_dockerfile_instructions(df, &ctx.ninstrs);
	assert_int_equal(lint_scripts_init(&ctx), 0);

	/* More tools than the chains merged at once: the walk of every command. */
	for (int i = 1; i <= 20; i++)
		bale_buf_addf(&all, "1:t%02d ", i);
	bale_buf_adds(&all, "2:t03 2:t01 ");
	walk(&ctx, twenty, all.ptr);
	walk(&ctx, two, "1:t01 1:t03 2:t03 2:t01 ");
	walk(&ctx, twice, "1:t01 2:t01 ");
	walk(&ctx, none, "");
	bale_buf_truncate(&all, all.len - strlen("2:t03 2:t01 "));
	bale_buf_adds(&all, "1:other 2:t03 2:t01 ");
	walk(&ctx, NULL, all.ptr);
	assert_true(lint_runs_any(&ctx, twenty));
	assert_true(lint_runs_any(&ctx, (const char *const[]){"missing", "other", NULL}));
	assert_false(lint_runs_any(&ctx, none));
	/* COPY t01 is no command: only RUN and ONBUILD RUN are. */
	assert_false(lint_runs_any(&ctx, (const char *const[]){"/t01", "COPY", NULL}));

	bale_buf_release(&all);
	lint_scripts_release(&ctx);
	bale_dockerfile_free(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_configuration_ignores_and_overrides),
	    cmocka_unit_test(test_pragmas_reach_lint_report),
	    cmocka_unit_test(test_refused_by_buildkit_is_reported_and_linting_goes_on),
	    cmocka_unit_test(test_dangling_pragma_silences_nothing),
	    cmocka_unit_test(test_parse_errors_are_errors_not_findings),
	    cmocka_unit_test(test_unknown_target_is_a_usage_error),
	    cmocka_unit_test(test_shellcheck_findings_land_on_dockerfile_lines),
	    cmocka_unit_test(test_shellcheck_skips_heredocs_of_other_interpreters),
	    cmocka_unit_test(test_each_command_gives_a_rules_tools_in_file_order),
	    cmocka_unit_test(test_exec_form_hint_names_the_program_after_assignments),
	    cmocka_unit_test(test_undefined_var_suggests_the_nearest_base_image_variable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
