/*
 * Inline ignores, as hadolint and BuildKit users write them:
 *
 *   # hadolint ignore=DL3008,DL3009     the next instruction (also "# bale ignore=")
 *   # hadolint global ignore=DL3059     the whole file
 *   # bale stage ignore=BL1002          the rest of the stage it stands in
 *   # check=skip=JSONArgsRecommended    BuildKit's directive (skip=all; error=true)
 *
 * A next-instruction pragma is a comment line directly above the instruction (other comment
 * lines may stand between; an empty line ends the run). Codes are rule ids, names or aliases.
 */
#include "lint/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int add_code(struct lint_pragmas *pr, enum lint_pragma_scope scope, size_t where,
		    const char *s, size_t len)
{
	struct lint_pragma *p;
	char *code;

	if (BALE_ARRAY_RESERVE(pr->v, pr->alloc, pr->n + 1))
		return BALE_ENOMEM;
	code = bale_arena_strndup(&pr->arena, s, len);
	if (!code)
		return BALE_ENOMEM;
	p = &pr->v[pr->n++];
	p->scope = scope;
	p->where = where;
	p->code = code;
	return 0;
}

/* Adds each code of a comma-separated list "A, B,C" (the list ends at a blank after a code). */
static int add_list(struct lint_pragmas *pr, enum lint_pragma_scope scope, size_t where,
		    const char *s, size_t len)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		size_t start;

		while (i < len && (is_blank(s[i]) || s[i] == ','))
			i++;
		start = i;
		while (i < len && !is_blank(s[i]) && s[i] != ',')
			i++;
		if (i > start && (rc = add_code(pr, scope, where, s + start, i - start)) != 0)
			return rc;
		while (i < len && is_blank(s[i]))
			i++;
		if (i < len && s[i] != ',')
			break; /* text after the list: a comment on the pragma */
	}
	return 0;
}

/* Inline: `word` is a literal, whose length the compiler knows (every comment line is asked). */
static inline bool take_word(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	/* Most comments are no pragma: the first letter (any case) says so before a call. */
	if ((size_t)(end - *p) < n || ((**p ^ word[0]) & ~0x20) != 0 ||
	    strncasecmp(*p, word, n) != 0)
		return false;
	if (*p + n < end && !is_blank((*p)[n]) && (*p)[n] != '=')
		return false;
	*p += n;
	while (*p < end && is_blank(**p))
		(*p)++;
	return true;
}

/* Reads one comment line (without its newline); a pragma's codes are added to `pr`. */
static int parse_comment(struct lint_pragmas *pr, const char *s, size_t len, size_t instr,
			 size_t stage)
{
	const char *p = s, *end = s + len;
	enum lint_pragma_scope scope = LINT_PRAGMA_NEXT;

	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p != '#')
		return 0;
	p++;
	while (p < end && is_blank(*p))
		p++;
	if (!take_word(&p, end, "hadolint") && !take_word(&p, end, "bale"))
		return 0;
	if (take_word(&p, end, "global"))
		scope = LINT_PRAGMA_GLOBAL;
	else if (take_word(&p, end, "stage"))
		scope = LINT_PRAGMA_STAGE;
	if (!take_word(&p, end, "ignore"))
		return 0;
	if (p == end || *p != '=')
		return 0;
	p++;
	return add_list(pr, scope,
			scope == LINT_PRAGMA_NEXT    ? instr
			: scope == LINT_PRAGMA_STAGE ? stage
						     : 0,
			p, (size_t)(end - p));
}

/* BuildKit's check directive: "skip=A,B;error=true". */
static int parse_check_directive(struct lint_pragmas *pr, const char *value)
{
	const char *p = value;
	int rc;

	while (*p) {
		const char *semi = strchr(p, ';'), *eq;
		size_t len = semi ? (size_t)(semi - p) : strlen(p);

		while (len && is_blank(*p)) {
			p++;
			len--;
		}
		eq = memchr(p, '=', len);
		if (eq) {
			size_t klen = (size_t)(eq - p);

			while (klen && is_blank(p[klen - 1]))
				klen--;
			if (klen == 4 && strncasecmp(p, "skip", 4) == 0) {
				const char *v = eq + 1;
				size_t vlen = len - (size_t)(v - p);

				while (vlen && is_blank(*v)) {
					v++;
					vlen--;
				}
				if (vlen >= 3 && strncasecmp(v, "all", 3) == 0 &&
				    (vlen == 3 || is_blank(v[3])))
					pr->check_skip_all = true;
				else if ((rc = add_list(pr, LINT_PRAGMA_CHECK, 0, v, vlen)) != 0)
					return rc;
			} else if (klen == 5 && strncasecmp(p, "error", 5) == 0) {
				const char *v = eq + 1;

				while (is_blank(*v))
					v++;
				pr->check_error = strncasecmp(v, "true", 4) == 0;
			}
		}
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

int lint_pragmas_read(struct lint_pragmas *pr, const bale_dockerfile *df, const bale_stages *stages)
{
	const bale_instruction *ins;
	const bale_directive *dirs;
	size_t n, ndirs, src_len, prev_end = 0;
	const char *src = bale_dockerfile_source(df, &src_len);
	int rc;

	memset(pr, 0, sizeof(*pr));
	dirs = bale_dockerfile_directives(df, &ndirs);
	for (size_t i = 0; i < ndirs; i++)
		if (strcmp(dirs[i].name, "check") == 0 &&
		    (rc = parse_check_directive(pr, dirs[i].value)) != 0)
			return rc;
	ins = bale_dockerfile_instructions(df, &n);
	/*
	 * The gaps between instructions hold only comment and empty lines. An empty line ends a
	 * run of comments: next-instruction pragmas above it reach nothing.
	 */
	for (size_t i = 0; i <= n; i++) {
		size_t gap_end = i < n ? ins[i].start_offset : src_len;
		size_t stage = BALE_NO_STAGE, run_start = pr->n;
		bool stage_known = false;

		for (size_t pos = prev_end; pos < gap_end;) {
			const char *nl = memchr(src + pos, '\n', gap_end - pos);
			size_t len = nl ? (size_t)(nl - (src + pos)) : gap_end - pos;
			size_t k = 0;

			while (k < len && (is_blank(src[pos + k]) || src[pos + k] == '\r'))
				k++;
			if (k == len) {
				for (size_t c = run_start; c < pr->n; c++)
					if (pr->v[c].scope == LINT_PRAGMA_NEXT)
						pr->v[c].where = SIZE_MAX;
				run_start = pr->n;
			} else {
				/* Most gaps hold no comment: the stage is asked for one that does.
				 */
				if (!stage_known && stages && (i < n || i > 0))
					stage = bale_stages_stage_of(stages, i < n ? i : i - 1);
				stage_known = true;
				if ((rc = parse_comment(pr, src + pos, len, i < n ? i : SIZE_MAX,
							stage)) != 0)
					return rc;
			}
			pos += len + 1;
		}
		if (i < n)
			prev_end = ins[i].end_offset;
	}
	return 0;
}

bool lint_rule_is_buildkit_check(const bale_rule *rule)
{
	/* BuildKit's own checks, and rules that carry one's name (DL4000: MaintainerDeprecated). */
	static const char *const checks[] = {"MaintainerDeprecated", NULL};

	if (rule->category && strcmp(rule->category, "buildkit") == 0)
		return true;
	for (const char *const *c = checks; *c; c++)
		if (bale_rule_matches(rule, *c))
			return true;
	return false;
}

void lint_pragmas_release(struct lint_pragmas *pr)
{
	free(pr->v);
	bale_arena_release(&pr->arena);
	memset(pr, 0, sizeof(*pr));
}

bool lint_pragmas_ignore(const struct lint_pragmas *pr, const bale_rule *rule, size_t instr,
			 size_t stage, bool disable_inline)
{
	for (size_t i = 0; i < pr->n; i++) {
		const struct lint_pragma *p = &pr->v[i];
		bool applies;

		switch (p->scope) {
		case LINT_PRAGMA_NEXT:
			/* SIZE_MAX: a pragma that reaches no instruction, and a file-wide report.
			 */
			applies = !disable_inline && instr != SIZE_MAX && p->where == instr;
			break;
		case LINT_PRAGMA_STAGE:
			applies = !disable_inline && stage != BALE_NO_STAGE && p->where == stage;
			break;
		case LINT_PRAGMA_GLOBAL:
			applies = !disable_inline;
			break;
		default: /* LINT_PRAGMA_CHECK: BuildKit's own checks only */
			applies = lint_rule_is_buildkit_check(rule);
		}
		if (applies && bale_rule_matches(rule, p->code))
			return true;
	}
	return pr->check_skip_all && lint_rule_is_buildkit_check(rule);
}
