/*
 * diag_write.c - how the diagnosis writes a verdict: explanation, advice,
 * evidence lines (deduplicated, sorted by frame at the end), durations and
 * sides in words, who closed, the verdict drawn from one decisive reply,
 * the sizes behind a size limit, and where a session stood when it stopped.
 * Rules (diagnose.c's table) call these; none of them decides anything.
 * The texts are formatted by diag_fmt.c (vsnprintf's output, cheaper).
 *
 * Invariants: pure (no I/O, no allocation); every text written into the
 * verdict is bounded by its array; untrusted text comes in already
 * sanitised (smtp_facts, timeline) and is copied with bounds.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag_int.h"

void diag_appendf(char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = strnlen(buf, cap);
	if (n + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	diag_vfmt(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

void diag_advise(struct dctx *d, const char *a)
{
	diag_fmt(d->v->advice, sizeof(d->v->advice), "%s", a ? a : "");
}

void diag_evidence(struct dctx *d, uint64_t frame, sl_time ts, const char *fmt, ...)
{
	struct verdict *v = d->v;
	if (v->n_ev >= VERDICT_MAX_EVIDENCE)
		return;
	char text[EVIDENCE_TEXT_MAX] = "";     /* zero-filled: the verdict stays byte-for-byte deterministic */
	va_list ap;
	va_start(ap, fmt);
	diag_vfmt(text, sizeof(text), fmt, ap);
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
	diag_fmt(v->reply_enhanced, sizeof(v->reply_enhanced), "%s", r->enhanced);
	diag_fmt(v->reply_text, sizeof(v->reply_text), "%s", r->text);
}

void diag_reply_evidence(struct dctx *d, const struct smtp_reply *r, const char *label)
{
	char code[24] = "";
	if (r->code && r->enhanced[0])
		diag_fmt(code, sizeof(code), "%u %s", r->code, r->enhanced);
	else if (r->code)
		diag_fmt(code, sizeof(code), "%u", r->code);
	else
		diag_fmt(code, sizeof(code), "%s", r->enhanced);
	diag_evidence(d, r->frame, r->ts, "%s %s %.150s", label, code, r->text);
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

/* Whether a command moves the dialog to a phase of its own (unknown
 * commands, NOOP, RSET, VRFY and the like leave it where it was). */
static bool phase_bearing(enum smtp_cmd c)
{
	switch (c) {
	case CMD_HELO: case CMD_EHLO: case CMD_LHLO: case CMD_AUTH: case CMD_AUTH_DATA:
	case CMD_MAIL: case CMD_RCPT: case CMD_DATA: case CMD_BDAT: case CMD_BODY_END:
	case CMD_STARTTLS: case CMD_QUIT:
		return true;
	default:
		return false;
	}
}

/* An unprompted reply (no command waiting for it) stands in the phase the
 * dialog was in when it came. That is the session's final phase unless the
 * client sent commands after it (a QUIT once it had read a 421): then it is
 * the phase of the client's last phase-bearing command before the reply,
 * idle for a greeting already answered (Sendmail without CHUNKING reads a
 * BDAT chunk's lines as commands and ends with an unprompted 421 before the
 * client's QUIT: the BDAT's phase). Read from the timeline, commands and
 * replies in their order. */
static enum smtp_phase unprompted_phase(struct dctx *d, const struct smtp_reply *r, bool bdat)
{
	const struct timeline *tl = d->s->tl;
	if (!tl)
		return d->f->phase;
	uint32_t n = tl_count(tl), at = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_REPLY_UNPAIRED && e->frame == r->frame && e->code == r->code)
			at = i;
	}
	bool later = false;
	for (uint32_t i = at + 1; i < n && !later; i++) {
		const struct event *e = tl_at(tl, i);
		later = e->kind == EV_COMMAND && e->dir == DIR_C2S;
	}
	if (at == n || !later)
		return d->f->phase;
	bool answered = false;
	for (uint32_t i = at; i-- > 0;) {
		const struct event *e = tl_at(tl, i);
		if (e->kind == EV_REPLY || e->kind == EV_GREETING) {
			answered = true;
		} else if (e->kind == EV_COMMAND && e->dir == DIR_C2S && phase_bearing((enum smtp_cmd)e->code)) {
			enum smtp_cmd c = (enum smtp_cmd)e->code;
			if (c == CMD_HELO || c == CMD_EHLO || c == CMD_LHLO)
				return answered ? PH_IDLE : PH_HELO;
			return phase_of_cmd(d, c, bdat);
		}
	}
	return d->f->phase;
}

void diag_reply_verdict(struct dctx *d, const struct smtp_reply *r, const struct reply_reading *rd)
{
	const struct smtp_facts *f = d->f;
	const struct smtp_message *m = diag_last_msg(f);
	char b[32];
	diag_set_cause(d, rd->cause, rd->conf);
	diag_set_reply(d, r);
	diag_set_closer(d);
	d->v->phase = r->answers == CMD_NONE ? unprompted_phase(d, r, m && m->bdat)
					     : phase_of_cmd(d, r->answers, m && m->bdat);
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
	const struct event *e = diag_ehlo_reply(d);
	if (e && f->has_size_limit)
		diag_evidence(d, e->frame, e->ts, "EHLO reply advertises SIZE %" PRIu64, f->size_limit);
	if (m && m->has_declared_size && m->first_frame)
		diag_evidence(d, m->first_frame, m->start_ts, "MAIL FROM declares SIZE=%" PRIu64, m->declared_size);
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

/* Evidence reads best in capture order (frame 0 = no frame, kept last). */
void diag_sort_evidence(struct verdict *v)
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
