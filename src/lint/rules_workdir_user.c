/*
 * Rules about where commands run and as whom: WORKDIR paths, `cd` in RUN, sudo, and the user
 * the shipped image runs as. Values written through a variable ($APP_HOME, ${RUN_AS}) are
 * judged by the ARG or ENV value known at that point, and left alone when it is not known.
 */
#include "lint/internal.h"

#include <string.h>

/* --- helpers ------------------------------------------------------------------------------ */

/* `s` without one pair of matching surrounding quotes; *len is its length. */
static const char *unquote(const char *s, size_t *len)
{
	size_t n = strlen(s);

	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		*len = n - 2;
		return s + 1;
	}
	*len = n;
	return s;
}

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * When `s` (len bytes) starts with a plain variable reference ($NAME or ${NAME}) whose value
 * is known at instruction `instr`, returns that value and sets *rest to what follows the
 * reference; otherwise NULL.
 */
static const char *leading_var(const struct lint_ctx *ctx, size_t instr, const char *s, size_t len,
			       const char **rest)
{
	size_t start, end;
	bool brace;

	if (len < 2 || s[0] != '$')
		return NULL;
	brace = s[1] == '{';
	start = end = brace ? 2 : 1;
	while (end < len && name_char(s[end], end == start))
		end++;
	if (end == start || (brace && (end >= len || s[end] != '}')))
		return NULL;
	*rest = s + end + brace;
	return lint_var(ctx, instr, s + start, end - start);
}

/* The instruction itself, or the one an ONBUILD wraps. */
static const bale_instruction *unwrap(const bale_instruction *ins)
{
	return ins->kind == BALE_INSTR_ONBUILD && ins->sub ? ins->sub : ins;
}

/* --- DL3000 ------------------------------------------------------------------------------- */

/* Absolute for Linux (/x) and for Windows images (C:\x, C:/x, \x). */
static bool absolute_path(const char *s, size_t len)
{
	return (len > 0 && (s[0] == '/' || s[0] == '\\')) ||
	       (len > 1 && ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && s[1] == ':');
}

static void check_workdir(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	/* The WORKDIR instructions and the ONBUILD ones (their trigger may be one). */
	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_WORKDIR, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = unwrap(&ctx->instrs[i]);
		const char *path, *value, *rest = NULL;
		size_t len;

		if (ins->kind != BALE_INSTR_WORKDIR || ins->nargs == 0)
			continue;
		path = unquote(ins->args[0], &len);
		if (absolute_path(path, len))
			continue;
		if (len > 0 && path[0] == '$') {
			/* Judged by the variable's value; an unknown value may well be absolute. */
			value = leading_var(ctx, i, path, len, &rest);
			if (!value || absolute_path(value, strlen(value)) ||
			    (!value[0] && absolute_path(rest, len - (size_t)(rest - path))))
				continue;
			lint_report(
			    ctx, rule, i, 0, 0,
			    "WORKDIR '%.*s' is relative ('%s%.*s'): it is resolved against "
			    "the working directory in force, which the base image sets and may "
			    "change; write an absolute path",
			    (int)len, path, value, (int)(len - (size_t)(rest - path)), rest);
			continue;
		}
		lint_report(ctx, rule, i, 0, 0,
			    "WORKDIR '%.*s' is relative: it is resolved against the working "
			    "directory in force%s, which the base image sets and may change; write "
			    "the absolute path",
			    (int)len, path,
			    ins != &ctx->instrs[i] ? " in the image that runs this ONBUILD" : "");
	}
}

const struct lint_rule lint_rule_DL3000 = {
    .meta = {.id = "DL3000",
	     .name = "absolute-workdir",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Use absolute WORKDIR",
	     .fix = "write WORKDIR with an absolute path, e.g. WORKDIR /app",
	     .category = "correctness"},
    .check = check_workdir,
};

/* --- DL3002 ------------------------------------------------------------------------------- */

static bool is_root(const char *user, size_t len)
{
	return (len == 4 && memcmp(user, "root", 4) == 0) || (len == 1 && user[0] == '0') ||
	       (len > 4 && memcmp(user, "root:", 5) == 0) ||
	       (len > 1 && memcmp(user, "0:", 2) == 0);
}

/*
 * The image that ships runs as the last USER of the target stage, or, when it has none, of
 * the stage it is built FROM (and so on up). Builder stages do not ship: their USER is theirs.
 */
static void check_last_user(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t s = ctx->target, found = SIZE_MAX;
	const char *user, *value, *rest = NULL;
	size_t len;

	for (size_t hops = 0; s < ctx->nstages && hops < ctx->nstages && found == SIZE_MAX;
	     hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t i = st->end; i-- > st->instruction + 1 && found == SIZE_MAX;)
			if (ctx->instrs[i].kind == BALE_INSTR_USER && ctx->instrs[i].nargs > 0)
				found = i;
		if (found != SIZE_MAX || st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
	}
	if (found == SIZE_MAX)
		return;
	user = unquote(ctx->instrs[found].args[0], &len);
	if (len > 0 && user[0] == '$' && (value = leading_var(ctx, found, user, len, &rest)) &&
	    rest == user + len) {
		user = value;
		len = strlen(value);
	}
	if (!is_root(user, len))
		return;
	lint_report(ctx, rule, found, 0, 0,
		    "the image ships running as '%.*s': this is the last USER %s; a process that "
		    "breaks out of the application has root in the container; switch to an "
		    "unprivileged user (a numeric UID such as USER 10001) after the steps that "
		    "need root",
		    (int)len, user,
		    s == ctx->target ? "of the stage that ships"
				     : "of a stage the shipped stage is built FROM");
}

const struct lint_rule lint_rule_DL3002 = {
    .meta = {.id = "DL3002",
	     .name = "last-user-not-root",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Last USER should not be root",
	     .fix = "end the stage that ships with USER <non-root uid>, e.g. USER 10001",
	     .category = "security"},
    .check = check_last_user,
    .needs_stages = true,
};

/* --- DL3003 ------------------------------------------------------------------------------- */

/* True when an rm -r after command `c` removes the directory `cd` went to (build, then clean). */
static bool removed_later(const bale_cmd *cmds, size_t n, size_t c, const bale_cmd_word *dir)
{
	size_t dlen = dir->len;

	while (dlen > 1 && dir->value[dlen - 1] == '/')
		dlen--;
	for (size_t k = c + 1; k < n; k++) {
		if (!lint_cmd_is(&cmds[k], "rm") ||
		    !lint_has_flag(&cmds[k], "-r", "-R", "--recursive"))
			continue;
		for (size_t o = 0; o < cmds[k].noperands; o++) {
			const bale_cmd_word *w = cmds[k].operands[o];
			size_t wlen = w->len;

			while (wlen > 1 && w->value[wlen - 1] == '/')
				wlen--;
			/* The same path, or (absolute) a directory above it. */
			if (wlen <= dlen && memcmp(w->value, dir->value, wlen) == 0 &&
			    (wlen == dlen || (w->value[0] == '/' && dir->value[wlen] == '/')))
				return true;
		}
	}
	return false;
}

/*
 * True when the RUN is a build-and-clean sequence: it cds into a directory and removes it at
 * the end (cd /tmp/src && make install && cd / && rm -rf /tmp/src). WORKDIR would leave the
 * directory behind; every cd of such a RUN is part of the pattern.
 */
static bool builds_and_cleans(const bale_cmd *cmds, size_t n)
{
	for (size_t c = 0; c < n; c++)
		if (lint_cmd_is(&cmds[c], "cd") && cmds[c].noperands &&
		    removed_later(cmds, n, c, cmds[c].operands[0]))
			return true;
	return false;
}

/* `last` (the arg) is the RUN already judged: one finding per RUN, one WORKDIR fixes it. */
static void cd_command(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
		       const bale_cmd *cmd, void *arg)
{
	size_t *last = arg, n;
	const bale_cmd *cmds;
	const char *dir;

	/* A cd in a subshell, the form the reference recommends, ends with it. */
	if (*last == instr || (cmd->context & (BALE_CMD_IN_SUBSHELL | BALE_CMD_IN_SUBST)))
		return;
	*last = instr;
	cmds = bale_cmd_script_commands(lint_script(ctx, instr), &n);
	if (builds_and_cleans(cmds, n))
		return;
	dir = cmd->noperands ? cmd->operands[0]->value : "<dir>";
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'cd %s' changes the directory for the rest of this RUN only; set WORKDIR %s "
		    "for the steps that need it, or keep the cd in a subshell: (cd %s && ...)",
		    cmd->noperands ? dir : "", dir, dir);
}

static void check_cd(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const cd[] = {"cd", NULL};
	size_t last = SIZE_MAX;

	lint_each_command(ctx, rule, cd, cd_command, &last);
}

const struct lint_rule lint_rule_DL3003 = {
    .meta = {.id = "DL3003",
	     .name = "use-workdir",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use WORKDIR to switch to a directory",
	     .fix =
		 "set WORKDIR /path before the RUN, or run the cd in a subshell: (cd dir && make)",
	     .category = "maintainability"},
    .check = check_cd,
};

/* --- DL3004 ------------------------------------------------------------------------------- */

static void check_sudo(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i)) {
		size_t n;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n);

		/* Every command: most have no wrapper to look through. One finding per RUN. */
		for (size_t c = 0; c < n; c++) {
			const bale_cmd *cmd = &cmds[c];
			bool bare = lint_cmd_is(cmd, "sudo");

			if (!bare && (!cmd->nwrappers || !bale_cmd_has_wrapper(cmd, "sudo")))
				continue;
			lint_report(
			    ctx, rule, i, cmd->line, cmd->col,
			    "sudo in RUN%s%s: the build runs as the USER in force and sudo "
			    "adds its own environment and tty rules (and a setuid binary in "
			    "the image); switch with USER root for the steps that need it, "
			    "and drop privileges at run time with gosu or su-exec",
			    bare ? "" : " for ", bare ? "" : cmd->name);
			break;
		}
	}
}

const struct lint_rule lint_rule_DL3004 = {
    .meta = {.id = "DL3004",
	     .name = "no-sudo",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Do not use sudo as it leads to unpredictable behavior. Use a tool like "
			"gosu to enforce root",
	     .fix = "use USER root before the RUN (and USER <app> after it); gosu or su-exec at "
		    "run time",
	     .category = "security"},
    .check = check_sudo,
};
