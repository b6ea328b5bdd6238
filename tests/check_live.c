/*
 * check_live.c - what `smtpsleuth live` does without a network: option
 * parsing, the -w file naming, and the rotating pcap writer (records written
 * through it are read back with libpcap and compared byte for byte).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live.h"
#include "pcap_rotate.h"
#include "pipeline.h"
#include "testutil.h"

/* ---- option parsing ---- */

#define ARGV(...) ((char *[]){ "live", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "live", __VA_ARGS__ }) / sizeof(char *)))

static int parse(int argc, char **argv, struct live_opts *lo, struct pipeline_config *cfg,
		 char *err, size_t errlen)
{
	pipeline_config_default(cfg);
	err[0] = 0;
	return live_parse_args(argc, argv, lo, cfg, err, errlen);
}

#define PARSE_OK(...) do { \
	ck_assert_msg(parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &lo, &cfg, err, sizeof(err)) == 0, \
		      "parse failed: %s", err); \
} while (0)

#define PARSE_FAILS(needle, ...) do { \
	ck_assert_int_eq(parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), &lo, &cfg, err, sizeof(err)), -1); \
	ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle); \
} while (0)

START_TEST(test_defaults)
{
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_OK("-i", "lo");
	ck_assert_str_eq(lo.iface, "lo");
	ck_assert_str_eq(lo.filter, "tcp");
	ck_assert_ptr_null(lo.write_path);
	ck_assert_ptr_null(lo.user);
	ck_assert_uint_eq(lo.rotate_bytes, 0);
	ck_assert_uint_eq(lo.rotate_files, 0);
	ck_assert_uint_eq(lo.count, 0);
	ck_assert_int_eq(lo.duration, 0);
	ck_assert_uint_eq(lo.buffer_mb, LIVE_DEFAULT_BUFFER_MB);
	ck_assert(!lo.promisc);
	ck_assert(!lo.help);
	/* live ends closed flows quickly so verdicts come within a second */
	ck_assert_int_eq(cfg.engine.closed_linger, LIVE_DEFAULT_LINGER_MS * NS_PER_MS);
	ck_assert(cfg.engine.closed_linger < NS_PER_SEC);
	ck_assert_ptr_eq(cfg.report.out, stdout);
	ck_assert(!cfg.report.json);
}
END_TEST

START_TEST(test_all_options)
{
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_OK("-i", "any", "-f", "tcp port 25", "-w", "x.pcap", "-C", "1.5", "-W", "3",
		 "-Z", "nobody", "-c", "100", "--duration", "2.5", "-B", "16", "--promisc",
		 "--linger", "0.1", "--json", "-q", "--idle-threshold", "30", "--port", "2525");
	ck_assert_str_eq(lo.iface, "any");
	ck_assert_str_eq(lo.filter, "tcp port 25");
	ck_assert_str_eq(lo.write_path, "x.pcap");
	ck_assert_uint_eq(lo.rotate_bytes, 1500000);
	ck_assert_uint_eq(lo.rotate_files, 3);
	ck_assert_str_eq(lo.user, "nobody");
	ck_assert_uint_eq(lo.count, 100);
	ck_assert_int_eq(lo.duration, 2500 * NS_PER_MS);
	ck_assert_uint_eq(lo.buffer_mb, 16);
	ck_assert(lo.promisc);
	ck_assert_int_eq(cfg.engine.closed_linger, 100 * NS_PER_MS);
	ck_assert(cfg.report.json);
	ck_assert(cfg.report.quiet);
	ck_assert_int_eq(cfg.diag.idle_threshold, 30 * NS_PER_SEC);
	ck_assert_uint_eq(cfg.report.n_ports, 1);
	ck_assert_uint_eq(cfg.report.ports[0], 2525);
}
END_TEST

START_TEST(test_long_names_and_equals)
{
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_OK("--interface=eth0", "--filter=port 587", "--write=a.pcap", "--file-size=2",
		 "--count=7", "--buffer-size=8", "--user=mail");
	ck_assert_str_eq(lo.iface, "eth0");
	ck_assert_str_eq(lo.filter, "port 587");
	ck_assert_str_eq(lo.write_path, "a.pcap");
	ck_assert_uint_eq(lo.rotate_bytes, 2 * LIVE_BYTES_PER_MB);
	ck_assert_uint_eq(lo.count, 7);
	ck_assert_uint_eq(lo.buffer_mb, 8);
	ck_assert_str_eq(lo.user, "mail");
}
END_TEST

START_TEST(test_help)
{
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_OK("--help");
	ck_assert(lo.help);
	PARSE_OK("-h", "-i", "lo");
	ck_assert(lo.help);
	ck_assert_ptr_nonnull(strstr(LIVE_USAGE, "-i, --interface"));
	ck_assert_ptr_nonnull(strstr(LIVE_USAGE, "FILE.1"));
}
END_TEST

START_TEST(test_usage_errors)
{
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_FAILS("-i IFACE is required", "-f", "tcp");
	PARSE_FAILS("needs a value", "-i");
	PARSE_FAILS("--duration needs a value", "-i", "lo", "--duration");
	PARSE_FAILS("unknown option", "-i", "lo", "-x");
	PARSE_FAILS("unknown option --frobnicate", "-i", "lo", "--frobnicate");
	PARSE_FAILS("unexpected argument 'port'", "-i", "lo", "port", "25");
	PARSE_FAILS("-C and -W need -w", "-i", "lo", "-C", "10");
	PARSE_FAILS("-W needs -C", "-i", "lo", "-w", "a.pcap", "-W", "3");
	PARSE_FAILS("-w needs a file name", "-i", "lo", "-w", "-");
	PARSE_FAILS("--count", "-i", "lo", "-c", "0");
	PARSE_FAILS("--count", "-i", "lo", "-c", "-5");
	PARSE_FAILS("--count", "-i", "lo", "-c", "12x");
	PARSE_FAILS("--count", "-i", "lo", "-c", "99999999999999999999999");
	PARSE_FAILS("--duration", "-i", "lo", "--duration", "0");
	PARSE_FAILS("--duration", "-i", "lo", "--duration", "abc");
	PARSE_FAILS("--duration", "-i", "lo", "--duration", "nan");
	PARSE_FAILS("--duration", "-i", "lo", "--duration", "inf");
	PARSE_FAILS("-B", "-i", "lo", "-B", "0");
	PARSE_FAILS("-B", "-i", "lo", "-B", "1025");
	PARSE_FAILS("-C", "-i", "lo", "-w", "a", "-C", "0");
	PARSE_FAILS("-C", "-i", "lo", "-w", "a", "-C", "0.001");
	PARSE_FAILS("-W", "-i", "lo", "-w", "a", "-C", "1", "-W", "1");
	PARSE_FAILS("--linger", "-i", "lo", "--linger", "-1");
	/* a shared option with a bad value: the pipeline's own message */
	PARSE_FAILS("--port", "-i", "lo", "--port", "0");
	PARSE_FAILS("cause", "-i", "lo", "--cause", "no_such_cause");
}
END_TEST

START_TEST(test_parse_twice)
{
	/* getopt state is reset: a second parse sees its own arguments */
	struct live_opts lo;
	struct pipeline_config cfg;
	char err[256];
	PARSE_FAILS("unknown option", "-i", "lo", "-x");
	PARSE_OK("-i", "eth1", "-c", "3");
	ck_assert_str_eq(lo.iface, "eth1");
	ck_assert_uint_eq(lo.count, 3);
	PARSE_OK("-i", "eth2");
	ck_assert_str_eq(lo.iface, "eth2");
	ck_assert_uint_eq(lo.count, 0);
}
END_TEST

/* ---- file naming ---- */

START_TEST(test_rotate_names)
{
	char buf[64];
	ck_assert_int_eq(pcap_rotate_name(buf, sizeof(buf), "cap.pcap", 0), 0);
	ck_assert_str_eq(buf, "cap.pcap");
	ck_assert_int_eq(pcap_rotate_name(buf, sizeof(buf), "cap.pcap", 1), 0);
	ck_assert_str_eq(buf, "cap.pcap.1");
	ck_assert_int_eq(pcap_rotate_name(buf, sizeof(buf), "/var/tmp/x", 123456), 0);
	ck_assert_str_eq(buf, "/var/tmp/x.123456");
	/* exactly fits: 8 chars + ".12" + NUL = 12 */
	ck_assert_int_eq(pcap_rotate_name(buf, 12, "abcdefgh", 12), 0);
	ck_assert_int_eq(pcap_rotate_name(buf, 11, "abcdefgh", 12), -1);
	ck_assert_int_eq(pcap_rotate_name(buf, 8, "abcdefgh", 0), -1);
}
END_TEST

/* ---- the writer ---- */

#define REC_LEN 100u
#define REC_BYTES (PCAP_ROTATE_REC_HDR + REC_LEN)

/* Record i: REC_LEN bytes of (i + k) & 0xff, wire length REC_LEN + i, time
 * 1700000000.000000123 + i ms, so every field can be checked on read-back. */
static void make_record(unsigned i, struct pcap_pkthdr *h, uint8_t *data, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->ts.tv_sec = 1700000000;
	h->ts.tv_usec = 123 + (suseconds_t)i * 1000000;   /* nanoseconds: NANO handle */
	h->caplen = len;
	h->len = len + i;
	for (uint32_t k = 0; k < len; k++)
		data[k] = (uint8_t)(i + k);
}

static pcap_t *dead_handle(void)
{
	pcap_t *pc = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, LIVE_SNAPLEN,
							  PCAP_TSTAMP_PRECISION_NANO);
	ck_assert_ptr_nonnull(pc);
	return pc;
}

static const char *tmp_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
	return path;
}

/* Reads file number idx of base back and checks it holds records first..first+n-1. */
static void expect_file(const char *base, unsigned idx, unsigned first, unsigned n)
{
	char path[512], eb[PCAP_ERRBUF_SIZE];
	ck_assert_int_eq(pcap_rotate_name(path, sizeof(path), base, idx), 0);
	pcap_t *rd = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	ck_assert_msg(rd != NULL, "%s: %s", path, eb);
	ck_assert_int_eq(pcap_datalink(rd), DLT_EN10MB);
	ck_assert_int_eq(pcap_snapshot(rd), LIVE_SNAPLEN);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned got = 0;
	int r;
	while ((r = pcap_next_ex(rd, &h, &data)) == 1) {
		struct pcap_pkthdr want;
		uint8_t wdata[REC_LEN];
		make_record(first + got, &want, wdata, REC_LEN);
		ck_assert_int_eq(h->ts.tv_sec, want.ts.tv_sec);
		ck_assert_int_eq(h->ts.tv_usec, want.ts.tv_usec);
		ck_assert_uint_eq(h->caplen, REC_LEN);
		ck_assert_uint_eq(h->len, want.len);
		ck_assert_mem_eq(data, wdata, REC_LEN);
		got++;
	}
	ck_assert_int_eq(r, PCAP_ERROR_BREAK);
	ck_assert_uint_eq(got, n);
	pcap_close(rd);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, PCAP_ROTATE_FILE_HDR + (uint64_t)n * REC_BYTES);
}

static void write_records(struct pcap_rotate *w, unsigned from, unsigned to)
{
	char err[256];
	for (unsigned i = from; i < to; i++) {
		struct pcap_pkthdr h;
		uint8_t data[REC_LEN];
		make_record(i, &h, data, REC_LEN);
		ck_assert_msg(pcap_rotate_write(w, &h, data, err, sizeof(err)) == 0, "%s", err);
	}
}

START_TEST(test_writer_no_rotation)
{
	char err[256];
	pcap_t *pc = dead_handle();
	const char *base = tmp_path("plain.pcap");
	char b[512];
	snprintf(b, sizeof(b), "%s", base);
	struct pcap_rotate *w = pcap_rotate_open(pc, b, 0, 0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	write_records(w, 0, 50);
	ck_assert_uint_eq(pcap_rotate_files_opened(w), 1);
	ck_assert_uint_eq(pcap_rotate_file_bytes(w), PCAP_ROTATE_FILE_HDR + 50 * REC_BYTES);
	/* flushed records are readable while the writer is still open */
	ck_assert_int_eq(pcap_rotate_flush(w, err, sizeof(err)), 0);
	expect_file(b, 0, 0, 50);
	ck_assert_int_eq(pcap_rotate_close(w, err, sizeof(err)), 0);
	expect_file(b, 0, 0, 50);
	char next[600];
	snprintf(next, sizeof(next), "%s.1", b);
	ck_assert_int_ne(access(next, F_OK), 0);
	unlink(b);
	pcap_close(pc);
}
END_TEST

START_TEST(test_writer_rotates_by_size)
{
	char err[256];
	pcap_t *pc = dead_handle();
	char b[512];
	snprintf(b, sizeof(b), "%s", tmp_path("rot.pcap"));
	/* room for exactly three records per file */
	struct pcap_rotate *w = pcap_rotate_open(pc, b, PCAP_ROTATE_FILE_HDR + 3 * REC_BYTES, 0,
						 err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	write_records(w, 0, 10);
	ck_assert_uint_eq(pcap_rotate_files_opened(w), 4);
	ck_assert_uint_eq(pcap_rotate_index(w), 3);
	ck_assert_int_eq(pcap_rotate_close(w, err, sizeof(err)), 0);
	expect_file(b, 0, 0, 3);
	expect_file(b, 1, 3, 3);
	expect_file(b, 2, 6, 3);
	expect_file(b, 3, 9, 1);
	char path[600];
	for (unsigned i = 0; i < 4; i++) {
		pcap_rotate_name(path, sizeof(path), b, i);
		unlink(path);
	}
	pcap_rotate_name(path, sizeof(path), b, 4);
	ck_assert_int_ne(access(path, F_OK), 0);
	pcap_close(pc);
}
END_TEST

START_TEST(test_writer_ring)
{
	char err[256];
	pcap_t *pc = dead_handle();
	char b[512];
	snprintf(b, sizeof(b), "%s", tmp_path("ring.pcap"));
	struct pcap_rotate *w = pcap_rotate_open(pc, b, PCAP_ROTATE_FILE_HDR + 3 * REC_BYTES, 2,
						 err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	/* files: 0..2 -> base, 3..5 -> .1, 6..8 -> base again, 9 -> .1 again */
	write_records(w, 0, 10);
	ck_assert_uint_eq(pcap_rotate_files_opened(w), 4);
	ck_assert_uint_eq(pcap_rotate_index(w), 1);
	ck_assert_int_eq(pcap_rotate_close(w, err, sizeof(err)), 0);
	expect_file(b, 0, 6, 3);
	expect_file(b, 1, 9, 1);
	char path[600];
	pcap_rotate_name(path, sizeof(path), b, 2);
	ck_assert_int_ne(access(path, F_OK), 0);
	unlink(b);
	pcap_rotate_name(path, sizeof(path), b, 1);
	unlink(path);
	pcap_close(pc);
}
END_TEST

START_TEST(test_writer_oversized_record)
{
	/* a record bigger than the cap gets a file of its own, and is whole */
	char err[256];
	pcap_t *pc = dead_handle();
	char b[512];
	snprintf(b, sizeof(b), "%s", tmp_path("big.pcap"));
	struct pcap_rotate *w = pcap_rotate_open(pc, b, PCAP_ROTATE_FILE_HDR + REC_BYTES / 2, 0,
						 err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	write_records(w, 0, 3);
	ck_assert_uint_eq(pcap_rotate_files_opened(w), 3);
	ck_assert_int_eq(pcap_rotate_close(w, err, sizeof(err)), 0);
	char path[600];
	for (unsigned i = 0; i < 3; i++) {
		expect_file(b, i, i, 1);
		pcap_rotate_name(path, sizeof(path), b, i);
		unlink(path);
	}
	pcap_close(pc);
}
END_TEST

START_TEST(test_writer_open_failure)
{
	char err[256] = "";
	pcap_t *pc = dead_handle();
	char b[512];
	snprintf(b, sizeof(b), "%s/no/such/dir/x.pcap", tu_tmpdir());
	ck_assert_ptr_null(pcap_rotate_open(pc, b, 0, 0, err, sizeof(err)));
	ck_assert_msg(strstr(err, "x.pcap") != NULL, "message '%s' lacks the file name", err);
	ck_assert_ptr_null(pcap_rotate_open(pc, b, 1000, PCAP_ROTATE_MAX_FILES + 1, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "too many files"));
	ck_assert_int_eq(pcap_rotate_close(NULL, err, sizeof(err)), 0);
	pcap_close(pc);
}
END_TEST

START_TEST(test_writer_disk_full)
{
	/* /dev/full accepts the open and fails every write: the failure shows at
	 * the first flush, and the writer refuses to go on afterwards */
	char err[256] = "";
	pcap_t *pc = dead_handle();
	struct pcap_rotate *w = pcap_rotate_open(pc, "/dev/full", 0, 0, err, sizeof(err));
	ck_assert_msg(w != NULL, "%s", err);
	write_records(w, 0, 2);
	ck_assert_int_eq(pcap_rotate_flush(w, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "write failed") != NULL, "message '%s'", err);
	struct pcap_pkthdr h;
	uint8_t data[REC_LEN];
	make_record(2, &h, data, REC_LEN);
	ck_assert_int_eq(pcap_rotate_write(w, &h, data, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "earlier error"));
	pcap_rotate_close(w, err, sizeof(err));
	pcap_close(pc);
}
END_TEST

static Suite *live_suite(void)
{
	Suite *s = suite_create("live");
	TCase *tc = tcase_create("Options");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_long_names_and_equals);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_usage_errors);
	tcase_add_test(tc, test_parse_twice);
	suite_add_tcase(s, tc);

	tc = tcase_create("Writer");
	tcase_add_test(tc, test_rotate_names);
	tcase_add_test(tc, test_writer_no_rotation);
	tcase_add_test(tc, test_writer_rotates_by_size);
	tcase_add_test(tc, test_writer_ring);
	tcase_add_test(tc, test_writer_oversized_record);
	tcase_add_test(tc, test_writer_open_failure);
	if (access("/dev/full", W_OK) == 0)
		tcase_add_test(tc, test_writer_disk_full);
	else
		tu_skip("test_writer_disk_full", "no writable /dev/full");
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(live_suite());
}
