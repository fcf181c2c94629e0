/* The bale command line: global options, the command table and shared output helpers. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct cli_command *const commands[] = {
    &cli_cmd_audit,
    &cli_cmd_inspect,
    &cli_cmd_lint,
    &cli_cmd_parse,
};

static const char usage_text[] =
    "usage: bale [--version] [--help] <command> [<args>]\n"
    "\n"
    "bale builds, checks and shrinks container images without a daemon.\n"
    "\n"
    "Commands:\n";

static const char usage_tail[] =
    "\n"
    "Run 'bale help <command>' or 'bale <command> --help' for a command's options.\n"
    "Exit status: 0 ok, 1 findings at or above the failure threshold, 2 usage error,\n"
    "3 input could not be read or parsed.\n";

int cli_error(int exit_code, const char *fmt, ...)
{
	va_list ap;

	fputs("bale: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return exit_code;
}

int cli_library_error(void)
{
	const bale_error *err = bale_error_last();
	int exit_code = err->code == BALE_EINVAL ? BALE_EXIT_USAGE : BALE_EXIT_INPUT;

	return cli_error(exit_code, "%s", err->message[0] ? err->message : "unknown error");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bale %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'bale %s --help' for usage.\n", cmd);
	return BALE_EXIT_USAGE;
}

void cli_print_help(const struct cli_command *cmd)
{
	fputs(cmd->help, stdout);
}

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int cli_write_stdout(const char *data, size_t len)
{
	if (len && fwrite(data, 1, len, stdout) != len)
		return cli_error(BALE_EXIT_INPUT, "cannot write output: %s", strerror(errno));
	if (fflush(stdout) != 0)
		return cli_error(BALE_EXIT_INPUT, "cannot write output: %s", strerror(errno));
	return BALE_EXIT_OK;
}

static void print_usage(FILE *out)
{
	fputs(usage_text, out);
	for (size_t i = 0; i < BALE_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "  %-10s %s\n", "help", "Show the help of a command");
	fputs(usage_tail, out);
}

static int run_help(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		print_usage(stdout);
		return BALE_EXIT_OK;
	}
	cmd = cli_find_command(argv[1]);
	if (!cmd)
		return cli_error(BALE_EXIT_USAGE, "'%s' is not a bale command; see 'bale --help'",
				 argv[1]);
	cli_print_help(cmd);
	return BALE_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		print_usage(stderr);
		return BALE_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return run_help(1, argv);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("bale version %s\n", bale_version());
		return BALE_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0)
		return run_help(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return cli_error(BALE_EXIT_USAGE, "unknown option '%s'; see 'bale --help'",
				 argv[1]);
	cmd = cli_find_command(argv[1]);
	if (!cmd)
		return cli_error(BALE_EXIT_USAGE, "'%s' is not a bale command; see 'bale --help'",
				 argv[1]);
	return cmd->run(argc - 1, argv + 1);
}
