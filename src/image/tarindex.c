/*
 * An index of the members of an outer tar (docker-archive, oci-archive) built by reading the
 * 512-byte headers only: name, type, link target, and where each member's data starts, so that
 * a blob can later be read in place through a window of the file. Understands ustar, GNU long
 * names (L, K) and PAX records (path, linkpath, size); data is skipped with the offset.
 */
#include "image/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK	       512
#define EXT_HEADER_MAX ((uint64_t)1 << 20) /* a PAX or GNU long-name record */

int archive_path_clean(char *out, size_t cap, const char *in, size_t len, unsigned *flags)
{
	size_t o = 0, i = 0;

	if (cap == 0)
		return PATH_TOO_LONG;
	if (memchr(in, '\0', len))
		return PATH_NUL;
	if (len > 0 && in[0] == '/')
		*flags |= BALE_IMAGE_ENTRY_ABSOLUTE;
	while (i < len) {
		size_t start, n;

		while (i < len && in[i] == '/')
			i++;
		start = i;
		while (i < len && in[i] != '/')
			i++;
		n = i - start;
		if (n == 0 || (n == 1 && in[start] == '.'))
			continue;
		if (n == 2 && in[start] == '.' && in[start + 1] == '.') {
			*flags |= BALE_IMAGE_ENTRY_DOTDOT;
			if (o == 0)
				return PATH_ESCAPES;
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the separator before the dropped component */
			continue;
		}
		if (o + (o > 0) + n + 1 > cap)
			return PATH_TOO_LONG;
		if (o > 0)
			out[o++] = '/';
		memcpy(out + o, in + start, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* Octal (with spaces and NULs) or GNU base-256; false when malformed or negative. */
static bool tar_number(const unsigned char *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return false; /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 55)
				return false;
			v = (v << 8) | f[i];
		}
		*out = v;
		return true;
	}
	while (i < n && (f[i] == ' ' || f[i] == '\0'))
		i++;
	if (i == n) {
		*out = 0;
		return true;
	}
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	*out = v;
	return true;
}

static bool checksum_ok(const unsigned char *h)
{
	uint64_t want;
	long unsigned_sum = 0, signed_sum = 0;

	if (!tar_number(h + 148, 8, &want))
		return false;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];

		unsigned_sum += c;
		signed_sum += (signed char)c;
	}
	return (uint64_t)unsigned_sum == want || (long)want == signed_sum;
}

static bool all_zero(const unsigned char *h)
{
	for (int i = 0; i < BLOCK; i++)
		if (h[i])
			return false;
	return true;
}

static int read_full(int fd, void *buf, size_t len, uint64_t off, const char *file)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bale_error_set(BALE_EIO, "cannot read '%s': %s", file,
					      strerror(errno));
		if (n == 0)
			return bale_error_set(BALE_EPARSE, "'%s': truncated tar at offset %llu",
					      file, (unsigned long long)(off + done));
		done += (size_t)n;
	}
	return 0;
}

/* Picks "path", "linkpath" and "size" out of PAX records. */
static int pax_parse(const char *rec, size_t len, char **path, char **linkpath, uint64_t *size,
		     bool *has_size, bale_arena *arena, const char *file, uint64_t off)
{
	size_t i = 0;

	while (i < len) {
		size_t n = 0, j = i, klen;
		const char *key, *eq;

		while (j < len && rec[j] >= '0' && rec[j] <= '9' && n < len)
			n = n * 10 + (size_t)(rec[j++] - '0');
		if (j >= len || rec[j] != ' ' || n == 0 || n > len - i || rec[i + n - 1] != '\n')
			return bale_error_set(BALE_EPARSE, "'%s': bad PAX header at offset %llu",
					      file, (unsigned long long)off);
		key = rec + j + 1;
		eq = memchr(key, '=', (size_t)(rec + i + n - 1 - key));
		if (!eq)
			return bale_error_set(BALE_EPARSE, "'%s': bad PAX record at offset %llu",
					      file, (unsigned long long)off);
		klen = (size_t)(eq - key);
		{
			const char *val = eq + 1;
			size_t vlen = (size_t)(rec + i + n - 1 - val);

			if (klen == 4 && memcmp(key, "path", 4) == 0)
				*path = bale_arena_strndup(arena, val, vlen);
			else if (klen == 8 && memcmp(key, "linkpath", 8) == 0)
				*linkpath = bale_arena_strndup(arena, val, vlen);
			else if (klen == 4 && memcmp(key, "size", 4) == 0) {
				uint64_t v = 0;

				for (size_t k = 0; k < vlen; k++) {
					if (val[k] < '0' || val[k] > '9' || v > UINT64_MAX / 10 - 1)
						return bale_error_set(
						    BALE_EPARSE,
						    "'%s': bad PAX size at offset %llu", file,
						    (unsigned long long)off);
					v = v * 10 + (uint64_t)(val[k] - '0');
				}
				*size = v;
				*has_size = true;
			}
		}
		i += n;
	}
	return 0;
}

static int member_cmp(const void *a, const void *b)
{
	const struct tar_member *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int tar_index_build(struct tar_index *idx, int fd, const char *file, uint64_t max_members,
		    size_t max_path)
{
	unsigned char h[BLOCK];
	uint64_t off = 0, file_size;
	char *long_name = NULL, *long_link = NULL, *pax_path = NULL, *pax_link = NULL;
	uint64_t pax_size = 0;
	bool has_pax_size = false;
	struct stat st;
	char *clean = NULL;
	int rc = 0;

	if (fstat(fd, &st) != 0)
		return bale_error_set(BALE_EIO, "cannot stat '%s': %s", file, strerror(errno));
	file_size = (uint64_t)st.st_size;
	clean = malloc(max_path + 1);
	if (!clean)
		return bale_error_oom();
	for (;;) {
		uint64_t size, data_off, padded;
		char type;

		if (off + BLOCK > file_size) {
			if (off == file_size && idx->count > 0)
				break; /* no end-of-archive blocks: tolerated, like GNU tar */
			rc = bale_error_set(BALE_EPARSE, "'%s': truncated tar at offset %llu", file,
					    (unsigned long long)off);
			goto out;
		}
		if ((rc = read_full(fd, h, BLOCK, off, file)) != 0)
			goto out;
		if (all_zero(h))
			break;
		if (!checksum_ok(h)) {
			rc = bale_error_set(BALE_EPARSE,
					    "'%s': not a tar archive (bad header checksum at "
					    "offset %llu)",
					    file, (unsigned long long)off);
			goto out;
		}
		if (!tar_number(h + 124, 12, &size)) {
			rc = bale_error_set(BALE_EPARSE, "'%s': bad member size at offset %llu",
					    file, (unsigned long long)off);
			goto out;
		}
		type = (char)h[156];
		data_off = off + BLOCK;
		if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
			char *rec;

			if (size > EXT_HEADER_MAX) {
				rc = bale_error_set(BALE_ELIMIT,
						    "'%s': extended header of %llu bytes at offset "
						    "%llu is over the limit",
						    file, (unsigned long long)size,
						    (unsigned long long)off);
				goto out;
			}
			if (type == 'g') {
				off = data_off + ((size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1));
				continue;
			}
			rec = bale_arena_alloc(&idx->arena, size + 1);
			if (!rec) {
				rc = bale_error_oom();
				goto out;
			}
			if ((rc = read_full(fd, rec, (size_t)size, data_off, file)) != 0)
				goto out;
			rec[size] = '\0';
			if (type == 'x') {
				rc = pax_parse(rec, (size_t)size, &pax_path, &pax_link, &pax_size,
					       &has_pax_size, &idx->arena, file, off);
				if (rc)
					goto out;
			} else if (type == 'L') {
				long_name = rec;
			} else {
				long_link = rec;
			}
			off = data_off + ((size + BLOCK - 1) & ~(uint64_t)(BLOCK - 1));
			continue;
		}
		if (has_pax_size)
			size = pax_size;
		/* Links, devices, fifos and directories carry no data, whatever the size says. */
		if (type >= '1' && type <= '6')
			size = 0;
		padded = size;
		padded = (padded + BLOCK - 1) & ~(uint64_t)(BLOCK - 1);
		if (data_off + padded < data_off || data_off + size > file_size) {
			rc =
			    bale_error_set(BALE_EPARSE,
					   "'%s': truncated tar (member at offset %llu needs %llu "
					   "bytes)",
					   file, (unsigned long long)off, (unsigned long long)size);
			goto out;
		}
		{
			const char *name = pax_path ? pax_path : long_name;
			const char *link = pax_link ? pax_link : long_link;
			char nbuf[260], lbuf[101];
			unsigned flags = 0;
			struct tar_member *m;

			if (!name) {
				size_t nlen = strnlen((const char *)h, 100), plen = 0;
				bool ustar = memcmp(h + 257, "ustar\0", 6) == 0;

				if (ustar)
					plen = strnlen((const char *)h + 345, 155);
				if (plen) {
					memcpy(nbuf, h + 345, plen);
					nbuf[plen] = '/';
					memcpy(nbuf + plen + 1, h, nlen);
					nbuf[plen + 1 + nlen] = '\0';
				} else {
					memcpy(nbuf, h, nlen);
					nbuf[nlen] = '\0';
				}
				name = nbuf;
			}
			if (!link) {
				size_t llen = strnlen((const char *)h + 157, 100);

				memcpy(lbuf, h + 157, llen);
				lbuf[llen] = '\0';
				link = lbuf;
			}
			if (idx->count >= max_members) {
				rc = bale_error_set(BALE_ELIMIT,
						    "'%s' has more than %llu members (the limit)",
						    file, (unsigned long long)max_members);
				goto out;
			}
			/* Members whose names cannot be cleaned can never be looked up: skip. */
			if (archive_path_clean(clean, max_path + 1, name, strlen(name), &flags) ==
			    0) {
				if ((rc = BALE_ARRAY_RESERVE(idx->members, idx->alloc,
							     idx->count + 1)) != 0)
					goto out;
				m = &idx->members[idx->count++];
				m->name = bale_arena_strdup(&idx->arena, clean);
				m->link = (type == '1' || type == '2')
					      ? bale_arena_strdup(&idx->arena, link)
					      : NULL;
				m->offset = data_off;
				m->size = size;
				m->type = type == '\0' || type == '7' ? '0' : type;
				if (!m->name || ((type == '1' || type == '2') && !m->link)) {
					rc = bale_error_oom();
					goto out;
				}
			}
		}
		long_name = long_link = pax_path = pax_link = NULL;
		has_pax_size = false;
		off = data_off + padded;
	}
	if (idx->count)
		qsort(idx->members, idx->count, sizeof(*idx->members), member_cmp);
out:
	free(clean);
	return rc;
}

static const struct tar_member *lookup(const struct tar_index *idx, const char *name)
{
	size_t lo = 0, hi = idx->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(idx->members[mid].name, name);

		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			/* Tar semantics: the last member of a name wins. */
			while (mid + 1 < idx->count &&
			       strcmp(idx->members[mid + 1].name, name) == 0)
				mid++;
			return &idx->members[mid];
		}
	}
	return NULL;
}

const struct tar_member *tar_index_find(const struct tar_index *idx, const char *name)
{
	char cur[4096], next[8192];
	unsigned flags = 0;

	if (archive_path_clean(cur, sizeof(cur), name, strlen(name), &flags) != 0)
		return NULL;
	for (int hops = 0; hops < 16; hops++) {
		const struct tar_member *m = lookup(idx, cur);
		size_t dir;

		if (!m)
			return NULL;
		if (m->type == '0')
			return m;
		if (m->type == '1') {
			if (archive_path_clean(cur, sizeof(cur), m->link, strlen(m->link),
					       &flags) != 0)
				return NULL;
			continue;
		}
		if (m->type != '2')
			return NULL;
		/* A symlink's target is relative to its directory, as docker save writes them. */
		dir = 0;
		if (m->link[0] != '/') {
			const char *slash = strrchr(m->name, '/');

			dir = slash ? (size_t)(slash - m->name) + 1 : 0;
		}
		if (dir + strlen(m->link) >= sizeof(next))
			return NULL;
		memcpy(next, m->name, dir);
		memcpy(next + dir, m->link, strlen(m->link) + 1);
		if (archive_path_clean(cur, sizeof(cur), next, strlen(next), &flags) != 0)
			return NULL;
	}
	return NULL;
}

void tar_index_release(struct tar_index *idx)
{
	free(idx->members);
	idx->members = NULL;
	idx->count = idx->alloc = 0;
	bale_arena_release(&idx->arena);
}
