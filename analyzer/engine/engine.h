/*
 * engine.h - the packet engine: decode, flow table, TCP tracking and
 * reassembly, behind one narrow face.
 *
 * The engine takes raw capture records and calls a sink: once when a TCP flow
 * opens, for every packet of the flow, for each run of in-order bytes, for each
 * hole it gives up on (a gap), for TCP events (SYN, FIN, RST, retransmission,
 * zero window, ...) and once when the flow ends. Bytes are delivered zero-copy
 * from the packet buffer when they arrive in order; out-of-order segments are
 * buffered up to a per-direction and a global cap.
 *
 * Every callback gets a seg_meta with the frame number and time of the packet
 * that caused it. A consumer never sees a packet's headers except through
 * `packet` (for classification and extraction) and seg_meta.
 *
 * Lifetimes: pointers passed to callbacks are valid only during the call.
 * The flow_info pointer stays valid from flow_open to flow_close (for a
 * lite flow, see flow_lite, only during flow_open). A flow whose first
 * packet is a bare SYN may be opened later than it came: at its second
 * packet or its end, with the same calls in the same order (flow.h).
 */
#ifndef SLEUTH_ENGINE_H
#define SLEUTH_ENGINE_H

#include "common.h"
#include "memcap.h"
#include "flow_info.h"
#include "packet.h"
#include "pkt.h"

/* Caps (defaults; each can be changed in engine_config). */
#define ENGINE_DEFAULT_MAX_FLOWS        (1u << 20)   /* open flows tracked at once */
#define ENGINE_DEFAULT_FLOW_TIMEOUT_S   600          /* idle flow is ended after this */
#define ENGINE_DEFAULT_CLOSED_LINGER_S  5            /* closed flow kept for stray packets */
#define ENGINE_DEFAULT_OOO_PER_DIR      (1u << 20)   /* out-of-order bytes buffered per direction */
#define ENGINE_DEFAULT_OOO_GLOBAL       (256u << 20) /* out-of-order bytes buffered in all */

/* Whether decode_packet reads this pcap link type; the names of those it
 * reads, for a message. */
bool decode_link_supported(int linktype);
extern const char DECODE_SUPPORTED_LINKS[];

/* Decodes one record into p. p's pointers point into raw->data. */
enum decode_result decode_packet(const struct raw_packet *raw, struct pkt *p);

/* Bytes of consumer state a lite flow's record holds (flow_lite). */
#define ENGINE_LITE_USER 16

/* TCP events reported to the sink. `arg` meaning is given per event. */
#define TCP_EVENTS(X) \
	X(TCP_SYN, "syn")                     /* arg: 1 for the first SYN, n for the n-th (retry) */ \
	X(TCP_SYNACK, "syn-ack")              /* arg: count */ \
	X(TCP_SYN_RST, "rst-to-syn")          /* RST answering a SYN: connection refused */ \
	X(TCP_FIN, "fin")                     /* arg: sequence-space offset of the FIN in this direction */ \
	X(TCP_RST, "rst")                     /* arg: 1 when in window, 0 when out of window */ \
	X(TCP_RETRANSMISSION, "retransmission") /* arg: payload bytes */ \
	X(TCP_OVERLAP_CONFLICT, "overlap-conflict") /* arg: bytes that differed (first copy kept) */ \
	X(TCP_ZERO_WINDOW, "zero-window") \
	X(TCP_KEEPALIVE, "keep-alive") \
	X(TCP_OOO_CAP, "reassembly-cap")      /* a buffer cap was hit: holes given up to make room; arg: their bytes */ \
	X(TCP_TRUNCATED, "snaplen-truncated") /* arg: payload bytes not captured */ \
	X(TCP_MIDSTREAM, "midstream-pickup")  /* first packet of the flow was not a SYN */ \
	X(TCP_DATA_AFTER_CLOSE, "data-after-close") /* payload after this side's FIN or RST */ \
	X(TCP_BAD_TIMESTAMP, "bad-timestamp") /* the record's time cannot be right; arg: its seconds */

#define X(e, s) e,
enum tcp_event { TCP_EVENTS(X) TCP_EV__COUNT };
#undef X
const char *tcp_event_name(enum tcp_event e);

struct engine_sink {
	void *ctx;
	/* A new TCP flow. Return the consumer's per-flow pointer (handed back in
	 * every other call), or NULL to have the engine track the flow without
	 * delivering anything more for it. */
	void *(*flow_open)(void *ctx, const struct flow_info *fi, const struct pkt *first);
	/* Every packet of the flow, before any bytes it releases are delivered. */
	void (*packet)(void *ctx, void *user, enum sl_dir dir, const struct pkt *p);
	/* In-order stream bytes. */
	void (*data)(void *ctx, void *user, enum sl_dir dir, const uint8_t *b, size_t n,
		     const struct seg_meta *m);
	/* len bytes of the stream will never be delivered (lost or not captured). */
	void (*gap)(void *ctx, void *user, enum sl_dir dir, uint64_t len, const struct seg_meta *m);
	void (*tcp_event)(void *ctx, void *user, enum sl_dir dir, enum tcp_event ev,
			  uint64_t arg, const struct seg_meta *m);
	/* The flow is over; after this call the engine forgets it. */
	void (*flow_close)(void *ctx, void *user, const struct flow_info *fi, enum flow_end why);
	/* Optional (last, so positional initialisers of the above still
	 * work): true when the consumer reads none of the flow's facts
	 * (called right after flow_open with its pointer). The engine then
	 * keeps only the flow's TCP state, and the flow_info passed at
	 * flow_open is not kept up to date (flow_close gets a scratch one):
	 * events other than FIN and RST may carry wrong arguments and
	 * seg_meta. With *keep set to n > 0 (at most ENGINE_LITE_USER), the
	 * engine copies n bytes of *user into its record and passes their
	 * address as the flow's pointer from then on (valid until flow_close
	 * returns): the consumer's per-flow state costs no allocation. */
	bool (*flow_lite)(void *ctx, void *user, size_t *keep);
};

struct engine_config {
	uint32_t max_flows;
	sl_time flow_timeout;       /* ns */
	sl_time closed_linger;      /* ns */
	uint64_t ooo_per_dir;
	uint64_t ooo_global;
	uint64_t memory_cap;        /* bytes for all per-flow state (memcap.h); 0 = none */
	const uint16_t *server_ports;   /* well-known server ports for role guessing, 0-terminated */
};

struct engine_stats {
	uint64_t records;
	uint64_t decode[DEC__COUNT];
	uint64_t flows;             /* flows opened */
	uint64_t flows_evicted;     /* ended because of max_flows */
	uint64_t flows_evicted_memory; /* ended because of memory_cap */
	uint64_t flows_untracked;   /* not tracked at all: no room even after evicting (or to wake a pending flow, flow.h) */
	uint64_t flows_idle;        /* ended by the idle timeout */
	uint64_t ooo_cap_hits;
	uint64_t ooo_bytes_peak;
	uint64_t open_flows_peak;
	uint64_t bad_timestamps;    /* records whose time cannot be right (see engine_feed) */
	uint64_t flows_unallocated; /* flows not tracked: their record could not be allocated */
};

struct engine;

void engine_config_default(struct engine_config *cfg);
struct engine *engine_new(const struct engine_config *cfg, const struct engine_sink *sink);
/* Sets the file name reported in flow_info.file for flows opened from now on. */
void engine_set_file(struct engine *e, const char *file);
/* Feeds one record. Also ends flows whose time has run out (by packet time).
 * A time that cannot be right (seconds 0xFFFFFFFF; before 1990 after later
 * times; more than an hour before the previous record, unless the next
 * record confirms the step; more than an hour after it when the next record
 * goes back) is replaced by the previous good record's time, counted in
 * bad_timestamps and reported to the flow as TCP_BAD_TIMESTAMP, so no
 * duration or verdict rests on it. Such records may be held (copied) until
 * the next record decides. Returns the time used (0 for a record held). */
sl_time engine_feed(struct engine *e, const struct raw_packet *raw);
/* Ends flows idle since before now - timeout (live capture calls this on a
 * timer; engine_feed does it as packet time advances). */
void engine_sweep(struct engine *e, sl_time now);
/* Ends every open flow with END_CAPTURE_END. */
void engine_finish(struct engine *e);
const struct engine_stats *engine_stats(const struct engine *e);
size_t engine_open_flows(const struct engine *e);
/* The accountant every per-flow allocation of the analysis is reserved
 * against (the consumer's too); valid until engine_free. */
struct memcap *engine_memcap(struct engine *e);
void engine_free(struct engine *e);

#endif
