/*
 * check_text_copy.c - sl_text_copy, the routine every reply, command and
 * event text of untrusted bytes goes through: its sixteen-bytes-at-a-time
 * scan of printable runs against the byte-by-byte one, on random bytes
 * (printable runs, controls, tabs, DEL, valid and broken UTF-8, every byte
 * value) at every destination size, and a few fixed cases.
 */
#include <string.h>

#include "testutil.h"
#include "common.h"

extern int sl_text_simd;        /* common.c: 0 scans byte by byte (tests only) */

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n) { return tu_rnd(&rnd_state, n); }

/* Mostly printable runs of any length, with the bytes that end them. */
static size_t make_text(uint8_t *b, size_t cap)
{
	static const uint8_t odd[] = { 0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xbf, 0xc2, 0xe0, 0xff };
	static const char *const utf8[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x93\xa7", "\xc0\xaf", "\xed\xa0\x80",
					    "\xe2\x82", "\xf4\x90\x80\x80" };
	size_t n = 0, want = rnd((uint32_t)cap);
	while (n < want) {
		uint32_t r = rnd(10);
		if (r < 6) {
			size_t run = rnd(40);
			for (size_t k = 0; k < run && n < cap; k++)
				b[n++] = (uint8_t)(0x20 + rnd(0x5f));
		} else if (r < 8) {
			b[n++] = odd[rnd(sizeof(odd))];
		} else if (r < 9) {
			const char *u = utf8[rnd(sizeof(utf8) / sizeof(utf8[0]))];
			for (size_t k = 0; u[k] && n < cap; k++)
				b[n++] = (uint8_t)u[k];
		} else {
			b[n++] = (uint8_t)rnd(256);
		}
	}
	return n;
}

START_TEST(test_simd_equals_bytes)
{
	uint8_t src[512];
	char a[300], w[300];
	rnd_state = 0x3c6ef372fe94f82bULL;
	for (int round = 0; round < 100000; round++) {
		size_t n = make_text(src, sizeof(src));
		size_t dstlen = rnd(sizeof(a));
		memset(a, 'X', sizeof(a));
		memset(w, 'X', sizeof(w));
		sl_text_simd = 0;
		size_t want = sl_text_copy(w, dstlen, src, n);
		sl_text_simd = 1;
		size_t got = sl_text_copy(a, dstlen, src, n);
		ck_assert_msg(got == want, "round %d: %zu bytes, byte by byte %zu", round, got, want);
		ck_assert_msg(memcmp(a, w, sizeof(a)) == 0, "round %d: the copies differ", round);
	}
	sl_text_simd = 1;
}
END_TEST

START_TEST(test_fixed)
{
	char d[64];
	const char *ok = "250 2.0.0 Ok: queued as 4XyZ";
	ck_assert_uint_eq(sl_text_copy(d, sizeof(d), (const uint8_t *)ok, strlen(ok)), strlen(ok));
	ck_assert_str_eq(d, "250 2.0.0 Ok: queued as 4XyZ");
	/* a tab is a space, a control or DEL a '?', UTF-8 kept, broken UTF-8 a '?' */
	const uint8_t mixed[] = "a\tb\x01" "c\x7f" "d\xc3\xa9" "e\xc3" "f";
	ck_assert_uint_eq(sl_text_copy(d, sizeof(d), mixed, sizeof(mixed) - 1), 12);
	ck_assert_str_eq(d, "a b?c?d\xc3\xa9" "e?f");
	/* cut to the destination, NUL included; never half a UTF-8 sequence */
	const uint8_t longer[] = "0123456789abcdefghij\xe2\x82\xac";
	ck_assert_uint_eq(sl_text_copy(d, 18, longer, sizeof(longer) - 1), 17);
	ck_assert_str_eq(d, "0123456789abcdefg");
	ck_assert_uint_eq(sl_text_copy(d, 23, longer, sizeof(longer) - 1), 20);
	ck_assert_str_eq(d, "0123456789abcdefghij");
	ck_assert_uint_eq(sl_text_copy(d, 0, longer, sizeof(longer) - 1), 0);
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text_copy");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_simd_equals_bytes);
	tcase_add_test(t, test_fixed);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return tu_run(text_suite());
}
