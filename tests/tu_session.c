/*
 * tu_session.c - see tu_session.h. Mirrors the documented meanings of
 * flow_info (engine.h) and smtp_facts (smtp.h); it is a model for tests, not
 * a second dissector.
 */
#include "tu_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_T0 (1700000000LL * NS_PER_SEC)

void tu_sess_init(struct tu_session *t)
{
	memset(t, 0, sizeof(*t));
	tl_init(&t->tl);
	t->now = TU_T0;
	t->fi.id = 1;
	sl_addr_parse("192.0.2.10", &t->fi.client);
	sl_addr_parse("198.51.100.25", &t->fi.server);
	t->fi.client_port = 40000;
	t->fi.server_port = 25;
	t->fi.roles_from_syn = true;
	t->fi.first_ts = t->now;
	t->fi.file = "crafted.pcap";
	t->ttl[DIR_C2S] = 64;
	t->ttl[DIR_S2C] = 52;
	for (int d = 0; d < 2; d++)
		t->fi.dir[d].wscale = -1;
	t->f.phase = PH_CONNECT;
	t->v.id = 1;
	t->v.fi = &t->fi;
	t->v.smtp = &t->f;
	t->v.tl = &t->tl;
	t->v.protocol = "SMTP";
	t->v.end = END_CLOSED;
}

void tu_sess_free(struct tu_session *t)
{
	tl_free(&t->tl);
}

void tu_wait(struct tu_session *t, double seconds)
{
	t->now += (sl_time)(seconds * (double)NS_PER_SEC);
}

/* Accounts one packet from dir that is not a RST. */
static uint64_t packet(struct tu_session *t, enum sl_dir dir, uint64_t n)
{
	struct tcp_dir_stats *d = &t->fi.dir[dir];
	uint64_t fr = ++t->frame;
	if (!d->packets) {
		d->first_frame = fr;
		d->first_ts = t->now;
		d->ttl_first = d->ttl_min = d->ttl_max = t->ttl[dir];
		d->ip_id_last = 100;
	}
	d->packets++;
	d->last_frame = fr;
	d->last_ts = t->now;
	d->ttl_last = t->ttl[dir];
	d->ttl_min = SL_MIN(d->ttl_min, t->ttl[dir]);
	d->ttl_max = SL_MAX(d->ttl_max, t->ttl[dir]);
	d->ip_id_last++;
	if (n) {
		d->payload_packets++;
		d->bytes += n;
		d->last_payload_ts = t->now;
		d->last_payload_frame = fr;
		if (dir == DIR_C2S) {
			t->f.c2s_bytes += n;
			t->f.last_c2s_ts = t->now;
			t->f.last_c2s_frame = fr;
		} else {
			t->f.s2c_bytes += n;
			t->f.last_s2c_ts = t->now;
			t->f.last_s2c_frame = fr;
		}
	}
	if (!t->fi.first_frame)
		t->fi.first_frame = fr;
	t->fi.last_frame = fr;
	t->fi.last_ts = t->now;
	return fr;
}

uint64_t tu_pkt(struct tu_session *t, enum sl_dir dir, uint64_t n)
{
	return packet(t, dir, n);
}

uint64_t tu_syn(struct tu_session *t)
{
	uint64_t fr = packet(t, DIR_C2S, 0);
	t->fi.syn_seen = true;
	t->fi.dir[DIR_C2S].syns++;
	t->fi.dir[DIR_C2S].mss = 1460;
	tl_add(&t->tl, EV_SYN, DIR_C2S, t->now, fr, NULL, 0)->num = t->fi.dir[DIR_C2S].syns;
	return fr;
}

uint64_t tu_synack(struct tu_session *t)
{
	uint64_t fr = packet(t, DIR_S2C, 0);
	t->fi.synack_seen = true;
	t->fi.dir[DIR_S2C].syns++;
	tl_add(&t->tl, EV_SYNACK, DIR_S2C, t->now, fr, NULL, 0);
	return fr;
}

void tu_handshake(struct tu_session *t)
{
	tu_syn(t);
	tu_wait(t, 0.001);
	tu_synack(t);
	tu_wait(t, 0.001);
	packet(t, DIR_C2S, 0);
	t->fi.handshake_done = true;
	t->f.phase = PH_GREETING;
}

uint64_t tu_refuse(struct tu_session *t)
{
	tu_wait(t, 0.0002);
	uint64_t fr = tu_rst(t, DIR_S2C, 0);
	t->fi.refused = true;
	tl_add(&t->tl, EV_SYN_RST, DIR_S2C, t->now, fr, NULL, 0);
	return fr;
}

uint64_t tu_retrans(struct tu_session *t, enum sl_dir dir, uint64_t n)
{
	struct tcp_dir_stats *d = &t->fi.dir[dir];
	uint64_t fr = ++t->frame;
	d->packets++;
	d->retransmissions++;
	d->last_frame = fr;
	d->last_ts = t->now;
	t->fi.last_frame = fr;
	t->fi.last_ts = t->now;
	tl_add(&t->tl, EV_RETRANSMISSION, dir, t->now, fr, NULL, 0)->num = n;
	return fr;
}

static bool is_error(uint16_t code)
{
	return code >= 400 && code < 600;
}

static void set_reply(struct smtp_reply *r, uint16_t code, const char *enh, const char *text,
		      enum smtp_cmd answers, uint64_t fr, sl_time ts)
{
	memset(r, 0, sizeof(*r));
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh ? enh : "");
	snprintf(r->text, sizeof(r->text), "%s", text ? text : "");
	r->lines = 1;
	r->answers = answers;
	r->frame = fr;
	r->ts = ts;
}

/* Counters every reply updates, as the dissector does. */
static void count_reply(struct tu_session *t, uint16_t code)
{
	t->f.replies++;
	if (code >= 400 && code < 500)
		t->f.replies_4xx++;
	if (code >= 500 && code < 600)
		t->f.replies_5xx++;
	if (is_error(code))
		t->f.consecutive_errors++;
	else
		t->f.consecutive_errors = 0;
	if (code == 500 || code == 502)
		t->f.unknown_commands++;
}

uint64_t tu_greet(struct tu_session *t, uint16_t code, const char *enh, const char *text)
{
	char line[600];
	snprintf(line, sizeof(line), "%u %s", code, text);
	uint64_t fr = packet(t, DIR_S2C, strlen(line) + 2);
	t->f.is_smtp = true;
	set_reply(&t->f.greeting, code, enh, text, CMD_CONNECT, fr, t->now);
	t->f.last_reply = t->f.greeting;
	if (is_error(code))
		t->f.last_error = t->f.greeting;
	count_reply(t, code);
	t->f.phase = code >= 200 && code < 300 ? PH_HELO : PH_GREETING;
	struct event *e = tl_add(&t->tl, EV_GREETING, DIR_S2C, t->now, fr, text, strlen(text));
	e->code = code;
	snprintf(e->enhanced, sizeof(e->enhanced), "%s", enh ? enh : "");
	return fr;
}

static struct smtp_message *cur_msg(struct tu_session *t)
{
	if (!t->f.n_msgs)
		return NULL;
	return &t->f.msgs[SL_MIN(t->f.n_msgs, SMTP_MAX_MESSAGES) - 1];
}

uint64_t tu_cmd(struct tu_session *t, enum smtp_cmd cmd, const char *line)
{
	uint64_t fr = packet(t, DIR_C2S, strlen(line) + 2);
	t->f.commands++;
	t->f.last_cmd = cmd;
	t->f.last_cmd_frame = fr;
	t->f.last_cmd_ts = t->now;
	if (t->npend < TU_PEND_MAX)
		t->pend[t->npend++] = cmd;
	t->f.pending = t->npend;
	switch (cmd) {
	case CMD_HELO:
	case CMD_EHLO:
		snprintf(t->f.helo_verb, sizeof(t->f.helo_verb), "%.4s", line);
		snprintf(t->f.helo_arg, sizeof(t->f.helo_arg), "%s", strlen(line) > 5 ? line + 5 : "");
		t->f.phase = PH_HELO;
		break;
	case CMD_AUTH: {
		t->f.phase = PH_AUTH;
		t->f.auth_attempts++;
		t->f.auth_result = AUTH_PENDING;
		const char *m = strlen(line) > 5 ? line + 5 : "";
		size_t ml = strcspn(m, " ");
		snprintf(t->f.auth_mech, sizeof(t->f.auth_mech), "%.*s", (int)ml, m);
		break;
	}
	case CMD_MAIL: {
		t->f.phase = PH_MAIL;
		if (t->f.n_msgs < SMTP_MAX_MESSAGES) {
			struct smtp_message *m = &t->f.msgs[t->f.n_msgs];
			memset(m, 0, sizeof(*m));
			const char *lt = strchr(line, '<'), *gt = lt ? strchr(lt, '>') : NULL;
			if (lt && gt)
				snprintf(m->mail_from, sizeof(m->mail_from), "%.*s", (int)(gt - lt - 1), lt + 1);
			const char *sz = strstr(line, "SIZE=");
			if (sz) {
				m->has_declared_size = true;
				m->declared_size = strtoull(sz + 5, NULL, 10);
			}
			m->first_frame = fr;
			m->start_ts = t->now;
		}
		t->f.n_msgs++;
		break;
	}
	case CMD_RCPT: {
		t->f.phase = PH_RCPT;
		struct smtp_message *m = cur_msg(t);
		if (m) {
			const char *lt = strchr(line, '<'), *gt = lt ? strchr(lt, '>') : NULL;
			if (m->rcpts < SMTP_MAX_RCPTS && lt && gt)
				snprintf(m->rcpt_to[m->rcpts], SMTP_ADDR_MAX, "%.*s", (int)(gt - lt - 1), lt + 1);
			m->rcpts++;
		}
		break;
	}
	case CMD_DATA: t->f.phase = PH_DATA; break;
	case CMD_BDAT: {
		t->f.phase = PH_BDAT;
		struct smtp_message *m = cur_msg(t);
		if (m) {
			m->bdat = true;
			m->data_started = true;
		}
		break;
	}
	case CMD_STARTTLS:
		t->f.phase = PH_STARTTLS;
		t->f.starttls = STLS_REQUESTED;
		break;
	case CMD_QUIT:
		t->f.phase = PH_QUIT;
		t->f.quit_sent = true;
		break;
	case CMD_UNKNOWN: t->f.unknown_commands++; break;
	default: break;
	}
	tl_add(&t->tl, EV_COMMAND, DIR_C2S, t->now, fr, line, strlen(line));
	return fr;
}

uint64_t tu_reply(struct tu_session *t, uint16_t code, const char *enh, const char *text)
{
	char line[600];
	snprintf(line, sizeof(line), "%u %s%s%s", code, enh && *enh ? enh : "", enh && *enh ? " " : "", text);
	uint64_t fr = packet(t, DIR_S2C, strlen(line) + 2);
	enum smtp_cmd ans = CMD_UNKNOWN;
	if (t->npend) {
		ans = t->pend[0];
		memmove(t->pend, t->pend + 1, (t->npend - 1) * sizeof(t->pend[0]));
		t->npend--;
	}
	t->f.pending = t->npend;
	struct smtp_reply r;
	set_reply(&r, code, enh, text, ans, fr, t->now);
	t->f.last_reply = r;
	if (is_error(code))
		t->f.last_error = r;
	count_reply(t, code);
	bool ok = code >= 200 && code < 400;
	struct smtp_message *m = cur_msg(t);
	switch (ans) {
	case CMD_HELO:
	case CMD_EHLO:
		if (ok)
			t->f.phase = PH_MAIL;
		break;
	case CMD_AUTH:
	case CMD_AUTH_DATA:
		t->f.auth_code = code;
		if (code == 334) {
			if (t->npend < TU_PEND_MAX) /* the continuation line is answered next */
				memmove(t->pend + 1, t->pend, t->npend++ * sizeof(t->pend[0]));
			t->pend[0] = CMD_AUTH_DATA;
			t->f.pending = t->npend;
		} else if (ok) {
			t->f.auth_result = AUTH_ACCEPTED;
			t->f.phase = PH_MAIL;
		} else {
			t->f.auth_result = AUTH_REFUSED;
			t->f.auth_failures++;
		}
		{
			struct event *e = tl_add(&t->tl, EV_AUTH_RESULT, DIR_S2C, t->now, fr,
						 ok ? "accepted" : "refused", ok ? 8 : 7);
			if (e)
				e->code = code;
		}
		break;
	case CMD_STARTTLS:
		t->f.starttls = code == 220 ? STLS_ACCEPTED : STLS_REFUSED;
		t->f.starttls_reply = r;
		break;
	case CMD_MAIL:
		if (m)
			m->mail_reply = r;
		if (ok)
			t->f.phase = PH_RCPT;
		break;
	case CMD_RCPT:
		if (m && m->rcpts && m->rcpts <= SMTP_MAX_RCPTS)
			m->rcpt_codes[m->rcpts - 1] = code;
		if (m && ok)
			m->rcpts_accepted++;
		break;
	case CMD_DATA:
		if (m) {
			m->data_reply = r;
			m->data_started = code == 354;
		}
		break;
	case CMD_BODY_END:
		if (m) {
			m->final_reply = r;
			m->end_frame = fr;
			m->end_ts = t->now;
		}
		t->f.phase = PH_IDLE;
		break;
	case CMD_QUIT:
		t->f.quit_reply = r;
		break;
	default:
		break;
	}
	struct event *e = tl_add(&t->tl, EV_REPLY, DIR_S2C, t->now, fr, text, strlen(text));
	e->code = code;
	e->num = 1;
	snprintf(e->enhanced, sizeof(e->enhanced), "%s", enh ? enh : "");
	return fr;
}

void tu_ehlo(struct tu_session *t, const char *exts)
{
	tu_cmd(t, CMD_EHLO, "EHLO client.example");
	tu_wait(t, 0.01);
	snprintf(t->f.extensions, sizeof(t->f.extensions), "%s", exts);
	const char *p = exts;
	if (strstr(p, "STARTTLS"))
		t->f.ext |= SMTP_EXT_STARTTLS;
	if (strstr(p, "PIPELINING"))
		t->f.ext |= SMTP_EXT_PIPELINING;
	if (strstr(p, "CHUNKING"))
		t->f.ext |= SMTP_EXT_CHUNKING;
	const char *a = strstr(p, "AUTH ");
	if (a) {
		t->f.ext |= SMTP_EXT_AUTH;
		snprintf(t->f.auth_mechs, sizeof(t->f.auth_mechs), "%s", a + 5);
	}
	const char *sz = strstr(p, "SIZE");
	if (sz) {
		t->f.ext |= SMTP_EXT_SIZE;
		t->f.has_size_limit = true;
		t->f.size_limit = strtoull(sz + 4, NULL, 10);
	}
	tu_reply(t, 250, "", "mx.example.net Hello client.example");
}

uint64_t tu_body(struct tu_session *t, uint64_t n, bool complete)
{
	struct smtp_message *m = cur_msg(t);
	uint64_t fr = 0, left = n;
	if (m && !m->wire_bytes)
		tl_add(&t->tl, EV_DATA_START, DIR_C2S, t->now, t->frame + 1, NULL, 0);
	while (left) {
		uint64_t seg = SL_MIN(left, (uint64_t)1448);
		fr = packet(t, DIR_C2S, seg);
		left -= seg;
	}
	t->f.in_body = !complete;
	if (m) {
		m->data_started = true;
		m->wire_bytes += n;
		m->body_bytes += n;
		m->data_complete = complete;
	}
	if (complete) {
		fr = packet(t, DIR_C2S, 3);
		if (t->npend < TU_PEND_MAX)
			t->pend[t->npend++] = CMD_BODY_END;
		t->f.pending = t->npend;
		t->f.last_cmd = CMD_BODY_END;
		t->f.last_cmd_frame = fr;
		t->f.last_cmd_ts = t->now;
		struct event *e = tl_add(&t->tl, EV_DATA_END, DIR_C2S, t->now, fr, NULL, 0);
		e->num = m ? m->wire_bytes : n;
	}
	return fr;
}

uint64_t tu_fin(struct tu_session *t, enum sl_dir dir)
{
	uint64_t fr = packet(t, dir, 0);
	struct tcp_dir_stats *d = &t->fi.dir[dir];
	if (!d->fin_frame) {
		d->fin_frame = fr;
		d->fin_ts = t->now;
	}
	tl_add(&t->tl, EV_FIN, dir, t->now, fr, NULL, 0);
	return fr;
}

uint64_t tu_rst(struct tu_session *t, enum sl_dir dir, uint8_t ttl)
{
	struct tcp_dir_stats *d = &t->fi.dir[dir];
	uint64_t fr = ++t->frame;
	d->packets++;
	d->rsts++;
	d->last_frame = fr;
	d->last_ts = t->now;
	if (!d->rst_frame) {
		d->rst_frame = fr;
		d->rst_ts = t->now;
		d->rst_ttl = ttl ? ttl : t->ttl[dir];
		d->rst_ip_id = d->ip_id_last + 1;
		d->rst_in_window = true;
	}
	if (!t->fi.first_frame)
		t->fi.first_frame = fr;
	t->fi.last_frame = fr;
	t->fi.last_ts = t->now;
	struct event *e = tl_add(&t->tl, EV_RST, dir, t->now, fr, NULL, 0);
	e->num = 1;
	return fr;
}

struct event *tu_event(struct tu_session *t, enum ev_kind k, enum sl_dir dir, const char *text)
{
	uint64_t fr = packet(t, dir, 0);
	return tl_add(&t->tl, k, dir, t->now, fr, text, text ? strlen(text) : 0);
}

void tu_end(struct tu_session *t, enum flow_end why)
{
	t->v.end = why;
	t->v.capture_end = t->now;
}
