/*
 * pkt.h - a decoded TCP segment, as the decoder hands it to the flow table.
 *
 * Its pointers point into the capture buffer owned by the source; it is valid
 * only until the source reads its next record. Only the engine and the
 * session glue (classification, extraction) see it: a dissector gets bytes and
 * seg_meta, never a packet.
 */
#ifndef SLEUTH_PKT_H
#define SLEUTH_PKT_H

#include "common.h"
#include "packet.h"

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
