/*
 * bale's JSON format: an array with one object per finding. The keys hadolint's JSON has
 * (file, line, column, level, code, message) mean the same here, so tools built for hadolint
 * read it; bale adds name, fix, aliases, end_line, and layer/path for image findings.
 */
#include "report/internal.h"

int report_json(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	bale_json j;

	(void)opts;
	bale_json_init(&j, out, true);
	bale_json_array_begin(&j);
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];

		bale_json_object_begin(&j);
		bale_json_key(&j, "file");
		bale_json_string(&j, fd->loc.file);
		bale_json_key(&j, "line");
		bale_json_uint(&j, fd->loc.line);
		bale_json_key(&j, "column");
		bale_json_uint(&j, fd->loc.col);
		if (fd->loc.end_line) {
			bale_json_key(&j, "end_line");
			bale_json_uint(&j, fd->loc.end_line);
		}
		if (fd->loc.layer >= 0) {
			bale_json_key(&j, "layer");
			bale_json_int(&j, fd->loc.layer);
		}
		if (fd->loc.path) {
			bale_json_key(&j, "path");
			bale_json_string(&j, fd->loc.path);
		}
		bale_json_key(&j, "level");
		bale_json_string(&j, bale_severity_name(fd->severity));
		bale_json_key(&j, "code");
		bale_json_string(&j, fd->rule->id);
		bale_json_key(&j, "name");
		bale_json_string(&j, fd->rule->name);
		bale_json_key(&j, "message");
		bale_json_string(&j, fd->message);
		bale_json_key(&j, "fix");
		bale_json_string(&j, fd->rule->fix);
		bale_json_key(&j, "aliases");
		bale_json_array_begin(&j);
		for (const char *const *a = fd->rule->aliases; a && *a; a++)
			bale_json_string(&j, *a);
		bale_json_array_end(&j);
		bale_json_object_end(&j);
	}
	bale_json_array_end(&j);
	return bale_json_finish(&j);
}
