/*
 * check_pair.c - the two-point join (analyzer/pair.c) on small synthetic
 * captures written to disk: one scripted session seen at the client and at
 * the server, with the path doing one thing at a time (dropping, forging,
 * reordering, clamping the MSS, NATing, rewriting ISNs, shifting a clock),
 * and hostile inputs (empty sides, a side with one packet, unrelated flows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pair_int.h"
#include "pkt.h"
#include "testutil.h"
#include "tu_pkt.h"

#define T0 (1700000000LL * NS_PER_SEC)
#define MAXP 64

/* One packet of the scripted session, as sent. */
struct step {
	int c2s;                /* 1: client to server */
	uint32_t seq, ack;      /* relative to the two ISNs */
	uint8_t flags;
	const char *payload;
	uint16_t mss;           /* MSS option on a SYN */
};

static const struct step session[] = {
	{ 1, 0, 0, TH_SYN, NULL, 1460 },
	{ 0, 0, 1, TH_SYN | TH_ACK, NULL, 1460 },
	{ 1, 1, 1, TH_ACK, NULL, 0 },
	{ 0, 1, 1, TH_ACK | TH_PSH, "220 mx.example ESMTP\r\n", 0 },
	{ 1, 1, 23, TH_ACK | TH_PSH, "EHLO client.example\r\n", 0 },
	{ 0, 23, 22, TH_ACK | TH_PSH, "250 mx.example\r\n", 0 },
	{ 1, 22, 39, TH_ACK | TH_PSH, "MAIL FROM:<a@client.example>\r\n", 0 },
	{ 0, 39, 52, TH_ACK | TH_PSH, "250 ok\r\n", 0 },
	{ 1, 52, 47, TH_ACK | TH_PSH, "QUIT\r\n", 0 },
	{ 0, 47, 58, TH_ACK | TH_PSH | TH_FIN, "221 bye\r\n", 0 },
	{ 1, 58, 56, TH_ACK | TH_FIN, NULL, 0 },
};
#define NSTEPS ((int)SL_ARRAY_LEN(session))

/* What the path does to the session. */
struct scenario {
	const char *client_ip;          /* the client as the server sees it (NAT) */
	uint16_t client_port_at_server;
	uint32_t isn_shift;             /* client ISN rewritten on the way */
	int64_t offset;                 /* server clock - client clock, ns */
	int64_t delay_c2s, delay_s2c;   /* one-way, ns */
	int drop_step;                  /* this step never arrives (-1: none) */
	int forge_rst_to_client;        /* a RST in the server's name: 1 at the end, 2 mid-session */
	int late_step;                  /* this step arrives 25 ms late (0: none) */
	uint16_t mss_clamp;             /* SYN MSS as received (0: untouched) */
};

static uint8_t frames[2][MAXP][256];
static struct tu_rec recs[2][MAXP];
static size_t nrec[2];

static void add(int side, int64_t ts, const struct tu_seg *s)
{
	size_t i = nrec[side]++;
	ck_assert_uint_lt(i, MAXP);
	recs[side][i].caplen = (uint32_t)tu_frame(frames[side][i], sizeof(frames[side][i]), 1, s);
	ck_assert_uint_gt(recs[side][i].caplen, 0);
	recs[side][i].data = frames[side][i];
	recs[side][i].ts_ns = ts;
	recs[side][i].wirelen = 0;
	recs[side][i].iface = 0;
}

static int cmp_rec(const void *a, const void *b)
{
	const struct tu_rec *x = a, *y = b;
	return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

static char paths[2][512];

/* Writes the two sides' captures of the scenario. */
static void build(const struct scenario *sc, const char *tag)
{
	const uint32_t cisn = 1000000, sisn = 5000000;
	nrec[0] = nrec[1] = 0;
	for (int i = 0; i < NSTEPS; i++) {
		const struct step *st = &session[i];
		uint8_t opts[4] = { 2, 4, (uint8_t)(st->mss >> 8), (uint8_t)st->mss };
		int64_t sent = T0 + (int64_t)i * 10 * NS_PER_MS;
		struct tu_seg s = { .flags = st->flags, .payload = st->payload,
				    .len = st->payload ? strlen(st->payload) : 0, .ttl = 64 };
		if (st->mss) {
			s.tcp_opts = opts;
			s.tcp_opts_len = 4;
		}
		/* as sent, at the sender */
		if (st->c2s) {
			s.src = "192.0.2.10", s.dst = "203.0.113.25", s.sport = 40001, s.dport = 25;
			s.seq = cisn + st->seq;
			s.ack = st->flags & TH_ACK ? sisn + st->ack : 0;
			add(0, sent, &s);
		} else {
			s.src = "203.0.113.25", s.dst = sc->client_ip, s.sport = 25, s.dport = sc->client_port_at_server;
			s.seq = sisn + st->seq;
			s.ack = cisn + sc->isn_shift + st->ack;
			add(1, sent + sc->offset, &s);
		}
		if (i == sc->drop_step)
			continue;
		/* as received, one hop later */
		int64_t arr = sent + (st->c2s ? sc->delay_c2s : sc->delay_s2c);
		if (sc->late_step && i == sc->late_step)
			arr += 25 * NS_PER_MS;
		s.ttl = 63;
		if (st->c2s) {
			s.src = sc->client_ip, s.sport = sc->client_port_at_server;
			s.seq += sc->isn_shift;
			if (sc->mss_clamp && st->mss) {
				opts[2] = (uint8_t)(sc->mss_clamp >> 8);
				opts[3] = (uint8_t)sc->mss_clamp;
			}
			add(1, arr + sc->offset, &s);
		} else {
			s.dst = "192.0.2.10", s.dport = 40001;
			s.ack -= sc->isn_shift;
			add(0, arr, &s);
		}
	}
	if (sc->forge_rst_to_client) {
		struct tu_seg r = { .src = "203.0.113.25", .dst = "192.0.2.10", .sport = 25, .dport = 40001,
				    .seq = sisn + 58, .flags = TH_RST, .ttl = 64 };
		/* 1: after the last step; 2: before the client's QUIT, which
		 * then shows the client ignored it */
		add(0, T0 + (sc->forge_rst_to_client == 2 ? 75 : NSTEPS * 10) * NS_PER_MS, &r);
	}
	for (int side = 0; side < 2; side++) {
		qsort(recs[side], nrec[side], sizeof(recs[side][0]), cmp_rec);
		snprintf(paths[side], sizeof(paths[side]), "%s/pair_%s_%s.pcap", tu_tmpdir(), tag,
			 side ? "server" : "client");
		ck_assert_int_eq(tu_pcap_write(paths[side], 1, 1, 65535, recs[side], nrec[side]), 0);
	}
}

static const struct scenario plain = {
	.client_ip = "192.0.2.10", .client_port_at_server = 40001, .delay_c2s = 5 * NS_PER_MS,
	.delay_s2c = 5 * NS_PER_MS, .drop_step = -1,
};

static struct pair *run_pair(void)
{
	char err[256];
	struct pair *p = pair_new();
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(pair_read(p, PAIR_CLIENT, paths[0], err, sizeof(err)), "%s", err);
	ck_assert_msg(pair_read(p, PAIR_SERVER, paths[1], err, sizeof(err)), "%s", err);
	pair_join(p);
	return p;
}

static const struct pflow *joined(const struct pair *p)
{
	ck_assert_uint_eq(p->n_joined, 1);
	ck_assert_uint_eq(p->s[PAIR_CLIENT].n_fl, 1);
	const struct pflow *c = &p->s[PAIR_CLIENT].fl[0];
	ck_assert_int_eq(c->peer, 0);
	return c;
}

/* ---- Core ---- */

START_TEST(test_clean_path)
{
	build(&plain, "clean");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_int_eq(c->how, JOIN_TUPLE);
	for (int d = 0; d < 2; d++) {
		const struct path_dir *pd = &c->dir[d];
		ck_assert_uint_eq(pd->sent, pd->received);
		ck_assert_uint_eq(pd->matched, pd->sent);
		ck_assert_uint_eq(pd->dropped + pd->injected + pd->reordered, 0);
		ck_assert_int_eq(pd->ttl_sent - pd->ttl_recv, 1);
		ck_assert(pd->has_delay);
		ck_assert_int_eq(pd->delay_min, 5 * NS_PER_MS);
		ck_assert_int_eq(pd->delay_max, 5 * NS_PER_MS);
		ck_assert_uint_eq(pd->mss_sent, 1460);
		ck_assert_uint_eq(pd->mss_recv, 1460);
	}
	ck_assert_int_eq(p->offset, 0);
	pair_free(p);
}
END_TEST

START_TEST(test_drop_is_found_by_content)
{
	struct scenario sc = plain;
	sc.drop_step = 6;       /* MAIL FROM lost */
	build(&sc, "drop");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_uint_eq(c->dir[DIR_C2S].dropped, 1);
	ck_assert_uint_eq(c->dir[DIR_S2C].dropped, 0);
	ck_assert_uint_eq(c->dir[DIR_C2S].stuck_copies, 1);   /* sent once, lost once */
	const struct ppkt *k = &p->s[PAIR_CLIENT].pk[c->dir[DIR_C2S].drop_idx[0]];
	ck_assert_uint_eq(pair_rel_seq(c, k), 22);
	ck_assert_uint_eq(k->len, strlen(session[6].payload));
	pair_free(p);
}
END_TEST

START_TEST(test_forged_rst)
{
	struct scenario sc = plain;
	sc.forge_rst_to_client = 1;
	build(&sc, "forged");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected, 1);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected_rst, 1);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected_rst_ignored, 0);
	ck_assert_uint_eq(c->dir[DIR_C2S].injected, 0);
	const struct ppkt *r = &p->s[PAIR_CLIENT].pk[c->dir[DIR_S2C].inj_idx[0]];
	ck_assert_uint_eq(r->ttl, 64);
	ck_assert_int_eq(c->dir[DIR_S2C].ttl_recv, 63);
	pair_free(p);
}
END_TEST

START_TEST(test_forged_rst_ignored)
{
	struct scenario sc = plain;
	sc.forge_rst_to_client = 2;
	build(&sc, "ignored");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected, 1);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected_rst, 0);
	ck_assert_uint_eq(c->dir[DIR_S2C].injected_rst_ignored, 1);
	pair_free(p);
}
END_TEST

START_TEST(test_reordering)
{
	/* EHLO (sent at 40 ms) arrives 25 ms late, after MAIL FROM (sent at 60 ms) */
	struct scenario sc = plain;
	sc.late_step = 4;
	build(&sc, "late");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_uint_eq(c->dir[DIR_C2S].reordered, 1);
	ck_assert_uint_eq(c->dir[DIR_C2S].dropped, 0);
	ck_assert_uint_eq(c->dir[DIR_S2C].reordered, 0);
	ck_assert_int_eq(c->dir[DIR_C2S].delay_max, 30 * NS_PER_MS);
	ck_assert_int_eq(c->dir[DIR_C2S].delay_min, 5 * NS_PER_MS);
	pair_free(p);
}
END_TEST

START_TEST(test_mss_clamped)
{
	struct scenario sc = plain;
	sc.mss_clamp = 1400;
	build(&sc, "mss");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_uint_eq(c->dir[DIR_C2S].mss_sent, 1460);
	ck_assert_uint_eq(c->dir[DIR_C2S].mss_recv, 1400);
	/* the SYN still matches: the MSS option is not part of the content */
	ck_assert_uint_eq(c->dir[DIR_C2S].dropped, 0);
	pair_free(p);
}
END_TEST

/* ---- Clocks ---- */

START_TEST(test_offset_ntp_style)
{
	/* the error is half the asymmetry of the two delays */
	struct scenario sc = plain;
	sc.offset = 3250 * NS_PER_MS;
	sc.delay_c2s = 10 * NS_PER_MS;
	sc.delay_s2c = 30 * NS_PER_MS;
	build(&sc, "offset");
	struct pair *p = run_pair();
	joined(p);
	ck_assert(p->has_offset);
	ck_assert_int_eq(p->offset, 3250 * NS_PER_MS - 10 * NS_PER_MS);
	ck_assert_int_eq(p->rtt_min, 40 * NS_PER_MS);
	pair_free(p);
}
END_TEST

START_TEST(test_offset_negative_ten_seconds)
{
	struct scenario sc = plain;
	sc.offset = -10 * NS_PER_SEC;
	build(&sc, "minus10");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_int_eq(p->offset, -10 * NS_PER_SEC);
	ck_assert_int_eq(c->dir[DIR_C2S].delay_min, 5 * NS_PER_MS);
	pair_free(p);
}
END_TEST

/* ---- NAT ---- */

START_TEST(test_nat_ports_rewritten)
{
	struct scenario sc = plain;
	sc.client_ip = "198.51.100.7";
	sc.client_port_at_server = 40077;
	sc.offset = 7500 * NS_PER_MS;
	build(&sc, "nat");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_int_eq(c->how, JOIN_ISN);
	const struct pflow *s = &p->s[PAIR_SERVER].fl[c->peer];
	ck_assert_uint_eq(s->cport, 40077);
	ck_assert_uint_eq(c->cport, 40001);
	ck_assert_uint_eq(c->dir[DIR_C2S].dropped + c->dir[DIR_S2C].dropped, 0);
	pair_free(p);
}
END_TEST

START_TEST(test_nat_isn_rewritten)
{
	struct scenario sc = plain;
	sc.client_ip = "198.51.100.7";
	sc.client_port_at_server = 40077;
	sc.isn_shift = 0x7654321;
	sc.offset = 9 * NS_PER_SEC;
	build(&sc, "isn");
	struct pair *p = run_pair();
	const struct pflow *c = joined(p);
	ck_assert_int_eq(c->how, JOIN_FINGERPRINT);
	ck_assert_uint_eq(c->seq_delta[DIR_C2S], 0x7654321);
	ck_assert_uint_eq(c->seq_delta[DIR_S2C], 0);
	ck_assert_uint_eq(c->dir[DIR_C2S].dropped + c->dir[DIR_S2C].dropped, 0);
	ck_assert_uint_eq(c->dir[DIR_C2S].matched, c->dir[DIR_C2S].sent);
	ck_assert_int_eq(p->offset, 9 * NS_PER_SEC);
	pair_free(p);
}
END_TEST

/* ---- Hostile ---- */

START_TEST(test_one_side_empty)
{
	build(&plain, "empty");
	snprintf(paths[1], sizeof(paths[1]), "%s/pair_empty_server2.pcap", tu_tmpdir());
	ck_assert_int_eq(tu_pcap_write(paths[1], 1, 1, 65535, recs[1], 0), 0);
	struct pair *p = run_pair();
	ck_assert_uint_eq(p->n_joined, 0);
	ck_assert_uint_eq(p->n_only[PAIR_CLIENT], 1);
	ck_assert(!p->has_offset);
	pair_free(p);
}
END_TEST

START_TEST(test_one_packet_and_unrelated)
{
	/* the server side holds one unrelated flow's packet */
	build(&plain, "unrel");
	struct tu_seg s = { .src = "203.0.113.9", .dst = "203.0.113.25", .sport = 5555, .dport = 25,
			    .seq = 42, .flags = TH_ACK, .payload = "x", .len = 1 };
	nrec[1] = 0;
	add(1, T0, &s);
	ck_assert_int_eq(tu_pcap_write(paths[1], 1, 1, 65535, recs[1], nrec[1]), 0);
	struct pair *p = run_pair();
	ck_assert_uint_eq(p->n_joined, 0);
	ck_assert_uint_eq(p->n_only[PAIR_SERVER], 1);
	pair_free(p);
}
END_TEST

START_TEST(test_unreadable)
{
	char err[256];
	struct pair *p = pair_new();
	ck_assert(!pair_read(p, PAIR_CLIENT, "/nonexistent/x.pcap", err, sizeof(err)));
	ck_assert(strstr(err, "x.pcap") != NULL);
	pair_join(p);
	ck_assert_uint_eq(p->n_joined, 0);
	pair_free(p);
	pair_free(NULL);
}
END_TEST

static Suite *pair_suite(void)
{
	Suite *s = suite_create("pair");
	TCase *core = tcase_create("Core");
	tcase_add_test(core, test_clean_path);
	tcase_add_test(core, test_drop_is_found_by_content);
	tcase_add_test(core, test_forged_rst);
	tcase_add_test(core, test_forged_rst_ignored);
	tcase_add_test(core, test_reordering);
	tcase_add_test(core, test_mss_clamped);
	suite_add_tcase(s, core);
	TCase *clk = tcase_create("Clocks");
	tcase_add_test(clk, test_offset_ntp_style);
	tcase_add_test(clk, test_offset_negative_ten_seconds);
	suite_add_tcase(s, clk);
	TCase *nat = tcase_create("NAT");
	tcase_add_test(nat, test_nat_ports_rewritten);
	tcase_add_test(nat, test_nat_isn_rewritten);
	suite_add_tcase(s, nat);
	TCase *bad = tcase_create("Hostile");
	tcase_add_test(bad, test_one_side_empty);
	tcase_add_test(bad, test_one_packet_and_unrelated);
	tcase_add_test(bad, test_unreadable);
	suite_add_tcase(s, bad);
	return s;
}

int main(void)
{
	return tu_run(pair_suite());
}
