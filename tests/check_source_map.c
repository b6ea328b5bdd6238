/*
 * check_source_map.c - classic pcap files walked in place (pcap_map.c)
 * give exactly what libpcap gives: the same records, times, lengths and
 * bytes, the same error at the same record, on every capture we have and
 * on files damaged on purpose; a file that grows is read to its new end; a
 * file cut shorter while it is read ends with an error, not a crash.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"
#include "testutil.h"
#include "tu_pkt.h"

/* Everything one reader said about a file. */
struct reading {
	uint32_t n;
	int last;               /* 0 end, -1 error, -2 did not open */
	char err[600];
	uint64_t offset;        /* source_offset at the end */
	bool mapped;
	struct { uint64_t frame; int64_t ts; uint32_t caplen, wirelen; int linktype; uint64_t sum; } *rec;
};

static uint64_t fnv(const uint8_t *b, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static void read_with(const char *path, bool mapped, struct reading *r)
{
	memset(r, 0, sizeof(*r));
	source_map_files = mapped;
	struct source *s = source_open_file(path, r->err, sizeof(r->err));
	source_map_files = true;
	if (!s) {
		r->last = -2;
		return;
	}
	r->mapped = source_is_mapped(s);
	size_t cap = 0;
	struct raw_packet p;
	int rc;
	while ((rc = source_next(s, &p, r->err, sizeof(r->err))) == 1) {
		if (r->n == cap) {
			cap = cap ? cap * 2 : 256;
			r->rec = realloc(r->rec, cap * sizeof(*r->rec));
			ck_assert_ptr_nonnull(r->rec);
		}
		r->rec[r->n].frame = p.frame;
		r->rec[r->n].ts = p.ts;
		r->rec[r->n].caplen = p.caplen;
		r->rec[r->n].wirelen = p.wirelen;
		r->rec[r->n].linktype = p.linktype;
		r->rec[r->n].sum = fnv(p.data, p.caplen);
		r->n++;
	}
	r->last = rc;
	r->offset = source_offset(s);
	source_close(s);
}

/* Both readers on path: identical in every respect. Returns whether the
 * fast one walked it in place. */
static bool same_readings(const char *path)
{
	struct reading a, b;
	read_with(path, false, &a);
	read_with(path, true, &b);
	ck_assert_msg(!a.mapped, "%s: mapped with the mapping turned off", path);
	ck_assert_msg(a.last == b.last, "%s: libpcap ended %d, mapped %d (%s | %s)", path, a.last, b.last,
		      a.err, b.err);
	ck_assert_msg(a.n == b.n, "%s: libpcap read %u records, mapped %u", path, a.n, b.n);
	for (uint32_t i = 0; i < a.n; i++)
		ck_assert_msg(a.rec[i].frame == b.rec[i].frame && a.rec[i].ts == b.rec[i].ts &&
			      a.rec[i].caplen == b.rec[i].caplen && a.rec[i].wirelen == b.rec[i].wirelen &&
			      a.rec[i].linktype == b.rec[i].linktype && a.rec[i].sum == b.rec[i].sum,
			      "%s: record %u differs (ts %lld/%lld caplen %u/%u len %u/%u)", path, i + 1,
			      (long long)a.rec[i].ts, (long long)b.rec[i].ts, a.rec[i].caplen, b.rec[i].caplen,
			      a.rec[i].wirelen, b.rec[i].wirelen);
	if (a.last != 0)
		ck_assert_msg(!strcmp(a.err, b.err), "%s: libpcap said '%s', mapped '%s'", path, a.err, b.err);
	if (a.last == 0)
		ck_assert_msg(a.offset == b.offset, "%s: offset %llu / %llu", path,
			      (unsigned long long)a.offset, (unsigned long long)b.offset);
	free(a.rec);
	free(b.rec);
	return b.mapped;
}

static bool capture_name(const char *n)
{
	size_t l = strlen(n);
	static const char *const ext[] = { ".pcap", ".pcapng", ".pcap.gz", ".cap" };
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);
		if (l > e && !strcmp(n + l - e, ext[i]))
			return true;
	}
	return false;
}

/* Every capture under dir (recursively): both readers agree. */
static void walk(const char *dir, unsigned *files, unsigned *mapped)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(p, files, mapped);
		} else if (S_ISREG(st.st_mode) && capture_name(e->d_name)) {
			(*files)++;
			*mapped += same_readings(p);
		}
	}
	closedir(d);
}

START_TEST(test_every_capture)
{
	const char *src = getenv("SLEUTH_SOURCE_DIR");
	ck_assert_ptr_nonnull(src);
	unsigned files = 0, mapped = 0;
	char p[1024];
	snprintf(p, sizeof(p), "%s/captures", src);
	walk(p, &files, &mapped);
	snprintf(p, sizeof(p), "%s/tests/data", src);
	walk(p, &files, &mapped);
	if (tu_corpus_dir())
		walk(tu_corpus_dir(), &files, &mapped);
	printf("source_map: %u captures, %u walked in place, all read alike\n", files, mapped);
	ck_assert_uint_ge(files, 100);
	/* most bundled captures are classic pcap: the fast path was taken */
	ck_assert_uint_ge(mapped, files / 2);
}
END_TEST

/* ---- damaged and odd files, written byte by byte ---- */

struct wfile {
	uint8_t *b;
	size_t n, cap;
	bool swap;
};

static void put(struct wfile *w, const void *p, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2;
		w->b = realloc(w->b, w->cap);
		ck_assert_ptr_nonnull(w->b);
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void put32(struct wfile *w, uint32_t v)
{
	if (w->swap)
		v = __builtin_bswap32(v);
	put(w, &v, 4);
}

static void put16(struct wfile *w, uint16_t v)
{
	if (w->swap)
		v = __builtin_bswap16(v);
	put(w, &v, 2);
}

static void header(struct wfile *w, bool nano, uint16_t major, uint16_t minor, uint32_t snap, uint32_t link)
{
	put32(w, nano ? 0xa1b23c4du : 0xa1b2c3d4u);
	put16(w, major);
	put16(w, minor);
	put32(w, 0);
	put32(w, 0);
	put32(w, snap);
	put32(w, link);
}

/* A record of n bytes of a TCP frame's look (its content does not matter
 * to the readers). */
static void record(struct wfile *w, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, size_t n)
{
	put32(w, sec);
	put32(w, frac);
	put32(w, caplen);
	put32(w, len);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(i * 7 + caplen);
		put(w, &c, 1);
	}
}

static const char *save(struct wfile *w, const char *name)
{
	static char p[600];
	snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
	FILE *f = fopen(p, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(w->b, 1, w->n, f), w->n);
	fclose(f);
	return p;
}

/* Each case: a file, and whether the fast path must take it at all. */
START_TEST(test_odd_files)
{
	for (int swap = 0; swap < 2; swap++) {
		for (int nano = 0; nano < 2; nano++) {
			struct wfile w = { .swap = swap };
			header(&w, nano, 2, 4, 200, 1);
			record(&w, 1700000000, 5, 60, 60, 60);
			record(&w, 0xfffffffeu, nano ? 999999999u : 999999u, 60, 1500, 60); /* sign bit set */
			record(&w, 1700000001, nano ? 1000000000u : 1000000u, 60, 60, 60);  /* fraction out of range */
			record(&w, 1700000001, 0x80000000u, 60, 60, 60);                   /* negative as libpcap reads it */
			record(&w, 1700000001, 4500000u, 60, 60, 60);                      /* usec * 1000 wraps */
			record(&w, 1700000002, 7, 0, 0, 0);                                /* empty record */
			record(&w, 1700000002, 8, 300, 300, 300);                          /* past the snapshot: libpcap cuts it */
			record(&w, 1700000002, 9, 60, 40, 60);                             /* caplen > len */
			record(&w, 1700000003, 10, 200, 200, 200);                         /* exactly the snapshot */
			struct wfile whole = w;
			const char *p = save(&w, "odd.pcap");
			ck_assert(same_readings(p));
			/* the same file cut at every byte of its last two records */
			size_t from = w.n - (16 + 200) - (16 + 60) - 2;
			for (size_t cut = from; cut < whole.n; cut++) {
				w.n = cut;
				ck_assert(same_readings(save(&w, "odd-cut.pcap")));
			}
			/* a caplen past anything libpcap accepts, then records after it */
			w.n = whole.n;
			record(&w, 1700000004, 11, 0x7fffffffu, 60, 60);
			record(&w, 1700000004, 12, 60, 60, 60);
			ck_assert(same_readings(save(&w, "odd-huge.pcap")));
			free(w.b);
		}
	}
}
END_TEST

/* Files the fast path must leave to libpcap, read alike all the same. */
START_TEST(test_files_left_to_libpcap)
{
	static const struct { uint16_t major, minor; uint32_t snap, link; } cases[] = {
		{ 2, 3, 100, 1 },               /* older version: lengths may be swapped */
		{ 2, 2, 100, 1 },
		{ 2, 4, 100, 189 },             /* USB: libpcap swaps its pseudo-header */
		{ 2, 4, 100, 1 | 0x04000000 },  /* FCS bits in the link type field */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int swap = 0; swap < 2; swap++) {
			struct wfile w = { .swap = swap };
			header(&w, false, cases[i].major, cases[i].minor, cases[i].snap, cases[i].link);
			record(&w, 1700000000, 5, 64, 40, 64);
			record(&w, 1700000000, 6, 40, 64, 40);
			ck_assert(!same_readings(save(&w, "left.pcap")));
			free(w.b);
		}
	}
	/* snapshot lengths libpcap replaces: 0 and past the largest */
	for (uint32_t snap = 0; snap < 2; snap++) {
		struct wfile w = { 0 };
		header(&w, true, 2, 4, snap ? 0x80000000u : 0, 1);
		record(&w, 1700000000, 5, 70000, 70000, 70000);
		ck_assert(same_readings(save(&w, "snap.pcap")));
		free(w.b);
	}
}
END_TEST

/* w saved as name and opened, walked in place; *path: where. */
static struct source *open_mapped(struct wfile *w, const char *name, const char **path)
{
	char err[600];
	*path = save(w, name);
	struct source *s = source_open_file(*path, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert(source_is_mapped(s));
	return s;
}

/* Records appended after the file was opened (and mapped) are read too. */
START_TEST(test_file_grows)
{
	struct wfile w = { 0 };
	header(&w, true, 2, 4, 65535, 1);
	for (uint32_t i = 0; i < 10; i++)
		record(&w, 1700000000 + i, i, 100, 100, 100);
	const char *p;
	struct source *s = open_mapped(&w, "grow.pcap", &p);
	char err[600];
	struct raw_packet r;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 1);
	/* append five more while it is open */
	struct wfile more = { 0 };
	for (uint32_t i = 10; i < 15; i++)
		record(&more, 1700000000 + i, i, 100, 100, 100);
	FILE *f = fopen(p, "ab");
	ck_assert_uint_eq(fwrite(more.b, 1, more.n, f), more.n);
	fclose(f);
	int n = 10, rc;
	while ((rc = source_next(s, &r, err, sizeof(err))) == 1) {
		ck_assert_int_eq(r.ts, (1700000000LL + n) * NS_PER_SEC + n);
		n++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(n, 15);
	ck_assert_uint_eq(source_offset(s), w.n + more.n);
	source_close(s);
	free(w.b);
	free(more.b);
}
END_TEST

/* A capture ring rewriting the file under us: truncated while we read it.
 * The pages past the new end are gone; reading them would raise SIGBUS.
 * Twice: a small file, and one large enough for a pager thread, which is
 * mapping pages ahead when they go. */
START_TEST(test_file_cut_while_read)
{
	struct wfile w = { 0 };
	header(&w, false, 2, 4, 65535, 1);
	const uint32_t nrec = _i ? 30000 : 4000, len = 1400;
	for (uint32_t i = 0; i < nrec; i++)
		record(&w, 1700000000 + i, i, len, len, len);
	const char *p;
	struct source *s = open_mapped(&w, "cut.pcap", &p);
	char err[600];
	struct raw_packet r;
	ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 1);
	const off_t keep = 1 << 20;
	ck_assert_int_eq(truncate(p, keep), 0);
	uint32_t n = 1;
	int rc;
	uint64_t sum = 0;
	while ((rc = source_next(s, &r, err, sizeof(err))) == 1) {
		sum += fnv(r.data, r.caplen);   /* touches every byte, as the analysis would */
		n++;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, "was cut to 1048576 bytes while it was being read") != NULL, "%s", err);
	/* every record that lay wholly before the cut was read; at most the
	 * one across it more */
	uint32_t whole = (uint32_t)((keep - 24) / (16 + len));
	ck_assert_uint_ge(n, whole);
	ck_assert_uint_le(n, whole + 1);
	ck_assert_uint_ne(sum, 0);
	/* stays ended */
	ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 0);
	source_close(s);
	/* the next file mapped works as before */
	ck_assert(same_readings(save(&w, "after-cut.pcap")));
	free(w.b);
}
END_TEST

/* Resident kB of this process's mapping of path (/proc/self/smaps), 0
 * when it has none. */
static unsigned long mapping_rss_kb(const char *path)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	ck_assert_ptr_nonnull(f);
	char line[1024];
	bool in = false;
	unsigned long kb = 0, v;
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, ' ') && strchr(line, '-') < strchr(line, ' ') &&
		    !strncmp(line + strcspn(line, " "), " r", 2)) {
			size_t n = strlen(line);
			if (n && line[n - 1] == '\n')
				line[n - 1] = 0;
			n = strlen(line);
			size_t pl = strlen(path);
			in = n >= pl && !strcmp(line + n - pl, path);
		} else if (in && sscanf(line, "Rss: %lu kB", &v) == 1) {
			kb += v;
		}
	}
	fclose(f);
	return kb;
}

/* A file large enough for a pager thread (pcap_map.c): the records are
 * libpcap's; the pager maps pages in ahead of the reader without being
 * asked to read them; and what stays mapped is bounded however far the
 * reader runs (3 steps of 2 MiB behind it, 2 MiB and a chunk ahead). */
START_TEST(test_pager_large_file)
{
	struct wfile w = { 0 };
	header(&w, true, 2, 4, 65535, 1);
	const uint32_t nrec = 34000, len = 1400;       /* 48 MB */
	for (uint32_t i = 0; i < nrec; i++)
		record(&w, 1700000000 + i / 1000, i % 1000, len, len, len);
	const char *p;
	struct source *s = open_mapped(&w, "pager.pcap", &p);
	char err[600];
	struct raw_packet r;
	/* Records up to just past 1 MiB, where the reader tells the pager
	 * where it is: the reader's faults mapped the first folio, at most
	 * 2 MiB (a large folio of a freshly written file; 64 KiB pieces
	 * otherwise). The pager maps 2 MiB past the reader, down to a chunk:
	 * the first 3 MiB (polled: it runs on its own). */
	uint32_t n = 0;
	while (source_offset(s) < (1u << 20) + 20 * (16 + len)) {
		ck_assert_int_eq(source_next(s, &r, err, sizeof(err)), 1);
		n++;
	}
	unsigned long kb = 0;
	for (int i = 0; i < 500 && kb < 2560; i++) {
		usleep(10000);
		kb = mapping_rss_kb(p);
	}
	ck_assert_msg(kb >= 2560, "the pager mapped only %lu kB ahead", kb);
	unsigned long most = 0;
	int rc;
	while ((rc = source_next(s, &r, err, sizeof(err))) == 1) {
		ck_assert_uint_eq(r.caplen, len);
		if (++n % 500 == 0) {
			kb = mapping_rss_kb(p);
			most = kb > most ? kb : most;
		}
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, nrec);
	ck_assert_msg(most <= 9 * 1024, "the mapping held %lu kB", most);
	source_close(s);
	/* the same records as libpcap's, with the pager */
	ck_assert(same_readings(p));
	/* and without it (the analysis on one thread) */
	source_map_pager = false;
	ck_assert(same_readings(p));
	source_map_pager = true;
	free(w.b);
}
END_TEST

static Suite *source_map_suite(void)
{
	Suite *s = suite_create("source_map");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_every_capture);
	tcase_add_test(tc, test_odd_files);
	tcase_add_test(tc, test_files_left_to_libpcap);
	tcase_add_test(tc, test_file_grows);
	tcase_add_loop_test(tc, test_file_cut_while_read, 0, 2);
	tcase_add_test(tc, test_pager_large_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(source_map_suite()); }
