/*
 * BK0017 copy-ignored-file (BuildKit's CopyIgnoredFile): a COPY or ADD source from the build
 * context that the .dockerignore keeps out, so the build fails to find it (or copies less than
 * the Dockerfile says).
 *
 * The ignore file is read as BuildKit's client reads it: `<Dockerfile>.dockerignore` beside the
 * Dockerfile when it exists, else `.dockerignore` at the root of the context; '#' lines are
 * comments, each pattern is trimmed and cleaned (Go's filepath.Clean), a leading '/' dropped,
 * and '!' makes an exception. Patterns match as moby/patternmatcher matches them: Go
 * filepath.Match globs ('*' and '?' stop at '/', [classes], '\' escapes) plus '**' for any
 * number of directories; a path is ignored when it or one of its parent directories matches
 * and no later exception matches. As in BuildKit, a file with exceptions is not judged (a
 * directory may be excluded with a file in it let back in), and the context root ("." or "/")
 * is reported only when a pattern is one of "*", "**" and "**" followed by "/" and "*".
 */
#include "lint/internal.h"

#include <stdlib.h>
#include <string.h>

/* Files bigger than this are not ignore files anyone wrote; BuildKit's client refuses them. */
#define IGNORE_FILE_MAX ((size_t)1 << 20)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int add_pattern(struct lint_ignore *f, const char *s, size_t len)
{
	bool exclusion = false;
	char *text;

	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (len == 0)
		return 0;
	if (s[0] == '!') {
		exclusion = true;
		s++;
		len--;
		while (len && is_space(*s)) {
			s++;
			len--;
		}
	}
	if (BALE_ARRAY_RESERVE(f->v, f->alloc, f->n + 1))
		return BALE_ENOMEM;
	text = malloc(len + 3);
	if (!text)
		return bale_error_oom();
	if (len > 0) {
		bale_path_clean(text, s, len);
		if (text[0] == '/' && text[1])
			memmove(text, text + 1, strlen(text));
	} else {
		text[0] = '\0';
	}
	f->v[f->n].text = text;
	f->v[f->n].exclusion = exclusion;
	f->n++;
	f->exclusions |= exclusion;
	return 0;
}

void lint_ignore_release(struct lint_ignore *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int lint_ignore_read(struct lint_ignore *f, const struct lint_ctx *ctx, bool *found)
{
	bale_buf path = BALE_BUF_INIT, data = BALE_BUF_INIT;
	const char *p, *end;
	int rc = 0;

	*found = false;
	bale_buf_addf(&path, "%s.dockerignore", ctx->filename);
	if (!path.err && bale_read_file(&data, path.ptr, IGNORE_FILE_MAX) == 0) {
		f->name = "the Dockerfile's .dockerignore";
		*found = true;
	} else {
		bale_buf_reset(&path);
		bale_buf_reset(&data);
		bale_buf_addf(&path, "%s/.dockerignore", ctx->context_dir);
		if (!path.err && bale_read_file(&data, path.ptr, IGNORE_FILE_MAX) == 0) {
			f->name = ".dockerignore";
			*found = true;
		}
	}
	if (path.err || data.err) {
		rc = BALE_ENOMEM;
		goto out;
	}
	if (!*found)
		goto out;
	p = data.ptr;
	end = data.ptr + data.len;
	if (data.len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* A comment only when '#' is the line's first byte, before any trimming. */
		if (len && p[0] != '#')
			rc = add_pattern(f, p, len);
		p += len + 1;
	}
out:
	bale_buf_release(&path);
	bale_buf_release(&data);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Matching. A pattern is exact, a prefix ("dir/" then "**"), a suffix ("**" then "/name") or a
 * glob, as
 * patternmatcher classifies it; globs are matched by backtracking over the path with a step
 * budget, so no pattern can make a check slow.
 * ------------------------------------------------------------------------------------------ */

enum match_kind { MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX, MATCH_GLOB };

/* patternmatcher's classification of a cleaned pattern. */
static enum match_kind classify(const char *p)
{
	enum match_kind kind = MATCH_EXACT;

	for (size_t i = 0, token = 0; p[i]; token++) {
		if (p[i] == '*' && p[i + 1] == '*') {
			i += 2;
			if (p[i] == '/')
				i++;
			if (!p[i])
				kind = kind == MATCH_EXACT ? MATCH_PREFIX : MATCH_GLOB;
			else
				kind = MATCH_GLOB;
			if (token == 0)
				kind = MATCH_SUFFIX;
		} else if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == ']') {
			kind = MATCH_GLOB;
			i++;
		} else if (p[i] == '\\') {
			if (p[i + 1]) {
				kind = MATCH_GLOB;
				i += 2;
			} else {
				i++;
			}
		} else {
			i++;
		}
	}
	return kind;
}

/* Matches a character class at p (after '['); *end is set past its ']'. */
static bool class_match(const char *p, char c, const char **end)
{
	bool negate = false, hit = false;

	if (*p == '^') {
		negate = true;
		p++;
	}
	for (bool first = true; *p && (first || *p != ']'); first = false) {
		char lo = *p == '\\' && p[1] ? *++p : *p, hi = lo;

		p++;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			hi = *p == '\\' && p[1] ? *++p : *p;
			p++;
		}
		if (lo <= c && c <= hi)
			hit = true;
	}
	if (*p != ']') {
		*end = NULL; /* unterminated: the pattern never matches */
		return false;
	}
	*end = p + 1;
	return hit != negate;
}

static bool glob_match(const char *p, const char *s, long *budget)
{
	while (*p) {
		if (--*budget < 0)
			return false;
		if (p[0] == '*' && p[1] == '*') {
			/*
			 * "**" then "/": any number of whole directories (none included); "**" at
			 * the end: anything.
			 */
			p += 2;
			if (*p == '/') {
				p++;
				if (glob_match(p, s, budget))
					return true;
				for (const char *q = s; *q; q++)
					if (*q == '/' && glob_match(p, q + 1, budget))
						return true;
				return false;
			}
			if (!*p)
				return true;
			for (const char *q = s;; q++) {
				if (glob_match(p, q, budget))
					return true;
				if (!*q)
					return false;
			}
		}
		if (*p == '*') {
			p++;
			for (const char *q = s;; q++) {
				if (glob_match(p, q, budget))
					return true;
				if (!*q || *q == '/')
					return false;
			}
		}
		if (!*s)
			return false;
		if (*p == '?') {
			if (*s == '/')
				return false;
			p++;
			s++;
		} else if (*p == '[') {
			const char *end;

			if (!class_match(p + 1, *s, &end))
				return false;
			p = end;
			s++;
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
	return *s == '\0';
}

static bool pattern_match(const struct lint_ignore_pattern *pat, const char *path, size_t len)
{
	const char *p = pat->text;
	size_t plen = strlen(p);
	char buf[4096];
	long budget = 100000;

	switch (classify(p)) {
	case MATCH_EXACT:
		return plen == len && memcmp(p, path, len) == 0;
	case MATCH_PREFIX:
		return len >= plen - 2 && memcmp(p, path, plen - 2) == 0;
	case MATCH_SUFFIX:
		/* "**" then "/x" matches a path ending in "/x", and "x" itself. */
		if (len >= plen - 2 && memcmp(p + 2, path + len - (plen - 2), plen - 2) == 0)
			return true;
		return p[2] == '/' && len == plen - 3 && memcmp(p + 3, path, len) == 0;
	default:
		if (len >= sizeof(buf))
			return false;
		memcpy(buf, path, len);
		buf[len] = '\0';
		return glob_match(p, buf, &budget);
	}
}

/* patternmatcher's MatchesOrParentMatches on a cleaned relative path. */
bool lint_ignore_excludes(const struct lint_ignore *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = strlen(path);
	bool matched = false;

	for (size_t i = 0; i < f->n; i++) {
		const struct lint_ignore_pattern *pat = &f->v[i];
		bool hit;

		if (pat->exclusion != matched)
			continue;
		hit = pattern_match(pat, path, len);
		/* Each parent directory, shortest first. */
		for (const char *q = path; !hit && slash && q <= slash; q++)
			if (*q == '/')
				hit = pattern_match(pat, path, (size_t)(q - path));
		if (hit)
			matched = !pat->exclusion;
	}
	return matched;
}

static bool root_ignored(const struct lint_ignore *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (!f->v[i].exclusion &&
		    (!strcmp(f->v[i].text, "*") || !strcmp(f->v[i].text, "**") ||
		     !strcmp(f->v[i].text, "**/*")))
			return true;
	return false;
}

/* Sources that are not paths in the context: URLs and git repositories. */
static bool remote_source(const char *src)
{
	return strstr(src, "://") || strncmp(src, "git@", 4) == 0;
}

static void check_copy_ignored(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_ignore f = {0};
	bool read = false, found = false;
	int rc;

	if (!ctx->context_dir)
		return;
	for (size_t i = 0; i < ctx->ninstrs && !ctx->err; i++) {
		const bale_command *c = &ctx->cmds[i];
		bale_expansion exp = BALE_EXPANSION_INIT;

		if ((c->kind != BALE_INSTR_COPY && c->kind != BALE_INSTR_ADD) || c->copy.from ||
		    !c->copy.nsources || lint_stage_of(ctx, i) == BALE_NO_STAGE)
			continue;
		if (!read) {
			read = true;
			if ((rc = lint_ignore_read(&f, ctx, &found)) != 0) {
				ctx->err = rc;
				break;
			}
		}
		/* With exceptions, what is excluded cannot be told without the files. */
		if (!found || f.exclusions)
			break;
		if ((rc = bale_stages_expand_instruction(&exp, ctx->stages, i)) != 0) {
			if (rc == BALE_ENOMEM)
				ctx->err = rc;
			continue;
		}
		for (size_t w = 0; w < exp.nwords; w++) {
			const char *src = exp.words[w].value;
			size_t len = strlen(src);
			char *path;

			if (strcmp(exp.words[w].field, "source") != 0 || remote_source(src))
				continue;
			path = malloc(len + 3);
			if (!path) {
				ctx->err = bale_error_oom();
				break;
			}
			bale_path_clean(path, src, len);
			/* The context root is only ever "excluded" by a pattern for everything. */
			if (strcmp(path, ".") == 0 || strcmp(path, "/") == 0
				? root_ignored(&f)
				: lint_ignore_excludes(&f, path + (path[0] == '/')))
				lint_report(
				    ctx, rule, i, 0, 0,
				    "Attempting to %s file \"%s\" that is excluded by "
				    ".dockerignore: %s keeps it out of the build context, so "
				    "the build cannot find it",
				    c->kind == BALE_INSTR_ADD ? "Add" : "Copy", path, f.name);
			free(path);
		}
		bale_expansion_release(&exp);
	}
	lint_ignore_release(&f);
}

static const char *const copy_ignored_aliases[] = {"CopyIgnoredFile", NULL};
const struct lint_rule lint_rule_BK0017 = {
    .meta = {.id = "BK0017",
	     .name = "copy-ignored-file",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Attempting to Copy file that is excluded by .dockerignore",
	     .fix = "remove the path from .dockerignore (or add a '!' exception), or stop copying "
		    "it",
	     .aliases = copy_ignored_aliases,
	     .category = "buildkit"},
    .check = check_copy_ignored,
    .needs_stages = true,
};
