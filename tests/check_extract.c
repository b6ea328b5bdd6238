/*
 * check_extract.c - --extract: files per session with the exact bytes, a
 * pcap that libpcap reads back with the right records and nanosecond
 * timestamps, the bound on open descriptors (close and reopen in append
 * mode), and removal of a session's files when it is not kept.
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract.h"
#include "testutil.h"

static char dir[512];

static void fresh_dir(const char *name)
{
	snprintf(dir, sizeof(dir), "%s/%s/sub", tu_tmpdir(), name);
}

static char *slurp(const char *name, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0;
	for (;;) {
		if (n + 4096 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	*len = n;
	return buf;
}

static bool exists(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static struct raw_packet mkpkt(uint8_t *buf, uint64_t frame, sl_time ts, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(frame + i);
	struct raw_packet r = { .frame = frame, .ts = ts, .caplen = len, .wirelen = len + 10, .linktype = 1, .data = buf };
	return r;
}

START_TEST(test_files_and_bytes)
{
	fresh_dir("basic");
	char err[256];
	struct extractor *x = extract_new(dir, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	struct extract_session *es = extract_session_open(x, 42);
	uint8_t pb[100];
	for (int i = 0; i < 5; i++) {
		struct raw_packet r = mkpkt(pb, (uint64_t)i + 1, 1700000000LL * NS_PER_SEC + i * 1234567LL + 89, 60 + i);
		extract_packet(es, &r);
	}
	extract_stream(es, DIR_C2S, (const uint8_t *)"EHLO x\r\n", 8);
	extract_stream(es, DIR_S2C, (const uint8_t *)"220 hi\r\n", 8);
	extract_stream(es, DIR_C2S, (const uint8_t *)"QUIT\r\n", 6);
	extract_body(es, 0, (const uint8_t *)"Subject: a\r\n", 12, false);
	extract_body(es, 0, (const uint8_t *)"\r\nbody\r\n", 8, false);
	extract_body(es, 0, NULL, 0, true);
	extract_body(es, 1, (const uint8_t *)"second", 6, true);
	extract_session_close(es, true);
	ck_assert_uint_eq(extract_errors(x), 0);
	extract_free(x);

	size_t n;
	char *c2s = slurp("42.c2s", &n);
	ck_assert_uint_eq(n, 14);
	ck_assert_int_eq(memcmp(c2s, "EHLO x\r\nQUIT\r\n", 14), 0);
	free(c2s);
	char *s2c = slurp("42.s2c", &n);
	ck_assert_uint_eq(n, 8);
	free(s2c);
	char *m1 = slurp("42-1.eml", &n);
	ck_assert_uint_eq(n, 20);
	ck_assert_int_eq(memcmp(m1, "Subject: a\r\n\r\nbody\r\n", 20), 0);
	free(m1);
	char *m2 = slurp("42-2.eml", &n);
	ck_assert_uint_eq(n, 6);
	free(m2);

	char path[1024], perr[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/42.pcap", dir);
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	ck_assert_msg(p != NULL, "%s", perr);
	ck_assert_int_eq(pcap_datalink(p), 1);
	struct pcap_pkthdr *h;
	const u_char *d;
	int count = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		ck_assert_int_eq(h->ts.tv_sec, 1700000000);
		ck_assert_int_eq(h->ts.tv_usec, count * 1234567 + 89);   /* nanoseconds with this precision */
		ck_assert_uint_eq(h->caplen, 60 + (unsigned)count);
		ck_assert_uint_eq(h->len, 70 + (unsigned)count);
		ck_assert_uint_eq(d[0], (uint8_t)(count + 1));
		count++;
	}
	ck_assert_int_eq(count, 5);
	pcap_close(p);
}
END_TEST

/* More sessions than descriptors: writes interleave, files are closed and
 * reopened in append mode, and every byte lands in its file in order. */
START_TEST(test_descriptor_cap_reopen)
{
	fresh_dir("many");
	char err[256];
	struct extractor *x = extract_new(dir, err, sizeof(err));
	ck_assert_ptr_nonnull(x);
	enum { N = EXTRACT_MAX_OPEN_FILES + 40 };
	static struct extract_session *es[N];
	for (int i = 0; i < N; i++)
		es[i] = extract_session_open(x, (uint64_t)i + 1);
	uint8_t pb[64];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			char line[32];
			int n = snprintf(line, sizeof(line), "s%d r%d\n", i, round);
			extract_stream(es[i], DIR_C2S, (const uint8_t *)line, (size_t)n);
			struct raw_packet r = mkpkt(pb, (uint64_t)round + 1, (sl_time)(round + 1) * NS_PER_SEC, 40);
			extract_packet(es[i], &r);
		}
	}
	/* The bound holds: the process has no more descriptors than the cap
	 * plus the few it had before (stdio, Check's pipes). */
	int fds = 0;
	DIR *fdd = opendir("/proc/self/fd");
	if (fdd) {
		while (readdir(fdd))
			fds++;
		closedir(fdd);
		ck_assert_int_le(fds, EXTRACT_MAX_OPEN_FILES + 16);
	}
	for (int i = 0; i < N; i++)
		extract_session_close(es[i], true);
	ck_assert_uint_eq(extract_errors(x), 0);
	extract_free(x);
	for (int i = 0; i < N; i += 37) {
		char name[32], want[128] = "";
		snprintf(name, sizeof(name), "%d.c2s", i + 1);
		for (int round = 0; round < 3; round++) {
			char line[32];
			snprintf(line, sizeof(line), "s%d r%d\n", i, round);
			strcat(want, line);
		}
		size_t n;
		char *got = slurp(name, &n);
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(n, strlen(want));
		ck_assert_int_eq(memcmp(got, want, n), 0);
		free(got);
		char path[1024], perr[PCAP_ERRBUF_SIZE];
		snprintf(path, sizeof(path), "%s/%d.pcap", dir, i + 1);
		pcap_t *p = pcap_open_offline(path, perr);
		ck_assert_msg(p != NULL, "%s", perr);
		struct pcap_pkthdr *h;
		const u_char *d;
		int count = 0;
		while (pcap_next_ex(p, &h, &d) == 1) {
			ck_assert_int_eq(h->ts.tv_sec, count + 1);
			count++;
		}
		ck_assert_int_eq(count, 3);
		pcap_close(p);
	}
}
END_TEST

START_TEST(test_not_kept_removed)
{
	fresh_dir("drop");
	char err[256];
	struct extractor *x = extract_new(dir, err, sizeof(err));
	struct extract_session *es = extract_session_open(x, 9);
	uint8_t pb[64];
	struct raw_packet r = mkpkt(pb, 1, NS_PER_SEC, 40);
	extract_packet(es, &r);
	extract_stream(es, DIR_S2C, (const uint8_t *)"HTTP/1.1 200 OK\r\n", 17);
	extract_body(es, 0, (const uint8_t *)"x", 1, true);
	ck_assert(exists("9.pcap") && exists("9.s2c") && exists("9-1.eml"));
	extract_session_close(es, false);
	ck_assert(!exists("9.pcap"));
	ck_assert(!exists("9.s2c"));
	ck_assert(!exists("9.c2s"));
	ck_assert(!exists("9-1.eml"));
	extract_free(x);
}
END_TEST

START_TEST(test_bad_dir)
{
	char err[256] = "";
	fresh_dir("file");
	char parent[600];
	snprintf(parent, sizeof(parent), "%s/%s", tu_tmpdir(), "plainfile");
	FILE *f = fopen(parent, "w");
	fclose(f);
	char under[700];
	snprintf(under, sizeof(under), "%s/sub", parent);
	ck_assert_ptr_null(extract_new(under, err, sizeof(err)));
	ck_assert(err[0]);
	ck_assert_ptr_null(extract_new("", err, sizeof(err)));
	/* NULL handles are harmless */
	extract_packet(NULL, NULL);
	extract_stream(NULL, DIR_C2S, NULL, 0);
	extract_session_close(NULL, true);
	extract_free(NULL);
	ck_assert_uint_eq(extract_errors(NULL), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("extract");
	TCase *tc = tcase_create("files");
	tcase_add_test(tc, test_files_and_bytes);
	tcase_add_test(tc, test_descriptor_cap_reopen);
	tcase_add_test(tc, test_not_kept_removed);
	tcase_add_test(tc, test_bad_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
