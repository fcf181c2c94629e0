/*
 * Opening an image: reference parsing, the three transports, index resolution by name and
 * platform, the manifest, the docker-archive manifest.json, and the config. Every JSON blob is
 * read whole (bounded by max_json_size), checked against its digest and size, then parsed.
 */
#include "image/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_OCI_INDEX	"application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG	"application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST	"application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V2	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1	"application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1S	"application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_DOCKER_CFG	"application/vnd.docker.container.image.v1+json"
#define REF_NAME	"org.opencontainers.image.ref.name"
#define MAX_NESTING	4
#define LIST_MAX	1024 /* bytes of a "choose one of" list in a message */

void bale_image_options_init(bale_image_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_json_size = (size_t)8 << 20;
	opts->max_layer_size = (uint64_t)64 << 30;
	opts->max_ratio = 200;
	opts->max_entries = (uint64_t)4 << 20;
	opts->max_path = 4096;
}

static char host_platform[48];

static void find_host_platform(void)
{
	const char *variant, *arch = bale_host_arch(&variant);

	/* An image index names the 64-bit ARM images linux/arm64/v8 (or without the variant). */
	if (strcmp(arch, "arm64") == 0)
		variant = "v8";
	snprintf(host_platform, sizeof(host_platform), "linux/%s%s%s", arch, *variant ? "/" : "",
		 variant);
}

const char *bale_image_host_platform(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, find_host_platform);
	return host_platform;
}

void blob_close(struct blob *b)
{
	if (b->own_fd && b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->own_fd = false;
}

static const char *transport_name(bale_image_transport t)
{
	switch (t) {
	case BALE_IMAGE_DOCKER_ARCHIVE:
		return "docker-archive";
	case BALE_IMAGE_OCI_ARCHIVE:
		return "oci-archive";
	default:
		return "oci";
	}
}

int image_open_member(bale_image *img, const char *name, struct blob *out)
{
	const struct tar_member *m = tar_index_find(&img->tar, name);

	if (!m)
		return bale_error_set(BALE_ENOTFOUND, "'%s' has no member '%s'", img->info.path,
				      name);
	out->fd = img->fd;
	out->own_fd = false;
	out->offset = m->offset;
	out->size = m->size;
	return 0;
}

int image_open_blob(bale_image *img, const char *digest, struct blob *out)
{
	enum digest_alg alg;
	const char *hex;
	char rel[16 + 128 + 1];
	struct stat st;

	if (!digest_parse(digest, &alg, &hex))
		return bale_error_set(BALE_EPARSE, "'%s' is not a valid digest", digest);
	snprintf(rel, sizeof(rel), "blobs/%s/%s", alg == DIGEST_SHA512 ? "sha512" : "sha256", hex);
	if (img->dirfd < 0)
		return image_open_member(img, rel, out);
	/* O_NONBLOCK: a FIFO planted in a layout must not hang the open (regular files ignore it)
	 */
	out->fd = openat(img->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (out->fd < 0) {
		if (errno == ENOENT)
			return bale_error_set(BALE_ENOTFOUND, "'%s' has no blob '%s'",
					      img->info.path, digest);
		return bale_error_set(BALE_EIO, "cannot open '%s/%s': %s", img->info.path, rel,
				      strerror(errno));
	}
	out->own_fd = true;
	out->offset = 0;
	if (fstat(out->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		blob_close(out);
		return bale_error_set(BALE_EIO, "'%s/%s' is not a regular file", img->info.path,
				      rel);
	}
	out->size = (uint64_t)st.st_size;
	return 0;
}

static int read_window(const struct blob *b, uint64_t pos, void *buf, size_t len, const char *what)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n =
		    pread(b->fd, (char *)buf + done, len - done, (off_t)(b->offset + pos + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bale_error_set(BALE_EIO, "cannot read %s: %s", what,
					      strerror(errno));
		if (n == 0)
			return bale_error_set(BALE_EPARSE, "%s: unexpected end of file", what);
		done += (size_t)n;
	}
	return 0;
}

int image_read_json(bale_image *img, struct blob *b, const char *what, const char *name,
		    const char *digest, uint64_t size, json_t **out, char *digest_out)
{
	enum digest_alg alg = DIGEST_SHA256;
	const char *hex;
	char got[DIGEST_STRING_MAX], label[512];
	json_error_t jerr;
	hasher h = {0};
	char *buf = NULL;
	int rc;

	snprintf(label, sizeof(label), "%s '%s'", what, name);
	if (digest && !digest_parse(digest, &alg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: '%s' is not a valid digest", label, digest);
	if (size != UINT64_MAX && b->size != size)
		return bale_error_set(BALE_EDIGEST, "%s is %llu bytes, its descriptor says %llu",
				      label, (unsigned long long)b->size, (unsigned long long)size);
	if (b->size > img->opts.max_json_size)
		return bale_error_set(BALE_ELIMIT,
				      "%s is %llu bytes, over the limit of %zu bytes for JSON",
				      label, (unsigned long long)b->size, img->opts.max_json_size);
	buf = malloc((size_t)b->size + 1);
	if (!buf)
		return bale_error_oom();
	if ((rc = read_window(b, 0, buf, (size_t)b->size, label)) != 0)
		goto out_free;
	if ((rc = hasher_init(&h, alg)) != 0)
		goto out_free;
	hasher_update(&h, buf, (size_t)b->size);
	rc = hasher_final(&h, got);
	hasher_release(&h);
	if (rc)
		goto out_free;
	if (digest && strcmp(got, digest) != 0) {
		rc = bale_error_set(BALE_EDIGEST, "%s does not match its digest (content is '%s')",
				    label, got);
		goto out_free;
	}
	if (digest_out)
		memcpy(digest_out, got, strlen(got) + 1);
	*out = json_loadb(buf, (size_t)b->size, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		rc = bale_error_set(BALE_EPARSE, "%s: line %d column %d: %s", label, jerr.line,
				    jerr.column, jerr.text);
out_free:
	free(buf);
	return rc;
}

/* ---- descriptors and platforms ---- */

struct desc {
	const char *media_type, *digest;
	uint64_t size;
	const char *os, *arch, *variant; /* platform, NULL when absent */
	const char *ref_name;
	bool attestation;
	json_t *urls;
};

static int parse_desc(json_t *obj, const char *where, struct desc *d)
{
	json_t *size, *plat, *ann;
	enum digest_alg alg;
	const char *hex;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(obj))
		return bale_error_set(BALE_EPARSE, "%s must be an object", where);
	if ((rc = json_get_string(obj, "mediaType", false, where, &d->media_type)) != 0 ||
	    (rc = json_get_string(obj, "digest", true, where, &d->digest)) != 0)
		return rc;
	if (!digest_parse(d->digest, &alg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: 'digest' is not a valid digest: '%s'",
				      where, d->digest);
	size = json_object_get(obj, "size");
	if (!size)
		return bale_error_set(BALE_EPARSE, "%s: missing 'size'", where);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return bale_error_set(BALE_EPARSE, "%s: 'size' must be a non-negative integer",
				      where);
	d->size = (uint64_t)json_integer_value(size);
	plat = json_object_get(obj, "platform");
	if (plat && !json_is_null(plat)) {
		if (!json_is_object(plat))
			return bale_error_set(BALE_EPARSE, "%s: 'platform' must be an object",
					      where);
		if ((rc = json_get_string(plat, "os", true, where, &d->os)) != 0 ||
		    (rc = json_get_string(plat, "architecture", true, where, &d->arch)) != 0 ||
		    (rc = json_get_string(plat, "variant", false, where, &d->variant)) != 0)
			return rc;
	}
	ann = json_object_get(obj, "annotations");
	if (ann && !json_is_null(ann)) {
		const char *type = NULL;

		if (!json_is_object(ann))
			return bale_error_set(BALE_EPARSE, "%s: 'annotations' must be an object",
					      where);
		if ((rc = json_get_string(ann, REF_NAME, false, where, &d->ref_name)) != 0 ||
		    (rc = json_get_string(ann, "vnd.docker.reference.type", false, where, &type)) !=
			0)
			return rc;
		d->attestation = type && strcmp(type, "attestation-manifest") == 0;
	}
	d->urls = json_object_get(obj, "urls");
	if (d->urls && !json_is_null(d->urls) && !json_is_array(d->urls))
		return bale_error_set(BALE_EPARSE, "%s: 'urls' must be an array of strings", where);
	return 0;
}

struct platform {
	char os[64], arch[64], variant[64];
};

static int platform_parse(struct platform *p, const char *s)
{
	const char *a = strchr(s, '/'), *v;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (!a || a == s)
		goto bad;
	v = strchr(a + 1, '/');
	n = (size_t)(a - s);
	if (n >= sizeof(p->os))
		goto bad;
	memcpy(p->os, s, n);
	n = v ? (size_t)(v - a - 1) : strlen(a + 1);
	if (n == 0 || n >= sizeof(p->arch))
		goto bad;
	memcpy(p->arch, a + 1, n);
	if (v) {
		n = strlen(v + 1);
		if (n == 0 || n >= sizeof(p->variant) || strchr(v + 1, '/'))
			goto bad;
		memcpy(p->variant, v + 1, n);
	}
	return 0;
bad:
	return bale_error_set(BALE_EINVAL, "bad platform '%s': expected os/arch[/variant]", s);
}

/* arm64 without a variant is v8, as containerd treats it. */
static const char *norm_variant(const char *arch, const char *variant)
{
	if ((!variant || !*variant) && strcmp(arch, "arm64") == 0)
		return "v8";
	return variant ? variant : "";
}

static bool platform_match(const struct platform *want, bool want_variant, const struct desc *d)
{
	if (!d->os || strcmp(want->os, d->os) != 0 || strcmp(want->arch, d->arch) != 0)
		return false;
	if (!want_variant)
		return true;
	return strcmp(norm_variant(want->arch, want->variant), norm_variant(d->arch, d->variant)) ==
	       0;
}

static void list_add(char *list, const char *item)
{
	size_t n = strlen(list);

	if (n + 8 >= LIST_MAX)
		return;
	snprintf(list + n, LIST_MAX - n, "%s%s", n ? ", " : "", item);
}

static void desc_platform(const struct desc *d, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s%s%s", d->os, d->arch, d->variant && *d->variant ? "/" : "",
		 d->variant ? d->variant : "");
}

static bool is_index_type(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0);
}

static bool is_manifest_type(const char *mt)
{
	return mt && (strcmp(mt, MT_OCI_MANIFEST) == 0 || strcmp(mt, MT_DOCKER_V2) == 0);
}

static int read_manifest(bale_image *img, const struct desc *d);

/*
 * Picks one manifest from an index: by ref name at the top (when `name` is given), then by
 * platform among several; nested indexes are followed up to MAX_NESTING deep.
 */
static int resolve_index(bale_image *img, json_t *index, const char *where, const char *name,
			 int depth)
{
	json_t *manifests, *item, *child = NULL;
	struct desc *cands = NULL, chosen;
	size_t ncand = 0, i, nmatch = 0;
	struct platform want;
	bool want_variant;
	char list[LIST_MAX] = "", item_where[600], got[DIGEST_STRING_MAX];
	const char *mt;
	struct blob b = {.fd = -1};
	int rc;

	if (depth > MAX_NESTING)
		return bale_error_set(BALE_ELIMIT, "%s: indexes nested more than %d deep", where,
				      MAX_NESTING);
	if (!json_is_object(index))
		return bale_error_set(BALE_EPARSE, "%s: not a JSON object", where);
	if ((rc = json_get_string(index, "mediaType", false, where, &mt)) != 0)
		return rc;
	if (mt && !is_index_type(mt))
		return bale_error_set(BALE_EPARSE, "%s: media type '%s' is not an image index",
				      where, mt);
	manifests = json_object_get(index, "manifests");
	if (!manifests)
		return bale_error_set(BALE_EPARSE, "%s: missing 'manifests'", where);
	if (!json_is_array(manifests))
		return bale_error_set(BALE_EPARSE, "%s: 'manifests' must be an array", where);
	cands = calloc(json_array_size(manifests) + 1, sizeof(*cands));
	if (!cands)
		return bale_error_oom();
	json_array_foreach(manifests, i, item)
	{
		struct desc d;

		snprintf(item_where, sizeof(item_where), "%s: manifests[%zu]", where, i);
		if ((rc = parse_desc(item, item_where, &d)) != 0)
			goto out;
		if (depth == 0 && name) {
			if (d.ref_name)
				list_add(list, d.ref_name);
			if (!d.ref_name || strcmp(d.ref_name, name) != 0)
				continue;
		}
		/* BuildKit's attestations sit beside the images with an unknown platform. */
		if (d.attestation || (d.os && strcmp(d.os, "unknown") == 0))
			continue;
		cands[ncand++] = d;
	}
	if (ncand == 0) {
		if (depth == 0 && name)
			rc = bale_error_set(BALE_ENOTFOUND, "%s: no image named '%s' (names: %s)",
					    where, name, *list ? list : "none");
		else
			rc = bale_error_set(BALE_ENOTFOUND, "%s: holds no image", where);
		goto out;
	}
	chosen = cands[0];
	if (ncand > 1) {
		const char *spec =
		    img->opts.platform ? img->opts.platform : bale_image_host_platform();
		bool all_have_platform = true;

		for (i = 0; i < ncand; i++)
			all_have_platform &= cands[i].os != NULL;
		if (!all_have_platform) {
			*list = '\0';
			for (i = 0; i < ncand; i++)
				list_add(list,
					 cands[i].ref_name ? cands[i].ref_name : cands[i].digest);
			rc = bale_error_set(
			    BALE_EINVAL, "%s: holds %zu images; name one as %s:%s:NAME (%s)", where,
			    ncand, transport_name(img->info.transport), img->info.path, list);
			goto out;
		}
		if ((rc = platform_parse(&want, spec)) != 0)
			goto out;
		/* The host's own default variant must not rule out an image without one. */
		want_variant = strchr(strchr(spec, '/') + 1, '/') != NULL && img->opts.platform;
		*list = '\0';
		for (i = 0; i < ncand; i++) {
			char p[200];

			desc_platform(&cands[i], p, sizeof(p));
			list_add(list, p);
			if (platform_match(&want, want_variant, &cands[i])) {
				if (nmatch == 0)
					chosen = cands[i];
				nmatch++;
			}
		}
		if (nmatch > 1 && !img->opts.platform) {
			/* Several variants for the host: take the host's own, as a runtime would.
			 */
			size_t exact = 0;

			for (i = 0; i < ncand; i++)
				if (platform_match(&want, true, &cands[i]) && exact++ == 0)
					chosen = cands[i];
			if (exact == 1)
				nmatch = 1;
		}
		if (nmatch == 0) {
			rc =
			    bale_error_set(BALE_ENOTFOUND,
					   "%s: no image for platform '%s' (platforms: %s); choose "
					   "one with --platform",
					   where, spec, list);
			goto out;
		}
		if (nmatch > 1) {
			rc = bale_error_set(BALE_EINVAL,
					    "%s: %zu images match platform '%s' (platforms: %s); "
					    "choose one with --platform os/arch/variant",
					    where, nmatch, spec, list);
			goto out;
		}
	}
	if (depth == 0 && chosen.ref_name && !img->info.name &&
	    !(img->info.name = image_strdup(img, chosen.ref_name))) {
		rc = bale_error_oom();
		goto out;
	}
	if (is_index_type(chosen.media_type)) {
		/* index.json itself has no digest; the first index it names is the image's (the
		   digest a registry shows for a multi-platform image). */
		if (!img->info.index_digest &&
		    !(img->info.index_digest = image_strdup(img, chosen.digest))) {
			rc = bale_error_oom();
			goto out;
		}
		snprintf(item_where, sizeof(item_where), "%s:%s: index '%s'",
			 transport_name(img->info.transport), img->info.path, chosen.digest);
		if ((rc = image_open_blob(img, chosen.digest, &b)) != 0)
			goto out;
		rc = image_read_json(img, &b, "index", chosen.digest, chosen.digest, chosen.size,
				     &child, got);
		blob_close(&b);
		if (rc)
			goto out;
		rc = resolve_index(img, child, item_where, NULL, depth + 1);
		goto out;
	}
	rc = read_manifest(img, &chosen);
out:
	json_decref(child);
	free(cands);
	return rc;
}

/* ---- layers ---- */

static bale_image_compression compression_of(const char *mt)
{
	size_t n = mt ? strlen(mt) : 0;

	if (n >= 5 && (strcmp(mt + n - 5, "+gzip") == 0 || strcmp(mt + n - 5, ".gzip") == 0))
		return BALE_IMAGE_GZIP;
	if (n >= 5 && (strcmp(mt + n - 5, "+zstd") == 0 || strcmp(mt + n - 5, ".zstd") == 0))
		return BALE_IMAGE_ZSTD;
	return BALE_IMAGE_UNCOMPRESSED;
}

/* Links layers to history, finds duplicates and missing blobs. */
static int finish_layers(bale_image *img)
{
	bale_image_config *c = &img->config;
	size_t k = 0;

	for (size_t i = 0; i < c->nhistory; i++) {
		bale_image_history *h = (bale_image_history *)&c->history[i];

		if (h->empty_layer || k >= img->info.nlayers)
			continue;
		h->layer = k;
		img->layers[k++].history = i;
	}
	for (size_t i = 0; i < img->info.nlayers; i++) {
		bale_image_layer *l = &img->layers[i];

		for (size_t j = 0; j < i && l->duplicate_of == BALE_IMAGE_NONE; j++)
			if (l->blob.digest && img->layers[j].blob.digest &&
			    strcmp(l->blob.digest, img->layers[j].blob.digest) == 0)
				l->duplicate_of = j;
		if (l->duplicate_of == BALE_IMAGE_NONE && l->path && !l->missing) {
			/* The blob's presence is known now; its content when it is read. */
			struct blob b = {.fd = -1};
			int rc = img->info.transport == BALE_IMAGE_DOCKER_ARCHIVE &&
					 strncmp(l->path, "blobs/", 6) != 0
				     ? image_open_member(img, l->path, &b)
				     : (img->dirfd >= 0 ? image_open_blob(img, l->blob.digest, &b)
							: image_open_member(img, l->path, &b));

			if (rc == BALE_ENOTFOUND) {
				l->missing = true;
				bale_error_clear();
			} else if (rc) {
				return rc;
			} else {
				if (img->info.transport == BALE_IMAGE_DOCKER_ARCHIVE)
					l->blob.size = b.size;
				blob_close(&b);
			}
		}
		if (l->duplicate_of != BALE_IMAGE_NONE)
			l->missing = img->layers[l->duplicate_of].missing;
	}
	return 0;
}

static int check_diff_ids(bale_image *img, size_t nlayers, const char *where)
{
	if (img->config.ndiff_ids != nlayers)
		return bale_error_set(BALE_EPARSE,
				      "%s: the manifest has %zu layers but the config lists %zu "
				      "diff_ids",
				      where, nlayers, img->config.ndiff_ids);
	return 0;
}

static int read_config(bale_image *img, struct blob *b, const char *name, const char *digest,
		       uint64_t size)
{
	json_t *doc = NULL;
	char got[DIGEST_STRING_MAX], where[600];
	int rc;

	rc = image_read_json(img, b, "config", name, digest, size, &doc, got);
	if (rc)
		return rc;
	snprintf(where, sizeof(where), "config '%s'", name);
	if ((rc = json_parse_config(img, doc, where)) != 0)
		goto out;
	img->info.config_blob.digest = image_strdup(img, got);
	img->info.config_blob.size = b->size;
	if (!img->info.config_blob.digest)
		rc = bale_error_oom();
	snprintf(img->platform_buf, sizeof(img->platform_buf), "%s/%s%s%s", img->config.os,
		 img->config.architecture, img->config.variant ? "/" : "",
		 img->config.variant ? img->config.variant : "");
	img->info.platform = img->platform_buf;
out:
	json_decref(doc);
	return rc;
}

static int read_manifest(bale_image *img, const struct desc *d)
{
	json_t *doc = NULL, *cfg, *layers, *item, *ver;
	struct blob b = {.fd = -1};
	struct desc cd;
	char where[600], got[DIGEST_STRING_MAX];
	const char *mt;
	size_t i;
	int rc;

	snprintf(where, sizeof(where), "%s:%s: manifest '%s'", transport_name(img->info.transport),
		 img->info.path, d->digest);
	if (d->media_type && !is_manifest_type(d->media_type))
		return bale_error_set(BALE_EPARSE, "%s: media type '%s' is not an image manifest",
				      where, d->media_type);
	if ((rc = image_open_blob(img, d->digest, &b)) != 0)
		return rc;
	rc = image_read_json(img, &b, "manifest", d->digest, d->digest, d->size, &doc, got);
	blob_close(&b);
	if (rc)
		return rc;
	if (!json_is_object(doc)) {
		rc = bale_error_set(BALE_EPARSE, "%s: not a JSON object", where);
		goto out;
	}
	ver = json_object_get(doc, "schemaVersion");
	if (ver && json_is_integer(ver) && json_integer_value(ver) == 1) {
		rc = bale_error_set(BALE_EPARSE,
				    "%s: Docker schema 1 manifests are not supported (convert with "
				    "skopeo copy --format v2s2)",
				    where);
		goto out;
	}
	if (!ver || !json_is_integer(ver) || json_integer_value(ver) != 2) {
		rc = bale_error_set(BALE_EPARSE, "%s: 'schemaVersion' must be 2", where);
		goto out;
	}
	if ((rc = json_get_string(doc, "mediaType", false, where, &mt)) != 0)
		goto out;
	if (mt && !is_manifest_type(mt)) {
		rc = bale_error_set(BALE_EPARSE, "%s: media type '%s' is not an image manifest",
				    where, mt);
		goto out;
	}
	img->info.manifest.digest = image_strdup(img, d->digest);
	img->info.manifest.media_type =
	    image_strdup(img, mt ? mt : (d->media_type ? d->media_type : MT_OCI_MANIFEST));
	img->info.manifest.size = d->size;
	cfg = json_object_get(doc, "config");
	if (!cfg) {
		rc = bale_error_set(BALE_EPARSE, "%s: missing 'config'", where);
		goto out;
	}
	{
		char cw[700];

		snprintf(cw, sizeof(cw), "%s: config", where);
		if ((rc = parse_desc(cfg, cw, &cd)) != 0)
			goto out;
	}
	if (!cd.media_type || (strcmp(cd.media_type, MT_OCI_CONFIG) != 0 &&
			       strcmp(cd.media_type, MT_DOCKER_CFG) != 0)) {
		rc = bale_error_set(BALE_EPARSE,
				    "%s: not a container image (config media type '%s')", where,
				    cd.media_type ? cd.media_type : "none");
		goto out;
	}
	img->info.config_blob.media_type = image_strdup(img, cd.media_type);
	if ((rc = image_open_blob(img, cd.digest, &b)) != 0)
		goto out;
	rc = read_config(img, &b, cd.digest, cd.digest, cd.size);
	blob_close(&b);
	if (rc)
		goto out;
	layers = json_object_get(doc, "layers");
	if (!layers || !json_is_array(layers)) {
		rc = bale_error_set(BALE_EPARSE, "%s: %s 'layers'", where,
				    layers ? "not an array:" : "missing");
		goto out;
	}
	if ((rc = check_diff_ids(img, json_array_size(layers), where)) != 0)
		goto out;
	img->layers =
	    bale_arena_calloc(&img->arena, json_array_size(layers) + 1, sizeof(*img->layers));
	if (!img->layers) {
		rc = bale_error_oom();
		goto out;
	}
	json_array_foreach(layers, i, item)
	{
		bale_image_layer *l = &img->layers[i];
		char lw[700], rel[16 + 128 + 1];
		struct desc ld;

		snprintf(lw, sizeof(lw), "%s: layers[%zu]", where, i);
		if ((rc = parse_desc(item, lw, &ld)) != 0)
			goto out;
		if (!ld.media_type) {
			rc = bale_error_set(BALE_EPARSE, "%s: missing 'mediaType'", lw);
			goto out;
		}
		l->index = i;
		l->blob.media_type = image_strdup(img, ld.media_type);
		l->blob.digest = image_strdup(img, ld.digest);
		l->blob.size = ld.size;
		l->diff_id = img->config.diff_ids[i];
		l->compression = compression_of(ld.media_type);
		l->foreign =
		    strstr(ld.media_type, "nondistributable") || strstr(ld.media_type, "foreign");
		l->duplicate_of = BALE_IMAGE_NONE;
		l->history = BALE_IMAGE_NONE;
		snprintf(rel, sizeof(rel), "blobs/%s", ld.digest);
		rel[12] = '/'; /* "blobs/sha256:hex" -> "blobs/sha256/hex" */
		l->path = image_strdup(img, rel);
		if (ld.urls && json_is_array(ld.urls)) {
			const char **urls = bale_arena_calloc(
			    &img->arena, json_array_size(ld.urls) + 1, sizeof(*urls));
			json_t *u;
			size_t k;

			if (!urls) {
				rc = bale_error_oom();
				goto out;
			}
			json_array_foreach(ld.urls, k, u)
			{
				if (!json_is_string(u)) {
					rc = bale_error_set(
					    BALE_EPARSE, "%s: 'urls' must be an array of strings",
					    lw);
					goto out;
				}
				urls[k] = image_strdup(img, json_string_value(u));
			}
			l->urls = urls;
			l->nurls = json_array_size(ld.urls);
		}
		if (!l->blob.media_type || !l->blob.digest || !l->path) {
			rc = bale_error_oom();
			goto out;
		}
	}
	img->info.layers = img->layers;
	img->info.nlayers = json_array_size(layers);
	rc = finish_layers(img);
out:
	json_decref(doc);
	return rc;
}

/* ---- docker-archive ---- */

/*
 * Normalizes a docker reference as the docker CLI reads it: a bare name gets "docker.io/"
 * (and "library/" when it has no slash), a missing tag gets ":latest".
 */
static void normalize_ref(const char *in, char *out, size_t cap)
{
	const char *slash = strchr(in, '/'), *last = strrchr(in, '/');
	const char *tail = last ? last + 1 : in;
	bool has_domain = false, has_tag = strchr(tail, ':') || strchr(in, '@');

	if (slash) {
		size_t n = (size_t)(slash - in);

		has_domain = memchr(in, '.', n) || memchr(in, ':', n) ||
			     (n == 9 && strncmp(in, "localhost", 9) == 0);
	}
	snprintf(out, cap, "%s%s%s%s", has_domain ? "" : "docker.io/",
		 (!has_domain && !slash) ? "library/" : "", in, has_tag ? "" : ":latest");
}

/* The digest that a member path names: "<hex>.json", "<hex>.tar" or "blobs/sha256/<hex>". */
static bool digest_from_path(const char *path, const char *suffix, char *out)
{
	const char *base = strrchr(path, '/');
	size_t n;
	enum digest_alg alg;
	const char *hex;

	if (strncmp(path, "blobs/sha256/", 13) == 0 || strncmp(path, "blobs/sha512/", 13) == 0) {
		snprintf(out, DIGEST_STRING_MAX + 8, "%.6s:%s", path + 6, path + 13);
		return digest_parse(out, &alg, &hex);
	}
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n != 64 + strlen(suffix) || strcmp(base + 64, suffix) != 0)
		return false;
	snprintf(out, DIGEST_STRING_MAX + 8, "sha256:%.64s", base);
	return digest_parse(out, &alg, &hex);
}

static int open_docker_archive(bale_image *img, const char *name)
{
	json_t *doc = NULL, *item, *chosen = NULL, *layers, *sources;
	struct blob b = {.fd = -1};
	char where[600], list[LIST_MAX] = "", want[600], dig[DIGEST_STRING_MAX + 8];
	const char *cfg_path;
	size_t i, n;
	int rc;

	snprintf(where, sizeof(where), "docker-archive:%s: manifest.json", img->info.path);
	if ((rc = image_open_member(img, "manifest.json", &b)) != 0)
		return rc;
	if ((rc = image_read_json(img, &b, "manifest", "manifest.json", NULL, UINT64_MAX, &doc,
				  NULL)) != 0)
		return bale_error_prefix("docker-archive:%s", img->info.path);
	if (!json_is_array(doc) || json_array_size(doc) == 0) {
		rc = bale_error_set(BALE_EPARSE, "%s: must be a non-empty array", where);
		goto out;
	}
	n = json_array_size(doc);
	if (name && name[0] == '@') {
		char *end;
		unsigned long k = strtoul(name + 1, &end, 10);

		if (!name[1] || *end || k >= n) {
			rc = bale_error_set(BALE_ENOTFOUND,
					    "docker-archive:%s: no image '%s' (it holds %zu)",
					    img->info.path, name, n);
			goto out;
		}
		chosen = json_array_get(doc, k);
	}
	if (name && name[0] != '@')
		normalize_ref(name, want, sizeof(want));
	json_array_foreach(doc, i, item)
	{
		json_t *tags = json_is_object(item) ? json_object_get(item, "RepoTags") : NULL, *t;
		size_t k;

		if (tags && !json_is_null(tags) && !json_is_array(tags)) {
			rc = bale_error_set(BALE_EPARSE, "%s: [%zu].RepoTags must be an array",
					    where, i);
			goto out;
		}
		json_array_foreach(tags, k, t)
		{
			char norm[600];

			if (!json_is_string(t))
				continue;
			list_add(list, json_string_value(t));
			normalize_ref(json_string_value(t), norm, sizeof(norm));
			if (name && name[0] != '@' && !chosen && strcmp(norm, want) == 0) {
				chosen = item;
				img->info.name = image_strdup(img, json_string_value(t));
			}
		}
	}
	if (!chosen && name) {
		rc = bale_error_set(BALE_ENOTFOUND,
				    "docker-archive:%s: no image named '%s' (names: %s)",
				    img->info.path, name, *list ? list : "none");
		goto out;
	}
	if (!chosen && n > 1) {
		rc = bale_error_set(BALE_EINVAL,
				    "docker-archive:%s: holds %zu images; name one as "
				    "docker-archive:%s:NAME:TAG or :@N (names: %s)",
				    img->info.path, n, img->info.path, *list ? list : "none");
		goto out;
	}
	if (!chosen)
		chosen = json_array_get(doc, 0);
	if (!json_is_object(chosen)) {
		rc = bale_error_set(BALE_EPARSE, "%s: an entry is not an object", where);
		goto out;
	}
	if (!img->info.name) {
		json_t *tags = json_object_get(chosen, "RepoTags");

		if (json_is_array(tags) && json_is_string(json_array_get(tags, 0)))
			img->info.name =
			    image_strdup(img, json_string_value(json_array_get(tags, 0)));
	}
	if ((rc = json_get_string(chosen, "Config", true, where, &cfg_path)) != 0)
		goto out;
	if ((rc = image_open_member(img, cfg_path, &b)) != 0)
		goto out;
	rc = read_config(img, &b, cfg_path, digest_from_path(cfg_path, ".json", dig) ? dig : NULL,
			 UINT64_MAX);
	blob_close(&b);
	if (rc)
		goto out;
	img->info.manifest.media_type = "";
	img->info.config_blob.media_type = "";
	layers = json_object_get(chosen, "Layers");
	if (!layers || !json_is_array(layers)) {
		rc = bale_error_set(BALE_EPARSE, "%s: %s 'Layers'", where,
				    layers ? "not an array:" : "missing");
		goto out;
	}
	if ((rc = check_diff_ids(img, json_array_size(layers), where)) != 0)
		goto out;
	sources = json_object_get(chosen, "LayerSources");
	if (sources && !json_is_null(sources) && !json_is_object(sources)) {
		rc = bale_error_set(BALE_EPARSE, "%s: 'LayerSources' must be an object", where);
		goto out;
	}
	img->layers =
	    bale_arena_calloc(&img->arena, json_array_size(layers) + 1, sizeof(*img->layers));
	if (!img->layers) {
		rc = bale_error_oom();
		goto out;
	}
	json_array_foreach(layers, i, item)
	{
		bale_image_layer *l = &img->layers[i];
		json_t *src;

		if (!json_is_string(item)) {
			rc = bale_error_set(BALE_EPARSE, "%s: 'Layers[%zu]' must be a string",
					    where, i);
			goto out;
		}
		l->index = i;
		l->path = image_strdup(img, json_string_value(item));
		l->diff_id = img->config.diff_ids[i];
		l->blob.media_type = "";
		l->compression = BALE_IMAGE_UNCOMPRESSED;
		l->duplicate_of = BALE_IMAGE_NONE;
		l->history = BALE_IMAGE_NONE;
		if (strncmp(l->path, "blobs/", 6) == 0 && digest_from_path(l->path, "", dig))
			l->blob.digest = image_strdup(img, dig);
		src = sources ? json_object_get(sources, l->diff_id) : NULL;
		if (src && tar_index_find(&img->tar, l->path) == NULL) {
			struct desc sd;
			char sw[700];

			snprintf(sw, sizeof(sw), "%s: LayerSources['%s']", where, l->diff_id);
			if ((rc = parse_desc(src, sw, &sd)) != 0)
				goto out;
			l->foreign = true;
			l->blob.media_type = image_strdup(img, sd.media_type ? sd.media_type : "");
			l->blob.digest = image_strdup(img, sd.digest);
			l->blob.size = sd.size;
			l->compression = compression_of(sd.media_type);
			if (json_is_array(sd.urls)) {
				const char **urls = bale_arena_calloc(
				    &img->arena, json_array_size(sd.urls) + 1, sizeof(*urls));
				json_t *u;
				size_t k, m = 0;

				if (!urls) {
					rc = bale_error_oom();
					goto out;
				}
				json_array_foreach(sd.urls, k, u)
				{
					if (json_is_string(u))
						urls[m++] = image_strdup(img, json_string_value(u));
				}
				l->urls = urls;
				l->nurls = m;
			}
		}
		if (!l->path) {
			rc = bale_error_oom();
			goto out;
		}
	}
	img->info.layers = img->layers;
	img->info.nlayers = json_array_size(layers);
	/* Legacy archives name no blob digest: layers that share a member are duplicates. */
	for (i = 0; i < img->info.nlayers; i++) {
		const struct tar_member *a = tar_index_find(&img->tar, img->layers[i].path);

		for (size_t j = 0; a && j < i; j++)
			if (!img->layers[i].blob.digest &&
			    a == tar_index_find(&img->tar, img->layers[j].path)) {
				img->layers[i].duplicate_of = j;
				break;
			}
	}
	rc = finish_layers(img);
out:
	json_decref(doc);
	return rc;
}

/* ---- OCI layouts ---- */

static int open_oci(bale_image *img, const char *name)
{
	json_t *index = NULL;
	struct blob b = {.fd = -1};
	char where[600];
	int rc;

	snprintf(where, sizeof(where), "%s:%s: index.json", transport_name(img->info.transport),
		 img->info.path);
	if (img->dirfd >= 0) {
		struct stat st;

		b.fd = openat(img->dirfd, "index.json", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (b.fd < 0)
			return bale_error_set(errno == ENOENT ? BALE_ENOTFOUND : BALE_EIO,
					      "'%s' is not an OCI image layout: no index.json (%s)",
					      img->info.path, strerror(errno));
		b.own_fd = true;
		if (fstat(b.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			blob_close(&b);
			return bale_error_set(BALE_EIO, "'%s/index.json' is not a regular file",
					      img->info.path);
		}
		b.size = (uint64_t)st.st_size;
	} else if ((rc = image_open_member(img, "index.json", &b)) != 0) {
		return rc;
	}
	rc = image_read_json(img, &b, "index", "index.json", NULL, UINT64_MAX, &index, NULL);
	blob_close(&b);
	if (rc)
		return bale_error_prefix("%s:%s", transport_name(img->info.transport),
					 img->info.path);
	rc = resolve_index(img, index, where, name, 0);
	json_decref(index);
	return rc;
}

/* ---- references ---- */

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int open_archive_file(bale_image *img)
{
	unsigned char magic[4] = {0};
	ssize_t n;

	struct stat st;

	img->fd = open(img->info.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0)
		return bale_error_set(errno == ENOENT ? BALE_ENOTFOUND : BALE_EIO,
				      "cannot open '%s': %s", img->info.path, strerror(errno));
	if (fstat(img->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return bale_error_set(
		    BALE_EIO,
		    "'%s' is not a regular file; bale reads archives in place, so "
		    "save it to a file first",
		    img->info.path);
	n = pread(img->fd, magic, sizeof(magic), 0);
	if (n == 4 &&
	    ((magic[0] == 0x1f && magic[1] == 0x8b) ||
	     (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)))
		return bale_error_set(BALE_EPARSE,
				      "'%s' is a compressed archive; bale reads archives in place, "
				      "so decompress it first",
				      img->info.path);
	return tar_index_build(&img->tar, img->fd, img->info.path, img->opts.max_entries,
			       img->opts.max_path);
}

int bale_image_open(bale_image **out, const char *ref, const bale_image_options *opts)
{
	bale_image *img;
	const char *rest = ref, *name = NULL;
	char *path = NULL;
	int kind = 0; /* 0 bare, else a bale_image_transport */
	int rc;

	*out = NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return bale_error_oom();
	img->fd = img->dirfd = -1;
	if (opts)
		img->opts = *opts;
	else
		bale_image_options_init(&img->opts);
	if (img->opts.platform) {
		struct platform p;

		if ((rc = platform_parse(&p, img->opts.platform)) != 0)
			goto fail;
	}
	if (has_prefix(ref, "docker-archive:")) {
		kind = BALE_IMAGE_DOCKER_ARCHIVE;
		rest = ref + 15;
	} else if (has_prefix(ref, "oci-archive:")) {
		kind = BALE_IMAGE_OCI_ARCHIVE;
		rest = ref + 12;
	} else if (has_prefix(ref, "oci:")) {
		kind = BALE_IMAGE_OCI_LAYOUT;
		rest = ref + 4;
	}
	if (kind) {
		/* As skopeo: the path ends at the first ':', the rest names the image. */
		const char *colon = strchr(rest, ':');

		path = colon ? bale_arena_strndup(&img->arena, rest, (size_t)(colon - rest))
			     : bale_arena_strdup(&img->arena, rest);
		name = colon ? colon + 1 : NULL;
		if (name && !*name)
			name = NULL;
	} else {
		path = bale_arena_strdup(&img->arena, ref);
	}
	if (!path) {
		rc = bale_error_oom();
		goto fail;
	}
	if (!*path) {
		rc = bale_error_set(BALE_EINVAL, "'%s': no path in the image reference", ref);
		goto fail;
	}
	img->info.path = path;
	if (kind == 0) {
		struct stat st;

		if (stat(path, &st) != 0) {
			rc = bale_error_set(errno == ENOENT ? BALE_ENOTFOUND : BALE_EIO,
					    "cannot open '%s': %s (an image is a path, "
					    "docker-archive:FILE, oci-archive:FILE or oci:DIR)",
					    path, strerror(errno));
			goto fail;
		}
		kind = S_ISDIR(st.st_mode) ? BALE_IMAGE_OCI_LAYOUT : 0;
	}
	if (kind == BALE_IMAGE_OCI_LAYOUT) {
		img->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (img->dirfd < 0) {
			rc =
			    bale_error_set(errno == ENOENT ? BALE_ENOTFOUND : BALE_EIO,
					   "cannot open directory '%s': %s", path, strerror(errno));
			goto fail;
		}
	} else if ((rc = open_archive_file(img)) != 0) {
		goto fail;
	}
	if (kind == 0) {
		if (tar_index_find(&img->tar, "manifest.json"))
			kind = BALE_IMAGE_DOCKER_ARCHIVE;
		else if (tar_index_find(&img->tar, "index.json"))
			kind = BALE_IMAGE_OCI_ARCHIVE;
		else {
			rc = bale_error_set(BALE_EPARSE,
					    "'%s' is not an image archive: it has no manifest.json "
					    "(docker-archive) and no index.json (oci-archive)",
					    path);
			goto fail;
		}
	}
	img->info.transport = (bale_image_transport)kind;
	img->info.config = &img->config;
	rc = kind == BALE_IMAGE_DOCKER_ARCHIVE ? open_docker_archive(img, name)
					       : open_oci(img, name);
	if (rc)
		goto fail;
	*out = img;
	return 0;
fail:
	bale_image_free(img);
	return rc;
}

void bale_image_free(bale_image *image)
{
	if (!image)
		return;
	if (image->fd >= 0)
		close(image->fd);
	if (image->dirfd >= 0)
		close(image->dirfd);
	tar_index_release(&image->tar);
	bale_arena_release(&image->arena);
	free(image);
}

const bale_image_info *bale_image_info_get(const bale_image *image)
{
	return &image->info;
}

int bale_image_read_layer(bale_image *image, size_t index, const bale_image_visitor *visitor)
{
	bale_image_layer *l;

	if (index >= image->info.nlayers)
		return bale_error_set(BALE_EINVAL, "no layer %zu (the image has %zu)", index,
				      image->info.nlayers);
	l = &image->layers[index];
	if (l->missing)
		return bale_error_set(BALE_ENOTFOUND, "layer %zu ('%s') is not in the image%s",
				      index, l->blob.digest ? l->blob.digest : l->diff_id,
				      l->foreign ? " (a foreign layer)" : "");
	return layer_read(image, index, visitor);
}

int bale_image_read_layers(bale_image *image, const bale_image_visitor *visitor)
{
	static const bale_image_visitor none = {0};

	if (!visitor)
		visitor = &none;
	for (size_t i = 0; i < image->info.nlayers; i++) {
		bale_image_layer *l = &image->layers[i];
		int rc;

		if (l->missing || l->duplicate_of != BALE_IMAGE_NONE) {
			if (visitor->layer_begin &&
			    (rc = visitor->layer_begin(visitor->ctx, l)) != 0)
				return rc;
			if (l->duplicate_of != BALE_IMAGE_NONE && !l->missing) {
				const bale_image_layer *first = &image->layers[l->duplicate_of];

				l->verified = first->verified;
				l->uncompressed_size = first->uncompressed_size;
				l->entries = first->entries;
				l->compression = first->compression;
				if (!l->blob.digest)
					l->blob.digest = first->blob.digest;
			}
			if (visitor->layer_end && (rc = visitor->layer_end(visitor->ctx, l)) != 0)
				return rc;
			continue;
		}
		if ((rc = layer_read(image, i, visitor)) != 0)
			return rc;
	}
	return 0;
}
