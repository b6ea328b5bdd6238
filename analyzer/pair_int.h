/*
 * pair_int.h - the tables shared by pair.c (reading, joining, path facts)
 * and pair_report.c (verdict, report, command). Not for other modules.
 */
#ifndef SLEUTH_PAIR_INT_H
#define SLEUTH_PAIR_INT_H

#include "pair.h"

/* One TCP packet of one side (a fixed-size record; nothing points into the
 * capture buffer). */
struct ppkt {
	sl_time ts;
	uint64_t hash;          /* FNV-1a of the captured payload, 0 without payload */
	uint64_t frame;
	uint32_t seq, ack;
	uint32_t len;           /* payload length from the IP header */
	uint32_t flow;          /* index in the side's flow table */
	int32_t match;          /* matching packet on the other side, -1 if none */
	uint16_t ip_len;        /* IP total length (header + TCP + payload) */
	uint16_t mss;           /* MSS option, 0 if none */
	uint16_t ip_id;
	uint16_t file;          /* index in the side's file names */
	uint8_t flags, ttl, dir;
};

/* Facts of one direction of a joined flow. The sender's capture has the
 * sent packets, the receiver's the received ones. */
struct path_dir {
	uint32_t sent, received, matched;
	uint32_t dropped;           /* sent, never received (inside both captures' time) */
	uint32_t injected;          /* received, never sent (inside both captures' time) */
	uint32_t injected_rst;      /* forged RSTs that ended the receiver's side */
	uint32_t injected_rst_ignored;  /* forged RSTs the receiver ignored (stale) */
	uint32_t rst_idx;           /* receiver-side index of the first effective one */
	uint32_t reordered;         /* received after a packet sent later than it */
	bool has_delay;
	sl_time delay_min, delay_med, delay_max;    /* one-way, after the offset */
	int ttl_sent, ttl_recv;     /* most common TTL of matched packets, -1 unknown */
	uint16_t mss_sent, mss_recv;    /* SYN (c2s) or SYN-ACK (s2c) MSS, 0 unknown */
	uint32_t largest_delivered; /* IP length */
	uint32_t smallest_dropped;  /* IP length, 0 if nothing dropped */
	uint32_t dropped_syn;       /* SYN or SYN-ACK among the dropped */
	bool blackhole;             /* every dropped packet larger than every delivered one */
	bool tail_loss;             /* nothing was delivered after the first drop */
	uint32_t stuck_copies;      /* copies of the most-sent segment none of which arrived */
	uint32_t stuck_idx;         /* sender-side index of its first copy */
	uint32_t drop_idx[PAIR_LIST_MAX];   /* sender-side packet indices */
	uint32_t inj_idx[PAIR_LIST_MAX];    /* receiver-side packet indices */
	uint32_t n_drop_idx, n_inj_idx;
};

/* The single-end verdict of one view, kept for the report. */
struct view_verdict {
	bool set;
	enum cause cause;
	enum closed_by closed_by;
	enum close_kind close;
	enum smtp_phase phase;
	enum confidence confidence;
};

enum join_how { JOIN_NONE, JOIN_TUPLE, JOIN_ISN, JOIN_FINGERPRINT };

struct pflow {
	struct sl_addr caddr, saddr;
	uint16_t cport, sport;
	bool roles_from_syn;
	bool has_isn[2];
	uint32_t isn[2];            /* SYN's seq (c2s), SYN-ACK's seq (s2c) */
	bool has_fp[2];
	uint64_t fp[2];             /* hash of the first payload segment per direction */
	uint32_t fp_seq[2];         /* its sequence number */
	bool ended;                 /* FIN or RST seen: a SYN with a new ISN starts a new flow */
	sl_time first_ts, last_ts;
	uint32_t first_pkt;
	uint32_t *pk;               /* this flow's packet indices, in capture order */
	uint32_t n_pk;
	int32_t peer;               /* joined flow on the other side, -1 */
	enum join_how how;
	uint32_t seq_delta[2];      /* peer's seq = ours + delta, per direction (mod 2^32) */
	struct path_dir dir[2];     /* on client-side flows of joined pairs */
	struct view_verdict server_view;    /* on client-side flows */
	struct view_verdict client_view;
};

/* A flow index entry: a join rule's key, the flow's start, its index. */
struct fidx {
	uint64_t key;
	sl_time ts;
	uint32_t idx;
};

struct pside {
	struct ppkt *pk;
	uint32_t n_pk, cap_pk;
	uint64_t pk_over_cap;       /* TCP packets not kept (PAIR_MAX_PACKETS) */
	uint64_t flows_over_cap;
	struct pflow *fl;
	uint32_t n_fl, cap_fl;
	char *files[PAIR_MAX_FILES];
	uint32_t n_files;
	sl_time first_ts, last_ts;
	uint32_t *tab;              /* open-addressing tuple table -> flow index + 1 */
	uint32_t tab_size;
	struct fidx *tuple_ix;      /* by tuple, for pair_find_flow (built on first use) */
	uint32_t n_tuple_ix;
};

/* What the session hook attaches to a report (one per reported session). */
struct pair_extra_ctx {
	const struct pair *p;
	enum pair_side side;
	const struct pflow *f;      /* this side's flow, NULL if not found */
};

struct pair {
	struct pside s[2];
	bool joined;
	bool has_offset;
	sl_time offset;             /* server clock - client clock */
	sl_time rtt_min;            /* smallest delay c2s + smallest s2c */
	uint32_t offset_samples;
	uint32_t n_joined, n_only[2];
	uint32_t by_how[4];
	enum pair_side pass;
	struct pair_extra_ctx ectx;
	struct report_extra extra;
};

/* pair.c: each flow's list of packet indices (after reading); a flow's
 * key under a join rule (*ok false when it has none); a side's flows
 * sorted by (key, start) under a rule, and the first entry with a key and a
 * start at or after ts. */
bool pair_index_flows(struct pside *sd);
uint64_t pair_flow_key(const struct pflow *f, enum join_how how, bool *ok);
bool pair_build_index(struct pside *sd, enum join_how how, struct fidx **out, uint32_t *n_out);
uint32_t pair_fidx_lower(const struct fidx *ix, uint32_t n, uint64_t key, sl_time ts);
/* pair_join.c: qsort comparison of sl_time values. */
int pair_cmp_time(const void *a, const void *b);
/* pair_path.c: the path facts of direction d of joined client flow c. */
void pair_path_dir(struct pair *p, struct pflow *c, int d);

/* pair_report.c: "client" / "server"; a path's last component; the name
 * of the file a packet of side s came from. */
const char *pair_side_name(enum pair_side s);
const char *pair_base_name(const char *path);
const char *pair_pfile(const struct pair *p, enum pair_side s, const struct ppkt *k);
/* pair_verdict.c: the two-view verdict of joined client flow c. */
void pair_adjust_verdict(const struct pair *p, const struct pflow *c, struct verdict *vd);

/* The flow of a side that a pipeline session is (by addresses, ports and
 * time); NULL if none. */
struct pflow *pair_find_flow(struct pair *p, enum pair_side side, const struct flow_info *fi);
/* Flow-relative sequence number of a packet (from its direction's ISN). */
uint32_t pair_rel_seq(const struct pflow *f, const struct ppkt *k);

#endif
