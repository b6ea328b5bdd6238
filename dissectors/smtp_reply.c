/*
 * smtp_reply.c - the server's side of the dialog: reply lines framed into
 * replies (multi-line, codes, enhanced codes), each paired with the command
 * it answers through the FIFO, and what an answer changes (the gate on the
 * client's bytes, AUTH and STARTTLS outcomes, the message's replies); TLS
 * records after the switch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* ---- replies -------------------------------------------------------- */

static void reply_text_append(struct smtp *s, const uint8_t *t, size_t n)
{
	size_t have = strlen(s->r.text);
	if (have && have + 1 < sizeof(s->r.text))
		s->r.text[have++] = ' ';
	if (have + 1 < sizeof(s->r.text))
		sl_text_copy(s->r.text + have, sizeof(s->r.text) - have, t, n);
	/* refusals may echo the client's line: never its credentials (a 334's
	 * base64 is the server's own prompt, and successes are left as sent) */
	if (s->r.code >= 400)
		smtp_hide_credential_words(s->r.text + have);
}

static void answer(struct smtp *s, const struct pend *p, const struct seg_meta *m);

void smtp_reply_done(struct smtp *s, const struct seg_meta *m)
{
	struct smtp_facts *f = &s->f;
	struct smtp_reply *r = &s->r;
	s->r_open = false;
	r->frame = m->frame;
	r->ts = m->ts;
	/* The client's silence runs from its last byte, or from the server's
	 * previous reply when that came later (its turn began then). */
	sl_time since = SL_MAX(f->last_c2s_ts, f->last_reply.ts);
	r->client_quiet = since && m->ts > since ? m->ts - since : 0;
	f->replies++;
	/* Each 334 owes one line of AUTH data, counted rather than flagged:
	 * when the client's answer is read after a later reply (a capture's
	 * times gone wrong) the line is still secret. The lines the client
	 * sent while waiting for this reply (held, read now) are owed too:
	 * which of them answers the prompt is not for the order of the
	 * capture to decide. */
	if (r->code == 334) {
		unsigned owed = 1;
		if (s->cm == C_GATED && s->defer_len) {
			unsigned lines = s->defer[s->defer_len - 1] != '\n';
			for (size_t i = 0; i < s->defer_len; i++)
				lines += s->defer[i] == '\n';
			owed = lines > owed ? lines : owed;
		}
		unsigned due = s->secret_due + owed;
		s->secret_due = (uint8_t)(due < SMTP_SECRET_DUE_MAX ? due : SMTP_SECRET_DUE_MAX);
	}
	if (r->code >= 400 && r->code < 600) {
		if (r->code < 500)
			f->replies_4xx++;
		else
			f->replies_5xx++;
		f->consecutive_errors++;
	} else {
		f->consecutive_errors = 0;
	}
	if (s->sync_c)
		s->sync_reply_seen = true;
	/* Mid-session start: the greeting was before the capture unless this
	 * first reply is one; the reply then answers something not seen. */
	if (s->midstream && !s->greeted && r->code != 220 && r->code != 421 && r->code != 554) {
		const struct pend *head = smtp_q_peek(s);
		struct pend g;
		if (head && head->cmd == CMD_CONNECT)
			(void)smtp_q_pop(s, &g);
		s->greeted = true;
	}
	struct pend p;
	bool paired = smtp_q_pop(s, &p);
	r->answers = paired ? (enum smtp_cmd)p.cmd : CMD_NONE;
	r->bad_args = paired && p.bad_args;
	smtp_reply_copy(&f->last_reply, r);
	if (r->code >= 400 && r->code < 600)
		smtp_reply_copy(&f->last_error, r);
	enum ev_kind k = !paired ? EV_REPLY_UNPAIRED : p.cmd == CMD_CONNECT ? EV_GREETING : EV_REPLY;
	struct event *e = smtp_ev(s, k, DIR_S2C, m, r->text, s->r_first_len);
	if (e) {
		e->code = r->code;
		memcpy(e->enhanced, r->enhanced, sizeof(e->enhanced));
		e->num = r->lines;
	}
	if (!paired) {
		f->unpaired_replies++;
		return;
	}
	answer(s, &p, m);
}

#define SMTP_HIDE_LOOKBACK 64     /* events searched back for a line found to be AUTH data */

/* 235 and 535 answer AUTH data only, and 334 an AUTH step: a line they
 * answer that was read as an unknown command (its prompt lost or mangled,
 * its bytes read after later replies) was AUTH data. Its text, in every
 * event that showed it, is hidden now, before any report is written. A
 * known command (a QUIT the server took for a user name) stays shown. */
static void hide_answered_line(struct smtp *s, const struct pend *p)
{
	struct timeline *tl = s->tl;
	if (!tl)
		return;
	uint32_t n = tl_count(tl);
	for (uint32_t k = 0; k < n && k < SMTP_HIDE_LOOKBACK; k++) {
		struct event *e = tl_at_mut(tl, n - 1 - k);
		if (e->dir != DIR_C2S || e->frame != p->frame)
			continue;
		if (e->kind == EV_COMMAND || e->kind == EV_LONG_LINE || e->kind == EV_EARLY_TALKER)
			snprintf(e->text, sizeof(e->text), "%s", "[credentials hidden]");
	}
}

/* What a reply means for the command it answers. */
static void answer(struct smtp *s, const struct pend *p, const struct seg_meta *m)
{
	struct smtp_facts *f = &s->f;
	const struct smtp_reply *r = &s->r;
	bool ok = r->code >= 200 && r->code < 300;
	struct smtp_message *msg = smtp_msg_at(s, p->msg);
	if ((r->code == 235 || r->code == 535 || r->code == 334) && p->cmd == CMD_UNKNOWN)
		hide_answered_line(s, p);
	switch ((enum smtp_cmd)p->cmd) {
	case CMD_CONNECT:
		smtp_reply_copy(&f->greeting, r);
		s->greeted = true;
		if (r->code >= 200 && r->code < 600)
			f->is_smtp = true;
		break;
	case CMD_HELO:
	case CMD_EHLO:
	case CMD_LHLO:
		if (ok)
			s->helo_ok = true;
		f->is_smtp = true;
		break;
	case CMD_MAIL:
		if (msg)
			smtp_reply_copy(&msg->mail_reply, r);
		f->is_smtp = true;
		break;
	case CMD_RCPT:
		if (msg) {
			if (s->rcpt_replies < SMTP_MAX_RCPTS)
				msg->rcpt_codes[s->rcpt_replies] = r->code;
			s->rcpt_replies++;
			if (ok)
				msg->rcpts_accepted++;
		}
		break;
	case CMD_DATA:
		if (msg)
			smtp_reply_copy(&msg->data_reply, r);
		if (r->code == 354) {
			if (s->cm == C_GATED)
				smtp_body_start(s, m, "354");
		} else if (s->cm == C_GATED) {
			smtp_client_enter(s, C_CMD, m);
		}
		break;
	case CMD_BODY_END:
		if (msg)
			smtp_reply_copy(&msg->final_reply, r);
		break;
	case CMD_BDAT:
		if (msg && msg->data_reply.code == 0)
			smtp_reply_copy(&msg->data_reply, r);
		if (p->last || !ok) {
			if (msg)
				smtp_reply_copy(&msg->final_reply, r);
			s->bdat_active = s->cm == C_BDAT;
		}
		break;
	case CMD_AUTH:
	case CMD_AUTH_DATA:
		smtp_auth_reply(s, r, m);
		s->after_auth = r->code != 334;
		if (s->cm == C_GATED)
			smtp_client_enter(s, (r->code == 334 && s->auth_active) ? C_AUTH : C_CMD, m);
		break;
	case CMD_STARTTLS: {
		smtp_reply_copy(&f->starttls_reply, r);
		struct event *e = smtp_ev(s, EV_STARTTLS, DIR_S2C, m, r->text, s->r_first_len);
		if (e)
			e->code = r->code;
		if (r->code == 220) {
			f->starttls = STLS_ACCEPTED;
			smtp_ensure_tls(s);
			smtp_server_enter(s, S_TLS, m);
			smtp_client_enter(s, C_TLS, m);
			s->tls_checked[0] = s->tls_checked[1] = false;
		} else {
			f->starttls = STLS_REFUSED;
			if (s->cm == C_GATED)
				smtp_client_enter(s, C_CMD, m);
		}
		break;
	}
	case CMD_QUIT:
		smtp_reply_copy(&f->quit_reply, r);
		break;
	default:
		break;
	}
	if ((r->code == 500 || r->code == 502) && p->cmd != CMD_UNKNOWN)
		f->unknown_commands++;
	if (p->gate)
		smtp_replay(s);
}

/* A server line without a reply code (EV_NOCODE_LINE, EV_NOT_SMTP): the
 * enhanced code it starts with (after spaces or dashes), and where the
 * words after it begin, read from the kept text, so the diagnosis need not
 * parse the line. A class-2 code is kept too; the reader decides. */
static void nocode_words(struct event *e)
{
	if (!e)
		return;
	const char *at = e->text;
	while (*at == ' ' || *at == '-')
		at++;
	size_t el = smtp_parse_enhanced((const uint8_t *)at, strlen(at), false, e->enhanced, sizeof(e->enhanced));
	if (!el) {
		e->enhanced[0] = '\0';
		return;
	}
	const char *rest = at + el;
	while (*rest == ' ')
		rest++;
	e->num = (uint64_t)(rest - e->text);
}

static void not_smtp(struct smtp *s, enum sl_dir d, const struct seg_meta *m, const uint8_t *b, size_t n)
{
	s->f.not_smtp = true;
	struct event *e = smtp_ev(s, EV_NOT_SMTP, d, m, b, SL_MIN(smtp_auth_inside(b, n), (size_t)64));
	if (e)
		smtp_hide_credential_words(e->text);
	if (d == DIR_S2C)
		nocode_words(e);
	smtp_client_enter(s, C_DEAD, m);
	smtp_server_enter(s, S_DEAD, m);
}

void smtp_server_line(struct smtp *s, const struct line_ev *ev, const struct seg_meta *m)
{
	struct smtp_line *l = &s->line[DIR_S2C];
	const uint8_t *b = l->buf;
	size_t n = l->kept;
	if (s->sync_s) {
		/* Mid-session start: the server's lines are read from its first
		 * line with a reply code on (the end of a reply the capture cut
		 * into is not one). */
		bool coded = n >= 3 && smtp_is_digit(b[0]) && smtp_is_digit(b[1]) && smtp_is_digit(b[2]) &&
			     (n == 3 || b[3] == ' ' || b[3] == '-');
		if (!coded) {
			s->f.midstream_skipped++;
			return;
		}
		s->sync_s = false;
	}
	if (ev->bare_lf) {
		if (s->f.bare_lf == 0)
			smtp_ev(s, EV_BARE_LF, DIR_S2C, m, "reply line", 10);
		s->f.bare_lf++;
	}
	if (l->total + 2 > SMTP_REPLY_LINE_MAX) {
		s->f.long_lines++;
		struct event *e = smtp_ev(s, EV_LONG_LINE, DIR_S2C, m, "reply line", 10);
		if (e)
			e->num = l->total;
	}
	bool coded = n >= 3 && smtp_is_digit(b[0]) && smtp_is_digit(b[1]) && smtp_is_digit(b[2]) && (n == 3 || !smtp_is_digit(b[3]));
	if (!coded) {
		if (s->r_open) {
			if (!s->r_nocode_noted)
				smtp_note(s, DIR_S2C, m, "reply line without a code inside a reply");
			s->r_nocode_noted = true;
			s->f.nocode_lines++;
			reply_text_append(s, b, n);
			s->r.lines++;
			return;
		}
		if (!s->f.is_smtp && s->f.replies == 0 && !s->greeted) {
			/* The server's first line is not a reply: unless the client
			 * speaks SMTP or TLS, this is another protocol. */
			if (!s->c_seen || !s->f.commands || s->f.unknown_commands == s->f.commands) {
				not_smtp(s, DIR_S2C, m, b, n);
				return;
			}
		}
		s->f.nocode_lines++;
		/* Keep the line: some servers send "4.7.0 ..." with no code as
		 * their last word, and its enhanced code is all a diagnosis has.
		 * The line is kept as far as it fits behind the prefix the
		 * transcript prints before it (NOCODE_NOTE_PREFIX). */
		char note[EV_TEXT_MAX], kept[EV_TEXT_MAX];
		static const char prefix[] = NOCODE_NOTE_PREFIX;
		/* A client's credential read as the server's (roles guessed
		 * wrong in a capture that starts mid-session, or bytes a
		 * server echoes) never shows: an AUTH line is cut after its
		 * mechanism, a lone base64 token is hidden, as on the client's
		 * side. */
		static const char hidden[] = "[credentials hidden]";
		if (smtp_looks_base64(b, n) && !smtp_upper_word(b, n)) {
			b = (const uint8_t *)hidden;
			n = sizeof(hidden) - 1;
		}
		size_t pl = sizeof(prefix) - 1, take = SL_MIN(smtp_auth_inside(b, n), sizeof(note) - pl);
		memcpy(note, prefix, pl);
		memcpy(note + pl, b, take);
		size_t kl = sl_text_copy(kept, sizeof(kept), (const uint8_t *)note, pl + take);
		kl = pl + smtp_hide_credential_words(kept + pl);
		nocode_words(smtp_ev(s, EV_NOCODE_LINE, DIR_S2C, m, kept + pl, kl - pl));
		return;
	}
	uint16_t code = (uint16_t)((b[0] - '0') * 100 + (b[1] - '0') * 10 + (b[2] - '0'));
	bool cont = n > 3 && b[3] == '-';
	size_t t = 3;
	if (n > 3) {
		if (b[3] == ' ' || b[3] == '-')
			t = 4;
		else if (!s->r_open)
			smtp_note(s, DIR_S2C, m, "no space after the reply code");
	}
	if (s->r_open && code != s->r.code) {
		/* A new code ends the reply it interrupts: postscreen sends
		 * "220-" as a teaser and then "521 5.5.1 Protocol error" to an
		 * early talker. The two are separate replies; merged, the 521
		 * (the reason the session ended) would be lost. */
		smtp_note(s, DIR_S2C, m, "reply code changed inside a multi-line reply");
		smtp_reply_done(s, m);
	}
	if (!s->r_open) {
		memset(&s->r, 0, sizeof(s->r));
		s->r.code = code;
		s->r_open = true;
		s->r_nocode_noted = false;
		if (code < 100 || code > 599)
			smtp_note(s, DIR_S2C, m, "non-standard reply code");
		size_t e = smtp_parse_enhanced(b + t, n - t, true, s->r.enhanced, sizeof(s->r.enhanced));
		if (e) {
			t += e;
			while (t < n && b[t] == ' ')
				t++;
		}
		reply_text_append(s, b + t, n - t);
		s->r_first_len = strlen(s->r.text);
		s->r.lines = 1;
		const struct pend *h = smtp_q_peek(s);
		if (h && (h->cmd == CMD_EHLO || h->cmd == CMD_LHLO) && code == 250) {
			s->f.ext = 0;
			s->f.has_size_limit = false;
			s->f.size_limit = 0;
			s->f.auth_mechs[0] = '\0';
			s->f.extensions[0] = '\0';
		}
	} else {
		char enh[12];
		size_t e = smtp_parse_enhanced(b + t, n - t, true, enh, sizeof(enh));
		if (e) {
			t += e;
			while (t < n && b[t] == ' ')
				t++;
		}
		reply_text_append(s, b + t, n - t);
		s->r.lines++;
		const struct pend *h = smtp_q_peek(s);
		if (h && (h->cmd == CMD_EHLO || h->cmd == CMD_LHLO) && s->r.code == 250)
			smtp_ehlo_line(s, b + t, n - t);
	}
	if (!cont)
		smtp_reply_done(s, m);
}

/* ---- server side ---------------------------------------------------- */

static size_t server_tls(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	if (!s->tls_checked[DIR_S2C]) {
		s->tls_checked[DIR_S2C] = true;
		if (!smtp_looks_tls(b[0])) {
			tls_plaintext(s->tls, DIR_S2C, m);
			if (smtp_is_digit(b[0])) {
				s->tls_plain_smtp[DIR_S2C] = true;
				smtp_server_enter(s, S_LINES, m);
				if (s->f.implicit_tls && !s->f.starttls)
					s->f.tls_client_to_plain = true;
				else
					smtp_note(s, DIR_S2C, m, "server goes on in plaintext SMTP where TLS was due");
				if (s->tls_plain_smtp[DIR_C2S])
					s->f.plaintext_smtp_after_tls = true;
				return 0;
			}
		}
	}
	tls_data(s->tls, DIR_S2C, b, n, m);
	if (s->tls_tap)
		s->tls_tap(s->tls_tap_ctx, DIR_S2C, b, n, 0);
	return n;
}

void smtp_server_feed(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	while (n) {
		size_t used = 0;
		switch (s->sm) {
		case S_DEAD:
			return;
		case S_TLS:
			used = server_tls(s, b, n, m);
			break;
		case S_HTTP_TUNNEL:
		case S_SOCKS:
			used = smtp_tunnel_server(s, b, n, m);
			break;
		case S_LINES: {
			struct smtp_line *l = &s->line[DIR_S2C];
			if (s->sync_s && l->total == 0 && !l->cr && smtp_tls_record_at(b, n)) {
				/* Mid-session start inside TLS: read records, not lines. */
				s->sync_s = false;
				s->greeted = true;
				smtp_ensure_tls(s);
				s->tls_checked[DIR_S2C] = true;
				smtp_server_enter(s, S_TLS, m);
				continue;
			}
			if (l->skip && n >= 4 && smtp_is_digit(b[0]) && smtp_is_digit(b[1]) && smtp_is_digit(b[2]) &&
			    (b[3] == ' ' || b[3] == '-')) {
				l->skip = false;
				s->f.resyncs++;
				smtp_ev(s, EV_RESYNC, DIR_S2C, m, "replies", 7);
			}
			struct line_ev ev;
			used = sline_feed(&s->line[DIR_S2C], b, n, &ev);
			if (ev.resynced) {
				s->f.resyncs++;
				smtp_ev(s, EV_RESYNC, DIR_S2C, m, "replies", 7);
			}
			if (ev.complete) {
				smtp_server_line(s, &ev, m);
				sline_reset(&s->line[DIR_S2C]);
			}
			break;
		}
		}
		b += used;
		n -= used;
	}
}

