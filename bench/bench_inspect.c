/*
 * bench_inspect: `bale inspect` on an image of over 500 MB (uncompressed) and 20,000 files, in
 * uncompressed, gzip and zstd variants, timed next to the work no reader can skip: hashing the
 * uncompressed layers (`openssl dgst -sha256`), and for compressed layers inflating them too
 * (`igzip -dc | openssl dgst -sha256`, `zstd -dc | openssl dgst -sha256`). It prints the
 * ratios against issue 4's targets (1.5x the floor uncompressed, 1.2x gzip and zstd) and the
 * peak memory of `bale inspect` against 64 MB + 256 bytes per file; then `bale audit` (which
 * also scans the text of every file of every layer for secrets) against 2 times inspect, with
 * its own peak memory against the same limit. A benchmark, not a test.
 *
 *   bench_inspect [--bale PATH] [--dir DIR] [--runs R]
 *
 * The image is generated deterministically (a fixed xorshift seed) the first time, as OCI
 * layouts under DIR (default: bench-inspect-data beside the build's bench/ directory, so
 * under build/, out of git): four layers written here with libarchive, with overwrites, file
 * and directory whiteouts and an opaque directory, compressed with igzip -1 and zstd -3 (the
 * isal and zstd packages). Times are the best of R runs (default 3) after a warm-up, so the
 * page cache holds the blobs for every contender alike. Peak memory is the child's
 * ru_maxrss, started with posix_spawn so that nothing of this process is counted.
 */
#include "bale/common.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NLAYERS 4
#define STAMP	"bench-inspect v1: 4 layers, seed 0x5eed"

static uint64_t rng = 0x5eed;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_inspect: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- generating the image ----------------------------------------------------------------- */

static const char *const words[] = {
    "lib",     "usr",	  "share",   "config",	"value",  "return", "static", "const",	  "struct",
    "include", "define",  "error",   "buffer",	"layer",  "image",  "digest", "manifest", "index",
    "build",   "install", "package", "version", "debian", "python", "module", "function", "object",
    "int",     "char",	  "void",    "if",	"else",	  "while",  "for",    "the",	  "a",
    "of",      "to",	  "and",     "in",	"is"};

/* File content: text from a small vocabulary (compresses ~3x) or random bytes (not at all). */
static void fill(unsigned char *buf, size_t len, bool binary)
{
	size_t i = 0;

	if (binary) {
		for (; i + 8 <= len; i += 8) {
			uint64_t r = next();

			memcpy(buf + i, &r, 8);
		}
		for (; i < len; i++)
			buf[i] = (unsigned char)next();
		return;
	}
	while (i < len) {
		uint64_t r = next();
		const char *w = words[r % (sizeof(words) / sizeof(words[0]))];
		size_t n = strlen(w);

		for (size_t k = 0; k < n && i < len; k++)
			buf[i++] = (unsigned char)w[k];
		if (i < len)
			buf[i++] = (r >> 32) % 11 == 0 ? '\n' : ' ';
	}
}

static size_t file_size(void)
{
	uint64_t r = next() % 1000;

	if (r < 600)
		return 512 + next() % 8192; /* small config, headers, scripts */
	if (r < 950)
		return 16384 + next() % 49152; /* libraries, docs */
	return 262144 + next() % 1048576;      /* the big ones */
}

struct tarw {
	struct archive *a;
	unsigned char *buf;
	size_t cap;
	uint64_t files, bytes;
};

static void tar_open(struct tarw *t, const char *path)
{
	t->a = archive_write_new();
	archive_write_set_format_pax_restricted(t->a);
	if (archive_write_open_filename(t->a, path) != ARCHIVE_OK) {
		fprintf(stderr, "bench_inspect: %s: %s\n", path, archive_error_string(t->a));
		exit(1);
	}
}

static void tar_entry(struct tarw *t, const char *path, int type, size_t size)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)size : 0);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (archive_write_header(t->a, e) != ARCHIVE_OK) {
		fprintf(stderr, "bench_inspect: %s\n", archive_error_string(t->a));
		exit(1);
	}
	if (type == AE_IFREG && size) {
		if (size > t->cap) {
			t->cap = size;
			t->buf = realloc(t->buf, size);
			if (!t->buf)
				die("memory");
		}
		fill(t->buf, size, next() % 10 < 3);
		if (archive_write_data(t->a, t->buf, size) != (la_ssize_t)size) {
			fprintf(stderr, "bench_inspect: %s\n", archive_error_string(t->a));
			exit(1);
		}
		t->files++;
		t->bytes += size;
	}
	archive_entry_free(e);
}

static void tar_close(struct tarw *t)
{
	archive_write_close(t->a);
	archive_write_free(t->a);
	free(t->buf);
	t->buf = NULL;
	t->cap = 0;
}

/* One package directory: pkg/<p>/ with `n` files. */
static void package(struct tarw *t, const char *top, int p, int n)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/pkg%04d", top, p);
	tar_entry(t, path, AE_IFDIR, 0);
	for (int f = 0; f < n; f++) {
		snprintf(path, sizeof(path), "%s/pkg%04d/file%03d.dat", top, p, f);
		tar_entry(t, path, AE_IFREG, file_size());
	}
}

static uint64_t total_files;

/* The image directory, bounded so that every path built from it fits PATH_MAX. */
static char dir[1024];

static void generate_layers(void)
{
	char path[PATH_MAX], name[256];
	struct tarw t = {0};

	/* layer 0: a base of 560 packages x 25 files (14,000 files) */
	snprintf(path, sizeof(path), "%s/layer0.tar", dir);
	tar_open(&t, path);
	tar_entry(&t, "usr", AE_IFDIR, 0);
	tar_entry(&t, "usr/lib", AE_IFDIR, 0);
	for (int p = 0; p < 560; p++)
		package(&t, "usr/lib", p, 25);
	tar_close(&t);
	/* layer 1: an application of 160 packages x 25 files (4,000 files) */
	snprintf(path, sizeof(path), "%s/layer1.tar", dir);
	tar_open(&t, path);
	tar_entry(&t, "opt", AE_IFDIR, 0);
	tar_entry(&t, "opt/app", AE_IFDIR, 0);
	for (int p = 0; p < 160; p++)
		package(&t, "opt/app", p, 25);
	tar_close(&t);
	/* layer 2: overwrites 1,000 base files, deletes 500 and 20 whole packages */
	snprintf(path, sizeof(path), "%s/layer2.tar", dir);
	tar_open(&t, path);
	tar_entry(&t, "usr", AE_IFDIR, 0);
	tar_entry(&t, "usr/lib", AE_IFDIR, 0);
	for (int p = 0; p < 40; p++) {
		snprintf(name, sizeof(name), "usr/lib/pkg%04d", p);
		tar_entry(&t, name, AE_IFDIR, 0);
		for (int f = 0; f < 25; f++) {
			snprintf(name, sizeof(name), "usr/lib/pkg%04d/file%03d.dat", p, f);
			tar_entry(&t, name, AE_IFREG, file_size());
		}
	}
	for (int p = 100; p < 120; p++) {
		snprintf(name, sizeof(name), "usr/lib/pkg%04d", p);
		tar_entry(&t, name, AE_IFDIR, 0);
		for (int f = 0; f < 25; f++) {
			snprintf(name, sizeof(name), "usr/lib/pkg%04d/.wh.file%03d.dat", p, f);
			tar_entry(&t, name, AE_IFREG, 0);
		}
	}
	for (int p = 200; p < 220; p++) {
		snprintf(name, sizeof(name), "usr/lib/.wh.pkg%04d", p);
		tar_entry(&t, name, AE_IFREG, 0);
	}
	tar_close(&t);
	/* layer 3: 120 more packages (3,000 files), one opaque package directory */
	snprintf(path, sizeof(path), "%s/layer3.tar", dir);
	tar_open(&t, path);
	tar_entry(&t, "srv", AE_IFDIR, 0);
	tar_entry(&t, "srv/data", AE_IFDIR, 0);
	for (int p = 0; p < 120; p++)
		package(&t, "srv/data", p, 25);
	tar_entry(&t, "usr/lib/pkg0300", AE_IFDIR, 0);
	tar_entry(&t, "usr/lib/pkg0300/.wh..wh..opq", AE_IFREG, 0);
	tar_entry(&t, "usr/lib/pkg0300/only.dat", AE_IFREG, file_size());
	tar_close(&t);
}

static int spawn_wait(char *const argv[], const char *out_path, struct rusage *ru)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	posix_spawn_file_actions_init(&fa);
	if (out_path)
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path,
						 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		die(argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	if (wait4(pid, &status, 0, ru) < 0)
		die("wait4");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int sh(const char *cmd)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	struct rusage ru;

	return spawn_wait(argv, NULL, &ru);
}

static void sha256_file(const char *path, char *hex, uint64_t *size)
{
	static unsigned char buf[1 << 20];
	unsigned char md[32];
	unsigned n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f || !ctx)
		die(path);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	*size = 0;
	while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(ctx, buf, got);
		*size += got;
	}
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die(path);
}

/* Writes DIR/<variant>/ as an OCI layout; blob i is DIR/layer<i>.tar<suffix>. */
static void layout(const char *variant, const char *suffix, const char *media,
		   char diff_ids[NLAYERS][65])
{
	char path[PATH_MAX], hex[65], cfg_hex[65], man_hex[65], buf[16384];
	uint64_t size, cfg_size, man_size;
	char layers_json[4096] = "", ids_json[1024] = "";
	size_t lj = 0, ij = 0;

	snprintf(path, sizeof(path), "%s/%s/blobs/sha256", dir, variant);
	snprintf(buf, sizeof(buf), "mkdir -p '%s'", path);
	if (sh(buf))
		die("mkdir");
	for (int i = 0; i < NLAYERS; i++) {
		char blob[PATH_MAX];

		snprintf(blob, sizeof(blob), "%s/layer%d.tar%s", dir, i, suffix);
		sha256_file(blob, hex, &size);
		snprintf(path, sizeof(path), "%s/%s/blobs/sha256/%s", dir, variant, hex);
		unlink(path);
		if (link(blob, path) != 0)
			die(path);
		lj += (size_t)snprintf(
		    layers_json + lj, sizeof(layers_json) - lj,
		    "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%llu}", i ? "," : "",
		    media, hex, (unsigned long long)size);
		ij += (size_t)snprintf(ids_json + ij, sizeof(ids_json) - ij, "%s\"sha256:%s\"",
				       i ? "," : "", diff_ids[i]);
	}
	snprintf(buf, sizeof(buf),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]},\"history\":["
		 "{\"created_by\":\"ADD base\"},{\"created_by\":\"COPY app\"},"
		 "{\"created_by\":\"RUN update\"},{\"created_by\":\"COPY data\"}]}",
		 ids_json);
	snprintf(path, sizeof(path), "%s/%s/config.json", dir, variant);
	write_text(path, buf);
	sha256_file(path, cfg_hex, &cfg_size);
	{
		char blob[PATH_MAX];

		snprintf(blob, sizeof(blob), "%s/%s/blobs/sha256/%s", dir, variant, cfg_hex);
		rename(path, blob);
	}
	snprintf(
	    buf, sizeof(buf),
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"digest\":\"sha256:%s\",\"size\":%llu},\"layers\":[%s]}",
	    cfg_hex, (unsigned long long)cfg_size, layers_json);
	snprintf(path, sizeof(path), "%s/%s/manifest.json", dir, variant);
	write_text(path, buf);
	sha256_file(path, man_hex, &man_size);
	{
		char blob[PATH_MAX];

		snprintf(blob, sizeof(blob), "%s/%s/blobs/sha256/%s", dir, variant, man_hex);
		rename(path, blob);
	}
	snprintf(buf, sizeof(buf),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\","
		 "\"size\":%llu}]}",
		 man_hex, (unsigned long long)man_size);
	snprintf(path, sizeof(path), "%s/%s/index.json", dir, variant);
	write_text(path, buf);
	snprintf(path, sizeof(path), "%s/%s/oci-layout", dir, variant);
	write_text(path, "{\"imageLayoutVersion\":\"1.0.0\"}");
}

static bool stamped(void)
{
	char path[PATH_MAX], buf[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/STAMP", dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, STAMP) == 0;
}

static void generate(void)
{
	char cmd[PATH_MAX * 2], ids[NLAYERS][65], path[PATH_MAX];
	uint64_t size, total = 0;
	double t0 = now();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (sh(cmd))
		die("mkdir");
	fprintf(stderr, "bench_inspect: generating the image in %s ...\n", dir);
	generate_layers();
	for (int i = 0; i < NLAYERS; i++) {
		snprintf(path, sizeof(path), "%s/layer%d.tar", dir, i);
		sha256_file(path, ids[i], &size);
		total += size;
	}
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && for i in 0 1 2 3; do igzip -1 -c layer$i.tar > layer$i.tar.gz && "
		 "zstd -3 -T2 -q -c layer$i.tar > layer$i.tar.zst || exit 1; done",
		 dir);
	if (sh(cmd)) {
		fprintf(stderr, "bench_inspect: igzip and zstd are needed (Debian: isal, zstd)\n");
		exit(1);
	}
	layout("oci-plain", "", "application/vnd.oci.image.layer.v1.tar", ids);
	layout("oci-gzip", ".gz", "application/vnd.oci.image.layer.v1.tar+gzip", ids);
	layout("oci-zstd", ".zst", "application/vnd.oci.image.layer.v1.tar+zstd", ids);
	snprintf(path, sizeof(path), "%s/STAMP", dir);
	write_text(path, STAMP "\n");
	fprintf(stderr, "bench_inspect: %.0f MB of layers generated in %.1f s\n", total / 1e6,
		now() - t0);
}

/* ---- measuring ---------------------------------------------------------------------------- */

struct timing {
	double best;
	long max_rss_kb;
};

static struct timing best_of(int runs, char *const argv[])
{
	struct timing t = {1e30, 0};

	for (int r = 0; r < runs; r++) {
		struct rusage ru;
		double t0 = now();
		int rc = spawn_wait(argv, "/dev/null", &ru);
		double dt = now() - t0;

		if (rc != 0) {
			fprintf(stderr, "bench_inspect: '%s %s' exited %d\n", argv[0], argv[1], rc);
			exit(1);
		}
		if (dt < t.best)
			t.best = dt;
		if (ru.ru_maxrss > t.max_rss_kb)
			t.max_rss_kb = ru.ru_maxrss;
	}
	return t;
}

int main(int argc, char **argv)
{
	char exe[900], bale[PATH_MAX], floor_cmd[PATH_MAX * 6], img[PATH_MAX];
	const char *bale_arg = NULL, *dir_arg = NULL;
	int runs = 3;
	ssize_t n;
	static const struct {
		const char *variant, *suffix, *inflate;
		double target;
	} variants[] = {
	    {"oci-plain", "", NULL, 1.5},
	    {"oci-gzip", ".gz", "igzip -dc", 1.2},
	    {"oci-zstd", ".zst", "zstd -dcq", 1.2},
	};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bale") == 0 && i + 1 < argc)
			bale_arg = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir_arg = argv[++i];
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 3;
		else {
			fprintf(stderr,
				"usage: bench_inspect [--bale PATH] [--dir DIR] [--runs R]\n");
			return 2;
		}
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || n >= (ssize_t)sizeof(exe) - 1)
		die("/proc/self/exe");
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0'; /* .../build/release/bench */
	if (bale_arg)
		snprintf(bale, sizeof(bale), "%s", bale_arg);
	else
		snprintf(bale, sizeof(bale), "%.*s/bale", (int)(strrchr(exe, '/') - exe), exe);
	if (dir_arg && strlen(dir_arg) >= 900) {
		fprintf(stderr, "bench_inspect: --dir is too long\n");
		return 2;
	}
	if (dir_arg)
		snprintf(dir, sizeof(dir), "%s", dir_arg);
	else
		snprintf(dir, sizeof(dir), "%.*s/bench-inspect-data",
			 (int)(strrchr(exe, '/') - exe), exe);
	if (access(bale, X_OK) != 0) {
		fprintf(stderr, "bench_inspect: no bale binary at %s (--bale PATH)\n", bale);
		return 1;
	}
	if (!stamped())
		generate();

	printf("bench_inspect: %d layers, %d files, image in %s; best of %d runs\n", NLAYERS,
	       14000 + 4000 + 1000 + 3000 + 1, dir, runs);
	total_files = 14000 + 4000 + 1000 + 3001;
	printf("%-10s %10s %10s %8s %8s %12s %14s\n", "variant", "floor s", "bale s", "ratio",
	       "target", "peak MB", "memory target");
	struct timing inspect_t[3];
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		char files[PATH_MAX * 5] = "";
		size_t fl = 0;
		struct timing floor_t, bale_t;
		double mem_target = 64.0 + 256.0 * (double)total_files / (1024 * 1024);

		for (int i = 0; i < NLAYERS; i++)
			fl +=
			    (size_t)snprintf(files + fl, sizeof(files) - fl, "%s'%s/layer%d.tar%s'",
					     i ? " " : "", dir, i, variants[v].suffix);
		if (variants[v].inflate)
			snprintf(floor_cmd, sizeof(floor_cmd),
				 "for f in %s; do %s \"$f\" | openssl dgst -sha256; done", files,
				 variants[v].inflate);
		else
			snprintf(floor_cmd, sizeof(floor_cmd), "openssl dgst -sha256 %s", files);
		{
			char *fargv[] = {"sh", "-c", floor_cmd, NULL};

			best_of(1, fargv); /* warm-up: the blobs into the page cache */
			floor_t = best_of(runs, fargv);
		}
		snprintf(img, sizeof(img), "%s/%s", dir, variants[v].variant);
		{
			char *bargv[] = {bale, "inspect", "--format", "json", img, NULL};

			best_of(1, bargv);
			bale_t = best_of(runs, bargv);
			inspect_t[v] = bale_t;
		}
		printf("%-10s %10.2f %10.2f %7.2fx %7.1fx %12.1f %11.1f MB  %s\n",
		       variants[v].variant, floor_t.best, bale_t.best, bale_t.best / floor_t.best,
		       variants[v].target, bale_t.max_rss_kb / 1024.0, mem_target,
		       bale_t.best / floor_t.best <= variants[v].target &&
			       bale_t.max_rss_kb / 1024.0 <= mem_target
			   ? "ok"
			   : "MISSED");
		fflush(stdout);
	}

	printf("\n%-10s %10s %10s %8s %8s %12s %14s\n", "variant", "inspect s", "audit s", "ratio",
	       "target", "peak MB", "memory target");
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		double mem_target = 64.0 + 256.0 * (double)total_files / (1024 * 1024);
		char *aargv[] = {bale, "audit", "--format", "json", "--no-fail", img, NULL};
		struct timing audit_t;

		snprintf(img, sizeof(img), "%s/%s", dir, variants[v].variant);
		best_of(1, aargv);
		audit_t = best_of(runs, aargv);
		printf("%-10s %10.2f %10.2f %7.2fx %7.1fx %12.1f %11.1f MB  %s\n",
		       variants[v].variant, inspect_t[v].best, audit_t.best,
		       audit_t.best / inspect_t[v].best, 2.0, audit_t.max_rss_kb / 1024.0,
		       mem_target,
		       audit_t.best / inspect_t[v].best <= 2.0 &&
			       audit_t.max_rss_kb / 1024.0 <= mem_target
			   ? "ok"
			   : "MISSED");
		fflush(stdout);
	}
	return 0;
}
