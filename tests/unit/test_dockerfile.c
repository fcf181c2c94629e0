/*
 * The Dockerfile parser: BuildKit's parser conformance cases (every `result` byte for byte,
 * every negative case refused), then each construct on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bale/dockerfile.h"
#include "util/util.h"

#define CONF BALE_CONFORMANCE_DIR "/buildkit-dockerfile"

static bale_dockerfile *parse_ok(const char *text)
{
	bale_dockerfile *df = NULL;
	int rc = bale_dockerfile_parse(&df, text, strlen(text), NULL);

	if (rc != 0)
		fail_msg("parse failed: %s\n--- input:\n%s", bale_error_last()->message, text);
	return df;
}

static char *dump(const char *text)
{
	bale_dockerfile *df = parse_ok(text);
	bale_buf out = BALE_BUF_INIT;

	assert_int_equal(bale_dockerfile_dump_buildkit(&out, df), 0);
	bale_dockerfile_free(df);
	return bale_buf_detach(&out, NULL);
}

static void assert_dump(const char *text, const char *expected)
{
	char *got = dump(text);

	if (strcmp(got, expected) != 0)
		fail_msg("dump differs\n--- input:\n%s\n--- expected:\n%s--- got:\n%s", text,
			 expected, got);
	free(got);
}

static const char *parse_err(const char *text)
{
	bale_dockerfile *df = NULL;
	bale_parse_opts opts = {.filename = "Dockerfile"};
	int rc = bale_dockerfile_parse(&df, text, strlen(text), &opts);

	if (rc == 0)
		fail_msg("parse succeeded but should fail:\n%s", text);
	assert_null(df);
	return bale_error_last()->message;
}

static int list_cases(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		fail_msg("cannot open conformance data '%s'", dir);
	*out = NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		*out = realloc(*out, sizeof(char *) * (size_t)(n + 1));
		(*out)[n++] = strdup(e->d_name);
	}
	closedir(d);
	return n;
}

static void test_conformance_parser_results_match_buildkit(void **state)
{
	char **names;
	int n = list_cases(CONF "/parser", &names), passed = 0;

	(void)state;
	assert_int_equal(n, 33);
	for (int i = 0; i < n; i++) {
		char path[4096];
		bale_buf src = BALE_BUF_INIT, want = BALE_BUF_INIT, got = BALE_BUF_INIT;
		bale_dockerfile *df = NULL;
		bale_parse_opts opts = {.filename = names[i]};

		snprintf(path, sizeof(path), "%s/parser/%s/Dockerfile", CONF, names[i]);
		assert_int_equal(bale_read_file(&src, path, 1 << 20), 0);
		snprintf(path, sizeof(path), "%s/parser/%s/result", CONF, names[i]);
		assert_int_equal(bale_read_file(&want, path, 1 << 20), 0);
		if (bale_dockerfile_parse(&df, src.ptr, src.len, &opts) != 0)
			fail_msg("case %s: %s", names[i], bale_error_last()->message);
		assert_int_equal(bale_dockerfile_dump_buildkit(&got, df), 0);
		if (strcmp(got.ptr, want.ptr) != 0)
			fail_msg("case %s differs\n--- expected:\n%s--- got:\n%s", names[i],
				 want.ptr, got.ptr);
		passed++;
		bale_dockerfile_free(df);
		bale_buf_release(&src);
		bale_buf_release(&want);
		bale_buf_release(&got);
		free(names[i]);
	}
	free(names);
	print_message("parser conformance: %d of 33 cases match BuildKit's dump\n", passed);
	assert_int_equal(passed, 33);
}

static void test_conformance_negative_cases_are_refused(void **state)
{
	char **names;
	int n = list_cases(CONF "/parser-negative", &names);

	(void)state;
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		char path[4096];
		bale_buf src = BALE_BUF_INIT;
		bale_dockerfile *df = NULL;
		bale_parse_opts opts = {.filename = names[i]};
		int rc;

		snprintf(path, sizeof(path), "%s/parser-negative/%s/Dockerfile", CONF, names[i]);
		assert_int_equal(bale_read_file(&src, path, 1 << 20), 0);
		rc = bale_dockerfile_parse(&df, src.ptr, src.len, &opts);
		if (rc == 0)
			fail_msg("negative case %s was accepted", names[i]);
		assert_int_equal(rc, BALE_EPARSE);
		/* The message names the file and a position. */
		assert_non_null(strstr(bale_error_last()->message, names[i]));
		bale_buf_release(&src);
		free(names[i]);
	}
	free(names);
}

static void test_negative_messages_say_what_is_wrong(void **state)
{
	(void)state;
	assert_non_null(strstr(parse_err(""), "file with no instructions"));
	assert_non_null(strstr(parse_err("# only\n# comments\n"), "file with no instructions"));
	assert_string_equal(parse_err("FROM busybox\n\nENV PATH\n"),
			    "Dockerfile:3:1: ENV must have two arguments");
	assert_string_equal(parse_err("CMD [ \"echo\", [ \"nested json\" ] ]\n"),
			    "Dockerfile:1:1: when using JSON array syntax, arrays must be "
			    "comprised of strings only");
	assert_string_equal(parse_err("FROM a\nENV a=b c\n"),
			    "Dockerfile:2:1: Syntax error - can't find = in \"c\". Must be of the "
			    "form: name=value");
}

static void test_directives_only_before_first_instruction(void **state)
{
	bale_dockerfile *df;
	const bale_directive *d;
	size_t n;

	(void)state;
	df = parse_ok("# syntax=docker/dockerfile:1\n# escape=`\n# check=skip=all\nFROM a\n"
		      "# escape=\\\nRUN a `\n b\n");
	d = bale_dockerfile_directives(df, &n);
	assert_int_equal(n, 3);
	assert_string_equal(d[0].name, "syntax");
	assert_string_equal(d[0].value, "docker/dockerfile:1");
	assert_string_equal(d[1].name, "escape");
	assert_int_equal(d[1].line, 2);
	assert_string_equal(d[2].value, "skip=all");
	assert_int_equal(bale_dockerfile_escape(df), '`');
	bale_dockerfile_free(df);
	/* After an instruction or an empty line a directive is a plain comment. */
	assert_dump("FROM a\n# escape=`\nRUN a \\\n b\n", "(from \"a\")\n(run \"a  b\")\n");
	assert_dump("\n# escape=`\nFROM a\nRUN a \\\n b\n", "(from \"a\")\n(run \"a  b\")\n");
	/* Case of the name does not matter; an unknown directive ends the directives. */
	assert_dump("# ESCAPE = `\nFROM a\nRUN a `\n b\n", "(from \"a\")\n(run \"a  b\")\n");
	assert_dump("# foo=bar\n# escape=`\nFROM a\nRUN a \\\n b\n",
		    "(from \"a\")\n(run \"a  b\")\n");
	assert_non_null(strstr(parse_err("# escape=`\n# escape=\\\nFROM a\n"),
			       "only one escape parser directive can be used"));
	assert_non_null(strstr(parse_err("# escape=x\nFROM a\n"), "invalid escape token 'x'"));
}

static void test_bom_is_stripped_from_first_line(void **state)
{
	(void)state;
	assert_dump("\xef\xbb\xbf# escape=`\nFROM a `\n  b\n", "(from \"a\" \"b\")\n");
}

static void test_continuations_comments_and_empty_lines(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;

	(void)state;
	df = parse_ok("FROM a\nRUN echo \\\n# a comment\n\n  hi \\\n   \\\n  there\nUSER x\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(n, 3);
	/* "   \\" is a continuation line of blanks, not an empty one: it adds its blanks. */
	assert_string_equal(ins[1].args[0], "echo   hi      there");
	assert_true(ins[1].empty_continuation);
	assert_false(ins[0].empty_continuation);
	assert_int_equal(ins[1].start_line, 2);
	assert_int_equal(ins[1].end_line, 7);
	assert_int_equal(ins[2].start_line, 8);
	bale_dockerfile_free(df);
	/* A continuation at the end of the file ends the instruction. */
	assert_dump("FROM a\nRUN x \\", "(from \"a\")\n(run \"x\")\n");
	/* An escaped escape character is not a continuation. */
	assert_dump("FROM a\nENV C x\\\\\nENV D y\n",
		    "(from \"a\")\n(env \"C\" \"x\\\\\\\\\" \"\")\n(env \"D\" \"y\" \"\")\n");
	/* CRLF line ends. */
	assert_dump("FROM a\r\nRUN b \\\r\n c\r\n", "(from \"a\")\n(run \"b  c\")\n");
}

static void test_instruction_names_in_any_case(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;

	(void)state;
	df = parse_ok("from a\nRuN b\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(ins[1].kind, BALE_INSTR_RUN);
	assert_string_equal(ins[1].name, "run");
	assert_string_equal(ins[1].keyword, "RuN");
	bale_dockerfile_free(df);
}

static void test_exec_form_and_shell_form(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;

	(void)state;
	df = parse_ok("FROM a\nCMD [\"a\", \"b\\u0000c\"]\nCMD [\"a\" , 1\nENTRYPOINT [\"x\"] y\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_true(ins[1].json);
	assert_int_equal(ins[1].nargs, 2);
	assert_int_equal(ins[1].arg_lens[1], 3);
	assert_memory_equal(ins[1].args[1], "b\0c", 3);
	assert_false(ins[2].json);
	assert_string_equal(ins[2].args[0], "[\"a\" , 1");
	assert_false(ins[3].json); /* trailing text: not JSON */
	bale_dockerfile_free(df);
	assert_dump("FROM a\nCMD [\"\\ud83d\\ude00\", \"\\ud800\"]\n",
		    "(from \"a\")\n(cmd \"\xf0\x9f\x98\x80\" \"\xef\xbf\xbd\")\n");
	assert_non_null(strstr(parse_err("FROM a\nRUN [\"a\", null]\n"), "strings only"));
}

static void test_flags_of_every_shape(void **state)
{
	(void)state;
	assert_dump("FROM --platform=$BUILDPLATFORM a AS b\n",
		    "(from [\"--platform=$BUILDPLATFORM\"] \"a\" \"AS\" \"b\")\n");
	assert_dump("FROM a\nRUN --mount=type=cache,target=/root/.cache --network=none pip "
		    "install x\n",
		    "(from \"a\")\n(run [\"--mount=type=cache,target=/root/.cache\" "
		    "\"--network=none\"] \"pip install x\")\n");
	assert_dump("FROM a\nCOPY --chown=\"a b\" --link -- --x y\n",
		    "(from \"a\")\n(copy [\"--chown=a b\" \"--link\"] \"--x\" \"y\")\n");
	/* Bytes above 0x7f in flags become Latin-1 runes, as in BuildKit. */
	assert_dump("FROM a\nCOPY --chown=\xc3\xa9 a b\n",
		    "(from \"a\")\n(copy [\"--chown=\xc3\x83\xc2\xa9\"] \"a\" \"b\")\n");
}

static void test_env_label_arg_forms(void **state)
{
	(void)state;
	assert_dump("FROM a\nENV A=1 B=\"x y\"\nENV C  d  e\nLABEL \"k\"=v\nARG X Y=1 Z=\"a b\"\n",
		    "(from \"a\")\n(env \"A\" \"1\" \"=\" \"B\" \"\\\"x y\\\"\" \"=\")\n"
		    "(env \"C\" \"d  e\" \"\")\n(label \"\\\"k\\\"\" \"v\" \"=\")\n"
		    "(arg \"X\" \"Y=1\" \"Z=\\\"a b\\\"\")\n");
}

static void test_onbuild_wraps_and_nests_with_limit(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;
	char deep[4096] = "FROM a\n";

	(void)state;
	df = parse_ok("FROM a\nONBUILD RUN echo hi\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(ins[1].kind, BALE_INSTR_ONBUILD);
	assert_non_null(ins[1].sub);
	assert_int_equal(ins[1].sub->kind, BALE_INSTR_RUN);
	assert_string_equal(ins[1].sub->args[0], "echo hi");
	bale_dockerfile_free(df);
	df = parse_ok("FROM a\nONBUILD ONBUILD ONBUILD RUN x\n");
	ins = bale_dockerfile_instructions(df, &n);
	/* Every level of the nesting carries the instruction's place. */
	for (const bale_instruction *s = &ins[1]; s; s = s->sub) {
		assert_int_equal(s->start_line, 2);
		assert_int_equal(s->end_line, 2);
		assert_int_equal(s->end_offset, ins[1].end_offset);
	}
	bale_dockerfile_free(df);
	assert_dump("FROM a\nonbuild onbuild add x y\n",
		    "(from \"a\")\n(onbuild (onbuild (add \"x\" \"y\")))\n");
	for (int i = 0; i < 100; i++)
		snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "ONBUILD ");
	snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "RUN x\n");
	assert_non_null(strstr(parse_err(deep), "Dockerfile:2:1: ONBUILD nested more than"));
}

static void test_heredocs(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;

	(void)state;
	df = parse_ok("FROM a\nRUN <<EOF\necho $HOME\n  EOF\nEOF\n"
		      "COPY <<-\"A\" /a <<B /b\n\tone\n\tA\ntwo\nB\n"
		      "RUN 3<<X cat /dev/fd/3\nx\nX\nUSER u\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(n, 5);
	assert_int_equal(ins[1].nheredocs, 1);
	assert_string_equal(ins[1].heredocs[0].name, "EOF");
	assert_string_equal(ins[1].heredocs[0].content, "echo $HOME\n  EOF\n");
	assert_true(ins[1].heredocs[0].expand);
	assert_false(ins[1].heredocs[0].chomp);
	assert_int_equal(ins[1].heredocs[0].start_line, 3);
	assert_int_equal(ins[1].heredocs[0].end_line, 5);
	assert_int_equal(ins[1].end_line, 5);
	assert_int_equal(ins[2].nheredocs, 2);
	assert_string_equal(ins[2].heredocs[0].name, "A");
	assert_false(ins[2].heredocs[0].expand);
	assert_true(ins[2].heredocs[0].chomp);
	assert_string_equal(ins[2].heredocs[0].content, "\tone\n");
	assert_string_equal(ins[2].heredocs[1].content, "two\n");
	assert_int_equal(ins[3].heredocs[0].fd, 3);
	assert_int_equal(ins[4].kind, BALE_INSTR_USER);
	assert_int_equal(ins[4].start_line, 14);
	bale_dockerfile_free(df);
	/* No heredocs in exec form or in other instructions. */
	df = parse_ok("FROM a\nRUN [\"<<EOF\"]\nLABEL a=<<EOF\n");
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(n, 3);
	assert_int_equal(ins[1].nheredocs, 0);
	bale_dockerfile_free(df);
	assert_string_equal(parse_err("FROM a\nRUN <<EOF\necho\n"),
			    "Dockerfile:2:1: unterminated heredoc 'EOF' (no line 'EOF' before "
			    "the end of the file)");
}

static void test_positions_and_source_ranges(void **state)
{
	bale_dockerfile *df;
	const bale_instruction *ins;
	size_t n;
	const char *text = "FROM a\n\n   RUN x \\\n  y\n";

	(void)state;
	df = parse_ok(text);
	ins = bale_dockerfile_instructions(df, &n);
	assert_int_equal(ins[1].start_line, 3);
	assert_int_equal(ins[1].start_col, 4);
	assert_int_equal(ins[1].end_line, 4);
	assert_int_equal(ins[1].start_offset, 8);
	assert_int_equal(ins[1].end_offset, strlen(text));
	bale_dockerfile_free(df);
}

static void test_binary_and_invalid_text_are_refused(void **state)
{
	bale_dockerfile *df = NULL;
	char *big;
	int rc;

	(void)state;
	rc = bale_dockerfile_parse(&df, "FROM a\nRUN \0x\n", 14, NULL);
	assert_int_equal(rc, BALE_EPARSE);
	assert_string_equal(bale_error_last()->message,
			    "Dockerfile:2:5: NUL byte: this is binary data, not a Dockerfile");
	assert_non_null(strstr(parse_err("FROM a\nRUN \xff\n"), "Dockerfile:2:5: invalid UTF-8"));
	big = malloc(70000);
	memcpy(big, "FROM a\nRUN ", 11);
	memset(big + 11, 'x', 70000 - 12);
	big[70000 - 1] = '\0';
	assert_non_null(strstr(parse_err(big), "Dockerfile:2:1: line is 69992 bytes long"));
	free(big);
}

static void test_first_bad_text_is_reported_where_the_parser_meets_it(void **state)
{
	bale_dockerfile *df = NULL;
	char *big;
	int rc;

	(void)state;
	/* Bad UTF-8 before a NUL on its line is the UTF-8 error; a NUL first is the NUL error. */
	rc = bale_dockerfile_parse(&df, "FROM a\nRUN \xff\0\n", 15, NULL);
	assert_int_equal(rc, BALE_EPARSE);
	assert_non_null(strstr(bale_error_last()->message, "Dockerfile:2:5: invalid UTF-8"));
	rc = bale_dockerfile_parse(&df, "FROM a\nRUN x\0\xff\n", 16, NULL);
	assert_int_equal(rc, BALE_EPARSE);
	assert_non_null(strstr(bale_error_last()->message, "Dockerfile:2:6: NUL byte"));
	/* A sequence cut by a newline or a NUL is wrong where it starts. */
	assert_non_null(strstr(parse_err("FROM a\nRUN \xe2\x82\nRUN b\n"),
			       "Dockerfile:2:5: invalid UTF-8 (byte 0xe2)"));
	rc = bale_dockerfile_parse(&df, "FROM a\nRUN \xc3\0\n", 15, NULL);
	assert_int_equal(rc, BALE_EPARSE);
	assert_non_null(strstr(bale_error_last()->message, "Dockerfile:2:5: invalid UTF-8"));
	/* A continued line carries the bad byte: its own line and column. */
	assert_non_null(strstr(parse_err("FROM a\nRUN a \\\n  b \\\n  \xff\n"),
			       "Dockerfile:4:3: invalid UTF-8 (byte 0xff)"));
	/* A problem the parser meets on an earlier line is the one reported. */
	big = malloc(70020);
	memcpy(big, "FROM a\nRUN ", 11);
	memset(big + 11, 'x', 70000 - 11);
	memcpy(big + 70000, "\nRUN \xff\n", 8);
	big[70008] = '\0';
	assert_non_null(strstr(parse_err(big), "Dockerfile:2:1: line is"));
	free(big);
}

static void test_size_limit_is_configurable(void **state)
{
	bale_dockerfile *df = NULL;
	bale_parse_opts opts = {.filename = "F", .max_size = 8};

	(void)state;
	assert_int_equal(bale_dockerfile_parse(&df, "FROM alpine\n", 12, &opts), BALE_ELIMIT);
	assert_non_null(strstr(bale_error_last()->message, "over the limit of 8 bytes"));
	opts.max_size = 12;
	assert_int_equal(bale_dockerfile_parse(&df, "FROM alpine\n", 12, &opts), 0);
	bale_dockerfile_free(df);
}

static void test_unknown_instruction_is_kept(void **state)
{
	(void)state;
	assert_dump("FROM a\nFOO --x bar\nBAZ\n",
		    "(from \"a\")\n(foo [\"--x\"] \"\")\n(baz \"\")\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conformance_parser_results_match_buildkit),
	    cmocka_unit_test(test_conformance_negative_cases_are_refused),
	    cmocka_unit_test(test_negative_messages_say_what_is_wrong),
	    cmocka_unit_test(test_directives_only_before_first_instruction),
	    cmocka_unit_test(test_bom_is_stripped_from_first_line),
	    cmocka_unit_test(test_continuations_comments_and_empty_lines),
	    cmocka_unit_test(test_instruction_names_in_any_case),
	    cmocka_unit_test(test_exec_form_and_shell_form),
	    cmocka_unit_test(test_flags_of_every_shape),
	    cmocka_unit_test(test_env_label_arg_forms),
	    cmocka_unit_test(test_onbuild_wraps_and_nests_with_limit),
	    cmocka_unit_test(test_heredocs),
	    cmocka_unit_test(test_positions_and_source_ranges),
	    cmocka_unit_test(test_binary_and_invalid_text_are_refused),
	    cmocka_unit_test(test_first_bad_text_is_reported_where_the_parser_meets_it),
	    cmocka_unit_test(test_size_limit_is_configurable),
	    cmocka_unit_test(test_unknown_instruction_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
