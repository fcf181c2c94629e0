/*
 * bale lint: lints Dockerfiles (files, directories searched for them, or standard input) and
 * prints the findings in one or more formats. Options mirror hadolint's, so its users keep
 * their habits: --ignore, --error/--warning/--info/--style, --failure-threshold, --no-fail,
 * --trusted-registry, --require-label, --strict-labels, --disable-ignore-pragma, --config.
 */
#include "cli/cli.h"
#include "bale/lint.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help_text[] =
    "usage: bale lint [options] [PATH|DIR|-]...\n"
    "\n"
    "Lint Dockerfiles: hadolint's rules (same codes, same pragmas and config), BuildKit's\n"
    "build checks, and bale's own rules for small, fast-building, secure images.\n"
    "A directory is searched for Dockerfile, Containerfile, *.Dockerfile and Dockerfile.*\n"
    "(skipping .git); '-' reads standard input; no PATH means the current directory.\n"
    "\n"
    "Output:\n"
    "  -f, --format FMT          tty (default), json, sarif, checkstyle, gitlab, github;\n"
    "                            may repeat, each with its own --output\n"
    "  -o, --output FILE         write the preceding --format to FILE (default: stdout)\n"
    "      --no-color            no colours in tty output (also NO_COLOR=1)\n"
    "      --list-rules          print every rule: id, severity, name, summary\n"
    "\n"
    "Rules:\n"
    "  -c, --config FILE         configuration file (default: .bale.yaml, then .hadolint.yaml,\n"
    "                            searched from the Dockerfile's directory to the repo root)\n"
    "      --ignore CODE         never report rule CODE (id, name or alias); may repeat\n"
    "      --error CODE          report CODE as error (also --warning, --info, --style)\n"
    "  -t, --failure-threshold SEV  exit 1 when a finding is at or above SEV:\n"
    "                            error, warning, info (default), style, none\n"
    "      --no-fail             exit 0 even with findings\n"
    "      --trusted-registry R  FROM may only use registry R (DL3026); may repeat\n"
    "      --require-label L:T   label L must be set, of type T (text, url, semver, hash,\n"
    "                            rfc3339, spdx, email); may repeat\n"
    "      --strict-labels       labels outside --require-label are reported\n"
    "      --disable-ignore-pragma  ignore '# hadolint ignore=' and '# bale ignore=' comments\n"
    "\n"
    "Fixes:\n"
    "      --fix                 rewrite the files to fix what is mechanical (see docs/lint.md),\n"
    "                            then report what is left; with '-', print the fixed file\n"
    "      --diff                print the fixes as a unified diff instead; exit 1 when there\n"
    "                            is something to fix\n"
    "\n"
    "Build:\n"
    "      --target STAGE        the stage that ships (default: the last one)\n"
    "      --context DIR         the build context, as in docker build -f FILE DIR (default:\n"
    "                            each Dockerfile's directory; none for standard input)\n"
    "      --build-arg NAME=VAL  an ARG value, as docker build takes it; may repeat\n"
    "      --max-size BYTES      refuse larger Dockerfiles (default 16M)\n"
    "\n"
    "Environment: BALE_* and HADOLINT_* variables set the same keys as the config file\n"
    "(e.g. HADOLINT_IGNORE=DL3008,DL3009); see docs/lint.md.\n"
    "Exit status: 0 no finding at or above the threshold, 1 findings, 2 usage error,\n"
    "3 a file could not be read or parsed.\n";

enum {
	OPT_NO_COLOR = 256,
	OPT_LIST_RULES,
	OPT_IGNORE,
	OPT_ERROR,
	OPT_WARNING,
	OPT_INFO,
	OPT_STYLE,
	OPT_NO_FAIL,
	OPT_TRUSTED,
	OPT_LABEL,
	OPT_STRICT_LABELS,
	OPT_NO_PRAGMA,
	OPT_TARGET,
	OPT_CONTEXT,
	OPT_BUILD_ARG,
	OPT_MAX_SIZE,
	OPT_FIX,
	OPT_DIFF,
};

static const struct option long_options[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"config", required_argument, NULL, 'c'},
    {"failure-threshold", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"error", required_argument, NULL, OPT_ERROR},
    {"warning", required_argument, NULL, OPT_WARNING},
    {"info", required_argument, NULL, OPT_INFO},
    {"style", required_argument, NULL, OPT_STYLE},
    {"no-fail", no_argument, NULL, OPT_NO_FAIL},
    {"trusted-registry", required_argument, NULL, OPT_TRUSTED},
    {"require-label", required_argument, NULL, OPT_LABEL},
    {"strict-labels", no_argument, NULL, OPT_STRICT_LABELS},
    {"disable-ignore-pragma", no_argument, NULL, OPT_NO_PRAGMA},
    {"target", required_argument, NULL, OPT_TARGET},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"fix", no_argument, NULL, OPT_FIX},
    {"diff", no_argument, NULL, OPT_DIFF},
    {NULL, 0, NULL, 0},
};

/* What the command line says; applied to the configuration after the file and environment. */
struct lint_args {
	struct cli_reports reports;
	const char *config;
	bool no_color, list_rules, fix, diff;
	struct cli_build_args build_args;
	const char *target, *context;
	size_t max_size;
	/* Flags that change the configuration, in order, replayed on top of it. */
	struct {
		int opt;
		const char *value;
	} settings[256];
	size_t nsettings;
};

static int parse_options(struct lint_args *a, int argc, char **argv)
{
	int c, rc;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:c:t:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((rc = cli_reports_format(&a->reports, "lint", optarg)) != 0)
				return rc;
			break;
		case 'o':
			if ((rc = cli_reports_output(&a->reports, "lint", optarg)) != 0)
				return rc;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'h':
			cli_print_help(&cli_cmd_lint);
			return -1;
		case OPT_NO_COLOR:
			a->no_color = true;
			break;
		case OPT_LIST_RULES:
			a->list_rules = true;
			break;
		case OPT_TARGET:
			a->target = optarg;
			break;
		case OPT_CONTEXT: {
			struct stat st;

			if (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode))
				return cli_usage_error("lint", "--context '%s': not a directory",
						       optarg);
			a->context = optarg;
			break;
		}
		case OPT_BUILD_ARG:
			if ((rc = cli_build_arg_add(&a->build_args, "lint", optarg)) != 0)
				return rc;
			break;
		case OPT_FIX:
			a->fix = true;
			break;
		case OPT_DIFF:
			a->diff = true;
			break;
		case OPT_MAX_SIZE:
			if (!cli_parse_size(optarg, &a->max_size))
				return cli_usage_error("lint", "invalid --max-size '%s'", optarg);
			break;
		case 't':
		case OPT_IGNORE:
		case OPT_ERROR:
		case OPT_WARNING:
		case OPT_INFO:
		case OPT_STYLE:
		case OPT_NO_FAIL:
		case OPT_TRUSTED:
		case OPT_LABEL:
		case OPT_STRICT_LABELS:
		case OPT_NO_PRAGMA:
			if (a->nsettings == BALE_ARRAY_SIZE(a->settings))
				return cli_usage_error("lint", "too many options");
			a->settings[a->nsettings].opt = c;
			a->settings[a->nsettings].value = optarg;
			a->nsettings++;
			break;
		default:
			return cli_getopt_error("lint", c, argv);
		}
	}
	cli_reports_default(&a->reports);
	return 0;
}

/* Replays the command line's rule settings over the configuration. */
static int apply_settings(const struct lint_args *a, bale_lint_config *cfg)
{
	for (size_t i = 0; i < a->nsettings; i++) {
		const char *v = a->settings[i].value;
		bale_severity sev;
		int rc = 0;

		switch (a->settings[i].opt) {
		case 't':
			if (bale_severity_parse(&cfg->failure_threshold, v) != 0)
				return cli_usage_error("lint", "--failure-threshold: %s",
						       bale_error_last()->message);
			break;
		case OPT_IGNORE:
			rc = bale_lint_config_add_ignored(cfg, v);
			break;
		case OPT_ERROR:
		case OPT_WARNING:
		case OPT_INFO:
		case OPT_STYLE:
			sev = a->settings[i].opt == OPT_ERROR	  ? BALE_SEV_ERROR
			      : a->settings[i].opt == OPT_WARNING ? BALE_SEV_WARNING
			      : a->settings[i].opt == OPT_INFO	  ? BALE_SEV_INFO
								  : BALE_SEV_STYLE;
			rc = bale_lint_config_add_override(cfg, v, sev);
			break;
		case OPT_NO_FAIL:
			cfg->no_fail = true;
			break;
		case OPT_TRUSTED:
			rc = bale_lint_config_add_trusted_registry(cfg, v);
			break;
		case OPT_LABEL: {
			const char *colon = strchr(v, ':');
			char *label;

			if (!colon || colon == v)
				return cli_usage_error("lint",
						       "--require-label needs LABEL:TYPE, not "
						       "'%s'",
						       v);
			label = strndup(v, (size_t)(colon - v));
			if (!label)
				return cli_error(BALE_EXIT_INPUT, "out of memory");
			rc = bale_lint_config_add_label(cfg, label, colon + 1);
			free(label);
			if (rc == BALE_EINVAL)
				return cli_usage_error("lint", "%s", bale_error_last()->message);
			break;
		}
		case OPT_STRICT_LABELS:
			cfg->strict_labels = true;
			break;
		case OPT_NO_PRAGMA:
			cfg->disable_ignore_pragma = true;
			break;
		}
		if (rc)
			return cli_library_error();
	}
	return 0;
}

static int list_rules(void)
{
	for (size_t i = 0; i < bale_lint_rule_count(); i++) {
		const bale_rule *r = bale_lint_rule(i);

		printf("%-8s %-8s %-36s %s\n", r->id, bale_severity_name(r->severity), r->name,
		       r->summary);
	}
	return BALE_EXIT_OK;
}

/* --- finding the Dockerfiles -------------------------------------------------------------- */

struct paths {
	char **v;
	size_t n, alloc;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Dockerfile, Containerfile, *.Dockerfile, Dockerfile.* (but not Dockerfile.dockerignore). */
static bool is_dockerfile_name(const char *name)
{
	if (ends_with(name, ".dockerignore"))
		return false;
	return strcmp(name, "Dockerfile") == 0 || strcmp(name, "Containerfile") == 0 ||
	       strncmp(name, "Dockerfile.", 11) == 0 || strncmp(name, "Containerfile.", 14) == 0 ||
	       ends_with(name, ".Dockerfile") || ends_with(name, ".dockerfile") ||
	       ends_with(name, ".Containerfile");
}

static int add_path(struct paths *p, const char *path)
{
	char *c = strdup(path);

	if (!c || BALE_ARRAY_RESERVE(p->v, p->alloc, p->n + 1)) {
		free(c);
		return cli_error(BALE_EXIT_INPUT, "out of memory");
	}
	p->v[p->n++] = c;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct paths *p, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;
	size_t first = p->n;
	int rc = 0;

	if (depth > 64)
		return 0;
	d = opendir(dir);
	if (!d)
		return cli_error(BALE_EXIT_INPUT, "cannot read directory '%s': %s", dir,
				 strerror(errno));
	while ((e = readdir(d)) != NULL && !rc) {
		char path[4096];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strcmp(e->d_name, ".git") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk(p, path, depth + 1);
		else if (S_ISREG(st.st_mode) && is_dockerfile_name(e->d_name))
			rc = add_path(p, path);
	}
	closedir(d);
	if (p->n > first)
		qsort(p->v + first, p->n - first, sizeof(*p->v), cmp_str);
	return rc;
}

static int collect(struct paths *p, int argc, char **argv)
{
	int rc = 0;

	if (argc == 0)
		return walk(p, ".", 0);
	for (int i = 0; i < argc && !rc; i++) {
		struct stat st;

		if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			size_t before = p->n;

			rc = walk(p, argv[i], 0);
			if (!rc && p->n == before)
				fprintf(stderr, "bale lint: no Dockerfile found in '%s'\n",
					argv[i]);
		} else {
			rc = add_path(p, argv[i]);
		}
	}
	return rc;
}

/* --- linting ------------------------------------------------------------------------------- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/*
 * Lints one file with the configuration found for it (or the one given). Returns 0, or
 * BALE_EXIT_INPUT when the file could not be read or parsed (the error is printed).
 */
static int lint_one(const struct lint_args *a, const char *path, bale_findings *findings,
		    bool first, bale_lint_config *used, bale_buf *diffs, size_t *nfixed)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	char *dir = is_stdin ? strdup(".") : dir_of(path), *cfg_path = NULL;
	bale_lint_opts opts = {0};
	bale_buf input = BALE_BUF_INIT;
	bale_lint_config cfg;
	int rc = 0;

	bale_lint_config_init(&cfg);
	if (!dir) {
		rc = cli_error(BALE_EXIT_INPUT, "out of memory");
		goto out;
	}
	if (a->config)
		cfg_path = strdup(a->config);
	else
		bale_lint_config_find(&cfg_path, dir);
	if (cfg_path && bale_lint_config_load(&cfg, cfg_path) != 0) {
		rc = cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
		goto out;
	}
	if (bale_lint_config_env(&cfg) != 0) {
		rc = cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
		goto out;
	}
	if ((rc = apply_settings(a, &cfg)) != 0)
		goto out;
	if (bale_read_file(&input, path, a->max_size)) {
		rc = cli_error(BALE_EXIT_INPUT, "%s", bale_error_last()->message);
		goto out;
	}
	opts.context_dir = a->context ? a->context : is_stdin ? NULL : dir;
	opts.build_args = a->build_args.v;
	opts.nbuild_args = a->build_args.n;
	opts.target = a->target;
	opts.max_size = a->max_size;
	if (a->fix || a->diff) {
		bale_buf fixed = BALE_BUF_INIT;
		size_t n = 0;

		rc = bale_lint_fix(&fixed, &n, input.ptr, input.len, name, &cfg, &opts);
		if (rc == 0 && a->diff && n) {
			bale_buf an = BALE_BUF_INIT, bn = BALE_BUF_INIT;

			/* git's names: a/PATH and b/PATH, PATH without its leading '/'. */
			bale_buf_addf(&an, "a/%s", name + strspn(name, "/"));
			bale_buf_addf(&bn, "b/%s", name + strspn(name, "/"));
			rc = bale_diff_unified(diffs, input.ptr, input.len, fixed.ptr, fixed.len,
					       an.ptr, bn.ptr);
			bale_buf_release(&an);
			bale_buf_release(&bn);
		} else if (rc == 0 && a->fix && is_stdin) {
			rc = bale_buf_add(diffs, fixed.ptr, fixed.len);
		} else if (rc == 0 && a->fix && n) {
			struct cli_output out = {.fd = -1};
			int w;

			if ((w = cli_output_open(&out, path)) != 0) {
				bale_buf_release(&fixed);
				rc = w;
				goto out;
			}
			w = cli_output_write(&out, fixed.ptr, fixed.len);
			if ((rc = cli_output_close(&out, w == 0)) != 0 || w) {
				bale_buf_release(&fixed);
				rc = rc ? rc : cli_library_error();
				goto out;
			}
			bale_buf_release(&input);
			input = fixed;
			bale_buf_init(&fixed, 0);
		}
		bale_buf_release(&fixed);
		*nfixed += n;
		if (rc == 0 && (a->diff || is_stdin))
			goto out; /* the diff (or the fixed text) is the output */
	}
	if (rc == 0)
		rc = bale_lint(findings, input.ptr, input.len, name, &cfg, &opts);
	if (rc == BALE_EINVAL)
		rc = cli_error(BALE_EXIT_USAGE, "%s", bale_error_last()->message);
	else if (rc)
		rc = cli_error(BALE_EXIT_INPUT, "%s", bale_error_last()->message);
out:
	/* The first file's settings decide the exit status and colours. */
	if (first) {
		used->failure_threshold = cfg.failure_threshold;
		used->no_fail = cfg.no_fail;
		used->no_color = cfg.no_color;
	}
	bale_lint_config_release(&cfg);
	bale_buf_release(&input);
	free(dir);
	free(cfg_path);
	return rc;
}

/*
 * Renders every --format. With `files_ok` false (an input could not be linted) output files
 * are not written, so no report that misses a file is left behind; standard output still
 * shows what was found.
 */
static int run_lint(int argc, char **argv)
{
	struct lint_args a = {.max_size = BALE_PARSE_DEFAULT_MAX_SIZE};
	struct paths paths = {0};
	bale_findings *findings = NULL;
	bale_lint_config used;
	bale_buf diffs = BALE_BUF_INIT;
	size_t nfixed = 0;
	int rc, input_rc = 0;

	bale_lint_config_init(&used);
	rc = parse_options(&a, argc, argv);
	if (rc) {
		rc = rc < 0 ? BALE_EXIT_OK : rc;
		goto out;
	}
	if (a.list_rules) {
		rc = list_rules();
		goto out;
	}
	if ((rc = collect(&paths, argc - optind, argv + optind)) != 0)
		goto out;
	if (paths.n == 0) {
		rc = cli_error(BALE_EXIT_INPUT, "no Dockerfile to lint");
		goto out;
	}
	if (bale_findings_new(&findings) != 0) {
		rc = cli_library_error();
		goto out;
	}
	for (size_t i = 0; i < paths.n; i++) {
		int one = lint_one(&a, paths.v[i], findings, i == 0, &used, &diffs, &nfixed);

		if (one == BALE_EXIT_USAGE) {
			rc = one;
			goto out;
		}
		if (one)
			input_rc = one;
	}
	if (a.diff || (a.fix && paths.n == 1 && strcmp(paths.v[0], "-") == 0)) {
		/* The diff, or the fixed standard input, is the whole output. */
		if ((rc = cli_write_stdout(diffs.ptr, diffs.len)) != 0)
			goto out;
		rc = input_rc ? input_rc : (a.diff && nfixed ? BALE_EXIT_FINDINGS : BALE_EXIT_OK);
		goto out;
	}
	if (a.fix && nfixed)
		fprintf(stderr, "bale lint: %zu fix%s applied\n", nfixed, nfixed == 1 ? "" : "es");
	bale_findings_sort(findings);
	{
		bool color =
		    !a.no_color && !used.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO);

		if ((rc = cli_reports_write(&a.reports, findings, color, input_rc == 0)) != 0)
			goto out;
	}
	if (input_rc)
		rc = input_rc;
	else if (!used.no_fail && used.failure_threshold != BALE_SEV_NONE &&
		 bale_findings_at_or_above(findings, used.failure_threshold) > 0)
		rc = BALE_EXIT_FINDINGS;
out:
	bale_buf_release(&diffs);
	bale_findings_free(findings);
	for (size_t i = 0; i < paths.n; i++)
		free(paths.v[i]);
	free(paths.v);
	cli_build_args_release(&a.build_args);
	bale_lint_config_release(&used);
	return rc;
}

const struct cli_command cli_cmd_lint = {
    .name = "lint",
    .run = run_lint,
    .summary = "Lint Dockerfiles (hadolint's and BuildKit's rules, and bale's own)",
    .help = help_text,
};
