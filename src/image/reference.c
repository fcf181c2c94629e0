/* Image references (see reference.h). */
#include "image/reference.h"

#include <string.h>

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: lower-case alphanumerics joined by '.', '_', '__', or runs of '-'. */
static bool valid_component(const char *s, size_t len)
{
	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (is_lower_alnum(c) || c == '-')
			continue;
		if (c == '.' || c == '_') {
			/* Separators: ".", "_", "__" between alphanumerics. */
			if (c == '_' && s[i + 1] == '_' && i + 2 < len)
				i++;
			if (!is_lower_alnum(s[i + 1]))
				return false;
			continue;
		}
		return false;
	}
	return true;
}

static bool valid_tag(const char *s, size_t len)
{
	if (len == 0 || len > 128)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static bool valid_digest(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t hex;

	if (!colon || colon == s)
		return false;
	hex = len - (size_t)(colon - s) - 1;
	if (hex < 32)
		return false;
	for (size_t i = 0; i < hex; i++) {
		char c = colon[1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

bool bale_image_ref_parse(bale_image_ref *out, const char *name)
{
	size_t len = strlen(name), rest_start = 0, rest_end;
	const char *at = memchr(name, '@', len), *slash, *colon;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > 4096 || memchr(name, '$', len))
		return false;
	rest_end = at ? (size_t)(at - name) : len;
	if (at) {
		out->digest = at + 1;
		out->digest_len = len - rest_end - 1;
		if (!valid_digest(out->digest, out->digest_len))
			return false;
	}
	slash = memchr(name, '/', rest_end);
	if (slash) {
		size_t dlen = (size_t)(slash - name);

		bool upper = false;

		for (size_t i = 0; i < dlen; i++)
			upper |= name[i] >= 'A' && name[i] <= 'Z';
		if (memchr(name, '.', dlen) || memchr(name, ':', dlen) || upper ||
		    (dlen == 9 && memcmp(name, "localhost", 9) == 0)) {
			out->domain = name;
			out->domain_len = dlen;
			rest_start = dlen + 1;
			if (dlen == 0)
				return false;
		}
	}
	/* The tag: after the last ':' that has no '/' after it. */
	colon = NULL;
	for (size_t i = rest_end; i-- > rest_start;) {
		if (name[i] == '/')
			break;
		if (name[i] == ':') {
			colon = name + i;
			break;
		}
	}
	if (colon) {
		out->tag = colon + 1;
		out->tag_len = rest_end - (size_t)(colon - name) - 1;
		if (!valid_tag(out->tag, out->tag_len))
			return false;
		rest_end = (size_t)(colon - name);
	}
	out->path = name + rest_start;
	out->path_len = rest_end - rest_start;
	for (size_t i = rest_start, start = rest_start; i <= rest_end; i++) {
		if (i < rest_end && name[i] != '/')
			continue;
		if (!valid_component(name + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

bool bale_image_ref_is_docker_hub(const bale_image_ref *ref)
{
	return !ref->domain || (ref->domain_len == 9 && memcmp(ref->domain, "docker.io", 9) == 0) ||
	       (ref->domain_len == 15 && memcmp(ref->domain, "index.docker.io", 15) == 0) ||
	       (ref->domain_len == 20 && memcmp(ref->domain, "registry-1.docker.io", 20) == 0);
}
