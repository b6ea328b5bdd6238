/*
 * tcp.c - TCP tracking and reassembly, one direction at a time.
 *
 * For each packet: handshake bookkeeping (SYN / SYN-ACK, options), the
 * peer's ACK (a hole the peer acknowledged is lost in the capture: give it
 * up), RST (reported at once with an in-window check), then the payload:
 *  - bytes at the next expected offset are delivered straight from the packet
 *    (zero-copy), then any buffered bytes they make contiguous;
 *  - bytes entirely before it are a retransmission (or a keep-alive);
 *  - bytes after it are copied into the out-of-order list, first copy wins;
 *    a differing later copy is an overlap conflict.
 * A FIN is reported when the stream reaches its offset. Holes are given up
 * (a gap with its length) when the peer ACKs past them, when a buffer cap is
 * hit, or at the flow's end.
 *
 * Invariant: the out-of-order list is sorted, its segments do not overlap,
 * and every segment starts after `next`.
 */
#include "tcp.h"

#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define TCP_DEFAULT_WINDOW  65535   /* assumed when the peer's window is unknown */
#define TCP_OOO_MAX_SEGS    1024    /* buffered segments per direction: bounds the list walks */
#define TCP_ACK_HOLE_MAX    (1ull << 30)  /* an ACK further ahead than this is not trusted */

struct ctx {
	struct tcp_env *env;
	struct flow *f;
	enum sl_dir d;
	const struct seg_meta *m;
};

/* Where the flow's facts go: a lite flow's to a scratch nobody reads. */
static struct flow_info *finfo(struct tcp_env *env, struct flow *f)
{
	return f->state == FS_LITE ? &env->scratch : &f->cold->info;
}

static struct tcp_dir_stats *dstats(const struct ctx *c) { return &finfo(c->env, c->f)->dir[c->d]; }

static void ev(const struct ctx *c, enum tcp_event e, uint64_t arg)
{
	if (c->f->user && c->env->sink->tcp_event)
		c->env->sink->tcp_event(c->env->sink->ctx, c->f->user, c->d, e, arg, c->m);
}

static void deliver(const struct ctx *c, const uint8_t *b, size_t n)
{
	if (!n)
		return;
	dstats(c)->bytes += n;
	if (c->f->user && c->env->sink->data)
		c->env->sink->data(c->env->sink->ctx, c->f->user, c->d, b, n, c->m);
}

static void gap(const struct ctx *c, uint64_t n)
{
	if (!n)
		return;
	dstats(c)->gaps++;
	dstats(c)->gap_bytes += n;
	if (c->f->user && c->env->sink->gap)
		c->env->sink->gap(c->env->sink->ctx, c->f->user, c->d, n, c->m);
}

/* Offset of a sequence number: the one nearest `next`, so wrap is invisible. */
static int64_t rel(const struct tcp_half *h, uint32_t seq)
{
	int32_t delta = (int32_t)(seq - (h->base + (uint32_t)h->next));
	return (int64_t)h->next + delta;
}

static bool reserve(struct tcp_env *env, struct tcp_half *h, uint64_t n)
{
	if (n > env->ooo_per_dir - h->ooo_bytes || n > env->ooo_global - env->ooo_used)
		return false;
	if (!memcap_reserve(env->mem, (size_t)n))
		return false;
	h->ooo_bytes += n;
	env->ooo_used += n;
	if (env->ooo_used > env->stats->ooo_bytes_peak)
		env->stats->ooo_bytes_peak = env->ooo_used;
	return true;
}

static void release(struct tcp_env *env, struct tcp_half *h, struct ooo_seg *s)
{
	h->ooo_segs--;
	h->ooo_bytes -= s->len;
	env->ooo_used -= s->len;
	memcap_release(env->mem, s->len);
	free(s);
}

static void check_fin(const struct ctx *c, struct tcp_half *h)
{
	if (h->fin_seen && !h->fin_done && h->next >= h->fin_off) {
		h->fin_done = true;
		ev(c, TCP_FIN, h->fin_off);
	}
}

/* Delivers buffered segments that are now contiguous with next. */
static void drain(const struct ctx *c, struct tcp_half *h)
{
	struct ooo_seg *s;
	while ((s = h->ooo) != NULL && s->off <= h->next) {
		uint64_t end = s->off + s->len;
		if (end > h->next) {
			deliver(c, s->data + (h->next - s->off), (size_t)(end - h->next));
			h->next = end;
		}
		h->ooo = s->next;
		release(c->env, h, s);
	}
	check_fin(c, h);
}

/* Gives up on every hole before limit: reports each as a gap and delivers
 * the buffered bytes between them. */
static void skip_to(const struct ctx *c, struct tcp_half *h, uint64_t limit)
{
	while (h->next < limit) {
		uint64_t until = h->ooo && h->ooo->off < limit ? h->ooo->off : limit;
		if (until > h->next) {
			gap(c, until - h->next);
			h->next = until;
		}
		drain(c, h);
	}
	check_fin(c, h);
}

/* Gives up on every hole before buffered bytes, so all of them are delivered. */
static void flush_holes(const struct ctx *c, struct tcp_half *h)
{
	while (h->ooo)
		skip_to(c, h, h->ooo->off);
}

static uint64_t count_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint64_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += a[i] != b[i];
	return d;
}

static void conflict(const struct ctx *c, uint64_t ndiff)
{
	if (!ndiff)
		return;
	dstats(c)->overlap_conflicts++;
	ev(c, TCP_OVERLAP_CONFLICT, ndiff);
}

/* Bytes [off, off+n) starting exactly at next: buffered copies of the same
 * range win, the packet fills the rest. */
static void deliver_inorder(const struct ctx *c, struct tcp_half *h, uint64_t off,
			    const uint8_t *data, uint64_t n)
{
	uint64_t end = off + n;
	while (h->next < end) {
		struct ooo_seg *s = h->ooo;
		uint64_t pos = h->next;
		if (s && s->off <= pos) {
			uint64_t send = s->off + s->len;
			uint64_t ov = (send < end ? send : end) - pos;
			conflict(c, count_diff(data + (pos - off), s->data + (pos - s->off), (size_t)ov));
			drain(c, h);
		} else {
			uint64_t lim = s && s->off < end ? s->off : end;
			deliver(c, data + (pos - off), (size_t)(lim - pos));
			h->next = lim;
		}
	}
	drain(c, h);
}

/* New bytes a segment [off, end) would add to the buffer (not already there). */
static uint64_t count_new(const struct tcp_half *h, uint64_t off, uint64_t end)
{
	uint64_t covered = 0;
	for (const struct ooo_seg *s = h->ooo; s && s->off < end; s = s->next) {
		uint64_t a = s->off > off ? s->off : off;
		uint64_t b = s->off + s->len < end ? s->off + s->len : end;
		if (b > a)
			covered += b - a;
	}
	return (end - off) - covered;
}

/* Copies the new parts of [off, off+n) into the sorted list, comparing the
 * parts already buffered. Memory has been reserved. */
static void insert(const struct ctx *c, struct tcp_half *h, uint64_t off, const uint8_t *data,
		   uint64_t n)
{
	uint64_t pos = off, end = off + n, ndiff = 0;
	struct ooo_seg **pp = &h->ooo;
	while (pos < end) {
		struct ooo_seg *s = *pp;
		if (s && s->off + s->len <= pos) {
			pp = &s->next;
			continue;
		}
		if (s && s->off <= pos) {
			uint64_t send = s->off + s->len;
			uint64_t ov = (send < end ? send : end) - pos;
			ndiff += count_diff(data + (pos - off), s->data + (pos - s->off), (size_t)ov);
			pos += ov;
			pp = &s->next;
			continue;
		}
		uint64_t pe = s && s->off < end ? s->off : end;
		struct ooo_seg *ns = malloc(sizeof(*ns) + (size_t)(pe - pos));
		if (!ns) {
			/* out of memory: the reservation for the rest is returned and
			 * the bytes become a hole given up later */
			h->ooo_bytes -= pe - pos;
			c->env->ooo_used -= pe - pos;
			memcap_release(c->env->mem, (size_t)(pe - pos));
			pos = pe;
			continue;
		}
		ns->off = pos;
		ns->len = (uint32_t)(pe - pos);
		memcpy(ns->data, data + (pos - off), ns->len);
		ns->next = s;
		*pp = ns;
		h->ooo_segs++;
		pp = &ns->next;
		pos = pe;
	}
	conflict(c, ndiff);
}

/* Payload of wire length `wire`, of which `cap` bytes were captured. */
static void data_in(const struct ctx *c, struct tcp_half *h, int64_t soff, const uint8_t *data,
		    uint64_t cap, uint64_t wire)
{
	struct tcp_dir_stats *st = dstats(c);
	if (soff < 0) {             /* starts before the stream: keep the part after */
		uint64_t skip = (uint64_t)-soff;
		if (skip >= wire) {
			st->retransmissions++;
			ev(c, TCP_RETRANSMISSION, wire);
			return;
		}
		uint64_t sc = skip < cap ? skip : cap;
		data += sc;
		cap -= sc;
		wire -= skip;
		soff = 0;
	}
	uint64_t off = (uint64_t)soff, end = off + wire;
	if (end <= h->next) {
		st->retransmissions++;
		ev(c, TCP_RETRANSMISSION, wire);
		return;
	}
	if (off < h->next) {        /* partly old: keep the new tail */
		uint64_t skip = h->next - off;
		uint64_t sc = skip < cap ? skip : cap;
		data += sc;
		cap -= sc;
		wire -= skip;
		off = h->next;
	}
	if (off > h->next && cap) {
		uint64_t need = count_new(h, off, off + cap);
		while (h->ooo_segs >= TCP_OOO_MAX_SEGS || !reserve(c->env, h, need)) {
			/* a cap is hit: give up the first hole to make room */
			uint64_t before = st->gap_bytes;
			c->env->stats->ooo_cap_hits++;
			skip_to(c, h, h->ooo && h->ooo->off < off ? h->ooo->off : off);
			st->ooo_dropped_bytes += st->gap_bytes - before;
			ev(c, TCP_OOO_CAP, st->gap_bytes - before);
			if (off + cap <= h->next)
				return;
			if (off <= h->next)
				break;
			need = count_new(h, off, off + cap);
		}
		if (off > h->next) {
			insert(c, h, off, data, cap);
			return;
		}
		uint64_t skip = h->next - off;
		data += skip;
		cap -= skip;
		wire -= skip;
		off = h->next;
	}
	if (off == h->next) {
		deliver_inorder(c, h, off, data, cap);
		if (wire > cap)     /* the part snaplen cut off is a hole */
			skip_to(c, h, off + wire);
	}
}

/* RST in window: its sequence number lies where the receiver accepts data. */
static bool rst_in_window(struct flow *f, enum sl_dir d, const struct pkt *p)
{
	const struct tcp_half *h = &flow_half(f)[d], *o = &flow_half(f)[!d];
	if (!h->init) {
		if ((p->flags & TH_ACK) && o->init)
			return rel(o, p->ack) == (int64_t)o->next;
		return true;
	}
	int64_t off = rel(h, p->seq);
	int64_t wnd = TCP_DEFAULT_WINDOW;
	if (o->win_known) {
		int ws = o->wscale >= 0 && h->wscale >= 0 ? o->wscale : 0;
		wnd = (int64_t)o->last_win << ws;
		if (wnd < 1)
			wnd = 1;
	}
	return off >= (int64_t)h->next - 1 && off <= (int64_t)h->next + 1 + wnd;
}

/* A RST behind the window: its sequence number is before next - 1 of its
 * own stream (by less than TCP_ACK_HOLE_MAX, so a wild value is not read as
 * stale). Only a side whose stream has started can be judged. */
static bool rst_stale(const struct tcp_half *h, const struct pkt *p)
{
	if (!h->init || h->next < 2)
		return false;
	int64_t off = rel(h, p->seq);
	return off < (int64_t)h->next - 1 && (int64_t)h->next - 1 - off < (int64_t)TCP_ACK_HOLE_MAX;
}

static void note_syn_opts(struct tcp_dir_stats *st, struct tcp_half *h, const struct pkt *p)
{
	st->mss = p->opt.mss;
	st->wscale = p->opt.wscale;
	h->wscale = p->opt.wscale;
	st->sack_perm = p->opt.sack_perm;
}

bool tcp_segment(struct tcp_env *env, struct flow *f, enum sl_dir d, const struct pkt *p,
		 bool first)
{
	struct tcp_half *half = flow_half(f), *h = &half[d], *o = &half[!d];
	struct flow_info *fi = finfo(env, f);
	struct tcp_dir_stats *st = &fi->dir[d];
	struct ctx c = { env, f, d, flow_meta(f, &env->scratch_meta) };
	uint8_t fl = p->flags;

	st->packets++;
	if (st->packets == 1) {
		st->first_frame = p->frame;
		st->first_ts = p->ts;
		st->wscale = -1;
	}
	st->last_frame = p->frame;
	st->last_ts = p->ts;
	if (!(fl & TH_RST)) {
		if (!h->ttl_seen) {
			h->ttl_seen = true;
			st->ttl_first = st->ttl_min = st->ttl_max = p->ttl;
			st->ip_id_zero = true;
		}
		if (p->ttl < st->ttl_min)
			st->ttl_min = p->ttl;
		if (p->ttl > st->ttl_max)
			st->ttl_max = p->ttl;
		st->ttl_last = p->ttl;
		st->ip_id_last = p->ip_id;
		if (p->ip_id)
			st->ip_id_zero = false;
		if (p->opt.has_ts)
			st->ts_opt_packets++;
	}
	if (first && !(fl & TH_SYN))
		ev(&c, TCP_MIDSTREAM, 0);

	if (fl & TH_SYN) {
		st->syns++;
		note_syn_opts(st, h, p);
		if (fl & TH_ACK) {
			fi->synack_seen = true;
			ev(&c, TCP_SYNACK, st->syns);
		} else {
			fi->syn_seen = true;
			ev(&c, TCP_SYN, st->syns);
		}
		if (!h->init || (h->syn && h->next == 0 && !h->ooo && p->seq != h->isn)) {
			h->init = h->syn = true;
			h->isn = p->seq;
			h->base = p->seq + 1;
			h->next = 0;
		}
	} else if (!h->init && !(fl & TH_RST)) {
		h->init = true;         /* mid-stream: the first sequence number seen is offset 0 */
		h->base = p->seq;
		h->next = 0;
	}

	/* The peer's view: bytes it acknowledged were received, even if the
	 * capture missed them. The hole is not given up yet: captures merged
	 * from several points (or reordered by the capturing host) can show
	 * the ACK before the data. It is given up when the sender shows it has
	 * moved past the acknowledged point (below), or at FIN/RST/flow end. */
	if ((fl & TH_ACK) && o->init && !(fl & TH_RST)) {
		int64_t ackoff = rel(o, p->ack);
		if (d == DIR_C2S && fi->synack_seen && o->syn && ackoff >= 0)
			fi->handshake_done = true;
		uint64_t limit = ackoff > 0 ? (uint64_t)ackoff : 0;
		if (o->fin_seen && limit > o->fin_off)
			limit = o->fin_off;
		if (limit > o->acked && limit - o->next < TCP_ACK_HOLE_MAX)
			o->acked = limit;
		/* everything up to the peer's FIN is acknowledged and the FIN has
		 * been seen: a hole before it can no longer be filled */
		if (o->fin_seen && o->acked >= o->fin_off && o->next < o->fin_off) {
			struct ctx oc = { env, f, (enum sl_dir)!d, flow_meta(f, &env->scratch_meta) };
			skip_to(&oc, o, o->fin_off);
		}
	}

	if (!(fl & (TH_SYN | TH_RST))) {
		if (p->win == 0) {
			if (!h->win_known || h->last_win != 0) {
				st->zero_windows++;
				ev(&c, TCP_ZERO_WINDOW, 0);
			}
		}
	}
	if (!(fl & TH_RST)) {
		h->last_win = p->win;
		h->win_known = true;
	}

	if (fl & TH_RST) {
		bool inw = rst_in_window(f, d, p);
		st->rsts++;
		if (!inw && rst_stale(h, p)) {
			/* the receiver drops it: the connection goes on */
			if (!st->rsts_stale++) {
				st->stale_rst_frame = p->frame;
				st->stale_rst_ts = p->ts;
				st->stale_rst_ttl = p->ttl;
			}
			return (half[0].fin_seen && half[1].fin_seen) || half[0].rst_seen ||
			       half[1].rst_seen;
		}
		if (!st->rst_frame) {
			st->rst_frame = p->frame;
			st->rst_ts = p->ts;
			st->rst_ttl = p->ttl;
			st->rst_ip_id = p->ip_id;
			st->rst_in_window = inw;
			st->rst_has_ts = p->opt.has_ts;
		}
		if (d == DIR_S2C && fi->syn_seen && !fi->synack_seen && !h->init) {
			fi->refused = true;
			ev(&c, TCP_SYN_RST, 0);
		}
		ev(&c, TCP_RST, inw);
		h->rst_seen = true;
		flush_holes(&c, h);
		return true;
	}

	if (!h->init)
		return (half[0].fin_seen && half[1].fin_seen) || half[0].rst_seen ||
		       half[1].rst_seen;

	int64_t soff = rel(h, p->seq) + ((fl & TH_SYN) ? 1 : 0);
	/* the sender is at or past what its peer acknowledged: a hole before
	 * that point will not be filled any more */
	uint64_t acked = h->fin_seen && h->acked > h->fin_off ? h->fin_off : h->acked;
	if (acked > h->next && soff >= (int64_t)acked)
		skip_to(&c, h, acked);
	uint64_t wire = p->payload_wire_len;
	if (p->truncated) {
		ev(&c, TCP_TRUNCATED, (uint64_t)p->payload_wire_len - p->payload_len);
	}
	if (wire) {
		st->payload_packets++;
		st->last_payload_ts = p->ts;
		st->last_payload_frame = p->frame;
		if (h->fin_seen && soff + (int64_t)wire > (int64_t)h->fin_off)
			ev(&c, TCP_DATA_AFTER_CLOSE, (uint64_t)(soff + (int64_t)wire - (int64_t)h->fin_off));
		else if (h->rst_seen)
			ev(&c, TCP_DATA_AFTER_CLOSE, wire);
	}
	if (!(fl & (TH_SYN | TH_FIN)) && wire <= 1 && h->next > 0 && soff == (int64_t)h->next - 1) {
		st->keepalives++;
		ev(&c, TCP_KEEPALIVE, 0);
	} else if (wire) {
		data_in(&c, h, soff, p->payload, p->payload_len, wire);
	}
	if ((fl & TH_FIN) && !h->fin_seen && soff + (int64_t)wire >= 0) {
		h->fin_seen = true;
		h->fin_off = (uint64_t)(soff + (int64_t)wire);
		st->fin_frame = p->frame;
		st->fin_ts = p->ts;
		/* the peer already acknowledged up to the FIN (its ACK was seen
		 * first): a hole before it can no longer be filled */
		if (h->acked >= h->fin_off && h->next < h->fin_off)
			skip_to(&c, h, h->fin_off);
	}
	check_fin(&c, h);
	return (half[0].fin_seen && half[1].fin_seen) || half[0].rst_seen ||
	       half[1].rst_seen;
}

void tcp_flush(struct tcp_env *env, struct flow *f)
{
	for (int d = 0; d < 2; d++) {
		struct tcp_half *h = &flow_half(f)[d];
		struct ctx c = { env, f, (enum sl_dir)d, flow_meta(f, &env->scratch_meta) };
		flush_holes(&c, h);
		if (h->fin_seen && !h->fin_done && h->fin_off > h->next)
			skip_to(&c, h, h->fin_off);
		check_fin(&c, h);
	}
}
