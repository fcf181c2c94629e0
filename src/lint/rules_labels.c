/*
 * Label rules (hadolint's DL3048-DL3058): label keys as Docker recommends them, and the
 * `label-schema` of the configuration: which labels the image must carry, of what type (text,
 * url, semver, hash, rfc3339, spdx, email), and with `strict-labels`, no others.
 *
 * Keys and values are read as BuildKit reads them: quotes removed, variables expanded with the
 * ARG and ENV values known where the LABEL stands. A key or value that depends on a variable
 * bale cannot know (an ARG without default, set with --build-arg) is not judged: hadolint
 * reports `LABEL version="${VERSION}"` unless the schema says text; bale checks the value
 * when it is known and stays silent when it is not.
 */
#include "lint/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- expansion ------------------------------------------------------------------------------ */

/* A word as BuildKit makes it: `value` is the result, `owned` what to free. */
struct expanded {
	const char *value;
	char *owned;
	bool known;
};

static void expand(struct lint_ctx *ctx, size_t i, const char *word, struct expanded *e)
{
	e->value = lint_expand_known(ctx, i, word, &e->owned);
	e->known = e->value != NULL;
	if (!e->known)
		e->value = "";
}

static void expanded_release(struct expanded *e)
{
	free(e->owned);
	e->owned = NULL;
}

/*
 * Where the pairs of one LABEL stand, found only for a pair that is reported: the cursor
 * passes every key before it (keys are found in written order), and most pairs are fine.
 */
struct label_site {
	const bale_instruction *ins;
	const bale_command *c;
	size_t pair;  /* the pair `fn` is called for */
	size_t found; /* the pairs the cursor has passed */
	struct lint_cursor cur;
	struct lint_pos at; /* of pair found - 1 */
};

/* The line and column of the key of the pair `fn` is called for. */
static struct lint_pos label_pos(struct lint_ctx *ctx, struct label_site *site)
{
	if (!site->found)
		lint_cursor_init(&site->cur, site->ins);
	while (site->found <= site->pair)
		site->at = lint_cursor_find(ctx, site->ins, site->c->pairs.v[site->found++].key,
					    &site->cur);
	return site->at;
}

/*
 * Calls `fn` for each pair of each LABEL, with its key expanded, and its value too with
 * `values` (else the value is "", unknown: a rule about keys need not expand every value).
 * label_pos(ctx, site) gives where the pair's key is.
 */
typedef void (*label_fn)(struct lint_ctx *ctx, const bale_rule *rule, size_t instr,
			 struct label_site *site, const struct expanded *key,
			 const struct expanded *value, const void *arg);

static void each_label(struct lint_ctx *ctx, const bale_rule *rule, label_fn fn, const void *arg,
		       bool values)
{
	for (size_t i = lint_first_of(ctx, BALE_INSTR_LABEL); i < ctx->ninstrs && !ctx->err;
	     i = lint_next_of(ctx, i)) {
		struct label_site site = {.ins = &ctx->instrs[i], .c = lint_command(ctx, i)};

		if (!site.c)
			continue;
		for (site.pair = 0; site.pair < site.c->pairs.n; site.pair++) {
			const bale_kv *kv = &site.c->pairs.v[site.pair];
			struct expanded key, value;

			expand(ctx, i, kv->key, &key);
			if (values)
				expand(ctx, i, kv->value ? kv->value : "", &value);
			else
				value = (struct expanded){.value = ""};
			fn(ctx, rule, i, &site, &key, &value, arg);
			expanded_release(&key);
			expanded_release(&value);
		}
	}
}

/* The type the schema gives `label`, or NULL when it names no such label. */
static const char *schema_type(const bale_lint_config *cfg, const char *label)
{
	for (size_t s = 0; s < cfg->nlabel_schema; s++)
		if (strcmp(cfg->label_schema[s].label, label) == 0)
			return cfg->label_schema[s].type;
	return NULL;
}

/* --- DL3048 label keys ---------------------------------------------------------------------- */

static bool lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Why `key` is not a key as Docker recommends (lower-case alphanumerics and separators,
 * starting with a letter, ending with a letter or digit, no doubled separator, not in Docker's
 * reserved namespaces), or NULL when it is one. Docker's documentation also allows `_` and `/`
 * in keys (Red Hat's required labels use them), so bale does not report those.
 */
static const char *bad_key(const char *key, char *why, size_t size)
{
	static const char *const reserved[] = {"com.docker.", "io.docker.", "org.dockerproject.",
					       NULL};
	size_t n = strlen(key);

	if (n == 0)
		return "is empty";
	for (const char *const *r = reserved; *r; r++)
		if (key[0] == (*r)[0] && strncmp(key, *r, strlen(*r)) == 0) {
			snprintf(why, size, "is in the namespace '%s' that Docker reserves", *r);
			return why;
		}
	if (!lower(key[0])) {
		snprintf(why, size, "starts with '%c', not a lower-case letter", key[0]);
		return why;
	}
	if (!lower(key[n - 1]) && !digit(key[n - 1])) {
		snprintf(why, size, "ends with '%c', not a lower-case letter or digit", key[n - 1]);
		return why;
	}
	for (size_t k = 0; k < n; k++) {
		char c = key[k];
		bool sep = c == '.' || c == '-' || c == '_' || c == '/';

		if (!lower(c) && !digit(c) && !sep) {
			snprintf(why, size,
				 "holds '%c' (use lower-case letters, digits, '.' and '-')", c);
			return why;
		}
		if (sep && k + 1 < n && key[k + 1] == c) {
			snprintf(why, size, "repeats the separator '%c%c'", c, c);
			return why;
		}
	}
	return NULL;
}

static void label_key(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
		      struct label_site *site, const struct expanded *key,
		      const struct expanded *value, const void *arg)
{
	struct lint_pos at;
	char why[128];
	const char *reason;

	(void)value;
	(void)arg;
	if (!key->known || !(reason = bad_key(key->value, why, sizeof(why))))
		return;
	at = label_pos(ctx, site);
	lint_report(ctx, rule, i, at.line, at.col,
		    "label key '%s' %s: tools that read labels expect lower-case reverse-DNS keys "
		    "such as org.opencontainers.image.source",
		    key->value, reason);
}

static void check_label_keys(struct lint_ctx *ctx, const bale_rule *rule)
{
	each_label(ctx, rule, label_key, NULL, false);
}

/* --- DL3049 missing labels ------------------------------------------------------------------ */

/*
 * 1 when stage `s` (or a stage it is built on) sets `label`, 0 when none does, -1 when one
 * of them sets a label whose key bale cannot know.
 */
static int stage_sets(struct lint_ctx *ctx, size_t s, const char *label)
{
	int result = 0;

	for (int hops = 0; s < ctx->nstages && hops < 1000; hops++) {
		const bale_stage *st = &ctx->stage_list[s];

		for (size_t i = st->instruction; i < st->end && i < ctx->ninstrs; i++) {
			const bale_command *c = lint_command(ctx, i);

			for (size_t p = 0; c && c->kind == BALE_INSTR_LABEL && p < c->pairs.n;
			     p++) {
				struct expanded key;
				int found;

				expand(ctx, i, c->pairs.v[p].key, &key);
				found = !key.known ? -1 : strcmp(key.value, label) == 0;
				expanded_release(&key);
				if (found == 1)
					return 1;
				if (found < 0)
					result = -1;
			}
		}
		if (st->base.kind != BALE_REF_STAGE)
			break;
		s = st->base.stage;
	}
	return result;
}

/*
 * Every stage that makes an image someone runs: the target, and the stages no other stage
 * builds on or copies from (hadolint leaves out only those copied from; a base stage whose
 * child sets the label is one bale leaves out too, since the label is in the image built).
 */
static void check_missing_labels(struct lint_ctx *ctx, const bale_rule *rule)
{
	bool *used;

	if (ctx->cfg->nlabel_schema == 0 || ctx->nstages == 0)
		return;
	used = lint_calloc(ctx, ctx->nstages, sizeof(*used));
	if (!used) {
		ctx->err = bale_error_oom();
		return;
	}
	for (size_t s = 0; s < ctx->nstages; s++)
		for (size_t d = 0; d < ctx->stage_list[s].ndeps; d++)
			if (ctx->stage_list[s].deps[d] < ctx->nstages)
				used[ctx->stage_list[s].deps[d]] = true;
	for (size_t s = 0; s < ctx->nstages; s++) {
		const bale_stage *st = &ctx->stage_list[s];

		if (used[s] && s != ctx->target)
			continue;
		for (size_t l = 0; l < ctx->cfg->nlabel_schema; l++) {
			const char *label = ctx->cfg->label_schema[l].label;

			if (stage_sets(ctx, s, label) != 0)
				continue;
			lint_report(ctx, rule, st->instruction, 0, 0,
				    "label '%s' is missing from the image this stage%s%s%s builds: "
				    "the label schema requires it",
				    label, st->name_as_written ? " ('" : "",
				    st->name_as_written ? st->name_as_written : "",
				    st->name_as_written ? "')" : "");
		}
	}
}

/* --- DL3050 superfluous labels -------------------------------------------------------------- */

static void superfluous(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
			struct label_site *site, const struct expanded *key,
			const struct expanded *value, const void *arg)
{
	struct lint_pos at;

	(void)value;
	(void)arg;
	if (!key->known || schema_type(ctx->cfg, key->value))
		return;
	at = label_pos(ctx, site);
	lint_report(ctx, rule, i, at.line, at.col,
		    "label '%s' is not in the label schema, and strict-labels allows no others",
		    key->value);
}

static void check_superfluous_labels(struct lint_ctx *ctx, const bale_rule *rule)
{
	if (ctx->cfg->strict_labels)
		each_label(ctx, rule, superfluous, NULL, false);
}

/* --- DL3051 empty labels -------------------------------------------------------------------- */

static void empty_label(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
			struct label_site *site, const struct expanded *key,
			const struct expanded *value, const void *arg)
{
	struct lint_pos at;

	(void)arg;
	if (!key->known || !value->known || value->value[0] || !schema_type(ctx->cfg, key->value))
		return;
	at = label_pos(ctx, site);
	lint_report(ctx, rule, i, at.line, at.col,
		    "label '%s' is empty: the label schema requires a value", key->value);
}

static void check_empty_labels(struct lint_ctx *ctx, const bale_rule *rule)
{
	if (ctx->cfg->nlabel_schema)
		each_label(ctx, rule, empty_label, NULL, true);
}

/* --- value types ---------------------------------------------------------------------------- */

static bool alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool hexdigit(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Reads `n` digits at *p into *out. */
static bool digits(const char **p, int n, int *out)
{
	*out = 0;
	for (int k = 0; k < n; k++, (*p)++) {
		if (!digit(**p))
			return false;
		*out = *out * 10 + (**p - '0');
	}
	return true;
}

/* RFC 3339 date-time: 2024-05-01T12:30:00Z, with optional fraction and a numeric offset. */
static bool is_rfc3339(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh, om;
	const char *p = s;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return false;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	if (*p != 'T' && *p != 't')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
	    !digits(&p, 2, &sec))
		return false;
	if (h > 23 || mi > 59 || sec > 60) /* 60: a leap second */
		return false;
	if (*p == '.') {
		if (!digit(*++p))
			return false;
		while (digit(*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0';
	if (*p != '+' && *p != '-')
		return false;
	p++;
	if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om))
		return false;
	return oh <= 23 && om <= 59 && *p == '\0';
}

/* Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH[-pre.release][+build.meta]. */
static bool semver_ids(const char **p, bool numeric_rules)
{
	do {
		const char *start = *p;
		bool all_digits = true;

		while (alpha(**p) || digit(**p) || **p == '-') {
			all_digits &= digit(**p);
			(*p)++;
		}
		if (*p == start)
			return false;
		if (numeric_rules && all_digits && *p - start > 1 && start[0] == '0')
			return false;
	} while (**p == '.' && (*p)++);
	return true;
}

static bool is_semver(const char *s)
{
	const char *p = s;

	for (int part = 0; part < 3; part++) {
		const char *start = p;

		if (part > 0 && *p++ != '.')
			return false;
		start = p;
		while (digit(*p))
			p++;
		if (p == start || (p - start > 1 && start[0] == '0'))
			return false;
	}
	if (*p == '-') {
		p++;
		if (!semver_ids(&p, true))
			return false;
	}
	if (*p == '+') {
		p++;
		if (!semver_ids(&p, false))
			return false;
	}
	return *p == '\0';
}

/* A git commit: 7 to 40 hex digits (an abbreviation or SHA-1), or 64 (SHA-256 repositories). */
static bool is_git_hash(const char *s)
{
	size_t n = strlen(s);

	if (!((n >= 7 && n <= 40) || n == 64))
		return false;
	for (size_t k = 0; k < n; k++)
		if (!digit(s[k]) && !(s[k] >= 'a' && s[k] <= 'f'))
			return false;
	return true;
}

static bool unreserved(char c)
{
	return alpha(c) || digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool sub_delim(char c)
{
	return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* Reads URI characters at *p: unreserved, %HH, sub-delims and `extra`. */
static void uri_chars(const char **p, const char *extra)
{
	for (;;) {
		char c = **p;

		if (c == '%' && hexdigit((*p)[1]) && hexdigit((*p)[2]))
			*p += 3;
		else if (c && (unreserved(c) || sub_delim(c) || strchr(extra, c)))
			(*p)++;
		else
			return;
	}
}

/* An absolute URL with a host, as RFC 3986 writes it: scheme://[user@]host[:port][/path][?q][#f].
 */
static bool is_url(const char *s)
{
	const char *p = s, *host;

	if (!alpha(*p))
		return false;
	while (alpha(*p) || digit(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (p[0] != ':' || p[1] != '/' || p[2] != '/')
		return false;
	p += 3;
	/* userinfo@ */
	{
		const char *q = p;

		uri_chars(&q, ":");
		if (*q == '@')
			p = q + 1;
	}
	host = p;
	if (*p == '[') {
		p++;
		while (hexdigit(*p) || *p == ':' || *p == '.')
			p++;
		if (*p++ != ']' || p - host < 4)
			return false;
	} else {
		uri_chars(&p, "");
		if (p == host)
			return false;
	}
	if (*p == ':') {
		p++;
		while (digit(*p))
			p++;
	}
	if (*p && *p != '/' && *p != '?' && *p != '#')
		return false;
	uri_chars(&p, ":@/");
	if (*p == '?') {
		p++;
		uri_chars(&p, ":@/?");
	}
	if (*p == '#') {
		p++;
		uri_chars(&p, ":@/?");
	}
	return *p == '\0';
}

static bool atext(char c)
{
	return alpha(c) || digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* RFC 5322 dot-atom at *p (atoms joined by single dots). */
static bool dot_atom(const char **p)
{
	do {
		const char *start = *p;

		while (atext(**p))
			(*p)++;
		if (*p == start)
			return false;
	} while (**p == '.' && (*p)++);
	return true;
}

/* An RFC 5322 addr-spec: local-part@domain (a dot-atom or "quoted"; a name or [literal]). */
static bool is_email(const char *s)
{
	const char *p = s, *at, *domain;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return false;
		}
		if (*p++ != '"')
			return false;
	} else if (!dot_atom(&p)) {
		return false;
	}
	at = p;
	if (*p++ != '@' || at - s > 64 || strlen(s) > 254)
		return false;
	domain = p;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if ((unsigned char)*p < 0x21 || *p == '[' || *p == '\\')
				return false;
		return *p == ']' && p[1] == '\0' && p > domain + 1;
	}
	/* a host name: letters, digits and hyphens, labels joined by dots */
	for (;;) {
		const char *label = p;

		while (alpha(*p) || digit(*p) || *p == '-')
			p++;
		if (p == label || *label == '-' || p[-1] == '-' || p - label > 63)
			return false;
		if (*p != '.')
			break;
		p++;
	}
	return *p == '\0';
}

/* --- SPDX license expressions --------------------------------------------------------------- */

/*
 * License and exception identifiers of the SPDX License List that images commonly carry
 * (deprecated ones such as GPL-2.0+ included, since labels written years ago use them), in
 * strcasecmp order: SPDX identifiers match without regard to case.
 */
static const char *const spdx_licenses[] = {
    "0BSD",
    "AAL",
    "ADSL",
    "AFL-1.1",
    "AFL-1.2",
    "AFL-2.0",
    "AFL-2.1",
    "AFL-3.0",
    "AGPL-1.0",
    "AGPL-1.0-only",
    "AGPL-1.0-or-later",
    "AGPL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "AML",
    "AMPAS",
    "Apache-1.0",
    "Apache-1.1",
    "Apache-2.0",
    "APAFML",
    "APL-1.0",
    "APSL-1.0",
    "APSL-1.1",
    "APSL-1.2",
    "APSL-2.0",
    "Artistic-1.0",
    "Artistic-1.0-cl8",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "Beerware",
    "BitTorrent-1.0",
    "BitTorrent-1.1",
    "blessing",
    "BlueOak-1.0.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-2-Clause-FreeBSD",
    "BSD-2-Clause-NetBSD",
    "BSD-2-Clause-Patent",
    "BSD-2-Clause-Views",
    "BSD-3-Clause",
    "BSD-3-Clause-Attribution",
    "BSD-3-Clause-Clear",
    "BSD-3-Clause-LBNL",
    "BSD-3-Clause-Modification",
    "BSD-3-Clause-No-Nuclear-License",
    "BSD-3-Clause-No-Nuclear-Warranty",
    "BSD-3-Clause-Open-MPI",
    "BSD-4-Clause",
    "BSD-4-Clause-UC",
    "BSD-Protection",
    "BSD-Source-Code",
    "BSL-1.0",
    "BUSL-1.1",
    "bzip2-1.0.6",
    "CAL-1.0",
    "CAL-1.0-Combined-Work-Exception",
    "CATOSL-1.1",
    "CC-BY-1.0",
    "CC-BY-2.0",
    "CC-BY-2.5",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-NC-1.0",
    "CC-BY-NC-2.0",
    "CC-BY-NC-3.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-3.0",
    "CC-BY-NC-ND-4.0",
    "CC-BY-NC-SA-3.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-3.0",
    "CC-BY-ND-4.0",
    "CC-BY-SA-1.0",
    "CC-BY-SA-2.0",
    "CC-BY-SA-2.5",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC-PDDC",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "CECILL-1.0",
    "CECILL-1.1",
    "CECILL-2.0",
    "CECILL-2.1",
    "CECILL-B",
    "CECILL-C",
    "CERN-OHL-1.1",
    "CERN-OHL-1.2",
    "CERN-OHL-P-2.0",
    "CERN-OHL-S-2.0",
    "CERN-OHL-W-2.0",
    "ClArtistic",
    "CNRI-Python",
    "Condor-1.1",
    "CPAL-1.0",
    "CPL-1.0",
    "CUA-OPL-1.0",
    "curl",
    "ECL-1.0",
    "ECL-2.0",
    "EFL-1.0",
    "EFL-2.0",
    "Elastic-2.0",
    "Entessa",
    "EPL-1.0",
    "EPL-2.0",
    "ErlPL-1.1",
    "EUDatagrid",
    "EUPL-1.0",
    "EUPL-1.1",
    "EUPL-1.2",
    "Fair",
    "Frameworx-1.0",
    "FreeBSD-DOC",
    "FSFAP",
    "FSFUL",
    "FSFULLR",
    "FTL",
    "GFDL-1.1",
    "GFDL-1.1-only",
    "GFDL-1.1-or-later",
    "GFDL-1.2",
    "GFDL-1.2-only",
    "GFDL-1.2-or-later",
    "GFDL-1.3",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "GL2PS",
    "GPL-1.0",
    "GPL-1.0+",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0",
    "GPL-2.0+",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-2.0-with-autoconf-exception",
    "GPL-2.0-with-bison-exception",
    "GPL-2.0-with-classpath-exception",
    "GPL-2.0-with-font-exception",
    "GPL-2.0-with-GCC-exception",
    "GPL-3.0",
    "GPL-3.0+",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "GPL-3.0-with-autoconf-exception",
    "GPL-3.0-with-GCC-exception",
    "HPND",
    "HPND-sell-variant",
    "HTMLTIDY",
    "IBM-pibs",
    "ICU",
    "IJG",
    "ImageMagick",
    "Imlib2",
    "Info-ZIP",
    "Intel",
    "IPA",
    "IPL-1.0",
    "ISC",
    "JasPer-2.0",
    "JSON",
    "LAL-1.2",
    "LAL-1.3",
    "LGPL-2.0",
    "LGPL-2.0+",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1+",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0+",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "LGPLLR",
    "Libpng",
    "libpng-2.0",
    "libtiff",
    "LiLiQ-P-1.1",
    "LiLiQ-R-1.1",
    "LiLiQ-Rplus-1.1",
    "LPL-1.0",
    "LPL-1.02",
    "LPPL-1.0",
    "LPPL-1.1",
    "LPPL-1.2",
    "LPPL-1.3a",
    "LPPL-1.3c",
    "MirOS",
    "MIT",
    "MIT-0",
    "MIT-advertising",
    "MIT-CMU",
    "MIT-enna",
    "MIT-feh",
    "MIT-Modern-Variant",
    "MITNFA",
    "Motosoto",
    "MPL-1.0",
    "MPL-1.1",
    "MPL-2.0",
    "MPL-2.0-no-copyleft-exception",
    "MS-LPL",
    "MS-PL",
    "MS-RL",
    "MulanPSL-1.0",
    "MulanPSL-2.0",
    "Multics",
    "NASA-1.3",
    "Naumen",
    "NCSA",
    "NGPL",
    "NLOD-1.0",
    "NLPL",
    "Nokia",
    "NOSL",
    "NPL-1.0",
    "NPL-1.1",
    "NPOSL-3.0",
    "NTP",
    "ODbL-1.0",
    "ODC-By-1.0",
    "OFL-1.0",
    "OFL-1.1",
    "OFL-1.1-no-RFN",
    "OFL-1.1-RFN",
    "OGL-UK-3.0",
    "OGTSL",
    "OLDAP-2.8",
    "OpenSSL",
    "OPL-1.0",
    "OSET-PL-2.1",
    "OSL-1.0",
    "OSL-1.1",
    "OSL-2.0",
    "OSL-2.1",
    "OSL-3.0",
    "PDDL-1.0",
    "PHP-3.0",
    "PHP-3.01",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Python-2.0.1",
    "QPL-1.0",
    "RPL-1.1",
    "RPL-1.5",
    "RPSL-1.0",
    "RSCPL",
    "Ruby",
    "SGI-B-2.0",
    "SimPL-2.0",
    "SISSL",
    "Sleepycat",
    "SMLNJ",
    "SPL-1.0",
    "SSPL-1.0",
    "TCL",
    "TCP-wrappers",
    "TMate",
    "TOSL",
    "UCL-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2015",
    "Unicode-DFS-2016",
    "Unicode-TOU",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "VSL-1.0",
    "W3C",
    "W3C-19980720",
    "W3C-20150513",
    "Watcom-1.0",
    "WTFPL",
    "X11",
    "XFree86-1.1",
    "Xnet",
    "YPL-1.0",
    "YPL-1.1",
    "Zend-2.0",
    "Zlib",
    "zlib-acknowledgement",
    "ZPL-1.1",
    "ZPL-2.0",
    "ZPL-2.1",
};

static const char *const spdx_exceptions[] = {
    "389-exception",
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Bison-exception-2.2",
    "Bootloader-exception",
    "Classpath-exception-2.0",
    "CLISP-exception-2.0",
    "DigiRule-FOSS-exception",
    "eCos-exception-2.0",
    "Fawkes-Runtime-exception",
    "FLTK-exception",
    "Font-exception-2.0",
    "freertos-exception-2.0",
    "GCC-exception-2.0",
    "GCC-exception-3.1",
    "gnu-javamail-exception",
    "GPL-3.0-linking-exception",
    "GPL-3.0-linking-source-exception",
    "GPL-CC-1.0",
    "i2p-gpl-java-exception",
    "LGPL-3.0-linking-exception",
    "Libtool-exception",
    "Linux-syscall-note",
    "LLVM-exception",
    "LZMA-exception",
    "mif-exception",
    "OCaml-LGPL-linking-exception",
    "OCCT-exception-1.0",
    "OpenJDK-assembly-exception-1.0",
    "openvpn-openssl-exception",
    "PS-or-PDF-font-exception-20170817",
    "Qt-GPL-exception-1.0",
    "Qt-LGPL-exception-1.1",
    "Qwt-exception-1.0",
    "SWI-exception",
    "u-boot-exception-2.0",
    "Universal-FOSS-exception-1.0",
    "WxWindows-exception-3.1",
    "x11vnc-openssl-exception",
};

static int by_name(const void *key, const void *elem)
{
	return strcasecmp(key, *(const char *const *)elem);
}

static bool listed(const char *tok, size_t n, const char *const *list, size_t count)
{
	char buf[96];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	return bsearch(buf, list, count, sizeof(*list), by_name) != NULL;
}

/* The next token at *p: "(", ")" or a word; its length, 0 at the end. */
static size_t spdx_token(const char **p, const char **tok)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
	*tok = *p;
	if (**p == '(' || **p == ')') {
		(*p)++;
		return 1;
	}
	while (**p && **p != ' ' && **p != '\t' && **p != '(' && **p != ')')
		(*p)++;
	return (size_t)(*p - *tok);
}

/* An operator: all upper case or all lower case, as the SPDX specification allows. */
static bool spdx_op(const char *tok, size_t n, const char *upper)
{
	bool up = true, low = true;

	if (n != strlen(upper))
		return false;
	for (size_t k = 0; k < n; k++) {
		up &= tok[k] == upper[k];
		low &= tok[k] == upper[k] - 'A' + 'a';
	}
	return up || low;
}

/* True when the next token is the operator `upper`; consumes it then. */
static bool spdx_accept(const char **p, const char *upper)
{
	const char *save = *p, *tok;
	size_t n = spdx_token(p, &tok);

	if (spdx_op(tok, n, upper))
		return true;
	*p = save;
	return false;
}

/* LicenseRef-<id>, DocumentRef-<id>:LicenseRef-<id> (or AdditionRef- for exceptions). */
static bool spdx_ref(const char *tok, size_t n, const char *kind)
{
	const char *colon = memchr(tok, ':', n);
	size_t klen = strlen(kind);

	if (colon) {
		if ((size_t)(colon - tok) <= 12 || strncmp(tok, "DocumentRef-", 12) != 0)
			return false;
		for (const char *c = tok + 12; c < colon; c++)
			if (!alpha(*c) && !digit(*c) && *c != '-' && *c != '.')
				return false;
		n -= (size_t)(colon + 1 - tok);
		tok = colon + 1;
	}
	if (n <= klen || strncmp(tok, kind, klen) != 0)
		return false;
	for (size_t k = klen; k < n; k++)
		if (!alpha(tok[k]) && !digit(tok[k]) && tok[k] != '-' && tok[k] != '.')
			return false;
	return true;
}

static bool spdx_or(const char **p, int depth);

/* A license (id[+] [WITH exception]), a reference, or a parenthesized expression. */
static bool spdx_simple(const char **p, int depth)
{
	const char *tok;
	size_t n = spdx_token(p, &tok);

	if (n == 1 && tok[0] == '(') {
		if (depth >= 32 || !spdx_or(p, depth + 1))
			return false;
		n = spdx_token(p, &tok);
		return n == 1 && tok[0] == ')';
	}
	if (spdx_ref(tok, n, "LicenseRef-"))
		return true;
	if (!listed(tok, n, spdx_licenses, BALE_ARRAY_SIZE(spdx_licenses)) &&
	    !(n > 1 && tok[n - 1] == '+' &&
	      listed(tok, n - 1, spdx_licenses, BALE_ARRAY_SIZE(spdx_licenses))))
		return false;
	if (spdx_accept(p, "WITH")) {
		n = spdx_token(p, &tok);
		return listed(tok, n, spdx_exceptions, BALE_ARRAY_SIZE(spdx_exceptions)) ||
		       spdx_ref(tok, n, "AdditionRef-");
	}
	return true;
}

static bool spdx_and(const char **p, int depth)
{
	if (!spdx_simple(p, depth))
		return false;
	while (spdx_accept(p, "AND"))
		if (!spdx_simple(p, depth))
			return false;
	return true;
}

static bool spdx_or(const char **p, int depth)
{
	if (!spdx_and(p, depth))
		return false;
	while (spdx_accept(p, "OR"))
		if (!spdx_and(p, depth))
			return false;
	return true;
}

/* An SPDX license expression: MIT, Apache-2.0 OR MIT, GPL-2.0-only WITH Linux-syscall-note. */
static bool is_spdx(const char *s)
{
	const char *p = s, *tok;

	return spdx_or(&p, 0) && spdx_token(&p, &tok) == 0;
}

/* --- DL3052-DL3056, DL3058: values of a type ------------------------------------------------ */

struct label_type {
	const char *type;
	bool (*valid)(const char *value);
	const char *expected; /* what a value should be, with an example */
};

static void typed_value(struct lint_ctx *ctx, const bale_rule *rule, size_t i,
			struct label_site *site, const struct expanded *key,
			const struct expanded *value, const void *arg)
{
	struct lint_pos at;
	const struct label_type *t = arg;
	const char *type;

	/* an empty value is DL3051's; a value bale cannot know is not judged */
	if (!key->known || !value->known || !value->value[0])
		return;
	type = schema_type(ctx->cfg, key->value);
	if (!type || strcmp(type, t->type) != 0 || t->valid(value->value))
		return;
	at = label_pos(ctx, site);
	lint_report(ctx, rule, i, at.line, at.col, "label '%s' is '%s', not %s", key->value,
		    value->value, t->expected);
}

static void check_typed(struct lint_ctx *ctx, const bale_rule *rule, const struct label_type *t)
{
	for (size_t s = 0; s < ctx->cfg->nlabel_schema; s++)
		if (strcmp(ctx->cfg->label_schema[s].type, t->type) == 0) {
			each_label(ctx, rule, typed_value, t, true);
			return;
		}
}

static void check_url(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "url", is_url, "a URL with a scheme and a host (https://example.com/project)"};

	check_typed(ctx, rule, &t);
}

static void check_rfc3339(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "rfc3339", is_rfc3339, "an RFC 3339 date-time (2024-05-01T12:30:00Z or +02:00)"};

	check_typed(ctx, rule, &t);
}

static void check_spdx(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "spdx", is_spdx,
	    "an SPDX license expression (Apache-2.0, MIT OR GPL-2.0-or-later, LicenseRef-x)"};

	check_typed(ctx, rule, &t);
}

static void check_hash(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "hash", is_git_hash, "a git commit hash (7 to 40 lower-case hex digits, or 64)"};

	check_typed(ctx, rule, &t);
}

static void check_semver(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "semver", is_semver, "a semantic version (1.4.2, 2.0.0-rc.1+build.5; no 'v')"};

	check_typed(ctx, rule, &t);
}

static void check_email(struct lint_ctx *ctx, const bale_rule *rule)
{
	static const struct label_type t = {
	    "email", is_email, "an email address as RFC 5322 writes it (team@example.com)"};

	check_typed(ctx, rule, &t);
}

/* --- the catalogue -------------------------------------------------------------------------- */

const struct lint_rule lint_rule_DL3048 = {
    .meta = {.id = "DL3048",
	     .name = "invalid-label-key",
	     .severity = BALE_SEV_STYLE,
	     .summary = "Invalid label key",
	     .fix = "use lower-case reverse-DNS keys: org.opencontainers.image.source",
	     .category = "style"},
    .check = check_label_keys,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3049 = {
    .meta = {.id = "DL3049",
	     .name = "label-missing",
	     .severity = BALE_SEV_INFO,
	     .summary = "Label `<label>` is missing (label-schema)",
	     .fix = "add LABEL <label>=<value> to the stage that builds the image",
	     .category = "maintainability"},
    .check = check_missing_labels,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3050 = {
    .meta = {.id = "DL3050",
	     .name = "superfluous-label",
	     .severity = BALE_SEV_INFO,
	     .summary = "Superfluous label(s) present (strict-labels)",
	     .fix = "remove the label, or add it to the label-schema",
	     .category = "maintainability"},
    .check = check_superfluous_labels,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3051 = {
    .meta = {.id = "DL3051",
	     .name = "label-empty",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is empty",
	     .fix = "give the label a value",
	     .category = "maintainability"},
    .check = check_empty_labels,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3052 = {
    .meta = {.id = "DL3052",
	     .name = "label-not-url",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is not a valid URL",
	     .fix = "write an absolute URL with a scheme and host: https://example.com/project",
	     .category = "maintainability"},
    .check = check_url,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3053 = {
    .meta = {.id = "DL3053",
	     .name = "label-not-rfc3339",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is not a valid time format - must conform to RFC3339",
	     .fix = "write the time as RFC 3339: 2024-05-01T12:30:00Z (date -u "
		    "+%Y-%m-%dT%H:%M:%SZ)",
	     .category = "maintainability"},
    .check = check_rfc3339,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3054 = {
    .meta = {.id = "DL3054",
	     .name = "label-not-spdx",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is not a valid SPDX license identifier",
	     .fix = "write an SPDX license identifier or expression: Apache-2.0, MIT OR "
		    "Apache-2.0",
	     .category = "maintainability"},
    .check = check_spdx,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3055 = {
    .meta = {.id = "DL3055",
	     .name = "label-not-git-hash",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is not a valid git hash",
	     .fix = "write the commit hash (git rev-parse HEAD), e.g. from a build ARG",
	     .category = "maintainability"},
    .check = check_hash,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3056 = {
    .meta = {.id = "DL3056",
	     .name = "label-not-semver",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` does not conform to semantic versioning",
	     .fix = "write a semantic version: MAJOR.MINOR.PATCH, e.g. 1.4.2",
	     .category = "maintainability"},
    .check = check_semver,
    .needs_stages = true,
};

const struct lint_rule lint_rule_DL3058 = {
    .meta = {.id = "DL3058",
	     .name = "label-not-email",
	     .severity = BALE_SEV_WARNING,
	     .summary = "Label `<label>` is not a valid email format - must conform to RFC5322",
	     .fix = "write an address: team@example.com",
	     .category = "maintainability"},
    .check = check_email,
    .needs_stages = true,
};
