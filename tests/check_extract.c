/*
 * check_extract.c - --extract: files per session with the exact bytes, a
 * pcap that libpcap reads back with the right records and nanosecond
 * timestamps, the bound on open descriptors (close and reopen in append
 * mode), and removal of a session's files when it is not kept.
 * Hostile directories: a planted symbolic link is never followed or
 * replaced, an existing file is not overwritten (with force: a regular
 * file is replaced, a link still not), a symlinked or shared-writable
 * directory is refused; files are 0600, a new directory 0700. index.json
 * lists each kept session's files and its frame map.
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
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
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
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
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
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
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
	ck_assert_ptr_null(extract_new(under, false, err, sizeof(err)));
	ck_assert(err[0]);
	ck_assert_ptr_null(extract_new("", false, err, sizeof(err)));
	/* NULL handles are harmless */
	extract_packet(NULL, NULL);
	extract_stream(NULL, DIR_C2S, NULL, 0);
	extract_session_close(NULL, true);
	extract_free(NULL);
	ck_assert_uint_eq(extract_errors(NULL), 0);
}
END_TEST

static void put_file(const char *name, const char *text)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *read_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

/* One session: two packets (capture frames 7 and 8), then frame 12, and a
 * line each way. */
static void one_session(struct extractor *x, uint64_t id)
{
	struct extract_session *es = extract_session_open(x, id);
	uint8_t pb[64];
	uint64_t frames[] = { 7, 8, 12 };
	for (int i = 0; i < 3; i++) {
		struct raw_packet r = mkpkt(pb, frames[i], NS_PER_SEC * (i + 1), 40);
		extract_packet(es, &r);
	}
	extract_stream(es, DIR_C2S, (const uint8_t *)"AUTH PLAIN AGFAYg==\r\n", 21);
	extract_stream(es, DIR_S2C, (const uint8_t *)"235 ok\r\n", 8);
	extract_body(es, 0, (const uint8_t *)"Subject: x\r\n", 12, true);
	extract_session_close(es, true);
}

START_TEST(test_planted_symlink)
{
	fresh_dir("symlink");
	char err[256], victim[600], link[1024];
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	/* another user plants 5.c2s -> a file of ours before the session comes */
	snprintf(victim, sizeof(victim), "%s/symlink-victim", tu_tmpdir());
	FILE *v = fopen(victim, "w");
	fputs("precious\n", v);
	fclose(v);
	snprintf(link, sizeof(link), "%s/5.c2s", dir);
	ck_assert_int_eq(symlink(victim, link), 0);
	one_session(x, 5);
	ck_assert_uint_ge(extract_errors(x), 1);
	ck_assert_msg(strstr(extract_first_error(x), "5.c2s: is a symbolic link") != NULL, "%s",
		      extract_first_error(x));
	extract_free(x);
	size_t n;
	char *got = read_path(victim, &n);
	ck_assert_str_eq(got, "precious\n");     /* not followed */
	free(got);
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));             /* not replaced */
	/* --force does not replace a link either */
	x = extract_new(dir, true, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	one_session(x, 5);
	ck_assert_uint_ge(extract_errors(x), 1);
	extract_free(x);
	got = read_path(victim, &n);
	ck_assert_str_eq(got, "precious\n");
	free(got);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	/* the other files are there, 0600 */
	ck_assert_int_eq(stat(link, &st), 0);
	char path[1024];
	snprintf(path, sizeof(path), "%s/5.pcap", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_existing_file_and_force)
{
	fresh_dir("exists");
	char err[256];
	char parent[600];
	snprintf(parent, sizeof(parent), "%s/exists", tu_tmpdir());
	ck_assert_int_eq(mkdir(parent, 0700), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	put_file("3.s2c", "old results\n");
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	one_session(x, 3);
	ck_assert_uint_eq(extract_errors(x), 1);
	ck_assert_msg(strstr(extract_first_error(x), "3.s2c: exists") != NULL, "%s", extract_first_error(x));
	extract_free(x);
	size_t n;
	char *got = slurp("3.s2c", &n);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(memcmp(got, "old results\n", 12), 0);
	free(got);
	/* a second run into the same directory: index.json exists */
	ck_assert_ptr_null(extract_new(dir, false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "index.json exists") != NULL, "%s", err);
	/* --force replaces regular files */
	x = extract_new(dir, true, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	one_session(x, 3);
	ck_assert_uint_eq(extract_errors(x), 0);
	extract_free(x);
	got = slurp("3.s2c", &n);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(memcmp(got, "235 ok\r\n", 8), 0);
	free(got);
}
END_TEST

START_TEST(test_index_json)
{
	fresh_dir("index");
	char err[256];
	struct extractor *x = extract_new(dir, false, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	one_session(x, 4);
	/* a session not kept is not indexed */
	struct extract_session *es = extract_session_open(x, 6);
	extract_stream(es, DIR_C2S, (const uint8_t *)"GET / HTTP/1.1\r\n", 16);
	extract_session_close(es, false);
	extract_finish(x);
	extract_free(x);
	size_t n;
	char *got = slurp("index.json", &n);
	ck_assert_ptr_nonnull(got);
	const char *want =
		"{\"sessions\":[\n"
		"{\"id\":4,\"files\":[\"4.pcap\",\"4.c2s\",\"4.s2c\",\"4-1.eml\"],"
		"\"frames\":[[7,2],[12,1]],\"frames_truncated\":false}\n"
		"]}\n";
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_int_eq(memcmp(got, want, n), 0);
	free(got);
	/* every file is private, the directory too */
	const char *names[] = { "index.json", "4.pcap", "4.c2s", "4.s2c", "4-1.eml" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[1024];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_msg((st.st_mode & 0777) == 0600, "%s mode %o", names[i], st.st_mode & 0777);
	}
	struct stat st;
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert(!exists("6.c2s"));
}
END_TEST

START_TEST(test_hostile_dir)
{
	char err[256], real[600], link[600];
	snprintf(real, sizeof(real), "%s/realdir", tu_tmpdir());
	ck_assert_int_eq(mkdir(real, 0700), 0);
	snprintf(link, sizeof(link), "%s/linkdir", tu_tmpdir());
	ck_assert_int_eq(symlink(real, link), 0);
	ck_assert_ptr_null(extract_new(link, true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "symbolic link") != NULL, "%s", err);
	char shared[600];
	snprintf(shared, sizeof(shared), "%s/shared", tu_tmpdir());
	ck_assert_int_eq(mkdir(shared, 0700), 0);
	ck_assert_int_eq(chmod(shared, 0777), 0);
	ck_assert_ptr_null(extract_new(shared, false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "other users") != NULL, "%s", err);
	ck_assert_int_eq(chmod(shared, 01777), 0);      /* sticky, as /tmp: accepted */
	struct extractor *x = extract_new(shared, false, err, sizeof(err));
	ck_assert_msg(x != NULL, "%s", err);
	extract_free(x);
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
	tcase_add_test(tc, test_planted_symlink);
	tcase_add_test(tc, test_existing_file_and_force);
	tcase_add_test(tc, test_index_json);
	tcase_add_test(tc, test_hostile_dir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite());
}
