/* Rules about the Dockerfile as a whole and deprecated instructions. */
#include "lint/internal.h"

/* Reported by lint.c when BuildKit's typed layer refuses the file; it has no check of its own. */
const struct lint_rule lint_rule_BL0001 = {
    .meta = {.id = "BL0001",
	     .name = "invalid-dockerfile",
	     .severity = BALE_SEV_ERROR,
	     .summary = "docker build would refuse this Dockerfile",
	     .fix = "correct the instruction as the message says",
	     .category = "correctness"},
};

static void check_maintainer(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_MAINTAINER); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i))
		lint_report(ctx, rule, i, 0, 0,
			    "MAINTAINER is deprecated: it sets the image's author field "
			    "only; use LABEL org.opencontainers.image.authors=\"...\"");
}

static const char *const maintainer_aliases[] = {"MaintainerDeprecated", NULL};
const struct lint_rule lint_rule_DL4000 = {
    .meta = {.id = "DL4000",
	     .name = "maintainer-deprecated",
	     .severity = BALE_SEV_ERROR,
	     .summary = "MAINTAINER is deprecated",
	     .fix = "replace it with LABEL org.opencontainers.image.authors=\"name <email>\"",
	     .aliases = maintainer_aliases,
	     .category = "style"},
    .check = check_maintainer,
};
