/*
 * pair.c - two-point analysis, first half: the two captures read into
 * packet tables, split into flows, joined, matched packet by packet, and
 * the path facts of every joined flow (see pair.h for the whole picture).
 *
 * Flows: a side's packets are split by their 4-tuple; a pure SYN with a new
 * initial sequence number starts a new flow on the same tuple (port reuse).
 * Roles come from the SYN; without one, the side on a mail port is the
 * server (else the lower port).
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
 * Packet matching never uses time: a received packet is the sent packet
 * with the same (translated) seq, ack, length, SYN/FIN/RST/ACK flags and
 * payload hash; copies with the same content (retransmissions, duplicate
 * ACKs) are paired in capture order, k-th received with k-th sent. A
 * missed match can only make a delay look longer, never shorter, which is
 * what the offset estimate relies on.
 *
 * Clock offset (server clock - client clock), NTP style: c2s packets give
 * d1 = t_server - t_client = offset + delay_c2s, s2c packets give
 * d2 = t_client - t_server = delay_s2c - offset, so offset = (d1 - d2) / 2
 * when the two delays are equal. Queueing only adds delay, so the minimum
 * of each is taken (NTP's minimum-delay filter); the error is at most half
 * the difference between the two directions' base delays. Costs a sort of
 * the matched packets' deltas.
 */
#include "pair_int.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "source.h"

#define PAIR_JOIN_WINDOW (120 * NS_PER_SEC)  /* ISN / tuple joins: start times this close */
#define PAIR_FP_WINDOW   (2 * NS_PER_SEC)    /* fingerprint joins, after the offset */
#define PAIR_EDGE_MARGIN (50 * NS_PER_USEC)  /* in flight at the captures' end (beyond the delays seen): not judged */
#define PAIR_GUESS_MAX   (1u << 20)          /* start-time differences sorted for a first offset */
#define PAIR_MATCH_SLACK (50 * NS_PER_USEC)  /* clock error allowed when picking a copy */
#define PAIR_JITTER      (1 * NS_PER_MS)     /* queueing a copy may meet beyond the base delay */
#define PAIR_MTU_FLOOR   576                 /* IPv4's minimum reassembly size */
#define PAIR_TAB_SIZE    (PAIR_MAX_FLOWS * 2u)

static const uint16_t pair_mail_ports[] = { 25, 465, 587, 2525, 10025, 0 };

struct pair *pair_new(void)
{
	struct pair *p = calloc(1, sizeof(*p));
	return p;
}

void pair_free(struct pair *p)
{
	if (!p)
		return;
	for (int s = 0; s < 2; s++) {
		struct pside *sd = &p->s[s];
		for (uint32_t i = 0; i < sd->n_fl; i++)
			free(sd->fl[i].pk);
		free(sd->fl);
		free(sd->pk);
		free(sd->tab);
		free(sd->tuple_ix);
		for (uint32_t i = 0; i < sd->n_files; i++)
			free(sd->files[i]);
	}
	free(p);
}

/* ---- reading ---- */

static uint64_t fnv(uint64_t h, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool is_mail_port(uint16_t port)
{
	for (const uint16_t *q = pair_mail_ports; *q; q++)
		if (*q == port)
			return true;
	return false;
}

static uint32_t tuple_hash(const struct sl_addr *a, uint16_t ap, const struct sl_addr *b, uint16_t bp)
{
	/* order-independent: hash each end, combine symmetrically */
	uint64_t ha = fnv(fnv(14695981039346656037ull, a->a, 16), (const uint8_t *)&ap, 2);
	uint64_t hb = fnv(fnv(14695981039346656037ull, b->a, 16), (const uint8_t *)&bp, 2);
	uint64_t h = (ha ^ hb) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static bool flow_has_tuple(const struct pflow *f, const struct pkt *k)
{
	if (f->cport == k->sport && f->sport == k->dport && sl_addr_eq(&f->caddr, &k->src) &&
	    sl_addr_eq(&f->saddr, &k->dst))
		return true;
	return f->cport == k->dport && f->sport == k->sport && sl_addr_eq(&f->caddr, &k->dst) &&
	       sl_addr_eq(&f->saddr, &k->src);
}

static int32_t new_flow(struct pside *sd, const struct pkt *k, sl_time ts, uint32_t pkt_idx)
{
	if (sd->n_fl >= PAIR_MAX_FLOWS) {
		sd->flows_over_cap++;
		return -1;
	}
	if (sd->n_fl == sd->cap_fl) {
		uint32_t n = sd->cap_fl ? sd->cap_fl * 2 : 64;
		struct pflow *fl = realloc(sd->fl, (size_t)n * sizeof(*fl));
		if (!fl) {
			sd->flows_over_cap++;
			return -1;
		}
		sd->fl = fl;
		sd->cap_fl = n;
	}
	struct pflow *f = &sd->fl[sd->n_fl];
	memset(f, 0, sizeof(*f));
	bool src_is_client;
	if ((k->flags & (TH_SYN | TH_ACK)) == TH_SYN)
		src_is_client = true;
	else if ((k->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
		src_is_client = false;
	else if (is_mail_port(k->dport))
		src_is_client = true;
	else if (is_mail_port(k->sport))
		src_is_client = false;
	else
		src_is_client = k->sport > k->dport;
	f->roles_from_syn = (k->flags & TH_SYN) != 0;
	f->caddr = src_is_client ? k->src : k->dst;
	f->saddr = src_is_client ? k->dst : k->src;
	f->cport = src_is_client ? k->sport : k->dport;
	f->sport = src_is_client ? k->dport : k->sport;
	f->first_ts = f->last_ts = ts;
	f->first_pkt = pkt_idx;
	f->peer = -1;
	return (int32_t)sd->n_fl++;
}

/* The flow a packet belongs to (creating it); -1 past the flow cap. */
static int32_t flow_for(struct pside *sd, const struct pkt *k, sl_time ts, uint32_t pkt_idx)
{
	if (!sd->tab) {
		sd->tab = calloc(PAIR_TAB_SIZE, sizeof(*sd->tab));
		if (!sd->tab)
			return -1;
		sd->tab_size = PAIR_TAB_SIZE;
	}
	uint32_t mask = sd->tab_size - 1;
	uint32_t i = tuple_hash(&k->src, k->sport, &k->dst, k->dport) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t e = sd->tab[i];
		if (!e)
			break;
		struct pflow *f = &sd->fl[e - 1];
		if (!flow_has_tuple(f, k))
			continue;
		bool pure_syn = (k->flags & (TH_SYN | TH_ACK)) == TH_SYN;
		if (pure_syn && f->has_isn[DIR_C2S] && f->isn[DIR_C2S] != k->seq) {
			int32_t n = new_flow(sd, k, ts, pkt_idx);
			if (n >= 0)
				sd->tab[i] = (uint32_t)n + 1;   /* the newest flow of the tuple */
			return n;
		}
		return (int32_t)(e - 1);
	}
	/* the table has twice the flow cap's slots, so it never fills */
	int32_t n = new_flow(sd, k, ts, pkt_idx);
	if (n >= 0)
		sd->tab[i] = (uint32_t)n + 1;
	return n;
}

static void add_packet(struct pside *sd, const struct pkt *k, uint16_t file)
{
	if (sd->n_pk >= PAIR_MAX_PACKETS) {
		sd->pk_over_cap++;
		return;
	}
	if (sd->n_pk == sd->cap_pk) {
		uint32_t n = sd->cap_pk ? sd->cap_pk * 2 : 1024;
		if (n > PAIR_MAX_PACKETS)
			n = PAIR_MAX_PACKETS;
		struct ppkt *pk = realloc(sd->pk, (size_t)n * sizeof(*pk));
		if (!pk) {
			sd->pk_over_cap++;
			return;
		}
		sd->pk = pk;
		sd->cap_pk = n;
	}
	int32_t fi = flow_for(sd, k, k->ts, sd->n_pk);
	if (fi < 0)
		return;
	struct pflow *f = &sd->fl[fi];
	struct ppkt *q = &sd->pk[sd->n_pk];
	memset(q, 0, sizeof(*q));
	q->ts = k->ts;
	q->frame = k->frame;
	q->seq = k->seq;
	q->ack = k->ack;
	q->len = k->payload_wire_len;
	q->flow = (uint32_t)fi;
	q->match = -1;
	q->ip_len = (uint16_t)SL_MIN(k->l3_len + (k->payload_wire_len - k->payload_len), 65535u);
	q->mss = k->opt.mss;
	q->ip_id = k->ip_id;
	q->file = file;
	q->flags = k->flags;
	q->ttl = k->ttl;
	bool c2s = k->sport == f->cport && sl_addr_eq(&k->src, &f->caddr);
	q->dir = c2s ? DIR_C2S : DIR_S2C;
	q->hash = k->payload_len ? fnv(14695981039346656037ull, k->payload, k->payload_len) : 0;
	if ((k->flags & (TH_SYN | TH_ACK)) == TH_SYN && c2s && !f->has_isn[DIR_C2S]) {
		f->has_isn[DIR_C2S] = true;
		f->isn[DIR_C2S] = k->seq;
	}
	if ((k->flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && !c2s && !f->has_isn[DIR_S2C]) {
		f->has_isn[DIR_S2C] = true;
		f->isn[DIR_S2C] = k->seq;
	}
	if (k->payload_len && !k->truncated && !f->has_fp[q->dir]) {
		f->has_fp[q->dir] = true;
		f->fp[q->dir] = q->hash;
		f->fp_seq[q->dir] = k->seq;
	}
	if (k->flags & (TH_FIN | TH_RST))
		f->ended = true;
	if (k->ts < f->first_ts)
		f->first_ts = k->ts;
	if (k->ts > f->last_ts)
		f->last_ts = k->ts;
	if (!sd->n_pk || k->ts < sd->first_ts)
		sd->first_ts = k->ts;
	if (k->ts > sd->last_ts)
		sd->last_ts = k->ts;
	f->n_pk++;
	sd->n_pk++;
}

bool pair_read(struct pair *p, enum pair_side side, const char *path, char *err, size_t errlen)
{
	struct pside *sd = &p->s[side];
	if (sd->n_files >= PAIR_MAX_FILES) {
		snprintf(err, errlen, "%s: more than %u files for one side", path, PAIR_MAX_FILES);
		return false;
	}
	struct source *src = source_open_file(path, err, errlen);
	if (!src)
		return false;
	char *name = strdup(path);
	if (!name) {
		source_close(src);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	uint16_t file = (uint16_t)sd->n_files;
	sd->files[sd->n_files++] = name;
	struct raw_packet raw;
	struct pkt k;
	int r;
	while ((r = source_next(src, &raw, err, errlen)) > 0) {
		if (decode_packet(&raw, &k) == DEC_TCP)
			add_packet(sd, &k, file);
	}
	source_close(src);
	return r >= 0;
}

/* ---- joining ---- */

uint32_t pair_rel_seq(const struct pflow *f, const struct ppkt *k)
{
	if (f->has_isn[k->dir])
		return k->seq - f->isn[k->dir];
	return k->seq;
}

/* Builds each flow's list of packet indices (capture order). */
static bool index_flows(struct pside *sd)
{
	for (uint32_t i = 0; i < sd->n_fl; i++) {
		sd->fl[i].pk = malloc((size_t)(sd->fl[i].n_pk ? sd->fl[i].n_pk : 1) * sizeof(uint32_t));
		if (!sd->fl[i].pk)
			return false;
		sd->fl[i].n_pk = 0;
	}
	for (uint32_t i = 0; i < sd->n_pk; i++) {
		struct pflow *f = &sd->fl[sd->pk[i].flow];
		f->pk[f->n_pk++] = i;
	}
	return true;
}

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

/* Flow keys per join rule, so a lookup is a binary search, not a scan. */
static uint64_t flow_key(const struct pflow *f, enum join_how how, bool *ok)
{
	switch (how) {
	case JOIN_ISN:
		*ok = f->has_isn[DIR_C2S];
		return f->isn[DIR_C2S];
	case JOIN_TUPLE:
		*ok = true;
		return tuple_hash(&f->caddr, f->cport, &f->saddr, f->sport);
	case JOIN_FINGERPRINT:
		*ok = f->has_fp[0] && f->has_fp[1];
		return (f->fp[0] ^ (f->fp[1] << 1 | f->fp[1] >> 63)) + f->sport;
	case JOIN_NONE:
		break;
	}
	*ok = false;
	return 0;
}

static int fidx_cmp(const void *a, const void *b)
{
	const struct fidx *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorted (key, start time) index of a side's flows under one rule. */
static bool build_index(struct pside *sd, enum join_how how, struct fidx **out, uint32_t *n_out)
{
	struct fidx *ix = malloc((size_t)(sd->n_fl ? sd->n_fl : 1) * sizeof(*ix));
	uint32_t n = 0;
	if (!ix)
		return false;
	for (uint32_t i = 0; i < sd->n_fl; i++) {
		bool ok;
		uint64_t key = flow_key(&sd->fl[i], how, &ok);
		if (!ok)
			continue;
		ix[n].key = key;
		ix[n].ts = sd->fl[i].first_ts;
		ix[n++].idx = i;
	}
	qsort(ix, n, sizeof(*ix), fidx_cmp);
	*out = ix;
	*n_out = n;
	return true;
}

/* First index entry with this key and a start at or after ts. */
static uint32_t fidx_lower(const struct fidx *ix, uint32_t n, uint64_t key, sl_time ts)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ix[mid].key < key || (ix[mid].key == key && ix[mid].ts < ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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
	uint64_t key = flow_key(c, how, &ok);
	if (!ok)
		return -1;
	for (uint32_t j = fidx_lower(ix, n, key, expect - window); j < n && ix[j].key == key; j++) {
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
	if (!build_index(&p->s[PAIR_SERVER], how, &ix, &n))
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

static int cmp_time(const void *a, const void *b)
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
	if (!build_index(&p->s[PAIR_SERVER], JOIN_FINGERPRINT, &ix, &nix))
		return;
	sl_time *d = malloc(PAIR_GUESS_MAX * sizeof(*d));
	if (!d) {
		free(ix);
		return;
	}
	for (uint32_t i = 0; i < cs->n_fl && n < PAIR_GUESS_MAX; i++) {
		const struct pflow *c = &cs->fl[i];
		bool ok;
		uint64_t key = flow_key(c, JOIN_FINGERPRINT, &ok);
		if (!ok)
			continue;
		for (uint32_t j = fidx_lower(ix, nix, key, c->first_ts - PAIR_JOIN_WINDOW);
		     j < nix && ix[j].key == key && ix[j].ts <= c->first_ts + PAIR_JOIN_WINDOW && n < PAIR_GUESS_MAX;
		     j++) {
			const struct pflow *f = &ss->fl[ix[j].idx];
			if (f->fp[0] == c->fp[0] && f->fp[1] == c->fp[1] && f->sport == c->sport)
				d[n++] = f->first_ts - c->first_ts;
		}
	}
	free(ix);
	if (n) {
		qsort(d, n, sizeof(*d), cmp_time);
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

/* ---- path facts ---- */

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

static void path_dir(struct pair *p, struct pflow *c, int d)
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
		qsort(delays, nd, sizeof(*delays), cmp_time);
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
		if (r->flags & TH_RST)
			pd->injected_rst++;
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

void pair_join(struct pair *p)
{
	if (p->joined)
		return;
	p->joined = true;
	for (int s = 0; s < 2; s++)
		if (!index_flows(&p->s[s]))
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
		path_dir(p, &cs->fl[i], DIR_C2S);
		path_dir(p, &cs->fl[i], DIR_S2C);
	}
	for (int s = 0; s < 2; s++)
		for (uint32_t i = 0; i < p->s[s].n_fl; i++)
			if (p->s[s].fl[i].peer < 0)
				p->n_only[s]++;
}

/* ---- finding a pipeline session's flow ---- */

struct pflow *pair_find_flow(struct pair *p, enum pair_side side, const struct flow_info *fi)
{
	struct pside *sd = &p->s[side];
	if (!sd->tuple_ix && !build_index(sd, JOIN_TUPLE, &sd->tuple_ix, &sd->n_tuple_ix))
		return NULL;
	uint64_t key = tuple_hash(&fi->client, fi->client_port, &fi->server, fi->server_port);
	struct pflow *best = NULL;
	sl_time best_d = 0;
	for (uint32_t j = fidx_lower(sd->tuple_ix, sd->n_tuple_ix, key, INT64_MIN);
	     j < sd->n_tuple_ix && sd->tuple_ix[j].key == key; j++) {
		struct pflow *f = &sd->fl[sd->tuple_ix[j].idx];
		bool same = f->cport == fi->client_port && f->sport == fi->server_port &&
			    sl_addr_eq(&f->caddr, &fi->client) && sl_addr_eq(&f->saddr, &fi->server);
		bool swapped = f->cport == fi->server_port && f->sport == fi->client_port &&
			       sl_addr_eq(&f->caddr, &fi->server) && sl_addr_eq(&f->saddr, &fi->client);
		if (!same && !swapped)
			continue;
		sl_time d = 0;
		if (fi->first_ts < f->first_ts)
			d = f->first_ts - fi->first_ts;
		else if (fi->first_ts > f->last_ts)
			d = fi->first_ts - f->last_ts;
		if (!best || d < best_d) {
			best = f;
			best_d = d;
		}
	}
	return best;
}
