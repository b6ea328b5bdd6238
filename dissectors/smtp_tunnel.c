/*
 * smtp_tunnel.c - preludes that carry SMTP inside another protocol's
 * handshake: HTTP CONNECT and SOCKS 4/4a/5. They are recognised from the
 * client's first bytes, skipped in both directions, and SMTP is dissected
 * from the first byte after them (the greeting is still paired with
 * CMD_CONNECT). One EV_TUNNEL event says what was seen.
 *
 * Per direction a stage counter walks the handshake; SOCKS messages are
 * gathered in tun_buf (at most SMTP_TUNNEL_MAX bytes; longer ones are not
 * SOCKS). SOCKS5 username/password sub-negotiation is skipped without
 * keeping the password.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_int.h"

static bool is_http_connect(const uint8_t *b, size_t n)
{
	return n >= 8 && memcmp(b, "CONNECT ", 8) == 0;
}

bool smtp_tunnel_detect(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	/* SOCKS: the first byte is the version, never the start of an SMTP
	 * command or a TLS record, so one byte decides (however it is split). */
	if (n >= 1 && (b[0] == 5 || b[0] == 4)) {
		smtp_client_enter(s, C_SOCKS, m);
		smtp_server_enter(s, S_SOCKS, m);
		s->tun_socks4 = b[0] == 4;
		memcpy(s->f.tunnel, s->tun_socks4 ? "socks4" : "socks5", 7);
		smtp_ev(s, EV_TUNNEL, DIR_C2S, m, s->tun_socks4 ? "SOCKS4" : "SOCKS5", 6);
		return true;
	}
	return false;
}

bool smtp_tunnel_http_line(struct smtp *s, const uint8_t *line, size_t n, const struct seg_meta *m)
{
	if (!is_http_connect(line, n) || n < 17 || memcmp(line + n - 8, "HTTP/1.", 7) != 0)
		return false;
	smtp_client_enter(s, C_HTTP_TUNNEL, m);
	smtp_server_enter(s, S_HTTP_TUNNEL, m);
	s->tun_lines[DIR_C2S] = 1;
	memcpy(s->f.tunnel, "http-connect", 13);
	smtp_ev(s, EV_TUNNEL, DIR_C2S, m, line, n);
	return true;
}

/* HTTP header lines up to the blank line; returns bytes consumed. */
static size_t http_lines(struct smtp *s, enum sl_dir d, const uint8_t *b, size_t n,
			 const struct seg_meta *m, bool *done)
{
	size_t used = 0;
	*done = false;
	while (used < n) {
		struct line_ev ev;
		used += sline_feed(&s->line[d], b + used, n - used, &ev);
		if (!ev.complete)
			continue;
		size_t kept = s->line[d].kept;
		if (d == DIR_S2C && s->tun_lines[d] == 0) {
			char t[EV_TEXT_MAX];
			sl_text_copy(t, sizeof(t), s->line[d].buf, kept);
			struct event *e = smtp_ev(s, EV_TUNNEL, DIR_S2C, m, t, strlen(t));
			const uint8_t *lb = s->line[d].buf;
			if (e && kept >= 12 && lb[9] >= '0' && lb[9] <= '9' && lb[10] >= '0' && lb[10] <= '9' &&
			    lb[11] >= '0' && lb[11] <= '9')
				e->code = (uint16_t)((s->line[d].buf[9] - '0') * 100 +
						     (s->line[d].buf[10] - '0') * 10 + (s->line[d].buf[11] - '0'));
		}
		s->tun_lines[d]++;
		bool blank = s->line[d].total == 0;
		sline_reset(&s->line[d]);
		if (blank || s->tun_lines[d] > SMTP_TUNNEL_LINES) {
			*done = true;
			break;
		}
	}
	return used;
}

/* Length of the SOCKS message at the head of buf for this direction and
 * stage, 0 when more bytes are needed, (size_t)-1 when malformed. */
static size_t socks_need(struct smtp *s, enum sl_dir d, const uint8_t *p, size_t have)
{
	uint8_t st = s->tun_stage[d];
	if (s->tun_socks4) {
		if (d == DIR_S2C)
			return have >= 8 ? 8 : 0;
		/* 04 cmd port(2) ip(4) userid NUL [domain NUL when ip is 0.0.0.x] */
		if (have < 9)
			return 0;
		const uint8_t *z = memchr(p + 8, 0, have - 8);
		if (!z)
			return 0;
		size_t end = (size_t)(z - p) + 1;
		bool socks4a = p[4] == 0 && p[5] == 0 && p[6] == 0 && p[7] != 0;
		if (!socks4a)
			return end;
		const uint8_t *z2 = memchr(p + end, 0, have - end);
		return z2 ? (size_t)(z2 - p) + 1 : 0;
	}
	if (d == DIR_C2S) {
		if (st == 0)
			return have >= 2 ? (have >= (size_t)p[1] + 2 ? (size_t)p[1] + 2 : 0) : 0;
		if (st == 1 && s->tun_method == 2) {
			/* 01 ulen user plen pass */
			if (have < 2)
				return 0;
			size_t u = p[1];
			if (have < 3 + u)
				return 0;
			size_t pl = p[2 + u];
			return have >= 3 + u + pl ? 3 + u + pl : 0;
		}
	} else {
		if (st == 0)
			return have >= 2 ? 2 : 0;
		if (st == 1 && s->tun_method == 2)
			return have >= 2 ? 2 : 0;
	}
	/* request / reply: 05 cmd|rep 00 atyp addr port */
	if (have < 5)
		return 0;
	size_t alen;
	switch (p[3]) {
	case 1: alen = 4; break;
	case 4: alen = 16; break;
	case 3: alen = 1 + (size_t)p[4]; break;
	default: return (size_t)-1;
	}
	size_t need = 4 + alen + 2;
	return have >= need ? need : 0;
}

/* Gathers and skips SOCKS messages. Bytes are taken into tun_buf before the
 * message length is known, and the length may depend on what the peer said
 * since (the server's method choice), so a complete message can be shorter
 * than what is buffered: the excess stays for the next message, and when
 * the prelude is over it is handed back in left/left_len (at most
 * SMTP_TUNNEL_MAX bytes, copied to the caller's buffer). */
static size_t socks_feed(struct smtp *s, enum sl_dir d, const uint8_t *b, size_t n,
			 const struct seg_meta *m, bool *done, uint8_t *left, size_t *left_len)
{
	size_t used = 0;
	*done = false;
	*left_len = 0;
	for (;;) {
		size_t take = SL_MIN(SMTP_TUNNEL_MAX - s->tun_len[d], n - used);
		memcpy(s->tun_buf[d] + s->tun_len[d], b + used, take);
		s->tun_len[d] += take;
		used += take;
		size_t have = s->tun_len[d];
		size_t need = socks_need(s, d, s->tun_buf[d], have);
		if (need == (size_t)-1 || (need == 0 && have >= SMTP_TUNNEL_MAX)) {
			/* not SOCKS after all: what was gathered is read as SMTP */
			smtp_note(s, d, m, "malformed SOCKS handshake");
			memcpy(left, s->tun_buf[d], have);
			*left_len = have;
			memset(s->tun_buf[d], 0, sizeof(s->tun_buf[d]));
			s->tun_len[d] = 0;
			*done = true;
			return used;
		}
		if (need == 0)
			return used;        /* all taken, message incomplete */
		const uint8_t *p = s->tun_buf[d];
		uint8_t st = s->tun_stage[d];
		if (!s->tun_socks4 && d == DIR_S2C && st == 0)
			s->tun_method = p[1];
		if (!s->tun_socks4 && d == DIR_S2C && ((st == 1 && s->tun_method != 2) || st == 2)) {
			char t[64];
			snprintf(t, sizeof(t), "SOCKS5 reply %u", p[1]);
			struct event *e = smtp_ev(s, EV_TUNNEL, DIR_S2C, m, t, strlen(t));
			if (e)
				e->code = p[1];
		}
		/* drop the message (wiping a username/password one), keep the excess */
		size_t excess = have - need;
		memmove(s->tun_buf[d], s->tun_buf[d] + need, excess);
		memset(s->tun_buf[d] + excess, 0, need);
		s->tun_len[d] = excess;
		s->tun_stage[d]++;
		uint8_t last = s->tun_socks4 ? 1 : (s->tun_method == 2 ? 3 : 2);
		if (s->tun_stage[d] >= last) {
			*done = true;
			memcpy(left, s->tun_buf[d], excess);
			*left_len = excess;
			memset(s->tun_buf[d], 0, excess);
			s->tun_len[d] = 0;
			return used;
		}
		if (used == n && excess == 0)
			return used;
	}
}

size_t smtp_tunnel_client(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	bool done;
	uint8_t left[SMTP_TUNNEL_MAX];
	size_t left_len = 0;
	size_t used = s->cm == C_HTTP_TUNNEL ? http_lines(s, DIR_C2S, b, n, m, &done)
					    : socks_feed(s, DIR_C2S, b, n, m, &done, left, &left_len);
	if (done) {
		smtp_client_enter(s, C_CMD, m);
		s->c_first_line_done = false;
		sline_reset(&s->line[DIR_C2S]);
		/* bytes gathered past the prelude are SMTP (the tunnel is not
		 * detected twice, so this goes one level deep at most) */
		if (left_len)
			smtp_client_feed(s, left, left_len, m);
	}
	return used;
}

size_t smtp_tunnel_server(struct smtp *s, const uint8_t *b, size_t n, const struct seg_meta *m)
{
	bool done;
	uint8_t left[SMTP_TUNNEL_MAX];
	size_t left_len = 0;
	size_t used = s->sm == S_HTTP_TUNNEL ? http_lines(s, DIR_S2C, b, n, m, &done)
					    : socks_feed(s, DIR_S2C, b, n, m, &done, left, &left_len);
	if (done) {
		smtp_server_enter(s, S_LINES, m);
		if (left_len)
			smtp_server_feed(s, left, left_len, m);
	}
	return used;
}
