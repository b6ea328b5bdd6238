/*
 * facts.h - what the dissectors learnt of one session, as the diagnosis and
 * the reporters read it: the SMTP dialog's summary (smtp_facts) and the TLS
 * record layer's (tls_facts). The dissectors fill these; nobody else writes
 * them. Kept here, below every stage, so a reader of facts needs no dissector.
 */
#ifndef SLEUTH_FACTS_H
#define SLEUTH_FACTS_H

#include "common.h"
#include "smtp_words.h"

struct tls_facts {
	bool client_hello, server_hello;
	uint64_t client_hello_frame, server_hello_frame;
	char sni[256];
	uint16_t offered_max;       /* highest version offered (supported_versions or legacy) */
	uint16_t version;           /* chosen by the server (0x0304 = TLS 1.3) */
	bool alert;                 /* an alert was seen in clear */
	uint8_t alert_level, alert_desc;
	uint8_t alert_dir;          /* enum sl_dir of the side that sent it */
	uint64_t alert_frame;
	uint64_t appdata_bytes[2];  /* per enum sl_dir */
	uint64_t appdata_records[2];
	uint64_t first_appdata_frame[2];
	bool handshake_done;        /* ChangeCipherSpec/appdata both ways, or TLS 1.3 appdata both ways */
	bool plaintext_after_tls;   /* a side sent non-TLS bytes where TLS was due */
	uint8_t plaintext_dir;
	uint64_t plaintext_frame;
	/* added */
	bool ccs[2];                /* ChangeCipherSpec seen, per enum sl_dir */
	uint64_t records[2];        /* records parsed, per enum sl_dir */
	bool bad_record[2];         /* a record header that is not TLS ended parsing of that side */
	uint16_t cipher;            /* chosen by the server */
};

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
	uint32_t midstream_skipped;     /* lines skipped before a certain boundary (capture started mid-session) */
};

/* Messages kept in facts.msgs (the rest were counted in n_msgs only). */
static inline uint32_t smtp_msgs_kept(const struct smtp_facts *f)
{
	return f->n_msgs < f->msgs_cap ? f->n_msgs : f->msgs_cap;
}

#endif
