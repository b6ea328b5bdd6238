/*
 * diagnose.c - from a session's facts (TCP per-direction stats, SMTP facts,
 * timeline) to one verdict: why the connection ended.
 *
 * The rules run in a fixed order; the first that applies decides. In short
 * (docs/RULES.md has the full table):
 *   TCP never opened    -> connection_refused / unanswered / capture_incomplete
 *   QUIT answered 2xx   -> completed, unless a refusal nobody got past
 *   a decisive reply    -> the cause it states (diag_reply.c)
 *   no greeting, closed -> ip_filtered (accept then close)
 *   TLS                 -> tls_failed / encrypted
 *   close during DATA past SIZE -> size_limit
 *   open at capture end -> capture_incomplete
 *   injected RST        -> middlebox_reset
 *   stalled retransmits -> network_failure
 *   server closed on the client's turn -> idle_timeout
 *   client closed       -> completed (after accepted mail, FIN) / client_abort
 * `closed_by` and `close` always describe the first FIN or RST of the flow,
 * whatever the cause; a RST the peer answers to data sent after a FIN is an
 * abortive close and never the cause.
 *
 * Invariants: pure (no I/O, no allocation, no global state); every text
 * written into the verdict is bounded by its array; untrusted text comes in
 * already sanitised (smtp_facts, timeline) and is copied with bounds.
 */
#include "diagnose.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag_reply.h"

/* A RST whose TTL differs from every other packet of its side by more than
 * this many hops is taken as not sent by that side. Routes rarely change by
 * more than a hop or two inside one session. */
#define DIAG_TTL_TOLERANCE 3
/* Retransmissions after the last progress that make a stall. */
#define DIAG_STALL_RETRANS 3
/* Accept-then-close: a close this soon after the handshake is a refusal
 * rather than a server that was slow to greet. */
#define DIAG_QUICK_CLOSE (5 * NS_PER_SEC)

#define ADV_TIMEOUT_TEXT "Client side: the client left the session idle (it should send QUIT when done, or its own timeout is longer than the server's); server side: raise the idle timeout if slow clients are legitimate."

/* TLS alert descriptions (RFC 8446 6.2), for explanations; the TLS parser's
 * own table lives in the dissector, which this stage does not link to. */
static const char *tls_alert_name_safe(uint8_t desc)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 22: return "record_overflow";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 109: return "missing_extension";
	case 112: return "unrecognized_name";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return "unknown alert";
	}
}

struct close_ev {
	int dir;            /* -1 none, else enum sl_dir of the sender */
	bool rst;
	uint64_t frame;
	sl_time ts;
};

struct dctx {
	const struct session_view *s;
	const struct flow_info *fi;
	const struct smtp_facts *f;
	const struct diag_config *cfg;
	struct verdict *v;
	struct close_ev first;          /* first FIN or RST of the flow */
	struct reply_ctx rc;
};

void diag_config_default(struct diag_config *cfg)
{
	cfg->idle_threshold = (sl_time)DIAG_DEFAULT_IDLE_THRESHOLD_S * NS_PER_SEC;
}

/* ---- verdict writing helpers ---- */

static void appendf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	if (n + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

#define EXPLAIN(d, ...) appendf((d)->v->explanation, sizeof((d)->v->explanation), __VA_ARGS__)

static void advise(struct dctx *d, const char *a)
{
	snprintf(d->v->advice, sizeof(d->v->advice), "%s", a ? a : "");
}

static void evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...)
{
	struct verdict *v = d->v;
	if (v->n_ev >= VERDICT_MAX_EVIDENCE)
		return;
	for (uint32_t i = 0; i < v->n_ev; i++)      /* one line per frame and text is enough */
		if (frame && v->ev[i].frame == frame && v->ev[i].ts == ts && strstr(v->ev[i].text, fmt) == v->ev[i].text)
			return;
	struct evidence *e = &v->ev[v->n_ev++];
	e->frame = frame;
	e->ts = ts;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* "30.0 s", "250 ms", "0.20 ms" */
static const char *dur(sl_time ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	if (ns >= 10 * NS_PER_SEC)
		snprintf(buf, len, "%.1f s", (double)ns / NS_PER_SEC);
	else if (ns >= NS_PER_SEC)
		snprintf(buf, len, "%.2f s", (double)ns / NS_PER_SEC);
	else if (ns >= NS_PER_MS)
		snprintf(buf, len, "%.0f ms", (double)ns / NS_PER_MS);
	else
		snprintf(buf, len, "%.2f ms", (double)ns / NS_PER_MS);
	return buf;
}

static const char *side(int dir)
{
	return dir == DIR_C2S ? "client" : "server";
}

static void set_cause(struct dctx *d, enum cause c, enum confidence conf)
{
	d->v->cause = c;
	d->v->confidence = conf;
}

static void set_reply(struct dctx *d, const struct smtp_reply *r)
{
	struct verdict *v = d->v;
	v->has_reply = true;
	v->reply_code = r->code;
	snprintf(v->reply_enhanced, sizeof(v->reply_enhanced), "%s", r->enhanced);
	snprintf(v->reply_text, sizeof(v->reply_text), "%s", r->text);
}

static void reply_evidence(struct dctx *d, const struct smtp_reply *r, const char *label)
{
	char code[8] = "";
	if (r->code)
		snprintf(code, sizeof(code), "%u", r->code);
	evidence(d, r->frame, r->ts, "%s %s%s%s %.150s", label, code, r->enhanced[0] ? " " : "",
		 r->enhanced, r->text);
}

/* ---- facts ---- */

static void find_first_close(struct dctx *d)
{
	d->first.dir = -1;
	for (int dir = 0; dir < 2; dir++) {
		const struct tcp_dir_stats *st = &d->fi->dir[dir];
		struct close_ev c[2] = {
			{ dir, false, st->fin_frame, st->fin_ts },
			{ dir, true, st->rst_frame, st->rst_ts },
		};
		for (int k = 0; k < 2; k++) {
			if (!c[k].frame)
				continue;
			if (d->first.dir < 0 || c[k].ts < d->first.ts ||
			    (c[k].ts == d->first.ts && c[k].frame < d->first.frame))
				d->first = c[k];
		}
	}
}

static void close_evidence(struct dctx *d)
{
	for (int dir = 0; dir < 2; dir++) {
		const struct tcp_dir_stats *st = &d->fi->dir[dir];
		if (st->fin_frame)
			evidence(d, st->fin_frame, st->fin_ts, "FIN from the %s%s", side(dir),
				 d->first.dir == dir && !d->first.rst ? " (first close)" : "");
		if (st->rst_frame) {
			bool after_peer = d->first.dir >= 0 && d->first.dir != dir && d->first.frame < st->rst_frame;
			evidence(d, st->rst_frame, st->rst_ts, "RST from the %s%s", side(dir),
				 d->first.dir == dir && d->first.rst ? " (first close)"
				 : after_peer ? " (abortive close after the peer's close)" : "");
		}
	}
}

/* How the verdict says who closed: first FIN/RST; nobody when none. */
static void set_closer(struct dctx *d)
{
	if (d->first.dir < 0) {
		d->v->closed_by = BY_NOBODY;
		d->v->close = CLOSE_NONE;
		return;
	}
	d->v->closed_by = d->first.dir == DIR_C2S ? BY_CLIENT : BY_SERVER;
	d->v->close = d->first.rst ? CLOSE_RST : CLOSE_FIN;
}

static void say_closer(struct dctx *d)
{
	char b[32];
	if (d->first.dir < 0) {
		EXPLAIN(d, " Neither side closed the connection in the capture.");
		return;
	}
	EXPLAIN(d, " The %s closed the connection first with %s (frame %" PRIu64 ", %s after the session began).",
		side(d->first.dir), d->first.rst ? "a RST" : "a FIN", d->first.frame,
		dur(d->first.ts - d->fi->first_ts, b, sizeof(b)));
}

static enum smtp_phase phase_of_cmd(struct dctx *d, enum smtp_cmd c, bool bdat)
{
	switch (c) {
	case CMD_CONNECT: return PH_GREETING;
	case CMD_HELO: case CMD_EHLO: case CMD_LHLO: return PH_HELO;
	case CMD_AUTH: case CMD_AUTH_DATA: return PH_AUTH;
	case CMD_MAIL: return PH_MAIL;
	case CMD_RCPT: return PH_RCPT;
	case CMD_DATA: return PH_DATA;
	case CMD_BDAT: return PH_BDAT;
	case CMD_BODY_END: return bdat ? PH_BDAT : PH_DATA;
	case CMD_STARTTLS: return PH_STARTTLS;
	case CMD_QUIT: return PH_QUIT;
	default: return d->f->phase;
	}
}

static const struct smtp_message *last_msg(const struct smtp_facts *f)
{
	if (!f->n_msgs)
		return NULL;
	return &f->msgs[SL_MIN(f->n_msgs, SMTP_MAX_MESSAGES) - 1];
}

static bool ok2(uint16_t code)
{
	return code >= 200 && code < 300;
}

/* True when the dialog got past reply r: a later success of the same step
 * or a later delivered message (so r is not why the session ended). */
static bool superseded(const struct dctx *d, const struct smtp_reply *r)
{
	const struct smtp_facts *f = d->f;
	if (r->code == 421 || r->answers == CMD_CONNECT)
		return false;   /* 421 closes; a refused greeting is final */
	uint32_t n = SL_MIN(f->n_msgs, SMTP_MAX_MESSAGES);
	for (uint32_t i = 0; i < n; i++) {
		const struct smtp_message *m = &f->msgs[i];
		if (ok2(m->final_reply.code) && m->final_reply.ts > r->ts)
			return true;
		if (r->answers == CMD_MAIL || r->answers == CMD_RCPT || r->answers == CMD_DATA ||
		    r->answers == CMD_BODY_END || r->answers == CMD_BDAT) {
			if (ok2(m->mail_reply.code) && m->mail_reply.ts > r->ts)
				return true;
			if (m->data_reply.code == 354 && m->data_reply.ts > r->ts)
				return true;
		}
	}
	switch (r->answers) {
	case CMD_AUTH:
	case CMD_AUTH_DATA:
		return f->auth_result == AUTH_ACCEPTED;
	case CMD_HELO:
	case CMD_EHLO:
	case CMD_LHLO:
		if (f->auth_result == AUTH_ACCEPTED || f->starttls == STLS_ACCEPTED)
			return true;
		for (uint32_t i = 0; i < n; i++)
			if (f->msgs[i].start_ts > r->ts)
				return true;
		return ok2(f->last_reply.code) && f->last_reply.ts > r->ts &&
		       f->last_reply.answers != CMD_QUIT && f->last_reply.answers != CMD_RSET &&
		       f->last_reply.answers != CMD_NOOP;
	case CMD_STARTTLS:
		return f->tls.handshake_done;
	default:
		return false;
	}
}

/* The newest reply that states why the session ended. Syntax-class errors
 * are returned only through *syntax (decisive only with a server close). */
static bool find_decisive(const struct dctx *d, struct smtp_reply *out, struct reply_reading *rd,
			  struct smtp_reply *syntax)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_reply *cand[3 + 3 * SMTP_MAX_MESSAGES];
	size_t nc = 0;
	cand[nc++] = &f->last_error;
	cand[nc++] = &f->greeting;
	cand[nc++] = &f->starttls_reply;
	for (uint32_t i = 0; i < SL_MIN(f->n_msgs, SMTP_MAX_MESSAGES); i++) {
		cand[nc++] = &f->msgs[i].mail_reply;
		cand[nc++] = &f->msgs[i].data_reply;
		cand[nc++] = &f->msgs[i].final_reply;
	}
	bool found = false;
	syntax->code = 0;
	syntax->ts = 0;
	for (size_t i = 0; i < nc; i++) {
		const struct smtp_reply *r = cand[i];
		if (r->code < 400 || r->code > 599)
			continue;
		struct reply_reading rr;
		diag_classify_reply(r, &d->rc, &rr);
		if (rr.cls == RC_NONE || superseded(d, r))
			continue;
		if (rr.cls == RC_SYNTAX) {
			if (!syntax->code || r->ts > syntax->ts)
				*syntax = *r;
			continue;
		}
		if (!found || r->ts > out->ts) {
			*out = *r;
			*rd = rr;
			found = true;
		}
	}
	return found;
}

/* A server line with no numeric code where a reply was due (e.g. "4.7.0
 * deferred ..." sent with the FIN): read its enhanced code as the class. */
static bool find_codeless_reply(const struct dctx *d, struct smtp_reply *out)
{
	const struct timeline *tl = d->s->tl;
	if (!tl)
		return false;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->dir != DIR_S2C)
			continue;
		if (e->kind == EV_REPLY && e->code)
			return false;   /* a proper reply came after it */
		if ((e->kind == EV_REPLY || e->kind == EV_REPLY_UNPAIRED || e->kind == EV_NOT_SMTP) && !e->code) {
			char enh[12];
			if (!diag_parse_enhanced(e->text, enh, sizeof(enh)) || enh[0] == '2')
				continue;
			memset(out, 0, sizeof(*out));
			snprintf(out->enhanced, sizeof(out->enhanced), "%s", enh);
			snprintf(out->text, sizeof(out->text), "%s", e->text);
			out->answers = d->f->last_cmd;
			out->frame = e->frame;
			out->ts = e->ts;
			return true;
		}
	}
	return false;
}

static bool rst_out_of_line(const struct tcp_dir_stats *st)
{
	if (!st->rst_frame || st->packets <= st->rsts || !st->ttl_first)
		return false;
	return (int)st->rst_ttl + DIAG_TTL_TOLERANCE < (int)st->ttl_min ||
	       (int)st->rst_ttl > (int)st->ttl_max + DIAG_TTL_TOLERANCE;
}

/* Retransmissions with no delivered progress after them, at the end. */
static uint32_t trailing_retransmissions(const struct dctx *d, uint64_t *first_frame, sl_time *first_ts)
{
	const struct timeline *tl = d->s->tl;
	uint32_t n = 0;
	if (!tl)
		return 0;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_RETRANSMISSION) {
			n++;
			*first_frame = e->frame;
			*first_ts = e->ts;
		} else if (e->kind == EV_FIN || e->kind == EV_RST || e->kind == EV_KEEPALIVE ||
			   e->kind == EV_ZERO_WINDOW || e->kind == EV_NOTE) {
			continue;
		} else {
			break;
		}
	}
	return n;
}

static const struct event *find_ehlo_reply(const struct dctx *d)
{
	const struct timeline *tl = d->s->tl;
	if (!tl)
		return NULL;
	bool after_ehlo = false;
	const struct event *best = NULL;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_COMMAND && e->dir == DIR_C2S)
			after_ehlo = diag_ci_contains(e->text, "ehlo") && (e->text[0] == 'E' || e->text[0] == 'e');
		else if (e->kind == EV_REPLY && after_ehlo && e->code == 250) {
			best = e;
			after_ehlo = false;
		}
	}
	return best;
}

/* Explains the three sizes: advertised, declared, sent. */
static void size_facts(struct dctx *d, const struct smtp_message *m)
{
	const struct smtp_facts *f = d->f;
	if (f->has_size_limit && f->size_limit)
		EXPLAIN(d, " The server advertised SIZE %" PRIu64 ".", f->size_limit);
	else if (f->has_size_limit)
		EXPLAIN(d, " The server advertised SIZE without a limit.");
	else
		EXPLAIN(d, " The server did not advertise a SIZE limit.");
	if (m && m->has_declared_size)
		EXPLAIN(d, " The client declared SIZE=%" PRIu64 " on MAIL FROM.", m->declared_size);
	if (m && m->data_started)
		EXPLAIN(d, " %" PRIu64 " body bytes were sent%s.", m->wire_bytes,
			m->data_complete ? " (complete)" : " before the end");
	const struct event *e = find_ehlo_reply(d);
	if (e && f->has_size_limit)
		evidence(d, e->frame, e->ts, "EHLO reply advertises SIZE %" PRIu64, f->size_limit);
	if (m && m->has_declared_size && m->first_frame)
		evidence(d, m->first_frame, m->start_ts, "MAIL FROM declares SIZE=%" PRIu64, m->declared_size);
}

/* ---- the rules ---- */

static bool rule_tcp(struct dctx *d)
{
	const struct flow_info *fi = d->fi;
	const struct tcp_dir_stats *c = &fi->dir[DIR_C2S], *s = &fi->dir[DIR_S2C];
	char b[32];
	if (fi->refused) {
		set_cause(d, CAUSE_CONNECTION_REFUSED, CONF_HIGH);
		d->v->phase = PH_CONNECT;
		d->v->closed_by = BY_SERVER;
		d->v->close = CLOSE_RST;
		EXPLAIN(d, "The server answered the SYN with a RST %s later: nothing listens on port %u of %s, or a firewall rejects the connection.",
			dur(s->rst_ts - c->first_ts, b, sizeof(b)), fi->server_port, "the server");
		evidence(d, c->first_frame, c->first_ts, "SYN from the client");
		evidence(d, s->rst_frame, s->rst_ts, "RST from the server in answer to the SYN");
		advise(d, "Server side: start the SMTP service on this port or open the firewall; client side: check the host name and port.");
		return true;
	}
	if (s->packets)
		return false;
	if (c->bytes) {
		/* The client spoke, so a handshake happened that the capture did not see. */
		set_cause(d, CAUSE_CAPTURE_INCOMPLETE, CONF_MEDIUM);
		set_closer(d);
		EXPLAIN(d, "Only the client's side of the connection is in the capture (%" PRIu64 " bytes from the client, none from the server): the server's replies and its close cannot be known (asymmetric routing or a one-sided capture).",
			c->bytes);
		if (d->f->last_cmd)
			EXPLAIN(d, " The client's last command was %s.", verdict_cmd_name(d->f->last_cmd));
		say_closer(d);
		close_evidence(d);
		advise(d, "Capture both directions of the traffic (same interface for both routes, or a tap that sees both).");
		return true;
	}
	if (!fi->syn_seen && !c->packets)
		return false;
	set_cause(d, CAUSE_UNANSWERED, c->syns >= 2 || d->s->end == END_IDLE ? CONF_HIGH : CONF_MEDIUM);
	d->v->phase = PH_CONNECT;
	set_closer(d);
	if (d->v->closed_by == BY_NOBODY)
		d->v->closed_by = BY_NOBODY;
	EXPLAIN(d, "The client sent %u SYN%s over %s and the server never answered: the host is down, or a firewall drops the traffic.",
		c->syns ? c->syns : 1, c->syns > 1 ? "s" : "", dur(c->last_ts - c->first_ts, b, sizeof(b)));
	if (c->syns <= 1 && d->s->end == END_CAPTURE_END)
		EXPLAIN(d, " Only one SYN was seen before the capture ended, so the capture may also have been cut early.");
	const struct timeline *tl = d->s->tl;
	for (uint32_t i = 0; tl && i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_SYN)
			evidence(d, e->frame, e->ts, "SYN from the client (attempt %" PRIu64 ")", e->num ? e->num : 1);
	}
	if (!d->v->n_ev)
		evidence(d, c->first_frame, c->first_ts, "SYN from the client");
	advise(d, "Check that the server is up and reachable: routing, firewalls (the port may be filtered, often port 25 by the ISP), DNS/MX records pointing at the right host.");
	return true;
}

static bool rule_completed_quit(struct dctx *d, bool have_decisive)
{
	const struct smtp_facts *f = d->f;
	if (!ok2(f->quit_reply.code) || have_decisive)
		return false;
	set_cause(d, CAUSE_COMPLETED, CONF_HIGH);
	set_closer(d);
	d->v->phase = PH_QUIT;
	uint32_t ok = 0;
	for (uint32_t i = 0; i < SL_MIN(f->n_msgs, SMTP_MAX_MESSAGES); i++)
		if (ok2(f->msgs[i].final_reply.code))
			ok++;
	EXPLAIN(d, "The session ended normally: %u message%s accepted, then QUIT answered %u.", ok,
		ok == 1 ? "" : "s", f->quit_reply.code);
	if (f->quit_reply.code != 221)
		EXPLAIN(d, " (%u instead of 221 is non-standard but harmless.)", f->quit_reply.code);
	say_closer(d);
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	if (c->rst_frame || s->rst_frame)
		EXPLAIN(d, " The RST%s after the 221 %s an abortive close of a finished session, not an error.",
			c->rst_frame && s->rst_frame ? "s" : "", c->rst_frame && s->rst_frame ? "are" : "is");
	reply_evidence(d, &f->quit_reply, "QUIT answered");
	close_evidence(d);
	advise(d, "Nothing to change.");
	return true;
}

static void decisive_verdict(struct dctx *d, const struct smtp_reply *r, const struct reply_reading *rd)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = last_msg(f);
	char b[32];
	set_cause(d, rd->cause, rd->conf);
	set_reply(d, r);
	set_closer(d);
	d->v->phase = phase_of_cmd(d, r->answers, m && m->bdat);
	if (r->code)
		EXPLAIN(d, "The server answered %s with %u%s%s: %s.",
			r->answers == CMD_CONNECT ? "the connection (greeting)" : verdict_cmd_name(r->answers),
			r->code, r->enhanced[0] ? " " : "", r->enhanced, rd->what);
	else
		EXPLAIN(d, "The server sent a reply line without a numeric code (enhanced code %s) after %s: %s.",
			r->enhanced, verdict_cmd_name(r->answers), rd->what);
	if (r->text[0])
		EXPLAIN(d, " Its text: \"%.200s\".", r->text);
	switch (rd->cause) {
	case CAUSE_SIZE_LIMIT:
		size_facts(d, m);
		break;
	case CAUSE_IDLE_TIMEOUT: {
		sl_time last = d->fi->dir[DIR_C2S].last_payload_ts;
		if (last && r->ts > last) {
			EXPLAIN(d, " The client had been silent for %s before it.", dur(r->ts - last, b, sizeof(b)));
			evidence(d, d->fi->dir[DIR_C2S].last_payload_frame, last, "last data from the client");
		}
		break;
	}
	case CAUSE_TOO_MANY_ERRORS:
		if (f->replies_4xx + f->replies_5xx > 1)
			EXPLAIN(d, " The server had sent %u error replies (%u in a row at the end).",
				f->replies_4xx + f->replies_5xx, f->consecutive_errors);
		break;
	case CAUSE_AUTH_FAILED:
		if (f->auth_mech[0])
			EXPLAIN(d, " Mechanism %s, %u attempt%s, %u refused.", f->auth_mech, f->auth_attempts,
				f->auth_attempts == 1 ? "" : "s", f->auth_failures);
		if (r->code == 503 && !(f->ext & SMTP_EXT_AUTH))
			EXPLAIN(d, " The server had not advertised AUTH in its EHLO reply.");
		break;
	default:
		break;
	}
	if (d->first.dir >= 0) {
		if (d->first.ts >= r->ts)
			EXPLAIN(d, " Then the %s closed the connection with %s %s later%s.", side(d->first.dir),
				d->first.rst ? "a RST" : "a FIN", dur(d->first.ts - r->ts, b, sizeof(b)),
				f->quit_sent && d->first.dir == DIR_C2S ? " (after a polite QUIT)" : "");
		else
			say_closer(d);
	} else {
		EXPLAIN(d, " Neither side closed the connection before the capture ended.");
	}
	reply_evidence(d, r, r->code ? "decisive reply" : "decisive reply (no numeric code)");
	close_evidence(d);
	advise(d, rd->advice);
}

static bool rule_syntax_then_close(struct dctx *d, const struct smtp_reply *r)
{
	if (!r->code || d->first.dir != DIR_S2C || d->first.ts < r->ts)
		return false;
	/* The server closed after a syntax error without answering anything
	 * newer: it ended the session because of the bad command(s). */
	if (d->f->last_reply.ts > r->ts && d->f->last_reply.code < 400)
		return false;
	struct reply_reading rd = {
		RC_CAUSE, CAUSE_TOO_MANY_ERRORS, CONF_MEDIUM,
		"a bad command, after which the server closed the connection",
		"Client side: fix the command the server rejected (see the reply) and wait for replies unless PIPELINING is offered."
	};
	if (r->code == 421 || r->code == 521 || d->f->consecutive_errors >= 3)
		rd.conf = CONF_HIGH;
	decisive_verdict(d, r, &rd);
	return true;
}

static bool rule_no_greeting(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *s = &d->fi->dir[DIR_S2C];
	char b[32];
	if (f->greeting.code || s->bytes || f->implicit_tls || !d->fi->synack_seen)
		return false;
	if (d->first.dir != DIR_S2C)
		return false;
	sl_time after = d->first.ts - (d->fi->dir[DIR_S2C].first_ts ? d->fi->dir[DIR_S2C].first_ts : d->fi->first_ts);
	set_cause(d, CAUSE_IP_FILTERED, after <= DIAG_QUICK_CLOSE ? CONF_MEDIUM : CONF_LOW);
	set_closer(d);
	d->v->phase = PH_CONNECT;
	EXPLAIN(d, "The server accepted the TCP connection and closed it with %s %s later without sending any greeting: it refuses this client (address filter, blocklist, tarpit or connection limit) before SMTP begins.",
		d->first.rst ? "a RST" : "a FIN", dur(after, b, sizeof(b)));
	if (d->fi->dir[DIR_C2S].bytes)
		EXPLAIN(d, " The client still sent %" PRIu64 " bytes, which the server's stack answered as a closed socket.",
			d->fi->dir[DIR_C2S].bytes);
	evidence(d, s->first_frame, s->first_ts, "SYN-ACK from the server (connection accepted)");
	close_evidence(d);
	advise(d, "Server side: check connection-level filters (firewall rules, postscreen or a DNSBL check at connect, per-address limits); client side: send from an address with a good reputation or through the provider's relay.");
	return true;
}

static bool tls_mismatch(const struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (f->tls.plaintext_after_tls)
		return true;
	if (d->s->tl && tl_last(d->s->tl, EV_TLS_MISMATCH, -1))
		return true;
	return (f->implicit_tls || f->tls.client_hello) && f->starttls == STLS_NONE && f->greeting.code;
}

static bool rule_tls(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tls_facts *t = &f->tls;
	char b[32], b2[32];
	if (tls_mismatch(d)) {
		set_cause(d, CAUSE_TLS_FAILED, d->first.dir >= 0 ? CONF_HIGH : CONF_MEDIUM);
		set_closer(d);
		d->v->phase = f->starttls != STLS_NONE ? PH_STARTTLS : PH_TLS;
		if (f->starttls == STLS_NONE && f->greeting.code) {
			EXPLAIN(d, "TLS/plaintext mismatch: the client started TLS at once (implicit TLS, as on port 465) but the server on port %u speaks plaintext SMTP and sent a %u greeting.",
				d->fi->server_port, f->greeting.code);
			reply_evidence(d, &f->greeting, "plaintext greeting");
		} else {
			EXPLAIN(d, "TLS/plaintext mismatch: the %s sent plaintext where TLS was due.",
				t->plaintext_after_tls ? side(t->plaintext_dir) : "one side");
		}
		if (t->client_hello_frame)
			evidence(d, t->client_hello_frame, 0, "TLS ClientHello from the client");
		if (t->plaintext_frame)
			evidence(d, t->plaintext_frame, 0, "plaintext from the %s where TLS was due", side(t->plaintext_dir));
		say_closer(d);
		close_evidence(d);
		advise(d, "Use implicit TLS only against a port that expects it (465), or STARTTLS on 25/587; fix the client's security setting (SSL/TLS vs STARTTLS) to match the port.");
		return true;
	}
	if (f->starttls != STLS_ACCEPTED && !f->implicit_tls)
		return false;
	d->v->phase = PH_TLS;
	if (t->alert && !t->handshake_done) {
		set_cause(d, CAUSE_TLS_FAILED, CONF_HIGH);
		set_closer(d);
		d->v->phase = PH_STARTTLS;
		EXPLAIN(d, "The TLS handshake failed: the %s sent alert %u (%s, level %s).", side(t->alert_dir),
			t->alert_desc, tls_alert_name_safe(t->alert_desc), t->alert_level == 2 ? "fatal" : "warning");
		evidence(d, t->alert_frame, 0, "TLS alert %u from the %s", t->alert_desc, side(t->alert_dir));
		say_closer(d);
		close_evidence(d);
		advise(d, "Check TLS on both sides: the alert names the problem (certificate unknown or expired, no shared cipher or protocol version).");
		return true;
	}
	bool in_tls = t->handshake_done || (t->appdata_records[0] && t->appdata_records[1]);
	if (in_tls) {
		if (d->first.dir < 0 && d->s->end == END_CAPTURE_END)
			return false;   /* capture_incomplete says more */
		set_cause(d, CAUSE_ENCRYPTED, CONF_MEDIUM);
		set_closer(d);
		const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
		EXPLAIN(d, "The session went into TLS%s and ended there, so the reason is hidden by encryption. Application data: %" PRIu64 " bytes from the client, %" PRIu64 " from the server; the session lasted %s.",
			f->starttls == STLS_ACCEPTED ? " after STARTTLS" : "", t->appdata_bytes[0], t->appdata_bytes[1],
			dur(d->fi->last_ts - d->fi->first_ts, b, sizeof(b)));
		if (t->appdata_bytes[0] > 4096)
			EXPLAIN(d, " The client sent enough encrypted data to have submitted a message.");
		if (d->first.dir >= 0) {
			sl_time last = SL_MAX(c->last_payload_ts, s->last_payload_ts);
			EXPLAIN(d, " The %s closed first with %s, %s after the last data.", side(d->first.dir),
				d->first.rst ? "a RST" : "a FIN", dur(d->first.ts - last, b2, sizeof(b2)));
		}
		if (f->starttls_reply.frame)
			reply_evidence(d, &f->starttls_reply, "STARTTLS accepted");
		if (t->first_appdata_frame[0])
			evidence(d, t->first_appdata_frame[0], 0, "first encrypted data from the client");
		close_evidence(d);
		advise(d, "To see the reason, capture with the TLS keys (SSLKEYLOGFILE) or read the server's log for this session.");
		return true;
	}
	if (d->first.dir < 0)
		return false;
	set_cause(d, CAUSE_TLS_FAILED, CONF_MEDIUM);
	set_closer(d);
	d->v->phase = PH_STARTTLS;
	EXPLAIN(d, "The connection closed during the TLS handshake%s, before any encrypted data flowed both ways.",
		t->client_hello ? (t->server_hello ? " (hellos exchanged)" : " (ClientHello sent, no ServerHello)") : " (no ClientHello)");
	if (t->client_hello_frame)
		evidence(d, t->client_hello_frame, 0, "TLS ClientHello");
	say_closer(d);
	close_evidence(d);
	advise(d, "Check TLS on both sides (certificates, versions, cipher suites); the side that closed rejected the handshake.");
	return true;
}

static bool rule_size_close(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = last_msg(f);
	if (!m || d->first.dir != DIR_S2C || !f->has_size_limit || !f->size_limit)
		return false;
	bool over_sent = m->data_started && m->wire_bytes > f->size_limit;
	bool over_declared = m->has_declared_size && m->declared_size > f->size_limit;
	if (!(over_sent || over_declared) || (m->final_reply.code && ok2(m->final_reply.code)))
		return false;
	set_cause(d, CAUSE_SIZE_LIMIT, over_sent ? CONF_HIGH : CONF_MEDIUM);
	set_closer(d);
	d->v->phase = m->bdat ? PH_BDAT : (m->data_started ? PH_DATA : PH_MAIL);
	EXPLAIN(d, "The server %s the connection %s without a reply, after the message went over its size limit.",
		d->first.rst ? "reset" : "closed", m->data_started ? "during the message body" : "after MAIL FROM");
	size_facts(d, m);
	EXPLAIN(d, " Servers that cut oversize messages this way show the client only \"connection closed\".");
	close_evidence(d);
	advise(d, "Client side: send a smaller message (within the advertised SIZE); server side: raise the limit, or answer 552 5.3.4 instead of cutting the connection so clients can tell why.");
	return true;
}

static void where_it_stopped(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = last_msg(f);
	char b[32];
	if (f->in_body && m)
		EXPLAIN(d, " It was inside the DATA body after %" PRIu64 " bytes (%" PRIu64 " KB).", m->wire_bytes,
			m->wire_bytes / 1024);
	else if (f->pending)
		EXPLAIN(d, " %u command%s still awaited a reply (last: %s).", f->pending, f->pending == 1 ? "" : "s",
			verdict_cmd_name(f->last_cmd));
	else if (f->last_reply.code)
		EXPLAIN(d, " The last reply was %u to %s.", f->last_reply.code, verdict_cmd_name(f->last_reply.answers));
	sl_time last = SL_MAX(d->fi->dir[0].last_ts, d->fi->dir[1].last_ts);
	if (d->s->capture_end > last)
		EXPLAIN(d, " The capture went on for %s after the flow's last packet.", dur(d->s->capture_end - last, b, sizeof(b)));
}

static bool rule_capture_incomplete(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	bool open_at_end = d->first.dir < 0 && d->s->end == END_CAPTURE_END;
	bool unreadable = !f->is_smtp && (c->gaps || s->gaps || (d->s->tl && tl_last(d->s->tl, EV_TRUNCATED, -1)));
	if (!open_at_end && !unreadable)
		return false;
	set_cause(d, CAUSE_CAPTURE_INCOMPLETE, open_at_end ? CONF_HIGH : CONF_MEDIUM);
	set_closer(d);
	if (open_at_end) {
		EXPLAIN(d, "The connection was still open when the capture ended, in phase %s; how it ended is not in the capture.",
			verdict_phase_name(d->v->phase));
		where_it_stopped(d);
		evidence(d, d->fi->last_frame, d->fi->last_ts, "last packet of the flow; no FIN or RST follows");
	} else {
		EXPLAIN(d, "The capture lost the session's content (%" PRIu64 " bytes missing in gaps, or payloads cut by the snapshot length), so the dialog cannot be read.",
			c->gap_bytes + s->gap_bytes);
		say_closer(d);
		close_evidence(d);
	}
	advise(d, "Capture longer (until both FINs) and with a full snapshot length (-s 0) to see the ending.");
	return true;
}

static bool rule_middlebox(struct dctx *d)
{
	if (d->first.dir < 0 || !d->first.rst)
		return false;
	const struct tcp_dir_stats *st = &d->fi->dir[d->first.dir];
	if (!rst_out_of_line(st))
		return false;
	set_cause(d, CAUSE_MIDDLEBOX_RESET, CONF_MEDIUM);
	d->v->closed_by = BY_MIDDLEBOX;
	d->v->close = CLOSE_RST;
	EXPLAIN(d, "A RST claiming to come from the %s ended the connection, but its TTL (%u) is out of line with the %s's other packets (TTL %u..%u): a firewall, IPS or load balancer on the path most likely injected it.",
		side(d->first.dir), st->rst_ttl, side(d->first.dir), st->ttl_min, st->ttl_max);
	if (st->ip_id_zero && st->rst_ip_id)
		EXPLAIN(d, " Its IP ID (%u) also differs from the side's usual 0.", st->rst_ip_id);
	where_it_stopped(d);
	evidence(d, st->rst_frame, st->rst_ts, "RST with TTL %u (the %s's packets have TTL %u..%u)", st->rst_ttl,
		 side(d->first.dir), st->ttl_min, st->ttl_max);
	advise(d, "Check firewalls, IPS/anti-spam appliances and load balancers between the two hosts (SMTP inspection / fixup features often reset sessions).");
	return true;
}

static bool rule_network(struct dctx *d)
{
	uint64_t fr = 0;
	sl_time ts = 0;
	char b[32];
	uint32_t n = trailing_retransmissions(d, &fr, &ts);
	bool silent_end = d->first.dir < 0 && d->s->end == END_IDLE;
	if (n < DIAG_STALL_RETRANS && !(silent_end && n))
		return false;
	if (d->first.dir >= 0 && !d->first.rst)
		return false;   /* a FIN is an orderly decision, not a stall */
	set_cause(d, CAUSE_NETWORK_FAILURE, n >= DIAG_STALL_RETRANS ? CONF_MEDIUM : CONF_LOW);
	set_closer(d);
	EXPLAIN(d, "The last %u segments were retransmissions with no progress (from %s on, over %s), then %s: packets stopped getting through.",
		n, "frame", dur(d->fi->last_ts - ts, b, sizeof(b)),
		d->first.dir >= 0 ? "a reset" : "silence");
	evidence(d, fr, ts, "first of %u trailing retransmissions", n);
	close_evidence(d);
	advise(d, "Check the network path between the hosts: packet loss, MTU/fragmentation problems (try lowering the MTU/MSS), a failing link or a stateful firewall dropping the flow.");
	return true;
}

static bool rule_server_closed(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S];
	char b[32], b2[32];
	if (d->first.dir != DIR_S2C)
		return false;
	set_closer(d);
	bool clients_turn = !f->pending;
	if (clients_turn) {
		sl_time last = c->last_payload_ts ? c->last_payload_ts : c->first_ts;
		uint64_t last_fr = c->last_payload_ts ? c->last_payload_frame : c->first_frame;
		/* If the server spoke last, the client's silence runs from then. */
		if (f->last_s2c_ts > last && !f->in_body)
			last = SL_MAX(last, f->last_s2c_ts);
		sl_time silence = d->first.ts - last;
		enum confidence conf = silence >= d->cfg->idle_threshold ? CONF_HIGH
				       : silence >= d->cfg->idle_threshold / 10 ? CONF_MEDIUM : CONF_LOW;
		set_cause(d, CAUSE_IDLE_TIMEOUT, conf);
		EXPLAIN(d, "It was the client's turn to speak%s and it stayed silent for %s; then the server closed the connection with %s, without a reply. The server gave up waiting (idle timeout; the idle threshold is %s).",
			f->in_body ? " (inside the message body)" : "", dur(silence, b, sizeof(b)),
			d->first.rst ? "a RST" : "a FIN", dur(d->cfg->idle_threshold, b2, sizeof(b2)));
		evidence(d, last_fr, c->last_payload_ts ? c->last_payload_ts : c->first_ts, "last data from the client");
		close_evidence(d);
		advise(d, ADV_TIMEOUT_TEXT);
		return true;
	}
	set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
	EXPLAIN(d, "The server closed the connection with %s while %u command%s (last: %s) still awaited its reply: it crashed, was restarted, or dropped the client without saying why.",
		d->first.rst ? "a RST" : "a FIN", f->pending, f->pending == 1 ? "" : "s", verdict_cmd_name(f->last_cmd));
	if (f->last_cmd_frame)
		evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s, never answered", verdict_cmd_name(f->last_cmd));
	close_evidence(d);
	advise(d, "Server side: read the server's log at this time (crash, restart, a filter that drops connections).");
	return true;
}

static bool rule_client_closed(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = last_msg(f);
	char b[32];
	if (d->first.dir != DIR_C2S)
		return false;
	set_closer(d);
	bool delivered = m && ok2(m->final_reply.code);
	if ((delivered || f->quit_sent) && !d->first.rst) {
		set_cause(d, CAUSE_COMPLETED, CONF_MEDIUM);
		if (delivered)
			EXPLAIN(d, "The message was accepted (%u) and the client then closed the connection with a FIN%s: an orderly end without the QUIT/221 exchange.",
				m->final_reply.code, f->quit_sent ? " after QUIT, without waiting for 221" : " without QUIT");
		else
			EXPLAIN(d, "The client sent QUIT and closed with a FIN without waiting for the 221: an orderly end%s.",
				f->n_msgs ? "" : " (no message was sent)");
		if (delivered)
			reply_evidence(d, &m->final_reply, "message accepted");
		close_evidence(d);
		advise(d, "Nothing to change (a client should send QUIT and wait for 221, but the mail was delivered).");
		return true;
	}
	if (d->s->capture_started_midstream)
		return false;
	set_cause(d, CAUSE_CLIENT_ABORT, d->first.rst ? CONF_HIGH : CONF_MEDIUM);
	sl_time since = d->first.ts - (f->last_s2c_ts ? f->last_s2c_ts : d->fi->first_ts);
	EXPLAIN(d, "The client closed the connection with %s in phase %s, without QUIT and with no refusal from the server before it (%s after the server's last data).",
		d->first.rst ? "a RST" : "a FIN", verdict_phase_name(d->v->phase), dur(since, b, sizeof(b)));
	if (f->replies_5xx + f->replies_4xx)
		EXPLAIN(d, " The server had answered %u error%s to bad or out-of-sequence commands.",
			f->replies_5xx + f->replies_4xx, f->replies_5xx + f->replies_4xx == 1 ? "" : "s");
	if (f->pending)
		EXPLAIN(d, " %u command%s had no reply yet: the client did not wait.", f->pending, f->pending == 1 ? "" : "s");
	if (f->auth_result == AUTH_ACCEPTED && !f->n_msgs)
		EXPLAIN(d, " It had authenticated successfully and sent no mail (a credential check or a scripted client).");
	close_evidence(d);
	advise(d, "Client side: look at the client's log or error message (it gave up on its own: local timeout, user cancel, crash, or a check that only tests the connection).");
	return true;
}

static bool rule_midstream(struct dctx *d)
{
	if (!d->s->capture_started_midstream && d->fi->roles_from_syn)
		return false;
	set_cause(d, CAUSE_CAPTURE_INCOMPLETE, CONF_MEDIUM);
	set_closer(d);
	EXPLAIN(d, "The capture started in the middle of this session (no SYN), so the start of the dialog is missing and the ending cannot be judged from what is left.");
	say_closer(d);
	evidence(d, d->fi->first_frame, d->fi->first_ts, "first packet of the flow (not a SYN)");
	close_evidence(d);
	advise(d, "Start the capture before the session opens.");
	return true;
}

void diagnose(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	struct diag_config defcfg;
	if (!cfg) {
		diag_config_default(&defcfg);
		cfg = &defcfg;
	}
	memset(v, 0, sizeof(*v));
	struct dctx d = { .s = s, .fi = s->fi, .f = s->smtp, .cfg = cfg, .v = v };
	d.rc.ext = d.f->ext;
	d.rc.starttls = d.f->starttls;
	d.rc.consecutive_errors = d.f->consecutive_errors;
	d.rc.unknown_commands = d.f->unknown_commands;
	v->cause = CAUSE_UNKNOWN;
	v->confidence = CONF_LOW;
	v->phase = d.f->phase;
	if (!d.f->greeting.code && !d.f->s2c_bytes && !d.f->implicit_tls && !d.fi->dir[DIR_S2C].bytes)
		v->phase = PH_CONNECT;
	find_first_close(&d);
	set_closer(&d);

	if (rule_tcp(&d))
		return;

	struct smtp_reply dec, syn;
	struct reply_reading rd;
	bool have = find_decisive(&d, &dec, &rd, &syn);
	if (!have && find_codeless_reply(&d, &dec)) {
		diag_classify_reply(&dec, &d.rc, &rd);
		have = rd.cls == RC_CAUSE;
	}
	if (rule_completed_quit(&d, have))
		return;
	if (have) {
		decisive_verdict(&d, &dec, &rd);
		return;
	}
	if (syn.code && rule_syntax_then_close(&d, &syn))
		return;
	if (rule_no_greeting(&d) || rule_tls(&d) || rule_size_close(&d) || rule_capture_incomplete(&d) ||
	    rule_middlebox(&d) || rule_network(&d) || rule_server_closed(&d) || rule_client_closed(&d) ||
	    rule_midstream(&d))
		return;

	/* Nothing fits. */
	set_cause(&d, CAUSE_UNKNOWN, CONF_LOW);
	set_closer(&d);
	if (d.first.dir < 0 && s->end == END_IDLE)
		EXPLAIN(&d, "Both sides fell silent and the flow timed out without a FIN or RST.");
	else
		EXPLAIN(&d, "No rule explains this ending.");
	where_it_stopped(&d);
	say_closer(&d);
	if (d.f->last_reply.frame)
		reply_evidence(&d, &d.f->last_reply, "last reply");
	close_evidence(&d);
	evidence(&d, d.fi->last_frame, d.fi->last_ts, "last packet of the flow");
	advise(&d, "Look at the transcript (--transcript) and the server's log for this session.");
}
