/*
 * bale inspect: an image's config, its layers and what they waste, in one verified pass over
 * the layers. dive's users find their numbers (efficiency, wasted bytes, user wasted percent)
 * and their CI mode (--ci, .dive-ci, the same rules and exit status) and export (--format
 * dive); bale adds what dive lacks: per-layer changes and the bytes shipped that the final
 * file system does not contain.
 */
#include "cli/cli.h"
#include "bale/inspect.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help_text[] =
    "usage: bale inspect [options] IMAGE\n"
    "\n"
    "Show an image's config, its layers (sizes, files added, changed and removed, the build\n"
    "step that made each) and the space it wastes: dive's efficiency, wasted bytes and user\n"
    "wasted percent, computed as dive does, and the bytes shipped that the final file system\n"
    "does not contain. Every layer is read once and checked against its digest.\n"
    "\n"
    "IMAGE: docker-archive:FILE[:NAME:TAG|:@N], oci-archive:FILE[:REF], oci:DIR[:REF], or a\n"
    "path (an OCI layout directory, a docker or OCI archive); see docs/images.md.\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT          tty (default), json (bale's, docs/inspect.md), dive (dive's\n"
    "                            --json export, field for field)\n"
    "  -o, --output FILE         write to FILE (replaced whole, never left half-written)\n"
    "      --top N               list the N most wasteful paths (default 10; 0: none)\n"
    "      --tree[=LAYER]        add the file tree with sizes: the final one, or LAYER's\n"
    "      --no-color            no colours (also NO_COLOR=1)\n"
    "\n"
    "Reading the image:\n" CLI_IMAGE_HELP "\n"
    "CI (dive's rules, names and defaults):\n"
    "      --ci                  evaluate the rules, print dive's CI report, exit 1 if one fails\n"
    "      --ci-config FILE      the rules file (default: .dive-ci in the current directory,\n"
    "                            when there is one)\n"
    "      --lowest-efficiency R        fail below this efficiency (default 0.9)\n"
    "      --highest-wasted-bytes B     fail above these wasted bytes, e.g. 20MB (default off)\n"
    "      --highest-user-wasted-percent R  fail above this ratio of wasted bytes to the\n"
    "                            bytes above the base layer (default 0.1)\n"
    "                            (a rule is off with 'disabled'; dive's camelCase spellings,\n"
    "                            --lowestEfficiency and so on, work too)\n"
    "\n"
    "Exit status: 0 ok, 1 a CI rule failed, 2 usage error, 3 the image could not be read\n"
    "(missing, malformed, a digest mismatch: the message names the blob and the entry).\n";

enum {
	OPT_TOP = 256,
	OPT_TREE,
	OPT_NO_COLOR,
	OPT_CI,
	OPT_CI_CONFIG,
	OPT_RULE_EFF,
	OPT_RULE_BYTES,
	OPT_RULE_PERCENT,
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"top", required_argument, NULL, OPT_TOP},
    {"tree", optional_argument, NULL, OPT_TREE},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    CLI_IMAGE_LONG_OPTIONS,
    {"ci", no_argument, NULL, OPT_CI},
    {"ci-config", required_argument, NULL, OPT_CI_CONFIG},
    {"lowest-efficiency", required_argument, NULL, OPT_RULE_EFF},
    {"lowestEfficiency", required_argument, NULL, OPT_RULE_EFF},
    {"highest-wasted-bytes", required_argument, NULL, OPT_RULE_BYTES},
    {"highestWastedBytes", required_argument, NULL, OPT_RULE_BYTES},
    {"highest-user-wasted-percent", required_argument, NULL, OPT_RULE_PERCENT},
    {"highestUserWastedPercent", required_argument, NULL, OPT_RULE_PERCENT},
    {NULL, 0, NULL, 0},
};

struct inspect_args {
	bale_inspect_format format;
	const char *output, *ci_config, *image;
	bale_image_options image_opts;
	size_t top;
	bool tree, no_color, ci;
	size_t tree_layer;
	struct {
		const char *name, *value;
	} rules[16];
	size_t nrules;
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool parse_count(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (!all_digits(s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > SIZE_MAX / 2)
		return false;
	*out = (size_t)v;
	return true;
}

static int parse_options(struct inspect_args *a, int argc, char **argv)
{
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (bale_inspect_format_parse(&a->format, optarg) != 0)
				return cli_usage_error("inspect", "%s", bale_error_last()->message);
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'h':
			cli_print_help(&cli_cmd_inspect);
			return -1;
		case OPT_TOP:
			if (!parse_count(optarg, &a->top))
				return cli_usage_error("inspect", "invalid --top '%s'", optarg);
			break;
		case OPT_TREE:
			a->tree = true;
			a->tree_layer = BALE_FS_NO_LAYER;
			/* --tree LAYER as well as --tree=LAYER, when a number follows */
			if (!optarg && optind < argc && all_digits(argv[optind]))
				optarg = argv[optind++];
			if (optarg && !parse_count(optarg, &a->tree_layer))
				return cli_usage_error("inspect", "invalid --tree layer '%s'",
						       optarg);
			break;
		case OPT_NO_COLOR:
			a->no_color = true;
			break;
		CLI_IMAGE_OPTION_CASES:
			if ((rc = cli_image_option(&a->image_opts, "inspect", c, optarg)) != 0)
				return rc;
			break;
		case OPT_CI:
			a->ci = true;
			break;
		case OPT_CI_CONFIG:
			a->ci_config = optarg;
			break;
		case OPT_RULE_EFF:
		case OPT_RULE_BYTES:
		case OPT_RULE_PERCENT:
			if (a->nrules == BALE_ARRAY_SIZE(a->rules))
				return cli_usage_error("inspect", "too many rule options");
			a->rules[a->nrules].name = c == OPT_RULE_EFF ? "lowestEfficiency"
						   : c == OPT_RULE_BYTES
						       ? "highestWastedBytes"
						       : "highestUserWastedPercent";
			a->rules[a->nrules].value = optarg;
			a->nrules++;
			break;
		default:
			return cli_getopt_error("inspect", c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("inspect", "no IMAGE given");
	if (optind + 1 < argc)
		return cli_usage_error("inspect", "one IMAGE at a time ('%s' is extra)",
				       argv[optind + 1]);
	a->image = argv[optind];
	if (a->nrules && !a->ci)
		return cli_usage_error("inspect", "the rule options need --ci");
	if (a->ci_config && !a->ci)
		return cli_usage_error("inspect", "--ci-config needs --ci");
	return 0;
}

/* dive's order: its defaults, then the rules file, then the command line. */
static int load_rules(const struct inspect_args *a, bale_inspect_ci_rules *rules)
{
	struct stat st;

	bale_inspect_ci_rules_init(rules);
	if (a->ci_config) {
		if (bale_inspect_ci_rules_load(rules, a->ci_config) != 0)
			return cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
	} else if (stat(".dive-ci", &st) == 0) {
		if (bale_inspect_ci_rules_load(rules, ".dive-ci") != 0)
			return cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
	}
	for (size_t i = 0; i < a->nrules; i++)
		if (bale_inspect_ci_rules_set(rules, a->rules[i].name, a->rules[i].value) != 0)
			return cli_usage_error("inspect", "%s", bale_error_last()->message);
	return 0;
}

static int run_inspect(int argc, char **argv)
{
	struct inspect_args a = {.format = BALE_INSPECT_TTY, .top = 10};
	bale_inspect_ci_rules rules;
	bale_image *image = NULL;
	bale_inspect *ins = NULL;
	bale_buf text = BALE_BUF_INIT, report = BALE_BUF_INIT;
	struct cli_output out = {.fd = -1};
	bool color, pass = true;
	int rc;

	bale_image_options_init(&a.image_opts);
	rc = parse_options(&a, argc, argv);
	if (rc) {
		rc = rc < 0 ? BALE_EXIT_OK : rc;
		goto done;
	}
	if (a.ci && (rc = load_rules(&a, &rules)) != 0)
		goto done;
	color = !a.no_color && !getenv("NO_COLOR") && !a.output && isatty(STDOUT_FILENO);
	if (bale_image_open(&image, a.image, &a.image_opts) != 0) {
		rc = cli_library_error();
		goto done;
	}
	if (a.tree && a.tree_layer != BALE_FS_NO_LAYER &&
	    a.tree_layer >= bale_image_info_get(image)->nlayers) {
		rc = cli_usage_error("inspect", "--tree %zu: the image has %zu layers (0 to %zu)",
				     a.tree_layer, bale_image_info_get(image)->nlayers,
				     bale_image_info_get(image)->nlayers - 1);
		goto done;
	}
	if (bale_inspect_image(&ins, image) != 0) {
		rc = cli_error(BALE_EXIT_INPUT, "%s: %s", a.image, bale_error_last()->message);
		goto done;
	}
	if (a.ci && bale_inspect_ci_evaluate(&report, &pass, ins, &rules, color) != 0) {
		rc = cli_library_error();
		goto done;
	}
	if (a.ci && a.format == BALE_INSPECT_TTY) {
		/* as dive --ci: the CI report is the output */
		bale_buf_add(&text, report.ptr, report.len);
	} else {
		bale_inspect_render_opts ro = {a.top,	a.tree, a.tree_layer,
					       a.image, color,	a.ci ? &rules : NULL};

		if (bale_inspect_render(&text, ins, a.format, &ro) != 0) {
			rc = cli_library_error();
			goto done;
		}
		if (a.ci && a.format == BALE_INSPECT_DIVE)
			fputs(report.ptr, stderr);
	}
	if (text.err) {
		rc = cli_error(BALE_EXIT_INPUT, "out of memory");
		goto done;
	}
	if ((rc = cli_output_open(&out, a.output)) == 0) {
		int w = cli_output_write(&out, text.ptr, text.len);

		rc = cli_output_close(&out, w == 0);
		if (w && !rc)
			rc = cli_library_error();
	}
	if (!rc && !pass)
		rc = BALE_EXIT_FINDINGS;
done:
	bale_inspect_free(ins);
	bale_image_free(image);
	bale_buf_release(&text);
	bale_buf_release(&report);
	return rc;
}

const struct cli_command cli_cmd_inspect = {
    .name = "inspect",
    .run = run_inspect,
    .summary = "Show an image's layers, sizes and wasted space (dive's measures and more)",
    .help = help_text,
};
