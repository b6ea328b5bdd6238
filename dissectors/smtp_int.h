/*
 * smtp_int.h - the SMTP dissector's private state, shared by its modules:
 * smtp.c (the reading modes and their transition functions, the pairing
 * FIFO, gating, the client's commands, TLS switch), smtp_reply.c (replies
 * and what each answer changes),
 * smtp_line.c (line framing), smtp_cmd.c (command and EHLO parsing),
 * smtp_body.c (DATA/BDAT body streaming, header scan), smtp_auth.c (AUTH),
 * smtp_tunnel.c (HTTP CONNECT / SOCKS preludes).
 *
 * Nothing here is part of the dissector's face (smtp.h). Every buffer is a
 * fixed array sized by a named cap, except the deferral buffer (client bytes
 * held while the server's answer decides how to read them), which grows on
 * demand up to SMTP_DEFER_MAX and is allocated at most once per session.
 */
#ifndef SLEUTH_SMTP_INT_H
#define SLEUTH_SMTP_INT_H

#include "smtp.h"

#define SMTP_DEFER_MAX   65536  /* client bytes held while waiting for the answer to DATA/AUTH/STARTTLS */
#define SMTP_HDR_LINE_MAX 1024  /* one unfolded header kept while scanning a message head */
#define SMTP_TUNNEL_MAX  512    /* bytes of a SOCKS message kept while parsing it */
#define SMTP_SECRET_DUE_MAX 8    /* 334 prompts counted ahead of the client's answers */
#define SMTP_TUNNEL_LINES 64    /* HTTP CONNECT header lines accepted before giving up */

/* One direction's line framer. A line longer than SMTP_LINE_CAP keeps its
 * head in buf and counts the rest in total; memory never grows. */
struct smtp_line {
	uint8_t buf[SMTP_LINE_CAP];
	size_t kept;            /* bytes stored in buf */
	uint64_t total;         /* bytes of the current line so far, without the EOL */
	bool cr;                /* a CR was seen and not yet stored (it may start CRLF) */
	bool skip;              /* resynchronising after a gap: drop up to the next LF */
};

/* Result of feeding bytes to a framer. */
struct line_ev {
	bool complete;          /* a line ended (buf/kept/total describe it) */
	bool bare_lf;           /* it ended with LF alone */
	bool resynced;          /* a skip-to-LF after a gap just ended */
};

size_t sline_feed(struct smtp_line *l, const uint8_t *b, size_t n, struct line_ev *ev);
void sline_reset(struct smtp_line *l);
/* After a gap: the partial line is dropped and the framer skips to the next LF. */
void sline_gap(struct smtp_line *l);

/* How the client's bytes are read now. X-macro: mode, name (for traces).
 * Every change goes through smtp_client_enter(). */
#define SMTP_CMODES(X) \
	X(C_CMD, "cmd")                 /* command lines */ \
	X(C_GATED, "gated")             /* held: the server's answer decides (DATA, AUTH, STARTTLS) */ \
	X(C_AUTH, "auth")               /* the next line is AUTH data (after 334) */ \
	X(C_BODY, "body")               /* DATA body until CRLF.CRLF */ \
	X(C_BDAT, "bdat")               /* a BDAT chunk: bdat_left bytes */ \
	X(C_TLS, "tls")                 /* TLS records */ \
	X(C_HTTP_TUNNEL, "http-tunnel") /* HTTP CONNECT request header lines */ \
	X(C_SOCKS, "socks")             /* SOCKS4/5 client messages */ \
	X(C_DEAD, "dead")               /* not SMTP: ignored */

/* How the server's bytes are read now; changes go through smtp_server_enter(). */
#define SMTP_SMODES(X) \
	X(S_LINES, "lines")             /* reply lines */ \
	X(S_TLS, "tls")                 /* TLS records */ \
	X(S_HTTP_TUNNEL, "http-tunnel") /* the proxy's HTTP answer */ \
	X(S_SOCKS, "socks")             /* SOCKS replies */ \
	X(S_DEAD, "dead")               /* not SMTP: ignored */

#define X(e, s) e,
enum cmode { SMTP_CMODES(X) };
enum smode { SMTP_SMODES(X) };
#undef X

/* Body scanner states: where we are relative to a line start. */
enum body_st {
	B_BOL,          /* at the start of a line */
	B_DOT,          /* a '.' at the start of a line */
	B_DOTCR,        /* ".\r" at the start of a line */
	B_MID,          /* inside a line */
	B_CR            /* a CR inside a line */
};

/* Header scanner states. */
enum hdr_st { H_LINE, H_DONE };

struct pend {
	uint8_t cmd;            /* enum smtp_cmd */
	bool gate;              /* the client is held until this is answered */
	bool last;              /* BDAT ... LAST */
	bool bad_args;          /* arguments no server can take (BDAT without a size) */
	int32_t msg;            /* the message it belongs to (cur_msg when queued) */
	uint64_t frame;
};

struct smtp {
	struct timeline *tl;
	struct smtp_facts f;
	smtp_body_fn body_fn;
	void *body_ctx;
	smtp_tls_fn tls_tap;            /* the TLS bytes, for decryption; NULL: none */
	void *tls_tap_ctx;

	struct smtp_line line[2];       /* per enum sl_dir */
	enum cmode cm;                  /* written only by smtp_client_enter() */
	enum smode sm;                  /* written only by smtp_server_enter() */
	bool trace;                     /* record mode changes as EV_STATE events */
	bool c_seen, s_seen;            /* any byte from that side yet */
	bool c_first_line_done;         /* the client's first line was classified */
	bool c_ended, s_ended;
	struct seg_meta c_end_meta;
	bool c_end_deferred;            /* client FIN came while gated */

	/* pairing FIFO (ring) */
	struct pend q[SMTP_PENDING_MAX];
	uint32_t q_head, q_len;

	/* deferral */
	uint8_t *defer;
	size_t defer_len, defer_cap;
	struct seg_meta defer_meta;
	bool defer_overflowed;

	/* reply in progress (server) */
	bool r_open;                    /* a multi-line reply has started */
	struct smtp_reply r;
	bool r_nocode_noted;
	size_t r_first_len;             /* length of the first line's text in r.text */

	/* dialog state used for the phase */
	bool greeted;
	bool helo_ok;
	bool in_txn;                    /* MAIL sent, transaction not ended */
	bool rcpt_sent;
	uint32_t rcpt_replies;          /* replies to RCPT in this transaction */
	int32_t cur_msg;                /* index into f.msgs, -1 = none (or beyond the array) */
	bool cur_msg_counted;           /* a message exists for this transaction */
	bool auth_active;
	uint32_t auth_step;             /* AUTH data lines sent so far */
	bool auth_ir;                   /* initial response was on the AUTH line */
	char auth_user_cand[128];       /* LOGIN's user name until a 334 asks for the next line:
	                                   a line the final reply answers is the password */
	bool auth_unsure;               /* bytes were lost since the AUTH command (or it was not
	                                   seen): which line answered which prompt is not proven */
	bool auth_pw_prompt;            /* the newest 334's decoded text asks for a password */
	bool after_auth;                /* AUTH just ended without success: base64-looking
	                                   unknown lines are masked (pipelined credentials) */
	/* A capture that starts mid-session (smtp_set_midstream): lines are read
	 * only from certain boundaries on. The server's, from its first line
	 * with a reply code; the client's, from the first known command at the
	 * start of a line after a complete server reply (so a body the capture
	 * started inside is never read as commands). The greeting is expected
	 * only if the first reply is one (220, or 421/554). */
	bool sync_c, sync_s, sync_reply_seen, midstream;
	uint8_t secret_due;             /* 334s not yet answered by a client line: each such
	                                   line is AUTH data, whatever came before (a capture
	                                   may start inside AUTH, after the AUTH command);
	                                   a command with arguments, QUIT, RSET or NOOP ends it */
	bool bdat_active;               /* a BDAT transfer is under way or its reply due */
	uint64_t bdat_left;
	bool bdat_last;

	/* body scanner */
	enum body_st bst;
	uint64_t body_line_len;
	bool body_long_noted;
	enum hdr_st hst;
	uint64_t hdr_scanned;
	uint8_t hdr[SMTP_HDR_LINE_MAX];
	size_t hdr_len;
	bool hdr_bol;                   /* header scanner at a line start */
	bool hdr_prev_cr;

	/* TLS */
	struct tls *tls;
	bool tls_checked[2];            /* first bytes after the switch were looked at */
	bool tls_plain_smtp[2];         /* that side went on with SMTP lines */
	bool tls_inner[2];              /* that side's TLS is decrypted (smtp_tls_plain): its wire
	                                   bytes go to the TLS reader and the tap only, and its
	                                   reading mode reads the plaintext */

	/* tunnel prelude */
	uint8_t tun_buf[2][SMTP_TUNNEL_MAX];
	size_t tun_len[2];
	uint8_t tun_stage[2];
	uint32_t tun_lines[2];
	bool tun_socks4;
	uint8_t tun_method;
};

/* smtp.c */
struct event *smtp_ev(struct smtp *s, enum ev_kind k, enum sl_dir d, const struct seg_meta *m,
		      const void *text, size_t len);
void smtp_note(struct smtp *s, enum sl_dir d, const struct seg_meta *m, const char *text);
/* The transition functions of the two reading modes (m may be NULL). */
void smtp_client_enter(struct smtp *s, enum cmode to, const struct seg_meta *m);
void smtp_server_enter(struct smtp *s, enum smode to, const struct seg_meta *m);
void smtp_client_feed(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);
void smtp_server_feed(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);
struct smtp_message *smtp_cur_msg(struct smtp *s);
struct smtp_message *smtp_msg_at(struct smtp *s, int32_t i);
/* The pairing FIFO. */
bool smtp_q_pop(struct smtp *s, struct pend *out);
const struct pend *smtp_q_peek(const struct smtp *s);
/* Reads the held client bytes in the mode just decided. */
void smtp_replay(struct smtp *s);
void smtp_body_start(struct smtp *s, const struct seg_meta *m, const char *why);
void smtp_ensure_tls(struct smtp *s);

/* smtp_reply.c */
void smtp_server_line(struct smtp *s, const struct line_ev *ev, const struct seg_meta *m);
void smtp_reply_done(struct smtp *s, const struct seg_meta *m);

static inline bool smtp_is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static inline bool smtp_is_alpha(uint8_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
/* A TLS record's first byte: change_cipher_spec, alert, handshake or application data. */
static inline bool smtp_looks_tls(uint8_t c) { return c >= 0x14 && c <= 0x17; }
/* A whole TLS record header at b (type, version 3.x with x <= 4): how a
 * capture that starts inside TLS (after STARTTLS, or on implicit TLS) shows. */
static inline bool smtp_tls_record_at(const uint8_t *b, size_t n)
{
	return n >= 5 && smtp_looks_tls(b[0]) && b[1] == 3 && b[2] <= 4;
}

/* smtp_cmd.c */
enum smtp_cmd smtp_cmd_parse(const uint8_t *line, size_t n, size_t *argoff);
void smtp_cmd_mail(struct smtp *s, const uint8_t *arg, size_t n);
void smtp_cmd_rcpt(struct smtp *s, const uint8_t *arg, size_t n);
/* BDAT arguments; false when malformed. */
bool smtp_cmd_bdat(const uint8_t *arg, size_t n, uint64_t *size, bool *last);
void smtp_ehlo_line(struct smtp *s, const uint8_t *kw, size_t n);
bool smtp_ascii_ieq(const uint8_t *a, size_t n, const char *lit);

/* smtp_body.c */
void smtp_body_begin(struct smtp *s, bool bdat, const struct seg_meta *m);
/* Scans DATA body bytes; returns bytes consumed (stops right after the final dot line). */
size_t smtp_body_data(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m, bool *ended);
extern int smtp_body_simd_max;   /* smtp_body.c; lowered by the tests only */
void smtp_body_bdat(struct smtp *s, const uint8_t *b, size_t n);
void smtp_body_finish(struct smtp *s, bool complete, const struct seg_meta *m);
void smtp_body_gap(struct smtp *s, uint64_t len);

/* smtp_auth.c */
/* The AUTH command line: records the mechanism, decodes an initial response,
 * and writes the masked event text into out. */
void smtp_auth_cmd(struct smtp *s, const uint8_t *arg, size_t n, char *out, size_t outlen);
/* One AUTH continuation line; returns true when the client aborted ('*'). */
bool smtp_auth_data(struct smtp *s, const uint8_t *line, size_t n);
/* A client line that is not an AUTH command but holds one after other bytes
 * ("<junk>AUTH PLAIN <initial response>": its start garbled or lost, even
 * with no space before AUTH): the
 * length up to and with the mechanism's name, so what follows (maybe a
 * credential) is never shown; n when the line holds none. */
size_t smtp_auth_inside(const uint8_t *line, size_t n);
/* Capitals, then capitals and digits ("XYZZY0"): a command's shape, not
 * that of base64 credentials (which almost always hold small letters). */
bool smtp_upper_word(const uint8_t *b, size_t n);
/* A line that could be base64 credentials (no spaces, base64 alphabet). */
bool smtp_looks_base64(const uint8_t *b, size_t n);
/* Capitals only: a word no base64 credential is likely to be. */
bool smtp_all_upper(const uint8_t *b, size_t n);
void smtp_auth_reply(struct smtp *s, const struct smtp_reply *r, const struct seg_meta *m);
void smtp_auth_abort(struct smtp *s, const struct seg_meta *m, const char *why);
/* AUTH data whose AUTH command the capture did not show (it started inside
 * AUTH): an attempt with an unknown mechanism, its outcome from the reply. */
void smtp_auth_blind(struct smtp *s);
/* Bytes lost in either direction: inside AUTH, no line is taken for the
 * user name any more (a password line could stand in its place). */
void smtp_auth_gap(struct smtp *s);
/* Replaces, in place, each word of text that can only be a base64
 * credential with "[hidden]" (a server that echoes what it did not
 * understand, "500 5.5.1 Command unrecognized: \"<base64>\"", or a
 * client's line read as the server's); returns the new length. */
size_t smtp_hide_credential_words(char *text);
/* Wipes a user name not yet confirmed (the session's memory is going). */
void smtp_auth_forget(struct smtp *s);

/* smtp_tunnel.c */
/* Looks at the client's first byte; true when a SOCKS prelude starts. */
bool smtp_tunnel_detect(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);
/* The client's first line; true when it is an HTTP CONNECT request. */
bool smtp_tunnel_http_line(struct smtp *s, const uint8_t *line, size_t n, const struct seg_meta *m);
size_t smtp_tunnel_client(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);
size_t smtp_tunnel_server(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);

#endif
