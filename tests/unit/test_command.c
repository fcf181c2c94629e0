/*
 * The shell-command model: connectors, nesting, script strings and heredoc scripts, words and
 * variables, redirections and positions; then tools (unwrapping, option tables, subcommands,
 * packages), the examples of hadolint's rule pages, RUN instructions from real Dockerfiles, and
 * hostile input that must give partial results and an error, never a crash or a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bale/command.h"
#include "shell/command_internal.h"

/* --- helpers ------------------------------------------------------------------------------ */

/* Variables as a Dockerfile's ARG/ENV would give them. */
static bool lookup(void *ctx, const char *name, size_t len, const char **value, size_t *vlen)
{
	static const struct {
		const char *name, *value;
	} vars[] = {
	    {"VERSION", "1.2.3"},
	    {"PKGS", "curl  git"},
	    {"EMPTY", ""},
	    {"NODE", "18"},
	    {"SCRIPT", "apt-get install -y $PKGS"},
	    {"LOOP", "sh -c \"$LOOP\""},
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
			*value = vars[i].value;
			*vlen = strlen(vars[i].value);
			return true;
		}
	return false;
}

static bale_cmd_script *parse_with(const char *text, const bale_cmd_opts *opts)
{
	bale_cmd_script *s = NULL;

	if (bale_cmd_parse(&s, text, strlen(text), opts) != 0)
		fail_msg("parse failed: %s", bale_error_last()->message);
	assert_non_null(s);
	return s;
}

static bale_cmd_script *parse(const char *text)
{
	bale_cmd_opts opts = {.lookup = lookup};

	return parse_with(text, &opts);
}

/* Parses and requires a well-formed script. */
static bale_cmd_script *parse_ok(const char *text)
{
	bale_cmd_script *s = parse(text);
	uint32_t line = 0, col = 0;
	const char *err = bale_cmd_script_error(s, &line, &col);

	if (err)
		fail_msg("unexpected error %u:%u %s\n--- script:\n%s", line, col, err, text);
	return s;
}

static size_t count(const bale_cmd_script *s)
{
	size_t n;

	bale_cmd_script_commands(s, &n);
	return n;
}

static const bale_cmd *cmd_at(const bale_cmd_script *s, size_t i)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);

	if (i >= n)
		fail_msg("no command %zu (script has %zu)", i, n);
	return &c[i];
}

/* The nth (0-based) command whose tool is `name`. */
static const bale_cmd *find(const bale_cmd_script *s, const char *name, size_t nth)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0 && nth-- == 0)
			return &c[i];
	fail_msg("no command '%s'", name);
	return NULL;
}

static size_t index_of(const bale_cmd_script *s, const bale_cmd *c)
{
	return (size_t)(c - bale_cmd_script_commands(s, NULL));
}

/* Asserts the words' values, NULL-terminated. */
static void assert_words(const bale_cmd *c, ...)
{
	va_list ap;
	const char *want;
	size_t i = 0;

	va_start(ap, c);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= c->nwords)
			fail_msg("missing word %zu '%s'", i, want);
		assert_string_equal(c->words[i].value, want);
		i++;
	}
	va_end(ap);
	assert_int_equal(c->nwords, i);
}

static void assert_operands(const bale_cmd *c, ...)
{
	va_list ap;
	const char *want;
	size_t i = 0;

	va_start(ap, c);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= c->noperands)
			fail_msg("missing operand %zu '%s'", i, want);
		assert_string_equal(c->operands[i]->value, want);
		i++;
	}
	va_end(ap);
	assert_int_equal(c->noperands, i);
}

/* Asserts the options as "name" or "name=value" strings. */
static void assert_opts(const bale_cmd *c, ...)
{
	va_list ap;
	const char *want;
	size_t i = 0;
	char got[256];

	va_start(ap, c);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= c->nopts)
			fail_msg("missing option %zu '%s'", i, want);
		if (c->opts[i].value)
			snprintf(got, sizeof(got), "%s=%s", c->opts[i].name, c->opts[i].value);
		else
			snprintf(got, sizeof(got), "%s", c->opts[i].name);
		assert_string_equal(got, want);
		i++;
	}
	va_end(ap);
	assert_int_equal(c->nopts, i);
}

static bool has_error(const bale_cmd_script *s)
{
	return bale_cmd_script_error(s, NULL, NULL) != NULL;
}

/* The package `spec` as manager `m` reads it. */
static bale_pkg pkg(bale_pkg_manager m, const char *spec)
{
	bale_pkg p;

	bale_pkg_parse(&p, m, spec);
	return p;
}

static void assert_pkg(bale_pkg p, const char *name, const char *op, const char *version,
		       bool pinned)
{
	assert_int_equal(p.name_len, strlen(name));
	assert_memory_equal(p.name, name, p.name_len);
	if (op) {
		assert_non_null(p.op);
		assert_string_equal(p.op, op);
	} else {
		assert_null(p.op);
	}
	if (version) {
		assert_non_null(p.version);
		assert_int_equal(p.version_len, strlen(version));
		assert_memory_equal(p.version, version, p.version_len);
	} else {
		assert_null(p.version);
	}
	assert_int_equal(p.pinned, pinned);
}

/* --- connectors --------------------------------------------------------------------------- */

static void test_every_connector_is_recorded(void **state)
{
	bale_cmd_script *s = parse_ok("a && b || c; d | e & f\ng");

	(void)state;
	assert_int_equal(count(s), 7);
	assert_int_equal(cmd_at(s, 0)->connector, BALE_CONN_AND);
	assert_int_equal(cmd_at(s, 1)->connector, BALE_CONN_OR);
	assert_int_equal(cmd_at(s, 2)->connector, BALE_CONN_SEQ);
	assert_int_equal(cmd_at(s, 3)->connector, BALE_CONN_PIPE);
	assert_int_equal(cmd_at(s, 4)->connector, BALE_CONN_BACKGROUND);
	assert_int_equal(cmd_at(s, 5)->connector, BALE_CONN_SEQ);
	assert_int_equal(cmd_at(s, 6)->connector, BALE_CONN_END);
	assert_true(cmd_at(s, 4)->context & BALE_CMD_IN_BACKGROUND);
	assert_true(cmd_at(s, 3)->context & BALE_CMD_IN_BACKGROUND);
	assert_false(cmd_at(s, 5)->context & BALE_CMD_IN_BACKGROUND);
	bale_cmd_script_free(s);
}

static void test_pipe_from_curl_to_shell_is_linked(void **state)
{
	bale_cmd_script *s = parse_ok("curl -fsSL https://get.example.com | sudo -E bash -s -- -y");
	const bale_cmd *curl = find(s, "curl", 0), *bash = find(s, "bash", 0);

	(void)state;
	assert_int_equal(curl->connector, BALE_CONN_PIPE);
	assert_int_equal(curl->pipe_next, index_of(s, bash));
	assert_int_equal(bash->pipe_prev, index_of(s, curl));
	assert_int_equal(bash->pipe_next, BALE_CMD_NONE);
	assert_true(bale_cmd_has_wrapper(bash, "sudo"));
	bale_cmd_script_free(s);
}

static void test_pipe_amp_and_three_stage_pipeline(void **state)
{
	bale_cmd_script *s = parse_ok("a |& b | c");

	(void)state;
	assert_int_equal(cmd_at(s, 0)->pipe_next, 1);
	assert_int_equal(cmd_at(s, 1)->pipe_prev, 0);
	assert_int_equal(cmd_at(s, 1)->pipe_next, 2);
	assert_int_equal(cmd_at(s, 2)->connector, BALE_CONN_END);
	bale_cmd_script_free(s);
}

static void test_pipe_into_compound_links_first_command(void **state)
{
	bale_cmd_script *s = parse_ok("wget -qO- url | while read l; do echo $l; done");
	const bale_cmd *wget = find(s, "wget", 0), *read = find(s, "read", 0);

	(void)state;
	assert_int_equal(wget->pipe_next, index_of(s, read));
	assert_true(read->context & BALE_CMD_IN_CONDITION);
	assert_true(find(s, "echo", 0)->context & BALE_CMD_IN_LOOP);
	bale_cmd_script_free(s);
}

static void test_negated_pipeline(void **state)
{
	bale_cmd_script *s = parse_ok("! grep -q x f | cat; ls");

	(void)state;
	assert_true(cmd_at(s, 0)->context & BALE_CMD_NEGATED);
	assert_true(cmd_at(s, 1)->context & BALE_CMD_NEGATED);
	assert_false(cmd_at(s, 2)->context & BALE_CMD_NEGATED);
	assert_string_equal(cmd_at(s, 0)->name, "grep");
	bale_cmd_script_free(s);
}

static void test_newlines_after_operators_continue_the_list(void **state)
{
	bale_cmd_script *s = parse_ok("a &&\n\n b ||\n c |\n d");

	(void)state;
	assert_int_equal(count(s), 4);
	assert_int_equal(cmd_at(s, 0)->connector, BALE_CONN_AND);
	assert_int_equal(cmd_at(s, 1)->connector, BALE_CONN_OR);
	assert_int_equal(cmd_at(s, 2)->connector, BALE_CONN_PIPE);
	bale_cmd_script_free(s);
}

static void test_line_continuations_join_words(void **state)
{
	bale_cmd_script *s = parse_ok("apt-get install -y \\\n  curl \\\n  && echo ok");

	(void)state;
	assert_int_equal(count(s), 2);
	assert_words(cmd_at(s, 0), "apt-get", "install", "-y", "curl", NULL);
	assert_int_equal(cmd_at(s, 0)->words[3].line, 2);
	assert_int_equal(cmd_at(s, 0)->words[3].col, 3);
	assert_int_equal(cmd_at(s, 1)->line, 3);
	bale_cmd_script_free(s);
}

static void test_reserved_words_only_in_command_position(void **state)
{
	bale_cmd_script *s = parse_ok("echo if then fi done { }; \"if\" x; { echo }; }; i\\f y");

	(void)state;
	assert_int_equal(count(s), 4);
	assert_words(cmd_at(s, 0), "echo", "if", "then", "fi", "done", "{", "}", NULL);
	assert_string_equal(cmd_at(s, 1)->name, "if");
	assert_words(cmd_at(s, 2), "echo", "}", NULL);
	assert_string_equal(cmd_at(s, 3)->name, "if");
	bale_cmd_script_free(s);
}

static void test_comments_are_skipped(void **state)
{
	bale_cmd_script *s =
	    parse_ok("# setup\necho a # trailing && rm -rf /\necho b#not-a-comment");

	(void)state;
	assert_int_equal(count(s), 2);
	assert_words(cmd_at(s, 0), "echo", "a", NULL);
	assert_words(cmd_at(s, 1), "echo", "b#not-a-comment", NULL);
	bale_cmd_script_free(s);
}

/* --- nesting ------------------------------------------------------------------------------ */

static void test_subshell_and_brace_group(void **state)
{
	bale_cmd_script *s = parse_ok("(cd /src && make) && { echo a; echo b; } > log");

	(void)state;
	assert_int_equal(count(s), 4);
	assert_true(find(s, "cd", 0)->context & BALE_CMD_IN_SUBSHELL);
	assert_true(find(s, "make", 0)->context & BALE_CMD_IN_SUBSHELL);
	/* the && after ')' belongs to the subshell's last command */
	assert_int_equal(find(s, "make", 0)->connector, BALE_CONN_AND);
	assert_false(find(s, "echo", 0)->context & BALE_CMD_IN_SUBSHELL);
	bale_cmd_script_free(s);
}

static void test_if_elif_else_contexts(void **state)
{
	bale_cmd_script *s =
	    parse_ok("if [ -f a ]; then x; elif test -d b; then y\nelse z; fi && after");

	(void)state;
	assert_int_equal(count(s), 6);
	assert_string_equal(cmd_at(s, 0)->name, "[");
	assert_true(cmd_at(s, 0)->context & BALE_CMD_IN_CONDITION);
	assert_true(find(s, "x", 0)->context & BALE_CMD_IN_BRANCH);
	assert_true(find(s, "test", 0)->context & BALE_CMD_IN_CONDITION);
	assert_true(find(s, "y", 0)->context & BALE_CMD_IN_BRANCH);
	assert_true(find(s, "z", 0)->context & BALE_CMD_IN_BRANCH);
	assert_int_equal(find(s, "z", 0)->connector, BALE_CONN_AND);
	assert_int_equal(find(s, "after", 0)->context, 0);
	bale_cmd_script_free(s);
}

static void test_loops(void **state)
{
	bale_cmd_script *s = parse_ok("for p in a b; do pip install $p; done\n"
				      "while true; do sleep 1; done\n"
				      "until curl -f x; do sleep 2; done\n"
				      "for ((i=0; i<3; i++)); do echo $i; done\n"
				      "for x; do echo; done");

	(void)state;
	assert_true(find(s, "pip", 0)->context & BALE_CMD_IN_LOOP);
	assert_true(find(s, "true", 0)->context & BALE_CMD_IN_CONDITION);
	assert_true(find(s, "sleep", 0)->context & BALE_CMD_IN_LOOP);
	assert_true(find(s, "curl", 0)->context & BALE_CMD_IN_CONDITION);
	assert_true(find(s, "echo", 0)->context & BALE_CMD_IN_LOOP);
	assert_true(find(s, "echo", 1)->context & BALE_CMD_IN_LOOP);
	/* the loop variable is not known, even if the environment had one */
	assert_true(find(s, "pip", 0)->words[2].flags & BALE_WORD_DYNAMIC);
	bale_cmd_script_free(s);
}

static void test_case_arms(void **state)
{
	bale_cmd_script *s =
	    parse_ok("case \"$(uname -m)\" in\n  x86_64|amd64) A=amd64 ;;\n  (aarch64) "
		     "A=arm64;&\n  *) echo unknown; exit 1 ;;\nesac; echo $A");
	const bale_cmd *uname = find(s, "uname", 0);

	(void)state;
	assert_true(uname->context & BALE_CMD_IN_SUBST);
	assert_int_equal(find(s, "exit", 0)->context & BALE_CMD_IN_BRANCH, BALE_CMD_IN_BRANCH);
	assert_int_equal(cmd_at(s, 1)->nassigns, 1);
	assert_string_equal(cmd_at(s, 1)->assigns[0].value, "A=amd64");
	/* assigned in a branch: unknown afterwards */
	assert_true(find(s, "echo", 1)->words[1].flags & BALE_WORD_DYNAMIC);
	bale_cmd_script_free(s);
}

static void test_function_bodies(void **state)
{
	bale_cmd_script *s =
	    parse_ok("cleanup() { rm -rf /tmp/x; }\nfunction build { make; }\ncleanup");

	(void)state;
	assert_true(find(s, "rm", 0)->context & BALE_CMD_IN_FUNCTION);
	assert_true(find(s, "make", 0)->context & BALE_CMD_IN_FUNCTION);
	assert_int_equal(find(s, "cleanup", 0)->context, 0);
	bale_cmd_script_free(s);
}

/* '(' makes a function of the name only right after it: a line continuation may come between,
 * a redirection (even one missing its word) may not. */
static void test_function_paren_right_after_name(void **state)
{
	bale_cmd_script *s = parse_ok("f \\\n () { g; }");

	(void)state;
	assert_int_equal(count(s), 1);
	assert_true(find(s, "g", 0)->context & BALE_CMD_IN_FUNCTION);
	bale_cmd_script_free(s);
	s = parse("f < ( g )");
	assert_non_null(bale_cmd_script_error(s, NULL, NULL));
	assert_int_equal(count(s), 2);
	assert_int_equal(find(s, "f", 0)->context, 0);
	assert_false(find(s, "g", 0)->context & BALE_CMD_IN_FUNCTION);
	assert_true(find(s, "g", 0)->context & BALE_CMD_IN_SUBSHELL);
	bale_cmd_script_free(s);
}

static void test_deeply_mixed_nesting(void **state)
{
	bale_cmd_script *s =
	    parse_ok("( for f in *; do if [ -d \"$f\" ]; then (cd \"$f\" && { make || exit; }); "
		     "fi; done )");
	const bale_cmd *make = find(s, "make", 0);

	(void)state;
	assert_true(make->context & BALE_CMD_IN_SUBSHELL);
	assert_true(make->context & BALE_CMD_IN_LOOP);
	assert_true(make->context & BALE_CMD_IN_BRANCH);
	assert_int_equal(make->connector, BALE_CONN_OR);
	bale_cmd_script_free(s);
}

static void test_command_substitution_runs_first(void **state)
{
	bale_cmd_script *s = parse_ok("echo \"$(curl -s $(cat url.txt))\" | sh");
	const bale_cmd *cat = cmd_at(s, 0), *curl = cmd_at(s, 1), *echo = cmd_at(s, 2);

	(void)state;
	assert_string_equal(cat->name, "cat");
	assert_string_equal(curl->name, "curl");
	assert_string_equal(echo->name, "echo");
	assert_int_equal(cat->parent, 1);
	assert_int_equal(curl->parent, 2);
	assert_int_equal(echo->parent, BALE_CMD_NONE);
	assert_int_equal(cat->depth, 2);
	assert_int_equal(curl->depth, 1);
	assert_true(curl->context & BALE_CMD_IN_SUBST);
	assert_int_equal(echo->pipe_next, 3);
	assert_true(echo->words[1].flags & BALE_WORD_SUBST);
	assert_true(echo->words[1].flags & BALE_WORD_DYNAMIC);
	assert_string_equal(echo->words[1].value, "$(curl -s $(cat url.txt))");
	bale_cmd_script_free(s);
}

static void test_backticks_nest_with_escapes(void **state)
{
	bale_cmd_script *s = parse_ok("echo `dirname \\`which gcc\\``");

	(void)state;
	assert_int_equal(count(s), 3);
	assert_string_equal(cmd_at(s, 0)->name, "which");
	assert_string_equal(cmd_at(s, 1)->name, "dirname");
	assert_string_equal(cmd_at(s, 2)->name, "echo");
	assert_int_equal(cmd_at(s, 0)->parent, 1);
	assert_int_equal(cmd_at(s, 1)->parent, 2);
	bale_cmd_script_free(s);
}

static void test_process_substitution(void **state)
{
	bale_cmd_script *s = parse_ok("bash <(curl -fsSL https://x/install.sh)");
	const bale_cmd *curl = find(s, "curl", 0);

	(void)state;
	assert_true(curl->context & BALE_CMD_IN_SUBST);
	assert_int_equal(curl->parent, index_of(s, find(s, "bash", 0)));
	assert_true(find(s, "bash", 0)->words[1].flags & BALE_WORD_SUBST);
	bale_cmd_script_free(s);
}

static void test_arithmetic_is_not_a_command(void **state)
{
	bale_cmd_script *s = parse_ok("echo $((1 + (2 * 3))) && ((n++)) && echo done");

	(void)state;
	assert_int_equal(count(s), 2);
	assert_true(cmd_at(s, 0)->words[1].flags & BALE_WORD_ARITH);
	assert_string_equal(cmd_at(s, 0)->words[1].value, "$((1 + (2 * 3)))");
	bale_cmd_script_free(s);
}

static void test_double_bracket_test(void **state)
{
	bale_cmd_script *s = parse_ok("[[ -n $X && ( -f a || -f b ) ]] && echo y");

	(void)state;
	assert_int_equal(count(s), 2);
	assert_string_equal(cmd_at(s, 0)->words[0].value, "[[");
	assert_string_equal(cmd_at(s, 0)->words[cmd_at(s, 0)->nwords - 1].value, "]]");
	assert_int_equal(cmd_at(s, 0)->connector, BALE_CONN_AND);
	bale_cmd_script_free(s);
}

/* --- script strings and heredoc scripts --------------------------------------------------- */

static void test_sh_c_string_is_parsed(void **state)
{
	bale_cmd_script *s = parse_ok("sh -c 'apt-get update && apt-get install -y curl'");
	const bale_cmd *sh = cmd_at(s, 0), *upd = cmd_at(s, 1), *inst = cmd_at(s, 2);

	(void)state;
	assert_int_equal(count(s), 3);
	assert_string_equal(sh->name, "sh");
	assert_string_equal(upd->subcommand, "update");
	assert_string_equal(inst->subcommand, "install");
	assert_int_equal(upd->parent, 0);
	assert_int_equal(inst->parent, 0);
	assert_true(upd->context & BALE_CMD_IN_STRING);
	assert_int_equal(upd->depth, 1);
	assert_int_equal(upd->connector, BALE_CONN_AND);
	/* positions inside the string: after the quote */
	assert_int_equal(upd->line, 1);
	assert_int_equal(upd->col, 8);
	assert_int_equal(inst->col, 26);
	bale_cmd_script_free(s);
}

static void test_bash_option_cluster_before_c(void **state)
{
	bale_cmd_script *s = parse_ok("/bin/bash -euxo pipefail -c \"pip install -r r.txt\" name");
	const bale_cmd *bash = cmd_at(s, 0);

	(void)state;
	assert_string_equal(bash->name, "bash");
	assert_opts(bash, "-e", "-u", "-x", "-o=pipefail", "-c", NULL);
	assert_operands(bash, "pip install -r r.txt", "name", NULL);
	assert_string_equal(find(s, "pip", 0)->subcommand, "install");
	bale_cmd_script_free(s);
}

static void test_nested_script_strings(void **state)
{
	bale_cmd_script *s = parse_ok("su -s /bin/sh -c \"sh -c 'npm ci'\" app");
	const bale_cmd *npm = find(s, "npm", 0);

	(void)state;
	assert_int_equal(count(s), 3);
	assert_int_equal(npm->depth, 2);
	assert_int_equal(npm->parent, 1);
	assert_int_equal(cmd_at(s, 1)->parent, 0);
	assert_string_equal(npm->subcommand, "ci");
	assert_operands(cmd_at(s, 0), "app", NULL);
	bale_cmd_script_free(s);
}

static void test_eval_and_sudo_sh_c(void **state)
{
	bale_cmd_script *s = parse_ok("eval \"apk add\" curl; sudo -u root sh -c 'rm -rf /x'");

	(void)state;
	assert_string_equal(find(s, "apk", 0)->subcommand, "add");
	assert_operands(find(s, "apk", 0), "curl", NULL);
	assert_true(find(s, "rm", 0)->context & BALE_CMD_IN_STRING);
	assert_int_equal(find(s, "rm", 0)->parent, index_of(s, find(s, "sh", 0)));
	bale_cmd_script_free(s);
}

static void test_substituted_script_is_not_reparsed(void **state)
{
	bale_cmd_script *s = parse_ok("bash -c \"$(curl -fsSL https://x/install.sh)\"");

	(void)state;
	/* curl once (from the substitution), nothing parsed from its unknown output */
	assert_int_equal(count(s), 2);
	assert_string_equal(cmd_at(s, 0)->name, "curl");
	assert_string_equal(cmd_at(s, 1)->name, "bash");
	bale_cmd_script_free(s);
}

static void test_sh_c_with_known_variable(void **state)
{
	bale_cmd_script *s = parse_ok("sh -c \"$SCRIPT\"");
	const bale_cmd *apt = find(s, "apt-get", 0);

	(void)state;
	/* $SCRIPT expands to "apt-get install -y $PKGS"; inside, $PKGS splits */
	assert_operands(apt, "curl", "git", NULL);
	bale_cmd_script_free(s);
}

static void test_heredoc_script_of_a_shell(void **state)
{
	bale_cmd_script *s = parse_ok("bash -e <<'EOF'\napt-get update\npip install x==1\nEOF\n"
				      "echo after");
	const bale_cmd *pip = find(s, "pip", 0);

	(void)state;
	assert_int_equal(count(s), 4);
	assert_true(pip->context & BALE_CMD_IN_HEREDOC);
	assert_int_equal(pip->parent, 0);
	assert_int_equal(pip->line, 3);
	assert_int_equal(pip->col, 1);
	assert_string_equal(cmd_at(s, 3)->name, "echo");
	assert_int_equal(cmd_at(s, 3)->line, 5);
	bale_cmd_script_free(s);
}

static void test_heredoc_data_is_not_a_script(void **state)
{
	bale_cmd_script *s =
	    parse_ok("cat > /etc/apt/sources.list <<EOF\ndeb http://x y main\nEOF\n"
		     "python3 <<EOF\nimport os\nEOF\n");
	const bale_cmd *cat = cmd_at(s, 0);

	(void)state;
	assert_int_equal(count(s), 2);
	assert_int_equal(cat->nredirs, 2);
	assert_int_equal(cat->redirs[0].op, BALE_REDIR_OUT);
	assert_int_equal(cat->redirs[1].op, BALE_REDIR_HEREDOC);
	assert_string_equal(cat->redirs[1].target.value, "EOF");
	assert_non_null(cat->redirs[1].heredoc);
	assert_int_equal(cat->redirs[1].heredoc->len, strlen("deb http://x y main\n"));
	assert_memory_equal(cat->redirs[1].heredoc->body, "deb http://x y main\n",
			    cat->redirs[1].heredoc->len);
	assert_int_equal(cat->redirs[1].heredoc->line, 2);
	assert_true(cat->redirs[1].heredoc->terminated);
	bale_cmd_script_free(s);
}

static void test_unquoted_heredoc_substitutions_run(void **state)
{
	bale_cmd_script *s =
	    parse_ok("cat <<EOF > a\nuser: $(whoami)\nEOF\ncat <<'EOF' > b\n$(rm -rf /)\nEOF");

	(void)state;
	assert_int_equal(count(s), 3);
	assert_string_equal(cmd_at(s, 1)->name, "whoami");
	assert_int_equal(cmd_at(s, 1)->parent, 0);
	assert_int_equal(cmd_at(s, 1)->line, 2);
	assert_true(cmd_at(s, 2)->redirs[0].heredoc->quoted);
	bale_cmd_script_free(s);
}

static void test_heredoc_strip_tabs_and_two_on_a_line(void **state)
{
	bale_cmd_script *s = parse_ok("sh <<-A && cat <<B\n\techo one\n\tA\ntwo\nB\necho three");

	(void)state;
	/* sh's script runs before cat does */
	assert_int_equal(count(s), 4);
	assert_string_equal(cmd_at(s, 0)->name, "sh");
	assert_true(cmd_at(s, 0)->redirs[0].heredoc->strip_tabs);
	assert_string_equal(cmd_at(s, 1)->name, "echo");
	assert_words(cmd_at(s, 1), "echo", "one", NULL);
	assert_true(cmd_at(s, 1)->context & BALE_CMD_IN_HEREDOC);
	assert_int_equal(cmd_at(s, 1)->parent, 0);
	assert_int_equal(cmd_at(s, 1)->line, 2);
	assert_int_equal(cmd_at(s, 1)->col, 2);
	assert_string_equal(cmd_at(s, 2)->name, "cat");
	assert_memory_equal(cmd_at(s, 2)->redirs[0].heredoc->body, "two\n", 4);
	assert_words(cmd_at(s, 3), "echo", "three", NULL);
	bale_cmd_script_free(s);
}

static void test_here_string_to_a_shell(void **state)
{
	bale_cmd_script *s = parse_ok("bash <<< 'apk add curl'");

	(void)state;
	assert_int_equal(count(s), 2);
	assert_string_equal(cmd_at(s, 1)->name, "apk");
	assert_int_equal(cmd_at(s, 0)->redirs[0].op, BALE_REDIR_HERESTRING);
	bale_cmd_script_free(s);
}

/* --- words and variables ------------------------------------------------------------------ */

static void test_quotes_are_removed_raw_is_kept(void **state)
{
	bale_cmd_script *s = parse_ok("echo 'a b' \"c\\\"d\" e\\ f $'g\\th' \"\" x\"y\"'z'");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_words(c, "echo", "a b", "c\"d", "e f", "g\th", "", "xyz", NULL);
	assert_string_equal(c->words[1].raw, "'a b'");
	assert_int_equal(c->words[1].raw_len, 5);
	assert_string_equal(c->words[6].raw, "x\"y\"'z'");
	for (size_t i = 1; i < c->nwords; i++) {
		assert_true(c->words[i].flags & BALE_WORD_QUOTED);
		assert_false(c->words[i].flags & BALE_WORD_DYNAMIC);
	}
	assert_false(c->words[0].flags & BALE_WORD_QUOTED);
	assert_ptr_equal(c->words[0].raw, c->words[0].value);
	bale_cmd_script_free(s);
}

static void test_known_variables_are_expanded(void **state)
{
	bale_cmd_script *s =
	    parse_ok("apt-get install -y pkg=$VERSION \"node${NODE}\" ${VERSION}x");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_operands(c, "pkg=1.2.3", "node18", "1.2.3x", NULL);
	assert_true(c->words[3].flags & BALE_WORD_EXPANDED);
	assert_true(c->words[3].flags & BALE_WORD_VAR);
	assert_false(c->words[3].flags & BALE_WORD_DYNAMIC);
	assert_string_equal(c->words[3].raw, "pkg=$VERSION");
	bale_cmd_script_free(s);
}

static void test_unknown_variables_stay_as_written(void **state)
{
	bale_cmd_script *s = parse_ok("pip install flask==$FLASK_VERSION \"${OTHER}\" $1 $? ~/x");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_operands(c, "flask==$FLASK_VERSION", "${OTHER}", "$1", "$?", "~/x", NULL);
	assert_true(c->words[2].flags & BALE_WORD_DYNAMIC);
	assert_true(c->words[3].flags & BALE_WORD_DYNAMIC);
	assert_true(c->words[4].flags & BALE_WORD_DYNAMIC);
	assert_false(c->words[6].flags & BALE_WORD_DYNAMIC);
	/* the version is unknown but present: pinned, as hadolint counts it */
	assert_true(c->pkgs[0].pinned);
	bale_cmd_script_free(s);
}

static void test_no_lookup_means_every_variable_is_dynamic(void **state)
{
	bale_cmd_script *s = parse_with("echo $VERSION", NULL);

	(void)state;
	assert_string_equal(cmd_at(s, 0)->words[1].value, "$VERSION");
	assert_true(cmd_at(s, 0)->words[1].flags & BALE_WORD_DYNAMIC);
	bale_cmd_script_free(s);
}

static void test_parameter_operators(void **state)
{
	bale_cmd_script *s = parse_ok("echo ${MISSING:-d} ${VERSION:-d} ${EMPTY:-d} ${EMPTY-d} "
				      "${VERSION:+set} ${EMPTY:+set}x ${VERSION#v} ${#VERSION} "
				      "${VERSION:?msg} ${NODE:-$(id)}");
	const bale_cmd *c = find(s, "echo", 0);

	(void)state;
	assert_words(c, "echo", "${MISSING:-d}", "1.2.3", "d", "set", "x", "${VERSION#v}",
		     "${#VERSION}", "1.2.3", "18", NULL);
	assert_true(c->words[1].flags & BALE_WORD_DYNAMIC);
	assert_false(c->words[2].flags & BALE_WORD_DYNAMIC);
	assert_false(c->words[3].flags & BALE_WORD_DYNAMIC);
	assert_true(c->words[6].flags & BALE_WORD_DYNAMIC);
	/* the default's substitution still ran */
	assert_string_equal(cmd_at(s, 0)->name, "id");
	bale_cmd_script_free(s);
}

static void test_field_splitting_of_known_values(void **state)
{
	bale_cmd_script *s = parse_ok("apt-get install $PKGS \"$PKGS\" $EMPTY \"$EMPTY\" x$EMPTY");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_operands(c, "curl", "git", "curl  git", "", "x", NULL);
	assert_true(c->operands[0]->flags & BALE_WORD_SPLIT);
	assert_true(c->operands[1]->flags & BALE_WORD_SPLIT);
	assert_false(c->operands[2]->flags & BALE_WORD_SPLIT);
	assert_int_equal(c->operands[0]->col, c->operands[1]->col);
	bale_cmd_script_free(s);
}

static void test_script_assignments_shadow_the_lookup(void **state)
{
	bale_cmd_script *s =
	    parse_ok("VERSION=9.9 && echo $VERSION; export A=1 B=$(date); echo $A $B"
		     "; read VERSION; echo $VERSION");

	(void)state;
	assert_string_equal(find(s, "echo", 0)->words[1].value, "9.9");
	assert_string_equal(find(s, "echo", 1)->words[1].value, "1");
	assert_true(find(s, "echo", 1)->words[2].flags & BALE_WORD_DYNAMIC);
	assert_true(find(s, "echo", 2)->words[1].flags & BALE_WORD_DYNAMIC);
	bale_cmd_script_free(s);
}

static void test_conditional_and_scoped_assignments(void **state)
{
	bale_cmd_script *s = parse_ok("[ -n \"$X\" ] || NODE=20; echo $NODE; (VERSION=0); echo "
				      "$VERSION; sh -c 'VERSION=7'; echo $VERSION");

	(void)state;
	assert_true(find(s, "echo", 0)->words[1].flags & BALE_WORD_DYNAMIC);
	assert_string_equal(find(s, "echo", 1)->words[1].value, "1.2.3");
	assert_string_equal(find(s, "echo", 2)->words[1].value, "1.2.3");
	bale_cmd_script_free(s);
}

static void test_globs_are_flagged_and_kept(void **state)
{
	bale_cmd_script *s = parse_ok("rm -rf /var/lib/apt/lists/* '/tmp/*' a?b [ab]");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_operands(c, "/var/lib/apt/lists/*", "/tmp/*", "a?b", "[ab]", NULL);
	assert_true(c->operands[0]->flags & BALE_WORD_GLOB);
	assert_false(c->operands[1]->flags & BALE_WORD_GLOB);
	assert_true(c->operands[2]->flags & BALE_WORD_GLOB);
	assert_false(c->operands[0]->flags & BALE_WORD_DYNAMIC);
	bale_cmd_script_free(s);
}

static void test_leading_assignments(void **state)
{
	bale_cmd_script *s =
	    parse_ok("DEBIAN_FRONTEND=noninteractive TZ='Etc/UTC' apt-get install -y tzdata; "
		     "A=1 B=2; env NODE_TLS_REJECT_UNAUTHORIZED=0 npm install; arr=(a b) c=d");
	const bale_cmd *apt = find(s, "apt-get", 0), *npm = find(s, "npm", 0);

	(void)state;
	assert_int_equal(apt->nassigns, 2);
	assert_string_equal(apt->assigns[1].value, "TZ=Etc/UTC");
	assert_string_equal(bale_cmd_assignment(apt, "DEBIAN_FRONTEND"), "noninteractive");
	assert_null(bale_cmd_assignment(apt, "TZ2"));
	assert_int_equal(cmd_at(s, 1)->nwords, 0);
	assert_int_equal(cmd_at(s, 1)->nassigns, 2);
	assert_string_equal(cmd_at(s, 1)->name, "");
	assert_string_equal(bale_cmd_assignment(npm, "NODE_TLS_REJECT_UNAUTHORIZED"), "0");
	assert_true(bale_cmd_has_wrapper(npm, "env"));
	assert_int_equal(cmd_at(s, 3)->nassigns, 2);
	assert_string_equal(cmd_at(s, 3)->assigns[0].value, "arr=(a b)");
	bale_cmd_script_free(s);
}

static void test_assignment_after_the_command_is_an_argument(void **state)
{
	bale_cmd_script *s = parse_ok("make CC=clang 'A=1' cmd");

	(void)state;
	assert_int_equal(cmd_at(s, 0)->nassigns, 0);
	assert_words(cmd_at(s, 0), "make", "CC=clang", "A=1", "cmd", NULL);
	bale_cmd_script_free(s);
}

/* --- redirections and positions ----------------------------------------------------------- */

static void test_redirections(void **state)
{
	bale_cmd_script *s = parse_ok("cmd <in >out 2>&1 >>log 3<>rw &>all &>>app 2>/dev/null >|f "
				      "<&0 arg");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_words(c, "cmd", "arg", NULL);
	assert_int_equal(c->nredirs, 10);
	assert_int_equal(c->redirs[0].op, BALE_REDIR_IN);
	assert_int_equal(c->redirs[0].fd, 0);
	assert_string_equal(c->redirs[0].target.value, "in");
	assert_int_equal(c->redirs[1].op, BALE_REDIR_OUT);
	assert_int_equal(c->redirs[1].fd, 1);
	assert_int_equal(c->redirs[2].op, BALE_REDIR_DUP_OUT);
	assert_int_equal(c->redirs[2].fd, 2);
	assert_string_equal(c->redirs[2].target.value, "1");
	assert_int_equal(c->redirs[3].op, BALE_REDIR_APPEND);
	assert_int_equal(c->redirs[4].op, BALE_REDIR_RDWR);
	assert_int_equal(c->redirs[4].fd, 3);
	assert_int_equal(c->redirs[5].op, BALE_REDIR_OUT_ERR);
	assert_int_equal(c->redirs[6].op, BALE_REDIR_APPEND_ERR);
	assert_int_equal(c->redirs[7].fd, 2);
	assert_string_equal(c->redirs[7].target.value, "/dev/null");
	assert_int_equal(c->redirs[8].op, BALE_REDIR_CLOBBER);
	assert_int_equal(c->redirs[9].op, BALE_REDIR_DUP_IN);
	bale_cmd_script_free(s);
}

static void test_redirection_first_and_compound_redirections(void **state)
{
	bale_cmd_script *s = parse_ok(">/dev/null 2>&1 command -v curl; { a; b; } 2>/dev/null; "
				      "while read l; do echo $l; done < list.txt");

	(void)state;
	assert_int_equal(count(s), 5);
	assert_string_equal(cmd_at(s, 0)->name, "command");
	assert_int_equal(cmd_at(s, 0)->nredirs, 2);
	assert_string_equal(cmd_at(s, 1)->name, "a");
	assert_int_equal(cmd_at(s, 1)->nredirs, 0);
	bale_cmd_script_free(s);
}

static void test_positions_with_a_base(void **state)
{
	bale_cmd_opts opts = {.lookup = lookup, .line = 10, .col = 5};
	bale_cmd_script *s =
	    parse_with("apt-get update &&\n    apt-get install \\\n      x", &opts);

	(void)state;
	assert_int_equal(cmd_at(s, 0)->line, 10);
	assert_int_equal(cmd_at(s, 0)->col, 5);
	assert_int_equal(cmd_at(s, 0)->end_line, 10);
	assert_int_equal(cmd_at(s, 0)->end_col, 19);
	assert_int_equal(cmd_at(s, 1)->line, 11);
	assert_int_equal(cmd_at(s, 1)->col, 5);
	assert_int_equal(cmd_at(s, 1)->words[2].line, 12);
	assert_int_equal(cmd_at(s, 1)->words[2].col, 7);
	assert_int_equal(cmd_at(s, 1)->end_line, 12);
	assert_int_equal(cmd_at(s, 1)->end_col, 8);
	assert_int_equal(cmd_at(s, 1)->words[1].end_line, 11);
	assert_int_equal(cmd_at(s, 1)->words[1].end_col, 20);
	bale_cmd_script_free(s);
}

/* --- tools: unwrapping -------------------------------------------------------------------- */

static void test_wrappers_are_unwrapped(void **state)
{
	bale_cmd_script *s = parse_ok(
	    "sudo -u root -E env A=1 nice -n 10 time -p timeout -s KILL 60 apt-get install -y x\n"
	    "xargs -0 -n1 -I{} rm -f {}\n"
	    "gosu app:app npm ci\n"
	    "command -v curl\n"
	    "command pip install y\n"
	    "nohup stdbuf -oL python3 app.py\n"
	    "exec tini -- node server.js\n"
	    "busybox wget -q url");
	const bale_cmd *apt = find(s, "apt-get", 0);

	(void)state;
	assert_int_equal(apt->arg0, 15);
	assert_int_equal(apt->nwrappers, 5);
	assert_true(bale_cmd_has_wrapper(apt, "sudo"));
	assert_true(bale_cmd_has_wrapper(apt, "env"));
	assert_true(bale_cmd_has_wrapper(apt, "nice"));
	assert_true(bale_cmd_has_wrapper(apt, "time"));
	assert_true(bale_cmd_has_wrapper(apt, "timeout"));
	assert_false(bale_cmd_has_wrapper(apt, "xargs"));
	assert_string_equal(apt->subcommand, "install");
	assert_operands(apt, "x", NULL);
	assert_string_equal(bale_cmd_assignment(apt, "A"), "1");
	assert_operands(find(s, "rm", 0), "{}", NULL);
	assert_true(bale_cmd_has_wrapper(find(s, "rm", 0), "xargs"));
	assert_string_equal(find(s, "npm", 0)->subcommand, "ci");
	/* command -v only looks the name up */
	assert_string_equal(cmd_at(s, 3)->name, "command");
	assert_string_equal(find(s, "pip", 0)->subcommand, "install");
	assert_string_equal(find(s, "python", 0)->name, "python");
	assert_string_equal(find(s, "tini", 0)->name, "tini");
	assert_string_equal(find(s, "wget", 0)->name, "wget");
	assert_opts(find(s, "wget", 0), "-q", NULL);
	bale_cmd_script_free(s);
}

static void test_wrapper_alone_is_the_tool(void **state)
{
	bale_cmd_script *s = parse_ok("sudo -i; env; xargs; timeout 5");

	(void)state;
	assert_string_equal(cmd_at(s, 0)->name, "sudo");
	assert_string_equal(cmd_at(s, 1)->name, "env");
	assert_string_equal(cmd_at(s, 2)->name, "xargs");
	assert_string_equal(cmd_at(s, 3)->name, "timeout");
	assert_int_equal(cmd_at(s, 0)->nwrappers, 0);
	bale_cmd_script_free(s);
}

static void test_tool_names_are_normalized(void **state)
{
	bale_cmd_script *s =
	    parse_ok("/usr/local/bin/pip3.11 install a; python3.12 -m pip install b; "
		     "./gradlew build; ./mvnw -q package; bundler install; pip2 "
		     "list; /sbin/apk add c; python -m venv /v");

	(void)state;
	assert_string_equal(cmd_at(s, 0)->name, "pip");
	assert_string_equal(cmd_at(s, 1)->name, "pip");
	assert_int_equal(cmd_at(s, 1)->arg0, 2);
	assert_true(bale_cmd_has_wrapper(cmd_at(s, 1), "python"));
	assert_operands(cmd_at(s, 1), "b", NULL);
	assert_string_equal(cmd_at(s, 2)->name, "gradle");
	assert_string_equal(cmd_at(s, 3)->name, "mvn");
	assert_string_equal(cmd_at(s, 4)->name, "bundle");
	assert_string_equal(cmd_at(s, 5)->name, "pip");
	assert_string_equal(cmd_at(s, 6)->name, "apk");
	assert_string_equal(cmd_at(s, 7)->name, "python");
	assert_true(bale_cmd_is(cmd_at(s, 0), "pip"));
	assert_true(bale_cmd_is_any(cmd_at(s, 6), "apt-get", "apk", NULL));
	assert_false(bale_cmd_is_any(cmd_at(s, 6), "apt-get", "yum", NULL));
	bale_cmd_script_free(s);
}

/* --- tools: options ----------------------------------------------------------------------- */

static void test_apt_get_example_from_the_brief(void **state)
{
	bale_cmd_script *s =
	    parse_ok("apt-get install -y --no-install-recommends -o Dpkg::Options::=x pkg=1.2");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_string_equal(bale_cmd_subcommand(c), "install");
	assert_opts(c, "-y", "--no-install-recommends", "-o=Dpkg::Options::=x", NULL);
	assert_operands(c, "pkg=1.2", NULL);
	assert_true(bale_cmd_has_flag(c, "-y", "--yes", "--assume-yes", NULL));
	assert_false(bale_cmd_has_flag(c, "-q", NULL));
	assert_string_equal(bale_cmd_flag_value(c, "-o", "--option", NULL), "Dpkg::Options::=x");
	assert_int_equal(c->opts[2].word, 4);
	assert_int_equal(c->subcommand_word, 1);
	assert_true(c->known_tool);
	assert_int_equal(c->npkgs, 1);
	assert_pkg(c->pkgs[0], "pkg", "=", "1.2", true);
	assert_ptr_equal(c->pkgs[0].word, c->operands[0]);
	bale_cmd_script_free(s);
}

static void test_short_clusters_attached_values_and_double_dash(void **state)
{
	bale_cmd_script *s = parse_ok("apt-get -qqy -oAPT::X=1 --option=a=b -t bookworm-backports "
				      "install -- -weird-pkg");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_opts(c, "-q", "-q", "-y", "-o=APT::X=1", "--option=a=b", "-t=bookworm-backports",
		    NULL);
	assert_string_equal(c->subcommand, "install");
	assert_operands(c, "-weird-pkg", NULL);
	assert_string_equal(bale_cmd_flag_value(c, "-o", "--option", NULL), "a=b");
	bale_cmd_script_free(s);
}

static void test_unknown_tool_gets_generic_options(void **state)
{
	bale_cmd_script *s = parse_ok("mytool -abc --long=v --flag value - x");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_false(c->known_tool);
	assert_opts(c, "-a", "-b", "-c", "--long=v", "--flag", NULL);
	assert_operands(c, "value", "-", "x", NULL);
	assert_null(c->subcommand);
	bale_cmd_script_free(s);
}

static void test_package_manager_subcommands_and_aliases(void **state)
{
	bale_cmd_script *s = parse_ok(
	    "npm i -g express@4; npm ci --omit=dev; yarn; yarn --frozen-lockfile; yarn global add "
	    "serve; pnpm add -D ts@5; pip --no-cache-dir install x; gem i rails; zypper in -y vim; "
	    "dnf -y --setopt=tsflags=nodocs install httpd; composer i --no-dev; bundle --jobs 4; "
	    "cargo b --release; go mod download");

	(void)state;
	assert_string_equal(find(s, "npm", 0)->subcommand, "install");
	assert_opts(find(s, "npm", 0), "-g", NULL);
	assert_string_equal(find(s, "npm", 1)->subcommand, "ci");
	assert_string_equal(find(s, "yarn", 0)->subcommand, "install");
	assert_int_equal(find(s, "yarn", 0)->subcommand_word, BALE_CMD_NONE);
	assert_string_equal(find(s, "yarn", 1)->subcommand, "install");
	assert_string_equal(find(s, "yarn", 2)->subcommand, "global");
	assert_int_equal(find(s, "yarn", 2)->npkgs, 1);
	assert_pkg(find(s, "yarn", 2)->pkgs[0], "serve", NULL, NULL, false);
	assert_string_equal(find(s, "pnpm", 0)->subcommand, "add");
	assert_pkg(find(s, "pnpm", 0)->pkgs[0], "ts", "@", "5", true);
	assert_string_equal(find(s, "pip", 0)->subcommand, "install");
	assert_opts(find(s, "pip", 0), "--no-cache-dir", NULL);
	assert_string_equal(find(s, "gem", 0)->subcommand, "install");
	assert_string_equal(find(s, "zypper", 0)->subcommand, "install");
	assert_string_equal(find(s, "dnf", 0)->subcommand, "install");
	assert_opts(find(s, "dnf", 0), "-y", "--setopt=tsflags=nodocs", NULL);
	assert_string_equal(find(s, "composer", 0)->subcommand, "install");
	assert_string_equal(find(s, "bundle", 0)->subcommand, "install");
	assert_opts(find(s, "bundle", 0), "--jobs=4", NULL);
	assert_string_equal(find(s, "cargo", 0)->subcommand, "build");
	assert_string_equal(find(s, "go", 0)->subcommand, "mod");
	assert_operands(find(s, "go", 0), "download", NULL);
	bale_cmd_script_free(s);
}

static void test_apk_virtual_and_repository_values_are_not_packages(void **state)
{
	bale_cmd_script *s = parse_ok("apk add --no-cache --virtual .build-deps -X "
				      "http://dl-cdn/edge gcc=12.2.1-r4 musl-dev");
	const bale_cmd *c = cmd_at(s, 0);

	(void)state;
	assert_opts(c, "--no-cache", "--virtual=.build-deps", "-X=http://dl-cdn/edge", NULL);
	assert_int_equal(c->npkgs, 2);
	assert_pkg(c->pkgs[0], "gcc", "=", "12.2.1-r4", true);
	assert_pkg(c->pkgs[1], "musl-dev", NULL, NULL, false);
	bale_cmd_script_free(s);
}

static void test_rpm_managers(void **state)
{
	bale_cmd_script *s = parse_ok("microdnf install -y --nodocs nginx-1.20.1 && yum install -y "
				      "python3-devel && dnf module install -y nodejs:18/common && "
				      "tdnf install -y ./local.rpm");

	(void)state;
	assert_pkg(find(s, "microdnf", 0)->pkgs[0], "nginx", "-", "1.20.1", true);
	assert_pkg(find(s, "yum", 0)->pkgs[0], "python3-devel", NULL, NULL, false);
	assert_string_equal(find(s, "dnf", 0)->subcommand, "module");
	assert_int_equal(find(s, "dnf", 0)->npkgs, 1);
	assert_pkg(find(s, "dnf", 0)->pkgs[0], "nodejs", ":", "18/common", true);
	assert_int_equal(find(s, "tdnf", 0)->pkgs[0].source, BALE_PKG_FILE);
	assert_true(find(s, "tdnf", 0)->pkgs[0].pinned);
	bale_cmd_script_free(s);
}

static void test_go_cargo_mvn_gradle(void **state)
{
	bale_cmd_script *s =
	    parse_ok("go build -trimpath -ldflags \"-s -w\" -o /out/app ./cmd/app && go install "
		     "golang.org/x/tools/gopls@v0.14.2 github.com/x/y@latest\n"
		     "cargo install ripgrep --version 13.0.0 --locked\n"
		     "mvn -B -q -DskipTests -Dmaven.test.skip=true -Pprod -pl core -T4 -am "
		     "dependency:go-offline package\n"
		     "gradle --no-daemon -x test -Dorg.gradle.jvmargs=-Xmx2g build");
	const bale_cmd *build = find(s, "go", 0), *install = find(s, "go", 1);
	const bale_cmd *mvn = find(s, "mvn", 0), *gradle = find(s, "gradle", 0);

	(void)state;
	assert_opts(build, "-trimpath", "-ldflags=-s -w", "-o=/out/app", NULL);
	assert_operands(build, "./cmd/app", NULL);
	assert_pkg(install->pkgs[0], "golang.org/x/tools/gopls", "@", "v0.14.2", true);
	assert_pkg(install->pkgs[1], "github.com/x/y", "@", "latest", false);
	assert_pkg(find(s, "cargo", 0)->pkgs[0], "ripgrep", "--version", "13.0.0", true);
	assert_opts(mvn, "-B", "-q", "-D=skipTests", "-D=maven.test.skip=true", "-P=prod",
		    "-pl=core", "-T=4", "-am", NULL);
	assert_int_equal(mvn->opts[5].word, 6);
	assert_operands(mvn, "dependency:go-offline", "package", NULL);
	assert_opts(gradle, "--no-daemon", "-x=test", "-D=org.gradle.jvmargs=-Xmx2g", NULL);
	assert_operands(gradle, "build", NULL);
	bale_cmd_script_free(s);
}

static void test_curl_and_wget_options(void **state)
{
	bale_cmd_script *s =
	    parse_ok("curl -fsSLo /tmp/x.tgz -H 'Accept: */*' --retry 3 -k https://a/x.tgz; "
		     "curl --insecure --output=f https://b; wget -qO- --no-check-certificate "
		     "--progress=dot:giga https://c; wget -nv -O out https://d");
	const bale_cmd *c1 = find(s, "curl", 0), *w1 = find(s, "wget", 0);

	(void)state;
	assert_opts(c1, "-f", "-s", "-S", "-L", "-o=/tmp/x.tgz", "-H=Accept: */*", "--retry=3",
		    "-k", NULL);
	/* each option names the word it was written in, not its value's */
	assert_int_equal(c1->opts[4].word, 1);
	assert_int_equal(c1->opts[5].word, 3);
	assert_int_equal(c1->opts[6].word, 5);
	assert_int_equal(c1->opts[7].word, 7);
	assert_operands(c1, "https://a/x.tgz", NULL);
	assert_true(bale_cmd_has_flag(c1, "-k", "--insecure", NULL));
	assert_true(bale_cmd_has_flag(find(s, "curl", 1), "-k", "--insecure", NULL));
	assert_string_equal(bale_cmd_flag_value(find(s, "curl", 1), "-o", "--output", NULL), "f");
	assert_opts(w1, "-q", "-O=-", "--no-check-certificate", "--progress=dot:giga", NULL);
	assert_operands(w1, "https://c", NULL);
	assert_opts(find(s, "wget", 1), "-n=v", "-O=out", NULL);
	bale_cmd_script_free(s);
}

static void test_chmod_chown_and_users(void **state)
{
	bale_cmd_script *s = parse_ok(
	    "chmod -R 777 /app; chmod -x f; chmod -Rv a+w /d; chmod u+s,g+s /bin/x; "
	    "chown -R 1000:1000 /app; useradd -r -u 10001 -g app -s /sbin/nologin app; "
	    "adduser -D -u 1000 -G app app; adduser --disabled-password --uid 1001 --gecos '' me");

	(void)state;
	assert_opts(find(s, "chmod", 0), "-R", NULL);
	assert_operands(find(s, "chmod", 0), "777", "/app", NULL);
	/* -x is a mode, not an option */
	assert_opts(find(s, "chmod", 1), NULL);
	assert_operands(find(s, "chmod", 1), "-x", "f", NULL);
	assert_opts(find(s, "chmod", 2), "-R", "-v", NULL);
	assert_operands(find(s, "chmod", 3), "u+s,g+s", "/bin/x", NULL);
	assert_operands(find(s, "chown", 0), "1000:1000", "/app", NULL);
	assert_string_equal(bale_cmd_flag_value(find(s, "useradd", 0), "-u", "--uid", NULL),
			    "10001");
	assert_operands(find(s, "useradd", 0), "app", NULL);
	assert_string_equal(bale_cmd_flag_value(find(s, "adduser", 0), "-u", "--uid", NULL),
			    "1000");
	assert_operands(find(s, "adduser", 0), "app", NULL);
	assert_string_equal(bale_cmd_flag_value(find(s, "adduser", 1), "-u", "--uid", NULL),
			    "1001");
	assert_operands(find(s, "adduser", 1), "me", NULL);
	bale_cmd_script_free(s);
}

static void test_su_cd_rm_git_tar_set_echo(void **state)
{
	bale_cmd_script *s =
	    parse_ok("su postgres -c 'initdb'; cd /tmp; rm -rf --no-preserve-root /x; "
		     "git -c http.sslVerify=false clone --depth 1 -b v1.2 https://g/r.git /src; "
		     "git config --global http.sslVerify false; tar -xzf a.tgz -C /opt "
		     "--strip-components 1; "
		     "set -o pipefail; set +e; echo -- -n x");

	(void)state;
	assert_operands(find(s, "su", 0), "postgres", NULL);
	assert_string_equal(bale_cmd_flag_value(find(s, "su", 0), "-c", NULL), "initdb");
	assert_string_equal(find(s, "initdb", 0)->name, "initdb");
	assert_operands(find(s, "cd", 0), "/tmp", NULL);
	assert_opts(find(s, "rm", 0), "-r", "-f", "--no-preserve-root", NULL);
	assert_opts(find(s, "git", 0), "-c=http.sslVerify=false", "--depth=1", "-b=v1.2", NULL);
	assert_string_equal(find(s, "git", 0)->subcommand, "clone");
	assert_operands(find(s, "git", 0), "https://g/r.git", "/src", NULL);
	assert_string_equal(find(s, "git", 1)->subcommand, "config");
	assert_operands(find(s, "git", 1), "http.sslVerify", "false", NULL);
	assert_opts(find(s, "tar", 0), "-x", "-z", "-f=a.tgz", "-C=/opt", "--strip-components=1",
		    NULL);
	assert_string_equal(bale_cmd_flag_value(find(s, "set", 0), "-o", NULL), "pipefail");
	assert_opts(find(s, "set", 1), "+e", NULL);
	assert_operands(find(s, "echo", 0), "--", "-n", "x", NULL);
	bale_cmd_script_free(s);
}

static void test_tool_table_is_sorted(void **state)
{
	(void)state;
	assert_true(cmd_tools_sorted());
	assert_true(cmd_keywords_indexed());
	assert_true(cmd_is_shell_name("bash"));
	assert_true(cmd_is_shell_name("/bin/sh"));
	assert_false(cmd_is_shell_name("python3"));
}

/*
 * The options and operands of a command are gathered on the stack first; a command with more
 * of them than that holds is read again. Both ways must give every one of them, in order.
 */
static void test_many_options_and_operands_are_all_kept(void **state)
{
	static const size_t counts[] = {3, 64, 65, 256, 257, 700};
	bale_buf text = BALE_BUF_INIT;

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		size_t n = counts[c];
		bale_cmd_script *s;
		const bale_cmd *cmd;
		char want[32];

		bale_buf_reset(&text);
		bale_buf_adds(&text, "apt-get install");
		for (size_t i = 0; i < n; i++)
			bale_buf_addf(&text, " -o Opt%zu=1 pkg%zu", i, i);
		assert_int_equal(text.err, 0);
		s = parse_ok(text.ptr);
		cmd = cmd_at(s, 0);
		assert_string_equal(cmd->subcommand, "install");
		assert_int_equal(cmd->nopts, n);
		assert_int_equal(cmd->noperands, n);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(cmd->opts[i].name, "-o");
			snprintf(want, sizeof(want), "Opt%zu=1", i);
			assert_string_equal(cmd->opts[i].value, want);
			assert_int_equal(cmd->opts[i].word, 2 + 3 * i);
			snprintf(want, sizeof(want), "pkg%zu", i);
			assert_string_equal(cmd->operands[i]->value, want);
		}
		assert_int_equal(cmd->npkgs, n);
		bale_cmd_script_free(s);
	}
	bale_buf_release(&text);
}

/* --- packages ----------------------------------------------------------------------------- */

static void test_package_specs(void **state)
{
	(void)state;
	assert_pkg(pkg(BALE_PKG_APT, "python=2.7"), "python", "=", "2.7", true);
	assert_pkg(pkg(BALE_PKG_APT, "libc6:amd64=2.36-9"), "libc6:amd64", "=", "2.36-9", true);
	assert_pkg(pkg(BALE_PKG_APT, "nginx/bookworm-backports"), "nginx", "/",
		   "bookworm-backports", true);
	assert_pkg(pkg(BALE_PKG_APT, "python"), "python", NULL, NULL, false);
	assert_int_equal(pkg(BALE_PKG_APT, "./x.deb").source, BALE_PKG_FILE);
	assert_pkg(pkg(BALE_PKG_APK, "python3~3.11"), "python3", "~", "3.11", true);
	assert_pkg(pkg(BALE_PKG_APK, "busybox>1.0"), "busybox", ">", "1.0", false);
	assert_pkg(pkg(BALE_PKG_APK, "musl>=1.2"), "musl", ">=", "1.2", true);
	assert_pkg(pkg(BALE_PKG_PIP, "requests[security,socks]>=2.8.1,<3"), "requests",
		   ">=", "2.8.1,<3", true);
	assert_int_equal(pkg(BALE_PKG_PIP, "requests[security,socks]>=2.8.1").extras_len,
			 strlen("[security,socks]"));
	assert_pkg(pkg(BALE_PKG_PIP, "Django~=4.2"), "Django", "~=", "4.2", true);
	assert_pkg(pkg(BALE_PKG_PIP, "numpy"), "numpy", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_PIP, "git+https://github.com/Banno/carbon@0.9.x"),
		   "git+https://github.com/Banno/carbon", "@", "0.9.x", true);
	assert_false(pkg(BALE_PKG_PIP, "git+https://github.com/Banno/carbon").pinned);
	assert_int_equal(pkg(BALE_PKG_PIP, "git+https://github.com/Banno/carbon").source,
			 BALE_PKG_URL);
	assert_true(pkg(BALE_PKG_PIP, "./dist/app-1.0-py3-none-any.whl").pinned);
	assert_int_equal(pkg(BALE_PKG_PIP, ".").source, BALE_PKG_FILE);
	assert_pkg(pkg(BALE_PKG_NPM, "express@4.1.1"), "express", "@", "4.1.1", true);
	assert_pkg(pkg(BALE_PKG_NPM, "@myorg/privatepackage@>=0.1.0"), "@myorg/privatepackage", "@",
		   ">=0.1.0", true);
	assert_pkg(pkg(BALE_PKG_NPM, "@myorg/privatepackage"), "@myorg/privatepackage", NULL, NULL,
		   false);
	assert_true(pkg(BALE_PKG_NPM, "git+https://github.com/u/r.git#v1.0").pinned);
	assert_false(pkg(BALE_PKG_NPM, "git://github.com/u/r.git").pinned);
	assert_true(pkg(BALE_PKG_NPM, "./local-dir").pinned);
	assert_true(pkg(BALE_PKG_NPM, "https://x/pkg.tgz").pinned);
	assert_pkg(pkg(BALE_PKG_GEM, "bundler:2.0.2"), "bundler", ":", "2.0.2", true);
	assert_pkg(pkg(BALE_PKG_GEM, "bundler"), "bundler", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_RPM, "httpd-2.24.2"), "httpd", "-", "2.24.2", true);
	assert_pkg(pkg(BALE_PKG_RPM, "python3-pip-21.3.1-1.el9"), "python3-pip", "-",
		   "21.3.1-1.el9", true);
	assert_pkg(pkg(BALE_PKG_RPM, "httpd"), "httpd", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_ZYPPER, "vim>=9"), "vim", ">=", "9", true);
	assert_pkg(pkg(BALE_PKG_ZYPPER, "vim"), "vim", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_GO, "example.com/m@v1.2.3"), "example.com/m", "@", "v1.2.3", true);
	assert_pkg(pkg(BALE_PKG_GO, "example.com/m"), "example.com/m", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_CARGO, "ripgrep@14.0.3"), "ripgrep", "@", "14.0.3", true);
	assert_pkg(pkg(BALE_PKG_CONDA, "numpy=1.26"), "numpy", "=", "1.26", true);
	assert_pkg(pkg(BALE_PKG_CONDA, "numpy>=1.26"), "numpy", ">=", "1.26", true);
	assert_pkg(pkg(BALE_PKG_CONDA, "numpy"), "numpy", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_COMPOSER, "monolog/monolog:^3.0"), "monolog/monolog", ":", "^3.0",
		   true);
	assert_pkg(pkg(BALE_PKG_COMPOSER, "monolog/monolog"), "monolog/monolog", NULL, NULL, false);
	assert_pkg(pkg(BALE_PKG_APT, ""), "", NULL, NULL, false);
}

/* --- hadolint's rule pages ---------------------------------------------------------------- */

/* True when every apt-get install package in the script is pinned (DL3008). */
static bool apt_all_pinned(const bale_cmd_script *s)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);

	for (size_t i = 0; i < n; i++)
		if (bale_cmd_is(&c[i], "apt-get"))
			for (size_t k = 0; k < c[i].npkgs; k++)
				if (!c[i].pkgs[k].pinned)
					return false;
	return true;
}

static void test_hadolint_dl3008_pin_apt_versions(void **state)
{
	bale_cmd_script *bad = parse_ok("apt-get install python");
	bale_cmd_script *good = parse_ok("apt-get install python=2.7");
	bale_cmd_script *target = parse_ok("apt-get install -t buster-backports -y python=2.7");

	(void)state;
	assert_false(apt_all_pinned(bad));
	assert_true(apt_all_pinned(good));
	assert_true(apt_all_pinned(target));
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
	bale_cmd_script_free(target);
}

/* apt-get install in the script, and its lists removed in the same script (DL3009). */
static bool apt_lists_cleaned(const bale_cmd_script *s)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);

	for (size_t i = 0; i < n; i++)
		if (bale_cmd_is(&c[i], "rm"))
			for (size_t k = 0; k < c[i].noperands; k++)
				if (strncmp(c[i].operands[k]->value, "/var/lib/apt/lists", 18) == 0)
					return true;
	return false;
}

static void test_hadolint_dl3009_delete_apt_lists(void **state)
{
	bale_cmd_script *bad = parse_ok("apt-get update && apt-get install -y python");
	bale_cmd_script *good = parse_ok("apt-get update && apt-get install -y python \\\n && "
					 "apt-get clean \\\n && rm -rf /var/lib/apt/lists/*");

	(void)state;
	assert_false(apt_lists_cleaned(bad));
	assert_true(apt_lists_cleaned(good));
	assert_true(bale_cmd_is(find(good, "apt-get", 2), "apt-get"));
	assert_string_equal(find(good, "apt-get", 2)->subcommand, "clean");
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
}

/* DL3013: pip install of unpinned packages, not from requirements, constraints or ".". */
static bool pip_unpinned(const bale_cmd_script *s)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);

	for (size_t i = 0; i < n; i++) {
		if (!bale_cmd_is(&c[i], "pip") || !c[i].subcommand ||
		    strcmp(c[i].subcommand, "install") != 0)
			continue;
		if (bale_cmd_has_flag(&c[i], "-r", "--requirement", "-c", "--constraint", NULL) ||
		    bale_cmd_has_operand(&c[i], "."))
			continue;
		for (size_t k = 0; k < c[i].npkgs; k++)
			if (!c[i].pkgs[k].pinned)
				return true;
	}
	return false;
}

static void test_hadolint_dl3013_pin_pip_versions(void **state)
{
	const char *bad[] = {"pip install django", "pip3 install --upgrade django",
			     "python -m pip install django"};
	const char *good[] = {"pip install django==1.9",
			      "pip install git+https://github.com/Banno/carbon@0.9.x-fix-events",
			      "pip install -r requirements.txt",
			      "pip install .",
			      "pip install --constraint c.txt django",
			      "pip install 'django>=1.9'"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bale_cmd_script *s = parse_ok(bad[i]);

		if (!pip_unpinned(s))
			fail_msg("not flagged: %s", bad[i]);
		bale_cmd_script_free(s);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		bale_cmd_script *s = parse_ok(good[i]);

		if (pip_unpinned(s))
			fail_msg("flagged: %s", good[i]);
		bale_cmd_script_free(s);
	}
}

static void test_hadolint_dl3015_no_install_recommends(void **state)
{
	bale_cmd_script *bad = parse_ok("apt-get install -y python=2.7");
	bale_cmd_script *good = parse_ok("apt-get install -y --no-install-recommends python=2.7");

	(void)state;
	assert_false(bale_cmd_has_flag(cmd_at(bad, 0), "--no-install-recommends", NULL));
	assert_true(bale_cmd_has_flag(cmd_at(good, 0), "--no-install-recommends", NULL));
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
}

static void test_hadolint_dl3016_pin_npm_versions(void **state)
{
	bale_cmd_script *bad = parse_ok("npm install express");
	bale_cmd_script *good =
	    parse_ok("npm install express@4.1.1 && npm install @myorg/privatepackage@\">=0.1.0\"");
	bale_cmd_script *none = parse_ok("npm install");

	(void)state;
	assert_false(cmd_at(bad, 0)->pkgs[0].pinned);
	assert_true(cmd_at(good, 0)->pkgs[0].pinned);
	assert_true(cmd_at(good, 1)->pkgs[0].pinned);
	assert_string_equal(cmd_at(good, 1)->pkgs[0].version, ">=0.1.0");
	assert_int_equal(cmd_at(none, 0)->npkgs, 0);
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
	bale_cmd_script_free(none);
}

static void test_hadolint_dl3018_dl3019_apk(void **state)
{
	bale_cmd_script *bad = parse_ok("apk add python");
	bale_cmd_script *good = parse_ok("apk add --no-cache python3=3.11.6-r0");

	(void)state;
	assert_false(cmd_at(bad, 0)->pkgs[0].pinned);
	assert_false(bale_cmd_has_flag(cmd_at(bad, 0), "--no-cache", NULL));
	assert_true(cmd_at(good, 0)->pkgs[0].pinned);
	assert_true(bale_cmd_has_flag(cmd_at(good, 0), "--no-cache", NULL));
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
}

static void test_hadolint_dl3028_pin_gem_versions(void **state)
{
	bale_cmd_script *bad = parse_ok("gem install bundler");
	bale_cmd_script *good = parse_ok("gem install bundler:2.0.2 && gem install bundler -v "
					 "2.0.2 && gem install --version=1 x");

	(void)state;
	assert_false(cmd_at(bad, 0)->pkgs[0].pinned);
	for (size_t i = 0; i < 3; i++)
		assert_true(cmd_at(good, i)->pkgs[0].pinned);
	assert_string_equal(cmd_at(good, 1)->pkgs[0].version, "2.0.2");
	assert_string_equal(cmd_at(good, 1)->pkgs[0].op, "-v");
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
}

static void test_hadolint_dl3041_pin_dnf_versions(void **state)
{
	bale_cmd_script *bad = parse_ok("dnf install -y httpd && dnf clean all");
	bale_cmd_script *good = parse_ok("dnf install -y httpd-2.24.2 && dnf clean all");

	(void)state;
	assert_false(find(bad, "dnf", 0)->pkgs[0].pinned);
	assert_int_equal(find(bad, "dnf", 1)->npkgs, 0);
	assert_string_equal(find(bad, "dnf", 1)->subcommand, "clean");
	assert_true(find(good, "dnf", 0)->pkgs[0].pinned);
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
}

/* DL4006: a pipe without pipefail set in the script. */
static bool pipe_without_pipefail(const bale_cmd_script *s)
{
	size_t n;
	const bale_cmd *c = bale_cmd_script_commands(s, &n);
	bool pipe = false, pipefail = false;

	for (size_t i = 0; i < n; i++) {
		const char *o = bale_cmd_flag_value(&c[i], "-o", NULL);

		pipe |= c[i].connector == BALE_CONN_PIPE;
		if (bale_cmd_is_any(&c[i], "set", "bash", NULL) && o && !strcmp(o, "pipefail"))
			pipefail = true;
	}
	return pipe && !pipefail;
}

static void test_hadolint_dl4006_pipefail(void **state)
{
	bale_cmd_script *bad = parse_ok("wget -O - https://some.site | wc -l > /number");
	bale_cmd_script *good =
	    parse_ok("set -o pipefail && wget -O - https://some.site | wc -l > /number");
	bale_cmd_script *good2 = parse_ok("set -euxo pipefail; wget -O - x | wc -l");

	(void)state;
	assert_true(pipe_without_pipefail(bad));
	assert_false(pipe_without_pipefail(good));
	assert_false(pipe_without_pipefail(good2));
	bale_cmd_script_free(bad);
	bale_cmd_script_free(good);
	bale_cmd_script_free(good2);
}

/* --- RUN instructions --------------------------------------------------------------------- */

static bale_dockerfile *dockerfile(const char *text)
{
	bale_dockerfile *df = NULL;

	if (bale_dockerfile_parse(&df, text, strlen(text), NULL) != 0)
		fail_msg("dockerfile: %s", bale_error_last()->message);
	return df;
}

static bale_cmd_script *run_at(const bale_dockerfile *df, size_t i, bool with_source)
{
	size_t n, len;
	const bale_instruction *ins = bale_dockerfile_instructions(df, &n);
	const char *src = bale_dockerfile_source(df, &len);
	bale_cmd_opts opts = {.lookup = lookup};
	bale_cmd_script *s = NULL;

	assert_true(i < n);
	if (bale_cmd_parse_instruction(&s, &ins[i], with_source ? src : NULL, len,
				       bale_dockerfile_escape(df), &opts) != 0)
		fail_msg("parse_instruction: %s", bale_error_last()->message);
	return s;
}

static void test_run_positions_cross_continuations_and_comments(void **state)
{
	bale_dockerfile *df = dockerfile("FROM debian\n"
					 "RUN --mount=type=cache,target=/var/cache/apt \\\n"
					 "    apt-get update \\\n"
					 "# a comment inside\n"
					 "\n"
					 "    && apt-get install -y curl \\\n"
					 "  && rm -rf /var/lib/apt/lists/*\n");
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_int_equal(count(s), 3);
	assert_int_equal(cmd_at(s, 0)->line, 3);
	assert_int_equal(cmd_at(s, 0)->col, 5);
	assert_int_equal(cmd_at(s, 1)->line, 6);
	assert_int_equal(cmd_at(s, 1)->col, 8);
	assert_int_equal(cmd_at(s, 1)->words[3].line, 6);
	assert_int_equal(cmd_at(s, 1)->words[3].col, 27);
	assert_int_equal(cmd_at(s, 2)->line, 7);
	assert_int_equal(cmd_at(s, 2)->col, 6);
	/* an end at a continuation stays on its line */
	assert_int_equal(cmd_at(s, 0)->end_line, 3);
	assert_int_equal(cmd_at(s, 0)->end_col, 19);
	assert_int_equal(cmd_at(s, 1)->words[1].end_line, 6);
	assert_int_equal(cmd_at(s, 1)->words[1].end_col, 23);
	assert_false(has_error(s));
	bale_cmd_script_free(s);
	/* without the source: the same commands, placed on the instruction's line */
	s = run_at(df, 1, false);
	assert_int_equal(count(s), 3);
	assert_int_equal(cmd_at(s, 2)->line, 2);
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_run_script_strings_keep_dockerfile_lines(void **state)
{
	bale_dockerfile *df = dockerfile("FROM debian\n"
					 "RUN sh -c 'apt-get update && \\\n"
					 "    apt-get install -y curl' && \\\n"
					 "  echo `id \\\n"
					 "     -u` && bash -c \"echo $VERSION && \\\n"
					 "  ls\"\n");
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_int_equal(find(s, "apt-get", 0)->line, 2);
	assert_int_equal(find(s, "apt-get", 0)->col, 12);
	assert_int_equal(find(s, "apt-get", 1)->line, 3);
	assert_int_equal(find(s, "apt-get", 1)->col, 5);
	assert_int_equal(find(s, "apt-get", 1)->words[3].line, 3);
	assert_int_equal(find(s, "apt-get", 1)->words[3].col, 24);
	/* backticks: verbatim too */
	assert_int_equal(find(s, "id", 0)->line, 4);
	assert_int_equal(find(s, "id", 0)->words[1].line, 5);
	assert_int_equal(find(s, "id", 0)->words[1].col, 6);
	/* an expanded string keeps the line it starts on */
	assert_int_equal(find(s, "ls", 0)->line, 5);
	assert_false(has_error(s));
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_run_word_cut_by_a_continuation(void **state)
{
	/* BuildKit joins the lines as they are: "ins" and "tall" make one word */
	bale_dockerfile *df = dockerfile("FROM x\nRUN apt-get ins\\\ntall -y curl\n");
	bale_cmd_script *s = run_at(df, 1, true);
	const bale_cmd_word *w = &cmd_at(s, 0)->words[1];

	(void)state;
	assert_string_equal(cmd_at(s, 0)->subcommand, "install");
	assert_string_equal(w->value, "install");
	assert_string_equal(w->raw, "install");
	assert_int_equal(w->line, 2);
	assert_int_equal(w->col, 13);
	assert_int_equal(w->end_line, 3);
	assert_int_equal(w->end_col, 5);
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_run_memory_is_the_instructions_not_the_files(void **state)
{
	size_t n = 0, cap = 200000;
	char *text = malloc(cap);
	bale_dockerfile *df;
	bale_cmd_script *s;

	(void)state;
	n += (size_t)snprintf(text + n, cap - n, "FROM x\nRUN apt-get update \\\n && echo ok\n");
	while (n + 64 < cap)
		n += (size_t)snprintf(text + n, cap - n, "RUN echo %zu && true\n", n);
	text[n] = '\0';
	df = dockerfile(text);
	s = run_at(df, 1, true);
	assert_int_equal(count(s), 2);
	assert_int_equal(cmd_at(s, 1)->line, 3);
	assert_true(bale_cmd_script_memory(s) < 64 * 1024);
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
	free(text);
}

static void test_run_with_backtick_escape(void **state)
{
	bale_dockerfile *df = dockerfile("# escape=`\nFROM x\nRUN echo a `\n  && echo `date`\n");
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_int_equal(count(s), 3);
	assert_string_equal(cmd_at(s, 1)->name, "date");
	assert_int_equal(cmd_at(s, 2)->line, 4);
	assert_int_equal(cmd_at(s, 2)->col, 6);
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_run_exec_form(void **state)
{
	bale_dockerfile *df =
	    dockerfile("FROM x\nRUN [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\", "
		       "\"wget -qO- x | tar xz\"]\nCMD [\"node\", \"app.js\"]\n");
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_int_equal(count(s), 3);
	assert_words(cmd_at(s, 0), "/bin/bash", "-o", "pipefail", "-c", "wget -qO- x | tar xz",
		     NULL);
	assert_string_equal(cmd_at(s, 1)->name, "wget");
	assert_int_equal(cmd_at(s, 1)->pipe_next, 2);
	assert_int_equal(cmd_at(s, 1)->line, 2);
	bale_cmd_script_free(s);
	s = run_at(df, 2, true);
	assert_int_equal(count(s), 1);
	assert_string_equal(cmd_at(s, 0)->name, "node");
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_run_heredoc_scripts(void **state)
{
	bale_dockerfile *df =
	    dockerfile("FROM x\n"
		       "RUN <<EOF\nset -e\napk add --no-cache curl\nEOF\n"
		       "RUN <<EOF\n#!/usr/bin/env python3\nprint('x')\nEOF\n"
		       "RUN <<-'EOF'\n#!/bin/bash -e\n\tpip install x\nEOF\n"
		       "RUN cat <<EOF > /x && bash <<SH\n$(id -u)\nEOF\nnpm ci\nSH\n");
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_int_equal(count(s), 2);
	assert_true(cmd_at(s, 1)->context & BALE_CMD_IN_HEREDOC);
	assert_int_equal(cmd_at(s, 1)->line, 4);
	assert_false(bale_cmd_script_not_shell(s));
	bale_cmd_script_free(s);
	s = run_at(df, 2, true);
	assert_int_equal(count(s), 0);
	assert_true(bale_cmd_script_not_shell(s));
	bale_cmd_script_free(s);
	s = run_at(df, 3, true);
	assert_int_equal(count(s), 1);
	assert_string_equal(cmd_at(s, 0)->name, "pip");
	bale_cmd_script_free(s);
	s = run_at(df, 4, true);
	assert_int_equal(count(s), 4);
	assert_string_equal(cmd_at(s, 0)->name, "cat");
	assert_string_equal(cmd_at(s, 1)->name, "id");
	assert_int_equal(cmd_at(s, 1)->line, 15);
	assert_string_equal(cmd_at(s, 2)->name, "bash");
	assert_string_equal(cmd_at(s, 3)->name, "npm");
	assert_int_equal(cmd_at(s, 3)->parent, 2);
	assert_int_equal(cmd_at(s, 3)->line, 17);
	assert_false(has_error(s));
	bale_cmd_script_free(s);
	bale_dockerfile_free(df);
}

static void test_onbuild_and_cmd_shell_form(void **state)
{
	bale_dockerfile *df = dockerfile(
	    "FROM x\nONBUILD RUN npm install express\nCMD exec node app.js\nEXPOSE 80\n");
	size_t n, len;
	const bale_instruction *ins = bale_dockerfile_instructions(df, &n);
	const char *src = bale_dockerfile_source(df, &len);
	bale_cmd_script *s = run_at(df, 1, true);

	(void)state;
	assert_string_equal(cmd_at(s, 0)->name, "npm");
	assert_int_equal(cmd_at(s, 0)->line, 2);
	assert_int_equal(cmd_at(s, 0)->col, 13);
	bale_cmd_script_free(s);
	s = run_at(df, 2, true);
	assert_string_equal(cmd_at(s, 0)->name, "node");
	assert_true(bale_cmd_has_wrapper(cmd_at(s, 0), "exec"));
	bale_cmd_script_free(s);
	s = NULL;
	assert_int_equal(bale_cmd_parse_instruction(&s, &ins[3], src, len, '\\', NULL),
			 BALE_EINVAL);
	assert_null(s);
	bale_dockerfile_free(df);
}

/* --- hostile input ------------------------------------------------------------------------ */

static void assert_broken(const char *text, size_t min_cmds)
{
	bale_cmd_script *s = parse(text);
	uint32_t line = 0, col = 0;

	if (!bale_cmd_script_error(s, &line, &col))
		fail_msg("no error for: %s", text);
	assert_true(line >= 1);
	assert_true(col >= 1);
	if (count(s) < min_cmds)
		fail_msg("%zu commands kept, want %zu, for: %s", count(s), min_cmds, text);
	bale_cmd_script_free(s);
}

static void test_broken_shell_gives_partial_results(void **state)
{
	(void)state;
	assert_broken("apt-get update && echo 'unterminated", 2);
	assert_broken("apt-get update && echo \"unterminated $(x", 1);
	assert_broken("apt-get update; echo $(date", 1);
	assert_broken("apt-get update; echo ${X:-", 1);
	assert_broken("apt-get update; echo `date", 1);
	assert_broken("apt-get update; echo $'abc", 1);
	assert_broken("apt-get update; (echo a", 2);
	assert_broken("apt-get update; echo a)", 2);
	assert_broken("apt-get update; fi; echo b", 2);
	assert_broken("if true; then echo a", 2);
	assert_broken("for x in a b; echo $x", 0);
	assert_broken("case x in a) echo a", 1);
	assert_broken("while true; do echo", 2);
	assert_broken("{ echo a", 1);
	assert_broken("a && || b", 2);
	assert_broken("a | ;", 1);
	assert_broken("cat <<EOF\nno end", 1);
	assert_broken("echo > ; ls", 1);
	assert_broken("echo $((1 + 2", 0);
	assert_broken("f() ", 0);
	assert_broken(";; echo x", 1);
	assert_broken("echo a; ; echo b", 2);
}

static void test_nesting_is_bounded(void **state)
{
	char *text = malloc(400000);
	size_t n = 0;
	bale_cmd_script *s;
	uint32_t line, col;
	const char *err;
	const char *openers[] = {"$(", "( ", "${X:-", "\"$(", "{ ", "if a; then ", "while "};

	(void)state;
	for (size_t k = 0; k < sizeof(openers) / sizeof(openers[0]); k++) {
		n = 0;
		for (int i = 0; i < 50000 && n + 16 < 400000; i++) {
			size_t l = strlen(openers[k]);

			memcpy(text + n, openers[k], l);
			n += l;
		}
		memcpy(text + n, "echo x", 6);
		n += 6;
		text[n] = '\0';
		s = parse(text);
		err = bale_cmd_script_error(s, &line, &col);
		assert_non_null(err);
		bale_cmd_script_free(s);
	}
	/* max_depth is honored */
	{
		bale_cmd_opts opts = {.max_depth = 3};

		s = parse_with("echo $(echo $(echo $(echo $(echo deep))))", &opts);
		err = bale_cmd_script_error(s, &line, &col);
		assert_non_null(err);
		assert_non_null(strstr(err, "nesting deeper than 3"));
		bale_cmd_script_free(s);
		s = parse_with("echo $(echo $(echo ok))", &opts);
		assert_null(bale_cmd_script_error(s, NULL, NULL));
		assert_int_equal(count(s), 3);
		bale_cmd_script_free(s);
	}
	free(text);
}

static void test_self_referencing_script_variable_terminates(void **state)
{
	/* LOOP is `sh -c "$LOOP"`: each level parses the next until the bound */
	bale_cmd_script *s = parse("sh -c \"$LOOP\"");

	(void)state;
	assert_non_null(bale_cmd_script_error(s, NULL, NULL));
	assert_true(count(s) > 10);
	bale_cmd_script_free(s);
}

static void test_odd_bytes_and_sizes(void **state)
{
	static const char nul_text[] = "echo a\0b && ls";
	bale_cmd_script *s = NULL;
	char *big = malloc(1 << 20);
	uint32_t nul_line = 0, nul_col = 0;

	(void)state;
	/* A NUL byte is the script's error, at its place; the text before it is read. */
	assert_int_equal(bale_cmd_parse(&s, nul_text, sizeof(nul_text) - 1, NULL), 0);
	assert_int_equal(count(s), 1);
	assert_int_equal(cmd_at(s, 0)->nwords, 2);
	assert_string_equal(cmd_at(s, 0)->words[1].value, "a");
	assert_int_equal(cmd_at(s, 0)->words[1].len, 1);
	assert_string_equal(bale_cmd_script_error(s, &nul_line, &nul_col),
			    "a NUL byte in the script");
	assert_int_equal(nul_line, 1);
	assert_int_equal(nul_col, 7);
	bale_cmd_script_free(s);
	/* empty and blank scripts */
	assert_int_equal(bale_cmd_parse(&s, "", 0, NULL), 0);
	assert_int_equal(count(s), 0);
	assert_null(bale_cmd_script_error(s, NULL, NULL));
	bale_cmd_script_free(s);
	assert_int_equal(bale_cmd_parse(&s, NULL, 0, NULL), 0);
	bale_cmd_script_free(s);
	assert_int_equal(bale_cmd_parse(NULL, "x", 1, NULL), BALE_EINVAL);
	/* one huge word, many tiny commands */
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	s = parse_ok(big);
	assert_int_equal(cmd_at(s, 0)->words[0].len, (1 << 20) - 1);
	bale_cmd_script_free(s);
	for (size_t i = 0; i + 2 < (1 << 20); i += 2) {
		big[i] = 'x';
		big[i + 1] = ';';
	}
	big[(1 << 20) - 2] = '\0';
	s = parse_ok(big);
	assert_int_equal(count(s), (1 << 19) - 1);
	bale_cmd_script_free(s);
	/* more heredocs on one line than are tracked */
	{
		char line[2048] = "cat";
		size_t n = 3;

		for (int i = 0; i < 40; i++, n += 4)
			memcpy(line + n, " <<E", 4);
		memcpy(line + n, "\nE\n", 4);
		s = parse(line);
		assert_non_null(bale_cmd_script_error(s, NULL, NULL));
		bale_cmd_script_free(s);
	}
	free(big);
}

static void test_nested_copies_are_bounded(void **state)
{
	bale_cmd_opts opts = {.max_depth = 400};
	size_t depth = 300, inner = 400000, n = 0;
	char *text = malloc(2 * depth * 2 + inner + 16);
	bale_cmd_script *s;
	const char *err;

	(void)state;
	for (size_t i = 0; i < depth; i++, n += 2)
		memcpy(text + n, "$(", 2);
	memcpy(text + n, "echo ", 5);
	n += 5;
	memset(text + n, 'x', inner);
	n += inner;
	for (size_t i = 0; i < depth; i++)
		text[n++] = ')';
	text[n] = '\0';
	s = parse_with(text, &opts);
	err = bale_cmd_script_error(s, NULL, NULL);
	assert_non_null(err);
	assert_non_null(strstr(err, "too large"));
	assert_true(count(s) > 0);
	bale_cmd_script_free(s);
	free(text);
}

static void test_pathological_input_is_fast(void **state)
{
	char *text = malloc(1 << 20);
	struct timespec a, b;
	bale_cmd_script *s;
	double ms;
	const char *units[] = {"$X$X",
			       "\"",
			       "'a'",
			       "((",
			       "<<E ",
			       "| ",
			       "${",
			       "`",
			       "\\\n",
			       "$(b) a\n",
			       "cat <<E\nx\nE\n",
			       "a=1; ",
			       "$VERSION ",
			       "f() { g; }\n",
			       "$(<<E\n"};

	(void)state;
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		size_t n = 0, l = strlen(units[k]);

		while (n + l < (1 << 20) - 1) {
			memcpy(text + n, units[k], l);
			n += l;
		}
		text[n] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &a);
		s = parse(text);
		clock_gettime(CLOCK_MONOTONIC, &b);
		bale_cmd_script_free(s);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (ms > 3000)
			fail_msg("%.0f ms for 1 MiB of '%s'", ms, units[k]);
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_connector_is_recorded),
	    cmocka_unit_test(test_pipe_from_curl_to_shell_is_linked),
	    cmocka_unit_test(test_pipe_amp_and_three_stage_pipeline),
	    cmocka_unit_test(test_pipe_into_compound_links_first_command),
	    cmocka_unit_test(test_negated_pipeline),
	    cmocka_unit_test(test_newlines_after_operators_continue_the_list),
	    cmocka_unit_test(test_line_continuations_join_words),
	    cmocka_unit_test(test_reserved_words_only_in_command_position),
	    cmocka_unit_test(test_comments_are_skipped),
	    cmocka_unit_test(test_subshell_and_brace_group),
	    cmocka_unit_test(test_if_elif_else_contexts),
	    cmocka_unit_test(test_loops),
	    cmocka_unit_test(test_case_arms),
	    cmocka_unit_test(test_function_bodies),
	    cmocka_unit_test(test_function_paren_right_after_name),
	    cmocka_unit_test(test_deeply_mixed_nesting),
	    cmocka_unit_test(test_command_substitution_runs_first),
	    cmocka_unit_test(test_backticks_nest_with_escapes),
	    cmocka_unit_test(test_process_substitution),
	    cmocka_unit_test(test_arithmetic_is_not_a_command),
	    cmocka_unit_test(test_double_bracket_test),
	    cmocka_unit_test(test_sh_c_string_is_parsed),
	    cmocka_unit_test(test_bash_option_cluster_before_c),
	    cmocka_unit_test(test_nested_script_strings),
	    cmocka_unit_test(test_eval_and_sudo_sh_c),
	    cmocka_unit_test(test_substituted_script_is_not_reparsed),
	    cmocka_unit_test(test_sh_c_with_known_variable),
	    cmocka_unit_test(test_heredoc_script_of_a_shell),
	    cmocka_unit_test(test_heredoc_data_is_not_a_script),
	    cmocka_unit_test(test_unquoted_heredoc_substitutions_run),
	    cmocka_unit_test(test_heredoc_strip_tabs_and_two_on_a_line),
	    cmocka_unit_test(test_here_string_to_a_shell),
	    cmocka_unit_test(test_quotes_are_removed_raw_is_kept),
	    cmocka_unit_test(test_known_variables_are_expanded),
	    cmocka_unit_test(test_unknown_variables_stay_as_written),
	    cmocka_unit_test(test_no_lookup_means_every_variable_is_dynamic),
	    cmocka_unit_test(test_parameter_operators),
	    cmocka_unit_test(test_field_splitting_of_known_values),
	    cmocka_unit_test(test_script_assignments_shadow_the_lookup),
	    cmocka_unit_test(test_conditional_and_scoped_assignments),
	    cmocka_unit_test(test_globs_are_flagged_and_kept),
	    cmocka_unit_test(test_leading_assignments),
	    cmocka_unit_test(test_assignment_after_the_command_is_an_argument),
	    cmocka_unit_test(test_redirections),
	    cmocka_unit_test(test_redirection_first_and_compound_redirections),
	    cmocka_unit_test(test_positions_with_a_base),
	    cmocka_unit_test(test_wrappers_are_unwrapped),
	    cmocka_unit_test(test_wrapper_alone_is_the_tool),
	    cmocka_unit_test(test_tool_names_are_normalized),
	    cmocka_unit_test(test_apt_get_example_from_the_brief),
	    cmocka_unit_test(test_short_clusters_attached_values_and_double_dash),
	    cmocka_unit_test(test_unknown_tool_gets_generic_options),
	    cmocka_unit_test(test_package_manager_subcommands_and_aliases),
	    cmocka_unit_test(test_apk_virtual_and_repository_values_are_not_packages),
	    cmocka_unit_test(test_many_options_and_operands_are_all_kept),
	    cmocka_unit_test(test_rpm_managers),
	    cmocka_unit_test(test_go_cargo_mvn_gradle),
	    cmocka_unit_test(test_curl_and_wget_options),
	    cmocka_unit_test(test_chmod_chown_and_users),
	    cmocka_unit_test(test_su_cd_rm_git_tar_set_echo),
	    cmocka_unit_test(test_tool_table_is_sorted),
	    cmocka_unit_test(test_package_specs),
	    cmocka_unit_test(test_hadolint_dl3008_pin_apt_versions),
	    cmocka_unit_test(test_hadolint_dl3009_delete_apt_lists),
	    cmocka_unit_test(test_hadolint_dl3013_pin_pip_versions),
	    cmocka_unit_test(test_hadolint_dl3015_no_install_recommends),
	    cmocka_unit_test(test_hadolint_dl3016_pin_npm_versions),
	    cmocka_unit_test(test_hadolint_dl3018_dl3019_apk),
	    cmocka_unit_test(test_hadolint_dl3028_pin_gem_versions),
	    cmocka_unit_test(test_hadolint_dl3041_pin_dnf_versions),
	    cmocka_unit_test(test_hadolint_dl4006_pipefail),
	    cmocka_unit_test(test_run_positions_cross_continuations_and_comments),
	    cmocka_unit_test(test_run_script_strings_keep_dockerfile_lines),
	    cmocka_unit_test(test_run_word_cut_by_a_continuation),
	    cmocka_unit_test(test_run_memory_is_the_instructions_not_the_files),
	    cmocka_unit_test(test_run_with_backtick_escape),
	    cmocka_unit_test(test_run_exec_form),
	    cmocka_unit_test(test_run_heredoc_scripts),
	    cmocka_unit_test(test_onbuild_and_cmd_shell_form),
	    cmocka_unit_test(test_broken_shell_gives_partial_results),
	    cmocka_unit_test(test_nesting_is_bounded),
	    cmocka_unit_test(test_self_referencing_script_variable_terminates),
	    cmocka_unit_test(test_odd_bytes_and_sizes),
	    cmocka_unit_test(test_nested_copies_are_bounded),
	    cmocka_unit_test(test_pathological_input_is_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
