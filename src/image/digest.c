/* Digests of blobs: parsing "alg:hex" strictly, and hashing with OpenSSL's EVP interface. */
#include "image/internal.h"

#include <string.h>

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[n] == '\0';
}

bool digest_parse(const char *s, enum digest_alg *alg, const char **hex)
{
	if (!s)
		return false;
	if (strncmp(s, "sha256:", 7) == 0 && strlen(s) == 7 + 64 && all_lower_hex(s + 7, 64)) {
		*alg = DIGEST_SHA256;
		*hex = s + 7;
		return true;
	}
	if (strncmp(s, "sha512:", 7) == 0 && strlen(s) == 7 + 128 && all_lower_hex(s + 7, 128)) {
		*alg = DIGEST_SHA512;
		*hex = s + 7;
		return true;
	}
	return false;
}

int hasher_init(hasher *h, enum digest_alg alg)
{
	const EVP_MD *md = alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256();

	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
		return bale_error_set(BALE_ERROR, "cannot set up %s hashing",
				      alg == DIGEST_SHA512 ? "sha512" : "sha256");
	}
	return 0;
}

void hasher_update(hasher *h, const void *data, size_t len)
{
	/* EVP_DigestUpdate cannot fail for a set-up software digest. */
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

int hasher_final(hasher *h, char *out)
{
	static const char hexdigits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *prefix = h->alg == DIGEST_SHA512 ? "sha512:" : "sha256:";
	char *p = out;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
		return bale_error_set(BALE_ERROR, "cannot finish hashing");
	memcpy(p, prefix, 7);
	p += 7;
	for (unsigned int i = 0; i < n; i++) {
		*p++ = hexdigits[md[i] >> 4];
		*p++ = hexdigits[md[i] & 15];
	}
	*p = '\0';
	EVP_DigestInit_ex(h->ctx, h->alg == DIGEST_SHA512 ? EVP_sha512() : EVP_sha256(), NULL);
	return 0;
}

void hasher_release(hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}
