/*
 * Rules about the RPM package managers in RUN: yum, dnf (and microdnf, tdnf) and zypper.
 * Each asks for confirmation unless told not to, keeps its download cache and metadata in
 * the layer unless cleaned (or mounted as a BuildKit cache), and installs whatever version the
 * repositories hold that day unless pinned. These are hadolint's DL3030-DL3041, read on the
 * shell model of every RUN and ONBUILD RUN, so `sudo`, `sh -c`, heredocs and variables whose
 * values are known are seen through.
 */
#include "lint/internal.h"

#include <stdio.h>
#include <string.h>

/* --- walking RUN commands --------------------------------------------------------------------- */

static bool sub_is(const bale_cmd *cmd, const char *sub)
{
	return cmd->subcommand && lint_str_eq(cmd->subcommand, sub);
}

static bool first_operand_is(const bale_cmd *cmd, const char *value)
{
	return cmd->noperands > 0 && strcmp(cmd->operands[0]->value, value) == 0;
}

/* The subcommand word as written ("in" for zypper's install), for messages. */
static const char *sub_word(const bale_cmd *cmd)
{
	if (cmd->subcommand_word != BALE_CMD_NONE)
		return cmd->words[cmd->subcommand_word].value;
	return cmd->subcommand ? cmd->subcommand : "";
}

static bool in_set(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

/*
 * True when the RUN mounts a cache (or a tmpfs, which leaves nothing behind either) on one of
 * `dirs`, on a directory above one, or below one.
 */
static bool cache_mounted(const bale_command *run, const char *const *dirs)
{
	for (size_t m = 0; run && m < run->run.nmounts; m++) {
		const bale_mount *mt = &run->run.mounts[m];
		size_t tlen;

		if ((mt->type != BALE_MOUNT_CACHE && mt->type != BALE_MOUNT_TMPFS) || !mt->target)
			continue;
		tlen = strlen(mt->target);
		while (tlen > 1 && mt->target[tlen - 1] == '/')
			tlen--;
		for (const char *const *d = dirs; *d; d++) {
			size_t dlen = strlen(*d);
			size_t k = tlen < dlen ? tlen : dlen;

			if (memcmp(mt->target, *d, k) != 0)
				continue;
			if (tlen == dlen || (tlen < dlen && ((*d)[tlen] == '/' || tlen == 1)) ||
			    (tlen > dlen && mt->target[dlen] == '/'))
				return true;
		}
	}
	return false;
}

/* True when an `rm` among cmds[from..n) removes a path under one of `dirs`. */
static bool removes_under(const bale_cmd *cmds, size_t from, size_t n, const char *const *dirs)
{
	for (size_t c = from; c < n; c++) {
		if (!lint_cmd_is(&cmds[c], "rm"))
			continue;
		for (size_t o = 0; o < cmds[c].noperands; o++)
			for (const char *const *d = dirs; *d; d++)
				if (strncmp(cmds[c].operands[o]->value, *d, strlen(*d)) == 0)
					return true;
	}
	return false;
}

/* --- the yum and dnf family ------------------------------------------------------------------ */

static bool is_yum(const bale_cmd *cmd)
{
	return lint_cmd_is(cmd, "yum");
}

static bool is_dnf(const bale_cmd *cmd)
{
	/* Asked of every command: lint_cmd_is() calls, not a variadic one. */
	return lint_cmd_is(cmd, "dnf") || lint_cmd_is(cmd, "microdnf") || lint_cmd_is(cmd, "tdnf");
}

/* Subcommands that change packages and so ask "Is this ok [y/N]" before they do. */
static bool rpm_asks(const bale_cmd *cmd)
{
	static const char *const direct[] = {
	    "install",	  "reinstall",	 "groupinstall", "groupupdate", "groupremove",
	    "upgrade",	  "upgrade-to",	 "update-to",	 "downgrade",	"remove",
	    "autoremove", "distro-sync", "swap",	 NULL};
	static const char *const group_ops[] = {"install", "upgrade", "update", "remove", NULL};
	static const char *const module_ops[] = {"install", "enable",	 "disable", "reset",
						 "remove",  "switch-to", NULL};

	if (in_set(cmd->subcommand, direct))
		return true;
	if ((sub_is(cmd, "group") || sub_is(cmd, "groups")) && cmd->noperands > 0)
		return in_set(cmd->operands[0]->value, group_ops);
	if (sub_is(cmd, "module") && cmd->noperands > 0)
		return in_set(cmd->operands[0]->value, module_ops);
	return false;
}

/* Subcommands that download packages (and so fill the cache). */
static bool rpm_fills_cache(const bale_cmd *cmd)
{
	static const char *const direct[] = {
	    "install",	 "reinstall", "groupinstall", "groupupdate", "upgrade", "upgrade-to",
	    "update-to", "downgrade", "distro-sync",  "makecache",   "swap",	NULL};
	static const char *const group_ops[] = {"install", "upgrade", "update", NULL};

	if (in_set(cmd->subcommand, direct))
		return true;
	if ((sub_is(cmd, "group") || sub_is(cmd, "groups")) && cmd->noperands > 0)
		return in_set(cmd->operands[0]->value, group_ops);
	return sub_is(cmd, "module") && first_operand_is(cmd, "install");
}

static bool rpm_assumes_yes(const bale_cmd *cmd)
{
	if (lint_has_flag(cmd, "-y", "--assumeyes"))
		return true;
	for (size_t o = 0; o < cmd->nopts; o++) {
		const char *v = cmd->opts[o].value;

		if (lint_str_eq(cmd->opts[o].name, "--setopt") && v &&
		    (strcmp(v, "assumeyes=1") == 0 || strcmp(v, "assumeyes=True") == 0 ||
		     strcmp(v, "assumeyes=true") == 0))
			return true;
	}
	return false;
}

/* The subcommand as the user wrote it ("groupinstall", "group install"), for messages. */
static void describe(const bale_cmd *cmd, char *buf, size_t size)
{
	const char *sub = sub_word(cmd);

	if ((sub_is(cmd, "group") || sub_is(cmd, "groups") || sub_is(cmd, "module")) &&
	    cmd->noperands > 0)
		snprintf(buf, size, "%s %s %s", cmd->name, sub, cmd->operands[0]->value);
	else
		snprintf(buf, size, "%s %s", cmd->name, sub);
}

static const char *const yum_tools[] = {"yum", NULL};
static const char *const dnf_tools[] = {"dnf", "microdnf", "tdnf", NULL};
static const char *const zypper_tools[] = {"zypper", NULL};

static void assume_yes(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		       void *arg)
{
	char what[160];

	(void)arg;
	if (!rpm_asks(cmd) || rpm_assumes_yes(cmd))
		return;
	describe(cmd, what, sizeof(what));
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "'%s' without -y asks for confirmation; a build has no terminal to answer, so "
		    "%s aborts and the build fails: add -y",
		    what, cmd->name);
}

static void check_yum_yes(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, yum_tools, assume_yes, NULL);
}

static void check_dnf_yes(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, dnf_tools, assume_yes, NULL);
}

/* `arg`: the subcommands that upgrade the whole system. */
static void upgrade(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		    void *arg)
{
	if (in_set(cmd->subcommand, arg))
		lint_report(ctx, rule, i, cmd->line, cmd->col,
			    "'%s %s' upgrades the base image's packages in a layer of its own: "
			    "rebuild on a newer base image instead",
			    cmd->name, sub_word(cmd));
}

static void check_yum_update(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const subs[] = {"upgrade", "upgrade-to", "update-to", NULL};

	lint_each_command(ctx, rule, yum_tools, upgrade, (void *)subs);
}

static void check_dnf_upgrade(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const subs[] = {"upgrade", "upgrade-minimal", "update-minimal", NULL};

	lint_each_command(ctx, rule, dnf_tools, upgrade, (void *)subs);
}

/* yum's and dnf's caches: where each keeps its metadata and packages. */
static const char *const rpm_cache_dirs[] = {"/var/cache/yum", "/var/cache/dnf",
					     "/var/cache/libdnf5", "/var/cache/tdnf", NULL};

/* Where this tool keeps its cache (microdnf shares yum's directory). */
static const char *cache_dir_of(const bale_cmd *cmd)
{
	if (lint_cmd_is(cmd, "dnf"))
		return "/var/cache/dnf";
	if (lint_cmd_is(cmd, "tdnf"))
		return "/var/cache/tdnf";
	return "/var/cache/yum";
}

static bool rpm_cleans(const bale_cmd *cmd)
{
	return (is_yum(cmd) || is_dnf(cmd)) && sub_is(cmd, "clean") && first_operand_is(cmd, "all");
}

static void check_clean(struct lint_ctx *ctx, const bale_rule *rule,
			bool (*family)(const bale_cmd *))
{
	for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i)) {
		size_t n, last = BALE_CMD_NONE;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n);
		bool cleaned = false;

		for (size_t c = 0; c < n; c++)
			if (family(&cmds[c]) && rpm_fills_cache(&cmds[c]))
				last = c;
		if (last == BALE_CMD_NONE ||
		    cache_mounted(lint_run_view(ctx, i, true), rpm_cache_dirs))
			continue;
		for (size_t c = last + 1; c < n && !cleaned; c++)
			cleaned = rpm_cleans(&cmds[c]);
		if (cleaned || removes_under(cmds, last + 1, n, rpm_cache_dirs))
			continue;
		lint_report(ctx, rule, i, cmds[last].line, cmds[last].col,
			    "'%s %s' leaves the package cache and repository metadata (%s) in "
			    "this layer: end the RUN with '&& %s clean all', or mount the cache "
			    "with RUN --mount=type=cache,target=%s",
			    cmds[last].name, sub_word(&cmds[last]), cache_dir_of(&cmds[last]),
			    cmds[last].name, cache_dir_of(&cmds[last]));
	}
}

static void check_yum_clean(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"yum", NULL};

	if (lint_runs_any(ctx, tools))
		check_clean(ctx, rule, is_yum);
}

static void check_dnf_clean(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"dnf", "microdnf", "tdnf", NULL};

	if (lint_runs_any(ctx, tools))
		check_clean(ctx, rule, is_dnf);
}

struct pin_style {
	const char *how; /* how a version is written after the name */
	bool typed;	 /* zypper: -t pattern|patch|product installs no package */
};

/*
 * Reports every package of an install command that names no version. Packages given through
 * a variable bale cannot know, groups (@name) and globs are not reported: there is no version
 * to write for them.
 */
static void pins(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		 void *arg)
{
	const struct pin_style *style = arg;
	const char *type = style->typed ? bale_cmd_flag_value(cmd, "-t", "--type", NULL) : NULL;

	if (type && strcmp(type, "package") != 0)
		return;
	for (size_t p = 0; p < cmd->npkgs; p++) {
		const bale_pkg *pkg = &cmd->pkgs[p];
		const bale_cmd_word *w = pkg->word;

		if (pkg->pinned || pkg->name_len == 0 || pkg->name[0] == '@' ||
		    (w && (w->flags & (BALE_WORD_DYNAMIC | BALE_WORD_GLOB))))
			continue;
		lint_report(ctx, rule, i, w ? w->line : 0, w ? w->col : 0,
			    "'%.*s' is not pinned: %s installs whatever version the repositories "
			    "hold on the day of the build; write %.*s%s",
			    (int)pkg->name_len, pkg->name, cmd->name, (int)pkg->name_len, pkg->name,
			    style->how);
	}
}

static const struct pin_style rpm_pins = {"-<version>", false};

static void check_yum_pins(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, yum_tools, pins, (void *)&rpm_pins);
}

static void check_dnf_pins(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, dnf_tools, pins, (void *)&rpm_pins);
}

/* --- zypper ----------------------------------------------------------------------------------- */

static bool is_zypper(const bale_cmd *cmd)
{
	return lint_cmd_is(cmd, "zypper");
}

static void zypper_yes(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		       void *arg)
{
	static const char *const asks[] = {"install", "remove", "source-install", "si",
					   "patch",   "update", "dist-upgrade",	  NULL};

	(void)arg;
	if (!in_set(cmd->subcommand, asks) ||
	    lint_has_flag(cmd, "-n", "--non-interactive", "-y", "--no-confirm"))
		return;
	lint_report(ctx, rule, i, cmd->line, cmd->col,
		    "'zypper %s' without -n (--non-interactive) or -y asks for confirmation that a "
		    "build cannot give: write 'zypper -n %s'",
		    sub_word(cmd), sub_word(cmd));
}

static void check_zypper_yes(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, zypper_tools, zypper_yes, NULL);
}

static void zypper_dup(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		       void *arg)
{
	(void)arg;
	if (sub_is(cmd, "dist-upgrade"))
		lint_report(ctx, rule, i, cmd->line, cmd->col,
			    "'zypper %s' can move the base image to another distribution release "
			    "inside a layer: start from a base image of the release you want",
			    sub_word(cmd));
}

static void check_zypper_dup(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, zypper_tools, zypper_dup, NULL);
}

static void check_zypper_clean(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const fills[] = {"install", "update", "patch", "dist-upgrade", NULL};
	static const char *const dirs[] = {"/var/cache/zypp", NULL};
	static const char *const tools[] = {"zypper", NULL};

	if (!lint_runs_any(ctx, tools))
		return;
	for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i)) {
		size_t n, last = BALE_CMD_NONE;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n);
		bool cleaned = false;

		for (size_t c = 0; c < n; c++)
			if (is_zypper(&cmds[c]) && in_set(cmds[c].subcommand, fills))
				last = c;
		if (last == BALE_CMD_NONE || cache_mounted(lint_run_view(ctx, i, true), dirs))
			continue;
		for (size_t c = last + 1; c < n && !cleaned; c++)
			cleaned = is_zypper(&cmds[c]) && sub_is(&cmds[c], "clean");
		if (cleaned || removes_under(cmds, last + 1, n, dirs))
			continue;
		lint_report(ctx, rule, i, cmds[last].line, cmds[last].col,
			    "'zypper %s' leaves zypper's package cache and metadata "
			    "(/var/cache/zypp) in this layer: end the RUN with '&& zypper clean "
			    "-a', or mount it with RUN --mount=type=cache,target=/var/cache/zypp",
			    sub_word(&cmds[last]));
	}
}

static void check_zypper_pins(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct pin_style zypper_pins = {"=<version>", true};

	lint_each_command(ctx, rule, zypper_tools, pins, (void *)&zypper_pins);
}

/* --- the catalogue ---------------------------------------------------------------------------- */

const struct lint_rule lint_rule_DL3030 = {
    .meta = {.id = "DL3030",
	     .name = "yum-assume-yes",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use the -y switch to avoid manual input `yum install -y <package>`",
	     .fix = "add -y (--assumeyes) to yum install, upgrade, remove, ...",
	     .category = "correctness"},
    .check = check_yum_yes,
};

const struct lint_rule lint_rule_DL3031 = {
    .meta = {.id = "DL3031",
	     .name = "yum-update",
	     .severity = BALE_SEV_NONE,
	     .summary = "Do not use yum update (off by default: hadolint dropped it in 2.7)",
	     .fix = "rebuild on an up-to-date base image rather than upgrading in a layer",
	     .category = "reproducibility"},
    .check = check_yum_update,
};

const struct lint_rule lint_rule_DL3032 = {
    .meta = {.id = "DL3032",
	     .name = "yum-clean-all",
	     .severity = BALE_SEV_WARNING,
	     .summary = "`yum clean all` missing after yum command",
	     .fix = "end the RUN with `&& yum clean all`, or use RUN "
		    "--mount=type=cache,target=/var/cache/yum",
	     .category = "efficiency"},
    .check = check_yum_clean,
};

const struct lint_rule lint_rule_DL3033 = {
    .meta = {.id = "DL3033",
	     .name = "pin-yum-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Specify version with `yum install -y <package>-<version>`",
	     .fix = "instead of `yum install <package>` use `yum install <package>-<version>`",
	     .category = "reproducibility"},
    .check = check_yum_pins,
};

const struct lint_rule lint_rule_DL3034 = {
    .meta = {.id = "DL3034",
	     .name = "zypper-non-interactive",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Non-interactive switch missing from `zypper` command: `zypper install -y`",
	     .fix = "write `zypper -n install ...` (or add -y to the subcommand)",
	     .category = "correctness"},
    .check = check_zypper_yes,
};

const struct lint_rule lint_rule_DL3035 = {
    .meta = {.id = "DL3035",
	     .name = "zypper-dist-upgrade",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Do not use `zypper dist-upgrade`",
	     .fix = "start from a base image of the distribution release you need",
	     .category = "reproducibility"},
    .check = check_zypper_dup,
};

const struct lint_rule lint_rule_DL3036 = {
    .meta = {.id = "DL3036",
	     .name = "zypper-clean",
	     .severity = BALE_SEV_WARNING,
	     .summary = "`zypper clean` missing after zypper use",
	     .fix = "end the RUN with `&& zypper clean -a`, or use RUN "
		    "--mount=type=cache,target=/var/cache/zypp",
	     .category = "efficiency"},
    .check = check_zypper_clean,
};

const struct lint_rule lint_rule_DL3037 = {
    .meta = {.id = "DL3037",
	     .name = "pin-zypper-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Specify version with `zypper install -y <package>=<version>`",
	     .fix = "instead of `zypper install <package>` use `zypper install "
		    "<package>=<version>`",
	     .category = "reproducibility"},
    .check = check_zypper_pins,
};

const struct lint_rule lint_rule_DL3038 = {
    .meta = {.id = "DL3038",
	     .name = "dnf-assume-yes",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use the -y switch to avoid manual input `dnf install -y <package>`",
	     .fix = "add -y (--assumeyes) to dnf/microdnf install, upgrade, remove, ...",
	     .category = "correctness"},
    .check = check_dnf_yes,
};

const struct lint_rule lint_rule_DL3039 = {
    .meta = {.id = "DL3039",
	     .name = "dnf-upgrade",
	     .severity = BALE_SEV_NONE,
	     .summary = "Do not use dnf update (off by default: hadolint dropped it in 2.7)",
	     .fix = "rebuild on an up-to-date base image rather than upgrading in a layer",
	     .category = "reproducibility"},
    .check = check_dnf_upgrade,
};

const struct lint_rule lint_rule_DL3040 = {
    .meta = {.id = "DL3040",
	     .name = "dnf-clean-all",
	     .severity = BALE_SEV_WARNING,
	     .summary = "`dnf clean all` missing after dnf command",
	     .fix = "end the RUN with `&& dnf clean all`, or use RUN "
		    "--mount=type=cache,target=/var/cache/dnf",
	     .category = "efficiency"},
    .check = check_dnf_clean,
};

const struct lint_rule lint_rule_DL3041 = {
    .meta = {.id = "DL3041",
	     .name = "pin-dnf-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Specify version with `dnf install -y <package>-<version>`",
	     .fix = "instead of `dnf install <package>` use `dnf install <package>-<version>`",
	     .category = "reproducibility"},
    .check = check_dnf_pins,
};
