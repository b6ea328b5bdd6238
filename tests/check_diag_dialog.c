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

/* ---- refusals with their codes ---- */

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

/* Sendmail 8.17 has no CHUNKING (tests/data/sendmail bdat_size): the
 * client sends "BDAT n LAST" and its chunk in one write; the server reads
 * the chunk's lines as commands and answers, in one segment, 500 to the BDAT
 * and to each line, then the unprompted 421 too many bad commands. The
 * client's QUIT and FIN come after that 421 (the server then resets): the
 * session failed in the BDAT transfer, not at the QUIT sent once it was
 * over. */
START_TEST(test_bdat_without_chunking_then_421_before_quit)
{
	struct dl t;
	start(&t, "PIPELINING SIZE 10240");
	dl_cmd(&t, "MAIL FROM:<a@client.example>");
	dl_reply(&t, 250, "2.1.0", "<a@client.example>... Sender ok");
	dl_cmd(&t, "RCPT TO:<root@lab.example>");
	dl_reply(&t, 250, "2.1.5", "<root@lab.example>... Recipient ok");
	static const char chunk[] = "BDAT 66 LAST\r\n"
				    "From: a@client.example\r\nTo: root@lab.example\r\nSubject: lab\r\n\r\nxx\r\n";
	dl_send(&t, DIR_C2S, chunk, sizeof(chunk) - 1);
	dl_wait(&t, 0.001);
	static const char errs[] = "500 5.5.1 Command unrecognized: \"BDAT 66 LAST\"\r\n"
				   "500 5.5.1 Command unrecognized: \"From: a@client.example\"\r\n"
				   "500 5.5.1 Command unrecognized: \"To: root@lab.example\"\r\n"
				   "500 5.5.1 Command unrecognized: \"Subject: lab\"\r\n"
				   "421 4.7.0 mx.lab.example Too many bad commands; closing connection\r\n";
	uint64_t fr = dl_send(&t, DIR_S2C, errs, sizeof(errs) - 1);
	dl_cmd(&t, "QUIT");
	uint64_t fin = dl_fin(&t, DIR_C2S);
	dl_rst(&t, DIR_S2C, 64);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_CLIENT, CLOSE_FIN, PH_BDAT, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 421);
	CITES(fr);
	CITES(fin);
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

static const struct dcase completed_cases[] = {
	{ "completed_quit_221",
	  "open\n"
	  "ehlo PIPELINING SIZE 10240000\n"
	  "mail MAIL FROM:<a@example.org>\n"
	  "body 931\n"
	  "R 250 2.0.0 Ok: queued as 1234\n"
	  "C QUIT\n"
	  "!R 221 2.0.0 Bye\n"
	  "!fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH,
	  .code = 221, .enhanced = "2.0.0" },
	/* Postfix with smtpd_delay_reject = no and reject_unauth_pipelining in
	 * smtpd_client_restrictions (tests/data/postfix early_talker): the greeting
	 * is a 503 5.5.0 pipelining refusal, then every command gets "503 5.7.0
	 * Error: access denied". The greeting decides, not the newest 503. */
	{ "refused_greeting_decides",
	  "init\n"
	  "handshake\n"
	  "C EHLO early.example\n"
	  "wait 1.0\n"
	  "!greet 503 5.5.0 <unknown[127.0.0.1]>: Client host rejected: Improper use of SMTP command pipelining\n"
	  "R 503 5.7.0 Error: access denied for unknown[127.0.0.1]\n"
	  "C MAIL FROM:<a@example.org>\n"
	  "R 503 5.7.0 Error: access denied for unknown[127.0.0.1]\n"
	  "C RCPT TO:<b@example.net>\n"
	  "R 503 5.7.0 Error: access denied for unknown[127.0.0.1]\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_TOO_MANY_ERRORS, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH,
	  .code = 503, .enhanced = "5.5.0" },
	/* arkime-smtp-decrypted: server FIN, server RST, client RST after 221. */
	{ "completed_rst_after_221",
	  "open\n"
	  "ehlo SIZE 36700160 STARTTLS\n"
	  "mail MAIL FROM:<a@example.org> SIZE=1500\n"
	  "body 1500\n"
	  "R 250 2.6.0 Queued mail for delivery\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Service closing transmission channel\n"
	  "!fin s2c\n"
	  "rst s2c\n"
	  "rst c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH,
	  .says = { "abortive" } },
	/* suricata-smtp-large-exchange: QUIT answered 250 by Microsoft. */
	{ "completed_quit_250",
	  "open\n"
	  "ehlo SIZE\n"
	  "C QUIT\n"
	  "R 250 - closing\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH },
	/* ndpi-smtp: EHLO -> 500, HELO fallback, mail accepted, QUIT/221. */
	{ "completed_after_ehlo_fallback",
	  "open\n"
	  "C EHLO host\n"
	  "R 500 - Command unrecognized\n"
	  "C HELO host\n"
	  "R 250 - Hello\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 15000\n"
	  "R 250 - Message accepted for delivery\n"
	  "C QUIT\n"
	  "R 221 - closing connection\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH },
	/* zeek-smtp-mail-transactions-invalid: many 503/500, then success and QUIT. */
	{ "completed_after_sequence_errors",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "C RCPT TO:<x@y>\n"
	  "R 503 5.5.1 Error: need MAIL command\n"
	  "C DATA\n"
	  "R 503 5.5.1 Error: need RCPT command\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 100\n"
	  "R 250 2.0.0 Ok: queued\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH },
	/* suricata-smtp-pipelining-loopback: 250 then client FIN without QUIT. */
	{ "completed_fin_without_quit",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 500\n"
	  "!R 250 2.0.0 Ok: queued\n"
	  "!fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_COMPLETED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_IDLE, .conf = CONF_MEDIUM,
	  .code = 250 },
};

START_TEST(test_completed_cases)
{
	run_case(&completed_cases[_i]);
}
END_TEST

static const struct dcase refusals_cases[] = {
	{ "greeting_554_ip_filtered",
	  "init\n"
	  "handshake\n"
	  "!greet 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org\n"
	  "!fin s2c\n"
	  "C QUIT\n"
	  "fin c2s\n",
	  .cause = CAUSE_IP_FILTERED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH,
	  .code = 554, .enhanced = "5.7.1" },
	{ "greeting_554_no_service",
	  "init\n"
	  "handshake\n"
	  "greet 554 - mx.example.net no SMTP service here\n"
	  "C QUIT\n"
	  "R 221 - bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_SERVER_UNAVAILABLE, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH,
	  .code = 554 },
	{ "greeting_421_too_many_connections",
	  "init\n"
	  "handshake\n"
	  "greet 421 4.7.0 mx.example.net Error: too many connections from 192.0.2.10\n"
	  "fin s2c\n",
	  .cause = CAUSE_RATE_LIMITED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH },
	{ "greeting_421_shutdown",
	  "init\n"
	  "handshake\n"
	  "greet 421 4.3.2 Service shutting down and closing transmission channel\n"
	  "fin s2c\n",
	  .cause = CAUSE_SERVER_UNAVAILABLE, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH,
	  .code = 421 },
	/* suricata-smtp-quit: server FIN before any greeting, QUIT, server RST. */
	{ "accept_then_close",
	  "init\n"
	  "syn\n"
	  "wait 0.001\n"
	  "!synack\n"
	  "wait 0.001\n"
	  "ack c2s\n"
	  "wait 0.2\n"
	  "!fin s2c\n"
	  "C QUIT\n"
	  "rst s2c\n",
	  .cause = CAUSE_IP_FILTERED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_CONNECT, .conf = CONF_MEDIUM,
	  .code = NO_REPLY },
	{ "auth_535_then_quit",
	  "open\n"
	  "ehlo AUTH PLAIN LOGIN\n"
	  "C AUTH PLAIN ********\n"
	  "!R 535 5.7.8 Error: authentication failed: authentication failure\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_AUTH_FAILED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_AUTH, .conf = CONF_HIGH,
	  .code = 535, .enhanced = "5.7.8" },
	/* arkime-socks5-smtp-503: AUTH not advertised, 503, client RST. */
	{ "auth_503_not_offered",
	  "open\n"
	  "ehlo PIPELINING SIZE 52428800\n"
	  "C AUTH LOGIN\n"
	  "!R 503 - AUTH command used when not advertised\n"
	  "!rst c2s\n",
	  .cause = CAUSE_AUTH_FAILED, .by = BY_CLIENT, .close = CLOSE_RST, .phase = PH_AUTH, .conf = CONF_MEDIUM,
	  .code = 503 },
	{ "auth_required_530",
	  "open\n"
	  "ehlo AUTH PLAIN\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 530 5.7.0 Authentication required\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin c2s\n",
	  .cause = CAUSE_AUTH_REQUIRED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_HIGH,
	  .code = 530 },
	{ "tls_required_530",
	  "open\n"
	  "ehlo STARTTLS AUTH PLAIN\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 530 5.7.0 Must issue a STARTTLS command first\n"
	  "fin c2s\n",
	  .cause = CAUSE_TLS_REQUIRED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_HIGH,
	  .code = 530 },
	{ "relay_554",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 2.1.0 Ok\n"
	  "C RCPT TO:<x@elsewhere.example>\n"
	  "!R 554 5.7.1 <x@elsewhere.example>: Relay access denied\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_RELAY_DENIED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_HIGH },
	/* arkime-smtp-rcpt-553: "not logged in" on RCPT, client FIN: Postfix's
	 * reject_unauth_sender_login_mismatch, the sender address belongs to a
	 * login and the client had not logged in: authenticate, then send. */
	{ "relay_553_not_logged_in",
	  "open\n"
	  "ehlo AUTH PLAIN\n"
	  "C MAIL FROM:<a@aol.com>\n"
	  "R 250 2.1.0 Ok\n"
	  "C RCPT TO:<x@example.com>\n"
	  "R 553 5.7.1 <a@aol.com>: Sender address rejected: not logged in\n"
	  "fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_AUTH_REQUIRED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_HIGH,
	  .code = 553 },
	{ "relay_exim_550",
	  "open\n"
	  "ehlo SIZE 52428800\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 - OK\n"
	  "C RCPT TO:<x@y>\n"
	  "R 550 - relay not permitted\n"
	  "C QUIT\n"
	  "R 221 - closing connection\n"
	  "fin s2c\n",
	  .cause = CAUSE_RELAY_DENIED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_HIGH },
	{ "greylist_451",
	  "open\n"
	  "ehlo SIZE\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 2.1.0 Ok\n"
	  "C RCPT TO:<c@d>\n"
	  "R 451 4.7.1 <c@d>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin c2s\n",
	  .cause = CAUSE_RATE_LIMITED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_HIGH },
	{ "server_unavailable_452",
	  "open\n"
	  "ehlo SIZE\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 452 4.3.1 Insufficient system storage\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_SERVER_UNAVAILABLE, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_HIGH },
	/* suricata-smtp-data-rejected: 553 sender domain, RSET, second transaction
	 * 554 5.7.1 virus, client FIN: the content refusal decides (unknown). */
	{ "content_rejected",
	  "open\n"
	  "ehlo PIPELINING SIZE\n"
	  "C MAIL FROM:<x@nodomain.invalid>\n"
	  "R 553 5.1.8 Domain of sender address does not exist\n"
	  "C RSET\n"
	  "R 250 2.0.0 Reset state\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 114000\n"
	  "!R 554 5.7.1 Message contains virus: rejected.\n"
	  "fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_CONTENT_REJECTED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_HIGH,
	  .code = 554 },
	/* Without an enhanced code, only the hang-up after a code-less line is certain. */
	{ "codeless_note_without_text",
	  "open\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 3000\n"
	  "S Service is going down now\n"
	  "fin s2c\n",
	  .cause = CAUSE_UNKNOWN, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_MEDIUM },
	/* MAIL refused as malformed, then a polite QUIT: not a completion. */
	{ "syntax_refusal_then_quit",
	  "open\n"
	  "ehlo SIZE\n"
	  "C MAIL FROM:a@b\n"
	  "!R 501 5.5.4 Syntax: MAIL FROM:<address>\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_UNKNOWN, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_MEDIUM,
	  .code = 501 },
	/* AUTH refused, the client tries MAIL anyway: 530 is a consequence. */
	{ "auth_failed_then_530",
	  "open\n"
	  "ehlo AUTH PLAIN LOGIN\n"
	  "C AUTH PLAIN ********\n"
	  "!R 535 5.7.8 Error: authentication failed\n"
	  "C MAIL FROM:<a@b>\n"
	  "!R 530 5.7.0 Authentication required\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_AUTH_FAILED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_AUTH, .conf = CONF_HIGH,
	  .code = 535 },
	/* STARTTLS refused, then the server demands it: the TLS failure decides. */
	{ "starttls_refused_then_530",
	  "open\n"
	  "ehlo STARTTLS\n"
	  "C STARTTLS\n"
	  "R 454 4.7.0 TLS not available due to local problem\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 530 5.7.0 Must issue a STARTTLS command first\n"
	  "fin c2s\n",
	  .cause = CAUSE_TLS_FAILED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_STARTTLS, .conf = CONF_HIGH,
	  .code = 454 },
	/* Replies read by their codes and the packets when the words say
	 * nothing (servers we have not seen word things their own way). */
	/* An unprompted 451 4.7.0 after 61 s of client silence (as Zimbra's in
	 * zeek-smtp-multi-addr, its words taken away): the silence proves the
	 * timeout, not a rate limit. */
	{ "unprompted_4xx_after_silence_is_idle",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 2.1.0 Ok\n"
	  "wait 61\n"
	  "!R 451 4.7.0 mx.example.net\n"
	  "!fin s2c\n",
	  .cause = CAUSE_IDLE_TIMEOUT, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_MEDIUM,
	  .code = 451, .says = { "silent for 61" } },
	/* A client that never spoke: 6 s after the greeting an unprompted 421
	 * with no words of any family (tests/data/postfix silent_client, its
	 * words and enhanced code taken away): the silence runs from the
	 * greeting, the server timed the client out. */
	{ "unprompted_421_after_greeting_silence_is_idle",
	  "init\n"
	  "handshake\n"
	  "greet 220 - mx.example.net ESMTP\n"
	  "wait 6\n"
	  "!R 421 - mx.example.net\n"
	  "fin s2c\n",
	  .cause = CAUSE_IDLE_TIMEOUT, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_HELO, .conf = CONF_MEDIUM,
	  .code = 421 },
	/* A BDAT without a chunk size (zeek-smtp-bdat-cmd-invalid) refused with a
	 * 521 and no enhanced code: the command's syntax, not the message. */
	{ "bdat_without_size_is_syntax",
	  "open\n"
	  "ehlo CHUNKING PIPELINING\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 2.1.0 Ok\n"
	  "C RCPT TO:<c@d>\n"
	  "R 250 2.1.5 Ok\n"
	  "C BDAT SCRAMBLE\n"
	  "!R 521 - Syntax: BDAT count [LAST]\n"
	  "!fin s2c\n",
	  .cause = CAUSE_TOO_MANY_ERRORS, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_BDAT, .conf = CONF_HIGH,
	  .code = 521 },
	/* The client spoke before the greeting and the greeting is a 503 with
	 * no enhanced code and words of no family: a protocol refusal. */
	{ "early_talker_greeting_503",
	  "init\n"
	  "handshake\n"
	  "C EHLO early.example\n"
	  "wait 1.0\n"
	  "!greet 503 - mx.example.net go on\n"
	  "fin s2c\n",
	  .cause = CAUSE_TOO_MANY_ERRORS, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_MEDIUM,
	  .code = 503 },
	/* Sendmail 8.17 with FEATURE(greet_pause) (tests/data/sendmail
	 * early_talker): the client's EHLO comes before any server byte; the
	 * greeting is a bare 554 with no enhanced code and no word on the
	 * address or the service, and in the same segment the EHLO's 250; the
	 * client waits, then closes. The client's early talk is the violation
	 * the 554 refuses, not its address. */
	{ "early_talker_greeting_554",
	  "init\n"
	  "handshake\n"
	  "C EHLO early.example\n"
	  "wait 0.002\n"
	  "!greet 554 - mx.lab.example ESMTP not accepting messages\n"
	  "R 250 mx.lab.example Hello mx.lab.example [127.0.0.1], pleased to meet you\n"
	  "wait 30.0\n"
	  "fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_TOO_MANY_ERRORS, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_MEDIUM,
	  .code = 554 },
	/* The same, the client going on (tests/data/sendmail early_talker_go_on):
	 * every later command "550 5.0.0 Command rejected", QUIT 221, server
	 * FIN. The greeting decides, not the newest 550. */
	{ "early_talker_greeting_554_go_on",
	  "init\n"
	  "handshake\n"
	  "C EHLO early.example\n"
	  "wait 0.002\n"
	  "!greet 554 - mx.lab.example ESMTP not accepting messages\n"
	  "R 250 mx.lab.example Hello mx.lab.example [127.0.0.1], pleased to meet you\n"
	  "C MAIL FROM:<a@client.example>\n"
	  "R 550 5.0.0 Command rejected\n"
	  "C RCPT TO:<root@lab.example>\n"
	  "R 550 5.0.0 Command rejected\n"
	  "C QUIT\n"
	  "R 221 2.0.0 mx.lab.example closing connection\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_TOO_MANY_ERRORS, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_MEDIUM,
	  .code = 554 },
	/* An early talker whose 554 greeting names its address: the address is
	 * what is refused (the early talk does not override the words). */
	{ "early_talker_greeting_554_address_words",
	  "init\n"
	  "handshake\n"
	  "C EHLO early.example\n"
	  "wait 0.002\n"
	  "!greet 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org\n"
	  "!fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_IP_FILTERED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_GREETING, .conf = CONF_HIGH,
	  .code = 554, .enhanced = "5.7.1" },
	/* An idle timeout's unprompted 421 after the EHLO was answered, then the
	 * client's QUIT (unanswered) and the closes: the 421 came while the
	 * session was idle, not in the QUIT sent after it. */
	{ "idle_421_then_quit",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "wait 6.0\n"
	  "!S 421 4.4.2 mx.example.net Error: timeout exceeded\n"
	  "C QUIT\n"
	  "fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_IDLE_TIMEOUT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_IDLE, .conf = CONF_HIGH,
	  .code = 421, .enhanced = "4.4.2" },
	/* RFC 7372 4.7.25 with no words: the client's reverse DNS. */
	{ "enhanced_x_7_25_reverse_dns",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "C MAIL FROM:<a@b>\n"
	  "R 250 2.1.0 Ok\n"
	  "C RCPT TO:<c@d>\n"
	  "!R 450 4.7.25 mx.example.net\n"
	  "fin s2c\n",
	  .cause = CAUSE_IP_FILTERED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_MEDIUM,
	  .code = 450, .enhanced = "4.7.25" },
	/* RFC 5248 5.7.10 "encryption needed" with no words, STARTTLS not offered. */
	{ "enhanced_x_7_10_encryption",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "C MAIL FROM:<a@b>\n"
	  "!R 530 5.7.10 mx.example.net\n"
	  "fin c2s\n",
	  .cause = CAUSE_TLS_REQUIRED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_HIGH,
	  .code = 530 },
	/* tests/data/exim abort_data: the client closes inside the body; Exim
	 * then writes "421 Lost incoming connection" (its DATA-phase wording,
	 * "lost input connection" elsewhere) to a client already gone. That
	 * reply reports the client's close; it is not a refusal. */
	{ "lost_incoming_after_client_fin",
	  "open\n"
	  "ehlo PIPELINING SIZE 52428800\n"
	  "mail MAIL FROM:<a@client.example>\n"
	  "body 3000 cut\n"
	  "wait 0.3\n"
	  "!fin c2s\n"
	  "S 421 Lost incoming connection\n"
	  "rst c2s\n",
	  .cause = CAUSE_CLIENT_ABORT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_MEDIUM,
	  .code = NO_REPLY },
	/* The same order of packets with words no table knows: an unasked
	 * reply after the client's FIN cannot be why the client closed, so
	 * the reading rests on the order, not on the phrase. */
	{ "unasked_421_after_client_fin_any_words",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "mail MAIL FROM:<a@client.example>\n"
	  "body 3000 cut\n"
	  "wait 0.3\n"
	  "!fin c2s\n"
	  "S 421 4.3.0 mx.example.test closing channel\n"
	  "fin s2c\n",
	  .cause = CAUSE_CLIENT_ABORT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_MEDIUM,
	  .code = NO_REPLY },
	/* OpenSMTPD 6.8 (tests/data/opensmtpd helo_required): MAIL before any
	 * HELO (503), HELO with a malformed name refused 501 5.5.4, then 503 to
	 * MAIL and RCPT ("not allowed at this point": no greeting was ever
	 * accepted), QUIT 221. The 503s only follow from the refused HELO. */
	{ "refused_helo_then_503s",
	  "open\n"
	  "C MAIL FROM:<a@client.example>\n"
	  "R 503 5.5.1 Invalid command: Command not allowed at this point.\n"
	  "C HELO bad..name\n"
	  "!R 501 5.5.4 Invalid command arguments: Invalid domain name\n"
	  "C MAIL FROM:<a@client.example>\n"
	  "R 503 5.5.1 Invalid command: Command not allowed at this point.\n"
	  "C RCPT TO:<root@lab.example>\n"
	  "R 503 5.5.1 Invalid command: Command not allowed at this point.\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_IP_FILTERED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_HELO, .conf = CONF_HIGH,
	  .code = 501, .enhanced = "5.5.4" },
	/* A 503 after an accepted EHLO is not the greeting's fault, even with a
	 * refused HELO before it: the transaction's own error decides (R4). */
	{ "accepted_ehlo_then_503",
	  "open\n"
	  "C HELO bad..name\n"
	  "R 501 5.5.4 Invalid command arguments: Invalid domain name\n"
	  "C EHLO client.example\n"
	  "R 250 - mx.example.net Hello\n"
	  "C RCPT TO:<root@lab.example>\n"
	  "!R 503 5.5.1 Invalid command: Command not allowed at this point.\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_UNKNOWN, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_RCPT, .conf = CONF_MEDIUM,
	  .code = 503 },
	/* ... but the same 421 before the client's FIN is the server's word. */
	{ "unasked_421_before_client_fin",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "mail MAIL FROM:<a@client.example>\n"
	  "body 3000 cut\n"
	  "wait 0.3\n"
	  "S 421 4.3.0 mx.example.test closing channel\n"
	  "!fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_SERVER_UNAVAILABLE, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_HIGH,
	  .code = 421 },
};

START_TEST(test_refusals_cases)
{
	run_case(&refusals_cases[_i]);
}
END_TEST

static const struct dcase size_cases[] = {
	{ "size_declared_over_limit",
	  "open\n"
	  "ehlo SIZE 10485760\n"
	  "!C MAIL FROM:<a@b> SIZE=20000000\n"
	  "!R 552 5.3.4 Message size exceeds fixed limit\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_SIZE_LIMIT, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_HIGH,
	  .code = 552, .says = { "10485760", "20000000" } },
	{ "size_552_after_dot",
	  "open\n"
	  "ehlo SIZE 1000\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 5000\n"
	  "!R 552 - Message size exceeds maximum permitted\n"
	  "fin c2s\n",
	  .cause = CAUSE_SIZE_LIMIT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_DATA, .conf = CONF_HIGH,
	  .says = { "5000 body bytes" } },
	{ "size_rst_mid_data",
	  "open\n"
	  "ehlo SIZE 100000\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 150000 cut\n"
	  "!rst s2c\n",
	  .cause = CAUSE_SIZE_LIMIT, .by = BY_SERVER, .close = CLOSE_RST, .phase = PH_DATA, .conf = CONF_HIGH,
	  .code = NO_REPLY, .says = { "150000", "100000" } },
	/* OpenSMTPD 6.8 (tests/data/opensmtpd size_at_mail): SIZE 10240
	 * advertised, MAIL SIZE=50000 answered 250 (the size is checked only
	 * after the data), the client quits without sending it (Q1b). */
	{ "size_declared_over_accepted_then_quit",
	  "open\n"
	  "ehlo 8BITMIME ENHANCEDSTATUSCODES SIZE 10240 DSN STARTTLS HELP\n"
	  "C MAIL FROM:<a@client.example> SIZE=50000\n"
	  "!R 250 2.0.0 Ok\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "!fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_SIZE_LIMIT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_MEDIUM,
	  .code = NO_REPLY, .says = { "10240", "SIZE=50000", "accepted the MAIL" } },
	/* The same, the client closing without QUIT (K2b). */
	{ "size_declared_over_accepted_then_fin",
	  "open\n"
	  "ehlo SIZE 10240\n"
	  "C MAIL FROM:<a@client.example> SIZE=50000\n"
	  "R 250 2.0.0 Ok\n"
	  "wait 0.1\n"
	  "!fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_SIZE_LIMIT, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_MAIL, .conf = CONF_MEDIUM,
	  .code = NO_REPLY, .says = { "10240", "SIZE=50000", "without QUIT" } },
	/* A declaration within the limit and a QUIT is a session that ended well. */
	{ "size_declared_within_then_quit",
	  "open\n"
	  "ehlo SIZE 10240\n"
	  "C MAIL FROM:<a@client.example> SIZE=5000\n"
	  "R 250 2.0.0 Ok\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin c2s\n"
	  "fin s2c\n",
	  .cause = CAUSE_COMPLETED, .by = BY_CLIENT, .close = CLOSE_FIN, .phase = PH_QUIT, .conf = CONF_HIGH,
	  .code = 221 },
};

START_TEST(test_size_cases)
{
	run_case(&size_cases[_i]);
}
END_TEST
static Suite *suite(void)
{
	Suite *s = suite_create("diag_dialog");
	TCase *tc;
	tc = tcase_create("completed");
	tcase_add_loop_test(tc, test_completed_cases, 0, (int)(sizeof(completed_cases) / sizeof(completed_cases[0])));
	tcase_add_test(tc, test_221_to_forbidden_command);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_loop_test(tc, test_refusals_cases, 0, (int)(sizeof(refusals_cases) / sizeof(refusals_cases[0])));
	tcase_add_test(tc, test_codeless_deferral);
	tcase_add_test(tc, test_codeless_note_with_text);
	tcase_add_test(tc, test_auth_failures_then_too_many_errors);
	tcase_add_test(tc, test_bdat_without_chunking_then_421_before_quit);
	tcase_add_test(tc, test_auth_failures_then_421_with_auth_unanswered);
	tcase_add_test(tc, test_pipelined_refusal_same_segment);
	tcase_add_test(tc, test_policy_521_after_dot);
	suite_add_tcase(s, tc);
	tc = tcase_create("size");
	tcase_add_loop_test(tc, test_size_cases, 0, (int)(sizeof(size_cases) / sizeof(size_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
