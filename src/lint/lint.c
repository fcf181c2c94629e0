/*
 * The lint driver: parse, build the stage model, read the pragmas, run every rule the
 * configuration keeps, and report through lint_report(). Rules never see the configuration's
 * ignores: a silenced rule is not even run, and lint_report() drops what a pragma silences.
 */
#include "lint/internal.h"
#include "report/findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The conversions rule messages use, which lint_report() formats itself. */
enum lint_conv {
	CONV_END,    /* the format's last literal run */
	CONV_S,	     /* %s */
	CONV_PREC_S, /* %.*s */
	CONV_C,	     /* %c */
	CONV_D,	     /* %d */
	CONV_U,	     /* %u */
	CONV_ZU,     /* %zu */
	CONV_LLD,    /* %lld */
	CONV_LLU,    /* %llu */
	CONV_PERCENT /* %% */
};

#define LINT_FMT_RUNS 12

/*
 * A message format, scanned once: lit_len[k] bytes of literal at fmt + lit_at[k], then the
 * conversion conv[k] (CONV_END after the last run). A short run is copied as one block of 16
 * bytes when lit_block[k] says the format (a string literal, readable up to its NUL) holds 16
 * bytes from the run's start.
 */
struct lint_fmt {
	const char *fmt; /* NULL: an empty slot */
	uint16_t lit_at[LINT_FMT_RUNS], lit_len[LINT_FMT_RUNS];
	uint8_t conv[LINT_FMT_RUNS];
	bool lit_block[LINT_FMT_RUNS];
};

/*
 * Message formats lint_report() has seen, by address. Rule messages are string literals
 * (-Wformat-nonliteral holds every caller to that), so a format's address names its text for
 * the life of the process: kept per thread, not per file, a format is scanned about once per
 * run, not once per linted file. The rules use about a hundred formats.
 */
#define LINT_FMT_CACHE 256
static _Thread_local struct lint_fmt fmt_cache[LINT_FMT_CACHE];

/* The conversion at `p` (after its '%') and its length, or false for one lint_report() leaves
 * to vsnprintf (a flag, a width, another type). */
static bool scan_conversion(const char *p, enum lint_conv *conv, size_t *len)
{
	static const struct {
		char text[4];
		enum lint_conv conv;
	} convs[] = {{"s", CONV_S},	{".*s", CONV_PREC_S}, {"c", CONV_C},
		     {"d", CONV_D},	{"u", CONV_U},	      {"zu", CONV_ZU},
		     {"lld", CONV_LLD}, {"llu", CONV_LLU},    {"%", CONV_PERCENT}};

	for (size_t k = 0; k < BALE_ARRAY_SIZE(convs); k++) {
		size_t n = strlen(convs[k].text);

		if (strncmp(p, convs[k].text, n) == 0) {
			*conv = convs[k].conv;
			*len = n;
			return true;
		}
	}
	return false;
}

/*
 * Scans `fmt` into `lf` for fmt_cache; false when it has more literal runs than fit, or a
 * conversion lint_report() does not do itself.
 */
static bool scan_format(struct lint_fmt *lf, const char *fmt)
{
	const char *p = fmt;
	size_t size = strlen(fmt) + 1; /* the bytes readable at fmt */

	lf->fmt = NULL;
	for (size_t k = 0; k < LINT_FMT_RUNS; k++) {
		const char *pct = strchr(p, '%');
		size_t lit = pct ? (size_t)(pct - p) : strlen(p), skip;
		enum lint_conv conv = CONV_END;

		if (lit > UINT16_MAX || (size_t)(p - fmt) > UINT16_MAX)
			return false;
		lf->lit_at[k] = (uint16_t)(p - fmt);
		lf->lit_len[k] = (uint16_t)lit;
		lf->lit_block[k] = lit > 0 && lit <= 16 && size - (size_t)(p - fmt) >= 16;
		if (!pct) {
			lf->conv[k] = CONV_END;
			lf->fmt = fmt;
			return true;
		}
		if (!scan_conversion(pct + 1, &conv, &skip))
			return false;
		lf->conv[k] = (uint8_t)conv;
		p = pct + 1 + skip;
	}
	return false;
}

/* The scanned `fmt` from fmt_cache (scanned on a miss), or NULL when it cannot be. */
static const struct lint_fmt *cached_format(const char *fmt)
{
	/* Literals sit side by side: a multiplicative hash spreads their addresses. */
	uint64_t h = (uint64_t)(uintptr_t)fmt * UINT64_C(0x9E3779B97F4A7C15);
	struct lint_fmt *lf = &fmt_cache[(h >> 32) % LINT_FMT_CACHE];

	if (lf->fmt == fmt || scan_format(lf, fmt))
		return lf;
	return NULL;
}

/* A piece of a message: a literal run of its format or the text of a conversion. */
struct piece {
	const char *s;
	size_t n;
};

/* Writes `v` (with a '-' when `negative`) at the end of digits[24]: the piece it fills. */
static struct piece number_piece(char digits[24], bool negative, unsigned long long v)
{
	size_t i = 24;

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		digits[--i] = '-';
	return (struct piece){digits + i, 24 - i};
}

static struct piece signed_piece(char digits[24], long long v)
{
	return number_piece(digits, v < 0,
			    v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
}

/*
 * Copies a piece of a message to `out`; returns the end. Most pieces are a few bytes (a quote,
 * a package name), copied in two overlapping moves, and the longer ones in blocks of 16 bytes,
 * the last ending where the piece ends: without a call.
 */
static inline char *put_piece(char *out, const char *s, size_t n)
{
	if (n > 16) {
		for (size_t b = 0; b + 16 < n; b += 16)
			memcpy(out + b, s + b, 16);
		memcpy(out + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(out, &a, 8);
		memcpy(out + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(out, &a, 4);
		memcpy(out + n - 4, &b, 4);
	} else if (n > 0 && n < 4) {
		out[0] = s[0];
		out[n / 2] = s[n / 2];
		out[n - 1] = s[n - 1];
	}
	return out + n;
}

/*
 * Writes the message `lf` makes of the arguments `ap` at `out`, as vsnprintf would, in one
 * pass: returns its length, or SIZE_MAX when it needs more than `room` bytes or vsnprintf must
 * format it (a NULL string, a negative precision).
 */
static size_t write_message(const struct lint_fmt *lf, va_list ap, char *out, size_t room)
{
	char *const start = out, *const end = out + room;

	for (size_t k = 0;; k++) {
		const char *lit = lf->fmt + lf->lit_at[k];
		char digits[24];
		struct piece conv;

		/* What the block writes past the run, the next piece overwrites or the NUL ends. */
		if (lf->lit_block[k]) {
			if (16 > (size_t)(end - out))
				return SIZE_MAX;
			memcpy(out, lit, 16);
			out += lf->lit_len[k];
		} else {
			if (lf->lit_len[k] > (size_t)(end - out))
				return SIZE_MAX;
			out = put_piece(out, lit, lf->lit_len[k]);
		}
		switch ((enum lint_conv)lf->conv[k]) {
		case CONV_END:
			return (size_t)(out - start);
		case CONV_S:
			conv.s = va_arg(ap, const char *);
			if (!conv.s)
				return SIZE_MAX;
			conv.n = strlen(conv.s);
			break;
		case CONV_PREC_S: {
			int prec = va_arg(ap, int);

			conv.s = va_arg(ap, const char *);
			if (!conv.s || prec < 0)
				return SIZE_MAX;
			conv.n = strnlen(conv.s, (size_t)prec);
			break;
		}
		case CONV_C:
			digits[0] = (char)(unsigned char)va_arg(ap, int);
			conv = (struct piece){digits, 1};
			break;
		case CONV_D:
			conv = signed_piece(digits, va_arg(ap, int));
			break;
		case CONV_U:
			conv = number_piece(digits, false, va_arg(ap, unsigned));
			break;
		case CONV_ZU:
			conv = number_piece(digits, false, va_arg(ap, size_t));
			break;
		case CONV_LLD:
			conv = signed_piece(digits, va_arg(ap, long long));
			break;
		case CONV_LLU:
			conv = number_piece(digits, false, va_arg(ap, unsigned long long));
			break;
		case CONV_PERCENT:
		default:
			conv = (struct piece){"%", 1};
			break;
		}
		if (conv.n > (size_t)(end - out))
			return SIZE_MAX;
		out = put_piece(out, conv.s, conv.n);
	}
}

void lint_report(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, uint32_t line,
		 uint32_t col, const char *fmt, ...)
{
	const struct lint_pragmas *pr = ctx->pragmas;
	bale_location loc = {.file = ctx->list_filename, .layer = -1};
	const struct lint_fmt *lf;
	size_t len = SIZE_MAX;
	bale_severity sev;
	va_list ap;
	int rc;

	if (ctx->err)
		return;
	/* The rule running reports for itself nearly always: its severity is known already. */
	sev = rule == ctx->rule ? ctx->rule_severity : bale_lint_config_severity(ctx->cfg, rule);
	if (sev == BALE_SEV_NONE)
		return;
	if ((pr->n || pr->check_skip_all) &&
	    lint_pragmas_ignore(pr, rule, instr, lint_stage_of(ctx, instr),
				ctx->cfg->disable_ignore_pragma))
		return;
	/* `# check=error=true` makes BuildKit's own checks fail the build. */
	if (pr->check_error && lint_rule_is_buildkit_check(rule))
		sev = BALE_SEV_ERROR;
	if (instr < ctx->ninstrs) {
		const bale_instruction *ins = &ctx->instrs[instr];

		loc.line = line ? line : ins->start_line;
		loc.col = line ? col : ins->start_col;
		if (!line && ins->end_line > ins->start_line)
			loc.end_line = ins->end_line;
	} else {
		loc.line = line;
		loc.col = col;
	}
	/*
	 * lint formats one message per finding, tens of thousands for a tree: without vsnprintf's
	 * set-up for each, and straight into the findings list's room for it.
	 */
	if ((lf = cached_format(fmt))) {
		size_t room;
		char *out = report_findings_room(ctx->findings, &room);

		if (!out) {
			ctx->err = BALE_ENOMEM;
			return;
		}
		va_start(ap, fmt);
		len = write_message(lf, ap, out, room - 1);
		va_end(ap);
	}
	if (len != SIZE_MAX) {
		rc = report_findings_add_written(ctx->findings, rule, sev, &loc, len);
	} else {
		bale_buf msg = BALE_BUF_INIT;

		va_start(ap, fmt);
		bale_buf_vaddf(&msg, fmt, ap);
		va_end(ap);
		rc = msg.err ? msg.err
			     : report_findings_add_text(ctx->findings, rule, sev, &loc, msg.ptr,
							msg.len);
		bale_buf_release(&msg);
	}
	if (rc)
		ctx->err = rc;
}

/*
 * The bucket of a tool name: its first three bytes tell most tools apart, multiplied so that
 * every one of them moves the top bits (names share letters: a sum of them collides).
 */
static size_t tool_bucket(const char *name)
{
	uint32_t key = (unsigned char)name[0];

	if (name[0]) {
		key |= (uint32_t)(unsigned char)name[1] << 8;
		if (name[1])
			key |= (uint32_t)(unsigned char)name[2] << 16;
	}
	return (key * UINT32_C(0x9E3779B1)) >> (32 - LINT_TOOL_BITS);
}

/* The tool named `name` in bucket `b` (its tool_bucket()), or NULL. */
static struct lint_tool *find_tool_in(const struct lint_ctx *ctx, const char *name, size_t b)
{
	for (size_t t = ctx->tool_bucket[b]; t != SIZE_MAX; t = ctx->tools[t].next)
		if (ctx->tools[t].name == name ||
		    (ctx->tools[t].name[0] == name[0] && strcmp(ctx->tools[t].name, name) == 0))
			return &ctx->tools[t];
	return NULL;
}

static struct lint_tool *find_tool(const struct lint_ctx *ctx, const char *name)
{
	return find_tool_in(ctx, name, tool_bucket(name));
}

/*
 * `count` elements of `size` bytes for the lint of the file, not cleared: each user sets every
 * entry. From the context's arena, whose chunks the thread reuses file after file without a
 * malloc. NULL when out of memory.
 */
static void *lint_array(struct lint_ctx *ctx, size_t count, size_t size)
{
	if (count > SIZE_MAX / size) {
		bale_error_oom();
		return NULL;
	}
	return bale_arena_alloc(&ctx->arena, (count ? count : 1) * size);
}

void *lint_calloc(struct lint_ctx *ctx, size_t count, size_t size)
{
	return bale_arena_calloc(&ctx->arena, count ? count : 1, size);
}

/* Chains the listed commands by tool name, so a rule visits only its tools' commands. */
static void index_run_commands(struct lint_ctx *ctx)
{
	for (size_t b = 0; b < LINT_TOOL_BUCKETS; b++)
		ctx->tool_bucket[b] = SIZE_MAX;
	for (size_t k = 0; k < ctx->nrun_cmds; k++) {
		const char *name = ctx->run_cmds[k].cmd->name;
		size_t b = tool_bucket(name);
		struct lint_tool *tool = find_tool_in(ctx, name, b);

		if (!tool) {
			tool = &ctx->tools[ctx->ntools];
			*tool = (struct lint_tool){name, k, k, ctx->tool_bucket[b]};
			ctx->tool_bucket[b] = ctx->ntools++;
		} else {
			ctx->run_cmds[tool->tail].next = k;
			tool->tail = k;
		}
		ctx->run_cmds[k].next = SIZE_MAX;
	}
}

/*
 * Lists every command of every RUN (ONBUILD RUN too) once, for all the rules that walk them,
 * and notes each instruction's own commands: the scripts first, then one array of the size
 * they add up to.
 */
void lint_list_run_commands(struct lint_ctx *ctx)
{
	size_t total = 0, *link = &ctx->first_run;

	ctx->run_cmds_done = true;
	ctx->first_run = SIZE_MAX;
	for (size_t i = 0; i < ctx->ninstrs && !ctx->err; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		struct lint_instr *info = &ctx->instr_info[i];
		const bale_cmd_script *script;

		if (ins->kind == BALE_INSTR_ONBUILD && ins->sub) {
			ins = ins->sub;
			info->onbuild = true;
		}
		if (ins->kind != BALE_INSTR_RUN || !(script = lint_script(ctx, i)))
			continue;
		info->run = bale_cmd_script_commands(script, &info->nrun);
		total += info->nrun;
	}
	if (ctx->err)
		return;
	ctx->run_cmds = lint_array(ctx, total, sizeof(*ctx->run_cmds));
	ctx->tools = lint_array(ctx, total, sizeof(*ctx->tools));
	if (!ctx->run_cmds || !ctx->tools) {
		ctx->err = BALE_ENOMEM;
		return;
	}
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		struct lint_instr *info = &ctx->instr_info[i];

		if (!info->nrun)
			continue;
		*link = i;
		link = &info->next_run;
		for (size_t c = 0; c < info->nrun; c++)
			ctx->run_cmds[ctx->nrun_cmds++] =
			    (struct lint_run_cmd){i, &info->run[c], SIZE_MAX};
	}
	*link = SIZE_MAX;
	index_run_commands(ctx);
}

/* Whether stage `stage` ships, for lint_stage_ships(). */
static bool stage_ships(const struct lint_ctx *ctx, size_t stage)
{
	size_t s = ctx->target;

	/* Down the FROM chain from the target; the model has no cycles, the bound is a guard. */
	for (size_t hops = 0; s < ctx->nstages && hops <= ctx->nstages; hops++) {
		if (s == stage)
			return true;
		if (ctx->stage_list[s].base.kind != BALE_REF_STAGE)
			break;
		s = ctx->stage_list[s].base.stage;
	}
	return false;
}

const bale_image_ref *lint_base_ref(const struct lint_ctx *ctx, size_t stage)
{
	struct lint_stage_info *si;

	if (stage >= ctx->nstages)
		return NULL;
	si = &ctx->stage_info[stage];
	if (!si->ref_done) {
		const char *name = ctx->stage_list[stage].base.name;

		si->ref_done = true;
		si->ref_ok = name && bale_image_ref_parse(&si->ref, name);
	}
	return si->ref_ok ? &si->ref : NULL;
}

int lint_scripts_init(struct lint_ctx *ctx)
{
	ctx->instr_info = lint_array(ctx, ctx->ninstrs, sizeof(*ctx->instr_info));
	ctx->stage_info = lint_array(ctx, ctx->nstages, sizeof(*ctx->stage_info));
	if (!ctx->instr_info || !ctx->stage_info) {
		ctx->instr_info = NULL; /* lint_scripts_release() reads no entry */
		return BALE_ENOMEM;
	}
	for (size_t s = 0; s < ctx->nstages; s++)
		ctx->stage_info[s] = (struct lint_stage_info){.ships = stage_ships(ctx, s)};
	for (size_t k = 0; k < LINT_NKINDS; k++)
		ctx->first_of_kind[k] = SIZE_MAX;
	/* Backwards, so each instruction heads its kind's chain as it is reached. */
	for (size_t i = ctx->ninstrs; i-- > 0;) {
		size_t kind = (size_t)ctx->instrs[i].kind, next = SIZE_MAX;

		if (kind < LINT_NKINDS) {
			next = ctx->first_of_kind[kind];
			ctx->first_of_kind[kind] = i;
		}
		ctx->instr_info[i] = (struct lint_instr){
		    .stage = ctx->stages ? bale_stages_stage_of(ctx->stages, i) : BALE_NO_STAGE,
		    .next_of_kind = next};
	}
	return 0;
}

void lint_scripts_release(struct lint_ctx *ctx)
{
	for (size_t i = 0; ctx->instr_info && i < ctx->ninstrs; i++)
		if (ctx->instr_info[i].script)
			bale_cmd_script_free(ctx->instr_info[i].script);
	bale_arena_release(&ctx->arena);
	ctx->instr_info = NULL;
	ctx->stage_info = NULL;
	ctx->run_cmds = NULL;
	ctx->tools = NULL;
}

bool lint_runs_any(struct lint_ctx *ctx, const char *const *tools)
{
	if (!ctx->run_cmds_done)
		lint_list_run_commands(ctx);
	if (ctx->err)
		return false;
	for (; *tools; tools++)
		if (find_tool(ctx, *tools))
			return true;
	return false;
}

void lint_walk_init(struct lint_ctx *ctx, struct lint_walk *w, const char *const *tools)
{
	w->tools = tools;
	w->nchains = 0;
	w->all = !tools;
	w->k = 0;
	w->started = false;
	w->cur = NULL;
	if (!ctx->run_cmds_done)
		lint_list_run_commands(ctx);
	if (ctx->err) {
		w->all = false; /* nothing to walk */
		return;
	}
	for (const char *const *t = tools; t && *t && !w->all; t++) {
		const struct lint_tool *tool = find_tool(ctx, *t);
		bool seen = false;

		if (!tool)
			continue;
		for (size_t j = 0; j < w->nchains && !seen; j++)
			seen = w->next[j] == tool->head;
		if (seen)
			continue;
		if (w->nchains == BALE_ARRAY_SIZE(w->next))
			w->all = true; /* more tools than chains merged: walk all and compare */
		else
			w->next[w->nchains++] = tool->head;
	}
}

/* The next command of the walk's chains (merged: the commands come in file order), or NULL. */
static inline const bale_cmd *walk_chains(struct lint_ctx *ctx, struct lint_walk *w, size_t *instr)
{
	size_t best = SIZE_MAX, at = 0;

	for (size_t j = 0; j < w->nchains; j++)
		if (w->next[j] < best) {
			best = w->next[j];
			at = j;
		}
	if (best == SIZE_MAX)
		return NULL;
	w->next[at] = ctx->run_cmds[best].next;
	*instr = ctx->run_cmds[best].instr;
	return ctx->run_cmds[best].cmd;
}

const bale_cmd *lint_walk_next(struct lint_ctx *ctx, struct lint_walk *w, size_t *instr)
{
	if (ctx->err)
		return NULL;
	if (w->all) {
		for (; w->k < ctx->nrun_cmds; w->k++) {
			const bale_cmd *cmd = ctx->run_cmds[w->k].cmd;
			bool match = !w->tools;

			for (const char *const *t = w->tools; t && *t && !match; t++)
				match = strcmp(cmd->name, *t) == 0;
			if (match) {
				*instr = ctx->run_cmds[w->k++].instr;
				return cmd;
			}
		}
		return NULL;
	}
	return walk_chains(ctx, w, instr);
}

bool lint_walk_reaches(struct lint_ctx *ctx, struct lint_walk *w, size_t instr)
{
	if (!w->started) {
		w->started = true;
		w->cur = lint_walk_next(ctx, w, &w->cur_instr);
	}
	while (w->cur && w->cur_instr < instr)
		w->cur = lint_walk_next(ctx, w, &w->cur_instr);
	return w->cur && w->cur_instr == instr;
}

void lint_each_command(struct lint_ctx *ctx, const bale_rule *rule, const char *const *tools,
		       lint_command_fn fn, void *arg)
{
	struct lint_walk w;

	lint_walk_init(ctx, &w, tools);
	if (ctx->err)
		return;
	if (w.all) {
		/* The walk of lint_walk_next(), without a call per command. */
		for (size_t k = 0; k < ctx->nrun_cmds && !ctx->err; k++) {
			const bale_cmd *cmd = ctx->run_cmds[k].cmd;
			bool match = !tools;

			for (const char *const *t = tools; t && *t && !match; t++)
				match = strcmp(cmd->name, *t) == 0;
			if (match)
				fn(ctx, rule, ctx->run_cmds[k].instr, cmd, arg);
		}
		return;
	}
	/* One tool, the usual case: its chain in order, with nothing to merge. */
	if (w.nchains == 1) {
		for (size_t k = w.next[0]; k != SIZE_MAX && !ctx->err; k = ctx->run_cmds[k].next)
			fn(ctx, rule, ctx->run_cmds[k].instr, ctx->run_cmds[k].cmd, arg);
		return;
	}
	while (!ctx->err) {
		const bale_cmd *cmd;
		size_t instr;

		if (!(cmd = walk_chains(ctx, &w, &instr)))
			break;
		fn(ctx, rule, instr, cmd, arg);
	}
}

const bale_command *lint_run_view(const struct lint_ctx *ctx, size_t instr, bool onbuild)
{
	const bale_command *c = lint_command(ctx, instr);

	if (c && c->kind == BALE_INSTR_ONBUILD)
		c = onbuild ? c->onbuild.trigger : NULL;
	return c && c->kind == BALE_INSTR_RUN ? c : NULL;
}

const char *lint_var(const struct lint_ctx *ctx, size_t instr, const char *name, size_t len)
{
	size_t stage = lint_stage_of(ctx, instr), limit = instr;
	bool env_only = false;

	/* The stage's own ARGs and ENVs before `instr`, then the ENVs of its base stages. */
	for (int hops = 0; stage != BALE_NO_STAGE && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[stage];

		for (size_t k = st->nvars; k-- > 0;) {
			const bale_var *v = &st->vars[k];

			if (v->instruction >= limit || (env_only && !v->is_env))
				continue;
			/* The first byte before the length: most names differ there. */
			if ((len ? v->name[0] == name[0] : !v->name[0]) && strlen(v->name) == len &&
			    memcmp(v->name, name, len) == 0)
				return v->value;
		}
		if (st->base.kind != BALE_REF_STAGE)
			break;
		stage = st->base.stage;
		limit = SIZE_MAX;
		env_only = true;
	}
	return NULL;
}

struct lookup_ctx {
	const struct lint_ctx *ctx;
	size_t instr;
	bool unknown; /* a variable was read whose value is not known */
};

static bool lookup(void *arg, const char *name, size_t len, const char **value, size_t *vlen)
{
	struct lookup_ctx *lc = arg;
	const char *v = lint_var(lc->ctx, lc->instr, name, len);

	if (!v) {
		lc->unknown = true;
		return false;
	}
	*value = v;
	*vlen = strlen(v);
	return true;
}

void lint_cursor_init(struct lint_cursor *cur, const bale_instruction *ins)
{
	cur->line = ins->start_line;
	cur->line_start = ins->start_offset;
	/* after the keyword */
	cur->off = ins->start_offset + ins->start_col - 1 + strlen(ins->keyword);
}

/*
 * memmem() for the next key of an instruction, which mostly starts at one of the first bytes
 * that can start it: memchr() to each, then a compare, which costs less than memmem()'s set-up.
 * After a few misses the rest goes to memmem(), so the search stays linear whatever the text.
 */
static const char *find_key(const char *s, size_t n, const char *key, size_t klen)
{
	for (int miss = 0; n >= klen; miss++) {
		const char *p;

		if (miss == 4)
			return memmem(s, n, key, klen);
		p = memchr(s, key[0], n - klen + 1);
		if (!p || memcmp(p + 1, key + 1, klen - 1) == 0)
			return p;
		n -= (size_t)(p + 1 - s);
		s = p + 1;
	}
	return NULL;
}

struct lint_pos lint_cursor_find(const struct lint_ctx *ctx, const bale_instruction *ins,
				 const char *key, struct lint_cursor *cur)
{
	struct lint_pos pos = {0, 0};
	size_t len, klen = strlen(key), end = ins->end_offset;
	const char *src = bale_dockerfile_source(ctx->df, &len);
	const char *hit;

	if (end > len || klen == 0 || cur->off >= end)
		return pos;
	hit = find_key(src + cur->off, end - cur->off, key, klen);
	if (!hit)
		return pos;
	for (const char *nl; (nl = memchr(src + cur->off, '\n', (size_t)(hit - src) - cur->off));) {
		cur->line++;
		cur->off = (size_t)(nl - src) + 1;
		cur->line_start = cur->off;
	}
	pos.line = cur->line;
	pos.col = (uint32_t)((size_t)(hit - src) - cur->line_start + 1);
	cur->off = (size_t)(hit - src) + klen;
	return pos;
}

const char *lint_expand_known(struct lint_ctx *ctx, size_t instr, const char *word, char **owned)
{
	int escape = bale_dockerfile_escape(ctx->df);
	struct lookup_ctx lc = {ctx, instr, false};
	bale_shell_opts opts = {.escape = escape, .lookup = lookup, .lookup_ctx = &lc};
	int rc;

	*owned = NULL;
	if (!strpbrk(word, "$\"'") && !strchr(word, escape))
		return word;
	rc = bale_shell_expand_word(owned, word, strlen(word), &opts);
	if (rc == BALE_ENOMEM && !ctx->err)
		ctx->err = rc;
	if (rc != 0 || lc.unknown) {
		free(*owned);
		*owned = NULL;
		return NULL;
	}
	return *owned;
}

const bale_cmd_script *lint_script(struct lint_ctx *ctx, size_t instr)
{
	const bale_instruction *ins;
	struct lookup_ctx lc;
	bale_cmd_opts opts;
	size_t src_len;
	const char *src;

	if (instr >= ctx->ninstrs || ctx->err)
		return NULL;
	/* Parsed once: most calls come back for the script already there. */
	if (ctx->instr_info[instr].script_done)
		return ctx->instr_info[instr].script;
	ctx->instr_info[instr].script_done = true;
	lc = (struct lookup_ctx){ctx, instr, false};
	opts = (bale_cmd_opts){.lookup = lookup, .lookup_ctx = &lc};
	ins = &ctx->instrs[instr];
	if (ins->kind == BALE_INSTR_ONBUILD && ins->sub)
		ins = ins->sub;
	if (ins->kind != BALE_INSTR_RUN && ins->kind != BALE_INSTR_CMD &&
	    ins->kind != BALE_INSTR_ENTRYPOINT)
		return NULL;
	src = bale_dockerfile_source(ctx->df, &src_len);
	if (bale_cmd_parse_instruction(&ctx->instr_info[instr].script, ins, src, src_len,
				       bale_dockerfile_escape(ctx->df), &opts) != 0) {
		ctx->err = bale_error_last()->code;
		ctx->instr_info[instr].script = NULL;
	}
	return ctx->instr_info[instr].script;
}

/*
 * Splits "FILE:LINE:COL: message" (the front end's error format) into its parts, so the
 * finding has the position and the message once.
 */
static const char *split_position(const char *msg, const char *file, uint32_t *line, uint32_t *col)
{
	size_t flen = strlen(file);
	const char *p = msg;
	char *end;

	*line = *col = 0;
	if (strncmp(p, file, flen) != 0 || p[flen] != ':')
		return msg;
	p += flen + 1;
	*line = (uint32_t)strtoul(p, &end, 10);
	if (end == p || *end != ':') {
		*line = 0;
		return msg;
	}
	p = end + 1;
	*col = (uint32_t)strtoul(p, &end, 10);
	if (end == p || end[0] != ':' || end[1] != ' ') {
		*line = *col = 0;
		return msg;
	}
	return end + 2;
}

extern const struct lint_rule lint_rule_BL0001;

int bale_lint(bale_findings *out, const char *data, size_t len, const char *filename,
	      const bale_lint_config *cfg, const bale_lint_opts *opts)
{
	static const bale_lint_opts no_opts = {0};
	bale_parse_opts popts = {.filename = filename};
	bale_stage_opts sopts = {0};
	struct lint_pragmas pragmas;
	struct lint_ctx ctx = {.filename = filename, .cfg = cfg, .findings = out};
	bale_dockerfile *df = NULL;
	bale_stages *stages = NULL;
	bool plain;
	int rc;

	if (!opts)
		opts = &no_opts;
	popts.max_size = opts->max_size;
	if ((rc = bale_dockerfile_parse(&df, data, len, &popts)) != 0)
		return rc;
	if ((rc = report_findings_note_file(out, filename, &ctx.list_filename)) != 0)
		goto out_df;
	ctx.df = df;
	ctx.instrs = bale_dockerfile_instructions(df, &ctx.ninstrs);
	ctx.context_dir = opts->context_dir;
	ctx.target = BALE_NO_STAGE;
	sopts.build_args = opts->build_args;
	sopts.nbuild_args = opts->nbuild_args;
	sopts.target = opts->target;
	rc = bale_dockerfile_stages(&stages, df, &sopts);
	if (rc == BALE_EINVAL || rc == BALE_ENOMEM)
		goto out_df;
	if ((rc = lint_pragmas_read(&pragmas, df, stages)) != 0)
		goto out_stages;
	ctx.pragmas = &pragmas;
	if (stages) {
		ctx.stages = stages;
		ctx.cmds = bale_stages_commands(stages, &(size_t){0});
		ctx.stage_list = bale_stages_list(stages, &ctx.nstages);
		ctx.target = bale_stages_target(stages);
	} else {
		/* BuildKit would refuse this file: say so where it says so, then go on. */
		uint32_t line, col;
		const char *msg = split_position(bale_error_last()->message, filename, &line, &col);
		char text[2048];

		snprintf(text, sizeof(text), "%s", msg);
		lint_report(&ctx, &lint_rule_BL0001.meta, SIZE_MAX, line, col, "%s", text);
	}
	if ((rc = lint_scripts_init(&ctx)) != 0)
		goto out_scripts;
	/* Most configurations change no severity: then each rule's own applies. */
	plain = !cfg->nignored && !cfg->noverrides;
	for (size_t i = 0; i < lint_nrules && !ctx.err; i++) {
		const struct lint_rule *r = lint_rules[i];

		if (!r->check || (r->needs_stages && !stages))
			continue;
		ctx.rule = &r->meta;
		ctx.rule_severity =
		    plain ? r->meta.severity : bale_lint_config_severity(cfg, &r->meta);
		if (ctx.rule_severity == BALE_SEV_NONE)
			continue;
		r->check(&ctx, &r->meta);
	}
	rc = ctx.err;
	/* What goes wrong with shellcheck (it fails, hangs, prints nonsense) names the file. */
	if (!rc && ((rc = lint_shellcheck(&ctx)) != 0 || (rc = ctx.err) != 0))
		bale_error_prefix("%s", filename);
out_scripts:
	lint_scripts_release(&ctx);
	lint_pragmas_release(&pragmas);
out_stages:
	bale_stages_free(stages);
out_df:
	bale_dockerfile_free(df);
	return rc;
}
