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

/* TCP flag bits as on the wire. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

struct tcp_opts {
	uint16_t mss;           /* 0 when absent */
	int8_t wscale;          /* -1 when absent */
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
};

/* A decoded TCP segment. */
struct pkt {
	uint64_t frame;
	sl_time ts;
	const struct raw_packet *raw;   /* the record it came from (for --extract) */

	const uint8_t *l3;      /* start of the IP header */
	uint32_t l3_len;        /* captured IP bytes, trimmed to the IP total length */

	uint8_t ipver;          /* 4 or 6 */
	uint8_t ttl;            /* TTL or hop limit */
	uint16_t ip_id;         /* IPv4 identification; 0 for IPv6 */
	struct sl_addr src, dst;
	uint16_t sport, dport;

	uint32_t seq, ack;
	uint8_t flags;          /* TH_* */
	uint16_t win;           /* raw window field, unscaled */
	struct tcp_opts opt;

	const uint8_t *payload;
	uint32_t payload_len;       /* captured payload bytes (may be < wire length) */
	uint32_t payload_wire_len;  /* payload length according to the IP header */
	bool truncated;             /* snaplen cut the payload: payload_len < payload_wire_len */
};

#endif
