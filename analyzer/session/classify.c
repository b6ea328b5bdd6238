/*
 * classify.c - every nDPI call in smtpsleuth (nDPI 4.2; see DEPS.md 1).
 *
 * One detection module per classifier (not thread-safe: one per thread).
 * nDPI's set-up must not run on two threads at once (ndpi_api.h): a lock
 * makes classifier_new safe to call from any thread (the stage thread
 * makes its own while the reading thread reads).
 * Setup follows the verified sequence: init, protocol bitmask set to all
 * (without it there is no DPI), finalize before the first packet. Each
 * flow gets a zeroed ndpi_flow_struct (688 bytes; ndpi_flow_malloc does not
 * zero), fed with the IP header and IP length, timestamps in milliseconds.
 *
 * A flow stops being fed when nDPI has decided and needs nothing more
 * (ndpi_extra_dissection_possible() == 0), except SMTPS, which nDPI 4.2
 * declares finished at the ClientHello: there feeding goes on until the
 * certificate was processed or the cap, so the ServerHello and certificate
 * metadata and risks are seen. CLASSIFY_MAX_PACKETS bounds every flow (and
 * the TLS sub-flow after STARTTLS); an undecided flow then gets nDPI's
 * give-up answer (port guess allowed). As soon as a flow is finished its
 * nDPI struct is freed; only the result (ids, name, risk bits) is kept.
 *
 * nDPI's struct comes with the first packet that carries payload, not with
 * the first packet: until then the headers of the packets without payload
 * (SYN, SYN-ACK, ACK: IP and TCP header, at most CLASSIFY_PENDING_MAX of
 * them and CLASSIFY_PENDING_BYTES in all) and their times are kept in a
 * small buffer, and replayed to nDPI in order, with their own times, just
 * before the first payload (or at classify_finish for a flow that never
 * carried any: an unanswered SYN gets nDPI's guess by port from the same
 * packets). nDPI thus sees the same packets in the same order as when it
 * was fed at once, so its answer does not change; a SYN-only flow costs
 * this struct and its SYN's headers (~280 bytes) instead of ~860. When the
 * buffer is full, the struct is made at once and fed as before. Our struct
 * and the pending headers are reserved by the caller (classify_flow_size)
 * and here (classify_flow_set_memcap) respectively; nDPI's struct is
 * reserved here when it is made, except the transient one of a flow that
 * ends before any payload (freed before classify_finish returns).
 *
 * STARTTLS: nDPI 4.2 never follows it. After classify_starttls(), the
 * first payload that starts like a TLS record (0x16 0x03) opens a second
 * zeroed nDPI flow that sees the TLS handshake; its name and risks are
 * kept beside the first flow's. Its struct is reserved here too.
 *
 * Keep mode (classify.h): the flow records, in one growable buffer
 * reserved against the accountant, an entry per packet live feeding would
 * show nDPI (KEEP_HEAD: kind, IP length, ms time; then the IP bytes, at
 * most 65,535 as nDPI takes) and one for STARTTLS, in the order they came.
 * What live feeding decides without nDPI is decided here the same way:
 * the packets waiting for the ClientHello after STARTTLS are counted, not
 * kept; a part stops being kept at CLASSIFY_MAX_PACKETS, where live
 * feeding stops whatever nDPI said. What depends on nDPI's answer (it
 * decided, it needs no more, the certificate came) is found by the replay,
 * which feeds the entries through the same functions as live feeding and
 * stops where they say so: nDPI sees the same packets in the same order
 * with the same times, so the answer is the same. The one difference is
 * what is reserved: the kept bytes for the whole flow instead of nDPI's
 * struct for its first packets.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "classify.h"

#define CLASSIFY_NAME_MAX 48
/* Packets without payload kept for nDPI until the first payload, and the
 * bytes of their headers (with a 10-byte entry head each); beyond either,
 * nDPI's struct is made at once. */
#define CLASSIFY_PENDING_MAX 8
#define CLASSIFY_PENDING_BYTES 640
#define PEND_HEAD 10                    /* uint64_t ms time + uint16_t length */
/* What nDPI allocates inside a flow on its own, counted with its struct:
 * nDPI 4.2's TLS dissector looks at every payload and keeps a 2,048-byte
 * reassembly buffer per direction (ndpi_search_tls_tcp_memory), freed
 * with the struct. Measured: a one-packet flow's resident size was 2.2 KB
 * above what was counted without it (docs/engine.md). */
#define CLASSIFY_NDPI_INNER 4096
#define CLASSIFY_NDPI_HELD ((size_t)SIZEOF_FLOW_STRUCT + CLASSIFY_NDPI_INNER)

/* Keep mode: an entry's head is its kind, its IP length (uint16_t) and
 * its time in ms (uint64_t), then the IP bytes; the first allocation. */
#define KEEP_HEAD 11
#define KEEP_FIRST 512
enum { KEEP_PKT = 1, KEEP_STARTTLS = 2 };

struct classifier {
	struct ndpi_detection_module_struct *mod;
};

/* One phase of classification (the flow itself, or its TLS after STARTTLS). */
struct cls_part {
	struct ndpi_flow_struct *nf;    /* NULL when finished (or not started) */
	uint32_t packets;
	bool decided;                   /* nDPI named a protocol by content */
	bool finished;
	bool guessed;                   /* the name comes from nDPI's port/address guess */
	uint16_t app, master;
	uint64_t risk;                  /* ndpi_risk bits */
	char name[CLASSIFY_NAME_MAX];
};

struct classify_flow {
	struct cls_part main, tls;
	bool starttls;                  /* classify_starttls was called */
	uint32_t tls_wait;              /* packets seen while waiting for the ClientHello */
	struct memcap *mem;             /* NULL: nothing counted */
	size_t main_held;               /* reserved for main.nf */
	uint8_t *pend;                  /* headers not yet shown to nDPI: PEND_HEAD + bytes each */
	uint32_t pend_len, pend_cap;    /* bytes used, allocated (and reserved) */
	uint32_t pend_n;                /* packets in pend */
	size_t tls_held;                /* reserved for tls.nf (from classify_starttls) */
	/* keep mode */
	bool keeping;                   /* nDPI not run yet: packets go to kept */
	bool keep_stopped;              /* live feeding has stopped by now: nothing more kept */
	bool keep_tls;                  /* STARTTLS kept: packets are the TLS part's */
	bool keep_hello;                /* the TLS part's first packet (ClientHello) kept */
	uint32_t keep_main, keep_tlsn;  /* packets kept per part */
	uint32_t keep_wait;             /* packets counted waiting for the ClientHello */
	uint8_t *kept;                  /* KEEP_HEAD + bytes per entry */
	uint32_t kept_len, kept_cap;    /* bytes used, allocated (and reserved) */
};

struct classifier *classifier_new(char *err, size_t errlen)
{
	if (ndpi_get_api_version() != NDPI_API_VERSION) {
		snprintf(err, errlen, "nDPI header/library mismatch (API %u, library %u)",
			 (unsigned)NDPI_API_VERSION, (unsigned)ndpi_get_api_version());
		return NULL;
	}
	struct classifier *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	static pthread_mutex_t setup = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&setup);
	c->mod = ndpi_init_detection_module(ndpi_no_prefs);
	if (c->mod) {
		NDPI_PROTOCOL_BITMASK all;
		NDPI_BITMASK_SET_ALL(all);
		ndpi_set_protocol_detection_bitmask2(c->mod, &all);
		ndpi_finalize_initialization(c->mod);
	}
	pthread_mutex_unlock(&setup);
	if (!c->mod) {
		snprintf(err, errlen, "nDPI initialisation failed");
		free(c);
		return NULL;
	}
	return c;
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->mod);
	free(c);
}

static bool part_open(struct cls_part *p)
{
	p->nf = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
	if (!p->nf)
		return false;
	memset(p->nf, 0, SIZEOF_FLOW_STRUCT);     /* required: nDPI reads it before writing */
	return true;
}

static void part_result(struct classifier *c, struct cls_part *p, ndpi_protocol proto)
{
	p->app = proto.app_protocol;
	p->master = proto.master_protocol;
	ndpi_protocol2name(c->mod, proto, p->name, sizeof(p->name));
}

/* Keeps the result, frees nDPI's struct. */
static void part_close(struct cls_part *p)
{
	if (p->nf) {
		p->risk |= p->nf->risk;
		ndpi_free_flow(p->nf);
		p->nf = NULL;
	}
	p->finished = true;
}

static void part_giveup(struct classifier *c, struct cls_part *p)
{
	if (p->finished || !p->nf)
		return;
	if (!p->decided) {
		uint8_t guessed = 0;
		ndpi_protocol proto = ndpi_detection_giveup(c->mod, p->nf, 1, &guessed);
		part_result(c, p, proto);
		bool named = proto.app_protocol != NDPI_PROTOCOL_UNKNOWN || proto.master_protocol != NDPI_PROTOCOL_UNKNOWN;
		p->guessed = named && (guessed || p->nf->confidence == NDPI_CONFIDENCE_MATCH_BY_PORT ||
				       p->nf->confidence == NDPI_CONFIDENCE_MATCH_BY_IP);
	}
	part_close(p);
}

static bool is_smtps(const struct cls_part *p)
{
	return p->app == NDPI_PROTOCOL_MAIL_SMTPS || p->master == NDPI_PROTOCOL_MAIL_SMTPS;
}

static uint64_t pkt_ms(const struct pkt *pk)
{
	return pk->ts > 0 ? (uint64_t)(pk->ts / NS_PER_MS) : 0;
}

/* Feeds one IP packet to a part whose nDPI struct is open; true while it
 * wants more. */
static bool part_feed_raw(struct classifier *c, struct cls_part *p, const uint8_t *l3, uint32_t l3_len,
			  uint64_t ts_ms)
{
	unsigned short len = (unsigned short)SL_MIN(l3_len, (uint32_t)65535);
	ndpi_protocol proto = ndpi_detection_process_packet(c->mod, p->nf, l3, len, ts_ms);
	p->packets++;
	if (proto.app_protocol != NDPI_PROTOCOL_UNKNOWN || proto.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
		p->decided = true;
		part_result(c, p, proto);
	}
	bool more;
	if (!p->decided)
		more = true;
	else if (is_smtps(p))
		more = !p->nf->l4.tcp.tls.certificate_processed;    /* DEPS.md 1.6 */
	else
		more = ndpi_extra_dissection_possible(c->mod, p->nf) != 0;
	if (more && p->packets >= CLASSIFY_MAX_PACKETS) {
		part_giveup(c, p);
		return false;
	}
	if (!more) {
		part_close(p);
		return false;
	}
	return true;
}

/* Feeds one packet to a part; true while it wants more. */
static bool part_feed(struct classifier *c, struct cls_part *p, const struct pkt *pk)
{
	if (p->finished)
		return false;
	if (!p->nf && !part_open(p)) {
		p->finished = true;
		return false;
	}
	return part_feed_raw(c, p, pk->l3, pk->l3_len, pkt_ms(pk));
}

static void pend_free(struct classify_flow *f)
{
	if (f->pend) {
		free(f->pend);
		memcap_release(f->mem, f->pend_cap);
	}
	f->pend = NULL;
	f->pend_len = f->pend_cap = f->pend_n = 0;
}

/* Keeps a packet without payload for later; false when it does not fit
 * (the caller then feeds nDPI at once). */
static bool pend_keep(struct classify_flow *f, const struct pkt *pk)
{
	uint32_t need = PEND_HEAD + pk->l3_len;
	if (f->pend_n >= CLASSIFY_PENDING_MAX || pk->l3_len > CLASSIFY_PENDING_BYTES ||
	    f->pend_len + need > CLASSIFY_PENDING_BYTES)
		return false;
	if (f->pend_len + need > f->pend_cap) {
		uint32_t ncap = f->pend_len + need;
		if (!memcap_reserve(f->mem, ncap - f->pend_cap))
			return false;
		uint8_t *n = realloc(f->pend, ncap);
		if (!n) {
			memcap_release(f->mem, ncap - f->pend_cap);
			return false;
		}
		f->pend = n;
		f->pend_cap = ncap;
	}
	uint8_t *e = f->pend + f->pend_len;
	uint64_t ms = pkt_ms(pk);
	uint16_t len = (uint16_t)pk->l3_len;
	memcpy(e, &ms, 8);
	memcpy(e + 8, &len, 2);
	memcpy(e + PEND_HEAD, pk->l3, len);
	f->pend_len += need;
	f->pend_n++;
	return true;
}

/* Makes the main part's nDPI struct and shows it the kept packets. With
 * reserve false the struct is transient (the flow ends now). False when
 * it is finished (or could not be made). */
static bool main_open(struct classifier *c, struct classify_flow *f, bool reserve)
{
	struct cls_part *p = &f->main;
	if (p->finished)
		return false;
	if (!p->nf) {
		if (reserve && !memcap_reserve(f->mem, CLASSIFY_NDPI_HELD)) {
			p->finished = true;
			pend_free(f);
			return false;
		}
		if (!part_open(p)) {
			if (reserve)
				memcap_release(f->mem, CLASSIFY_NDPI_HELD);
			p->finished = true;
			pend_free(f);
			return false;
		}
		f->main_held = reserve ? CLASSIFY_NDPI_HELD : 0;
	}
	bool more = true;
	for (uint32_t off = 0; more && off < f->pend_len;) {
		uint64_t ms;
		uint16_t len;
		memcpy(&ms, f->pend + off, 8);
		memcpy(&len, f->pend + off + 8, 2);
		more = part_feed_raw(c, p, f->pend + off + PEND_HEAD, len, ms);
		off += PEND_HEAD + len;
	}
	pend_free(f);
	return more;
}

/* The main part's struct is gone (closed by part_close): its reservation too. */
static void main_release(struct classify_flow *f)
{
	if (!f->main.nf && f->main_held) {
		memcap_release(f->mem, f->main_held);
		f->main_held = 0;
	}
}

/* Feeds one packet of the plaintext part: a packet without payload is kept
 * while nDPI's struct is not made yet. */
static bool main_feed(struct classifier *c, struct classify_flow *f, const struct pkt *pk)
{
	struct cls_part *p = &f->main;
	if (p->finished)
		return false;
	if (!p->nf && pk->payload_len == 0 && pend_keep(f, pk))
		return true;
	if (!main_open(c, f, true)) {
		main_release(f);
		return false;
	}
	bool more = part_feed_raw(c, p, pk->l3, pk->l3_len, pkt_ms(pk));
	main_release(f);
	return more;
}

/* ---- keep mode ---- */

static bool starttls_live(struct classifier *c, struct classify_flow *f, bool reserve);

static bool is_client_hello(const struct pkt *p)
{
	return p->payload_len >= 2 && p->payload[0] == 0x16 && p->payload[1] == 0x03;
}

static void keep_free(struct classify_flow *f)
{
	if (f->kept) {
		free(f->kept);
		memcap_release(f->mem, f->kept_cap);
	}
	f->kept = NULL;
	f->kept_len = f->kept_cap = 0;
}

/* Room for an entry of need bytes: 1 there is, 0 it would pass
 * CLASSIFY_KEEP_BYTES (the caller goes live), -1 the accountant refused. */
static int keep_room(struct classify_flow *f, uint32_t need)
{
	if (f->kept_cap - f->kept_len >= need)
		return 1;
	if (need > CLASSIFY_KEEP_BYTES - f->kept_len)
		return 0;
	uint32_t ncap = f->kept_cap ? f->kept_cap : KEEP_FIRST;
	while (ncap - f->kept_len < need)
		ncap *= 2;
	if (ncap > CLASSIFY_KEEP_BYTES)
		ncap = CLASSIFY_KEEP_BYTES;
	if (!memcap_reserve(f->mem, ncap - f->kept_cap))
		return -1;
	uint8_t *n = realloc(f->kept, ncap);
	if (!n) {
		memcap_release(f->mem, ncap - f->kept_cap);
		return -1;
	}
	f->kept = n;
	f->kept_cap = ncap;
	return 1;
}

static void keep_put(struct classify_flow *f, uint8_t kind, uint64_t ms, const uint8_t *b, uint16_t len)
{
	uint8_t *e = f->kept + f->kept_len;
	e[0] = kind;
	memcpy(e + 1, &len, 2);
	memcpy(e + 3, &ms, 8);
	if (len)
		memcpy(e + KEEP_HEAD, b, len);
	f->kept_len += KEEP_HEAD + len;
}

/* One kept packet through live feeding's functions; reserve false: nDPI's
 * structs are transient (the final replay). */
static bool replay_packet(struct classifier *c, struct classify_flow *f, const uint8_t *l3, uint16_t len,
			  uint64_t ms, bool reserve)
{
	if (f->starttls) {
		struct cls_part *p = &f->tls;
		if (p->finished)
			return false;
		if (!p->nf && !part_open(p)) {
			p->finished = true;
			return false;
		}
		return part_feed_raw(c, p, l3, len, ms);
	}
	if (!main_open(c, f, reserve)) {
		main_release(f);
		return false;
	}
	bool more = part_feed_raw(c, &f->main, l3, len, ms);
	main_release(f);
	return more;
}

/* Shows nDPI a kept record, entry by entry, until live feeding would have
 * stopped; returns what the last step returned (false: classification is
 * over). Ends with the state live feeding would have had, the count of
 * packets waiting for the ClientHello included. */
static bool replay(struct classifier *c, struct classify_flow *f, const uint8_t *b, size_t n, bool reserve)
{
	bool more = true;
	size_t off = 0;
	while (more && n - off >= KEEP_HEAD) {
		uint8_t kind = b[off];
		uint16_t len;
		uint64_t ms;
		memcpy(&len, b + off + 1, 2);
		memcpy(&ms, b + off + 3, 8);
		if (n - off - KEEP_HEAD < len)
			break;          /* not a record of ours: cannot happen */
		const uint8_t *l3 = b + off + KEEP_HEAD;
		off += KEEP_HEAD + (size_t)len;
		if (kind == KEEP_STARTTLS)
			more = starttls_live(c, f, reserve);
		else
			more = replay_packet(c, f, l3, len, ms, reserve);
	}
	f->tls_wait = f->keep_wait;
	return more;
}

bool classify_go_live(struct classifier *c, struct classify_flow *f)
{
	if (!f)
		return false;
	if (!f->keeping)
		return classify_wants(f);
	f->keeping = false;
	bool more = replay(c, f, f->kept, f->kept_len, true);
	keep_free(f);
	/* stopped keeping: live feeding had stopped there too (or the
	 * accountant refused, which ends classification here) */
	return more && !f->keep_stopped;
}

/* Room in the kept record for an entry of need bytes, in keep mode: 1
 * there is; 0 there is not and the flow went live (nDPI was shown what
 * was kept: the caller feeds this entry live); -1 classification is over
 * (the accountant refused: keeping stops; or going live ended it). */
static int keep_or_go_live(struct classifier *c, struct classify_flow *f, uint32_t need)
{
	int room = keep_room(f, need);
	if (room == 0)
		return classify_go_live(c, f) ? 0 : -1;
	if (room < 0)
		f->keep_stopped = true;
	return room;
}

/* classify_packet in keep mode. */
static bool keep_packet(struct classifier *c, struct classify_flow *f, const struct pkt *p)
{
	if (f->keep_stopped)
		return false;
	if (f->keep_tls && !f->keep_hello && !is_client_hello(p)) {
		/* live feeding counts these, and shows nDPI none */
		if (++f->keep_wait >= CLASSIFY_MAX_PACKETS) {
			f->keep_stopped = true;
			return false;
		}
		return true;
	}
	uint16_t len = (uint16_t)SL_MIN(p->l3_len, (uint32_t)65535);
	int room = keep_or_go_live(c, f, KEEP_HEAD + (uint32_t)len);
	if (room == 0)
		return classify_packet(c, f, p);   /* too many bytes to keep: live from here */
	if (room < 0)
		return false;
	keep_put(f, KEEP_PKT, pkt_ms(p), p->l3, len);
	uint32_t *n = &f->keep_main;
	if (f->keep_tls) {
		f->keep_hello = true;
		n = &f->keep_tlsn;
	}
	/* a part fed this many packets is finished, whatever nDPI said */
	if (++*n >= CLASSIFY_MAX_PACKETS) {
		f->keep_stopped = true;
		return false;
	}
	return true;
}

/* classify_starttls in keep mode. */
static bool keep_starttls(struct classifier *c, struct classify_flow *f)
{
	if (f->keep_stopped)
		return false;
	int room = keep_or_go_live(c, f, KEEP_HEAD);
	if (room == 0)
		return starttls_live(c, f, true);
	if (room < 0)
		return false;
	keep_put(f, KEEP_STARTTLS, 0, NULL, 0);
	f->keep_tls = true;
	return true;
}

void classify_flow_keep(struct classify_flow *f)
{
	if (f && !f->main.packets && !f->pend_n)
		f->keeping = true;
}

bool classify_keeping(const struct classify_flow *f)
{
	return f && f->keeping;
}

const uint8_t *classify_kept(const struct classify_flow *f, size_t *len)
{
	*len = f && f->keeping ? f->kept_len : 0;
	return *len ? f->kept : NULL;
}

void classify_replay(struct classifier *c, struct classify_flow *f, const uint8_t *kept, size_t len)
{
	if (!f)
		return;
	if (kept && len)
		replay(c, f, kept, len, false);
	classify_finish(c, f);
}

struct classify_flow *classify_flow_new(struct classifier *c)
{
	(void)c;
	struct classify_flow *f = calloc(1, sizeof(*f));
	if (f) {
		snprintf(f->main.name, sizeof(f->main.name), "Unknown");
		f->tls.finished = true;     /* until STARTTLS */
	}
	return f;
}

void classify_flow_set_memcap(struct classify_flow *f, struct memcap *mem)
{
	if (f)
		f->mem = mem;
}

size_t classify_flow_size(void)
{
	return sizeof(struct classify_flow);
}

bool classify_packet(struct classifier *c, struct classify_flow *f, const struct pkt *p)
{
	if (!c || !f || !p)
		return false;
	if (!p->l3) {
		if (f->keeping)
			f->keep_stopped = true;     /* live feeding ends here */
		return false;
	}
	if (f->keeping)
		return keep_packet(c, f, p);
	if (f->starttls) {
		if (!f->tls.nf && !f->tls.finished) {
			/* waiting for the ClientHello; packets without payload pass */
			if (p->payload_len >= 2 && p->payload[0] == 0x16 && p->payload[1] == 0x03)
				return part_feed(c, &f->tls, p);
			if (++f->tls_wait >= CLASSIFY_MAX_PACKETS) {
				f->tls.finished = true;
				return false;
			}
			return true;
		}
		return part_feed(c, &f->tls, p);
	}
	return main_feed(c, f, p);
}

/* classify_starttls on a live flow; reserve false: the TLS struct is
 * transient (the final replay). */
static bool starttls_live(struct classifier *c, struct classify_flow *f, bool reserve)
{
	if (reserve) {
		if (!memcap_reserve(f->mem, CLASSIFY_NDPI_HELD))
			return false;
		f->tls_held = CLASSIFY_NDPI_HELD;
	}
	/* the plaintext part is over: keep its answer */
	if (f->pend_n)
		main_open(c, f, false);
	part_giveup(c, &f->main);
	main_release(f);
	f->starttls = true;
	f->tls.finished = false;
	f->tls.nf = NULL;
	f->tls_wait = 0;
	snprintf(f->tls.name, sizeof(f->tls.name), "Unknown");
	return true;
}

bool classify_starttls(struct classifier *c, struct classify_flow *f)
{
	if (!f || f->starttls)
		return true;
	if (f->keeping)
		return keep_starttls(c, f);
	return starttls_live(c, f, true);
}

void classify_finish(struct classifier *c, struct classify_flow *f)
{
	if (!f)
		return;
	if (f->keeping) {
		f->keeping = false;
		replay(c, f, f->kept, f->kept_len, false);
		keep_free(f);
	}
	/* a flow that ended before any payload: nDPI sees its packets now */
	if (f->pend_n)
		main_open(c, f, false);
	part_giveup(c, &f->main);
	main_release(f);
	if (f->starttls) {
		if (f->tls.nf)
			part_giveup(c, &f->tls);
		f->tls.finished = true;
	}
}

const char *classify_name(const struct classify_flow *f)
{
	return f ? f->main.name : "Unknown";
}

const char *classify_tls_name(const struct classify_flow *f)
{
	return (f && f->starttls && f->tls.name[0]) ? f->tls.name : NULL;
}

bool classify_is_smtp(const struct classify_flow *f)
{
	if (!f)
		return false;
	const struct cls_part *p = &f->main;
	return p->app == NDPI_PROTOCOL_MAIL_SMTP || p->master == NDPI_PROTOCOL_MAIL_SMTP || is_smtps(p);
}

bool classify_decided(const struct classify_flow *f)
{
	return f && f->main.decided;
}

bool classify_wants(const struct classify_flow *f)
{
	if (!f)
		return false;
	return f->starttls ? !f->tls.finished : !f->main.finished;
}

/* The risks nDPI raised on the session and on its STARTTLS part. */
static uint64_t risk_bits(const struct classify_flow *f)
{
	uint64_t bits = f->main.risk | f->tls.risk;
	if (f->main.nf)
		bits |= f->main.nf->risk;
	if (f->tls.nf)
		bits |= f->tls.nf->risk;
	return bits;
}

uint32_t classify_risks(const struct classify_flow *f, const char **out, uint32_t max)
{
	if (!f)
		return 0;
	uint64_t bits = risk_bits(f);
	uint32_t n = 0;
	for (int r = 1; r < NDPI_MAX_RISK && n < max; r++)
		if (NDPI_ISSET_BIT(bits, r))
			out[n++] = ndpi_risk2str((ndpi_risk_enum)r);
	return n;
}

bool classify_guessed(const struct classify_flow *f)
{
	return f && f->main.guessed;
}

/*
 * nDPI risks that are wrong for mail traffic on a mail port, and why. One
 * row per risk; a risk not listed here is shown as nDPI reports it.
 */
static const struct {
	ndpi_risk_enum risk;
	const char *why;
} mail_port_ignored[] = {
	/* nDPI 4.2 knows SMTP on 25 and SMTPS on 465 only; 587 is the
	 * submission port (RFC 6409), 2525 and 10025 common alternates. */
	{ NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT,
	  "SMTP on a mail port: 587 is the submission port (RFC 6409), 2525 and 10025 are common mail ports; nDPI 4.2 only knows 25 and 465" },
	/* nDPI expects TLS to carry HTTPS; on a mail port it carries SMTP
	 * (implicit TLS on 465, STARTTLS on 25/587) by design. */
	{ NDPI_TLS_NOT_CARRYING_HTTPS,
	  "TLS on a mail port carries SMTP (SMTPS or STARTTLS), not HTTPS, by design" },
};

static const char *ignored_why(ndpi_risk_enum r, bool mail_port)
{
	if (!mail_port)
		return NULL;
	for (size_t i = 0; i < SL_ARRAY_LEN(mail_port_ignored); i++)
		if (mail_port_ignored[i].risk == r)
			return mail_port_ignored[i].why;
	return NULL;
}

uint32_t classify_risks_judged(const struct classify_flow *f, bool mail_port, struct classify_risk *out,
			       uint32_t max)
{
	if (!f)
		return 0;
	uint64_t bits = risk_bits(f);
	uint32_t n = 0;
	for (int r = 1; r < NDPI_MAX_RISK && n < max; r++) {
		if (!NDPI_ISSET_BIT(bits, r))
			continue;
		out[n].name = ndpi_risk2str((ndpi_risk_enum)r);
		out[n].ignored_why = ignored_why((ndpi_risk_enum)r, mail_port);
		n++;
	}
	return n;
}

void classify_flow_free(struct classify_flow *f)
{
	if (!f)
		return;
	if (f->main.nf)
		ndpi_free_flow(f->main.nf);
	f->main.nf = NULL;
	main_release(f);
	if (f->tls.nf)
		ndpi_free_flow(f->tls.nf);
	memcap_release(f->mem, f->tls_held);
	pend_free(f);
	keep_free(f);
	free(f);
}
