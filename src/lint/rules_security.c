/*
 * bale's security rules (BL2001, BL2005-BL2014): pinning, what the build context lets in, the
 * user the image runs as, code fetched and run unverified, verification turned off, file modes
 * and exposed ports. What the image ships is judged in the target stage and the stages it is
 * built FROM; commands are read through the shell model (pipes, `sh -c`, substitutions,
 * wrappers such as sudo and env are seen through).
 */
#include "lint/internal.h"
#include "image/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* --- helpers shared by the rules of this file --------------------------------------------- */

/* The typed view of instruction `i`, seen through ONBUILD when `onbuild`. */
static const bale_command *typed(const struct lint_ctx *ctx, size_t i, bool onbuild)
{
	const bale_command *c = lint_command(ctx, i);

	if (c && c->kind == BALE_INSTR_ONBUILD)
		c = onbuild ? c->onbuild.trigger : NULL;
	return c;
}

/*
 * `word` of instruction `instr` with the variables bale knows expanded: a malloc'd string the
 * caller may change, or NULL when the word reads a variable whose value is unknown.
 */
static char *expand_known(struct lint_ctx *ctx, size_t instr, const char *word)
{
	char *owned;
	const char *value = lint_expand_known(ctx, instr, word, &owned);

	return !value ? NULL : owned ? owned : strdup(value);
}

/* The last USER instruction the target runs as (its stage, then those it is built FROM). */
static size_t final_user(const struct lint_ctx *ctx)
{
	size_t s = ctx->target;

	for (int hops = 0; s != BALE_NO_STAGE && s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t i = st->end; i-- > st->instruction + 1;)
			if (i < ctx->ninstrs && ctx->instrs[i].kind == BALE_INSTR_USER)
				return i;
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
	}
	return SIZE_MAX;
}

/* The stage whose FROM names the image the target ends up on, or BALE_NO_STAGE. */
static size_t shipped_base_stage(const struct lint_ctx *ctx)
{
	size_t s = ctx->target;

	for (int hops = 0; s != BALE_NO_STAGE && s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (st->base.kind != BALE_REF_STAGE)
			return s;
		s = st->base.stage;
	}
	return BALE_NO_STAGE;
}

/* ===========================================================================================
 * BL2001 base-image-not-pinned-by-digest
 * =========================================================================================== */

static void report_unpinned(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			    const char *name, const char *how)
{
	bale_image_ref ref;

	if (!name || !bale_image_ref_parse(&ref, name) || ref.digest)
		return;
	lint_report(ctx, rule, instr, 0, 0,
		    "%s '%s' is not pinned by digest: a tag can be moved to other content by "
		    "whoever controls it; write '%s@sha256:<digest>' (docker buildx imagetools "
		    "inspect shows it) and let Renovate or Dependabot update it",
		    how, name, name);
}

static void check_digest(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (st->base.kind == BALE_REF_IMAGE)
			report_unpinned(ctx, rule, st->instruction, st->base.name, "base image");
		for (size_t r = 0; r < st->nrefs; r++)
			if (st->refs[r].kind == BALE_REF_IMAGE && !st->refs[r].onbuild)
				report_unpinned(
				    ctx, rule, st->refs[r].instruction, st->refs[r].name,
				    st->refs[r].via == BALE_VIA_COPY ? "COPY --from image"
								     : "mounted image");
	}
}

/*
 * Off unless the configuration gives it a severity: a tag-only FROM is what nearly every
 * Dockerfile writes, and hadolint's DL3006/DL3007 already catch the moving ones.
 */
const struct lint_rule lint_rule_BL2001 = {
    .meta = {.id = "BL2001",
	     .name = "base-image-not-pinned-by-digest",
	     .severity = BALE_SEV_NONE,
	     .summary = "An image the build pulls is not pinned by digest (off unless enabled)",
	     .fix = "write FROM name:tag@sha256:<digest> and let Renovate or Dependabot keep the "
		    "digest current",
	     .category = "security"},
    .check = check_digest,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2005 context-copied-without-dockerignore
 * =========================================================================================== */

/* True when COPY/ADD source `src` is the whole build context. */
static bool whole_context(const char *src)
{
	while (src[0] == '.' && src[1] == '/' && src[2])
		src += 2;
	return strcmp(src, ".") == 0 || strcmp(src, "./") == 0 || strcmp(src, "*") == 0 ||
	       strcmp(src, "/") == 0 || strcmp(src, "**") == 0;
}

static bool exists_in(const char *dir, const char *name)
{
	char path[4096];

	return (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
	       access(path, F_OK) == 0;
}

static void check_dockerignore(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_ignore ignore = {0};
	bool read = false, have = false, git_out = false, env_out = false;
	int rc;

	if (!ctx->context_dir)
		return;
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_command *c = typed(ctx, i, true);
		const char *src = NULL, *missing;

		if (!c || (c->kind != BALE_INSTR_COPY && c->kind != BALE_INSTR_ADD) || c->copy.from)
			continue;
		for (size_t s = 0; s < c->copy.nsources && !src; s++)
			if (whole_context(c->copy.sources[s]))
				src = c->copy.sources[s];
		if (!src)
			continue;
		if (!read) {
			read = true;
			if ((rc = lint_ignore_read(&ignore, ctx, &have)) != 0) {
				ctx->err = rc;
				break;
			}
			if (have) {
				git_out = lint_ignore_excludes(&ignore, ".git/HEAD");
				env_out = lint_ignore_excludes(&ignore, ".env");
			}
		}
		if (git_out && env_out)
			break;
		missing = !git_out && !env_out ? ".git and .env" : !git_out ? ".git" : ".env";
		lint_report(ctx, rule, i, 0, 0,
			    "%s %s sends the whole build context into the image, and %s %s%s: the "
			    "repository history and local secrets end up in a layer (and every "
			    "commit invalidates the cache); list them in .dockerignore",
			    bale_instr_kind_name(c->kind), src,
			    have ? "the .dockerignore does not keep out"
				 : "there is no .dockerignore to keep out",
			    missing,
			    exists_in(ctx->context_dir, ".env") && !env_out
				? " (the context has a .env file)"
				: "");
	}
	lint_ignore_release(&ignore);
}

const struct lint_rule lint_rule_BL2005 = {
    .meta = {.id = "BL2005",
	     .name = "context-copied-without-dockerignore",
	     .severity = BALE_SEV_WARNING,
	     .summary = "COPY . or ADD . with no .dockerignore keeping out .git and .env",
	     .fix = "add .git and .env (and other local files) to .dockerignore, or copy only the "
		    "paths the image needs",
	     .category = "security"},
    .check = check_dockerignore,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2006 final-stage-runs-as-root (USER by name is DL3066)
 * =========================================================================================== */

/* True when the image's command steps down from root itself (gosu, su-exec, setpriv, ...). */
static bool drops_privileges(struct lint_ctx *ctx)
{
	size_t s = ctx->target;

	for (int hops = 0; s != BALE_NO_STAGE && s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t i = st->instruction; i < st->end && i < ctx->ninstrs; i++) {
			const bale_cmd_script *script;
			const bale_cmd *cmds;
			size_t n;

			if (ctx->instrs[i].kind != BALE_INSTR_ENTRYPOINT &&
			    ctx->instrs[i].kind != BALE_INSTR_CMD)
				continue;
			if (!(script = lint_script(ctx, i)))
				continue;
			cmds = bale_cmd_script_commands(script, &n);
			for (size_t c = 0; c < n; c++)
				if (bale_cmd_has_wrapper(&cmds[c], "gosu") ||
				    bale_cmd_has_wrapper(&cmds[c], "su-exec") ||
				    lint_cmd_is_any(&cmds[c], "gosu", "su-exec", "setpriv",
						    "s6-setuidgid", "chpst", "runuser"))
					return true;
		}
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
	}
	return false;
}

static void check_root(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t base = shipped_base_stage(ctx);
	const bale_stage *st;
	const char *image;

	if (ctx->target == BALE_NO_STAGE || base == BALE_NO_STAGE || final_user(ctx) != SIZE_MAX ||
	    drops_privileges(ctx))
		return;
	st = &ctx->stage_list[base];
	image = st->base.kind == BALE_REF_SCRATCH ? "scratch" : st->base.name;
	/* distroless :nonroot and its kin set a non-root user themselves. */
	if (!image || strstr(image, "nonroot"))
		return;
	lint_report(ctx, rule, ctx->stage_list[ctx->target].instruction, 0, 0,
		    "the final stage never sets USER, so it runs as root (uid 0)%s%s%s; a "
		    "process that breaks out of the application owns the container: create a "
		    "user and add `USER 10001:10001` (a numeric UID)",
		    st->base.kind == BALE_REF_SCRATCH ? "" : ", unless the base image '",
		    st->base.kind == BALE_REF_SCRATCH ? "" : image,
		    st->base.kind == BALE_REF_SCRATCH ? "" : "' sets a user");
}

const struct lint_rule lint_rule_BL2006 = {
    .meta = {.id = "BL2006",
	     .name = "final-stage-runs-as-root",
	     .severity = BALE_SEV_WARNING,
	     .summary = "The final stage sets no USER, so the container runs as root",
	     .fix = "create a user and end the final stage with USER <uid>:<gid> (numeric)",
	     .category = "security"},
    .check = check_root,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2008 remote-script-piped-to-shell
 * =========================================================================================== */

/* True when `cmd` runs a program it reads from standard input or a file operand it is given. */
static bool runs_program(const bale_cmd *cmd, bool from_stdin)
{
	const char *first = cmd->noperands ? cmd->operands[0]->value : NULL;

	if (lint_cmd_is_any(cmd, "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"))
		return !lint_has_flag(cmd, "-c") || !from_stdin;
	if (lint_cmd_is_any(cmd, "eval", "source", "."))
		return true;
	if (lint_cmd_is_any(cmd, "python", "perl", "ruby", "node", "php")) {
		if (lint_has_flag(cmd, "-c", "-e", "-E", "-m", "-p", "-r", "--eval"))
			return false;
		return !from_stdin || !first || strcmp(first, "-") == 0;
	}
	return false;
}

static const char *url_of(const bale_cmd *cmd)
{
	for (size_t o = 0; o < cmd->noperands; o++)
		if (lint_has_url(cmd->operands[o]->value))
			return cmd->operands[o]->value;
	return cmd->name;
}

static void check_pipe_to_shell(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const fetchers[] = {"curl", "wget", NULL};
	struct lint_walk w;
	const bale_cmd *cmd;
	size_t i;

	/* The downloads in file order, each read with the commands of its RUN. */
	lint_walk_init(ctx, &w, fetchers);
	while ((cmd = lint_walk_next(ctx, &w, &i))) {
		size_t n;
		const bale_cmd *cmds = lint_run_commands(ctx, i, true, &n), *runner = NULL;

		if (cmd->pipe_next != BALE_CMD_NONE && cmd->pipe_next < n &&
		    runs_program(&cmds[cmd->pipe_next], true))
			runner = &cmds[cmd->pipe_next];
		else if ((cmd->context & BALE_CMD_IN_SUBST) && cmd->parent < n &&
			 runs_program(&cmds[cmd->parent], false))
			runner = &cmds[cmd->parent];
		if (!runner)
			continue;
		lint_report(ctx, rule, i, cmd->line, cmd->col,
			    "'%s' is fed to '%s': code from the network runs in the build "
			    "unverified, so whoever controls the server or the path to it "
			    "controls the image; download it to a file, check its checksum "
			    "or signature, then run it",
			    url_of(cmd), runner->name);
	}
}

const struct lint_rule lint_rule_BL2008 = {
    .meta = {.id = "BL2008",
	     .name = "remote-script-piped-to-shell",
	     .severity = BALE_SEV_WARNING,
	     .summary = "A script downloaded with curl or wget is run straight from the network",
	     .fix = "download to a file, verify it (sha256sum -c, gpg --verify), then run it",
	     .category = "security"},
    .check = check_pipe_to_shell,
};

/* ===========================================================================================
 * BL2009 add-url-without-checksum
 * =========================================================================================== */

static bool is_git_source(const char *src)
{
	const char *hash = strchr(src, '#');
	size_t len = hash ? (size_t)(hash - src) : strlen(src);

	return strncmp(src, "git@", 4) == 0 || strncmp(src, "git://", 6) == 0 ||
	       (len > 4 && memcmp(src + len - 4, ".git", 4) == 0);
}

/* A git source pinned to a full commit: "...#<40 hex>[:subdir]". */
static bool git_pinned(const char *src)
{
	const char *hash = strchr(src, '#');
	size_t hex;

	if (!hash)
		return false;
	hex = strspn(hash + 1, "0123456789abcdef");
	return (hex == 40 || hex == 64) && (hash[1 + hex] == '\0' || hash[1 + hex] == ':');
}

static void check_add_url(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	/* The ADD instructions and the ONBUILD ones (their trigger may be one). */
	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_ADD, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = typed(ctx, i, true);

		if (!c || c->kind != BALE_INSTR_ADD || c->copy.checksum)
			continue;
		for (size_t s = 0; s < c->copy.nsources; s++) {
			const char *src = c->copy.sources[s];
			bool url = strncasecmp(src, "http://", 7) == 0 ||
				   strncasecmp(src, "https://", 8) == 0;

			if (is_git_source(src)) {
				if (git_pinned(src))
					continue;
				lint_report(
				    ctx, rule, i, 0, 0,
				    "ADD fetches '%s' at whatever commit the ref points to "
				    "that day: pin the full commit ('#<commit sha>') or add "
				    "--checksum=<commit sha>",
				    src);
			} else if (url) {
				lint_report(
				    ctx, rule, i, 0, 0,
				    "ADD downloads '%s' with nothing to check it against: a "
				    "changed or tampered file goes into the image unnoticed; add "
				    "--checksum=sha256:<digest> (Dockerfile syntax 1.6 or later)",
				    src);
			}
		}
	}
}

const struct lint_rule lint_rule_BL2009 = {
    .meta = {.id = "BL2009",
	     .name = "add-url-without-checksum",
	     .severity = BALE_SEV_WARNING,
	     .summary = "ADD of a URL or a Git repository with no --checksum",
	     .fix = "write ADD --checksum=sha256:<digest> <url> <dest> (for Git, pin the full "
		    "commit)",
	     .category = "security"},
    .check = check_add_url,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2010 tls-verification-disabled
 * =========================================================================================== */

/* Variables that turn verification off; `off` NULL: any value does. */
static const struct {
	struct lstr name;
	const char *off, *what;
} tls_vars[] = {
    {LSTR("NODE_TLS_REJECT_UNAUTHORIZED"), "0", "Node.js TLS certificate checks"},
    {LSTR("PYTHONHTTPSVERIFY"), "0", "Python's HTTPS certificate checks"},
    {LSTR("GIT_SSL_NO_VERIFY"), NULL, "Git's TLS certificate checks"},
    {LSTR("PIP_TRUSTED_HOST"), NULL, "pip's TLS certificate checks for the listed hosts"},
    {LSTR("NPM_CONFIG_STRICT_SSL"), "false", "npm's TLS certificate checks"},
    {LSTR("GOINSECURE"), NULL, "Go's TLS and checksum checks for the listed modules"},
};

/* What setting variable `name` to `value` turns off, or NULL. */
static const char *tls_var_off(const char *name, size_t nlen, const char *value)
{
	for (size_t k = 0; k < BALE_ARRAY_SIZE(tls_vars); k++) {
		if (tls_vars[k].name.len != nlen || strncasecmp(name, tls_vars[k].name.s, nlen))
			continue;
		if (tls_vars[k].off ? strcasecmp(value, tls_vars[k].off) == 0 : *value != '\0')
			return tls_vars[k].what;
	}
	return NULL;
}

/* An assignment word "NAME=value" that turns verification off. */
static const char *tls_assignment_off(const char *word)
{
	const char *eq = strchr(word, '=');

	return eq ? tls_var_off(word, (size_t)(eq - word), eq + 1) : NULL;
}

static bool is_false(const char *v)
{
	return strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
	       strcasecmp(v, "off") == 0;
}

static bool is_true(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
	       strcasecmp(v, "on") == 0;
}

/* True when an operand equals `key` (any case) and the next one is false (or `key=false`). */
static bool sets_false(const bale_cmd *cmd, struct lstr key)
{
	size_t klen = key.len;

	for (size_t o = 0; o < cmd->noperands; o++) {
		const char *v = cmd->operands[o]->value;
		size_t vlen = strlen(v);

		/* The last bytes first (| 0x20 folds case): most operands are package names. */
		if (vlen >= klen && klen &&
		    ((unsigned char)v[vlen - 1] | 0x20) ==
			((unsigned char)key.s[klen - 1] | 0x20) &&
		    strncasecmp(v + vlen - klen, key.s, klen) == 0 && o + 1 < cmd->noperands &&
		    is_false(cmd->operands[o + 1]->value))
			return true;
		if (vlen > klen && v[klen] == '=' && strncasecmp(v, key.s, klen) == 0 &&
		    is_false(v + klen + 1))
			return true;
	}
	return false;
}

/* A setting an option value turns off ("Key=false"), or on with to_true ("Key=true"). */
struct setting {
	struct lstr key;
	bool to_true;
};

/*
 * True when a value of option `opt` ("-o", "--setopt") sets one of the `n` settings: the
 * options are read once for them all.
 */
static bool option_sets(const bale_cmd *cmd, const char *opt, const struct setting *set, size_t n)
{
	for (size_t o = 0; o < cmd->nopts; o++) {
		const char *v = cmd->opts[o].value;
		const char *eq;

		if (!v || !lint_str_eq(cmd->opts[o].name, opt) || !(eq = strchr(v, '=')))
			continue;
		for (size_t s = 0; s < n; s++) {
			size_t klen = set[s].key.len;

			if ((size_t)(eq - v) >= klen &&
			    strncasecmp(eq - klen, set[s].key.s, klen) == 0 &&
			    (set[s].to_true ? is_true(eq + 1) : is_false(eq + 1)))
				return true;
		}
	}
	return false;
}

static const char *npm_tls_off(const bale_cmd *cmd)
{
	const char *strict;

	if (sets_false(cmd, (struct lstr)LSTR("strict-ssl")) ||
	    sets_false(cmd, (struct lstr)LSTR("enableStrictSsl")) ||
	    lint_has_flag(cmd, "--no-strict-ssl") ||
	    ((strict = bale_cmd_flag_value(cmd, "--strict-ssl", NULL)) && is_false(strict)))
		return "strict-ssl false: the package manager's TLS certificate checks";
	return NULL;
}

static const char *apt_tls_off(const bale_cmd *cmd)
{
	static const struct setting settings[] = {{LSTR("AllowUnauthenticated"), true},
						  {LSTR("AllowInsecureRepositories"), true},
						  {LSTR("Verify-Peer"), false}};

	if (lint_has_flag(cmd, "--allow-unauthenticated", "--allow-insecure-repositories",
			  "--force-yes") ||
	    option_sets(cmd, "-o", settings, BALE_ARRAY_SIZE(settings)))
		return "apt --allow-unauthenticated: package signature checks";
	return NULL;
}

static const char *rpm_tls_off(const bale_cmd *cmd)
{
	static const struct setting settings[] = {{LSTR("gpgcheck"), false},
						  {LSTR("sslverify"), false}};

	if (lint_has_flag(cmd, "--nogpgcheck", "--no-gpgchecks") ||
	    option_sets(cmd, "--setopt", settings, BALE_ARRAY_SIZE(settings)))
		return "--nogpgcheck (gpgcheck=0): package signature checks";
	return NULL;
}

/* echo "deb [trusted=yes] http://... ./" > /etc/apt/sources.list.d/x.list */
static const char *trusted_source(const bale_cmd *cmd)
{
	for (size_t w = 0; w < cmd->nwords; w++) {
		const char *v = cmd->words[w].value;

		/* A word without an '=' holds no trusted=yes: most echo words are plain text. */
		if (!strchr(v, '='))
			continue;
		for (const char *p = v; (p = strstr(p, "trusted=yes")); p++)
			if (p[11] == ']' || p[11] == ' ')
				return "an apt source marked [trusted=yes]: package signature "
				       "checks";
	}
	return NULL;
}

/*
 * What `cmd` turns off, or NULL. Every command of every RUN comes here: the first byte of the
 * tool's name picks the few tools to compare it with.
 */
static const char *tls_off_in(const bale_cmd *cmd)
{
	switch (cmd->name[0]) {
	case 'a':
		if (lint_cmd_is_any(cmd, "apt-get", "apt", "aptitude"))
			return apt_tls_off(cmd);
		if (lint_cmd_is(cmd, "apk") && lint_has_flag(cmd, "--allow-untrusted"))
			return "apk --allow-untrusted: package signature checks";
		break;
	case 'c':
		if (!lint_cmd_is(cmd, "curl"))
			break;
		if (lint_has_flag(cmd, "-k", "--insecure"))
			return "curl -k/--insecure: TLS certificate checks";
		if (lint_has_flag(cmd, "--proxy-insecure"))
			return "curl --proxy-insecure: TLS certificate checks";
		break;
	case 'd':
	case 'm':
	case 'y':
		if (lint_cmd_is_any(cmd, "dnf", "yum", "microdnf"))
			return rpm_tls_off(cmd);
		if (lint_cmd_is(cmd, "yarn"))
			return npm_tls_off(cmd);
		break;
	case 'e':
		if (lint_cmd_is(cmd, "echo"))
			return trusted_source(cmd);
		break;
	case 'g':
		if (lint_cmd_is(cmd, "git") &&
		    (sets_false(cmd, (struct lstr)LSTR(".sslverify")) ||
		     option_sets(cmd, "-c", &(const struct setting){LSTR(".sslverify"), false}, 1)))
			return "git http.sslVerify false: TLS certificate checks";
		break;
	case 'n':
		if (lint_cmd_is(cmd, "npm"))
			return npm_tls_off(cmd);
		break;
	case 'p':
		if (lint_cmd_is(cmd, "pip") &&
		    (bale_cmd_flag_value(cmd, "--trusted-host", NULL) ||
		     (cmd->subcommand && strcmp(cmd->subcommand, "config") == 0 &&
		      (bale_cmd_has_operand(cmd, "global.trusted-host") ||
		       bale_cmd_has_operand(cmd, "install.trusted-host")))))
			return "pip --trusted-host: TLS certificate checks";
		if (lint_cmd_is(cmd, "pnpm"))
			return npm_tls_off(cmd);
		if (lint_cmd_is(cmd, "printf"))
			return trusted_source(cmd);
		break;
	case 'r':
		if (lint_cmd_is(cmd, "rpm") && lint_has_flag(cmd, "--nosignature", "--nodigest"))
			return "rpm --nosignature: package signature checks";
		break;
	case 't':
		if (lint_cmd_is(cmd, "tdnf"))
			return rpm_tls_off(cmd);
		if (lint_cmd_is(cmd, "tee"))
			return trusted_source(cmd);
		break;
	case 'w':
		if (lint_cmd_is(cmd, "wget") && lint_has_flag(cmd, "--no-check-certificate"))
			return "wget --no-check-certificate: TLS certificate checks";
		break;
	case 'z':
		if (lint_cmd_is(cmd, "zypper") && lint_has_flag(cmd, "--no-gpg-checks"))
			return "zypper --no-gpg-checks: package signature checks";
		break;
	default:
		break;
	}
	return NULL;
}

static void report_tls(struct lint_ctx *ctx, const bale_rule *rule, size_t i, uint32_t line,
		       uint32_t col, const char *how, const char *what)
{
	lint_report(ctx, rule, i, line, col,
		    "%s turns off %s: whoever sits between the build and the server can "
		    "serve anything and the build installs it; trust the right CA certificate "
		    "(COPY it into /usr/local/share/ca-certificates, run update-ca-certificates) "
		    "or import the signing key instead",
		    how, what);
}

static void check_tls(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds kinds;

	/* ENV and ARG values, the commands of RUNs, and both in ONBUILD triggers. */
	for (size_t i = lint_first_of4(ctx, &kinds, BALE_INSTR_ENV, BALE_INSTR_ARG, BALE_INSTR_RUN,
				       BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &kinds, i)) {
		const bale_command *c = typed(ctx, i, true);
		const bale_cmd *cmds;
		size_t n;

		if (c && (c->kind == BALE_INSTR_ENV || c->kind == BALE_INSTR_ARG)) {
			for (size_t p = 0; p < c->pairs.n; p++) {
				const char *what;
				char how[160];

				if (!c->pairs.v[p].value ||
				    !(what =
					  tls_var_off(c->pairs.v[p].key, strlen(c->pairs.v[p].key),
						      c->pairs.v[p].value)))
					continue;
				snprintf(how, sizeof(how), "%s %s=%s",
					 c->kind == BALE_INSTR_ENV ? "ENV" : "ARG",
					 c->pairs.v[p].key, c->pairs.v[p].value);
				report_tls(ctx, rule, i, 0, 0, how, what);
			}
			continue;
		}
		cmds = lint_run_commands(ctx, i, true, &n);
		for (size_t k = 0; k < n; k++) {
			const bale_cmd *cmd = &cmds[k];
			const char *what = tls_off_in(cmd);
			bool exporting;

			if (what) {
				const char *colon = strchr(what, ':');
				char how[128];

				snprintf(how, sizeof(how), "%.*s", (int)(colon - what), what);
				report_tls(ctx, rule, i, cmd->line, cmd->col, how, colon + 2);
				continue;
			}
			for (size_t a = 0; a < cmd->nassigns; a++)
				if ((what = tls_assignment_off(cmd->assigns[a].value))) {
					report_tls(ctx, rule, i, cmd->assigns[a].line,
						   cmd->assigns[a].col, cmd->assigns[a].value,
						   what);
					break;
				}
			if (what)
				continue;
			/* `export NAME=0`, `env NAME=0 cmd`: the first byte rules out most tools.
			 */
			exporting =
			    (cmd->name[0] == 'e' || cmd->name[0] == 'd' || cmd->name[0] == 't') &&
			    lint_cmd_is_any(cmd, "export", "declare", "typeset");
			if (cmd->arg0 == 0 && !exporting)
				continue;
			for (size_t w = 0; w < cmd->nwords; w++) {
				bool exported = exporting && w > cmd->arg0;
				bool env_word = w < cmd->arg0;

				if ((exported || env_word) &&
				    (what = tls_assignment_off(cmd->words[w].value))) {
					report_tls(ctx, rule, i, cmd->words[w].line,
						   cmd->words[w].col, cmd->words[w].value, what);
					break;
				}
			}
		}
	}
}

const struct lint_rule lint_rule_BL2010 = {
    .meta = {.id = "BL2010",
	     .name = "tls-verification-disabled",
	     .severity = BALE_SEV_WARNING,
	     .summary = "TLS certificate or package signature checks are turned off",
	     .fix = "install the CA certificate the proxy or mirror needs (update-ca-certificates) "
		    "or import the repository's signing key, and keep verification on",
	     .category = "security"},
    .check = check_tls,
};

/* ===========================================================================================
 * BL2011 world-writable-permissions, BL2012 setuid-setgid-bit
 * =========================================================================================== */

/* What a chmod mode sets: other-writable (without the sticky bit) and setuid/setgid. */
static void mode_effects(const char *mode, bool *world_writable, bool *setid)
{
	unsigned long v = 0;
	size_t digits = 0;

	/* An octal mode of up to four digits, read as it is checked (no strspn, no strtoul). */
	for (; digits <= 4 && mode[digits] >= '0' && mode[digits] <= '7'; digits++)
		v = v * 8 + (unsigned long)(mode[digits] - '0');
	*world_writable = *setid = false;
	if (digits > 0 && digits <= 4 && mode[digits] == '\0') {

		*world_writable = (v & 02) && !(v & 01000);
		*setid = (v & 06000) != 0;
		return;
	}
	for (const char *p = mode; *p;) {
		bool all = false, others = false, sticky = false, writes = false;
		bool user_or_group = false, sets_id = false;
		size_t who = strspn(p, "ugoa");

		for (size_t k = 0; k < who; k++) {
			all |= p[k] == 'a';
			others |= p[k] == 'o';
			user_or_group |= p[k] == 'u' || p[k] == 'g';
		}
		p += who;
		while (*p == '+' || *p == '-' || *p == '=') {
			char op = *p++;
			size_t perms = strspn(p, "rwxXstugo");

			for (size_t k = 0; op != '-' && k < perms; k++) {
				writes |= p[k] == 'w';
				sticky |= p[k] == 't';
				sets_id |= p[k] == 's';
			}
			p += perms;
		}
		if (writes && (all || others) && !sticky)
			*world_writable = true;
		if (sets_id && (all || user_or_group || who == 0))
			*setid = true;
		if (*p != ',')
			break;
		p++;
	}
}

/* Calls `fn` for each mode the shipped stages set: chmod, install -m, mkdir -m, --chmod. */
static void each_mode(struct lint_ctx *ctx, const bale_rule *rule,
		      void (*fn)(struct lint_ctx *, const bale_rule *, size_t, uint32_t, uint32_t,
				 const char *, const char *, const char *))
{
	static const char *const tools[] = {"chmod", "install", "mkdir", NULL};
	struct lint_walk w;
	struct lint_kinds k;
	const bale_cmd *cmd;
	size_t ci = SIZE_MAX;

	/*
	 * The COPY and ADD instructions in order, and with each RUN (or ONBUILD RUN) the
	 * commands of `tools` it runs.
	 */
	lint_walk_init(ctx, &w, tools);
	cmd = lint_walk_next(ctx, &w, &ci);
	for (size_t i = lint_first_of4(ctx, &k, BALE_INSTR_COPY, BALE_INSTR_ADD, BALE_INSTR_RUN,
				       BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = lint_command(ctx, i);
		bool ships = lint_ships(ctx, i);

		if (ships && c && (c->kind == BALE_INSTR_COPY || c->kind == BALE_INSTR_ADD) &&
		    c->copy.chmod)
			fn(ctx, rule, i, 0, 0, c->copy.chmod,
			   c->kind == BALE_INSTR_COPY ? "COPY --chmod" : "ADD --chmod",
			   c->copy.dest ? c->copy.dest : "");
		for (; cmd && ci == i; cmd = lint_walk_next(ctx, &w, &ci)) {
			const char *mode = NULL, *target = "";

			if (!ships || ctx->instr_info[i].onbuild)
				continue;
			if (lint_cmd_is(cmd, "chmod")) {
				if (cmd->noperands >= 1) {
					mode = cmd->operands[0]->value;
					target = cmd->noperands >= 2 ? cmd->operands[1]->value : "";
				}
			} else {
				mode = bale_cmd_flag_value(cmd, "-m", "--mode", NULL);
				target =
				    cmd->noperands ? cmd->operands[cmd->noperands - 1]->value : "";
			}
			if (mode && !strchr(mode, '$'))
				fn(ctx, rule, i, cmd->line, cmd->col, mode, cmd->name, target);
		}
	}
}

static void world_writable(struct lint_ctx *ctx, const bale_rule *rule, size_t i, uint32_t line,
			   uint32_t col, const char *mode, const char *how, const char *target)
{
	bool ww, setid;

	mode_effects(mode, &ww, &setid);
	if (ww)
		lint_report(ctx, rule, i, line, col,
			    "%s %s makes %s writable by every user: any process in the container "
			    "can replace what runs there; give write access to the owner (e.g. "
			    "755 or u+w) and chown it to the user that needs it",
			    how, mode, target[0] ? target : "the files");
}

static void setuid_bits(struct lint_ctx *ctx, const bale_rule *rule, size_t i, uint32_t line,
			uint32_t col, const char *mode, const char *how, const char *target)
{
	bool ww, setid;

	mode_effects(mode, &ww, &setid);
	if (setid)
		lint_report(ctx, rule, i, line, col,
			    "%s %s sets the setuid/setgid bit on %s: the program then runs with "
			    "its owner's privileges, a classic way from any user to root; drop "
			    "the bit and grant only the capability it needs",
			    how, mode, target[0] ? target : "the files");
}

static void check_world_writable(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_mode(ctx, rule, world_writable);
}

static void check_setuid(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_mode(ctx, rule, setuid_bits);
}

const struct lint_rule lint_rule_BL2011 = {
    .meta = {.id = "BL2011",
	     .name = "world-writable-permissions",
	     .severity = BALE_SEV_WARNING,
	     .summary = "chmod 777, a+w or o+w on files that ship (the sticky /tmp mode 1777 is "
			"fine)",
	     .fix = "give write access to the owner only and chown the path to the user that "
		    "writes it",
	     .category = "security"},
    .check = check_world_writable,
    .needs_stages = true,
};

const struct lint_rule lint_rule_BL2012 = {
    .meta = {.id = "BL2012",
	     .name = "setuid-setgid-bit",
	     .severity = BALE_SEV_WARNING,
	     .summary = "A setuid or setgid bit is set on files that ship",
	     .fix = "drop the bit (chmod u-s,g-s) and grant the one capability the program needs "
		    "(setcap) if any",
	     .category = "security"},
    .check = check_setuid,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2013 expose-ssh-port, BL2014 privileged-port-non-root
 * =========================================================================================== */

/* Calls `fn` for each port range EXPOSE declares in the shipped stages. */
static void each_port(struct lint_ctx *ctx, const bale_rule *rule, const char *user,
		      void (*fn)(struct lint_ctx *, const bale_rule *, size_t, unsigned long,
				 unsigned long, const char *, const char *))
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_EXPOSE); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_command *c = lint_command(ctx, i);

		if (!c || !lint_ships(ctx, i))
			continue;
		for (size_t p = 0; p < c->list.n; p++) {
			char *value = expand_known(ctx, i, c->list.v[p]);

			if (!value)
				continue;
			for (char *tok = value; *tok;) {
				char *end, *next;
				unsigned long lo, hi;

				tok += strspn(tok, " \t");
				if (!*tok)
					break;
				next = tok + strcspn(tok, " \t");
				if (*next)
					*next++ = '\0';
				lo = hi = strtoul(tok, &end, 10);
				if (end != tok && *end == '-') {
					char *end2;

					hi = strtoul(end + 1, &end2, 10);
					end = end2 == end + 1 ? tok : end2;
				}
				if (end != tok && (!*end || *end == '/') && lo <= hi && hi <= 65535)
					fn(ctx, rule, i, lo, hi, tok, user);
				tok = next;
			}
			free(value);
		}
	}
}

static void ssh_port(struct lint_ctx *ctx, const bale_rule *rule, size_t i, unsigned long lo,
		     unsigned long hi, const char *spec, const char *user)
{
	(void)user;
	if (lo <= 22 && hi >= 22)
		lint_report(ctx, rule, i, 0, 0,
			    "EXPOSE %s declares SSH: a container that runs an SSH server carries "
			    "keys and a second way in; use `docker exec` / `kubectl exec` (or an "
			    "ephemeral debug container) to get a shell",
			    spec);
}

static void privileged_port(struct lint_ctx *ctx, const bale_rule *rule, size_t i, unsigned long lo,
			    unsigned long hi, const char *spec, const char *user)
{
	(void)hi;
	if (lo > 0 && lo < 1024)
		lint_report(ctx, rule, i, 0, 0,
			    "EXPOSE %s is below 1024 while the image runs as '%s': binding it "
			    "needs root or CAP_NET_BIND_SERVICE; Docker allows it "
			    "(ip_unprivileged_port_start=0) but Kubernetes does not by default, "
			    "so listen on a port of 1024 or more (8080) and map it",
			    spec, user);
}

static void check_ssh_port(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_port(ctx, rule, NULL, ssh_port);
}

static void check_privileged_port(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t u = final_user(ctx);
	const bale_command *c = lint_command(ctx, u);
	char *value, *colon;

	if (u == SIZE_MAX || !c || !c->value || !(value = expand_known(ctx, u, c->value)))
		return;
	if ((colon = strchr(value, ':')))
		*colon = '\0';
	if (*value && strcmp(value, "root") != 0 && strspn(value, "0") != strlen(value))
		each_port(ctx, rule, value, privileged_port);
	free(value);
}

const struct lint_rule lint_rule_BL2013 = {
    .meta = {.id = "BL2013",
	     .name = "expose-ssh-port",
	     .severity = BALE_SEV_WARNING,
	     .summary = "EXPOSE 22: the image runs an SSH server",
	     .fix = "drop the SSH server; use docker exec or kubectl exec (or debug) for a shell",
	     .category = "security"},
    .check = check_ssh_port,
    .needs_stages = true,
};

const struct lint_rule lint_rule_BL2014 = {
    .meta = {.id = "BL2014",
	     .name = "privileged-port-non-root",
	     .severity = BALE_SEV_WARNING,
	     .summary = "A port below 1024 is exposed by an image that runs as a non-root user",
	     .fix = "listen on a port of 1024 or more (8080, 8443) and map it at run time",
	     .category = "security"},
    .check = check_privileged_port,
    .needs_stages = true,
};
