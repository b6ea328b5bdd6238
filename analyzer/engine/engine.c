/*
 * engine.c - the engine's face: records in, sink calls out.
 *
 * Per record: advance packet time and end flows whose time ran out (heads of
 * two lists ordered by last activity: open flows by the idle timeout, closed
 * ones by the linger time, so expiry is O(1) amortised), decode, find or
 * create the flow (evicting the least recently active one at max_flows),
 * call sink.packet, then let the TCP tracker deliver events and bytes.
 *
 * Roles: the sender of a SYN is the client, the sender of a SYN-ACK seen
 * first is the server; otherwise the side on a well-known mail port is the
 * server, else the lower port.
 *
 * Memory: the engine owns the accountant (memcap.h). A flow record is
 * reserved before it is made; the consumer reserves its own per-flow state
 * against the same accountant. Before each record, while the count is above
 * the high mark, flows are ended (lingering closed ones first, then the
 * least recently active open one, as END_MEMCAP) until it is under the low
 * mark; no callback is running then, so no flow is ended under its own feet.
 * Tuples of evicted flows are remembered (a direct-mapped table of hashes,
 * EVICTED_KEYS entries, older ones overwritten): a later packet of one opens
 * a flow marked after_eviction, the rest of a dialog whose start was reported.
 * That table hashes with a fixed seed, not the flow table's random one, so
 * which tuples overwrite which, and so the report, is the same on every run
 * (a forged collision can only mark a flow that did not start with a SYN).
 *
 * Lazy flows: a flow whose first packet is a bare SYN (no ACK, RST, FIN or
 * payload; a time that is good; a record of at most FLOW_PEND_BYTES) is kept
 * pending (flow.h): its record holds a copy of the SYN's capture record and
 * nothing is called for it. At its second packet, or when it ends, it wakes:
 * its cold part is made and the SYN goes through flow_open, packet and the
 * tracker as it would have when it came; then the flow goes on as any other.
 * The consumer sees the same calls for the flow in the same order, only
 * later, so a SYN flood costs a hot record per flow. Records replayed from
 * the hold (held or ahead, below) are not kept pending. ENGINE_WAKE_HEADROOM
 * bytes stay reserved and are lent to each wake, so a pending flow ended
 * under memory pressure can still be reported (its state is freed at once).
 *
 * Engine time is the largest packet timestamp seen (or engine_sweep's now),
 * so a capture with timestamps going backwards cannot make lists unordered.
 */
#include <stdlib.h>
#include <string.h>

#include "flow.h"

#define ENGINE_CLOCK_JUMP      (3600ll * NS_PER_SEC) /* a larger step forward needs a second packet to confirm it */
#define ENGINE_LRU_GRAIN       NS_PER_SEC   /* at most this (and 1/8 of the timeout) between LRU moves of a flow */
#define ENGINE_TIME_MAX        (1ll << 62)  /* engine time is clamped to [0, this] */
#define ENGINE_REUSE_DISTANCE  (1ll << 24)  /* a new SYN this far from the old stream starts a new flow */
#define ENGINE_TS_ALL_ONES     (0xFFFFFFFFll * NS_PER_SEC)  /* a seconds field of all ones: unset, not 2106 */
#define ENGINE_TS_FLOOR        (631152000ll * NS_PER_SEC)   /* 1990-01-01: earlier after later times is bogus */
#define ENGINE_BACKWARD_MAX    (3600ll * NS_PER_SEC)        /* a larger step back needs a second record to confirm it */
#define ENGINE_LONE_AHEAD_MAX  (7ll * 86400 * NS_PER_SEC)   /* a capture's last record may come this late */
#define ENGINE_HOLD_MAX        32           /* records with a bad time held until the first good one */
#define ENGINE_HOLD_BYTES      (1u << 20)   /* ... and their bytes */
#define ENGINE_WAKE_HEADROOM   (32u << 10)  /* reserved for waking a pending flow (its cold part and the consumer's first state) */

/* A record copied while it waits for a usable time. */
struct held {
	struct raw_packet raw;
	uint8_t *data;
};
#define EVICTED_KEYS           (1u << 16)   /* tuples of evicted flows remembered (4 bytes each) */

static const uint16_t default_server_ports[] = { 25, 465, 587, 2525, 10025, 0 };

struct file_name {
	struct file_name *next;
	char name[];
};

struct list { struct flow *head, *tail; };

struct engine {
	struct engine_config cfg;
	struct engine_sink sink;
	struct engine_stats stats;
	struct tcp_env tcp;
	struct flow_table ft;
	struct memcap mem;
	uint32_t *evicted;          /* EVICTED_KEYS hashes (| 1) of evicted tuples; 0 empty; made at the first eviction */
	struct list lists[2];       /* by enum flow_list */
	sl_time grain[2];           /* LRU granularity per list */
	sl_time now;
	sl_time jump_ts;            /* a far-forward timestamp waiting for confirmation; 0 none */
	struct flow *jump_flow;     /* the flow that record touched, re-touched if confirmed */
	struct flow *last;          /* flow of the previous TCP record: bulk traffic skips the lookup */
	const char *file;
	struct file_name *files;    /* names kept for flow_info.file */
	uint64_t next_id;
	sl_time last_good;          /* time of the last record whose time was plausible */
	bool good_seen;
	sl_time back_ts;            /* a far-backward time waiting for confirmation; 0 none */
	struct held held[ENGINE_HOLD_MAX];  /* bad-time records before any good time */
	uint32_t n_held;
	uint64_t held_bytes;
	struct held ahead;          /* a record far ahead of the last good time, waiting */
	bool have_ahead;
	bool no_defer;              /* feeding a held record: no flow is kept pending */
	bool headroom_held;         /* ENGINE_WAKE_HEADROOM is reserved */
};

const char *tcp_event_name(enum tcp_event e)
{
#define X(en, s) s,
	static const char *const names[] = { TCP_EVENTS(X) };
#undef X
	return (unsigned)e < TCP_EV__COUNT ? names[e] : "?";
}

void engine_config_default(struct engine_config *cfg)
{
	cfg->max_flows = ENGINE_DEFAULT_MAX_FLOWS;
	cfg->flow_timeout = (sl_time)ENGINE_DEFAULT_FLOW_TIMEOUT_S * NS_PER_SEC;
	cfg->closed_linger = (sl_time)ENGINE_DEFAULT_CLOSED_LINGER_S * NS_PER_SEC;
	cfg->ooo_per_dir = ENGINE_DEFAULT_OOO_PER_DIR;
	cfg->ooo_global = ENGINE_DEFAULT_OOO_GLOBAL;
	cfg->memory_cap = MEMCAP_DEFAULT;
	cfg->server_ports = default_server_ports;
}

struct engine *engine_new(const struct engine_config *cfg, const struct engine_sink *sink)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (cfg)
		e->cfg = *cfg;
	else
		engine_config_default(&e->cfg);
	if (!e->cfg.max_flows)
		e->cfg.max_flows = 1;
	if (!e->cfg.server_ports)
		e->cfg.server_ports = default_server_ports;
	e->sink = *sink;
	e->tcp.sink = &e->sink;
	e->tcp.stats = &e->stats;
	e->tcp.ooo_per_dir = e->cfg.ooo_per_dir;
	e->tcp.ooo_global = e->cfg.ooo_global;
	memcap_init(&e->mem, e->cfg.memory_cap);
	e->tcp.mem = &e->mem;
	e->grain[FL_OPEN] = SL_MIN(ENGINE_LRU_GRAIN, e->cfg.flow_timeout / 8);
	e->grain[FL_CLOSED] = SL_MIN(ENGINE_LRU_GRAIN, e->cfg.closed_linger / 8);
	if (!ft_init(&e->ft, e->cfg.max_flows, &e->mem)) {
		ft_free(&e->ft);
		free(e);
		return NULL;
	}
	e->headroom_held = memcap_reserve(&e->mem, ENGINE_WAKE_HEADROOM);
	return e;
}

void engine_set_file(struct engine *e, const char *file)
{
	if (!file) {
		e->file = NULL;
		return;
	}
	for (struct file_name *fn = e->files; fn; fn = fn->next)
		if (strcmp(fn->name, file) == 0) {
			e->file = fn->name;
			return;
		}
	size_t n = strlen(file);
	struct file_name *fn = malloc(sizeof(*fn) + n + 1);
	if (!fn) {
		e->file = NULL;
		return;
	}
	memcpy(fn->name, file, n + 1);
	fn->next = e->files;
	e->files = fn;
	e->file = fn->name;
}

static void list_unlink(struct list *l, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
}

static void list_append(struct list *l, struct flow *f)
{
	f->next = NULL;
	f->prev = l->tail;
	if (l->tail)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

/* The evicted-tuple table's hash (| 1: 0 is empty), the same on every run. */
#define EVICTED_SEED 0x5eed5eed5eed5eedull
static uint32_t evicted_hash(const struct flow_key *k)
{
	return flow_key_hash(k, EVICTED_SEED) | 1;
}

static bool wake(struct engine *e, struct flow *f);

/* The facts of a flow that is not pending (a lite flow's go to a scratch). */
static struct flow_info *flow_facts(struct engine *e, struct flow *f)
{
	return f->state == FS_LITE ? &e->tcp.scratch : &f->cold->info;
}

static void end_flow(struct engine *e, struct flow *f, enum flow_end why)
{
	if (f->state == FS_PENDING && !wake(e, f))
		e->stats.flows_untracked++;     /* not even the headroom: never delivered */
	if (f->state != FS_PENDING) {
		tcp_flush(&e->tcp, f);
		if (f->user && e->sink.flow_close)
			e->sink.flow_close(e->sink.ctx, f->user, flow_facts(e, f), why);
	}
	if (why == END_EVICTED)
		e->stats.flows_evicted++;
	else if (why == END_MEMCAP)
		e->stats.flows_evicted_memory++;
	else if (why == END_IDLE)
		e->stats.flows_idle++;
	if (why == END_EVICTED || why == END_MEMCAP) {
		if (!e->evicted && memcap_reserve(&e->mem, EVICTED_KEYS * sizeof(*e->evicted)) &&
		    !(e->evicted = calloc(EVICTED_KEYS, sizeof(*e->evicted))))
			memcap_release(&e->mem, EVICTED_KEYS * sizeof(*e->evicted));
		if (e->evicted) {
			uint32_t eh = evicted_hash(&f->key);
			e->evicted[eh & (EVICTED_KEYS - 1)] = eh;
		}
	}
	list_unlink(&e->lists[f->list], f);
	if (f->cold)
		memcap_release(&e->mem, sizeof(*f->cold));
	ft_remove(&e->ft, f);
	memcap_release(&e->mem, sizeof(*f));
	if (!e->headroom_held)
		e->headroom_held = memcap_reserve(&e->mem, ENGINE_WAKE_HEADROOM);
	if (e->jump_flow == f)
		e->jump_flow = NULL;
	if (e->last == f)
		e->last = NULL;
}

/* Puts f last on list l, stamped with the engine's time. */
static void requeue(struct engine *e, struct flow *f, enum flow_list l)
{
	list_unlink(&e->lists[f->list], f);
	f->list = (uint8_t)l;
	list_append(&e->lists[l], f);
	f->queued = e->now;
}

/* Ends flows whose time ran out by now. A list is ordered by `queued`, and a
 * flow's `touched` is less than a grain after it: when the head is still
 * active, every flow behind it is within a grain of its own deadline, so
 * stopping there delays an ending by less than a grain. */
static void expire(struct engine *e, sl_time now)
{
	struct flow *f;
	while ((f = e->lists[FL_CLOSED].head) && now - f->queued > e->cfg.closed_linger &&
	       now - f->touched > e->cfg.closed_linger)
		end_flow(e, f, END_CLOSED);
	while ((f = e->lists[FL_OPEN].head) && now - f->queued > e->cfg.flow_timeout &&
	       now - f->touched > e->cfg.flow_timeout)
		end_flow(e, f, END_IDLE);
}

static void release_ahead(struct engine *e, bool good);

void engine_sweep(struct engine *e, sl_time now)
{
	if (now > ENGINE_TIME_MAX)
		now = ENGINE_TIME_MAX;
	/* the wall clock (live) confirms a step ahead it has reached */
	if (e->have_ahead)
		release_ahead(e, e->ahead.raw.ts - now <= ENGINE_CLOCK_JUMP);
	if (now > e->now)
		e->now = now;
	expire(e, e->now);
}

static bool is_server_port(const struct engine *e, uint16_t port)
{
	for (const uint16_t *p = e->cfg.server_ports; *p; p++)
		if (*p == port)
			return true;
	return false;
}

/* Whether p's sender is the client of a flow p starts; *from_syn whether a
 * SYN says so. */
static bool src_is_client(const struct engine *e, const struct pkt *p, bool *from_syn)
{
	bool src_client;
	uint8_t fl = p->flags & (TH_SYN | TH_ACK);
	*from_syn = fl == TH_SYN || fl == (TH_SYN | TH_ACK);
	if (*from_syn) {
		src_client = fl == TH_SYN;
	} else {
		bool s_srv = is_server_port(e, p->sport), d_srv = is_server_port(e, p->dport);
		if (s_srv != d_srv)
			src_client = d_srv;
		else
			src_client = p->sport > p->dport;
	}
	return src_client;
}

/* Whether a SYN (no ACK) from direction d starts a new connection on the
 * tuple of f: the old one is closed, or its ISN is far from the old stream. */
static bool is_reuse(const struct flow *f, enum sl_dir d, const struct pkt *p)
{
	if (f->list == FL_CLOSED)
		return true;
	const struct tcp_half *h = &flow_half((struct flow *)f)[d];
	if (!h->init || (h->syn && p->seq == h->isn))
		return false;
	int32_t delta = (int32_t)(p->seq - (h->base + (uint32_t)h->next));
	return delta < -ENGINE_REUSE_DISTANCE || delta > ENGINE_REUSE_DISTANCE;
}

/* Memory pressure: ends flows until the accountant is under its low mark
 * (force: at least one, when a reservation just failed). Called only
 * between records, when no flow is inside a callback. */
static void relieve(struct engine *e, bool force)
{
	if (!force && !memcap_pressure(&e->mem))
		return;
	while (force || !memcap_relieved(&e->mem)) {
		struct flow *victim = e->lists[FL_CLOSED].head;
		if (victim)
			end_flow(e, victim, END_CLOSED);
		else if ((victim = e->lists[FL_OPEN].head) != NULL)
			end_flow(e, victim, END_MEMCAP);
		else
			return;
		force = false;
	}
}

/* Gives the flow its facts and the consumer its pointer (the flow's first
 * packet p, its id, file and eviction mark from when it came). */
static void flow_start(struct engine *e, struct flow *f, const struct pkt *p, uint64_t id, const char *file,
		       bool after_eviction)
{
	struct flow_cold *c = f->cold;
	struct flow_info *fi = &c->info;
	memset(&f->u.tcp, 0, sizeof(f->u.tcp));
	f->u.tcp.half[0].wscale = f->u.tcp.half[1].wscale = -1;
	fi->after_eviction = after_eviction;
	fi->id = id;
	fi->first_ts = p->ts;
	fi->first_frame = p->frame;
	fi->file = file;
	fi->dir[0].wscale = fi->dir[1].wscale = -1;
	bool from_syn, src_client = src_is_client(e, p, &from_syn);
	fi->roles_from_syn = from_syn;
	fi->client = src_client ? p->src : p->dst;
	fi->server = src_client ? p->dst : p->src;
	fi->client_port = src_client ? p->sport : p->dport;
	fi->server_port = src_client ? p->dport : p->sport;
	f->user = e->sink.flow_open ? e->sink.flow_open(e->sink.ctx, fi, p) : NULL;
	size_t keep = 0;
	if (e->sink.flow_lite && e->sink.flow_lite(e->sink.ctx, f->user, &keep) && keep <= ENGINE_LITE_USER) {
		/* nobody reads its facts: the TCP state in the record is all */
		if (keep) {
			memcpy(f->u.tcp.m.user, f->user, keep);
			f->user = f->u.tcp.m.user;
		}
		f->cold = NULL;
		f->state = FS_LITE;
		ft_cold_put(&e->ft, c);
		memcap_release(&e->mem, sizeof(*c));
	}
}

/* A new flow for p. With pend (p's record, a bare SYN), the flow is kept
 * pending: only its hot record is made, and the record is copied into it. */
static struct flow *new_flow(struct engine *e, const struct flow_key *k, uint32_t hash,
			     const struct pkt *p, bool src_is_a, const struct raw_packet *pend)
{
	if (e->ft.count >= e->cfg.max_flows) {
		/* a closed flow only lingers for strays: it goes first */
		struct flow *victim = e->lists[FL_CLOSED].head;
		if (victim)
			end_flow(e, victim, END_CLOSED);
		else if ((victim = e->lists[FL_OPEN].head) != NULL)
			end_flow(e, victim, END_EVICTED);
	}
	size_t need = sizeof(struct flow) + (pend ? 0 : sizeof(struct flow_cold));
	if (!memcap_reserve(&e->mem, need)) {
		relieve(e, true);
		if (!memcap_reserve(&e->mem, need)) {
			e->stats.flows_untracked++;
			return NULL;
		}
	}
	struct flow *f = ft_add(&e->ft, k, hash);
	struct flow_cold *c = f && !pend ? ft_cold_get(&e->ft) : NULL;
	if (!f || (!pend && !c)) {
		if (f)
			ft_remove(&e->ft, f);
		memcap_release(&e->mem, need);
		e->stats.flows_unallocated++;
		return NULL;
	}
	f->cold = c;
	bool after_eviction = false;
	uint32_t eh = e->evicted ? evicted_hash(k) : 0;
	uint32_t *ev = e->evicted ? &e->evicted[eh & (EVICTED_KEYS - 1)] : NULL;
	if (ev && *ev == eh) {
		/* hashes of different tuples can meet here: one in 2^32. A
		 * SYN (no ACK) on the tuple is a new connection, not the rest. */
		after_eviction = (p->flags & (TH_SYN | TH_ACK)) != TH_SYN;
		*ev = 0;
	}
	f->list = FL_OPEN;
	list_append(&e->lists[FL_OPEN], f);
	f->queued = e->now;
	uint64_t id = ++e->next_id;
	bool from_syn;
	f->client_is_a = src_is_client(e, p, &from_syn) == src_is_a;
	e->stats.flows++;
	if (e->ft.count > e->stats.open_flows_peak)
		e->stats.open_flows_peak = e->ft.count;
	if (pend) {
		f->state = FS_PENDING;
		f->pend_after_eviction = after_eviction;
		f->u.pend.id = id;
		f->u.pend.file = e->file;
		f->u.pend.frame = pend->frame;
		f->u.pend.ts = p->ts;
		f->u.pend.caplen = pend->caplen;
		f->u.pend.wirelen = pend->wirelen;
		f->u.pend.linktype = pend->linktype;
		memcpy(f->u.pend.data, pend->data, pend->caplen);
		return f;
	}
	flow_start(e, f, p, id, e->file, after_eviction);
	return f;
}

/* One packet of a flow that has its cold part, after the engine's own
 * bookkeeping: the facts of the last packet, the consumer's packet call,
 * then the tracker. Returns whether the flow is closed after it. */
static inline __attribute__((always_inline)) bool flow_packet(struct engine *e, struct flow *f, enum sl_dir d,
								const struct pkt *p, bool bad_ts, sl_time raw_ts,
								bool first)
{
	struct flow_info *fi = flow_facts(e, f);
	struct seg_meta *m = flow_meta(f, &e->tcp.scratch_meta);
	fi->last_ts = p->ts;
	fi->last_frame = p->frame;
	m->frame = p->frame;
	m->ts = p->ts;
	m->seq = p->seq;
	m->flags = p->flags;
	m->ttl = p->ttl;
	m->ip_id = p->ip_id;
	m->win = p->win;
	if (f->user && e->sink.packet)
		e->sink.packet(e->sink.ctx, f->user, d, p);
	if (bad_ts && f->user && e->sink.tcp_event)     /* after the packet, as every event */
		e->sink.tcp_event(e->sink.ctx, f->user, d, TCP_BAD_TIMESTAMP,
				  (uint64_t)(raw_ts < 0 ? 0 : raw_ts / NS_PER_SEC), m);
	return tcp_segment(&e->tcp, f, d, p, first);
}

/* Wakes a pending flow: makes its cold part (with the headroom lent) and
 * feeds its SYN as when it came. False when there was no memory for it. */
static __attribute__((noinline)) bool wake(struct engine *e, struct flow *f)
{
	if (f->state != FS_PENDING)
		return true;
	if (e->headroom_held) {
		memcap_release(&e->mem, ENGINE_WAKE_HEADROOM);
		e->headroom_held = false;
	}
	struct flow_cold *c = NULL;
	if (memcap_reserve(&e->mem, sizeof(*c)) && !(c = ft_cold_get(&e->ft)))
		memcap_release(&e->mem, sizeof(*c));
	if (c) {
		/* the record leaves the union: the TCP state goes there */
		uint8_t data[FLOW_PEND_BYTES];
		memcpy(data, f->u.pend.data, f->u.pend.caplen);
		struct raw_packet raw = {
			.frame = f->u.pend.frame, .ts = f->u.pend.ts, .caplen = f->u.pend.caplen,
			.wirelen = f->u.pend.wirelen, .linktype = f->u.pend.linktype, .data = data,
		};
		uint64_t id = f->u.pend.id;
		const char *file = f->u.pend.file;
		f->cold = c;
		f->state = FS_FULL;
		struct pkt p;
		decode_packet(&raw, &p);        /* the same bytes: DEC_TCP again */
		p.ts = raw.ts;
		struct flow_key k;
		bool src_is_a;
		flow_key_make(&p, &k, &src_is_a);
		flow_start(e, f, &p, id, file, f->pend_after_eviction);
		enum sl_dir d = src_is_a == f->client_is_a ? DIR_C2S : DIR_S2C;
		flow_packet(e, f, d, &p, false, 0, true);   /* a bare SYN closes nothing */
	}
	e->headroom_held = memcap_reserve(&e->mem, ENGINE_WAKE_HEADROOM);
	return c != NULL;
}

/* Engine time follows packet time forward. One record with a timestamp far
 * ahead (corrupt, or a clock step on the capturing host) would otherwise
 * expire every open flow at once; such a step is taken only when the next
 * record confirms it. */
static void advance_clock(struct engine *e, sl_time ts)
{
	/* keep differences of times representable, whatever a caller passes */
	if (ts < 0)
		ts = 0;
	else if (ts > ENGINE_TIME_MAX)
		ts = ENGINE_TIME_MAX;
	bool far = e->now && ts - e->now > ENGINE_CLOCK_JUMP;
	if (ts > e->now && (!far || e->jump_ts)) {
		e->now = ts;
		struct flow *f = e->jump_flow;
		if (e->jump_ts && f) {
			/* confirmed: the flow of the first record of the step was
			 * active then, not at the old time */
			f->touched = e->now;
			requeue(e, f, (enum flow_list)f->list);
		}
	}
	e->jump_ts = ts > e->now && far ? ts : 0;
	e->jump_flow = NULL;
}

/* Whether a record's time cannot be right (see engine_feed). A step back
 * beyond ENGINE_BACKWARD_MAX is taken when the next record lies near it
 * (a clock set back, files given out of order): only its first record
 * counts as bad. */
static bool ts_implausible(struct engine *e, sl_time ts)
{
	if (ts >= ENGINE_TS_ALL_ONES)
		return true;
	if (!e->good_seen)
		return false;
	if (ts < ENGINE_TS_FLOOR && e->last_good >= ENGINE_TS_FLOOR)
		return true;
	/* against the last good time, or the engine's clock when that record
	 * was a far step forward the clock has not taken (yet) */
	sl_time ref = SL_MIN(e->last_good, e->now);
	if (ts < ref - ENGINE_BACKWARD_MAX) {
		sl_time d = ts - e->back_ts;
		if (e->back_ts && d <= ENGINE_BACKWARD_MAX && d >= -ENGINE_BACKWARD_MAX) {
			e->back_ts = 0;
			return false;
		}
		e->back_ts = ts;
		return true;
	}
	e->back_ts = 0;
	return false;
}

static void feed_at(struct engine *e, const struct raw_packet *raw, sl_time ts, bool bad_ts);

/* Records with all-ones seconds before the first good time are held,
 * copied, until a good time comes: they must not start flows at 1970 that
 * the next record would expire. (A first record dated before 1990 is
 * taken as the capture's time: captures of devices without a clock are
 * dated 1970, and without reading ahead nothing shows it is wrong.) */

/* Feeds the held records and empties the hold. A good time came (at):
 * every held record's time was bad and they get *at. No good time in
 * sight (at NULL: the hold is full, or the capture ended): a record with
 * a bad time takes the previous good time (0 if none). */
static void flush_held(struct engine *e, const sl_time *at)
{
	uint32_t n = e->n_held;
	e->n_held = 0;
	e->held_bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct held *h = &e->held[i];
		h->raw.data = h->data;
		bool bad = at || h->raw.ts >= ENGINE_TS_ALL_ONES;
		if (bad) {
			e->stats.bad_timestamps++;
		} else {
			e->last_good = h->raw.ts;
			e->good_seen = true;
		}
		e->no_defer = true;
		feed_at(e, &h->raw, !bad ? h->raw.ts : at ? *at : e->last_good, bad);
		e->no_defer = false;
		free(h->data);
	}
}

static bool copy_record(struct held *h, const struct raw_packet *raw)
{
	uint8_t *copy = malloc(raw->caplen ? raw->caplen : 1);
	if (!copy)
		return false;
	memcpy(copy, raw->data, raw->caplen);
	h->raw = *raw;
	h->data = copy;
	return true;
}

/* Keeps a copy of a record; false when the hold is full. */
static bool hold(struct engine *e, const struct raw_packet *raw)
{
	if (e->n_held == ENGINE_HOLD_MAX || e->held_bytes + raw->caplen > ENGINE_HOLD_BYTES)
		return false;
	if (!copy_record(&e->held[e->n_held], raw))
		return false;
	e->n_held++;
	e->held_bytes += raw->caplen;
	return true;
}

/* A record more than ENGINE_CLOCK_JUMP after the last good time waits for
 * the next one. When time goes on from there, the step was real (a quiet
 * hour on a link) and the record keeps its time; when it goes back to
 * before it, the record's time cannot be right and it takes the last good
 * one, so no silence or duration rests on it. A capture's last record is
 * kept up to ENGINE_LONE_AHEAD_MAX late; live capture's clock (sweep)
 * confirms a step it has reached. */
static void release_ahead(struct engine *e, bool good)
{
	if (!e->have_ahead)
		return;
	e->have_ahead = false;
	struct held *h = &e->ahead;
	h->raw.data = h->data;
	e->no_defer = true;
	if (good) {
		e->last_good = h->raw.ts;
		feed_at(e, &h->raw, h->raw.ts, false);
	} else {
		e->stats.bad_timestamps++;
		feed_at(e, &h->raw, e->last_good, true);
	}
	e->no_defer = false;
	free(h->data);
	h->data = NULL;
}

sl_time engine_feed(struct engine *e, const struct raw_packet *raw)
{
	e->stats.records++;
	sl_time ts = raw->ts;
	if (!e->good_seen) {
		if (ts >= ENGINE_TS_ALL_ONES) {
			if (hold(e, raw))
				return 0;
			flush_held(e, NULL);
		} else if (e->n_held) {
			flush_held(e, &ts);
		}
	}
	if (e->have_ahead)     /* confirmed unless time goes back to before it */
		release_ahead(e, ts < ENGINE_TS_ALL_ONES && ts >= e->ahead.raw.ts - ENGINE_CLOCK_JUMP);
	bool bad_ts = ts_implausible(e, ts);
	if (!bad_ts && e->good_seen && ts - e->last_good > ENGINE_CLOCK_JUMP &&
	    copy_record(&e->ahead, raw)) {
		e->have_ahead = true;
		return 0;
	}
	if (bad_ts) {
		e->stats.bad_timestamps++;
		ts = e->last_good;
	} else {
		e->last_good = ts;
		e->good_seen = true;
	}
	feed_at(e, raw, ts, bad_ts);
	return ts;
}

static void feed_at(struct engine *e, const struct raw_packet *raw, sl_time ts, bool bad_ts)
{
	advance_clock(e, ts);
	expire(e, e->now);
	relieve(e, false);

	struct pkt p;
	enum decode_result r = decode_packet(raw, &p);
	e->stats.decode[r]++;
	if (r != DEC_TCP)
		return;
	p.ts = ts;

	struct flow_key k;
	bool src_is_a;
	flow_key_make(&p, &k, &src_is_a);
	struct flow *f = e->last;
	uint32_t hash = 0;
	if (!f || !flow_key_eq(&f->key, &k)) {
		hash = flow_key_hash(&k, e->ft.seed);
		f = ft_find(&e->ft, &k, hash);
	} else {
		hash = f->hash;
	}
	if (f && f->state == FS_PENDING && !wake(e, f)) {
		/* its second packet, and no memory to wake it: the flow is
		 * dropped undelivered and this packet starts another */
		e->stats.flows_untracked++;
		list_unlink(&e->lists[f->list], f);
		ft_remove(&e->ft, f);
		memcap_release(&e->mem, sizeof(*f));
		if (e->jump_flow == f)
			e->jump_flow = NULL;
		if (e->last == f)
			e->last = NULL;
		f = NULL;
	}
	bool first = false;
	if (f && (p.flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		enum sl_dir d = src_is_a == f->client_is_a ? DIR_C2S : DIR_S2C;
		if (is_reuse(f, d, &p)) {
			end_flow(e, f, END_REUSED);
			f = NULL;
		}
	}
	if (!f) {
		bool pend = !bad_ts && !e->no_defer && raw->caplen <= FLOW_PEND_BYTES &&
			    (p.flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN)) == TH_SYN && !p.payload_wire_len;
		f = new_flow(e, &k, hash, &p, src_is_a, pend ? raw : NULL);
		if (!f)
			return;
		first = true;
	}
	enum sl_dir d = src_is_a == f->client_is_a ? DIR_C2S : DIR_S2C;
	e->last = f;
	/* LRU: moving a flow touches its neighbours (cache misses with many
	 * flows), so it is moved only when its place is a grain old */
	f->touched = e->now;
	if (e->lists[f->list].tail == f)
		f->queued = e->now;
	else if (e->now - f->queued >= e->grain[f->list])
		requeue(e, f, (enum flow_list)f->list);
	if (e->jump_ts)
		e->jump_flow = f;
	if (f->state == FS_PENDING)
		return;         /* kept pending */
	bool closed = flow_packet(e, f, d, &p, bad_ts, raw->ts, first);
	if (closed && f->list == FL_OPEN)
		requeue(e, f, FL_CLOSED);
}

void engine_finish(struct engine *e)
{
	flush_held(e, NULL);         /* the capture ended before any good time */
	/* nothing came after it: a last record hours later is a late packet,
	 * one years later a broken time */
	if (e->have_ahead)
		release_ahead(e, e->ahead.raw.ts - e->last_good <= ENGINE_LONE_AHEAD_MAX);
	for (;;) {
		struct flow *o = e->lists[FL_OPEN].head, *c = e->lists[FL_CLOSED].head;
		if (!o && !c)
			break;
		if (c && (!o || c->touched <= o->touched))
			end_flow(e, c, END_CLOSED);
		else
			end_flow(e, o, END_CAPTURE_END);
	}
}

const struct engine_stats *engine_stats(const struct engine *e) { return &e->stats; }

size_t engine_open_flows(const struct engine *e) { return e->ft.count; }

struct memcap *engine_memcap(struct engine *e) { return &e->mem; }

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->n_held; i++)
		free(e->held[i].data);
	if (e->have_ahead)
		free(e->ahead.data);
	/* flows still open are released without callbacks */
	struct flow *f;
	for (int l = 0; l < 2; l++)
		while ((f = e->lists[l].head) != NULL) {
			for (int d = 0; d < 2 && f->state != FS_PENDING; d++) {
				struct ooo_seg *s = flow_half(f)[d].ooo;
				while (s) {
					struct ooo_seg *n = s->next;
					free(s);
					s = n;
				}
			}
			list_unlink(&e->lists[l], f);
			ft_remove(&e->ft, f);
		}
	ft_free(&e->ft);
	free(e->evicted);
	while (e->files) {
		struct file_name *n = e->files->next;
		free(e->files);
		e->files = n;
	}
	free(e);
}
