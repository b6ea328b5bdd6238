/*
 * smtp_words.h - the SMTP vocabulary every part of smtpsleuth speaks: command
 * verbs, dialog phases (the contract's `phase` names), EHLO keyword bits, the
 * caps on what is kept of a line or a reply, and a reply as the dissector
 * hands it on. The dissector, the diagnosis, the reporters and the server all
 * use these names, so there is one list of each.
 */
#ifndef SLEUTH_SMTP_WORDS_H
#define SLEUTH_SMTP_WORDS_H

#include <stddef.h>
#include <string.h>

#include "common.h"

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
	sl_time client_quiet;       /* how long the client had been silent when it came: since its
	                               last byte or the server's previous reply (0: unknown) */
	bool bad_args;              /* it answers a command whose arguments cannot be right
	                               (BDAT without a chunk size): a syntax refusal, whatever its words */
};

/* *d = *r, but the text only up to its end: a reply is copied into the
 * facts several times over (last reply, last error, the one per command)
 * and its 512-byte text is mostly empty. What follows the text's NUL is
 * never read: every reader takes it as a string. */
_Static_assert(offsetof(struct smtp_reply, lines) > offsetof(struct smtp_reply, text) &&
		       offsetof(struct smtp_reply, text) > offsetof(struct smtp_reply, enhanced),
	       "smtp_reply_copy copies the fields before the text, the text, then those after it");
static inline void smtp_reply_copy(struct smtp_reply *d, const struct smtp_reply *r)
{
	size_t head = offsetof(struct smtp_reply, text), tail = offsetof(struct smtp_reply, lines);
	size_t n = strnlen(r->text, sizeof(r->text) - 1);
	memcpy(d, r, head);
	memcpy(d->text, r->text, n);
	d->text[n] = '\0';
	memcpy((char *)d + tail, (const char *)r + tail, sizeof(*r) - tail);
}

enum smtp_auth_result { AUTH_NONE, AUTH_PENDING, AUTH_ACCEPTED, AUTH_REFUSED, AUTH_ABORTED };
enum smtp_starttls_state { STLS_NONE, STLS_REQUESTED, STLS_ACCEPTED, STLS_REFUSED };

/*
 * Reads an enhanced status code (RFC 3463: class 2, 4 or 5, then subject and
 * detail of one to three digits) at t. With word_end, the code must end the
 * text or be followed by a space, and a fourth digit refuses it (the
 * dissector's reading of a reply line); without, the digits after the third
 * are left (the diagnosis's reading of free text). Writes it NUL-terminated
 * into out and returns its length, or 0 when t does not start with one.
 */
size_t smtp_parse_enhanced(const uint8_t *t, size_t n, bool word_end, char *out, size_t outlen);

#endif
