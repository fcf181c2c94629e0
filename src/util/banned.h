/*
 * Functions that make buffer overflows easy. Including this header (the build does it for every
 * file of ours) turns any use of them into a compile error; use bale_buf or snprintf instead.
 */
#ifndef BALE_BANNED_H
#define BALE_BANNED_H

/* The system headers first, so their declarations are not caught by the macros below. */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define BALE_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BALE_BANNED(strcpy)
#undef strcat
#define strcat(x, y) BALE_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BALE_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BALE_BANNED(strncat)
#undef sprintf
#define sprintf(...) BALE_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BALE_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BALE_BANNED(strtok)
#undef gets
#define gets(x) BALE_BANNED(gets)

#endif
