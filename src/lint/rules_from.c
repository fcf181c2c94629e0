/* Rules about base images: tags, digests, registries, and what a final stage is built on. */
#include "lint/internal.h"
#include "image/reference.h"

#include <string.h>

/*
 * The image a stage is built on, when it is an image (not scratch, not a stage) whose name is
 * fully known after the global ARGs: the FROM instruction's index and the parsed reference.
 */
static bool stage_image(const struct lint_ctx *ctx, size_t stage, bale_image_ref *ref)
{
	const bale_stage *st = &ctx->stage_list[stage];

	if (st->base.kind != BALE_REF_IMAGE || !st->base.name)
		return false;
	return bale_image_ref_parse(ref, st->base.name);
}

static void check_untagged(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		bale_image_ref ref;

		if (!stage_image(ctx, s, &ref) || ref.tag || ref.digest)
			continue;
		lint_report(ctx, rule, ctx->stage_list[s].instruction, 0, 0,
			    "'%s' has no tag: the build gets whatever 'latest' is that day; name "
			    "the version (e.g. '%s:1.2')",
			    ctx->stage_list[s].base.name, ctx->stage_list[s].base.name);
	}
}

static void check_latest(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		bale_image_ref ref;

		if (!stage_image(ctx, s, &ref) || !ref.tag || ref.digest)
			continue;
		if (ref.tag_len == 6 && memcmp(ref.tag, "latest", 6) == 0)
			lint_report(ctx, rule, ctx->stage_list[s].instruction, 0, 0,
				    "'%s' uses the tag 'latest', which moves: pin a release tag "
				    "(and a digest)",
				    ctx->stage_list[s].base.name);
	}
}

const struct lint_rule lint_rule_DL3006 = {
    .meta = {.id = "DL3006",
	     .name = "tag-base-image",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Always tag the version of an image explicitly",
	     .fix = "write FROM image:version (and @sha256:... to pin it)",
	     .category = "reproducibility"},
    .check = check_untagged,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3007 = {
    .meta = {.id = "DL3007",
	     .name = "no-latest-tag",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Using latest is prone to errors if the image will ever update",
	     .fix = "pin the version explicitly to a release tag",
	     .category = "reproducibility"},
    .check = check_latest,
    .needs_stages = true,
};
