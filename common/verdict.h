/*
 * verdict.h - the answer for one session: why the connection ended. Names are
 * the contract in DESIGN.md; the string tables live in verdict.c.
 */
#ifndef SLEUTH_VERDICT_H
#define SLEUTH_VERDICT_H

#include "common.h"
#include "smtp_words.h"

#define CAUSES(X) \
	X(CAUSE_COMPLETED, "completed") \
	X(CAUSE_SIZE_LIMIT, "size_limit") \
	X(CAUSE_AUTH_FAILED, "auth_failed") \
	X(CAUSE_AUTH_REQUIRED, "auth_required") \
	X(CAUSE_IP_FILTERED, "ip_filtered") \
	X(CAUSE_RELAY_DENIED, "relay_denied") \
	X(CAUSE_IDLE_TIMEOUT, "idle_timeout") \
	X(CAUSE_TOO_MANY_ERRORS, "too_many_errors") \
	X(CAUSE_RATE_LIMITED, "rate_limited") \
	X(CAUSE_SERVER_UNAVAILABLE, "server_unavailable") \
	X(CAUSE_TLS_REQUIRED, "tls_required") \
	X(CAUSE_TLS_FAILED, "tls_failed") \
	X(CAUSE_ENCRYPTED, "encrypted") \
	X(CAUSE_CLIENT_ABORT, "client_abort") \
	X(CAUSE_CONNECTION_REFUSED, "connection_refused") \
	X(CAUSE_UNANSWERED, "unanswered") \
	X(CAUSE_NETWORK_FAILURE, "network_failure") \
	X(CAUSE_MIDDLEBOX_RESET, "middlebox_reset") \
	X(CAUSE_CAPTURE_INCOMPLETE, "capture_incomplete") \
	X(CAUSE_SENDER_REJECTED, "sender_rejected") \
	X(CAUSE_RECIPIENT_REJECTED, "recipient_rejected") \
	X(CAUSE_CONTENT_REJECTED, "content_rejected") \
	X(CAUSE_UNKNOWN, "unknown")

#define X(e, s) e,
enum cause { CAUSES(X) CAUSE__COUNT };
#undef X

enum closed_by { BY_CLIENT, BY_SERVER, BY_MIDDLEBOX, BY_NOBODY };
enum close_kind { CLOSE_FIN, CLOSE_RST, CLOSE_NONE };
enum confidence { CONF_HIGH, CONF_MEDIUM, CONF_LOW };

const char *cause_name(enum cause c);
bool cause_parse(const char *s, enum cause *out);
const char *closed_by_name(enum closed_by b);
const char *close_kind_name(enum close_kind k);
const char *confidence_name(enum confidence c);
/* Same names as smtp_phase_name(), from the same X-macro (no link dependency
 * on the dissector). */
const char *verdict_phase_name(enum smtp_phase p);
/* Verb of a command as smtp_cmd_name() gives it ("(nothing)" for CMD_NONE). */
const char *verdict_cmd_name(enum smtp_cmd c);

#define VERDICT_MAX_EVIDENCE 16
#define EVIDENCE_TEXT_MAX    240

struct evidence {
	uint64_t frame;
	sl_time ts;
	char text[EVIDENCE_TEXT_MAX];
};

struct verdict {
	enum cause cause;
	enum closed_by closed_by;
	enum close_kind close;
	enum smtp_phase phase;      /* names per the contract (smtp_phase_name) */
	enum confidence confidence;
	bool has_reply;             /* the decisive reply below is set */
	uint16_t reply_code;
	char reply_enhanced[12];
	char reply_text[SMTP_TEXT_MAX];
	char explanation[768];
	char advice[384];
	char client_view[640];      /* what the sending client was shown, in plain words */
	struct evidence ev[VERDICT_MAX_EVIDENCE];
	uint32_t n_ev;
};

#endif
