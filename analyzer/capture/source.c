/*
 * source.c - capture files (pcap, pcapng) and stdin through libpcap.
 *
 * Files are opened with nanosecond precision so no timestamp loses digits;
 * a microsecond file is delivered as us * 1000. Records are numbered from 1
 * as Wireshark numbers frames. An error (truncated record, corrupt header,
 * a pcapng interface with another link type) is reported as
 * "FILE: record N: reason" where N is the record that could not be read;
 * records 1..N-1 have been delivered already.
 *
 * A gzip-compressed file (.pcap.gz, .pcapng.gz: recognised by its magic
 * bytes, not its name) is read through zlib: libpcap reads a stdio stream
 * (fopencookie) whose reads are gzread calls. stdin is never wrapped: zlib
 * fills its whole buffer before returning, which would hold packets back
 * on a live pipe.
 *
 * A BPF filter (source_set_filter) is compiled against the file's own link
 * type and applied per record with pcap_offline_filter, as `tcpdump -r FILE
 * EXPR` does; records it rejects are skipped but keep their numbers, so
 * frame numbers stay those of the file.
 * libpcap reads every section of a pcapng file in the byte order of the
 * first one; a later section in the other order fails with a misleading
 * "block size" message. On a read error we walk the file's block chain
 * ourselves (lengths only) to name that cause instead.
 *
 * A classic pcap file is walked in place (pcap_map.c) rather than copied
 * twice through stdio and libpcap; every record it cannot vouch for (and
 * the end of the file) is read by libpcap from the same offset, so damaged
 * files are read and reported as libpcap reads them. source_map_files
 * turns that off for tests that compare both readers.
 */
#define _GNU_SOURCE     /* fopencookie */
#include "source.h"

#include "pcap_map.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

struct source {
	pcap_t *pc;
	char *name;             /* as given, "stdin" for "-" */
	uint64_t frame;         /* records delivered so far */
	int linktype;
	bool nano;
	bool failed;            /* an error was reported; stays at end */
	bool is_stdin;          /* no path to re-read for a diagnosis */
	char *iobuf;            /* the stream's buffer, freed after pcap_close */
	uint64_t size;          /* regular file size, 0 otherwise */
	gzFile gz;              /* compressed input, else NULL (closed by the stream) */
	struct bpf_program prog;
	bool has_filter;
	struct pcap_map *map;   /* walked in place, else NULL */
	struct pcap_pkthdr maph;        /* the header of the record handed out from map */
};

bool source_map_files = true;
bool source_map_pager = true;

/* stdio over a gzFile, for pcap_fopen_offline. */
static ssize_t gz_cookie_read(void *c, char *buf, size_t n)
{
	int r = gzread((gzFile)c, buf, n > INT32_MAX ? INT32_MAX : (unsigned)n);
	return r < 0 ? -1 : r;
}

static int gz_cookie_close(void *c)
{
	return gzclose_r((gzFile)c) == Z_OK ? 0 : EOF;
}

/* True when the file starts with the gzip magic bytes. */
static bool is_gzip(FILE *fp)
{
	unsigned char m[2];
	size_t n = fread(m, 1, 2, fp);
	rewind(fp);
	return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* Opens a gzip file as a stdio stream; NULL with errno on failure. */
static FILE *gz_stream(const char *path, gzFile *out)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return NULL;
	gzbuffer(gz, 1u << 18);
	cookie_io_functions_t io = { .read = gz_cookie_read, .close = gz_cookie_close };
	FILE *fp = fopencookie(gz, "r", io);
	if (!fp) {
		gzclose_r(gz);
		return NULL;
	}
	*out = gz;
	return fp;
}

#define SOURCE_READ_BUF (1u << 20)
/* stdio's buffer for a mapped file: libpcap reads from it only the odd
 * record and the end, each after a seek that empties the buffer. */
#define SOURCE_MAPPED_BUF (64u << 10)

struct source *source_open_file(const char *path, char *err, size_t errlen)
{
	return source_open_file_buf(path, SOURCE_READ_BUF, err, errlen);
}

struct source *source_open_file_buf(const char *path, size_t bufsize, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE];
	eb[0] = '\0';
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	char *iobuf = NULL;
	gzFile gz = NULL;
	struct pcap_map *map = NULL;
	pcap_t *pc;
	if (is_stdin) {
		pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	} else {
		/* A file is opened here so it reads in SOURCE_READ_BUF chunks:
		 * with stdio's default 4 KiB, read syscalls are a good part of the
		 * time spent on a bulk capture. libpcap owns (and closes) the FILE
		 * from pcap_fopen_offline on; the buffer is ours, freed after
		 * pcap_close. (stdin keeps its own buffer: libpcap never closes it.) */
		FILE *fp = fopen(path, "rb");
		if (!fp) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			return NULL;
		}
		if (is_gzip(fp)) {
			fclose(fp);
			fp = gz_stream(path, &gz);
			if (!fp) {
				snprintf(err, errlen, "%s: cannot read the gzip stream: %s", name, strerror(errno));
				return NULL;
			}
		}
		struct stat fst;
		if (!gz && source_map_files && fstat(fileno(fp), &fst) == 0 && S_ISREG(fst.st_mode))
			map = pcap_map_open(fileno(fp), (uint64_t)fst.st_size, bufsize, source_map_pager);
		if (map)
			bufsize = SL_MIN(bufsize, SOURCE_MAPPED_BUF);
		iobuf = gz ? NULL : malloc(bufsize);
		if (iobuf && setvbuf(fp, iobuf, _IOFBF, bufsize) != 0) {
			free(iobuf);
			iobuf = NULL;
		}
		pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (!pc)
			fclose(fp);
		/* both must have read the same header, and libpcap no more */
		else if (map && (pcap_map_snapshot(map) != (uint32_t)pcap_snapshot(pc) ||
				 ftello(fp) != (off_t)pcap_map_offset(map))) {
			pcap_map_close(map);
			map = NULL;
		}
	}
	if (!pc) {
		snprintf(err, errlen, "%s: %s", name, eb[0] ? eb : "cannot open capture");
		pcap_map_close(map);
		free(iobuf);
		return NULL;
	}
	struct source *s = calloc(1, sizeof(*s));
	if (s)
		s->name = strdup(name);
	if (!s || !s->name) {
		pcap_map_close(map);
		pcap_close(pc);
		free(iobuf);
		free(s);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	s->pc = pc;
	s->map = map;
	s->iobuf = iobuf;
	s->gz = gz;
	s->is_stdin = is_stdin;
	s->linktype = pcap_datalink(pc);
	struct stat st;
	FILE *fp = pcap_file(pc);
	if (gz) {
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			s->size = (uint64_t)st.st_size;
	} else if (fp && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
		s->size = (uint64_t)st.st_size;
	}
	s->nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
	return s;
}

/* pcapng lets a file declare any timestamp resolution, so a damaged or odd
 * file can carry seconds far outside what nanoseconds in 64 bits can hold;
 * such times are clamped rather than overflowed. */
#define SOURCE_MAX_SEC (INT64_MAX / NS_PER_SEC - 1)

static sl_time source_time(const struct pcap_pkthdr *h, bool nano)
{
	int64_t sec = (int64_t)h->ts.tv_sec;
	int64_t frac = (int64_t)h->ts.tv_usec;
	/* libpcap reads a pcap record's 32-bit seconds as signed; the format
	 * defines them unsigned (times after 2038, and the all-ones value a
	 * broken writer leaves, which the engine recognises as such) */
	if (sec < 0 && sec >= INT32_MIN)
		sec += INT64_C(1) << 32;
	if (sec < 0)
		sec = 0;
	if (sec > SOURCE_MAX_SEC)
		sec = SOURCE_MAX_SEC;
	if (frac < 0 || frac >= NS_PER_SEC)
		frac = 0;
	return sec * NS_PER_SEC + (nano ? frac : frac * NS_PER_USEC % NS_PER_SEC);
}

#define PCAPNG_SHB 0x0A0D0D0Au     /* section header block: reads the same in both orders */

static uint32_t rd32(const uint8_t *p, bool big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Byte order of a section from its byte-order magic: 1 big, 0 little,
 * -1 neither. */
static int shb_order(const uint8_t *bom)
{
	if (rd32(bom, true) == 0x1A2B3C4Du)
		return 1;
	if (rd32(bom, false) == 0x1A2B3C4Du)
		return 0;
	return -1;
}

/* Walks a pcapng file's blocks and returns the byte offset of the first
 * section whose byte order differs from the first section's (*big: its
 * order), or -1 when there is none or the file is not pcapng. Each step
 * moves at least 12 bytes, so the walk ends with the file. */
static long pcapng_order_change(const char *path, bool *big)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t h[12];
	long off = 0, found = -1;
	int first = -1, cur = -1;
	while (fread(h, 1, sizeof(h), f) == sizeof(h)) {
		if (rd32(h, false) == PCAPNG_SHB) {
			int o = shb_order(h + 8);
			if (o < 0)
				break;
			if (first < 0) {
				first = o;
			} else if (o != first) {
				found = off;
				*big = o == 1;
				break;
			}
			cur = o;
		} else if (cur < 0) {
			break;          /* not pcapng */
		}
		uint32_t len = rd32(h + 4, cur == 1);
		if (len < 12 || len % 4 || off > LONG_MAX - (long)len)
			break;
		off += (long)len;
		if (fseek(f, off, SEEK_SET) != 0)
			break;
	}
	fclose(f);
	return found;
}

/* next_record's own results, beside pcap_next_ex's 1, PCAP_ERROR_BREAK and
 * PCAP_ERROR: the mapped file was cut shorter; a seek failed (errno). */
#define REC_CUT (-100)
#define REC_SEEK_FAILED (-101)

/* One record, as pcap_next_ex returns it: from the mapping when it can
 * vouch for it, else by libpcap from the same offset (then the mapping
 * goes on from where libpcap stopped). REC_CUT: *now_size is the file's
 * size now. */
static int next_record(struct source *s, struct pcap_pkthdr **h, const u_char **data, uint64_t *now_size)
{
	if (!s->map)
		return pcap_next_ex(s->pc, h, data);
	int r = pcap_map_next(s->map, &s->maph, data, now_size);
	if (r > 0) {
		*h = &s->maph;
		return 1;
	}
	if (r < 0)
		return REC_CUT;
	FILE *fp = pcap_file(s->pc);
	off_t at = (off_t)pcap_map_offset(s->map);
	/* consecutive records for libpcap need no seek (it would empty
	 * stdio's buffer) */
	if (ftello(fp) != at && fseeko(fp, at, SEEK_SET) != 0)
		return REC_SEEK_FAILED;
	int rc = pcap_next_ex(s->pc, h, data);
	off_t now = ftello(fp);
	if (rc == 1 && now > at)
		pcap_map_seek(s->map, (uint64_t)now);
	return rc;
}

int source_next(struct source *s, struct raw_packet *out, char *err, size_t errlen)
{
	if (s->failed)
		return 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t now_size = 0;
	int rc;
	while ((rc = next_record(s, &h, &data, &now_size)) == 1 && s->has_filter &&
	       !pcap_offline_filter(&s->prog, h, data))
		s->frame++;     /* skipped, but it keeps its number */
	if (rc == 1) {
		s->frame++;
		out->frame = s->frame;
		out->ts = source_time(h, s->nano);
		out->caplen = h->caplen;
		out->wirelen = h->len;
		out->linktype = s->linktype;
		out->data = data;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	s->failed = true;
	if (rc == REC_CUT) {
		snprintf(err, errlen,
			 "%s: record %llu: the file was cut to %llu bytes while it was being read (is a "
			 "capture ring rewriting it?); record %llu may hold zeros where its bytes were lost",
			 s->name, (unsigned long long)s->frame + 1, (unsigned long long)now_size,
			 (unsigned long long)s->frame);
		return -1;
	}
	if (rc == REC_SEEK_FAILED) {
		snprintf(err, errlen, "%s: record %llu: %s", s->name, (unsigned long long)s->frame + 1,
			 strerror(errno));
		return -1;
	}
	const char *why = pcap_geterr(s->pc);
	long at;
	bool big = false;
	if (!s->is_stdin && strstr(why, "block size") &&
	    (at = pcapng_order_change(s->name, &big)) >= 0)
		snprintf(err, errlen,
			 "%s: record %llu: the pcapng section at byte %ld is %s-endian after a %s-endian "
			 "one, and libpcap reads a file in one byte order: the rest of the file is not "
			 "read (rewrite it in one order: tshark -r FILE -w OUT.pcapng)",
			 s->name, (unsigned long long)s->frame + 1, at, big ? "big" : "little",
			 big ? "little" : "big");
	else if (strstr(why, "different from the type of the first interface"))
		snprintf(err, errlen,
			 "%s: record %llu: pcapng file mixes link types (%s); split it per interface "
			 "(e.g. tshark -r FILE -Y 'frame.interface_id==0' -w part.pcapng)",
			 s->name, (unsigned long long)s->frame + 1, why);
	else
		snprintf(err, errlen, "%s: record %llu: %s", s->name,
			 (unsigned long long)s->frame + 1, why[0] ? why : "read error");
	return -1;
}

int source_linktype(const struct source *s) { return s->linktype; }

const char *source_linktype_name(const struct source *s)
{
	const char *n = pcap_datalink_val_to_name(s->linktype);
	return n ? n : "unknown";
}

const char *source_name(const struct source *s) { return s->name; }

uint64_t source_size(const struct source *s) { return s->size; }

bool source_is_compressed(const struct source *s) { return s->gz != NULL; }

bool source_is_mapped(const struct source *s) { return s->map != NULL; }

bool source_set_filter(struct source *s, const char *expr, char *err, size_t errlen)
{
	if (s->has_filter) {
		pcap_freecode(&s->prog);
		s->has_filter = false;
	}
	if (pcap_compile(s->pc, &s->prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s: filter '%s': %s", s->name, expr, pcap_geterr(s->pc));
		return false;
	}
	s->has_filter = true;
	return true;
}

uint64_t source_offset(const struct source *s)
{
	if (s->gz) {
		/* Compressed bytes consumed, to compare with the file size. */
		z_off_t off = gzoffset(s->gz);
		return off > 0 ? (uint64_t)off : 0;
	}
	if (s->map)
		return pcap_map_offset(s->map);
	FILE *fp = pcap_file(s->pc);
	long off = fp ? ftell(fp) : -1;
	return off > 0 ? (uint64_t)off : 0;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	if (s->has_filter)
		pcap_freecode(&s->prog);
	pcap_map_close(s->map);
	pcap_close(s->pc);
	free(s->iobuf);
	free(s->name);
	free(s);
}
