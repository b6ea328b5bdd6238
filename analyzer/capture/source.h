/*
 * source.h - capture sources: pcap and pcapng files, or "-" for stdin.
 * Timestamps are read at the file's full precision (nanoseconds when the file
 * has them). A truncated or corrupt file ends with an error naming the file
 * and the record; every record read before it has been delivered.
 */
#ifndef SLEUTH_SOURCE_H
#define SLEUTH_SOURCE_H

#include "common.h"
#include "packet.h"

struct source;

/* NULL on failure, with a message in err. */
struct source *source_open_file(const char *path, char *err, size_t errlen);
/* The same with a read buffer of bufsize bytes (many files open at once
 * take smaller buffers). */
struct source *source_open_file_buf(const char *path, size_t bufsize, char *err, size_t errlen);
/* 1: *out filled (valid until the next call); 0: end of file; -1: error in err
 * ("FILE: record N: ..."). */
int source_next(struct source *s, struct raw_packet *out, char *err, size_t errlen);
int source_linktype(const struct source *s);
/* Compiles a BPF expression for this file's link type; records it rejects
 * are skipped (their frame numbers are kept). false with a message in err. */
bool source_set_filter(struct source *s, const char *expr, char *err, size_t errlen);
/* The file is gzip-compressed (read through zlib). */
bool source_is_compressed(const struct source *s);
/* Size of the file when it is a regular file, else 0. */
uint64_t source_size(const struct source *s);
/* Bytes of the file consumed so far (the stream position, buffered bytes
 * not counted). */
uint64_t source_offset(const struct source *s);
/* The file is walked in place (pcap_map.h) rather than read by libpcap. */
bool source_is_mapped(const struct source *s);
/* pcap's name of the link type ("EN10MB"), "unknown" if it has none. */
const char *source_linktype_name(const struct source *s);
const char *source_name(const struct source *s);
void source_close(struct source *s);

/* Classic pcap files are read in place (pcap_map.h); false makes libpcap
 * read every record, for tests that compare the two. */
extern bool source_map_files;
/* A large mapped file gets a thread that maps its pages in ahead of the
 * reader (pcap_map.c); false when the analysis is to run on one thread. */
extern bool source_map_pager;

#endif
