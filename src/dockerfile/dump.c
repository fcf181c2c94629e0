/*
 * BuildKit's AST dump (parser.Node.Dump): one S-expression per instruction, strings quoted as
 * Go's strconv.Quote does, flags as Go's %q of a string slice. `bale parse --format buildkit`
 * prints it, and the conformance tests compare it byte for byte with BuildKit's own output.
 */
#include "dockerfile/internal.h"
#include "util/unicode.h"

static void dump_node(bale_buf *out, const bale_instruction *ins)
{
	size_t start = out->len;

	bale_buf_adds(out, ins->name);
	if (ins->nflags) {
		bale_buf_adds(out, " [");
		for (size_t i = 0; i < ins->nflags; i++) {
			if (i)
				bale_buf_addch(out, ' ');
			bale_go_quote(out, ins->flags[i], strlen(ins->flags[i]));
		}
		bale_buf_addch(out, ']');
	}
	if (ins->sub) {
		bale_buf_adds(out, " (");
		dump_node(out, ins->sub);
		bale_buf_addch(out, ')');
	}
	for (size_t i = 0; i < ins->nargs; i++) {
		bale_buf_addch(out, ' ');
		bale_go_quote(out, ins->args[i], ins->arg_lens[i]);
	}
	/* Go trims the result: only an empty name can leave a leading space. */
	if (ins->name[0] == '\0' && out->len > start && out->ptr[start] == ' ') {
		memmove(out->ptr + start, out->ptr + start + 1, out->len - start - 1);
		bale_buf_truncate(out, out->len - 1);
	}
}

int bale_dockerfile_dump_buildkit(bale_buf *out, const bale_dockerfile *df)
{
	for (size_t i = 0; i < df->ninstrs; i++) {
		bale_buf_addch(out, '(');
		dump_node(out, &df->instrs[i]);
		bale_buf_adds(out, ")\n");
	}
	if (out->err)
		return out->err;
	return 0;
}
