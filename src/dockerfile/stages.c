/*
 * The stage model, built as BuildKit's dockerfile2llb builds its dispatch states before it runs
 * anything: global ARGs (automatic platform ARGs, then the ARGs before the first FROM, each
 * overridden by a --build-arg or expanded against the ones before it), stages with their FROM
 * expanded in that global scope, bases resolved against the stages registered so far, COPY
 * --from and --mount from= resolved against all stages, the target and what it reaches, and
 * finally the ARG/ENV scope of every stage.
 *
 * Scopes. Every ARG or ENV definition is a `def` with a position (instruction << 32 | item),
 * stored under its (scope, name) in one hash table; scope 0 is the global scope, scope s + 1
 * stage s. A lookup "before position p" binary-searches the defs of that name for the last one
 * before p; a stage that has none falls back to its base stage's final scope, as BuildKit's
 * dispatch state inherits its base's environment and ARGs. What a stage inherits is memoised
 * while the model is built, so deep FROM chains stay linear; lookups after that only read.
 * Each def stores the effective value at that point (an ARG without value keeps what was set
 * before), so a lookup is one search.
 *
 * Everything lives in one arena, the hash table's arrays included.
 */
#include "dockerfile/instructions.h"
#include "shell/shell_internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define POS_END	     UINT64_MAX
#define SCOPE_NAMES  UINT32_MAX /* the stage-name table shares the hash with the scopes */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Per name, the stages that define it (in defs[].pos, ascending): see lookup(). */
#define SCOPE_DEFINERS (UINT32_MAX - 1)
/* Up to this many defining stages, lookup() tests each for being an ancestor. */
#define DEFINERS_SCAN 16
#define NBUILTINS     11 /* BuildKit's automatic ARGs: builtin_names[] */

struct def {
	uint64_t pos;
	const char *value; /* effective value; NULL: unset (declared only) */
};

struct entry {
	uint32_t scope;
	uint32_t name_len;
	const char *name;
	uint64_t hash;
	struct def *defs; /* ascending pos */
	size_t ndefs, alloc;
	/* Memo of what the stage inherits from its base (stage scopes only). */
	bool memo_done, memo_declared;
	const char *memo_value;
	size_t stage; /* SCOPE_NAMES entries: the stage of that name */
};

struct bale_stages {
	bale_arena arena;
	bale_buf value; /* expand_value()'s memory, reused by every value */
	const bale_dockerfile *df;
	const char *file;
	int escape;
	const bale_instruction *instrs;
	size_t ninstrs;
	bale_command *cmds;
	size_t *stage_of;
	bale_stage *stages;
	size_t nstages;
	bale_var *globals;
	size_t nglobals;
	size_t target;
	const bale_build_arg *build_args;
	size_t nbuild_args;
	/* Per stage, the indexes of its ONBUILD instructions (which run in its child stages). */
	size_t **onbuilds;
	size_t *nonbuilds;
	/* Entry and exit times of each stage in a walk of the FROM forest: ancestor tests. */
	uint32_t *tin, *tout;

	/*
	 * BuildKit's automatic ARGs (platform ones and TARGETSTAGE), in the order of
	 * builtin_names[]: not stored in the hash table, which every file would pay for, but
	 * answered by lookup() as definitions at position 0 of the global scope.
	 */
	const char *builtins[NBUILTINS];
	char os[64], arch[64], variant[64], full[200];

	struct entry *entries; /* in the arena, as the slots (see map_grow()) */
	size_t nentries, entries_alloc;
	uint32_t *slots; /* entry index + 1; 0 is empty */
	size_t nslots;
};

/* --- the hash table ----------------------------------------------------------------------- */

/* One multiply-and-fold step of the hashes. */
static uint64_t hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/*
 * A name looked up in the table: its hash is the name's alone, worked out once, and each scope
 * it is looked up in is mixed in after (scope_hash()). A lookup tries the name in several
 * scopes, and a definition goes in two.
 */
struct key {
	const char *name;
	size_t len;
	uint64_t hash;
};

/*
 * The name is taken eight bytes at a time: names are long enough for a byte loop to show. The
 * bytes past the last eight are read as loads that overlap those before, never past the end.
 */
static struct key key_of(const char *name, size_t len)
{
	struct key k = {name, len, 0x9E3779B97F4A7C15ull ^ len};
	uint64_t w = 0;
	uint32_t lo, hi;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, name + i, 8);
		k.hash = hash_mix(k.hash, w);
	}
	if (i == len)
		return k;
	if (len >= 8) {
		memcpy(&w, name + len - 8, 8);
	} else if (len >= 4) {
		memcpy(&lo, name, 4);
		memcpy(&hi, name + len - 4, 4);
		w = lo | (uint64_t)hi << 32;
	} else {
		w = (uint64_t)(unsigned char)name[0] | (uint64_t)(unsigned char)name[len / 2] << 8 |
		    (uint64_t)(unsigned char)name[len - 1] << 16;
	}
	k.hash = hash_mix(k.hash, w);
	return k;
}

static uint64_t scope_hash(const struct key *k, uint32_t scope)
{
	uint64_t h = hash_mix(k->hash, (uint64_t)scope + 1);

	return h ^ (h >> 29);
}

/* map_find() with the key's scope_hash() already known. */
static struct entry *map_find_hashed(const bale_stages *st, uint32_t scope, const struct key *k,
				     uint64_t h)
{
	size_t mask, i;

	if (!st->nslots)
		return NULL;
	mask = st->nslots - 1;
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		uint32_t slot = st->slots[i];
		struct entry *e;

		if (!slot)
			return NULL;
		e = &st->entries[slot - 1];
		if (e->hash == h && e->scope == scope && e->name_len == k->len &&
		    memcmp(e->name, k->name, k->len) == 0)
			return e;
	}
}

static struct entry *map_find(const bale_stages *st, uint32_t scope, const struct key *k)
{
	return st->nslots ? map_find_hashed(st, scope, k, scope_hash(k, scope)) : NULL;
}

/*
 * The table's arrays live in the arena like the rest: a grown array leaves the old one behind,
 * which at most doubles what they take, and a file with few variables makes no malloc call.
 */
static int map_grow(bale_stages *st)
{
	size_t nslots = st->nslots ? st->nslots * 2 : 128;
	uint32_t *slots = bale_arena_calloc(&st->arena, nslots, sizeof(*slots));

	if (!slots)
		return BALE_ENOMEM;
	for (size_t k = 0; k < st->nentries; k++) {
		size_t i = (size_t)st->entries[k].hash & (nslots - 1);

		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)(k + 1);
	}
	st->slots = slots;
	st->nslots = nslots;
	return 0;
}

/* Finds or adds the entry of (scope, key); the key's name must live as long as the stages. */
static struct entry *map_get(bale_stages *st, uint32_t scope, const struct key *k)
{
	uint64_t h = scope_hash(k, scope);
	struct entry *e = map_find_hashed(st, scope, k, h);
	size_t i;

	if (e)
		return e;
	if (st->nentries >= UINT32_MAX - 1 || k->len > UINT32_MAX) {
		bale_error_set(BALE_ELIMIT, "%s: too many variables", st->file);
		return NULL;
	}
	if ((st->nentries + 1) * 2 > st->nslots && map_grow(st))
		return NULL;
	if (st->nentries == st->entries_alloc) {
		struct entry *entries = bale_arena_grow(&st->arena, st->entries, st->nentries,
							&st->entries_alloc, 32, sizeof(*entries));

		if (!entries)
			return NULL;
		st->entries = entries;
	}
	e = &st->entries[st->nentries];
	memset(e, 0, sizeof(*e));
	e->scope = scope;
	e->name = k->name;
	e->name_len = (uint32_t)k->len;
	e->hash = h;
	e->stage = BALE_NO_STAGE;
	for (i = (size_t)e->hash & (st->nslots - 1); st->slots[i]; i = (i + 1) & (st->nslots - 1))
		;
	st->slots[i] = (uint32_t)(++st->nentries);
	return e;
}

/* --- scopes ------------------------------------------------------------------------------- */

static uint64_t pos_of(size_t instruction, size_t item)
{
	return ((uint64_t)instruction << 32) | (uint64_t)item;
}

/* The last def of `e` before `pos`, or NULL. */
static const struct def *def_before(const struct entry *e, uint64_t pos)
{
	size_t lo = 0, hi = e->ndefs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (e->defs[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &e->defs[lo - 1] : NULL;
}

/* Appends a def to `e` (its position after all of e's). */
static int push_def(bale_stages *st, struct entry *e, uint64_t pos, const char *value)
{
	if (e->ndefs == e->alloc) {
		struct def *defs =
		    bale_arena_grow(&st->arena, e->defs, e->ndefs, &e->alloc, 2, sizeof(*defs));

		if (!defs)
			return BALE_ENOMEM;
		e->defs = defs;
	}
	e->defs[e->ndefs].pos = pos;
	e->defs[e->ndefs].value = value;
	e->ndefs++;
	return 0;
}

static int add_def(bale_stages *st, uint32_t scope, const char *name, uint64_t pos,
		   const char *value)
{
	struct key k = key_of(name, strlen(name));
	struct entry *e = map_get(st, scope, &k);
	int rc;

	if (!e)
		return BALE_ENOMEM;
	if ((rc = push_def(st, e, pos, value)) != 0)
		return rc;
	if (scope != 0 && scope < SCOPE_DEFINERS) {
		/* map_get() may move the entries: `e` is not used past this point. */
		struct entry *d = map_get(st, SCOPE_DEFINERS, &k);

		if (!d)
			return BALE_ENOMEM;
		if (!d->ndefs || d->defs[d->ndefs - 1].pos != scope - 1)
			return push_def(st, d, scope - 1, NULL);
	}
	return 0;
}

struct found {
	bool declared;	   /* some ARG or ENV in scope names it */
	const char *value; /* NULL when unset */
};

static const char *const builtin_names[NBUILTINS] = {
    "BUILDPLATFORM", "BUILDOS",	       "BUILDOSVERSION", "BUILDARCH",
    "BUILDVARIANT",  "TARGETPLATFORM", "TARGETOS",	 "TARGETOSVERSION",
    "TARGETARCH",    "TARGETVARIANT",  "TARGETSTAGE",
};

/* The automatic ARG `name` (see bale_stages.builtins): its value, or NULL when it is none. */
static const char *builtin_value(const bale_stages *st, const char *name, size_t len)
{
	if (len < 7 || (name[0] != 'B' && name[0] != 'T'))
		return NULL;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(builtin_names); i++)
		if (strlen(builtin_names[i]) == len && memcmp(builtin_names[i], name, len) == 0)
			return st->builtins[i];
	return NULL;
}

static size_t base_stage(const bale_stages *st, size_t s)
{
	const bale_stage *stage = &st->stages[s];

	return stage->base.kind == BALE_REF_STAGE ? stage->base.stage : BALE_NO_STAGE;
}

static bool is_ancestor(const bale_stages *st, size_t t, size_t s)
{
	return st->tin[t] <= st->tin[s] && st->tout[s] <= st->tout[t];
}

/* The final definition of the key's name in stage `t` (which defines it). */
static void final_def(const bale_stages *st, size_t t, const struct key *k, struct found *out)
{
	struct entry *e = map_find(st, (uint32_t)(t + 1), k);
	const struct def *d = e ? def_before(e, POS_END) : NULL;

	out->declared = d != NULL;
	out->value = d ? d->value : NULL;
}

/*
 * Looks `name` up in `scope` before `pos`. A stage without a definition before `pos` inherits
 * from the nearest ancestor in its FROM chain that defines the name; finding it stays cheap in
 * every shape of file:
 *  - a name no stage defines is answered at once;
 *  - a name few stages define: each of them is tested for being an ancestor (interval test);
 *  - else the chain is walked up to a definition or a memoised answer. With `memo` (only while
 *    the model is built, stage by stage, so parents are answered before children) every stage
 *    passed remembers the answer, so each (stage, name) is walked once.
 */
static int lookup(bale_stages *st, bool memo, uint32_t scope, uint64_t pos, const char *name,
		  size_t len, struct found *out)
{
	struct key k = key_of(name, len);
	struct entry *e = map_find(st, scope, &k), *definers;
	const struct def *d = e ? def_before(e, pos) : NULL;
	size_t s, t, stop;

	out->declared = false;
	out->value = NULL;
	if (d) {
		out->declared = true;
		out->value = d->value;
		return 0;
	}
	if (scope == 0) {
		/* The automatic ARGs are defined before the first instruction: BuildKit gives
		 * them to every global ARG, the first one's value too. */
		if ((out->value = builtin_value(st, name, len)) != NULL)
			out->declared = true;
		return 0;
	}
	if (e && e->memo_done) {
		out->declared = e->memo_declared;
		out->value = e->memo_value;
		return 0;
	}
	definers = map_find(st, SCOPE_DEFINERS, &k);
	if (!definers)
		return 0;
	s = scope - 1;
	if (definers->ndefs <= DEFINERS_SCAN) {
		for (size_t n = definers->ndefs; n-- > 0;) {
			t = (size_t)definers->defs[n].pos;
			if (t < s && is_ancestor(st, t, s)) {
				final_def(st, t, &k, out);
				break;
			}
		}
		stop = base_stage(st, s);
		goto remember;
	}
	for (t = base_stage(st, s); t != BALE_NO_STAGE; t = base_stage(st, t)) {
		struct entry *te = map_find(st, (uint32_t)(t + 1), &k);

		if (te && te->ndefs) {
			final_def(st, t, &k, out);
			break;
		}
		if (te && te->memo_done) {
			out->declared = te->memo_declared;
			out->value = te->memo_value;
			break;
		}
	}
	stop = t;
remember:
	if (!memo)
		return 0;
	/* Every stage from `s` up to (not including) where the answer was found inherits it. */
	for (t = s; t != stop && t != BALE_NO_STAGE; t = base_stage(st, t)) {
		char *copy = bale_arena_strndup(&st->arena, name, len);
		struct key kc = {copy, len, k.hash};
		struct entry *m = copy ? map_get(st, (uint32_t)(t + 1), &kc) : NULL;

		if (!m)
			return BALE_ENOMEM;
		if (m->memo_done)
			break;
		m->memo_done = true;
		m->memo_declared = out->declared;
		m->memo_value = out->value;
	}
	return 0;
}

/*
 * Entry and exit times of a depth-first walk of the FROM forest (a stage's parent is its base
 * stage), for the ancestor test of lookup(). Iterative: chains may be long.
 */
static int forest(bale_stages *st)
{
	size_t n = st->nstages, depth = 0;
	/* Work arrays in the arena too: small, and gone with it (no malloc per file). */
	size_t *first = bale_arena_alloc(&st->arena, n * sizeof(*first));
	size_t *next = bale_arena_alloc(&st->arena, n * sizeof(*next));
	size_t *stack = bale_arena_alloc(&st->arena, n * sizeof(*stack));
	uint32_t clock = 0;

	st->tin = bale_arena_alloc(&st->arena, n * sizeof(*st->tin));
	st->tout = bale_arena_alloc(&st->arena, n * sizeof(*st->tout));
	if (!st->tin || !st->tout || !first || !next || !stack)
		return BALE_ENOMEM;
	for (size_t i = 0; i < n; i++)
		first[i] = BALE_NO_STAGE;
	/* Children lists, in reverse so they are walked in index order (not that it matters). */
	for (size_t i = n; i-- > 0;) {
		size_t b = base_stage(st, i);

		next[i] = b == BALE_NO_STAGE ? BALE_NO_STAGE : first[b];
		if (b != BALE_NO_STAGE)
			first[b] = i;
	}
	for (size_t root = 0; root < n; root++) {
		if (base_stage(st, root) != BALE_NO_STAGE)
			continue;
		st->tin[root] = clock++;
		stack[depth++] = root;
		while (depth) {
			size_t top = stack[depth - 1], child = first[top];

			if (child == BALE_NO_STAGE) {
				st->tout[top] = clock++;
				depth--;
				continue;
			}
			first[top] = next[child];
			st->tin[child] = clock++;
			stack[depth++] = child;
		}
	}
	return 0;
}

/* --- expansion ---------------------------------------------------------------------------- */

struct expand_ctx {
	bale_stages *st;
	bool memo;
	uint32_t scope;
	uint64_t pos;
	bale_expansion *rec;
	struct seen_names *seen; /* names only: the names read so far */
	int err;
};

static bool words_contain(const bale_words *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->v[i]) == len && memcmp(w->v[i], name, len) == 0)
			return true;
	return false;
}

static int words_push(bale_words *w, const char *s, size_t len)
{
	char *copy;

	if (BALE_ARRAY_RESERVE(w->v, w->alloc, w->n + 1))
		return BALE_ENOMEM;
	copy = malloc(len + 1);
	if (!copy)
		return bale_error_oom();
	memcpy(copy, s, len);
	copy[len] = '\0';
	w->v[w->n++] = copy;
	return 0;
}

/*
 * The names one instruction reads, one after the other, each NUL-terminated. An instruction
 * reads a few short names: they fit in `small`, so most instructions need no allocation.
 */
struct seen_names {
	char *ptr; /* small, or malloc'd once they outgrow it */
	size_t len, cap;
	char small[256];
	bale_buf work; /* the expander's memory for inner words, reused by every word */
};

static bool seen_contains(const struct seen_names *seen, const char *name, size_t len)
{
	for (size_t at = 0; at < seen->len;) {
		size_t n = strlen(seen->ptr + at);

		if (n == len && memcmp(seen->ptr + at, name, len) == 0)
			return true;
		at += n + 1;
	}
	return false;
}

static int seen_add(struct seen_names *seen, const char *name, size_t len)
{
	if (len >= seen->cap - seen->len) {
		size_t cap = seen->cap;
		char *p;

		while (len >= cap - seen->len) {
			if (cap > SIZE_MAX / 2)
				return bale_error_oom();
			cap *= 2;
		}
		if (!(p = malloc(cap)))
			return bale_error_oom();
		memcpy(p, seen->ptr, seen->len);
		if (seen->ptr != seen->small)
			free(seen->ptr);
		seen->ptr = p;
		seen->cap = cap;
	}
	memcpy(seen->ptr + seen->len, name, len);
	seen->ptr[seen->len + len] = '\0';
	seen->len += len + 1;
	return 0;
}

/*
 * Records a name read: in rec->used the first time, and in rec->undefined too when that first
 * read found no definition. Names only (x->seen set), rec->used is not filled: the names read
 * are kept in x->seen, one buffer, rather than a malloc'd copy each.
 */
static int record_name(struct expand_ctx *x, const char *name, size_t len, bool undefined)
{
	int rc;

	if (x->seen) {
		if (seen_contains(x->seen, name, len))
			return 0;
		if ((rc = seen_add(x->seen, name, len)) != 0)
			return rc;
	} else {
		if (words_contain(&x->rec->used, name, len))
			return 0;
		if ((rc = words_push(&x->rec->used, name, len)) != 0)
			return rc;
	}
	return undefined ? words_push(&x->rec->undefined, name, len) : 0;
}

static bool lookup_var(void *vctx, const char *name, size_t len, const char **value,
		       size_t *value_len)
{
	struct expand_ctx *x = vctx;
	struct found f;
	bool is_path = len == 4 && memcmp(name, "PATH", 4) == 0;

	if (x->err)
		return false;
	if ((x->err = lookup(x->st, x->memo, x->scope, x->pos, name, len, &f)) != 0)
		return false;
	if (!f.value && is_path && x->scope != 0) {
		/* BuildKit always sets PATH in a stage. */
		f.value = DEFAULT_PATH;
		f.declared = true;
	}
	/* Names are recorded as BuildKit's lexer records them: every lookup, ${V:-w} included. */
	if (x->rec && len)
		x->err = record_name(
		    x, name, len,
		    !f.declared && !f.value &&
			!(len == 26 && memcmp(name, "BUILDKIT_SBOM_SCAN_CONTEXT", 26) == 0) &&
			!(len == 24 && memcmp(name, "BUILDKIT_SBOM_SCAN_STAGE", 24) == 0));
	if (!f.value)
		return false;
	*value = f.value;
	*value_len = strlen(f.value);
	return true;
}

/*
 * Expands `word` at (scope, pos). With `fields`, splits into *fields; else, names only (`seen`
 * set), only looks the names up; else puts the value in `res`.
 */
static int expand_at(bale_stages *st, bool memo, uint32_t scope, uint64_t pos, const char *word,
		     bool raw, bale_buf *res, bale_words *fields, bale_expansion *rec,
		     struct seen_names *seen)
{
	struct expand_ctx x = {st, memo, scope, pos, rec, seen, 0};
	bale_shell_opts opts = {0};
	int rc;

	/*
	 * Heredoc bodies: BuildKit uses '\\' and skips quote processing (SkipProcessQuotes), which
	 * the shell module does not offer; keeping quotes (RawQuotes) is the nearest: it differs
	 * only in that single quotes still stop expansion.
	 */
	opts.escape = raw ? '\\' : st->escape;
	opts.raw_quotes = raw;
	opts.lookup = lookup_var;
	opts.lookup_ctx = &x;
	if (fields)
		rc = bale_shell_expand_words(fields, word, strlen(word), &opts);
	else if (seen)
		rc = bale_shell_expand_names(&seen->work, word, strlen(word), &opts);
	else
		rc = bale_shell_expand_word_buf(res, word, strlen(word), &opts);
	return x.err ? x.err : rc;
}

/*
 * Whether `word` expands to itself whatever the scope: no $, quote or escape character (either),
 * no byte order mark in front (the expander drops one), not over the expander's size cap. The
 * words given here come from the parsed tree, which is valid UTF-8, so no other byte can change
 * in expansion: the answer is the one expanding would give.
 */
static bool expands_to_itself(const char *word)
{
	size_t n = strcspn(word, "$'\"\\`");

	if (word[n] || ((unsigned char)word[0] == 0xef && (unsigned char)word[1] == 0xbb &&
			(unsigned char)word[2] == 0xbf))
		return false;
	return n <= BALE_SHELL_DEFAULT_MAX_LEN;
}

/*
 * expand_at() of one word (not raw) into the stages' memory: the word itself when nothing in it
 * expands, which is most words, so they cost no copy; else a copy of the value, made in
 * st->value, whose memory serves every such word.
 */
static int expand_value(bale_stages *st, bool memo, uint32_t scope, uint64_t pos, const char *word,
			const char **out)
{
	int rc;

	if (expands_to_itself(word)) {
		*out = word;
		return 0;
	}
	if ((rc = expand_at(st, memo, scope, pos, word, false, &st->value, NULL, NULL, NULL)) != 0)
		return rc;
	*out = bale_arena_strndup(&st->arena, st->value.ptr, st->value.len);
	return *out ? 0 : bale_error_oom();
}

/* A malloc'd copy of the value expand_at() left in `res`, which is released. */
static char *detach_value(bale_buf *res)
{
	char *value = bale_buf_detach(res, NULL);

	if (!value)
		bale_error_oom();
	return value;
}

/* The position-prefixed message of a failed expansion in instruction `i`. */
static int expand_error(const bale_stages *st, size_t i)
{
	if (bale_error_last()->code == BALE_ENOMEM)
		return BALE_ENOMEM;
	return df_error_at(st->file, &st->instrs[i], "%s", bale_error_last()->message);
}

/* --- options ------------------------------------------------------------------------------ */

static const char *build_arg(const bale_stages *st, const char *name)
{
	/* The last --build-arg of a name wins, as with docker build. */
	for (size_t i = st->nbuild_args; i-- > 0;)
		if (!strcmp(st->build_args[i].name, name))
			return st->build_args[i].value ? st->build_args[i].value : "";
	return NULL;
}

/*
 * BuildKit's automatic ARGs: the platform ones and TARGETSTAGE, --build-arg may override. Their
 * values are kept in `st` (see bale_stages.builtins) for lookup() to answer.
 */
static int add_builtin_args(bale_stages *st, const char *platform, const char *target_name)
{
	const char *v, *host = bale_host_arch(&v);
	size_t alen = strlen(host), vlen = strlen(v);

	/* Every file adds these: the host's platform is put together without formatting. */
	if (alen >= sizeof(st->arch) || vlen >= sizeof(st->variant))
		return bale_error_set(BALE_EINVAL, "host platform name too long");
	memcpy(st->os, "linux", sizeof("linux"));
	memcpy(st->arch, host, alen + 1);
	memcpy(st->variant, v, vlen + 1);
	if (platform && *platform) {
		const char *a = strchr(platform, '/'), *b = a ? strchr(a + 1, '/') : NULL;

		if (!a || a == platform || !a[1] || (b && (b == a + 1 || !b[1])) ||
		    strlen(platform) >= sizeof(st->os))
			return bale_error_set(BALE_EINVAL,
					      "invalid platform '%s': expected os/arch[/variant]",
					      platform);
		snprintf(st->os, sizeof(st->os), "%.*s", (int)(a - platform), platform);
		snprintf(st->arch, sizeof(st->arch), "%.*s",
			 b ? (int)(b - a - 1) : (int)strlen(a + 1), a + 1);
		snprintf(st->variant, sizeof(st->variant), "%s", b ? b + 1 : "");
	}
	{
		size_t olen = strlen(st->os), at;
		char *full = st->full;

		alen = strlen(st->arch);
		vlen = strlen(st->variant);
		/* os, arch and variant are each under 64 bytes: full holds them and two slashes */
		memcpy(full, st->os, olen);
		full[olen] = '/';
		memcpy(full + olen + 1, st->arch, alen);
		at = olen + 1 + alen;
		if (vlen) {
			full[at++] = '/';
			memcpy(full + at, st->variant, vlen);
			at += vlen;
		}
		full[at] = '\0';
	}
	const char *values[NBUILTINS] = {
	    st->full,
	    st->os,
	    "",
	    st->arch,
	    st->variant,
	    st->full,
	    st->os,
	    "",
	    st->arch,
	    st->variant,
	    target_name ? target_name : "",
	};
	for (size_t i = 0; i < NBUILTINS; i++) {
		const char *value = build_arg(st, builtin_names[i]);

		st->builtins[i] = value ? value : values[i];
	}
	return 0;
}

/* --- building ----------------------------------------------------------------------------- */

static int layout(bale_stages *st)
{
	size_t nstages = 0, s = BALE_NO_STAGE;
	int rc;

	/* Not zeroed here: df_command_build() sets every command in full, and a failure ends it. */
	st->cmds =
	    st->ninstrs <= SIZE_MAX / sizeof(*st->cmds)
		? bale_arena_alloc(&st->arena, (st->ninstrs ? st->ninstrs : 1) * sizeof(*st->cmds))
		: NULL;
	st->stage_of =
	    bale_arena_calloc(&st->arena, st->ninstrs ? st->ninstrs : 1, sizeof(*st->stage_of));
	if (!st->cmds || !st->stage_of)
		return BALE_ENOMEM;
	for (size_t i = 0; i < st->ninstrs; i++) {
		if ((rc = df_command_build(&st->cmds[i], &st->instrs[i], &st->arena, st->file)) !=
		    0)
			return rc;
		if (st->instrs[i].kind == BALE_INSTR_FROM)
			nstages++;
		else if (!nstages && st->instrs[i].kind != BALE_INSTR_ARG)
			return df_error_at(st->file, &st->instrs[i],
					   "no build stage in current context");
	}
	if (!nstages)
		return bale_error_set(BALE_EPARSE, "%s:1:1: dockerfile contains no stages to build",
				      st->file);
	st->stages = bale_arena_calloc(&st->arena, nstages, sizeof(*st->stages));
	if (!st->stages)
		return BALE_ENOMEM;
	for (size_t i = 0; i < st->ninstrs; i++) {
		if (st->instrs[i].kind == BALE_INSTR_FROM) {
			bale_stage *stage;

			s = s == BALE_NO_STAGE ? 0 : s + 1;
			stage = &st->stages[s];
			stage->index = s;
			stage->instruction = i;
			stage->name = st->cmds[i].from.name;
			stage->name_as_written = st->cmds[i].from.name_as_written;
			stage->base_word = st->cmds[i].from.image;
			stage->platform = st->cmds[i].from.platform;
			stage->base.via = BALE_VIA_FROM;
			stage->base.instruction = i;
			stage->base.stage = BALE_NO_STAGE;
			stage->base.mount = BALE_NO_STAGE;
		}
		st->stage_of[i] = s;
		if (s != BALE_NO_STAGE)
			st->stages[s].end = i + 1;
	}
	st->nstages = nstages;

	/* Each stage's ONBUILD instructions, so its child stages need not scan its body. */
	st->onbuilds = bale_arena_calloc(&st->arena, nstages, sizeof(*st->onbuilds));
	st->nonbuilds = bale_arena_calloc(&st->arena, nstages, sizeof(*st->nonbuilds));
	if (!st->onbuilds || !st->nonbuilds)
		return BALE_ENOMEM;
	for (size_t i = 0; i < st->ninstrs; i++)
		if (st->instrs[i].kind == BALE_INSTR_ONBUILD && st->stage_of[i] != BALE_NO_STAGE)
			st->nonbuilds[st->stage_of[i]]++;
	for (s = 0; s < nstages; s++) {
		if (st->nonbuilds[s] && !(st->onbuilds[s] = bale_arena_alloc(
					      &st->arena, st->nonbuilds[s] * sizeof(size_t))))
			return BALE_ENOMEM;
		st->nonbuilds[s] = 0;
	}
	for (size_t i = 0; i < st->ninstrs; i++) {
		if (st->instrs[i].kind != BALE_INSTR_ONBUILD || st->stage_of[i] == BALE_NO_STAGE)
			continue;
		s = st->stage_of[i];
		st->onbuilds[s][st->nonbuilds[s]++] = i;
	}
	return 0;
}

static int global_args(bale_stages *st)
{
	size_t n = 0, k = 0;
	int rc;

	for (size_t i = 0; i < st->ninstrs && st->stage_of[i] == BALE_NO_STAGE; i++)
		n += st->cmds[i].pairs.n;
	st->globals = bale_arena_calloc(&st->arena, n ? n : 1, sizeof(*st->globals));
	if (!st->globals)
		return BALE_ENOMEM;
	for (size_t i = 0; i < st->ninstrs && st->stage_of[i] == BALE_NO_STAGE; i++) {
		for (size_t p = 0; p < st->cmds[i].pairs.n; p++) {
			const bale_kv *kv = &st->cmds[i].pairs.v[p];
			bale_var *var = &st->globals[k++];
			const char *given = build_arg(st, kv->key);
			struct found prev;

			var->name = kv->key;
			var->word = kv->value;
			var->instruction = i;
			if (given) {
				var->value = given;
				var->from_build_arg = true;
			} else if (kv->value) {
				if (expand_value(st, true, 0, pos_of(i, p), kv->value, &var->value))
					return expand_error(st, i);
			}
			/* Without a value the name keeps what it had (BuildKit only sets values).
			 */
			if ((rc = lookup(st, true, 0, pos_of(i, p), kv->key, strlen(kv->key),
					 &prev)) != 0)
				return rc;
			if ((rc = add_def(st, 0, kv->key, pos_of(i, p),
					  var->value ? var->value : prev.value)) != 0)
				return rc;
		}
	}
	st->nglobals = k;
	return 0;
}

static int intern_name(bale_stages *st, const char *name, size_t stage)
{
	struct key k = key_of(name, strlen(name));
	struct entry *e = map_get(st, SCOPE_NAMES, &k);

	if (!e)
		return BALE_ENOMEM;
	e->stage = stage;
	return 0;
}

static size_t find_name(const bale_stages *st, const char *name, bool fold)
{
	char buf[256], *folded = NULL;
	struct entry *e;
	struct key k;
	size_t len = strlen(name);

	if (fold) {
		folded = len < sizeof(buf) ? buf : malloc(len + 1);
		if (!folded)
			return BALE_NO_STAGE;
		for (size_t i = 0; i <= len; i++)
			folded[i] = (char)tolower((unsigned char)name[i]);
		name = folded;
	}
	k = key_of(name, len);
	e = map_find(st, SCOPE_NAMES, &k);
	if (folded && folded != buf)
		free(folded);
	return e ? e->stage : BALE_NO_STAGE;
}

static int resolve_bases(bale_stages *st)
{
	int rc;

	for (size_t s = 0; s < st->nstages; s++) {
		bale_stage *stage = &st->stages[s];
		size_t i = stage->instruction, b;

		if (expand_value(st, true, 0, POS_END, stage->base_word, &stage->base.name))
			return expand_error(st, i);
		if (!*stage->base.name)
			return df_error_at(st->file, &st->instrs[i],
					   "base name (%s) should not be blank", stage->base_word);
		/* Only stages registered before this one, matched exactly as BuildKit does. */
		b = find_name(st, stage->base.name, false);
		if (b != BALE_NO_STAGE) {
			stage->base.kind = BALE_REF_STAGE;
			stage->base.stage = b;
			stage->base_env_unknown = st->stages[b].base_env_unknown;
		} else if (!strcmp(stage->base.name, "scratch")) {
			stage->base.kind = BALE_REF_SCRATCH;
		} else {
			stage->base.kind = BALE_REF_IMAGE;
			stage->base_env_unknown = true;
		}
		if (stage->name && (rc = intern_name(st, stage->name, s)) != 0)
			return rc;
		if (stage->platform) {
			if (expand_value(st, true, 0, POS_END, stage->platform,
					 &stage->platform_value)) {
				char msg[1024];

				snprintf(msg, sizeof(msg), "%s", bale_error_last()->message);
				if (bale_error_last()->code == BALE_ENOMEM)
					return BALE_ENOMEM;
				return df_error_at(st->file, &st->instrs[i],
						   "failed to process arguments for platform: %s",
						   msg);
			}
			if (!*stage->platform_value)
				return df_error_at(st->file, &st->instrs[i],
						   "empty platform value from expression %s",
						   stage->platform);
		}
	}
	return 0;
}

/* strconv.Atoi: an optional sign and decimal digits that fit an int64. */
static bool go_atoi(const char *s, long long *out)
{
	bool neg = false;
	unsigned long long v = 0;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v > (unsigned long long)LLONG_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

struct ref_list {
	bale_stage_ref *v;
	size_t n, alloc;
};

static int push_ref(struct ref_list *l, const bale_stage_ref *ref)
{
	if (BALE_ARRAY_RESERVE(l->v, l->alloc, l->n + 1))
		return BALE_ENOMEM;
	l->v[l->n++] = *ref;
	return 0;
}

/* Resolves a COPY --from (index or name) or a mount's from= (name only) seen in stage `s`. */
static int resolve_ref(bale_stages *st, size_t s, bale_stage_ref *ref, bool allow_index)
{
	long long index;

	ref->stage = BALE_NO_STAGE;
	if (allow_index && go_atoi(ref->name, &index)) {
		if (index < 0 || (unsigned long long)index >= st->nstages)
			return df_error_at(st->file, &st->instrs[ref->instruction],
					   "invalid stage index %lld", index);
		ref->stage = (size_t)index;
	} else {
		ref->stage = find_name(st, ref->name, true);
	}
	if (ref->stage != BALE_NO_STAGE)
		ref->kind = ref->stage < s ? BALE_REF_STAGE : BALE_REF_LATER_STAGE;
	else if (!strcmp(ref->name, "scratch"))
		ref->kind = BALE_REF_SCRATCH;
	else
		ref->kind = BALE_REF_IMAGE;
	return 0;
}

/*
 * Whether command_refs() may find a ref in `cmd`: a COPY or a RUN. Asked before the call, which
 * most instructions then do not pay for.
 */
static bool may_have_refs(const bale_command *cmd)
{
	return cmd->kind == BALE_INSTR_COPY || cmd->kind == BALE_INSTR_RUN;
}

/* The COPY --from and mount from= refs of `cmd` (instruction `i`), added to `out`. */
static int command_refs(bale_stages *st, size_t s, const bale_command *cmd, size_t i, bool onbuild,
			struct ref_list *out)
{
	bale_stage_ref ref = {0};
	int rc;

	ref.instruction = i;
	ref.onbuild = onbuild;
	ref.mount = BALE_NO_STAGE;
	if (cmd->kind == BALE_INSTR_COPY && cmd->copy.from && *cmd->copy.from) {
		ref.via = BALE_VIA_COPY;
		ref.name = cmd->copy.from;
		if ((rc = resolve_ref(st, s, &ref, true)) != 0 || (rc = push_ref(out, &ref)) != 0)
			return rc;
	}
	if (cmd->kind == BALE_INSTR_RUN) {
		for (size_t k = 0; k < cmd->run.nmounts; k++) {
			const bale_mount *m = &cmd->run.mounts[k];

			if (!m->from || !*m->from || m->type == BALE_MOUNT_TMPFS)
				continue;
			ref.via = BALE_VIA_MOUNT;
			ref.name = m->from;
			ref.mount = k;
			if ((rc = resolve_ref(st, s, &ref, false)) != 0 ||
			    (rc = push_ref(out, &ref)) != 0)
				return rc;
		}
	}
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* A stage's label in BuildKit's messages: its name, or "stage-N". */
static const char *stage_label(const bale_stage *stage, char *buf, size_t cap)
{
	if (stage->name)
		return stage->name;
	snprintf(buf, cap, "stage-%zu", stage->index);
	return buf;
}

/*
 * The refs of every stage, its deps, and the errors BuildKit raises on them: a stage that
 * depends on itself through COPY/mount (a cycle).
 */
static int resolve_refs(bale_stages *st)
{
	struct ref_list list = {0};
	int rc = 0;

	for (size_t s = 0; s < st->nstages; s++) {
		bale_stage *stage = &st->stages[s];
		size_t b = base_stage(st, s), *deps, ndeps = 0;

		list.n = 0;
		/* The ONBUILD triggers of a base stage run here, before this stage's own. */
		if (b != BALE_NO_STAGE) {
			for (size_t k = 0; k < st->nonbuilds[b]; k++) {
				size_t i = st->onbuilds[b][k];
				const bale_command *t = st->cmds[i].onbuild.trigger;

				if (t && (rc = command_refs(st, s, t, i, true, &list)) != 0)
					goto out;
			}
		}
		for (size_t i = stage->instruction + 1; i < stage->end; i++)
			if (may_have_refs(&st->cmds[i]) &&
			    (rc = command_refs(st, s, &st->cmds[i], i, false, &list)) != 0)
				goto out;
		if (list.n) {
			bale_stage_ref *refs = bale_arena_alloc(&st->arena, list.n * sizeof(*refs));

			if (!refs) {
				rc = BALE_ENOMEM;
				goto out;
			}
			memcpy(refs, list.v, list.n * sizeof(*refs));
			stage->refs = refs;
			stage->nrefs = list.n;
		}
		deps = bale_arena_alloc(&st->arena, (list.n + 1) * sizeof(*deps));
		if (!deps) {
			rc = BALE_ENOMEM;
			goto out;
		}
		if (b != BALE_NO_STAGE)
			deps[ndeps++] = b;
		for (size_t r = 0; r < list.n; r++)
			if (list.v[r].kind == BALE_REF_STAGE)
				deps[ndeps++] = list.v[r].stage;
		if (ndeps > 1)
			qsort(deps, ndeps, sizeof(*deps), cmp_size);
		size_t u = 0;
		for (size_t k = 0; k < ndeps; k++)
			if (!u || deps[u - 1] != deps[k])
				deps[u++] = deps[k];
		stage->deps = deps;
		stage->ndeps = u;
	}
out:
	free(list.v);
	return rc;
}

/*
 * BuildKit's validateCircularDependency over the COPY/mount edges (forward ones included;
 * ONBUILD ones are added after its check): an iterative depth-first search.
 */
static int check_cycles(bale_stages *st)
{
	/* 0 new, 1 on path, 2 done */
	unsigned char *state = bale_arena_calloc(&st->arena, st->nstages, 1);
	struct frame {
		size_t stage, next;
	} *stack = bale_arena_alloc(&st->arena, st->nstages * sizeof(*stack));
	int rc = 0;

	if (!state || !stack)
		return BALE_ENOMEM;
	for (size_t root = 0; root < st->nstages; root++) {
		size_t depth = 0;

		if (state[root])
			continue;
		stack[depth++] = (struct frame){root, 0};
		state[root] = 1;
		while (depth) {
			struct frame *f = &stack[depth - 1];
			const bale_stage *stage = &st->stages[f->stage];

			if (f->next == stage->nrefs) {
				state[f->stage] = 2;
				depth--;
				continue;
			}
			const bale_stage_ref *ref = &stage->refs[f->next++];

			if (ref->onbuild ||
			    (ref->kind != BALE_REF_STAGE && ref->kind != BALE_REF_LATER_STAGE))
				continue;
			if (state[ref->stage] == 1) {
				char label[32];

				rc = df_error_at(
				    st->file, &st->instrs[ref->instruction],
				    "circular dependency detected on stage: %s",
				    stage_label(&st->stages[root], label, sizeof(label)));
				goto out;
			}
			if (!state[ref->stage]) {
				state[ref->stage] = 1;
				stack[depth++] = (struct frame){ref->stage, 0};
			}
		}
	}
out:
	return rc;
}

static int reachability(bale_stages *st, const char *target)
{
	size_t *stack, depth = 0;

	if (target) {
		st->target = find_name(st, target, true);
		if (st->target == BALE_NO_STAGE) {
			bale_buf q = BALE_BUF_INIT;

			df_go_quote(&q, target);
			bale_error_set(BALE_EINVAL, "%s: target stage %s could not be found",
				       st->file, q.err ? target : q.ptr);
			bale_buf_release(&q);
			return BALE_EINVAL;
		}
	} else {
		st->target = st->nstages - 1;
	}
	stack = bale_arena_alloc(&st->arena, st->nstages * sizeof(*stack));
	if (!stack)
		return BALE_ENOMEM;
	st->stages[st->target].reachable = true;
	stack[depth++] = st->target;
	while (depth) {
		const bale_stage *stage = &st->stages[stack[--depth]];

		for (size_t k = 0; k < stage->ndeps; k++) {
			bale_stage *dep = &st->stages[stage->deps[k]];

			if (!dep->reachable) {
				dep->reachable = true;
				stack[depth++] = dep->index;
			}
		}
	}

	/* What BuildKit fails on when it dispatches a stage it needs. */
	for (size_t s = 0; s < st->nstages; s++) {
		const bale_stage *stage = &st->stages[s];
		size_t b = base_stage(st, s);
		char l1[32], l2[32];

		if (!stage->reachable)
			continue;
		for (size_t r = 0; r < stage->nrefs; r++) {
			const bale_stage_ref *ref = &stage->refs[r];

			if (ref->kind == BALE_REF_LATER_STAGE && ref->via == BALE_VIA_COPY)
				return df_error_at(
				    st->file, &st->instrs[ref->instruction],
				    "cannot copy from stage \"%s\", it needs to be defined before "
				    "current stage \"%s\"",
				    ref->name, stage_label(&st->stages[s], l1, sizeof(l1)));
		}
		if (b == BALE_NO_STAGE)
			continue;
		for (size_t k = 0; k < st->nonbuilds[b]; k++) {
			size_t i = st->onbuilds[b][k];

			if (st->cmds[i].onbuild.error)
				return bale_error_set(
				    BALE_EPARSE, "%s (ONBUILD trigger run in stage %s)",
				    st->cmds[i].onbuild.error, stage_label(stage, l2, sizeof(l2)));
		}
	}
	return 0;
}

struct var_list {
	bale_var *v;
	size_t n, alloc;
};

/*
 * Expands `word` in stage scope at `pos` for building the scope. In a stage the target does
 * not need, BuildKit never expands it, so an error there keeps the word as written.
 */
static int scope_expand(bale_stages *st, size_t s, size_t i, uint64_t pos, const char *word,
			const char **out)
{
	if (expand_value(st, true, (uint32_t)(s + 1), pos, word, out)) {
		if (st->stages[s].reachable || bale_error_last()->code == BALE_ENOMEM)
			return expand_error(st, i);
		bale_error_clear();
		*out = word;
	}
	return 0;
}

/*
 * Whether scope_command() has work with `cmd`: an ENV or an ARG. Asked before the call, which
 * the other instructions then do not pay for.
 */
static bool defines_vars(const bale_command *cmd)
{
	return cmd->kind == BALE_INSTR_ENV || cmd->kind == BALE_INSTR_ARG;
}

/* Applies the ARG/ENV definitions of `cmd` (instruction `i`) to stage `s` at `base_pos`. */
static int scope_command(bale_stages *st, size_t s, const bale_command *cmd, size_t i,
			 uint64_t base_pos, bool onbuild, struct var_list *vars)
{
	uint32_t scope = (uint32_t)(s + 1);
	int rc;

	if (cmd->kind == BALE_INSTR_ENV) {
		size_t first = vars->n;

		/* Every pair is expanded before any is set, as BuildKit does. */
		for (size_t p = 0; p < cmd->pairs.n; p++) {
			bale_var var = {0};

			if ((rc = scope_expand(st, s, i, base_pos, cmd->pairs.v[p].key,
					       &var.name)) ||
			    (rc = scope_expand(st, s, i, base_pos, cmd->pairs.v[p].value,
					       &var.value)))
				return rc;
			var.word = cmd->pairs.v[p].value;
			var.instruction = i;
			var.is_env = true;
			var.onbuild = onbuild;
			if (BALE_ARRAY_RESERVE(vars->v, vars->alloc, vars->n + 1))
				return BALE_ENOMEM;
			vars->v[vars->n++] = var;
		}
		for (size_t p = 0; p < cmd->pairs.n; p++)
			if ((rc = add_def(st, scope, vars->v[first + p].name, base_pos + p,
					  vars->v[first + p].value)) != 0)
				return rc;
		return 0;
	}
	if (cmd->kind != BALE_INSTR_ARG)
		return 0;
	for (size_t p = 0; p < cmd->pairs.n; p++) {
		const bale_kv *kv = &cmd->pairs.v[p];
		const char *given = build_arg(st, kv->key);
		bale_var var = {0};
		struct found f = {false, NULL};

		var.name = kv->key;
		var.word = kv->value;
		var.instruction = i;
		var.onbuild = onbuild;
		if (given) {
			var.value = given;
			var.from_build_arg = true;
		} else if (kv->value) {
			if ((rc = scope_expand(st, s, i, base_pos + p, kv->value, &var.value)) != 0)
				return rc;
		} else {
			if ((rc = lookup(st, true, 0, POS_END, kv->key, strlen(kv->key), &f)) != 0)
				return rc;
			if (f.value) {
				var.value = f.value;
				var.from_global = true;
			}
		}
		if (!var.value) {
			/* Declared without value: whatever was set before stays. */
			if ((rc = lookup(st, true, scope, base_pos + p, kv->key, strlen(kv->key),
					 &f)) != 0)
				return rc;
		}
		if ((rc = add_def(st, scope, kv->key, base_pos + p,
				  var.value ? var.value : f.value)))
			return rc;
		if (BALE_ARRAY_RESERVE(vars->v, vars->alloc, vars->n + 1))
			return BALE_ENOMEM;
		vars->v[vars->n++] = var;
	}
	return 0;
}

static int scopes(bale_stages *st)
{
	struct var_list vars = {0};
	int rc = 0;

	for (size_t s = 0; s < st->nstages; s++) {
		bale_stage *stage = &st->stages[s];
		size_t b = base_stage(st, s), k = 0;

		vars.n = 0;
		if (b != BALE_NO_STAGE) {
			for (size_t o = 0; o < st->nonbuilds[b]; o++) {
				size_t i = st->onbuilds[b][o];
				const bale_command *t = st->cmds[i].onbuild.trigger;

				if (!t)
					continue;
				/* Triggers run right after FROM: positions between it and the next.
				 */
				rc = scope_command(st, s, t, i,
						   pos_of(stage->instruction, 1 + (k << 16)), true,
						   &vars);
				if (rc)
					goto out;
				k++;
			}
		}
		for (size_t i = stage->instruction + 1; i < stage->end; i++)
			if (defines_vars(&st->cmds[i]) &&
			    (rc =
				 scope_command(st, s, &st->cmds[i], i, pos_of(i, 0), false, &vars)))
				goto out;
		if (vars.n) {
			bale_var *v = bale_arena_alloc(&st->arena, vars.n * sizeof(*v));

			if (!v) {
				rc = BALE_ENOMEM;
				goto out;
			}
			memcpy(v, vars.v, vars.n * sizeof(*v));
			stage->vars = v;
			stage->nvars = vars.n;
		}
	}
out:
	free(vars.v);
	return rc;
}

static int copy_opts(bale_stages *st, const bale_stage_opts *opts)
{
	bale_build_arg *args;

	if (!opts || !opts->nbuild_args)
		return 0;
	args = bale_arena_calloc(&st->arena, opts->nbuild_args, sizeof(*args));
	if (!args)
		return BALE_ENOMEM;
	for (size_t i = 0; i < opts->nbuild_args; i++) {
		args[i].name = bale_arena_strdup(&st->arena, opts->build_args[i].name);
		args[i].value = opts->build_args[i].value
				    ? bale_arena_strdup(&st->arena, opts->build_args[i].value)
				    : NULL;
		if (!args[i].name || (opts->build_args[i].value && !args[i].value))
			return BALE_ENOMEM;
	}
	st->build_args = args;
	st->nbuild_args = opts->nbuild_args;
	return 0;
}

int bale_dockerfile_stages(bale_stages **out, const bale_dockerfile *df,
			   const bale_stage_opts *opts)
{
	bale_stages *st = calloc(1, sizeof(*st));
	const char *target = opts ? opts->target : NULL, *target_name;
	int rc;

	*out = NULL;
	if (!st)
		return bale_error_oom();
	st->value = (bale_buf)BALE_BUF_INIT;
	st->df = df;
	st->file = bale_dockerfile_filename(df);
	st->escape = bale_dockerfile_escape(df);
	st->instrs = bale_dockerfile_instructions(df, &st->ninstrs);
	st->target = BALE_NO_STAGE;
	if (st->ninstrs >= ((size_t)1 << 31)) {
		rc = bale_error_set(BALE_ELIMIT, "%s: too many instructions", st->file);
		goto fail;
	}
	if ((rc = copy_opts(st, opts)) || (rc = layout(st)))
		goto fail;
	/* The caller's --target must outlive the call: TARGETSTAGE keeps a copy. */
	target_name =
	    target ? bale_arena_strdup(&st->arena, target) : st->stages[st->nstages - 1].name;
	if (target && !target_name) {
		rc = BALE_ENOMEM;
		goto fail;
	}
	if ((rc = add_builtin_args(st, opts ? opts->platform : NULL, target_name)) ||
	    (rc = global_args(st)) || (rc = resolve_bases(st)) || (rc = forest(st)) ||
	    (rc = resolve_refs(st)) || (rc = check_cycles(st)) || (rc = reachability(st, target)) ||
	    (rc = scopes(st)))
		goto fail;
	*out = st;
	return 0;
fail:
	if (rc == BALE_ENOMEM && bale_error_last()->code != BALE_ENOMEM)
		bale_error_oom();
	bale_stages_free(st);
	return rc;
}

void bale_stages_free(bale_stages *st)
{
	if (!st)
		return;
	bale_buf_release(&st->value);
	bale_arena_release(&st->arena);
	free(st);
}

const bale_command *bale_stages_commands(const bale_stages *st, size_t *count)
{
	*count = st->ninstrs;
	return st->cmds;
}

const bale_stage *bale_stages_list(const bale_stages *st, size_t *count)
{
	*count = st->nstages;
	return st->stages;
}

const bale_var *bale_stages_global_args(const bale_stages *st, size_t *count)
{
	*count = st->nglobals;
	return st->globals;
}

size_t bale_stages_target(const bale_stages *st)
{
	return st->target;
}

size_t bale_stages_stage_of(const bale_stages *st, size_t index)
{
	return index < st->ninstrs ? st->stage_of[index] : BALE_NO_STAGE;
}

size_t bale_stages_find(const bale_stages *st, const char *name)
{
	return find_name(st, name, true);
}

/* --- expansion API ------------------------------------------------------------------------ */

void bale_expansion_release(bale_expansion *exp)
{
	for (size_t i = 0; i < exp->nwords; i++)
		if (exp->words[i].value != exp->words[i].word) /* not a word shared as it is */
			free(exp->words[i].value);
	free(exp->words);
	exp->words = NULL;
	exp->nwords = exp->alloc = 0;
	bale_words_release(&exp->used);
	bale_words_release(&exp->undefined);
}

/* The scope and position BuildKit expands instruction `index` in. */
static void scope_of(const bale_stages *st, size_t index, uint32_t *scope, uint64_t *pos)
{
	size_t s = st->stage_of[index];

	if (s == BALE_NO_STAGE) {
		*scope = 0;
		*pos = pos_of(index, 0);
	} else if (st->instrs[index].kind == BALE_INSTR_FROM) {
		*scope = 0;
		*pos = POS_END;
	} else {
		*scope = (uint32_t)(s + 1);
		*pos = pos_of(index, 0);
	}
}

static int check_index(const bale_stages *st, size_t index)
{
	if (index >= st->ninstrs)
		return bale_error_set(BALE_EINVAL, "no instruction %zu (the file has %zu)", index,
				      st->ninstrs);
	return 0;
}

int bale_stages_expand_word(char **out, const bale_stages *st, size_t index, const char *word,
			    bale_expansion *vars)
{
	uint32_t scope;
	uint64_t pos;
	int rc;

	bale_buf res = BALE_BUF_INIT;

	*out = NULL;
	if ((rc = check_index(st, index)) != 0)
		return rc;
	scope_of(st, index, &scope, &pos);
	/* Lookups without memo only read the model. */
	if (expand_at((bale_stages *)st, false, scope, pos, word, false, &res, NULL, vars, NULL)) {
		bale_buf_release(&res);
		return expand_error(st, index);
	}
	return (*out = detach_value(&res)) ? 0 : BALE_ENOMEM;
}

int bale_stages_expand_fields(bale_words *out, const bale_stages *st, size_t index,
			      const char *word, bale_expansion *vars)
{
	uint32_t scope;
	uint64_t pos;
	int rc;

	if ((rc = check_index(st, index)) != 0)
		return rc;
	scope_of(st, index, &scope, &pos);
	if (expand_at((bale_stages *)st, false, scope, pos, word, false, NULL, out, vars, NULL))
		return expand_error(st, index);
	return 0;
}

struct exp_job {
	const bale_stages *st;
	bale_expansion *out;
	size_t index;
	uint32_t scope;
	uint64_t pos;
	struct seen_names *seen; /* names only: no words kept, no out->used (see record_name()) */
};

static int add_word(struct exp_job *j, const char *field, size_t item, const char *word, bool raw)
{
	bale_expanded_word *w;
	bale_buf res = BALE_BUF_INIT;
	char *value = NULL;

	if (!word)
		return 0;
	if (expands_to_itself(word)) {
		/* The common word: shared as it is, without the expander or a copy. */
		value = (char *)word;
	} else if (expand_at((bale_stages *)j->st, false, j->scope, j->pos, word, raw, &res, NULL,
			     j->out, j->seen)) {
		bale_buf_release(&res);
		return expand_error(j->st, j->index);
	} else if (!j->seen && !(value = detach_value(&res))) {
		return BALE_ENOMEM;
	}
	if (j->seen)
		return 0; /* names only: no value was made */
	if (BALE_ARRAY_RESERVE(j->out->words, j->out->alloc, j->out->nwords + 1)) {
		if (value != word)
			free(value);
		return BALE_ENOMEM;
	}
	w = &j->out->words[j->out->nwords++];
	w->field = field;
	w->item = item;
	w->word = word;
	w->value = value;
	return 0;
}

static int add_fields(struct exp_job *j, const char *field, size_t item, const char *word)
{
	bale_words words = BALE_WORDS_INIT;
	int rc = 0;

	if (expand_at((bale_stages *)j->st, false, j->scope, j->pos, word, false, NULL, &words,
		      j->out, j->seen)) {
		bale_words_release(&words);
		return expand_error(j->st, j->index);
	}
	for (size_t k = 0; !j->seen && k < words.n; k++) {
		bale_expanded_word *w;

		if (BALE_ARRAY_RESERVE(j->out->words, j->out->alloc, j->out->nwords + 1)) {
			rc = BALE_ENOMEM;
			break;
		}
		w = &j->out->words[j->out->nwords++];
		w->field = field;
		w->item = item;
		w->word = word;
		w->value = words.v[k];
		words.v[k] = NULL;
	}
	bale_words_release(&words);
	return rc;
}

static const char *mount_field(const char *key)
{
	static const struct {
		const char *key, *field;
	} map[] = {{"type", "mount.type"},
		   {"from", "mount.from"},
		   {"source", "mount.source"},
		   {"src", "mount.source"},
		   {"target", "mount.target"},
		   {"dst", "mount.target"},
		   {"destination", "mount.target"},
		   {"readonly", "mount.readonly"},
		   {"ro", "mount.readonly"},
		   {"readwrite", "mount.readwrite"},
		   {"rw", "mount.readwrite"},
		   {"required", "mount.required"},
		   {"size", "mount.size"},
		   {"id", "mount.id"},
		   {"sharing", "mount.sharing"},
		   {"mode", "mount.mode"},
		   {"uid", "mount.uid"},
		   {"gid", "mount.gid"},
		   {"env", "mount.env"}};

	for (size_t i = 0; i < BALE_ARRAY_SIZE(map); i++)
		if (map[i].key[0] == key[0] && !strcmp(key, map[i].key))
			return map[i].field;
	return "mount";
}

/* Expands the words of instruction j.index, as bale_stages_expand_instruction() documents. */
static int expand_job(struct exp_job j)
{
	const bale_stages *st = j.st;
	size_t index = j.index;
	const bale_command *c;
	int rc = 0;

	if ((rc = check_index(st, index)) != 0)
		return rc;
	c = &st->cmds[index];
	scope_of(st, index, &j.scope, &j.pos);
	switch (c->kind) {
	case BALE_INSTR_FROM:
		if ((rc = add_word(&j, "base", 0, c->from.image, false)) == 0)
			rc = add_word(&j, "platform", 0, c->from.platform, false);
		break;
	case BALE_INSTR_ARG:
		for (size_t p = 0; !rc && p < c->pairs.n; p++) {
			/* Each value sees the ARGs before it; a --build-arg value is not expanded.
			 */
			if (!c->pairs.v[p].value || build_arg(st, c->pairs.v[p].key))
				continue;
			j.pos = pos_of(index, p);
			rc = add_word(&j, "arg_value", p, c->pairs.v[p].value, false);
		}
		break;
	case BALE_INSTR_ENV:
	case BALE_INSTR_LABEL: {
		bool env = c->kind == BALE_INSTR_ENV;

		for (size_t p = 0; !rc && p < c->pairs.n; p++) {
			rc = add_word(&j, env ? "env_key" : "label_key", p, c->pairs.v[p].key,
				      false);
			if (!rc)
				rc = add_word(&j, env ? "env_value" : "label_value", p,
					      c->pairs.v[p].value, false);
		}
		break;
	}
	case BALE_INSTR_COPY:
	case BALE_INSTR_ADD:
		rc = add_word(&j, "chown", 0, c->copy.chown, false);
		if (!rc && c->kind == BALE_INSTR_ADD)
			rc = add_word(&j, "checksum", 0, c->copy.checksum, false);
		for (size_t k = 0; !rc && k < c->copy.nsources; k++)
			rc = add_word(&j, "source", k, c->copy.sources[k], false);
		if (!rc)
			rc = add_word(&j, "dest", 0, c->copy.dest, false);
		/* Inline file bodies: BuildKit's raw expansion, with '\\' as escape. */
		for (size_t k = 0; !rc && k < c->copy.ncontents; k++)
			if (c->copy.contents[k].expand)
				rc = add_word(&j, "content", k, c->copy.contents[k].data, true);
		break;
	case BALE_INSTR_WORKDIR:
		rc = add_word(&j, "path", 0, c->value, false);
		break;
	case BALE_INSTR_USER:
		rc = add_word(&j, "user", 0, c->value, false);
		break;
	case BALE_INSTR_STOPSIGNAL:
		rc = add_word(&j, "signal", 0, c->value, false);
		break;
	case BALE_INSTR_VOLUME:
		for (size_t k = 0; !rc && k < c->list.n; k++)
			rc = add_word(&j, "volume", k, c->list.v[k], false);
		break;
	case BALE_INSTR_EXPOSE:
		for (size_t k = 0; !rc && k < c->list.n; k++)
			rc = add_fields(&j, "port", k, c->list.v[k]);
		break;
	case BALE_INSTR_RUN:
		for (size_t k = 0; !rc && k < c->run.nmounts; k++) {
			const bale_mount *m = &c->run.mounts[k];

			for (size_t f = 0; !rc && f < m->nfields; f++)
				if (m->fields[f].value)
					rc = add_word(&j, mount_field(m->fields[f].key), k,
						      m->fields[f].value, false);
		}
		break;
	default:
		break;
	}
	return rc;
}

int bale_stages_expand_instruction(bale_expansion *out, const bale_stages *st, size_t index)
{
	struct exp_job j = {st, out, index, 0, 0, NULL};

	return expand_job(j);
}

int bale_stages_undefined_vars(bale_words *out, const bale_stages *st, size_t index)
{
	bale_expansion rec = BALE_EXPANSION_INIT;
	struct seen_names seen;
	struct exp_job j = {st, &rec, index, 0, 0, &seen};
	int rc;

	seen.ptr = seen.small;
	seen.len = 0;
	seen.cap = sizeof(seen.small);
	seen.work = (bale_buf)BALE_BUF_INIT;

	/* Of rec only `undefined` is filled: it is `out` itself, so the names are appended. */
	rec.undefined = *out;
	rc = expand_job(j);
	*out = rec.undefined;
	if (seen.ptr != seen.small)
		free(seen.ptr);
	bale_buf_release(&seen.work);
	return rc;
}
