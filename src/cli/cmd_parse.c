/*
 * `bale parse`: reads one Dockerfile and prints its model, as JSON (the typed instructions and
 * the stage graph, docs/parse-json.md) or as BuildKit's AST dump. The buildkit format prints the
 * parser's tree only: like the reference's dump it does not check flags, so it never runs the
 * typed layer.
 */
#include "cli/cli.h"
#include "bale/dockerfile.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help_text[] =
    "usage: bale parse [options] FILE|-\n"
    "\n"
    "Parses a Dockerfile as BuildKit does and prints its model: every instruction with its\n"
    "position, flags, arguments and heredocs, the typed view of each instruction, the global\n"
    "ARGs and the stages with their dependency graph (docs/parse-json.md). '-' reads standard\n"
    "input.\n"
    "\n"
    "Options:\n"
    "  -f, --format FORMAT     json (default) or buildkit (BuildKit's AST dump; flags are\n"
    "                          not checked, as in the reference's dump)\n"
    "      --target NAME       the stage to build (default: the last one); decides which\n"
    "                          stages are reachable\n"
    "      --build-arg NAME[=VALUE]\n"
    "                          an ARG value (repeatable); without '=', taken from the\n"
    "                          environment when set there\n"
    "      --platform OS/ARCH[/VARIANT]\n"
    "                          the value of BUILDPLATFORM and TARGETPLATFORM (default: the\n"
    "                          host's)\n"
    "      --compact           JSON on one line instead of indented\n"
    "      --max-size BYTES    refuse larger input (default 16M; suffixes K, M, G)\n"
    "  -o, --output FILE       write to FILE (replaced atomically) instead of standard output\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage error (also an unknown --target), 3 the input could not be\n"
    "read or parsed (the message names FILE:LINE:COL).\n";

enum {
	OPT_TARGET = 256,
	OPT_BUILD_ARG,
	OPT_PLATFORM,
	OPT_COMPACT,
	OPT_MAX_SIZE,
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"target", required_argument, NULL, OPT_TARGET},
    {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"compact", no_argument, NULL, OPT_COMPACT},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct parse_args {
	const char *format;
	const char *target;
	const char *platform;
	const char *output;
	const char *input;
	bool compact;
	size_t max_size;
	struct cli_build_args build_args;
};

static int parse_options(struct parse_args *a, int argc, char **argv)
{
	int c, rc;

	optind = 0; /* glibc: start over, with argument permutation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "buildkit"))
				return cli_usage_error(
				    "parse", "unknown format '%s' (json or buildkit)", optarg);
			a->format = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'h':
			cli_print_help(&cli_cmd_parse);
			return -1;
		case OPT_TARGET:
			a->target = optarg;
			break;
		case OPT_BUILD_ARG:
			if ((rc = cli_build_arg_add(&a->build_args, "parse", optarg)) != 0)
				return rc;
			break;
		case OPT_PLATFORM:
			a->platform = optarg;
			break;
		case OPT_COMPACT:
			a->compact = true;
			break;
		case OPT_MAX_SIZE:
			if (!cli_parse_size(optarg, &a->max_size))
				return cli_usage_error("parse", "invalid --max-size '%s'", optarg);
			break;
		default:
			return cli_getopt_error("parse", c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("parse", "no Dockerfile given (use '-' for standard input)");
	if (optind + 1 < argc)
		return cli_usage_error("parse", "one Dockerfile at a time, got '%s' and '%s'",
				       argv[optind], argv[optind + 1]);
	a->input = argv[optind];
	return 0;
}

static int run_parse(int argc, char **argv)
{
	struct parse_args a = {.format = "json", .max_size = BALE_PARSE_DEFAULT_MAX_SIZE};
	bale_buf input = BALE_BUF_INIT, dump = BALE_BUF_INIT;
	struct cli_output out = {.fd = -1};
	bale_dockerfile *df = NULL;
	bale_stages *stages = NULL;
	bale_parse_opts popts = {0};
	bool json;
	int rc, wrc;

	rc = parse_options(&a, argc, argv);
	if (rc) {
		rc = rc < 0 ? BALE_EXIT_OK : rc;
		goto out;
	}
	json = strcmp(a.format, "buildkit") != 0;
	if (bale_read_file(&input, a.input, a.max_size)) {
		rc = cli_library_error();
		goto out;
	}
	popts.filename = strcmp(a.input, "-") == 0 ? "<stdin>" : a.input;
	popts.max_size = a.max_size;
	if (bale_dockerfile_parse(&df, input.ptr, input.len, &popts)) {
		rc = cli_library_error();
		goto out;
	}
	/* Everything that can fail on the input is done before any output is opened. */
	if (json) {
		bale_stage_opts sopts = {a.build_args.v, a.build_args.n, a.target, a.platform};

		if (bale_dockerfile_stages(&stages, df, &sopts)) {
			rc = cli_library_error();
			goto out;
		}
	} else if (bale_dockerfile_dump_buildkit(&dump, df)) {
		rc = cli_library_error();
		goto out;
	}
	if ((rc = cli_output_open(&out, a.output)) != 0)
		goto out;
	if (json) {
		wrc = bale_dockerfile_write_json(cli_output_write, &out, df, stages,
						 a.compact ? 0 : BALE_JSON_PRETTY);
		if (!wrc && a.compact)
			wrc = cli_output_write(&out, "\n", 1);
	} else {
		wrc = cli_output_write(&out, dump.ptr, dump.len);
	}
	if (wrc)
		rc = cli_library_error();
	wrc = cli_output_close(&out, rc == 0);
	if (!rc)
		rc = wrc;
out:
	if (out.fd >= 0)
		cli_output_close(&out, false);
	bale_stages_free(stages);
	bale_dockerfile_free(df);
	bale_buf_release(&input);
	bale_buf_release(&dump);
	cli_build_args_release(&a.build_args);
	return rc;
}

const struct cli_command cli_cmd_parse = {
    .name = "parse",
    .run = run_parse,
    .summary = "Print the parsed model of a Dockerfile (JSON or BuildKit's AST dump)",
    .help = help_text,
};
