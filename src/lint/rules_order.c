/*
 * Rules about the order and structure of instructions and the image configuration they set:
 * what may come before FROM (DL3061), ONBUILD triggers BuildKit refuses (DL3043), ENV reading
 * what it sets (DL3044), COPY to a relative path with no WORKDIR (DL3045), HEALTHCHECK
 * (DL3057), consecutive RUNs (DL3059), secret-looking ARG and ENV names (DL3064), USER by
 * name (DL3066), copying a whole stage
 * (DL3067), and several CMD or ENTRYPOINT in a stage (DL4003, DL4004).
 */
#include "lint/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- stages --------------------------------------------------------------------------------- */

/* True when an instruction of `kind` is in stage `s` before `before`, or in a stage it is
 * built on. */
static bool stage_has(const struct lint_ctx *ctx, size_t s, size_t before, bale_instr_kind kind)
{
	for (int hops = 0; s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];
		size_t end = before < st->end ? before : st->end;

		for (size_t i = st->instruction; i < end && i < ctx->ninstrs; i++)
			if (ctx->instrs[i].kind == kind)
				return true;
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
		before = SIZE_MAX;
	}
	return false;
}

/*
 * The stages that make an image someone runs: the target, and those no other stage builds on
 * or copies from. *out is one flag per stage (lint_calloc()); false when out of memory.
 */
static bool image_stages(struct lint_ctx *ctx, bool **out)
{
	bool *used = lint_calloc(ctx, ctx->nstages, sizeof(*used));

	*out = used;
	if (!used) {
		ctx->err = bale_error_oom();
		return false;
	}
	for (size_t s = 0; s < ctx->nstages; s++)
		for (size_t d = 0; d < ctx->stage_list[s].ndeps; d++)
			if (ctx->stage_list[s].deps[d] < ctx->nstages)
				used[ctx->stage_list[s].deps[d]] = true;
	for (size_t s = 0; s < ctx->nstages; s++)
		used[s] = !used[s] || s == ctx->target;
	return true;
}

/* --- DL3043 ONBUILD triggers --------------------------------------------------------------------
 */

static void check_onbuild_triggers(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_ONBUILD); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];
		const bale_instruction *sub = ins->sub;

		if (!sub || (sub->kind != BALE_INSTR_ONBUILD && sub->kind != BALE_INSTR_FROM &&
			     sub->kind != BALE_INSTR_MAINTAINER))
			continue;
		lint_report(ctx, rule, i, 0, 0,
			    "ONBUILD %s: BuildKit refuses %s as an ONBUILD trigger, so every image "
			    "built FROM this one fails to build",
			    sub->keyword, bale_instr_kind_name(sub->kind));
	}
}

/* --- DL3044 ENV reading what it sets ------------------------------------------------------------
 */

/* True when `name` is defined (ARG, with or without value, or ENV) where instruction i stands. */
static bool defined_before(const struct lint_ctx *ctx, size_t i, const char *name)
{
	size_t s = lint_stage_of(ctx, i), limit = i;
	bool env_only = false;

	for (int hops = 0; s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t k = 0; k < st->nvars; k++)
			if (st->vars[k].instruction < limit && (!env_only || st->vars[k].is_env) &&
			    strcmp(st->vars[k].name, name) == 0)
				return true;
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
		limit = SIZE_MAX;
		env_only = true;
	}
	return false;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/*
 * The next variable `value` (as written) reads after *p: $NAME or ${NAME...}, outside single
 * quotes and not escaped. Sets *name and *len and moves *p past it; false at the end.
 */
struct ref_scan {
	const char *p;
	int escape;
	bool single, dquote;
};

static bool next_ref(struct ref_scan *r, const char **name, size_t *len)
{
	for (; *r->p; r->p++) {
		const char *p = r->p, *n;

		if (*p == r->escape && !r->single && p[1]) {
			r->p++;
			continue;
		}
		if (*p == '"' && !r->single)
			r->dquote = !r->dquote;
		else if (*p == '\'' && !r->dquote)
			r->single = !r->single;
		if (*p != '$' || r->single)
			continue;
		n = p[1] == '{' ? p + 2 : p + 1;
		*name = n;
		while (name_char(*n))
			n++;
		*len = (size_t)(n - *name);
		r->p = n > p + 1 ? n - 1 : p;
		/* ${NAME} needs its closing part; a bare $ or ${ reads nothing */
		if (*len && (p[1] != '{' || *n))
			return true;
	}
	return false;
}

struct env_key {
	const char *key;
	size_t index;
};

static int by_key(const void *a, const void *b)
{
	const struct env_key *x = a, *y = b;
	int d = strcmp(x->key, y->key);

	return d ? d : (x->index > y->index) - (x->index < y->index);
}

/* strcmp of `key` with the `len` bytes at `name`. */
static int key_cmp(const char *key, const char *name, size_t len)
{
	int d = strncmp(key, name, len);

	return d ? d : key[len] != '\0';
}

/* The first key among keys[0..n) (sorted) equal to the `len` bytes at `name`, or NULL. */
static const struct env_key *find_env_key(const struct env_key *keys, size_t n, const char *name,
					  size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(keys[mid].key, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && key_cmp(keys[lo].key, name, len) == 0 ? &keys[lo] : NULL;
}

/* Reports pair j of ENV `c` (instruction i), which reads `name` that another pair sets. */
static void report_self_reference(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
				  const bale_command *c, size_t j, const char *name)
{
	const bale_instruction *ins = &ctx->instrs[i];
	struct lint_cursor cur;
	struct lint_pos at = {0, 0};

	lint_cursor_init(&cur, ins);
	for (size_t q = 0; q <= j; q++)
		at = lint_cursor_find(ctx, ins, c->pairs.v[q].key, &cur);
	lint_report(ctx, rule, i, at.line, at.col,
		    "this ENV sets %s and reads $%s in %s=%s: an ENV reads the values from before "
		    "it, and %s is not set yet; set %s in an ENV of its own first",
		    name, name, c->pairs.v[j].key, c->pairs.v[j].value, name, name);
}

/* True when a value of ENV `c` holds a '$', where every reference starts. */
static bool reads_variable(const bale_command *c)
{
	for (size_t k = 0; k < c->pairs.n; k++)
		if (c->pairs.v[k].value && strchr(c->pairs.v[k].value, '$'))
			return true;
	return false;
}

static void check_env_self_reference(struct lint_ctx *ctx, const bale_rule *rule)
{
	int escape = bale_dockerfile_escape(ctx->df);

	for (size_t i = lint_first_of(ctx, BALE_INSTR_ENV); i < ctx->ninstrs && !ctx->err;
	     i = lint_next_of(ctx, i)) {
		const bale_command *c = lint_command(ctx, i);
		struct env_key *keys;
		bool reported = false;

		if (!c || c->pairs.n < 2 || !reads_variable(c))
			continue;
		/* the keys, sorted, so each reference is looked up in log time */
		keys = malloc(c->pairs.n * sizeof(*keys));
		if (!keys) {
			ctx->err = bale_error_oom();
			return;
		}
		for (size_t k = 0; k < c->pairs.n; k++) {
			keys[k].key = c->pairs.v[k].key;
			keys[k].index = k;
		}
		qsort(keys, c->pairs.n, sizeof(*keys), by_key);
		for (size_t j = 0; j < c->pairs.n && !reported; j++) {
			struct ref_scan scan = {c->pairs.v[j].value, escape, false, false};
			const char *name;
			size_t len;

			while (scan.p && !reported && next_ref(&scan, &name, &len)) {
				const struct env_key *k = find_env_key(keys, c->pairs.n, name, len);
				const struct env_key *end = keys + c->pairs.n, *other = NULL;

				/* another pair sets it (a pair reading itself is fine) */
				for (; k && k < end && key_cmp(k->key, name, len) == 0; k++)
					if (k->index != j) {
						other = k;
						break;
					}
				if (!other || defined_before(ctx, i, other->key))
					continue;
				report_self_reference(ctx, rule, i, c, j, other->key);
				reported = true;
			}
		}
		free(keys);
	}
}

/* --- DL3045 COPY to a relative destination -------------------------------------------------- */

static bool absolute_path(const char *p)
{
	/* /x, and Windows' C:\x and C:/x */
	return p[0] == '/' || p[0] == '\\' ||
	       (((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')) && p[1] == ':' &&
		(p[2] == '\\' || p[2] == '/'));
}

static void check_copy_relative(struct lint_ctx *ctx, const bale_rule *rule)
{
	/* per stage, whether a WORKDIR is set by its end: stages are visited in order, and a
	 * stage is built only on earlier ones, so one pass suffices */
	bool *workdir = lint_calloc(ctx, ctx->nstages, sizeof(*workdir));
	size_t stage = BALE_NO_STAGE;
	struct lint_kinds k;

	if (!workdir) {
		ctx->err = bale_error_oom();
		return;
	}
	/* Each stage's FROM (so every stage takes its base's answer), WORKDIR, COPY and ADD. */
	for (size_t i = lint_first_of4(ctx, &k, BALE_INSTR_FROM, BALE_INSTR_WORKDIR,
				       BALE_INSTR_COPY, BALE_INSTR_ADD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = lint_command(ctx, i);
		size_t s = lint_stage_of(ctx, i);
		const char *dest;
		char *owned;

		if (s == BALE_NO_STAGE || s >= ctx->nstages)
			continue;
		if (s != stage) {
			const bale_stage *st = &ctx->stage_list[s];

			stage = s;
			workdir[s] = st->base.kind == BALE_REF_STAGE && st->base.stage < s &&
				     workdir[st->base.stage];
		}
		if (ctx->instrs[i].kind == BALE_INSTR_WORKDIR)
			workdir[s] = true;
		/* A leading '/' is literal: the expanded destination is absolute too. */
		if (!c || (c->kind != BALE_INSTR_COPY && c->kind != BALE_INSTR_ADD) ||
		    !c->copy.dest || workdir[s] || c->copy.dest[0] == '/')
			continue;
		dest = lint_expand_known(ctx, i, c->copy.dest, &owned);
		if (dest && !absolute_path(dest))
			lint_report(ctx, rule, i, 0, 0,
				    "%s to the relative destination '%s' with no WORKDIR in this "
				    "stage: it lands under whatever working directory the base "
				    "image has ('/' unless it sets one); set WORKDIR first, or "
				    "write an absolute path",
				    bale_instr_kind_name(c->kind), dest);
		free(owned);
	}
}

/* --- DL3057 HEALTHCHECK missing --------------------------------------------------------------- */

static void check_healthcheck(struct lint_ctx *ctx, const bale_rule *rule)
{
	bool *images;

	if (!image_stages(ctx, &images))
		return;
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (!images[s] || stage_has(ctx, s, SIZE_MAX, BALE_INSTR_HEALTHCHECK))
			continue;
		lint_report(
		    ctx, rule, st->instruction, 0, 0,
		    "the image this stage builds has no HEALTHCHECK: the engine cannot tell "
		    "a hung service from a working one (add HEALTHCHECK CMD ..., or "
		    "HEALTHCHECK NONE to say so)");
	}
}

/* --- DL3059 consecutive RUNs ------------------------------------------------------------------ */

/* Simple commands of a RUN, those of sh -c strings aside (hadolint does not read those). */
static size_t run_size(struct lint_ctx *ctx, size_t i)
{
	const bale_cmd_script *script = lint_script(ctx, i);
	const bale_cmd *cmds;
	size_t n, count = 0;

	if (!script)
		return 0;
	cmds = bale_cmd_script_commands(script, &n);
	for (size_t c = 0; c < n; c++)
		if (!(cmds[c].context & BALE_CMD_IN_STRING))
			count++;
	return count;
}

/* True when both RUNs have the same flags (--mount, --network, ...), in any order. */
static bool same_flags(const bale_instruction *a, const bale_instruction *b)
{
	if (a->nflags != b->nflags)
		return false;
	for (size_t x = 0; x < a->nflags; x++) {
		size_t in_a = 0, in_b = 0;

		for (size_t y = 0; y < a->nflags; y++)
			in_a += strcmp(a->flags[x], a->flags[y]) == 0;
		for (size_t y = 0; y < b->nflags; y++)
			in_b += strcmp(a->flags[x], b->flags[y]) == 0;
		if (in_a != in_b)
			return false;
	}
	return true;
}

static void check_consecutive_runs(struct lint_ctx *ctx, const bale_rule *rule)
{
	size_t prev = SIZE_MAX; /* the RUN that starts the current run of RUNs */
	size_t last = SIZE_MAX; /* the RUN before this one */

	for (size_t i = lint_first_of(ctx, BALE_INSTR_RUN); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_instruction *ins = &ctx->instrs[i];

		/* Another instruction between the two RUNs ends the run of RUNs. */
		if (last == SIZE_MAX || last + 1 != i)
			prev = SIZE_MAX;
		last = i;
		/*
		 * As hadolint: only RUNs of one command each, with the same flags, are worth
		 * joining; a chain of commands is a deliberate split.
		 */
		if (prev == SIZE_MAX || !same_flags(&ctx->instrs[prev], ins) ||
		    run_size(ctx, prev) > 1 || run_size(ctx, i) > 1) {
			prev = i;
			continue;
		}
		lint_report(ctx, rule, i, 0, 0,
			    "this RUN follows the RUN on line %u: each RUN adds a layer; join them "
			    "with && (bale lint --fix does)",
			    (unsigned)ctx->instrs[i - 1].start_line);
	}
}

/* --- DL3061 instructions before FROM ---------------------------------------------------------- */

static void check_instruction_order(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = 0; i < ctx->ninstrs; i++) {
		const bale_instruction *ins = &ctx->instrs[i];

		if (ins->kind == BALE_INSTR_FROM)
			return;
		if (ins->kind == BALE_INSTR_ARG)
			continue;
		lint_report(
		    ctx, rule, i, 0, 0,
		    "%s before the first FROM: only ARG (and comments or parser directives) "
		    "may come before FROM; there is no stage to run it in",
		    ins->keyword);
	}
}

/* --- DL3064 secret-looking ARG and ENV names ----------------------------------------------------
 */

/*
 * Names that hold credentials in common CI systems and SDKs (hadolint's list; names that hold
 * no secret, such as TRAVIS_OS_NAME or FACEBOOK_APP_ID, left out), by first letter: every ARG
 * and ENV name is compared with the few that share its first letter (each list ends with a
 * NULL entry).
 */
static const struct lstr *const secret_names[26] = {
    ['a' - 'a'] =
	LSTR_LIST(LSTR("ACCESS_TOKEN"), LSTR("APPLICATION_KEY"), LSTR("APP_SECRET"),
		  LSTR("AUTH_TOKEN"), LSTR("AWS_ACCESS_KEY_ID"), LSTR("AWS_SECRET_ACCESS_KEY")),
    ['b' - 'a'] = LSTR_LIST(LSTR("BITTREX_API_KEY"), LSTR("BITTREX_API_SECRET")),
    ['c' - 'a'] = LSTR_LIST(LSTR("CF_PASSWORD"), LSTR("CF_USERNAME"), LSTR("CIRCLE_TOKEN"),
			    LSTR("CI_DEPLOY_PASSWORD"), LSTR("CI_DEPLOY_USER")),
    ['d' - 'a'] =
	LSTR_LIST(LSTR("DOCKERHUB_PASSWORD"), LSTR("DOCKER_PASSWORD"), LSTR("DOCKER_USERNAME")),
    ['f' - 'a'] =
	LSTR_LIST(LSTR("FACEBOOK_ACCESS_TOKEN"), LSTR("FACEBOOK_APP_SECRET"),
		  LSTR("FIREBASE_API_TOKEN"), LSTR("FIREBASE_TOKEN"), LSTR("FOSSA_API_KEY")),
    ['g' - 'a'] = LSTR_LIST(LSTR("GH_ENTERPRISE_TOKEN"), LSTR("GH_TOKEN"),
			    LSTR("GITHUB_ENTERPRISE_TOKEN"), LSTR("GITHUB_TOKEN")),
    ['h' - 'a'] = LSTR_LIST(LSTR("HEROKU_API_KEY")),
    ['n' - 'a'] = LSTR_LIST(LSTR("NPM_AUTH_TOKEN"), LSTR("NPM_TOKEN")),
    ['o' - 'a'] = LSTR_LIST(LSTR("OKTA_CLIENT_TOKEN"), LSTR("OKTA_OAUTH2_CLIENTSECRET"),
			    LSTR("OPENAI_API_KEY"), LSTR("OS_PASSWORD"), LSTR("OS_USERNAME")),
    ['p' - 'a'] = LSTR_LIST(LSTR("POSTGRES_PASSWORD")),
    ['s' - 'a'] = LSTR_LIST(LSTR("SLACK_TOKEN"), LSTR("STRIPE_API_KEY")),
    ['v' - 'a'] = LSTR_LIST(LSTR("VAULT_CLIENT_KEY"), LSTR("VAULT_TOKEN")),
};

/*
 * Words of a name (split at _ - .), in lower case, as a list of [start, end) ranges into
 * `lower`. Returns the number of words (at most `max`).
 */
static size_t name_words(const char *name, char *lower, size_t size, size_t (*words)[2], size_t max,
			 size_t *len)
{
	size_t n = 0, k = 0, start = 0;

	/* One pass: every ARG and ENV name comes here. */
	for (;; k++) {
		char c = k + 1 < size ? name[k] : '\0';
		bool end = c == '\0';

		if (end || c == '_' || c == '-' || c == '.') {
			if (k > start && n < max) {
				words[n][0] = start;
				words[n][1] = k;
				n++;
			}
			start = k + 1;
		}
		lower[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		if (end)
			break;
	}
	*len = k;
	return n;
}

static bool word_is(const char *lower, const size_t w[2], struct lstr s)
{
	size_t n = w[1] - w[0];

	return s.len == n && memcmp(lower + w[0], s.s, n) == 0;
}

/* The word ends with `s` (dbpassword, ghtoken) or is it. */
static bool word_ends(const char *lower, const size_t w[2], struct lstr s)
{
	size_t n = w[1] - w[0];

	return n >= s.len && memcmp(lower + w[1] - s.len, s.s, s.len) == 0;
}

/*
 * True when a variable named `name` looks like it holds a credential. hadolint matches
 * substrings, so GOPRIVATE ("private") and TOKENIZERS_PARALLELISM ("token") are reported;
 * bale matches words: password, secret, token, username (or a word ending in them), private,
 * api key, client key; and not names of files or directories that hold a secret
 * (AUTH_TOKEN_FILE), which is how secrets should be passed.
 */
static bool secret_name(const char *name)
{
	static const struct lstr suffixes[] = {LSTR("password"), LSTR("passwd"),   LSTR("secret"),
					       LSTR("token"),	 LSTR("username"), LSTR("apikey")};
	static const struct lstr paths[] = {LSTR("file"), LSTR("path"), LSTR("dir"),
					    LSTR("filename")};
	static const struct lstr private = LSTR("private"), key = LSTR("key"), api = LSTR("api"),
				 client = LSTR("client");
	char lower[128];
	size_t words[16][2], n, len;

	n = name_words(name, lower, sizeof(lower), words, BALE_ARRAY_SIZE(words), &len);
	/* The list of the first letter, the length before a compare: every ARG and ENV is asked. */
	for (const struct lstr *e = lstr_list_of(secret_names, lower[0]); e && e->s; e++)
		if (e->len == len && strcasecmp(name, e->s) == 0)
			return true;
	if (n == 0)
		return false;
	for (size_t p = 0; p < BALE_ARRAY_SIZE(paths); p++)
		if (word_is(lower, words[n - 1], paths[p]))
			return false;
	for (size_t w = 0; w < n; w++) {
		for (size_t s = 0; s < BALE_ARRAY_SIZE(suffixes); s++)
			if (word_ends(lower, words[w], suffixes[s]))
				return true;
		if (word_is(lower, words[w], private))
			return true;
		if (w + 1 < n && word_is(lower, words[w + 1], key) &&
		    (word_is(lower, words[w], api) || word_is(lower, words[w], client)))
			return true;
	}
	return false;
}

static void check_secret_names(struct lint_ctx *ctx, const bale_rule *rule)
{
	struct lint_kinds k;

	for (size_t i = lint_first_of3(ctx, &k, BALE_INSTR_ARG, BALE_INSTR_ENV, BALE_INSTR_ONBUILD);
	     i < ctx->ninstrs; i = lint_next_in(ctx, &k, i)) {
		const bale_command *c = lint_command(ctx, i);

		if (c && c->kind == BALE_INSTR_ONBUILD)
			c = c->onbuild.trigger;
		if (!c || (c->kind != BALE_INSTR_ARG && c->kind != BALE_INSTR_ENV))
			continue;
		const bale_instruction *ins = &ctx->instrs[i];
		struct lint_cursor cur;

		size_t found = 0; /* the pairs the cursor has passed */
		struct lint_pos at = {0, 0};

		lint_cursor_init(&cur, ins);
		for (size_t p = 0; p < c->pairs.n; p++) {
			const char *name = c->pairs.v[p].key;

			if (!secret_name(name))
				continue;
			/* Positions only for what is reported; the cursor passes every key before.
			 */
			while (found <= p)
				at = lint_cursor_find(ctx, ins, c->pairs.v[found++].key, &cur);
			if (c->kind == BALE_INSTR_ARG)
				lint_report(
				    ctx, rule, i, at.line, at.col,
				    "ARG %s looks like a secret: a value given to it is "
				    "recorded in the image's history, where anyone who pulls "
				    "the image reads it; use RUN --mount=type=secret,id=%s",
				    name, name);
			else
				lint_report(
				    ctx, rule, i, at.line, at.col,
				    "ENV %s looks like a secret: its value is stored in the "
				    "image's configuration, where anyone who pulls the image "
				    "reads it; pass it at run time, or to a RUN with "
				    "--mount=type=secret",
				    name);
		}
	}
}

/* --- DL3066 USER by name ---------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t k = 0; k < n; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	return true;
}

static void check_numeric_user(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_USER); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_command *c = lint_command(ctx, i);
		const char *user;
		char *owned;

		if (!c || !c->value)
			continue;
		/* a user given by a variable bale cannot know may well be a number */
		user = lint_expand_known(ctx, i, c->value, &owned);
		if (user && !all_digits(user, strcspn(user, ":")))
			lint_report(
			    ctx, rule, i, 0, 0,
			    "USER %s names the user, not its UID: the host and Kubernetes "
			    "(runAsNonRoot) see only numbers and cannot resolve or verify a "
			    "name; write USER <uid>:<gid>",
			    user);
		free(owned);
	}
}

/* --- DL3067 copying a whole stage ------------------------------------------------------------- */

/* True when `path` (quotes removed) names the root: "/", "//", "/.", "/./". */
static bool root_path(const char *path)
{
	size_t n = strlen(path);

	if (n >= 2 && (path[0] == '"' || path[0] == '\'') && path[n - 1] == path[0]) {
		path++;
		n -= 2;
	}
	if (n == 0 || path[0] != '/')
		return false;
	for (size_t k = 0; k < n; k++)
		if (path[k] != '/' &&
		    !(path[k] == '.' && (k + 1 == n || path[k + 1] == '/') && path[k - 1] == '/'))
			return false;
	return true;
}

static void check_copy_root(struct lint_ctx *ctx, const bale_rule *rule)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_COPY); i < ctx->ninstrs;
	     i = lint_next_of(ctx, i)) {
		const bale_command *c = lint_command(ctx, i);
		bool from_root = false;

		if (!c || !c->copy.from || !c->copy.dest || !root_path(c->copy.dest))
			continue;
		for (size_t s = 0; s < c->copy.nsources && !from_root; s++)
			from_root = root_path(c->copy.sources[s]);
		if (from_root)
			lint_report(
			    ctx, rule, i, 0, 0,
			    "COPY --from=%s / / copies the whole filesystem of '%s': its "
			    "compilers, package caches and secrets come along; copy only the "
			    "paths the image needs",
			    c->copy.from, c->copy.from);
	}
}

/* --- DL4003, DL4004 several CMD or ENTRYPOINT ------------------------------------------------- */

static void check_several(struct lint_ctx *ctx, const bale_rule *rule, bale_instr_kind kind)
{
	uint32_t last = 0; /* the line of the stage's last one, 0 for none */
	struct lint_kinds k;

	for (size_t i = lint_first_of2(ctx, &k, BALE_INSTR_FROM, kind); i < ctx->ninstrs;
	     i = lint_next_in(ctx, &k, i)) {
		const bale_instruction *ins = &ctx->instrs[i];

		if (ins->kind == BALE_INSTR_FROM) {
			last = 0;
			continue;
		}
		if (last)
			lint_report(ctx, rule, i, 0, 0,
				    "this stage already has %s on line %u: only the last %s of a "
				    "stage takes effect, the earlier one is dead code",
				    bale_instr_kind_name(kind), (unsigned)last,
				    bale_instr_kind_name(kind));
		last = ins->start_line;
	}
}

static void check_several_cmd(struct lint_ctx *ctx, const bale_rule *rule)
{
	check_several(ctx, rule, BALE_INSTR_CMD);
}

static void check_several_entrypoint(struct lint_ctx *ctx, const bale_rule *rule)
{
	check_several(ctx, rule, BALE_INSTR_ENTRYPOINT);
}

/* --- the catalogue ---------------------------------------------------------------------------- */

const struct lint_rule lint_rule_DL3043 = {
    .meta = {.id = "DL3043",
	     .name = "invalid-onbuild-trigger",
	     .severity = BALE_SEV_ERROR,
	     .summary = "`ONBUILD`, `FROM` or `MAINTAINER` triggered from within `ONBUILD` "
			"instruction",
	     .fix = "remove the trigger: ONBUILD cannot run ONBUILD, FROM or MAINTAINER",
	     .category = "correctness"},
    .check = check_onbuild_triggers,
};

const struct lint_rule lint_rule_DL3044 = {
    .meta = {.id = "DL3044",
	     .name = "env-self-reference",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Do not refer to an environment variable within the same `ENV` statement "
			"where it is defined",
	     .fix = "set the variable in an ENV of its own before the ENV that reads it",
	     .category = "correctness"},
    .check = check_env_self_reference,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3045 = {
    .meta = {.id = "DL3045",
	     .name = "copy-relative-without-workdir",
	     .severity = BALE_SEV_WARNING,
	     .summary = "`COPY` to a relative destination without `WORKDIR` set",
	     .fix = "set WORKDIR before the COPY, or copy to an absolute path",
	     .category = "correctness"},
    .check = check_copy_relative,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3057 = {
    .meta = {.id = "DL3057",
	     .name = "healthcheck-missing",
	     .severity = BALE_SEV_NONE,
	     .summary = "`HEALTHCHECK` instruction missing (off by default, as in hadolint)",
	     .fix = "add HEALTHCHECK CMD <probe> (or HEALTHCHECK NONE) to the image's stage",
	     .category = "maintainability"},
    .check = check_healthcheck,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3059 = {
    .meta = {.id = "DL3059",
	     .name = "consecutive-run",
	     .severity = BALE_SEV_INFO,
	     .summary = "Multiple consecutive `RUN` instructions. Consider consolidation",
	     .fix = "join consecutive RUNs with && into one (bale lint --fix does)",
	     .category = "efficiency"},
    .check = check_consecutive_runs,
};

const struct lint_rule lint_rule_DL3061 = {
    .meta = {.id = "DL3061",
	     .name = "invalid-instruction-order",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Invalid instruction order. Dockerfile must begin with `FROM`, `ARG` or "
			"comment",
	     .fix = "move the instruction after the first FROM",
	     .category = "correctness"},
    .check = check_instruction_order,
};

const struct lint_rule lint_rule_DL3064 = {
    .meta = {.id = "DL3064",
	     .name = "sensitive-arg-env-name",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Potentially sensitive data should not be used in the `ARG` or `ENV` "
			"commands",
	     .fix = "pass secrets with RUN --mount=type=secret (docker build --secret), not ARG "
		    "or ENV",
	     .category = "security"},
    .check = check_secret_names,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3066 = {
    .meta = {.id = "DL3066",
	     .name = "non-numeric-user",
	     .severity = BALE_SEV_INFO,
	     .summary = "Non-numeric user-id may not be resolvable by host system",
	     .fix = "write the numeric UID (and GID): USER 10001:10001",
	     .category = "security"},
    .check = check_numeric_user,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3067 = {
    .meta = {.id = "DL3067",
	     .name = "copy-stage-root",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Do not copy an entire filesystem from another stage",
	     .fix = "COPY --from only the paths the image needs",
	     .category = "efficiency"},
    .check = check_copy_root,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL4003 = {
    .meta = {.id = "DL4003",
	     .name = "multiple-cmd",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Multiple `CMD` instructions found",
	     .fix = "keep one CMD per stage",
	     .category = "correctness"},
    .check = check_several_cmd,
};

const struct lint_rule lint_rule_DL4004 = {
    .meta = {.id = "DL4004",
	     .name = "multiple-entrypoint",
	     .severity = BALE_SEV_ERROR,
	     .summary = "Multiple `ENTRYPOINT` instructions found",
	     .fix = "keep one ENTRYPOINT per stage",
	     .category = "correctness"},
    .check = check_several_entrypoint,
};
