/*
 * Fuzz target for the shell-command model: every byte string is parsed as a shell script (with
 * a lookup that knows a few variables, one of them holding a script that names itself), and,
 * when it parses as a Dockerfile, every RUN, CMD and ENTRYPOINT goes through
 * bale_cmd_parse_instruction() with positions mapped onto the file. Beyond the sanitizers it
 * checks the contracts a lint rule relies on: parsing never fails on bad shell, an error has a
 * position, every index (parent, pipes, arg0, option words) points inside the script, every
 * word and option is a readable string, and every query helper answers.
 */
#include "bale/command.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract: say which one, then crash so the fuzzer keeps the input. */
static void check_at(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "command_fuzzer.c:%d: contract broken\n", line);
		abort();
	}
}
#define check(ok) check_at((ok), __LINE__)

static bool lookup(void *ctx, const char *name, size_t len, const char **value, size_t *vlen)
{
	static const struct {
		const char *name, *value;
	} vars[] = {
	    {"V", "1.0"},
	    {"PKGS", "curl git  wget"},
	    {"E", ""},
	    {"S", "sh -c \"$S\" && apt-get install $PKGS"},
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0) {
			*value = vars[i].value;
			*vlen = strlen(vars[i].value);
			return true;
		}
	return false;
}

static void check_word(const bale_cmd_word *w)
{
	check(w->value && w->raw);
	check(w->value[w->len] == '\0' && w->raw[w->raw_len] == '\0');
	check(w->line >= 1 && w->col >= 1);
}

static void check_script(const bale_cmd_script *s)
{
	size_t n;
	const bale_cmd *cmds = bale_cmd_script_commands(s, &n);
	uint32_t line = 0, col = 0;
	const char *err = bale_cmd_script_error(s, &line, &col);

	check(n == 0 || cmds);
	check(!err || (err[0] && line >= 1 && col >= 1));
	for (size_t i = 0; i < n; i++) {
		const bale_cmd *c = &cmds[i];
		size_t nops, npkgs;
		const bale_cmd_word *const *ops = bale_cmd_operands(c, &nops);
		const bale_pkg *pkgs = bale_cmd_packages(c, &npkgs);

		check(c->parent == BALE_CMD_NONE || (c->parent < n && c->parent != i));
		check(c->pipe_next == BALE_CMD_NONE || c->pipe_next < n);
		check(c->pipe_prev == BALE_CMD_NONE || c->pipe_prev < n);
		check(c->pipe_next == BALE_CMD_NONE || cmds[c->pipe_next].pipe_prev == i);
		check(c->connector <= BALE_CONN_BACKGROUND);
		check(c->line >= 1 && c->col >= 1);
		check(c->name != NULL);
		check(c->nwords == 0 || c->arg0 < c->nwords);
		check(c->subcommand_word == BALE_CMD_NONE || c->subcommand_word < c->nwords);
		for (size_t k = 0; k < c->nwords; k++)
			check_word(&c->words[k]);
		for (size_t k = 0; k < c->nassigns; k++)
			check_word(&c->assigns[k]);
		for (size_t k = 0; k < c->nredirs; k++) {
			const bale_cmd_redir *r = &c->redirs[k];

			check(r->target.value && r->target.raw);
			check(r->op <= BALE_REDIR_HERESTRING);
			check((r->heredoc != NULL) == (r->op == BALE_REDIR_HEREDOC));
			if (r->heredoc)
				check(r->heredoc->body &&
				      memchr(r->heredoc->body, '\0', r->heredoc->len + 1) != NULL);
		}
		for (size_t k = 0; k < c->nwrappers; k++)
			check(c->wrappers[k] < c->arg0);
		for (size_t k = 0; k < c->nopts; k++) {
			check(c->opts[k].name && c->opts[k].name[0]);
			check(c->opts[k].word < c->nwords);
			check(!c->opts[k].value || strlen(c->opts[k].value) < ((size_t)1 << 30));
		}
		check(nops == c->noperands && (nops == 0 || ops));
		for (size_t k = 0; k < nops; k++)
			check(ops[k] >= c->words && ops[k] < c->words + c->nwords);
		check(npkgs == c->npkgs && (npkgs == 0 || pkgs));
		for (size_t k = 0; k < npkgs; k++) {
			check(pkgs[k].spec && pkgs[k].name >= pkgs[k].spec);
			check(pkgs[k].name_len <= strlen(pkgs[k].spec));
			check(!pkgs[k].version || strlen(pkgs[k].version) >= pkgs[k].version_len);
		}
		/* Every query answers on every command. */
		bale_cmd_is(c, "apt-get");
		bale_cmd_is_any(c, "pip", "npm", NULL);
		bale_cmd_subcommand(c);
		bale_cmd_has_flag(c, "-y", "--yes", NULL);
		bale_cmd_flag_value(c, "-o", "--option", NULL);
		bale_cmd_has_operand(c, "install");
		bale_cmd_has_wrapper(c, "sudo");
		bale_cmd_assignment(c, "V");
	}
	bale_cmd_script_not_shell(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bale_cmd_opts opts = {.lookup = lookup};
	bale_cmd_script *s = NULL;
	bale_dockerfile *df = NULL;
	char *copy = malloc(size + 1);
	int rc;

	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	copy[size] = '\0';

	rc = bale_cmd_parse(&s, copy, size, &opts);
	check(rc == 0 || rc == BALE_ENOMEM);
	if (rc == 0)
		check_script(s);
	bale_cmd_script_free(s);

	/* The package readers take any string. */
	for (int m = BALE_PKG_APT; m <= BALE_PKG_COMPOSER; m++) {
		bale_pkg p;

		bale_pkg_parse(&p, (bale_pkg_manager)m, copy);
		check(p.name == copy && p.name_len <= size);
	}

	if (bale_dockerfile_parse(&df, copy, size, NULL) == 0) {
		size_t n, len;
		const bale_instruction *ins = bale_dockerfile_instructions(df, &n);
		const char *src = bale_dockerfile_source(df, &len);

		for (size_t i = 0; i < n; i++) {
			const bale_instruction *in = &ins[i];
			const bale_instruction *run = in->sub ? in->sub : in;
			bool runs = run->kind == BALE_INSTR_RUN || run->kind == BALE_INSTR_CMD ||
				    run->kind == BALE_INSTR_ENTRYPOINT;

			for (int with_source = 0; with_source < 2; with_source++) {
				s = NULL;
				rc = bale_cmd_parse_instruction(&s, in, with_source ? src : NULL,
								len, bale_dockerfile_escape(df),
								&opts);
				check(runs ? (rc == 0 || rc == BALE_ENOMEM) : rc == BALE_EINVAL);
				if (rc == 0) {
					size_t nc;
					const bale_cmd *c = bale_cmd_script_commands(s, &nc);

					check_script(s);
					/* positions stay inside the instruction's lines */
					for (size_t k = 0; with_source && k < nc; k++)
						check(c[k].line >= in->start_line &&
						      c[k].line <= in->end_line);
				}
				bale_cmd_script_free(s);
			}
		}
		bale_dockerfile_free(df);
	} else {
		bale_error_clear();
	}
	free(copy);
	return 0;
}
