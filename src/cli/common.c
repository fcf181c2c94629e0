/*
 * What several commands share: output files written whole or not at all, sizes with K/M/G
 * suffixes, and --build-arg values as docker build reads them.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_output_open(struct cli_output *o, const char *path)
{
	const char *slash;
	mode_t mask;

	o->fd = STDOUT_FILENO;
	o->name = "standard output";
	o->path = path;
	bale_buf_init(&o->tmp, 0);
	if (!path || strcmp(path, "-") == 0) {
		o->path = NULL;
		return BALE_EXIT_OK;
	}
	o->name = path;
	slash = strrchr(path, '/');
	if (slash)
		bale_buf_addf(&o->tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		bale_buf_addf(&o->tmp, ".%s.XXXXXX", path);
	if (o->tmp.err)
		return cli_error(BALE_EXIT_INPUT, "out of memory");
	o->fd = mkstemp(o->tmp.ptr);
	if (o->fd < 0) {
		int rc =
		    cli_error(BALE_EXIT_INPUT, "cannot create '%s': %s", path, strerror(errno));

		bale_buf_release(&o->tmp);
		return rc;
	}
	mask = umask(0);
	umask(mask);
	if (fchmod(o->fd, 0666 & ~mask) != 0) {
		int rc = cli_error(BALE_EXIT_INPUT, "cannot write '%s': %s", path, strerror(errno));

		close(o->fd);
		unlink(o->tmp.ptr);
		bale_buf_release(&o->tmp);
		o->fd = -1;
		return rc;
	}
	return BALE_EXIT_OK;
}

int cli_output_write(void *ctx, const char *data, size_t len)
{
	struct cli_output *o = ctx;

	while (len) {
		ssize_t n = write(o->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bale_error_set(BALE_EIO, "cannot write '%s': %s", o->name,
					      n < 0 ? strerror(errno) : "no progress");
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_output_close(struct cli_output *o, bool ok)
{
	int rc = BALE_EXIT_OK;

	if (o->path && o->fd >= 0) {
		if (ok && fsync(o->fd) != 0)
			rc = cli_error(BALE_EXIT_INPUT, "cannot write '%s': %s", o->path,
				       strerror(errno));
		if (close(o->fd) != 0 && ok && !rc)
			rc = cli_error(BALE_EXIT_INPUT, "cannot write '%s': %s", o->path,
				       strerror(errno));
		if (ok && !rc && rename(o->tmp.ptr, o->path) != 0)
			rc = cli_error(BALE_EXIT_INPUT, "cannot write '%s': %s", o->path,
				       strerror(errno));
		if (!ok || rc)
			unlink(o->tmp.ptr);
	}
	o->fd = -1;
	bale_buf_release(&o->tmp);
	return rc;
}

bool cli_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M' || *end == 'm')
		shift = 20, end++;
	else if (*end == 'G' || *end == 'g')
		shift = 30, end++;
	if (*end || v == 0 || v > (SIZE_MAX >> shift))
		return false;
	*out = (size_t)v << shift;
	return true;
}

int cli_build_arg_add(struct cli_build_args *a, const char *cmd, const char *spec)
{
	const char *eq = strchr(spec, '=');
	bale_build_arg arg;
	char *name;

	if (eq == spec || !*spec)
		return cli_usage_error(cmd, "--build-arg needs NAME=VALUE, not '%s'", spec);
	if (!eq && !getenv(spec))
		return 0; /* docker build: a NAME not set in the environment is ignored */
	name = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(spec);
	if (!name)
		return cli_error(BALE_EXIT_INPUT, "out of memory");
	arg.name = name;
	arg.value = eq ? eq + 1 : getenv(spec);
	if (BALE_ARRAY_RESERVE(a->v, a->alloc, a->n + 1)) {
		free(name);
		return cli_error(BALE_EXIT_INPUT, "out of memory");
	}
	a->v[a->n++] = arg;
	return 0;
}

void cli_build_args_release(struct cli_build_args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free((char *)a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int cli_reports_format(struct cli_reports *r, const char *cmd, const char *format)
{
	if (r->n == CLI_MAX_REPORTS)
		return cli_usage_error(cmd, "at most %d --format options", CLI_MAX_REPORTS);
	if (bale_format_parse(&r->v[r->n].format, format) != 0)
		return cli_usage_error(cmd, "%s", bale_error_last()->message);
	r->v[r->n++].path = NULL;
	return 0;
}

int cli_reports_output(struct cli_reports *r, const char *cmd, const char *path)
{
	cli_reports_default(r);
	if (r->v[r->n - 1].path)
		return cli_usage_error(
		    cmd, "--output '%s': the --format before it already has an output", path);
	r->v[r->n - 1].path = path;
	return 0;
}

void cli_reports_default(struct cli_reports *r)
{
	if (r->n == 0) {
		r->v[0].format = BALE_FORMAT_TTY;
		r->v[0].path = NULL;
		r->n = 1;
	}
}

int cli_reports_write(const struct cli_reports *r, const bale_findings *f, bool color_ok,
		      bool files_ok)
{
	bale_report_opts ropts = {0};
	int rc = 0;

	for (size_t i = 0; i < r->n && !rc; i++) {
		struct cli_output out = {.fd = -1};
		bale_buf text = BALE_BUF_INIT;

		if (r->v[i].path && !files_ok)
			continue;
		ropts.color = color_ok && !r->v[i].path && r->v[i].format == BALE_FORMAT_TTY;
		if (bale_report_render(&text, r->v[i].format, f, &ropts) != 0) {
			rc = cli_library_error();
		} else if ((rc = cli_output_open(&out, r->v[i].path)) == 0) {
			int w = cli_output_write(&out, text.ptr, text.len);

			rc = cli_output_close(&out, w == 0);
			if (w && !rc)
				rc = cli_library_error();
		}
		bale_buf_release(&text);
	}
	return rc;
}

/* A decimal count: digits only, no sign, no suffix. */
static bool parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= max;
}

int cli_image_option(bale_image_options *o, const char *cmd, int opt, const char *arg)
{
	unsigned long long n;
	size_t size;

	switch (opt) {
	case CLI_OPT_PLATFORM:
		o->platform = arg;
		return 0;
	case CLI_OPT_MAX_LAYER_SIZE:
		if (!cli_parse_size(arg, &size))
			return cli_usage_error(
			    cmd, "invalid --max-layer-size '%s' (a size: 512M, 8G)", arg);
		o->max_layer_size = size;
		return 0;
	case CLI_OPT_MAX_RATIO:
		if (!parse_count(arg, UINT32_MAX, &n))
			return cli_usage_error(cmd, "invalid --max-ratio '%s' (a whole number)",
					       arg);
		o->max_ratio = (uint32_t)n;
		return 0;
	case CLI_OPT_MAX_ENTRIES:
		if (!parse_count(arg, UINT64_MAX, &n) || n == 0)
			return cli_usage_error(cmd, "invalid --max-entries '%s' (a whole number)",
					       arg);
		o->max_entries = n;
		return 0;
	default:
		return cli_usage_error(cmd, "unknown option");
	}
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	if (optopt)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}
