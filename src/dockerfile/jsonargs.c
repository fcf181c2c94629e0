/*
 * Exec-form arguments: a JSON array of strings, read exactly as Go's encoding/json reads it,
 * because BuildKit decides between exec form and shell form by whether json.Unmarshal accepts
 * the text. The whole text must be one valid JSON value (nesting at most 10000 deep, as in Go);
 * only then are the elements looked at.
 */
#include "dockerfile/internal.h"
#include "util/unicode.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define JSON_MAX_DEPTH 10000

int df_strvec_reserve(df_strvec *vec, size_t n)
{
	size_t alloc = vec->alloc;

	if (n <= alloc)
		return 0;
	if (BALE_ARRAY_RESERVE(vec->v, vec->alloc, n))
		return BALE_ENOMEM;
	return BALE_ARRAY_RESERVE(vec->lens, alloc, n);
}

void df_strvec_release(df_strvec *vec)
{
	free(vec->v);
	free(vec->lens);
	memset(vec, 0, sizeof(*vec));
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Validates the string starting at s[*i] == '"'; leaves *i after the closing quote. */
static bool scan_string(const char *s, size_t len, size_t *i)
{
	size_t k = *i + 1;

	while (k < len) {
		unsigned char c = (unsigned char)s[k];

		if (c == '"') {
			*i = k + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++k >= len)
				return false;
			switch (s[k]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				k++;
				break;
			case 'u':
				if (len - k < 5)
					return false;
				for (int h = 1; h <= 4; h++)
					if (hexval(s[k + h]) < 0)
						return false;
				k += 5;
				break;
			default:
				return false;
			}
			continue;
		}
		k++;
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool scan_number(const char *s, size_t len, size_t *i)
{
	size_t k = *i;

	if (k < len && s[k] == '-')
		k++;
	if (k >= len)
		return false;
	if (s[k] == '0') {
		k++;
	} else if (is_digit(s[k])) {
		while (k < len && is_digit(s[k]))
			k++;
	} else {
		return false;
	}
	if (k < len && s[k] == '.') {
		k++;
		if (k >= len || !is_digit(s[k]))
			return false;
		while (k < len && is_digit(s[k]))
			k++;
	}
	if (k < len && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k >= len || !is_digit(s[k]))
			return false;
		while (k < len && is_digit(s[k]))
			k++;
	}
	*i = k;
	return true;
}

static bool scan_literal(const char *s, size_t len, size_t *i)
{
	static const char *const words[] = {"true", "false", "null"};

	for (size_t w = 0; w < 3; w++) {
		size_t n = strlen(words[w]);

		if (len - *i >= n && memcmp(s + *i, words[w], n) == 0) {
			*i += n;
			return true;
		}
	}
	return false;
}

/* True when `len` bytes at `s` are exactly one JSON value with optional white space around. */
static bool json_valid(const char *s, size_t len)
{
	unsigned char stack[(JSON_MAX_DEPTH + 7) / 8] = {0}; /* 1 bit per level: 1 = object */
	size_t depth = 0, i = skip_ws(s, len, 0);

#define TOP_IS_OBJECT() (stack[(depth - 1) / 8] & (1u << ((depth - 1) % 8)))
#define PUSH(obj)                                                                                  \
	do {                                                                                       \
		if (depth >= JSON_MAX_DEPTH)                                                       \
			return false;                                                              \
		if (obj)                                                                           \
			stack[depth / 8] |= (unsigned char)(1u << (depth % 8));                    \
		else                                                                               \
			stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));                   \
		depth++;                                                                           \
	} while (0)

value:
	if (i >= len)
		return false;
	switch (s[i]) {
	case '{':
		PUSH(1);
		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == '}') {
			i++;
			depth--;
			goto after_value;
		}
		goto key;
	case '[':
		PUSH(0);
		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == ']') {
			i++;
			depth--;
			goto after_value;
		}
		goto value;
	case '"':
		if (!scan_string(s, len, &i))
			return false;
		goto after_value;
	case 't':
	case 'f':
	case 'n':
		if (!scan_literal(s, len, &i))
			return false;
		goto after_value;
	default:
		if (!scan_number(s, len, &i))
			return false;
		goto after_value;
	}
key:
	if (i >= len || s[i] != '"' || !scan_string(s, len, &i))
		return false;
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != ':')
		return false;
	i = skip_ws(s, len, i + 1);
	goto value;
after_value:
	i = skip_ws(s, len, i);
	if (depth == 0)
		return i == len;
	if (i >= len)
		return false;
	if (s[i] == ',') {
		i = skip_ws(s, len, i + 1);
		if (TOP_IS_OBJECT())
			goto key;
		goto value;
	}
	if ((s[i] == '}' && TOP_IS_OBJECT()) || (s[i] == ']' && !TOP_IS_OBJECT())) {
		i++;
		depth--;
		goto after_value;
	}
	return false;
#undef PUSH
#undef TOP_IS_OBJECT
}

static int read_u4(const char *s)
{
	int v = 0;

	for (int h = 0; h < 4; h++)
		v = v * 16 + hexval(s[h]);
	return v;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes the (already validated) string at s[*i] == '"' into the arena. The result is never
 * longer than the quoted text, so one allocation of that size suffices.
 */
static int decode_string(df_strvec *out, bale_arena *arena, const char *s, size_t len, size_t *i)
{
	size_t start = *i + 1, end = start, w = 0;
	char *dst;

	while (s[end] != '"')
		end += s[end] == '\\' ? 2 : 1;
	dst = bale_arena_alloc(arena, end - start + 1);
	if (!dst)
		return BALE_ENOMEM;
	for (size_t k = start; k < end;) {
		char c = s[k];

		if (c != '\\') {
			dst[w++] = c;
			k++;
			continue;
		}
		switch (s[k + 1]) {
		case 'b':
			dst[w++] = '\b';
			break;
		case 'f':
			dst[w++] = '\f';
			break;
		case 'n':
			dst[w++] = '\n';
			break;
		case 'r':
			dst[w++] = '\r';
			break;
		case 't':
			dst[w++] = '\t';
			break;
		case 'u': {
			uint32_t cp = (uint32_t)read_u4(s + k + 2);

			k += 6;
			if (cp >= 0xd800 && cp < 0xe000) {
				/* A surrogate: combined with a following low one, else U+FFFD. */
				if (cp < 0xdc00 && end - k >= 6 && s[k] == '\\' &&
				    s[k + 1] == 'u' && hexval(s[k + 2]) >= 0 &&
				    hexval(s[k + 3]) >= 0 && hexval(s[k + 4]) >= 0 &&
				    hexval(s[k + 5]) >= 0) {
					uint32_t lo = (uint32_t)read_u4(s + k + 2);

					if (lo >= 0xdc00 && lo < 0xe000) {
						cp =
						    0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
						k += 6;
					} else {
						cp = 0xfffd;
					}
				} else {
					cp = 0xfffd;
				}
			}
			w += put_utf8(dst + w, cp);
			continue;
		}
		default: /* '"', '\\', '/' */
			dst[w++] = s[k + 1];
		}
		k += 2;
	}
	dst[w] = '\0';
	*i = end + 1;
	(void)len;
	return df_strvec_push(out, dst, w);
}

#if defined(__SSE2__)
/* A bit per byte of p[0, 16) that ends a plain JSON string: '"', '\\' or a control character. */
static unsigned string_stops16(const char *p, unsigned unused)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);

	(void)unused;
	return (unsigned)_mm_movemask_epi8(
	    _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
					   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
}
#endif

/*
 * The first byte of s[i, len) that is '"', '\\' or a control character, or `len`. Where SSE2 is
 * there, sixteen bytes a step, the last ones read as the sixteen that end `s`.
 */
static size_t plain_string_end(const char *s, size_t len, size_t i)
{
#if defined(__SSE2__)
	if (bale_find16(s, len, &i, string_stops16, 0))
		return i;
#endif
	while (i < len && s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20)
		i++;
	return i;
}

/*
 * The common exec form: an array of strings without escapes or control characters. Reads it in
 * one pass into `out` (1), or returns 0, having added nothing, when the text is anything else
 * (then the full validator and decoder decide); BALE_ENOMEM when out of memory.
 */
static int simple_string_array(df_strvec *out, bale_arena *arena, const char *s, size_t len,
			       size_t i)
{
	size_t first = out->n;

	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == ']')
		return skip_ws(s, len, i + 1) == len;
	while (i < len && s[i] == '"') {
		size_t start = ++i;
		char *str;

		i = plain_string_end(s, len, i);
		if (i >= len || s[i] != '"')
			break;
		if (!(str = bale_arena_strndup(arena, s + start, i - start)) ||
		    df_strvec_push(out, str, i - start))
			return BALE_ENOMEM;
		i = skip_ws(s, len, i + 1);
		if (i < len && s[i] == ']') {
			if (skip_ws(s, len, i + 1) == len)
				return 1;
			break;
		}
		if (i >= len || s[i] != ',')
			break;
		i = skip_ws(s, len, i + 1);
	}
	out->n = first;
	return 0;
}

int df_json_string_array(df_strvec *out, bale_arena *arena, const char *s, size_t len)
{
	size_t i = skip_ws(s, len, 0);
	int rc;

	if (i >= len || s[i] != '[')
		return 0;
	if ((rc = simple_string_array(out, arena, s, len, i)) != 0)
		return rc;
	if (!json_valid(s, len))
		return 0;
	i = skip_ws(s, len, i + 1);
	if (s[i] == ']')
		return 1;
	for (;;) {
		if (s[i] != '"')
			return bale_error_set(BALE_EPARSE,
					      "when using JSON array syntax, arrays must "
					      "be comprised of strings only");
		if ((rc = decode_string(out, arena, s, len, &i)) != 0)
			return rc;
		i = skip_ws(s, len, i);
		if (s[i] == ']')
			return 1;
		i = skip_ws(s, len, i + 1); /* the ',' */
	}
}
