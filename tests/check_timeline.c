/*
 * check_timeline.c - the bounded session timeline and the text sanitiser.
 */
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "timeline.h"

START_TEST(test_order_small)
{
	struct timeline tl;
	tl_init(&tl);
	for (int i = 0; i < 10; i++) {
		struct event *e = tl_add(&tl, EV_COMMAND, DIR_C2S, i, (uint64_t)i + 1, "NOOP", 4);
		ck_assert_ptr_nonnull(e);
	}
	ck_assert_uint_eq(tl_count(&tl), 10);
	for (uint32_t i = 0; i < 10; i++)
		ck_assert_uint_eq(tl_at(&tl, i)->frame, i + 1);
	ck_assert_ptr_null(tl_at(&tl, 10));
	tl_free(&tl);
}
END_TEST

START_TEST(test_ring_keeps_head_and_tail)
{
	struct timeline tl;
	tl_init(&tl);
	const uint32_t total = 5000;
	for (uint32_t i = 0; i < total; i++)
		tl_add(&tl, i % 2 ? EV_REPLY : EV_COMMAND, DIR_C2S, i, i + 1, NULL, 0);
	ck_assert_uint_eq(tl_count(&tl), TL_HEAD_KEEP + TL_TAIL_KEEP);
	ck_assert_uint_eq(tl.total, total);
	ck_assert_uint_eq(tl.dropped, total - TL_HEAD_KEEP - TL_TAIL_KEEP);
	/* The head is the first events, the tail the newest, both in order. */
	for (uint32_t i = 0; i < TL_HEAD_KEEP; i++)
		ck_assert_uint_eq(tl_at(&tl, i)->frame, i + 1);
	for (uint32_t i = 0; i < TL_TAIL_KEEP; i++)
		ck_assert_uint_eq(tl_at(&tl, TL_HEAD_KEEP + i)->frame, total - TL_TAIL_KEEP + i + 1);
	ck_assert_uint_eq(tl_last(&tl, EV_COMMAND, -1)->frame, total - 1);
	ck_assert_uint_eq(tl_last(&tl, EV_REPLY, DIR_C2S)->frame, total);
	ck_assert_ptr_null(tl_last(&tl, EV_FIN, -1));
	tl_free(&tl);
}
END_TEST

START_TEST(test_text_sanitised)
{
	struct timeline tl;
	tl_init(&tl);
	const char raw[] = "a\x01\x1b[31mb\xff\xc3\xa9\xe2\x82";
	struct event *e = tl_add(&tl, EV_NOTE, DIR_S2C, 0, 1, raw, sizeof(raw) - 1);
	/* controls and invalid UTF-8 become '?', valid UTF-8 (é) is kept */
	ck_assert_str_eq(e->text, "a??[31mb?\xc3\xa9??");
	char big[1000];
	memset(big, 'x', sizeof(big));
	e = tl_add(&tl, EV_NOTE, DIR_S2C, 0, 2, big, sizeof(big));
	ck_assert_uint_eq(strlen(e->text), EV_TEXT_MAX - 1);
	tl_free(&tl);
}
END_TEST

START_TEST(test_addr_and_time)
{
	struct sl_addr a;
	char buf[SL_ADDRSTRLEN];
	ck_assert(sl_addr_parse("192.0.2.7", &a));
	ck_assert_uint_eq(a.v, 4);
	ck_assert_str_eq(sl_addr_str(&a, buf, sizeof(buf)), "192.0.2.7");
	ck_assert(sl_addr_parse("2001:db8::25", &a));
	ck_assert_uint_eq(a.v, 6);
	ck_assert_str_eq(sl_addr_str(&a, buf, sizeof(buf)), "2001:db8::25");
	ck_assert(!sl_addr_parse("mail.example", &a));
	char t[40];
	ck_assert_str_eq(sl_time_str(1700000000LL * NS_PER_SEC + 123456789, t, sizeof(t)),
			 "2023-11-14T22:13:20.123456Z");
}
END_TEST

START_TEST(test_base64)
{
	uint8_t out[16];
	bool ok;
	const char *in = "dXNlcgBwYXNz";             /* "user\0pass" */
	size_t n = sl_b64_decode((const uint8_t *)in, strlen(in), out, sizeof(out), &ok);
	ck_assert(ok);
	ck_assert_uint_eq(n, 9);
	ck_assert_mem_eq(out, "user\0pass", 9);
	in = "Ym9i";                                    /* "bob" */
	n = sl_b64_decode((const uint8_t *)in, 4, out, sizeof(out), &ok);
	ck_assert(ok && n == 3 && memcmp(out, "bob", 3) == 0);
	in = "Ym9iYQ==";                                /* padding */
	n = sl_b64_decode((const uint8_t *)in, 8, out, sizeof(out), &ok);
	ck_assert(ok && n == 4 && memcmp(out, "boba", 4) == 0);
	/* a bad byte stops decoding: what came before is kept, ok is false */
	n = sl_b64_decode((const uint8_t *)"Ym9i*Ym9i", 9, out, sizeof(out), &ok);
	ck_assert(!ok && n == 3);
	/* padding then more data is not well-formed */
	sl_b64_decode((const uint8_t *)"Ym9iYQ==Ym9i", 12, out, sizeof(out), &ok);
	ck_assert(!ok);
	/* output is capped: the first bytes are kept, ok is false */
	n = sl_b64_decode((const uint8_t *)"dXNlcgBwYXNz", 12, out, 4, &ok);
	ck_assert(!ok && n == 4 && memcmp(out, "user", 4) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_order_small);
	tcase_add_test(tc, test_ring_keeps_head_and_tail);
	tcase_add_test(tc, test_text_sanitised);
	tcase_add_test(tc, test_addr_and_time);
	tcase_add_test(tc, test_base64);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
