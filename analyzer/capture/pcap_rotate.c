/*
 * pcap_rotate.c - the size-rotating pcap writer behind `live -w`.
 *
 * Invariants: at most one file is open; file_bytes is exactly what has been
 * handed to pcap_dump for the open file (file header + record headers +
 * captured bytes), so the rotation decision does not depend on stdio's
 * buffering; after the first error the writer refuses every call, so a
 * half-written file is never silently continued in another one.
 *
 * The byte count is ours rather than pcap_dump_ftell64() because ftell on a
 * buffered stream costs a seek-position query per record on some libcs and
 * returns -1 on pipes; the count is exact because the pcap record layout is
 * fixed (16-byte header + caplen).
 */
#include "pcap_rotate.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pcap_rotate {
	pcap_t *pc;
	pcap_dumper_t *d;
	char *base;
	uint64_t max_bytes;
	unsigned max_files;
	unsigned idx;
	uint64_t files_opened;
	uint64_t file_bytes;
	uint64_t file_records;
	bool failed;
};

int pcap_rotate_name(char *buf, size_t len, const char *base, unsigned idx)
{
	int n = idx == 0 ? snprintf(buf, len, "%s", base)
			 : snprintf(buf, len, "%s.%u", base, idx);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* Opens file number idx; on failure sets err and marks the writer failed. */
static int open_index(struct pcap_rotate *w, unsigned idx, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (pcap_rotate_name(path, sizeof(path), w->base, idx) < 0) {
		snprintf(err, errlen, "%s: file name too long", w->base);
		w->failed = true;
		return -1;
	}
	pcap_dumper_t *d = pcap_dump_open(w->pc, path);
	if (!d) {
		snprintf(err, errlen, "%s", pcap_geterr(w->pc));
		w->failed = true;
		return -1;
	}
	w->d = d;
	w->idx = idx;
	w->files_opened++;
	w->file_bytes = PCAP_ROTATE_FILE_HDR;
	w->file_records = 0;
	return 0;
}

/* Flushes the open file and reports a write error stdio may have kept. */
/* Says which file failed and why (errno as the failed call left it), and
 * stops all further writing. Returns -1 for the caller to pass on. */
static int write_failed(struct pcap_rotate *w, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (pcap_rotate_name(path, sizeof(path), w->base, w->idx) < 0)
		snprintf(path, sizeof(path), "%s", w->base);
	snprintf(err, errlen, "%s: write failed: %s", path, errno ? strerror(errno) : "I/O error");
	w->failed = true;
	return -1;
}

static int flush_current(struct pcap_rotate *w, char *err, size_t errlen)
{
	if (!w->d)
		return 0;
	FILE *f = pcap_dump_file(w->d);
	errno = 0;
	if (pcap_dump_flush(w->d) != 0 || ferror(f)) {
		return write_failed(w, err, errlen);
	}
	return 0;
}

struct pcap_rotate *pcap_rotate_open(pcap_t *pc, const char *base, uint64_t max_bytes,
				     unsigned max_files, char *err, size_t errlen)
{
	if (max_files > PCAP_ROTATE_MAX_FILES) {
		snprintf(err, errlen, "too many files in the ring (at most %u)", PCAP_ROTATE_MAX_FILES);
		return NULL;
	}
	struct pcap_rotate *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->base = strdup(base);
	if (!w->base) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->pc = pc;
	w->max_bytes = max_bytes;
	w->max_files = max_files;
	if (open_index(w, 0, err, errlen) < 0) {
		free(w->base);
		free(w);
		return NULL;
	}
	return w;
}

int pcap_rotate_write(struct pcap_rotate *w, const struct pcap_pkthdr *h,
		      const uint8_t *data, char *err, size_t errlen)
{
	if (w->failed) {
		snprintf(err, errlen, "%s: writer stopped after an earlier error", w->base);
		return -1;
	}
	uint64_t rec = (uint64_t)PCAP_ROTATE_REC_HDR + h->caplen;
	if (w->max_bytes && w->file_records > 0 && w->file_bytes + rec > w->max_bytes) {
		if (flush_current(w, err, errlen) < 0)
			return -1;
		pcap_dump_close(w->d);
		w->d = NULL;
		unsigned next = w->idx + 1;
		if (w->max_files && next >= w->max_files)
			next = 0;
		else if (next == 0 || next > PCAP_ROTATE_MAX_FILES)
			next = 1;   /* wrapped unsigned or absurd count: never reuse base silently */
		if (open_index(w, next, err, errlen) < 0)
			return -1;
	}
	errno = 0;
	pcap_dump((u_char *)w->d, h, data);
	/* stdio writes out a full buffer inside pcap_dump; catching its error
	 * here keeps errno meaningful (a later flush would only see the flag) */
	if (ferror(pcap_dump_file(w->d))) {
		return write_failed(w, err, errlen);
	}
	w->file_bytes += rec;
	w->file_records++;
	return 0;
}

int pcap_rotate_flush(struct pcap_rotate *w, char *err, size_t errlen)
{
	if (w->failed) {
		snprintf(err, errlen, "%s: writer stopped after an earlier error", w->base);
		return -1;
	}
	return flush_current(w, err, errlen);
}

unsigned pcap_rotate_index(const struct pcap_rotate *w)
{
	return w->idx;
}

uint64_t pcap_rotate_files_opened(const struct pcap_rotate *w)
{
	return w->files_opened;
}

uint64_t pcap_rotate_file_bytes(const struct pcap_rotate *w)
{
	return w->file_bytes;
}

int pcap_rotate_close(struct pcap_rotate *w, char *err, size_t errlen)
{
	if (!w)
		return 0;
	int rc = 0;
	if (w->d) {
		if (!w->failed && flush_current(w, err, errlen) < 0)
			rc = -1;
		pcap_dump_close(w->d);
	}
	free(w->base);
	free(w);
	return rc;
}
