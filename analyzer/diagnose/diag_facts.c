/*
 * diag_facts.c - the facts the rules look up in a session: the first FIN or
 * RST, the order of replies, the decisive reply (the newest refusal the
 * dialog did not get past, with its root cause and the reading of a
 * code-less line), the answer to QUIT, trailing retransmissions, the EHLO
 * reply that advertised SIZE. Everything here reads typed fields of the
 * facts and the timeline; reply texts are copied, never searched for facts.
 *
 * Invariants: pure (no I/O, no allocation); the decisive reply is computed
 * once per diagnosis and kept in the context (diag_decisive()).
 */
#include <stdio.h>
#include <string.h>

#include "diag_int.h"

void diag_find_first_close(struct dctx *d)
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
bool diag_after(const struct smtp_reply *a, const struct smtp_reply *b)
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
		if (diag_ok2(m->final_reply.code) && diag_after(&m->final_reply, r))
			return true;
		if (r->answers == CMD_MAIL || r->answers == CMD_RCPT || r->answers == CMD_DATA ||
		    r->answers == CMD_BODY_END || r->answers == CMD_BDAT) {
			if (diag_ok2(m->mail_reply.code) && diag_after(&m->mail_reply, r))
				return true;
			if (m->data_reply.code == 354 && diag_after(&m->data_reply, r))
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
		return diag_ok2(f->last_reply.code) && diag_after(&f->last_reply, r) &&
		       f->last_reply.answers != CMD_QUIT && f->last_reply.answers != CMD_RSET &&
		       f->last_reply.answers != CMD_NOOP;
	case CMD_STARTTLS:
		return f->tls.handshake_done;
	default:
		return false;
	}
}

/* An unasked reply that follows the client's close (FIN or RST) cannot be
 * why the client closed: wherever the capture sits, the close passed it
 * before the reply did. It is the server's notice that the client went
 * (Exim "421 Lost incoming connection" after a cut body, tests/data/exim
 * abort_data), whatever its words; an answer to a command the client sent
 * before closing (a pipelined half-close) still counts. */
static bool after_client_gone(const struct dctx *d, const struct smtp_reply *r)
{
	return r->answers == CMD_NONE && d->first.dir == DIR_C2S &&
	       (r->ts > d->first.ts || (r->ts == d->first.ts && r->frame > d->first.frame));
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
		if (after_client_gone(d, r))
			continue;
		struct reply_reading rr;
		diag_reply_cached(d->rcache, r, &d->rc, &rr);
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

/* A reply the timeline kept (EV_REPLY), as the facts would hold it. */
static void reply_from_event(const struct event *e, enum smtp_cmd answers, struct smtp_reply *out)
{
	memset(out, 0, sizeof(*out));
	out->code = e->code;
	snprintf(out->enhanced, sizeof(out->enhanced), "%s", e->enhanced);
	snprintf(out->text, sizeof(out->text), "%s", e->text);
	out->answers = answers;
	out->frame = e->frame;
	out->ts = e->ts;
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
		reply_from_event(e, CMD_RCPT, out);
		return true;
	}
	return false;
}

/* A 503 (bad sequence of commands) to MAIL, RCPT or DATA when no HELO or
 * EHLO had been accepted and the newest one before it was refused (4xx or
 * 5xx): the server wants a greeting it never took, so the 503 only follows
 * from that refusal (OpenSMTPD: "501 5.5.4 Invalid command arguments:
 * Invalid domain name" to HELO bad..name, then "503 5.5.1 Invalid command:
 * Command not allowed at this point." to every MAIL and RCPT). Codes and
 * the commands they answer decide; no words are read. */
static bool helo_refusal(const struct dctx *d, const struct smtp_reply *err, struct smtp_reply *out)
{
	const struct timeline *tl = d->s->tl;
	if (!tl || err->code != 503 ||
	    (err->answers != CMD_MAIL && err->answers != CMD_RCPT && err->answers != CMD_DATA))
		return false;
	enum smtp_cmd awaiting = CMD_NONE, verb = CMD_HELO;
	const struct event *refused = NULL;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->ts > err->ts || (e->ts == err->ts && e->frame >= err->frame))
			break;
		if (e->kind == EV_COMMAND && e->dir == DIR_C2S) {
			awaiting = e->code == CMD_HELO || e->code == CMD_EHLO ? (enum smtp_cmd)e->code : CMD_NONE;
		} else if (e->kind == EV_REPLY && e->dir == DIR_S2C && awaiting != CMD_NONE) {
			if (e->code >= 200 && e->code < 300)
				return false;   /* a greeting was accepted: the 503 is about something else */
			refused = e->code >= 400 && e->code < 600 ? e : NULL;
			verb = awaiting;
			awaiting = CMD_NONE;
		}
	}
	if (!refused)
		return false;
	reply_from_event(refused, verb, out);
	return true;
}

/* A demand that follows a failed attempt is a consequence of it: "530
 * authentication required" after a refused AUTH is an AUTH failure, "530
 * must issue STARTTLS" after a refused STARTTLS is a TLS failure. Returns
 * the earlier reply to read instead. */
bool diag_root_refusal(const struct dctx *d, const struct reply_reading *rd, const struct smtp_reply *dec,
			 struct smtp_reply *out)
{
	const struct smtp_facts *f = d->f;
	if (rd->cause == CAUSE_TLS_REQUIRED && f->starttls == STLS_REFUSED && f->starttls_reply.code &&
	    diag_after(dec, &f->starttls_reply)) {
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
		reply_from_event(e, CMD_AUTH, out);
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
 * deferred ..." sent with the FIN): read its enhanced code as the class.
 * The dissector types such lines (EV_NOCODE_LINE; EV_NOT_SMTP for a first
 * line; a reply whose code is 000) with the enhanced code they start with. */
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
		bool line = e->kind == EV_NOCODE_LINE;
		if (!(e->kind == EV_REPLY || e->kind == EV_REPLY_UNPAIRED || e->kind == EV_NOT_SMTP || line) || e->code)
			continue;
		if (!e->enhanced[0] || e->enhanced[0] == '2') {
			if (!line)
				continue;
			/* No enhanced code to read: say what is known. */
			memset(out, 0, sizeof(*out));
		} else {
			memset(out, 0, sizeof(*out));
			snprintf(out->enhanced, sizeof(out->enhanced), "%s", e->enhanced);
			/* The words after the enhanced code, as for a coded reply. */
			size_t at = e->kind == EV_REPLY || e->kind == EV_REPLY_UNPAIRED ? 0 : (size_t)e->num;
			snprintf(out->text, sizeof(out->text), "%s", e->text + SL_MIN(at, strnlen(e->text, sizeof(e->text))));
		}
		out->answers = pending_at(d, e->ts);
		out->frame = e->frame;
		out->ts = e->ts;
		return true;
	}
	return false;
}

const struct diag_decisive *diag_decisive(struct dctx *d)
{
	struct diag_decisive *k = &d->dk;
	if (k->done)
		return k;
	k->done = true;
	k->have = find_decisive(d, &k->dec, &k->rd, &k->syn);
	/* A DATA refused because no recipient was accepted: read the RCPT's refusal. */
	struct smtp_reply rr;
	struct reply_reading rrd;
	const struct smtp_reply *de = k->have ? &k->dec : k->syn.code ? &k->syn : NULL;
	if (de && (!k->have || k->rd.cause == CAUSE_UNKNOWN || k->rd.cls == RC_SYNTAX) && rcpt_refusal(d, de, &rr)) {
		diag_reply_cached(d->rcache, &rr, &d->rc, &rrd);
		if (rrd.cls == RC_CAUSE) {
			k->dec = rr;
			k->rd = rrd;
			k->have = true;
		}
	}
	/* A 503 to the transaction after a refused HELO/EHLO: read the greeting's refusal. */
	de = k->have ? &k->dec : k->syn.code ? &k->syn : NULL;
	bool helo_root = false;
	if (de && (!k->have || k->rd.cause == CAUSE_UNKNOWN || k->rd.cls == RC_SYNTAX) && helo_refusal(d, de, &rr)) {
		diag_reply_cached(d->rcache, &rr, &d->rc, &rrd);
		if (rrd.cls == RC_CAUSE) {
			k->dec = rr;
			k->rd = rrd;
			k->have = true;
		} else {
			k->syn = rr;
			k->have = false;
			helo_root = true;
		}
	}
	if (!k->have && find_codeless_reply(d, &k->dec)) {
		diag_reply_cached(d->rcache, &k->dec, &d->rc, &k->rd);
		k->have = k->rd.cls == RC_CAUSE;
		if (!k->dec.enhanced[0] && d->first.dir == DIR_S2C && d->first.ts >= k->dec.ts) {
			/* No code and no enhanced code: only the hang-up is certain. */
			k->rd = (struct reply_reading){ RC_CAUSE, CAUSE_UNKNOWN, CONF_MEDIUM,
				"the server answered with a line that has no reply code, then hung up",
				"Server side: read the server's log for this session (its reply was not valid SMTP); client side: retry later.",
				"R2" };
			k->have = true;
		}
		k->codeless = k->have;
	}
	/* A bad-command error in the mail transaction that the dialog never got
	 * past (no later accepted MAIL, DATA or message): the mail did not go
	 * through, so a QUIT after it is not a completion. */
	enum smtp_cmd a = k->syn.answers;
	k->syn_blocks = k->syn.code && (helo_root || a == CMD_MAIL || a == CMD_RCPT || a == CMD_DATA ||
					 a == CMD_BDAT || a == CMD_BODY_END);
	return k;
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
			   e->kind == EV_ZERO_WINDOW || e->kind == EV_NOTE || e->kind == EV_NOCODE_LINE) {
			continue;
		} else {
			break;
		}
	}
	return n;
}

bool diag_stalled_at_end(const struct dctx *d)
{
	uint64_t fr = 0;
	sl_time ts = 0;
	return d->first.dir < 0 && diag_trailing_retransmissions(d, &fr, &ts) >= DIAG_STALL_RETRANS;
}

const struct event *diag_ehlo_reply(const struct dctx *d)
{
	const struct timeline *tl = d->s->tl;
	if (!tl)
		return NULL;
	bool after_ehlo = false;
	const struct event *best = NULL;
	for (uint32_t i = 0; i < tl_count(tl); i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_COMMAND && e->dir == DIR_C2S)
			after_ehlo = e->code == CMD_EHLO;
		else if (e->kind == EV_REPLY && after_ehlo && e->code == 250) {
			best = e;
			after_ehlo = false;
		}
	}
	return best;
}

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
