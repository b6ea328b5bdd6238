/*
 * check_diag_net.c - the TCP-level diagnosis on scripted sessions fed
 * through the real pipeline (tu_dialog), modelled on the faulty-network
 * captures (tests/data/netfault): injected RSTs, stalls, MTU black holes,
 * lost SYN-ACKs.
 */
#include "diag_dialog.h"

/* ---- faulty networks (tests/data/netfault): injected RSTs one hop away,
 * stalls cut by the end of the capture, MTU black holes ---- */

/* Handshake, greeting and EHLO as start() does, with the server putting
 * TCP timestamps on all its packets (its RSTs never carry them here). */
static void start_ts(struct dl *t, const char *exts)
{
	dl_init(t);
	t->tsopt[DIR_S2C] = true;
	dl_handshake(t);
	dl_wait(t, 0.05);
	dl_greet(t, 220, "", "mx.example.net ESMTP");
	dl_wait(t, 0.01);
	if (exts)
		dl_ehlo(t, exts);
}

/* A RST one hop closer than a server whose TTL never varied, without the
 * timestamps every server packet carried: injected (router REJECT). */
START_TEST(test_middlebox_rst_one_hop_closer_no_ts)
{
	struct dl t;
	start_ts(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_cmd(&t, "DATA");
	uint64_t rst = dl_rst(&t, DIR_S2C, 53);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_MEDIUM);
	ck_assert_ptr_nonnull(strstr(V.explanation, "timestamps"));
	CITES(rst);
	dl_free(&t);
}
END_TEST

/* One hop farther is a route that got longer, not a closer device. */
START_TEST(test_rst_one_hop_farther_not_middlebox)
{
	struct dl t;
	start_ts(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_cmd(&t, "DATA");
	dl_rst(&t, DIR_S2C, 51);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	dl_free(&t);
}
END_TEST

/* A server whose TTL already varied: one hop more on the RST proves nothing. */
START_TEST(test_rst_closer_varied_ttl_not_middlebox)
{
	struct dl t;
	start(&t, "SIZE");
	t.ttl[DIR_S2C] = 51;
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_cmd(&t, "DATA");
	dl_rst(&t, DIR_S2C, 53);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	dl_free(&t);
}
END_TEST

/* Far TTL and missing timestamps together: high. */
START_TEST(test_middlebox_far_ttl_no_ts_high)
{
	struct dl t;
	start_ts(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 2000, false);
	dl_rst(&t, DIR_S2C, 250);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* The path is lost: retransmissions with backoff, then the capture ends
 * with nobody closing. A stall, not just a cut capture. */
START_TEST(test_network_failure_at_capture_end)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	for (int i = 0; i < 5; i++) {
		dl_wait(&t, 0.2 * (1 << i));
		dl_retrans(&t, DIR_C2S, 40);
	}
	dl_wait(&t, 2);
	dl_other_packet(&t);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_NOBODY, CLOSE_NONE, PH_MAIL, CONF_MEDIUM);
	ck_assert_ptr_null(strstr(V.explanation, "MTU"));
	dl_free(&t);
}
END_TEST

/* Only full-sized body segments stall: named as an MTU black hole. */
START_TEST(test_network_failure_mtu_blackhole)
{
	struct dl t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 6000, false);
	for (int i = 0; i < 4; i++) {
		dl_wait(&t, 0.2 * (1 << i));
		dl_retrans(&t, DIR_C2S, 1448);
	}
	dl_other_packet(&t);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_NOBODY, CLOSE_NONE, PH_DATA, CONF_MEDIUM);
	ck_assert_ptr_nonnull(strstr(V.explanation, "MTU black hole"));
	dl_free(&t);
}
END_TEST

/* One SYN and its SYN-ACK, then the capture ends: only the capture was cut. */
START_TEST(test_single_synack_capture_end_not_unanswered)
{
	struct dl t;
	dl_init(&t);
	dl_syn(&t);
	dl_synack(&t);
	dl_other_packet(&t);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_UNANSWERED);
	dl_free(&t);
}
END_TEST

/* Injected at the first command: the server sent only its SYN-ACK and
 * greeting (both with timestamps); the RST, one hop closer, has none. */
START_TEST(test_middlebox_rst_after_greeting_only)
{
	struct dl t;
	dl_init(&t);
	t.tsopt[DIR_S2C] = true;
	dl_handshake(&t);
	dl_greet(&t, 220, NULL, "mx.example ESMTP");
	dl_cmd(&t, "EHLO client.example");
	uint64_t rst = dl_rst(&t, DIR_S2C, 53);
	run(&t);
	ck_assert_uint_eq(t.fi.dir[DIR_S2C].ts_opt_packets, 2);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_HELO, CONF_MEDIUM);
	CITES(rst);
	dl_free(&t);
}
END_TEST

/* The same two packets without timestamps: too little to call it injected. */
START_TEST(test_rst_after_greeting_only_ttl_alone)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_greet(&t, 220, NULL, "mx.example ESMTP");
	dl_cmd(&t, "EHLO client.example");
	dl_rst(&t, DIR_S2C, 53);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	dl_free(&t);
}
END_TEST

/* The client's data is retransmitted into the void; the server, which
 * never got it, gives up and closes with a FIN: the network's fault. */
START_TEST(test_network_failure_then_server_fin)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	uint64_t first = 0;
	for (int i = 0; i < 4; i++) {
		dl_wait(&t, 0.2 * (1 << i));
		uint64_t fr = dl_retrans(&t, DIR_C2S, 40);
		if (!first)
			first = fr;
	}
	dl_wait(&t, 5);
	uint64_t fin = dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_MEDIUM);
	CITES(first);
	CITES(fin);
	dl_free(&t);
}
END_TEST

/* A FIN with only two retransmissions before it stays an orderly close. */
START_TEST(test_two_retrans_then_fin_not_network)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_retrans(&t, DIR_C2S, 40);
	dl_retrans(&t, DIR_C2S, 40);
	dl_wait(&t, 5);
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_NETWORK_FAILURE);
	dl_free(&t);
}
END_TEST

static const struct dcase netfault_cases[] = {
	/* The same with the TTL alone: still the middlebox's, with low confidence. */
	{ "middlebox_rst_one_hop_closer_ttl_only",
	  "open\n"
	  "ehlo SIZE\n"
	  "mail MAIL FROM:<a@b>\n"
	  "C DATA\n"
	  "rst s2c 53\n",
	  .cause = CAUSE_MIDDLEBOX_RESET, .by = BY_MIDDLEBOX, .close = CLOSE_RST, .phase = PH_DATA, .conf = CONF_LOW },
	/* Two retransmissions are ordinary loss: a capture that ends there is cut. */
	{ "capture_end_after_two_retrans_incomplete",
	  "open\n"
	  "ehlo SIZE\n"
	  "C MAIL FROM:<a@b>\n"
	  "retrans c2s 40\n"
	  "retrans c2s 40\n"
	  "other\n",
	  .cause = CAUSE_CAPTURE_INCOMPLETE, .by = BY_NOBODY, .close = CLOSE_NONE, .phase = PH_MAIL, .conf = CONF_HIGH },
	/* Captured at the server: SYN-ACKs go out, the client keeps retrying its
	 * SYN (the SYN-ACKs are dropped on the way back). */
	{ "unanswered_synacks_lost",
	  "init\n"
	  "!syn\n"
	  "!synack\n"
	  "wait 1\n"
	  "syn\n"
	  "synack\n"
	  "wait 1\n"
	  "!syn\n"
	  "synack\n"
	  "other\n",
	  .cause = CAUSE_UNANSWERED, .by = BY_NOBODY, .close = CLOSE_NONE, .phase = PH_CONNECT, .conf = CONF_MEDIUM,
	  .says = { "SYN-ACK" } },
};

START_TEST(test_netfault_cases)
{
	run_case(&netfault_cases[_i]);
}
END_TEST
static Suite *suite(void)
{
	Suite *s = suite_create("diagnose_netfault");
	TCase *tc = tcase_create("netfault");
	tcase_add_test(tc, test_middlebox_rst_one_hop_closer_no_ts);
	tcase_add_loop_test(tc, test_netfault_cases, 0, (int)(sizeof(netfault_cases) / sizeof(netfault_cases[0])));
	tcase_add_test(tc, test_rst_one_hop_farther_not_middlebox);
	tcase_add_test(tc, test_rst_closer_varied_ttl_not_middlebox);
	tcase_add_test(tc, test_middlebox_far_ttl_no_ts_high);
	tcase_add_test(tc, test_network_failure_at_capture_end);
	tcase_add_test(tc, test_network_failure_mtu_blackhole);
	tcase_add_test(tc, test_single_synack_capture_end_not_unanswered);
	tcase_add_test(tc, test_middlebox_rst_after_greeting_only);
	tcase_add_test(tc, test_rst_after_greeting_only_ttl_alone);
	tcase_add_test(tc, test_network_failure_then_server_fin);
	tcase_add_test(tc, test_two_retrans_then_fin_not_network);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
