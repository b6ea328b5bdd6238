/*
 * tls_decrypt.c - TLS 1.2/1.3 record decryption with key-log secrets.
 *
 * Journey of a byte: tlsd_data() frames records (5-byte header, body up to
 * TLSD_RECORD_MAX), record() decides whether the record is in clear or
 * encrypted, open_record() removes the AEAD protection, content() hands
 * application data to the callback and handshake bytes to the handshake
 * framer, which reads the hellos (in clear) and, in TLS 1.3, the Finished and
 * KeyUpdate messages that move a direction to its next keys. Every status
 * change goes through enter(); an ending status is never left.
 *
 * Keys: tls_decrypt_keys.c (the suites, the key schedule).
 *
 * Keys come from the key log at the ServerHello. A followed key log (live:
 * the server appends its lines as sessions come) may not hold the line yet:
 * the bytes of both directions are then held (bounded: TLSD_HOLD_MAX,
 * TLSD_HOLD_CHUNKS) and the file read again as each chunk comes; once the
 * line is there they are replayed in order, and when the hold is full, at a
 * gap or at the end the session is decided with what the file holds.
 *
 * Cost: one HKDF or PRF call per key change, none per record; one
 * EVP_DecryptInit (IV only) + two updates + final per record. A whole record
 * present in the caller's bytes is decrypted from them without a copy.
 */
#include "tls_decrypt_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cursor.h"

/* RFC 8446 4.1.3: the ServerHello random of a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* Drops a message in progress: keys change only at message boundaries, and
 * a kept body must never receive bytes of another message. */
void tlsd_hs_reset(struct hs_framer *h)
{
	free(h->keep);
	memset(h, 0, sizeof(*h));
}

static bool ending(enum tlsd_status s)
{
	return s >= TLSD_NO_KEY;
}

void tlsd_enter(struct tlsd *t, int dir, enum tlsd_status s)
{
	struct tlsd_dir_info *di = &t->info.dir[dir];
	if (ending(di->status))
		return;
	di->status = s;
	if (ending(s)) {
		struct tdir *d = &t->d[dir];
		if ((s == TLSD_BAD_KEYS || s == TLSD_MALFORMED) && !di->fail_record)
			di->fail_record = di->records;
		/* the record buffer may hold the record being read: tlsd_data
		 * frees it when it returns */
		if (d->cx) {
			EVP_CIPHER_CTX_free(d->cx);     /* cleanses the key schedule */
			d->cx = NULL;
		}
		EVP_MAC_CTX_free(d->mac);
		d->mac = NULL;
		OPENSSL_cleanse(d->secret, sizeof(d->secret));
		OPENSSL_cleanse(d->ap0, sizeof(d->ap0));
		OPENSSL_cleanse(d->iv, sizeof(d->iv));
	}
}

/* ---- hellos ---- */

static void client_hello(struct tlsd *t, const uint8_t *b, size_t n)
{
	struct cursor c = cur_make(b, n), ext;
	const uint8_t *random;
	uint8_t sid_len, comp_len;
	uint16_t cs_len, ext_len;
	if (!cur_skip(&c, 2) || !cur_bytes(&c, 32, &random))
		return;
	memcpy(t->info.client_random, random, 32);
	t->info.client_random_seen = true;
	if (!cur_u8(&c, &sid_len) || !cur_skip(&c, sid_len) || !cur_u16(&c, &cs_len) || !cur_skip(&c, cs_len) ||
	    !cur_u8(&c, &comp_len) || !cur_skip(&c, comp_len) || !cur_u16(&c, &ext_len) || !cur_sub(&c, ext_len, &ext))
		return;
	uint16_t type, len;
	while (cur_u16(&ext, &type) && cur_u16(&ext, &len) && cur_skip(&ext, len))
		if (type == EXT_EARLY_DATA)
			t->info.early_data_offered = true;
}

/* The key log labels this session needs (version and suite known). */
static uint8_t keys_wanted(const struct tlsd *t)
{
	if (t->info.version != 0x0304)
		return 1u << KL_CLIENT_RANDOM;
	uint8_t w = (1u << KL_SERVER_HS) | (1u << KL_SERVER_AP0);
	if (!t->info.early_data_offered)
		w |= (1u << KL_CLIENT_HS) | (1u << KL_CLIENT_AP0);
	return w;
}

/* The keys of both directions from the entry (NULL: none, TLSD_NO_KEY). */
static void install(struct tlsd *t, const struct keylog_entry *e)
{
	if (t->info.version == 0x0304) {
		tlsd_tls13_install(t, DIR_S2C, e, KL_SERVER_HS, KL_SERVER_AP0);
		if (t->info.early_data_offered)
			tlsd_enter(t, DIR_C2S, TLSD_UNSUPPORTED);
		else
			tlsd_tls13_install(t, DIR_C2S, e, KL_CLIENT_HS, KL_CLIENT_AP0);
	} else {
		tlsd_tls12_install(t, e);
	}
}

static void server_hello(struct tlsd *t, const uint8_t *b, size_t n)
{
	struct cursor c = cur_make(b, n), ext;
	const uint8_t *random;
	uint16_t version, cipher, ext_len;
	uint8_t sid_len, comp;
	if (!cur_u16(&c, &version) || !cur_bytes(&c, 32, &random) || !cur_u8(&c, &sid_len) ||
	    !cur_skip(&c, sid_len) || !cur_u16(&c, &cipher) || !cur_u8(&c, &comp)) {
		tlsd_enter(t, DIR_S2C, TLSD_MALFORMED);
		return;
	}
	if (memcmp(random, hrr_random, 32) == 0) {
		t->info.hello_retry = true;     /* the real ServerHello follows */
		return;
	}
	if (t->info.version)
		return;                         /* one handshake per session: renegotiation is not followed */
	memcpy(t->server_random, random, 32);
	if (cur_u16(&c, &ext_len) && cur_sub(&c, ext_len, &ext)) {
		uint16_t type, len, v;
		struct cursor body;
		while (cur_u16(&ext, &type) && cur_u16(&ext, &len) && cur_sub(&ext, len, &body))
			if (type == EXT_SUPPORTED_VERSIONS && cur_u16(&body, &v))
				version = v;
			else if (type == EXT_ENCRYPT_THEN_MAC)
				t->etm = true;
	}
	t->info.version = version;
	t->info.cipher = cipher;
	t->suite = NULL;
	t->suite = tlsd_suite(cipher);
	bool v13 = version == 0x0304;
	if (!t->suite || comp != 0 || (version != 0x0303 && !v13) || t->suite->tls13 != v13 ||
	    !t->info.client_random_seen) {
		/* no ClientHello seen (a gap before it): no key can be found either,
		 * but "unsupported" would be wrong; say no key */
		enum tlsd_status s = t->info.client_random_seen ? TLSD_UNSUPPORTED : TLSD_NO_KEY;
		tlsd_enter(t, DIR_C2S, s);
		tlsd_enter(t, DIR_S2C, s);
		return;
	}
	uint8_t want = keys_wanted(t);
	const struct keylog_entry *e = keylog_find_fresh(t->kl, t->info.client_random, want);
	if (keylog_follows(t->kl) && (!e || (e->have & want) != want)) {
		t->waiting = true;      /* the line may be appended yet: hold (tlsd_data) */
		return;
	}
	install(t, e);
}

/* A complete handshake message; body is NULL when it was not kept. */
static void hs_message(struct tlsd *t, int dir, uint8_t type, const uint8_t *body, size_t n)
{
	struct tdir *d = &t->d[dir];
	bool v13 = t->info.version == 0x0304;
	if (!d->enc) {
		if (type == HS_CLIENT_HELLO && dir == DIR_C2S && body)
			client_hello(t, body, n);
		else if (type == HS_SERVER_HELLO && dir == DIR_S2C && body)
			server_hello(t, body, n);
		return;
	}
	if (!v13)
		return;         /* TLS 1.2: Finished; renegotiation stops at its ChangeCipherSpec */
	if (type == HS_FINISHED && !d->on_ap)
		d->finished_pending = true;
	else if (type == HS_KEY_UPDATE && d->on_ap)
		d->update_pending = true;
}

static bool hs_keeps(const struct tlsd *t, int dir, uint8_t type)
{
	if (t->d[dir].enc)
		return false;
	return (type == HS_CLIENT_HELLO && dir == DIR_C2S) || (type == HS_SERVER_HELLO && dir == DIR_S2C);
}

/* Handshake bytes of one direction, messages spanning records. */
static void hs_feed(struct tlsd *t, int dir, const uint8_t *b, size_t n)
{
	struct hs_framer *h = &t->d[dir].hs;
	while (n && !ending(t->info.dir[dir].status)) {
		if (h->hdr_n < 4) {
			h->hdr[h->hdr_n++] = *b++;
			n--;
			if (h->hdr_n < 4)
				continue;
			h->len = h->left = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
			h->keep_n = 0;
			free(h->keep);          /* NULL unless a reset was missed */
			h->keep = NULL;
			if (hs_keeps(t, dir, h->hdr[0]) && h->len <= TLSD_HS_KEEP_MAX && h->len)
				h->keep = malloc(h->len);   /* once per hello, not per record */
		} else {
			size_t k = SL_MIN(n, (size_t)h->left);
			if (h->keep)
				memcpy(h->keep + h->keep_n, b, k);
			h->keep_n += (uint32_t)k;
			h->left -= (uint32_t)k;
			b += k;
			n -= k;
		}
		if (h->hdr_n == 4 && h->left == 0) {
			uint8_t type = h->hdr[0];
			uint8_t *keep = h->keep;
			uint32_t len = h->len;
			h->keep = NULL;
			h->hdr_n = 0;
			hs_message(t, dir, type, keep, len);
			free(keep);
		}
	}
}

/* ---- records ---- */

static void alert(struct tlsd *t, int dir, const uint8_t *b, size_t n)
{
	struct tlsd_dir_info *di = &t->info.dir[dir];
	if (n < 2)
		return;
	di->alert = true;
	di->alert_level = b[0];
	di->alert_desc = b[1];
	di->close_notify = b[1] == 0;
}

static void nonce_xor_seq(uint8_t nonce[NONCE_LEN], const uint8_t iv[NONCE_LEN], uint64_t seq)
{
	memcpy(nonce, iv, NONCE_LEN);
	for (int i = 0; i < 8; i++)
		nonce[NONCE_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* Removes the AEAD protection into t->plain. Returns the plaintext length,
 * -1 when the tag fails, -2 when the record cannot hold a tag. */
static long open_cbc(struct tlsd *t, struct tdir *d, const uint8_t *hdr, const uint8_t *body, size_t n);

static long open_record(struct tlsd *t, struct tdir *d, const uint8_t *hdr, const uint8_t *body, size_t n)
{
	if (t->suite->mac)
		return open_cbc(t, d, hdr, body, n);
	bool v13 = t->info.version == 0x0304;
	bool gcm12 = !v13 && t->suite->aead != AEAD_CHACHA20;
	size_t pre = gcm12 ? GCM_EXPLICIT : 0;
	if (n < pre + AEAD_TAG + (v13 ? 1 : 0))
		return -2;
	size_t ct = n - pre - AEAD_TAG;
	uint8_t nonce[NONCE_LEN], aad[13], tag[AEAD_TAG];
	size_t aad_len;
	if (gcm12) {
		memcpy(nonce, d->iv, 4);
		memcpy(nonce + 4, body, GCM_EXPLICIT);
	} else {
		nonce_xor_seq(nonce, d->iv, d->seq);
	}
	if (v13) {
		memcpy(aad, hdr, REC_HDR);
		aad_len = REC_HDR;
	} else {
		for (int i = 0; i < 8; i++)
			aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
		aad[8] = hdr[0];
		aad[9] = hdr[1];
		aad[10] = hdr[2];
		aad[11] = (uint8_t)(ct >> 8);
		aad[12] = (uint8_t)ct;
		aad_len = 13;
	}
	memcpy(tag, body + n - AEAD_TAG, AEAD_TAG);
	int ol = 0, fl = 0;
	t->plain_hw = SL_MAX(t->plain_hw, ct);
	if (EVP_DecryptInit_ex(d->cx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_DecryptUpdate(d->cx, NULL, &ol, aad, (int)aad_len) != 1 ||
	    (ct && EVP_DecryptUpdate(d->cx, t->plain, &ol, body + pre, (int)ct) != 1) ||
	    EVP_CIPHER_CTX_ctrl(d->cx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, tag) != 1 ||
	    EVP_DecryptFinal_ex(d->cx, t->plain + (ct ? ol : 0), &fl) != 1)
		return -1;
	d->seq++;
	return (long)ct;
}

/* The record MAC: HMAC(seq || type || version || length || data). */
static bool cbc_mac(struct tdir *d, const uint8_t *hdr, size_t len, const uint8_t *a, size_t an,
		    const uint8_t *b, size_t bn, uint8_t *out)
{
	uint8_t pre[13];
	for (int i = 0; i < 8; i++)
		pre[i] = (uint8_t)(d->seq >> (56 - 8 * i));
	pre[8] = hdr[0];
	pre[9] = hdr[1];
	pre[10] = hdr[2];
	pre[11] = (uint8_t)(len >> 8);
	pre[12] = (uint8_t)len;
	size_t ol = 0;
	return EVP_MAC_init(d->mac, NULL, 0, NULL) == 1 && EVP_MAC_update(d->mac, pre, sizeof(pre)) == 1 &&
	       EVP_MAC_update(d->mac, a, an) == 1 && (!bn || EVP_MAC_update(d->mac, b, bn) == 1) &&
	       EVP_MAC_final(d->mac, out, &ol, MAC_MAX) == 1;
}

/* TLS 1.2 CBC: IV || E(data || MAC || padding) (MAC-then-encrypt), or
 * IV || E(data || padding) || MAC over IV and ciphertext (encrypt-then-MAC).
 * A bad MAC or bad padding means the keys do not match: -1, as a tag. The
 * check is not constant-time: we are a passive reader, not a padding oracle. */
static long open_cbc(struct tlsd *t, struct tdir *d, const uint8_t *hdr, const uint8_t *body, size_t n)
{
	size_t ml = t->suite->mac_len;
	size_t encl = t->etm ? (n >= ml ? n - ml : 0) : n;     /* IV + ciphertext */
	if (encl < 2 * CBC_BLOCK || encl % CBC_BLOCK || (!t->etm && encl - CBC_BLOCK < ml + 1) || (t->etm && n < ml))
		return -2;
	uint8_t mac[MAC_MAX];
	if (t->etm) {
		if (!cbc_mac(d, hdr, encl, body, encl, NULL, 0, mac) || memcmp(mac, body + encl, ml) != 0)
			return -1;
	}
	size_t ct = encl - CBC_BLOCK;
	int ol = 0, fl = 0;
	t->plain_hw = SL_MAX(t->plain_hw, ct);
	if (EVP_DecryptInit_ex(d->cx, NULL, NULL, NULL, body) != 1 ||
	    EVP_DecryptUpdate(d->cx, t->plain, &ol, body + CBC_BLOCK, (int)ct) != 1 ||
	    EVP_DecryptFinal_ex(d->cx, t->plain + ol, &fl) != 1)
		return -1;
	uint8_t pad = t->plain[ct - 1];
	size_t tail = (size_t)pad + 1 + (t->etm ? 0 : ml);
	if (tail > ct)
		return -1;
	for (size_t i = ct - 1 - pad; i < ct - 1; i++)
		if (t->plain[i] != pad)
			return -1;
	size_t len = ct - tail;
	if (!t->etm && (!cbc_mac(d, hdr, len, t->plain, len, NULL, 0, mac) ||
			memcmp(mac, t->plain + len, ml) != 0))
		return -1;
	d->seq++;
	return (long)len;
}

/* Decrypted content of one record. */
static void content(struct tlsd *t, int dir, uint8_t type, const uint8_t *p, size_t n)
{
	struct tlsd_dir_info *di = &t->info.dir[dir];
	switch (type) {
	case CT_APPDATA:
		if (n) {
			di->app_bytes += n;
			t->fn(t->ctx, (enum sl_dir)dir, p, n);
		}
		break;
	case CT_HANDSHAKE:
		hs_feed(t, dir, p, n);
		break;
	case CT_ALERT:
		alert(t, dir, p, n);
		break;
	default:
		tlsd_enter(t, dir, TLSD_MALFORMED);     /* no other type may be protected */
		break;
	}
}

static void protected_record(struct tlsd *t, int dir, const uint8_t *hdr, const uint8_t *body, size_t n)
{
	struct tdir *d = &t->d[dir];
	struct tlsd_dir_info *di = &t->info.dir[dir];
	long pl = open_record(t, d, hdr, body, n);
	if (pl < 0) {
		tlsd_enter(t, dir, pl == -1 ? TLSD_BAD_KEYS : TLSD_MALFORMED);
		return;
	}
	di->decrypted++;
	size_t len = (size_t)pl;
	uint8_t type = hdr[0];
	if (t->info.version == 0x0304) {
		while (len && t->plain[len - 1] == 0)
			len--;
		if (!len) {
			tlsd_enter(t, dir, TLSD_MALFORMED);     /* all padding, no content type */
			return;
		}
		type = t->plain[--len];
	}
	content(t, dir, type, t->plain, len);
	if (ending(di->status))
		return;
	/* TLS 1.3 changes keys at the record boundary after Finished/KeyUpdate */
	if (d->finished_pending) {
		d->finished_pending = false;
		d->on_ap = true;
		if (!tlsd_tls13_use_secret(t, d, d->ap0))
			tlsd_enter(t, dir, TLSD_UNSUPPORTED);
		OPENSSL_cleanse(d->ap0, sizeof(d->ap0));
	} else if (d->update_pending) {
		d->update_pending = false;
		di->key_updates++;
		if (!tlsd_tls13_next_generation(t, d))
			tlsd_enter(t, dir, TLSD_UNSUPPORTED);
	}
}

static void record(struct tlsd *t, int dir, const uint8_t *hdr, const uint8_t *body, size_t n)
{
	struct tdir *d = &t->d[dir];
	struct tlsd_dir_info *di = &t->info.dir[dir];
	bool v13 = t->info.version == 0x0304;
	uint8_t type = hdr[0];
	di->records++;
	if (d->enc && (type == CT_APPDATA || (!v13 && type != CT_CCS))) {
		protected_record(t, dir, hdr, body, n);
		return;
	}
	switch (type) {
	case CT_CCS:
		if (v13 || !t->info.version)
			break;                  /* TLS 1.3 middlebox compatibility: no meaning */
		if (d->ccs_seen) {
			tlsd_enter(t, dir, TLSD_UNSUPPORTED);   /* renegotiation */
			break;
		}
		d->ccs_seen = true;
		d->enc = true;
		d->seq = 0;
		tlsd_hs_reset(&d->hs);
		break;
	case CT_ALERT:
		alert(t, dir, body, n);
		break;
	case CT_HANDSHAKE:
		if (!d->enc)
			hs_feed(t, dir, body, n);
		break;
	case CT_APPDATA:
		di->skipped++;                  /* protected, and no keys for it */
		break;
	}
}

/* Looks for the waited-for line again; when it is there, or when `last`
 * (the hold is full, a gap, the end), installs what there is (no line:
 * TLSD_NO_KEY) and replays the held bytes. */
static void keys_wait(struct tlsd *t, bool last)
{
	uint8_t want = keys_wanted(t);
	const struct keylog_entry *e = keylog_find_fresh(t->kl, t->info.client_random, want);
	if (!last && (!e || (e->have & want) != want))
		return;
	t->waiting = false;
	install(t, e);
	for (uint32_t at = 0; at < t->hold_n; ) {
		uint32_t len;
		memcpy(&len, t->hold + at + 1, sizeof(len));
		tlsd_data(t, (enum sl_dir)t->hold[at], t->hold + at + 5, len);
		at += 5 + len;
	}
	free(t->hold);
	t->hold = NULL;
	t->hold_n = t->hold_chunks = 0;
}

static void hold(struct tlsd *t, enum sl_dir dir, const uint8_t *b, size_t n)
{
	if (t->hold_n + 5 + n > TLSD_HOLD_MAX || t->hold_chunks >= TLSD_HOLD_CHUNKS) {
		keys_wait(t, true);
		tlsd_data(t, dir, b, n);
		return;
	}
	if (!t->hold && !(t->hold = malloc(TLSD_HOLD_MAX))) {
		keys_wait(t, true);     /* out of memory: decide now */
		tlsd_data(t, dir, b, n);
		return;
	}
	uint32_t len = (uint32_t)n;
	t->hold[t->hold_n] = (uint8_t)dir;
	memcpy(t->hold + t->hold_n + 1, &len, sizeof(len));
	memcpy(t->hold + t->hold_n + 5, b, n);
	t->hold_n += 5 + len;
	t->hold_chunks++;
	keys_wait(t, false);
}

void tlsd_data(struct tlsd *t, enum sl_dir dir, const uint8_t *b, size_t n)
{
	struct tdir *d = &t->d[dir];
	while (n && !ending(t->info.dir[dir].status)) {
		if (t->waiting) {
			hold(t, dir, b, n);
			return;
		}
		if (d->hdr_n < REC_HDR) {
			size_t k = SL_MIN(n, (size_t)(REC_HDR - d->hdr_n));
			memcpy(d->hdr + d->hdr_n, b, k);
			d->hdr_n = (uint8_t)(d->hdr_n + k);
			b += k;
			n -= k;
			if (d->hdr_n < REC_HDR)
				return;
			d->body_len = (uint32_t)d->hdr[3] << 8 | d->hdr[4];
			d->body_n = 0;
			if (d->hdr[0] < CT_CCS || d->hdr[0] > CT_APPDATA || d->hdr[1] != 3 ||
			    d->body_len > TLSD_RECORD_MAX) {
				t->info.dir[dir].records++;
				tlsd_enter(t, dir, TLSD_MALFORMED);
				break;
			}
		}
		if (d->body_n == 0 && n >= d->body_len) {
			/* the whole record is in the caller's bytes: no copy */
			d->hdr_n = 0;
			record(t, dir, d->hdr, b, d->body_len);
			b += d->body_len;
			n -= d->body_len;
			continue;
		}
		if (!d->rec && !(d->rec = malloc(TLSD_RECORD_MAX))) {
			tlsd_enter(t, dir, TLSD_UNSUPPORTED);   /* out of memory: stop, do not guess */
			break;
		}
		size_t k = SL_MIN(n, (size_t)(d->body_len - d->body_n));
		memcpy(d->rec + d->body_n, b, k);
		d->body_n += (uint32_t)k;
		d->rec_hw = SL_MAX(d->rec_hw, d->body_n);
		b += k;
		n -= k;
		if (d->body_n == d->body_len) {
			d->hdr_n = 0;
			d->body_n = 0;
			record(t, dir, d->hdr, d->rec, d->body_len);
		}
	}
	if (ending(t->info.dir[dir].status) && d->rec) {
		OPENSSL_cleanse(d->rec, d->rec_hw);
		d->rec_hw = 0;
		free(d->rec);
		d->rec = NULL;
	}
}

void tlsd_gap(struct tlsd *t, enum sl_dir dir, uint64_t len)
{
	if (t->waiting)
		keys_wait(t, true);
	if (len)
		tlsd_enter(t, dir, TLSD_GAP);
}

void tlsd_end(struct tlsd *t, enum sl_dir dir)
{
	if (t->waiting)
		keys_wait(t, true);
	if (t->d[dir].hdr_n || t->d[dir].body_n)
		t->info.dir[dir].truncated = true;
}

struct tlsd *tlsd_new(const struct keylog *kl, tlsd_data_fn fn, void *ctx)
{
	tlsd_keys_init();
	struct tlsd *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->kl = kl;
	t->fn = fn;
	t->ctx = ctx;
	return t;
}

void tlsd_free(struct tlsd *t)
{
	if (!t)
		return;
	for (int dir = 0; dir < 2; dir++) {
		struct tdir *d = &t->d[dir];
		EVP_CIPHER_CTX_free(d->cx);
		EVP_MAC_CTX_free(d->mac);
		free(d->hs.keep);
		if (d->rec) {
			OPENSSL_cleanse(d->rec, d->rec_hw);
			free(d->rec);
		}
	}
	if (t->plain) {
		OPENSSL_cleanse(t->plain, t->plain_hw);
		free(t->plain);
	}
	free(t->hold);
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

enum tlsd_status tlsd_status(const struct tlsd *t, enum sl_dir dir)
{
	return t->info.dir[dir].status;
}

const struct tlsd_info *tlsd_info(const struct tlsd *t)
{
	return &t->info;
}

const char *tlsd_status_name(enum tlsd_status s)
{
	switch (s) {
	case TLSD_HANDSHAKE: return "handshake";
	case TLSD_DECRYPTING: return "decrypting";
	case TLSD_NO_KEY: return "no_key";
	case TLSD_UNSUPPORTED: return "unsupported";
	case TLSD_BAD_KEYS: return "keys_mismatch";
	case TLSD_GAP: return "gap";
	case TLSD_MALFORMED: return "malformed";
	}
	return "?";
}

const char *tlsd_cipher_name(uint16_t cipher)
{
	const struct suite *s = tlsd_suite(cipher);
	return s ? s->name : NULL;
}

bool tlsd_wanted_line(const struct tlsd *t, char *buf, size_t len)
{
	if (!len)
		return false;
	buf[0] = '\0';
	if (!t->info.client_random_seen)
		return false;
	char hex[2 * KEYLOG_RANDOM_LEN + 1];
	for (int i = 0; i < KEYLOG_RANDOM_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", t->info.client_random[i]);
	enum keylog_label want = KL_CLIENT_RANDOM;
	if (t->info.version == 0x0304) {
		static const enum keylog_label order[] = { KL_CLIENT_HS, KL_SERVER_HS, KL_CLIENT_AP0, KL_SERVER_AP0 };
		const struct keylog_entry *e = t->kl ? keylog_find(t->kl, t->info.client_random) : NULL;
		want = KL_CLIENT_HS;
		for (size_t i = 0; i < SL_ARRAY_LEN(order); i++)
			if (!e || !(e->have & (1u << order[i]))) {
				want = order[i];
				break;
			}
	}
	snprintf(buf, len, "%s %s", keylog_label_name(want), hex);
	return true;
}
