/*
 * tls_decrypt_int.h - private to the TLS decryptor: its state, shared by the
 * record layer (tls_decrypt.c) and the key schedule (tls_decrypt_keys.c).
 */
#ifndef SLEUTH_TLS_DECRYPT_INT_H
#define SLEUTH_TLS_DECRYPT_INT_H

#include <openssl/evp.h>

#include "tls_decrypt.h"

#define REC_HDR         5
#define AEAD_TAG        16
#define NONCE_LEN       12
#define GCM_EXPLICIT    8
#define KEY_MAX         32
#define MAC_MAX         48
#define CBC_BLOCK       16
#define SECRET_MAX      KEYLOG_SECRET_MAX

enum ct { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
enum hs { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_FINISHED = 20, HS_KEY_UPDATE = 24 };
enum aead { AEAD_AES128_GCM, AEAD_AES256_GCM, AEAD_CHACHA20, CBC_AES128, CBC_AES256 };

#define EXT_ENCRYPT_THEN_MAC    22
#define EXT_EARLY_DATA          42
#define EXT_SUPPORTED_VERSIONS  43

/* One decrypted cipher suite (a row of tls_decrypt_keys.c's table). */
struct suite {
	uint16_t id;
	const char *name;
	bool tls13;
	enum aead aead;
	uint8_t key_len;
	const char *md;             /* PRF / HKDF hash */
	const char *mac;            /* CBC suites: the HMAC hash; NULL for AEAD */
	uint8_t mac_len;
};

/* Handshake messages of one direction, framed across records. */
struct hs_framer {
	uint8_t hdr[4];
	uint8_t hdr_n;
	uint32_t left;              /* body bytes of the current message still to come */
	uint32_t len;               /* body length of the current message */
	uint8_t *keep;              /* body kept for the messages we read, else NULL */
	uint32_t keep_n;
};

struct tdir {
	/* record framing */
	uint8_t hdr[REC_HDR];
	uint8_t hdr_n;
	uint32_t body_len, body_n;
	uint8_t *rec;               /* TLSD_RECORD_MAX, for records split across calls */
	uint32_t rec_hw;            /* bytes of rec ever written: what free must wipe */
	struct hs_framer hs;
	/* protection */
	bool enc;                   /* records from this side are protected now */
	bool ccs_seen;
	EVP_CIPHER_CTX *cx;
	EVP_MAC_CTX *mac;           /* CBC suites: HMAC keyed with the write MAC key */
	uint8_t iv[NONCE_LEN];      /* TLS 1.3 / ChaCha20: 12 bytes; TLS 1.2 GCM: 4-byte salt */
	uint64_t seq;
	uint8_t secret[SECRET_MAX]; /* TLS 1.3: the current traffic secret */
	uint8_t ap0[SECRET_MAX];    /* TLS 1.3: application secret 0, used after Finished */
	bool on_ap;
	bool finished_pending, update_pending;
};

struct tlsd {
	const struct keylog *kl;
	tlsd_data_fn fn;
	void *ctx;
	const struct suite *suite;
	bool etm;                   /* CBC: encrypt-then-MAC negotiated (RFC 7366) */
	uint8_t server_random[32];
	uint8_t *plain;             /* TLSD_RECORD_MAX, allocated with the keys */
	size_t plain_hw;            /* bytes of plain ever written (AUTH may be in them) */
	struct tdir d[2];
	struct tlsd_info info;
	/* A followed key log without this session's line at the ServerHello:
	 * the bytes of both directions from there on are held, in order, until
	 * the line is appended (then replayed) or waiting ends (keys_wait). */
	bool waiting;
	uint8_t *hold;              /* chunks: direction (1 byte), length (4), bytes */
	uint32_t hold_n, hold_chunks;
};

/* tls_decrypt.c */
/* Drops a handshake message in progress (keys change only between messages). */
void tlsd_hs_reset(struct hs_framer *h);
/* The one place a direction's status changes; an ending status stays. */
void tlsd_enter(struct tlsd *t, int dir, enum tlsd_status s);

/* tls_decrypt_keys.c */
/* Fetches the algorithms once per process (thread-safe). */
void tlsd_keys_init(void);
/* The suite with IANA number id; NULL when it is not decrypted. */
const struct suite *tlsd_suite(uint16_t id);
/* TLS 1.3: keys and IV of d from a traffic secret (kept for KeyUpdate). */
bool tlsd_tls13_use_secret(struct tlsd *t, struct tdir *d, const uint8_t *secret);
/* TLS 1.3 KeyUpdate: the next generation of d's traffic secret. */
bool tlsd_tls13_next_generation(struct tlsd *t, struct tdir *d);
/* Installs a direction's TLS 1.3 handshake keys from the key log entry. */
void tlsd_tls13_install(struct tlsd *t, int dir, const struct keylog_entry *e, enum keylog_label hs,
			enum keylog_label ap0);
/* Installs both directions' TLS 1.2 keys from the master secret. */
void tlsd_tls12_install(struct tlsd *t, const struct keylog_entry *e);

#endif
