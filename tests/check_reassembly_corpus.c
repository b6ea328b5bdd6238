/*
 * check_reassembly_corpus.c - differential test against tshark.
 *
 * For every capture in the corpus (SLEUTH_CORPUS, *.pcap and *.pcapng), every
 * TCP stream tshark finds is reassembled by tshark (`-z follow,tcp,raw,N`)
 * and by our engine; the bytes of each direction must be equal. tshark's
 * stream is mapped to our flow by the endpoints in its "Node 0/Node 1"
 * header (the k-th stream on a 4-tuple to our k-th flow on it). tshark
 * writes a range it never saw as the text "[N bytes missing in capture
 * file]" into the raw stream; that is read as a gap of N bytes, and our gap
 * bytes in that direction must add up to the same total, except the bytes
 * snaplen cut off: we report those as gaps too (the consumer must know bytes
 * went by), tshark silently leaves them out.
 * Skips with a message when tshark or the corpus is absent.
 *
 * Documented exceptions (where tshark and a correct reassembler differ) are
 * listed in `exceptions` below, each with its reason.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "source.h"
#include "testutil.h"
#include "tu_sink.h"

struct tstream {
	struct sl_addr addr[2];
	uint16_t port[2];
	uint8_t *b[2];
	size_t n[2], cap[2];
	uint64_t gap_bytes[2];      /* from tshark's "[N bytes missing in capture file]" */
};

static void push(struct tstream *t, int node, uint8_t v)
{
	if (t->n[node] == t->cap[node]) {
		t->cap[node] = t->cap[node] ? t->cap[node] * 2 : 256;
		t->b[node] = realloc(t->b[node], t->cap[node]);
		ck_assert_ptr_nonnull(t->b[node]);
	}
	t->b[node][t->n[node]++] = v;
}

/* "1.2.3.4:25" or "[2001:db8::1]:25" */
static bool parse_node(const char *s, struct sl_addr *a, uint16_t *port)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", s);
	buf[strcspn(buf, "\r\n")] = '\0';
	char *colon = strrchr(buf, ':');
	if (!colon)
		return false;
	*colon = '\0';
	*port = (uint16_t)atoi(colon + 1);
	char *h = buf;
	if (*h == '[') {
		h++;
		h[strcspn(h, "]")] = '\0';
	}
	return sl_addr_parse(h, a);
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Runs tshark on path; fills *out with its streams. Returns the count or -1. */
static int tshark_streams(const char *path, struct tstream **out)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -e tcp.stream 2>/dev/null | sort -un | tail -1", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[1 << 16];
	int max = -1;
	if (fgets(line, sizeof(line), p) && line[0] >= '0' && line[0] <= '9')
		max = atoi(line);
	pclose(p);
	int n = max + 1;
	*out = calloc((size_t)(n ? n : 1), sizeof(**out));
	if (n == 0)
		return 0;
	size_t len = (size_t)snprintf(cmd, sizeof(cmd), "tshark -r '%s' -q", path);
	for (int i = 0; i < n && len < sizeof(cmd) - 64; i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " -z follow,tcp,raw,%d", i);
	snprintf(cmd + len, sizeof(cmd) - len, " 2>/dev/null");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	int cur = -1;
	while (fgets(line, sizeof(line), p)) {
		if (strncmp(line, "Filter: tcp.stream eq ", 22) == 0) {
			cur = atoi(line + 22);
			if (cur >= n)
				cur = -1;
			continue;
		}
		if (cur < 0)
			continue;
		if (strncmp(line, "Node 0: ", 8) == 0) {
			parse_node(line + 8, &(*out)[cur].addr[0], &(*out)[cur].port[0]);
			continue;
		}
		if (strncmp(line, "Node 1: ", 8) == 0) {
			parse_node(line + 8, &(*out)[cur].addr[1], &(*out)[cur].port[1]);
			continue;
		}
		if (line[0] == '=') {
			cur = -1;
			continue;
		}
		int node = line[0] == '\t' ? 1 : 0;
		const char *h = line + node;
		static char seg[1 << 15];
		size_t sl = 0;
		for (; hexv(h[0]) >= 0 && hexv(h[1]) >= 0 && sl < sizeof(seg) - 1; h += 2)
			seg[sl++] = (char)(hexv(h[0]) * 16 + hexv(h[1]));
		/* tshark writes a lost range as this text (NUL-terminated) into
		 * the raw stream; it is a gap, not stream bytes */
		unsigned long long missing;
		char tail[8];
		if (sl > 1 && seg[sl - 1] == '\0' &&
		    sscanf(seg, "[%llu bytes missing in capture file%7s", &missing, tail) == 2 &&
		    strcmp(tail, "]") == 0) {
			(*out)[cur].gap_bytes[node] += missing;
			continue;
		}
		for (size_t i = 0; i < sl; i++)
			push(&(*out)[cur], node, (uint8_t)seg[i]);
	}
	pclose(p);
	return n;
}

/* Where tshark and a correct reassembler differ; each entry says why.
 * None is needed at present: tshark's gap marker and snaplen-cut bytes are
 * handled by the comparison itself (see the top of this file), and every
 * stream of the corpus compares equal. */
struct exception {
	const char *file;
	int stream;
	const char *reason;
};
static const struct exception exceptions[] = {
	{ NULL, 0, NULL }
};

static const char *exception_for(const char *file, int stream)
{
	for (const struct exception *x = exceptions; x->file; x++)
		if (strcmp(x->file, file) == 0 && x->stream == stream)
			return x->reason;
	return NULL;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static bool same_ep(const struct sl_addr *a, uint16_t pa, const struct sl_addr *b, uint16_t pb)
{
	return pa == pb && sl_addr_eq(a, b);
}

/* Runs the engine on one file; returns mismatches found. */
static int check_file(const char *dir, const char *name, int *streams_checked)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct tu_sink rec;
	tu_sink_init(&rec);
	struct engine *e = engine_new(NULL, &rec.sink);
	char err[512];
	struct source *src = source_open_file(path, err, sizeof(err));
	ck_assert_msg(src != NULL, "%s", err);
	engine_set_file(e, path);
	struct raw_packet r;
	int rc;
	while ((rc = source_next(src, &r, err, sizeof(err))) == 1)
		engine_feed(e, &r);
	if (rc < 0)
		fprintf(stderr, "  (%s)\n", err);
	engine_finish(e);
	source_close(src);

	/* SLEUTH_CORPUS_DEBUG=NAME prints our event log of each flow of NAME */
	const char *dbg = getenv("SLEUTH_CORPUS_DEBUG");
	if (dbg && strcmp(dbg, name) == 0)
		for (size_t j = 0; j < rec.n; j++)
			fprintf(stderr, "flow %zu: c2s %zu s2c %zu bytes: %s\n", j, rec.flows[j]->n[0],
				rec.flows[j]->n[1], rec.flows[j]->log);

	struct tstream *ts = NULL;
	int n = tshark_streams(path, &ts);
	ck_assert_int_ge(n, 0);
	int bad = 0;
	for (int i = 0; i < n; i++) {
		struct tstream *t = &ts[i];
		/* the k-th tshark stream on this tuple maps to our k-th flow on it */
		int k = 0;
		for (int j = 0; j < i; j++)
			if ((same_ep(&ts[j].addr[0], ts[j].port[0], &t->addr[0], t->port[0]) &&
			     same_ep(&ts[j].addr[1], ts[j].port[1], &t->addr[1], t->port[1])) ||
			    (same_ep(&ts[j].addr[0], ts[j].port[0], &t->addr[1], t->port[1]) &&
			     same_ep(&ts[j].addr[1], ts[j].port[1], &t->addr[0], t->port[0])))
				k++;
		struct tu_flow *f = NULL;
		int node0_dir = 0;
		for (size_t j = 0; j < rec.n && !f; j++) {
			const struct flow_info *fi = &rec.flows[j]->final;
			int d = -1;
			if (same_ep(&fi->client, fi->client_port, &t->addr[0], t->port[0]) &&
			    same_ep(&fi->server, fi->server_port, &t->addr[1], t->port[1]))
				d = DIR_C2S;
			else if (same_ep(&fi->server, fi->server_port, &t->addr[0], t->port[0]) &&
				 same_ep(&fi->client, fi->client_port, &t->addr[1], t->port[1]))
				d = DIR_S2C;
			if (d >= 0 && k-- == 0) {
				f = rec.flows[j];
				node0_dir = d;
			}
		}
		const char *why = exception_for(name, i);
		if (!f) {
			fprintf(stderr, "MISMATCH %s stream %d: no flow for tshark's endpoints\n", name, i);
			bad += !why;
			continue;
		}
		(*streams_checked)++;
		for (int node = 0; node < 2; node++) {
			enum sl_dir d = (enum sl_dir)(node == 0 ? node0_dir : !node0_dir);
			size_t on = f->n[d], tn = t->n[node];
			bool eq = on == tn && (on == 0 || memcmp(f->bytes[d], t->b[node], on) == 0) &&
				  f->gap_bytes[d] - f->ev_arg[d][TCP_TRUNCATED] == t->gap_bytes[node];
			if (eq)
				continue;
			size_t at = 0;
			while (at < on && at < tn && f->bytes[d][at] == t->b[node][at])
				at++;
			fprintf(stderr, "%s %s stream %d node %d (%s): ours %zu bytes, tshark %zu, first difference at %zu; gaps %u (%llu bytes), tshark's %llu%s%s\n",
				why ? "EXCEPTION" : "MISMATCH", name, i, node, d == DIR_C2S ? "c2s" : "s2c",
				on, tn, at, f->gaps[d], (unsigned long long)f->gap_bytes[d],
				(unsigned long long)t->gap_bytes[node], why ? ": " : "",
				why ? why : "");
			bad += !why;
		}
	}
	for (int i = 0; i < n; i++) {
		free(ts[i].b[0]);
		free(ts[i].b[1]);
	}
	free(ts);
	for (size_t j = 0; j < rec.n; j++)
		ck_assert_msg(rec.flows[j]->order_errors == 0, "%s flow %zu: call order", name, j);
	engine_free(e);
	tu_sink_free(&rec);
	return bad;
}

START_TEST(test_corpus_vs_tshark)
{
	const char *dir = tu_corpus_dir();   /* present: main() added this test only then */
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s", dir);
	struct dirent *de;
	int bad = 0, files = 0, streams = 0;
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".pcap") && !ends_with(de->d_name, ".pcapng"))
			continue;
		files++;
		bad += check_file(dir, de->d_name, &streams);
	}
	closedir(d);
	fprintf(stderr, "corpus: %d files, %d streams compared, %d mismatches\n", files, streams, bad);
	ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *corpus_suite(void)
{
	Suite *s = suite_create("reassembly_corpus");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 600);
	if (!tu_corpus_dir())
		tu_skip("test_corpus_vs_tshark", "no corpus (SLEUTH_CORPUS)");
	else if (!tu_have_tool("tshark -v"))
		tu_skip("test_corpus_vs_tshark", "tshark not found");
	else
		tcase_add_test(tc, test_corpus_vs_tshark);
	suite_add_tcase(s, tc);
	return s;
}

int main(void) { return tu_run(corpus_suite()); }
