/*
 * SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, Azure DevOps) read: one run
 * whose driver describes each rule (id, name, descriptions, help link, default level), and one
 * result per finding. Levels: error and warning as they are, info and style as "note".
 */
#include "report/internal.h"

#include <stdlib.h>
#include <string.h>

static const char *sarif_level(bale_severity sev)
{
	return sev == BALE_SEV_ERROR ? "error" : sev == BALE_SEV_WARNING ? "warning" : "note";
}

static size_t rule_index(const bale_rule *const *rules, size_t n, const bale_rule *rule)
{
	for (size_t i = 0; i < n; i++)
		if (rules[i] == rule || strcmp(rules[i]->id, rule->id) == 0)
			return i;
	return n;
}

static void write_rule(bale_json *j, const bale_rule *r, const bale_report_opts *opts)
{
	bale_json_object_begin(j);
	bale_json_key(j, "id");
	bale_json_string(j, r->id);
	bale_json_key(j, "name");
	bale_json_string(j, r->name);
	bale_json_key(j, "shortDescription");
	bale_json_object_begin(j);
	bale_json_key(j, "text");
	bale_json_string(j, r->summary ? r->summary : r->name);
	bale_json_object_end(j);
	if (r->fix) {
		bale_json_key(j, "help");
		bale_json_object_begin(j);
		bale_json_key(j, "text");
		bale_json_string(j, r->fix);
		bale_json_object_end(j);
	}
	if (opts->docs_url) {
		bale_buf uri = BALE_BUF_INIT;

		bale_buf_addf(&uri, "%s/%s.md", opts->docs_url, r->id);
		bale_json_key(j, "helpUri");
		bale_json_string(j, uri.ptr);
		bale_buf_release(&uri);
	}
	bale_json_key(j, "defaultConfiguration");
	bale_json_object_begin(j);
	bale_json_key(j, "level");
	bale_json_string(j, sarif_level(r->severity));
	bale_json_object_end(j);
	bale_json_key(j, "properties");
	bale_json_object_begin(j);
	bale_json_key(j, "tags");
	bale_json_array_begin(j);
	if (r->category)
		bale_json_string(j, r->category);
	for (const char *const *a = r->aliases; a && *a; a++)
		bale_json_string(j, *a);
	bale_json_array_end(j);
	bale_json_object_end(j);
	bale_json_object_end(j);
}

static void write_location(bale_json *j, const bale_finding *fd)
{
	bale_json_key(j, "locations");
	bale_json_array_begin(j);
	bale_json_object_begin(j);
	bale_json_key(j, "physicalLocation");
	bale_json_object_begin(j);
	bale_json_key(j, "artifactLocation");
	bale_json_object_begin(j);
	bale_json_key(j, "uri");
	bale_json_string(j, fd->loc.file ? fd->loc.file : "-");
	bale_json_object_end(j);
	if (fd->loc.line) {
		bale_json_key(j, "region");
		bale_json_object_begin(j);
		bale_json_key(j, "startLine");
		bale_json_uint(j, fd->loc.line);
		if (fd->loc.col) {
			bale_json_key(j, "startColumn");
			bale_json_uint(j, fd->loc.col);
		}
		if (fd->loc.end_line) {
			bale_json_key(j, "endLine");
			bale_json_uint(j, fd->loc.end_line);
		}
		bale_json_object_end(j);
	}
	bale_json_object_end(j);
	if (fd->loc.layer >= 0 || fd->loc.path) {
		bale_buf name = BALE_BUF_INIT;

		if (fd->loc.layer >= 0)
			bale_buf_addf(&name, "layer %d ", fd->loc.layer);
		bale_buf_adds(&name, fd->loc.path ? fd->loc.path : "");
		bale_json_key(j, "logicalLocations");
		bale_json_array_begin(j);
		bale_json_object_begin(j);
		bale_json_key(j, "fullyQualifiedName");
		bale_json_string(j, name.ptr);
		bale_json_object_end(j);
		bale_json_array_end(j);
		bale_buf_release(&name);
	}
	bale_json_object_end(j);
	bale_json_array_end(j);
}

int report_sarif(bale_buf *out, const bale_findings *f, const bale_report_opts *opts)
{
	const bale_rule **used = NULL;
	const bale_rule *const *rules = opts->rules;
	size_t nrules = opts->nrules, nused = 0, alloc = 0;
	bale_json j;
	int rc;

	if (!rules) {
		for (size_t i = 0; i < f->n; i++) {
			if (rule_index((const bale_rule *const *)used, nused, f->v[i].rule) < nused)
				continue;
			if (BALE_ARRAY_RESERVE(used, alloc, nused + 1)) {
				free(used);
				return BALE_ENOMEM;
			}
			used[nused++] = f->v[i].rule;
		}
		rules = (const bale_rule *const *)used;
		nrules = nused;
	}
	bale_json_init(&j, out, true);
	bale_json_object_begin(&j);
	bale_json_key(&j, "$schema");
	bale_json_string(&j, "https://json.schemastore.org/sarif-2.1.0.json");
	bale_json_key(&j, "version");
	bale_json_string(&j, "2.1.0");
	bale_json_key(&j, "runs");
	bale_json_array_begin(&j);
	bale_json_object_begin(&j);
	bale_json_key(&j, "tool");
	bale_json_object_begin(&j);
	bale_json_key(&j, "driver");
	bale_json_object_begin(&j);
	bale_json_key(&j, "name");
	bale_json_string(&j, "bale");
	bale_json_key(&j, "version");
	bale_json_string(&j, opts->tool_version ? opts->tool_version : bale_version());
	bale_json_key(&j, "rules");
	bale_json_array_begin(&j);
	for (size_t i = 0; i < nrules; i++)
		write_rule(&j, rules[i], opts);
	bale_json_array_end(&j);
	bale_json_object_end(&j);
	bale_json_object_end(&j);
	bale_json_key(&j, "results");
	bale_json_array_begin(&j);
	for (size_t i = 0; i < f->n; i++) {
		const bale_finding *fd = &f->v[i];
		size_t idx = rule_index(rules, nrules, fd->rule);

		bale_json_object_begin(&j);
		bale_json_key(&j, "ruleId");
		bale_json_string(&j, fd->rule->id);
		if (idx < nrules) {
			bale_json_key(&j, "ruleIndex");
			bale_json_uint(&j, idx);
		}
		bale_json_key(&j, "level");
		bale_json_string(&j, sarif_level(fd->severity));
		bale_json_key(&j, "message");
		bale_json_object_begin(&j);
		bale_json_key(&j, "text");
		bale_json_string(&j, fd->message);
		bale_json_object_end(&j);
		write_location(&j, fd);
		{
			char fp[33];

			report_fingerprint(fp, fd);
			bale_json_key(&j, "partialFingerprints");
			bale_json_object_begin(&j);
			bale_json_key(&j, "bale/v1");
			bale_json_string(&j, fp);
			bale_json_object_end(&j);
		}
		bale_json_object_end(&j);
	}
	bale_json_array_end(&j);
	bale_json_object_end(&j);
	bale_json_array_end(&j);
	bale_json_object_end(&j);
	rc = bale_json_finish(&j);
	free(used);
	return rc;
}
