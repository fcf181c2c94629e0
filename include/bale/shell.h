/*
 * bale/shell.h: word expansion exactly as BuildKit's Dockerfile shell lexer does it.
 *
 * A Dockerfile word such as `"${NAME:-x}"/bin` is expanded against a set of variables (ARG and
 * ENV values) the way `docker build` does: quotes, the escape character (`\` or the backtick set
 * by `# escape=`), $V, ${V}, ${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?m} ${V?m}, ${V#p} ${V##p} ${V%p}
 * ${V%%p}, ${V/p/r} ${V//p/r}. Positional and special parameters ($1, $@, $#, ...) are looked
 * up like any other name, as BuildKit does, so they are unset unless the lookup defines them.
 * bale_shell_expand_word() gives one string; bale_shell_expand_words() also splits into fields
 * on unquoted white space, as the instructions that split words do. docs/expansion.md describes
 * the language for users.
 *
 * Variables come from a lookup callback, so a caller can record which names a word used (the
 * lint rule UndefinedVar needs that) without this module knowing about stages. The callback is
 * called once per reference, in the order BuildKit evaluates them (the inner word of ${V:-w} and
 * the pattern of ${V#p} before V itself), with the name exactly as written: a run of letters,
 * digits and '_', a run of digits, one of @ * # ? - $ ! 0, or "" for forms such as ${+w}.
 *
 * The input is `len` bytes and need not be NUL-terminated. Bytes that are not UTF-8 become
 * U+FFFD in the output, as Go's text scanner makes them. Results are malloc'd and belong to the
 * caller. The library keeps no state between calls; calls on different threads are independent.
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

/* How deeply ${...} may nest inside one another; deeper nesting gives BALE_ELIMIT. */
#define BALE_SHELL_MAX_DEPTH 100
/* The default cap on the size of an expansion, in bytes (bale_shell_opts.max_len). */
#define BALE_SHELL_DEFAULT_MAX_LEN ((size_t)64 << 20)

typedef struct bale_shell_opts {
	int escape;	  /* the escape character: '\\' (default when 0) or '`' */
	bool raw_quotes;  /* keep quote characters in the output (BuildKit's RawQuotes) */
	bool raw_escapes; /* keep escape characters in the output (BuildKit's RawEscapes) */
	bool skip_unset;  /* leave references to unset variables as written (SkipUnsetEnv) */
	bale_shell_lookup_fn lookup; /* NULL: every variable is unset */
	void *lookup_ctx;
	size_t max_len; /* cap on the result (and each word) in bytes; 0: the default */
} bale_shell_opts;

/* A list of words; bale_words_release() frees the words and the array. */
typedef struct bale_words {
	char **v;
	size_t n;
	size_t alloc;
} bale_words;

#define BALE_WORDS_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
BALE_EXTERN(void) bale_words_release(bale_words *words);

/*
 * Expands `len` bytes at `word` as one word (BuildKit's ProcessWord). On success *out is a
 * malloc'd NUL-terminated string; on failure it is NULL. `opts` may be NULL (defaults).
 * A malformed word (unterminated quote, bad substitution, ${V:?} of an unset V, ...) returns
 * BALE_EPARSE with BuildKit's message, e.g. `failed to process "${X:?}": X: is not allowed to be
 * unset`. Nesting deeper than BALE_SHELL_MAX_DEPTH or a result over max_len gives BALE_ELIMIT;
 * an escape other than '\\' or '`' gives BALE_EINVAL.
 */
BALE_EXTERN(int)
bale_shell_expand_word(char **out, const char *word, size_t len, const bale_shell_opts *opts);

/*
 * Expands and splits into fields (BuildKit's ProcessWords); the words are appended to `out`.
 * White space that comes from the word itself or from a $ expansion outside quotes separates
 * fields; quoted and escaped white space does not. As in BuildKit, a field that ends up empty
 * (`""`, or an unset $V alone) gives no word. On error `out` is left as it was.
 */
BALE_EXTERN(int)
bale_shell_expand_words(bale_words *out, const char *word, size_t len, const bale_shell_opts *opts);

#endif
