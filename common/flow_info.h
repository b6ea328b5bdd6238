/*
 * flow_info.h - what the engine tells of one TCP flow: roles, addresses,
 * per-direction counters and close facts, and why the flow ended. The engine
 * fills it; the session glue, the diagnosis and the reporters read it.
 */
#ifndef SLEUTH_FLOW_INFO_H
#define SLEUTH_FLOW_INFO_H

#include "common.h"

/* Why a flow ended. */
#define FLOW_ENDS(X) \
	X(END_CLOSED, "closed")           /* both FINs, or a RST, then the linger time passed */ \
	X(END_IDLE, "idle")               /* no packet for the flow timeout */ \
	X(END_CAPTURE_END, "capture_end") /* still open when the input ended */ \
	X(END_EVICTED, "evicted")         /* dropped to respect the flow-table cap */ \
	X(END_MEMCAP, "evicted_memory")   /* dropped to respect the memory cap (--memory-cap) */ \
	X(END_REUSED, "port_reuse")       /* a new SYN reused the tuple of a closed flow */

#define X(e, s) e,
enum flow_end { FLOW_ENDS(X) END__COUNT };
#undef X
const char *flow_end_name(enum flow_end e);

/* Per-direction facts the tracker keeps; a diagnosis reads them at flow end. */
struct tcp_dir_stats {
	uint64_t packets;
	uint64_t payload_packets;
	uint64_t bytes;             /* payload bytes delivered in order to the sink */
	uint64_t retransmissions;   /* segments carrying only bytes already seen */
	uint64_t gaps;              /* holes given up on */
	uint64_t gap_bytes;
	uint64_t overlap_conflicts;
	uint64_t zero_windows;
	uint64_t keepalives;
	uint64_t ooo_dropped_bytes; /* hole bytes given up (as gaps) because a buffer cap was hit */
	uint32_t syns;              /* SYN (c2s) or SYN-ACK (s2c) segments */
	uint32_t rsts;
	uint64_t first_frame, last_frame;
	sl_time first_ts, last_ts;
	sl_time last_payload_ts;    /* 0 if never */
	uint64_t last_payload_frame;
	uint64_t fin_frame;         /* 0 if no FIN */
	sl_time fin_ts;
	uint64_t rst_frame;         /* first RST sent by this side; 0 if none */
	sl_time rst_ts;
	uint8_t rst_ttl;
	uint16_t rst_ip_id;
	bool rst_in_window;
	/* TTL / IP ID profile of this side's packets other than RSTs, so a RST that
	 * does not fit can be recognised as injected. */
	uint8_t ttl_first, ttl_min, ttl_max, ttl_last;
	uint16_t ip_id_last;        /* of the last non-RST packet (IPv4) */
	bool ip_id_zero;            /* every non-RST packet had IP ID 0 */
	uint16_t mss;               /* from the SYN, 0 if none */
	int8_t wscale;              /* -1 if none */
	bool sack_perm;
	/* TCP timestamps option: how many non-RST packets of this side carried
	 * it, and whether the first RST did. A stack that negotiated timestamps
	 * puts them on the RSTs of a live socket; an injected RST usually lacks
	 * them. */
	uint64_t ts_opt_packets;
	bool rst_has_ts;
	/* RSTs whose sequence number lies behind what this side had already
	 * sent (before next - 1): the receiver drops them (RFC 793/5961), so
	 * they neither close the flow nor count as rst_frame. Typical of an
	 * injected RST that lost the race against the real data. */
	uint32_t rsts_stale;
	uint64_t stale_rst_frame;   /* the first of them, 0 if none */
	sl_time stale_rst_ts;
	uint8_t stale_rst_ttl;
};

/* Roles, addresses and counters of a flow. Client = sender of the first SYN;
 * without a SYN, the side on a well-known mail port (or else the higher port)
 * is taken as client and roles_from_syn is false. */
struct flow_info {
	uint64_t id;                /* 1-based, in order of the flow's first packet */
	struct sl_addr client, server;
	uint16_t client_port, server_port;
	bool roles_from_syn;
	bool syn_seen, synack_seen, handshake_done;
	bool refused;               /* SYN answered with RST */
	bool after_eviction;        /* its tuple was evicted by a cap shortly before: this is the rest of that flow */
	sl_time first_ts, last_ts;
	uint64_t first_frame, last_frame;
	const char *file;           /* capture file the flow started in */
	struct tcp_dir_stats dir[2];    /* indexed by enum sl_dir */
};

#endif
