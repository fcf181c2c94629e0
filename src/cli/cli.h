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
/*
 * What getopt_long's ':' (an option without its value) or '?' (an unknown option) means for
 * command `cmd`, said as a usage error; returns BALE_EXIT_USAGE.
 */
int cli_getopt_error(const char *cmd, int c, char **argv);
/* Prints a command's help on stdout. */
void cli_print_help(const struct cli_command *cmd);
/* Finds a command by name; NULL when there is none. */
const struct cli_command *cli_find_command(const char *name);

/* Writes all of `len` bytes to standard output; returns an exit code. */
int cli_write_stdout(const char *data, size_t len);

/*
 * An output: standard output, or a temporary file next to FILE renamed over it when the
 * command succeeds, so a failing command leaves no partial file behind.
 */
struct cli_output {
	int fd;
	const char *name; /* for messages */
	const char *path; /* FILE; NULL for standard output */
	bale_buf tmp;	  /* the temporary file's path */
};

/* Opens `path` ("-" or NULL: standard output). Returns an exit code. */
int cli_output_open(struct cli_output *o, const char *path);
/* Writes all bytes (a callback for the library's writers: `ctx` is the cli_output). */
int cli_output_write(void *ctx, const char *data, size_t len);
/* With `ok`, puts the file in place; else removes the temporary file. Returns an exit code. */
int cli_output_close(struct cli_output *o, bool ok);

#include "bale/report.h"

/* The reports of a findings command (lint, audit): each --format, with the --output after it. */
#define CLI_MAX_REPORTS 8
struct cli_reports {
	struct {
		bale_format format;
		const char *path; /* NULL: standard output */
	} v[CLI_MAX_REPORTS];
	size_t n;
};

/* -f/--format FORMAT of command `cmd`: one more report. Returns an exit code. */
int cli_reports_format(struct cli_reports *r, const char *cmd, const char *format);
/* -o/--output FILE: where the last report goes (a tty report when none was asked yet). */
int cli_reports_output(struct cli_reports *r, const char *cmd, const char *path);
/* After the options: a tty report on standard output when none was asked. */
void cli_reports_default(struct cli_reports *r);
/*
 * Renders `f` into each report, in order; the tty ones on a terminal in colour when
 * `color_ok`. With `files_ok` false the reports to files are not written (nothing half-true is
 * left behind). Returns an exit code.
 */
int cli_reports_write(const struct cli_reports *r, const bale_findings *f, bool color_ok,
		      bool files_ok);

/* "1048576", "512K", "16M", "1G" (binary multiples). */
bool cli_parse_size(const char *s, size_t *out);

#include "bale/image.h"

/*
 * The options of the commands that read an image (inspect, audit): which image of an index,
 * and the bounds against decompression bombs. Their long_options entries, their help lines,
 * and the handler that sets them in the image options.
 */
enum {
	CLI_OPT_PLATFORM = 0x1000,
	CLI_OPT_MAX_LAYER_SIZE,
	CLI_OPT_MAX_RATIO,
	CLI_OPT_MAX_ENTRIES,
};
#define CLI_IMAGE_LONG_OPTIONS                                                                     \
	{"platform", required_argument, NULL, CLI_OPT_PLATFORM},                                   \
	    {"max-layer-size", required_argument, NULL, CLI_OPT_MAX_LAYER_SIZE},                   \
	    {"max-ratio", required_argument, NULL, CLI_OPT_MAX_RATIO},                             \
	{                                                                                          \
		"max-entries", required_argument, NULL, CLI_OPT_MAX_ENTRIES                        \
	}
#define CLI_IMAGE_HELP                                                                             \
	"      --platform OS/ARCH[/VARIANT]  the image to pick from a multi-platform index\n"      \
	"                            (default: this machine's)\n"                                  \
	"      --max-layer-size SIZE  refuse a layer larger than SIZE uncompressed (default "      \
	"64G)\n"                                                                                   \
	"      --max-ratio N         refuse a layer that inflates more than N times, past its\n"   \
	"                            first 64 MiB (default 200; 0: no limit)\n"                    \
	"      --max-entries N       refuse a layer of more than N tar entries (default "          \
	"4194304)\n"
/* The case labels of those options in a command's getopt switch. */
#define CLI_IMAGE_OPTION_CASES                                                                     \
	case CLI_OPT_PLATFORM:                                                                     \
	case CLI_OPT_MAX_LAYER_SIZE:                                                               \
	case CLI_OPT_MAX_RATIO:                                                                    \
	case CLI_OPT_MAX_ENTRIES
/*
 * Sets image option `opt` (one of CLI_OPT_*) of command `cmd` from `arg`. Returns 0, or
 * BALE_EXIT_USAGE after saying what is wrong.
 */
int cli_image_option(bale_image_options *o, const char *cmd, int opt, const char *arg);

#include "bale/dockerfile.h"

/* --build-arg values, as docker build reads them (NAME=VALUE, or NAME from the environment). */
struct cli_build_args {
	bale_build_arg *v;
	size_t n, alloc;
};

/* Adds one --build-arg of command `cmd`; returns an exit code. */
int cli_build_arg_add(struct cli_build_args *a, const char *cmd, const char *spec);
void cli_build_args_release(struct cli_build_args *a);

#define CLI_COMMAND(name) extern const struct cli_command cli_cmd_##name
CLI_COMMAND(audit);
CLI_COMMAND(inspect);
CLI_COMMAND(lint);
CLI_COMMAND(parse);

#endif
