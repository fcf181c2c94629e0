/*
 * checks_config.c: the config (AU1xxx) and the history (AU2xxx). The history is where build
 * tools record what each step ran: buildah and docker write `|N NAME=value ... /bin/sh -c CMD`
 * for every RUN after an ARG, so a build argument's value is in every one of those entries;
 * it is reported once, at the first.
 */
#include "audit/internal.h"
#include "secrets/secrets.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool user_is_root(const char *user)
{
	size_t n;

	if (!user || !*user)
		return true;
	n = strcspn(user, ":");
	return (n == 4 && strncmp(user, "root", 4) == 0) || (n == 1 && user[0] == '0');
}

/* "/proc", "/sys", "/dev" or below them. */
static bool sensitive_volume(const char *v)
{
	static const char *const roots[] = {"/proc", "/sys", "/dev"};

	while (v[0] == '/' && v[1] == '/')
		v++;
	for (size_t i = 0; i < BALE_ARRAY_SIZE(roots); i++) {
		size_t n = strlen(roots[i]);

		if (strncmp(v, roots[i], n) == 0 && (v[n] == '\0' || v[n] == '/'))
			return true;
	}
	return false;
}

/*
 * Whether NAME=value holds a credential: a literal assigned to a name that reads as one, or
 * a value with a credential's shape. The secret is value[*start, *start + *slen).
 */
static bool secret_value(const char *name, size_t name_len, const char *value, size_t len,
			 size_t *start, size_t *slen, const char **what)
{
	bale_secret_match m;

	if (bale_secret_find(value, len, 0, &m)) {
		*start = m.start;
		*slen = m.len;
		*what = m.what;
		return true;
	}
	if (len && bale_secret_name(name, name_len) &&
	    bale_secret_assignment(name, name_len, value, len)) {
		*start = 0;
		*slen = len;
		*what = "a literal credential";
		return true;
	}
	return false;
}

static int check_pairs(struct audit *a, enum audit_rule rule, const char *key, const char *name,
		       size_t name_len, const char *value, size_t len)
{
	size_t start, slen;
	const char *what;
	int rc;

	if (!secret_value(name, name_len, value, len, &start, &slen, &what))
		return 0;
	bale_buf_reset(&a->path);
	bale_buf_addf(&a->path, "config:%s.", key);
	bale_buf_add(&a->path, name, name_len);
	bale_buf_reset(&a->content);
	audit_add_masked(&a->content, value + start, slen);
	if (a->path.err || a->content.err)
		return bale_error_oom();
	rc = audit_emit(a, rule, -1, a->path.ptr, "%s %.*s holds %s: %s", key, (int)name_len, name,
			what, a->content.ptr);
	return rc;
}

int audit_check_config(struct audit *a, const bale_image_config *c)
{
	int rc = 0;

	if (!c)
		return 0;
	if (user_is_root(c->user))
		rc = audit_emit(a, R_USER_ROOT, -1, "config:User",
				c->user && *c->user ? "the image runs as '%s'"
						    : "the image has no User: it runs as root%s",
				c->user && *c->user ? c->user : "");
	if (!rc && (!c->healthcheck ||
		    (c->healthcheck->ntest && strcmp(c->healthcheck->test[0], "NONE") == 0)))
		rc = audit_emit(a, R_HEALTHCHECK_MISSING, -1, "config:Healthcheck",
				c->healthcheck ? "the HEALTHCHECK is disabled (NONE)"
					       : "the image has no HEALTHCHECK");
	for (size_t i = 0; i < c->nexposed_ports && !rc; i++) {
		const char *p = c->exposed_ports[i];

		if (strcmp(p, "22") == 0 || strcmp(p, "22/tcp") == 0) {
			bale_buf_reset(&a->path);
			bale_buf_addf(&a->path, "config:ExposedPorts.%s", p);
			rc = a->path.err ? bale_error_oom()
					 : audit_emit(a, R_EXPOSED_SSH_PORT, -1, a->path.ptr,
						      "the image exposes port %s (SSH)", p);
		}
	}
	for (size_t i = 0; i < c->nvolumes && !rc; i++) {
		if (!sensitive_volume(c->volumes[i]))
			continue;
		bale_buf_reset(&a->path);
		bale_buf_addf(&a->path, "config:Volumes.%s", c->volumes[i]);
		rc = a->path.err
			 ? bale_error_oom()
			 : audit_emit(a, R_SENSITIVE_VOLUME, -1, a->path.ptr,
				      "a volume on '%s' exposes the host's kernel interfaces",
				      c->volumes[i]);
	}
	for (size_t i = 0; i < c->nenv && !rc; i++) {
		const char *e = c->env[i], *eq = strchr(e, '=');

		if (!eq)
			continue;
		rc = check_pairs(a, R_SECRET_ENV, "Env", e, (size_t)(eq - e), eq + 1,
				 strlen(eq + 1));
	}
	for (size_t i = 0; i < c->nlabels && !rc; i++)
		rc = check_pairs(a, R_SECRET_LABEL, "Labels", c->labels[i].name,
				 strlen(c->labels[i].name), c->labels[i].value,
				 strlen(c->labels[i].value));
	return rc;
}

/* ---- history ------------------------------------------------------------------------- */

/* Whether `word` occurs in s[0, n) as a word (not part of a longer name). */
static const char *find_word(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	for (size_t i = 0; i + w <= n; i++) {
		if (memcmp(s + i, word, w) != 0)
			continue;
		if (i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' ||
			      s[i - 1] == '-' || s[i - 1] == '/' || s[i - 1] == '.'))
			continue;
		if (i + w < n && (isalnum((unsigned char)s[i + w]) || s[i + w] == '_' ||
				  s[i + w] == '-' || s[i + w] == '.'))
			continue;
		return s + i;
	}
	return NULL;
}

struct seen_args {
	char **names;
	size_t n, alloc;
};

static bool seen_has(const struct seen_args *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
			return true;
	return false;
}

static int seen_add(struct seen_args *s, const char *name, size_t len)
{
	char *c = strndup(name, len);

	if (!c || BALE_ARRAY_RESERVE(s->names, s->alloc, s->n + 1)) {
		free(c);
		return bale_error_oom();
	}
	s->names[s->n++] = c;
	return 0;
}

/*
 * The build arguments of `|N A=x B=y CMD`: reports the secret ones not seen before and
 * returns in *cmd where the command starts.
 */
static int check_build_args(struct audit *a, struct seen_args *seen, const char *s, int layer,
			    const char *where, const char **cmd)
{
	const char *p = s + 1;
	unsigned long n;
	char *end;
	int rc = 0;

	*cmd = s;
	n = strtoul(p, &end, 10);
	if (end == p || *end != ' ' || n > 1000)
		return 0;
	p = end + 1;
	for (unsigned long i = 0; i < n && *p && rc == 0; i++) {
		const char *eq, *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p), start, slen;
		const char *what;

		eq = memchr(p, '=', len);
		if (eq && !seen_has(seen, p, (size_t)(eq - p)) &&
		    secret_value(p, (size_t)(eq - p), eq + 1, len - (size_t)(eq - p) - 1, &start,
				 &slen, &what)) {
			if ((rc = seen_add(seen, p, (size_t)(eq - p))) != 0)
				break;
			bale_buf_reset(&a->content);
			audit_add_masked(&a->content, eq + 1 + start, slen);
			rc = a->content.err
				 ? bale_error_oom()
				 : audit_emit(a, R_SECRET_BUILD_ARG, layer, where,
					      "build argument %.*s holds %s, recorded in the "
					      "history of every RUN after it: %s",
					      (int)(eq - p), p, what, a->content.ptr);
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	*cmd = p;
	return rc;
}

/* A shell command's text, shortened for a message (secrets never reach here unmasked). */
static void add_excerpt(bale_buf *out, const char *s, size_t n)
{
	size_t max = 60;

	bale_buf_add(out, s, n < max ? n : max);
	if (n > max)
		bale_buf_adds(out, "...");
}

static int check_run(struct audit *a, const char *cmd, int layer, const char *where)
{
	size_t n = strlen(cmd), from = 0;
	bale_secret_match m;
	const char *p;
	int rc = 0;

	if (bale_secret_find(cmd, n, from, &m)) {
		bale_buf_reset(&a->content);
		audit_add_masked(&a->content, cmd + m.start, m.len);
		rc = a->content.err
			 ? bale_error_oom()
			 : audit_emit(a, R_SECRET_IN_HISTORY, layer, where,
				      "a build step holds %s: %s", m.what, a->content.ptr);
		if (rc)
			return rc;
	}
	if (find_word(cmd, n, "update") &&
	    ((p = find_word(cmd, n, "apt-get")) || (p = find_word(cmd, n, "apt"))) &&
	    !find_word(cmd, n, "install") && !find_word(cmd, n, "upgrade") &&
	    !find_word(cmd, n, "dist-upgrade")) {
		rc = audit_emit(a, R_APT_UPDATE_NO_INSTALL, layer, where,
				"apt-get update in a step that installs nothing: the lists stay "
				"in the layer and go stale");
		if (rc)
			return rc;
	}
	if ((p = find_word(cmd, n, "sudo")) != NULL) {
		rc = audit_emit(a, R_SUDO, layer, where, "a build step runs sudo");
		if (rc)
			return rc;
	}
	for (p = cmd; (p = find_word(p, n - (size_t)(p - cmd), "chmod")) != NULL; p += 5) {
		const char *q = p + 5, *stop = q + strcspn(q, ";&|\n#");

		while (q < stop) {
			size_t w;

			while (q < stop && *q == ' ')
				q++;
			w = strcspn(q, " ;&|\n#");
			if (w > (size_t)(stop - q))
				w = (size_t)(stop - q);
			if ((w == 3 && memcmp(q, "777", 3) == 0) ||
			    (w == 4 && memcmp(q, "0777", 4) == 0) ||
			    (w == 5 && memcmp(q, "a+rwx", 5) == 0) ||
			    (w == 7 && memcmp(q, "ugo+rwx", 7) == 0)) {
				bale_buf_reset(&a->content);
				add_excerpt(&a->content, p, (size_t)(stop - p));
				return a->content.err
					   ? bale_error_oom()
					   : audit_emit(a, R_CHMOD_777, layer, where,
							"a build step runs '%s'", a->content.ptr);
			}
			q += w;
		}
	}
	return 0;
}

/* "COPY ...", "WORKDIR /x": BuildKit's record of an instruction other than RUN. */
static bool is_instruction(const char *s)
{
	size_t n = 0;

	while (s[n] >= 'A' && s[n] <= 'Z')
		n++;
	return n >= 2 && s[n] == ' ' && !(n == 3 && strncmp(s, "RUN", 3) == 0);
}

int audit_check_history(struct audit *a, const bale_image_config *c)
{
	struct seen_args seen = {0};
	bale_buf where = BALE_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; c && i < c->nhistory && rc == 0; i++) {
		const bale_image_history *h = &c->history[i];
		const char *s = h->created_by, *cmd;
		int layer = h->layer == BALE_IMAGE_NONE ? -1 : (int)h->layer;
		bool nop = false;

		if (!s)
			continue;
		bale_buf_reset(&where);
		bale_buf_addf(&where, "history:%zu", i);
		if (where.err) {
			rc = bale_error_oom();
			break;
		}
		/* BuildKit: "RUN |1 A=b /bin/sh -c ..."; buildah, docker: "|1 A=b /bin/sh -c" */
		if (strncmp(s, "RUN ", 4) == 0)
			s += 4;
		cmd = s;
		if (*s == '|' && (rc = check_build_args(a, &seen, s, layer, where.ptr, &cmd)) != 0)
			break;
		if (strncmp(cmd, "/bin/sh -c ", 11) == 0)
			cmd += 11;
		if (strncmp(cmd, "#(nop) ", 7) == 0) {
			cmd += 7;
			while (*cmd == ' ')
				cmd++;
			nop = true;
		}
		if (strncmp(cmd, "ADD ", 4) == 0 &&
		    (strstr(cmd, " http://") || strstr(cmd, " https://"))) {
			const char *u = strstr(cmd, "://");
			size_t b = (size_t)(u - cmd);

			while (b > 0 && cmd[b - 1] != ' ')
				b--;
			rc = audit_emit(a, R_ADD_REMOTE_URL, layer, where.ptr,
					"ADD downloads '%.*s' with no checksum",
					(int)strcspn(cmd + b, " "), cmd + b);
			continue;
		}
		/* other instructions (ENV, LABEL, COPY ...: "#(nop) X" from docker and buildah,
		   "X ..." from BuildKit) are the config's or carry no command */
		if (nop || is_instruction(h->created_by))
			continue;
		rc = check_run(a, cmd, layer, where.ptr);
	}
	for (size_t i = 0; i < seen.n; i++)
		free(seen.names[i]);
	free(seen.names);
	bale_buf_release(&where);
	return rc;
}
