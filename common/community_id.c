/*
 * community_id.c - Community ID v1 (see community_id.h), SHA-1 through
 * OpenSSL's EVP interface, base64 with OpenSSL's block encoder.
 *
 * The hashed buffer is at most 2 + 16 + 16 + 1 + 1 + 2 + 2 = 40 bytes and
 * lives on the stack. About 0.3 microseconds per flow (with the context
 * reused), paid once per flow, not per packet.
 */
#include "community_id.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Is endpoint (a, ap) before endpoint (b, bp)? Addresses compare as
 * big-endian byte strings, ports as numbers. */
static bool endpoint_less(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp, size_t alen)
{
	int c = memcmp(a, b, alen);
	return c < 0 || (c == 0 && ap < bp);
}

/* The SHA-1 implementation is fetched once and the context kept, per
 * thread: EVP_sha1() makes OpenSSL 3 look the algorithm up (under a lock)
 * on every init, which tripled the cost. They are freed when the thread
 * ends (the key's destructor: the stage thread computes the IDs of the
 * sessions it reports); the main thread's stay reachable until exit. */
struct sha1_state {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

static pthread_key_t sha1_key;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;
static bool sha1_key_ok;

static void sha1_state_free(void *p)
{
	struct sha1_state *st = p;
	EVP_MD_CTX_free(st->ctx);
	EVP_MD_free(st->md);
	free(st);
}

static void sha1_key_make(void)
{
	sha1_key_ok = pthread_key_create(&sha1_key, sha1_state_free) == 0;
}

/* This thread's state, made at its first use; NULL without memory. */
static struct sha1_state *sha1_state(void)
{
	pthread_once(&sha1_once, sha1_key_make);
	if (!sha1_key_ok)
		return NULL;
	struct sha1_state *st = pthread_getspecific(sha1_key);
	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->md = EVP_MD_fetch(NULL, "SHA1", NULL);
	st->ctx = EVP_MD_CTX_new();
	if (!st->md || !st->ctx || pthread_setspecific(sha1_key, st) != 0) {
		sha1_state_free(st);
		return NULL;
	}
	return st;
}

bool community_id_digest(uint16_t seed, uint8_t proto, const struct sl_addr *a, uint16_t aport,
			 const struct sl_addr *b, uint16_t bport, uint8_t digest[COMMUNITY_ID_DIGEST_LEN])
{
	if (a->v != b->v || (a->v != 4 && a->v != 6))
		return false;
	size_t alen = a->v == 4 ? 4 : 16;
	const uint8_t *lo = a->a, *hi = b->a;
	uint16_t lport = aport, hport = bport;
	if (!endpoint_less(a->a, aport, b->a, bport, alen)) {
		lo = b->a, hi = a->a;
		lport = bport, hport = aport;
	}

	uint8_t buf[40];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, lo, alen);
	n += alen;
	memcpy(buf + n, hi, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(lport >> 8);
	buf[n++] = (uint8_t)lport;
	buf[n++] = (uint8_t)(hport >> 8);
	buf[n++] = (uint8_t)hport;

	struct sha1_state *st = sha1_state();
	unsigned int dlen = 0;
	return st && EVP_DigestInit_ex(st->ctx, st->md, NULL) == 1 && EVP_DigestUpdate(st->ctx, buf, n) == 1 &&
	       EVP_DigestFinal_ex(st->ctx, digest, &dlen) == 1 && dlen == COMMUNITY_ID_DIGEST_LEN;
}

void community_id_format(const uint8_t digest[COMMUNITY_ID_DIGEST_LEN], char *out, size_t outlen)
{
	/* 20 bytes -> 28 base64 characters + NUL from EVP_EncodeBlock, written
	 * after "1:" (2 + 28 + 1 = COMMUNITY_ID_STRLEN): no printf per session */
	if (outlen < COMMUNITY_ID_STRLEN) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[0] = '1';
	out[1] = ':';
	EVP_EncodeBlock((unsigned char *)out + 2, digest, COMMUNITY_ID_DIGEST_LEN);
}

bool community_id_v1(uint16_t seed, uint8_t proto, const struct sl_addr *a, uint16_t aport,
		     const struct sl_addr *b, uint16_t bport, char *out, size_t outlen)
{
	uint8_t d[COMMUNITY_ID_DIGEST_LEN];
	if (outlen)
		out[0] = '\0';
	if (!community_id_digest(seed, proto, a, aport, b, bport, d))
		return false;
	community_id_format(d, out, outlen);
	return out[0] != '\0';
}
