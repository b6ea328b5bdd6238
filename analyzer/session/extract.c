/*
 * extract.c - --extract DIR (see extract.h): per session ID.pcap, ID.c2s,
 * ID.s2c and ID-N.eml, written as the data arrives.
 *
 * Descriptors are bounded: sessions holding open files sit on an LRU list;
 * when opening one more file would exceed EXTRACT_MAX_OPEN_FILES, the least
 * recently used session's files are closed. A file is created (truncated)
 * the first time it is opened and reopened in append mode afterwards, so a
 * closed file loses nothing. The pcap is written by hand in the nanosecond
 * format (magic 0xa1b23c4d, host byte order) with the first packet's link
 * type, so appending needs no state beyond "header written".
 *
 * Paths: DIR/<decimal id>.<kind>, nothing from the traffic goes into a
 * name. Errors (disk full, permissions) are counted, never printed.
 */
#include "extract.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN  262144u

enum xkind { XK_PCAP, XK_C2S, XK_S2C, XK_TLS_C2S, XK_TLS_S2C, XK_EML, XK__COUNT };

struct extract_session {
	struct extractor *x;
	uint64_t id;
	FILE *f[XK__COUNT];
	bool created[XK__COUNT];
	bool pcap_header;
	int linktype;
	uint32_t eml_msg;           /* 0-based message the EML file belongs to */
	bool eml_active;
	uint32_t emls;              /* ID-1.eml .. ID-emls.eml exist */
	struct extract_session *prev, *next;    /* LRU of sessions with open files */
	uint32_t nopen;
};

struct extractor {
	char dir[PATH_MAX];
	uint64_t errors;
	uint32_t open_files;
	struct extract_session *lru_head, *lru_tail;    /* head = most recent */
};

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

struct extractor *extract_new(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (!dir || !*dir || strlen(dir) > PATH_MAX - 64) {
		snprintf(err, errlen, "extract directory name is empty or too long");
		return NULL;
	}
	if (mkdir_p(dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno ? errno : ENOTDIR));
		return NULL;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "cannot write to %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct extractor *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(x->dir, sizeof(x->dir), "%s", dir);
	return x;
}

uint64_t extract_errors(const struct extractor *x)
{
	return x ? x->errors : 0;
}

static void path_of(const struct extract_session *es, enum xkind k, uint32_t msg, char *buf, size_t len)
{
	static const char *const ext[] = { "pcap", "c2s", "s2c", "tls.c2s", "tls.s2c" };
	if (k == XK_EML)
		snprintf(buf, len, "%s/%" PRIu64 "-%" PRIu32 ".eml", es->x->dir, es->id, msg + 1);
	else
		snprintf(buf, len, "%s/%" PRIu64 ".%s", es->x->dir, es->id, ext[k]);
}

static void lru_unlink(struct extract_session *es)
{
	struct extractor *x = es->x;
	if (es->prev)
		es->prev->next = es->next;
	else if (x->lru_head == es)
		x->lru_head = es->next;
	if (es->next)
		es->next->prev = es->prev;
	else if (x->lru_tail == es)
		x->lru_tail = es->prev;
	es->prev = es->next = NULL;
}

static void lru_touch(struct extract_session *es)
{
	struct extractor *x = es->x;
	if (x->lru_head == es)
		return;
	lru_unlink(es);
	es->next = x->lru_head;
	if (x->lru_head)
		x->lru_head->prev = es;
	x->lru_head = es;
	if (!x->lru_tail)
		x->lru_tail = es;
}

static void close_kind(struct extract_session *es, enum xkind k)
{
	if (!es->f[k])
		return;
	if (fclose(es->f[k]) != 0)
		es->x->errors++;
	es->f[k] = NULL;
	es->x->open_files--;
	es->nopen--;
	if (!es->nopen)
		lru_unlink(es);
}

static void close_all(struct extract_session *es)
{
	for (int k = 0; k < XK__COUNT; k++)
		close_kind(es, (enum xkind)k);
}

/* The open FILE for kind k, creating or reopening it; NULL on error. */
static FILE *file_for(struct extract_session *es, enum xkind k)
{
	struct extractor *x = es->x;
	if (es->f[k]) {
		lru_touch(es);
		return es->f[k];
	}
	while (x->open_files >= EXTRACT_MAX_OPEN_FILES && x->lru_tail)
		close_all(x->lru_tail);
	char path[PATH_MAX + 64];
	path_of(es, k, es->eml_msg, path, sizeof(path));
	FILE *f = fopen(path, es->created[k] ? "ab" : "wb");
	if (!f) {
		x->errors++;
		return NULL;
	}
	es->created[k] = true;
	es->f[k] = f;
	es->nopen++;
	x->open_files++;
	lru_touch(es);
	return f;
}

struct extract_session *extract_session_open(struct extractor *x, uint64_t id)
{
	if (!x)
		return NULL;
	struct extract_session *es = calloc(1, sizeof(*es));
	if (!es) {
		x->errors++;
		return NULL;
	}
	es->x = x;
	es->id = id;
	return es;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);   /* host order; the magic tells readers which */
}

void extract_packet(struct extract_session *es, const struct raw_packet *raw)
{
	if (!es || !raw)
		return;
	if (es->pcap_header && raw->linktype != es->linktype) {
		es->x->errors++;    /* one pcap holds one link type */
		return;
	}
	FILE *f = file_for(es, XK_PCAP);
	if (!f)
		return;
	if (!es->pcap_header) {
		uint8_t h[24];
		put32(h, PCAP_MAGIC_NS);
		uint16_t vmaj = 2, vmin = 4;
		memcpy(h + 4, &vmaj, 2);
		memcpy(h + 6, &vmin, 2);
		put32(h + 8, 0);
		put32(h + 12, 0);
		put32(h + 16, PCAP_SNAPLEN);
		put32(h + 20, (uint32_t)raw->linktype);
		if (fwrite(h, 1, sizeof(h), f) != sizeof(h)) {
			es->x->errors++;
			return;
		}
		es->pcap_header = true;
		es->linktype = raw->linktype;
	}
	uint32_t caplen = SL_MIN(raw->caplen, PCAP_SNAPLEN);
	uint8_t rh[16];
	sl_time ts = raw->ts < 0 ? 0 : raw->ts;
	put32(rh, (uint32_t)(ts / NS_PER_SEC));
	put32(rh + 4, (uint32_t)(ts % NS_PER_SEC));
	put32(rh + 8, caplen);
	put32(rh + 12, raw->wirelen < caplen ? caplen : raw->wirelen);
	if (fwrite(rh, 1, sizeof(rh), f) != sizeof(rh) || (caplen && fwrite(raw->data, 1, caplen, f) != caplen))
		es->x->errors++;
}

void extract_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n)
{
	if (!es || !n)
		return;
	FILE *f = file_for(es, dir == DIR_C2S ? XK_C2S : XK_S2C);
	if (f && fwrite(b, 1, n, f) != n)
		es->x->errors++;
}

void extract_tls_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n)
{
	if (!es || !n)
		return;
	FILE *f = file_for(es, dir == DIR_C2S ? XK_TLS_C2S : XK_TLS_S2C);
	if (f && fwrite(b, 1, n, f) != n)
		es->x->errors++;
}

void extract_body(void *ctx, uint32_t msg, const uint8_t *b, size_t n, bool done)
{
	struct extract_session *es = ctx;
	if (!es)
		return;
	if (!es->eml_active || msg != es->eml_msg) {
		close_kind(es, XK_EML);
		es->eml_msg = msg;
		es->created[XK_EML] = false;    /* a new message gets a new file */
		es->eml_active = true;
		if (msg + 1 > es->emls)
			es->emls = msg + 1;
	}
	if (n) {
		FILE *f = file_for(es, XK_EML);
		if (f && fwrite(b, 1, n, f) != n)
			es->x->errors++;
	} else if (!es->created[XK_EML]) {
		(void)file_for(es, XK_EML);     /* an empty message still gets its file */
	}
	if (done) {
		close_kind(es, XK_EML);
		es->eml_active = false;
	}
}

void extract_session_close(struct extract_session *es, bool keep)
{
	if (!es)
		return;
	close_all(es);
	if (!keep) {
		char path[PATH_MAX + 64];
		for (int k = 0; k < XK_EML; k++) {
			if (!es->created[k])
				continue;
			path_of(es, (enum xkind)k, 0, path, sizeof(path));
			unlink(path);
		}
		for (uint32_t m = 0; m < es->emls; m++) {
			path_of(es, XK_EML, m, path, sizeof(path));
			unlink(path);
		}
	}
	free(es);
}

void extract_free(struct extractor *x)
{
	if (!x)
		return;
	while (x->lru_tail)
		close_all(x->lru_tail);
	free(x);
}
