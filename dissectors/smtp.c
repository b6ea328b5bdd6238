/*
 * smtp.c - the SMTP dialog: commands, replies, pairing, and how each side's
 * bytes are read at any moment.
 *
 * Each direction has a reading mode (enum cmode for the client, enum smode
 * for the server). Commands go into a bounded FIFO (SMTP_PENDING_MAX) and
 * each complete reply (a multi-line reply counts once) pairs with its head,
 * so PIPELINING is followed. The greeting pairs with CMD_CONNECT, which is
 * queued at creation; the end-of-data reply pairs with CMD_BODY_END.
 *
 * The server's answer decides how the client's next bytes are read after
 * DATA (354: body, else commands), AUTH (334: credentials, else commands)
 * and STARTTLS (220: TLS, else commands). Such a command "gates" the
 * client: bytes that arrive before the answer are held in a deferral
 * buffer (at most SMTP_DEFER_MAX) and read once the answer is known. Early
 * talkers and blind pipeliners are followed this way, as a server would
 * read them. If the buffer fills or the server's side ends without an
 * answer, the client is assumed to have been answered positively (its
 * intent) and an event says so.
 *
 * Invariants: memory is the struct plus the deferral buffer plus the TLS
 * parser; no secret reaches an event or a fact; every event carries the
 * frame and time of the segment that completed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_int.h"

/* ---- small helpers -------------------------------------------------- */

struct event *smtp_ev(struct smtp *s, enum ev_kind k, enum sl_dir d, const struct seg_meta *m,
		      const void *text, size_t len)
{
	return tl_add(s->tl, k, d, m->ts, m->frame, text, len);
}

void smtp_note(struct smtp *s, enum sl_dir d, const struct seg_meta *m, const char *text)
{
	smtp_ev(s, EV_NOTE, d, m, text, strlen(text));
}

struct smtp_message *smtp_cur_msg(struct smtp *s)
{
	if (s->cur_msg < 0 || (uint32_t)s->cur_msg >= s->f.msgs_cap)
		return NULL;
	return &s->f.msgs[s->cur_msg];
}

struct smtp_message *smtp_msg_at(struct smtp *s, int32_t i)
{
	return (i >= 0 && (uint32_t)i < s->f.msgs_cap) ? &s->f.msgs[i] : NULL;
}


void smtp_ensure_tls(struct smtp *s)
{
	if (!s->tls)
		s->tls = tls_new(&s->f.tls, s->tl);
}

/* ---- pairing FIFO --------------------------------------------------- */

static void q_push(struct smtp *s, enum smtp_cmd c, bool gate, bool last, const struct seg_meta *m)
{
	if (s->q_len == SMTP_PENDING_MAX) {
		struct event *e = smtp_ev(s, EV_PENDING_OVERFLOW, DIR_C2S, m, "pending commands reset", 22);
		if (e)
			e->num = s->q_len;
		s->f.pending_overflows++;
		s->q_len = 0;
		s->q_head = 0;
	}
	struct pend *p = &s->q[(s->q_head + s->q_len) % SMTP_PENDING_MAX];
	p->cmd = (uint8_t)c;
	p->gate = gate;
	p->last = last;
	p->bad_args = false;
	p->frame = m ? m->frame : 0;
	p->msg = s->cur_msg;
	s->q_len++;
}

bool smtp_q_pop(struct smtp *s, struct pend *out)
{
	if (s->q_len == 0)
		return false;
	*out = s->q[s->q_head];
	s->q_head = (s->q_head + 1) % SMTP_PENDING_MAX;
	s->q_len--;
	return true;
}

const struct pend *smtp_q_peek(const struct smtp *s)
{
	return s->q_len ? &s->q[s->q_head] : NULL;
}

static bool q_has(const struct smtp *s, enum smtp_cmd c)
{
	for (uint32_t i = 0; i < s->q_len; i++)
		if (s->q[(s->q_head + i) % SMTP_PENDING_MAX].cmd == c)
			return true;
	return false;
}

/* ---- phase ---------------------------------------------------------- */

static void update_phase(struct smtp *s)
{
	struct smtp_facts *f = &s->f;
	enum smtp_phase p;
	bool tls_mode = (s->cm == C_TLS || s->sm == S_TLS);
	f->pending = s->q_len;
	if (tls_mode) {
		bool flowing = f->tls.handshake_done ||
			       (f->tls.appdata_records[0] && f->tls.appdata_records[1]);
		p = (f->implicit_tls || flowing) ? PH_TLS : PH_STARTTLS;
	} else if (!s->greeted) {
		p = PH_GREETING;        /* even if the client said QUIT: no greeting ever came */
	} else if (f->quit_sent) {
		p = PH_QUIT;
	} else if (f->starttls == STLS_REQUESTED) {
		p = PH_STARTTLS;
	} else if (s->auth_active) {
		p = PH_AUTH;
	} else if (s->bdat_active || s->cm == C_BDAT) {
		p = PH_BDAT;
	} else if (s->cm == C_BODY || f->in_body || q_has(s, CMD_DATA) || q_has(s, CMD_BODY_END)) {
		p = PH_DATA;
	} else if (s->in_txn) {
		p = s->rcpt_sent ? PH_RCPT : PH_MAIL;
	} else if (!s->helo_ok) {
		p = PH_HELO;
	} else {
		p = PH_IDLE;
	}
	f->phase = p;
}

/* ---- life cycle ----------------------------------------------------- */

struct hole {
	const uint8_t *p;
	size_t n;
};

/* Zeroes the struct except its large buffers, which are always written
 * before they are read (line buffers, header and tunnel scratch). A short
 * session then touches a few pages instead of clearing the whole struct,
 * which matters with hundreds of thousands of short sessions. */
static void zero_but_buffers(struct smtp *s)
{
	struct hole h[] = {
		{ s->line[0].buf, sizeof(s->line[0].buf) },
		{ s->line[1].buf, sizeof(s->line[1].buf) },
		{ s->hdr, sizeof(s->hdr) },
		{ (const uint8_t *)s->tun_buf, sizeof(s->tun_buf) },
	};
	for (size_t i = 1; i < SL_ARRAY_LEN(h); i++)     /* four entries: insertion sort */
		for (size_t j = i; j > 0 && h[j].p < h[j - 1].p; j--) {
			struct hole t = h[j];
			h[j] = h[j - 1];
			h[j - 1] = t;
		}
	uint8_t *at = (uint8_t *)s;
	for (size_t i = 0; i < SL_ARRAY_LEN(h); i++) {
		memset(at, 0, (size_t)(h[i].p - at));
		at = (uint8_t *)h[i].p + h[i].n;
	}
	memset(at, 0, (size_t)((uint8_t *)(s + 1) - at));
}

struct smtp *smtp_new(struct timeline *tl)
{
	struct smtp *s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	zero_but_buffers(s);
	s->tl = tl;
	s->cur_msg = -1;
	s->cm = C_CMD;
	s->sm = S_LINES;
#ifdef SLEUTH_TRACE_STATES
	s->trace = true;
#endif
	s->hst = H_DONE;
	q_push(s, CMD_CONNECT, false, false, NULL);
	s->f.phase = PH_GREETING;
	s->f.pending = s->q_len;
	return s;
}

size_t smtp_state_size(void)
{
	return sizeof(struct smtp);
}

void smtp_set_tls_tap(struct smtp *s, smtp_tls_fn fn, void *ctx)
{
	s->tls_tap = fn;
	s->tls_tap_ctx = ctx;
}

void smtp_set_body_sink(struct smtp *s, smtp_body_fn fn, void *ctx)
{
	s->body_fn = fn;
	s->body_ctx = ctx;
}

const struct smtp_facts *smtp_facts(const struct smtp *s)
{
	return &s->f;
}

void smtp_free(struct smtp *s)
{
	if (!s)
		return;
	tls_free(s->tls);
	smtp_auth_forget(s);
	free(s->f.msgs);
	if (s->defer) {
		memset(s->defer, 0, s->defer_cap);   /* may hold credentials */
		free(s->defer);
	}
	free(s);
}

/* ---- gating --------------------------------------------------------- */

static void client_end_now(struct smtp *s, const struct seg_meta *m);
static void new_message(struct smtp *s, const struct seg_meta *m);

/* Reads the held client bytes in the mode just decided. */
void smtp_replay(struct smtp *s)
{
	if (s->cm == C_GATED)
		return;
	if (s->defer_len) {
		size_t n = s->defer_len;
		struct seg_meta m = s->defer_meta;
		s->defer_len = 0;
		/* smtp_client_feed may hold bytes again (a new gate): it moves
		 * them to the front of the same buffer with memmove, which is
		 * safe because the destination never passes the source. */
		smtp_client_feed(s, s->defer, n, &m);
	}
	if (s->cm != C_GATED && s->c_end_deferred) {
		s->c_end_deferred = false;
		client_end_now(s, &s->c_end_meta);
	}
}

void smtp_body_start(struct smtp *s, const struct seg_meta *m, const char *why)
{
	struct smtp_message *msg = smtp_cur_msg(s);
	if (!msg && s->cur_msg < 0) {
		/* DATA accepted without MAIL: count a message anyway */
		new_message(s, m);
		msg = smtp_cur_msg(s);
	}
	smtp_client_enter(s, C_BODY, m);
	smtp_body_begin(s, false, m);
	smtp_ev(s, EV_DATA_START, DIR_C2S, m, why, strlen(why));
	(void)msg;
}

/* Decides how the held client bytes are read, as if the gating command had
 * been accepted: used when the buffer fills or the server never answers.
 * Does not replay (the caller does, or is feeding live bytes). */
static void gate_decide(struct smtp *s, const struct seg_meta *m, const char *why)
{
	if (s->cm != C_GATED)
		return;
	/* the gate is the newest queued command */
	struct pend *g = NULL;
	for (uint32_t i = s->q_len; i > 0; i--) {
		struct pend *p = &s->q[(s->q_head + i - 1) % SMTP_PENDING_MAX];
		if (p->gate) {
			g = p;
			break;
		}
	}
	enum smtp_cmd c = g ? (enum smtp_cmd)g->cmd : CMD_NONE;
	if (g)
		g->gate = false;
	char t[96];
	snprintf(t, sizeof(t), "no answer to %s (%s): reading on as if accepted", smtp_cmd_name(c), why);
	smtp_note(s, DIR_C2S, m, t);
	if (c == CMD_DATA) {
		smtp_body_start(s, m, "body before 354");
	} else if (c == CMD_AUTH || c == CMD_AUTH_DATA) {
		smtp_client_enter(s, s->auth_active ? C_AUTH : C_CMD, m);
	} else if (c == CMD_STARTTLS && s->defer_len && smtp_looks_tls(s->defer[0])) {
		smtp_ensure_tls(s);
		smtp_client_enter(s, C_TLS, m);
	} else {
		smtp_client_enter(s, C_CMD, m);
	}
}

static void gate_assume(struct smtp *s, const struct seg_meta *m, const char *why)
{
	if (s->cm != C_GATED)
		return;
	gate_decide(s, m, why);
	smtp_replay(s);
}

/* Holds client bytes; returns how many were taken. When the buffer is full
 * the gate is decided and the caller reads the rest in the new mode (a loop,
 * not a recursion, so any amount of input keeps the stack flat). */
static size_t defer_add(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	size_t taken = 0;
	s->defer_meta = *m;
	while (taken < n) {
		if (s->defer_len == s->defer_cap && s->defer_cap < SMTP_DEFER_MAX) {
			size_t nc = s->defer_cap ? s->defer_cap * 2 : 4096;
			if (nc > SMTP_DEFER_MAX)
				nc = SMTP_DEFER_MAX;
			uint8_t *nb = realloc(s->defer, nc);
			if (!nb)
				break;
			s->defer = nb;
			s->defer_cap = nc;
		}
		size_t room = s->defer_cap - s->defer_len;
		if (room == 0)
			break;
		size_t k = SL_MIN(room, n - taken);
		memmove(s->defer + s->defer_len, b + taken, k);
		s->defer_len += k;
		taken += k;
	}
	if (taken < n) {
		s->defer_overflowed = true;
		gate_assume(s, m, "client kept sending");
	}
	return taken;
}

/* ---- commands ------------------------------------------------------- */

/* An event showing (part of) a client line read as command c. An unknown
 * command may be a credential line whose start was lost ("TH PLAIN
 * <response>" after a gap or an overlap took "AU"): its credential words
 * never show. */
static struct event *client_line_ev(struct smtp *s, enum ev_kind k, const struct seg_meta *m,
				    const void *text, size_t len, enum smtp_cmd c)
{
	struct event *e = smtp_ev(s, k, DIR_C2S, m, text, len);
	if (e && c == CMD_UNKNOWN)
		smtp_hide_credential_words(e->text);
	return e;
}

static void command_event(struct smtp *s, const struct seg_meta *m, const void *text, size_t len,
			  enum smtp_cmd c)
{
	s->f.commands++;
	s->f.last_cmd = c;
	s->f.last_cmd_frame = m->frame;
	s->f.last_cmd_ts = m->ts;
	struct event *e = client_line_ev(s, EV_COMMAND, m, text, len, c);
	if (e)
		e->code = (uint16_t)c;
}

/* The LAST chunk is in: the message is complete, the transaction over. */
static void bdat_complete(struct smtp *s, const struct seg_meta *m)
{
	smtp_body_finish(s, true, m);
	s->in_txn = false;
	s->cur_msg = -1;
}

/* Makes room for message slot i (< SMTP_MAX_MESSAGES), doubling the array.
 * False when memory is short: the message is then counted, not kept. */
static bool msgs_reserve(struct smtp *s, uint32_t i)
{
	if (i != s->f.msgs_cap)     /* slots fill in order; after a failure, none */
		return i < s->f.msgs_cap;
	uint32_t cap = s->f.msgs_cap ? s->f.msgs_cap * 2 : 1;
	if (cap > SMTP_MAX_MESSAGES)
		cap = SMTP_MAX_MESSAGES;
	struct smtp_message *m = realloc(s->f.msgs, (size_t)cap * sizeof(*m));
	if (!m)
		return false;
	s->f.msgs = m;
	s->f.msgs_cap = cap;
	return true;
}

static void new_message(struct smtp *s, const struct seg_meta *m)
{
	bool kept = s->f.n_msgs < SMTP_MAX_MESSAGES && msgs_reserve(s, s->f.n_msgs);
	s->cur_msg = kept ? (int32_t)s->f.n_msgs : SMTP_MAX_MESSAGES;
	s->f.n_msgs++;
	s->in_txn = true;
	s->rcpt_sent = false;
	s->rcpt_replies = 0;
	struct smtp_message *msg = smtp_cur_msg(s);
	if (msg) {
		memset(msg, 0, sizeof(*msg));
		msg->first_frame = m->frame;
		msg->start_ts = m->ts;
	}
}

static void client_line(struct smtp *s, const struct line_ev *ev, const struct seg_meta *m)
{
	struct smtp_facts *f = &s->f;
	struct smtp_line *l = &s->line[DIR_C2S];
	const uint8_t *b = l->buf;
	size_t n = l->kept;
	if (!s->c_first_line_done && !s->s_seen && !s->f.tunnel[0] && smtp_tunnel_http_line(s, b, n, m))
		return;
	bool first_line = !s->c_first_line_done;
	s->c_first_line_done = true;
	if (ev->bare_lf) {
		if (f->bare_lf == 0)
			smtp_ev(s, EV_BARE_LF, DIR_C2S, m, "command line", 12);
		f->bare_lf++;
	}
	size_t argoff;
	enum smtp_cmd c = smtp_cmd_parse(b, n, &argoff);
	/* What other events may show of this line: never credentials. */
	const char *shown = (const char *)b;
	size_t shown_len = SL_MIN(n, (size_t)40);
	/* Where AUTH data is due, a known verb followed by an argument (base64
	 * has no spaces) or QUIT/RSET/NOOP alone means the client gave up.
	 * AUTH data is due after any 334, whatever the dissector saw before. */
	bool after_334 = s->secret_due > 0;
	bool gave_up = c != CMD_UNKNOWN && (argoff < n || c == CMD_QUIT || c == CMD_RSET || c == CMD_NOOP);
	s->secret_due = gave_up ? 0 : s->secret_due - after_334;
	bool auth_line = (s->cm == C_AUTH || after_334) && !gave_up;
	/* Before the server said anything, the dialog's state is unknown: a
	 * base64-looking first line may be AUTH data of a capture that started
	 * right after the server's 334, so it is never shown. A word in
	 * capitals alone ("PING", "XYZZY") is taken for a command: base64 of
	 * a credential almost never is one. Only the first line: a capture
	 * that starts inside a base64 attachment goes on with body lines. */
	bool blind = auth_line && s->cm != C_AUTH;
	if (first_line && c == CMD_UNKNOWN && !s->s_seen && !s->greeted && smtp_looks_base64(b, n) &&
	    !smtp_all_upper(b, n))
		blind = true;
	/* A lone base64 token that is no command is taken for AUTH data
	 * wherever it comes (the AUTH or the 334 before it may be lost, or
	 * the prompt's code mangled); a word of capitals and digits alone
	 * ("XYZZY0") is taken for a command, except right after an AUTH. */
	bool masked = auth_line || blind ||
		      (c == CMD_UNKNOWN && smtp_looks_base64(b, n) && (s->after_auth || !smtp_upper_word(b, n)));
	if (s->sync_c && !blind) {
		/* Mid-session start: a line is a command only when it starts with
		 * a known verb after a complete server reply; before that it may be
		 * body text or anything else, and is skipped unread. */
		if (!s->sync_reply_seen || c == CMD_UNKNOWN) {
			f->midstream_skipped++;
			return;
		}
		s->sync_c = false;
		f->resyncs++;
		smtp_ev(s, EV_RESYNC, DIR_C2S, m, "commands", 8);
	}
	/* an AUTH with its data after other bytes: shown up to its mechanism */
	size_t safe = masked || c == CMD_AUTH ? n : smtp_auth_inside(b, n);
	if (masked) {
		shown = "[credentials hidden]";
		shown_len = strlen(shown);
	} else if (c == CMD_AUTH) {
		shown = "AUTH";
		shown_len = 4;
	} else if (shown_len > safe) {
		shown_len = safe;
	}
	if (l->total + 2 > SMTP_CMD_LINE_MAX) {
		f->long_lines++;
		struct event *e = client_line_ev(s, EV_LONG_LINE, m, shown, shown_len, c);
		if (e)
			e->num = l->total;
	}
	if (!s->greeted && !blind) {
		if (!f->early_talker)
			client_line_ev(s, EV_EARLY_TALKER, m, shown, shown_len, c);
		f->early_talker = true;
		f->early_lines++;
	}
	const uint8_t *arg = b + argoff;
	size_t alen = safe < n ? (safe > argoff ? safe - argoff : 0) : n - argoff;

	if (s->cm == C_AUTH) {
		if (auth_line) {
			bool abort = smtp_auth_data(s, b, n);
			command_event(s, m, abort ? "*" : "[credentials hidden]", abort ? 1 : 20, CMD_AUTH_DATA);
			if (abort)
				smtp_auth_abort(s, m, "client sent *");
			q_push(s, CMD_AUTH_DATA, true, false, m);
			smtp_client_enter(s, C_GATED, m);
			if (s->s_ended)
				gate_decide(s, m, "server closed");
			return;
		}
		smtp_auth_abort(s, m, "command instead of AUTH data");
		smtp_client_enter(s, C_CMD, m);
	}

	if (c == CMD_AUTH) {
		char t[EV_TEXT_MAX];
		smtp_auth_cmd(s, arg, alen, t, sizeof(t));
		command_event(s, m, t, strlen(t), c);
		char a[EV_TEXT_MAX + 200];
		snprintf(a, sizeof(a), "%s%s%s", f->auth_mech, f->auth_user[0] ? " user=" : "", f->auth_user);
		smtp_ev(s, EV_AUTH, DIR_C2S, m, a, strlen(a));
		q_push(s, c, true, false, m);
		smtp_client_enter(s, C_GATED, m);
		if (s->s_ended)
			gate_decide(s, m, "server closed");
		return;
	}
	if (blind) {
		/* AUTH data of an AUTH the capture did not show: its reply is
		 * the outcome of that AUTH */
		smtp_auth_blind(s);
		/* AUTH data comes after the greeting: the one still awaited came
		 * before the capture, and the next reply answers this line */
		struct pend g;
		if (!s->greeted && smtp_q_peek(s) && smtp_q_peek(s)->cmd == CMD_CONNECT) {
			(void)smtp_q_pop(s, &g);
			s->greeted = true;
		}
		command_event(s, m, shown, shown_len, CMD_AUTH_DATA);
		q_push(s, CMD_AUTH_DATA, false, false, m);
		return;
	}
	if (masked) {
		/* pipelined credentials after AUTH was refused: never shown */
		command_event(s, m, shown, shown_len, c);
		f->unknown_commands++;
		q_push(s, c, false, false, m);
		return;
	}
	if (c != CMD_UNKNOWN)
		s->after_auth = false;
	if (safe < n) {
		char t[EV_TEXT_MAX];
		static const char hid[] = " [credentials hidden]";
		size_t k = SL_MIN(safe, sizeof(t) - sizeof(hid));
		memcpy(t, b, k);
		memcpy(t + k, hid, sizeof(hid));
		command_event(s, m, t, k + sizeof(hid) - 1, c);
	} else {
		command_event(s, m, b, n, c);
	}
	bool gate = false;
	bool bad_args = false;
	switch (c) {
	case CMD_HELO:
	case CMD_EHLO:
	case CMD_LHLO: {
		size_t vl = argoff;
		while (vl && (b[vl - 1] == ' ' || b[vl - 1] == '\t'))
			vl--;
		sl_text_copy(f->helo_verb, sizeof(f->helo_verb), b, vl);
		sl_text_copy(f->helo_arg, sizeof(f->helo_arg), arg, alen);
		s->in_txn = false;
		s->cur_msg = -1;
		break;
	}
	case CMD_MAIL:
		new_message(s, m);
		smtp_cmd_mail(s, arg, alen);
		break;
	case CMD_RCPT:
		s->rcpt_sent = true;
		smtp_cmd_rcpt(s, arg, alen);
		break;
	case CMD_DATA:
		gate = true;
		break;
	case CMD_BDAT: {
		uint64_t size;
		bool last;
		if (!smtp_cmd_bdat(arg, alen, &size, &last)) {
			bad_args = true;    /* the server will refuse it; read on as commands */
			break;
		}
		if (s->cur_msg < 0)
			new_message(s, m);
		struct smtp_message *msg = smtp_cur_msg(s);
		struct event *e = smtp_ev(s, EV_BDAT, DIR_C2S, m, NULL, 0);
		if (e) {
			e->num = size;
			e->code = last;
		}
		smtp_body_begin(s, true, m);
		if (msg)
			msg->bdat_chunks++;
		s->bdat_active = true;
		s->bdat_left = size;
		s->bdat_last = last;
		q_push(s, c, false, last, m);
		if (size)
			smtp_client_enter(s, C_BDAT, m);
		else if (last)
			bdat_complete(s, m);
		else
			f->in_body = false;
		return;
	}
	case CMD_RSET:
		s->in_txn = false;
		s->cur_msg = -1;
		s->bdat_active = false;
		break;
	case CMD_QUIT:
		f->quit_sent = true;
		break;
	case CMD_STARTTLS:
		f->starttls = STLS_REQUESTED;
		gate = true;
		break;
	case CMD_UNKNOWN:
		f->unknown_commands++;
		break;
	default:
		break;
	}
	q_push(s, c, gate, false, m);
	if (bad_args)
		s->q[(s->q_head + s->q_len - 1) % SMTP_PENDING_MAX].bad_args = true;
	if (gate) {
		smtp_client_enter(s, C_GATED, m);
		if (s->s_ended)
			gate_decide(s, m, "server closed");
	}
}

/* ---- client side ---------------------------------------------------- */

/* After a gap: do these bytes begin with a known verb and a separator? */
static bool starts_command(const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i < n && i < 9 && smtp_is_alpha(b[i]))
		i++;
	if (i < 4 || i == n || (b[i] != ' ' && b[i] != '\r' && b[i] != '\n'))
		return false;
	size_t argoff;
	return smtp_cmd_parse(b, i, &argoff) != CMD_UNKNOWN;
}

static size_t client_tls(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m);

void smtp_client_feed(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	while (n) {
		size_t used = 0;
		switch (s->cm) {
		case C_DEAD:
			return;
		case C_GATED:
			used = defer_add(s, b, n, m);
			break;
		case C_TLS:
			used = client_tls(s, b, n, m);
			break;
		case C_BODY: {
			bool ended;
			used = smtp_body_data(s, b, n, m, &ended);
			if (ended) {
				smtp_body_finish(s, true, m);
				smtp_client_enter(s, C_CMD, m);
				q_push(s, CMD_BODY_END, false, false, m);
				s->f.last_cmd = CMD_BODY_END;
				s->f.last_cmd_frame = m->frame;
				s->f.last_cmd_ts = m->ts;
				s->in_txn = false;
				s->cur_msg = -1;
			}
			break;
		}
		case C_BDAT: {
			used = (size_t)SL_MIN((uint64_t)n, s->bdat_left);
			smtp_body_bdat(s, b, used);
			s->bdat_left -= used;
			if (s->bdat_left == 0) {
				smtp_client_enter(s, C_CMD, m);
				if (s->bdat_last)
					bdat_complete(s, m);
				else
					s->f.in_body = false;
			}
			break;
		}
		case C_HTTP_TUNNEL:
		case C_SOCKS:
			used = smtp_tunnel_client(s, b, n, m);
			break;
		case C_CMD:
		case C_AUTH: {
			struct smtp_line *l = &s->line[DIR_C2S];
			if (s->sync_c && l->total == 0 && !l->cr && smtp_tls_record_at(b, n)) {
				/* Mid-session start inside TLS: read records, not lines.
				 * A server that spoke in lines before (its 220 to a
				 * STARTTLS the capture missed) goes on in TLS too. */
				s->sync_c = false;
				s->c_first_line_done = true;
				smtp_ensure_tls(s);
				s->tls_checked[DIR_C2S] = true;
				smtp_client_enter(s, C_TLS, m);
				if (s->sm == S_LINES) {
					if (s->s_seen && s->f.starttls == STLS_NONE)
						s->f.starttls = STLS_ACCEPTED;
					else if (!s->s_seen)
						s->f.implicit_tls = true;
					s->sync_s = false;
					smtp_server_enter(s, S_TLS, m);
				}
				continue;
			}
			if (!s->c_first_line_done && l->total == 0 && !l->cr && !l->skip) {
				if (b[0] == 0x16 && (n < 2 || b[1] == 3)) {
					/* implicit TLS (or TLS to a plaintext server) */
					s->f.implicit_tls = true;
					smtp_ensure_tls(s);
					smtp_client_enter(s, C_TLS, m);
					s->tls_checked[DIR_C2S] = true;
					if (s->s_seen && s->sm == S_LINES) {
						s->f.tls_client_to_plain = true;
						/* The proof is the server's plaintext (its
						 * greeting, else its last reply), not this
						 * ClientHello: cite that packet. */
						struct seg_meta pm = *m;
						const struct smtp_reply *pr = s->f.greeting.frame ? &s->f.greeting
									     : &s->f.last_reply;
						if (pr->frame) {
							pm.frame = pr->frame;
							pm.ts = pr->ts;
						}
						tls_plaintext(s->tls, DIR_S2C, &pm);
					} else if (!s->s_seen) {
						smtp_server_enter(s, S_TLS, m);
					}
					continue;
				}
				if (!s->s_seen && !s->f.tunnel[0] && smtp_tunnel_detect(s, b, n, m))
					continue;
			}
			if (l->skip && starts_command(b, n)) {
				/* the gap ended on a line boundary: no need to skip */
				l->skip = false;
				s->f.resyncs++;
				smtp_ev(s, EV_RESYNC, DIR_C2S, m, "commands", 8);
			}
			struct line_ev ev;
			used = sline_feed(l, b, n, &ev);
			if (ev.resynced) {
				s->f.resyncs++;
				smtp_ev(s, EV_RESYNC, DIR_C2S, m, "commands", 8);
			}
			if (ev.complete) {
				client_line(s, &ev, m);
				sline_reset(l);
			}
			break;
		}
		}
		b += used;
		n -= used;
	}
}

static size_t client_tls(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	if (!s->tls_checked[DIR_C2S]) {
		s->tls_checked[DIR_C2S] = true;
		if (!smtp_looks_tls(b[0])) {
			tls_plaintext(s->tls, DIR_C2S, m);
			if (smtp_is_alpha(b[0])) {
				s->tls_plain_smtp[DIR_C2S] = true;
				smtp_client_enter(s, C_CMD, m);
				smtp_note(s, DIR_C2S, m, "client goes on in plaintext SMTP where TLS was due");
				if (s->tls_plain_smtp[DIR_S2C])
					s->f.plaintext_smtp_after_tls = true;
				return 0;
			}
		}
	}
	tls_data(s->tls, DIR_C2S, b, n, m);
	if (s->tls_tap)
		s->tls_tap(s->tls_tap_ctx, DIR_C2S, b, n, 0);
	return n;
}

/* A re-entered side's wire bytes (or gap): TLS records for the record
 * reader and the tap; the plaintext comes back through smtp_tls_plain. */
static void inner_wire(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap,
		       const struct seg_meta *m)
{
	if (b)
		tls_data(s->tls, dir, b, n, m);
	else
		tls_gap(s->tls, dir, gap);
	if (s->tls_tap)
		s->tls_tap(s->tls_tap_ctx, dir, b, n, gap);
}

/* ---- the face ------------------------------------------------------- */

void smtp_data(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	if (!s || n == 0)
		return;
	if (dir == DIR_C2S) {
		s->f.c2s_bytes += n;
		s->f.last_c2s_ts = m->ts;
		s->f.last_c2s_frame = m->frame;
		if (s->tls_inner[dir])
			inner_wire(s, dir, b, n, 0, m);
		else
			smtp_client_feed(s, b, n, m);
		s->c_seen = true;
	} else {
		s->f.s2c_bytes += n;
		s->f.last_s2c_ts = m->ts;
		s->f.last_s2c_frame = m->frame;
		s->s_seen = true;
		if (s->tls_inner[dir])
			inner_wire(s, dir, b, n, 0, m);
		else
			smtp_server_feed(s, b, n, m);
	}
	update_phase(s);
}

static void gap_modes(struct smtp *s, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	smtp_auth_gap(s);
	if (dir == DIR_C2S) {
		if (s->cm == C_GATED)
			gate_assume(s, m, "gap");
		switch (s->cm) {
		case C_BODY:
			smtp_body_gap(s, len);
			break;
		case C_BDAT: {
			struct smtp_message *msg = smtp_cur_msg(s);
			uint64_t in = SL_MIN(len, s->bdat_left);
			s->bdat_left -= in;
			s->f.gaps_data++;
			if (msg)
				msg->gap_bytes += in;
			if (s->bdat_left == 0) {
				smtp_client_enter(s, C_CMD, m);
				if (s->bdat_last)
					bdat_complete(s, m);
				if (len > in) {
					s->f.gaps_cmd++;
					sline_gap(&s->line[DIR_C2S]);
				}
			}
			break;
		}
		case C_TLS:
			tls_gap(s->tls, DIR_C2S, len);
			if (s->tls_tap)
				s->tls_tap(s->tls_tap_ctx, DIR_C2S, NULL, 0, len);
			break;
		case C_CMD:
		case C_AUTH:
			s->f.gaps_cmd++;
			sline_gap(&s->line[DIR_C2S]);
			break;
		default:
			break;
		}
	} else {
		if (s->sm == S_TLS) {
			tls_gap(s->tls, DIR_S2C, len);
			if (s->tls_tap)
				s->tls_tap(s->tls_tap_ctx, DIR_S2C, NULL, 0, len);
		} else if (s->sm == S_LINES) {
			s->f.gaps_cmd++;
			s->r_open = false;
			sline_gap(&s->line[DIR_S2C]);
		}
	}
}

void smtp_gap(struct smtp *s, enum sl_dir dir, uint64_t len, const struct seg_meta *m)
{
	if (!s || len == 0)
		return;
	if (s->tls_inner[dir])
		inner_wire(s, dir, NULL, 0, len, m);
	else
		gap_modes(s, dir, len, m);
	update_phase(s);
}

/* ---- re-entry: decrypted TLS read as SMTP ---------------------------- */

bool smtp_tls_inner(const struct smtp *s, enum sl_dir dir)
{
	return s && s->tls_inner[dir];
}

void smtp_tls_plain(struct smtp *s, enum sl_dir dir, const uint8_t *b, size_t n, uint64_t gap,
		    const struct seg_meta *m)
{
	if (!s || (b && !n) || (!b && !gap))
		return;
	if (!s->tls_inner[dir]) {
		/* Only a side that is reading TLS records re-enters; one that
		 * went on in plaintext (or died) keeps its reading. */
		if (dir == DIR_C2S ? s->cm != C_TLS : s->sm != S_TLS)
			return;
		s->tls_inner[dir] = true;
		sline_reset(&s->line[dir]);
		if (dir == DIR_C2S) {
			s->c_first_line_done = true;
			smtp_client_enter(s, C_CMD, m);
		} else {
			smtp_server_enter(s, S_LINES, m);
		}
	}
	if (!b)
		gap_modes(s, dir, gap, m);
	else if (dir == DIR_C2S)
		smtp_client_feed(s, b, n, m);
	else
		smtp_server_feed(s, b, n, m);
	update_phase(s);
}

/* The client's side is over: flush a partial line, note a cut body. */
static void client_end_now(struct smtp *s, const struct seg_meta *m)
{
	struct smtp_line *l = &s->line[DIR_C2S];
	if ((s->cm == C_CMD || s->cm == C_AUTH) && (l->total || l->cr) && !l->skip) {
		struct line_ev ev = { .complete = true };
		client_line(s, &ev, m);
		sline_reset(l);
	}
	if (s->cm == C_BODY || s->cm == C_BDAT) {
		struct smtp_message *msg = smtp_cur_msg(s);
		s->f.in_body = true;
		if (msg) {
			msg->end_frame = m->frame;
			msg->end_ts = m->ts;
		}
		if (s->body_fn && s->f.n_msgs > 0)
			s->body_fn(s->body_ctx, s->f.n_msgs - 1, NULL, 0, true);
		smtp_client_enter(s, C_DEAD, m);
	}
	s->c_ended = true;
}

void smtp_end(struct smtp *s, enum sl_dir dir, const struct seg_meta *m)
{
	if (!s)
		return;
	if (dir == DIR_C2S) {
		if (s->c_ended || s->c_end_deferred)
			return;
		if (s->cm == C_GATED) {
			s->c_end_deferred = true;
			s->c_end_meta = *m;
		} else {
			client_end_now(s, m);
		}
	} else {
		if (s->s_ended)
			return;
		struct smtp_line *l = &s->line[DIR_S2C];
		if (s->sm == S_LINES && (l->total || l->cr) && !l->skip) {
			struct line_ev ev = { .complete = true };
			smtp_server_line(s, &ev, m);
			sline_reset(l);
		}
		if (s->sm == S_LINES && s->r_open) {
			smtp_note(s, DIR_S2C, m, "multi-line reply cut short");
			smtp_reply_done(s, m);
		}
		s->s_ended = true;
		if (s->cm == C_GATED)
			gate_assume(s, m, "server closed");
	}
	if ((s->c_ended || s->c_end_deferred) && s->s_ended && s->f.auth_result == AUTH_PENDING) {
		smtp_auth_abort(s, m, "session ended inside AUTH");
		s->auth_active = true;      /* the dialog ended in this phase */
	}
	update_phase(s);
}
