/*
 * bale/common.h: what every part of libbale shares.
 *
 * Library functions return an int: 0 on success or a negative BALE_E* code. On failure they
 * leave a message, read with bale_error_last(); it belongs to the library and stays valid until
 * the next failing call on the same thread. The library never prints and never exits.
 */
#ifndef BALE_COMMON_H
#define BALE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define BALE_EXTERN(type) __attribute__((visibility("default"))) type

enum bale_error_code {
	BALE_OK = 0,
	BALE_ERROR = -1,     /* generic failure */
	BALE_ENOMEM = -2,    /* out of memory */
	BALE_EINVAL = -3,    /* an argument or option is wrong (the caller's mistake) */
	BALE_EPARSE = -4,    /* input is malformed */
	BALE_EIO = -5,	     /* reading or writing failed */
	BALE_ELIMIT = -6,    /* input exceeds a configured bound */
	BALE_ENOTFOUND = -7, /* a named thing does not exist */
	BALE_EDIGEST = -8,   /* content does not match its digest */
};

typedef struct bale_error {
	int code;
	const char *message;
} bale_error;

/* The last error set on this thread; never NULL (code 0 and "" when there is none). */
BALE_EXTERN(const bale_error *) bale_error_last(void);
BALE_EXTERN(void) bale_error_clear(void);

/* The version of the library, "MAJOR.MINOR.PATCH". */
BALE_EXTERN(const char *) bale_version(void);

#endif
