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

/*
 * A frame reference: which input file (0-based, in the order the merge gave
 * the files) and the 1-based record number within that file (Wireshark's
 * frame.number when the file is opened alone). Both ride in one uint64_t so
 * every event, fact and evidence item that carries a frame also carries its
 * file. A single input is file 0, so its frame values are plain numbers.
 * Frames of different files are only compared for equality; order comes
 * from timestamps.
 */
#define FRAME_FILE_SHIFT 40
#define FRAME_NO_MASK    ((UINT64_C(1) << FRAME_FILE_SHIFT) - 1)
#define FRAME_MAX_FILES  (1u << 20)
static inline uint64_t frame_make(uint32_t file, uint64_t no)
{
	return ((uint64_t)file << FRAME_FILE_SHIFT) | (no & FRAME_NO_MASK);
}
static inline uint32_t frame_file(uint64_t f) { return (uint32_t)(f >> FRAME_FILE_SHIFT); }
static inline uint64_t frame_no(uint64_t f) { return f & FRAME_NO_MASK; }

/* One record as the source read it. */
struct raw_packet {
	uint64_t frame;         /* frame_make(file, record number in that file) */
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
