/*
 * bale's rules about credentials (BL2002-BL2004): build arguments that land in the image
 * history, literal secrets written into the Dockerfile, and credential files copied into a
 * layer. The detection itself is secrets.c, shared with the image audit; values are masked in
 * every message (bale_mask_secret) so a lint report never spreads the secret further.
 */
#include "lint/internal.h"
#include "secrets/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_var_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* True when `text` reads variable `name` ($NAME or ${NAME...}). */
static bool refers_to(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strchr(text, '$'); p; p = strchr(p + 1, '$')) {
		const char *v = p + 1;

		if (*v == '{')
			v++;
		if (strncmp(v, name, n) == 0 && !is_var_char(v[n]))
			return true;
	}
	return false;
}

/* True when RUN `i` reads variable `name` in its script or heredocs. */
static bool run_reads(const struct lint_ctx *ctx, size_t i, const char *name)
{
	const bale_instruction *ins = &ctx->instrs[i];

	if (refers_to(ins->original, name))
		return true;
	for (size_t h = 0; h < ins->nheredocs; h++)
		if (refers_to(ins->heredocs[h].content, name))
			return true;
	return false;
}

/*
 * Reports where secret-named ARG `v` of stage `st` reaches the image: the first RUN after it
 * that reads it (else the first RUN, which receives it in its environment all the same), and
 * each ENV that copies it.
 */
static void report_arg_use(struct lint_ctx *ctx, const bale_rule *rule, const bale_stage *st,
			   const bale_var *v)
{
	size_t first_run = SIZE_MAX, reader = SIZE_MAX, at;
	uint32_t arg_line = ctx->instrs[v->instruction].start_line;

	for (size_t i = v->instruction + 1; i < st->end && i < ctx->ninstrs; i++) {
		const bale_command *c = lint_command(ctx, i);

		if (ctx->instrs[i].kind == BALE_INSTR_RUN) {
			if (first_run == SIZE_MAX)
				first_run = i;
			if (reader == SIZE_MAX && run_reads(ctx, i, v->name))
				reader = i;
		}
		if (!c || c->kind != BALE_INSTR_ENV)
			continue;
		for (size_t p = 0; p < c->pairs.n; p++)
			if (c->pairs.v[p].value && refers_to(c->pairs.v[p].value, v->name))
				lint_report(
				    ctx, rule, i, 0, 0,
				    "ENV %s copies build argument '%s' (line %u) into the "
				    "image's configuration, readable by everyone who pulls the "
				    "image: read the secret from RUN --mount=type=secret where "
				    "it is needed",
				    c->pairs.v[p].key, v->name, arg_line);
	}
	at = reader != SIZE_MAX ? reader : first_run;
	if (at == SIZE_MAX)
		return;
	lint_report(ctx, rule, at, 0, 0,
		    "this RUN %s build argument '%s' (line %u), and the image history records its "
		    "value with the ARG and with every RUN after it ('docker history' shows "
		    "'%s=...'): give the secret to this RUN with "
		    "--mount=type=secret,id=<id>,env=%s instead",
		    reader != SIZE_MAX ? "reads" : "receives", v->name, arg_line, v->name, v->name);
}

/* ===========================================================================================
 * BL2002 secret-build-arg-in-history
 * =========================================================================================== */

static void check_secret_args(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (!lint_stage_ships(ctx, s))
			continue;
		for (size_t k = 0; k < st->nvars; k++) {
			const bale_var *v = &st->vars[k];
			bool seen = false;

			if (v->is_env || v->onbuild || !bale_secret_name(v->name, strlen(v->name)))
				continue;
			for (size_t e = 0; e < k && !seen; e++)
				seen =
				    !st->vars[e].is_env && strcmp(st->vars[e].name, v->name) == 0;
			if (seen)
				continue;
			report_arg_use(ctx, rule, st, v);
		}
	}
}

const struct lint_rule lint_rule_BL2002 = {
    .meta = {.id = "BL2002",
	     .name = "secret-build-arg-in-history",
	     .severity = BALE_SEV_WARNING,
	     .summary = "A build argument named like a secret is recorded in the image history by "
			"a RUN, or copied into ENV",
	     .fix = "pass the secret with RUN --mount=type=secret,id=NAME (docker build --secret "
		    "id=NAME,env=NAME) instead of ARG",
	     .category = "security"},
    .check = check_secret_args,
    .needs_stages = true,
};

/* ===========================================================================================
 * BL2003 secret-value-in-dockerfile
 * =========================================================================================== */

/* At most this many findings per instruction: one token repeated is one problem. */
#define MAX_PER_INSTRUCTION 4

/*
 * Reports match `m` in `text`: `where` is the instruction ("ENV"), the name the value is
 * assigned to is taken from the match (or `name` when given), and the value is masked.
 */
static void report_secret(struct lint_ctx *ctx, const bale_rule *rule, size_t instr, uint32_t line,
			  uint32_t col, const char *where, const char *name, const char *text,
			  const bale_secret_match *m)
{
	bale_buf shown = BALE_BUF_INIT;
	int name_len = name ? (int)strlen(name) : (int)m->name_len;

	if (!name)
		name = text + m->name;
	if (m->kind == BALE_SECRET_PRIVATE_KEY)
		bale_buf_add(&shown, text + m->start, m->len);
	else
		bale_mask_secret(&shown, text + m->start, m->len);
	if (shown.err)
		goto out;
	if (name_len)
		lint_report(
		    ctx, rule, instr, line, col,
		    "%s sets '%.*s' to %s ('%s'): what the Dockerfile writes into ENV, ARG, "
		    "LABEL or a command stays in the image configuration and history for "
		    "everyone who pulls it; remove and rotate it, and pass it at build "
		    "time with RUN --mount=type=secret",
		    where, name_len, name, m->what, shown.ptr);
	else
		lint_report(ctx, rule, instr, line, col,
			    "%s holds %s ('%s'): what the Dockerfile writes into ENV, ARG, LABEL "
			    "or a command stays in the image configuration and history for "
			    "everyone who pulls it; remove and rotate it, and pass it at build "
			    "time with RUN --mount=type=secret",
			    where, m->what, shown.ptr);
out:
	bale_buf_release(&shown);
}

/* True when source line `line` of instruction `ins` is a heredoc body line. */
static bool in_heredoc(const bale_instruction *body, uint32_t line)
{
	for (size_t h = 0; h < body->nheredocs; h++)
		if (line >= body->heredocs[h].start_line && line < body->heredocs[h].end_line)
			return true;
	return false;
}

/*
 * Scans the source of instruction `i` (its continuation lines and heredoc bodies, so a finding
 * names its own line and column). A match on a comment line inside a continuation is skipped,
 * as BuildKit drops those lines. `src` is the Dockerfile's source, slen bytes. Returns how many
 * findings it made, at most `budget`.
 */
static int scan_instruction(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const char *src,
			    size_t slen, int budget)
{
	const bale_instruction *ins = &ctx->instrs[i];
	const bale_instruction *body = ins->kind == BALE_INSTR_ONBUILD && ins->sub ? ins->sub : ins;
	size_t end, start, from = 0, counted = 0, line_start = 0;
	const char *text;
	uint32_t line = ins->start_line;
	bale_secret_match m;
	int found = 0;

	end = ins->end_offset < slen ? ins->end_offset : slen;
	start = ins->start_offset < end ? ins->start_offset : end;
	text = src + start;
	while (found < budget && bale_secret_find(text, end - start, from, &m)) {
		size_t blank;

		/* Lines are counted only up to each match: most instructions have none. */
		for (; counted < m.start; counted++)
			if (text[counted] == '\n') {
				line++;
				line_start = counted + 1;
			}
		from = m.end > m.start ? m.end : m.start + 1;
		for (blank = line_start; text[blank] == ' ' || text[blank] == '\t'; blank++)
			;
		if (line != ins->start_line && text[blank] == '#' && !in_heredoc(body, line))
			continue;
		report_secret(ctx, rule, i, line, (uint32_t)(m.start - line_start + 1),
			      bale_instr_kind_name(ins->kind), NULL, text, &m);
		found++;
	}
	return found;
}

static void check_secret_values(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t slen;
	const char *src = bale_dockerfile_source(ctx->df, &slen);

	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		const bale_command *c = lint_command(ctx, i);
		int found = 0;

		switch (ins->kind) {
		case BALE_INSTR_FROM:
		case BALE_INSTR_UNKNOWN:
		case BALE_INSTR_MAINTAINER:
			continue;
		default:
			break;
		}
		found = scan_instruction(ctx, rule, i, src, slen, MAX_PER_INSTRUCTION);
		/* `ENV DB_PASSWORD hunter2`: the legacy form has no '=' for the text scan. */
		if (found || !c ||
		    (c->kind != BALE_INSTR_ENV && c->kind != BALE_INSTR_LABEL &&
		     c->kind != BALE_INSTR_ARG))
			continue;
		for (size_t p = 0; p < c->pairs.n; p++) {
			const bale_kv *kv = &c->pairs.v[p];
			bale_secret_match m = {.kind = BALE_SECRET_PASSWORD,
					       .what = "a literal credential"};

			if (!kv->value || !bale_secret_assignment(kv->key, strlen(kv->key),
								  kv->value, strlen(kv->value)))
				continue;
			m.len = strlen(kv->value);
			report_secret(ctx, rule, i, 0, 0, bale_instr_kind_name(ins->kind), kv->key,
				      kv->value, &m);
		}
	}
}

const struct lint_rule lint_rule_BL2003 = {
    .meta = {.id = "BL2003",
	     .name = "secret-value-in-dockerfile",
	     .severity = BALE_SEV_ERROR,
	     .summary = "A credential is written into the Dockerfile (ENV, ARG default, LABEL, a "
			"command or a heredoc)",
	     .fix = "remove it, rotate it, and pass it at build time with RUN "
		    "--mount=type=secret (or at run time from a secret store)",
	     .category = "security"},
    .check = check_secret_values,
};

/* ===========================================================================================
 * BL2004 secret-file-copied
 * =========================================================================================== */

/*
 * Reads the start of context file `src` into buf; returns the bytes read, or -1 when the file
 * cannot be read as a plain file inside the context (a glob, a variable, "..", a symlink, a
 * FIFO, missing). Never blocks and never leaves the context.
 */
static ssize_t read_context_file(const struct lint_ctx *ctx, const char *src, char *buf,
				 size_t size)
{
	char path[4096];
	struct stat st;
	ssize_t got;
	int fd;

	if (!ctx->context_dir || strpbrk(src, "*?[$\\") || strstr(src, ".."))
		return -1;
	while (*src == '/' || (src[0] == '.' && src[1] == '/'))
		src += *src == '/' ? 1 : 2;
	if (!*src ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", ctx->context_dir, src) >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	do
		got = read(fd, buf, size);
	while (got < 0 && errno == EINTR);
	close(fd);
	return got;
}

/* Whether `src` is what `proof` says, as far as the context shows it (unreadable: yes). */
static bool confirmed(const struct lint_ctx *ctx, const char *src, bale_secret_file_proof proof)
{
	char buf[16384];
	ssize_t got;

	if (proof == BALE_SECRET_FILE_BY_NAME)
		return true;
	got = read_context_file(ctx, src, buf, sizeof(buf));
	return got < 0 || bale_secret_file_confirmed(proof, buf, (size_t)got);
}

static void check_copy(struct lint_ctx *ctx, const bale_rule *rule, size_t i, const bale_command *c)
{
	const char *const kind = c->kind == BALE_INSTR_ADD ? "ADD" : "COPY";
	const char *tail = lint_ships(ctx, i)
			       ? ""
			       : " (this stage does not ship, but its layers stay in the build "
				 "cache and in any cache exported from it)";
	bale_secret_file_proof proof;
	const char *what;

	if (c->copy.from)
		return;
	for (size_t s = 0; s < c->copy.nsources; s++) {
		const char *src = c->copy.sources[s];

		if (lint_has_url(src))
			continue;
		what = bale_secret_file(src, strlen(src), &proof);
		if (!what || !confirmed(ctx, src, proof))
			continue;
		lint_report(ctx, rule, i, 0, 0,
			    "%s brings %s ('%s') into a layer, which keeps it even if a later RUN "
			    "deletes it%s: give it to the one RUN that needs it with "
			    "--mount=type=%s",
			    kind, what, src, tail, strstr(what, "SSH") ? "ssh" : "secret");
		return;
	}
	if (c->copy.dest && (what = bale_secret_file(c->copy.dest, strlen(c->copy.dest), &proof)) &&
	    c->copy.dest[strlen(c->copy.dest) - 1] != '/' &&
	    (c->copy.nsources != 1 || confirmed(ctx, c->copy.sources[0], proof)) &&
	    c->copy.nsources + c->copy.ncontents > 0)
		lint_report(ctx, rule, i, 0, 0,
			    "%s writes %s ('%s') into a layer, which keeps it even if a later RUN "
			    "deletes it%s: give it to the one RUN that needs it with "
			    "--mount=type=secret,target=%s",
			    kind, what, c->copy.dest, tail, c->copy.dest);
}

static void check_secret_files(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_command *c = lint_command(ctx, i);

		if (c && c->kind == BALE_INSTR_ONBUILD)
			c = c->onbuild.trigger;
		if (c && (c->kind == BALE_INSTR_COPY || c->kind == BALE_INSTR_ADD))
			check_copy(ctx, rule, i, c);
	}
}

const struct lint_rule lint_rule_BL2004 = {
    .meta = {.id = "BL2004",
	     .name = "secret-file-copied",
	     .severity = BALE_SEV_ERROR,
	     .summary = "A file that holds credentials (an SSH key, .env, .npmrc, a private key, "
			"cloud or registry credentials) is copied into the image",
	     .fix = "mount it into the one RUN that needs it: RUN --mount=type=secret,id=... (or "
		    "--mount=type=ssh for SSH keys), and keep it out with .dockerignore",
	     .category = "security"},
    .check = check_secret_files,
    .needs_stages = true,
};
