/*
 * check_smtp_body.c - message bodies: dot-stuffing, end of data across
 * segments, byte counts, header scan, 8-bit and UTF-8 data, BDAT chunks
 * (LAST, pipelined, counted by size), gaps inside a chunk. Random bodies
 * fed whole (the 64-byte block scan, each SIMD level) against one byte at a
 * time (the byte-wise scan).
 */
#define _GNU_SOURCE
#include <string.h>

#include "testutil.h"
#include "smtp_harness.h"

#define PRE \
	S("220 mx ESMTP\r\n"), \
	C("EHLO c\r\n"), \
	S("250-mx\r\n250-CHUNKING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"), \
	C("MAIL FROM:<a@x> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<b@y>\r\n"), \
	S("250 ok\r\n250 ok\r\n")

/* Stuffed lines: "..", "..leading", "...", a line that is just "." inside
 * is impossible (it would end the data), so ".." stands for it. */
static const struct step stuffed[] = {
	PRE,
	C("DATA\r\n"),
	S("354 go\r\n"),
	C("Subject: dots\r\n\r\n..\r\n..leading dot\r\n...\r\nend.\r\n"),
	C(".\r\n"),
	S("250 queued\r\n"),
	END
};

START_TEST(test_dot_stuffing)
{
	struct run r;
	run_init(&r);
	run_feed(&r, stuffed, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	const struct smtp_message *m = &f->msgs[0];
	const char *wire = "Subject: dots\r\n\r\n..\r\n..leading dot\r\n...\r\nend.\r\n";
	const char *plain = "Subject: dots\r\n\r\n.\r\n.leading dot\r\n..\r\nend.\r\n";
	ck_assert(m->data_complete);
	ck_assert_uint_eq(m->wire_bytes, strlen(wire));
	ck_assert_uint_eq(m->body_bytes, strlen(plain));
	ck_assert_uint_eq(r.body_len, strlen(plain));
	ck_assert_str_eq(r.body, plain);
	ck_assert_uint_eq(m->final_reply.code, 250);
	ck_assert_str_eq(m->body_type, "8BITMIME");
	ck_assert(m->smtputf8);
	run_free(&r);
	check_split_invariance(stuffed);
}
END_TEST

/* The final ".\r\n" split in every way, and a body whose "\r\n.\r\n" is
 * only complete across three segments. */
START_TEST(test_final_dot_split)
{
	static const struct step st[] = {
		PRE,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("x\r"),
		C("\n"),
		C("."),
		C("\r"),
		C("\n"),
		S("250 queued\r\n"),
		C("QUIT\r\n"),
		S("221 bye\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->msgs[0].data_complete);
	ck_assert_uint_eq(f->msgs[0].wire_bytes, 3);
	ck_assert_str_eq(r.body, "x\r\n");
	ck_assert_uint_eq(f->msgs[0].final_reply.code, 250);
	ck_assert_int_eq(f->last_cmd, CMD_QUIT);
	ck_assert_uint_eq(find_ev(&r, EV_DATA_END, 0)->frame, 12);
	run_free(&r);
	check_split_invariance(st);

	/* ".\r" followed by other bytes is content, not the end */
	static const struct step st2[] = {
		PRE, C("DATA\r\n"), S("354 go\r\n"), C("a\r\n.\rb\r\n.\r\n"), S("250 ok\r\n"), END
	};
	run_init(&r);
	run_feed(&r, st2, 0, 0, 0, true);
	ck_assert_str_eq(r.body, "a\r\n\rb\r\n");
	ck_assert(smtp_facts(r.s)->msgs[0].data_complete);
	run_free(&r);
	check_split_invariance(st2);
}
END_TEST

START_TEST(test_8bit_utf8)
{
	static const struct step st[] = {
		PRE,
		C("DATA\r\n"),
		S("354 go\r\n"),
		C("Subject: Gr\xc3\xbc\xc3\x9f""e \xe2\x9c\x93\r\nFrom: =?UTF-8?B?SsO8cmdlbg==?= <j@x>\r\n\r\n"
		  "caf\xe9 latin-1 \xff\xfe\x80 raw\r\n\xe6\x97\xa5\xe6\x9c\xac\r\n.\r\n"),
		S("250 ok\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_message *m = &smtp_facts(r.s)->msgs[0];
	ck_assert_str_eq(m->subject, "Gr\xc3\xbc\xc3\x9f""e \xe2\x9c\x93");
	ck_assert_str_eq(m->from, "=?UTF-8?B?SsO8cmdlbg==?= <j@x>");
	ck_assert(m->data_complete);
	/* 8-bit bytes reach the sink untouched */
	ck_assert_ptr_nonnull(memmem(r.body, r.body_len, "caf\xe9 latin-1 \xff\xfe\x80", 16));
	ck_assert_uint_eq(m->body_bytes, r.body_len);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_body_bare_lf_long_line)
{
	char big[1500 + 64];
	memset(big, 'q', sizeof(big));
	memcpy(big, "Subject: long\n\n", 15);
	memcpy(big + 15 + 1200, "\r\n.\n", 4);
	struct step st[] = {
		PRE, C("DATA\r\n"), S("354 go\r\n"), CB(big, 15 + 1200 + 4), S("250 ok\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert(f->msgs[0].data_complete);
	ck_assert_str_eq(f->msgs[0].subject, "long");
	ck_assert_uint_ge(f->bare_lf, 3);
	ck_assert_uint_eq(f->long_lines, 1);
	ck_assert_uint_eq(find_ev(&r, EV_LONG_LINE, 0)->num, 1200);
	ck_assert_uint_eq(f->msgs[0].wire_bytes, 15 + 1200 + 2);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

/* BDAT chunks pipelined with the next command in the same segment; the
 * chunk holds "\r\n.\r\n", which means nothing in BDAT. */
static const struct step bdat[] = {
	PRE,
	C("BDAT 14\r\nSubject: b\r\n\r\n"),
	C("BDAT 11 LAST\r\nx\r\n.\r\nyyyyyQUIT\r\n"),
	S("250 2.0.0 14 octets\r\n250 2.0.0 queued\r\n221 bye\r\n"),
	END
};

START_TEST(test_bdat)
{
	struct run r;
	run_init(&r);
	run_feed(&r, bdat, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	const struct smtp_message *m = &f->msgs[0];
	ck_assert(m->bdat);
	ck_assert_uint_eq(m->bdat_chunks, 2);
	ck_assert(m->data_complete);
	ck_assert_uint_eq(m->wire_bytes, 25);
	ck_assert_uint_eq(m->body_bytes, 25);
	ck_assert_str_eq(r.body, "Subject: b\r\n\r\nx\r\n.\r\nyyyyy");
	ck_assert_str_eq(m->subject, "b");
	ck_assert_uint_eq(m->data_reply.code, 250);
	ck_assert_uint_eq(m->final_reply.code, 250);
	ck_assert_str_eq(m->final_reply.text, "queued");
	ck_assert_uint_eq(f->quit_reply.code, 221);
	ck_assert_uint_eq(count_ev(&r, EV_BDAT), 2);
	ck_assert_uint_eq(find_ev(&r, EV_BDAT, 1)->code, 1);
	ck_assert_uint_eq(find_ev(&r, EV_BDAT, 1)->num, 11);
	ck_assert_int_eq(f->phase, PH_QUIT);
	ck_assert_uint_eq(f->unpaired_replies, 0);
	run_free(&r);
	check_split_invariance(bdat);
}
END_TEST

START_TEST(test_bdat_gap_and_zero)
{
	static const struct step st[] = {
		PRE,
		C("BDAT 100\r\n0123456789"),
		CGAP(50),
		C("0123456789012345678901234567890123456789BDAT 0 LAST\r\n"),
		S("250 ok\r\n250 done\r\n"),
		END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	const struct smtp_message *m = &f->msgs[0];
	ck_assert_uint_eq(m->gap_bytes, 50);
	ck_assert_uint_eq(m->wire_bytes, 50);
	ck_assert_uint_eq(m->bdat_chunks, 2);
	ck_assert(m->data_complete);
	ck_assert_uint_eq(m->final_reply.code, 250);
	ck_assert_uint_eq(f->gaps_data, 1);
	ck_assert_int_eq(f->phase, PH_IDLE);
	run_free(&r);
	check_split_invariance(st);
}
END_TEST

START_TEST(test_two_messages)
{
	static const struct step st[] = {
		PRE, C("DATA\r\n"), S("354 go\r\n"), C("Subject: one\r\n\r\n1\r\n.\r\n"), S("250 ok\r\n"),
		C("MAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\n"), S("250 ok\r\n250 ok\r\n354 go\r\n"),
		C("Subject: two\r\n\r\n22\r\n.\r\n"), S("552 5.3.4 too big\r\n"), END
	};
	struct run r;
	run_init(&r);
	run_feed(&r, st, 0, 0, 0, true);
	const struct smtp_facts *f = smtp_facts(r.s);
	ck_assert_uint_eq(f->n_msgs, 2);
	ck_assert_str_eq(f->msgs[0].subject, "one");
	ck_assert_str_eq(f->msgs[1].subject, "two");
	ck_assert_str_eq(f->msgs[1].mail_from, "c@x");
	ck_assert_uint_eq(f->msgs[1].final_reply.code, 552);
	ck_assert_str_eq(f->last_error.enhanced, "5.3.4");
	ck_assert_int_eq(f->last_error.answers, CMD_BODY_END);
	ck_assert_uint_eq(r.body_done, 2);
	run_free(&r);
}
END_TEST

extern int smtp_body_simd_max;  /* smtp_body.c: 2 any, 1 AVX2 at most, 0 none */

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n) { return tu_rnd(&rnd_state, n); }

/* A body of about `size` bytes: mostly ordinary CRLF lines (0-120 bytes),
 * with dot-stuffed lines, bare LFs, stray CRs (alone, before CRLF, at line
 * start), empty lines and lines around the 1000-byte limit; `odd` is the
 * share (per 100) of lines that are not ordinary. Ends with "\r\n.\r\n". */
static size_t make_body(char *out, size_t size, uint32_t odd)
{
	size_t n = 0;
	while (n < size) {
		uint32_t kind = rnd(100) < odd ? 1 + rnd(8) : 0;
		size_t len = kind == 7 ? 990 + rnd(20) : rnd(121);
		if (kind == 1)
			out[n++] = '.';
		if (kind == 2)
			out[n++] = '\r';
		for (size_t k = 0; k < len; k++)
			out[n++] = (char)('a' + rnd(26));
		if (kind == 3 && len)
			out[n - 1 - rnd((uint32_t)len)] = '\r';
		if (kind == 4)
			out[n++] = '\r';
		if (kind == 5) {
			out[n++] = '\n';
			continue;
		}
		if (kind == 6)
			out[n++] = '\r';
		out[n++] = '\r';
		out[n++] = '\n';
	}
	memcpy(out + n, ".\r\n", 3);
	return n + 3;
}

START_TEST(test_body_block_scan)
{
	static char body[70000];
	for (uint32_t round = 0; round < 24; round++) {
		rnd_state = 0x9e3779b97f4a7c15ULL + round;
		uint32_t odd = round % 4 == 0 ? 0 : round % 4 == 1 ? 2 : round % 4 == 2 ? 10 : 50;
		size_t size = round < 8 ? 600 + rnd(600) : 60000;
		size_t n = make_body(body, size, odd);
		struct step st[] = {
			PRE, C("DATA\r\n"), S("354 go\r\n"), CB(body, n), S("250 ok\r\n"),
			C("QUIT\r\n"), S("221 bye\r\n"), END
		};
		struct run ref;
		smtp_body_simd_max = 2;
		run_init(&ref);
		run_feed(&ref, st, 1, 0, 0, true);      /* one byte at a time */
		char *want = run_dump(&ref);
		ck_assert(smtp_facts(ref.s)->msgs[0].data_complete);
		for (int level = 0; level <= 2; level++) {
			smtp_body_simd_max = level;
			struct run r;
			run_init(&r);
			run_feed(&r, st, 0, 0, 0, true);
			char *got = run_dump(&r);
			ck_assert_msg(strcmp(want, got) == 0, "round %u level %d: events differ:\n--- bytes\n%s--- whole\n%s",
				      round, level, want, got);
			ck_assert_msg(facts_diff(smtp_facts(ref.s), smtp_facts(r.s)) == (size_t)-1,
				      "round %u level %d: facts differ at %zu", round, level,
				      facts_diff(smtp_facts(ref.s), smtp_facts(r.s)));
			ck_assert_uint_eq(r.body_len, ref.body_len);
			ck_assert(memcmp(r.body, ref.body, r.body_len) == 0);
			free(got);
			run_free(&r);
		}
		smtp_body_simd_max = 2;
		if (round < 8)
			check_split_invariance(st);
		free(want);
		run_free(&ref);
	}
}
END_TEST

static Suite *body_suite(void)
{
	Suite *s = suite_create("smtp_body");
	TCase *t = tcase_create("Body");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_dot_stuffing);
	tcase_add_test(t, test_final_dot_split);
	tcase_add_test(t, test_8bit_utf8);
	tcase_add_test(t, test_body_bare_lf_long_line);
	tcase_add_test(t, test_two_messages);
	tcase_add_test(t, test_body_block_scan);
	suite_add_tcase(s, t);
	TCase *b = tcase_create("BDAT");
	tcase_add_test(b, test_bdat);
	tcase_add_test(b, test_bdat_gap_and_zero);
	suite_add_tcase(s, b);
	return s;
}

int main(void)
{
	return tu_run(body_suite());
}
