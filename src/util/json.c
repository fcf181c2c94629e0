/*
 * The JSON writer (see util.h). Strings are the hot path: runs of bytes that need no escaping are
 * found with a table lookup and copied with one memcpy, so escaping costs little more than a
 * copy for ordinary text. With a sink the buffer is handed over in chunks and reused, so it
 * stays small and hot in the cache however large the document.
 */
#include "util/util.h"

#include <string.h>

/* 0: copy as is; 1: ASCII that needs an escape; 2: the lead byte of a multi-byte sequence. */
static const unsigned char byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* 0x70 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x80 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0x90 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xa0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xb0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xc0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xd0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xe0 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 0xf0 */
};

/*
 * Length of the valid UTF-8 sequence at `s` (at most `len` bytes), or 0 when it is not valid:
 * a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or a code
 * point above U+10FFFF. *cp receives the code point.
 */
static size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t v, min;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* Room for `n` more bytes (and the NUL) without a call in the common case. */
static inline bool room(bale_buf *b, size_t n)
{
	return (b->len + n < b->alloc && !b->err) || bale_buf_grow(b, n) == 0;
}

static inline void put(bale_buf *b, const void *p, size_t n)
{
	if (room(b, n)) {
		memcpy(b->ptr + b->len, p, n);
		b->len += n;
		b->ptr[b->len] = '\0';
	}
}

static inline void put_ch(bale_buf *b, char c)
{
	if (room(b, 1)) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
	}
}

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Whether any of the eight bytes in `w` is a control character, '"', '\\', DEL or not ASCII:
 * the exact "has a byte below n" test for 0x20, and "has a zero byte" on w xor each special.
 */
static inline bool needs_look(uint64_t w)
{
	uint64_t quote = w ^ (ONES * '"'), bslash = w ^ (ONES * '\\'), del = w ^ (ONES * 0x7f);

	return (((w - ONES * 0x20) & ~w) | ((quote - ONES) & ~quote) | ((bslash - ONES) & ~bslash) |
		((del - ONES) & ~del) | w) &
	       HIGHS;
}

int bale_json_escape(bale_buf *out, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;

	while (i < len) {
		unsigned char cls = byte_class[s[i]];
		char esc[8];
		size_t esc_len = 2, n = 0;
		uint32_t cp = 0;

		if (cls == 0) {
			i++;
			/* Plain ASCII goes eight bytes at a time (any byte that needs a look stops
			 * it). */
			while (i + 8 <= len) {
				uint64_t w;

				memcpy(&w, s + i, 8);
				if (needs_look(w))
					break;
				i += 8;
			}
			continue;
		}
		if (cls == 2) {
			n = utf8_sequence(s + i, len - i, &cp);
			if (n && cp != 0x2028 && cp != 0x2029) {
				i += n;
				continue;
			}
		}
		if (i > start)
			put(out, s + start, i - start);
		esc[0] = '\\';
		if (cls == 2 && n) {
			/* U+2028 and U+2029 end lines in JavaScript. */
			memcpy(esc + 1, cp == 0x2028 ? "u2028" : "u2029", 5);
			esc_len = 6;
			i += n;
		} else if (cls == 2) {
			/* Not UTF-8: one replacement character per bad byte. */
			memcpy(esc, "\xEF\xBF\xBD", 3);
			esc_len = 3;
			i++;
		} else {
			switch (s[i]) {
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hex[s[i] >> 4];
				esc[5] = hex[s[i] & 0xF];
				esc_len = 6;
				break;
			}
			i++;
		}
		put(out, esc, esc_len);
		start = i;
	}
	if (len > start)
		put(out, s + start, len - start);
	return out->err;
}

void bale_json_init(bale_json *json, bale_buf *out, bool pretty)
{
	memset(json, 0, sizeof(*json));
	json->out = out;
	json->pretty = pretty;
	json->err = out->err;
}

static void fail(bale_json *json, const char *what)
{
	if (!json->err)
		json->err = bale_error_set(BALE_ERROR, "json writer: %s", what);
}

static void newline_indent(bale_json *json)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)json->depth * 2;

	put_ch(json->out, '\n');
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put(json->out, spaces, k);
		n -= k;
	}
}

/* Writes what goes before a value: the separator and, when pretty, the line break. */
static bool value_prefix(bale_json *json)
{
	if (json->err)
		return false;
	if (json->after_key) {
		json->after_key = false;
		return true;
	}
	if (json->depth && json->kind[json->depth - 1] == '{') {
		fail(json, "a value in an object needs a key");
		return false;
	}
	if (json->depth == 0 && json->need_comma) {
		fail(json, "more than one top-level value");
		return false;
	}
	if (json->need_comma)
		put_ch(json->out, ',');
	if (json->pretty && json->depth)
		newline_indent(json);
	return true;
}

static void drain(bale_json *json)
{
	int rc;

	if (!json->out->len || json->err)
		return;
	rc = json->sink(json->sink_ctx, json->out->ptr, json->out->len);
	if (rc)
		json->err = rc;
	bale_buf_reset(json->out);
}

static void value_done(bale_json *json)
{
	json->need_comma = true;
	if (json->out->err && !json->err)
		json->err = json->out->err;
	if (json->sink && json->out->len >= json->chunk)
		drain(json);
}

void bale_json_set_sink(bale_json *json, bale_json_sink_fn sink, void *ctx, size_t chunk)
{
	json->sink = sink;
	json->sink_ctx = ctx;
	json->chunk = chunk;
}

static void open_container(bale_json *json, char kind)
{
	if (!value_prefix(json))
		return;
	if (json->depth >= BALE_JSON_MAX_DEPTH) {
		fail(json, "nesting too deep");
		return;
	}
	json->kind[json->depth++] = (unsigned char)kind;
	json->need_comma = false;
	put_ch(json->out, kind);
	if (json->out->err)
		json->err = json->out->err;
}

static void close_container(bale_json *json, char kind)
{
	if (json->err)
		return;
	if (!json->depth || json->kind[json->depth - 1] != (unsigned char)kind || json->after_key) {
		fail(json, "unbalanced close");
		return;
	}
	json->depth--;
	if (json->pretty && json->need_comma)
		newline_indent(json);
	put_ch(json->out, kind == '{' ? '}' : ']');
	value_done(json);
}

void bale_json_object_begin(bale_json *json)
{
	open_container(json, '{');
}

void bale_json_object_end(bale_json *json)
{
	close_container(json, '{');
}

void bale_json_array_begin(bale_json *json)
{
	open_container(json, '[');
}

void bale_json_array_end(bale_json *json)
{
	close_container(json, '[');
}

void bale_json_key(bale_json *json, const char *key)
{
	size_t len = 0;
	bool plain = true;

	if (json->err)
		return;
	if (!json->depth || json->kind[json->depth - 1] != '{' || json->after_key) {
		fail(json, "a key outside an object");
		return;
	}
	for (; key[len]; len++)
		if (byte_class[(unsigned char)key[len]])
			plain = false;
	if (json->need_comma)
		put_ch(json->out, ',');
	if (json->pretty)
		newline_indent(json);
	if (plain && room(json->out, len + 4)) {
		/* Keys are short identifiers: one copy, no escaping. */
		char *p = json->out->ptr + json->out->len;

		*p++ = '"';
		memcpy(p, key, len);
		p += len;
		*p++ = '"';
		*p++ = ':';
		if (json->pretty)
			*p++ = ' ';
		*p = '\0';
		json->out->len = (size_t)(p - json->out->ptr);
	} else {
		put_ch(json->out, '"');
		bale_json_escape(json->out, key, len);
		put(json->out, json->pretty ? "\": " : "\":", json->pretty ? 3 : 2);
	}
	json->after_key = true;
	json->need_comma = true;
	if (json->out->err)
		json->err = json->out->err;
}

void bale_json_stringn(bale_json *json, const char *str, size_t len)
{
	if (!value_prefix(json))
		return;
	if (!room(json->out, len + 2))
		goto done;
	put_ch(json->out, '"');
	bale_json_escape(json->out, str, len);
	put_ch(json->out, '"');
done:
	value_done(json);
}

void bale_json_string(bale_json *json, const char *str)
{
	if (!str)
		bale_json_null(json);
	else
		bale_json_stringn(json, str, strlen(str));
}

static void raw_value(bale_json *json, const char *text, size_t len)
{
	if (!value_prefix(json))
		return;
	put(json->out, text, len);
	value_done(json);
}

/* Decimal digits of `v` at the end of `end`; returns where they start. */
static char *format_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

void bale_json_int(bale_json *json, int64_t value)
{
	char num[24], *end = num + sizeof(num), *p;

	p = format_u64(end, value < 0 ? 0 - (uint64_t)value : (uint64_t)value);
	if (value < 0)
		*--p = '-';
	raw_value(json, p, (size_t)(end - p));
}

void bale_json_uint(bale_json *json, uint64_t value)
{
	char num[24], *end = num + sizeof(num), *p = format_u64(end, value);

	raw_value(json, p, (size_t)(end - p));
}

void bale_json_bool(bale_json *json, bool value)
{
	raw_value(json, value ? "true" : "false", value ? 4 : 5);
}

void bale_json_null(bale_json *json)
{
	raw_value(json, "null", 4);
}

int bale_json_finish(bale_json *json)
{
	if (json->err)
		return json->err;
	if (json->depth || json->after_key) {
		fail(json, "unclosed object or array");
		return json->err;
	}
	if (json->pretty && json->need_comma)
		put_ch(json->out, '\n');
	if (json->out->err)
		json->err = json->out->err;
	if (json->sink)
		drain(json);
	return json->err;
}
