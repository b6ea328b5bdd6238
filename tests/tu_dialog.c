/*
 * tu_dialog.c - see tu_dialog.h. Packets are built with tu_pkt and fed to
 * the real session glue; nothing here fills a fact by hand (end_as only
 * relabels how the flow ended, for the one ending the glue never reports).
 */
#include "tu_dialog.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "tu_pkt.h"

#define DL_T0 (1700000000LL * NS_PER_SEC)
#define DL_MSS 1448

static void on_session(void *ctx, const struct session_view *sv, struct summary *sum)
{
	struct dl *t = ctx;
	(void)sum;
	if (sv->fi->client_port != t->port[DIR_C2S] && sv->fi->server_port != t->port[DIR_C2S])
		return;
	struct session_view v = *sv;
	if (t->end_as >= 0)
		v.end = (enum flow_end)t->end_as;
	diagnose(&v, &t->cfg, &t->v);
	static struct verdict again;
	diagnose(&v, &t->cfg, &again);
	t->repeatable = memcmp(&again, &t->v, sizeof(again)) == 0;
	t->sessions++;
	t->end = v.end;
	t->midstream = v.capture_started_midstream;
	t->fi = *sv->fi;
	t->f = *sv->smtp;
	tl_free(&t->tl);
	t->tl = *sv->tl;
	t->tl.ev = NULL;
	t->tl.mem = NULL;           /* a private copy: not the pipeline's memory to account */
	t->tl.cap = sv->tl->n;      /* entries [0, n) are all stored, the ring included */
	if (t->tl.cap) {
		t->tl.ev = malloc(t->tl.cap * sizeof(*t->tl.ev));
		if (!t->tl.ev)
			abort();
		memcpy(t->tl.ev, sv->tl->ev, t->tl.cap * sizeof(*t->tl.ev));
	}
	snprintf(t->protocol, sizeof(t->protocol), "%s", sv->protocol ? sv->protocol : "");
	t->view = v;
	t->view.fi = &t->fi;
	t->view.smtp = &t->f;
	t->view.tl = &t->tl;
	t->view.protocol = t->protocol;
	uint32_t kept = smtp_msgs_kept(sv->smtp);
	if (kept > SMTP_MAX_MESSAGES)
		kept = SMTP_MAX_MESSAGES;
	if (kept)
		memcpy(t->msgs, sv->smtp->msgs, kept * sizeof(t->msgs[0]));
	t->f.msgs = t->msgs;
	t->f.msgs_cap = kept;
}

void dl_init(struct dl *t)
{
	memset(t, 0, sizeof(*t));
	struct sessions_config cfg;
	sessions_config_default(&cfg);
	char err[256] = "";
	t->p = sessions_new(&cfg, on_session, t, err, sizeof(err));
	if (!t->p) {
		fprintf(stderr, "sessions_new: %s\n", err);
		abort();
	}
	sessions_set_input(t->p, "dialog.pcap");
	diag_config_default(&t->cfg);
	t->end_as = -1;
	t->now = DL_T0;
	t->addr[DIR_C2S] = "192.0.2.10";
	t->addr[DIR_S2C] = "198.51.100.25";
	t->port[DIR_C2S] = 40000;
	t->port[DIR_S2C] = 25;
	t->isn[DIR_C2S] = 1000;
	t->isn[DIR_S2C] = 700000;
	t->ttl[DIR_C2S] = 64;
	t->ttl[DIR_S2C] = 52;
}

void dl_free(struct dl *t)
{
	sessions_free(t->p);
	t->p = NULL;
	tl_free(&t->tl);
	for (int d = 0; d < 2; d++) {
		free(t->hist[d]);
		t->hist[d] = NULL;
	}
}

void dl_wait(struct dl *t, double seconds)
{
	t->now += (sl_time)(seconds * (double)NS_PER_SEC);
}

/* One segment from dir: seq at off past the side's ISN + 1 (-1: the SYN). */
static uint64_t segment(struct dl *t, enum sl_dir dir, int64_t off, uint8_t flags, const void *data, size_t len,
			uint8_t ttl)
{
	static uint8_t frame[TU_FRAME_MAX];
	struct tu_seg s = { 0 };
	enum sl_dir peer = dir == DIR_C2S ? DIR_S2C : DIR_C2S;
	s.src = t->addr[dir];
	s.dst = t->addr[peer];
	s.sport = t->port[dir];
	s.dport = t->port[peer];
	s.seq = t->isn[dir] + 1u + (uint32_t)off;
	if (flags & TH_ACK)
		s.ack = t->isn[peer] + 1u + (uint32_t)t->sent[peer];
	s.flags = flags;
	s.payload = data;
	s.len = len;
	s.ttl = ttl ? ttl : t->ttl[dir];
	s.ip_id = ++t->ip_id[dir];
	uint8_t opts[12] = { 1, 1, 8, 10 };     /* NOP, NOP, timestamps (TSval, TSecr) */
	if (t->tsopt[dir] && !(flags & TH_RST)) {
		uint32_t tsval = (uint32_t)(t->now / NS_PER_MS);
		opts[4] = (uint8_t)(tsval >> 24);
		opts[5] = (uint8_t)(tsval >> 16);
		opts[6] = (uint8_t)(tsval >> 8);
		opts[7] = (uint8_t)tsval;
		s.tcp_opts = opts;
		s.tcp_opts_len = sizeof(opts);
	}
	if (flags & TH_ACK)
		t->acked[peer] = t->sent[peer];
	size_t n = tu_frame(frame, sizeof(frame), DLT_EN10MB, &s);
	if (!n)
		abort();
	struct raw_packet r;
	tu_raw(&r, ++t->frame, t->now, DLT_EN10MB, frame, (uint32_t)n, (uint32_t)n);
	sessions_feed(t->p, &r);
	return t->frame;
}

uint64_t dl_syn(struct dl *t)
{
	return segment(t, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
}

uint64_t dl_synack(struct dl *t)
{
	return segment(t, DIR_S2C, -1, TH_SYN | TH_ACK, NULL, 0, 0);
}

void dl_handshake(struct dl *t)
{
	dl_syn(t);
	dl_wait(t, 0.001);
	dl_synack(t);
	dl_wait(t, 0.001);
	dl_ack(t, DIR_C2S);
}

uint64_t dl_refuse(struct dl *t)
{
	dl_wait(t, 0.0002);
	return segment(t, DIR_S2C, 0, TH_RST | TH_ACK, NULL, 0, 0);
}

uint64_t dl_ack(struct dl *t, enum sl_dir dir)
{
	return segment(t, dir, (int64_t)t->sent[dir], TH_ACK, NULL, 0, 0);
}

uint64_t dl_send(struct dl *t, enum sl_dir dir, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t fr = 0;
	/* The sequence space of a side starts with its payload (a FIN after
	 * data is not followed by more data in these scripts). */
	uint8_t *h = realloc(t->hist[dir], t->sent[dir] + len + 1);
	if (!h)
		abort();
	t->hist[dir] = h;
	memcpy(h + t->sent[dir], data, len);
	while (len) {
		size_t n = len < DL_MSS ? len : DL_MSS;
		fr = segment(t, dir, (int64_t)t->sent[dir], TH_ACK | TH_PSH, b, n, 0);
		t->last_data_frame[dir] = fr;
		t->sent[dir] += n;
		b += n;
		len -= n;
	}
	return fr;
}

uint64_t dl_retrans(struct dl *t, enum sl_dir dir, size_t n)
{
	uint64_t sent = t->sent[dir] - (t->fin[dir] ? 1 : 0);
	uint64_t from = t->acked[dir] < sent ? t->acked[dir] : (sent > n ? sent - n : 0);
	if (n > sent - from)
		n = (size_t)(sent - from);
	if (n > DL_MSS)
		n = DL_MSS;
	return segment(t, dir, (int64_t)from, TH_ACK | TH_PSH, t->hist[dir] + from, n, 0);
}

uint64_t dl_fin(struct dl *t, enum sl_dir dir)
{
	uint64_t fr = segment(t, dir, (int64_t)t->sent[dir], TH_FIN | TH_ACK, NULL, 0, 0);
	if (!t->fin[dir]) {
		t->fin[dir] = true;
		t->sent[dir]++;
	}
	return fr;
}

uint64_t dl_rst(struct dl *t, enum sl_dir dir, uint8_t ttl)
{
	return segment(t, dir, (int64_t)t->sent[dir], TH_RST | TH_ACK, NULL, 0, ttl);
}

static uint64_t send_line(struct dl *t, enum sl_dir dir, const char *line)
{
	char buf[1100];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort();
	return dl_send(t, dir, buf, (size_t)n);
}

uint64_t dl_greet(struct dl *t, uint16_t code, const char *enh, const char *text)
{
	return dl_reply(t, code, enh, text);
}

uint64_t dl_cmd(struct dl *t, const char *line)
{
	return send_line(t, DIR_C2S, line);
}

uint64_t dl_reply(struct dl *t, uint16_t code, const char *enh, const char *text)
{
	char line[1024];
	snprintf(line, sizeof(line), "%u %s%s%s", code, enh && *enh ? enh : "", enh && *enh ? " " : "", text);
	return send_line(t, DIR_S2C, line);
}

uint64_t dl_sline(struct dl *t, const char *line)
{
	return send_line(t, DIR_S2C, line);
}

/* A keyword of the EHLO reply starts a new line; other words are its
 * parameters (SIZE 1000, AUTH PLAIN LOGIN). */
static bool ehlo_keyword(const char *w, size_t n)
{
	static const char *const kw[] = { "SIZE", "STARTTLS", "PIPELINING", "CHUNKING", "AUTH", "8BITMIME",
					  "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8", "BINARYMIME", NULL };
	for (size_t i = 0; kw[i]; i++)
		if (strlen(kw[i]) == n && !strncmp(kw[i], w, n))
			return true;
	return false;
}

void dl_ehlo(struct dl *t, const char *exts)
{
	dl_cmd(t, "EHLO client.example");
	dl_wait(t, 0.01);
	char lines[20][128];
	size_t nl = 0;
	snprintf(lines[nl++], sizeof(lines[0]), "mx.example.net Hello client.example");
	for (const char *p = exts; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (!n)
			break;
		if (ehlo_keyword(p, n) || nl == 1) {
			if (nl < 20)
				snprintf(lines[nl++], sizeof(lines[0]), "%.*s", (int)n, p);
		} else {
			size_t have = strlen(lines[nl - 1]);
			snprintf(lines[nl - 1] + have, sizeof(lines[0]) - have, " %.*s", (int)n, p);
		}
		p += n;
	}
	char reply[20 * 136];
	size_t o = 0;
	for (size_t i = 0; i < nl; i++)
		o += (size_t)snprintf(reply + o, sizeof(reply) - o, "250%c%s\r\n", i + 1 < nl ? '-' : ' ', lines[i]);
	dl_send(t, DIR_S2C, reply, o);
}

uint64_t dl_body(struct dl *t, uint64_t n, bool complete)
{
	return dl_message(t, "", n, complete);
}

uint64_t dl_message(struct dl *t, const char *head, uint64_t n, bool complete)
{
	uint64_t fr = 0;
	size_t hl = strlen(head);
	if (n < hl)
		abort();
	if (hl)
		fr = dl_send(t, DIR_C2S, head, hl);
	n -= hl;
	if (n) {
		uint8_t *b = malloc(n);
		if (!b)
			abort();
		memset(b, 'x', n);
		/* Lines of 80 bytes; the last one takes the rest (80..159), so
		 * every line ends in CRLF and none is a lone dot. */
		uint64_t full = n >= 160 ? n / 80 - 1 : 0;
		for (uint64_t i = 0; i < full; i++) {
			b[i * 80 + 78] = '\r';
			b[i * 80 + 79] = '\n';
		}
		if (n >= 2) {
			b[n - 2] = '\r';
			b[n - 1] = '\n';
		}
		fr = dl_send(t, DIR_C2S, b, n);
		free(b);
	}
	if (complete)
		fr = dl_send(t, DIR_C2S, ".\r\n", 3);
	return fr;
}

/* ---- TLS records ---- */

static uint64_t tls_record(struct dl *t, enum sl_dir dir, uint8_t type, const uint8_t *body, size_t n)
{
	uint8_t rec[5 + 1024];
	if (n > sizeof(rec) - 5)
		abort();
	rec[0] = type;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(n >> 8);
	rec[4] = (uint8_t)n;
	memcpy(rec + 5, body, n);
	return dl_send(t, dir, rec, n + 5);
}

/* A handshake message: type, 24-bit length, then hello fields (version,
 * random, empty session id, one cipher suite, null compression, no
 * extensions). */
static uint64_t hello(struct dl *t, enum sl_dir dir, uint8_t hs_type)
{
	uint8_t m[4 + 2 + 32 + 1 + 4 + 2];
	size_t o = 4;
	m[o++] = 3;
	m[o++] = 3;
	for (int i = 0; i < 32; i++)
		m[o++] = (uint8_t)(0x40 + i);
	m[o++] = 0;                     /* session id */
	if (hs_type == 1) {
		m[o++] = 0;             /* cipher suites: 2 bytes, one suite */
		m[o++] = 2;
	}
	m[o++] = 0xc0;                  /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	m[o++] = 0x2f;
	if (hs_type == 1)
		m[o++] = 1;             /* one compression method */
	m[o++] = 0;                     /* null */
	size_t len = o - 4;
	m[0] = hs_type;
	m[1] = 0;
	m[2] = (uint8_t)(len >> 8);
	m[3] = (uint8_t)len;
	return tls_record(t, dir, 22, m, o);
}

uint64_t dl_tls_client_hello(struct dl *t)
{
	return hello(t, DIR_C2S, 1);
}

uint64_t dl_tls_server_hello(struct dl *t)
{
	uint64_t fr = hello(t, DIR_S2C, 2);
	static const uint8_t ccs[] = { 1 };
	tls_record(t, DIR_S2C, 20, ccs, sizeof(ccs));
	return fr;
}

uint64_t dl_tls_alert(struct dl *t, enum sl_dir dir, uint8_t level, uint8_t desc)
{
	const uint8_t a[2] = { level, desc };
	return tls_record(t, dir, 21, a, sizeof(a));
}

uint64_t dl_tls_appdata(struct dl *t, enum sl_dir dir, size_t n)
{
	uint8_t b[1024];
	uint64_t fr = 0;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	while (n) {
		size_t k = n < sizeof(b) ? n : sizeof(b);
		fr = tls_record(t, dir, 23, b, k);
		n -= k;
	}
	return fr;
}

/* ---- ending ---- */

void dl_other_packet(struct dl *t)
{
	static uint8_t frame[TU_FRAME_MAX];
	struct tu_seg s = { .src = "192.0.2.99", .dst = "198.51.100.99", .sport = 40999, .dport = 9,
			    .seq = 1, .ack = 1, .flags = TH_ACK };
	size_t n = tu_frame(frame, sizeof(frame), DLT_EN10MB, &s);
	struct raw_packet r;
	tu_raw(&r, ++t->frame, t->now, DLT_EN10MB, frame, (uint32_t)n, (uint32_t)n);
	sessions_feed(t->p, &r);
}

void dl_run(struct dl *t)
{
	if (t->ran)
		return;
	t->ran = true;
	sessions_finish(t->p);
}

void dl_run_idle(struct dl *t)
{
	struct sessions_config cfg;
	sessions_config_default(&cfg);
	t->ran = true;
	sessions_sweep(t->p, t->now + cfg.engine.flow_timeout + NS_PER_SEC);
	sessions_finish(t->p);
}

bool dl_cites(const struct dl *t, uint64_t frame)
{
	for (uint32_t i = 0; i < t->v.n_ev; i++)
		if (t->v.ev[i].frame == frame)
			return true;
	return false;
}
