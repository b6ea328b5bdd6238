/*
 * slots.c - who holds the server's connection slots, so --max-conns and
 * --max-conn-per-ip are checked in O(1) per accepted connection.
 *
 * A session holds a slot from the accept that admitted it until it starts
 * to close (SS_DRAIN) or dies: a connection the server already refused or
 * is draining no longer counts, so a client that floods connections and
 * never closes them cannot fill the slots with its refused ones, and one
 * address can take at most --max-conn-per-ip of them (16 by default; 0 is
 * unlimited). That is how the slots are shared: every address gets up to
 * its cap until the total is reached.
 *
 * The per-address counts live in a small hash table (chained, one entry per
 * address that holds a slot), made when the first slot is taken and freed
 * when the last one is given back, so an idle server holds no table.
 * Memory: buckets for min(max_conns, SLOTS_MAX_BUCKETS) plus 80 bytes per
 * address with a slot.
 */
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define SLOTS_MIN_BUCKETS 64
#define SLOTS_MAX_BUCKETS 65536

struct slot_entry {
	struct slot_entry *next;
	unsigned n;
	char ip[64];            /* the session's peer_ip */
};

struct slot_table {
	unsigned mask;          /* buckets - 1 */
	unsigned total;         /* slots held */
	struct slot_entry *b[];
};

static unsigned hash_ip(const char *ip)
{
	uint32_t h = 2166136261u;     /* FNV-1a */
	for (; *ip; ip++)
		h = (h ^ (uint8_t)*ip) * 16777619u;
	return h;
}

static struct slot_entry **find(struct slot_table *t, const char *ip)
{
	struct slot_entry **pp = &t->b[hash_ip(ip) & t->mask];
	while (*pp && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

enum slot_verdict slot_take(struct session *ss)
{
	struct server *s = ss->srv;
	const struct policy *pol = s->pol;
	if (ss->holds_slot)
		return SLOT_OK;
	struct slot_table *t = s->slots;
	if (pol->max_conns && t && t->total >= pol->max_conns)
		return SLOT_FULL;
	if (!t) {
		unsigned n = SLOTS_MIN_BUCKETS;
		while (n < SLOTS_MAX_BUCKETS && n < pol->max_conns)
			n *= 2;
		t = calloc(1, sizeof(*t) + n * sizeof(t->b[0]));
		if (!t)
			return SLOT_FULL;
		t->mask = n - 1;
		s->slots = t;
	}
	struct slot_entry **pp = find(t, ss->peer_ip);
	if (*pp && pol->max_conn_per_ip && (*pp)->n >= pol->max_conn_per_ip)
		return SLOT_IP_FULL;
	if (!*pp) {
		struct slot_entry *e = calloc(1, sizeof(*e));
		if (!e) {
			if (!t->total) {
				free(t);
				s->slots = NULL;
			}
			return SLOT_FULL;
		}
		memcpy(e->ip, ss->peer_ip, sizeof(e->ip));
		e->ip[sizeof(e->ip) - 1] = '\0';
		*pp = e;
	}
	(*pp)->n++;
	t->total++;
	ss->holds_slot = true;
	return SLOT_OK;
}

void slot_release(struct session *ss)
{
	struct server *s = ss->srv;
	if (!ss->holds_slot || !s || !s->slots)
		return;
	ss->holds_slot = false;
	struct slot_table *t = s->slots;
	struct slot_entry **pp = find(t, ss->peer_ip);
	if (*pp && --(*pp)->n == 0) {
		struct slot_entry *e = *pp;
		*pp = e->next;
		free(e);
	}
	if (--t->total == 0) {
		free(t);
		s->slots = NULL;
	}
}

unsigned slot_count(const struct server *s)
{
	return s->slots ? s->slots->total : 0;
}
