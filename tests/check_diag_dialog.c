/*
 * check_diag_dialog.c - the diagnosis on scripted sessions fed through the
 * real pipeline (tu_dialog: packets -> engine -> SMTP dissector ->
 * diagnose): how the dialog ends decides - completed sessions, refusals
 * with their codes (greeting, AUTH, relay, policy, code-less lines, the
 * decisive reply and its root cause), size limits. Each case names the
 * public capture or real server (tests/data/postfix) it models.
 * The endings (idle, TLS, TCP, capture limits) are in check_diag_ending.c.
 */
#include "diag_dialog.h"

/* ---- completed ---- */

START_TEST(test_completed_quit_221)
{
	struct dl t;
	start(&t, "PIPELINING SIZE 10240000");
	send_mail(&t, "MAIL FROM:<a@example.org>");
	dl_body(&t, 931, true);
	dl_reply(&t, 250, "2.0.0", "Ok: queued as 1234");
	dl_cmd(&t, "QUIT");
	uint64_t q = dl_reply(&t, 221, "2.0.0", "Bye");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	ck_assert(V.has_reply);
	ck_assert_uint_eq(V.reply_code, 221);
	ck_assert_str_eq(V.reply_enhanced, "2.0.0");
	CITES(q);
	CITES(fin);
	dl_free(&t);
}
END_TEST

/* Postfix's answer to an HTTP request on the SMTP port (tests/data/postfix
 * http_command): 221 2.7.0 to "GET", then its FIN. Not a completion: the
 * server ended the session on a command it does not take. */
START_TEST(test_221_to_forbidden_command)
{
	struct dl t;
	start(&t, NULL);
	dl_cmd(&t, "GET / HTTP/1.0");
	uint64_t r = dl_reply(&t, 221, "2.7.0", "Error: I can break rules, too. Goodbye.");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_int_eq(V.close, CLOSE_FIN);
	ck_assert_uint_eq(V.reply_code, 221);
	ck_assert_str_eq(V.reply_enhanced, "2.7.0");
	CITES(r);
	CITES(fin);
	dl_free(&t);
}
END_TEST

/* Postfix with smtpd_delay_reject = no and reject_unauth_pipelining in
 * smtpd_client_restrictions (tests/data/postfix early_talker): the greeting
 * is a 503 5.5.0 pipelining refusal, then every command gets "503 5.7.0
 * Error: access denied". The greeting decides, not the newest 503. */
START_TEST(test_refused_greeting_decides)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_cmd(&t, "EHLO early.example");
	dl_wait(&t, 1.0);
	uint64_t g = dl_greet(&t, 503, "5.5.0", "<unknown[127.0.0.1]>: Client host rejected: Improper use of SMTP command pipelining");
	dl_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	dl_cmd(&t, "MAIL FROM:<a@example.org>");
	dl_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	dl_cmd(&t, "RCPT TO:<b@example.net>");
	dl_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 503);
	ck_assert_str_eq(V.reply_enhanced, "5.5.0");
	CITES(g);
	dl_free(&t);
}
END_TEST

/* arkime-smtp-decrypted: server FIN, server RST, client RST after 221. */
START_TEST(test_completed_rst_after_221)
{
	struct dl t;
	start(&t, "SIZE 36700160 STARTTLS");
	send_mail(&t, "MAIL FROM:<a@example.org> SIZE=1500");
	dl_body(&t, 1500, true);
	dl_reply(&t, 250, "2.6.0", "Queued mail for delivery");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Service closing transmission channel");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_rst(&t, DIR_S2C, 0);
	dl_rst(&t, DIR_C2S, 0);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	CITES(fin);
	ck_assert_ptr_nonnull(strstr(V.explanation, "abortive"));
	dl_free(&t);
}
END_TEST

/* suricata-smtp-large-exchange: QUIT answered 250 by Microsoft. */
START_TEST(test_completed_quit_250)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 250, "", "closing");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* ndpi-smtp: EHLO -> 500, HELO fallback, mail accepted, QUIT/221. */
START_TEST(test_completed_after_ehlo_fallback)
{
	struct dl t;
	start(&t, NULL);
	dl_cmd(&t, "EHLO host");
	dl_reply(&t, 500, "", "Command unrecognized");
	dl_cmd(&t, "HELO host");
	dl_reply(&t, 250, "", "Hello");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 15000, true);
	dl_reply(&t, 250, "", "Message accepted for delivery");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "", "closing connection");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* zeek-smtp-mail-transactions-invalid: many 503/500, then success and QUIT. */
START_TEST(test_completed_after_sequence_errors)
{
	struct dl t;
	start(&t, "PIPELINING");
	dl_cmd(&t, "RCPT TO:<x@y>");
	dl_reply(&t, 503, "5.5.1", "Error: need MAIL command");
	dl_cmd(&t, "DATA");
	dl_reply(&t, 503, "5.5.1", "Error: need RCPT command");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 100, true);
	dl_reply(&t, 250, "2.0.0", "Ok: queued");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-pipelining-loopback: 250 then client FIN without QUIT. */
START_TEST(test_completed_fin_without_quit)
{
	struct dl t;
	start(&t, "PIPELINING");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 500, true);
	uint64_t ok = dl_reply(&t, 250, "2.0.0", "Ok: queued");
	uint64_t fin = dl_fin(&t, DIR_C2S);
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_IDLE, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 250);
	CITES(ok);
	CITES(fin);
	dl_free(&t);
}
END_TEST

/* ---- refusals with their codes ---- */

START_TEST(test_greeting_554_ip_filtered)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	uint64_t g = dl_greet(&t, 554, "5.7.1", "Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "QUIT");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 554);
	ck_assert_str_eq(V.reply_enhanced, "5.7.1");
	CITES(g);
	CITES(fin);
	dl_free(&t);
}
END_TEST

START_TEST(test_greeting_554_no_service)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_greet(&t, 554, "", "mx.example.net no SMTP service here");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "", "bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 554);
	dl_free(&t);
}
END_TEST

START_TEST(test_greeting_421_too_many_connections)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_greet(&t, 421, "4.7.0", "mx.example.net Error: too many connections from 192.0.2.10");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	dl_free(&t);
}
END_TEST

START_TEST(test_greeting_421_shutdown)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_greet(&t, 421, "4.3.2", "Service shutting down and closing transmission channel");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 421);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-quit: server FIN before any greeting, QUIT, server RST. */
START_TEST(test_accept_then_close)
{
	struct dl t;
	dl_init(&t);
	dl_syn(&t);
	dl_wait(&t, 0.001);
	uint64_t synack = dl_synack(&t);
	dl_wait(&t, 0.001);
	dl_ack(&t, DIR_C2S);
	dl_wait(&t, 0.2);
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "QUIT");
	dl_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_CONNECT, CONF_MEDIUM);
	ck_assert(!V.has_reply);
	CITES(synack);
	CITES(fin);
	dl_free(&t);
}
END_TEST

START_TEST(test_auth_535_then_quit)
{
	struct dl t;
	start(&t, "AUTH PLAIN LOGIN");
	dl_cmd(&t, "AUTH PLAIN ********");
	uint64_t r = dl_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	ck_assert_str_eq(V.reply_enhanced, "5.7.8");
	CITES(r);
	dl_free(&t);
}
END_TEST

/* arkime-socks5-smtp-503: AUTH not advertised, 503, client RST. */
START_TEST(test_auth_503_not_offered)
{
	struct dl t;
	start(&t, "PIPELINING SIZE 52428800");
	dl_cmd(&t, "AUTH LOGIN");
	uint64_t r = dl_reply(&t, 503, "", "AUTH command used when not advertised");
	uint64_t rst = dl_rst(&t, DIR_C2S, 0);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_CLIENT, CLOSE_RST, PH_AUTH, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 503);
	CITES(r);
	CITES(rst);
	dl_free(&t);
}
END_TEST

START_TEST(test_auth_required_530)
{
	struct dl t;
	start(&t, "AUTH PLAIN");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 530, "5.7.0", "Authentication required");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_AUTH_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 530);
	dl_free(&t);
}
END_TEST

START_TEST(test_tls_required_530)
{
	struct dl t;
	start(&t, "STARTTLS AUTH PLAIN");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 530, "5.7.0", "Must issue a STARTTLS command first");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 530);
	dl_free(&t);
}
END_TEST

START_TEST(test_relay_554)
{
	struct dl t;
	start(&t, "PIPELINING");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 250, "2.1.0", "Ok");
	dl_cmd(&t, "RCPT TO:<x@elsewhere.example>");
	uint64_t r = dl_reply(&t, 554, "5.7.1", "<x@elsewhere.example>: Relay access denied");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	CITES(r);
	dl_free(&t);
}
END_TEST

/* arkime-smtp-rcpt-553: "not logged in" on RCPT, client FIN: Postfix's
 * reject_unauth_sender_login_mismatch, the sender address belongs to a
 * login and the client had not logged in: authenticate, then send. */
START_TEST(test_relay_553_not_logged_in)
{
	struct dl t;
	start(&t, "AUTH PLAIN");
	dl_cmd(&t, "MAIL FROM:<a@aol.com>");
	dl_reply(&t, 250, "2.1.0", "Ok");
	dl_cmd(&t, "RCPT TO:<x@example.com>");
	dl_reply(&t, 553, "5.7.1", "<a@aol.com>: Sender address rejected: not logged in");
	dl_fin(&t, DIR_C2S);
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_AUTH_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 553);
	dl_free(&t);
}
END_TEST

START_TEST(test_relay_exim_550)
{
	struct dl t;
	start(&t, "SIZE 52428800");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 250, "", "OK");
	dl_cmd(&t, "RCPT TO:<x@y>");
	dl_reply(&t, 550, "", "relay not permitted");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "", "closing connection");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

START_TEST(test_size_declared_over_limit)
{
	struct dl t;
	start(&t, "SIZE 10485760");
	uint64_t mail = dl_cmd(&t, "MAIL FROM:<a@b> SIZE=20000000");
	uint64_t r = dl_reply(&t, 552, "5.3.4", "Message size exceeds fixed limit");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 552);
	CITES(r);
	CITES(mail);
	ck_assert_ptr_nonnull(strstr(V.explanation, "10485760"));
	ck_assert_ptr_nonnull(strstr(V.explanation, "20000000"));
	dl_free(&t);
}
END_TEST

START_TEST(test_size_552_after_dot)
{
	struct dl t;
	start(&t, "SIZE 1000");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 5000, true);
	uint64_t r = dl_reply(&t, 552, "", "Message size exceeds maximum permitted");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_CLIENT, CLOSE_FIN, PH_DATA, CONF_HIGH);
	CITES(r);
	ck_assert_ptr_nonnull(strstr(V.explanation, "5000 body bytes"));
	dl_free(&t);
}
END_TEST

START_TEST(test_size_rst_mid_data)
{
	struct dl t;
	start(&t, "SIZE 100000");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 150000, false);
	uint64_t rst = dl_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_RST, PH_DATA, CONF_HIGH);
	ck_assert(!V.has_reply);
	CITES(rst);
	ck_assert_ptr_nonnull(strstr(V.explanation, "150000"));
	ck_assert_ptr_nonnull(strstr(V.explanation, "100000"));
	dl_free(&t);
}
END_TEST

START_TEST(test_greylist_451)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 250, "2.1.0", "Ok");
	dl_cmd(&t, "RCPT TO:<c@d>");
	dl_reply(&t, 451, "4.7.1", "<c@d>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_CLIENT, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

START_TEST(test_server_unavailable_452)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 452, "4.3.1", "Insufficient system storage");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-data-rejected: 553 sender domain, RSET, second transaction
 * 554 5.7.1 virus, client FIN: the content refusal decides (unknown). */
START_TEST(test_content_rejected)
{
	struct dl t;
	start(&t, "PIPELINING SIZE");
	dl_cmd(&t, "MAIL FROM:<x@nodomain.invalid>");
	dl_reply(&t, 553, "5.1.8", "Domain of sender address does not exist");
	dl_cmd(&t, "RSET");
	dl_reply(&t, 250, "2.0.0", "Reset state");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 114000, true);
	uint64_t r = dl_reply(&t, 554, "5.7.1", "Message contains virus: rejected.");
	dl_fin(&t, DIR_C2S);
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_CONTENT_REJECTED, BY_CLIENT, CLOSE_FIN, PH_DATA, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 554);
	CITES(r);
	dl_free(&t);
}
END_TEST

/* PIPELINING: MAIL, RCPT, DATA answered 250, 554, 554 in one segment: the
 * 250 to MAIL shares the frame and does not supersede the relay refusal. */
START_TEST(test_pipelined_refusal_same_segment)
{
	struct dl t;
	start(&t, "PIPELINING");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_cmd(&t, "RCPT TO:<x@elsewhere>");
	dl_cmd(&t, "DATA");
	dl_wait(&t, 0.01);
	/* one segment: the three replies share its frame and time */
	static const char three[] = "250 2.1.0 Ok\r\n554 5.7.1 <x@elsewhere>: Relay access denied\r\n"
				    "554 5.5.1 Error: no valid recipients\r\n";
	uint64_t fr = dl_send(&t, DIR_S2C, three, sizeof(three) - 1);
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	/* the newest error is the DATA's consequence; the RCPT's refusal decides */
	ck_assert_uint_eq(t.f.last_error.code, 554);
	ck_assert_str_eq(t.f.last_error.enhanced, "5.5.1");
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	ck_assert_str_eq(V.reply_enhanced, "5.7.1");
	CITES(fr);
	dl_free(&t);

	/* The other reading: the RCPT's refusal is itself the newest error (no
	 * DATA pipelined), its 250 to MAIL in the same segment. */
	start(&t, "PIPELINING");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_cmd(&t, "RCPT TO:<x@elsewhere>");
	dl_wait(&t, 0.01);
	static const char two[] = "250 2.1.0 Ok\r\n554 5.7.1 <x@elsewhere>: Relay access denied\r\n";
	dl_send(&t, DIR_S2C, two, sizeof(two) - 1);
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(t.f.last_error.answers, CMD_RCPT);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	dl_free(&t);
}
END_TEST

/* AUTH refused, the client tries MAIL anyway: 530 is a consequence. */
START_TEST(test_auth_failed_then_530)
{
	struct dl t;
	start(&t, "AUTH PLAIN LOGIN");
	dl_cmd(&t, "AUTH PLAIN ********");
	uint64_t r = dl_reply(&t, 535, "5.7.8", "Error: authentication failed");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	uint64_t r2 = dl_reply(&t, 530, "5.7.0", "Authentication required");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	CITES(r);
	CITES(r2);
	dl_free(&t);
}
END_TEST

/* Repeated AUTH failures, then "421 too many errors": the credentials. */
START_TEST(test_auth_failures_then_too_many_errors)
{
	struct dl t;
	start(&t, "AUTH PLAIN LOGIN");
	for (int i = 0; i < 3; i++) {
		dl_cmd(&t, "AUTH PLAIN ********");
		dl_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	}
	dl_cmd(&t, "AUTH PLAIN ********");
	dl_reply(&t, 421, "4.7.0", "mx.example Error: too many errors");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	dl_free(&t);
}
END_TEST

/* Postfix with smtpd_hard_error_limit = 2 (tests/data/postfix
 * auth_failed_many): two 535s, the unprompted 421 too many errors and the
 * server's FIN, while the client's third AUTH is still on its way (never
 * answered, so the AUTH state is pending, not refused). */
START_TEST(test_auth_failures_then_421_with_auth_unanswered)
{
	struct dl t;
	start(&t, "AUTH PLAIN LOGIN");
	uint64_t r = 0;
	for (int i = 0; i < 2; i++) {
		dl_cmd(&t, "AUTH PLAIN ********");
		r = dl_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	}
	dl_reply(&t, 421, "4.7.0", "mx.example Error: too many errors");
	dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "AUTH PLAIN ********");
	run(&t);
	ck_assert_int_eq(t.f.auth_result, AUTH_PENDING);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	CITES(r);
	dl_free(&t);
}
END_TEST

/* STARTTLS refused, then the server demands it: the TLS failure decides. */
START_TEST(test_starttls_refused_then_530)
{
	struct dl t;
	start(&t, "STARTTLS");
	dl_cmd(&t, "STARTTLS");
	dl_reply(&t, 454, "4.7.0", "TLS not available due to local problem");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 530, "5.7.0", "Must issue a STARTTLS command first");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_FIN, PH_STARTTLS, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 454);
	dl_free(&t);
}
END_TEST

/* MAIL refused as malformed, then a polite QUIT: not a completion. */
START_TEST(test_syntax_refusal_then_quit)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:a@b");
	uint64_t r = dl_reply(&t, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 501);
	CITES(r);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-errors s1: a reply without a numeric code, sent with the FIN. */
START_TEST(test_codeless_deferral)
{
	struct dl t;
	start(&t, NULL);
	dl_cmd(&t, "HELO x");
	dl_reply(&t, 250, "", "ok");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 36000, true);
	uint64_t fr = dl_sline(&t, "4.7.0 [IPTS04] Messages from 192.0.2.10 temporarily deferred due to user complaints");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "QUIT");
	dl_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_RATE_LIMITED);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert(V.has_reply);
	ck_assert_str_eq(V.reply_enhanced, "4.7.0");
	CITES(fr);
	CITES(fin);
	dl_free(&t);
}
END_TEST

/* The same line indented: its words still follow the enhanced code. */
START_TEST(test_codeless_note_with_text)
{
	struct dl t;
	start(&t, NULL);
	dl_cmd(&t, "HELO x");
	dl_reply(&t, 250, "", "ok");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 36000, true);
	/* after spaces and a dash, as some servers indent it */
	uint64_t fr = dl_sline(&t, " - 4.7.0 [IPTS04] Messages from 192.0.2.10 temporarily deferred due to user complaints");
	dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "QUIT");
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_DATA, CONF_HIGH);
	ck_assert_str_eq(V.reply_enhanced, "4.7.0");
	CITES(fr);
	dl_free(&t);
}
END_TEST

/* Without an enhanced code, only the hang-up after a code-less line is certain. */
START_TEST(test_codeless_note_without_text)
{
	struct dl t;
	start(&t, NULL);
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 3000, true);
	dl_sline(&t, "Service is going down now");
	dl_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_SERVER, CLOSE_FIN, PH_DATA, CONF_MEDIUM);
	dl_free(&t);
}
END_TEST

/* arkime-smtp-data-521: 521 5.2.1 policy at end of data, server FIN. */
START_TEST(test_policy_521_after_dot)
{
	struct dl t;
	start(&t, "AUTH PLAIN");
	send_mail(&t, "MAIL FROM:<a@aol.com>");
	dl_body(&t, 2900, true);
	dl_reply(&t, 521, "5.2.1", "MUST COMPLETE IMAGE PUZZLE BEFORE SENDING");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_cmd(&t, "RSET");
	dl_fin(&t, DIR_C2S);
	dl_rst(&t, DIR_S2C, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CONTENT_REJECTED);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_uint_eq(V.reply_code, 521);
	CITES(fin);
	dl_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diag_dialog");
	TCase *tc;
	tc = tcase_create("completed");
	tcase_add_test(tc, test_completed_quit_221);
	tcase_add_test(tc, test_221_to_forbidden_command);
	tcase_add_test(tc, test_refused_greeting_decides);
	tcase_add_test(tc, test_completed_rst_after_221);
	tcase_add_test(tc, test_completed_quit_250);
	tcase_add_test(tc, test_completed_after_ehlo_fallback);
	tcase_add_test(tc, test_completed_after_sequence_errors);
	tcase_add_test(tc, test_completed_fin_without_quit);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_test(tc, test_greeting_554_ip_filtered);
	tcase_add_test(tc, test_greeting_554_no_service);
	tcase_add_test(tc, test_greeting_421_too_many_connections);
	tcase_add_test(tc, test_greeting_421_shutdown);
	tcase_add_test(tc, test_accept_then_close);
	tcase_add_test(tc, test_auth_535_then_quit);
	tcase_add_test(tc, test_auth_503_not_offered);
	tcase_add_test(tc, test_auth_required_530);
	tcase_add_test(tc, test_tls_required_530);
	tcase_add_test(tc, test_relay_554);
	tcase_add_test(tc, test_relay_553_not_logged_in);
	tcase_add_test(tc, test_relay_exim_550);
	tcase_add_test(tc, test_greylist_451);
	tcase_add_test(tc, test_server_unavailable_452);
	tcase_add_test(tc, test_content_rejected);
	tcase_add_test(tc, test_codeless_deferral);
	tcase_add_test(tc, test_codeless_note_with_text);
	tcase_add_test(tc, test_codeless_note_without_text);
	tcase_add_test(tc, test_syntax_refusal_then_quit);
	tcase_add_test(tc, test_auth_failed_then_530);
	tcase_add_test(tc, test_auth_failures_then_too_many_errors);
	tcase_add_test(tc, test_auth_failures_then_421_with_auth_unanswered);
	tcase_add_test(tc, test_starttls_refused_then_530);
	tcase_add_test(tc, test_pipelined_refusal_same_segment);
	tcase_add_test(tc, test_policy_521_after_dot);
	suite_add_tcase(s, tc);
	tc = tcase_create("size");
	tcase_add_test(tc, test_size_declared_over_limit);
	tcase_add_test(tc, test_size_552_after_dot);
	tcase_add_test(tc, test_size_rst_mid_data);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
