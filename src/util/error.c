/*
 * Per-thread last error, as libgit2 keeps it: a code and a message in a fixed buffer, so setting
 * an error never allocates and cannot itself fail.
 */
#include "util/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_MAX 4096

static _Thread_local char message[MESSAGE_MAX];
static _Thread_local bale_error last = {0, ""};

const bale_error *bale_error_last(void)
{
	return &last;
}

void bale_error_clear(void)
{
	last.code = 0;
	message[0] = '\0';
	last.message = message;
}

int bale_error_vset(int code, const char *fmt, va_list ap)
{
	vsnprintf(message, sizeof(message), fmt, ap);
	last.code = code;
	last.message = message;
	return code;
}

int bale_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bale_error_vset(code, fmt, ap);
	va_end(ap);
	return code;
}

int bale_error_prefix(const char *fmt, ...)
{
	char old[MESSAGE_MAX], prefix[1024];
	va_list ap;

	memcpy(old, message, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* A message too long for the buffer keeps its start. The result is read so that gcc's
	   -Wformat-truncation, which fires on this line at -O0, knows truncation is expected. */
	if (snprintf(message, sizeof(message), "%s: %s", prefix, old) < 0)
		message[0] = '\0';
	last.message = message;
	return last.code;
}

int bale_error_oom(void)
{
	return bale_error_set(BALE_ENOMEM, "out of memory");
}

void bale_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
	abort();
}

const char *bale_version(void)
{
	return BALE_VERSION;
}
