/* Paths and platforms, as Go and BuildKit spell them (util.h). */
#include "util/util.h"

#include <stdbool.h>

void bale_path_clean(char *out, const char *s, size_t len)
{
	bool rooted = len > 0 && s[0] == '/';
	size_t w = 0, r = 0, dotdot = 0;

	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < len) {
		if (s[r] == '/') {
			r++;
		} else if (s[r] == '.' && (r + 1 == len || s[r + 1] == '/')) {
			r++;
		} else if (s[r] == '.' && r + 1 < len && s[r + 1] == '.' &&
			   (r + 2 == len || s[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				/* Back up to the previous '/' (or the root). */
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < len && s[r] != '/')
				out[w++] = s[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
}

const char *bale_host_arch(const char **variant)
{
	*variant = "";
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	*variant = "v7";
	return "arm";
#elif defined(__i386__)
	return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "amd64";
#endif
}
