/*
 * bale audit: checks an image's config, history, final file system and every layer for the
 * mistakes that ship (root, secrets in build arguments and layers, setuid files, caches ...),
 * with lint's finding formats, severities, thresholds and ignores. Findings need the whole
 * image read and verified: an image that cannot be read gives exit 3 and no report.
 */
#include "cli/cli.h"
#include "bale/audit.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help_text[] =
    "usage: bale audit [options] IMAGE\n"
    "\n"
    "Audit an image: its config (root user, HEALTHCHECK, EXPOSE 22, volumes, credentials in\n"
    "ENV and labels), its history (build arguments that recorded secrets, tokens in RUN,\n"
    "apt-get update alone, ADD of URLs, sudo, chmod 777), its final file system (setuid and\n"
    "setgid files, world-writable paths, package caches, .git, toolchains, shells, empty\n"
    "passwords, duplicate UIDs and GIDs, symlinks out of the root) and every layer: secret\n"
    "files and credentials in file contents, also those a later layer deleted or overwrote.\n"
    "Secrets are masked in every format. Rules: docs/audit.md, docs/rules/AU*.md.\n"
    "\n"
    "IMAGE: docker-archive:FILE[:NAME:TAG|:@N], oci-archive:FILE[:REF], oci:DIR[:REF], or a\n"
    "path (an OCI layout directory, a docker or OCI archive); see docs/images.md.\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT          tty (default), json, sarif, checkstyle, gitlab, github;\n"
    "                            may repeat, each with its own --output\n"
    "  -o, --output FILE         write the preceding --format to FILE (default: stdout)\n"
    "      --no-color            no colours in tty output (also NO_COLOR=1)\n"
    "      --list-rules          print every rule: id, severity, name, summary\n"
    "\n"
    "Reading the image:\n" CLI_IMAGE_HELP "\n"
    "Rules:\n"
    "      --ignore CODE[=PATH]  never report rule CODE (id or name), or only not at PATH\n"
    "                            (and below it); may repeat\n"
    "      --ignore-file FILE    accepted findings: one 'CODE' or 'CODE PATH' per line,\n"
    "                            '#' comments\n"
    "      --error CODE          report CODE as error (also --warning, --info, --style)\n"
    "  -t, --failure-threshold SEV  exit 1 when a finding is at or above SEV:\n"
    "                            error, warning, info (default), style, none\n"
    "      --no-fail             exit 0 even with findings\n"
    "      --max-scan-size SIZE  files larger than SIZE are not scanned for secrets\n"
    "                            (default 1M)\n"
    "\n"
    "Exit status: 0 no finding at or above the threshold, 1 findings, 2 usage error,\n"
    "3 the image could not be read (missing, malformed, a digest mismatch).\n";

enum {
	OPT_NO_COLOR = 256,
	OPT_LIST_RULES,
	OPT_IGNORE,
	OPT_IGNORE_FILE,
	OPT_ERROR,
	OPT_WARNING,
	OPT_INFO,
	OPT_STYLE,
	OPT_NO_FAIL,
	OPT_MAX_SCAN,
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"failure-threshold", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    CLI_IMAGE_LONG_OPTIONS,
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"ignore-file", required_argument, NULL, OPT_IGNORE_FILE},
    {"error", required_argument, NULL, OPT_ERROR},
    {"warning", required_argument, NULL, OPT_WARNING},
    {"info", required_argument, NULL, OPT_INFO},
    {"style", required_argument, NULL, OPT_STYLE},
    {"no-fail", no_argument, NULL, OPT_NO_FAIL},
    {"max-scan-size", required_argument, NULL, OPT_MAX_SCAN},
    {NULL, 0, NULL, 0},
};

struct audit_args {
	struct cli_reports reports;
	bool no_color, list_rules;
	const char *image;
	bale_image_options image_opts;
};

static int check_code(const char *code)
{
	if (!bale_audit_rule_find(code))
		return cli_usage_error("audit", "unknown rule '%s' (see --list-rules)", code);
	return 0;
}

static int parse_options(struct audit_args *a, bale_audit_config *cfg, int argc, char **argv)
{
	bale_severity sev;
	size_t size;
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:t:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((rc = cli_reports_format(&a->reports, "audit", optarg)) != 0)
				return rc;
			break;
		case 'o':
			if ((rc = cli_reports_output(&a->reports, "audit", optarg)) != 0)
				return rc;
			break;
		case 't':
			if (bale_severity_parse(&cfg->failure_threshold, optarg) != 0)
				return cli_usage_error("audit", "--failure-threshold: %s",
						       bale_error_last()->message);
			break;
		case 'h':
			cli_print_help(&cli_cmd_audit);
			return -1;
		case OPT_NO_COLOR:
			a->no_color = true;
			break;
		case OPT_LIST_RULES:
			a->list_rules = true;
			break;
		CLI_IMAGE_OPTION_CASES:
			if ((rc = cli_image_option(&a->image_opts, "audit", c, optarg)) != 0)
				return rc;
			break;
		case OPT_IGNORE: {
			char *code = strdup(optarg), *eq;

			if (!code)
				return cli_error(BALE_EXIT_INPUT, "out of memory");
			eq = strchr(code, '=');
			if (eq)
				*eq = '\0';
			rc = check_code(code);
			if (!rc && bale_audit_config_add_ignored(cfg, code, eq ? eq + 1 : NULL))
				rc = cli_library_error();
			free(code);
			if (rc)
				return rc;
			break;
		}
		case OPT_IGNORE_FILE:
			if (bale_audit_config_load_ignore(cfg, optarg) != 0)
				return cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
			break;
		case OPT_ERROR:
		case OPT_WARNING:
		case OPT_INFO:
		case OPT_STYLE:
			sev = c == OPT_ERROR	 ? BALE_SEV_ERROR
			      : c == OPT_WARNING ? BALE_SEV_WARNING
			      : c == OPT_INFO	 ? BALE_SEV_INFO
						 : BALE_SEV_STYLE;
			if ((rc = check_code(optarg)) != 0)
				return rc;
			if (bale_audit_config_add_override(cfg, optarg, sev))
				return cli_library_error();
			break;
		case OPT_NO_FAIL:
			cfg->no_fail = true;
			break;
		case OPT_MAX_SCAN:
			if (!cli_parse_size(optarg, &size))
				return cli_usage_error("audit", "invalid --max-scan-size '%s'",
						       optarg);
			cfg->max_scan_size = size;
			break;
		default:
			return cli_getopt_error("audit", c, argv);
		}
	}
	cli_reports_default(&a->reports);
	if (a->list_rules)
		return 0;
	if (optind >= argc)
		return cli_usage_error("audit", "no IMAGE given");
	if (optind + 1 < argc)
		return cli_usage_error("audit", "one IMAGE at a time ('%s' is extra)",
				       argv[optind + 1]);
	a->image = argv[optind];
	return 0;
}

static int list_rules(void)
{
	for (size_t i = 0; i < bale_audit_rule_count(); i++) {
		const bale_rule *r = bale_audit_rule(i);

		printf("%-8s %-8s %-26s %s\n", r->id, bale_severity_name(r->severity), r->name,
		       r->summary);
	}
	return BALE_EXIT_OK;
}

static int run_audit(int argc, char **argv)
{
	struct audit_args a = {0};
	bale_audit_config cfg;
	bale_image *image = NULL;
	bale_findings *findings = NULL;
	int rc;

	bale_audit_config_init(&cfg);
	bale_image_options_init(&a.image_opts);
	rc = parse_options(&a, &cfg, argc, argv);
	if (rc) {
		rc = rc < 0 ? BALE_EXIT_OK : rc;
		goto out;
	}
	if (a.list_rules) {
		rc = list_rules();
		goto out;
	}
	a.image_opts.busy_callbacks = true; /* the content scan runs beside the hashing */
	if (bale_image_open(&image, a.image, &a.image_opts) != 0) {
		rc = cli_library_error();
		goto out;
	}
	if (bale_findings_new(&findings) != 0) {
		rc = cli_library_error();
		goto out;
	}
	if (bale_audit_image(findings, image, a.image, &cfg) != 0) {
		rc = cli_error(BALE_EXIT_INPUT, "%s: %s", a.image, bale_error_last()->message);
		goto out;
	}
	bale_findings_sort(findings);
	rc = cli_reports_write(&a.reports, findings,
			       !a.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO), true);
	if (!rc && !cfg.no_fail && cfg.failure_threshold != BALE_SEV_NONE &&
	    bale_findings_at_or_above(findings, cfg.failure_threshold) > 0)
		rc = BALE_EXIT_FINDINGS;
out:
	bale_findings_free(findings);
	bale_image_free(image);
	bale_audit_config_release(&cfg);
	return rc;
}

const struct cli_command cli_cmd_audit = {
    .name = "audit",
    .run = run_audit,
    .summary = "Audit an image: config, history, final file system and every layer's secrets",
    .help = help_text,
};
