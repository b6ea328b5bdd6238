/*
 * extract.c - --extract DIR (see extract.h): per session ID.pcap, ID.c2s,
 * ID.s2c and ID-N.eml, written as the data arrives, and DIR/index.json.
 *
 * The directory may be one other users can reach, and the capture is
 * untrusted, so nothing here follows or replaces a link:
 *  - DIR is created 0700 when absent, then opened once with
 *    O_DIRECTORY|O_NOFOLLOW: a symbolic link there is refused, and so is a
 *    directory other users may write to without the sticky bit (they could
 *    swap our files under the reader). Every file is opened relative to
 *    that descriptor (openat), so DIR cannot be swapped mid-run either.
 *  - Files are created with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 (.c2s holds
 *    the client's bytes as sent, AUTH credentials included). A name that
 *    exists is refused; with --force a regular file of that name is removed
 *    first, a link or anything else never.
 *  - A file closed for the descriptor cap is reopened without O_CREAT, with
 *    O_NOFOLLOW, and must still be the inode we created (device, inode, one
 *    link), or it is not written.
 * Refusals and write errors are counted; the first is kept as a message
 * for the summary. Library code does not print.
 *
 * Descriptors are bounded: sessions holding open files sit on an LRU list;
 * when opening one more file would exceed EXTRACT_MAX_OPEN_FILES, the least
 * recently used session's files are closed. The pcap is written by hand in
 * the nanosecond format (magic 0xa1b23c4d, host byte order) with the first
 * packet's link type, so appending needs no state beyond "header written".
 *
 * index.json lists every kept session as it closes: its files and the map
 * from its pcap's frame numbers to the capture's, as runs [frame, count]
 * (pcap frames 1..count are capture frames frame..frame+count-1, the next
 * run goes on from there). Runs cost 16 bytes each and all sessions'
 * together are capped at EXTRACT_MAP_MAX_BYTES; past it a session's map is
 * marked truncated. The file is one JSON object, closed by extract_free.
 *
 * Paths: <decimal id>.<kind> under DIR; nothing from the traffic goes into
 * a name.
 */
#include "extract.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN  262144u
#define EXTRACT_MAP_MAX_BYTES (64u << 20)   /* frame-map runs of all open sessions */
#define EXTRACT_NAME_MAX 48                 /* "<20 digits>-<10 digits>.eml" fits */
#define INDEX_NAME "index.json"

enum xkind { XK_PCAP, XK_C2S, XK_S2C, XK_TLS_C2S, XK_TLS_S2C, XK_EML, XK__COUNT };

struct frame_run {
	uint64_t frame;         /* capture frame of the run's first packet */
	uint64_t n;
};

struct extract_session {
	struct extractor *x;
	uint64_t id;
	FILE *f[XK__COUNT];
	bool created[XK__COUNT];    /* we created the file (of the current message for XK_EML) */
	bool refused[XK__COUNT];    /* creating it failed: not retried */
	dev_t dev[XK__COUNT];       /* identity of the file we created */
	ino_t ino[XK__COUNT];
	bool pcap_header;
	int linktype;
	uint32_t eml_msg;           /* 0-based message the EML file belongs to */
	bool eml_active;
	uint32_t emls;              /* messages seen: ID-1.eml .. ID-emls.eml may exist */
	uint8_t *eml_made;          /* bit per message: its file was created by us */
	uint32_t eml_made_bytes;
	struct frame_run *runs;
	uint32_t n_runs, cap_runs;
	bool map_truncated;
	struct extract_session *prev, *next;    /* LRU of sessions with open files */
	uint32_t nopen;
};

struct extractor {
	int dirfd;
	char dir[PATH_MAX];
	bool force;
	uint64_t errors;
	char first_error[EXTRACT_ERROR_MAX];
	uint32_t open_files;
	uint64_t map_bytes;
	FILE *index;
	uint64_t indexed;           /* sessions written to the index */
	struct extract_session *lru_head, *lru_tail;    /* head = most recent */
};

static void note_error(struct extractor *x, const char *name, const char *what)
{
	x->errors++;
	if (!x->first_error[0])
		snprintf(x->first_error, sizeof(x->first_error), "%.200s/%.40s: %.70s", x->dir, name, what);
}

/* Creates the missing components of path, 0700 (only the user needs them). */
static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* Creates name under DIR for writing: never through a link, never over an
 * existing file unless --force and it is a regular file. -1 with errno. */
static int create_at(struct extractor *x, const char *name, struct stat *st)
{
	const int fl = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(x->dirfd, name, fl, 0600);
	if (fd < 0 && errno == EEXIST && x->force) {
		struct stat old;
		if (fstatat(x->dirfd, name, &old, AT_SYMLINK_NOFOLLOW) != 0)
			return -1;
		if (!S_ISREG(old.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		if (unlinkat(x->dirfd, name, 0) != 0)
			return -1;
		fd = openat(x->dirfd, name, fl, 0600);
	}
	if (fd >= 0 && fstat(fd, st) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static const char *create_error(const struct extractor *x, const char *name, int err)
{
	struct stat st;
	if ((err == EEXIST || err == ELOOP) && fstatat(x->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return "is a symbolic link: not followed or replaced";
	if (err == EEXIST)
		return x->force ? "exists and is not a regular file: not replaced"
				: "exists: not overwritten (--force replaces regular files)";
	return strerror(err);
}

struct extractor *extract_new(const char *dir, bool force, char *err, size_t errlen)
{
	if (!dir || !*dir || strlen(dir) > PATH_MAX - 64) {
		snprintf(err, errlen, "extract directory name is empty or too long");
		return NULL;
	}
	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		struct stat lst;
		if (lstat(dir, &lst) == 0 && S_ISLNK(lst.st_mode))
			snprintf(err, errlen, "%s is a symbolic link: refusing to extract through it", dir);
		else
			snprintf(err, errlen, "cannot open directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		close(fd);
		return NULL;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s can be written by other users (mode %04o): use a private directory",
			 dir, (unsigned)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	if (faccessat(fd, ".", W_OK | X_OK, 0) != 0) {
		snprintf(err, errlen, "cannot write to %s: %s", dir, strerror(errno));
		close(fd);
		return NULL;
	}
	struct extractor *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	x->dirfd = fd;
	x->force = force;
	snprintf(x->dir, sizeof(x->dir), "%s", dir);
	int ifd = create_at(x, INDEX_NAME, &st);
	if (ifd < 0 || !(x->index = fdopen(ifd, "w"))) {
		snprintf(err, errlen, "%s/%s %s", dir, INDEX_NAME, create_error(x, INDEX_NAME, errno));
		if (ifd >= 0)
			close(ifd);
		close(fd);
		free(x);
		return NULL;
	}
	fputs("{\"sessions\":[", x->index);
	return x;
}

uint64_t extract_errors(const struct extractor *x)
{
	return x ? x->errors : 0;
}

const char *extract_first_error(const struct extractor *x)
{
	return x ? x->first_error : "";
}

static void name_of(const struct extract_session *es, enum xkind k, uint32_t msg, char *buf, size_t len)
{
	static const char *const ext[] = { "pcap", "c2s", "s2c", "tls.c2s", "tls.s2c" };
	if (k == XK_EML)
		snprintf(buf, len, "%" PRIu64 "-%" PRIu32 ".eml", es->id, msg + 1);
	else
		snprintf(buf, len, "%" PRIu64 ".%s", es->id, ext[k]);
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

/* Reopens a file we created, for appending: only if it is still ours. */
static int reopen_at(struct extract_session *es, enum xkind k, const char *name)
{
	int fd = openat(es->x->dirfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != es->dev[k] ||
	    st.st_ino != es->ino[k] || st.st_nlink != 1) {
		close(fd);
		errno = EXDEV;      /* reported as "replaced" below */
		return -1;
	}
	return fd;
}

/* The open FILE for kind k, creating or reopening it; NULL on error. */
static FILE *file_for(struct extract_session *es, enum xkind k)
{
	struct extractor *x = es->x;
	if (es->f[k]) {
		lru_touch(es);
		return es->f[k];
	}
	if (es->refused[k])
		return NULL;
	while (x->open_files >= EXTRACT_MAX_OPEN_FILES && x->lru_tail)
		close_all(x->lru_tail);
	char name[EXTRACT_NAME_MAX];
	name_of(es, k, es->eml_msg, name, sizeof(name));
	int fd;
	if (es->created[k]) {
		fd = reopen_at(es, k, name);
	} else {
		struct stat st;
		fd = create_at(x, name, &st);
		if (fd >= 0) {
			es->created[k] = true;
			es->dev[k] = st.st_dev;
			es->ino[k] = st.st_ino;
			if (k == XK_EML && es->eml_msg / 8 < es->eml_made_bytes)
				es->eml_made[es->eml_msg / 8] |= (uint8_t)(1u << (es->eml_msg % 8));
		}
	}
	FILE *f = fd >= 0 ? fdopen(fd, "ab") : NULL;
	if (!f) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		es->refused[k] = true;
		note_error(x, name, e == EXDEV ? "replaced by another file while we wrote it: not written"
					       : create_error(x, name, e));
		return NULL;
	}
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

/* Adds a capture frame to the session's frame map. */
static void map_add(struct extract_session *es, uint64_t frame)
{
	if (es->map_truncated)
		return;
	if (es->n_runs) {
		struct frame_run *r = &es->runs[es->n_runs - 1];
		if (frame == r->frame + r->n) {
			r->n++;
			return;
		}
	}
	if (es->n_runs == es->cap_runs) {
		uint32_t ncap = es->cap_runs ? es->cap_runs * 2 : 8;
		uint64_t more = (uint64_t)(ncap - es->cap_runs) * sizeof(struct frame_run);
		struct frame_run *nr = NULL;
		if (ncap > es->cap_runs && es->x->map_bytes + more <= EXTRACT_MAP_MAX_BYTES)
			nr = realloc(es->runs, (size_t)ncap * sizeof(*nr));
		if (!nr) {
			es->map_truncated = true;
			return;
		}
		es->x->map_bytes += more;
		es->runs = nr;
		es->cap_runs = ncap;
	}
	es->runs[es->n_runs].frame = frame;
	es->runs[es->n_runs].n = 1;
	es->n_runs++;
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
	map_add(es, raw->frame);
}

void extract_stream(struct extract_session *es, enum sl_dir dir, const uint8_t *b, size_t n)
{
	if (!es || !n)
		return;
	FILE *f = file_for(es, dir == DIR_C2S ? XK_C2S : XK_S2C);
	if (f && fwrite(b, 1, n, f) != n)
		es->x->errors++;
}

/* Makes room for message msg's bit in eml_made (bounded by the dissector's
 * message count; on failure the file is still written, just not indexed). */
static void eml_bits_reserve(struct extract_session *es, uint32_t msg)
{
	uint32_t need = msg / 8 + 1;
	if (need <= es->eml_made_bytes)
		return;
	uint32_t ncap = SL_MAX(need, es->eml_made_bytes * 2);
	uint8_t *nb = realloc(es->eml_made, ncap);
	if (!nb)
		return;
	memset(nb + es->eml_made_bytes, 0, ncap - es->eml_made_bytes);
	es->eml_made = nb;
	es->eml_made_bytes = ncap;
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
		es->refused[XK_EML] = false;
		es->eml_active = true;
		if (msg + 1 > es->emls)
			es->emls = msg + 1;
		eml_bits_reserve(es, msg);
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

static bool eml_ours(const struct extract_session *es, uint32_t m)
{
	return m / 8 < es->eml_made_bytes && (es->eml_made[m / 8] >> (m % 8) & 1);
}

/* One index entry: {"id":N,"files":[...],"frames":[[frame,count],...]}. */
static void index_session(struct extract_session *es)
{
	FILE *f = es->x->index;
	char name[EXTRACT_NAME_MAX];
	if (!f)
		return;
	fprintf(f, "%s\n{\"id\":%" PRIu64 ",\"files\":[", es->x->indexed ? "," : "", es->id);
	bool first = true;
	for (int k = 0; k < XK_EML; k++) {
		if (!es->created[k])
			continue;
		name_of(es, (enum xkind)k, 0, name, sizeof(name));
		fprintf(f, "%s\"%s\"", first ? "" : ",", name);
		first = false;
	}
	for (uint32_t m = 0; m < es->emls; m++) {
		if (!eml_ours(es, m))
			continue;
		name_of(es, XK_EML, m, name, sizeof(name));
		fprintf(f, "%s\"%s\"", first ? "" : ",", name);
		first = false;
	}
	fputs("],\"frames\":[", f);
	for (uint32_t i = 0; i < es->n_runs; i++)
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", i ? "," : "", es->runs[i].frame, es->runs[i].n);
	fprintf(f, "],\"frames_truncated\":%s}", es->map_truncated ? "true" : "false");
	es->x->indexed++;
}

void extract_session_close(struct extract_session *es, bool keep)
{
	if (!es)
		return;
	close_all(es);
	char name[EXTRACT_NAME_MAX];
	if (keep) {
		index_session(es);
	} else {
		for (int k = 0; k < XK_EML; k++) {
			if (!es->created[k])
				continue;
			name_of(es, (enum xkind)k, 0, name, sizeof(name));
			unlinkat(es->x->dirfd, name, 0);
		}
		for (uint32_t m = 0; m < es->emls; m++) {
			if (!eml_ours(es, m))
				continue;
			name_of(es, XK_EML, m, name, sizeof(name));
			unlinkat(es->x->dirfd, name, 0);
		}
	}
	es->x->map_bytes -= (uint64_t)es->cap_runs * sizeof(struct frame_run);
	free(es->runs);
	free(es->eml_made);
	free(es);
}

void extract_finish(struct extractor *x)
{
	if (!x)
		return;
	while (x->lru_tail)
		close_all(x->lru_tail);
	if (!x->index)
		return;
	fputs("\n]}\n", x->index);
	if (fclose(x->index) != 0)
		note_error(x, INDEX_NAME, "write error");
	x->index = NULL;
}

void extract_free(struct extractor *x)
{
	if (!x)
		return;
	extract_finish(x);
	close(x->dirfd);
	free(x);
}
