/*
 * The shell parser behind bale/command.h: one pass of recursive descent over the script, with
 * a lexer that hands out tokens (words, operators, newlines) and reads heredoc bodies when it
 * passes the newline that precedes them, as a shell does.
 *
 * Words are built on a stack shared by every level of nesting: a command substitution met
 * inside a word is parsed right there, its commands are finished (copied into the arena) and
 * popped before the outer word goes on, so the stack only ever grows at its top. Word values
 * live in one scratch buffer with the same discipline. A simple command is finished when its
 * last token has been read: its words, assignments and redirections are copied into the arena,
 * the command is appended to the script, the commands found inside its words get it as their
 * parent, and tools.c reads it as a tool. When that tool carries a script of its own (sh -c,
 * su -c, eval, a shell reading a heredoc), that script is parsed at once, so commands come out
 * in the order they run.
 *
 * Broken input never stops the parse: the first problem is recorded with its position and the
 * parser skips the offending token. Every construct that recurses counts against max_depth;
 * past it the parse stops and keeps what it has.
 */
#include "shell/command_internal.h"
#include "util/unicode.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PENDING_HEREDOCS 32
/* Assignments the script makes that are tracked; past that, other names are unknown. */
#define MAX_VARS 512
/* Bytes of word text copied per script: COPY_BASE + COPY_FACTOR times the input. */
#define COPY_BASE   ((size_t)16 << 20)
#define COPY_FACTOR 8
/* Total bytes of variable values pasted into words, per script: bounds hostile expansions. */
#define EXPANSION_BUDGET ((size_t)8 << 20)
/* Bytes of word values being built at once. */
#define SCRATCH_MAX ((size_t)64 << 20)
/* Internal context bit: on the right of && or || (assignments there are conditional). */
#define CTX_RHS		(1u << 30)
#define CTX_PUBLIC_MASK ((1u << 16) - 1)

enum tok_kind { TK_EOF, TK_NEWLINE, TK_WORD, TK_IONUM, TK_OP };

enum op {
	OP_AND_IF,
	OP_OR_IF,
	OP_SEMI,
	OP_AMP,
	OP_PIPE,
	OP_PIPE_AMP,
	OP_DSEMI,
	OP_SEMI_AMP,
	OP_DSEMI_AMP,
	OP_LPAREN,
	OP_RPAREN,
	OP_LESS,
	OP_GREAT,
	OP_DGREAT,
	OP_CLOBBER,
	OP_LESSGREAT,
	OP_LESSAND,
	OP_GREATAND,
	OP_AND_GREAT,
	OP_AND_DGREAT,
	OP_DLESS,
	OP_DLESSDASH,
	OP_TLESS,
};

static const char *const op_text[] = {
    "&&", "||", ";",  "&",  "|",  "|&", ";;", ";&",  ";;&", "(",   ")",	  "<",
    ">",  ">>", ">|", "<>", "<&", ">&", "&>", "&>>", "<<",  "<<-", "<<<",
};

struct token {
	enum tok_kind kind;
	int op;
	size_t w; /* TK_WORD: its entry on the word stack */
	int ionum;
	size_t start, end; /* offsets in the lexer's text */
	size_t cmd_mark;   /* commands in the script before this token was read */
};

/* Where a run of the lexer's text came from (text rebuilt from Dockerfile lines): the parser's
 * pieces of a logical line, or the same built here. */
typedef bale_line_piece seg;

enum hd_state { HD_WAITING, HD_OWNED, HD_ORPHAN };

struct heredoc {
	bale_cmd_heredoc pub; /* first: the public view points here */
	const char *delim;
	size_t delim_len;
	bool read; /* the body has been found (or the input ended) */
	bool done; /* its content has been looked into */
	enum hd_state state;
	size_t owner; /* HD_OWNED: the command it feeds */
	bool script;  /* HD_OWNED: the owner runs the body as a script */
	uint32_t ctx, nest;
};

struct lexer {
	/*
	 * The text, s[len] its NUL (a terminator, where NUL bytes inside it are plain text):
	 * runs are scanned up to the first byte that stops them with no bound check per byte.
	 * Every lexer is made by lexer_init(), whose callers see to it. pos never passes len.
	 */
	const char *s;
	size_t len, pos;
	/*
	 * A copy of s in the script's arena (made before the lexer reads, by lexer_make_vals())
	 * where the values of words left in place end with a NUL written over the byte after
	 * them. That byte ended the word (a blank, an operator or the end), so it is in no word
	 * left in place.
	 */
	char *vals;
	size_t last_start, last_end; /* the last token consumed */
	/* position map: segments, or counting newlines from a base */
	const seg *segs;
	size_t nsegs, seg_hint;
	/*
	 * The offsets [win_lo, win_hi) of the segment of the last answer, at win_line from column
	 * win_col: most positions asked fall there and are answered without a search.
	 */
	size_t win_lo, win_hi;
	uint32_t win_line, win_col;
	uint32_t base_line, base_col;
	size_t mark_off;
	uint32_t mark_line, mark_col;
	/* heredocs waiting for their bodies (in pending, last), and bodies given from outside
	 * (Dockerfile) */
	size_t npending;
	const bale_heredoc *ext;
	size_t next, iext;
	bool delim_mode;   /* the next word is a heredoc delimiter: no expansion */
	bool flat;	   /* every offset is at the base position (text not from the source) */
	struct lexer *map; /* text copied verbatim from map's text at map_off: its positions */
	size_t map_off;
	struct token tok;
	bool has_tok;
	/* Last: lexer_init() leaves it as it is, only the first npending entries are read. */
	struct heredoc *pending[MAX_PENDING_HEREDOCS];
};

/*
 * A lexer over `text`, whose text[len] must be a NUL, with every other field zero but the
 * (unread) heredocs pending: lexers are made per script and per script string.
 */
static void lexer_init(struct lexer *lx, const char *text, size_t len)
{
	memset(lx, 0, offsetof(struct lexer, pending));
	lx->s = text;
	lx->len = len;
}

enum kw {
	KW_NONE,
	KW_LBRACE,
	KW_RBRACE,
	KW_BANG,
	KW_IF,
	KW_THEN,
	KW_ELSE,
	KW_ELIF,
	KW_FI,
	KW_DO,
	KW_DONE,
	KW_WHILE,
	KW_UNTIL,
	KW_FOR,
	KW_SELECT,
	KW_CASE,
	KW_ESAC,
	KW_IN,
	KW_FUNCTION,
	KW_DBRACKET,
	KW_DBRACKET_END,
	KW_UNREAD = 0xff, /* a plain literal not yet asked: most words are never asked */
};

/*
 * The reserved words, with their lengths (most words asked differ in length from each; checked
 * by cmd_keywords_indexed()).
 */
static const struct {
	const char *text;
	size_t len;
} kw_text[] = {
    {"", 0},	     {"{", 1},	  {"}", 1},	 {"!", 1},    {"if", 2},   {"then", 4},
    {"else", 4},     {"elif", 4}, {"fi", 2},	 {"do", 2},   {"done", 4}, {"while", 5},
    {"until", 5},    {"for", 3},  {"select", 6}, {"case", 4}, {"esac", 4}, {"in", 2},
    {"function", 8}, {"[[", 2},	  {"]]", 2},
};

enum role { R_WORD, R_ASSIGN, R_TARGET, R_DROP }; /* R_WORD first: a zeroed entry is a word */

/*
 * A word on the stack. Its head is the public bale_cmd_word (`pub`), with its fields named here
 * too, so that a finished command copies it whole. A word left in place has its `value` at
 * once, in the lexer's copy of its text (vals), ended there when the word is copied out; so it
 * needs no lexer then. Other words get theirs when copied out.
 */
struct wtmp {
	union {
		bale_cmd_word pub;
		struct {
			const char *value; /* left in place: in vals (writable); else unset */
			const char *raw;
			size_t vlen; /* of the value */
			size_t raw_len;
			uint32_t line, col, flags;
			uint32_t end_line, end_col;
		};
	};
	size_t voff;	 /* value in the scratch buffer (where it would start when in_place) */
	bool lit;	 /* plain unquoted literal: may be a reserved word */
	uint8_t kw;	 /* enum kw, for a plain literal (KW_UNREAD until tok_kw() asks) */
	bool may_split;	 /* holds an unquoted expansion */
	bool split_done; /* fields already made */
	bool in_place;	 /* the value is raw itself, left in the lexer's text, not in scratch */
	uint8_t role;
};

/* The named fields are the public word's, in its order. */
_Static_assert(offsetof(struct wtmp, raw) == offsetof(bale_cmd_word, raw) &&
		   offsetof(struct wtmp, vlen) == offsetof(bale_cmd_word, len) &&
		   offsetof(struct wtmp, raw_len) == offsetof(bale_cmd_word, raw_len) &&
		   offsetof(struct wtmp, line) == offsetof(bale_cmd_word, line) &&
		   offsetof(struct wtmp, col) == offsetof(bale_cmd_word, col) &&
		   offsetof(struct wtmp, flags) == offsetof(bale_cmd_word, flags) &&
		   offsetof(struct wtmp, end_line) == offsetof(bale_cmd_word, end_line) &&
		   offsetof(struct wtmp, end_col) == offsetof(bale_cmd_word, end_col),
	       "struct wtmp starts as bale_cmd_word");

struct rtmp {
	bale_cmd_redir_op op;
	int fd;
	size_t target; /* on the word stack */
	struct heredoc *hd;
};

struct var {
	const char *name;
	size_t nlen;
	const char *value;
	size_t vlen;
	bool known;
};

struct span {
	size_t first, last; /* own simple commands at this level, BALE_CMD_NONE when none */
};

struct parser {
	bale_cmd_script *s;
	bale_arena *arena;
	struct lexer *lx;
	const bale_cmd_opts *opts;
	bale_buf scratch;
	bale_buf mask; /* 1 for scratch bytes that came from an unquoted expansion (lazy) */
	struct wtmp *w;
	size_t nw, aw;
	struct rtmp *r;
	size_t nr, ar;
	const char **srcs; /* the last finished command's words, as they sit in the lexer text */
	size_t asrcs;
	/*
	 * The script's first commands go straight to its arena, room for CMDS_IN_ARENA; a script
	 * with more moves them to this block, which the finished script takes (a block left by
	 * a failed parse is kept per thread).
	 */
	bale_cmd *heap_cmds;
	size_t heap_alloc;
	bool cmds_in_arena;
	struct var *vars;
	size_t nvars, avars;
	size_t vars_scope; /* first entry of the innermost scope (subshell, substitution, string) */
	bool vars_full;	   /* too many assignments to track: names not in the table are unknown */
	unsigned depth, max_depth;
	uint32_t ctx, nest;
	bool stop;
	bool flat; /* script strings get no positions of their own (exec form) */
	int err;
	size_t budget;			/* bytes of variable values left to paste */
	size_t copy_budget, copy_limit; /* bytes of words left to copy, and the bound */
};

/* Words in place longer than this go to the scratch buffer, which bounds a word's length. */
#define IN_PLACE_MAX 4096

static const char *word_value(const struct parser *p, const struct wtmp *e)
{
	return e->in_place ? e->raw : p->scratch.ptr + e->voff;
}

static const struct span no_span = {BALE_CMD_NONE, BALE_CMD_NONE};

static struct span parse_list(struct parser *p, unsigned stops);
static struct span parse_command(struct parser *p);
static void lex_dollar(struct parser *p, struct wtmp *e, bool in_dq);
static void lex_backtick(struct parser *p, struct wtmp *e, bool in_dq);
static void lex_dquote(struct parser *p, struct wtmp *e, bool delim);
struct place {
	uint32_t line, col;
	bool flat;	   /* no positions inside the text */
	struct lexer *map; /* or: the text is this lexer's, from map_off */
	size_t map_off;
};

static void parse_string(struct parser *p, const char *text, size_t len, struct place at,
			 size_t owner, uint32_t ctxbit);

/* --- errors and positions ----------------------------------------------------------------- */

static void oom(struct parser *p)
{
	if (!p->err)
		p->err = BALE_ENOMEM;
	p->stop = true;
}

/*
 * Text without segments: the window runs from the mark (just answered) to the end of its line,
 * so the other words of the line are answered inline too.
 */
static void lx_line_window(struct lexer *lx, size_t off)
{
	const char *nl = memchr(lx->s + off, '\n', lx->len - off);

	lx->win_lo = off;
	lx->win_hi = nl ? (size_t)(nl - lx->s) + 1 : lx->len + 1;
	lx->win_line = lx->mark_line;
	lx->win_col = lx->mark_col;
}

static void lx_pos_slow(struct lexer *lx, size_t off, uint32_t *line, uint32_t *col)
{
	if (off > lx->len)
		off = lx->len;
	if (lx->map) {
		lx_pos_slow(lx->map, lx->map_off + off, line, col);
		return;
	}
	if (lx->flat) {
		*line = lx->base_line;
		*col = lx->base_col;
		return;
	}
	if (lx->segs) {
		size_t lo = 0, hi = lx->nsegs, h = lx->seg_hint + 1;

		/* Words move forward: most misses of the window are in the next segment. */
		if (h < lx->nsegs && lx->segs[h].off <= off &&
		    (h + 1 == lx->nsegs || lx->segs[h + 1].off > off)) {
			lo = h;
		} else {
			while (hi - lo > 1) {
				size_t mid = lo + (hi - lo) / 2;

				if (lx->segs[mid].off <= off)
					lo = mid;
				else
					hi = mid;
			}
		}
		lx->seg_hint = lo;
		lx->win_lo = lx->segs[lo].off;
		lx->win_hi = lo + 1 < lx->nsegs ? lx->segs[lo + 1].off : lx->len + 1;
		lx->win_line = lx->segs[lo].line;
		lx->win_col = lx->segs[lo].col;
		*line = lx->segs[lo].line;
		*col = lx->segs[lo].col + (uint32_t)(off - lx->segs[lo].off);
		return;
	}
	if (off < lx->mark_off) {
		/*
		 * Backwards (a command's end after its heredoc bodies were read): count the lines
		 * in between, so the cost is the distance, never a rescan from the start.
		 */
		const char *q = lx->s + off, *end = lx->s + lx->mark_off, *nl;
		uint32_t k = 0;

		while ((nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			k++;
			q = nl + 1;
		}
		if (k == 0) {
			lx->mark_col -= (uint32_t)(lx->mark_off - off);
		} else {
			size_t ls = off;

			while (ls > 0 && lx->s[ls - 1] != '\n')
				ls--;
			lx->mark_line -= k;
			lx->mark_col = (ls == 0 ? lx->base_col : 1) + (uint32_t)(off - ls);
		}
		lx->mark_off = off;
		*line = lx->mark_line;
		*col = lx->mark_col;
		lx_line_window(lx, off);
		return;
	}
	{
		const char *q = lx->s + lx->mark_off, *end = lx->s + off, *nl, *line_start = NULL;
		uint32_t l = lx->mark_line;

		while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			l++;
			line_start = nl + 1;
			q = nl + 1;
		}
		if (line_start) {
			lx->mark_col = 1 + (uint32_t)(end - line_start);
			lx->mark_line = l;
		} else {
			lx->mark_col += (uint32_t)(off - lx->mark_off);
		}
		lx->mark_off = off;
		*line = lx->mark_line;
		*col = lx->mark_col;
		lx_line_window(lx, off);
	}
}

/* True when offset `off` lies in the window of the last answer (never in a flat or mapped one). */
static inline bool in_window(const struct lexer *lx, size_t off)
{
	return off - lx->win_lo < lx->win_hi - lx->win_lo;
}

/*
 * The line and column of offset `off` of the lexer's text. Every word asks twice: the common
 * case, an offset in the segment of the last answer, is answered here without a call.
 */
static inline void lx_pos(struct lexer *lx, size_t off, uint32_t *line, uint32_t *col)
{
	if (lx->map && off <= lx->len) {
		/* Text copied verbatim from another lexer's: its positions (and window). */
		off += lx->map_off;
		lx = lx->map;
	}
	if (!in_window(lx, off)) {
		size_t h = lx->seg_hint + 1;

		/* Words move forward: the next segment, or else a search. */
		if (lx->win_hi == 0 || off > lx->len || h >= lx->nsegs || off < lx->segs[h].off ||
		    (h + 1 < lx->nsegs && off >= lx->segs[h + 1].off)) {
			lx_pos_slow(lx, off, line, col);
			return;
		}
		lx->seg_hint = h;
		lx->win_lo = lx->segs[h].off;
		lx->win_hi = h + 1 < lx->nsegs ? lx->segs[h + 1].off : lx->len + 1;
		lx->win_line = lx->segs[h].line;
		lx->win_col = lx->segs[h].col;
	}
	*line = lx->win_line;
	*col = lx->win_col + (uint32_t)(off - lx->win_lo);
}

/*
 * The position just after the text ending at `end`: one column past its last byte, so an end
 * at a Dockerfile line continuation stays on that line rather than the next one.
 */
static inline void lx_end_pos(struct lexer *lx, size_t start, size_t end, uint32_t *line,
			      uint32_t *col)
{
	/* In the window (a lexer neither flat nor mapped), one column past. */
	if (end > start && in_window(lx, end - 1)) {
		*line = lx->win_line;
		*col = lx->win_col + (uint32_t)(end - lx->win_lo);
		return;
	}
	if (end <= start) {
		lx_pos(lx, start, line, col);
		return;
	}
	lx_pos(lx, end - 1, line, col);
	if (!lx->flat && !(lx->map && lx->map->flat))
		(*col)++;
}

static void syntax_error(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void syntax_error(struct parser *p, size_t off, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->s->error)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lx_pos(p->lx, off, &p->s->error_line, &p->s->error_col);
	p->s->error = bale_arena_strdup(p->arena, msg);
	if (!p->s->error)
		oom(p);
}

static bool enter(struct parser *p, size_t off)
{
	if (p->stop)
		return false;
	if (p->depth >= p->max_depth) {
		syntax_error(p, off, "nesting deeper than %u levels", p->max_depth);
		p->stop = true;
		return false;
	}
	p->depth++;
	return true;
}

static void leave(struct parser *p)
{
	p->depth--;
}

/* --- the scratch buffer and the word stack ------------------------------------------------ */

static void scratch_failed(struct parser *p)
{
	if (p->scratch.err == BALE_ELIMIT) {
		syntax_error(p, p->lx ? p->lx->pos : 0, "word longer than %zu bytes", SCRATCH_MAX);
		p->stop = true;
	} else {
		oom(p);
	}
}

static inline void add(struct parser *p, const char *s, size_t n)
{
	if (bale_buf_add_fast(&p->scratch, s, n) != 0)
		scratch_failed(p);
}

static void addch(struct parser *p, char c)
{
	if (bale_buf_add_fast(&p->scratch, &c, 1) != 0)
		scratch_failed(p);
}

/* Appends bytes that came from an unquoted expansion: they may split the word into fields. */
static void add_splittable(struct parser *p, struct wtmp *e, const char *s, size_t n)
{
	size_t at = p->scratch.len;

	e->may_split = true;
	add(p, s, n);
	if (p->stop || n == 0)
		return;
	if (p->mask.len < at) {
		size_t pad = at - p->mask.len;

		if (bale_buf_grow(&p->mask, pad + n) != 0) {
			oom(p);
			return;
		}
		memset(p->mask.ptr + p->mask.len, 0, pad);
		p->mask.len += pad;
	}
	bale_buf_truncate(&p->mask, at);
	if (bale_buf_grow(&p->mask, n) != 0) {
		oom(p);
		return;
	}
	memset(p->mask.ptr + p->mask.len, 1, n);
	p->mask.len += n;
	p->mask.ptr[p->mask.len] = '\0';
}

static void scratch_truncate(struct parser *p, size_t len)
{
	/* Most words leave their value in place: nothing to cut, no call. */
	if (p->scratch.len > len)
		bale_buf_truncate(&p->scratch, len);
	if (p->mask.len > len)
		bale_buf_truncate(&p->mask, len);
}

static size_t push_word(struct parser *p, const struct wtmp *e)
{
	if (BALE_ARRAY_RESERVE(p->w, p->aw, p->nw + 1) != 0) {
		oom(p);
		return BALE_CMD_NONE;
	}
	p->w[p->nw] = *e;
	return p->nw++;
}

/*
 * Pops the stack down to `base_w` (values to `sbase`), unless a word token read ahead sits
 * above it: then the stack stays as it is (only after a syntax error), so the token's entry
 * remains valid.
 */
static void pop_words(struct parser *p, size_t base_w, size_t sbase)
{
	const struct lexer *lx = p->lx;

	if (lx->has_tok && lx->tok.kind == TK_WORD && lx->tok.w != BALE_CMD_NONE &&
	    lx->tok.w >= base_w)
		return;
	p->nw = base_w;
	scratch_truncate(p, sbase);
}

/* Pops the word on top of the stack (a keyword, a pattern, a loop word...). */
static void drop_top_word(struct parser *p)
{
	if (p->nw == 0)
		return;
	p->nw--;
	scratch_truncate(p, p->w[p->nw].voff);
}

/* --- variables ---------------------------------------------------------------------------- */

static bool var_lookup(struct parser *p, const char *name, size_t nlen, const char **v, size_t *vl)
{
	for (size_t i = p->nvars; i-- > 0;) {
		const struct var *var = &p->vars[i];

		if (var->nlen == nlen && memcmp(var->name, name, nlen) == 0) {
			if (!var->known)
				return false;
			*v = var->value;
			*vl = var->vlen;
			return true;
		}
	}
	if (p->vars_full)
		return false;
	if (p->opts && p->opts->lookup) {
		const char *val = NULL;
		size_t len = 0;

		if (p->opts->lookup(p->opts->lookup_ctx, name, nlen, &val, &len)) {
			*v = val ? val : "";
			*vl = val ? len : 0;
			return true;
		}
	}
	return false;
}

static void var_set(struct parser *p, const char *name, size_t nlen, const char *value, size_t vlen,
		    bool known)
{
	for (size_t i = p->vars_scope; i < p->nvars; i++) {
		struct var *var = &p->vars[i];

		if (var->nlen == nlen && memcmp(var->name, name, nlen) == 0) {
			*var = (struct var){name, nlen, value, vlen, known};
			return;
		}
	}
	if (p->nvars >= MAX_VARS) {
		p->vars_full = true;
		return;
	}
	if (BALE_ARRAY_RESERVE(p->vars, p->avars, p->nvars + 1) != 0) {
		oom(p);
		return;
	}
	p->vars[p->nvars++] = (struct var){name, nlen, value, vlen, known};
}

/* Bytes of variable names, as a table: names are read often. */
enum { N_START = 1, N_CHAR = 2 };
#define D(c) [c] = N_CHAR
#define L(c) [c] = N_START | N_CHAR
static const unsigned char name_class[256] = {
    D('0'), D('1'), D('2'), D('3'), D('4'), D('5'), D('6'), D('7'), D('8'), D('9'), L('A'),
    L('B'), L('C'), L('D'), L('E'), L('F'), L('G'), L('H'), L('I'), L('J'), L('K'), L('L'),
    L('M'), L('N'), L('O'), L('P'), L('Q'), L('R'), L('S'), L('T'), L('U'), L('V'), L('W'),
    L('X'), L('Y'), L('Z'), L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'),
    L('i'), L('j'), L('k'), L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'), L('s'),
    L('t'), L('u'), L('v'), L('w'), L('x'), L('y'), L('z'), L('_'),
};
#undef D
#undef L

static inline bool is_name_start(unsigned char c)
{
	return name_class[c] & N_START;
}

static inline bool is_name_char(unsigned char c)
{
	return name_class[c] & N_CHAR;
}

/* Length of the NAME in "NAME=..." or "NAME+=...", 0 when `s` is not an assignment. */
static inline size_t assignment_name(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0 || !is_name_start((unsigned char)s[0]))
		return 0;
	while (i < len && is_name_char((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '=')
		return i;
	if (i + 1 < len && s[i] == '+' && s[i + 1] == '=')
		return i;
	return 0;
}

/* Pastes the value of variable `name` into the word, or the reference as written. */
static void expand_var(struct parser *p, struct wtmp *e, const char *name, size_t nlen,
		       const char *raw, size_t raw_len, bool in_dq)
{
	const char *v;
	size_t vl;

	e->flags |= BALE_WORD_VAR;
	e->lit = false;
	if (var_lookup(p, name, nlen, &v, &vl) && vl <= p->budget) {
		p->budget -= vl;
		e->flags |= BALE_WORD_EXPANDED;
		if (in_dq)
			add(p, v, vl);
		else
			add_splittable(p, e, v, vl);
		return;
	}
	e->flags |= BALE_WORD_DYNAMIC;
	add(p, raw, raw_len);
}

/* --- the lexer ---------------------------------------------------------------------------- */

/*
 * Bytes that end or change an unquoted word. W_NUL, NUL, stops scan_run() at the text's
 * terminator; a NUL byte inside the text is plain. The classes up to W_NUL end a word.
 */
enum { W_END = 1, W_NUL, W_CHANGE, W_GLOB };
#define WORD_SPECIAL_CLASSES                                                                       \
	['\0'] = W_NUL, [' '] = W_END, ['\t'] = W_END, ['\n'] = W_END, ['\r'] = W_END,             \
	[';'] = W_END, ['&'] = W_END, ['|'] = W_END, [')'] = W_END, ['<'] = W_END, ['>'] = W_END,  \
	['('] = W_CHANGE, ['\\'] = W_CHANGE, ['\''] = W_CHANGE, ['"'] = W_CHANGE,                  \
	['$'] = W_CHANGE, ['`'] = W_CHANGE, ['*'] = W_GLOB, ['?'] = W_GLOB, ['['] = W_GLOB
static const unsigned char word_special[256] = {WORD_SPECIAL_CLASSES};

/*
 * Bytes no plain word starts with, one load where next_plain_word() asks of every word: the
 * special ones, and a comment's '#' and an IO number's digits (they start other tokens).
 */
static const unsigned char no_plain_start[256] = {
    WORD_SPECIAL_CLASSES,
    ['#'] = 1,
    ['0'] = 1,
    ['1'] = 1,
    ['2'] = 1,
    ['3'] = 1,
    ['4'] = 1,
    ['5'] = 1,
    ['6'] = 1,
    ['7'] = 1,
    ['8'] = 1,
    ['9'] = 1,
};

/* The blanks between tokens. */
static const unsigned char is_blank[256] = {[' '] = 1, ['\t'] = 1, ['\r'] = 1};

/*
 * The end of the run of bytes from `i` that are in `table` (table[c] != 0) when `in`, or not in
 * it otherwise: the first offset whose byte leaves the run, else `n`. `s[n]` must be a NUL
 * that leaves every run, and `i` at most `n`: no bound is checked per byte (this is the
 * lexer's inner loop). A run of bytes not in a table goes on over a NUL byte before `n`.
 */
static inline __attribute__((always_inline)) size_t scan_run(const char *s, size_t i, size_t n,
							     const unsigned char *table, bool in)
{
	if (in) {
		/* table[0] is 0: the terminator ends the run. */
		while (table[(unsigned char)s[i]])
			i++;
		return i;
	}
	for (;;) {
		/* table[0] is not 0: the terminator ends the run, and NUL bytes inside it stop here
		 * too, to be skipped. */
		while (!table[(unsigned char)s[i]])
			i++;
		if (s[i] != '\0' || i >= n)
			return i;
		i++;
	}
}

static bool at(const struct lexer *lx, size_t off, char c)
{
	return off < lx->len && lx->s[off] == c;
}

/* Skips a $((..)) or ((..)) starting at `open` (the first '('); returns the offset after it. */
static size_t skip_arith(struct parser *p, size_t open)
{
	struct lexer *lx = p->lx;
	size_t i = open;
	int depth = 0;

	for (; i < lx->len; i++) {
		char c = lx->s[i];

		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0)
				return i + 1;
		} else if (c == '\\' && i + 1 < lx->len) {
			i++;
		}
	}
	syntax_error(p, open, "unterminated arithmetic expression");
	return lx->len;
}

static void lex_single_quote(struct parser *p, struct wtmp *e)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos + 1;
	const char *end = memchr(lx->s + start, '\'', lx->len - start);
	size_t stop = end ? (size_t)(end - lx->s) : lx->len;

	add(p, lx->s + start, stop - start);
	if (!end) {
		syntax_error(p, lx->pos, "unterminated single quote");
		lx->pos = lx->len;
	} else {
		lx->pos = stop + 1;
	}
	e->flags |= BALE_WORD_QUOTED;
	e->lit = false;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* $'...': bash's ANSI-C quoting. lx->pos is at the '$'. */
static void lex_ansi_quote(struct parser *p, struct wtmp *e)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos, i = lx->pos + 2;

	e->flags |= BALE_WORD_QUOTED;
	e->lit = false;
	while (i < lx->len && lx->s[i] != '\'') {
		char c = lx->s[i];

		if (c != '\\' || i + 1 >= lx->len) {
			addch(p, c);
			i++;
			continue;
		}
		c = lx->s[i + 1];
		i += 2;
		switch (c) {
		case 'n':
			addch(p, '\n');
			break;
		case 't':
			addch(p, '\t');
			break;
		case 'r':
			addch(p, '\r');
			break;
		case 'a':
			addch(p, '\a');
			break;
		case 'b':
			addch(p, '\b');
			break;
		case 'e':
		case 'E':
			addch(p, 27);
			break;
		case 'f':
			addch(p, '\f');
			break;
		case 'v':
			addch(p, '\v');
			break;
		case 'x': {
			int v = 0, n = 0, h;

			while (n < 2 && i < lx->len && (h = hex_value(lx->s[i])) >= 0) {
				v = v * 16 + h;
				i++;
				n++;
			}
			if (n == 0)
				add(p, "\\x", 2);
			else if (v != 0)
				addch(p, (char)v);
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0', n = 1;

				while (n < 3 && i < lx->len && lx->s[i] >= '0' && lx->s[i] <= '7') {
					v = v * 8 + (lx->s[i] - '0');
					i++;
					n++;
				}
				if (v & 0xff)
					addch(p, (char)(v & 0xff));
			} else if (c == '\\' || c == '\'' || c == '"' || c == '?') {
				addch(p, c);
			} else {
				addch(p, '\\');
				addch(p, c);
			}
		}
	}
	if (i >= lx->len) {
		syntax_error(p, start, "unterminated $'...' string");
		lx->pos = lx->len;
	} else {
		lx->pos = i + 1;
	}
}

/* $( ... ), <( ... ), >( ... ): parses the list up to ')'. lx->pos is just after the '('. */
static void lex_subst_body(struct parser *p, struct wtmp *e, size_t start)
{
	struct lexer *lx = p->lx;
	uint32_t saved_ctx = p->ctx, saved_nest = p->nest;
	size_t saved_vars = p->nvars, saved_scope = p->vars_scope;
	const struct token *t;

	e->flags |= BALE_WORD_SUBST | BALE_WORD_DYNAMIC;
	e->lit = false;
	if (!enter(p, start))
		return;
	p->ctx |= BALE_CMD_IN_SUBST;
	p->ctx &= ~(uint32_t)BALE_CMD_NEGATED;
	p->nest++;
	p->vars_scope = p->nvars;
	parse_list(p, 1u << 0 /* S_RPAREN */);
	p->ctx = saved_ctx;
	p->nest = saved_nest;
	p->nvars = saved_vars;
	p->vars_scope = saved_scope;
	leave(p);
	if (p->stop)
		return;
	/* parse_list stopped on the ')' (peeked) or at the end. */
	t = &lx->tok;
	if (lx->has_tok && t->kind == TK_OP && t->op == OP_RPAREN) {
		lx->has_tok = false;
		lx->pos = t->end;
	} else {
		syntax_error(p, start, "unterminated command substitution");
		lx->has_tok = false;
		lx->pos = lx->len;
	}
}

/*
 * The word of ${name<op>word}: up to the matching '}', appended to the scratch buffer.
 * lx->pos is at its first byte; on return it is after the '}'.
 */
static void lex_brace_word(struct parser *p, struct wtmp *e, bool in_dq, size_t start)
{
	struct lexer *lx = p->lx;
	int braces = 0;

	if (!enter(p, start))
		return;
	while (!p->stop) {
		char c;

		if (lx->pos >= lx->len) {
			syntax_error(p, start, "unterminated ${...}");
			break;
		}
		c = lx->s[lx->pos];
		if (c == '}' && braces == 0) {
			lx->pos++;
			break;
		}
		switch (c) {
		case '{':
			braces++;
			addch(p, c);
			lx->pos++;
			break;
		case '}':
			braces--;
			addch(p, c);
			lx->pos++;
			break;
		case '\\':
			if (lx->pos + 1 < lx->len) {
				if (lx->s[lx->pos + 1] != '\n')
					addch(p, lx->s[lx->pos + 1]);
				lx->pos += 2;
			} else {
				addch(p, c);
				lx->pos++;
			}
			e->flags |= BALE_WORD_QUOTED;
			break;
		case '\'':
			if (in_dq) {
				addch(p, c);
				lx->pos++;
			} else {
				lex_single_quote(p, e);
			}
			break;
		case '"':
			lex_dquote(p, e, false);
			break;
		case '$':
			lex_dollar(p, e, in_dq);
			break;
		case '`':
			lex_backtick(p, e, in_dq);
			break;
		default:
			addch(p, c);
			lx->pos++;
		}
	}
	leave(p);
}

/* Offset after the '}' matching the "${" at `start`, skipping quotes; for forms bale keeps. */
static void skip_brace(struct parser *p, struct wtmp *e, bool in_dq, size_t start)
{
	size_t mark = p->scratch.len;
	uint32_t flags = e->flags;

	lex_brace_word(p, e, in_dq, start);
	scratch_truncate(p, mark);
	/* Keep the substitution bits: the commands inside ran; the quoting bits do not matter. */
	e->flags = flags | (e->flags & (BALE_WORD_SUBST | BALE_WORD_ARITH));
}

/* ${...}. lx->pos is at the '$'. */
static void lex_param(struct parser *p, struct wtmp *e, bool in_dq)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos, i = lx->pos + 2, name, nlen;
	bool special = false;
	const char *v = NULL;
	size_t vl = 0;
	bool known;
	char op[3] = {0};

	e->flags |= BALE_WORD_VAR;
	e->lit = false;
	if (i < lx->len && (lx->s[i] == '#' || lx->s[i] == '!') && i + 1 < lx->len &&
	    lx->s[i + 1] != '}') {
		special = true; /* ${#V} length, ${!V} indirection */
		i++;
	}
	name = i;
	if (i < lx->len && is_name_start((unsigned char)lx->s[i])) {
		while (i < lx->len && is_name_char((unsigned char)lx->s[i]))
			i++;
	} else if (i < lx->len && lx->s[i] >= '0' && lx->s[i] <= '9') {
		special = true;
		while (i < lx->len && lx->s[i] >= '0' && lx->s[i] <= '9')
			i++;
	} else if (i < lx->len && lx->s[i] && strchr("@*#?$!-", lx->s[i])) {
		special = true;
		i++;
	} else {
		special = true;
	}
	nlen = i - name;
	if (i < lx->len && lx->s[i] == '}' && nlen > 0) {
		lx->pos = i + 1;
		if (special) {
			e->flags |= BALE_WORD_DYNAMIC;
			add(p, lx->s + start, lx->pos - start);
		} else {
			expand_var(p, e, lx->s + name, nlen, lx->s + start, lx->pos - start, in_dq);
		}
		return;
	}
	/* An operator and a word. */
	if (!special && nlen > 0 && i < lx->len) {
		size_t k = 0;

		if (lx->s[i] == ':' && i + 1 < lx->len && lx->s[i + 1] &&
		    strchr("-=+?", lx->s[i + 1])) {
			op[k++] = ':';
			op[k++] = lx->s[i + 1];
			i += 2;
		} else if (lx->s[i] && strchr("-=+?", lx->s[i])) {
			op[k++] = lx->s[i];
			i++;
		}
	}
	if (op[0] == 0) {
		/* ${V#p}, ${V%p}, ${V/p/r}, ${V:1:2}, ${a[0]}, bad ones: kept as written. */
		lx->pos = i;
		skip_brace(p, e, in_dq, start);
		e->flags |= BALE_WORD_DYNAMIC;
		add(p, lx->s + start, lx->pos - start);
		return;
	}
	known = var_lookup(p, lx->s + name, nlen, &v, &vl) && vl <= p->budget;
	{
		bool colon = op[0] == ':';
		char kind = colon ? op[1] : op[0];
		size_t mark = p->scratch.len;
		uint32_t flags = e->flags;
		bool use_word, use_var, empty = false;

		lx->pos = i;
		lex_brace_word(p, e, in_dq, start);
		if (!known) {
			use_word = use_var = false;
		} else if (kind == '+') {
			use_var = false;
			use_word = !(colon && vl == 0);
			empty = !use_word;
		} else if (kind == '?') {
			use_var = !(colon && vl == 0);
			use_word = false;
		} else { /* '-' and '=' */
			use_var = !(colon && vl == 0);
			use_word = !use_var;
		}
		if (use_word) {
			e->flags |= BALE_WORD_EXPANDED;
			return; /* the word's value is already in place */
		}
		scratch_truncate(p, mark);
		e->flags = flags | (e->flags & (BALE_WORD_SUBST | BALE_WORD_ARITH));
		if (empty) {
			e->flags |= BALE_WORD_EXPANDED;
			if (!in_dq)
				e->may_split = true;
		} else if (use_var) {
			p->budget -= vl;
			e->flags |= BALE_WORD_EXPANDED;
			if (in_dq)
				add(p, v, vl);
			else
				add_splittable(p, e, v, vl);
		} else {
			e->flags |= BALE_WORD_DYNAMIC;
			add(p, lx->s + start, lx->pos - start);
		}
	}
}

/* A '$' at lx->pos. */
static void lex_dollar(struct parser *p, struct wtmp *e, bool in_dq)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos;
	char c1 = lx->pos + 1 < lx->len ? lx->s[lx->pos + 1] : '\0';

	if (c1 == '(') {
		if (at(lx, lx->pos + 2, '(')) {
			lx->pos = skip_arith(p, lx->pos + 1);
			e->flags |= BALE_WORD_ARITH | BALE_WORD_DYNAMIC;
			e->lit = false;
		} else {
			lx->pos += 2;
			lex_subst_body(p, e, start);
		}
		add(p, lx->s + start, lx->pos - start);
		return;
	}
	if (c1 == '{') {
		lex_param(p, e, in_dq);
		return;
	}
	if (c1 == '\'' && !in_dq) {
		lex_ansi_quote(p, e);
		return;
	}
	if (c1 == '"' && !in_dq) {
		lx->pos++;
		lex_dquote(p, e, false);
		return;
	}
	if (is_name_start((unsigned char)c1)) {
		size_t i = lx->pos + 1;

		while (i < lx->len && is_name_char((unsigned char)lx->s[i]))
			i++;
		lx->pos = i;
		expand_var(p, e, lx->s + start + 1, i - start - 1, lx->s + start, i - start, in_dq);
		return;
	}
	if ((c1 >= '0' && c1 <= '9') || (c1 && strchr("@*#?$!-", c1))) {
		lx->pos += 2;
		e->flags |= BALE_WORD_VAR | BALE_WORD_DYNAMIC;
		e->lit = false;
		add(p, lx->s + start, 2);
		return;
	}
	addch(p, '$');
	lx->pos++;
}

/* Bytes that end a run of plain text inside double quotes. */
static const unsigned char dq_special[256] = {
    ['\0'] = 1, ['"'] = 1, ['\\'] = 1, ['$'] = 1, ['`'] = 1};

/* "...". lx->pos is at the opening quote. In a heredoc delimiter nothing is expanded. */
static void lex_dquote(struct parser *p, struct wtmp *e, bool delim)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos;

	e->flags |= BALE_WORD_QUOTED;
	e->lit = false;
	lx->pos++;
	while (!p->stop) {
		size_t run = scan_run(lx->s, lx->pos, lx->len, dq_special, false);
		char c;

		add(p, lx->s + lx->pos, run - lx->pos);
		lx->pos = run;
		if (lx->pos >= lx->len) {
			syntax_error(p, start, "unterminated double quote");
			return;
		}
		c = lx->s[lx->pos];
		if (c == '"') {
			lx->pos++;
			return;
		}
		if (c == '\\') {
			char n = lx->pos + 1 < lx->len ? lx->s[lx->pos + 1] : '\0';

			if (n == '$' || n == '`' || n == '"' || n == '\\') {
				addch(p, n);
				lx->pos += 2;
			} else if (n == '\n') {
				lx->pos += 2;
			} else {
				addch(p, '\\');
				lx->pos++;
			}
		} else if (delim) {
			addch(p, c);
			lx->pos++;
		} else if (c == '$') {
			lex_dollar(p, e, true);
		} else {
			lex_backtick(p, e, true);
		}
	}
}

/* `...`: the content, unescaped, is parsed as a script of its own. lx->pos is at the '`'. */
static void lex_backtick(struct parser *p, struct wtmp *e, bool in_dq)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos, i = lx->pos + 1, n = 0;
	char *text;
	uint32_t line, col;

	e->flags |= BALE_WORD_SUBST | BALE_WORD_DYNAMIC;
	e->lit = false;
	while (i < lx->len && lx->s[i] != '`')
		i += (lx->s[i] == '\\' && i + 1 < lx->len) ? 2 : 1;
	text = bale_arena_alloc(p->arena, i - start);
	if (!text) {
		oom(p);
		return;
	}
	for (size_t k = start + 1; k < i && k < lx->len; k++) {
		char c = lx->s[k];

		if (c == '\\' && k + 1 < i) {
			char nx = lx->s[k + 1];

			if (nx == '$' || nx == '`' || nx == '\\' || (in_dq && nx == '"')) {
				text[n++] = nx;
				k++;
				continue;
			}
		}
		text[n++] = c;
	}
	text[n] = '\0'; /* the lexer's terminator: n is below the i - start bytes of text */
	if (i >= lx->len) {
		syntax_error(p, start, "unterminated backquote");
		lx->pos = lx->len;
	} else {
		lx->pos = i + 1;
	}
	lx_pos(lx, start + 1, &line, &col);
	{
		/* verbatim (no escape removed): positions are the enclosing text's */
		bool verbatim = n + 1 == (i < lx->len ? i : lx->len) - start;
		struct place at = {line, col, false, verbatim ? lx : NULL, start + 1};

		parse_string(p, text, n, at, BALE_CMD_NONE, BALE_CMD_IN_SUBST);
	}
	add(p, lx->s + start, lx->pos - start);
}

/* For each first byte, the entries of kw_text starting with it (bit k for entry k). */
static const uint32_t kw_by_first[256] = {
    ['{'] = 1u << KW_LBRACE,
    ['}'] = 1u << KW_RBRACE,
    ['!'] = 1u << KW_BANG,
    ['['] = 1u << KW_DBRACKET,
    [']'] = 1u << KW_DBRACKET_END,
    ['c'] = 1u << KW_CASE,
    ['d'] = 1u << KW_DO | 1u << KW_DONE,
    ['e'] = 1u << KW_ELSE | 1u << KW_ELIF | 1u << KW_ESAC,
    ['f'] = 1u << KW_FI | 1u << KW_FOR | 1u << KW_FUNCTION,
    ['i'] = 1u << KW_IF | 1u << KW_IN,
    ['s'] = 1u << KW_SELECT,
    ['t'] = 1u << KW_THEN,
    ['u'] = 1u << KW_UNTIL,
    ['w'] = 1u << KW_WHILE,
};

bool cmd_keywords_indexed(void)
{
	for (size_t k = 1; k < BALE_ARRAY_SIZE(kw_text); k++)
		if (!(kw_by_first[(unsigned char)kw_text[k].text[0]] & (1u << k)) ||
		    strlen(kw_text[k].text) != kw_text[k].len)
			return false;
	for (size_t c = 0; c < 256; c++)
		for (uint32_t m = kw_by_first[c]; m; m &= m - 1)
			if ((unsigned char)kw_text[__builtin_ctz(m)].text[0] != c)
				return false;
	return true;
}

/* The reserved word a plain literal word is, if any. Asked once of a word, when tok_kw() (inline,
 * asked at every command start) first asks. */
static __attribute__((noinline)) uint8_t classify_keyword(const char *raw, size_t len)
{
	if (len == 0 || len > 8)
		return KW_NONE;
	for (uint32_t m = kw_by_first[(unsigned char)raw[0]]; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m);
		size_t i = 1; /* the first byte is the keyword's */

		if (kw_text[k].len != len)
			continue;
		while (i < len && kw_text[k].text[i] == raw[i])
			i++;
		if (i == len)
			return (uint8_t)k;
	}
	return KW_NONE;
}

/*
 * True when the plain text [start, end), as scan_run() ends it, is a whole word: it ends at a
 * blank, an operator or the end (the text's NUL: scan_run() stops at no other).
 */
static inline bool plain_word_ends(const struct lexer *lx, size_t start, size_t end)
{
	return end > start && word_special[(unsigned char)lx->s[end]] <= W_NUL &&
	       end - start <= IN_PLACE_MAX;
}

/*
 * Makes the lexer's copy of its text where the values of words left in place are ended (vals),
 * before any word is read: out of memory, p->stop is set and no word is.
 */
static __attribute__((noinline)) char *lexer_make_vals(struct parser *p)
{
	struct lexer *lx = p->lx;

	if (!(lx->vals = bale_arena_strndup(p->arena, lx->s, lx->len)))
		oom(p);
	return lx->vals;
}

/*
 * Pushes the plain word [start, end) of the lexer's text: nothing nests in it, so its entry is
 * written on the stack at once, value left in place. Returns its entry (BALE_CMD_NONE without
 * memory) and moves the lexer past it.
 */
static inline __attribute__((always_inline)) size_t push_plain_word(struct parser *p, size_t start,
								    size_t end)
{
	struct lexer *lx = p->lx;
	uint32_t line, col, end_line, end_col;
	char *vals = lx->vals; /* made before any word is read (lexer_make_vals()) */

	if (BALE_ARRAY_RESERVE(p->w, p->aw, p->nw + 1) != 0) {
		oom(p);
		return BALE_CMD_NONE;
	}
	/* Positions first, then the entry: its byte fields would alias the lexer's. */
	if (in_window(lx, start) && in_window(lx, end - 1)) {
		/* Both ends in the window (end - 1 from start on): lx_pos() and lx_end_pos() in
		 * one. */
		line = end_line = lx->win_line;
		col = lx->win_col + (uint32_t)(start - lx->win_lo);
		end_col = lx->win_col + (uint32_t)(end - lx->win_lo);
	} else {
		lx_pos(lx, start, &line, &col);
		lx_end_pos(lx, start, end, &end_line, &end_col);
	}
	{
		/* Every field is set, none twice (a zeroed entry first cost more): most words come
		 * this way. The byte fields go last, after every read of the lexer. */
		struct wtmp *w = &p->w[p->nw];
		const char *raw = lx->s + start;
		size_t voff = p->scratch.len;
		uint8_t kw = lx->delim_mode ? KW_NONE : KW_UNREAD;

		lx->pos = end;
		w->value = vals + start;
		w->raw = raw;
		w->vlen = w->raw_len = end - start;
		w->line = line;
		w->col = col;
		w->flags = 0;
		w->end_line = end_line;
		w->end_col = end_col;
		w->voff = voff;
		w->lit = true;
		w->kw = kw;
		w->may_split = w->split_done = false;
		w->in_place = true;
		w->role = R_WORD;
	}
	return p->nw++;
}

/* A word at lx->pos. Pushes it on the word stack. */
static void lex_word(struct parser *p, struct token *t, size_t plain)
{
	struct lexer *lx = p->lx;
	size_t start = lx->pos;
	bool delim = lx->delim_mode;
	struct wtmp e = {0};

	/* Most words are plain text up to a blank or an operator. */
	if (plain_word_ends(lx, start, plain) && !p->stop) {
		t->kind = TK_WORD;
		t->w = push_plain_word(p, start, plain);
		return;
	}

	e.voff = p->scratch.len;
	e.raw = lx->s + start;
	e.lit = true;
	lx_pos(lx, start, &e.line, &e.col);
	/*
	 * Other words are kept in place too until a quote, an escape or an expansion makes their
	 * value differ, when what was read so far goes to scratch.
	 */
	e.in_place = true;
	if (!p->stop)
		lx->pos = plain; /* the plain text read above */
	/* Process substitution: <(...) and >(...) at the start of a word. */
	if (!delim && lx->pos + 1 < lx->len && (lx->s[lx->pos] == '<' || lx->s[lx->pos] == '>') &&
	    lx->s[lx->pos + 1] == '(') {
		e.in_place = false;
		lx->pos += 2;
		lex_subst_body(p, &e, start);
		add(p, lx->s + start, lx->pos - start);
	}
	while (lx->pos < lx->len && !p->stop) {
		size_t run = scan_run(lx->s, lx->pos, lx->len, word_special, false);
		unsigned char c;

		if (run > lx->pos) {
			if (!e.in_place)
				add(p, lx->s + lx->pos, run - lx->pos);
			lx->pos = run;
			continue;
		}
		c = (unsigned char)lx->s[lx->pos];
		/* '(' may end the word too: then the copy was not needed, and is harmless. */
		if (e.in_place && word_special[c] == W_CHANGE) {
			e.in_place = false;
			add(p, lx->s + start, lx->pos - start);
		}
		switch (c) {
		case '(':
			/* NAME=( ... ): a bash array assignment, kept as written. */
			if (!delim && lx->s[lx->pos - 1] == '=' && lx->pos > start + 1 &&
			    assignment_name(lx->s + start, lx->pos - start) ==
				lx->pos - start - 1) {
				size_t end = skip_arith(p, lx->pos);

				add(p, lx->s + lx->pos, end - lx->pos);
				lx->pos = end;
				e.lit = false;
				continue;
			}
			goto done;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case ';':
		case '&':
		case '|':
		case ')':
		case '<':
		case '>':
			goto done;
		case '\\':
			e.lit = false;
			if (lx->pos + 1 >= lx->len) {
				addch(p, '\\');
				lx->pos++;
			} else if (lx->s[lx->pos + 1] == '\n') {
				lx->pos += 2;
			} else {
				addch(p, lx->s[lx->pos + 1]);
				lx->pos += 2;
				e.flags |= BALE_WORD_QUOTED;
			}
			break;
		case '\'':
			lex_single_quote(p, &e);
			break;
		case '"':
			lex_dquote(p, &e, delim);
			break;
		case '$':
			if (delim) {
				addch(p, '$');
				lx->pos++;
			} else {
				lex_dollar(p, &e, false);
			}
			break;
		case '`':
			if (delim) {
				addch(p, '`');
				lx->pos++;
			} else {
				lex_backtick(p, &e, false);
			}
			break;
		default: /* * ? [ */
			if (!delim)
				e.flags |= BALE_WORD_GLOB;
			if (!e.in_place)
				addch(p, (char)c);
			lx->pos++;
		}
	}
done:
	e.raw_len = lx->pos - start;
	if (e.in_place && e.raw_len > IN_PLACE_MAX) {
		e.in_place = false;
		add(p, e.raw, e.raw_len);
	}
	e.vlen = e.in_place ? e.raw_len : p->scratch.len - e.voff;
	if (e.in_place) {
		if (!lx->vals)
			return; /* out of memory (p->stop is set): no token */
		e.value = lx->vals + start;
	}
	lx_end_pos(lx, start, lx->pos, &e.end_line, &e.end_col);
	if (e.lit && !delim)
		e.kw = KW_UNREAD;
	t->kind = TK_WORD;
	t->w = push_word(p, &e);
}

/* Reads the bodies of the heredocs waiting for them; lx->pos is after a newline or at the end. */
static void read_heredocs(struct parser *p);

/*
 * The operator at s[i] (before the text's NUL), its length in *len; -1 when none. The bytes
 * after s[i] are read while they match, so never past the NUL. In a heredoc delimiter, <( and
 * >( are operators too: elsewhere they start a word (process substitution).
 */
static inline int lex_op(const char *s, size_t i, bool delim, size_t *len)
{
	char c1 = s[i + 1];

	*len = 1;
	switch (s[i]) {
	case '&':
		if (c1 == '&')
			return *len = 2, OP_AND_IF;
		if (c1 == '>')
			return s[i + 2] == '>' ? (*len = 3, OP_AND_DGREAT)
					       : (*len = 2, OP_AND_GREAT);
		return OP_AMP;
	case '|':
		if (c1 == '|')
			return *len = 2, OP_OR_IF;
		if (c1 == '&')
			return *len = 2, OP_PIPE_AMP;
		return OP_PIPE;
	case ';':
		if (c1 == ';')
			return s[i + 2] == '&' ? (*len = 3, OP_DSEMI_AMP) : (*len = 2, OP_DSEMI);
		if (c1 == '&')
			return *len = 2, OP_SEMI_AMP;
		return OP_SEMI;
	case '(':
		return OP_LPAREN;
	case ')':
		return OP_RPAREN;
	case '<':
		if (c1 == '(' && !delim)
			return -1;
		if (c1 == '<') {
			if (s[i + 2] == '<')
				return *len = 3, OP_TLESS;
			if (s[i + 2] == '-')
				return *len = 3, OP_DLESSDASH;
			return *len = 2, OP_DLESS;
		}
		if (c1 == '&')
			return *len = 2, OP_LESSAND;
		if (c1 == '>')
			return *len = 2, OP_LESSGREAT;
		return OP_LESS;
	case '>':
		if (c1 == '(' && !delim)
			return -1;
		if (c1 == '>')
			return *len = 2, OP_DGREAT;
		if (c1 == '&')
			return *len = 2, OP_GREATAND;
		if (c1 == '|')
			return *len = 2, OP_CLOBBER;
		return OP_GREAT;
	default:
		return -1;
	}
}

/* Reads the operator at offset i (before the end) as the next token, if there is one. */
static inline bool lex_op_token(struct parser *p, size_t i)
{
	struct lexer *lx = p->lx;
	struct token *t = &lx->tok;
	size_t len;
	int op = lex_op(lx->s, i, lx->delim_mode, &len);

	if (op < 0)
		return false;
	t->cmd_mark = p->s->ncmds;
	t->kind = TK_OP;
	t->op = op;
	t->w = 0;
	t->ionum = 0;
	t->start = i;
	t->end = i + len;
	lx->pos = t->end;
	lx->has_tok = true;
	return true;
}

/*
 * The word at lx->pos as the next token. `plain` is the end of the plain text it starts with,
 * as scan_run() over word_special ends it: the caller has most often read it already.
 */
static __attribute__((noinline)) void lex_word_token(struct parser *p, size_t plain)
{
	struct lexer *lx = p->lx;
	struct token t = {0};

	t.start = lx->pos;
	t.cmd_mark = p->s->ncmds;
	lex_word(p, &t, plain);
	t.end = lx->pos;
	lx->tok = t;
	lx->has_tok = true;
}

static __attribute__((noinline)) void lex_token_full(struct parser *p)
{
	struct lexer *lx = p->lx;
	struct token t = {0};
	const char *s = lx->s;
	size_t n = lx->len;

	for (;;) {
		lx->pos = scan_run(s, lx->pos, n, is_blank, true);
		if (lx->pos + 1 < n && s[lx->pos] == '\\' && s[lx->pos + 1] == '\n') {
			lx->pos += 2;
			continue;
		}
		break;
	}
	if (lx->pos < n && s[lx->pos] == '#' && !lx->delim_mode) {
		const char *nl = memchr(s + lx->pos, '\n', n - lx->pos);

		lx->pos = nl ? (size_t)(nl - s) : n;
	}
	t.start = lx->pos;
	t.cmd_mark = p->s->ncmds;
	if (lx->pos >= n) {
		t.kind = TK_EOF;
		t.end = n;
		if (lx->npending)
			read_heredocs(p);
		goto out;
	}
	if (s[lx->pos] == '\n') {
		lx->pos++;
		t.kind = TK_NEWLINE;
		t.end = lx->pos;
		if (lx->npending)
			read_heredocs(p);
		goto out;
	}
	if (lex_op_token(p, lx->pos))
		return;
	if (s[lx->pos] >= '0' && s[lx->pos] <= '9') {
		size_t i = lx->pos;
		long v = 0;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (v < 100000)
				v = v * 10 + (s[i] - '0');
			i++;
		}
		if (i < n && (s[i] == '<' || s[i] == '>') && !at(lx, i + 1, '(')) {
			t.kind = TK_IONUM;
			t.ionum = (int)v;
			lx->pos = i;
			t.end = i;
			goto out;
		}
	}
	lex_word_token(p, scan_run(s, lx->pos, n, word_special, false));
	return;
out:
	lx->tok = t;
	lx->has_tok = true;
}

/*
 * Skips the blanks at lx->pos and asks whether a plain word comes next: text with nothing to
 * expand or quote, up to a blank or an operator. Not a comment ('#'), nor an IO number (a
 * digit). Its bounds go to *start and *end; lx->pos is left past the blanks. When there is
 * none, *end is still where the plain text from *start ends (as lex_word_token() takes it),
 * unless *start is at a comment, a digit or the end, or the parser has stopped.
 */
static inline __attribute__((always_inline)) bool next_plain_word(struct parser *p, size_t *start,
								  size_t *end)
{
	struct lexer *lx = p->lx;
	const char *s = lx->s;
	size_t n = lx->len, i = lx->pos, e;
	unsigned char c;

	i = scan_run(s, i, n, is_blank, true);
	lx->pos = i;
	*start = i;
	if (i >= n || p->stop) {
		*end = i;
		return false;
	}
	c = (unsigned char)s[i];
	if (no_plain_start[c]) {
		/* A special byte ends plain text at once; a NUL byte inside the text does not. */
		*end = c ? i : scan_run(s, i, n, word_special, false);
		return false;
	}
	e = scan_run(s, i + 1, n, word_special, false);
	*end = e;
	return plain_word_ends(lx, i, e);
}

/*
 * The next token, at offset i (lx->pos), where next_plain_word() found none and set `plain`:
 * an operator, a word that is not plain or the end at once, or else the rest
 * (lex_token_full()).
 */
static inline void lex_token_rest(struct parser *p, size_t i, size_t plain)
{
	struct lexer *lx = p->lx;

	if (i < lx->len) {
		unsigned char c = (unsigned char)lx->s[i];

		if (p->stop)
			goto full;
		if (lex_op_token(p, i))
			return;
		if (c != '\\' && c != '#' && c != '\n' && (unsigned)(c - '0') > 9) {
			/* No continuation, comment, newline or IO number: a word that is not
			 * plain (it quotes or expands), read at once. */
			lex_word_token(p, plain);
			return;
		}
	} else if (!lx->npending) {
		/* The end, with no heredoc body to read: lex_token_full()'s TK_EOF at once. */
		lx->tok = (struct token){
		    .kind = TK_EOF, .start = i, .end = lx->len, .cmd_mark = p->s->ncmds};
		lx->has_tok = true;
		return;
	}
full:
	lex_token_full(p);
}

/*
 * The next token. Most are plain words after a few blanks: read here, in a function small
 * enough to keep the lexer in registers; the rest (operators, newlines, comments, IO numbers,
 * quoted and expanded words) in lex_token_full().
 */
static void lex_token(struct parser *p)
{
	struct lexer *lx = p->lx;
	size_t i, end;

	if (next_plain_word(p, &i, &end)) {
		struct token *t = &lx->tok;

		t->cmd_mark = p->s->ncmds;
		t->w = push_plain_word(p, i, end);
		t->kind = TK_WORD;
		t->op = 0;
		t->ionum = 0;
		t->start = i;
		t->end = end;
		lx->has_tok = true;
		return;
	}
	lex_token_rest(p, i, end);
}

static struct token *peek(struct parser *p)
{
	if (!p->lx->has_tok)
		lex_token(p);
	return &p->lx->tok;
}

static void advance(struct parser *p)
{
	p->lx->last_start = p->lx->tok.start;
	p->lx->last_end = p->lx->tok.end;
	p->lx->has_tok = false;
}

static bool tok_is_op(const struct token *t, int op)
{
	return t->kind == TK_OP && t->op == op;
}

/* The reserved word the token is (KW_NONE for anything else). */
static inline enum kw tok_kw(const struct parser *p, const struct token *t)
{
	struct wtmp *e;

	if (t->kind != TK_WORD || t->w == BALE_CMD_NONE)
		return KW_NONE;
	e = &p->w[t->w];
	if (e->kw == KW_UNREAD)
		e->kw = classify_keyword(e->raw, e->raw_len);
	return (enum kw)e->kw;
}

/* Consumes the keyword `kw` when it is next. */
static bool accept_kw(struct parser *p, enum kw kw)
{
	struct token *t = peek(p);

	if (tok_kw(p, t) != kw)
		return false;
	drop_top_word(p);
	advance(p);
	return true;
}

static bool accept_op(struct parser *p, int op)
{
	if (!tok_is_op(peek(p), op))
		return false;
	advance(p);
	return true;
}

static void skip_newlines(struct parser *p)
{
	while (!p->stop && peek(p)->kind == TK_NEWLINE)
		advance(p);
}

static const char *tok_desc(struct parser *p, const struct token *t, char *buf, size_t size)
{
	switch (t->kind) {
	case TK_EOF:
		return "end of script";
	case TK_NEWLINE:
		return "newline";
	case TK_OP:
		snprintf(buf, size, "'%s'", op_text[t->op]);
		return buf;
	case TK_IONUM:
		return "redirection";
	default:
		snprintf(buf, size, "'%.*s'",
			 (int)(p->w[t->w].raw_len > 40 ? 40 : p->w[t->w].raw_len), p->w[t->w].raw);
		return buf;
	}
}

/* Records "expected X" at the next token and, unless it is the end, consumes it. */
static void expect_error(struct parser *p, const char *what)
{
	char buf[64];
	struct token *t = peek(p);

	syntax_error(p, t->start, "expected %s, found %s", what, tok_desc(p, t, buf, sizeof(buf)));
}

/* --- heredocs ----------------------------------------------------------------------------- */

static void process_heredoc(struct parser *p, struct heredoc *hd);

static void read_heredocs(struct parser *p)
{
	struct lexer *lx = p->lx;
	size_t count = lx->npending;

	lx->npending = 0;
	for (size_t k = 0; k < count; k++) {
		struct heredoc *hd = lx->pending[k];

		if (lx->ext && lx->iext < lx->next) {
			const bale_heredoc *x = &lx->ext[lx->iext++];

			hd->pub.body = x->content ? x->content : "";
			hd->pub.len = strlen(hd->pub.body);
			hd->pub.line = x->start_line;
			hd->pub.terminated = true;
		} else {
			size_t ls = lx->pos, body = lx->pos;
			bool found = false;

			lx_pos(lx, body, &hd->pub.line, &(uint32_t){0});
			while (ls < lx->len) {
				const char *nl = memchr(lx->s + ls, '\n', lx->len - ls);
				size_t le = nl ? (size_t)(nl - lx->s) : lx->len, cs = ls;

				if (hd->pub.strip_tabs)
					while (cs < le && lx->s[cs] == '\t')
						cs++;
				if (le - cs == hd->delim_len &&
				    memcmp(lx->s + cs, hd->delim, hd->delim_len) == 0) {
					found = true;
					hd->pub.body = lx->s + body;
					hd->pub.len = ls - body;
					lx->pos = nl ? le + 1 : le;
					break;
				}
				ls = nl ? le + 1 : le;
			}
			if (!found) {
				hd->pub.body = lx->s + body;
				hd->pub.len = lx->len - body;
				lx->pos = lx->len;
				syntax_error(
				    p, body, "here-document '%.*s' has no terminating line",
				    (int)(hd->delim_len > 40 ? 40 : hd->delim_len), hd->delim);
			}
			hd->pub.terminated = found;
			hd->pub.body = bale_arena_strndup(p->arena, hd->pub.body, hd->pub.len);
			if (!hd->pub.body) {
				oom(p);
				hd->pub.body = "";
				hd->pub.len = 0;
			}
		}
		hd->read = true;
		process_heredoc(p, hd);
	}
}

/*
 * Looks into a body once both it and its owner are known: a shell's script is parsed, and
 * the command substitutions of an unquoted body (they run) are parsed for their commands.
 */
static void process_heredoc(struct parser *p, struct heredoc *hd)
{
	size_t owner = hd->state == HD_OWNED ? hd->owner : BALE_CMD_NONE;
	uint32_t saved_ctx = p->ctx, saved_nest = p->nest;

	if (hd->done || !hd->read || hd->state == HD_WAITING || p->stop)
		return;
	hd->done = true;
	p->ctx = hd->ctx;
	p->nest = hd->nest;
	if (hd->state == HD_OWNED && hd->script) {
		struct place at = {hd->pub.line, 1, false, NULL, 0};

		parse_string(p, hd->pub.body, hd->pub.len, at, owner, BALE_CMD_IN_HEREDOC);
	} else if (!hd->pub.quoted && (memchr(hd->pub.body, '$', hd->pub.len) ||
				       memchr(hd->pub.body, '`', hd->pub.len))) {
		struct lexer sub, *saved = p->lx;
		struct wtmp e = {0};
		size_t mark = p->s->ncmds, smark = p->scratch.len;

		lexer_init(&sub, hd->pub.body, hd->pub.len); /* a C string, see read_heredocs() */
		sub.base_line = sub.mark_line = hd->pub.line;
		sub.base_col = sub.mark_col = 1;
		sub.flat = p->flat || (saved && saved->flat);
		p->lx = &sub;
		lexer_make_vals(p);
		while (sub.pos < sub.len && !p->stop) {
			char c = sub.s[sub.pos];

			if (c == '\\')
				sub.pos += sub.pos + 1 < sub.len ? 2 : 1; /* never past the end */
			else if (c == '$')
				lex_dollar(p, &e, true);
			else if (c == '`')
				lex_backtick(p, &e, true);
			else
				sub.pos++;
		}
		scratch_truncate(p, smark);
		p->lx = saved;
		for (size_t i = mark; i < p->s->ncmds && owner != BALE_CMD_NONE; i++)
			if (p->s->cmds[i].parent == BALE_CMD_NONE)
				p->s->cmds[i].parent = owner;
	}
	p->ctx = saved_ctx;
	p->nest = saved_nest;
}

/* --- simple commands ---------------------------------------------------------------------- */

static bool is_ifs(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * Splits the word on top of the stack into fields where an unquoted expansion brought white
 * space, as the shell does; an unquoted word that expanded to nothing disappears.
 */
static void split_top(struct parser *p)
{
	struct wtmp e;
	const char *v;
	const unsigned char *m = (const unsigned char *)p->mask.ptr;
	size_t i = 0, nfields = 0;

	/* Most words hold no unquoted expansion: asked before the entry is copied. */
	if (!p->w[p->nw - 1].may_split || p->w[p->nw - 1].split_done)
		return;
	e = p->w[p->nw - 1];
	v = word_value(p, &e);
	p->nw--;
	while (i < e.vlen && !p->stop) {
		size_t fs, fe;

		while (i < e.vlen && is_ifs(v[i]) && e.voff + i < p->mask.len && m[e.voff + i])
			i++;
		if (i >= e.vlen)
			break;
		fs = i;
		while (i < e.vlen && !(is_ifs(v[i]) && e.voff + i < p->mask.len && m[e.voff + i]))
			i++;
		fe = i;
		{
			struct wtmp f = e;

			f.voff = e.voff + fs;
			f.vlen = fe - fs;
			f.split_done = true;
			push_word(p, &f);
			nfields++;
		}
	}
	if (nfields == 0 && (e.flags & BALE_WORD_QUOTED)) {
		e.vlen = 0;
		e.split_done = true;
		push_word(p, &e);
		nfields = 1;
	}
	if (nfields > 1)
		for (size_t k = p->nw - nfields; k < p->nw; k++)
			p->w[k].flags |= BALE_WORD_SPLIT;
}

/* copy_word() for a word whose value is not left in place: copied into the arena. */
static __attribute__((noinline)) int copy_word_out(struct parser *p, bale_cmd_word *out,
						   const struct wtmp *e)
{
	const char *v = word_value(p, e);
	bool shared = e->in_place || (e->raw_len == e->vlen && memcmp(e->raw, v, e->vlen) == 0);
	size_t cost = e->vlen + (shared ? 0 : e->raw_len);
	char *value;

	if (cost > p->copy_budget)
		return BALE_ELIMIT;
	p->copy_budget -= cost;
	if (!(value = bale_arena_strndup(p->arena, v, e->vlen)))
		return BALE_ENOMEM;
	*out = e->pub;
	out->value = value;
	if (shared) {
		out->raw = value;
	} else {
		out->raw = bale_arena_strndup(p->arena, e->raw, e->raw_len);
		if (!out->raw)
			return BALE_ENOMEM;
	}
	return 0;
}

/*
 * Copies a word into the arena, or most words, left in place: their value, their text in the
 * lexer's copy, is ended there. Nested substitutions repeat their text in every enclosing word,
 * so the bytes copied per script are bounded: past the bound, BALE_ELIMIT. The bytes of words
 * left in place add up in *placed, for the caller to count at once.
 */
static inline int copy_word(struct parser *p, bale_cmd_word *out, const struct wtmp *e,
			    size_t *placed)
{
	if (!e->value)
		return copy_word_out(p, out, e);
	*out = e->pub;
	out->raw = e->value;
	*placed += e->vlen;
	/* vals is the script's own writable copy (struct lexer): `value` is const only outside. */
	((char *)e->value)[e->vlen] = '\0';
	return 0;
}

static bool conditional_ctx(uint32_t ctx)
{
	return ctx & (BALE_CMD_IN_CONDITION | BALE_CMD_IN_BRANCH | BALE_CMD_IN_LOOP |
		      BALE_CMD_IN_FUNCTION | BALE_CMD_IN_BACKGROUND | CTX_RHS);
}

/*
 * strcmp(w->value, lit) == 0 for the n bytes of lit, without a call: most names differ in
 * length. Reads no further than the value's NUL.
 */
static inline bool value_is(const bale_cmd_word *w, const char *lit, size_t n)
{
	return w->len >= n && memcmp(w->value, lit, n) == 0 && w->value[n] == '\0';
}

/* Remembers what a command does to the script's own variables. */
static void track_vars(struct parser *p, size_t idx)
{
	const bale_cmd *c = &p->s->cmds[idx];
	bool uncond = !conditional_ctx(p->ctx);

	if (c->nwords == 0) {
		for (size_t i = 0; i < c->nassigns; i++) {
			const bale_cmd_word *a = &c->assigns[i];
			size_t n = assignment_name(a->value, a->len);
			bool plus = n > 0 && a->value[n] == '+';

			if (n == 0)
				continue;
			var_set(p, a->value, n, a->value + n + 1 + plus, a->len - n - 1 - plus,
				uncond && !plus && !(a->flags & BALE_WORD_DYNAMIC));
		}
		return;
	}
	{
		const bale_cmd_word *w0 = &c->words[0];
		const char *name = w0->value;
		bool decl = false, unknown = false;

		/* export readonly declare typeset local / read unset mapfile readarray getopts */
		switch (name[0]) {
		case 'e':
			decl = value_is(w0, "export", 6);
			break;
		case 'r':
			decl = value_is(w0, "readonly", 8);
			unknown = value_is(w0, "read", 4) || value_is(w0, "readarray", 9);
			break;
		case 'd':
			decl = value_is(w0, "declare", 7);
			break;
		case 't':
			decl = value_is(w0, "typeset", 7);
			break;
		case 'l':
			decl = value_is(w0, "local", 5);
			break;
		case 'u':
			unknown = value_is(w0, "unset", 5);
			break;
		case 'm':
			unknown = value_is(w0, "mapfile", 7);
			break;
		case 'g':
			unknown = value_is(w0, "getopts", 7);
			break;
		default:
			return;
		}
		if (!decl && !unknown)
			return;
		for (size_t i = 1; i < c->nwords; i++) {
			const bale_cmd_word *a = &c->words[i];
			size_t n = assignment_name(a->value, a->len);

			if (a->value[0] == '-')
				continue;
			if (decl && n > 0) {
				bool plus = a->value[n] == '+';

				var_set(p, a->value, n, a->value + n + 1 + plus,
					a->len - n - 1 - plus,
					uncond && !plus && !(a->flags & BALE_WORD_DYNAMIC));
			} else if (unknown && is_name_start((unsigned char)a->value[0])) {
				size_t k = 0;

				while (is_name_char((unsigned char)a->value[k]))
					k++;
				if (a->value[k] == '\0')
					var_set(p, a->value, k, NULL, 0, false);
			}
		}
	}
}

/* True when `text` has as many lines as the source it came from: its positions can be counted. */
static bool same_lines(const char *text, size_t len, const char *raw, size_t raw_len)
{
	size_t a = 0, b = 0;

	for (const char *q = text; (q = memchr(q, '\n', len - (size_t)(q - text))) != NULL; q++)
		a++;
	for (const char *q = raw; (q = memchr(q, '\n', raw_len - (size_t)(q - raw))) != NULL; q++)
		b++;
	return a == b;
}

/* Position of the script text of a word (after its opening quote). */
static void word_text_pos(const bale_cmd_word *w, uint32_t *line, uint32_t *col)
{
	*line = w->line;
	*col = w->col;
	if (w->raw_len > 0 && (w->raw[0] == '\'' || w->raw[0] == '"'))
		*col += 1;
	else if (w->raw_len > 1 && w->raw[0] == '$' && (w->raw[1] == '\'' || w->raw[1] == '"'))
		*col += 2;
}

/*
 * Where a command's script string sits in the lexer's text, when it is a whole word copied
 * verbatim (unquoted, or quoted without escapes or expansions): then positions inside it are
 * exact, across Dockerfile line continuations too. NULL otherwise.
 */
static const char *verbatim_source(const struct parser *p, const bale_cmd *c,
				   const struct cmd_nested *nested)
{
	const struct lexer *lx = p->lx;

	if (!nested->text || nested->flat)
		return NULL;
	for (size_t k = 0; k < c->nwords; k++) {
		const char *r = p->srcs[k];
		size_t rl = c->words[k].raw_len, len = nested->len;

		if (nested->text != c->words[k].value)
			continue;
		if ((uintptr_t)r < (uintptr_t)lx->s ||
		    (uintptr_t)r + rl > (uintptr_t)lx->s + lx->len)
			return NULL;
		if (rl == len && memcmp(r, nested->text, len) == 0)
			return r;
		if (rl == len + 2 && (r[0] == '\'' || r[0] == '"') && r[rl - 1] == r[0] &&
		    memcmp(r + 1, nested->text, len) == 0)
			return r + 1;
		return NULL;
	}
	return NULL;
}

/* Most scripts run a few commands: this many are placed in the arena at once. */
#define CMDS_IN_ARENA 16

/* Room for one more command in p->s->cmds. Indexes stay valid; pointers into it may not. */
static int cmds_reserve(struct parser *p)
{
	bale_cmd_script *s = p->s;

	if (s->ncmds < s->alloc)
		return 0;
	if (!s->cmds) {
		if (!(s->cmds = bale_arena_alloc(p->arena, CMDS_IN_ARENA * sizeof(*s->cmds))))
			return BALE_ENOMEM;
		s->alloc = CMDS_IN_ARENA;
		p->cmds_in_arena = true;
		return 0;
	}
	/* A script outgrowing the arena's room often runs many more: room for a few times as many.
	 */
	if (BALE_ARRAY_RESERVE(p->heap_cmds, p->heap_alloc,
			       s->ncmds < 4 * CMDS_IN_ARENA ? 4 * CMDS_IN_ARENA : s->ncmds + 1) !=
	    0)
		return BALE_ENOMEM;
	if (p->cmds_in_arena) {
		memcpy(p->heap_cmds, s->cmds, s->ncmds * sizeof(*s->cmds));
		p->cmds_in_arena = false;
	}
	s->cmds = p->heap_cmds;
	s->alloc = p->heap_alloc;
	return 0;
}

/*
 * Finishes the simple command whose words are on the stack from `base_w` and redirections from
 * `base_r`; `mark` is the number of commands before its first token.
 */
static size_t finish_simple(struct parser *p, size_t base_w, size_t sbase, size_t base_r,
			    size_t given_assigns, size_t mark, uint32_t line, uint32_t col)
{
	size_t nwords = 0, nassigns = 0, nredirs = p->nr - base_r, idx, top = p->nw, placed = 0;
	bale_cmd_word *words = NULL, *assigns = NULL;
	bale_cmd_redir *redirs = NULL;
	bale_cmd *c;
	struct cmd_nested nested;
	const char *text_src;
	int rc = 0;

	/*
	 * Words and assignments need no zeroing: copy_word() sets every field of each. Room for
	 * a word per entry on the stack: a few assignments and redirection targets cost less
	 * than counting. The caller counted the assignments.
	 */
	if ((top > base_w &&
	     !(words = bale_arena_alloc(p->arena, (top - base_w) * sizeof(*words)))) ||
	    (given_assigns &&
	     !(assigns = bale_arena_alloc(p->arena, given_assigns * sizeof(*assigns)))) ||
	    (nredirs && !(redirs = bale_arena_calloc(p->arena, nredirs, sizeof(*redirs))))) {
		oom(p);
		return BALE_CMD_NONE;
	}
	for (size_t i = base_w; i < top; i++) {
		const struct wtmp *e = &p->w[i];

		if (e->role == R_WORD)
			rc = copy_word(p, &words[nwords++], e, &placed);
		else if (e->role == R_ASSIGN && nassigns < given_assigns)
			rc = copy_word(p, &assigns[nassigns++], e, &placed);
		if (rc != 0)
			break;
	}
	if (nwords == 0)
		words = NULL;
	for (size_t i = 0; i < nredirs && rc == 0; i++) {
		const struct rtmp *r = &p->r[base_r + i];

		redirs[i].op = r->op;
		redirs[i].fd = r->fd;
		redirs[i].heredoc = r->hd ? &r->hd->pub : NULL;
		if (r->target != BALE_CMD_NONE)
			rc = copy_word(p, &redirs[i].target, &p->w[r->target], &placed);
		else
			redirs[i].target.value = redirs[i].target.raw = "";
	}
	/* Costs only add up: the bound is passed now if it would have been at any word. */
	if (rc == 0 && placed > p->copy_budget)
		rc = BALE_ELIMIT;
	else if (rc == 0)
		p->copy_budget -= placed;
	if (rc == BALE_ELIMIT) {
		syntax_error(p, p->lx->last_end,
			     "script too large to model (words repeat over %zu bytes)",
			     p->copy_limit);
		p->stop = true;
		return BALE_CMD_NONE;
	}
	if (rc != 0 || cmds_reserve(p) != 0) {
		oom(p);
		return BALE_CMD_NONE;
	}
	idx = p->s->ncmds++;
	c = &p->s->cmds[idx];
	/* Every field is set, here or by cmd_analyze(): no zeroing first. */
	c->words = words;
	c->nwords = nwords;
	c->assigns = assigns;
	c->nassigns = nassigns;
	c->redirs = redirs;
	c->nredirs = nredirs;
	c->line = line;
	c->col = col;
	lx_end_pos(p->lx, p->lx->last_start, p->lx->last_end, &c->end_line, &c->end_col);
	c->connector = BALE_CONN_END;
	c->pipe_prev = c->pipe_next = c->parent = BALE_CMD_NONE;
	c->context = p->ctx & CTX_PUBLIC_MASK;
	c->depth = p->nest;
	for (size_t i = mark; i < idx; i++)
		if (p->s->cmds[i].parent == BALE_CMD_NONE)
			p->s->cmds[i].parent = idx;
	p->nw = base_w;
	p->nr = base_r;
	scratch_truncate(p, sbase);

	if (cmd_analyze(p->arena, c, &nested) != 0) {
		oom(p);
		return idx;
	}
	if (nested.text && !nested.flat) {
		/* Where the words sit in the lexer's text: their entries, popped, are still there.
		 */
		if (BALE_ARRAY_RESERVE(p->srcs, p->asrcs, nwords) != 0) {
			oom(p);
			return idx;
		}
		for (size_t i = base_w, k = 0; i < top; i++)
			if (p->w[i].role == R_WORD)
				p->srcs[k++] = p->w[i].raw;
	}
	text_src = verbatim_source(p, c, &nested);
	track_vars(p, idx);
	/* The heredocs it reads: now that the owner is known, their bodies can be looked into. */
	for (size_t i = 0; i < nredirs; i++) {
		const bale_cmd_redir *rd = &p->s->cmds[idx].redirs[i];
		struct heredoc *hd = (struct heredoc *)rd->heredoc;

		if (!hd)
			continue;
		hd->state = HD_OWNED;
		hd->owner = idx;
		hd->script = nested.stdin_script && rd->fd == 0;
		hd->ctx = p->ctx;
		hd->nest = p->nest;
		process_heredoc(p, hd);
	}
	if (nested.stdin_script) {
		for (size_t i = 0; i < nredirs; i++) {
			const bale_cmd_redir *rd = &p->s->cmds[idx].redirs[i];

			if (rd->op == BALE_REDIR_HERESTRING && rd->fd == 0 &&
			    !(rd->target.flags & BALE_WORD_SUBST)) {
				uint32_t l, cl;

				struct place at = {0};

				word_text_pos(&rd->target, &l, &cl);
				at.line = l;
				at.col = cl;
				at.flat = !same_lines(rd->target.value, rd->target.len,
						      rd->target.raw, rd->target.raw_len);
				parse_string(p, rd->target.value, rd->target.len, at, idx,
					     BALE_CMD_IN_STRING);
			}
		}
	}
	if (nested.text) {
		struct place at = {nested.line, nested.col, nested.flat, NULL, 0};

		if (text_src)
			at.map = p->lx, at.map_off = (size_t)(text_src - p->lx->s);
		parse_string(p, nested.text, nested.len, at, idx, BALE_CMD_IN_STRING);
	}
	return idx;
}

static bool is_redir_op(int op)
{
	return op >= OP_LESS && op <= OP_TLESS;
}

static bale_cmd_redir_op redir_kind(int op)
{
	switch (op) {
	case OP_LESS:
		return BALE_REDIR_IN;
	case OP_GREAT:
		return BALE_REDIR_OUT;
	case OP_DGREAT:
		return BALE_REDIR_APPEND;
	case OP_CLOBBER:
		return BALE_REDIR_CLOBBER;
	case OP_LESSGREAT:
		return BALE_REDIR_RDWR;
	case OP_LESSAND:
		return BALE_REDIR_DUP_IN;
	case OP_GREATAND:
		return BALE_REDIR_DUP_OUT;
	case OP_AND_GREAT:
		return BALE_REDIR_OUT_ERR;
	case OP_AND_DGREAT:
		return BALE_REDIR_APPEND_ERR;
	case OP_TLESS:
		return BALE_REDIR_HERESTRING;
	default:
		return BALE_REDIR_HEREDOC;
	}
}

/* A redirection; the operator is the next token. `fd` is -1 when none was written. */
static void parse_redir(struct parser *p, int fd)
{
	struct lexer *lx = p->lx;
	struct token *t = peek(p);
	int op = t->op;
	bale_cmd_redir_op kind = redir_kind(op);
	struct rtmp r = {kind, fd, BALE_CMD_NONE, NULL};
	size_t op_start = t->start;

	advance(p);
	if (r.fd < 0)
		r.fd = (kind == BALE_REDIR_IN || kind == BALE_REDIR_DUP_IN ||
			kind == BALE_REDIR_RDWR || kind == BALE_REDIR_HEREDOC ||
			kind == BALE_REDIR_HERESTRING)
			   ? 0
			   : 1;
	if (kind == BALE_REDIR_HEREDOC)
		lx->delim_mode = true;
	t = peek(p);
	lx->delim_mode = false;
	if (t->kind != TK_WORD || t->w == BALE_CMD_NONE) {
		syntax_error(p, op_start, "'%s' is not followed by a word", op_text[op]);
		return;
	}
	r.target = t->w;
	p->w[t->w].role = R_TARGET;
	advance(p);
	if (kind == BALE_REDIR_HEREDOC) {
		struct heredoc *hd = bale_arena_calloc(p->arena, 1, sizeof(*hd));
		const struct wtmp *e = &p->w[r.target];

		if (!hd) {
			oom(p);
			return;
		}
		hd->delim = bale_arena_strndup(p->arena, word_value(p, e), e->vlen);
		if (!hd->delim) {
			oom(p);
			return;
		}
		hd->delim_len = e->vlen;
		hd->pub.body = "";
		hd->pub.quoted = (e->flags & BALE_WORD_QUOTED) != 0;
		hd->pub.strip_tabs = op == OP_DLESSDASH;
		hd->owner = BALE_CMD_NONE;
		hd->ctx = p->ctx;
		hd->nest = p->nest;
		if (lx->npending < MAX_PENDING_HEREDOCS)
			lx->pending[lx->npending++] = hd;
		else
			syntax_error(p, op_start, "more than %d pending here-documents",
				     MAX_PENDING_HEREDOCS);
		r.hd = hd;
	}
	if (BALE_ARRAY_RESERVE(p->r, p->ar, p->nr + 1) != 0) {
		oom(p);
		return;
	}
	p->r[p->nr++] = r;
}

/* Redirections after a compound command: parsed, their heredocs read, then let go. */
static void parse_compound_redirs(struct parser *p)
{
	size_t base_w = p->nw, base_r = p->nr, sbase = p->scratch.len;

	for (;;) {
		struct token *t = peek(p);

		if (p->stop)
			break;
		if (t->kind == TK_IONUM) {
			int fd = t->ionum;

			advance(p);
			if (tok_is_op(peek(p), OP_LESS) || is_redir_op(peek(p)->op))
				parse_redir(p, fd);
			continue;
		}
		if (t->kind == TK_OP && is_redir_op(t->op)) {
			parse_redir(p, -1);
			continue;
		}
		break;
	}
	for (size_t i = base_r; i < p->nr; i++) {
		if (p->r[i].hd) {
			p->r[i].hd->state = HD_ORPHAN;
			process_heredoc(p, p->r[i].hd);
		}
	}
	p->nr = base_r;
	pop_words(p, base_w, sbase);
}

static void set_connector(struct parser *p, size_t idx, bale_cmd_connector conn)
{
	if (idx != BALE_CMD_NONE && idx < p->s->ncmds)
		p->s->cmds[idx].connector = conn;
}

static void merge(struct span *into, struct span s)
{
	if (s.first == BALE_CMD_NONE)
		return;
	if (into->first == BALE_CMD_NONE)
		into->first = s.first;
	into->last = s.last;
}

/* [[ ... ]]: kept as one command "[[" whose words are the operands and operators. */
static struct span parse_dbracket(struct parser *p)
{
	struct token *t = peek(p);
	size_t base_w = t->w, sbase = p->w[t->w].voff, base_r = p->nr, mark = t->cmd_mark;
	uint32_t line = p->w[t->w].line, col = p->w[t->w].col;
	size_t idx;

	p->w[t->w].role = R_WORD;
	advance(p);
	for (;;) {
		t = peek(p);
		if (p->stop)
			return no_span;
		if (t->kind == TK_EOF) {
			syntax_error(p, t->start, "'[[' is not closed by ']]'");
			break;
		}
		if (t->kind == TK_NEWLINE) {
			advance(p);
			continue;
		}
		if (t->kind == TK_WORD) {
			bool end = tok_kw(p, t) == KW_DBRACKET_END;

			p->w[t->w].role = R_WORD;
			advance(p);
			if (end)
				break;
			continue;
		}
		{
			/* An operator inside [[ ]] (&&, <, (, ...) is one of its words. */
			struct wtmp e = {0};

			e.voff = p->scratch.len;
			e.raw = p->lx->s + t->start;
			e.raw_len = t->end - t->start;
			lx_pos(p->lx, t->start, &e.line, &e.col);
			lx_end_pos(p->lx, t->start, t->end, &e.end_line, &e.end_col);
			add(p, e.raw, e.raw_len);
			e.vlen = e.raw_len;
			e.role = R_WORD;
			push_word(p, &e);
			advance(p);
		}
	}
	idx = finish_simple(p, base_w, sbase, base_r, 0, mark, line, col);
	return (struct span){idx, idx};
}

/* A function definition's body, once "name ( )" or "function name" has been read. */
static struct span parse_function_body(struct parser *p)
{
	uint32_t saved = p->ctx;
	struct span s;

	if (!enter(p, p->lx->pos))
		return no_span;
	skip_newlines(p);
	p->ctx |= BALE_CMD_IN_FUNCTION;
	s = parse_command(p);
	p->ctx = saved;
	leave(p);
	return s;
}

static struct span parse_simple(struct parser *p)
{
	struct token *t = peek(p);
	size_t base_w = t->kind == TK_WORD ? t->w : p->nw;
	size_t sbase = t->kind == TK_WORD ? p->w[t->w].voff : p->scratch.len;
	size_t base_r = p->nr, mark = t->cmd_mark, idx;
	size_t nwords = 0, nassigns = 0;
	bool redir_failed = false; /* a redirection without its word: no function name before '(' */
	uint32_t line, col;

	if (t->kind == TK_WORD && t->w != BALE_CMD_NONE) {
		/* computed when the word was read, before anything nested in it */
		line = p->w[t->w].line;
		col = p->w[t->w].col;
	} else {
		lx_pos(p->lx, t->start, &line, &col);
	}
	for (;;) {
		size_t ws, we;

		/*
		 * After the name, a run of plain words is read here, one after the other, without a
		 * token each: nothing in them splits, and none is an assignment or a reserved word.
		 * The token that ends the run is read right where it stopped (the operator that
		 * ends most commands, or a word that is not plain), not looked for again.
		 */
		if (nwords > 0 && !p->lx->has_tok) {
			while (next_plain_word(p, &ws, &we)) {
				size_t w = push_plain_word(p, ws, we);

				if (w == BALE_CMD_NONE)
					break; /* out of memory: p->stop is set */
				/* its role is R_WORD already */
				p->lx->last_start = ws;
				p->lx->last_end = we;
				nwords++;
			}
			if (!p->lx->has_tok)
				lex_token_rest(p, ws, we);
		}
		t = peek(p);
		if (p->stop)
			return no_span;
		if (t->kind == TK_WORD) {
			struct wtmp *e = &p->w[t->w];

			/* Only leading words can be assignments: the others are not asked. */
			if (nwords == 0 && assignment_name(e->raw, e->raw_len) > 0) {
				e->role = R_ASSIGN;
				nassigns++;
				advance(p);
				continue;
			}
			e->role = R_WORD;
			advance(p);
			split_top(p);
			nwords++;
			continue;
		}
		if (tok_is_op(t, OP_LPAREN) && nwords == 1 && nassigns == 0 && p->nr == base_r &&
		    !redir_failed) {
			/*
			 * name ( ) compound-command: '(' right after the name (a plain word after
			 * it would have been read above, a redirection counted), the name goes
			 * before more is read.
			 */
			p->nw = base_w;
			scratch_truncate(p, sbase);
			advance(p);
			if (!accept_op(p, OP_RPAREN))
				expect_error(p, "')' in a function definition");
			return parse_function_body(p);
		}
		if (t->kind == TK_IONUM || (t->kind == TK_OP && is_redir_op(t->op))) {
			size_t nr = p->nr;

			if (t->kind == TK_IONUM) {
				int fd = t->ionum;

				advance(p);
				t = peek(p);
				if (t->kind == TK_OP && is_redir_op(t->op))
					parse_redir(p, fd);
			} else {
				parse_redir(p, -1);
			}
			redir_failed |= p->nr == nr;
			continue;
		}
		break;
	}
	idx = finish_simple(p, base_w, sbase, base_r, nassigns, mark, line, col);
	return (struct span){idx, idx};
}

/* --- compound commands -------------------------------------------------------------------- */

enum {
	S_RPAREN = 1u << 0,
	S_DSEMI = 1u << 1,
	S_THEN = 1u << 2,
	S_ELSE = 1u << 3, /* else, elif */
	S_FI = 1u << 4,
	S_DO = 1u << 5,
	S_DONE = 1u << 6,
	S_ESAC = 1u << 7,
	S_RBRACE = 1u << 8,
};

static bool is_stop(struct parser *p, const struct token *t, unsigned stops)
{
	if (t->kind == TK_OP)
		return ((stops & S_RPAREN) && t->op == OP_RPAREN) ||
		       ((stops & S_DSEMI) &&
			(t->op == OP_DSEMI || t->op == OP_SEMI_AMP || t->op == OP_DSEMI_AMP));
	switch (tok_kw(p, t)) {
	case KW_THEN:
		return stops & S_THEN;
	case KW_ELSE:
	case KW_ELIF:
		return stops & S_ELSE;
	case KW_FI:
		return stops & S_FI;
	case KW_DO:
		return stops & S_DO;
	case KW_DONE:
		return stops & S_DONE;
	case KW_ESAC:
		return stops & S_ESAC;
	case KW_RBRACE:
		return stops & S_RBRACE;
	default:
		return false;
	}
}

static struct span parse_list_ctx(struct parser *p, unsigned stops, uint32_t ctx)
{
	uint32_t saved = p->ctx;
	struct span s;

	p->ctx |= ctx;
	s = parse_list(p, stops);
	p->ctx = saved;
	return s;
}

static void expect_kw(struct parser *p, enum kw kw)
{
	char what[32];

	if (accept_kw(p, kw))
		return;
	snprintf(what, sizeof(what), "'%s'", kw_text[kw].text);
	expect_error(p, what);
}

static struct span parse_if(struct parser *p)
{
	struct span s = no_span;

	drop_top_word(p);
	advance(p); /* if */
	merge(&s, parse_list_ctx(p, S_THEN, BALE_CMD_IN_CONDITION));
	expect_kw(p, KW_THEN);
	merge(&s, parse_list_ctx(p, S_ELSE | S_FI, BALE_CMD_IN_BRANCH));
	while (!p->stop) {
		if (accept_kw(p, KW_ELIF)) {
			merge(&s, parse_list_ctx(p, S_THEN, BALE_CMD_IN_CONDITION));
			expect_kw(p, KW_THEN);
			merge(&s, parse_list_ctx(p, S_ELSE | S_FI, BALE_CMD_IN_BRANCH));
		} else if (accept_kw(p, KW_ELSE)) {
			merge(&s, parse_list_ctx(p, S_FI, BALE_CMD_IN_BRANCH));
		} else {
			break;
		}
	}
	expect_kw(p, KW_FI);
	return s;
}

/* do ... done (or bash's { ... } after for). */
static struct span parse_do_group(struct parser *p)
{
	struct span s;

	skip_newlines(p);
	if (accept_kw(p, KW_LBRACE)) {
		s = parse_list_ctx(p, S_RBRACE, BALE_CMD_IN_LOOP);
		expect_kw(p, KW_RBRACE);
		return s;
	}
	expect_kw(p, KW_DO);
	s = parse_list_ctx(p, S_DONE, BALE_CMD_IN_LOOP);
	expect_kw(p, KW_DONE);
	return s;
}

static struct span parse_while(struct parser *p)
{
	struct span s = no_span;

	drop_top_word(p);
	advance(p); /* while / until */
	merge(&s, parse_list_ctx(p, S_DO, BALE_CMD_IN_CONDITION | BALE_CMD_IN_LOOP));
	merge(&s, parse_do_group(p));
	return s;
}

static struct span parse_for(struct parser *p)
{
	struct lexer *lx = p->lx;
	struct token *t;

	drop_top_word(p);
	advance(p); /* for / select */
	/* for (( init; test; step )) */
	while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
		lx->pos++;
	if (!lx->has_tok && at(lx, lx->pos, '(') && at(lx, lx->pos + 1, '(')) {
		lx->pos = skip_arith(p, lx->pos);
		accept_op(p, OP_SEMI);
		return parse_do_group(p);
	}
	t = peek(p);
	if (t->kind != TK_WORD) {
		expect_error(p, "a variable name after 'for'");
		return no_span;
	}
	{
		const struct wtmp *e = &p->w[t->w];
		const char *name = word_value(p, e);
		size_t n = e->vlen, k = 0;

		while (k < n && is_name_char((unsigned char)name[k]))
			k++;
		if (k == n && n > 0) {
			char *copy = bale_arena_strndup(p->arena, name, n);

			if (copy)
				var_set(p, copy, n, NULL, 0, false);
		}
	}
	drop_top_word(p);
	advance(p);
	skip_newlines(p);
	if (accept_kw(p, KW_IN)) {
		size_t base_w = p->nw, sbase = p->scratch.len;

		for (;;) {
			t = peek(p);
			if (p->stop || t->kind != TK_WORD)
				break;
			p->w[t->w].role = R_DROP;
			advance(p);
		}
		p->nw = base_w;
		scratch_truncate(p, sbase);
		if (!accept_op(p, OP_SEMI) && peek(p)->kind != TK_NEWLINE)
			expect_error(p, "';' or a newline after the word list");
	} else {
		accept_op(p, OP_SEMI);
	}
	return parse_do_group(p);
}

static struct span parse_case(struct parser *p)
{
	struct span s = no_span;
	struct token *t;

	drop_top_word(p);
	advance(p); /* case */
	t = peek(p);
	if (t->kind != TK_WORD) {
		expect_error(p, "a word after 'case'");
		return s;
	}
	drop_top_word(p);
	advance(p);
	skip_newlines(p);
	expect_kw(p, KW_IN);
	for (;;) {
		skip_newlines(p);
		if (p->stop || accept_kw(p, KW_ESAC))
			break;
		t = peek(p);
		if (t->kind == TK_EOF) {
			expect_error(p, "'esac'");
			break;
		}
		accept_op(p, OP_LPAREN);
		/* pattern [ | pattern ]... ) */
		for (;;) {
			t = peek(p);
			if (t->kind != TK_WORD) {
				expect_error(p, "a case pattern");
				if (t->kind != TK_EOF && !tok_is_op(t, OP_RPAREN))
					advance(p);
				break;
			}
			drop_top_word(p);
			advance(p);
			if (!accept_op(p, OP_PIPE))
				break;
		}
		if (!accept_op(p, OP_RPAREN)) {
			expect_error(p, "')' after a case pattern");
			if (peek(p)->kind == TK_EOF)
				break;
		}
		merge(&s, parse_list_ctx(p, S_DSEMI | S_ESAC, BALE_CMD_IN_BRANCH));
		t = peek(p);
		if (t->kind == TK_OP &&
		    (t->op == OP_DSEMI || t->op == OP_SEMI_AMP || t->op == OP_DSEMI_AMP))
			advance(p);
		else if (tok_kw(p, t) != KW_ESAC && t->kind != TK_EOF)
			advance(p); /* not progressing otherwise: an error was recorded */
	}
	return s;
}

/* Most commands start with a word that is no reserved word: a simple command. */
static inline bool starts_plain_simple(struct parser *p, const struct token *t)
{
	return !p->stop && t->kind == TK_WORD && p->w[t->w].lit && tok_kw(p, t) == KW_NONE &&
	       p->depth < p->max_depth;
}

static struct span parse_command(struct parser *p)
{
	struct token *t = peek(p);
	struct lexer *lx = p->lx;
	struct span s = no_span;
	char buf[64];
	size_t start = t->start;

	if (p->stop)
		return s;
	if (starts_plain_simple(p, t))
		return parse_simple(p);
	if (t->kind == TK_WORD && p->w[t->w].lit) {
		const struct wtmp *e = &p->w[t->w];
		bool compound = true;

		if (!enter(p, start))
			return s;
		if (tok_kw(p, t) == KW_LBRACE) {
			drop_top_word(p);
			advance(p);
			s = parse_list(p, S_RBRACE);
			expect_kw(p, KW_RBRACE);
		} else if (tok_kw(p, t) == KW_IF) {
			s = parse_if(p);
		} else if (tok_kw(p, t) == KW_WHILE || tok_kw(p, t) == KW_UNTIL) {
			s = parse_while(p);
		} else if (tok_kw(p, t) == KW_FOR || tok_kw(p, t) == KW_SELECT) {
			s = parse_for(p);
		} else if (tok_kw(p, t) == KW_CASE) {
			s = parse_case(p);
		} else if (tok_kw(p, t) == KW_FUNCTION) {
			drop_top_word(p);
			advance(p);
			if (peek(p)->kind == TK_WORD) {
				drop_top_word(p);
				advance(p);
			}
			if (accept_op(p, OP_LPAREN) && !accept_op(p, OP_RPAREN))
				expect_error(p, "')' in a function definition");
			s = parse_function_body(p);
			compound = false;
		} else if (tok_kw(p, t) == KW_DBRACKET) {
			s = parse_dbracket(p);
			compound = false;
		} else if (tok_kw(p, t) == KW_RBRACE || tok_kw(p, t) == KW_THEN ||
			   tok_kw(p, t) == KW_ELSE || tok_kw(p, t) == KW_ELIF ||
			   tok_kw(p, t) == KW_FI || tok_kw(p, t) == KW_DO ||
			   tok_kw(p, t) == KW_DONE || tok_kw(p, t) == KW_ESAC) {
			syntax_error(p, start, "unexpected '%.*s'", (int)e->raw_len, e->raw);
			drop_top_word(p);
			advance(p);
			compound = false;
		} else {
			leave(p);
			return parse_simple(p);
		}
		if (compound)
			parse_compound_redirs(p);
		leave(p);
		return s;
	}
	if (t->kind == TK_OP && t->op == OP_LPAREN) {
		if (!enter(p, start))
			return s;
		if (at(lx, t->end, '(')) {
			/* (( arithmetic )) */
			lx->has_tok = false;
			lx->pos = skip_arith(p, start);
			lx->last_end = lx->pos;
		} else {
			uint32_t saved = p->ctx;
			size_t saved_vars = p->nvars, saved_scope = p->vars_scope;

			advance(p);
			p->ctx |= BALE_CMD_IN_SUBSHELL;
			p->vars_scope = p->nvars;
			s = parse_list(p, S_RPAREN);
			p->ctx = saved;
			p->nvars = saved_vars;
			p->vars_scope = saved_scope;
			if (!accept_op(p, OP_RPAREN))
				expect_error(p, "')'");
		}
		parse_compound_redirs(p);
		leave(p);
		return s;
	}
	if (t->kind == TK_WORD || t->kind == TK_IONUM || (t->kind == TK_OP && is_redir_op(t->op)))
		return parse_simple(p);
	syntax_error(p, start, "unexpected %s", tok_desc(p, t, buf, sizeof(buf)));
	if (t->kind != TK_EOF)
		advance(p);
	return s;
}

static inline bool at_pipe(const struct token *t)
{
	return t->kind == TK_OP && (t->op == OP_PIPE || t->op == OP_PIPE_AMP);
}

/* The rest of a pipeline whose first command, `first`, is read. */
static struct span pipeline_rest(struct parser *p, struct span first)
{
	struct span s = no_span, prev = first;

	merge(&s, prev);
	while (!p->stop) {
		struct token *t = peek(p);
		struct span next;

		if (!at_pipe(t))
			break;
		advance(p);
		skip_newlines(p);
		next = parse_command(p);
		if (prev.last != BALE_CMD_NONE && next.first != BALE_CMD_NONE &&
		    next.first < p->s->ncmds) {
			p->s->cmds[prev.last].connector = BALE_CONN_PIPE;
			p->s->cmds[prev.last].pipe_next = next.first;
			p->s->cmds[next.first].pipe_prev = prev.last;
		} else if (prev.last != BALE_CMD_NONE) {
			set_connector(p, prev.last, BALE_CONN_PIPE);
		}
		merge(&s, next);
		prev = next;
	}
	return s;
}

static struct span parse_pipeline(struct parser *p)
{
	uint32_t saved = p->ctx;
	struct span s;

	/* A plain simple command first is read at once: no '!', nothing to enter. */
	if (starts_plain_simple(p, peek(p))) {
		s = parse_simple(p);
		return p->stop || !at_pipe(peek(p)) ? s : pipeline_rest(p, s);
	}
	/* Asked inline: pipelines seldom start with '!'. */
	if (tok_kw(p, peek(p)) == KW_BANG && accept_kw(p, KW_BANG))
		p->ctx |= BALE_CMD_NEGATED;
	s = pipeline_rest(p, parse_command(p));
	p->ctx = saved;
	return s;
}

/* The rest of an and-or list whose first pipeline, `s`, is read. */
static struct span and_or_rest(struct parser *p, struct span s)
{
	uint32_t saved = p->ctx;

	while (!p->stop) {
		struct token *t = peek(p);
		bale_cmd_connector conn;

		if (tok_is_op(t, OP_AND_IF))
			conn = BALE_CONN_AND;
		else if (tok_is_op(t, OP_OR_IF))
			conn = BALE_CONN_OR;
		else
			break;
		set_connector(p, s.last, conn);
		advance(p);
		skip_newlines(p);
		p->ctx |= CTX_RHS;
		merge(&s, parse_pipeline(p));
	}
	p->ctx = saved;
	return s;
}

static struct span parse_list(struct parser *p, unsigned stops)
{
	struct span s = no_span;

	while (!p->stop) {
		struct token *t = peek(p);
		size_t mark;
		struct span a;

		if (t->kind == TK_NEWLINE) {
			advance(p);
			continue;
		}
		if (t->kind == TK_EOF || is_stop(p, t, stops))
			break;
		if (t->kind == TK_OP && (t->op == OP_SEMI || t->op == OP_AMP)) {
			char buf[16];

			syntax_error(p, t->start, "unexpected %s",
				     tok_desc(p, t, buf, sizeof(buf)));
			advance(p);
			continue;
		}
		mark = p->s->ncmds;
		a = and_or_rest(p, parse_pipeline(p));
		merge(&s, a);
		t = peek(p);
		if (tok_is_op(t, OP_SEMI) || t->kind == TK_NEWLINE) {
			set_connector(p, a.last, BALE_CONN_SEQ);
			advance(p);
		} else if (tok_is_op(t, OP_AMP)) {
			set_connector(p, a.last, BALE_CONN_BACKGROUND);
			for (size_t i = mark; i < p->s->ncmds; i++)
				p->s->cmds[i].context |= BALE_CMD_IN_BACKGROUND;
			advance(p);
		} else if (t->kind != TK_EOF && !is_stop(p, t, stops) && !p->stop) {
			/* `{ a; } b`: a command right after a compound one */
			expect_error(p, "';' or a newline");
		}
	}
	return s;
}

/*
 * Parses `text` as a script of its own (a substitution's, sh -c's, a heredoc's): commands
 * found at its top level get `owner` as parent; its assignments do not leak out. With `flat`
 * (text whose lines are not the source's), everything in it is placed at line:col. text[len]
 * is a NUL, as the lexer needs: every text is a C string (a word's value, a heredoc body, a
 * copy made for it).
 */
static void parse_string(struct parser *p, const char *text, size_t len, struct place at,
			 size_t owner, uint32_t ctxbit)
{
	struct lexer sub, *saved = p->lx;
	uint32_t saved_ctx = p->ctx, saved_nest = p->nest;
	size_t saved_vars = p->nvars, saved_scope = p->vars_scope, mark = p->s->ncmds;

	if (!enter(p, saved ? saved->pos : 0))
		return;
	lexer_init(&sub, text, len);
	sub.base_line = sub.mark_line = at.line ? at.line : 1;
	sub.base_col = sub.mark_col = at.col ? at.col : 1;
	sub.flat = at.flat || p->flat || (saved && saved->flat);
	if (at.map && !sub.flat) {
		sub.map = at.map;
		sub.map_off = at.map_off;
	}
	p->lx = &sub;
	lexer_make_vals(p);
	p->vars_scope = p->nvars;
	p->ctx = (p->ctx | ctxbit) & ~(uint32_t)BALE_CMD_NEGATED;
	p->nest++;
	while (!p->stop) {
		parse_list(p, 0);
		if (p->stop || peek(p)->kind == TK_EOF)
			break;
	}
	p->lx = saved;
	p->ctx = saved_ctx;
	p->nest = saved_nest;
	p->nvars = saved_vars;
	p->vars_scope = saved_scope;
	leave(p);
	for (size_t i = mark; i < p->s->ncmds && owner != BALE_CMD_NONE; i++)
		if (p->s->cmds[i].parent == BALE_CMD_NONE)
			p->s->cmds[i].parent = owner;
}

/* --- entry points ------------------------------------------------------------------------- */

/* A script lives in its own arena, the first thing in it: one release frees everything. */
static int script_new(bale_cmd_script **out)
{
	bale_arena arena = BALE_ARENA_INIT;
	bale_cmd_script *s = bale_arena_alloc(&arena, sizeof(*s));

	if (!s) {
		bale_arena_release(&arena);
		return bale_error_oom();
	}
	memset(s, 0, sizeof(*s));
	s->arena = arena;
	*out = s;
	return 0;
}

/*
 * The parser's working arrays (the word and redirection stacks, the scratch text) are kept per
 * thread between parses, each up to WORKSPACE_KEEP bytes: lint parses a script per RUN,
 * thousands in a run, and allocating, growing and freeing them every time cost more than
 * lexing a short script.
 */
#define WORKSPACE_KEEP ((size_t)64 << 10)

struct workspace {
	bale_buf scratch, mask;
	struct wtmp *w;
	size_t aw;
	struct rtmp *r;
	size_t ar;
	const char **srcs;
	size_t asrcs;
	struct var *vars;
	size_t avars;
	bale_cmd *cmds; /* a block for a script's commands (then taken by the script) */
	size_t acmds;
};

/* This thread's workspace, once had: asked twice a parse, the key only the first time. */
static _Thread_local struct workspace *workspace_cached;

static void workspace_destroy(void *arg)
{
	struct workspace *ws = arg;

	workspace_cached = NULL; /* runs in the thread that ends */
	bale_buf_release(&ws->scratch);
	bale_buf_release(&ws->mask);
	free(ws->w);
	free(ws->r);
	free(ws->srcs);
	free(ws->vars);
	free(ws->cmds);
	free(ws);
}

static bale_thread_cache workspace_cache =
    BALE_THREAD_CACHE_INIT(struct workspace, workspace_destroy);

/* This thread's workspace, made on first use; NULL when none can be had (then none is kept). */
static struct workspace *thread_workspace(void)
{
	struct workspace *ws = workspace_cached;

	if (ws)
		return ws;
	ws = bale_thread_cache_get(&workspace_cache);
	if (ws && !ws->scratch.ptr) {
		bale_buf_init(&ws->scratch, SCRATCH_MAX);
		bale_buf_init(&ws->mask, SCRATCH_MAX);
	}
	workspace_cached = ws;
	return ws;
}

/* Moves the kept arrays into a parser that has none yet. */
static void workspace_take(struct parser *p)
{
	struct workspace *ws = thread_workspace();

	if (!ws)
		return;
	p->scratch = ws->scratch;
	p->mask = ws->mask;
	p->w = ws->w, p->aw = ws->aw;
	p->r = ws->r, p->ar = ws->ar;
	p->srcs = ws->srcs, p->asrcs = ws->asrcs;
	p->vars = ws->vars, p->avars = ws->avars;
	p->heap_cmds = ws->cmds, p->heap_alloc = ws->acmds;
	*ws = (struct workspace){0};
	bale_buf_init(&ws->scratch, SCRATCH_MAX);
	bale_buf_init(&ws->mask, SCRATCH_MAX);
}

/* Keeps the parser's array `arr` (of `alloc` elements) in the workspace when small, or frees it. */
#define KEEP_ARRAY(ws, p, arr, alloc)                                                              \
	do {                                                                                       \
		if ((p)->arr && (p)->alloc * sizeof(*(p)->arr) <= WORKSPACE_KEEP && !(ws)->arr) {  \
			(ws)->arr = (p)->arr;                                                      \
			(ws)->alloc = (p)->alloc;                                                  \
		} else {                                                                           \
			free((void *)(p)->arr);                                                    \
		}                                                                                  \
		(p)->arr = NULL;                                                                   \
	} while (0)

static void keep_buf(bale_buf *kept, bale_buf *buf)
{
	if (!buf->err && buf->alloc <= WORKSPACE_KEEP && !kept->alloc) {
		bale_buf_reset(buf);
		*kept = *buf;
		bale_buf_init(buf, SCRATCH_MAX);
	} else {
		bale_buf_release(buf);
	}
}

/* Gives the parser's arrays back to the thread's workspace (or frees them). */
static void workspace_give(struct parser *p)
{
	struct workspace *ws = thread_workspace();

	if (!ws) {
		bale_buf_release(&p->scratch);
		bale_buf_release(&p->mask);
		free(p->w);
		free(p->r);
		free(p->srcs);
		free(p->vars);
		free(p->heap_cmds);
		p->heap_cmds = NULL;
		return;
	}
	keep_buf(&ws->scratch, &p->scratch);
	keep_buf(&ws->mask, &p->mask);
	KEEP_ARRAY(ws, p, w, aw);
	KEEP_ARRAY(ws, p, r, ar);
	KEEP_ARRAY(ws, p, srcs, asrcs);
	KEEP_ARRAY(ws, p, vars, avars);
	if (p->heap_cmds && p->heap_alloc * sizeof(*p->heap_cmds) <= WORKSPACE_KEEP && !ws->cmds) {
		ws->cmds = p->heap_cmds;
		ws->acmds = p->heap_alloc;
	} else {
		free(p->heap_cmds);
	}
	p->heap_cmds = NULL;
}

static void parser_init(struct parser *p, bale_cmd_script *s, const bale_cmd_opts *opts)
{
	memset(p, 0, sizeof(*p));
	p->s = s;
	p->arena = &s->arena;
	p->opts = opts;
	bale_buf_init(&p->scratch, SCRATCH_MAX);
	bale_buf_init(&p->mask, SCRATCH_MAX);
	workspace_take(p);
	p->max_depth = opts && opts->max_depth ? opts->max_depth : BALE_CMD_DEFAULT_MAX_DEPTH;
	p->budget = EXPANSION_BUDGET;
	p->copy_budget = p->copy_limit = COPY_BASE;
}

/* Words may repeat their text (nesting) up to a few times the input's size. */
static void parser_set_input_size(struct parser *p, size_t len)
{
	size_t limit = COPY_BASE + (len > SIZE_MAX / 16 ? SIZE_MAX / 2 : len * COPY_FACTOR);

	p->copy_budget = p->copy_limit = limit;
}

static int parser_finish(struct parser *p, bale_cmd_script **out)
{
	bale_cmd_script *s = p->s;
	bale_cmd *cmds = NULL;
	size_t alloc = 0;
	int err = p->err;

	/* Commands in the heap block stay there: the script takes the block. */
	if (!err && s->ncmds > 0 && p->cmds_in_arena) {
		cmds = s->cmds;
	} else if (!err && s->ncmds > 0) {
		cmds = s->heap_cmds = p->heap_cmds;
		alloc = p->heap_alloc;
		p->heap_cmds = NULL;
		p->heap_alloc = 0;
	}
	workspace_give(p);
	s->cmds = cmds;
	s->alloc = alloc;
	if (err) {
		bale_cmd_script_free(p->s);
		return bale_error_oom();
	}
	*out = p->s;
	return 0;
}

/* Parses the whole of lexer `lx`. */
static void parse_top(struct parser *p, struct lexer *lx)
{
	p->lx = lx;
	lexer_make_vals(p);
	while (!p->stop) {
		parse_list(p, 0);
		if (p->stop || peek(p)->kind == TK_EOF)
			break;
	}
	if (!p->stop && lx->npending)
		read_heredocs(p);
}

int bale_cmd_parse(bale_cmd_script **out, const char *script, size_t len, const bale_cmd_opts *opts)
{
	struct parser p;
	struct lexer lx;
	bale_cmd_script *s = NULL;
	char *copy, *nul;
	int rc;

	if (!out || (!script && len))
		return bale_error_set(BALE_EINVAL, "bale_cmd_parse: no script");
	*out = NULL;
	if ((rc = script_new(&s)) != 0)
		return rc;
	parser_init(&p, s, opts);
	parser_set_input_size(&p, len);
	/* The caller's text need not end with a NUL, as the lexer's must: it reads a copy. */
	copy = bale_arena_strndup(&s->arena, script, len);
	if (!copy) {
		p.err = BALE_ENOMEM;
		return parser_finish(&p, out);
	}
	/*
	 * A script is text. A NUL byte is the script's error, and what comes after it is not
	 * read, so that no word holds one: readers of a word may go by its length or to its NUL.
	 */
	nul = len ? memchr(copy, '\0', len) : NULL;
	lexer_init(&lx, copy, nul ? (size_t)(nul - copy) : len);
	lx.base_line = lx.mark_line = opts && opts->line ? opts->line : 1;
	lx.base_col = lx.mark_col = opts && opts->col ? opts->col : 1;
	p.lx = &lx;
	if (nul)
		syntax_error(&p, (size_t)(nul - copy), "a NUL byte in the script");
	parse_top(&p, &lx);
	return parser_finish(&p, out);
}

/*
 * BuildKit's test for a RUN that is only a heredoc ("<<EOF", "<<-EOF", "3<<'EOF'"): then the
 * body is the script. The delimiter part must be one word.
 */
static bool heredoc_only(const char *s, size_t len)
{
	size_t i = 0;
	char quote = 0;
	bool word = false;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i + 2 > len || s[i] != '<' || s[i + 1] != '<')
		return false;
	i += 2;
	if (i < len && s[i] == '-')
		i++;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < len; i++) {
		char c = s[i];

		if (c == '<')
			return false;
		if (quote) {
			if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == ' ' || c == '\t' || c == '\n') {
			break;
		} else if (c == '\\' && i + 1 < len) {
			i++;
		}
		word = true;
	}
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
		i++;
	return word && i == len && !quote;
}

/* True when a shebang line names a POSIX-like shell (directly or through env). */
static bool shebang_is_shell(const char *body, size_t len)
{
	const char *nl = memchr(body, '\n', len);
	size_t n = nl ? (size_t)(nl - body) : len, i = 2, start, end;
	char name[32];

	for (int word = 0; word < 3; word++) {
		while (i < n && (body[i] == ' ' || body[i] == '\t'))
			i++;
		start = i;
		while (i < n && body[i] != ' ' && body[i] != '\t' && body[i] != '\r')
			i++;
		end = i;
		if (start == end)
			return false;
		for (size_t k = end; k > start; k--)
			if (body[k - 1] == '/') {
				start = k;
				break;
			}
		if (end - start >= sizeof(name))
			return false;
		memcpy(name, body + start, end - start);
		name[end - start] = '\0';
		if (strcmp(name, "env") == 0)
			continue;
		if (name[0] == '-') /* env -S */
			continue;
		return cmd_is_shell_name(name);
	}
	return false;
}

/*
 * Rebuilds an instruction's logical line from the Dockerfile source as BuildKit's parser does
 * (continuations joined, comment and blank lines inside them dropped), with the position of
 * every piece. Reads no further than `end` (the instruction's end). Returns the text in the
 * arena, or NULL when out of memory.
 */
static char *logical_line(bale_arena *arena, const char *src, size_t end, size_t start,
			  uint32_t first_line, int escape, seg **segs_out, size_t *nsegs,
			  size_t *len_out)
{
	size_t pos = start, n = 0, out = 0, lines = 1;
	seg *segs;
	char *text;
	uint32_t line = first_line;
	bool first = true, cont = true;

	for (const char *q = src + start; (q = memchr(q, '\n', (size_t)(src + end - q))) != NULL;
	     q++)
		lines++;
	text = bale_arena_alloc(arena, end - start + 1);
	segs = bale_arena_alloc(arena, lines * sizeof(*segs));
	if (!text || !segs)
		return NULL;
	while (cont && pos < end) {
		const char *nl = memchr(src + pos, '\n', end - pos);
		size_t ls = pos, le = nl ? (size_t)(nl - src) : end, e, skip;

		pos = nl ? le + 1 : le;
		e = le;
		while (e > ls && (src[e - 1] == '\r' || src[e - 1] == '\n'))
			e--;
		if (!first) {
			skip = bale_unicode_space_prefix(src + ls, e - ls);
			if (skip == e - ls || src[ls + skip] == '#') {
				line++;
				continue;
			}
		} else if (ls == 0 && e - ls >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0) {
			ls += 3;
		}
		{
			size_t t = e;

			while (t > ls && (src[t - 1] == ' ' || src[t - 1] == '\t'))
				t--;
			cont =
			    t > ls && src[t - 1] == escape && !(t - 1 > ls && src[t - 2] == escape);
			if (cont)
				e = t - 1;
		}
		/* Every piece starts a physical line (after a BOM, as the parser counts). */
		segs[n].off = out;
		segs[n].line = line;
		segs[n].col = 1;
		n++;
		memcpy(text + out, src + ls, e - ls);
		out += e - ls;
		first = false;
		line++;
	}
	text[out] = '\0';
	*segs_out = segs;
	*nsegs = n;
	*len_out = out;
	return text;
}

/* Trims Go white space at both ends, as BuildKit's strings.TrimSpace does. */
static void trim_space(const char **s, size_t *len)
{
	size_t lead = bale_unicode_space_prefix(*s, *len);

	*s += lead;
	*len = bale_unicode_trim_right(*s, *len - lead);
}

/* The exec form: the JSON words are the command, as written. */
static void parse_exec_form(struct parser *p, struct lexer *lx, const bale_instruction *ins)
{
	size_t base_w = p->nw, sbase = p->scratch.len;

	p->lx = lx;
	p->flat = true;
	for (size_t i = 0; i < ins->nargs && !p->stop; i++) {
		struct wtmp e = {0};
		size_t len = ins->arg_lens ? ins->arg_lens[i] : strlen(ins->args[i]);

		e.voff = p->scratch.len;
		add(p, ins->args[i], len);
		e.vlen = len;
		e.raw = ins->args[i];
		e.raw_len = len;
		e.line = e.end_line = ins->start_line;
		e.col = e.end_col = ins->start_col;
		e.role = R_WORD;
		push_word(p, &e);
	}
	if (!p->stop && p->nw > base_w)
		finish_simple(p, base_w, sbase, p->nr, 0, 0, ins->start_line, ins->start_col);
}

int bale_cmd_parse_instruction(bale_cmd_script **out, const bale_instruction *instr,
			       const char *source, size_t source_len, int escape,
			       const bale_cmd_opts *opts)
{
	const bale_instruction *ins = instr;
	struct parser p;
	struct lexer lx;
	bale_cmd_script *s = NULL;
	const char *script;
	size_t len;
	int rc;

	if (!out || !instr)
		return bale_error_set(BALE_EINVAL, "bale_cmd_parse_instruction: no instruction");
	*out = NULL;
	if (ins->kind == BALE_INSTR_ONBUILD && ins->sub)
		ins = ins->sub;
	if (ins->kind != BALE_INSTR_RUN && ins->kind != BALE_INSTR_CMD &&
	    ins->kind != BALE_INSTR_ENTRYPOINT)
		return bale_error_set(BALE_EINVAL, "%s runs no command",
				      bale_instr_kind_name(ins->kind));
	if ((rc = script_new(&s)) != 0)
		return rc;
	parser_init(&p, s, opts);
	{
		size_t total = 0;

		for (size_t i = 0; i < ins->nargs; i++)
			total += ins->arg_lens ? ins->arg_lens[i] : strlen(ins->args[i]);
		for (size_t i = 0; i < ins->nheredocs; i++)
			total += ins->heredocs[i].content ? strlen(ins->heredocs[i].content) : 0;
		parser_set_input_size(&p, total);
	}
	lexer_init(&lx, "", 0);
	lx.base_line = lx.mark_line = instr->start_line ? instr->start_line : 1;
	lx.base_col = lx.mark_col = instr->start_col ? instr->start_col : 1;
	if (ins->json) {
		parse_exec_form(&p, &lx, ins);
		return parser_finish(&p, out);
	}
	if (ins->nargs == 0)
		return parser_finish(&p, out);
	script = ins->args[0];
	len = ins->arg_lens ? ins->arg_lens[0] : strlen(script);
	if (ins->nheredocs > 0 && heredoc_only(script, len)) {
		const bale_heredoc *h = &ins->heredocs[0];
		const char *body = h->content ? h->content : "";
		size_t blen = strlen(body);

		if (blen >= 2 && body[0] == '#' && body[1] == '!' &&
		    !shebang_is_shell(body, blen)) {
			s->not_shell = true;
			return parser_finish(&p, out);
		}
		lx.s = body; /* body[blen] is its NUL, as the lexer needs */
		lx.len = blen;
		lx.base_line = lx.mark_line = h->start_line;
		lx.base_col = lx.mark_col = 1;
		p.ctx = BALE_CMD_IN_HEREDOC;
		parse_top(&p, &lx);
		return parser_finish(&p, out);
	}
	lx.s = script;
	lx.len = len;
	lx.ext = ins->heredocs;
	lx.next = ins->nheredocs;
	if (source && escape && instr->start_offset < source_len) {
		const seg *segs = NULL;
		size_t nsegs = 0, llen = 0, tlen;
		const char *line, *t;

		if (instr->npieces > 0 && instr->original) {
			/* The parser joined the lines already and said where each one starts. */
			line = instr->original;
			llen = strlen(line);
			segs = instr->pieces;
			nsegs = instr->npieces;
		} else {
			size_t end = instr->end_offset > instr->start_offset &&
					     instr->end_offset <= source_len
					 ? instr->end_offset
					 : source_len;
			seg *built = NULL;

			line = logical_line(&s->arena, source, end, instr->start_offset,
					    instr->start_line, escape, &built, &nsegs, &llen);
			if (!line) {
				p.err = BALE_ENOMEM;
				return parser_finish(&p, out);
			}
			segs = built;
		}
		t = line;
		tlen = llen;
		trim_space(&t, &tlen);
		/*
		 * The arguments are the trimmed end of the logical line: lex the line from there,
		 * so the segments map offsets to Dockerfile positions as they are.
		 */
		if (tlen >= len && memcmp(t + tlen - len, script, len) == 0 && nsegs > 0) {
			lx.s = line;
			lx.pos = (size_t)(t + tlen - len - line);
			lx.len = lx.pos + len;
			lx.segs = segs;
			lx.nsegs = nsegs;
		}
	}
	/*
	 * The lexer's text must end with a NUL. The arguments are C strings; a window over the
	 * logical line ends at its NUL unless white space was trimmed after it: then a copy.
	 */
	if (lx.s[lx.len] != '\0') {
		char *copy = bale_arena_strndup(&s->arena, lx.s, lx.len);

		if (!copy) {
			p.err = BALE_ENOMEM;
			return parser_finish(&p, out);
		}
		lx.s = copy;
	}
	parse_top(&p, &lx);
	return parser_finish(&p, out);
}

void bale_cmd_script_free(bale_cmd_script *script)
{
	bale_arena arena;

	if (!script)
		return;
	free(script->heap_cmds);
	arena = script->arena; /* the script itself is in it */
	bale_arena_release(&arena);
}

const bale_cmd *bale_cmd_script_commands(const bale_cmd_script *script, size_t *count)
{
	if (!script) {
		if (count)
			*count = 0;
		return NULL;
	}
	if (count)
		*count = script->ncmds;
	return script->cmds;
}

const char *bale_cmd_script_error(const bale_cmd_script *script, uint32_t *line, uint32_t *col)
{
	if (!script || !script->error)
		return NULL;
	if (line)
		*line = script->error_line;
	if (col)
		*col = script->error_col;
	return script->error;
}

size_t bale_cmd_script_memory(const bale_cmd_script *script)
{
	if (!script)
		return 0;
	return script->arena.total + script->alloc * sizeof(*script->cmds); /* script in arena */
}

bool bale_cmd_script_not_shell(const bale_cmd_script *script)
{
	return script && script->not_shell;
}
