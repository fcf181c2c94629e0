/*
 * Fuzz target for the layer reader: the input is a layer blob (gzip, zstd or a plain tar, told
 * apart by its magic bytes as for real layers), placed in a one-layer OCI layout under a
 * private temporary directory and streamed through bale_image_read_layers() with a visitor
 * that reads every file's content. The diff_id is the input's own digest, so plain tars run
 * to verification. Limits are small so a bomb ends quickly.
 */
#include "image/internal.h"
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

	const char *dir = fuzz_layout("layer");

	fuzz_layout_blob(data, size, layer);
	n = snprintf(doc, sizeof(doc),
		     "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[\"%s\"]}}",
		     layer);
	fuzz_layout_blob(doc, (size_t)n, config);
	n = snprintf(doc, sizeof(doc),
		     "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
		     "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%d},\"layers\":[{"
		     "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
		     "\"%s\",\"size\":%zu}]}",
		     config, n, layer, size);
	fuzz_layout_blob(doc, (size_t)n, manifest);
	n = snprintf(doc, sizeof(doc),
		     "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		     "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%d}]}",
		     manifest, n);
	fuzz_layout_write("index.json", doc, (size_t)n);
	bale_image_options_init(&opts);
	opts.max_layer_size = (uint64_t)64 << 20;
	opts.max_entries = 100000;
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	if (bale_image_open(&img, ref, &opts) != 0)
		abort(); /* the layout written above is always valid */
	bale_image_read_layers(img, &v);
	bale_image_free(img);
	/* Blobs are content-addressed: drop this input's so the directory stays small. */
	fuzz_layout_drop(layer);
	fuzz_layout_drop(config);
	fuzz_layout_drop(manifest);
	return 0;
}
