/* Reading whole files with a size cap, and UTF-8 validation. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

int bale_read_file(bale_buf *out, const char *path, size_t max)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	struct stat st;
	int fd, rc = 0;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bale_error_set(BALE_EIO, "cannot open '%s': %s", name, strerror(errno));
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = bale_error_set(BALE_EIO, "cannot read '%s': is a directory", name);
			goto out_close;
		}
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
			rc = bale_error_set(BALE_ELIMIT,
					    "'%s' is %lld bytes, over the limit of %zu bytes", name,
					    (long long)st.st_size, max);
			goto out_close;
		}
		if (S_ISREG(st.st_mode) && (rc = bale_buf_grow(out, (size_t)st.st_size)) != 0)
			goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (out->len >= max) {
			/* Read one byte more to tell "exactly max" from "over max". */
			char probe;

			n = read(fd, &probe, 1);
			if (n > 0) {
				rc = bale_error_set(
				    BALE_ELIMIT, "'%s' is over the limit of %zu bytes", name, max);
				goto out_close;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = bale_error_set(BALE_EIO, "cannot read '%s': %s", name,
						    strerror(errno));
				goto out_close;
			}
			break;
		}
		if ((rc = bale_buf_grow(out, 65536)) != 0)
			goto out_close;
		{
			size_t room = out->alloc - out->len - 1;

			if (room > max - out->len)
				room = max - out->len;
			n = read(fd, out->ptr + out->len, room);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc =
			    bale_error_set(BALE_EIO, "cannot read '%s': %s", name, strerror(errno));
			goto out_close;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
	}
out_close:
	if (!is_stdin)
		close(fd);
	return rc;
}

bool bale_utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp;

		/*
		 * ASCII runs 64 bytes at a time where SSE2 is there (the sign bits of four
		 * vectors OR'd, one test), then 32 (four words tested with one branch), then eight:
		 * a Dockerfile is nearly all ASCII, so this loop is where the time goes.
		 */
		if (c < 0x80) {
			uint64_t w[4];

#if defined(__SSE2__)
			while (len - i >= 64) {
				const __m128i *v = (const __m128i *)(const void *)(p + i);
				__m128i any = _mm_or_si128(
				    _mm_or_si128(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
				    _mm_or_si128(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));

				if (_mm_movemask_epi8(any) != 0)
					break;
				i += 64;
			}
#endif
			while (len - i >= 32) {
				memcpy(w, p + i, 32);
				if (((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL) != 0)
					break;
				i += 32;
			}
			while (len - i >= 8) {
				memcpy(w, p + i, 8);
				if ((w[0] & 0x8080808080808080ULL) != 0)
					break;
				i += 8;
			}
			if (i >= len)
				break;
			c = p[i];
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto invalid;
		}
		if (len - i <= n)
			goto invalid;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto invalid;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto invalid;
		i += n + 1;
	}
	return true;
invalid:
	if (bad)
		*bad = i;
	return false;
}
