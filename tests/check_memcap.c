/*
 * check_memcap.c - the memory accountant (common/memcap.c) and the state it
 * bounds: reserve and release add up, a reservation that does not fit is
 * refused whole and counted, the eviction marks, and a timeline whose
 * storage is reserved (it stops keeping events, and says so, when refused).
 */
#include <string.h>

#include "memcap.h"
#include "testutil.h"
#include "timeline.h"

START_TEST(test_reserve_release)
{
	struct memcap m;
	memcap_init(&m, 1000);
	ck_assert(memcap_reserve(&m, 600));
	ck_assert(memcap_reserve(&m, 400));
	ck_assert_uint_eq(m.used, 1000);
	ck_assert(!memcap_reserve(&m, 1));          /* full: refused, nothing counted */
	ck_assert_uint_eq(m.used, 1000);
	ck_assert_uint_eq(m.denied, 1);
	memcap_release(&m, 600);
	ck_assert_uint_eq(m.used, 400);
	ck_assert_uint_eq(m.peak, 1000);
	ck_assert(!memcap_reserve(&m, (size_t)-1)); /* no wrap-around */
	ck_assert_uint_eq(m.used, 400);
	/* no cap: counted only; NULL: accepts everything */
	memcap_init(&m, 0);
	ck_assert(memcap_reserve(&m, (size_t)1 << 40));
	ck_assert(memcap_reserve(NULL, 123));
	memcap_release(NULL, 123);
}
END_TEST

START_TEST(test_marks)
{
	struct memcap m;
	memcap_init(&m, 1600);
	ck_assert(memcap_reserve(&m, 1400));        /* exactly 7/8: not yet */
	ck_assert(!memcap_pressure(&m));
	ck_assert(memcap_reserve(&m, 1));
	ck_assert(memcap_pressure(&m));
	ck_assert(!memcap_relieved(&m));
	memcap_release(&m, 1401 - 1300);            /* 13/16 */
	ck_assert(memcap_relieved(&m));
	memcap_init(&m, 0);
	ck_assert(!memcap_pressure(&m));
}
END_TEST

START_TEST(test_timeline_reserved)
{
	struct memcap m;
	struct timeline tl;
	memcap_init(&m, 10 * sizeof(struct event));
	tl_init(&tl);
	tl.mem = &m;
	for (int i = 0; i < 8; i++)
		ck_assert_ptr_nonnull(tl_add(&tl, EV_NOTE, DIR_C2S, i, (uint64_t)i + 1, "x", 1));
	ck_assert_uint_eq(m.used, (uint64_t)tl.cap * sizeof(struct event));
	/* growing to 16 does not fit: the event is counted, not kept */
	ck_assert_ptr_null(tl_add(&tl, EV_NOTE, DIR_C2S, 9, 9, "y", 1));
	ck_assert(tl.oom);
	ck_assert_uint_eq(tl.total, 9);
	ck_assert_uint_eq(tl_count(&tl), 8);
	tl_free(&tl);
	ck_assert_uint_eq(m.used, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memcap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_reserve_release);
	tcase_add_test(tc, test_marks);
	tcase_add_test(tc, test_timeline_reserved);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
