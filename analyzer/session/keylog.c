/*
 * keylog.c - the NSS key log reader and its client-random table.
 *
 * Storage: entries live in fixed-size chunks that are never reallocated, so
 * an entry pointer stays valid until keylog_free and no secret is ever left
 * behind in memory handed back by realloc. The hash index is a separate array
 * of chain heads (entry index + 1) that is rebuilt when the table doubles; it
 * holds no secret. The hash of a client random mixes all of its bytes with a
 * per-table random seed, so a crafted key log cannot put every line in one
 * chain.
 *
 * Following (live): keylog_follow() remembers the file, its identity and how
 * many bytes of complete lines were read (all of them at the start);
 * keylog_find_fresh() reads the lines appended since (at most
 * KEYLOG_FOLLOW_READ_MAX bytes a call) when an entry
 * is missing or incomplete, and starts again from the top of a file that was
 * truncated or replaced (rotated). A partial last line is left for the next
 * read: the writer may be in the middle of it.
 *
 * Secrets: the line buffer is cleansed after every line, the chunks when the
 * table is freed. Nothing here prints; errors name the path and the errno
 * text, never a line's content.
 */
#include "keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "chunks.h"

#define KL_CHUNK        1024u           /* entries per chunk */
#define KL_MIN_BUCKETS  1024u

struct keylog {
	struct chunks entries;          /* chunks of KL_CHUNK entries */
	uint32_t n;                     /* entries used */
	uint32_t *heads;                /* nbuckets chain heads, entry index + 1 */
	uint32_t nbuckets;              /* a power of two */
	uint64_t seed;
	struct keylog_stats st;
	struct kl_follow *follow;       /* keylog_follow(); NULL: read once */
};

struct kl_follow {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t offset;                   /* bytes of complete lines read */
	bool skipping;                  /* inside an over-long line: drop up to its LF */
	bool may_be_absent;             /* a missing file is one not written yet */
};

/* One row per label the NSS format defines; `use` < KL_COUNT when we keep it. */
static const struct {
	const char *name;
	int use;                        /* enum keylog_label, or -1: ignored */
} labels[] = {
	{ "CLIENT_RANDOM", KL_CLIENT_RANDOM },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", KL_CLIENT_HS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", KL_SERVER_HS },
	{ "CLIENT_TRAFFIC_SECRET_0", KL_CLIENT_AP0 },
	{ "SERVER_TRAFFIC_SECRET_0", KL_SERVER_AP0 },
	{ "EXPORTER_SECRET", -1 },
	{ "CLIENT_EARLY_TRAFFIC_SECRET", -1 },
	{ "EARLY_EXPORTER_SECRET", -1 },
	{ "RSA", -1 },                  /* RSA pre-master by encrypted pre-master: not used */
};

static struct keylog_entry *entry_at(const struct keylog *kl, uint32_t i)
{
	struct keylog_entry *chunk = kl->entries.v[i / KL_CHUNK];
	return &chunk[i % KL_CHUNK];
}

static uint32_t bucket_of(const struct keylog *kl, const uint8_t *random)
{
	/* all 32 bytes count: the key log is untrusted, and lines that share a
	 * prefix must not share a chain */
	uint64_t h = kl->seed;
	for (int i = 0; i < KEYLOG_RANDOM_LEN; i += 8) {
		uint64_t w;
		memcpy(&w, random + i, sizeof(w));
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	/* splitmix64 finaliser */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (uint32_t)h & (kl->nbuckets - 1);
}

static bool rehash(struct keylog *kl, uint32_t nbuckets)
{
	uint32_t *h = calloc(nbuckets, sizeof(*h));
	if (!h)
		return false;
	free(kl->heads);
	kl->heads = h;
	kl->nbuckets = nbuckets;
	for (uint32_t i = 0; i < kl->n; i++) {
		struct keylog_entry *e = entry_at(kl, i);
		uint32_t b = bucket_of(kl, e->client_random);
		e->next = h[b];
		h[b] = i + 1;
	}
	return true;
}

struct keylog *keylog_new(void)
{
	struct keylog *kl = calloc(1, sizeof(*kl));
	if (!kl)
		return NULL;
	if (RAND_bytes((unsigned char *)&kl->seed, sizeof(kl->seed)) != 1)
		kl->seed = 0x9e3779b97f4a7c15ULL;     /* still correct, only predictable */
	if (!rehash(kl, KL_MIN_BUCKETS)) {
		free(kl);
		return NULL;
	}
	return kl;
}

void keylog_free(struct keylog *kl)
{
	if (!kl)
		return;
	/* the secrets are wiped before the memory goes back */
	for (uint32_t i = 0; i < kl->entries.n; i++)
		OPENSSL_cleanse(kl->entries.v[i], KL_CHUNK * sizeof(struct keylog_entry));
	chunks_free(&kl->entries);
	free(kl->heads);
	if (kl->follow)
		free(kl->follow->path);
	free(kl->follow);
	free(kl);
}

const struct keylog_stats *keylog_stats(const struct keylog *kl)
{
	return &kl->st;
}

const char *keylog_label_name(enum keylog_label l)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (labels[i].use == (int)l)
			return labels[i].name;
	return "?";
}

const struct keylog_entry *keylog_find(const struct keylog *kl, const uint8_t random[KEYLOG_RANDOM_LEN])
{
	for (uint32_t i = kl->heads[bucket_of(kl, random)]; i; ) {
		const struct keylog_entry *e = entry_at(kl, i - 1);
		if (memcmp(e->client_random, random, KEYLOG_RANDOM_LEN) == 0)
			return e;
		i = e->next;
	}
	return NULL;
}

/* A new zeroed entry for random, linked into its chain; NULL at the cap or
 * when memory runs out. */
static struct keylog_entry *entry_add(struct keylog *kl, const uint8_t *random)
{
	if (kl->n >= KEYLOG_ENTRIES_MAX)
		return NULL;
	if (kl->n / KL_CHUNK >= kl->entries.n &&
	    !chunks_add(&kl->entries, KL_CHUNK * sizeof(struct keylog_entry), true))
		return NULL;
	if (kl->n >= kl->nbuckets && !rehash(kl, kl->nbuckets * 2))
		return NULL;
	struct keylog_entry *e = entry_at(kl, kl->n);
	memcpy(e->client_random, random, KEYLOG_RANDOM_LEN);
	uint32_t b = bucket_of(kl, random);
	e->next = kl->heads[b];
	kl->heads[b] = ++kl->n;
	kl->st.entries = kl->n;
	return e;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2*n hex digits; false on any other digit. */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Splits off the next field (separated by spaces or tabs). */
static bool next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *e = s;
	while (e < end && *e != ' ' && *e != '\t')
		e++;
	*p = e;
	*f = s;
	*flen = (size_t)(e - s);
	return e > s;
}

static bool malformed(struct keylog *kl)
{
	kl->st.malformed++;
	if (!kl->st.first_malformed_line)
		kl->st.first_malformed_line = kl->st.lines ? kl->st.lines : 1;
	return false;
}

/* Parses one line; does not count it in st.lines (the callers do). */
static bool add_line(struct keylog *kl, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	const char *p = line, *end = line + len;
	const char *f;
	size_t flen;
	if (!next_field(&p, end, &f, &flen) || f[0] == '#')
		return true;                    /* blank or comment */
	if (len > KEYLOG_LINE_MAX)
		return malformed(kl);
	int use = -2;
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strlen(labels[i].name) == flen && memcmp(labels[i].name, f, flen) == 0)
			use = labels[i].use;
	if (use == -2)
		return malformed(kl);
	if (use == -1) {
		kl->st.ignored++;
		return true;
	}
	uint8_t random[KEYLOG_RANDOM_LEN];
	struct keylog_secret sec;
	const char *r, *s;
	size_t rlen, slen;
	if (!next_field(&p, end, &r, &rlen) || !next_field(&p, end, &s, &slen))
		return malformed(kl);
	const char *extra;
	size_t xlen;
	bool ok = !next_field(&p, end, &extra, &xlen) && rlen == 2 * KEYLOG_RANDOM_LEN &&
		  unhex(r, KEYLOG_RANDOM_LEN, random);
	if (use == KL_CLIENT_RANDOM)
		ok = ok && slen == 2 * 48;
	else
		ok = ok && (slen == 2 * 32 || slen == 2 * 48);
	sec.len = (uint8_t)(slen / 2);
	ok = ok && unhex(s, sec.len, sec.b);
	if (!ok) {
		OPENSSL_cleanse(&sec, sizeof(sec));
		return malformed(kl);
	}
	struct keylog_entry *e = (struct keylog_entry *)keylog_find(kl, random);
	if (!e)
		e = entry_add(kl, random);
	if (!e) {
		OPENSSL_cleanse(&sec, sizeof(sec));
		kl->st.capped++;
		return false;
	}
	e->s[use] = sec;
	e->have |= (uint8_t)(1u << use);
	kl->st.secrets++;
	OPENSSL_cleanse(&sec, sizeof(sec));
	return true;
}

bool keylog_add_line(struct keylog *kl, const char *line, size_t len)
{
	kl->st.lines++;
	return add_line(kl, line, len);
}

/* One line of a file: over-long, or holding a NUL (never in a key log), is
 * malformed; anything else goes to add_line. */
static void file_line(struct keylog *kl, const char *line, size_t n, bool skipped)
{
	kl->st.lines++;
	if (skipped || n > KEYLOG_LINE_MAX + 1 || memchr(line, '\0', n))
		malformed(kl);
	else
		add_line(kl, line, n);
}

/*
 * Reads lines from fd, at most `max` bytes. *used gets the bytes of the
 * complete lines read (and of an over-long line's head, dropped: *skipping
 * then says its end is still to come). At the end of the file a last line
 * without LF is a line when `last_line`, else left unread (a writer may be
 * in the middle of it). Every byte read is cleansed from the buffer.
 */
static bool read_lines(struct keylog *kl, int fd, size_t max, bool last_line, off_t *used_out, bool *skipping,
		       const char *path, char *err, size_t errlen)
{
	/* one line more than the cap fits, so a full line is told from a longer one */
	char buf[16384 + KEYLOG_LINE_MAX + 2];
	size_t have = 0, total = 0;
	off_t used_all = 0;
	bool ok = true, eof = false;
	while (total < max && !eof) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
			ok = false;
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		total += (size_t)r;
		size_t used = 0;
		for (;;) {
			char *lf = memchr(buf + used, '\n', have - used);
			if (!lf)
				break;
			size_t n = (size_t)(lf - (buf + used));
			file_line(kl, buf + used, n, *skipping);
			*skipping = false;
			used += n + 1;
		}
		if (eof && last_line && have > used) {
			file_line(kl, buf + used, have - used, *skipping);
			*skipping = false;
			used = have;
		} else if (used == 0 && have == sizeof(buf)) {
			/* no line end in a full buffer: an over-long line, dropped up to its LF */
			*skipping = true;
			used = have;
		}
		used_all += (off_t)used;
		OPENSSL_cleanse(buf, used);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	*used_out = used_all;
	return ok;
}

bool keylog_load_file(struct keylog *kl, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	off_t used;
	bool skipping = false;
	bool ok = read_lines(kl, fd, SIZE_MAX, true, &used, &skipping, path, err, errlen);
	if (ok && skipping)
		file_line(kl, "", 0, true);     /* an over-long last line without LF */
	close(fd);
	return ok;
}

/* ---- following a file that grows (live) ---- */

/* Reads the complete lines after f->offset, at most `max` bytes. Returns
 * false when the file cannot be opened or read. */
static bool follow_read(struct keylog *kl, size_t max, char *err, size_t errlen)
{
	struct kl_follow *f = kl->follow;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 && errno == ENOENT && f->may_be_absent)
		return true;                    /* not written yet (or being rotated) */
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (st.st_dev != f->dev || st.st_ino != f->ino || st.st_size < f->offset) {
		/* a new file under the name, or the old one truncated: from the top
		 * (the entries read so far stay: they may still open sessions) */
		if (f->dev || f->ino)
			kl->st.reopened++;      /* not the first sight of the file */
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->offset = 0;
		f->skipping = false;
	}
	bool ok = true;
	if (st.st_size > f->offset && lseek(fd, f->offset, SEEK_SET) == f->offset) {
		off_t used;
		ok = read_lines(kl, fd, max, false, &used, &f->skipping, f->path, err, errlen);
		f->offset += used;
	}
	close(fd);
	return ok;
}

bool keylog_follow(struct keylog *kl, const char *path, char *err, size_t errlen)
{
	if (!kl->follow) {
		kl->follow = calloc(1, sizeof(*kl->follow));
		if (!kl->follow || !(kl->follow->path = strdup(path))) {
			free(kl->follow);
			kl->follow = NULL;
			snprintf(err, errlen, "%s: out of memory", path);
			return false;
		}
	}
	kl->follow->dev = 0;
	kl->follow->ino = 0;
	kl->follow->may_be_absent = true;
	return follow_read(kl, SIZE_MAX, err, errlen);      /* all there is, as keylog_load_file */
}

bool keylog_follows(const struct keylog *kl)
{
	return kl && kl->follow;
}

const struct keylog_entry *keylog_find_fresh(const struct keylog *kl, const uint8_t random[KEYLOG_RANDOM_LEN],
					     uint8_t want)
{
	if (!kl)
		return NULL;
	const struct keylog_entry *e = keylog_find(kl, random);
	if ((e && (e->have & want) == want) || !kl->follow)
		return e;
	/* The table is a cache of the file: catching up with it changes no
	 * entry a caller holds (entries never move; a repeated line replaces a
	 * secret with its new value). */
	struct keylog *w = (struct keylog *)kl;
	char err[256];
	w->st.rereads++;
	(void)follow_read(w, KEYLOG_FOLLOW_READ_MAX, err, sizeof(err));     /* unreadable now: maybe later */
	OPENSSL_cleanse(err, sizeof(err));
	return keylog_find(kl, random);
}
