/* Growable buffer; the contract is in include/bale/buf.h. */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char bale_buf__empty[1];

void bale_buf_init(bale_buf *buf, size_t max)
{
	buf->ptr = bale_buf__empty;
	buf->len = 0;
	buf->alloc = 0;
	buf->max = max ? max : BALE_BUF_DEFAULT_MAX;
	buf->err = 0;
}

void bale_buf_release(bale_buf *buf)
{
	if (buf->alloc)
		free(buf->ptr);
	bale_buf_init(buf, buf->max);
}

int bale_buf_grow(bale_buf *buf, size_t extra)
{
	size_t need, alloc;
	char *ptr;

	if (buf->err)
		return buf->err;
	if (extra > buf->max || buf->len > buf->max - extra) {
		buf->err = bale_error_set(BALE_ELIMIT, "buffer would exceed its limit of %zu bytes",
					  buf->max);
		return buf->err;
	}
	need = buf->len + extra + 1;
	if (need <= buf->alloc)
		return 0;
	/* A first 256 bytes holds most lines and words whole: fewer reallocs as a buffer fills. */
	alloc = buf->alloc ? buf->alloc : 256;
	while (alloc < need)
		alloc = alloc < SIZE_MAX / 2 ? alloc * 2 : need;
	ptr = realloc(buf->alloc ? buf->ptr : NULL, alloc);
	if (!ptr) {
		buf->err = bale_error_oom();
		return buf->err;
	}
	if (!buf->alloc)
		ptr[0] = '\0';
	buf->ptr = ptr;
	buf->alloc = alloc;
	return 0;
}

int bale_buf_add(bale_buf *buf, const void *data, size_t len)
{
	int rc = bale_buf_grow(buf, len);

	if (rc)
		return rc;
	if (len)
		memcpy(buf->ptr + buf->len, data, len);
	buf->len += len;
	buf->ptr[buf->len] = '\0';
	return 0;
}

int bale_buf_adds(bale_buf *buf, const char *str)
{
	return bale_buf_add(buf, str, strlen(str));
}

int bale_buf_addch(bale_buf *buf, int c)
{
	char ch = (char)c;

	return bale_buf_add(buf, &ch, 1);
}

int bale_buf_vaddf(bale_buf *buf, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	if (buf->err)
		return buf->err;
	/* Room for a typical message first, so most calls format once, not twice. */
	if (buf->alloc - buf->len < 256 && buf->max - buf->len >= 256 &&
	    (rc = bale_buf_grow(buf, 256)) != 0)
		return rc;
	va_copy(cp, ap);
	n = vsnprintf(buf->ptr + buf->len, buf->alloc ? buf->alloc - buf->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return buf->err = bale_error_set(BALE_ERROR, "cannot format output");
	if (buf->alloc && (size_t)n < buf->alloc - buf->len) {
		buf->len += (size_t)n;
		return 0;
	}
	if ((rc = bale_buf_grow(buf, (size_t)n)) != 0)
		return rc;
	vsnprintf(buf->ptr + buf->len, buf->alloc - buf->len, fmt, ap);
	buf->len += (size_t)n;
	return 0;
}

int bale_buf_addf(bale_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = bale_buf_vaddf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

void bale_buf_truncate(bale_buf *buf, size_t len)
{
	if (len >= buf->len)
		return;
	buf->len = len;
	buf->ptr[len] = '\0';
}

char *bale_buf_detach(bale_buf *buf, size_t *len_out)
{
	char *ptr;

	if (len_out)
		*len_out = buf->len;
	if (!buf->alloc) {
		ptr = calloc(1, 1);
		if (!ptr)
			bale_error_oom();
	} else {
		ptr = buf->ptr;
	}
	bale_buf_init(buf, buf->max);
	return ptr;
}
