/* UTF-8 and the Go string facts the Dockerfile front end relies on (see unicode.h). */
#include "util/unicode.h"
#include "util/util.h"

size_t bale_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c = p[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		c &= 0x07;
		min = 0x10000;
	} else {
		goto invalid;
	}
	if (len <= n)
		goto invalid;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto invalid;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto invalid;
	*cp = c;
	return n + 1;
invalid:
	*cp = 0xfffd;
	return 1;
}

int bale_utf8_encode(bale_buf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return bale_buf_add(out, b, n);
}

bool bale_unicode_is_space(uint32_t cp)
{
	switch (cp) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

size_t bale_unicode_space_prefix_from(const char *s, size_t len, size_t i)
{
	while (i < len) {
		uint32_t cp;
		size_t w;

		if ((unsigned char)s[i] < 0x80) {
			if (!bale_unicode_is_space((unsigned char)s[i]))
				break;
			i++;
			continue;
		}
		w = bale_utf8_decode(s + i, len - i, &cp);
		if (!bale_unicode_is_space(cp))
			break;
		i += w;
	}
	return i;
}

size_t bale_unicode_trim_right(const char *s, size_t len)
{
	while (len > 0) {
		unsigned char c = (unsigned char)s[len - 1];
		size_t start;
		uint32_t cp;

		if (c < 0x80) {
			if (!bale_unicode_is_space(c))
				break;
			len--;
			continue;
		}
		/* Find the start of the last rune: at most 3 continuation bytes back. */
		start = len - 1;
		while (start > 0 && len - start < 4 && ((unsigned char)s[start] & 0xc0) == 0x80)
			start--;
		if (bale_utf8_decode(s + start, len - start, &cp) != len - start ||
		    !bale_unicode_is_space(cp))
			break;
		len = start;
	}
	return len;
}

static const char hex[] = "0123456789abcdef";

int bale_go_quote(bale_buf *out, const char *s, size_t len)
{
	size_t i = 0;

	bale_buf_addch(out, '"');
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;
		size_t w = 1;
		char esc[10];

		if (c >= 0x80) {
			w = bale_utf8_decode(s + i, len - i, &cp);
			if (w == 1) {
				/* An invalid byte: Go writes \x and the byte. */
				esc[0] = '\\';
				esc[1] = 'x';
				esc[2] = hex[c >> 4];
				esc[3] = hex[c & 15];
				bale_buf_add(out, esc, 4);
				i++;
				continue;
			}
		}
		if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			bale_buf_add(out, esc, 2);
		} else if (bale_unicode_is_print(cp)) {
			bale_buf_add(out, s + i, w);
		} else {
			switch (cp) {
			case '\a':
				bale_buf_adds(out, "\\a");
				break;
			case '\b':
				bale_buf_adds(out, "\\b");
				break;
			case '\f':
				bale_buf_adds(out, "\\f");
				break;
			case '\n':
				bale_buf_adds(out, "\\n");
				break;
			case '\r':
				bale_buf_adds(out, "\\r");
				break;
			case '\t':
				bale_buf_adds(out, "\\t");
				break;
			case '\v':
				bale_buf_adds(out, "\\v");
				break;
			default:
				if (cp < ' ' || cp == 0x7f)
					bale_buf_addf(out, "\\x%02x", (unsigned)cp);
				else if (cp < 0x10000)
					bale_buf_addf(out, "\\u%04x", (unsigned)cp);
				else
					bale_buf_addf(out, "\\U%08x", (unsigned)cp);
			}
		}
		i += w;
	}
	return bale_buf_addch(out, '"');
}
