/*
 * Internal interfaces of the image module: digests, the index of an outer tar, blob lookup in
 * the three transports, JSON parsing of index/manifest/config, and the layer stream.
 *
 * A blob is always a window of a file: a regular file of an OCI layout (offset 0) or a member
 * of an archive (the member's data offset in the outer tar). Nothing is extracted.
 */
#ifndef BALE_IMAGE_INTERNAL_H
#define BALE_IMAGE_INTERNAL_H

#include "bale/image.h"
#include "util/util.h"

#include <jansson.h>
#include <openssl/evp.h>

/* ---- digests (digest.c) ---- */

enum digest_alg { DIGEST_SHA256 = 1, DIGEST_SHA512 };
#define DIGEST_STRING_MAX (7 + 128 + 1) /* "sha512:" + hex + NUL */

/* True when `s` is "sha256:<64 lower hex>" or "sha512:<128 lower hex>"; sets alg and hex. */
bool digest_parse(const char *s, enum digest_alg *alg, const char **hex);

typedef struct hasher {
	EVP_MD_CTX *ctx;
	enum digest_alg alg;
} hasher;

int hasher_init(hasher *h, enum digest_alg alg);
void hasher_update(hasher *h, const void *data, size_t len);
/* Writes "alg:hex" to out (DIGEST_STRING_MAX bytes) and leaves the hasher ready for reuse. */
int hasher_final(hasher *h, char *out);
void hasher_release(hasher *h);

/* ---- an index of the members of a (seekable) outer tar (tarindex.c) ---- */

struct tar_member {
	char *name;	 /* normalized: no leading "./" or "/", no trailing "/" */
	char *link;	 /* symlink or hardlink target, NULL otherwise */
	uint64_t offset; /* of the data in the file */
	uint64_t size;
	char type; /* '0' file, '1' hardlink, '2' symlink, '5' dir, other: other */
};

struct tar_index {
	struct tar_member *members; /* sorted by name after tar_index_build() */
	size_t count, alloc;
	bale_arena arena;
};

int tar_index_build(struct tar_index *idx, int fd, const char *file, uint64_t max_members,
		    size_t max_path);
/* The regular file `name` (symlinks and hardlinks followed within the archive), or NULL. */
const struct tar_member *tar_index_find(const struct tar_index *idx, const char *name);
void tar_index_release(struct tar_index *idx);

/*
 * Normalizes an archive path of `len` bytes into `out` (`cap` bytes with the NUL): drops a
 * leading "/" (setting BALE_IMAGE_ENTRY_ABSOLUTE in *flags), "." and empty components, and
 * resolves ".." (setting BALE_IMAGE_ENTRY_DOTDOT). Returns 0, PATH_ESCAPES when ".." climbs
 * above the root, PATH_TOO_LONG when the result does not fit, PATH_NUL for a NUL byte.
 */
enum { PATH_ESCAPES = -1, PATH_TOO_LONG = -2, PATH_NUL = -3 };
int archive_path_clean(char *out, size_t cap, const char *in, size_t len, unsigned *flags);

/* ---- blobs (image.c) ---- */

struct blob {
	int fd; /* owned by the blob when own_fd, else by the image */
	bool own_fd;
	uint64_t offset; /* of the blob's first byte in fd */
	uint64_t size;
};

void blob_close(struct blob *b);

/* ---- the image (image.c) ---- */

struct bale_image {
	bale_image_options opts;
	bale_image_info info;
	bale_image_config config;
	bale_image_layer *layers;
	bale_arena arena; /* every string and array of info, config and layers */
	int fd;		  /* the archive, or -1 */
	int dirfd;	  /* the layout directory, or -1 */
	struct tar_index tar;
	char platform_buf[256];
};

/* Opens the blob `digest` of an OCI layout or archive (blobs/<alg>/<hex>). */
int image_open_blob(bale_image *img, const char *digest, struct blob *out);
/* Opens a member of the archive by its path. */
int image_open_member(bale_image *img, const char *name, struct blob *out);
/*
 * Reads a whole JSON blob bounded by max_json_size, checks it against `digest` (when not NULL)
 * and `size` (when not UINT64_MAX), parses it. `what` names it in messages ("manifest").
 * On success *out is a new reference (json_decref()).
 */
int image_read_json(bale_image *img, struct blob *b, const char *what, const char *name,
		    const char *digest, uint64_t size, json_t **out, char *digest_out);

/* ---- JSON documents (json.c) ---- */

/* Fills img->config from a config document; `where` names it in messages. */
int json_parse_config(bale_image *img, json_t *doc, const char *where);
char *image_strdup(bale_image *img, const char *s);

/* Typed access with clear messages; each returns 0 or BALE_EPARSE with the message set. */
int json_get_string(json_t *obj, const char *key, bool required, const char *where,
		    const char **out);

/* ---- layers (layer.c) ---- */

int layer_read(bale_image *img, size_t index, const bale_image_visitor *visitor);

#endif
