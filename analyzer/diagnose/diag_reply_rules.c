/*
 * diag_reply_rules.c - what SMTP replies mean, as data: the keyword families
 * and the rows that read a reply, tried in order, first match wins.
 *
 * How to read a row: it applies when the reply answers one of `on` (the
 * command paired with it; 0 = any), has the class and one of the codes, an
 * enhanced code matching one of `enh`, a word of one of the `any` families
 * and of one of the `also` families, and none of `unless`. Codes decide
 * first: a row with words only narrows a code the servers reuse for many
 * reasons. Policy causes (relay, client address, authentication, TLS) come
 * before the address causes (sender, recipient), as DESIGN.md asks.
 *
 * Every row says where its reading comes from. tests/data/phrasebook.tsv
 * holds the real texts of 16 server families, each with its source, and
 * check_phrasebook reads every one of them through this table.
 * docs/RULES.md's reply section is generated from here (rules-doc).
 */
#include "diag_reply_int.h"

/* An address block's words, bare ones included (see W_IP_GENERIC). */
#define KW_IP_ANY (KW(KW_IP) | KW(KW_IP_GENERIC))

/* ---- keyword families -------------------------------------------------
 * Lower case, matched case-insensitively as whole words (a word ending in
 * '*' matches any word it starts: "throttl*" matches "throttled"). */

static const char *const W_TIMEOUT[] = {
	"timeout", "timed out", "time out", "time-out", "idle too long", "too slow",
	"timeout exceeded", "connection timed out", NULL };
static const char *const W_ERRORS[] = {
	"too many errors", "too many bad", "too many invalid", "too many unrecognized",
	"too many unrecognised", "too many unknown", "too many syntax", "error limit",
	"errors, closing", "bad commands", "too many failed commands", "too many protocol errors",
	"too many nonmail commands", NULL };
static const char *const W_PROTOCOL[] = {
	"synchronization", "synchronisation", "pipelining", "protocol error",
	"talking too soon", "before greeting", "pregreet", "early talker",
	"sent data before", "wait for", "non-smtp", "not smtp", "protocol violation",
	"bare lf", "bare line feed*", "bare linefeed*", "bare <lf>", "smtplf", "smtp smuggling",
	"improper use of smtp", "unauthorized pipelining", "ill-formed", "illegal characters",
	"invalid characters", "out of sequence", "bad sequence", "command too long", "line too long",
	"possible attack", "break rules", NULL };
static const char *const W_NO_SERVICE[] = {
	"no smtp service", "not available", "unavailable", "shutting down", "shutdown",
	"maintenance", "closing transmission channel", "closing connection", "service not ready",
	"insufficient system storage", "local error", "local problem", "system resources",
	"try again tomorrow", "queue file write error", "server busy", "temporarily unavailable",
	"configuration error", "filter", "internal error", "system error", "server error",
	"resources temporarily", "insufficient resources", "out of memory", "disk full",
	"insufficient disk space", "space shortage", "could not be saved", "no data saved",
	"not accepting messages", "temporary failure", "temporary server error",
	"service not available", "temporary problem", "qq", "qqt", "too much load", "load average",
	"system load", NULL };
static const char *const W_RATE[] = {
	"greylist*", "graylist*", "grey-list*", "gray-list*", "rate limit*",
	"ratelimit*", "rate-limit*", "rate of", "sending rate", "connection rate", "message rate",
	"submission rate", "rate exceeded", "too many connections", "too many open connections",
	"too many concurrent", "too many sessions", "too many messages", "too many recipients",
	"too many mails", "too many new", "too many auth", "throttl*", "limit exceeded", "exceeded the",
	"slow down", "too fast", "too quickly", "at a rate", "concurrent connections",
	"maximum number of", "per-source limit", "too much mail", "too busy", "too many simultaneous",
	"unusual rate", "too many rcpt", "connection limit", "limit reached", "sending limit",
	"recipient rate", "sender rate", "try again later, closing connection", "max connections",
	"max message*", "per connection", "per transaction", "exceeded the limit", "exceeded threshold",
	"configured limit", "unexpected volume", "user complaints", "spam volume",
	"submission quota", "internal resources are temporarily unavailable", "tls rate", NULL };
static const char *const W_RETRY[] = {
	"try again later", "try later", "please retry", "temporarily deferred", "try again",
	"temporarily rejected", "deferred", "retry later", NULL };
static const char *const W_LOST_CLIENT[] = {
	"lost input connection", "lost incoming connection", "lost connection", "connection lost",
	"client disconnected", NULL };
/* Words that name the client itself: its address, host name or network. */
static const char *const W_IP_STRONG[] = {
	"client host", "your ip", "ip address", "this ip", "client ip", "sending ip", "connecting ip",
	"source ip", "your host", "your network", "reverse dns", "reverse hostname",
	"cannot find your hostname", "ptr record*", "forged hostname", "dynamic ip", "dial-up",
	"dialup", "residential", "client address", "blocked using", "host network", NULL };
static const char *const W_IP[] = {
	"client host", "blocklist*", "block list", "blacklist*", "black list*",
	"denylist*", "dnsbl", "rbl", "spamhaus", "spamcop", "sorbs", "listed",
	"your ip", "ip address", "ip-address", "this ip", "reverse dns", "reverse lookup", "rdns", "ptr record*",
	"not allowed to connect", "connection refused",
	"reputation", "whitelist", "allowlist",
	"reverse hostname", "cannot find your hostname", "client address", "sending ip",
	"connecting ip", "client ip", "dynamic ip", "dial-up", "dialup", "residential",
	"blocked using", "not authorized to connect", "refused to talk", "host rejected",
	"forged hostname", "does not resolve", "spamrats", "uceprotect", "mailspike", NULL };
/* Refusal words that name no reason: an address block when they answer
 * the connection or a command (with the IP words above), but after the
 * data they are as often a content filter's ("Blocked by Intent Analysis",
 * "Access denied, Your organization does not allow external forwarding"). */
static const char *const W_IP_GENERIC[] = {
	"blocked", "access denied", "banned", "no access", "not welcome", "go away", "barracuda", NULL };
static const char *const W_HELO[] = {
	"helo command rejected", "ehlo command rejected", "helo rejected", "invalid helo",
	"bad helo", "helo name", "hostname in helo", "helo hostname", "fully-qualified hostname",
	"syntactically invalid helo", "helo argument", "invalid domain name", "invalid hostname", NULL };
/* Postfix names the address it refused: "Sender address rejected: Access
 * denied" is about the address, whatever the words after it. */
static const char *const W_ADDR_NAMED[] = {
	"sender address rejected", "recipient address rejected", NULL };
static const char *const W_RELAY[] = {
	"relay*", "not permitted", "not allowed to send", "unable to deliver to", "not local",
	"we do not accept mail for", "no such domain here", "5.7.54", "5.7.64", "rcpthosts",
	"non-accepted domain", "not a gateway", "non-local", "access to submit",
	"delivery is not allowed", "host network not allowed", NULL };
static const char *const W_AUTH_REQ[] = {
	"authentication required", "authentication is required", "auth required",
	"must authenticate", "not authenticated", "authenticate first", "authentication needed",
	"login first", "5.7.57", "smtp auth", "requires authentication", "not logged in",
	"client was not authenticated", "submission requires", "need authentication",
	"authentication is needed", "failed to authenticate", "permissions to submit", NULL };
static const char *const W_AUTH[] = {
	"authentication failed", "authentication unsuccessful", "invalid credentials",
	"incorrect authentication", "bad username or password", "username and password not accepted",
	"invalid login", "authentication failure", "login failed", "credentials", NULL };
static const char *const W_TLS[] = {
	"starttls", "start tls", "tls required", "tls is required", "encryption required",
	"must use tls", "requires tls", "ssl required", "secure connection", "5.7.10",
	"cipher strength", "high-strength cipher*", "encryption", "tls first", "ssl/tls",
	"tls-connection", "tls connection", "transport layer security", NULL };
static const char *const W_SIZE[] = {
	"size", "too large", "too big", "exceeds", "exceeded maximum", "message length",
	"size limit", "maximum message size", "maximum allowed size", "excessive amounts of data", NULL };
static const char *const W_MAILBOX_FULL[] = {
	"mailbox full", "over quota", "quota exceeded", "mailbox is full", "insufficient storage for",
	"overquota", "exceeded storage", "mailbox size limit", "disk quota", "inbox is full",
	"mailbox has exceeded", "out of storage", NULL };
/* Words that name the envelope sender as what was refused. */
static const char *const W_SENDER_STRONG[] = {
	"sender address rejected", "sender rejected", "sender verify failed", "sender verify",
	"sender domain", "domain of sender", "sender address", "invalid sender", "sender denied",
	"not owned by user", "bad sender", "unknown sender", "sender unknown", "envelope sender",
	"envelope blocked", "sender's domain", "senders domain", "could not verify sender",
	"could not complete sender verify", "sender blocked", "multi-recipient bounce",
	"mail servers for the domain", "unregistered domain*", "not authorized owner",
	"from domain", "send as", NULL };
static const char *const W_SENDER[] = {
	"sender", "from address", "domain not found", "domain does not exist", "a-record", "a record",
	"return path", "return-path", "unresolvable", "not resolvable", "no mx", "null sender",
	"bounce", NULL };
static const char *const W_RECIPIENT[] = {
	"user unknown", "unknown user", "no such user", "mailbox unavailable", "mailbox not found",
	"recipient address rejected", "does not exist", "no mailbox", "invalid recipient",
	"recipient rejected", "unknown recipient", "recipient not found", "not a valid recipient",
	"mailbox disabled", "account disabled", "user not found", "no such recipient",
	"recipient unknown", "unrouteable address", "unroutable", "inactive", "disabled",
	"suspended", "mailbox does not", "account is disabled", "recipient invalid",
	"invalid mailbox", "bad destination mailbox", "unknown or illegal alias", "no such address",
	"address unknown", "not our customer", "is not a valid", "recipient address",
	"domain not found", "remote domain", NULL };
static const char *const W_SPAM[] = {
	"spam", "unsolicited", "ube", "uce", "junk", "bulk", "phish*", "spam points",
	"scored", "surbl", "uribl", "spamassassin", "rspamd", "suspicious", "suspected", NULL };
static const char *const W_VIRUS[] = {
	"virus*", "malware", "infected", "trojan", "worm", "clamav", "banned", "attachment*",
	"executable", "prohibited file", NULL };
static const char *const W_SENDER_AUTH[] = {
	"dmarc", "dkim", "spf", "sender policy framework", "unauthenticated email",
	"authentication checks", "authentication information", "fails to pass", "anti-spoofing",
	"spoof*", "not signed", "open-spf.org", "not allowed to send mail from", NULL };
static const char *const W_CONTENT[] = {
	"content", "message rejected", "policy", "policies", "message refused", "rejected message",
	"header*", "rfc 2822", "rfc 5322", "rfc compliant", "loop", "looping", "hop count",
	"too many hops", "line length", "message not accepted", "message blocked",
	"administrative action", "not rfc", NULL };
static const char *const W_TOO_MANY[] = { "too many", NULL };
static const char *const W_NO_SMTP[] = { "no smtp service", NULL };
static const char *const W_DEMAND[] = { "required", "require", "must", "requires", "need", "needed", NULL };
static const char *const W_AUTH_ANY[] = { "auth*", "re-authenticate", NULL };
static const char *const W_RECIPIENTS[] = { "recipients", NULL };
static const char *const W_NO_RCPT[] = {
	"no valid recipients", "no recipient*", "need rcpt", "must have sender and recipient",
	"no recipient succeeded", "no valid recipient", NULL };
static const char *const W_SCREEN[] = { "service currently unavailable", NULL };
static const char *const W_NULLSERVER[] = { "command rejected", NULL };
static const char *const W_LOOKUP[] = {
	"lookup failure", "lookup error", "temporary lookup", "dns error", "dns failure", NULL };
/* The word a refusal uses for the connecting machine, next to its address
 * ("Host 192.0.2.1 is not allowed ...", "Client host [192.0.2.1] blocked"). */
static const char *const W_HOST_WORD[] = { "host", NULL };
/* Words that name relaying itself (not the wider W_RELAY readings). */
static const char *const W_RELAY_WORD[] = { "relay*", "relaying", NULL };
static const char *const W_NONE[] = { NULL };

#define FAMILY(id, w, src) [id] = { w, src }
const struct kw_table KW_TABLE[KW__COUNT] = {
	FAMILY(KW_TIMEOUT, W_TIMEOUT, "Postfix 421 4.4.2 timeout exceeded; Exim data timeout; Sendmail/Zimbra 451 4.7.0 Timeout waiting"),
	FAMILY(KW_ERRORS, W_ERRORS, "Postfix smtpd_hard_error_limit; Exchange 421 4.7.0 Too many errors; Exim too many nonmail commands"),
	FAMILY(KW_PROTOCOL, W_PROTOCOL, "postscreen pregreet/pipelining; Exim synchronization; bare LF refusals (qmail smtplf, Exchange 5.6.11, Postfix)"),
	FAMILY(KW_NO_SERVICE, W_NO_SERVICE, "RFC 5321 421/451/452; Postfix, Exim, Sendmail, qmail (qq), hMailServer local errors; milter tempfail"),
	FAMILY(KW_RATE, W_RATE, "greylisting; Gmail 4.7.28, Exchange per-source and submission limits, Yahoo TSS04, Mimecast, Postfix anvil"),
	FAMILY(KW_RETRY, W_RETRY, "temporary refusals of every family"),
	FAMILY(KW_LOST_CLIENT, W_LOST_CLIENT, "Exim 421 lost input connection (commands), 421 Lost incoming connection (inside DATA, tests/data/exim abort_data); client-gone notices of other servers"),
	FAMILY(KW_IP, W_IP, "Postfix client restrictions and DNSBL replies; Gmail, Outlook.com, Yahoo, gateways' reputation blocks"),
	FAMILY(KW_IP_GENERIC, W_IP_GENERIC, "bare refusal words (blocked, access denied, banned): Postfix access maps, Exim ACLs, Exchange Online, Barracuda; address blocks before the data, not after it"),
	FAMILY(KW_HELO, W_HELO, "Postfix Helo command rejected; Exchange/OpenSMTPD 501 5.5.4 Invalid domain name at EHLO"),
	FAMILY(KW_ADDR_NAMED, W_ADDR_NAMED, "Postfix check_table_result() naming the refused address"),
	FAMILY(KW_RELAY, W_RELAY, "Postfix Relay access denied; Exim relay not permitted; Sendmail Relaying denied; qmail rcpthosts; Exchange 5.7.54; Cisco ESA, Mimecast, hMailServer, MailEnable"),
	FAMILY(KW_AUTH_REQ, W_AUTH_REQ, "RFC 4954 530 5.7.0; Exchange 5.7.57; Postfix not logged in; Mimecast submitter failed to authenticate"),
	FAMILY(KW_AUTH, W_AUTH, "RFC 4954 535; Postfix, Exchange, Gmail, Exim, hMailServer AUTH refusals"),
	FAMILY(KW_TLS, W_TLS, "RFC 3207 530 5.7.0; Exchange 5.7.3 cipher strength; Mimecast high-strength ciphers; hMailServer SSL/TLS"),
	FAMILY(KW_SIZE, W_SIZE, "RFC 1870 552 5.3.4; Postfix, Exim, Exchange, hMailServer size refusals"),
	FAMILY(KW_MAILBOX_FULL, W_MAILBOX_FULL, "RFC 3463 x.2.2; Gmail, Exchange, Dovecot LMTP quota texts"),
	FAMILY(KW_SENDER, W_SENDER, "sender words at MAIL (Exim, Sendmail, Yahoo)"),
	FAMILY(KW_RECIPIENT, W_RECIPIENT, "RFC 3463 x.1.1; Postfix User unknown; Exim Unrouteable address; Gmail, Exchange, qmail"),
	FAMILY(KW_SPAM, W_SPAM, "SpamAssassin, rspamd, amavis, Gmail, Mimecast, Proofpoint spam refusals"),
	FAMILY(KW_VIRUS, W_VIRUS, "ClamAV/clamav-milter, amavis BANNED/INFECTED, gateways' attachment blocks"),
	FAMILY(KW_SENDER_AUTH, W_SENDER_AUTH, "DMARC/DKIM/SPF refusals: Gmail 5.7.26, Outlook 5.7.509, Yahoo 5.7.9, Mimecast, Exim/hMailServer SPF"),
	FAMILY(KW_CONTENT, W_CONTENT, "content and policy refusals at end of data (RFC 3463 x.6.x, x.7.1)"),
	FAMILY(KW_TOO_MANY, W_TOO_MANY, "\"too many\" together with a limit word"),
	FAMILY(KW_NO_SMTP, W_NO_SMTP, "RFC 5321 3.1: 554 no SMTP service here"),
	FAMILY(KW_DEMAND, W_DEMAND, "demands: \"TLS required\", \"Require STARTTLS\", \"must issue a STARTTLS command first\""),
	FAMILY(KW_AUTH_ANY, W_AUTH_ANY, "any word about authentication"),
	FAMILY(KW_RECIPIENTS, W_RECIPIENTS, "552 too many recipients (RFC 5321 4.5.3.1.10 names 452, some servers send 552)"),
	FAMILY(KW_IP_STRONG, W_IP_STRONG, "words naming the client itself (Postfix Client host rejected, Gmail your IP address, Sendmail forged hostname)"),
	FAMILY(KW_SENDER_STRONG, W_SENDER_STRONG, "words naming the envelope sender (Postfix Sender address rejected, Exim sender verify failed, Mimecast envelope blocked)"),
	FAMILY(KW_NO_RCPT, W_NO_RCPT, "DATA refused for want of an accepted recipient (Postfix, Sendmail, Exchange, OpenSMTPD, hMailServer)"),
	FAMILY(KW_SCREEN, W_SCREEN, "postscreen's refusal of a client that failed its tests (521/550 5.3.2, 450 4.3.2)"),
	FAMILY(KW_NULLSERVER, W_NULLSERVER, "Sendmail nullserver 550 5.0.0 Command rejected (greet_pause)"),
	FAMILY(KW_LOOKUP, W_LOOKUP, "DNS or directory lookups failing on the server (Sendmail 451 4.4.3, qmail temporary RBL lookup error)"),
	FAMILY(KW_HOST_WORD, W_HOST_WORD, "Exim ACL messages naming $sender_host_address (\"Host 192.0.2.1 is not allowed to send mail here\", tests/data/exim); Exchange/Outlook.com \"Client host [192.0.2.1] blocked using ...\""),
	FAMILY(KW_RELAY_WORD, W_RELAY_WORD, "relay words of every family: Postfix Relay access denied, Exim relay not permitted, Sendmail Relaying denied ... [192.0.2.1]"),
	FAMILY(KW_IPLIT, W_NONE, "the text holds an IPv4 address or a bracketed IPv6 address"),
	FAMILY(KW_ADDR_LEAD, W_NONE, "the text starts with the refused address (<user@domain>: or <user@domain>...)"),
};
#undef FAMILY

/* ---- advice ----------------------------------------------------------- */

#define ADV_IP "Server side: check the client address against the server's access lists and the DNS blocklists it queries; client side: send from an address with a matching reverse DNS and a clean reputation, or through the provider's relay."
#define ADV_RATE "Client side: retry later and send fewer connections, messages or recipients at once (greylisting accepts the same message on a retry); server side: raise the limit if this sender is legitimate."
#define ADV_UNAVAIL "Server side: the server reported a local problem (shutdown, storage, filter or configuration); check its logs and health. The client should retry later."
#define ADV_SIZE "Client side: send a smaller message (compress or link large attachments); server side: raise the message size limit if such messages must pass."
#define ADV_AUTH "Client side: check the user name, password and mechanism configured in the mail client; server side: check the account and the authentication back end."
#define ADV_AUTH_MECH "Client side: authenticate only where the server advertises AUTH (often only on port 587 and after STARTTLS); server side: enable AUTH on this listener if clients must use it."
#define ADV_AUTH_REQ "Client side: enable SMTP authentication (and use the submission port 587) before sending; server side: allow this client without authentication only if it is a trusted network."
#define ADV_TLS_REQ "Client side: enable STARTTLS (or implicit TLS) before authenticating or sending."
#define ADV_TLS_FAIL "Check TLS on both sides: certificate, protocol versions and cipher suites; the server side may have TLS misconfigured or disabled."
#define ADV_RELAY "Client side: authenticate before sending to outside domains, or send to the recipient's own MX; server side: add the client to the networks allowed to relay, or the domain to the relay domains, if it should be."
#define ADV_TIMEOUT "Client side: the client left the session idle; send QUIT when done, or keep commands flowing. Server side: raise the idle timeout if slow clients are legitimate."
#define ADV_ERRORS "Client side: fix the client's SMTP dialog (wait for the greeting and for replies unless PIPELINING is offered, send valid commands); server side: the error limit can be raised."
#define ADV_CONTENT "The message itself was refused after its data: read the reply text, fix the content (spam, virus, attachment, headers) or the sender's authentication (SPF, DKIM, DMARC), and resend."
#define ADV_SENDER "Client side: use a sender address whose domain exists, resolves and allows this server to send (SPF), and that the authenticated user may use; server side: check the sender restrictions if the address is legitimate."
#define ADV_RCPT "Correct the recipient address (it does not exist, is disabled or its mailbox is full); nothing on the sending side can make the server take it."
#define ADV_BYE "Server side: read the server's log for this session; client side: look at the command it answered."
#define ADV_TEMP "The refusal is temporary: the client should retry; the reply text says why."
#define ADV_PERM "Read the reply text: the server refused permanently."

/* ---- the rows ---------------------------------------------------------- */

const struct reply_rule REPLY_RULES[] = {
	/* Closing replies to anything but QUIT. */
	{ .id = "B1", .klass = 2, .codes = { 221 }, .on = ON(CMD_UNKNOWN),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH,
	  .what = "SMTP protocol violation (a command the server does not take from mail clients, e.g. HTTP)", .advice = ADV_ERRORS,
	  .why = "Postfix smtpd_forbidden_commands: 221 2.7.0 Error: I can break rules, too. Goodbye." },
	{ .id = "B2", .klass = 2, .codes = { 221 }, .not_on = ON(CMD_QUIT), .enh = { "x.7.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH,
	  .what = "SMTP protocol violation (a command the server does not take from mail clients, e.g. HTTP)", .advice = ADV_ERRORS,
	  .why = "Postfix 221 2.7.0 to forbidden commands" },
	{ .id = "B3", .klass = 2, .codes = { 221 }, .not_on = ON(CMD_QUIT), .any = KW(KW_PROTOCOL),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH,
	  .what = "SMTP protocol violation", .advice = ADV_ERRORS,
	  .why = "closing replies naming a protocol violation" },
	{ .id = "B4", .klass = 2, .codes = { 221 }, .not_on = ON(CMD_QUIT) | ON(CMD_NONE),
	  .cls = RC_CAUSE, .cause = CAUSE_UNKNOWN, .conf = CONF_MEDIUM,
	  .what = "the server said goodbye (221) to a command other than QUIT", .advice = ADV_BYE,
	  .why = "RFC 5321 4.2.2: 221 is the closing reply" },

	/* Answers whose command or code fixes the meaning. */
	{ .id = "S0", .on = ON(CMD_STARTTLS), .klass = 4, .any = KW(KW_RATE),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "TLS sessions limited", .advice = ADV_RATE,
	  .why = "Postfix 421 4.7.0 too many new TLS sessions; Exchange 454 4.7.0 maximum TLS rate exceeded" },
	{ .id = "S1", .on = ON(CMD_STARTTLS),
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_FAILED, .conf = CONF_HIGH, .what = "STARTTLS refused", .advice = ADV_TLS_FAIL,
	  .why = "RFC 3207 4: 454 TLS not available, 501 syntax; every family refuses STARTTLS so" },
	{ .id = "L1", .any = KW(KW_LOST_CLIENT), .cls = RC_NONE,
	  .why = "Exim 421 lost input connection: the client had already gone" },
	{ .id = "T0", .enh = { "x.4.2" }, .any = KW(KW_SIZE),
	  .cls = RC_CAUSE, .cause = CAUSE_SIZE_LIMIT, .conf = CONF_HIGH, .what = "size limit for the connection reached", .advice = ADV_SIZE,
	  .why = "Exchange 421 4.4.2 Message size limit for this connection reached" },
	{ .id = "T1", .enh = { "x.4.2" }, .any = KW(KW_RATE),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "rate limited", .advice = ADV_RATE,
	  .why = "Exchange 421 4.4.2 Message submission rate for this client has exceeded the configured limit" },
	{ .id = "T2", .enh = { "x.4.2" },
	  .cls = RC_CAUSE, .cause = CAUSE_IDLE_TIMEOUT, .conf = CONF_HIGH, .what = "idle timeout", .advice = ADV_TIMEOUT,
	  .why = "RFC 3463 4.4.2 bad connection; Postfix 421 4.4.2 Error: timeout exceeded" },
	{ .id = "T3", .any = KW(KW_TIMEOUT),
	  .cls = RC_CAUSE, .cause = CAUSE_IDLE_TIMEOUT, .conf = CONF_HIGH, .what = "idle timeout", .advice = ADV_TIMEOUT,
	  .why = "Exim SMTP incoming data timeout; Sendmail/Zimbra 451 4.7.0 Timeout waiting for client input" },
	{ .id = "E1", .klass = 4, .any = KW(KW_ERRORS),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH, .what = "too many errors", .advice = ADV_ERRORS,
	  .why = "Postfix 421 4.7.0 Error: too many errors; Sendmail 421 Too many bad recipients; closing connection" },
	{ .id = "E1b", .klass = 5, .any = KW(KW_ERRORS), .unless = KW(KW_RECIPIENTS), .not_on = ON_AUTH,
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH, .what = "too many errors", .advice = ADV_ERRORS,
	  .why = "Exim 554 Too many nonmail commands; hMailServer error limits (Exim's 550 too many bad recipients refuses the recipient)" },
	{ .id = "E2", .codes = { 554, 550, 521, 421, 451, 500, 503 }, .any = KW(KW_PROTOCOL),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH,
	  .what = "SMTP protocol violation (early talker, pipelining, bare line feeds)", .advice = ADV_ERRORS,
	  .why = "postscreen 550 5.5.1 Protocol error; Exim 554 synchronization error; qmail 451 smtplf; Exchange 554 5.6.0 bare linefeeds" },
	{ .id = "E3", .enh = { "x.5.0", "x.5.1", "x.6.11", "x.6.0" }, .any = KW(KW_PROTOCOL),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_HIGH,
	  .what = "SMTP protocol violation (early talker, pipelining, bare line feeds)", .advice = ADV_ERRORS,
	  .why = "RFC 3463 x.5.0/x.5.1 with protocol words; Exchange Online 5.6.11 invalid characters (bare LF)" },
	{ .id = "E5", .cond = COND_EARLY_TALKER, .on = ON_GREETING, .klass = 5, .enh = { "x.5.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM,
	  .what = "SMTP protocol violation (the client spoke before the greeting)", .advice = ADV_ERRORS,
	  .why = "RFC 5321 4.3.1 the client waits for the greeting; the packets show it did not, and the greeting refuses with a protocol code (Postfix reject_unauth_pipelining 503 5.5.0 at connect)" },
	{ .id = "E6", .cond = COND_EARLY_TALKER, .on = ON_GREETING, .codes = { 500, 501, 502, 503, 504 },
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM,
	  .what = "SMTP protocol violation (the client spoke before the greeting)", .advice = ADV_ERRORS,
	  .why = "RFC 5321 4.2.2 500-504 syntax/sequence codes as the greeting, to a client the packets show speaking first (Postfix 503 at connect with smtpd_delay_reject = no)" },
	{ .id = "E8", .cond = COND_EARLY_TALKER, .on = ON_GREETING, .codes = { 554, 550, 521 },
	  .unless = KW_IP_ANY | KW(KW_IP_STRONG) | KW(KW_SCREEN) | KW(KW_NO_SMTP) | KW(KW_RATE),
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM,
	  .what = "SMTP protocol violation (the client spoke before the greeting)", .advice = ADV_ERRORS,
	  .why = "RFC 5321 3.1/4.3.1: a 5xx refusal as the greeting, with no word on the client's address or on the service, to a client the packets show speaking first (Sendmail greet_pause 554 not accepting messages; phrasebook row: Sendmail CONNECT 554)" },
	{ .id = "E7", .cond = COND_BAD_ARGS, .klass = 5,
	  .cls = RC_SYNTAX, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "syntax error (the command's arguments cannot be right)", .advice = ADV_ERRORS,
	  .why = "RFC 3030 2: BDAT takes a chunk size; the dissector saw none (Postfix 521 5.5.4 Syntax: BDAT count [LAST]), so the refusal is of the command, not the message" },
	{ .id = "T4", .cond = COND_CLIENT_QUIET, .klass = 4,
	  .unless = KW(KW_NO_SERVICE) | KW(KW_ERRORS) | KW(KW_PROTOCOL) | KW(KW_RATE) | KW(KW_SIZE),
	  .cls = RC_CAUSE, .cause = CAUSE_IDLE_TIMEOUT, .conf = CONF_MEDIUM, .what = "idle timeout (unprompted, after the client fell silent)", .advice = ADV_TIMEOUT,
	  .why = "RFC 5321 4.5.3.2 server timeouts: an unprompted 421/451 after the client was silent for 5 s or more (Sendmail/Zimbra 451 4.7.0 after 61 s in zeek-smtp-multi-addr; Postfix 421 4.4.2 after smtpd_timeout)" },
	{ .id = "Y5", .codes = { 421 }, .cond = COND_REPEATED_ERRORS,
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "closed after repeated errors", .advice = ADV_ERRORS,
	  .why = "a 421 after 3+ errors in a row" },
	{ .id = "E4", .enh = { "5.0.0" }, .any = KW(KW_NULLSERVER), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "every command refused (the client spoke too early)", .advice = ADV_ERRORS,
	  .why = "Sendmail nullserver/greet_pause: 550 5.0.0 Command rejected" },

	/* The greeting (RFC 5321 3.1: 554 instead of 220 refuses the client). */
	{ .id = "G0", .on = ON_GREETING, .any = KW(KW_SCREEN),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client refused by the connection screen", .advice = ADV_IP,
	  .why = "postscreen 521 5.3.2 Service currently unavailable" },
	{ .id = "G1", .on = ON_GREETING, .klass = 4, .any = KW(KW_RATE), .unless = KW(KW_NO_SMTP),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "connection limited at the greeting", .advice = ADV_RATE,
	  .why = "Postfix anvil 421 4.7.0 too many connections; Exchange 421 4.3.2 maximum number of concurrent connections" },
	{ .id = "G2", .on = ON_GREETING, .klass = 4, .any = KW_IP_ANY | KW(KW_IP_STRONG),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client refused at the greeting (temporarily)", .advice = ADV_IP,
	  .why = "Mimecast 451 IP Temporarily Blacklisted; temporary DNSBL refusals at connect" },
	{ .id = "G3", .on = ON_GREETING, .klass = 4, .enh = { "x.3.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_HIGH, .what = "no service at the greeting", .advice = ADV_UNAVAIL,
	  .why = "RFC 3463 4.3.x mail system status" },
	{ .id = "G4", .on = ON_GREETING, .any = KW(KW_NO_SMTP),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_HIGH, .what = "no SMTP service", .advice = ADV_UNAVAIL,
	  .why = "RFC 5321 3.1: 554 No SMTP service here" },
	{ .id = "G5", .on = ON_GREETING, .klass = 4, .any = KW(KW_NO_SERVICE),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_HIGH, .what = "no service at the greeting", .advice = ADV_UNAVAIL,
	  .why = "Postfix 421 Service unavailable - try again later (milter); Sendmail 421 4.7.0 closing connection; shutdown greetings" },
	{ .id = "G6", .on = ON_GREETING, .klass = 4, .enh = { "x.7.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "connection limited at the greeting", .advice = ADV_RATE,
	  .why = "421 4.7.x at connect: policy deferral (Gmail, Outlook.com)" },
	{ .id = "G7", .on = ON_GREETING, .klass = 4, .any = KW(KW_RETRY),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "connection limited at the greeting", .advice = ADV_RATE,
	  .why = "temporary refusals at connect asking to retry (Outlook.com RP-001)" },
	{ .id = "G8", .on = ON_GREETING, .klass = 4,
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "service not available at the greeting", .advice = ADV_UNAVAIL,
	  .why = "RFC 5321 3.1: 421 service not available" },
	{ .id = "G9", .on = ON_GREETING, .klass = 5,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client refused at the greeting", .advice = ADV_IP,
	  .why = "RFC 5321 3.1 554 greeting; Exim's host reject 554 SMTP service not available" },
	{ .id = "H0", .on = ON_HELO, .any = KW(KW_HELO) | KW_IP_ANY | KW(KW_IP_STRONG),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client refused for its HELO name", .advice = ADV_IP,
	  .why = "Exchange/OpenSMTPD 501 5.5.4 Invalid domain name; Exim HELO/EHLO checks" },

	/* Answers to AUTH (RFC 4954 6). */
	{ .id = "A1", .on = ON_AUTH, .any = KW(KW_TLS),
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_HIGH, .what = "TLS required before AUTH", .advice = ADV_TLS_REQ,
	  .why = "RFC 4954 538 5.7.11 Encryption required; Exchange 451 5.7.3 Require STARTTLS to authenticate, 454 cipher strength too weak" },
	{ .id = "A2", .on = ON_AUTH, .klass = 4, .any = KW(KW_RATE) | KW(KW_TOO_MANY),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "authentication attempts limited", .advice = ADV_RATE,
	  .why = "Postfix 450 4.7.1 too many AUTH commands, smtpd_client_auth_rate_limit" },
	{ .id = "A3", .on = ON_AUTH, .klass = 4, .any = KW(KW_NO_SERVICE),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "authentication unavailable on the server", .advice = ADV_UNAVAIL,
	  .why = "Exchange 451 4.7.0 Temporary server error. Please try again later" },
	{ .id = "A4", .on = ON_AUTH, .any = KW(KW_AUTH_REQ),
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_REQUIRED, .conf = CONF_MEDIUM, .what = "authentication required", .advice = ADV_AUTH_REQ,
	  .why = "Sendmail 503 5.7.0 Authentication required." },
	{ .id = "A5", .on = ON_AUTH, .codes = { 503 },
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_MEDIUM, .what = "authentication refused (AUTH not offered)", .advice = ADV_AUTH_MECH,
	  .why = "Postfix 503 5.5.1 Error: authentication not enabled" },
	{ .id = "A6", .on = ON_AUTH, .codes = { 500, 501, 502, 504 },
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_MEDIUM, .what = "authentication mechanism or exchange refused", .advice = ADV_AUTH,
	  .why = "RFC 4954 504 unrecognized mechanism, 501 cannot decode" },
	{ .id = "A7", .on = ON_AUTH,
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_HIGH, .what = "credentials refused", .advice = ADV_AUTH,
	  .why = "RFC 4954 535 5.7.8, 534 5.7.9, 538, 454 4.7.0" },
	{ .id = "A8", .codes = { 535 },
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_HIGH, .what = "credentials refused", .advice = ADV_AUTH,
	  .why = "RFC 4954 535 outside an AUTH exchange the dialog saw" },
	{ .id = "A9", .enh = { "x.7.8" },
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_HIGH, .what = "credentials refused", .advice = ADV_AUTH,
	  .why = "RFC 4954 5.7.8 authentication credentials invalid" },
	{ .id = "A11", .on = ON_AUTH, .enh = { "x.7.9", "x.7.12", "x.7.13" },
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_HIGH, .what = "authentication refused for this account or mechanism", .advice = ADV_AUTH,
	  .why = "RFC 4954 5.7.9 mechanism too weak, 4.7.12 password transition needed; RFC 5248 x.7.13 user account disabled" },
	{ .id = "A10", .any = KW(KW_AUTH), .unless = KW(KW_AUTH_REQ) | KW(KW_SENDER_AUTH), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_FAILED, .conf = CONF_MEDIUM, .what = "credentials refused", .advice = ADV_AUTH,
	  .why = "hMailServer 550 Login credentials no longer valid at MAIL" },

	/* Size (RFC 1870). */
	{ .id = "Z1", .enh = { "x.3.4", "x.2.3" },
	  .cls = RC_CAUSE, .cause = CAUSE_SIZE_LIMIT, .conf = CONF_HIGH, .what = "message too large", .advice = ADV_SIZE,
	  .why = "RFC 3463 5.3.4 message too big for system, 5.2.3 message length exceeds limit" },
	{ .id = "Z2", .codes = { 552 }, .unless = KW(KW_MAILBOX_FULL) | KW(KW_RECIPIENTS) | KW(KW_TOO_MANY) | KW(KW_RECIPIENT),
	  .not_enh = { "x.2.2", "x.7.*", "x.1.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_SIZE_LIMIT, .conf = CONF_HIGH, .what = "message too large", .advice = ADV_SIZE,
	  .why = "RFC 1870 6.1: 552 exceeded storage allocation" },
	{ .id = "Z3", .on = ON_MAIL | ON_MESSAGE | ON(CMD_NONE), .any = KW(KW_SIZE), .unless = KW(KW_MAILBOX_FULL),
	  .not_enh = { "x.7.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_SIZE_LIMIT, .conf = CONF_HIGH, .what = "message too large", .advice = ADV_SIZE,
	  .why = "size words at MAIL SIZE=, after the data or unprompted: Exim, Exchange, hMailServer 421 Excessive amounts of data" },

	/* TLS demanded. */
	{ .id = "S2", .any = KW(KW_TLS), .also = KW(KW_DEMAND), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_HIGH, .what = "STARTTLS required", .advice = ADV_TLS_REQ,
	  .why = "RFC 3207 530 5.7.0 Must issue a STARTTLS command first; Exchange 451 5.7.3 STARTTLS is required" },
	{ .id = "S3", .any = KW(KW_TLS), .codes = { 530 },
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_HIGH, .what = "STARTTLS required", .advice = ADV_TLS_REQ,
	  .why = "RFC 3207 530" },
	{ .id = "S4", .any = KW(KW_TLS), .enh = { "x.7.*" }, .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_HIGH, .what = "STARTTLS required", .advice = ADV_TLS_REQ,
	  .why = "Exchange 5.7.3 cipher strength too weak; Mimecast high-strength ciphers" },
	{ .id = "S5", .enh = { "x.7.10", "x.7.11", "x.7.30" }, .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_HIGH, .what = "encryption required", .advice = ADV_TLS_REQ,
	  .why = "RFC 5248 x.7.10 encryption needed; RFC 4954 5.7.11 encryption required for the mechanism; RFC 8689 x.7.30 REQUIRETLS support required" },

	/* SPF at MAIL or RCPT is about the sender address (DESIGN.md). */
	{ .id = "D0", .on = ON_MAIL | ON_RCPT, .klass = 5, .any = KW(KW_SENDER_AUTH),
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender refused by SPF or DMARC", .advice = ADV_SENDER,
	  .why = "Exim/hMailServer SPF refusals at RCPT (open-spf.org); Postfix policyd-spf" },

	{ .id = "D0e", .on = ON_MAIL | ON_RCPT, .klass = 5,
	  .enh = { "x.7.20", "x.7.21", "x.7.22", "x.7.23", "x.7.24", "x.7.26", "x.7.29" },
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender refused by SPF, DKIM or DMARC", .advice = ADV_SENDER,
	  .why = "RFC 7372 x.7.20-x.7.24, x.7.26 (DKIM, SPF, several checks failed), RFC 8617 x.7.29 (ARC): the code names a sender authentication failure whatever the words" },

	/* Relay (RFC 5321 3.6.2): a policy cause, before the address causes. */
	{ .id = "R0", .on = ON_MAIL | ON_RCPT, .any = KW(KW_IPLIT), .also = KW(KW_HOST_WORD),
	  .unless = KW(KW_RELAY_WORD) | KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG) | KW(KW_SENDER_AUTH) | KW(KW_RECIPIENT) |
		    KW_IP_ANY | KW(KW_IP_STRONG),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused", .advice = ADV_IP,
	  .why = "a refusal naming the client machine by its address and not relaying: Exim ACL \"Host 192.0.2.1 is not allowed to send mail here\" (tests/data/exim client_reject_rcpt, read as relay by R1's \"not allowed to send\" before); the shape (the client's address next to \"host\", no relay word) carries it, not one server's sentence; texts with the IP families' words (\"Client host [192.0.2.1] blocked\") are left to K7/P3" },
	{ .id = "R1", .on = ON_RCPT, .any = KW(KW_RELAY), .unless = KW(KW_ADDR_NAMED),
	  .cls = RC_CAUSE, .cause = CAUSE_RELAY_DENIED, .conf = CONF_HIGH, .what = "relay denied", .advice = ADV_RELAY,
	  .why = "Postfix 554 5.7.1 Relay access denied; Exim 550 relay not permitted (even with 'authentication required'); Sendmail Relaying denied; qmail rcpthosts; Exchange 5.7.54; Cisco ESA; Mimecast; MailEnable" },
	{ .id = "R2", .any = KW(KW_RELAY), .also = KW(KW_DEMAND) | KW(KW_AUTH_ANY), .unless = KW(KW_ADDR_NAMED), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_RELAY_DENIED, .conf = CONF_HIGH, .what = "relay denied", .advice = ADV_RELAY,
	  .why = "relay refusals answering MAIL" },

	/* Authentication demanded (RFC 4954 6: 530 5.7.0). */
	{ .id = "U1", .codes = { 530 }, .cond = COND_STARTTLS_UNUSED, .unless = KW(KW_AUTH_ANY) | KW(KW_SENDER_STRONG),
	  .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_TLS_REQUIRED, .conf = CONF_MEDIUM, .what = "STARTTLS offered and required", .advice = ADV_TLS_REQ,
	  .why = "a 530 without words about authentication while STARTTLS was offered and unused" },
	{ .id = "U2", .codes = { 530 }, .not_on = ON_BODY, .unless = KW(KW_SENDER_STRONG),
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_REQUIRED, .conf = CONF_HIGH, .what = "authentication required", .advice = ADV_AUTH_REQ,
	  .why = "RFC 4954 530 5.7.0 Authentication required" },
	{ .id = "U3", .any = KW(KW_AUTH_REQ), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_REQUIRED, .conf = CONF_HIGH, .what = "authentication required", .advice = ADV_AUTH_REQ,
	  .why = "Exchange 5.7.57 Client not authenticated; Postfix Sender address rejected: not logged in; Mimecast" },
	{ .id = "U4", .enh = { "x.7.0" }, .any = KW(KW_AUTH_ANY), .not_on = ON_BODY, .unless = KW(KW_SENDER_AUTH),
	  .cls = RC_CAUSE, .cause = CAUSE_AUTH_REQUIRED, .conf = CONF_MEDIUM, .what = "authentication required", .advice = ADV_AUTH_REQ,
	  .why = "RFC 4954 5.7.0 with words about authentication" },

	/* The client named: its address, host name or network. Before the
	 * address rows: a policy cause wins (DESIGN.md). */
	{ .id = "K0", .enh = { "x.7.25" }, .klass = 5,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client address refused (no valid reverse DNS)", .advice = ADV_IP,
	  .why = "RFC 7372 x.7.25 reverse DNS validation failed (Postfix 450/550 4.7.25 Client host rejected: cannot find your hostname; Gmail 5.7.25 PTR record)" },
	{ .id = "K0t", .enh = { "x.7.25" }, .klass = 4,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused (no valid reverse DNS, temporarily)", .advice = ADV_IP,
	  .why = "RFC 7372 x.7.25 reverse DNS validation failed, said temporarily (Postfix 450 4.7.25 when the lookup failed)" },
	{ .id = "K1", .any = KW(KW_SCREEN), .klass = 5,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client refused by the connection screen", .advice = ADV_IP,
	  .why = "postscreen 550 5.3.2 Service currently unavailable after its tests" },
	{ .id = "K2", .any = KW(KW_SCREEN), .klass = 4,
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_MEDIUM, .what = "client must reconnect after the connection screen", .advice = ADV_RATE,
	  .why = "postscreen 450 4.3.2 Service currently unavailable: the client passed and must come back" },
	{ .id = "K3", .klass = 4, .any = KW(KW_LOOKUP), .unless = KW(KW_ADDR_LEAD),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "a lookup failed on the server", .advice = ADV_UNAVAIL,
	  .why = "Sendmail 451 4.4.3 Temporary lookup failure; qmail temporary RBL lookup error" },
	{ .id = "K4", .klass = 4, .enh = { "x.4.3" },
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "a directory lookup failed on the server", .advice = ADV_UNAVAIL,
	  .why = "RFC 3463 4.4.3 directory server failure" },
	{ .id = "K4b", .enh = { "x.7.500" },
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "throttled (server busy for this client)", .advice = ADV_RATE,
	  .why = "Exchange Online / Outlook.com 451 4.7.500 Server busy. Please try again later from [addr]" },
	{ .id = "K5", .klass = 4, .any = KW(KW_RATE),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "rate limited or greylisted", .advice = ADV_RATE,
	  .why = "greylisting; Gmail 4.7.28 unusual rate; Exchange/Outlook throttling; Yahoo TSS04" },
	{ .id = "K6", .klass = 5, .any = KW(KW_IP_STRONG), .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client address refused", .advice = ADV_IP,
	  .why = "Postfix Client host rejected; Sendmail Client IP address does not resolve; Gmail, Outlook.com" },
	{ .id = "K6t", .klass = 4, .any = KW(KW_IP_STRONG), .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused (temporarily)", .advice = ADV_IP,
	  .why = "Postfix Client host rejected; Sendmail Client IP address does not resolve; Gmail, Outlook.com" },
	{ .id = "K7", .klass = 5, .any = KW(KW_IPLIT), .also = KW_IP_ANY, .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client address refused", .advice = ADV_IP,
	  .why = "Exchange Online 5.7.606 banned sending IP [addr]; Proofpoint Mail from <addr> refused by Reputation Services" },
	{ .id = "K7t", .klass = 4, .any = KW(KW_IPLIT), .also = KW_IP_ANY, .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused (temporarily)", .advice = ADV_IP,
	  .why = "Exchange Online 5.7.606 banned sending IP [addr]; Proofpoint Mail from <addr> refused by Reputation Services" },
	{ .id = "K8", .klass = 5, .on = ON_BODY, .any = KW(KW_IP_STRONG), .unless = KW(KW_SENDER_AUTH),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client address refused", .advice = ADV_IP,
	  .why = "Gmail 550 5.7.1 mail sent from your IP address has been blocked; 5.7.25 PTR record" },

	/* After the data: the message's content or its sender's authentication
	 * (RFC 3463 x.6.x, x.7.1 at end of data; SPF/DKIM/DMARC). */
	{ .id = "C1", .on = ON_BODY, .any = KW(KW_VIRUS),
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused: virus or banned attachment", .advice = ADV_CONTENT,
	  .why = "clamav-milter, amavis BANNED/INFECTED, gateways' attachment blocks" },
	{ .id = "C2", .on = ON_BODY, .any = KW(KW_SENDER_AUTH),
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused: sender authentication (SPF, DKIM, DMARC) failed", .advice = ADV_CONTENT,
	  .why = "Gmail 5.7.26, Outlook.com 5.7.509, Yahoo 5.7.9, Mimecast DMARC refusals" },
	{ .id = "C2e", .on = ON_BODY, .enh = { "x.7.20", "x.7.21", "x.7.22", "x.7.23", "x.7.24", "x.7.26", "x.7.29" },
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused: sender authentication (SPF, DKIM, DMARC) failed", .advice = ADV_CONTENT,
	  .why = "RFC 7372 x.7.20-x.7.24, x.7.26, RFC 8617 x.7.29: Gmail's 5.7.26 \"This mail has been blocked because the sender is unauthenticated\" names no SPF/DKIM word in its first line, and \"blocked\" alone would read as an address block" },
	{ .id = "C3", .on = ON_BODY, .any = KW(KW_SPAM),
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused as spam", .advice = ADV_CONTENT,
	  .why = "SpamAssassin, rspamd, amavis, Gmail, Proofpoint, Barracuda spam refusals" },
	{ .id = "C4", .on = ON_BODY, .enh = { "x.6.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused for its content", .advice = ADV_CONTENT,
	  .why = "RFC 3463 x.6.x message content or media status" },
	{ .id = "C5", .on = ON_BODY, .klass = 5, .any = KW(KW_CONTENT), .unless = KW(KW_NO_SERVICE),
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_HIGH, .what = "message refused for its content or by policy", .advice = ADV_CONTENT,
	  .why = "content policies, header checks, mail loops (Postfix, Exim, qmail, Mimecast, Exchange)" },
	{ .id = "C6", .on = ON_BODY, .klass = 4, .any = KW(KW_CONTENT), .unless = KW(KW_NO_SERVICE), .not_enh = { "x.3.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_MEDIUM, .what = "message deferred for its content or by policy", .advice = ADV_CONTENT,
	  .why = "temporary content refusals (rspamd soft reject)" },
	{ .id = "C7", .on = ON_DATA, .any = KW(KW_NO_RCPT),
	  .cls = RC_SYNTAX, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_MEDIUM, .what = "no recipient was accepted", .advice = ADV_RCPT,
	  .why = "a consequence: the RCPT refusals before it decide (R1); alone, Postfix 554 5.5.1 no valid recipients; Sendmail 503 Need RCPT; Exchange 450 4.5.0 No recipient succeeded" },

	/* Mailbox full or disabled: about the recipient whatever the class. */
	{ .id = "M1", .enh = { "x.2.2" }, .not_on = ON_MAIL,
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_HIGH, .what = "the recipient's mailbox is full", .advice = ADV_RCPT,
	  .why = "RFC 3463 x.2.2 mailbox full" },
	{ .id = "M2", .any = KW(KW_MAILBOX_FULL), .not_enh = { "x.7.*", "x.3.*" }, .not_on = ON_MAIL,
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_HIGH, .what = "the recipient's mailbox is full", .advice = ADV_RCPT,
	  .why = "Gmail 452 4.2.2 over quota; Exchange, Dovecot quota texts" },

	/* The envelope addresses. */
	{ .id = "D1", .any = KW(KW_SENDER_STRONG),
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "Postfix Sender address rejected (at RCPT too); Exim sender verify failed; Mimecast envelope blocked" },
	{ .id = "D1b", .on = ON_MAIL, .enh = { "x.7.27" },
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender domain does not accept mail (null MX)", .advice = ADV_SENDER,
	  .why = "RFC 7505 4.2: 550 5.7.27 sender address has null MX" },
	{ .id = "D2", .enh = { "x.1.7", "x.1.8" },
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "RFC 3463 x.1.7 bad sender mailbox syntax, x.1.8 bad sender system address" },
	{ .id = "D3", .on = ON_RCPT, .enh = { "x.1.1", "x.1.10", "x.1.2", "x.1.3", "x.1.6", "x.2.1", "x.1.0" },
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_HIGH, .what = "recipient address refused", .advice = ADV_RCPT,
	  .why = "RFC 3463 x.1.1 bad destination mailbox, x.1.10 null MX, x.1.2 bad destination system, x.2.1 mailbox disabled" },
	{ .id = "D3b", .on = ON_BODY, .enh = { "x.1.1", "x.1.10", "x.1.2", "x.1.3" },
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_HIGH, .what = "recipient address refused", .advice = ADV_RCPT,
	  .why = "recipient refusals after the data (amavis/LMTP relaying the next hop's 550 5.1.1); AOL's 521 5.2.1 there is a content refusal" },
	{ .id = "D4", .on = ON_MAIL, .enh = { "x.1.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "RFC 3463 x.1.x answering MAIL" },
	{ .id = "D5", .on = ON_MAIL, .any = KW(KW_ADDR_LEAD),
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_MEDIUM, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "Sendmail <addr>... Access denied, Postfix <addr>: ...: the text names the sender address first" },
	{ .id = "H1", .any = KW(KW_HELO),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client refused for its HELO name", .advice = ADV_IP,
	  .why = "Postfix Helo command rejected (reject_*_hostname, checked at RCPT); Exim/Sendmail HELO checks" },

	/* Temporary refusals without a name for the limit. */
	{ .id = "P1", .klass = 4, .any = KW(KW_RETRY), .also = KW(KW_NO_SERVICE), .unless = KW_IP_ANY | KW(KW_IPLIT),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "server unavailable", .advice = ADV_UNAVAIL,
	  .why = "Postfix milter tempfail 451 4.7.1 Service unavailable - try again later; Exim 452 Space shortage" },
	{ .id = "P2", .klass = 4, .enh = { "x.5.3", "x.7.28" },
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_MEDIUM, .what = "rate limited or greylisted", .advice = ADV_RATE,
	  .why = "RFC 3463 4.5.3 too many recipients; Gmail 4.7.28" },
	{ .id = "P5", .any = KW(KW_RATE),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "too many connections, messages or recipients", .advice = ADV_RATE,
	  .why = "permanent limit refusals: too many recipients/messages; Exchange Online 5.7.705 threshold" },
	{ .id = "P3", .klass = 5, .any = KW_IP_ANY, .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_HIGH, .what = "client address refused", .advice = ADV_IP,
	  .why = "DNSBL and access-list refusals (Postfix, Exim, Exchange Online 5.7.501, Barracuda)" },
	{ .id = "P3t", .klass = 4, .any = KW_IP_ANY, .unless = KW(KW_ADDR_NAMED) | KW(KW_SENDER_STRONG), .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused (temporarily)", .advice = ADV_IP,
	  .why = "DNSBL and access-list refusals (Postfix, Exim, Exchange Online 5.7.501, Barracuda)" },
	{ .id = "P4", .on = ON_BODY, .any = KW(KW_IP),
	  .unless = KW(KW_ADDR_NAMED) | KW(KW_SPAM) | KW(KW_VIRUS) | KW(KW_SENDER_AUTH) | KW(KW_CONTENT),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused", .advice = ADV_IP,
	  .why = "reputation refusals after the data that name no content" },
	{ .id = "P6", .klass = 4, .any = KW(KW_RETRY), .unless = KW(KW_NO_SERVICE), .not_enh = { "x.3.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_HIGH, .what = "rate limited or greylisted", .advice = ADV_RATE,
	  .why = "temporary refusals that only ask to retry later (greylisting without the word: hMailServer)" },
	{ .id = "P7", .any = KW(KW_IPLIT), .not_on = ON_BODY | ON_RCPT, .unless = KW(KW_RECIPIENT) | KW(KW_SENDER),
	  .cls = RC_CAUSE, .cause = CAUSE_IP_FILTERED, .conf = CONF_MEDIUM, .what = "client address refused", .advice = ADV_IP,
	  .why = "refusals that name the client's address (Yahoo TSS09 All messages from <addr> will be permanently deferred)" },

	/* Temporary refusals (4xx) by code and subject. */
	{ .id = "Y1", .klass = 4, .enh = { "x.5.*" }, .not_enh = { "x.5.3" },
	  .cls = RC_SYNTAX, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "syntax or sequence error", .advice = ADV_ERRORS,
	  .why = "RFC 3463 4.5.x: a bad command, said temporarily" },
	{ .id = "Y2", .klass = 4, .enh = { "x.7.*" }, .unless = KW(KW_NO_SERVICE),
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_MEDIUM, .what = "rate limited or greylisted", .advice = ADV_RATE,
	  .why = "4.7.x temporary policy refusals (greylisting, deferral)" },
	{ .id = "Y3", .klass = 4, .enh = { "x.3.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_HIGH, .what = "server unavailable", .advice = ADV_UNAVAIL,
	  .why = "RFC 3463 4.3.x mail system status" },
	{ .id = "Y4", .klass = 4, .any = KW(KW_NO_SERVICE),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_HIGH, .what = "server unavailable", .advice = ADV_UNAVAIL,
	  .why = "RFC 5321 421/451/452 local errors; Postfix queue file write error" },
	{ .id = "Y6", .codes = { 421 },
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "service not available (421)", .advice = ADV_UNAVAIL,
	  .why = "RFC 5321 421 service not available, closing" },
	{ .id = "Y7", .codes = { 452 }, .on = ON_RCPT, .not_enh = { "x.1.*" },
	  .cls = RC_CAUSE, .cause = CAUSE_RATE_LIMITED, .conf = CONF_MEDIUM, .what = "too many recipients", .advice = ADV_RATE,
	  .why = "RFC 5321 4.5.3.1.10: 452 too many recipients" },
	{ .id = "Y8", .on = ON_RCPT, .klass = 4, .any = KW(KW_RECIPIENT),
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_MEDIUM, .what = "recipient address refused (temporarily)", .advice = ADV_RCPT,
	  .why = "Postfix 450 4.1.1 unverified address; temporary recipient lookups" },
	{ .id = "Y9", .on = ON_MAIL, .klass = 4, .any = KW(KW_SENDER),
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_MEDIUM, .what = "sender address refused (temporarily)", .advice = ADV_SENDER,
	  .why = "temporary sender verification refusals (Exim 451 Could not complete sender verify)" },
	{ .id = "Y10", .codes = { 451, 452 },
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "local error on the server", .advice = ADV_UNAVAIL,
	  .why = "RFC 5321 451 local error in processing, 452 insufficient system storage" },
	{ .id = "Y11", .klass = 4,
	  .cls = RC_CAUSE, .cause = CAUSE_UNKNOWN, .conf = CONF_LOW, .what = "temporary refusal", .advice = ADV_TEMP,
	  .why = "any other 4xx" },

	/* Permanent refusals (5xx) by code, subject and the command answered. */
	{ .id = "N4", .on = ON_RCPT | ON_BODY, .any = KW(KW_RECIPIENT),
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_HIGH, .what = "recipient address refused", .advice = ADV_RCPT,
	  .why = "Postfix User unknown; Exim Unrouteable address; Sendmail User unknown; Exchange Recipient not found" },
	{ .id = "N1", .codes = { 500, 501, 502, 503, 504, 555 },
	  .cls = RC_SYNTAX, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "syntax or sequence error", .advice = ADV_ERRORS,
	  .why = "RFC 5321 4.2.2 500-504; RFC 5321 555 MAIL/RCPT parameters not recognised" },
	{ .id = "N5", .on = ON_MAIL, .any = KW(KW_SENDER),
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_HIGH, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "Exim sender verify failed; Sendmail Domain of sender address does not exist; Yahoo unresolvable from domain" },
	{ .id = "N2", .enh = { "x.3.*" }, .not_on = ON_BODY,
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "server unavailable", .advice = ADV_UNAVAIL,
	  .why = "RFC 3463 5.3.x mail system status" },
	{ .id = "N3", .on = ON_BODY, .any = KW(KW_NO_SERVICE), .also = KW(KW_RETRY),
	  .cls = RC_CAUSE, .cause = CAUSE_SERVER_UNAVAILABLE, .conf = CONF_MEDIUM, .what = "the server could not take the message", .advice = ADV_UNAVAIL,
	  .why = "hMailServer 554 Your message was received but it could not be saved. Please retry later." },
	{ .id = "N6", .enh = { "x.5.*" },
	  .cls = RC_SYNTAX, .cause = CAUSE_TOO_MANY_ERRORS, .conf = CONF_MEDIUM, .what = "syntax or sequence error", .advice = ADV_ERRORS,
	  .why = "RFC 3463 x.5.x network protocol status" },
	{ .id = "N7", .on = ON_MESSAGE,
	  .cls = RC_CAUSE, .cause = CAUSE_CONTENT_REJECTED, .conf = CONF_MEDIUM, .what = "message refused for its content or by policy", .advice = ADV_CONTENT,
	  .why = "DESIGN.md: a refusal after the data is about the message" },
	{ .id = "N8", .on = ON_RCPT,
	  .cls = RC_CAUSE, .cause = CAUSE_RECIPIENT_REJECTED, .conf = CONF_MEDIUM, .what = "recipient address refused", .advice = ADV_RCPT,
	  .why = "a 5xx to RCPT with no policy words: the address itself (Exchange 550 5.7.1 Not authorized: a recipient restriction)" },
	{ .id = "N9", .on = ON_MAIL,
	  .cls = RC_CAUSE, .cause = CAUSE_SENDER_REJECTED, .conf = CONF_MEDIUM, .what = "sender address refused", .advice = ADV_SENDER,
	  .why = "a 5xx to MAIL with no policy words: the sender address" },
	{ .id = "N10",
	  .cls = RC_CAUSE, .cause = CAUSE_UNKNOWN, .conf = CONF_LOW, .what = "permanent refusal", .advice = ADV_PERM,
	  .why = "any other 5xx" },
};

const size_t REPLY_RULES_N = SL_ARRAY_LEN(REPLY_RULES);
