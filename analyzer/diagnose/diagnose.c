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
 * The TCP-level rules live in diag_tcp.c, the TLS ones in diag_tls.c, the
 * reading of one reply in diag_reply.c.
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

#include "diag_int.h"
#include "diag_reply.h"

#define ADV_TIMEOUT_TEXT "Client side: the client left the session idle (it should send QUIT when done, or its own timeout is longer than the server's); server side: raise the idle timeout if slow clients are legitimate."

void diag_config_default(struct diag_config *cfg)
{
	cfg->idle_threshold = (sl_time)DIAG_DEFAULT_IDLE_THRESHOLD_S * NS_PER_SEC;
}

/* ---- verdict writing helpers ---- */

void diag_appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	if (n + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

void diag_advise(struct dctx *d, const char *a)
{
	snprintf(d->v->advice, sizeof(d->v->advice), "%s", a ? a : "");
}

void diag_evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...)
{
	struct verdict *v = d->v;
	if (v->n_ev >= VERDICT_MAX_EVIDENCE)
		return;
	char text[EVIDENCE_TEXT_MAX] = "";     /* zero-filled: the verdict stays byte-for-byte deterministic */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One line per frame is enough when a rule cites the same fact twice
	 * (the same reply as decisive and as context). */
	for (uint32_t i = 0; i < v->n_ev; i++)
		if (frame && v->ev[i].frame == frame && strcmp(v->ev[i].text, text) == 0)
			return;
	if (!ts && frame && d->s->tl) {
		/* Facts that keep only a frame (TLS): take its time from the timeline. */
		for (uint32_t i = 0; i < tl_count(d->s->tl) && !ts; i++)
			if (tl_at(d->s->tl, i)->frame == frame)
				ts = tl_at(d->s->tl, i)->ts;
	}
	struct evidence *e = &v->ev[v->n_ev++];
	e->frame = frame;
	e->ts = ts;
	memcpy(e->text, text, sizeof(e->text));
}

/* "30.0 s", "2.50 s", "250 ms", "1.2 ms", "200 µs", "under 1 µs" (the
 * capture's own resolution: two packets in one microsecond show as 0) */
const char *diag_dur(sl_time ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	if (ns >= 10 * NS_PER_SEC)
		snprintf(buf, len, "%.1f s", (double)ns / NS_PER_SEC);
	else if (ns >= NS_PER_SEC)
		snprintf(buf, len, "%.2f s", (double)ns / NS_PER_SEC);
	else if (ns >= 10 * NS_PER_MS)
		snprintf(buf, len, "%.0f ms", (double)ns / NS_PER_MS);
	else if (ns >= NS_PER_MS)
		snprintf(buf, len, "%.1f ms", (double)ns / NS_PER_MS);
	else if (ns >= NS_PER_USEC)
		snprintf(buf, len, "%.0f \u00b5s", (double)ns / NS_PER_USEC);
	else
		snprintf(buf, len, "under 1 \u00b5s");
	return buf;
}

const char *diag_side(int dir)
{
	return dir == DIR_C2S ? "client" : "server";
}

void diag_set_cause(struct dctx *d, enum cause c, enum confidence conf)
{
	d->v->cause = c;
	d->v->confidence = conf;
}

void diag_set_reply(struct dctx *d, const struct smtp_reply *r)
{
	struct verdict *v = d->v;
	v->has_reply = true;
	v->reply_code = r->code;
	snprintf(v->reply_enhanced, sizeof(v->reply_enhanced), "%s", r->enhanced);
	snprintf(v->reply_text, sizeof(v->reply_text), "%s", r->text);
}

void diag_reply_evidence(struct dctx *d, const struct smtp_reply *r, const char *label)
{
	char code[24] = "";
	if (r->code && r->enhanced[0])
		snprintf(code, sizeof(code), "%u %s", r->code, r->enhanced);
	else if (r->code)
		snprintf(code, sizeof(code), "%u", r->code);
	else
		snprintf(code, sizeof(code), "%s", r->enhanced);
	diag_evidence(d, r->frame, r->ts, "%s %s %.150s", label, code, r->text);
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

void diag_close_evidence(struct dctx *d)
{
	for (int dir = 0; dir < 2; dir++) {
		const struct tcp_dir_stats *st = &d->fi->dir[dir];
		if (st->fin_frame)
			diag_evidence(d, st->fin_frame, st->fin_ts, "FIN from the %s%s", diag_side(dir),
				 d->first.dir == dir && !d->first.rst ? " (first close)" : "");
		if (st->rst_frame) {
			bool after_peer = d->first.dir >= 0 && d->first.dir != dir && d->first.frame < st->rst_frame;
			diag_evidence(d, st->rst_frame, st->rst_ts, "RST from the %s%s", diag_side(dir),
				 d->first.dir == dir && d->first.rst ? " (first close)"
				 : after_peer ? " (abortive close after the peer's close)" : "");
		}
	}
}

/* How the verdict says who closed: first FIN/RST; nobody when none. */
void diag_set_closer(struct dctx *d)
{
	if (d->first.dir < 0) {
		d->v->closed_by = BY_NOBODY;
		d->v->close = CLOSE_NONE;
		return;
	}
	d->v->closed_by = d->first.dir == DIR_C2S ? BY_CLIENT : BY_SERVER;
	d->v->close = d->first.rst ? CLOSE_RST : CLOSE_FIN;
}

void diag_say_closer(struct dctx *d)
{
	char b[32];
	if (d->first.dir < 0) {
		EXPLAIN(d, " Neither side closed the connection in the capture.");
		return;
	}
	/* The frame is in the evidence (with its file when several were read). */
	EXPLAIN(d, " The %s closed the connection first with %s (%s after the session began).",
		diag_side(d->first.dir), d->first.rst ? "a RST" : "a FIN",
		diag_dur(d->first.ts - d->fi->first_ts, b, sizeof(b)));
}

/* A command in words, for explanations. */
static const char *cmd_phrase(enum smtp_cmd c)
{
	switch (c) {
	case CMD_BODY_END: return "the end of the message data";
	case CMD_CONNECT: return "the connection (greeting)";
	case CMD_AUTH_DATA: return "the AUTH exchange";
	case CMD_NONE: return "nothing";
	case CMD_UNKNOWN: return "an unknown command";
	default: return verdict_cmd_name(c);
	}
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

const struct smtp_message *diag_last_msg(const struct smtp_facts *f)
{
	uint32_t kept = smtp_msgs_kept(f);
	return kept ? &f->msgs[kept - 1] : NULL;
}

bool diag_ok2(uint16_t code)
{
	return code >= 200 && code < 300;
}

/* a came after b: by time, then by frame (replies in one segment share
 * both, and are then not ordered: pipelined 250/550 must not supersede). */
static bool after(const struct smtp_reply *a, const struct smtp_reply *b)
{
	return a->ts > b->ts || (a->ts == b->ts && a->frame > b->frame);
}

/* True when the dialog got past reply r: a later success of the same step
 * or a later delivered message (so r is not why the session ended). */
static bool superseded(const struct dctx *d, const struct smtp_reply *r)
{
	const struct smtp_facts *f = d->f;
	if (r->code == 421 || r->answers == CMD_CONNECT)
		return false;   /* 421 closes; a refused greeting is final */
	uint32_t n = smtp_msgs_kept(f);
	for (uint32_t i = 0; i < n; i++) {
		const struct smtp_message *m = &f->msgs[i];
		if (diag_ok2(m->final_reply.code) && after(&m->final_reply, r))
			return true;
		if (r->answers == CMD_MAIL || r->answers == CMD_RCPT || r->answers == CMD_DATA ||
		    r->answers == CMD_BODY_END || r->answers == CMD_BDAT) {
			if (diag_ok2(m->mail_reply.code) && after(&m->mail_reply, r))
				return true;
			if (m->data_reply.code == 354 && after(&m->data_reply, r))
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
		return diag_ok2(f->last_reply.code) && after(&f->last_reply, r) &&
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
	const struct smtp_reply *cand[4 + 3 * SMTP_MAX_MESSAGES];
	size_t nc = 0;
	cand[nc++] = &f->last_error;
	cand[nc++] = &f->greeting;
	cand[nc++] = &f->starttls_reply;
	cand[nc++] = &f->last_reply;     /* a 221 to a command other than QUIT */
	for (uint32_t i = 0; i < smtp_msgs_kept(f); i++) {
		cand[nc++] = &f->msgs[i].mail_reply;
		cand[nc++] = &f->msgs[i].data_reply;
		cand[nc++] = &f->msgs[i].final_reply;
	}
	bool found = false, greeting_refused = false;
	syntax->code = 0;
	syntax->ts = 0;
	for (size_t i = 0; i < nc && !greeting_refused; i++) {
		const struct smtp_reply *r = cand[i];
		if ((r->code < 400 || r->code > 599) && r->code != 221)
			continue;
		struct reply_reading rr;
		diag_read_reply(d, r, &rr);
		if (rr.cls == RC_NONE || superseded(d, r))
			continue;
		if (rr.cls == RC_SYNTAX) {
			if (!syntax->code || r->ts > syntax->ts)
				*syntax = *r;
			continue;
		}
		/* A refused greeting decides whatever follows: the server then
		 * answers every command with an error (RFC 5321 3.1: 503 after a
		 * 554 greeting; Postfix with smtpd_delay_reject = no: "503 5.7.0
		 * Error: access denied"), consequences of the greeting. */
		if (!found || r->ts > out->ts || r->answers == CMD_CONNECT) {
			*out = *r;
			*rd = rr;
			found = true;
			greeting_refused = r->answers == CMD_CONNECT;
		}
	}
	return found;
}

/* When every RCPT of the last message was refused, a pipelining server
 * answers the DATA with a consequence ("554 5.5.1 no valid recipients");
 * the real refusal is the RCPT's, whose text only the timeline keeps: the
 * newest reply with the last RCPT's code before the DATA error. */
static bool rcpt_refusal(const struct dctx *d, const struct smtp_reply *err, struct smtp_reply *out)
{
	const struct smtp_message *m = diag_last_msg(d->f);
	const struct timeline *tl = d->s->tl;
	if (!m || !tl || !m->rcpts || m->rcpts_accepted || (err->answers != CMD_DATA && err->answers != CMD_BDAT))
		return false;
	uint16_t code = m->rcpt_codes[SL_MIN(m->rcpts, SMTP_MAX_RCPTS) - 1];
	if (code < 400 || code > 599)
		return false;
	bool passed_err = false;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind != EV_REPLY || e->dir != DIR_S2C)
			continue;
		if (!passed_err) {
			passed_err = e->code == err->code && e->frame == err->frame;
			continue;
		}
		if (e->code != code)
			continue;
		memset(out, 0, sizeof(*out));
		out->code = e->code;
		snprintf(out->enhanced, sizeof(out->enhanced), "%s", e->enhanced);
		snprintf(out->text, sizeof(out->text), "%s", e->text);
		out->answers = CMD_RCPT;
		out->frame = e->frame;
		out->ts = e->ts;
		return true;
	}
	return false;
}

/* A demand that follows a failed attempt is a consequence of it: "530
 * authentication required" after a refused AUTH is an AUTH failure, "530
 * must issue STARTTLS" after a refused STARTTLS is a TLS failure. Returns
 * the earlier reply to read instead. */
static bool root_refusal(const struct dctx *d, const struct reply_reading *rd, const struct smtp_reply *dec,
			 struct smtp_reply *out)
{
	const struct smtp_facts *f = d->f;
	if (rd->cause == CAUSE_TLS_REQUIRED && f->starttls == STLS_REFUSED && f->starttls_reply.code &&
	    after(dec, &f->starttls_reply)) {
		*out = f->starttls_reply;
		out->answers = CMD_STARTTLS;
		return true;
	}
	/* ... and a "too many errors" disconnect after repeated refused AUTHs
	 * is the credentials' failure too. */
	bool after_auth = rd->cause == CAUSE_AUTH_REQUIRED ||
			  (rd->cause == CAUSE_TOO_MANY_ERRORS && f->auth_failures >= 2);
	/* The client may have sent one more AUTH that the server never answered
	 * because it hung up (Postfix's 421 ... too many errors after the second
	 * refusal with smtpd_hard_error_limit = 2): still refusals before it. */
	bool unanswered_retry = rd->cause == CAUSE_TOO_MANY_ERRORS && f->auth_result == AUTH_PENDING;
	if (!after_auth || (f->auth_result != AUTH_REFUSED && !unanswered_retry) || !f->auth_failures || !d->s->tl)
		return false;
	const struct timeline *tl = d->s->tl;
	uint16_t code = f->auth_result == AUTH_REFUSED ? f->auth_code : 0;
	if (!code || code == dec->code) {
		/* The demand answered an AUTH itself (or the last AUTH got no
		 * answer): the refusal before it. */
		code = 0;
		for (uint32_t i = tl_count(tl); i-- > 0 && !code;) {
			const struct event *e = tl_at(tl, i);
			if (e->kind == EV_AUTH_RESULT && e->code >= 400 && e->code != dec->code &&
			    (e->ts < dec->ts || (e->ts == dec->ts && e->frame < dec->frame)))
				code = e->code;
		}
		if (!code)
			return false;
	}
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind != EV_REPLY || e->dir != DIR_S2C || e->code != code ||
		    e->ts > dec->ts || (e->ts == dec->ts && e->frame >= dec->frame))
			continue;
		memset(out, 0, sizeof(*out));
		out->code = e->code;
		snprintf(out->enhanced, sizeof(out->enhanced), "%s", e->enhanced);
		snprintf(out->text, sizeof(out->text), "%s", e->text);
		out->answers = CMD_AUTH;
		out->frame = e->frame;
		out->ts = e->ts;
		return true;
	}
	return false;
}

/* The command a reply at time ts most likely answered: the end of data when
 * a message was complete and unanswered, else the newest command before ts. */
static enum smtp_cmd pending_at(const struct dctx *d, sl_time ts)
{
	const struct smtp_message *m = diag_last_msg(d->f);
	if (m && m->data_complete && !m->final_reply.code && m->end_ts <= ts)
		return CMD_BODY_END;
	if (d->f->last_cmd_ts <= ts)
		return d->f->last_cmd;
	return m && m->data_complete && !m->final_reply.code ? CMD_BODY_END : CMD_NONE;
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
		bool note = e->kind == EV_NOTE && diag_ci_contains(e->text, "without a reply code");
		if ((e->kind == EV_REPLY || e->kind == EV_REPLY_UNPAIRED || e->kind == EV_NOT_SMTP || note) && !e->code) {
			char enh[12];
			const char *txt = e->text;
			const char *colon = note ? strstr(txt, ": ") : NULL;
			if (colon)
				txt = colon + 2;
			const char *at = txt;
			while (*at == ' ' || *at == '-')
				at++;
			if (!smtp_parse_enhanced((const uint8_t *)at, strlen(at), false, enh, sizeof(enh)) ||
			    enh[0] == '2') {
				if (!note)
					continue;
				/* The line's text is not kept: say what is known. */
				memset(out, 0, sizeof(*out));
				out->answers = pending_at(d, e->ts);
				out->frame = e->frame;
				out->ts = e->ts;
				return true;
			}
			memset(out, 0, sizeof(*out));
			snprintf(out->enhanced, sizeof(out->enhanced), "%s", enh);
			/* The text after the enhanced code, as for a coded reply. */
			const char *rest = txt;
			while (*rest == ' ' || *rest == '-')
				rest++;
			rest += strlen(enh);
			while (*rest == ' ')
				rest++;
			snprintf(out->text, sizeof(out->text), "%s", rest);
			out->answers = pending_at(d, e->ts);
			out->frame = e->frame;
			out->ts = e->ts;
			return true;
		}
	}
	return false;
}

uint32_t diag_trailing_retransmissions(const struct dctx *d, uint64_t *first_frame, sl_time *first_ts)
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
void diag_size_facts(struct dctx *d, const struct smtp_message *m)
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
		diag_evidence(d, e->frame, e->ts, "EHLO reply advertises SIZE %" PRIu64, f->size_limit);
	if (m && m->has_declared_size && m->first_frame)
		diag_evidence(d, m->first_frame, m->start_ts, "MAIL FROM declares SIZE=%" PRIu64, m->declared_size);
}

/* ---- the rules ---- */

/* The QUIT was answered positively: paired (221, or 250 from some Microsoft
 * servers), or a 221 the dissector could not pair (it lost the command in a
 * gap), or a 2xx as the last reply after a QUIT that was the last command. */
const struct smtp_reply *diag_quit_answer(const struct smtp_facts *f)
{
	if (diag_ok2(f->quit_reply.code))
		return &f->quit_reply;
	/* Unpaired (QUIT lost in a gap) or paired with QUIT; a 221 to another
	 * command is the server ending the session on it (diag_reply.c). */
	if (f->last_reply.code == 221 && (f->last_reply.answers == CMD_NONE || f->last_reply.answers == CMD_QUIT))
		return &f->last_reply;
	if (f->quit_sent && f->last_cmd == CMD_QUIT && diag_ok2(f->last_reply.code) && f->last_reply.ts >= f->last_cmd_ts)
		return &f->last_reply;
	return NULL;
}

static bool rule_completed_quit(struct dctx *d, bool have_decisive)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_reply *qr = diag_quit_answer(f);
	if (!qr || have_decisive)
		return false;
	diag_set_cause(d, CAUSE_COMPLETED, CONF_HIGH);
	diag_set_reply(d, qr);  /* the 221 is the reply that says it ended well */
	diag_set_closer(d);
	d->v->phase = PH_QUIT;
	uint32_t ok = 0;
	for (uint32_t i = 0; i < smtp_msgs_kept(f); i++)
		if (diag_ok2(f->msgs[i].final_reply.code))
			ok++;
	if (ok)
		EXPLAIN(d, "The session ended normally: %u message%s accepted, then QUIT answered %u.", ok,
			ok == 1 ? "" : "s", qr->code);
	else
		EXPLAIN(d, "The session ended normally: QUIT answered %u%s.", qr->code,
			f->n_msgs ? "" : " (no message was sent)");
	if (qr->code != 221)
		EXPLAIN(d, " (%u instead of 221 is non-standard but harmless.)", qr->code);
	if (qr != &f->quit_reply && qr->code == 221 && !f->quit_sent)
		EXPLAIN(d, " The QUIT itself was lost in a capture gap; the 221 shows it was sent.");
	diag_say_closer(d);
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	if (c->rst_frame || s->rst_frame)
		EXPLAIN(d, " The RST%s after the 221 %s an abortive close of a finished session, not an error.",
			c->rst_frame && s->rst_frame ? "s" : "", c->rst_frame && s->rst_frame ? "are" : "is");
	diag_reply_evidence(d, qr, "QUIT answered");
	diag_close_evidence(d);
	diag_advise(d, "Nothing to change.");
	return true;
}

static void decisive_verdict(struct dctx *d, const struct smtp_reply *r, const struct reply_reading *rd)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	char b[32];
	diag_set_cause(d, rd->cause, rd->conf);
	diag_set_reply(d, r);
	diag_set_closer(d);
	d->v->phase = phase_of_cmd(d, r->answers, m && m->bdat);
	if (r->code && r->answers == CMD_NONE)
		EXPLAIN(d, "The server sent %u%s%s without being asked (no command was waiting for a reply): %s.",
			r->code, r->enhanced[0] ? " " : "", r->enhanced, rd->what);
	else if (r->code)
		EXPLAIN(d, "The server answered %s with %u%s%s: %s.", cmd_phrase(r->answers),
			r->code, r->enhanced[0] ? " " : "", r->enhanced, rd->what);
	else if (r->enhanced[0])
		EXPLAIN(d, "The server sent a reply line without a numeric code (enhanced code %s) in answer to %s: %s.",
			r->enhanced, cmd_phrase(r->answers), rd->what);
	else
		EXPLAIN(d, "In answer to %s the server sent a line without a reply code, then hung up.",
			cmd_phrase(r->answers));
	if (r->text[0] && (r->code || r->enhanced[0]))
		EXPLAIN(d, " Its text: \"%.200s\".", r->text);
	switch (rd->cause) {
	case CAUSE_SIZE_LIMIT:
		diag_size_facts(d, m);
		break;
	case CAUSE_IDLE_TIMEOUT: {
		sl_time last = d->fi->dir[DIR_C2S].last_payload_ts;
		if (last && r->ts > last) {
			EXPLAIN(d, " The client had been silent for %s before it.", diag_dur(r->ts - last, b, sizeof(b)));
			diag_evidence(d, d->fi->dir[DIR_C2S].last_payload_frame, last, "last data from the client");
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
			EXPLAIN(d, " Then the %s closed the connection with %s %s later%s.", diag_side(d->first.dir),
				d->first.rst ? "a RST" : "a FIN", diag_dur(d->first.ts - r->ts, b, sizeof(b)),
				f->quit_sent && d->first.dir == DIR_C2S ? " (after a polite QUIT)" : "");
		else
			diag_say_closer(d);
	} else {
		EXPLAIN(d, " Neither side closed the connection before the capture ended.");
	}
	diag_reply_evidence(d, r, r->code ? "decisive reply" : "decisive reply (no numeric code)");
	diag_close_evidence(d);
	diag_advise(d, rd->advice);
}

static bool rule_syntax_then_close(struct dctx *d, const struct smtp_reply *r)
{
	if (!r->code || d->first.dir != DIR_S2C || d->first.ts < r->ts)
		return false;
	/* The server closed after a syntax error without answering anything
	 * newer: it ended the session because of the bad command(s). */
	if (after(&d->f->last_reply, r) && d->f->last_reply.code < 400)
		return false;
	struct reply_reading rd = {
		RC_CAUSE, CAUSE_TOO_MANY_ERRORS, CONF_MEDIUM,
		"a bad command, after which the server closed the connection",
		"Client side: fix the command the server rejected (see the reply) and wait for replies unless PIPELINING is offered.",
		"R3"
	};
	if (r->code == 421 || r->code == 521 || d->f->consecutive_errors >= 3)
		rd.conf = CONF_HIGH;
	decisive_verdict(d, r, &rd);
	return true;
}

static bool rule_size_close(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	if (!m || d->first.dir != DIR_S2C || !f->has_size_limit || !f->size_limit)
		return false;
	bool over_sent = m->data_started && m->wire_bytes > f->size_limit;
	bool over_declared = m->has_declared_size && m->declared_size > f->size_limit;
	if (!(over_sent || over_declared) || (m->final_reply.code && diag_ok2(m->final_reply.code)))
		return false;
	diag_set_cause(d, CAUSE_SIZE_LIMIT, over_sent ? CONF_HIGH : CONF_MEDIUM);
	diag_set_closer(d);
	d->v->phase = m->bdat ? PH_BDAT : (m->data_started ? PH_DATA : PH_MAIL);
	EXPLAIN(d, "The server %s the connection %s without a reply, after the message went over its size limit.",
		d->first.rst ? "reset" : "closed", m->data_started ? "during the message body" : "after MAIL FROM");
	diag_size_facts(d, m);
	EXPLAIN(d, " Servers that cut oversize messages this way show the client only \"connection closed\".");
	diag_close_evidence(d);
	diag_advise(d, "Client side: send a smaller message (within the advertised SIZE); server side: raise the limit, or answer 552 5.3.4 instead of cutting the connection so clients can tell why.");
	return true;
}

void diag_where_it_stopped(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	char b[32];
	if (f->in_body && m && m->data_started)
		EXPLAIN(d, " It was inside the DATA body after %" PRIu64 " bytes (%" PRIu64 " KB).", m->wire_bytes,
			m->wire_bytes / 1024);
	else if (f->in_body && m)
		EXPLAIN(d, " The client had sent DATA and %" PRIu64 " bytes of its message without a 354 from the server.",
			m->wire_bytes);
	else if (f->pending)
		EXPLAIN(d, " %u command%s still awaited a reply (last: %s).", f->pending, f->pending == 1 ? "" : "s",
			verdict_cmd_name(f->last_cmd));
	else if (f->last_reply.code)
		EXPLAIN(d, " The last reply was %u to %s.", f->last_reply.code, verdict_cmd_name(f->last_reply.answers));
	sl_time last = SL_MAX(d->fi->dir[0].last_ts, d->fi->dir[1].last_ts);
	if (d->s->capture_end > last)
		EXPLAIN(d, " The capture went on for %s after the flow's last packet.", diag_dur(d->s->capture_end - last, b, sizeof(b)));
}

/* With the content lost, the sizes of the last client and server segments
 * before the server's FIN can still hint at a QUIT (6 bytes) and its 221. */
static void last_exchange_shape(struct dctx *d)
{
	const struct timeline *tl = d->s->tl;
	uint64_t cbytes = 0, sbytes = 0;
	if (!tl || d->first.dir != DIR_S2C)
		return;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind != EV_GAP)
			continue;
		if (e->dir == DIR_S2C && !sbytes && !cbytes)
			sbytes = e->num;
		else if (e->dir == DIR_C2S && sbytes && !cbytes) {
			cbytes = e->num;
			break;
		}
	}
	if (cbytes == 6 && sbytes > 4 && sbytes < 200)
		EXPLAIN(d, " The last exchange (%" PRIu64 " bytes from the client, %" PRIu64 " from the server, then the server's FIN) has the shape of QUIT and its 221, so the session most likely ended normally.",
			cbytes, sbytes);
}

static bool rule_capture_incomplete(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	uint64_t rf = 0;
	sl_time rts = 0;
	bool open_at_end = d->first.dir < 0 && !diag_stalled_at_end(d) &&
			   (d->s->end == END_CAPTURE_END || d->s->end == END_EVICTED ||
			    (d->s->end == END_IDLE && !diag_trailing_retransmissions(d, &rf, &rts)));
	bool unreadable = !f->is_smtp && (c->gaps || s->gaps || (d->s->tl && tl_last(d->s->tl, EV_TRUNCATED, -1)));
	if (!open_at_end && !unreadable)
		return false;
	diag_set_cause(d, CAUSE_CAPTURE_INCOMPLETE,
		  open_at_end && (d->s->end == END_CAPTURE_END || d->s->end == END_EVICTED) ? CONF_HIGH : CONF_MEDIUM);
	diag_set_closer(d);
	if (open_at_end) {
		if (d->s->end == END_EVICTED)
			EXPLAIN(d, "The analyzer stopped following this connection in phase %s: the flow table was full and it was the least recently active flow (raise --max-flows to keep it).",
				verdict_phase_name(d->v->phase));
		else if (d->s->end == END_IDLE)
			EXPLAIN(d, "No packet of this connection was seen for longer than the flow timeout and neither side closed it, in phase %s: the capture lost the rest of the session (or both hosts vanished).",
				verdict_phase_name(d->v->phase));
		else
			EXPLAIN(d, "The connection was still open when the capture ended, in phase %s; how it ended is not in the capture.",
				verdict_phase_name(d->v->phase));
		diag_where_it_stopped(d);
		diag_evidence(d, d->fi->last_frame, d->fi->last_ts, "last packet of the flow; no FIN or RST follows");
	} else {
		EXPLAIN(d, "The capture lost the session's content (%" PRIu64 " bytes missing in gaps, or payloads cut by the snapshot length), so the dialog cannot be read.",
			c->gap_bytes + s->gap_bytes);
		last_exchange_shape(d);
		diag_say_closer(d);
		diag_close_evidence(d);
	}
	diag_advise(d, "Capture longer (until both FINs) and with a full snapshot length (-s 0) to see the ending.");
	return true;
}

static bool rule_server_closed(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S];
	char b[32], b2[32];
	if (d->first.dir != DIR_S2C)
		return false;
	diag_set_closer(d);
	if (f->quit_sent && f->last_cmd == CMD_QUIT && f->last_cmd_ts <= d->first.ts) {
		/* QUIT asks the server to close; its 221 may be lost in a gap. */
		diag_set_cause(d, CAUSE_COMPLETED, CONF_MEDIUM);
		d->v->phase = PH_QUIT;
		EXPLAIN(d, "The client sent QUIT and the server closed the connection with %s; the 221 was not seen%s.",
			d->first.rst ? "a RST" : "a FIN",
			d->fi->dir[DIR_S2C].gaps ? " (server bytes were lost in a capture gap)" : "");
		diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "QUIT from the client");
		diag_close_evidence(d);
		diag_advise(d, "Nothing to change.");
		return true;
	}
	bool clients_turn = !f->pending;
	if (clients_turn) {
		sl_time last = c->last_payload_ts ? c->last_payload_ts : c->first_ts;
		uint64_t last_fr = c->last_payload_ts ? c->last_payload_frame : c->first_frame;
		/* If the server spoke last, the client's silence runs from then. */
		if (f->last_s2c_ts > last && !f->in_body)
			last = SL_MAX(last, f->last_s2c_ts);
		sl_time silence = d->first.ts - last;
		if (f->in_body && silence < SL_MIN((sl_time)NS_PER_SEC, d->cfg->idle_threshold / 10)) {
			/* The client was still sending the body: not an idle session. */
			const struct smtp_message *m = diag_last_msg(f);
			diag_set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
			EXPLAIN(d, "The server %s the connection while the client was still sending the message body (%" PRIu64 " bytes sent, the last %s before the close), without a reply: a size limit it did not advertise, a content filter, or a crash.",
				d->first.rst ? "reset" : "closed", m ? m->wire_bytes : 0, diag_dur(silence, b, sizeof(b)));
			diag_size_facts(d, m);
			diag_close_evidence(d);
			diag_advise(d, "Server side: read the server's log for this session (size limits, filters, crashes); client side: try a smaller message.");
			return true;
		}
		enum confidence conf = silence >= d->cfg->idle_threshold ? CONF_HIGH
				       : silence >= d->cfg->idle_threshold / 10 ? CONF_MEDIUM : CONF_LOW;
		diag_set_cause(d, CAUSE_IDLE_TIMEOUT, conf);
		EXPLAIN(d, "It was the client's turn to speak%s and it stayed silent for %s; then the server closed the connection with %s, without a reply. The server gave up waiting (idle timeout; the idle threshold is %s).",
			f->in_body ? " (inside the message body)" : "", diag_dur(silence, b, sizeof(b)),
			d->first.rst ? "a RST" : "a FIN", diag_dur(d->cfg->idle_threshold, b2, sizeof(b2)));
		diag_evidence(d, last_fr, c->last_payload_ts ? c->last_payload_ts : c->first_ts, "last data from the client");
		diag_close_evidence(d);
		diag_advise(d, ADV_TIMEOUT_TEXT);
		return true;
	}
	diag_set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
	EXPLAIN(d, "The server closed the connection with %s while %u command%s (last: %s) still awaited its reply: it crashed, was restarted, or dropped the client without saying why.",
		d->first.rst ? "a RST" : "a FIN", f->pending, f->pending == 1 ? "" : "s", verdict_cmd_name(f->last_cmd));
	if (f->last_cmd_frame)
		diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s, never answered", verdict_cmd_name(f->last_cmd));
	diag_close_evidence(d);
	diag_advise(d, "Server side: read the server's log at this time (crash, restart, a filter that drops connections).");
	return true;
}

static bool rule_client_closed(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	char b[32];
	if (d->first.dir != DIR_C2S)
		return false;
	diag_set_closer(d);
	bool delivered = m && diag_ok2(m->final_reply.code);
	/* A QUIT the server took as AUTH data or body (it answered 3xx, or AUTH
	 * was still under way) did not end the dialog. */
	bool quit_ok = f->quit_sent && f->auth_result != AUTH_PENDING && f->auth_result != AUTH_ABORTED &&
		       !(f->last_reply.code >= 300 && f->last_reply.code < 400) && !f->in_body;
	if (f->last_reply.code == 334 ||
	    (d->v->phase == PH_IDLE && (f->last_reply.answers == CMD_AUTH || f->last_reply.answers == CMD_AUTH_DATA)))
		d->v->phase = PH_AUTH;  /* it left during, or right after, the AUTH exchange */
	if ((delivered || quit_ok) && !d->first.rst) {
		diag_set_cause(d, CAUSE_COMPLETED, CONF_MEDIUM);
		if (delivered)
			diag_set_reply(d, &m->final_reply);
		if (delivered)
			EXPLAIN(d, "The message was accepted (%u) and the client then closed the connection with a FIN%s: an orderly end without the QUIT/221 exchange.",
				m->final_reply.code, f->quit_sent ? " after QUIT, without waiting for 221" : " without QUIT");
		else
			EXPLAIN(d, "The client sent QUIT and closed with a FIN without waiting for the 221: an orderly end%s.",
				f->n_msgs ? "" : " (no message was sent)");
		if (!delivered && f->last_cmd_frame)
			diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s", verdict_cmd_name(f->last_cmd));
		if (delivered)
			diag_reply_evidence(d, &m->final_reply, "message accepted");
		diag_close_evidence(d);
		diag_advise(d, "Nothing to change (a client should send QUIT and wait for 221, but the mail was delivered).");
		return true;
	}
	if (d->s->capture_started_midstream)
		return false;
	diag_set_cause(d, CAUSE_CLIENT_ABORT, d->first.rst ? CONF_HIGH : CONF_MEDIUM);
	sl_time since = d->first.ts - (f->last_s2c_ts ? f->last_s2c_ts : d->fi->first_ts);
	EXPLAIN(d, "The client closed the connection with %s in phase %s, without QUIT and with no refusal from the server before it (%s after the server's last data).",
		d->first.rst ? "a RST" : "a FIN", verdict_phase_name(d->v->phase), diag_dur(since, b, sizeof(b)));
	if (f->replies_5xx + f->replies_4xx)
		EXPLAIN(d, " The server had answered %u error%s to bad or out-of-sequence commands.",
			f->replies_5xx + f->replies_4xx, f->replies_5xx + f->replies_4xx == 1 ? "" : "s");
	if (f->pending)
		EXPLAIN(d, " %u command%s had no reply yet: the client did not wait.", f->pending, f->pending == 1 ? "" : "s");
	if (f->auth_result == AUTH_ACCEPTED && !f->n_msgs)
		EXPLAIN(d, " It had authenticated successfully and sent no mail (a credential check or a scripted client).");
	if (f->quit_sent && !quit_ok)
		EXPLAIN(d, " Its QUIT came while the server still expected %s, so the server did not take it as QUIT.",
			f->in_body ? "message data" : "AUTH data");
	diag_close_evidence(d);
	diag_advise(d, "Client side: look at the client's log or error message (it gave up on its own: local timeout, user cancel, crash, or a check that only tests the connection).");
	return true;
}

static bool rule_midstream(struct dctx *d)
{
	if (!d->s->capture_started_midstream && d->fi->roles_from_syn)
		return false;
	diag_set_cause(d, CAUSE_CAPTURE_INCOMPLETE, CONF_MEDIUM);
	diag_set_closer(d);
	EXPLAIN(d, "The capture started in the middle of this session (no SYN), so the start of the dialog is missing and the ending cannot be judged from what is left.");
	diag_say_closer(d);
	diag_evidence(d, d->fi->first_frame, d->fi->first_ts, "first packet of the flow (not a SYN)");
	diag_close_evidence(d);
	diag_advise(d, "Start the capture before the session opens.");
	return true;
}

/* Evidence reads best in capture order (frame 0 = no frame, kept last). */
static void sort_evidence(struct verdict *v)
{
	for (uint32_t i = 1; i < v->n_ev; i++) {
		struct evidence tmp = v->ev[i];
		uint64_t k = tmp.frame ? tmp.frame : UINT64_MAX;
		uint32_t j = i;
		while (j > 0 && (v->ev[j - 1].frame ? v->ev[j - 1].frame : UINT64_MAX) > k) {
			v->ev[j] = v->ev[j - 1];
			j--;
		}
		v->ev[j] = tmp;
	}
}

static void diagnose_rules(const struct session_view *s, const struct diag_config *cfg, struct verdict *v);

void diagnose(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	struct diag_config defcfg;
	if (!cfg) {
		diag_config_default(&defcfg);
		cfg = &defcfg;
	}
	diagnose_rules(s, cfg, v);
	diag_apply_cut(s, cfg, v);
	sort_evidence(v);
}

static void diagnose_rules(const struct session_view *s, const struct diag_config *cfg, struct verdict *v)
{
	struct diag_config defcfg;
	if (!cfg) {
		diag_config_default(&defcfg);
		cfg = &defcfg;
	}
	memset(v, 0, sizeof(*v));
	struct reply_cache cache;
	memset(&cache, 0, sizeof(cache));
	struct dctx d = { .s = s, .fi = s->fi, .f = s->smtp, .cfg = cfg, .v = v, .cache = &cache };
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
	diag_set_closer(&d);

	if (diag_rule_tcp(&d))
		return;

	struct smtp_reply dec, syn;
	struct reply_reading rd;
	bool have = find_decisive(&d, &dec, &rd, &syn);
	{
		/* A DATA refused because no recipient was accepted: read the RCPT's refusal. */
		struct smtp_reply rr;
		struct reply_reading rrd;
		const struct smtp_reply *de = have ? &dec : syn.code ? &syn : NULL;
		if (de && (!have || rd.cause == CAUSE_UNKNOWN || rd.cls == RC_SYNTAX) && rcpt_refusal(&d, de, &rr)) {
			diag_read_reply(&d, &rr, &rrd);
			if (rrd.cls == RC_CAUSE) {
				dec = rr;
				rd = rrd;
				have = true;
			}
		}
	}
	if (!have && find_codeless_reply(&d, &dec)) {
		diag_read_reply(&d, &dec, &rd);
		have = rd.cls == RC_CAUSE;
		if (!dec.enhanced[0] && d.first.dir == DIR_S2C && d.first.ts >= dec.ts) {
			/* No code and no enhanced code: only the hang-up is certain. */
			rd = (struct reply_reading){ RC_CAUSE, CAUSE_UNKNOWN, CONF_MEDIUM,
				"the server answered with a line that has no reply code, then hung up",
				"Server side: read the server's log for this session (its reply was not valid SMTP); client side: retry later.",
				"R2" };
			have = true;
		}
	}
	/* A bad-command error in the mail transaction that the dialog never got
	 * past (no later accepted MAIL, DATA or message): the mail did not go
	 * through, so a QUIT after it is not a completion. */
	bool syn_blocks = syn.code && (syn.answers == CMD_MAIL || syn.answers == CMD_RCPT || syn.answers == CMD_DATA ||
				       syn.answers == CMD_BDAT || syn.answers == CMD_BODY_END);
	if (rule_completed_quit(&d, have || syn_blocks) || diag_rule_tls_mismatch(&d))
		return;
	if (have) {
		struct smtp_reply root;
		struct reply_reading rrd;
		if (root_refusal(&d, &rd, &dec, &root)) {
			diag_read_reply(&d, &root, &rrd);
			if (rrd.cls == RC_CAUSE) {
				decisive_verdict(&d, &root, &rrd);
				EXPLAIN(&d, " The server's later %u%s%s (\"%.120s\") only followed from it.", dec.code,
					dec.enhanced[0] ? " " : "", dec.enhanced, dec.text);
				diag_reply_evidence(&d, &dec, "consequence");
				return;
			}
		}
		decisive_verdict(&d, &dec, &rd);
		return;
	}
	if (syn.code && rule_syntax_then_close(&d, &syn))
		return;
	if (syn_blocks) {
		rd = (struct reply_reading){ RC_CAUSE, CAUSE_UNKNOWN, CONF_MEDIUM,
			"the command was refused as malformed, out of sequence or by a policy using a syntax code",
			"Client side: fix the command the server refused (see the reply text) and send the message again.",
			"R4" };
		decisive_verdict(&d, &syn, &rd);
		return;
	}
	if (diag_rule_no_greeting(&d) || diag_rule_tls(&d) || rule_size_close(&d) || rule_capture_incomplete(&d) ||
	    diag_rule_middlebox(&d) || diag_rule_network(&d) || rule_server_closed(&d) || rule_client_closed(&d) ||
	    rule_midstream(&d))
		return;

	/* Nothing fits. */
	diag_set_cause(&d, CAUSE_UNKNOWN, CONF_LOW);
	diag_set_closer(&d);
	if (d.first.dir < 0 && s->end == END_IDLE)
		EXPLAIN(&d, "Both sides fell silent and the flow timed out without a FIN or RST.");
	else
		EXPLAIN(&d, "No rule explains this ending.");
	diag_where_it_stopped(&d);
	diag_say_closer(&d);
	if (d.f->last_reply.frame)
		diag_reply_evidence(&d, &d.f->last_reply, "last reply");
	diag_close_evidence(&d);
	diag_evidence(&d, d.fi->last_frame, d.fi->last_ts, "last packet of the flow");
	diag_advise(&d, "Look at the transcript (--transcript) and the server's log for this session.");
}
