/*
 * Checkstyle XML, as hadolint writes it: one <file> per checked file (clean ones too), one
 * <error> per finding with line, column, severity, message and the rule id as source.
 */
#include "report/internal.h"

#include <string.h>

static void xml_escape(bale_buf *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			bale_buf_adds(out, "&amp;");
			break;
		case '<':
			bale_buf_adds(out, "&lt;");
			break;
		case '>':
			bale_buf_adds(out, "&gt;");
			break;
		case '"':
			bale_buf_adds(out, "&quot;");
			break;
		case '\'':
			bale_buf_adds(out, "&apos;");
			break;
		case '\t':
		case '\n':
		case '\r':
			bale_buf_addf(out, "&#%u;", c);
			break;
		default:
			/* Other control characters are not allowed in XML 1.0 at all. */
			if (c >= 0x20)
				bale_buf_addch(out, c);
		}
	}
}

static const char *checkstyle_severity(bale_severity sev)
{
	return sev == BALE_SEV_ERROR ? "error" : sev == BALE_SEV_WARNING ? "warning" : "info";
}

static void write_file(bale_buf *out, const bale_findings *f, const char *file)
{
	bale_buf_adds(out, "<file name=\"");
	xml_escape(out, file);
	bale_buf_adds(out, "\">");
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];
		const char *ff = fd->loc.file ? fd->loc.file : "-";

		if (strcmp(ff, file) != 0)
			continue;
		bale_buf_addf(out, "<error line=\"%u\" column=\"%u\" severity=\"%s\" message=\"",
			      fd->loc.line, fd->loc.col, checkstyle_severity(fd->severity));
		if (fd->loc.layer >= 0)
			bale_buf_addf(out, "layer %d ", fd->loc.layer);
		if (fd->loc.path) {
			xml_escape(out, fd->loc.path);
			bale_buf_adds(out, ": ");
		}
		xml_escape(out, fd->message);
		bale_buf_adds(out, "\" source=\"");
		xml_escape(out, fd->rule->id);
		bale_buf_adds(out, "\"/>");
	}
	bale_buf_adds(out, "</file>");
}

int report_checkstyle(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	(void)opts;
	bale_buf_adds(out,
		      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">");
	for (size_t i = 0; i < f->nfiles; i++)
		write_file(out, f, f->files[i]);
	/* Files with findings that were not noted as checked, in the findings' order. */
	for (size_t i = 0; i < f->n; i++) {
		const char *ff = f->v[i].loc.file ? f->v[i].loc.file : "-";
		bool seen = false;

		for (size_t k = 0; k < f->nfiles && !seen; k++)
			seen = strcmp(f->files[k], ff) == 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(f->v[k].loc.file ? f->v[k].loc.file : "-", ff) == 0;
		if (!seen)
			write_file(out, f, ff);
	}
	bale_buf_adds(out, "</checkstyle>\n");
	return out->err;
}
