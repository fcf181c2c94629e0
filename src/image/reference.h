/*
 * reference.h: image names as Docker writes them, [DOMAIN/]PATH[:TAG][@DIGEST], split the way
 * the distribution/reference grammar splits them: the first path component is a registry
 * domain when it holds '.' or ':' or is "localhost"; the tag follows the last ':' after the
 * last '/'; the digest follows '@'. The parts are views into the parsed string.
 */
#ifndef BALE_IMAGE_REFERENCE_H
#define BALE_IMAGE_REFERENCE_H

#include "bale/common.h"

typedef struct bale_image_ref {
	const char *domain; /* NULL when the name has none (Docker Hub is meant) */
	size_t domain_len;
	const char *path; /* "library/debian" is written "debian" */
	size_t path_len;
	const char *tag; /* NULL when absent */
	size_t tag_len;
	const char *digest; /* "sha256:..." or NULL */
	size_t digest_len;
} bale_image_ref;

/*
 * Splits `name`. Returns false when it is not a valid reference (empty, upper case in the
 * path, an empty component, a bad tag or digest, or a variable left unexpanded).
 */
bool bale_image_ref_parse(bale_image_ref *out, const char *name);

/* True when the reference names Docker Hub (no domain, or docker.io / index.docker.io). */
bool bale_image_ref_is_docker_hub(const bale_image_ref *ref);

#endif
