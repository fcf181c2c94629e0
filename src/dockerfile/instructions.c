/*
 * The typed instruction layer: what BuildKit's instructions.Parse does with each AST node.
 *
 * Flags are read with the semantics of BuildKit's BFlags: each instruction declares the flags
 * it takes; "--name=value" gives a value, a bare "--name" is only valid for booleans, a flag may
 * repeat only when it is a list (--mount, --exclude), and the first problem ends the parse with
 * BuildKit's message. The checks run in BuildKit's order, so the first error reported is the
 * one `docker build` reports. RUN --mount values are read as BuildKit reads them when it runs the
 * stage (CSV fields, defaults per type), which is stricter than its parse-time pass: a build
 * of the stage would fail on them.
 *
 * All results live in the arena of the bale_stages being built; nothing here is freed alone.
 */
#include "dockerfile/instructions.h"
#include "util/unicode.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct ctx {
	bale_arena *arena;
	const char *file;
	const bale_instruction *ins;
};

/* --- messages ----------------------------------------------------------------------------- */

int df_error_at(const char *file, const bale_instruction *ins, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bale_error_set(BALE_EPARSE, "%s:%u:%u: %s", file, ins->start_line, ins->start_col,
			      msg);
}

void df_go_quote(bale_buf *out, const char *s)
{
	bale_go_quote(out, s, strlen(s));
}

/* A Go-quoted copy of `s` in a small static buffer: only for building one error message. */
static const char *quoted(const char *s)
{
	static _Thread_local char text[512];
	bale_buf buf = BALE_BUF_INIT;

	df_go_quote(&buf, s);
	snprintf(text, sizeof(text), "%s", buf.err ? "\"\"" : buf.ptr);
	bale_buf_release(&buf);
	return text;
}

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return df_error_at(c->file, c->ins, "%s", msg);
}

/* Levenshtein distance, capped: only "is it below 3" matters for suggestions. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], i, j;

	if (lb >= BALE_ARRAY_SIZE(row) || la >= 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static void lower_into(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < cap && src[i]; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/*
 * BuildKit's suggest.WrapError: the closest option at distance below 3, written into `out` as
 * " (did you mean X?)", or "" when there is none or `val` is itself an option.
 */
static const char *suggest(char *out, size_t cap, const char *val, const char *const *options,
			   size_t noptions, bool case_sensitive)
{
	char lval[128], lopt[128];
	const char *match = NULL;
	size_t best = 3;

	out[0] = '\0';
	if (case_sensitive)
		snprintf(lval, sizeof(lval), "%.127s", val);
	else
		lower_into(lval, sizeof(lval), val);
	for (size_t i = 0; i < noptions; i++) {
		size_t d;

		if (case_sensitive)
			snprintf(lopt, sizeof(lopt), "%.127s", options[i]);
		else
			lower_into(lopt, sizeof(lopt), options[i]);
		if (strcmp(lval, lopt) == 0)
			return out;
		d = edit_distance(lval, lopt);
		if (d < best) {
			best = d;
			match = options[i];
		}
	}
	if (match) {
		bool all_lower = true, all_upper = true;
		char m[128];

		for (const char *p = val; *p; p++) {
			if (islower((unsigned char)*p))
				all_upper = false;
			if (isupper((unsigned char)*p))
				all_lower = false;
		}
		snprintf(m, sizeof(m), "%.127s", match);
		if (!case_sensitive) {
			for (char *p = m; *p; p++) {
				if (all_lower)
					*p = (char)tolower((unsigned char)*p);
				else if (all_upper)
					*p = (char)toupper((unsigned char)*p);
			}
		}
		snprintf(out, cap, " (did you mean %s?)", m);
	}
	return out;
}

/* --- small helpers ------------------------------------------------------------------------ */

static char *dup(struct ctx *c, const char *s, size_t len)
{
	return bale_arena_strndup(c->arena, s, len);
}

/*
 * Whether `s` is `key` in any case, `key` being lower-case ASCII letters only (a shorter `s`
 * stops at its NUL, which matches no letter).
 */
static bool ascii_ieq(const char *s, const char *key)
{
	size_t n = strlen(key);

	return bale_ascii_nieq(s, key, n) && s[n] == '\0';
}

/* Whether the `len` bytes at `s` are `name` (NUL-terminated) exactly. */
static bool is_name(const char *name, const char *s, size_t len)
{
	size_t k = 0;

	while (k < len && name[k] == s[k])
		k++;
	return k == len && name[k] == '\0';
}

static char *lower_dup(struct ctx *c, const char *s)
{
	char *d = dup(c, s, strlen(s));

	if (d)
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* strconv.ParseBool */
static bool parse_go_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < BALE_ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* strconv.ParseUint(s, base, 32) for base 8 or 10: digits only, no sign, no prefix. */
static bool parse_go_uint32(const char *s, unsigned base, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*s < '0' || d >= base)
			return false;
		v = v * base + d;
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/*
 * Whether path.Clean() leaves `s` as it is: not empty, and no element empty, "." or ".." (which
 * also rules out a '/' at the end, but for the root itself). Cache mount targets nearly always
 * are, and are then not copied.
 */
static bool path_is_clean(const char *s)
{
	if (*s == '/' && *++s == '\0')
		return true;
	for (;;) {
		const char *e = s;

		while (*e && *e != '/')
			e++;
		if (e == s || (s[0] == '.' && (e - s == 1 || (e - s == 2 && s[1] == '.'))))
			return false;
		if (!*e)
			return true;
		s = e + 1;
	}
}

const char *df_path_clean(bale_arena *arena, const char *path)
{
	size_t n;
	char *out;

	if (path_is_clean(path))
		return path;
	n = strlen(path);
	out = bale_arena_alloc(arena, n + 2);
	if (out)
		bale_path_clean(out, path, n);
	return out;
}

char *df_path_base(bale_arena *arena, const char *path)
{
	size_t n = strlen(path), start;

	if (n == 0)
		return bale_arena_strdup(arena, ".");
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return bale_arena_strdup(arena, "/");
	start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return bale_arena_strndup(arena, path + start, n - start);
}

const char *df_mount_type_name(bale_mount_type type)
{
	static const char *const names[] = {"bind", "cache", "tmpfs", "secret", "ssh"};

	return (size_t)type < BALE_ARRAY_SIZE(names) ? names[type] : "bind";
}

const char *df_mount_sharing_name(bale_mount_sharing sharing)
{
	static const char *const names[] = {"shared", "private", "locked"};

	return (size_t)sharing < BALE_ARRAY_SIZE(names) ? names[sharing] : "shared";
}

/* --- BFlags ------------------------------------------------------------------------------- */

enum flag_type { FLAG_BOOL, FLAG_STRING, FLAG_STRINGS };

struct flag_spec {
	const char *name;
	size_t len; /* strlen(name): a flag is compared with the names of its length only */
	enum flag_type type;
	const char *def; /* default value of a string flag */
};

/* A flag_spec of the string literal `name`, its length counted by the compiler. */
#define FLAG_SPEC(name, type, def)                                                                 \
	{                                                                                          \
		name, sizeof(name) - 1, type, def                                                  \
	}

struct flag_value {
	bool used;
	bool on;	   /* bool flags */
	const char *value; /* string flags: the value, or the default */
	const char **values;
	size_t nvalues;
};

/* The flags as written, split at '=' (also for instructions that do not parse flags). */
static int split_flags(struct ctx *c, bale_command *out)
{
	const bale_instruction *ins = c->ins;
	bale_flag *flags;

	if (!ins->nflags)
		return 0;
	flags = bale_arena_calloc(c->arena, ins->nflags, sizeof(*flags));
	if (!flags)
		return BALE_ENOMEM;
	for (size_t i = 0; i < ins->nflags; i++) {
		const char *f = ins->flags[i], *eq = strchr(f, '=');
		const char *name = strncmp(f, "--", 2) == 0 ? f + 2 : f;

		flags[i].name = dup(c, name, eq ? (size_t)(eq - name) : strlen(name));
		flags[i].value = eq ? eq + 1 : NULL;
		if (!flags[i].name)
			return BALE_ENOMEM;
	}
	out->flags = flags;
	out->nflags = ins->nflags;
	return 0;
}

/* The first `len` bytes of flag `arg` as a string in `buf`: messages only, so made for them. */
static const char *flag_label(char *buf, size_t cap, const char *arg, size_t len)
{
	size_t shown = len < cap ? len : cap - 1;

	memcpy(buf, arg, shown);
	buf[shown] = '\0';
	return buf;
}

static int parse_flags(struct ctx *c, const struct flag_spec *specs, size_t nspecs,
		       struct flag_value *vals)
{
	const bale_instruction *ins = c->ins;

	for (size_t s = 0; s < nspecs; s++)
		vals[s] = (struct flag_value){.value = specs[s].def};
	for (size_t i = 0; i < ins->nflags; i++) {
		const char *arg = ins->flags[i], *eq, *value;
		char flag_name[256], hint[160];
		const char *names[16];
		size_t name_len, s;
		struct flag_value *v;

		if (arg[0] != '-' || arg[1] != '-')
			return fail(c, "arg should start with -- : %s", arg);
		if (arg[2] == '\0')
			return 0;
		eq = strchr(arg, '=');
		name_len = eq ? (size_t)(eq - arg) : strlen(arg);
		value = eq ? eq + 1 : "";
		for (s = 0; s < nspecs; s++)
			if (specs[s].len == name_len - 2 &&
			    is_name(specs[s].name, arg + 2, name_len - 2))
				break;
		if (s == nspecs) {
			flag_label(flag_name, sizeof(flag_name), arg, name_len);
			for (size_t k = 0; k < nspecs && k < BALE_ARRAY_SIZE(names); k++)
				names[k] = specs[k].name;
			return fail(c, "unknown flag: %s%s", flag_name,
				    suggest(hint, sizeof(hint), flag_name + 2, names,
					    nspecs < 16 ? nspecs : 16, true));
		}
		v = &vals[s];
		if (v->used && specs[s].type != FLAG_STRINGS)
			return fail(c, "duplicate flag specified: %s",
				    flag_label(flag_name, sizeof(flag_name), arg, name_len));
		v->used = true;
		switch (specs[s].type) {
		case FLAG_BOOL:
			if (eq && !*value)
				return fail(
				    c, "missing a value on flag: %s",
				    flag_label(flag_name, sizeof(flag_name), arg, name_len));
			if (!*value || ascii_ieq(value, "true"))
				v->on = true;
			else if (ascii_ieq(value, "false"))
				v->on = false;
			else
				return fail(c, "expecting boolean value for flag %s, not: %s",
					    flag_label(flag_name, sizeof(flag_name), arg, name_len),
					    value);
			break;
		case FLAG_STRING:
			if (!eq)
				return fail(
				    c, "missing a value on flag: %s",
				    flag_label(flag_name, sizeof(flag_name), arg, name_len));
			v->value = value;
			break;
		case FLAG_STRINGS:
			if (!eq)
				return fail(
				    c, "missing a value on flag: %s",
				    flag_label(flag_name, sizeof(flag_name), arg, name_len));
			/* Room for every flag of the instruction at once: no regrowth. */
			if (!v->values && !(v->values = bale_arena_alloc(
						c->arena, ins->nflags * sizeof(*v->values))))
				return BALE_ENOMEM;
			v->values[v->nvalues++] = value;
			break;
		}
	}
	return 0;
}

/* For instructions that take no flags: any flag is an unknown one. */
static int no_flags(struct ctx *c)
{
	return parse_flags(c, NULL, 0, NULL);
}

/* --- argument helpers --------------------------------------------------------------------- */

static int need_exactly_one(struct ctx *c, const char *cmd)
{
	return c->ins->nargs != 1 ? fail(c, "%s requires exactly one argument", cmd) : 0;
}

static int need_one(struct ctx *c, const char *cmd)
{
	return c->ins->nargs == 0 ? fail(c, "%s requires at least one argument", cmd) : 0;
}

/* BuildKit's handleJSONArgs: JSON elements as they are; shell form joined into one string. */
static int json_args(struct ctx *c, const char *const *args, size_t nargs, const char *const **out,
		     size_t *nout)
{
	bale_buf joined = BALE_BUF_INIT;
	const char **one;

	if (nargs == 0 || c->ins->json) {
		*out = args;
		*nout = nargs;
		return 0;
	}
	if (nargs == 1) {
		*out = args;
		*nout = 1;
		return 0;
	}
	for (size_t i = 0; i < nargs; i++) {
		if (i)
			bale_buf_addch(&joined, ' ');
		bale_buf_adds(&joined, args[i]);
	}
	one = bale_arena_alloc(c->arena, sizeof(*one));
	if (joined.err || !one) {
		bale_buf_release(&joined);
		return bale_error_oom();
	}
	one[0] = dup(c, joined.ptr, joined.len);
	bale_buf_release(&joined);
	if (!one[0])
		return BALE_ENOMEM;
	*out = one;
	*nout = 1;
	return 0;
}

/* ENV and LABEL arguments come as (key, value, "=" or "") triples. */
static int parse_kvps(struct ctx *c, bale_command *out, const char *cmd)
{
	const bale_instruction *ins = c->ins;
	bale_kv *kv;

	if (ins->nargs == 0)
		return fail(c, "%s requires at least one argument", cmd);
	if (ins->nargs % 3 != 0)
		return fail(c, "Bad input to %s, too many arguments", cmd);
	kv = bale_arena_calloc(c->arena, ins->nargs / 3, sizeof(*kv));
	if (!kv)
		return BALE_ENOMEM;
	for (size_t i = 0; i < ins->nargs; i += 3) {
		if (!ins->args[i][0])
			return fail(c, "%s names can not be blank", cmd);
		kv[i / 3].key = ins->args[i];
		kv[i / 3].value = ins->args[i + 1];
		kv[i / 3].legacy = ins->args[i + 2][0] == '\0';
	}
	out->pairs.v = kv;
	out->pairs.n = ins->nargs / 3;
	return 0;
}

/* --- RUN --mount -------------------------------------------------------------------------- */

#if defined(__SSE2__)
/* A bit per byte of p[0, 16) that is ',' or '"'. */
static unsigned csv_stops16(const char *p, unsigned unused)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	(void)unused;
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
							_mm_cmpeq_epi8(v, _mm_set1_epi8('"'))));
}
#endif

/*
 * strcspn(s + i, ",\"") + i, `n` being strlen(s). Fields are short: SSE2, where it is there,
 * tests sixteen bytes a step with no call, the last ones read as the sixteen that end `s`.
 */
static size_t csv_plain_end(const char *s, size_t n, size_t i)
{
#if defined(__SSE2__)
	if (bale_find16(s, n, &i, csv_stops16, 0))
		return i;
#endif
	while (i < n && s[i] != ',' && s[i] != '"')
		i++;
	return i;
}

int df_csv_fields(bale_arena *arena, const char *s, char ***fields_out, size_t *nout, char *err,
		  size_t err_cap)
{
	size_t n = strlen(s), i = 0, count = 0, alloc = 8;
	char **fields = bale_arena_alloc(arena, alloc * sizeof(*fields));
	/*
	 * One copy of the whole value holds every field: a field is cut from it by a NUL where its
	 * comma or closing quote was, and a quoted one is undoubled in place (it only shrinks).
	 * The scan reads `s`, so the writes never disturb it.
	 */
	char *copy = bale_arena_strndup(arena, s, n);

	if (!fields || !copy)
		return BALE_ENOMEM;
	for (;;) {
		char *field;

		if (i < n && s[i] == '"') {
			size_t col = i + 1, start = i + 1, w = 0;

			/* Find the closing quote ("" is a quote inside), then undouble. */
			for (i = start;; i++) {
				if (i >= n) {
					snprintf(err, err_cap,
						 "parse error on line 1, column %zu: extraneous or "
						 "missing \" in quoted-field",
						 col);
					return BALE_EPARSE;
				}
				if (s[i] != '"')
					continue;
				if (i + 1 < n && s[i + 1] == '"')
					i++;
				else
					break;
			}
			field = copy + start;
			for (size_t r = start; r < i; r++) {
				field[w++] = s[r];
				if (s[r] == '"')
					r++; /* the second quote of a pair */
			}
			field[w] = '\0';
			i++; /* the closing quote */
			if (i < n && s[i] != ',') {
				snprintf(
				    err, err_cap,
				    "parse error on line 1, column %zu: extraneous or missing \" "
				    "in quoted-field",
				    i + 1);
				return BALE_EPARSE;
			}
		} else {
			size_t start = i;

			i = csv_plain_end(s, n, i);
			if (s[i] == '"') {
				snprintf(err, err_cap,
					 "parse error on line 1, column %zu: bare \" in "
					 "non-quoted-field",
					 i + 1);
				return BALE_EPARSE;
			}
			field = copy + start;
			copy[i] = '\0';
		}
		if (count == alloc) {
			char **grown =
			    bale_arena_grow(arena, fields, count, &alloc, 8, sizeof(*grown));

			if (!grown)
				return BALE_ENOMEM;
			fields = grown;
		}
		fields[count++] = field;
		if (i >= n)
			break;
		i++; /* the comma */
	}
	*fields_out = fields;
	*nout = count;
	return 0;
}

static int csv_fields(struct ctx *c, const char *s, char ***fields, size_t *n)
{
	char err[200];
	int rc = df_csv_fields(c->arena, s, fields, n, err, sizeof(err));

	if (rc == BALE_EPARSE)
		return fail(c, "failed to parse csv mounts: %s", err);
	return rc;
}

/* go-units RAMInBytes: "64m", "1.5 GiB", "512" (binary multiples). */
static bool parse_ram_bytes(const char *s, int64_t *out)
{
	const char *p = s;
	double v = 0, scale = 1;
	double mult = 1;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		v = v * 10 + (*p++ - '0');
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p)) {
			scale /= 10;
			v += (*p++ - '0') * scale;
		}
		if (*p == '.')
			return false;
	}
	if (*p == ' ')
		p++;
	switch (tolower((unsigned char)*p)) {
	case 'k':
		mult = 1024.0, p++;
		break;
	case 'm':
		mult = 1024.0 * 1024, p++;
		break;
	case 'g':
		mult = 1024.0 * 1024 * 1024, p++;
		break;
	case 't':
		mult = 1024.0 * 1024 * 1024 * 1024, p++;
		break;
	case 'p':
		mult = 1024.0 * 1024 * 1024 * 1024 * 1024, p++;
		break;
	default:
		break;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v * mult > 9.2e18)
		return false;
	*out = (int64_t)(v * mult);
	return true;
}

/* The keys of a --mount field, in the order of mount_keys[]. */
enum mount_key {
	MK_TYPE,
	MK_FROM,
	MK_SOURCE,
	MK_TARGET,
	MK_READONLY,
	MK_ID,
	MK_SHARING,
	MK_REQUIRED,
	MK_SIZE,
	MK_MODE,
	MK_UID,
	MK_GID,
	MK_SRC,
	MK_DST,
	MK_DESTINATION,
	MK_RO,
	MK_RW,
	MK_READWRITE,
	MK_ENV,
	MK_UNKNOWN
};

static const char *const mount_keys[] = {
    "type", "from", "source", "target", "readonly",    "id", "sharing", "required",  "size", "mode",
    "uid",  "gid",  "src",    "dst",	"destination", "ro", "rw",	"readwrite", "env"};

/*
 * The keys by length: those of length n are by_length[length_from[n], length_from[n + 1]), so a
 * field is compared with the few keys of its length only.
 */
static const unsigned char by_length[] = {
    MK_ID,	MK_RO,	     MK_RW,	  MK_UID,	MK_GID,	       MK_SRC,	  MK_DST,
    MK_ENV,	MK_TYPE,     MK_FROM,	  MK_SIZE,	MK_MODE,       MK_SOURCE, MK_TARGET,
    MK_SHARING, MK_READONLY, MK_REQUIRED, MK_READWRITE, MK_DESTINATION};
static const unsigned char length_from[] = {0, 0, 0, 3, 8, 12, 12, 14, 15, 17, 18, 18, 19};
_Static_assert(sizeof(by_length) == BALE_ARRAY_SIZE(mount_keys), "every key, once");
_Static_assert(sizeof(length_from) == 13 && MK_UNKNOWN == 19, "lengths up to 11");

/* The key of `len` bytes at `s`, in any case (BuildKit lower-cases keys). */
static enum mount_key mount_key_of(const char *s, size_t len)
{
	unsigned char first;

	if (len == 0 || len >= BALE_ARRAY_SIZE(length_from) - 1)
		return MK_UNKNOWN;
	first = (unsigned char)bale_ascii_lower(s[0]);
	for (size_t i = length_from[len]; i < length_from[len + 1]; i++) {
		const char *key = mount_keys[by_length[i]];

		if ((unsigned char)key[0] == first && bale_ascii_nieq(s + 1, key + 1, len - 1))
			return (enum mount_key)by_length[i];
	}
	return MK_UNKNOWN;
}

/* The mount types, in the order of bale_mount_type. */
static const char *const types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
_Static_assert(BALE_ARRAY_SIZE(types) == BALE_MOUNT_SSH + 1, "a name per mount type");

/*
 * The bale_mount_type that `value` names, in any case, or BALE_ARRAY_SIZE(types) when none: the
 * first letter picks the one type to compare ('s' the one of its length).
 */
static size_t mount_type_of(const char *value)
{
	size_t t;

	switch (value[0] | 0x20) {
	case 'b':
		t = BALE_MOUNT_BIND;
		break;
	case 'c':
		t = BALE_MOUNT_CACHE;
		break;
	case 't':
		t = BALE_MOUNT_TMPFS;
		break;
	case 's':
		t = value[1] && value[2] && value[3] ? BALE_MOUNT_SECRET : BALE_MOUNT_SSH;
		break;
	default:
		return BALE_ARRAY_SIZE(types);
	}
	return ascii_ieq(value, types[t]) ? t : BALE_ARRAY_SIZE(types);
}

/* Fills `m`, zeroed by the caller, from the --mount value `raw`. */
static int parse_mount(struct ctx *c, const char *raw, bale_mount *m)
{
	static const char *const sharings[] = {"shared", "private", "locked"};
	char **fields, hint[160];
	size_t nfields;
	bale_kv *kvs;
	bool ro_auto = true, sharing_given = false;
	int rc;

	m->raw = raw;
	if ((rc = csv_fields(c, raw, &fields, &nfields)) != 0)
		return rc;
	/*
	 * Not zeroed: the loop sets each field in full, and a failure part way returns before
	 * parse_run() stores the mounts in the command. `nfields` is at most the value's length
	 * plus one, so the size cannot overflow.
	 */
	m->fields = kvs = bale_arena_alloc(c->arena, nfields * sizeof(*kvs));
	if (!kvs)
		return BALE_ENOMEM;
	m->nfields = nfields;
	for (size_t i = 0; i < nfields; i++) {
		char *field = fields[i], *eq = strchr(field, '=');
		size_t klen = eq ? (size_t)(eq - field) : strlen(field);
		enum mount_key k = mount_key_of(field, klen);
		const char *key, *value;
		bool b;

		/* A known key's lower-case spelling is the table's; only an unknown one is copied.
		 */
		if (k != MK_UNKNOWN) {
			key = mount_keys[k];
		} else {
			char *lower = dup(c, field, klen);

			if (!lower)
				return BALE_ENOMEM;
			for (char *p = lower; *p; p++)
				*p = bale_ascii_lower(*p);
			key = lower;
		}
		kvs[i] = (bale_kv){.key = key, .value = eq ? eq + 1 : NULL};
		if (!eq) {
			if (k == MK_READONLY || k == MK_RO) {
				m->readonly = true;
				ro_auto = false;
			} else if (k == MK_READWRITE || k == MK_RW) {
				m->readonly = false;
				ro_auto = false;
			} else if (k == MK_REQUIRED) {
				if (m->type != BALE_MOUNT_SECRET && m->type != BALE_MOUNT_SSH)
					return fail(c, "unexpected key '%s' for mount type '%s'",
						    key, df_mount_type_name(m->type));
				m->required = true;
			} else {
				return fail(c, "invalid field '%s' must be a key=value pair",
					    field);
			}
			continue;
		}
		value = eq + 1;
		/* A value with a variable is checked after expansion: only typed keys ask. */
		switch (k) {
		case MK_FROM: {
			const char *dollar = strchr(value, '$');

			if (dollar && dollar[1])
				return fail(c,
					    "'%s' doesn't support variable expansion, define alias "
					    "stage instead",
					    key);
			m->from = value;
			break;
		}
		case MK_TYPE: {
			size_t t = mount_type_of(value);

			/* No type holds a '$', so one that matched needs no test for it. */
			if (t == BALE_ARRAY_SIZE(types) && strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			if (t == BALE_ARRAY_SIZE(types))
				return fail(c, "unsupported mount type %s%s", quoted(value),
					    suggest(hint, sizeof(hint), value, types,
						    BALE_ARRAY_SIZE(types), true));
			m->type = (bale_mount_type)t;
			break;
		}
		case MK_SOURCE:
		case MK_SRC:
			m->source = value;
			break;
		case MK_TARGET:
		case MK_DST:
		case MK_DESTINATION:
			m->target = value;
			break;
		case MK_READONLY:
		case MK_RO:
		case MK_READWRITE:
		case MK_RW: {
			bool rw = k == MK_READWRITE || k == MK_RW;

			ro_auto = false;
			if (strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			if (!parse_go_bool(value, &b))
				return fail(c, "invalid value for %s: %s", key, value);
			m->readonly = rw ? !b : b;
			break;
		}
		case MK_REQUIRED:
			if (m->type != BALE_MOUNT_SECRET && m->type != BALE_MOUNT_SSH)
				return fail(c, "unexpected key '%s' for mount type '%s'", key,
					    df_mount_type_name(m->type));
			if (strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			if (!parse_go_bool(value, &b))
				return fail(c, "invalid value for %s: %s", key, value);
			m->required = b;
			break;
		case MK_SIZE:
			if (m->type != BALE_MOUNT_TMPFS)
				return fail(c, "unexpected key '%s' for mount type '%s'", key,
					    df_mount_type_name(m->type));
			if (strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			if (!parse_ram_bytes(value, &m->size))
				return fail(c, "invalid value for %s: %s", key, value);
			m->has_size = true;
			break;
		case MK_ID:
			m->id = value;
			break;
		case MK_SHARING: {
			size_t sh;

			sharing_given = true;
			if (strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			for (sh = 0; sh < BALE_ARRAY_SIZE(sharings); sh++)
				if (ascii_ieq(value, sharings[sh]))
					break;
			if (sh == BALE_ARRAY_SIZE(sharings))
				return fail(c, "unsupported sharing value %s%s", quoted(value),
					    suggest(hint, sizeof(hint), value, sharings,
						    BALE_ARRAY_SIZE(sharings), true));
			m->sharing = (bale_mount_sharing)sh;
			break;
		}
		case MK_MODE:
		case MK_UID:
		case MK_GID: {
			uint32_t v;

			if (strchr(value, '$')) {
				m->unresolved = true;
				continue;
			}
			if (!parse_go_uint32(value, k == MK_MODE ? 8 : 10, &v))
				return fail(c, "invalid value %s for %s", value, key);
			if (k == MK_MODE)
				m->mode = v, m->has_mode = true;
			else if (k == MK_UID)
				m->uid = v, m->has_uid = true;
			else
				m->gid = v, m->has_gid = true;
			break;
		}
		case MK_ENV:
			m->env = value;
			break;
		case MK_UNKNOWN:
		default:
			return fail(c, "unexpected key '%s' in '%s'%s", key, field,
				    suggest(hint, sizeof(hint), key, mount_keys,
					    BALE_ARRAY_SIZE(mount_keys), true));
		}
	}

	if (m->type != BALE_MOUNT_SECRET && m->type != BALE_MOUNT_SSH &&
	    m->type != BALE_MOUNT_CACHE && (m->has_mode || m->has_uid || m->has_gid)) {
		/* Quoted only for the message: most bind and tmpfs mounts have none of them. */
		const char *t = quoted(df_mount_type_name(m->type));

		if (m->has_mode)
			return fail(c, "mode not allowed for %s type mounts", t);
		if (m->has_uid)
			return fail(c, "uid not allowed for %s type mounts", t);
		if (m->has_gid)
			return fail(c, "gid not allowed for %s type mounts", t);
	}
	if (ro_auto)
		m->readonly = m->type != BALE_MOUNT_CACHE && m->type != BALE_MOUNT_TMPFS;
	if (m->type == BALE_MOUNT_SECRET) {
		bool no_source = !m->source || !*m->source, no_id = !m->id || !*m->id;

		if (m->from && *m->from)
			return fail(c, "secret mount should not have a from");
		if (sharing_given)
			return fail(c, "secret mount should not define sharing");
		if (no_source && (!m->target || !*m->target) && no_id)
			return fail(c, "invalid secret mount. one of source, target required");
		if (!no_source && !no_id)
			return fail(c, "both source and id can't be set");
	}
	if (sharing_given && m->type != BALE_MOUNT_CACHE)
		return fail(c, "invalid cache sharing set for %s mount",
			    df_mount_type_name(m->type));

	/* The defaults BuildKit applies when it runs the mount. */
	switch (m->type) {
	case BALE_MOUNT_CACHE:
		if ((!m->id || !*m->id) && m->target) {
			if (!(m->id = df_path_clean(c->arena, m->target)))
				return BALE_ENOMEM;
			m->id_defaulted = true;
		}
		break;
	case BALE_MOUNT_SECRET:
		if (m->source && *m->source) {
			m->id = m->source;
			m->id_defaulted = true;
		} else if (!m->id || !*m->id) {
			if (!(m->id = df_path_base(c->arena, m->target)))
				return BALE_ENOMEM;
			m->id_defaulted = true;
		}
		if (!m->env && (!m->target || !*m->target)) {
			char *base = df_path_base(c->arena, m->id);
			bale_buf t = BALE_BUF_INIT;

			if (!base)
				return BALE_ENOMEM;
			bale_buf_addf(&t, "/run/secrets/%s", base);
			m->target = t.err ? NULL : dup(c, t.ptr, t.len);
			bale_buf_release(&t);
			if (!m->target)
				return bale_error_oom();
			m->target_defaulted = true;
		}
		break;
	case BALE_MOUNT_SSH:
		if (!m->id || !*m->id) {
			m->id = "default";
			m->id_defaulted = true;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* RUN --device (BuildKit's ParseDevice). */
static int parse_device(struct ctx *c, const char *raw, bale_device *d)
{
	static const char *const keys[] = {"name", "required"};
	char **fields, hint[160];
	size_t nfields;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = csv_fields(c, raw, &fields, &nfields)) != 0)
		return rc;
	for (size_t i = 0; i < nfields; i++) {
		char *field = fields[i], *eq = strchr(field, '='), *key = lower_dup(c, field);

		if (!key)
			return BALE_ENOMEM;
		if (!eq) {
			if (!strcmp(key, "required")) {
				d->required = true;
			} else if (!d->name || !*d->name) {
				d->name = field;
			} else {
				return fail(c, "invalid field '%s' must be a key=value pair",
					    field);
			}
			continue;
		}
		key[eq - field] = '\0';
		if (!strcmp(key, "name")) {
			if (d->name && *d->name)
				return fail(c, "device name already set to %s", d->name);
			d->name = eq + 1;
		} else if (!strcmp(key, "required")) {
			if (!parse_go_bool(eq + 1, &d->required))
				return fail(c, "invalid value for %s: %s", key, eq + 1);
		} else if (!d->name || !*d->name) {
			d->name = field;
		} else {
			return fail(c, "unexpected key '%s' in '%s'%s", key, field,
				    suggest(hint, sizeof(hint), key, keys, 2, true));
		}
	}
	return 0;
}

/* --- durations (Go's time.ParseDuration) -------------------------------------------------- */

static int duration_error(struct ctx *c, const char *what, const char *unit, const char *orig)
{
	char q[256];

	snprintf(q, sizeof(q), "%.255s", quoted(orig));
	if (unit)
		return fail(c, "time: unknown unit %s in duration %s", quoted(unit), q);
	return fail(c, "time: %s duration %s", what, q);
}

static int parse_go_duration(struct ctx *c, const char *orig, int64_t *out)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1},	     {"us", 1000},	{"\xc2\xb5s", 1000},   {"\xce\xbcs", 1000},
	    {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000ull}, {"h", 3600000000000ull}};
	const uint64_t limit = (uint64_t)1 << 63;
	const char *s = orig;
	uint64_t d = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return duration_error(c, "invalid", NULL, orig);
	while (*s) {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		bool pre = false, post = false, overflow = false;
		char ubuf[64];
		size_t ulen = 0;

		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return duration_error(c, "invalid", NULL, orig);
		for (; *s >= '0' && *s <= '9'; s++) {
			pre = true;
			if (v > limit / 10)
				return duration_error(c, "invalid", NULL, orig);
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > limit)
				return duration_error(c, "invalid", NULL, orig);
		}
		if (*s == '.') {
			s++;
			for (; *s >= '0' && *s <= '9'; s++) {
				post = true;
				if (overflow)
					continue;
				if (f > (UINT64_MAX >> 1) / 10) {
					overflow = true;
					continue;
				}
				f = f * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
		if (!pre && !post)
			return duration_error(c, "invalid", NULL, orig);
		while (s[ulen] && s[ulen] != '.' && !(s[ulen] >= '0' && s[ulen] <= '9'))
			ulen++;
		if (ulen == 0)
			return duration_error(c, "missing unit in", NULL, orig);
		for (size_t u = 0; u < BALE_ARRAY_SIZE(units); u++)
			if (is_name(units[u].name, s, ulen))
				unit = units[u].ns;
		if (!unit) {
			snprintf(ubuf, sizeof(ubuf), "%.*s", (int)ulen, s);
			return duration_error(c, NULL, ubuf, orig);
		}
		s += ulen;
		if (v > limit / unit)
			return duration_error(c, "invalid", NULL, orig);
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > limit)
				return duration_error(c, "invalid", NULL, orig);
		}
		d += v;
		if (d > limit)
			return duration_error(c, "invalid", NULL, orig);
	}
	if (neg) {
		*out = d == limit ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > limit - 1)
		return duration_error(c, "invalid", NULL, orig);
	*out = (int64_t)d;
	return 0;
}

/* BuildKit's parseOptInterval: "" and 0 mean the default; below 1ms is refused. */
static int parse_interval(struct ctx *c, const char *name, const char *value, int64_t *out)
{
	int rc;

	*out = 0;
	if (!value || !*value)
		return 0;
	if ((rc = parse_go_duration(c, value, out)) != 0)
		return rc;
	if (*out != 0 && *out < 1000000)
		return fail(c, "Interval \"%s\" cannot be less than 1ms", name);
	return 0;
}

/* strconv.ParseInt(s, 10, 32) */
static int parse_retries(struct ctx *c, const char *s, int *out)
{
	const char *p = s;
	bool neg = false;
	int64_t v = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!*p)
		goto syntax;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto syntax;
		v = v * 10 + (*p - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return fail(c, "strconv.ParseInt: parsing %s: value out of range",
				    quoted(s));
	}
	if (neg)
		v = -v;
	if (v > INT32_MAX || v < INT32_MIN)
		return fail(c, "strconv.ParseInt: parsing %s: value out of range", quoted(s));
	*out = (int)v;
	return 0;
syntax:
	return fail(c, "strconv.ParseInt: parsing %s: invalid syntax", quoted(s));
}

/* --- per instruction ---------------------------------------------------------------------- */

static int parse_from(struct ctx *c, bale_command *out)
{
	static const struct flag_spec specs[] = {FLAG_SPEC("platform", FLAG_STRING, NULL)};
	const bale_instruction *ins = c->ins;
	struct flag_value vals[1];
	int rc;

	if (ins->nargs == 3 && ascii_ieq(ins->args[1], "as")) {
		char *name = lower_dup(c, ins->args[2]);

		if (!name)
			return BALE_ENOMEM;
		bool ok = name[0] >= 'a' && name[0] <= 'z';
		for (const char *p = name + 1; ok && *p; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			     *p == '_' || *p == '.';
		if (!ok)
			return fail(c,
				    "invalid name for build stage: %s, name can't start with a "
				    "number or contain symbols",
				    quoted(ins->args[2]));
		out->from.name = name;
		out->from.name_as_written = ins->args[2];
	} else if (ins->nargs != 1) {
		return fail(c, "FROM requires either one or three arguments");
	}
	if ((rc = parse_flags(c, specs, 1, vals)) != 0)
		return rc;
	out->from.image = ins->args[0];
	out->from.platform = vals[0].used ? vals[0].value : NULL;
	return 0;
}

static int parse_run(struct ctx *c, bale_command *out)
{
	static const struct flag_spec specs[] = {FLAG_SPEC("device", FLAG_STRINGS, NULL),
						 FLAG_SPEC("mount", FLAG_STRINGS, NULL),
						 FLAG_SPEC("network", FLAG_STRING, "default"),
						 FLAG_SPEC("security", FLAG_STRING, "sandbox")};
	struct flag_value vals[4];
	int rc;

	if ((rc = parse_flags(c, specs, 4, vals)) != 0)
		return rc;
	if ((rc = json_args(c, c->ins->args, c->ins->nargs, &out->cmdline.args,
			    &out->cmdline.nargs)) != 0)
		return rc;
	out->cmdline.prepend_shell = !c->ins->json;

	if (vals[0].nvalues) {
		bale_device *devs = bale_arena_calloc(c->arena, vals[0].nvalues, sizeof(*devs));

		if (!devs)
			return BALE_ENOMEM;
		for (size_t i = 0; i < vals[0].nvalues; i++)
			if ((rc = parse_device(c, vals[0].values[i], &devs[i])) != 0)
				return rc;
		out->run.devices = devs;
		out->run.ndevices = vals[0].nvalues;
	}
	if (vals[1].nvalues) {
		bale_mount *mounts = bale_arena_calloc(c->arena, vals[1].nvalues, sizeof(*mounts));

		if (!mounts)
			return BALE_ENOMEM;
		for (size_t i = 0; i < vals[1].nvalues; i++)
			if ((rc = parse_mount(c, vals[1].values[i], &mounts[i])) != 0)
				return rc;
		out->run.mounts = mounts;
		out->run.nmounts = vals[1].nvalues;
	}
	/* The defaults are valid: only a value given is checked. */
	if (vals[2].used && strcmp(vals[2].value, "default") && strcmp(vals[2].value, "none") &&
	    strcmp(vals[2].value, "host"))
		return fail(c, "invalid network mode %s", quoted(vals[2].value));
	if (vals[3].used && strcmp(vals[3].value, "sandbox") && strcmp(vals[3].value, "insecure"))
		return fail(c, "security %s is not valid", quoted(vals[3].value));
	out->run.network = vals[2].value;
	out->run.security = vals[3].value;
	return 0;
}

static int parse_cmd_like(struct ctx *c, bale_command *out)
{
	int rc;

	if ((rc = no_flags(c)) != 0)
		return rc;
	if ((rc = json_args(c, c->ins->args, c->ins->nargs, &out->cmdline.args,
			    &out->cmdline.nargs)) != 0)
		return rc;
	out->cmdline.prepend_shell = !c->ins->json;
	return 0;
}

/*
 * The name of the heredoc whose word goes on with `p` (after "<<" and any '-'): the word
 * expanded, when it makes one word. Apart from heredoc_word() and never inlined there, so that
 * the words that start no heredoc, nearly all, cost no set-up of the expander's.
 */
static __attribute__((noinline)) int heredoc_name(struct ctx *c, const char *p, const char **name,
						  bool *is)
{
	bale_shell_opts opts = {0};
	bale_words words = BALE_WORDS_INIT;
	int rc;

	opts.escape = '\\';
	opts.skip_unset = true;
	rc = bale_shell_expand_words(&words, p, strlen(p), &opts);
	if (rc == 0 && words.n == 1) {
		*name = dup(c, words.v[0], strlen(words.v[0]));
		*is = *name != NULL;
		if (!*name)
			rc = BALE_ENOMEM;
	} else if (rc) {
		/* MustParseHeredoc ignores lexing errors: the word is then a plain path. */
		bale_error_clear();
		rc = 0;
	}
	bale_words_release(&words);
	return rc;
}

/*
 * BuildKit's MustParseHeredoc on a COPY/ADD word: "[fd]<<[-]WORD" where WORD lexes to one
 * word, which is the heredoc's name. Returns true and sets *name and *chomp when it is one.
 */
static int heredoc_word(struct ctx *c, const char *w, const char **name, bool *chomp, bool *is)
{
	const char *p = w;

	*is = false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	*chomp = *p == '-';
	if (*chomp)
		p++;
	if (!*p || strchr(p, '<'))
		return 0;
	return heredoc_name(c, p, name, is);
}

static char *chomp_tabs(struct ctx *c, const char *s)
{
	size_t n = strlen(s), w = 0;
	bool line_start = true;
	char *out = bale_arena_alloc(c->arena, n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (line_start && s[i] == '\t')
			continue;
		line_start = s[i] == '\n';
		out[w++] = s[i];
	}
	out[w] = '\0';
	return out;
}

static int sources_and_dest(struct ctx *c, bale_command *out, const char *cmd)
{
	const bale_instruction *ins = c->ins;
	const char **sources;
	bale_copy_content *contents;
	const char *name;
	bool chomp, is;
	int rc;

	if ((rc = heredoc_word(c, ins->args[ins->nargs - 1], &name, &chomp, &is)) != 0)
		return rc;
	if (is)
		return fail(c, "%s cannot accept a heredoc as a destination", cmd);
	out->copy.dest = ins->args[ins->nargs - 1];
	sources = bale_arena_calloc(c->arena, ins->nargs, sizeof(*sources));
	/* Inline files are rare: their array is made for the first one. */
	contents = NULL;
	if (!sources)
		return BALE_ENOMEM;
	for (size_t i = 0; i + 1 < ins->nargs; i++) {
		if ((rc = heredoc_word(c, ins->args[i], &name, &chomp, &is)) != 0)
			return rc;
		if (!is) {
			sources[out->copy.nsources++] = ins->args[i];
			continue;
		}
		if (!contents &&
		    !(contents = bale_arena_calloc(c->arena, ins->nargs, sizeof(*contents))))
			return BALE_ENOMEM;
		bale_copy_content *ct = &contents[out->copy.ncontents++];
		const bale_heredoc *doc = NULL;

		/* BuildKit looks the body up by name; the last heredoc of that name wins. */
		for (size_t h = 0; h < ins->nheredocs; h++)
			if (!strcmp(ins->heredocs[h].name, name))
				doc = &ins->heredocs[h];
		ct->name = name;
		ct->expand = doc ? doc->expand : true;
		ct->data = doc ? doc->content : "";
		if (chomp && !(ct->data = chomp_tabs(c, ct->data)))
			return BALE_ENOMEM;
	}
	out->copy.sources = sources;
	out->copy.contents = contents;
	return 0;
}

static int parse_copy_add(struct ctx *c, bale_command *out, bool add)
{
	static const struct flag_spec copy_specs[] = {
	    FLAG_SPEC("exclude", FLAG_STRINGS, NULL), FLAG_SPEC("parents", FLAG_BOOL, NULL),
	    FLAG_SPEC("chown", FLAG_STRING, NULL),    FLAG_SPEC("from", FLAG_STRING, NULL),
	    FLAG_SPEC("chmod", FLAG_STRING, NULL),    FLAG_SPEC("link", FLAG_BOOL, NULL)};
	static const struct flag_spec add_specs[] = {
	    FLAG_SPEC("exclude", FLAG_STRINGS, NULL), FLAG_SPEC("parents", FLAG_BOOL, NULL),
	    FLAG_SPEC("chown", FLAG_STRING, NULL),    FLAG_SPEC("chmod", FLAG_STRING, NULL),
	    FLAG_SPEC("link", FLAG_BOOL, NULL),	      FLAG_SPEC("keep-git-dir", FLAG_BOOL, NULL),
	    FLAG_SPEC("checksum", FLAG_STRING, NULL), FLAG_SPEC("unpack", FLAG_BOOL, NULL)};
	const char *cmd = add ? "ADD" : "COPY";
	struct flag_value vals[8];
	int rc;

	if (c->ins->nargs < 2)
		return fail(c,
			    "%s requires at least two arguments, but only one was provided. "
			    "Destination could not be determined",
			    cmd);
	if (add)
		rc = parse_flags(c, add_specs, BALE_ARRAY_SIZE(add_specs), vals);
	else
		rc = parse_flags(c, copy_specs, BALE_ARRAY_SIZE(copy_specs), vals);
	if (rc)
		return rc;
	if ((rc = sources_and_dest(c, out, cmd)) != 0)
		return rc;
	out->copy.excludes = vals[0].values;
	out->copy.nexcludes = vals[0].nvalues;
	out->copy.parents = vals[1].on;
	out->copy.chown = vals[2].used ? vals[2].value : NULL;
	out->copy.unpack = -1;
	if (add) {
		out->copy.chmod = vals[3].used ? vals[3].value : NULL;
		out->copy.link = vals[4].on;
		out->copy.keep_git_dir = vals[5].on;
		out->copy.checksum = vals[6].used ? vals[6].value : NULL;
		if (vals[7].used)
			out->copy.unpack = vals[7].on;
	} else {
		out->copy.from = vals[3].used ? vals[3].value : NULL;
		out->copy.chmod = vals[4].used ? vals[4].value : NULL;
		out->copy.link = vals[5].on;
	}
	return 0;
}

static int parse_healthcheck(struct ctx *c, bale_command *out)
{
	static const struct flag_spec specs[] = {
	    FLAG_SPEC("interval", FLAG_STRING, ""), FLAG_SPEC("timeout", FLAG_STRING, ""),
	    FLAG_SPEC("start-period", FLAG_STRING, ""),
	    FLAG_SPEC("start-interval", FLAG_STRING, ""), FLAG_SPEC("retries", FLAG_STRING, "")};
	const bale_instruction *ins = c->ins;
	struct flag_value vals[5];
	char *type;
	int rc;

	if ((rc = need_one(c, "HEALTHCHECK")) != 0)
		return rc;
	type = dup(c, ins->args[0], strlen(ins->args[0]));
	if (!type)
		return BALE_ENOMEM;
	for (char *p = type; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	if (!strcmp(type, "NONE")) {
		if (ins->nargs != 1)
			return fail(c, "HEALTHCHECK NONE takes no arguments");
		out->health.type = BALE_HEALTH_NONE;
		return 0;
	}
	if ((rc = parse_flags(c, specs, 5, vals)) != 0)
		return rc;
	if (strcmp(type, "CMD"))
		return fail(c, "Unknown type %s in HEALTHCHECK (try CMD)", quoted(type));
	if ((rc = json_args(c, ins->args + 1, ins->nargs - 1, &out->health.test,
			    &out->health.ntest)) != 0)
		return rc;
	if (out->health.ntest == 0)
		return fail(c, "Missing command after HEALTHCHECK CMD");
	out->health.type = ins->json ? BALE_HEALTH_CMD : BALE_HEALTH_CMD_SHELL;
	if ((rc = parse_interval(c, "interval", vals[0].value, &out->health.interval)) ||
	    (rc = parse_interval(c, "timeout", vals[1].value, &out->health.timeout)) ||
	    (rc = parse_interval(c, "start-period", vals[2].value, &out->health.start_period)) ||
	    (rc = parse_interval(c, "start-interval", vals[3].value, &out->health.start_interval)))
		return rc;
	if (*vals[4].value) {
		if ((rc = parse_retries(c, vals[4].value, &out->health.retries)) != 0)
			return rc;
		if (out->health.retries < 0)
			return fail(c, "--retries cannot be negative (%d)", out->health.retries);
	}
	return 0;
}

static int parse_arg(struct ctx *c, bale_command *out)
{
	const bale_instruction *ins = c->ins;
	bale_kv *kv;
	int rc;

	if ((rc = need_one(c, "ARG")) != 0)
		return rc;
	kv = bale_arena_calloc(c->arena, ins->nargs, sizeof(*kv));
	if (!kv)
		return BALE_ENOMEM;
	for (size_t i = 0; i < ins->nargs; i++) {
		const char *eq = strchr(ins->args[i], '=');

		if (eq == ins->args[i])
			return fail(c, "ARG names can not be blank");
		kv[i].key = eq ? dup(c, ins->args[i], (size_t)(eq - ins->args[i])) : ins->args[i];
		kv[i].value = eq ? eq + 1 : NULL;
		if (!kv[i].key)
			return BALE_ENOMEM;
	}
	out->pairs.v = kv;
	out->pairs.n = ins->nargs;
	return 0;
}

static int parse_onbuild(struct ctx *c, bale_command *out)
{
	const bale_instruction *ins = c->ins, *sub = ins->sub;
	const char *o = ins->original;
	bale_buf expr = BALE_BUF_INIT;
	char *trigger;
	int rc;

	if (!sub)
		return fail(c, "ONBUILD requires at least one argument");
	if ((rc = no_flags(c)) != 0)
		return rc;
	if (sub->kind == BALE_INSTR_ONBUILD)
		return fail(c, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (sub->kind == BALE_INSTR_FROM || sub->kind == BALE_INSTR_MAINTAINER)
		return fail(c, "%s isn't allowed as an ONBUILD trigger",
			    bale_instr_kind_name(sub->kind));

	/* The expression: the line without "ONBUILD" (any case) and the spaces around it. */
	while (isspace((unsigned char)*o))
		o++;
	if (strlen(o) >= 7 && bale_ascii_nieq(o, "onbuild", 7)) {
		o += 7;
		while (isspace((unsigned char)*o))
			o++;
	}
	bale_buf_adds(&expr, o);
	for (size_t i = 0; i < ins->nheredocs; i++) {
		bale_buf_addch(&expr, '\n');
		bale_buf_adds(&expr, ins->heredocs[i].content);
		bale_buf_adds(&expr, ins->heredocs[i].name);
	}
	trigger = expr.err ? NULL : dup(c, expr.ptr, expr.len);
	bale_buf_release(&expr);
	if (!trigger)
		return bale_error_oom();
	out->onbuild.expression = trigger;

	/* The trigger itself is checked only where it runs; keep its error for that stage. */
	bale_command *tc = bale_arena_calloc(c->arena, 1, sizeof(*tc));

	if (!tc)
		return BALE_ENOMEM;
	rc = df_command_build(tc, sub, c->arena, c->file);
	if (rc == BALE_ENOMEM)
		return rc;
	if (rc) {
		out->onbuild.error = bale_arena_strdup(c->arena, bale_error_last()->message);
		bale_error_clear();
		if (!out->onbuild.error)
			return BALE_ENOMEM;
	} else {
		out->onbuild.trigger = tc;
	}
	return 0;
}

static int parse_volume(struct ctx *c, bale_command *out)
{
	const bale_instruction *ins = c->ins;
	const char **v;
	int rc;

	if ((rc = need_one(c, "VOLUME")) != 0 || (rc = no_flags(c)) != 0)
		return rc;
	v = bale_arena_calloc(c->arena, ins->nargs, sizeof(*v));
	if (!v)
		return BALE_ENOMEM;
	for (size_t i = 0; i < ins->nargs; i++) {
		const char *s = ins->args[i], *e;

		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (e == s)
			return fail(c, "VOLUME specified can not be an empty string");
		if (!(v[i] = dup(c, s, (size_t)(e - s))))
			return BALE_ENOMEM;
	}
	out->list.v = v;
	out->list.n = ins->nargs;
	return 0;
}

static int parse_single(struct ctx *c, bale_command *out, const char *cmd, bool flags)
{
	int rc;

	if ((rc = need_exactly_one(c, cmd)) != 0)
		return rc;
	if (flags && (rc = no_flags(c)) != 0)
		return rc;
	out->value = c->ins->args[0];
	return 0;
}

static int parse_unknown(struct ctx *c)
{
	static const char *const names[] = {
	    "ADD",    "ARG",   "CMD",	      "COPY",  "ENTRYPOINT", "ENV",
	    "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
	    "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};
	const char *word = c->ins->keyword ? c->ins->keyword : c->ins->name;
	char hint[160];

	return fail(c, "unknown instruction: %s%s", word,
		    suggest(hint, sizeof(hint), word, names, BALE_ARRAY_SIZE(names), false));
}

int df_command_build(bale_command *out, const bale_instruction *ins, bale_arena *arena,
		     const char *file)
{
	struct ctx c = {arena, file, ins};
	int rc;

	/* Zeroed and set as one compound literal, which the compiler does in fewer instructions. */
	*out = (bale_command){.node = ins, .kind = ins->kind, .copy.unpack = -1};
	if ((rc = split_flags(&c, out)) != 0)
		return rc;

	switch (ins->kind) {
	case BALE_INSTR_ENV:
		if ((rc = no_flags(&c)) != 0)
			return rc;
		return parse_kvps(&c, out, "ENV");
	case BALE_INSTR_MAINTAINER:
		return parse_single(&c, out, "MAINTAINER", true);
	case BALE_INSTR_LABEL:
		if ((rc = no_flags(&c)) != 0)
			return rc;
		return parse_kvps(&c, out, "LABEL");
	case BALE_INSTR_ADD:
		return parse_copy_add(&c, out, true);
	case BALE_INSTR_COPY:
		return parse_copy_add(&c, out, false);
	case BALE_INSTR_FROM:
		return parse_from(&c, out);
	case BALE_INSTR_ONBUILD:
		return parse_onbuild(&c, out);
	case BALE_INSTR_WORKDIR:
		return parse_single(&c, out, "WORKDIR", true);
	case BALE_INSTR_RUN:
		return parse_run(&c, out);
	case BALE_INSTR_CMD:
	case BALE_INSTR_ENTRYPOINT:
		return parse_cmd_like(&c, out);
	case BALE_INSTR_HEALTHCHECK:
		return parse_healthcheck(&c, out);
	case BALE_INSTR_EXPOSE:
		if ((rc = need_one(&c, "EXPOSE")) != 0 || (rc = no_flags(&c)) != 0)
			return rc;
		out->list.v = ins->args;
		out->list.n = ins->nargs;
		return 0;
	case BALE_INSTR_USER:
		return parse_single(&c, out, "USER", true);
	case BALE_INSTR_VOLUME:
		return parse_volume(&c, out);
	case BALE_INSTR_STOPSIGNAL:
		/* BuildKit does not read STOPSIGNAL's flags. */
		return parse_single(&c, out, "STOPSIGNAL", false);
	case BALE_INSTR_ARG:
		/* Nor ARG's. */
		return parse_arg(&c, out);
	case BALE_INSTR_SHELL:
		if ((rc = no_flags(&c)) != 0)
			return rc;
		if ((rc = json_args(&c, ins->args, ins->nargs, &out->cmdline.args,
				    &out->cmdline.nargs)) != 0)
			return rc;
		if (out->cmdline.nargs == 0)
			return fail(&c, "SHELL requires at least one argument");
		if (!ins->json)
			return fail(&c, "SHELL requires the arguments to be in JSON form");
		return 0;
	case BALE_INSTR_UNKNOWN:
	default:
		return parse_unknown(&c);
	}
}
