/*
 * cli.h: what the subcommands share. Only the CLI prints and picks exit codes; each command is
 * a cmd_<name>.c with a run function and its help text, listed in the table in main.c.
 */
#ifndef BALE_CLI_H
#define BALE_CLI_H

#include "util/util.h"

/* Exit codes, documented in docs/cli.md. */
enum {
	BALE_EXIT_OK = 0,	/* success, nothing at or above the failure threshold */
	BALE_EXIT_FINDINGS = 1, /* findings at or above the threshold */
	BALE_EXIT_USAGE = 2,	/* wrong command line */
	BALE_EXIT_INPUT = 3,	/* input could not be read or parsed */
};

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for `bale --help` */
	const char *help;    /* the full text for `bale help CMD` and `bale CMD --help` */
};

/* Prints "bale: <message>" on stderr and returns `exit_code`. */
int cli_error(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the library's last error and returns the exit code that fits its kind. */
int cli_library_error(void);
/* Prints "bale <cmd>: <message>" and a pointer to --help; returns BALE_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a command's help on stdout. */
void cli_print_help(const struct cli_command *cmd);
/* Finds a command by name; NULL when there is none. */
const struct cli_command *cli_find_command(const char *name);

/* Writes all of `len` bytes to standard output; returns an exit code. */
int cli_write_stdout(const char *data, size_t len);

#define CLI_COMMAND(name) extern const struct cli_command cli_cmd_##name
CLI_COMMAND(parse);

#endif
