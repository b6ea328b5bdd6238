/*
 * pcap_map.h - classic pcap files walked in place.
 *
 * libpcap reads a file with fread: the kernel copies every byte into stdio's
 * buffer and fread copies it again into libpcap's. On a bulk capture those
 * copies are most of the reading time. A classic pcap file (the usual
 * microsecond or nanosecond magic, either byte order, version 2.4, a link
 * type whose records libpcap hands over untouched) is mapped and its
 * records handed out where they lie.
 *
 * Only ordinary records are read here: a complete header and record inside
 * the mapping, a captured length within the snapshot length, a fraction of
 * a second in range. Anything else (the file's end, a damaged record, bytes
 * appended since the file was opened) is left to libpcap, which reads that
 * one record from pcap_map_offset(), so damaged files end with libpcap's own
 * words, exactly as before.
 *
 * A file cut shorter while it is mapped (a capture ring overwriting its
 * oldest file) takes its pages away; touching them raises SIGBUS. The
 * handler installed here maps zero pages over the rest of such a mapping and
 * marks it, and pcap_map_next then reports the cut instead of a crash.
 *
 * A large file may get a pager thread that maps pages in ahead of the
 * reader and gives back those behind it (pcap_map.c), so the reading
 * thread takes no page faults; it changes no record handed out.
 */
#ifndef SLEUTH_PCAP_MAP_H
#define SLEUTH_PCAP_MAP_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcap_map;

/* The file open on fd (size bytes) when its header is one we walk; NULL
 * otherwise (libpcap then reads the whole file). fd stays the caller's and
 * must stay open until pcap_map_close. window: the caller's read buffer
 * size; the mapping keeps about three times that resident. pager: a large
 * file may get a thread that maps pages in ahead of the reader and gives
 * back those behind (pcap_map.c). */
struct pcap_map *pcap_map_open(int fd, uint64_t size, size_t window, bool pager);
/* The snapshot length libpcap gives such a file (pcap_snapshot): the
 * caller compares, to be sure both read the same header. */
uint32_t pcap_map_snapshot(const struct pcap_map *m);
/* 1: an ordinary record: *h and *data (valid until pcap_map_close) filled,
 * the offset moved past it. 0: libpcap must read the record at
 * pcap_map_offset() (then pcap_map_seek to where it stopped). -1: the file
 * was cut shorter while mapped; *now_size is its size then. */
int pcap_map_next(struct pcap_map *m, struct pcap_pkthdr *h, const uint8_t **data, uint64_t *now_size);
uint64_t pcap_map_offset(const struct pcap_map *m);
void pcap_map_seek(struct pcap_map *m, uint64_t off);
void pcap_map_close(struct pcap_map *m);

#endif
