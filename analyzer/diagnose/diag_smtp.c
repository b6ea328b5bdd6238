/*
 * diag_smtp.c - diagnosis rules read from the SMTP dialog and from who
 * closed when: QUIT answered (Q1; Q1b, K2b: the client gave up on a MAIL
 * that declared SIZE= over the advertised SIZE), a decisive reply or code-less line (R1,
 * R2), syntax errors (R3, R4), a close past the SIZE limit (Z1), an open or
 * unreadable capture (C1, C2), the server closing on the client's turn or
 * with a command pending (I0-I2), the client closing (K1, K2), a capture
 * started mid-session (K3) and the fallback (U). Each rule returns true
 * when it decided; diagnose.c's table gives their order (docs/RULES.md).
 * Pure, like the rest of the diagnosis.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "diag_int.h"

#define ADV_CAPTURE_LONGER "Capture longer (until both FINs) and with a full snapshot length (-s 0) to see the ending."
#define ADV_TIMEOUT_TEXT "Client side: the client left the session idle (it should send QUIT when done, or its own timeout is longer than the server's); server side: raise the idle timeout if slow clients are legitimate."

/* Q1b and K2b: the client gave up on a transaction whose MAIL FROM declared
 * SIZE= over the advertised SIZE: no body sent, nothing refused (a server
 * that checks the size only after the data, such as OpenSMTPD 6.8, answers
 * such a MAIL 250). The declaration against the advertisement is the one
 * reason the packets show for a transaction left there. */
static const struct smtp_message *declared_over_size(const struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	if (!m || !f->has_size_limit || !f->size_limit || !m->has_declared_size ||
	    m->declared_size <= f->size_limit || m->data_started || m->final_reply.code)
		return NULL;
	return m;
}

static void size_gave_up(struct dctx *d, const struct smtp_message *m, const char *how)
{
	diag_set_cause(d, CAUSE_SIZE_LIMIT, CONF_MEDIUM);
	diag_set_closer(d);
	d->v->phase = PH_MAIL;
	EXPLAIN(d, "The client declared a message larger than the server's advertised SIZE on MAIL FROM, sent no message data, and then %s: the message was over the limit.", how);
	diag_size_facts(d, m);
	if (m->mail_reply.code && diag_ok2(m->mail_reply.code))
		EXPLAIN(d, " The server accepted the MAIL (%u) all the same (a server may check the size only after the data).",
			m->mail_reply.code);
	diag_say_closer(d);
	if (m->mail_reply.code)
		diag_reply_evidence(d, &m->mail_reply, "reply to MAIL FROM with SIZE= over the advertised SIZE");
	diag_close_evidence(d);
	diag_advise(d, "Client side: send a smaller message (within the advertised SIZE); server side: raise the limit if such messages are legitimate, and refuse an oversize SIZE= at MAIL with 552 5.3.4 so clients can tell why.");
}

/* Q1: QUIT answered 2xx, and no refusal the dialog did not get past. */
bool diag_q1_quit_answered(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_reply *qr = diag_quit_answer(f);
	const struct diag_decisive *k = diag_decisive(d);
	if (!qr || k->have || k->syn_blocks)
		return false;
	const struct smtp_message *over = declared_over_size(d);
	if (over) {  /* Q1b */
		size_gave_up(d, over, "sent QUIT");
		return true;
	}
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

/* R1 and R2: the decisive reply decides; a demand that only follows from an
 * earlier refusal (diag_root_refusal) is read as that refusal. */
static bool reply_decides(struct dctx *d)
{
	const struct diag_decisive *k = diag_decisive(d);
	struct smtp_reply root;
	struct reply_reading rrd;
	if (diag_root_refusal(d, &k->rd, &k->dec, &root)) {
		diag_reply_cached(d->rcache, &root, &d->rc, &rrd);
		if (rrd.cls == RC_CAUSE) {
			diag_reply_verdict(d, &root, &rrd);
			EXPLAIN(d, " The server's later %u%s%s (\"%.120s\") only followed from it.", k->dec.code,
				k->dec.enhanced[0] ? " " : "", k->dec.enhanced, k->dec.text);
			diag_reply_evidence(d, &k->dec, "consequence");
			return true;
		}
	}
	diag_reply_verdict(d, &k->dec, &k->rd);
	return true;
}

/* R1: a decisive reply, the newest refusal the dialog did not get past. */
bool diag_r1_decisive_reply(struct dctx *d)
{
	const struct diag_decisive *k = diag_decisive(d);
	return k->have && !k->codeless && reply_decides(d);
}

/* R2: a server line without a numeric code where a reply was due. */
bool diag_r2_codeless_line(struct dctx *d)
{
	const struct diag_decisive *k = diag_decisive(d);
	return k->have && k->codeless && reply_decides(d);
}

/* R3: a syntax-class error, then the server closed with nothing positive after it. */
bool diag_r3_syntax_then_close(struct dctx *d)
{
	const struct smtp_reply *r = &diag_decisive(d)->syn;
	if (!r->code || d->first.dir != DIR_S2C || d->first.ts < r->ts)
		return false;
	/* A capture that started mid-session and shows no command this error
	 * answered proves no bad command (the client's lines may all be before
	 * the capture): K3 says what is known instead. */
	if (d->s->capture_started_midstream && r->answers == CMD_NONE)
		return false;
	/* The server closed after a syntax error without answering anything
	 * newer: it ended the session because of the bad command(s). */
	if (diag_after(&d->f->last_reply, r) && d->f->last_reply.code < 400)
		return false;
	struct reply_reading rd = {
		RC_CAUSE, CAUSE_TOO_MANY_ERRORS, CONF_MEDIUM,
		"a bad command, after which the server closed the connection",
		"Client side: fix the command the server rejected (see the reply) and wait for replies unless PIPELINING is offered.",
		"R3"
	};
	if (r->code == 421 || r->code == 521 || d->f->consecutive_errors >= 3)
		rd.conf = CONF_HIGH;
	diag_reply_verdict(d, r, &rd);
	return true;
}

/* R4: a syntax-class error in the mail transaction that the dialog never got past. */
bool diag_r4_syntax_blocks(struct dctx *d)
{
	const struct diag_decisive *k = diag_decisive(d);
	if (!k->syn_blocks)
		return false;
	struct reply_reading rd = { RC_CAUSE, CAUSE_UNKNOWN, CONF_MEDIUM,
		"the command was refused as malformed, out of sequence or by a policy using a syntax code",
		"Client side: fix the command the server refused (see the reply text) and send the message again.",
		"R4" };
	diag_reply_verdict(d, &k->syn, &rd);
	return true;
}

/* Z1: the server closed while the message was over the advertised SIZE. */
bool diag_z1_size_close(struct dctx *d)
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

/* C1: no FIN or RST, and the capture ended, the flow was evicted or timed
 * out without a stall (N1 takes a stall). */
bool diag_c1_open_at_end(struct dctx *d)
{
	uint64_t rf = 0;
	sl_time rts = 0;
	enum flow_end end = d->s->end;
	bool open_at_end = d->first.dir < 0 && !diag_stalled_at_end(d) &&
			   (end == END_CAPTURE_END || end == END_EVICTED || end == END_MEMCAP ||
			    (end == END_IDLE && !diag_trailing_retransmissions(d, &rf, &rts)));
	if (!open_at_end)
		return false;
	diag_set_cause(d, CAUSE_CAPTURE_INCOMPLETE,
		       end == END_CAPTURE_END || end == END_EVICTED || end == END_MEMCAP ? CONF_HIGH : CONF_MEDIUM);
	diag_set_closer(d);
	if (end == END_EVICTED)
		EXPLAIN(d, "The analyzer stopped following this connection in phase %s: it was evicted because the flow table was full and it was the least recently active flow (raise --max-flows to keep it).",
			verdict_phase_name(d->v->phase));
	else if (end == END_MEMCAP)
		EXPLAIN(d, "The analyzer stopped following this connection in phase %s: it was evicted under memory pressure, the least recently active flow when the memory cap was reached (raise --memory-cap to keep it).",
			verdict_phase_name(d->v->phase));
	else if (end == END_IDLE)
		EXPLAIN(d, "No packet of this connection was seen for longer than the flow timeout and neither side closed it, in phase %s: the capture lost the rest of the session (or both hosts vanished).",
			verdict_phase_name(d->v->phase));
	else
		EXPLAIN(d, "The connection was still open when the capture ended, in phase %s; how it ended is not in the capture.",
			verdict_phase_name(d->v->phase));
	diag_where_it_stopped(d);
	diag_evidence(d, d->fi->last_frame, d->fi->last_ts, "last packet of the flow; no FIN or RST follows");
	diag_advise(d, ADV_CAPTURE_LONGER);
	return true;
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

/* C2: the dialog could not be read at all (not SMTP, and gaps or cut payloads). */
bool diag_c2_unreadable(struct dctx *d)
{
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S], *s = &d->fi->dir[DIR_S2C];
	if (d->f->is_smtp || !(c->gaps || s->gaps || (d->s->tl && tl_last(d->s->tl, EV_TRUNCATED, -1))))
		return false;
	diag_set_cause(d, CAUSE_CAPTURE_INCOMPLETE, CONF_MEDIUM);
	diag_set_closer(d);
	EXPLAIN(d, "The capture lost the session's content (%" PRIu64 " bytes missing in gaps, or payloads cut by the snapshot length), so the dialog cannot be read.",
		c->gap_bytes + s->gap_bytes);
	last_exchange_shape(d);
	diag_say_closer(d);
	diag_close_evidence(d);
	diag_advise(d, ADV_CAPTURE_LONGER);
	return true;
}

/* I0: the client sent QUIT, then the server closed (its 221 not seen). */
bool diag_i0_quit_then_close(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (d->first.dir != DIR_S2C || !(f->quit_sent && f->last_cmd == CMD_QUIT && f->last_cmd_ts <= d->first.ts))
		return false;
	diag_set_closer(d);
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

/* I1 (and I1b, I1c before it): the server closed while it was the client's
 * turn. No server times a client out in under a second (the shortest idle
 * limits we know are seconds: postscreen's greet wait is 6 s), so a close
 * sooner than that is no idle timeout. */
bool diag_i1_clients_turn(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct tcp_dir_stats *c = &d->fi->dir[DIR_C2S];
	char b[32], b2[32];
	if (d->first.dir != DIR_S2C || f->pending)
		return false;
	diag_set_closer(d);
	sl_time last = c->last_payload_ts ? c->last_payload_ts : c->first_ts;
	uint64_t last_fr = c->last_payload_ts ? c->last_payload_frame : c->first_frame;
	/* If the server spoke last, the client's silence runs from then. */
	if (f->last_s2c_ts > last && !f->in_body)
		last = SL_MAX(last, f->last_s2c_ts);
	sl_time silence = d->first.ts - last;
	if (f->in_body && silence < SL_MIN((sl_time)NS_PER_SEC, d->cfg->idle_threshold / 10)) {
		/* I1b: the client was still sending the body, not an idle session. */
		const struct smtp_message *m = diag_last_msg(f);
		diag_set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
		EXPLAIN(d, "The server %s the connection while the client was still sending the message body (%" PRIu64 " bytes sent, the last %s before the close), without a reply: a size limit it did not advertise, a content filter, or a crash.",
			d->first.rst ? "reset" : "closed", m ? m->wire_bytes : 0, diag_dur(silence, b, sizeof(b)));
		diag_size_facts(d, m);
		diag_close_evidence(d);
		diag_advise(d, "Server side: read the server's log for this session (size limits, filters, crashes); client side: try a smaller message.");
		return true;
	}
	/* A record whose time could not be used (it got the previous one's)
	 * makes the silence unknown: no reading may rest on it. */
	bool times_sound = !(d->s->tl && tl_last(d->s->tl, EV_BAD_TIMESTAMP, -1));
	if (silence < DIAG_IDLE_MIN_NS && times_sound) {
		/* I1c: too soon for any server's idle timeout. */
		const struct smtp_message *m = diag_last_msg(f);
		bool delivered = m && diag_ok2(m->final_reply.code) && diag_ok2(f->last_reply.code);
		diag_set_cause(d, delivered ? CAUSE_COMPLETED : CAUSE_UNKNOWN, delivered ? CONF_MEDIUM : CONF_LOW);
		if (delivered) {
			diag_set_reply(d, &m->final_reply);
			EXPLAIN(d, "The message was accepted (%u) and the server closed the connection itself with %s %s later, without waiting for a QUIT: the mail was delivered; the server does not wait for more.",
				m->final_reply.code, d->first.rst ? "a RST" : "a FIN", diag_dur(silence, b, sizeof(b)));
			diag_reply_evidence(d, &m->final_reply, "message accepted");
			diag_advise(d, "Nothing to change for this message (a client should send QUIT; the server closed first).");
		} else {
			EXPLAIN(d, "It was the client's turn to speak and the server closed the connection with %s %s after the last data, without a reply: too soon for an idle timeout. The server dropped the client without saying why (a policy, a crash or a restart)%s.",
				d->first.rst ? "a RST" : "a FIN", diag_dur(silence, b, sizeof(b)),
				c->gaps ? "; client bytes were lost in a capture gap, so a QUIT may not have been seen" : "");
			diag_evidence(d, last_fr, c->last_payload_ts ? c->last_payload_ts : c->first_ts, "last data from the client");
			diag_advise(d, "Server side: read the server's log for this session (the reason it dropped the client).");
		}
		diag_close_evidence(d);
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

/* I2: the server closed while a command still awaited its reply. */
bool diag_i2_pending(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (d->first.dir != DIR_S2C)
		return false;
	diag_set_closer(d);
	diag_set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
	EXPLAIN(d, "The server closed the connection with %s while %u command%s (last: %s) still awaited its reply: it crashed, was restarted, or dropped the client without saying why.",
		d->first.rst ? "a RST" : "a FIN", f->pending, f->pending == 1 ? "" : "s", verdict_cmd_name(f->last_cmd));
	if (f->last_cmd_frame)
		diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s, never answered", verdict_cmd_name(f->last_cmd));
	diag_close_evidence(d);
	diag_advise(d, "Server side: read the server's log at this time (crash, restart, a filter that drops connections).");
	return true;
}

/* A QUIT the server took as AUTH data or body (it answered 3xx, or AUTH
 * was still under way) did not end the dialog. */
static bool quit_taken(const struct smtp_facts *f)
{
	return f->quit_sent && f->auth_result != AUTH_PENDING && f->auth_result != AUTH_ABORTED &&
	       !(f->last_reply.code >= 300 && f->last_reply.code < 400) && !f->in_body;
}

/* The client left during, or right after, the AUTH exchange: phase auth
 * (kept for K3 and U when K1 and K2 do not decide). */
static void client_close_phase(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (f->last_reply.code == 334 ||
	    (d->v->phase == PH_IDLE && (f->last_reply.answers == CMD_AUTH || f->last_reply.answers == CMD_AUTH_DATA)))
		d->v->phase = PH_AUTH;
}

/* K1: the client closed with a FIN after its message was accepted, or after a QUIT. */
bool diag_k1_client_done(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	if (d->first.dir != DIR_C2S)
		return false;
	diag_set_closer(d);
	client_close_phase(d);
	bool delivered = m && diag_ok2(m->final_reply.code);
	if (!(delivered || quit_taken(f)) || d->first.rst)
		return false;
	diag_set_cause(d, CAUSE_COMPLETED, CONF_MEDIUM);
	if (delivered) {
		diag_set_reply(d, &m->final_reply);
		EXPLAIN(d, "The message was accepted (%u) and the client then closed the connection with a FIN%s: an orderly end without the QUIT/221 exchange.",
			m->final_reply.code, f->quit_sent ? " after QUIT, without waiting for 221" : " without QUIT");
	} else {
		EXPLAIN(d, "The client sent QUIT and closed with a FIN without waiting for the 221: an orderly end%s.",
			f->n_msgs ? "" : " (no message was sent)");
		if (f->last_cmd_frame)
			diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s", verdict_cmd_name(f->last_cmd));
	}
	if (delivered)
		diag_reply_evidence(d, &m->final_reply, "message accepted");
	diag_close_evidence(d);
	diag_advise(d, "Nothing to change (a client should send QUIT and wait for 221, but the mail was delivered).");
	return true;
}

/* The server's last reply before time t (0: none), and how many unasked
 * error replies it sent after t: a notice to a client already gone is not
 * an answer to a bad command (an answer to a line sent with the FIN is).
 * Without a timeline, the facts' last server time. */
static sl_time server_reply_before(const struct dctx *d, sl_time t, unsigned *errors_after)
{
	const struct timeline *tl = d->s->tl;
	*errors_after = 0;
	if (!tl)
		return d->f->last_s2c_ts;
	for (uint32_t i = tl_count(tl); i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if ((e->kind != EV_REPLY && e->kind != EV_REPLY_UNPAIRED && e->kind != EV_GREETING) ||
		    e->dir != DIR_S2C)
			continue;
		if (e->ts <= t)
			return e->ts;
		if (e->kind == EV_REPLY_UNPAIRED && e->code >= 400 && e->code <= 599)
			(*errors_after)++;
	}
	return 0;
}

/* How long the server had been silent, at the client's close, on the
 * commands still awaiting a reply: from the last command (or the server's
 * last data, when later) to the close. 0 without a pending command. */
static sl_time server_silence(const struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	if (!f->pending)
		return 0;
	/* no command yet: the greeting is what the client waits for */
	sl_time from = f->last_cmd_ts ? f->last_cmd_ts : d->fi->first_ts;
	from = SL_MAX(from, d->fi->dir[DIR_S2C].last_payload_ts);
	return d->first.ts > from ? d->first.ts - from : 0;
}

/* I3 (tried after K1): the client closed while a command awaited its
 * reply and the server had said nothing for a long time: the server
 * stopped talking and the client gave up (its own timeout: RFC 5321
 * 4.5.3.2 gives clients 2 to 10 minutes a command, mail clients a minute
 * or two). A client that waits under DIAG_CLIENT_WAIT_MIN_NS did not wait
 * (K2). */
bool diag_i3_server_silent(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	char b[32], b2[32];
	if (d->first.dir != DIR_C2S || d->s->capture_started_midstream || f->quit_sent)
		return false;
	sl_time silence = server_silence(d);
	if (silence < DIAG_CLIENT_WAIT_MIN_NS)
		return false;
	diag_set_closer(d);
	client_close_phase(d);
	enum confidence conf = silence >= d->cfg->idle_threshold ? CONF_HIGH : CONF_MEDIUM;
	diag_set_cause(d, CAUSE_IDLE_TIMEOUT, conf);
	if (f->last_cmd_ts)
		EXPLAIN(d, "The client sent %s and waited %s for the reply;", verdict_cmd_name(f->last_cmd),
			diag_dur(silence, b, sizeof(b)));
	else
		EXPLAIN(d, "The client waited %s for the greeting;", diag_dur(silence, b, sizeof(b)));
	EXPLAIN(d, " the server said nothing, and the client gave up and closed the connection with %s. The server stopped answering (overloaded or hung, a slow filter or lookup on its side) and the client's own timeout ended the session (the idle threshold is %s).",
		d->first.rst ? "a RST" : "a FIN", diag_dur(d->cfg->idle_threshold, b2, sizeof(b2)));
	if (f->pending > 1)
		EXPLAIN(d, " %u commands were unanswered.", f->pending);
	if (f->last_cmd_frame)
		diag_evidence(d, f->last_cmd_frame, f->last_cmd_ts, "last command %s, never answered",
			      verdict_cmd_name(f->last_cmd));
	diag_close_evidence(d);
	diag_advise(d, "Server side: find why the server did not answer in time (load, a hung milter or content filter, slow DNS lookups; its log at this time); client side: a longer timeout only hides it.");
	return true;
}

/* K2: the client closed (FIN or RST) with no refusal before it. */
bool diag_k2_client_abort(struct dctx *d)
{
	const struct smtp_facts *f = d->f;
	char b[32];
	if (d->first.dir != DIR_C2S || d->s->capture_started_midstream)
		return false;
	const struct smtp_message *over = declared_over_size(d);
	if (over && !diag_decisive(d)->have && !f->pending) {  /* K2b */
		size_gave_up(d, over, d->first.rst ? "reset the connection" : "closed the connection without QUIT");
		return true;
	}
	diag_set_closer(d);
	client_close_phase(d);
	bool quit_ok = quit_taken(f);
	diag_set_cause(d, CAUSE_CLIENT_ABORT, d->first.rst ? CONF_HIGH : CONF_MEDIUM);
	unsigned late_errors;
	sl_time last_reply = server_reply_before(d, d->first.ts, &late_errors);
	sl_time since = d->first.ts - (last_reply ? last_reply : d->fi->first_ts);
	EXPLAIN(d, "The client closed the connection with %s in phase %s, without QUIT and with no refusal from the server before it (%s after the server's last data).",
		d->first.rst ? "a RST" : "a FIN", verdict_phase_name(d->v->phase), diag_dur(since, b, sizeof(b)));
	unsigned errors = f->replies_5xx + f->replies_4xx;
	errors = errors > late_errors ? errors - late_errors : 0;
	if (errors)
		EXPLAIN(d, " The server had answered %u error%s to bad or out-of-sequence commands.",
			errors, errors == 1 ? "" : "s");
	if (late_errors)
		EXPLAIN(d, " The server's %u later error repl%s came after the client had closed: a notice that it was gone, not a cause.",
			late_errors, late_errors == 1 ? "y" : "ies");
	if (f->pending)
		EXPLAIN(d, " %u command%s had no reply yet: the client waited only %s.", f->pending,
			f->pending == 1 ? "" : "s", diag_dur(server_silence(d), b, sizeof(b)));
	if (f->auth_result == AUTH_ACCEPTED && !f->n_msgs)
		EXPLAIN(d, " It had authenticated successfully and sent no mail (a credential check or a scripted client).");
	if (f->quit_sent && !quit_ok)
		EXPLAIN(d, " Its QUIT came while the server still expected %s, so the server did not take it as QUIT.",
			f->in_body ? "message data" : "AUTH data");
	diag_close_evidence(d);
	diag_advise(d, "Client side: look at the client's log or error message (it gave up on its own: local timeout, user cancel, crash, or a check that only tests the connection).");
	return true;
}

/* K3: the capture started mid-session and nothing above fits. */
bool diag_k3_midstream(struct dctx *d)
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

/* U: nothing fits. */
bool diag_u_nothing_fits(struct dctx *d)
{
	diag_set_cause(d, CAUSE_UNKNOWN, CONF_LOW);
	diag_set_closer(d);
	if (d->first.dir < 0 && d->s->end == END_IDLE)
		EXPLAIN(d, "Both sides fell silent and the flow timed out without a FIN or RST.");
	else
		EXPLAIN(d, "No rule explains this ending.");
	diag_where_it_stopped(d);
	diag_say_closer(d);
	if (d->f->last_reply.frame)
		diag_reply_evidence(d, &d->f->last_reply, "last reply");
	diag_close_evidence(d);
	diag_evidence(d, d->fi->last_frame, d->fi->last_ts, "last packet of the flow");
	diag_advise(d, "Look at the transcript (--transcript) and the server's log for this session.");
	return true;
}
