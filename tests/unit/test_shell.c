/*
 * Unit tests of the shell module: BuildKit's conformance data (envVarTest, wordsTest), the
 * cases of BuildKit's lex_test.go, and one group per construct, option and hostile input.
 *
 * Every word is handed to the library in a heap block of exactly its size, without a NUL, so
 * ASan catches any read past `len`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bale/shell.h"
#include "shell/shell_internal.h"
#include "util/unicode.h"
#include "util/util.h"

/* ---- An environment for the lookup callback, recording every name looked up ---- */

#define ENV_MAX 64

struct env {
	struct {
		char *name, *value;
	} vars[ENV_MAX];
	size_t n;
	bale_buf log; /* names looked up, each followed by ';' */
};

#define ENV_INIT                                                                                   \
	{                                                                                          \
		.n = 0, .log = BALE_BUF_INIT                                                       \
	}

static void env_set(struct env *e, const char *name, const char *value)
{
	assert_true(e->n < ENV_MAX);
	e->vars[e->n].name = strdup(name);
	e->vars[e->n].value = strdup(value);
	e->n++;
}

/* "NAME=VALUE" as BuildKit's test reads it; without '=' the value is empty. */
static void env_put(struct env *e, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *name = eq ? strndup(kv, (size_t)(eq - kv)) : strdup(kv);

	env_set(e, name, eq ? eq + 1 : "");
	free(name);
}

static void env_release(struct env *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->vars[i].name);
		free(e->vars[i].value);
	}
	e->n = 0;
	bale_buf_release(&e->log);
}

/* The last definition wins, as in BuildKit's BuildEnvs. */
static bool env_lookup(void *ctx, const char *name, size_t len, const char **value,
		       size_t *value_len)
{
	struct env *e = ctx;

	bale_buf_add(&e->log, name, len);
	bale_buf_addch(&e->log, ';');
	for (size_t i = e->n; i-- > 0;) {
		if (strlen(e->vars[i].name) == len && memcmp(e->vars[i].name, name, len) == 0) {
			*value = e->vars[i].value;
			*value_len = strlen(e->vars[i].value);
			return true;
		}
	}
	return false;
}

static bale_shell_opts opts_for(struct env *e)
{
	bale_shell_opts o = {.escape = '\\', .lookup = env_lookup, .lookup_ctx = e};

	return o;
}

/* ---- Calling the library on exact-size copies ---- */

static char *exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	if (len)
		memcpy(p, s, len);
	return p;
}

static int expand_n(char **out, const char *word, size_t len, const bale_shell_opts *o)
{
	char *copy = exact_copy(word, len);
	int rc = bale_shell_expand_word(out, copy, len, o);

	free(copy);
	return rc;
}

static int words_n(bale_words *out, const char *word, size_t len, const bale_shell_opts *o)
{
	char *copy = exact_copy(word, len);
	int rc = bale_shell_expand_words(out, copy, len, o);

	free(copy);
	return rc;
}

/* Expands `word` and checks the result; on failure prints the word and the error. */
static void check_word(const bale_shell_opts *o, const char *word, const char *expected)
{
	char *out = NULL;
	int rc = expand_n(&out, word, strlen(word), o);

	if (rc != 0)
		fail_msg("'%s': unexpected error %d: %s", word, rc, bale_error_last()->message);
	if (strcmp(out, expected) != 0)
		fail_msg("'%s': got '%s', want '%s'", word, out, expected);
	free(out);
}

/* Expects an error with `code` whose whole message is `message` (NULL: any message). */
static void check_error(const bale_shell_opts *o, const char *word, int code, const char *message)
{
	char *out = NULL;
	int rc = expand_n(&out, word, strlen(word), o);

	if (rc == 0)
		fail_msg("'%s': expected an error, got '%s'", word, out);
	assert_null(out);
	assert_int_equal(rc, code);
	if (message && strcmp(bale_error_last()->message, message) != 0)
		fail_msg("'%s': message '%s', want '%s'", word, bale_error_last()->message,
			 message);
}

/* Splits `word` and compares with `expected`, the words joined by '|'. */
static void check_words(const bale_shell_opts *o, const char *word, const char *expected)
{
	bale_words w = BALE_WORDS_INIT;
	bale_buf joined = BALE_BUF_INIT;
	int rc = words_n(&w, word, strlen(word), o);

	if (rc != 0)
		fail_msg("'%s': unexpected error: %s", word, bale_error_last()->message);
	for (size_t i = 0; i < w.n; i++) {
		if (i)
			bale_buf_addch(&joined, '|');
		bale_buf_adds(&joined, w.v[i]);
	}
	if (strcmp(joined.ptr, expected) != 0)
		fail_msg("'%s': got words '%s', want '%s'", word, joined.ptr, expected);
	bale_buf_release(&joined);
	bale_words_release(&w);
}

/* ---- Conformance: BuildKit's envVarTest and wordsTest ---- */

/* Go's strings.TrimSpace. */
static void trim_space(const char **s, size_t *len)
{
	size_t lead = bale_unicode_space_prefix(*s, *len);

	*s += lead;
	*len = bale_unicode_trim_right(*s, *len - lead);
}

static void read_data(bale_buf *buf, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/buildkit-dockerfile/shell/%s", BALE_CONFORMANCE_DIR, name);
	if (bale_read_file(buf, path, 1 << 20) != 0)
		fail_msg("conformance data missing: %s", bale_error_last()->message);
}

/* Splits buf into lines as bufio.ScanLines does (a trailing \r is dropped). */
static bool next_line(const bale_buf *buf, size_t *at, const char **line, size_t *len)
{
	const char *nl;

	if (*at >= buf->len)
		return false;
	*line = buf->ptr + *at;
	nl = memchr(*line, '\n', buf->len - *at);
	*len = nl ? (size_t)(nl - *line) : buf->len - *at;
	*at += *len + (nl ? 1 : 0);
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return true;
}

static void test_conformance_env_var(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	bale_buf data = BALE_BUF_INIT;
	const char *line;
	size_t at = 0, len, lineno = 0, exist = 0, ran = 0, windows = 0, failed = 0;

	(void)state;
	env_set(&e, "PWD", "/home");
	env_set(&e, "SHELL", "bash");
	env_set(&e, "KOREAN", "한국어");
	env_set(&e, "NULL", "");
	read_data(&data, "envVarTest");
	/* The cases that exist, counted apart from the loop that runs them. */
	for (size_t i = 0; i + 1 < data.len; i++)
		if ((i == 0 || data.ptr[i - 1] == '\n') &&
		    (data.ptr[i] == 'A' || data.ptr[i] == 'U') && data.ptr[i + 1] == '|')
			exist++;
	while (next_line(&data, &at, &line, &len)) {
		const char *part[3], *bar;
		size_t plen[3], nparts = 0;
		char *input, *expected, *out = NULL;
		int rc;

		lineno++;
		if (len && line[0] == '#')
			continue;
		trim_space(&line, &len);
		if (!len)
			continue;
		while (nparts < 3) {
			bar = memchr(line, '|', len);
			part[nparts] = line;
			plen[nparts] = bar ? (size_t)(bar - line) : len;
			nparts++;
			if (!bar)
				break;
			len -= (size_t)(bar - line) + 1;
			line = bar + 1;
		}
		if (nparts != 3 || memchr(part[2], '|', plen[2]))
			fail_msg("envVarTest:%zu: malformed line", lineno);
		for (int k = 0; k < 3; k++)
			trim_space(&part[k], &plen[k]);
		if (plen[0] == 1 && part[0][0] == 'W') {
			windows++;
			continue;
		}
		if (plen[0] != 1 || (part[0][0] != 'A' && part[0][0] != 'U'))
			fail_msg("envVarTest:%zu: bad platform", lineno);
		input = strndup(part[1], plen[1]);
		expected = strndup(part[2], plen[2]);
		rc = expand_n(&out, input, plen[1], &o);
		ran++;
		if (strcmp(expected, "error") == 0) {
			if (rc == 0) {
				print_error("envVarTest:%zu: '%s' gave '%s', want an error\n",
					    lineno, input, out);
				failed++;
			} else if (rc != BALE_EPARSE) {
				print_error("envVarTest:%zu: '%s': code %d\n", lineno, input, rc);
				failed++;
			}
		} else if (rc != 0) {
			print_error("envVarTest:%zu: '%s': %s\n", lineno, input,
				    bale_error_last()->message);
			failed++;
		} else if (strcmp(out, expected) != 0) {
			print_error("envVarTest:%zu: '%s' gave '%s', want '%s'\n", lineno, input,
				    out, expected);
			failed++;
		}
		free(out);
		free(input);
		free(expected);
	}
	print_message("envVarTest: %zu cases ran, %zu failed (%zu Windows-only not run)\n", ran,
		      failed, windows);
	assert_int_equal(failed, 0);
	assert_true(exist >= 200); /* the file is not truncated */
	assert_int_equal(ran, exist);
	bale_buf_release(&data);
	env_release(&e);
}

static void test_conformance_words(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	bale_buf data = BALE_BUF_INIT;
	const char *line;
	size_t at = 0, len, lineno = 0, exist = 0, ran = 0, failed = 0;

	(void)state;
	read_data(&data, "wordsTest");
	for (size_t i = 0; i < data.len; i++)
		if (data.ptr[i] == '|')
			exist++;
	while (next_line(&data, &at, &line, &len)) {
		const char *bar, *input, *want;
		size_t ilen, wlen;
		bale_words words = BALE_WORDS_INIT;
		bale_buf got = BALE_BUF_INIT;
		char *copy;
		int rc;

		lineno++;
		if (!len || line[0] == '#')
			continue;
		if (len > 4 && memcmp(line, "ENV ", 4) == 0) {
			/* strings.TrimLeft(line[3:], " "): trailing spaces of the value stay. */
			size_t k = 3;
			char *kv;

			while (k < len && line[k] == ' ')
				k++;
			kv = strndup(line + k, len - k);
			env_put(&e, kv);
			free(kv);
			continue;
		}
		bar = memchr(line, '|', len);
		if (!bar || memchr(bar + 1, '|', len - (size_t)(bar + 1 - line)))
			fail_msg("wordsTest:%zu: malformed line", lineno);
		input = line;
		ilen = (size_t)(bar - line);
		trim_space(&input, &ilen);
		want = bar + 1;
		wlen = len - (size_t)(want - line);
		while (wlen && *want == ' ') {
			want++;
			wlen--;
		}
		copy = strndup(want, wlen);
		rc = words_n(&words, input, ilen, &o);
		ran++;
		if (rc != 0) {
			bale_buf_adds(&got, "error");
		} else {
			for (size_t i = 0; i < words.n; i++) {
				if (i)
					bale_buf_addch(&got, ',');
				bale_buf_adds(&got, words.v[i]);
			}
		}
		if (strcmp(got.ptr, copy) != 0) {
			print_error("wordsTest:%zu: '%.*s' gave '%s', want '%s'\n", lineno,
				    (int)ilen, input, got.ptr, copy);
			failed++;
		}
		free(copy);
		bale_buf_release(&got);
		bale_words_release(&words);
	}
	print_message("wordsTest: %zu cases ran, %zu failed\n", ran, failed);
	assert_int_equal(failed, 0);
	assert_true(exist >= 20); /* the file is not truncated */
	assert_int_equal(ran, exist);
	bale_buf_release(&data);
	env_release(&e);
}

/* ---- Quotes and escapes ---- */

static void test_quotes_and_escapes(void **state)
{
	(void)state;
	check_word(NULL, "", "");
	check_word(NULL, "plain/word", "plain/word");
	check_word(NULL, "'a b'\"c d\"", "a bc d");
	check_word(NULL, "'$X \\n'", "$X \\n");
	check_word(NULL, "\"'$X'\"", "''");
	/* Inside double quotes the escape only escapes " $ and itself. */
	check_word(NULL, "\"\\\"\\$\\\\\\a\"", "\"$\\\\a");
	check_word(NULL, "a\\ b\\$c\\'d", "a b$c'd");
	check_word(NULL, "tail\\", "tail");
	check_word(NULL, "\"\"", "");
	check_error(NULL, "'open", BALE_EPARSE,
		    "failed to process \"'open\": unexpected end of statement while looking for "
		    "matching single-quote");
	check_error(NULL, "\"open\\\"", BALE_EPARSE,
		    "failed to process \"\\\"open\\\\\\\"\": unexpected end of statement while "
		    "looking for matching double-quote");
	/* A '}' outside ${...} is plain text; a '$' before a non-name rune is kept. */
	check_word(NULL, "}{$.$ $", "}{$.$ $");
}

static void test_backtick_escape(void **state)
{
	bale_shell_opts o = {.escape = '`'};

	(void)state;
	check_word(&o, "C:\\path\\to", "C:\\path\\to");
	check_word(&o, "a`$b`'c", "a$b'c");
	check_word(&o, "\"a`\"b`$c``d`e\"", "a\"b$c`d`e");
	check_word(&o, "\"\\\"", "\\");
	check_word(&o, "x`", "x");
	check_words(&o, "a` b c", "a b|c");
}

static void test_bad_escape_option(void **state)
{
	bale_shell_opts o = {.escape = '%'};
	char *out = (char *)1;

	(void)state;
	assert_int_equal(bale_shell_expand_word(&out, "x", 1, &o), BALE_EINVAL);
}

static void test_raw_quotes(void **state)
{
	bale_shell_opts o = {.raw_quotes = true};

	(void)state;
	check_word(&o, "'a b'\"c$X\"d", "'a b'\"c\"d");
	check_words(&o, "'a b' \"\" c", "'a b'|\"\"|c");
	check_error(&o, "'a", BALE_EPARSE, NULL);
}

static void test_raw_escapes(void **state)
{
	bale_shell_opts o = {.raw_escapes = true};

	(void)state;
	check_word(&o, "a\\ b\\$c", "a\\ b\\$c");
	/* Before a rune it does not escape, BuildKit writes the escape twice in raw mode. */
	check_word(&o, "\"\\a\\\"\"", "\\\\a\\\"");
	check_word(&o, "end\\", "end\\");
	/* The inner word of ${V:-w} drops escapes even in raw mode; a pattern keeps them. */
	check_word(&o, "${V:-a\\b}", "ab");
	check_words(&o, "a\\ b c", "a\\ b|c");
}

static void test_skip_unset(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	o.skip_unset = true;
	env_set(&e, "SET", "v");
	env_set(&e, "EMPTY", "");
	check_word(&o, "$X ${X} $1 $@", "$X ${X} $1 $@");
	check_word(&o, "$SET${SET}$EMPTY", "vv");
	check_word(&o, "${X:-a$SET}|${X-b}|${X:+c}|${X?d}", "${X:-av}|${X-b}|${X:+c}|${X?d}");
	check_word(&o, "${X#\\*a}|${X%%b*}", "${X#\\*a}|${X%%b*}");
	/* BuildKit rebuilds ${X//p/r} with one slash. */
	check_word(&o, "${X//a/b}|${X/c/d}", "${X/a/b}|${X/c/d}");
	/* An unsupported modifier on an unset variable is rebuilt, not an error. */
	check_word(&o, "${X:=a}", "${X:=a}");
	check_error(&o, "${SET:=a}", BALE_EPARSE, NULL);
	check_word(&o, "${SET:-x}${EMPTY:-y}", "vy");
	check_words(&o, "$X ${Y:-a b}", "$X|${Y:-a|b}");
	env_release(&e);
}

/* ---- Parameters ---- */

static void test_lookup_sees_each_name(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "한국어", "k");
	check_word(&o, "${A:-$B}${C#$D}$한국어${E/$F/$G}", "k");
	/* Inner words are evaluated before the variable, as BuildKit does. */
	assert_string_equal(e.log.ptr, "B;A;D;C;한국어;F;G;E;");
	bale_buf_reset(&e.log);
	/* Positional and special parameters are looked up like any name. */
	check_word(&o, "$1$12x$@$*$#$?$-$$$!$0${+w}", "x");
	assert_string_equal(e.log.ptr, "1;12;@;*;#;?;-;$;!;0;;");
	bale_buf_reset(&e.log);
	check_word(&o, "$_a1 $a.b", " .b");
	assert_string_equal(e.log.ptr, "_a1;a;");
	bale_buf_reset(&e.log);
	/* Names, not the quoted or escaped look-alikes. */
	check_word(&o, "'$A'\\$B\"$C\"", "$A$B");
	assert_string_equal(e.log.ptr, "C;");
	env_release(&e);
}

static void test_default_alternative_and_required(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "FOO", "xxx");
	env_set(&e, "BAR", "");
	check_word(&o, "${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", "xxx  ccc");
	check_word(&o, "${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", "xxx bbb ccc");
	check_word(&o, "${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", "aaa bbb ");
	check_word(&o, "${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", "aaa  ");
	check_word(&o, "${FOO?aaa}|${BAR?bbb}|${FOO:?ccc}", "xxx||xxx");
	check_word(&o, "${FOO:-}${BAZ:-}", "xxx");
	check_word(&o, "${BAZ:-${BAR:-${FOO}}}", "xxx");
	check_error(&o, "${BAZ?ccc}", BALE_EPARSE, "failed to process \"${BAZ?ccc}\": BAZ: ccc");
	check_error(&o, "${BAR:?bbb $FOO}", BALE_EPARSE,
		    "failed to process \"${BAR:?bbb $FOO}\": BAR: bbb xxx");
	check_error(&o, "${BAZ:?}", BALE_EPARSE,
		    "failed to process \"${BAZ:?}\": BAZ: is not allowed to be unset");
	check_error(&o, "${BAR:?}", BALE_EPARSE,
		    "failed to process \"${BAR:?}\": BAR: is not allowed to be empty");
	/* The inner word is evaluated even when it is not used. */
	check_error(&o, "${FOO:-${BAZ:?}}", BALE_EPARSE,
		    "failed to process \"${FOO:-${BAZ:?}}\": BAZ: is not allowed to be unset");
	/* BuildKit's platform example. */
	env_release(&e);
	env_set(&e, "VERSION", "v1.2.3");
	env_set(&e, "TARGETOS", "linux");
	env_set(&e, "TARGETARCH", "arm");
	env_set(&e, "TARGETVARIANT", "v7");
	check_word(
	    &o,
	    "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}"
	    ".tar.gz",
	    "something-v1.2.3.linux-arm-v7.tar.gz");
	env_release(&e);
}

static void test_bad_substitutions(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "PWD", "/home");
	check_error(&o, "${}", BALE_EPARSE,
		    "failed to process \"${}\": syntax error: bad substitution");
	check_error(&o, "${:-x}", BALE_EPARSE, NULL);
	check_error(&o, "${{x}", BALE_EPARSE, NULL);
	check_error(&o, "${.}", BALE_EPARSE,
		    "failed to process \"${.}\": unsupported modifier (.) in substitution");
	check_error(&o, "${XXX:YYY}", BALE_EPARSE,
		    "failed to process \"${XXX:YYY}\": unsupported modifier (:Y) in substitution");
	check_error(&o, "${PWD:=x}", BALE_EPARSE,
		    "failed to process \"${PWD:=x}\": unsupported modifier (:=) in substitution");
	check_error(&o, "${PWD=x}", BALE_EPARSE, NULL);
	check_error(&o, "${PWD:#x}", BALE_EPARSE,
		    "failed to process \"${PWD:#x}\": unsupported modifier (:#) in substitution");
	/* Go's string(EOF) is U+FFFD. */
	check_error(&o, "${abc", BALE_EPARSE,
		    "failed to process \"${abc\": unsupported modifier (\xef\xbf\xbd) in "
		    "substitution");
	check_error(&o, "${", BALE_EPARSE, "failed to process \"${\": syntax error: missing '}'");
	check_error(&o, "${a:-x", BALE_EPARSE,
		    "failed to process \"${a:-x\": syntax error: missing '}'");
	/* An inner error at the end of input is reported as the missing brace. */
	check_error(&o, "${a:-'x}", BALE_EPARSE,
		    "failed to process \"${a:-'x}\": syntax error: missing '}'");
	check_error(&o, "${a:-${b:?}", BALE_EPARSE,
		    "failed to process \"${a:-${b:?}\": syntax error: missing '}'");
	check_error(&o, "${a:-${}}", BALE_EPARSE,
		    "failed to process \"${a:-${}}\": syntax error: bad substitution");
	check_error(&o, "${a/x", BALE_EPARSE,
		    "failed to process \"${a/x\": syntax error: missing '/' in ${}");
	check_error(&o, "${a/x/y", BALE_EPARSE,
		    "failed to process \"${a/x/y\": syntax error: missing '}'");
	check_error(&o, "${PWD//}", BALE_EPARSE, NULL);
	check_error(&o, "${PWD//ww}", BALE_EPARSE, NULL);
	/* Oddities that BuildKit accepts. */
	check_word(&o, "${+x}${%y}${/a/b}", "");
	check_word(&o, "${PWD///}|${NOPE///}", "/home|");
	env_release(&e);
}

/* ---- Patterns ---- */

static void test_patterns_from_buildkit(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "FOO", "()[]{}^$.*?|\\x");
	check_word(&o, "${FOO#()[]{\\}^$.\\*\\?|\\\\}", "x");
	env_set(&e, "FOO", "xx**");
	check_word(&o, "${FOO%%\\**}", "xx");
	env_set(&e, "FOO", "xxyy");
	env_set(&e, "BAR", "x");
	check_word(&o, "${FOO#*x*y}|${FOO#*}|${FOO#$BAR}|${FOO#}|${FOO##*x}|${FOO##}",
		   "y|xxyy|xyy|xxyy|yy|xxyy");
	check_word(&o, "${ABC:-.}${FOO%x}${ABC:-.}", ".xxyy.");
	check_word(&o, "${FOO%}", "xxyy");
	env_set(&e, "BAR", "");
	check_word(&o, "${FOO#$BAR}|${FOO%%$BAR}|${FOO/$BAR/ww}", "xxyy|xxyy|wwxxyy");
	env_set(&e, "FOO", "???y");
	check_word(&o, "${FOO#?\\?}", "?y");
	env_set(&e, "FOO", "a***yy*");
	check_word(&o, "${FOO%%\\**\\*}", "a");
	env_set(&e, "FOO", "/foo*/*/*.txt");
	env_set(&e, "NEEDLE", "\\*/");
	check_word(&o, "${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", "/foo.*/*.txt - /foo..*.txt");
	env_set(&e, "FOO", "/tmp/tmp/bar.txt");
	env_set(&e, "NEEDLE", "/tmp");
	check_word(&o, "${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", "/tmp/bar.txt - /bar.txt");
	env_set(&e, "FOO", "/a/foo/b/c.txt");
	env_set(&e, "NEEDLE", "/?/");
	env_set(&e, "REPLACEMENT", "/");
	check_word(&o, "${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}",
		   "/foo/b/c.txt - /foo/c.txt");
	env_set(&e, "FOO", "http://google.de");
	env_set(&e, "NEEDLE", "http://");
	env_set(&e, "REPLACEMENT", "https://");
	check_word(&o, "${FOO/$NEEDLE/$REPLACEMENT}", "https://google.de");
	env_set(&e, "FOO", "/tmp/foo.txt");
	check_word(&o, "${FOO//\\//\\/}", "\\/tmp\\/foo.txt");
	env_release(&e);
}

static void test_pattern_longest_and_shortest(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "V", "a.b.c");
	check_word(&o, "${V#*.}|${V##*.}|${V%.*}|${V%%.*}", "b.c|c|a.b|a");
	check_word(&o, "${V#a}|${V#b}|${V%c}|${V%b}|${V%?}|${V#?}",
		   ".b.c|a.b.c|a.b.|a.b.c|a.b.|.b.c");
	env_set(&e, "V", "xaybxayb");
	check_word(&o, "${V#*a*b}|${V##*a*b}|${V%a*b}|${V%%a*b}", "xayb||xaybx|x");
	/* / and // replace the leftmost, longest match. */
	check_word(&o, "${V/a*b/-}|${V//a?b/-}|${V//x/}", "x-|x-x-|aybayb");
	env_set(&e, "V", "foo.boo");
	check_word(&o, "${V//o/0}|${V/o/0}|${V//[o]/0}", "f00.b00|f0o.boo|foo.boo");
	env_release(&e);
}

static void test_pattern_classes_are_literal(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	/* BuildKit escapes '[' for its regexp: bracket expressions are plain text. */
	env_set(&e, "V", "[a-z]x");
	check_word(&o, "${V#[a-z]}|${V%x}|${V/[a-z]/Y}", "x|[a-z]|Yx");
	env_set(&e, "V", "abc");
	check_word(&o, "${V#[a-z]}|${V//[!x]/Y}", "abc|abc");
	env_set(&e, "V", "[!x]y");
	check_word(&o, "${V#[!x]}|${V#[!x]?}", "y|");
	env_set(&e, "V", "a(b)+c|d^e$f.g{h}");
	check_word(&o, "${V#'a(b)+c|d^e$f.g{h'\\}}|${V//./-}|${V/b)+/X}",
		   "|a(b)+c|d^e$f-g{h}|a(Xc|d^e$f.g{h}");
	env_release(&e);
}

static void test_pattern_escapes(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "V", "*a?b\\c");
	check_word(&o, "${V#\\*}|${V#*\\?}|${V%\\\\c}|${V#?a\\?}", "a?b\\c|b\\c|*a?b|b\\c");
	check_error(&o, "${V#\\a}", BALE_EPARSE,
		    "failed to process \"${V#\\\\a}\": invalid pattern (\\a) in substitution: "
		    "invalid escape '\\a'");
	/* ${V%p} reverses the pattern first, and BuildKit's message shows it reversed. */
	check_error(&o, "${V%a\\x}", BALE_EPARSE,
		    "failed to process \"${V%a\\\\x}\": invalid pattern (\\xa) in substitution: "
		    "invalid escape '\\x'");
	check_error(&o, "${V/\\n/x}", BALE_EPARSE,
		    "failed to process \"${V/\\\\n/x}\": invalid pattern (\\n) in substitution: "
		    "invalid escape '\\n'");
	/* A lone trailing backslash can only come from a variable. */
	env_set(&e, "P", "c\\");
	check_error(&o, "${V#$P}", BALE_EPARSE,
		    "failed to process \"${V#$P}\": invalid pattern (c\\) in substitution: invalid "
		    "escape '\\\xef\xbf\xbd'");
	/* \} and \/ are for ${...}: the pattern sees } and /. */
	env_set(&e, "V", "a}b/c");
	check_word(&o, "${V#a\\}}|${V/\\//-}|${V//\\}/+}", "b/c|a}b-c|a+b/c");
	env_release(&e);
}

static void test_pattern_empty(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "V", "ab");
	env_set(&e, "E", "");
	check_word(&o, "${V#}|${V##}|${V%}|${V%%}|${V/$E/-}", "ab|ab|ab|ab|-ab");
	/* Go's ReplaceAll: an empty match next to the previous match is not replaced. */
	check_word(&o, "${V//$E/-}|${V//*/-}|${E//*/-}|${E//$E/-}", "-a-b-|-|-|-");
	check_word(&o, "${E#*}|${E%%*}|${NOPE#x}|${NOPE/x/y}", "|||");
	env_release(&e);
}

static void test_pattern_newlines(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	/* `*` and `?` are Go's `.`: they never match a newline. */
	env_set(&e, "V", "a\nb");
	env_set(&e, "NL", "\n");
	check_word(&o, "${V#*b}|${V#a?}|${V##*}|${V%%*}", "a\nb|a\nb|\nb|a\n");
	check_word(&o, "${V//*/X}|${V//?/X}", "X\nX|X\nX");
	check_word(&o, "${V#*$NL}|${V%$NL*}|${V/$NL/+}|${V/a*$NL*b/+}", "b|a|a+b|+");
	env_set(&e, "V", "x1\nx2\nx3");
	/* %% and ## are not the shell's longest either: the star stops at a newline. */
	check_word(&o, "${V/*2/-}|${V//x*/-}|${V%%$NL*}|${V##*$NL}",
		   "x1\n-\nx3|-\n-\n-|x1\nx2|x2\nx3");
	env_release(&e);
}

static void test_replacement_template(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "V", "abc");
	/* Go's ReplaceAllString expands $0 and ${0} (the match) and $$; single replace does not. */
	check_word(&o, "${V//b/'[$0]'}|${V//b/'<${0}>'}|${V//b/'$$'}|${V//b/'$1$x${y}'}",
		   "a[b]c|a<b>c|a$c|ac");
	check_word(&o, "${V//b/'$'}|${V//b/'${0'}|${V//b/'$.'}|${V/b/'$0'}", "a$c|a${0c|a$.c|a$0c");
	check_word(&o, "${V//b/\\$0}", "a\\bc");
	env_release(&e);
}

static void test_utf8(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	char *out = NULL;

	(void)state;
	env_set(&e, "V", "한국어입니다");
	check_word(&o, "${V#?}|${V%?}|${V%%입*}|${V#한?}|${V/국/X}|${V//?/.}",
		   "국어입니다|한국어입니|한국어|어입니다|한X어입니다|......");
	check_word(&o, "안녕 ${V:+세상}", "안녕 세상");
	/* Bytes that are not UTF-8 read as U+FFFD, as Go's scanner reads them. */
	check_word(NULL, "a\xff'\xfe'\"\xc3\"", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check_word(NULL, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Values are copied as they are, but ${V%p} goes through []rune in BuildKit. */
	env_set(&e, "B",
		"a\xff"
		"b");
	check_word(&o, "$B|${B#a}|${B%b}|${B/a/-}",
		   "a\xff"
		   "b|\xff"
		   "b|a\xef\xbf\xbd|-\xff"
		   "b");
	check_words(&o, "$B",
		    "a\xef\xbf\xbd"
		    "b");
	/* A BOM is skipped at the start of the word only. */
	check_word(NULL, "\xef\xbb\xbfx\xef\xbb\xbfy", "x\xef\xbb\xbfy");
	/* Unicode letters and digits make names. */
	env_set(&e, "été", "summer");
	check_word(&o, "$été.${été}", "summer.summer");
	check_word(&o, "$\xd9\xa3x", "x"); /* ARABIC-INDIC DIGIT THREE is a positional */
	assert_string_equal(e.log.ptr + e.log.len - 3, "\xd9\xa3;");
	/* An embedded NUL is a character like any other. */
	assert_int_equal(expand_n(&out, "a\0b", 3, NULL), 0);
	assert_memory_equal(out, "a\0b", 4);
	free(out);
	env_release(&e);
}

/* ---- Field splitting ---- */

static void test_words(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	bale_words w = BALE_WORDS_INIT;

	(void)state;
	env_set(&e, "SP", "x  y");
	env_set(&e, "ONE", " ");
	env_set(&e, "U",
		"a\xe3\x80\x80"
		"b");
	check_words(&o, "a  b\tc\n", "a|b|c");
	check_words(&o, "", "");
	check_words(&o, "   ", "");
	/* As in BuildKit, empty quoted strings make no word. */
	check_words(&o, "a \"\" '' b", "a|b");
	check_words(&o, "a\\ b \"c d\" 'e f'", "a b|c d|e f");
	check_words(&o, "$SP \"$SP\" x${ONE}y", "x|y|x  y|x|y");
	check_words(&o,
		    "$U a\xc2\xa0"
		    "b",
		    "a|b|a|b");
	/* The result of ${V:-w} splits even if w was quoted: it is a $ expansion. */
	check_words(&o, "${NOPE:-\"a b\"} c", "a|b|c");
	check_words(&o, "pre${NOPE:-foo}post q", "prefoopost|q");
	check_words(&o, "\"$NOPE\"x $NOPE", "x");
	/* Words are appended; on error the list is left as it was. */
	assert_int_equal(words_n(&w, "a b", 3, &o), 0);
	assert_int_equal(words_n(&w, "c d 'e", 6, &o), BALE_EPARSE);
	assert_int_equal(w.n, 2);
	assert_int_equal(words_n(&w, "c", 1, &o), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.v[2], "c");
	bale_words_release(&w);
	assert_null(w.v);
	env_release(&e);
}

/* ---- Hostile input ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * times + tl + 1);

	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * times, tail, tl + 1);
	return s;
}

static void test_deep_nesting_is_bounded(void **state)
{
	bale_shell_opts o = {0};
	bale_buf word = BALE_BUF_INIT;
	char *out = NULL;
	int rc;

	(void)state;
	/* Exactly the limit works. */
	for (int i = 0; i < BALE_SHELL_MAX_DEPTH; i++)
		bale_buf_adds(&word, "${a:-");
	bale_buf_addch(&word, 'x');
	for (int i = 0; i < BALE_SHELL_MAX_DEPTH; i++)
		bale_buf_addch(&word, '}');
	check_word(&o, word.ptr, "x");
	bale_buf_reset(&word);
	/* Thousands deep: a clear error, not a crash. */
	for (int i = 0; i < 5000; i++)
		bale_buf_adds(&word, i % 2 ? "${a:-" : "\"${b#");
	rc = expand_n(&out, word.ptr, word.len, &o);
	assert_int_equal(rc, BALE_ELIMIT);
	assert_non_null(strstr(bale_error_last()->message, "nested deeper than 100 levels"));
	/* The quoted word in the message is cut short. */
	assert_true(strlen(bale_error_last()->message) < 2048);
	bale_buf_release(&word);
}

static void check_fast(const char *what, const char *word, size_t len, const bale_shell_opts *o,
		       size_t want_len)
{
	char *out = NULL;
	double t0 = now(), dt;
	int rc = expand_n(&out, word, len, o);

	dt = now() - t0;
	if (rc != 0)
		fail_msg("%s: %s", what, bale_error_last()->message);
	print_message("%-40s %8zu bytes -> %8zu in %.3f s\n", what, len, strlen(out), dt);
	assert_int_equal(strlen(out), want_len);
	assert_true(dt < 1.0);
	free(out);
}

static void test_long_words_are_linear(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	size_t mb = 1 << 20;
	char *w, *a = repeat("a", mb, ""), *lines = repeat("ab\n", mb / 3, "");

	(void)state;
	env_set(&e, "A", "xy");
	env_set(&e, "BIG", a);
	env_set(&e, "LINES", lines);
	w = repeat("p", mb, "");
	check_fast("1 MB plain word", w, mb, &o, mb);
	free(w);
	w = repeat("é", mb / 2, "");
	check_fast("1 MB of é", w, mb, &o, mb);
	free(w);
	w = repeat("$A", mb / 2, "");
	check_fast("512K references", w, mb, &o, mb);
	free(w);
	w = repeat("'q'\\ \"$A\"", mb / 11, "");
	check_fast("quotes and escapes", w, strlen(w), &o, (mb / 11) * 4);
	free(w);
	/* Long patterns against a long value: KMP and the line-stretch skip keep these linear. */
	w = repeat("a", mb, "b}");
	memcpy(w, "${BIG#", 6);
	check_fast("${BIG#aaaa...b} (1 MB pattern)", w, strlen(w), &o, mb);
	w[5] = '%';
	check_fast("${BIG%aaaa...b}", w, strlen(w), &o, mb);
	free(w);
	check_fast("${BIG#*b}", "${BIG#*b}", 9, &o, mb);
	check_fast("${BIG%%*b}", "${BIG%%*b}", 10, &o, mb);
	check_fast("${BIG/a*b/x}", "${BIG/a*b/x}", 12, &o, mb);
	check_fast("${BIG//*b/x}", "${BIG//*b/x}", 12, &o, mb);
	check_fast("${BIG//a/bc}", "${BIG//a/bc}", 12, &o, 2 * mb);
	check_fast("${BIG//a*a*a*a*c/x}", "${BIG//a*a*a*a*c/x}", 19, &o, mb);
	check_fast("${BIG##a*a*a*a*}", "${BIG##a*a*a*a*}", 16, &o, 0);
	w = repeat("a", 4096, "c/x}");
	memcpy(w, "${BIG//*", 8);
	check_fast("${BIG//*aaaa...c/x} (4 KB pattern)", w, strlen(w), &o, mb);
	free(w);
	check_fast("${LINES//a*b/x}", "${LINES//a*b/x}", 15, &o, (mb / 3) * 2);
	check_fast("${LINES//*/x}", "${LINES//*/x}", 13, &o, (mb / 3) * 2 + 1);
	check_fast("${LINES%%b*}", "${LINES%%b*}", 12, &o, (mb / 3) * 3);
	free(a);
	free(lines);
	env_release(&e);
}

static void test_result_size_is_capped(void **state)
{
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);
	char *kb = repeat("k", 1000, ""), *two = repeat("k", 2000, ""), *out = NULL;

	(void)state;
	env_set(&e, "K", kb);
	o.max_len = 2500;
	check_word(&o, "$K$K", two);
	assert_int_equal(expand_n(&out, "$K$K$K", 6, &o), BALE_ELIMIT);
	assert_non_null(strstr(bale_error_last()->message, "exceeds the limit of 2500 bytes"));
	assert_int_equal(expand_n(&out, "${K//k/kkk}", 11, &o), BALE_ELIMIT);
	assert_null(out);
	free(kb);
	free(two);
	env_release(&e);
}

/*
 * bale_shell_expand_names() looks up what expansion looks up, in the same order, and fails
 * where it fails: nested words, patterns, quotes, escapes, raw modes and the size cap.
 */
static void test_names_only_matches_expansion(void **state)
{
	static const char *const words[] = {
	    "plain",	"$A",		"${A}x$B",	 "'$A'\"$B\"",
	    "\\$A$",	"${A:-$B}",	"${U-${V:+$A}}", "${A#$B}",
	    "${K%%k*}", "${K//k/$A}",	"${U:?$B}",	 "${A:?}",
	    "${U",	"'open",	"\"$A",		 "${A/",
	    "$A$K$K$K", "${U:-$K$K}$K", "x${K#}${K}",	 "${A:+\"$K$K\"}"};
	char *kb = repeat("k", 1000, "");
	bale_buf work = BALE_BUF_INIT;

	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			struct env full = ENV_INIT, names = ENV_INIT;
			bale_shell_opts fo = opts_for(&full), no = opts_for(&names);
			char *out = NULL, *w = exact_copy(words[i], strlen(words[i]));
			int frc, nrc;

			env_set(&full, "A", "a");
			env_set(&full, "K", kb);
			env_set(&names, "A", "a");
			env_set(&names, "K", kb);
			fo.max_len = no.max_len = 2500;
			fo.raw_quotes = no.raw_quotes = mode == 1;
			fo.raw_escapes = no.raw_escapes = mode == 2;
			frc = bale_shell_expand_word(&out, w, strlen(words[i]), &fo);
			nrc = bale_shell_expand_names(&work, w, strlen(words[i]), &no);
			assert_int_equal(frc, nrc);
			assert_int_equal(full.log.len, names.log.len);
			assert_memory_equal(full.log.ptr, names.log.ptr, full.log.len);
			free(out);
			free(w);
			env_release(&full);
			env_release(&names);
		}
	}
	bale_buf_release(&work);
	free(kb);
}

static void test_no_read_past_len(void **state)
{
	static const char *const words[] = {
	    "$",      "${",  "${a",  "${a:",	 "${a:-",    "${a/",	"${a//",
	    "${a/b/", "'",   "\"",   "\\",	 "\"\\",     "\"$",	"$é",
	    "${a#\\", "é",   "\xc3", "\xe2\x82", "\xef\xbb", "${a%\\}", "${a/\\/",
	    "$1",     "${1", "${@",  "\"${a}",	 "${a?",     "${a:?",
	};
	struct env e = ENV_INIT;
	bale_shell_opts o = opts_for(&e);

	(void)state;
	env_set(&e, "a", "\\xyz");
	/* Every prefix of every word, each in an exact-size block (ASan checks the reads). */
	for (size_t i = 0; i < BALE_ARRAY_SIZE(words); i++) {
		size_t len = strlen(words[i]);

		for (size_t n = 0; n <= len; n++) {
			for (int mode = 0; mode < 4; mode++) {
				bale_words w = BALE_WORDS_INIT;
				char *out = NULL;

				o.raw_quotes = mode & 1;
				o.skip_unset = mode & 2;
				if (expand_n(&out, words[i], n, &o) == 0)
					free(out);
				words_n(&w, words[i], n, &o);
				bale_words_release(&w);
			}
		}
	}
	env_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conformance_env_var),
	    cmocka_unit_test(test_conformance_words),
	    cmocka_unit_test(test_quotes_and_escapes),
	    cmocka_unit_test(test_backtick_escape),
	    cmocka_unit_test(test_bad_escape_option),
	    cmocka_unit_test(test_raw_quotes),
	    cmocka_unit_test(test_raw_escapes),
	    cmocka_unit_test(test_skip_unset),
	    cmocka_unit_test(test_lookup_sees_each_name),
	    cmocka_unit_test(test_default_alternative_and_required),
	    cmocka_unit_test(test_bad_substitutions),
	    cmocka_unit_test(test_patterns_from_buildkit),
	    cmocka_unit_test(test_pattern_longest_and_shortest),
	    cmocka_unit_test(test_pattern_classes_are_literal),
	    cmocka_unit_test(test_pattern_escapes),
	    cmocka_unit_test(test_pattern_empty),
	    cmocka_unit_test(test_pattern_newlines),
	    cmocka_unit_test(test_replacement_template),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_words),
	    cmocka_unit_test(test_deep_nesting_is_bounded),
	    cmocka_unit_test(test_long_words_are_linear),
	    cmocka_unit_test(test_result_size_is_capped),
	    cmocka_unit_test(test_names_only_matches_expansion),
	    cmocka_unit_test(test_no_read_past_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
