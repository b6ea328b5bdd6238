/*
 * check_diag_fmt.c - the formatters that stand in for printf on the report
 * path write what printf wrote, byte for byte: diag_vfmt() against
 * vsnprintf (every format shape the rules use, and others that must fall
 * back, truncated at every size), diag_dur() against its old snprintf
 * forms (boundaries, decimal ties, random durations), and sl_addr_str()'s
 * IPv4 path against inet_ntop (every octet value, short buffers).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"
#include "testutil.h"

/* Both formatters on the same arguments, for every buffer size from 1 to
 * past the full length; the buffers start filled with different junk so a
 * byte left unwritten by one shows. */
static void both(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void both(const char *fmt, ...)
{
	char want[512], got[512];
	va_list ap;
	va_start(ap, fmt);
	int full = vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	ck_assert_int_ge(full, 0);
	ck_assert_int_lt(full, (int)sizeof(want) - 4);
	for (size_t cap = 1; cap <= (size_t)full + 3; cap++) {
		memset(want, 'W', sizeof(want));
		memset(got, 'G', sizeof(got));
		va_start(ap, fmt);
		vsnprintf(want, cap, fmt, ap);
		va_end(ap);
		va_start(ap, fmt);
		diag_vfmt(got, cap, fmt, ap);
		va_end(ap);
		size_t n = strnlen(want, cap) + 1;
		ck_assert_msg(!memcmp(want, got, n) && got[n] == 'G', "format \"%s\" cap %zu: \"%s\" != \"%s\"", fmt, cap,
			      want, got);
	}
}

START_TEST(test_vfmt_as_vsnprintf)
{
	const char *nul = "a\0b";
	both("plain text, no conversion");
	both("%s", "");
	both("100%% sure, %s", "yes");
	both("The server answered %s with %u%s%s: %s.", "MAIL FROM", 550u, " ", "5.7.1", "refused");
	both(" Its text: \"%.200s\".", "x y z");
	both("%.3s|%.0s|%.10s|%s", "abcdef", "gone", "ab", "");
	both("%.*s|%.*s|%.*s", 2, "abcdef", 0, "xyz", -1, "whole");
	both("%u %u %u", 0u, 4294967295u, 7u);
	both("%d %d %d %i", 0, -1, -2147483647 - 1, 2147483647);
	both("%" PRIu64 " %" PRId64 " %" PRId64, UINT64_MAX, INT64_MIN, (int64_t)-42);
	both("%lu %ld %llu %lld %zu", 1ul, -2l, 3ull, -4ll, (size_t)5);
	both("%c%c%c", 'a', '%', 0xe9);
	both("%s", nul);
	both("\xc2\xb5s and %s", "\xe2\x82\xac");
	/* shapes diag_vfmt leaves to vsnprintf */
	both("%5u|%-4s|%05d", 7u, "ab", -3);
	both("%x %X %o %#x", 255u, 255u, 8u, 16u);
	both("%.1f s", 12.35);
	both("%.2f %e %g", 2.5, 1e10, 0.5);
	const char *volatile none = NULL;
	both("%s and %s", "not null", none);
	both("%.3u %+d % d %hu", 5u, 3, 4, (unsigned short)9);
	both("%p", (void *)0);
}
END_TEST

/* diag_dur as it was written with snprintf. */
static const char *dur_ref(sl_time ns, char *buf, size_t len)
{
	if (ns < 0)
		ns = 0;
	if (ns >= 10 * NS_PER_SEC)
		snprintf(buf, len, "%.1f s", (double)ns / NS_PER_SEC);
	else if (ns >= NS_PER_SEC)
		snprintf(buf, len, "%.2f s", (double)ns / NS_PER_SEC);
	else if (ns >= 10 * NS_PER_MS)
		snprintf(buf, len, "%.0f ms", (double)ns / NS_PER_MS);
	else if (ns >= NS_PER_MS)
		snprintf(buf, len, "%.1f ms", (double)ns / NS_PER_MS);
	else if (ns >= NS_PER_USEC)
		snprintf(buf, len, "%.0f \u00b5s", (double)ns / NS_PER_USEC);
	else
		snprintf(buf, len, "under 1 \u00b5s");
	return buf;
}

static void dur_same(sl_time ns)
{
	char want[64], got[64];
	dur_ref(ns, want, sizeof(want));
	diag_dur(ns, got, sizeof(got));
	ck_assert_msg(!strcmp(want, got), "%" PRId64 " ns: \"%s\" != \"%s\"", (int64_t)ns, want, got);
}

START_TEST(test_dur_as_printf)
{
	/* every unit's edges, and the halves where printf's rounding of the
	 * binary value decides (12.35 s is 12.3499... as a double: "12.3") */
	static const sl_time scale[] = { 1, 1000, 1000000, 1000000000, 10000000000 };
	for (size_t s = 0; s < SL_ARRAY_LEN(scale); s++)
		for (sl_time k = -3; k <= 3000; k++) {
			dur_same(scale[s] * 10 + k);
			dur_same(scale[s] + k);
			dur_same(scale[s] * k);
			dur_same(scale[s] * k + scale[s] / 2);
			dur_same(scale[s] * k + scale[s] / 20);
			dur_same(scale[s] * k + scale[s] / 200);
			dur_same(scale[s] * k + scale[s] / 200 - 1);
		}
	dur_same(12350000000);
	dur_same(2500000);
	dur_same(10500000);
	dur_same(INT64_MAX);
	dur_same(-5);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 300000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int bits = 1 + (int)(x % 50);               /* up to ~13 days */
		dur_same((sl_time)(x >> (64 - bits)));
	}
	/* a short buffer truncates as snprintf did */
	for (size_t len = 1; len < 12; len++) {
		char want[16], got[16];
		dur_ref(12345678901, want, len);
		diag_dur(12345678901, got, len);
		ck_assert_str_eq(want, got);
		dur_ref(500, want, len);
		diag_dur(500, got, len);
		ck_assert_str_eq(want, got);
	}
}
END_TEST

START_TEST(test_addr4_as_inet_ntop)
{
	struct sl_addr a = { .v = 4 };
	for (int pos = 0; pos < 4; pos++)
		for (int v = 0; v < 256; v++) {
			memset(a.a, pos == 0 ? 7 : 200, 4);
			a.a[pos] = (uint8_t)v;
			for (size_t len = 1; len <= 18; len++) {
				char want[SL_ADDRSTRLEN], got[SL_ADDRSTRLEN];
				if (!inet_ntop(AF_INET, a.a, want, (socklen_t)len))
					snprintf(want, len, "?");
				sl_addr_str(&a, got, len);
				ck_assert_msg(!strcmp(want, got), "%s != %s (len %zu)", want, got, len);
			}
		}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("diag_fmt");
	TCase *tc = tcase_create("printf");
	tcase_add_test(tc, test_vfmt_as_vsnprintf);
	tcase_add_test(tc, test_dur_as_printf);
	tcase_add_test(tc, test_addr4_as_inet_ntop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
