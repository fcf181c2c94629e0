/*
 * checks_fs.c: the final file system (AU3xxx), one sorted walk of the merged tree, and the
 * account files (/etc/passwd, /etc/shadow, /etc/group) as the last layer that wrote them left
 * them. Each finding names the layer that holds the path's present version.
 */
#include "audit/internal.h"

#include <stdlib.h>
#include <string.h>

/* Directories whose files are a package manager's cache, and files inside them that are not. */
static const char *const cache_dirs[] = {
    "var/lib/apt/lists", "var/cache/apt",
    "var/cache/apk",	 "var/cache/yum",
    "var/cache/dnf",	 ".cache/pip",
    ".npm/_cacache",	 ".cache/yarn",
    ".yarn-cache",	 "usr/local/share/.cache/yarn",
};

static const char *const toolchain[] = {"gcc",	"g++", "cc",	"c++",	 "cc1",	  "cc1plus",
					"make", "go",  "cargo", "rustc", "clang", NULL};
static const char *const shells[] = {"sh",  "bash", "dash",    "zsh", "ash",
				     "ksh", "mksh", "busybox", NULL};
static const char *const package_managers[] = {"apt",	   "dpkg", "apk",    "yum",    "dnf",
					       "microdnf", "rpm",  "zypper", "pacman", NULL};

struct merged {
	struct audit *a;
	bale_buf path;
	/* the package cache being walked: its path and what it holds */
	bale_buf cache;
	size_t cache_files;
	size_t cache_layer;
	/* the .git directory being walked: its layer, or the first present child's when the
	   layers never named the directory itself (umoci writes no parent entries) */
	bale_buf git;
	size_t git_layer;
	bool git_layer_known;
	int rc;
};

static bool in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "usr/bin/x", "bin/x", "sbin/x", "usr/local/bin/x" ...: a program on the PATH. */
static bool in_bin_dir(const char *path)
{
	const char *b = base_name(path);
	size_t n = (size_t)(b - path);

	return n >= 4 && (memcmp(b - 4, "bin/", 4) == 0);
}

static bool is_cache_dir(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < BALE_ARRAY_SIZE(cache_dirs); i++) {
		size_t c = strlen(cache_dirs[i]);

		if (n >= c && strcmp(path + n - c, cache_dirs[i]) == 0 &&
		    (n == c || path[n - c - 1] == '/'))
			return true;
	}
	return false;
}

static int flush_cache(struct merged *m)
{
	int rc = 0;

	if (m->cache.len && m->cache_files)
		rc = audit_emit(m->a, R_PACKAGE_CACHE, (int)m->cache_layer, m->cache.ptr,
				"a package cache with %zu file%s is left in the image",
				m->cache_files, m->cache_files == 1 ? "" : "s");
	bale_buf_reset(&m->cache);
	m->cache_files = 0;
	return rc;
}

static int flush_git(struct merged *m)
{
	int rc = 0;

	if (m->git.len)
		rc = audit_emit(m->a, R_GIT_DIRECTORY, (int)m->git_layer, m->git.ptr,
				"a git repository: its history, remotes and config ship too");
	bale_buf_reset(&m->git);
	return rc;
}

static int on_merged(void *ctx, const bale_fs_entry *e)
{
	struct merged *m = ctx;
	struct audit *a = m->a;
	const char *name = base_name(e->path), *p;
	bool file = e->type == BALE_FS_FILE || e->type == BALE_FS_HARDLINK;
	int layer = (int)e->layer, rc = 0;

	if (e->path[0] == '\0')
		return 0;
	bale_buf_reset(&m->path);
	bale_buf_addch(&m->path, '/');
	bale_buf_adds(&m->path, e->path);
	if (m->path.err)
		return m->rc = bale_error_oom();
	p = m->path.ptr;
	if (m->cache.len &&
	    !(strncmp(p, m->cache.ptr, m->cache.len) == 0 && p[m->cache.len] == '/'))
		rc = flush_cache(m);
	if (!rc && e->type == BALE_FS_DIR && !m->cache.len && is_cache_dir(e->path)) {
		bale_buf_adds(&m->cache, p);
		m->cache_layer = 0;
	} else if (!rc && m->cache.len && e->type != BALE_FS_DIR && strcmp(name, "lock") != 0) {
		m->cache_files++;
		if (e->layer > m->cache_layer || m->cache_files == 1)
			m->cache_layer = e->layer;
	}
	if (!rc && m->git.len && !(strncmp(p, m->git.ptr, m->git.len) == 0 && p[m->git.len] == '/'))
		rc = flush_git(m);
	if (!rc && e->type == BALE_FS_DIR && !m->git.len && strcmp(name, ".git") == 0) {
		bale_buf_adds(&m->git, p);
		m->git_layer = e->layer;
		m->git_layer_known = !(e->flags & BALE_FS_IMPLICIT);
	} else if (m->git.len && !m->git_layer_known && !(e->flags & BALE_FS_IMPLICIT)) {
		m->git_layer = e->layer;
		m->git_layer_known = true;
	}
	if (e->flags & BALE_FS_IMPLICIT)
		return rc ? (m->rc = rc) : 0;
	if (!rc && file && (e->mode & 04000))
		rc = audit_emit(a, R_SETUID_FILE, layer, p, "setuid file (mode %04o, owner %llu)",
				e->mode, (unsigned long long)e->uid);
	if (!rc && file && (e->mode & 02000))
		rc = audit_emit(a, R_SETGID_FILE, layer, p, "setgid file (mode %04o, group %llu)",
				e->mode, (unsigned long long)e->gid);
	if (!rc && (file || e->type == BALE_FS_DIR) && (e->mode & 0002) &&
	    !(e->type == BALE_FS_DIR && (e->mode & 01000)))
		rc = audit_emit(a, R_WORLD_WRITABLE, layer, p, "world-writable %s (mode %04o)",
				e->type == BALE_FS_DIR ? "directory, not sticky" : "file", e->mode);
	if (!rc && file && (in_list(toolchain, name) || strncmp(name, "gcc-", 4) == 0) &&
	    (in_bin_dir(e->path) || strcmp(name, "cc1") == 0 || strcmp(name, "cc1plus") == 0))
		rc = audit_emit(a, R_BUILD_TOOLCHAIN, layer, p, "a build tool: %s", name);
	if (!rc && file && in_bin_dir(e->path) && in_list(shells, name))
		rc = audit_emit(a, R_SHELL_PRESENT, layer, p, "a shell: %s", name);
	if (!rc && file && in_bin_dir(e->path) && in_list(package_managers, name))
		rc = audit_emit(a, R_PACKAGE_MANAGER, layer, p, "a package manager: %s", name);
	if (!rc && e->type == BALE_FS_SYMLINK && (e->flags & BALE_FS_LINK_ESCAPES))
		rc = audit_emit(a, R_SYMLINK_OUTSIDE_ROOT, layer, p,
				"symlink to '%s' climbs above the root", e->link ? e->link : "");
	if (!rc && file && (e->flags & BALE_FS_CAPABILITY))
		rc = audit_emit(a, R_FILE_CAPABILITY, layer, p,
				"the file carries capabilities (security.capability)");
	return rc ? (m->rc = rc) : 0;
}

/* Field `index` (0-based) of a ':'-separated line. */
static bool field(const char *line, size_t len, size_t index, const char **out, size_t *out_len)
{
	const char *s = line, *end = line + len;

	for (size_t i = 0; i < index; i++) {
		const char *c = memchr(s, ':', (size_t)(end - s));

		if (!c)
			return false;
		s = c + 1;
	}
	*out = s;
	*out_len = (size_t)((const char *)(memchr(s, ':', (size_t)(end - s)) ?: end) - s);
	return true;
}

/* The next non-empty line that is not a comment, from *pos; false at the end. */
static bool next_line(const bale_buf *data, size_t *pos, const char **line, size_t *len)
{
	while (*pos < data->len) {
		const char *s = data->ptr + *pos, *nl = memchr(s, '\n', data->len - *pos);
		size_t n = nl ? (size_t)(nl - s) : data->len - *pos;

		*pos += n + (nl ? 1 : 0);
		if (n && s[0] != '#') {
			*line = s;
			*len = n;
			return true;
		}
	}
	return false;
}

static bool present(const bale_fs *fs, const struct audit_account_file *f, size_t *layer)
{
	bale_fs_id node;
	bale_fs_entry v;

	if (f->version == BALE_FS_NONE)
		return false;
	node = bale_fs_version_node(fs, f->version);
	if (bale_fs_node_present(fs, node) != f->version)
		return false;
	bale_fs_get(fs, f->version, &v);
	*layer = v.layer;
	return true;
}

static int check_shadow(struct audit *a, const bale_fs *fs)
{
	const char *line;
	size_t layer, len;
	int rc = 0;

	if (!present(fs, &a->shadow, &layer))
		return 0;
	for (size_t pos = 0; next_line(&a->shadow.data, &pos, &line, &len);) {
		const char *user, *pw;
		size_t ulen, pwlen;

		if (rc || !field(line, len, 0, &user, &ulen) || !field(line, len, 1, &pw, &pwlen))
			continue;
		if (pwlen == 0)
			rc =
			    audit_emit(a, R_EMPTY_PASSWORD, (int)layer, "/etc/shadow",
				       "account '%.*s' has an empty password: it logs in with none",
				       (int)ulen, user);
	}
	return rc;
}

static int check_duplicates(struct audit *a, const bale_fs *fs, struct audit_account_file *f,
			    enum audit_rule rule, const char *path, const char *what)
{
	const char *line, *prev;
	size_t layer, len, plen;
	int rc = 0;

	if (!present(fs, f, &layer))
		return 0;
	for (size_t pos = 0; rc == 0 && next_line(&f->data, &pos, &line, &len);) {
		const char *name, *id;
		size_t nlen, idlen;

		if (!field(line, len, 0, &name, &nlen) || !field(line, len, 2, &id, &idlen) ||
		    idlen == 0)
			continue;
		/* an earlier line with the same id? */
		for (size_t ppos = 0; next_line(&f->data, &ppos, &prev, &plen) && prev < line;) {
			const char *pname, *pid;
			size_t pnlen, pidlen;

			if (!field(prev, plen, 0, &pname, &pnlen) ||
			    !field(prev, plen, 2, &pid, &pidlen))
				continue;
			if (pidlen == idlen && memcmp(pid, id, idlen) == 0) {
				rc = audit_emit(a, rule, (int)layer, path,
						"%s '%.*s' has %s %.*s, as '%.*s' does", what,
						(int)nlen, name,
						rule == R_DUPLICATE_UID ? "UID" : "GID", (int)idlen,
						id, (int)pnlen, pname);
				break;
			}
		}
	}
	return rc;
}

int audit_check_merged(struct audit *a, const bale_fs *fs)
{
	struct merged m = {.a = a};
	int rc;

	bale_buf_init(&m.path, 0);
	bale_buf_init(&m.cache, 0);
	bale_buf_init(&m.git, 0);
	rc = bale_fs_walk_merged(fs, BALE_FS_WALK_SORTED, on_merged, &m);
	if (m.rc)
		rc = m.rc;
	if (!rc)
		rc = flush_cache(&m);
	if (!rc)
		rc = flush_git(&m);
	if (!rc)
		rc = check_shadow(a, fs);
	if (!rc)
		rc = check_duplicates(a, fs, &a->passwd, R_DUPLICATE_UID, "/etc/passwd", "account");
	if (!rc)
		rc = check_duplicates(a, fs, &a->group, R_DUPLICATE_GID, "/etc/group", "group");
	bale_buf_release(&m.path);
	bale_buf_release(&m.cache);
	bale_buf_release(&m.git);
	return rc;
}
