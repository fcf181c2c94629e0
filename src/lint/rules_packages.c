/*
 * Rules about language and distribution package managers other than apt in RUN: version pins
 * (pip, npm, apk, gem) and apk's cache. Packages are read by the shell model with each tool's
 * option table and pin syntax (bale_pkg), so option values (`--virtual .deps`, `-r req.txt`,
 * `-i URL`) are never taken for packages, and a package named through a variable whose value is
 * not known is left alone.
 */
#include "lint/internal.h"

#include <string.h>

/* --- helpers ------------------------------------------------------------------------------ */

static bool subcommand_is(const bale_cmd *cmd, const char *sub)
{
	const char *s = bale_cmd_subcommand(cmd);

	return s && lint_str_eq(s, sub);
}

/* Reports each package of `cmd` that is not pinned; `how` shows the pin syntax, `how_vcs` the
 * one for a git or other VCS reference (NULL: `how` for every package). */
static void report_unpinned_vcs(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
				const bale_cmd *cmd, const char *how, const char *how_vcs)
{
	const bale_pkg *pkgs;
	size_t n;

	pkgs = bale_cmd_packages(cmd, &n);
	for (size_t p = 0; p < n; p++) {
		const bale_cmd_word *w = pkgs[p].word;

		if (pkgs[p].pinned || (w && (w->flags & BALE_WORD_DYNAMIC)))
			continue;
		lint_report(ctx, rule, instr, w ? w->line : 0, w ? w->col : 0,
			    "'%.*s' is not pinned: '%s %s' installs whatever version is newest on "
			    "the day of the build; write %.*s%s",
			    (int)pkgs[p].name_len, pkgs[p].name, cmd->name,
			    cmd->subcommand ? cmd->subcommand : "", (int)pkgs[p].name_len,
			    pkgs[p].name,
			    how_vcs && pkgs[p].source == BALE_PKG_URL ? how_vcs : how);
	}
}

static void report_unpinned(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			    const bale_cmd *cmd, const char *how)
{
	report_unpinned_vcs(ctx, rule, instr, cmd, how, NULL);
}

/* --- DL3013 ------------------------------------------------------------------------------- */

static void pip_pins(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, const bale_cmd *cmd,
		     void *arg)
{
	(void)arg;
	/* A constraints file pins what the command line names. */
	if (!subcommand_is(cmd, "install") || lint_has_flag(cmd, "-c", "--constraint") ||
	    bale_cmd_assignment(cmd, "PIP_CONSTRAINT") ||
	    lint_var(ctx, instr, "PIP_CONSTRAINT", strlen("PIP_CONSTRAINT")))
		return;
	report_unpinned(ctx, rule, instr, cmd, "==<version> (or install from a requirements file)");
}

static void check_pip(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"pip", NULL};

	lint_each_command(ctx, rule, tools, pip_pins, NULL);
}

const struct lint_rule lint_rule_DL3013 = {
    .meta = {.id = "DL3013",
	     .name = "pin-pip-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in pip",
	     .fix = "instead of `pip install <package>` use `pip install <package>==<version>` or "
		    "`pip install --requirement <requirements file>`",
	     .category = "reproducibility"},
    .check = check_pip,
};

/* --- DL3016 ------------------------------------------------------------------------------- */

static void npm_pins(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, const bale_cmd *cmd,
		     void *arg)
{
	(void)arg;
	/* npm install (npm i, npm add); yarn add and pnpm add, which do the same. */
	if (!subcommand_is(cmd, lint_cmd_is(cmd, "npm") ? "install" : "add"))
		return;
	report_unpinned_vcs(ctx, rule, instr, cmd, "@<version>", "#<tag or commit>");
}

static void check_npm(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"npm", "yarn", "pnpm", NULL};

	lint_each_command(ctx, rule, tools, npm_pins, NULL);
}

const struct lint_rule lint_rule_DL3016 = {
    .meta = {.id = "DL3016",
	     .name = "pin-npm-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in npm",
	     .fix = "instead of `npm install <package>` use `npm install <package>@<version>`",
	     .category = "reproducibility"},
    .check = check_npm,
};

/* --- DL3017 ------------------------------------------------------------------------------- */

static void apk_upgrade(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			const bale_cmd *cmd, void *arg)
{
	(void)arg;
	if (!subcommand_is(cmd, "upgrade"))
		return;
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apk upgrade' replaces packages of the base image in this layer, so the "
		    "image holds both copies and differs from build to build; build on a newer "
		    "base image instead");
}

static void check_apk_upgrade(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"apk", NULL};

	lint_each_command(ctx, rule, tools, apk_upgrade, NULL);
}

/* Retired by hadolint (security updates are welcome); off unless the configuration asks. */
const struct lint_rule lint_rule_DL3017 = {
    .meta = {.id = "DL3017",
	     .name = "no-apk-upgrade",
	     .severity = BALE_SEV_NONE,
	     .summary = "Do not use apk upgrade",
	     .fix = "build on a newer base image instead of upgrading in a layer",
	     .category = "reproducibility"},
    .check = check_apk_upgrade,
};

/* --- DL3018 ------------------------------------------------------------------------------- */

static void apk_pins(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, const bale_cmd *cmd,
		     void *arg)
{
	(void)arg;
	if (subcommand_is(cmd, "add"))
		report_unpinned(ctx, rule, instr, cmd, "=<version>");
}

static void check_apk_pins(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"apk", NULL};

	lint_each_command(ctx, rule, tools, apk_pins, NULL);
}

const struct lint_rule lint_rule_DL3018 = {
    .meta = {.id = "DL3018",
	     .name = "pin-apk-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in apk add. Instead of `apk add <package>` use `apk add "
			"<package>=<version>`",
	     .fix = "write `apk add <package>=<version>` (or `<package>~<major.minor>`)",
	     .category = "reproducibility"},
    .check = check_apk_pins,
};

/* --- DL3019 ------------------------------------------------------------------------------- */

/* True when `dir` (a trailing "/" or "/\*" ignored) is `path` or a directory above it. */
static bool covers(const char *dir, size_t len, const char *path)
{
	if (len >= 2 && dir[len - 1] == '*' && dir[len - 2] == '/')
		len--;
	while (len > 1 && dir[len - 1] == '/')
		len--;
	return len > 1 && dir[0] == '/' && strncmp(path, dir, len) == 0 &&
	       (path[len] == '\0' || path[len] == '/');
}

#define APK_CACHE "/var/cache/apk"

/* True when the RUN mounts a cache or tmpfs over apk's cache (or its /etc/apk/cache link). */
static bool apk_cache_mounted(const struct lint_ctx *ctx, size_t instr)
{
	const bale_command *c = lint_command(ctx, instr);

	if (c && c->kind == BALE_INSTR_ONBUILD)
		c = c->onbuild.trigger;
	for (size_t m = 0; c && c->kind == BALE_INSTR_RUN && m < c->run.nmounts; m++) {
		const bale_mount *mt = &c->run.mounts[m];

		if ((mt->type == BALE_MOUNT_CACHE || mt->type == BALE_MOUNT_TMPFS) && mt->target &&
		    (covers(mt->target, strlen(mt->target), APK_CACHE) ||
		     covers(mt->target, strlen(mt->target), "/etc/apk/cache")))
			return true;
	}
	return false;
}

/* True when a command after `cmd` (in `all`) removes what is in /var/cache/apk. */
static bool cache_removed_after(const bale_cmd *cmd, const bale_cmd *all, size_t n)
{
	for (size_t k = (size_t)(cmd - all) + 1; k < n; k++) {
		if (!lint_cmd_is(&all[k], "rm"))
			continue;
		for (size_t o = 0; o < all[k].noperands; o++) {
			const bale_cmd_word *w = all[k].operands[o];

			if (!(w->flags & BALE_WORD_DYNAMIC) && covers(w->value, w->len, APK_CACHE))
				return true;
		}
	}
	return false;
}

static void apk_no_cache(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 const bale_cmd *cmd, void *arg)
{
	size_t n;
	const bale_cmd *all = bale_cmd_script_commands(lint_script(ctx, instr), &n);

	(void)arg;
	if (!subcommand_is(cmd, "add") || lint_has_flag(cmd, "--no-cache") ||
	    apk_cache_mounted(ctx, instr) || cache_removed_after(cmd, all, n))
		return;
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apk add' without --no-cache leaves the package index in " APK_CACHE " in "
		    "this layer; use 'apk add --no-cache' (no 'apk update' needed), or mount a "
		    "cache there (--mount=type=cache,target=" APK_CACHE ")");
}

static void check_apk_cache(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"apk", NULL};

	lint_each_command(ctx, rule, tools, apk_no_cache, NULL);
}

const struct lint_rule lint_rule_DL3019 = {
    .meta = {.id = "DL3019",
	     .name = "apk-no-cache",
	     .severity = BALE_SEV_INFO,
	     .summary = "Use the `--no-cache` switch to avoid the need to use `--update` and "
			"remove `/var/cache/apk/*` when done installing packages",
	     .fix = "write `apk add --no-cache <package>`",
	     .category = "efficiency"},
    .check = check_apk_cache,
};

/* --- DL3028 ------------------------------------------------------------------------------- */

static void gem_pins(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, const bale_cmd *cmd,
		     void *arg)
{
	(void)arg;
	if (subcommand_is(cmd, "install"))
		report_unpinned(ctx, rule, instr, cmd, ":<version> (or -v <version>)");
}

static void check_gem(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"gem", NULL};

	lint_each_command(ctx, rule, tools, gem_pins, NULL);
}

const struct lint_rule lint_rule_DL3028 = {
    .meta = {.id = "DL3028",
	     .name = "pin-gem-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in gem install. Instead of `gem install <gem>` use `gem "
			"install <gem>:<version>`",
	     .fix = "write `gem install <gem>:<version>` (or `gem install <gem> -v <version>`)",
	     .category = "reproducibility"},
    .check = check_gem,
};
