/*
 * check_diagnose.c - the diagnosis rules on crafted sessions (tu_session):
 * at least one case per cause, the tricky endings, and the situations of the
 * public corpus (MANIFEST.md) modelled by hand.
 */
#include "diag_expect.h"

/* ---- completed ---- */

START_TEST(test_completed_quit_221)
{
	struct tu_session t;
	start(&t, "PIPELINING SIZE 10240000");
	send_mail(&t, "MAIL FROM:<a@example.org>");
	tu_body(&t, 931, true);
	tu_reply(&t, 250, "2.0.0", "Ok: queued as 1234");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	uint64_t q = tu_reply(&t, 221, "2.0.0", "Bye");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	ck_assert(V.has_reply);
	ck_assert_uint_eq(V.reply_code, 221);
	ck_assert_str_eq(V.reply_enhanced, "2.0.0");
	CITES(q);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* Postfix's answer to an HTTP request on the SMTP port (tests/data/postfix
 * http_command): 221 2.7.0 to "GET", then its FIN. Not a completion: the
 * server ended the session on a command it does not take. */
START_TEST(test_221_to_forbidden_command)
{
	struct tu_session t;
	start(&t, NULL);
	tu_cmd(&t, CMD_UNKNOWN, "GET / HTTP/1.0");
	uint64_t r = tu_reply(&t, 221, "2.7.0", "Error: I can break rules, too. Goodbye.");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_int_eq(V.close, CLOSE_FIN);
	ck_assert_uint_eq(V.reply_code, 221);
	ck_assert_str_eq(V.reply_enhanced, "2.7.0");
	CITES(r);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* Postfix with smtpd_delay_reject = no and reject_unauth_pipelining in
 * smtpd_client_restrictions (tests/data/postfix early_talker): the greeting
 * is a 503 5.5.0 pipelining refusal, then every command gets "503 5.7.0
 * Error: access denied". The greeting decides, not the newest 503. */
START_TEST(test_refused_greeting_decides)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_cmd(&t, CMD_EHLO, "EHLO early.example");
	tu_wait(&t, 1.0);
	uint64_t g = tu_greet(&t, 503, "5.5.0", "<unknown[127.0.0.1]>: Client host rejected: Improper use of SMTP command pipelining");
	tu_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@example.org>");
	tu_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<b@example.net>");
	tu_reply(&t, 503, "5.7.0", "Error: access denied for unknown[127.0.0.1]");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 503);
	ck_assert_str_eq(V.reply_enhanced, "5.5.0");
	CITES(g);
	tu_sess_free(&t);
}
END_TEST

/* arkime-smtp-decrypted: server FIN, server RST, client RST after 221. */
START_TEST(test_completed_rst_after_221)
{
	struct tu_session t;
	start(&t, "SIZE 36700160 STARTTLS");
	send_mail(&t, "MAIL FROM:<a@example.org> SIZE=1500");
	tu_body(&t, 1500, true);
	tu_reply(&t, 250, "2.6.0", "Queued mail for delivery");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Service closing transmission channel");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_rst(&t, DIR_S2C, 0);
	tu_rst(&t, DIR_C2S, 0);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	CITES(fin);
	ck_assert_ptr_nonnull(strstr(V.explanation, "abortive"));
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-large-exchange: QUIT answered 250 by Microsoft. */
START_TEST(test_completed_quit_250)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 250, "", "closing");
	tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* ndpi-smtp: EHLO -> 500, HELO fallback, mail accepted, QUIT/221. */
START_TEST(test_completed_after_ehlo_fallback)
{
	struct tu_session t;
	start(&t, NULL);
	tu_cmd(&t, CMD_EHLO, "EHLO host");
	tu_reply(&t, 500, "", "Command unrecognized");
	tu_cmd(&t, CMD_HELO, "HELO host");
	tu_reply(&t, 250, "", "Hello");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 15000, true);
	tu_reply(&t, 250, "", "Message accepted for delivery");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "", "closing connection");
	tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* zeek-smtp-mail-transactions-invalid: many 503/500, then success and QUIT. */
START_TEST(test_completed_after_sequence_errors)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<x@y>");
	tu_reply(&t, 503, "5.5.1", "Error: need MAIL command");
	tu_cmd(&t, CMD_DATA, "DATA");
	tu_reply(&t, 503, "5.5.1", "Error: need RCPT command");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 100, true);
	tu_reply(&t, 250, "2.0.0", "Ok: queued");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_SERVER, CLOSE_FIN, PH_QUIT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-pipelining-loopback: 250 then client FIN without QUIT. */
START_TEST(test_completed_fin_without_quit)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 500, true);
	uint64_t ok = tu_reply(&t, 250, "2.0.0", "Ok: queued");
	uint64_t fin = tu_fin(&t, DIR_C2S);
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_COMPLETED, BY_CLIENT, CLOSE_FIN, PH_IDLE, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 250);
	CITES(ok);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* ---- refusals with their codes ---- */

START_TEST(test_greeting_554_ip_filtered)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	uint64_t g = tu_greet(&t, 554, "5.7.1", "Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 554);
	ck_assert_str_eq(V.reply_enhanced, "5.7.1");
	CITES(g);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_greeting_554_no_service)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_greet(&t, 554, "", "mx.example.net no SMTP service here");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "", "bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 554);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_greeting_421_too_many_connections)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_greet(&t, 421, "4.7.0", "mx.example.net Error: too many connections from 192.0.2.10");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_greeting_421_shutdown)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_greet(&t, 421, "4.3.2", "Service shutting down and closing transmission channel");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_GREETING, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 421);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-quit: server FIN before any greeting, QUIT, server RST. */
START_TEST(test_accept_then_close)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	uint64_t synack = t.fi.dir[DIR_S2C].first_frame;
	tu_wait(&t, 0.2);
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_IP_FILTERED, BY_SERVER, CLOSE_FIN, PH_CONNECT, CONF_MEDIUM);
	ck_assert(!V.has_reply);
	CITES(synack);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_auth_535_then_quit)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN LOGIN");
	tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
	uint64_t r = tu_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	ck_assert_str_eq(V.reply_enhanced, "5.7.8");
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* arkime-socks5-smtp-503: AUTH not advertised, 503, client RST. */
START_TEST(test_auth_503_not_offered)
{
	struct tu_session t;
	start(&t, "PIPELINING SIZE 52428800");
	tu_cmd(&t, CMD_AUTH, "AUTH LOGIN");
	uint64_t r = tu_reply(&t, 503, "", "AUTH command used when not advertised");
	uint64_t rst = tu_rst(&t, DIR_C2S, 0);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_CLIENT, CLOSE_RST, PH_AUTH, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 503);
	CITES(r);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_auth_required_530)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 530, "5.7.0", "Authentication required");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_AUTH_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 530);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_tls_required_530)
{
	struct tu_session t;
	start(&t, "STARTTLS AUTH PLAIN");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 530, "5.7.0", "Must issue a STARTTLS command first");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_REQUIRED, BY_CLIENT, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 530);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_relay_554)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 250, "2.1.0", "Ok");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<x@elsewhere.example>");
	uint64_t r = tu_reply(&t, 554, "5.7.1", "<x@elsewhere.example>: Relay access denied");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* arkime-smtp-rcpt-553: "not logged in" on RCPT, client FIN. */
START_TEST(test_relay_553_not_logged_in)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@aol.com>");
	tu_reply(&t, 250, "2.1.0", "Ok");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<x@example.com>");
	tu_reply(&t, 553, "5.7.1", "<a@aol.com>: Sender address rejected: not logged in");
	tu_fin(&t, DIR_C2S);
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_CLIENT, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 553);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_relay_exim_550)
{
	struct tu_session t;
	start(&t, "SIZE 52428800");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 250, "", "OK");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<x@y>");
	tu_reply(&t, 550, "", "relay not permitted");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "", "closing connection");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_size_declared_over_limit)
{
	struct tu_session t;
	start(&t, "SIZE 10485760");
	uint64_t mail = tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b> SIZE=20000000");
	uint64_t r = tu_reply(&t, 552, "5.3.4", "Message size exceeds fixed limit");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 552);
	CITES(r);
	CITES(mail);
	ck_assert_ptr_nonnull(strstr(V.explanation, "10485760"));
	ck_assert_ptr_nonnull(strstr(V.explanation, "20000000"));
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_size_552_after_dot)
{
	struct tu_session t;
	start(&t, "SIZE 1000");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 5000, true);
	uint64_t r = tu_reply(&t, 552, "", "Message size exceeds maximum permitted");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_CLIENT, CLOSE_FIN, PH_DATA, CONF_HIGH);
	CITES(r);
	ck_assert_ptr_nonnull(strstr(V.explanation, "5000 body bytes"));
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_size_rst_mid_data)
{
	struct tu_session t;
	start(&t, "SIZE 100000");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 150000, false);
	uint64_t rst = tu_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_SIZE_LIMIT, BY_SERVER, CLOSE_RST, PH_DATA, CONF_HIGH);
	ck_assert(!V.has_reply);
	CITES(rst);
	ck_assert_ptr_nonnull(strstr(V.explanation, "150000"));
	ck_assert_ptr_nonnull(strstr(V.explanation, "100000"));
	tu_sess_free(&t);
}
END_TEST

/* arkime-smtp-data-250: 250 queued, 30 s silence, 421 4.4.2, server FIN,
 * client still open at the end of the capture. */
START_TEST(test_idle_421_442_capture_end)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN");
	send_mail(&t, "MAIL FROM:<a@aol.com>");
	tu_body(&t, 931, true);
	tu_reply(&t, 250, "", "Ok: queued as 5E0B3C000084");
	tu_wait(&t, 30.0);
	uint64_t r = tu_reply(&t, 421, "4.4.2", "mtaout.aol.com Error: timeout exceeded");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_pkt(&t, DIR_C2S, 0);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, PH_IDLE, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 421);
	ck_assert_str_eq(V.reply_enhanced, "4.4.2");
	CITES(r);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* zeek-smtp-multi-addr: 451 4.7.0 Timeout waiting for client input. */
START_TEST(test_idle_451_timeout_text)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 300, true);
	tu_reply(&t, 250, "", "ok");
	tu_wait(&t, 60.6);
	tu_reply(&t, 451, "4.7.0", "Timeout waiting for client input");
	tu_fin(&t, DIR_S2C);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_IDLE_TIMEOUT);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_uint_eq(V.reply_code, 451);
	tu_sess_free(&t);
}
END_TEST

static void silent_close(double silence, enum confidence want)
{
	struct tu_session t;
	start(&t, "SIZE");
	uint64_t last = t.f.last_c2s_frame;
	tu_wait(&t, silence);
	uint64_t fin = tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, PH_MAIL, want);
	CITES(fin);
	CITES(last);
	tu_sess_free(&t);
}

START_TEST(test_idle_silent_long) { silent_close(600, CONF_HIGH); }
END_TEST
START_TEST(test_idle_silent_medium) { silent_close(60, CONF_MEDIUM); }
END_TEST
START_TEST(test_idle_silent_short) { silent_close(5, CONF_LOW); }
END_TEST

START_TEST(test_too_many_errors_421)
{
	struct tu_session t;
	start(&t, "SIZE");
	for (int i = 0; i < 5; i++) {
		tu_cmd(&t, CMD_UNKNOWN, "XYZZY");
		tu_reply(&t, 502, "5.5.2", "Error: command not recognized");
	}
	tu_cmd(&t, CMD_UNKNOWN, "XYZZY");
	uint64_t r = tu_reply(&t, 421, "4.7.0", "mx.example.net Error: too many errors");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_too_many_errors_421_plain)
{
	struct tu_session t;
	start(&t, "SIZE");
	for (int i = 0; i < 4; i++) {
		tu_cmd(&t, CMD_UNKNOWN, "BLAH");
		tu_reply(&t, 500, "", "Command unrecognized");
	}
	tu_cmd(&t, CMD_UNKNOWN, "BLAH");
	tu_reply(&t, 421, "", "closing connection");
	tu_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.confidence, CONF_MEDIUM);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_early_talker_554)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_handshake(&t);
	tu_cmd(&t, CMD_EHLO, "EHLO fast");
	t.npend = 0;    /* the greeting answers the connect, not the EHLO */
	t.pend[t.npend++] = CMD_EHLO;
	tu_greet(&t, 220, "", "mx ESMTP");
	uint64_t r = tu_reply(&t, 554, "5.5.1", "SMTP synchronization error");
	tu_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.confidence, CONF_HIGH);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* zeek-smtp-bdat-cmd-invalid / suricata bdat-bad-tail: 521 5.5.4 then FIN,
 * pipelined data answered by RST. */
START_TEST(test_syntax_then_server_close)
{
	struct tu_session t;
	start(&t, "CHUNKING PIPELINING");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 250, "2.1.0", "Ok");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<c@d>");
	tu_reply(&t, 250, "2.1.5", "Ok");
	tu_cmd(&t, CMD_BDAT, "BDAT 5 X");
	uint64_t r = tu_reply(&t, 521, "5.5.4", "Syntax: BDAT count [LAST]");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_pkt(&t, DIR_C2S, 300);
	tu_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 521);
	CITES(r);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_greylist_451)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 250, "2.1.0", "Ok");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<c@d>");
	tu_reply(&t, 451, "4.7.1", "<c@d>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_CLIENT, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_server_unavailable_452)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 452, "4.3.1", "Insufficient system storage");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_SERVER_UNAVAILABLE, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_starttls_454)
{
	struct tu_session t;
	start(&t, "STARTTLS");
	tu_cmd(&t, CMD_STARTTLS, "STARTTLS");
	uint64_t r = tu_reply(&t, 454, "4.7.0", "TLS not available due to local problem");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_TLS_FAILED, BY_SERVER, CLOSE_FIN, PH_STARTTLS, CONF_HIGH);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_tls_alert)
{
	struct tu_session t;
	start(&t, "STARTTLS");
	tu_cmd(&t, CMD_STARTTLS, "STARTTLS");
	tu_reply(&t, 220, "2.0.0", "Ready to start TLS");
	t.f.phase = PH_STARTTLS;
	t.f.tls.client_hello = true;
	t.f.tls.client_hello_frame = tu_pkt(&t, DIR_C2S, 300);
	t.f.tls.server_hello = true;
	tu_pkt(&t, DIR_S2C, 3000);
	uint64_t a = tu_pkt(&t, DIR_C2S, 7);
	t.f.tls.alert = true;
	t.f.tls.alert_level = 2;
	t.f.tls.alert_desc = 48;
	t.f.tls.alert_dir = DIR_C2S;
	t.f.tls.alert_frame = a;
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_FIN, PH_TLS, CONF_HIGH);
	CITES(a);
	ck_assert_ptr_nonnull(strstr(V.explanation, "unknown_ca"));
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-tls-protodetect / ndpi-smtps: TLS client, plaintext server. */
START_TEST(test_tls_mismatch_implicit)
{
	struct tu_session t;
	tu_sess_init(&t);
	t.fi.server_port = 465;
	tu_handshake(&t);
	t.f.implicit_tls = true;
	t.f.tls.client_hello = true;
	t.f.tls.client_hello_frame = tu_pkt(&t, DIR_C2S, 170);
	tu_greet(&t, 220, "", "mail.example ESMTP Postfix");
	uint64_t rst = tu_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TLS_FAILED);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_RST);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

static void encrypted_session(struct tu_session *t)
{
	start(t, "STARTTLS");
	tu_cmd(t, CMD_STARTTLS, "STARTTLS");
	tu_reply(t, 220, "2.0.0", "Ready to start TLS");
	t->f.phase = PH_TLS;
	t->f.tls.client_hello = t->f.tls.server_hello = t->f.tls.handshake_done = true;
	t->f.tls.first_appdata_frame[0] = tu_pkt(t, DIR_C2S, 1000);
	tu_pkt(t, DIR_S2C, 3000);
	t->f.tls.appdata_bytes[0] = 1000;
	t->f.tls.appdata_bytes[1] = 3000;
	t->f.tls.appdata_records[0] = t->f.tls.appdata_records[1] = 3;
}

START_TEST(test_encrypted)
{
	struct tu_session t;
	encrypted_session(&t);
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_fin(&t, DIR_C2S);
	tu_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_ENCRYPTED, BY_SERVER, CLOSE_FIN, PH_TLS, CONF_MEDIUM);
	CITES(fin);
	ck_assert_ptr_nonnull(strstr(V.explanation, "1000 bytes from the client"));
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_client_abort_rst_after_auth)
{
	struct tu_session t;
	start(&t, "AUTH CRAM-MD5");
	tu_cmd(&t, CMD_AUTH, "AUTH CRAM-MD5");
	tu_reply(&t, 334, "", "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+");
	tu_cmd(&t, CMD_AUTH_DATA, "********");
	tu_reply(&t, 235, "", "Authentication successful");
	uint64_t rst = tu_rst(&t, DIR_C2S, 0);
	run(&t);
	EXPECT(CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_RST, PH_MAIL, CONF_HIGH);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-errors s0: binary before the banner, five 500s, client FIN. */
START_TEST(test_client_abort_after_500s)
{
	struct tu_session t;
	start(&t, NULL);
	for (int i = 0; i < 4; i++) {
		tu_cmd(&t, CMD_UNKNOWN, "\x01\x02garbage");
		tu_reply(&t, 500, "5.5.1", "Command unrecognized");
	}
	tu_wait(&t, 5.4);
	tu_fin(&t, DIR_C2S);
	tu_reply(&t, 500, "5.5.1", "Command unrecognized");
	tu_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CLIENT_ABORT);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_FIN);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_connection_refused)
{
	struct tu_session t;
	tu_sess_init(&t);
	uint64_t syn = tu_syn(&t);
	uint64_t rst = tu_refuse(&t);
	run(&t);
	EXPECT(CAUSE_CONNECTION_REFUSED, BY_SERVER, CLOSE_RST, PH_CONNECT, CONF_HIGH);
	CITES(syn);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_unanswered_retries)
{
	struct tu_session t;
	tu_sess_init(&t);
	uint64_t s1 = tu_syn(&t);
	tu_wait(&t, 1);
	uint64_t s2 = tu_syn(&t);
	tu_wait(&t, 2);
	uint64_t s3 = tu_syn(&t);
	tu_end(&t, END_IDLE);
	run(&t);
	EXPECT(CAUSE_UNANSWERED, BY_NOBODY, CLOSE_NONE, PH_CONNECT, CONF_HIGH);
	CITES(s1);
	CITES(s2);
	CITES(s3);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-syn-only: one SYN, capture over. */
START_TEST(test_unanswered_single_syn)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_syn(&t);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_UNANSWERED, BY_NOBODY, CLOSE_NONE, PH_CONNECT, CONF_MEDIUM);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_network_failure)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 3000, false);
	for (int i = 0; i < 5; i++) {
		tu_wait(&t, 1 << i);
		tu_retrans(&t, DIR_C2S, 1448);
	}
	uint64_t rst = tu_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_NETWORK_FAILURE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_RST);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_middlebox_reset)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 2000, false);
	uint64_t rst = tu_rst(&t, DIR_S2C, 250);
	run(&t);
	EXPECT(CAUSE_MIDDLEBOX_RESET, BY_MIDDLEBOX, CLOSE_RST, PH_DATA, CONF_MEDIUM);
	CITES(rst);
	tu_sess_free(&t);
}
END_TEST

/* The same RST with the server's own TTL is the server's (here: idle/body). */
START_TEST(test_rst_same_ttl_not_middlebox)
{
	struct tu_session t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 2000, false);
	tu_rst(&t, DIR_S2C, 0);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	tu_sess_free(&t);
}
END_TEST

/* No SIZE advertised, the server cuts the body while the client is sending:
 * not idle (the client was not silent). */
START_TEST(test_server_cut_mid_body_unknown)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 80000, false);
	tu_wait(&t, 0.001);
	uint64_t rst = tu_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_SERVER, CLOSE_RST, PH_DATA, CONF_LOW);
	CITES(rst);
	ck_assert_ptr_nonnull(strstr(V.explanation, "80000 bytes"));
	tu_sess_free(&t);
}
END_TEST

/* ndpi-emotet: open at the end of the capture inside the DATA body. */
START_TEST(test_capture_end_mid_data)
{
	struct tu_session t;
	start(&t, "AUTH LOGIN");
	send_mail(&t, "MAIL FROM:<a@orange.fr>");
	uint64_t last = tu_body(&t, 15360, false);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	EXPECT(CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_DATA, CONF_HIGH);
	CITES(last);
	ck_assert_ptr_nonnull(strstr(V.explanation, "15360"));
	tu_sess_free(&t);
}
END_TEST

/* The client pipelined DATA and its body; the capture ended before the 354:
 * the explanation must not claim the body was accepted into DATA. */
START_TEST(test_capture_end_body_without_354)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@example.org>");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<bob@example.net>");
	tu_cmd(&t, CMD_DATA, "DATA");
	tu_body(&t, 2000, false);
	t.msgs[0].data_started = false;     /* no 354 came */
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_ptr_null(strstr(V.explanation, "inside the DATA body"));
	ck_assert_ptr_nonnull(strstr(V.explanation, "without a 354"));
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_evicted_flow)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_end(&t, END_EVICTED);
	run(&t);
	EXPECT(CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_MAIL, CONF_HIGH);
	ck_assert_ptr_nonnull(strstr(V.explanation, "flow table"));
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_capture_started_midstream)
{
	struct tu_session t;
	tu_sess_init(&t);
	t.v.capture_started_midstream = true;
	t.fi.roles_from_syn = false;
	t.f.phase = PH_RCPT;
	t.f.is_smtp = true;
	uint64_t first = tu_pkt(&t, DIR_C2S, 30);
	tu_pkt(&t, DIR_S2C, 20);
	tu_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	CITES(first);
	tu_sess_free(&t);
}
END_TEST

/* zeek-smtp-one-side-only: only the client's packets. */
START_TEST(test_one_sided_capture)
{
	struct tu_session t;
	tu_sess_init(&t);
	tu_syn(&t);
	tu_cmd(&t, CMD_EHLO, "ehlo x");
	tu_cmd(&t, CMD_MAIL, "mail from:<a@b>");
	tu_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-data-rejected: 553 sender domain, RSET, second transaction
 * 554 5.7.1 virus, client FIN: the content refusal decides (unknown). */
START_TEST(test_content_rejected)
{
	struct tu_session t;
	start(&t, "PIPELINING SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<x@nodomain.invalid>");
	tu_reply(&t, 553, "5.1.8", "Domain of sender address does not exist");
	tu_cmd(&t, CMD_RSET, "RSET");
	tu_reply(&t, 250, "2.0.0", "Reset state");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 114000, true);
	uint64_t r = tu_reply(&t, 554, "5.7.1", "Message contains virus: rejected.");
	tu_fin(&t, DIR_C2S);
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_CLIENT, CLOSE_FIN, PH_DATA, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 554);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* PIPELINING: MAIL, RCPT, DATA answered 250, 554, 554 in one segment: the
 * 250 to MAIL shares the frame and does not supersede the relay refusal. */
START_TEST(test_pipelined_refusal_same_segment)
{
	struct tu_session t;
	start(&t, "PIPELINING");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_cmd(&t, CMD_RCPT, "RCPT TO:<x@elsewhere>");
	tu_cmd(&t, CMD_DATA, "DATA");
	tu_wait(&t, 0.01);
	uint64_t fr = tu_reply(&t, 250, "2.1.0", "Ok");
	uint64_t f2 = tu_reply(&t, 554, "5.7.1", "<x@elsewhere>: Relay access denied");
	uint64_t f3 = tu_reply(&t, 554, "5.5.1", "Error: no valid recipients");
	/* one segment: same frame and time for the three replies, as the
	 * dissector reports them */
	t.f.last_error.frame = fr;
	t.f.msgs[0].data_reply.frame = fr;
	for (uint32_t i = 0; i < t.tl.n; i++)
		if (t.tl.ev[i].frame == f2 || t.tl.ev[i].frame == f3)
			t.tl.ev[i].frame = fr;
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	/* the relay refusal is the RCPT's; make it the newest error as the
	 * dissector would keep the DATA one: check both readings */
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	ck_assert_str_eq(V.reply_enhanced, "5.7.1");
	t.f.last_error.code = 554;
	snprintf(t.f.last_error.enhanced, sizeof(t.f.last_error.enhanced), "5.7.1");
	snprintf(t.f.last_error.text, sizeof(t.f.last_error.text), "<x@elsewhere>: Relay access denied");
	t.f.last_error.answers = CMD_RCPT;
	run(&t);
	EXPECT(CAUSE_RELAY_DENIED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	tu_sess_free(&t);
}
END_TEST

/* AUTH refused, the client tries MAIL anyway: 530 is a consequence. */
START_TEST(test_auth_failed_then_530)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN LOGIN");
	tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
	uint64_t r = tu_reply(&t, 535, "5.7.8", "Error: authentication failed");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	uint64_t r2 = tu_reply(&t, 530, "5.7.0", "Authentication required");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	CITES(r);
	CITES(r2);
	tu_sess_free(&t);
}
END_TEST

/* Repeated AUTH failures, then "421 too many errors": the credentials. */
START_TEST(test_auth_failures_then_too_many_errors)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN LOGIN");
	for (int i = 0; i < 3; i++) {
		tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
		tu_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	}
	tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
	tu_reply(&t, 421, "4.7.0", "mx.example Error: too many errors");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	tu_sess_free(&t);
}
END_TEST

/* Postfix with smtpd_hard_error_limit = 2 (tests/data/postfix
 * auth_failed_many): two 535s, the unprompted 421 too many errors and the
 * server's FIN, while the client's third AUTH is still on its way (never
 * answered, so the AUTH state is pending, not refused). */
START_TEST(test_auth_failures_then_421_with_auth_unanswered)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN LOGIN");
	uint64_t r = 0;
	for (int i = 0; i < 2; i++) {
		tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
		r = tu_reply(&t, 535, "5.7.8", "Error: authentication failed: authentication failure");
	}
	tu_reply(&t, 421, "4.7.0", "mx.example Error: too many errors");
	tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_AUTH, "AUTH PLAIN ********");
	run(&t);
	ck_assert_int_eq(t.f.auth_result, AUTH_PENDING);
	EXPECT(CAUSE_AUTH_FAILED, BY_SERVER, CLOSE_FIN, PH_AUTH, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 535);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* STARTTLS refused, then the server demands it: the TLS failure decides. */
START_TEST(test_starttls_refused_then_530)
{
	struct tu_session t;
	start(&t, "STARTTLS");
	tu_cmd(&t, CMD_STARTTLS, "STARTTLS");
	tu_reply(&t, 454, "4.7.0", "TLS not available due to local problem");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 530, "5.7.0", "Must issue a STARTTLS command first");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_FIN, PH_STARTTLS, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 454);
	tu_sess_free(&t);
}
END_TEST

/* MAIL refused as malformed, then a polite QUIT: not a completion. */
START_TEST(test_syntax_refusal_then_quit)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:a@b");
	uint64_t r = tu_reply(&t, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_reply(&t, 221, "2.0.0", "Bye");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_SERVER, CLOSE_FIN, PH_MAIL, CONF_MEDIUM);
	ck_assert_uint_eq(V.reply_code, 501);
	CITES(r);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-errors s1: a reply without a numeric code, sent with the FIN. */
START_TEST(test_codeless_deferral)
{
	struct tu_session t;
	start(&t, NULL);
	tu_cmd(&t, CMD_HELO, "HELO x");
	tu_reply(&t, 250, "", "ok");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 36000, true);
	struct event *e = tu_event(&t, EV_REPLY_UNPAIRED, DIR_S2C,
				   "[IPTS04] Messages from 192.0.2.10 temporarily deferred due to user complaints");
	snprintf(e->enhanced, sizeof(e->enhanced), "4.7.0");
	uint64_t fr = e->frame;
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_RATE_LIMITED);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert(V.has_reply);
	ck_assert_str_eq(V.reply_enhanced, "4.7.0");
	CITES(fr);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* The same line reported as a dissector note that carries its text. */
START_TEST(test_codeless_note_with_text)
{
	struct tu_session t;
	start(&t, NULL);
	tu_cmd(&t, CMD_HELO, "HELO x");
	tu_reply(&t, 250, "", "ok");
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 36000, true);
	struct event *e = tu_event(&t, EV_NOCODE_LINE, DIR_S2C,
				   "4.7.0 [IPTS04] Messages from 192.0.2.10 temporarily deferred due to user complaints");
	snprintf(e->enhanced, sizeof(e->enhanced), "4.7.0");
	e->num = 6;
	uint64_t fr = e->frame;
	tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_QUIT, "QUIT");
	tu_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_RATE_LIMITED, BY_SERVER, CLOSE_FIN, PH_DATA, CONF_HIGH);
	ck_assert_str_eq(V.reply_enhanced, "4.7.0");
	CITES(fr);
	tu_sess_free(&t);
}
END_TEST

/* Without the text, only the hang-up after a code-less line is certain. */
START_TEST(test_codeless_note_without_text)
{
	struct tu_session t;
	start(&t, NULL);
	send_mail(&t, "MAIL FROM:<a@b>");
	tu_body(&t, 3000, true);
	tu_event(&t, EV_NOCODE_LINE, DIR_S2C, "");
	tu_fin(&t, DIR_S2C);
	run(&t);
	EXPECT(CAUSE_UNKNOWN, BY_SERVER, CLOSE_FIN, PH_DATA, CONF_MEDIUM);
	tu_sess_free(&t);
}
END_TEST

/* arkime-smtp-data-521: 521 5.2.1 policy at end of data, server FIN. */
START_TEST(test_policy_521_after_dot)
{
	struct tu_session t;
	start(&t, "AUTH PLAIN");
	send_mail(&t, "MAIL FROM:<a@aol.com>");
	tu_body(&t, 2900, true);
	tu_reply(&t, 521, "5.2.1", "MUST COMPLETE IMAGE PUZZLE BEFORE SENDING");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	tu_cmd(&t, CMD_RSET, "RSET");
	tu_fin(&t, DIR_C2S);
	tu_rst(&t, DIR_S2C, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_UNKNOWN);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_uint_eq(V.reply_code, 521);
	CITES(fin);
	tu_sess_free(&t);
}
END_TEST

/* suricata-smtp-long-command: QUIT swallowed as AUTH data, client FIN. */
START_TEST(test_client_abort_in_auth)
{
	struct tu_session t;
	start(&t, "AUTH LOGIN");
	tu_cmd(&t, CMD_AUTH, "AUTH LOGIN");
	tu_reply(&t, 334, "", "VXNlcm5hbWU6");
	tu_cmd(&t, CMD_AUTH_DATA, "********");
	tu_fin(&t, DIR_C2S);
	tu_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CLIENT_ABORT);
	ck_assert_int_eq(V.phase, PH_AUTH);
	tu_sess_free(&t);
}
END_TEST

/* packetlife-ipv6-smtp: idle after the EHLO reply when the capture stopped. */
START_TEST(test_capture_end_idle)
{
	struct tu_session t;
	start(&t, "SIZE 35882577 8BITMIME");
	tu_wait(&t, 20);
	tu_end(&t, END_CAPTURE_END);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_NOBODY);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_unknown_server_drop)
{
	struct tu_session t;
	start(&t, "SIZE");
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	uint64_t fin = tu_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_UNKNOWN);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	CITES(fin);
	CITES(t.f.last_cmd_frame);
	tu_sess_free(&t);
}
END_TEST

START_TEST(test_names_roundtrip)
{
	for (int c = 0; c < CAUSE__COUNT; c++) {
		enum cause back;
		ck_assert(cause_parse(cause_name(c), &back));
		ck_assert_int_eq(back, c);
	}
	enum cause x;
	ck_assert(!cause_parse("nope", &x));
	ck_assert_str_eq(cause_name(CAUSE__COUNT), "?");
	ck_assert_str_eq(verdict_phase_name(PH_BDAT), "bdat");
	ck_assert_str_eq(closed_by_name(BY_MIDDLEBOX), "middlebox");
}
END_TEST

/* Every cause is reachable: the cases above cover them; this test counts. */
START_TEST(test_diag_pure_and_bounded)
{
	struct tu_session t;
	start(&t, "SIZE");
	char big[SMTP_TEXT_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	tu_cmd(&t, CMD_MAIL, "MAIL FROM:<a@b>");
	tu_reply(&t, 550, "5.7.1", big);
	tu_fin(&t, DIR_S2C);
	struct verdict a, b;
	struct diag_config cfg;
	diag_config_default(&cfg);
	diagnose(&t.v, &cfg, &a);
	diagnose(&t.v, &cfg, &b);
	ck_assert_int_eq(memcmp(&a, &b, sizeof(a)), 0);
	ck_assert_uint_lt(strlen(a.explanation), sizeof(a.explanation));
	tu_sess_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("completed");
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
	tc = tcase_create("idle_errors");
	tcase_add_test(tc, test_idle_421_442_capture_end);
	tcase_add_test(tc, test_idle_451_timeout_text);
	tcase_add_test(tc, test_idle_silent_long);
	tcase_add_test(tc, test_idle_silent_medium);
	tcase_add_test(tc, test_idle_silent_short);
	tcase_add_test(tc, test_too_many_errors_421);
	tcase_add_test(tc, test_too_many_errors_421_plain);
	tcase_add_test(tc, test_early_talker_554);
	tcase_add_test(tc, test_syntax_then_server_close);
	suite_add_tcase(s, tc);
	tc = tcase_create("tls");
	tcase_add_test(tc, test_starttls_454);
	tcase_add_test(tc, test_tls_alert);
	tcase_add_test(tc, test_tls_mismatch_implicit);
	tcase_add_test(tc, test_encrypted);
	suite_add_tcase(s, tc);
	tc = tcase_create("tcp");
	tcase_add_test(tc, test_client_abort_rst_after_auth);
	tcase_add_test(tc, test_client_abort_after_500s);
	tcase_add_test(tc, test_client_abort_in_auth);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_test(tc, test_unanswered_retries);
	tcase_add_test(tc, test_unanswered_single_syn);
	tcase_add_test(tc, test_network_failure);
	tcase_add_test(tc, test_middlebox_reset);
	tcase_add_test(tc, test_rst_same_ttl_not_middlebox);
	tcase_add_test(tc, test_capture_end_mid_data);
	tcase_add_test(tc, test_capture_started_midstream);
	tcase_add_test(tc, test_capture_end_body_without_354);
	tcase_add_test(tc, test_evicted_flow);
	tcase_add_test(tc, test_one_sided_capture);
	tcase_add_test(tc, test_capture_end_idle);
	tcase_add_test(tc, test_unknown_server_drop);
	tcase_add_test(tc, test_server_cut_mid_body_unknown);
	suite_add_tcase(s, tc);
	tc = tcase_create("contract");
	tcase_add_test(tc, test_names_roundtrip);
	tcase_add_test(tc, test_diag_pure_and_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
