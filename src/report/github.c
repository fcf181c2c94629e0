/*
 * GitHub Actions workflow commands: `::warning file=F,line=L,col=C,title=T::message`, which
 * the runner turns into annotations on the pull request. Error stays error, warning stays
 * warning, info and style become notice. Values are escaped as the runner expects (%, CR, LF;
 * in properties also ':' and ',').
 */
#include "report/internal.h"

static void escape(bale_buf *out, const char *s, bool property)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '%':
			bale_buf_adds(out, "%25");
			break;
		case '\r':
			bale_buf_adds(out, "%0D");
			break;
		case '\n':
			bale_buf_adds(out, "%0A");
			break;
		case ':':
			bale_buf_adds(out, property ? "%3A" : ":");
			break;
		case ',':
			bale_buf_adds(out, property ? "%2C" : ",");
			break;
		default:
			bale_buf_addch(out, *s);
		}
	}
}

int report_github(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	(void)opts;
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];
		const char *level = fd->severity == BALE_SEV_ERROR     ? "error"
				    : fd->severity == BALE_SEV_WARNING ? "warning"
								       : "notice";
		bale_buf title = BALE_BUF_INIT;

		bale_buf_addf(out, "::%s ", level);
		if (fd->loc.file && fd->loc.layer < 0) {
			bale_buf_adds(out, "file=");
			escape(out, fd->loc.file, true);
			if (fd->loc.line) {
				bale_buf_addf(out, ",line=%u", fd->loc.line);
				if (fd->loc.end_line)
					bale_buf_addf(out, ",endLine=%u", fd->loc.end_line);
				if (fd->loc.col)
					bale_buf_addf(out, ",col=%u", fd->loc.col);
			}
			bale_buf_addch(out, ',');
		}
		bale_buf_addf(&title, "%s %s", fd->rule->id, fd->rule->name);
		bale_buf_adds(out, "title=");
		escape(out, title.ptr, true);
		bale_buf_adds(out, "::");
		if (fd->loc.layer >= 0 || (fd->loc.path && !fd->loc.line)) {
			bale_buf loc = BALE_BUF_INIT;

			report_location(&loc, &fd->loc);
			bale_buf_adds(&loc, ": ");
			escape(out, loc.ptr, false);
			bale_buf_release(&loc);
		}
		escape(out, fd->message, false);
		bale_buf_addch(out, '\n');
		bale_buf_release(&title);
	}
	return out->err;
}
