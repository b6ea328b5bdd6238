/*
 * check_jsonr.c - the bounded JSON reader (common/jsonr.c) that reads
 * reproduce profiles: values and escapes, errors with their place, the caps,
 * and every prefix of a document refused cleanly (a cut file never crashes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonr.h"
#include "testutil.h"

static const char doc[] =
	"{\n"
	"  \"server\": {\"max_size\": 2000, \"starttls\": true, \"idle\": 1.25,\n"
	"             \"greeting\": null,\n"
	"             \"replies\": [{\"command\": \"MAIL\", \"code\": 552, \"text\": \"too \\\"big\\\"\"},\n"
	"                         {\"command\": \"QUIT\", \"code\": 221}]},\n"
	"  \"uni\": \"caf\\u00e9 \\ud83d\\ude00 tab\\there\"\n"
	"}\n";

START_TEST(test_values)
{
	struct jsonr j;
	char err[200];
	ck_assert_int_eq(jsonr_parse(&j, doc, strlen(doc), err, sizeof(err)), 0);
	int s = jsonr_get(&j, 0, "server");
	ck_assert(jsonr_is(&j, s, JR_OBJECT));
	uint64_t u = 0;
	ck_assert(jsonr_u64(&j, jsonr_get(&j, s, "max_size"), &u));
	ck_assert_uint_eq(u, 2000);
	bool b = false;
	ck_assert(jsonr_bool(&j, jsonr_get(&j, s, "starttls"), &b));
	ck_assert(b);
	double d = 0;
	ck_assert(jsonr_num(&j, jsonr_get(&j, s, "idle"), &d));
	ck_assert(d == 1.25);
	ck_assert(!jsonr_u64(&j, jsonr_get(&j, s, "idle"), &u));   /* not integral */
	ck_assert(jsonr_is(&j, jsonr_get(&j, s, "greeting"), JR_NULL));
	ck_assert_int_eq(jsonr_get(&j, s, "absent"), -1);
	int r = jsonr_get(&j, s, "replies");
	int first = jsonr_first(&j, r), second = jsonr_next(&j, first);
	ck_assert_str_eq(jsonr_str(&j, jsonr_get(&j, first, "text")), "too \"big\"");
	ck_assert_str_eq(jsonr_str(&j, jsonr_get(&j, second, "command")), "QUIT");
	ck_assert_int_eq(jsonr_next(&j, second), -1);
	ck_assert_str_eq(jsonr_str(&j, jsonr_get(&j, 0, "uni")), "caf\xc3\xa9 \xf0\x9f\x98\x80 tab\there");
	ck_assert_str_eq(jsonr_key(&j, s), "server");
	jsonr_free(&j);
}
END_TEST

static void expect_error(const char *text, const char *where)
{
	struct jsonr j;
	char err[200] = "";
	ck_assert_int_eq(jsonr_parse(&j, text, strlen(text), err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, where) != NULL, "'%s': error '%s' does not say '%s'", text, err, where);
	jsonr_free(&j);
}

START_TEST(test_errors)
{
	expect_error("{\"a\": 1,}", "line 1 col 9: expected a member name");
	expect_error("{\n\"a\" 1}", "line 2 col 5: expected ':'");
	expect_error("[1 2]", "expected ',' or ']'");
	expect_error("\"abc", "unterminated string");
	expect_error("\"a\\qb\"", "unknown escape");
	expect_error("\"\\ud83d\"", "lone high surrogate");
	expect_error("\"\\u0000\"", "not allowed");
	expect_error("\"a\nb\"", "control character");
	expect_error("01x", "bad number");
	expect_error("1e999", "bad number");
	expect_error("tru", "unexpected character");
	expect_error("{} {}", "text after the end");
	expect_error("", "expected a value");
}
END_TEST

START_TEST(test_caps)
{
	char deep[JSONR_MAX_DEPTH * 2 + 8];
	size_t n = 0;
	for (int i = 0; i < JSONR_MAX_DEPTH + 1; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSONR_MAX_DEPTH + 1; i++)
		deep[n++] = ']';
	deep[n] = 0;
	expect_error(deep, "JSONR_MAX_DEPTH");
	size_t big = JSONR_MAX_STRING + 10;
	char *s = malloc(big + 3);
	ck_assert_ptr_nonnull(s);
	s[0] = '"';
	memset(s + 1, 'a', big);
	s[big + 1] = '"';
	s[big + 2] = 0;
	expect_error(s, "JSONR_MAX_STRING");
	free(s);
	size_t nodes = JSONR_MAX_NODES + 1;
	char *arr = malloc(nodes * 2 + 4);
	ck_assert_ptr_nonnull(arr);
	n = 0;
	arr[n++] = '[';
	for (size_t i = 0; i < nodes; i++) {
		arr[n++] = '0';
		arr[n++] = ',';
	}
	arr[n - 1] = ']';
	arr[n] = 0;
	expect_error(arr, "JSONR_MAX_NODES");
	free(arr);
}
END_TEST

/* Every cut of the document is refused with a message, never a crash; the
 * cut bytes sit in their own allocation so an overread is caught. */
START_TEST(test_every_prefix)
{
	size_t len = strlen(doc);
	for (size_t k = 0; k < len; k++) {
		char *p = malloc(k ? k : 1);
		ck_assert_ptr_nonnull(p);
		memcpy(p, doc, k);
		struct jsonr j;
		char err[200] = "";
		int rc = jsonr_parse(&j, p, k, err, sizeof(err));
		/* a prefix ending right after the closing brace but before the
		 * final newline is the only complete one */
		if (k == len - 1)
			ck_assert_int_eq(rc, 0);
		else
			ck_assert_msg(rc == -1 && err[0], "prefix %zu accepted", k);
		jsonr_free(&j);
		free(p);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jsonr");
	TCase *tc = tcase_create("Core");
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_every_prefix);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
