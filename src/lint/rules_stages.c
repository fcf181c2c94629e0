/*
 * Rules about the stages themselves: their names and the platform they are pinned to. They
 * read the FROM instructions as written, so they run even when BuildKit's typed layer refuses
 * the file.
 */
#include "lint/internal.h"

#include <string.h>
#include <strings.h>

/* The stage name of FROM `ins` (FROM image AS name), or NULL. */
static const char *stage_name(const bale_instruction *ins)
{
	if (ins->kind != BALE_INSTR_FROM || ins->nargs != 3 || strcasecmp(ins->args[1], "as") != 0)
		return NULL;
	return ins->args[2];
}

/* --- DL3024 ------------------------------------------------------------------------------- */

static void check_unique_names(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_FROM); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const char *name = stage_name(&ctx->instrs[i]);

		if (!name)
			continue;
		/* Stage names are case-insensitive: BuildKit lowers them. */
		for (size_t k = lint_first_of(ctx, BALE_INSTR_FROM); k < i;
		     k = lint_next_of(ctx, k)) {
			const char *other = stage_name(&ctx->instrs[k]);

			if (!other || strcasecmp(other, name) != 0)
				continue;
			lint_report(
			    ctx, rule, i, 0, 0,
			    "stage name '%s' is already used by the stage on line %u: COPY "
			    "--from=%s and FROM %s can reach only one of them; give each stage "
			    "its own name",
			    name, (unsigned)ctx->instrs[k].start_line, name, name);
			break;
		}
	}
}

const struct lint_rule lint_rule_DL3024 = {
    .meta = {.id = "DL3024",
	     .name = "unique-stage-names",
	     .severity = BALE_SEV_ERROR,
	     .summary = "FROM aliases (stage names) must be unique",
	     .fix = "rename one of the stages (and the COPY --from and FROM that name it)",
	     .category = "correctness"},
    .check = check_unique_names,
};

/* --- DL3029 ------------------------------------------------------------------------------- */

/*
 * True when a --platform value uses one of the platform ARGs BuildKit provides (BUILDPLATFORM,
 * TARGETPLATFORM, BUILDOS, TARGETARCH, ...): the stage then follows the build, as cross
 * compilation stages must.
 */
static bool uses_platform_arg(const char *v)
{
	static const char *const args[] = {"BUILDPLATFORM", "BUILDOS",	      "BUILDARCH",
					   "BUILDVARIANT",  "TARGETPLATFORM", "TARGETOS",
					   "TARGETARCH",    "TARGETVARIANT",  NULL};

	for (const char *p = strchr(v, '$'); p; p = strchr(p + 1, '$')) {
		const char *name = p + 1 + (p[1] == '{');

		for (const char *const *a = args; *a; a++) {
			size_t n = strlen(*a);
			char next = name[n];

			if (strncmp(name, *a, n) == 0 &&
			    !(next == '_' || (next >= 'A' && next <= 'Z') ||
			      (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9')))
				return true;
		}
	}
	return false;
}

static void check_platform(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_FROM); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];

		for (size_t f = 0; f < ins->nflags; f++) {
			const char *v = ins->flags[f];

			if (strncmp(v, "--platform=", 11) != 0 || !v[11] ||
			    uses_platform_arg(v + 11))
				continue;
			lint_report(
			    ctx, rule, i, 0, 0,
			    "FROM --platform=%s fixes this stage to one platform: a "
			    "multi-platform build (docker buildx build --platform a,b) still "
			    "builds it for that platform only, and a builder of another "
			    "platform runs it under emulation; drop the flag and give "
			    "--platform to the build, or use $BUILDPLATFORM for a "
			    "cross-compiling stage",
			    v + 11);
		}
	}
}

const struct lint_rule lint_rule_DL3029 = {
    .meta = {.id = "DL3029",
	     .name = "no-from-platform-flag",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Do not use --platform flag with FROM",
	     .fix = "remove --platform from FROM and pass it to the build; use "
		    "--platform=$BUILDPLATFORM only for cross-compiling stages",
	     .category = "reproducibility"},
    .check = check_platform,
};
