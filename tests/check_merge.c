/*
 * check_merge.c - several capture files read as one (merge.c): records in
 * time order whatever the order of the names, equal times in file order
 * (files numbered by first timestamp, then name), frame numbers per file,
 * a damaged file reported with its number while the others go on, and a
 * BPF filter that keeps the file's frame numbers.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge.h"
#include "pkt.h"
#include "testutil.h"
#include "tu_pkt.h"

#define T0 (1700000000LL * NS_PER_SEC)

static uint8_t frame_buf[16][256];

static char *tmp(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tu_tmpdir(), name);
	return p[k];
}

/* A file of n records at the given times (ns after T0), port dport. */
static void write_file(const char *path, const int64_t *at, size_t n, uint16_t dport)
{
	struct tu_rec recs[16];
	for (size_t i = 0; i < n; i++) {
		struct tu_seg s = { .src = "192.0.2.1", .dst = "198.51.100.2", .sport = 1025, .dport = dport,
				    .seq = 100u + (uint32_t)i, .flags = TH_ACK };
		recs[i].caplen = (uint32_t)tu_frame(frame_buf[i], sizeof(frame_buf[i]), DLT_EN10MB, &s);
		recs[i].data = frame_buf[i];
		recs[i].wirelen = 0;
		recs[i].ts_ns = T0 + at[i];
		recs[i].iface = 0;
	}
	ck_assert_int_eq(tu_pcap_write(path, DLT_EN10MB, 1, 65535, recs, n), 0);
}

struct seen {
	uint32_t file[32];
	uint64_t no[32];
	sl_time ts[32];
	size_t n;
	int errors;
	int err_file;
};

static void on_err(void *ctx, int file, sl_time last_ts, const char *msg)
{
	struct seen *s = ctx;
	(void)last_ts;
	(void)msg;
	s->errors++;
	s->err_file = file;
}

static void read_merged(char **paths, size_t n, const char *bpf, struct seen *out)
{
	char err[256];
	memset(out, 0, sizeof(*out));
	struct merge *m = merge_open(paths, n, bpf, on_err, out, err, sizeof(err));
	ck_assert_msg(m != NULL, "%s", err);
	struct raw_packet r;
	while (merge_next(m, &r) > 0 && out->n < 32) {
		out->file[out->n] = frame_file(r.frame);
		out->no[out->n] = frame_no(r.frame);
		out->ts[out->n] = r.ts;
		out->n++;
	}
	merge_close(m);
}

START_TEST(test_order_and_ties)
{
	/* b starts first; a and c tie with b at +20 and with each other at +30 */
	static const int64_t ta[] = { 10, 20, 30 }, tb[] = { 5, 20, 40 }, tc[] = { 30, 50 };
	char *a = strdup(tmp("a.pcap")), *b = strdup(tmp("b.pcap")), *c = strdup(tmp("c.pcap"));
	write_file(a, ta, 3, 25);
	write_file(b, tb, 3, 25);
	write_file(c, tc, 2, 25);
	char *orders[][3] = { { a, b, c }, { c, b, a }, { b, c, a } };
	struct seen first;
	for (size_t k = 0; k < 3; k++) {
		struct seen s;
		read_merged(orders[k], 3, NULL, &s);
		ck_assert_uint_eq(s.n, 8);
		ck_assert_int_eq(s.errors, 0);
		for (size_t i = 1; i < s.n; i++) {
			ck_assert_int_le(s.ts[i - 1], s.ts[i]);
			if (s.ts[i - 1] == s.ts[i])
				ck_assert_uint_lt(s.file[i - 1], s.file[i]);   /* ties in file order */
		}
		if (k == 0)
			first = s;
		else
			ck_assert_mem_eq(&s, &first, sizeof(s));        /* any order of names */
	}
	/* numbering: b (first at +5) is 0, a (+10) is 1, c (+30) is 2 */
	ck_assert_uint_eq(first.file[0], 0);
	ck_assert_uint_eq(first.no[0], 1);
	ck_assert_uint_eq(first.file[1], 1);
	ck_assert_uint_eq(first.ts[2], T0 + 20);
	ck_assert_uint_eq(first.file[2], 0);    /* b's +20 before a's +20 */
	ck_assert_uint_eq(first.no[2], 2);
	ck_assert_uint_eq(first.file[3], 1);
	ck_assert_uint_eq(first.no[3], 2);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_same_first_time_by_name)
{
	static const int64_t t[] = { 10, 20 };
	char *x = strdup(tmp("x.pcap")), *y = strdup(tmp("y.pcap"));
	write_file(y, t, 2, 25);
	write_file(x, t, 2, 25);
	char *p[] = { y, x };
	char err[256];
	struct seen s;
	struct merge *m = merge_open(p, 2, NULL, on_err, &s, err, sizeof(err));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(merge_file_name(m, 0), "x.pcap"));
	ck_assert_ptr_nonnull(strstr(merge_file_name(m, 1), "y.pcap"));
	merge_close(m);
	free(x);
	free(y);
}
END_TEST

START_TEST(test_damaged_file_goes_on)
{
	static const int64_t ta[] = { 10, 20, 30 }, tb[] = { 15, 25, 35 };
	char *a = strdup(tmp("d1.pcap")), *b = strdup(tmp("d2.pcap"));
	write_file(a, ta, 3, 25);
	write_file(b, tb, 3, 25);
	FILE *f = fopen(b, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	ck_assert_int_eq(truncate(b, size - 10), 0);    /* cut inside b's last record */
	char *p[] = { b, a };
	struct seen s;
	read_merged(p, 2, NULL, &s);
	ck_assert_int_eq(s.errors, 1);
	ck_assert_int_eq(s.err_file, 1);        /* b is file 1 (a starts first) */
	ck_assert_uint_eq(s.n, 5);              /* a's 3 and b's first 2 */
	free(a);
	free(b);
}
END_TEST

START_TEST(test_filter_keeps_frame_numbers)
{
	static const int64_t t[] = { 10, 20, 30, 40 };
	char *a = strdup(tmp("f.pcap"));
	struct tu_rec recs[4];
	for (size_t i = 0; i < 4; i++) {
		struct tu_seg s = { .src = "192.0.2.1", .dst = "198.51.100.2", .sport = 1025,
				    .dport = i % 2 ? 587 : 25, .seq = 1, .flags = TH_ACK };
		recs[i].caplen = (uint32_t)tu_frame(frame_buf[i], sizeof(frame_buf[i]), DLT_EN10MB, &s);
		recs[i].data = frame_buf[i];
		recs[i].wirelen = 0;
		recs[i].ts_ns = T0 + t[i];
		recs[i].iface = 0;
	}
	ck_assert_int_eq(tu_pcap_write(a, DLT_EN10MB, 1, 65535, recs, 4), 0);
	char *p[] = { a };
	struct seen s;
	read_merged(p, 1, "tcp port 587", &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.no[0], 2);
	ck_assert_uint_eq(s.no[1], 4);
	free(a);
}
END_TEST

static Suite *merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_order_and_ties);
	tcase_add_test(tc, test_same_first_time_by_name);
	tcase_add_test(tc, test_damaged_file_goes_on);
	tcase_add_test(tc, test_filter_keeps_frame_numbers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(merge_suite());
}
