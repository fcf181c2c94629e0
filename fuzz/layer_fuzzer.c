/*
 * Fuzz target for the layer reader: the input is a layer blob (gzip, zstd or a plain tar, told
 * apart by its magic bytes as for real layers), placed in a one-layer OCI layout under a
 * private temporary directory and streamed through bale_image_read_layers() with a visitor
 * that reads every file's content. The diff_id is the input's own digest, so plain tars run
 * to verification. Limits are small so a bomb ends quickly.
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
	char path[160];
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

static void put_blob(const void *buf, size_t len, char *digest)
{
	char name[256];
	hasher h;

	if (hasher_init(&h, DIGEST_SHA256) != 0)
		abort();
	hasher_update(&h, buf, len);
	hasher_final(&h, digest);
	hasher_release(&h);
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	write_file(name, buf, len);
}

static int on_entry(void *ctx, const bale_image_entry *e, bale_image_reader *r)
{
	char buf[4096];
	size_t n, total = 0;
	int rc;

	(void)ctx;
	if (strlen(e->path) > 4096 || (e->link && strlen(e->link) > 4096))
		abort(); /* the limit of the options below */
	do {
		if ((rc = bale_image_entry_read(r, buf, sizeof(buf), &n)) != 0)
			return rc;
		total += n;
	} while (n > 0);
	if (e->type == BALE_IMAGE_ENTRY_FILE && total != e->size)
		abort(); /* content read whole must be the size the header promised */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bale_image_options opts;
	bale_image_visitor v = {.entry = on_entry};
	bale_image *img = NULL;
	char ref[128], layer[DIGEST_STRING_MAX], config[DIGEST_STRING_MAX],
	    manifest[DIGEST_STRING_MAX], doc[1024];
	int n;

	if (!dir[0]) {
		char name[256];

		snprintf(dir, sizeof(dir), "/tmp/bale-fuzz-layer-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		snprintf(name, sizeof(name), "%s/blobs", dir);
		mkdir(name, 0755);
		snprintf(name, sizeof(name), "%s/blobs/sha256", dir);
		mkdir(name, 0755);
	}
	put_blob(data, size, layer);
	n = snprintf(doc, sizeof(doc),
		     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[\"%s\"]}}",
		     layer);
	put_blob(doc, (size_t)n, config);
	n = snprintf(doc, sizeof(doc),
		     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
		     "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%d},\"layers\":[{"
		     "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
		     "\"%s\",\"size\":%zu}]}",
		     config, n, layer, size);
	put_blob(doc, (size_t)n, manifest);
	n = snprintf(doc, sizeof(doc),
		     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		     "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%d}]}",
		     manifest, n);
	write_file("index.json", doc, (size_t)n);
	bale_image_options_init(&opts);
	opts.max_layer_size = (uint64_t)64 << 20;
	opts.max_entries = 100000;
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	if (bale_image_open(&img, ref, &opts) != 0)
		abort(); /* the layout written above is always valid */
	bale_image_read_layers(img, &v);
	bale_image_free(img);
	/* Blobs are content-addressed: drop this input's so the directory stays small. */
	{
		const char *blobs[] = {layer, config, manifest};
		char name[256];

		for (size_t i = 0; i < 3; i++) {
			snprintf(name, sizeof(name), "%s/blobs/sha256/%.64s", dir, blobs[i] + 7);
			unlink(name);
		}
	}
	return 0;
}
