/*
 * flow.h - private to the engine: the flow record and the flow table.
 *
 * A flow is keyed by its direction-independent 5-tuple (the two endpoints in
 * a canonical order, so both directions find the same record). Records come
 * from a chunked pool and never move, so pointers to a flow (and to its
 * flow_info, which the consumer keeps) stay valid until the flow is released.
 * The table is open addressing with linear probing and backward-shift
 * deletion (no tombstones); it doubles when half full, up to twice max_flows.
 */
#ifndef SLEUTH_FLOW_H
#define SLEUTH_FLOW_H

#include <string.h>

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

struct flow {
	struct flow_key key;
	uint32_t hash;
	uint32_t idx;               /* pool index */
	bool client_is_a;           /* the client is endpoint a of the key */
	uint8_t list;               /* enum flow_list */
	struct flow *prev, *next;   /* LRU list (free list uses next) */
	sl_time touched;            /* engine time of the last packet */
	sl_time queued;             /* engine time it was put last on its list (lists are ordered by it) */
	void *user;                 /* consumer's pointer; NULL = not delivered */
	struct seg_meta last_meta;  /* of the last packet, for events at flow end */
	struct flow_info info;
	struct tcp_half half[2];    /* by enum sl_dir */
};

struct flow_table {
	struct slot { uint32_t hash; uint32_t idx1; } *slots;  /* idx1 = pool index + 1; 0 empty */
	uint32_t mask;              /* capacity - 1 */
	uint32_t count;
	uint32_t max_slots;         /* growth stops here */
	struct flow **chunks;       /* pool: chunks of FLOW_CHUNK records */
	uint32_t nchunks, chunks_cap;
	struct flow *free;
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
/* Removes f from the table and returns it to the pool. */
void ft_remove(struct flow_table *t, struct flow *f);

#endif
