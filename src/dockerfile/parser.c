/*
 * The Dockerfile parser: bytes to a syntax tree, reading every input exactly as BuildKit's
 * parser (frontend/dockerfile/parser) does, quirks included, since `docker build` is the
 * definition of what a Dockerfile means. The steps, per physical line:
 *
 *   - parser directives (`# syntax=`, `# escape=`, `# check=`) only before anything else;
 *   - comment lines are dropped, also inside continuations; an empty line inside a
 *     continuation is dropped with a warning flag;
 *   - a line ending in the escape character (not itself escaped), then blanks, continues;
 *   - the logical line is split into the instruction word, leading `--flags`, and the rest,
 *     which each instruction's own rule turns into arguments (JSON array or shell string,
 *     whitespace list, name=value pairs, ...);
 *   - RUN, COPY and ADD (also under ONBUILD) in shell form may start heredocs, whose bodies are
 *     the lines that follow, up to each terminator.
 *
 * On top of the reference's rules, input that is not text (NUL bytes, invalid UTF-8) and input
 * over the size limits is refused with the position, so nothing downstream sees it.
 */
#include "dockerfile/internal.h"
#include "bale/shell.h"
#include "util/unicode.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ONBUILD_MAX_DEPTH 16

struct phys_line {
	const char *ptr; /* the line's bytes, its newline included when there is one */
	size_t len;
	size_t offset; /* of ptr in the source */
	uint32_t lineno;
	/*
	 * With SSE2, when `has_blanks`: bit i set when byte i of the line's first sixteen (read
	 * from the input, even past the line's end) is a blank or a tab. next_line() has those
	 * bytes in a register anyway, for the newline; line_indent() reads its answer here.
	 */
	bool has_blanks;
	unsigned blanks;
};

struct parser {
	bale_dockerfile *df;
	const char *src;
	size_t len, pos;
	uint32_t lineno; /* lines read so far */
	const char *filename;
	size_t max_line;
	int escape;
	int err;       /* a text error found by next_line() */
	size_t bad_at; /* the first NUL or invalid UTF-8 byte in src, or len */
	bool bad_nul;  /* and it is a NUL */
	bool directives_done;
	bool seen[3];
	bale_line_piece *pieces; /* where each piece of the logical line came from */
	const char **piece_src;	 /* and where its bytes are in src (both pieces_alloc long) */
	size_t npieces, pieces_alloc;
	const char **comments;
	size_t ncomments, comments_alloc;
	df_strvec args, flags;
	df_strvec words; /* parse_name_value()'s words, reused */
	bale_buf word;	 /* scratch for word building */
};

static const char *const directive_names[3] = {"syntax", "escape", "check"};

static const struct {
	const char *name;
	size_t len;
	bale_instr_kind kind;
} instructions[] = {
#define INSTR(name, kind)                                                                          \
	{                                                                                          \
		name, sizeof(name) - 1, kind                                                       \
	}
    INSTR("add", BALE_INSTR_ADD),
    INSTR("arg", BALE_INSTR_ARG),
    INSTR("cmd", BALE_INSTR_CMD),
    INSTR("copy", BALE_INSTR_COPY),
    INSTR("entrypoint", BALE_INSTR_ENTRYPOINT),
    INSTR("env", BALE_INSTR_ENV),
    INSTR("expose", BALE_INSTR_EXPOSE),
    INSTR("from", BALE_INSTR_FROM),
    INSTR("healthcheck", BALE_INSTR_HEALTHCHECK),
    INSTR("label", BALE_INSTR_LABEL),
    INSTR("maintainer", BALE_INSTR_MAINTAINER),
    INSTR("onbuild", BALE_INSTR_ONBUILD),
    INSTR("run", BALE_INSTR_RUN),
    INSTR("shell", BALE_INSTR_SHELL),
    INSTR("stopsignal", BALE_INSTR_STOPSIGNAL),
    INSTR("user", BALE_INSTR_USER),
    INSTR("volume", BALE_INSTR_VOLUME),
    INSTR("workdir", BALE_INSTR_WORKDIR),
#undef INSTR
};

const char *bale_instr_kind_name(bale_instr_kind kind)
{
	static const char *const names[] = {
	    "",	      "ADD",	    "ARG",	   "CMD",    "COPY",	   "ENTRYPOINT", "ENV",
	    "EXPOSE", "FROM",	    "HEALTHCHECK", "LABEL",  "MAINTAINER", "ONBUILD",	 "RUN",
	    "SHELL",  "STOPSIGNAL", "USER",	   "VOLUME", "WORKDIR",
	};

	if ((size_t)kind >= BALE_ARRAY_SIZE(names))
		return "";
	return names[kind];
}

/* Sets a parse error at a position: "FILE:LINE:COL: message". */
static int parse_error(struct parser *p, int code, uint32_t line, uint32_t col, const char *fmt,
		       ...) __attribute__((format(printf, 5, 6)));

static int parse_error(struct parser *p, int code, uint32_t line, uint32_t col, const char *fmt,
		       ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bale_error_set(code, "%s:%u:%u: %s", p->filename, line ? line : 1, col ? col : 1,
			      msg);
}

/* Re-labels an error from a helper (word expansion, JSON) with the instruction's position. */
static int parse_error_from_last(struct parser *p, uint32_t line, uint32_t col)
{
	const bale_error *err = bale_error_last();
	char msg[2048];

	snprintf(msg, sizeof(msg), "%s", err->message);
	return parse_error(p, err->code == BALE_ENOMEM ? BALE_ENOMEM : BALE_EPARSE, line, col, "%s",
			   msg);
}

static int text_error(struct parser *p, const struct phys_line *l, size_t bad, bool nul);
static int check_line_length(struct parser *p, const struct phys_line *pl);

/*
 * Finds the first byte that is not text: a NUL, or a byte where the UTF-8 before the first NUL
 * goes wrong. No sequence of valid UTF-8 holds a newline, so this is where checking the lines
 * one by one, each up to its first NUL, would stop; the whole input is checked at once.
 */
static void find_bad_text(struct parser *p)
{
	const char *nul = memchr(p->src, '\0', p->len);
	size_t upto = nul ? (size_t)(nul - p->src) : p->len, bad;

	p->bad_at = p->len;
	p->bad_nul = false;
	if (!bale_utf8_valid(p->src, upto, &bad)) {
		p->bad_at = bad;
	} else if (nul) {
		p->bad_at = upto;
		p->bad_nul = true;
	}
}

/*
 * memchr(s + i, '\n', n - i), where the first `i` bytes of s are known to hold none. Lines are
 * short, some thirty bytes: SSE2, where it is there, answers them in a step or two, with no
 * call; the last bytes of the input are read as the sixteen that end it, so nothing past it is
 * read.
 */
static inline const char *find_newline(const char *s, size_t n, size_t i)
{
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');
	unsigned bits;

	for (; n - i >= 16; i += 16) {
		bits = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), nl));
		if (bits)
			return s + i + __builtin_ctz(bits);
	}
	if (i == n)
		return NULL;
	if (n >= 16) {
		bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			   _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)), nl)) >>
		       (16 - (n - i));
		return bits ? s + i + __builtin_ctz(bits) : NULL;
	}
#endif
	return memchr(s + i, '\n', n - i);
}

/*
 * The next physical line, its text checked (no NUL byte, valid UTF-8) by find_bad_text(). False
 * at the end, or on a text error, which is then in p->err: callers check it after their loops.
 * A text error also ends the input (p->pos goes to its end), so one test answers both.
 */
static inline __attribute__((always_inline)) bool next_line(struct parser *p, struct phys_line *out)
{
	const char *s = p->src + p->pos, *nl;
	size_t n = p->len - p->pos, len;

	if (p->pos >= p->len)
		return false;
#if defined(__SSE2__)
	/* The first sixteen bytes are read once, for the newline and for line_indent(). */
	out->has_blanks = n >= 16;
	if (n >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		unsigned bits = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));

		out->blanks = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
		nl = bits ? s + __builtin_ctz(bits) : find_newline(s, n, 16);
	} else {
		out->blanks = 0; /* unread: has_blanks is false */
		nl = find_newline(s, n, 0);
	}
#else
	nl = find_newline(s, n, 0);
#endif
	len = nl ? (size_t)(nl - s) + 1 : n;
	out->ptr = s;
	out->len = len;
	out->offset = p->pos;
	out->lineno = ++p->lineno;
	p->pos += len;
	if (p->bad_at < p->pos) {
		p->err = text_error(p, out, p->bad_at - out->offset, p->bad_nul);
		p->pos = p->len;
		return false;
	}
	return true;
}

/*
 * bale_unicode_space_prefix() of the first `len` bytes of line `pl`. Lines are indented with
 * blanks and tabs: where SSE2 is there, the first sixteen bytes were tested at once by
 * next_line().
 */
static inline size_t line_indent(const struct phys_line *pl, size_t len)
{
	const char *s = pl->ptr;

#if defined(__SSE2__)
	if (pl->has_blanks) {
		size_t n = (size_t)__builtin_ctz(~pl->blanks);

		if (n >= len)
			return len;
		/* What the inline function hands on: other white space, or past sixteen blanks. */
		if (n == 16 || (unsigned char)s[n] >= 0x80 || (s[n] >= '\n' && s[n] <= '\r'))
			return bale_unicode_space_prefix_from(s, len, n);
		return n;
	}
#endif
	return bale_unicode_space_prefix(s, len);
}

/*
 * Go's bytes.TrimRight(s, "\r\n") on a physical line: its only newline is the last byte, so
 * that one goes, then any carriage returns.
 */
static size_t trim_newline(const char *s, size_t len)
{
	if (len > 0 && s[len - 1] == '\n')
		len--;
	while (len > 0 && s[len - 1] == '\r')
		len--;
	return len;
}

/* bale_unicode_trim_right(), answered inline when the text ends in a plain ASCII byte. */
static size_t trim_right(const char *s, size_t len)
{
	unsigned char c = len ? (unsigned char)s[len - 1] : 0;

	if (c > ' ' && c < 0x80)
		return len;
	return bale_unicode_trim_right(s, len);
}

/*
 * Whether "<<" occurs in the `len` bytes at `s`. memchr finds the rare '<' many bytes at a
 * time; a two-byte memmem walks every byte, and every RUN line is asked.
 */
static bool has_heredoc_marker(const char *s, size_t len)
{
	const char *end = s + len, *lt;

	for (; s < end && (lt = memchr(s, '<', (size_t)(end - s))) != NULL; s = lt + 1)
		if (lt + 1 < end && lt[1] == '<')
			return true;
	return false;
}

/* BuildKit's reWhitespace, [\t\v\f\r ]. */
static bool is_re_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * The first byte of s[i, end) that is [\t\v\f\r ], or `end`: the end of the instruction's
 * keyword. Where SSE2 is there and sixteen bytes are, they are tested at once.
 */
static size_t word_end(const char *s, size_t i, size_t end)
{
#if defined(__SSE2__)
	if (end - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* \t to \r are those that stay under 5 once \t is taken off, but \n. */
		__m128i ctl = _mm_cmpeq_epi8(
		    _mm_min_epu8(_mm_sub_epi8(v, _mm_set1_epi8('\t')), _mm_set1_epi8(4)),
		    _mm_sub_epi8(v, _mm_set1_epi8('\t')));
		unsigned bits = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
				 _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')), ctl)));

		if (bits)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#endif
	while (i < end && !is_re_space(s[i]))
		i++;
	return i;
}

/*
 * Go code that does unicode.IsSpace(rune(s[i])) on single bytes: besides ASCII white space,
 * the bytes 0x85 and 0xA0 count (as the Latin-1 code points NEL and NBSP).
 */
static bool is_byte_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xa0;
}

/*
 * Appends byte `c` as Go's `string(rune(c))` does: bytes of 0x80 and above become the UTF-8
 * encoding of that Latin-1 code point. BuildKit builds flag words that way.
 */
static void add_byte_as_rune(bale_buf *buf, unsigned char c)
{
	if (c < 0x80) {
		bale_buf_addch(buf, c);
	} else {
		char b[2] = {(char)(0xc0 | (c >> 6)), (char)(0x80 | (c & 0x3f))};

		bale_buf_add(buf, b, 2);
	}
}

/*
 * A parser directive: '#', white space, NAME, '=', VALUE (spaces trimmed). Returns 1 when the
 * line is a known directive (recorded), 0 when it is not (directives end), or an error.
 */
static int parser_directive(struct parser *p, const char *s, size_t len, uint32_t lineno)
{
	size_t i, name_start, name_end, val_start, val_end;
	int which = -1;

	if (len == 0 || s[0] != '#')
		return 0;
	i = 1 + bale_unicode_space_prefix(s + 1, len - 1);
	name_start = i;
	if (i >= len || !((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		return 0;
	while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			   (s[i] >= '0' && s[i] <= '9')))
		i++;
	name_end = i;
	/* Go's regexp \s: [\t\n\f\r ]. */
#define RE_S(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\f' || (c) == '\r')
	while (i < len && RE_S(s[i]))
		i++;
	if (i >= len || s[i] != '=')
		return 0;
	i++;
	while (i < len && RE_S(s[i]))
		i++;
	val_start = i;
	val_end = len;
	while (val_end > val_start && RE_S(s[val_end - 1]))
		val_end--;
#undef RE_S
	if (val_end == val_start)
		return 0;
	for (int d = 0; d < 3; d++)
		if (name_end - name_start == strlen(directive_names[d]) &&
		    strncasecmp(s + name_start, directive_names[d], name_end - name_start) == 0)
			which = d;
	if (which < 0)
		return 0;
	if (p->seen[which])
		return parse_error(p, BALE_EPARSE, lineno, 1,
				   "only one %s parser directive can be used",
				   directive_names[which]);
	p->seen[which] = true;
	if (which == 1) {
		if (val_end - val_start != 1 || (s[val_start] != '\\' && s[val_start] != '`'))
			return parse_error(p, BALE_EPARSE, lineno, (uint32_t)val_start + 1,
					   "invalid escape token '%.*s' does not match ` or \\",
					   (int)(val_end - val_start), s + val_start);
		p->escape = s[val_start];
		p->df->escape = p->escape;
	}
	{
		bale_directive *d = &p->df->directives[p->df->ndirectives++];

		d->name = directive_names[which];
		d->value = bale_arena_strndup(&p->df->arena, s + val_start, val_end - val_start);
		d->line = lineno;
		if (!d->value)
			return BALE_ENOMEM;
	}
	return 1;
}

/*
 * BuildKit's line continuation: the escape character as the last non-blank ([ \t]) character,
 * not preceded by another escape character. Returns the length with the escape and blanks cut,
 * and sets *cont; else returns `len` unchanged.
 */
static size_t trim_continuation(const struct parser *p, const char *s, size_t len, bool *cont)
{
	size_t e = len;

	while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	*cont = false;
	if (e == 0 || s[e - 1] != p->escape)
		return len;
	if (e >= 2 && s[e - 2] == p->escape)
		return len;
	*cont = true;
	return e - 1;
}

/*
 * trim_newline() and then trim_continuation() on a physical line, in one look back from its
 * end. Most lines end in the escape character or another plain byte right before the newline,
 * and are settled at once.
 */
static size_t trim_line(const struct parser *p, const char *s, size_t len, bool *cont)
{
	size_t e = len - (len > 0 && s[len - 1] == '\n');
	unsigned char c = e ? (unsigned char)s[e - 1] : 0;

	if (c == (unsigned char)p->escape) {
		*cont = e < 2 || s[e - 2] != p->escape;
		return e - *cont;
	}
	if (c > ' ') {
		*cont = false;
		return e;
	}
	return trim_continuation(p, s, trim_newline(s, len), cont);
}

static int add_comment(struct parser *p, const char *s, size_t len)
{
	/* BuildKit takes the text after the line's first byte, trimmed (not after the '#'). */
	size_t start = 1 + bale_unicode_space_prefix(s + 1, len - 1);
	size_t end = bale_unicode_trim_right(s, len);
	char *c;

	if (start >= end) {
		p->ncomments = 0;
		return 0;
	}
	if (BALE_ARRAY_RESERVE(p->comments, p->comments_alloc, p->ncomments + 1))
		return BALE_ENOMEM;
	c = bale_arena_strndup(&p->df->arena, s + start, end - start);
	if (!c)
		return BALE_ENOMEM;
	p->comments[p->ncomments++] = c;
	return 0;
}

/* --- turning a logical line into an instruction ------------------------------------------ */

struct line_ctx {
	const char *orig; /* arena copy of the logical line, NUL-terminated */
	size_t orig_len;
	uint32_t line, col;
};

/*
 * Returns a NUL-terminated copy of [s, s+len) in the arena, or `s` itself when it already
 * ends where the arena copy of the line ends (the common case for shell-form RUN lines).
 */
static const char *intern(struct parser *p, const struct line_ctx *lc, const char *s, size_t len)
{
	if (s + len == lc->orig + lc->orig_len && s >= lc->orig)
		return s;
	return bale_arena_strndup(&p->df->arena, s, len);
}

static int push_arg(struct parser *p, const struct line_ctx *lc, const char *s, size_t len)
{
	const char *v = intern(p, lc, s, len);

	if (!v)
		return BALE_ENOMEM;
	return df_strvec_push(&p->args, v, len);
}

static int push_word(struct parser *p, df_strvec *vec)
{
	char *v;

	if (p->word.err)
		return p->word.err;
	v = bale_arena_strndup(&p->df->arena, p->word.ptr, p->word.len);
	if (!v)
		return BALE_ENOMEM;
	return df_strvec_push(vec, v, p->word.len);
}

/*
 * The leading `--flag` words of an instruction (BuildKit's extractBuilderFlags): quotes and
 * backslashes are processed byte by byte, a lone `--` ends the flags. Returns the offset of
 * the rest of the line.
 */
/*
 * ASCII bytes that may end a plain run (see plain_run()): 1 outside quotes (white space, quotes
 * and both escape characters), 2 inside quotes (quotes and escape characters).
 */
static const unsigned char run_stop[128] = {
    ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    [' '] = 1,	['\''] = 3, ['"'] = 3,	['\\'] = 3, ['`'] = 3,
};

#if defined(__SSE2__)
/*
 * Where SSE2 is there, sixteen bytes at a time: a bit per byte that may end a run. A signed compare
 * with 0x28 takes in the bytes of 0x80 and above as well as white space and quotes.
 */
static unsigned may_end_run16(const char *p, bool quoted)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('`')));

	if (quoted)
		m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\'')),
						 _mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
	else
		m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x28)));
	return (unsigned)_mm_movemask_epi8(m) | (unsigned)_mm_movemask_epi8(v);
}
#else
/* Without SSE2, eight bytes at a time as one 64-bit word. */
#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when one of the eight bytes of `x` is under `n` <= 0x80. */
static uint64_t has_below(uint64_t x, unsigned char n)
{
	return (x - ONES * n) & ~x & HIGHS;
}

/* Nonzero when one of the eight bytes of `x` is `c`. */
static uint64_t has_byte(uint64_t x, unsigned char c)
{
	uint64_t v = x ^ (ONES * c);

	return (v - ONES) & ~v & HIGHS;
}

/*
 * Whether eight bytes may hold one that ends a plain run (see plain_run()): a test that never
 * misses one, and seldom flags a byte that is not (a control character, `$`, ...).
 */
static bool may_end_run(uint64_t x, bool quoted)
{
	uint64_t m = (x & HIGHS) | has_byte(x, '\\') | has_byte(x, '`');

	/* Outside quotes: white space and both quotes are all under 0x28. */
	m |= quoted ? has_byte(x, '\'') | has_byte(x, '"') : has_below(x, 0x28);
	return m != 0;
}
#endif

/*
 * The end of the run of ASCII bytes from `pos` that parse_words() and extract_flags() copy as
 * they are: up to a byte of 0x80 or above, the escape character, and (outside quotes, `quote`
 * 0) a quote or white space, or (inside) the closing `quote`. Eight bytes are passed over at a
 * time while none may end the run; a table settles each byte of the others.
 */
static size_t plain_run(const char *s, size_t len, size_t pos, int escape, uint32_t quote)
{
	unsigned char mask = quote ? 2 : 1;

	for (;;) {
		size_t stop;

#if defined(__SSE2__)
		/*
		 * Sixteen bytes a step where SSE2 is there, up to the first that may end it; the
		 * last bytes are read as the sixteen that end `s`.
		 */
		for (unsigned bits;; pos += 16) {
			if (len - pos >= 16) {
				bits = may_end_run16(s + pos, quote != 0);
			} else if (pos < len && len >= 16) {
				bits =
				    may_end_run16(s + len - 16, quote != 0) >> (16 - (len - pos));
				if (!bits)
					return len;
			} else {
				break;
			}
			if (bits) {
				pos += (size_t)__builtin_ctz(bits);
				break;
			}
		}
#else
		uint64_t x;

		while (len - pos >= 8 && (memcpy(&x, s + pos, 8), !may_end_run(x, quote != 0)))
			pos += 8;
#endif
		stop = len - pos > 8 ? pos + 8 : len;
		for (; pos < stop; pos++) {
			unsigned char c = (unsigned char)s[pos];

			if (c >= 0x80)
				return pos;
			if (!(run_stop[c] & mask))
				continue;
			/* The other escape character is plain text, and so is the other quote
			 * inside. */
			if (c == (unsigned char)escape ||
			    (quote ? c == quote : c != '\\' && c != '`'))
				return pos;
		}
		if (pos >= len)
			return pos;
	}
}

/*
 * Appends the ASCII bytes from s[pos] up to the first byte extract_flags() treats on its own (a
 * space, a quote or `quote`, a backslash, a byte of 0x80 or above) in one go, as
 * add_byte_as_rune() would one by one. Returns the position of the last byte appended.
 */
static size_t add_plain_run(bale_buf *buf, const char *s, size_t len, size_t pos,
			    unsigned char quote)
{
	size_t end = plain_run(s, len, pos + 1, '\\', quote);

	bale_buf_add_fast(buf, s + pos, end - pos);
	return end - 1;
}

static int extract_flags(struct parser *p, const char *s, size_t len, size_t *rest)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	unsigned char quote = 0;
	bool blank_ok = false;
	int rc;

	for (size_t pos = 0; pos <= len; pos++) {
		unsigned char ch = pos < len ? (unsigned char)s[pos] : 0;

		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (is_byte_space(ch))
				continue;
			if (ch != '-' || pos + 1 == len || s[pos + 1] != '-') {
				*rest = pos;
				return 0;
			}
			/* Each word starts empty, emptied only here: most instructions have no
			 * flags. */
			bale_buf_reset(&p->word);
			phase = IN_WORD;
		}
		if (pos == len) {
			bool dashdash = p->word.len == 2 && memcmp(p->word.ptr, "--", 2) == 0;

			if (!dashdash && (blank_ok || p->word.len > 0))
				if ((rc = push_word(p, &p->flags)) != 0)
					return rc;
			break;
		}
		if (phase == IN_WORD) {
			if (is_byte_space(ch)) {
				phase = IN_SPACES;
				if (p->word.len == 2 && memcmp(p->word.ptr, "--", 2) == 0) {
					*rest = pos;
					return 0;
				}
				if (blank_ok || p->word.len > 0)
					if ((rc = push_word(p, &p->flags)) != 0)
						return rc;
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len)
					continue;
				ch = (unsigned char)s[++pos];
			} else if (ch < 0x80) {
				pos = add_plain_run(&p->word, s, len, pos, 0);
				continue;
			}
			add_byte_as_rune(&p->word, ch);
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote) {
			phase = IN_WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			ch = (unsigned char)s[++pos];
		} else if (ch < 0x80) {
			pos = add_plain_run(&p->word, s, len, pos, quote);
			continue;
		}
		add_byte_as_rune(&p->word, ch);
	}
	*rest = len;
	return 0;
}

/* bale_utf8_decode(), with ASCII answered inline. */
static size_t decode(const char *s, size_t len, uint32_t *cp)
{
	if ((unsigned char)s[0] < 0x80) {
		*cp = (unsigned char)s[0];
		return 1;
	}
	return bale_utf8_decode(s, len, cp);
}

/* bale_unicode_is_space(), with ASCII answered inline. */
static bool is_space_rune(uint32_t cp)
{
	return cp < 0x80 ? cp == ' ' || (cp >= '\t' && cp <= '\r') : bale_unicode_is_space(cp);
}

/*
 * Words with quotes kept (BuildKit's parseWords), for ENV, LABEL and ARG: split on Unicode
 * white space outside quotes; the escape character keeps the next character in the word.
 */
static int parse_words(struct parser *p, const char *s, size_t len, df_strvec *out)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	uint32_t quote = 0;
	bool blank_ok = false;
	size_t width = 0;
	int rc;

	bale_buf_reset(&p->word);
	for (size_t pos = 0; pos <= len; pos += width) {
		uint32_t ch = 0;

		if (pos < len)
			width = decode(s + pos, len - pos, &ch);
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (is_space_rune(ch))
				continue;
			phase = IN_WORD;
		}
		if (pos == len) {
			if (blank_ok || p->word.len > 0)
				if ((rc = push_word(p, out)) != 0)
					return rc;
			break;
		}
		if (phase == IN_WORD) {
			if (is_space_rune(ch)) {
				phase = IN_SPACES;
				if (blank_ok || p->word.len > 0)
					if ((rc = push_word(p, out)) != 0)
						return rc;
				bale_buf_reset(&p->word);
				blank_ok = false;
				continue;
			}
			if (ch < 0x80 && ch != '\'' && ch != '"' && ch != (uint32_t)p->escape) {
				width = plain_run(s, len, pos + 1, p->escape, 0) - pos;
				bale_buf_add_fast(&p->word, s + pos, width);
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
			}
			if (ch == (uint32_t)p->escape) {
				if (pos + width == len)
					continue;
				bale_buf_add_fast(&p->word, s + pos, width);
				pos += width;
				width = bale_utf8_decode(s + pos, len - pos, &ch);
			}
			bale_buf_add_fast(&p->word, s + pos, width);
			continue;
		}
		/* IN_QUOTE */
		if (ch < 0x80 && ch != quote && ch != (uint32_t)p->escape) {
			width = plain_run(s, len, pos + 1, p->escape, quote) - pos;
			bale_buf_add_fast(&p->word, s + pos, width);
			continue;
		}
		if (ch == quote)
			phase = IN_WORD;
		if (ch == (uint32_t)p->escape && quote != '\'') {
			if (pos + width == len) {
				phase = IN_WORD;
				continue;
			}
			bale_buf_add_fast(&p->word, s + pos, width);
			pos += width;
			width = bale_utf8_decode(s + pos, len - pos, &ch);
		}
		bale_buf_add_fast(&p->word, s + pos, width);
	}
	return p->word.err;
}

#if defined(__SSE2__)
/* A bit per byte of p[0, 16) that is under 0x21: a control character or a space. */
static unsigned under_0x21(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	return ~(unsigned)_mm_movemask_epi8(
		   _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x21)), v)) &
	       0xffff;
}
#endif

/* BuildKit's parseStringsWhitespaceDelimited: split on runs of [\t\v\f\r ]. */
static int parse_whitespace_list(struct parser *p, const struct line_ctx *lc, const char *s,
				 size_t len)
{
	size_t start = 0;
	int rc;

	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
#if defined(__SSE2__)
		/*
		 * Sixteen bytes a step where SSE2 is there: the first under 0x21 ends it. The last
		 * bytes are read as the sixteen that end `s`.
		 */
		for (unsigned low;; i += 16) {
			if (len - i >= 16)
				low = under_0x21(s + i);
			else if (i < len && len >= 16)
				low = under_0x21(s + len - 16) >> (16 - (len - i));
			else
				break;
			if (low || len - i <= 16) {
				i = low ? i + (size_t)__builtin_ctz(low) : len;
				break;
			}
		}
#else
		uint64_t x;

		/* Eight bytes at a time while none is a control character or a space. */
		while (len - i >= 8 && (memcpy(&x, s + i, 8), !has_below(x, 0x21)))
			i += 8;
#endif
		if (i < len && !is_re_space(s[i]))
			continue;
		if ((rc = push_arg(p, lc, s + start, i - start)) != 0)
			return rc;
		while (i < len && is_re_space(s[i]))
			i++;
		start = i;
		if (i == len)
			break;
	}
	return 0;
}

/* ENV and LABEL: `name value` (legacy) or `name=value ...`, as name, value, separator. */
static int parse_name_value(struct parser *p, const struct line_ctx *lc, const char *key,
			    const char *s, size_t len)
{
	df_strvec *w = &p->words;
	int rc;

	w->n = 0;
	if ((rc = parse_words(p, s, len, w)) != 0)
		goto out;
	if (w->n == 0)
		goto out;
	if (!memchr(w->v[0], '=', w->lens[0])) {
		size_t i = 0, j;

		while (i < len && !is_re_space(s[i]))
			i++;
		if (i == len) {
			rc = parse_error(p, BALE_EPARSE, lc->line, lc->col,
					 "%s must have two arguments", key);
			goto out;
		}
		j = i;
		while (j < len && is_re_space(s[j]))
			j++;
		if ((rc = push_arg(p, lc, s, i)) || (rc = push_arg(p, lc, s + j, len - j)) ||
		    (rc = df_strvec_push(&p->args, "", 0)))
			goto out;
		goto out;
	}
	for (size_t k = 0; k < w->n; k++) {
		const char *eq = memchr(w->v[k], '=', w->lens[k]);
		size_t klen;

		if (!eq) {
			bale_buf q = BALE_BUF_INIT;

			bale_go_quote(&q, w->v[k], w->lens[k]);
			rc = parse_error(p, BALE_EPARSE, lc->line, lc->col,
					 "Syntax error - can't find = in %s. Must be of the form: "
					 "name=value",
					 q.ptr);
			bale_buf_release(&q);
			goto out;
		}
		klen = (size_t)(eq - w->v[k]);
		{
			/*
			 * The word is our own copy in the arena: its '=' becomes the key's end, and
			 * the value is its tail, already NUL-terminated.
			 */
			char *name = (char *)w->v[k];

			name[klen] = '\0';
			if ((rc = df_strvec_push(&p->args, name, klen)) ||
			    (rc = df_strvec_push(&p->args, eq + 1, w->lens[k] - klen - 1)) ||
			    (rc = df_strvec_push(&p->args, "=", 1)))
				goto out;
		}
	}
out:
	return rc;
}

/* BuildKit's parseMaybeJSON (`to_list` false) and parseMaybeJSONToList (`to_list` true). */
static int parse_maybe_json(struct parser *p, const struct line_ctx *lc, bale_instruction *ins,
			    const char *s, size_t len, bool to_list)
{
	int rc;

	if (len == 0 && !to_list)
		return 0;
	rc = df_json_string_array(&p->args, &p->df->arena, s, len);
	if (rc < 0)
		return parse_error_from_last(p, lc->line, lc->col);
	if (rc == 1) {
		ins->json = true;
		return 0;
	}
	if (to_list)
		return parse_whitespace_list(p, lc, s, len);
	return push_arg(p, lc, s, len);
}

static int parse_line(struct parser *p, const struct line_ctx *lc, const char *line, size_t len,
		      bale_instruction *ins, int depth);

/* Stores the collected flags and arguments (from index `args_from`) in the instruction. */
static int finish_instruction(struct parser *p, bale_instruction *ins, size_t flags_from,
			      size_t args_from)
{
	size_t nflags = p->flags.n - flags_from, nargs = p->args.n - args_from;

	if (nflags) {
		const char **f = bale_arena_alloc(&p->df->arena, nflags * sizeof(*f));

		if (!f)
			return BALE_ENOMEM;
		memcpy(f, p->flags.v + flags_from, nflags * sizeof(*f));
		ins->flags = f;
		ins->nflags = nflags;
	}
	if (nargs) {
		/* One block for both arrays: fewer, fuller arena slots. */
		const char **a =
		    bale_arena_alloc(&p->df->arena, nargs * (sizeof(*a) + sizeof(size_t)));
		size_t *l = (size_t *)(a + nargs);

		if (!a)
			return BALE_ENOMEM;
		/* A single argument (shell-form RUN, WORKDIR, USER) needs no call to copy. */
		if (nargs == 1) {
			a[0] = p->args.v[args_from];
			l[0] = p->args.lens[args_from];
		} else {
			memcpy(a, p->args.v + args_from, nargs * sizeof(*a));
			memcpy(l, p->args.lens + args_from, nargs * sizeof(*l));
		}
		ins->args = a;
		ins->arg_lens = l;
		ins->nargs = nargs;
	}
	p->flags.n = flags_from;
	p->args.n = args_from;
	return 0;
}

/*
 * Whether the `len` (at most 16) bytes at `s` are those at `key`, with each byte of `s` or'ed
 * with 0x20 first when `fold` (any case against a lower-case key of letters). The bytes are read
 * as two loads of the widest size that fits, overlapping when `len` is not twice it, never past
 * the `len` bytes: a keyword is compared in a few steps, not byte by byte.
 */
static inline __attribute__((always_inline)) bool same_keyword(const char *s, const char *key,
							       size_t len, bool fold)
{
	if (len >= 8) {
		uint64_t m = fold ? 0x2020202020202020ull : 0, a, b, x, y;

		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
		memcpy(&x, key, 8);
		memcpy(&y, key + len - 8, 8);
		return ((a | m) ^ x) == 0 && ((b | m) ^ y) == 0;
	}
	if (len >= 4) {
		uint32_t m = fold ? 0x20202020u : 0, a, b, x, y;

		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		memcpy(&x, key, 4);
		memcpy(&y, key + len - 4, 4);
		return ((a | m) ^ x) == 0 && ((b | m) ^ y) == 0;
	}
	if (len >= 2) {
		uint16_t m = fold ? 0x2020u : 0, a, b, x, y;

		memcpy(&a, s, 2);
		memcpy(&b, s + len - 2, 2);
		memcpy(&x, key, 2);
		memcpy(&y, key + len - 2, 2);
		return (uint16_t)(a | m) == x && (uint16_t)(b | m) == y;
	}
	return len == 0 || (unsigned char)(s[0] | (fold ? 0x20 : 0)) == (unsigned char)key[0];
}

/* The kind of instruction word `word` (any case); sets *name to its lower-case name. */
static bale_instr_kind lookup_kind(const char *word, size_t len, const char **name)
{
	/* 1 + the index in instructions[] (sorted) of the first name with that initial. */
	static const unsigned char by_initial[26] = {
	    ['a' - 'a'] = 1,  ['c' - 'a'] = 3,	['e' - 'a'] = 5,  ['f' - 'a'] = 8,
	    ['h' - 'a'] = 9,  ['l' - 'a'] = 10, ['m' - 'a'] = 11, ['o' - 'a'] = 12,
	    ['r' - 'a'] = 13, ['s' - 'a'] = 14, ['u' - 'a'] = 16, ['v' - 'a'] = 17,
	    ['w' - 'a'] = 18,
	};
	char first = len ? bale_ascii_lower(word[0]) : 0;
	size_t from = first >= 'a' && first <= 'z' ? by_initial[first - 'a'] : 0;

	for (size_t i = from ? from - 1 : BALE_ARRAY_SIZE(instructions);
	     i < BALE_ARRAY_SIZE(instructions) && instructions[i].name[0] == first; i++) {
		const char *n = instructions[i].name;

		if (instructions[i].len == len && same_keyword(word, n, len, true)) {
			*name = n;
			return instructions[i].kind;
		}
	}
	*name = NULL;
	return BALE_INSTR_UNKNOWN;
}

/*
 * The instruction word as written, NUL-terminated: the static spelling when it is written all
 * in upper or all in lower case, as nearly always, else a copy.
 */
static const char *keyword_text(struct parser *p, bale_instr_kind kind, const char *name,
				const char *word, size_t len)
{
	/* A known word has the length of its names (at most 16 bytes). */
	if (kind != BALE_INSTR_UNKNOWN) {
		const char *upper = bale_instr_kind_name(kind);

		if (same_keyword(word, upper, len, false))
			return upper;
		if (same_keyword(word, name, len, false))
			return name;
	}
	return bale_arena_strndup(&p->df->arena, word, len);
}

/*
 * BuildKit's newNodeFromLine: `line` (within lc->orig) becomes `ins`. ONBUILD recurses for
 * the instruction it wraps, at most ONBUILD_MAX_DEPTH deep.
 */
static int parse_line(struct parser *p, const struct line_ctx *lc, const char *line, size_t len,
		      bale_instruction *ins, int depth)
{
	size_t flags_from = p->flags.n, args_from = p->args.n;
	size_t start, end, cmd_end, rest_start, rest;
	char *name;
	int rc;

	start = bale_unicode_space_prefix(line, len);
	end = start + trim_right(line + start, len - start);
	cmd_end = word_end(line, start, end);
	rest_start = cmd_end;
	while (rest_start < end && is_re_space(line[rest_start]))
		rest_start++;

	ins->original = intern(p, lc, line, len);
	ins->kind = lookup_kind(line + start, cmd_end - start, &ins->name);
	ins->keyword = keyword_text(p, ins->kind, ins->name, line + start, cmd_end - start);
	if (!ins->original || !ins->keyword)
		return BALE_ENOMEM;
	if (ins->kind == BALE_INSTR_UNKNOWN) {
		/* Known instructions share the table's name; an unknown word gets its own. */
		name = bale_arena_strndup(&p->df->arena, line + start, cmd_end - start);
		if (!name)
			return BALE_ENOMEM;
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		ins->name = name;
	}
	ins->start_line = lc->line;
	ins->start_col = lc->col;

	if (cmd_end < end) {
		const char *r = line + rest_start;
		size_t rlen = end - rest_start;

		if ((rc = extract_flags(p, r, rlen, &rest)) != 0)
			return rc;
		/* The arguments: the rest, trimmed (strings.TrimSpace). */
		r += rest;
		rlen -= rest;
		rest = bale_unicode_space_prefix(r, rlen);
		r += rest;
		rlen = trim_right(r, rlen - rest);
		line = r;
		len = rlen;
	} else {
		len = 0;
	}

	switch (ins->kind) {
	case BALE_INSTR_ADD:
	case BALE_INSTR_COPY:
	case BALE_INSTR_VOLUME:
		rc = parse_maybe_json(p, lc, ins, line, len, true);
		break;
	case BALE_INSTR_CMD:
	case BALE_INSTR_ENTRYPOINT:
	case BALE_INSTR_RUN:
	case BALE_INSTR_SHELL:
		rc = parse_maybe_json(p, lc, ins, line, len, false);
		break;
	case BALE_INSTR_ARG:
		rc = parse_words(p, line, len, &p->args);
		break;
	case BALE_INSTR_ENV:
		rc = parse_name_value(p, lc, "ENV", line, len);
		break;
	case BALE_INSTR_LABEL:
		rc = parse_name_value(p, lc, "LABEL", line, len);
		break;
	case BALE_INSTR_EXPOSE:
	case BALE_INSTR_FROM:
		rc = parse_whitespace_list(p, lc, line, len);
		break;
	case BALE_INSTR_MAINTAINER:
	case BALE_INSTR_STOPSIGNAL:
	case BALE_INSTR_USER:
	case BALE_INSTR_WORKDIR:
		rc = len ? push_arg(p, lc, line, len) : 0;
		break;
	case BALE_INSTR_HEALTHCHECK: {
		size_t sep = 0, next;

		while (sep < len && !is_byte_space((unsigned char)line[sep]))
			sep++;
		next = sep;
		while (next < len && is_byte_space((unsigned char)line[next]))
			next++;
		rc = 0;
		if (sep == 0)
			break;
		if ((rc = push_arg(p, lc, line, sep)) != 0)
			break;
		rc = parse_maybe_json(p, lc, ins, line + next, len - next, false);
		break;
	}
	case BALE_INSTR_ONBUILD: {
		bale_instruction *sub;

		rc = 0;
		if (len == 0)
			break;
		if (depth >= ONBUILD_MAX_DEPTH) {
			rc = parse_error(p, BALE_EPARSE, lc->line, lc->col,
					 "ONBUILD nested more than %d deep", ONBUILD_MAX_DEPTH);
			break;
		}
		sub = bale_arena_calloc(&p->df->arena, 1, sizeof(*sub));
		if (!sub) {
			rc = BALE_ENOMEM;
			break;
		}
		/* The flags and args of the wrapped instruction must not mix with ours. */
		{
			size_t f = p->flags.n, a = p->args.n;

			rc = parse_line(p, lc, line, len, sub, depth + 1);
			p->flags.n = f;
			p->args.n = a;
		}
		ins->sub = sub;
		break;
	}
	default:
		/* An unknown instruction: BuildKit keeps it with one empty argument. */
		rc = df_strvec_push(&p->args, "", 0);
		break;
	}
	if (rc)
		return rc;
	return finish_instruction(p, ins, flags_from, args_from);
}

/* --- heredocs ------------------------------------------------------------------------------ */

#define MAX_HEREDOCS 16 /* in one instruction */

static bool is_shell_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * The bytes the two functions below look at: one of 0x80 or above, '$', '\\', '`', a quote,
 * and with `space` white space ([\t\n\v\f\r ]). Every other byte only goes on.
 */
static bool is_shell_special(unsigned char c, bool space)
{
	return c >= 0x80 || c == '$' || c == '\\' || c == '`' || c == '\'' || c == '"' ||
	       (space && is_shell_space(c));
}

#if defined(__SSE2__)
/* A bit per byte of p[0, 16) that is_shell_special(). */
static unsigned shell_special16(const char *p, unsigned space)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('$')),
					      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
				 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('`')),
					      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\'')),
							   _mm_cmpeq_epi8(v, _mm_set1_epi8('"')))));

	if (space) {
		/* \t to \r are those that stay under 5 once \t is taken off. */
		__m128i t = _mm_sub_epi8(v, _mm_set1_epi8('\t'));

		m = _mm_or_si128(
		    m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
				    _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(4)), t)));
	}
	return (unsigned)_mm_movemask_epi8(m) | (unsigned)_mm_movemask_epi8(v);
}
#endif

/*
 * The first byte of s[i, len) that is_shell_special(), or `len`. Where SSE2 is there, sixteen
 * bytes a step, the last ones read as the sixteen that end `s`: RUN lines with heredocs are
 * long, and few of their bytes matter.
 */
static size_t next_shell_special(const char *s, size_t len, size_t i, bool space)
{
#if defined(__SSE2__)
	if (bale_find16(s, len, &i, shell_special16, space))
		return i;
#endif
	while (i < len && !is_shell_special((unsigned char)s[i], space))
		i++;
	return i;
}

/*
 * Whether the shell lexer (escape '\\', quotes raw or not, no variables) would do no more with
 * `len` bytes at `s` than split them at white space outside quotes ([\t\n\v\f\r ]) and keep
 * or drop the quote characters: ASCII with no $ and no escape character (either), every quote
 * closed. With `no_space`, white space outside quotes does not count as simple either.
 */
static bool is_simple_shell_text(const char *s, size_t len, bool no_space)
{
	char quote = 0;

	if (len > BALE_SHELL_DEFAULT_MAX_LEN)
		return false;
	for (size_t i = 0; (i = next_shell_special(s, len, i, no_space)) < len; i++) {
		char c = s[i];

		if ((unsigned char)c >= 0x80 || c == '$' || c == '\\' || c == '`')
			return false;
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (no_space && is_shell_space((unsigned char)c)) {
			return false;
		}
	}
	return quote == 0;
}

/* The end of the word of simple shell text (see above) that starts at `i`. */
static size_t simple_word_end(const char *s, size_t len, size_t i)
{
	char quote = 0;

	for (; (i = next_shell_special(s, len, i, true)) < len; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '\'' || s[i] == '"') {
			quote = s[i];
		} else if (is_shell_space((unsigned char)s[i])) {
			break;
		}
	}
	return i;
}

static bool can_contain_heredoc(const bale_instruction *ins)
{
	if (ins->kind == BALE_INSTR_ONBUILD && ins->sub)
		ins = ins->sub;
	if (ins->kind != BALE_INSTR_RUN && ins->kind != BALE_INSTR_COPY &&
	    ins->kind != BALE_INSTR_ADD)
		return false;
	return !ins->json;
}

/*
 * BuildKit's ParseHeredoc on one word: `[digits]<<[-]rest` with no '<' in rest. Sets *found
 * and fills `doc` (name in the arena) when the word starts a heredoc.
 */
static int parse_heredoc_word(struct parser *p, const struct line_ctx *lc, const char *w,
			      size_t len, bale_heredoc *doc, bool *found)
{
	bale_shell_opts opts = {.escape = '\\', .skip_unset = true};
	bale_words cooked = BALE_WORDS_INIT, raw = BALE_WORDS_INIT;
	size_t i = 0, fd_end, rest;
	uint64_t fd = 0;
	int rc = 0;

	*found = false;
	while (i < len && w[i] >= '0' && w[i] <= '9') {
		if (fd <= UINT32_MAX)
			fd = fd * 10 + (uint64_t)(w[i] - '0');
		i++;
	}
	fd_end = i;
	if (len - i < 2 || w[i] != '<' || w[i + 1] != '<')
		return 0;
	i += 2;
	doc->chomp = i < len && w[i] == '-';
	if (doc->chomp)
		i++;
	rest = i;
	if (memchr(w + rest, '<', len - rest) || rest == len)
		return 0;
	if (is_simple_shell_text(w + rest, len - rest, true)) {
		/*
		 * Nothing in it is expanded: the name is the word without its quotes (those inside
		 * the other kind stay), and the body is expanded when no quote was dropped.
		 */
		char quote = 0, *name = bale_arena_strndup(&p->df->arena, w + rest, len - rest);
		size_t n = 0;

		if (!name)
			return BALE_ENOMEM;
		for (const char *c = name; *c; c++) {
			if (quote ? *c == quote : *c == '\'' || *c == '"') {
				quote = quote ? 0 : *c;
				continue;
			}
			name[n++] = *c;
		}
		name[n] = '\0';
		if (n == 0)
			return 0; /* an empty word is no word */
		doc->expand = n == len - rest;
		doc->name = name;
		goto found;
	}
	if (bale_shell_expand_words(&cooked, w + rest, len - rest, &opts) != 0) {
		rc = parse_error_from_last(p, lc->line, lc->col);
		goto out;
	}
	if (cooked.n != 1)
		goto out;
	opts.raw_quotes = true;
	if (bale_shell_expand_words(&raw, w + rest, len - rest, &opts) != 0) {
		rc = parse_error_from_last(p, lc->line, lc->col);
		goto out;
	}
	if (raw.n != cooked.n) {
		rc = parse_error(p, BALE_EPARSE, lc->line, lc->col,
				 "internal lexing of heredoc produced inconsistent results: %.*s",
				 (int)(len - rest), w + rest);
		goto out;
	}
	{
		size_t q_cooked = 0, q_raw = 0;

		for (const char *c = cooked.v[0]; *c; c++)
			q_cooked += *c == '\'' || *c == '"';
		for (const char *c = raw.v[0]; *c; c++)
			q_raw += *c == '\'' || *c == '"';
		doc->expand = q_cooked == q_raw;
	}
	doc->name = bale_arena_strdup(&p->df->arena, cooked.v[0]);
	if (!doc->name) {
		rc = BALE_ENOMEM;
		goto out;
	}
found:
	/* Go's strconv.ParseUint error (overflow) leaves 0. */
	doc->fd = fd_end > 0 && fd <= UINT32_MAX ? (uint32_t)fd : 0;
	*found = true;
out:
	bale_words_release(&cooked);
	bale_words_release(&raw);
	return rc;
}

/* Adds the heredoc word `w` starts, if any, to docs[*ndocs] (room for MAX_HEREDOCS). */
static int add_heredoc_word(struct parser *p, const struct line_ctx *lc, const char *w, size_t len,
			    bale_heredoc *docs, size_t *ndocs)
{
	bale_heredoc doc = {0};
	bool found;
	int rc;

	/* A heredoc word starts with "<<" or a digit: most words are told apart by their first
	 * byte, before any set-up. */
	if (len == 0 || (w[0] != '<' && (w[0] < '0' || w[0] > '9')))
		return 0;
	if ((rc = parse_heredoc_word(p, lc, w, len, &doc, &found)) != 0 || !found)
		return rc;
	if (*ndocs == MAX_HEREDOCS)
		return parse_error(p, BALE_ELIMIT, lc->line, lc->col,
				   "more than %d heredocs in one instruction", MAX_HEREDOCS);
	docs[(*ndocs)++] = doc;
	return 0;
}

/* Finds the heredocs a line starts and reads their bodies from the lines that follow. */
static int read_heredocs(struct parser *p, const struct line_ctx *lc, bale_instruction *ins,
			 const char *line, size_t len)
{
	bale_shell_opts opts = {
	    .escape = '\\', .raw_quotes = true, .raw_escapes = true, .skip_unset = true};
	bale_words words = BALE_WORDS_INIT;
	bale_heredoc docs[MAX_HEREDOCS], *arr;
	size_t ndocs = 0;
	int rc = 0;

	if (is_simple_shell_text(line, len, false)) {
		/* The lexer would only split it, keeping the quotes: its words are read in place.
		 */
		for (size_t i = 0, start; i < len;) {
			while (i < len && is_shell_space((unsigned char)line[i]))
				i++;
			start = i;
			i = simple_word_end(line, len, i);
			if (i > start && (rc = add_heredoc_word(p, lc, line + start, i - start,
								docs, &ndocs)) != 0)
				goto out;
		}
	} else if (bale_shell_expand_words(&words, line, len, &opts) != 0) {
		/* BuildKit ignores a lexing error here: the line then starts no heredoc. */
		bale_error_clear();
		goto out;
	}
	for (size_t i = 0; i < words.n; i++)
		if ((rc = add_heredoc_word(p, lc, words.v[i], strlen(words.v[i]), docs, &ndocs)) !=
		    0)
			goto out;
	for (size_t d = 0; d < ndocs; d++) {
		struct phys_line pl;
		size_t name_len = strlen(docs[d].name), body_start = p->pos;
		bool terminated = false;

		docs[d].start_line = p->lineno + 1;
		while (next_line(p, &pl)) {
			size_t l = trim_newline(pl.ptr, pl.len), t = 0;

			if ((rc = check_line_length(p, &pl)) != 0)
				goto out;
			if (docs[d].chomp)
				while (t < l && pl.ptr[t] == '\t')
					t++;
			if (l - t == name_len && memcmp(pl.ptr + t, docs[d].name, name_len) == 0) {
				char *content = bale_arena_strndup(
				    &p->df->arena, p->src + body_start, pl.offset - body_start);

				if (!content) {
					rc = BALE_ENOMEM;
					goto out;
				}
				docs[d].content = content;
				docs[d].end_line = pl.lineno;
				terminated = true;
				break;
			}
		}
		if (p->err) {
			rc = p->err;
			goto out;
		}
		if (!terminated) {
			rc =
			    parse_error(p, BALE_EPARSE, lc->line, lc->col,
					"unterminated heredoc '%s' (no line '%s' before the end of "
					"the file)",
					docs[d].name, docs[d].name);
			goto out;
		}
	}
	if (ndocs) {
		arr = bale_arena_alloc(&p->df->arena, ndocs * sizeof(*arr));
		if (!arr) {
			rc = BALE_ENOMEM;
			goto out;
		}
		memcpy(arr, docs, ndocs * sizeof(*arr));
		ins->heredocs = arr;
		ins->nheredocs = ndocs;
	}
out:
	bale_words_release(&words);
	return rc;
}

/* --- the main loop -------------------------------------------------------------------------- */

static int text_error(struct parser *p, const struct phys_line *l, size_t bad, bool nul)
{
	if (nul)
		return parse_error(p, BALE_EPARSE, l->lineno, (uint32_t)bad + 1,
				   "NUL byte: this is binary data, not a Dockerfile");
	return parse_error(p, BALE_EPARSE, l->lineno, (uint32_t)bad + 1,
			   "invalid UTF-8 (byte 0x%02x): a Dockerfile must be UTF-8 text",
			   (unsigned char)l->ptr[bad]);
}

static int check_line_length(struct parser *p, const struct phys_line *pl)
{
	size_t len;

	if (pl->len <= p->max_line) /* the common case, newline included */
		return 0;
	len = pl->len - (pl->ptr[pl->len - 1] == '\n');
	if (len <= p->max_line)
		return 0;
	return parse_error(p, BALE_ELIMIT, pl->lineno, 1,
			   "line is %zu bytes long, over the limit of %zu bytes (docker build "
			   "refuses lines over 65535 bytes too)",
			   len, p->max_line);
}

/*
 * Room for `need` instructions. A small array is cut from the arena, which costs no malloc call
 * (a block this size would make malloc sort its free lists first, in every file); past
 * INSTRS_ARENA_MAX bytes the array moves to malloc'd memory and grows there, so a large file
 * leaves no outgrown copies behind in the arena.
 */
static int reserve_instrs(bale_dockerfile *df, size_t need)
{
	size_t alloc = df->alloc ? df->alloc : 8;
	bale_instruction *v;

	if (need <= df->alloc)
		return 0;
	while (alloc < need) {
		if (alloc > SIZE_MAX / 2 / sizeof(*v))
			return bale_error_oom();
		alloc *= 2;
	}
	if (df->instrs_malloced || alloc * sizeof(*v) > INSTRS_ARENA_MAX) {
		v = realloc(df->instrs_malloced ? df->instrs : NULL, alloc * sizeof(*v));
		if (!v)
			return bale_error_oom();
		if (!df->instrs_malloced && df->ninstrs)
			memcpy(v, df->instrs, df->ninstrs * sizeof(*v));
		df->instrs_malloced = true;
	} else {
		v = bale_arena_alloc(&df->arena, alloc * sizeof(*v));
		if (!v)
			return BALE_ENOMEM;
		if (df->ninstrs)
			memcpy(v, df->instrs, df->ninstrs * sizeof(*v));
	}
	df->instrs = v;
	df->alloc = alloc;
	return 0;
}

static int add_instruction(struct parser *p, bale_instruction **out)
{
	bale_dockerfile *df = p->df;

	/* The room reserved up front nearly always suffices: only then call out to grow. */
	if (df->ninstrs >= df->alloc && reserve_instrs(df, df->ninstrs + 1))
		return BALE_ENOMEM;
	*out = &df->instrs[df->ninstrs++];
	**out = (bale_instruction){0};
	return 0;
}

/* Room for `need` pieces in both arrays, which share p->pieces_alloc. */
static int reserve_pieces(struct parser *p, size_t need)
{
	size_t alloc = p->pieces_alloc;
	const char **src;

	if (need <= alloc)
		return 0;
	if (BALE_ARRAY_RESERVE(p->pieces, alloc, need))
		return BALE_ENOMEM;
	/* No overflow: `alloc` pieces of the larger kind were allocated just now. */
	src = realloc(p->piece_src, alloc * sizeof(*src));
	if (!src)
		return bale_error_oom();
	p->piece_src = src;
	p->pieces_alloc = alloc;
	return 0;
}

/*
 * Notes that the logical line goes on at `off` with source line `line`, column `col`, its bytes
 * read from `src` (up to the next piece's offset, or the end of the line).
 */
static int add_piece(struct parser *p, size_t off, uint32_t line, uint32_t col, const char *src)
{
	if (p->npieces >= p->pieces_alloc && reserve_pieces(p, p->npieces + 1))
		return BALE_ENOMEM;
	p->piece_src[p->npieces] = src;
	p->pieces[p->npieces++] = (bale_line_piece){off, line, col};
	return 0;
}

/*
 * The logical line of the pieces just read, `len` bytes in all, copied from the input into the
 * arena, NUL-terminated: each byte is copied once, with no scratch buffer in between.
 */
static char *join_pieces(struct parser *p, size_t len)
{
	/* Locals: memcpy() might write p's fields as far as the compiler knows. */
	const bale_line_piece *pc = p->pieces;
	const char *const *src = p->piece_src;
	size_t last = p->npieces - 1; /* there is always a first piece */
	char *out = bale_arena_alloc(&p->df->arena, len + 1);

	if (!out)
		return NULL;
	for (size_t k = 0; k < last; k++)
		memcpy(out + pc[k].off, src[k], pc[k + 1].off - pc[k].off);
	memcpy(out + pc[last].off, src[last], len - pc[last].off);
	out[len] = '\0';
	return out;
}

static bool runs_commands(const bale_instruction *ins)
{
	return ins->kind == BALE_INSTR_RUN || ins->kind == BALE_INSTR_CMD ||
	       ins->kind == BALE_INSTR_ENTRYPOINT || ins->kind == BALE_INSTR_ONBUILD;
}

/* Gives instruction `ins` its copy of the pieces of the logical line just parsed. */
static int keep_pieces(struct parser *p, bale_instruction *ins)
{
	bale_line_piece *v = bale_arena_alloc(&p->df->arena, p->npieces * sizeof(*v));

	if (!v)
		return BALE_ENOMEM;
	memcpy(v, p->pieces, p->npieces * sizeof(*v));
	ins->pieces = v;
	ins->npieces = p->npieces;
	return 0;
}

/*
 * The parser's scratch buffers, kept per thread between parses: a process that parses many
 * files (bale lint DIR) would otherwise pay seven malloc and free pairs per file for them. A
 * buffer that grew past SCRATCH_KEEP_MAX bytes is released instead, so one huge file does not
 * keep its memory for the rest of the run.
 */
#define SCRATCH_KEEP_MAX ((size_t)64 * 1024)

struct scratch {
	bool full; /* holds buffers to hand out */
	bale_buf word;
	bale_line_piece *pieces;
	const char **piece_src;
	size_t pieces_alloc;
	const char **comments;
	size_t comments_alloc;
	df_strvec args, flags, words;
};

static void scratch_destroy(void *arg)
{
	struct scratch *s = arg;

	if (s->full) {
		bale_buf_release(&s->word);
		free(s->pieces);
		free(s->piece_src);
		free(s->comments);
		df_strvec_release(&s->args);
		df_strvec_release(&s->flags);
		df_strvec_release(&s->words);
	}
	free(s);
}

static bale_thread_cache scratch_cache = BALE_THREAD_CACHE_INIT(struct scratch, scratch_destroy);

/* This thread's cache, created on first use; NULL when there is none to be had. */
static struct scratch *thread_scratch(void)
{
	return bale_thread_cache_get(&scratch_cache);
}

/* Starts the parser with the cached scratch buffers, or with empty ones. */
static void scratch_take(struct parser *p)
{
	struct scratch *s = thread_scratch();

	if (!s || !s->full) {
		bale_buf_init(&p->word, 0);
		return;
	}
	p->word = s->word;
	p->pieces = s->pieces;
	p->piece_src = s->piece_src;
	p->pieces_alloc = s->pieces_alloc;
	p->comments = s->comments;
	p->comments_alloc = s->comments_alloc;
	p->args = s->args;
	p->flags = s->flags;
	p->words = s->words;
	s->full = false;
}

static bool strvec_small(const df_strvec *v)
{
	return v->alloc <= SCRATCH_KEEP_MAX / (sizeof(*v->v) + sizeof(*v->lens));
}

/* Gives the scratch buffers back to the cache when they are fit to reuse, else frees them. */
static void scratch_give(struct parser *p, bool ok)
{
	struct scratch *s = ok ? thread_scratch() : NULL;

	if (s && !s->full && !p->word.err && p->word.alloc <= SCRATCH_KEEP_MAX &&
	    p->pieces_alloc <= SCRATCH_KEEP_MAX / sizeof(*p->pieces) &&
	    p->comments_alloc <= SCRATCH_KEEP_MAX / sizeof(*p->comments) &&
	    strvec_small(&p->args) && strvec_small(&p->flags) && strvec_small(&p->words)) {
		s->word = p->word;
		bale_buf_reset(&s->word);
		s->pieces = p->pieces;
		s->piece_src = p->piece_src;
		s->pieces_alloc = p->pieces_alloc;
		s->comments = p->comments;
		s->comments_alloc = p->comments_alloc;
		s->args = p->args;
		s->flags = p->flags;
		s->words = p->words;
		s->args.n = s->flags.n = s->words.n = 0;
		s->full = true;
		return;
	}
	free(p->pieces);
	free(p->piece_src);
	bale_buf_release(&p->word);
	df_strvec_release(&p->args);
	df_strvec_release(&p->flags);
	df_strvec_release(&p->words);
	free(p->comments);
}

/*
 * Room in the scratch buffers for what a typical Dockerfile needs, in one allocation each: grown
 * from nothing, each would be reallocated several times in every file. (Each stays under 1 KiB,
 * which malloc serves from its small bins, without sorting its free lists first.)
 */
static int reserve_scratch(struct parser *p)
{
	const size_t n = 32;

	if (bale_buf_grow(&p->word, 200) || reserve_pieces(p, n) ||
	    BALE_ARRAY_RESERVE(p->comments, p->comments_alloc, 8) ||
	    df_strvec_reserve(&p->args, n) || df_strvec_reserve(&p->flags, 8) ||
	    df_strvec_reserve(&p->words, n))
		return BALE_ENOMEM;
	return 0;
}

static int run(struct parser *p)
{
	struct phys_line pl;
	int rc;

	/*
	 * Room for the instructions up front, guessed from the size (about one per 200 bytes in
	 * real Dockerfiles), so a large file is not copied over and over as the array grows.
	 */
	if (reserve_instrs(p->df, p->len / 200 + 8))
		return BALE_ENOMEM;
	while (next_line(p, &pl)) {
		const char *s = pl.ptr, *line_base;
		size_t len = pl.len, full_len, lead, start_offset = pl.offset;
		uint32_t start_line = pl.lineno, start_col;
		size_t joined_len = 0;
		bool cont, joined, comment, empty_cont = false;
		bale_instruction *ins;
		struct line_ctx lc;

		if ((rc = check_line_length(p, &pl)) != 0)
			return rc;
		if (pl.lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			len -= 3;
			/* line_indent() reads the line from after the BOM, with no bits for it. */
			pl.ptr = s;
			pl.has_blanks = false;
		}
		line_base = s;
		/* One scan of the leading white space for the comment test and the column. */
		full_len = len;
		len = trim_newline(s, len);
		lead = line_indent(&pl, len);
		comment = lead < len && s[lead] == '#';
		if (comment && (rc = add_comment(p, s, full_len)) != 0)
			return rc;
		s += lead;
		len -= lead;
		start_col = (uint32_t)(s - line_base) + 1;
		if (!p->directives_done) {
			rc = parser_directive(p, s, len, pl.lineno);
			if (rc < 0)
				return rc;
			if (rc == 1 && p->ncomments > 0)
				p->ncomments--; /* a directive is not a comment of the next node */
			else
				p->directives_done = true;
		}
		if (comment)
			len = 0;
		len = trim_continuation(p, s, len, &cont);
		if (!cont && len == 0)
			continue;
		p->npieces = 0;
		if ((rc = add_piece(p, 0, start_line, start_col, s)) != 0)
			return rc;
		/* A line that does not go on is copied as it is; others once all pieces are known.
		 */
		joined = cont;
		if (!joined) {
			lc.orig = bale_arena_strndup(&p->df->arena, s, len);
			lc.orig_len = len;
		} else {
			joined_len = len;
		}
		while (cont && next_line(p, &pl)) {
			size_t l, skip;
			bool goes_on;

			if ((rc = check_line_length(p, &pl)) != 0)
				return rc;
			/*
			 * One scan of the leading white space answers both questions: a comment, or
			 * nothing but white space before the line end (trimmed newlines are ASCII,
			 * so no character straddles it).
			 */
			skip = line_indent(&pl, pl.len);
			if (skip < pl.len && pl.ptr[skip] == '#')
				continue;
			l = trim_line(p, pl.ptr, pl.len, &goes_on);
			if (skip >= l && !goes_on) {
				/* An empty line: the logical line still goes on past it. */
				empty_cont = true;
				continue;
			}
			cont = goes_on;
			if ((rc = add_piece(p, joined_len, pl.lineno, 1, pl.ptr)) != 0)
				return rc;
			joined_len += l;
		}
		if (p->err)
			return p->err;
		if (joined) {
			lc.orig = join_pieces(p, joined_len);
			lc.orig_len = joined_len;
		}
		if (!lc.orig)
			return BALE_ENOMEM;
		lc.line = start_line;
		lc.col = start_col;
		if ((rc = add_instruction(p, &ins)) != 0)
			return rc;
		if ((rc = parse_line(p, &lc, lc.orig, lc.orig_len, ins, 0)) != 0)
			return rc;
		ins->empty_continuation = empty_cont;
		if (runs_commands(ins) && (rc = keep_pieces(p, ins)) != 0)
			return rc;
		if (p->ncomments) {
			const char **c = bale_arena_alloc(&p->df->arena, p->ncomments * sizeof(*c));

			if (!c)
				return BALE_ENOMEM;
			memcpy(c, p->comments, p->ncomments * sizeof(*c));
			ins->comments = c;
			ins->ncomments = p->ncomments;
		}
		if (can_contain_heredoc(ins) && has_heredoc_marker(lc.orig, lc.orig_len) &&
		    (rc = read_heredocs(p, &lc, ins, lc.orig, lc.orig_len)) != 0)
			return rc;
		ins->end_line = p->lineno;
		ins->start_offset = start_offset;
		ins->end_offset = p->pos;
		for (bale_instruction *sub = (bale_instruction *)ins->sub; sub;
		     sub = (bale_instruction *)sub->sub) {
			/* A wrapped instruction shares its parent's place in the file. */
			sub->end_line = ins->end_line;
			sub->start_offset = ins->start_offset;
			sub->end_offset = ins->end_offset;
			sub->heredocs = ins->heredocs;
			sub->nheredocs = ins->nheredocs;
		}
		p->ncomments = 0;
	}
	if (p->err)
		return p->err;
	if (p->df->ninstrs == 0)
		return parse_error(p, BALE_EPARSE, p->lineno, 1, "file with no instructions");
	return 0;
}

int bale_dockerfile_parse(bale_dockerfile **out, const char *data, size_t len,
			  const bale_parse_opts *opts)
{
	size_t max_size = opts && opts->max_size ? opts->max_size : BALE_PARSE_DEFAULT_MAX_SIZE;
	const char *filename = opts && opts->filename ? opts->filename : "Dockerfile";
	struct parser p = {0};
	bale_dockerfile *df;
	int rc;

	*out = NULL;
	if (len > max_size)
		return bale_error_set(BALE_ELIMIT,
				      "%s: file is %zu bytes, over the limit of %zu bytes",
				      filename, len, max_size);
	{
		/*
		 * The document lives in its own arena, which it needs anyway: one allocation
		 * fewer per file. bale_dockerfile_free() copies the arena out before releasing it.
		 */
		bale_arena arena = BALE_ARENA_INIT;

		df = bale_arena_alloc(&arena, sizeof(*df));
		if (!df) {
			bale_arena_release(&arena);
			return bale_error_oom();
		}
		memset(df, 0, sizeof(*df));
		df->arena = arena;
	}
	df->escape = '\\';
	df->filename = bale_arena_strdup(&df->arena, filename);
	/* The input is borrowed, not copied: a copy would be as large as the input again. */
	df->source = data ? data : "";
	df->len = len;
	if (!df->filename) {
		rc = BALE_ENOMEM;
		goto out_free;
	}
	p.df = df;
	p.src = df->source;
	p.len = len;
	p.filename = df->filename;
	p.max_line = opts && opts->max_line ? opts->max_line : BALE_PARSE_DEFAULT_MAX_LINE;
	p.escape = '\\';
	scratch_take(&p);
	find_bad_text(&p);
	rc = reserve_scratch(&p);
	if (rc == 0)
		rc = run(&p);
	scratch_give(&p, rc == 0);
	if (rc == BALE_ENOMEM)
		bale_error_oom();
	if (rc)
		goto out_free;
	*out = df;
	return 0;
out_free:
	bale_dockerfile_free(df);
	return rc;
}

void bale_dockerfile_free(bale_dockerfile *df)
{
	bale_arena arena;

	if (!df)
		return;
	arena = df->arena; /* df itself is in it */

	if (df->instrs_malloced)
		free(df->instrs);
	bale_arena_release(&arena);
}

const bale_instruction *bale_dockerfile_instructions(const bale_dockerfile *df, size_t *count)
{
	*count = df->ninstrs;
	return df->instrs;
}

const bale_directive *bale_dockerfile_directives(const bale_dockerfile *df, size_t *count)
{
	*count = df->ndirectives;
	return df->directives;
}

int bale_dockerfile_escape(const bale_dockerfile *df)
{
	return df->escape;
}

const char *bale_dockerfile_filename(const bale_dockerfile *df)
{
	return df->filename;
}

const char *bale_dockerfile_source(const bale_dockerfile *df, size_t *len)
{
	if (len)
		*len = df->len;
	return df->source;
}

size_t bale_dockerfile_memory(const bale_dockerfile *df)
{
	/* The document itself and an array in the arena are counted in its total. */
	return df->arena.total + (df->instrs_malloced ? df->alloc * sizeof(*df->instrs) : 0);
}
