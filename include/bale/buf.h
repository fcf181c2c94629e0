/*
 * bale/buf.h: a growable byte buffer, in the spirit of git's strbuf and curl's dynbuf.
 *
 * `ptr` is never NULL and always NUL-terminated, so a buffer can be read as a C string at any
 * time. Every buffer has a cap (`max`, bytes of content): untrusted input cannot grow it without
 * bound. Errors are sticky: once an append fails (out of memory or over the cap) `err` holds the
 * code, later appends do nothing, and the content stays what it was before the failing call.
 * The buffer owns `ptr` until bale_buf_detach() hands it to the caller.
 */
#ifndef BALE_BUF_H
#define BALE_BUF_H

#include "common.h"
#include <stdarg.h>

typedef struct bale_buf {
	char *ptr;
	size_t len;
	size_t alloc;
	size_t max;
	int err;
} bale_buf;

extern char bale_buf__empty[];
#define BALE_BUF_DEFAULT_MAX ((size_t)1 << 40)
#define BALE_BUF_INIT                                                                              \
	{                                                                                          \
		bale_buf__empty, 0, 0, BALE_BUF_DEFAULT_MAX, 0                                     \
	}

BALE_EXTERN(void) bale_buf_init(bale_buf *buf, size_t max);
BALE_EXTERN(void) bale_buf_release(bale_buf *buf);
BALE_EXTERN(int) bale_buf_grow(bale_buf *buf, size_t extra);
BALE_EXTERN(int) bale_buf_add(bale_buf *buf, const void *data, size_t len);
BALE_EXTERN(int) bale_buf_adds(bale_buf *buf, const char *str);
BALE_EXTERN(int) bale_buf_addch(bale_buf *buf, int c);
BALE_EXTERN(int)
bale_buf_addf(bale_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
BALE_EXTERN(int) bale_buf_vaddf(bale_buf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Shortens the content to `len` bytes (no-op when it is not longer). */
BALE_EXTERN(void) bale_buf_truncate(bale_buf *buf, size_t len);
#define bale_buf_reset(buf) bale_buf_truncate((buf), 0)
/* Hands the content to the caller (free() it) and leaves the buffer empty; NULL on ENOMEM. */
BALE_EXTERN(char *) bale_buf_detach(bale_buf *buf, size_t *len_out);

#endif
