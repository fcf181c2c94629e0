/*
 * ShellCheck over RUN scripts, as hadolint does it, with findings on the right lines.
 *
 * Each shell-form RUN becomes a script: "#!<shell>" (SHELL's first word, /bin/sh by
 * default), an `export NAME=1` line for each ARG and ENV name in scope (and the proxy
 * variables) so they do not count as unassigned, then the instruction's own lines as they
 * stand in the Dockerfile: the keyword and flags blanked out so columns stay put, comment and
 * empty lines inside the continuation replaced by a lone "\" so the shell continues as
 * BuildKit does, heredoc bodies kept (they are shell heredocs too). A heredoc-only RUN
 * (`RUN <<EOF`) is its body, skipped when its "#!" names an interpreter that is not a shell.
 * All scripts of a file go to one shellcheck process, and each finding maps back to the
 * Dockerfile line and column. Codes 1090 and 2187 are excluded, as in hadolint; PowerShell
 * SHELLs are skipped; a file with `# escape=`` is skipped.
 */
#include "lint/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SHELLCHECK_OUTPUT_MAX ((size_t)64 << 20)

struct script {
	size_t instr;
	uint32_t first_line; /* the Dockerfile line of the script's first own line */
	uint32_t prelude;    /* lines before it: the shebang and the exports */
	char path[64];
};

static bool find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	bale_buf full = BALE_BUF_INIT;
	bool found = false;

	for (const char *p = path ? path : "/usr/bin:/bin"; !found && *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		bale_buf_reset(&full);
		bale_buf_addf(&full, "%.*s/%s", (int)len, len ? p : ".", name);
		found = !full.err && access(full.ptr, X_OK) == 0;
		p += len + (colon != NULL);
	}
	bale_buf_release(&full);
	return found;
}

/*
 * True when a "#!" line names a shell ShellCheck reads (sh, bash, dash, ksh, ash, mksh),
 * directly or through env: `RUN <<EOF` with `#!/usr/bin/env python3` is a Python script, and
 * ShellCheck would only answer that it cannot check it (SC1071).
 */
static bool shebang_is_shell(const char *content)
{
	static const char *const shells[] = {"sh", "bash", "dash", "ksh", "ash", "mksh", NULL};
	const char *p = content + 2, *end = content + strcspn(content, "\n");

	for (bool env = true; env;) {
		const char *word, *base;
		size_t len;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		word = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		len = (size_t)(p - word);
		if (len == 0)
			return false;
		base = word;
		for (const char *c = word; c < p; c++)
			if (*c == '/')
				base = c + 1;
		len = (size_t)(p - base);
		/* #!/usr/bin/env [-S] python3: the interpreter is the next word */
		env = (len == 3 && strncmp(base, "env", 3) == 0) ||
		      (*word == '-' && word != content + 2);
		if (env)
			continue;
		for (const char *const *sh = shells; *sh; sh++)
			if (strlen(*sh) == len && strncmp(base, *sh, len) == 0)
				return true;
		return false;
	}
	return false;
}

/* True when a RUN's shell-form text is nothing but heredoc openers (`<<EOF`, `<<-"X"`). */
static bool heredoc_only(const bale_instruction *ins)
{
	const char *s = ins->nargs ? ins->args[0] : "";

	if (!ins->nheredocs)
		return false;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (s[0] != '<' || s[1] != '<')
			return false;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return true;
}

/*
 * Appends the instruction's physical lines as a shell script (see the file comment). Returns
 * false when the text cannot be given to a shell as it stands.
 */
static void append_lines(bale_buf *out, const char *src, const bale_instruction *ins)
{
	size_t pos = ins->start_offset, end = ins->end_offset;
	bool first = true, in_flags = true, continues = true;

	while (pos < end) {
		const char *line = src + pos, *nl = memchr(line, '\n', end - pos);
		size_t len = nl ? (size_t)(nl - line) : end - pos, k = 0, e;

		pos += len + (nl != NULL);
		if (!continues) {
			/* Past the logical line: heredoc bodies, copied as they are. */
			bale_buf_add(out, line, len);
			bale_buf_addch(out, '\n');
			continue;
		}
		e = len;
		while (e > 0 && (line[e - 1] == '\r'))
			e--;
		while (k < e && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (!first && (k == e || line[k] == '#')) {
			bale_buf_adds(out, "\\\n");
			continue;
		}
		{
			size_t start = out->len;

			bale_buf_add(out, line, e);
			if (first) {
				/* Blank the keyword. */
				size_t w = k;

				while (w < e && line[w] != ' ' && line[w] != '\t')
					out->ptr[start + w++] = ' ';
				k = w;
			}
			/* Blank leading --flag words (they may continue on later lines). */
			while (in_flags) {
				size_t w;

				while (k < e && (line[k] == ' ' || line[k] == '\t'))
					k++;
				if (k + 1 >= e || line[k] != '-' || line[k + 1] != '-') {
					if (k < e && !(line[k] == '\\' && k + 1 >= e))
						in_flags = false;
					break;
				}
				for (w = k; w < e && line[w] != ' ' && line[w] != '\t'; w++)
					out->ptr[start + w] = ' ';
				k = w;
			}
		}
		/* Does the line continue? The escape character last, blanks after it dropped. */
		{
			size_t t = out->len;

			while (t > 0 && (out->ptr[t - 1] == ' ' || out->ptr[t - 1] == '\t'))
				t--;
			continues =
			    t > 0 && out->ptr[t - 1] == '\\' && !(t > 1 && out->ptr[t - 2] == '\\');
			if (continues)
				bale_buf_truncate(out, t);
		}
		bale_buf_addch(out, '\n');
		first = false;
	}
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return bale_error_set(BALE_EIO, "cannot create '%s': %s", path, strerror(errno));
	while (len && rc == 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = bale_error_set(BALE_EIO, "cannot write '%s': %s", path,
					    strerror(errno));
		else {
			data += n;
			len -= (size_t)n;
		}
	}
	close(fd);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * Runs shellcheck on the files; its JSON goes to `out`. One that has not finished after
 * `timeout` seconds is killed: some inputs (a thousand nested subshells) take it minutes.
 */
static int run_shellcheck(bale_buf *out, const struct script *scripts, size_t n, unsigned timeout)
{
	int64_t deadline = now_ms() + (int64_t)timeout * 1000;
	char **argv = calloc(n + 6, sizeof(*argv));
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, rc = 0;
	size_t a = 0;
	pid_t pid;

	if (!argv)
		return bale_error_oom();
	argv[a++] = "shellcheck";
	argv[a++] = "--format=json1";
	argv[a++] = "--exclude=SC1090,SC2187";
	argv[a++] = "--";
	for (size_t i = 0; i < n; i++)
		argv[a++] = (char *)scripts[i].path;
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		free(argv);
		return bale_error_set(BALE_EIO, "cannot run shellcheck: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (posix_spawnp(&pid, "shellcheck", &fa, NULL, argv, environ) != 0) {
		rc = bale_error_set(BALE_EIO, "cannot run shellcheck: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto out;
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t got;
		int ready;

		/* At most a day (the configuration's limit), so it fits poll()'s int. */
		if (left <= 0 || (ready = poll(&pfd, 1, (int)left)) == 0) {
			rc = bale_error_set(BALE_ELIMIT,
					    "shellcheck did not finish within %u s and was stopped "
					    "(shellcheck-timeout)",
					    timeout);
			break;
		}
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			rc = bale_error_set(BALE_EIO, "cannot read shellcheck's output: %s",
					    strerror(errno));
			break;
		}
		if (bale_buf_grow(out, 65536) != 0) {
			rc = out->err;
			break;
		}
		got = read(pipefd[0], out->ptr + out->len, out->alloc - out->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		out->len += (size_t)got;
		out->ptr[out->len] = '\0';
		if (out->len > SHELLCHECK_OUTPUT_MAX) {
			rc = bale_error_set(BALE_ELIMIT, "shellcheck printed too much");
			break;
		}
	}
	/* Given up on (too slow, too much output, out of memory): not waited for to its end. */
	if (rc)
		kill(pid, SIGKILL);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status) > 1))
		rc = bale_error_set(BALE_EIO, "shellcheck failed (exit status %d)",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
out:
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	return rc;
}

static bale_severity level_severity(const char *level)
{
	if (strcmp(level, "warning") == 0)
		return BALE_SEV_WARNING;
	if (strcmp(level, "info") == 0)
		return BALE_SEV_INFO;
	if (strcmp(level, "style") == 0)
		return BALE_SEV_STYLE;
	return BALE_SEV_ERROR;
}

static void report_comments(struct lint_ctx *ctx, const char *json, size_t len,
			    const struct script *scripts, size_t n)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr), *comments;
	size_t i;
	json_t *c;

	if (!root) {
		ctx->err =
		    bale_error_set(BALE_EIO, "cannot read shellcheck's output: %s", jerr.text);
		return;
	}
	comments = json_object_get(root, "comments");
	json_array_foreach(comments, i, c)
	{
		const char *file = json_string_value(json_object_get(c, "file"));
		const char *level = json_string_value(json_object_get(c, "level"));
		const char *msg = json_string_value(json_object_get(c, "message"));
		json_int_t line = json_integer_value(json_object_get(c, "line"));
		json_int_t col = json_integer_value(json_object_get(c, "column"));
		json_int_t code = json_integer_value(json_object_get(c, "code"));
		const struct script *s = NULL;
		char id[32], name[48], summary[64], fix[96];
		bale_rule tmpl = {0};
		const bale_rule *rule;

		for (size_t k = 0; file && k < n && !s; k++)
			if (strcmp(scripts[k].path, file) == 0)
				s = &scripts[k];
		if (!s || !level || !msg || line <= (json_int_t)s->prelude)
			continue;
		snprintf(id, sizeof(id), "SC%lld", (long long)code);
		snprintf(name, sizeof(name), "shellcheck-sc%lld", (long long)code);
		snprintf(summary, sizeof(summary), "ShellCheck SC%lld", (long long)code);
		snprintf(fix, sizeof(fix), "see https://www.shellcheck.net/wiki/SC%lld",
			 (long long)code);
		tmpl.id = id;
		tmpl.name = name;
		tmpl.severity = level_severity(level);
		tmpl.summary = summary;
		tmpl.fix = fix;
		tmpl.category = "shellcheck";
		if (bale_findings_intern_rule(ctx->findings, &tmpl, &rule) != 0) {
			ctx->err = BALE_ENOMEM;
			break;
		}
		lint_report(ctx, rule, s->instr,
			    s->first_line + (uint32_t)(line - (json_int_t)s->prelude) - 1,
			    col > 0 ? (uint32_t)col : 1, "%s", msg);
	}
	json_decref(root);
}

int lint_shellcheck(struct lint_ctx *ctx)
{
	static const char *const proxies[] = {"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
					      "https_proxy", "FTP_PROXY",  "ftp_proxy",
					      "NO_PROXY",    "no_proxy"};
	char dir[] = "/tmp/bale-shellcheck-XXXXXX";
	struct script *scripts = NULL;
	size_t nscripts = 0, src_len;
	const char *src = bale_dockerfile_source(ctx->df, &src_len);
	const char *shell = "/bin/sh";
	size_t shell_len = 7;
	bale_buf vars = BALE_BUF_INIT, text = BALE_BUF_INIT, json = BALE_BUF_INIT;
	int rc = 0;

	if (ctx->cfg->shellcheck == 0 || bale_dockerfile_escape(ctx->df) != '\\' ||
	    !find_in_path("shellcheck"))
		return 0;
	scripts = calloc(ctx->ninstrs ? ctx->ninstrs : 1, sizeof(*scripts));
	if (!scripts)
		return bale_error_oom();
	if (!mkdtemp(dir)) {
		free(scripts);
		return bale_error_set(BALE_EIO, "cannot create a temporary directory: %s",
				      strerror(errno));
	}
	for (size_t i = 0; i < ctx->ninstrs && !rc; i++) {
		const bale_instruction *ins = &ctx->instrs[i];
		uint32_t nvars = 0;

		switch (ins->kind) {
		case BALE_INSTR_FROM:
			shell = "/bin/sh";
			shell_len = 7;
			bale_buf_reset(&vars);
			continue;
		case BALE_INSTR_SHELL:
			if (ins->json && ins->nargs > 0) {
				shell = ins->args[0];
				shell_len = strlen(shell);
			}
			continue;
		case BALE_INSTR_ARG:
			for (size_t a = 0; a < ins->nargs; a++)
				bale_buf_addf(&vars, "%.*s\n", (int)strcspn(ins->args[a], "="),
					      ins->args[a]);
			continue;
		case BALE_INSTR_ENV:
			for (size_t a = 0; a < ins->nargs; a += 3)
				bale_buf_addf(&vars, "%s\n", ins->args[a]);
			continue;
		case BALE_INSTR_RUN:
			break;
		default:
			continue;
		}
		if (ins->json || strstr(shell, "pwsh") || strstr(shell, "powershell") ||
		    strstr(shell, "cmd"))
			continue;
		bale_buf_reset(&text);
		bale_buf_addf(&text, "#!%.*s\n", (int)shell_len, shell);
		for (size_t p = 0; p < BALE_ARRAY_SIZE(proxies); p++, nvars++)
			bale_buf_addf(&text, "export %s=1\n", proxies[p]);
		for (const char *v = vars.ptr; *v;) {
			const char *nl = strchr(v, '\n');
			size_t vl = (size_t)(nl - v);
			bool ok = vl > 0;

			for (size_t c = 0; c < vl; c++)
				ok &= (v[c] >= 'A' && v[c] <= 'Z') ||
				      (v[c] >= 'a' && v[c] <= 'z') ||
				      (v[c] >= '0' && v[c] <= '9') || v[c] == '_';
			if (ok) {
				bale_buf_addf(&text, "export %.*s=1\n", (int)vl, v);
				nvars++;
			}
			v = nl + 1;
		}
		scripts[nscripts].instr = i;
		scripts[nscripts].prelude = 1 + nvars;
		if (heredoc_only(ins)) {
			const bale_heredoc *h = &ins->heredocs[0];

			if (strncmp(h->content, "#!", 2) == 0) {
				if (!shebang_is_shell(h->content))
					continue;
				/* The body names its interpreter: use that line instead of ours. */
				bale_buf_reset(&text);
				scripts[nscripts].prelude = 0;
			}
			bale_buf_adds(&text, h->content);
			scripts[nscripts].first_line = h->start_line;
		} else {
			append_lines(&text, src, ins);
			scripts[nscripts].first_line = ins->start_line;
		}
		snprintf(scripts[nscripts].path, sizeof(scripts[nscripts].path), "%s/%zu.sh", dir,
			 i);
		if (text.err)
			rc = text.err;
		else if ((rc = write_file(scripts[nscripts].path, text.ptr, text.len)) == 0)
			nscripts++;
	}
	if (!rc && nscripts &&
	    (rc = run_shellcheck(&json, scripts, nscripts, ctx->cfg->shellcheck_timeout)) == 0)
		report_comments(ctx, json.ptr, json.len, scripts, nscripts);
	for (size_t i = 0; i < nscripts; i++)
		unlink(scripts[i].path);
	rmdir(dir);
	free(scripts);
	bale_buf_release(&vars);
	bale_buf_release(&text);
	bale_buf_release(&json);
	return rc;
}
