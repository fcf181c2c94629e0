/*
 * bench_lint: how fast bale_lint() lints a corpus of realistic Dockerfiles in one process, as
 * `bale lint DIR` does, with ShellCheck off (it is a separate program). Prints files/s, MB/s and
 * peak memory next to the targets of the lint issue (20,000 files/s on one core, peak memory
 * under 20 MB). A benchmark, not a test.
 *
 *   bench_lint [--files N] [--seed S] [--runs R] [--dump FILE]
 *
 * --dump writes every finding of one pass to FILE, file by file in the order the rules
 * reported them, so a change meant only to make lint faster can be checked to leave the
 * findings byte for byte as they were.
 */
#include "corpus.h"

#include "bale/lint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* One line per finding: file number, position, rule, severity, message. */
static void dump_findings(FILE *out, size_t file, const bale_findings *f)
{
	for (size_t i = 0; i < bale_findings_count(f); i++) {
		const bale_finding *fd = bale_findings_get(f, i);

		fprintf(out, "%zu:%" PRIu32 ":%" PRIu32 "-%" PRIu32 " %s %s %s\n", file,
			fd->loc.line, fd->loc.col, fd->loc.end_line, fd->rule->id,
			bale_severity_name(fd->severity), fd->message);
	}
}

/*
 * Lints every file once; returns the seconds taken, or -1. Findings are counted in *nfind and
 * written to `dump` when it is not NULL.
 */
static double lint_all(const bench_corpus *c, const bale_lint_config *cfg, size_t *nfind,
		       FILE *dump)
{
	double start = now();

	*nfind = 0;
	for (size_t i = 0; i < c->count; i++) {
		bale_findings *f;

		if (bale_findings_new(&f) != 0)
			return -1;
		if (bale_lint(f, c->files[i], c->lens[i], "Dockerfile", cfg, NULL) != 0) {
			fprintf(stderr, "bench_lint: file %zu: %s\n", i,
				bale_error_last()->message);
			bale_findings_free(f);
			return -1;
		}
		*nfind += bale_findings_count(f);
		if (dump)
			dump_findings(dump, i, f);
		bale_findings_free(f);
	}
	return now() - start;
}

int main(int argc, char **argv)
{
	size_t files = 1000, nfind = 0;
	uint64_t seed = 1;
	int runs = 5;
	bench_corpus corpus = {0};
	bale_lint_config cfg;
	double best = -1;
	long rss_before, rss_after;
	const char *dump_path = NULL;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--files") == 0)
			files = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--runs") == 0)
			runs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--dump") == 0)
			dump_path = argv[i + 1];
	}
	if (files < 1 || runs < 1) {
		fprintf(stderr,
			"usage: bench_lint [--files N] [--seed S] [--runs R] [--dump FILE]\n");
		return 2;
	}
	if (bench_corpus_generate(&corpus, files, seed) != 0) {
		fprintf(stderr, "bench_lint: cannot generate the corpus\n");
		return 1;
	}
	bale_lint_config_init(&cfg);
	cfg.shellcheck = 0;
	printf("bale %s: Dockerfile lint benchmark (seed %" PRIu64 ", %zu rules, ShellCheck off)\n",
	       bale_version(), seed, bale_lint_rule_count());
	printf("corpus: %zu Dockerfiles, %.2f MB\n", corpus.count,
	       (double)corpus.total / 1048576.0);
	if (dump_path) {
		FILE *dump = fopen(dump_path, "w");
		double t;

		if (!dump) {
			fprintf(stderr, "bench_lint: cannot write '%s'\n", dump_path);
			return 1;
		}
		t = lint_all(&corpus, &cfg, &nfind, dump);
		if (fclose(dump) != 0 || t < 0) {
			fprintf(stderr, "bench_lint: cannot dump the findings to '%s'\n",
				dump_path);
			return 1;
		}
	}
	rss_before = peak_rss_kb();
	for (int r = 0; r < runs; r++) {
		double t = lint_all(&corpus, &cfg, &nfind, NULL);

		if (t < 0)
			return 1;
		if (best < 0 || t < best)
			best = t;
	}
	rss_after = peak_rss_kb();
	printf("throughput (best of %d runs, one core): %.0f files/s, %.1f MB/s (%zu findings per "
	       "pass); target >= 20000 files/s: %s\n",
	       runs, (double)corpus.count / best, (double)corpus.total / 1048576.0 / best, nfind,
	       (double)corpus.count / best >= 20000 ? "met" : "NOT met");
	printf("peak memory: %.1f MB in all (%.1f MB with the corpus loaded, +%.1f MB linting); "
	       "target < 20 MB for linting: %s\n",
	       (double)rss_after / 1024.0, (double)rss_before / 1024.0,
	       (double)(rss_after - rss_before) / 1024.0,
	       (double)(rss_after - rss_before) / 1024.0 < 20.0 ? "met" : "NOT met");
	bale_lint_config_release(&cfg);
	bench_corpus_release(&corpus);
	return 0;
}
