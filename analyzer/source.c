/*
 * source.c - capture files (pcap, pcapng) and stdin through libpcap.
 *
 * Files are opened with nanosecond precision so no timestamp loses digits;
 * a microsecond file is delivered as us * 1000. Records are numbered from 1
 * as Wireshark numbers frames. An error (truncated record, corrupt header,
 * a pcapng interface with another link type) is reported as
 * "FILE: record N: reason" where N is the record that could not be read;
 * records 1..N-1 have been delivered already.
 */
#include "source.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct source {
	pcap_t *pc;
	char *name;             /* as given, "stdin" for "-" */
	uint64_t frame;         /* records delivered so far */
	int linktype;
	bool nano;
	bool failed;            /* an error was reported; stays at end */
	char *iobuf;            /* the stream's buffer, freed after pcap_close */
	uint64_t size;          /* regular file size, 0 otherwise */
};

#define SOURCE_READ_BUF (1u << 20)

struct source *source_open_file(const char *path, char *err, size_t errlen)
{
	char eb[PCAP_ERRBUF_SIZE];
	eb[0] = '\0';
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	char *iobuf = NULL;
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
		iobuf = malloc(SOURCE_READ_BUF);
		if (iobuf && setvbuf(fp, iobuf, _IOFBF, SOURCE_READ_BUF) != 0) {
			free(iobuf);
			iobuf = NULL;
		}
		pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
		if (!pc)
			fclose(fp);
	}
	if (!pc) {
		snprintf(err, errlen, "%s: %s", name, eb[0] ? eb : "cannot open capture");
		free(iobuf);
		return NULL;
	}
	struct source *s = calloc(1, sizeof(*s));
	if (s)
		s->name = strdup(name);
	if (!s || !s->name) {
		pcap_close(pc);
		free(iobuf);
		free(s);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	s->pc = pc;
	s->iobuf = iobuf;
	s->linktype = pcap_datalink(pc);
	struct stat st;
	FILE *fp = pcap_file(pc);
	if (fp && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
		s->size = (uint64_t)st.st_size;
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
	if (sec < 0)
		sec = 0;
	if (sec > SOURCE_MAX_SEC)
		sec = SOURCE_MAX_SEC;
	if (frac < 0 || frac >= NS_PER_SEC)
		frac = 0;
	return sec * NS_PER_SEC + (nano ? frac : frac * NS_PER_USEC % NS_PER_SEC);
}

int source_next(struct source *s, struct raw_packet *out, char *err, size_t errlen)
{
	if (s->failed)
		return 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(s->pc, &h, &data);
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
	const char *why = pcap_geterr(s->pc);
	if (strstr(why, "different from the type of the first interface"))
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

const char *source_name(const struct source *s) { return s->name; }

uint64_t source_size(const struct source *s) { return s->size; }

uint64_t source_offset(const struct source *s)
{
	FILE *fp = pcap_file(s->pc);
	long off = fp ? ftell(fp) : -1;
	return off > 0 ? (uint64_t)off : 0;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	pcap_close(s->pc);
	free(s->iobuf);
	free(s->name);
	free(s);
}
