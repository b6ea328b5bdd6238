/*
 * diag_reply_int.h - the shape of the reply-reading knowledge: keyword
 * families and rule rows (diag_reply_rules.c holds them, diag_reply.c reads
 * them). Private to the diagnosis.
 */
#ifndef SLEUTH_DIAG_REPLY_INT_H
#define SLEUTH_DIAG_REPLY_INT_H

#include "diag_reply.h"

/* Keyword families. X-macro: id, name shown in docs/RULES.md. */
#define KW_FAMILIES(X) \
	X(KW_TIMEOUT, "TIMEOUT") \
	X(KW_ERRORS, "ERRORS") \
	X(KW_PROTOCOL, "PROTOCOL") \
	X(KW_NO_SERVICE, "NO-SERVICE") \
	X(KW_RATE, "RATE") \
	X(KW_RETRY, "RETRY") \
	X(KW_LOST_CLIENT, "LOST-CLIENT") \
	X(KW_IP, "IP") \
	X(KW_IP_GENERIC, "IP-GENERIC") \
	X(KW_HELO, "HELO") \
	X(KW_ADDR_NAMED, "ADDRESS-NAMED") \
	X(KW_RELAY, "RELAY") \
	X(KW_AUTH_REQ, "AUTH-REQUIRED") \
	X(KW_AUTH, "AUTH") \
	X(KW_TLS, "TLS") \
	X(KW_SIZE, "SIZE") \
	X(KW_MAILBOX_FULL, "MAILBOX-FULL") \
	X(KW_SENDER, "SENDER") \
	X(KW_RECIPIENT, "RECIPIENT") \
	X(KW_SPAM, "SPAM") \
	X(KW_VIRUS, "VIRUS") \
	X(KW_SENDER_AUTH, "SENDER-AUTH") \
	X(KW_CONTENT, "CONTENT") \
	X(KW_TOO_MANY, "TOO-MANY") \
	X(KW_NO_SMTP, "NO-SMTP") \
	X(KW_DEMAND, "DEMAND") \
	X(KW_AUTH_ANY, "AUTH-ANY") \
	X(KW_RECIPIENTS, "RECIPIENTS") \
	X(KW_IP_STRONG, "CLIENT-NAMED") \
	X(KW_SENDER_STRONG, "SENDER-NAMED") \
	X(KW_NO_RCPT, "NO-RECIPIENT") \
	X(KW_SCREEN, "SCREEN") \
	X(KW_NULLSERVER, "NULLSERVER") \
	X(KW_LOOKUP, "LOOKUP-FAILURE") \
	X(KW_HOST_WORD, "HOST-WORD") \
	X(KW_RELAY_WORD, "RELAY-WORD") \
	/* computed from the text's shape, not from words: */ \
	X(KW_IPLIT, "IP-LITERAL") \
	X(KW_ADDR_LEAD, "ADDRESS-FIRST")

#define X(e, s) e,
enum kw_family { KW_FAMILIES(X) KW__COUNT };
#undef X

#define KW(f) (1ull << (f))

struct kw_table {
	const char *const *words;   /* lower case; NULL-terminated */
	const char *why;            /* where the words come from */
};

extern const struct kw_table KW_TABLE[KW__COUNT];

/* Context a row can require beyond the reply itself. */
#define COND_STARTTLS_UNUSED  (1u << 0)  /* STARTTLS advertised and never sent */
#define COND_REPEATED_ERRORS  (1u << 1)  /* 3+ errors in a row or 3+ unknown commands */
#define COND_CLIENT_QUIET     (1u << 2)  /* unprompted, after the client was silent REPLY_QUIET_NS */
#define COND_BAD_ARGS         (1u << 3)  /* answers a command whose arguments cannot be right */
#define COND_EARLY_TALKER     (1u << 4)  /* the client sent before the greeting */

/* Idle timeouts are minutes by default and seconds when an administrator
 * lowers them (Postfix's smtpd_timeout is 10 s under stress; the lab set
 * tests/data/postfix uses 5 s); a rate limiter answers a command or the
 * connection, it does not speak up after a silence. */
#define REPLY_QUIET_NS (5 * NS_PER_SEC)

/* Commands answered, as a bit mask of enum smtp_cmd. */
#define ON(c) (1u << (c))
#define ON_GREETING ON(CMD_CONNECT)
#define ON_HELO (ON(CMD_HELO) | ON(CMD_EHLO) | ON(CMD_LHLO))
#define ON_AUTH (ON(CMD_AUTH) | ON(CMD_AUTH_DATA))
#define ON_MAIL ON(CMD_MAIL)
#define ON_RCPT ON(CMD_RCPT)
#define ON_DATA ON(CMD_DATA)
#define ON_BODY (ON(CMD_BODY_END) | ON(CMD_BDAT))
#define ON_MESSAGE (ON_DATA | ON_BODY)

struct reply_rule {
	const char *id;
	uint32_t on;            /* commands answered (ON_*); 0 = any */
	uint32_t not_on;        /* commands it must not answer */
	uint8_t klass;          /* 2, 4 or 5; 0 = 4 or 5 */
	uint16_t codes[8];      /* any of these basic codes; none listed = any */
	const char *enh[8];     /* enhanced patterns, any of: "5.3.4" exact class,
	                           "x.7.1" any class, "x.3.*" a subject; none = any */
	uint64_t any;           /* KW() families, one must match; 0 = no word needed */
	uint64_t also;          /* KW() families, one must match too */
	uint64_t unless;        /* KW() families, none may match */
	const char *not_enh[3]; /* enhanced patterns it must not match */
	uint32_t cond;          /* COND_* */
	enum reply_class cls;
	enum cause cause;
	enum confidence conf;
	const char *what;
	const char *advice;
	const char *why;        /* where this reading comes from (server, RFC) */
};

extern const struct reply_rule REPLY_RULES[];
extern const size_t REPLY_RULES_N;

#endif
