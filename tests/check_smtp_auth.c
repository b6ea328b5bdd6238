/*
 * check_smtp_auth.c - AUTH mechanisms, user names, outcomes, and the rule
 * that no password, digest or token ever reaches a fact or an event.
 */
#define _GNU_SOURCE
#include <string.h>

#include "testutil.h"
#include "smtp_harness.h"

#define PRE S("220 mx ESMTP\r\n"), C("EHLO c\r\n"), S("250-mx\r\n250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n")

/* \0alice\0s3cretPW! */
#define PLAIN_B64 "AGFsaWNlAHMzY3JldFBXIQ=="

static void assert_no_secret(const struct run *r, const char *const *secrets)
{
	for (; *secrets; secrets++)
		ck_assert_msg(!leaks(r, *secrets), "secret '%s' leaked", *secrets);
}

START_TEST(test_plain_initial)
{
	static const struct step st[] = {
		PRE, C("AUTH PLAIN " PLAIN_B64 "\r\n"), S("235 2.7.0 Authentication successful\r\n"),
		C("MAIL FROM:<alice@x>\r\n"), S("250 ok\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_mech, "PLAIN");
	ck_assert_str_eq(f->auth_user, "alice");
	ck_assert_int_eq(f->auth_result, AUTH_ACCEPTED);
	ck_assert_uint_eq(f->auth_code, 235);
	ck_assert_uint_eq(f->auth_attempts, 1);
	ck_assert_str_eq(find_ev(&r, EV_COMMAND, 1)->text, "AUTH PLAIN [credentials hidden]");
	ck_assert_uint_eq(find_ev(&r, EV_AUTH_RESULT, 0)->code, 235);
	ck_assert_int_eq(f->last_cmd, CMD_MAIL);
	const char *secrets[] = { "s3cretPW!", PLAIN_B64, "AGFsaWNl", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_plain_after_334_refused)
{
	static const struct step st[] = {
		PRE, C("AUTH PLAIN\r\n"), S("334 \r\n"), C(PLAIN_B64 "\r\n"),
		S("535 5.7.8 Error: authentication failed\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_user, "alice");
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->auth_code, 535);
	ck_assert_uint_eq(f->auth_failures, 1);
	ck_assert_str_eq(f->last_error.enhanced, "5.7.8");
	ck_assert_int_eq(f->last_error.answers, CMD_AUTH_DATA);
	ck_assert_str_eq(find_ev(&r, EV_COMMAND, 2)->text, "[credentials hidden]");
	ck_assert_int_eq(f->phase, PH_QUIT);
	const char *secrets[] = { "s3cretPW!", PLAIN_B64, NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_login)
{
	/* bob@example.test / hunter2XYZ */
	static const struct step st[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("Ym9iQGV4YW1wbGUudGVzdA==\r\n"),
		S("334 UGFzc3dvcmQ6\r\n"), C("aHVudGVyMlhZWg==\r\n"), S("235 ok\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_mech, "LOGIN");
	ck_assert_str_eq(f->auth_user, "bob@example.test");
	ck_assert_int_eq(f->auth_result, AUTH_ACCEPTED);
	ck_assert_int_eq(f->phase, PH_IDLE);
	const char *secrets[] = { "hunter2XYZ", "aHVudGVyMlhZWg", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);

	/* LOGIN with the user as initial response, pipelined before the 334 */
	static const struct step st2[] = {
		PRE, C("AUTH LOGIN Ym9iQGV4YW1wbGUudGVzdA==\r\naHVudGVyMlhZWg==\r\n"),
		S("334 UGFzc3dvcmQ6\r\n535 5.7.8 no\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_user, "bob@example.test");
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st2);
}
END_TEST

START_TEST(test_cram_md5)
{
	static const struct step st[] = {
		PRE, C("AUTH CRAM-MD5\r\n"), S("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n"),
		C("Y2Fyb2wgOTNiYzNkMTFlMTdmZmYzYmVjNzlkNjBlYzNhNTU5YWQ=\r\n"), S("235 2.7.0 ok\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_mech, "CRAM-MD5");
	ck_assert_str_eq(f->auth_user, "carol");
	ck_assert_int_eq(f->auth_result, AUTH_ACCEPTED);
	const char *secrets[] = { "93bc3d11e17fff3bec79d60ec3a559ad", "Y2Fyb2wgOTNi", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_xoauth2)
{
	static const struct step st[] = {
		PRE, C("AUTH XOAUTH2 dXNlcj1kYXZlQGV4YW1wbGUudGVzdAFhdXRoPUJlYXJlciB5YTI5LlNFQ1JFVFRPS0VOAQE=\r\n"),
		S("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n"), C("\r\n"), S("535 5.7.8 Username and Password not accepted\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_mech, "XOAUTH2");
	ck_assert_str_eq(f->auth_user, "dave@example.test");
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->auth_code, 535);
	const char *secrets[] = { "SECRETTOKEN", "ya29", "dXNlcj1kYXZl", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_aborts)
{
	/* the client cancels with '*' */
	static const struct step st[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("*\r\n"), S("501 5.7.0 cancelled\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	ck_assert_int_eq(smtp_facts(r.s)->auth_result, AUTH_ABORTED);
	ck_assert_uint_eq(smtp_facts(r.s)->auth_failures, 0);
	run_free(&r);
	check_split_invariance(st);

	/* a command where AUTH data was due */
	static const struct step st2[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("MAIL FROM:<x@y>\r\n"), S("250 ok\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	ck_assert_int_eq(smtp_facts(r.s)->auth_result, AUTH_ABORTED);
	ck_assert_int_eq(smtp_facts(r.s)->last_cmd, CMD_MAIL);
	ck_assert_uint_eq(smtp_facts(r.s)->msgs[0].mail_reply.code, 250);
	run_free(&r);

	/* the session ends inside AUTH */
	static const struct step st3[] = {
		PRE, C("AUTH PLAIN\r\n"), S("334 \r\n"), C(PLAIN_B64 "\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st3, 0, 0, 0, true);
	ck_assert_int_eq(smtp_facts(r.s)->auth_result, AUTH_ABORTED);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_AUTH);
	ck_assert_str_eq(smtp_facts(r.s)->auth_user, "alice");
	const char *secrets[] = { "s3cretPW!", PLAIN_B64, NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);

	/* an unknown mechanism, refused */
	static const struct step st4[] = {
		PRE, C("auth scram-sha-256 biwsbj1*\r\n"), S("504 5.5.4 Unrecognized authentication type\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st4, 0, 0, 0, true);
	ck_assert_str_eq(smtp_facts(r.s)->auth_mech, "SCRAM-SHA-256");
	ck_assert_int_eq(smtp_facts(r.s)->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(smtp_facts(r.s)->auth_code, 504);
	ck_assert(!leaks(&r, "biwsbj1"));
	run_free(&r);
}
END_TEST

/* Credentials must not leak through other events: a long XOAUTH2 line, an
 * AUTH before the greeting, credentials pipelined after a refused AUTH. */
START_TEST(test_no_leak_elsewhere)
{
	char longline[1200];
	memset(longline, 'Q', sizeof(longline));
	memcpy(longline, "AUTH XOAUTH2 ", 13);
	memcpy(longline + 600, "TOPSECRETTOKEN", 14);
	memcpy(longline + sizeof(longline) - 2, "\r\n", 2);
	struct step st[] = {
		CB(longline, sizeof(longline)), PRE, S("235 ok\r\n"),
		C("AUTH LOGIN\r\nYm9iQGV4YW1wbGUudGVzdA==\r\naHVudGVyMlhZWg==\r\n"),
		S("504 5.5.4 no LOGIN\r\n500 what\r\n500 what\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->early_talker);
	ck_assert_uint_ge(f->long_lines, 1);
	ck_assert_int_eq(f->last_cmd, CMD_QUIT);
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	const char *secrets[] = { "QQQQ", "TOPSECRET", "aHVudGVyMlhZWg", "hunter2", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* A capture that starts inside AUTH: right after the server's 334
 * "Password:" prompt (the client's answer is the first line seen), or at
 * the 334 itself. The line answering a 334 is AUTH data whatever the
 * dissector saw before; its reply is the outcome. */
START_TEST(test_midstream_auth_data)
{
	static const struct step st[] = {
		C("U2VjcmV0UGFzc3dvcmQxMjM=\r\n"), S("235 2.7.0 Authentication successful\r\n"),
		C("MAIL FROM:<a@example.org>\r\n"), S("250 2.1.0 Ok\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_int_eq(f->auth_result, AUTH_ACCEPTED);
	ck_assert_uint_eq(f->auth_code, 235);
	ck_assert_str_eq(f->auth_mech, "unknown");
	ck_assert(!f->early_talker);
	ck_assert_str_eq(find_ev(&r, EV_COMMAND, 0)->text, "[credentials hidden]");
	ck_assert_int_eq(f->msgs[0].mail_reply.code, 250);
	const char *secrets[] = { "U2VjcmV0UGFzc3dvcmQxMjM", "SecretPassword123", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);

	static const struct step at334[] = {
		S("334 UGFzc3dvcmQ6\r\n"), C("cGFzc3dvcmQxMjM=\r\n"), S("535 5.7.8 Error: authentication failed\r\n"),
		C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	run_init(&r);
	run_feed(&r, at334, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->auth_code, 535);
	const char *secrets2[] = { "cGFzc3dvcmQxMjM", "password123", NULL };
	assert_no_secret(&r, secrets2);
	run_free(&r);
	check_split_invariance(at334);

	/* A capture that starts inside a base64 attachment: only its first
	 * line can pass for AUTH data, the others are not taken as more. */
	static const struct step mid_body[] = {
		C("TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu\r\nTWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu\r\n"
		  "TWFueSBoYW5kcw==\r\n.\r\n"),
		S("250 2.0.0 Ok: queued\r\n"), END
	};
	run_init(&r);
	run_feed(&r, mid_body, 0, 0, 0, true);
	ck_assert_uint_le(smtp_facts(r.s)->auth_attempts, 1);
	run_free(&r);
	check_split_invariance(mid_body);
}
END_TEST

/* A 334 makes the next client line secret even when the dissector lost
 * track of the AUTH exchange (here: the AUTH command was pipelined behind
 * a command whose reply the capture lost, so the 334 pairs with another). */
START_TEST(test_334_always_hides_next_line)
{
	static const struct step st[] = {
		PRE, C("NOOP\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C("aHVudGVyMlhZWg==\r\n"),
		S("235 ok\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { "aHVudGVyMlhZWg", "hunter2", NULL };
	assert_no_secret(&r, secrets);
	ck_assert_int_eq(smtp_facts(r.s)->auth_result, AUTH_ACCEPTED);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* Each 334 owes a line of AUTH data, also when the client's lines are
 * read after later replies (a fuzzer's capture: the password prompt's
 * record had a bad time and the lines came in after the 235): both the
 * user name and the password, garbled at its start, stay hidden. */
START_TEST(test_334s_counted_ahead_of_answers)
{
	static const struct step st[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), S("334 UGFzc3dvcmQ6\r\n"),
		C("Ym9iQGV4YW1wbGUudGVzdA==\r\n"), S("235 ok\r\n"), C("V\xb9myaHVudGVyMlhZWg==\r\n"),
		C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { "aHVudGVyMlhZWg", "Ym9iQGV4YW1wbGUudGVzdA", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* In LOGIN the line the final reply answers is the password: a line read
 * as the user name (a resynchronised stream lost the real one and its
 * prompt, as a fuzzer found) is shown as the user only once a further 334
 * asks for the next line. */
START_TEST(test_login_user_needs_a_further_334)
{
	static const struct step st[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C("aHVudGVyMlhZWg==\r\n"),
		S("235 2.7.0 ok\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_user, "");
	ck_assert_int_eq(f->auth_result, AUTH_ACCEPTED);
	const char *secrets[] = { "hunter2XYZ", "aHVudGVyMlhZWg", NULL };
	assert_no_secret(&r, secrets);
	run_free(&r);
	check_split_invariance(st);

	/* the same line refused, and a session that ends before any reply */
	static const struct step st2[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("aHVudGVyMlhZWg==\r\n"),
		S("535 5.7.8 no\r\n"), C("AUTH LOGIN\r\n"), S("334 VXNlcm5hbWU6\r\n"),
		C("aHVudGVyMlhZWg==\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_str_eq(f->auth_user, "");
	ck_assert_int_eq(f->auth_result, AUTH_ABORTED);
	ck_assert_uint_eq(f->auth_failures, 1);
	assert_no_secret(&r, secrets);
	run_free(&r);

	/* the line answers a password prompt, and a further 334 (a user-name
	 * prompt, out of its order) follows it: still no user name */
	static const struct step st3[] = {
		PRE, C("AUTH LOGIN\r\n"), S("334 UGFzc3dvcmQ6\r\n"), C("aHVudGVyMlhZWg==\r\n"),
		S("334 VXNlcm5hbWU6\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st3, 0, 0, 0, true);
	ck_assert_str_eq(smtp_facts(r.s)->auth_user, "");
	assert_no_secret(&r, secrets);
	run_free(&r);

	/* bytes lost after the AUTH command: which line answered which prompt
	 * is not proven, so no line is the user name (a fuzzer's capture) */
	static const struct step st4[] = {
		PRE, C("AUTH LOGIN\r\n"), CGAP(4), SGAP(43), S("334 VXNlcm5hbWU6\r\n"),
		C("aHVudGVyMlhZWg==\r\n"), S("334 VXNlcm5hbWU6\r\n"), C("Ym9i\r\n"), S("235 ok\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st4, 0, 0, 0, true);
	ck_assert_str_eq(smtp_facts(r.s)->auth_user, "");
	assert_no_secret(&r, secrets);
	run_free(&r);
}
END_TEST

/* An AUTH command behind other bytes on one line (its start garbled or
 * lost, as a fuzzer found): the line is an unknown command, shown only up
 * to the mechanism; the initial response never shows, nor in the HELO
 * argument of a line that starts as a known command. */
START_TEST(test_auth_inside_a_line)
{
	static const struct step st[] = {
		PRE, C("\x01\x02junk AUTH PLAIN " PLAIN_B64 "\r\n"), S("500 5.5.2 what\r\n"),
		C("HELO c AUTH LOGIN aHVudGVyMlhZWg==\r\n"), S("250 mx\r\n"),
		C("\x03\x9fUiPAUTH PLAIN " PLAIN_B64 "\r\n"), S("500 5.5.2 what\r\n"),
		C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { PLAIN_B64, "AGFsaWNl", "aHVudGVyMlhZWg", NULL };
	assert_no_secret(&r, secrets);
	ck_assert_ptr_nonnull(strstr(find_ev(&r, EV_COMMAND, 1)->text, "AUTH PLAIN [credentials hidden]"));
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* A client's credentials in the server's stream (roles guessed wrong for a
 * capture that starts mid-session, or a fuzzer's shuffle): a server line
 * without a reply code never shows what follows an AUTH mechanism, nor a
 * lone base64 token; other no-code lines stay shown. */
START_TEST(test_credentials_in_server_lines_hidden)
{
	static const struct step st[] = {
		PRE, C("NOOP\r\n"), S("\x9fUiPAUTH PLAIN " PLAIN_B64 "\r\n"), S("aHVudGVyMlhZWg==\r\n"),
		S("4.7.0 Service going away\r\n"), S("250 ok\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { PLAIN_B64, "AGFsaWNl", "aHVudGVyMlhZWg", NULL };
	assert_no_secret(&r, secrets);
	ck_assert(leaks(&r, "Service going away"));
	ck_assert_uint_eq(smtp_facts(r.s)->nocode_lines, 3);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* A refusal that echoes what the client sent (Sendmail's "500 5.5.1
 * Command unrecognized: \"...\"") never shows a credential word, nor does
 * an unknown command (an AUTH PLAIN line whose "AU" a gap took); words of
 * refusals that only look alike (a URL's key=value, host names, queue
 * ids with '-' or '.') stay, and so do a 334's prompt and a 250's text. */
START_TEST(test_refusal_echo_hidden)
{
	static const struct step st[] = {
		PRE, C("AUTH LOGIN\r\n"), S("504 5.3.3 AUTH mechanism LOGIN not available\r\n"),
		C("aHVudGVyMlhZWg==\r\n"), S("500 5.5.1 Command unrecognized: \"aHVudGVyMlhZWg==\"\r\n"),
		C("TH PLAIN " PLAIN_B64 "\r\n"), S("500 5.5.1 Command unrecognized\r\n"),
		C("\x01UiPAUTH PLAIN " PLAIN_B64 "\r\n"),
		S("500 5.5.1 Command unrecognized: \"?UiPAUTH PLAIN " PLAIN_B64 "\"\r\n"),
		C("MAIL FROM:<a@example.org>\r\n"),
		S("550-5.7.1 https://support.example.com/mail/?p=UnsolicitedMessageError\r\n"
		  "550 5.7.1 d9443c01a7336-2a0c9fe8f19si123456e.27 - gsmtp\r\n"),
		C("QUIT\r\n"), S("221 2.0.0 Zr6sDXUbSYmx9R1iQ8Z0vw closing\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { PLAIN_B64, "AGFsaWNl", "aHVudGVyMlhZWg", NULL };
	assert_no_secret(&r, secrets);
	ck_assert(leaks(&r, "Command unrecognized: \"[hidden]\""));
	ck_assert(leaks(&r, "?p=UnsolicitedMessageError"));
	ck_assert(leaks(&r, "d9443c01a7336-2a0c9fe8f19si123456e.27"));
	ck_assert(leaks(&r, "Zr6sDXUbSYmx9R1iQ8Z0vw"));
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* AUTH LOGIN whose AUTH line the capture lost and whose password prompt
 * came with another code (a fuzzer changed 334 to 335): the lone base64
 * line is still taken for AUTH data; a word in capitals and digits alone
 * is still a command and shown. */
START_TEST(test_lone_base64_line_hidden)
{
	static const struct step st[] = {
		PRE, S("335 UGFzc3dvcmQ6\r\n"), C("aHVudGVyMlhZWg==\r\n"), S("235 ok\r\n"),
		C("XYZZY0\r\n"), S("500 5.5.2 what\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const char *secrets[] = { "aHVudGVyMlhZWg", "hunter2", NULL };
	assert_no_secret(&r, secrets);
	ck_assert(leaks(&r, "XYZZY0"));
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

size_t smtp_auth_inside(const uint8_t *line, size_t n);      /* smtp_int.h */

/* Where a line's credential starts (smtp_auth_inside): after "AUTH <mechanism>"
 * in any case, glued to bytes before it or not; the bytes that only look like
 * the letters of AUTH once folded ('@' is 'A' - 1, '`' is 'a' - 1) do not
 * count. n: no credential on the line. */
START_TEST(test_auth_inside)
{
	static const struct {
		const char *line;
		size_t want;
	} rows[] = {
		{ "AUTH PLAIN dGVzdA==", 10 },
		{ "auth plain dGVzdA==", 10 },
		{ "aUtH LoGiN dXNlcg==", 10 },
		{ "\x9fUiPAUTH PLAIN dGVzdA==", 14 },
		{ "AUTH  PLAIN   x", 11 },
		{ "AUTH PLAIN", 10 },           /* no response after the mechanism */
		{ "AUTH PLAIN   ", 13 },
		{ "@UTH PLAIN dGVzdA==", 19 },
		{ "`uth PLAIN dGVzdA==", 19 },
		{ "AUTHX PLAIN dGVzdA==", 20 },
		{ "AUTH", 4 },
		{ "MAIL FROM:<a@b> AUTH=<>", 23 },
		{ "x AUTH CRAM-MD5 abc", 15 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = strlen(rows[i].line);
		ck_assert_msg(smtp_auth_inside((const uint8_t *)rows[i].line, n) == rows[i].want, "row %zu: %zu, want %zu",
			      i, smtp_auth_inside((const uint8_t *)rows[i].line, n), rows[i].want);
	}
}
END_TEST

static Suite *auth_suite(void)
{
	Suite *s = suite_create("smtp_auth");
	TCase *t = tcase_create("Auth");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_plain_initial);
	tcase_add_test(t, test_plain_after_334_refused);
	tcase_add_test(t, test_login);
	tcase_add_test(t, test_cram_md5);
	tcase_add_test(t, test_xoauth2);
	tcase_add_test(t, test_aborts);
	tcase_add_test(t, test_no_leak_elsewhere);
	tcase_add_test(t, test_midstream_auth_data);
	tcase_add_test(t, test_334_always_hides_next_line);
	tcase_add_test(t, test_334s_counted_ahead_of_answers);
	tcase_add_test(t, test_login_user_needs_a_further_334);
	tcase_add_test(t, test_auth_inside_a_line);
	tcase_add_test(t, test_credentials_in_server_lines_hidden);
	tcase_add_test(t, test_refusal_echo_hidden);
	tcase_add_test(t, test_lone_base64_line_hidden);
	tcase_add_test(t, test_auth_inside);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(auth_suite());
}
