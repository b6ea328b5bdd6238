/*
 * check_diag_ending.c - the diagnosis on scripted sessions fed through the
 * real pipeline (tu_dialog): endings read from timing, TLS and TCP - idle
 * timeouts and error limits, TLS failures and encrypted sessions, refused
 * and unanswered connections, client aborts, injected RSTs, stalls, an
 * open or partial capture - and the verdict's contract (names, purity).
 * The dialog's refusals are in check_diag_dialog.c.
 */
#include "diag_dialog.h"

/* A recipient refused with no words at all: recipient_rejected, and when
 * the one recipient is in another domain than the server's and the client
 * did not authenticate, the explanation names relaying as possible. */
static void bare_rcpt_refusal(struct dl *t, const char *rcpt)
{
	start(t, "SIZE");
	dl_cmd(t, "MAIL FROM:<a@client.example>");
	dl_reply(t, 250, "", "OK");
	char line[128];
	snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt);
	dl_cmd(t, line);
	dl_reply(t, 550, "", "Requested action not taken");
	dl_cmd(t, "QUIT");
	dl_reply(t, 221, "", "closing");
	dl_fin(t, DIR_S2C);
	dl_fin(t, DIR_C2S);
	run(t);
}

START_TEST(test_bare_rcpt_refusal_relay_hint)
{
	struct dl t;
	bare_rcpt_refusal(&t, "bob@elsewhere.org");
	EXPECT(CAUSE_RECIPIENT_REJECTED, BY_SERVER, CLOSE_FIN, PH_RCPT, CONF_MEDIUM);
	ck_assert_msg(strstr(V.explanation, "may have refused to relay") != NULL, "%s", V.explanation);
	dl_free(&t);
	bare_rcpt_refusal(&t, "bob@example.net");     /* the server's own domain */
	ck_assert_int_eq(V.cause, CAUSE_RECIPIENT_REJECTED);
	ck_assert_msg(strstr(V.explanation, "relay") == NULL, "%s", V.explanation);
	dl_free(&t);
}
END_TEST

/* What the client was shown: the refusal when there is one; Outlook's
 * published 0x800CCC0F words when the server hung up without a reply; its
 * 0x800CCC0E when the connection never opened. */
START_TEST(test_client_view)
{
	struct dl t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b.example>");
	dl_body(&t, 4000, false);
	dl_fin(&t, DIR_S2C);           /* the server hangs up inside DATA */
	dl_other_packet(&t);
	run(&t);
	ck_assert_msg(strstr(V.client_view, "0x800CCC0F") != NULL, "%s", V.client_view);
	ck_assert_msg(strstr(V.client_view, "unexpectedly terminated the connection") != NULL, "%s", V.client_view);
	dl_free(&t);

	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b.example>");
	dl_reply(&t, 250, "2.1.0", "Ok");
	dl_cmd(&t, "RCPT TO:<nobody@b.example>");
	dl_reply(&t, 550, "5.1.1", "<nobody@b.example>: Recipient address rejected: User unknown");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_RECIPIENT_REJECTED);
	ck_assert_msg(strstr(V.client_view, "\"550 5.1.1 <nobody@b.example>: Recipient address rejected") != NULL,
		      "%s", V.client_view);
	ck_assert_ptr_null(strstr(V.client_view, "0x800CCC0F"));
	dl_free(&t);

	dl_init(&t);
	dl_syn(&t);
	dl_refuse(&t);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CONNECTION_REFUSED);
	ck_assert_msg(strstr(V.client_view, "0x800CCC0E") != NULL, "%s", V.client_view);
	dl_free(&t);
}
END_TEST

/* zeek-smtp-multi-addr: 451 4.7.0 Timeout waiting for client input. */
START_TEST(test_idle_451_timeout_text)
{
	struct dl t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 300, true);
	dl_reply(&t, 250, "", "ok");
	dl_wait(&t, 60.6);
	dl_reply(&t, 451, "4.7.0", "Timeout waiting for client input");
	dl_fin(&t, DIR_S2C);
	dl_other_packet(&t);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_IDLE_TIMEOUT);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	ck_assert_uint_eq(V.reply_code, 451);
	dl_free(&t);
}
END_TEST

static void silent_close(double silence, enum confidence want)
{
	struct dl t;
	start(&t, "SIZE");
	uint64_t last = t.last_data_frame[DIR_C2S];
	dl_wait(&t, silence);
	uint64_t fin = dl_fin(&t, DIR_S2C);
	run(&t);
	/* after EHLO, between transactions: phase idle, as the Postfix capture
	 * tests/data/postfix/idle_timeout.pcap shows */
	EXPECT(CAUSE_IDLE_TIMEOUT, BY_SERVER, CLOSE_FIN, PH_IDLE, want);
	CITES(fin);
	CITES(last);
	dl_free(&t);
}

START_TEST(test_idle_silent_long) { silent_close(600, CONF_HIGH); }
END_TEST
START_TEST(test_idle_silent_medium) { silent_close(60, CONF_MEDIUM); }
END_TEST
START_TEST(test_idle_silent_short) { silent_close(5, CONF_LOW); }
END_TEST

START_TEST(test_too_many_errors_421)
{
	struct dl t;
	start(&t, "SIZE");
	for (int i = 0; i < 5; i++) {
		dl_cmd(&t, "XYZZY");
		dl_reply(&t, 502, "5.5.2", "Error: command not recognized");
	}
	dl_cmd(&t, "XYZZY");
	uint64_t r = dl_reply(&t, 421, "4.7.0", "mx.example.net Error: too many errors");
	dl_fin(&t, DIR_S2C);
	run(&t);
	/* phase idle, as in tests/data/postfix/too_many_errors.pcap */
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_IDLE, CONF_HIGH);
	CITES(r);
	dl_free(&t);
}
END_TEST

START_TEST(test_too_many_errors_421_plain)
{
	struct dl t;
	start(&t, "SIZE");
	for (int i = 0; i < 4; i++) {
		dl_cmd(&t, "BLAH");
		dl_reply(&t, 500, "", "Command unrecognized");
	}
	dl_cmd(&t, "BLAH");
	dl_reply(&t, 421, "", "closing connection");
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.confidence, CONF_MEDIUM);
	dl_free(&t);
}
END_TEST

START_TEST(test_early_talker_554)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_cmd(&t, "EHLO fast");   /* before the greeting */
	dl_greet(&t, 220, "", "mx ESMTP");
	uint64_t r = dl_reply(&t, 554, "5.5.1", "SMTP synchronization error");
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TOO_MANY_ERRORS);
	ck_assert_int_eq(V.confidence, CONF_HIGH);
	CITES(r);
	dl_free(&t);
}
END_TEST

/* zeek-smtp-bdat-cmd-invalid / suricata bdat-bad-tail: 521 5.5.4 then FIN,
 * pipelined data answered by RST. */
START_TEST(test_syntax_then_server_close)
{
	struct dl t;
	start(&t, "CHUNKING PIPELINING");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 250, "2.1.0", "Ok");
	dl_cmd(&t, "RCPT TO:<c@d>");
	dl_reply(&t, 250, "2.1.5", "Ok");
	dl_cmd(&t, "BDAT 5 X");
	uint64_t r = dl_reply(&t, 521, "5.5.4", "Syntax: BDAT count [LAST]");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_body(&t, 300, false);   /* the chunk's data, pipelined */
	dl_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_TOO_MANY_ERRORS, BY_SERVER, CLOSE_FIN, PH_BDAT, CONF_HIGH);
	ck_assert_uint_eq(V.reply_code, 521);
	CITES(r);
	CITES(fin);
	dl_free(&t);
}
END_TEST

START_TEST(test_tls_alert)
{
	struct dl t;
	start(&t, "STARTTLS");
	dl_cmd(&t, "STARTTLS");
	dl_reply(&t, 220, "2.0.0", "Ready to start TLS");
	dl_tls_client_hello(&t);
	dl_tls_server_hello(&t);
	uint64_t a = dl_tls_alert(&t, DIR_C2S, 2, 48);   /* fatal unknown_ca */
	dl_fin(&t, DIR_C2S);
	run(&t);
	EXPECT(CAUSE_TLS_FAILED, BY_CLIENT, CLOSE_FIN, PH_TLS, CONF_HIGH);
	CITES(a);
	ck_assert_ptr_nonnull(strstr(V.explanation, "unknown_ca"));
	dl_free(&t);
}
END_TEST

/* suricata-smtp-tls-protodetect / ndpi-smtps: TLS client, plaintext server. */
START_TEST(test_tls_mismatch_implicit)
{
	struct dl t;
	dl_init(&t);
	t.port[DIR_S2C] = 465;
	dl_handshake(&t);
	dl_tls_client_hello(&t);
	dl_greet(&t, 220, "", "mail.example ESMTP Postfix");
	uint64_t rst = dl_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_TLS_FAILED);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_RST);
	CITES(rst);
	dl_free(&t);
}
END_TEST

static void encrypted_session(struct dl *t)
{
	start(t, "STARTTLS");
	dl_cmd(t, "STARTTLS");
	dl_reply(t, 220, "2.0.0", "Ready to start TLS");
	dl_tls_client_hello(t);
	dl_tls_server_hello(t);
	dl_tls_appdata(t, DIR_C2S, 1000);
	dl_tls_appdata(t, DIR_S2C, 3000);
}

START_TEST(test_encrypted)
{
	struct dl t;
	encrypted_session(&t);
	uint64_t fin = dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	dl_rst(&t, DIR_S2C, 0);
	run(&t);
	EXPECT(CAUSE_ENCRYPTED, BY_SERVER, CLOSE_FIN, PH_TLS, CONF_MEDIUM);
	CITES(fin);
	ck_assert_ptr_nonnull(strstr(V.explanation, "1000 bytes from the client"));
	dl_free(&t);
}
END_TEST

START_TEST(test_client_abort_rst_after_auth)
{
	struct dl t;
	start(&t, "AUTH CRAM-MD5");
	dl_cmd(&t, "AUTH CRAM-MD5");
	dl_reply(&t, 334, "", "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+");
	dl_cmd(&t, "********");
	dl_reply(&t, 235, "", "Authentication successful");
	uint64_t rst = dl_rst(&t, DIR_C2S, 0);
	run(&t);
	/* right after the AUTH exchange: phase auth (rule K2) */
	EXPECT(CAUSE_CLIENT_ABORT, BY_CLIENT, CLOSE_RST, PH_AUTH, CONF_HIGH);
	CITES(rst);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-errors s0: binary before the banner, five 500s, client FIN. */
START_TEST(test_client_abort_after_500s)
{
	struct dl t;
	start(&t, NULL);
	for (int i = 0; i < 4; i++) {
		dl_cmd(&t, "\x01\x02garbage");
		dl_reply(&t, 500, "5.5.1", "Command unrecognized");
	}
	dl_wait(&t, 5.4);
	dl_fin(&t, DIR_C2S);
	dl_reply(&t, 500, "5.5.1", "Command unrecognized");
	dl_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CLIENT_ABORT);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_FIN);
	dl_free(&t);
}
END_TEST

/* The client gives up on a server that does not answer: how long it waited
 * decides. wait: seconds after the command (or, with no command, after the
 * handshake, waiting for the greeting); retrans: the command sent again
 * (a path losing packets, not a silent server). */
static void client_gives_up(struct dl *t, const char *cmd, double wait, bool retrans, bool rst)
{
	if (cmd) {
		start(t, "SIZE");
		dl_cmd(t, "MAIL FROM:<a@client.example>");
		dl_reply(t, 250, "", "OK");
		dl_cmd(t, cmd);
	} else {
		dl_init(t);
		dl_handshake(t);
	}
	if (retrans) {
		for (int i = 0; i < 5; i++) {
			dl_wait(t, 1 << i);
			dl_retrans(t, DIR_C2S, strlen(cmd) + 2);
		}
		wait -= 31;
	}
	dl_wait(t, wait);
	if (rst)
		dl_rst(t, DIR_C2S, 0);
	else
		dl_fin(t, DIR_C2S);
	run(t);
}

START_TEST(test_client_gives_up_on_silent_server)
{
	struct dl t;
	/* 5 minutes after RCPT: the server stalled, the client's timeout */
	client_gives_up(&t, "RCPT TO:<b@server.example>", 300, false, false);
	EXPECT(CAUSE_IDLE_TIMEOUT, BY_CLIENT, CLOSE_FIN, PH_RCPT, CONF_HIGH);
	ck_assert_ptr_nonnull(strstr(V.explanation, "waited 300.0 s"));
	dl_free(&t);
	/* a minute: still the server's silence, less sure */
	client_gives_up(&t, "RCPT TO:<b@server.example>", 60, false, true);
	EXPECT(CAUSE_IDLE_TIMEOUT, BY_CLIENT, CLOSE_RST, PH_RCPT, CONF_MEDIUM);
	dl_free(&t);
	/* no greeting for 45 s */
	client_gives_up(&t, NULL, 45, false, false);
	ck_assert_int_eq(V.cause, CAUSE_IDLE_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(V.explanation, "for the greeting"));
	dl_free(&t);
	/* 5 s: the client did not wait */
	client_gives_up(&t, "RCPT TO:<b@server.example>", 5, false, false);
	ck_assert_int_eq(V.cause, CAUSE_CLIENT_ABORT);
	ck_assert_ptr_nonnull(strstr(V.explanation, "waited only 5.00 s"));
	dl_free(&t);
	/* the command sent again and again: the path, not the server */
	client_gives_up(&t, "RCPT TO:<b@server.example>", 60, true, true);
	ck_assert_int_eq(V.cause, CAUSE_NETWORK_FAILURE);
	dl_free(&t);
}
END_TEST

START_TEST(test_network_failure)
{
	struct dl t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 3000, false);
	for (int i = 0; i < 5; i++) {
		dl_wait(&t, 1 << i);
		dl_retrans(&t, DIR_C2S, 1448);
	}
	uint64_t rst = dl_rst(&t, DIR_C2S, 0);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_NETWORK_FAILURE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	ck_assert_int_eq(V.close, CLOSE_RST);
	CITES(rst);
	dl_free(&t);
}
END_TEST

/* The same RST with the server's own TTL is the server's (here: idle/body). */
START_TEST(test_rst_same_ttl_not_middlebox)
{
	struct dl t;
	start(&t, "SIZE");
	send_mail(&t, "MAIL FROM:<a@b>");
	dl_body(&t, 2000, false);
	dl_rst(&t, DIR_S2C, 0);
	run(&t);
	ck_assert_int_ne(V.cause, CAUSE_MIDDLEBOX_RESET);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	dl_free(&t);
}
END_TEST

/* The client pipelined DATA and its body; the capture ended before the 354:
 * the explanation must not claim the body was accepted into DATA. (The
 * dissector holds such bytes until DATA is answered, so the session ends
 * with the commands still pending.) */
START_TEST(test_capture_end_body_without_354)
{
	struct dl t;
	start(&t, "PIPELINING");
	dl_cmd(&t, "MAIL FROM:<a@example.org>");
	dl_cmd(&t, "RCPT TO:<bob@example.net>");
	dl_cmd(&t, "DATA");
	dl_body(&t, 2000, false);
	dl_other_packet(&t);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_ptr_null(strstr(V.explanation, "inside the DATA body"));
	/* the dissector holds the bytes until DATA is answered: still commands */
	ck_assert_msg(strstr(V.explanation, "3 commands still awaited a reply (last: DATA)") != NULL, "%s", V.explanation);
	dl_free(&t);
}
END_TEST

/* The glue counts an evicted flow and never hands it to the diagnosis, so
 * the packets cannot end a flow this way: the real session's view is read
 * as if the engine had evicted it (rule C1's eviction wording). */
START_TEST(test_evicted_flow)
{
	struct dl t;
	start(&t, "SIZE");
	t.end_as = END_EVICTED;
	run(&t);
	EXPECT(CAUSE_CAPTURE_INCOMPLETE, BY_NOBODY, CLOSE_NONE, PH_IDLE, CONF_HIGH);
	ck_assert_ptr_nonnull(strstr(V.explanation, "flow table"));
	dl_free(&t);
}
END_TEST

START_TEST(test_capture_started_midstream)
{
	struct dl t;
	dl_init(&t);
	/* no handshake: the first packet is the client's RCPT */
	uint64_t first = dl_cmd(&t, "RCPT TO:<bob@example.net>");
	dl_reply(&t, 250, "2.1.5", "Ok");
	dl_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	CITES(first);
	dl_free(&t);
}
END_TEST

/* zeek-smtp-one-side-only: only the client's packets. */
START_TEST(test_one_sided_capture)
{
	struct dl t;
	dl_init(&t);
	dl_syn(&t);
	dl_cmd(&t, "ehlo x");
	dl_cmd(&t, "mail from:<a@b>");
	dl_fin(&t, DIR_C2S);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_CLIENT);
	dl_free(&t);
}
END_TEST

/* suricata-smtp-long-command: QUIT swallowed as AUTH data, client FIN. */
START_TEST(test_client_abort_in_auth)
{
	struct dl t;
	start(&t, "AUTH LOGIN");
	dl_cmd(&t, "AUTH LOGIN");
	dl_reply(&t, 334, "", "VXNlcm5hbWU6");
	dl_cmd(&t, "********");
	dl_fin(&t, DIR_C2S);
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CLIENT_ABORT);
	ck_assert_int_eq(V.phase, PH_AUTH);
	dl_free(&t);
}
END_TEST

/* packetlife-ipv6-smtp: idle after the EHLO reply when the capture stopped. */
START_TEST(test_capture_end_idle)
{
	struct dl t;
	start(&t, "SIZE 35882577 8BITMIME");
	dl_wait(&t, 20);
	dl_other_packet(&t);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_CAPTURE_INCOMPLETE);
	ck_assert_int_eq(V.closed_by, BY_NOBODY);
	dl_free(&t);
}
END_TEST

START_TEST(test_unknown_server_drop)
{
	struct dl t;
	start(&t, "SIZE");
	dl_cmd(&t, "MAIL FROM:<a@b>");
	uint64_t fin = dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert_int_eq(V.cause, CAUSE_UNKNOWN);
	ck_assert_int_eq(V.closed_by, BY_SERVER);
	CITES(fin);
	CITES(t.f.last_cmd_frame);
	dl_free(&t);
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
	struct dl t;
	start(&t, "SIZE");
	char big[SMTP_TEXT_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	dl_cmd(&t, "MAIL FROM:<a@b>");
	dl_reply(&t, 550, "5.7.1", big);
	dl_fin(&t, DIR_S2C);
	run(&t);
	ck_assert(t.repeatable);
	ck_assert_uint_lt(strlen(V.explanation), sizeof(V.explanation));
	ck_assert_uint_lt(strlen(V.reply_text), sizeof(V.reply_text));
	dl_free(&t);
}
END_TEST

static const struct dcase idle_errors_cases[] = {
	/* arkime-smtp-data-250: 250 queued, 30 s silence, 421 4.4.2, server FIN,
	 * client still open at the end of the capture. */
	{ "idle_421_442_capture_end",
	  "open\n"
	  "ehlo AUTH PLAIN\n"
	  "mail MAIL FROM:<a@aol.com>\n"
	  "body 931\n"
	  "R 250 - Ok: queued as 5E0B3C000084\n"
	  "wait 30.0\n"
	  "!R 421 4.4.2 mtaout.aol.com Error: timeout exceeded\n"
	  "!fin s2c\n"
	  "ack c2s\n"
	  "other\n",
	  .cause = CAUSE_IDLE_TIMEOUT, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_IDLE, .conf = CONF_HIGH,
	  .code = 421, .enhanced = "4.4.2" },
	/* Clients that never send QUIT: the message accepted, the server closes
	 * 5 ms later. Too soon for an idle timeout: the mail was delivered. */
	{ "server_close_right_after_accepted_message",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 900\n"
	  "!R 250 2.0.0 Ok: queued as 4F2\n"
	  "wait 0.005\n"
	  "!fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_COMPLETED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_IDLE, .conf = CONF_MEDIUM,
	  .code = 250, .says = { "without waiting for a QUIT" } },
	/* No message, the server closes 2 ms after the EHLO reply: no idle
	 * timeout either; the server dropped the client without a word. */
	{ "server_close_too_soon_for_a_timeout",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "wait 0.002\n"
	  "!fin s2c\n"
	  "fin c2s\n",
	  .cause = CAUSE_UNKNOWN, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_IDLE, .conf = CONF_LOW,
	  .code = NO_REPLY, .says = { "too soon for an idle timeout" } },
};

START_TEST(test_idle_errors_cases)
{
	run_case(&idle_errors_cases[_i]);
}
END_TEST

static const struct dcase tls_cases[] = {
	{ "starttls_454",
	  "open\n"
	  "ehlo STARTTLS\n"
	  "C STARTTLS\n"
	  "!R 454 4.7.0 TLS not available due to local problem\n"
	  "C QUIT\n"
	  "R 221 2.0.0 Bye\n"
	  "fin s2c\n",
	  .cause = CAUSE_TLS_FAILED, .by = BY_SERVER, .close = CLOSE_FIN, .phase = PH_STARTTLS, .conf = CONF_HIGH },
};

START_TEST(test_tls_cases)
{
	run_case(&tls_cases[_i]);
}
END_TEST

static const struct dcase tcp_cases[] = {
	{ "connection_refused",
	  "init\n"
	  "!syn\n"
	  "!refuse\n",
	  .cause = CAUSE_CONNECTION_REFUSED, .by = BY_SERVER, .close = CLOSE_RST, .phase = PH_CONNECT, .conf = CONF_HIGH },
	{ "unanswered_retries",
	  "init\n"
	  "!syn\n"
	  "wait 1\n"
	  "!syn\n"
	  "wait 2\n"
	  "!syn\n",
	  .cause = CAUSE_UNANSWERED, .by = BY_NOBODY, .close = CLOSE_NONE, .phase = PH_CONNECT, .conf = CONF_HIGH,
	  .idle = true },
	/* suricata-smtp-syn-only: one SYN, capture over. */
	{ "unanswered_single_syn",
	  "init\n"
	  "syn\n"
	  "other\n",
	  .cause = CAUSE_UNANSWERED, .by = BY_NOBODY, .close = CLOSE_NONE, .phase = PH_CONNECT, .conf = CONF_MEDIUM },
	{ "middlebox_reset",
	  "open\n"
	  "ehlo SIZE\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 2000 cut\n"
	  "!rst s2c 250\n",
	  .cause = CAUSE_MIDDLEBOX_RESET, .by = BY_MIDDLEBOX, .close = CLOSE_RST, .phase = PH_DATA, .conf = CONF_MEDIUM },
	/* ndpi-emotet: open at the end of the capture inside the DATA body. */
	{ "capture_end_mid_data",
	  "open\n"
	  "ehlo AUTH LOGIN\n"
	  "mail MAIL FROM:<a@orange.fr>\n"
	  "!body 15360 cut\n"
	  "other\n",
	  .cause = CAUSE_CAPTURE_INCOMPLETE, .by = BY_NOBODY, .close = CLOSE_NONE, .phase = PH_DATA, .conf = CONF_HIGH,
	  .says = { "15360" } },
	/* No SIZE advertised, the server cuts the body while the client is sending:
	 * not idle (the client was not silent). */
	{ "server_cut_mid_body_unknown",
	  "open\n"
	  "ehlo PIPELINING\n"
	  "mail MAIL FROM:<a@b>\n"
	  "body 80000 cut\n"
	  "wait 0.001\n"
	  "!rst s2c\n",
	  .cause = CAUSE_UNKNOWN, .by = BY_SERVER, .close = CLOSE_RST, .phase = PH_DATA, .conf = CONF_LOW,
	  .says = { "80000 bytes" } },
};

START_TEST(test_tcp_cases)
{
	run_case(&tcp_cases[_i]);
}
END_TEST
static Suite *suite(void)
{
	Suite *s = suite_create("diag_ending");
	TCase *tc;
	tc = tcase_create("idle_errors");
	tcase_add_loop_test(tc, test_idle_errors_cases, 0, (int)(sizeof(idle_errors_cases) / sizeof(idle_errors_cases[0])));
	tcase_add_test(tc, test_client_view);
	tcase_add_test(tc, test_bare_rcpt_refusal_relay_hint);
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
	tcase_add_loop_test(tc, test_tls_cases, 0, (int)(sizeof(tls_cases) / sizeof(tls_cases[0])));
	tcase_add_test(tc, test_tls_alert);
	tcase_add_test(tc, test_tls_mismatch_implicit);
	tcase_add_test(tc, test_encrypted);
	suite_add_tcase(s, tc);
	tc = tcase_create("tcp");
	tcase_add_test(tc, test_client_abort_rst_after_auth);
	tcase_add_test(tc, test_client_abort_after_500s);
	tcase_add_test(tc, test_client_gives_up_on_silent_server);
	tcase_add_test(tc, test_client_abort_in_auth);
	tcase_add_loop_test(tc, test_tcp_cases, 0, (int)(sizeof(tcp_cases) / sizeof(tcp_cases[0])));
	tcase_add_test(tc, test_network_failure);
	tcase_add_test(tc, test_rst_same_ttl_not_middlebox);
	tcase_add_test(tc, test_capture_started_midstream);
	tcase_add_test(tc, test_capture_end_body_without_354);
	tcase_add_test(tc, test_evicted_flow);
	tcase_add_test(tc, test_one_sided_capture);
	tcase_add_test(tc, test_capture_end_idle);
	tcase_add_test(tc, test_unknown_server_drop);
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
