/*
 * The layer stream: blob window -> hash of the blob -> decompression (isa-l or zlib for gzip,
 * libzstd) -> hash of the tar (diff_id) -> libarchive, fed through its read callback, ->
 * one callback per entry. Buffers are fixed (1 MiB in, 1 MiB out), so memory does not depend
 * on the layer's size. Errors found in the stream are sticky and win over libarchive's own
 * message, which would only say the data ended.
 */
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#ifdef BALE_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif

#define IN_SIZE	    ((size_t)1 << 20)
#define OUT_SIZE    ((size_t)1 << 20)
#define RATIO_FLOOR ((uint64_t)64 << 20) /* bytes out before the ratio limit applies */

struct stream {
	bale_image *img;
	bale_image_layer *layer;
	struct blob blob;
	char label[600]; /* "layer 2 'sha256:...'" */
	uint64_t pos;	 /* bytes of the blob read */
	unsigned char *in, *out;
	size_t in_len, in_off;
	bale_image_compression comp;
#ifdef BALE_HAVE_ISAL
	struct inflate_state *isal;
#else
	z_stream *z;
#endif
	ZSTD_DStream *zstd;
	bool member_done; /* the compressed stream ended at a member or frame boundary */
	bool eof;	  /* nothing more comes out */
	hasher blob_hash, diff_hash;
	bool hash_once; /* uncompressed with blob digest == diff_id: one hash serves both */
	uint64_t total_out;
	int err;		/* sticky */
	const char *entry_path; /* for messages: the entry being read, or NULL */
	char entry_buf[256];
};

struct bale_image_reader {
	struct archive *ar;
	struct stream *s;
	bool is_file;
};

static int stream_fail(struct stream *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int stream_fail(struct stream *s, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (s->err)
		return s->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->entry_path)
		bale_error_set(code, "%s: %s (at entry '%s')", s->label, msg, s->entry_path);
	else
		bale_error_set(code, "%s: %s", s->label, msg);
	s->err = code;
	return code;
}

/* Reads up to `len` more bytes of the blob, hashing them. Returns the count, 0 at its end. */
static ssize_t blob_take(struct stream *s, unsigned char *buf, size_t len)
{
	uint64_t left = s->blob.size - s->pos;
	ssize_t n;

	if (left == 0)
		return 0;
	if (len > left)
		len = (size_t)left;
	do {
		n = pread(s->blob.fd, buf, len, (off_t)(s->blob.offset + s->pos));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return stream_fail(s, BALE_EIO, "cannot read: %s", strerror(errno));
	if (n == 0)
		return stream_fail(s, BALE_EPARSE, "unexpected end of file after %llu bytes",
				   (unsigned long long)s->pos);
	s->pos += (uint64_t)n;
	hasher_update(&s->blob_hash, buf, (size_t)n);
	return n;
}

static int refill(struct stream *s)
{
	ssize_t n;

	if (s->in_off < s->in_len)
		return 0;
	s->in_off = s->in_len = 0;
	n = blob_take(s, s->in, IN_SIZE);
	if (n < 0)
		return (int)n;
	s->in_len = (size_t)n;
	return 0;
}

static bool input_left(const struct stream *s)
{
	return s->in_off < s->in_len || s->pos < s->blob.size;
}

/* True when the unread input starts with the gzip magic; moves a split magic together. */
static bool gzip_member_follows(struct stream *s)
{
	if (s->in_len - s->in_off < 2 && s->pos < s->blob.size) {
		size_t keep = s->in_len - s->in_off;
		ssize_t n;

		memmove(s->in, s->in + s->in_off, keep);
		s->in_off = 0;
		s->in_len = keep;
		n = blob_take(s, s->in + keep, IN_SIZE - keep);
		if (n < 0)
			return false;
		s->in_len += (size_t)n;
	}
	return s->in_len - s->in_off >= 2 && s->in[s->in_off] == 0x1f &&
	       s->in[s->in_off + 1] == 0x8b;
}

#ifdef BALE_HAVE_ISAL
static ssize_t inflate_some(struct stream *s)
{
	for (;;) {
		int ret;
		size_t produced;

		if (refill(s) != 0)
			return s->err;
		if (s->member_done) {
			if (!input_left(s))
				return 0;
			if (!gzip_member_follows(s))
				return s->err ? s->err
					      : stream_fail(s, BALE_EPARSE,
							    "trailing data after the gzip stream");
			/* Another gzip member follows (pigz and `cat a.gz b.gz` write these). */
			isal_inflate_reset(s->isal);
			s->isal->crc_flag = ISAL_GZIP;
			s->member_done = false;
		}
		s->isal->next_in = s->in + s->in_off;
		s->isal->avail_in = (uint32_t)(s->in_len - s->in_off);
		s->isal->next_out = s->out;
		s->isal->avail_out = (uint32_t)OUT_SIZE;
		ret = isal_inflate(s->isal);
		s->in_off = s->in_len - s->isal->avail_in;
		produced = OUT_SIZE - s->isal->avail_out;
		if (ret < 0) {
			const char *why =
			    ret == ISAL_INCORRECT_CHECKSUM ? "gzip checksum mismatch"
			    : ret == ISAL_INVALID_WRAPPER
				? (s->total_out ? "trailing data after the gzip stream"
						: "not a gzip stream")
				: "corrupt gzip data";

			return stream_fail(s, BALE_EPARSE, "%s (compressed offset %llu)", why,
					   (unsigned long long)(s->pos - (s->in_len - s->in_off)));
		}
		if (s->isal->block_state == ISAL_BLOCK_FINISH)
			s->member_done = true;
		if (produced)
			return (ssize_t)produced;
		if (!s->member_done && !input_left(s))
			return stream_fail(s, BALE_EPARSE,
					   "unexpected end of data: the gzip stream is truncated");
	}
}
#else
static ssize_t inflate_some(struct stream *s)
{
	for (;;) {
		int ret;
		size_t produced;

		if (refill(s) != 0)
			return s->err;
		if (s->member_done) {
			if (!input_left(s))
				return 0;
			if (!gzip_member_follows(s))
				return s->err ? s->err
					      : stream_fail(s, BALE_EPARSE,
							    "trailing data after the gzip stream");
			inflateReset(s->z);
			s->member_done = false;
		}
		s->z->next_in = s->in + s->in_off;
		s->z->avail_in = (uInt)(s->in_len - s->in_off);
		s->z->next_out = s->out;
		s->z->avail_out = (uInt)OUT_SIZE;
		ret = inflate(s->z, Z_NO_FLUSH);
		s->in_off = s->in_len - s->z->avail_in;
		produced = OUT_SIZE - s->z->avail_out;
		if (ret == Z_STREAM_END)
			s->member_done = true;
		else if (ret != Z_OK && ret != Z_BUF_ERROR)
			return stream_fail(s, BALE_EPARSE, "%s (compressed offset %llu)",
					   s->total_out && ret == Z_DATA_ERROR && produced == 0
					       ? "trailing data after the gzip stream"
					       : "corrupt gzip data",
					   (unsigned long long)(s->pos - (s->in_len - s->in_off)));
		if (produced)
			return (ssize_t)produced;
		if (!s->member_done && !input_left(s))
			return stream_fail(s, BALE_EPARSE,
					   "unexpected end of data: the gzip stream is truncated");
	}
}
#endif

static ssize_t unzstd_some(struct stream *s)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out = {s->out, OUT_SIZE, 0};
		size_t ret;

		if (refill(s) != 0)
			return s->err;
		if (!input_left(s)) {
			if (!s->member_done)
				return stream_fail(
				    s, BALE_EPARSE,
				    "unexpected end of data: the zstd stream is truncated");
			return 0;
		}
		in.src = s->in;
		in.size = s->in_len;
		in.pos = s->in_off;
		ret = ZSTD_decompressStream(s->zstd, &out, &in);
		s->in_off = in.pos;
		if (ZSTD_isError(ret))
			return stream_fail(s, BALE_EPARSE, "corrupt zstd data: %s",
					   ZSTD_getErrorName(ret));
		/* 0: a frame ended and was flushed; frames may follow (they are concatenated). */
		s->member_done = ret == 0;
		if (out.pos)
			return (ssize_t)out.pos;
	}
}

/* Produces the next chunk of the tar stream into s->out; 0 at its end. */
static ssize_t produce(struct stream *s)
{
	ssize_t n;

	if (s->err)
		return s->err;
	if (s->eof)
		return 0;
	switch (s->comp) {
	case BALE_IMAGE_GZIP:
		n = inflate_some(s);
		break;
	case BALE_IMAGE_ZSTD:
		n = unzstd_some(s);
		break;
	default:
		n = blob_take(s, s->out, OUT_SIZE);
		break;
	}
	if (n < 0)
		return n;
	if (n == 0) {
		s->eof = true;
		return 0;
	}
	if (!s->hash_once)
		hasher_update(&s->diff_hash, s->out, (size_t)n);
	s->total_out += (uint64_t)n;
	if (s->total_out > s->img->opts.max_layer_size)
		return stream_fail(s, BALE_ELIMIT,
				   "uncompressed size is over the limit of %llu bytes",
				   (unsigned long long)s->img->opts.max_layer_size);
	if (s->img->opts.max_ratio && s->total_out > RATIO_FLOOR &&
	    s->total_out / s->img->opts.max_ratio > s->blob.size)
		return stream_fail(s, BALE_ELIMIT,
				   "decompresses to over %u times its %llu bytes (a decompression "
				   "bomb?); the ratio limit can be raised",
				   s->img->opts.max_ratio, (unsigned long long)s->blob.size);
	return n;
}

static la_ssize_t archive_feed(struct archive *ar, void *ctx, const void **buf)
{
	struct stream *s = ctx;
	ssize_t n = produce(s);

	*buf = s->out;
	if (n < 0) {
		archive_set_error(ar, EIO, "%s", bale_error_last()->message);
		return ARCHIVE_FATAL;
	}
	return n;
}

static bale_image_compression sniff(const unsigned char *m, size_t n, bale_image_compression dflt)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return BALE_IMAGE_GZIP;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return BALE_IMAGE_ZSTD;
	/* A tar starts with a name; "ustar" sits at offset 257. Anything else keeps the type. */
	if (n >= 262 && memcmp(m + 257, "ustar", 5) == 0)
		return BALE_IMAGE_UNCOMPRESSED;
	return dflt == BALE_IMAGE_UNCOMPRESSED || n < 4 ? BALE_IMAGE_UNCOMPRESSED : dflt;
}

int bale_image_entry_read(bale_image_reader *reader, void *buf, size_t len, size_t *out)
{
	la_ssize_t n;

	*out = 0;
	if (!reader->is_file || len == 0)
		return 0;
	n = archive_read_data(reader->ar, buf, len);
	if (n < 0) {
		if (reader->s->err)
			return reader->s->err;
		return stream_fail(reader->s, BALE_EPARSE, "%s", archive_error_string(reader->ar));
	}
	*out = (size_t)n;
	return 0;
}

struct scratch {
	char *path, *link;
	bale_image_xattr *xattrs;
	size_t xattrs_alloc;
};

static int clean_name(struct stream *s, const char *raw, char *out, unsigned *flags,
		      const char *what, uint64_t index)
{
	int rc = archive_path_clean(out, s->img->opts.max_path + 1, raw, strlen(raw), flags);

	if (rc == PATH_ESCAPES)
		return stream_fail(s, BALE_EPARSE, "entry %llu: %s '%s' escapes the root with '..'",
				   (unsigned long long)index, what, raw);
	if (rc == PATH_TOO_LONG)
		return stream_fail(s, BALE_ELIMIT,
				   "entry %llu: %s is over the limit of %zu bytes: '%.200s...'",
				   (unsigned long long)index, what, s->img->opts.max_path, raw);
	if (rc == PATH_NUL)
		return stream_fail(s, BALE_EPARSE, "entry %llu: %s holds a NUL byte",
				   (unsigned long long)index, what);
	return 0;
}

static int fill_entry(struct stream *s, struct archive_entry *ae, bale_image_entry *e,
		      struct scratch *sc, uint64_t index)
{
	const char *raw = archive_entry_pathname(ae), *hard = archive_entry_hardlink(ae);
	const char *name, *value;
	size_t size;
	unsigned lflags = 0;
	int nx, rc;

	memset(e, 0, sizeof(*e));
	if (!raw || !*raw)
		return stream_fail(s, BALE_EPARSE, "entry %llu has no name",
				   (unsigned long long)index);
	e->name_raw = raw;
	if ((rc = clean_name(s, raw, sc->path, &e->flags, "path", index)) != 0)
		return rc;
	e->path = sc->path;
	snprintf(s->entry_buf, sizeof(s->entry_buf), "%s", raw);
	s->entry_path = s->entry_buf;
	e->index = index;
	if (hard) {
		e->type = BALE_IMAGE_ENTRY_HARDLINK;
		if ((rc = clean_name(s, hard, sc->link, &lflags, "hardlink target", index)) != 0)
			return rc;
		e->link = sc->link;
	} else {
		switch (archive_entry_filetype(ae)) {
		case AE_IFREG:
			e->type = BALE_IMAGE_ENTRY_FILE;
			break;
		case AE_IFDIR:
			e->type = BALE_IMAGE_ENTRY_DIR;
			break;
		case AE_IFLNK:
			e->type = BALE_IMAGE_ENTRY_SYMLINK;
			e->link = archive_entry_symlink(ae);
			if (!e->link)
				e->link = "";
			if (strlen(e->link) > s->img->opts.max_path)
				return stream_fail(
				    s, BALE_ELIMIT,
				    "entry %llu: symlink target is over the limit of "
				    "%zu bytes",
				    (unsigned long long)index, s->img->opts.max_path);
			break;
		case AE_IFCHR:
			e->type = BALE_IMAGE_ENTRY_CHAR;
			break;
		case AE_IFBLK:
			e->type = BALE_IMAGE_ENTRY_BLOCK;
			break;
		case AE_IFIFO:
			e->type = BALE_IMAGE_ENTRY_FIFO;
			break;
		default:
			return stream_fail(s, BALE_EPARSE, "entry %llu '%s' has an unknown type",
					   (unsigned long long)index, raw);
		}
	}
	if (archive_entry_uid(ae) < 0 || archive_entry_gid(ae) < 0 || archive_entry_size(ae) < 0)
		return stream_fail(s, BALE_EPARSE,
				   "entry %llu '%s' has a negative uid, gid or size",
				   (unsigned long long)index, raw);
	e->mode = (uint32_t)(archive_entry_perm(ae) & 07777);
	e->uid = (uint64_t)archive_entry_uid(ae);
	e->gid = (uint64_t)archive_entry_gid(ae);
	e->uname = archive_entry_uname(ae) ? archive_entry_uname(ae) : "";
	e->gname = archive_entry_gname(ae) ? archive_entry_gname(ae) : "";
	e->size = e->type == BALE_IMAGE_ENTRY_FILE ? (uint64_t)archive_entry_size(ae) : 0;
	e->mtime = (int64_t)archive_entry_mtime(ae);
	if (e->type == BALE_IMAGE_ENTRY_CHAR || e->type == BALE_IMAGE_ENTRY_BLOCK) {
		e->devmajor = (uint32_t)archive_entry_rdevmajor(ae);
		e->devminor = (uint32_t)archive_entry_rdevminor(ae);
	}
	nx = archive_entry_xattr_reset(ae);
	if (nx > 0) {
		if (BALE_ARRAY_RESERVE(sc->xattrs, sc->xattrs_alloc, (size_t)nx) != 0)
			return s->err = BALE_ENOMEM;
		while (archive_entry_xattr_next(ae, &name, (const void **)&value, &size) ==
			   ARCHIVE_OK &&
		       e->nxattrs < (size_t)nx) {
			sc->xattrs[e->nxattrs].name = name;
			sc->xattrs[e->nxattrs].value = value;
			sc->xattrs[e->nxattrs].size = size;
			e->nxattrs++;
		}
		e->xattrs = sc->xattrs;
	}
	return 0;
}

static int stream_open(struct stream *s, bale_image *img, size_t index)
{
	bale_image_layer *l = &img->layers[index];
	enum digest_alg balg = DIGEST_SHA256, dalg;
	const char *hex;
	unsigned char magic[512];
	ssize_t n;
	int rc;

	s->img = img;
	s->layer = l;
	s->blob.fd = -1;
	snprintf(s->label, sizeof(s->label), "layer %zu '%s'", index,
		 l->blob.digest ? l->blob.digest : l->path);
	if (img->info.transport == BALE_IMAGE_DOCKER_ARCHIVE || img->dirfd < 0)
		rc = image_open_member(img, l->path, &s->blob);
	else
		rc = image_open_blob(img, l->blob.digest, &s->blob);
	if (rc)
		return bale_error_prefix("%s", s->label);
	if (l->blob.digest && *l->blob.media_type && s->blob.size != l->blob.size)
		return bale_error_set(
		    BALE_EDIGEST, "%s: blob is %llu bytes, the manifest says %llu", s->label,
		    (unsigned long long)s->blob.size, (unsigned long long)l->blob.size);
	if (l->blob.digest && !digest_parse(l->blob.digest, &balg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: bad digest", s->label);
	if (!digest_parse(l->diff_id, &dalg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: bad diff_id '%s'", s->label, l->diff_id);
	do {
		n = pread(s->blob.fd, magic,
			  s->blob.size < sizeof(magic) ? (size_t)s->blob.size : sizeof(magic),
			  (off_t)s->blob.offset);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return bale_error_set(BALE_EIO, "%s: cannot read: %s", s->label, strerror(errno));
	s->comp = sniff(magic, (size_t)n, l->compression);
	s->hash_once = s->comp == BALE_IMAGE_UNCOMPRESSED && l->blob.digest &&
		       strcmp(l->blob.digest, l->diff_id) == 0;
	if ((rc = hasher_init(&s->blob_hash, balg)) != 0 ||
	    (rc = hasher_init(&s->diff_hash, dalg)) != 0)
		return rc;
	s->in = malloc(IN_SIZE);
	s->out = malloc(OUT_SIZE);
	if (!s->in || !s->out)
		return bale_error_oom();
	if (s->comp == BALE_IMAGE_GZIP) {
#ifdef BALE_HAVE_ISAL
		s->isal = malloc(sizeof(*s->isal));
		if (!s->isal)
			return bale_error_oom();
		isal_inflate_init(s->isal);
		s->isal->crc_flag = ISAL_GZIP;
#else
		s->z = calloc(1, sizeof(*s->z));
		if (!s->z)
			return bale_error_oom();
		if (inflateInit2(s->z, 16 + MAX_WBITS) != Z_OK) {
			free(s->z);
			s->z = NULL;
			return bale_error_oom();
		}
#endif
	} else if (s->comp == BALE_IMAGE_ZSTD) {
		s->zstd = ZSTD_createDStream();
		if (!s->zstd)
			return bale_error_oom();
		ZSTD_initDStream(s->zstd);
	}
	return 0;
}

static void stream_close(struct stream *s)
{
#ifdef BALE_HAVE_ISAL
	free(s->isal);
#else
	if (s->z) {
		inflateEnd(s->z);
		free(s->z);
	}
#endif
	ZSTD_freeDStream(s->zstd);
	free(s->in);
	free(s->out);
	hasher_release(&s->blob_hash);
	hasher_release(&s->diff_hash);
	blob_close(&s->blob);
}

/* After the tar's end: reads what is left, then checks the blob and the diff_id. */
static int stream_finish(struct stream *s)
{
	bale_image_layer *l = s->layer;
	char blob_digest[DIGEST_STRING_MAX], diff[DIGEST_STRING_MAX];
	ssize_t n;
	int rc;

	s->entry_path = NULL;
	while ((n = produce(s)) > 0)
		;
	if (n < 0)
		return (int)n;
	if (input_left(s))
		return stream_fail(s, BALE_EPARSE, "trailing data after the compressed stream");
	if ((rc = hasher_final(&s->blob_hash, blob_digest)) != 0)
		return rc;
	if (s->hash_once)
		memcpy(diff, blob_digest, sizeof(diff));
	else if ((rc = hasher_final(&s->diff_hash, diff)) != 0)
		return rc;
	if (l->blob.digest && strcmp(blob_digest, l->blob.digest) != 0)
		return stream_fail(s, BALE_EDIGEST,
				   "blob does not match its digest (content is '%s')", blob_digest);
	if (strcmp(diff, l->diff_id) != 0)
		return stream_fail(s, BALE_EDIGEST,
				   "uncompressed content does not match diff_id '%s' (content is "
				   "'%s')",
				   l->diff_id, diff);
	if (!l->blob.digest && !(l->blob.digest = image_strdup(s->img, blob_digest)))
		return bale_error_oom();
	l->blob.size = s->blob.size;
	l->compression = s->comp;
	l->uncompressed_size = s->total_out;
	l->verified = true;
	return 0;
}

int layer_read(bale_image *img, size_t index, const bale_image_visitor *visitor)
{
	static const bale_image_visitor none = {0};
	struct stream s = {0};
	struct scratch sc = {0};
	struct archive *ar = NULL;
	struct archive_entry *ae;
	bale_image_reader reader;
	bale_image_layer *l = &img->layers[index];
	uint64_t count = 0;
	int rc;

	if (!visitor)
		visitor = &none;
	l->verified = false;
	if ((rc = stream_open(&s, img, index)) != 0)
		goto out;
	sc.path = malloc(img->opts.max_path + 1);
	sc.link = malloc(img->opts.max_path + 1);
	ar = archive_read_new();
	if (!sc.path || !sc.link || !ar) {
		rc = bale_error_oom();
		goto out;
	}
	/* Tar only, no filters: the decompression is ours. */
	archive_read_support_format_tar(ar);
	archive_read_support_format_gnutar(ar);
	if (archive_read_open(ar, &s, NULL, archive_feed, NULL) != ARCHIVE_OK) {
		rc = s.err ? s.err
			   : stream_fail(&s, BALE_EPARSE, "not a tar stream: %s",
					 archive_error_string(ar));
		goto out;
	}
	if (visitor->layer_begin && (rc = visitor->layer_begin(visitor->ctx, l)) != 0)
		goto out;
	reader.ar = ar;
	reader.s = &s;
	for (;;) {
		bale_image_entry e;
		int ret;

		s.entry_path = NULL;
		ret = archive_read_next_header(ar, &ae);

		if (ret == ARCHIVE_EOF)
			break;
		if (s.err) {
			rc = s.err;
			goto out;
		}
		if (ret < ARCHIVE_WARN) {
			rc = stream_fail(&s, BALE_EPARSE, "entry %llu: %s",
					 (unsigned long long)count, archive_error_string(ar));
			goto out;
		}
		if (count >= img->opts.max_entries) {
			rc = stream_fail(&s, BALE_ELIMIT, "more than %llu entries (the limit)",
					 (unsigned long long)img->opts.max_entries);
			goto out;
		}
		if ((rc = fill_entry(&s, ae, &e, &sc, count)) != 0)
			goto out;
		count++;
		reader.is_file = e.type == BALE_IMAGE_ENTRY_FILE;
		if (visitor->entry && (rc = visitor->entry(visitor->ctx, &e, &reader)) != 0)
			goto out;
		if (s.err) {
			rc = s.err;
			goto out;
		}
	}
	if (s.err) {
		rc = s.err;
		goto out;
	}
	l->entries = count;
	if ((rc = stream_finish(&s)) != 0)
		goto out;
	if (visitor->layer_end)
		rc = visitor->layer_end(visitor->ctx, l);
out:
	if (ar)
		archive_read_free(ar);
	free(sc.path);
	free(sc.link);
	free(sc.xattrs);
	stream_close(&s);
	return rc;
}
