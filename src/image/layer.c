/*
 * The layer stream. A source (the producer) reads the blob through a window and decompresses
 * it (isa-l or zlib for gzip, libzstd) into 1 MiB chunks; the consumer hands each chunk to
 * libarchive through its read callback, which yields one visitor call per tar entry. Both
 * hashes are taken as the bytes pass. By default the source runs on its own thread: it fills a
 * ring of RING_SLOTS output chunks and reads the blob into IN_SLOTS input buffers, and the
 * consumer hashes those input buffers (the blob digest) as well as the chunks (the diff_id),
 * so that decompression alone runs beside hashing and parsing, which balances the two cores
 * best. With single_threaded all of it runs inline. Memory is fixed (the two rings) whatever
 * the layer's size.
 *
 * The source never touches the thread-local error: it keeps its own code and message, which
 * the consumer raises (adding the entry being read) when it meets them. Errors are sticky and
 * win over libarchive's own message, which would only say that the data ended.
 *
 * Where a tar may end. Engines read layers with Go's archive/tar, whose Reader.Next reads the
 * rest of the current entry's data with io.ReadFull-like calls (an end there is
 * io.ErrUnexpectedEOF), then its padding with tryReadFull (an end inside the padding is
 * io.EOF: the archive's end, no error), then the next header with io.ReadFull (0 bytes read
 * is io.EOF, the end; 1 to 511 bytes is io.ErrUnexpectedEOF). So a layer may stop at a header
 * boundary without the two zero blocks, and its last entry may lack some or all of its
 * padding: umoci 0.4.7's `umoci insert` writes exactly that (umoci#436). libarchive accepts
 * the first but fails on the second when it skips the padding. So the feed remembers where
 * the current entry's data ends (data_end, from libarchive's position after the header and
 * the entry's size) and, when the stream ends after that point and before the next 512-byte
 * boundary, hands libarchive the missing padding as zeros (not hashed: the digests are of
 * the real bytes). An end inside the data or inside a header is still an error, reported as
 * a truncated tar. Known differences from Go, all on malformed input no writer produces: an
 * end inside the padding of a PAX or GNU long-name header is an error here (Go ends there,
 * dropping the header), an end inside the block after a single zero block is not (Go:
 * io.ErrUnexpectedEOF), and sparse entries get no made-up padding.
 */
#include "image/internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
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
#define CHUNK_SIZE  ((size_t)1 << 20)
#define RING_SLOTS  4
#define IN_SLOTS    4
#define RATIO_FLOOR ((uint64_t)64 << 20) /* bytes out before the ratio limit applies */
#define TAR_BLOCK   512
#define NO_END	    UINT64_MAX /* data_end before the first entry, or when not known */

/* The producer's state: everything here belongs to the reader thread while it runs. */
struct source {
	const bale_image_options *opts;
	struct blob blob;
	const char *label;
	uint64_t pos;	   /* bytes of the blob read */
	unsigned char *in; /* the input buffer being decompressed: one of in_slots */
	size_t in_len, in_off;
	unsigned char *in_slots[IN_SLOTS];
	size_t in_slot_len[IN_SLOTS];
	struct ring *defer; /* threaded: blob bytes are queued here for the consumer to hash */
	bale_image_compression comp;
#ifdef BALE_HAVE_ISAL
	struct inflate_state *isal;
#else
	z_stream *z;
#endif
	ZSTD_DStream *zstd;
	bool member_done; /* the compressed stream ended at a member or frame boundary */
	bool eof;	  /* nothing more comes out */
	hasher blob_hash;
	uint64_t total_out;
	int err; /* sticky, with msg */
	char msg[1024];
};

/* The ring between the reader thread and the consumer. */
struct ring {
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t can_put; /* to the producer: an output or input slot is free, or stop */
	pthread_cond_t can_get; /* to the consumer: a chunk or input to hash is ready, or done */
	unsigned char *buf[RING_SLOTS];
	size_t len[RING_SLOTS];
	size_t head, count;	      /* the consumer's slot is head; count slots are filled */
	size_t hash_head, hash_count; /* input slots read but not yet hashed, in order */
	bool held;		      /* the consumer still reads slot head (libarchive holds it) */
	bool done;		      /* the producer ended: at the end of data or with src.err */
	bool stop;		      /* the consumer asks the producer to end */
};

struct stream {
	bale_image *img;
	bale_image_layer *layer;
	char label[600]; /* "layer 2 'sha256:...'" */
	struct source src;
	struct ring ring;
	bool threaded;
	unsigned char *out; /* the chunk buffer when single-threaded */
	hasher diff_hash;
	bool hash_once; /* uncompressed with blob digest == diff_id: one hash serves both */
	bool eof;
	int err;		/* sticky, raised with bale_error_set */
	const char *entry_path; /* for messages: the entry being read, or NULL */
	char entry_buf[256];
	uint64_t entry_index; /* of the entry being read, or the next one */
	uint64_t fed;	      /* bytes of the tar handed to libarchive, made-up padding aside */
	uint64_t data_start;  /* where the current entry's data starts in the tar */
	uint64_t data_end;    /* and ends (NO_END: none yet, or not known) */
};

struct bale_image_reader {
	struct archive *ar;
	struct stream *s;
	bool is_file;
};

static int source_fail(struct source *src, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int source_fail(struct source *src, int code, const char *fmt, ...)
{
	va_list ap;

	if (src->err)
		return src->err;
	va_start(ap, fmt);
	vsnprintf(src->msg, sizeof(src->msg), fmt, ap);
	va_end(ap);
	src->err = code;
	return code;
}

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

/* Reads up to `len` more bytes of the blob. Returns the count, 0 at its end. */
static ssize_t blob_read(struct source *src, unsigned char *buf, size_t len)
{
	uint64_t left = src->blob.size - src->pos;
	ssize_t n;

	if (left == 0)
		return 0;
	if (len > left)
		len = (size_t)left;
	do {
		n = pread(src->blob.fd, buf, len, (off_t)(src->blob.offset + src->pos));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return source_fail(src, BALE_EIO, "cannot read: %s", strerror(errno));
	if (n == 0)
		return source_fail(src, BALE_EPARSE, "unexpected end of file after %llu bytes",
				   (unsigned long long)src->pos);
	src->pos += (uint64_t)n;
	return n;
}

/*
 * Reads the next input buffer once the current one is used up. Threaded, the buffer is one of
 * the input slots not waiting to be hashed, and it is queued for the consumer to hash;
 * otherwise it is hashed here.
 */
static int refill(struct source *src)
{
	struct ring *r = src->defer;
	size_t slot = 0;
	bool stop;
	ssize_t n;

	if (src->in_off < src->in_len)
		return 0;
	if (r) {
		pthread_mutex_lock(&r->mu);
		while (r->hash_count == IN_SLOTS && !r->stop)
			pthread_cond_wait(&r->can_put, &r->mu);
		stop = r->stop;
		slot = (r->hash_head + r->hash_count) % IN_SLOTS;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			return source_fail(src, BALE_ERROR, "stopped");
		src->in = src->in_slots[slot];
	}
	src->in_off = src->in_len = 0;
	n = blob_read(src, src->in, IN_SIZE);
	if (n <= 0)
		return (int)n;
	src->in_len = (size_t)n;
	if (!r) {
		hasher_update(&src->blob_hash, src->in, (size_t)n);
		return 0;
	}
	pthread_mutex_lock(&r->mu);
	src->in_slot_len[slot] = (size_t)n;
	r->hash_count++;
	pthread_cond_signal(&r->can_get);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static bool input_left(const struct source *src)
{
	return src->in_off < src->in_len || src->pos < src->blob.size;
}

/* True when the unread input starts with the gzip magic (peeked, not consumed). */
static bool gzip_member_follows(struct source *src)
{
	unsigned char second;
	ssize_t n;

	if (refill(src) != 0)
		return false;
	if (src->in_len - src->in_off >= 2)
		return src->in[src->in_off] == 0x1f && src->in[src->in_off + 1] == 0x8b;
	if (src->in_len == src->in_off || src->pos >= src->blob.size)
		return false;
	/* one byte left in this buffer: peek at the next one in the file */
	do {
		n = pread(src->blob.fd, &second, 1, (off_t)(src->blob.offset + src->pos));
	} while (n < 0 && errno == EINTR);
	return n == 1 && src->in[src->in_off] == 0x1f && second == 0x8b;
}

static int trailing_data(struct source *src)
{
	return src->err ? src->err
			: source_fail(src, BALE_EPARSE, "trailing data after the gzip stream");
}

static unsigned long long compressed_offset(const struct source *src)
{
	return (unsigned long long)(src->pos - (src->in_len - src->in_off));
}

#ifdef BALE_HAVE_ISAL
static ssize_t inflate_some(struct source *src, unsigned char *out)
{
	for (;;) {
		int ret;
		size_t produced;

		if (refill(src) != 0)
			return src->err;
		if (src->member_done) {
			if (!input_left(src))
				return 0;
			if (!gzip_member_follows(src))
				return trailing_data(src);
			/* Another gzip member follows (pigz and `cat a.gz b.gz` write these). */
			isal_inflate_reset(src->isal);
			src->isal->crc_flag = ISAL_GZIP;
			src->member_done = false;
		}
		src->isal->next_in = src->in + src->in_off;
		src->isal->avail_in = (uint32_t)(src->in_len - src->in_off);
		src->isal->next_out = out;
		src->isal->avail_out = (uint32_t)CHUNK_SIZE;
		ret = isal_inflate(src->isal);
		src->in_off = src->in_len - src->isal->avail_in;
		produced = CHUNK_SIZE - src->isal->avail_out;
		if (ret < 0)
			return source_fail(src, BALE_EPARSE, "%s (compressed offset %llu)",
					   ret == ISAL_INCORRECT_CHECKSUM ? "gzip checksum mismatch"
					   : ret == ISAL_INVALID_WRAPPER  ? "not a gzip stream"
									  : "corrupt gzip data",
					   compressed_offset(src));
		if (src->isal->block_state == ISAL_BLOCK_FINISH)
			src->member_done = true;
		if (produced)
			return (ssize_t)produced;
		if (!src->member_done && !input_left(src))
			return source_fail(src, BALE_EPARSE,
					   "unexpected end of data: the gzip stream is truncated");
	}
}
#else
static ssize_t inflate_some(struct source *src, unsigned char *out)
{
	for (;;) {
		int ret;
		size_t produced;

		if (refill(src) != 0)
			return src->err;
		if (src->member_done) {
			if (!input_left(src))
				return 0;
			if (!gzip_member_follows(src))
				return trailing_data(src);
			inflateReset(src->z);
			src->member_done = false;
		}
		src->z->next_in = src->in + src->in_off;
		src->z->avail_in = (uInt)(src->in_len - src->in_off);
		src->z->next_out = out;
		src->z->avail_out = (uInt)CHUNK_SIZE;
		ret = inflate(src->z, Z_NO_FLUSH);
		src->in_off = src->in_len - src->z->avail_in;
		produced = CHUNK_SIZE - src->z->avail_out;
		if (ret == Z_STREAM_END)
			src->member_done = true;
		else if (ret != Z_OK && ret != Z_BUF_ERROR)
			return source_fail(src, BALE_EPARSE, "%s (compressed offset %llu)",
					   ret == Z_DATA_ERROR && src->z->msg &&
						   strstr(src->z->msg, "check")
					       ? "gzip checksum mismatch"
					       : "corrupt gzip data",
					   compressed_offset(src));
		if (produced)
			return (ssize_t)produced;
		if (!src->member_done && !input_left(src))
			return source_fail(src, BALE_EPARSE,
					   "unexpected end of data: the gzip stream is truncated");
	}
}
#endif

static ssize_t unzstd_some(struct source *src, unsigned char *out)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer ob = {out, CHUNK_SIZE, 0};
		size_t ret;

		if (refill(src) != 0)
			return src->err;
		if (!input_left(src)) {
			if (!src->member_done)
				return source_fail(
				    src, BALE_EPARSE,
				    "unexpected end of data: the zstd stream is truncated");
			return 0;
		}
		in.src = src->in;
		in.size = src->in_len;
		in.pos = src->in_off;
		ret = ZSTD_decompressStream(src->zstd, &ob, &in);
		src->in_off = in.pos;
		if (ZSTD_isError(ret))
			return source_fail(src, BALE_EPARSE, "corrupt zstd data: %s",
					   ZSTD_getErrorName(ret));
		/* 0: a frame ended and was flushed; frames may follow (they are concatenated). */
		src->member_done = ret == 0;
		if (ob.pos)
			return (ssize_t)ob.pos;
	}
}

/* Produces the next chunk of the tar stream into `out` (CHUNK_SIZE bytes); 0 at its end. */
static ssize_t produce(struct source *src, unsigned char *out)
{
	ssize_t n;

	if (src->err)
		return src->err;
	if (src->eof)
		return 0;
	switch (src->comp) {
	case BALE_IMAGE_GZIP:
		n = inflate_some(src, out);
		break;
	case BALE_IMAGE_ZSTD:
		n = unzstd_some(src, out);
		break;
	default:
		n = blob_read(src, out, CHUNK_SIZE);
		if (n > 0 && !src->defer) /* threaded, the consumer hashes the chunk */
			hasher_update(&src->blob_hash, out, (size_t)n);
		break;
	}
	if (n < 0)
		return n;
	if (n == 0) {
		if (input_left(src))
			return source_fail(src, BALE_EPARSE,
					   "trailing data after the compressed stream");
		src->eof = true;
		return 0;
	}
	src->total_out += (uint64_t)n;
	if (src->total_out > src->opts->max_layer_size)
		return source_fail(src, BALE_ELIMIT,
				   "uncompressed size is over the limit of %llu bytes",
				   (unsigned long long)src->opts->max_layer_size);
	if (src->opts->max_ratio && src->total_out > RATIO_FLOOR &&
	    src->total_out / src->opts->max_ratio > src->blob.size)
		return source_fail(src, BALE_ELIMIT,
				   "decompresses to over %u times its %llu bytes (a decompression "
				   "bomb?); the ratio limit can be raised",
				   src->opts->max_ratio, (unsigned long long)src->blob.size);
	return n;
}

static void *producer_main(void *arg)
{
	struct stream *s = arg;
	struct ring *r = &s->ring;

	for (;;) {
		size_t slot;
		ssize_t n;

		pthread_mutex_lock(&r->mu);
		while (r->count == RING_SLOTS && !r->stop)
			pthread_cond_wait(&r->can_put, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		slot = (r->head + r->count) % RING_SLOTS;
		pthread_mutex_unlock(&r->mu);

		n = produce(&s->src, r->buf[slot]);

		pthread_mutex_lock(&r->mu);
		if (n > 0) {
			r->len[slot] = (size_t)n;
			r->count++;
		} else {
			r->done = true;
		}
		pthread_cond_signal(&r->can_get);
		pthread_mutex_unlock(&r->mu);
		if (n <= 0)
			return NULL;
	}
}

/* Raises the source's error as this thread's, naming the entry being read. */
static int raise_source(struct stream *s)
{
	if (s->err)
		return s->err;
	if (s->entry_path)
		bale_error_set(s->src.err, "%s: %s (at entry '%s')", s->label, s->src.msg,
			       s->entry_path);
	else
		bale_error_set(s->src.err, "%s: %s", s->label, s->src.msg);
	s->err = s->src.err;
	return s->err;
}

/*
 * At the tar's end: the padding the last entry lacks, when the stream ended after its data
 * and before the next block boundary (see the top of this file); 0 otherwise.
 */
static ssize_t missing_padding(const struct stream *s, const unsigned char **out)
{
	static const unsigned char zeros[TAR_BLOCK];
	uint64_t pad_end;

	if (s->data_end == NO_END || s->fed < s->data_end || s->fed % TAR_BLOCK == 0)
		return 0;
	pad_end = (s->data_end + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	if (s->fed >= pad_end)
		return 0;
	*out = zeros;
	return (ssize_t)(pad_end - s->fed);
}

/* The next chunk of the tar, hashed for the diff_id; 0 at its end, or a negative error. */
static ssize_t next_chunk(struct stream *s, const unsigned char **out)
{
	ssize_t n;

	if (s->err)
		return s->err;
	if (s->eof)
		return 0;
	if (!s->threaded) {
		n = produce(&s->src, s->out);
		*out = s->out;
	} else {
		struct ring *r = &s->ring;

		pthread_mutex_lock(&r->mu);
		if (r->held) {
			r->head = (r->head + 1) % RING_SLOTS;
			r->count--;
			r->held = false;
			pthread_cond_signal(&r->can_put);
		}
		for (;;) {
			/* Hash the blob's input buffers in order while waiting for output. */
			while (r->hash_count > 0) {
				size_t slot = r->hash_head;

				pthread_mutex_unlock(&r->mu);
				hasher_update(&s->src.blob_hash, s->src.in_slots[slot],
					      s->src.in_slot_len[slot]);
				pthread_mutex_lock(&r->mu);
				r->hash_head = (r->hash_head + 1) % IN_SLOTS;
				r->hash_count--;
				pthread_cond_signal(&r->can_put);
			}
			if (r->count > 0 || r->done)
				break;
			pthread_cond_wait(&r->can_get, &r->mu);
		}
		if (r->count > 0) {
			r->held = true;
			*out = r->buf[r->head];
			n = (ssize_t)r->len[r->head];
		} else {
			n = s->src.err; /* done: the source's fields are settled */
		}
		pthread_mutex_unlock(&r->mu);
		if (n > 0 && s->src.comp == BALE_IMAGE_UNCOMPRESSED && s->src.defer)
			hasher_update(&s->src.blob_hash, *out, (size_t)n);
	}
	if (n < 0)
		return raise_source(s);
	if (n == 0) {
		s->eof = true;
		return missing_padding(s, out);
	}
	s->fed += (uint64_t)n;
	if (!s->hash_once)
		hasher_update(&s->diff_hash, *out, (size_t)n);
	return n;
}

static la_ssize_t archive_feed(struct archive *ar, void *ctx, const void **buf)
{
	struct stream *s = ctx;
	const unsigned char *chunk = NULL;
	ssize_t n = next_chunk(s, &chunk);

	*buf = chunk;
	if (n < 0) {
		archive_set_error(ar, EIO, "%s", bale_error_last()->message);
		return ARCHIVE_FATAL;
	}
	return n;
}

/*
 * libarchive failed reading the tar: when the stream had ended, says where (inside an entry's
 * data, or inside a header), else gives libarchive's message.
 */
static int tar_fail(struct stream *s, struct archive *ar)
{
	if (s->err)
		return s->err;
	if (s->eof && s->data_end != NO_END && s->fed >= s->data_start && s->fed < s->data_end)
		return stream_fail(s, BALE_EPARSE,
				   "the tar is truncated: it ends inside the data of entry %llu, "
				   "after %llu of its %llu bytes",
				   (unsigned long long)s->entry_index,
				   (unsigned long long)(s->fed - s->data_start),
				   (unsigned long long)(s->data_end - s->data_start));
	if (s->eof && s->fed % TAR_BLOCK != 0)
		return stream_fail(s, BALE_EPARSE,
				   "the tar is truncated: it ends inside a header, %llu bytes into "
				   "a %d-byte block (%s)",
				   (unsigned long long)(s->fed % TAR_BLOCK), TAR_BLOCK,
				   archive_error_string(ar));
	return stream_fail(s, BALE_EPARSE, "entry %llu: %s", (unsigned long long)s->entry_index,
			   archive_error_string(ar));
}

/*
 * Where the entry libarchive has just read ends its data in the tar: its position after the
 * header(s) plus the entry's size. NO_END for sparse entries (their data is not their size).
 */
static uint64_t entry_data_end(struct stream *s, struct archive *ar, struct archive_entry *ae)
{
	la_int64_t start = archive_filter_bytes(ar, 0), size = archive_entry_size(ae);

	s->data_start = start < 0 ? 0 : (uint64_t)start;
	if (start < 0 || size < 0 || !archive_entry_size_is_set(ae) ||
	    archive_entry_sparse_count(ae) > 0 || size > INT64_MAX - TAR_BLOCK - start)
		return NO_END;
	return (uint64_t)start + (uint64_t)size;
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
	if (n < 0)
		return tar_fail(reader->s, reader->ar);
	*out = (size_t)n;
	return 0;
}

int bale_image_entry_read_block(bale_image_reader *reader, const void **buf, size_t *len,
				uint64_t *offset)
{
	la_int64_t off = 0;
	int ret;

	*buf = NULL;
	*len = 0;
	*offset = 0;
	if (!reader->is_file)
		return 0;
	ret = archive_read_data_block(reader->ar, buf, len, &off);
	if (ret == ARCHIVE_EOF) {
		*buf = NULL;
		*len = 0;
		return 0;
	}
	if (ret < ARCHIVE_WARN) {
		*buf = NULL;
		*len = 0;
		return tar_fail(reader->s, reader->ar);
	}
	*offset = off < 0 ? 0 : (uint64_t)off;
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
	struct source *src = &s->src;
	enum digest_alg balg = DIGEST_SHA256, dalg;
	const char *hex;
	unsigned char magic[512];
	ssize_t n;
	int rc;

	s->img = img;
	s->layer = l;
	s->data_end = NO_END;
	src->opts = &img->opts;
	src->label = s->label;
	src->blob.fd = -1;
	snprintf(s->label, sizeof(s->label), "layer %zu '%s'", index,
		 l->blob.digest ? l->blob.digest : l->path);
	if (img->info.transport == BALE_IMAGE_DOCKER_ARCHIVE || img->dirfd < 0)
		rc = image_open_member(img, l->path, &src->blob);
	else
		rc = image_open_blob(img, l->blob.digest, &src->blob);
	if (rc)
		return bale_error_prefix("%s", s->label);
	if (l->blob.digest && *l->blob.media_type && src->blob.size != l->blob.size)
		return bale_error_set(
		    BALE_EDIGEST, "%s: blob is %llu bytes, the manifest says %llu", s->label,
		    (unsigned long long)src->blob.size, (unsigned long long)l->blob.size);
	if (l->blob.digest && !digest_parse(l->blob.digest, &balg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: bad digest", s->label);
	if (!digest_parse(l->diff_id, &dalg, &hex))
		return bale_error_set(BALE_EPARSE, "%s: bad diff_id '%s'", s->label, l->diff_id);
	do {
		n = pread(src->blob.fd, magic,
			  src->blob.size < sizeof(magic) ? (size_t)src->blob.size : sizeof(magic),
			  (off_t)src->blob.offset);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return bale_error_set(BALE_EIO, "%s: cannot read: %s", s->label, strerror(errno));
	src->comp = sniff(magic, (size_t)n, l->compression);
	/* Uncompressed, the blob is the tar: one hash serves both when the digests are the same
	   or the blob's is not known yet (a legacy docker-archive names none). */
	if (!l->blob.digest)
		balg = dalg;
	s->hash_once = src->comp == BALE_IMAGE_UNCOMPRESSED &&
		       (!l->blob.digest || strcmp(l->blob.digest, l->diff_id) == 0);
	if ((rc = hasher_init(&src->blob_hash, balg)) != 0 ||
	    (rc = hasher_init(&s->diff_hash, dalg)) != 0)
		return rc;
	s->threaded = !img->opts.single_threaded;
	for (int i = 0; i < (s->threaded ? IN_SLOTS : 1); i++)
		if (!(src->in_slots[i] = malloc(IN_SIZE)))
			return bale_error_oom();
	src->in = src->in_slots[0];
	/* With busy callbacks the reader thread hashes the blob as it reads it (refill, produce).
	 */
	src->defer = s->threaded && !img->opts.busy_callbacks ? &s->ring : NULL;
	if (src->comp == BALE_IMAGE_GZIP) {
#ifdef BALE_HAVE_ISAL
		src->isal = malloc(sizeof(*src->isal));
		if (!src->isal)
			return bale_error_oom();
		isal_inflate_init(src->isal);
		src->isal->crc_flag = ISAL_GZIP;
#else
		src->z = calloc(1, sizeof(*src->z));
		if (!src->z)
			return bale_error_oom();
		if (inflateInit2(src->z, 16 + MAX_WBITS) != Z_OK) {
			free(src->z);
			src->z = NULL;
			return bale_error_oom();
		}
#endif
	} else if (src->comp == BALE_IMAGE_ZSTD) {
		src->zstd = ZSTD_createDStream();
		if (!src->zstd)
			return bale_error_oom();
		ZSTD_initDStream(src->zstd);
	}
	if (!s->threaded) {
		s->out = malloc(CHUNK_SIZE);
		return s->out ? 0 : bale_error_oom();
	}
	for (int i = 0; i < RING_SLOTS; i++)
		if (!(s->ring.buf[i] = malloc(CHUNK_SIZE)))
			return bale_error_oom();
	pthread_mutex_init(&s->ring.mu, NULL);
	pthread_cond_init(&s->ring.can_put, NULL);
	pthread_cond_init(&s->ring.can_get, NULL);
	if (pthread_create(&s->ring.thread, NULL, producer_main, s) != 0) {
		pthread_mutex_destroy(&s->ring.mu);
		pthread_cond_destroy(&s->ring.can_put);
		pthread_cond_destroy(&s->ring.can_get);
		return bale_error_set(BALE_ERROR, "%s: cannot start the reader thread", s->label);
	}
	s->ring.running = true;
	return 0;
}

static void stream_close(struct stream *s)
{
	struct source *src = &s->src;

	if (s->ring.running) {
		pthread_mutex_lock(&s->ring.mu);
		s->ring.stop = true;
		pthread_cond_signal(&s->ring.can_put);
		pthread_mutex_unlock(&s->ring.mu);
		pthread_join(s->ring.thread, NULL);
		pthread_mutex_destroy(&s->ring.mu);
		pthread_cond_destroy(&s->ring.can_put);
		pthread_cond_destroy(&s->ring.can_get);
		s->ring.running = false;
	}
	for (int i = 0; i < RING_SLOTS; i++)
		free(s->ring.buf[i]);
#ifdef BALE_HAVE_ISAL
	free(src->isal);
#else
	if (src->z) {
		inflateEnd(src->z);
		free(src->z);
	}
#endif
	ZSTD_freeDStream(src->zstd);
	for (int i = 0; i < IN_SLOTS; i++)
		free(src->in_slots[i]);
	free(s->out);
	hasher_release(&src->blob_hash);
	hasher_release(&s->diff_hash);
	blob_close(&src->blob);
}

/* After the tar's end: reads what is left, then checks the blob and the diff_id. */
static int stream_finish(struct stream *s)
{
	bale_image_layer *l = s->layer;
	struct source *src = &s->src;
	char blob_digest[DIGEST_STRING_MAX], diff[DIGEST_STRING_MAX];
	const unsigned char *chunk = NULL;
	ssize_t n;
	int rc;

	s->entry_path = NULL;
	while ((n = next_chunk(s, &chunk)) > 0)
		;
	if (n < 0)
		return (int)n;
	/* The source has ended (eof seen): its fields are the consumer's again. */
	if ((rc = hasher_final(&src->blob_hash, blob_digest)) != 0)
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
	l->blob.size = src->blob.size;
	l->compression = src->comp;
	l->uncompressed_size = src->total_out;
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
	/* a 0-byte tar has no entries, as for Go's archive/tar (Next gives io.EOF at once) */
	archive_read_support_format_empty(ar);
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
		s.entry_index = count;
		ret = archive_read_next_header(ar, &ae);

		if (ret == ARCHIVE_EOF)
			break;
		if (s.err) {
			rc = s.err;
			goto out;
		}
		if (ret < ARCHIVE_WARN) {
			/* an end inside the last entry's data shows here, when it is skipped */
			if (count > 0 && s.eof && s.data_end != NO_END && s.fed < s.data_end) {
				s.entry_index = count - 1;
				s.entry_path = s.entry_buf;
			}
			rc = tar_fail(&s, ar);
			goto out;
		}
		s.data_end = entry_data_end(&s, ar, ae);
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
