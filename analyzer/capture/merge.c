/*
 * merge.c - several capture files as one capture, merged by timestamp.
 *
 * Every file is opened and its first record read; files are then numbered by
 * (first timestamp, name), files without a record last. A binary min-heap
 * keyed by (timestamp of the file's pending record, file number) gives the
 * next record; the file whose record was handed out reads its next one at
 * the following call, so the record handed out stays valid until then (each
 * file has its own libpcap buffer). Cost: O(log files) per record, one open
 * file and one read buffer per input, as mergecap.
 */
#include "merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

#define MERGE_READ_BUF      (1u << 20)
#define MERGE_READ_BUDGET   (16u << 20)
#define MERGE_MIN_READ_BUF  (16u << 10)

struct input {
	char *name;                 /* display name */
	struct source *src;         /* NULL once done */
	struct raw_packet next;     /* pending record when has_next */
	bool has_next;
	bool failed;
	uint64_t size;              /* regular file size, kept after close */
	uint64_t consumed;          /* bytes consumed, kept after close */
};

struct merge {
	struct input *in;           /* by file number */
	const char **names;
	size_t n;
	uint32_t *heap;             /* file numbers with a pending record */
	size_t heap_n;
	int32_t advance;            /* file whose record was handed out last, -1 none */
	uint32_t failed;
	const volatile sig_atomic_t *stop;
	merge_error_fn on_error;
	void *ctx;
};

static void report(struct merge *m, int file, sl_time last_ts, const char *msg)
{
	if (m->on_error)
		m->on_error(m->ctx, file, last_ts, msg);
}

static bool stopped(const struct merge *m) { return m->stop && *m->stop; }

/* Reads in's next record; on end or error closes its source. file is in's
 * number, -1 before the inputs are numbered. */
static void input_read(struct merge *m, struct input *in, int file)
{
	char err[512];
	sl_time last = in->has_next ? in->next.ts : 0;
	in->has_next = false;
	if (!in->src)
		return;
	int r = source_next(in->src, &in->next, err, sizeof(err));
	if (r > 0) {
		in->has_next = true;
		return;
	}
	in->consumed = source_offset(in->src);
	if (r < 0 && !stopped(m)) {
		in->failed = true;
		m->failed++;
		report(m, file, last, err);
	} else if (r == 0 && in->size && in->consumed < in->size) {
		/* libpcap takes a file that ends inside a record header for a
		 * clean end on some versions: the bytes left say otherwise. */
		snprintf(err, sizeof(err), "%s: %" PRIu64 " bytes left unread after the last complete record "
			 "(the file is cut inside a record header)", in->name, in->size - in->consumed);
		in->failed = true;
		m->failed++;
		report(m, file, last, err);
	}
	source_close(in->src);
	in->src = NULL;
}

static bool before(const struct merge *m, uint32_t a, uint32_t b)
{
	sl_time ta = m->in[a].next.ts, tb = m->in[b].next.ts;
	return ta < tb || (ta == tb && a < b);
}

static void sift_down(struct merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		if (l < m->heap_n && before(m, m->heap[l], m->heap[min]))
			min = l;
		if (r < m->heap_n && before(m, m->heap[r], m->heap[min]))
			min = r;
		if (min == i)
			return;
		uint32_t t = m->heap[i];
		m->heap[i] = m->heap[min];
		m->heap[min] = t;
		i = min;
	}
}

static int input_cmp(const void *pa, const void *pb)
{
	const struct input *a = pa, *b = pb;
	if (a->has_next != b->has_next)
		return a->has_next ? -1 : 1;
	if (a->has_next && a->next.ts != b->next.ts)
		return a->next.ts < b->next.ts ? -1 : 1;
	return strcmp(a->name, b->name);
}

struct merge *merge_open(char *const *paths, size_t n, const char *bpf, merge_error_fn on_error, void *ctx,
			 char *err, size_t errlen)
{
	if (n == 0 || n > MERGE_MAX_FILES) {
		snprintf(err, errlen, "%zu input files (1 to %u can be merged)", n, MERGE_MAX_FILES);
		return NULL;
	}
	struct merge *m = calloc(1, sizeof(*m));
	if (!m)
		goto oom;
	m->on_error = on_error;
	m->ctx = ctx;
	m->advance = -1;
	m->in = calloc(n, sizeof(*m->in));
	m->names = calloc(n + 1, sizeof(*m->names));
	m->heap = calloc(n, sizeof(*m->heap));
	if (!m->in || !m->names || !m->heap)
		goto oom;
	m->n = n;
	/* 1 MiB read buffers for a few files; many rotated files open at
	 * once share a budget of about 16 MiB. */
	size_t bufsize = n <= 16 ? MERGE_READ_BUF : SL_MAX((size_t)MERGE_MIN_READ_BUF, MERGE_READ_BUDGET / n);
	for (size_t i = 0; i < n; i++) {
		struct input *in = &m->in[i];
		char msg[512];
		in->src = source_open_file_buf(paths[i], bufsize, msg, sizeof(msg));
		in->name = strdup(in->src ? source_name(in->src) : paths[i]);
		if (!in->name)
			goto oom;
		if (!in->src) {
			in->failed = true;
			m->failed++;
			report(m, -1, 0, msg);
			continue;
		}
		if (bpf && !source_set_filter(in->src, bpf, msg, sizeof(msg))) {
			source_close(in->src);
			in->src = NULL;
			in->failed = true;
			m->failed++;
			report(m, -1, 0, msg);
			continue;
		}
		in->size = source_size(in->src);
		input_read(m, in, -1);
	}
	/* The records pending in each input point into that input's own
	 * buffer, so moving the structs does not invalidate them. */
	qsort(m->in, n, sizeof(*m->in), input_cmp);
	for (size_t i = 0; i < n; i++) {
		m->names[i] = m->in[i].name;
		if (m->in[i].has_next)
			m->heap[m->heap_n++] = (uint32_t)i;
	}
	/* Already in heap order: the inputs are sorted by their first record. */
	return m;
oom:
	snprintf(err, errlen, "out of memory opening %zu input files", n);
	merge_close(m);
	return NULL;
}

int merge_next(struct merge *m, struct raw_packet *out)
{
	if (stopped(m))
		return 0;
	if (m->advance >= 0) {
		struct input *in = &m->in[m->advance];
		input_read(m, in, m->advance);
		if (!in->has_next)
			m->heap[0] = m->heap[--m->heap_n];
		if (m->heap_n)
			sift_down(m, 0);
		m->advance = -1;
	}
	if (!m->heap_n)
		return 0;
	uint32_t idx = m->heap[0];
	*out = m->in[idx].next;
	out->frame = frame_make(idx, out->frame);
	m->advance = (int32_t)idx;
	return 1;
}

void merge_set_stop_flag(struct merge *m, const volatile sig_atomic_t *flag) { m->stop = flag; }

size_t merge_files(const struct merge *m) { return m->n; }

const char *merge_file_name(const struct merge *m, uint32_t idx)
{
	return idx < m->n ? m->in[idx].name : NULL;
}

const char *const *merge_file_names(const struct merge *m) { return m->names; }

void merge_progress(const struct merge *m, uint64_t *done, uint64_t *total)
{
	uint64_t d = 0, t = 0;
	bool all_regular = true;
	for (size_t i = 0; i < m->n; i++) {
		const struct input *in = &m->in[i];
		d += in->src ? source_offset(in->src) : in->consumed;
		t += in->size;
		if (!in->size && !in->failed)
			all_regular = false;
	}
	*done = d;
	*total = all_regular ? t : 0;
}

uint32_t merge_failed(const struct merge *m) { return m->failed; }

void merge_close(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->in && i < m->n; i++) {
		source_close(m->in[i].src);
		free(m->in[i].name);
	}
	free(m->in);
	free(m->names);
	free(m->heap);
	free(m);
}

int merge_file_linktype(const struct merge *m, uint32_t idx, const char **name)
{
	if (idx >= m->n || !m->in[idx].src)
		return -1;
	*name = source_linktype_name(m->in[idx].src);
	return source_linktype(m->in[idx].src);
}
