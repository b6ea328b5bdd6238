/*
 * check_community_id.c - Community ID v1 against the specification's
 * published vectors (corelight/community-id-spec, baseline/baseline_deflt.json
 * and baseline/baseline_seed1.json, TCP rows; and Zeek's community_id_v1 test
 * for 1.2.3.4:1122 -> 5.6.7.8:3344), in both directions.
 */
#include <string.h>

#include "community_id.h"
#include "testutil.h"

struct vec {
	const char *saddr, *daddr;
	uint16_t sport, dport;
	uint16_t seed;
	const char *want;
};

static const struct vec vectors[] = {
	/* baseline_deflt.json (seed 0) */
	{ "128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
	  "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	/* baseline_seed1.json (seed 1) */
	{ "128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 1,
	  "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	/* Zeek's community_id_v1 test, seed 0 */
	{ "1.2.3.4", "5.6.7.8", 1122, 3344, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
};

START_TEST(test_published_vectors)
{
	const struct vec *v = &vectors[_i];
	struct sl_addr s, d;
	char out[COMMUNITY_ID_STRLEN];
	ck_assert(sl_addr_parse(v->saddr, &s));
	ck_assert(sl_addr_parse(v->daddr, &d));
	ck_assert(community_id_v1(v->seed, COMMUNITY_ID_PROTO_TCP, &s, v->sport, &d, v->dport, out, sizeof(out)));
	ck_assert_str_eq(out, v->want);
	/* the other direction gives the same value */
	ck_assert(community_id_v1(v->seed, COMMUNITY_ID_PROTO_TCP, &d, v->dport, &s, v->sport, out, sizeof(out)));
	ck_assert_str_eq(out, v->want);
}
END_TEST

START_TEST(test_same_address_orders_by_port)
{
	/* Equal addresses: the smaller port goes first, whichever side it is. */
	struct sl_addr a;
	char x[COMMUNITY_ID_STRLEN], y[COMMUNITY_ID_STRLEN], z[COMMUNITY_ID_STRLEN];
	ck_assert(sl_addr_parse("127.0.0.1", &a));
	ck_assert(community_id_v1(0, 6, &a, 40000, &a, 25, x, sizeof(x)));
	ck_assert(community_id_v1(0, 6, &a, 25, &a, 40000, y, sizeof(y)));
	ck_assert_str_eq(x, y);
	ck_assert(community_id_v1(0, 6, &a, 40001, &a, 25, z, sizeof(z)));
	ck_assert_str_ne(x, z);
}
END_TEST

START_TEST(test_refuses_mixed_families_and_short_buffers)
{
	struct sl_addr a4, a6;
	char out[COMMUNITY_ID_STRLEN];
	ck_assert(sl_addr_parse("192.0.2.1", &a4));
	ck_assert(sl_addr_parse("2001:db8::1", &a6));
	ck_assert(!community_id_v1(0, 6, &a4, 1, &a6, 2, out, sizeof(out)));
	ck_assert_str_eq(out, "");
	char small[8] = "xxxxxxx";
	ck_assert(!community_id_v1(0, 6, &a4, 1, &a4, 2, small, sizeof(small)));
	ck_assert_str_eq(small, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("community_id");
	TCase *tc = tcase_create("spec");
	tcase_add_loop_test(tc, test_published_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(tc, test_same_address_orders_by_port);
	tcase_add_test(tc, test_refuses_mixed_families_and_short_buffers);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
