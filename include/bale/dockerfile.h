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

/* Where a piece of an instruction's `original` text came from in the source. */
typedef struct bale_line_piece {
	size_t off;	    /* of the piece's first byte in `original` */
	uint32_t line, col; /* its source line and 1-based byte column */
} bale_line_piece;

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
	/*
	 * RUN, CMD, ENTRYPOINT and ONBUILD: the physical lines `original` was joined from, one
	 * piece each, in order (in the tree's memory), so the shell parser can place a word
	 * without joining the lines again. NULL (0 pieces) for other instructions.
	 */
	const bale_line_piece *pieces;
	size_t npieces;
};

typedef struct bale_directive {
	const char *name;  /* lower case: "syntax", "escape" or "check" */
	const char *value; /* as written, surrounding spaces trimmed */
	uint32_t line;
} bale_directive;

typedef struct bale_parse_opts {
	const char *filename; /* used in messages; "Dockerfile" when NULL */
	size_t max_size;      /* bytes; larger input is refused. 0: BALE_PARSE_DEFAULT_MAX_SIZE */
	size_t max_line;      /* bytes in one physical line (BuildKit's limit too; a
			       * logical line joined from several is not limited). 0: the default */
} bale_parse_opts;

#define BALE_PARSE_DEFAULT_MAX_SIZE ((size_t)16 << 20)
/* docker build refuses lines over 65535 bytes (Go's bufio.Scanner limit); so does bale. */
#define BALE_PARSE_DEFAULT_MAX_LINE ((size_t)65535)

/*
 * Parses `len` bytes. On success *out is a new tree (free with bale_dockerfile_free()). The
 * tree borrows `data`: it must stay alive and unchanged until the tree is freed (bale keeps no
 * copy of the input, which would double the memory a large file needs).
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
/* The source bytes as given (a BOM included): the caller's `data`, not NUL-terminated. */
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

/* ============================================================================================
 * The typed instruction layer and the stage model.
 *
 * bale_dockerfile_stages() does on a parsed tree what BuildKit does before it builds: it reads
 * each instruction's flags and arguments into a typed bale_command (BuildKit's
 * instructions.Parse, with its checks and messages: unknown or repeated flags, bad --mount
 * values, FROM with a wrong argument count, ONBUILD ONBUILD, SHELL not in JSON form, ...), then
 * builds the stages: the global ARGs before the first FROM (defaults and --build-arg values),
 * each stage's name, base (an earlier stage, scratch or an image) and platform, the ARG and ENV
 * scope inside every stage, the dependency graph (FROM <stage>, COPY --from, RUN --mount=from,
 * and the COPY/mount of ONBUILD triggers a stage inherits from its base stage), the target and
 * the stages it reaches.
 *
 * A bale_stages borrows the bale_dockerfile it was built from: free the stages first. Every
 * array and string reachable from it belongs to it and lives until bale_stages_free(). Indexes
 * of instructions are indexes into bale_dockerfile_instructions(). Once built it is only read
 * (the expansion functions included), so several threads may use it at once.
 * ============================================================================================ */

#include "shell.h" /* bale_words */

typedef struct bale_stages bale_stages;

#define BALE_NO_STAGE SIZE_MAX

/* One flag as BuildKit's BFlags read it: "--link" has no value, "--link=false" has one. */
typedef struct bale_flag {
	const char *name;  /* without the leading "--" */
	const char *value; /* NULL for a bare boolean flag */
} bale_flag;

/* ENV and LABEL: key and value. ARG: name and default (value NULL when it has none). */
typedef struct bale_kv {
	const char *key;
	const char *value;
	bool legacy; /* ENV/LABEL written "key value", without "=" */
} bale_kv;

typedef enum bale_mount_type {
	BALE_MOUNT_BIND = 0, /* the default */
	BALE_MOUNT_CACHE,
	BALE_MOUNT_TMPFS,
	BALE_MOUNT_SECRET,
	BALE_MOUNT_SSH,
} bale_mount_type;

typedef enum bale_mount_sharing {
	BALE_SHARING_SHARED = 0, /* the default */
	BALE_SHARING_PRIVATE,
	BALE_SHARING_LOCKED,
} bale_mount_sharing;

/*
 * One RUN --mount, read as BuildKit reads it (CSV fields "key=value"; keys are case-insensitive;
 * ro/rw/required may stand alone). Values are as written: BuildKit expands variables in them when
 * it runs the stage, so a value holding "$" is kept as written and, when it is a number, a
 * boolean or an enumeration, left unset with `unresolved` true.
 */
typedef struct bale_mount {
	const char *raw; /* the --mount value as written */
	/* Its CSV fields: key in lower case, value as written (NULL for a bare "ro" etc.). */
	const bale_kv *fields;
	size_t nfields;
	bale_mount_type type;
	const char *from;   /* from=: a stage name or an image; NULL when absent */
	const char *source; /* source= / src=; NULL when absent */
	/*
	 * target= / dst= / destination=. When absent: a secret without env= gets
	 * "/run/secrets/<id>" (target_defaulted); otherwise NULL.
	 */
	const char *target;
	/*
	 * id=. When absent: a cache mount uses its target (cleaned), a secret its source or the
	 * base name of its target, an ssh mount "default" (id_defaulted); otherwise NULL.
	 */
	const char *id;
	const char *env; /* secret: the environment variable it is exposed as; NULL when absent */
	bool target_defaulted;
	bool id_defaulted;
	bool readonly;		    /* ro / rw; defaults to true for bind, secret and ssh */
	bool required;		    /* secret and ssh */
	bale_mount_sharing sharing; /* cache */
	bool has_mode, has_uid, has_gid, has_size;
	uint32_t mode; /* octal in the source */
	uint32_t uid, gid;
	int64_t size;	 /* tmpfs size= in bytes */
	bool unresolved; /* a field holds a variable: see above */
} bale_mount;

/* One RUN --device (BuildKit labs): a CDI device name. */
typedef struct bale_device {
	const char *name;
	bool required;
} bale_device;

/* An inline file of COPY/ADD: a heredoc used as a source. */
typedef struct bale_copy_content {
	const char *name; /* the heredoc name: the file name at the destination */
	const char *data; /* the body; tabs stripped for "<<-" */
	bool expand;	  /* variables in the body are expanded (the delimiter was not quoted) */
} bale_copy_content;

typedef enum bale_health_type {
	BALE_HEALTH_NONE = 0, /* HEALTHCHECK NONE */
	BALE_HEALTH_CMD,      /* exec form */
	BALE_HEALTH_CMD_SHELL /* shell form: the command is one string run by the shell */
} bale_health_type;

typedef struct bale_healthcheck {
	bale_health_type type;
	const char *const *test; /* the command after CMD */
	size_t ntest;
	/* Durations in nanoseconds; 0 when not given (or given as 0): the engine's default. */
	int64_t interval, timeout, start_period, start_interval;
	int retries; /* 0 when not given */
} bale_healthcheck;

/*
 * The typed view of one instruction. `node` is the parser's node; the parts that apply to its
 * kind are filled, the others are zero. Strings are as written (no variable expansion).
 */
typedef struct bale_command bale_command;
struct bale_command {
	const bale_instruction *node;
	bale_instr_kind kind;
	const bale_flag *flags; /* the flags in source order, as BFlags parsed them */
	size_t nflags;
	struct {			     /* FROM */
		const char *image;	     /* the base word as written */
		const char *name;	     /* AS name in lower case; NULL when unnamed */
		const char *name_as_written; /* AS name as written */
		const char *platform;	     /* --platform; NULL when absent */
	} from;
	struct { /* RUN */
		const bale_mount *mounts;
		size_t nmounts;
		const bale_device *devices;
		size_t ndevices;
		const char *network;  /* "default", "none" or "host" */
		const char *security; /* "sandbox" or "insecure" */
	} run;
	struct {			 /* RUN, CMD, ENTRYPOINT, SHELL */
		const char *const *args; /* the JSON elements, or the shell-form string */
		size_t nargs;
		bool prepend_shell; /* shell form: the SHELL runs args[0] */
	} cmdline;
	struct {			    /* COPY and ADD */
		const char *const *sources; /* source paths (heredoc sources are in contents) */
		size_t nsources;
		const bale_copy_content *contents;
		size_t ncontents;
		const char *dest;
		const char *from;	     /* COPY --from; NULL when absent */
		const char *chown;	     /* NULL when absent */
		const char *chmod;	     /* NULL when absent */
		const char *checksum;	     /* ADD --checksum; NULL when absent */
		const char *const *excludes; /* --exclude patterns */
		size_t nexcludes;
		bool link, parents;
		bool keep_git_dir; /* ADD */
		int unpack;	   /* ADD --unpack: -1 when absent, else 0 or 1 */
	} copy;
	struct { /* ENV, LABEL, ARG */
		const bale_kv *v;
		size_t n;
	} pairs;
	bale_healthcheck health; /* HEALTHCHECK */
	struct {		 /* EXPOSE ports, VOLUME paths */
		const char *const *v;
		size_t n;
	} list;
	const char *value;		/* USER, WORKDIR, STOPSIGNAL, MAINTAINER */
	struct {			/* ONBUILD */
		const char *expression; /* the trigger as written, "ONBUILD" removed */
		/*
		 * The trigger's typed view; NULL when it does not parse, with `error` saying why
		 * (BuildKit reports that only when a stage built on this one runs the trigger).
		 */
		const bale_command *trigger;
		const char *error;
	} onbuild;
};

/* How a stage names something it builds on. */
typedef enum bale_ref_kind {
	BALE_REF_IMAGE = 1,   /* an image reference */
	BALE_REF_SCRATCH,     /* the empty image */
	BALE_REF_STAGE,	      /* an earlier stage: an edge of the graph */
	BALE_REF_LATER_STAGE, /* this stage or a later one: no edge; BuildKit fails to build it */
} bale_ref_kind;

typedef enum bale_ref_via {
	BALE_VIA_FROM = 0, /* the stage's base */
	BALE_VIA_COPY,	   /* COPY --from */
	BALE_VIA_MOUNT,	   /* RUN --mount=from= */
} bale_ref_via;

typedef struct bale_stage_ref {
	bale_ref_kind kind;
	bale_ref_via via;
	bool onbuild;	    /* from an ONBUILD trigger of the base stage, run in this stage */
	const char *name;   /* as written; for FROM, after ARG expansion */
	size_t stage;	    /* STAGE, LATER_STAGE: the stage named; else BALE_NO_STAGE */
	size_t instruction; /* the FROM, COPY, RUN or ONBUILD holding it */
	size_t mount;	    /* BALE_VIA_MOUNT: which mount of the RUN */
} bale_stage_ref;

/* An ARG or ENV definition, in a stage's scope or among the global ARGs. */
typedef struct bale_var {
	const char *name;
	const char *value; /* after expansion; NULL: an ARG declared without any value */
	const char *word;  /* the value as written (ARG default, ENV value); NULL when none */
	size_t instruction;
	bool is_env;
	bool from_build_arg; /* the value is the --build-arg value */
	bool from_global;    /* an ARG without default that took the global ARG's value */
	bool onbuild;	     /* defined by an ONBUILD trigger of the base stage */
} bale_var;

typedef struct bale_stage {
	size_t index;
	const char *name;	     /* lower case; NULL when unnamed */
	const char *name_as_written; /* NULL when unnamed */
	size_t instruction;	     /* the FROM */
	size_t end;		     /* one past the stage's last instruction */
	const char *base_word;	     /* the FROM word as written */
	bale_stage_ref base;	     /* base.name is the word expanded with the global ARGs */
	const char *platform;	     /* --platform as written; NULL when absent */
	const char *platform_value;  /* expanded with the global ARGs; NULL when absent */
	const bale_stage_ref *refs;  /* inherited ONBUILD ones first, then COPY/mount in order */
	size_t nrefs;
	const size_t *deps; /* the stages it depends on (base and refs), ascending, unique */
	size_t ndeps;
	const bale_var *vars; /* its ARG and ENV definitions in order (inherited ones excluded) */
	size_t nvars;
	bool reachable;	       /* the target needs it (the target itself included) */
	bool base_env_unknown; /* its FROM chain ends in an image, whose ENV bale cannot see */
} bale_stage;

typedef struct bale_build_arg {
	const char *name;
	const char *value;
} bale_build_arg;

typedef struct bale_stage_opts {
	const bale_build_arg *build_args; /* --build-arg values; they override ARG defaults */
	size_t nbuild_args;
	const char *target; /* --target: a stage name (any case); NULL: the last stage */
	/* The platform "os/arch[/variant]" of BUILDPLATFORM and TARGETPLATFORM; NULL: the host's.
	 */
	const char *platform;
} bale_stage_opts;

/*
 * Builds the typed view and the stage model of `df` (`opts` may be NULL). What BuildKit rejects
 * gives BALE_EPARSE with "FILE:LINE:COL: message" in BuildKit's words; an unknown target
 * gives BALE_EINVAL. On success *out is new; free it with bale_stages_free().
 */
BALE_EXTERN(int)
bale_dockerfile_stages(bale_stages **out, const bale_dockerfile *df, const bale_stage_opts *opts);
BALE_EXTERN(void) bale_stages_free(bale_stages *stages);

/* The typed view of every instruction, parallel to bale_dockerfile_instructions(). */
BALE_EXTERN(const bale_command *) bale_stages_commands(const bale_stages *stages, size_t *count);
BALE_EXTERN(const bale_stage *) bale_stages_list(const bale_stages *stages, size_t *count);
/* The ARGs before the first FROM, with their effective values. */
BALE_EXTERN(const bale_var *) bale_stages_global_args(const bale_stages *stages, size_t *count);
/* The index of the target stage. */
BALE_EXTERN(size_t) bale_stages_target(const bale_stages *stages);
/* The stage holding instruction `index`; BALE_NO_STAGE for the global ARGs. */
BALE_EXTERN(size_t) bale_stages_stage_of(const bale_stages *stages, size_t index);
/* The stage named `name` (any case), as COPY --from finds it; BALE_NO_STAGE when none. */
BALE_EXTERN(size_t) bale_stages_find(const bale_stages *stages, const char *name);

/*
 * Word expansion in the scope BuildKit uses for instruction `index`: the global ARGs (and the
 * automatic platform ARGs) for FROM and the global ARGs, else the stage's ARGs and ENVs defined
 * before the instruction, those of its base stages included.
 *
 * Each expanded word says what it is (`field`: "base", "platform", "arg_value", "env_key",
 * "env_value", "label_key", "label_value", "chown", "checksum", "source", "dest", "content",
 * "path", "user", "volume", "signal", "port", "mount.<key>" with the key's canonical name:
 * mount.source, mount.target, mount.readonly, ...), which item it belongs to (the pair, source,
 * mount or port number) and its text before and after expansion.
 *
 * `used` lists every variable the words read, once each; `undefined` those of them that no
 * ARG or ENV in scope defines (an ARG declared without value counts as defined, as BuildKit's
 * UndefinedVar check has it; PATH is always defined). In a stage whose base_env_unknown is set,
 * the base image may define what is listed as undefined.
 */
typedef struct bale_expanded_word {
	const char *field; /* static string */
	size_t item;
	const char *word; /* as written; owned by the tree or the stages */
	/*
	 * Owned by the bale_expansion, to be read only: `word` itself when the word expands to
	 * itself (most do: no copy is made), else malloc'd.
	 */
	char *value;
} bale_expanded_word;

typedef struct bale_expansion {
	bale_expanded_word *words;
	size_t nwords, alloc;
	bale_words used;
	bale_words undefined;
} bale_expansion;

#define BALE_EXPANSION_INIT                                                                        \
	{                                                                                          \
		NULL, 0, 0, BALE_WORDS_INIT, BALE_WORDS_INIT                                       \
	}
BALE_EXTERN(void) bale_expansion_release(bale_expansion *exp);

/*
 * Expands the words of instruction `index` that BuildKit expands for its kind (see above),
 * appending them to `out` (and the variables read to out->used / out->undefined). Instructions
 * BuildKit does not expand (RUN's command, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD,
 * MAINTAINER) add nothing. A malformed word gives BALE_EPARSE naming the instruction.
 */
BALE_EXTERN(int)
bale_stages_expand_instruction(bale_expansion *out, const bale_stages *stages, size_t index);
/*
 * Only the out->undefined part of bale_stages_expand_instruction(): appends to `out` the names
 * the instruction reads that no ARG or ENV defines, each once. Cheaper, as no word is kept.
 */
BALE_EXTERN(int)
bale_stages_undefined_vars(bale_words *out, const bale_stages *stages, size_t index);
/*
 * Expands one `word` as if it stood in instruction `index` (one word, no field splitting).
 * *out is malloc'd. Variables read are added to `vars` when it is not NULL.
 */
BALE_EXTERN(int)
bale_stages_expand_word(char **out, const bale_stages *stages, size_t index, const char *word,
			bale_expansion *vars);
/* The same with field splitting (as EXPOSE does); the words are appended to `out`. */
BALE_EXTERN(int)
bale_stages_expand_fields(bale_words *out, const bale_stages *stages, size_t index,
			  const char *word, bale_expansion *vars);

/*
 * Appends the JSON document of `bale parse` (docs/parse-json.md) to `out`: the file, its
 * directives and every instruction; with `stages` (may be NULL) also each instruction's typed
 * view and the stage model.
 */
#define BALE_JSON_PRETTY 1u
BALE_EXTERN(int)
bale_dockerfile_to_json(bale_buf *out, const bale_dockerfile *df, const bale_stages *stages,
			unsigned flags);

/* Receives a piece of output; returns 0 or a negative BALE_E* code with its message set. */
typedef int (*bale_write_fn)(void *ctx, const char *data, size_t len);

/*
 * The same document handed to `write` in pieces of about 64 KiB as it is produced, so memory
 * stays small however large the document (it is about ten times the Dockerfile). A `write`
 * error stops the output and is returned.
 */
BALE_EXTERN(int)
bale_dockerfile_write_json(bale_write_fn write, void *ctx, const bale_dockerfile *df,
			   const bale_stages *stages, unsigned flags);

#endif
