/*
 * check_filter.c - address blocks and time arguments (filter.c).
 */
#include <check.h>
#include <stdlib.h>

#include "filter.h"

static bool in(const char *block, const char *addr)
{
	struct sl_cidr c;
	struct sl_addr a;
	ck_assert_msg(sl_cidr_parse(block, &c), "parse %s", block);
	ck_assert_msg(sl_addr_parse(addr, &a), "parse %s", addr);
	return sl_cidr_match(&c, &a);
}

START_TEST(test_cidr)
{
	ck_assert(in("192.0.2.7", "192.0.2.7"));
	ck_assert(!in("192.0.2.7", "192.0.2.8"));
	ck_assert(in("192.0.2.0/24", "192.0.2.255"));
	ck_assert(!in("192.0.2.0/24", "192.0.3.0"));
	ck_assert(in("192.0.2.7/24", "192.0.2.200"));      /* host bits ignored */
	ck_assert(in("198.51.100.0/25", "198.51.100.127"));
	ck_assert(!in("198.51.100.0/25", "198.51.100.128"));
	ck_assert(in("0.0.0.0/0", "203.0.113.9"));
	ck_assert(!in("0.0.0.0/0", "2001:db8::1"));         /* families differ */
	ck_assert(in("2001:db8::/32", "2001:db8:ffff::1"));
	ck_assert(!in("2001:db8::/32", "2001:db9::1"));
	ck_assert(in("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!in("2001:db8::/33", "2001:db8:8000::1"));
	struct sl_cidr c;
	ck_assert(!sl_cidr_parse("192.0.2.0/33", &c));
	ck_assert(!sl_cidr_parse("192.0.2.0/", &c));
	ck_assert(!sl_cidr_parse("192.0.2.0/-1", &c));
	ck_assert(!sl_cidr_parse("192.0.2.0/2x", &c));
	ck_assert(!sl_cidr_parse("2001:db8::/129", &c));
	ck_assert(!sl_cidr_parse("mail.example", &c));
	ck_assert(!sl_cidr_parse("", &c));
}
END_TEST

START_TEST(test_time)
{
	sl_time t;
	ck_assert(time_parse("1700000000", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC);
	ck_assert(time_parse("1700000000.25", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC + 250 * NS_PER_MS);
	ck_assert(time_parse("2023-11-14T22:13:20Z", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC);
	ck_assert(time_parse("2023-11-14 22:13:20", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC);
	ck_assert(time_parse("2023-11-14T23:13:20+01:00", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC);
	ck_assert(time_parse("2023-11-14T21:13:20.5-0100", &t));
	ck_assert_int_eq(t, 1700000000LL * NS_PER_SEC + 500 * NS_PER_MS);
	ck_assert(time_parse("2023-11-14T22:13", &t));
	ck_assert_int_eq(t, (1700000000LL - 20) * NS_PER_SEC);
	ck_assert(time_parse("2024-02-29", &t));           /* leap day, midnight UTC */
	ck_assert_int_eq(t, 1709164800LL * NS_PER_SEC);
	ck_assert(!time_parse("2023-13-01", &t));
	ck_assert(!time_parse("2023-11-14T25:00", &t));
	ck_assert(!time_parse("yesterday", &t));
	ck_assert(!time_parse("-5", &t));
	ck_assert(!time_parse("17e8", &t));
	ck_assert(!time_parse("", &t));
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(filter_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
