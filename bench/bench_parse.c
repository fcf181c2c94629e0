/*
 * bench_parse: how fast bale_dockerfile_parse() reads Dockerfiles, whether its time grows
 * linearly with the input, and how much memory it needs. It prints figures next to the targets
 * of issue 2 (>= 100 MB/s on one core; a 100x larger file takes at most 110x the time; peak
 * memory under 4x the input plus 8 MB); it is a benchmark, not a test.
 *
 *   bench_parse [--files N] [--seed S] [--runs R] [--large-mb M] [--write DIR]
 *
 * The corpus is generated in memory by corpus.c (deterministic for a seed); --write DIR also
 * writes it as DIR/NNNN/Dockerfile, e.g. to feed `bale parse` by hand. The memory figure comes
 * from a child process (this program re-executed) that only builds the large file and parses
 * it, so its ru_maxrss is that job's peak and nothing else's.
 */
#include "corpus.h"

#include "bale/dockerfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB (1024.0 * 1024.0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
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

/* Seconds per parse of one text: the best of `runs` batches of at least `min_batch` seconds. */
static double time_per_parse(const char *data, size_t len, int runs, double min_batch)
{
	double best = -1;

	for (int r = 0; r < runs; r++) {
		size_t reps = 0;
		double start = now(), elapsed;

		do {
			if (parse_one(data, len, "bench", NULL) != 0)
				return -1;
			reps++;
			elapsed = now() - start;
		} while (elapsed < min_batch);
		if (best < 0 || elapsed / (double)reps < best)
			best = elapsed / (double)reps;
	}
	return best;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A typical body for the long files: a generated Dockerfile without an escape directive (a
 * repeated "# escape=" line would be a comment in every copy after the first) whose size is
 * within 10% of the corpus median.
 */
static int typical_body(bale_buf *out, size_t median, uint64_t seed)
{
	for (uint64_t s = seed;; s++) {
		bench_gen_opts opts = {s, 0};

		bale_buf_reset(out);
		if (bench_corpus_generate_one(out, &opts) != 0)
			return -1;
		if (out->len * 10 >= median * 9 && out->len * 10 <= median * 11)
			return 0;
	}
}

/* The child of the memory check: build a large file, parse it, report on stdout. */
static int memory_child(size_t target, size_t median, uint64_t seed)
{
	bale_buf body = BALE_BUF_INIT, big = BALE_BUF_INIT;
	bale_parse_opts opts = {.filename = "large"};
	bale_dockerfile *df = NULL;
	long rss_start = maxrss_kb(), rss_input, rss_parsed;
	double start, elapsed;
	size_t mem;
	int rc = 1;

	if (typical_body(&body, median, seed) != 0 ||
	    bench_corpus_repeat(&big, body.ptr, body.len, target - body.len) != 0) {
		fprintf(stderr, "bench_parse: cannot build the large file\n");
		goto out;
	}
	rss_input = maxrss_kb();
	start = now();
	if (bale_dockerfile_parse(&df, big.ptr, big.len, &opts) != 0) {
		fprintf(stderr, "bench_parse: %s\n", bale_error_last()->message);
		goto out;
	}
	elapsed = now() - start;
	rss_parsed = maxrss_kb();
	mem = bale_dockerfile_memory(df);
	printf("%zu %ld %ld %ld %zu %.6f\n", big.len, rss_start, rss_input, rss_parsed, mem,
	       elapsed);
	rc = 0;
out:
	bale_dockerfile_free(df);
	bale_buf_release(&body);
	bale_buf_release(&big);
	return rc;
}

static int memory_check(const char *self, size_t target, size_t median, uint64_t seed)
{
	char target_arg[32], median_arg[32], seed_arg[32], line[256];
	size_t len, mem;
	long rss_start, rss_input, rss_parsed;
	double elapsed, limit_mb;
	int fds[2], status;
	pid_t pid;
	FILE *in;

	snprintf(target_arg, sizeof(target_arg), "%zu", target);
	snprintf(median_arg, sizeof(median_arg), "%zu", median);
	snprintf(seed_arg, sizeof(seed_arg), "%" PRIu64, seed);
	if (pipe(fds) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *argv[] = {(char *)self, "--memory-child", target_arg,
				median_arg,   seed_arg,		NULL};

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
	waitpid(pid, &status, 0);
	limit_mb = 4.0 * (double)len / MB + 8.0;
	printf("memory (child process, %.1f MB file, %.0f MB/s):\n", (double)len / MB,
	       (double)len / MB / elapsed);
	printf("  peak RSS %.1f MB (program %.1f MB, + input %.1f MB, + parse %.1f MB)\n",
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
	size_t nfiles = 600, large_mb = 16, instructions = 0, median, largest, *sizes = NULL;
	uint64_t seed = 1;
	int runs = 7, rc = 1;
	const char *write_dir = NULL;
	bench_corpus corpus = BENCH_CORPUS_INIT;
	bale_buf body = BALE_BUF_INIT, big = BALE_BUF_INIT;
	double best = -1, t_small, t_big;

	if (argc == 5 && strcmp(argv[1], "--memory-child") == 0)
		return memory_child(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
				    strtoull(argv[4], NULL, 10));
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
	median = sizes[corpus.count / 2];
	largest = sizes[corpus.count - 1];

	/* Every file must parse: figures on failing input would mean nothing. */
	for (size_t i = 0; i < corpus.count; i++) {
		char name[32];

		snprintf(name, sizeof(name), "corpus/%04zu", i);
		if (parse_one(corpus.files[i], corpus.lens[i], name, &instructions) != 0)
			goto out;
	}
	printf("corpus: %zu Dockerfiles, %.2f MB, %zu instructions (median file %.1f KB, "
	       "largest %.1f KB)\n",
	       corpus.count, (double)corpus.total / MB, instructions, (double)median / 1024.0,
	       (double)largest / 1024.0);

	/* Throughput: each run parses the whole corpus, as often as fills 0.2 s. */
	for (int r = 0; r < runs; r++) {
		size_t passes = 0;
		double start = now(), elapsed;

		do {
			for (size_t i = 0; i < corpus.count; i++)
				if (parse_one(corpus.files[i], corpus.lens[i], "corpus", NULL) != 0)
					goto out;
			passes++;
			elapsed = now() - start;
		} while (elapsed < 0.2);
		if (best < 0 || elapsed / (double)passes < best)
			best = elapsed / (double)passes;
	}
	printf("throughput (best of %d runs, one core): %.1f MB/s, %.0f files/s "
	       "(%.2f ms per corpus pass); target >= 100 MB/s: %s\n",
	       runs, (double)corpus.total / MB / best, (double)corpus.count / best, best * 1e3,
	       (double)corpus.total / MB / best >= 100.0 ? "met" : "NOT met");

	/* Linearity: a typical file against the same body repeated 100 times. */
	if (typical_body(&body, median, seed) != 0 ||
	    bench_corpus_repeat(&big, body.ptr, body.len, body.len * 100) != 0) {
		fprintf(stderr, "bench_parse: cannot build the linearity input\n");
		goto out;
	}
	t_small = time_per_parse(body.ptr, body.len, runs, 0.1);
	t_big = time_per_parse(big.ptr, big.len, runs, 0.2);
	if (t_small < 0 || t_big < 0)
		goto out;
	printf("linearity: %.1f KB file %.1f us, %.1f KB file (x%zu) %.1f us\n",
	       (double)body.len / 1024.0, t_small * 1e6, (double)big.len / 1024.0,
	       big.len / body.len, t_big * 1e6);
	printf("  100x input took %.2fx time; target <= 110x: %s\n",
	       t_big / t_small * 100.0 / ((double)big.len / (double)body.len),
	       t_big / t_small * 100.0 / ((double)big.len / (double)body.len) <= 110.0 ? "met"
										       : "NOT met");

	if (memory_check(argv[0], large_mb << 20, median, seed) != 0)
		goto out;
	rc = 0;
out:
	free(sizes);
	bale_buf_release(&body);
	bale_buf_release(&big);
	bench_corpus_release(&corpus);
	return rc;
}
