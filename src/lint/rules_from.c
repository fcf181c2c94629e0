/* Rules about base images: tags, digests, registries, and what a final stage is built on. */
#include "lint/internal.h"
#include "image/reference.h"

#include <string.h>
#include <strings.h>

/*
 * The image a stage is built on, when it is an image (not scratch, not a stage) whose name is
 * fully known after the global ARGs: its parsed reference, else NULL.
 */
static const bale_image_ref *stage_image(const struct lint_ctx *ctx, size_t stage)
{
	if (ctx->stage_list[stage].base.kind != BALE_REF_IMAGE)
		return NULL;
	return lint_base_ref(ctx, stage);
}

static void check_untagged(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_image_ref *ref = stage_image(ctx, s);

		if (!ref || ref->tag || ref->digest)
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
		const bale_image_ref *ref = stage_image(ctx, s);

		if (!ref || !ref->tag || ref->digest)
			continue;
		if (ref->tag_len == 6 && memcmp(ref->tag, "latest", 6) == 0)
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

/* --- DL3026 ------------------------------------------------------------------------------- */

static bool equal_ci(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/*
 * True when the configuration trusts the registry of `ref`: "*" trusts all, "*.example.com"
 * the subdomains of example.com, and any of Docker Hub's names trusts Docker Hub, which an
 * image without a registry (debian:12) comes from.
 */
static bool registry_trusted(const bale_lint_config *cfg, const bale_image_ref *ref)
{
	static const char *const hub[] = {"docker.io", "hub.docker.com", "index.docker.io",
					  "registry-1.docker.io", NULL};
	bool is_hub = bale_image_ref_is_docker_hub(ref);

	for (size_t r = 0; r < cfg->ntrusted_registries; r++) {
		const char *t = cfg->trusted_registries[r];
		size_t tlen = strlen(t);

		if (strcmp(t, "*") == 0)
			return true;
		if (is_hub) {
			for (const char *const *h = hub; *h; h++)
				if (strcasecmp(t, *h) == 0)
					return true;
			continue;
		}
		if (tlen > 2 && t[0] == '*' && t[1] == '.') {
			if (ref->domain_len > tlen - 1 &&
			    strncasecmp(ref->domain + ref->domain_len - (tlen - 1), t + 1,
					tlen - 1) == 0)
				return true;
		} else if (equal_ci(ref->domain, ref->domain_len, t)) {
			return true;
		}
	}
	return false;
}

static void check_registry(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			   const char *name, const char *how)
{
	bale_image_ref ref;

	if (!name || !bale_image_ref_parse(&ref, name) || registry_trusted(ctx->cfg, &ref))
		return;
	lint_report(ctx, rule, instr, 0, 0,
		    "%s '%s' comes from %.*s, which is not one of the trusted registries of the "
		    "configuration (trustedRegistries); use an image from a trusted registry",
		    how, name, ref.domain ? (int)ref.domain_len : 10,
		    ref.domain ? ref.domain : "Docker Hub");
}

static void check_trusted_registries(struct lint_ctx *ctx, const bale_rule *rule)
{
	if (ctx->cfg->ntrusted_registries == 0)
		return;
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (st->base.kind == BALE_REF_IMAGE)
			check_registry(ctx, rule, st->instruction, st->base.name, "the base image");
		/* COPY --from=image and RUN --mount=from=image fetch images too. */
		for (size_t r = 0; r < st->nrefs; r++) {
			const bale_stage_ref *ref = &st->refs[r];

			if (ref->kind == BALE_REF_IMAGE && !ref->onbuild)
				check_registry(ctx, rule, ref->instruction, ref->name,
					       ref->via == BALE_VIA_COPY ? "the image copied from"
									 : "the image mounted");
		}
	}
}

const struct lint_rule lint_rule_DL3026 = {
    .meta = {.id = "DL3026",
	     .name = "trusted-registry",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Use only an allowed registry in the FROM image",
	     .fix = "take the image from one of the registries listed in trustedRegistries",
	     .category = "security"},
    .check = check_trusted_registries,
    .needs_stages = true,
};
