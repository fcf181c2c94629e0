/*
 * The terminal format: one line per finding, as compilers and hadolint print them,
 *   Dockerfile:3:1 warning DL3008 pin-apt-versions: message
 *     hint: how to fix it
 * with colours only when asked (the CLI asks when standard output is a terminal).
 */
#include "report/internal.h"

static const char *severity_color(bale_severity sev)
{
	switch (sev) {
	case BALE_SEV_ERROR:
		return "\033[1;31m";
	case BALE_SEV_WARNING:
		return "\033[1;33m";
	case BALE_SEV_INFO:
		return "\033[1;36m";
	default:
		return "\033[2m";
	}
}

int report_tty(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];

		if (opts->color)
			bale_buf_adds(out, "\033[1m");
		report_location(out, &fd->loc);
		if (opts->color)
			bale_buf_addf(out, "\033[0m %s%s\033[0m", severity_color(fd->severity),
				      bale_severity_name(fd->severity));
		else
			bale_buf_addf(out, " %s", bale_severity_name(fd->severity));
		bale_buf_addf(out, " %s %s: %s\n", fd->rule->id, fd->rule->name, fd->message);
		if (fd->rule->fix && fd->rule->fix[0])
			bale_buf_addf(out, "  %shint:%s %s\n", opts->color ? "\033[2m" : "",
				      opts->color ? "\033[0m" : "", fd->rule->fix);
	}
	return out->err;
}
