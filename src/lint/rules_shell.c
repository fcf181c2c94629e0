/*
 * Rules about how RUN scripts use the shell and common tools: useradd's lastlog (DL3046),
 * wget's progress bar (DL3047), curl and wget both installed (DL4001), replacing /bin/sh with
 * ln instead of SHELL (DL4005), and pipes without pipefail (DL4006).
 */
#include "lint/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The word holding option `o`'s value: the option's own word (-u1000) or the next one. */
static const bale_cmd_word *value_word(const bale_cmd *cmd, const bale_cmd_opt *o)
{
	const bale_cmd_word *w = &cmd->words[o->word];

	if (o->value && (o->value < w->value || o->value > w->value + w->len) &&
	    o->word + 1 < cmd->nwords)
		return &cmd->words[o->word + 1];
	return w;
}

/* --- DL3046 useradd -l -------------------------------------------------------------------------
 */

static void useradd_uid(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
			void *arg)
{
	const bale_cmd_opt *uid = NULL;
	unsigned long long value;
	char *end;

	(void)arg;
	if (lint_has_flag(cmd, "-l", "--no-log-init"))
		return;
	for (size_t o = 0; o < cmd->nopts; o++)
		if (lint_str_eq(cmd->opts[o].name, "-u") || lint_str_eq(cmd->opts[o].name, "--uid"))
			uid = &cmd->opts[o];
	if (!uid || !uid->value || (value_word(cmd, uid)->flags & BALE_WORD_DYNAMIC))
		return;
	value = strtoull(uid->value, &end, 10);
	if (end == uid->value || *end || value < 100000)
		return;
	/* a lastlog record is 292 bytes on Linux; the layer keeps the sparse file in full */
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "'useradd -u %s' without -l (--no-log-init): useradd sizes /var/log/lastlog "
		    "and faillog by the UID, and the layer stores the sparse file in full (about "
		    "%llu MB here); add -l",
		    uid->value, value * 292 / 1000000);
}

static void check_useradd(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"useradd", NULL};

	lint_each_command(ctx, rule, tools, useradd_uid, NULL);
}

/* --- DL3047 wget --progress --------------------------------------------------------------------
 */

static void wget_progress(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
			  const bale_cmd *cmd, void *arg)
{
	const char *n = bale_cmd_flag_value(cmd, "-n", NULL);

	(void)arg;
	if (lint_has_flag(cmd, "--progress", "-q", "--quiet", "--no-verbose", "-o", "--output-file",
			  "-a", "--append-output"))
		return;
	/* -nv is --no-verbose (wget's -n takes the letters of its -nX options) */
	if (n && n[0] == 'v')
		return;
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "wget without --progress draws its progress bar into the build log, a line "
		    "per update for a large file: add --progress=dot:giga, or -q / -nv");
}

static void check_wget(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"wget", NULL};

	lint_each_command(ctx, rule, tools, wget_progress, NULL);
}

/* --- DL4001 wget and curl ----------------------------------------------------------------------
 */

/*
 * Per stage (FROM starts a new one) and, apart, for the ONBUILD RUNs that stages built on it
 * will run: the first line that used curl and wget; each RUN using one of them once both were
 * seen is reported.
 */
static void check_curl_and_wget(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const curl[] = {"curl", NULL}, *const wget[] = {"wget", NULL};
	uint32_t first[2][2] = {{0, 0}, {0, 0}}; /* [onbuild][curl, wget]: a line, 0 for none */

	if (!lint_runs_any(ctx, curl) || !lint_runs_any(ctx, wget))
		return;
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		const bale_cmd_script *script;
		const bale_cmd *cmds;
		bool onbuild = ins->kind == BALE_INSTR_ONBUILD;
		uint32_t *seen = first[onbuild];
		bool used[2] = {false, false};
		size_t n;

		if (ins->kind == BALE_INSTR_FROM) {
			memset(first, 0, sizeof(first));
			continue;
		}
		if (onbuild && ins->sub)
			ins = ins->sub;
		if (ins->kind != BALE_INSTR_RUN || !(script = lint_script(ctx, i)))
			continue;
		cmds = bale_cmd_script_commands(script, &n);
		for (size_t c = 0; c < n; c++) {
			int k = lint_cmd_is(&cmds[c], "curl")	? 0
				: lint_cmd_is(&cmds[c], "wget") ? 1
								: -1;

			if (k < 0)
				continue;
			used[k] = true;
			if (!seen[k])
				seen[k] = cmds[c].line ? cmds[c].line : ins->start_line;
		}
		if (!(used[0] || used[1]) || !seen[0] || !seen[1])
			continue;
		lint_report(
		    ctx, rule, i, 0, 0,
		    "this stage uses both curl (line %u) and wget (line %u): each is one more "
		    "tool (and its libraries) to install and patch; use one of them",
		    (unsigned)seen[0], (unsigned)seen[1]);
	}
}

/* --- DL4005 ln to /bin/sh ----------------------------------------------------------------------
 */

static void ln_sh(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		  void *arg)
{
	const char *link;

	(void)arg;
	if (cmd->noperands < 2)
		return;
	link = cmd->operands[cmd->noperands - 1]->value;
	if (strcmp(link, "/bin/sh") != 0 && strcmp(link, "/usr/bin/sh") != 0)
		return;
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "'ln ... %s' replaces the shell of the image for every program in it, not "
		    "only for the RUNs of this Dockerfile: set the build's shell with SHELL "
		    "[\"/bin/bash\", \"-c\"] instead",
		    link);
}

static void check_ln_sh(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"ln", NULL};

	lint_each_command(ctx, rule, tools, ln_sh, NULL);
}

/* --- DL4006 pipefail ---------------------------------------------------------------------------
 */

enum shell_kind {
	SHELL_PLAIN,	/* a POSIX shell without pipefail (the default /bin/sh -c) */
	SHELL_PIPEFAIL, /* bash, zsh, ash, ksh with -o pipefail */
	SHELL_OTHER,	/* PowerShell, cmd: not a POSIX shell, the rule does not apply */
};

/* The base name of a program path, without ".exe", in lower case, into buf. */
static void program_name(const char *path, char *buf, size_t size)
{
	const char *base = path;
	size_t n;

	for (const char *p = path; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	snprintf(buf, size, "%s", base);
	for (char *p = buf; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	n = strlen(buf);
	if (n > 4 && strcmp(buf + n - 4, ".exe") == 0)
		buf[n - 4] = '\0';
}

/* Shells that have `set -o pipefail` (hadolint counts bash, zsh and ash; ksh and mksh too). */
static bool has_pipefail(const char *name)
{
	static const char *const shells[] = {"bash", "zsh", "ash", "ksh", "mksh", NULL};

	for (const char *const *s = shells; *s; s++)
		if (strcmp(name, *s) == 0)
			return true;
	return false;
}

/* What a SHELL instruction (its JSON words) makes the RUNs after it run in. */
static enum shell_kind shell_of(const bale_instruction *ins)
{
	char name[64];

	if (ins->nargs == 0)
		return SHELL_PLAIN;
	program_name(ins->args[0], name, sizeof(name));
	if (strcmp(name, "pwsh") == 0 || strcmp(name, "powershell") == 0 ||
	    strcmp(name, "cmd") == 0)
		return SHELL_OTHER;
	if (!has_pipefail(name))
		return SHELL_PLAIN;
	for (size_t a = 1; a + 1 < ins->nargs; a++) {
		const char *v = ins->args[a];
		size_t n = strlen(v);

		/* -o pipefail, or a cluster ending in o: -eo pipefail, -euxo pipefail */
		if (v[0] == '-' && n >= 2 && v[1] != '-' && v[n - 1] == 'o' &&
		    strcmp(ins->args[a + 1], "pipefail") == 0)
			return SHELL_PIPEFAIL;
	}
	return SHELL_PLAIN;
}

static bool is_shell_cmd(const bale_cmd *cmd)
{
	return lint_cmd_is_any(cmd, "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh");
}

/* The shell command whose script cmds[c] is part of (sh -c, bash <<EOF), or BALE_CMD_NONE. */
static size_t script_shell(const bale_cmd *cmds, size_t n, size_t c)
{
	for (size_t p = cmds[c].parent; p != BALE_CMD_NONE && p < n; p = cmds[p].parent)
		if (is_shell_cmd(&cmds[p]) || lint_cmd_is_any(&cmds[p], "su", "runuser"))
			return p;
	return BALE_CMD_NONE;
}

static bool sets_pipefail(const bale_cmd *cmd)
{
	for (size_t o = 0; o < cmd->nopts; o++)
		if (lint_str_eq(cmd->opts[o].name, "-o") && cmd->opts[o].value &&
		    strcmp(cmd->opts[o].value, "pipefail") == 0)
			return true;
	return false;
}

/* The `set -o pipefail` commands of a RUN seen so far (bounded: hostile scripts stay linear). */
struct pipefail_sets {
	size_t at[16];
	size_t n;
};

/*
 * True when pipefail is on for cmds[c]: its shell was started with -o pipefail (or is the
 * SHELL of the stage, when `top` says so), or an earlier `set -o pipefail` of the same script
 * ran where cmds[c] runs (not in a branch, subshell or function it is not in).
 */
static bool pipefail_on(const bale_cmd *cmds, size_t n, size_t c, bool top,
			const struct pipefail_sets *sets)
{
	size_t sh = script_shell(cmds, n, c);
	char name[64];

	if (sh != BALE_CMD_NONE) {
		program_name(cmds[sh].name, name, sizeof(name));
		if (has_pipefail(name) && sets_pipefail(&cmds[sh]))
			return true;
	} else if (top) {
		return true;
	}
	for (size_t s = 0; s < sets->n; s++) {
		size_t k = sets->at[s];

		if (script_shell(cmds, n, k) == sh &&
		    (cmds[k].context & ~cmds[c].context & ~BALE_CMD_IN_CONDITION) == 0)
			return true;
	}
	return false;
}

static void check_pipefail(struct lint_ctx *ctx, const bale_rule *rule)
{
	/* the shell in force at the end of each stage, built in one pass: a stage inherits its
	 * base stage's SHELL, and is built only on earlier stages */
	enum shell_kind *ends = lint_calloc(ctx, ctx->nstages, sizeof(*ends));
	enum shell_kind shell = SHELL_PLAIN;
	size_t stage = BALE_NO_STAGE;

	if (!ends) {
		ctx->err = bale_error_oom();
		return;
	}
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		const bale_cmd_script *script;
		const bale_cmd *cmds;
		struct pipefail_sets sets; /* set for a RUN only: at[] is read up to n */
		enum shell_kind run_shell;
		size_t n, s = lint_stage_of(ctx, i);

		if (ins->kind == BALE_INSTR_FROM) {
			/* without the stage model, each FROM starts over with the default shell */
			if (s == BALE_NO_STAGE || s >= ctx->nstages)
				shell = SHELL_PLAIN;
		}
		if (s != BALE_NO_STAGE && s < ctx->nstages && s != stage) {
			const bale_stage *st = &ctx->stage_list[s];

			stage = s;
			shell = st->base.kind == BALE_REF_STAGE && st->base.stage < s
				    ? ends[st->base.stage]
				    : SHELL_PLAIN;
		}
		if (ins->kind == BALE_INSTR_SHELL)
			shell = shell_of(ins);
		if (stage != BALE_NO_STAGE)
			ends[stage] = shell;
		if (ins->kind != BALE_INSTR_RUN || shell == SHELL_OTHER ||
		    !(script = lint_script(ctx, i)))
			continue;
		/* A heredoc with a shebang runs its own interpreter, not the SHELL. */
		run_shell = shell;
		if (ins->nheredocs && ins->heredocs[0].content &&
		    strncmp(ins->heredocs[0].content, "#!", 2) == 0)
			run_shell = SHELL_PLAIN;
		cmds = bale_cmd_script_commands(script, &n);
		sets.n = 0;
		for (size_t c = 0; c < n; c++) {
			if (lint_cmd_is(&cmds[c], "set") && sets_pipefail(&cmds[c]) &&
			    sets.n < BALE_ARRAY_SIZE(sets.at))
				sets.at[sets.n++] = c;
			if (cmds[c].pipe_next == BALE_CMD_NONE ||
			    pipefail_on(cmds, n, c, run_shell == SHELL_PIPEFAIL && !ins->json,
					&sets))
				continue;
			lint_report(
			    ctx, rule, i, cmds[c].line, cmds[c].col,
			    "'%s | %s': the RUN succeeds when '%s' fails, since a pipeline "
			    "returns the status of its last command: set SHELL [\"/bin/bash\", "
			    "\"-o\", \"pipefail\", \"-c\"] before this RUN (or /bin/ash on "
			    "Alpine)",
			    cmds[c].name[0] ? cmds[c].name : "...",
			    cmds[cmds[c].pipe_next].name[0] ? cmds[cmds[c].pipe_next].name : "...",
			    cmds[c].name[0] ? cmds[c].name : "the first command");
			break;
		}
	}
}

/* --- the catalogue ---------------------------------------------------------------------------- */

const struct lint_rule lint_rule_DL3046 = {
    .meta = {.id = "DL3046",
	     .name = "useradd-no-log-init",
	     .severity = BALE_SEV_WARNING,
	     .summary = "`useradd` without flag `-l` and high UID will result in excessively large "
			"Image",
	     .fix = "add -l (--no-log-init) to useradd",
	     .category = "efficiency"},
    .check = check_useradd,
};

const struct lint_rule lint_rule_DL3047 = {
    .meta = {.id = "DL3047",
	     .name = "wget-progress",
	     .severity = BALE_SEV_INFO,
	     .summary = "`wget` without flag `--progress` will result in excessively bloated build "
			"logs when downloading larger files",
	     .fix = "use `wget --progress=dot:giga <url>`, or -q / -nv",
	     .category = "maintainability"},
    .check = check_wget,
};

const struct lint_rule lint_rule_DL4001 = {
    .meta = {.id = "DL4001",
	     .name = "curl-or-wget",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Either use Wget or Curl but not both",
	     .fix = "use one download tool in the stage (curl or wget), not both",
	     .category = "efficiency"},
    .check = check_curl_and_wget,
};

const struct lint_rule lint_rule_DL4005 = {
    .meta = {.id = "DL4005",
	     .name = "shell-not-ln",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use SHELL to change the default shell",
	     .fix = "use SHELL [\"/bin/bash\", \"-c\"] instead of linking /bin/sh",
	     .category = "correctness"},
    .check = check_ln_sh,
};

const struct lint_rule lint_rule_DL4006 = {
    .meta = {.id = "DL4006",
	     .name = "pipefail",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Set the SHELL option -o pipefail before RUN with a pipe in it",
	     .fix = "add SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] before the RUN (or "
		    "/bin/ash on Alpine)",
	     .category = "correctness"},
    .check = check_pipefail,
};
