/*
 * check_source.c - capture files: pcap (micro and nano), pcapng, several
 * files in a row, stdin, truncated and corrupt files, mixed link types.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkt.h"
#include "source.h"
#include "testutil.h"
#include "tu_pkt.h"

#define NREC 5

static uint8_t frames[NREC][256];
static struct tu_rec recs[NREC];

static void make_recs(int dlt)
{
	for (int i = 0; i < NREC; i++) {
		char msg[32];
		int ml = snprintf(msg, sizeof(msg), "line %d\r\n", i);
		struct tu_seg s = { .src = "10.0.0.1", .dst = "10.0.0.2", .sport = 1025, .dport = 25,
				    .seq = 100u + (uint32_t)i * 8, .flags = TH_ACK, .payload = msg,
				    .len = (size_t)ml };
		recs[i].caplen = (uint32_t)tu_frame(frames[i], sizeof(frames[i]), dlt, &s);
		recs[i].data = frames[i];
		recs[i].wirelen = 0;
		recs[i].ts_ns = 1700000000LL * NS_PER_SEC + i * 1000 + 123456789LL;
		recs[i].iface = 0;
	}
}

static char *tmp(const char *name)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
	return p;
}

/* Reads every record; checks contents and returns how many came before
 * end or error (rc in *last). */
static int read_all(const char *path, int nano, int *last, char *err, size_t errlen)
{
	struct source *s = source_open_file(path, err, errlen);
	if (!s) {
		*last = -2;
		return 0;
	}
	struct raw_packet r;
	int n = 0, rc;
	while ((rc = source_next(s, &r, err, errlen)) == 1) {
		ck_assert_uint_eq(r.frame, (uint64_t)n + 1);
		ck_assert_uint_eq(r.caplen, recs[n].caplen);
		ck_assert_mem_eq(r.data, recs[n].data, r.caplen);
		int64_t want = recs[n].ts_ns;
		if (!nano)
			want -= want % 1000;
		ck_assert_int_eq(r.ts, want);
		ck_assert_int_eq(r.linktype, source_linktype(s));
		n++;
	}
	*last = rc;
	/* after the end, stays at the end */
	if (rc == 0)
		ck_assert_int_eq(source_next(s, &r, err, errlen), 0);
	source_close(s);
	return n;
}

START_TEST(test_pcap_micro_nano)
{
	char err[512];
	for (int nano = 0; nano < 2; nano++) {
		make_recs(DLT_EN10MB);
		const char *p = tmp("a.pcap");
		ck_assert_int_eq(tu_pcap_write(p, DLT_EN10MB, nano, 0, recs, NREC), 0);
		int last;
		ck_assert_int_eq(read_all(p, nano, &last, err, sizeof(err)), NREC);
		ck_assert_int_eq(last, 0);
		unlink(p);
	}
}
END_TEST

START_TEST(test_pcapng)
{
	char err[512];
	make_recs(DLT_LINUX_SLL2);
	const char *p = tmp("b.pcapng");
	int dlt = DLT_LINUX_SLL2;
	ck_assert_int_eq(tu_pcapng_write(p, &dlt, 1, recs, NREC), 0);
	int last;
	ck_assert_int_eq(read_all(p, 1, &last, err, sizeof(err)), NREC);
	ck_assert_int_eq(last, 0);
	struct source *s = source_open_file(p, err, sizeof(err));
	ck_assert_int_eq(source_linktype(s), DLT_LINUX_SLL2);
	ck_assert_str_eq(source_name(s), p);
	source_close(s);
	unlink(p);
}
END_TEST

START_TEST(test_pcapng_mixed_linktypes)
{
	char err[512];
	make_recs(DLT_EN10MB);
	recs[3].iface = 1;
	const char *p = tmp("mixed.pcapng");
	int dlts[2] = { DLT_EN10MB, DLT_LINUX_SLL };
	ck_assert_int_eq(tu_pcapng_write(p, dlts, 2, recs, NREC), 0);
	int last;
	int n = read_all(p, 1, &last, err, sizeof(err));
	ck_assert_int_eq(last, -1);
	ck_assert_msg(strstr(err, "mixes link types") != NULL, "%s", err);
	ck_assert_msg(strstr(err, p) == err, "%s", err);
	/* libpcap reads the second interface block when it meets it: records
	 * before it were delivered */
	ck_assert_int_le(n, 3);
	char want[64];
	snprintf(want, sizeof(want), "record %d:", n + 1);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	unlink(p);
}
END_TEST

/* A file cut inside record 4: records 1..3 are delivered, then an error
 * naming the file and record 4. Also cut inside a record header. */
/* Regression (fuzzing): a pcapng timestamp whose nanoseconds do not fit an
 * int64 is clamped instead of overflowing. */
START_TEST(test_huge_timestamp)
{
	char err[512];
	make_recs(DLT_EN10MB);
	recs[0].ts_ns = -1;     /* written as 0xffffffffffffffff ns */
	const char *p = tmp("huge.pcapng");
	int dlt = DLT_EN10MB;
	ck_assert_int_eq(tu_pcapng_write(p, &dlt, 1, recs, 2), 0);
	struct source *s = source_open_file(p, err, sizeof(err));
	ck_assert_ptr_nonnull(s);
	struct raw_packet r;
	ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 1);
	ck_assert_int_gt(r.ts, 4000000000LL * NS_PER_SEC);
	ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 1);
	ck_assert_int_eq(r.ts, recs[1].ts_ns);
	source_close(s);
	unlink(p);
}
END_TEST

START_TEST(test_truncated_file)
{
	char err[512];
	make_recs(DLT_EN10MB);
	const char *p = tmp("t.pcap");
	ck_assert_int_eq(tu_pcap_write(p, DLT_EN10MB, 1, 0, recs, NREC), 0);
	long off = 24;
	for (int i = 0; i < 3; i++)
		off += 16 + recs[i].caplen;
	for (int cut = 16 + 10; cut >= 5; cut -= 21) {   /* shrink only: truncate() would extend with zeros */
		ck_assert_int_eq(truncate(p, off + cut), 0);
		int last;
		int n = read_all(p, 1, &last, err, sizeof(err));
		ck_assert_int_eq(n, 3);
		ck_assert_int_eq(last, -1);
		char want[600];
		snprintf(want, sizeof(want), "%s: record 4: ", p);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	}
	unlink(p);
}
END_TEST

START_TEST(test_corrupt_and_missing)
{
	char err[512];
	struct source *s = source_open_file(tmp("does-not-exist.pcap"), err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "does-not-exist.pcap: ") != NULL, "%s", err);
	const char *p = tmp("junk.pcap");
	FILE *f = fopen(p, "wb");
	fputs("this is not a capture file at all, just text\n", f);
	fclose(f);
	s = source_open_file(p, err, sizeof(err));
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "junk.pcap: ") != NULL, "%s", err);
	/* a record header claiming a huge caplen */
	make_recs(DLT_EN10MB);
	ck_assert_int_eq(tu_pcap_write(p, DLT_EN10MB, 0, 0, recs, 2), 0);
	f = fopen(p, "r+b");
	fseek(f, 24 + 16 + recs[0].caplen + 8, SEEK_SET);
	uint32_t big = 0x7fffffff;
	fwrite(&big, 4, 1, f);
	fclose(f);
	int last;
	ck_assert_int_eq(read_all(p, 0, &last, err, sizeof(err)), 1);
	ck_assert_int_eq(last, -1);
	ck_assert_msg(strstr(err, "record 2: ") != NULL, "%s", err);
	unlink(p);
}
END_TEST

START_TEST(test_several_files)
{
	char err[512];
	make_recs(DLT_RAW);
	const char *names[2] = { "one.pcap", "two.pcap" };
	char paths[2][512];
	for (int i = 0; i < 2; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s", tmp(names[i]));
		ck_assert_int_eq(tu_pcap_write(paths[i], DLT_RAW, 1, 0, recs, NREC), 0);
	}
	for (int i = 0; i < 2; i++) {
		int last;
		ck_assert_int_eq(read_all(paths[i], 1, &last, err, sizeof(err)), NREC);
		ck_assert_int_eq(last, 0);
		unlink(paths[i]);
	}
}
END_TEST

/* "-" reads stdin: run the reading in a child whose stdin is the file. */
START_TEST(test_stdin)
{
	make_recs(DLT_EN10MB);
	for (int ng = 0; ng < 2; ng++) {
		const char *p = tmp(ng ? "in.pcapng" : "in.pcap");
		int dlt = DLT_EN10MB;
		ck_assert_int_eq(ng ? tu_pcapng_write(p, &dlt, 1, recs, NREC)
				    : tu_pcap_write(p, DLT_EN10MB, 1, 0, recs, NREC), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			if (!freopen(p, "rb", stdin))
				_exit(10);
			char err[512];
			struct source *s = source_open_file("-", err, sizeof(err));
			if (!s || strcmp(source_name(s), "stdin") != 0)
				_exit(11);
			struct raw_packet r;
			int n = 0;
			while (source_next(s, &r, err, sizeof(err)) == 1) {
				if (r.caplen != recs[n].caplen || memcmp(r.data, recs[n].data, r.caplen) != 0 ||
				    r.ts != recs[n].ts_ns)
					_exit(12);
				n++;
			}
			source_close(s);
			_exit(n == NREC ? 0 : 13);
		}
		int st;
		waitpid(pid, &st, 0);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 0);
		unlink(p);
	}
}
END_TEST

static Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_pcap_micro_nano);
	tcase_add_test(tc, test_pcapng);
	tcase_add_test(tc, test_pcapng_mixed_linktypes);
	tcase_add_test(tc, test_truncated_file);
	tcase_add_test(tc, test_huge_timestamp);
	tcase_add_test(tc, test_corrupt_and_missing);
	tcase_add_test(tc, test_several_files);
	tcase_add_test(tc, test_stdin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(source_suite()); }
