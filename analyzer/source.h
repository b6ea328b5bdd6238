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
/* 1: *out filled (valid until the next call); 0: end of file; -1: error in err
 * ("FILE: record N: ..."). */
int source_next(struct source *s, struct raw_packet *out, char *err, size_t errlen);
int source_linktype(const struct source *s);
/* pcap's name of the link type ("EN10MB"), "unknown" if it has none. */
const char *source_linktype_name(const struct source *s);
const char *source_name(const struct source *s);
void source_close(struct source *s);

#endif
