/* The findings list, severities, rule matching, and the format dispatch. */
#include "report/internal.h"
#include "report/findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const severity_names[] = {"none", "style", "info", "warning", "error"};

const char *bale_severity_name(bale_severity sev)
{
	if ((size_t)sev >= BALE_ARRAY_SIZE(severity_names))
		return "none";
	return severity_names[sev];
}

int bale_severity_parse(bale_severity *out, const char *name)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(severity_names); i++)
		if (strcasecmp(name, severity_names[i]) == 0) {
			*out = (bale_severity)i;
			return 0;
		}
	if (strcasecmp(name, "ignore") == 0 || strcasecmp(name, "off") == 0) {
		*out = BALE_SEV_NONE;
		return 0;
	}
	return bale_error_set(
	    BALE_EINVAL, "unknown severity '%s' (use error, warning, info, style or none)", name);
}

/*
 * strcasecmp(name, code) == 0, with no call when the first bytes differ in more than case,
 * as they mostly do: | 0x20 maps both cases of a letter to one byte.
 */
static bool same_code(const char *name, const char *code)
{
	return ((unsigned char)name[0] | 0x20) == ((unsigned char)code[0] | 0x20) &&
	       strcasecmp(name, code) == 0;
}

bool bale_rule_matches(const bale_rule *rule, const char *code)
{
	if (same_code(rule->id, code) || (rule->name && same_code(rule->name, code)))
		return true;
	for (const char *const *a = rule->aliases; a && *a; a++)
		if (same_code(*a, code))
			return true;
	return false;
}

int bale_findings_new(bale_findings **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : bale_error_oom();
}

void bale_findings_free(bale_findings *f)
{
	if (!f)
		return;
	bale_arena_release(&f->arena);
	free(f->rules);
	free(f);
}

static const char *copy_str(bale_findings *f, const char *s, int *rc)
{
	const char *c;

	if (!s)
		return NULL;
	c = bale_arena_strdup(&f->arena, s);
	if (!c)
		*rc = BALE_ENOMEM;
	return c;
}

/* The file names of a list repeat in every finding: the last copy made is reused. */
static const char *copy_file(bale_findings *f, const char *file, int *rc)
{
	if (!file)
		return NULL;
	if (f->last_file && (f->last_file == file || strcmp(f->last_file, file) == 0))
		return f->last_file;
	f->last_file = copy_str(f, file, rc);
	return f->last_file;
}

/* add_finding() when the list grows or the location has strings to copy. */
static __attribute__((noinline)) int add_finding_slow(bale_findings *f, const bale_rule *rule,
						      bale_severity severity,
						      const bale_location *loc, const char *message)
{
	bale_finding *fd;
	int rc = 0;

	/*
	 * A linted file has tens of findings: room for 32 at once. In the list's arena, whose
	 * chunks the thread reuses list after list, not a malloc and a realloc or two per file.
	 */
	if (f->n >= f->alloc) {
		bale_finding *v = bale_arena_grow(&f->arena, f->v, f->n, &f->alloc, 32, sizeof(*v));

		if (!v)
			return BALE_ENOMEM;
		f->v = v;
	}
	fd = &f->v[f->n];
	fd->rule = rule;
	fd->severity = severity == BALE_SEV_NONE ? rule->severity : severity;
	fd->message = message;
	if (loc) {
		fd->loc = *loc;
		fd->loc.file = copy_file(f, loc->file, &rc);
		fd->loc.path = copy_str(f, loc->path, &rc);
	} else {
		fd->loc = (bale_location){.layer = -1};
	}
	if (rc)
		return rc;
	f->n++;
	return 0;
}

/* Adds a finding whose message is already in the list's arena. */
static inline int add_finding(bale_findings *f, const bale_rule *rule, bale_severity severity,
			      const bale_location *loc, const char *message)
{
	bale_finding *fd;

	/*
	 * The usual finding of a linted file: room in the list, and a location that names the file
	 * the list last noted and no path, so nothing to copy. Apart, so that this path saves no
	 * registers for the calls of the other.
	 */
	if (f->n >= f->alloc || !loc || !loc->file || loc->file != f->last_file || loc->path)
		return add_finding_slow(f, rule, severity, loc, message);
	fd = &f->v[f->n++];
	fd->rule = rule;
	fd->severity = severity == BALE_SEV_NONE ? rule->severity : severity;
	fd->message = message;
	fd->loc = *loc;
	return 0;
}

int report_findings_add_written(bale_findings *f, const bale_rule *rule, bale_severity severity,
				const bale_location *loc, size_t len)
{
	bale_arena *a = &f->arena;
	char *message;

	if (!a->head || len >= a->head->size - a->used)
		return bale_error_set(BALE_EINVAL, "a finding's message overruns its room");
	/*
	 * Nothing was allocated since report_findings_room(): the message is at the start of the
	 * head chunk's free room, and is kept there with no call for a new chunk, which would cost
	 * every finding its register saves.
	 */
	message = (char *)a->head->data + a->used;
	message[len] = '\0';
	bale_arena_take(a, len + 1);
	return add_finding(f, rule, severity, loc, message);
}

int report_findings_add_text(bale_findings *f, const bale_rule *rule, bale_severity severity,
			     const bale_location *loc, const char *message, size_t len)
{
	char *copy;

	/* len + 1 must not wrap to an empty copy. */
	if (len == SIZE_MAX || !(copy = bale_arena_strndup(&f->arena, message, len)))
		return BALE_ENOMEM;
	return add_finding(f, rule, severity, loc, copy);
}

int bale_findings_add(bale_findings *f, const bale_rule *rule, bale_severity severity,
		      const bale_location *loc, const char *fmt, ...)
{
	bale_buf msg = BALE_BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	bale_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	rc = msg.err ? msg.err : report_findings_add_text(f, rule, severity, loc, msg.ptr, msg.len);
	bale_buf_release(&msg);
	return rc;
}

size_t bale_findings_count(const bale_findings *f)
{
	return f->n;
}

const bale_finding *bale_findings_get(const bale_findings *f, size_t i)
{
	return i < f->n ? &f->v[i] : NULL;
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int compare(const void *pa, const void *pb)
{
	const bale_finding *a = pa, *b = pb;
	int c;

	if ((c = strcmp_null(a->loc.file, b->loc.file)) != 0)
		return c;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	if (a->loc.layer != b->loc.layer)
		return a->loc.layer < b->loc.layer ? -1 : 1;
	if ((c = strcmp_null(a->loc.path, b->loc.path)) != 0)
		return c;
	if ((c = strcmp(a->rule->id, b->rule->id)) != 0)
		return c;
	return strcmp(a->message, b->message);
}

void bale_findings_sort(bale_findings *f)
{
	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), compare);
}

size_t bale_findings_at_or_above(const bale_findings *f, bale_severity threshold)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->v[i].severity != BALE_SEV_NONE && f->v[i].severity >= threshold;
	return n;
}

int bale_findings_intern_rule(bale_findings *f, const bale_rule *rule, const bale_rule **out)
{
	bale_rule *copy;
	int rc = 0;

	for (size_t i = 0; i < f->nrules; i++)
		if (strcmp(f->rules[i]->id, rule->id) == 0) {
			*out = f->rules[i];
			return 0;
		}
	if (BALE_ARRAY_RESERVE(f->rules, f->rules_alloc, f->nrules + 1))
		return BALE_ENOMEM;
	copy = bale_arena_calloc(&f->arena, 1, sizeof(*copy));
	if (!copy)
		return BALE_ENOMEM;
	copy->id = copy_str(f, rule->id, &rc);
	copy->name = copy_str(f, rule->name, &rc);
	copy->severity = rule->severity;
	copy->summary = copy_str(f, rule->summary, &rc);
	copy->fix = copy_str(f, rule->fix, &rc);
	copy->category = copy_str(f, rule->category, &rc);
	if (rc)
		return rc;
	f->rules[f->nrules++] = copy;
	*out = copy;
	return 0;
}

/* Notes `file` once; *copy is the list's own copy of it. */
static int note_file(bale_findings *f, const char *file, const char **copy)
{
	char *c;

	for (size_t i = 0; i < f->nfiles; i++)
		if (strcmp(f->files[i], file) == 0) {
			*copy = f->files[i];
			return 0;
		}
	/* In the arena too: most lists name one file. */
	if (f->nfiles >= f->files_alloc) {
		const char **files = bale_arena_grow(&f->arena, f->files, f->nfiles,
						     &f->files_alloc, 4, sizeof(*files));

		if (!files)
			return BALE_ENOMEM;
		f->files = files;
	}
	c = bale_arena_strdup(&f->arena, file);
	if (!c)
		return BALE_ENOMEM;
	f->files[f->nfiles++] = c;
	*copy = c;
	return 0;
}

int bale_findings_add_file(bale_findings *f, const char *file)
{
	const char *copy;

	return note_file(f, file, &copy);
}

int report_findings_note_file(bale_findings *f, const char *file, const char **copy)
{
	int rc = note_file(f, file, copy);

	/* The findings about it will name this copy: copy_file() keeps it. */
	if (rc == 0)
		f->last_file = *copy;
	return rc;
}

static const struct {
	const char *name;
	bale_format format;
	int (*render)(bale_buf *, const bale_findings *, const bale_report_opts *);
} formats[] = {
    {"tty", BALE_FORMAT_TTY, report_tty},
    {"json", BALE_FORMAT_JSON, report_json},
    {"sarif", BALE_FORMAT_SARIF, report_sarif},
    {"checkstyle", BALE_FORMAT_CHECKSTYLE, report_checkstyle},
    {"gitlab", BALE_FORMAT_GITLAB, report_gitlab},
    {"codeclimate", BALE_FORMAT_GITLAB, report_gitlab},
    {"github", BALE_FORMAT_GITHUB, report_github},
    {"github-actions", BALE_FORMAT_GITHUB, report_github},
};

int bale_format_parse(bale_format *out, const char *name)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(formats); i++)
		if (strcasecmp(name, formats[i].name) == 0) {
			*out = formats[i].format;
			return 0;
		}
	return bale_error_set(BALE_EINVAL,
			      "unknown format '%s' (use tty, json, sarif, checkstyle, gitlab or "
			      "github)",
			      name);
}

const char *bale_format_name(bale_format format)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(formats); i++)
		if (formats[i].format == format)
			return formats[i].name;
	return "tty";
}

int bale_report_render(bale_buf *out, bale_format format, const bale_findings *f,
		       const bale_report_opts *opts)
{
	static const bale_report_opts defaults = {0};

	for (size_t i = 0; i < BALE_ARRAY_SIZE(formats); i++)
		if (formats[i].format == format) {
			int rc = formats[i].render(out, f, opts ? opts : &defaults);

			return rc ? rc : out->err;
		}
	return bale_error_set(BALE_EINVAL, "unknown format %d", (int)format);
}

void report_location(bale_buf *out, const bale_location *loc)
{
	if (loc->layer >= 0 || (loc->path && loc->line == 0)) {
		bale_buf_adds(out, loc->file ? loc->file : "image");
		if (loc->layer >= 0)
			bale_buf_addf(out, " layer %d", loc->layer);
		if (loc->path)
			bale_buf_addf(out, " %s", loc->path);
		return;
	}
	bale_buf_adds(out, loc->file ? loc->file : "-");
	if (loc->line) {
		bale_buf_addf(out, ":%u", loc->line);
		if (loc->col)
			bale_buf_addf(out, ":%u", loc->col);
	}
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ 0xff; /* a separator, so "ab"+"c" differs from "a"+"bc" */
}

void report_fingerprint(char out[33], const bale_finding *fd)
{
	char num[64];
	uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;

	snprintf(num, sizeof(num), "%u:%d", fd->loc.line, fd->loc.layer);
	h1 = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(h1, fd->rule->id), fd->loc.file), num), fd->loc.path),
		   fd->message);
	h2 = fnv1a(fnv1a(fnv1a(fnv1a(fnv1a(h2, fd->message), fd->loc.path), num), fd->loc.file),
		   fd->rule->id);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

int bale_mask_secret(bale_buf *out, const char *secret, size_t len)
{
	size_t keep = len / 4 < 4 ? len / 4 : 4, stars = len - keep;

	bale_buf_add(out, secret, keep);
	if (stars > 40)
		stars = 40;
	for (size_t i = 0; i < stars; i++)
		bale_buf_addch(out, '*');
	return out->err;
}
