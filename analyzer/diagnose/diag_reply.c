/*
 * diag_reply.c - reads one SMTP reply: which verdict cause, if any, it
 * states.
 *
 * Order of reading (first match wins), so that codes decide and words only
 * break ties:
 *   1. the command answered when it fixes the meaning (STARTTLS, AUTH, the
 *      greeting);
 *   2. the enhanced code (RFC 3463) when it is specific (4.4.2, 5.3.4, 5.7.8,
 *      x.3.x ...);
 *   3. the basic code (552, 535, 530, 421 ...);
 *   4. keyword families, for the codes servers reuse for many reasons
 *      (421 4.7.0, 550/554 5.7.1, 451/452).
 * Invariant: pure, no allocation; any byte string in r->text is safe.
 */
#include "diag_reply.h"

#include <ctype.h>
#include <string.h>

/* Keyword families (documented in docs/RULES.md). Lower case; matched
 * case-insensitively anywhere in the reply text. */
static const char *const KW_TIMEOUT[] = {
	"timeout", "timed out", "time out", "time-out", "idle too long", "too slow", NULL };
static const char *const KW_ERRORS[] = {
	"too many errors", "too many bad", "too many invalid", "too many unrecognized",
	"too many unrecognised", "too many unknown", "too many syntax", "error limit",
	"errors, closing", "bad commands", NULL };
static const char *const KW_PROTOCOL[] = {
	"synchronization", "synchronisation", "pipelining", "protocol error",
	"talking too soon", "before greeting", "pregreet", "early talker",
	"sent data before", "wait for", "non-smtp", "not smtp", "protocol violation", NULL };
static const char *const KW_NO_SERVICE[] = {
	"no smtp service", "not available", "unavailable", "shutting down", "shutdown",
	"maintenance", "closing transmission channel", "service not ready",
	"insufficient system storage", "local error", "local problem", "system resources",
	"try again tomorrow", "queue file write error", "server busy", "temporarily unavailable",
	"configuration error", "filter", NULL };
/* RATE is two lists: words that name a limit or greylisting, and the bare
 * "come back later" words that any temporary failure may end with. */
static const char *const KW_RATE_NAMED[] = {
	"greylist", "graylist", "grey-list", "gray-list", "greylisted", "rate limit",
	"ratelimit", "rate-limit", "rate of", "sending rate", "connection rate", "message rate",
	"too many connections", "too many concurrent", "too many sessions", "too many messages",
	"too many recipients", "too many mails", "throttl", "limit exceeded", "exceeded the",
	"slow down", "too fast", "too quickly", "at a rate", "concurrent connections",
	"maximum number of", "per-source limit", "too much mail", NULL };
/* The server noticing that the client already went away (Exim's "421 ...
 * lost input connection"): a consequence of the client's close, not a cause. */
static const char *const KW_LOST_CLIENT[] = {
	"lost input connection", "lost connection", "connection lost", "client disconnected", NULL };
static const char *const KW_RETRY[] = {
	"try again later", "try later", "please retry", "temporarily deferred",
	"temporarily rejected", "deferred", NULL };
static const char *const KW_IP[] = {
	"client host", "blocked", "blocklist", "block list", "blacklist", "black list",
	"denylist", "dnsbl", "rbl", "spamhaus", "spamcop", "barracuda", "sorbs", "listed",
	"your ip", "ip address", "ip-address", "reverse dns", "reverse lookup", "rdns", "ptr record",
	"not allowed to connect", "connection refused", "access denied", "banned",
	"reputation", "not welcome", "no access", "go away", "whitelist", "allowlist", NULL };
static const char *const KW_RELAY[] = {
	"relay", "relaying", "not permitted", "not logged in", "not allowed to send",
	"unable to deliver to", "not local", "we do not accept mail for", "no such domain here",
	"5.7.54", "5.7.64", NULL };
static const char *const KW_AUTH_REQ[] = {
	"authentication required", "authentication is required", "auth required",
	"must authenticate", "not authenticated", "authenticate first", "authentication needed",
	"login first", "5.7.57", "smtp auth", NULL };
static const char *const KW_TLS[] = {
	"starttls", "start tls", "tls required", "tls is required", "encryption required",
	"must use tls", "requires tls", "ssl required", "secure connection", "5.7.10", NULL };
static const char *const KW_SIZE[] = {
	"size", "too large", "too big", "exceeds", "exceeded maximum", "message length", NULL };
static const char *const KW_MAILBOX_FULL[] = {
	"mailbox full", "over quota", "quota exceeded", "mailbox is full", "insufficient storage for", NULL };
static const char *const KW_CONTENT[] = {
	"virus", "malware", "spam", "content", "attachment", "phish", "message rejected",
	"policy", "dmarc", "dkim", "spf", NULL };

bool diag_ci_contains(const char *s, const char *needle)
{
	size_t nl = strlen(needle);
	if (!nl)
		return true;
	for (; *s; s++) {
		size_t i = 0;
		while (i < nl && s[i] && tolower((unsigned char)s[i]) == needle[i])
			i++;
		if (i == nl)
			return true;
	}
	return false;
}

bool diag_kw_any(const char *text, const char *const *family)
{
	for (; *family; family++)
		if (diag_ci_contains(text, *family))
			return true;
	return false;
}

/* Address words, except where Postfix names the sender or recipient
 * address as what it refused ("Sender address rejected: Access denied"). */
static bool rate_words(const char *t)
{
	return diag_kw_any(t, KW_RATE_NAMED) || diag_kw_any(t, KW_RETRY);
}

static bool ip_words(const char *t)
{
	if (!diag_kw_any(t, KW_IP))
		return false;
	return diag_ci_contains(t, "client host") || !diag_ci_contains(t, "address rejected");
}

static bool enh_is(const struct smtp_reply *r, const char *e)
{
	/* Compare the subject/detail part only, so 4.7.1 and 5.7.1 both match "x.7.1". */
	return r->enhanced[0] && strcmp(r->enhanced + 1, e + 1) == 0;
}

static bool enh_subject(const struct smtp_reply *r, char subject)
{
	return r->enhanced[0] && r->enhanced[1] == '.' && r->enhanced[2] == subject && r->enhanced[3] == '.';
}

static void set(struct reply_reading *o, enum cause c, enum confidence conf, const char *what,
		const char *advice)
{
	o->cls = RC_CAUSE;
	o->cause = c;
	o->conf = conf;
	o->what = what;
	o->advice = advice;
}

#define ADV_IP "Server side: check the client address against the server's access lists and the DNS blocklists it queries; client side: send from an address with a matching reverse DNS and a clean reputation, or through the provider's relay."
#define ADV_RATE "Client side: retry later and send fewer connections, messages or recipients at once (greylisting accepts the same message on a retry); server side: raise the limit if this sender is legitimate."
#define ADV_UNAVAIL "Server side: the server reported a local problem (shutdown, storage, filter or configuration); check its logs and health. The client should retry later."
#define ADV_SIZE "Client side: send a smaller message (compress or link large attachments); server side: raise the message size limit if such messages must pass."
#define ADV_AUTH "Client side: check the user name, password and mechanism configured in the mail client; server side: check the account and the authentication back end."
#define ADV_AUTH_REQ "Client side: enable SMTP authentication (and use the submission port 587) before sending; server side: allow this client without authentication only if it is a trusted network."
#define ADV_TLS_REQ "Client side: enable STARTTLS (or implicit TLS) before authenticating or sending."
#define ADV_TLS_FAIL "Check TLS on both sides: certificate, protocol versions and cipher suites; the server side may have TLS misconfigured or disabled."
#define ADV_RELAY "Client side: authenticate before sending to outside domains, or send to the recipient's own MX; server side: add the client to the networks allowed to relay, or the domain to the relay domains, if it should be."
#define ADV_TIMEOUT "Client side: the client left the session idle; send QUIT when done, or keep commands flowing. Server side: raise the idle timeout if slow clients are legitimate."
#define ADV_ERRORS "Client side: fix the client's SMTP dialog (wait for the greeting and for replies unless PIPELINING is offered, send valid commands); server side: the error limit can be raised."
#define ADV_CONTENT "The message itself was refused; read the reply text, fix the content or the sender's authentication (SPF, DKIM, DMARC), and resend."
#define ADV_ADDR "Correct the sender or recipient address named in the reply (it does not exist or is not accepted on this server)."

void diag_classify_reply(const struct smtp_reply *r, const struct reply_ctx *c, struct reply_reading *o)
{
	memset(o, 0, sizeof(*o));
	o->cause = CAUSE_UNKNOWN;
	o->conf = CONF_LOW;
	/* 0. A 221 (closing) that answers a command other than QUIT: the
	 * server ended the session on that command. Postfix answers commands
	 * it never takes from a mail client (an HTTP "GET", "POST",
	 * "CONNECT": smtpd_forbidden_commands) with 221 2.7.0 and hangs up. */
	if (r->code == 221 && r->answers != CMD_QUIT && r->answers != CMD_NONE) {
		if (r->answers == CMD_UNKNOWN || enh_subject(r, '7') || diag_kw_any(r->text, KW_PROTOCOL))
			set(o, CAUSE_TOO_MANY_ERRORS, CONF_HIGH,
			    "SMTP protocol violation (a command the server does not take from mail clients, e.g. HTTP)",
			    ADV_ERRORS);
		else
			set(o, CAUSE_UNKNOWN, CONF_MEDIUM, "the server said goodbye (221) to a command other than QUIT",
			    "Server side: read the server's log for this session; client side: look at the command it answered.");
		return;
	}
	unsigned klass = r->code ? r->code / 100 : (r->enhanced[0] ? (unsigned)(r->enhanced[0] - '0') : 0);
	if (klass != 4 && klass != 5)
		return;
	const char *t = r->text;
	uint16_t code = r->code;
	enum smtp_cmd a = r->answers;
	bool temp = klass == 4;

	/* 1. Commands that fix the meaning. */
	if (a == CMD_STARTTLS) {
		set(o, CAUSE_TLS_FAILED, CONF_HIGH, "STARTTLS refused", ADV_TLS_FAIL);
		return;
	}
	if (diag_kw_any(t, KW_LOST_CLIENT)) {
		o->cls = RC_NONE;
		return;
	}
	/* A timeout is a timeout whatever was pending (421 4.4.2, 451 4.7.0 "Timeout waiting"). */
	if (enh_is(r, "4.4.2") || diag_kw_any(t, KW_TIMEOUT)) {
		set(o, CAUSE_IDLE_TIMEOUT, CONF_HIGH, "idle timeout", ADV_TIMEOUT);
		return;
	}
	if (diag_kw_any(t, KW_ERRORS)) {
		set(o, CAUSE_TOO_MANY_ERRORS, CONF_HIGH, "too many errors", ADV_ERRORS);
		return;
	}
	if ((code == 554 || code == 550 || code == 421 || enh_is(r, "5.5.0") || enh_is(r, "5.5.1")) &&
	    diag_kw_any(t, KW_PROTOCOL)) {
		set(o, CAUSE_TOO_MANY_ERRORS, CONF_HIGH, "SMTP protocol violation (early talker or pipelining)", ADV_ERRORS);
		return;
	}
	if (a == CMD_CONNECT) {
		if (temp && rate_words(t) && !diag_ci_contains(t, "no smtp service")) {
			set(o, CAUSE_RATE_LIMITED, CONF_HIGH, "connection limited at the greeting", ADV_RATE);
			return;
		}
		/* A permanent refusal at the greeting is about this client unless it
		 * says the host has no SMTP service at all (RFC 5321 3.1): Exim's
		 * "554 SMTP service not available" is its host/ACL reject. */
		if (enh_subject(r, '3') || diag_ci_contains(t, "no smtp service") ||
		    (temp && !enh_subject(r, '7') && !ip_words(t) && diag_kw_any(t, KW_NO_SERVICE) &&
		     !rate_words(t))) {
			set(o, CAUSE_SERVER_UNAVAILABLE, CONF_HIGH, "no service at the greeting", ADV_UNAVAIL);
			return;
		}
		if (temp) {
			if (enh_subject(r, '7') || rate_words(t))
				set(o, CAUSE_RATE_LIMITED, CONF_HIGH, "connection limited at the greeting", ADV_RATE);
			else
				set(o, CAUSE_SERVER_UNAVAILABLE, CONF_MEDIUM, "service not available at the greeting", ADV_UNAVAIL);
			return;
		}
		set(o, CAUSE_IP_FILTERED, CONF_HIGH, "client refused at the greeting", ADV_IP);
		return;
	}
	if (a == CMD_AUTH || a == CMD_AUTH_DATA) {
		if (code == 530 && diag_kw_any(t, KW_TLS)) {
			set(o, CAUSE_TLS_REQUIRED, CONF_HIGH, "TLS required before AUTH", ADV_TLS_REQ);
			return;
		}
		if (code == 503)
			set(o, CAUSE_AUTH_FAILED, CONF_MEDIUM, "authentication refused (AUTH not offered)",
			    "Client side: authenticate only where the server advertises AUTH (often only on port 587 and after STARTTLS); server side: enable AUTH on this listener if clients must use it.");
		else if (code == 421 && rate_words(t))
			set(o, CAUSE_RATE_LIMITED, CONF_HIGH, "authentication attempts limited", ADV_RATE);
		else if (code == 500 || code == 501 || code == 502 || code == 504)
			set(o, CAUSE_AUTH_FAILED, CONF_MEDIUM, "authentication mechanism or exchange refused", ADV_AUTH);
		else
			set(o, CAUSE_AUTH_FAILED, CONF_HIGH, "credentials refused", ADV_AUTH);
		return;
	}

	/* 2-3. Specific enhanced and basic codes. */
	if (code == 535 || enh_is(r, "5.7.8") || code == 534 || code == 538 || enh_is(r, "5.7.9")) {
		set(o, CAUSE_AUTH_FAILED, CONF_HIGH, "credentials refused", ADV_AUTH);
		return;
	}
	if (enh_is(r, "5.3.4") || enh_is(r, "5.2.3") ||
	    (code == 552 && !enh_is(r, "5.2.2") && !diag_kw_any(t, KW_MAILBOX_FULL) &&
	     !diag_ci_contains(t, "recipients")) ||
	    ((a == CMD_MAIL || a == CMD_BODY_END || a == CMD_BDAT || a == CMD_DATA) &&
	     diag_kw_any(t, KW_SIZE) && !diag_kw_any(t, KW_MAILBOX_FULL) && !enh_subject(r, '7'))) {
		set(o, CAUSE_SIZE_LIMIT, CONF_HIGH, "message too large", ADV_SIZE);
		return;
	}
	if (diag_kw_any(t, KW_TLS) &&
	    (code == 530 || enh_subject(r, '7') || diag_ci_contains(t, "required") || diag_ci_contains(t, "must"))) {
		set(o, CAUSE_TLS_REQUIRED, CONF_HIGH, "STARTTLS required", ADV_TLS_REQ);
		return;
	}
	/* A RCPT refused with relay words is relay denied even when the text
	 * adds that authenticating would help (Exim: "550 relay not permitted,
	 * authentication required"); a 530 stays an authentication demand. */
	if (a == CMD_RCPT && code != 530 && diag_kw_any(t, KW_RELAY)) {
		set(o, CAUSE_RELAY_DENIED, CONF_HIGH, "relay denied", ADV_RELAY);
		return;
	}
	if (code == 530 || diag_kw_any(t, KW_AUTH_REQ)) {
		if (code == 530 && (c->ext & SMTP_EXT_STARTTLS) && c->starttls == STLS_NONE &&
		    !diag_ci_contains(t, "auth"))
			set(o, CAUSE_TLS_REQUIRED, CONF_MEDIUM, "STARTTLS offered and required", ADV_TLS_REQ);
		else
			set(o, CAUSE_AUTH_REQUIRED, code == 530 || enh_is(r, "5.7.0") || diag_kw_any(t, KW_AUTH_REQ) ? CONF_HIGH : CONF_MEDIUM,
			    "authentication required", ADV_AUTH_REQ);
		return;
	}
	if (enh_is(r, "5.2.2") || diag_kw_any(t, KW_MAILBOX_FULL)) {
		set(o, CAUSE_UNKNOWN, CONF_MEDIUM, "the recipient's mailbox is full",
		    "The recipient must free space in the mailbox (or the server side raise its quota); the sender can only retry later.");
		return;
	}
	/* Relay words first at RCPT (a 5.7.1 there is most often relay). */
	if (a == CMD_RCPT && diag_kw_any(t, KW_RELAY)) {
		set(o, CAUSE_RELAY_DENIED, CONF_HIGH, "relay denied", ADV_RELAY);
		return;
	}
	if (temp && enh_subject(r, '5') && !enh_is(r, "4.5.3") && !rate_words(t)) {
		o->cls = RC_SYNTAX;     /* 4.5.x: a bad command, said temporarily */
		o->cause = CAUSE_TOO_MANY_ERRORS;
		o->conf = CONF_MEDIUM;
		o->what = "syntax or sequence error";
		o->advice = ADV_ERRORS;
		return;
	}
	if (temp) {
		/* "Try again later" alone ends many temporary failures; with
		 * NO-SERVICE words and no word naming a limit or greylisting it
		 * is the server's own trouble (Postfix with a milter down and
		 * milter_default_action = tempfail: "451 4.7.1 Service
		 * unavailable - try again later"). */
		if (diag_kw_any(t, KW_RETRY) && diag_kw_any(t, KW_NO_SERVICE) && !diag_kw_any(t, KW_RATE_NAMED) &&
		    !ip_words(t)) {
			set(o, CAUSE_SERVER_UNAVAILABLE, CONF_MEDIUM, "server unavailable", ADV_UNAVAIL);
			return;
		}
		/* 4xx: rate words before address words (Gmail's 4.7.0 "unusual rate ... from your IP"). */
		if (rate_words(t) || enh_is(r, "4.5.3") || enh_is(r, "4.7.28")) {
			set(o, CAUSE_RATE_LIMITED, rate_words(t) ? CONF_HIGH : CONF_MEDIUM,
			    "rate limited or greylisted", ADV_RATE);
			return;
		}
		if (ip_words(t) && !diag_kw_any(t, KW_CONTENT)) {
			set(o, CAUSE_IP_FILTERED, CONF_MEDIUM, "client address refused (temporarily)", ADV_IP);
			return;
		}
		if (enh_subject(r, '7') && !diag_kw_any(t, KW_NO_SERVICE)) {
			set(o, CAUSE_RATE_LIMITED, rate_words(t) ? CONF_HIGH : CONF_MEDIUM,
			    "rate limited or greylisted", ADV_RATE);
			return;
		}
		if (enh_subject(r, '3') || diag_kw_any(t, KW_NO_SERVICE)) {
			set(o, CAUSE_SERVER_UNAVAILABLE, CONF_HIGH, "server unavailable", ADV_UNAVAIL);
			return;
		}
		if (code == 421) {
			if (c->consecutive_errors >= 3 || c->unknown_commands >= 3)
				set(o, CAUSE_TOO_MANY_ERRORS, CONF_MEDIUM, "closed after repeated errors", ADV_ERRORS);
			else if (ip_words(t))
				set(o, CAUSE_IP_FILTERED, CONF_MEDIUM, "client refused", ADV_IP);
			else
				set(o, CAUSE_SERVER_UNAVAILABLE, CONF_MEDIUM, "service not available (421)", ADV_UNAVAIL);
			return;
		}
		if (code == 452 && a == CMD_RCPT) {
			set(o, CAUSE_RATE_LIMITED, CONF_MEDIUM, "too many recipients", ADV_RATE);
			return;
		}
		if (code == 451 || code == 452) {
			set(o, CAUSE_SERVER_UNAVAILABLE, CONF_MEDIUM, "local error on the server", ADV_UNAVAIL);
			return;
		}
		if (ip_words(t)) {
			set(o, CAUSE_IP_FILTERED, CONF_MEDIUM, "client refused (temporarily)", ADV_IP);
			return;
		}
		set(o, CAUSE_UNKNOWN, CONF_LOW, "temporary refusal", "The refusal is temporary: the client should retry; the reply text says why.");
		return;
	}
	/* 5xx from here. */
	if (ip_words(t) && !diag_kw_any(t, KW_CONTENT)) {
		set(o, CAUSE_IP_FILTERED, CONF_HIGH, "client address refused", ADV_IP);
		return;
	}
	if (code == 554 && diag_ci_contains(t, "no smtp service")) {
		set(o, CAUSE_SERVER_UNAVAILABLE, CONF_HIGH, "no SMTP service", ADV_UNAVAIL);
		return;
	}
	if (enh_subject(r, '3') && a != CMD_BODY_END) {
		set(o, CAUSE_SERVER_UNAVAILABLE, CONF_MEDIUM, "server unavailable", ADV_UNAVAIL);
		return;
	}
	if (a == CMD_RCPT && (enh_is(r, "5.7.1") || code == 554) && !diag_kw_any(t, KW_CONTENT)) {
		set(o, CAUSE_RELAY_DENIED, CONF_MEDIUM, "recipient not authorised (relay denied)", ADV_RELAY);
		return;
	}
	if (rate_words(t) && diag_ci_contains(t, "too many")) {
		set(o, CAUSE_RATE_LIMITED, CONF_HIGH, "too many connections, messages or recipients", ADV_RATE);
		return;
	}
	if ((code >= 500 && code <= 504) || code == 555 || enh_subject(r, '5')) {
		o->cls = RC_SYNTAX;
		o->cause = CAUSE_TOO_MANY_ERRORS;
		o->conf = CONF_MEDIUM;
		o->what = "syntax or sequence error";
		o->advice = ADV_ERRORS;
		return;
	}
	if (a == CMD_BODY_END || a == CMD_BDAT || a == CMD_DATA) {
		set(o, CAUSE_UNKNOWN, CONF_MEDIUM, "message refused for its content or by policy", ADV_CONTENT);
		return;
	}
	if (a == CMD_RCPT || a == CMD_MAIL || enh_subject(r, '1')) {
		set(o, CAUSE_UNKNOWN, CONF_MEDIUM, a == CMD_MAIL ? "sender address refused" : "recipient address refused", ADV_ADDR);
		return;
	}
	set(o, CAUSE_UNKNOWN, CONF_LOW, "permanent refusal", "Read the reply text: the server refused permanently.");
}
