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
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;

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
	char ref[128], digest[DIGEST_STRING_MAX], index[512];

	if (size < 1)
		return 0;
	dir = fuzz_layout("json");
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
		fuzz_layout_write("index.json", data + 1, size - 1);
		break;
	case 2:
		fuzz_layout_blob(data + 1, size - 1, digest);
		snprintf(index, sizeof(index),
			 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
			 "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
			 digest, size - 1);
		fuzz_layout_write("index.json", index, strlen(index));
		break;
	case 4:
		fuzz_layout_write("whole.tar", data + 1, size - 1);
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
	if (data[0] % 5 == 2) /* one blob per input: do not let them pile up */
		fuzz_layout_drop(digest);
	return 0;
}
