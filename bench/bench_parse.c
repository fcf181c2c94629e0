/*
 * bench_parse: how fast bale_dockerfile_parse() reads Dockerfiles, whether its time grows
 * linearly with the input, and how much memory it needs. It prints figures next to the targets
 * of issue 2 (>= 100 MB/s on one core; a 100x larger file takes at most 110x the time; peak
 * memory under 4x the input plus 8 MB); it is a benchmark, not a test.
 *
 *   bench_parse [--files N] [--seed S] [--runs R] [--large-mb M] [--write DIR]
 *
 * The corpus is generated in memory by corpus.c (deterministic for a seed); --write DIR also
 * writes it as DIR/NNNN/Dockerfile, e.g. to feed `bale parse` by hand.
 *
 * Linearity compares a long file made of K typical Dockerfiles one after the other with the
 * same K files parsed one by one, so both sides read the same text. (Timing one small file
 * parsed thousands of times over would flatter it: the branch predictor learns it by heart.)
 *
 * The memory figure comes from a child process (this program re-executed) that only builds the
 * large file and parses it; its peak is read from VmHWM, which exec starts afresh, while
 * ru_maxrss would still hold the parent's peak.
 */
#include "corpus.h"

#include "bale/dockerfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB	      (1024.0 * 1024.0)
#define LINEARITY_MAX 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's peak resident set since exec, in KiB (VmHWM); -1 when unknown. */
static long peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static int parse_one(const char *data, size_t len, const char *name, size_t *instructions)
{
	bale_parse_opts opts = {.filename = name};
	bale_dockerfile *df = NULL;
	size_t n = 0;

	if (bale_dockerfile_parse(&df, data, len, &opts) != 0) {
		fprintf(stderr, "bench_parse: %s\n", bale_error_last()->message);
		return -1;
	}
	bale_dockerfile_instructions(df, &n);
	if (instructions)
		*instructions += n;
	bale_dockerfile_free(df);
	return 0;
}

/*
 * Seconds to parse files[0..count) once, one by one: the best of `runs` batches, each running
 * over the files as often as fills `min_batch` seconds.
 */
static double time_files(char *const *files, const size_t *lens, size_t count, int runs,
			 double min_batch)
{
	double best = -1;

	for (int r = 0; r < runs; r++) {
		size_t passes = 0;
		double start = now(), elapsed;

		do {
			for (size_t i = 0; i < count; i++)
				if (parse_one(files[i], lens[i], "bench", NULL) != 0)
					return -1;
			passes++;
			elapsed = now() - start;
		} while (elapsed < min_batch);
		if (best < 0 || elapsed / (double)passes < best)
			best = elapsed / (double)passes;
	}
	return best;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Files for long inputs: generated Dockerfiles without an escape directive (a repeated
 * "# escape=" line would be a comment in every copy after the first).
 */
static int plain_files(bench_corpus *out, size_t count, uint64_t seed)
{
	bale_buf buf = BALE_BUF_INIT;
	int rc = 0;

	out->files = calloc(count, sizeof(*out->files));
	out->lens = calloc(count, sizeof(*out->lens));
	if (!out->files || !out->lens) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		bench_gen_opts opts = {seed * 7919u + i, 0};

		bale_buf_reset(&buf);
		if (bench_corpus_generate_one(&buf, &opts) != 0 ||
		    !(out->files[i] = bale_buf_detach(&buf, &out->lens[i]))) {
			rc = -1;
			goto out;
		}
		out->count++;
		out->total += out->lens[i];
	}
out:
	bale_buf_release(&buf);
	return rc;
}

static int concat(bale_buf *out, const bench_corpus *c, size_t count)
{
	bale_buf_reset(out);
	for (size_t i = 0; i < count; i++)
		bale_buf_add(out, c->files[i], c->lens[i]);
	return out->err;
}

static int linearity(int runs, uint64_t seed)
{
	bench_corpus bodies = BENCH_CORPUS_INIT;
	bale_buf big = BALE_BUF_INIT;
	int rc = -1;

	if (plain_files(&bodies, LINEARITY_MAX, seed) != 0) {
		fprintf(stderr, "bench_parse: cannot build the linearity input\n");
		goto out;
	}
	printf("linearity (K typical files, %.1f KB on average, parsed one by one, against one "
	       "file of all K):\n",
	       (double)bodies.total / LINEARITY_MAX / 1024.0);
	for (size_t k = 10; k <= LINEARITY_MAX; k *= 10) {
		double t_each, t_one, ratio;
		size_t bytes = 0;

		for (size_t i = 0; i < k; i++)
			bytes += bodies.lens[i];
		if (concat(&big, &bodies, k) != 0)
			goto out;
		/* Interleaved, so both sides see the same load on a shared machine. */
		t_each = t_one = -1;
		for (int r = 0; r < runs; r++) {
			double each = time_files(bodies.files, bodies.lens, k, 1, 0.1);
			double one = time_files(&big.ptr, &big.len, 1, 1, 0.1);

			if (each < 0 || one < 0)
				goto out;
			if (t_each < 0 || each < t_each)
				t_each = each;
			if (t_one < 0 || one < t_one)
				t_one = one;
		}
		ratio = t_one / t_each;
		printf("  K=%4zu (%7.1f KB): one by one %.2f ns/byte, as one file %.2f ns/byte: "
		       "%.2fx per byte\n",
		       k, (double)bytes / 1024.0, t_each * 1e9 / (double)bytes,
		       t_one * 1e9 / (double)bytes, ratio);
		if (k == 100)
			printf("  100x input took %.2fx time; target <= 110x: %s\n", ratio * 100.0,
			       ratio * 100.0 <= 110.0 ? "met" : "NOT met");
	}
	rc = 0;
out:
	bale_buf_release(&big);
	bench_corpus_release(&bodies);
	return rc;
}

/* The child of the memory check: build a large file, parse it, report on stdout. */
static int memory_child(size_t target, uint64_t seed)
{
	bench_corpus bodies = BENCH_CORPUS_INIT;
	bale_buf big = BALE_BUF_INIT;
	bale_parse_opts opts = {.filename = "large"};
	bale_dockerfile *df = NULL;
	long rss_start = peak_rss_kb(), rss_input, rss_parsed;
	double start, elapsed;
	size_t mem;
	int rc = 1;

	/* Typical files one after the other, up to the target (the default limit holds it). */
	if (plain_files(&bodies, 100, seed) != 0 || bale_buf_grow(&big, target) != 0)
		goto fail_build;
	for (size_t i = 0; big.len + bodies.lens[i % 100] <= target; i++)
		if (bale_buf_add(&big, bodies.files[i % 100], bodies.lens[i % 100]) != 0)
			goto fail_build;
	bench_corpus_release(&bodies);
	rss_input = peak_rss_kb();
	start = now();
	if (bale_dockerfile_parse(&df, big.ptr, big.len, &opts) != 0) {
		fprintf(stderr, "bench_parse: %s\n", bale_error_last()->message);
		goto out;
	}
	elapsed = now() - start;
	rss_parsed = peak_rss_kb();
	mem = bale_dockerfile_memory(df);
	printf("%zu %ld %ld %ld %zu %.6f\n", big.len, rss_start, rss_input, rss_parsed, mem,
	       elapsed);
	rc = 0;
	goto out;
fail_build:
	fprintf(stderr, "bench_parse: cannot build the large file\n");
out:
	bale_dockerfile_free(df);
	bench_corpus_release(&bodies);
	bale_buf_release(&big);
	return rc;
}

static int memory_check(const char *self, size_t target, uint64_t seed)
{
	char target_arg[32], seed_arg[32], line[256];
	size_t len, mem;
	long rss_start, rss_input, rss_parsed;
	double elapsed, limit_mb;
	int fds[2], status;
	struct rusage ru;
	pid_t pid;
	FILE *in;

	snprintf(target_arg, sizeof(target_arg), "%zu", target);
	snprintf(seed_arg, sizeof(seed_arg), "%" PRIu64, seed);
	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = {(char *)self, "--memory-child", target_arg, seed_arg, NULL};

		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	if (!in || !fgets(line, sizeof(line), in) ||
	    sscanf(line, "%zu %ld %ld %ld %zu %lf", &len, &rss_start, &rss_input, &rss_parsed, &mem,
		   &elapsed) != 6) {
		if (in)
			fclose(in);
		waitpid(pid, &status, 0);
		fprintf(stderr, "bench_parse: the memory check failed\n");
		return -1;
	}
	fclose(in);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_parse: the memory check failed\n");
		return -1;
	}
	limit_mb = 4.0 * (double)len / MB + 8.0;
	printf("memory (a child process parses a %.1f MB file at %.0f MB/s):\n", (double)len / MB,
	       (double)len / MB / elapsed);
	printf("  peak RSS %.1f MB: program %.1f MB, + input %.1f MB, + parsing %.1f MB\n",
	       (double)rss_parsed / 1024.0, (double)rss_start / 1024.0,
	       (double)(rss_input - rss_start) / 1024.0, (double)(rss_parsed - rss_input) / 1024.0);
	printf("  bale_dockerfile_memory() = %.1f MB (%.2fx input)\n", (double)mem / MB,
	       (double)mem / (double)len);
	printf("  target: peak < 4x input + 8 MB = %.1f MB: %s\n", limit_mb,
	       (double)rss_parsed / 1024.0 < limit_mb ? "met" : "NOT met");
	return 0;
}

static void usage(void)
{
	fputs("usage: bench_parse [--files N] [--seed S] [--runs R] [--large-mb M] [--write DIR]\n",
	      stderr);
}

int main(int argc, char **argv)
{
	size_t nfiles = 600, large_mb = 16, instructions = 0, *sizes = NULL;
	uint64_t seed = 1;
	int runs = 7, rc = 1;
	const char *write_dir = NULL;
	bench_corpus corpus = BENCH_CORPUS_INIT;
	double best = -1;

	if (argc == 4 && strcmp(argv[1], "--memory-child") == 0)
		return memory_child(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10));
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val) {
			usage();
			return 2;
		}
		if (strcmp(opt, "--files") == 0)
			nfiles = strtoull(val, NULL, 10);
		else if (strcmp(opt, "--seed") == 0)
			seed = strtoull(val, NULL, 10);
		else if (strcmp(opt, "--runs") == 0)
			runs = atoi(val);
		else if (strcmp(opt, "--large-mb") == 0)
			large_mb = strtoull(val, NULL, 10);
		else if (strcmp(opt, "--write") == 0)
			write_dir = val;
		else {
			usage();
			return 2;
		}
		i++;
	}
	if (nfiles == 0 || runs < 1 || large_mb == 0) {
		usage();
		return 2;
	}

	printf("bale %s: Dockerfile parser benchmark (seed %" PRIu64 ")\n", bale_version(), seed);
	if (bench_corpus_generate(&corpus, nfiles, seed) != 0) {
		fprintf(stderr, "bench_parse: cannot generate the corpus\n");
		goto out;
	}
	if (write_dir) {
		if (bench_corpus_write(&corpus, write_dir) != 0) {
			fprintf(stderr, "bench_parse: cannot write the corpus to '%s': %s\n",
				write_dir, strerror(errno));
			goto out;
		}
		printf("corpus written to %s/NNNN/Dockerfile\n", write_dir);
	}
	sizes = malloc(corpus.count * sizeof(*sizes));
	if (!sizes)
		goto out;
	memcpy(sizes, corpus.lens, corpus.count * sizeof(*sizes));
	qsort(sizes, corpus.count, sizeof(*sizes), cmp_size);

	/* Every file must parse: figures on failing input would mean nothing. */
	for (size_t i = 0; i < corpus.count; i++) {
		char name[32];

		snprintf(name, sizeof(name), "corpus/%04zu", i);
		if (parse_one(corpus.files[i], corpus.lens[i], name, &instructions) != 0)
			goto out;
	}
	printf("corpus: %zu Dockerfiles, %.2f MB, %zu instructions (median file %.1f KB, "
	       "largest %.1f KB)\n",
	       corpus.count, (double)corpus.total / MB, instructions,
	       (double)sizes[corpus.count / 2] / 1024.0, (double)sizes[corpus.count - 1] / 1024.0);

	best = time_files(corpus.files, corpus.lens, corpus.count, runs, 0.2);
	if (best < 0)
		goto out;
	printf("throughput (best of %d runs, one core): %.1f MB/s, %.0f files/s "
	       "(%.2f ms per corpus pass); target >= 100 MB/s: %s\n",
	       runs, (double)corpus.total / MB / best, (double)corpus.count / best, best * 1e3,
	       (double)corpus.total / MB / best >= 100.0 ? "met" : "NOT met");

	if (linearity(runs, seed) != 0)
		goto out;
	if (memory_check(argv[0], large_mb << 20, seed) != 0)
		goto out;
	rc = 0;
out:
	free(sizes);
	bench_corpus_release(&corpus);
	return rc;
}
