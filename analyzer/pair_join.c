/*
 * pair_join.c - two-point analysis (see pair.h): the flows of the two
 * captures joined, their packets matched, the clock offset estimated.
 *
 * Joining, in order of strength:
 *   1. the client's ISN (and the server's, when both SYN-ACKs were seen):
 *      a NAT that rewrites addresses and ports keeps them (Linux netfilter,
 *      most home routers); labelled "tuple" when the 4-tuple is the same too;
 *   2. the same 4-tuple (captures that start mid-session), nearest in time;
 *   3. the same first payload bytes both ways (the hash of the first
 *      payload segment per direction) on the same server port, within
 *      PAIR_FP_WINDOW of each other once the clock offset is known: for a
 *      NAT that randomises ISNs. The sequence numbers are then translated
 *      by the difference seen on those first segments.
 * Ties go to the nearest start time. Each flow joins at most one other.
 *
 * Packet matching, first pass, never uses time: a received packet is the
 * sent packet with the same (translated) seq, ack, length, SYN/FIN/RST/ACK
 * flags and payload hash; copies with the same content (retransmissions,
 * duplicate ACKs) are paired in capture order, k-th received with k-th
 * sent. A wrong pairing there can only make a delay look longer, never
 * shorter, which is what the offset estimate relies on. Second pass, once
 * the offset is known: copies of equal content are paired by arrival order
 * and plausible delay (match_dir), so a lost original and the
 * retransmission that made it are told apart.
 *
 * Clock offset (server clock - client clock), NTP style: c2s packets give
 * d1 = t_server - t_client = offset + delay_c2s, s2c packets give
 * d2 = t_client - t_server = delay_s2c - offset, so offset = (d1 - d2) / 2
 * when the two delays are equal. Queueing only adds delay, so the minimum
 * of each is taken (NTP's minimum-delay filter); the error is at most half
 * the difference between the two directions' base delays.
 *
 * Cost: flow joins are binary searches in sorted indexes; matching sorts
 * each joined flow's sent packets once per pass.
 */
#include "pair_int.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define PAIR_JOIN_WINDOW (120 * NS_PER_SEC)  /* ISN / tuple joins: start times this close */
#define PAIR_FP_WINDOW   (2 * NS_PER_SEC)    /* fingerprint joins, after the offset */
#define PAIR_GUESS_MAX   (1u << 20)          /* start-time differences sorted for a first offset */
#define PAIR_MATCH_SLACK (50 * NS_PER_USEC)  /* clock error allowed when picking a copy */
#define PAIR_JITTER      (1 * NS_PER_MS)     /* queueing a copy may meet beyond the base delay */

static sl_time tabs(sl_time x)
{
	return x < 0 ? -x : x;
}

static bool same_tuple(const struct pflow *a, const struct pflow *b)
{
	return a->cport == b->cport && a->sport == b->sport && sl_addr_eq(&a->caddr, &b->caddr) &&
	       sl_addr_eq(&a->saddr, &b->saddr);
}

static void link_flows(struct pair *p, uint32_t ci, uint32_t si, enum join_how how)
{
	struct pflow *c = &p->s[PAIR_CLIENT].fl[ci], *s = &p->s[PAIR_SERVER].fl[si];
	c->peer = (int32_t)si;
	s->peer = (int32_t)ci;
	if (how == JOIN_ISN && same_tuple(c, s))
		how = JOIN_TUPLE;
	c->how = s->how = how;
	for (int d = 0; d < 2; d++) {
		uint32_t delta = 0;
		if (how == JOIN_FINGERPRINT && c->has_fp[d] && s->has_fp[d])
			delta = s->fp_seq[d] - c->fp_seq[d];
		else if (c->has_isn[d] && s->has_isn[d])
			delta = s->isn[d] - c->isn[d];
		c->seq_delta[d] = s->seq_delta[d] = delta;
	}
	p->n_joined++;
	p->by_how[how]++;
}

/* The best unjoined server flow for client flow c under one join rule:
 * same key, the rule's checks, start nearest the expected time. */
static int32_t best_peer(struct pair *p, const struct pflow *c, enum join_how how,
			 const struct fidx *ix, uint32_t n)
{
	struct pside *ss = &p->s[PAIR_SERVER];
	int32_t best = -1;
	sl_time best_d = 0;
	sl_time expect = c->first_ts + (p->has_offset ? p->offset : 0);
	sl_time window = how == JOIN_FINGERPRINT ? PAIR_FP_WINDOW : PAIR_JOIN_WINDOW;
	bool ok;
	uint64_t key = pair_flow_key(c, how, &ok);
	if (!ok)
		return -1;
	for (uint32_t j = pair_fidx_lower(ix, n, key, expect - window); j < n && ix[j].key == key; j++) {
		if (ix[j].ts > expect + window)
			break;
		const struct pflow *s = &ss->fl[ix[j].idx];
		if (s->peer >= 0)
			continue;
		switch (how) {
		case JOIN_ISN:
			if (c->has_isn[1] && s->has_isn[1] && c->isn[1] != s->isn[1])
				continue;
			break;
		case JOIN_TUPLE:
			if (!same_tuple(c, s))
				continue;
			/* two SYNs with different ISNs are two connections */
			if (c->has_isn[0] && s->has_isn[0])
				continue;
			break;
		case JOIN_FINGERPRINT:
			if (c->sport != s->sport || c->fp[0] != s->fp[0] || c->fp[1] != s->fp[1])
				continue;
			break;
		case JOIN_NONE:
			return -1;
		}
		sl_time d = tabs(s->first_ts - expect);
		if (best < 0 || d < best_d) {
			best = (int32_t)ix[j].idx;
			best_d = d;
		}
	}
	return best;
}

static void join_rule(struct pair *p, enum join_how how)
{
	struct pside *cs = &p->s[PAIR_CLIENT];
	struct fidx *ix;
	uint32_t n;
	if (!pair_build_index(&p->s[PAIR_SERVER], how, &ix, &n))
		return;
	for (uint32_t i = 0; i < cs->n_fl; i++) {
		if (cs->fl[i].peer >= 0)
			continue;
		int32_t s = best_peer(p, &cs->fl[i], how, ix, n);
		if (s >= 0)
			link_flows(p, i, (uint32_t)s, how);
	}
	free(ix);
}

int pair_cmp_time(const void *a, const void *b)
{
	sl_time x = *(const sl_time *)a, y = *(const sl_time *)b;
	return (x > y) - (x < y);
}

/* ---- packet matching ---- */

struct mkey {
	uint64_t key;
	uint32_t idx;
};

static int mkey_cmp(const void *a, const void *b)
{
	const struct mkey *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A packet's content in the client side's sequence numbering. */
struct content {
	uint32_t seq, ack, len;
	uint8_t flags;
	uint64_t hash;
};

static struct content content_of(const struct ppkt *k, const struct pflow *f, bool server_side)
{
	struct content c = { k->seq, 0, k->len, (uint8_t)(k->flags & (TH_SYN | TH_FIN | TH_RST | TH_ACK)), k->hash };
	if (k->flags & TH_ACK)
		c.ack = k->ack;
	if (server_side) {
		c.seq -= f->seq_delta[k->dir];
		if (k->flags & TH_ACK)
			c.ack -= f->seq_delta[!k->dir];
	}
	return c;
}

static uint64_t content_key(const struct content *c)
{
	uint64_t h = c->hash * 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)c->seq << 32 | c->ack) * 0xc2b2ae3d27d4eb4full;
	h ^= ((uint64_t)c->len << 8 | c->flags) * 0x165667b19e3779f9ull;
	return h;
}

static bool content_eq(const struct content *a, const struct content *b)
{
	return a->seq == b->seq && a->ack == b->ack && a->len == b->len && a->flags == b->flags &&
	       a->hash == b->hash;
}

/* Matches direction d of a joined pair: sender's packets against receiver's.
 * With use_time (once the offset is known), a received copy of content sent
 * several times is the latest copy sent before it arrived, so a dropped
 * original and its retransmission are told apart. */
static void match_dir(struct pair *p, struct pflow *c, struct pflow *s, int d, bool use_time)
{
	enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
	struct pside *ss = &p->s[snd], *rs = &p->s[!snd];
	struct pflow *sf = snd == PAIR_CLIENT ? c : s, *rf = snd == PAIR_CLIENT ? s : c;
	uint32_t n = 0;
	for (uint32_t i = 0; i < sf->n_pk; i++)
		n += ss->pk[sf->pk[i]].dir == d;
	if (!n)
		return;
	struct mkey *keys = malloc((size_t)n * sizeof(*keys));
	if (!keys)
		return;
	n = 0;
	for (uint32_t i = 0; i < sf->n_pk; i++) {
		const struct ppkt *k = &ss->pk[sf->pk[i]];
		if (k->dir != d)
			continue;
		struct content ct = content_of(k, sf, snd == PAIR_SERVER);
		keys[n].key = content_key(&ct);
		keys[n++].idx = sf->pk[i];
	}
	qsort(keys, n, sizeof(*keys), mkey_cmp);
	sl_time horizon = INT64_MIN;    /* latest send time of what has arrived */
	/* the base one-way delay plus as much again (at least PAIR_JITTER) */
	sl_time late = p->rtt_min / 2 + SL_MAX(PAIR_JITTER, p->rtt_min / 2);
	for (uint32_t i = 0; i < rf->n_pk; i++) {
		struct ppkt *r = &rs->pk[rf->pk[i]];
		if (r->dir != d)
			continue;
		struct content rc = content_of(r, rf, snd == PAIR_CLIENT);
		uint64_t key = content_key(&rc);
		uint32_t lo = 0, hi = n;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (keys[mid].key < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* Without time: the first unmatched copy. With time: the path
		 * is taken to keep order, so a copy sent before a packet that
		 * has already arrived was lost (its retransmission is the one
		 * arriving), and to delay a packet by at most `late`: the first
		 * copy sent at or after that horizon and no more than `late`
		 * before this arrival; else the latest sent before it; else the
		 * first. A burst of equal packets (duplicate ACKs) pairs in
		 * order. */
		int64_t first = -1, latest_before = -1, after_horizon = -1;
		for (; lo < n && keys[lo].key == key; lo++) {
			struct ppkt *k = &ss->pk[keys[lo].idx];
			if (k->match >= 0)
				continue;
			struct content kc = content_of(k, sf, snd == PAIR_SERVER);
			if (!content_eq(&kc, &rc))
				continue;
			if (first < 0)
				first = lo;
			if (!use_time)
				break;
			sl_time sent = d == DIR_C2S ? k->ts + p->offset : k->ts - p->offset;
			if (sent > r->ts + PAIR_MATCH_SLACK)
				break;
			latest_before = lo;
			if (after_horizon < 0 && sent >= horizon && r->ts - sent <= late)
				after_horizon = lo;
		}
		int64_t pick = after_horizon >= 0 ? after_horizon : latest_before >= 0 ? latest_before : first;
		if (pick >= 0 && use_time) {
			const struct ppkt *k = &ss->pk[keys[pick].idx];
			sl_time sent = d == DIR_C2S ? k->ts + p->offset : k->ts - p->offset;
			if (sent > horizon)
				horizon = sent;
		}
		if (pick >= 0) {
			ss->pk[keys[pick].idx].match = (int32_t)rf->pk[i];
			r->match = (int32_t)keys[pick].idx;
		}
	}
	free(keys);
}

static void match_pair(struct pair *p, uint32_t ci, bool use_time)
{
	struct pflow *c = &p->s[PAIR_CLIENT].fl[ci];
	struct pflow *s = &p->s[PAIR_SERVER].fl[c->peer];
	match_dir(p, c, s, DIR_C2S, use_time);
	match_dir(p, c, s, DIR_S2C, use_time);
}

/* The offset from every matched packet of the joined flows so far. */
static void estimate_offset(struct pair *p)
{
	const struct pside *cs = &p->s[PAIR_CLIENT], *ss = &p->s[PAIR_SERVER];
	bool h1 = false, h2 = false;
	sl_time d1 = 0, d2 = 0;
	uint32_t n = 0;
	for (uint32_t i = 0; i < cs->n_pk; i++) {
		const struct ppkt *k = &cs->pk[i];
		if (k->match < 0)
			continue;
		const struct ppkt *o = &ss->pk[k->match];
		n++;
		if (k->dir == DIR_C2S) {
			sl_time d = o->ts - k->ts;
			if (!h1 || d < d1)
				d1 = d;
			h1 = true;
		} else {
			sl_time d = k->ts - o->ts;
			if (!h2 || d < d2)
				d2 = d;
			h2 = true;
		}
	}
	p->offset_samples = n;
	if (h1 && h2) {
		p->offset = (d1 - d2) / 2;
		p->rtt_min = d1 + d2 > 0 ? d1 + d2 : 0;
	}
	else if (h1)
		p->offset = d1;
	else if (h2)
		p->offset = -d2;
	p->has_offset = h1 || h2;
}

/* Without a single ISN or tuple join (a NAT that rewrites ISNs too), a
 * first offset for the fingerprint joins: of the start-time differences of
 * every pair of flows with the same fingerprints, the densest
 * PAIR_FP_WINDOW / 4 is where the true pairs lie (the false pairs spread
 * out). Costs a sort of at most PAIR_GUESS_MAX differences. */
static void guess_offset(struct pair *p)
{
	const struct pside *cs = &p->s[PAIR_CLIENT], *ss = &p->s[PAIR_SERVER];
	struct fidx *ix;
	uint32_t nix, n = 0;
	if (!pair_build_index(&p->s[PAIR_SERVER], JOIN_FINGERPRINT, &ix, &nix))
		return;
	sl_time *d = malloc(PAIR_GUESS_MAX * sizeof(*d));
	if (!d) {
		free(ix);
		return;
	}
	for (uint32_t i = 0; i < cs->n_fl && n < PAIR_GUESS_MAX; i++) {
		const struct pflow *c = &cs->fl[i];
		bool ok;
		uint64_t key = pair_flow_key(c, JOIN_FINGERPRINT, &ok);
		if (!ok)
			continue;
		for (uint32_t j = pair_fidx_lower(ix, nix, key, c->first_ts - PAIR_JOIN_WINDOW);
		     j < nix && ix[j].key == key && ix[j].ts <= c->first_ts + PAIR_JOIN_WINDOW && n < PAIR_GUESS_MAX;
		     j++) {
			const struct pflow *f = &ss->fl[ix[j].idx];
			if (f->fp[0] == c->fp[0] && f->fp[1] == c->fp[1] && f->sport == c->sport)
				d[n++] = f->first_ts - c->first_ts;
		}
	}
	free(ix);
	if (n) {
		qsort(d, n, sizeof(*d), pair_cmp_time);
		uint32_t best_lo = 0, best_n = 0, lo = 0;
		for (uint32_t hi = 0; hi < n; hi++) {
			while (d[hi] - d[lo] > PAIR_FP_WINDOW / 4)
				lo++;
			if (hi - lo + 1 > best_n) {
				best_n = hi - lo + 1;
				best_lo = lo;
			}
		}
		p->offset = d[best_lo + best_n / 2];
		p->has_offset = true;
	}
	free(d);
}

void pair_join(struct pair *p)
{
	if (p->joined)
		return;
	p->joined = true;
	for (int s = 0; s < 2; s++)
		if (!pair_index_flows(&p->s[s]))
			return;
	struct pside *cs = &p->s[PAIR_CLIENT];

	join_rule(p, JOIN_ISN);
	join_rule(p, JOIN_TUPLE);
	for (uint32_t i = 0; i < cs->n_fl; i++)
		if (cs->fl[i].peer >= 0)
			match_pair(p, i, false);
	estimate_offset(p);
	if (!p->has_offset)
		guess_offset(p);
	/* fingerprints need the offset to tell sessions apart by time */
	uint32_t before = p->n_joined;
	join_rule(p, JOIN_FINGERPRINT);
	if (p->n_joined > before) {
		for (uint32_t i = 0; i < cs->n_fl; i++)
			if (cs->fl[i].peer >= 0 && cs->fl[i].how == JOIN_FINGERPRINT)
				match_pair(p, i, false);
		estimate_offset(p);
	}
	/* again, now that the clocks are known: which copy of a retransmitted
	 * packet arrived */
	for (int sd = 0; sd < 2; sd++)
		for (uint32_t i = 0; i < p->s[sd].n_pk; i++)
			p->s[sd].pk[i].match = -1;
	for (uint32_t i = 0; i < cs->n_fl; i++)
		if (cs->fl[i].peer >= 0)
			match_pair(p, i, true);
	for (uint32_t i = 0; i < cs->n_fl; i++) {
		if (cs->fl[i].peer < 0)
			continue;
		pair_path_dir(p, &cs->fl[i], DIR_C2S);
		pair_path_dir(p, &cs->fl[i], DIR_S2C);
	}
	for (int s = 0; s < 2; s++)
		for (uint32_t i = 0; i < p->s[s].n_fl; i++)
			if (p->s[s].fl[i].peer < 0)
				p->n_only[s]++;
}
