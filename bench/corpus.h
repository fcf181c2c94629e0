/*
 * corpus.h: a deterministic generator of realistic Dockerfiles for the benchmarks.
 *
 * The same seed gives the same bytes on every machine, so figures from two runs compare. The
 * files look like what people write: one to four stages on common base images, global and
 * stage ARGs, ENV and LABEL in both forms, long `RUN ... && \` chains with comment lines inside,
 * cache, secret and bind mounts, heredocs (several per line, `<<-` with tabs, quoted
 * delimiters), COPY --from/--chown/--chmod/--link, ADD with checksums, JSON and shell forms (and
 * the odd invalid JSON that falls back to shell form), ONBUILD, HEALTHCHECK, SHELL, lower-case
 * keywords and, now and then, the backtick escape directive.
 *
 * Every generated file is one BuildKit accepts. A bench_corpus owns its file texts; release it
 * with bench_corpus_release().
 */
#ifndef BALE_BENCH_CORPUS_H
#define BALE_BENCH_CORPUS_H

#include "bale/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bench_corpus {
	char **files; /* NUL-terminated texts */
	size_t *lens;
	size_t count;
	size_t total; /* bytes in all files */
} bench_corpus;

#define BENCH_CORPUS_INIT                                                                          \
	{                                                                                          \
		NULL, NULL, 0, 0                                                                   \
	}

/* Options of one generated Dockerfile. */
typedef struct bench_gen_opts {
	uint64_t seed;
	int allow_escape_directive; /* may start with "# escape=`" and use backtick continuations */
} bench_gen_opts;

/* Appends one Dockerfile generated from opts->seed to `out`; returns 0 or a BALE_E* code. */
int bench_corpus_generate_one(bale_buf *out, const bench_gen_opts *opts);

/* Generates `count` Dockerfiles from `seed` into `out` (which must be BENCH_CORPUS_INIT). */
int bench_corpus_generate(bench_corpus *out, size_t count, uint64_t seed);

/*
 * Appends `body` to `out` until it holds at least `size` bytes: a long file made of a realistic
 * body, for linearity and memory checks. `body` must end with a newline and hold no directive
 * other files would misread (generate it with allow_escape_directive off).
 */
int bench_corpus_repeat(bale_buf *out, const char *body, size_t body_len, size_t size);

/* Writes each file as DIR/NNNN/Dockerfile (DIR is created when missing). */
int bench_corpus_write(const bench_corpus *corpus, const char *dir);

void bench_corpus_release(bench_corpus *corpus);

#endif
