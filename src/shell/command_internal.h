/*
 * command_internal.h: what command.c (the shell parser) and tools.c (the tool tables and option
 * parsing) share, and the layout of the opaque bale_cmd_script.
 *
 * A script lives in one arena: the script itself (first), every command's arrays, every word
 * and string, and usually the command array. That array starts in the arena with room for a
 * few commands; a script with more moves it to a malloc'd block, grown as commands are found,
 * so indexes (parent, pipe_next) stay valid while pointers into it would not. The finished
 * script keeps that block as it is (`heap_cmds`, freed with the script; `alloc` its capacity)
 * rather than copying it into the arena.
 */
#ifndef BALE_COMMAND_INTERNAL_H
#define BALE_COMMAND_INTERNAL_H

#include "bale/command.h"
#include "util/util.h"

struct bale_cmd_script {
	bale_arena arena;
	bale_cmd *cmds;
	size_t ncmds, alloc;
	bale_cmd *heap_cmds; /* cmds when malloc'd (owned), else NULL */
	const char *error;   /* first syntax problem (in the arena), NULL when none */
	uint32_t error_line, error_col;
	bool not_shell;
};

/*
 * Gives back the end of `p`, the arena's last allocation (of `size` bytes), keeping `keep`:
 * arrays filled in place are cut at their bound, then trimmed.
 */
static inline void cmd_shrink(bale_arena *arena, void *p, size_t size, size_t keep)
{
	size_t rounded = (size + 15) & ~(size_t)15, kept = (keep + 15) & ~(size_t)15;

	if (arena->head && keep <= size &&
	    (unsigned char *)p + rounded == arena->head->data + arena->used)
		arena->used -= rounded - kept;
}

/* A script string to parse on behalf of a command (sh -c, su -c, eval, here-string). */
struct cmd_nested {
	const char *text; /* NULL when none */
	size_t len;
	uint32_t line, col; /* where text starts */
	bool flat;	    /* text's lines are not the source's: no positions inside it */
	bool stdin_script;  /* a shell reading its script from standard input (bash <<EOF) */
};

/*
 * Reads cmd->words as the tool they run: sets every field from name to known_tool (name, arg0,
 * wrappers, subcommand, opts, operands, pkgs, ...; arrays in `arena`), the parser leaving them
 * unset, and says in *nested whether the command carries a script of its own. Returns 0 or
 * BALE_ENOMEM.
 */
int cmd_analyze(bale_arena *arena, bale_cmd *cmd, struct cmd_nested *nested);

/* True when `name` (a normalized tool name) is a POSIX-like shell: sh, bash, dash, ... */
bool cmd_is_shell_name(const char *name);

/* True when the tool tables are well formed, as tools.c says where it defines it (unit tests). */
bool cmd_tools_sorted(void);
/* True when the first-byte index and the lengths of the reserved words match their table (tests).
 */
bool cmd_keywords_indexed(void);

#endif
