/*
 * bale/shell.h: word expansion exactly as BuildKit's Dockerfile shell lexer does it.
 *
 * A Dockerfile word such as `"${NAME:-x}"/bin` is expanded against a set of variables (ARG and
 * ENV values) the way `docker build` does: quotes, the escape character (`\` or the backtick set
 * by `# escape=`), $V, ${V}, ${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?m} ${V?m}, ${V#p} ${V##p} ${V%p}
 * ${V%%p}, ${V/p/r} ${V//p/r}; positional and special parameters ($1, $@, $#, ...) are always
 * unset. bale_shell_expand_word() gives one string; bale_shell_expand_words() also splits into
 * fields on unquoted white space, as the instructions that split words do.
 *
 * Variables come from a lookup callback, so a caller can record which names a word used (the
 * lint rule UndefinedVar needs that) without this module knowing about stages.
 * Results are malloc'd and belong to the caller.
 */
#ifndef BALE_SHELL_H
#define BALE_SHELL_H

#include "common.h"

/*
 * Finds variable `name` (`name_len` bytes, not NUL-terminated). Returns true and sets
 * *value / *value_len when it is set (possibly to ""), false when it is unset.
 */
typedef bool (*bale_shell_lookup_fn)(void *ctx, const char *name, size_t name_len,
				     const char **value, size_t *value_len);

typedef struct bale_shell_opts {
	int escape;       /* the escape character: '\\' (default when 0) or '`' */
	bool raw_quotes;  /* keep quote characters in the output (BuildKit's RawQuotes) */
	bool raw_escapes; /* keep escape characters in the output (BuildKit's RawEscapes) */
	bool skip_unset;  /* leave references to unset variables as written (SkipUnsetEnv) */
	bale_shell_lookup_fn lookup; /* NULL: every variable is unset */
	void *lookup_ctx;
} bale_shell_opts;

/* A list of words; bale_words_release() frees the words and the array. */
typedef struct bale_words {
	char **v;
	size_t n;
	size_t alloc;
} bale_words;

#define BALE_WORDS_INIT {NULL, 0, 0}
BALE_EXTERN(void) bale_words_release(bale_words *words);

/*
 * Expands `len` bytes at `word` as one word. On success *out is a malloc'd NUL-terminated
 * string. A malformed word (unterminated quote, bad substitution, ${V:?} of an unset V, ...)
 * returns BALE_EPARSE with a message in BuildKit's words.
 */
BALE_EXTERN(int) bale_shell_expand_word(char **out, const char *word, size_t len,
					const bale_shell_opts *opts);

/* Expands and splits into fields; the words are appended to `out`. Errors as above. */
BALE_EXTERN(int) bale_shell_expand_words(bale_words *out, const char *word, size_t len,
					 const bale_shell_opts *opts);

#endif
