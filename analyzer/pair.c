/*
 * pair.c - two-point analysis (see pair.h): each side's capture files read
 * into a table of fixed-size packet records, split into flows as they come,
 * and the flow indexes the join and the session lookup use.
 *
 * Flows: a side's packets are split by their 4-tuple; a pure SYN with a new
 * initial sequence number starts a new flow on the same tuple (port reuse).
 * Roles come from the SYN; without one, the side on a mail port is the
 * server (else the higher port is the client). Per flow the ISNs and the
 * hash of the first payload segment per direction are kept for the join.
 */
#include "pair_int.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "source.h"

#define PAIR_TAB_SIZE    (PAIR_MAX_FLOWS * 2u)  /* tuple table slots: never more than half full */

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

/* ---- flows ---- */

uint32_t pair_rel_seq(const struct pflow *f, const struct ppkt *k)
{
	if (f->has_isn[k->dir])
		return k->seq - f->isn[k->dir];
	return k->seq;
}

/* Builds each flow's list of packet indices (capture order). */
bool pair_index_flows(struct pside *sd)
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

/* Flow keys per join rule, so a lookup is a binary search, not a scan. */
uint64_t pair_flow_key(const struct pflow *f, enum join_how how, bool *ok)
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
bool pair_build_index(struct pside *sd, enum join_how how, struct fidx **out, uint32_t *n_out)
{
	struct fidx *ix = malloc((size_t)(sd->n_fl ? sd->n_fl : 1) * sizeof(*ix));
	uint32_t n = 0;
	if (!ix)
		return false;
	for (uint32_t i = 0; i < sd->n_fl; i++) {
		bool ok;
		uint64_t key = pair_flow_key(&sd->fl[i], how, &ok);
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
uint32_t pair_fidx_lower(const struct fidx *ix, uint32_t n, uint64_t key, sl_time ts)
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

/* ---- finding a pipeline session's flow ---- */

struct pflow *pair_find_flow(struct pair *p, enum pair_side side, const struct flow_info *fi)
{
	struct pside *sd = &p->s[side];
	if (!sd->tuple_ix && !pair_build_index(sd, JOIN_TUPLE, &sd->tuple_ix, &sd->n_tuple_ix))
		return NULL;
	uint64_t key = tuple_hash(&fi->client, fi->client_port, &fi->server, fi->server_port);
	struct pflow *best = NULL;
	sl_time best_d = 0;
	for (uint32_t j = pair_fidx_lower(sd->tuple_ix, sd->n_tuple_ix, key, INT64_MIN);
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
