/*
 * Numbers and strings the way Go writes them, so `--format dive` is dive's export byte for
 * byte: encoding/json's float64 (shortest round-trip digits, exponent form only below 1e-6 or
 * from 1e21) and string escaping (HTML characters too, invalid UTF-8 as U+FFFD), and fmt's %v
 * of a float64 for dive's CI messages.
 */
#include "inspect/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shortest decimal digits that read back as `f` (> 0, finite); *exp is the first digit's. */
static size_t shortest(double f, char *digits, int *exp)
{
	char buf[40];
	size_t n = 0;

	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, f);
		if (strtod(buf, NULL) == f || prec == 17)
			break;
	}
	for (const char *p = buf; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[n++] = *p;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*exp = atoi(strchr(buf, 'e') + 1);
	return n;
}

static void fixed(bale_buf *out, const char *d, size_t nd, int exp)
{
	int dp = exp + 1; /* digits before the point */

	if (dp <= 0) {
		bale_buf_adds(out, "0.");
		for (int i = 0; i < -dp; i++)
			bale_buf_addch(out, '0');
		bale_buf_add(out, d, nd);
	} else if ((size_t)dp >= nd) {
		bale_buf_add(out, d, nd);
		for (size_t i = nd; i < (size_t)dp; i++)
			bale_buf_addch(out, '0');
	} else {
		bale_buf_add(out, d, (size_t)dp);
		bale_buf_addch(out, '.');
		bale_buf_add(out, d + dp, nd - (size_t)dp);
	}
}

static void expo(bale_buf *out, const char *d, size_t nd, int exp, bool json)
{
	bale_buf_addch(out, d[0]);
	if (nd > 1) {
		bale_buf_addch(out, '.');
		bale_buf_add(out, d + 1, nd - 1);
	}
	if (json && exp < 0 && exp > -10)
		bale_buf_addf(out, "e-%d", -exp); /* encoding/json turns e-07 into e-7 */
	else
		bale_buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static bool special(bale_buf *out, double f)
{
	if (isnan(f)) {
		bale_buf_adds(out, "NaN");
		return true;
	}
	if (isinf(f)) {
		bale_buf_adds(out, f > 0 ? "+Inf" : "-Inf");
		return true;
	}
	if (f == 0) {
		bale_buf_adds(out, signbit(f) ? "-0" : "0");
		return true;
	}
	return false;
}

void inspect_go_json_float(bale_buf *out, double f)
{
	char d[32];
	int exp;
	size_t nd;
	double a = fabs(f);

	if (isnan(f) || isinf(f)) {
		bale_buf_adds(out, "null"); /* Go refuses these; bale writes null */
		return;
	}
	if (special(out, f))
		return;
	if (f < 0)
		bale_buf_addch(out, '-');
	nd = shortest(a, d, &exp);
	if (a < 1e-6 || a >= 1e21)
		expo(out, d, nd, exp, true);
	else
		fixed(out, d, nd, exp);
}

void inspect_go_v_float(bale_buf *out, double f)
{
	char d[32];
	int exp;
	size_t nd;

	if (special(out, f))
		return;
	if (f < 0)
		bale_buf_addch(out, '-');
	nd = shortest(fabs(f), d, &exp);
	if (exp < -4 || exp >= 6)
		expo(out, d, nd, exp, false);
	else
		fixed(out, d, nd, exp);
}

/* Length of the valid UTF-8 sequence at s (Go's rules: no overlongs, no surrogates), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void inspect_go_json_string(bale_buf *out, const char *str, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;

	bale_buf_addch(out, '"');
	while (i < len) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char u[7];
		size_t n;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' &&
		    c != '&') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			n = utf8_seq(s + i, len - i);
			if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
				bale_buf_add(out, str + start, i - start);
				bale_buf_adds(out, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
				i += 3;
				start = i;
				continue;
			}
			if (n) {
				i += n;
				continue;
			}
			bale_buf_add(out, str + start, i - start);
			bale_buf_adds(out, "\\ufffd");
			start = ++i;
			continue;
		}
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
			u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = '\0';
			esc = u;
		}
		bale_buf_add(out, str + start, i - start);
		bale_buf_adds(out, esc);
		start = ++i;
	}
	bale_buf_add(out, str + start, len - start);
	bale_buf_addch(out, '"');
}
