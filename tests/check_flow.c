/*
 * check_flow.c - the flow table (keys, probing, deletion), idle timeout,
 * closed linger, eviction under max_flows, sweep, stats, file names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "testutil.h"
#include "tu_scn.h"

static struct pkt mkpkt(uint32_t i, bool reverse)
{
	struct pkt p;
	memset(&p, 0, sizeof(p));
	p.ipver = 4;
	p.src.v = p.dst.v = 4;
	p.src.a[0] = 10;
	p.src.a[1] = (uint8_t)(i >> 16);
	p.src.a[2] = (uint8_t)(i >> 8);
	p.src.a[3] = (uint8_t)i;
	p.dst.a[0] = 10;
	p.dst.a[3] = 1;
	p.sport = (uint16_t)(1024 + i % 50000);
	p.dport = 25;
	if (reverse) {
		struct sl_addr t = p.src;
		p.src = p.dst;
		p.dst = t;
		uint16_t tp = p.sport;
		p.sport = p.dport;
		p.dport = tp;
	}
	return p;
}

/* Both directions give one key; insert, find, delete in a scrambled order
 * keeps every remaining flow findable (backward-shift deletion). */
START_TEST(test_table_stress)
{
	struct flow_table t;
	const uint32_t n = 20000;
	ck_assert(ft_init(&t, n, NULL));
	struct flow **fs = calloc(n, sizeof(*fs));
	for (uint32_t i = 0; i < n; i++) {
		struct pkt p = mkpkt(i, false), q = mkpkt(i, true);
		struct flow_key k, k2;
		bool a, b;
		flow_key_make(&p, &k, &a);
		flow_key_make(&q, &k2, &b);
		ck_assert(memcmp(&k, &k2, sizeof(k)) == 0);
		ck_assert(a != b);
		uint32_t h = flow_key_hash(&k, t.seed);
		ck_assert_ptr_null(ft_find(&t, &k, h));
		fs[i] = ft_add(&t, &k, h);
		ck_assert_ptr_nonnull(fs[i]);
	}
	ck_assert_uint_eq(t.count, n);
	uint32_t x = 1;
	bool *gone = calloc(n, sizeof(*gone));
	for (uint32_t round = 0; round < n / 2; round++) {
		x = x * 1103515245u + 12345u;
		uint32_t i = (x >> 8) % n;
		if (gone[i])
			continue;
		ft_remove(&t, fs[i]);
		gone[i] = true;
		if (round % 1000 == 0) {
			for (uint32_t j = 0; j < n; j++) {
				struct pkt p = mkpkt(j, j & 1);
				struct flow_key k;
				bool a;
				flow_key_make(&p, &k, &a);
				struct flow *f = ft_find(&t, &k, flow_key_hash(&k, t.seed));
				ck_assert(gone[j] ? f == NULL : f == fs[j]);
			}
		}
	}
	free(gone);
	free(fs);
	ft_free(&t);
}
END_TEST

START_TEST(test_idle_timeout_and_sweep)
{
	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.flow_timeout = 10 * NS_PER_SEC;
	struct tu_scn s;
	tu_scn_init(&s, &cfg);
	tu_scn_handshake(&s);
	s.port[0] = 40002;
	s.ts += 5 * NS_PER_SEC;
	tu_scn_handshake(&s);
	ck_assert_uint_eq(engine_open_flows(s.e), 2);
	/* 11 s after the first flow's last packet, a third flow: the first ends idle */
	s.port[0] = 40003;
	s.ts += 6 * NS_PER_SEC;
	tu_scn_handshake(&s);
	ck_assert(s.rec.flows[0]->closed);
	ck_assert_int_eq(s.rec.flows[0]->why, END_IDLE);
	ck_assert(!s.rec.flows[1]->closed);
	/* the live path: sweep by wall time */
	engine_sweep(s.e, s.ts + 20 * NS_PER_SEC);
	ck_assert_int_eq(s.rec.flows[1]->why, END_IDLE);
	ck_assert_int_eq(s.rec.flows[2]->why, END_IDLE);
	ck_assert_uint_eq(engine_open_flows(s.e), 0);
	ck_assert_uint_eq(engine_stats(s.e)->flows_idle, 3);
	/* a packet after the timeout on the same tuple starts a new flow */
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, "x", 1, 0);
	tu_scn_finish(&s);
	ck_assert_uint_eq(s.rec.n, 4);
	ck_assert(!s.rec.flows[3]->final.roles_from_syn);
	ck_assert_int_eq(s.rec.flows[3]->why, END_CAPTURE_END);
	tu_scn_free(&s);
}
END_TEST

/* A closed flow lingers: a late RST still reaches it; then it ends closed. */
START_TEST(test_closed_linger)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	tu_scn_handshake(&s);
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK | TH_FIN, NULL, 0, 0);
	tu_scn_send(&s, DIR_S2C, 0, TH_ACK | TH_FIN, NULL, 0, 1);
	s.ts += 2 * NS_PER_SEC;
	tu_scn_send(&s, DIR_C2S, 1, TH_RST, NULL, 0, 0);
	struct tu_flow *f = s.rec.flows[0];
	ck_assert(!f->closed);
	ck_assert_msg(tu_flow_logged(f, "c2s:rst:1"), "%s", f->log);
	/* another flow 6 s later: the linger is over */
	s.port[0] = 40002;
	s.ts += 6 * NS_PER_SEC;
	tu_scn_handshake(&s);
	ck_assert(f->closed);
	ck_assert_int_eq(f->why, END_CLOSED);
	ck_assert_uint_eq(f->final.dir[DIR_C2S].rst_frame, 6);
	tu_scn_finish(&s);
	ck_assert_int_eq(s.rec.flows[1]->why, END_CAPTURE_END);
	ck_assert_uint_eq(engine_stats(s.e)->flows_idle, 0);
	tu_scn_free(&s);
}
END_TEST

/* At max_flows the least recently active flow is evicted. */
START_TEST(test_eviction)
{
	struct engine_config cfg;
	engine_config_default(&cfg);
	cfg.max_flows = 3;
	struct tu_scn s;
	tu_scn_init(&s, &cfg);
	for (int i = 0; i < 3; i++) {
		s.port[0] = (uint16_t)(40001 + i);
		tu_scn_handshake(&s);
	}
	/* flow 1 becomes the most recently active (LRU order is kept to
	 * within a grain of a second) */
	s.ts += 2 * NS_PER_SEC;
	s.port[0] = 40001;
	tu_scn_send(&s, DIR_C2S, 0, TH_ACK, "a", 1, 0);
	for (int i = 3; i < 5; i++) {
		s.port[0] = (uint16_t)(40001 + i);
		tu_scn_handshake(&s);
		ck_assert_uint_le(engine_open_flows(s.e), 3);
	}
	ck_assert_int_eq(s.rec.flows[1]->why, END_EVICTED);
	ck_assert_int_eq(s.rec.flows[2]->why, END_EVICTED);
	ck_assert(!s.rec.flows[0]->closed);
	ck_assert_uint_eq(engine_stats(s.e)->flows_evicted, 2);
	ck_assert_uint_eq(engine_stats(s.e)->open_flows_peak, 3);
	tu_scn_finish(&s);
	ck_assert_uint_eq(engine_stats(s.e)->flows, 5);
	tu_scn_free(&s);
}
END_TEST

START_TEST(test_stats_and_file)
{
	struct tu_scn s;
	tu_scn_init(&s, NULL);
	char name[32];
	snprintf(name, sizeof(name), "first.pcap");
	engine_set_file(s.e, name);
	memset(name, 0, sizeof(name));      /* the engine keeps its own copy */
	tu_scn_handshake(&s);
	engine_set_file(s.e, "second.pcap");
	s.port[0] = 40002;
	tu_scn_handshake(&s);
	/* a non-TCP record and a fragment are counted, not tracked */
	uint8_t f[256];
	struct tu_seg seg = { .src = "1.2.3.4", .dst = "5.6.7.8", .sport = 1, .dport = 2, .frag = 0x2000 };
	size_t n = tu_frame(f, sizeof(f), 1, &seg);
	struct raw_packet r;
	tu_raw(&r, 99, s.ts, 1, f, (uint32_t)n, 0);
	engine_feed(s.e, &r);
	f[12] = 0x08;
	f[13] = 0x06;
	engine_feed(s.e, &r);
	tu_scn_finish(&s);
	const struct engine_stats *st = engine_stats(s.e);
	ck_assert_uint_eq(st->records, 8);
	ck_assert_uint_eq(st->decode[DEC_TCP], 6);
	ck_assert_uint_eq(st->decode[DEC_FRAGMENT], 1);
	ck_assert_uint_eq(st->decode[DEC_NOT_IP], 1);
	ck_assert_str_eq(s.rec.flows[0]->final.file, "first.pcap");
	ck_assert_str_eq(s.rec.flows[1]->final.file, "second.pcap");
	ck_assert_uint_eq(s.rec.flows[0]->final.first_frame, 1);
	ck_assert_uint_eq(s.rec.flows[0]->final.last_frame, 3);
	ck_assert_uint_eq(s.rec.flows[1]->final.id, 2);
	tu_scn_free(&s);
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_table_stress);
	tcase_add_test(tc, test_idle_timeout_and_sweep);
	tcase_add_test(tc, test_closed_linger);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_stats_and_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(flow_suite()); }
