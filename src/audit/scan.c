/*
 * scan.c: every layer's files (AU4xxx), read during the one pass that builds the tree. Files
 * named like credentials, and the text of each file up to the size cap (binaries, empty files
 * and known-noise trees such as /usr/share/doc skipped), through the credential detector of
 * secrets/secrets.h plus the shapes only files have (JWTs, service-account keys, registry
 * auths, AWS secret keys). A finding waits for the tree to know what became of its version,
 * so a key deleted or overwritten by a later layer says which layer still ships it.
 */
#include "audit/internal.h"
#include "secrets/secrets.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const noise_prefixes[] = {
    "usr/share/doc/",
    "usr/share/man/",
    "usr/share/info/",
    "usr/share/locale/",
    "usr/share/i18n/",
    "usr/share/zoneinfo/",
    "usr/include/",
    "usr/share/perl/",
    "usr/share/perl5/",
    "var/lib/dpkg/info/",
    "usr/share/common-licenses/",
    "usr/share/lintian/",
};

static bool is_noise(const char *path)
{
	for (size_t i = 0; i < BALE_ARRAY_SIZE(noise_prefixes); i++)
		if (strncmp(path, noise_prefixes[i], strlen(noise_prefixes[i])) == 0)
			return true;
	return strstr(path, "/.git/objects/") != NULL ||
	       (strncmp(path, "usr/lib/", 8) == 0 && strstr(path, "/perl") != NULL);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0 && (a == b || s[a - b - 1] == '/');
}

/* A suffix of the name, not necessarily a whole component. */
static bool n_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int pend(struct audit *a, enum audit_rule rule, const bale_fs_entry *v, const char *path,
		const char *message)
{
	struct audit_pending *p;

	if (BALE_ARRAY_RESERVE(a->pending, a->apending, a->npending + 1))
		return bale_error_oom();
	p = &a->pending[a->npending];
	p->rule = rule;
	p->layer = v->layer;
	p->version = v->id;
	p->path = malloc(strlen(path) + 2);
	p->message = strdup(message);
	if (!p->path || !p->message) {
		free(p->path);
		free(p->message);
		return bale_error_oom();
	}
	p->path[0] = '/';
	memcpy(p->path + 1, path, strlen(path) + 1);
	a->npending++;
	return 0;
}

static enum audit_rule rule_of_kind(bale_secret_kind kind, const char *text,
				    const bale_secret_match *m)
{
	switch (kind) {
	case BALE_SECRET_AWS_KEY_ID:
		return R_AWS_ACCESS_KEY_ID;
	case BALE_SECRET_GITHUB_TOKEN:
		return R_GITHUB_TOKEN;
	case BALE_SECRET_GITLAB_TOKEN:
		return R_GITLAB_TOKEN;
	case BALE_SECRET_PRIVATE_KEY:
		return R_PRIVATE_KEY;
	case BALE_SECRET_SLACK_TOKEN:
		return R_SLACK_TOKEN;
	case BALE_SECRET_STRIPE_KEY:
		return R_STRIPE_KEY;
	case BALE_SECRET_GOOGLE_API_KEY:
		return R_GOOGLE_API_KEY;
	case BALE_SECRET_NPM_TOKEN:
	case BALE_SECRET_PYPI_TOKEN:
		return R_NPM_TOKEN;
	default:
		break;
	}
	if (m->name_len >= 17) {
		/* aws_secret_access_key = ... (credentials files, env files, configs) */
		for (size_t i = 0; i + 17 <= m->name_len; i++)
			if (strncasecmp(text + m->name + i, "secret_access_key", 17) == 0)
				return R_AWS_SECRET_ACCESS_KEY;
	}
	return R_PASSWORD_IN_FILE;
}

/*
 * Configuration files are full of `passwd: files` and `password = prompt`: a literal assigned
 * to a password-like name counts in a file only when it looks like one (8 characters or more,
 * not a plain lower-case word).
 */
static bool plausible_password(const char *v, size_t n)
{
	bool lower = false, other = false;

	if (n < 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (isspace((unsigned char)v[i]))
			return false;
		if (islower((unsigned char)v[i]) || v[i] == '-' || v[i] == '_')
			lower = true;
		else
			other = true;
	}
	return lower && other;
}

/* aws_secret_access_key = <40 characters>: the key itself has no shape of its own. */
static bool find_aws_secret(const char *t, size_t n, size_t *start, size_t *len)
{
	static const char *const keys[] = {"secret_access_key", "SECRET_ACCESS_KEY"};

	for (size_t k = 0; k < BALE_ARRAY_SIZE(keys); k++) {
		for (const char *p = t; (p = memmem(p, n - (size_t)(p - t), keys[k], 17)) != NULL;
		     p += 17) {
			size_t j = (size_t)(p - t) + 17, e;

			while (j < n &&
			       (t[j] == ' ' || t[j] == '\t' || t[j] == '"' || t[j] == '\''))
				j++;
			if (j >= n || (t[j] != '=' && t[j] != ':'))
				continue;
			j++;
			while (j < n &&
			       (t[j] == ' ' || t[j] == '\t' || t[j] == '"' || t[j] == '\''))
				j++;
			for (e = j;
			     e < n && (isalnum((unsigned char)t[e]) || t[e] == '/' || t[e] == '+');)
				e++;
			if (e - j == 40) {
				*start = j;
				*len = 40;
				return true;
			}
		}
	}
	return false;
}

static size_t line_of(const char *text, size_t pos)
{
	size_t line = 1;

	for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + pos - p))) != NULL; p++)
		line++;
	return line;
}

static bool b64url(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* eyJ<header>.eyJ<payload>.<signature>: a JWT (header and payload are JSON objects). */
static bool find_jwt(const char *t, size_t n, size_t from, size_t *start, size_t *len)
{
	for (const char *hit; from + 3 <= n && (hit = memmem(t + from, n - from, "eyJ", 3));) {
		size_t i = (size_t)(hit - t), j = i, parts = 0, seg;

		from = i + 1;
		if (i > 0 && b64url(t[i - 1]))
			continue;
		for (;;) {
			seg = 0;
			while (j < n && b64url(t[j]))
				j++, seg++;
			if (seg < 8)
				break;
			parts++;
			if (parts == 3 || j >= n || t[j] != '.')
				break;
			j++;
			if (parts == 1 && (j + 3 > n || memcmp(t + j, "eyJ", 3) != 0))
				break;
		}
		if (parts == 3) {
			*start = i;
			*len = j - i;
			return true;
		}
	}
	return false;
}

/* The first non-empty string value of `"key": "..."` in JSON text. */
static bool json_value(const char *t, size_t n, const char *key, size_t *start, size_t *len)
{
	size_t kl = strlen(key);

	for (const char *p = t; (p = memmem(p, n - (size_t)(p - t), key, kl)) != NULL; p += kl) {
		const char *q = p + kl, *end = t + n, *v;

		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q >= end || *q != '"')
			continue;
		v = ++q;
		while (q < end && *q != '"')
			q += (*q == '\\' && q + 1 < end) ? 2 : 1;
		if (q > end)
			q = end;
		if (q > v) {
			*start = (size_t)(v - t);
			*len = (size_t)(q - v);
			return true;
		}
	}
	return false;
}

/* "auth": "<non-empty>" in a registry credentials file. */
static bool find_registry_auth(const char *t, size_t n, size_t *start, size_t *len)
{
	return json_value(t, n, "\"auth\"", start, len) ||
	       json_value(t, n, "\"identitytoken\"", start, len);
}

/* Adds one finding of `rule` for this file, the first of its kind. */
static int hit(struct audit *a, unsigned long long *seen, enum audit_rule rule,
	       const bale_fs_entry *v, const char *path, const char *what, const char *text,
	       size_t start, size_t len)
{
	bale_buf m = BALE_BUF_INIT;
	int rc;

	if (*seen & (1ull << rule))
		return 0;
	*seen |= 1ull << rule;
	bale_buf_addf(&m, "%s at line %zu: ", what, line_of(text, start));
	audit_add_masked(&m, text + start, len);
	rc = m.err ? bale_error_oom() : pend(a, rule, v, path, m.ptr);
	bale_buf_release(&m);
	return rc;
}

static int scan_text(struct audit *a, const bale_fs_entry *v, const char *path, const char *t,
		     size_t n, unsigned long long *seen)
{
	bale_secret_match m;
	size_t from = 0, start, len;
	int rc = 0;

	while (rc == 0 && from < n && bale_secret_find(t, n, from, &m)) {
		bale_secret_match inner;
		enum audit_rule rule = rule_of_kind(m.kind, t, &m);
		const char *what = m.what;

		from = m.end > from ? m.end : from + 1;
		/* a token in a URL or an assignment is named by its own shape when it has one */
		if (rule == R_PASSWORD_IN_FILE && m.len &&
		    bale_secret_find(t + m.start, m.len, 0, &inner) &&
		    inner.kind != BALE_SECRET_PASSWORD && inner.kind != BALE_SECRET_URL_PASSWORD &&
		    inner.kind != BALE_SECRET_BEARER) {
			rule = rule_of_kind(inner.kind, t, &inner);
			what = inner.what;
		} else if (m.kind == BALE_SECRET_PASSWORD &&
			   !plausible_password(t + m.start, m.len)) {
			continue;
		}
		rc = hit(a, seen, rule, v, path, what, t, m.start, m.len);
	}
	if (rc == 0 && find_aws_secret(t, n, &start, &len))
		rc = hit(a, seen, R_AWS_SECRET_ACCESS_KEY, v, path, "an AWS secret access key", t,
			 start, len);
	for (from = 0; rc == 0 && find_jwt(t, n, from, &start, &len); from = start + len)
		rc = hit(a, seen, R_JWT, v, path, "a JSON Web Token", t, start, len);
	/* service-account keys are JSON files: one pass fewer over everything else */
	if (rc == 0 && (n_ends(path, ".json") || n_ends(path, ".json.bak")) &&
	    memmem(t, n, "\"service_account\"", 17) &&
	    json_value(t, n, "\"private_key\"", &start, &len))
		rc = hit(a, seen, R_GOOGLE_SERVICE_ACCOUNT, v, path, "a Google service-account key",
			 t, start, len);
	if (rc == 0 &&
	    (ends_with(path, ".docker/config.json") || ends_with(path, "auth.json") ||
	     ends_with(path, ".dockercfg")) &&
	    find_registry_auth(t, n, &start, &len))
		rc = hit(a, seen, R_REGISTRY_AUTH, v, path, "a registry credential", t, start, len);
	return rc;
}

/* Keeps the content of the latest /etc/passwd, /etc/shadow and /etc/group. */
static struct audit_account_file *account_file(struct audit *a, const char *path)
{
	if (strcmp(path, "etc/passwd") == 0)
		return &a->passwd;
	if (strcmp(path, "etc/shadow") == 0)
		return &a->shadow;
	if (strcmp(path, "etc/group") == 0)
		return &a->group;
	return NULL;
}

int audit_scan_entry(void *ctx, bale_fs *fs, const bale_fs_entry *applied,
		     const bale_image_entry *entry, bale_image_reader *content)
{
	struct audit *a = ctx;
	struct audit_account_file *acct;
	bale_secret_file_proof proof;
	const char *what, *path = entry->path;
	unsigned long long seen = 0;
	bool readable;
	int rc = 0;

	(void)fs;
	if (!applied || applied->id == BALE_FS_NONE || applied->type != BALE_FS_FILE)
		return 0;
	what = bale_secret_file(path, strlen(path), &proof);
	/* a docker config names a credential helper as often as it holds auths: its content
	   decides (registry-auth) */
	if (what && (ends_with(path, ".docker/config.json") || ends_with(path, ".dockercfg")))
		what = NULL;
	acct = account_file(a, path);
	readable =
	    entry->size > 0 && entry->size <= a->cfg->max_scan_size && (acct || !is_noise(path));
	if (!readable) {
		if (what && proof == BALE_SECRET_FILE_BY_NAME)
			return pend(a, R_SECRET_FILE, applied, path, what);
		return 0;
	}
	bale_buf_reset(&a->content);
	if (bale_buf_grow(&a->content, (size_t)entry->size + 1) != 0)
		return bale_error_oom();
	for (;;) {
		size_t got = 0;

		rc = bale_image_entry_read(content, a->content.ptr + a->content.len,
					   a->content.alloc - a->content.len - 1, &got);
		if (rc || got == 0)
			break;
		a->content.len += got;
		if (a->content.len + 1 >= a->content.alloc)
			break;
	}
	if (rc)
		return rc;
	a->content.ptr[a->content.len] = '\0';
	if (acct) {
		acct->version = applied->id;
		bale_buf_reset(&acct->data);
		if (bale_buf_add(&acct->data, a->content.ptr, a->content.len) != 0)
			return bale_error_oom();
	}
	if (!memchr(a->content.ptr, '\0', a->content.len < 8192 ? a->content.len : 8192))
		rc = scan_text(a, applied, path, a->content.ptr, a->content.len, &seen);
	if (rc == 0 && what && !seen &&
	    (proof == BALE_SECRET_FILE_BY_NAME ||
	     bale_secret_file_confirmed(proof, a->content.ptr, a->content.len)))
		rc = pend(a, R_SECRET_FILE, applied, path, what);
	return rc;
}

int audit_flush_pending(struct audit *a, const bale_fs *fs)
{
	bale_buf m = BALE_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < a->npending && rc == 0; i++) {
		const struct audit_pending *p = &a->pending[i];
		bale_fs_entry v;

		bale_fs_get(fs, p->version, &v);
		bale_buf_reset(&m);
		bale_buf_adds(&m, p->message);
		if (v.fate != BALE_FS_PRESENT && v.until != BALE_FS_NO_LAYER)
			bale_buf_addf(&m, " (%s by layer %zu, still shipped in layer %zu)",
				      v.fate == BALE_FS_REPLACED || v.fate == BALE_FS_SHADOWED
					  ? "overwritten"
					  : "deleted",
				      v.until, p->layer);
		rc = m.err ? bale_error_oom()
			   : audit_emit(a, p->rule, (int)p->layer, p->path, "%s", m.ptr);
	}
	bale_buf_release(&m);
	return rc;
}
