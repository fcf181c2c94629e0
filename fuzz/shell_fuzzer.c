/*
 * Fuzz target for word expansion (include/bale/shell.h).
 *
 * Input: one byte of options, then the word. The low bits of the first byte choose the escape
 * (1: backtick), raw_quotes (2), raw_escapes (4), skip_unset (8) and a 4 KiB max_len (16, else
 * 1 MiB), so a seed reads as text: "@..." is the defaults, "A..." the backtick escape, "H..."
 * skip_unset, "P..." the small cap.
 * Both entry points run on the word in an exact-size copy, against a small fixed environment
 * whose values hold pattern characters, white space, newlines and bytes that are not UTF-8.
 *
 * Besides the sanitizers, it checks what must hold for any input: the lookup only ever sees
 * names inside the word, both entry points agree on success, no field is empty, and an error
 * leaves a message and no output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bale/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_env {
	const char *word;
	size_t len;
};

static const char *const vars[][2] = {
    {"A", "a"},
    {"EMPTY", ""},
    {"SP", " x  y\t"},
    {"U", "한국어"},
    {"STAR", "*"},
    {"NL", "a\nb\n"},
    {"BS", "\\"},
    {"PAT", "a*b?c\\*"},
    {"BAD", "\xff\xfe"},
    {"PWD", "/home"},
    {"DOLLAR", "$0$$${0}"},
    {"Q", "'\""},
    {"1", "one"},
    {"_x9", "x9"},
    {"WS", "a\xe2\x80\x83"
	   "b\xc2\xa0"},
};

static bool lookup(void *ctx, const char *name, size_t len, const char **value, size_t *value_len)
{
	const struct fuzz_env *env = ctx;

	/* A name is always a slice of the word being expanded. */
	if (name < env->word || len > env->len || name > env->word + env->len - len)
		abort();
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (strlen(vars[i][0]) == len && memcmp(vars[i][0], name, len) == 0) {
			*value = vars[i][1];
			*value_len = strlen(vars[i][1]);
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env env;
	bale_shell_opts opts = {0};
	bale_words words = BALE_WORDS_INIT;
	char *word, *out = NULL;
	size_t len;
	int rc_word, rc_words;

	if (size == 0)
		return 0;
	len = size - 1;
	word = malloc(len ? len : 1);
	if (!word)
		return 0;
	memcpy(word, data + 1, len);
	env.word = word;
	env.len = len;
	opts.escape = data[0] & 1 ? '`' : '\\';
	opts.raw_quotes = data[0] & 2;
	opts.raw_escapes = data[0] & 4;
	opts.skip_unset = data[0] & 8;
	/* Nested ${V//p/r} multiply: 1 MiB keeps such bombs cheap while still large. */
	opts.max_len = data[0] & 16 ? 4096 : (size_t)1 << 20;
	opts.lookup = lookup;
	opts.lookup_ctx = &env;

	rc_word = bale_shell_expand_word(&out, word, len, &opts);
	if (rc_word == 0 ? out == NULL : out != NULL || !bale_error_last()->message[0])
		abort();
	rc_words = bale_shell_expand_words(&words, word, len, &opts);
	if (rc_words != 0 && (words.n != 0 || !bale_error_last()->message[0]))
		abort();
	/* Splitting does not change what is an error; only the size bound may differ. */
	if ((rc_word == 0) != (rc_words == 0) && rc_word != BALE_ELIMIT && rc_words != BALE_ELIMIT)
		abort();
	/* Without a NUL in the input, an empty string can only be an empty field. */
	for (size_t i = 0; i < words.n; i++)
		if (words.v[i][0] == '\0' && !memchr(word, 0, len))
			abort();
	free(out);
	bale_words_release(&words);
	free(word);
	return 0;
}
