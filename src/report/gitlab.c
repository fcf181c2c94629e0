/*
 * GitLab Code Quality (the Code Climate issue format GitLab reads): an array of issues with a
 * description, the rule as check_name, a stable fingerprint, a severity (error critical,
 * warning major, info info, style minor) and the location's path and first line.
 */
#include "report/internal.h"

static const char *gitlab_severity(bale_severity sev)
{
	switch (sev) {
	case BALE_SEV_ERROR:
		return "critical";
	case BALE_SEV_WARNING:
		return "major";
	case BALE_SEV_INFO:
		return "info";
	default:
		return "minor";
	}
}

int report_gitlab(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	bale_json j;

	(void)opts;
	bale_json_init(&j, out, true);
	bale_json_array_begin(&j);
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];
		bale_buf desc = BALE_BUF_INIT;
		char fp[33];

		report_fingerprint(fp, fd);
		bale_buf_addf(&desc, "%s: ", fd->rule->id);
		if (fd->loc.layer >= 0)
			bale_buf_addf(&desc, "layer %d ", fd->loc.layer);
		if (fd->loc.path)
			bale_buf_addf(&desc, "%s: ", fd->loc.path);
		bale_buf_adds(&desc, fd->message);
		bale_json_object_begin(&j);
		bale_json_key(&j, "type");
		bale_json_string(&j, "issue");
		bale_json_key(&j, "description");
		bale_json_string(&j, desc.ptr);
		bale_json_key(&j, "check_name");
		bale_json_string(&j, fd->rule->id);
		bale_json_key(&j, "fingerprint");
		bale_json_string(&j, fp);
		bale_json_key(&j, "severity");
		bale_json_string(&j, gitlab_severity(fd->severity));
		bale_json_key(&j, "location");
		bale_json_object_begin(&j);
		bale_json_key(&j, "path");
		bale_json_string(&j, fd->loc.file ? fd->loc.file : "-");
		bale_json_key(&j, "lines");
		bale_json_object_begin(&j);
		bale_json_key(&j, "begin");
		bale_json_uint(&j, fd->loc.line ? fd->loc.line : 1);
		bale_json_object_end(&j);
		bale_json_object_end(&j);
		bale_json_object_end(&j);
		bale_buf_release(&desc);
	}
	bale_json_array_end(&j);
	return bale_json_finish(&j);
}
