/*
 * merge.c - `smtpsleuth merge [FILE...]`: joins the --json outputs of the N
 * processes of `analyze --shard K/N` into the output one process gives.
 *
 * Every shard process tracks every flow (it analyses only its own), so the
 * session objects it writes are already those of a single run, tagged with
 * "shard":{"k","n","seq"}: seq is the rank of the flow's end among the ends
 * of all flows, which is the order a single run writes sessions in. Merge
 * removes the tag and writes the sessions by seq. The summaries are added
 * up: per-flow counts (flows, sessions, protocols, causes, drops) are summed;
 * what every shard saw whole (files, records, bytes, times, packet decode
 * counts, reassembly cap hits, input error) must agree and is taken once.
 * Protocol names are ordered by the first flow that had them, as one run
 * orders them (each shard's summary lists those seqs).
 *
 * Inputs: files or pipes, or standard input when none is given or for "-".
 * With two inputs or more, each is one shard's output and they are merged
 * as they are read (memory: one line per input; shards may still be
 * running). A single input may hold several shards one after another: its
 * sessions are then held in memory (about the size of the output) and
 * sorted. A line longer than MERGE_MAX_LINE is refused.
 *
 * Exit status: 0, 1 when an input cannot be read or does not add up (a shard
 * missing or given twice, shards of different captures), 2 on usage error.
 */
#include "shard_merge.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulk_out.h"
#include "pipeline.h"
#include "report.h"

#define MERGE_MAX_LINE (16u << 20)
#define JSON_MAX_DEPTH 8
#define JSON_MAX_MEMBERS 256     /* members of one summary object or array */

#define MERGE_MAX_INPUTS 1024   /* inputs given their own large buffer; more keep stdio's */

/* ---- a small JSON reader for the summary objects ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype t;
	uint64_t num;           /* J_NUM: non-negative integers only (all our counts) */
	bool b;
	char *str;              /* J_STR (decoded, NUL-terminated) */
	uint32_t n;             /* J_ARR / J_OBJ */
	char **keys;            /* J_OBJ */
	struct jval *items;
};

struct jparser {
	const char *p, *end;
	const char *err;
};

static void jval_free(struct jval *v)
{
	if (!v)
		return;
	free(v->str);
	for (uint32_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		jval_free(&v->items[i]);
	}
	free(v->keys);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static void jskip(struct jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static bool jfail(struct jparser *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return false;
}

/* Strings: escapes are decoded for ASCII (\uXXXX below 0x80); other \u
 * escapes become '?' (names we look up are ASCII). */
static bool jparse_string(struct jparser *j, char **out)
{
	if (j->p >= j->end || *j->p != '"')
		return jfail(j, "expected a string");
	j->p++;
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	if (!s)
		return jfail(j, "out of memory");
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			char e = *j->p++;
			switch (e) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned v = 0;
				if (j->end - j->p < 4 || sscanf(j->p, "%4x", &v) != 1) {
					free(s);
					return jfail(j, "bad \\u escape");
				}
				j->p += 4;
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			default: c = e; break;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);
			if (!t) {
				free(s);
				return jfail(j, "out of memory");
			}
			s = t;
		}
		s[n++] = c;
	}
	if (j->p >= j->end) {
		free(s);
		return jfail(j, "unterminated string");
	}
	j->p++;
	s[n] = '\0';
	*out = s;
	return true;
}

static bool jparse_value(struct jparser *j, struct jval *v, int depth);

static bool jparse_members(struct jparser *j, struct jval *v, bool object, int depth)
{
	char close = object ? '}' : ']';
	j->p++;
	jskip(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return true;
	}
	v->items = calloc(JSON_MAX_MEMBERS, sizeof(*v->items));
	if (object)
		v->keys = calloc(JSON_MAX_MEMBERS, sizeof(*v->keys));
	if (!v->items || (object && !v->keys))
		return jfail(j, "out of memory");
	for (;;) {
		if (v->n == JSON_MAX_MEMBERS)
			return jfail(j, "too many members");
		jskip(j);
		if (object) {
			if (!jparse_string(j, &v->keys[v->n]))
				return false;
			jskip(j);
			if (j->p >= j->end || *j->p != ':')
				return jfail(j, "expected ':'");
			j->p++;
		}
		if (!jparse_value(j, &v->items[v->n++], depth + 1))
			return false;
		jskip(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return true;
		}
		return jfail(j, "expected ',' or the end of an object or array");
	}
}

static bool jparse_value(struct jparser *j, struct jval *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (depth > JSON_MAX_DEPTH)
		return jfail(j, "nested too deep");
	jskip(j);
	if (j->p >= j->end)
		return jfail(j, "unexpected end");
	char c = *j->p;
	if (c == '{') {
		v->t = J_OBJ;
		return jparse_members(j, v, true, depth);
	}
	if (c == '[') {
		v->t = J_ARR;
		return jparse_members(j, v, false, depth);
	}
	if (c == '"') {
		v->t = J_STR;
		return jparse_string(j, &v->str);
	}
	if (c >= '0' && c <= '9') {
		v->t = J_NUM;
		char *e;
		errno = 0;
		v->num = strtoull(j->p, &e, 10);
		if (errno || e > j->end)
			return jfail(j, "bad number");
		j->p = e;
		if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
			return jfail(j, "a count that is not an integer");
		return true;
	}
	static const struct { const char *w; enum jtype t; bool b; } words[] = {
		{ "null", J_NULL, false }, { "true", J_BOOL, true }, { "false", J_BOOL, false },
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(words); i++) {
		size_t l = strlen(words[i].w);
		if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, words[i].w, l)) {
			j->p += l;
			v->t = words[i].t;
			v->b = words[i].b;
			return true;
		}
	}
	return jfail(j, "unexpected character");
}

static const struct jval *jget(const struct jval *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (uint32_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

/* ---- the merge ---- */

struct merged_session {
	uint64_t seq;
	char *line;             /* without the shard tag, with its newline */
	size_t len;
};

struct proto_acc {
	char name[32];
	uint64_t n, first_seq;
};

struct merge {
	struct merged_session *sess;
	size_t n_sess, cap_sess;
	uint32_t n_shards;              /* N, from the first tagged line */
	uint8_t *summary_seen;          /* per K */
	uint32_t summaries;
	struct summary sum;             /* the fields every shard saw whole, from the first summary */
	struct proto_acc protos[4 * REPORT_MAX_PROTOCOLS];   /* names past it go to (other) */
	uint32_t n_protos;
	bool add_all;                   /* live --fanout: parts of one capture, every count adds up */
	uint64_t proto_order;           /* add_all: order of first appearance */
	char err[512];
};

__attribute__((format(printf, 2, 3)))
static bool merge_fail(struct merge *m, const char *fmt, ...)
{
	if (!m->err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool merge_shard_n(struct merge *m, uint32_t k, uint32_t n, const char *where)
{
	if (n < 1 || n > SESSIONS_MAX_SHARDS || k < 1 || k > n)
		return merge_fail(m, "%s: shard %" PRIu32 "/%" PRIu32 " out of range", where, k, n);
	if (!m->n_shards) {
		m->n_shards = n;
		m->summary_seen = calloc(n + 1, 1);
		if (!m->summary_seen)
			return merge_fail(m, "%s: out of memory", where);
	} else if (m->n_shards != n) {
		return merge_fail(m, "%s: shards of different splits (N=%" PRIu32 " and N=%" PRIu32 ")", where, n, m->n_shards);
	}
	return true;
}

static const char session_head[] = "{\"type\":\"session\"";

/* Reads the tag of `{"type":"session","shard":{"k":K,"n":N,"seq":S},REST`:
 * its seq, and the offset of REST (the ',' after the tag). The merged line
 * is session_head followed by REST. */
static bool session_tag(struct merge *m, const char *line, size_t len, const char *where, uint64_t *seq,
			size_t *rest)
{
	static const char head[] = "{\"type\":\"session\",\"shard\":{";
	const size_t hl = sizeof(head) - 1;
	unsigned k = 0, n = 0;
	unsigned long long sq = 0;
	int used = 0;
	if (len < hl || memcmp(line, head, hl) ||
	    sscanf(line + hl, "\"k\":%u,\"n\":%u,\"seq\":%llu}%n", &k, &n, &sq, &used) != 3 || !used)
		return merge_fail(m, "%s: a session without a shard tag (run analyze with --json --shard K/N)", where);
	if (!merge_shard_n(m, k, n, where))
		return false;
	*seq = sq;
	*rest = hl + (size_t)used;
	return true;
}

/* Keeps a session line for the sort (inputs read whole). */
static bool session_store(struct merge *m, const char *line, size_t len, size_t rest, uint64_t seq, const char *where)
{
	const size_t kl = sizeof(session_head) - 1;
	size_t restlen = len - rest;
	char *out = malloc(kl + restlen + 1);
	if (!out)
		return merge_fail(m, "%s: out of memory", where);
	memcpy(out, session_head, kl);
	memcpy(out + kl, line + rest, restlen);
	out[kl + restlen] = '\0';
	if (m->n_sess == m->cap_sess) {
		size_t nc = m->cap_sess ? m->cap_sess * 2 : 1024;
		struct merged_session *t = realloc(m->sess, nc * sizeof(*t));
		if (!t) {
			free(out);
			return merge_fail(m, "%s: out of memory", where);
		}
		m->sess = t;
		m->cap_sess = nc;
	}
	m->sess[m->n_sess++] = (struct merged_session){ .seq = seq, .line = out, .len = kl + restlen };
	return true;
}

static bool parse_time(const struct jval *v, sl_time *out)
{
	if (!v || v->t == J_NULL) {
		*out = 0;
		return true;
	}
	if (v->t != J_STR)
		return false;
	struct tm tm = { 0 };
	long usec = 0;
	int used = 0;
	if (sscanf(v->str, "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &usec, &used) != 7 || v->str[used])
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (sl_time)timegm(&tm) * NS_PER_SEC + (sl_time)usec * NS_PER_USEC;
	return true;
}

static uint64_t jnum(const struct jval *o, const char *key, bool *ok)
{
	const struct jval *v = jget(o, key);
	if (!v || v->t != J_NUM) {
		*ok = false;
		return 0;
	}
	return v->num;
}

static bool same(struct merge *m, uint64_t a, uint64_t b, const char *what, const char *where)
{
	if (a != b)
		return merge_fail(m, "%s: shards disagree on %s: were they run on the same capture?", where, what);
	return true;
}

static bool merge_protocols(struct merge *m, const struct jval *protos, const struct jval *firsts, const char *where)
{
	uint32_t named = 0;
	for (uint32_t i = 0; protos && i < protos->n; i++) {
		const struct jval *v = &protos->items[i];
		if (v->t != J_NUM)
			return merge_fail(m, "%s: bad protocols count", where);
		if (!strcmp(protos->keys[i], "(other)")) {
			m->sum.protocols_other += v->num;
			continue;
		}
		uint64_t first;
		if (m->add_all) {
			first = ++m->proto_order;
		} else {
			if (!firsts || named >= firsts->n || firsts->items[named].t != J_NUM)
				return merge_fail(m, "%s: protocol_first_seq does not match protocols", where);
			first = firsts->items[named++].num;
		}
		uint32_t j;
		for (j = 0; j < m->n_protos; j++)
			if (!strcmp(m->protos[j].name, protos->keys[i]))
				break;
		if (j == m->n_protos) {
			if (m->n_protos == SL_ARRAY_LEN(m->protos)) {
				m->sum.protocols_other += v->num;
				continue;
			}
			snprintf(m->protos[j].name, sizeof(m->protos[j].name), "%s", protos->keys[i]);
			m->protos[j].first_seq = first;
			m->n_protos++;
		}
		m->protos[j].n += v->num;
		if (first < m->protos[j].first_seq)
			m->protos[j].first_seq = first;
	}
	return true;
}

static bool merge_summary_line(struct merge *m, const char *line, size_t len, const char *where)
{
	struct jparser j = { .p = line, .end = line + len };
	struct jval root;
	bool ok = jparse_value(&j, &root, 0);
	if (!ok) {
		jval_free(&root);
		return merge_fail(m, "%s: summary is not valid JSON (%s)", where, j.err);
	}
	const struct jval *sh = jget(&root, "shard");
	bool nums = true;
	uint32_t k = (uint32_t)jnum(sh, "k", &nums), n = (uint32_t)jnum(sh, "n", &nums);
	if (m->add_all) {
		nums = true;
	} else if (!sh || !nums) {
		jval_free(&root);
		return merge_fail(m, "%s: a summary without a shard tag (run analyze with --json --shard K/N)", where);
	}
	if (!m->add_all) {
		if (!merge_shard_n(m, k, n, where)) {
			jval_free(&root);
			return false;
		}
		if (m->summary_seen[k]) {
			jval_free(&root);
			return merge_fail(m, "%s: shard %" PRIu32 " given twice", where, k);
		}
		m->summary_seen[k] = 1;
	}

	struct summary s = { 0 };
	s.files = (uint32_t)jnum(&root, "files", &nums);
	s.records = jnum(&root, "records", &nums);
	s.bytes_read = jnum(&root, "bytes_read", &nums);
	bool times = parse_time(jget(&root, "first"), &s.first_ts) && parse_time(jget(&root, "last"), &s.last_ts);
	s.decode[DEC_TCP] = jnum(&root, "packets_decoded", &nums);
	const struct jval *und = jget(&root, "packets_undecodable");
	for (int i = 0; i < DEC__COUNT; i++)
		if (i != DEC_TCP)
			s.decode[i] = jnum(und, decode_result_name((enum decode_result)i), &nums);
	s.ooo_cap_hits = jnum(&root, "reassembly_cap_hits", &nums);
	const struct jval *err = jget(&root, "error");
	if (err && err->t == J_STR)
		snprintf(s.error, sizeof(s.error), "%s", err->str);

	bool first = m->summaries++ == 0;
	if (first) {
		m->sum.files = s.files;
		m->sum.records = s.records;
		m->sum.bytes_read = s.bytes_read;
		m->sum.first_ts = s.first_ts;
		m->sum.last_ts = s.last_ts;
		memcpy(m->sum.decode, s.decode, sizeof(s.decode));
		m->sum.ooo_cap_hits = s.ooo_cap_hits;
		memcpy(m->sum.error, s.error, sizeof(s.error));
	} else if (m->add_all) {
		/* Parts of one input: every packet went to one part. */
		m->sum.files = SL_MAX(m->sum.files, s.files);
		m->sum.records += s.records;
		m->sum.bytes_read += s.bytes_read;
		if (s.first_ts && (!m->sum.first_ts || s.first_ts < m->sum.first_ts))
			m->sum.first_ts = s.first_ts;
		m->sum.last_ts = SL_MAX(m->sum.last_ts, s.last_ts);
		for (int i = 0; i < DEC__COUNT; i++)
			m->sum.decode[i] += s.decode[i];
		m->sum.ooo_cap_hits += s.ooo_cap_hits;
		if (!m->sum.error[0])
			memcpy(m->sum.error, s.error, sizeof(s.error));
	} else {
		ok = same(m, m->sum.files, s.files, "files", where) && same(m, m->sum.records, s.records, "records", where) &&
		     same(m, m->sum.bytes_read, s.bytes_read, "bytes_read", where) &&
		     same(m, (uint64_t)m->sum.first_ts, (uint64_t)s.first_ts, "first", where) &&
		     same(m, (uint64_t)m->sum.last_ts, (uint64_t)s.last_ts, "last", where) &&
		     same(m, m->sum.ooo_cap_hits, s.ooo_cap_hits, "reassembly_cap_hits", where) &&
		     same(m, (uint64_t)strcmp(m->sum.error, s.error), 0, "error", where);
		for (int i = 0; ok && i < DEC__COUNT; i++)
			ok = same(m, m->sum.decode[i], s.decode[i], "packets", where);
	}

	m->sum.flows += jnum(&root, "flows", &nums);
	m->sum.smtp_sessions += jnum(&root, "smtp_sessions", &nums);
	m->sum.other_flows += jnum(&root, "other_flows", &nums);
	const struct jval *drop = jget(&root, "flows_dropped");
	m->sum.flows_evicted += jnum(drop, "evicted", &nums);
	m->sum.flows_untracked += jnum(drop, "untracked", &nums);
	m->sum.sessions_reported += jnum(&root, "sessions_reported", &nums);
	const struct jval *causes = jget(&root, "causes");
	for (int i = 0; i < CAUSE__COUNT; i++)
		m->sum.causes[i] += jnum(causes, cause_name((enum cause)i), &nums);
	const struct jval *kd = jget(&root, "kernel_drops");
	if (kd && kd->t == J_NUM) {
		m->sum.kernel_stats = true;
		m->sum.kernel_drops += kd->num;
	}
	ok = ok && merge_protocols(m, jget(&root, "protocols"), jget(sh, "protocol_first_seq"), where);
	jval_free(&root);
	if (ok && (!nums || !times))
		return merge_fail(m, "%s: the summary lacks a count or a time", where);
	return ok;
}

/* One input: a file or stdin, read line by line. */
struct input {
	FILE *f;
	const char *name;
	char *line;
	size_t cap;
	uint64_t lineno;
	bool pending;           /* line holds a session: seq, len, rest */
	uint64_t seq, last_seq;
	size_t len, rest;
	char where[300];
};

/* Reads up to the next session line (left pending) or the end; summary
 * lines on the way are added up. False on an error (in m->err). */
static bool input_next(struct merge *m, struct input *in)
{
	ssize_t len;
	in->pending = false;
	while ((len = getline(&in->line, &in->cap, in->f)) >= 0) {
		in->lineno++;
		snprintf(in->where, sizeof(in->where), "%s:%" PRIu64, in->name, in->lineno);
		if ((size_t)len > MERGE_MAX_LINE)
			return merge_fail(m, "%s: line longer than %u bytes", in->where, MERGE_MAX_LINE);
		size_t l = (size_t)len;
		while (l && (in->line[l - 1] == '\n' || in->line[l - 1] == '\r'))
			l--;
		if (!l)
			continue;
		if (!strncmp(in->line, session_head, sizeof(session_head) - 1)) {
			if (!session_tag(m, in->line, l, in->where, &in->seq, &in->rest))
				return false;
			in->len = l;
			in->pending = true;
			return true;
		}
		if (strncmp(in->line, "{\"type\":\"summary\"", 17))
			return merge_fail(m, "%s: not a line of smtpsleuth --json output", in->where);
		if (!merge_summary_line(m, in->line, l, in->where))
			return false;
	}
	if (ferror(in->f))
		return merge_fail(m, "%s: read error: %s", in->name, strerror(errno));
	return true;
}

/* One input, which may hold several shards one after the other: every
 * session is kept, then sorted by merge_finish(). */
static bool merge_buffered(struct merge *m, struct input *in)
{
	for (;;) {
		if (!input_next(m, in))
			return false;
		if (!in->pending)
			return true;
		if (!session_store(m, in->line, in->len, in->rest, in->seq, in->where))
			return false;
	}
}

/* Several inputs, each one shard's output (its sessions in seq order): a
 * k-way merge that writes each session as soon as no input can come with an
 * earlier one, so shards can be piped in while they run
 * (`merge <(analyze --shard 1/2 ...) <(analyze --shard 2/2 ...)`). */
static bool merge_streaming(struct merge *m, struct input *ins, int n, FILE *out)
{
	uint64_t last = 0;
	bool any = false;
	for (int i = 0; i < n; i++)
		if (!input_next(m, &ins[i]))
			return false;
	for (;;) {
		struct input *best = NULL;
		for (int i = 0; i < n; i++)
			if (ins[i].pending && (!best || ins[i].seq < best->seq))
				best = &ins[i];
		if (!best)
			return true;
		if (any && best->seq <= last)
			return merge_fail(m, "%s: a session is given twice (seq %" PRIu64 ")", best->where, best->seq);
		fwrite(session_head, 1, sizeof(session_head) - 1, out);
		fwrite(best->line + best->rest, 1, best->len - best->rest, out);
		fputc('\n', out);
		last = best->seq;
		any = true;
		best->last_seq = best->seq;
		if (!input_next(m, best))
			return false;
		if (best->pending && best->seq <= best->last_seq)
			return merge_fail(m, "%s: sessions out of order: an input holds more than one shard "
					  "(give each shard's output as its own input, or all of them on stdin)", best->where);
	}
}

static int cmp_session(const void *a, const void *b)
{
	const struct merged_session *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_proto(const void *a, const void *b)
{
	const struct proto_acc *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static void merge_write_summary(struct merge *m, FILE *out);

static bool merge_finish(struct merge *m, FILE *out)
{
	if (!m->n_shards)
		return merge_fail(m, "no input");
	for (uint32_t k = 1; k <= m->n_shards; k++)
		if (!m->summary_seen[k])
			return merge_fail(m, "the summary of shard %" PRIu32 "/%" PRIu32 " is missing", k, m->n_shards);
	if (m->n_sess)
		qsort(m->sess, m->n_sess, sizeof(*m->sess), cmp_session);
	for (size_t i = 1; i < m->n_sess; i++)
		if (m->sess[i].seq == m->sess[i - 1].seq)
			return merge_fail(m, "a session is given twice (seq %" PRIu64 ")", m->sess[i].seq);
	for (size_t i = 0; i < m->n_sess; i++) {
		fwrite(m->sess[i].line, 1, m->sess[i].len, out);
		fputc('\n', out);
	}
	merge_write_summary(m, out);
	return true;
}

static void merge_write_summary(struct merge *m, FILE *out)
{
	qsort(m->protos, m->n_protos, sizeof(*m->protos), cmp_proto);
	for (uint32_t i = 0; i < m->n_protos; i++) {
		if (i < REPORT_MAX_PROTOCOLS) {
			memcpy(m->sum.protocols[i].name, m->protos[i].name, sizeof(m->sum.protocols[i].name));
			m->sum.protocols[i].n = m->protos[i].n;
			m->sum.n_protocols++;
		} else {
			m->sum.protocols_other += m->protos[i].n;
		}
	}
	report_json_summary_line(out, &m->sum);
}

bool merge_add_summaries(const char *const *lines, const size_t *lens, int n, FILE *out, char *err, size_t errlen)
{
	struct merge *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	m->add_all = true;
	bool ok = true;
	for (int i = 0; ok && i < n; i++) {
		size_t l = lens[i];
		while (l && (lines[i][l - 1] == '\n' || lines[i][l - 1] == '\r'))
			l--;
		ok = merge_summary_line(m, lines[i], l, "summary");
	}
	if (ok)
		merge_write_summary(m, out);
	else
		snprintf(err, errlen, "%s", m->err);
	free(m);
	return ok;
}

static void merge_usage(FILE *f)
{
	fprintf(f, "usage: smtpsleuth merge [FILE...]   (no FILE or - reads stdin)\n"
		   "\n"
		   "Joins the --json output of 'smtpsleuth analyze --json --shard K/N' for K = 1..N\n"
		   "into the output of one 'smtpsleuth analyze --json' run: sessions in the same order,\n"
		   "one summary.\n"
		   "\noptions:\n"
		   "  -h, --help             this text\n");
}

int merge_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			merge_usage(stdout);
			return 0;
		}
		merge_usage(stderr);
		return 2;
	}
	struct merge *m = calloc(1, sizeof(*m));
	if (!m) {
		fprintf(stderr, "smtpsleuth merge: out of memory\n");
		return 1;
	}
	int n = argc - optind;
	struct input *ins = calloc(n > 0 ? (size_t)n : 1, sizeof(*ins));
	bool ok = ins != NULL;
	if (!ins)
		snprintf(m->err, sizeof(m->err), "out of memory");
	for (int i = 0; ok && i < n; i++) {
		const char *path = argv[optind + i];
		ins[i].name = strcmp(path, "-") ? path : "(stdin)";
		ins[i].f = strcmp(path, "-") ? fopen(path, "r") : stdin;
		if (!ins[i].f) {
			snprintf(m->err, sizeof(m->err), "%s: %s", path, strerror(errno));
			ok = false;
		}
	}
	/* Large stdio buffers and pipes (bulk_out.h): the outputs run to
	 * hundreds of MB, and 4 KiB reads and writes made the merge's system
	 * time a tenth of a shard's. */
	char *bufs[MERGE_MAX_INPUTS + 2] = { NULL };
	for (int i = 0; ok && i < n && i < MERGE_MAX_INPUTS; i++)
		bulk_buffer(ins[i].f, &bufs[i]);
	if (n == 0)
		bulk_buffer(stdin, &bufs[MERGE_MAX_INPUTS]);
	bulk_buffer(stdout, &bufs[MERGE_MAX_INPUTS + 1]);
	if (ok && n == 0) {
		struct input in = { .f = stdin, .name = "(stdin)" };
		ok = merge_buffered(m, &in);
		free(in.line);
	} else if (ok && n == 1) {
		ok = merge_buffered(m, &ins[0]);
	} else if (ok) {
		ok = merge_streaming(m, ins, n, stdout);
	}
	ok = ok && merge_finish(m, stdout);
	if (!ok)
		fprintf(stderr, "smtpsleuth merge: %s\n", m->err);
	for (int i = 0; ins && i < n; i++) {
		if (ins[i].f && ins[i].f != stdin)
			fclose(ins[i].f);
		free(ins[i].line);
	}
	free(ins);
	for (size_t i = 0; i < m->n_sess; i++)
		free(m->sess[i].line);
	free(m->sess);
	free(m->summary_seen);
	free(m);
	/* the files' buffers go with the files; stdin's and stdout's stay
	 * theirs until the process exits */
	for (int i = 0; i < MERGE_MAX_INPUTS; i++)
		free(bufs[i]);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return ok ? 0 : 1;
}
