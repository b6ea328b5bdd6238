/*
 * packet.h - what a capture source hands the decoder, and what the decoder
 * hands the flow table.
 *
 * Both structs point into the capture buffer owned by the source; they are
 * valid only until the source reads its next record. Nothing here is
 * allocated per packet.
 */
#ifndef SLEUTH_PACKET_H
#define SLEUTH_PACKET_H

#include "common.h"

/* One record as the source read it. */
struct raw_packet {
	uint64_t frame;         /* 1-based record number within its file (Wireshark's frame.number) */
	sl_time ts;             /* full precision of the file (ns or us * 1000) */
	uint32_t caplen;        /* bytes present in data */
	uint32_t wirelen;       /* bytes on the wire */
	int linktype;           /* pcap DLT_* value */
	const uint8_t *data;
};

/* Where a callback's cause sits in the capture. */
struct seg_meta {
	uint64_t frame;
	sl_time ts;
	uint32_t seq;           /* sequence number of the segment */
	uint8_t flags;          /* TCP flags of the segment */
	uint8_t ttl;            /* TTL / hop limit of the segment */
	uint16_t ip_id;
	uint16_t win;           /* raw window */
};

/* What one packet's decode came to; counted in engine_stats. */
#define DECODE_RESULTS(X) \
	X(DEC_TCP, "tcp") \
	X(DEC_NOT_IP, "not_ip") \
	X(DEC_NOT_TCP, "not_tcp") \
	X(DEC_FRAGMENT, "ip_fragment") \
	X(DEC_TRUNCATED_HEADER, "truncated_header") \
	X(DEC_BAD_IP, "bad_ip_header") \
	X(DEC_BAD_TCP, "bad_tcp_header") \
	X(DEC_UNSUPPORTED_LINK, "unsupported_link_type")

#define X(e, s) e,
enum decode_result { DECODE_RESULTS(X) DEC__COUNT };
#undef X
const char *decode_result_name(enum decode_result r);

#endif
