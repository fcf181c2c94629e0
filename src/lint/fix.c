/*
 * `bale lint --fix`: mechanical rewrites for the rules whose fix is unambiguous. The file is
 * linted; each finding of a rule with a fixer becomes byte edits on the source (keeping
 * comments and untouched lines as they are); edits that overlap an earlier one wait for the
 * next round, and rounds repeat (a fix can enable another) until nothing changes.
 *
 *   DL4000 MAINTAINER x              -> LABEL org.opencontainers.image.authors="x"
 *   LegacyKeyValueFormat ENV k v     -> ENV k=v (quoted when the value has blanks)
 *   ConsistentInstructionCasing      -> the keyword in the file's majority casing
 *   DL3025/JSONArgsRecommended       -> CMD ["a", "b"] when the shell form is plain words
 *   DL3015                           -> apt-get install --no-install-recommends
 *   DL3009                           -> "&& rm -rf /var/lib/apt/lists/\*" ending the RUN
 *   DL3042                           -> pip install --no-cache-dir
 *   DL3019                           -> apk add --no-cache
 *   DL3059                           -> consecutive plain RUNs joined with &&
 */
#include "lint/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define FIX_ROUNDS 4

struct edit {
	size_t off, len; /* the bytes replaced */
	char *text;	 /* malloc'd */
};

struct fixer_ctx {
	const char *src;
	size_t len;
	const bale_dockerfile *df;
	const bale_instruction *instrs;
	size_t ninstrs;
	size_t *line_starts; /* offset of each line (1-based index) */
	size_t nlines;
	struct edit *edits;
	size_t nedits, alloc;
	int err;
};

static int add_edit(struct fixer_ctx *fc, size_t off, size_t len, const char *text)
{
	char *t = strdup(text);

	if (!t || BALE_ARRAY_RESERVE(fc->edits, fc->alloc, fc->nedits + 1)) {
		free(t);
		return fc->err = bale_error_oom();
	}
	fc->edits[fc->nedits].off = off;
	fc->edits[fc->nedits].len = len;
	fc->edits[fc->nedits].text = t;
	fc->nedits++;
	return 0;
}

static size_t offset_of(const struct fixer_ctx *fc, uint32_t line, uint32_t col)
{
	if (line == 0 || line > fc->nlines)
		return fc->len;
	return fc->line_starts[line] + (col ? col - 1 : 0);
}

/*
 * The end of the instruction's own text (its logical line, before heredoc bodies), blanks
 * and line end excluded; SIZE_MAX when it cannot be found plainly.
 */
static size_t logical_end(const struct fixer_ctx *fc, const bale_instruction *ins)
{
	size_t pos = ins->start_offset, end = ins->end_offset, last = SIZE_MAX;
	int esc = bale_dockerfile_escape(fc->df);

	while (pos < end) {
		const char *line = fc->src + pos, *nl = memchr(line, '\n', end - pos);
		size_t l = nl ? (size_t)(nl - line) : end - pos, e = l, k = 0;

		while (e > 0 && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r'))
			e--;
		while (k < e && (line[k] == ' ' || line[k] == '\t'))
			k++;
		pos += l + (nl != NULL);
		if (last != SIZE_MAX && (k == e || line[k] == '#'))
			continue; /* comment or empty line inside the continuation */
		last = (size_t)(line - fc->src) + e;
		if (!(e > 0 && line[e - 1] == esc && !(e > 1 && line[e - 2] == esc)))
			return last;
	}
	return SIZE_MAX;
}

static bool single_line(const bale_instruction *ins)
{
	return ins->start_line == ins->end_line && !ins->sub;
}

/* The offset just after the keyword (on the instruction's first line). */
static size_t after_keyword(const struct fixer_ctx *fc, const bale_instruction *ins)
{
	return offset_of(fc, ins->start_line, ins->start_col) + strlen(ins->keyword);
}

static void quote_into(bale_buf *out, const char *s, bool escape_dollar)
{
	bale_buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || (escape_dollar && *s == '$'))
			bale_buf_addch(out, '\\');
		bale_buf_addch(out, *s);
	}
	bale_buf_addch(out, '"');
}

/* --- the fixers ------------------------------------------------------------------------ */

static void fix_maintainer(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *ins = &fc->instrs[i];
	size_t start = offset_of(fc, ins->start_line, ins->start_col), end = logical_end(fc, ins);
	bale_buf text = BALE_BUF_INIT;

	if (ins->kind != BALE_INSTR_MAINTAINER || !ins->nargs || !single_line(ins) ||
	    end == SIZE_MAX)
		return;
	bale_buf_adds(&text, "LABEL org.opencontainers.image.authors=");
	quote_into(&text, ins->args[0], true); /* MAINTAINER is not expanded; LABEL is */
	if (!text.err)
		add_edit(fc, start, end - start, text.ptr);
	bale_buf_release(&text);
}

static void fix_legacy_key_value(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *ins = &fc->instrs[i];
	size_t start = offset_of(fc, ins->start_line, ins->start_col), end = logical_end(fc, ins);
	const char *value;
	bale_buf text = BALE_BUF_INIT;

	if ((ins->kind != BALE_INSTR_ENV && ins->kind != BALE_INSTR_LABEL) || ins->nargs != 3 ||
	    ins->args[2][0] != '\0' || !single_line(ins) || end == SIZE_MAX)
		return;
	value = ins->args[1];
	bale_buf_addf(&text, "%s %s=", ins->keyword, ins->args[0]);
	if (!strpbrk(value, " \t")) {
		bale_buf_adds(&text, value);
	} else if (!strpbrk(value, "\"'\\")) {
		bale_buf_addf(&text, "\"%s\"", value);
	} else {
		bale_buf_release(&text);
		return; /* quotes and blanks together: not mechanical */
	}
	if (!text.err)
		add_edit(fc, start, end - start, text.ptr);
	bale_buf_release(&text);
}

static void fix_casing(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *ins = &fc->instrs[i];
	size_t upper = 0, lower = 0, start;
	char word[32];
	size_t n = strlen(ins->keyword);

	if (ins->kind == BALE_INSTR_UNKNOWN || n >= sizeof(word))
		return;
	for (size_t k = 0; k < fc->ninstrs; k++) {
		const char *kw = fc->instrs[k].keyword;
		bool all_up = true, all_low = true;

		for (const char *c = kw; *c; c++) {
			all_up &= !(*c >= 'a' && *c <= 'z');
			all_low &= !(*c >= 'A' && *c <= 'Z');
		}
		upper += all_up;
		lower += all_low;
	}
	for (size_t k = 0; k <= n; k++) {
		char c = ins->keyword[k];

		if (lower > upper)
			word[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		else
			word[k] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	if (strcmp(word, ins->keyword) == 0)
		return;
	start = offset_of(fc, ins->start_line, ins->start_col);
	add_edit(fc, start, n, word);
}

static bool plain_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_./:=,@%+-", c) != NULL;
}

/* NAME=value before the program sets a variable for it; in exec form it would be run as the
 * program itself. */
static bool starts_with_assignment(const char *s)
{
	s += strspn(s, " ");
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	return *s == '=';
}

static void fix_exec_form(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *ins = &fc->instrs[i];
	size_t start, end = logical_end(fc, ins);
	bale_buf text = BALE_BUF_INIT;
	const char *s;
	bool in_word = false;

	if ((ins->kind != BALE_INSTR_CMD && ins->kind != BALE_INSTR_ENTRYPOINT) || ins->json ||
	    ins->nargs != 1 || ins->nflags || !single_line(ins) || end == SIZE_MAX)
		return;
	if (starts_with_assignment(ins->args[0]))
		return;
	for (s = ins->args[0]; *s; s++)
		if (!plain_word_char(*s) && *s != ' ')
			return; /* shell syntax: exec form would change what runs */
	bale_buf_adds(&text, " [");
	for (s = ins->args[0]; *s; s++) {
		if (*s == ' ') {
			if (in_word)
				bale_buf_addch(&text, '"');
			in_word = false;
			continue;
		}
		if (!in_word)
			bale_buf_adds(&text, text.len > 2 ? ", \"" : "\"");
		in_word = true;
		bale_buf_addch(&text, *s);
	}
	if (in_word)
		bale_buf_addch(&text, '"');
	bale_buf_addch(&text, ']');
	start = after_keyword(fc, ins);
	if (!text.err)
		add_edit(fc, start, end - start, text.ptr);
	bale_buf_release(&text);
}

/* Calls fn for every command of RUN `i` running one of the tools. */
static void each_cmd(struct fixer_ctx *fc, size_t i, const char *const *tools,
		     void (*fn)(struct fixer_ctx *, const bale_cmd *, const void *),
		     const void *arg)
{
	const bale_instruction *ins = &fc->instrs[i];
	bale_cmd_script *script = NULL;
	const bale_cmd *cmds;
	size_t n;

	if (ins->kind != BALE_INSTR_RUN || ins->json)
		return;
	if (bale_cmd_parse_instruction(&script, ins, fc->src, fc->len,
				       bale_dockerfile_escape(fc->df), NULL) != 0) {
		fc->err = bale_error_last()->code;
		return;
	}
	cmds = bale_cmd_script_commands(script, &n);
	for (size_t c = 0; c < n; c++)
		for (const char *const *t = tools; *t; t++)
			if (bale_cmd_is(&cmds[c], *t) && !(cmds[c].context & BALE_CMD_IN_STRING) &&
			    !(cmds[c].context & BALE_CMD_IN_HEREDOC))
				fn(fc, &cmds[c], arg);
	bale_cmd_script_free(script);
}

struct flag_fix {
	const char *subcommand;
	const char *flag;	  /* inserted after the subcommand word */
	const char *const *names; /* options that already do it */
};

static void insert_flag(struct fixer_ctx *fc, const bale_cmd *cmd, const void *arg)
{
	const struct flag_fix *ff = arg;
	const bale_cmd_word *w;
	bool has = false;
	bale_buf text = BALE_BUF_INIT;

	if (!cmd->subcommand || strcmp(cmd->subcommand, ff->subcommand) != 0 ||
	    cmd->subcommand_word == BALE_CMD_NONE)
		return;
	for (const char *const *n = ff->names; *n; n++)
		for (size_t o = 0; o < cmd->nopts; o++)
			has |= strcmp(cmd->opts[o].name, *n) == 0;
	if (has)
		return;
	w = &cmd->words[cmd->subcommand_word];
	bale_buf_addf(&text, " %s", ff->flag);
	/* Just after the word, in the file (the word's end position, not its raw length,
	 * which continuations may have shortened). */
	add_edit(fc, offset_of(fc, w->end_line, w->end_col), 0, text.ptr);
	bale_buf_release(&text);
}

static void fix_no_install_recommends(struct fixer_ctx *fc, size_t i)
{
	static const char *const tools[] = {"apt-get", NULL};
	static const char *const names[] = {"--no-install-recommends", NULL};
	static const struct flag_fix ff = {"install", "--no-install-recommends", names};

	each_cmd(fc, i, tools, insert_flag, &ff);
}

static void fix_pip_no_cache(struct fixer_ctx *fc, size_t i)
{
	static const char *const tools[] = {"pip", NULL};
	static const char *const names[] = {"--no-cache-dir", NULL};
	static const struct flag_fix ff = {"install", "--no-cache-dir", names};

	each_cmd(fc, i, tools, insert_flag, &ff);
}

static void fix_apk_no_cache(struct fixer_ctx *fc, size_t i)
{
	static const char *const tools[] = {"apk", NULL};
	static const char *const names[] = {"--no-cache", NULL};
	static const struct flag_fix ff = {"add", "--no-cache", names};

	each_cmd(fc, i, tools, insert_flag, &ff);
}

/* True when the RUN text ends where "&& more" can follow: not after ; & or a heredoc. */
static bool can_append(const struct fixer_ctx *fc, const bale_instruction *ins, size_t end)
{
	char last;

	if (end == SIZE_MAX || end <= ins->start_offset) /* no plain end: leave it alone */
		return false;
	last = fc->src[end - 1];
	return ins->kind == BALE_INSTR_RUN && !ins->json && !ins->nheredocs && last != ';' &&
	       last != '&' && last != '|' && last != '\\' && last != '`';
}

static void fix_apt_lists(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *ins = &fc->instrs[i];
	size_t end = logical_end(fc, ins);

	if (!can_append(fc, ins, end))
		return;
	add_edit(fc, end, 0,
		 bale_dockerfile_escape(fc->df) == '`' ? " `\n    && rm -rf /var/lib/apt/lists/*"
						       : " \\\n    && rm -rf /var/lib/apt/lists/*");
}

static bool plain_run(const bale_instruction *ins)
{
	return ins->kind == BALE_INSTR_RUN && !ins->json && !ins->nflags && !ins->nheredocs;
}

/* Windows PowerShell (5.1) has no && between commands: RUNs under it are not joined. */
static bool stage_shell_is_powershell(const struct fixer_ctx *fc, size_t i)
{
	while (i-- > 0 && fc->instrs[i].kind != BALE_INSTR_FROM)
		if (fc->instrs[i].kind == BALE_INSTR_SHELL)
			return fc->instrs[i].nargs > 0 && fc->instrs[i].json &&
			       strstr(fc->instrs[i].args[0], "powershell") != NULL;
	return false;
}

static void fix_merge_runs(struct fixer_ctx *fc, size_t i)
{
	const bale_instruction *prev, *ins = &fc->instrs[i];
	size_t end, args;

	if (i == 0 || stage_shell_is_powershell(fc, i))
		return;
	prev = &fc->instrs[i - 1];
	if (!plain_run(prev) || !plain_run(ins) || ins->ncomments ||
	    prev->end_offset != ins->start_offset)
		return;
	end = logical_end(fc, prev);
	if (!can_append(fc, prev, end))
		return;
	/* From the end of the first RUN's text to the start of the second's arguments. */
	args = after_keyword(fc, ins);
	while (args < fc->len && (fc->src[args] == ' ' || fc->src[args] == '\t'))
		args++;
	/* the line continues with the file's escape character: '\\' or, after # escape=`, '`' */
	add_edit(fc, end, args - end,
		 bale_dockerfile_escape(fc->df) == '`' ? " `\n    && " : " \\\n    && ");
}

static const struct {
	const char *const codes[3]; /* a finding of a rule matching any of these */
	void (*fix)(struct fixer_ctx *, size_t);
} fixers[] = {
    {{"DL4000", "MaintainerDeprecated", NULL}, fix_maintainer},
    {{"LegacyKeyValueFormat", NULL, NULL}, fix_legacy_key_value},
    {{"ConsistentInstructionCasing", NULL, NULL}, fix_casing},
    {{"DL3025", "JSONArgsRecommended", NULL}, fix_exec_form},
    {{"DL3015", NULL, NULL}, fix_no_install_recommends},
    {{"DL3009", NULL, NULL}, fix_apt_lists},
    {{"DL3042", NULL, NULL}, fix_pip_no_cache},
    {{"DL3019", NULL, NULL}, fix_apk_no_cache},
    {{"DL3059", NULL, NULL}, fix_merge_runs},
};

/* The instruction a finding points at: the one whose lines hold its line. */
static size_t instruction_at(const struct fixer_ctx *fc, uint32_t line)
{
	for (size_t i = 0; i < fc->ninstrs; i++)
		if (fc->instrs[i].start_line <= line && line <= fc->instrs[i].end_line)
			return i;
	return SIZE_MAX;
}

static int by_offset(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* One round: lint, collect edits, apply those that do not overlap. */
static int fix_round(bale_buf *out, size_t *applied, const char *text, size_t len,
		     const char *filename, const bale_lint_config *cfg, const bale_lint_opts *opts)
{
	bale_lint_config quiet = *cfg;
	struct fixer_ctx fc = {.src = text, .len = len};
	bale_findings *findings = NULL;
	bale_dockerfile *df = NULL;
	bale_parse_opts popts = {.filename = filename};
	size_t pos = 0;
	int rc;

	*applied = 0;
	quiet.shellcheck = 0;
	if ((rc = bale_findings_new(&findings)) != 0 ||
	    (rc = bale_lint(findings, text, len, filename, &quiet, opts)) != 0 ||
	    (rc = bale_dockerfile_parse(&df, text, len, &popts)) != 0)
		goto out;
	fc.df = df;
	fc.instrs = bale_dockerfile_instructions(df, &fc.ninstrs);
	fc.line_starts = malloc(sizeof(size_t) * (len + 2));
	if (!fc.line_starts) {
		rc = bale_error_oom();
		goto out;
	}
	fc.line_starts[1] = 0;
	fc.nlines = 1;
	for (size_t k = 0; k < len; k++)
		if (text[k] == '\n')
			fc.line_starts[++fc.nlines] = k + 1;
	for (size_t f = 0; f < bale_findings_count(findings) && !fc.err; f++) {
		const bale_finding *fd = bale_findings_get(findings, f);
		size_t instr = instruction_at(&fc, fd->loc.line);

		if (instr == SIZE_MAX || fd->severity == BALE_SEV_NONE)
			continue;
		for (size_t x = 0; x < BALE_ARRAY_SIZE(fixers); x++) {
			bool match = false;

			for (size_t c = 0; c < 3 && fixers[x].codes[c]; c++)
				match |= bale_rule_matches(fd->rule, fixers[x].codes[c]);
			if (match)
				fixers[x].fix(&fc, instr);
		}
	}
	if ((rc = fc.err) != 0)
		goto out;
	if (fc.nedits > 1)
		qsort(fc.edits, fc.nedits, sizeof(*fc.edits), by_offset);
	for (size_t e = 0; e < fc.nedits; e++) {
		const struct edit *ed = &fc.edits[e];

		if (ed->off < pos || ed->off + ed->len > len)
			continue; /* overlaps an applied edit: next round */
		if (e > 0 && ed->off == fc.edits[e - 1].off && ed->len == fc.edits[e - 1].len &&
		    strcmp(ed->text, fc.edits[e - 1].text) == 0)
			continue; /* two findings, one fix */
		bale_buf_add(out, text + pos, ed->off - pos);
		bale_buf_adds(out, ed->text);
		pos = ed->off + ed->len;
		(*applied)++;
	}
	bale_buf_add(out, text + pos, len - pos);
	rc = out->err;
out:
	for (size_t e = 0; e < fc.nedits; e++)
		free(fc.edits[e].text);
	free(fc.edits);
	free(fc.line_starts);
	bale_dockerfile_free(df);
	bale_findings_free(findings);
	return rc;
}

int bale_lint_fix(bale_buf *out, size_t *nfixed, const char *data, size_t len, const char *filename,
		  const bale_lint_config *cfg, const bale_lint_opts *opts)
{
	bale_buf cur = BALE_BUF_INIT, next = BALE_BUF_INIT;
	int rc = 0;

	*nfixed = 0;
	if (bale_buf_add(&cur, data, len))
		return cur.err;
	for (int r = 0; r < FIX_ROUNDS; r++) {
		size_t applied;

		bale_buf_reset(&next);
		if ((rc = fix_round(&next, &applied, cur.ptr, cur.len, filename, cfg, opts)) != 0)
			goto out;
		if (applied == 0)
			break;
		*nfixed += applied;
		{
			bale_buf t = cur;

			cur = next;
			next = t;
		}
	}
	rc = bale_buf_add(out, cur.ptr, cur.len);
out:
	bale_buf_release(&cur);
	bale_buf_release(&next);
	return rc;
}
