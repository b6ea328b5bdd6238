/*
 * keylog.h - an NSS key log (the SSLKEYLOGFILE format), read into a table
 * keyed by the ClientHello random.
 *
 * The lines used are
 *   CLIENT_RANDOM <64 hex client random> <96 hex master secret>      (TLS 1.2)
 *   CLIENT_HANDSHAKE_TRAFFIC_SECRET <64 hex> <64 or 96 hex secret>   (TLS 1.3)
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0,
 *   SERVER_TRAFFIC_SECRET_0                                          (same shape)
 * Other labels the NSS format defines (EXPORTER_SECRET, early-data secrets,
 * RSA) are counted as ignored; anything else that is not a comment ('#') or
 * a blank line is counted as malformed and skipped, never fatal.
 *
 * The file is untrusted input: lines longer than KEYLOG_LINE_MAX are
 * malformed, and at most KEYLOG_ENTRIES_MAX client randoms are kept (the
 * lines beyond are counted in `capped`). Lookup is a hash table, O(1) per
 * session. Key material is never printed by this module, not even in error
 * messages (they give line numbers only), and every byte that held a secret
 * (table, line buffer) is cleansed with OPENSSL_cleanse before it is freed.
 */
#ifndef SLEUTH_KEYLOG_H
#define SLEUTH_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYLOG_LINE_MAX     512         /* bytes, without the line end; real lines are < 240 */
#define KEYLOG_ENTRIES_MAX  200000u     /* client randoms kept (~330 bytes each) */
#define KEYLOG_RANDOM_LEN   32
#define KEYLOG_SECRET_MAX   48          /* SHA-384 suites; TLS 1.2 master secrets */
#define KEYLOG_FOLLOW_READ_MAX (1u << 20) /* bytes read by one catch-up of a followed file */

/* One bit per label in keylog_entry.have. */
enum keylog_label {
	KL_CLIENT_RANDOM = 0,   /* TLS 1.2 master secret (48 bytes) */
	KL_CLIENT_HS,           /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
	KL_SERVER_HS,           /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
	KL_CLIENT_AP0,          /* CLIENT_TRAFFIC_SECRET_0 */
	KL_SERVER_AP0,          /* SERVER_TRAFFIC_SECRET_0 */
	KL_COUNT
};

struct keylog_secret {
	uint8_t len;            /* 0 when absent; 32 or 48 */
	uint8_t b[KEYLOG_SECRET_MAX];
};

struct keylog_entry {
	uint8_t client_random[KEYLOG_RANDOM_LEN];
	uint8_t have;           /* bit (1u << enum keylog_label) per secret present */
	struct keylog_secret s[KL_COUNT];
	uint32_t next;          /* hash chain: index + 1 of the next entry, 0 ends */
};

struct keylog_stats {
	uint64_t lines;         /* lines read, comments and blanks included */
	uint64_t secrets;       /* lines whose secret was stored (a repeated line replaces) */
	uint64_t entries;       /* distinct client randoms */
	uint64_t ignored;       /* known labels this tool does not use */
	uint64_t malformed;     /* lines skipped as malformed (too long, bad hex, bad length, unknown label) */
	uint64_t capped;        /* lines dropped because KEYLOG_ENTRIES_MAX was reached */
	uint64_t first_malformed_line;  /* 1-based; 0 when none */
	uint64_t rereads;       /* followed file: catch-ups after a lookup missed */
	uint64_t reopened;      /* followed file: found truncated or replaced, read from the top */
};

struct keylog;

struct keylog *keylog_new(void);
/* Reads a key log file and adds its lines. Returns false when the file cannot
 * be opened or read (or memory runs out); err (errlen bytes) then says why,
 * with the path and errno text only. Malformed lines are not errors: see
 * keylog_stats(). */
bool keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen);
/* Adds one line (no line end needed; a trailing CR or LF is ignored). Returns
 * true when the line was stored, a comment/blank, or an ignored label; false
 * when it was malformed or over the cap (also counted in the stats). */
bool keylog_add_line(struct keylog *kl, const char *line, size_t len);
/* The entry for a ClientHello random, or NULL. The pointer stays valid until
 * keylog_free (entries never move). */
const struct keylog_entry *keylog_find(const struct keylog *kl, const uint8_t random[KEYLOG_RANDOM_LEN]);
const struct keylog_stats *keylog_stats(const struct keylog *kl);
/* The NSS label text of a keylog_label ("CLIENT_RANDOM", ...). */
const char *keylog_label_name(enum keylog_label l);
/* Follows a file that grows (live capture against a server that appends its
 * keys as sessions come): reads its complete lines now (false, with err as
 * for keylog_load_file, when it cannot be read; a file that does not exist
 * yet is not an error: servers make theirs at their first TLS session) and
 * remembers the file, so that keylog_find_fresh() can read what is appended
 * later. */
bool keylog_follow(struct keylog *kl, const char *path, char *err, size_t errlen);
bool keylog_follows(const struct keylog *kl);
/* keylog_find, but when the entry is absent or lacks a label of `want`
 * (bits 1u << enum keylog_label) and the key log follows its file, first
 * reads the lines appended since the last read (bounded by
 * KEYLOG_FOLLOW_READ_MAX; a truncated or replaced file is read again from
 * the top). The table is a cache of the file, so this catches it up through
 * a const pointer: the decryptors that hold one never change an entry. Not
 * thread-safe: one key log per pipeline. */
const struct keylog_entry *keylog_find_fresh(const struct keylog *kl, const uint8_t random[KEYLOG_RANDOM_LEN],
					     uint8_t want);
/* Cleanses every secret and frees; NULL is fine. */
void keylog_free(struct keylog *kl);

#endif
