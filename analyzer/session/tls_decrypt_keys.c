/*
 * tls_decrypt_keys.c - the TLS decryptor's cipher suites and key schedule.
 *
 * Keys, per direction:
 *   TLS 1.2  key_block = PRF(master_secret, "key expansion", server_random +
 *            client_random) split into client key, server key, client IV,
 *            server IV (no MAC keys for AEAD suites); a direction is encrypted
 *            from its ChangeCipherSpec on, sequence numbers from 0. GCM nonce:
 *            4-byte IV || the record's 8-byte explicit nonce; ChaCha20 nonce:
 *            IV xor the sequence number (RFC 7905). AAD: seq, type, version,
 *            plaintext length. CBC suites: MAC keys come first in the key
 *            block; each record carries its IV; the HMAC (seq, type, version,
 *            length, data) is checked after (MAC-then-encrypt) or before
 *            (encrypt-then-MAC, RFC 7366, when the ServerHello says so)
 *            decryption.
 *   TLS 1.3  handshake traffic secret from the ServerHello on, application
 *            traffic secret 0 after that direction's Finished, the next
 *            generation after each KeyUpdate ("traffic upd"); key and IV from
 *            HKDF-Expand-Label; nonce = IV xor seq; AAD = the record header;
 *            the inner content type is the last non-zero byte.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "tls_decrypt_int.h"

/* The suites decrypted, one row each (IANA TLS Cipher Suites registry). */
static const struct suite suites[] = {
	{ 0x1301, "TLS_AES_128_GCM_SHA256", true, AEAD_AES128_GCM, 16, "SHA256", NULL, 0 },
	{ 0x1302, "TLS_AES_256_GCM_SHA384", true, AEAD_AES256_GCM, 32, "SHA384", NULL, 0 },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, AEAD_CHACHA20, 32, "SHA256", NULL, 0 },
	{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, AEAD_AES128_GCM, 16, "SHA256", NULL, 0 },
	{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, AEAD_AES256_GCM, 32, "SHA384", NULL, 0 },
	{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, AEAD_AES128_GCM, 16, "SHA256", NULL, 0 },
	{ 0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, AEAD_AES256_GCM, 32, "SHA384", NULL, 0 },
	{ 0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, AEAD_AES128_GCM, 16, "SHA256", NULL, 0 },
	{ 0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, AEAD_AES256_GCM, 32, "SHA384", NULL, 0 },
	{ 0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, AEAD_AES128_GCM, 16, "SHA256", NULL, 0 },
	{ 0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, AEAD_AES256_GCM, 32, "SHA384", NULL, 0 },
	{ 0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, AEAD_CHACHA20, 32, "SHA256", NULL, 0 },
	{ 0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, AEAD_CHACHA20, 32, "SHA256", NULL, 0 },
	{ 0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, AEAD_CHACHA20, 32, "SHA256", NULL, 0 },
	/* TLS 1.2 CBC suites (RFC 5246 6.2.3.2, RFC 7366 encrypt-then-MAC) */
	{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, CBC_AES128, 16, "SHA256", "SHA1", 20 },
	{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, CBC_AES256, 32, "SHA256", "SHA1", 20 },
	{ 0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, CBC_AES128, 16, "SHA256", "SHA256", 32 },
	{ 0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, CBC_AES256, 32, "SHA384", "SHA384", 48 },
	{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, CBC_AES128, 16, "SHA256", "SHA1", 20 },
	{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, CBC_AES256, 32, "SHA256", "SHA1", 20 },
	{ 0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, CBC_AES128, 16, "SHA256", "SHA256", 32 },
	{ 0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, CBC_AES256, 32, "SHA384", "SHA384", 48 },
	{ 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, CBC_AES128, 16, "SHA256", "SHA1", 20 },
	{ 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, CBC_AES256, 32, "SHA256", "SHA1", 20 },
	{ 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, CBC_AES128, 16, "SHA256", "SHA256", 32 },
	{ 0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, CBC_AES256, 32, "SHA256", "SHA256", 32 },
	{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", false, CBC_AES128, 16, "SHA256", "SHA1", 20 },
	{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, CBC_AES256, 32, "SHA256", "SHA1", 20 },
	{ 0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, CBC_AES128, 16, "SHA256", "SHA256", 32 },
	{ 0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, CBC_AES256, 32, "SHA256", "SHA256", 32 },
};

/* ---- key derivation (OpenSSL 3 EVP_KDF) ---- */

/* The algorithms, fetched once per process: an implicit fetch by name costs
 * more than deriving a session's keys (method store lookups under a lock).
 * Fetched objects are immutable and safe to share between threads. */
static struct {
	EVP_KDF *hkdf, *prf;
	EVP_MAC *hmac;
	EVP_CIPHER *cipher[CBC_AES256 + 1];     /* by enum aead */
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
	static const char *const names[] = {
		[AEAD_AES128_GCM] = "AES-128-GCM", [AEAD_AES256_GCM] = "AES-256-GCM",
		[AEAD_CHACHA20] = "ChaCha20-Poly1305", [CBC_AES128] = "AES-128-CBC", [CBC_AES256] = "AES-256-CBC",
	};
	algs.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	algs.prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	for (size_t i = 0; i < SL_ARRAY_LEN(names); i++)
		algs.cipher[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
}

/* A new context for `kdf` with its digest (and, for HKDF, the expand-only
 * mode) set; NULL on failure. (OpenSSL 3.0 cannot duplicate KDF contexts, so
 * a prepared one cannot be copied; the digest is looked up by name each
 * time, a few microseconds per key change.) */
static EVP_KDF_CTX *kdf_new(EVP_KDF *kdf, const char *md, bool hkdf)
{
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
		hkdf ? OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode) : OSSL_PARAM_construct_end(),
		OSSL_PARAM_construct_end(),
	};
	if (c && EVP_KDF_CTX_set_params(c, p) != 1) {
		EVP_KDF_CTX_free(c);
		c = NULL;
	}
	return c;
}

/* Hash length of a suite's HKDF hash: TLS 1.3 secrets have this length. */
static size_t hash_len(const struct suite *s)
{
	return strcmp(s->md, "SHA384") == 0 ? 48 : 32;
}

static bool hkdf_expand_label(const char *md, const uint8_t *secret, size_t slen, const char *label,
			      uint8_t *out, size_t outlen)
{
	/* HkdfLabel: uint16 length, opaque label<7..255> = "tls13 " + label,
	 * opaque context<0..255> (empty here) */
	uint8_t info[2 + 1 + 255 + 1];
	size_t ll = 6 + strlen(label);
	if (ll > 255)
		return false;
	info[0] = (uint8_t)(outlen >> 8);
	info[1] = (uint8_t)outlen;
	info[2] = (uint8_t)ll;
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll - 6);
	info[3 + ll] = 0;
	EVP_KDF_CTX *kc = kdf_new(algs.hkdf, md, true);
	if (!kc)
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, 4 + ll),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(kc, out, outlen, p) == 1;
	EVP_KDF_CTX_free(kc);
	return ok;
}

static bool tls12_prf(const char *md, const uint8_t *secret, size_t slen, const uint8_t *seed, size_t seedlen,
		      uint8_t *out, size_t outlen)
{
	EVP_KDF_CTX *kc = kdf_new(algs.prf, md, false);
	if (!kc)
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed, seedlen),
		OSSL_PARAM_construct_end(),
	};
	bool ok = EVP_KDF_derive(kc, out, outlen, p) == 1;
	EVP_KDF_CTX_free(kc);
	return ok;
}

static const EVP_CIPHER *evp_cipher(enum aead a)
{
	return algs.cipher[a];
}

/* Keys the direction's cipher context; the IV is set per record. */
static bool set_key(struct tlsd *t, struct tdir *d, const uint8_t *key)
{
	if (!d->cx && !(d->cx = EVP_CIPHER_CTX_new()))
		return false;
	if (!t->plain && !(t->plain = malloc(TLSD_RECORD_MAX)))
		return false;
	if (!evp_cipher(t->suite->aead))
		return false;
	if (t->suite->mac)
		return EVP_DecryptInit_ex(d->cx, evp_cipher(t->suite->aead), NULL, key, NULL) == 1 &&
		       EVP_CIPHER_CTX_set_padding(d->cx, 0) == 1;     /* padding is checked by us */
	return EVP_DecryptInit_ex(d->cx, evp_cipher(t->suite->aead), NULL, NULL, NULL) == 1 &&
	       EVP_CIPHER_CTX_ctrl(d->cx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	       EVP_DecryptInit_ex(d->cx, NULL, NULL, key, NULL) == 1;
}

/* CBC suites: the HMAC context, keyed once; each record re-initialises it
 * with the same key. */
static bool set_mac_key(struct tlsd *t, struct tdir *d, const uint8_t *key)
{
	d->mac = algs.hmac ? EVP_MAC_CTX_new(algs.hmac) : NULL;
	if (!d->mac)
		return false;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)t->suite->mac, 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(d->mac, key, t->suite->mac_len, p) == 1;
}

/* TLS 1.3: key and IV from a traffic secret; sequence numbers restart. */
bool tlsd_tls13_use_secret(struct tlsd *t, struct tdir *d, const uint8_t *secret)
{
	size_t sl = hash_len(t->suite);
	uint8_t key[KEY_MAX];
	if (secret != d->secret)
		memcpy(d->secret, secret, sl);
	bool ok = hkdf_expand_label(t->suite->md, d->secret, sl, "key", key, t->suite->key_len) &&
		  hkdf_expand_label(t->suite->md, d->secret, sl, "iv", d->iv, NONCE_LEN) &&
		  set_key(t, d, key);
	OPENSSL_cleanse(key, sizeof(key));
	d->seq = 0;
	tlsd_hs_reset(&d->hs);
	return ok;
}

bool tlsd_tls13_next_generation(struct tlsd *t, struct tdir *d)
{
	size_t sl = hash_len(t->suite);
	uint8_t next[SECRET_MAX];
	bool ok = hkdf_expand_label(t->suite->md, d->secret, sl, "traffic upd", next, sl);
	if (ok) {
		memcpy(d->secret, next, sl);
		ok = tlsd_tls13_use_secret(t, d, d->secret);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return ok;
}

/* TLS 1.3 at the ServerHello: the secrets of one direction. */
void tlsd_tls13_install(struct tlsd *t, int dir, const struct keylog_entry *e, enum keylog_label hs,
			  enum keylog_label ap)
{
	size_t sl = hash_len(t->suite);
	struct tdir *d = &t->d[dir];
	if (!e || !(e->have & (1u << hs)) || !(e->have & (1u << ap))) {
		tlsd_enter(t, dir, TLSD_NO_KEY);
		return;
	}
	t->info.keys_used |= (uint8_t)((1u << hs) | (1u << ap));
	if (e->s[hs].len != sl || e->s[ap].len != sl) {
		/* a secret of the other hash's length cannot belong to this session */
		tlsd_enter(t, dir, TLSD_BAD_KEYS);
		return;
	}
	memcpy(d->ap0, e->s[ap].b, sl);
	if (!tlsd_tls13_use_secret(t, d, e->s[hs].b)) {
		tlsd_enter(t, dir, TLSD_UNSUPPORTED);       /* the library lacks the cipher */
		return;
	}
	d->enc = true;
	tlsd_enter(t, dir, TLSD_DECRYPTING);
}

/* TLS 1.2 at the ServerHello: the key block for both directions. */
void tlsd_tls12_install(struct tlsd *t, const struct keylog_entry *e)
{
	if (!e || !(e->have & (1u << KL_CLIENT_RANDOM))) {
		tlsd_enter(t, DIR_C2S, TLSD_NO_KEY);
		tlsd_enter(t, DIR_S2C, TLSD_NO_KEY);
		return;
	}
	t->info.keys_used |= 1u << KL_CLIENT_RANDOM;
	/* key_block: client MAC key, server MAC key (CBC only), client key,
	 * server key, client IV, server IV (GCM: 4-byte salt; ChaCha20: 12
	 * bytes; CBC: none used, the IV travels in each record) */
	size_t ml = t->suite->mac ? t->suite->mac_len : 0, kl = t->suite->key_len;
	size_t ivl = t->suite->aead == AEAD_CHACHA20 ? NONCE_LEN : t->suite->mac ? 0 : 4;
	uint8_t seed[13 + 64], kb[2 * MAC_MAX + 2 * KEY_MAX + 2 * NONCE_LEN];
	memcpy(seed, "key expansion", 13);
	memcpy(seed + 13, t->server_random, 32);
	memcpy(seed + 45, t->info.client_random, 32);
	bool ok = tls12_prf(t->suite->md, e->s[KL_CLIENT_RANDOM].b, e->s[KL_CLIENT_RANDOM].len, seed,
			    sizeof(seed), kb, 2 * ml + 2 * kl + 2 * ivl);
	for (int dir = 0; dir < 2 && ok; dir++) {
		struct tdir *d = &t->d[dir];
		memcpy(d->iv, kb + 2 * ml + 2 * kl + (size_t)dir * ivl, ivl);
		ok = set_key(t, d, kb + 2 * ml + (size_t)dir * kl) &&
		     (!ml || set_mac_key(t, d, kb + (size_t)dir * ml));
	}
	OPENSSL_cleanse(kb, sizeof(kb));
	for (int dir = 0; dir < 2; dir++)
		tlsd_enter(t, dir, ok ? TLSD_DECRYPTING : TLSD_UNSUPPORTED);
}

void tlsd_keys_init(void)
{
	pthread_once(&algs_once, algs_fetch);
}

const struct suite *tlsd_suite(uint16_t id)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(suites); i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}
