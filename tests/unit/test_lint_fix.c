/*
 * bale lint --fix: each fixer's rewrite, byte for byte; the fixed file parses, no longer has
 * the finding, keeps its comments, and means the same where the fix must not change meaning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bale/command.h"
#include "bale/lint.h"
#include "util/util.h"

struct fix_case {
	const char *rule; /* the finding that must be gone */
	const char *in;
	const char *out;
	bool same_dump; /* BuildKit's AST dump must not change (casing, whitespace) */
};

static const struct fix_case cases[] = {
    {"DL4000", "FROM debian:12\n# who\nMAINTAINER Jane <j@x> $HOME\n",
     "FROM debian:12\n# who\nLABEL org.opencontainers.image.authors=\"Jane <j@x> \\$HOME\"\n",
     false},
    {"DL4000", "FROM debian:12\nMAINTAINER \"quoted\"\nRUN true\n",
     "FROM debian:12\nLABEL org.opencontainers.image.authors=\"\\\"quoted\\\"\"\nRUN true\n",
     false},
    {"DL3015",
     "FROM debian:12\nRUN apt-get update \\\n  && apt-get \\\n   install -y curl=1 \\\n"
     "  && rm -rf /var/lib/apt/lists/*\n",
     "FROM debian:12\nRUN apt-get update \\\n  && apt-get \\\n   install "
     "--no-install-recommends -y curl=1 \\\n  && rm -rf /var/lib/apt/lists/*\n",
     false},
    {"DL3009",
     "FROM debian:12\n# install\nRUN apt-get update && apt-get install -y "
     "--no-install-recommends curl=1\nUSER 1000\n",
     "FROM debian:12\n# install\nRUN apt-get update && apt-get install -y "
     "--no-install-recommends curl=1 \\\n    && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
     false},
    {"DL3042", "FROM python:3.12-slim\nRUN pip install flask==3.0.0\n",
     "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.0\n", false},
    {"DL3019", "FROM alpine:3.20\nRUN apk add curl=8.9.1-r0\n",
     "FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0\n", false},
    {"DL3025", "FROM alpine:3.20\nCMD python -m app --port=8080\n",
     "FROM alpine:3.20\nCMD [\"python\", \"-m\", \"app\", \"--port=8080\"]\n", false},
    {"ConsistentInstructionCasing", "FROM debian:12-slim\nRUN true\nworkdir /app\nCMD [\"x\"]\n",
     "FROM debian:12-slim\nRUN true\nWORKDIR /app\nCMD [\"x\"]\n", true},
    {"LegacyKeyValueFormat", "FROM debian:12-slim\nENV A b c\nLABEL k v\nENV P /usr/bin\n",
     "FROM debian:12-slim\nENV A=\"b c\"\nLABEL k=v\nENV P=/usr/bin\n", false},
    {"DL3059", "FROM debian:12-slim\nRUN echo a\nRUN echo b\n# next\nCMD [\"x\"]\n",
     "FROM debian:12-slim\nRUN echo a \\\n    && echo b\n# next\nCMD [\"x\"]\n", false},
    /* after # escape=` a backslash continues nothing: the joined lines end in a backtick */
    {"DL3059",
     "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN md C:\\a\nRUN md C:\\b\n",
     "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN md C:\\a `\n    && md "
     "C:\\b\n",
     false},
    {"DL3009",
     "# escape=`\nFROM debian:12\nRUN apt-get update && apt-get install -y "
     "--no-install-recommends curl=1\nUSER 1000\n",
     "# escape=`\nFROM debian:12\nRUN apt-get update && apt-get install -y "
     "--no-install-recommends curl=1 `\n    && rm -rf /var/lib/apt/lists/*\nUSER 1000\n",
     false},
};

static bale_findings *lint(const char *text)
{
	bale_lint_config cfg;
	bale_findings *f;

	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	assert_int_equal(bale_findings_new(&f), 0);
	if (bale_lint(f, text, strlen(text), "Dockerfile", &cfg, NULL) != 0)
		fail_msg("lint failed: %s\n%s", bale_error_last()->message, text);
	bale_lint_config_release(&cfg);
	return f;
}

static size_t count(const bale_findings *f, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < bale_findings_count(f); i++)
		n += bale_rule_matches(bale_findings_get(f, i)->rule, code);
	return n;
}

static char *dump(const char *text)
{
	bale_dockerfile *df;
	bale_buf out = BALE_BUF_INIT;

	assert_int_equal(bale_dockerfile_parse(&df, text, strlen(text), NULL), 0);
	assert_int_equal(bale_dockerfile_dump_buildkit(&out, df), 0);
	bale_dockerfile_free(df);
	return bale_buf_detach(&out, NULL);
}

static void test_each_fixer_rewrites_and_the_finding_is_gone(void **state)
{
	(void)state;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(cases); i++) {
		const struct fix_case *c = &cases[i];
		bale_lint_config cfg;
		bale_buf out = BALE_BUF_INIT;
		bale_findings *before = lint(c->in), *after;
		size_t n;

		if (count(before, c->rule) == 0)
			fail_msg("case %zu: %s does not fire on the input", i, c->rule);
		bale_lint_config_init(&cfg);
		assert_int_equal(
		    bale_lint_fix(&out, &n, c->in, strlen(c->in), "Dockerfile", &cfg, NULL), 0);
		if (strcmp(out.ptr, c->out) != 0)
			fail_msg("case %zu (%s):\n--- expected:\n%s--- got:\n%s", i, c->rule,
				 c->out, out.ptr);
		assert_true(n > 0);
		after = lint(out.ptr);
		if (count(after, c->rule) != 0)
			fail_msg("case %zu: %s still fires after the fix", i, c->rule);
		if (c->same_dump) {
			char *a = dump(c->in), *b = dump(out.ptr);

			assert_string_equal(a, b);
			free(a);
			free(b);
		}
		bale_findings_free(before);
		bale_findings_free(after);
		bale_buf_release(&out);
		bale_lint_config_release(&cfg);
	}
}

static void test_ignored_rules_are_not_fixed_and_clean_files_stay(void **state)
{
	const char *in = "FROM debian:12\nMAINTAINER x\n";
	bale_lint_config cfg;
	bale_buf out = BALE_BUF_INIT;
	size_t n;

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_lint_config_add_ignored(&cfg, "DL4000"), 0);
	assert_int_equal(bale_lint_fix(&out, &n, in, strlen(in), "Dockerfile", &cfg, NULL), 0);
	assert_int_equal(n, 0);
	assert_string_equal(out.ptr, in);
	bale_buf_release(&out);
	bale_lint_config_release(&cfg);
}

/* `in` comes out of bale lint --fix (default configuration) exactly as it went in. */
static void assert_fix_leaves_alone(const char *in)
{
	bale_lint_config cfg;
	bale_buf out = BALE_BUF_INIT;
	size_t n;

	bale_lint_config_init(&cfg);
	assert_int_equal(bale_lint_fix(&out, &n, in, strlen(in), "Dockerfile", &cfg, NULL), 0);
	assert_string_equal(out.ptr, in);
	bale_buf_release(&out);
	bale_lint_config_release(&cfg);
}

/* Shell syntax in CMD: exec form would change what runs, so no fix is made. */
static void test_exec_form_fix_leaves_shell_syntax_alone(void **state)
{
	const char *in = "FROM alpine:3.20\nCMD echo $HOME && run\n";

	(void)state;
	assert_fix_leaves_alone(in);
}

/* CMD GOOS=linux go build: exec form would run "GOOS=linux" as the program; no fix. */
static void test_exec_form_fix_leaves_variable_assignments_alone(void **state)
{
	const char *in = "FROM golang:1.22\nCMD CGO_ENABLED=0 GOOS=linux go build .\n";

	(void)state;
	assert_fix_leaves_alone(in);
}

/* Windows PowerShell 5.1 has no &&: RUNs under SHELL ["powershell", ...] are not joined. */
static void test_merge_runs_leaves_powershell_alone(void **state)
{
	const char *in = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
			 "SHELL [\"powershell\", \"-Command\"]\n"
			 "RUN Write-Host a\nRUN Write-Host b\n";

	(void)state;
	assert_fix_leaves_alone(in);
}

/* Every command the file's RUNs run, words joined: what merging RUNs must keep. */
static char *commands_of(const char *text)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	bale_buf out = BALE_BUF_INIT;
	size_t n;

	assert_int_equal(bale_dockerfile_parse(&df, text, strlen(text), NULL), 0);
	ins = bale_dockerfile_instructions(df, &n);
	for (size_t i = 0; i < n; i++) {
		bale_cmd_script *script;
		const bale_cmd *cmds;
		size_t nc;

		if (ins[i].kind != BALE_INSTR_RUN)
			continue;
		assert_int_equal(
		    bale_cmd_parse_instruction(&script, &ins[i], text, strlen(text), '\\', NULL),
		    0);
		cmds = bale_cmd_script_commands(script, &nc);
		for (size_t c = 0; c < nc; c++) {
			for (size_t w = 0; w < cmds[c].nwords; w++)
				bale_buf_addf(&out, "%s ", cmds[c].words[w].value);
			bale_buf_addch(&out, ';');
		}
		bale_cmd_script_free(script);
	}
	bale_dockerfile_free(df);
	return bale_buf_detach(&out, NULL);
}

static void test_merged_runs_run_the_same_commands(void **state)
{
	const char *in = "FROM debian:12-slim\nRUN echo \"a  b\"\nRUN touch '/x y' \\\n  /z\n"
			 "RUN chmod 600 \"$HOME\"/x\n";
	bale_lint_config cfg;
	bale_buf out = BALE_BUF_INIT;
	char *before, *after;
	size_t n;

	(void)state;
	bale_lint_config_init(&cfg);
	assert_int_equal(bale_lint_fix(&out, &n, in, strlen(in), "Dockerfile", &cfg, NULL), 0);
	assert_null(strstr(strstr(out.ptr, "RUN") + 3, "\nRUN"));
	before = commands_of(in);
	after = commands_of(out.ptr);
	assert_string_equal(before, after);
	free(before);
	free(after);
	bale_buf_release(&out);
	bale_lint_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_fixer_rewrites_and_the_finding_is_gone),
	    cmocka_unit_test(test_ignored_rules_are_not_fixed_and_clean_files_stay),
	    cmocka_unit_test(test_exec_form_fix_leaves_shell_syntax_alone),
	    cmocka_unit_test(test_exec_form_fix_leaves_variable_assignments_alone),
	    cmocka_unit_test(test_merge_runs_leaves_powershell_alone),
	    cmocka_unit_test(test_merged_runs_run_the_same_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
