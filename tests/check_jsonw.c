/*
 * check_jsonw.c - the JSON reporters' output buffer (analyzer/report/jsonw.h):
 * what goes through a small buffer comes out byte for byte as through a
 * large one (strings longer than the buffer, escapes and UTF-8 sequences cut
 * by a flush, numbers, times, printf pieces larger than the buffer), the
 * escaping itself against fixed expected text, and write errors on a full
 * device reported through the FILE as before (ferror) and through jw.err;
 * and the text report's pieces (padding, times, relative times, frame
 * numbers) against the printf forms they replace.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "report.h"
#include "report_int.h"
#include "testutil.h"
#include "tu_dialog.h"

/* What one writer does, run through a buffer of cap bytes; returns the bytes
 * that reached the FILE (malloc'd, *len set). */
typedef void (*writer_fn)(struct jw *w, int variant);

static char *run(writer_fn fn, int variant, size_t cap, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);
	ck_assert_ptr_nonnull(f);
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	struct jw w;
	jw_init(&w, f, buf, cap);
	fn(&w, variant);
	ck_assert(jw_flush(&w));
	ck_assert_uint_eq(w.len, 0);
	ck_assert(!w.err);
	ck_assert_int_eq(fclose(f), 0);
	free(buf);
	return out;
}

/* A text of escapes, multi-byte UTF-8, invalid bytes and plain runs. */
static const char mixed[] = "plain \"q\" back\\slash\r\n\ttab \x01\x1f\x7f <&> caf\xc3\xa9 \xe2\x82\xac "
			    "\xf0\x9f\x98\x80 \xe2\x80\xa8 bad:\xff\xc3(\xe0\x80\xaf end";

static void w_mixed(struct jw *w, int variant)
{
	/* a prefix of `variant` bytes moves every piece across the flush points */
	for (int i = 0; i < variant; i++)
		jw_putc(w, (char)('a' + i % 26));
	jw_string(w, mixed, sizeof(mixed) - 1, false);
	jw_putc(w, ',');
	jw_string(w, mixed, sizeof(mixed) - 1, true);
	jw_lit(w, ",\"n\":");
	jw_u64(w, 18446744073709551615ull);
	jw_putc(w, ',');
	jw_u64(w, 0);
	jw_putc(w, ',');
	jw_i64(w, INT64_MIN);
	jw_putc(w, ',');
	jw_sec6(w, 1764000000123456000ll);
	jw_putc(w, ',');
	jw_sec6(w, 1764000000123456789ll);     /* nanoseconds: printf's way */
	jw_putc(w, ',');
	jw_time(w, (sl_time)1764000000123456000ll);
	jw_time(w, (sl_time)1764000001000001000ll);
	jw_printf(w, "[%d:%s]", 42, "printf");
	jw_bool(w, true);
	jw_bool(w, false);
}

START_TEST(test_small_buffer_same_bytes)
{
	for (int variant = 0; variant < 40; variant++) {
		size_t big_len;
		char *big = run(w_mixed, variant, 1 << 16, &big_len);
		for (size_t cap = 16; cap <= 80; cap++) {
			size_t len;
			char *got = run(w_mixed, variant, cap, &len);
			ck_assert_msg(len == big_len && !memcmp(got, big, len), "cap %zu prefix %d: %.*s", cap, variant,
				      (int)len, got);
			free(got);
		}
		free(big);
	}
}
END_TEST

START_TEST(test_escapes_known)
{
	size_t len;
	char *got = run(w_mixed, 0, 16, &len);
	const char *want =
		"\"plain \\\"q\\\" back\\\\slash\\r\\n\\ttab \\u0001\\u001f\\u007f <&> caf\xc3\xa9 \xe2\x82\xac "
		"\xf0\x9f\x98\x80 \xe2\x80\xa8 bad:\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd end\","
		"\"plain \\\"q\\\" back\\\\slash\\r\\n\\ttab \\u0001\\u001f\\u007f \\u003c\\u0026\\u003e caf\xc3\xa9 "
		"\xe2\x82\xac \xf0\x9f\x98\x80 \\u2028 bad:\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd end\","
		"\"n\":18446744073709551615,0,-9223372036854775808,1764000000.123456,1764000000.123457,"
		"\"2025-11-24T16:00:00.123456Z\"\"2025-11-24T16:00:01.000001Z\"[42:printf]truefalse";
	ck_assert_msg(len == strlen(want) && !memcmp(got, want, len), "got  %.*s\nwant %s", (int)len, got, want);
	free(got);
}
END_TEST

/* Every byte value at every place of a plain run: the run scanner (eight
 * bytes at a time for JSON) must stop at each byte that needs escaping. */
static void esc_ref(unsigned c, bool html, char *out)
{
	if (c == '"' || c == '\\')
		sprintf(out, "\\%c", c);
	else if (c == '\n')
		strcpy(out, "\\n");
	else if (c == '\r')
		strcpy(out, "\\r");
	else if (c == '\t')
		strcpy(out, "\\t");
	else if (c < 0x20 || c == 0x7f || (html && (c == '<' || c == '>' || c == '&')))
		sprintf(out, "\\u%04x", c);
	else if (c >= 0x80)
		strcpy(out, "\\ufffd");      /* a lone byte: not UTF-8 */
	else
		sprintf(out, "%c", c);
}

START_TEST(test_every_byte_every_place)
{
	/* read straight from the buffer (no flush happens: it is large) */
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
	char buf[256], str[48];
	for (int html = 0; html < 2; html++)
		for (unsigned c = 0; c < 256; c++)
			for (size_t len = 1; len <= 40; len++)
				for (size_t pos = 0; pos < len; pos++) {
					memset(str, 'k', sizeof(str));
					str[pos] = (char)c;
					char want[64], e[8];
					esc_ref(c, html, e);
					snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)pos, str, e, (int)(len - pos - 1),
						 str + pos + 1);
					struct jw w;
					jw_init(&w, devnull, buf, sizeof(buf));
					jw_string(&w, str, len, html);
					ck_assert_msg(w.len == strlen(want) && !memcmp(w.b, want, w.len),
						      "byte %02x at %zu of %zu: %.*s", c, pos, len, (int)w.len, w.b);
				}
	fclose(devnull);
}
END_TEST

/* One string and one printf piece far longer than the buffer. */
static void w_long(struct jw *w, int variant)
{
	static char s[5001];    /* 5000 bytes and a NUL, for the %s below */
	for (size_t i = 0; i < sizeof(s) - 1; i++)
		s[i] = i % 97 == 0 ? '"' : i % 89 == 0 ? '\n' : (char)('A' + i % 26);
	jw_lit(w, "x");
	jw_string(w, s, sizeof(s) - 1 - (size_t)variant, false);
	jw_printf(w, "%0300d|%s", 7, variant ? "" : s + 4000);
	jw_mem(w, s, 1000);
}

START_TEST(test_longer_than_buffer)
{
	for (int variant = 0; variant < 3; variant++) {
		size_t big_len, len;
		char *big = run(w_long, variant, 1 << 16, &big_len);
		char *got = run(w_long, variant, 64, &len);
		ck_assert_uint_gt(big_len, 6000);
		ck_assert(len == big_len && !memcmp(got, big, len));
		/* the escapes are where they should be */
		ck_assert(!memcmp(got, "x\"\\\"BCD", 7));
		free(big);
		free(got);
	}
}
END_TEST

/* The text report's pieces against the printf forms they replace. */
START_TEST(test_text_helpers_as_printf)
{
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
	char buf[256], want[256], got[64], ref[64];
	struct jw w;
	static const char *const words[] = { "", "a", "#12", "#1234567", "#12345678", "#123456789", "file.pcap:77" };
	for (size_t i = 0; i < SL_ARRAY_LEN(words); i++)
		for (size_t width = 0; width < 14; width++) {
			jw_init(&w, devnull, buf, sizeof(buf));
			jw_pad(&w, words[i], strlen(words[i]), width, true);
			jw_putc(&w, '|');
			jw_pad(&w, words[i], strlen(words[i]), width, false);
			snprintf(want, sizeof(want), "%-*s|%*s", (int)width, words[i], (int)width, words[i]);
			ck_assert_msg(w.len == strlen(want) && !memcmp(w.b, want, w.len), "\"%s\" %zu", words[i], width);
		}
	static const sl_time times[] = { 0, 1, 999, 1000, 1764000000123456000ll, 1764000000999999999ll, -1, -1000001,
					 253402300799000000ll, 253402300800000000ll, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < SL_ARRAY_LEN(times); i++) {
		jw_init(&w, devnull, buf, sizeof(buf));
		jw_time_text(&w, times[i], false);
		sl_time_str(times[i], want, sizeof(want));
		ck_assert_msg(w.len == strlen(want) && !memcmp(w.b, want, w.len), "%s", want);
	}
	/* relative times: "%s%" PRId64 ".%03" PRId64 "s" of the difference */
	static const sl_time rel[] = { 0, 1, 999999, 1000000, 1234567890, -1, -1000000, -987654321012ll, INT64_MAX,
				       INT64_MIN + 1 };
	for (size_t i = 0; i < SL_ARRAY_LEN(rel); i++)
		for (size_t len = 1; len < 24; len++) {
			sl_time d = rel[i] < 0 ? -rel[i] : rel[i];
			snprintf(ref, len, "%s%" PRId64 ".%03" PRId64 "s", rel[i] < 0 ? "-" : "+", (int64_t)(d / NS_PER_SEC),
				 (int64_t)((d % NS_PER_SEC) / NS_PER_MS));
			memset(got, 'G', sizeof(got));
			report_rel_time(rel[i], 0, got, len);
			ck_assert_msg(!strcmp(ref, got), "%s != %s", ref, got);
		}
	struct reporter r;
	memset(&r, 0, sizeof(r));
	static const uint64_t frames[] = { 0, 1, 9, 10, 123456789, UINT64_MAX >> 16 };
	for (size_t i = 0; i < SL_ARRAY_LEN(frames); i++)
		for (size_t len = 1; len < 24; len++) {
			snprintf(ref, len, "#%" PRIu64, frame_no(frames[i]));
			memset(got, 'G', sizeof(got));
			report_frame_str(&r, frames[i], got, len);
			ck_assert_msg(!strcmp(ref, got), "%s != %s", ref, got);
		}
	fclose(devnull);
}
END_TEST

/* A full device: the FILE's error indicator is set, as it was when the
 * reporters wrote to the FILE directly, and jw.err says so too. */
START_TEST(test_full_device)
{
	FILE *f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	char buf[64];
	struct jw w;
	jw_init(&w, f, buf, sizeof(buf));
	for (int i = 0; i < 2000; i++)
		jw_string(&w, mixed, sizeof(mixed) - 1, false);
	jw_flush(&w);
	ck_assert(w.err);
	ck_assert(!jw_flush(&w));
	ck_assert(ferror(f));
	fclose(f);
}
END_TEST

/* The same through the reporter: a session record to /dev/full leaves the
 * FILE in error, which the commands check before they exit. */
START_TEST(test_reporter_full_device)
{
	struct dl t;
	dl_init(&t);
	dl_handshake(&t);
	dl_greet(&t, 220, "", "mx.example.net ESMTP");
	dl_cmd(&t, "QUIT");
	dl_reply(&t, 221, "2.0.0", "Bye");
	dl_fin(&t, DIR_S2C);
	dl_fin(&t, DIR_C2S);
	dl_run(&t);
	ck_assert_uint_eq(t.sessions, 1);
	for (int ecs = 0; ecs < 2; ecs++) {
		FILE *f = fopen("/dev/full", "w");
		ck_assert_ptr_nonnull(f);
		struct report_opts o = { .json = true, .json_format = ecs ? JSON_ECS : JSON_NATIVE, .out = f };
		struct reporter *r = reporter_new(&o);
		ck_assert_ptr_nonnull(r);
		reporter_session(r, &t.view, &t.v);
		ck_assert_msg(ferror(f), "format %d", ecs);
		reporter_free(r);
		fclose(f);
	}
	dl_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc = tcase_create("buffer");
	tcase_add_test(tc, test_small_buffer_same_bytes);
	tcase_add_test(tc, test_escapes_known);
	tcase_add_test(tc, test_every_byte_every_place);
	tcase_add_test(tc, test_longer_than_buffer);
	tcase_add_test(tc, test_text_helpers_as_printf);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_full_device);
	tcase_add_test(tc, test_reporter_full_device);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
