/*
 * Rules about apt in RUN: pinning, caches, prompts, recommends, the apt front end. The RUN
 * script is read as shell (lint_script): each rule looks at the apt-get commands in it, across
 * && ; | sh -c and heredoc scripts, with apt-get's own option syntax.
 */
#include "lint/internal.h"

#include <string.h>

static const char *const apt_get[] = {"apt-get", NULL};

static void pin_versions(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 const bale_cmd *cmd, void *arg)
{
	const bale_pkg *pkgs;
	size_t n;

	(void)arg;
	if (!bale_cmd_subcommand(cmd) || !lint_str_eq(bale_cmd_subcommand(cmd), "install"))
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
	lint_each_command(ctx, rule, apt_get, pin_versions, NULL);
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

/* --- shared by the rules below ------------------------------------------------------------ */

static bool subcommand_is(const bale_cmd *cmd, const char *sub)
{
	const char *s = bale_cmd_subcommand(cmd);

	return s && lint_str_eq(s, sub);
}

/*
 * True when `dir` (len bytes; a trailing "/" or "/\*" ignored) is `path` or a directory above
 * it: removing or mounting `dir` takes `path` with it. The root alone does not count.
 */
static bool covers(const char *dir, size_t len, const char *path)
{
	if (len >= 2 && dir[len - 1] == '*' && dir[len - 2] == '/')
		len--;
	while (len > 1 && dir[len - 1] == '/')
		len--;
	return len > 1 && dir[0] == '/' && strncmp(path, dir, len) == 0 &&
	       (path[len] == '\0' || path[len] == '/');
}

/* True when the RUN mounts a cache or a tmpfs over `path` (or a directory above it). */
static bool mounted_over(const bale_command *run, const char *path)
{
	for (size_t m = 0; run && m < run->run.nmounts; m++) {
		const bale_mount *mt = &run->run.mounts[m];

		if ((mt->type == BALE_MOUNT_CACHE || mt->type == BALE_MOUNT_TMPFS) && mt->target &&
		    covers(mt->target, strlen(mt->target), path))
			return true;
	}
	return false;
}

/* --- DL3005 ------------------------------------------------------------------------------- */

static void dist_upgrade(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 const bale_cmd *cmd, void *arg)
{
	(void)arg;
	if (!subcommand_is(cmd, "dist-upgrade"))
		return;
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apt-get dist-upgrade' may remove packages of the base image and pull in "
		    "others to satisfy changed dependencies, so the image drifts from its base in "
		    "ways the next build will not repeat; build on a newer base image (or use "
		    "'apt-get upgrade' for security updates)");
}

static void check_dist_upgrade(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, apt_get, dist_upgrade, NULL);
}

const struct lint_rule lint_rule_DL3005 = {
    .meta = {.id = "DL3005",
	     .name = "no-apt-dist-upgrade",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Do not use apt-get dist-upgrade",
	     .fix = "build on a newer base image; use `apt-get upgrade` if you need the security "
		    "updates",
	     .category = "reproducibility"},
    .check = check_dist_upgrade,
};

/* --- DL3009 ------------------------------------------------------------------------------- */

#define APT_LISTS "/var/lib/apt/lists"

/*
 * True when `cmd` takes /var/lib/apt/lists away: rm -r of it or a directory above it,
 * find ... -delete under it, or apt-get distclean (apt 2.7), which removes the lists.
 */
static bool removes_apt_lists(const bale_cmd *cmd)
{
	bool rm = lint_cmd_is(cmd, "rm") && lint_has_flag(cmd, "-r", "-R", "--recursive");
	bool find = lint_cmd_is(cmd, "find") && lint_has_flag(cmd, "-delete");

	if (lint_cmd_is_any(cmd, "apt-get", "apt") &&
	    (subcommand_is(cmd, "distclean") || subcommand_is(cmd, "dist-clean")))
		return true;
	for (size_t o = 0; (rm || find) && o < cmd->noperands; o++) {
		const bale_cmd_word *w = cmd->operands[o];

		if (!(w->flags & BALE_WORD_DYNAMIC) && covers(w->value, w->len, APT_LISTS))
			return true;
	}
	return false;
}

static void check_apt_lists(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const apt[] = {"apt-get", "apt", "aptitude", NULL};
	struct lint_walk updates;
	struct lint_kinds k;

	lint_walk_init(ctx, &updates, apt);
	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_RUN, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = &ctx->instrs[i];
		bool onbuild =
		    ins->kind == BALE_INSTR_ONBUILD && ins->sub && ins->sub->kind == BALE_INSTR_RUN;
		const bale_cmd_script *script;
		const bale_cmd *cmds, *update = NULL;
		size_t n;

		/* An ONBUILD RUN runs in every image built on this one: it always ships. */
		if (!onbuild && (ins->kind != BALE_INSTR_RUN || !lint_ships(ctx, i)))
			continue;
		/* A RUN without apt runs no update. */
		if (!lint_walk_reaches(ctx, &updates, i))
			continue;
		if (mounted_over(lint_run_view(ctx, i, true), APT_LISTS) ||
		    !(script = lint_script(ctx, i)))
			continue;
		/* The lists are left when an update runs after the last removal of them. */
		cmds = bale_cmd_script_commands(script, &n);
		for (size_t c = 0; c < n; c++) {
			/* Every command: lint_cmd_is() calls, not a variadic one. */
			if ((lint_cmd_is(&cmds[c], "apt-get") || lint_cmd_is(&cmds[c], "apt") ||
			     lint_cmd_is(&cmds[c], "aptitude")) &&
			    subcommand_is(&cmds[c], "update"))
				update = update ? update : &cmds[c];
			else if (removes_apt_lists(&cmds[c]))
				update = NULL;
		}
		if (!update)
			continue;
		lint_report(ctx, rule, i, update->line, update->col,
			    "'%s update' leaves the package lists in " APT_LISTS " (tens of MB) in "
			    "this layer%s: delete them in the same RUN (&& rm -rf " APT_LISTS
			    "/*) or mount a cache there (--mount=type=cache,target=" APT_LISTS ")",
			    update->name,
			    onbuild ? ", in every image built on this one" : " of the image");
	}
}

const struct lint_rule lint_rule_DL3009 = {
    .meta = {.id = "DL3009",
	     .name = "apt-lists-cleaned",
	     .severity = BALE_SEV_INFO,
	     .summary = "Delete the apt-get lists after installing something",
	     .fix = "end the RUN with `&& rm -rf /var/lib/apt/lists/*`, or mount a cache on "
		    "/var/lib/apt/lists",
	     .category = "efficiency"},
    .check = check_apt_lists,
    .needs_stages = true,
};

/* --- DL3014 ------------------------------------------------------------------------------- */

/* ASCII case-insensitive prefix test. */
static bool has_prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++) {
		char a = *s, b = *prefix;

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* True when a value means "on" to apt's configuration: true, yes, on, 1 (any case). */
static bool apt_true(const char *v)
{
	return has_prefix_ci(v, "true") || has_prefix_ci(v, "yes") || has_prefix_ci(v, "on") ||
	       strcmp(v, "1") == 0;
}

/* The value of apt configuration item `key` given with -o key=value, or NULL. */
static const char *apt_option(const bale_cmd *cmd, const char *key)
{
	const char *found = NULL;
	size_t klen = strlen(key);

	for (size_t o = 0; o < cmd->nopts; o++) {
		const char *v = cmd->opts[o].value;

		if ((lint_str_eq(cmd->opts[o].name, "-o") ||
		     lint_str_eq(cmd->opts[o].name, "--option")) &&
		    v && has_prefix_ci(v, key) && v[klen] == '=')
			found = v + klen + 1;
	}
	return found;
}

/* True when apt-get will not stop to ask: -y, --yes, -qq (quiet level 2 implies -y), ... */
static bool assumes_yes(const bale_cmd *cmd, const bale_cmd *all)
{
	const char *v = apt_option(cmd, "APT::Get::Assume-Yes");
	size_t quiet = 0;

	if (lint_has_flag(cmd, "-y", "--yes", "--assume-yes", "--force-yes") || (v && apt_true(v)))
		return true;
	for (size_t o = 0; o < cmd->nopts; o++)
		quiet += lint_str_eq(cmd->opts[o].name, "-q") ||
			 lint_str_eq(cmd->opts[o].name, "--quiet");
	if (quiet >= 2)
		return true;
	/* `yes | apt-get install ...` answers the prompt. */
	return cmd->pipe_prev != BALE_CMD_NONE && lint_cmd_is(&all[cmd->pipe_prev], "yes");
}

static bool prompts(const bale_cmd *cmd)
{
	static const char *const subs[] = {
	    "install", "reinstall",    "remove",       "purge",	    "autoremove",
	    "upgrade", "dist-upgrade", "full-upgrade", "build-dep", NULL};

	for (const char *const *s = subs; *s; s++)
		if (subcommand_is(cmd, *s))
			return true;
	return false;
}

static void assume_yes(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
		       const bale_cmd *cmd, void *arg)
{
	(void)arg;
	if (!prompts(cmd) ||
	    assumes_yes(cmd, bale_cmd_script_commands(lint_script(ctx, instr), &(size_t){0})))
		return;
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apt-get %s' without -y: apt-get asks for confirmation, a build has no "
		    "terminal to answer it, and the install is aborted; add -y",
		    cmd->subcommand);
}

static void check_assume_yes(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, apt_get, assume_yes, NULL);
}

const struct lint_rule lint_rule_DL3014 = {
    .meta = {.id = "DL3014",
	     .name = "apt-get-assume-yes",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use the `-y` switch to avoid manual input `apt-get -y install <package>`",
	     .fix = "write `apt-get install -y <package>`",
	     .category = "correctness"},
    .check = check_assume_yes,
};

/* --- DL3015 ------------------------------------------------------------------------------- */

/*
 * True when the RUN text writes APT::Install-Recommends off into apt's configuration, as in
 * echo 'APT::Install-Recommends "0";' > /etc/apt/apt.conf.d/99norecommends.
 */
static bool writes_no_recommends(const char *text)
{
	static const char key[] = "Install-Recommends";

	if (!strstr(text, "/etc/apt/apt.conf"))
		return false;
	for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
		const char *v = p + sizeof(key) - 1;

		while (*v == ' ' || *v == '\t' || *v == '"' || *v == '\'' || *v == '\\')
			v++;
		if (*v == '0' || has_prefix_ci(v, "false"))
			return true;
	}
	return false;
}

/*
 * True when a RUN before `instr`, in its stage or a stage it is built FROM, turned
 * recommends off in apt's configuration: every later apt-get install honours it.
 */
static bool recommends_off_by_config(const struct lint_ctx *ctx, size_t instr)
{
	size_t stage = lint_stage_of(ctx, instr), limit = instr + 1; /* the RUN itself counts */

	if (stage == BALE_NO_STAGE) {
		for (size_t j = instr + 1; j-- > 0 && ctx->instrs[j].kind != BALE_INSTR_FROM;)
			if (ctx->instrs[j].kind == BALE_INSTR_RUN &&
			    writes_no_recommends(ctx->instrs[j].original))
				return true;
		return false;
	}
	for (size_t hops = 0; hops < ctx->nstages; hops++) {
		const bale_stage *st = &ctx->stage_list[stage];

		for (size_t j = st->instruction + 1; j < st->end && j < limit; j++)
			if (ctx->instrs[j].kind == BALE_INSTR_RUN &&
			    writes_no_recommends(ctx->instrs[j].original))
				return true;
		if (st->base.kind != BALE_REF_STAGE)
			break;
		stage = st->base.stage;
		limit = SIZE_MAX;
	}
	return false;
}

static void no_recommends(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			  const bale_cmd *cmd, void *arg)
{
	const char *v = apt_option(cmd, "APT::Install-Recommends");

	(void)arg;
	if (!subcommand_is(cmd, "install") || lint_has_flag(cmd, "--no-install-recommends"))
		return;
	if ((v && !apt_true(v)) || recommends_off_by_config(ctx, instr))
		return; /* -o APT::Install-Recommends=false, or apt.conf.d says so */
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apt-get install' without --no-install-recommends also installs every "
		    "package the requested ones recommend, often tens of MB the image never uses; "
		    "add --no-install-recommends (and name what you need)");
}

static void check_recommends(struct lint_ctx *ctx, const bale_rule *rule)
{
	lint_each_command(ctx, rule, apt_get, no_recommends, NULL);
}

const struct lint_rule lint_rule_DL3015 = {
    .meta = {.id = "DL3015",
	     .name = "apt-no-install-recommends",
	     .severity = BALE_SEV_INFO,
	     .summary = "Avoid additional packages by specifying `--no-install-recommends`",
	     .fix = "write `apt-get install -y --no-install-recommends <package>`",
	     .category = "efficiency"},
    .check = check_recommends,
};

/* --- DL3027 ------------------------------------------------------------------------------- */

static void uses_apt(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, const bale_cmd *cmd,
		     void *arg)
{
	const char *sub = bale_cmd_subcommand(cmd);
	bool query = sub && (strcmp(sub, "search") == 0 || strcmp(sub, "show") == 0 ||
			     strcmp(sub, "policy") == 0 || strcmp(sub, "depends") == 0 ||
			     strcmp(sub, "rdepends") == 0);

	(void)arg;
	lint_report(ctx, rule, instr, cmd->line, cmd->col,
		    "'apt%s%s' in a script: apt is the interactive front end and its output and "
		    "options may change between releases (it says so itself); use %s",
		    sub ? " " : "", sub ? sub : "", query ? "apt-cache" : "apt-get");
}

static void check_apt(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const apt[] = {"apt", NULL};

	lint_each_command(ctx, rule, apt, uses_apt, NULL);
}

const struct lint_rule lint_rule_DL3027 = {
    .meta = {.id = "DL3027",
	     .name = "no-apt",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Do not use apt as it is meant to be an end-user tool, use apt-get or "
			"apt-cache instead",
	     .fix = "replace `apt` with `apt-get` (or `apt-cache` for search, show, policy)",
	     .category = "maintainability"},
    .check = check_apt,
};
