/*
 * tcp.h - private to the engine: per-direction TCP tracking and reassembly.
 *
 * Stream positions are 64-bit offsets relative to the first stream byte of
 * the direction (ISN + 1 after a SYN, or the first sequence number seen on a
 * mid-stream pickup), so the 32-bit sequence wrap never shows. A 32-bit
 * sequence number maps to the offset nearest the next expected one.
 *
 * Out-of-order bytes are copied into a sorted list of non-overlapping
 * segments; the first copy of any byte wins. Memory for them is reserved in
 * one call against a per-direction and a global cap.
 */
#ifndef SLEUTH_TCP_H
#define SLEUTH_TCP_H

#include "engine.h"

struct ooo_seg {
	struct ooo_seg *next;
	uint64_t off;
	uint32_t len;
	uint8_t data[];
};

struct tcp_half {
	bool init;              /* base known */
	bool syn;               /* isn is from a SYN / SYN-ACK */
	bool fin_seen, fin_done, rst_seen;
	bool win_known, ttl_seen;
	int8_t wscale;          /* from this side's SYN, -1 if none (as flow_info's, which a lite flow lacks) */
	uint16_t last_win;
	uint32_t isn;
	uint32_t base;          /* sequence number of offset 0 */
	uint64_t next;          /* next offset expected (everything before is delivered or gapped) */
	uint64_t fin_off;
	uint64_t acked;         /* highest offset the peer acknowledged (clipped to the FIN) */
	uint64_t ooo_bytes;
	uint32_t ooo_segs;      /* segments in the list (capped: each insert walks it) */
	struct ooo_seg *ooo;
};

/* What the tracker needs from the engine. */
struct tcp_env {
	const struct engine_sink *sink;
	struct engine_stats *stats;
	uint64_t ooo_per_dir, ooo_global;
	uint64_t ooo_used;      /* bytes buffered in all flows */
	struct memcap *mem;     /* buffered bytes are reserved here too */
	struct flow_info scratch;   /* the facts of lite flows go here, unread (flow.h) */
	struct seg_meta scratch_meta;
};

struct flow;

/* Handles one packet of f travelling in direction d (sink.packet already
 * called). Returns true when the flow is closed after it (both FINs or a
 * RST). first is true for the packet that created the flow. */
bool tcp_segment(struct tcp_env *env, struct flow *f, enum sl_dir d, const struct pkt *p,
		 bool first);
/* Flow end: gives up on every hole, delivers what is buffered, reports FINs
 * reached, and frees the buffers. */
void tcp_flush(struct tcp_env *env, struct flow *f);

#endif
