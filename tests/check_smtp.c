/*
 * check_smtp.c - the SMTP dissector: line framing, commands, replies,
 * pairing (PIPELINING), EHLO, gaps, limits, tunnels, phases.
 * Bodies, BDAT and AUTH are in check_smtp_body.c and check_smtp_auth.c.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <string.h>

#include "testutil.h"
#include "smtp_harness.h"

static const struct step basic[] = {
	S("220 mx.example.test ESMTP ready\r\n"),
	C("EHLO client.example.test\r\n"),
	S("250-mx.example.test hello\r\n250-SIZE 10240000\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
	  "250-AUTH PLAIN LOGIN CRAM-MD5\r\n250-AUTH=PLAIN LOGIN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
	  "250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n250-BINARYMIME\r\n250 X-FOO bar\r\n"),
	C("MAIL FROM:<alice@example.test> SIZE=1234 BODY=8BITMIME\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<bob@example.test> NOTIFY=SUCCESS\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 End data with <CR><LF>.<CR><LF>\r\n"),
	C("From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: hello\r\n there\r\n"
	  "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n\r\nbody line\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as ABC\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
	END
};

START_TEST(test_basic_dialog)
{
	struct run r;
	run_init(&r);
	run_feed(&r, basic, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->is_smtp);
	ck_assert(!f->not_smtp);
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_str_eq(f->greeting.text, "mx.example.test ESMTP ready");
	ck_assert_str_eq(f->helo_verb, "EHLO");
	ck_assert_str_eq(f->helo_arg, "client.example.test");
	ck_assert(f->has_size_limit);
	ck_assert_uint_eq(f->size_limit, 10240000);
	uint32_t all = SMTP_EXT_SIZE | SMTP_EXT_AUTH | SMTP_EXT_STARTTLS | SMTP_EXT_PIPELINING | SMTP_EXT_8BITMIME |
		       SMTP_EXT_CHUNKING | SMTP_EXT_SMTPUTF8 | SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_DSN |
		       SMTP_EXT_BINARYMIME;
	ck_assert_uint_eq(f->ext, all);
	ck_assert_str_eq(f->auth_mechs, "PLAIN LOGIN CRAM-MD5");
	/* Every capability line with its parameters, in the server's order. */
	ck_assert_str_eq(f->extensions, "SIZE 10240000\nPIPELINING\n8BITMIME\nAUTH PLAIN LOGIN CRAM-MD5\n"
			 "AUTH=PLAIN LOGIN\nSTARTTLS\nENHANCEDSTATUSCODES\nCHUNKING\nSMTPUTF8\nDSN\nBINARYMIME\nX-FOO bar");
	ck_assert_uint_eq(f->n_msgs, 1);
	const struct smtp_message *msg = &f->msgs[0];
	ck_assert_str_eq(msg->mail_from, "alice@example.test");
	ck_assert(msg->has_declared_size);
	ck_assert_uint_eq(msg->declared_size, 1234);
	ck_assert_str_eq(msg->body_type, "8BITMIME");
	ck_assert(msg->dsn_notify);
	ck_assert_uint_eq(msg->rcpts, 1);
	ck_assert_uint_eq(msg->rcpts_accepted, 1);
	ck_assert_str_eq(msg->rcpt_to[0], "bob@example.test");
	ck_assert_uint_eq(msg->rcpt_codes[0], 250);
	ck_assert_uint_eq(msg->mail_reply.code, 250);
	ck_assert_str_eq(msg->mail_reply.enhanced, "2.1.0");
	ck_assert_uint_eq(msg->data_reply.code, 354);
	ck_assert_uint_eq(msg->final_reply.code, 250);
	ck_assert_str_eq(msg->final_reply.text, "Ok: queued as ABC");
	ck_assert(msg->data_started && msg->data_complete);
	ck_assert_str_eq(msg->subject, "hello there");
	ck_assert_str_eq(msg->from, "Alice <alice@example.test>");
	ck_assert_str_eq(msg->to, "bob@example.test");
	ck_assert_str_eq(msg->message_id, "<m1@example.test>");
	ck_assert_str_eq(msg->date, "Mon, 1 Jan 2024 00:00:00 +0000");
	size_t body = strlen(basic[9].b) - 3;
	ck_assert_uint_eq(msg->wire_bytes, body);
	ck_assert_uint_eq(msg->body_bytes, body);
	ck_assert_uint_eq(r.body_len, body);
	ck_assert_uint_eq(r.body_done, 1);
	ck_assert(f->quit_sent);
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert_int_eq(f->phase, PH_QUIT);
	ck_assert_uint_eq(f->pending, 0);
	ck_assert_uint_eq(f->commands, 5);
	ck_assert_uint_eq(f->replies, 7);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	ck_assert_int_eq(f->last_cmd, CMD_QUIT);
	ck_assert_uint_eq(f->last_cmd_frame, 12);
	/* events in order, with frames */
	const struct event *g = find_ev(&r, EV_GREETING, 0);
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(g->code, 220);
	ck_assert_uint_eq(g->frame, 1);
	const struct event *e = find_ev(&r, EV_REPLY, 0);
	ck_assert_uint_eq(e->code, 250);
	ck_assert_uint_eq(e->num, 13);
	ck_assert_str_eq(e->text, "mx.example.test hello");
	e = find_ev(&r, EV_REPLY, 1);
	ck_assert_str_eq(e->enhanced, "2.1.0");
	ck_assert_str_eq(e->text, "Ok");
	ck_assert_uint_eq(e->frame, 5);
	e = find_ev(&r, EV_COMMAND, 1);
	ck_assert_str_eq(e->text, "MAIL FROM:<alice@example.test> SIZE=1234 BODY=8BITMIME");
	ck_assert_uint_eq(e->frame, 4);
	ck_assert_ptr_nonnull(find_ev(&r, EV_DATA_START, 0));
	e = find_ev(&r, EV_DATA_END, 0);
	ck_assert_uint_eq(e->num, body);
	ck_assert_uint_eq(e->frame, 10);
	run_free(&r);
}
END_TEST

START_TEST(test_basic_split)
{
	check_split_invariance(basic);
}
END_TEST

/* PIPELINING: commands in one segment, replies in one segment. */
static const struct step pipelined[] = {
	S("220 mx ESMTP\r\n"),
	C("ehlo c\r\n"),
	S("250-mx\r\n250 PIPELINING\r\n"),
	C("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@z>\r\nDATA\r\n"),
	S("250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go\r\n"),
	C("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n"),
	S("250 queued\r\n221 bye\r\n"),
	END
};

START_TEST(test_pipelined)
{
	struct run r;
	run_init(&r);
	run_feed(&r, pipelined, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->helo_verb, "ehlo");
	ck_assert(f->ext & SMTP_EXT_PIPELINING);
	const struct smtp_message *m = &f->msgs[0];
	ck_assert_uint_eq(m->rcpts, 2);
	ck_assert_uint_eq(m->rcpts_accepted, 1);
	ck_assert_uint_eq(m->rcpt_codes[0], 250);
	ck_assert_uint_eq(m->rcpt_codes[1], 550);
	ck_assert_uint_eq(m->data_reply.code, 354);
	ck_assert_uint_eq(m->final_reply.code, 250);
	ck_assert_str_eq(m->subject, "p");
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert_uint_eq(f->last_error.code, 550);
	ck_assert_str_eq(f->last_error.enhanced, "5.1.1");
	ck_assert_int_eq(f->last_error.answers, CMD_RCPT);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	ck_assert_int_eq(f->phase, PH_QUIT);
	run_free(&r);
	check_split_invariance(pipelined);
}
END_TEST

/* DATA refused: the client's next lines are commands again. */
static const struct step data_refused[] = {
	S("220 mx\r\n"),
	C("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
	S("250 hi\r\n250 ok\r\n554 5.7.1 rejected\r\n503 5.5.1 no valid recipients\r\n"),
	C("RSET\r\nQUIT\r\n"),
	S("250 reset\r\n221 bye\r\n"),
	END
};

START_TEST(test_data_refused)
{
	struct run r;
	run_init(&r);
	run_feed(&r, data_refused, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->msgs[0].data_reply.code, 503);
	ck_assert(!f->msgs[0].data_started);
	ck_assert_int_eq(f->last_cmd, CMD_QUIT);
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert_uint_eq(f->commands, 6);
	ck_assert(find_ev(&r, EV_DATA_START, 0) == NULL);
	run_free(&r);
	check_split_invariance(data_refused);
}
END_TEST

/* Every change of the two reading modes goes through one transition
 * function; with tracing on, each is an EV_STATE event in order. */
static const struct step traced[] = {
	S("220 mx ESMTP\r\n"),
	C("EHLO c\r\n"),
	S("250 mx\r\n"),
	C("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
	S("250 ok\r\n250 ok\r\n354 go\r\n"),
	C("Subject: t\r\n\r\nhi\r\n.\r\n"),
	S("250 queued\r\n"),
	C("STARTTLS\r\n"),
	S("220 go ahead\r\n"),
	CB("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 10),
	END
};

START_TEST(test_state_trace)
{
	struct run r;
	run_init(&r);
	smtp_trace_states(r.s, true);
	run_feed(&r, traced, 0, 0, 0, false);
	const char *want[] = {
		"client: cmd -> gated", "client: gated -> body", "client: body -> cmd",
		"client: cmd -> gated", "server: lines -> tls", "client: gated -> tls",
	};
	uint32_t k = 0;
	for (uint32_t i = 0; i < tl_count(&r.tl); i++) {
		const struct event *e = tl_at(&r.tl, i);
		if (e->kind != EV_STATE)
			continue;
		ck_assert_msg(k < SL_ARRAY_LEN(want), "unexpected transition '%s'", e->text);
		ck_assert_str_eq(e->text, want[k]);
		k++;
	}
	ck_assert_uint_eq(k, SL_ARRAY_LEN(want));
	run_free(&r);

	/* Off by default: the same dialog leaves no EV_STATE event. */
	run_init(&r);
	run_feed(&r, traced, 0, 0, 0, false);
	ck_assert(find_ev(&r, EV_STATE, 0) == NULL);
	run_free(&r);
}
END_TEST

/* A capture that starts inside a DATA body: the body's lines (even ones
 * that look like commands) are never read as commands; the dialog is read
 * from the first known command after the server's reply on. */
static const struct step mid_body[] = {
	C("some body text\r\nMAIL FROM:<not@command>\r\nQUIT\r\n.\r\n"),
	S("250 2.0.0 Ok: queued\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
	END
};

/* ... and one that starts inside a multi-line reply: its tail is skipped. */
static const struct step mid_reply[] = {
	S("SIZE 1000\r\n250 8BITMIME\r\n"),
	C("MAIL FROM:<a@x>\r\n"),
	S("250 ok\r\n"),
	C("RCPT TO:<b@y>\r\n"),
	S("550 5.1.1 no such user\r\n"),
	END
};

START_TEST(test_midstream_resync)
{
	struct run r;
	run_init(&r);
	smtp_set_midstream(r.s);
	run_feed(&r, mid_body, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->commands, 1);              /* only the QUIT after the 250 */
	ck_assert_int_eq(f->last_cmd, CMD_QUIT);
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert_uint_eq(f->unknown_commands, 0);
	ck_assert_uint_eq(f->greeting.code, 0);          /* the 250 is no greeting */
	ck_assert_uint_eq(f->midstream_skipped, 4);
	ck_assert(find_ev(&r, EV_RESYNC, 0) != NULL);
	run_free(&r);

	run_init(&r);
	smtp_set_midstream(r.s);
	run_feed(&r, mid_reply, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_uint_eq(f->midstream_skipped, 1);       /* "SIZE 1000" */
	ck_assert_uint_eq(f->commands, 2);
	ck_assert_uint_eq(f->last_error.code, 550);
	ck_assert_int_eq(f->last_error.answers, CMD_RCPT);
	run_free(&r);

	/* Without the midstream mark, the first case reads body lines as commands. */
	run_init(&r);
	run_feed(&r, mid_body, 0, 0, 0, true);
	ck_assert_uint_gt(smtp_facts(r.s)->commands, 1);
	run_free(&r);
}
END_TEST

/* The client sends everything, body included, before the greeting. */
static const struct step early[] = {
	C("EHLO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nSubject: early\r\n\r\nhi\r\n.\r\n\r\n"),
	S("220-mx\r\n220 ready\r\n"),
	S("250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n250 accepted\r\n500 5.5.1 Command unrecognized: \"\"\r\n"),
	END
};

START_TEST(test_early_talker)
{
	struct run r;
	run_init(&r);
	run_feed(&r, early, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->early_talker);
	ck_assert_ptr_nonnull(find_ev(&r, EV_EARLY_TALKER, 0));
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->greeting.lines, 2);
	ck_assert_uint_eq(f->msgs[0].final_reply.code, 250);
	ck_assert_str_eq(f->msgs[0].subject, "early");
	ck_assert(f->msgs[0].data_complete);
	ck_assert_uint_eq(f->last_reply.code, 500);
	ck_assert_int_eq(f->last_reply.answers, CMD_UNKNOWN);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	run_free(&r);
	check_split_invariance(early);
}
END_TEST

/* postscreen's answer to an early talker: a "220-" teaser, then a 521 on
 * its own. The code change ends the 220; the 521 answers the EHLO. */
START_TEST(test_code_change_splits_reply)
{
	static const struct step st[] = {
		C("EHLO early.example\r\n"),
		S("220-mx.lab.example ESMTP\r\n"),
		S("521 5.5.1 Protocol error\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->greeting.lines, 1);
	ck_assert_uint_eq(f->replies, 2);
	ck_assert_uint_eq(f->last_error.code, 521);
	ck_assert_str_eq(f->last_error.enhanced, "5.5.1");
	ck_assert_int_eq(f->last_error.answers, CMD_EHLO);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_reply_forms)
{
	static const struct step st[] = {
		S("220mx no space\r\n"),
		C("EHLO c\r\n"),
		S("250-mx\r\nno code here\r\n250 SIZE\r\n"),
		C("NOOP\r\n"),
		S("699 odd code\r\n"),
		S("250 extra\r\n"),
		C("vrfy x\r\nexpn y\r\nhelp\r\nXYZZY\r\n"),
		S("252 2.1.5 maybe\r\n502 5.5.1 no\r\n214 help\r\n500 5.5.2 what\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_str_eq(f->greeting.text, "mx no space");
	ck_assert(f->ext & SMTP_EXT_SIZE);
	ck_assert(f->has_size_limit);
	ck_assert_uint_eq(f->size_limit, 0);
	ck_assert_uint_eq(f->nocode_lines, 1);
	ck_assert_uint_eq(f->unpaired_replies, 1);
	const struct event *u = find_ev(&r, EV_REPLY_UNPAIRED, 0);
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_eq(u->code, 250);
	ck_assert_uint_eq(find_ev(&r, EV_REPLY, 1)->code, 699);
	ck_assert_uint_eq(f->unknown_commands, 2);  /* XYZZY, and EXPN answered 502 */
	ck_assert_str_eq(f->last_error.enhanced, "5.5.2");
	ck_assert_uint_eq(f->consecutive_errors, 1);
	ck_assert_int_eq(f->last_cmd, CMD_UNKNOWN);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_pending_overflow)
{
	struct run r;
	run_init(&r);
	struct seg_meta m = step_meta(0);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"220 x\r\n", 7, &m);
	for (int i = 0; i < SMTP_PENDING_MAX + 5; i++)
		smtp_data(r.s, DIR_C2S, (const uint8_t *)"NOOP\r\n", 6, &m);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->pending_overflows, 1);
	ck_assert_ptr_nonnull(find_ev(&r, EV_PENDING_OVERFLOW, 0));
	ck_assert_uint_eq(f->pending, 5);
	run_free(&r);
}
END_TEST

START_TEST(test_bare_lf_and_long_lines)
{
	static const struct step st[] = {
		S("220 mx\n"),
		C("HELO c\n"),
		S("250 ok\r\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->bare_lf, 2);
	ck_assert_ptr_nonnull(find_ev(&r, EV_BARE_LF, 0));
	ck_assert_int_eq(f->phase, PH_IDLE);
	run_free(&r);
	check_split_invariance(st);

	/* a 600-byte command and a 10 MB line: reported, memory flat */
	run_init(&r);
	struct seg_meta m = step_meta(0);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"220 mx\r\n", 8, &m);
	char cmd[700];
	memset(cmd, 'a', sizeof(cmd));
	memcpy(cmd, "HELO ", 5);
	memcpy(cmd + 600, "\r\n", 2);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)cmd, 602, &m);
	f = smtp_facts(r.s);
	ck_assert_uint_eq(f->long_lines, 1);
	ck_assert_uint_eq(find_ev(&r, EV_LONG_LINE, 0)->num, 600);
	struct mallinfo2 before = mallinfo2();
	static uint8_t chunk[65536];
	memset(chunk, 'Z', sizeof(chunk));
	size_t total = 10u << 20;
	for (size_t k = 0; k < total; k += sizeof(chunk))
		smtp_data(r.s, DIR_C2S, chunk, sizeof(chunk), &m);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"\r\n", 2, &m);
	struct mallinfo2 after = mallinfo2();
	ck_assert_uint_eq(f->long_lines, 2);
	ck_assert_uint_eq(find_ev(&r, EV_LONG_LINE, 1)->num, total);
	ck_assert_msg(after.uordblks < before.uordblks + (1u << 20), "memory grew by %zu",
		      after.uordblks - before.uordblks);
	/* the head was kept as an unknown command, masked to printable text */
	ck_assert_int_eq(f->last_cmd, CMD_UNKNOWN);
	run_free(&r);
}
END_TEST

START_TEST(test_not_smtp)
{
	static const struct step http[] = {
		C("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, http, 0, 0, 0, true);
	ck_assert(smtp_facts(r.s)->not_smtp);
	ck_assert(!smtp_facts(r.s)->is_smtp);
	ck_assert_ptr_nonnull(find_ev(&r, EV_NOT_SMTP, 0));
	run_free(&r);

	static const struct step ssh[] = { S("SSH-2.0-OpenSSH_9.2\r\n"), END };
	run_init(&r);
	run_feed(&r, ssh, 0, 0, 0, true);
	ck_assert(smtp_facts(r.s)->not_smtp);
	run_free(&r);

	/* garbage from both sides never crashes and never claims SMTP */
	uint8_t junk[4096];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	run_init(&r);
	struct seg_meta m = step_meta(0);
	smtp_data(r.s, DIR_S2C, junk, sizeof(junk) / 2, &m);
	smtp_data(r.s, DIR_C2S, junk + 2048, sizeof(junk) / 2, &m);
	smtp_end(r.s, DIR_C2S, &m);
	smtp_end(r.s, DIR_S2C, &m);
	ck_assert(!smtp_facts(r.s)->is_smtp);
	run_free(&r);
}
END_TEST

/* Facts the diagnosis reads travel as typed events, not as prose: a
 * command's verb in EV_COMMAND.code, a code-less server line as
 * EV_NOCODE_LINE with the enhanced code it starts with and where its words
 * begin, and the same for a server's first line that is not a reply. */
START_TEST(test_typed_events)
{
	static const struct step dlg[] = {
		S("220 mx ESMTP\r\n"),
		C("EHLO c.example.test\r\n"),
		S("250 mx\r\n"),
		C("MAIL FROM:<a@example.test>\r\n"),
		S("250 ok\r\n"),
		S(" - 4.7.0  [IPTS04] deferred due to user complaints\r\n"),
		S("service going down\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, dlg, 0, 0, 0, true);
	ck_assert_uint_eq(find_ev(&r, EV_COMMAND, 0)->code, CMD_EHLO);
	ck_assert_uint_eq(find_ev(&r, EV_COMMAND, 1)->code, CMD_MAIL);
	const struct event *e = find_ev(&r, EV_NOCODE_LINE, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(e->code, 0);
	ck_assert_uint_eq(e->frame, 6);
	ck_assert_str_eq(e->text, " - 4.7.0  [IPTS04] deferred due to user complaints");
	ck_assert_str_eq(e->enhanced, "4.7.0");
	ck_assert_str_eq(e->text + e->num, "[IPTS04] deferred due to user complaints");
	e = find_ev(&r, EV_NOCODE_LINE, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->enhanced, "");
	ck_assert_str_eq(e->text, "service going down");
	ck_assert_uint_eq(smtp_facts(r.s)->nocode_lines, 2);
	run_free(&r);

	/* The line is kept only as far as it fits behind the transcript's prefix. */
	char longline[400];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "4.3.2 ", 6);
	memcpy(longline + sizeof(longline) - 2, "\r\n", 2);
	const struct step lng[] = { S("220 mx\r\n"), C("NOOP\r\n"), S("250 ok\r\n"), SB(longline, sizeof(longline)), END };
	run_init(&r);
	run_feed(&r, lng, 0, 0, 0, true);
	e = find_ev(&r, EV_NOCODE_LINE, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(strlen(NOCODE_NOTE_PREFIX) + strlen(e->text), EV_TEXT_MAX - 1);
	ck_assert_str_eq(e->enhanced, "4.3.2");
	ck_assert_uint_eq(e->num, 6);
	run_free(&r);

	/* A server whose first line is no reply: not SMTP, its enhanced code typed. */
	static const struct step first[] = { S("4.7.1 go away\r\n"), END };
	run_init(&r);
	run_feed(&r, first, 0, 0, 0, true);
	e = find_ev(&r, EV_NOT_SMTP, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->enhanced, "4.7.1");
	ck_assert_str_eq(e->text + e->num, "go away");
	run_free(&r);
}
END_TEST

START_TEST(test_gaps)
{
	/* a gap in the commands: resync on the next line */
	static const struct step st[] = {
		S("220 mx\r\n"),
		C("EHLO c\r\nMAIL FR"),
		CGAP(20),
		C("garbage tail\r\nRCPT TO:<b@y>\r\n"),
		S("250 hi\r\n250 ok\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->gaps_cmd, 1);
	ck_assert_uint_eq(f->resyncs, 1);
	ck_assert_ptr_nonnull(find_ev(&r, EV_RESYNC, 0));
	ck_assert_int_eq(f->last_cmd, CMD_RCPT);
	ck_assert_uint_eq(f->commands, 2);
	run_free(&r);
	check_split_invariance(st);

	/* a gap inside DATA: counted, and the end of data still found */
	static const struct step st2[] = {
		S("220 mx\r\n"),
		C("HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"),
		S("250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: gap\r\n\r\nline one\r\nline t"),
		CGAP(1000),
		C("wo\r\n.\r\n"),
		S("250 queued\r\n"),
		END
	};
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_uint_eq(f->gaps_data, 1);
	ck_assert_uint_eq(f->msgs[0].gap_bytes, 1000);
	ck_assert(f->msgs[0].data_complete);
	ck_assert_uint_eq(f->msgs[0].final_reply.code, 250);
	ck_assert_int_eq(f->phase, PH_IDLE);
	run_free(&r);
	check_split_invariance(st2);
}
END_TEST

START_TEST(test_tunnels)
{
	static const struct step http[] = {
		C("CONNECT mail.example.test:25 HTTP/1.0\r\nUser-Agent: x\r\n\r\n"),
		S("HTTP/1.0 200 Connection established\r\n\r\n"),
		S("220 mail.example.test ESMTP\r\n"),
		C("HELO me\r\n"),
		S("250 ok\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, http, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->tunnel, "http-connect");
	ck_assert(f->is_smtp);
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_str_eq(f->helo_arg, "me");
	ck_assert(!f->early_talker);
	ck_assert_uint_eq(count_ev(&r, EV_TUNNEL), 2);
	ck_assert_uint_eq(find_ev(&r, EV_TUNNEL, 1)->code, 200);
	run_free(&r);
	check_split_invariance(http);

	static const uint8_t c1[] = { 5, 1, 0 };
	static const uint8_t s1[] = { 5, 0 };
	static const uint8_t c2[] = { 5, 1, 0, 3, 4, 'm', 'x', '.', 't', 0, 25 };
	static const uint8_t s2[] = { 5, 0, 0, 1, 10, 0, 0, 1, 0xd1, 0xcd };
	static const struct step socks[] = {
		CB(c1, sizeof(c1)), SB(s1, sizeof(s1)), CB(c2, sizeof(c2)), SB(s2, sizeof(s2)),
		S("220 mx ESMTP\r\n"), C("EHLO User\r\n"), S("250-mx\r\n250 AUTH LOGIN\r\n"),
		C("AUTH LOGIN\r\n"), S("503 AUTH command used when not advertised\r\n"),
		END
	};
	run_init(&r);
	run_feed(&r, socks, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_str_eq(f->tunnel, "socks5");
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->last_reply.code, 503);
	ck_assert_int_eq(f->auth_result, AUTH_REFUSED);
	ck_assert_uint_eq(f->auth_code, 503);
	run_free(&r);
	check_split_invariance(socks);

	/* SOCKS4a: 04 01 port 0.0.0.1 "user" NUL "mx.test" NUL; reply 00 5a ... */
	static const uint8_t c4[] = { 4, 1, 0, 25, 0, 0, 0, 1, 'u', 's', 'e', 'r', 0, 'm', 'x', '.', 't', 'e', 's', 't', 0 };
	static const uint8_t s4[] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };
	static const struct step socks4[] = {
		CB(c4, sizeof(c4)), SB(s4, sizeof(s4)), S("220 mx\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	run_init(&r);
	run_feed(&r, socks4, 0, 0, 0, true);
	f = smtp_facts(r.s);
	ck_assert_str_eq(f->tunnel, "socks4");
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert(!f->early_talker);
	run_free(&r);
	check_split_invariance(socks4);
}
END_TEST

START_TEST(test_phases)
{
	struct run r;
	struct seg_meta m = step_meta(0);
	run_init(&r);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_GREETING);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"220 x\r\n", 7, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_HELO);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"EHLO c\r\n", 8, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_HELO);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"250 x\r\n", 7, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_IDLE);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"MAIL FROM:a@b\r\n", 15, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_MAIL);
	ck_assert_str_eq(smtp_facts(r.s)->msgs[0].mail_from, "a@b");
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"RCPT TO:<c@d>\r\n", 15, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_RCPT);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"DATA\r\n", 6, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_DATA);
	ck_assert_uint_eq(smtp_facts(r.s)->pending, 3);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"250 a\r\n250 b\r\n354 c\r\n", 21, &m);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"x\r\n", 3, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_DATA);
	ck_assert(smtp_facts(r.s)->in_body);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)".\r\n", 3, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_DATA);
	ck_assert(!smtp_facts(r.s)->in_body);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"250 ok\r\n", 8, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_IDLE);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"STARTTLS\r\n", 10, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_STARTTLS);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"454 no\r\n", 8, &m);
	ck_assert_int_eq(smtp_facts(r.s)->starttls, STLS_REFUSED);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_IDLE);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"QUIT\r\n", 6, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_QUIT);
	run_free(&r);

	/* the client closes in the middle of a body */
	run_init(&r);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"220 x\r\n", 7, &m);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 38, &m);
	smtp_data(r.s, DIR_S2C, (const uint8_t *)"250 a\r\n250 b\r\n354 c\r\n", 21, &m);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"Subject: cut\r\n\r\npart", 20, &m);
	smtp_end(r.s, DIR_C2S, &m);
	smtp_end(r.s, DIR_S2C, &m);
	ck_assert(smtp_facts(r.s)->in_body);
	ck_assert(!smtp_facts(r.s)->msgs[0].data_complete);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_DATA);
	ck_assert_str_eq(smtp_facts(r.s)->msgs[0].subject, "cut");
	run_free(&r);

	/* the server closes without a greeting; the client still says QUIT */
	run_init(&r);
	smtp_end(r.s, DIR_S2C, &m);
	smtp_data(r.s, DIR_C2S, (const uint8_t *)"QUIT\r\n", 6, &m);
	smtp_end(r.s, DIR_C2S, &m);
	ck_assert_int_eq(smtp_facts(r.s)->phase, PH_GREETING);
	ck_assert(smtp_facts(r.s)->quit_sent);
	ck_assert_uint_eq(smtp_facts(r.s)->pending, 2);
	run_free(&r);
}
END_TEST

/* Fuzz finding: a SOCKS5 client that sends its request before the server
 * chose username/password; the request bytes buffered exceed the shorter
 * message they turn out to be. Must not crash, must read SMTP after. */
START_TEST(test_socks_reinterpreted)
{
	static const uint8_t c1[] = { 'a', 'b', '\r', '\n', 5, 10, 0, 13, 0xff, 0x10, 0x11, 0, 0, 2, 0, 0, 0, 0, 0 };
	static const uint8_t c2[] = { 0 };
	static const uint8_t s1[] = { 0 };
	static const uint8_t s2[] = { 2 };
	static const uint8_t s3[] = { 1, 0 };
	static const struct step st[] = {
		CGAP(547), CB(c1, sizeof(c1)), SB(s1, 1), CB(c2, 1), SB(s2, 1), SB(s3, 2),
		S("220 mx\r\n"), C("QUIT\r\n"), S("221 bye\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_str_eq(f->tunnel, "socks5");
	ck_assert_uint_eq(f->resyncs, 1);
	/* the server's bytes after the broken prelude are read as SMTP */
	ck_assert_uint_eq(f->greeting.code, 220);
	ck_assert_uint_eq(f->replies, 2);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

static Suite *smtp_suite(void)
{
	Suite *s = suite_create("smtp");
	TCase *core = tcase_create("Core");
	tcase_add_test(core, test_basic_dialog);
	tcase_add_test(core, test_basic_split);
	tcase_add_test(core, test_pipelined);
	tcase_add_test(core, test_code_change_splits_reply);
	tcase_add_test(core, test_data_refused);
	tcase_add_test(core, test_state_trace);
	tcase_add_test(core, test_midstream_resync);
	tcase_add_test(core, test_early_talker);
	tcase_add_test(core, test_reply_forms);
	tcase_add_test(core, test_phases);
	tcase_add_test(core, test_tunnels);
	tcase_add_test(core, test_typed_events);
	suite_add_tcase(s, core);
	TCase *lim = tcase_create("Limits");
	tcase_set_timeout(lim, 120);
	tcase_add_test(lim, test_pending_overflow);
	tcase_add_test(lim, test_bare_lf_and_long_lines);
	tcase_add_test(lim, test_not_smtp);
	tcase_add_test(lim, test_gaps);
	tcase_add_test(lim, test_socks_reinterpreted);
	suite_add_tcase(s, lim);
	return s;
}

int main(void)
{
	return tu_run(smtp_suite());
}
