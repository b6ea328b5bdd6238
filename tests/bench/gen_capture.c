/*
 * gen_capture.c - writes synthetic, SMTP-heavy pcap files for the benchmark.
 *
 *   gen_capture -o FILE [-s SIZE] [--sessions N] [--mix bulk|small] [--seed N]
 *               [--loss PCT] [--reorder PCT] [-c CONCURRENT]
 *
 * What it writes: Ethernet frames (IPv4, about 10 % IPv6) with TCP sessions
 * seen from a capture point next to the mail servers. Most sessions are real
 * SMTP dialogs (220, EHLO and a multi-line 250 with SIZE/PIPELINING/STARTTLS,
 * optional AUTH, MAIL FROM with SIZE=, RCPT, DATA, 354, a body with headers and
 * dot-stuffed lines, 250, QUIT, 221, FIN/FIN); some end in failures (552 after
 * the data, 535 after AUTH, 554 at the greeting, a RST during DATA, 421 4.4.2
 * after a silence, STARTTLS into TLS records). Around them: HTTP flows on port
 * 80, TLS flows on 443 and a few DNS queries over UDP. Payload segments are at
 * most MSS (1448) bytes, the receiver ACKs every second segment, sequence and
 * acknowledgement numbers and checksums are right, timestamps only go forward.
 * --loss drops body segments before they reach the file (a hole the peer still
 * acknowledges, as a capture drop looks); --reorder swaps two body segments.
 *
 * --mix bulk: 50 concurrent sessions, bodies of 10 KB - 2 MB (80 % under
 * 100 KB), 1-3 messages per session, 50-700 KB/s per session; a 50 MB file
 * then holds several generations of sessions, as a 500 MB one does. --mix small: 2000 concurrent sessions, one tiny
 * message each (the "500k small sessions" capture: use --sessions 500000).
 * The same seed and mix give the same traffic; only the length differs, so a
 * 50 MB and a 500 MB file are the same mix at two sizes.
 *
 * Invariants: memory is fixed after start-up (a static slot per concurrent
 * session, its script and dialog text inside the slot; bodies are read from
 * one shared text pool); nothing is allocated per packet or per session.
 * Frames are built in place in a large output buffer written with fwrite.
 * Sessions are scheduled by a binary heap on their next packet time, which
 * keeps the file's timestamps in order. Stopping: a session is started only
 * while bytes written plus the planned rest of open sessions stay under SIZE
 * (and while fewer than --sessions were started); open sessions then run to
 * their end, so the file is about SIZE and every session is complete.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen/gen_wire.h"


/* ---------------------------------------------------------------- sessions */

enum mix { MIX_BULK, MIX_SMALL };

enum kind { K_SMTP, K_HTTP, K_TLS, K__COUNT };

/* How an SMTP session ends; each is a case the analyzer must explain. */
#define OUTCOMES(X) \
	X(O_OK, "completed") \
	X(O_SIZE552, "552-after-data") \
	X(O_AUTH535, "535-after-auth") \
	X(O_GREET554, "554-at-greeting") \
	X(O_RSTDATA, "rst-in-data") \
	X(O_IDLE421, "421-after-silence") \
	X(O_STARTTLS, "starttls") \
	X(O_HTTP, "http (port 80)") \
	X(O_TLS, "tls (port 443)")
#define X(e, s) e,
enum outcome { OUTCOMES(X) O__COUNT };
#undef X
#define X(e, s) s,
static const char *const outcome_names[] = { OUTCOMES(X) };
#undef X

struct piece {
	const uint8_t *base;    /* linear bytes, or a pool read as a ring */
	uint32_t len;
	uint32_t off;           /* start offset inside a ring pool */
	uint32_t ring;          /* 0 = linear, else the ring size */
};

#define STEP_BODY 0x01      /* loss and reordering may touch this step */

struct step {
	uint8_t dir;            /* 0 = client to server, 1 = server to client */
	uint8_t npieces;
	uint8_t flags;
	uint32_t len;           /* bytes sent (may cut the pieces short) */
	int64_t delay;          /* before its first segment */
	struct piece pc[MAX_PIECES];
};

/* Where a session's emitter stands: one packet per call of sess_emit(). */
enum phase {
	PH_SYN,         /* client SYN */
	PH_SYNACK,      /* server SYN-ACK */
	PH_HSACK,       /* client ACK closing the handshake */
	PH_DATA,        /* next segment of steps[cur] at pos */
	PH_ACK,         /* a pure ACK from ack_dir, then back to PH_DATA */
	PH_CLOSE1,      /* closer's FIN (or RST, which ends the session) */
	PH_CLOSE2,      /* the other side's FIN */
	PH_CLOSE3,      /* closer's last ACK */
	PH_DONE
};

struct sess {
	int64_t next_ts;
	enum phase phase;
	enum kind kind;
	enum outcome outcome;
	uint64_t id;
	bool v6;
	uint8_t hdr[2][14 + 40];     /* Ethernet + IP template per direction */
	uint8_t hdrlen;              /* 34 or 54 */
	uint64_t pseudo[2];          /* checksum of the addresses (pseudo header) */
	uint16_t sport, dport;
	uint32_t nxt[2];             /* next sequence number per direction */
	uint16_t ipid[2];
	uint32_t unacked[2];         /* segments from dir not yet acknowledged */
	int64_t rtt, pace;
	uint8_t ack_dir, close_dir;
	bool close_rst;
	uint16_t nsteps, cur;
	uint32_t pos;
	int64_t planned;             /* bytes still expected to be written */
	size_t text_len;
	struct step steps[MAX_STEPS];
	char text[TEXT_CAP];
};

struct gen_cfg {
	const char *out;
	uint64_t size;
	uint64_t sessions;
	enum mix mix;
	uint64_t seed;
	double loss, reorder;
	uint32_t conc;
};

static struct gen_cfg cfg;
static struct sess *slots;
static uint32_t *heap;
static uint32_t heap_n;
static uint64_t sessions_started, planned_outstanding;
static uint64_t outcome_count[O__COUNT];
static uint64_t lost_segments, reordered_pairs, udp_packets;

/* ---- script building */

/* Appends formatted text to the session's text buffer; returns a piece for
 * it (len 0 when the buffer is full, which ends the script early). */
static struct piece text_add(struct sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct piece text_add(struct sess *s, const char *fmt, ...)
{
	struct piece pc = { 0 };
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->text + s->text_len, TEXT_CAP - s->text_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= TEXT_CAP - s->text_len)
		return pc;
	pc.base = (const uint8_t *)s->text + s->text_len;
	pc.len = (uint32_t)n;
	s->text_len += (size_t)n;
	return pc;
}

static struct step *step_add(struct sess *s, int dir, int64_t delay)
{
	if (s->nsteps >= MAX_STEPS)
		return NULL;
	struct step *st = &s->steps[s->nsteps++];
	memset(st, 0, sizeof *st);
	st->dir = (uint8_t)dir;
	st->delay = delay;
	return st;
}

static void step_piece(struct step *st, struct piece pc)
{
	if (!st || !pc.len || st->npieces >= MAX_PIECES)
		return;
	st->pc[st->npieces++] = pc;
	st->len += pc.len;
}

/* A step of one text piece; false when the text did not fit. */
#define SAY(s, dir, delay, ...) say_piece((s), (dir), (delay), text_add((s), __VA_ARGS__))
static bool say_piece(struct sess *s, int dir, int64_t delay, struct piece pc)
{
	if (!pc.len)
		return false;
	struct step *st = step_add(s, dir, delay);
	if (!st)
		return false;
	step_piece(st, pc);
	return true;
}

static int64_t think(void) { return (int64_t)rnd_log(50e3, 2e6); }     /* server, ns */
static int64_t client_turn(const struct sess *s) { return s->rtt + (int64_t)rnd_range(10, 200) * NS_US; }

static struct piece ring_piece(const uint8_t *pool, uint32_t ring, uint32_t off, uint32_t len)
{
	struct piece pc = { pool, len, off, ring };
	return pc;
}

/* One TLS record of len bytes (header in the text buffer, body random). */
static bool tls_record(struct sess *s, int dir, int64_t delay, uint8_t type, uint32_t len)
{
	struct step *st;
	if (s->text_len + 5 > TEXT_CAP || !(st = step_add(s, dir, delay)))
		return false;
	uint8_t *h = (uint8_t *)s->text + s->text_len;
	h[0] = type; h[1] = 3; h[2] = 3;
	put16(h + 3, (uint16_t)len);
	struct piece hp = { h, 5, 0, 0 };
	s->text_len += 5;
	step_piece(st, hp);
	step_piece(st, ring_piece(bin_pool, BIN_POOL_SIZE, (uint32_t)(rnd() % BIN_POOL_SIZE), len));
	st->flags = STEP_BODY;
	return true;
}

/* A minimal well-formed ClientHello or ServerHello record. */
static bool tls_hello(struct sess *s, int dir, int64_t delay, bool client)
{
	uint8_t m[5 + 4 + 2 + 32 + 1 + 4 + 2];
	size_t n = 0;
	m[n++] = 0x16; m[n++] = 3; m[n++] = 1;
	size_t rec_len_at = n; n += 2;
	m[n++] = client ? 1 : 2;
	size_t hs_len_at = n; n += 3;
	m[n++] = 3; m[n++] = 3;
	for (int i = 0; i < 32; i++)
		m[n++] = (uint8_t)rnd();
	m[n++] = 0;                     /* session id length */
	if (client) {
		m[n++] = 0; m[n++] = 2;     /* cipher suites length */
		m[n++] = 0xc0; m[n++] = 0x2f;
		m[n++] = 1; m[n++] = 0;     /* compression: null */
	} else {
		m[n++] = 0xc0; m[n++] = 0x2f;
		m[n++] = 0;
	}
	put16(m + rec_len_at, (uint16_t)(n - 5));
	size_t hl = n - 9;
	m[hs_len_at] = (uint8_t)(hl >> 16); m[hs_len_at + 1] = (uint8_t)(hl >> 8); m[hs_len_at + 2] = (uint8_t)hl;
	if (s->text_len + n > TEXT_CAP)
		return false;
	memcpy(s->text + s->text_len, m, n);
	struct piece pc = { (const uint8_t *)s->text + s->text_len, (uint32_t)n, 0, 0 };
	s->text_len += n;
	return say_piece(s, dir, delay, pc);
}

/* Encrypted traffic: hellos, then records of about `bytes` from the client
 * and a few small ones from the server. */
static void tls_exchange(struct sess *s, int64_t first_delay, uint64_t bytes)
{
	if (!tls_hello(s, 0, first_delay, true) || !tls_hello(s, 1, think(), false))
		return;
	tls_record(s, 1, 20 * NS_US, 0x17, (uint32_t)rnd_range(800, 3000));
	tls_record(s, 0, client_turn(s), 0x17, (uint32_t)rnd_range(100, 400));
	while (bytes) {
		uint32_t r = (uint32_t)SL_MIN_U64(bytes, 16384);
		if (!tls_record(s, 0, 0, 0x17, r))
			break;
		bytes -= r;
	}
	tls_record(s, 1, think(), 0x17, (uint32_t)rnd_range(30, 200));
}

/* Bulk bodies: most mail is 10-100 KB, one in five carries an attachment
 * up to 2 MB. */
static uint64_t body_size(void)
{
	if (cfg.mix == MIX_SMALL)
		return rnd_range(120, 900);
	return rnd_pct(80) ? rnd_log(10e3, 100e3) : rnd_log(100e3, 2e6);
}

/* One message: envelope, DATA, the body, the final reply. Returns false when
 * the session ends inside it (RST during DATA) or the script is full. */
static bool smtp_message(struct sess *s, uint32_t n, bool pipelined, bool last, uint64_t size_limit)
{
	uint64_t blen = body_size();
	/* The refused message really is over the advertised limit. */
	if (s->outcome == O_SIZE552 && last && blen <= size_limit)
		blen = size_limit + rnd_range(1, 4096);
	int rcpts = (int)rnd_range(1, cfg.mix == MIX_SMALL ? 1 : 3);
	uint32_t tag = (uint32_t)rnd();

	struct piece hdrs = text_add(s,
		"Received: from host%" PRIu64 ".client.example ([10.1.2.3])\r\n"
		"\tby mx1.example.net (Postfix) with ESMTPS id %08X\r\n"
		"From: \"User %" PRIu64 "\" <user%" PRIu64 "@client.example>\r\n"
		"To: <rcpt%u@example.net>\r\n"
		"Subject: %s %s report %u\r\n"
		"Date: Fri, 01 Mar 2024 00:00:00 +0000\r\n"
		"Message-ID: <%08X.%" PRIu64 ".%u@client.example>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n\r\n",
		s->id, tag, s->id, s->id, tag % 1000u, words[tag % SL_ARRAY_LEN_W],
		words[(tag >> 8) % SL_ARRAY_LEN_W], n, tag, s->id, n);
	if (!hdrs.len)
		return false;
	uint32_t off = pool_line_start();
	uint32_t blen32 = pool_fix_len(off, (uint32_t)blen);
	uint64_t msg_size = hdrs.len + blen32 + 2;
	bool oversize = s->outcome == O_SIZE552 && last;
	bool cut = s->outcome == O_RSTDATA && last;

	/* The envelope; SIZE= is left out when the client would be refused at
	 * MAIL already (the 552 must come after the data). */
	char env[600];
	int el = 0;
	if (oversize || size_limit == 0)
		el += snprintf(env + el, sizeof env - (size_t)el, "MAIL FROM:<user%" PRIu64 "@client.example>\r\n", s->id);
	else
		el += snprintf(env + el, sizeof env - (size_t)el, "MAIL FROM:<user%" PRIu64 "@client.example> SIZE=%" PRIu64 "\r\n", s->id, msg_size);
	if (!pipelined) {
		if (!SAY(s, 0, client_turn(s), "%s", env) || !SAY(s, 1, think(), "250 2.1.0 Ok\r\n"))
			return false;
		for (int r = 0; r < rcpts; r++)
			if (!SAY(s, 0, client_turn(s), "RCPT TO:<rcpt%u.%d@example.net>\r\n", tag % 1000u, r) ||
			    !SAY(s, 1, think(), "250 2.1.5 Ok\r\n"))
				return false;
		if (!SAY(s, 0, client_turn(s), "DATA\r\n") ||
		    !SAY(s, 1, think(), "354 End data with <CR><LF>.<CR><LF>\r\n"))
			return false;
	} else {
		char rep[300];
		int rl = snprintf(rep, sizeof rep, "250 2.1.0 Ok\r\n");
		for (int r = 0; r < rcpts; r++) {
			el += snprintf(env + el, sizeof env - (size_t)el, "RCPT TO:<rcpt%u.%d@example.net>\r\n", tag % 1000u, r);
			rl += snprintf(rep + rl, sizeof rep - (size_t)rl, "250 2.1.5 Ok\r\n");
		}
		el += snprintf(env + el, sizeof env - (size_t)el, "DATA\r\n");
		snprintf(rep + rl, sizeof rep - (size_t)rl, "354 End data with <CR><LF>.<CR><LF>\r\n");
		if (!SAY(s, 0, client_turn(s), "%s", env) || !SAY(s, 1, think(), "%s", rep))
			return false;
	}

	struct step *st = step_add(s, 0, client_turn(s));
	if (!st)
		return false;
	step_piece(st, hdrs);
	step_piece(st, ring_piece(text_pool, POOL_SIZE, off, blen32));
	struct piece tail = { (const uint8_t *)"\r\n.\r\n", 5, 0, 0 };
	step_piece(st, tail);
	st->flags = STEP_BODY;
	if (cut) {
		/* The server resets the connection halfway through the body. */
		st->len = st->len / 2 + 1;
		s->close_dir = 1;
		s->close_rst = true;
		return false;
	}
	int64_t queue_delay = (int64_t)rnd_log(1e6, 30e6);
	if (oversize)
		return SAY(s, 1, queue_delay, "552 5.3.4 Error: message file too big\r\n");
	return SAY(s, 1, queue_delay, "250 2.0.0 Ok: queued as %08X%02X\r\n", tag, n);
}

static void build_smtp(struct sess *s)
{
	uint64_t limit = s->outcome == O_SIZE552 ? 8192 : 52428800;
	if (!SAY(s, 1, 200 * NS_US + think(), s->outcome == O_GREET554
			? "554 5.7.1 <host%" PRIu64 ".client.example>: Client host rejected: Access denied\r\n"
			: "220 mx1.example.net ESMTP Postfix (%" PRIu64 ")\r\n", s->id))
		return;
	if (s->outcome == O_GREET554) {
		SAY(s, 0, client_turn(s), "QUIT\r\n");
		SAY(s, 1, think(), "221 2.0.0 Bye\r\n");
		return;
	}
	if (!SAY(s, 0, client_turn(s), "EHLO host%" PRIu64 ".client.example\r\n", s->id) ||
	    !SAY(s, 1, think(),
		 "250-mx1.example.net\r\n250-PIPELINING\r\n250-SIZE %" PRIu64 "\r\n250-VRFY\r\n"
		 "250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
		 "250-8BITMIME\r\n250 DSN\r\n", limit))
		return;
	switch (s->outcome) {
	case O_AUTH535:
		SAY(s, 0, client_turn(s), "AUTH PLAIN AHVzZXIlMDEyAHdyb25ncGFzcw==\r\n");
		SAY(s, 1, (int64_t)rnd_log(5e6, 1e9), "535 5.7.8 Error: authentication failed: authentication failure\r\n");
		SAY(s, 0, client_turn(s), "QUIT\r\n");
		SAY(s, 1, think(), "221 2.0.0 Bye\r\n");
		return;
	case O_IDLE421:
		/* The client falls silent; the server gives up. */
		SAY(s, 1, (int64_t)rnd_range(5, 15) * NS_S, "421 4.4.2 mx1.example.net Error: timeout exceeded\r\n");
		return;
	case O_STARTTLS:
		if (!SAY(s, 0, client_turn(s), "STARTTLS\r\n") ||
		    !SAY(s, 1, think(), "220 2.0.0 Ready to start TLS\r\n"))
			return;
		tls_exchange(s, client_turn(s), body_size());
		s->close_dir = 0;
		return;
	default:
		break;
	}
	if (rnd_pct(30)) {
		SAY(s, 0, client_turn(s), "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
		SAY(s, 1, (int64_t)rnd_log(1e6, 50e6), "235 2.7.0 Authentication successful\r\n");
	}
	bool pipelined = rnd_pct(50);
	uint32_t msgs = cfg.mix == MIX_SMALL ? 1 : (uint32_t)rnd_range(1, 3);
	for (uint32_t n = 1; n <= msgs; n++)
		if (!smtp_message(s, n, pipelined, n == msgs, limit))
			return;
	if (SAY(s, 0, client_turn(s), "QUIT\r\n"))
		SAY(s, 1, think(), "221 2.0.0 Bye\r\n");
}

static void build_http(struct sess *s)
{
	uint32_t len = (uint32_t)rnd_log(300, cfg.mix == MIX_SMALL ? 4e3 : 300e3);
	uint32_t off = pool_line_start();
	SAY(s, 0, 20 * NS_US, "GET /files/%08X.txt HTTP/1.1\r\nHost: www.example.net\r\n"
	    "User-Agent: bench/1.0\r\nAccept: */*\r\n\r\n", (uint32_t)rnd());
	struct step *st = step_add(s, 1, think());
	if (!st)
		return;
	step_piece(st, text_add(s, "HTTP/1.1 200 OK\r\nServer: web\r\nContent-Type: text/plain\r\n"
				   "Content-Length: %u\r\n\r\n", len));
	step_piece(st, ring_piece(text_pool, POOL_SIZE, off, len));
	st->flags = STEP_BODY;
	s->close_dir = 0;
}

/* ---- addresses and header templates */

static void sess_headers(struct sess *s)
{
	static const uint8_t mac_c[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t mac_s[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x25 };
	uint8_t cip[16] = { 0 }, sip[16] = { 0 };
	size_t alen = s->v6 ? 16 : 4;
	uint64_t n = s->id;
	if (s->v6) {
		static const uint8_t c6[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0 };
		static const uint8_t s6[8] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x25, 0, 0 };
		memcpy(cip, c6, 8);
		put32(cip + 12, (uint32_t)n);
		memcpy(sip, s6, 8);
		sip[15] = (uint8_t)(0x10 + n % 4);
	} else {
		/* 10.0.0.0/8 from the session number: unique tuples, no port reuse. */
		cip[0] = 10; cip[1] = (uint8_t)(n >> 16); cip[2] = (uint8_t)(n >> 8); cip[3] = (uint8_t)n;
		sip[0] = 192; sip[1] = 0; sip[2] = 2; sip[3] = (uint8_t)(10 + n % 4);
	}
	for (int d = 0; d < 2; d++) {
		uint8_t *h = s->hdr[d];
		const uint8_t *src = d == 0 ? cip : sip, *dst = d == 0 ? sip : cip;
		memcpy(h, d == 0 ? mac_s : mac_c, 6);
		memcpy(h + 6, d == 0 ? mac_c : mac_s, 6);
		if (s->v6) {
			h[12] = 0x86; h[13] = 0xdd;
			uint8_t *ip = h + 14;
			memset(ip, 0, 40);
			ip[0] = 0x60;
			ip[6] = 6;
			ip[7] = d == 0 ? 53 : 64;
			memcpy(ip + 8, src, 16);
			memcpy(ip + 24, dst, 16);
		} else {
			h[12] = 0x08; h[13] = 0x00;
			uint8_t *ip = h + 14;
			memset(ip, 0, 20);
			ip[0] = 0x45;
			ip[6] = 0x40;           /* DF */
			ip[8] = d == 0 ? 53 : 64;
			ip[9] = 6;
			memcpy(ip + 12, src, 4);
			memcpy(ip + 16, dst, 4);
		}
		uint64_t acc = csum_add(0, src, alen);
		s->pseudo[d] = csum_add(acc, dst, alen);
	}
	s->hdrlen = s->v6 ? 54 : 34;
}

static void plan_add(struct sess *s, int64_t n)
{
	s->planned += n;
	planned_outstanding += (uint64_t)n;
}

static void sess_start(struct sess *s, int64_t ts)
{
	memset(s, 0, offsetof(struct sess, steps));
	s->next_ts = ts;
	s->id = ++sessions_started;
	s->v6 = rnd_pct(10);
	unsigned k = (unsigned)rnd_range(0, 99);
	s->kind = k < 92 ? K_SMTP : k < 97 ? K_HTTP : K_TLS;
	s->rtt = (int64_t)rnd_log(0.5e6, 80e6);
	/* Bulk: 2-30 ms between a sender's segments, 50 KB/s to 700 KB/s per
	 * session as over the Internet, so a capture spans minutes rather
	 * than seconds and flows end (and linger) as in a real one. */
	s->pace = cfg.mix == MIX_SMALL ? 20 * NS_US : (int64_t)rnd_log(2e6, 30e6);
	s->sport = (uint16_t)rnd_range(32768, 60999);
	s->close_dir = 1;
	s->ipid[0] = (uint16_t)rnd();
	s->ipid[1] = (uint16_t)rnd();
	s->nxt[0] = (uint32_t)rnd();
	s->nxt[1] = (uint32_t)rnd();
	if (s->kind == K_SMTP) {
		unsigned o = (unsigned)rnd_range(0, 999);
		s->outcome = o < 880 ? O_OK : o < 905 ? O_SIZE552 : o < 930 ? O_AUTH535 : o < 950 ? O_GREET554
			   : o < 965 ? O_RSTDATA : o < 970 ? O_IDLE421 : O_STARTTLS;
		s->dport = rnd_pct(85) ? 25 : 587;
		build_smtp(s);
	} else if (s->kind == K_HTTP) {
		s->outcome = O_HTTP;
		s->dport = 80;
		build_http(s);
	} else {
		s->outcome = O_TLS;
		s->dport = 443;
		tls_exchange(s, 20 * NS_US, rnd_log(cfg.mix == MIX_SMALL ? 500 : 2e3, cfg.mix == MIX_SMALL ? 4e3 : 500e3));
		s->close_dir = 0;
	}
	outcome_count[s->outcome]++;
	sess_headers(s);

	/* Planned file bytes: each segment's headers and half an ACK, plus the
	 * handshake and close. An estimate: it only steers when to stop. */
	int64_t per_pkt = 16 + s->hdrlen + 20;
	int64_t plan = 6 * (per_pkt + 8);
	for (uint16_t i = 0; i < s->nsteps; i++) {
		int64_t segs = (s->steps[i].len + MSS - 1) / MSS;
		plan += s->steps[i].len + segs * per_pkt + segs / 2 * per_pkt;
	}
	plan_add(s, plan);
}

/* ---- packet emission */

static uint32_t piece_copy(const struct piece *pc, uint32_t from, uint8_t *dst, uint32_t n)
{
	if (!pc->ring) {
		memcpy(dst, pc->base + from, n);
		return n;
	}
	uint32_t o = (pc->off + from) % pc->ring, done = 0;
	while (done < n) {
		uint32_t k = SL_MIN_U(n - done, pc->ring - o);
		memcpy(dst + done, pc->base + o, k);
		done += k;
		o = 0;
	}
	return n;
}

/* Copies n bytes of a step's stream starting at pos. */
static void step_copy(const struct step *st, uint32_t pos, uint8_t *dst, uint32_t n)
{
	for (int i = 0; i < st->npieces && n; i++) {
		const struct piece *pc = &st->pc[i];
		if (pos >= pc->len) {
			pos -= pc->len;
			continue;
		}
		uint32_t k = SL_MIN_U(n, pc->len - pos);
		piece_copy(pc, pos, dst, k);
		dst += k;
		n -= k;
		pos = 0;
	}
}

#define SL_TCP_SYN_OPTS 12

/* Writes one TCP segment from direction d. payload/plen: bytes already
 * placed at the payload position by fill (may be NULL for none). */
static void write_tcp(struct sess *s, int d, int64_t ts, uint32_t seq, uint8_t flags,
		      const struct step *st, uint32_t pos, uint32_t plen)
{
	uint8_t *rec = out_reserve();
	uint8_t *frame = rec + 16;
	uint32_t hl = s->hdrlen;
	bool syn = flags & 0x02;
	uint32_t thl = 20 + (syn ? SL_TCP_SYN_OPTS : 0);
	memcpy(frame, s->hdr[d], hl);
	uint8_t *ip = frame + 14;
	uint8_t *tcp = frame + hl;
	uint32_t tcplen = thl + plen;
	if (s->v6) {
		put16(ip + 4, (uint16_t)tcplen);
	} else {
		put16(ip + 2, (uint16_t)(20 + tcplen));
		put16(ip + 4, s->ipid[d]++);
		store_csum(ip + 10, csum_add(0, ip, 20));
	}
	put16(tcp, d == 0 ? s->sport : s->dport);
	put16(tcp + 2, d == 0 ? s->dport : s->sport);
	put32(tcp + 4, seq);
	put32(tcp + 8, (flags & 0x10) ? s->nxt[!d] : 0);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, d == 0 ? 502 : 509);
	tcp[16] = tcp[17] = 0;
	tcp[18] = tcp[19] = 0;
	if (syn) {
		static const uint8_t opts[SL_TCP_SYN_OPTS] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };
		memcpy(tcp + 20, opts, SL_TCP_SYN_OPTS);
		put16(tcp + 14, 64240);
	}
	if (plen)
		step_copy(st, pos, tcp + thl, plen);
	uint8_t ph[4] = { 0, 6, (uint8_t)(tcplen >> 8), (uint8_t)tcplen };
	uint64_t acc = csum_add(s->pseudo[d], ph, 4);
	store_csum(tcp + 16, csum_add(acc, tcp, tcplen));
	uint32_t flen = hl + tcplen;
	pcap_rec_header(rec, ts, flen);
	out_commit(16 + flen);
	int64_t w = 16 + flen;
	s->planned -= w;
	planned_outstanding -= (uint64_t)SL_MIN_U64(w, planned_outstanding);
	if (plen)
		s->unacked[d]++;
	if (flags & 0x10)
		s->unacked[!d] = 0;
}

/* A DNS query and its answer over UDP, between sessions. */
static void write_udp_pair(int64_t ts)
{
	for (int d = 0; d < 2; d++) {
		uint8_t *rec = out_reserve();
		uint8_t *f = rec + 16;
		static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x25 }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0x53 };
		memcpy(f, d ? mac_a : mac_b, 6);
		memcpy(f + 6, d ? mac_b : mac_a, 6);
		f[12] = 0x08; f[13] = 0;
		uint8_t *ip = f + 14, *udp = f + 34, *dns = f + 42;
		static const uint8_t q[] = "\x02mx\x07" "example\x03net\x00\x00\x0f\x00\x01";
		size_t ql = sizeof q - 1;
		uint16_t txid = (uint16_t)(ts >> 10);
		put16(dns, txid);
		put16(dns + 2, d ? 0x8180 : 0x0100);
		put16(dns + 4, 1);
		memset(dns + 6, 0, 6);
		memcpy(dns + 12, q, ql);
		uint32_t ulen = (uint32_t)(8 + 12 + ql);
		memset(ip, 0, 20);
		ip[0] = 0x45; ip[8] = 64; ip[9] = 17;
		put16(ip + 2, (uint16_t)(20 + ulen));
		put16(ip + 4, (uint16_t)udp_packets);
		uint8_t a[4] = { 192, 0, 2, 25 }, b[4] = { 192, 0, 2, 53 };
		memcpy(ip + 12, d ? b : a, 4);
		memcpy(ip + 16, d ? a : b, 4);
		store_csum(ip + 10, csum_add(0, ip, 20));
		put16(udp, d ? 53 : (uint16_t)(40000 + (txid & 0x3fff)));
		put16(udp + 2, d ? (uint16_t)(40000 + (txid & 0x3fff)) : 53);
		put16(udp + 4, (uint16_t)ulen);
		put16(udp + 6, 0);          /* no UDP checksum: allowed over IPv4 */
		pcap_rec_header(rec, ts + d * 300 * NS_US, 34 + ulen);
		out_commit(16 + 34 + ulen);
		udp_packets++;
	}
}

/* Moves to the next step, or to the close when the script is done. */
static void next_step(struct sess *s)
{
	s->cur++;
	s->pos = 0;
	if (s->cur >= s->nsteps) {
		s->phase = PH_CLOSE1;
		s->next_ts += s->close_dir == 1 ? 50 * NS_US : client_turn(s);
	} else {
		s->phase = PH_DATA;
		s->next_ts += s->steps[s->cur].delay;
	}
}

/* Emits the session's next packet at s->next_ts and schedules the one after:
 * the one transition function of the emitter's state machine. */
static void sess_emit(struct sess *s)
{
	int64_t ts = s->next_ts;
	switch (s->phase) {
	case PH_SYN:
		write_tcp(s, 0, ts, s->nxt[0], 0x02, NULL, 0, 0);
		s->nxt[0]++;
		s->phase = PH_SYNACK;
		s->next_ts += 30 * NS_US;
		break;
	case PH_SYNACK:
		write_tcp(s, 1, ts, s->nxt[1], 0x12, NULL, 0, 0);
		s->nxt[1]++;
		s->phase = PH_HSACK;
		s->next_ts += s->rtt;
		break;
	case PH_HSACK:
		write_tcp(s, 0, ts, s->nxt[0], 0x10, NULL, 0, 0);
		s->cur = (uint16_t)-1;
		next_step(s);
		break;
	case PH_DATA: {
		struct step *st = &s->steps[s->cur];
		int d = st->dir;
		uint32_t n = SL_MIN_U(st->len - s->pos, MSS);
		uint32_t rest = st->len - s->pos - n;
		uint32_t n2 = SL_MIN_U(rest, MSS);
		bool body = st->flags & STEP_BODY;
		if (body && n2 && rnd_pct(cfg.reorder)) {
			/* Two segments swapped on the way to the capture point. */
			write_tcp(s, d, ts, s->nxt[d] + n, 0x18, st, s->pos + n, n2);
			write_tcp(s, d, ts + NS_US, s->nxt[d], 0x10, st, s->pos, n);
			s->nxt[d] += n + n2;
			s->pos += n + n2;
			reordered_pairs++;
			s->next_ts += NS_US;
		} else if (body && rest && rnd_pct(cfg.loss)) {
			/* Lost before the capture point; the peer got it and ACKs it. */
			s->nxt[d] += n;
			s->pos += n;
			s->unacked[d]++;
			lost_segments++;
		} else {
			write_tcp(s, d, ts, s->nxt[d], rest ? 0x10 : 0x18, st, s->pos, n);
			s->nxt[d] += n;
			s->pos += n;
		}
		if (s->pos >= st->len) {
			next_step(s);
			/* A message that ends while the peer owes an ACK for two
			 * segments and speaks next anyway piggybacks it. */
		} else {
			s->next_ts += s->pace;
			if (s->unacked[d] >= 2) {
				s->ack_dir = (uint8_t)!d;
				s->phase = PH_ACK;
				s->next_ts += 10 * NS_US;
			}
		}
		break;
	}
	case PH_ACK:
		write_tcp(s, s->ack_dir, ts, s->nxt[s->ack_dir], 0x10, NULL, 0, 0);
		s->phase = PH_DATA;
		s->next_ts += s->pace;
		break;
	case PH_CLOSE1: {
		int c = s->close_dir;
		if (s->close_rst) {
			write_tcp(s, c, ts, s->nxt[c], 0x14, NULL, 0, 0);
			s->phase = PH_DONE;
			break;
		}
		write_tcp(s, c, ts, s->nxt[c], 0x11, NULL, 0, 0);
		s->nxt[c]++;
		s->phase = PH_CLOSE2;
		s->next_ts += c == 1 ? s->rtt : 60 * NS_US;
		break;
	}
	case PH_CLOSE2: {
		int o = !s->close_dir;
		write_tcp(s, o, ts, s->nxt[o], 0x11, NULL, 0, 0);
		s->nxt[o]++;
		s->phase = PH_CLOSE3;
		s->next_ts += s->close_dir == 1 ? 40 * NS_US : s->rtt;
		break;
	}
	case PH_CLOSE3:
		write_tcp(s, s->close_dir, ts, s->nxt[s->close_dir], 0x10, NULL, 0, 0);
		s->phase = PH_DONE;
		break;
	case PH_DONE:
		break;
	}
}

/* ---- scheduler: a binary min-heap of slot indexes on next_ts */

static bool heap_less(uint32_t a, uint32_t b) { return slots[a].next_ts < slots[b].next_ts; }

static void heap_down(uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < heap_n && heap_less(heap[l], heap[m]))
			m = l;
		if (r < heap_n && heap_less(heap[r], heap[m]))
			m = r;
		if (m == i)
			return;
		uint32_t t = heap[i]; heap[i] = heap[m]; heap[m] = t;
		i = m;
	}
}

static void heap_up(uint32_t i)
{
	while (i) {
		uint32_t p = (i - 1) / 2;
		if (!heap_less(heap[i], heap[p]))
			return;
		uint32_t t = heap[i]; heap[i] = heap[p]; heap[p] = t;
		i = p;
	}
}

static bool may_start(void)
{
	if (cfg.sessions && sessions_started >= cfg.sessions)
		return false;
	if (cfg.size && bytes_written + planned_outstanding >= cfg.size)
		return false;
	return true;
}

static int64_t session_gap(void)
{
	return (int64_t)rnd_range(0, cfg.mix == MIX_SMALL ? 2000 : 20000) * NS_US;
}

static void run(void)
{
	int64_t t0 = START_SEC * NS_S;
	for (uint32_t i = 0; i < cfg.conc && may_start(); i++) {
		/* Staggered starts, so the file opens on a steady state rather
		 * than a burst of SYNs. */
		sess_start(&slots[i], t0 + (int64_t)rnd_range(0, 200000) * NS_US);
		heap[heap_n] = i;
		heap_up(heap_n++);
	}
	while (heap_n) {
		uint32_t i = heap[0];
		struct sess *s = &slots[i];
		sess_emit(s);
		if (s->phase == PH_DONE) {
			planned_outstanding -= SL_MIN_U64((uint64_t)(s->planned > 0 ? s->planned : 0), planned_outstanding);
			int64_t now = s->next_ts;
			if (may_start()) {
				if (rnd_pct(cfg.mix == MIX_SMALL ? 0.5 : 3))
					write_udp_pair(now + 1);
				sess_start(s, now + 1000 * NS_US + session_gap());
			} else {
				heap[0] = heap[--heap_n];
			}
		}
		if (heap_n)
			heap_down(0);
	}
}

/* ---------------------------------------------------------------- main */

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	uint64_t m = 1;
	switch (*end) {
	case 'k': case 'K': m = 1ull << 10; end++; break;
	case 'm': case 'M': m = 1ull << 20; end++; break;
	case 'g': case 'G': m = 1ull << 30; end++; break;
	default: break;
	}
	if (end == s || *end || v < 0) {
		fprintf(stderr, "gen_capture: bad size '%s'\n", s);
		exit(2);
	}
	return (uint64_t)(v * (double)m);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gen_capture -o FILE [-s SIZE] [--sessions N] [--mix bulk|small]\n"
		"                   [--seed N] [--loss PCT] [--reorder PCT] [-c CONCURRENT]\n"
		"  -s SIZE        stop starting sessions near SIZE bytes (K, M, G suffixes)\n"
		"  --sessions N   stop after N sessions (default: only SIZE limits)\n"
		"  --mix          bulk: 10 KB-2 MB bodies, 50 concurrent (default)\n"
		"                 small: tiny messages, 2000 concurrent\n"
		"  --loss PCT     body segments missing from the capture (default 0.05)\n"
		"  --reorder PCT  body segment pairs swapped (default 0.1)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "mix", required_argument, NULL, 'm' },
		{ "seed", required_argument, NULL, 'S' },
		{ "loss", required_argument, NULL, 'l' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "concurrent", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	cfg.mix = MIX_BULK;
	cfg.seed = 1;
	cfg.loss = 0.05;
	cfg.reorder = 0.1;
	int opt;
	while ((opt = getopt_long(argc, argv, "o:s:n:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': cfg.out = optarg; break;
		case 's': cfg.size = parse_size(optarg); break;
		case 'n': cfg.sessions = strtoull(optarg, NULL, 10); break;
		case 'c': cfg.conc = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'S': cfg.seed = strtoull(optarg, NULL, 10); break;
		case 'l': cfg.loss = strtod(optarg, NULL); break;
		case 'r': cfg.reorder = strtod(optarg, NULL); break;
		case 'm':
			if (!strcmp(optarg, "bulk"))
				cfg.mix = MIX_BULK;
			else if (!strcmp(optarg, "small"))
				cfg.mix = MIX_SMALL;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!cfg.out || optind != argc || (!cfg.size && !cfg.sessions)) {
		usage(stderr);
		return 2;
	}
	if (!cfg.conc)
		cfg.conc = cfg.mix == MIX_SMALL ? 2000 : 50;
	if (cfg.conc > MAX_CONC || cfg.loss < 0 || cfg.loss > 50 || cfg.reorder < 0 || cfg.reorder > 50) {
		fprintf(stderr, "gen_capture: concurrency at most %u, loss and reorder 0..50\n", MAX_CONC);
		return 2;
	}
	rng_state = cfg.seed * 0x2545f4914f6cdd1dull + 1;
	pool_init();
	outbuf = malloc(OUTBUF_SIZE);
	slots = calloc(cfg.conc, sizeof *slots);
	heap = calloc(cfg.conc, sizeof *heap);
	outf = fopen(cfg.out, "wb");
	if (!outbuf || !slots || !heap || !outf) {
		fprintf(stderr, "gen_capture: %s: %s\n", cfg.out, strerror(errno));
		return 1;
	}
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pcap_file_header();
	run();
	out_flush();
	if (fclose(outf) != 0) {
		fprintf(stderr, "gen_capture: %s: %s\n", cfg.out, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	fprintf(stderr, "gen_capture: %s: %" PRIu64 " bytes, %" PRIu64 " packets, %" PRIu64
		" sessions in %.2f s (%.0f MB/s); %" PRIu64 " segments lost, %" PRIu64
		" pairs reordered, %" PRIu64 " UDP\n",
		cfg.out, bytes_written, packets_written, sessions_started, secs,
		(double)bytes_written / 1e6 / (secs > 0 ? secs : 1e-9), lost_segments,
		reordered_pairs, udp_packets);
	for (int i = 0; i < O__COUNT; i++)
		if (outcome_count[i])
			fprintf(stderr, "  %-20s %" PRIu64 "\n", outcome_names[i], outcome_count[i]);
	free(heap);
	free(slots);
	free(outbuf);
	return 0;
}
