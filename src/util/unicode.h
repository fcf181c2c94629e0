/*
 * unicode.h: the few Unicode facts the Dockerfile front end needs to behave exactly as Go
 * code does (BuildKit is written in Go): UTF-8 decoding as Go's utf8.DecodeRune does it, Go's
 * unicode.IsSpace, unicode.IsPrint, and strconv.Quote.
 */
#ifndef BALE_UNICODE_H
#define BALE_UNICODE_H

#include "bale/buf.h"

#include <stdint.h>
#include <string.h>

/*
 * Decodes one rune at `s` (`len` > 0 bytes available). Returns its byte width; an invalid
 * sequence gives width 1 and U+FFFD, as Go does.
 */
size_t bale_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Appends the UTF-8 encoding of `cp`. */
int bale_utf8_encode(bale_buf *out, uint32_t cp);

/* Go's unicode.IsSpace. */
bool bale_unicode_is_space(uint32_t cp);
/* Go's unicode.IsPrint (generated table). */
bool bale_unicode_is_print(uint32_t cp);

/* bale_unicode_space_prefix() from offset `i`: what it does past plain blanks. */
size_t bale_unicode_space_prefix_from(const char *s, size_t len, size_t i);

/*
 * Length of the leading run of Go white space (unicode.IsSpace) in `len` bytes at `s`. Asked of
 * every line: blanks and tabs before ASCII text are answered without a call.
 */
static inline size_t bale_unicode_space_prefix(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t four;

	/* Indentation is mostly spaces in fours: one test each. */
	while (len - i >= 4 && (memcpy(&four, s + i, 4), four == 0x20202020u))
		i += 4;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && ((unsigned char)s[i] >= 0x80 || (s[i] >= '\n' && s[i] <= '\r')))
		return bale_unicode_space_prefix_from(s, len, i);
	return i;
}
/* Length of `len` bytes at `s` once trailing Go white space is removed. */
size_t bale_unicode_trim_right(const char *s, size_t len);

/* Appends `len` bytes at `s` quoted as Go's strconv.Quote does. */
int bale_go_quote(bale_buf *out, const char *s, size_t len);

/* tolower() of the C locale, which bale runs in, without the call. */
static inline char bale_ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Whether the first `n` bytes of `s` are those of `key` in any case, `key` being lower-case
 * ASCII letters: then a byte of `s` with bit 0x20 set equals the key's byte just when it is
 * that letter in either case.
 */
static inline bool bale_ascii_nieq(const char *s, const char *key, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] | 0x20) != (unsigned char)key[i])
			return false;
	return true;
}

#endif
