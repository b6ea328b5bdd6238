/*
 * check_diag_net.c - the TCP-level diagnosis on crafted sessions modelled on
 * the faulty-network captures (tests/data/netfault): injected RSTs, stalls,
 * MTU black holes, lost SYN-ACKs.
 */
#include "diag_expect.h"

/* ---- faulty networks (tests/data/netfault): injected RSTs one hop away,
 * stalls cut by the end of the capture, MTU black holes ---- */

/* The server's packets all carry timestamps; the RST does not. */
static void server_sent_timestamps(struct tu_session *t)
{
	struct tcp_dir_stats *s = &t->fi.dir[DIR_S2C];
	s->ts_opt_packets = s->packets - s->rsts;
}

/* A RST one hop closer than a server whose TTL never varied, without the
 * timestamps every server packet carried: injected (router REJECT). */
START_TEST(test_middlebox_rst_one_hop_closer_no_ts)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_cmd(&t, CMD_DATA, "DATA");
	server_sent_timestamps(&t);
	uint64_t rst = tu_rst(&t, DIR_S2C, 53);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_MEDIUM);
	ck_assert_ptr_nonnull(strstr(V.explanation, "timestamps"));
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

/* The same with the TTL alone: still the middlebox's, with low confidence. */
START_TEST(test_middlebox_rst_one_hop_closer_ttl_only)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_cmd(&t, CMD_DATA, "DATA");
	tu_rst(&t, DIR_S2C, 53);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_LOW);
	tu_sess_free(&t);
}
END_TEST

/* One hop farther is a route that got longer, not a closer device. */
START_TEST(test_rst_one_hop_farther_not_middlebox)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_cmd(&t, CMD_DATA, "DATA");
	server_sent_timestamps(&t);
	tu_rst(&t, DIR_S2C, 51);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	tu_sess_free(&t);
}
END_TEST

/* A server whose TTL already varied: one hop more on the RST proves nothing. */
START_TEST(test_rst_closer_varied_ttl_not_middlebox)
{
	struct tu_session t;
	start(&t, "SIZE");
	t.ttl[DIR_S2C] = 51;
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_cmd(&t, CMD_DATA, "DATA");
	tu_rst(&t, DIR_S2C, 53);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	tu_sess_free(&t);
}
END_TEST

/* Far TTL and missing timestamps together: high. */
START_TEST(test_middlebox_far_ttl_no_ts_high)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 2000, false);
	server_sent_timestamps(&t);
	tu_rst(&t, DIR_S2C, 250);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* The path is lost: retransmissions with backoff, then the capture ends
 * with nobody closing. A stall, not just a cut capture. */
START_TEST(test_network_failure_at_capture_end)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	for (int i = 0; i < 5; i++) {
		tu_wait(&t, 0.2 * (1 << i));
		tu_retrans(&t, DIR_C2S, 40);
	}
	tu_wait(&t, 2);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_NOBODY, CLOSE_NONE, PH_MAIL, CONF_MEDIUM);
	ck_assert_ptr_null(strstr(V.explanation, "MTU"));
	tu_sess_free(&t);
}
END_TEST

/* Two retransmissions are ordinary loss: a capture that ends there is cut. */
START_TEST(test_capture_end_after_two_retrans_incomplete)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_retrans(&t, DIR_C2S, 40);
	tu_retrans(&t, DIR_C2S, 40);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_MAIL, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* Only full-sized body segments stall: named as an MTU black hole. */
START_TEST(test_network_failure_mtu_blackhole)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 6000, false);
	for (int i = 0; i < 4; i++) {
		tu_wait(&t, 0.2 * (1 << i));
		tu_retrans(&t, DIR_C2S, 1448);
	}
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_NOBODY, CLOSE_NONE, PH_DATA, CONF_MEDIUM);
	ck_assert_ptr_nonnull(strstr(V.explanation, "MTU black hole"));
	tu_sess_free(&t);
}
END_TEST

/* Captured at the server: SYN-ACKs go out, the client keeps retrying its
 * SYN (the SYN-ACKs are dropped on the way back). */
START_TEST(test_unanswered_synacks_lost)
{
	struct tu_session t;
	tu_sess_init(&t);
	uint64_t s1 = tu_syn(&t);
	uint64_t sa = tu_synack(&t);
	tu_wait(&t, 1);
	tu_syn(&t);
	tu_synack(&t);
	tu_wait(&t, 1);
	uint64_t s3 = tu_syn(&t);
	tu_synack(&t);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_UNANSWERED, BY_NOBODY, CLOSE_NONE, PH_CONNECT, CONF_MEDIUM);
	CITES(s1);
	CITES(sa);
	CITES(s3);
	ck_assert_ptr_nonnull(strstr(V.explanation, "SYN-ACK"));
	tu_sess_free(&t);
}
END_TEST

/* One SYN and its SYN-ACK, then the capture ends: only the capture was cut. */
START_TEST(test_single_synack_capture_end_not_unanswered)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_syn(&t);
	tu_synack(&t);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_UNANSWERED);
	tu_sess_free(&t);
}
END_TEST

/* Injected at the first command: the server sent only its SYN-ACK and
 * greeting (both with timestamps); the RST, one hop closer, has none. */
START_TEST(test_middlebox_rst_after_greeting_only)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_greet(&t, 220, NULL, "mx.example ESMTP");
	tu_cmd(&t, CMD_EHLO, "EHLO client.example");
	server_sent_timestamps(&t);
	ck_assert_uint_eq(t.fi.dir[DIR_S2C].ts_opt_packets, 2);
	uint64_t rst = tu_rst(&t, DIR_S2C, 53);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_HELO, CONF_MEDIUM);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

/* The same two packets without timestamps: too little to call it injected. */
START_TEST(test_rst_after_greeting_only_ttl_alone)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_greet(&t, 220, NULL, "mx.example ESMTP");
	tu_cmd(&t, CMD_EHLO, "EHLO client.example");
	tu_rst(&t, DIR_S2C, 53);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	tu_sess_free(&t);
}
END_TEST

/* The client's data is retransmitted into the void; the server, which
 * never got it, gives up and closes with a FIN: the network's fault. */
START_TEST(test_network_failure_then_server_fin)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	uint64_t first = 0;
	for (int i = 0; i < 4; i++) {
		tu_wait(&t, 0.2 * (1 << i));
		uint64_t fr = tu_retrans(&t, DIR_C2S, 40);
		if (!first)
			first = fr;
	}
	tu_wait(&t, 5);
	uint64_t fin = tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_NETWORK_FAILURE, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_MEDIUM);
	CITES(first);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* A FIN with only two retransmissions before it stays an orderly close. */
START_TEST(test_two_retrans_then_fin_not_network)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_retrans(&t, DIR_C2S, 40);
	tu_retrans(&t, DIR_C2S, 40);
	tu_wait(&t, 5);
	tu_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_NETWORK_FAILURE);
	tu_sess_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diagnose_netfault");
	TCase *tc = tcase_create("netfault");
	tcase_add_test(tc, test_middlebox_rst_one_hop_closer_no_ts);
	tcase_add_test(tc, test_middlebox_rst_one_hop_closer_ttl_only);
	tcase_add_test(tc, test_rst_one_hop_farther_not_middlebox);
	tcase_add_test(tc, test_rst_closer_varied_ttl_not_middlebox);
	tcase_add_test(tc, test_middlebox_far_ttl_no_ts_high);
	tcase_add_test(tc, test_network_failure_at_capture_end);
	tcase_add_test(tc, test_capture_end_after_two_retrans_incomplete);
	tcase_add_test(tc, test_network_failure_mtu_blackhole);
	tcase_add_test(tc, test_unanswered_synacks_lost);
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
