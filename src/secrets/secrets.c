/*
 * The credential detector (see secrets.h). A scan walks the text once; at each byte that can
 * start a known shape (a prefix such as "AKIA", "ghp_", "-----BEGIN") or end a name (the '=' or
 * ':' of an assignment, the "://" of a URL) it tries that shape there. Shapes follow the token
 * formats their issuers document (and gitleaks' rules for them); lengths are checked so that a
 * prefix inside a longer word is not taken for a token.
 */
#include "secrets/secrets.h"
#include "util/util.h"

#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* Letters and digits: the bytes of a word, which a token starts and ends. */
#define AL(c) [c] = true
static const bool alnum_byte[256] = {
    AL('0'), AL('1'), AL('2'), AL('3'), AL('4'), AL('5'), AL('6'), AL('7'), AL('8'),
    AL('9'), AL('A'), AL('B'), AL('C'), AL('D'), AL('E'), AL('F'), AL('G'), AL('H'),
    AL('I'), AL('J'), AL('K'), AL('L'), AL('M'), AL('N'), AL('O'), AL('P'), AL('Q'),
    AL('R'), AL('S'), AL('T'), AL('U'), AL('V'), AL('W'), AL('X'), AL('Y'), AL('Z'),
    AL('a'), AL('b'), AL('c'), AL('d'), AL('e'), AL('f'), AL('g'), AL('h'), AL('i'),
    AL('j'), AL('k'), AL('l'), AL('m'), AL('n'), AL('o'), AL('p'), AL('q'), AL('r'),
    AL('s'), AL('t'), AL('u'), AL('v'), AL('w'), AL('x'), AL('y'), AL('z'),
};
#undef AL

static bool is_alnum(char c)
{
	return alnum_byte[(unsigned char)c];
}

static char to_lower(char c)
{
	return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

static bool starts_with_nocase(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (to_lower(s[i]) != prefix[i])
			return false;
	return true;
}

static bool eq_nocase(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && starts_with_nocase(s, len, word);
}

/* Character classes of token bodies. */
enum {
	C_UPPER_DIGIT =
	    1,		 /* A-Z 0-9: AWS key IDs (base32 in practice, but AWS's examples are not) */
	C_ALNUM,	 /* A-Z a-z 0-9 */
	C_ALNUM_US,	 /* and '_' */
	C_ALNUM_US_DASH, /* and '_' '-' */
	C_ALNUM_DASH,	 /* A-Z a-z 0-9 '-' */
};

static bool in_class(int cls, char c)
{
	switch (cls) {
	case C_UPPER_DIGIT:
		return is_upper(c) || is_digit(c);
	case C_ALNUM:
		return is_alnum(c);
	case C_ALNUM_US:
		return is_alnum(c) || c == '_';
	case C_ALNUM_US_DASH:
		return is_alnum(c) || c == '_' || c == '-';
	case C_ALNUM_DASH:
		return is_alnum(c) || c == '-';
	}
	return false;
}

/* The length of the run of `cls` characters at s (at most len). */
static size_t run_of(int cls, const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && in_class(cls, s[n]))
		n++;
	return n;
}

struct shape {
	const char *prefix;
	size_t plen; /* strlen(prefix) */
	bale_secret_kind kind;
	const char *what;
	int cls;
	size_t min, max; /* body length after the prefix; max 0: unbounded */
};

/*
 * Token shapes, by the first byte of their prefix. Bodies are exact where the issuer fixes
 * them (AWS 16, GitHub classic 36, Google 35, npm 36) and minimums where tokens grew longer.
 */
#define SHAPE(prefix) prefix, sizeof(prefix) - 1
static const struct shape shapes[] = {
    {SHAPE("AKIA"), BALE_SECRET_AWS_KEY_ID, "an AWS access key ID", C_UPPER_DIGIT, 16, 16},
    {SHAPE("ASIA"), BALE_SECRET_AWS_KEY_ID, "an AWS access key ID", C_UPPER_DIGIT, 16, 16},
    {SHAPE("ABIA"), BALE_SECRET_AWS_KEY_ID, "an AWS access key ID", C_UPPER_DIGIT, 16, 16},
    {SHAPE("ACCA"), BALE_SECRET_AWS_KEY_ID, "an AWS access key ID", C_UPPER_DIGIT, 16, 16},
    {SHAPE("AIza"), BALE_SECRET_GOOGLE_API_KEY, "a Google API key", C_ALNUM_US_DASH, 35, 35},
    {SHAPE("ghp_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM, 36, 0},
    {SHAPE("gho_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM, 36, 0},
    {SHAPE("ghu_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM, 36, 0},
    {SHAPE("ghs_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM, 36, 0},
    {SHAPE("ghr_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM, 36, 0},
    {SHAPE("github_pat_"), BALE_SECRET_GITHUB_TOKEN, "a GitHub token", C_ALNUM_US, 50, 0},
    {SHAPE("glpat-"), BALE_SECRET_GITLAB_TOKEN, "a GitLab token", C_ALNUM_US_DASH, 20, 0},
    {SHAPE("glrt-"), BALE_SECRET_GITLAB_TOKEN, "a GitLab token", C_ALNUM_US_DASH, 20, 0},
    {SHAPE("gldt-"), BALE_SECRET_GITLAB_TOKEN, "a GitLab token", C_ALNUM_US_DASH, 20, 0},
    {SHAPE("xoxb-"), BALE_SECRET_SLACK_TOKEN, "a Slack token", C_ALNUM_DASH, 10, 0},
    {SHAPE("xoxa-"), BALE_SECRET_SLACK_TOKEN, "a Slack token", C_ALNUM_DASH, 10, 0},
    {SHAPE("xoxp-"), BALE_SECRET_SLACK_TOKEN, "a Slack token", C_ALNUM_DASH, 10, 0},
    {SHAPE("xoxr-"), BALE_SECRET_SLACK_TOKEN, "a Slack token", C_ALNUM_DASH, 10, 0},
    {SHAPE("xoxs-"), BALE_SECRET_SLACK_TOKEN, "a Slack token", C_ALNUM_DASH, 10, 0},
    {SHAPE("sk_live_"), BALE_SECRET_STRIPE_KEY, "a Stripe secret key", C_ALNUM, 16, 0},
    {SHAPE("rk_live_"), BALE_SECRET_STRIPE_KEY, "a Stripe secret key", C_ALNUM, 16, 0},
    {SHAPE("npm_"), BALE_SECRET_NPM_TOKEN, "an npm token", C_ALNUM, 36, 36},
    {SHAPE("pypi-AgEIcHlwaS5vcmc"), BALE_SECRET_PYPI_TOKEN, "a PyPI token", C_ALNUM_US_DASH, 50, 0},
};
#undef SHAPE

/*
 * shape_group() indexes the table by first byte: a new shape needs its group's range moved, and
 * its first four bytes in first_group[], second_of[], third_of[] and fourth_of[]. A new first
 * or second byte also goes into the scans' candidate filters, candidates16() and the nibble
 * tables of candidates32(), and its prefix must hold an anchor ('_' or '-' within ANCHOR_REACH
 * bytes of its start, or start with 'A') for next_anchor() to stop near it.
 */
_Static_assert(BALE_ARRAY_SIZE(shapes) == 23,
	       "update shape_group(), the byte tables and the scans' candidate filters");

/* The shapes whose prefix starts with byte `c`: shapes[*lo, *hi). */
static bool shape_group(char c, size_t *lo, size_t *hi)
{
	switch (c) {
	case 'A':
		*lo = 0, *hi = 5;
		return true;
	case 'g':
		*lo = 5, *hi = 14;
		return true;
	case 'x':
		*lo = 14, *hi = 19;
		return true;
	case 's':
	case 'r':
		*lo = 19, *hi = 21;
		return true;
	case 'n':
		*lo = 21, *hi = 22;
		return true;
	case 'p':
		*lo = 22, *hi = 23;
		return true;
	default:
		return false;
	}
}

/*
 * The first four bytes of the prefixes, as a bit per first-byte group of shape_group() (A, g, x,
 * s/r, n, p): a word whose second byte no prefix of its group has is no token. Most words that
 * start like one ("gcc", "go", "sed", "rm", "pip") end there, the candidates' filters test the
 * first two bytes; and most of the others ("git", "npm", "python", "ghcr.io") at the third or
 * fourth byte, before the group's prefixes are compared one by one.
 */
enum { G_A = 1, G_G = 2, G_X = 4, G_SR = 8, G_N = 16, G_P = 32 };
static const unsigned char first_group[256] = {
    ['A'] = G_A, ['g'] = G_G, ['x'] = G_X, ['s'] = G_SR, ['r'] = G_SR, ['n'] = G_N, ['p'] = G_P,
};
static const unsigned char second_of[256] = {
    ['K'] = G_A, ['S'] = G_A, ['B'] = G_A, ['C'] = G_A,	 ['I'] = G_A, ['h'] = G_G,
    ['i'] = G_G, ['l'] = G_G, ['o'] = G_X, ['k'] = G_SR, ['p'] = G_N, ['y'] = G_P,
};
static const unsigned char third_of[256] = {
    ['I'] = G_A, ['C'] = G_A,  ['z'] = G_A, ['p'] = G_G | G_P, ['o'] = G_G,
    ['u'] = G_G, ['s'] = G_G,  ['r'] = G_G, ['t'] = G_G,       ['d'] = G_G,
    ['x'] = G_X, ['_'] = G_SR, ['m'] = G_N,
};
static const unsigned char fourth_of[256] = {
    ['A'] = G_A,       ['a'] = G_A | G_G | G_X,
    ['_'] = G_G | G_N, ['h'] = G_G,
    ['t'] = G_G,       ['b'] = G_X,
    ['p'] = G_X,       ['r'] = G_X,
    ['s'] = G_X,       ['l'] = G_SR,
    ['i'] = G_P,
};

/* Whether the four bytes at text[i] (of len) may start a token prefix: every prefix has four. */
static inline bool may_start_shape(const char *text, size_t len, size_t i)
{
	return len - i >= 4 &&
	       (first_group[(unsigned char)text[i]] & second_of[(unsigned char)text[i + 1]] &
		third_of[(unsigned char)text[i + 2]] & fourth_of[(unsigned char)text[i + 3]]);
}

/* Fills `out` with a match of `kind` at text[start, end), with no name; returns true. */
static bool found(bale_secret_match *out, bale_secret_kind kind, const char *what, size_t start,
		  size_t end)
{
	out->kind = kind;
	out->what = what;
	out->start = start;
	out->len = end - start;
	out->end = end;
	out->name = out->name_len = 0;
	return true;
}

/*
 * The token at text[i], which starts a word: "xghp_..." is something else. The callers see to it
 * (the scan before it calls, as most candidates are inside a word, as "sk" in "task").
 */
static bool try_shape(const char *text, size_t len, size_t i, bale_secret_match *out)
{
	size_t lo, hi;
	uint32_t head;

	/* Every prefix has 4 bytes at least, compared at once with those of the text. */
	if (!may_start_shape(text, len, i) || !shape_group(text[i], &lo, &hi))
		return false;
	memcpy(&head, text + i, 4);
	for (size_t k = lo; k < hi && k < BALE_ARRAY_SIZE(shapes); k++) {
		const struct shape *sh = &shapes[k];
		size_t plen = sh->plen, body;
		uint32_t prefix_head;

		memcpy(&prefix_head, sh->prefix, 4);
		if (prefix_head != head || len - i < plen ||
		    memcmp(text + i + 4, sh->prefix + 4, plen - 4) != 0)
			continue;
		body = run_of(sh->cls, text + i + plen, len - i - plen);
		if (body < sh->min || (sh->max && body > sh->max))
			continue;
		/* The token ends a word too (an AWS key ID is followed by no letter or digit). */
		if (i + plen + body < len && is_alnum(text[i + plen + body]))
			continue;
		return found(out, sh->kind, sh->what, i, i + plen + body);
	}
	return false;
}

/* "-----BEGIN [A-Z ]*PRIVATE KEY": the header of a PEM or OpenSSH private key. */
static bool try_private_key(const char *text, size_t len, size_t i, bale_secret_match *out)
{
	static const char begin[] = "-----BEGIN ";
	size_t p = i + sizeof(begin) - 1, end;

	if (!starts_with(text + i, len - i, begin))
		return false;
	for (end = p; end < len && end - p < 40 && (is_upper(text[end]) || text[end] == ' '); end++)
		;
	for (size_t k = p; k + 11 <= end; k++) {
		if (memcmp(text + k, "PRIVATE KEY", 11) == 0) {
			size_t stop = k + 11;

			while (stop < len &&
			       (text[stop] == '-' || text[stop] == ' ' || is_upper(text[stop])) &&
			       stop - i < 80)
				stop++;
			return found(out, BALE_SECRET_PRIVATE_KEY, "a private key", i, stop);
		}
	}
	return false;
}

/* --- names ------------------------------------------------------------------------------- */

/* Words that hold a credential (strong) and that may (weak: AUTH=basic is a setting). */
static const char *const strong_words[] = {"token",	 "tokens",     "password", "passwd", "pass",
					   "pwd",	 "secret",     "secrets",  "apikey", "pat",
					   "passphrase", "privatekey", NULL};
static const char *const weak_words[] = {"auth", "credential", "credentials", "creds", NULL};
/* Words before KEY that make it a secret key (GPG_KEY is a fingerprint; API_KEY is not). */
static const char *const key_owners[] = {
    "api",     "access",  "secret", "private", "client", "app",	    "master", "encryption",
    "signing", "license", "ssh",    "deploy",  "priv",	 "service", "admin",  NULL};
/* A name ending in one of these names where the credential is, or a setting about it
 * (PASSWORD_ALGO=bcrypt, PBKDF2_ITERATIONS, TOKEN_TTL), not the credential. */
static const char *const holder_words[] = {
    "file",    "files",	   "path",	"dir",	    "directory", "url",	    "uri",
    "host",    "hostname", "endpoint",	"id",	    "name",	 "user",    "username",
    "type",    "length",   "len",	"size",	    "enabled",	 "enable",  "disabled",
    "disable", "required", "mode",	"format",   "version",	 "header",  "kind",
    "server",  "port",	   "expiry",	"expires",  "ttl",	 "timeout", "region",
    "prefix",  "suffix",   "count",	"min",	    "max",	 "policy",  "hash",
    "method",  "provider", "algorithm", "location", "source",	 "env",	    "var",
    "scope",   "audience", "issuer",	"algo",	    "alg",	 "rounds",  "iterations",
    "cost",    "strength", "lifetime",	"age",	    "rotation",	 "reset",   "store",
    "backend", "helper",   "dialog",	"prompt",   "check",	 "rules",   NULL};

static bool word_in(const char *w, size_t n, const char *const *list)
{
	/* Most words of a name are in no list: compare the first letter before anything else. */
	char first = to_lower(w[0]);

	for (; *list; list++)
		if ((*list)[0] == first && eq_nocase(w, n, *list))
			return true;
	return false;
}

/*
 * A credential word of a name (TOKEN, PASS, PWD, SECRET, KEY, PAT; AUTH, CRED) shows in the pairs
 * of adjacent letters the name has, whatever the case: a name with none of the pairs of any of
 * them cannot be one, which most names of `x=y` in a RUN line show in one pass, before
 * name_class() splits them into words. name_byte[] numbers the letters 1-26 (either case), the
 * other bytes of a name (digits, '_', '.', '-') NAME_OTHER, the rest 0; bigram_bit[][] has a
 * bit for each of the pairs below (by those numbers), and none for the others.
 */
enum { NAME_OTHER = 27 };
#define LETTER(c) [c] = (c) - 'a' + 1, [(c) - 'a' + 'A'] = (c) - 'a' + 1
#define OTHER(c)  [c] = NAME_OTHER
static const unsigned char name_byte[256] = {
    LETTER('a'), LETTER('b'), LETTER('c'), LETTER('d'), LETTER('e'), LETTER('f'), LETTER('g'),
    LETTER('h'), LETTER('i'), LETTER('j'), LETTER('k'), LETTER('l'), LETTER('m'), LETTER('n'),
    LETTER('o'), LETTER('p'), LETTER('q'), LETTER('r'), LETTER('s'), LETTER('t'), LETTER('u'),
    LETTER('v'), LETTER('w'), LETTER('x'), LETTER('y'), LETTER('z'), OTHER('0'),  OTHER('1'),
    OTHER('2'),	 OTHER('3'),  OTHER('4'),  OTHER('5'),	OTHER('6'),  OTHER('7'),  OTHER('8'),
    OTHER('9'),	 OTHER('_'),  OTHER('.'),  OTHER('-'),
};
#undef OTHER
#undef LETTER

enum {
	BG_TO,
	BG_OK,
	BG_KE,
	BG_EN,
	BG_PA,
	BG_AS,
	BG_SS,
	BG_PW,
	BG_WD,
	BG_SE,
	BG_EC,
	BG_CR,
	BG_RE,
	BG_ET,
	BG_EY,
	BG_AT,
	BG_AU,
	BG_UT,
	BG_TH,
	BG_ED
};
#define PAIR(a, b) [(a) - 'a' + 1][(b) - 'a' + 1]
#define BIT(x)	   (1u << BG_##x)
static const uint32_t bigram_bit[32][32] = {
    PAIR('t', 'o') = BIT(TO), PAIR('o', 'k') = BIT(OK), PAIR('k', 'e') = BIT(KE),
    PAIR('e', 'n') = BIT(EN), PAIR('p', 'a') = BIT(PA), PAIR('a', 's') = BIT(AS),
    PAIR('s', 's') = BIT(SS), PAIR('p', 'w') = BIT(PW), PAIR('w', 'd') = BIT(WD),
    PAIR('s', 'e') = BIT(SE), PAIR('e', 'c') = BIT(EC), PAIR('c', 'r') = BIT(CR),
    PAIR('r', 'e') = BIT(RE), PAIR('e', 't') = BIT(ET), PAIR('e', 'y') = BIT(EY),
    PAIR('a', 't') = BIT(AT), PAIR('a', 'u') = BIT(AU), PAIR('u', 't') = BIT(UT),
    PAIR('t', 'h') = BIT(TH), PAIR('e', 'd') = BIT(ED),
};

/* The pairs of each word. */
#define W_TOKEN	 (BIT(TO) | BIT(OK) | BIT(KE) | BIT(EN))
#define W_PASS	 (BIT(PA) | BIT(AS) | BIT(SS))
#define W_PWD	 (BIT(PW) | BIT(WD))
#define W_SECRET (BIT(SE) | BIT(EC) | BIT(CR) | BIT(RE) | BIT(ET))
#define W_KEY	 (BIT(KE) | BIT(EY))
#define W_PAT	 (BIT(PA) | BIT(AT))
#define W_AUTH	 (BIT(AU) | BIT(UT) | BIT(TH))
#define W_CRED	 (BIT(CR) | BIT(RE) | BIT(ED))
/* The strong ones (class 2) first, then the weak ones. */
static const uint32_t word_bigrams[] = {W_TOKEN, W_PASS, W_PWD,	 W_SECRET,
					W_KEY,	 W_PAT,	 W_AUTH, W_CRED};
enum { STRONG_WORDS = 6 };
/* Rare pairs, one at least of each word: a name with none of them has no word, in one test. */
enum {
	RARE_STRONG = BIT(OK) | BIT(SS) | BIT(PW) | BIT(CR) | BIT(EY) | BIT(PA),
	RARE_ANY = RARE_STRONG | BIT(AU)
};
_Static_assert((W_TOKEN & RARE_STRONG) && (W_PASS & RARE_STRONG) && (W_PWD & RARE_STRONG) &&
		   (W_SECRET & RARE_STRONG) && (W_KEY & RARE_STRONG) && (W_PAT & RARE_STRONG) &&
		   (W_AUTH & RARE_ANY) && (W_CRED & RARE_ANY),
	       "every word has a rare pair");
#undef PAIR
#undef BIT
#undef W_TOKEN
#undef W_PASS
#undef W_PWD
#undef W_SECRET
#undef W_KEY
#undef W_PAT
#undef W_AUTH
#undef W_CRED

/* The bigram_bit[]s of name. */
static uint32_t name_bigrams(const char *name, size_t len)
{
	uint32_t have = 0;
	unsigned prev = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned k = name_byte[(unsigned char)name[i]];

		have |= bigram_bit[prev][k];
		prev = k;
	}
	return have;
}

/* Whether a name with the pairs `have` may be of class `min` (1 or 2) or more. */
static bool may_name_secret(uint32_t have, int min)
{
	size_t n = min > 1 ? STRONG_WORDS : BALE_ARRAY_SIZE(word_bigrams);

	if (!(have & (min > 1 ? RARE_STRONG : RARE_ANY)))
		return false;
	for (size_t k = 0; k < n; k++)
		if ((have & word_bigrams[k]) == word_bigrams[k])
			return true;
	return false;
}

/* 0: no credential, 1: weak (AUTH, CREDENTIALS), 2: strong (TOKEN, PASSWORD, API_KEY). */
static int words_class(const char *name, size_t len)
{
	const char *prev = NULL, *last = NULL;
	size_t prev_len = 0, last_len = 0;
	int cls = 0;

	if (len == 0 || len > 256 || eq_nocase(name, len, "pwd"))
		return 0;
	for (size_t i = 0; i < len;) {
		size_t start, n;

		while (i < len && !is_alnum(name[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		/* A word: letters and digits, split where lower case turns to upper (camelCase). */
		i++;
		while (i < len && is_alnum(name[i]) &&
		       !(is_upper(name[i]) && is_lower(name[i - 1])))
			i++;
		n = i - start;
		if (eq_nocase(name + start, n, "public"))
			return 0;
		if (word_in(name + start, n, strong_words))
			cls = 2;
		else if (eq_nocase(name + start, n, "key") && prev &&
			 word_in(prev, prev_len, key_owners))
			cls = 2;
		else if (word_in(name + start, n, weak_words) && cls < 1)
			cls = 1;
		prev = name + start;
		prev_len = n;
		last = prev;
		last_len = n;
	}
	if (cls && last && word_in(last, last_len, holder_words))
		return 0;
	return cls;
}

/* words_class(), or 0 early when the name's letters show it is below class `min`. */
static int name_class(const char *name, size_t len, int min)
{
	if (len == 0 || len > 256 || !may_name_secret(name_bigrams(name, len), min))
		return 0;
	return words_class(name, len);
}

bool bale_secret_name(const char *name, size_t len)
{
	return name_class(name, len, 1) > 0;
}

/* Values that stand for "no value here" rather than a credential. */
static const char *const placeholders[] = {
    "true",	   "false",	"yes",	 "no",	     "null",	 "none",   "nil",
    "empty",	   "undefined", "unset", "required", "optional", "string", "example",
    "placeholder", "redacted",	"dummy", "disabled", "enabled",	 NULL};

/*
 * Whether a literal may start with byte c: not a variable or command ($ ` %), a path (/ ~), a
 * placeholder (<password>), a list or group ([ (), a pattern or mask (*).
 */
static bool may_start_literal(char c)
{
	static const bool starts_no_literal[256] = {
	    ['$'] = true, ['`'] = true, ['%'] = true, ['/'] = true, ['~'] = true,
	    ['<'] = true, ['['] = true, ['('] = true, ['*'] = true,
	};

	return !starts_no_literal[(unsigned char)c];
}

static bool is_literal(const char *v, size_t n)
{
	bool same = true;

	if (n < 4 || n > 4096)
		return false;
	if (memchr(v, '$', n) || memchr(v, '`', n) || memchr(v, '%', n) ||
	    (n >= 2 && memchr(v, '{', n) && memchr(v, '}', n)))
		return false;
	if (!may_start_literal(v[0]) || starts_with(v, n, "./") || starts_with(v, n, "../"))
		return false;
	for (size_t i = 1; i < n; i++)
		same &= v[i] == v[0];
	if (same || starts_with(v, n, "...") || starts_with_nocase(v, n, "xxx"))
		return false;
	return !word_in(v, n, placeholders);
}

bool bale_secret_assignment(const char *name, size_t name_len, const char *value, size_t value_len)
{
	/* What is_literal() turns down at a glance first: most values are paths or variables. */
	if (value_len < 4 || !may_start_literal(value[0]))
		return false;
	return name_class(name, name_len, 2) == 2 && is_literal(value, value_len);
}

/* --- assignments in text ------------------------------------------------------------------- */

/* Whether byte c ends a value, quoted with `quote` or not (0). */
static bool ends_value(char c, char quote)
{
	static const bool unquoted[256] = {
	    [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, [';'] = true, ['&'] = true,
	    ['|'] = true, [')'] = true,	 ['"'] = true,	['\''] = true, [','] = true, ['\\'] = true,
	};

	return quote ? c == quote : unquoted[(unsigned char)c];
}

static bool try_named_assignment(const char *text, size_t len, size_t name_start, size_t name_end,
				 size_t v, char quote, bale_secret_match *out);

/*
 * At the separator text[i] ('=' or ':'): the name before it (an optional closing quote between)
 * and the value after it (optional blanks after ':', an optional opening quote). Returns true
 * with the value's span when the pair is a literal credential. Inline where the scan tries it:
 * most names and values are turned down in a few steps.
 */
static inline __attribute__((always_inline)) bool try_assignment(const char *text, size_t len,
								 size_t i, bale_secret_match *out)
{
	size_t name_end = i, name_start, lowest, v = i + 1, vend;
	uint32_t have = 0;
	unsigned k, next = 0;
	char quote = 0;

	if (text[i] == ':')
		while (v < len && (text[v] == ' ' || text[v] == '\t'))
			v++;
	if (v < len && (text[v] == '"' || text[v] == '\''))
		quote = text[v++];
	/*
	 * Most values in RUN text are paths, variables or short (--prefix=/usr, PATH=$PATH:...,
	 * --strip-components=1), which is_literal() turns down: no need to read their names.
	 */
	if (v + 4 > len || !may_start_literal(text[v]))
		return false;
	for (vend = v; vend < v + 4; vend++)
		if (ends_value(text[vend], quote))
			return false;
	if (name_end > 0 && (text[name_end - 1] == '"' || text[name_end - 1] == '\''))
		name_end--;
	/* The name's letter pairs are gathered as it is read: most hold no credential word. */
	lowest = name_end > 256 ? name_end - 256 : 0;
	for (name_start = name_end;
	     name_start > lowest && (k = name_byte[(unsigned char)text[name_start - 1]]);
	     name_start--) {
		have |= bigram_bit[k][next];
		next = k;
	}
	if (!may_name_secret(have, 2))
		return false;
	return try_named_assignment(text, len, name_start, name_end, v, quote, out);
}

/*
 * The rest of try_assignment(), for the few names with the letters of a credential word:
 * text[name_start, name_end) and the value from v, `quote`d or not, of at least 4 bytes.
 */
static bool try_named_assignment(const char *text, size_t len, size_t name_start, size_t name_end,
				 size_t v, char quote, bale_secret_match *out)
{
	size_t vend;

	while (name_start < name_end && text[name_start] == '-')
		name_start++;
	/* -Dname=value: a Java system property. */
	if (name_start > 0 && text[name_start - 1] == '-' && text[name_start] == 'D' &&
	    name_end - name_start > 1 && memchr(text + name_start, '.', name_end - name_start))
		name_start++;
	if (name_start == name_end || words_class(text + name_start, name_end - name_start) != 2)
		return false;
	for (vend = v + 4; vend < len && !ends_value(text[vend], quote); vend++)
		;
	if (!is_literal(text + v, vend - v))
		return false;
	/* A token with a shape of its own is named for what it is (v starts a word: it follows a
	 * separator, a blank or a quote). */
	if (!try_shape(text, len, v, out) || out->end > vend) {
		out->kind = BALE_SECRET_PASSWORD;
		out->what = "a literal credential";
		out->start = v;
		out->len = vend - v;
	}
	out->end = vend;
	out->name = name_start;
	out->name_len = name_end - name_start;
	return true;
}

/* At "://": scheme://user:password@host with a literal password. */
static bool try_url(const char *text, size_t len, size_t i, bale_secret_match *out)
{
	size_t p = i + 3, colon = 0, at = 0;

	if (i == 0 || !is_alnum(text[i - 1]))
		return false;
	for (size_t k = p; k < len && k - p < 512; k++) {
		char c = text[k];

		if (c == '@') {
			at = k;
			break;
		}
		if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' ||
		    c == '"' || c == '\'')
			return false;
		if (c == ':' && !colon)
			colon = k;
	}
	if (!at || !colon || colon + 1 >= at || colon == p)
		return false;
	if (memchr(text + p, '$', at - p) || memchr(text + p, '{', at - p))
		return false;
	return found(out, BALE_SECRET_URL_PASSWORD, "a password in a URL", colon + 1, at);
}

/* "Authorization: Bearer|Basic|token <credential>". */
static bool try_authorization(const char *text, size_t len, size_t i, bale_secret_match *out)
{
	static const char *const schemes[] = {"bearer ", "basic ", "token ", NULL};
	size_t p = i + 14, v, vend;

	if ((i > 0 && is_alnum(text[i - 1])) ||
	    !starts_with_nocase(text + i, len - i, "authorization:"))
		return false;
	while (p < len && text[p] == ' ')
		p++;
	for (const char *const *s = schemes;; s++) {
		if (!*s)
			return false;
		if (starts_with_nocase(text + p, len - p, *s)) {
			v = p + strlen(*s);
			break;
		}
	}
	for (vend = v;
	     vend < len && text[vend] && (is_alnum(text[vend]) || strchr("-._~+/=", text[vend]));
	     vend++)
		;
	if (vend - v < 8 || !is_literal(text + v, vend - v) ||
	    (vend < len && (text[vend] == '$' || text[vend] == '{')))
		return false;
	return found(out, BALE_SECRET_BEARER, "an Authorization header credential", v, vend);
}

/* Names a shaped token by the variable it is assigned to: NAME=token, "name": "token". */
static void attach_name(const char *text, size_t i, bale_secret_match *out)
{
	size_t end, start;

	if (i > 0 && (text[i - 1] == '"' || text[i - 1] == '\''))
		i--;
	while (i > 0 && text[i - 1] == ' ')
		i--;
	if (i == 0 || (text[i - 1] != '=' && text[i - 1] != ':'))
		return;
	end = --i;
	if (end > 0 && (text[end - 1] == '"' || text[end - 1] == '\''))
		end--;
	for (start = end;
	     start > 0 && end - start < 256 && name_byte[(unsigned char)text[start - 1]]; start--)
		;
	while (start < end && text[start] == '-')
		start++;
	if (start < end) {
		out->name = start;
		out->name_len = end - start;
	}
}

/*
 * Every match has a trigger, a position a detector must be tried at, and the scan returns the
 * match of the first trigger that has one. Two filters find the triggers.
 *
 * Each trigger has an anchor at most ANCHOR_REACH bytes after it, one of five bytes: '-' '='
 * ':' start a key header, an assignment or a URL's "://"; "authorization:" is tried at its ':';
 * each token shape has a '_' or '-' in its prefix (ghp_, glpat-, xoxb-, sk_live_, npm_, pypi-)
 * or starts with 'A' (AKIA, AIza). Text with no anchor, most text of most files, is skipped 16
 * bytes at a time (next_anchor(); 32 with AVX2).
 *
 * Near an anchor, candidates16() flags the positions of 16 bytes that may be triggers: '=',
 * ':', "-----B" and the first two bytes of a token prefix (A, gh, gi, gl, xo, sk, rk, np, py),
 * and only those are tried. RUN text, dense in '-' and '_', has few of them.
 */
#define ANCHOR_REACH 6

#if defined(__SSE2__)
#include <emmintrin.h>
#define LOAD(p)	 _mm_loadu_si128((const __m128i *)(const void *)(p))
#define EQ(v, c) _mm_cmpeq_epi8((v), _mm_set1_epi8(c))
#define OR	 _mm_or_si128
#define AND	 _mm_and_si128
#endif

/* The anchors, for next_anchor() without SIMD. */
static const bool anchor_byte[256] = {
    ['-'] = true, ['='] = true, [':'] = true, ['_'] = true, ['A'] = true};

/* next_anchor() with no SIMD: four bytes a step, one test of the four. */
static size_t next_anchor_bytes(const char *text, size_t len, size_t i)
{
	for (; i + 4 <= len; i += 4)
		if (anchor_byte[(unsigned char)text[i]] | anchor_byte[(unsigned char)text[i + 1]] |
		    anchor_byte[(unsigned char)text[i + 2]] |
		    anchor_byte[(unsigned char)text[i + 3]])
			break;
	while (i < len && !anchor_byte[(unsigned char)text[i]])
		i++;
	return i;
}

#if defined(__SSE2__)
/* A bit per anchor among p[0, 16). */
static inline unsigned anchors16(const char *p, unsigned unused)
{
	__m128i v = LOAD(p);

	(void)unused;
	return (unsigned)_mm_movemask_epi8(
	    OR(OR(OR(EQ(v, '-'), EQ(v, '=')), OR(EQ(v, ':'), EQ(v, '_'))), EQ(v, 'A')));
}
#endif

/* The first anchor in text[i, len), or len: 16 bytes a step where SSE2 is compiled in. */
static size_t next_anchor(const char *text, size_t len, size_t i)
{
#if defined(__SSE2__)
	if (bale_find16(text, len, &i, anchors16, 0))
		return i;
#endif
	return next_anchor_bytes(text, len, i);
}

/* How many bytes the candidate filters read past their last position: the 'B' of "-----B". */
#define CANDIDATE_PAST 5

/* Whether p[0] (with p[1, 5] readable) may be a trigger. */
static bool is_candidate(const char *p)
{
	switch (p[0]) {
	case '=':
	case ':':
		return true;
	case '-':
		return p[4] == '-' && p[5] == 'B';
	default:
		return first_group[(unsigned char)p[0]] & second_of[(unsigned char)p[1]];
	}
}

/* candidates16() with no SIMD. */
static unsigned candidates_bytes(const char *p)
{
	unsigned mask = 0;

	for (unsigned k = 0; k < 16; k++)
		mask |= (unsigned)is_candidate(p + k) << k;
	return mask;
}

#if defined(__SSE2__)
/* A bit per position of p[0, 16) that may be a trigger; p[0, 16 + CANDIDATE_PAST) is readable. */
static inline __attribute__((always_inline)) unsigned candidates16(const char *p)
{
	__m128i v0 = LOAD(p), v1 = LOAD(p + 1), v5 = LOAD(p + 5);
	/* Bytes that differ only in the bits masked off are compared as one: h i l (and m), r s. */
	__m128i lower = OR(OR(AND(EQ(v0, 'g'), EQ(AND(v1, _mm_set1_epi8(~5)), 'h')),
			      AND(EQ(AND(v0, _mm_set1_epi8(~1)), 'r'), EQ(v1, 'k'))),
			   OR(OR(AND(EQ(v0, 'x'), EQ(v1, 'o')), AND(EQ(v0, 'n'), EQ(v1, 'p'))),
			      AND(EQ(v0, 'p'), EQ(v1, 'y'))));
	/* 'A' is rare enough in most text to need no second byte. */
	__m128i upper = EQ(v0, 'A');
	__m128i key = AND(EQ(v0, '-'), EQ(v5, 'B'));
	__m128i marks = OR(EQ(v0, '='), EQ(v0, ':'));

	return (unsigned)_mm_movemask_epi8(OR(OR(upper, lower), OR(key, marks)));
}
#else
#define candidates16 candidates_bytes
#endif
#undef LOAD
#undef EQ
#undef OR
#undef AND

#if defined(__x86_64__) && defined(__GNUC__)
/*
 * Where the processor has AVX2 (most x86-64 of the last ten years), the scan reads 32 bytes at a
 * time instead, in a copy of it compiled for AVX2 (scan_avx2()).
 */
#define HAVE_SCAN_AVX2 1
#include <immintrin.h>
#define TARGET_AVX2 __attribute__((target("avx2")))

/* next_anchor(), 32 bytes at a time. */
static inline TARGET_AVX2 size_t next_anchor32(const char *text, size_t len, size_t i)
{
#define EQ(v, c) _mm256_cmpeq_epi8((v), _mm256_set1_epi8(c))
#define ANCHORS(v)                                                                                 \
	((unsigned)_mm256_movemask_epi8(                                                           \
	    _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(EQ(v, '-'), EQ(v, '=')),               \
					    _mm256_or_si256(EQ(v, ':'), EQ(v, '_'))),              \
			    EQ(v, 'A'))))
#define LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
	unsigned mask;

	for (; i + 32 <= len; i += 32)
		if ((mask = ANCHORS(LOAD(text + i))))
			return i + (size_t)__builtin_ctz(mask);
	/* The last bytes: the 32 that end the text, less those before i. */
	if (i < len && len >= 32) {
		mask = ANCHORS(LOAD(text + len - 32)) >> (32 - (len - i));
		return mask ? i + (size_t)__builtin_ctz(mask) : len;
	}
#undef EQ
#undef ANCHORS
#undef LOAD
	return next_anchor(text, len, i);
}

/*
 * The candidates of 32 positions (p[0, 32 + CANDIDATE_PAST) readable), as candidates16() flags them
 * but with 'A' only before K S B C I, by classes of bytes looked up by their two halves (vpshufb):
 * a bit per prefix group (A, g, x, r/s, n, p) set in the first-byte class of its first byte and in
 * the second-byte class of its second bytes (h i l m after g, o, k, p, y), and a bit for '=' ':'
 * set in their first-byte class and in every second-byte class. Each bit's bytes are a set of
 * high halves by a set of low halves (A takes two bits for it), so the lookups are exact. A
 * position whose first-byte class and the next byte's second-byte class share a bit is a
 * candidate; so is "-----B".
 */
enum { K_G = 1, K_X = 2, K_RS = 4, K_N = 8, K_P = 16, K_MARK = 32, K_A = 64, K_AS = 128 };
#define TABLE(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)
static inline TARGET_AVX2 unsigned candidates32(const char *p)
{
	const __m256i nibble = _mm256_set1_epi8(0x0f);
	/* first bytes: p 0x70, A 0x41, r s 0x72 0x73, g 0x67, x 0x78, : 0x3a, = 0x3d, n 0x6e */
	const __m256i first_lo =
	    TABLE(K_P, K_A | K_AS, K_RS, K_RS, 0, 0, 0, K_G, K_X, 0, K_MARK, 0, 0, K_MARK, K_N, 0);
	const __m256i first_hi = TABLE(0, 0, 0, K_MARK, K_A | K_AS, 0, K_G | K_N, K_X | K_RS | K_P,
				       0, 0, 0, 0, 0, 0, 0, 0);
	/* second bytes: p 0x70, h i l m 0x68 0x69 0x6c 0x6d, y 0x79, k 0x6b, o 0x6f; after A,
	 * B C I K 0x42 0x43 0x49 0x4b (K_A) and S 0x53 (K_AS); any byte after '=' ':' (M) */
	enum { M = K_MARK };
	const __m256i second_lo =
	    TABLE(M | K_N, M, M | K_A, M | K_A | K_AS, M, M, M, M, M | K_G, M | K_G | K_P | K_A, M,
		  M | K_RS | K_A, M | K_G, M | K_G, M, M | K_X);
	const __m256i second_hi = TABLE(M, M, M, M, M | K_A, M | K_AS, M | K_G | K_X | K_RS,
					M | K_N | K_P, M, M, M, M, M, M, M, M);
	__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
	__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 1));
	__m256i v5 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 5));
	__m256i first = _mm256_and_si256(
	    _mm256_shuffle_epi8(first_lo, _mm256_and_si256(v0, nibble)),
	    _mm256_shuffle_epi8(first_hi, _mm256_and_si256(_mm256_srli_epi16(v0, 4), nibble)));
	__m256i second = _mm256_and_si256(
	    _mm256_shuffle_epi8(second_lo, _mm256_and_si256(v1, nibble)),
	    _mm256_shuffle_epi8(second_hi, _mm256_and_si256(_mm256_srli_epi16(v1, 4), nibble)));
	__m256i none = _mm256_cmpeq_epi8(_mm256_and_si256(first, second), _mm256_setzero_si256());
	__m256i key = _mm256_and_si256(_mm256_cmpeq_epi8(v0, _mm256_set1_epi8('-')),
				       _mm256_cmpeq_epi8(v5, _mm256_set1_epi8('B')));

	return ~(unsigned)_mm256_movemask_epi8(none) | (unsigned)_mm256_movemask_epi8(key);
}
#undef TABLE
#endif

/* Tries the detectors of the candidate at text[p] (p >= from). */
static inline __attribute__((always_inline)) bool try_at(const char *text, size_t len, size_t from,
							 size_t p, bale_secret_match *out)
{
	switch (text[p]) {
	case '=':
		return try_assignment(text, len, p, out);
	case ':':
		/* "authorization:", from its last letter back */
		if (p >= from + 13 && (text[p - 1] | 0x20) == 'n' &&
		    try_authorization(text, len, p - 13, out))
			return true;
		if (p + 2 < len && text[p + 1] == '/' && text[p + 2] == '/')
			return try_url(text, len, p, out);
		return try_assignment(text, len, p, out);
	case '-':
		return try_private_key(text, len, p, out);
	default:
		/* may_start_shape() inline first: most candidates end there, with no call. */
		if ((p > 0 && is_alnum(text[p - 1])) || !may_start_shape(text, len, p) ||
		    !try_shape(text, len, p, out))
			return false;
		attach_name(text, p, out);
		return true;
	}
}

/*
 * The scan: from each anchor's first possible trigger, the candidates of the next `width`
 * positions are tried in order; next_anchor_of() and candidates_of() are those of the width.
 */
static inline __attribute__((always_inline)) bool
scan(const char *text, size_t len, size_t from, bale_secret_match *out, size_t width,
     size_t (*next_anchor_of)(const char *, size_t, size_t),
     unsigned (*candidates_of)(const char *))
{
	size_t i = from;
	bool dense = false;

	while (i < len) {
		unsigned mask;

		/*
		 * After a block with candidates the next one is filtered at once: where triggers
		 * are dense, as in RUN text, an anchor is there too, and looking for it first only
		 * costs. After a block with none, the text may be long without an anchor.
		 */
		if (!dense) {
			size_t anchor = next_anchor_of(text, len, i);

			if (anchor >= len)
				return false;
			if (anchor - i > ANCHOR_REACH)
				i = anchor - ANCHOR_REACH;
		}
		if (i + width + CANDIDATE_PAST <= len) {
			mask = candidates_of(text + i);
		} else {
			/* The last bytes, copied where the filter may read past them: a zero byte
			 * flags nothing and starts no trigger, as the end of the text does. */
			char tail[32 + CANDIDATE_PAST] = {0};

			memcpy(tail, text + i, len - i);
			mask = candidates_of(tail);
		}
		dense = mask != 0;
		for (; mask; mask &= mask - 1)
			if (try_at(text, len, from, i + (size_t)__builtin_ctz(mask), out))
				return true;
		i += width;
	}
	return false;
}

#ifdef HAVE_SCAN_AVX2
static TARGET_AVX2 bool scan_avx2(const char *text, size_t len, size_t from, bale_secret_match *out)
{
	return scan(text, len, from, out, 32, next_anchor32, candidates32);
}
#endif

/* The 16-byte scan, out of line so that bale_secret_find() saves nothing to choose a scan. */
static __attribute__((noinline)) bool scan16(const char *text, size_t len, size_t from,
					     bale_secret_match *out)
{
	return scan(text, len, from, out, 16, next_anchor, candidates16);
}

/* The scan of a processor with no SIMD, kept in every build so that tests can compare it. */
static __attribute__((noinline)) bool scan_bytes(const char *text, size_t len, size_t from,
						 bale_secret_match *out)
{
	return scan(text, len, from, out, 16, next_anchor_bytes, candidates_bytes);
}

bool bale_secret_find_with(bale_secret_scan how, const char *text, size_t len, size_t from,
			   bale_secret_match *out)
{
	switch (how) {
	case BALE_SECRET_SCAN_BYTES:
		return scan_bytes(text, len, from, out);
	case BALE_SECRET_SCAN_16:
		return scan16(text, len, from, out);
	case BALE_SECRET_SCAN_BEST:
		break;
	}
#ifdef HAVE_SCAN_AVX2
	if (__builtin_cpu_supports("avx2"))
		return scan_avx2(text, len, from, out);
#endif
	return scan16(text, len, from, out);
}

bool bale_secret_find(const char *text, size_t len, size_t from, bale_secret_match *out)
{
	return bale_secret_find_with(BALE_SECRET_SCAN_BEST, text, len, from, out);
}

/* --- files -------------------------------------------------------------------------------- */

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* True when a word of the file's name (split at - _ .) is one of `words`. */
static bool name_has_word(const char *s, size_t len, const char *const *words)
{
	for (size_t i = 0; i < len;) {
		size_t start;

		while (i < len && !is_alnum(s[i]))
			i++;
		start = i;
		while (i < len && is_alnum(s[i]))
			i++;
		if (i > start && word_in(s + start, i - start, words))
			return true;
	}
	return false;
}

const char *bale_secret_file(const char *path, size_t len, bale_secret_file_proof *proof)
{
	static const char *const ssh_keys[] = {
	    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", NULL};
	static const char *const ssh_public[] = {"authorized_keys", "known_hosts", "config",
						 "environment", NULL};
	static const char *const env_samples[] = {"example",  "sample",	 "template", "dist",
						  "defaults", "default", "tmpl",     "tpl",
						  "schema",   NULL};
	static const char *const cert_words[] = {
	    "ca",  "cert",   "certs", "cacert", "certificate", "chain",	     "fullchain", "bundle",
	    "pub", "public", "root",  "crt",	"trust",       "truststore", NULL};
	const char *base, *dir = NULL;
	size_t blen, dlen = 0;

	*proof = BALE_SECRET_FILE_BY_NAME;
	while (len > 1 && path[len - 1] == '/')
		len--;
	base = path + len;
	while (base > path && base[-1] != '/')
		base--;
	blen = (size_t)(path + len - base);
	if (base > path + 1) {
		const char *dend = base - 1;

		dir = dend;
		while (dir > path && dir[-1] != '/')
			dir--;
		dlen = (size_t)(dend - dir);
	}
	if (blen == 0 || ends_with(base, blen, ".pub"))
		return NULL;
	/* All of them are id_*: most names end here. */
	if (starts_with(base, blen, "id_"))
		for (const char *const *k = ssh_keys; *k; k++)
			if (strlen(*k) == blen && memcmp(base, *k, blen) == 0)
				return "an SSH private key";
	if (blen == 4 && memcmp(base, ".ssh", 4) == 0)
		return "an SSH directory (private keys)";
	if (dlen == 4 && memcmp(dir, ".ssh", 4) == 0 && !word_in(base, blen, ssh_public))
		return "an SSH private key";
	if ((blen == 4 && memcmp(base, ".env", 4) == 0) ||
	    (starts_with(base, blen, ".env.") && !name_has_word(base + 5, blen - 5, env_samples)) ||
	    (ends_with(base, blen, ".env") && !name_has_word(base, blen - 4, env_samples) &&
	     blen > 4) ||
	    (blen == 5 && memcmp(base, ".env*", 5) == 0))
		return "an environment file (.env)";
	if ((blen == 16 && memcmp(base, "credentials.json", 16) == 0) ||
	    starts_with(base, blen, "client_secret"))
		return "a credentials file";
	if (blen == 6 && memcmp(base, ".npmrc", 6) == 0) {
		*proof = BALE_SECRET_FILE_NPM_AUTH;
		return "an npm configuration with an auth token (.npmrc)";
	}
	if (blen == 7 && memcmp(base, ".pypirc", 7) == 0)
		return "a PyPI configuration with upload credentials (.pypirc)";
	if ((blen == 6 && memcmp(base, ".netrc", 6) == 0) ||
	    (blen == 6 && memcmp(base, "_netrc", 6) == 0))
		return "a .netrc file (login passwords)";
	if (blen == 16 && memcmp(base, ".git-credentials", 16) == 0)
		return "Git credentials (.git-credentials)";
	if ((blen == 11 && memcmp(base, "config.json", 11) == 0 && dlen == 7 &&
	     memcmp(dir, ".docker", 7) == 0) ||
	    (blen == 10 && memcmp(base, ".dockercfg", 10) == 0))
		return "Docker registry credentials (.docker/config.json)";
	if ((blen == 11 && memcmp(base, "credentials", 11) == 0 && dlen == 4 &&
	     memcmp(dir, ".aws", 4) == 0) ||
	    (blen == 4 && memcmp(base, ".aws", 4) == 0))
		return "AWS credentials (.aws/credentials)";
	if ((blen == 6 && memcmp(base, "config", 6) == 0 && dlen == 5 &&
	     memcmp(dir, ".kube", 5) == 0) ||
	    (blen == 10 && memcmp(base, "kubeconfig", 10) == 0))
		return "a Kubernetes configuration (cluster credentials)";
	if (ends_with(base, blen, ".p12") || ends_with(base, blen, ".pfx"))
		return "a PKCS#12 keystore (a private key)";
	if (ends_with(base, blen, ".pem") && !name_has_word(base, blen - 4, cert_words)) {
		*proof = BALE_SECRET_FILE_PRIVATE_KEY;
		return "a private key (*.pem)";
	}
	if (ends_with(base, blen, ".key") && blen > 4) {
		*proof = BALE_SECRET_FILE_PRIVATE_KEY;
		return "a private key (*.key)";
	}
	return NULL;
}

bool bale_secret_file_confirmed(bale_secret_file_proof proof, const char *data, size_t len)
{
	switch (proof) {
	case BALE_SECRET_FILE_BY_NAME:
		return true;
	case BALE_SECRET_FILE_PRIVATE_KEY:
		return memmem(data, len, "PRIVATE KEY", 11) != NULL;
	case BALE_SECRET_FILE_NPM_AUTH:
		/* _auth, _authToken, _password: npm's credential settings. */
		return memmem(data, len, "_auth", 5) || memmem(data, len, "_password", 9);
	}
	return true;
}
