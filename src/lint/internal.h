/*
 * internal.h: the lint module's parts. lint.c drives a file through the checks; each rule is a
 * bale_rule (its metadata, in the catalogue in rules.c) with a check function that walks the
 * parsed file, its stages and the shell model of its RUN commands, and reports through
 * lint_report(), which applies the configuration and the inline pragmas.
 */
#ifndef BALE_LINT_INTERNAL_H
#define BALE_LINT_INTERNAL_H

#include "bale/dockerfile.h"
#include "bale/lint.h"
#include "bale/report.h"
#include "image/reference.h"
#include "util/util.h"

/* --- pragmas (pragma.c) ----------------------------------------------------------------- */

enum lint_pragma_scope {
	LINT_PRAGMA_NEXT,   /* `# hadolint ignore=`: the instruction below (where = its index) */
	LINT_PRAGMA_STAGE,  /* `# bale stage ignore=`: a stage (where = its index) */
	LINT_PRAGMA_GLOBAL, /* `# hadolint global ignore=`: the whole file */
	LINT_PRAGMA_CHECK,  /* `# check=skip=`: BuildKit's checks in the whole file */
};

struct lint_pragma {
	enum lint_pragma_scope scope;
	size_t where; /* SIZE_MAX: a next-instruction pragma that reaches no instruction */
	const char *code;
};

struct lint_pragmas {
	struct lint_pragma *v;
	size_t n, alloc;
	bale_arena arena;
	bool check_skip_all; /* # check=skip=all */
	bool check_error;    /* # check=error=true: BuildKit's checks fail the build */
};

/* Reads the pragmas of `df`; `stages` may be NULL (stage pragmas then apply to nothing). */
int lint_pragmas_read(struct lint_pragmas *pr, const bale_dockerfile *df,
		      const bale_stages *stages);
void lint_pragmas_release(struct lint_pragmas *pr);
/* True for BuildKit's build checks, which `# check=` directs (and rules aliased to one). */
bool lint_rule_is_buildkit_check(const bale_rule *rule);
/*
 * True when a finding of `rule` at instruction `instr` (in stage `stage`) is ignored inline.
 * `disable_inline` (disable-ignore-pragma) turns off the hadolint/bale pragmas, not BuildKit's
 * check directive, which is part of the Dockerfile's meaning for `docker build` too.
 */
bool lint_pragmas_ignore(const struct lint_pragmas *pr, const bale_rule *rule, size_t instr,
			 size_t stage, bool disable_inline);

/* --- the lint context and rules (lint.c, rules.c) ---------------------------------------- */

#include "bale/command.h"

/* A command of a RUN: the instruction's index, the command in its shell model, and the next
 * command of the same tool (SIZE_MAX: none). */
struct lint_run_cmd {
	size_t instr;
	const bale_cmd *cmd;
	size_t next;
};

/* The commands of one tool name: the first and last of its chain. */
struct lint_tool {
	const char *name;
	size_t head, tail;
	size_t next; /* the next tool of the same hash bucket, or SIZE_MAX */
};

/* What the rules ask of an instruction again and again, worked out once. */
struct lint_instr {
	size_t stage;		 /* lint_stage_of() */
	bale_cmd_script *script; /* the shell model lint_script() parses on first use */
	const bale_cmd *run;	 /* a RUN's (or ONBUILD RUN's) commands, once listed */
	size_t nrun;
	size_t next_of_kind; /* the next instruction of the same kind, SIZE_MAX after the last */
	size_t next_run;     /* the next instruction with RUN commands, SIZE_MAX after the last */
	bool script_done;
	bool onbuild; /* `run` is the RUN of an ONBUILD */
};

/* What the rules ask of a stage again and again, worked out once. */
struct lint_stage_info {
	bool ships;    /* lint_stage_ships() */
	bool ref_done; /* ref (and ref_ok) filled by lint_base_ref() */
	bool ref_ok;
	bale_image_ref ref;
};

#define LINT_TOOL_BITS	  7
#define LINT_TOOL_BUCKETS (1u << LINT_TOOL_BITS)

/* The instruction kinds, BALE_INSTR_UNKNOWN to BALE_INSTR_WORKDIR. */
#define LINT_NKINDS (BALE_INSTR_WORKDIR + 1)

struct lint_ctx {
	const char *filename;
	const char *list_filename; /* the findings list's copy of it, for the findings */
	const bale_dockerfile *df;
	const bale_stages *stages; /* NULL when BuildKit's typed layer rejects the file */
	const bale_instruction *instrs;
	size_t ninstrs;
	const bale_command *cmds; /* parallel to instrs; NULL with stages */
	const bale_stage *stage_list;
	size_t nstages;
	size_t target; /* the stage that ships (the target), BALE_NO_STAGE without stages */
	const bale_lint_config *cfg;
	const struct lint_pragmas *pragmas;
	bale_findings *findings;
	/* The rule running and its configured severity (lint_report's usual case). */
	const bale_rule *rule;
	bale_severity rule_severity;
	/* Per instruction (ninstrs of them): its stage, shell model and RUN commands. */
	struct lint_instr *instr_info;
	/*
	 * The first instruction of each kind (SIZE_MAX when none), chained on through
	 * lint_instr.next_of_kind: a rule about one kind visits only those instructions.
	 */
	size_t first_of_kind[LINT_NKINDS];
	/* Per stage (nstages of them): whether it ships, its base image parsed. */
	struct lint_stage_info *stage_info;
	/* Every command of every RUN and ONBUILD RUN in file order, listed on first use. */
	struct lint_run_cmd *run_cmds;
	size_t nrun_cmds;
	/* The first instruction with commands (a RUN, an ONBUILD RUN), chained by next_run. */
	size_t first_run;
	bool run_cmds_done;
	/*
	 * The same commands by tool name: one chain per tool through their `next`, in file order;
	 * the tools hash into buckets (chains through lint_tool.next, SIZE_MAX ends one).
	 */
	struct lint_tool *tools;
	size_t ntools;
	size_t tool_bucket[LINT_TOOL_BUCKETS];
	/* The build context next to the Dockerfile (for .dockerignore); NULL for stdin. */
	const char *context_dir;
	/* What lives as long as the lint of the file: instr_info, stage_info, the command index. */
	bale_arena arena;
	int err; /* the first failure (out of memory); checks stop adding findings after it */
};

/*
 * A rule: its metadata and its check. `needs_stages` rules are skipped (and say nothing)
 * when the typed layer rejected the file, since their facts would be guesses.
 */
struct lint_rule {
	bale_rule meta;
	void (*check)(struct lint_ctx *ctx, const bale_rule *rule);
	bool needs_stages;
};

/* The catalogue, in id order (rules.c, from rules.def). */
extern const struct lint_rule *const lint_rules[];
extern const size_t lint_nrules;

/*
 * Reports `rule` at instruction `instr` (its start when line is 0), unless the configuration
 * or a pragma silences it. The message is printf-style.
 */
void lint_report(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, uint32_t line,
		 uint32_t col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The shell model of what instruction `instr` runs (RUN, CMD, ENTRYPOINT, ONBUILD of them),
 * with the ARG and ENV values known in its scope; NULL for other instructions. */
const bale_cmd_script *lint_script(struct lint_ctx *ctx, size_t instr);

/*
 * Calls `fn` for every command of every RUN (ONBUILD RUN included) that runs one of `tools`
 * (a NULL-terminated list of tool names as bale_cmd_is() knows them; NULL: every command).
 * `arg` is passed through. The one walk every command rule shares.
 */
typedef void (*lint_command_fn)(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
				const bale_cmd *cmd, void *arg);
void lint_each_command(struct lint_ctx *ctx, const bale_rule *rule, const char *const *tools,
		       lint_command_fn fn, void *arg);

/*
 * The same walk a step at a time, for a rule that goes through the instructions too:
 * lint_walk_next() gives the next command of `tools` (NULL: every command) in file order and
 * its instruction in *instr, NULL after the last.
 */
struct lint_walk {
	const char *const *tools;
	size_t next[16], nchains; /* the next command of each tool's chain */
	bool all;		  /* no chains: every command, compared with `tools` */
	size_t k;		  /* where the walk of every command is */
	bool started;		  /* lint_walk_reaches(): cur is the walk's current command */
	const bale_cmd *cur;
	size_t cur_instr;
};
void lint_walk_init(struct lint_ctx *ctx, struct lint_walk *w, const char *const *tools);
const bale_cmd *lint_walk_next(struct lint_ctx *ctx, struct lint_walk *w, size_t *instr);
/*
 * True when instruction `instr` runs one of the walk's tools: for a rule that goes through
 * the instructions in order and looks only at the RUNs running them (the walk moves on past
 * the earlier instructions' commands).
 */
bool lint_walk_reaches(struct lint_ctx *ctx, struct lint_walk *w, size_t instr);

/*
 * True when a command of some RUN (ONBUILD RUN included) runs one of `tools` (NULL-terminated,
 * names as bale_cmd_is() knows them): a rule about those tools returns early when none does.
 */
bool lint_runs_any(struct lint_ctx *ctx, const char *const *tools);

/*
 * `count` zeroed elements of `size` bytes (at least one) that last until the lint of the file
 * ends, for a rule's per-stage facts: no free. NULL when out of memory (the error is set).
 */
void *lint_calloc(struct lint_ctx *ctx, size_t count, size_t size);

/*
 * Sets up the per-file facts of `ctx` (ninstrs, nstages, stage_list and target set): the
 * per-instruction shell scripts that lint_script() fills on demand, which instructions and
 * stages ship, and the per-kind instruction chains. lint_scripts_release() frees them and the
 * command index built over the scripts.
 */
int lint_scripts_init(struct lint_ctx *ctx);
void lint_scripts_release(struct lint_ctx *ctx);

/*
 * The typed view of RUN instruction `instr` (with `onbuild`, also the RUN an ONBUILD wraps);
 * NULL for other instructions or without stages.
 */
const bale_command *lint_run_view(const struct lint_ctx *ctx, size_t instr, bool onbuild);
/* Lists the commands of every RUN once (lint_run_commands, lint_each_command call it). */
void lint_list_run_commands(struct lint_ctx *ctx);

/*
 * The commands RUN instruction `instr` runs (ONBUILD RUN too with `onbuild`); NULL, *n 0 else.
 * Inline: rules ask it of every instruction.
 */
static inline const bale_cmd *lint_run_commands(struct lint_ctx *ctx, size_t instr, bool onbuild,
						size_t *n)
{
	const struct lint_instr *in;

	if (!ctx->run_cmds_done)
		lint_list_run_commands(ctx);
	in = &ctx->instr_info[instr];
	if (in->onbuild && !onbuild) {
		*n = 0;
		return NULL;
	}
	*n = in->nrun;
	return in->run;
}

/*
 * The first instruction that runs commands (a RUN or an ONBUILD RUN), then the next after
 * instruction `i`; both SIZE_MAX past the last. Each has lint_run_commands(.., true, ..):
 *   for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i))
 */
static inline size_t lint_first_run(struct lint_ctx *ctx)
{
	if (!ctx->run_cmds_done)
		lint_list_run_commands(ctx);
	return ctx->first_run;
}

static inline size_t lint_next_run(const struct lint_ctx *ctx, size_t i)
{
	return ctx->instr_info[i].next_run;
}

/* The stage of instruction `instr`, BALE_NO_STAGE before the first FROM or without stages. */
static inline size_t lint_stage_of(const struct lint_ctx *ctx, size_t instr)
{
	return ctx->instr_info && instr < ctx->ninstrs ? ctx->instr_info[instr].stage
						       : BALE_NO_STAGE;
}
/*
 * True when stage `stage` ships: it is the target, or a stage the target is built FROM (its
 * layers are the target's lower layers). BALE_NO_STAGE never ships.
 */
static inline bool lint_stage_ships(const struct lint_ctx *ctx, size_t stage)
{
	return stage < ctx->nstages && ctx->stage_info[stage].ships;
}

/*
 * The reference stage `stage` names as its base (base.name parsed with bale_image_ref_parse),
 * parsed once; NULL when there is no name or it does not parse.
 */
const bale_image_ref *lint_base_ref(const struct lint_ctx *ctx, size_t stage);

/* True when instruction `instr` is in a stage that ships (lint_stage_ships of its stage). */
static inline bool lint_ships(const struct lint_ctx *ctx, size_t instr)
{
	return lint_stage_ships(ctx, lint_stage_of(ctx, instr));
}

/*
 * strcmp() == 0 with the first three bytes compared inline: most names differ there (long
 * options share their "--", and differ in the third).
 */
static inline bool lint_str_eq(const char *s, const char *name)
{
	return s[0] == name[0] &&
	       (!name[0] ||
		(s[1] == name[1] &&
		 (!name[1] || (s[2] == name[2] && (!name[2] || strcmp(s + 3, name + 3) == 0)))));
}

/*
 * bale_cmd_is() inline, for the rules that ask it of every command (a call each time cost 5%
 * of linting).
 */
static inline bool lint_cmd_is(const bale_cmd *cmd, const char *name)
{
	return lint_str_eq(cmd->name, name);
}

/* True when the command runs one of `names` (NULL-terminated). */
static inline bool lint_cmd_in(const bale_cmd *cmd, const char *const *names)
{
	for (; *names; names++)
		if (lint_cmd_is(cmd, *names))
			return true;
	return false;
}
#define lint_cmd_is_any(cmd, ...) lint_cmd_in((cmd), (const char *const[]){__VA_ARGS__, NULL})

/* bale_cmd_has_flag() inline, without its variadic call: one of `names` (NULL-terminated). */
static inline bool lint_opt_in(const bale_cmd *cmd, const char *const *names)
{
	for (size_t i = 0; i < cmd->nopts; i++)
		for (const char *const *n = names; *n; n++)
			if (lint_str_eq(cmd->opts[i].name, *n))
				return true;
	return false;
}
#define lint_has_flag(cmd, ...) lint_opt_in((cmd), (const char *const[]){__VA_ARGS__, NULL})

/* A string with its length, for the tables of names rules compare by length first. */
struct lstr {
	const char *s;
	size_t len;
};
#define LSTR(x)                                                                                    \
	{                                                                                          \
		x, sizeof(x) - 1                                                                   \
	}
/*
 * Tables of names by first letter, so a name is compared only with the few that share its
 * first letter: 26 lists, one per lower-case letter, each a LSTR_LIST (ended by a NULL entry).
 *   for (const struct lstr *e = lstr_list_of(table, c); e && e->s; e++)
 */
#define LSTR_LIST(...)                                                                             \
	(const struct lstr[])                                                                      \
	{                                                                                          \
		__VA_ARGS__,                                                                       \
		{                                                                                  \
			NULL, 0                                                                    \
		}                                                                                  \
	}
static inline const struct lstr *lstr_list_of(const struct lstr *const table[26], char c)
{
	return c >= 'a' && c <= 'z' ? table[c - 'a'] : NULL;
}
/*
 * The first instruction of `kind` (ONBUILD triggers are of kind ONBUILD), then the next of
 * the same kind after instruction `i`; both SIZE_MAX past the last:
 *   for (size_t i = lint_first_of(ctx, K); i < ctx->ninstrs; i = lint_next_of(ctx, i))
 */
static inline size_t lint_first_of(const struct lint_ctx *ctx, bale_instr_kind kind)
{
	return (size_t)kind < LINT_NKINDS ? ctx->first_of_kind[kind] : SIZE_MAX;
}

static inline size_t lint_next_of(const struct lint_ctx *ctx, size_t i)
{
	return ctx->instr_info[i].next_of_kind;
}

/*
 * The instructions of any of two to four kinds, in file order (their chains merged):
 *   struct lint_kinds k;
 *   for (size_t i = lint_first_of2(ctx, &k, K1, K2); i < ctx->ninstrs;
 *        i = lint_next_in(ctx, &k, i))
 */
struct lint_kinds {
	size_t next[4]; /* the next instruction of each kind */
	size_t n;
};

static inline size_t lint_kinds_min(const struct lint_kinds *k)
{
	size_t m = SIZE_MAX;

	for (size_t j = 0; j < k->n; j++)
		m = k->next[j] < m ? k->next[j] : m;
	return m;
}

static inline size_t lint_first_of4(const struct lint_ctx *ctx, struct lint_kinds *k,
				    bale_instr_kind ka, bale_instr_kind kb, bale_instr_kind kc,
				    bale_instr_kind kd)
{
	k->next[0] = lint_first_of(ctx, ka);
	k->next[1] = lint_first_of(ctx, kb);
	k->next[2] = lint_first_of(ctx, kc);
	k->next[3] = lint_first_of(ctx, kd);
	k->n = 4;
	return lint_kinds_min(k);
}

static inline size_t lint_first_of3(const struct lint_ctx *ctx, struct lint_kinds *k,
				    bale_instr_kind ka, bale_instr_kind kb, bale_instr_kind kc)
{
	lint_first_of4(ctx, k, ka, kb, kc, kc);
	k->n = 3;
	return lint_kinds_min(k);
}

static inline size_t lint_first_of2(const struct lint_ctx *ctx, struct lint_kinds *k,
				    bale_instr_kind ka, bale_instr_kind kb)
{
	lint_first_of4(ctx, k, ka, kb, kb, kb);
	k->n = 2;
	return lint_kinds_min(k);
}

static inline size_t lint_next_in(const struct lint_ctx *ctx, struct lint_kinds *k, size_t i)
{
	/* Every chain at `i` moves on: a kind given twice is one chain. */
	for (size_t j = 0; j < k->n; j++)
		if (k->next[j] == i)
			k->next[j] = lint_next_of(ctx, i);
	return lint_kinds_min(k);
}

/*
 * True when `s` holds "://" (a URL): looked for from its ':'s, which most words have none of,
 * at less cost than strstr()'s set-up.
 */
static inline bool lint_has_url(const char *s)
{
	for (const char *p = strchr(s, ':'); p; p = strchr(p + 1, ':'))
		if (p[1] == '/' && p[2] == '/')
			return true;
	return false;
}

/* The typed view of `instr`, or NULL without stages. */
static inline const bale_command *lint_command(const struct lint_ctx *ctx, size_t instr)
{
	return ctx->cmds && instr < ctx->ninstrs ? &ctx->cmds[instr] : NULL;
}
/*
 * Runs ShellCheck on the file's RUN scripts when it is installed and the configuration allows
 * (shellcheck.c); its findings are rules SCnnnn. Returns 0 or an error (ShellCheck failing).
 */
int lint_shellcheck(struct lint_ctx *ctx);

/* The value of variable `name` in the scope of `instr`, when known (ARG/ENV); else NULL. */
const char *lint_var(const struct lint_ctx *ctx, size_t instr, const char *name, size_t len);

/*
 * The .dockerignore that applies to the build, as BuildKit picks and reads it
 * (rules_buildkit_ignore.c): `<Dockerfile>.dockerignore` beside the Dockerfile, else
 * `.dockerignore` at the root of the context; patterns matched as moby/patternmatcher does.
 */
struct lint_ignore_pattern {
	char *text; /* cleaned, without the leading '!' */
	bool exclusion;
};
struct lint_ignore {
	struct lint_ignore_pattern *v;
	size_t n, alloc;
	bool exclusions;  /* some pattern starts with '!' */
	const char *name; /* which file, for messages */
};
/* Reads it (ctx->context_dir set); *found is false when there is none. 0 or an error. */
int lint_ignore_read(struct lint_ignore *f, const struct lint_ctx *ctx, bool *found);
/* True when the cleaned relative `path`, or a directory above it, is excluded. */
bool lint_ignore_excludes(const struct lint_ignore *f, const char *path);
void lint_ignore_release(struct lint_ignore *f);

/*
 * Where the keys of an ENV or LABEL stand in the source, found in written order: a cursor in
 * an instruction's source that only moves forward, so an instruction is scanned once whatever
 * its size. lint_cursor_find() finds `key` at or after the cursor, moves the cursor past it and
 * gives its line and column (both 0 when not found).
 */
struct lint_cursor {
	size_t off, line_start;
	uint32_t line;
};
struct lint_pos {
	uint32_t line, col;
};
void lint_cursor_init(struct lint_cursor *cur, const bale_instruction *ins);
struct lint_pos lint_cursor_find(const struct lint_ctx *ctx, const bale_instruction *ins,
				 const char *key, struct lint_cursor *cur);

/*
 * Expands `word` as BuildKit would at instruction `instr`, with the ARG and ENV values bale
 * knows. Returns the value (`word` itself when it holds no quote, escape or variable; else
 * *owned, which the caller frees), or NULL when the word reads a variable whose value bale
 * cannot know or is malformed (running out of memory also sets ctx->err).
 */
const char *lint_expand_known(struct lint_ctx *ctx, size_t instr, const char *word, char **owned);

#endif
