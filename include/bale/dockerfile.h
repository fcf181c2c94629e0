/*
 * bale/dockerfile.h: the Dockerfile front end.
 *
 * bale_dockerfile_parse() reads Dockerfile bytes the way BuildKit's parser does and returns a
 * syntax tree: parser directives (syntax, escape, check), then one bale_instruction per logical
 * line, with its flags, its arguments exactly as BuildKit's AST holds them (ENV and LABEL as
 * name, value, separator triples; HEALTHCHECK as type then command), its heredocs and its
 * position. Nothing is variable-expanded here; bale_dockerfile_stages() builds the stage model
 * on top (see below).
 *
 * Everything reachable from a bale_dockerfile belongs to it and lives until
 * bale_dockerfile_free(); the instruction array and strings are read-only views.
 */
#ifndef BALE_DOCKERFILE_H
#define BALE_DOCKERFILE_H

#include "common.h"
#include "buf.h"

typedef struct bale_dockerfile bale_dockerfile;

typedef enum bale_instr_kind {
	BALE_INSTR_UNKNOWN =
	    0, /* a word that is no instruction: BuildKit keeps it and ignores it */
	BALE_INSTR_ADD,
	BALE_INSTR_ARG,
	BALE_INSTR_CMD,
	BALE_INSTR_COPY,
	BALE_INSTR_ENTRYPOINT,
	BALE_INSTR_ENV,
	BALE_INSTR_EXPOSE,
	BALE_INSTR_FROM,
	BALE_INSTR_HEALTHCHECK,
	BALE_INSTR_LABEL,
	BALE_INSTR_MAINTAINER,
	BALE_INSTR_ONBUILD,
	BALE_INSTR_RUN,
	BALE_INSTR_SHELL,
	BALE_INSTR_STOPSIGNAL,
	BALE_INSTR_USER,
	BALE_INSTR_VOLUME,
	BALE_INSTR_WORKDIR,
} bale_instr_kind;

typedef struct bale_heredoc {
	const char *name;    /* the delimiter word, quotes removed */
	const char *content; /* the body as written, every line ending in "\n"; tabs kept */
	uint32_t fd;	     /* the file descriptor written before "<<", 0 when none */
	bool expand;	     /* false when any part of the delimiter was quoted */
	bool chomp;	     /* "<<-": leading tabs of body lines are to be stripped */
	uint32_t start_line; /* first body line (1-based) */
	uint32_t end_line;   /* the terminator's line */
} bale_heredoc;

typedef struct bale_instruction bale_instruction;
struct bale_instruction {
	bale_instr_kind kind;
	const char *name;     /* lower case, BuildKit's node value: "run", or the unknown word */
	const char *keyword;  /* the instruction word as written: "Run" */
	const char *original; /* the logical line: continuations joined, comment lines dropped */
	const char *const *flags; /* leading "--name=value" words as written, quotes removed */
	size_t nflags;
	const char *const *args; /* the arguments, as in BuildKit's AST (see above) */
	const size_t *arg_lens;	 /* their lengths: a JSON "\u0000" can put a NUL inside one */
	size_t nargs;
	bool json;		      /* the arguments came from a JSON array (exec form) */
	const bale_instruction *sub;  /* ONBUILD: the instruction it wraps; else NULL */
	const bale_heredoc *heredocs; /* RUN, COPY, ADD in shell form */
	size_t nheredocs;
	const char *const *comments; /* comment lines right before it, '#' and spaces trimmed */
	size_t ncomments;
	uint32_t start_line;	 /* 1-based */
	uint32_t start_col;	 /* 1-based column (in bytes) of the instruction word */
	uint32_t end_line;	 /* last line, heredoc bodies included */
	size_t start_offset;	 /* byte range of the instruction in the source: [start, end), */
	size_t end_offset;	 /* from the first line's start to after the last line's newline */
	bool empty_continuation; /* an empty line inside a continuation (BuildKit warns) */
};

typedef struct bale_directive {
	const char *name;  /* lower case: "syntax", "escape" or "check" */
	const char *value; /* as written, surrounding spaces trimmed */
	uint32_t line;
} bale_directive;

typedef struct bale_parse_opts {
	const char *filename; /* used in messages; "Dockerfile" when NULL */
	size_t max_size;      /* bytes; larger input is refused. 0: BALE_PARSE_DEFAULT_MAX_SIZE */
	size_t max_line;      /* bytes in one physical line. 0: BALE_PARSE_DEFAULT_MAX_LINE */
} bale_parse_opts;

#define BALE_PARSE_DEFAULT_MAX_SIZE ((size_t)16 << 20)
/* docker build refuses lines over 65535 bytes (Go's bufio.Scanner limit); so does bale. */
#define BALE_PARSE_DEFAULT_MAX_LINE ((size_t)65535)

/*
 * Parses `len` bytes. On success *out is a new tree (free with bale_dockerfile_free()).
 * Malformed input (what BuildKit rejects, NUL bytes, invalid UTF-8, lines or files over the
 * limits) gives BALE_EPARSE or BALE_ELIMIT with a message "FILE:LINE:COL: what is wrong".
 */
BALE_EXTERN(int)
bale_dockerfile_parse(bale_dockerfile **out, const char *data, size_t len,
		      const bale_parse_opts *opts);
BALE_EXTERN(void) bale_dockerfile_free(bale_dockerfile *df);

BALE_EXTERN(const bale_instruction *)
bale_dockerfile_instructions(const bale_dockerfile *df, size_t *count);
BALE_EXTERN(const bale_directive *)
bale_dockerfile_directives(const bale_dockerfile *df, size_t *count);
/* The escape character in force: '\\' or '`'. */
BALE_EXTERN(int) bale_dockerfile_escape(const bale_dockerfile *df);
BALE_EXTERN(const char *) bale_dockerfile_filename(const bale_dockerfile *df);
/* The source bytes as given (a BOM included), NUL-terminated. */
BALE_EXTERN(const char *) bale_dockerfile_source(const bale_dockerfile *df, size_t *len);
/* Memory held by the tree, in bytes (for benchmarks). */
BALE_EXTERN(size_t) bale_dockerfile_memory(const bale_dockerfile *df);

/* The instruction name in upper case ("RUN"); "" for BALE_INSTR_UNKNOWN. */
BALE_EXTERN(const char *) bale_instr_kind_name(bale_instr_kind kind);

/*
 * Appends BuildKit's AST dump of the tree to `out`: one S-expression per instruction, as
 * documented in shared/conformance/buildkit-dockerfile/README.md.
 */
BALE_EXTERN(int) bale_dockerfile_dump_buildkit(bale_buf *out, const bale_dockerfile *df);

#endif
