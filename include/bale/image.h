/*
 * bale/image.h: reading container images, streaming and verified.
 *
 * bale_image_open() resolves a reference to one image: the transport (docker-archive,
 * oci-archive, OCI layout directory, or a bare path detected by its content), then the index
 * (nested indexes and multi-platform indexes resolved to one manifest by platform), the
 * manifest and the config. Every blob read on the way is checked against its digest and size,
 * JSON documents are bounded in size and checked field by field, and everything that comes
 * back is a read-only view owned by the bale_image: it lives until bale_image_free().
 *
 * Layers are then read one at a time, in order, as a stream: the blob is read through a 1 MiB
 * window (for archives, straight out of the outer tar at the member's offset), hashed,
 * decompressed (gzip with isa-l, or zlib without it; zstd) and hashed again for its diff_id,
 * while libarchive parses the tar entries out of the stream and hands each one to a callback.
 * No layer is held in memory or written to disk; memory does not depend on layer size.
 *
 * Verification is streaming, so entries reach the callbacks before the layer's digests are
 * known to match: a layer counts only once bale_image_read_layer() returned 0 (and layer_end
 * was called). A caller that must not act on unverified data keeps what it built from a layer
 * aside until then.
 *
 * Untrusted input: tar paths are normalized (leading "/" and "./" dropped, "." and empty
 * components removed, "a/../b" resolved); a ".." that climbs above the root, a NUL byte in a
 * name, a truncated or corrupt stream, a wrong digest, a decompression bomb (max ratio, max
 * size) or too many entries stop the read with a message naming the blob and the entry:
 * BALE_EPARSE for malformed input, BALE_EDIGEST for a digest or size mismatch, BALE_ELIMIT for
 * a bound, BALE_ENOTFOUND for a reference or blob that is not there.
 */
#ifndef BALE_IMAGE_H
#define BALE_IMAGE_H

#include "common.h"

typedef struct bale_image bale_image;

/* "No such index" for bale_image_layer.duplicate_of, .history and history.layer. */
#define BALE_IMAGE_NONE ((size_t)-1)

typedef struct bale_image_options {
	const char *platform;	 /* "os/arch[/variant]" to pick from an index; NULL: the host's */
	size_t max_json_size;	 /* bytes of an index, manifest, config or manifest.json (8 MiB) */
	uint64_t max_layer_size; /* uncompressed bytes of one layer (64 GiB) */
	uint32_t max_ratio;   /* uncompressed / compressed bytes of a layer, past its first 64 MiB
				 (200); 0: no ratio limit */
	uint64_t max_entries; /* tar entries in one layer, and members of an archive (4 Mi) */
	size_t max_path;      /* bytes of an entry path or link target (4096) */
	/* false (default): a reader thread reads, hashes and decompresses each layer beside the
	   caller's thread, which hashes the tar, parses it and runs the callbacks; true: all of
	   it on the caller's thread. Callbacks always run on the caller's thread. */
	bool single_threaded;
	/* true: the callbacks do much per entry (audit reads every file's content), so the reader
	   thread takes the hashing of each blob too and the caller's thread only the tar's
	   (uncompressed layers: nothing). Only with the reader thread; the digests are the same. */
	bool busy_callbacks;
} bale_image_options;

/* Fills `opts` with the defaults above. */
BALE_EXTERN(void) bale_image_options_init(bale_image_options *opts);

typedef enum bale_image_transport {
	BALE_IMAGE_DOCKER_ARCHIVE = 1, /* docker save / podman save tar (manifest.json) */
	BALE_IMAGE_OCI_ARCHIVE,	       /* tar of an OCI image layout */
	BALE_IMAGE_OCI_LAYOUT,	       /* OCI image layout directory */
} bale_image_transport;

typedef enum bale_image_compression {
	BALE_IMAGE_UNCOMPRESSED = 0,
	BALE_IMAGE_GZIP,
	BALE_IMAGE_ZSTD,
} bale_image_compression;

typedef struct bale_image_descriptor {
	const char *media_type; /* as declared; "" where the format has none (docker-archive) */
	const char *digest;	/* "sha256:<hex>" or "sha512:<hex>" */
	uint64_t size;		/* bytes of the blob as stored */
} bale_image_descriptor;

typedef struct bale_image_layer {
	size_t index;		    /* position in the manifest, 0 is the base layer */
	bale_image_descriptor blob; /* the blob as stored (compressed or not) */
	const char *diff_id;	    /* digest of the uncompressed tar, from the config */
	const char *path; /* member of the archive or file of the layout that holds the blob */
	bale_image_compression compression; /* from the media type; after a read, from the
					       magic bytes, which win when they disagree */
	bool missing;			    /* the blob is not in the image: reported, never read */
	bool foreign;		 /* the media type marks it non-distributable (foreign) */
	const char *const *urls; /* where a foreign layer is published; nurls of them */
	size_t nurls;
	size_t duplicate_of; /* earlier layer with the same blob, or BALE_IMAGE_NONE */
	size_t history;	     /* config history entry that made it, or BALE_IMAGE_NONE */
	/* Known once the layer was read in full (bale_image_read_layer() returned 0): */
	bool verified;		    /* blob digest, size and diff_id all matched */
	uint64_t uncompressed_size; /* bytes of the tar stream */
	uint64_t entries;	    /* tar entries */
} bale_image_layer;

typedef struct bale_image_label {
	const char *name;
	const char *value;
} bale_image_label;

typedef struct bale_image_healthcheck {
	const char *const *test; /* ["CMD-SHELL", "cmd"], ["CMD", ...] or ["NONE"]; ntest items */
	size_t ntest;
	int64_t interval, timeout, start_period, start_interval; /* nanoseconds, 0 when unset */
	int64_t retries;
} bale_image_healthcheck;

typedef struct bale_image_history {
	const char *created;	/* RFC 3339 as written; NULL when absent (so are the others) */
	const char *created_by; /* the build step, e.g. "/bin/sh -c #(nop) ..." or "RUN ..." */
	const char *author;
	const char *comment;
	bool empty_layer; /* the step made no layer */
	size_t layer;	  /* the layer it made, or BALE_IMAGE_NONE */
} bale_image_history;

/*
 * The image config. Strings absent from the JSON are NULL; arrays absent are NULL with a count
 * of 0, while an array present but empty is non-NULL with a count of 0 (Entrypoint [] is not
 * the same as no Entrypoint).
 */
typedef struct bale_image_config {
	const char *os, *architecture, *variant, *os_version;
	const char *created, *author;
	const char *user, *working_dir, *stop_signal;
	const char *const *env; /* "NAME=value" as written */
	size_t nenv;
	const char *const *entrypoint;
	size_t nentrypoint;
	const char *const *cmd;
	size_t ncmd;
	const char *const *shell;
	size_t nshell;
	const char *const *onbuild;
	size_t nonbuild;
	const char *const *exposed_ports; /* "8080/tcp", in the order of the JSON */
	size_t nexposed_ports;
	const char *const *volumes;
	size_t nvolumes;
	const bale_image_label *labels;
	size_t nlabels;
	const bale_image_healthcheck *healthcheck; /* NULL when the config has none */
	const char *const *diff_ids;		   /* rootfs.diff_ids */
	size_t ndiff_ids;
	const bale_image_history *history;
	size_t nhistory;
} bale_image_config;

typedef struct bale_image_info {
	bale_image_transport transport;
	const char *path;	  /* the file or directory of the reference */
	const char *name;	  /* the tag or ref name chosen or found; NULL when there is none */
	const char *platform;	  /* "os/arch[/variant]" of the config */
	const char *index_digest; /* the image index (named by index.json) the manifest was
				     chosen from, as a registry names a multi-platform image;
				     NULL when there is none */
	bale_image_descriptor manifest; /* digest NULL for docker-archive (it has no manifest
					   blob; media_type is then "") */
	bale_image_descriptor config_blob;
	const bale_image_config *config;
	const bale_image_layer *layers;
	size_t nlayers;
} bale_image_info;

/*
 * Opens the image named by `ref`:
 *   docker-archive:FILE[:NAME[:TAG]|:@N]   NAME:TAG picks among several images, as skopeo does
 *   oci-archive:FILE[:REF]  oci:DIR[:REF]  REF is the org.opencontainers.image.ref.name
 *   PATH                                   a directory with index.json, or a tar holding
 *                                          manifest.json (docker-archive) or index.json
 * `opts` may be NULL for the defaults. On success *out belongs to the caller
 * (bale_image_free()). When an index offers several platforms and none or more than one
 * matches, the error lists them. The blobs of missing layers are reported in the layers'
 * `missing`, not as an error.
 */
BALE_EXTERN(int)
bale_image_open(bale_image **out, const char *ref, const bale_image_options *opts);
BALE_EXTERN(void) bale_image_free(bale_image *image);

/* What was resolved; owned by `image`. Layers gain `verified` and sizes as they are read. */
BALE_EXTERN(const bale_image_info *) bale_image_info_get(const bale_image *image);

/* The platform of this machine, "linux/amd64" or "linux/arm64/v8" and so on (static). */
BALE_EXTERN(const char *) bale_image_host_platform(void);

typedef enum bale_image_entry_type {
	BALE_IMAGE_ENTRY_FILE = 1,
	BALE_IMAGE_ENTRY_DIR,
	BALE_IMAGE_ENTRY_SYMLINK,
	BALE_IMAGE_ENTRY_HARDLINK,
	BALE_IMAGE_ENTRY_CHAR,
	BALE_IMAGE_ENTRY_BLOCK,
	BALE_IMAGE_ENTRY_FIFO,
} bale_image_entry_type;

/* bale_image_entry.flags */
#define BALE_IMAGE_ENTRY_ABSOLUTE 0x1u /* the name started with "/" (dropped, as docker does) */
#define BALE_IMAGE_ENTRY_DOTDOT	  0x2u /* the name held ".." that stayed inside the root */

typedef struct bale_image_xattr {
	const char *name; /* "user.x", "security.capability" ... */
	const void *value;
	size_t size;
} bale_image_xattr;

/* One tar entry; valid during the entry callback only. */
typedef struct bale_image_entry {
	const char *path; /* normalized as above; "" is the root directory itself */
	const char *link; /* symlink target as written; hardlink target normalized like path;
			     NULL for other types */
	bale_image_entry_type type;
	uint32_t mode; /* permission bits with setuid, setgid and sticky (07777) */
	uint64_t uid, gid;
	const char *uname, *gname; /* "" when the header has none */
	uint64_t size;		   /* content bytes of a file; 0 for other types */
	int64_t mtime;		   /* seconds since the epoch */
	uint32_t devmajor, devminor;
	const bale_image_xattr *xattrs; /* PAX SCHILY.xattr / LIBARCHIVE.xattr records */
	size_t nxattrs;
	unsigned flags;	      /* BALE_IMAGE_ENTRY_* */
	uint64_t index;	      /* position in the layer, from 0 */
	const char *name_raw; /* the name as the header wrote it */
} bale_image_entry;

/* Reads the content of the entry being visited; only valid inside the entry callback. */
typedef struct bale_image_reader bale_image_reader;

/*
 * Reads up to `len` bytes of the current entry's content into `buf`; *out is the count, 0 at
 * the end. Content not read is skipped (it is still hashed). Errors are those of the stream.
 */
BALE_EXTERN(int)
bale_image_entry_read(bale_image_reader *reader, void *buf, size_t len, size_t *out);

/*
 * The same without a copy: *buf points at the next block of content inside the stream's
 * buffers, valid until the next read or the end of the callback; *len is its size (0 at the
 * end) and *offset where it sits in the file (a sparse file skips its holes, which are zeros).
 */
BALE_EXTERN(int)
bale_image_entry_read_block(bale_image_reader *reader, const void **buf, size_t *len,
			    uint64_t *offset);

/*
 * Callbacks of a layer read; each is optional. A callback that returns non-zero stops the read,
 * which returns that value (a negative one should be a BALE_E* code with its message set).
 */
typedef struct bale_image_visitor {
	int (*layer_begin)(void *ctx, const bale_image_layer *layer);
	int (*entry)(void *ctx, const bale_image_entry *entry, bale_image_reader *content);
	int (*layer_end)(void *ctx, const bale_image_layer *layer); /* after verification */
	void *ctx;
} bale_image_visitor;

/*
 * Streams layer `index` through `visitor`: layer_begin, one entry call per tar entry, then the
 * digests are checked and layer_end is called. A missing layer gives BALE_ENOTFOUND.
 */
BALE_EXTERN(int)
bale_image_read_layer(bale_image *image, size_t index, const bale_image_visitor *visitor);

/*
 * Reads every layer in order. A missing layer, or a duplicate of an earlier one (same blob:
 * read once), gets layer_begin and layer_end with no entries; the layer's `missing` or
 * `duplicate_of` says which, and a caller that wants the duplicate applied again replays what
 * it kept of the earlier one.
 */
BALE_EXTERN(int) bale_image_read_layers(bale_image *image, const bale_image_visitor *visitor);

#endif
