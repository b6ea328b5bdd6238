/*
 * flow.c - the flow table: canonical keys, hashing, open addressing, pool.
 *
 * Invariants: every record in the table has a slot whose idx1 points at it;
 * slots of one probe run are contiguous (backward-shift deletion keeps them
 * so); pool records never move (chunks are never reallocated, only the chunk
 * pointer array), so a struct flow * stays valid until ft_remove.
 */
#include "flow.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLOW_CHUNK      64u             /* records per pool chunk (18 KB: a short analysis touches little) */
#define COLD_CHUNK      64u             /* cold parts per pool chunk (36 KB) */
#define FT_MIN_SLOTS    1024u
#define FT_MAX_SLOTS    (1u << 31)

void flow_key_make(const struct pkt *p, struct flow_key *k, bool *src_is_a)
{
	/* any total order works for a canonical key; 64-bit words are cheaper
	 * than a byte-wise memcmp */
	uint64_t s[2], d[2];
	memcpy(s, p->src.a, 16);
	memcpy(d, p->dst.a, 16);
	bool src_first = s[0] != d[0] ? s[0] < d[0] : s[1] != d[1] ? s[1] < d[1] : p->sport <= p->dport;
	const struct sl_addr *x = src_first ? &p->src : &p->dst;
	const struct sl_addr *y = src_first ? &p->dst : &p->src;
	memcpy(k->a, x->a, 16);
	memcpy(k->b, y->a, 16);
	k->pa = src_first ? p->sport : p->dport;
	k->pb = src_first ? p->dport : p->sport;
	k->v = p->ipver;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	*src_is_a = src_first;
}

/* Multiply-xor over the key's 64-bit words, the products independent of
 * each other so they run in parallel: cheap, and good enough for a table
 * whose keys an attacker can choose only within one capture. */
uint32_t flow_key_hash(const struct flow_key *k, uint64_t seed)
{
	uint64_t w[5];
	memcpy(w, k, sizeof(w));
	uint64_t h = ((w[0] + (seed ^ 0x9e3779b97f4a7c15ull)) * (w[1] + 0xc2b2ae3d27d4eb4full)) ^
		     ((w[2] + 0x165667b19e3779f9ull) * (w[3] + 0xd6e8feb86659fd93ull)) ^
		     ((w[4] + 0xff51afd7ed558ccdull) * 0x94d049bb133111ebull);
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

_Static_assert(sizeof(struct flow_key) == 40, "flow key is five words");

static struct flow *flow_at(const struct flow_table *t, uint32_t idx)
{
	struct flow *chunk = t->pool.v[idx / FLOW_CHUNK];
	return &chunk[idx % FLOW_CHUNK];
}

bool ft_init(struct flow_table *t, uint32_t max_flows, struct memcap *mem)
{
	memset(t, 0, sizeof(*t));
	t->mem = mem;
	uint64_t want = (uint64_t)max_flows * 2;
	uint32_t max_slots = FT_MIN_SLOTS;
	while (max_slots < want && max_slots < FT_MAX_SLOTS)
		max_slots <<= 1;
	t->max_slots = max_slots;
	/* no need for strong randomness: the address of the table and the
	 * clock differ between runs */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t->seed = ((uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ts.tv_nsec ^
		  ((uint64_t)ts.tv_sec << 32);
	if (!memcap_reserve(mem, FT_MIN_SLOTS * sizeof(*t->slots)))
		return false;
	t->slots = calloc(FT_MIN_SLOTS, sizeof(*t->slots));
	if (!t->slots)
		return false;
	t->mask = FT_MIN_SLOTS - 1;
	return true;
}

void ft_free(struct flow_table *t)
{
	chunks_free(&t->pool);
	chunks_free(&t->cold_pool);
	if (t->slots)
		memcap_release(t->mem, ((size_t)t->mask + 1) * sizeof(*t->slots));
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

struct flow *ft_find(const struct flow_table *t, const struct flow_key *k, uint32_t hash)
{
	for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		const struct slot *s = &t->slots[i];
		if (!s->idx1)
			return NULL;
		if (s->hash == hash) {
			struct flow *f = flow_at(t, s->idx1 - 1);
			if (flow_key_eq(&f->key, k))
				return f;
		}
	}
}

static void slot_put(struct slot *slots, uint32_t mask, uint32_t hash, uint32_t idx1)
{
	uint32_t i = hash & mask;
	while (slots[i].idx1)
		i = (i + 1) & mask;
	slots[i].hash = hash;
	slots[i].idx1 = idx1;
}

static bool ft_grow(struct flow_table *t)
{
	uint32_t cap = (t->mask + 1) * 2;
	if (!memcap_reserve(t->mem, (size_t)cap * sizeof(struct slot)))
		return false;
	struct slot *ns = calloc(cap, sizeof(*ns));
	if (!ns) {
		memcap_release(t->mem, (size_t)cap * sizeof(struct slot));
		return false;
	}
	for (uint32_t i = 0; i <= t->mask; i++)
		if (t->slots[i].idx1)
			slot_put(ns, cap - 1, t->slots[i].hash, t->slots[i].idx1);
	memcap_release(t->mem, ((size_t)t->mask + 1) * sizeof(*t->slots));
	free(t->slots);
	t->slots = ns;
	t->mask = cap - 1;
	return true;
}

static bool pool_grow(struct flow_table *t)
{
	uint32_t base = t->pool.n * FLOW_CHUNK;
	struct flow *chunk = chunks_add(&t->pool, FLOW_CHUNK * sizeof(*chunk), false);
	if (!chunk)
		return false;
	for (uint32_t i = FLOW_CHUNK; i-- > 0;) {
		chunk[i].idx = base + i;
		chunk[i].next = t->free;
		t->free = &chunk[i];
	}
	return true;
}

static bool cold_grow(struct flow_table *t)
{
	struct flow_cold *chunk = chunks_add(&t->cold_pool, COLD_CHUNK * sizeof(*chunk), false);
	if (!chunk)
		return false;
	for (uint32_t i = COLD_CHUNK; i-- > 0;) {
		chunk[i].free_next = t->cfree;
		t->cfree = &chunk[i];
	}
	return true;
}

struct flow_cold *ft_cold_get(struct flow_table *t)
{
	if (!t->cfree && !cold_grow(t))
		return NULL;
	struct flow_cold *c = t->cfree;
	t->cfree = c->free_next;
	memset(c, 0, sizeof(*c));
	return c;
}

void ft_cold_put(struct flow_table *t, struct flow_cold *c)
{
	c->free_next = t->cfree;
	t->cfree = c;
}

struct flow *ft_add(struct flow_table *t, const struct flow_key *k, uint32_t hash)
{
	/* a table the memory cap keeps from doubling fills up to 3/4 first */
	if ((uint64_t)(t->count + 1) * 2 > (uint64_t)t->mask + 1 && t->mask + 1 < t->max_slots &&
	    !ft_grow(t) && (uint64_t)(t->count + 1) * 4 > ((uint64_t)t->mask + 1) * 3)
		return NULL;
	if ((uint64_t)t->count + 1 > t->mask)   /* never fill the last slot */
		return NULL;
	if (!t->free && !pool_grow(t))
		return NULL;
	struct flow *f = t->free;
	t->free = f->next;
	uint32_t idx = f->idx;
	/* the pending record's bytes are written before they are read */
	memset(f, 0, offsetof(struct flow, u));
	f->idx = idx;
	f->key = *k;
	f->hash = hash;
	slot_put(t->slots, t->mask, hash, idx + 1);
	t->count++;
	return f;
}

void ft_remove(struct flow_table *t, struct flow *f)
{
	uint32_t i = f->hash & t->mask;
	while (t->slots[i].idx1 != f->idx + 1)
		i = (i + 1) & t->mask;
	/* backward-shift: move later members of the run into the hole when
	 * their home slot is at or before it */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & t->mask; t->slots[j].idx1; j = (j + 1) & t->mask) {
		uint32_t home = t->slots[j].hash & t->mask;
		if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole].idx1 = 0;
	t->count--;
	if (f->cold) {
		ft_cold_put(t, f->cold);
		f->cold = NULL;
	}
	f->next = t->free;
	t->free = f;
}
