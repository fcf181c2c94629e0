/* Rules about apt-get in RUN: pinning, caches, prompts, recommends. */
#include "lint/internal.h"

#include <string.h>

/* Calls `fn` for every command of every RUN (ONBUILD RUN included) that runs `tool`. */
static void each_command(struct lint_ctx *ctx, const bale_rule *rule, const char *tool,
			 void (*fn)(struct lint_ctx *, const bale_rule *, size_t, const bale_cmd *))
{
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		const bale_cmd_script *script;
		const bale_cmd *cmds;
		size_t n;

		if (ins->kind == BALE_INSTR_ONBUILD && ins->sub)
			ins = ins->sub;
		if (ins->kind != BALE_INSTR_RUN || !(script = lint_script(ctx, i)))
			continue;
		cmds = bale_cmd_script_commands(script, &n);
		for (size_t c = 0; c < n; c++)
			if (bale_cmd_is(&cmds[c], tool))
				fn(ctx, rule, i, &cmds[c]);
	}
}

static void pin_versions(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 const bale_cmd *cmd)
{
	const bale_pkg *pkgs;
	size_t n;

	if (!bale_cmd_subcommand(cmd) || strcmp(bale_cmd_subcommand(cmd), "install") != 0)
		return;
	pkgs = bale_cmd_packages(cmd, &n);
	for (size_t p = 0; p < n; p++) {
		if (pkgs[p].pinned || (pkgs[p].word && (pkgs[p].word->flags & BALE_WORD_DYNAMIC)))
			continue;
		lint_report(ctx, rule, instr, pkgs[p].word ? pkgs[p].word->line : 0,
			    pkgs[p].word ? pkgs[p].word->col : 0,
			    "'%.*s' is not pinned: apt-get installs whatever version the archive "
			    "has that day; write %.*s=<version>",
			    (int)pkgs[p].name_len, pkgs[p].name, (int)pkgs[p].name_len,
			    pkgs[p].name);
	}
}

static void check_pin(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_command(ctx, rule, "apt-get", pin_versions);
}

const struct lint_rule lint_rule_DL3008 = {
    .meta = {.id = "DL3008",
	     .name = "pin-apt-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in apt-get install",
	     .fix = "instead of `apt-get install <package>` use "
		    "`apt-get install <package>=<version>`",
	     .category = "reproducibility"},
    .check = check_pin,
};
