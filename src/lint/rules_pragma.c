/*
 * Rules about the Dockerfile's own comments: inline ignore pragmas, for teams that keep every
 * exception in the configuration file where it is reviewed in one place.
 */
#include "lint/internal.h"

#include <string.h>
#include <strings.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Skips `word` (any case) and the blanks after it; false when the text does not start so. */
static bool skip_word(const char **p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *p) < n || strncasecmp(*p, word, n) != 0)
		return false;
	if (*p + n < end && !blank((*p)[n]) && (*p)[n] != '=')
		return false;
	*p += n;
	while (*p < end && blank(**p))
		(*p)++;
	return true;
}

/*
 * True when the comment line [s, end) is an ignore pragma as pragma.c reads them:
 * "# hadolint ignore=", "# bale ignore=", and their "global" and "stage" forms.
 */
static bool is_ignore_pragma(const char *s, const char *end)
{
	const char *p = s;

	while (p < end && blank(*p))
		p++;
	if (p == end || *p != '#')
		return false;
	p++;
	while (p < end && blank(*p))
		p++;
	if (!skip_word(&p, end, "hadolint") && !skip_word(&p, end, "bale"))
		return false;
	if (!skip_word(&p, end, "global"))
		skip_word(&p, end, "stage");
	return skip_word(&p, end, "ignore") && p < end && *p == '=';
}

/* Reports the pragmas among the comment lines between instructions (where pragmas live). */
static void check_pragmas(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t src_len, pos = 0;
	const char *src = bale_dockerfile_source(ctx->df, &src_len);
	uint32_t line = 1;

	for (size_t i = 0; i <= ctx->ninstrs; i++) {
		size_t gap_end = i < ctx->ninstrs ? ctx->instrs[i].start_offset : src_len;

		while (pos < gap_end) {
			const char *nl = memchr(src + pos, '\n', gap_end - pos);
			size_t len = nl ? (size_t)(nl - (src + pos)) : gap_end - pos;

			if (is_ignore_pragma(src + pos, src + pos + len)) {
				const char *hash = memchr(src + pos, '#', len);
				size_t end = len;

				while (end > 0 &&
				       (src[pos + end - 1] == '\r' || blank(src[pos + end - 1])))
					end--;
				/*
				 * Reported at no instruction: a pragma must not be able to hide
				 * itself (`# hadolint ignore=DL1001` above the next instruction).
				 */
				lint_report(
				    ctx, rule, ctx->ninstrs, line,
				    (uint32_t)(hash - (src + pos)) + 1,
				    "inline ignore pragma '%.*s': keep exceptions in one place, "
				    "the configuration's ignored: list (.bale.yaml or "
				    ".hadolint.yaml), where they are reviewed",
				    (int)(end - (size_t)(hash - (src + pos))), hash);
			}
			pos += len + 1;
			line++;
		}
		if (i < ctx->ninstrs) {
			pos = ctx->instrs[i].end_offset;
			line = ctx->instrs[i].end_line + 1;
		}
	}
}

/* Off by default, as in hadolint: `override: {style: [DL1001]}` turns it on. */
const struct lint_rule lint_rule_DL1001 = {
    .meta = {.id = "DL1001",
	     .name = "no-inline-ignore-pragma",
	     .severity = BALE_SEV_NONE,
	     .summary =
		 "Please refrain from using inline ignore pragmas `# hadolint ignore=DLxxxx`",
	     .fix = "move the exception to the configuration file's `ignored:` list",
	     .category = "maintainability"},
    .check = check_pragmas,
};
