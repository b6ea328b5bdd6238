/*
 * flow.h - private to the engine: the flow record and the flow table.
 *
 * A flow is keyed by its direction-independent 5-tuple (the two endpoints in
 * a canonical order, so both directions find the same record). Records come
 * from a chunked pool and never move, so pointers to a flow (and to its
 * flow_info, which the consumer keeps) stay valid until the flow is released.
 * The table is open addressing with linear probing and backward-shift
 * deletion (no tombstones); it doubles when half full, up to twice max_flows.
 * A record is a hot part (key, links, times, TCP state) and a cold part
 * (flow_info) that a flow gets with its second packet: a lone SYN costs the
 * hot part only.
 */
#ifndef SLEUTH_FLOW_H
#define SLEUTH_FLOW_H

#include <string.h>

#include "chunks.h"
#include "engine.h"
#include "tcp.h"

struct flow_key {
	uint8_t a[16], b[16];   /* endpoint addresses, a <= b by (addr, port) */
	uint16_t pa, pb;        /* their ports */
	uint8_t v;              /* IP version */
	uint8_t pad[3];         /* always zero so the key compares as bytes */
};

/* Which list a flow is on: open flows expire by the idle timeout, closed ones
 * by the linger time. Both lists are ordered by `queued`, which trails the
 * last activity (`touched`) by less than the engine's LRU granularity. */
enum flow_list { FL_OPEN, FL_CLOSED };

/* Bytes of a first record kept while its flow is pending (see struct flow):
 * a SYN frame with 40 bytes of options under IPv6 and a VLAN tag fits. */
#define FLOW_PEND_BYTES 128

/* The part of a flow that comes with its second packet (or its end): the
 * facts handed to the consumer. Pooled like the records; never moves, so
 * the flow_info pointer the consumer keeps stays valid. */
struct flow_cold {
	struct flow_cold *free_next;    /* pool's free list */
	struct flow_info info;
};

/* What a flow record holds besides its hot part. */
enum flow_state {
	FS_FULL,        /* TCP state (u.tcp) and a cold part */
	FS_PENDING,     /* only its first record, a bare SYN (u.pend) */
	FS_LITE,        /* TCP state only: the consumer reads no facts of it */
};

/* A flow record. A flow whose first packet is a bare SYN stays pending: it
 * holds only this record, with that SYN's capture record copied into it
 * (u.pend), no TCP state, no cold part, no consumer state. The flow wakes
 * at its second packet or at its end: its TCP state takes the place of the
 * copy, the cold part is made and the SYN is fed through the usual path
 * (flow_open, packet, the TCP tracker) exactly as it would have been when
 * it came, before anything else of the flow. A flow whose consumer reads
 * none of its facts (engine_sink.flow_lite: another shard's flow, or one
 * not delivered) has no cold part, and the consumer's few bytes take the
 * place of last_meta, so it costs no more than a pending one. */
struct flow {
	struct flow_key key;
	uint32_t hash;
	uint32_t idx;               /* pool index */
	bool client_is_a;           /* the client is endpoint a of the key */
	uint8_t list;               /* enum flow_list */
	uint8_t state;              /* enum flow_state */
	bool pend_after_eviction;   /* pending: flow_info.after_eviction to be */
	struct flow *prev, *next;   /* LRU list (free list uses next) */
	sl_time touched;            /* engine time of the last packet */
	sl_time queued;             /* engine time it was put last on its list (lists are ordered by it) */
	void *user;                 /* consumer's pointer; NULL = not delivered */
	struct flow_cold *cold;     /* FS_FULL only */
	union {
		struct {            /* FS_PENDING: the first record and the flow's facts from its arrival */
			uint64_t id;
			const char *file;
			uint64_t frame;
			sl_time ts;
			uint32_t caplen, wirelen;
			int32_t linktype;
			uint8_t data[FLOW_PEND_BYTES];
		} pend;
		struct {            /* FS_FULL, FS_LITE */
			struct tcp_half half[2];        /* by enum sl_dir */
			union {
				struct seg_meta last_meta;      /* FS_FULL: of the last packet, for events at flow end */
				uint64_t user[ENGINE_LITE_USER / 8];    /* FS_LITE: the consumer's state (flow_lite) */
			} m;
		} tcp;
	} u;
};

static inline struct tcp_half *flow_half(struct flow *f)
{
	return f->u.tcp.half;
}

/* A lite flow's seg_meta goes to a scratch nobody reads. */
static inline struct seg_meta *flow_meta(struct flow *f, struct seg_meta *scratch)
{
	return f->state == FS_LITE ? scratch : &f->u.tcp.m.last_meta;
}

struct flow_table {
	struct slot { uint32_t hash; uint32_t idx1; } *slots;  /* idx1 = pool index + 1; 0 empty */
	uint32_t mask;              /* capacity - 1 */
	uint32_t count;
	uint32_t max_slots;         /* growth stops here */
	struct chunks pool;         /* chunks of FLOW_CHUNK records */
	struct flow *free;
	struct chunks cold_pool;    /* chunks of COLD_CHUNK cold parts */
	struct flow_cold *cfree;
	uint64_t seed;              /* for flow_key_hash */
	struct memcap *mem;         /* the slot array is reserved here */
};

static inline bool flow_key_eq(const struct flow_key *x, const struct flow_key *y)
{
	uint64_t a[5], b[5];
	memcpy(a, x, sizeof(a));
	memcpy(b, y, sizeof(b));
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
}

/* Builds the canonical key of p; *src_is_a says whether p's source is a. */
void flow_key_make(const struct pkt *p, struct flow_key *k, bool *src_is_a);
/* seed: per table, so keys chosen to collide in one run do not collide in
 * another (it changes only the layout of the table, never the results). */
uint32_t flow_key_hash(const struct flow_key *k, uint64_t seed);

bool ft_init(struct flow_table *t, uint32_t max_flows, struct memcap *mem);
void ft_free(struct flow_table *t);
struct flow *ft_find(const struct flow_table *t, const struct flow_key *k, uint32_t hash);
/* Takes a zeroed record from the pool and inserts it under k; NULL when out
 * of memory. */
struct flow *ft_add(struct flow_table *t, const struct flow_key *k, uint32_t hash);
/* Removes f from the table and returns it (and its cold part) to the pools. */
void ft_remove(struct flow_table *t, struct flow *f);
/* A zeroed cold part from its pool; NULL when out of memory. */
struct flow_cold *ft_cold_get(struct flow_table *t);
void ft_cold_put(struct flow_table *t, struct flow_cold *c);

#endif
