/*
 * The image reader: every transport and layout on fixtures written by umoci and skopeo
 * (tests/data/image, see make-fixtures.sh), and every error path on images this test builds
 * itself in a temporary OCI layout (hand-made tars, gzip/zstd, wrong digests, bombs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include "bale/image.h"
#include "util/util.h"

#define DATA BALE_TEST_DATA "/image"

/* Every test runs three times: with the reader thread (the default), with the reader thread
   hashing the blobs too (busy_callbacks, as audit reads), and single-threaded. */
static bool single_threaded, busy_callbacks;

static void init_opts(bale_image_options *o)
{
	bale_image_options_init(o);
	o->single_threaded = single_threaded;
	o->busy_callbacks = busy_callbacks;
}

static const bale_image_options *defaults(void)
{
	static bale_image_options o;

	init_opts(&o);
	return &o;
}

/* ---- helpers: what a visitor saw ---- */

struct seen {
	char paths[64][128];
	char links[64][128];
	int types[64];
	unsigned flags[64];
	size_t nxattrs[64];
	uint32_t modes[64];
	size_t n;
	size_t layers_begun, layers_ended;
	char content[256]; /* of the entry named `want_content` */
	const char *want_content;
	int stop_after;	  /* return 1 from the entry callback after this many (0: never) */
	bool block_reads; /* read content with bale_image_entry_read_block() */
};

static int on_begin(void *ctx, const bale_image_layer *l)
{
	(void)l;
	((struct seen *)ctx)->layers_begun++;
	return 0;
}

static int on_end(void *ctx, const bale_image_layer *l)
{
	(void)l;
	((struct seen *)ctx)->layers_ended++;
	return 0;
}

static int on_entry(void *ctx, const bale_image_entry *e, bale_image_reader *r)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", e->path);
		snprintf(s->links[s->n], sizeof(s->links[0]), "%s", e->link ? e->link : "");
		s->types[s->n] = e->type;
		s->flags[s->n] = e->flags;
		s->nxattrs[s->n] = e->nxattrs;
		s->modes[s->n] = e->mode;
	}
	s->n++;
	if (s->want_content && strcmp(e->path, s->want_content) == 0 && !s->content[0] &&
	    s->block_reads) {
		const void *blk;
		size_t len, got = 0;
		uint64_t off;

		do {
			int rc = bale_image_entry_read_block(r, &blk, &len, &off);

			if (rc)
				return rc;
			if (len > 0)
				assert_int_equal(off, got);
			if (len > sizeof(s->content) - 1 - got)
				len = sizeof(s->content) - 1 - got;
			if (len > 0)
				memcpy(s->content + got, blk, len);
			got += len;
		} while (len > 0);
		s->content[got] = '\0';
	} else if (s->want_content && strcmp(e->path, s->want_content) == 0 && !s->content[0]) {
		size_t got = 0, n;

		do {
			int rc = bale_image_entry_read(r, s->content + got,
						       sizeof(s->content) - 1 - got, &n);

			if (rc)
				return rc;
			got += n;
		} while (n > 0 && got < sizeof(s->content) - 1);
		s->content[got] = '\0';
	}
	if (s->stop_after && (int)s->n >= s->stop_after)
		return 1;
	return 0;
}

static const bale_image_visitor *visitor_for(struct seen *s)
{
	static bale_image_visitor v;

	v.layer_begin = on_begin;
	v.entry = on_entry;
	v.layer_end = on_end;
	v.ctx = s;
	return &v;
}

static int find_path(const struct seen *s, const char *path)
{
	for (size_t i = 0; i < s->n && i < 64; i++)
		if (strcmp(s->paths[i], path) == 0)
			return (int)i;
	return -1;
}

static void assert_error(int rc, int code, const char *fragment)
{
	const bale_error *e = bale_error_last();

	if (rc != code || !strstr(e->message, fragment))
		fail_msg("expected %d with '%s', got %d: '%s'", code, fragment, rc, e->message);
}

/* ---- the demo image made by umoci, in every format ---- */

/* Layer 0: app/, app/key, etc/, etc/hello.txt. Layer 1: whiteout of app/key, app/run.sh,
 * a hardlink and a symlink. Config set by `umoci config`. */
static void check_demo(const char *ref, bale_image_compression comp, bool docker_archive)
{
	bale_image *img = NULL;
	const bale_image_info *info;
	const bale_image_config *c;
	struct seen s = {.want_content = "etc/hello.txt"};
	int rc = bale_image_open(&img, ref, defaults()), i;

	if (rc)
		fail_msg("%s: %s", ref, bale_error_last()->message);
	info = bale_image_info_get(img);
	c = info->config;
	assert_int_equal(info->transport,
			 docker_archive ? BALE_IMAGE_DOCKER_ARCHIVE : info->transport);
	assert_string_equal(info->platform, "linux/amd64");
	assert_string_equal(c->user, "1000");
	assert_string_equal(c->working_dir, "/app");
	assert_string_equal(c->stop_signal, "SIGTERM");
	assert_string_equal(c->author, "bale tests");
	assert_int_equal(c->nenv, 2);
	assert_string_equal(c->env[0], "A=1");
	assert_int_equal(c->nentrypoint, 1);
	assert_string_equal(c->entrypoint[0], "/bin/sh");
	assert_int_equal(c->ncmd, 2);
	assert_string_equal(c->cmd[1], "echo hi");
	assert_int_equal(c->nexposed_ports, 1);
	assert_string_equal(c->exposed_ports[0], "8080/tcp");
	assert_int_equal(c->nvolumes, 1);
	assert_string_equal(c->volumes[0], "/data");
	assert_int_equal(c->nlabels, 1);
	assert_string_equal(c->labels[0].name, "org.example.a");
	assert_string_equal(c->labels[0].value, "b");
	assert_null(c->healthcheck);
	assert_null(c->shell);
	/* umoci new, COPY (layer 0), CONFIG (empty), RUN change (layer 1) */
	assert_int_equal(c->nhistory, 3);
	assert_string_equal(c->history[0].created_by, "COPY files /");
	assert_int_equal(c->history[0].layer, 0);
	assert_true(c->history[1].empty_layer);
	assert_int_equal(c->history[1].layer, BALE_IMAGE_NONE);
	assert_string_equal(c->history[2].created_by, "RUN change");
	assert_int_equal(c->history[2].layer, 1);
	assert_int_equal(info->nlayers, 2);
	assert_int_equal(c->ndiff_ids, 2);
	assert_int_equal(info->layers[1].history, 2);
	assert_string_equal(info->layers[0].diff_id, c->diff_ids[0]);
	assert_false(info->layers[0].missing);

	rc = bale_image_read_layers(img, visitor_for(&s));
	if (rc)
		fail_msg("%s: %s", ref, bale_error_last()->message);
	assert_int_equal(s.layers_begun, 2);
	assert_int_equal(s.layers_ended, 2);
	for (size_t k = 0; k < 2; k++) {
		assert_true(info->layers[k].verified);
		assert_int_equal(info->layers[k].compression, comp);
		assert_non_null(info->layers[k].blob.digest);
		assert_true(info->layers[k].uncompressed_size >= 1024);
	}
	assert_int_equal(info->layers[0].entries + info->layers[1].entries, s.n);
	assert_string_equal(s.content, "hello\n");
	assert_true(find_path(&s, "") >= 0); /* umoci writes "./" for the root */
	assert_true(find_path(&s, "app/key") >= 0);
	assert_true((i = find_path(&s, "app/.wh.key")) >= 0);
	assert_int_equal(s.types[i], BALE_IMAGE_ENTRY_FILE);
	assert_true((i = find_path(&s, "app/run.sh")) >= 0);
	assert_int_equal(s.modes[i], 0755);
	assert_true((i = find_path(&s, "etc/link")) >= 0);
	assert_int_equal(s.types[i], BALE_IMAGE_ENTRY_SYMLINK);
	assert_string_equal(s.links[i], "hello.txt");
	/* umoci wrote etc/hard as the file and etc/hello.txt as a link to it */
	assert_true((i = find_path(&s, "etc/hello.txt")) >= 0);
	{
		int h = find_path(&s, "etc/hard");

		assert_true(h >= 0);
		if (s.types[h] == BALE_IMAGE_ENTRY_HARDLINK)
			assert_string_equal(s.links[h], "etc/hello.txt");
		else
			assert_true(s.types[i] == BALE_IMAGE_ENTRY_HARDLINK ||
				    s.types[i] == BALE_IMAGE_ENTRY_FILE);
	}
	assert_true((i = find_path(&s, "etc")) >= 0);
	assert_int_equal(s.types[i], BALE_IMAGE_ENTRY_DIR);
	bale_image_free(img);
}

static void test_oci_layout_gzip(void **state)
{
	(void)state;
	check_demo("oci:" DATA "/oci-gzip:demo", BALE_IMAGE_GZIP, false);
}

static void test_oci_layout_detected_by_content(void **state)
{
	bale_image *img = NULL;

	(void)state;
	check_demo(DATA "/oci-gzip", BALE_IMAGE_GZIP, false);
	assert_int_equal(bale_image_open(&img, DATA "/oci-gzip", defaults()), 0);
	assert_int_equal(bale_image_info_get(img)->transport, BALE_IMAGE_OCI_LAYOUT);
	assert_string_equal(bale_image_info_get(img)->name, "demo");
	assert_null(bale_image_info_get(img)->index_digest);
	assert_string_equal(bale_image_info_get(img)->manifest.media_type,
			    "application/vnd.oci.image.manifest.v1+json");
	bale_image_free(img);
}

static void test_oci_layout_zstd(void **state)
{
	(void)state;
	check_demo("oci:" DATA "/oci-zstd:demo", BALE_IMAGE_ZSTD, false);
}

static void test_oci_layout_uncompressed(void **state)
{
	(void)state;
	check_demo("oci:" DATA "/oci-plain", BALE_IMAGE_UNCOMPRESSED, false);
}

static void test_oci_layout_docker_media_types(void **state)
{
	bale_image *img = NULL;

	(void)state;
	check_demo("oci:" DATA "/oci-v2s2:demo", BALE_IMAGE_GZIP, false);
	assert_int_equal(bale_image_open(&img, "oci:" DATA "/oci-v2s2", defaults()), 0);
	assert_string_equal(bale_image_info_get(img)->manifest.media_type,
			    "application/vnd.docker.distribution.manifest.v2+json");
	assert_string_equal(bale_image_info_get(img)->layers[0].blob.media_type,
			    "application/vnd.docker.image.rootfs.diff.tar.gzip");
	bale_image_free(img);
}

static void test_oci_archive(void **state)
{
	bale_image *img = NULL;

	(void)state;
	check_demo("oci-archive:" DATA "/demo.oci.tar", BALE_IMAGE_GZIP, false);
	check_demo(DATA "/demo.oci.tar", BALE_IMAGE_GZIP, false);
	assert_int_equal(bale_image_open(&img, DATA "/demo.oci.tar", defaults()), 0);
	assert_int_equal(bale_image_info_get(img)->transport, BALE_IMAGE_OCI_ARCHIVE);
	bale_image_free(img);
}

static void test_docker_archive_skopeo(void **state)
{
	bale_image *img = NULL;
	const bale_image_info *info;

	(void)state;
	check_demo("docker-archive:" DATA "/demo.docker.tar", BALE_IMAGE_UNCOMPRESSED, true);
	check_demo(DATA "/demo.docker.tar", BALE_IMAGE_UNCOMPRESSED, true);
	check_demo("docker-archive:" DATA "/demo.docker.tar:example.com/demo:1",
		   BALE_IMAGE_UNCOMPRESSED, true);
	assert_int_equal(bale_image_open(&img, DATA "/demo.docker.tar", defaults()), 0);
	info = bale_image_info_get(img);
	assert_string_equal(info->name, "example.com/demo:1");
	assert_null(info->manifest.digest);
	/* config named <hex>.json: checked against that digest */
	assert_int_equal(strlen(info->config_blob.digest), 71);
	assert_null(info->layers[0].blob.digest); /* named only once read */
	assert_int_equal(bale_image_read_layers(img, NULL), 0);
	assert_string_equal(info->layers[0].blob.digest, info->layers[0].diff_id);
	bale_image_free(img);
}

static void test_docker_archive_legacy_layout_and_names(void **state)
{
	bale_image *img = NULL;
	const bale_image_info *info;
	struct seen s = {0};

	(void)state;
	assert_error(bale_image_open(&img, DATA "/legacy.docker.tar", defaults()), BALE_EINVAL,
		     "holds 2 images; name one as docker-archive:" DATA
		     "/legacy.docker.tar:NAME:TAG or :@N (names: demo:latest, "
		     "example.com/other:2)");
	assert_null(img);
	/* "demo" normalizes to docker.io/library/demo:latest, as the docker CLI reads it */
	assert_int_equal(
	    bale_image_open(&img, "docker-archive:" DATA "/legacy.docker.tar:demo", defaults()), 0);
	info = bale_image_info_get(img);
	assert_string_equal(info->name, "demo:latest");
	assert_string_equal(info->layers[0].path, "id0/layer.tar");
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_true(find_path(&s, "app/run.sh") >= 0);
	bale_image_free(img);
	check_demo("docker-archive:" DATA "/legacy.docker.tar:docker.io/library/demo:latest",
		   BALE_IMAGE_UNCOMPRESSED, true);

	/* the second image repeats layer 0 through a symlinked <id>/layer.tar: read once */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    bale_image_open(&img, "docker-archive:" DATA "/legacy.docker.tar:@1", defaults()), 0);
	info = bale_image_info_get(img);
	assert_string_equal(info->name, "example.com/other:2");
	assert_int_equal(info->nlayers, 2);
	assert_int_equal(info->layers[1].duplicate_of, 0);
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_int_equal(s.layers_begun, 2);
	assert_int_equal(s.n, info->layers[0].entries); /* entries of layer 0 only, once */
	assert_true(info->layers[1].verified);
	bale_image_free(img);

	assert_error(
	    bale_image_open(&img, "docker-archive:" DATA "/legacy.docker.tar:@2", defaults()),
	    BALE_ENOTFOUND, "no image '@2' (it holds 2)");
	assert_error(
	    bale_image_open(&img, "docker-archive:" DATA "/legacy.docker.tar:nope:1", defaults()),
	    BALE_ENOTFOUND, "no image named 'nope:1' (names: demo:latest, example.com/other:2)");
}

static void test_docker25_archive(void **state)
{
	bale_image *img = NULL;
	const bale_image_info *info;

	(void)state;
	/* Docker 25+ writes both manifest.json and index.json: read as docker save meant it */
	check_demo(DATA "/docker25.tar", BALE_IMAGE_UNCOMPRESSED, true);
	assert_int_equal(bale_image_open(&img, DATA "/docker25.tar", defaults()), 0);
	info = bale_image_info_get(img);
	assert_string_equal(info->name, "demo:25");
	assert_non_null(info->layers[0].blob.digest); /* from blobs/sha256/<hex> */
	assert_string_equal(info->layers[0].path + 13, info->layers[0].blob.digest + 7);
	bale_image_free(img);
	/* and as the OCI archive it also is */
	check_demo("oci-archive:" DATA "/docker25.tar", BALE_IMAGE_UNCOMPRESSED, false);
}

static void open_platform(const char *platform, const char *want_arch, const char *want_variant)
{
	bale_image *img = NULL;
	bale_image_options o;
	struct seen s = {.want_content = "arch"};
	int rc;

	init_opts(&o);
	o.platform = platform;
	rc = bale_image_open(&img, "oci:" DATA "/oci-multi", &o);
	if (rc)
		fail_msg("%s: %s", platform ? platform : "host", bale_error_last()->message);
	assert_string_equal(bale_image_info_get(img)->config->architecture, want_arch);
	if (want_variant)
		assert_string_equal(bale_image_info_get(img)->platform + strlen("linux/") +
					strlen(want_arch) + 1,
				    want_variant);
	assert_non_null(bale_image_info_get(img)->manifest.digest);
	assert_non_null(bale_image_info_get(img)->index_digest);
	assert_string_not_equal(bale_image_info_get(img)->index_digest,
				bale_image_info_get(img)->manifest.digest);
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "%s\n", want_arch);
		assert_string_equal(s.content, want);
	}
	bale_image_free(img);
}

static void test_multi_platform_index(void **state)
{
	bale_image *img = NULL;
	bale_image_options o;
	char host_arch[64];
	const char *h = bale_image_host_platform() + strlen("linux/");

	(void)state;
	snprintf(host_arch, sizeof(host_arch), "%.*s", (int)strcspn(h, "/"), h);
	open_platform("linux/arm64", "arm64", NULL);
	open_platform("linux/arm64/v8", "arm64", NULL);
	open_platform("linux/arm/v7", "arm", NULL);
	open_platform("linux/arm", "arm", NULL);
	open_platform("linux/amd64", "amd64", NULL);
	if (strcmp(host_arch, "amd64") == 0 || strcmp(host_arch, "arm64") == 0)
		open_platform(NULL, host_arch, NULL);

	init_opts(&o);
	o.platform = "linux/s390x";
	assert_error(bale_image_open(&img, "oci:" DATA "/oci-multi", &o), BALE_ENOTFOUND,
		     "no image for platform 'linux/s390x' (platforms: linux/amd64, "
		     "linux/arm64/v8, linux/arm/v7); choose one with --platform");
	o.platform = "linux/arm/v6";
	assert_error(bale_image_open(&img, "oci:" DATA "/oci-multi", &o), BALE_ENOTFOUND,
		     "no image for platform 'linux/arm/v6'");
	o.platform = "linux";
	assert_error(bale_image_open(&img, "oci:" DATA "/oci-multi", &o), BALE_EINVAL,
		     "bad platform 'linux': expected os/arch[/variant]");
	o.platform = NULL;
	assert_error(bale_image_open(&img, "oci:" DATA "/oci-multi:nope", &o), BALE_ENOTFOUND,
		     "no image named 'nope' (names: latest)");
}

static void test_reference_errors(void **state)
{
	bale_image *img = NULL;
	char path[] = "/tmp/bale-image-XXXXXX";
	int fd;

	(void)state;
	assert_error(bale_image_open(&img, DATA "/does-not-exist", defaults()), BALE_ENOTFOUND,
		     "cannot open '" DATA "/does-not-exist': No such file or directory (an image "
		     "is a path, docker-archive:FILE, oci-archive:FILE or oci:DIR)");
	assert_error(bale_image_open(&img, "docker-archive:", defaults()), BALE_EINVAL,
		     "no path in the image reference");
	assert_error(bale_image_open(&img, "oci:" DATA "/oci-gzip:nope", defaults()),
		     BALE_ENOTFOUND, "no image named 'nope' (names: demo)");
	assert_error(bale_image_open(&img, "oci:" DATA, defaults()), BALE_ENOTFOUND,
		     "is not an OCI image layout: no index.json");
	/* a tar that is no image */
	assert_error(bale_image_open(&img, DATA "/demo.oci.tar/x", defaults()), BALE_EIO, "cannot");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	{
		unsigned char gz[64] = {0x1f, 0x8b, 8, 0};

		assert_int_equal(write(fd, gz, sizeof(gz)), (ssize_t)sizeof(gz));
	}
	close(fd);
	assert_error(bale_image_open(&img, path, defaults()), BALE_EPARSE,
		     "is a compressed archive; bale reads archives in place, so decompress it");
	fd = open(path, O_WRONLY | O_TRUNC);
	{
		char junk[1024];

		memset(junk, 'x', sizeof(junk));
		assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	}
	close(fd);
	assert_error(bale_image_open(&img, path, defaults()), BALE_EPARSE,
		     "not a tar archive (bad header checksum at offset 0)");
	/* an empty tar: two zero blocks */
	fd = open(path, O_WRONLY | O_TRUNC);
	{
		char zeros[1024] = {0};

		assert_int_equal(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	}
	close(fd);
	assert_error(bale_image_open(&img, path, defaults()), BALE_EPARSE,
		     "is not an image archive: it has no manifest.json (docker-archive) and no "
		     "index.json (oci-archive)");
	assert_error(bale_image_open(&img, "docker-archive:/dev/null", defaults()), BALE_EIO,
		     "'/dev/null' is not a regular file; bale reads archives in place");
	assert_error(bale_image_open(&img, "oci-archive:" DATA "/demo.docker.tar", defaults()),
		     BALE_ENOTFOUND, "has no member 'index.json'");
	assert_error(bale_image_open(&img, "docker-archive:" DATA "/demo.oci.tar", defaults()),
		     BALE_ENOTFOUND, "has no member 'manifest.json'");
	unlink(path);
	assert_null(img);
}

/* ---- synthetic images: a temporary OCI layout built here ---- */

static char tmpdir[64];

static void sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char md[32];
	unsigned int n;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Writes a blob; fills "sha256:<hex>". */
static void put_blob(const void *data, size_t len, char *digest)
{
	char path[256], hex[65];

	sha256_hex(data, len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", tmpdir, hex);
	write_file(path, data, len);
}

static void blob_path(const char *digest, char *out, size_t cap)
{
	snprintf(out, cap, "%s/blobs/sha256/%.64s", tmpdir, digest + 7);
}

/* A ustar header plus data. type: '0' file, '1' hardlink, '2' symlink, '5' dir, 'x' pax. */
static void tar_add(bale_buf *t, const char *name, char type, const void *data, size_t len,
		    const char *link)
{
	unsigned char h[512] = {0};
	unsigned sum = 0;

	memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
	snprintf((char *)h + 136, 12, "%011o", 1700000000);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	bale_buf_add(t, h, 512);
	bale_buf_add(t, data, len);
	if (len % 512) {
		static const char zeros[512];

		bale_buf_add(t, zeros, 512 - len % 512);
	}
}

static void tar_file(bale_buf *t, const char *name, const char *content)
{
	tar_add(t, name, '0', content, strlen(content), NULL);
}

static void tar_end(bale_buf *t)
{
	static const char zeros[1024];

	bale_buf_add(t, zeros, sizeof(zeros));
}

static void gzip_buf(const bale_buf *in, bale_buf *out)
{
	z_stream z = {0};

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	bale_buf_grow(out, deflateBound(&z, in->len) + 64);
	z.next_in = (unsigned char *)in->ptr;
	z.avail_in = (uInt)in->len;
	z.next_out = (unsigned char *)out->ptr + out->len;
	z.avail_out = (uInt)(out->alloc - out->len - 1);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len += z.total_out;
	deflateEnd(&z);
}

static void zstd_buf(const bale_buf *in, bale_buf *out)
{
	size_t cap = ZSTD_compressBound(in->len), n;

	bale_buf_grow(out, cap);
	n = ZSTD_compress(out->ptr + out->len, cap, in->ptr, in->len, 3);
	assert_false(ZSTD_isError(n));
	out->len += n;
}

struct synth_layer {
	const bale_buf *tar;	 /* uncompressed */
	const bale_buf *blob;	 /* as stored; NULL: the tar itself */
	const char *media_type;	 /* NULL: ...layer.v1.tar(+gzip|+zstd) by sniffing blob */
	const char *diff_id;	 /* NULL: computed */
	long long size_override; /* descriptor size; 0: the real one */
};

struct synth {
	char manifest[72], config[72], layers[8][72], diff_ids[8][72];
};

/*
 * Builds tmpdir as an OCI layout of one image. `config_json` (NULL: a valid one) is a printf
 * format with one %s for the diff_ids array; `manifest_extra` is spliced into the manifest.
 */
static void synth_image(const struct synth_layer *layers, size_t n, const char *config_fmt,
			const char *config_media, struct synth *out)
{
	bale_buf ids = BALE_BUF_INIT, cfg = BALE_BUF_INIT, man = BALE_BUF_INIT, idx = BALE_BUF_INIT;
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bale-synth-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/blobs", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", tmpdir);
	mkdir(path, 0755);
	bale_buf_adds(&man, "{\"schemaVersion\":2,\"mediaType\":"
			    "\"application/vnd.oci.image.manifest.v1+json\",\"layers\":[");
	for (size_t i = 0; i < n; i++) {
		const bale_buf *b = layers[i].blob ? layers[i].blob : layers[i].tar;
		const char *mt = layers[i].media_type;
		char hex[65];

		put_blob(b->ptr, b->len, out->layers[i]);
		if (layers[i].diff_id) {
			snprintf(out->diff_ids[i], 72, "%s", layers[i].diff_id);
		} else {
			sha256_hex(layers[i].tar->ptr, layers[i].tar->len, hex);
			snprintf(out->diff_ids[i], 72, "sha256:%s", hex);
		}
		if (!mt)
			mt = (unsigned char)b->ptr[0] == 0x1f
				 ? "application/vnd.oci.image.layer.v1.tar+gzip"
			     : (unsigned char)b->ptr[0] == 0x28
				 ? "application/vnd.oci.image.layer.v1.tar+zstd"
				 : "application/vnd.oci.image.layer.v1.tar";
		bale_buf_addf(&ids, "%s\"%s\"", i ? "," : "", out->diff_ids[i]);
		bale_buf_addf(&man, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
			      i ? "," : "", mt, out->layers[i],
			      layers[i].size_override ? layers[i].size_override
						      : (long long)b->len);
	}
	if (!config_fmt)
		config_fmt = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":"
			     "\"root\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}";
	{
		/* config_fmt holds one "%s" where the diff_ids go */
		const char *hole = strstr(config_fmt, "%s");

		assert_non_null(hole);
		bale_buf_add(&cfg, config_fmt, (size_t)(hole - config_fmt));
		bale_buf_add(&cfg, ids.ptr, ids.len);
		bale_buf_adds(&cfg, hole + 2);
	}
	put_blob(cfg.ptr, cfg.len, out->config);
	bale_buf_addf(&man, "],\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}}",
		      config_media ? config_media : "application/vnd.oci.image.config.v1+json",
		      out->config, cfg.len);
	put_blob(man.ptr, man.len, out->manifest);
	bale_buf_addf(&idx,
		      "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		      "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
		      out->manifest, man.len);
	snprintf(path, sizeof(path), "%s/index.json", tmpdir);
	write_file(path, idx.ptr, idx.len);
	snprintf(path, sizeof(path), "%s/oci-layout", tmpdir);
	write_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	bale_buf_release(&ids);
	bale_buf_release(&cfg);
	bale_buf_release(&man);
	bale_buf_release(&idx);
}

static void synth_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
}

/* Opens tmpdir, reads every layer; returns the read's result (the open must succeed). */
static int synth_read(const bale_image_options *o, struct seen *s)
{
	bale_image *img = NULL;
	int rc = bale_image_open(&img, tmpdir, o ? o : defaults());

	if (rc)
		fail_msg("open: %s", bale_error_last()->message);
	rc = bale_image_read_layers(img, visitor_for(s));
	bale_image_free(img);
	return rc;
}

static void one_layer(const bale_buf *tar, const bale_buf *blob, struct synth *sy)
{
	struct synth_layer l = {.tar = tar, .blob = blob};

	synth_image(&l, 1, NULL, NULL, sy);
}

static void test_paths_are_normalized(void **state)
{
	bale_buf t = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};

	(void)state;
	tar_add(&t, "./", '5', "", 0, NULL);
	tar_file(&t, "/abs/file", "a");
	tar_file(&t, "./a//b/./c", "b");
	tar_file(&t, "x/../y", "c");
	tar_add(&t, "hl", '1', "", 0, "/abs/file");
	tar_add(&t, "sl", '2', "", 0, "../../outside");
	tar_end(&t);
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.paths[0], "");
	assert_int_equal(s.types[0], BALE_IMAGE_ENTRY_DIR);
	assert_string_equal(s.paths[1], "abs/file");
	assert_int_equal(s.flags[1], BALE_IMAGE_ENTRY_ABSOLUTE);
	assert_string_equal(s.paths[2], "a/b/c");
	assert_int_equal(s.flags[2], 0);
	assert_string_equal(s.paths[3], "y");
	assert_int_equal(s.flags[3], BALE_IMAGE_ENTRY_DOTDOT);
	assert_int_equal(s.types[4], BALE_IMAGE_ENTRY_HARDLINK);
	assert_string_equal(s.links[4], "abs/file");
	/* a symlink target is data, kept as written; following it is the tree's business */
	assert_int_equal(s.types[5], BALE_IMAGE_ENTRY_SYMLINK);
	assert_string_equal(s.links[5], "../../outside");
	synth_cleanup();
	bale_buf_release(&t);
}

static void test_traversal_is_an_error(void **state)
{
	bale_buf t = BALE_BUF_INIT, t2 = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};
	char want[200];

	(void)state;
	tar_file(&t, "ok", "1");
	tar_file(&t, "a/../../etc/passwd", "root::0:0::/:/bin/sh\n");
	tar_end(&t);
	one_layer(&t, NULL, &sy);
	snprintf(want, sizeof(want),
		 "layer 0 '%s': entry 1: path 'a/../../etc/passwd' escapes the root with '..'",
		 sy.layers[0]);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, want);
	synth_cleanup();

	memset(&s, 0, sizeof(s));
	tar_add(&t2, "evil", '1', "", 0, "../x");
	tar_end(&t2);
	one_layer(&t2, NULL, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE,
		     "entry 0: hardlink target '../x' escapes the root with '..'");
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&t2);
}

static void build_small_tar(bale_buf *t)
{
	tar_add(t, "etc", '5', "", 0, NULL);
	tar_file(t, "etc/motd", "welcome\n");
	for (int i = 0; i < 20; i++) {
		char name[32], body[600];

		snprintf(name, sizeof(name), "data/f%02d", i);
		memset(body, 'a' + i, sizeof(body) - 1);
		body[sizeof(body) - 1] = '\0';
		tar_file(t, name, body);
	}
	tar_end(t);
}

static void test_gzip_zstd_and_sniffing(void **state)
{
	bale_buf t = BALE_BUF_INIT, gz = BALE_BUF_INIT, zs = BALE_BUF_INIT;
	struct synth_layer l[3] = {{0}};
	struct synth sy;
	struct seen s = {.want_content = "etc/motd"};
	bale_image *img;

	(void)state;
	build_small_tar(&t);
	gzip_buf(&t, &gz);
	zstd_buf(&t, &zs);
	/* media types that lie: the magic bytes win */
	l[0] = (struct synth_layer){
	    .tar = &t, .blob = &gz, .media_type = "application/vnd.oci.image.layer.v1.tar"};
	l[1] = (struct synth_layer){
	    .tar = &t, .blob = &zs, .media_type = "application/vnd.oci.image.layer.v1.tar+gzip"};
	l[2] = (struct synth_layer){.tar = &t,
				    .media_type = "application/vnd.oci.image.layer.v1.tar+zstd"};
	synth_image(l, 3, NULL, NULL, &sy);
	assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
	s.block_reads = true;
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_int_equal(s.n, 66);
	assert_string_equal(s.content, "welcome\n");
	assert_int_equal(bale_image_info_get(img)->layers[0].compression, BALE_IMAGE_GZIP);
	assert_int_equal(bale_image_info_get(img)->layers[1].compression, BALE_IMAGE_ZSTD);
	assert_int_equal(bale_image_info_get(img)->layers[2].compression, BALE_IMAGE_UNCOMPRESSED);
	assert_int_equal(bale_image_info_get(img)->layers[1].uncompressed_size, t.len);
	bale_image_free(img);
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&gz);
	bale_buf_release(&zs);
}

static void test_multi_member_gzip_is_read_whole(void **state)
{
	bale_buf a = BALE_BUF_INIT, b = BALE_BUF_INIT, whole = BALE_BUF_INIT, gz = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};

	(void)state;
	/* pigz-style: two gzip members whose concatenation is the tar */
	tar_file(&a, "one", "1");
	tar_file(&b, "two", "2");
	tar_end(&b);
	bale_buf_add(&whole, a.ptr, a.len);
	bale_buf_add(&whole, b.ptr, b.len);
	gzip_buf(&a, &gz);
	gzip_buf(&b, &gz);
	one_layer(&whole, &gz, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.paths[1], "two");
	synth_cleanup();
	bale_buf_release(&a);
	bale_buf_release(&b);
	bale_buf_release(&whole);
	bale_buf_release(&gz);
}

static void test_corrupt_streams(void **state)
{
	bale_buf t = BALE_BUF_INIT, gz = BALE_BUF_INIT, zs = BALE_BUF_INIT, cut = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};

	(void)state;
	build_small_tar(&t);
	gzip_buf(&t, &gz);
	zstd_buf(&t, &zs);

	/* truncated gzip */
	bale_buf_add(&cut, gz.ptr, gz.len / 2);
	one_layer(&t, &cut, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "the gzip stream is truncated");
	synth_cleanup();

	/* a flipped byte in the deflate data */
	bale_buf_reset(&cut);
	bale_buf_add(&cut, gz.ptr, gz.len);
	cut.ptr[gz.len / 2] ^= 0x55;
	one_layer(&t, &cut, &sy);
	memset(&s, 0, sizeof(s));
	{
		int rc = synth_read(NULL, &s);

		assert_true(rc == BALE_EPARSE);
		assert_non_null(strstr(bale_error_last()->message, "gzip"));
	}
	synth_cleanup();

	/* garbage after the gzip stream */
	bale_buf_reset(&cut);
	bale_buf_add(&cut, gz.ptr, gz.len);
	bale_buf_adds(&cut, "GARBAGE!");
	one_layer(&t, &cut, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "trailing data after the gzip stream");
	synth_cleanup();

	/* truncated zstd */
	bale_buf_reset(&cut);
	bale_buf_add(&cut, zs.ptr, zs.len - 5);
	one_layer(&t, &cut, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "the zstd stream is truncated");
	synth_cleanup();

	/* corrupt zstd */
	bale_buf_reset(&cut);
	bale_buf_add(&cut, zs.ptr, zs.len);
	memset(cut.ptr + 8, 0xff, 8);
	one_layer(&t, &cut, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "corrupt zstd data");
	synth_cleanup();

	/* an uncompressed tar cut in the middle of a file (data/f00: 599 bytes at 4 * 512; a cut
	   at 5 * 512 + 100 would be in its padding, a clean end) */
	bale_buf_reset(&cut);
	bale_buf_add(&cut, t.ptr, 512 * 4 + 100);
	one_layer(&cut, NULL, &sy);
	memset(&s, 0, sizeof(s));
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "layer 0 'sha256:");
	assert_non_null(strstr(bale_error_last()->message,
			       "the tar is truncated: it ends inside the data of entry 2, after "
			       "100 of its 599 bytes (at entry 'data/f00')"));
	synth_cleanup();

	/* not a tar at all */
	bale_buf_reset(&cut);
	for (int i = 0; i < 100; i++)
		bale_buf_adds(&cut, "this is not a tar archive. ");
	one_layer(&cut, NULL, &sy);
	assert_error(synth_read(NULL, &s), BALE_EPARSE, "layer 0 'sha256:");
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&gz);
	bale_buf_release(&zs);
	bale_buf_release(&cut);
}

static void test_digest_mismatches(void **state)
{
	bale_buf t = BALE_BUF_INIT, gz = BALE_BUF_INIT;
	struct synth_layer l = {0};
	struct synth sy;
	struct seen s = {0};
	char path[256], want[300];
	bale_image *img = NULL;

	(void)state;
	build_small_tar(&t);
	gzip_buf(&t, &gz);

	/* the blob's bytes changed after it was written: same size, other digest */
	one_layer(&t, &gz, &sy);
	blob_path(sy.layers[0], path, sizeof(path));
	{
		bale_buf other = BALE_BUF_INIT, ogz = BALE_BUF_INIT;

		tar_file(&other, "x", "y");
		tar_end(&other);
		gzip_buf(&other, &ogz);
		write_file(path, ogz.ptr, ogz.len);
		bale_buf_release(&other);
		bale_buf_release(&ogz);
	}
	snprintf(want, sizeof(want), "layer 0 '%s': blob is ", sy.layers[0]);
	assert_error(synth_read(NULL, &s), BALE_EDIGEST, want);
	synth_cleanup();

	/* same size, one byte of a file's content changed (uncompressed: the tar's digest) */
	one_layer(&t, NULL, &sy);
	blob_path(sy.layers[0], path, sizeof(path));
	{
		bale_buf x = BALE_BUF_INIT;

		bale_buf_add(&x, t.ptr, t.len);
		x.ptr[512 * 2 + 3] ^= 1; /* in the content of etc/motd */
		write_file(path, x.ptr, x.len);
		bale_buf_release(&x);
	}
	snprintf(want, sizeof(want),
		 "layer 0 '%s': blob does not match its digest (content is 'sha256:", sy.layers[0]);
	assert_error(synth_read(NULL, &s), BALE_EDIGEST, want);
	synth_cleanup();

	/* the config's diff_id is not the tar's */
	l.tar = &t;
	l.blob = &gz;
	l.diff_id = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	synth_image(&l, 1, NULL, NULL, &sy);
	assert_error(synth_read(NULL, &s), BALE_EDIGEST,
		     "uncompressed content does not match diff_id "
		     "'sha256:0000000000000000000000000000000000000000000000000000000000000000' "
		     "(content is 'sha256:");
	synth_cleanup();

	/* the descriptor's size is wrong */
	l.diff_id = NULL;
	l.size_override = 10;
	synth_image(&l, 1, NULL, NULL, &sy);
	snprintf(want, sizeof(want), "layer 0 '%s': blob is %zu bytes, the manifest says 10",
		 sy.layers[0], gz.len);
	assert_error(synth_read(NULL, &s), BALE_EDIGEST, want);
	synth_cleanup();

	/* a FIFO where a blob should be must not hang the reader */
	synth_image(&l, 1, NULL, NULL, &sy);
	blob_path(sy.layers[0], path, sizeof(path));
	unlink(path);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EIO, "is not a regular file");
	synth_cleanup();

	/* the manifest blob was altered: caught when the image is opened */
	l.size_override = 0;
	synth_image(&l, 1, NULL, NULL, &sy);
	blob_path(sy.manifest, path, sizeof(path));
	{
		bale_buf m = BALE_BUF_INIT;

		assert_int_equal(bale_read_file(&m, path, 1 << 20), 0);
		m.ptr[m.len - 2] = ' ';
		write_file(path, m.ptr, m.len);
		bale_buf_release(&m);
	}
	snprintf(want, sizeof(want), "manifest '%s' does not match its digest", sy.manifest);
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EDIGEST, want);
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&gz);
}

static void test_bombs_and_limits(void **state)
{
	bale_buf t = BALE_BUF_INIT, zs = BALE_BUF_INIT, small = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};
	bale_image_options o;
	size_t big = (size_t)80 << 20;
	char *zeros = calloc(1, big);

	(void)state;
	assert_non_null(zeros);
	tar_add(&t, "zeros", '0', zeros, big, NULL);
	tar_end(&t);
	free(zeros);
	zstd_buf(&t, &zs);
	one_layer(&t, &zs, &sy);
	init_opts(&o);
	assert_error(synth_read(&o, &s), BALE_ELIMIT, "decompresses to over 200 times its");
	assert_non_null(strstr(bale_error_last()->message, "(a decompression bomb?)"));
	/* the ratio is a bound the caller can lift */
	o.max_ratio = 0;
	memset(&s, 0, sizeof(s));
	assert_int_equal(synth_read(&o, &s), 0);
	o.max_layer_size = 1 << 20;
	assert_error(synth_read(&o, &s), BALE_ELIMIT,
		     "uncompressed size is over the limit of 1048576 bytes");
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&zs);

	build_small_tar(&small);
	one_layer(&small, NULL, &sy);
	init_opts(&o);
	o.max_entries = 5;
	assert_error(synth_read(&o, &s), BALE_ELIMIT, "more than 5 entries (the limit)");
	init_opts(&o);
	o.max_path = 6;
	assert_error(synth_read(&o, &s), BALE_ELIMIT, "entry 1: path is over the limit of 6 bytes");
	init_opts(&o);
	o.max_json_size = 40;
	{
		bale_image *img = NULL;

		assert_error(bale_image_open(&img, tmpdir, &o), BALE_ELIMIT,
			     "over the limit of 40 bytes for JSON");
	}
	synth_cleanup();
	bale_buf_release(&small);
}

static void test_pax_long_names_and_xattrs(void **state)
{
	bale_buf t = BALE_BUF_INIT, pax = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {0};
	char longname[300], rec[400];

	(void)state;
	memset(longname, 'n', 250);
	longname[0] = 'd';
	longname[1] = '/';
	longname[250] = '\0';
	snprintf(rec, sizeof(rec), "path=%s\n", longname);
	bale_buf_addf(&pax, "%zu %s", strlen(rec) + 4, rec);
	bale_buf_adds(&pax, "29 SCHILY.xattr.user.note=hi\n");
	tar_add(&t, "PaxHeaders/x", 'x', pax.ptr, pax.len, NULL);
	tar_file(&t, "short", "content");
	tar_end(&t);
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(strlen(s.paths[0]), sizeof(s.paths[0]) - 1); /* truncated by snprintf */
	assert_memory_equal(s.paths[0], longname, sizeof(s.paths[0]) - 1);
	assert_int_equal(s.nxattrs[0], 1);
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&pax);
}

/* Reads a one-layer image of `tar` (stored as is, and gzip-compressed) and expects `want`:
 * 0, or BALE_EPARSE with `fragment` in the message. `content_of` is read by the visitor. */
static void expect_tar_end(const bale_buf *tar, const char *content_of, int want,
			   const char *fragment, size_t want_entries)
{
	bale_buf gz = BALE_BUF_INIT;

	gzip_buf(tar, &gz);
	for (int compressed = 0; compressed < 2; compressed++) {
		for (int read_content = 0; read_content < 2; read_content++) {
			struct synth sy;
			struct seen s = {.want_content = read_content ? content_of : NULL};
			int rc;

			one_layer(tar, compressed ? &gz : NULL, &sy);
			rc = synth_read(NULL, &s);
			if (want == 0) {
				if (rc != 0)
					fail_msg("expected a clean end, got: %s",
						 bale_error_last()->message);
				assert_int_equal(s.n, want_entries);
			} else {
				assert_error(rc, want, fragment);
				assert_non_null(strstr(bale_error_last()->message, sy.layers[0]));
			}
			synth_cleanup();
		}
	}
	bale_buf_release(&gz);
}

/* A tar of two files, without the end-of-archive blocks; `note` (58 bytes) ends its data at
 * 3 * 512 + 58 and its padding at 4 * 512. */
#define NOTE_TEXT "written by umoci insert on top of the engine-built layers\n"
#define NOTE_DATA (3 * 512)

static void two_files(bale_buf *t)
{
	bale_buf_reset(t);
	tar_file(t, "first", "1");
	tar_file(t, "note", NOTE_TEXT);
}

/* Go's archive/tar ends cleanly at a header boundary and anywhere in the last entry's
 * padding; umoci 0.4.7 writes layers that end right after the last entry's data. */
static void test_tar_end_without_padding_or_eof_blocks(void **state)
{
	bale_buf t = BALE_BUF_INIT, pax = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {.want_content = "note"};

	(void)state;
	assert_int_equal(strlen(NOTE_TEXT), 58);

	/* no end-of-archive blocks: the stream ends at a header boundary */
	two_files(&t);
	assert_int_equal(t.len, 4 * 512);
	expect_tar_end(&t, "note", 0, NULL, 2);

	/* only one of the two zero blocks */
	bale_buf_add(&t, (const char[512]){0}, 512);
	expect_tar_end(&t, "note", 0, NULL, 2);

	/* the last entry's data unpadded (umoci), and its content read whole */
	two_files(&t);
	t.len = NOTE_DATA + 58;
	expect_tar_end(&t, "note", 0, NULL, 2);
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_string_equal(s.content, NOTE_TEXT);
	synth_cleanup();
	memset(&s, 0, sizeof(s));
	s.want_content = "note";
	s.block_reads = true;
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_string_equal(s.content, NOTE_TEXT);
	synth_cleanup();

	/* partly padded: 1 byte, and all but 1 byte, of the 454 */
	two_files(&t);
	t.len = NOTE_DATA + 58 + 1;
	expect_tar_end(&t, "note", 0, NULL, 2);
	two_files(&t);
	t.len = 4 * 512 - 1;
	expect_tar_end(&t, "note", 0, NULL, 2);

	/* the last entry after a PAX header, unpadded: its data starts after both headers */
	bale_buf_reset(&t);
	bale_buf_adds(&pax, "30 SCHILY.xattr.user.note=hi\n\n");
	tar_file(&t, "first", "1");
	tar_add(&t, "PaxHeaders/note", 'x', pax.ptr, pax.len, NULL);
	tar_file(&t, "note", NOTE_TEXT);
	t.len = 5 * 512 + 58;
	expect_tar_end(&t, "note", 0, NULL, 2);

	/* an empty stream: no entries, as Go reads it */
	bale_buf_reset(&t);
	expect_tar_end(&t, "note", 0, NULL, 0);

	/* a last entry with no data, a directory, and no end blocks */
	two_files(&t);
	tar_add(&t, "dir", '5', "", 0, NULL);
	expect_tar_end(&t, "note", 0, NULL, 3);
	bale_buf_release(&t);
	bale_buf_release(&pax);
}

/* An end inside an entry's data or inside a header is a truncated layer, whether the visitor
 * reads the data (the error comes from the read) or not (it comes from the skip). */
static void test_tar_cut_inside_data_or_header_is_an_error(void **state)
{
	bale_buf t = BALE_BUF_INIT, big = BALE_BUF_INIT;
	char body[1500];

	(void)state;
	/* inside the data of the last entry */
	two_files(&t);
	t.len = NOTE_DATA + 30;
	expect_tar_end(&t, "note", BALE_EPARSE,
		       "the tar is truncated: it ends inside the data of entry 1, after 30 of its "
		       "58 bytes (at entry 'note')",
		       0);
	/* right after its header: none of its data */
	two_files(&t);
	t.len = NOTE_DATA;
	expect_tar_end(&t, "note", BALE_EPARSE,
		       "ends inside the data of entry 1, after 0 of its 58 bytes (at entry 'note')",
		       0);
	/* at a block boundary inside the data: 512 of 1499 bytes; made-up padding would not do */
	memset(body, 'b', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	tar_file(&big, "first", "1");
	tar_file(&big, "big", body);
	big.len = 3 * 512 + 512;
	expect_tar_end(&big, "big", BALE_EPARSE,
		       "ends inside the data of entry 1, after 512 of its 1499 bytes (at entry "
		       "'big')",
		       0);
	/* 7 bytes short of the end of the data: the rest of its block would cover them */
	bale_buf_reset(&big);
	tar_file(&big, "first", "1");
	tar_file(&big, "big", body);
	big.len = 3 * 512 + 1499 - 7;
	expect_tar_end(&big, "big", BALE_EPARSE, "after 1492 of its 1499 bytes (at entry 'big')",
		       0);
	/* inside the header of a third entry, after the padded second */
	two_files(&t);
	tar_file(&t, "third", "3");
	t.len = 4 * 512 + 100;
	expect_tar_end(&t, "note", BALE_EPARSE,
		       "the tar is truncated: it ends inside a header, 100 bytes into a 512-byte "
		       "block",
		       0);
	/* inside the first header */
	two_files(&t);
	t.len = 300;
	expect_tar_end(&t, "note", BALE_EPARSE, "layer 0 'sha256:", 0);
	bale_buf_release(&t);
	bale_buf_release(&big);
}

static void test_duplicate_and_foreign_layers(void **state)
{
	bale_buf t = BALE_BUF_INIT, t2 = BALE_BUF_INIT;
	struct synth_layer l[3] = {{0}};
	struct synth sy;
	struct seen s = {0};
	char path[256], want[300];
	bale_image *img = NULL;
	const bale_image_info *info;

	(void)state;
	build_small_tar(&t);
	tar_file(&t2, "foreign.dll", "MZ");
	tar_end(&t2);
	l[0].tar = &t;
	l[1].tar = &t2;
	l[1].media_type = "application/vnd.oci.image.layer.nondistributable.v1.tar";
	l[2].tar = &t;
	synth_image(l, 3, NULL, NULL, &sy);
	blob_path(sy.layers[1], path, sizeof(path));
	unlink(path);
	assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
	info = bale_image_info_get(img);
	assert_true(info->layers[1].missing);
	assert_true(info->layers[1].foreign);
	assert_int_equal(info->layers[2].duplicate_of, 0);
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_int_equal(s.layers_begun, 3);
	assert_int_equal(s.layers_ended, 3);
	assert_int_equal(s.n, 22); /* layer 0 once; the duplicate is not read again */
	assert_true(info->layers[2].verified);
	assert_false(info->layers[1].verified);
	snprintf(want, sizeof(want), "layer 1 ('%s') is not in the image (a foreign layer)",
		 sy.layers[1]);
	assert_error(bale_image_read_layer(img, 1, NULL), BALE_ENOTFOUND, want);
	/* asked for by index, a duplicate is read (and verified) again */
	memset(&s, 0, sizeof(s));
	assert_int_equal(bale_image_read_layer(img, 2, visitor_for(&s)), 0);
	assert_int_equal(s.n, 22);
	assert_error(bale_image_read_layer(img, 3, NULL), BALE_EINVAL,
		     "no layer 3 (the image has 3)");
	bale_image_free(img);
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&t2);
}

static void test_docker_archive_foreign_layer(void **state)
{
	bale_buf layer = BALE_BUF_INIT, cfg = BALE_BUF_INIT, man = BALE_BUF_INIT,
		 ar = BALE_BUF_INIT;
	char diff[65], cfg_hex[65], name[80], path[] = "/tmp/bale-foreign-XXXXXX", want[300];
	const char *fdiff =
	    "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	bale_image *img = NULL;
	const bale_image_info *info;
	struct seen s = {0};
	int fd;

	(void)state;
	tar_file(&layer, "app", "x");
	tar_end(&layer);
	sha256_hex(layer.ptr, layer.len, diff);
	bale_buf_addf(
	    &cfg,
	    "{\"os\":\"windows\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
	    "\"diff_ids\":[\"%s\",\"sha256:%s\"]}}",
	    fdiff, diff);
	sha256_hex(cfg.ptr, cfg.len, cfg_hex);
	snprintf(name, sizeof(name), "%s.json", cfg_hex);
	/* layer 0 is foreign: listed in LayerSources, absent from the archive */
	bale_buf_addf(&man,
		      "[{\"Config\":\"%s\",\"RepoTags\":[\"win:1\"],\"Layers\":[\"base.tar\","
		      "\"%s.tar\"],\"LayerSources\":{\"%s\":{\"mediaType\":\"application/"
		      "vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"size\":1234,\"digest\":"
		      "\"sha256:3333333333333333333333333333333333333333333333333333333333333333\","
		      "\"urls\":[\"https://example.com/base\"]}}}]",
		      name, diff, fdiff);
	tar_add(&ar, "manifest.json", '0', man.ptr, man.len, NULL);
	tar_add(&ar, name, '0', cfg.ptr, cfg.len, NULL);
	snprintf(name, sizeof(name), "%s.tar", diff);
	tar_add(&ar, name, '0', layer.ptr, layer.len, NULL);
	tar_end(&ar);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, ar.ptr, ar.len);

	assert_int_equal(bale_image_open(&img, path, defaults()), 0);
	info = bale_image_info_get(img);
	assert_int_equal(info->transport, BALE_IMAGE_DOCKER_ARCHIVE);
	assert_string_equal(info->platform, "windows/amd64");
	assert_true(info->layers[0].missing);
	assert_true(info->layers[0].foreign);
	assert_int_equal(info->layers[0].nurls, 1);
	assert_string_equal(info->layers[0].urls[0], "https://example.com/base");
	assert_int_equal(info->layers[0].blob.size, 1234);
	assert_false(info->layers[1].missing);
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_int_equal(s.layers_begun, 2);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.paths[0], "app");
	snprintf(
	    want, sizeof(want),
	    "layer 0 ('sha256:3333333333333333333333333333333333333333333333333333333333333333')"
	    " is not in the image (a foreign layer)");
	assert_error(bale_image_read_layer(img, 0, NULL), BALE_ENOTFOUND, want);
	bale_image_free(img);
	unlink(path);
	bale_buf_release(&layer);
	bale_buf_release(&cfg);
	bale_buf_release(&man);
	bale_buf_release(&ar);
}

static void test_pax_path_with_nul_is_cut_there(void **state)
{
	bale_buf t = BALE_BUF_INIT, pax = BALE_BUF_INIT;
	static const char rec[] = "21 path=etc/pass\0wd.x\n";
	struct synth sy;
	struct seen s = {0};

	(void)state;
	bale_buf_add(&pax, rec, sizeof(rec) - 1);
	tar_add(&t, "PaxHeaders/x", 'x', pax.ptr, pax.len, NULL);
	tar_file(&t, "placeholder", "root::0:0");
	tar_end(&t);
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 0);
	assert_int_equal(s.n, 1);
	/* libarchive keeps the bytes before the NUL; never the bytes after it */
	assert_null(strstr(s.paths[0], "wd.x"));
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&pax);
}

static void test_callback_stops_the_read(void **state)
{
	bale_buf t = BALE_BUF_INIT;
	struct synth sy;
	struct seen s = {.stop_after = 3};

	(void)state;
	build_small_tar(&t);
	one_layer(&t, NULL, &sy);
	assert_int_equal(synth_read(NULL, &s), 1);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.layers_ended, 0);
	synth_cleanup();
	bale_buf_release(&t);
}

static void config_error(const char *config_fmt, const char *config_media, int code,
			 const char *want)
{
	bale_buf t = BALE_BUF_INIT;
	struct synth_layer l = {.tar = &t};
	struct synth sy;
	bale_image *img = NULL;

	tar_file(&t, "f", "x");
	tar_end(&t);
	synth_image(&l, 1, config_fmt, config_media, &sy);
	assert_error(bale_image_open(&img, tmpdir, defaults()), code, want);
	assert_null(img);
	synth_cleanup();
	bale_buf_release(&t);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}"

static void test_config_is_checked(void **state)
{
	(void)state;
	config_error("{\"os\":\"linux\"," ROOTFS "}", NULL, BALE_EPARSE, "missing 'architecture'");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\",\"x\":[%s]}", NULL, BALE_EPARSE,
		     "missing 'rootfs'");
	config_error("{\"os\":\"linux\",\"architecture\":7," ROOTFS "}", NULL, BALE_EPARSE,
		     "'architecture' must be a string");
	config_error(
	    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Env\":\"A=1\"}," ROOTFS "}",
	    NULL, BALE_EPARSE, "'config.Env' must be an array of strings");
	config_error(
	    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Cmd\":[\"a\",1]}," ROOTFS
	    "}",
	    NULL, BALE_EPARSE, "'config.Cmd' must be an array of strings (item 1 is not)");
	config_error(
	    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Labels\":{\"a\":1}}," ROOTFS
	    "}",
	    NULL, BALE_EPARSE, "label 'a' must be a string");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Healthcheck\":{"
		     "\"Interval\":\"5s\"}}," ROOTFS "}",
		     NULL, BALE_EPARSE, "'config.Healthcheck.Interval' must be an integer");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\",\"history\":[{\"empty_layer\":"
		     "\"yes\"}]," ROOTFS "}",
		     NULL, BALE_EPARSE, "'history[0].empty_layer' must be a boolean");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[\"md5:x\"]},\"x\":[%s]}",
		     NULL, BALE_EPARSE, "'rootfs.diff_ids[0]' is not a digest: 'md5:x'");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
		     "\"diff_ids\":[]},\"x\":[%s]}",
		     NULL, BALE_EPARSE,
		     "the manifest has 1 layers but the config lists 0 diff_ids");
	config_error("{\"os\":\"linux\",\"os\":\"windows\",\"architecture\":\"amd64\"," ROOTFS "}",
		     NULL, BALE_EPARSE, "duplicate object key");
	config_error("{\"os\":\"linux\",\"architecture\":\"amd64\"," ROOTFS, NULL, BALE_EPARSE,
		     "line 1 column");
	config_error("{\"x\":[%s]}", "application/vnd.cncf.helm.config.v1+json", BALE_EPARSE,
		     "not a container image (config media type "
		     "'application/vnd.cncf.helm.config.v1+json')");
}

static void test_config_fields(void **state)
{
	bale_buf t = BALE_BUF_INIT;
	struct synth_layer l = {.tar = &t};
	struct synth sy;
	bale_image *img = NULL;
	const bale_image_config *c;

	(void)state;
	tar_file(&t, "f", "x");
	tar_end(&t);
	synth_image(
	    &l, 1,
	    "{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\","
	    "\"config\":{\"Entrypoint\":[],\"Cmd\":null,\"Shell\":[\"/bin/bash\",\"-c\"],"
	    "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f localhost\"],"
	    "\"Interval\":30000000000,\"Retries\":3},\"OnBuild\":[\"RUN x\"]},"
	    "\"history\":[{\"created_by\":\"/bin/sh -c #(nop) ARG X\",\"empty_layer\":true},"
	    "{\"created_by\":\"|1 TOKEN=abc /bin/sh -c make\",\"comment\":\"buildkit\"}]," ROOTFS
	    "}",
	    "application/vnd.docker.container.image.v1+json", &sy);
	assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
	c = bale_image_info_get(img)->config;
	assert_string_equal(bale_image_info_get(img)->platform, "linux/arm64/v8");
	assert_non_null(c->entrypoint); /* present and empty */
	assert_int_equal(c->nentrypoint, 0);
	assert_null(c->cmd);
	assert_int_equal(c->nshell, 2);
	assert_non_null(c->healthcheck);
	assert_int_equal(c->healthcheck->ntest, 2);
	assert_string_equal(c->healthcheck->test[1], "curl -f localhost");
	assert_int_equal(c->healthcheck->interval, 30000000000LL);
	assert_int_equal(c->healthcheck->retries, 3);
	assert_string_equal(c->onbuild[0], "RUN x");
	assert_null(c->user);
	assert_int_equal(c->history[0].layer, BALE_IMAGE_NONE);
	assert_int_equal(c->history[1].layer, 0);
	assert_string_equal(c->history[1].comment, "buildkit");
	assert_int_equal(bale_image_info_get(img)->layers[0].history, 1);
	bale_image_free(img);
	synth_cleanup();
	bale_buf_release(&t);
}

static void write_layout_json(const char *index_json)
{
	char path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bale-synth-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/index.json", tmpdir);
	write_file(path, index_json, strlen(index_json));
}

static void test_index_errors(void **state)
{
	bale_image *img = NULL;
	bale_image_options o;
	static const char *d =
	    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	char buf[1024];

	(void)state;
	write_layout_json("{\"schemaVersion\":2}");
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EPARSE,
		     "index.json: missing 'manifests'");
	synth_cleanup();
	write_layout_json("{\"schemaVersion\":2,\"manifests\":[]}");
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_ENOTFOUND,
		     "index.json: holds no image");
	synth_cleanup();
	write_layout_json(
	    "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"sha256:12\",\"size\":1}]}");
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EPARSE,
		     "manifests[0]: 'digest' is not a valid digest: 'sha256:12'");
	synth_cleanup();
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		 "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":-4}]}",
		 d);
	write_layout_json(buf);
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EPARSE,
		     "'size' must be a non-negative integer");
	synth_cleanup();
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":4,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"a\"}},"
		 "{\"digest\":\"%s\",\"size\":4,"
		 "\"annotations\":{\"org.opencontainers.image.ref.name\":\"b\"}}]}",
		 d, d);
	write_layout_json(buf);
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EINVAL,
		     "holds 2 images; name one as oci:");
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EINVAL, ":NAME (a, b)");
	snprintf(buf, sizeof(buf), "oci:%s:b", tmpdir);
	assert_error(bale_image_open(&img, buf, defaults()), BALE_ENOTFOUND,
		     "has no blob "
		     "'sha256:1111111111111111111111111111111111111111111111111111111111111111'");
	synth_cleanup();
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":4,"
		 "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
		 "{\"digest\":\"%s\",\"size\":4,"
		 "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}}]}",
		 d, d);
	write_layout_json(buf);
	init_opts(&o);
	o.platform = "linux/arm";
	assert_error(bale_image_open(&img, tmpdir, &o), BALE_EINVAL,
		     "2 images match platform 'linux/arm' (platforms: linux/arm/v7, linux/arm/v6); "
		     "choose one with --platform os/arch/variant");
	synth_cleanup();
	snprintf(
	    buf, sizeof(buf),
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"manifests\":[]}");
	write_layout_json(buf);
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EPARSE,
		     "media type 'application/vnd.oci.image.manifest.v1+json' is not an image "
		     "index");
	synth_cleanup();
}

/* Replaces the manifest of the synthetic image in tmpdir; "%c" in `fmt` is the config
 * descriptor's digest, "%l" the layer's, "%L" the layer's size. */
static void rewrite_manifest(const struct synth *sy, size_t layer_size, const char *fmt,
			     const char *index_media_type)
{
	bale_buf m = BALE_BUF_INIT, idx = BALE_BUF_INIT;
	char digest[72], path[256], cpath[256];
	struct stat st;

	blob_path(sy->config, cpath, sizeof(cpath));
	assert_int_equal(stat(cpath, &st), 0);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 'c') {
			bale_buf_addf(&m, "\"%s\",\"size\":%lld", sy->config,
				      (long long)st.st_size);
			p++;
		} else if (p[0] == '%' && p[1] == 'l') {
			bale_buf_addf(&m, "\"%s\"", sy->layers[0]);
			p++;
		} else if (p[0] == '%' && p[1] == 'L') {
			bale_buf_addf(&m, "%zu", layer_size);
			p++;
		} else {
			bale_buf_addch(&m, *p);
		}
	}
	put_blob(m.ptr, m.len, digest);
	bale_buf_addf(
	    &idx, "{\"schemaVersion\":2,\"manifests\":[{%s%s%s\"digest\":\"%s\",\"size\":%zu}]}",
	    index_media_type ? "\"mediaType\":\"" : "", index_media_type ? index_media_type : "",
	    index_media_type ? "\"," : "", digest, m.len);
	snprintf(path, sizeof(path), "%s/index.json", tmpdir);
	write_file(path, idx.ptr, idx.len);
	bale_buf_release(&m);
	bale_buf_release(&idx);
}

#define CFG_DESC                                                                                   \
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":%c}"
#define LAYER_DESC                                                                                 \
	"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":%l,\"size\":%L}"

static void test_manifest_is_checked(void **state)
{
	static const struct {
		const char *manifest, *index_media_type;
		int code;
		const char *want;
	} cases[] = {
	    {"{\"schemaVersion\":3," CFG_DESC ",\"layers\":[" LAYER_DESC "]}", NULL, BALE_EPARSE,
	     "'schemaVersion' must be 2"},
	    {"{\"schemaVersion\":2,\"layers\":[" LAYER_DESC "]}", NULL, BALE_EPARSE,
	     "missing 'config'"},
	    {"{\"schemaVersion\":2," CFG_DESC "}", NULL, BALE_EPARSE, "missing 'layers'"},
	    {"{\"schemaVersion\":2," CFG_DESC ",\"layers\":{}}", NULL, BALE_EPARSE,
	     "not an array: 'layers'"},
	    {"{\"schemaVersion\":2," CFG_DESC ",\"layers\":[{\"digest\":%l,\"size\":%L}]}", NULL,
	     BALE_EPARSE, "layers[0]: missing 'mediaType'"},
	    {"{\"schemaVersion\":2," CFG_DESC
	     ",\"layers\":[{\"mediaType\":\"x\",\"digest\":%l,\"size\":%L,\"urls\":\"u\"}]}",
	     NULL, BALE_EPARSE, "layers[0]: 'urls' must be an array of strings"},
	    {"{\"schemaVersion\":2,\"mediaType\":\"application/"
	     "vnd.oci.image.index.v1+json\"," CFG_DESC ",\"layers\":[" LAYER_DESC "]}",
	     NULL, BALE_EPARSE,
	     "media type 'application/vnd.oci.image.index.v1+json' is not an image manifest"},
	    {"{\"schemaVersion\":2," CFG_DESC ",\"layers\":[" LAYER_DESC "]}",
	     "application/vnd.oci.image.layer.v1.tar", BALE_EPARSE,
	     "media type 'application/vnd.oci.image.layer.v1.tar' is not an image manifest"},
	    {"[]", NULL, BALE_EPARSE, "not a JSON object"},
	    {"{\"schemaVersion\":2,\"config\":{\"digest\":%c},\"layers\":[]}", NULL, BALE_EPARSE,
	     "not a container image (config media type 'none')"},
	};
	bale_buf t = BALE_BUF_INIT;
	struct synth_layer l = {.tar = &t};
	struct synth sy;
	bale_image *img = NULL;

	(void)state;
	tar_file(&t, "f", "x");
	tar_end(&t);
	for (size_t i = 0; i < BALE_ARRAY_SIZE(cases); i++) {
		synth_image(&l, 1, NULL, NULL, &sy);
		rewrite_manifest(&sy, t.len, cases[i].manifest, cases[i].index_media_type);
		assert_error(bale_image_open(&img, tmpdir, defaults()), cases[i].code,
			     cases[i].want);
		assert_null(img);
		synth_cleanup();
	}
	/* a Docker manifest list is an index too: resolved by platform */
	synth_image(&l, 1, NULL, NULL, &sy);
	{
		char idx[1024], path[256];
		bale_image_options o;

		snprintf(idx, sizeof(idx),
			 "{\"schemaVersion\":2,\"mediaType\":\"application/"
			 "vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":["
			 "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
			 "\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\","
			 "\"architecture\":\"ppc64le\"}},"
			 "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
			 "\"digest\":\"%s\",\"size\":2,\"platform\":{\"os\":\"linux\","
			 "\"architecture\":\"s390x\"}}]}",
			 sy.manifest, sy.manifest);
		snprintf(path, sizeof(path), "%s/index.json", tmpdir);
		write_file(path, idx, strlen(idx));
		init_opts(&o);
		o.platform = "linux/s390x";
		/* the s390x entry was chosen: its (wrong) size is the one checked */
		assert_error(bale_image_open(&img, tmpdir, &o), BALE_EDIGEST,
			     "its descriptor says 2");
		o.platform = "linux/riscv64";
		assert_error(bale_image_open(&img, tmpdir, &o), BALE_ENOTFOUND,
			     "(platforms: linux/ppc64le, linux/s390x)");
	}
	synth_cleanup();
	bale_buf_release(&t);
}

static void test_indexes_nest_only_so_deep(void **state)
{
	bale_buf t = BALE_BUF_INIT;
	struct synth_layer l = {.tar = &t};
	struct synth sy;
	bale_image *img = NULL;
	char digest[72], path[256], doc[512];
	struct stat st;

	(void)state;
	tar_file(&t, "f", "x");
	tar_end(&t);
	synth_image(&l, 1, NULL, NULL, &sy);
	blob_path(sy.manifest, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	snprintf(digest, sizeof(digest), "%s", sy.manifest);
	/* index -> index -> ... -> manifest, six indexes deep */
	for (int depth = 0; depth < 6; depth++) {
		int n = snprintf(doc, sizeof(doc),
				 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
				 "vnd.oci.image.%s+json\",\"digest\":\"%s\",\"size\":%lld}]}",
				 depth ? "index.v1" : "manifest.v1", digest, (long long)st.st_size);

		put_blob(doc, (size_t)n, digest);
		st.st_size = n;
		if (depth == 2) { /* three deep is fine */
			char idx[512];
			int k = snprintf(
			    idx, sizeof(idx),
			    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
			    "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"%s\","
			    "\"size\":%d}]}",
			    digest, n);

			snprintf(path, sizeof(path), "%s/index.json", tmpdir);
			write_file(path, idx, (size_t)k);
			assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
			bale_image_free(img);
		}
	}
	{
		char idx[512];
		int k = snprintf(idx, sizeof(idx),
				 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
				 "\"application/vnd.oci.image.index.v1+json\",\"digest\":\"%s\","
				 "\"size\":%lld}]}",
				 digest, (long long)st.st_size);

		snprintf(path, sizeof(path), "%s/index.json", tmpdir);
		write_file(path, idx, (size_t)k);
	}
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_ELIMIT,
		     "indexes nested more than 4 deep");
	synth_cleanup();
	bale_buf_release(&t);
}

/* Writes a tar holding manifest.json (the given text), c.json (a valid config of one layer)
 * and l.tar (that layer) to a temporary file; returns its path in `path`. */
static void docker_archive_with(const char *manifest, char *path)
{
	bale_buf layer = BALE_BUF_INIT, cfg = BALE_BUF_INIT, ar = BALE_BUF_INIT;
	char diff[65];
	int fd;

	tar_file(&layer, "f", "x");
	tar_end(&layer);
	sha256_hex(layer.ptr, layer.len, diff);
	bale_buf_addf(
	    &cfg,
	    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
	    "\"diff_ids\":[\"sha256:%s\"]}}",
	    diff);
	tar_add(&ar, "manifest.json", '0', manifest, strlen(manifest), NULL);
	tar_add(&ar, "c.json", '0', cfg.ptr, cfg.len, NULL);
	tar_add(&ar, "l.tar", '0', layer.ptr, layer.len, NULL);
	tar_end(&ar);
	snprintf(path, 64, "/tmp/bale-da-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, ar.ptr, ar.len);
	bale_buf_release(&layer);
	bale_buf_release(&cfg);
	bale_buf_release(&ar);
}

static void test_docker_archive_manifest_is_checked(void **state)
{
	static const struct {
		const char *manifest;
		const char *want;
	} cases[] = {
	    {"{}", "manifest.json: must be a non-empty array"},
	    {"[]", "manifest.json: must be a non-empty array"},
	    {"[{\"Config\":\"c.json\",\"RepoTags\":\"x\",\"Layers\":[\"l.tar\"]}]",
	     "manifest.json: [0].RepoTags must be an array"},
	    {"[{\"Layers\":[\"l.tar\"]}]", "manifest.json: missing 'Config'"},
	    {"[{\"Config\":\"c.json\"}]", "manifest.json: missing 'Layers'"},
	    {"[{\"Config\":\"c.json\",\"Layers\":[7]}]", "'Layers[0]' must be a string"},
	    {"[{\"Config\":\"c.json\",\"Layers\":[\"l.tar\"],\"LayerSources\":[]}]",
	     "'LayerSources' must be an object"},
	    {"[{\"Config\":\"nope.json\",\"Layers\":[\"l.tar\"]}]", "has no member 'nope.json'"},
	    {"[{\"Config\":\"c.json\",\"Layers\":[]}]",
	     "the manifest has 0 layers but the config lists 1 diff_ids"},
	    {"[1]", "manifest.json: an entry is not an object"},
	};
	char path[64];
	bale_image *img = NULL;

	(void)state;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(cases); i++) {
		docker_archive_with(cases[i].manifest, path);
		assert_error(bale_image_open(&img, path, defaults()),
			     strstr(cases[i].want, "has no member") ? BALE_ENOTFOUND : BALE_EPARSE,
			     cases[i].want);
		assert_null(img);
		unlink(path);
	}
	/* and a good one, for contrast: the config named "c.json" has no digest to check */
	docker_archive_with("[{\"Config\":\"c.json\",\"RepoTags\":null,\"Layers\":[\"./l.tar\"]}]",
			    path);
	assert_int_equal(bale_image_open(&img, path, defaults()), 0);
	assert_null(bale_image_info_get(img)->name);
	assert_int_equal(bale_image_read_layers(img, NULL), 0);
	assert_true(bale_image_info_get(img)->layers[0].verified);
	bale_image_free(img);
	unlink(path);
}

static void test_outer_tar_is_checked(void **state)
{
	bale_buf ar = BALE_BUF_INIT;
	char path[] = "/tmp/bale-outer-XXXXXX";
	bale_image *img = NULL;
	bale_image_options o;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* a member that claims more bytes than the file has */
	tar_add(&ar, "manifest.json", '0', "[]", 2, NULL);
	{
		char num[12];

		snprintf(num, sizeof(num), "%011o", 5000);
		memcpy(ar.ptr + 124, num, 11);
		/* the checksum must still hold for the size to be believed */
		memset(ar.ptr + 148, ' ', 8);
		unsigned sum = 0;
		for (int i = 0; i < 512; i++)
			sum += (unsigned char)ar.ptr[i];
		snprintf(num, sizeof(num), "%06o", sum);
		memcpy(ar.ptr + 148, num, 7);
	}
	write_file(path, ar.ptr, ar.len);
	assert_error(bale_image_open(&img, path, defaults()), BALE_EPARSE,
		     "truncated tar (member at offset 0 needs 5000 bytes)");
	bale_buf_reset(&ar);
	tar_add(&ar, "PaxHeaders/x", 'x', "garbage\n", 8, NULL);
	tar_add(&ar, "manifest.json", '0', "[]", 2, NULL);
	tar_end(&ar);
	write_file(path, ar.ptr, ar.len);
	assert_error(bale_image_open(&img, path, defaults()), BALE_EPARSE,
		     "bad PAX header at offset 0");
	bale_buf_reset(&ar);
	tar_add(&ar, "a", '0', "1", 1, NULL);
	tar_add(&ar, "b", '0', "2", 1, NULL);
	tar_end(&ar);
	write_file(path, ar.ptr, ar.len);
	init_opts(&o);
	o.max_entries = 1;
	assert_error(bale_image_open(&img, path, &o), BALE_ELIMIT,
		     "has more than 1 members (the limit)");
	{
		char *big = calloc(1, (2 << 20) + 1);

		assert_non_null(big);
		memset(big, 'x', 2 << 20);
		bale_buf_reset(&ar);
		tar_add(&ar, "PaxHeaders/x", 'x', big, 2 << 20, NULL);
		tar_end(&ar);
		free(big);
	}
	write_file(path, ar.ptr, ar.len);
	assert_error(bale_image_open(&img, path, defaults()), BALE_ELIMIT,
		     "extended header of 2097152 bytes at offset 0 is over the limit");
	unlink(path);
	bale_buf_release(&ar);
}

/* Writes a blob under blobs/sha512; fills "sha512:<hex>". */
static void put_blob512(const void *data, size_t len, char *digest)
{
	unsigned char md[64];
	unsigned int n;
	char path[400], hex[129];

	EVP_Digest(data, len, md, &n, EVP_sha512(), NULL);
	for (unsigned i = 0; i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(digest, 136, "sha512:%s", hex);
	snprintf(path, sizeof(path), "%s/blobs/sha512", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha512/%s", tmpdir, hex);
	write_file(path, data, len);
}

static void test_sha512_digests(void **state)
{
	bale_buf t = BALE_BUF_INIT, gz = BALE_BUF_INIT, cfg = BALE_BUF_INIT, man = BALE_BUF_INIT,
		 idx = BALE_BUF_INIT;
	struct synth_layer l = {0};
	struct synth sy;
	char layer[136], diff[136], config[136], manifest[136], path[256];
	bale_image *img = NULL;
	struct seen s = {0};

	(void)state;
	build_small_tar(&t);
	gzip_buf(&t, &gz);
	l.tar = &t;
	synth_image(&l, 1, NULL, NULL, &sy); /* for the directory; its blobs go unused */
	put_blob512(t.ptr, t.len, diff);     /* the diff_id, as sha512 of the tar */
	put_blob512(gz.ptr, gz.len, layer);
	bale_buf_addf(
	    &cfg,
	    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\","
	    "\"diff_ids\":[\"%s\"]}}",
	    diff);
	put_blob512(cfg.ptr, cfg.len, config);
	bale_buf_addf(&man,
		      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
		      "vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{"
		      "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":"
		      "\"%s\",\"size\":%zu}]}",
		      config, cfg.len, layer, gz.len);
	put_blob512(man.ptr, man.len, manifest);
	bale_buf_addf(&idx,
		      "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		      "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":%zu}]}",
		      manifest, man.len);
	snprintf(path, sizeof(path), "%s/index.json", tmpdir);
	write_file(path, idx.ptr, idx.len);
	assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
	assert_string_equal(bale_image_info_get(img)->manifest.digest, manifest);
	assert_int_equal(bale_image_read_layers(img, visitor_for(&s)), 0);
	assert_true(bale_image_info_get(img)->layers[0].verified);
	assert_int_equal(s.n, 22);
	bale_image_free(img);
	/* and a sha512 blob whose bytes changed */
	snprintf(path, sizeof(path), "%s/blobs/sha512/%s", tmpdir, layer + 7);
	gz.ptr[gz.len - 8] ^= 0x40; /* the first byte of the gzip trailer: its CRC-32 */
	write_file(path, gz.ptr, gz.len);
	assert_int_equal(bale_image_open(&img, tmpdir, defaults()), 0);
	assert_error(bale_image_read_layers(img, NULL), BALE_EPARSE, "gzip checksum mismatch");
	bale_image_free(img);
	synth_cleanup();
	bale_buf_release(&t);
	bale_buf_release(&gz);
	bale_buf_release(&cfg);
	bale_buf_release(&man);
	bale_buf_release(&idx);
}

static void test_schema1_and_artifacts_are_refused(void **state)
{
	bale_image *img = NULL;
	char buf[1024], hex[65], path[256], digest[72];
	const char *m1 = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";

	(void)state;
	write_layout_json("{}");
	snprintf(path, sizeof(path), "%s/blobs", tmpdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/blobs/sha256", tmpdir);
	mkdir(path, 0755);
	put_blob(m1, strlen(m1), digest);
	sha256_hex(m1, strlen(m1), hex);
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":%zu}]}", digest,
		 strlen(m1));
	snprintf(path, sizeof(path), "%s/index.json", tmpdir);
	write_file(path, buf, strlen(buf));
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EPARSE,
		     "Docker schema 1 manifests are not supported");
	/* a size that disagrees with the blob */
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\",\"size\":3}]}", digest);
	write_file(path, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "manifest '%s' is %zu bytes, its descriptor says 3", digest,
		 strlen(m1));
	assert_error(bale_image_open(&img, tmpdir, defaults()), BALE_EDIGEST, buf);
	synth_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oci_layout_gzip),
	    cmocka_unit_test(test_oci_layout_detected_by_content),
	    cmocka_unit_test(test_oci_layout_zstd),
	    cmocka_unit_test(test_oci_layout_uncompressed),
	    cmocka_unit_test(test_oci_layout_docker_media_types),
	    cmocka_unit_test(test_oci_archive),
	    cmocka_unit_test(test_docker_archive_skopeo),
	    cmocka_unit_test(test_docker_archive_legacy_layout_and_names),
	    cmocka_unit_test(test_docker25_archive),
	    cmocka_unit_test(test_multi_platform_index),
	    cmocka_unit_test(test_reference_errors),
	    cmocka_unit_test(test_paths_are_normalized),
	    cmocka_unit_test(test_traversal_is_an_error),
	    cmocka_unit_test(test_gzip_zstd_and_sniffing),
	    cmocka_unit_test(test_multi_member_gzip_is_read_whole),
	    cmocka_unit_test(test_corrupt_streams),
	    cmocka_unit_test(test_digest_mismatches),
	    cmocka_unit_test(test_bombs_and_limits),
	    cmocka_unit_test(test_pax_long_names_and_xattrs),
	    cmocka_unit_test(test_tar_end_without_padding_or_eof_blocks),
	    cmocka_unit_test(test_tar_cut_inside_data_or_header_is_an_error),
	    cmocka_unit_test(test_duplicate_and_foreign_layers),
	    cmocka_unit_test(test_docker_archive_foreign_layer),
	    cmocka_unit_test(test_pax_path_with_nul_is_cut_there),
	    cmocka_unit_test(test_callback_stops_the_read),
	    cmocka_unit_test(test_config_is_checked),
	    cmocka_unit_test(test_config_fields),
	    cmocka_unit_test(test_index_errors),
	    cmocka_unit_test(test_schema1_and_artifacts_are_refused),
	    cmocka_unit_test(test_manifest_is_checked),
	    cmocka_unit_test(test_indexes_nest_only_so_deep),
	    cmocka_unit_test(test_docker_archive_manifest_is_checked),
	    cmocka_unit_test(test_outer_tar_is_checked),
	    cmocka_unit_test(test_sha512_digests),
	};

	int failed = cmocka_run_group_tests_name("image, reader thread", tests, NULL, NULL);

	busy_callbacks = true;
	failed += cmocka_run_group_tests_name("image, reader thread hashing the blobs", tests, NULL,
					      NULL);
	busy_callbacks = false;
	single_threaded = true;
	return failed + cmocka_run_group_tests_name("image, single-threaded", tests, NULL, NULL);
}
