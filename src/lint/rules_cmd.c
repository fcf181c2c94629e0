/*
 * Rules about what the image runs and declares: commands that have no place in a build step,
 * EXPOSE ports, HEALTHCHECK, and the form of CMD and ENTRYPOINT.
 */
#include "lint/internal.h"

#include <ctype.h>
#include <string.h>

/* The instruction itself, or the one an ONBUILD wraps. */
static const bale_instruction *unwrap(const bale_instruction *ins)
{
	return ins->kind == BALE_INSTR_ONBUILD && ins->sub ? ins->sub : ins;
}

/* --- DL3001 ------------------------------------------------------------------------------- */

static const struct {
	const char *tool;
	const char *why;
} irrelevant[] = {
    {"free", "memory figures of the build container say nothing about where the image runs"},
    {"ifconfig", "the build container's network is not the one the image runs with"},
    {"kill", "a build step has no long-running processes of yours to signal"},
    {"mount", "mounts made in a RUN end with it; use RUN --mount or a volume at run time"},
    {"ps", "the processes of a build step are not those of the running container"},
    {"service", "services started in a RUN stop when it ends; start them in CMD or "
		"ENTRYPOINT"},
    {"shutdown", "there is no system to shut down in a build step"},
    {"ssh", "a build step has no keys or agent; use RUN --mount=type=ssh to reach hosts "
	    "over ssh"},
    {"top", "an interactive monitor has no terminal in a build"},
    {"vim", "an interactive editor has no terminal in a build; edit files with sed or COPY "
	    "them in"},
};

/* True when the RUN has an ssh mount: ssh is what it is for. */
static bool has_ssh_mount(const struct lint_ctx *ctx, size_t instr)
{
	const bale_command *c = lint_command(ctx, instr);

	if (c && c->kind == BALE_INSTR_ONBUILD)
		c = c->onbuild.trigger;
	for (size_t m = 0; c && c->kind == BALE_INSTR_RUN && m < c->run.nmounts; m++)
		if (c->run.mounts[m].type == BALE_MOUNT_SSH)
			return true;
	return false;
}

/* True when the script starts a job in the background (`server &`): kill then has a target. */
static bool has_background_job(const bale_cmd *cmds, size_t n)
{
	for (size_t c = 0; c < n; c++)
		if (cmds[c].connector == BALE_CONN_BACKGROUND ||
		    (cmds[c].context & BALE_CMD_IN_BACKGROUND))
			return true;
	return false;
}

static void irrelevant_command(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			       const bale_cmd *cmd, void *arg)
{
	size_t n;
	const bale_cmd *all = bale_cmd_script_commands(lint_script(ctx, instr), &n);

	(void)arg;
	for (size_t k = 0; k < BALE_ARRAY_SIZE(irrelevant); k++) {
		if (!lint_cmd_is(cmd, irrelevant[k].tool))
			continue;
		if ((strcmp(irrelevant[k].tool, "kill") == 0 && has_background_job(all, n)) ||
		    (strcmp(irrelevant[k].tool, "ssh") == 0 && has_ssh_mount(ctx, instr)))
			return;
		lint_report(ctx, rule, instr, cmd->line, cmd->col, "'%s' in a build step: %s",
			    cmd->name, irrelevant[k].why);
		return;
	}
}

static void check_irrelevant(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tools[] = {"free", "ifconfig", "kill",	    "mount",
					    "ps",   "service",	"shutdown", "ssh",
					    "top",  "vim",	NULL};

	lint_each_command(ctx, rule, tools, irrelevant_command, NULL);
}

const struct lint_rule lint_rule_DL3001 = {
    .meta = {.id = "DL3001",
	     .name = "no-irrelevant-commands",
	     .severity = BALE_SEV_INFO,
	     .summary = "For some bash commands it makes no sense running them in a Docker "
			"container like ssh, vim, shutdown, service, ps, free, top, kill, mount, "
			"ifconfig",
	     .fix = "remove the command from the RUN; start services in CMD or ENTRYPOINT",
	     .category = "correctness"},
    .check = check_irrelevant,
};

/* --- DL3011 ------------------------------------------------------------------------------- */

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/* The known value of a port word that is one variable ($PORT, ${PORT}); else the word. */
static const char *port_value(const struct lint_ctx *ctx, size_t instr, const char *w)
{
	size_t len = strlen(w), start, end;
	bool brace;
	const char *v;

	if (len < 2 || w[0] != '$')
		return w;
	brace = w[1] == '{';
	start = end = brace ? 2 : 1;
	while (end < len && name_char(w[end], end == start))
		end++;
	if (end == start || end + brace != len || (brace && w[end] != '}'))
		return w;
	v = lint_var(ctx, instr, w + start, end - start);
	return v ? v : w;
}

/*
 * Reads the numbers of "PORT[-PORT][/proto]"; the first one over 65535 is returned in *bad,
 * *len. False when there is none, or the word is not made of numbers (another rule's business).
 */
static bool out_of_range(const char *p, const char **bad, size_t *len)
{
	for (int part = 0; part < 2; part++) {
		unsigned long v = 0;
		const char *start = p;

		while (*p >= '0' && *p <= '9') {
			if (v <= 65535)
				v = v * 10 + (unsigned long)(*p - '0');
			p++;
		}
		if (p == start)
			return false;
		if (v > 65535) {
			*bad = start;
			*len = (size_t)(p - start);
			return true;
		}
		if (*p != '-')
			break;
		p++;
	}
	return false;
}

static void check_ports(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	/* The EXPOSE instructions and the ONBUILD ones (their trigger may be one). */
	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_EXPOSE, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = unwrap(&ctx->instrs[i]);

		if (ins->kind != BALE_INSTR_EXPOSE)
			continue;
		for (size_t a = 0; a < ins->nargs; a++) {
			const char *port = port_value(ctx, i, ins->args[a]), *bad;
			size_t len;

			if (!out_of_range(port, &bad, &len))
				continue;
			lint_report(ctx, rule, i, 0, 0,
				    "EXPOSE %s: %.*s is not a port; ports go from 0 to 65535",
				    ins->args[a], (int)len, bad);
		}
	}
}

const struct lint_rule lint_rule_DL3011 = {
    .meta = {.id = "DL3011",
	     .name = "valid-port-range",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Valid UNIX ports range from 0 to 65535",
	     .fix = "expose a port between 0 and 65535",
	     .category = "correctness"},
    .check = check_ports,
};

/* --- DL3012 ------------------------------------------------------------------------------- */

static void check_healthchecks(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t last = SIZE_MAX;
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_FROM, BALE_INSTR_HEALTHCHECK);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		if (ctx->instrs[i].kind == BALE_INSTR_FROM) {
			last = SIZE_MAX;
			continue;
		}
		if (last != SIZE_MAX)
			lint_report(ctx, rule, i, 0, 0,
				    "a second HEALTHCHECK in this stage: only the last one takes "
				    "effect, so the one on line %u does nothing; keep one",
				    (unsigned)ctx->instrs[last].start_line);
		last = i;
	}
}

const struct lint_rule lint_rule_DL3012 = {
    .meta = {.id = "DL3012",
	     .name = "single-healthcheck",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Multiple HEALTHCHECK instructions",
	     .fix = "keep one HEALTHCHECK per stage",
	     .category = "correctness"},
    .check = check_healthchecks,
};

/* --- DL3025 ------------------------------------------------------------------------------- */

/* A shell variable assignment word: NAME=value, NAME a shell identifier. */
static bool is_assignment(const char *word, size_t len)
{
	size_t i = 0;

	if (len == 0 || !(isalpha((unsigned char)word[0]) || word[0] == '_'))
		return false;
	while (i < len && (isalnum((unsigned char)word[i]) || word[i] == '_'))
		i++;
	return i < len && word[i] == '=';
}

static void check_exec_form(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_CMD, BALE_INSTR_ENTRYPOINT);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = &ctx->instrs[i];
		const char *kw, *cmd;
		size_t len;
		bool assignments = false;

		if (ins->json || ins->nargs == 0)
			continue;
		kw = bale_instr_kind_name(ins->kind);
		cmd = ins->args[0];
		cmd += strspn(cmd, " \t");
		len = strcspn(cmd, " \t");
		/* CMD GOOS=linux go build: the program is 'go'; exec form cannot set variables */
		while (len > 0 && is_assignment(cmd, len) && cmd[len] != '\0') {
			assignments = true;
			cmd += len;
			cmd += strspn(cmd, " \t");
			len = strcspn(cmd, " \t");
		}
		lint_report(
		    ctx, rule, i, 0, 0,
		    "%s in shell form runs as /bin/sh -c \"...\": the shell is PID 1 and does "
		    "not pass SIGTERM on to '%.*s', so docker stop waits, then kills it; "
		    "%swrite %s [\"%.*s\", ...] (exec form)",
		    kw, (int)len, cmd, assignments ? "set the variables with ENV and " : "", kw,
		    (int)len, cmd);
	}
}

const struct lint_rule lint_rule_DL3025 = {
    .meta = {.id = "DL3025",
	     .name = "exec-form-cmd",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Use arguments JSON notation for CMD and ENTRYPOINT arguments",
	     .fix = "write CMD [\"executable\", \"arg\"] (exec form)",
	     .category = "correctness"},
    .check = check_exec_form,
};
