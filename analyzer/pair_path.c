/*
 * pair_path.c - two-point analysis (see pair.h): the path facts of one
 * direction of a joined flow, from its matched packets: what was dropped
 * and injected, reordering, one-way delays after the clock offset, TTL
 * hops, the SYN's MSS as sent and received, and whether the losses look
 * like an MTU black hole or a path that went dead.
 *
 * What is judged: a capture file does not say when it stopped, so both
 * captures are taken to have run until the later of their last packets;
 * their starts are their first packets. Packets in flight at that end (one
 * largest observed delay) are not judged.
 */
#include "pair_int.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define PAIR_EDGE_MARGIN (50 * NS_PER_USEC)  /* in flight at the captures' end (beyond the delays seen): not judged */
#define PAIR_MTU_FLOOR   576                 /* IPv4's minimum reassembly size */

static int ttl_mode(const uint32_t *hist)
{
	int best = -1;
	for (int t = 0; t < 256; t++)
		if (hist[t] && (best < 0 || hist[t] > hist[best]))
			best = t;
	return best;
}

/* Sender's time -> receiver's clock, for direction d. */
static sl_time to_receiver(const struct pair *p, int d, sl_time t)
{
	return d == DIR_C2S ? t + p->offset : t - p->offset;
}

struct copy {
	uint32_t seq, len, idx;
	uint8_t syn_fin;
	bool delivered;
	bool dropped;           /* judged dropped (neither: at a capture's edge) */
};

static int copy_cmp(const void *a, const void *b)
{
	const struct copy *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->syn_fin != y->syn_fin)
		return x->syn_fin < y->syn_fin ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The segment (data, SYN or FIN) sent most often without one copy getting
 * through: a path that discards that segment (a filter on its content or
 * size) while other packets pass. Copies are the packets of the same
 * sequence number, length and SYN/FIN; a copy not judged (at a capture's
 * edge) is not counted either way. Costs a sort of the direction's
 * segments. */
static void stuck_segment(const struct pair *p, const struct pside *ss, const struct pflow *sf, int d,
			  sl_time from, sl_time until, struct path_dir *pd)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < sf->n_pk; i++) {
		const struct ppkt *k = &ss->pk[sf->pk[i]];
		n += k->dir == d && (k->len || (k->flags & (TH_SYN | TH_FIN)));
	}
	if (!n || !pd->dropped)
		return;
	struct copy *cp = malloc((size_t)n * sizeof(*cp));
	if (!cp)
		return;
	n = 0;
	for (uint32_t i = 0; i < sf->n_pk; i++) {
		const struct ppkt *k = &ss->pk[sf->pk[i]];
		if (k->dir != d || !(k->len || (k->flags & (TH_SYN | TH_FIN))))
			continue;
		sl_time t = to_receiver(p, d, k->ts);
		cp[n] = (struct copy){ k->seq, k->len, sf->pk[i], (uint8_t)(k->flags & (TH_SYN | TH_FIN)),
				       k->match >= 0, k->match < 0 && t >= from && t <= until };
		n++;
	}
	qsort(cp, n, sizeof(*cp), copy_cmp);
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i, dropped = 0;
		bool delivered = false;
		while (j < n && cp[j].seq == cp[i].seq && cp[j].len == cp[i].len && cp[j].syn_fin == cp[i].syn_fin) {
			delivered |= cp[j].delivered;
			dropped += cp[j].dropped;
			j++;
		}
		if (!delivered && dropped > pd->stuck_copies) {
			pd->stuck_copies = dropped;
			pd->stuck_idx = cp[i].idx;
		}
		i = j;
	}
	free(cp);
}

/* A forged RST the receiver ignored (it lost the race against real data,
 * so its sequence number was stale): the receiver went on sending data or
 * its FIN afterwards. A challenge ACK carries neither. */
static bool rst_ignored(const struct pside *rs, const struct pflow *rf, const struct ppkt *rst, int d)
{
	for (uint32_t i = 0; i < rf->n_pk; i++) {
		const struct ppkt *k = &rs->pk[rf->pk[i]];
		if (k->dir != d && k->ts > rst->ts && (k->len || (k->flags & TH_FIN)))
			return true;
	}
	return false;
}

void pair_path_dir(struct pair *p, struct pflow *c, int d)
{
	enum pair_side snd = d == DIR_C2S ? PAIR_CLIENT : PAIR_SERVER;
	struct pside *ss = &p->s[snd], *rs = &p->s[!snd];
	struct pflow *s = &p->s[PAIR_SERVER].fl[c->peer];
	struct pflow *sf = snd == PAIR_CLIENT ? c : s, *rf = snd == PAIR_CLIENT ? s : c;
	struct path_dir *pd = &c->dir[d];
	uint32_t hist_s[256] = { 0 }, hist_r[256] = { 0 };
	sl_time *delays = malloc((size_t)(sf->n_pk ? sf->n_pk : 1) * sizeof(*delays));
	uint32_t nd = 0;

	memset(pd, 0, sizeof(*pd));
	pd->ttl_sent = pd->ttl_recv = -1;
	for (uint32_t i = 0; i < sf->n_pk; i++) {
		const struct ppkt *k = &ss->pk[sf->pk[i]];
		if (k->dir != d)
			continue;
		pd->sent++;
		if ((k->flags & TH_SYN) && !pd->mss_sent)
			pd->mss_sent = k->mss;
		if (k->match < 0)
			continue;
		const struct ppkt *r = &rs->pk[k->match];
		pd->matched++;
		hist_s[k->ttl]++;
		hist_r[r->ttl]++;
		if (k->ip_len > pd->largest_delivered)
			pd->largest_delivered = k->ip_len;
		sl_time dl = r->ts - to_receiver(p, d, k->ts);
		if (delays)
			delays[nd++] = dl;
	}
	if (nd) {
		qsort(delays, nd, sizeof(*delays), pair_cmp_time);
		pd->has_delay = true;
		pd->delay_min = delays[0];
		pd->delay_med = delays[nd / 2];
		pd->delay_max = delays[nd - 1];
	}
	free(delays);
	pd->ttl_sent = ttl_mode(hist_s);
	pd->ttl_recv = ttl_mode(hist_r);

	/* dropped: sent while the receiver's capture ran, and early enough to
	 * have arrived before it stopped */
	/* A capture file does not say when it stopped: both captures are taken
	 * to have run until the later of their last packets (stop them
	 * together), less the time a packet is in flight. Their starts are
	 * their first packets: a capture started late does not make the
	 * earlier packets look dropped. */
	sl_time margin = SL_MAX(PAIR_EDGE_MARGIN, pd->has_delay ? pd->delay_max : 0);
	sl_time cover_end = SL_MAX(rs->last_ts, to_receiver(p, d, ss->last_ts));
	sl_time last_ok = 0, first_drop = 0;
	bool any_drop = false;
	for (uint32_t i = 0; i < sf->n_pk; i++) {
		const struct ppkt *k = &ss->pk[sf->pk[i]];
		if (k->dir != d)
			continue;
		if (k->match >= 0) {
			if (k->ts > last_ok)
				last_ok = k->ts;
			continue;
		}
		sl_time t = to_receiver(p, d, k->ts);
		if (t < rs->first_ts || t + margin > cover_end)
			continue;
		if (!any_drop)
			first_drop = k->ts;
		any_drop = true;
		pd->dropped++;
		if (k->flags & TH_SYN)
			pd->dropped_syn++;
		if (!pd->smallest_dropped || k->ip_len < pd->smallest_dropped)
			pd->smallest_dropped = k->ip_len;
		if (pd->n_drop_idx < PAIR_LIST_MAX)
			pd->drop_idx[pd->n_drop_idx++] = sf->pk[i];
	}
	/* A black hole drops by size: at least two packets, every one larger
	 * than anything delivered, and large (a path MTU under 576 bytes is
	 * not a thing; a dead path drops small packets too). */
	pd->blackhole = pd->dropped >= 2 && pd->largest_delivered &&
			pd->smallest_dropped > pd->largest_delivered &&
			pd->smallest_dropped >= PAIR_MTU_FLOOR;
	pd->tail_loss = any_drop && last_ok < first_drop;

	stuck_segment(p, ss, sf, d, rs->first_ts, cover_end - margin, pd);

	/* received: injected (never sent while the sender's capture ran),
	 * reordered */
	uint32_t max_sent_idx = 0;
	bool any = false;
	for (uint32_t i = 0; i < rf->n_pk; i++) {
		const struct ppkt *r = &rs->pk[rf->pk[i]];
		if (r->dir != d)
			continue;
		pd->received++;
		if (r->match >= 0) {
			if (any && (uint32_t)r->match < max_sent_idx)
				pd->reordered++;
			if (!any || (uint32_t)r->match > max_sent_idx)
				max_sent_idx = (uint32_t)r->match;
			any = true;
			if ((r->flags & TH_SYN) && !pd->mss_recv)
				pd->mss_recv = r->mss;
			continue;
		}
		/* back to the sender's clock */
		sl_time t = d == DIR_C2S ? r->ts - p->offset : r->ts + p->offset;
		if (t < ss->first_ts || to_receiver(p, d, t) > cover_end)
			continue;
		pd->injected++;
		if (r->flags & TH_RST) {
			if (rst_ignored(rs, rf, r, d)) {
				pd->injected_rst_ignored++;
			} else {
				if (!pd->injected_rst)
					pd->rst_idx = rf->pk[i];
				pd->injected_rst++;
			}
		}
		if (pd->n_inj_idx < PAIR_LIST_MAX)
			pd->inj_idx[pd->n_inj_idx++] = rf->pk[i];
	}
	/* the SYN that arrived: the MSS a middlebox may have clamped */
	if (!pd->mss_recv) {
		for (uint32_t i = 0; i < rf->n_pk; i++) {
			const struct ppkt *r = &rs->pk[rf->pk[i]];
			if (r->dir == d && (r->flags & TH_SYN)) {
				pd->mss_recv = r->mss;
				break;
			}
		}
	}
}
