/*
 * Rules about language package managers in RUN: pip's download cache (DL3042), yarn's cache
 * (DL3060) and go modules installed without a version (DL3062). A cache is fine where BuildKit
 * mounts it (RUN --mount=type=cache): that is the preferred fix, and never reported.
 */
#include "lint/internal.h"

#include <string.h>
#include <strings.h>

/* True when a cache or tmpfs mount's target holds one of `needles` ("/.cache", "yarn"). */
static bool mount_holds(const bale_command *run, const char *const *needles)
{
	for (size_t m = 0; run && m < run->run.nmounts; m++) {
		const bale_mount *mt = &run->run.mounts[m];

		if ((mt->type != BALE_MOUNT_CACHE && mt->type != BALE_MOUNT_TMPFS) || !mt->target)
			continue;
		for (const char *const *nd = needles; *nd; nd++)
			if (strstr(mt->target, *nd))
				return true;
	}
	return false;
}

/* True when `path` is a cache or tmpfs mount's target or below one. */
static bool under_mount(const bale_command *run, const char *path)
{
	for (size_t m = 0; run && path && m < run->run.nmounts; m++) {
		const bale_mount *mt = &run->run.mounts[m];
		size_t n;

		if ((mt->type != BALE_MOUNT_CACHE && mt->type != BALE_MOUNT_TMPFS) || !mt->target)
			continue;
		n = strlen(mt->target);
		while (n > 1 && mt->target[n - 1] == '/')
			n--;
		if (strncmp(path, mt->target, n) == 0 && (path[n] == '\0' || path[n] == '/'))
			return true;
	}
	return false;
}

/*
 * The value `name` has for cmds[c]: its own NAME=v prefix, an `export NAME=v` that ran before
 * it in the script, or the ARG/ENV value in scope. NULL when none is known.
 */
static const char *env_value(struct lint_ctx *ctx, size_t i, const bale_cmd *cmds, size_t c,
			     const char *name)
{
	size_t len = strlen(name);
	const char *v = bale_cmd_assignment(&cmds[c], name);

	if (v)
		return v;
	for (size_t k = c; k-- > 0;) {
		if (!lint_cmd_is(&cmds[k], "export"))
			continue;
		for (size_t w = 1; w < cmds[k].nwords; w++) {
			const char *word = cmds[k].words[w].value;

			if (strncmp(word, name, len) == 0 && word[len] == '=')
				return word + len + 1;
		}
	}
	return lint_var(ctx, i, name, len);
}

/* --- DL3042 pip --no-cache-dir ---------------------------------------------------------------- */

/*
 * pip reads PIP_NO_CACHE_DIR as a boolean and, for compatibility with its old inverted
 * reading, disables the cache for any valid one: "0" and "false" included.
 */
static bool pip_bool(const char *v)
{
	static const char *const words[] = {"1",   "0", "true", "false", "yes", "no", "on",
					    "off", "y", "n",	"t",	 "f",	NULL};

	for (const char *const *w = words; v && *w; w++)
		if (strcasecmp(v, *w) == 0)
			return true;
	return false;
}

static void check_pip_cache(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const cache_dirs[] = {"/.cache", "pip", NULL};
	static const char *const tools[] = {"pip", NULL};
	struct lint_walk w;
	const bale_cmd *cmd;
	size_t i;

	/* The pip commands in file order, each read with the commands of its RUN. */
	lint_walk_init(ctx, &w, tools);
	while ((cmd = lint_walk_next(ctx, &w, &i))) {
		size_t n;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n);
		size_t c = (size_t)(cmd - cmds);
		const bale_command *run;
		const char *dir;

		if (!cmd->subcommand || strcmp(cmd->subcommand, "install") != 0 ||
		    lint_has_flag(cmd, "--no-cache-dir"))
			continue;
		if (pip_bool(env_value(ctx, i, cmds, c, "PIP_NO_CACHE_DIR")))
			continue;
		run = lint_run_view(ctx, i, true);
		dir = bale_cmd_flag_value(cmd, "--cache-dir", NULL);
		if (!dir)
			dir = env_value(ctx, i, cmds, c, "PIP_CACHE_DIR");
		if (dir ? under_mount(run, dir) : mount_holds(run, cache_dirs))
			continue;
		lint_report(ctx, rule, i, cmd->line, cmd->col,
			    "'pip install' keeps every downloaded wheel in pip's cache "
			    "(~/.cache/pip), which stays in the layer: add --no-cache-dir, "
			    "or mount the cache with RUN "
			    "--mount=type=cache,target=/root/.cache/pip");
	}
}

/* --- DL3060 yarn cache clean ------------------------------------------------------------------ */

/* `yarn`, `yarn install`, `yarn add x`, `yarn global add x`: they fill yarn's cache. */
static bool yarn_installs(const bale_cmd *cmd)
{
	const char *sub = cmd->subcommand;

	if (!lint_cmd_is(cmd, "yarn") || !sub)
		return false;
	/* bare `yarn` installs, but `yarn --version` does not */
	if (cmd->subcommand_word == BALE_CMD_NONE &&
	    lint_has_flag(cmd, "--version", "-v", "--help", "-h"))
		return false;
	if (strcmp(sub, "install") == 0 || strcmp(sub, "add") == 0)
		return true;
	return strcmp(sub, "global") == 0 && cmd->noperands > 0 &&
	       strcmp(cmd->operands[0]->value, "add") == 0;
}

static bool yarn_cleans(const bale_cmd *cmd)
{
	if (lint_cmd_is(cmd, "yarn"))
		return cmd->subcommand && strcmp(cmd->subcommand, "cache") == 0 &&
		       cmd->noperands > 0 && strcmp(cmd->operands[0]->value, "clean") == 0;
	if (lint_cmd_is(cmd, "rm"))
		for (size_t o = 0; o < cmd->noperands; o++) {
			const char *v = cmd->operands[o]->value;

			if (strstr(v, "yarn") && strstr(v, "cache"))
				return true;
		}
	return false;
}

static void check_yarn_cache(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const cache_dirs[] = {"yarn", "/.cache", NULL};
	static const char *const tools[] = {"yarn", NULL};

	if (!lint_runs_any(ctx, tools))
		return;
	for (size_t i = lint_first_run(ctx); i < ctx->ninstrs; i = lint_next_run(ctx, i)) {
		size_t n, last = BALE_CMD_NONE;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n);
		const bale_command *run;
		const char *dir;
		bool cleaned = false;

		for (size_t c = 0; c < n; c++)
			if (yarn_installs(&cmds[c]))
				last = c;
		if (last == BALE_CMD_NONE)
			continue;
		for (size_t c = last + 1; c < n && !cleaned; c++)
			cleaned = yarn_cleans(&cmds[c]);
		run = lint_run_view(ctx, i, true);
		dir = bale_cmd_flag_value(&cmds[last], "--cache-folder", NULL);
		if (!dir)
			dir = env_value(ctx, i, cmds, last, "YARN_CACHE_FOLDER");
		if (cleaned || (dir ? under_mount(run, dir) : mount_holds(run, cache_dirs)))
			continue;
		lint_report(ctx, rule, i, cmds[last].line, cmds[last].col,
			    "'yarn %s' leaves yarn's package cache in the layer: end the RUN with "
			    "'&& yarn cache clean', or mount the cache with RUN "
			    "--mount=type=cache,target=/usr/local/share/.cache/yarn",
			    cmds[last].subcommand_word != BALE_CMD_NONE
				? cmds[last].words[cmds[last].subcommand_word].value
				: "install");
	}
}

/* --- DL3062 go install pinning ---------------------------------------------------------------- */

/* A module path names a host: its first element holds a dot (example.com/x, golang.org/x). */
static bool module_path(const char *s)
{
	size_t first = strcspn(s, "/@");

	return memchr(s, '.', first) != NULL && s[0] != '.' && s[0] != '/';
}

static bool go_file(const char *s)
{
	size_t n = strlen(s);

	return n > 3 && strcmp(s + n - 3, ".go") == 0;
}

static void go_pins(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_cmd *cmd,
		    void *arg)
{
	const char *sub = cmd->subcommand;

	(void)arg;
	if (!sub)
		return;
	if (lint_str_eq(sub, "install") || lint_str_eq(sub, "get")) {
		for (size_t p = 0; p < cmd->npkgs; p++) {
			const bale_pkg *pkg = &cmd->pkgs[p];
			const bale_cmd_word *w = pkg->word;

			/*
			 * Only modules fetched from a host: a package of the current module, of
			 * the standard library or a local path builds what the build context
			 * holds. @none removes a requirement.
			 */
			if (pkg->pinned || !module_path(pkg->spec) || go_file(pkg->spec) ||
			    (pkg->version && strcmp(pkg->version, "none") == 0) ||
			    (w && (w->flags & BALE_WORD_DYNAMIC)))
				continue;
			lint_report(ctx, rule, i, w ? w->line : 0, w ? w->col : 0,
				    "'%.*s' %s: 'go %s' then builds whatever the module's "
				    "latest release is that day; write %.*s@<version>",
				    (int)pkg->name_len, pkg->name,
				    pkg->version ? "names a moving version" : "has no version", sub,
				    (int)pkg->name_len, pkg->name);
		}
		return;
	}
	if (lint_str_eq(sub, "run") && cmd->noperands > 0) {
		/* only the package: what follows is the program's own arguments */
		const bale_cmd_word *w = cmd->operands[0];
		bale_pkg pkg;

		if ((w->flags & BALE_WORD_DYNAMIC) || go_file(w->value) || !module_path(w->value))
			return;
		bale_pkg_parse(&pkg, BALE_PKG_GO, w->value);
		if (pkg.pinned)
			return;
		lint_report(ctx, rule, i, w->line, w->col,
			    "'%.*s' %s: 'go run' fetches and runs whatever the module's latest "
			    "release is that day; write %.*s@<version>",
			    (int)pkg.name_len, pkg.name,
			    pkg.version ? "names a moving version" : "has no version",
			    (int)pkg.name_len, pkg.name);
	}
}

static void check_go_pins(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"go", NULL};

	lint_each_command(ctx, rule, tools, go_pins, NULL);
}

/* --- the catalogue ---------------------------------------------------------------------------- */

const struct lint_rule lint_rule_DL3042 = {
    .meta = {.id = "DL3042",
	     .name = "pip-no-cache-dir",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Avoid use of cache directory with pip. Use `pip install --no-cache-dir "
			"<package>`",
	     .fix = "add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1), or use RUN "
		    "--mount=type=cache,target=/root/.cache/pip",
	     .category = "efficiency"},
    .check = check_pip_cache,
};

const struct lint_rule lint_rule_DL3060 = {
    .meta = {.id = "DL3060",
	     .name = "yarn-cache-clean",
	     .severity = BALE_SEV_INFO,
	     .summary = "`yarn cache clean` missing after `yarn install` was run",
	     .fix = "end the RUN with `&& yarn cache clean`, or use RUN "
		    "--mount=type=cache,target=/usr/local/share/.cache/yarn",
	     .category = "efficiency"},
    .check = check_yarn_cache,
};

const struct lint_rule lint_rule_DL3062 = {
    .meta = {.id = "DL3062",
	     .name = "pin-go-versions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Pin versions in go install. Instead of `go install <package>` use `go "
			"install <package>@<version>`",
	     .fix = "write the module's version: go install example.com/tool@v1.2.3",
	     .category = "reproducibility"},
    .check = check_go_pins,
};
