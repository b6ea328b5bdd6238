/*
 * check_flowcost.c - what an open flow costs, by kind, as the memory
 * accountant counts it (issue 13: a flow that has only a SYN costs a small
 * record; nDPI's struct and the dissector come with the first payload).
 *
 * Generated flows are fed through the real session glue (engine, nDPI,
 * dissector, timeline), all still open, and the accountant's count is read
 * between flow FC_FROM and FC_TO (the flow table's slot array does not grow
 * in that span, so the difference is per-flow state only). Each kind's
 * bytes per flow are printed (docs/engine.md publishes them) and checked
 * against a bound: a SYN-only flow must stay under FC_SYN_MAX (it cost
 * 3,080 bytes when nDPI's struct and four timeline slots came with the
 * SYN, 1,926 with the engine's whole record, the session stub, the
 * classification struct and a timeline slot), and a whole dialog that
 * another --shard process analyses must cost no more than a SYN-only flow
 * (it cost 1,440: the engine's record and a session stub); a SYN and its
 * SYN-ACK are measured too, without a bound. The counts are
 * bytes, not timings: the same on every run of the same build.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "memcap.h"
#include "pkt.h"
#include "sessions.h"
#include "testutil.h"
#include "tu_pkt.h"

#define FC_FROM 1100
#define FC_TO   2000
#define FC_SYN_MAX 400                  /* bytes per SYN-only flow, reserved */
#define FC_T0 (1700000000LL * NS_PER_SEC)

enum fc_kind { FC_SYN, FC_SYNACK, FC_GREETING, FC_DIALOG, FC_OTHER_SHARD };

/* --shard 1/2: the flows measured for FC_OTHER_SHARD are all in shard 2. */
#define FC_SHARD_K 1
#define FC_SHARD_N 2

struct fc {
	struct sessions *p;
	uint64_t frame;
	int64_t now;
	uint64_t reported;
};

static void on_session(void *ctx, const struct session_view *v, struct summary *sum)
{
	(void)v;
	(void)sum;
	((struct fc *)ctx)->reported++;
}

static void feed(struct fc *t, const struct tu_seg *s)
{
	static uint8_t buf[TU_FRAME_MAX];
	size_t n = tu_frame(buf, sizeof(buf), 1, s);
	ck_assert_uint_gt(n, 0);
	struct raw_packet r;
	tu_raw(&r, ++t->frame, t->now, 1, buf, (uint32_t)n, (uint32_t)n);
	sessions_feed(t->p, &r);
	t->now += 1000;     /* 1 us apart: nothing idles */
}

/* Client j of the flows: 192.0.2.x:port. */
static void client_of(uint32_t j, char *cli, size_t len, uint16_t *cport)
{
	snprintf(cli, len, "192.0.2.%u", 1 + j / 60000);
	*cport = (uint16_t)(1024 + j % 60000);
}

/* One flow of the kind, left open. Client 192.0.2.x:port -> 198.51.100.25:25
 * (for FC_OTHER_SHARD, *next is the next client to try: the flow is a
 * dialog of the first one in shard 2). */
static void flow(struct fc *t, enum fc_kind kind, uint32_t i, uint32_t *next)
{
	static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	char cli[32];
	uint16_t cport;
	const char *srv = "198.51.100.25";
	client_of(i, cli, sizeof(cli), &cport);
	if (kind == FC_OTHER_SHARD) {
		struct sl_addr a, b;
		ck_assert(sl_addr_parse(srv, &b));
		for (;; (*next)++) {
			client_of(*next, cli, sizeof(cli), &cport);
			ck_assert(sl_addr_parse(cli, &a));
			if (shard_of_flow(&a, cport, &b, 25, FC_SHARD_N) != FC_SHARD_K)
				break;
		}
		(*next)++;
		kind = FC_DIALOG;
	}
	uint32_t cs = 1000, ss = 5000;
	if (kind == FC_GREETING) {
		static const char g[] = "220 mx.example.test ESMTP\r\n";
		struct tu_seg s = { .src = srv, .dst = cli, .sport = 25, .dport = cport, .seq = ss, .ack = cs,
				    .flags = TH_ACK | TH_PSH, .payload = g, .len = sizeof(g) - 1 };
		feed(t, &s);
		return;
	}
	struct tu_seg syn = { .src = cli, .dst = srv, .sport = cport, .dport = 25, .seq = cs - 1, .flags = TH_SYN,
			      .tcp_opts = syn_opts, .tcp_opts_len = sizeof(syn_opts) };
	feed(t, &syn);
	if (kind == FC_SYN)
		return;
	struct tu_seg sa = { .src = srv, .dst = cli, .sport = 25, .dport = cport, .seq = ss - 1, .ack = cs,
			     .flags = TH_SYN | TH_ACK, .tcp_opts = syn_opts, .tcp_opts_len = sizeof(syn_opts) };
	feed(t, &sa);
	if (kind == FC_SYNACK)
		return;
	struct tu_seg ack = { .src = cli, .dst = srv, .sport = cport, .dport = 25, .seq = cs, .ack = ss,
			      .flags = TH_ACK };
	feed(t, &ack);
	/* a dialog through the message, before QUIT: the state of a busy session */
	static const char *const lines[] = {
		"S220 mx.example.test ESMTP\r\n",
		"CEHLO client.example.test\r\n",
		"S250-mx.example.test\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 PIPELINING\r\n",
		"CMAIL FROM:<alice@example.test>\r\n",
		"S250 2.1.0 Ok\r\n",
		"CRCPT TO:<bob@example.test>\r\n",
		"S250 2.1.5 Ok\r\n",
		"CDATA\r\n",
		"S354 End data with <CR><LF>.<CR><LF>\r\n",
		"CFrom: alice@example.test\r\nTo: bob@example.test\r\nSubject: cost\r\n\r\nHello.\r\n.\r\n",
		"S250 2.0.0 Ok: queued as 12345\r\n",
		NULL,
	};
	for (size_t k = 0; lines[k]; k++) {
		bool c = lines[k][0] == 'C';
		size_t len = strlen(lines[k] + 1);
		struct tu_seg d = { .src = c ? cli : srv, .dst = c ? srv : cli, .sport = c ? cport : 25,
				    .dport = c ? 25 : cport, .seq = c ? cs : ss, .ack = c ? ss : cs,
				    .flags = TH_ACK | TH_PSH, .payload = lines[k] + 1, .len = len };
		feed(t, &d);
		if (c)
			cs += (uint32_t)len;
		else
			ss += (uint32_t)len;
	}
}

/* Bytes the accountant counts per open flow of the kind. */
static double per_flow(enum fc_kind kind)
{
	struct fc t = { .now = FC_T0 };
	struct sessions_config cfg;
	sessions_config_default(&cfg);
	cfg.engine.memory_cap = 0;          /* counted only: nothing is evicted */
	if (kind == FC_OTHER_SHARD) {
		cfg.shard_k = FC_SHARD_K;
		cfg.shard_n = FC_SHARD_N;
	}
	char err[256] = "";
	t.p = sessions_new(&cfg, on_session, &t, err, sizeof(err));
	ck_assert_msg(t.p != NULL, "%s", err);
	sessions_set_input(t.p, "flowcost.pcap");
	uint64_t at_from = 0;
	uint32_t next = 0;
	for (uint32_t i = 0; i < FC_TO; i++) {
		if (i == FC_FROM)
			at_from = sessions_memcap(t.p)->used;
		flow(&t, kind, i, &next);
	}
	uint64_t at_to = sessions_memcap(t.p)->used;
	ck_assert_uint_eq(t.reported, 0);   /* every flow still open */
	sessions_finish(t.p);
	/* another shard's flows are followed, not reported */
	ck_assert_uint_eq(t.reported, kind == FC_OTHER_SHARD ? 0 : FC_TO);
	sessions_free(t.p);
	return (double)(at_to - at_from) / (FC_TO - FC_FROM);
}

START_TEST(test_flow_cost)
{
	double syn = per_flow(FC_SYN), greet = per_flow(FC_GREETING), dialog = per_flow(FC_DIALOG);
	double other = per_flow(FC_OTHER_SHARD), synack = per_flow(FC_SYNACK);
	printf("bytes per open flow, reserved: SYN only %.0f, SYN and SYN-ACK %.0f, one packet with payload %.0f, "
	       "dialog through its message %.0f, another shard's dialog %.0f (classification struct %zu)\n",
	       syn, synack, greet, dialog, other, classify_flow_size());
	fflush(stdout);
	ck_assert_msg(syn <= FC_SYN_MAX, "a SYN-only flow costs %.0f bytes (bound %d)", syn, FC_SYN_MAX);
	ck_assert_msg(other <= syn, "another shard's flow costs %.0f bytes, a SYN-only one %.0f", other, syn);
	/* a dialog's nDPI struct is gone once nDPI named it: it may hold less
	 * than a flow nDPI still looks at, never less than a SYN */
	ck_assert(greet > syn && dialog > syn);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flowcost");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flow_cost);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
