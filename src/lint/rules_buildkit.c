/*
 * BuildKit's build checks (`docker build --check`) as bale rules BK0001-BK0019, CopyIgnoredFile
 * (BK0017) aside in rules_buildkit_ignore.c. Each rule fires where BuildKit's linter fires, on
 * the same conditions and with BuildKit's message first, so that output can be compared; the
 * check name is the rule's alias, so `# check=skip=StageNameCasing` and `ignored:` lists keep
 * working.
 *
 * BuildKit runs its checks at three moments, and the rules follow that: while parsing (stage
 * name and AS casing, empty continuation lines; these need no stage model), once the stages are
 * known (instruction casing, duplicate and reserved names, the FROM arguments and platform), and
 * while dispatching each stage (the rest: they read expanded words, the ENV and SHELL in force
 * and what base stages did). `docker build --check` dispatches every stage, so these rules judge
 * every stage, not only those the target reaches. bale cannot see a base image's configuration:
 * where BuildKit would read an ENV or SHELL from the image, the rules say what they assume.
 */
#include "lint/internal.h"
#include "image/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- helpers -------------------------------------------------------------------------------- */

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Go's s == strings.ToLower(s), for the ASCII words Dockerfile keywords and names are. */
static bool all_lower(const char *s)
{
	for (; *s; s++)
		if (is_upper(*s))
			return false;
	return true;
}

static bool all_upper(const char *s)
{
	for (; *s; s++)
		if (is_lower(*s))
			return false;
	return true;
}

/* Appends `s` quoted as Go's %q writes it (BuildKit's messages quote paths and names so). */
static void add_go_quoted(bale_buf *b, const char *s)
{
	bale_buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			bale_buf_adds(b, "\\\"");
			break;
		case '\\':
			bale_buf_adds(b, "\\\\");
			break;
		case '\n':
			bale_buf_adds(b, "\\n");
			break;
		case '\t':
			bale_buf_adds(b, "\\t");
			break;
		case '\r':
			bale_buf_adds(b, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				bale_buf_addf(b, "\\x%02x", *p);
			else
				bale_buf_addch(b, *p);
		}
	}
	bale_buf_addch(b, '"');
}

/*
 * Expands `word` as it would stand in instruction `i`, recording the variables it reads in
 * `rec` (may be NULL). NULL when the word does not expand: BuildKit stops the build there with
 * its own error, which is not this check's to report (out of memory is recorded in ctx->err).
 */
static char *expand(struct lint_ctx *ctx, size_t i, const char *word, bale_expansion *rec)
{
	char *out = NULL;
	int rc = bale_stages_expand_word(&out, ctx->stages, i, word, rec);

	if (rc == BALE_ENOMEM)
		ctx->err = rc;
	return rc ? NULL : out;
}

/* True when `word` expands to itself: no variable, quote or escape to process. */
static bool is_plain(const struct lint_ctx *ctx, const char *word)
{
	int esc = bale_dockerfile_escape(ctx->df);

	for (; *word; word++)
		if (*word == '$' || *word == '"' || *word == '\'' || *word == esc)
			return false;
	return true;
}

/* True when the source text of instruction `i` (heredoc bodies included) holds a '$'. */
static bool mentions_variable(const struct lint_ctx *ctx, size_t i)
{
	size_t len;
	const char *src = bale_dockerfile_source(ctx->df, &len);
	const bale_instruction *ins = &ctx->instrs[i];

	if (ins->end_offset > len || ins->start_offset >= ins->end_offset)
		return false;
	return memchr(src + ins->start_offset, '$', ins->end_offset - ins->start_offset) != NULL;
}

/* True when a --mount value of RUN `c` holds a '$': of a RUN, BuildKit expands only those. */
static bool mount_mentions_variable(const bale_command *c)
{
	for (size_t k = 0; k < c->run.nmounts; k++)
		for (size_t f = 0; f < c->run.mounts[k].nfields; f++)
			if (c->run.mounts[k].fields[f].value &&
			    strchr(c->run.mounts[k].fields[f].value, '$'))
				return true;
	return false;
}

/*
 * True when an instruction of `kind` comes before `instr` in stage `s`, or anywhere in the
 * stages `s` is built FROM (BuildKit dispatches a base stage whole before the stages on it, and
 * a stage starts from its base's state).
 */
static bool set_before(const struct lint_ctx *ctx, size_t s, size_t instr, bale_instr_kind kind)
{
	for (int hops = 0; s != BALE_NO_STAGE && s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t i = st->instruction + 1; i < st->end && i < instr; i++)
			if (ctx->instrs[i].kind == kind)
				return true;
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
		instr = SIZE_MAX;
	}
	return false;
}

/*
 * Levenshtein distance of a and b, capped: anything over `cap` returns cap + 1. Only the cells
 * within `cap` of the diagonal are counted: any other is over the cap (it is at least its
 * distance from the diagonal), so it stands as cap + 1, which is all the result needs.
 */
static size_t distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), row[65], over = cap + 1;

	if (lb > 64 || la > 64 || (la > lb ? la - lb : lb - la) > cap)
		return over;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j < over ? j : over;
	for (size_t i = 1; i <= la; i++) {
		size_t lo = i > cap ? i - cap : 1, hi = i + cap < lb ? i + cap : lb;
		size_t diag = row[lo - 1], least;

		/* Column lo - 1: the first column, or the cell just left of the band. */
		row[lo - 1] = least = lo == 1 && i < over ? i : over;
		for (size_t j = lo; j <= hi; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (best > over)
				best = over;
			row[j] = best;
			diag = up;
			if (best < least)
				least = best;
		}
		/* The cell just right of the band, which the next row reads as `up`. */
		if (hi < lb)
			row[hi + 1] = over;
		/* The distance is at least the least of a row: over the cap, stop here. */
		if (least > cap)
			return over;
	}
	return row[lb] > cap ? over : row[lb];
}

/*
 * BuildKit's suggestion ("did you mean X?"): the first option nearer than 3 edits, the nearest
 * one winning; NULL when none is.
 */
struct suggest {
	const char *name;
	const char *best;
	size_t dist;
	char kept[64]; /* a copy of best when the option came from a transient buffer */
};

static void suggest_consider(struct suggest *sg, const char *option)
{
	size_t d;

	if (!option || !*option)
		return;
	d = distance(sg->name, option, 2);
	if (d < sg->dist) {
		sg->best = option;
		sg->dist = d;
	}
}

/* The names BuildKit defines for FROM lines without an ARG (BuildKit's defaultArgs). */
static const char *const builtin_args[] = {
    "BUILDPLATFORM", "BUILDOS",	       "BUILDOSVERSION", "BUILDARCH",
    "BUILDVARIANT",  "TARGETPLATFORM", "TARGETOS",	 "TARGETOSVERSION",
    "TARGETARCH",    "TARGETVARIANT",  "TARGETSTAGE",
};

/* ===========================================================================================
 * BK0001 stage-name-casing, BK0002 from-as-casing (BuildKit checks them while parsing FROM)
 * =========================================================================================== */

static void check_stage_name_casing(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_FROM); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];

		if (ins->nargs != 3 || all_lower(ins->args[2]))
			continue;
		lint_report(
		    ctx, rule, i, 0, 0,
		    "Stage name '%s' should be lowercase: stage names are matched without "
		    "regard to case, so COPY --from and FROM find it as the lower-case name",
		    ins->args[2]);
	}
}

static void check_from_as_casing(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_FROM); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];
		bool lower, upper;

		if (ins->nargs < 3)
			continue;
		lower = all_lower(ins->keyword);
		upper = all_upper(ins->keyword);
		/* A mixed-case FROM is ConsistentInstructionCasing's finding, not this one's. */
		if ((!lower && !upper) ||
		    (lower ? all_lower(ins->args[1]) : all_upper(ins->args[1])))
			continue;
		lint_report(ctx, rule, i, 0, 0,
			    "'%s' and '%s' keywords' casing do not match: write '%s' to match '%s'",
			    ins->args[1], ins->keyword, lower ? "as" : "AS", ins->keyword);
	}
}

static const char *const stage_name_casing_aliases[] = {"StageNameCasing", NULL};
const struct lint_rule lint_rule_BK0001 = {
    .meta = {.id = "BK0001",
	     .name = "stage-name-casing",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Stage names should be lowercase",
	     .fix = "write the stage name in lower case, here and where COPY --from or FROM name "
		    "it",
	     .aliases = stage_name_casing_aliases,
	     .category = "buildkit"},
    .check = check_stage_name_casing,
};

static const char *const from_as_casing_aliases[] = {"FromAsCasing", NULL};
const struct lint_rule lint_rule_BK0002 = {
    .meta = {.id = "BK0002",
	     .name = "from-as-casing",
	     .severity = BALE_SEV_WARNING,
	     .summary = "The 'as' keyword should match the case of the 'from' keyword",
	     .fix = "write 'FROM ... AS name' or 'from ... as name'",
	     .aliases = from_as_casing_aliases,
	     .category = "buildkit"},
    .check = check_from_as_casing,
};

/* ===========================================================================================
 * BK0003 no-empty-continuation
 * =========================================================================================== */

static void check_empty_continuation(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = 0; i < ctx->ninstrs; i++)
		if (ctx->instrs[i].empty_continuation)
			lint_report(
			    ctx, rule, i, 0, 0,
			    "Empty continuation line: an empty line inside this %s, after a "
			    "line ending in the escape character, will be an error in a "
			    "future release",
			    ctx->instrs[i].keyword);
}

static const char *const empty_continuation_aliases[] = {"NoEmptyContinuation", NULL};
const struct lint_rule lint_rule_BK0003 = {
    .meta = {.id = "BK0003",
	     .name = "no-empty-continuation",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Empty continuation lines will become errors in a future release",
	     .fix = "remove the empty line, or make it a comment line",
	     .aliases = empty_continuation_aliases,
	     .category = "buildkit"},
    .check = check_empty_continuation,
};

/* ===========================================================================================
 * BK0004 consistent-instruction-casing
 * =========================================================================================== */

static void check_instruction_casing(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t lower = 0, upper = 0, mixed = 0;
	bool majority_lower;

	/* Keywords all in one case vote; "Run" votes for neither (as in BuildKit). */
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const char *kw = ctx->instrs[i].keyword;

		if (ctx->instrs[i].kind == BALE_INSTR_UNKNOWN)
			continue;
		/* The parser hands a keyword written in upper case as the kind's own name. */
		if (kw == bale_instr_kind_name(ctx->instrs[i].kind))
			upper++;
		else if (all_lower(kw))
			lower++;
		else if (all_upper(kw))
			upper++;
		else
			mixed++;
	}
	majority_lower = lower > upper;
	/* Every keyword in the majority's case (the usual file): nothing to report. */
	if (!mixed && (majority_lower ? upper : lower) == 0)
		return;
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const char *kw = ctx->instrs[i].keyword;

		if (ctx->instrs[i].kind == BALE_INSTR_UNKNOWN ||
		    (majority_lower ? all_lower(kw) : all_upper(kw)))
			continue;
		lint_report(ctx, rule, i, 0, 0,
			    "Command '%s' should match the case of the command majority (%s): %zu "
			    "instructions here are written in %s case",
			    kw, majority_lower ? "lowercase" : "uppercase",
			    majority_lower ? lower : upper, majority_lower ? "lower" : "upper");
	}
}

static const char *const instruction_casing_aliases[] = {"ConsistentInstructionCasing", NULL};
const struct lint_rule lint_rule_BK0004 = {
    .meta = {.id = "BK0004",
	     .name = "consistent-instruction-casing",
	     .severity = BALE_SEV_WARNING,
	     .summary = "All commands within the Dockerfile should use the same casing (either "
			"upper or lower)",
	     .fix = "write every instruction keyword in the case most of the file uses (bale "
		    "lint --fix does it)",
	     .aliases = instruction_casing_aliases,
	     .category = "buildkit"},
    .check = check_instruction_casing,
};

/* ===========================================================================================
 * BK0005 duplicate-stage-name, BK0006 reserved-stage-name
 * =========================================================================================== */

static void check_duplicate_stage_name(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (!st->name)
			continue;
		for (size_t t = 0; t < s; t++) {
			const bale_stage *first = &ctx->stage_list[t];

			if (!first->name || strcmp(first->name, st->name) != 0)
				continue;
			lint_report(
			    ctx, rule, st->instruction, 0, 0,
			    "Duplicate stage name \"%s\", stage names should be unique: the "
			    "stage on line %u has it too, and COPY --from=%s can reach only "
			    "one of them",
			    st->name, ctx->instrs[first->instruction].start_line, st->name);
			break;
		}
	}
}

static void check_reserved_stage_name(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const char *name = ctx->stage_list[s].name;

		if (!name || (strcmp(name, "scratch") != 0 && strcmp(name, "context") != 0))
			continue;
		lint_report(ctx, rule, ctx->stage_list[s].instruction, 0, 0,
			    "Stage name should not use the same name as reserved stage \"%s\": %s",
			    name,
			    name[0] == 's' ? "FROM scratch and COPY --from=scratch mean the empty "
					     "image, not this stage"
					   : "'context' names the build context in --build-context "
					     "and COPY --from=context");
	}
}

static const char *const duplicate_stage_aliases[] = {"DuplicateStageName", NULL};
const struct lint_rule lint_rule_BK0005 = {
    .meta = {.id = "BK0005",
	     .name = "duplicate-stage-name",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Stage names should be unique",
	     .fix = "give each stage its own name",
	     .aliases = duplicate_stage_aliases,
	     .category = "buildkit"},
    .check = check_duplicate_stage_name,
    .needs_stages = true,
};

static const char *const reserved_stage_aliases[] = {"ReservedStageName", "DL3063", NULL};
const struct lint_rule lint_rule_BK0006 = {
    .meta = {.id = "BK0006",
	     .name = "reserved-stage-name",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Reserved words should not be used as stage names",
	     .fix = "rename the stage: 'scratch' and 'context' are reserved",
	     .aliases = reserved_stage_aliases,
	     .category = "buildkit"},
    .check = check_reserved_stage_name,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0007 json-args-recommended
 * =========================================================================================== */

static void check_json_args(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_CMD, BALE_INSTR_ENTRYPOINT);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = &ctx->cmds[i];
		size_t s;

		if (!c->cmdline.prepend_shell)
			continue;
		/* A SHELL instruction says the shell is wanted (BuildKit's documented way out). */
		s = lint_stage_of(ctx, i);
		if (s == BALE_NO_STAGE || set_before(ctx, s, i, BALE_INSTR_SHELL))
			continue;
		lint_report(
		    ctx, rule, i, 0, 0,
		    "JSON arguments recommended for %s to prevent unintended behavior "
		    "related to OS signals: in shell form /bin/sh -c runs as PID 1 and does "
		    "not pass SIGTERM on, so the container is killed after the stop timeout",
		    ctx->instrs[i].keyword);
	}
}

static const char *const json_args_aliases[] = {"JSONArgsRecommended", NULL};
const struct lint_rule lint_rule_BK0007 = {
    .meta = {.id = "BK0007",
	     .name = "json-args-recommended",
	     .severity = BALE_SEV_WARNING,
	     .summary = "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended "
			"behavior related to OS signals",
	     .fix = "write CMD [\"program\", \"arg\"] (exec form), or set SHELL when a shell is "
		    "what you want",
	     .aliases = json_args_aliases,
	     .category = "buildkit"},
    .check = check_json_args,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0008 undefined-arg-in-from, BK0013 redundant-target-platform,
 * BK0016 from-platform-flag-const-disallowed (BuildKit checks them as it reads each FROM)
 * =========================================================================================== */

static void report_undefined_in_from(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
				     const bale_expansion *rec)
{
	size_t nglobal;
	const bale_var *global = bale_stages_global_args(ctx->stages, &nglobal);

	for (size_t k = 0; k < rec->undefined.n; k++) {
		struct suggest sg = {.name = rec->undefined.v[k], .dist = 3};

		for (size_t g = 0; g < nglobal; g++)
			suggest_consider(&sg, global[g].name);
		for (size_t b = 0; b < BALE_ARRAY_SIZE(builtin_args); b++)
			suggest_consider(&sg, builtin_args[b]);
		lint_report(ctx, rule, i, 0, 0,
			    "FROM argument '%s' is not declared%s%s%s: only ARGs before the first "
			    "FROM (and BuildKit's platform ARGs) can be used in FROM, and an "
			    "undeclared one expands to an empty string",
			    rec->undefined.v[k], sg.best ? " (did you mean " : "",
			    sg.best ? sg.best : "", sg.best ? "?)" : "");
	}
}

static void check_undefined_arg_in_from(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];
		const char *words[2] = {st->base_word, st->platform};

		/* The base and the platform are expanded (and reported) one after the other. */
		for (size_t w = 0; w < 2 && !ctx->err; w++) {
			bale_expansion rec = BALE_EXPANSION_INIT;
			char *value;

			if (!words[w] || !strchr(words[w], '$'))
				continue;
			value = expand(ctx, st->instruction, words[w], &rec);
			if (value)
				report_undefined_in_from(ctx, rule, st->instruction, &rec);
			free(value);
			bale_expansion_release(&rec);
		}
	}
}

static void check_redundant_target_platform(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages && !ctx->err; s++) {
		const bale_stage *st = &ctx->stage_list[s];
		bale_expansion rec = BALE_EXPANSION_INIT;
		char *value, *target = NULL;

		if (!st->platform || !strstr(st->platform, "TARGETPLATFORM"))
			continue;
		value = expand(ctx, st->instruction, st->platform, &rec);
		/* Only $TARGETPLATFORM was read, and the result is its value. */
		if (value && rec.used.n == 1 && rec.undefined.n == 0 &&
		    strcmp(rec.used.v[0], "TARGETPLATFORM") == 0 &&
		    (target = expand(ctx, st->instruction, "$TARGETPLATFORM", NULL)) != NULL &&
		    strcmp(value, target) == 0)
			lint_report(
			    ctx, rule, st->instruction, 0, 0,
			    "Setting platform to predefined %s in FROM is redundant as this "
			    "is the default behavior: every stage is built for the target "
			    "platform unless --platform says otherwise",
			    st->platform);
		free(target);
		free(value);
		bale_expansion_release(&rec);
	}
}

/* containerd's platform specifier, as far as this check needs it: the OS and architecture. */
struct platform {
	char os[32];
	char arch[32];
};

static bool in_list(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(word, *list) == 0)
			return true;
	return false;
}

static bool lower_copy(char *out, size_t cap, const char *s, size_t len)
{
	if (len == 0 || len >= cap)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!(is_lower(c) || is_upper(c) || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return false;
		out[i] = is_upper(c) ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return true;
}

static void normalize_arch(char *arch)
{
	static const struct {
		const char *from, *to;
	} map[] = {{"i386", "386"},	 {"x86_64", "amd64"}, {"x86-64", "amd64"},
		   {"aarch64", "arm64"}, {"armhf", "arm"},    {"armel", "arm"}};

	for (size_t i = 0; i < BALE_ARRAY_SIZE(map); i++)
		if (strcmp(arch, map[i].from) == 0) {
			snprintf(arch, 32, "%s", map[i].to);
			return;
		}
}

/* Parses "os[/arch[/variant]]" or a lone architecture as containerd's platforms.Parse. */
static bool parse_platform(struct platform *p, const char *spec)
{
	static const char *const known_os[] = {
	    "aix",     "android", "darwin",  "dragonfly", "freebsd", "hurd",	"illumos",
	    "ios",     "js",	  "linux",   "nacl",	  "netbsd",  "openbsd", "plan9",
	    "solaris", "wasip1",  "windows", "zos",	  NULL};
	static const char *const known_arch[] = {
	    "386",     "amd64",	 "amd64p32", "arm",	 "armbe",   "arm64", "arm64be", "loong64",
	    "mips",    "mipsle", "mips64",   "mips64le", "ppc",	    "ppc64", "ppc64le", "riscv",
	    "riscv64", "s390",	 "s390x",    "sparc",	 "sparc64", "wasm",  NULL};
	const char *a = strchr(spec, '/'), *b = a ? strchr(a + 1, '/') : NULL;
	char variant[32];

	if (strchr(spec, '*') || (b && strchr(b + 1, '/')))
		return false;
	if (!a) {
		if (!lower_copy(p->os, sizeof(p->os), spec, strlen(spec)))
			return false;
		if (strcmp(p->os, "macos") == 0)
			snprintf(p->os, sizeof(p->os), "darwin");
		if (in_list(p->os, known_os)) {
			const char *host_variant;

			snprintf(p->arch, sizeof(p->arch), "%s", bale_host_arch(&host_variant));
			return true;
		}
		snprintf(p->arch, sizeof(p->arch), "%s", p->os);
		normalize_arch(p->arch);
		snprintf(p->os, sizeof(p->os), "linux");
		return in_list(p->arch, known_arch);
	}
	if (!lower_copy(p->os, sizeof(p->os), spec, (size_t)(a - spec)) ||
	    !lower_copy(p->arch, sizeof(p->arch), a + 1, b ? (size_t)(b - a - 1) : strlen(a + 1)) ||
	    (b && !lower_copy(variant, sizeof(variant), b + 1, strlen(b + 1))))
		return false;
	if (strcmp(p->os, "macos") == 0)
		snprintf(p->os, sizeof(p->os), "darwin");
	normalize_arch(p->arch);
	return true;
}

static void check_const_platform(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages && !ctx->err; s++) {
		const bale_stage *st = &ctx->stage_list[s];
		const char *name = st->name ? st->name : "";
		bale_expansion rec = BALE_EXPANSION_INIT;
		struct platform p;
		char *value;

		if (!st->platform)
			continue;
		value = expand(ctx, st->instruction, st->platform, &rec);
		/*
		 * A constant only (no variable read at all), that parses, and whose OS and
		 * architecture the stage name does not mention: a stage named for its platform
		 * (build-arm64) is deliberate.
		 */
		if (value && rec.used.n == 0 && parse_platform(&p, value) && !strstr(name, p.os) &&
		    !strstr(name, p.arch))
			lint_report(
			    ctx, rule, st->instruction, 0, 0,
			    "FROM --platform flag should not use constant value \"%s\": the "
			    "stage is then built for %s whatever platform the build targets; "
			    "use $BUILDPLATFORM or $TARGETPLATFORM, or name the stage for the "
			    "platform",
			    value, value);
		free(value);
		bale_expansion_release(&rec);
	}
}

static const char *const undefined_arg_in_from_aliases[] = {"UndefinedArgInFrom", NULL};
const struct lint_rule lint_rule_BK0008 = {
    .meta = {.id = "BK0008",
	     .name = "undefined-arg-in-from",
	     .severity = BALE_SEV_WARNING,
	     .summary = "FROM command must use declared ARGs",
	     .fix = "declare the ARG before the first FROM (with a default), or correct its name",
	     .aliases = undefined_arg_in_from_aliases,
	     .category = "buildkit"},
    .check = check_undefined_arg_in_from,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0009 workdir-relative-path
 * =========================================================================================== */

static bool stage_is_windows(const struct lint_ctx *ctx, size_t s)
{
	const char *p = ctx->stage_list[s].platform_value;

	return p && strncasecmp(p, "windows", 7) == 0 && (p[7] == '\0' || p[7] == '/');
}

static bool is_absolute(const char *path, bool windows)
{
	if (path[0] == '/')
		return true;
	if (!windows)
		return false;
	return path[0] == '\\' ||
	       (((path[0] | 0x20) >= 'a' && (path[0] | 0x20) <= 'z') && path[1] == ':');
}

static void check_workdir_relative(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages && !ctx->err; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		/* Only the first WORKDIR of a stage and of the stages it is built FROM counts. */
		if (st->base.kind == BALE_REF_STAGE &&
		    set_before(ctx, st->base.stage, SIZE_MAX, BALE_INSTR_WORKDIR))
			continue;
		for (size_t i = st->instruction + 1; i < st->end; i++) {
			const char *word = ctx->cmds[i].value;
			char *value;

			if (ctx->instrs[i].kind != BALE_INSTR_WORKDIR || !word)
				continue;
			if (!is_plain(ctx, word))
				value = expand(ctx, i, word, NULL);
			else if (!(value = strdup(word)))
				ctx->err = bale_error_oom();
			if (value && !is_absolute(value, stage_is_windows(ctx, s))) {
				bale_buf q = BALE_BUF_INIT;

				add_go_quoted(&q, value);
				lint_report(
				    ctx, rule, i, 0, 0,
				    "Relative workdir %s can have unexpected results if the "
				    "base image changes: it is taken from the base image's "
				    "working directory, which this Dockerfile does not set",
				    q.err ? value : q.ptr);
				bale_buf_release(&q);
			}
			free(value);
			break;
		}
	}
}

static const char *const workdir_relative_aliases[] = {"WorkdirRelativePath", NULL};
const struct lint_rule lint_rule_BK0009 = {
    .meta = {.id = "BK0009",
	     .name = "workdir-relative-path",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Relative workdir without an absolute workdir declared within the build "
			"can have unexpected results if the base image changes",
	     .fix = "make the stage's first WORKDIR an absolute path",
	     .aliases = workdir_relative_aliases,
	     .category = "buildkit"},
    .check = check_workdir_relative,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0010 undefined-var
 * =========================================================================================== */

/*
 * ENV the official images set, which BuildKit sees in the image's configuration and bale does
 * not: a variable listed for the stage's base image is not reported. Names are separated by
 * spaces; images by their Docker Hub name (library/...), and dotnet for mcr.microsoft.com/dotnet.
 */
static const struct {
	const char *image;
	const char *vars;
} image_env[] = {
    {"golang", "GOLANG_VERSION GOPATH GOTOOLCHAIN"},
    {"node", "NODE_VERSION YARN_VERSION"},
    {"python", "PYTHON_VERSION PYTHON_SHA256 GPG_KEY LANG PYTHON_PIP_VERSION "
	       "PYTHON_SETUPTOOLS_VERSION PYTHON_GET_PIP_URL PYTHON_GET_PIP_SHA256"},
    {"pypy", "PYPY_VERSION LANG PYTHON_PIP_VERSION PYTHON_GET_PIP_URL"},
    {"ruby", "RUBY_VERSION RUBY_DOWNLOAD_SHA256 RUBY_DOWNLOAD_URL GEM_HOME BUNDLE_APP_CONFIG "
	     "BUNDLE_SILENCE_ROOT_WARNING LANG"},
    {"rust", "RUSTUP_HOME CARGO_HOME RUST_VERSION"},
    {"openjdk", "JAVA_HOME JAVA_VERSION LANG"},
    {"eclipse-temurin", "JAVA_HOME JAVA_VERSION LANG LANGUAGE LC_ALL"},
    {"amazoncorretto", "JAVA_HOME LANG"},
    {"ibm-semeru-runtimes", "JAVA_HOME JAVA_VERSION LANG LANGUAGE LC_ALL"},
    {"sapmachine", "JAVA_HOME"},
    {"maven", "MAVEN_HOME MAVEN_CONFIG JAVA_HOME JAVA_VERSION LANG LANGUAGE LC_ALL"},
    {"gradle", "GRADLE_HOME GRADLE_VERSION JAVA_HOME JAVA_VERSION LANG LANGUAGE LC_ALL"},
    {"tomcat", "CATALINA_HOME TOMCAT_MAJOR TOMCAT_VERSION TOMCAT_SHA512 TOMCAT_NATIVE_LIBDIR "
	       "LD_LIBRARY_PATH JAVA_HOME JAVA_VERSION LANG"},
    {"php", "PHPIZE_DEPS PHP_INI_DIR PHP_CFLAGS PHP_CPPFLAGS PHP_LDFLAGS GPG_KEYS PHP_VERSION "
	    "PHP_URL PHP_ASC_URL PHP_SHA256 APACHE_CONFDIR APACHE_ENVVARS"},
    {"composer", "COMPOSER_ALLOW_SUPERUSER COMPOSER_HOME COMPOSER_VERSION"},
    {"elixir", "ELIXIR_VERSION LANG OTP_VERSION REBAR3_VERSION"},
    {"erlang", "OTP_VERSION REBAR3_VERSION LANG"},
    {"nginx", "NGINX_VERSION NJS_VERSION NJS_RELEASE PKG_RELEASE DYNPKG_RELEASE"},
    {"httpd", "HTTPD_PREFIX HTTPD_VERSION HTTPD_SHA256 HTTPD_PATCHES"},
    {"postgres", "PG_MAJOR PG_VERSION PGDATA GOSU_VERSION LANG"},
    {"mysql", "MYSQL_MAJOR MYSQL_VERSION MYSQL_SHELL_VERSION GOSU_VERSION"},
    {"mariadb", "MARIADB_VERSION MARIADB_MAJOR GOSU_VERSION LANG"},
    {"redis", "REDIS_VERSION REDIS_DOWNLOAD_URL REDIS_DOWNLOAD_SHA"},
    {"docker", "DOCKER_VERSION DOCKER_TLS_CERTDIR DOCKER_BUILDX_VERSION DOCKER_COMPOSE_VERSION"},
    {"dotnet", "APP_UID ASPNETCORE_HTTP_PORTS DOTNET_RUNNING_IN_CONTAINER DOTNET_VERSION "
	       "ASPNET_VERSION DOTNET_SDK_VERSION DOTNET_GENERATE_ASPNET_CERTIFICATE "
	       "DOTNET_NOLOGO DOTNET_USE_POLLING_FILE_WATCHER NUGET_XMLDOC_MODE "
	       "POWERSHELL_DISTRIBUTION_CHANNEL"},
};

/*
 * The stage whose base image a stage's FROM chain ends in, or BALE_NO_STAGE: scratch, unknown.
 */
static size_t chain_image(const struct lint_ctx *ctx, size_t s)
{
	for (int hops = 0; s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (st->base.kind == BALE_REF_STAGE) {
			s = st->base.stage;
			continue;
		}
		return st->base.kind == BALE_REF_IMAGE && st->base.name ? s : BALE_NO_STAGE;
	}
	return BALE_NO_STAGE;
}

/* The ENV names bale knows the base image of stage `s` sets, space-separated, or NULL. */
static const char *known_image_env(const struct lint_ctx *ctx, size_t s)
{
	const bale_image_ref *ref = lint_base_ref(ctx, s);
	const char *repo;
	size_t len;

	if (!ref)
		return NULL;
	if (ref->domain && ref->domain_len == 17 &&
	    memcmp(ref->domain, "mcr.microsoft.com", 17) == 0)
		return ref->path_len > 7 && memcmp(ref->path, "dotnet/", 7) == 0
			   ? image_env[BALE_ARRAY_SIZE(image_env) - 1].vars
			   : NULL;
	if (!bale_image_ref_is_docker_hub(ref))
		return NULL;
	repo = ref->path;
	len = ref->path_len;
	if (len > 8 && memcmp(repo, "library/", 8) == 0) {
		repo += 8;
		len -= 8;
	}
	for (size_t i = 0; i < BALE_ARRAY_SIZE(image_env); i++)
		if (strlen(image_env[i].image) == len && memcmp(image_env[i].image, repo, len) == 0)
			return image_env[i].vars;
	return NULL;
}

static bool in_word_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && memcmp(p, name, n) == 0)
			return true;
		p += len + (end != NULL);
	}
	return false;
}

/* Offers as suggestions the variables in scope at `instr` in stage `s` (BuildKit's env keys). */
static void suggest_in_scope(const struct lint_ctx *ctx, struct suggest *sg, size_t s, size_t instr,
			     const char *image_vars)
{
	char word[64];

	suggest_consider(sg, "PATH");
	for (const char *p = image_vars; p && *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len < sizeof(word)) {
			memcpy(word, p, len);
			word[len] = '\0';
			suggest_consider(sg, word);
			/* word is reused for the next name: keep the winner's own copy */
			if (sg->best == word) {
				memcpy(sg->kept, word, len + 1);
				sg->best = sg->kept;
			}
		}
		p += len + (end != NULL);
	}
	for (int hops = 0; s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t k = 0; k < st->nvars; k++)
			if (st->vars[k].instruction < instr && st->vars[k].value)
				suggest_consider(sg, st->vars[k].name);
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
		instr = SIZE_MAX;
	}
}

static void check_undefined_var(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t image_stage = BALE_NO_STAGE;
	const char *stage_image = NULL, *stage_image_vars = NULL;
	/* The names of every instruction, appended one after the other: one list for the file. */
	bale_words undefined = BALE_WORDS_INIT;

	for (size_t i = 0; i < ctx->ninstrs && !ctx->err; i++) {
		size_t s = lint_stage_of(ctx, i), first = undefined.n;
		bale_instr_kind kind = ctx->instrs[i].kind;
		const char *image = NULL, *image_vars = NULL;
		int rc;

		/*
		 * BuildKit reports what it expands while dispatching a stage: not the FROM (that
		 * is UndefinedArgInFrom), not the global ARGs, not EXPOSE (expanded apart, without
		 * the check), not the commands the shell expands itself.
		 */
		if (s == BALE_NO_STAGE || kind == BALE_INSTR_FROM || kind == BALE_INSTR_EXPOSE ||
		    kind == BALE_INSTR_ONBUILD || kind == BALE_INSTR_CMD ||
		    kind == BALE_INSTR_ENTRYPOINT || kind == BALE_INSTR_HEALTHCHECK ||
		    kind == BALE_INSTR_SHELL || kind == BALE_INSTR_MAINTAINER ||
		    (kind == BALE_INSTR_RUN ? !mount_mentions_variable(&ctx->cmds[i])
					    : !mentions_variable(ctx, i)))
			continue;
		rc = bale_stages_undefined_vars(&undefined, ctx->stages, i);
		if (rc == BALE_ENOMEM)
			ctx->err = rc;
		if (!rc && undefined.n > first && ctx->stage_list[s].base_env_unknown) {
			/* The same for every instruction of the stage: looked up once. */
			if (s != image_stage) {
				size_t from = chain_image(ctx, s);

				image_stage = s;
				stage_image =
				    from == BALE_NO_STAGE ? NULL : ctx->stage_list[from].base.name;
				stage_image_vars =
				    from == BALE_NO_STAGE ? NULL : known_image_env(ctx, from);
			}
			image = stage_image;
			image_vars = stage_image_vars;
		}
		for (size_t k = first; !rc && k < undefined.n; k++) {
			const char *name = undefined.v[k];
			struct suggest sg = {.name = name, .dist = 3};

			if (in_word_list(image_vars, name))
				continue;
			suggest_in_scope(ctx, &sg, s, i, image_vars);
			lint_report(ctx, rule, i, 0, 0,
				    "Usage of undefined variable '$%s'%s%s%s: no ARG or ENV before "
				    "this %s defines it%s%s%s, so it expands to an empty string",
				    name, sg.best ? " (did you mean $" : "", sg.best ? sg.best : "",
				    sg.best ? "?)" : "", ctx->instrs[i].keyword,
				    image ? " (unless the base image " : "", image ? image : "",
				    image ? " sets it)" : "");
		}
	}
	bale_words_release(&undefined);
}

static const char *const undefined_var_aliases[] = {"UndefinedVar", NULL};
const struct lint_rule lint_rule_BK0010 = {
    .meta = {.id = "BK0010",
	     .name = "undefined-var",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Variables should be defined before their use",
	     .fix = "declare it with ARG (or ENV) earlier in the stage, or correct its name",
	     .aliases = undefined_var_aliases,
	     .category = "buildkit"},
    .check = check_undefined_var,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0011 multiple-instructions-disallowed
 * =========================================================================================== */

static void check_multiple_instructions(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];
		/* The last CMD, ENTRYPOINT and HEALTHCHECK seen in the stage. */
		size_t last[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};

		for (size_t i = st->instruction + 1; i < st->end; i++) {
			bale_instr_kind kind = ctx->instrs[i].kind;
			int slot = kind == BALE_INSTR_CMD	    ? 0
				   : kind == BALE_INSTR_ENTRYPOINT  ? 1
				   : kind == BALE_INSTR_HEALTHCHECK ? 2
								    : -1;

			if (slot < 0)
				continue;
			/* The earlier one is the one that has no effect: report it. */
			if (last[slot] != SIZE_MAX)
				lint_report(
				    ctx, rule, last[slot], 0, 0,
				    "Multiple %s instructions should not be used in the same "
				    "stage because only the last one will be used: line %u "
				    "replaces this one",
				    ctx->instrs[last[slot]].keyword, ctx->instrs[i].start_line);
			last[slot] = i;
		}
	}
}

static const char *const multiple_instructions_aliases[] = {"MultipleInstructionsDisallowed", NULL};
const struct lint_rule lint_rule_BK0011 = {
    .meta = {.id = "BK0011",
	     .name = "multiple-instructions-disallowed",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Multiple instructions of the same type should not be used in the same "
			"stage",
	     .fix = "keep only the last CMD, ENTRYPOINT or HEALTHCHECK of the stage",
	     .aliases = multiple_instructions_aliases,
	     .category = "buildkit"},
    .check = check_multiple_instructions,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0012 legacy-key-value-format
 * =========================================================================================== */

static void check_legacy_key_value(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_ENV, BALE_INSTR_LABEL); i < ctx->ninstrs;
	     i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = &ctx->cmds[i];
		const char *kw = ctx->instrs[i].keyword;

		if (lint_stage_of(ctx, i) == BALE_NO_STAGE)
			continue;
		for (size_t p = 0; p < c->pairs.n; p++)
			if (c->pairs.v[p].legacy)
				lint_report(
				    ctx, rule, i, 0, 0,
				    "\"%s key=value\" should be used instead of legacy \"%s "
				    "key value\" format: in the legacy form everything after "
				    "'%s' is the value, so a second pair cannot be added and "
				    "the form may be removed",
				    kw, kw, c->pairs.v[p].key);
	}
}

static const char *const legacy_key_value_aliases[] = {"LegacyKeyValueFormat", NULL};
const struct lint_rule lint_rule_BK0012 = {
    .meta = {.id = "BK0012",
	     .name = "legacy-key-value-format",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Legacy key/value format with whitespace separator should not be used",
	     .fix = "write ENV key=value (quote the value when it holds spaces); bale lint --fix "
		    "does it",
	     .aliases = legacy_key_value_aliases,
	     .category = "buildkit"},
    .check = check_legacy_key_value,
    .needs_stages = true,
};

static const char *const redundant_target_platform_aliases[] = {"RedundantTargetPlatform", "DL3065",
								NULL};
const struct lint_rule lint_rule_BK0013 = {
    .meta = {.id = "BK0013",
	     .name = "redundant-target-platform",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as "
			"this is the default behavior",
	     .fix = "remove --platform=$TARGETPLATFORM from the FROM",
	     .aliases = redundant_target_platform_aliases,
	     .category = "buildkit"},
    .check = check_redundant_target_platform,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0014 secrets-used-in-arg-or-env
 * =========================================================================================== */

/* True when one '_'-separated part of `key` is one of the `n` tokens, ignoring case. */
static bool has_part(const char *key, const struct lstr *tokens, size_t n)
{
	for (const char *p = key;;) {
		const char *end = strchr(p, '_');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		/* The length and the first letter (tokens are lower case) before a call. */
		for (size_t t = 0; t < n; t++)
			if (tokens[t].len == len && (p[0] | 0x20) == tokens[t].s[0] &&
			    strncasecmp(p, tokens[t].s, len) == 0)
				return true;
		if (!end)
			return false;
		p = end + 1;
	}
}

static bool secret_name(const char *key)
{
	static const struct lstr deny[] = {LSTR("apikey"),	LSTR("auth"),	LSTR("credential"),
					   LSTR("credentials"), LSTR("key"),	LSTR("password"),
					   LSTR("pword"),	LSTR("passwd"), LSTR("secret"),
					   LSTR("token")};
	static const struct lstr allow[] = {LSTR("public"), LSTR("file"), LSTR("version")};

	return has_part(key, deny, BALE_ARRAY_SIZE(deny)) &&
	       !has_part(key, allow, BALE_ARRAY_SIZE(allow));
}

static void check_secret_names(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_ENV, BALE_INSTR_ARG);
	     i < ctx->ninstrs && !ctx->err; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = &ctx->cmds[i];
		const char *what = c->kind == BALE_INSTR_ENV ? "ENV" : "ARG";

		/* BuildKit checks ARG and ENV as it dispatches them: not the global ARGs. */
		if (lint_stage_of(ctx, i) == BALE_NO_STAGE)
			continue;
		for (size_t p = 0; p < c->pairs.n; p++) {
			const char *key = c->pairs.v[p].key;
			char *expanded = NULL;

			/* ENV keys are expanded before BuildKit looks at them. */
			if (c->kind == BALE_INSTR_ENV && strchr(key, '$') &&
			    (expanded = expand(ctx, i, key, NULL)) != NULL)
				key = expanded;
			if (secret_name(key))
				lint_report(
				    ctx, rule, i, 0, 0,
				    "Do not use ARG or ENV instructions for sensitive data "
				    "(%s \"%s\"): %s values are stored in the image%s, where "
				    "anyone who can pull it reads them",
				    what, key, what,
				    c->kind == BALE_INSTR_ARG ? "'s history" : " config");
			free(expanded);
		}
	}
}

static const char *const secrets_aliases[] = {"SecretsUsedInArgOrEnv", NULL};
const struct lint_rule lint_rule_BK0014 = {
    .meta = {.id = "BK0014",
	     .name = "secrets-used-in-arg-or-env",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Sensitive data should not be used in the ARG or ENV commands",
	     .fix = "pass the secret with RUN --mount=type=secret,id=NAME (docker build --secret) "
		    "instead",
	     .aliases = secrets_aliases,
	     .category = "buildkit"},
    .check = check_secret_names,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0015 invalid-default-arg-in-from
 * =========================================================================================== */

/* The global ARGs evaluated with their defaults only, as if no --build-arg were given. */
struct default_args {
	const char **names;
	char **values;
	size_t n;
	/* BuildKit's platform ARGs, which keep their values (a --build-arg may set those). */
	char *builtin[BALE_ARRAY_SIZE(builtin_args)];
};

static bool default_lookup(void *arg, const char *name, size_t len, const char **value,
			   size_t *vlen)
{
	struct default_args *d = arg;

	for (size_t k = d->n; k-- > 0;)
		if (d->values[k] && strlen(d->names[k]) == len &&
		    memcmp(d->names[k], name, len) == 0) {
			*value = d->values[k];
			*vlen = strlen(d->values[k]);
			return true;
		}
	for (size_t b = 0; b < BALE_ARRAY_SIZE(builtin_args); b++)
		if (d->builtin[b] && strlen(builtin_args[b]) == len &&
		    memcmp(builtin_args[b], name, len) == 0) {
			*value = d->builtin[b];
			*vlen = strlen(d->builtin[b]);
			return true;
		}
	return false;
}

/* Evaluates the global ARG defaults into `d`; false when one does not expand. */
static bool eval_defaults(struct lint_ctx *ctx, struct default_args *d, const bale_shell_opts *opts)
{
	size_t nglobal, from = ctx->stage_list[0].instruction;
	const bale_var *global = bale_stages_global_args(ctx->stages, &nglobal);

	for (size_t b = 0; b < BALE_ARRAY_SIZE(builtin_args); b++) {
		char word[32];

		snprintf(word, sizeof(word), "${%s}", builtin_args[b]);
		d->builtin[b] = expand(ctx, from, word, NULL);
	}
	d->names = calloc(nglobal + 1, sizeof(*d->names));
	d->values = calloc(nglobal + 1, sizeof(*d->values));
	if (!d->names || !d->values) {
		ctx->err = bale_error_oom();
		return false;
	}
	for (size_t g = 0; g < nglobal; g++) {
		d->names[d->n] = global[g].name;
		/* An ARG without default leaves the name as it was (a platform ARG's value). */
		if (global[g].word && bale_shell_expand_word(&d->values[d->n], global[g].word,
							     strlen(global[g].word), opts) != 0) {
			if (bale_error_last()->code == BALE_ENOMEM)
				ctx->err = BALE_ENOMEM;
			return false; /* BuildKit gives the check up when a default fails */
		}
		d->n++;
	}
	return true;
}

static void check_invalid_default_arg(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct default_args d = {0};
	bale_shell_opts opts = {
	    .escape = bale_dockerfile_escape(ctx->df), .lookup = default_lookup, .lookup_ctx = &d};
	bool any = false;

	for (size_t s = 0; s < ctx->nstages; s++)
		any |= strchr(ctx->stage_list[s].base_word, '$') != NULL;
	if (!any || !eval_defaults(ctx, &d, &opts))
		goto out;
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];
		bale_image_ref ref;
		char *name = NULL;

		/* A FROM without variables names an image the build checks itself. */
		if (!strchr(st->base_word, '$'))
			continue;
		if (bale_shell_expand_word(&name, st->base_word, strlen(st->base_word), &opts) !=
		    0) {
			if (bale_error_last()->code == BALE_ENOMEM)
				ctx->err = BALE_ENOMEM;
			break;
		}
		if (!bale_image_ref_parse(&ref, name))
			lint_report(ctx, rule, st->instruction, 0, 0,
				    "Default value for ARG %s results in empty or invalid base "
				    "image name%s%s%s: the build fails unless --build-arg sets it",
				    st->base_word, *name ? " '" : "", name, *name ? "'" : "");
		free(name);
	}
out:
	for (size_t k = 0; d.values && k < d.n; k++)
		free(d.values[k]);
	free(d.names);
	free(d.values);
	for (size_t b = 0; b < BALE_ARRAY_SIZE(builtin_args); b++)
		free(d.builtin[b]);
}

static const char *const invalid_default_arg_aliases[] = {"InvalidDefaultArgInFrom", NULL};
const struct lint_rule lint_rule_BK0015 = {
    .meta = {.id = "BK0015",
	     .name = "invalid-default-arg-in-from",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Default value for global ARG results in an empty or invalid base image "
			"name",
	     .fix = "give the global ARG a default that makes a valid image name",
	     .aliases = invalid_default_arg_aliases,
	     .category = "buildkit"},
    .check = check_invalid_default_arg,
    .needs_stages = true,
};

static const char *const const_platform_aliases[] = {"FromPlatformFlagConstDisallowed", NULL};
const struct lint_rule lint_rule_BK0016 = {
    .meta = {.id = "BK0016",
	     .name = "from-platform-flag-const-disallowed",
	     .severity = BALE_SEV_WARNING,
	     .summary = "FROM --platform flag should not use a constant value",
	     .fix = "use --platform=$BUILDPLATFORM (or $TARGETPLATFORM), or drop --platform",
	     .aliases = const_platform_aliases,
	     .category = "buildkit"},
    .check = check_const_platform,
    .needs_stages = true,
};

/* ===========================================================================================
 * BK0018 expose-proto-casing, BK0019 expose-invalid-format
 * =========================================================================================== */

/*
 * Calls `report` for each port of EXPOSE instructions (expanded as BuildKit expands them) that
 * BuildKit's port parser accepts as far as the lint runs: [ip:][host:]port[/proto] with a
 * known protocol. `proto` is the protocol as written ("" when none); ip_or_host is true when a
 * host part is present.
 */
/*
 * Calls `report` for each port of the EXPOSE instructions, expanded as BuildKit expands them,
 * that BuildKit's port parser gets through to its checks: [[ip:]host:]port[/proto] with a
 * known protocol. `proto` is the protocol as written ("" when none); `mapped` is true when an
 * IP address or host port is given.
 */
static void each_port(struct lint_ctx *ctx, const bale_rule *rule,
		      void (*report)(struct lint_ctx *, const bale_rule *, size_t, const char *,
				     const char *, bool))
{
	int escape = bale_dockerfile_escape(ctx->df);

	for (size_t i = lint_first_of(ctx, BALE_INSTR_EXPOSE); i < ctx->ninstrs && !ctx->err;
	     i = lint_next_of(ctx, i)) {
		const bale_command *c = &ctx->cmds[i];

		if (lint_stage_of(ctx, i) == BALE_NO_STAGE)
			continue;
		for (size_t k = 0; k < c->list.n && !ctx->err; k++) {
			const char *word = c->list.v[k];
			bale_words ports = BALE_WORDS_INIT;
			bool plain = !strpbrk(word, "$\"' \t\n\r") && !strchr(word, escape);
			int rc = 0;

			/* A word without variable, quote, escape or blank expands to itself. */
			if (!plain && (rc = bale_stages_expand_fields(&ports, ctx->stages, i, word,
								      NULL)) == BALE_ENOMEM)
				ctx->err = rc;
			for (size_t p = 0; !rc && p < (plain ? 1 : ports.n); p++) {
				const char *port = plain ? word : ports.v[p], *host;
				const char *last = strrchr(port, ':');
				const char *container = last ? last + 1 : port;
				const char *slash = strchr(container, '/');
				const char *proto = slash ? slash + 1 : "";

				if (slash == container || !*container)
					continue; /* "no port specified": the build fails */
				if (*proto && strcasecmp(proto, "tcp") != 0 &&
				    strcasecmp(proto, "udp") != 0 && strcasecmp(proto, "sctp") != 0)
					continue; /* "invalid proto": the build fails */
				/* The host port is the part before the last ':', the IP all before.
				 */
				host = last;
				while (host && host > port && host[-1] != ':')
					host--;
				report(ctx, rule, i, port, proto,
				       last && (host < last || (host > port && host - 1 > port)));
			}
			bale_words_release(&ports);
		}
	}
}

static void report_proto_casing(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
				const char *port, const char *proto, bool mapped)
{
	bale_buf lower = BALE_BUF_INIT;

	(void)mapped;
	if (all_lower(proto))
		return;
	bale_buf_add(&lower, port, (size_t)(proto - port));
	for (const char *c = proto; *c; c++)
		bale_buf_addch(&lower, is_upper(*c) ? *c - 'A' + 'a' : *c);
	lint_report(ctx, rule, i, 0, 0,
		    "Defined protocol '%s' in EXPOSE instruction should be lowercase: write '%s'",
		    port, lower.err ? port : lower.ptr);
	bale_buf_release(&lower);
}

static void check_expose_proto_casing(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_port(ctx, rule, report_proto_casing);
}

static void report_invalid_format(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
				  const char *port, const char *proto, bool mapped)
{
	(void)proto;
	if (!mapped)
		return;
	lint_report(ctx, rule, i, 0, 0,
		    "EXPOSE instruction should not define an IP address or host-port mapping, "
		    "found '%s': EXPOSE only documents the container port; the mapping is made "
		    "with docker run -p",
		    port);
}

static void check_expose_invalid_format(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_port(ctx, rule, report_invalid_format);
}

static const char *const expose_proto_aliases[] = {"ExposeProtoCasing", NULL};
const struct lint_rule lint_rule_BK0018 = {
    .meta = {.id = "BK0018",
	     .name = "expose-proto-casing",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Protocol in EXPOSE instruction should be lowercase",
	     .fix = "write the protocol in lower case: 80/tcp, 53/udp",
	     .aliases = expose_proto_aliases,
	     .category = "buildkit"},
    .check = check_expose_proto_casing,
    .needs_stages = true,
};

static const char *const expose_format_aliases[] = {"ExposeInvalidFormat", NULL};
const struct lint_rule lint_rule_BK0019 = {
    .meta = {.id = "BK0019",
	     .name = "expose-invalid-format",
	     .severity = BALE_SEV_WARNING,
	     .summary = "IP address and host-port mapping should not be used in EXPOSE "
			"instruction",
	     .fix = "write only the container port (EXPOSE 80); map it with docker run -p",
	     .aliases = expose_format_aliases,
	     .category = "buildkit"},
    .check = check_expose_invalid_format,
    .needs_stages = true,
};
