/*
 * secrets/secrets.h: a small detector of credentials, shared by the lint rules (values in ENV,
 * ARG, LABEL and RUN; files copied into the image) and the image audit (file contents of every
 * layer, config, history).
 *
 * It recognises three things: values with a shape of their own (an AWS access key ID, a GitHub
 * or GitLab token, a private key header, ...) and literal passwords assigned in text
 * (`password=...`, `https://user:pass@host`); names of variables that hold credentials
 * (GITHUB_TOKEN, DB_PASSWORD); and paths of files that hold them (id_rsa, .env, .npmrc).
 * Everything is byte scanning, linear in the input: no regular expressions, no allocation.
 * Nothing here owns memory; positions are offsets into the caller's text.
 */
#ifndef BALE_SECRETS_SECRETS_H
#define BALE_SECRETS_SECRETS_H

#include "bale/common.h"

typedef enum bale_secret_kind {
	BALE_SECRET_AWS_KEY_ID,
	BALE_SECRET_GITHUB_TOKEN,
	BALE_SECRET_GITLAB_TOKEN,
	BALE_SECRET_PRIVATE_KEY,
	BALE_SECRET_SLACK_TOKEN,
	BALE_SECRET_STRIPE_KEY,
	BALE_SECRET_GOOGLE_API_KEY,
	BALE_SECRET_NPM_TOKEN,
	BALE_SECRET_PYPI_TOKEN,
	BALE_SECRET_PASSWORD,	  /* password=..., "passwd": "...", token=... */
	BALE_SECRET_URL_PASSWORD, /* scheme://user:password@host */
	BALE_SECRET_BEARER,	  /* Authorization: Bearer ..., Basic ... */
} bale_secret_kind;

typedef struct bale_secret_match {
	bale_secret_kind kind;
	const char *what; /* "an AWS access key ID": static text */
	size_t start;	  /* the secret itself within the text, for masking */
	size_t len;
	size_t end;	 /* where scanning for the next one may resume */
	size_t name;	 /* an assignment's name (PASSWORD, URL and Authorization kinds and */
	size_t name_len; /* shaped tokens assigned to a name): its span, else name_len 0 */
} bale_secret_match;

/*
 * Finds the first credential in text[from, len). Variable references (`$TOKEN`,
 * `${{ secrets.X }}`), placeholders (`<password>`, `xxx`, `changeme` is not one) and empty
 * values are not credentials. Returns false when there is none.
 */
bool bale_secret_find(const char *text, size_t len, size_t from, bale_secret_match *out);

/*
 * The scans bale_secret_find() chooses from, by what the processor runs. All find the same;
 * tests compare the others with BEST to hold them to that.
 */
typedef enum bale_secret_scan {
	BALE_SECRET_SCAN_BEST,	/* the one bale_secret_find() uses: 32 bytes a step with AVX2 */
	BALE_SECRET_SCAN_16,	/* 16 bytes a step, with SSE2 where it is compiled in */
	BALE_SECRET_SCAN_BYTES, /* a byte at a time, as where there is no SIMD */
} bale_secret_scan;

bool bale_secret_find_with(bale_secret_scan how, const char *text, size_t len, size_t from,
			   bale_secret_match *out);

/*
 * True when a variable named `name` reads as holding a credential: a word of it is TOKEN,
 * PASSWORD, PASSWD, PASS, SECRET, APIKEY, CREDENTIAL(S), AUTH, or KEY after API, ACCESS,
 * SECRET, PRIVATE, CLIENT, APP, MASTER, ENCRYPTION, SIGNING, LICENSE. Words are split at '_',
 * '-', '.' and lower-to-upper case changes. A name ending in a word that says it holds no
 * credential itself (FILE, PATH, DIR, URL, HOST, ID, NAME, USER, TYPE, ...) does not, nor does
 * one with PUBLIC in it (GPG_KEY, NPM_TOKEN_FILE, AWS_ACCESS_KEY_ID, TOKEN_URL are not secrets).
 */
bool bale_secret_name(const char *name, size_t len);

/*
 * True when `value` assigned to `name` is a literal password: the name holds PASSWORD,
 * PASSWD, SECRET or TOKEN as bale_secret_name() reads it, and the value is a literal (no `$`,
 * not empty, not a placeholder, not a path).
 */
bool bale_secret_assignment(const char *name, size_t name_len, const char *value, size_t value_len);

/* What the contents of a file must show before a file named like it is called a secret. */
typedef enum bale_secret_file_proof {
	BALE_SECRET_FILE_BY_NAME,     /* its name is enough (id_rsa, .env, .netrc, ...) */
	BALE_SECRET_FILE_PRIVATE_KEY, /* *.pem, *.key: a "PRIVATE KEY" header */
	BALE_SECRET_FILE_NPM_AUTH,    /* .npmrc: an _authToken, _auth or _password setting */
} bale_secret_file_proof;

/*
 * What the file at `path` (a COPY source or destination; '/' separated) is likely to hold,
 * e.g. "an SSH private key", or NULL when its name says nothing. *proof says whether its
 * contents, when they can be read, must confirm it (bale_secret_file_confirmed()).
 */
const char *bale_secret_file(const char *path, size_t len, bale_secret_file_proof *proof);

/* True when `data` (the start of the file) confirms what `proof` asks for. */
bool bale_secret_file_confirmed(bale_secret_file_proof proof, const char *data, size_t len);

#endif
