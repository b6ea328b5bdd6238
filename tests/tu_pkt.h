/*
 * tu_pkt.h - building packets and capture files for tests.
 *
 * A test describes an IP+TCP segment in a struct tu_seg (addresses as text,
 * so IPv4 and IPv6 share one shape), builds the IP datagram with tu_ip_tcp(),
 * wraps it in a link layer with tu_link(), and either feeds the frame to the
 * engine (tu_raw()) or writes a list of frames to a pcap / pcapng file.
 * Checksums are left zero: nothing in smtpsleuth verifies them.
 * Every builder returns the number of bytes written, or 0 when the buffer is
 * too small.
 */
#ifndef SLEUTH_TU_PKT_H
#define SLEUTH_TU_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

#define TU_FRAME_MAX 70000

struct tu_seg {
	const char *src, *dst;      /* "10.0.0.1" or "2001:db8::1" */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;              /* TH_* */
	uint16_t win;               /* 0 means 65535 unless win_zero */
	int win_zero;
	const void *payload;
	size_t len;
	uint8_t ttl;                /* 0 means 64 */
	uint16_t ip_id;
	const uint8_t *tcp_opts;    /* raw option bytes; padded to 4 with NOPs */
	size_t tcp_opts_len;
	const uint8_t *ip_opts;     /* IPv4 options; padded to 4 */
	size_t ip_opts_len;
	/* IPv6 extension headers, raw, already chained: ext_first is the type of
	 * the first one; the last one's next-header byte must be 6 (TCP). */
	const uint8_t *v6_ext;
	size_t v6_ext_len;
	uint8_t v6_ext_first;
	uint16_t frag;              /* IPv4 flags+fragment offset field */
	int ip_total_delta;         /* added to the IP length field (corruption tests) */
};

/* IP (v4 or v6 by the address text) + TCP datagram. */
size_t tu_ip_tcp(uint8_t *buf, size_t cap, const struct tu_seg *s);

/* Wraps an IP datagram in a link layer. For DLT_EN10MB, vlans[0..nvlan) are
 * the tag TPIDs from outermost in (0x8100, 0x88a8, 0x9100). For DLT_NULL the
 * AF is written in host order, or swapped when null_swap is set; null_af
 * overrides the family (0: 2 or 30 by IP version). */
struct tu_link_opts {
	const uint16_t *vlans;
	int nvlan;
	int null_swap;
	uint32_t null_af;
	uint16_t ethertype;         /* 0: by IP version */
};
size_t tu_link(uint8_t *buf, size_t cap, int dlt, const struct tu_link_opts *o,
	       const uint8_t *ip, size_t iplen);

/* Convenience: one segment straight into a link-layer frame. */
size_t tu_frame(uint8_t *buf, size_t cap, int dlt, const struct tu_seg *s);

/* Fills a raw_packet pointing at data. */
void tu_raw(struct raw_packet *r, uint64_t frame, int64_t ts_ns, int dlt,
	    const uint8_t *data, uint32_t caplen, uint32_t wirelen);

/* A frame for the file writers. */
struct tu_rec {
	int64_t ts_ns;
	const uint8_t *data;
	uint32_t caplen, wirelen;   /* wirelen 0: = caplen */
	int iface;                  /* pcapng interface index */
};

/* Writes a classic pcap (nanosecond magic when nano). Returns 0 on success. */
int tu_pcap_write(const char *path, int dlt, int nano, uint32_t snaplen,
		  const struct tu_rec *recs, size_t n);
/* Writes a pcapng with one interface per dlts[] entry (nanosecond if_tsresol). */
int tu_pcapng_write(const char *path, const int *dlts, int ndlt,
		    const struct tu_rec *recs, size_t n);

#endif
