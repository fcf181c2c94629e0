/*
 * Rules about COPY and ADD: which one to use, their destinations, and the stages COPY --from
 * names. They read the instructions as the parser gives them (flags as written, sources and
 * destination as the arguments), so they run even when BuildKit's typed layer refuses the
 * file (a COPY --from its own stage is such a file).
 */
#include "lint/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- helpers ------------------------------------------------------------------------------ */

/* The instruction itself, or the one an ONBUILD wraps. */
static const bale_instruction *unwrap(const bale_instruction *ins)
{
	return ins->kind == BALE_INSTR_ONBUILD && ins->sub ? ins->sub : ins;
}

/* The value of flag --`name` as written (the last one given), or NULL. */
static const char *flag_value(const bale_instruction *ins, const char *name)
{
	const char *found = NULL;
	size_t n = strlen(name);

	for (size_t f = 0; f < ins->nflags; f++) {
		const char *s = ins->flags[f];

		if (strncmp(s, "--", 2) == 0 && strncmp(s + 2, name, n) == 0 && s[2 + n] == '=')
			found = s + 3 + n;
	}
	return found;
}

/* The part of `path` after its last / or \ (quotes around it dropped); *len its length. */
static const char *base_name(const char *path, size_t len, size_t *out_len)
{
	const char *b = path;

	if (len >= 2 && (path[0] == '"' || path[0] == '\'') && path[len - 1] == path[0]) {
		path++;
		len -= 2;
		b = path;
	}
	for (size_t k = 0; k < len; k++)
		if (path[k] == '/' || path[k] == '\\')
			b = path + k + 1;
	*out_len = len - (size_t)(b - path);
	return b;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Names of archives ADD unpacks or hadolint counts as such (its list, plus zstd). */
static bool archive_like(const char *s, size_t n)
{
	static const char *const ext[] = {".tar", ".Z",	  ".bz2", ".gz",   ".lz",   ".lzma",
					  ".tZ",  ".tb2", ".tbz", ".tbz2", ".tgz",  ".tlz",
					  ".tpz", ".txz", ".xz",  ".zst",  ".tzst", NULL};

	for (const char *const *e = ext; *e; e++)
		if (ends_with(s, n, *e))
			return true;
	return false;
}

/* Tar archives, compressed or not: what ADD unpacks into a directory. */
static bool tar_like(const char *s, size_t n)
{
	static const char *const ext[] = {".tar",     ".tar.gz", ".tar.bz2", ".tar.xz",
					  ".tar.zst", ".tgz",	 ".tbz",     ".tbz2",
					  ".tb2",     ".txz",	 ".tzst",    NULL};

	for (const char *const *e = ext; *e; e++)
		if (ends_with(s, n, *e))
			return true;
	return false;
}

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * The value of `w` when it is one variable ($NAME, ${NAME}) known at `instr`, `w` itself when
 * it holds no '$', NULL when it depends on something unknown.
 */
static const char *word_value(const struct lint_ctx *ctx, size_t instr, const char *w)
{
	size_t len = strlen(w), start, end;
	bool brace;

	if (!strchr(w, '$'))
		return w;
	if (len < 2 || w[0] != '$')
		return NULL;
	brace = w[1] == '{';
	start = end = brace ? 2 : 1;
	while (end < len && name_char(w[end], end == start))
		end++;
	if (end == start || end + brace != len || (brace && w[end] != '}'))
		return NULL;
	return lint_var(ctx, instr, w + start, end - start);
}

/* --- DL3010 ------------------------------------------------------------------------------- */

/*
 * The archive a RUN command extracts (the -f value or the operand of `tar -x`), or NULL;
 * *dynamic says the name depends on something unknown. A tar that picks members or rewrites
 * paths (--strip-components, --exclude, ...) does what ADD cannot, and is not counted.
 */
static const char *extracted_archive(const bale_cmd *cmd, bool *dynamic)
{
	/* Every command is asked: lint_cmd_is() calls, not a variadic one. */
	if (!(lint_cmd_is(cmd, "tar") || lint_cmd_is(cmd, "bsdtar")) ||
	    !lint_has_flag(cmd, "-x", "--extract", "--get") ||
	    lint_has_flag(cmd, "--strip-components", "--exclude", "--wildcards", "--transform",
			  "--xform", "-X", "--exclude-from", "-T", "--files-from"))
		return NULL;
	for (size_t o = 0; o < cmd->nopts; o++) {
		const bale_cmd_opt *opt = &cmd->opts[o];
		size_t w = opt->word;

		if ((strcmp(opt->name, "-f") != 0 && strcmp(opt->name, "--file") != 0) ||
		    !opt->value || w >= cmd->nwords)
			continue;
		/* The value is the next word (-f FILE, xzf FILE) or part of the option's word. */
		if (w + 1 < cmd->nwords && cmd->words[w + 1].value == opt->value)
			w++;
		*dynamic = (cmd->words[w].flags & BALE_WORD_DYNAMIC) != 0;
		return opt->value;
	}
	/* Without -f, tar reads standard input; an operand is then a member to extract. */
	return NULL;
}

/* The COPY in [from, to) that brings in an archive named `name` (its basename), or SIZE_MAX. */
static size_t copy_of(const struct lint_ctx *ctx, size_t from, size_t to, const char *name,
		      size_t len)
{
	for (size_t j = to; j-- > from;) {
		const bale_instruction *ins = &ctx->instrs[j];

		if (ins->kind != BALE_INSTR_COPY || ins->nargs < 2 || flag_value(ins, "from"))
			continue;
		/* A source, or the destination when it names the file (COPY x /tmp/x.tgz). */
		for (size_t a = 0; a < ins->nargs; a++) {
			size_t blen;
			const char *b = base_name(ins->args[a], strlen(ins->args[a]), &blen);

			if (blen == len && memcmp(b, name, len) == 0)
				return j;
		}
	}
	return SIZE_MAX;
}

static void check_extracted_copies(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const char *const tar[] = {"tar", "bsdtar", NULL};
	size_t stage_start = 0, seen = 0, i;
	struct lint_walk w;
	const bale_cmd *cmd;

	/* The tar commands in file order, each with the FROM of its stage. */
	lint_walk_init(ctx, &w, tar);
	while ((cmd = lint_walk_next(ctx, &w, &i))) {
		bool dynamic = false;
		const char *archive, *b;
		size_t blen, j;

		for (; seen <= i; seen++)
			if (ctx->instrs[seen].kind == BALE_INSTR_FROM)
				stage_start = seen;
		if (ctx->instrs[i].kind != BALE_INSTR_RUN) /* not an ONBUILD's */
			continue;
		archive = extracted_archive(cmd, &dynamic);
		if (!archive || dynamic)
			continue;
		b = base_name(archive, strlen(archive), &blen);
		if (!tar_like(b, blen) || (j = copy_of(ctx, stage_start, i, b, blen)) == SIZE_MAX)
			continue;
		lint_report(ctx, rule, j, 0, 0,
			    "'%.*s' is copied in here and extracted by the RUN on line %u: the "
			    "archive stays in this COPY's layer; 'ADD %.*s <dir>' unpacks it in "
			    "one step and keeps no copy",
			    (int)blen, b, (unsigned)cmd->line, (int)blen, b);
	}
}

const struct lint_rule lint_rule_DL3010 = {
    .meta = {.id = "DL3010",
	     .name = "use-add-for-archives",
	     .severity = BALE_SEV_INFO,
	     .summary = "Use ADD for extracting archives into an image",
	     .fix = "replace COPY archive.tar.gz + RUN tar -x with ADD archive.tar.gz /dir/",
	     .category = "efficiency"},
    .check = check_extracted_copies,
};

/* --- DL3020 ------------------------------------------------------------------------------- */

/* Sources ADD is for: URLs (files and git repositories) and local archives it unpacks. */
static bool add_source_ok(const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s++;
		n -= 2;
	}
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0 ||
	       strncasecmp(s, "git@", 4) == 0 || strncasecmp(s, "git://", 6) == 0 ||
	       strncasecmp(s, "ssh://", 6) == 0 || archive_like(s, n);
}

static void check_add(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	/* The ADD instructions and the ONBUILD ones (their trigger may be one). */
	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_ADD, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = unwrap(&ctx->instrs[i]);

		if (ins->kind != BALE_INSTR_ADD || ins->nargs < 2)
			continue;
		for (size_t a = 0; a + 1 < ins->nargs; a++) {
			const char *src = ins->args[a], *v;

			if (strncmp(src, "<<", 2) == 0) {
				lint_report(
				    ctx, rule, i, 0, 0,
				    "ADD of an inline file (%s): COPY %s does the same without "
				    "ADD's URL fetching and archive unpacking; use COPY",
				    src, src);
				break;
			}
			/* A source whose variable is not known may be a URL. */
			if (!(v = word_value(ctx, i, src)) || add_source_ok(v))
				continue;
			lint_report(
			    ctx, rule, i, 0, 0,
			    "ADD '%s' copies a local file or directory: COPY does the same, "
			    "without ADD's URL fetching and archive unpacking that a later "
			    "change of the source could trigger; use COPY",
			    src);
			break;
		}
	}
}

const struct lint_rule lint_rule_DL3020 = {
    .meta = {.id = "DL3020",
	     .name = "use-copy-not-add",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Use COPY instead of ADD for files and folders",
	     .fix = "replace ADD with COPY; keep ADD for URLs, git repositories and archives to "
		    "unpack",
	     .category = "maintainability"},
    .check = check_add,
};

/* --- DL3021 ------------------------------------------------------------------------------- */

static void check_copy_dest(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i =
		 lint_first_of3(ctx, &k, BALE_INSTR_COPY, BALE_INSTR_ADD, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = unwrap(&ctx->instrs[i]);
		const char *dest, *v;
		size_t n;

		if ((ins->kind != BALE_INSTR_COPY && ins->kind != BALE_INSTR_ADD) || ins->nargs < 3)
			continue;
		dest = ins->args[ins->nargs - 1];
		if (!(v = word_value(ctx, i, dest)))
			continue; /* the variable may end in / */
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
			n--; /* the closing quote */
		/* "." and ".." name the working directory: BuildKit copies into it. */
		if ((n > 0 && (v[n - 1] == '/' || v[n - 1] == '\\')) || strcmp(v, ".") == 0 ||
		    strcmp(v, "..") == 0)
			continue;
		lint_report(ctx, rule, i, 0, 0,
			    "%s of %zu sources to '%s': with more than one source the destination "
			    "must be a directory written with a trailing slash ('%s/')",
			    bale_instr_kind_name(ins->kind), ins->nargs - 1, dest, dest);
	}
}

const struct lint_rule lint_rule_DL3021 = {
    .meta = {.id = "DL3021",
	     .name = "copy-dest-ends-with-slash",
	     .severity = BALE_SEV_ERROR,
	     .summary = "COPY with more than 2 arguments requires the last argument to end with /",
	     .fix = "end the destination with /, e.g. COPY a b /app/",
	     .category = "correctness"},
    .check = check_copy_dest,
};

/* --- DL3022, DL3023 ----------------------------------------------------------------------- */

/* The stage name of FROM `ins` (FROM image AS name), or NULL. */
static const char *stage_name(const bale_instruction *ins)
{
	if (ins->kind != BALE_INSTR_FROM || ins->nargs != 3 || strcasecmp(ins->args[1], "as") != 0)
		return NULL;
	return ins->args[2];
}

enum from_ref {
	REF_OK,	     /* an earlier stage, an image, or something unknown */
	REF_SELF,    /* the stage the COPY is in */
	REF_LATER,   /* a stage defined after the COPY's stage */
	REF_UNKNOWN, /* no stage of that name: docker build takes it for an image */
};

/*
 * What COPY --from=`from` at instruction `i` names. Stage names are matched without case, as
 * BuildKit does; stage indexes count FROMs. A name with ':', '@' or '/' is an image reference.
 */
static enum from_ref classify_from(const struct lint_ctx *ctx, size_t i, const char *from,
				   size_t *stage_line)
{
	size_t stage = SIZE_MAX, count = 0, cur_from = SIZE_MAX;
	char *end;
	unsigned long idx;

	for (size_t k = 0; k < ctx->ninstrs; k++) {
		const char *name;

		if (ctx->instrs[k].kind != BALE_INSTR_FROM)
			continue;
		if (k < i) {
			cur_from = k;
			count++;
		}
		if (stage == SIZE_MAX && (name = stage_name(&ctx->instrs[k])) &&
		    strcasecmp(name, from) == 0)
			stage = k;
	}
	if (from[0] >= '0' && from[0] <= '9') {
		idx = strtoul(from, &end, 10);
		if (*end == '\0' && count > 0) {
			if (idx + 1 == count)
				return REF_SELF;
			if (idx + 1 < count)
				return REF_OK;
			*stage_line = 0;
			for (size_t k = 0, nth = 0; k < ctx->ninstrs && !*stage_line; k++)
				if (ctx->instrs[k].kind == BALE_INSTR_FROM && nth++ == idx)
					*stage_line = ctx->instrs[k].start_line;
			return *stage_line ? REF_LATER : REF_UNKNOWN;
		}
	}
	if (stage != SIZE_MAX) {
		*stage_line = ctx->instrs[stage].start_line;
		if (stage == cur_from)
			return REF_SELF;
		return stage < i ? REF_OK : REF_LATER;
	}
	if (strpbrk(from, ":@/") || strcasecmp(from, "scratch") == 0)
		return REF_OK;
	return REF_UNKNOWN;
}

/* Calls `fn` with the resolved --from of every COPY (not ONBUILD ones: they name the
 * stages of the image that runs them). */
static void each_copy_from(struct lint_ctx *ctx, const bale_rule *rule, enum from_ref want)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_COPY); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];
		const char *from;
		size_t line = 0;
		enum from_ref ref;

		if (!(from = flag_value(ins, "from")) || !*from)
			continue;
		if (!(from = word_value(ctx, i, from)) || !*from)
			continue;
		ref = classify_from(ctx, i, from, &line);
		if (ref != want && !(want == REF_UNKNOWN && ref == REF_LATER))
			continue;
		if (ref == REF_SELF)
			lint_report(
			    ctx, rule, i, 0, 0,
			    "COPY --from=%s names the stage this COPY is in: a stage cannot "
			    "copy from itself (docker build fails on the cycle); copy from an "
			    "earlier stage",
			    from);
		else if (ref == REF_LATER)
			lint_report(
			    ctx, rule, i, 0, 0,
			    "COPY --from=%s names a stage defined after this one (on line %zu): "
			    "a stage can only copy from the stages before it; move that stage "
			    "up",
			    from, line);
		else if (strspn(from, "0123456789") == strlen(from))
			lint_report(
			    ctx, rule, i, 0, 0,
			    "COPY --from=%s: there is no stage %s (stages are numbered from 0 "
			    "in the order of their FROM)",
			    from, from);
		else
			lint_report(
			    ctx, rule, i, 0, 0,
			    "COPY --from=%s: no stage of that name is defined before it, so "
			    "docker build pulls an image named '%s'; fix the stage name, or "
			    "name the image in a FROM ... AS (or give it a tag: %s:<tag>)",
			    from, from, from);
	}
}

static void check_copy_from_known(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_copy_from(ctx, rule, REF_UNKNOWN);
}

const struct lint_rule lint_rule_DL3022 = {
    .meta = {.id = "DL3022",
	     .name = "copy-from-known-stage",
	     .severity = BALE_SEV_WARNING,
	     .summary = "COPY --from should reference a previously defined FROM alias",
	     .fix = "name an earlier stage (FROM image AS name), or an image with its tag",
	     .category = "correctness"},
    .check = check_copy_from_known,
};

static void check_copy_from_self(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_copy_from(ctx, rule, REF_SELF);
}

const struct lint_rule lint_rule_DL3023 = {
    .meta = {.id = "DL3023",
	     .name = "copy-from-own-stage",
	     .severity = BALE_SEV_ERROR,
	     .summary = "COPY --from cannot reference its own FROM alias",
	     .fix = "copy from an earlier stage",
	     .category = "correctness"},
    .check = check_copy_from_self,
};
