/*
 * tls_decrypt.h - decrypts one TLS session with secrets from a key log.
 *
 * Fed with the TLS byte stream of each direction (after STARTTLS's 220, or
 * from the first byte on implicit TLS; records may be split across calls at
 * any byte), it reads the handshake in clear for the ClientHello random, the
 * ServerHello random, the version (TLS 1.3 through supported_versions) and
 * the cipher suite, looks the client random up in the key log, derives the
 * traffic keys and hands every decrypted application-data byte, in order, to
 * a callback per direction. Its face is that of a dissector: new, bytes in
 * one direction, a gap in one direction, end of one direction, free.
 *
 * Decrypted:
 *   TLS 1.3   TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 *             TLS_CHACHA20_POLY1305_SHA256: the encrypted handshake with the
 *             handshake traffic secrets, then application traffic secret 0;
 *             KeyUpdate moves that direction to the next generation.
 *   TLS 1.2   (EC)DHE-RSA, ECDHE-ECDSA and RSA key exchange with AES-128-GCM,
 *             AES-256-GCM (SHA-256 / SHA-384 PRF), CHACHA20-POLY1305
 *             (RFC 7905 nonce), and AES-128/256-CBC with HMAC-SHA1, -SHA256
 *             or -SHA384, MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
 * Not decrypted (status TLSD_UNSUPPORTED): RC4, 3DES, CCM, Camellia, ARIA
 * and other suites not in the table of tls_decrypt.c, SSL 3.0 / TLS 1.0 /
 * TLS 1.1, TLS compression, TLS 1.2 renegotiation (the direction stops at
 * its second ChangeCipherSpec), and the client direction of a TLS 1.3
 * session whose ClientHello offers 0-RTT early data. A TLS 1.2 session
 * resumed by session ID or ticket is decrypted when
 * the key log has a CLIENT_RANDOM line for its own client random (OpenSSL and
 * NSS write one); otherwise its status is TLSD_NO_KEY.
 *
 * Honesty: the first record whose AEAD tag (or CBC MAC or padding) fails
 * ends that direction with TLSD_BAD_KEYS; a gap ends it with TLSD_GAP; a
 * record header that is not TLS or a record over the size cap ends it with
 * TLSD_MALFORMED. Nothing after
 * such an end is delivered, so the callback never sees garbage.
 *
 * Memory: no allocation per record. A direction's record buffer
 * (TLSD_RECORD_MAX + header) is allocated the first time a record arrives
 * split across calls; whole records are decrypted straight from the caller's
 * bytes into one plaintext buffer per session, allocated when keys are
 * installed. Secrets (copied from the key log at ServerHello) and derived keys
 * are cleansed with OPENSSL_cleanse on free. Nothing here prints, and no key
 * material is ever exposed through this interface.
 */
#ifndef SLEUTH_TLS_DECRYPT_H
#define SLEUTH_TLS_DECRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "keylog.h"

#define TLSD_PLAIN_MAX   16384u                   /* 2^14: a record's plaintext */
/* a record's ciphertext: 2^14 + 256 in TLS 1.3 (RFC 8446 5.2), 2^14 + 2048
 * in TLS 1.2 (RFC 5246 6.2.3; CBC padding may be up to 255 bytes) */
#define TLSD_RECORD_MAX  (TLSD_PLAIN_MAX + 2048u)
#define TLSD_HS_KEEP_MAX 16384u                   /* largest ClientHello/ServerHello read */
/* A followed key log (keylog_follow) without the session's line at the
 * ServerHello: the TLS bytes held while waiting for it to be appended. */
#define TLSD_HOLD_MAX    65536u
#define TLSD_HOLD_CHUNKS 64u

/* Per direction; the first four are where it starts and where it runs, the
 * others end decryption of that direction for good. */
enum tlsd_status {
	TLSD_HANDSHAKE = 0,     /* no keys yet: hellos not seen (yet) */
	TLSD_DECRYPTING,        /* keys installed; records are decrypted */
	TLSD_NO_KEY,            /* the key log has no (complete) line for this client random */
	TLSD_UNSUPPORTED,       /* version, suite or feature this module does not decrypt */
	TLSD_BAD_KEYS,          /* an AEAD tag failed: the keys did not match this session */
	TLSD_GAP,               /* a gap in the TCP stream ended decryption */
	TLSD_MALFORMED,         /* bytes that are not a TLS record (or an over-long one) */
};

/* Plaintext application data of one direction, in order. b is valid only
 * during the call. */
typedef void (*tlsd_data_fn)(void *ctx, enum sl_dir dir, const uint8_t *b, size_t n);

struct tlsd_dir_info {
	enum tlsd_status status;
	uint64_t records;           /* records read (clear and encrypted) */
	uint64_t decrypted;         /* records whose tag verified */
	uint64_t app_bytes;         /* plaintext application-data bytes delivered */
	uint64_t skipped;           /* encrypted records seen before keys (no ServerHello seen) */
	uint32_t key_updates;       /* TLS 1.3 KeyUpdate messages followed */
	uint64_t fail_record;       /* TLSD_BAD_KEYS/TLSD_MALFORMED: 1-based index of the record */
	bool alert;                 /* an alert was read (clear or decrypted) */
	uint8_t alert_level, alert_desc;
	bool close_notify;          /* the alert was close_notify (level warning, desc 0) */
	bool truncated;             /* tlsd_end came with a partial record pending */
};

struct tlsd_info {
	uint16_t version;           /* negotiated: 0x0303, 0x0304; 0 until the ServerHello */
	uint16_t cipher;            /* the ServerHello's cipher suite */
	bool client_random_seen;
	uint8_t client_random[KEYLOG_RANDOM_LEN];   /* public (sent in clear), not a secret */
	bool hello_retry;           /* a HelloRetryRequest was seen */
	bool early_data_offered;    /* the ClientHello offered 0-RTT */
	uint8_t keys_used;          /* bits (1u << enum keylog_label) taken from the key log */
	struct tlsd_dir_info dir[2];    /* by enum sl_dir */
};

struct tlsd;

/* kl must outlive the decryptor (NULL: every session ends as TLSD_NO_KEY).
 * fn receives the plaintext. NULL when memory runs out. */
struct tlsd *tlsd_new(const struct keylog *kl, tlsd_data_fn fn, void *ctx);
/* Bytes of the TLS stream in one direction, in order. */
void tlsd_data(struct tlsd *t, enum sl_dir dir, const uint8_t *b, size_t n);
/* len bytes of that direction are missing: its decryption ends (TLSD_GAP). */
void tlsd_gap(struct tlsd *t, enum sl_dir dir, uint64_t len);
/* The direction ended (FIN, RST, end of capture): notes a partial record. */
void tlsd_end(struct tlsd *t, enum sl_dir dir);
enum tlsd_status tlsd_status(const struct tlsd *t, enum sl_dir dir);
const struct tlsd_info *tlsd_info(const struct tlsd *t);
/* Cleanses keys and buffers, frees; NULL is fine. */
void tlsd_free(struct tlsd *t);

/* Words for reports: "handshake", "decrypting", "no_key", "unsupported",
 * "keys_mismatch", "gap", "malformed". */
const char *tlsd_status_name(enum tlsd_status s);
/* IANA name of a suite this module knows ("TLS_AES_128_GCM_SHA256", ...), or NULL. */
const char *tlsd_cipher_name(uint16_t cipher);
/* The key log line that would decrypt the session, without its secret:
 * "CLIENT_RANDOM <64 hex>" for TLS 1.2, "CLIENT_HANDSHAKE_TRAFFIC_SECRET
 * <64 hex>" (and the three other TLS 1.3 labels) for TLS 1.3. Writes "" and
 * returns false before the ClientHello was seen. */
bool tlsd_wanted_line(const struct tlsd *t, char *buf, size_t len);

#endif
