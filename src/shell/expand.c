/*
 * Word expansion as BuildKit's shell lexer (frontend/dockerfile/shell/lex.go) does it; the
 * contract is in include/bale/shell.h, the language for users in docs/expansion.md.
 *
 * The model follows BuildKit's: one cursor over the word, and a function per construct that
 * may call back into the word loop for the inner word of ${V:-w}, ${V#p} or ${V/p/r}. Each of
 * those levels produces a string, which BuildKit builds in a fresh buffer. Here every level
 * writes into one stack buffer (`scratch`): a level's text grows at the end of scratch, an inner
 * word is appended after it, and when the ${...} is done its result is left in place (when it
 * is the inner word) or the inner word is dropped and the result appended. So the common cases
 * cost no copy and one allocation per call whatever the nesting. The top level of
 * bale_shell_expand_words() writes into a field splitter instead of scratch.
 *
 * Details that decide results, all BuildKit's:
 * - Go's text scanner reads runes: a byte that is not UTF-8 becomes U+FFFD, and a leading BOM
 *   of the whole word (and of a pattern) is skipped.
 * - Inner words of ${V-w}, ${V+w}, ${V?w} drop escapes even under raw_escapes; those of
 *   ${V#p}, ${V%p} and both parts of ${V/p/r} keep them, for the pattern compiler to read.
 * - The error of an inner word becomes "syntax error: missing '}'" when it was hit at the end
 *   of the input.
 * - Patterns are Go regexps in BuildKit: `*` is `.*` (greedy for ##, %% and /) or `.*?`, `?` is
 *   `.`, and neither matches a newline; `[` is a plain character. Here a pattern is a list of
 *   segments (runs of literals and `?`) separated by stars, matched without backtracking: see
 *   the comment above match_at().
 */
#include "bale/shell.h"
#include "shell/shell_internal.h"
#include "util/unicode.h"
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE	    SIZE_MAX
#define EOF_RUNE    UINT32_MAX
#define PAT_ANY	    (UINT32_MAX - 1) /* `?`: one rune but '\n' */
#define MESSAGE_MAX 2048	     /* cap of the unwrapped error message */
#define CLIP	    512		     /* bytes of user text quoted in a message */
#define QUOTE_MAX   1024	     /* bytes of the word quoted in "failed to process" */

static const char replacement_char[] = "\xef\xbf\xbd";

/* Character classes of ASCII bytes, combined into masks of what stops a run of plain text. */
enum {
	C_ALWAYS = 1,	 /* $ ' " */
	C_SPACE = 2,	 /* Go's unicode.IsSpace */
	C_BACKSLASH = 4, /* the default escape */
	C_BACKTICK = 8,	 /* the escape under `# escape=`` */
	C_DQUOTE = 16,	 /* special inside double quotes: $ " */
	C_NAME = 32,	 /* may be in a variable name: ASCII letters, digits, '_' */
};

static const unsigned char byte_class[128] = {
    ['$'] = C_ALWAYS | C_DQUOTE,
    ['\''] = C_ALWAYS,
    ['"'] = C_ALWAYS | C_DQUOTE,
    ['\\'] = C_BACKSLASH,
    ['`'] = C_BACKTICK,
    [' '] = C_SPACE,
    ['\t'] = C_SPACE,
    ['\n'] = C_SPACE,
    ['\v'] = C_SPACE,
    ['\f'] = C_SPACE,
    ['\r'] = C_SPACE,
    ['0'] = C_NAME,
    ['1'] = C_NAME,
    ['2'] = C_NAME,
    ['3'] = C_NAME,
    ['4'] = C_NAME,
    ['5'] = C_NAME,
    ['6'] = C_NAME,
    ['7'] = C_NAME,
    ['8'] = C_NAME,
    ['9'] = C_NAME,
    ['A'] = C_NAME,
    ['B'] = C_NAME,
    ['C'] = C_NAME,
    ['D'] = C_NAME,
    ['E'] = C_NAME,
    ['F'] = C_NAME,
    ['G'] = C_NAME,
    ['H'] = C_NAME,
    ['I'] = C_NAME,
    ['J'] = C_NAME,
    ['K'] = C_NAME,
    ['L'] = C_NAME,
    ['M'] = C_NAME,
    ['N'] = C_NAME,
    ['O'] = C_NAME,
    ['P'] = C_NAME,
    ['Q'] = C_NAME,
    ['R'] = C_NAME,
    ['S'] = C_NAME,
    ['T'] = C_NAME,
    ['U'] = C_NAME,
    ['V'] = C_NAME,
    ['W'] = C_NAME,
    ['X'] = C_NAME,
    ['Y'] = C_NAME,
    ['Z'] = C_NAME,
    ['_'] = C_NAME,
    ['a'] = C_NAME,
    ['b'] = C_NAME,
    ['c'] = C_NAME,
    ['d'] = C_NAME,
    ['e'] = C_NAME,
    ['f'] = C_NAME,
    ['g'] = C_NAME,
    ['h'] = C_NAME,
    ['i'] = C_NAME,
    ['j'] = C_NAME,
    ['k'] = C_NAME,
    ['l'] = C_NAME,
    ['m'] = C_NAME,
    ['n'] = C_NAME,
    ['o'] = C_NAME,
    ['p'] = C_NAME,
    ['q'] = C_NAME,
    ['r'] = C_NAME,
    ['s'] = C_NAME,
    ['t'] = C_NAME,
    ['u'] = C_NAME,
    ['v'] = C_NAME,
    ['w'] = C_NAME,
    ['x'] = C_NAME,
    ['y'] = C_NAME,
    ['z'] = C_NAME,
};

/*
 * The result of one $ expansion: external bytes (a variable's value, a slice of the word, the
 * work buffer), or, when `ptr` is NULL, the bytes scratch[mark, scratch.len).
 */
struct piece {
	const char *ptr;
	size_t len;
	size_t mark;
};

/* A run of pattern items (runes, PAT_ANY) between stars. */
struct segment {
	size_t off, len;	       /* items[off, off + len) */
	size_t nl;		       /* offset of the first literal '\n', or NONE */
	size_t anchor_off, anchor_len; /* the longest run of literal runes */
};

/*
 * A compiled pattern: segs[0] is what comes before the first star (possibly empty); each later
 * segment follows a star and is not empty. `kmp` holds each anchor's KMP table at the anchor's
 * offset in `items`.
 */
struct pattern {
	uint32_t *runes, *rev; /* the pattern text as runes; reversed for ${V%p} */
	size_t runes_alloc, rev_alloc;
	uint32_t *items;
	size_t *kmp;
	size_t n, items_alloc, kmp_alloc;
	struct segment *segs;
	size_t nseg, segs_alloc;
	bool trail_star;
};

/* The value a pattern is matched against, one rune per element. */
struct text {
	uint32_t *r;
	size_t *off; /* byte offset of each rune, and of the end (forward loads only) */
	size_t n, r_alloc, off_alloc;
	size_t nl_from, nl_at; /* next_newline() of any position in [nl_from, nl_at] is nl_at */
};

struct expander {
	const char *src;
	size_t len, pos;
	int esc;
	unsigned char plain_mask, split_mask, dquote_mask;
	bool raw_quotes, raw_escapes, skip_unset;
	bale_shell_lookup_fn lookup;
	void *lookup_ctx;
	size_t max, depth;
	bale_buf scratch; /* every level's text; the result of expand_word */
	bale_buf work;	  /* results built from pieces: patterns, rebuilt ${...} text */
	bale_buf msg;	  /* the error message, before "failed to process" is added */
	/* Field splitting (expand_words): the field being built and where fields go. */
	bale_words *words;
	bale_buf word;
	bool in_word;
	/*
	 * Names only (bale_shell_expand_names): the text of the top level is counted, not kept;
	 * scratch.max is then the cap less what was counted, so every check is as it would be.
	 */
	bool names_only;
	struct matcher *m; /* allocated by the first pattern operation */
};

/* What pattern operations need, kept across them within one call. */
struct matcher {
	struct pattern pat;
	struct text text;
};

static int fail_code(struct expander *ex, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_code(struct expander *ex, int code, const char *fmt, ...)
{
	va_list ap;

	bale_buf_reset(&ex->msg);
	ex->msg.err = 0;
	va_start(ap, fmt);
	bale_buf_vaddf(&ex->msg, fmt, ap);
	va_end(ap);
	return code;
}

#define fail(ex, ...) fail_code((ex), BALE_EPARSE, __VA_ARGS__)

/* Length of user text to quote in a message, cut on a rune boundary. */
static int clip(const char *s, size_t len)
{
	if (len <= CLIP)
		return (int)len;
	len = CLIP;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	return (int)len;
}

/* An append failed: out of memory, or the result grew past max_len. */
static int buf_failed(struct expander *ex, int rc)
{
	if (rc == BALE_ELIMIT)
		return fail_code(ex, BALE_ELIMIT, "expansion exceeds the limit of %zu bytes",
				 ex->max);
	return fail_code(ex, BALE_ENOMEM, "out of memory");
}

static int put(struct expander *ex, bale_buf *buf, const void *data, size_t len)
{
	int rc = bale_buf_add(buf, data, len);

	return rc ? buf_failed(ex, rc) : 0;
}

/* Decodes one rune as Go does (width 1 and U+FFFD for a byte that is not UTF-8). */
static inline size_t rune_at(const char *s, size_t len, uint32_t *cp)
{
	if ((unsigned char)s[0] < 0x80) {
		*cp = (unsigned char)s[0];
		return 1;
	}
	return bale_utf8_decode(s, len, cp);
}

static inline bool is_invalid(const char *s, size_t width, uint32_t cp)
{
	return width == 1 && cp == 0xfffd && (unsigned char)s[0] >= 0x80;
}

static inline bool is_name_rune(uint32_t cp)
{
	if (cp < 0x80)
		return byte_class[cp] & C_NAME;
	return bale_shell_is_letter(cp) || bale_shell_is_digit(cp);
}

/* BuildKit's isSpecialParam. */
static bool is_special_param(uint32_t cp)
{
	return cp == '@' || cp == '*' || cp == '#' || cp == '?' || cp == '-' || cp == '$' ||
	       cp == '!' || cp == '0';
}

/* ---- Output: scratch, or the field splitter at the top level of expand_words ---- */

static int push_field(struct expander *ex)
{
	char *s;
	int rc;

	if ((rc = BALE_ARRAY_RESERVE(ex->words->v, ex->words->alloc, ex->words->n + 1)) != 0)
		return buf_failed(ex, rc);
	s = malloc(ex->word.len + 1);
	if (!s)
		return buf_failed(ex, BALE_ENOMEM);
	memcpy(s, ex->word.ptr, ex->word.len + 1);
	ex->words->v[ex->words->n++] = s;
	bale_buf_reset(&ex->word);
	ex->in_word = false;
	return 0;
}

/*
 * Names only: `n` bytes of the result at the top level, where scratch holds nothing, are
 * counted against the cap rather than written. Inner words are still built: patterns and
 * messages are made of them.
 */
static int drop(struct expander *ex, size_t n)
{
	if (n > ex->scratch.max)
		return buf_failed(ex, BALE_ELIMIT);
	ex->scratch.max -= n;
	return 0;
}

/* Appends to scratch, the text of the current level. */
static int put_scratch(struct expander *ex, const char *p, size_t n)
{
	if (ex->names_only && !ex->depth)
		return drop(ex, n);
	return put(ex, &ex->scratch, p, n);
}

/* Text that stays in the current field: quoted or escaped text, or plain runes but spaces. */
static int emit(struct expander *ex, bool split, const char *p, size_t n)
{
	if (!split)
		return put_scratch(ex, p, n);
	ex->in_word = true;
	return put(ex, &ex->word, p, n);
}

/* An unquoted white-space rune at the top level of expand_words (BuildKit's addChar). */
static int emit_space(struct expander *ex)
{
	if (ex->in_word && ex->word.len)
		return push_field(ex);
	return 0;
}

/* Text with the bytes that are not UTF-8 replaced by U+FFFD, as Go's scanner reads it. */
static int emit_sanitized(struct expander *ex, bool split, const char *p, size_t n)
{
	size_t i = 0, start = 0;
	int rc;

	while (i < n) {
		uint32_t cp;
		size_t w;

		if ((unsigned char)p[i] < 0x80) {
			i++;
			continue;
		}
		w = bale_utf8_decode(p + i, n - i, &cp);
		if (!is_invalid(p + i, w, cp)) {
			i += w;
			continue;
		}
		if ((rc = emit(ex, split, p + start, i - start)) != 0 ||
		    (rc = emit(ex, split, replacement_char, 3)) != 0)
			return rc;
		start = ++i;
	}
	return emit(ex, split, p + start, n - start);
}

/*
 * The result of a $ expansion outside quotes. In scratch it is copied as is (Go's
 * WriteString); for fields it is split on white space, rune by rune (BuildKit's addString).
 */
static int emit_expansion(struct expander *ex, bool split, const char *p, size_t n)
{
	size_t i = 0;
	int rc = 0;

	if (!split)
		return put_scratch(ex, p, n);
	while (i < n && !rc) {
		unsigned char c = (unsigned char)p[i];
		uint32_t cp;
		size_t w;

		if (c < 0x80) {
			size_t j = i;

			while (j < n && (unsigned char)p[j] < 0x80 &&
			       !(byte_class[(unsigned char)p[j]] & C_SPACE))
				j++;
			if (j > i) {
				rc = emit(ex, true, p + i, j - i);
				i = j;
			} else {
				rc = emit_space(ex);
				i++;
			}
			continue;
		}
		w = bale_utf8_decode(p + i, n - i, &cp);
		if (bale_unicode_is_space(cp))
			rc = emit_space(ex);
		else if (is_invalid(p + i, w, cp))
			rc = emit(ex, true, replacement_char, 3);
		else
			rc = emit(ex, true, p + i, w);
		i += w;
	}
	return rc;
}

/* Hands a $ result to the level that asked for it; `raw` inside double quotes. */
static int emit_piece(struct expander *ex, bool split, bool raw, const struct piece *pc)
{
	int rc;

	if (!pc->ptr) {
		/* Already where a scratch level wants it, unless it is to be counted only. */
		if (!split && ex->names_only && !ex->depth) {
			bale_buf_truncate(&ex->scratch, pc->mark);
			return drop(ex, pc->len);
		}
		if (!split)
			return 0;
		rc = raw ? emit(ex, true, ex->scratch.ptr + pc->mark, pc->len)
			 : emit_expansion(ex, true, ex->scratch.ptr + pc->mark, pc->len);
		bale_buf_truncate(&ex->scratch, pc->mark);
		return rc;
	}
	if (raw)
		return emit(ex, split, pc->ptr, pc->len);
	return emit_expansion(ex, split, pc->ptr, pc->len);
}

static int piece_ext(struct piece *pc, const char *p, size_t n)
{
	pc->ptr = p;
	pc->len = n;
	pc->mark = 0;
	return 0;
}

/* The result is scratch[mark, end): the inner word, left in place. */
static int piece_scratch(struct expander *ex, struct piece *pc, size_t mark)
{
	pc->ptr = NULL;
	pc->len = ex->scratch.len - mark;
	pc->mark = mark;
	return 0;
}

/* ---- Variables ---- */

static bool lookup(struct expander *ex, const char *name, size_t n, const char **value,
		   size_t *value_len)
{
	const char *v = NULL;
	size_t vl = 0;

	*value = "";
	*value_len = 0;
	if (!ex->lookup || !ex->lookup(ex->lookup_ctx, name, n, &v, &vl))
		return false;
	if (v) {
		*value = v;
		*value_len = vl;
	}
	return true;
}

/* BuildKit's processName: reads a name at the cursor and returns its length in bytes. */
static size_t read_name(struct expander *ex)
{
	size_t start = ex->pos, w;
	uint32_t cp;

	if (ex->pos >= ex->len)
		return 0;
	w = rune_at(ex->src + ex->pos, ex->len - ex->pos, &cp);
	if (cp - '0' < 10 || (cp >= 0x80 && bale_shell_is_digit(cp))) {
		do {
			ex->pos += w;
			if (ex->pos >= ex->len)
				break;
			w = rune_at(ex->src + ex->pos, ex->len - ex->pos, &cp);
		} while (bale_shell_is_digit(cp));
		return ex->pos - start;
	}
	if (is_special_param(cp)) {
		ex->pos += w;
		return w;
	}
	while (is_name_rune(cp)) {
		const unsigned char *s = (const unsigned char *)ex->src;
		size_t i = ex->pos + w;

		/* ASCII names, the usual case, without decoding. */
		while (i < ex->len && s[i] < 0x80 && (byte_class[s[i]] & C_NAME))
			i++;
		ex->pos = i;
		if (i >= ex->len)
			break;
		w = rune_at(ex->src + i, ex->len - i, &cp);
	}
	return ex->pos - start;
}

/*
 * Reads one rune (Go's scanner.Next) and appends its text to chs, the modifier as it is
 * quoted in messages: U+FFFD for a bad byte and for the end of input (Go's string(EOF)).
 */
static uint32_t take_rune(struct expander *ex, char *chs, size_t *chs_len)
{
	uint32_t cp;
	size_t w;

	if (ex->pos >= ex->len) {
		memcpy(chs + *chs_len, replacement_char, 3);
		*chs_len += 3;
		return EOF_RUNE;
	}
	w = rune_at(ex->src + ex->pos, ex->len - ex->pos, &cp);
	if (is_invalid(ex->src + ex->pos, w, cp)) {
		memcpy(chs + *chs_len, replacement_char, 3);
		*chs_len += 3;
	} else {
		memcpy(chs + *chs_len, ex->src + ex->pos, w);
		*chs_len += w;
	}
	ex->pos += w;
	return cp;
}

/* ---- Patterns ---- */

static int reserve_runes(struct expander *ex, uint32_t **arr, size_t *alloc, size_t n)
{
	int rc = BALE_ARRAY_RESERVE(*arr, *alloc, n ? n : 1);

	return rc ? buf_failed(ex, rc) : 0;
}

/* Decodes `len` bytes into runes as []rune(s) does; returns the count. */
static size_t decode_runes(uint32_t *out, const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		i += rune_at(s + i, len - i, &out[n]);
		n++;
	}
	return n;
}

/* BuildKit's reversePattern: reverses runes but keeps each `\x` pair in order. */
static void reverse_pattern(uint32_t *out, const uint32_t *in, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t at = n - 1 - i;

		if (in[i] == '\\' && i != n - 1) {
			out[at - 1] = in[i];
			out[at] = in[i + 1];
			i += 2;
		} else {
			out[at] = in[i];
			i++;
		}
	}
}

static int encode_runes(struct expander *ex, bale_buf *out, const uint32_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = r[i] < 0x80 ? bale_buf_addch(out, (int)r[i]) : bale_utf8_encode(out, r[i]);

		if (rc)
			return buf_failed(ex, rc);
	}
	return 0;
}

/* The KMP failure table of `len` runes. */
static void kmp_table(size_t *kmp, const uint32_t *p, size_t len)
{
	size_t k = 0;

	if (!len)
		return;
	kmp[0] = 0;
	for (size_t i = 1; i < len; i++) {
		while (k > 0 && p[i] != p[k])
			k = kmp[k - 1];
		if (p[i] == p[k])
			k++;
		kmp[i] = k;
	}
}

static int add_segment(struct expander *ex, struct pattern *pat, size_t off, size_t len)
{
	struct segment *s;
	size_t run = 0;
	int rc;

	if ((rc = BALE_ARRAY_RESERVE(pat->segs, pat->segs_alloc, pat->nseg + 1)) != 0)
		return buf_failed(ex, rc);
	s = &pat->segs[pat->nseg++];
	s->off = off;
	s->len = len;
	s->nl = NONE;
	s->anchor_off = 0;
	s->anchor_len = 0;
	for (size_t j = 0; j < len; j++) {
		uint32_t it = pat->items[off + j];

		if (it == '\n' && s->nl == NONE)
			s->nl = j;
		if (it == PAT_ANY) {
			run = 0;
			continue;
		}
		if (++run > s->anchor_len) {
			s->anchor_len = run;
			s->anchor_off = j + 1 - run;
		}
	}
	kmp_table(pat->kmp + off + s->anchor_off, pat->items + off + s->anchor_off, s->anchor_len);
	return 0;
}

/*
 * BuildKit's convertShellPatternToRegex, with the pattern (`plen` bytes at `p`) turned into
 * segments instead of a regexp. `reverse` first applies reversePattern, for ${V%p}. On a bad
 * escape the message names the pattern as BuildKit does: reversed for ${V%p}.
 */
static int compile(struct expander *ex, const char *p, size_t plen, bool reverse)
{
	struct pattern *pat;
	uint32_t *r;
	size_t n, i, seg_start = 0;
	int rc;

	if (!ex->m && !(ex->m = calloc(1, sizeof(*ex->m))))
		return buf_failed(ex, BALE_ENOMEM);
	pat = &ex->m->pat;
	if ((rc = reserve_runes(ex, &pat->runes, &pat->runes_alloc, plen)) != 0 ||
	    (rc = reserve_runes(ex, &pat->items, &pat->items_alloc, plen)) != 0)
		return rc;
	if ((rc = BALE_ARRAY_RESERVE(pat->kmp, pat->kmp_alloc, plen ? plen : 1)) != 0)
		return buf_failed(ex, rc);
	n = decode_runes(pat->runes, p, plen);
	r = pat->runes;
	if (reverse) {
		if ((rc = reserve_runes(ex, &pat->rev, &pat->rev_alloc, n)) != 0)
			return rc;
		reverse_pattern(pat->rev, pat->runes, n);
		r = pat->rev;
	}
	pat->n = 0;
	pat->nseg = 0;
	pat->trail_star = false;
	/* Go's scanner skips a byte order mark at the start of its input. */
	i = n > 0 && r[0] == 0xfeff ? 1 : 0;
	for (; i < n; i++) {
		uint32_t tok = r[i];

		if (tok == '*') {
			if (pat->nseg == 0 || pat->n > seg_start) {
				if ((rc = add_segment(ex, pat, seg_start, pat->n - seg_start)) != 0)
					return rc;
			}
			seg_start = pat->n;
			pat->trail_star = true;
			continue;
		}
		pat->trail_star = false;
		if (tok == '?') {
			pat->items[pat->n++] = PAT_ANY;
			continue;
		}
		if (tok == '\\') {
			/* \} and \/ were escaped for ${...}; the backslash is not the pattern's. */
			if (i + 1 < n && (r[i + 1] == '}' || r[i + 1] == '/'))
				continue;
			if (i + 1 >= n ||
			    (r[i + 1] != '*' && r[i + 1] != '?' && r[i + 1] != '\\')) {
				bale_buf shown = BALE_BUF_INIT;
				char ch[16];

				if (reverse) {
					if ((rc = encode_runes(ex, &shown, r, n)) != 0) {
						bale_buf_release(&shown);
						return rc;
					}
				} else if ((rc = put(ex, &shown, p, plen)) != 0) {
					bale_buf_release(&shown);
					return rc;
				}
				if (i + 1 >= n) {
					/* Go's %c of scanner.EOF (-1) prints U+FFFD. */
					snprintf(ch, sizeof(ch), "%s", replacement_char);
				} else {
					bale_buf one = BALE_BUF_INIT;

					bale_utf8_encode(&one, r[i + 1]);
					snprintf(ch, sizeof(ch), "%s", one.ptr);
					bale_buf_release(&one);
				}
				rc = fail(
				    ex,
				    "invalid pattern (%.*s) in substitution: invalid escape '\\%s'",
				    clip(shown.ptr, shown.len), shown.ptr, ch);
				bale_buf_release(&shown);
				return rc;
			}
			tok = r[++i];
		}
		pat->items[pat->n++] = tok;
	}
	if (pat->nseg == 0 || pat->n > seg_start)
		return add_segment(ex, pat, seg_start, pat->n - seg_start);
	return 0;
}

/* Loads `len` bytes of a value as runes, reversed for ${V%p}. *valid: no byte was bad. */
static int load_text(struct expander *ex, const char *v, size_t len, bool reverse, bool *valid)
{
	struct text *t = &ex->m->text;
	size_t i = 0, n = 0;
	int rc;

	if ((rc = reserve_runes(ex, &t->r, &t->r_alloc, len)) != 0)
		return rc;
	if (!reverse && (rc = BALE_ARRAY_RESERVE(t->off, t->off_alloc, len + 1)) != 0)
		return buf_failed(ex, rc);
	*valid = true;
	while (i < len) {
		size_t w = rune_at(v + i, len - i, &t->r[n]);

		if (is_invalid(v + i, w, t->r[n]))
			*valid = false;
		if (!reverse)
			t->off[n] = i;
		n++;
		i += w;
	}
	if (!reverse)
		t->off[n] = len;
	else
		for (size_t a = 0, b = n; a + 1 < b; a++, b--) {
			uint32_t tmp = t->r[a];

			t->r[a] = t->r[b - 1];
			t->r[b - 1] = tmp;
		}
	t->n = n;
	t->nl_from = 1;
	t->nl_at = 0; /* empty cache */
	return 0;
}

/* The first position at or after x that holds '\n', or the end. */
static size_t next_newline(struct text *t, size_t x)
{
	size_t i;

	if (x >= t->nl_from && x <= t->nl_at)
		return t->nl_at;
	for (i = x; i < t->n && t->r[i] != '\n'; i++)
		;
	t->nl_from = x;
	t->nl_at = i;
	return i;
}

/* Whether segment s occurs at position at of the text. */
static bool occurs(const struct pattern *pat, const struct segment *s, const struct text *t,
		   size_t at)
{
	const uint32_t *it = pat->items + s->off;

	if (at > t->n || s->len > t->n - at)
		return false;
	for (size_t j = 0; j < s->len; j++) {
		uint32_t c = t->r[at + j];

		if (it[j] == PAT_ANY ? c == '\n' : c != it[j])
			return false;
	}
	return true;
}

/*
 * The first (or, with `last`, the last) position p with s occurring at p and p + s->len <= b,
 * p >= a; NONE if there is none. s is not empty and b <= t->n. KMP finds the anchor (the longest
 * literal run), so a segment without `?` is found in linear time; others are verified at each
 * anchor hit.
 */
static size_t find_segment(const struct pattern *pat, const struct segment *s, const struct text *t,
			   size_t a, size_t b, bool last)
{
	const uint32_t *anchor;
	const size_t *kmp;
	size_t lo, hi, k = 0, found = NONE;

	if (a > b || b - a < s->len)
		return NONE;
	if (s->anchor_len == 0) {
		/* Only `?`: the first run of len runes without a newline. */
		size_t run = 0;

		for (size_t i = a; i < b; i++) {
			if (t->r[i] == '\n') {
				run = 0;
			} else if (++run >= s->len) {
				found = i + 1 - s->len;
				if (!last)
					return found;
			}
		}
		return found;
	}
	anchor = pat->items + s->off + s->anchor_off;
	kmp = pat->kmp + s->off + s->anchor_off;
	lo = a + s->anchor_off;
	hi = b - (s->len - s->anchor_off - s->anchor_len);
	for (size_t i = lo; i < hi; i++) {
		while (k > 0 && anchor[k] != t->r[i])
			k = kmp[k - 1];
		if (anchor[k] == t->r[i])
			k++;
		if (k == s->anchor_len) {
			size_t p = i + 1 - s->anchor_len - s->anchor_off;

			if (s->anchor_len == s->len || occurs(pat, s, t, p)) {
				if (!last)
					return p;
				found = p;
			}
			k = kmp[k - 1];
		}
	}
	return found;
}

/*
 * Places segments 1.. at their earliest positions from y, each after the previous with no
 * newline in between (a star cannot match one). Returns false when they do not fit; else sets
 * *end past the last one and *last_at to where the last one starts.
 *
 * Why earliest placement is right: a segment without a literal newline lies inside the line
 * stretch it starts in, so placing it earlier never cuts a later segment off; a segment with a
 * literal newline can only sit where its first newline meets the stretch's end, one place.
 */
static bool place_rest(const struct pattern *pat, struct text *t, size_t y, size_t *end,
		       size_t *last_at)
{
	for (size_t i = 1; i < pat->nseg; i++) {
		const struct segment *s = &pat->segs[i];
		size_t g = next_newline(t, y), p;

		if (s->nl != NONE) {
			if (g < s->nl || g - s->nl < y || !occurs(pat, s, t, g - s->nl))
				return false;
			p = g - s->nl;
		} else {
			p = find_segment(pat, s, t, y, g, false);
			if (p == NONE)
				return false;
		}
		*last_at = p;
		y = p + s->len;
	}
	*end = y;
	return true;
}

/*
 * Matches the pattern anchored at position `at`, as Go's leftmost-first regexp does: with lazy
 * stars (`.*?`) the match is the shortest, segments at their earliest places; with greedy stars
 * (`.*`) the longest: a trailing star runs to the end of the line, else the last segment moves
 * to its last occurrence in its line stretch (the earlier ones still fit before it). Sets *end.
 */
static bool match_at(const struct pattern *pat, struct text *t, size_t at, bool greedy, size_t *end)
{
	const struct segment *last;
	size_t y, last_at = at, p;

	if (!occurs(pat, &pat->segs[0], t, at))
		return false;
	if (!place_rest(pat, t, at + pat->segs[0].len, &y, &last_at))
		return false;
	*end = y;
	if (!greedy)
		return true;
	if (pat->trail_star) {
		*end = next_newline(t, y);
		return true;
	}
	last = &pat->segs[pat->nseg - 1];
	if (pat->nseg == 1 || last->nl != NONE)
		return true;
	p = find_segment(pat, last, t, last_at, next_newline(t, last_at), true);
	*end = p + last->len;
	return true;
}

/*
 * Go's unanchored FindStringIndex from `from` with greedy stars: the leftmost start that has a
 * match, then the longest match there. Whether segments 1.. fit from a position only gets
 * worse further along the same line stretch, so after a failed start the search jumps past
 * that stretch: the whole search stays linear in the text for patterns without `?`.
 */
static bool find_match(const struct pattern *pat, struct text *t, size_t from, size_t *start,
		       size_t *end)
{
	const struct segment *s0 = &pat->segs[0];
	size_t x = from;

	for (;;) {
		size_t cand, y, last_at, g, next;

		if (s0->len == 0) {
			if (x > t->n)
				return false;
			cand = x;
		} else {
			cand = find_segment(pat, s0, t, x, t->n, false);
			if (cand == NONE)
				return false;
		}
		if (place_rest(pat, t, cand + s0->len, &y, &last_at)) {
			*start = cand;
			return match_at(pat, t, cand, true, end);
		}
		g = next_newline(t, cand + s0->len);
		next = g + 1 > s0->len ? g + 1 - s0->len : 0;
		x = next > cand + 1 ? next : cand + 1;
	}
}

/* Go's Regexp.Expand for a regexp without groups: $0 or ${0} is the match, $$ is $. */
static int expand_template(struct expander *ex, const char *tpl, size_t n, const char *match,
			   size_t match_len)
{
	bale_buf *out = &ex->work;
	size_t i = 0;
	int rc;

	while (i < n) {
		const char *d = memchr(tpl + i, '$', n - i);
		size_t j, name_at;
		bool brace = false;

		if (!d)
			return put(ex, out, tpl + i, n - i);
		if ((rc = put(ex, out, tpl + i, (size_t)(d - tpl) - i)) != 0)
			return rc;
		i = (size_t)(d - tpl) + 1;
		if (i < n && tpl[i] == '$') {
			if ((rc = put(ex, out, "$", 1)) != 0)
				return rc;
			i++;
			continue;
		}
		j = i;
		if (j < n && tpl[j] == '{') {
			brace = true;
			j++;
		}
		name_at = j;
		while (j < n) {
			uint32_t cp;
			size_t w = rune_at(tpl + j, n - j, &cp);

			if (!is_name_rune(cp))
				break;
			j += w;
		}
		if (j == name_at || (brace && (j >= n || tpl[j] != '}'))) {
			/* Malformed: the $ is text. */
			if ((rc = put(ex, out, "$", 1)) != 0)
				return rc;
			continue;
		}
		if (j - name_at == 1 && tpl[name_at] == '0' &&
		    (rc = put(ex, out, match, match_len)) != 0)
			return rc;
		i = brace ? j + 1 : j;
	}
	return 0;
}

/* ${V#p} ${V##p} ${V%p} ${V%%p}: BuildKit's trimPrefix and trimSuffix. */
static int trim(struct expander *ex, uint32_t op, const char *pattern, size_t plen, bool greedy,
		const char *value, size_t vlen, struct piece *out)
{
	struct text *t;
	size_t end = 0;
	bool valid, matched;
	int rc;

	if ((rc = compile(ex, pattern, plen, op == '%')) != 0)
		return rc;
	t = &ex->m->text;
	if ((rc = load_text(ex, value, vlen, op == '%', &valid)) != 0)
		return rc;
	matched = match_at(&ex->m->pat, t, 0, greedy, &end);
	if (op == '#') {
		if (!matched)
			return piece_ext(out, value, vlen);
		return piece_ext(out, value + t->off[end], vlen - t->off[end]);
	}
	/*
	 * BuildKit matches the reversed value and reverses the rest back through []rune, so bad
	 * bytes come back as U+FFFD; valid text is a prefix of the value.
	 */
	if (!matched)
		end = 0;
	if (valid) {
		size_t cut = 0;

		for (size_t i = 0; i < end; i++)
			cut += t->r[i] < 0x80 ? 1 : t->r[i] < 0x800 ? 2 : t->r[i] < 0x10000 ? 3 : 4;
		return piece_ext(out, value, vlen - cut);
	}
	bale_buf_reset(&ex->work);
	for (size_t i = t->n; i > end; i--) {
		rc = t->r[i - 1] < 0x80 ? bale_buf_addch(&ex->work, (int)t->r[i - 1])
					: bale_utf8_encode(&ex->work, t->r[i - 1]);
		if (rc)
			return buf_failed(ex, rc);
	}
	return piece_ext(out, ex->work.ptr, ex->work.len);
}

/* ${V/p/r} and ${V//p/r}, the pattern and replacement at pattern[0, plen), repl[0, rlen). */
static int replace(struct expander *ex, bool all, const char *pattern, size_t plen,
		   const char *repl, size_t rlen, const char *value, size_t vlen, struct piece *out)
{
	struct text *t;
	size_t s, e, last_end = 0, search = 0;
	bool valid;
	int rc;

	if ((rc = compile(ex, pattern, plen, false)) != 0)
		return rc;
	t = &ex->m->text;
	if ((rc = load_text(ex, value, vlen, false, &valid)) != 0)
		return rc;
	bale_buf_reset(&ex->work);
	if (!all) {
		if (!find_match(&ex->m->pat, t, 0, &s, &e))
			return piece_ext(out, value, vlen);
		if ((rc = put(ex, &ex->work, value, t->off[s])) != 0 ||
		    (rc = put(ex, &ex->work, repl, rlen)) != 0 ||
		    (rc = put(ex, &ex->work, value + t->off[e], vlen - t->off[e])) != 0)
			return rc;
		return piece_ext(out, ex->work.ptr, ex->work.len);
	}
	/* Go's Regexp.replaceAll, in runes: an empty match right after a match is not replaced. */
	while (search <= t->n) {
		size_t width = search < t->n ? 1 : 0;

		if (!find_match(&ex->m->pat, t, search, &s, &e))
			break;
		if ((rc = put(ex, &ex->work, value + t->off[last_end],
			      t->off[s] - t->off[last_end])) != 0)
			return rc;
		if ((e > last_end || s == 0) &&
		    (rc = expand_template(ex, repl, rlen, value + t->off[s],
					  t->off[e] - t->off[s])) != 0)
			return rc;
		last_end = e;
		if (search + width > e)
			search += width;
		else if (search + 1 > e)
			search++;
		else
			search = e;
	}
	if ((rc = put(ex, &ex->work, value + t->off[last_end], vlen - t->off[last_end])) != 0)
		return rc;
	return piece_ext(out, ex->work.ptr, ex->work.len);
}

/* ---- The lexer ---- */

static int process_until(struct expander *ex, int stop, bool raw_escapes, bool split);

/* An inner word, up to `stop`, into scratch; nesting is bounded so the stack is. */
static int inner_word(struct expander *ex, int stop, bool raw_escapes, const char *at_eof)
{
	int rc;

	if (ex->depth >= BALE_SHELL_MAX_DEPTH)
		return fail_code(ex, BALE_ELIMIT, "substitutions nested deeper than %d levels",
				 BALE_SHELL_MAX_DEPTH);
	ex->depth++;
	rc = process_until(ex, stop, raw_escapes, false);
	ex->depth--;
	/* BuildKit: any error of the inner word met at the end of input is a missing brace. */
	if (rc == BALE_EPARSE && ex->pos >= ex->len)
		return fail(ex, "%s", at_eof);
	return rc;
}

/* Replaces scratch[mark, end) with the concatenation of `n` byte strings, as a work piece. */
static int rebuild(struct expander *ex, size_t mark, struct piece *out, size_t n,
		   const char *const *parts, const size_t *lens)
{
	int rc;

	bale_buf_reset(&ex->work);
	for (size_t i = 0; i < n; i++)
		if ((rc = put(ex, &ex->work, parts[i], lens[i])) != 0)
			return rc;
	bale_buf_truncate(&ex->scratch, mark);
	return piece_ext(out, ex->work.ptr, ex->work.len);
}

/* ${name OP word}: OP is - + ? # % after an optional ':' (null_is_unset), or any other rune. */
static int modifier(struct expander *ex, const char *name, size_t name_len, uint32_t op,
		    bool null_is_unset, const char *chs, size_t chs_len, struct piece *out)
{
	bool raw = op == '#' || op == '%', set, greedy;
	size_t mark = ex->scratch.len, word_len, vlen;
	const char *value, *word;
	int rc;

	if (null_is_unset && raw)
		return fail(ex, "unsupported modifier (%.*s) in substitution", (int)chs_len, chs);
	if ((rc = inner_word(ex, '}', raw, "syntax error: missing '}'")) != 0)
		return rc;
	set = lookup(ex, name, name_len, &value, &vlen);
	word = ex->scratch.ptr + mark;
	word_len = ex->scratch.len - mark;
	if (!set && ex->skip_unset) {
		const char *parts[] = {"${", name, chs, word, "}"};
		size_t lens[] = {2, name_len, chs_len, word_len, 1};

		return rebuild(ex, mark, out, 5, parts, lens);
	}
	switch (op) {
	case '-':
		if (!set || (null_is_unset && !vlen))
			return piece_scratch(ex, out, mark);
		bale_buf_truncate(&ex->scratch, mark);
		return piece_ext(out, value, vlen);
	case '+':
		if (set && !(null_is_unset && !vlen))
			return piece_scratch(ex, out, mark);
		bale_buf_truncate(&ex->scratch, mark);
		return piece_ext(out, "", 0);
	case '?':
		if (!set || (null_is_unset && !vlen)) {
			const char *msg = word_len ? word
					  : !set   ? "is not allowed to be unset"
						   : "is not allowed to be empty";
			size_t msg_len = word_len ? word_len : strlen(msg);

			return fail(ex, "%.*s: %.*s", clip(name, name_len), name,
				    clip(msg, msg_len), msg);
		}
		bale_buf_truncate(&ex->scratch, mark);
		return piece_ext(out, value, vlen);
	case '#':
	case '%':
		greedy = word_len > 0 && (unsigned char)word[0] == op;
		rc = trim(ex, op, word + greedy, word_len - greedy, greedy, value, vlen, out);
		bale_buf_truncate(&ex->scratch, mark);
		return rc;
	default:
		return fail(ex, "unsupported modifier (%.*s) in substitution", (int)chs_len, chs);
	}
}

/* ${name/pattern/replacement} and ${name//pattern/replacement}; the cursor is after `/`. */
static int substitute(struct expander *ex, const char *name, size_t name_len, struct piece *out)
{
	size_t mark = ex->scratch.len, pat_end, vlen;
	bool all = ex->pos < ex->len && ex->src[ex->pos] == '/', set;
	const char *value;
	int rc;

	if (all)
		ex->pos++;
	if ((rc = inner_word(ex, '/', true, "syntax error: missing '/' in ${}")) != 0)
		return rc;
	pat_end = ex->scratch.len;
	if ((rc = inner_word(ex, '}', true, "syntax error: missing '}'")) != 0)
		return rc;
	set = lookup(ex, name, name_len, &value, &vlen);
	if (!set && ex->skip_unset) {
		/* BuildKit writes one slash even for //. */
		const char *parts[] = {
		    "${", name, "/", ex->scratch.ptr + mark, "/", ex->scratch.ptr + pat_end, "}"};
		size_t lens[] = {2, name_len, 1, pat_end - mark, 1, ex->scratch.len - pat_end, 1};

		return rebuild(ex, mark, out, 7, parts, lens);
	}
	rc = replace(ex, all, ex->scratch.ptr + mark, pat_end - mark, ex->scratch.ptr + pat_end,
		     ex->scratch.len - pat_end, value, vlen, out);
	bale_buf_truncate(&ex->scratch, mark);
	return rc;
}

/* BuildKit's processDollar; the cursor is on the '$'. */
static int dollar(struct expander *ex, struct piece *out)
{
	size_t start = ex->pos, name_at, name_len, vlen, chs_len = 0;
	const char *value;
	char chs[8];
	uint32_t ch;
	bool set;

	ex->pos++;
	if (ex->pos >= ex->len || ex->src[ex->pos] != '{') {
		name_at = ex->pos;
		name_len = read_name(ex);
		if (!name_len)
			return piece_ext(out, "$", 1);
		set = lookup(ex, ex->src + name_at, name_len, &value, &vlen);
		if (!set && ex->skip_unset)
			return piece_ext(out, ex->src + start, ex->pos - start);
		return piece_ext(out, value, vlen);
	}
	ex->pos++;
	if (ex->pos >= ex->len)
		return fail(ex, "syntax error: missing '}'");
	if (ex->src[ex->pos] == '{' || ex->src[ex->pos] == '}' || ex->src[ex->pos] == ':')
		return fail(ex, "syntax error: bad substitution");
	name_at = ex->pos;
	name_len = read_name(ex);
	ch = take_rune(ex, chs, &chs_len);
	switch (ch) {
	case '}':
		set = lookup(ex, ex->src + name_at, name_len, &value, &vlen);
		if (!set && ex->skip_unset)
			return piece_ext(out, ex->src + start, ex->pos - start);
		return piece_ext(out, value, vlen);
	case ':':
		ch = take_rune(ex, chs, &chs_len);
		return modifier(ex, ex->src + name_at, name_len, ch, true, chs, chs_len, out);
	case '+':
	case '-':
	case '?':
	case '#':
	case '%':
		return modifier(ex, ex->src + name_at, name_len, ch, false, chs, chs_len, out);
	case '/':
		return substitute(ex, ex->src + name_at, name_len, out);
	default:
		return fail(ex, "unsupported modifier (%.*s) in substitution", (int)chs_len, chs);
	}
}

/* BuildKit's processSingleQuote: everything up to the next ' is literal. */
static int single_quote(struct expander *ex, bool split)
{
	const char *end;
	size_t from;
	int rc;

	ex->pos++;
	if (ex->raw_quotes && (rc = emit(ex, split, "'", 1)) != 0)
		return rc;
	from = ex->pos;
	end = memchr(ex->src + from, '\'', ex->len - from);
	if (!end) {
		ex->pos = ex->len;
		return fail(ex,
			    "unexpected end of statement while looking for matching single-quote");
	}
	ex->pos = (size_t)(end - ex->src) + 1;
	if ((rc = emit_sanitized(ex, split, ex->src + from, (size_t)(end - ex->src) - from)) != 0)
		return rc;
	if (ex->raw_quotes && (rc = emit(ex, split, "'", 1)) != 0)
		return rc;
	if (split)
		ex->in_word = true;
	return 0;
}

/*
 * BuildKit's processDoubleQuote: $ expands; the escape only escapes " $ and itself, and stays
 * as it is before anything else; the text never splits into fields.
 */
static int double_quote(struct expander *ex, bool split, bool raw_escapes)
{
	const unsigned char *s = (const unsigned char *)ex->src;
	int rc = 0;

	ex->pos++;
	if (ex->raw_quotes && (rc = emit(ex, split, "\"", 1)) != 0)
		return rc;
	if (split)
		ex->in_word = true;
	for (;;) {
		size_t i = ex->pos;
		unsigned char c;

		while (i < ex->len) {
			uint32_t cp;
			size_t w;

			if (s[i] < 0x80) {
				if (byte_class[s[i]] & ex->dquote_mask)
					break;
				i++;
				continue;
			}
			w = bale_utf8_decode(ex->src + i, ex->len - i, &cp);
			if (is_invalid(ex->src + i, w, cp))
				break;
			i += w;
		}
		if (i > ex->pos && (rc = emit(ex, split, ex->src + ex->pos, i - ex->pos)) != 0)
			return rc;
		ex->pos = i;
		if (i >= ex->len)
			return fail(ex, "unexpected end of statement while looking for matching "
					"double-quote");
		c = s[i];
		if (c == '"') {
			ex->pos++;
			return ex->raw_quotes ? emit(ex, split, "\"", 1) : 0;
		}
		if (c == '$') {
			struct piece pc;

			if ((rc = dollar(ex, &pc)) != 0 ||
			    (rc = emit_piece(ex, split, true, &pc)) != 0)
				return rc;
		} else if (c == ex->esc) {
			ex->pos++;
			if (raw_escapes && (rc = emit(ex, split, ex->src + i, 1)) != 0)
				return rc;
			if (ex->pos >= ex->len)
				continue;
			c = s[ex->pos];
			if (c == '"' || c == '$' || c == ex->esc) {
				rc = emit(ex, split, ex->src + ex->pos, 1);
				ex->pos++;
			} else {
				rc = emit(ex, split, ex->src + i, 1);
			}
			if (rc)
				return rc;
		} else {
			/* A byte that is not UTF-8. */
			if ((rc = emit(ex, split, replacement_char, 3)) != 0)
				return rc;
			ex->pos++;
		}
	}
}

/*
 * BuildKit's processStopOn: the word up to `stop` (-1: the end), written to scratch or, with
 * `split`, to the field splitter. Runs of plain text are copied in one go.
 */
static int process_until(struct expander *ex, int stop, bool raw_escapes, bool split)
{
	const unsigned char *s = (const unsigned char *)ex->src;
	unsigned char mask = split ? ex->split_mask : ex->plain_mask;
	int rc = 0;

	while (ex->pos < ex->len) {
		size_t i = ex->pos, w;
		uint32_t cp;
		unsigned char c;

		while (i < ex->len) {
			if (s[i] < 0x80) {
				if ((byte_class[s[i]] & mask) || s[i] == stop)
					break;
				i++;
				continue;
			}
			w = bale_utf8_decode(ex->src + i, ex->len - i, &cp);
			if (is_invalid(ex->src + i, w, cp) || (split && bale_unicode_is_space(cp)))
				break;
			i += w;
		}
		if (i > ex->pos) {
			if ((rc = emit(ex, split, ex->src + ex->pos, i - ex->pos)) != 0)
				return rc;
			ex->pos = i;
			continue;
		}
		c = s[i];
		if (c == stop) {
			ex->pos++;
			return 0;
		}
		if (c == '$') {
			struct piece pc;

			if ((rc = dollar(ex, &pc)) != 0 ||
			    (rc = emit_piece(ex, split, false, &pc)) != 0)
				return rc;
		} else if (c == '\'') {
			rc = single_quote(ex, split);
		} else if (c == '"') {
			rc = double_quote(ex, split, raw_escapes);
		} else if (c == ex->esc) {
			ex->pos++;
			if (raw_escapes && (rc = emit(ex, split, ex->src + i, 1)) != 0)
				return rc;
			if (ex->pos >= ex->len)
				break; /* an escape at the end is dropped */
			w = rune_at(ex->src + ex->pos, ex->len - ex->pos, &cp);
			rc = is_invalid(ex->src + ex->pos, w, cp)
				 ? emit(ex, split, replacement_char, 3)
				 : emit(ex, split, ex->src + ex->pos, w);
			ex->pos += w;
		} else if (c >= 0x80) {
			w = bale_utf8_decode(ex->src + i, ex->len - i, &cp);
			rc = is_invalid(ex->src + i, w, cp) ? emit(ex, split, replacement_char, 3)
							    : emit_space(ex);
			ex->pos += w;
		} else {
			/* ASCII white space, field splitting only. */
			rc = emit_space(ex);
			ex->pos++;
		}
		if (rc)
			return rc;
	}
	if (stop >= 0)
		return fail(ex, "unexpected end of statement while looking for matching %c", stop);
	return 0;
}

/* ---- Entry points ---- */

static int expander_init(struct expander *ex, const char *word, size_t len,
			 const bale_shell_opts *opts)
{
	static const bale_shell_opts defaults = {0};
	unsigned char esc_class;

	if (!opts)
		opts = &defaults;
	/* Field by field: most words never need the matcher, so it is not even zeroed. */
	ex->pos = 0;
	ex->depth = 0;
	ex->words = NULL;
	ex->in_word = false;
	ex->names_only = false;
	ex->m = NULL;
	ex->esc = opts->escape ? opts->escape : '\\';
	if (ex->esc != '\\' && ex->esc != '`')
		return bale_error_set(BALE_EINVAL, "escape character must be '\\' or '`', not %d",
				      opts->escape);
	esc_class = ex->esc == '\\' ? C_BACKSLASH : C_BACKTICK;
	ex->plain_mask = C_ALWAYS | esc_class;
	ex->split_mask = C_ALWAYS | C_SPACE | esc_class;
	ex->dquote_mask = C_DQUOTE | esc_class;
	ex->src = word ? word : "";
	ex->len = len;
	/* Go's scanner skips a byte order mark at the start of the word. */
	if (len >= 3 && memcmp(word, "\xef\xbb\xbf", 3) == 0)
		ex->pos = 3;
	ex->raw_quotes = opts->raw_quotes;
	ex->raw_escapes = opts->raw_escapes;
	ex->skip_unset = opts->skip_unset;
	ex->lookup = opts->lookup;
	ex->lookup_ctx = opts->lookup_ctx;
	ex->max = opts->max_len ? opts->max_len : BALE_SHELL_DEFAULT_MAX_LEN;
	/* bale_buf_init() of each, inline: this runs for every word expanded. */
	ex->scratch = (bale_buf)BALE_BUF_INIT;
	ex->scratch.max = ex->max;
	ex->work = ex->word = ex->scratch;
	ex->msg = (bale_buf)BALE_BUF_INIT;
	ex->msg.max = MESSAGE_MAX;
	return 0;
}

/* Most words leave most buffers unused: only those that allocated need releasing. */
static void buf_drop(bale_buf *buf)
{
	if (buf->alloc)
		bale_buf_release(buf);
}

static void expander_release(struct expander *ex)
{
	buf_drop(&ex->scratch);
	buf_drop(&ex->work);
	buf_drop(&ex->word);
	buf_drop(&ex->msg);
	if (ex->m) {
		free(ex->m->pat.runes);
		free(ex->m->pat.rev);
		free(ex->m->pat.items);
		free(ex->m->pat.kmp);
		free(ex->m->pat.segs);
		free(ex->m->text.r);
		free(ex->m->text.off);
		free(ex->m);
	}
}

/* Sets the library error: BuildKit's `failed to process "WORD": MESSAGE`. */
static int report(struct expander *ex, int rc)
{
	bale_buf quoted = BALE_BUF_INIT;
	size_t n = ex->len;

	if (rc == BALE_ENOMEM)
		return bale_error_oom();
	if (n > QUOTE_MAX) {
		n = QUOTE_MAX;
		while (n > 0 && ((unsigned char)ex->src[n] & 0xc0) == 0x80)
			n--;
	}
	if (bale_go_quote(&quoted, ex->src, n) != 0) {
		bale_buf_release(&quoted);
		return bale_error_oom();
	}
	bale_error_set(rc, "failed to process %s%s: %s", quoted.ptr, n < ex->len ? "..." : "",
		       ex->msg.ptr);
	bale_buf_release(&quoted);
	return rc;
}

/*
 * The common word has no $, quote or escape and is valid UTF-8 without a leading BOM: it
 * expands to itself. Returns how many bytes at the start are such plain text (with `split`,
 * white space also ends it), or 0 when the options are not valid or the word is over the cap,
 * so that the lexer reports those.
 */
static size_t plain_prefix(const char *word, size_t len, const bale_shell_opts *opts, bool split)
{
	const unsigned char *s = (const unsigned char *)word;
	int esc = opts && opts->escape ? opts->escape : '\\';
	size_t max = opts && opts->max_len ? opts->max_len : BALE_SHELL_DEFAULT_MAX_LEN, i = 0;
	unsigned char mask;

	if (len > max || (esc != '\\' && esc != '`'))
		return 0;
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 0;
	mask = C_ALWAYS | (esc == '`' ? C_BACKTICK : C_BACKSLASH) | (split ? C_SPACE : 0);
	while (i < len) {
		uint32_t cp;
		size_t w;

		if (s[i] < 0x80) {
			if (byte_class[s[i]] & mask)
				break;
			i++;
			continue;
		}
		w = bale_utf8_decode(word + i, len - i, &cp);
		if (is_invalid(word + i, w, cp) || (split && bale_unicode_is_space(cp)))
			break;
		i += w;
	}
	return i;
}

void bale_words_release(bale_words *words)
{
	/* Most lists released were never filled: no free(NULL) call for them. */
	if (!words || !words->v)
		return;
	for (size_t i = 0; i < words->n; i++)
		free(words->v[i]);
	free(words->v);
	words->v = NULL;
	words->n = 0;
	words->alloc = 0;
}

/*
 * The expander's part of expand_word for a word that is not all plain text (its first `plain`
 * bytes are): the result is left in `res`, whose memory the expander writes into. Names only,
 * no result is built, and `res` serves the inner words of ${...}.
 */
static int expand_word_into(bale_buf *res, const char *word, size_t len, size_t plain,
			    const bale_shell_opts *opts, bool names_only)
{
	struct expander ex;
	int rc;

	if ((rc = expander_init(&ex, word, len, opts)) != 0)
		return rc;
	ex.names_only = names_only;
	ex.scratch.ptr = res->ptr;
	ex.scratch.alloc = res->alloc;
	/* The result is usually about as long as the word: one allocation. */
	if (!names_only && bale_buf_grow(&ex.scratch, len < ex.max ? len : ex.max) != 0) {
		rc = buf_failed(&ex, ex.scratch.err);
		goto out;
	}
	/* The plain text scanned above is copied as the lexer would copy it. */
	if ((rc = emit(&ex, false, word, plain)) != 0)
		goto out;
	ex.pos += plain;
	rc = process_until(&ex, -1, ex.raw_escapes, false);
out:
	if (rc)
		rc = report(&ex, rc);
	/* The memory goes back to `res`, not to expander_release(). */
	res->ptr = ex.scratch.ptr;
	res->alloc = ex.scratch.alloc;
	res->len = ex.scratch.len;
	ex.scratch = (bale_buf)BALE_BUF_INIT;
	expander_release(&ex);
	return rc;
}

int bale_shell_expand_word(char **out, const char *word, size_t len, const bale_shell_opts *opts)
{
	bale_buf res = BALE_BUF_INIT;
	size_t plain;
	int rc;

	if (!out || (!word && len))
		return bale_error_set(BALE_EINVAL, "bale_shell_expand_word: no word or no output");
	*out = NULL;
	plain = plain_prefix(word, len, opts, false);
	if (plain == len) {
		*out = malloc(len + 1);
		if (!*out)
			return bale_error_oom();
		if (len)
			memcpy(*out, word, len);
		(*out)[len] = '\0';
		return 0;
	}
	if ((rc = expand_word_into(&res, word, len, plain, opts, false)) == 0 &&
	    !(*out = bale_buf_detach(&res, NULL)))
		rc = bale_error_oom();
	bale_buf_release(&res);
	return rc;
}

int bale_shell_expand_word_buf(bale_buf *out, const char *word, size_t len,
			       const bale_shell_opts *opts)
{
	size_t plain;

	if (!out || (!word && len))
		return bale_error_set(BALE_EINVAL,
				      "bale_shell_expand_word_buf: no word or no output");
	out->len = 0;
	plain = plain_prefix(word, len, opts, false);
	if (plain == len)
		return bale_buf_add(out, word, len) ? bale_error_oom() : 0;
	return expand_word_into(out, word, len, plain, opts, false);
}

int bale_shell_expand_names(bale_buf *work, const char *word, size_t len,
			    const bale_shell_opts *opts)
{
	size_t plain;

	if (!work || (!word && len))
		return bale_error_set(BALE_EINVAL, "bale_shell_expand_names: no word or no buffer");
	/* Plain text reads no variable and cannot fail. */
	plain = plain_prefix(word, len, opts, false);
	if (plain == len)
		return 0;
	work->len = 0;
	return expand_word_into(work, word, len, plain, opts, true);
}

int bale_shell_expand_words(bale_words *out, const char *word, size_t len,
			    const bale_shell_opts *opts)
{
	struct expander ex;
	size_t first, plain;
	int rc;

	if (!out || (!word && len))
		return bale_error_set(BALE_EINVAL, "bale_shell_expand_words: no word or no output");
	plain = plain_prefix(word, len, opts, true);
	if (plain == len) {
		char *w;

		if (!len)
			return 0;
		if (BALE_ARRAY_RESERVE(out->v, out->alloc, out->n + 1) != 0 ||
		    !(w = malloc(len + 1)))
			return bale_error_oom();
		memcpy(w, word, len);
		w[len] = '\0';
		out->v[out->n++] = w;
		return 0;
	}
	if ((rc = expander_init(&ex, word, len, opts)) != 0)
		return rc;
	first = out->n;
	ex.words = out;
	if ((rc = emit(&ex, plain > 0, word, plain)) == 0) {
		ex.pos += plain;
		rc = process_until(&ex, -1, ex.raw_escapes, true);
	}
	if (!rc && ex.word.len)
		rc = push_field(&ex);
	if (rc) {
		while (out->n > first)
			free(out->v[--out->n]);
		rc = report(&ex, rc);
	}
	expander_release(&ex);
	return rc;
}
