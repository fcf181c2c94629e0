/*
 * Standalone driver for fuzz targets: runs LLVMFuzzerTestOneInput() once on each file named on
 * the command line, or on each file of each directory named. CTest uses it to replay the seed
 * corpora in every build, with or without clang. An empty or missing corpus is an error, so a
 * replay test cannot pass by running nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, alloc = 0, n;

	if (!f) {
		fprintf(stderr, "cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == alloc) {
			uint8_t *p;

			alloc = alloc ? alloc * 2 : 65536;
			p = realloc(data, alloc);
			if (!p) {
				free(data);
				fclose(f);
				return -1;
			}
			data = p;
		}
		n = fread(data + len, 1, alloc - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	/* Copy into an exact-size block so reads past the end are caught by ASan. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			free(data);
			return -1;
		}
		if (len)
			memcpy(exact, data, len);
		free(data);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t ran = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "cannot open '%s': %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			struct dirent **names;
			int n = scandir(argv[i], &names, NULL, alphasort);

			if (n < 0) {
				fprintf(stderr, "cannot read '%s': %s\n", argv[i], strerror(errno));
				return 1;
			}
			for (int k = 0; k < n; k++) {
				char path[4096];

				if (names[k]->d_name[0] != '.') {
					snprintf(path, sizeof(path), "%s/%s", argv[i],
						 names[k]->d_name);
					if (run_file(path) != 0)
						return 1;
					ran++;
				}
				free(names[k]);
			}
			free(names);
		} else {
			if (run_file(argv[i]) != 0)
				return 1;
			ran++;
		}
	}
	if (ran == 0) {
		fprintf(stderr, "no inputs to replay\n");
		return 1;
	}
	printf("replayed %zu inputs\n", ran);
	return 0;
}
