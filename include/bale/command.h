/*
 * bale/command.h: RUN scripts understood as shell, and the commands in them read for what they do.
 *
 * bale_cmd_parse() reads a POSIX shell script (with the bash forms Dockerfiles use: [[ ]],
 * $'..', <(..), function, |&, &>) and returns every simple command in it, flattened: those
 * joined by && || ; | & and newlines, those inside subshells, { } groups, if/while/until/for/
 * case, functions, command substitutions $(..) `..` <(..), the script strings of `sh -c`,
 * `su -c` and `eval`, and the heredoc scripts fed to a shell (`bash <<EOF`). A command nested in
 * another one records it as its `parent` and carries BALE_CMD_IN_* context bits.
 *
 * Each command has its words, its leading assignments and its redirections, each word with its
 * value (quotes removed, escapes applied, variables the caller knows expanded) and its raw text.
 * On top of that, bale reads the command as the tool it runs: prefixes such as sudo, env, nice,
 * time, xargs, timeout, python -m are unwrapped (`sudo -E apt-get` is apt-get), and the options
 * of known tools (apt-get, apk, pip, npm, curl, chmod, ...; see src/shell/tools.c) are parsed
 * from a table that says which options take a value, so `apt-get -o A=B install -y x=1` gives
 * subcommand "install", options -o=A=B and -y, and the operand "x=1". Package managers' install
 * operands are read as packages with their version pins (bale_pkg).
 *
 * Broken shell never fails the parse: what could be read is returned and
 * bale_cmd_script_error() says what was wrong and where. Nesting is bounded (max_depth).
 *
 * Ownership: everything reachable from a bale_cmd_script (commands, words, strings, packages)
 * belongs to it, is read-only, and lives until bale_cmd_script_free(). The input text is copied
 * where needed; the caller may free it after parsing.
 */
#ifndef BALE_COMMAND_H
#define BALE_COMMAND_H

#include "common.h"
#include "shell.h" /* bale_shell_lookup_fn */
#include "dockerfile.h"

typedef struct bale_cmd_script bale_cmd_script;

/* "No such command": the value of pipe_prev, pipe_next, parent when there is none. */
#define BALE_CMD_NONE		   SIZE_MAX
#define BALE_CMD_DEFAULT_MAX_DEPTH 48

/* Word flags. */
enum {
	BALE_WORD_DYNAMIC = 1u << 0,  /* the value depends on something unknown: a variable the
					 lookup does not know, $(..), $((..)), $1, $?, ... (value
					 keeps such parts as written) */
	BALE_WORD_QUOTED = 1u << 1,   /* some part was quoted or escaped */
	BALE_WORD_VAR = 1u << 2,      /* holds a parameter expansion ($V, ${V}, ${V:-x}, $1, ...) */
	BALE_WORD_EXPANDED = 1u << 3, /* a variable was replaced by the value the lookup gave */
	BALE_WORD_SUBST = 1u << 4,    /* holds a command or process substitution */
	BALE_WORD_ARITH = 1u << 5,    /* holds an arithmetic expansion $((..)) */
	BALE_WORD_GLOB = 1u << 6,     /* holds an unquoted * ? or [ (value keeps the pattern) */
	BALE_WORD_SPLIT = 1u << 7,    /* one of several fields an expanded value was split into */
};

typedef struct bale_cmd_word {
	const char *value; /* NUL-terminated; see the flags for what it holds */
	const char *raw;   /* the word as written, NUL-terminated (for bale_cmd_parse_instruction()
			      as in the logical line: Dockerfile continuations removed) */
	size_t len;	   /* of value */
	size_t raw_len;
	uint32_t line, col; /* of the word's first byte (1-based; col counts bytes) */
	uint32_t flags;	    /* BALE_WORD_* */
	/*
	 * Just after its last byte, on the line of that byte (a word cut by a Dockerfile line
	 * continuation ends on a later line than it starts). Equal to line:col where positions
	 * are not known (exec form).
	 */
	uint32_t end_line, end_col;
} bale_cmd_word;

typedef enum bale_cmd_redir_op {
	BALE_REDIR_IN,	       /* <   */
	BALE_REDIR_OUT,	       /* >   */
	BALE_REDIR_APPEND,     /* >>  */
	BALE_REDIR_CLOBBER,    /* >|  */
	BALE_REDIR_RDWR,       /* <>  */
	BALE_REDIR_DUP_IN,     /* <&  */
	BALE_REDIR_DUP_OUT,    /* >&  */
	BALE_REDIR_OUT_ERR,    /* &>  */
	BALE_REDIR_APPEND_ERR, /* &>> */
	BALE_REDIR_HEREDOC,    /* << and <<- */
	BALE_REDIR_HERESTRING, /* <<< */
} bale_cmd_redir_op;

typedef struct bale_cmd_heredoc {
	const char *body; /* the body as written, NUL-terminated, lines ending in "\n" */
	size_t len;
	uint32_t line;	 /* of the body's first line */
	bool quoted;	 /* the delimiter was quoted: no expansion in the body */
	bool strip_tabs; /* <<- */
	bool terminated; /* the delimiter line was found */
} bale_cmd_heredoc;

typedef struct bale_cmd_redir {
	bale_cmd_redir_op op;
	int fd;		      /* as written, else 0 for < <& <> << <<< and 1 for the rest */
	bale_cmd_word target; /* the file, descriptor, string, or heredoc delimiter */
	const bale_cmd_heredoc *heredoc; /* BALE_REDIR_HEREDOC only, else NULL */
} bale_cmd_redir;

/* What follows a command at its level: the operator after it, or after the construct it ends. */
typedef enum bale_cmd_connector {
	BALE_CONN_END = 0,    /* nothing */
	BALE_CONN_SEQ,	      /* ; or a newline */
	BALE_CONN_AND,	      /* && */
	BALE_CONN_OR,	      /* || */
	BALE_CONN_PIPE,	      /* | or |& */
	BALE_CONN_BACKGROUND, /* & */
} bale_cmd_connector;

/* Context bits: where a command sits. */
enum {
	BALE_CMD_IN_SUBST = 1u << 0,	  /* inside $(..), `..`, <(..) or >(..) */
	BALE_CMD_IN_SUBSHELL = 1u << 1,	  /* inside ( .. ) */
	BALE_CMD_IN_STRING = 1u << 2,	  /* from the script string of sh -c, su -c, eval */
	BALE_CMD_IN_HEREDOC = 1u << 3,	  /* from a heredoc script (RUN <<EOF, bash <<EOF) */
	BALE_CMD_IN_CONDITION = 1u << 4,  /* in the condition of if, elif, while, until */
	BALE_CMD_IN_BRANCH = 1u << 5,	  /* in a then/else branch or a case arm */
	BALE_CMD_IN_LOOP = 1u << 6,	  /* in the body of for, while, until, select */
	BALE_CMD_IN_FUNCTION = 1u << 7,	  /* in a function body (runs only when called) */
	BALE_CMD_IN_BACKGROUND = 1u << 8, /* in a list run with & */
	BALE_CMD_NEGATED = 1u << 9,	  /* in a pipeline negated with ! */
};

/* One option as the tool's table reads it. A cluster "-qy" gives "-q" and "-y". */
typedef struct bale_cmd_opt {
	const char *name;  /* "-y", "--no-install-recommends", "-o"; as written, without "=value" */
	const char *value; /* its argument (attached or the next word), NULL when it takes none */
	size_t word;	   /* index in words of the word it came from */
} bale_cmd_opt;

typedef enum bale_pkg_manager {
	BALE_PKG_APT,	   /* apt-get, apt, aptitude: name[:arch][=version] or name/release */
	BALE_PKG_APK,	   /* name[=~<>]version */
	BALE_PKG_PIP,	   /* PEP 508: name[extras]==1.0, >=, ~=, URLs, VCS, local files */
	BALE_PKG_NPM,	   /* npm, yarn, pnpm: [@scope/]name[@version], git URLs, tarballs, paths */
	BALE_PKG_GEM,	   /* name[:version] (or -v VERSION on the command) */
	BALE_PKG_RPM,	   /* dnf, yum, microdnf, tdnf: name-version[-release], *.rpm */
	BALE_PKG_ZYPPER,   /* name[=<>]version, *.rpm */
	BALE_PKG_GO,	   /* go install/get: module@version */
	BALE_PKG_CARGO,	   /* cargo install: crate[@version] (or --version) */
	BALE_PKG_CONDA,	   /* conda, mamba, micromamba: name[=version], name==, >=, ... */
	BALE_PKG_COMPOSER, /* composer require: vendor/name[:constraint] */
} bale_pkg_manager;

typedef enum bale_pkg_source {
	BALE_PKG_REGISTRY = 0, /* a name resolved by the manager's index */
	BALE_PKG_FILE,	       /* a local archive or directory (.deb, .whl, ./dir, ...) */
	BALE_PKG_URL,	       /* a URL or a VCS reference (git+https://..., git://...) */
} bale_pkg_source;

typedef struct bale_pkg {
	const char *spec;   /* the operand as given (the word's value) */
	const char *name;   /* within spec; not NUL-terminated: use name_len */
	size_t name_len;    /* pip: extras excluded; npm: the @scope/ included */
	const char *extras; /* pip "[a,b]" within spec (with brackets), else NULL */
	size_t extras_len;
	const char *version; /* the pin after `op` (within spec, or an option's value); NULL */
	size_t version_len;
	const char *op; /* "=", "==", ">=", "~=", "~", "@", ":", "/", "-", "-v", "--version"... */
	bale_pkg_source source;
	/*
	 * Pinned as the matching hadolint rule counts it (DL3008, DL3013, DL3016, DL3018, DL3028,
	 * DL3041, DL3037): apt "=", "/release" or a .deb; apk an operator holding "=" or "~" (not
	 * a bare "<" or ">") or a .apk; pip a version operator, a VCS URL with "@", a local file or
	 * path; npm "@version", a git URL with "#", a tarball or a folder; gem ":version" or -v;
	 * rpm (dnf, and yum too: stricter than hadolint's DL3033) name-<version>[-release] or a
	 * .rpm; zypper an operator or a .rpm; go "@version" other than @latest; cargo "@version"
	 * or --version; conda an operator; composer ":constraint".
	 */
	bool pinned;
	const bale_cmd_word *word; /* the operand word; NULL from bale_pkg_parse() */
} bale_pkg;

typedef struct bale_cmd bale_cmd;
struct bale_cmd {
	/* The simple command as written. */
	const bale_cmd_word *words; /* after the leading assignments; words[0] is what runs */
	size_t nwords;
	const bale_cmd_word *assigns; /* leading NAME=value words (value is "NAME=value") */
	size_t nassigns;
	const bale_cmd_redir *redirs;
	size_t nredirs;
	uint32_t line, col;	    /* of its first token */
	uint32_t end_line, end_col; /* just after its last token, on that token's line */
	bale_cmd_connector connector;
	size_t pipe_prev; /* the command whose output this one reads through |, or BALE_CMD_NONE */
	size_t pipe_next; /* the command reading this one's output through |, or BALE_CMD_NONE */
	size_t parent;	  /* the command this one is nested in (see above), or BALE_CMD_NONE */
	uint32_t context; /* BALE_CMD_IN_* */
	uint32_t depth;	  /* nesting of substitutions and script strings; 0 at top level */

	/* The command read as the tool it runs. */
	const char *name;	/* the tool: words[arg0] without its directory, normalized for known
				   tools ("pip" for pip3.11 and python -m pip, "gradle" for ./gradlew);
				   "" when there are no words */
	size_t arg0;		/* index in words of the tool's word (after sudo, env, ...) */
	const size_t *wrappers; /* indexes in words of the prefixes unwrapped (sudo, env, ...) */
	size_t nwrappers;
	const char *subcommand;	  /* canonical ("install" for npm i), NULL when none */
	size_t subcommand_word;	  /* its index in words, BALE_CMD_NONE when none */
	const bale_cmd_opt *opts; /* options after arg0, in order */
	size_t nopts;
	const bale_cmd_word *const *operands; /* non-option words after arg0 and the subcommand */
	size_t noperands;
	const bale_pkg *pkgs; /* packages, for a package manager's install-like subcommand */
	size_t npkgs;
	bool known_tool; /* bale has an option table for `name` */
};

typedef struct bale_cmd_opts {
	/*
	 * Values of variables (ARG and ENV): true with the value when known. false means unknown,
	 * not unset: the word keeps the reference and is flagged BALE_WORD_DYNAMIC. Assignments
	 * made by the script itself (X=1; ...) take precedence.
	 */
	bale_shell_lookup_fn lookup;
	void *lookup_ctx;
	uint32_t line, col; /* position of the script's first byte; 0 means 1 */
	unsigned max_depth; /* nesting bound; 0 means BALE_CMD_DEFAULT_MAX_DEPTH */
} bale_cmd_opts;

/*
 * Parses `len` bytes of shell. On success (even for broken shell: see bale_cmd_script_error())
 * *out is a new script; free it with bale_cmd_script_free(). Fails only with BALE_ENOMEM, or
 * BALE_EINVAL for a NULL argument. A NUL byte in the text is the script's error; the commands
 * before it are read, nothing after it, so no word holds a NUL.
 */
BALE_EXTERN(int)
bale_cmd_parse(bale_cmd_script **out, const char *script, size_t len, const bale_cmd_opts *opts);

/*
 * Parses what a RUN, CMD or ENTRYPOINT instruction (or ONBUILD of one) runs, as BuildKit runs
 * it: the exec form's words as one command; a heredoc-only line (`RUN <<EOF`) as its body's
 * script (none when a shebang names something other than a shell); otherwise the shell form
 * with its heredoc bodies. With `source` (bale_dockerfile_source(), `escape` from
 * bale_dockerfile_escape()) positions are lines and columns of the Dockerfile, across line
 * continuations; with source NULL they are approximated from the instruction's own position.
 * opts->line and opts->col are ignored. Fails with BALE_EINVAL for another instruction.
 */
BALE_EXTERN(int)
bale_cmd_parse_instruction(bale_cmd_script **out, const bale_instruction *instr, const char *source,
			   size_t source_len, int escape, const bale_cmd_opts *opts);

BALE_EXTERN(void) bale_cmd_script_free(bale_cmd_script *script);

/*
 * The commands, in the order they run: a substitution's commands before the command using
 * them, a script string's or heredoc script's commands after the command running them.
 */
BALE_EXTERN(const bale_cmd *)
bale_cmd_script_commands(const bale_cmd_script *script, size_t *count);

/*
 * The first syntax problem (unterminated quote, unbalanced parenthesis, nesting over the bound,
 * ...) with its position, or NULL when the script is well-formed.
 */
BALE_EXTERN(const char *)
bale_cmd_script_error(const bale_cmd_script *script, uint32_t *line, uint32_t *col);

/* Memory held by the script, in bytes (for benchmarks and memory bounds). */
BALE_EXTERN(size_t) bale_cmd_script_memory(const bale_cmd_script *script);

/* True when a heredoc script's shebang names an interpreter that is not a shell. */
BALE_EXTERN(bool) bale_cmd_script_not_shell(const bale_cmd_script *script);

/* True when the command's tool is `name` (after unwrapping and normalization, see `name`). */
BALE_EXTERN(bool) bale_cmd_is(const bale_cmd *cmd, const char *name);
/* True when the tool is one of the names; the list ends with NULL. */
BALE_EXTERN(bool) bale_cmd_is_any(const bale_cmd *cmd, ...);
/* The canonical subcommand ("install"), or NULL. */
BALE_EXTERN(const char *) bale_cmd_subcommand(const bale_cmd *cmd);
/* True when any of the option names (a NULL-terminated list, e.g. "-y", "--yes") was given. */
BALE_EXTERN(bool) bale_cmd_has_flag(const bale_cmd *cmd, ...);
/* The value of the last of the named options (NULL-terminated list) given, or NULL. */
BALE_EXTERN(const char *) bale_cmd_flag_value(const bale_cmd *cmd, ...);
BALE_EXTERN(const bale_cmd_word *const *) bale_cmd_operands(const bale_cmd *cmd, size_t *count);
/* True when an operand's value is `value`. */
BALE_EXTERN(bool) bale_cmd_has_operand(const bale_cmd *cmd, const char *value);
BALE_EXTERN(const bale_pkg *) bale_cmd_packages(const bale_cmd *cmd, size_t *count);
/* True when the tool was reached through the prefix `name` (e.g. "sudo"). */
BALE_EXTERN(bool) bale_cmd_has_wrapper(const bale_cmd *cmd, const char *name);
/*
 * The value given to variable `name` for this command: a leading assignment (NAME=v cmd) or an
 * `env NAME=v` prefix; NULL when none.
 */
BALE_EXTERN(const char *) bale_cmd_assignment(const bale_cmd *cmd, const char *name);

/* Reads `spec` (an install operand) as the package manager writes packages. */
BALE_EXTERN(void) bale_pkg_parse(bale_pkg *out, bale_pkg_manager manager, const char *spec);

#endif
