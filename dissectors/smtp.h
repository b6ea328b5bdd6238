/*
 * smtp.h - the SMTP dissector's face.
 *
 * Fed with reassembled bytes per direction (never packets), plus gap and end
 * events, it follows the dialog (commands, replies paired through a bounded
 * FIFO so PIPELINING works, DATA/BDAT bodies streamed and counted, AUTH,
 * STARTTLS and then the TLS record layer), appends events to the session's
 * timeline, and keeps a summary (smtp_facts) a diagnosis reads at the end.
 *
 * Memory per session is bounded by the caps below whatever the input.
 * Passwords and AUTH tokens are never stored anywhere.
 */
#ifndef SLEUTH_SMTP_H
#define SLEUTH_SMTP_H

#include "../analyzer/common.h"
#include "../analyzer/engine.h"
#include "../analyzer/timeline.h"
#include "tls.h"

#define SMTP_LINE_CAP        4096   /* bytes of one line kept; longer lines are counted, not kept */
#define SMTP_CMD_LINE_MAX    512    /* RFC 5321 4.5.3.1.4 */
#define SMTP_TEXT_LINE_MAX   1000   /* RFC 5321 4.5.3.1.6 */
#define SMTP_REPLY_LINE_MAX  512    /* RFC 5321 4.5.3.1.5 */
#define SMTP_PENDING_MAX     128    /* commands awaiting a reply */
#define SMTP_MAX_MESSAGES    16     /* messages kept in facts; more are counted */
#define SMTP_MAX_RCPTS       16     /* recipients kept per message; more are counted */
#define SMTP_ADDR_MAX        256
#define SMTP_TEXT_MAX        512    /* reply text kept (lines joined with a space) */
#define SMTP_HEADER_SCAN_MAX 65536  /* bytes of a message head scanned for headers */

/* Commands. X-macro: enum, verb. */
#define SMTP_COMMANDS(X) \
	X(CMD_NONE, "") \
	X(CMD_HELO, "HELO") X(CMD_EHLO, "EHLO") X(CMD_LHLO, "LHLO") \
	X(CMD_MAIL, "MAIL") X(CMD_RCPT, "RCPT") X(CMD_DATA, "DATA") X(CMD_BDAT, "BDAT") \
	X(CMD_RSET, "RSET") X(CMD_NOOP, "NOOP") X(CMD_QUIT, "QUIT") X(CMD_VRFY, "VRFY") \
	X(CMD_EXPN, "EXPN") X(CMD_HELP, "HELP") X(CMD_AUTH, "AUTH") X(CMD_STARTTLS, "STARTTLS") \
	X(CMD_XCLIENT, "XCLIENT") X(CMD_ETRN, "ETRN") \
	X(CMD_AUTH_DATA, "(auth data)")   /* a continuation line inside AUTH */ \
	X(CMD_BODY_END, "(end of data)")  /* the final dot, or the LAST BDAT chunk; answered like a command */ \
	X(CMD_CONNECT, "(connect)")       /* the greeting is paired with this */ \
	X(CMD_UNKNOWN, "(unknown)")

#define X(e, s) e,
enum smtp_cmd { SMTP_COMMANDS(X) CMD__COUNT };
#undef X
const char *smtp_cmd_name(enum smtp_cmd c);

/* Where the dialog stands; names match the contract's `phase`. */
#define SMTP_PHASES(X) \
	X(PH_CONNECT, "connect")     /* TCP only so far */ \
	X(PH_GREETING, "greeting")   /* waiting for or reading the greeting */ \
	X(PH_HELO, "helo")           /* greeted; EHLO/HELO sent or due */ \
	X(PH_AUTH, "auth") \
	X(PH_MAIL, "mail")           /* MAIL FROM sent or due */ \
	X(PH_RCPT, "rcpt") \
	X(PH_DATA, "data")           /* DATA sent, body flowing or its reply due */ \
	X(PH_BDAT, "bdat") \
	X(PH_STARTTLS, "starttls")   /* STARTTLS sent, TLS handshake under way */ \
	X(PH_TLS, "tls")             /* inside TLS */ \
	X(PH_QUIT, "quit") \
	X(PH_IDLE, "idle")           /* between transactions, nothing pending */

#define X(e, s) e,
enum smtp_phase { SMTP_PHASES(X) PH__COUNT };
#undef X
const char *smtp_phase_name(enum smtp_phase p);

#define SMTP_EXT_LINE_MAX    200    /* one EHLO capability line kept */

/* EHLO keywords we know by name (bit masks in smtp_facts.ext). */
#define SMTP_EXT_SIZE        (1u << 0)
#define SMTP_EXT_AUTH        (1u << 1)
#define SMTP_EXT_STARTTLS    (1u << 2)
#define SMTP_EXT_PIPELINING  (1u << 3)
#define SMTP_EXT_8BITMIME    (1u << 4)
#define SMTP_EXT_CHUNKING    (1u << 5)
#define SMTP_EXT_SMTPUTF8    (1u << 6)
#define SMTP_EXT_ENHANCEDSTATUSCODES (1u << 7)
#define SMTP_EXT_DSN         (1u << 8)
#define SMTP_EXT_BINARYMIME  (1u << 9)

struct smtp_reply {
	uint16_t code;              /* 0 = none */
	char enhanced[12];
	char text[SMTP_TEXT_MAX];   /* text after the code(s), lines joined by ' ' */
	uint16_t lines;
	enum smtp_cmd answers;      /* the command it was paired with */
	uint64_t frame;             /* frame of the reply's last line */
	sl_time ts;
};

enum smtp_auth_result { AUTH_NONE, AUTH_PENDING, AUTH_ACCEPTED, AUTH_REFUSED, AUTH_ABORTED };
enum smtp_starttls_state { STLS_NONE, STLS_REQUESTED, STLS_ACCEPTED, STLS_REFUSED };

struct smtp_message {
	char mail_from[SMTP_ADDR_MAX];
	char rcpt_to[SMTP_MAX_RCPTS][SMTP_ADDR_MAX];  /* accepted or not: see rcpt_ok */
	uint16_t rcpt_codes[SMTP_MAX_RCPTS];
	uint32_t rcpts;             /* RCPT commands seen (may exceed SMTP_MAX_RCPTS) */
	uint32_t rcpts_accepted;
	uint64_t declared_size;     /* SIZE= on MAIL, 0 if none */
	bool has_declared_size;
	bool bdat;                  /* sent with BDAT rather than DATA */
	bool data_started;          /* 354 seen, or first BDAT chunk sent */
	bool data_complete;         /* final dot / LAST chunk seen */
	uint64_t wire_bytes;        /* body bytes as sent (dot-stuffed, without the final dot line) */
	uint64_t body_bytes;        /* after unstuffing */
	uint64_t gap_bytes;         /* body bytes lost to capture gaps */
	uint64_t first_frame, end_frame;
	sl_time start_ts, end_ts;
	struct smtp_reply mail_reply, data_reply, final_reply;  /* code 0 = none */
	char subject[256], message_id[256], from[256], to[256], date[64];
	/* MAIL/RCPT parameters (added) */
	char body_type[16];         /* BODY= value as sent ("8BITMIME", ...), "" if none */
	bool smtputf8;              /* SMTPUTF8 on MAIL */
	char dsn_ret[8];            /* RET= value, "" if none */
	bool dsn_envid;             /* ENVID= on MAIL */
	bool dsn_notify;            /* NOTIFY= or ORCPT= on some RCPT */
	char mail_auth[64];         /* AUTH= on MAIL, "" if none */
	uint32_t bdat_chunks;       /* BDAT chunks sent */
	bool header_truncated;      /* the head was longer than SMTP_HEADER_SCAN_MAX */
};

struct smtp_facts {
	bool is_smtp;               /* an SMTP dialog was recognised */
	bool not_smtp;              /* the bytes are certainly not SMTP */
	bool implicit_tls;          /* TLS from the first byte (e.g. port 465) */
	enum smtp_phase phase;
	struct smtp_reply greeting;
	struct smtp_reply last_reply;       /* newest reply of any kind */
	struct smtp_reply last_error;       /* newest 4xx/5xx reply */
	enum smtp_cmd last_cmd;
	uint64_t last_cmd_frame;
	sl_time last_cmd_ts;
	uint32_t pending;           /* commands sent and not yet answered at the end */

	char helo_verb[8];          /* "EHLO", "HELO", "ehlo", ... as sent */
	char helo_arg[256];
	uint32_t ext;               /* SMTP_EXT_* */
	bool has_size_limit;
	uint64_t size_limit;        /* SIZE n from EHLO; 0 with has_size_limit = no limit stated */
	char auth_mechs[128];       /* as advertised, space-separated */
	char extensions[768];       /* every EHLO capability line with its parameters
				     * ("SIZE 10240000", "AUTH PLAIN LOGIN"), '\n'-separated */

	char auth_mech[32];
	char auth_user[128];        /* decoded user name where the mechanism carries one */
	enum smtp_auth_result auth_result;
	uint16_t auth_code;
	uint32_t auth_attempts, auth_failures;

	enum smtp_starttls_state starttls;
	struct smtp_reply starttls_reply;
	struct tls_facts tls;

	/* The first min(n_msgs, SMTP_MAX_MESSAGES) messages, allocated as they
	 * start (most sessions carry one message, so a fixed array of 16 would
	 * cost ~100 KB per session for nothing). Owned by the dissector. */
	struct smtp_message *msgs;
	uint32_t msgs_cap;          /* entries allocated in msgs */
	uint32_t n_msgs;            /* messages started (a MAIL sent, or DATA/BDAT without MAIL);
	                               may exceed the array; slots >= n_msgs are not initialised */
	bool in_body;               /* the client was sending a body (after 354, or inside a BDAT
	                               chunk) when the stream ended */

	bool quit_sent;
	struct smtp_reply quit_reply;

	uint32_t commands, replies;
	uint32_t replies_4xx, replies_5xx;
	uint32_t consecutive_errors;    /* 4xx/5xx replies in a row, at the end */
	uint32_t unknown_commands;      /* 500/502 answers or unknown verbs */
	uint32_t long_lines, bare_lf, unpaired_replies;
	uint32_t gaps_cmd, gaps_data;
	bool early_talker;
	uint64_t c2s_bytes, s2c_bytes;  /* bytes the dissector was fed */
	sl_time last_c2s_ts, last_s2c_ts;
	uint64_t last_c2s_frame, last_s2c_frame;

	/* added */
	bool plaintext_smtp_after_tls;  /* both sides went on with plaintext SMTP after the STARTTLS 220
	                                   (e.g. a capture decrypted by the capture tool) */
	bool tls_client_to_plain;       /* the client sent TLS to a server that spoke plaintext SMTP */
	char tunnel[16];                /* "http-connect", "socks5", "socks4" when a prelude was seen */
	uint32_t resyncs;               /* EV_RESYNC emitted */
	uint32_t pending_overflows;     /* EV_PENDING_OVERFLOW emitted (the FIFO was reset) */
	uint32_t early_lines;           /* client lines before the greeting */
	uint32_t nocode_lines;          /* server lines without a reply code */
};

/* Messages kept in facts.msgs (the rest were counted in n_msgs only). */
static inline uint32_t smtp_msgs_kept(const struct smtp_facts *f)
{
	return f->n_msgs < f->msgs_cap ? f->n_msgs : f->msgs_cap;
}

/* Called with each message's body bytes after unstuffing (for --extract).
 * msg is the 0-based message index; n == 0 with done = true ends the message. */
typedef void (*smtp_body_fn)(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done);

struct smtp;

/* tl is owned by the caller and must outlive the dissector. */
struct smtp *smtp_new(struct timeline *tl);
void smtp_set_body_sink(struct smtp *s, smtp_body_fn fn, void *ctx);
void smtp_data(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m);
void smtp_gap(struct smtp *s, enum sl_dir dir, uint64_t len, const struct seg_meta *m);
/* The direction was closed (FIN or RST): flush a partial line. */
void smtp_end(struct smtp *s, enum sl_dir dir, const struct seg_meta *m);
const struct smtp_facts *smtp_facts(const struct smtp *s);
void smtp_free(struct smtp *s);

#endif
