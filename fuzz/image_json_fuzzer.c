/*
 * Fuzz target for the JSON documents of an image: the first byte picks which document the rest
 * of the input is, the rest is written where bale_image_open() will read it, in an OCI layout
 * (or a docker archive) under a private temporary directory:
 *   0: the config (parsed directly, no files)   1: index.json
 *   2: a manifest named by a valid index.json   3: manifest.json of a docker-archive
 *   4: a whole archive (the outer tar index, detection by content, then either transport)
 * Every input must give 0 or a clean error; crashes, leaks and hangs are the findings.
 */
#include "image/internal.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The replay driver runs every seed in one process: leave no directory behind. */
static void cleanup(void)
{
	if (dir[0])
		nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const void *buf, size_t len)
{
	char path[128];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	if (len && write(fd, buf, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void sha256(const void *buf, size_t len, char *out)
{
	hasher h;

	if (hasher_init(&h, DIGEST_SHA256) != 0)
		abort();
	hasher_update(&h, buf, len);
	hasher_final(&h, out);
	hasher_release(&h);
}

/* A tar holding one member, "manifest.json". */
static void write_docker_archive(const uint8_t *data, size_t size)
{
	unsigned char h[512] = {0}, pad[1536] = {0};
	unsigned sum = 0;
	char path[128];
	FILE *f;

	memcpy(h, "manifest.json", 13);
	snprintf((char *)h + 100, 8, "%07o", 0644);
	{
		char num[32];

		snprintf(num, sizeof(num), "%011llo", (unsigned long long)size & 077777777777ULL);
		memcpy(h + 124, num, 11);
	}
	h[156] = '0';
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	snprintf(path, sizeof(path), "%s/image.tar", dir);
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(h, 1, 512, f);
	fwrite(data, 1, size, f);
	fwrite(pad, 1, (512 - size % 512) % 512 + 1024, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bale_image_options opts;
	bale_image *img = NULL;
	char ref[128], digest[DIGEST_STRING_MAX], name[160], index[512];

	if (size < 1)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bale-fuzz-json-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		snprintf(name, sizeof(name), "%s/blobs", dir);
		mkdir(name, 0755);
		snprintf(name, sizeof(name), "%s/blobs/sha256", dir);
		mkdir(name, 0755);
	}
	bale_image_options_init(&opts);
	opts.max_json_size = 1 << 20;
	switch (data[0] % 5) {
	case 0: {
		bale_image fake;
		json_t *doc =
		    json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);

		memset(&fake, 0, sizeof(fake));
		if (doc)
			json_parse_config(&fake, doc, "config");
		json_decref(doc);
		bale_arena_release(&fake.arena);
		return 0;
	}
	case 1:
		write_file("index.json", data + 1, size - 1);
		break;
	case 2:
		sha256(data + 1, size - 1, digest);
		snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
		write_file(name, data + 1, size - 1);
		snprintf(index, sizeof(index),
			 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
			 "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
			 digest, size - 1);
		write_file("index.json", index, strlen(index));
		break;
	case 4:
		write_file("whole.tar", data + 1, size - 1);
		snprintf(ref, sizeof(ref), "%s/whole.tar", dir);
		if (bale_image_open(&img, ref, &opts) == 0) {
			bale_image_read_layers(img, NULL);
			bale_image_free(img);
		}
		return 0;
	default:
		write_docker_archive(data + 1, size - 1);
		snprintf(ref, sizeof(ref), "docker-archive:%s/image.tar", dir);
		if (bale_image_open(&img, ref, &opts) == 0)
			bale_image_free(img);
		return 0;
	}
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	if (bale_image_open(&img, ref, &opts) == 0)
		bale_image_free(img);
	if (data[0] % 5 == 2) { /* one blob per input: do not let them pile up */
		snprintf(name, sizeof(name), "%s/blobs/sha256/%.64s", dir, digest + 7);
		unlink(name);
	}
	return 0;
}
