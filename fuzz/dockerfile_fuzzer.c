/*
 * Fuzz target for the Dockerfile front end: every byte string goes through the parser and, when
 * it parses, through everything built on the tree (BuildKit dump, stage model, word expansion of
 * every instruction, JSON), so a crash, hang, leak or undefined behaviour anywhere on that path
 * shows. Beyond the sanitizers it checks the contracts a caller relies on: a failure has a code
 * and a message that names the file; a tree's positions lie inside the input.
 */
#include "bale/dockerfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILENAME "fuzz.Dockerfile"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* A library failure has its code and a message; with `named`, the message names the file. */
static void check_error(int rc, bool named)
{
	const bale_error *err = bale_error_last();

	check(rc < 0 && err->code == rc && err->message && err->message[0]);
	check(!named || strstr(err->message, FILENAME) != NULL);
}

static size_t touch(const char *s)
{
	return s ? strlen(s) : 0;
}

static void check_instruction(const bale_instruction *ins, size_t len)
{
	check(ins->name && ins->keyword && ins->original);
	check(ins->start_line >= 1 && ins->start_line <= ins->end_line && ins->start_col >= 1);
	check(ins->start_offset <= ins->end_offset && ins->end_offset <= len);
	check(ins->nflags == 0 || ins->flags);
	check(ins->nargs == 0 || ins->args);
	for (size_t i = 0; i < ins->nflags; i++)
		touch(ins->flags[i]);
	for (size_t i = 0; i < ins->nargs; i++)
		touch(ins->args[i]);
	for (size_t i = 0; i < ins->ncomments; i++)
		touch(ins->comments[i]);
	for (size_t i = 0; i < ins->nheredocs; i++) {
		const bale_heredoc *h = &ins->heredocs[i];

		touch(h->name);
		touch(h->content);
		check(h->start_line <= h->end_line && h->end_line <= ins->end_line);
	}
	check(!ins->sub || ins->kind == BALE_INSTR_ONBUILD);
	if (ins->sub)
		check_instruction(ins->sub, len);
}

static void exercise_stages(const bale_dockerfile *df, bale_buf *out)
{
	bale_stages *stages = NULL;
	const bale_stage *list;
	size_t count, nstages;
	int rc;

	rc = bale_dockerfile_stages(&stages, df, NULL);
	if (rc != 0) {
		check_error(rc, true);
		check(bale_dockerfile_to_json(out, df, NULL, 0) == 0);
		return;
	}
	bale_stages_commands(stages, &count);
	list = bale_stages_list(stages, &nstages);
	check(nstages == 0 || bale_stages_target(stages) < nstages);
	for (size_t i = 0; i < nstages; i++) {
		check(list[i].index == i);
		for (size_t k = 0; k < list[i].ndeps; k++)
			check(list[i].deps[k] < i); /* edges only point back: no cycles */
	}
	for (size_t i = 0; i < count; i++) {
		bale_expansion exp = BALE_EXPANSION_INIT;

		rc = bale_stages_expand_instruction(&exp, stages, i);
		if (rc != 0)
			check_error(rc, false);
		bale_expansion_release(&exp);
	}
	check(bale_dockerfile_to_json(out, df, stages, BALE_JSON_PRETTY) == 0);
	bale_stages_free(stages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bale_parse_opts opts = {.filename = FILENAME, .max_size = 1 << 20};
	bale_buf out = BALE_BUF_INIT;
	bale_dockerfile *df = NULL;
	const bale_instruction *ins;
	size_t count, len;
	int rc;

	rc = bale_dockerfile_parse(&df, (const char *)data, size, &opts);
	if (rc != 0) {
		check(df == NULL);
		check_error(rc, true);
		return 0;
	}
	check(bale_dockerfile_source(df, &len) != NULL && len == size);
	ins = bale_dockerfile_instructions(df, &count);
	check(count > 0);
	for (size_t i = 0; i < count; i++)
		check_instruction(&ins[i], size);
	check(bale_dockerfile_escape(df) == '\\' || bale_dockerfile_escape(df) == '`');

	check(bale_dockerfile_dump_buildkit(&out, df) == 0);
	check(out.len > 0 && out.ptr[out.len - 1] == '\n');
	bale_buf_reset(&out);
	exercise_stages(df, &out);

	bale_buf_release(&out);
	bale_dockerfile_free(df);
	return 0;
}
