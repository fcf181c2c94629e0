/* A private temporary OCI layout for the image fuzz targets (layout.h). */
#include "layout.h"

#include "image/internal.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	if (dir[0])
		nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* dir/name into `path`, or abort when it does not fit. */
static void path_of(char *path, size_t size, const char *name)
{
	if ((size_t)snprintf(path, size, "%s/%s", dir, name) >= size)
		abort();
}

const char *fuzz_layout(const char *tag)
{
	char path[160];

	if (dir[0])
		return dir;
	if ((size_t)snprintf(dir, sizeof(dir), "/tmp/bale-fuzz-%s-XXXXXX", tag) >= sizeof(dir) ||
	    !mkdtemp(dir))
		abort();
	atexit(cleanup);
	path_of(path, sizeof(path), "blobs");
	mkdir(path, 0755);
	path_of(path, sizeof(path), "blobs/sha256");
	mkdir(path, 0755);
	return dir;
}

void fuzz_layout_write(const char *name, const void *buf, size_t len)
{
	char path[160];
	int fd;

	path_of(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (len && write(fd, buf, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void blob_name(char *name, size_t size, const char *digest)
{
	if ((size_t)snprintf(name, size, "blobs/sha256/%.64s", digest + 7) >= size)
		abort();
}

void fuzz_layout_blob(const void *buf, size_t len, char *digest)
{
	char name[96];
	hasher h;

	if (hasher_init(&h, DIGEST_SHA256) != 0)
		abort();
	hasher_update(&h, buf, len);
	hasher_final(&h, digest);
	hasher_release(&h);
	blob_name(name, sizeof(name), digest);
	fuzz_layout_write(name, buf, len);
}

void fuzz_layout_drop(const char *digest)
{
	char name[96], path[160];

	blob_name(name, sizeof(name), digest);
	path_of(path, sizeof(path), name);
	unlink(path);
}
