/*
 * check_tcp.c - TCP tracking and reassembly through the engine: in-order,
 * split at every offset, byte by byte, out of order, sequence wrap,
 * retransmission, overlap conflicts, gaps and resync, FIN/RST, handshake
 * variants, keep-alive, zero window, truncation, TTL profile, caps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "testutil.h"
#include "tu_scn.h"

static const char C[] = "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";
static const char S[] = "220 mx.example ESMTP ready\r\n250-mx.example\r\n250 SIZE 1000\r\n";
#define CN (sizeof(C) - 1)
#define SN (sizeof(S) - 1)

static void assert_stream(const struct tu_flow *f, enum sl_dir d, const char *want, size_t n)
{
	ck_assert_uint_eq(f->n[d], n);
	if (n)
		ck_assert_mem_eq(f->bytes[d], want, n);
}

static void assert_clean(const struct tu_flow *f)
{
	ck_assert_msg(f->order_errors == 0, "order errors in flow %llu: %s",
		      (unsigned long long)f->id, f->log);
	ck_assert_uint_eq(f->gaps[0] + f->gaps[1], 0);
}

/* Sends [a, b) of a stream from side d as one segment (nothing if empty). */
static void piece(struct tu_scn *s, enum sl_dir d, const char *str, size_t a, size_t b, uint8_t extra)
{
	if (b > a || extra)
		tu_scn_send(s, d, (int64_t)a, TH_ACK | TH_PSH | extra, str + a, b - a, 0);
}

/* Both streams split at every offset, pieces in order and swapped: the
 * reassembled bytes never change. */
START_TEST(test_split_every_offset)
{
	for (size_t k = 0; k <= CN; k++) {
		for (int swap = 0; swap < 2; swap++) {
			size_t k2 = k % (SN + 1);
			struct tu_scn s;
			tu_scn_init(&s, NULL);
			tu_scn_handshake(&s);
			if (!swap) {
				piece(&s, DIR_S2C, S, 0, k2, 0);
				piece(&s, DIR_S2C, S, k2, SN, 0);
				piece(&s, DIR_C2S, C, 0, k, 0);
				piece(&s, DIR_C2S, C, k, CN, 0);
			} else {
				piece(&s, DIR_S2C, S, k2, SN, 0);
				piece(&s, DIR_C2S, C, k, CN, 0);
				piece(&s, DIR_C2S, C, 0, k, 0);
				piece(&s, DIR_S2C, S, 0, k2, 0);
			}
			tu_scn_send(&s, DIR_C2S, CN, TH_ACK | TH_FIN, NULL, 0, SN);
			tu_scn_send(&s, DIR_S2C, SN, TH_ACK | TH_FIN, NULL, 0, CN + 1);
			tu_scn_send(&s, DIR_C2S, CN + 1, TH_ACK, NULL, 0, SN + 1);
			tu_scn_finish(&s);
			ck_assert_uint_eq(s.rec.n, 1);
			struct tu_flow *f = s.rec.flows[0];
			assert_clean(f);
			assert_stream(f, DIR_C2S, C, CN);
			assert_stream(f, DIR_S2C, S, SN);
			ck_assert_uint_eq(f->ev[DIR_C2S][TCP_FIN], 1);
			ck_assert_uint_eq(f->ev[DIR_S2C][TCP_FIN], 1);
			ck_assert_uint_eq(f->ev[DIR_C2S][TCP_RETRANSMISSION], 0);
			ck_assert_int_eq(f->why, END_CLOSED);
			ck_assert(f->final.handshake_done);
			ck_assert(f->final.roles_from_syn);
			ck_assert_uint_eq(f->final.dir[DIR_C2S].bytes, CN);
			tu_scn_free(&s);
		}
	}
}
END_TEST

static uint32_t lcg(uint32_t *x) { *x = *x * 1103515245u + 12345u; return *x >> 8; }

/* Byte by byte: in order, reversed, and shuffled with duplicates; the FIN
 * comes early (piggybacked on the last byte) in the shuffled case. */
START_TEST(test_bytewise_orders)
{
	for (int mode = 0; mode < 3; mode++) {
		for (uint32_t isn = 0; isn < 2; isn++) {
			struct tu_scn s;
			tu_scn_init(&s, NULL);
			if (isn)    /* crosses the 32-bit wrap in the middle */
				s.isn[0] = 0xffffffffu - 40;
			tu_scn_handshake(&s);
			size_t order[CN * 2];
			size_t n = 0;
			for (size_t i = 0; i < CN; i++)
				order[n++] = mode == 1 ? CN - 1 - i : i;
			if (mode == 2) {
				uint32_t x = 7;
				for (size_t i = 0; i < CN / 3; i++)
					order[n++] = lcg(&x) % CN;
				for (size_t i = n - 1; i > 0; i--) {
					size_t j = lcg(&x) % (i + 1);
					size_t t = order[i];
					order[i] = order[j];
					order[j] = t;
				}
			}
			for (size_t i = 0; i < n; i++) {
				size_t b = order[i];
				uint8_t fin = (mode == 2 && b == CN - 1) ? TH_FIN : 0;
				tu_scn_send(&s, DIR_C2S, (int64_t)b, TH_ACK | fin, C + b, 1, 0);
			}
			tu_scn_finish(&s);
			struct tu_flow *f = s.rec.flows[0];
			assert_clean(f);
			assert_stream(f, DIR_C2S, C, CN);
			ck_assert_uint_eq(f->ev[DIR_C2S][TCP_OVERLAP_CONFLICT], 0);
			if (mode == 2) {
				ck_assert_uint_eq(f->ev[DIR_C2S][TCP_FIN], 1);
				/* the FIN is reported at its place: after every byte */
				char want[32];
				snprintf(want, sizeof(want), "c2s:fin:%zu", CN);
				ck_assert_msg(tu_flow_logged(f, want), "%s", f->log);
			}
			tu_scn_free(&s);
		}
	}
}
END_TEST

/* Random segmentations, orders and overlapping duplicates of one stream:
 * the bytes never change, nothing is a gap or a conflict. */
START_TEST(test_random_segmentations)
{
	enum { N = 3000, MAXSEG = 400 };
	static uint8_t data[N];
	uint32_t x = 12345;
	for (size_t i = 0; i < N; i++)
		data[i] = (uint8_t)lcg(&x);
	for (int iter = 0; iter < 60; iter++) {
		size_t off[N], len[N], n = 0;
		for (size_t pos = 0; pos < N;) {
			size_t l = 1 + lcg(&x) % MAXSEG;
			if (l > N - pos)
				l = N - pos;
			off[n] = pos;
			len[n++] = l;
			pos += l;
		}
		size_t base = n;
		for (size_t i = 0; i < base / 2; i++) {     /* overlapping copies */
			size_t a = lcg(&x) % N, l = 1 + lcg(&x) % MAXSEG;
			off[n] = a;
			len[n++] = l > N - a ? N - a : l;
		}
		for (size_t i = n - 1; i > 0; i--) {        /* local shuffles */
			size_t j = i - lcg(&x) % (i < 8 ? i + 1 : 8);
			size_t t = off[i]; off[i] = off[j]; off[j] = t;
			t = len[i]; len[i] = len[j]; len[j] = t;
		}
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		s.isn[0] = lcg(&x) * 2654435761u;
		tu_scn_handshake(&s);
		for (size_t i = 0; i < n; i++)
			tu_scn_send(&s, DIR_C2S, (int64_t)off[i], TH_ACK, data + off[i], len[i], 0);
		tu_scn_finish(&s);
		struct tu_flow *f = s.rec.flows[0];
		assert_clean(f);
		ck_assert_uint_eq(f->n[DIR_C2S], N);
		ck_assert(memcmp(f->bytes[DIR_C2S], data, N) == 0);
		ck_assert_uint_eq(f->ev[DIR_C2S][TCP_OVERLAP_CONFLICT], 0);
		tu_scn_free(&s);
	}
}
END_TEST

START_TEST(test_seq_wrap_large)
{
	/* 300 kB across the wrap, in 1000-byte segments, every 7th pair swapped */
	const size_t total = 300000, seg = 1000;
	uint8_t *data = malloc(total);
	for (size_t i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	s.isn[0] = 0xffffffffu - 150000;
	tu_scn_handshake(&s);
	size_t nseg = total / seg;
	for (size_t i = 0; i < nseg; i++) {
		size_t j = i;
		if (i % 7 == 0 && i + 1 < nseg)
			j = i + 1;
		else if (i % 7 == 1)
			j = i - 1;
		tu_scn_send(&s, DIR_C2S, (int64_t)(j * seg), TH_ACK, data + j * seg, seg, 0);
	}
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	ck_assert_uint_eq(f->n[DIR_C2S], total);
	ck_assert(memcmp(f->bytes[DIR_C2S], data, total) == 0);
	ck_assert_int_eq(f->why, END_CAPTURE_END);
	tu_scn_free(&s);
	free(data);
}
END_TEST

START_TEST(test_retransmission)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 20, 0);
	piece(&s, DIR_C2S, C, 0, 20, 0);        /* full retransmission */
	piece(&s, DIR_C2S, C, 10, 30, 0);       /* half old, half new */
	piece(&s, DIR_C2S, C, 30, CN, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	assert_stream(f, DIR_C2S, C, CN);
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_RETRANSMISSION], 1);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].retransmissions, 1);
	ck_assert_msg(tu_flow_logged(f, "c2s:retransmission:20"), "%s", f->log);
	tu_scn_free(&s);
}
END_TEST

/* The first copy of a byte wins, whichever path it took; a differing later
 * copy is flagged with the number of differing bytes. */
START_TEST(test_overlap_conflict)
{
	/* buffered first, then the in-order packet disagrees */
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	tu_scn_send(&s, DIR_C2S, 10, TH_ACK, "XXXXXXXXXX", 10, 0);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, "0123456789abcdefghij", 20, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	assert_stream(f, DIR_C2S, "0123456789XXXXXXXXXX", 20);
	ck_assert_msg(tu_flow_logged(f, "c2s:overlap-conflict:10"), "%s", f->log);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].overlap_conflicts, 1);
	tu_scn_free(&s);

	/* two buffered copies disagree on 2 bytes; same bytes again: no event */
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	tu_scn_send(&s, DIR_C2S, 5, TH_ACK, "abcdef", 6, 0);
	tu_scn_send(&s, DIR_C2S, 8, TH_ACK, "dXYghi", 6, 0);
	tu_scn_send(&s, DIR_C2S, 5, TH_ACK, "abcdef", 6, 0);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, "01234", 5, 0);
	tu_scn_finish(&s);
	f = s.rec.flows[0];
	assert_clean(f);
	assert_stream(f, DIR_C2S, "01234abcdefghi", 14);
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_OVERLAP_CONFLICT], 1);
	ck_assert_msg(tu_flow_logged(f, "c2s:overlap-conflict:2"), "%s", f->log);
	tu_scn_free(&s);
}
END_TEST

/* A lost segment: the server ACKs past the hole. The hole is given up once
 * the client shows it moved past the acknowledged point (its next segment
 * starts there); a segment filling the hole before that still counts, as
 * merged captures can show the ACK before the data. */
START_TEST(test_gap_then_resync)
{
	for (int late = 0; late < 2; late++) {
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		tu_scn_handshake(&s);
		piece(&s, DIR_C2S, C, 0, 10, 0);
		piece(&s, DIR_C2S, C, 20, 30, 0);       /* 10..20 not captured (yet) */
		tu_scn_send(&s, DIR_S2C, 0, TH_ACK, NULL, 0, 15);
		tu_scn_send(&s, DIR_S2C, 0, TH_ACK, NULL, 0, 30);
		struct tu_flow *f = s.rec.flows[0];
		ck_assert_uint_eq(f->gaps[DIR_C2S], 0);
		ck_assert_uint_eq(f->n[DIR_C2S], 10);
		if (late)       /* the data shows up after its ACK */
			piece(&s, DIR_C2S, C, 10, 20, 0);
		piece(&s, DIR_C2S, C, 30, CN, 0);
		tu_scn_finish(&s);
		ck_assert_msg(f->order_errors == 0, "%s", f->log);
		if (late) {
			assert_clean(f);
			assert_stream(f, DIR_C2S, C, CN);
			tu_scn_free(&s);
			continue;
		}
		ck_assert_uint_eq(f->n[DIR_C2S], CN - 10);
		ck_assert_mem_eq(f->bytes[DIR_C2S], C, 10);
		ck_assert_mem_eq(f->bytes[DIR_C2S] + 10, C + 20, CN - 20);
		ck_assert_msg(tu_flow_logged(f, "c2s:gap:10@10"), "%s", f->log);
		ck_assert_uint_eq(f->final.dir[DIR_C2S].gaps, 1);
		ck_assert_uint_eq(f->final.dir[DIR_C2S].gap_bytes, 10);
		tu_scn_free(&s);
	}
}
END_TEST

/* A timestamp far in the future on one record does not expire every flow;
 * a step confirmed by the next record does. */
START_TEST(test_clock_outlier)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	int64_t t = s.ts;
	s.ts += 50LL * 365 * 86400 * NS_PER_SEC;
	tu_scn_send(&s, DIR_S2C, -1, TH_SYN | TH_ACK, NULL, 0, 0);
	s.ts = t;
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, NULL, 0, 0);
	ck_assert_uint_eq(s.rec.n, 1);
	ck_assert(!s.rec.flows[0]->closed);
	s.ts += 2 * 3600 * NS_PER_SEC;          /* two records 2 h later: real */
	s.port[0] = 40002;
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	ck_assert(!s.rec.flows[0]->closed);
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	ck_assert(s.rec.flows[0]->closed);
	ck_assert_int_eq(s.rec.flows[0]->why, END_IDLE);
	/* the flow of the step's first record was active at the new time */
	ck_assert_uint_eq(s.rec.n, 2);
	ck_assert(!s.rec.flows[1]->closed);
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.flows[1]->final.dir[DIR_C2S].syns, 2);
	tu_scn_free(&s);
}
END_TEST

/* A hole nobody acknowledges is given up at the end: gap, the buffered
 * bytes, then the FIN. */
START_TEST(test_gap_at_end)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 10, 0);
	piece(&s, DIR_C2S, C, 20, CN, TH_FIN);
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_FIN], 0);
	tu_scn_finish(&s);
	ck_assert_uint_eq(f->n[DIR_C2S], CN - 10);
	ck_assert_mem_eq(f->bytes[DIR_C2S], C, 10);
	ck_assert_mem_eq(f->bytes[DIR_C2S] + 10, C + 20, CN - 20);
	char want[64];
	snprintf(want, sizeof(want), "c2s:gap:10@10 c2s:fin:%zu close:capture_end", CN);
	ck_assert_msg(tu_flow_logged(f, want), "%s", f->log);
	tu_scn_free(&s);
}
END_TEST

/* The server's last reply is lost, then its FIN; once the client ACKs the
 * FIN, the hole before it is given up at once (gap, then FIN), not at the
 * flow's end. */
START_TEST(test_lost_before_fin)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_S2C, S, 0, 20, 0);
	tu_scn_send(&s, DIR_S2C, SN, TH_ACK | TH_FIN, NULL, 0, 0);  /* 20..SN never captured */
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_uint_eq(f->gaps[DIR_S2C], 0);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, NULL, 0, SN + 1);
	char want[64];
	snprintf(want, sizeof(want), "s2c:gap:%zu@20 s2c:fin:%zu", SN - 20, SN);
	ck_assert_msg(tu_flow_logged(f, want), "%s", f->log);
	tu_scn_finish(&s);
	ck_assert_msg(f->order_errors == 0, "%s", f->log);
	tu_scn_free(&s);

	/* the same when the client's ACK shows up before the FIN, which
	 * carries the last bytes after the hole */
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_S2C, S, 0, 20, 0);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, NULL, 0, SN + 1);
	piece(&s, DIR_S2C, S, 30, SN, TH_FIN);                    /* 20..30 never captured */
	f = s.rec.flows[0];
	snprintf(want, sizeof(want), "s2c:gap:10@20 s2c:fin:%zu", SN);
	ck_assert_msg(tu_flow_logged(f, want), "%s", f->log);
	ck_assert_uint_eq(f->n[DIR_S2C], SN - 10);
	tu_scn_finish(&s);
	ck_assert_msg(f->order_errors == 0, "%s", f->log);
	tu_scn_free(&s);
}
END_TEST

/* The ACK of a FIN is not a hole. */
START_TEST(test_fin_ack_no_gap)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, CN, TH_FIN);
	tu_scn_send(&s, DIR_S2C, 0, TH_ACK | TH_FIN, NULL, 0, CN + 1);
	tu_scn_send(&s, DIR_C2S, CN + 1, TH_ACK, NULL, 0, 1);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	ck_assert_int_eq(f->why, END_CLOSED);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].fin_frame, 4);
	ck_assert_uint_eq(f->final.dir[DIR_S2C].fin_frame, 5);
	tu_scn_free(&s);
}
END_TEST

/* The peer ACKs the FIN before the capture shows it (merged capture); the
 * sender's last ACK (one past the FIN) is no reason for a gap. */
START_TEST(test_fin_acked_before_seen)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, CN, 0);
	tu_scn_send(&s, DIR_S2C, 0, TH_ACK | TH_FIN, NULL, 0, CN + 1);
	tu_scn_send(&s, DIR_C2S, CN, TH_ACK | TH_FIN, NULL, 0, 1);
	tu_scn_send(&s, DIR_C2S, CN + 1, TH_ACK, NULL, 0, 1);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	assert_stream(f, DIR_C2S, C, CN);
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_FIN], 1);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_rst_windows)
{
	for (int out = 0; out < 2; out++) {
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		tu_scn_handshake(&s);
		piece(&s, DIR_S2C, S, 0, 20, 0);
		piece(&s, DIR_C2S, C, 0, 20, 0);
		struct tu_seg rst = { .seq = s.isn[1] + 1 + 20 + (out ? 3000000u : 0u), .flags = TH_RST,
				      .ttl = 3, .ip_id = 0x4242 };
		tu_scn_send_seg(&s, DIR_S2C, &rst, 0);
		struct tu_flow *f = s.rec.flows[0];
		ck_assert_msg(tu_flow_logged(f, out ? "s2c:rst:0" : "s2c:rst:1"), "%s", f->log);
		/* a late segment still gets sink.packet during the linger time */
		piece(&s, DIR_C2S, C, 20, 30, 0);
		ck_assert_uint_eq(f->packets[DIR_C2S], 4);
		/* data after a side's own RST is flagged; the peer's is not */
		ck_assert(!tu_flow_logged(f, "c2s:data-after-close"));
		piece(&s, DIR_S2C, S, 20, 25, 0);
		ck_assert_msg(tu_flow_logged(f, "s2c:data-after-close:5"), "%s", f->log);
		tu_scn_finish(&s);
		assert_clean(f);
		ck_assert_int_eq(f->why, END_CLOSED);
		const struct tcp_dir_stats *st = &f->final.dir[DIR_S2C];
		ck_assert_uint_eq(st->rst_frame, 6);
		ck_assert_uint_eq(st->rst_ttl, 3);
		ck_assert_uint_eq(st->rst_ip_id, 0x4242);
		ck_assert(st->rst_in_window == !out);
		ck_assert_uint_eq(st->rsts, 1);
		/* the RST does not enter the TTL profile */
		ck_assert_uint_eq(st->ttl_min, 50);
		ck_assert_uint_eq(st->ttl_max, 50);
		ck_assert(!st->ip_id_zero);
		tu_scn_free(&s);
	}
}
END_TEST

START_TEST(test_syn_retries_unanswered)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	for (int i = 0; i < 3; i++)
		tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.n, 1);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	ck_assert_msg(tu_flow_logged(f, "c2s:syn:1 c2s:syn:2 c2s:syn:3"), "%s", f->log);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].syns, 3);
	ck_assert(f->final.syn_seen);
	ck_assert(!f->final.synack_seen);
	ck_assert_int_eq(f->why, END_CAPTURE_END);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_syn_rst_refused)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	struct tu_seg rst = { .seq = 0, .ack = s.isn[0] + 1, .flags = TH_RST | TH_ACK };
	tu_scn_send_seg(&s, DIR_S2C, &rst, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	ck_assert_msg(tu_flow_logged(f, "s2c:rst-to-syn:0 s2c:rst:1"), "%s", f->log);
	ck_assert(f->final.refused);
	ck_assert_int_eq(f->why, END_CLOSED);
	ck_assert_str_eq(flow_end_name(f->why), "closed");
	tu_scn_free(&s);
}
END_TEST

/* No SYN: the mail-port side is the server; else the lower port. Each
 * direction's first sequence number is its offset 0. */
START_TEST(test_midstream_roles)
{
	static const struct { uint16_t a, b; uint16_t server; } cases[] = {
		{ 25, 40001, 25 }, { 40001, 587, 587 }, { 5000, 40001, 5000 }, { 40001, 5000, 5000 },
		{ 25, 587, 25 },
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		/* the first packet travels from port a to port b */
		s.port[0] = cases[i].a;
		s.port[1] = cases[i].b;
		tu_scn_send(&s, DIR_C2S, 100, TH_ACK, "hello\r\n", 7, 50);
		tu_scn_send(&s, DIR_S2C, 50, TH_ACK, "world\r\n", 7, 107);
		tu_scn_finish(&s);
		struct tu_flow *f = s.rec.flows[0];
		assert_clean(f);
		ck_assert(!f->final.roles_from_syn);
		ck_assert_uint_eq(f->final.server_port, cases[i].server);
		enum sl_dir first = cases[i].server == cases[i].b ? DIR_C2S : DIR_S2C;
		ck_assert_msg(tu_flow_logged(f, first == DIR_C2S ? "c2s:midstream-pickup" : "s2c:midstream-pickup"),
			      "%s", f->log);
		assert_stream(f, first, "hello\r\n", 7);
		assert_stream(f, !first, "world\r\n", 7);
		tu_scn_free(&s);
	}
}
END_TEST

START_TEST(test_synack_first)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	s.port[1] = 40002;      /* no mail port: roles only from the SYN-ACK */
	s.port[0] = 1000;
	tu_scn_send(&s, DIR_S2C, -1, TH_SYN | TH_ACK, NULL, 0, 0);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, NULL, 0, 0);
	piece(&s, DIR_S2C, S, 0, SN, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	ck_assert(f->final.roles_from_syn);
	ck_assert_uint_eq(f->final.server_port, 40002);
	assert_stream(f, DIR_S2C, S, SN);
	ck_assert_uint_eq(f->ev[DIR_S2C][TCP_SYNACK], 1);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_port_reuse)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 10, TH_FIN);
	tu_scn_send(&s, DIR_S2C, 0, TH_ACK | TH_FIN, NULL, 0, 11);
	/* same tuple, new SYN within the linger time: a new flow */
	s.isn[0] = 900000;
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 5, 0);
	/* open flow, SYN with an ISN far from the stream: a new flow again */
	s.isn[0] = 0x80000000u;
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	/* a SYN retry with the same ISN stays in the flow */
	tu_scn_send(&s, DIR_C2S, -1, TH_SYN, NULL, 0, 0);
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.n, 3);
	ck_assert_int_eq(s.rec.flows[0]->why, END_REUSED);
	ck_assert_int_eq(s.rec.flows[1]->why, END_REUSED);
	ck_assert_int_eq(s.rec.flows[2]->why, END_CAPTURE_END);
	assert_stream(s.rec.flows[0], DIR_C2S, C, 10);
	assert_stream(s.rec.flows[1], DIR_C2S, C, 5);
	ck_assert_uint_eq(s.rec.flows[2]->final.dir[DIR_C2S].syns, 2);
	for (int i = 0; i < 3; i++) {
		assert_clean(s.rec.flows[i]);
		ck_assert_uint_eq(s.rec.flows[i]->id, (uint64_t)i + 1);
	}
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_keepalive_zero_window)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 10, 0);
	tu_scn_send(&s, DIR_C2S, 9, TH_ACK, C + 9, 1, 0);     /* keep-alive with the old byte */
	tu_scn_send(&s, DIR_C2S, 9, TH_ACK, NULL, 0, 0);      /* keep-alive without data */
	struct tu_seg z = { .seq = s.isn[1] + 1, .ack = s.isn[0] + 11, .flags = TH_ACK, .win_zero = 1 };
	tu_scn_send_seg(&s, DIR_S2C, &z, 0);
	tu_scn_send_seg(&s, DIR_S2C, &z, 0);                  /* still zero: one event */
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_clean(f);
	assert_stream(f, DIR_C2S, C, 10);
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_KEEPALIVE], 2);
	ck_assert_uint_eq(f->ev[DIR_C2S][TCP_RETRANSMISSION], 0);
	ck_assert_uint_eq(f->ev[DIR_S2C][TCP_ZERO_WINDOW], 1);
	ck_assert_uint_eq(f->final.dir[DIR_S2C].zero_windows, 1);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].keepalives, 2);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_data_after_fin)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, 10, TH_FIN);
	piece(&s, DIR_C2S, C, 10, 20, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_msg(tu_flow_logged(f, "c2s:data-after-close:10"), "%s", f->log);
	ck_assert_msg(tu_flow_logged(f, "c2s:fin:10"), "%s", f->log);
	tu_scn_free(&s);
}
END_TEST

/* snaplen cut a payload: captured bytes delivered, the rest is a gap, the
 * next segment follows. */
START_TEST(test_truncated_payload)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	struct tu_seg seg = { .seq = s.isn[0] + 1, .ack = s.isn[1] + 1, .flags = TH_ACK,
			      .payload = C, .len = 30 };
	tu_scn_send_seg(&s, DIR_C2S, &seg, 14 + 20 + 20 + 12);    /* 12 payload bytes captured */
	piece(&s, DIR_C2S, C, 30, CN, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_msg(f->order_errors == 0, "%s", f->log);
	ck_assert_msg(tu_flow_logged(f, "c2s:snaplen-truncated:18 c2s:gap:18@12"), "%s", f->log);
	ck_assert_uint_eq(f->n[DIR_C2S], CN - 18);
	ck_assert_mem_eq(f->bytes[DIR_C2S], C, 12);
	ck_assert_mem_eq(f->bytes[DIR_C2S] + 12, C + 30, CN - 30);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_ttl_profile_and_options)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 3, 3, 7, 4, 2 };
	struct tu_seg syn = { .seq = s.isn[0], .flags = TH_SYN, .tcp_opts = opts, .tcp_opts_len = sizeof(opts),
			      .ttl = 60 };
	tu_scn_send_seg(&s, DIR_C2S, &syn, 0);
	tu_scn_send(&s, DIR_S2C, -1, TH_SYN | TH_ACK, NULL, 0, 0);
	struct tu_seg a = { .seq = s.isn[0] + 1, .ack = s.isn[1] + 1, .flags = TH_ACK, .ttl = 70 };
	tu_scn_send_seg(&s, DIR_C2S, &a, 0);
	a.ttl = 62;
	tu_scn_send_seg(&s, DIR_C2S, &a, 0);
	tu_scn_finish(&s);
	const struct tcp_dir_stats *st = &s.rec.flows[0]->final.dir[DIR_C2S];
	ck_assert_uint_eq(st->ttl_first, 60);
	ck_assert_uint_eq(st->ttl_min, 60);
	ck_assert_uint_eq(st->ttl_max, 70);
	ck_assert_uint_eq(st->ttl_last, 62);
	ck_assert_uint_eq(st->mss, 1460);
	ck_assert_int_eq(st->wscale, 7);
	ck_assert(st->sack_perm);
	ck_assert_int_eq(s.rec.flows[0]->final.dir[DIR_S2C].wscale, -1);
	ck_assert_uint_eq(st->packets, 3);
	tu_scn_free(&s);
}
END_TEST

/* Per-direction cap: the first hole is given up to make room. */
START_TEST(test_ooo_cap_per_dir)
{
	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.ooo_per_dir = 12;
	struct tu_scn s;
	tu_scn_init(&s, &cfg);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 10, 20, 0);       /* 10 buffered */
	piece(&s, DIR_C2S, C, 30, 40, 0);       /* would need 20: hole 0..10 given up */
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_msg(tu_flow_logged(f, "c2s:gap:10@0 c2s:reassembly-cap:10"), "%s", f->log);
	ck_assert_uint_eq(f->n[DIR_C2S], 10);
	piece(&s, DIR_C2S, C, 20, 30, 0);
	ck_assert_uint_eq(f->n[DIR_C2S], 30);
	piece(&s, DIR_C2S, C, 50, 70, 0);       /* larger than the cap on its own */
	ck_assert_uint_eq(f->n[DIR_C2S], 50);
	ck_assert_uint_eq(f->gap_bytes[DIR_C2S], 20);
	tu_scn_finish(&s);
	ck_assert_msg(f->order_errors == 0, "%s", f->log);
	ck_assert_uint_eq(engine_stats(s.e)->ooo_cap_hits, 2);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].ooo_dropped_bytes, 20);
	ck_assert_uint_le(engine_stats(s.e)->ooo_bytes_peak, 12);
	tu_scn_free(&s);
}
END_TEST

/* Many tiny out-of-order segments: the segment-count cap gives up the
 * hole instead of letting every insert walk an ever longer list. */
START_TEST(test_ooo_segment_cap)
{
	enum { N = 3000 };
	static uint8_t data[N];
	for (size_t i = 0; i < N; i++)
		data[i] = (uint8_t)('a' + i % 26);
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	for (size_t i = N; i-- > 1;)        /* byte 0 is missing: everything is out of order */
		tu_scn_send(&s, DIR_C2S, (int64_t)i, TH_ACK, data + i, 1, 0);
	struct tu_flow *f = s.rec.flows[0];
	ck_assert_uint_ge(f->ev[DIR_C2S][TCP_OOO_CAP], 1);
	tu_scn_finish(&s);
	ck_assert_msg(f->order_errors == 0, "%s", f->log);
	/* every byte is either delivered or inside a gap, in order */
	ck_assert_uint_eq(f->n[DIR_C2S] + f->gap_bytes[DIR_C2S], N);
	ck_assert_mem_eq(f->bytes[DIR_C2S] + f->n[DIR_C2S] - 1000, data + N - 1000, 1000);
	tu_scn_free(&s);
}
END_TEST

/* Global cap: two flows share it. */
START_TEST(test_ooo_cap_global)
{
	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.ooo_global = 15;
	struct tu_scn s;
	tu_scn_init(&s, &cfg);
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 10, 20, 0);
	s.port[0] = 40002;
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 10, 20, 0);       /* 20 > 15 in all: this flow gives up its hole */
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.n, 2);
	ck_assert_uint_eq(s.rec.flows[0]->gap_bytes[DIR_C2S], 10);  /* at the end */
	ck_assert_msg(tu_flow_logged(s.rec.flows[1], "c2s:gap:10@0 c2s:reassembly-cap:10"), "%s",
		      s.rec.flows[1]->log);
	ck_assert_uint_eq(engine_stats(s.e)->ooo_bytes_peak, 10);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_ipv6_and_link_types)
{
	static const int dlts[] = { 1, 113, 276, 12, 229, 0, 108 };
	for (size_t i = 0; i < SL_ARRAY_LEN(dlts); i++) {
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		s.dlt = dlts[i];
		s.addr[0] = "2001:db8::10";
		s.addr[1] = "2001:db8::25";
		tu_scn_handshake(&s);
		piece(&s, DIR_S2C, S, 0, SN, 0);
		piece(&s, DIR_C2S, C, 0, CN, 0);
		tu_scn_finish(&s);
		ck_assert_uint_eq(s.rec.n, 1);
		struct tu_flow *f = s.rec.flows[0];
		assert_clean(f);
		assert_stream(f, DIR_C2S, C, CN);
		assert_stream(f, DIR_S2C, S, SN);
		ck_assert_uint_eq(f->final.client.v, 6);
		ck_assert_uint_eq(f->final.server.a[15], 0x25);
		ck_assert_uint_eq(f->final.client_port, 40001);
		tu_scn_free(&s);
	}
}
END_TEST

START_TEST(test_refused_by_sink)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	s.rec.refuse = true;
	tu_scn_handshake(&s);
	piece(&s, DIR_C2S, C, 0, CN, 0);
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.n, 0);
	ck_assert_uint_eq(engine_stats(s.e)->flows, 1);
	ck_assert_uint_eq(engine_open_flows(s.e), 0);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(tcp_event_name(TCP_OVERLAP_CONFLICT), "overlap-conflict");
	ck_assert_str_eq(tcp_event_name(TCP_EV__COUNT), "?");
	ck_assert_str_eq(flow_end_name(END_REUSED), "port_reuse");
}
END_TEST

/* TCP timestamps per side (non-RST packets) and on the first RST, for the
 * diagnosis of injected RSTs. */
START_TEST(test_timestamps_and_rst)
{
	static const uint8_t tsopt[] = { 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7 };
	for (int rst_ts = 0; rst_ts < 2; rst_ts++) {
		struct tu_scn s;
		tu_scn_init(&s, NULL);
		tu_scn_handshake(&s);
		for (uint32_t i = 0; i < 3; i++) {
			struct tu_seg seg = { .seq = s.isn[1] + 1 + i * 5, .ack = s.isn[0] + 1,
					      .flags = TH_ACK | TH_PSH, .payload = S + i * 5, .len = 5,
					      .tcp_opts = tsopt, .tcp_opts_len = sizeof(tsopt) };
			tu_scn_send_seg(&s, DIR_S2C, &seg, 0);
		}
		struct tu_seg rst = { .seq = s.isn[1] + 1 + 15, .flags = TH_RST, .ttl = 7,
				      .tcp_opts = rst_ts ? tsopt : NULL, .tcp_opts_len = rst_ts ? sizeof(tsopt) : 0 };
		tu_scn_send_seg(&s, DIR_S2C, &rst, 0);
		tu_scn_finish(&s);
		struct tu_flow *f = s.rec.flows[0];
		const struct tcp_dir_stats *st = &f->final.dir[DIR_S2C];
		/* the SYN-ACK had no timestamps, the three data segments did */
		ck_assert_uint_eq(st->ts_opt_packets, 3);
		ck_assert_uint_eq(st->packets, 5);
		ck_assert(st->rst_has_ts == (bool)rst_ts);
		ck_assert_uint_eq(st->rst_ttl, 7);
		ck_assert_uint_eq(f->final.dir[DIR_C2S].ts_opt_packets, 0);
		tu_scn_free(&s);
	}
}
END_TEST

/* A RST behind the window (seq before what its side already sent: an
 * injected RST that lost the race) is dropped by the receiver: it does not
 * close the flow, is not rst_frame, and the bytes after it are delivered. */
START_TEST(test_stale_rst_ignored)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	piece(&s, DIR_S2C, S, 0, 30, 0);
	struct tu_seg rst = { .seq = s.isn[1] + 1 + 10, .flags = TH_RST | TH_ACK, .ttl = 9 };
	tu_scn_send_seg(&s, DIR_S2C, &rst, 0);
	piece(&s, DIR_C2S, C, 0, CN, 0);
	piece(&s, DIR_S2C, S, 30, SN, 0);
	tu_scn_finish(&s);
	struct tu_flow *f = s.rec.flows[0];
	assert_stream(f, DIR_C2S, C, CN);
	assert_stream(f, DIR_S2C, S, SN);
	ck_assert_int_eq(f->why, END_CAPTURE_END);
	const struct tcp_dir_stats *st = &f->final.dir[DIR_S2C];
	ck_assert_uint_eq(st->rsts_stale, 1);
	ck_assert_uint_eq(st->stale_rst_frame, 5);
	ck_assert_uint_eq(st->stale_rst_ttl, 9);
	ck_assert_uint_eq(st->rst_frame, 0);
	ck_assert(!tu_flow_logged(f, "s2c:rst"));
	tu_scn_free(&s);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_split_every_offset);
	tcase_add_test(tc, test_bytewise_orders);
	tcase_add_test(tc, test_seq_wrap_large);
	tcase_add_test(tc, test_random_segmentations);
	tcase_add_test(tc, test_retransmission);
	tcase_add_test(tc, test_overlap_conflict);
	tcase_add_test(tc, test_gap_then_resync);
	tcase_add_test(tc, test_gap_at_end);
	tcase_add_test(tc, test_clock_outlier);
	tcase_add_test(tc, test_fin_ack_no_gap);
	tcase_add_test(tc, test_lost_before_fin);
	tcase_add_test(tc, test_fin_acked_before_seen);
	tcase_add_test(tc, test_rst_windows);
	tcase_add_test(tc, test_syn_retries_unanswered);
	tcase_add_test(tc, test_syn_rst_refused);
	tcase_add_test(tc, test_midstream_roles);
	tcase_add_test(tc, test_synack_first);
	tcase_add_test(tc, test_port_reuse);
	tcase_add_test(tc, test_keepalive_zero_window);
	tcase_add_test(tc, test_data_after_fin);
	tcase_add_test(tc, test_truncated_payload);
	tcase_add_test(tc, test_ttl_profile_and_options);
	tcase_add_test(tc, test_timestamps_and_rst);
	tcase_add_test(tc, test_stale_rst_ignored);
	tcase_add_test(tc, test_ooo_cap_per_dir);
	tcase_add_test(tc, test_ooo_cap_global);
	tcase_add_test(tc, test_ooo_segment_cap);
	tcase_add_test(tc, test_ipv6_and_link_types);
	tcase_add_test(tc, test_refused_by_sink);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(tcp_suite()); }
